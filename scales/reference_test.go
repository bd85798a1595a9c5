package scales_test

// Independent verification of the built-in documents against the published
// scoring keys. Every key below was written from the published instrument,
// not from the documents' scoring sections: the documents are read only for
// item ids, item order and response codes. Where a document disagrees with
// a key here, the key is the published one and the document is wrong.
//
// Sources for the keys:
//   - PHQ-9: Kroenke, Spitzer & Williams 2001 (sum 0-27; 5/10/15/20).
//   - GAD-7: Spitzer et al. 2006 (sum 0-21; 5/10/15).
//   - PHQ-15: Kroenke, Spitzer & Williams 2002 (sum 0-30; 5/10/15; item 4
//     "menstrual cramps" for women only).
//   - K10: Kessler et al. 2002; Andrews & Slade 2001 bands (10-15 low,
//     16-21 moderate, 22-29 high, 30-50 very high).
//   - WHO-5: WHO Collaborating Centre in Mental Health, Frederiksborg
//     (raw 0-25, percentage = raw x 4).
//   - Zung SDS: Zung 1965; positively worded, reverse-scored items 2, 5, 6,
//     11, 12, 14, 16, 17, 18, 20; index = raw x 1.25.
//   - Zung SAS: Zung 1971; reverse-scored items 5, 9, 13, 17, 19.
//   - DASS-21: Lovibond & Lovibond 1995; D = 3,5,10,13,16,17,21;
//     A = 2,4,7,9,15,19,20; S = 1,6,8,11,12,14,18; sums x 2.
//   - PSS-10: Cohen, Kamarck & Mermelstein 1983 / Cohen & Williamson 1988;
//     items 4, 5, 7, 8 reversed (4 - x).
//   - GDS-15: Sheikh & Yesavage 1986; "no" scores on 1, 5, 7, 11, 13.
//   - ASQ: NIMH Ask Suicide-Screening Questions toolkit.
//   - O*NET Interest Profiler Short Form (60 items, USDOL/ETA): areas in
//     pairs R,R,I,I,A,A,S,S,E,E,C,C repeating; item texts per area below.
//   - Mini-IPIP: Donnellan et al. 2006 and ipip.ori.org/MiniIPIPKey.htm;
//     reversed items 6, 7, 8, 9, 10, 15, 16, 17, 18, 19, 20.

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"xinling/engine"
	"xinling/scales"
)

// refPatterns is the number of random answer patterns per instrument.
const refPatterns = 3000

// refMaxReports bounds the failure messages per instrument; the total
// count of failing patterns is always reported.
const refMaxReports = 12

// refExpect is what the published key gives for one answer pattern.
type refExpect struct {
	scores map[string]float64
	bands  map[string]string
	texts  map[string]string
}

// refPattern is one respondent: vals[i] is the response code to item i+1,
// meaningful only where shown[i].
type refPattern struct {
	vals  []float64
	shown []bool
	sex   string
	age   float64
}

func (p refPattern) v(item int) float64 { // item is 1-based
	if !p.shown[item-1] {
		return math.NaN()
	}
	return p.vals[item-1]
}

func (p refPattern) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "sex=%q age=%v answers=[", p.sex, p.age)
	for i := range p.vals {
		if i > 0 {
			b.WriteByte(' ')
		}
		if p.shown[i] {
			fmt.Fprintf(&b, "q%d=%v", i+1, p.vals[i])
		} else {
			fmt.Fprintf(&b, "q%d=hidden", i+1)
		}
	}
	b.WriteByte(']')
	return b.String()
}

// refInstrument is the published key of one instrument.
type refInstrument struct {
	id    string
	items int
	codes []float64 // response codes, ascending
	// shown decides item i (1-based) from the respondent and earlier answers.
	shown func(p refPattern, item int) bool
	score func(p refPattern) refExpect
	// warnings checks the mandated item-level rules; it returns problems.
	warnings func(p refPattern, res *engine.Result) []string
	// texts are item texts (English) the key's item positions assume, by
	// position; nil skips the check.
	texts []string
}

