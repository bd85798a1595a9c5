package engine_test

import (
	"errors"
	"math"
	"os"
	"strings"
	"testing"

	"xinling/engine"
	"xinling/scales"
)

// FuzzLoad feeds arbitrary bytes to the loader. It must never panic (the
// loader's own recover would turn a panic into an "internal error" problem,
// which this target treats as a failure), and every rejection must be a
// located problem list.
func FuzzLoad(f *testing.F) {
	f.Add([]byte(baseDoc))
	f.Add([]byte("id: x\nitems: [1, 2"))
	f.Add([]byte("- a\n- b\n"))
	f.Add([]byte("id: &a x\nversion: *a\n"))
	// Small documents that between them use every feature; large seeds
	// (RIASEC's 60 items) slow mutation and minimisation without adding paths.
	for _, name := range []string{"phq9.yaml", "asq.yaml", "phq15.yaml"} {
		data, _ := scales.FS.ReadFile(name)
		f.Add(data)
	}
	for _, name := range []string{"testdata/normed.yaml", "testdata/audit_like.yaml", "testdata/interpreted.yaml"} {
		data, _ := os.ReadFile(name)
		f.Add(data)
	}
	// The coverage sample is what makes a valid document slow to load; the
	// fuzzer is after parser and compiler crashes, which it does not affect.
	f.Cleanup(engine.FewerPatterns(50))
	f.Add([]byte("id: " + strings.Repeat("[", 200)))
	f.Fuzz(func(t *testing.T, data []byte) {
		// The editor's helpers read ids and positions from any upload.
		engine.Identify(data)
		if line, col := engine.Locate(data, "scoring", "scores", 0); line < 1 || col < 1 {
			t.Fatalf("Locate gave %d:%d", line, col)
		}
		in, err := engine.Load("fuzz.yaml", data)
		if err == nil {
			if in == nil {
				t.Fatal("nil instrument without error")
			}
			return
		}
		ps, ok := engine.AsProblems(err)
		if !ok || len(ps) == 0 {
			t.Fatalf("error is not a problem list: %v", err)
		}
		for _, p := range ps {
			if strings.Contains(p.Message, "internal error") {
				t.Fatalf("loader panicked: %s", p)
			}
			if p.File != "fuzz.yaml" || p.Line < 1 || p.Col < 1 || p.Message == "" {
				t.Fatalf("problem without a location or message: %+v", p)
			}
		}
	})
}

// FuzzScore scores arbitrary answers against every built-in instrument.
// Bad answers must come back as InputError; anything else is an engine or
// document bug.
func FuzzScore(f *testing.F) {
	f.Add("phq9", "q1", 1.0, "q9", 3.0, "f", 30.0)
	f.Add("asq", "q5", 1.0, "q1", 0.0, "", 0.0)
	f.Add("phq15", "q4", 2.0, "q1", 1.0, "m", 70.0)
	f.Add("riasec", "q60", 5.0, "q1", 0.0, "x", -1.0)
	f.Add("sds", "q19", 4.0, "q2", math.NaN(), "f", 151.0)
	f.Fuzz(func(t *testing.T, id, k1 string, v1 float64, k2 string, v2 float64, sex string, age float64) {
		lib, err := builtins()
		if err != nil {
			t.Fatal(err)
		}
		in, ok := lib.Get(id, "")
		if !ok {
			return
		}
		// Start from a complete, valid answer set and break it with the
		// fuzzed pairs, so the fuzzer reaches the scoring code too.
		answers := map[string]float64{}
		if shown, err := in.Shown(nil, "", 0); err == nil {
			for _, item := range shown {
				answers[item] = *in.Options(item)[0].Value
			}
		}
		answers[k1], answers[k2] = v1, v2
		res, err := in.Score(engine.Input{Answers: answers, Sex: sex, Age: age})
		if err != nil {
			var ie *engine.InputError
			if !errors.As(err, &ie) || ie.Code == "" || ie.Message == "" {
				t.Fatalf("%s: not an input error: %v", id, err)
			}
			return
		}
		for _, s := range res.Scores {
			if math.IsNaN(s.Value) || math.IsInf(s.Value, 0) {
				t.Fatalf("%s: score %s = %v", id, s.ID, s.Value)
			}
		}
		for _, w := range res.Warnings {
			if w.Level < 1 || w.Level > 3 {
				t.Fatalf("%s: warning level %d", id, w.Level)
			}
		}
	})
}
