package assess

import (
	"encoding/json"
	"fmt"
	"strings"

	"xinling/engine"
	"xinling/store"
)

// An individual interpretation is what one result means in words, in one
// locale: every score with its label and, where the document interprets
// it, the standing and what that standing means; every code with what its
// letters mean. The respondent's result view carries it (within the
// campaign's visibility), and so can an individual report.

// Interpretation is one result's individual interpretation.
type Interpretation struct {
	Dimensions []DimensionView `json:"dimensions"`
	Codes      []CodeView      `json:"codes,omitempty"`
	// Sources cite the published descriptions the text draws on.
	Sources []string `json:"sources,omitempty"`
}

// DimensionView is one score as a person reads it.
type DimensionView struct {
	Score string  `json:"score"`
	Label string  `json:"label"`
	Value float64 `json:"value"`
	// Min and Max are the score's range, for a chart; absent when the
	// engine cannot derive it.
	Min *float64 `json:"min,omitempty"`
	Max *float64 `json:"max,omitempty"`
	// On is the scale the standing was read on (raw, t, percentile), and
	// OnValue the value there (the T-score, the percentile).
	On       string  `json:"on,omitempty"`
	OnValue  float64 `json:"on_value,omitempty"`
	Level    string  `json:"level,omitempty"`
	Standing string  `json:"standing,omitempty"`
	Meaning  string  `json:"meaning,omitempty"`
	fromBand bool
}

// CodeView is a text output, such as a Holland code, with its letters.
type CodeView struct {
	Text    string       `json:"text"`
	Label   string       `json:"label"`
	Value   string       `json:"value"`
	Letters []LetterView `json:"letters,omitempty"`
}

// LetterView is what one letter of a code means.
type LetterView struct {
	Letter      string `json:"letter"`
	Label       string `json:"label"`
	Meaning     string `json:"meaning"`
	Fields      string `json:"fields,omitempty"`
	Occupations string `json:"occupations,omitempty"`
}

// Interpret renders a result of in in locale. An incomplete result has
// no scores, so it has no dimensions either.
func Interpret(in *engine.Instrument, res *engine.Result, locale string) Interpretation {
	out := Interpretation{Dimensions: []DimensionView{}}
	if res == nil || !res.Complete {
		return out
	}
	chosen := map[string]engine.Interpreted{}
	sources := map[string]bool{}
	for _, it := range in.Interpret(res) {
		key := it.Score
		if it.Text != "" {
			key = "text:" + it.Text
		}
		chosen[key] = it
		if !sources[it.Source] {
			sources[it.Source] = true
			out.Sources = append(out.Sources, it.Source)
		}
	}
	d := in.Doc
	for _, sd := range d.Scoring.Scores {
		v, ok := res.Score(sd.ID)
		if !ok {
			continue
		}
		dv := DimensionView{Score: sd.ID, Label: scoreLabel(in, sd.ID, locale), Value: v}
		if lo, hi, ok := in.ScoreRange(sd.ID); ok {
			dv.Min, dv.Max = &lo, &hi
		}
		if it, ok := chosen[sd.ID]; ok {
			dv.Level, dv.Standing, dv.Meaning = it.Level, it.Label.Get(locale), it.Meaning.Get(locale)
			if it.On != engine.OnRaw {
				dv.On, dv.OnValue = it.On, it.Value
			}
		} else if b, ok := res.Band(sd.ID); ok {
			// A screening score's band says what it means.
			dv.Level, dv.Standing, dv.Meaning, dv.fromBand = b.Code, b.Label.Get(locale), b.Feedback.Get(locale), true
		}
		out.Dimensions = append(out.Dimensions, dv)
	}
	for _, td := range d.Scoring.Texts {
		for _, t := range res.Texts {
			if t.ID != td.ID {
				continue
			}
			cv := CodeView{Text: td.ID, Label: outputLabel(d, td.Label, locale), Value: t.Value}
			for _, l := range chosen["text:"+td.ID].Letters {
				cv.Letters = append(cv.Letters, LetterView{Letter: l.Letter, Label: l.Label.Get(locale), Meaning: l.Meaning.Get(locale),
					Fields: l.Fields.Get(locale), Occupations: l.Occupations.Get(locale)})
			}
			out.Codes = append(out.Codes, cv)
		}
	}
	return out
}

// outputLabel is a text output's label, or the instrument's short title
// for an unlabelled one: never its raw id. (Scores are named by
// scoreLabel, in groupreport.go.)
func outputLabel(d *engine.Document, label engine.Text, locale string) string {
	if len(label) > 0 {
		return label.Get(locale)
	}
	if len(d.ShortTitle) > 0 {
		return d.ShortTitle.Get(locale)
	}
	return d.Title.Get(locale)
}

// InterpretStored renders a stored result with the exact document that
// scored it (by content hash, else by version): an individual report
// reads its words from here.
func InterpretStored(lib *engine.Library, rec store.Result, locale string) (Interpretation, error) {
	in, ok := lib.GetHash(rec.Instrument, rec.ContentHash)
	if !ok {
		if in, ok = lib.Get(rec.Instrument, rec.Version); !ok {
			return Interpretation{}, fmt.Errorf("result %s: instrument %s@%s is not in the library", rec.ID, rec.Instrument, rec.Version)
		}
	}
	var res engine.Result
	if err := json.Unmarshal(rec.Payload, &res); err != nil {
		return Interpretation{}, fmt.Errorf("result %s: %w", rec.ID, err)
	}
	return Interpret(in, &res, locale), nil
}

// StandingView is one line of a respondent's history: a dimension's
// standing in words, or a code with the names of its letters; no scores.
type StandingView struct {
	Label    string `json:"label"`
	Standing string `json:"standing"`
	Meaning  string `json:"meaning,omitempty"`
}

// standings keeps what a history shows of an interpretation: the
// standings the document interprets (bands are shown as bands) and codes.
func standings(words Interpretation, locale string) []StandingView {
	var out []StandingView
	for _, d := range words.Dimensions {
		if d.Meaning != "" && d.Standing != "" && !d.fromBand {
			out = append(out, StandingView{Label: d.Label, Standing: d.Standing, Meaning: d.Meaning})
		}
	}
	for _, c := range words.Codes {
		var names []string
		for _, l := range c.Letters {
			names = append(names, l.Label)
		}
		sep := ", "
		if locale == engine.Locales[0] {
			sep = "、"
		}
		out = append(out, StandingView{Label: c.Label, Standing: c.Value, Meaning: strings.Join(names, sep)})
	}
	return out
}
