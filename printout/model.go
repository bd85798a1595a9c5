// Package printout renders print-ready A4 PDFs from a small, neutral print
// model: documents of headings, paragraphs, key-value blocks, tables, bar
// charts and profile charts, each already in the reader's language. It
// knows nothing of campaigns, instruments or stores: whoever builds a report
// turns its data into a Document, and Render lays it out, paginates it,
// numbers its pages and bookmarks its sections.
//
// Rendering is pure Go (github.com/go-pdf/fpdf), so the single server binary
// prints without a browser. Chinese is set in a CJK TrueType font read from
// disk (Debian's fonts-droid-fallback by default), Latin letters and digits
// in the Go fonts compiled into the binary; both are embedded as subsets.
// See docs/printing.md.
package printout

// Document is one report: an optional cover, then body blocks laid out on
// A4 pages. Several documents bound by Render each start on a new page and
// number their own pages.
type Document struct {
	// Title names the document in the PDF outline (bookmarks) and, when
	// several are bound, tells them apart. Required.
	Title string
	// Header is printed at the top left of every body page, e.g. the unit
	// and campaign; Marking at the top right, e.g. 内部资料 注意保密.
	Header  string
	Marking string
	// Footer is printed at the bottom left of every body page.
	Footer string
	// PageFormat formats the page number at the bottom centre from the page
	// and the document's body page count, e.g. "第 %d 页 / 共 %d 页".
	// Empty means "%d / %d". The cover is not counted.
	PageFormat string
	// Numbering numbers headings: NumberNone, NumberDecimal (1, 1.1, 1.1.1)
	// or NumberChinese (一、 (一) 1.).
	Numbering Numbering
	Cover     *Cover
	Blocks    []Block
}

// Cover is the first page of a document: title, subtitle, facts such as
// the unit, campaign and date, a confidentiality marking and a boxed
// notice such as "this is not a diagnosis".
type Cover struct {
	Title    string
	Subtitle string
	// Marking is printed boxed at the top right, e.g. 内部资料 注意保密.
	Marking string
	// Facts are printed as label: value lines under the title.
	Facts []KV
	// Notice is the boxed text near the foot of the cover.
	Notice *Notice
}

// Numbering selects how headings are numbered.
type Numbering int

const (
	NumberNone    Numbering = iota
	NumberDecimal           // 1  1.1  1.1.1
	NumberChinese           // 一、  （一）  1.
)

// Block is one element of a document body: *Heading, *Paragraph, *KVList,
// *Table, *BarChart, *ProfileChart, *Notice or *PageBreak.
type Block interface{ block() }

// Heading starts a section. Levels 1 and 2 are bookmarked in the outline;
// a heading is never left alone at the foot of a page.
type Heading struct {
	Level int // 1, 2 or 3
	Text  string
}

// Paragraph is running text, wrapped to the page width (between any two
// Chinese characters, between Latin words). A "\n" starts a new line.
type Paragraph struct {
	Text  string
	Small bool // smaller and grey, for notes and sources
}

// KV is a labelled value.
type KV struct {
	Label string
	Value string
}

// KVList prints label: value pairs in Columns columns (1 when zero).
type KVList struct {
	Items   []KV
	Columns int
}

// Notice is boxed text with an optional title, e.g. the disclaimer that a
// screening is not a diagnosis.
type Notice struct {
	Title string
	Text  string
}

// PageBreak starts a new page.
type PageBreak struct{}

// Align is a table column's alignment.
type Align int

const (
	Left Align = iota
	Right
	Center
)

// Column describes a table column. Widths are relative weights: the table
// always spans the text width.
type Column struct {
	Title string
	Width float64 // relative weight; zero counts as 1
	Align Align   // Right for numbers
}

// Cell is one table cell. Mark colours the cell for a warning level.
type Cell struct {
	Text string
	Mark Level
}

// Table is a table whose header row is repeated on every page it spans.
// Rows alternate in shade (zebra) unless Plain.
type Table struct {
	Caption string
	Columns []Column
	Rows    [][]Cell
	Plain   bool
}

// Level is a warning level: 1 is the most urgent (red), 2 orange, 3
// yellow; 0 is no level.
type Level int

// Series is one set of values in a bar chart, one value per category.
type Series struct {
	Name   string
	Values []float64
	Color  Color // zero picks the next colour of the default palette
}

// BarChart draws grouped or stacked bars, vertical or horizontal, with a
// legend, axis labels and optionally the values on the bars.
type BarChart struct {
	Title        string
	Categories   []string
	Series       []Series
	Stacked      bool
	Horizontal   bool
	ValueAxis    string // label of the value axis, e.g. 人数
	CategoryAxis string // label of the category axis, e.g. 班级
	ValueLabels  bool
	Decimals     int    // decimals of value labels and ticks
	Unit         string // suffix of value labels and ticks, e.g. %
	Max          float64
	// Height in mm; zero chooses one from the number of bars.
	Height float64
}

// ProfileBar is one dimension of a profile chart.
type ProfileBar struct {
	Label string
	Value float64
	Text  string // printed at the end of the bar, e.g. "T=62 偏高"
	Mark  Level  // colours the bar for a warning level
}

// ProfileChart draws one horizontal bar per dimension on a common scale,
// over a shaded norm band, for an individual's factor profile.
type ProfileChart struct {
	Title      string
	Min, Max   float64 // the scale, e.g. 20 and 80 for T-scores
	NormLow    float64 // the shaded band, e.g. 40 to 60; both zero: none
	NormHigh   float64
	NormLabel  string // legend of the band, e.g. 常模平均范围 (T 40–60)
	Ticks      []float64
	Dimensions []ProfileBar
}

func (*Heading) block()      {}
func (*Paragraph) block()    {}
func (*KVList) block()       {}
func (*Notice) block()       {}
func (*PageBreak) block()    {}
func (*Table) block()        {}
func (*BarChart) block()     {}
func (*ProfileChart) block() {}
