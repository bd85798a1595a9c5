package printout

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf16"

	"golang.org/x/image/font/gofont/goregular"
)

// The tests read the PDFs back with poppler-utils, as a reader's viewer
// would: `make unit` installs it (see the Makefile's poppler target).
// Without it they fail rather than skip, so a machine that cannot check
// the PDFs never reports them as checked.
func poppler(t *testing.T, tool string) string {
	t.Helper()
	path, err := exec.LookPath(tool)
	if err != nil {
		t.Fatalf("%s is missing: install Debian's poppler-utils (make unit does) to check the PDFs", tool)
	}
	return path
}

func testFonts(t testing.TB) *Fonts {
	t.Helper()
	f, err := LoadFonts(DefaultCJKFont)
	if err != nil {
		t.Fatal(err) // make unit installs fonts-droid-fallback
	}
	return f
}

func render(t testing.TB, docs ...*Document) string {
	t.Helper()
	var buf bytes.Buffer
	if err := Render(&buf, testFonts(t), docs...); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "out.pdf")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// pageText extracts the text of pages first to last (0: all) with the
// layout kept, so that a row of a table or a label and its value read as
// one line.
func pageText(t *testing.T, pdf string, first, last int) string {
	t.Helper()
	args := []string{"-layout", "-enc", "UTF-8"}
	if first > 0 {
		args = append(args, "-f", fmt.Sprint(first), "-l", fmt.Sprint(last))
	}
	out, err := exec.Command(poppler(t, "pdftotext"), append(args, pdf, "-")...).CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	return string(out)
}

