// Package slips prints access-code slips: A4 pages of cut-out slips, each
// with a student's (or a class's) code and a QR code that opens the H5 entry
// with the code filled in.
package slips

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/go-pdf/fpdf"
	"golang.org/x/image/font/sfnt"
	"rsc.io/qr"

	"xinling/internal/pdffont"
)

// DefaultFont is Debian's fonts-droid-fallback, a TrueType font with the
// CJK glyphs names need. It has no Latin letters or digits (it is a
// fallback font): those are set in Go Regular, compiled in (see
// internal/pdffont). The PDF embeds the subsets of both that it uses.
const DefaultFont = pdffont.DefaultCJKFont

// Slip is one cut-out.
type Slip struct {
	Title string // the campaign
	Name  string // the student, or empty for a class code
	Class string
	Code  string
	URL   string // what the QR code opens
}

// CheckFont reads a TrueType font and confirms it has a glyph for every
// character of sample, so that names never print as empty boxes.
func CheckFont(data []byte, sample string) error {
	f, err := sfnt.Parse(data)
	if err != nil {
		return fmt.Errorf("the CJK font is not a TrueType font: %w", err)
	}
	var buf sfnt.Buffer
	for _, r := range sample {
		if r == ' ' {
			continue
		}
		idx, err := f.GlyphIndex(&buf, r)
		if err != nil || idx == 0 {
			return fmt.Errorf("the CJK font has no glyph for %q", r)
		}
	}
	return nil
}

// LoadFont reads the font file and checks it prints Chinese.
func LoadFont(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("CJK font for code slips: %w (install Debian's fonts-droid-fallback or set --cjk-font)", err)
	}
	return data, CheckFont(data, "学生姓名班级访问码心理测评张王李赵")
}

// Layout: 2 columns × 5 rows of 95 × 55 mm slips on A4.
const (
	cols, rows   = 2, 5
	slipW, slipH = 95.0, 55.0
	marginX      = 10.0
	marginY      = 11.0
)

// Render writes the slips as an A4 PDF.
func Render(w io.Writer, font []byte, slips []Slip) error {
	fonts, err := pdffont.New(font)
	if err != nil {
		return err
	}
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetAutoPageBreak(false, 0)
	text := pdffont.NewWriter(pdf, fonts)
	// line sets s at (x, baseline y), smaller than size when it is wider
	// than room mm, so that no text runs into the QR code or off the slip.
	line := func(x, y, size, room float64, s string) {
		if w := text.Width(s, size); w > room {
			size *= room / w
		}
		text.Text(x, y, size, s, false)
	}
	beside := slipW - 4 - 42 // the room left of the QR code
	pdf.SetDrawColor(160, 160, 160)
	for i, s := range slips {
		if i%(cols*rows) == 0 {
			pdf.AddPage()
		}
		n := i % (cols * rows)
		x := marginX + float64(n%cols)*slipW
		y := marginY + float64(n/cols)*slipH
		pdf.SetDashPattern([]float64{1, 1}, 0)
		pdf.Rect(x, y, slipW, slipH, "D") // cut line
		pdf.SetDashPattern(nil, 0)

		code, err := qr.Encode(s.URL, qr.M)
		if err != nil {
			return fmt.Errorf("QR code for %s: %w", s.Code, err)
		}
		img := fmt.Sprintf("qr%d", i)
		pdf.RegisterImageOptionsReader(img, fpdf.ImageOptions{ImageType: "PNG"}, bytes.NewReader(code.PNG()))
		pdf.ImageOptions(img, x+slipW-40, y+8, 34, 34, false, fpdf.ImageOptions{ImageType: "PNG"}, 0, "")

		line(x+4, y+6, 10, beside, s.Title)
		name := s.Name
		if name == "" {
			name = "班级访问码 Class code"
		}
		line(x+4, y+16, 15, beside, name)
		line(x+4, y+26, 11, beside, s.Class)
		line(x+4, y+38, 22, beside, s.Code)
		line(x+4, y+slipH-6, 7, slipW-8, "扫码或在测评页面输入访问码 Scan, or type the code on the screening page")
	}
	if len(slips) == 0 {
		pdf.AddPage()
	}
	if err := pdf.Error(); err != nil {
		return err
	}
	return pdf.Output(w)
}
