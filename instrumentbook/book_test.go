package instrumentbook_test

import (
	"encoding/json"
	"errors"
	"io/fs"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"xinling/engine"
	"xinling/instrumentbook"
	"xinling/scales"
)

// Every built-in survives export and import: the imported YAML loads (its
// vectors pass) and says what the original said.
func TestEveryBuiltInRoundTrips(t *testing.T) {
	t.Parallel()
	names, _ := fs.Glob(scales.FS, "*.yaml")
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			data, _ := scales.FS.ReadFile(name)
			orig, err := engine.Load(name, data)
			if err != nil {
				t.Fatal(err)
			}
			book, err := instrumentbook.Export(orig.Doc)
			if err != nil {
				t.Fatal(err)
			}
			yml, err := instrumentbook.Import(book)
			if err != nil {
				t.Fatal(err)
			}
			back, err := engine.Load("imported.yaml", yml)
			if err != nil {
				t.Fatalf("the imported document does not load: %v\n%s", err, yml)
			}
			if a, b := canonical(t, orig.Doc), canonical(t, back.Doc); a != b {
				t.Fatalf("round trip changed the document:\n%s\n%s", a, b)
			}
		})
	}
}

func canonical(t *testing.T, d *engine.Document) string {
	t.Helper()
	c := *d
	c.Vectors = slices.Clone(d.Vectors)
	slices.SortFunc(c.Vectors, func(a, b engine.Vector) int { return strings.Compare(a.Name, b.Name) })
	out, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// A cell that cannot be read is reported at its sheet and cell, every one.
func TestImportNamesSheetAndCell(t *testing.T) {
	t.Parallel()
	data, _ := scales.FS.ReadFile("gad7.yaml")
	in, err := engine.Load("gad7.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	book, err := instrumentbook.Export(in.Doc)
	if err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(strings.NewReader(string(book)))
	if err != nil {
		t.Fatal(err)
	}
	must(t, f.SetCellValue(instrumentbook.SheetBands, "C3", "five"))
	must(t, f.SetCellValue(instrumentbook.SheetOptions, "A2", "q99"))
	must(t, f.SetCellValue(instrumentbook.SheetVectors, "B2", "0, x, 0"))
	buf, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	_, err = instrumentbook.Import(buf.Bytes())
	var ps instrumentbook.Problems
	if !errors.As(err, &ps) {
		t.Fatalf("err = %v", err)
	}
	got := ps.Error()
	for _, want := range []string{`bands!C3: min must be a number, or an expression starting with =, not "five"`, `options!A2: no item "q99"`, `vectors!B2: answers must be numbers`} {
		if !strings.Contains(got, want) {
			t.Errorf("problems lack %q:\n%s", want, got)
		}
	}
	if _, err := instrumentbook.Import([]byte("not a workbook")); err == nil || !strings.Contains(err.Error(), "workbook: not a readable .xlsx") {
		t.Fatalf("garbage: %v", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
