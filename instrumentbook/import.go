package instrumentbook

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/xuri/excelize/v2"

	"xinling/engine"
)

// Problem is something wrong in a workbook, at a sheet and cell ("bands",
// "C4"), or a whole sheet when Cell is empty.
type Problem struct {
	Sheet   string `json:"sheet"`
	Cell    string `json:"cell,omitempty"`
	Message string `json:"message"`
}

func (p Problem) String() string {
	if p.Cell == "" {
		return p.Sheet + ": " + p.Message
	}
	return p.Sheet + "!" + p.Cell + ": " + p.Message
}

// Problems is the error Import returns.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// maxRows bounds each sheet: an instrument has at most 1,000 items.
const maxRows = 20_000

// Import reads a filled workbook and returns the instrument document as
// YAML, or every problem found, each at its sheet and cell. The YAML is
// not checked here: it goes through the instrument checker like any other
// document.
func Import(data []byte) ([]byte, error) {
	if len(data) > MaxWorkbookBytes {
		return nil, Problems{{Sheet: "workbook", Message: fmt.Sprintf("the workbook is larger than %d bytes", MaxWorkbookBytes)}}
	}
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{UnzipSizeLimit: 8 << 20, UnzipXMLSizeLimit: 4 << 20})
	if err != nil {
		return nil, Problems{{Sheet: "workbook", Message: "not a readable .xlsx workbook: " + err.Error()}}
	}
	defer f.Close()
	r := reader{f: f}
	doc := r.document()
	if len(r.problems) > 0 {
		return nil, r.problems
	}
	out, err := yaml.MarshalWithOptions(doc, yaml.OmitEmpty(), yaml.Indent(2), yaml.IndentSequence(true), yaml.UseLiteralStyleIfMultiline(true))
	if err != nil {
		return nil, err
	}
	return out, nil
}

type reader struct {
	f        *excelize.File
	problems Problems
}

func (r *reader) add(sheet string, col, row int, format string, args ...any) {
	cell := ""
	if col > 0 && row > 0 {
		cell, _ = excelize.CoordinatesToCellName(col, row)
	}
	r.problems = append(r.problems, Problem{Sheet: sheet, Cell: cell, Message: fmt.Sprintf(format, args...)})
}

// table is a sheet read by its header row.
type table struct {
	sheet string
	cols  map[string]int // header → 0-based column
	rows  [][]string     // data rows; row i is sheet row i+2
}

// maxCols bounds the columns read from a row; no sheet uses more than 13.
const maxCols = 64

// rows reads a sheet row by row, stopping past maxRows: a hostile
// workbook can name cell XFD1048576, and reading the whole sheet at once
// would fill every row and column up to it.
func (r *reader) rows(sheet string) ([][]string, bool) {
	it, err := r.f.Rows(sheet)
	if err != nil {
		r.add(sheet, 0, 0, "the sheet is missing")
		return nil, false
	}
	defer it.Close()
	var out [][]string
	for it.Next() {
		if len(out) == maxRows {
			r.add(sheet, 0, 0, "the sheet has more than %d rows", maxRows)
			return nil, false
		}
		cols, err := it.Columns()
		if err != nil {
			r.add(sheet, 0, len(out)+1, "the row cannot be read: %v", err)
			return nil, false
		}
		if len(cols) > maxCols {
			cols = cols[:maxCols]
		}
		out = append(out, cols)
	}
	if err := it.Error(); err != nil {
		r.add(sheet, 0, 0, "the sheet cannot be read: %v", err)
		return nil, false
	}
	// Trailing empty rows (formatting, deleted content) are not data.
	for len(out) > 0 && blank(out[len(out)-1]) {
		out = out[:len(out)-1]
	}
	return out, true
}

