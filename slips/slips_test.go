package slips

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

func font(t *testing.T) []byte {
	t.Helper()
	data, err := LoadFont(DefaultFont)
	if err != nil {
		t.Fatal(err) // CI installs fonts-droid-fallback; without it slips cannot print names
	}
	return data
}

func TestFontPrintsChinese(t *testing.T) {
	data := font(t)
	if err := CheckFont(data, "欧阳娜娜七年级（三）班"); err != nil {
		t.Fatal(err)
	}
	if err := CheckFont(data, "\U0001F600"); err == nil {
		t.Fatal("CheckFont accepted a character the font lacks")
	}
	if err := CheckFont([]byte("not a font"), "张"); err == nil {
		t.Fatal("CheckFont accepted a non-font")
	}
}

func TestRenderEmbedsTheFontAndOneQRPerSlip(t *testing.T) {
	var slips []Slip
	for i := 0; i < 23; i++ {
		code := fmt.Sprintf("ABCD%04d", i)
		slips = append(slips, Slip{Title: "2026 秋季心理筛查", Name: "张三", Class: "七年级（3）班", Code: code, URL: "https://example.cn/m/?code=" + code})
	}
	var buf bytes.Buffer
	if err := Render(&buf, font(t), slips); err != nil {
		t.Fatal(err)
	}
	pdf := buf.String()
	if !strings.HasPrefix(pdf, "%PDF-") {
		t.Fatal("not a PDF")
	}
	// A TrueType CID font with its glyph data in the file, not a reference
	// to a font the printing machine may lack.
	if !strings.Contains(pdf, "/CIDFontType2") || !strings.Contains(pdf, "/FontFile2") {
		t.Fatal("the CJK font is not embedded")
	}
	if n := strings.Count(pdf, "/Subtype /Image"); n != 23 {
		t.Fatalf("%d images for 23 slips", n)
	}
}

func TestRunsSplitScripts(t *testing.T) {
	got := runs("七年级（3）班 A1")
	want := []run{{"七年级（", true}, {"3", false}, {"）班", true}, {" A1", false}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("runs = %+v, want %+v", got, want)
	}
}
