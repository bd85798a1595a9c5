package assess

import (
	"time"

	"xinling/engine"
	"xinling/store"
)

// The views below are what respondents receive; their JSON names are the
// contract in docs/api.md.

// SessionView is a session as its respondent sees it.
type SessionView struct {
	ID          string             `json:"id"`
	Token       string             `json:"token,omitempty"`
	State       string             `json:"state"`
	ExpiresAt   *time.Time         `json:"expires_at,omitempty"`
	Instruments []InstrumentView   `json:"instruments"`
	Items       []ItemView         `json:"items"`
	Answers     map[string]float64 `json:"answers"`
	Progress    Progress           `json:"progress"`
	Next        *string            `json:"next"`
	Result      *ResultView        `json:"result,omitempty"`
}

// InstrumentView introduces one instrument of a session.
type InstrumentView struct {
	ID           string `json:"id"`
	Version      string `json:"version"`
	Title        string `json:"title"`
	Instructions string `json:"instructions"`
}

// ItemView is one item to show.
type ItemView struct {
	ID         string       `json:"id"`
	Instrument string       `json:"instrument"`
	Text       string       `json:"text"`
	Options    []OptionView `json:"options"`
}

// OptionView is one response an item offers.
type OptionView struct {
	Value float64 `json:"value"`
	Label string  `json:"label"`
}

// Progress counts answered items among those shown.
type Progress struct {
	Answered int `json:"answered"`
	Total    int `json:"total"`
}

// SubmitView is the response to a submit.
type SubmitView struct {
	ID     string     `json:"id"`
	State  string     `json:"state"`
	Result ResultView `json:"result"`
	Crisis *Crisis    `json:"crisis"`
	// Visibility is set for a campaign that shows students less than
	// their bands: "thanks" (with Message) or "nothing".
	Visibility string `json:"visibility,omitempty"`
	Message    string `json:"message,omitempty"`
	// CallbackOffer: the result raised a warning, so the respondent is
	// offered a counsellor's call-back (POST /sessions/{id}/callback). A
	// crisis always offers it; a campaign that hides results offers it
	// only with the crisis block, so that the offer tells nothing more.
	CallbackOffer bool `json:"callback_offer"`
}

// ResultView holds what the respondent may see of each instrument's result.
// Scores and Bands repeat the instruments' ones in one map for clients
// that want them flat: keyed by score id for a single instrument, and by
// "<instrument>.<score>" for a battery.
type ResultView struct {
	Scores      map[string]float64  `json:"scores"`
	Bands       map[string]BandView `json:"bands"`
	Instruments []InstrumentResult  `json:"instruments"`
}

// flatten fills Scores and Bands from Instruments.
func (r *ResultView) flatten() {
	r.Scores, r.Bands = map[string]float64{}, map[string]BandView{}
	prefix := len(r.Instruments) > 1
	key := func(inst, id string) string {
		if prefix {
			return inst + "." + id
		}
		return id
	}
	for _, ir := range r.Instruments {
		for id, v := range ir.Scores {
			r.Scores[key(ir.ID, id)] = v
		}
		for id, b := range ir.Bands {
			r.Bands[key(ir.ID, id)] = b
		}
	}
}

// InstrumentResult is one instrument's visible result.
type InstrumentResult struct {
	ID     string              `json:"id"`
	Title  string              `json:"title"`
	Scores map[string]float64  `json:"scores"`
	Bands  map[string]BandView `json:"bands"`
	Texts  map[string]string   `json:"texts,omitempty"`
	// Dimensions and Codes put every score and code into words: its
	// label, standing and what that means (interpret.go).
	Dimensions []DimensionView `json:"dimensions"`
	Codes      []CodeView      `json:"codes,omitempty"`
}

// BandView is a band in the respondent's words.
type BandView struct {
	Code     string `json:"code"`
	Label    string `json:"label"`
	Feedback string `json:"feedback,omitempty"`
}

// Crisis is shown at once when a level-1 rule fires.
type Crisis struct {
	Hotline  string    `json:"hotline"`
	Message  string    `json:"message"`
	FollowUp *FollowUp `json:"follow_up"`
}

// FollowUp names the instrument to start next.
type FollowUp struct {
	Instrument string `json:"instrument"`
	Title      string `json:"title"`
}

// CatalogueEntry is one public self-test.
type CatalogueEntry struct {
	ID          string  `json:"id"`
	Version     string  `json:"version"`
	Kind        string  `json:"kind"`
	Title       string  `json:"title"`
	ShortTitle  string  `json:"short_title,omitempty"`
	Description string  `json:"description,omitempty"`
	Minutes     float64 `json:"minutes"`
	Items       int     `json:"items"`
}

// Catalogue lists the public self-tests.
func (s *Sessions) Catalogue(locale string) []CatalogueEntry {
	out := []CatalogueEntry{}
	for _, in := range s.catalog.Public() {
		d := in.Doc
		out = append(out, CatalogueEntry{
			ID: d.ID, Version: d.Version, Kind: d.Kind, Title: d.Title.Get(locale),
			ShortTitle: d.ShortTitle.Get(locale), Description: d.Description.Get(locale),
			Minutes: d.Minutes, Items: len(d.Items),
		})
	}
	return out
}

// view builds the resume state from the stored answers.
func (s *Sessions) view(ls *liveSession, answers []store.Answer, locale string) (*SessionView, error) {
	ls.mu.Lock()
	sess, last := ls.sess, ls.lastActive
	ls.mu.Unlock()
	v := &SessionView{ID: sess.ID, State: string(sess.State), Answers: map[string]float64{}, Items: []ItemView{}}
	if sess.State == store.SessionOpen {
		exp := last.Add(s.cfg.IdleTimeout).UTC()
		v.ExpiresAt = &exp
	}
	byInst := groupAnswers(answers)
	for _, a := range answers {
		v.Answers[a.Item] = a.Value
	}
	for _, in := range ls.insts {
		d := in.Doc
		v.Instruments = append(v.Instruments, InstrumentView{ID: d.ID, Version: d.Version, Title: d.Title.Get(locale), Instructions: d.Instructions.Get(locale)})
		given := byInst[d.ID]
		shown, err := in.Shown(given, sess.Sex, float64(sess.Age))
		if err != nil {
			return nil, fromInput(err, "")
		}
		for _, item := range shown {
			id := d.ID + "." + item
			v.Items = append(v.Items, itemView(in, item, id, locale))
			v.Progress.Total++
			if _, ok := given[item]; ok {
				v.Progress.Answered++
			} else if v.Next == nil {
				next := id
				v.Next = &next
			}
		}
	}
	return v, nil
}

func itemView(in *engine.Instrument, item, id, locale string) ItemView {
	iv := ItemView{ID: id, Instrument: in.ID()}
	for _, it := range in.Doc.Items {
		if it.ID == item {
			iv.Text = it.Text.Get(locale)
			break
		}
	}
	for _, o := range in.Options(item) {
		iv.Options = append(iv.Options, OptionView{Value: *o.Value, Label: o.Label.Get(locale)})
	}
	return iv
}