func codes(lo, hi float64) []float64 {
	var out []float64
	for v := lo; v <= hi; v++ {
		out = append(out, v)
	}
	return out
}

// band returns codes[k] where k is how many lower bounds v reaches.
func band(v float64, lows []float64, names ...string) string {
	k := 0
	for _, lo := range lows {
		if v >= lo {
			k++
		}
	}
	return names[k]
}

func sumItems(p refPattern, items []int, value func(item int, v float64) float64) float64 {
	s := 0.0
	for _, i := range items {
		if p.shown[i-1] {
			s += value(i, p.vals[i-1])
		}
	}
	return s
}

func seq(lo, hi int) []int {
	var out []int
	for i := lo; i <= hi; i++ {
		out = append(out, i)
	}
	return out
}

func straight(_ int, v float64) float64 { return v }

func always(refPattern, int) bool { return true }

// nonBand lists warnings raised by item/score rules rather than by bands
// (band warnings are named "score.code").
func nonBand(res *engine.Result) []engine.Warning {
	var out []engine.Warning
	for _, w := range res.Warnings {
		if !strings.Contains(w.Rule, ".") {
			out = append(out, w)
		}
	}
	return out
}

func simpleSum(id string, n int, lo, hi float64, lows []float64, names ...string) refInstrument {
	return refInstrument{
		id: id, items: n, codes: codes(lo, hi), shown: always,
		score: func(p refPattern) refExpect {
			t := sumItems(p, seq(1, n), straight)
			return refExpect{
				scores: map[string]float64{"total": t},
				bands:  map[string]string{"total": band(t, lows, names...)},
			}
		},
	}
}

func zung(id string, reversed []int, lows []float64) refInstrument {
	return refInstrument{
		id: id, items: 20, codes: codes(1, 4), shown: always,
		score: func(p refPattern) refExpect {
			raw := sumItems(p, seq(1, 20), func(i int, v float64) float64 {
				if slices.Contains(reversed, i) {
					return 5 - v
				}
				return v
			})
			idx := math.Floor(raw * 1.25)
			return refExpect{
				scores: map[string]float64{"raw": raw, "index": idx},
				bands:  map[string]string{"index": band(idx, lows, "normal", "mild", "moderate", "severe")},
			}
		},
	}
}

// riasecAreas are the O*NET Interest Profiler Short Form items by area, as
// published by USDOL/ETA (Interest_Profiler.pdf).
var riasecAreas = map[byte][]string{
	'R': {"Build kitchen cabinets", "Lay brick or tile", "Repair household appliances", "Raise fish in a fish hatchery", "Assemble electronic parts", "Drive a truck to deliver packages to offices and homes", "Test the quality of parts before shipment", "Repair and install locks", "Set up and operate machines to make products", "Put out forest fires"},
	'I': {"Develop a new medicine", "Study ways to reduce water pollution", "Conduct chemical experiments", "Study the movement of planets", "Examine blood samples using a microscope", "Investigate the cause of a fire", "Develop a way to better predict the weather", "Work in a biology lab", "Invent a replacement for sugar", "Do laboratory tests to identify diseases"},
	'A': {"Write books or plays", "Play a musical instrument", "Compose or arrange music", "Draw pictures", "Create special effects for movies", "Paint sets for plays", "Write scripts for movies or television shows", "Perform jazz or tap dance", "Sing in a band", "Edit movies"},
	'S': {"Teach an individual an exercise routine", "Help people with personal or emotional problems", "Give career guidance to people", "Perform rehabilitation therapy", "Do volunteer work at a non-profit organization", "Teach children how to play sports", "Teach sign language to people who are deaf or hard of hearing", "Help conduct a group therapy session", "Take care of children at a day-care center", "Teach a high-school class"},
	'E': {"Buy and sell stocks and bonds", "Manage a retail store", "Operate a beauty salon or barber shop", "Manage a department within a large company", "Start your own business", "Negotiate business contracts", "Represent a client in a lawsuit", "Market a new line of clothing", "Sell merchandise at a department store", "Manage a clothing store"},
	'C': {"Develop a spreadsheet using computer software", "Proofread records or forms", "Install software across computers on a large network", "Operate a calculator", "Keep shipping and receiving records", "Calculate the wages of employees", "Inventory supplies using a hand-held computer", "Record rent payments", "Keep inventory records", "Stamp, sort, and distribute mail for an organization"},
}

