package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"

	"xinling/engine"
	"xinling/scales"
)

func scalesCommand(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("scales needs a subcommand: list, validate or test")
	}
	switch args[0] {
	case "list":
		return scalesList(args[1:], stdout, stderr)
	case "validate":
		return scalesValidate(args[1:], stdout, stderr, false)
	case "test":
		return scalesValidate(args[1:], stdout, stderr, true)
	}
	return usagef("unknown scales subcommand %q (list, validate, test)", args[0])
}

func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags turns flag errors into usage errors; -h prints help and succeeds.
func parseFlags(fs *flag.FlagSet, args []string) (helped bool, err error) {
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return true, nil
		}
		return false, usagef("%v", err)
	}
	return false, nil
}

// builtins loads the embedded library once per process; a broken built-in
// is a build bug, but it is still reported rather than panicking.
var builtins = sync.OnceValues(func() (*engine.Library, error) {
	return engine.LoadFS(scales.FS, ".")
})

func scalesList(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("scales list", stderr)
	asJSON := fs.Bool("json", false, "print JSON")
	if helped, err := parseFlags(fs, args); helped || err != nil {
		return err
	}
	lib, err := builtins()
	if err != nil {
		return err
	}
	type entry struct {
		ID          string      `json:"id"`
		Version     string      `json:"version"`
		Kind        string      `json:"kind"`
		Items       int         `json:"items"`
		Minutes     float64     `json:"minutes"`
		Public      bool        `json:"public"`
		Translation string      `json:"translation"`
		Title       engine.Text `json:"title"`
		Hash        string      `json:"hash"`
	}
	var list []entry
	for _, in := range lib.Latest() {
		d := in.Doc
		list = append(list, entry{d.ID, d.Version, d.Kind, len(d.Items), d.Minutes, d.Public, d.Translation, d.Title, in.Hash})
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(list)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tVERSION\tKIND\tITEMS\tMINUTES\tTITLE")
	for _, e := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%g\t%s\n", e.ID, e.Version, e.Kind, e.Items, e.Minutes, e.Title.Get("zh-CN"))
	}
	return tw.Flush()
}

// document is one document named on the command line, loaded or not.
type document struct {
	file     string
	inst     *engine.Instrument
	problems engine.Problems
}

// loadDocuments loads the named files and directories, or the built-ins.
func loadDocuments(paths []string, compile compileFunc) ([]document, error) {
	if len(paths) == 0 {
		return loadFromFS(scales.FS, ".", compile)
	}
	var docs []document
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, usagef("%v", err)
		}
		if st.IsDir() {
			sub, err := loadFromFS(os.DirFS(p), ".", compile)
			if err != nil {
				return nil, err
			}
			for i := range sub {
				sub[i].file = filepath.Join(p, sub[i].file)
			}
			docs = append(docs, sub...)
			continue
		}
		docs = append(docs, loadFileWith(p, compile))
	}
	return docs, nil
}

// compileFunc is engine.Load, or engine.Compile where vectors are reported one by one.
type compileFunc func(file string, data []byte) (*engine.Instrument, error)

func loadFile(name string) document { return loadFileWith(name, engine.Load) }

func loadFileWith(name string, compile compileFunc) document {
	data, err := os.ReadFile(name)
	if err != nil {
		return document{file: name, problems: engine.Problems{{File: name, Line: 1, Col: 1, Message: err.Error()}}}
	}
	in, err := compile(name, data)
	if err != nil {
		ps, ok := engine.AsProblems(err)
		if !ok {
			ps = engine.Problems{{File: name, Line: 1, Col: 1, Message: err.Error()}}
		}
		return document{file: name, problems: ps}
	}
	return document{file: name, inst: in}
}

func loadFromFS(fsys fs.FS, dir string, compile compileFunc) ([]document, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var docs []document
	for _, e := range entries {
		if e.IsDir() || !(strings.HasSuffix(e.Name(), ".yaml") || strings.HasSuffix(e.Name(), ".yml")) {
			continue
		}
		data, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, err
		}
		name := "scales/" + e.Name()
		if fsys != fs.FS(scales.FS) {
			name = e.Name()
		}
		in, err := compile(name, data)
		if err != nil {
			ps, _ := engine.AsProblems(err)
			docs = append(docs, document{file: name, problems: ps})
			continue
		}
		docs = append(docs, document{file: name, inst: in})
	}
	return docs, nil
}

// scalesValidate loads documents and checks follow-up references against
// them and the built-ins. With vectors, it also lists each vector's outcome.
func scalesValidate(args []string, stdout, stderr io.Writer, vectors bool) error {
	name := "scales validate"
	if vectors {
		name = "scales test"
	}
	fs := newFlags(name, stderr)
	if helped, err := parseFlags(fs, args); helped || err != nil {
		return err
	}
	compile := engine.Load
	if vectors {
		compile = engine.Compile
	}
	docs, err := loadDocuments(fs.Args(), compile)
	if err != nil {
		return err
	}
	if len(docs) == 0 {
		return usagef("no documents found")
	}
	lib := engine.NewLibrary()
	for _, d := range docs {
		if d.inst != nil {
			_ = lib.Add(d.inst)
		}
	}
	if builtin, err := builtins(); err == nil {
		for _, in := range builtin.Latest() {
			if _, have := lib.Get(in.ID(), ""); !have {
				_ = lib.Add(in)
			}
		}
	}
	bad := 0
	passed, failed := 0, 0
	sort.Slice(docs, func(a, b int) bool { return docs[a].file < docs[b].file })
	for _, d := range docs {
		ps := d.problems
		if d.inst != nil {
			ps = append(ps, referenceProblems(lib, d.inst)...)
		}
		if len(ps) > 0 {
			bad++
			for _, p := range ps {
				fmt.Fprintln(stderr, p.String())
			}
			continue
		}
		if vectors {
			docFailed := false
			for _, o := range d.inst.RunVectors() {
				if len(o.Failures) == 0 {
					passed++
					fmt.Fprintf(stdout, "ok   %s: %s\n", d.inst.ID(), o.Name)
				} else {
					failed++
					docFailed = true
					fmt.Fprintf(stdout, "FAIL %s: %s: %s\n", d.inst.ID(), o.Name, strings.Join(o.Failures, "; "))
				}
			}
			if docFailed {
				bad++
			}
			continue
		}
		fmt.Fprintf(stdout, "ok   %s (%s %s, %d items)\n", d.file, d.inst.ID(), d.inst.Version(), len(d.inst.Doc.Items))
		for _, c := range d.inst.Coverage() {
			fmt.Fprintf(stdout, "     %s\n", c)
		}
	}
	if vectors {
		fmt.Fprintf(stdout, "vectors: %d passed, %d failed\n", passed, failed)
	}
	if bad > 0 || failed > 0 {
		fmt.Fprintf(stderr, "%d of %d documents rejected\n", bad, len(docs))
		return errFailed
	}
	return nil
}

func referenceProblems(lib *engine.Library, in *engine.Instrument) engine.Problems {
	var out engine.Problems
	for _, p := range lib.CheckReferences() {
		if p.File == in.File {
			out = append(out, p)
		}
	}
	return out
}
