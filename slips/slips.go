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
)

// DefaultFont is Debian's fonts-droid-fallback, a TrueType font with the
// CJK glyphs names need; the PDF embeds the subset it uses. It has no Latin
// letters or digits (it is a fallback font), so those are set in the PDF's
// built-in Helvetica: see line.
const DefaultFont = "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"

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

// line sets text at (x, baseline y) in size pt, switching between the CJK
// font and Helvetica by runs, so a class like "七年级（3）班" prints whole.
func line(pdf *fpdf.Fpdf, x, y, size float64, text string) {
	pdf.SetXY(x, y-size*0.3)
	for _, r := range runs(text) {
		if r.cjk {
			pdf.SetFont("cjk", "", size)
		} else {
			pdf.SetFont("Helvetica", "", size)
		}
		pdf.CellFormat(pdf.GetStringWidth(r.text), size*0.4, r.text, "", 0, "L", false, 0, "")
	}
}

type run struct {
	text string
	cjk  bool
}

// runs splits text where it changes between ASCII and everything else.
func runs(text string) []run {
	var out []run
	for _, c := range text {
		cjk := c > 0x7e
		if n := len(out); n > 0 && out[n-1].cjk == cjk {
			out[n-1].text += string(c)
			continue
		}
		out = append(out, run{text: string(c), cjk: cjk})
	}
	return out
}

// Render writes the slips as an A4 PDF.
func Render(w io.Writer, font []byte, slips []Slip) error {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetAutoPageBreak(false, 0)
	pdf.AddUTF8FontFromBytes("cjk", "", font)
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

		line(pdf, x+4, y+6, 10, s.Title)
		name := s.Name
		if name == "" {
			name = "班级访问码 Class code"
		}
		line(pdf, x+4, y+16, 15, name)
		line(pdf, x+4, y+26, 11, s.Class)
		line(pdf, x+4, y+38, 22, s.Code)
		line(pdf, x+4, y+slipH-6, 7, "扫码或在测评页面输入访问码 Scan, or type the code on the screening page")
	}
	if len(slips) == 0 {
		pdf.AddPage()
	}
	if err := pdf.Error(); err != nil {
		return err
	}
	return pdf.Output(w)
}