func (r *reader) table(sheet string, required ...string) *table {
	rows, ok := r.rows(sheet)
	if !ok {
		return nil
	}
	t := &table{sheet: sheet, cols: map[string]int{}}
	if len(rows) > 0 {
		for i, h := range rows[0] {
			t.cols[strings.TrimSpace(h)] = i
		}
		t.rows = rows[1:]
	}
	for _, h := range required {
		if _, ok := t.cols[h]; !ok {
			r.add(sheet, 0, 0, "the header row lacks the column %q", h)
			return nil
		}
	}
	return t
}

func (t *table) get(row []string, col string) string {
	i, ok := t.cols[col]
	if !ok || i >= len(row) {
		return ""
	}
	return trim(row[i])
}

// trim drops spaces and tabs typed around a value, but keeps line ends:
// a block of text may end with one, and a round trip must keep it.
func trim(s string) string { return strings.Trim(s, " \t") }

func (t *table) colNo(col string) int { return t.cols[col] + 1 }

func blank(row []string) bool {
	for _, c := range row {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

func text(t *table, row []string, prefix string) engine.Text {
	out := engine.Text{}
	for _, loc := range engine.Locales {
		if v := t.get(row, prefix+"."+loc); v != "" {
			out[loc] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func (r *reader) number(t *table, row []string, i int, col string, required bool) (float64, bool) {
	v := t.get(row, col)
	if v == "" {
		if required {
			r.add(t.sheet, t.colNo(col), i+2, "%s is required", col)
		}
		return 0, false
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		r.add(t.sheet, t.colNo(col), i+2, "%s must be a number, not %q", col, v)
		return 0, false
	}
	return f, true
}

func (r *reader) document() *engine.Document {
	doc := &engine.Document{}
	r.instrument(doc)
	r.items(doc)
	r.options(doc)
	r.scores(doc)
	r.bands(doc)
	r.warnings(doc)
	r.vectors(doc)
	r.advanced(doc)
	return doc
}

func (r *reader) instrument(doc *engine.Document) {
	rows, ok := r.rows(SheetInstrument)
	if !ok {
		return
	}
	kv, at := map[string]string{}, map[string]int{}
	for i, row := range rows {
		if i == 0 || len(row) == 0 {
			continue
		}
		k := strings.TrimSpace(row[0])
		if len(row) > 1 {
			kv[k] = trim(row[1])
		}
		at[k] = i + 1
	}
	doc.ID, doc.Version, doc.Kind = kv["id"], kv["version"], kv["kind"]
	doc.Source, doc.License, doc.Translation = kv["source"], kv["license"], kv["translation"]
	for _, k := range []string{"id", "version", "kind"} {
		if kv[k] == "" {
			r.add(SheetInstrument, 2, max(at[k], 1), "%s is required", k)
		}
	}
	if v := kv["minutes"]; v != "" {
		m, err := strconv.ParseFloat(v, 64)
		if err != nil {
			r.add(SheetInstrument, 2, at["minutes"], "minutes must be a number, not %q", v)
		}
		doc.Minutes = m
	}
	if v := kv["public"]; v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			r.add(SheetInstrument, 2, at["public"], "public must be true or false, not %q", v)
		}
		doc.Public = b
	}
	pick := func(prefix string) engine.Text {
		out := engine.Text{}
		for _, loc := range engine.Locales {
			if v := kv[prefix+"."+loc]; v != "" {
				out[loc] = v
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	}
	doc.Title, doc.ShortTitle, doc.Description, doc.Instructions = pick("title"), pick("short_title"), pick("description"), pick("instructions")
	if p := kv["missing.policy"]; p != "" {
		m := &engine.Missing{Policy: p}
		if v := kv["missing.max"]; v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				r.add(SheetInstrument, 2, at["missing.max"], "missing.max must be a whole number, not %q", v)
			}
			m.Max = n
		}
		doc.Scoring.Missing = m
	}
}

func (r *reader) items(doc *engine.Document) {
	t := r.table(SheetItems, "id", "text.zh-CN", "text.en")
	if t == nil {
		return
	}
	for i, row := range t.rows {
		if blank(row) {
			continue
		}
		it := engine.Item{ID: t.get(row, "id"), Text: text(t, row, "text"), When: t.get(row, "when")}
		if it.ID == "" {
			r.add(t.sheet, t.colNo("id"), i+2, "id is required")
		}
		if v := t.get(row, "reverse"); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				r.add(t.sheet, t.colNo("reverse"), i+2, "reverse must be true or false, not %q", v)
			}
			it.Reverse = b
		}
		doc.Items = append(doc.Items, it)
	}
}

func (r *reader) options(doc *engine.Document) {
	t := r.table(SheetOptions, "item", "value", "label.zh-CN", "label.en")
	if t == nil {
		return
	}
	index := map[string]int{}
	for i, it := range doc.Items {
		index[it.ID] = i
	}
	for i, row := range t.rows {
		if blank(row) {
			continue
		}
		v, ok := r.number(t, row, i, "value", true)
		if !ok {
			continue
		}
		o := engine.Option{Value: &v, Label: text(t, row, "label")}
		if s, ok := r.number(t, row, i, "score", false); ok {
			o.Score = &s
		}
		item := t.get(row, "item")
		if item == "" {
			doc.Options = append(doc.Options, o)
			continue
		}
		k, ok := index[item]
		if !ok {
			r.add(t.sheet, t.colNo("item"), i+2, "no item %q on the items sheet", item)
			continue
		}
		doc.Items[k].Options = append(doc.Items[k].Options, o)
	}
}

func (r *reader) scores(doc *engine.Document) {
	t := r.table(SheetScores, "id", "expr")
	if t == nil {
		return
	}
	for _, row := range t.rows {
		if blank(row) {
			continue
		}
		doc.Scoring.Scores = append(doc.Scoring.Scores, engine.ScoreDef{ID: t.get(row, "id"), Expr: t.get(row, "expr"), Label: text(t, row, "label")})
	}
}

func (r *reader) bound(t *table, row []string, i int, col string) any {
	v := t.get(row, col)
	switch {
	case v == "":
		return nil
	case strings.HasPrefix(v, "="):
		return strings.TrimPrefix(v, "=") // an expression
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		r.add(t.sheet, t.colNo(col), i+2, "%s must be a number, or an expression starting with =, not %q", col, v)
		return nil
	}
	return f
}

func (r *reader) bands(doc *engine.Document) {
	t := r.table(SheetBands, "score", "code", "min", "max", "label.zh-CN", "label.en")
	if t == nil {
		return
	}
	for i, row := range t.rows {
		if blank(row) {
			continue
		}
		b := engine.Band{Code: t.get(row, "code"), Min: r.bound(t, row, i, "min"), Max: r.bound(t, row, i, "max"),
			Label: text(t, row, "label"), Feedback: text(t, row, "feedback")}
		if lv, ok := r.number(t, row, i, "warning.level", false); ok {
			b.Warning = &engine.BandWarning{Level: int(lv), Reason: text(t, row, "warning.reason"),
				FollowUp: t.get(row, "warning.follow_up"), Rationale: t.get(row, "warning.rationale")}
		}
		score := t.get(row, "score")
		if score == "" {
			r.add(t.sheet, t.colNo("score"), i+2, "score is required")
			continue
		}
		if doc.Scoring.Bands == nil {
			doc.Scoring.Bands = map[string][]engine.Band{}
		}
		doc.Scoring.Bands[score] = append(doc.Scoring.Bands[score], b)
	}
}

func (r *reader) warnings(doc *engine.Document) {
	t := r.table(SheetWarnings, "id", "level", "when", "reason.zh-CN", "reason.en")
	if t == nil {
		return
	}
	for i, row := range t.rows {
		if blank(row) {
			continue
		}
		lv, _ := r.number(t, row, i, "level", true)
		w := engine.Rule{ID: t.get(row, "id"), Level: int(lv), When: t.get(row, "when"), Reason: text(t, row, "reason"),
			FollowUp: t.get(row, "follow_up"), Rationale: t.get(row, "rationale")}
		for _, s := range strings.Split(t.get(row, "supersedes"), ",") {
			if s = strings.TrimSpace(s); s != "" {
				w.Supersedes = append(w.Supersedes, s)
			}
		}
		doc.Scoring.Warnings = append(doc.Scoring.Warnings, w)
	}
}

func (r *reader) vectors(doc *engine.Document) {
	t := r.table(SheetVectors, "name", "answers")
	if t == nil {
		return
	}
	for i, row := range t.rows {
		if blank(row) {
			continue
		}
		v := engine.Vector{Name: t.get(row, "name"), Sex: t.get(row, "sex")}
		for _, a := range splitList(t.get(row, "answers"), ",") {
			f, err := strconv.ParseFloat(a, 64)
			if err != nil {
				r.add(t.sheet, t.colNo("answers"), i+2, "answers must be numbers separated by commas; %q is not a number", a)
				continue
			}
			v.Answers = append(v.Answers, f)
		}
		if age, ok := r.number(t, row, i, "age", false); ok {
			v.Age = age
		}
		if c := t.get(row, "complete"); c != "" {
			b, err := strconv.ParseBool(c)
			if err != nil {
				r.add(t.sheet, t.colNo("complete"), i+2, "complete must be true or false, not %q", c)
			}
			v.Expect.Complete = &b
		}
		for _, kv := range splitList(t.get(row, "scores"), ";") {
			k, val, ok := strings.Cut(kv, "=")
			f, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
			if !ok || err != nil {
				r.add(t.sheet, t.colNo("scores"), i+2, "scores are written score=number; score=number, not %q", kv)
				continue
			}
			if v.Expect.Scores == nil {
				v.Expect.Scores = map[string]float64{}
			}
			v.Expect.Scores[strings.TrimSpace(k)] = f
		}
		for _, kv := range splitList(t.get(row, "bands"), ";") {
			k, val, ok := strings.Cut(kv, "=")
			if !ok {
				r.add(t.sheet, t.colNo("bands"), i+2, "bands are written score=code; score=code, not %q", kv)
				continue
			}
			if v.Expect.Bands == nil {
				v.Expect.Bands = map[string]string{}
			}
			v.Expect.Bands[strings.TrimSpace(k)] = strings.TrimSpace(val)
		}
		v.Expect.Warnings = splitList(t.get(row, "warnings"), ",")
		doc.Vectors = append(doc.Vectors, v)
	}
}

func splitList(s, sep string) []string {
	var out []string
	for _, p := range strings.Split(s, sep) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (r *reader) advanced(doc *engine.Document) {
	if idx, _ := r.f.GetSheetIndex(SheetAdvanced); idx < 0 {
		return // the sheet is optional
	}
	rows, ok := r.rows(SheetAdvanced)
	if !ok || len(rows) < 2 {
		return
	}
	var b strings.Builder
	for _, row := range rows[1:] {
		if len(row) > 0 {
			b.WriteString(row[0])
		}
	}
	if strings.TrimSpace(b.String()) == "" {
		return
	}
	src := []byte(b.String())
	if id, _ := engine.Identify(append([]byte("id: x\n"), src...)); id == "" {
		r.add(SheetAdvanced, 1, 2, "the YAML is too large or too deeply nested")
		return
	}
	var a advanced
	if err := yaml.UnmarshalWithOptions(src, &a, yaml.DisallowUnknownField()); err != nil {
		r.add(SheetAdvanced, 1, 2, "the YAML does not read: %s", yaml.FormatError(err, false, false))
		return
	}
	doc.Scoring.Texts, doc.Scoring.Norms, doc.Scoring.Validity = a.Texts, a.Norms, a.Validity
	doc.Scoring.Statistics, doc.Scoring.Trends, doc.Scoring.Interpretations = a.Statistics, a.Trends, a.Interpretations
	doc.Vectors = append(doc.Vectors, a.Vectors...)
}

func sortStrings(s []string) { sort.Strings(s) }
