package roster

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
)

var (
	now     = time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC)
	classes = map[string]string{"七年级一班": "u71", "七年级二班": "u72", "7-3": "u73"}
)

// goodRow varies every field's spelling so that the 2,000 good rows also
// exercise the accepted forms.
func goodRow(i int) []any {
	no := any(fmt.Sprintf("2024%04d", i))
	switch i % 7 {
	case 1:
		no = toFullWidth(no.(string))
	case 2:
		no = 20240000 + i // a number cell in .xlsx
	}
	sex := []string{"男", "女", "M", "F", "male", "Female", "ｍ"}[i%7]
	var birth any = []string{"2011-05", "2011/5", "201105", "2011年5月", "2011.05", "2011-05-12", "2011年5月12日"}[i%7]
	if i%5 == 0 {
		birth = time.Date(2011, 5, 12, 0, 0, 0, 0, time.UTC) // a date cell in .xlsx
	}
	class := []string{"七年级一班", "七年级二班", "7-3", " 七年级 一班 ", "７-３"}[i%5]
	return []any{no, fmt.Sprintf(" 学生%d ", i), sex, birth, class, "备注"}
}

func toFullWidth(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' {
			return r - '0' + '０'
		}
		return r
	}, s)
}

// fixture is the test file: a header, 2,000 good rows (spreadsheet
// rows 2–2001), then a blank row and one row per kind of problem.
func fixture() [][]any {
	rows := [][]any{{"学号", "姓名", "性别", "出生年月", "班级", "备注"}}
	for i := 1; i <= 2000; i++ {
		rows = append(rows, goodRow(i))
	}
	rows = append(rows,
		[]any{}, // 2002 blank: skipped silently
		[]any{"9990001", "张三", "男", "2011-05", "七年级一班"},     // 2003 duplicate of 2004
		[]any{"９９９０００１", "李四", "女", "2011-06", "七年级二班"},     // 2004 same number in full width
		[]any{"9990002", "", "男", "2011-05", "七年级一班"},       // 2005 missing name
		[]any{"9990003", "王五", "女", "2011-05", "九年级九班"},     // 2006 unknown class
		[]any{"9990004", "赵六", "x", "2011-05", "七年级一班"},     // 2007 bad sex
		[]any{"", "钱七", "女", "2011-05", "七年级一班"},            // 2008 empty student number
		[]any{"9990005", "孙八", "男", "2011-13", "七年级一班"},     // 2009 bad birth month
		[]any{"9990006", "周九", "男", "", "七年级一班"},            // 2010 no birth month or age
		[]any{"9990007", "吴十", "男", "2011-05", ""},          // 2011 no class
		[]any{"2.02401E+11", "郑一", "男", "2011-05", "七年级一班"}, // 2012 mangled by Excel
		[]any{"9990008", "冯二", "男", "1900-01", "七年级一班"},     // 2013 implausible birth
	)
	return rows
}

var wantProblems = []struct {
	line int
	kind Kind
}{
	{2003, KindDuplicateStudentNo},
	{2004, KindDuplicateStudentNo},
	{2005, KindMissingName},
	{2006, KindUnknownClass},
	{2007, KindBadSex},
	{2008, KindMissingStudentNo},
	{2009, KindBadBirthMonth},
	{2010, KindMissingBirth},
	{2011, KindMissingClass},
	{2012, KindBadStudentNo},
	{2013, KindBadBirthMonth},
}

