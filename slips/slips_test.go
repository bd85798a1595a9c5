package slips

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
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

// A rare name character (𠮷 is beyond the Basic Multilingual Plane, which
// made fpdf panic) must not stop a class's slips from printing.
func TestRenderPrintsNamesTheFontLacks(t *testing.T) {
	var buf bytes.Buffer
	err := Render(&buf, font(t), []Slip{{Title: "筛查", Name: "张𠮷", Class: "七年级（3）班", Code: "ABCD0001", URL: "https://example.cn/m/?code=ABCD0001"}})
	if err != nil {
		t.Fatal(err)
	}
	// Both faces embedded: the CJK font and Go Regular for the code's
	// letters and digits (Helvetica, a base font, was never embedded).
	if n := strings.Count(buf.String(), "/FontFile2"); n != 2 {
		t.Fatalf("%d embedded fonts, want 2", n)
	}
}

// A long class name or title shrinks to stay clear of the QR code.
func TestLongTextStaysLeftOfTheQRCode(t *testing.T) {
	tool, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Fatal("pdftotext is missing: install Debian's poppler-utils (make unit does)")
	}
	var buf bytes.Buffer
	class := "高二年级（12）班 物理化学生物组合 Physics Chemistry Biology"
	if err := Render(&buf, font(t), []Slip{{Title: class, Name: "张三", Class: class, Code: "ABCD0001", URL: "https://example.cn/"}}); err != nil {
		t.Fatal(err)
	}
	pdf := filepath.Join(t.TempDir(), "slips.pdf")
	if err := os.WriteFile(pdf, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, "-bbox", pdf, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	// The QR code starts 40 mm left of the slip's right edge.
	qrX := (marginX + slipW - 40) * 72 / 25.4
	words := regexp.MustCompile(`<word xMin="[\d.]+" yMin="([\d.]+)" xMax="([\d.]+)"`).FindAllStringSubmatch(string(out), -1)
	if len(words) == 0 {
		t.Fatalf("no words read back:\n%s", out)
	}
	for _, w := range words {
		y, _ := strconv.ParseFloat(w[1], 64)
		xMax, _ := strconv.ParseFloat(w[2], 64)
		onQRRows := y < (marginY+42)*72/25.4 // the footer line may run wider
		if onQRRows && xMax > qrX {
			t.Fatalf("text reaches %.0f pt, into the QR code at %.0f pt:\n%s", xMax, qrX, out)
		}
	}
}