const riasecLetters = "RIASEC"

// riasecArea is the area of item i (1-based): pairs in R-I-A-S-E-C order.
func riasecArea(i int) byte { return riasecLetters[((i-1)/2)%6] }

// riasecTexts lists, by position, the published text the key expects; the
// k-th item of an area in the form is the k-th in riasecAreas.
func riasecTexts() []string {
	out := make([]string, 60)
	next := map[byte]int{}
	for i := 1; i <= 60; i++ {
		a := riasecArea(i)
		out[i-1] = riasecAreas[a][next[a]]
		next[a]++
	}
	return out
}

var miniIPIPTexts = []string{
	"Am the life of the party", "Sympathize with others' feelings", "Get chores done right away", "Have frequent mood swings", "Have a vivid imagination",
	"Don't talk a lot", "Am not interested in other people's problems", "Often forget to put things back in their proper place", "Am relaxed most of the time", "Am not interested in abstract ideas",
	"Talk to a lot of different people at parties", "Feel others' emotions", "Like order", "Get upset easily", "Have difficulty understanding abstract ideas",
	"Keep in the background", "Am not really interested in others", "Make a mess of things", "Seldom feel blue", "Do not have a good imagination",
}

func refInstruments() []refInstrument {
	phq9 := simpleSum("phq9", 9, 0, 3, []float64{5, 10, 15, 20}, "minimal", "mild", "moderate", "moderately_severe", "severe")
	phq9.warnings = func(p refPattern, res *engine.Result) []string {
		var probs []string
		var item9 *engine.Warning
		for i := range res.Warnings {
			if res.Warnings[i].Rule == "item9" {
				item9 = &res.Warnings[i]
			}
		}
		switch {
		case p.v(9) > 0 && item9 == nil:
			probs = append(probs, "q9 > 0 but no warning item9")
		case p.v(9) > 0 && (item9.Level != 1 || item9.FollowUp != "asq"):
			probs = append(probs, fmt.Sprintf("warning item9 has level %d follow_up %q, want level 1 follow_up asq", item9.Level, item9.FollowUp))
		case p.v(9) == 0 && item9 != nil:
			probs = append(probs, "q9 = 0 but warning item9 fired")
		}
		if p.v(9) > 0 && res.HighestLevel() != 1 {
			probs = append(probs, fmt.Sprintf("q9 > 0: highest warning level %d, want 1", res.HighestLevel()))
		}
		return probs
	}

	gad7 := simpleSum("gad7", 7, 0, 3, []float64{5, 10, 15}, "minimal", "mild", "moderate", "severe")

	phq15 := simpleSum("phq15", 15, 0, 2, []float64{5, 10, 15}, "minimal", "low", "medium", "high")
	phq15.shown = func(p refPattern, item int) bool { return item != 4 || p.sex != "m" }

	k10 := simpleSum("k10", 10, 1, 5, []float64{16, 22, 30}, "low", "moderate", "high", "very_high")

	who5 := refInstrument{
		id: "who5", items: 5, codes: codes(0, 5), shown: always,
		score: func(p refPattern) refExpect {
			raw := sumItems(p, seq(1, 5), straight)
			return refExpect{scores: map[string]float64{"raw": raw, "percent": raw * 4}}
		},
	}

	sds := zung("sds", []int{2, 5, 6, 11, 12, 14, 16, 17, 18, 20}, []float64{53, 63, 73})
	sds.warnings = func(p refPattern, res *engine.Result) []string {
		level1 := false
		for _, w := range nonBand(res) {
			if w.Level == 1 {
				level1 = true
			}
		}
		switch {
		case p.v(19) >= 2 && !level1:
			return []string{fmt.Sprintf("item 19 = %v (>= 2) but no level 1 item warning (warnings %v)", p.v(19), res.Warnings)}
		case p.v(19) >= 2 && res.HighestLevel() != 1:
			return []string{fmt.Sprintf("item 19 >= 2: highest level %d, want 1", res.HighestLevel())}
		case p.v(19) < 2 && level1:
			return []string{fmt.Sprintf("item 19 = %v (< 2) but a level 1 item warning fired (warnings %v)", p.v(19), res.Warnings)}
		}
		return nil
	}

	sas := zung("sas", []int{5, 9, 13, 17, 19}, []float64{50, 60, 70})

	dassD := []int{3, 5, 10, 13, 16, 17, 21}
	dassA := []int{2, 4, 7, 9, 15, 19, 20}
	dassS := []int{1, 6, 8, 11, 12, 14, 18}
	dass21 := refInstrument{
		id: "dass21", items: 21, codes: codes(0, 3), shown: always,
		score: func(p refPattern) refExpect {
			d := 2 * sumItems(p, dassD, straight)
			a := 2 * sumItems(p, dassA, straight)
			s := 2 * sumItems(p, dassS, straight)
			names := []string{"normal", "mild", "moderate", "severe", "extremely_severe"}
			return refExpect{
				scores: map[string]float64{"depression": d, "anxiety": a, "stress": s},
				bands: map[string]string{
					"depression": band(d, []float64{10, 14, 21, 28}, names...),
					"anxiety":    band(a, []float64{8, 10, 15, 20}, names...),
					"stress":     band(s, []float64{15, 19, 26, 34}, names...),
				},
			}
		},
	}

	pss10 := refInstrument{
		id: "pss10", items: 10, codes: codes(0, 4), shown: always,
		score: func(p refPattern) refExpect {
			t := sumItems(p, seq(1, 10), func(i int, v float64) float64 {
				if slices.Contains([]int{4, 5, 7, 8}, i) {
					return 4 - v
				}
				return v
			})
			return refExpect{
				scores: map[string]float64{"total": t},
				bands:  map[string]string{"total": band(t, []float64{14, 27}, "low", "moderate", "high")},
			}
		},
	}

	gds15 := refInstrument{
		id: "gds15", items: 15, codes: codes(0, 1), shown: always,
		score: func(p refPattern) refExpect {
			t := sumItems(p, seq(1, 15), func(i int, v float64) float64 {
				if slices.Contains([]int{1, 5, 7, 11, 13}, i) {
					return 1 - v // "no" (0) scores
				}
				return v
			})
			return refExpect{
				scores: map[string]float64{"total": t},
				bands:  map[string]string{"total": band(t, []float64{5, 9, 12}, "normal", "mild", "moderate", "severe")},
			}
		},
	}

	asq := refInstrument{
		id: "asq", items: 5, codes: codes(0, 1),
		shown: func(p refPattern, item int) bool {
			if item != 5 {
				return true
			}
			return p.vals[0] == 1 || p.vals[1] == 1 || p.vals[2] == 1 || p.vals[3] == 1
		},
		score: func(p refPattern) refExpect {
			pos, acute := 0.0, 0.0
			for i := 1; i <= 5; i++ {
				if p.v(i) == 1 {
					pos = 1
				}
			}
			if p.v(5) == 1 {
				acute = 1
			}
			return refExpect{scores: map[string]float64{"positive": pos, "acute": acute}}
		},
		warnings: func(p refPattern, res *engine.Result) []string {
			positive := p.v(1) == 1 || p.v(2) == 1 || p.v(3) == 1 || p.v(4) == 1
			want := 0
			switch {
			case p.v(5) == 1:
				want = 1
			case positive:
				want = 2
			}
			if got := res.HighestLevel(); got != want {
				return []string{fmt.Sprintf("highest warning level %d, want %d (warnings %v)", got, want, res.Warnings)}
			}
			return nil
		},
	}

	riasec := refInstrument{
		id: "riasec", items: 60, codes: codes(1, 5), shown: always, texts: riasecTexts(),
		score: func(p refPattern) refExpect {
			sc := map[string]float64{}
			for _, l := range riasecLetters {
				sc[string(l)] = 0
			}
			for i := 1; i <= 60; i++ {
				sc[string(riasecArea(i))] += p.v(i) - 1
			}
			order := []byte(riasecLetters)
			slices.SortStableFunc(order, func(a, b byte) int {
				// descending score; SortStable keeps R-I-A-S-E-C among ties
				sa, sb := sc[string(a)], sc[string(b)]
				switch {
				case sa > sb:
					return -1
				case sa < sb:
					return 1
				}
				return 0
			})
			return refExpect{scores: sc, texts: map[string]string{"code": string(order[:3])}}
		},
	}

	miniReversed := []int{6, 7, 8, 9, 10, 15, 16, 17, 18, 19, 20}
	miniFactors := []string{"extraversion", "agreeableness", "conscientiousness", "neuroticism", "intellect"}
	mini := refInstrument{
		id: "mini_ipip", items: 20, codes: codes(1, 5), shown: always, texts: miniIPIPTexts,
		score: func(p refPattern) refExpect {
			sc := map[string]float64{}
			for _, f := range miniFactors {
				sc[f] = 0
			}
			for i := 1; i <= 20; i++ {
				v := p.v(i)
				if slices.Contains(miniReversed, i) {
					v = 6 - v
				}
				sc[miniFactors[(i-1)%5]] += v
			}
			return refExpect{scores: sc}
		},
	}

	return []refInstrument{phq9, gad7, phq15, k10, who5, sds, sas, dass21, pss10, gds15, asq, riasec, mini}
}

