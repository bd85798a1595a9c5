package printout

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/go-pdf/fpdf"

	"xinling/internal/pdffont"
)

// A4 geometry, in mm.
const (
	pageW, pageH = 210.0, 297.0
	marginX      = 18.0
	textW        = pageW - 2*marginX
	bodyTop      = 22.0
	bodyBottom   = 279.0
	headerBase   = 13.0
	footerBase   = 288.0
)

// Type sizes, in pt.
const (
	bodySize  = 10.5
	smallSize = 8.5
	tableSize = 9.0
)

var (
	ink      = Color{33, 33, 33}
	grey     = Color{110, 110, 110}
	rule     = Color{200, 200, 200}
	accent   = Color{30, 60, 110}
	white    = Color{255, 255, 255}
	noteFill = Color{246, 246, 246}
)

// Render lays out docs and writes them to w as one A4 PDF. Each document
// starts on a new page, has a top-level bookmark with its sections under
// it, and numbers its own pages. fonts comes from LoadFonts and may be
// shared by concurrent Renders.
func Render(w io.Writer, fonts *Fonts, docs ...*Document) error {
	if fonts == nil {
		return fmt.Errorf("%w: no fonts loaded", ErrNoFont)
	}
	if len(docs) == 0 {
		return errors.New("printout: nothing to print")
	}
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetAutoPageBreak(false, 0)
	pdf.SetMargins(0, 0, 0)
	pdf.SetTitle(pdffont.PrintableString(docs[0].Title), true)
	pdf.SetCreator("xinling", true)
	r := &renderer{pdf: pdf, m: pdffont.NewWriter(pdf, fonts)}
	for i, d := range docs {
		if d == nil || strings.TrimSpace(d.Title) == "" {
			return fmt.Errorf("printout: document %d has no title", i+1)
		}
		l := &layout{renderer: r, doc: d}
		if err := l.run(); err != nil {
			return fmt.Errorf("printout: %s: %w", d.Title, err)
		}
		l.emit()
	}
	if err := pdf.Error(); err != nil {
		return err
	}
	return pdf.Output(w)
}

// renderer draws on the PDF; layout decides what goes where.
type renderer struct {
	pdf *fpdf.Fpdf
	m   *pdffont.Writer
}

// text sets s with its left end at x and its baseline at y in colour c.
func (r *renderer) text(x, y, size float64, s string, c Color, bold bool) {
	r.pdf.SetTextColor(int(c.R), int(c.G), int(c.B))
	r.m.Text(x, y, size, s, bold)
}

// textAligned sets s in the box [x, x+w] by align.
func (r *renderer) textAligned(x, w, y, size float64, s string, c Color, bold bool, a Align) {
	switch a {
	case Right:
		x += w - r.m.Width(s, size)
	case Center:
		x += (w - r.m.Width(s, size)) / 2
	}
	r.text(x, y, size, s, c, bold)
}

func (r *renderer) fill(c Color)   { r.pdf.SetFillColor(int(c.R), int(c.G), int(c.B)) }
func (r *renderer) stroke(c Color) { r.pdf.SetDrawColor(int(c.R), int(c.G), int(c.B)) }

func (r *renderer) rect(x, y, w, h float64, c Color) {
	r.fill(c)
	r.pdf.Rect(x, y, w, h, "F")
}

func (r *renderer) line(x1, y1, x2, y2, width float64, c Color) {
	r.stroke(c)
	r.pdf.SetLineWidth(width)
	r.pdf.Line(x1, y1, x2, y2)
}

// lineH is the line pitch for size pt.
func lineH(size float64) float64 { return size * ptToMM * 1.55 }

// ascent places a baseline in a line box: the top of the box plus this.
func ascent(size float64) float64 { return size * ptToMM * 1.12 }

// page is what one PDF page will show, gathered before any page is drawn
// so that the footer can say how many pages the document has.
type page struct {
	ops []func()
}

// layout places one document's blocks on pages.
type layout struct {
	*renderer
	doc     *Document
	cover   *page
	pages   []*page
	y       float64
	numbers [3]int
	h1      bool // a level-1 heading was bookmarked: level 2 nests under it
}

func (l *layout) add(op func()) {
	if len(l.pages) == 0 {
		l.newPage()
	}
	p := l.pages[len(l.pages)-1]
	p.ops = append(p.ops, op)
}

func (l *layout) newPage() {
	l.pages = append(l.pages, &page{})
	l.y = bodyTop
}

// ensure starts a new page unless h mm fit below the cursor.
func (l *layout) ensure(h float64) {
	if len(l.pages) == 0 || (l.y+h > bodyBottom && l.y > bodyTop) {
		l.newPage()
	}
}

