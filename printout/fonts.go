package printout

import "xinling/internal/pdffont"

// Fonts are the faces a PDF is set in: the CJK font and, for Latin letters,
// digits and Western punctuation, Go Regular (compiled in). Fonts is
// read-only after loading and safe for concurrent Renders.
type Fonts = pdffont.Fonts

// DefaultCJKFont is Debian's fonts-droid-fallback, as for the code slips.
const DefaultCJKFont = pdffont.DefaultCJKFont

// ErrNoFont is wrapped by every error LoadFonts and NewFonts return: the
// server cannot print Chinese until the font is installed or configured,
// which the API reports as 503.
var ErrNoFont = pdffont.ErrNoFont

// LoadFonts reads the CJK TrueType font at path (DefaultCJKFont when empty)
// and checks it has common Chinese characters.
func LoadFonts(path string) (*Fonts, error) { return pdffont.Load(path) }

// NewFonts uses data as the CJK font, after the same checks.
func NewFonts(data []byte) (*Fonts, error) { return pdffont.New(data) }

// ptToMM converts a font size in points to millimetres.
const ptToMM = pdffont.PtToMM