// normText makes item texts comparable across trivial differences.
func normText(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.ReplaceAll(s, "’", "'")
	return strings.TrimRight(s, ".")
}

// optionCodes lists the response codes item i offers, ascending.
func optionCodes(in *engine.Instrument, i int) []float64 {
	opts := in.Doc.Items[i].Options
	if len(opts) == 0 {
		opts = in.Doc.Options
	}
	var out []float64
	for _, o := range opts {
		if o.Value != nil {
			out = append(out, *o.Value)
		}
	}
	slices.Sort(out)
	return out
}

// makePattern fills a pattern in item order, deciding visibility as the
// respondent would meet the items; pick gives the code for a shown item.
func (ri refInstrument) makePattern(sex string, age float64, pick func(item int) float64) refPattern {
	p := refPattern{vals: make([]float64, ri.items), shown: make([]bool, ri.items), sex: sex, age: age}
	for i := 1; i <= ri.items; i++ {
		if ri.shown(p, i) {
			p.shown[i-1] = true
			p.vals[i-1] = pick(i)
		}
	}
	return p
}

func TestReference(t *testing.T) {
	t.Parallel()
	lib, err := engine.LoadFS(scales.FS, ".")
	if err != nil {
		t.Errorf("loading the built-in documents: %v", err)
	}
	if lib == nil {
		t.FailNow()
	}
	for _, ri := range refInstruments() {
		t.Run(ri.id, func(t *testing.T) {
			in, ok := lib.Get(ri.id, "")
			if !ok {
				t.Fatalf("no built-in instrument %q", ri.id)
			}
			checkReference(t, in, ri)
		})
	}
}