func (l *layout) run() error {
	if l.doc.Cover != nil {
		l.layoutCover(l.doc.Cover)
	}
	for i, b := range l.doc.Blocks {
		var err error
		switch b := b.(type) {
		case *Heading:
			l.heading(b)
		case *Paragraph:
			l.paragraph(b)
		case *KVList:
			l.kvList(b)
		case *Notice:
			l.notice(b)
		case *PageBreak:
			if len(l.pages) > 0 && l.y > bodyTop {
				l.newPage()
			}
		case *Table:
			err = l.table(b)
		case *BarChart:
			err = l.barChart(b)
		case *ProfileChart:
			err = l.profileChart(b)
		case nil:
			err = errors.New("empty block")
		default:
			err = fmt.Errorf("unknown block %T", b)
		}
		if err != nil {
			return fmt.Errorf("block %d: %w", i+1, err)
		}
	}
	if l.cover == nil && len(l.pages) == 0 {
		l.newPage()
	}
	return nil
}

// emit draws the laid-out pages: the document's bookmark on its first
// page, running header and footer on body pages.
func (l *layout) emit() {
	pdf := l.pdf
	title := l.doc.Title
	first := true
	bookmark := func() {
		if first {
			l.m.Bookmark(title, 0, 0)
			first = false
		}
	}
	if l.cover != nil {
		pdf.AddPage()
		bookmark()
		for _, op := range l.cover.ops {
			op()
		}
	}
	format := l.doc.PageFormat
	if format == "" {
		format = "%d / %d"
	}
	for i, p := range l.pages {
		pdf.AddPage()
		bookmark()
		l.pageFrame(i+1, len(l.pages), format)
		for _, op := range p.ops {
			op()
		}
	}
}

func (l *layout) pageFrame(n, total int, format string) {
	d := l.doc
	if d.Header != "" {
		l.text(marginX, headerBase, smallSize, d.Header, grey, false)
	}
	if d.Marking != "" {
		l.textAligned(marginX, textW, headerBase, smallSize, d.Marking, Red, false, Right)
	}
	l.line(marginX, headerBase+2, pageW-marginX, headerBase+2, 0.2, rule)
	l.line(marginX, footerBase-5, pageW-marginX, footerBase-5, 0.2, rule)
	if d.Footer != "" {
		l.text(marginX, footerBase, smallSize, d.Footer, grey, false)
	}
	l.textAligned(marginX, textW, footerBase, smallSize, fmt.Sprintf(format, n, total), grey, false, Center)
}

func (l *layout) layoutCover(c *Cover) {
	p := &page{}
	l.cover = p
	add := func(op func()) { p.ops = append(p.ops, op) }
	if c.Marking != "" {
		size := 11.0
		w := l.m.Width(c.Marking, size) + 6
		x := pageW - marginX - w
		add(func() {
			l.stroke(Red)
			l.pdf.SetLineWidth(0.5)
			l.pdf.Rect(x, 20, w, 9, "D")
			l.text(x+3, 20+4.5+size*ptToMM*0.36, size, c.Marking, Red, true)
		})
	}
	y := 85.0
	for _, s := range l.m.Wrap(c.Title, 24, textW) {
		s, yy := s, y
		add(func() { l.textAligned(marginX, textW, yy+ascent(24), 24, s, accent, true, Center) })
		y += lineH(24)
	}
	y += 4
	for _, s := range l.m.Wrap(c.Subtitle, 15, textW) {
		s, yy := s, y
		add(func() { l.textAligned(marginX, textW, yy+ascent(15), 15, s, ink, false, Center) })
		y += lineH(15)
	}
	if len(c.Facts) > 0 {
		y = max(y+20, 150)
		size := 12.0
		labelW, valueW := 0.0, 0.0
		for _, f := range c.Facts {
			labelW = max(labelW, l.m.Width(f.Label+"：", size))
			valueW = max(valueW, l.m.Width(f.Value, size))
		}
		valueW = min(valueW, textW*0.6)
		x := (pageW - labelW - valueW) / 2
		for _, f := range c.Facts {
			lines := l.m.Wrap(f.Value, size, valueW+0.01)
			label, yy := f.Label+"：", y
			add(func() { l.text(x, yy+ascent(size), size, label, grey, false) })
			for _, s := range lines {
				s, yy := s, y
				add(func() { l.text(x+labelW, yy+ascent(size), size, s, ink, false) })
				y += lineH(size) + 1.5
			}
		}
	}
	if c.Notice != nil {
		h := l.noticeHeight(c.Notice)
		top := max(y+10, bodyBottom-h)
		n := c.Notice
		add(func() { l.drawNotice(n, top, h) })
	}
}

