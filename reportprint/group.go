// Package reportprint lays a campaign's group report (assess.CampaignReport)
// out as a printout.Document: the A4 PDF a school psychologist hands to
// the principal or the education bureau. Every word comes from the report
// (which took its labels from the instrument documents), from
// assess.ReportLabels, or from this package's own locale table (words.go);
// none is a code.
package reportprint

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"xinling/assess"
	"xinling/printout"
)

// suppressed is how a figure withheld from teachers and viewers reads.
const suppressed = "<5"

// count prints a figure that may be suppressed (nil).
func count(n *int) string {
	if n == nil {
		return suppressed
	}
	return strconv.Itoa(*n)
}

// value is a suppressed figure as 0, for charts: a chart never draws what a
// table withholds, so the level chart is left out when anything is nil.
func value(n *int) float64 {
	if n == nil {
		return 0
	}
	return float64(*n)
}

func decimal(f *float64) string {
	if f == nil {
		return "—"
	}
	return strconv.FormatFloat(*f, 'f', 2, 64)
}

// Group lays out rep. now is the print date on the cover.
func Group(rep *assess.CampaignReport, now time.Time) *printout.Document {
	l := assess.ReportLabelsFor(rep.Locale)
	w := wordsFor(rep.Locale)
	zone := chinaTime
	title := rep.Campaign.Name + " " + w.GroupTitle
	d := &printout.Document{
		Title:      title,
		Header:     rep.Unit.Name + " · " + rep.Campaign.Name,
		Marking:    w.Marking,
		Footer:     w.Footer,
		PageFormat: w.PageFormat,
		Numbering:  printout.NumberChinese,
		Cover: &printout.Cover{
			Title:    title,
			Subtitle: rep.Unit.Name,
			Marking:  w.Marking,
			Facts: []printout.KV{
				{Label: w.Unit, Value: rep.Unit.Name},
				{Label: w.Campaign, Value: rep.Campaign.Name},
				{Label: w.Period, Value: rep.Campaign.StartsAt.In(zone).Format(w.DateFormat) + " – " + rep.Campaign.EndsAt.In(zone).Format(w.DateFormat)},
				{Label: w.PrintedOn, Value: now.In(zone).Format(w.DateFormat)},
			},
			Notice: &printout.Notice{Title: w.NoticeTitle, Text: l.Disclaimer + w.NoticeMore},
		},
	}
	add := func(b ...printout.Block) { d.Blocks = append(d.Blocks, b...) }

	// Participation.
	p := rep.Participation
	add(&printout.Heading{Level: 1, Text: l.Participation})
	items := []printout.KV{}
	if p.Roster > 0 {
		items = append(items, printout.KV{Label: l.Roster, Value: strconv.Itoa(p.Roster)})
	}
	items = append(items,
		printout.KV{Label: l.Started, Value: strconv.Itoa(p.Started)},
		printout.KV{Label: l.Finished, Value: strconv.Itoa(p.Finished)},
		printout.KV{Label: l.Valid, Value: count(p.Valid)},
		printout.KV{Label: l.Invalid, Value: count(p.Invalid)})
	add(&printout.KVList{Items: items, Columns: 3})
	if len(p.InvalidReasons) > 0 {
		t := &printout.Table{Caption: l.InvalidReason, Columns: []printout.Column{{Title: l.Instrument, Width: 2}, {Title: l.InvalidReason, Width: 3},
			{Title: l.Count, Align: printout.Right}}}
		for _, r := range p.InvalidReasons {
			t.Rows = append(t.Rows, []printout.Cell{{Text: r.InstrumentTitle}, {Text: r.Label}, {Text: count(r.Count)}})
		}
		add(t)
	}

	// Warning levels.
	add(&printout.Heading{Level: 1, Text: l.WarningLevels})
	lv := rep.Levels
	levelNames := []string{l.Level1, l.Level2, l.Level3, l.NoWarning}
	levelCounts := []*int{lv.L1, lv.L2, lv.L3, lv.None}
	lt := &printout.Table{Columns: []printout.Column{{Title: l.LevelHead, Width: 2}, {Title: l.Count, Align: printout.Right}}}
	complete := true
	for i, n := range levelCounts {
		lt.Rows = append(lt.Rows, []printout.Cell{{Text: levelNames[i], Mark: printout.Level((i + 1) % 4)}, {Text: count(n)}})
		complete = complete && n != nil
	}
	add(lt)
	if complete {
		var series []printout.Series
		for i := range 3 {
			v := make([]float64, 3)
			v[i] = value(levelCounts[i])
			series = append(series, printout.Series{Name: levelNames[i], Values: v, Color: printout.LevelColor(printout.Level(i + 1))})
		}
		add(&printout.BarChart{Title: l.WarningLevels, Categories: levelNames[:3], Series: series, Stacked: true, ValueAxis: l.Count, ValueLabels: true})
	}

	// Instruments: bands, means, norms.
	add(&printout.Heading{Level: 1, Text: w.Instruments})
	for _, in := range rep.Instruments {
		add(&printout.Heading{Level: 2, Text: in.Title})
		valid := fmt.Sprintf(w.ValidOf, in.Results, count(in.Invalid))
		if rep.Appendices != nil && in.Invalid != nil && *in.Invalid > 0 {
			valid += w.SeeInvalid
		}
		add(&printout.Paragraph{Text: valid})
		for _, s := range in.Scores {
			add(&printout.Heading{Level: 3, Text: s.Label})
			add(&printout.KVList{Columns: 3, Items: []printout.KV{{Label: l.N, Value: strconv.Itoa(s.N)}, {Label: l.Mean, Value: decimal(s.Mean)},
				{Label: l.SD, Value: decimal(s.SD)}}})
			if len(s.Bands) > 0 {
				t := &printout.Table{Columns: []printout.Column{{Title: l.Band, Width: 3}, {Title: l.Count, Align: printout.Right}, {Title: w.Share, Align: printout.Right}}}
				chart := &printout.BarChart{Title: s.Label + " · " + l.Bands, Horizontal: true, ValueAxis: l.Count, ValueLabels: true}
				values := make([]float64, 0, len(s.Bands))
				ok := true
				for _, b := range s.Bands {
					share := "—"
					if b.Count != nil && s.N > 0 {
						share = strconv.FormatFloat(100*float64(*b.Count)/float64(s.N), 'f', 1, 64) + "%"
					}
					t.Rows = append(t.Rows, []printout.Cell{{Text: b.Label, Mark: printout.Level(b.Level)}, {Text: count(b.Count)}, {Text: share}})
					chart.Categories = append(chart.Categories, b.Label)
					values = append(values, value(b.Count))
					ok = ok && b.Count != nil
				}
				add(t)
				if ok && s.N > 0 {
					chart.Series = []printout.Series{{Name: l.Count, Values: values}}
					add(chart)
				}
			}
			if n := s.Norms; n != nil {
				add(&printout.KVList{Columns: 2, Items: []printout.KV{{Label: l.NormGroups, Value: strings.Join(n.Groups, "、")},
					{Label: l.MeanT, Value: decimal(n.MeanT)}, {Label: l.SDT, Value: decimal(n.SDT)},
					{Label: l.MeanPercentile, Value: decimal(n.MeanPercentile)}, {Label: l.T60, Value: count(n.AtLeastT60)}, {Label: l.T70, Value: count(n.AtLeastT70)}}})
			}
		}
	}

	// Suicide items, on their own.
	add(&printout.Heading{Level: 1, Text: l.SuicideItem})
	if len(rep.Suicide) == 0 {
		add(&printout.Paragraph{Text: w.NoSuicideItems})
	}
	for _, s := range rep.Suicide {
		t := &printout.Table{Caption: s.Title, Columns: []printout.Column{{Title: l.SuicideItem, Width: 4}, {Title: l.Positive, Align: printout.Right}}}
		t.Rows = append(t.Rows, []printout.Cell{{Text: l.AnySuicideItem, Mark: 1}, {Text: count(s.Positive)}})
		for _, r := range s.Rules {
			t.Rows = append(t.Rows, []printout.Cell{{Text: r.Label}, {Text: count(r.Positive)}})
		}
		add(t)
	}

	// Groups: classes, grades, sexes.
	groups := func(heading, head string, rows []assess.GroupRow) {
		if len(rows) == 0 {
			return
		}
		add(&printout.Heading{Level: 1, Text: heading})
		t := &printout.Table{Columns: []printout.Column{{Title: head, Width: 3}, {Title: l.Finished, Align: printout.Right},
			{Title: l.Level1, Align: printout.Right}, {Title: l.Level2, Align: printout.Right}, {Title: l.Level3, Align: printout.Right},
			{Title: l.NoWarning, Align: printout.Right}}}
		for _, g := range rows {
			name := g.Name
			if heading == w.BySex {
				name = l.SexLabel(g.Key)
			}
			t.Rows = append(t.Rows, []printout.Cell{{Text: name}, {Text: strconv.Itoa(g.Finished)}, {Text: count(g.Levels.L1), Mark: 1},
				{Text: count(g.Levels.L2), Mark: 2}, {Text: count(g.Levels.L3), Mark: 3}, {Text: count(g.Levels.None)}})
		}
		add(t)
	}
	groups(w.ClassTable, l.Class, rep.Classes)
	groups(w.ByGrade, l.Grade, rep.ByGrade)
	groups(w.BySex, l.Sex, rep.BySex)

	// Appendices, only in a report that carries them (staff who may see
	// individuals).
	if a := rep.Appendices; a != nil {
		add(&printout.PageBreak{}, &printout.Heading{Level: 1, Text: l.SheetFocus}, &printout.Paragraph{Text: w.AppendixNote, Small: true})
		focus := &printout.Table{Columns: []printout.Column{{Title: l.Name, Width: 1.2}, {Title: l.Class, Width: 1.5}, {Title: l.Sex, Width: 0.7},
			{Title: l.LevelHead, Width: 1.2}, {Title: l.Reasons, Width: 4}, {Title: l.State, Width: 1.2}}}
		for _, f := range a.Focus {
			focus.Rows = append(focus.Rows, []printout.Cell{{Text: f.Name}, {Text: f.Class}, {Text: l.SexLabel(f.Sex)},
				{Text: l.LevelLabel(f.Level), Mark: printout.Level(f.Level)}, {Text: strings.Join(f.Reasons, "；")}, {Text: l.StateLabel(string(f.State))}})
		}
		add(emptyRow(focus, w.None))
		add(&printout.Heading{Level: 1, Text: l.SheetInvalid})
		invalid := &printout.Table{Columns: []printout.Column{{Title: l.Name, Width: 1.2}, {Title: l.Class, Width: 1.5}, {Title: l.Sex, Width: 0.7},
			{Title: l.Instrument, Width: 2}, {Title: l.InvalidReason, Width: 3}}}
		for _, r := range a.Invalid {
			invalid.Rows = append(invalid.Rows, []printout.Cell{{Text: r.Name}, {Text: r.Class}, {Text: l.SexLabel(r.Sex)}, {Text: r.Title},
				{Text: strings.Join(r.Checks, "；")}})
		}
		add(emptyRow(invalid, w.None))
		add(&printout.Heading{Level: 1, Text: l.SheetAbsent}, &printout.Paragraph{Text: w.AbsentNote, Small: true})
		absent := &printout.Table{Columns: []printout.Column{{Title: l.Name, Width: 1.2}, {Title: l.Class, Width: 1.5}, {Title: l.Sex, Width: 0.7},
			{Title: l.AbsenceReason, Width: 4}}}
		for _, r := range a.NonParticipants {
			absent.Rows = append(absent.Rows, []printout.Cell{{Text: r.Name}, {Text: r.Class}, {Text: l.SexLabel(r.Sex)}, {Text: r.Reason}})
		}
		add(emptyRow(absent, w.None))
	}
	return d
}

// emptyRow gives a table with no rows one that says so, so an empty
// appendix reads as empty rather than missing.
func emptyRow(t *printout.Table, none string) *printout.Table {
	if len(t.Rows) == 0 {
		row := make([]printout.Cell, len(t.Columns))
		row[0].Text = none
		t.Rows = append(t.Rows, row)
	}
	return t
}
