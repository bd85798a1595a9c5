package engine_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"xinling/engine"
	"xinling/scales"
)

// builtinAnswers makes n random complete answer sets for an instrument.
func builtinAnswers(tb testing.TB, in *engine.Instrument, n int) []map[string]float64 {
	rng := rand.New(rand.NewPCG(1, 2))
	sets := make([]map[string]float64, n)
	for i := range sets {
		var vals []float64
		for _, it := range in.Doc.Items {
			opts := it.Options
			if len(opts) == 0 {
				opts = in.Doc.Options
			}
			vals = append(vals, *opts[rng.IntN(len(opts))].Value)
		}
		// Items hidden for this respondent take no value: keep the prefix
		// that AnswersInOrder accepts.
		for cut := len(vals); cut > 0; cut-- {
			if a, err := in.AnswersInOrder(vals[:cut], "f", 30); err == nil {
				sets[i] = a
				break
			}
		}
		if sets[i] == nil {
			tb.Fatalf("%s: could not build answers", in.ID())
		}
	}
	return sets
}

func BenchmarkScore(b *testing.B) {
	lib, err := engine.LoadFS(scales.FS, ".")
	if err != nil {
		b.Fatal(err)
	}
	for _, in := range lib.Latest() {
		sets := builtinAnswers(b, in, 64)
		b.Run(in.ID(), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if _, err := in.Score(engine.Input{Answers: sets[i%len(sets)], Sex: "f", Age: 30}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	_ = fmt.Sprint
}
