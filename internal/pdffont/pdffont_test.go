package pdffont

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-pdf/fpdf"
	"golang.org/x/image/font/gofont/goregular"
)

func testWriter(t *testing.T) *Writer {
	t.Helper()
	f, err := Load(DefaultCJKFont)
	if err != nil {
		t.Fatal(err) // make unit installs fonts-droid-fallback
	}
	return NewWriter(fpdf.New("P", "mm", "A4", ""), f)
}

func TestMissingOrWrongFontIsErrNoFont(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "none.ttf")); !errors.Is(err, ErrNoFont) || !strings.Contains(err.Error(), "fonts-droid-fallback") {
		t.Fatalf("a missing font gave %v", err)
	}
	if _, err := New([]byte("not a font")); !errors.Is(err, ErrNoFont) {
		t.Fatalf("a non-font gave %v", err)
	}
	if _, err := New(goregular.TTF); !errors.Is(err, ErrNoFont) {
		t.Fatalf("a font without Chinese gave %v", err)
	}
}

func TestPrintableMapsWhatFpdfCannotSet(t *testing.T) {
	if got := PrintableString("张𠮷\t😀 A1"); got != "张〓 〓 A1" {
		t.Fatalf("got %q", got)
	}
}

func TestWrapBreaksChineseAnywhereButNotWordsOrBeforePunctuation(t *testing.T) {
	m := testWriter(t)
	size := 10.0
	zi := m.Width("字", size)
	// Six characters' width: the comma may not start the second line.
	lines := m.Wrap("一二三四五六，七八", size, zi*6.2)
	if len(lines) != 2 || strings.HasPrefix(lines[1], "，") {
		t.Fatalf("got %q", lines)
	}
	lines = m.Wrap("Mini-IPIP extraversion score", size, m.Width("Mini-IPIP extra", size))
	for _, l := range lines {
		if strings.HasSuffix(l, "extra") || strings.HasPrefix(l, "version") {
			t.Fatalf("a word was split: %q", lines)
		}
	}
	lines = m.Wrap("七（3）班共 45 人", size, zi*4)
	for _, l := range lines {
		if strings.HasSuffix(l, "（") || strings.HasPrefix(l, "）") {
			t.Fatalf("a bracket was left alone: %q", lines)
		}
	}
	if got := m.Wrap("甲\n乙", size, 100); len(got) != 2 {
		t.Fatalf("a newline did not break: %q", got)
	}
	if got := strings.Join(m.Wrap(strings.Repeat("心", 100), size, 50), ""); got != strings.Repeat("心", 100) {
		t.Fatal("wrapping lost or added characters")
	}
}

func TestGlyphsComeFromTheFaceThatHasThem(t *testing.T) {
	m := testWriter(t)
	for _, r := range "A9%.(" {
		if m.glyph(r).face != latinFace {
			t.Errorf("%q not in the Go font", r)
		}
	}
	for _, r := range "心（，" {
		if m.glyph(r).face != cjkFace {
			t.Errorf("%q not in the CJK font", r)
		}
	}
}
