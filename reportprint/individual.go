package reportprint

import (
	"strconv"
	"time"

	"xinling/assess"
	"xinling/printout"
)

// Individual lays out one pupil's report: who and when, each result's
// scores in words (a profile chart when a result has several dimensions),
// invalid results marked, and the school's next step for the pupil's most
// urgent warning level. Several are bound into one PDF by printout.Render.
func Individual(rep assess.IndividualReport, locale string, now time.Time) *printout.Document {
	l := assess.ReportLabelsFor(locale)
	w := wordsFor(locale)
	d := &printout.Document{
		Title:      rep.Name + " · " + rep.Class,
		Header:     rep.Campaign.Name + " · " + w.IndividualTitle,
		Marking:    w.Marking,
		Footer:     w.Footer,
		PageFormat: w.PageFormat,
		Numbering:  printout.NumberNone,
	}
	add := func(b ...printout.Block) { d.Blocks = append(d.Blocks, b...) }
	add(&printout.Heading{Level: 1, Text: rep.Name + " " + w.IndividualTitle},
		&printout.KVList{Columns: 2, Items: []printout.KV{{Label: l.Name, Value: rep.Name}, {Label: l.Class, Value: rep.Class},
			{Label: l.Sex, Value: l.SexLabel(rep.Sex)}, {Label: w.Campaign, Value: rep.Campaign.Name},
			{Label: l.LevelHead, Value: l.LevelLabel(rep.Level)}, {Label: w.PrintedOn, Value: now.In(chinaTime).Format(w.DateFormat)}}})
	for _, r := range rep.Results {
		add(&printout.Heading{Level: 2, Text: r.Title})
		if len(r.Invalid) > 0 {
			text := w.InvalidResult
			for i, c := range r.Invalid {
				if i > 0 {
					text += "；"
				}
				text += c
			}
			add(&printout.Notice{Title: l.Invalid, Text: text})
		}
		dims := r.Interpretation.Dimensions
		// A profile (three or more dimensions) is drawn; a screening's one or two
		// scores read better as the table alone.
		if len(dims) >= 3 {
			chart := &printout.ProfileChart{Title: r.Title, Min: 0, Max: 100, Ticks: []float64{0, 25, 50, 75, 100}}
			for _, dm := range dims {
				share := 0.0
				if dm.Min != nil && dm.Max != nil && *dm.Max > *dm.Min {
					share = 100 * (dm.Value - *dm.Min) / (*dm.Max - *dm.Min)
				}
				chart.Dimensions = append(chart.Dimensions, printout.ProfileBar{Label: dm.Label, Value: share,
					Text: number(dm.Value) + " " + dm.Standing})
			}
			add(chart, &printout.Paragraph{Text: w.ProfileScale, Small: true})
		}
		t := &printout.Table{Columns: []printout.Column{{Title: l.Score, Width: 2}, {Title: w.Value, Align: printout.Right},
			{Title: w.Standing, Width: 1.5}, {Title: w.Meaning, Width: 5}}}
		for _, dm := range dims {
			value := number(dm.Value)
			if dm.On != "" {
				value += " (" + w.OnScale[dm.On] + " " + number(dm.OnValue) + ")"
			}
			t.Rows = append(t.Rows, []printout.Cell{{Text: dm.Label}, {Text: value}, {Text: dm.Standing}, {Text: dm.Meaning}})
		}
		if len(t.Rows) > 0 {
			add(t)
		}
		for _, code := range r.Interpretation.Codes {
			add(&printout.KVList{Items: []printout.KV{{Label: code.Label, Value: code.Value}}})
			for _, letter := range code.Letters {
				text := letter.Meaning
				if letter.Fields != "" {
					text += "\n" + w.Fields + letter.Fields
				}
				if letter.Occupations != "" {
					text += "\n" + w.Occupations + letter.Occupations
				}
				add(&printout.Notice{Title: letter.Letter + " " + letter.Label, Text: text})
			}
		}
	}
	add(&printout.Heading{Level: 2, Text: w.NextStepTitle}, &printout.Paragraph{Text: w.NextStep[rep.Level]},
		&printout.Notice{Title: w.NoticeTitle, Text: l.Disclaimer})
	return d
}

// number prints a score as the documents write them: whole numbers bare.
func number(v float64) string {
	return strconv.FormatFloat(v, 'f', -1, 64)
}
