package demoseed

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// How a pupil took part in the screening.
type attendance int

const (
	took      attendance = iota // answered everything and submitted
	absent                      // never started (ill, on leave, transferred)
	abandoned                   // started, answered part of the PHQ-9, never submitted
)

// How a pupil answered, when careless answering is worth showing.
type answerStyle int

const (
	careful  answerStyle = iota
	straight             // the same option for every item of every instrument
	hurried              // careful enough answers, but the whole battery in well under a minute
)

// pupil is one rostered student and, decided in advance from the seed,
// everything they will answer.
type pupil struct {
	no, name, sex, birthMonth string
	grade, class              int // 7..9, 1..4
	attend                    attendance
	style                     answerStyle
	phq9                      [9]int
	gad7                      [7]int
	pss10                     [10]int // answers as chosen: the reversed items are not yet reversed
}

func (p pupil) classID() string { return classUnitID(p.grade, p.class) }

func classUnitID(grade, class int) string { return fmt.Sprintf("demo-class%d-%d", grade, class) }

// plan draws the whole school from one seeded generator: the same seed
// gives the same pupils with the same answers, whatever the date.
// schoolYear is the calendar year the school year began in (birth months
// are counted from it).
func plan(seed uint64, schoolYear int) []pupil {
	r := rand.New(rand.NewPCG(seed, seed^0x5eed))
	// The PSS-10 came to the battery later: its answers are drawn from a
	// generator of their own, so that the pupils and their PHQ-9 and
	// GAD-7 answers stayed what they were.
	stress := rand.New(rand.NewPCG(seed, seed^0x5055))
	var out []pupil
	for grade := 7; grade <= 9; grade++ {
		for class := 1; class <= 4; class++ {
			size := 47 + r.IntN(7) // 47..53 pupils a class
			for seq := 1; seq <= size; seq++ {
				p := pupil{grade: grade, class: class, sex: "男"}
				if r.Float64() < 0.49 {
					p.sex = "女"
				}
				p.name = pickSurname(r) + givenName(r, p.sex)
				entry := schoolYear - (grade - 7) // the year this grade entered 七年级
				p.no = fmt.Sprintf("%d%02d%02d", entry, class, seq)
				// A 七年级 pupil is born between September, 13 years
				// before the school year began, and the August after;
				// about one in forty is a year older.
				born := schoolYear - 13 - (grade - 7)
				month := 9 + r.IntN(12)
				if r.IntN(40) == 0 {
					born--
				}
				if month > 12 {
					born, month = born+1, month-12
				}
				p.birthMonth = fmt.Sprintf("%d-%02d", born, month)
				p.attend, p.style = participation(r)
				p.phq9, p.gad7 = answers(r, p)
				p.pss10 = stressAnswers(stress, p)
				out = append(out, p)
			}
		}
	}
	return out
}

// participation: about 3% absent on their class's day, 0.5% who start
// and leave, and 1.5% who answer carelessly in one of two ways.
func participation(r *rand.Rand) (attendance, answerStyle) {
	switch x := r.Float64(); {
	case x < 0.03:
		return absent, careful
	case x < 0.035:
		return abandoned, careful
	case x < 0.043:
		return took, straight
	case x < 0.05:
		return took, hurried
	}
	return took, careful
}

// phqBands is how the PHQ-9 totals of a junior-high screening spread:
// most pupils minimal or mild, about one in eight moderate or above,
// roughly what Chinese school screenings with the PHQ-9 report.
var phqBands = []struct {
	share    float64
	min, max int
}{
	{0.57, 0, 4}, {0.30, 5, 9}, {0.08, 10, 14}, {0.035, 15, 19}, {0.015, 20, 27},
}

// itemLean shifts each PHQ-9 item from the pupil's mean: sleep, tiredness
// and concentration are endorsed more than psychomotor change; item 9 is
// drawn on its own.
var itemLean = [9]float64{0, 0.05, 0.25, 0.3, 0.1, 0, 0.15, -0.35, 0}

