package printout

import (
	"errors"
	"fmt"
	"math"
	"strconv"
)

const (
	chartSize = 8.0  // labels and ticks, pt
	titleSize = 10.5 // chart title, pt
	swatch    = 3.0  // legend swatch, mm
)

var (
	gridColor = Color{225, 225, 225}
	axisColor = Color{120, 120, 120}
	barBlue   = Color{30, 100, 170}
	normFill  = Color{214, 230, 246}
)

// niceScale returns a tick step and an axis maximum at or above v: steps
// of 1, 2 or 5 times a power of ten, about five of them.
func niceScale(v float64) (step, top float64) {
	if v <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 1, 5
	}
	raw := v / 5
	exp := math.Pow(10, math.Floor(math.Log10(raw)))
	step = 10 * exp
	for _, m := range []float64{1, 2, 5} {
		if m*exp >= raw {
			step = m * exp
			break
		}
	}
	return step, math.Ceil(v/step-1e-9) * step
}

// tickDecimals prints whole-numbered ticks without decimals, whatever the
// labels on the bars use.
func tickDecimals(step float64, decimals int) int {
	if step == math.Trunc(step) {
		return 0
	}
	return max(decimals, 1)
}

func formatValue(v float64, decimals int, unit string) string {
	return strconv.FormatFloat(v, 'f', max(decimals, 0), 64) + unit
}

// chartColors gives each series its colour, the palette filling in.
func chartColors(series []Series) []Color {
	out := make([]Color, len(series))
	next := 0
	for i, s := range series {
		if s.Color.isZero() {
			out[i] = palette[next%len(palette)]
			next++
		} else {
			out[i] = s.Color
		}
	}
	return out
}

// legend lays out swatches and names in rows across width; it returns its
// height and a function that draws it with its top at y.
func (l *layout) legend(names []string, colors []Color, width float64) (float64, func(x, y float64)) {
	type item struct {
		x, row float64
		name   string
		c      Color
	}
	var items []item
	x, row := 0.0, 0.0
	for i, n := range names {
		w := swatch + 1.5 + l.m.Width(n, chartSize) + 5
		if x > 0 && x+w > width {
			x, row = 0, row+1
		}
		items = append(items, item{x, row, n, colors[i]})
		x += w
	}
	if len(items) == 0 {
		return 0, func(float64, float64) {}
	}
	pitch := lineH(chartSize) + 0.5
	h := (row + 1) * pitch
	return h, func(x0, y0 float64) {
		for _, it := range items {
			y := y0 + it.row*pitch
			l.rect(x0+it.x, y+0.4, swatch, swatch, it.c)
			l.text(x0+it.x+swatch+1.5, y+ascent(chartSize)-0.2, chartSize, it.name, ink, false)
		}
	}
}

// validate checks a bar chart's shape: one value per category per series,
// no negative or non-finite values.
func (b *BarChart) validate() error {
	if len(b.Categories) == 0 || len(b.Series) == 0 {
		return errors.New("bar chart without categories or series")
	}
	for _, s := range b.Series {
		if len(s.Values) != len(b.Categories) {
			return fmt.Errorf("bar chart series %q has %d values for %d categories", s.Name, len(s.Values), len(b.Categories))
		}
		for _, v := range s.Values {
			if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("bar chart series %q has the value %v; bars start at zero", s.Name, v)
			}
		}
	}
	return nil
}

func (b *BarChart) top() float64 {
	m := 0.0
	for c := range b.Categories {
		sum := 0.0
		for _, s := range b.Series {
			if b.Stacked {
				sum += s.Values[c]
			} else {
				sum = max(sum, s.Values[c])
			}
		}
		m = max(m, sum)
	}
	if b.Max > 0 {
		m = max(m, b.Max)
	}
	return m
}

// bar is one drawn rectangle with its value.
type bar struct {
	x, y, w, h float64
	c          Color
	v          float64
}

