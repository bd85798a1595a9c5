package assess

import (
	"context"
	"slices"
	"time"

	"xinling/store"
)

// The whole path of a person after a screening (issue 17), as one
// timeline: each result (invalid ones marked), each queue entry, case,
// conference, parent meeting, referral and retake code, oldest first. It
// is built from the parts of the record the reader may see, so it shows
// nothing the record does not.

// Timeline event kinds.
const (
	EventResult        = "result"
	EventWarning       = "warning"
	EventCase          = "case"
	EventConference    = "conference"
	EventParentMeeting = "parent_meeting"
	EventReferral      = "referral"
	EventRetake        = "retake"
)

// TimelineEvent is one step of the path. Ref is the id of the record the
// step is (a result, an entry, a case...); the other fields are the few
// facts a line of the timeline shows.
type TimelineEvent struct {
	At         time.Time `json:"at"`
	Kind       string    `json:"kind"`
	Ref        string    `json:"ref"`
	Instrument string    `json:"instrument,omitempty"`
	Invalid    bool      `json:"invalid,omitempty"`
	Level      int       `json:"level,omitempty"`
	State      string    `json:"state,omitempty"`
	Decision   string    `json:"decision,omitempty"`
	UnitID     string    `json:"unit_id,omitempty"`
	// ResultID: the result a retake code was issued for.
	ResultID string `json:"result_id,omitempty"`
}

func timeline(rec *PersonRecord) []TimelineEvent {
	out := []TimelineEvent{}
	for _, r := range rec.Results {
		out = append(out, TimelineEvent{At: r.At, Kind: EventResult, Ref: r.ID, Instrument: r.Instrument, Invalid: r.Invalid, UnitID: r.UnitID})
	}
	for _, w := range rec.Warnings {
		out = append(out, TimelineEvent{At: w.CreatedAt, Kind: EventWarning, Ref: w.ID, Level: w.Level, State: w.State, UnitID: w.UnitID})
	}
	for _, c := range rec.Cases {
		state := "open"
		if c.Closed {
			state = "closed"
		}
		out = append(out, TimelineEvent{At: c.At, Kind: EventCase, Ref: c.ID, State: state, UnitID: c.UnitID})
	}
	for _, m := range rec.Meetings {
		kind := EventConference
		if m.Kind == KindParentMeeting {
			kind = EventParentMeeting
		}
		out = append(out, TimelineEvent{At: m.Date, Kind: kind, Ref: m.ID, Decision: m.Decision, UnitID: m.UnitID})
	}
	for _, ref := range rec.Referrals {
		out = append(out, TimelineEvent{At: ref.CreatedAt, Kind: EventReferral, Ref: ref.ID, State: ref.State, UnitID: ref.ToUnitID})
	}
	for _, rt := range rec.Retakes {
		state := "issued"
		if rt.SessionID != "" {
			state = "started"
		}
		out = append(out, TimelineEvent{At: rt.CreatedAt, Kind: EventRetake, Ref: rt.Code, ResultID: rt.ResultID, State: state, UnitID: rt.UnitID})
	}
	slices.SortStableFunc(out, func(a, b TimelineEvent) int { return a.At.Compare(b.At) })
	return out
}

// retakesOf lists the retake codes issued to a person for results the
// reader may see.
func (r *Records) retakesOf(ctx context.Context, a *access, personID string, shown []store.Result) ([]RetakeRecord, error) {
	codes, err := r.store.ListPersonAccessCodes(ctx, personID)
	if err != nil {
		return nil, err
	}
	out := []RetakeRecord{}
	for _, c := range codes {
		if c.RetakeOf == "" || !a.visible(c.UnitPath) {
			continue
		}
		if !slices.ContainsFunc(shown, func(res store.Result) bool { return res.ID == c.RetakeOf }) {
			continue
		}
		out = append(out, retakeRecord(c, true))
	}
	return out, nil
}

// InstrumentLabels are the words of one instrument document, in one
// locale, that a record's results need: the title, each score's label and
// each band's label, so that a page never shows a raw code.
type InstrumentLabels struct {
	Title  string                       `json:"title"`
	Scores map[string]string            `json:"scores"`
	Bands  map[string]map[string]string `json:"bands"`
}

// labelsFor gathers the labels of the instruments of results, from the
// version each result was scored with (falling back to the newest loaded
// version of the instrument).
func (r *Records) labelsFor(results []ResultRecord, locale string) map[string]InstrumentLabels {
	out := map[string]InstrumentLabels{}
	for _, res := range results {
		in, ok := r.lib.Get(res.Instrument, res.Version)
		if !ok {
			vs := r.lib.Versions(res.Instrument)
			if len(vs) == 0 {
				continue
			}
			in = vs[len(vs)-1]
		}
		l, seen := out[res.Instrument]
		if !seen {
			l = InstrumentLabels{Scores: map[string]string{}, Bands: map[string]map[string]string{}}
		}
		d := in.Doc
		if l.Title == "" {
			l.Title = d.Title.Get(locale)
		}
		for _, sc := range d.Scoring.Scores {
			if _, ok := l.Scores[sc.ID]; ok {
				continue
			}
			if lbl := sc.Label.Get(locale); lbl != "" {
				l.Scores[sc.ID] = lbl
			} else if len(d.Scoring.Scores) == 1 {
				l.Scores[sc.ID] = l.Title // a single unlabelled score is the scale's own
			}
		}
		for score, bands := range d.Scoring.Bands {
			if l.Bands[score] == nil {
				l.Bands[score] = map[string]string{}
			}
			for _, b := range bands {
				if _, ok := l.Bands[score][b.Code]; !ok {
					l.Bands[score][b.Code] = b.Label.Get(locale)
				}
			}
		}
		out[res.Instrument] = l
	}
	return out
}
