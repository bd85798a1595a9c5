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

// expectLevel scores a submitted session's answers (API item id → value)
// and returns the most severe warning level any instrument raises: 1 for a
// crisis, 0 for none. known is false when the engine cannot score them (an
// instrument it lacks, or answers it rejects), so that the session is left
// out of the warning counts rather than guessed.
func expectLevel(lib *engine.Library, answers map[string]float64, sex string, age int) (level int, known bool) {
	if lib == nil {
		return 0, false
	}
	byInstr := map[string]map[string]float64{}
	for id, v := range answers {
		instr, item, ok := strings.Cut(id, ".")
		if !ok {
			return 0, false
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
			return 0, false
		}
		res, err := in.Score(engine.Input{Answers: ans, Sex: sex, Age: float64(age)})
		if err != nil {
			return 0, false
		}
		if l := res.HighestLevel(); l > 0 && (level == 0 || l < level) {
			level = l
		}
	}
	return level, true
}
