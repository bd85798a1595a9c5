// Package instrumentbook converts instrument documents to and from an
// Excel workbook, for school staff who keep item banks in Excel: one sheet
// per part (instrument, items, options, scores, bands, warnings, vectors),
// plus an "advanced" sheet that carries the rest of the document (norms,
// validity checks, statistics, trend rules, text outputs) as YAML, so that
// a round trip loses nothing. Importing reports every problem by sheet and
// cell; the YAML it produces then goes through the same checker as any
// document.
package instrumentbook

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/goccy/go-yaml"
	"github.com/xuri/excelize/v2"

	"xinling/engine"
)

// Sheet names, in the order they appear.
const (
	SheetInstrument = "instrument"
	SheetItems      = "items"
	SheetOptions    = "options"
	SheetScores     = "scores"
	SheetBands      = "bands"
	SheetWarnings   = "warnings"
	SheetVectors    = "vectors"
	SheetAdvanced   = "advanced"
)

// Column headers of each table sheet. Import finds columns by header, so
// authors may reorder them; a missing required header is a problem.
var headers = map[string][]string{
	SheetItems:    {"id", "text.zh-CN", "text.en", "reverse", "when"},
	SheetOptions:  {"item", "value", "score", "label.zh-CN", "label.en"},
	SheetScores:   {"id", "expr", "label.zh-CN", "label.en"},
	SheetBands:    {"score", "code", "min", "max", "label.zh-CN", "label.en", "feedback.zh-CN", "feedback.en", "warning.level", "warning.reason.zh-CN", "warning.reason.en", "warning.follow_up", "warning.rationale"},
	SheetWarnings: {"id", "level", "when", "reason.zh-CN", "reason.en", "follow_up", "supersedes", "rationale"},
	SheetVectors:  {"name", "answers", "sex", "age", "complete", "scores", "bands", "warnings"},
}

// instrumentKeys are the rows of the instrument sheet (key, value).
var instrumentKeys = []string{"id", "version", "kind", "minutes", "public", "source", "license", "translation",
	"title.zh-CN", "title.en", "short_title.zh-CN", "short_title.en", "description.zh-CN", "description.en",
	"instructions.zh-CN", "instructions.en", "missing.policy", "missing.max"}

// Export writes a document as a workbook.
func Export(doc *engine.Document) ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", SheetInstrument); err != nil {
		return nil, err
	}
	w := writer{f: f}
	kv := map[string]string{
		"id": doc.ID, "version": doc.Version, "kind": doc.Kind, "minutes": num(doc.Minutes), "public": strconv.FormatBool(doc.Public),
		"source": doc.Source, "license": doc.License, "translation": doc.Translation,
	}
	for _, part := range []struct {
		key string
		t   engine.Text
	}{{"title", doc.Title}, {"short_title", doc.ShortTitle}, {"description", doc.Description}, {"instructions", doc.Instructions}} {
		for _, loc := range engine.Locales {
			kv[part.key+"."+loc] = part.t[loc]
		}
	}
	if m := doc.Scoring.Missing; m != nil {
		kv["missing.policy"], kv["missing.max"] = m.Policy, strconv.Itoa(m.Max)
	}
	w.row(SheetInstrument, "key", "value")
	for _, k := range instrumentKeys {
		w.row(SheetInstrument, k, kv[k])
	}

	w.sheet(SheetItems)
	for _, it := range doc.Items {
		w.row(SheetItems, it.ID, it.Text["zh-CN"], it.Text["en"], boolCell(it.Reverse), it.When)
	}
	w.sheet(SheetOptions)
	writeOptions := func(item string, opts []engine.Option) {
		for _, o := range opts {
			score := ""
			if o.Score != nil {
				score = num(*o.Score)
			}
			w.row(SheetOptions, item, num(*o.Value), score, o.Label["zh-CN"], o.Label["en"])
		}
	}
	writeOptions("", doc.Options)
	for _, it := range doc.Items {
		writeOptions(it.ID, it.Options)
	}
	w.sheet(SheetScores)
	for _, s := range doc.Scoring.Scores {
		w.row(SheetScores, s.ID, s.Expr, s.Label["zh-CN"], s.Label["en"])
	}
	w.sheet(SheetBands)
	for _, s := range doc.Scoring.Scores {
		for _, b := range doc.Scoring.Bands[s.ID] {
			cells := []string{s.ID, b.Code, boundCell(b.Min), boundCell(b.Max), b.Label["zh-CN"], b.Label["en"], b.Feedback["zh-CN"], b.Feedback["en"]}
			if bw := b.Warning; bw != nil {
				cells = append(cells, strconv.Itoa(bw.Level), bw.Reason["zh-CN"], bw.Reason["en"], bw.FollowUp, bw.Rationale)
			}
			w.row(SheetBands, cells...)
		}
	}
	w.sheet(SheetWarnings)
	for _, r := range doc.Scoring.Warnings {
		w.row(SheetWarnings, r.ID, strconv.Itoa(r.Level), r.When, r.Reason["zh-CN"], r.Reason["en"], r.FollowUp, strings.Join(r.Supersedes, ", "), r.Rationale)
	}
	w.sheet(SheetVectors)
	for _, v := range doc.Vectors {
		if advancedVector(v) {
			continue // kept in the advanced sheet, which the table cannot express
		}
		complete := ""
		if v.Expect.Complete != nil {
			complete = strconv.FormatBool(*v.Expect.Complete)
		}
		age := ""
		if v.Age != 0 {
			age = num(v.Age)
		}
		w.row(SheetVectors, v.Name, joinNums(v.Answers), v.Sex, age, complete, joinMap(v.Expect.Scores, num), joinMap(v.Expect.Bands, func(s string) string { return s }),
			strings.Join(v.Expect.Warnings, ", "))
	}
	adv, err := advancedYAML(doc)
	if err != nil {
		return nil, err
	}
	w.sheet(SheetAdvanced)
	w.row(SheetAdvanced, "yaml")
	for _, chunk := range chunks(adv, maxCell) {
		w.row(SheetAdvanced, chunk)
	}
	if w.err != nil {
		return nil, w.err
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

type writer struct {
	f    *excelize.File
	next map[string]int
	err  error
}

func (w *writer) sheet(name string) {
	if _, err := w.f.NewSheet(name); err != nil && w.err == nil {
		w.err = err
	}
	if h, ok := headers[name]; ok {
		w.row(name, h...)
	}
}

func (w *writer) row(sheet string, cells ...string) {
	if w.next == nil {
		w.next = map[string]int{}
	}
	w.next[sheet]++
	vals := make([]any, len(cells))
	for i, c := range cells {
		vals[i] = c
	}
	cell, _ := excelize.CoordinatesToCellName(1, w.next[sheet])
	if err := w.f.SetSheetRow(sheet, cell, &vals); err != nil && w.err == nil {
		w.err = err
	}
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func boolCell(b bool) string {
	if b {
		return "true"
	}
	return ""
}

func boundCell(v any) string {
	switch n := v.(type) {
	case nil:
		return ""
	case string:
		return "=" + n // an expression bound, marked as a formula would be
	case float64:
		return num(n)
	case uint64:
		return strconv.FormatUint(n, 10)
	case int64:
		return strconv.FormatInt(n, 10)
	case int:
		return strconv.Itoa(n)
	}
	return fmt.Sprint(v)
}

func joinNums(vs []float64) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = num(v)
	}
	return strings.Join(parts, ", ")
}