func (l *layout) barChart(b *BarChart) error {
	if err := b.validate(); err != nil {
		return err
	}
	colors := chartColors(b.Series)
	names := make([]string, 0, len(b.Series))
	for _, s := range b.Series {
		if s.Name != "" {
			names = append(names, s.Name)
		}
	}
	nCat, nSer := float64(len(b.Categories)), float64(len(b.Series))
	perCat := nSer
	if b.Stacked {
		perCat = 1
	}
	step, top := niceScale(b.top())
	if b.Max > 0 && b.Max >= b.top() {
		top = b.Max
		step, _ = niceScale(top)
	}
	legendH, drawLegend := 0.0, func(float64, float64) {}
	if len(names) > 1 || (len(names) == 1 && b.Stacked) {
		legendH, drawLegend = l.legend(names, colors[:len(names)], textW)
		legendH += 2
	}
	titleH := 0.0
	if b.Title != "" {
		titleH = lineH(titleSize) + 1
	}
	tickW := 0.0
	for v := 0.0; v <= top+step/2; v += step {
		tickW = max(tickW, l.m.Width(formatValue(v, tickDecimals(step, b.Decimals), b.Unit), chartSize))
	}
	small := lineH(chartSize)

	var plotX, plotY, plotW, plotH, height float64
	var catLines [][]string
	if b.Horizontal {
		labelW := 0.0
		for _, c := range b.Categories {
			labelW = max(labelW, l.m.Width(c, chartSize))
		}
		labelW = min(labelW, textW*0.3) + 2
		for _, c := range b.Categories {
			catLines = append(catLines, l.m.Wrap(c, chartSize, labelW-2))
		}
		plotX, plotW = marginX+labelW, textW-labelW-tickW/2-2
		plotH = b.Height
		if plotH <= 0 {
			plotH = nCat * (perCat*4.5 + 3)
		}
		height = titleH + legendH + small + 1
		if b.ValueAxis != "" || b.CategoryAxis != "" {
			height += small
		}
		// Many categories make thinner bars, not a chart over the footer.
		plotH = min(plotH, bodyBottom-bodyTop-height-2)
		height += plotH
	} else {
		plotX = marginX + tickW + 2
		plotW = textW - tickW - 2
		groupW := plotW / nCat
		maxLines := 1
		for _, c := range b.Categories {
			ls := l.m.Wrap(c, chartSize, groupW-1)
			if len(ls) > 2 {
				ls = ls[:2]
			}
			catLines = append(catLines, ls)
			maxLines = max(maxLines, len(ls))
		}
		plotH = b.Height
		if plotH <= 0 {
			plotH = 65
		}
		height = titleH + legendH + plotH + float64(maxLines)*small + 2
		if b.ValueAxis != "" {
			height += small
		}
		if b.CategoryAxis != "" {
			height += small
		}
	}
	l.ensure(height + 2)
	y0 := l.y
	if b.Title != "" {
		s := b.Title
		l.add(func() { l.text(marginX, y0+ascent(titleSize), titleSize, s, ink, true) })
	}
	legendY := y0 + titleH
	plotY = legendY + legendH
	if !b.Horizontal && b.ValueAxis != "" {
		plotY += small // the value axis label sits above the axis
	}

	// Place the bars.
	var bars []bar
	scale := func(v float64) float64 { return v / top }
	for c := range b.Categories {
		offset := 0.0
		for s, ser := range b.Series {
			v := ser.Values[c]
			frac := scale(v)
			slot := float64(s)
			if b.Stacked {
				slot = 0
			}
			if b.Horizontal {
				groupH := plotH / nCat
				th := groupH * 0.75 / perCat
				y := plotY + float64(c)*groupH + groupH*0.125 + slot*th
				x := plotX + offset*plotW
				bars = append(bars, bar{x, y, frac * plotW, th, colors[s], v})
			} else {
				groupW := plotW / nCat
				tw := groupW * 0.7 / perCat
				x := plotX + float64(c)*groupW + groupW*0.15 + slot*tw
				y := plotY + plotH - (offset+frac)*plotH
				bars = append(bars, bar{x, y, tw, frac * plotH, colors[s], v})
			}
			if b.Stacked {
				offset += frac
			}
		}
	}

	l.add(func() {
		drawLegend(marginX, legendY)
		// Grid and ticks.
		for v := 0.0; v <= top+step/2; v += step {
			label := formatValue(v, tickDecimals(step, b.Decimals), b.Unit)
			if b.Horizontal {
				x := plotX + scale(v)*plotW
				l.line(x, plotY, x, plotY+plotH, 0.1, gridColor)
				l.textAligned(x-20, 40, plotY+plotH+ascent(chartSize)+0.5, chartSize, label, grey, false, Center)
			} else {
				y := plotY + plotH - scale(v)*plotH
				l.line(plotX, y, plotX+plotW, y, 0.1, gridColor)
				l.textAligned(marginX, tickW, y+chartSize*ptToMM*0.35, chartSize, label, grey, false, Right)
			}
		}
		for _, br := range bars {
			if br.w > 0 && br.h > 0 {
				l.rect(br.x, br.y, br.w, br.h, br.c)
			}
		}
		// Axes.
		if b.Horizontal {
			l.line(plotX, plotY, plotX, plotY+plotH, 0.3, axisColor)
		} else {
			l.line(plotX, plotY+plotH, plotX+plotW, plotY+plotH, 0.3, axisColor)
		}
		// Category labels.
		for c, lines := range catLines {
			if b.Horizontal {
				groupH := plotH / nCat
				yc := plotY + (float64(c)+0.5)*groupH - float64(len(lines))*small/2
				for j, s := range lines {
					l.textAligned(marginX, plotX-marginX-2, yc+float64(j)*small+ascent(chartSize), chartSize, s, ink, false, Right)
				}
			} else {
				groupW := plotW / nCat
				for j, s := range lines {
					l.textAligned(plotX+float64(c)*groupW, groupW, plotY+plotH+1+float64(j)*small+ascent(chartSize), chartSize, s, ink, false, Center)
				}
			}
		}
		if b.ValueLabels {
			l.valueLabels(b, bars)
		}
		// Axis titles.
		maxLines := 0
		for _, ls := range catLines {
			maxLines = max(maxLines, len(ls))
		}
		if b.Horizontal {
			y := plotY + plotH + small + 1
			if b.ValueAxis != "" {
				l.textAligned(plotX, plotW, y+ascent(chartSize), chartSize, b.ValueAxis, grey, false, Right)
			}
			if b.CategoryAxis != "" {
				l.text(marginX, y+ascent(chartSize), chartSize, b.CategoryAxis, grey, false)
			}
		} else {
			if b.ValueAxis != "" {
				l.text(marginX, plotY-small+ascent(chartSize)-1, chartSize, b.ValueAxis, grey, false)
			}
			if b.CategoryAxis != "" {
				y := plotY + plotH + 1 + float64(maxLines)*small
				l.textAligned(plotX, plotW, y+ascent(chartSize), chartSize, b.CategoryAxis, grey, false, Center)
			}
		}
	})
	l.y += height + 4
	return nil
}

