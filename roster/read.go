package roster

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
)

var (
	zipMagic = []byte("PK\x03\x04")
	oleMagic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}
	pdfMagic = []byte("%PDF-")
)

// rawRow is one non-empty row with the row number the spreadsheet shows.
type rawRow struct {
	line  int
	cells []string
}

type table struct {
	rows     []rawRow
	notices  []string
	date1904 bool // serial day numbers count from 1904 (old Mac workbooks)
}

// maxUnzip bounds a workbook's uncompressed size. Setting the in-memory
// limit equal to it keeps excelize from spilling worksheets to a temporary
// file, which would put students' names on disk outside the encrypted store.
const maxUnzip = 64 << 20

// readXLSX keeps at most limit non-empty rows of the first visible sheet that
// has a roster header. Cell values are read raw: a date cell then gives its
// serial number, which we convert ourselves, rather than whatever display
// format the school's Excel happened to use.
func readXLSX(data []byte, limit int) (t *table, err error) {
	// excelize is a large parser fed untrusted bytes; a panic in it must
	// become a refused upload, not a crashed request.
	defer func() {
		if p := recover(); p != nil {
			t, err = nil, errorf(CodeUnreadable, "无法读取这个 Excel 文件", "this Excel file cannot be read")
		}
	}()
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{
		RawCellValue: true, UnzipSizeLimit: maxUnzip, UnzipXMLSizeLimit: maxUnzip,
	})
	if err != nil {
		if strings.Contains(err.Error(), "unzip size") {
			return nil, errorf(CodeTooLarge, "Excel 文件解压后过大，请删除无关的工作表和格式后再上传",
				"the workbook is too large once unpacked; remove other sheets and formatting")
		}
		return nil, errorf(CodeUnreadable, "无法读取这个 Excel 文件（%v）", "this Excel file cannot be read (%v)", err)
	}
	defer f.Close()
	t = &table{}
	if p, err := f.GetWorkbookProps(); err == nil && p.Date1904 != nil {
		t.date1904 = *p.Date1904
	}
	sheets := f.GetSheetList()
	var visible []string
	for _, s := range sheets {
		if ok, err := f.GetSheetVisible(s); err != nil || ok {
			visible = append(visible, s)
		}
	}
	var first []rawRow
	for i, s := range visible {
		rows, err := readSheet(f, s, limit)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			first = rows
		}
		if _, _, herr := findHeader(rows); herr == nil {
			t.rows = rows
			if len(visible) > 1 {
				t.notices = append(t.notices, fmt.Sprintf("工作簿有 %d 个工作表，已读取“%s” / the workbook has %d sheets; read %q",
					len(visible), s, len(visible), s))
			}
			return t, nil
		}
	}
	// No sheet has a header; let parseTable report what the first one lacks.
	t.rows = first
	return t, nil
}

func readSheet(f *excelize.File, sheet string, limit int) ([]rawRow, error) {
	it, err := f.Rows(sheet)
	if err != nil {
		return nil, errorf(CodeUnreadable, "无法读取工作表“%s”（%v）", "sheet %q cannot be read (%v)", sheet, err)
	}
	defer it.Close()
	var rows []rawRow
	for line := 1; it.Next() && len(rows) < limit; line++ {
		cells, err := it.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return nil, errorf(CodeUnreadable, "工作表“%s”第 %d 行无法读取（%v）", "sheet %q row %d cannot be read (%v)", sheet, line, err)
		}
		if len(cells) > maxCols {
			cells = cells[:maxCols:maxCols]
		}
		if !blank(cells) {
			rows = append(rows, rawRow{line: line, cells: cells})
		}
	}
	if err := it.Error(); err != nil {
		return nil, errorf(CodeUnreadable, "工作表“%s”无法读取（%v）", "sheet %q cannot be read (%v)", sheet, err)
	}
	return rows, nil
}

// readCSV keeps at most limit non-empty records. Row numbers are those Excel
// would show on opening the file: blank lines count, and a quoted cell that
// spans several lines is still one row.
func readCSV(data []byte, limit int) (*table, error) {
	text, notice, err := decodeText(data)
	if err != nil {
		return nil, err
	}
	t := &table{}
	if notice != "" {
		t.notices = append(t.notices, notice)
	}
	r := csv.NewReader(strings.NewReader(text))
	r.Comma = sniffDelimiter(text)
	r.FieldsPerRecord = -1
	extra := 0 // newlines inside quoted cells so far
	for len(t.rows) < limit {
		rec, err := r.Read()
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, errorf(CodeUnreadable, "CSV 文件第 %d 行附近格式错误（引号不配对？）",
					"the CSV is malformed near line %d (unbalanced quotes?)", pe.StartLine)
			}
			break // io.EOF
		}
		start, _ := r.FieldPos(0)
		line := start - extra
		for _, c := range rec {
			extra += strings.Count(c, "\n")
		}
		if len(rec) > maxCols {
			rec = rec[:maxCols:maxCols]
		}
		if !blank(rec) {
			t.rows = append(t.rows, rawRow{line: line, cells: rec})
		}
	}
	return t, nil
}

// decodeText turns a CSV into UTF-8. Excel on a Chinese Windows saves "CSV"
// in GB18030 (GBK) and "CSV UTF-8" with a byte order mark; "Unicode text"
// is UTF-16. Invalid UTF-8 is the tell for GB18030: Chinese text in GBK is
// almost never valid UTF-8 by accident.
func decodeText(data []byte) (string, string, error) {
	switch {
	case bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}):
		data = data[3:]
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}), bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		dec := unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder()
		b, err := dec.Bytes(data)
		if err != nil {
			return "", "", errorf(CodeUnreadable, "无法按 UTF-16 读取文件", "the file cannot be read as UTF-16")
		}
		data = b
	case !utf8.Valid(data):
		b, err := simplifiedchinese.GB18030.NewDecoder().Bytes(data)
		if err != nil || bytes.ContainsRune(b, utf8.RuneError) {
			return "", "", errorf(CodeUnreadable, "文件编码无法识别，请在 Excel 中另存为“CSV UTF-8”或 .xlsx",
				"the file's encoding is not recognised; save it as \"CSV UTF-8\" or .xlsx")
		}
		if bytes.IndexByte(b, 0) >= 0 {
			return "", "", errorf(CodeFormat, "这不是文本格式的 CSV 文件", "this is not a text CSV file")
		}
		return string(b), "文件按 GB18030（GBK）编码读取 / the file was read as GB18030 (GBK)", nil
	}
	if bytes.IndexByte(data, 0) >= 0 {
		return "", "", errorf(CodeFormat, "这不是文本格式的 CSV 文件", "this is not a text CSV file")
	}
	return string(data), "", nil
}

// sniffDelimiter picks the separator from the first lines: UTF-16 exports
// from Excel use tabs, and European-locale machines use semicolons.
func sniffDelimiter(text string) rune {
	line := text
	for i, n := 0, 0; i < len(text); i++ {
		if text[i] == '\n' {
			if n++; n == headerScan {
				line = text[:i]
				break
			}
		}
	}
	best, n := ',', strings.Count(line, ",")
	for _, d := range []rune{'\t', ';'} {
		if c := strings.Count(line, string(d)); c > n {
			best, n = d, c
		}
	}
	return best
}

func blank(cells []string) bool {
	for _, c := range cells {
		if clean(c) != "" {
			return false
		}
	}
	return true
}