func checkReference(t *testing.T, in *engine.Instrument, ri refInstrument) {
	ids := in.ItemIDs()
	if len(ids) != ri.items {
		t.Fatalf("%d items, the published form has %d", len(ids), ri.items)
	}
	for i, id := range ids {
		if want := fmt.Sprintf("q%d", i+1); id != want {
			t.Errorf("item %d has id %q, want %q", i+1, id, want)
		}
		if got := optionCodes(in, i); !slices.Equal(got, ri.codes) {
			t.Errorf("item %d offers codes %v, the key uses %v", i+1, got, ri.codes)
		}
		if ri.texts != nil {
			if got := in.Doc.Items[i].Text.Get("en"); normText(got) != normText(ri.texts[i]) {
				t.Errorf("item %d reads %q; at this position the published form has %q", i+1, got, ri.texts[i])
			}
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	lo, hi := ri.codes[0], ri.codes[len(ri.codes)-1]
	var patterns []refPattern
	for _, sex := range []string{"f", "m", ""} {
		patterns = append(patterns,
			ri.makePattern(sex, 40, func(int) float64 { return lo }),
			ri.makePattern(sex, 40, func(int) float64 { return hi }))
	}
	h := fnv.New64a()
	h.Write([]byte(ri.id))
	rng := rand.New(rand.NewPCG(20240601, h.Sum64()))
	sexes := []string{"f", "m", ""}
	for range refPatterns {
		sex := sexes[rng.IntN(len(sexes))]
		age := float64(18 + rng.IntN(70))
		patterns = append(patterns, ri.makePattern(sex, age, func(int) float64 { return ri.codes[rng.IntN(len(ri.codes))] }))
	}

	failed := 0
	for _, p := range patterns {
		probs := comparePattern(in, ri, ids, p)
		if len(probs) == 0 {
			continue
		}
		failed++
		if failed <= refMaxReports {
			t.Errorf("%s\n\t%s", p, strings.Join(probs, "\n\t"))
		}
	}
	if failed > 0 {
		t.Errorf("%d of %d answer patterns disagree with the published key", failed, len(patterns))
	}
}

// comparePattern scores one pattern with the engine and with the key and
// returns every difference.
func comparePattern(in *engine.Instrument, ri refInstrument, ids []string, p refPattern) []string {
	var probs []string
	answers := map[string]float64{}
	var inOrder []float64
	for i, id := range ids {
		if p.shown[i] {
			answers[id] = p.vals[i]
			inOrder = append(inOrder, p.vals[i])
		}
	}
	byOrder, err := in.AnswersInOrder(inOrder, p.sex, p.age)
	switch {
	case err != nil:
		probs = append(probs, fmt.Sprintf("AnswersInOrder: %v (the key shows these items: %v)", err, inOrder))
	case len(byOrder) != len(answers):
		probs = append(probs, fmt.Sprintf("AnswersInOrder gave %v, want %v", byOrder, answers))
	default:
		for id, v := range answers {
			if got, ok := byOrder[id]; !ok || got != v {
				probs = append(probs, fmt.Sprintf("AnswersInOrder gave %v, want %v", byOrder, answers))
				break
			}
		}
	}

	res, err := in.Score(engine.Input{Answers: answers, Sex: p.sex, Age: p.age})
	if err != nil {
		return append(probs, fmt.Sprintf("Score: %v", err))
	}
	if !res.Complete {
		return append(probs, fmt.Sprintf("result incomplete, missing %v", res.Missing))
	}
	want := ri.score(p)
	for _, id := range sortedKeys(want.scores) {
		got, ok := res.Score(id)
		switch {
		case !ok:
			probs = append(probs, fmt.Sprintf("no score %q", id))
		case math.Abs(got-want.scores[id]) > 1e-9:
			probs = append(probs, fmt.Sprintf("score %s = %v, published key gives %v", id, got, want.scores[id]))
		}
	}
	for _, id := range sortedKeys(want.bands) {
		got, ok := res.Band(id)
		switch {
		case !ok:
			probs = append(probs, fmt.Sprintf("no band for %q", id))
		case got.Code != want.bands[id]:
			probs = append(probs, fmt.Sprintf("band of %s = %s, published cut-offs give %s", id, got.Code, want.bands[id]))
		}
	}
	for _, id := range sortedKeys(want.texts) {
		i := slices.IndexFunc(res.Texts, func(tv engine.TextValue) bool { return tv.ID == id })
		switch {
		case i < 0:
			probs = append(probs, fmt.Sprintf("no text %q", id))
		case res.Texts[i].Value != want.texts[id]:
			probs = append(probs, fmt.Sprintf("text %s = %q, published key gives %q", id, res.Texts[i].Value, want.texts[id]))
		}
	}
	for _, w := range res.Warnings {
		if w.Level < 1 || w.Level > 3 {
			probs = append(probs, fmt.Sprintf("warning %s has level %d, outside 1-3", w.Rule, w.Level))
		}
	}
	if ri.warnings != nil {
		probs = append(probs, ri.warnings(p, res)...)
	}
	return probs
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