func pages(t *testing.T, pdf string) int {
	t.Helper()
	out, err := exec.Command(poppler(t, "pdfinfo"), pdf).CombinedOutput()
	if err != nil {
		t.Fatalf("pdfinfo: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`(?m)^Pages:\s+(\d+)`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("pdfinfo gave no page count:\n%s", out)
	}
	var n int
	fmt.Sscan(m[1], &n)
	return n
}

// squeeze drops all white space: pdftotext spaces runs of text as the
// page lays them out, which is not what these tests are about.
func squeeze(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}

// inOrder fails unless every want occurs in text, each after the last.
func inOrder(t *testing.T, text string, want ...string) {
	t.Helper()
	rest := squeeze(text)
	for _, w := range want {
		i := strings.Index(rest, squeeze(w))
		if i < 0 {
			t.Fatalf("%q is missing or out of order in the PDF's text:\n%s", w, text)
		}
		rest = rest[i+len(squeeze(w)):]
	}
}

func TestTextReadsBackInOrder(t *testing.T) {
	pdf := render(t, sampleDoc())
	text := pageText(t, pdf, 0, 0)
	inOrder(t, text,
		"内部资料 注意保密",
		"2026 年秋季心理普测团体报告", "阳光中学 七年级",
		"测评活动：2026 年秋季心理普测", "报告日期：2026 年 10 月 12 日",
		"本报告为心理筛查结果，不构成任何临床诊断。",
		"阳光中学 · 2026 年秋季心理普测", // the running header
		"一、参与情况",
		"名册人数：612", "完成：598", "有效：590",
		"本次普测名册共 612 人，完成 598 人（97.7%），其中有效答卷 590 份。",
		"Mini-IPIP 外向性 Extraversion 得分 3.25",
		"二、预警分布",
		"表 1 各班预警人数", "班级 一级 二级 三级", "七（1）班 2 4 6", "七（2）班 1 3 8",
		"（一）抑郁筛查（PHQ-9）分级",
		"第 1 页 / 共 2 页",
		"三、附录", "第 2 页 / 共 2 页",
	)
	if n := pages(t, pdf); n != 3 {
		t.Fatalf("%d pages, want the cover and 2 body pages", n)
	}
}

func TestFontsAreEmbeddedAsSubsets(t *testing.T) {
	pdf := render(t, sampleDoc())
	out, err := exec.Command(poppler(t, "pdffonts"), pdf).CombinedOutput()
	if err != nil {
		t.Fatalf("pdffonts: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")[2:]
	if len(lines) != 2 {
		t.Fatalf("want the CJK and the Latin font, got:\n%s", out)
	}
	for _, l := range lines {
		// name type type encoding emb sub uni id gen
		f := strings.Fields(l)
		if len(f) < 8 || f[len(f)-5] != "yes" || f[len(f)-3] != "yes" {
			t.Fatalf("a font is not embedded with a Unicode map: %q", l)
		}
	}
	// The CJK font is 4 MB; only the glyphs used may travel.
	info, err := os.Stat(pdf)
	if err != nil {
		t.Fatal(err)
	}
	if info.Size() > 300_000 {
		t.Fatalf("the PDF is %d bytes: the fonts are not subset", info.Size())
	}
}

func TestTableHeaderRepeatsOnEveryPage(t *testing.T) {
	table := &Table{Caption: "重点关注名单", Columns: []Column{
		{Title: "序号", Align: Right}, {Title: "姓名", Width: 2}, {Title: "班级", Width: 2}, {Title: "预警", Width: 2},
	}}
	for i := 1; i <= 150; i++ {
		table.Rows = append(table.Rows, []Cell{{Text: fmt.Sprint(i)}, {Text: "张**"}, {Text: "七（3）班"}, {Text: "一级预警", Mark: 1}})
	}
	doc := &Document{Title: "名单", PageFormat: "第 %d 页 / 共 %d 页", Blocks: []Block{table}}
	pdf := render(t, doc)
	n := pages(t, pdf)
	if n < 3 {
		t.Fatalf("150 rows on %d pages", n)
	}
	last := 0
	for p := 1; p <= n; p++ {
		text := pageText(t, pdf, p, p)
		inOrder(t, text, "序号 姓名 班级 预警")
		inOrder(t, text, fmt.Sprintf("第 %d 页 / 共 %d 页", p, n))
		// Rows continue where the last page stopped, none lost or repeated.
		for _, m := range regexp.MustCompile(`(?m)^\s*(\d+)\s+张\*\*`).FindAllStringSubmatch(text, -1) {
			var row int
			fmt.Sscan(m[1], &row)
			if row != last+1 {
				t.Fatalf("page %d: row %d follows row %d", p, row, last)
			}
			last = row
		}
	}
	if last != 150 {
		t.Fatalf("the last row read back is %d of 150", last)
	}
}

func TestBoundDocumentsNumberAndBookmarkEachOwn(t *testing.T) {
	var docs []*Document
	for _, name := range []string{"张**", "李**", "王**"} {
		docs = append(docs, &Document{
			Title: "个人报告 " + name, PageFormat: "%d / %d",
			Blocks: []Block{&Heading{Level: 1, Text: "测评结果"}, &Paragraph{Text: name + " 的结果"}},
		})
	}
	docs[1].Blocks = append(docs[1].Blocks, &PageBreak{}, &Paragraph{Text: "第二页"})
	pdf := render(t, docs...)
	if n := pages(t, pdf); n != 4 {
		t.Fatalf("%d pages, want 1 + 2 + 1", n)
	}
	for p, want := range []string{"张** 的结果 1 / 1", "李** 的结果 1 / 2", "第二页 2 / 2", "王** 的结果 1 / 1"} {
		inOrder(t, pageText(t, pdf, p+1, p+1), want)
	}
	raw, err := os.ReadFile(pdf)
	if err != nil {
		t.Fatal(err)
	}
	// fpdf writes outline titles as UTF-16BE strings, outside compressed
	// streams; each document and each of its sections has one.
	for _, d := range docs {
		for _, title := range []string{d.Title, "测评结果"} {
			if !bytes.Contains(raw, utf16BE(title)) {
				t.Fatalf("no bookmark %q", title)
			}
		}
	}
	if n := bytes.Count(raw, []byte("/Parent")); n < 6 {
		t.Fatalf("%d outline entries with a parent, want at least 3 documents and 3 sections", n)
	}
}

func utf16BE(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u>>8), byte(u))
	}
	return b
}