func joinMap[V any](m map[string]V, f func(V) string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sortStrings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + f(m[k])
	}
	return strings.Join(parts, "; ")
}

// advanced holds what the table sheets do not: its YAML is merged into
// the document on import.
type advanced struct {
	Texts      []engine.TextDef   `yaml:"texts,omitempty"`
	Norms      []engine.Norm      `yaml:"norms,omitempty"`
	Validity   []engine.Check     `yaml:"validity,omitempty"`
	Statistics []engine.Statistic `yaml:"statistics,omitempty"`
	Trends     []engine.TrendRule `yaml:"trends,omitempty"`
	// Interpretations put profile scores and codes into words.
	Interpretations []engine.Interpretation `yaml:"interpretations,omitempty"`
	Vectors         []engine.Vector         `yaml:"vectors,omitempty"`
}

// advancedVector reports whether a worked example needs more than the
// vectors sheet's columns: answers by id, earlier results, a duration, or
// expected texts, validity flags or interpretations.
func advancedVector(v engine.Vector) bool {
	return v.AnswersByID != nil || len(v.Earlier) > 0 || v.Seconds != 0 || v.Expect.Texts != nil || v.Expect.Validity != nil ||
		v.Expect.Interpretations != nil
}

func advancedYAML(doc *engine.Document) (string, error) {
	a := advanced{Texts: doc.Scoring.Texts, Norms: doc.Scoring.Norms, Validity: doc.Scoring.Validity,
		Statistics: doc.Scoring.Statistics, Trends: doc.Scoring.Trends, Interpretations: doc.Scoring.Interpretations}
	for _, v := range doc.Vectors {
		if advancedVector(v) {
			a.Vectors = append(a.Vectors, v)
		}
	}
	if a.Texts == nil && a.Norms == nil && a.Validity == nil && a.Statistics == nil && a.Trends == nil && a.Interpretations == nil && a.Vectors == nil {
		return "", nil
	}
	out, err := yaml.MarshalWithOptions(a, yaml.Indent(2), yaml.UseLiteralStyleIfMultiline(true))
	return string(out), err
}

// Workbooks larger than this are refused before excelize reads them.
const MaxWorkbookBytes = 4 << 20

// ReadAll reads an uploaded workbook within the size limit.
func ReadAll(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxWorkbookBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxWorkbookBytes {
		return nil, fmt.Errorf("the workbook is larger than %d bytes", MaxWorkbookBytes)
	}
	return data, nil
}

// maxCell keeps each cell under Excel's 32,767-character limit.
const maxCell = 30_000

// chunks splits text at line ends into pieces of at most n bytes (a line
// longer than n is split where it must be); joined, they are the text.
func chunks(text string, n int) []string {
	var out []string
	for len(text) > n {
		cut := strings.LastIndexByte(text[:n], '\n') + 1
		if cut == 0 {
			cut = n
			for cut > 0 && !utf8.RuneStart(text[cut]) {
				cut--
			}
		}
		out = append(out, text[:cut])
		text = text[cut:]
	}
	if text != "" {
		out = append(out, text)
	}
	return out
}