// chineseNumeral writes 1 to 99 in Chinese numerals.
func chineseNumeral(n int) string {
	digits := []rune("零一二三四五六七八九")
	switch {
	case n < 10:
		return string(digits[n])
	case n < 20:
		return "十" + strings.TrimPrefix(string(digits[n%10]), "零")
	case n < 100:
		s := string(digits[n/10]) + "十"
		if n%10 != 0 {
			s += string(digits[n%10])
		}
		return s
	}
	return fmt.Sprint(n)
}

func (l *layout) headingNumber(level int) string {
	l.numbers[level-1]++
	for i := level; i < len(l.numbers); i++ {
		l.numbers[i] = 0
	}
	n := l.numbers
	switch l.doc.Numbering {
	case NumberDecimal:
		parts := make([]string, level)
		for i := range parts {
			parts[i] = fmt.Sprint(n[i])
		}
		return strings.Join(parts, ".") + " "
	case NumberChinese:
		switch level {
		case 1:
			return chineseNumeral(n[0]) + "、"
		case 2:
			return "（" + chineseNumeral(n[1]) + "）"
		default:
			return fmt.Sprintf("%d. ", n[2])
		}
	}
	return ""
}

var headingSizes = [...]float64{15, 12.5, 11}

func (l *layout) heading(h *Heading) {
	level := min(max(h.Level, 1), 3)
	size := headingSizes[level-1]
	text := l.headingNumber(level) + h.Text
	lines := l.m.Wrap(text, size, textW)
	before := [...]float64{6, 4, 3}[level-1]
	height := float64(len(lines))*lineH(size) + 2
	// Keep the heading with the first lines of what follows it.
	l.ensure(before + height + 18)
	if l.y > bodyTop {
		l.y += before
	}
	bmLevel := 0
	switch {
	case level == 1:
		bmLevel = 1
		l.h1 = true
	case level == 2 && l.h1:
		bmLevel = 2
	case level == 2:
		bmLevel = 1
	}
	y := l.y
	l.add(func() {
		if bmLevel > 0 {
			l.m.Bookmark(text, bmLevel, y)
		}
	})
	for _, s := range lines {
		s, yy := s, l.y
		l.add(func() { l.text(marginX, yy+ascent(size), size, s, accent, true) })
		l.y += lineH(size)
	}
	if level == 1 {
		yy := l.y + 0.5
		l.add(func() { l.line(marginX, yy, pageW-marginX, yy, 0.4, accent) })
	}
	l.y += 2
}

func (l *layout) paragraph(p *Paragraph) {
	size, c := bodySize, ink
	if p.Small {
		size, c = smallSize, grey
	}
	for _, s := range l.m.Wrap(p.Text, size, textW) {
		l.ensure(lineH(size))
		s, yy := s, l.y
		l.add(func() { l.text(marginX, yy+ascent(size), size, s, c, false) })
		l.y += lineH(size)
	}
	l.y += 2
}

func (l *layout) kvList(k *KVList) {
	cols := max(k.Columns, 1)
	colW := textW / float64(cols)
	size := bodySize
	labelW := 0.0
	for _, it := range k.Items {
		labelW = max(labelW, l.m.Width(it.Label+"：", size))
	}
	labelW = min(labelW, colW*0.45)
	for start := 0; start < len(k.Items); start += cols {
		row := k.Items[start:min(start+cols, len(k.Items))]
		wrapped := make([][]string, len(row))
		n := 1
		for i, it := range row {
			wrapped[i] = l.m.Wrap(it.Value, size, colW-labelW-3)
			n = max(n, len(wrapped[i]))
		}
		h := float64(n) * lineH(size)
		l.ensure(h)
		for i, it := range row {
			x := marginX + float64(i)*colW
			label, lines, yy := it.Label+"：", wrapped[i], l.y
			l.add(func() {
				l.text(x, yy+ascent(size), size, label, grey, false)
				for j, s := range lines {
					l.text(x+labelW, yy+float64(j)*lineH(size)+ascent(size), size, s, ink, false)
				}
			})
		}
		l.y += h
	}
	l.y += 2
}

func (l *layout) noticeLines(n *Notice) []string { return l.m.Wrap(n.Text, bodySize, textW-10) }

func (l *layout) noticeHeight(n *Notice) float64 {
	h := float64(len(l.noticeLines(n)))*lineH(bodySize) + 8
	if n.Title != "" {
		h += lineH(11) + 1
	}
	return h
}

func (l *layout) drawNotice(n *Notice, top, h float64) {
	l.rect(marginX, top, textW, h, noteFill)
	l.rect(marginX, top, 1.2, h, accent)
	y := top + 4
	if n.Title != "" {
		l.text(marginX+5, y+ascent(11), 11, n.Title, accent, true)
		y += lineH(11) + 1
	}
	for _, s := range l.noticeLines(n) {
		l.text(marginX+5, y+ascent(bodySize), bodySize, s, ink, false)
		y += lineH(bodySize)
	}
}

