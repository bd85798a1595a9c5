package api

import (
	"fmt"

	"github.com/gofiber/fiber/v2"
	"github.com/xuri/excelize/v2"
)

// workbook is one sheet of a table export: a title line, a header row and
// data rows, as staff print them or paste them into their own reports.
type workbook struct {
	filename string
	sheet    string
	title    string
	header   []string
	rows     [][]any
}

// send writes w as an .xlsx attachment.
func (w workbook) send(c *fiber.Ctx) error {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", w.sheet); err != nil {
		return err
	}
	if err := f.SetCellValue(w.sheet, "A1", w.title); err != nil {
		return err
	}
	if err := f.SetSheetRow(w.sheet, "A2", &w.header); err != nil {
		return err
	}
	for i, row := range w.rows {
		if err := f.SetSheetRow(w.sheet, fmt.Sprintf("A%d", i+3), &row); err != nil {
			return err
		}
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="%s"`, w.filename))
	return c.Send(buf.Bytes())
}

// suppressedCell is how a suppressed count appears in a sheet: a reader
// must see that something was withheld, not a zero.
const suppressedCell = "<5"

// countCell shows a possibly suppressed count.
func countCell(n *int) any {
	if n == nil {
		return suppressedCell
	}
	return *n
}