// valueLabels prints each bar's value: past the end of a grouped bar, in
// the middle of a stacked segment when it fits there.
func (l *layout) valueLabels(b *BarChart, bars []bar) {
	for _, br := range bars {
		if br.v == 0 && b.Stacked {
			continue
		}
		s := formatValue(br.v, b.Decimals, b.Unit)
		w := l.m.Width(s, chartSize-1)
		size := chartSize - 1
		switch {
		case b.Stacked && b.Horizontal:
			if br.w < w+1 {
				continue
			}
			l.text(br.x+(br.w-w)/2, br.y+br.h/2+size*ptToMM*0.35, size, s, labelInk(br.c), false)
		case b.Stacked:
			if br.h < lineH(size) || br.w < w {
				continue
			}
			l.text(br.x+(br.w-w)/2, br.y+br.h/2+size*ptToMM*0.35, size, s, labelInk(br.c), false)
		case b.Horizontal:
			l.text(br.x+br.w+1, br.y+br.h/2+size*ptToMM*0.35, size, s, ink, false)
		default:
			l.text(br.x+(br.w-w)/2, br.y-1, size, s, ink, false)
		}
	}
}

// labelInk is black or white, whichever reads better on c.
func labelInk(c Color) Color {
	if 0.299*float64(c.R)+0.587*float64(c.G)+0.114*float64(c.B) > 150 {
		return ink
	}
	return white
}