// png renders page p at 50 dpi.
func pagePNG(t *testing.T, pdf string, p int) image.Image {
	t.Helper()
	prefix := filepath.Join(t.TempDir(), "page")
	out, err := exec.Command(poppler(t, "pdftoppm"), "-r", "50", "-png", "-singlefile", "-f", fmt.Sprint(p), "-l", fmt.Sprint(p), pdf, prefix).CombinedOutput()
	if err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, out)
	}
	f, err := os.Open(prefix + ".png")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// share counts the pixels of img within r (in mm of the page) close to c,
// as a fraction of all pixels in r, and the fraction that is not white.
func share(img image.Image, r [4]float64, c Color) (match, inked float64) {
	b := img.Bounds()
	sx, sy := float64(b.Dx())/pageW, float64(b.Dy())/pageH
	n := 0
	var hits, ink int
	for y := int(r[1] * sy); y < int(r[3]*sy); y++ {
		for x := int(r[0] * sx); x < int(r[2]*sx); x++ {
			pr, pg, pb, _ := img.At(x, y).RGBA()
			R, G, B := int(pr>>8), int(pg>>8), int(pb>>8)
			n++
			if abs(R-int(c.R)) < 20 && abs(G-int(c.G)) < 20 && abs(B-int(c.B)) < 20 {
				hits++
			}
			if R < 240 || G < 240 || B < 240 {
				ink++
			}
		}
	}
	return float64(hits) / float64(n), float64(ink) / float64(n)
}

func abs(x int) int { return max(x, -x) }

func TestChartsDrawInTheLevelColours(t *testing.T) {
	levels := []Series{
		{Name: "一级", Values: []float64{3, 1, 2}, Color: LevelColor(1)},
		{Name: "二级", Values: []float64{4, 5, 2}, Color: LevelColor(2)},
		{Name: "三级", Values: []float64{6, 3, 7}, Color: LevelColor(3)},
	}
	cats := []string{"七（1）班", "七（2）班", "七（3）班"}
	charts := []Block{
		&BarChart{Title: "堆叠 竖向", Categories: cats, Series: levels, Stacked: true, ValueLabels: true, Height: 120},
		&BarChart{Title: "分组 横向", Categories: cats, Series: levels, Horizontal: true, ValueLabels: true, Height: 120},
		&ProfileChart{Title: "人格剖面", Min: 20, Max: 80, NormLow: 40, NormHigh: 60, NormLabel: "常模平均范围",
			Dimensions: []ProfileBar{{Label: "外向性", Value: 72, Text: "T=72", Mark: 1}, {Label: "宜人性", Value: 55, Text: "T=55", Mark: 2}, {Label: "尽责性", Value: 35, Text: "T=35", Mark: 3}}},
	}
	var blocks []Block
	for i, c := range charts {
		if i > 0 {
			blocks = append(blocks, &PageBreak{})
		}
		blocks = append(blocks, c)
	}
	pdf := render(t, &Document{Title: "图表", Blocks: blocks})
	if n := pages(t, pdf); n != 3 {
		t.Fatalf("%d pages for 3 charts on their own pages", n)
	}
	for p := 1; p <= 3; p++ {
		img := pagePNG(t, pdf, p)
		// The chart fills the area under its title; the rest of the page
		// (below 160 mm) is empty but for the footer.
		area := [4]float64{marginX, bodyTop + 8, pageW - marginX, bodyTop + 60}
		_, inked := share(img, area, Color{})
		if inked < 0.05 {
			t.Fatalf("page %d: the chart area is blank (%.3f inked)", p, inked)
		}
		for _, c := range []Color{Red, Orange, Yellow} {
			if m, _ := share(img, [4]float64{0, 0, pageW, pageH}, c); m < 0.002 {
				t.Fatalf("page %d: hardly any %v (%.4f of the page)", p, c, m)
			}
		}
		if _, inked := share(img, [4]float64{marginX, 170, pageW - marginX, bodyBottom}, Color{}); inked > 0.01 {
			t.Fatalf("page %d: ink below the chart (%.3f): the layout overflowed", p, inked)
		}
	}
}

