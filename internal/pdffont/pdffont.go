// Package pdffont sets mixed Chinese and Latin text in PDFs made with
// github.com/go-pdf/fpdf, for the code slips and the printed reports.
//
// Chinese is set in a CJK TrueType font read from disk (Debian's
// fonts-droid-fallback by default, which has no Latin letters or digits);
// Latin letters, digits and Western punctuation in Go Regular, compiled in
// from golang.org/x/image/font/gofont. Both are embedded in the PDF as
// subsets of the characters used.
package pdffont

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/go-pdf/fpdf"
	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

// DefaultCJKFont is Debian's fonts-droid-fallback. It has the CJK glyphs
// but no Latin letters or digits.
const DefaultCJKFont = "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"

// ErrNoFont is wrapped by every error Load and New return: the
// server cannot print Chinese until the font is installed or configured,
// which the API reports as 503.
var ErrNoFont = errors.New("no usable CJK font for printing")

// Fonts are the faces a PDF is set in: the CJK font and, for Latin letters,
// digits and Western punctuation, Go Regular (compiled in). Fonts is
// read-only after loading and safe for concurrent Renders.
type Fonts struct {
	cjk, latin         []byte
	cjkFace, latinFace *sfnt.Font
}

// Load reads the CJK TrueType font at path (DefaultCJKFont when empty).
func Load(path string) (*Fonts, error) {
	if path == "" {
		path = DefaultCJKFont
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v (install Debian's fonts-droid-fallback or set --cjk-font)", ErrNoFont, err)
	}
	return New(data)
}

// New uses data as the CJK font, after checking it is a TrueType font
// that has common Chinese characters, so that no text prints as boxes.
func New(data []byte) (*Fonts, error) {
	cjk, err := sfnt.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%w: not a TrueType font: %v", ErrNoFont, err)
	}
	latin, err := sfnt.Parse(goregular.TTF)
	if err != nil {
		return nil, fmt.Errorf("the compiled-in Go font: %w", err)
	}
	var buf sfnt.Buffer
	for _, r := range "心理测评报告学生班级年级姓名内部资料注意保密，。（）：" {
		if idx, err := cjk.GlyphIndex(&buf, r); err != nil || idx == 0 {
			return nil, fmt.Errorf("%w: the font has no glyph for %q", ErrNoFont, r)
		}
	}
	return &Fonts{cjk: data, latin: goregular.TTF, cjkFace: cjk, latinFace: latin}, nil
}

// face indexes the two faces.
type face uint8

const (
	latinFace face = iota
	cjkFace
)

// family is the fpdf font family of each face.
var family = [...]string{latinFace: "latin", cjkFace: "cjk"}

// glyph is how one character is set: in which face, and how wide per
// point of font size, in mm.
type glyph struct {
	face face
	w    float64
}

// Writer sets text on one fpdf document. It caches glyph choices and
// widths, and sfnt buffers are not safe to share, so each document has its
// own Writer; the Fonts behind it may be shared.
type Writer struct {
	pdf    *fpdf.Fpdf
	fonts  *Fonts
	buf    sfnt.Buffer
	glyphs map[rune]glyph
}

// NewWriter adds both fonts to pdf and returns a Writer that sets text on it.
func NewWriter(pdf *fpdf.Fpdf, f *Fonts) *Writer {
	pdf.AddUTF8FontFromBytes(family[latinFace], "", f.latin)
	pdf.AddUTF8FontFromBytes(family[cjkFace], "", f.cjk)
	return &Writer{pdf: pdf, fonts: f, glyphs: make(map[rune]glyph, 512)}
}

// PtToMM converts a font size in points to millimetres.
const PtToMM = 25.4 / 72

// missing stands for a character that cannot be printed: 〓 (geta), the
// typesetters' mark for a character the type case lacks.
const missing = '〓'

// printable maps what fpdf cannot set to something it can: characters
// beyond the Basic Multilingual Plane (rare name characters such as 𠮷,
// emoji), which make fpdf v0.9.0 panic while writing the font, to
// missing; control characters to spaces.
func printable(r rune) rune {
	switch {
	case r > 0xffff:
		return missing
	case r < 0x20 || r == 0x7f:
		return ' '
	}
	return r
}

// PrintableString maps s as Text does, for strings that reach the PDF
// otherwise (its title).
func PrintableString(s string) string { return strings.Map(printable, s) }

// glyph picks the Go font for every character it has (Latin, digits,
// Western punctuation), the CJK font for the rest. A character neither has
// is set in the CJK font, whose missing glyph shows it as a box rather than
// losing it silently.
func (m *Writer) glyph(r rune) glyph {
	if g, ok := m.glyphs[r]; ok {
		return g
	}
	if p := printable(r); p != r {
		g := m.glyph(p)
		m.glyphs[r] = g
		return g
	}
	g := glyph{face: cjkFace}
	if r < 0x3000 {
		if idx, err := m.fonts.latinFace.GlyphIndex(&m.buf, r); err == nil && idx != 0 {
			g.face = latinFace
		}
	}
	f := m.fonts.cjkFace
	if g.face == latinFace {
		f = m.fonts.latinFace
	}
	if idx, err := f.GlyphIndex(&m.buf, r); err == nil && idx != 0 {
		// At 1000 pixels per em the advance is in thousandths of an em.
		if adv, err := f.GlyphAdvance(&m.buf, idx, fixed.I(1000), font.HintingNone); err == nil {
			g.w = float64(adv) / 64 / 1000 * PtToMM
		}
	} else {
		g.w = 1 * PtToMM // a box as wide as the font size
	}
	m.glyphs[r] = g
	return g
}

// Width is the width of s in mm at size pt.
func (m *Writer) Width(s string, size float64) float64 {
	w := 0.0
	for _, r := range s {
		w += m.glyph(r).w
	}
	return w * size
}

// Text sets s with its left end at x mm and its baseline at y mm, in size
// pt and the document's current text colour, switching between the CJK
// and the Latin face by runs of characters.
func (m *Writer) Text(x, y, size float64, s string, bold bool) {
	if s == "" {
		return
	}
	if bold {
		// Neither face has a bold: fill and stroke the outlines (text
		// rendering mode 2), as printers' fake bold does.
		m.pdf.SetTextRenderingMode(2)
		m.pdf.SetDrawColor(m.pdf.GetTextColor())
		m.pdf.SetLineWidth(size * 0.004)
	}
	var run strings.Builder
	cur, runW := face(255), 0.0
	flush := func() {
		if run.Len() == 0 {
			return
		}
		m.pdf.SetFont(family[cur], "", size)
		m.pdf.Text(x, y, run.String())
		x += runW
		run.Reset()
		runW = 0
	}
	for _, ch := range s {
		g := m.glyph(ch)
		if g.face != cur {
			flush()
			cur = g.face
		}
		run.WriteRune(printable(ch))
		runW += g.w * size
	}
	flush()
	if bold {
		m.pdf.SetTextRenderingMode(0)
	}
}

// Bookmark adds an outline entry for the current page at y mm; level 0
// is the top.
func (m *Writer) Bookmark(title string, level int, y float64) {
	// fpdf encodes a bookmark's title for the current font, and only its
	// UTF-8 fonts keep Chinese intact.
	m.pdf.SetFont(family[cjkFace], "", 10)
	m.pdf.Bookmark(PrintableString(title), level, y)
}