// answers draws a pupil's PHQ-9 and GAD-7 answers. Item 9 is positive
// with a chance that grows with the total, a few percent overall; anxiety
// follows depression loosely, a little lower.
func answers(r *rand.Rand, p pupil) (phq [9]int, gad [7]int) {
	if p.style == straight {
		v := []int{0, 1, 1, 2}[r.IntN(4)]
		for i := range phq {
			phq[i] = v
		}
		for i := range gad {
			gad[i] = v
		}
		return phq, gad
	}
	x := r.Float64()
	total := 0
	for _, b := range phqBands {
		if x < b.share {
			total = b.min + r.IntN(b.max-b.min+1)
			break
		}
		x -= b.share
	}
	mean := float64(total) / 9
	if p.sex == "女" {
		mean *= 1.1
	}
	if p.grade == 9 {
		mean *= 1.08 // the zhongkao year
	}
	for i := 0; i < 8; i++ {
		phq[i] = stochasticRound(r, mean+itemLean[i]*math.Min(mean, 1))
	}
	odds := []float64{0.004, 0.03, 0.15, 0.35, 0.6}
	band := 0
	for band < 4 && total > phqBands[band].max {
		band++
	}
	if r.Float64() < odds[band] {
		phq[8] = 1
		if band >= 3 && r.IntN(2) == 0 {
			phq[8] = 2 + r.IntN(2)
		}
	}
	anx := math.Max(0, mean*0.85+r.NormFloat64()*0.3)
	for i := range gad {
		gad[i] = stochasticRound(r, anx)
	}
	if p.style == hurried {
		// Clicking through: answers with little relation to the person.
		for i := range phq {
			phq[i] = r.IntN(2)
		}
		for i := range gad {
			gad[i] = r.IntN(3)
		}
	}
	return phq, gad
}

// stochasticRound turns a mean item score into an answer 0..3 whose
// expectation is that mean (the PHQ-9's and GAD-7's range).
func stochasticRound(r *rand.Rand, m float64) int { return roundUpTo(r, m, 3) }

// roundUpTo turns a mean item score into an answer 0..top whose
// expectation is that mean (below the top).
func roundUpTo(r *rand.Rand, m float64, top int) int {
	if m <= 0 {
		return 0
	}
	v := int(m)
	if r.Float64() < m-float64(v) {
		v++
	}
	return min(v, top)
}

// pssReversed marks the PSS-10's positively worded items (4, 5, 7 and 8),
// which its scoring key reverses: a stressed pupil answers them low.
var pssReversed = [10]bool{3: true, 4: true, 6: true, 7: true}

// stressAnswers draws a pupil's PSS-10 answers (0..4, as chosen). Perceived
// stress follows the pupil's depression and anxiety loosely: a pupil with
// no symptoms still feels some stress (the PSS-10's item mean in the
// general population is about 1.3), and one with many feels a lot, so most
// pupils land in the low or moderate band and a few in the high one. The
// positively worded items are answered from the other end of the scale.
// A straight-liner gives the option they gave everywhere else; a hurried
// pupil clicks through.
func stressAnswers(r *rand.Rand, p pupil) (pss [10]int) {
	switch p.style {
	case straight:
		for i := range pss {
			pss[i] = p.phq9[0]
		}
		return pss
	case hurried:
		for i := range pss {
			pss[i] = r.IntN(3)
		}
		return pss
	}
	symptoms := 0
	for _, v := range p.phq9 {
		symptoms += v
	}
	for _, v := range p.gad7 {
		symptoms += v
	}
	// The mean item score 0..4, before reversal: about 1.1 with no
	// symptoms, 2.7 (a total of 27, the high band) at about 30 of the
	// 48 PHQ-9 + GAD-7 points.
	mean := 1.1 + 0.055*float64(symptoms) + r.NormFloat64()*0.35
	if p.grade == 9 {
		mean += 0.15 // the zhongkao year
	}
	mean = math.Max(0.2, math.Min(3.8, mean))
	for i := range pss {
		score := roundUpTo(r, mean+r.NormFloat64()*0.45, 4)
		if pssReversed[i] {
			score = 4 - score // "how often were things going your way?": rarely
		}
		pss[i] = score
	}
	// A careful reader does not give one answer to ten questions, four of
	// them worded the other way round: should the draw come out so, the
	// first item moves one step.
	if same(pss[:]) {
		if pss[0] < 4 {
			pss[0]++
		} else {
			pss[0]--
		}
	}
	return pss
}

func same(vs []int) bool {
	for _, v := range vs {
		if v != vs[0] {
			return false
		}
	}
	return true
}
