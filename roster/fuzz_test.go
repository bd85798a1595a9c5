package roster

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// FuzzParse feeds arbitrary bytes to Parse as a .csv and as an .xlsx
// upload. Parse must never panic; a refused file is an *Error with a known
// code and a message; an accepted one keeps the documented promises about
// its rows and problems.
func FuzzParse(f *testing.F) {
	small := [][]any{
		{"2024级七年级学生名单"},
		{"学号", "姓名", "性别", "出生年月", "班级", "备注"},
		goodRow(1), goodRow(2), goodRow(5), goodRow(6),
		{"9990001", "张三", "男", "2011-05", "七年级一班"},
		{"９９９０００１", "李四", "女", "2011-13", "九年级九班"},
	}
	csvData := makeCSV(f, small)
	gbk, _ := simplifiedchinese.GBK.NewEncoder().Bytes(csvData)
	for _, seed := range [][]byte{
		csvData, gbk,
		[]byte("\xef\xbb\xbf学号;姓名;性别;年龄;班级\n1;王;女;12;7-3\n"),
		[]byte("student_no\tname\tsex\tbirth_month\tclass\n1\tA\tm\t2011-05\t7-3\n"),
		[]byte("学号,姓名,性别,出生年月,班级\n\"1,2\",\"a\"\"b\",男,2011/5,7-3\n"),
	} {
		f.Add(seed, false)
	}
	f.Add(makeXLSX(f, map[string][][]any{"名单": small}, "名单"), true)
	f.Add([]byte("PK\x03\x04garbage"), true)
	classNames := map[string]bool{}
	for _, id := range classes {
		classNames[id] = true
	}
	f.Fuzz(func(t *testing.T, data []byte, xlsx bool) {
		name := "roster.csv"
		if xlsx {
			name = "roster.xlsx"
		}
		opt := Options{Now: now, MaxRows: 500, MaxBytes: 1 << 20}
		r, err := Parse(name, bytes.NewReader(data), classes, opt)
		if err != nil {
			var re *Error
			if !errors.As(err, &re) {
				t.Fatalf("error %T is not a roster.Error: %v", err, err)
			}
			switch re.Code {
			case CodeFormat, CodeUnreadable, CodeTooLarge, CodeColumns, CodeEmpty:
			default:
				t.Fatalf("unknown code %q", re.Code)
			}
			if !strings.Contains(re.Message, " / ") {
				t.Fatalf("message is not Chinese / English: %q", re.Message)
			}
			return
		}
		if len(r.Problems) > 0 && len(r.Rows) > 0 {
			t.Fatalf("%d rows returned despite %d problems without SkipBadRows", len(r.Rows), len(r.Problems))
		}
		if len(r.Rows) > opt.MaxRows {
			t.Fatalf("%d rows over the limit of %d", len(r.Rows), opt.MaxRows)
		}
		for _, row := range r.Rows {
			if row.Line < 1 || row.StudentNo == "" || row.Name == "" || (row.Sex != "m" && row.Sex != "f") || !classNames[row.UnitID] {
				t.Fatalf("invalid row accepted: %+v", row)
			}
			if row.BirthMonth != "" {
				if _, err := time.Parse("2006-01", row.BirthMonth); err != nil {
					t.Fatalf("birth month %q accepted", row.BirthMonth)
				}
			}
		}
		for _, p := range r.Problems {
			if p.Line < 1 || p.Kind == "" || p.Message == "" {
				t.Fatalf("problem without a line, kind or message: %+v", p)
			}
		}
	})
}
