package loadgen

import (
	"regexp"
	"strings"
	"sync"

	"xinling/engine"
	"xinling/scales"
)

// library is the built-in instrument library, loaded once: the generator
// scores what it sent with the same engine as the server, so it knows which
// submits must come back with a crisis block.
var library = sync.OnceValues(func() (*engine.Library, error) {
	return engine.LoadFS(scales.FS, ".")
})

var ident = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*`)

// conditional reports whether an instrument shows or hides items depending
// on earlier answers (ASQ item 5), so that the item list of the create
// response may change as the respondent answers. Conditions on sex or age
// alone are settled at create time and do not count. An instrument the
// engine does not know is assumed conditional: re-reading is always safe.
func conditional(lib *engine.Library, id string) bool {
	if lib == nil {
		return true
	}
	in, ok := lib.Get(id, "")
	if !ok {
		return true
	}
	items := map[string]bool{}
	for _, it := range in.Doc.Items {
		items[it.ID] = true
	}
	for _, it := range in.Doc.Items {
		for _, name := range ident.FindAllString(it.When, -1) {
			if items[name] || name == "responses" || name == "items" {
				return true
			}
		}
	}
	return false
}

// expectCrisis scores a submitted session's answers (API item id → value)
// and reports whether any instrument fires a level-1 rule. known is false
// when the engine cannot score them (an instrument it lacks, or answers it
// rejects), so that the session is left out of the warning counts rather
// than guessed.
func expectCrisis(lib *engine.Library, answers map[string]float64, sex string, age int) (crisis, known bool) {
	if lib == nil {
		return false, false
	}
	byInstr := map[string]map[string]float64{}
	for id, v := range answers {
		instr, item, ok := strings.Cut(id, ".")
		if !ok {
			return false, false
		}
		m := byInstr[instr]
		if m == nil {
			m = map[string]float64{}
			byInstr[instr] = m
		}
		m[item] = v
	}
	for instr, ans := range byInstr {
		in, ok := lib.Get(instr, "")
		if !ok {
			return false, false
		}
		res, err := in.Score(engine.Input{Answers: ans, Sex: sex, Age: float64(age)})
		if err != nil {
			return false, false
		}
		if res.HighestLevel() == 1 {
			crisis = true
		}
	}
	return crisis, true
}