func makeXLSX(t testing.TB, sheets map[string][][]any, order ...string) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, name := range order {
		if i == 0 {
			if err := f.SetSheetName("Sheet1", name); err != nil {
				t.Fatal(err)
			}
		} else if _, err := f.NewSheet(name); err != nil {
			t.Fatal(err)
		}
		for r, row := range sheets[name] {
			if len(row) == 0 {
				continue
			}
			cell, _ := excelize.CoordinatesToCellName(1, r+1)
			if err := f.SetSheetRow(name, cell, &row); err != nil {
				t.Fatal(err)
			}
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func makeCSV(t testing.TB, rows [][]any) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	for _, row := range rows {
		rec := make([]string, len(row))
		for i, v := range row {
			if tm, ok := v.(time.Time); ok {
				rec[i] = tm.Format("2006/1/2") // how Excel writes a date cell to CSV
			} else {
				rec[i] = fmt.Sprint(v)
			}
		}
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
	}
	w.Flush()
	return buf.Bytes()
}

func parse(t *testing.T, name string, data []byte, opt Options) *Roster {
	t.Helper()
	opt.Now = now
	r, err := Parse(name, bytes.NewReader(data), classes, opt)
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	return r
}

func TestFixture(t *testing.T) {
	t.Parallel()
	files := map[string][]byte{
		"名单.xlsx": makeXLSX(t, map[string][][]any{"学生": fixture()}, "学生"),
		"名单.csv":  makeCSV(t, fixture()),
	}
	for name, data := range files {
		t.Run(name, func(t *testing.T) {
			r := parse(t, name, data, Options{})
			if len(r.Rows) != 0 {
				t.Errorf("strict parse returned %d rows despite problems", len(r.Rows))
			}
			if len(r.Problems) != len(wantProblems) {
				for _, p := range r.Problems {
					t.Log(p.Message)
				}
				t.Fatalf("got %d problems, want %d", len(r.Problems), len(wantProblems))
			}
			for i, w := range wantProblems {
				p := r.Problems[i]
				if p.Line != w.line || p.Kind != w.kind {
					t.Errorf("problem %d = row %d %s (%s), want row %d %s", i, p.Line, p.Kind, p.Message, w.line, w.kind)
				}
				if !strings.HasPrefix(p.Message, fmt.Sprintf("第 %d 行：", w.line)) || !strings.Contains(p.Message, fmt.Sprintf("/ row %d: ", w.line)) {
					t.Errorf("message %q is not Chinese-then-English with the row number", p.Message)
				}
			}
			if m := r.Problems[0].Message; !strings.Contains(m, "第 2004 行重复") || !strings.Contains(m, "repeats row 2004") {
				t.Errorf("duplicate message does not name the other row: %q", m)
			}
			if m := r.Problems[1].Message; !strings.Contains(m, "第 2003 行重复") {
				t.Errorf("duplicate message does not name the other row: %q", m)
			}
			if !hasNotice(r, "备注") || !hasNotice(r, "九年级九班（1 行）") {
				t.Errorf("notices %q lack the ignored column or the unknown class", r.Notices)
			}

			r = parse(t, name, data, Options{SkipBadRows: true})
			if len(r.Problems) != len(wantProblems) {
				t.Errorf("SkipBadRows changed the problems: %d", len(r.Problems))
			}
			if len(r.Rows) != 2000 {
				t.Fatalf("SkipBadRows kept %d rows, want 2000", len(r.Rows))
			}
			seen := map[string]bool{}
			for i, row := range r.Rows {
				n := i + 1
				want := Row{Line: n + 1, StudentNo: fmt.Sprintf("2024%04d", n), Name: fmt.Sprintf("学生%d", n),
					Sex: []string{"m", "f"}[n%7%2], BirthMonth: "2011-05",
					ClassName: strings.TrimSpace(fmt.Sprint(goodRow(n)[4])), UnitID: []string{"u71", "u72", "u73", "u71", "u73"}[n%5]}
				if n%7 == 6 {
					want.Sex = "m" // "ｍ" in full width
				}
				if row != want {
					t.Fatalf("row %d = %+v, want %+v", n, row, want)
				}
				if seen[row.StudentNo] {
					t.Fatalf("student number %s twice", row.StudentNo)
				}
				seen[row.StudentNo] = true
			}
		})
	}
}

func hasNotice(r *Roster, s string) bool {
	for _, n := range r.Notices {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

func TestCleanFileImportsEverything(t *testing.T) {
	t.Parallel()
	rows := [][]any{{"学号", "姓名", "性别", "出生年月", "班级"}}
	for i := 1; i <= 3; i++ {
		rows = append(rows, goodRow(i)[:5])
	}
	r := parse(t, "a.csv", makeCSV(t, rows), Options{})
	if len(r.Problems) != 0 || len(r.Rows) != 3 {
		t.Fatalf("clean file: %d rows, problems %v", len(r.Rows), r.Problems)
	}
}

func TestHeaderVariants(t *testing.T) {
	t.Parallel()
	rows := [][]any{
		{"2024 级七年级学生名单"},
		{"导出日期：2025-09-01"},
		{"Class", "Gender", "身份证号", " NAME ", "Student_No", "AGE"},
		{"7-3", "f", "110101201105120000", "Alice", "s001", "14"},
		{"七年级一班", "Male", "", "Bob", "S002", "１３岁"},
		{"七年级一班", "Male", "", "Carl", "S003", "4"},
	}
	for name, data := range map[string][]byte{
		"en.xlsx": makeXLSX(t, map[string][][]any{"Sheet": rows}, "Sheet"),
		"en.csv":  makeCSV(t, rows),
	} {
		t.Run(name, func(t *testing.T) {
			r := parse(t, name, data, Options{SkipBadRows: true})
			want := []Row{
				{Line: 4, StudentNo: "S001", Name: "Alice", Sex: "f", Age: 14, ClassName: "7-3", UnitID: "u73"},
				{Line: 5, StudentNo: "S002", Name: "Bob", Sex: "m", Age: 13, ClassName: "七年级一班", UnitID: "u71"},
			}
			if len(r.Rows) != 2 || r.Rows[0] != want[0] || r.Rows[1] != want[1] {
				t.Errorf("rows = %+v, want %+v", r.Rows, want)
			}
			if len(r.Problems) != 1 || r.Problems[0].Line != 6 || r.Problems[0].Kind != KindBadAge || r.Problems[0].Column != "age" {
				t.Errorf("problems = %+v, want row 6 bad_age", r.Problems)
			}
			if !hasNotice(r, "第 3 行") || !hasNotice(r, "身份证号") {
				t.Errorf("notices = %q", r.Notices)
			}
		})
	}
}

func TestMissingAndRepeatedColumns(t *testing.T) {
	t.Parallel()
	_, err := Parse("a.csv", strings.NewReader("学号,姓名,出生日期\n1,a,2011-05\n"), classes, Options{Now: now})
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeColumns || !strings.Contains(e.Message, "性别、班级") || !strings.Contains(e.Message, "sex, class") {
		t.Errorf("missing columns: %v", err)
	}
	_, err = Parse("a.csv", strings.NewReader("学号,姓名,性别,班级\n1,a,男,7-3\n"), classes, Options{Now: now})
	if !errors.As(err, &e) || e.Code != CodeColumns || !strings.Contains(e.Message, "出生年月或年龄") {
		t.Errorf("missing birth and age: %v", err)
	}
	_, err = Parse("a.csv", strings.NewReader("学号,姓名,性别,年龄,班级,student no\n"), classes, Options{Now: now})
	if !errors.As(err, &e) || e.Code != CodeColumns || !strings.Contains(e.Message, "学号（A 列、F 列）") {
		t.Errorf("repeated column: %v", err)
	}
	_, err = Parse("a.csv", strings.NewReader("学号,姓名,性别,年龄,班级\n"), classes, Options{Now: now})
	if !errors.As(err, &e) || e.Code != CodeEmpty {
		t.Errorf("header only: %v", err)
	}
}

const smallCSV = "学号,姓名,性别,出生年月,班级\r\n０１２３,张三,男,2011年5月,七年级一班\r\n"

func TestEncodings(t *testing.T) {
	t.Parallel()
	gb, err := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(smallCSV))
	if err != nil {
		t.Fatal(err)
	}
	want := Row{Line: 2, StudentNo: "0123", Name: "张三", Sex: "m", BirthMonth: "2011-05", ClassName: "七年级一班", UnitID: "u71"}
	for name, data := range map[string][]byte{
		"utf8":    []byte(smallCSV),
		"bom":     append([]byte("\xEF\xBB\xBF"), smallCSV...),
		"gb18030": gb,
		"utf16":   utf16le(strings.ReplaceAll(smallCSV, ",", "\t")),
	} {
		t.Run(name, func(t *testing.T) {
			r := parse(t, "a.csv", data, Options{})
			if len(r.Rows) != 1 || r.Rows[0] != want {
				t.Errorf("rows = %+v, problems %+v", r.Rows, r.Problems)
			}
			if name == "gb18030" && !hasNotice(r, "GB18030") {
				t.Errorf("no notice that the file was read as GB18030: %q", r.Notices)
			}
		})
	}
}

func utf16le(s string) []byte {
	b := []byte{0xFF, 0xFE}
	for _, r := range s {
		b = append(b, byte(r), byte(r>>8)) // the test text is all in the BMP
	}
	return b
}

func TestRefusesOtherFormats(t *testing.T) {
	t.Parallel()
	xlsx := makeXLSX(t, map[string][][]any{"S": {{"学号"}}}, "S")
	cases := []struct {
		name string
		data []byte
		code string
	}{
		{"old.xls", []byte("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1rest"), CodeFormat},
		{"名单.pdf", []byte("%PDF-1.7\n"), CodeFormat},
		{"名单.docx", xlsx, CodeFormat},
		{"encrypted.xlsx", []byte("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1rest"), CodeFormat},
		{"upload", []byte("%PDF-1.7\n"), CodeFormat},
		{"renamed.xlsx", []byte(smallCSV), CodeUnreadable},
		{"broken.xlsx", []byte("PK\x03\x04garbage"), CodeUnreadable},
		{"binary.csv", []byte("学号,姓名\x00\x01"), CodeFormat},
		{"empty.csv", []byte(" \n"), CodeEmpty},
		{"quotes.csv", []byte("学号,姓名,性别,年龄,班级\n1,\"a\"b,男,12,7-3\n"), CodeUnreadable},
	}
	for _, c := range cases {
		_, err := Parse(c.name, bytes.NewReader(c.data), classes, Options{Now: now})
		var e *Error
		if !errors.As(err, &e) || e.Code != c.code {
			t.Errorf("%s: err = %v, want code %s", c.name, err, c.code)
		}
	}
	// Content decides when the name says .csv but the bytes are a workbook.
	data := makeXLSX(t, map[string][][]any{"S": {{"学号", "姓名", "性别", "年龄", "班级"}, {"1", "a", "女", 12, "7-3"}}}, "S")
	if r := parse(t, "x.csv", data, Options{}); len(r.Rows) != 1 || !hasNotice(r, "Excel") {
		t.Errorf("xlsx named .csv: %+v", r)
	}
}

func TestLimits(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("学号,姓名,性别,年龄,班级\n")
	for i := 0; i < 11; i++ {
		fmt.Fprintf(&b, "%d,n,男,12,7-3\n", i)
	}
	var e *Error
	_, err := Parse("a.csv", strings.NewReader(b.String()), classes, Options{MaxRows: 10})
	if !errors.As(err, &e) || e.Code != CodeTooLarge {
		t.Errorf("rows over the cap: %v", err)
	}
	if _, err := Parse("a.csv", strings.NewReader(b.String()), classes, Options{MaxRows: 11}); err != nil {
		t.Errorf("rows at the cap: %v", err)
	}
	_, err = Parse("a.csv", strings.NewReader(b.String()), classes, Options{MaxBytes: 64})
	if !errors.As(err, &e) || e.Code != CodeTooLarge {
		t.Errorf("bytes over the cap: %v", err)
	}
}

func TestSheetChoiceAndDates(t *testing.T) {
	t.Parallel()
	data := makeXLSX(t, map[string][][]any{
		"说明": {{"请按下表填写"}},
		"名单": {
			{"学号", "姓名", "性别", "出生日期", "班级"},
			{20240001, "甲", "女", 40675, "7-3"},           // serial day number: 2011-05-12
			{2.0240002e7, "乙", "女", 40675.5, "7-3"},      // float cells
			{"20240003", "丙", "女", "  2011 / 5 ", "7-3"}, // spaces inside
		},
	}, "说明", "名单")
	r := parse(t, "a.xlsx", data, Options{})
	if len(r.Problems) != 0 || len(r.Rows) != 3 {
		t.Fatalf("rows %+v problems %+v", r.Rows, r.Problems)
	}
	for i, row := range r.Rows {
		if row.BirthMonth != "2011-05" || row.StudentNo != fmt.Sprintf("2024000%d", i+1) {
			t.Errorf("row %+v", row)
		}
	}
	if !hasNotice(r, "“名单”") {
		t.Errorf("notices %q do not say which sheet was read", r.Notices)
	}
}

func TestCSVRowNumbersMatchExcel(t *testing.T) {
	t.Parallel()
	// A blank line is a row in Excel; a quoted cell with a line break is not.
	data := "学号,姓名,性别,年龄,班级,备注\n\n1,a,男,12,7-3,\"多行\r\n备注\"\n2,,男,12,7-3\n"
	r := parse(t, "a.csv", []byte(data), Options{})
	if len(r.Problems) != 1 || r.Problems[0].Line != 4 {
		t.Errorf("problems %+v, want one on row 4", r.Problems)
	}
}

func TestBirthMonth(t *testing.T) {
	t.Parallel()
	v := newValidator(nil, now, false)
	for in, want := range map[string]string{
		"2010-05": "2010-05", "2010/5": "2010-05", "201005": "2010-05", "2010年5月": "2010-05",
		"2010 年 5 月": "2010-05", "２０１０－０５": "2010-05", "20100531": "2010-05", "2010/5/31": "2010-05",
		"2010年5月31日": "2010-05", "40299": "2010-05", "2020-09": "2020-09", "1925-08": "1925-08",
	} {
		if got, zh, _ := v.birthMonth(in); got != want || zh != "" {
			t.Errorf("birthMonth(%q) = %q %q, want %q", in, got, zh, want)
		}
	}
	for _, in := range []string{"2010", "2010-13", "2010-00", "2010-02-30", "201013", "abc", "2020-10", "1924-08", "0", "-5", "10/5/2010", "2010-5-", "20105", "19998"} {
		if got, zh, en := v.birthMonth(in); got != "" || zh == "" || en == "" {
			t.Errorf("birthMonth(%q) = %q, want a reason", in, got)
		}
	}
}

func TestStudentNoAndSexAndAge(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"  2024 0001 ": "20240001", "Ｇ１１０１": "G1101", "g1101": "G1101", `="00123"`: "00123", "'00123": "00123", "a-b_c": "A-B_C",
	} {
		if got, zh, _ := studentNo(in); got != want || zh != "" {
			t.Errorf("studentNo(%q) = %q, want %q", in, got, want)
		}
	}
	for _, in := range []string{"2.02401E+11", "学号1", "1/2", strings.Repeat("1", 33)} {
		if got, zh, _ := studentNo(in); got != "" || zh == "" {
			t.Errorf("studentNo(%q) = %q, want a reason", in, got)
		}
	}
	if got, _, _ := studentNo("1.10101201105E+17"); got != "" {
		t.Errorf("number past 15 digits accepted as %q", got)
	}
	for in, want := range map[string]string{"男": "m", "女": "f", "M": "m", "f": "f", "MALE": "m", "female": "f", "Ｆ": "f", "x": "", "1": ""} {
		if got := sexCode(in); got != want {
			t.Errorf("sexCode(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]int{"5": 5, "100": 100, "12岁": 12, "12周岁": 12, "１２": 12, "12.0": 12, "4": 0, "101": 0, "12.5": 0, "NaN": 0, "": 0} {
		if got, _ := age(in); got != want {
			t.Errorf("age(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestAmbiguousFoldedClass(t *testing.T) {
	t.Parallel()
	v := newValidator(map[string]string{"7-1": "a", "７-１": "b"}, now, false)
	if v.class("7-1") != "a" || v.class("７-１") != "b" || v.class(" 7-1") != "" {
		t.Error("a folded name matching two classes must need an exact match")
	}
}

func FuzzParseCSV(f *testing.F) {
	f.Add([]byte(smallCSV))
	f.Add(append([]byte("\xEF\xBB\xBF"), smallCSV...))
	f.Add([]byte("学号,姓名,性别,年龄,班级\n1,\"a\nb\",男,12,7-3\n1,,x,4,?\n"))
	f.Add([]byte("Class\tGender\tName\tStudent No\tAge\n7-3\tf\ta\t2.02E+11\t12\n"))
	f.Add([]byte("\xFF\xFE1\x00,\x00"))
	f.Add([]byte("\xd1\xa7\xba\xc5,\xd0\xd5\xc3\xfb\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Parse("f.csv", bytes.NewReader(data), classes, Options{Now: now, SkipBadRows: true})
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code == "" {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		bad := map[int]bool{}
		for _, p := range r.Problems {
			if p.Line < 1 || p.Kind == "" || p.Message == "" {
				t.Fatalf("malformed problem %+v", p)
			}
			bad[p.Line] = true
		}
		for _, row := range r.Rows {
			if bad[row.Line] || row.StudentNo == "" || row.Name == "" || row.UnitID == "" || (row.Sex != "m" && row.Sex != "f") ||
				(row.BirthMonth == "") == (row.Age == 0) {
				t.Fatalf("bad row let through: %+v", row)
			}
		}
	})
}

// TestQuotingAloneIsNoStudentNumber: FuzzParse found that a cell holding
// only Excel's text quoting normalised to an empty number and was imported.
func TestQuotingAloneIsNoStudentNumber(t *testing.T) {
	t.Parallel()
	for _, cell := range []string{"'", `=""`, "' ", "　'"} {
		data := []byte("学号,姓名,性别,出生年月,班级\n\"" + strings.ReplaceAll(cell, `"`, `""`) + "\",王,女,2011-05,7-3\n")
		r := parse(t, "r.csv", data, Options{})
		if len(r.Rows) != 0 || len(r.Problems) != 1 || r.Problems[0].Kind != KindMissingStudentNo {
			t.Errorf("%q: rows %+v, problems %+v", cell, r.Rows, r.Problems)
		}
	}
}
