// Package roster reads a school's student roster from an .xlsx or .csv file
// and validates it row by row. It is pure: no store, no HTTP, no clock unless
// the caller leaves Options.Now unset. The caller seals names and student
// numbers and writes the people; this package only decides what the file says
// and what is wrong with it.
//
// Everything returned (rows, problem messages) carries personal information
// from the file. It is meant for the uploader's screen, not for logs.
package roster

import (
	"bytes"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// Defaults for Options. 20,000 students is a large Chinese secondary school
// with room to spare; 10 MB holds that many rows in either format with wide
// margins, and bounds what one upload can make the server hold in memory.
const (
	DefaultMaxRows  = 20000
	DefaultMaxBytes = 10 << 20
)

// Options tune Parse. The zero value is the strict default.
type Options struct {
	// SkipBadRows returns the good rows even when some rows are bad. Without
	// it a roster with any problem yields no rows, so that a half-fixed file
	// is never half imported.
	SkipBadRows bool
	// Now anchors the plausibility check of birth months; zero means
	// time.Now().
	Now time.Time
	// MaxRows and MaxBytes override the defaults when positive.
	MaxRows  int
	MaxBytes int64
}

// Row is one valid student.
type Row struct {
	Line       int    // 1-based row number as the spreadsheet shows it
	StudentNo  string // trimmed, half-width, upper-case letters
	Name       string
	Sex        string // "m" or "f", as store.Person
	BirthMonth string // "2010-05", or "" when only Age is known
	Age        int    // set only when the file gives an age and no birth month
	ClassName  string // as written in the file
	UnitID     string // from the classes map
}

// Kind names a problem so that callers and tests need not parse messages.
type Kind string

const (
	KindMissingStudentNo   Kind = "missing_student_no"
	KindBadStudentNo       Kind = "bad_student_no"
	KindDuplicateStudentNo Kind = "duplicate_student_no"
	KindMissingName        Kind = "missing_name"
	KindBadName            Kind = "bad_name"
	KindMissingSex         Kind = "missing_sex"
	KindBadSex             Kind = "bad_sex"
	KindMissingBirth       Kind = "missing_birth" // neither birth month nor age
	KindBadBirthMonth      Kind = "bad_birth_month"
	KindBadAge             Kind = "bad_age"
	KindMissingClass       Kind = "missing_class"
	KindUnknownClass       Kind = "unknown_class"
)

// Problem is one reason one row cannot be imported. A row may have several.
type Problem struct {
	Line    int    // 1-based row number as the spreadsheet shows it
	Column  string // the field: "student_no", "name", "sex", "birth_month", "age", "class"
	Kind    Kind
	Message string // Chinese first, then English
}

// Roster is the outcome of Parse.
type Roster struct {
	Rows     []Row
	Problems []Problem
	Notices  []string // things the uploader should know that are not errors
}

// Error is a problem with the file as a whole: nothing in it can be used.
// Code is stable for the API's error body; Message is Chinese, then English.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Message }

// Error codes.
const (
	CodeFormat     = "roster_format"     // not .xlsx or .csv
	CodeUnreadable = "roster_unreadable" // claims a format but cannot be read
	CodeTooLarge   = "roster_too_large"
	CodeColumns    = "roster_columns" // required columns missing or repeated
	CodeEmpty      = "roster_empty"
)

// errorf formats zh and en with the same arguments.
func errorf(code, zh, en string, args ...any) *Error {
	if len(args) > 0 {
		zh, en = fmt.Sprintf(zh, args...), fmt.Sprintf(en, args...)
	}
	return &Error{Code: code, Message: zh + " / " + en}
}

// Parse reads a roster. filename is only used for its extension; the content
// is sniffed too, because browsers and users rename files freely. classes
// maps class names as the school writes them (for example "七年级一班" or
// "7-1") to unit ids.
//
// A non-nil error means the file as a whole is unusable. Otherwise row
// problems are in Roster.Problems, and Rows is empty whenever there are
// problems unless opt.SkipBadRows is set.
func Parse(filename string, r io.Reader, classes map[string]string, opt Options) (*Roster, error) {
	if opt.MaxRows <= 0 {
		opt.MaxRows = DefaultMaxRows
	}
	if opt.MaxBytes <= 0 {
		opt.MaxBytes = DefaultMaxBytes
	}
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	ext := extension(filename)
	switch ext {
	case ".xlsx", ".csv", "":
	case ".xls", ".et":
		return nil, errorf(CodeFormat,
			"不支持旧版 Excel（%s）文件，请在 Excel 或 WPS 中另存为 .xlsx 或 .csv 后再上传",
			"old Excel (%s) files are not supported; save as .xlsx or .csv and upload again", ext)
	default:
		return nil, errorf(CodeFormat,
			"不支持的文件类型 %s，请上传 .xlsx 或 .csv 文件",
			"unsupported file type %s; upload an .xlsx or .csv file", ext)
	}

	data, err := io.ReadAll(io.LimitReader(r, opt.MaxBytes+1))
	if err != nil {
		return nil, errorf(CodeUnreadable, "读取上传文件失败：%v", "reading the upload failed: %v", err)
	}
	if int64(len(data)) > opt.MaxBytes {
		return nil, errorf(CodeTooLarge, "文件超过 %d MB，请拆分后分批导入", "the file is over %d MB; split it and import in parts", opt.MaxBytes>>20)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errorf(CodeEmpty, "文件是空的", "the file is empty")
	}

	var t *table
	switch {
	case bytes.HasPrefix(data, zipMagic):
		if t, err = readXLSX(data, opt.MaxRows+headerScan+1); err != nil {
			return nil, err
		}
		if ext == ".csv" {
			t.notices = append(t.notices, "文件扩展名是 .csv，但内容是 Excel 工作簿，已按 .xlsx 读取 / the file is named .csv but is an Excel workbook; read as .xlsx")
		}
	case bytes.HasPrefix(data, oleMagic):
		return nil, errorf(CodeFormat,
			"这是旧版 .xls 或加密的 Excel 文件，请另存为不加密的 .xlsx 或 .csv 后再上传",
			"this is an old .xls or an encrypted Excel file; save it unencrypted as .xlsx or .csv")
	case bytes.HasPrefix(data, pdfMagic):
		return nil, errorf(CodeFormat, "这是 PDF 文件，请上传 .xlsx 或 .csv 名单",
			"this is a PDF; upload the roster as .xlsx or .csv")
	case ext == ".xlsx":
		return nil, errorf(CodeUnreadable, "文件扩展名是 .xlsx，但内容不是 Excel 工作簿",
			"the file is named .xlsx but is not an Excel workbook")
	default:
		if t, err = readCSV(data, opt.MaxRows+headerScan+1); err != nil {
			return nil, err
		}
	}
	return parseTable(t, classes, opt)
}

// headerScan is how many non-empty rows may precede the header: schools put
// a title ("2024 级七年级学生名单") and a date above it.
const headerScan = 10

func parseTable(t *table, classes map[string]string, opt Options) (*Roster, error) {
	hi, cols, err := findHeader(t.rows)
	if err != nil {
		return nil, err
	}
	out := &Roster{Notices: t.notices}
	if line := t.rows[hi].line; line > 1 {
		out.Notices = append(out.Notices, fmt.Sprintf("表头在第 %d 行，之前的内容已忽略 / the header is on row %d; rows above it were ignored", line, line))
	}
	if len(cols.ignored) > 0 {
		out.Notices = append(out.Notices, fmt.Sprintf("已忽略以下列（不会导入）：%s / these columns were ignored (not imported): %s",
			strings.Join(cols.ignored, "、"), strings.Join(cols.ignored, ", ")))
	}
	if cols.idx[fBirth] >= 0 && cols.idx[fAge] >= 0 {
		out.Notices = append(out.Notices, "同时有出生年月和年龄两列，出生年月为空时才使用年龄 / both birth month and age columns are present; age is used only where the birth month is blank")
	}

	data := t.rows[hi+1:]
	if len(data) > opt.MaxRows {
		return nil, errorf(CodeTooLarge, "名单超过 %d 行，请拆分后分批导入", "the roster has more than %d rows; split it and import in parts", opt.MaxRows)
	}
	v := newValidator(classes, opt.Now, t.date1904)
	rows := make([]Row, 0, len(data))
	bad := make(map[int]bool)
	for _, rr := range data {
		cells := cols.pick(rr.cells)
		if cells == ([nFields]string{}) {
			continue // blank, or only ignored columns filled in
		}
		row, probs := v.row(rr.line, cells, cols.idx[fAge] >= 0, cols.idx[fBirth] >= 0)
		if len(probs) > 0 {
			bad[rr.line] = true
			out.Problems = append(out.Problems, probs...)
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		return nil, errorf(CodeEmpty, "表头下面没有学生", "there are no students below the header")
	}
	for _, p := range duplicates(rows) {
		bad[p.Line] = true
		out.Problems = append(out.Problems, p)
	}
	if n := v.unknownClassNotice(); n != "" {
		out.Notices = append(out.Notices, n)
	}
	sort.SliceStable(out.Problems, func(i, j int) bool {
		a, b := out.Problems[i], out.Problems[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return fieldOrder(a.Column) < fieldOrder(b.Column)
	})

	if len(out.Problems) > 0 && !opt.SkipBadRows {
		return out, nil
	}
	out.Rows = rows[:0]
	for _, r := range rows {
		if !bad[r.Line] {
			out.Rows = append(out.Rows, r)
		}
	}
	return out, nil
}

// duplicates marks every row of a repeated student number, not only the
// later ones: the file cannot tell us which of the two is right, so importing
// the first would silently pick one.
func duplicates(rows []Row) []Problem {
	byNo := make(map[string][]int)
	var order []string
	for _, r := range rows {
		if r.StudentNo == "" {
			continue
		}
		if _, seen := byNo[r.StudentNo]; !seen {
			order = append(order, r.StudentNo)
		}
		byNo[r.StudentNo] = append(byNo[r.StudentNo], r.Line)
	}
	var out []Problem
	for _, no := range order {
		lines := byNo[no]
		if len(lines) < 2 {
			continue
		}
		for _, l := range lines {
			others := make([]string, 0, 5)
			more := false
			for _, o := range lines {
				if o == l {
					continue
				}
				if len(others) == 5 {
					more = true
					break
				}
				others = append(others, fmt.Sprint(o))
			}
			zh, en := strings.Join(others, "、"), strings.Join(others, ", ")
			if more {
				zh, en = zh+" 等", en+" and more"
			}
			out = append(out, problem(l, fStudentNo, KindDuplicateStudentNo,
				fmt.Sprintf("学号与第 %s 行重复", zh), fmt.Sprintf("student number repeats row %s", en)))
		}
	}
	return out
}

func problem(line int, f field, k Kind, zh, en string) Problem {
	return Problem{Line: line, Column: fields[f].key, Kind: k,
		Message: fmt.Sprintf("第 %d 行：%s / row %d: %s", line, zh, line, en)}
}

func fieldOrder(key string) int {
	for i, f := range fields {
		if f.key == key {
			return i
		}
	}
	return len(fields)
}

// extension takes the name after the last separator of either kind, since
// uploads from Windows browsers may carry a full path.
func extension(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	i := strings.LastIndexByte(name, '.')
	if i < 0 {
		return ""
	}
	return strings.ToLower(strings.TrimSpace(name[i:]))
}
