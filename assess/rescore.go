package assess

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"xinling/engine"
	"xinling/store"
)

// Rescoring. Published scoring keys turn out wrong (a reverse-keyed item
// left unreversed is the classic), so an editor who publishes a corrected
// version can rescore past results with it: a dry run says what would
// change, and applying it keeps every old result, links the new one to it,
// raises the warnings the new scores raise, asks a counsellor to review the
// warnings they would no longer raise, and audits each step.

// RescoreRequest names the results to rescore and the version to use.
type RescoreRequest struct {
	Instrument string
	// Version is the published version to rescore with.
	Version string
	// CampaignID, if set, limits rescoring to one campaign's results.
	CampaignID string
	// Apply writes the new results; without it the call is a dry run.
	Apply bool
}

// RescoreReport says what a rescore changes (dry run) or changed.
type RescoreReport struct {
	Instrument string `json:"instrument"`
	Version    string `json:"version"`
	Applied    bool   `json:"applied"`
	// Considered counts results in scope made by other versions.
	Considered   int `json:"considered"`
	Unchanged    int `json:"unchanged"`
	ScoreChanged int `json:"score_changed"`
	BandChanged  int `json:"band_changed"`
	// WarningRaised counts results whose new score raises a warning the old
	// one did not; WarningForReview those whose old warning it would not.
	WarningRaised    int              `json:"warning_raised"`
	WarningForReview int              `json:"warning_for_review"`
	Skipped          map[string]int   `json:"skipped"`
	Changes          []RescoreChange  `json:"changes"`
	NewWarnings      []string         `json:"new_warnings,omitempty"`
	Failed           []RescoreFailure `json:"failed,omitempty"`
}

// RescoreChange is one result whose rescore differs.
type RescoreChange struct {
	ResultID    string             `json:"result_id"`
	NewResultID string             `json:"new_result_id,omitempty"`
	FromVersion string             `json:"from_version"`
	OldScores   map[string]float64 `json:"old_scores"`
	NewScores   map[string]float64 `json:"new_scores"`
	OldBands    map[string]string  `json:"old_bands"`
	NewBands    map[string]string  `json:"new_bands"`
	Raised      []string           `json:"raised,omitempty"`
	ForReview   []string           `json:"for_review,omitempty"`
}

// RescoreFailure is a result that could not be rescored on apply.
type RescoreFailure struct {
	ResultID string `json:"result_id"`
	Error    string `json:"error"`
}

// Reasons a result is not rescored.
const (
	SkipAnswersGone    = "answers_gone" // an anonymous session's answers were purged
	SkipIncomplete     = "incomplete"   // filed from an abandoned session
	SkipNotScorable    = "not_scorable" // the new version cannot score these answers
	maxReportedChanges = 500
)

// reviewText is the reason a counsellor reads on a warning that a
// corrected version would no longer raise.
var reviewText = engine.Text{
	"zh-CN": "按更正后的 %s %s 版重新计分后，此前的预警“%s”不再触发，请复核是否仍需跟进",
	"en":    "Rescored with the corrected %s version %s, the earlier warning \"%s\" no longer fires; please review whether follow-up is still needed",
}