func (l *layout) notice(n *Notice) {
	h := l.noticeHeight(n)
	l.ensure(h)
	top := l.y
	l.add(func() { l.drawNotice(n, top, h) })
	l.y += h + 3
}

// Tables.

const cellPad = 1.4

func (l *layout) table(t *Table) error {
	if len(t.Columns) == 0 {
		return errors.New("table without columns")
	}
	total := 0.0
	for _, c := range t.Columns {
		total += colWeight(c)
	}
	widths := make([]float64, len(t.Columns))
	for i, c := range t.Columns {
		widths[i] = textW * colWeight(c) / total
	}
	wrapRow := func(texts []string) ([][]string, float64) {
		out := make([][]string, len(texts))
		n := 1
		for i, s := range texts {
			out[i] = l.m.Wrap(s, tableSize, widths[i]-2*cellPad)
			n = max(n, len(out[i]))
		}
		return out, float64(n)*lineH(tableSize) + 2*cellPad
	}
	titles := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		titles[i] = c.Title
	}
	head, headH := wrapRow(titles)
	// A row never spans pages: a cell too long for one page is cut short
	// with an ellipsis rather than drawn over the footer.
	maxLines := int((bodyBottom - bodyTop - headH - lineH(bodySize) - 2*cellPad) / lineH(tableSize))
	clip := func(cells [][]string) ([][]string, float64) {
		n := 1
		for i, lines := range cells {
			if len(lines) > maxLines {
				lines = append(lines[:maxLines-1:maxLines-1], lines[maxLines-1]+"…")
				cells[i] = lines
			}
			n = max(n, len(lines))
		}
		return cells, float64(n)*lineH(tableSize) + 2*cellPad
	}
	drawHeader := func() {
		y := l.y
		l.add(func() {
			l.rect(marginX, y, textW, headH, Color{226, 233, 243})
			x := marginX
			for i, lines := range head {
				for j, s := range lines {
					l.textAligned(x+cellPad, widths[i]-2*cellPad, y+cellPad+float64(j)*lineH(tableSize)+ascent(tableSize), tableSize, s, accent, true, t.Columns[i].Align)
				}
				x += widths[i]
			}
			l.line(marginX, y+headH, pageW-marginX, y+headH, 0.3, accent)
		})
		l.y += headH
	}
	captionH := 0.0
	if t.Caption != "" {
		captionH = lineH(bodySize) + 1
	}
	texts := make([]string, len(t.Columns))
	for ri, row := range t.Rows {
		if len(row) != len(t.Columns) {
			return fmt.Errorf("table row %d has %d cells for %d columns", ri+1, len(row), len(t.Columns))
		}
		for i, c := range row {
			texts[i] = c.Text
		}
		cells, _ := wrapRow(texts)
		cells, h := clip(cells)
		if ri == 0 {
			l.ensure(captionH + headH + h)
			if t.Caption != "" {
				s, yy := t.Caption, l.y
				l.add(func() { l.text(marginX, yy+ascent(bodySize), bodySize, s, ink, true) })
				l.y += captionH
			}
			drawHeader()
		} else if l.y+h > bodyBottom {
			l.newPage()
			drawHeader()
		}
		y, zebra, row := l.y, !t.Plain && ri%2 == 1, row
		l.add(func() {
			if zebra {
				l.rect(marginX, y, textW, h, Color{245, 247, 250})
			}
			x := marginX
			for i, lines := range cells {
				indent := 0.0
				if lc := LevelColor(row[i].Mark); !lc.isZero() {
					l.rect(x, y, widths[i], h, tint(lc, 0.78))
					l.rect(x, y, 1.2, h, lc)
					indent = 1.2
				}
				for j, s := range lines {
					l.textAligned(x+cellPad+indent, widths[i]-2*cellPad-indent, y+cellPad+float64(j)*lineH(tableSize)+ascent(tableSize), tableSize, s, ink, false, t.Columns[i].Align)
				}
				x += widths[i]
			}
			l.line(marginX, y+h, pageW-marginX, y+h, 0.1, rule)
		})
		l.y += h
	}
	if len(t.Rows) == 0 {
		l.ensure(captionH + headH)
		if t.Caption != "" {
			s, yy := t.Caption, l.y
			l.add(func() { l.text(marginX, yy+ascent(bodySize), bodySize, s, ink, true) })
			l.y += captionH
		}
		drawHeader()
	}
	l.y += 4
	return nil
}

func colWeight(c Column) float64 {
	if c.Width <= 0 {
		return 1
	}
	return c.Width
}
