package pdffont

import (
	"strings"
	"unicode"
)

// noBreakBefore are characters a line must not start with (closing
// punctuation, in Chinese and Western text); noBreakAfter those it must
// not end with (opening punctuation).
const (
	noBreakBefore = "，。、；：！？）》」』】〕〉”’…—·%,.;:!?)]}>"
	noBreakAfter  = "（《「『【〔〈“‘([{<"
)

// breakable reports whether a line may break between a and b: between
// two characters of which one is CJK (Chinese needs no spaces), never
// inside a Latin word or number, never before closing or after opening
// punctuation.
func breakable(a, b rune) bool {
	if strings.ContainsRune(noBreakBefore, b) || strings.ContainsRune(noBreakAfter, a) {
		return false
	}
	if unicode.IsSpace(a) || unicode.IsSpace(b) {
		return true
	}
	return a >= 0x2e80 || b >= 0x2e80
}

// Wrap breaks text into lines no wider than width mm at size pt. Each "\n"
// starts a new line. A word wider than a line is broken where it must.
func (m *Writer) Wrap(text string, size, width float64) []string {
	var lines []string
	for _, para := range strings.Split(text, "\n") {
		lines = append(lines, m.wrapPara([]rune(para), size, width)...)
	}
	return lines
}

func (m *Writer) wrapPara(rs []rune, size, width float64) []string {
	var lines []string
	for len(rs) > 0 {
		w, lastBreak, i := 0.0, -1, 0
		for ; i < len(rs); i++ {
			if i > 0 && breakable(rs[i-1], rs[i]) {
				lastBreak = i
			}
			w += m.glyph(rs[i]).w * size
			if w > width && i > 0 {
				break
			}
		}
		if i == len(rs) {
			lines = append(lines, strings.TrimRightFunc(string(rs), unicode.IsSpace))
			break
		}
		cut := lastBreak
		if cut <= 0 {
			cut = i // no break opportunity: break the word
		}
		lines = append(lines, strings.TrimRightFunc(string(rs[:cut]), unicode.IsSpace))
		rs = rs[cut:]
		for len(rs) > 0 && rs[0] == ' ' {
			rs = rs[1:]
		}
	}
	if len(lines) == 0 {
		lines = []string{""}
	}
	return lines
}