func TestMissingOrWrongFontIsErrNoFont(t *testing.T) {
	if _, err := LoadFonts(filepath.Join(t.TempDir(), "none.ttf")); !errors.Is(err, ErrNoFont) || !strings.Contains(err.Error(), "fonts-droid-fallback") {
		t.Fatalf("a missing font gave %v", err)
	}
	if _, err := NewFonts([]byte("not a font")); !errors.Is(err, ErrNoFont) {
		t.Fatalf("a non-font gave %v", err)
	}
	if _, err := NewFonts(goregular.TTF); !errors.Is(err, ErrNoFont) {
		t.Fatalf("a font without Chinese gave %v", err)
	}
	if err := Render(&bytes.Buffer{}, nil, &Document{Title: "x"}); !errors.Is(err, ErrNoFont) {
		t.Fatalf("Render without fonts gave %v", err)
	}
}

func TestBadModelsAreErrorsNotPanics(t *testing.T) {
	fonts := testFonts(t)
	for name, doc := range map[string]*Document{
		"no title":         {Blocks: []Block{&Paragraph{Text: "x"}}},
		"short row":        {Title: "t", Blocks: []Block{&Table{Columns: []Column{{Title: "a"}, {Title: "b"}}, Rows: [][]Cell{{{Text: "1"}}}}}},
		"no columns":       {Title: "t", Blocks: []Block{&Table{}}},
		"series too short": {Title: "t", Blocks: []Block{&BarChart{Categories: []string{"a", "b"}, Series: []Series{{Values: []float64{1}}}}}},
		"negative bar":     {Title: "t", Blocks: []Block{&BarChart{Categories: []string{"a"}, Series: []Series{{Values: []float64{-1}}}}}},
		"empty chart":      {Title: "t", Blocks: []Block{&BarChart{}}},
		"empty scale":      {Title: "t", Blocks: []Block{&ProfileChart{Min: 5, Max: 5, Dimensions: []ProfileBar{{Label: "a"}}}}},
		"nil block":        {Title: "t", Blocks: []Block{nil}},
	} {
		if err := Render(&bytes.Buffer{}, fonts, doc); err == nil {
			t.Errorf("%s: rendered", name)
		}
	}
	if err := Render(&bytes.Buffer{}, fonts); err == nil {
		t.Error("no documents: rendered")
	}
}

func TestNiceScale(t *testing.T) {
	for _, c := range []struct{ v, step, top float64 }{{15, 5, 15}, {152, 50, 200}, {0, 1, 5}, {1, 0.2, 1}, {97.5, 20, 100}} {
		if step, top := niceScale(c.v); step != c.step || top != c.top {
			t.Errorf("niceScale(%v) = %v, %v; want %v, %v", c.v, step, top, c.step, c.top)
		}
	}
}

func TestChineseHeadingNumbers(t *testing.T) {
	for n, want := range map[int]string{1: "一", 10: "十", 12: "十二", 20: "二十", 35: "三十五"} {
		if got := chineseNumeral(n); got != want {
			t.Errorf("%d: %q, want %q", n, got, want)
		}
	}
}

