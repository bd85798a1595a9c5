package instrumentbook_test

import (
	"errors"
	"testing"

	"xinling/engine"
	"xinling/instrumentbook"
	"xinling/scales"
)

// FuzzImport feeds arbitrary bytes to the workbook importer, seeded with
// real exported templates. It must never panic, and a refusal is a
// problem list naming a sheet.
func FuzzImport(f *testing.F) {
	for _, name := range []string{"gad7.yaml", "asq.yaml"} {
		data, _ := scales.FS.ReadFile(name)
		in, err := engine.Load(name, data)
		if err != nil {
			f.Fatal(err)
		}
		book, err := instrumentbook.Export(in.Doc)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(book)
	}
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, data []byte) {
		yml, err := instrumentbook.Import(data)
		if err != nil {
			var ps instrumentbook.Problems
			if !errors.As(err, &ps) || len(ps) == 0 || ps[0].Sheet == "" {
				t.Fatalf("refusal is not a problem list: %v", err)
			}
			return
		}
		// The loader has its own fuzz target; here the YAML must at least
		// be readable for its id.
		engine.Identify(yml)
	})
}