func (l *layout) profileChart(p *ProfileChart) error {
	if len(p.Dimensions) == 0 {
		return errors.New("profile chart without dimensions")
	}
	if !(p.Max > p.Min) {
		return fmt.Errorf("profile chart scale %v to %v is empty", p.Min, p.Max)
	}
	labelW, textColW := 0.0, 0.0
	for _, d := range p.Dimensions {
		labelW = max(labelW, l.m.Width(d.Label, chartSize+1))
		textColW = max(textColW, l.m.Width(d.Text, chartSize))
	}
	labelW = min(labelW, textW*0.3) + 3
	textColW = min(textColW, textW*0.3) + 3
	trackX, trackW := marginX+labelW, textW-labelW-textColW
	titleH := 0.0
	if p.Title != "" {
		titleH = lineH(titleSize) + 1
	}
	legendH := 0.0
	if p.NormLabel != "" {
		legendH = lineH(chartSize) + 2
	}
	small := lineH(chartSize)
	// Rows of 7 mm, thinner when there are too many for a page.
	rowH := min(7.0, (bodyBottom-bodyTop-titleH-legendH-small-4)/float64(len(p.Dimensions)))
	plotH := float64(len(p.Dimensions)) * rowH
	height := titleH + legendH + plotH + small + 2
	ticks := p.Ticks
	if len(ticks) == 0 {
		step, _ := niceScale(p.Max - p.Min)
		for v := math.Ceil(p.Min/step) * step; v <= p.Max+1e-9; v += step {
			ticks = append(ticks, v)
		}
	}
	l.ensure(height + 2)
	y0 := l.y
	plotY := y0 + titleH + legendH
	pos := func(v float64) float64 {
		v = min(max(v, p.Min), p.Max)
		return trackX + (v-p.Min)/(p.Max-p.Min)*trackW
	}
	l.add(func() {
		if p.Title != "" {
			l.text(marginX, y0+ascent(titleSize), titleSize, p.Title, ink, true)
		}
		if p.NormLabel != "" {
			y := y0 + titleH
			l.rect(trackX, y+0.4, swatch*2, swatch, normFill)
			l.text(trackX+swatch*2+1.5, y+ascent(chartSize)-0.2, chartSize, p.NormLabel, ink, false)
		}
		if p.NormHigh > p.NormLow {
			x1, x2 := pos(p.NormLow), pos(p.NormHigh)
			l.rect(x1, plotY, x2-x1, plotH, normFill)
		}
		for _, v := range ticks {
			x := pos(v)
			l.line(x, plotY, x, plotY+plotH, 0.1, gridColor)
			l.textAligned(x-15, 30, plotY+plotH+1+ascent(chartSize), chartSize, strconv.FormatFloat(v, 'f', -1, 64), grey, false, Center)
		}
		l.line(trackX, plotY, trackX, plotY+plotH, 0.3, axisColor)
		for i, d := range p.Dimensions {
			y := plotY + float64(i)*rowH
			c := barBlue
			if lc := LevelColor(d.Mark); !lc.isZero() {
				c = lc
			}
			l.rect(trackX, y+rowH*0.2, pos(d.Value)-trackX, rowH*0.6, c)
			l.textAligned(marginX, labelW-3, y+rowH/2+(chartSize+1)*ptToMM*0.35, chartSize+1, d.Label, ink, false, Right)
			l.text(pos(d.Value)+1.5, y+rowH/2+chartSize*ptToMM*0.35, chartSize, d.Text, ink, false)
		}
	})
	l.y += height + 4
	return nil
}