// Rescore rescores the results in the principal's scope of an
// instrument (or of one campaign) with another version of it.
func (c *Catalog) Rescore(ctx context.Context, p *Principal, req RescoreRequest, ip string) (*RescoreReport, error) {
	target, err := c.rescoreTarget(ctx, p, req)
	if err != nil {
		return nil, err
	}
	rep := &RescoreReport{Instrument: target.ID(), Version: target.Version(), Applied: req.Apply, Skipped: map[string]int{}, Changes: []RescoreChange{}}
	page := store.Page{Limit: store.MaxLimit}
	var results []store.Result
	for {
		list, next, err := c.store.ListResults(ctx, store.ResultFilter{UnitPath: p.UnitPath, Instrument: req.Instrument, CampaignID: req.CampaignID}, page)
		if err != nil {
			return nil, err
		}
		results = append(results, list...)
		if next == "" {
			break
		}
		page.After = next
	}
	for _, old := range results {
		if old.Version == target.Version() {
			continue
		}
		rep.Considered++
		if slices.Contains(old.Flags, FlagIncomplete) {
			rep.Skipped[SkipIncomplete]++
			continue
		}
		res, err := c.rescoreOne(ctx, target, old)
		if err != nil {
			var skip skipError
			if errors.As(err, &skip) {
				rep.Skipped[string(skip)]++
				continue
			}
			return nil, err
		}
		ch := compareResults(old, res)
		if ch == nil {
			rep.Unchanged++
			continue
		}
		if !maps.Equal(ch.OldScores, ch.NewScores) {
			rep.ScoreChanged++
		}
		if !maps.Equal(ch.OldBands, ch.NewBands) {
			rep.BandChanged++
		}
		if len(ch.Raised) > 0 {
			rep.WarningRaised++
		}
		if len(ch.ForReview) > 0 {
			rep.WarningForReview++
		}
		if req.Apply {
			if err := c.applyRescore(ctx, p, target, old, res, ch, ip, rep); err != nil {
				rep.Failed = append(rep.Failed, RescoreFailure{ResultID: old.ID, Error: err.Error()})
			}
		}
		if len(rep.Changes) < maxReportedChanges {
			rep.Changes = append(rep.Changes, *ch)
		}
	}
	e := auditBy(p, "rescore_dry_run", "instrument", target.ID()+" "+target.Version(), p.UnitPath, ip,
		fmt.Sprintf("campaign=%s considered=%d changed=%d raised=%d review=%d", req.CampaignID, rep.Considered,
			rep.Considered-rep.Unchanged-sum(rep.Skipped), rep.WarningRaised, rep.WarningForReview))
	if req.Apply {
		e.Action = "rescore_apply" // done: each result's rescore is audited above
		c.auditAction(ctx, e)
	} else if err := c.auditDisclosure(ctx, e); err != nil {
		return nil, err // a dry run changed nothing but reads results' scores
	}
	return rep, nil
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// rescoreTarget checks who may rescore with which version. A custom
// instrument's editors (in its owner's scope) may; a built-in's new
// version, only administrators.
func (c *Catalog) rescoreTarget(ctx context.Context, p *Principal, req RescoreRequest) (*engine.Instrument, error) {
	if c.builtin[req.Instrument] {
		if p.Role != store.RoleAdmin {
			return nil, errorf(CodeForbidden, "", "only an administrator may rescore a built-in instrument")
		}
		in, ok := c.lib.Get(req.Instrument, req.Version)
		if !ok {
			return nil, errorf(CodeNotFound, "version", "no version %s of %s", req.Version, req.Instrument)
		}
		return in, nil
	}
	d, _, err := c.owned(ctx, p, req.Instrument, req.Version)
	if err != nil {
		return nil, err
	}
	if d.State != store.InstrumentPublished {
		return nil, errorf(CodeConflict, "version", "%s %s is %s; rescore with a published version", req.Instrument, req.Version, d.State)
	}
	in, ok := c.lib.Get(req.Instrument, req.Version)
	if !ok {
		return nil, errorf(CodeUnavailable, "version", "%s %s is not loaded on this server yet; try again in a few seconds", req.Instrument, req.Version)
	}
	return in, nil
}

type skipError string

func (e skipError) Error() string { return string(e) }

// rescoreOne scores a stored result's answers with in, as its session
// would have been scored then: same respondent, same history.
func (c *Catalog) rescoreOne(ctx context.Context, in *engine.Instrument, old store.Result) (*engine.Result, error) {
	sess, err := c.store.GetSession(ctx, old.SessionID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, skipError(SkipAnswersGone)
	}
	if err != nil {
		return nil, err
	}
	if sess.State == store.SessionPurged {
		return nil, skipError(SkipAnswersGone)
	}
	answers, err := c.store.ListAnswers(ctx, sess.ID)
	if err != nil {
		return nil, err
	}
	mine := groupAnswers(answers)[old.Instrument]
	if len(mine) == 0 {
		return nil, skipError(SkipAnswersGone)
	}
	history, err := historyOf(ctx, c.store, old.PersonID, in, old.CreatedAt)
	if err != nil {
		return nil, err
	}
	res, err := scoreAnswers(in, mine, sess.Sex, float64(sess.Age), history)
	var ae *Error
	if errors.As(err, &ae) {
		// A corrected version may drop an option these answers used.
		return nil, skipError(SkipNotScorable)
	}
	return res, err
}

// Reproduce rescores a stored result with the exact document that made it
// (by content hash) and reports whether the outcome is identical to the
// stored one, byte for byte. A stored result that does not reproduce means
// scoring is not deterministic, or the result was tampered with.
func (c *Catalog) Reproduce(ctx context.Context, r store.Result) (bool, string, error) {
	in, ok := c.lib.GetHash(r.Instrument, r.ContentHash)
	if !ok {
		return false, "", fmt.Errorf("%s with hash %s is not loaded", r.Instrument, r.ContentHash)
	}
	res, err := c.rescoreOne(ctx, in, r)
	if err != nil {
		return false, "", err
	}
	payload, err := json.Marshal(res)
	if err != nil {
		return false, "", err
	}
	if string(payload) != string(r.Payload) {
		return false, fmt.Sprintf("stored %s\nrescored %s", r.Payload, payload), nil
	}
	return true, "", nil
}

// compareResults says how a rescore differs from the stored result, or
// nil when it does not.
func compareResults(old store.Result, res *engine.Result) *RescoreChange {
	ch := &RescoreChange{ResultID: old.ID, FromVersion: old.Version, OldScores: nonNil(old.Scores), OldBands: nonNil(old.Bands),
		NewScores: map[string]float64{}, NewBands: map[string]string{}}
	for _, s := range res.Scores {
		ch.NewScores[s.ID] = s.Value
	}
	for _, b := range res.Bands {
		ch.NewBands[b.Score] = b.Code
	}
	oldRules := storedWarnings(old)
	newRules := map[string]bool{}
	for _, w := range res.Warnings {
		newRules[w.Rule] = true
		if _, had := oldRules[w.Rule]; !had {
			ch.Raised = append(ch.Raised, w.Rule)
		}
	}
	for rule := range oldRules {
		if !newRules[rule] {
			ch.ForReview = append(ch.ForReview, rule)
		}
	}
	slices.Sort(ch.ForReview)
	sameScores := maps.EqualFunc(ch.OldScores, ch.NewScores, func(a, b float64) bool { return math.Abs(a-b) < 1e-9 })
	if sameScores && maps.Equal(ch.OldBands, ch.NewBands) && len(ch.Raised) == 0 && len(ch.ForReview) == 0 {
		return nil
	}
	return ch
}

func nonNil[V any](m map[string]V) map[string]V {
	if m == nil {
		return map[string]V{}
	}
	return m
}

// applyRescore writes one rescored result, with the queue entry its
// changed warnings need, and audits it.
func (c *Catalog) applyRescore(ctx context.Context, p *Principal, in *engine.Instrument, old store.Result, res *engine.Result, ch *RescoreChange, ip string, rep *RescoreReport) error {
	payload, err := json.Marshal(res)
	if err != nil {
		return err
	}
	nr := store.Result{ID: store.NewID(), Supersedes: old.ID, Instrument: in.ID(), Version: in.Version(), ContentHash: in.Hash,
		Scores: ch.NewScores, Bands: ch.NewBands, Payload: payload}
	for _, f := range res.Validity {
		nr.Flags = append(nr.Flags, f.ID)
	}
	var draft *store.WarningDraft
	add := func(r store.Reason) {
		if draft == nil {
			draft = &store.WarningDraft{ID: store.NewID(), Key: "rescore:" + nr.ID, Level: r.Level}
		}
		draft.Level = min(draft.Level, r.Level)
		draft.Reasons = append(draft.Reasons, r)
	}
	for _, w := range res.Warnings {
		if slices.Contains(ch.Raised, w.Rule) {
			add(store.Reason{ResultID: nr.ID, Instrument: in.ID(), Rule: w.Rule, Level: w.Level, Text: w.Reason, EarlierResultID: w.Earlier})
		}
	}
	oldWarnings := storedWarnings(old)
	for _, rule := range ch.ForReview {
		text := map[string]string{}
		for _, loc := range engine.Locales {
			t := rule
			if w, ok := oldWarnings[rule]; ok {
				t = w.Reason.Get(loc)
			}
			text[loc] = fmt.Sprintf(reviewText[loc], strings.ToUpper(in.ID()), in.Version(), t)
		}
		// A warning is never closed silently: the dropped one comes back
		// as a yellow entry that a counsellor reviews and closes.
		add(store.Reason{ResultID: nr.ID, Instrument: in.ID(), Rule: "rescore_review." + rule, Level: 3, Text: text, EarlierResultID: old.ID})
	}
	if draft != nil {
		draft.DueAt = c.now().Add(c.sla[draft.Level])
	}
	stored, w, err := c.store.RescoreResult(ctx, store.Rescore{Result: nr, Warning: draft, At: c.now()})
	if err != nil {
		return err
	}
	ch.NewResultID = stored.ID
	if w != nil {
		rep.NewWarnings = append(rep.NewWarnings, w.ID)
		c.hub.Publish(*w)
		c.kick()
	}
	c.auditAction(ctx, auditBy(p, "rescore", "result", old.ID, old.UnitPath, ip, fmt.Sprintf("%s %s -> %s as %s", in.ID(), old.Version, in.Version(), stored.ID)))
	return nil
}

// storedWarnings reads the warnings a stored result fired, by rule, from
// its payload.
func storedWarnings(r store.Result) map[string]engine.Warning {
	var res engine.Result
	_ = json.Unmarshal(r.Payload, &res)
	out := map[string]engine.Warning{}
	for _, w := range res.Warnings {
		out[w.Rule] = w
	}
	return out
}