// Nothing may be drawn over the footer, however much a block holds: a
// long cell is cut short, a tall chart drawn with thinner bars.
func TestOversizedBlocksStayOnTheirPage(t *testing.T) {
	var cats []string
	var vals []float64
	var dims []ProfileBar
	for i := range 80 {
		cats = append(cats, fmt.Sprintf("第%d类", i+1))
		vals = append(vals, float64(i))
		dims = append(dims, ProfileBar{Label: fmt.Sprintf("维度%d", i+1), Value: 50, Text: "T=50"})
	}
	long := strings.Repeat("很长的说明文字。", 400)
	doc := &Document{Title: "超长", PageFormat: "%d / %d", Blocks: []Block{
		&Table{Columns: []Column{{Title: "说明"}}, Rows: [][]Cell{{{Text: long}}, {{Text: "下一行"}}}},
		&PageBreak{},
		&BarChart{Categories: cats, Horizontal: true, Series: []Series{{Name: "人数", Values: vals, Color: Red}}},
		&PageBreak{},
		&ProfileChart{Min: 20, Max: 80, Dimensions: dims},
	}}
	pdf := render(t, doc)
	n := pages(t, pdf)
	if n != 3 { // the table, the chart, the profile
		t.Fatalf("%d pages", n)
	}
	inOrder(t, pageText(t, pdf, 1, 1), "很长的说明文字。", "…", "下一行", "1 / 3")
	for p := 1; p <= n; p++ {
		img := pagePNG(t, pdf, p)
		// Between the body's foot and the footer's rule nothing is drawn.
		if _, inked := share(img, [4]float64{marginX, bodyBottom + 0.5, pageW - marginX, footerBase - 6}, Color{}); inked > 0 {
			t.Fatalf("page %d: drawn over the footer (%.3f inked)", p, inked)
		}
	}
}

// Fonts are loaded once per server and shared by concurrent downloads.
func TestConcurrentRendersShareFonts(t *testing.T) {
	fonts := testFonts(t)
	errs := make(chan error, 4)
	for range 4 {
		go func() { errs <- Render(io.Discard, fonts, sampleDoc()) }()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// Every string Strings lists is in the rendered PDF, and every model
// string the sample prints is listed: a label scan over Strings is a scan
// of the page.
func TestStringsListWhatThePagesPrint(t *testing.T) {
	doc := sampleDoc()
	doc.Blocks = append(doc.Blocks, &ProfileChart{Title: "人格剖面", Min: 20, Max: 80, NormLabel: "常模范围",
		Dimensions: []ProfileBar{{Label: "外向性", Value: 60, Text: "T=60"}}})
	list := doc.Strings()
	text := squeeze(pageText(t, render(t, doc), 0, 0))
	for _, s := range list {
		if s == doc.Title {
			continue // the bookmark, not on a page
		}
		for _, line := range strings.Split(s, "\n") {
			if !strings.Contains(text, squeeze(line)) {
				t.Errorf("Strings lists %q, which the PDF does not print", line)
			}
		}
	}
	joined := strings.Join(list, "|")
	for _, want := range []string{"内部资料 注意保密", "报告日期", "七（2）班", "二级预警", "外向性", "T=60", "常模范围", "表 1 各班预警人数"} {
		if !strings.Contains(joined, want) {
			t.Errorf("Strings misses %q", want)
		}
	}
}

// fpdf v0.9.0 panics while writing a font that was asked for a character
// beyond the Basic Multilingual Plane: a pupil named 张𠮷 or an emoji in a
// note must print, with 〓 where the character cannot be set, and the
// rest of the text intact.
func TestCharactersBeyondTheBMPPrintAsGeta(t *testing.T) {
	doc := &Document{Title: "个人报告 张𠮷", Blocks: []Block{
		&Heading{Level: 1, Text: "张𠮷 的结果"},
		&Paragraph{Text: "姓名：张𠮷丽\t备注：😀 好 12"},
		&Table{Columns: []Column{{Title: "姓名"}}, Rows: [][]Cell{{{Text: "𠮷"}}}},
	}}
	inOrder(t, pageText(t, render(t, doc), 0, 0), "张〓 的结果", "姓名：张〓丽 备注：〓 好 12", "姓名", "〓")
}
