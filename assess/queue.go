package assess

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"xinling/engine"
	"xinling/store"
)

// Outcomes are the codes a closed entry may carry.
var Outcomes = []string{
	"no_risk",           // followed up; no current risk found
	"counselled",        // counselled at this unit
	"referred_medical",  // sent to a hospital or psychiatric service
	"crisis_intervened", // emergency response (120/110, guardians)
	"unreachable",       // repeated attempts failed
	"declined",          // the person declined follow-up
	"duplicate",         // already handled under another entry
}

// Queue is the warning queue workflow for staff. An escalated level-1
// entry gets a fresh deadline (Options.SLA) at the parent unit.
type Queue struct {
	*shared
	lease time.Duration // how long a claim holds an entry without renewal
}

// canWork: roles that follow individuals up. Teachers and viewers see
// only anonymous aggregates.
func canWork(p *Principal) error {
	switch p.Role {
	case store.RoleAdmin, store.RoleCounsellor, store.RoleSchoolPsychologist:
		return nil
	}
	return errorf(CodeForbidden, "", "your role sees anonymous aggregates only")
}

// QueueFilter selects entries for a list.
type QueueFilter struct {
	Levels  []int
	States  []store.WarningState
	UnitID  string
	Overdue bool
}

// List returns entries in the principal's subtree, most urgent first.
func (q *Queue) List(ctx context.Context, p *Principal, f QueueFilter, page store.Page) ([]store.Warning, string, error) {
	if err := canWork(p); err != nil {
		return nil, "", err
	}
	sf := store.WarningFilter{UnitPath: p.UnitPath, Levels: f.Levels, States: f.States}
	if f.UnitID != "" {
		u, err := q.store.GetUnit(ctx, f.UnitID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && !p.InScope(u.Path)) {
			return nil, "", errorf(CodeNotFound, "unit", "no unit %q", f.UnitID)
		}
		if err != nil {
			return nil, "", err
		}
		sf.UnitPath = u.Path
	}
	if f.Overdue {
		sf.OverdueAt = q.now()
	}
	return q.store.ListWarnings(ctx, sf, page)
}

// load fetches an entry the principal may work on; out of scope is not found.
func (q *Queue) load(ctx context.Context, p *Principal, id string) (store.Warning, error) {
	if err := canWork(p); err != nil {
		return store.Warning{}, err
	}
	w, err := q.store.GetWarning(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !p.InScope(w.UnitPath)) {
		return store.Warning{}, errorf(CodeNotFound, "", "no warning %q", id)
	}
	return w, err
}

// Detail is an entry with what a counsellor needs to act on it.
type Detail struct {
	Warning store.Warning
	Results []DetailResult
	Answers []DetailAnswer
	// Callbacks are the respondent's call-back requests filed on the
	// entry ("回电请求"), with the number and the preferred time.
	Callbacks []CallbackRecord
}

// DetailAnswer is one answer with the item's wording and the chosen
// option's label, so a counsellor reads "有不如死掉或用某种方式伤害自己的念头:
// 好几天" rather than "phq9.q9 = 1" before calling someone back. Text and
// Label are empty when the instrument version is no longer loaded.
type DetailAnswer struct {
	store.Answer
	Text  engine.Text
	Label engine.Text
}

// DetailResult is one scored instrument behind an entry.
type DetailResult struct {
	ID         string
	Instrument string
	Version    string
	Title      engine.Text
	Scores     map[string]float64
	Bands      map[string]string
	// BandLabels names each band in words, by score, as the instrument
	// version that scored it does.
	BandLabels map[string]engine.Text
	// ScoreLabels names each score as the document does (see docScoreLabel).
	ScoreLabels map[string]engine.Text
	Flags       []string
	CreatedAt   time.Time
}

// Detail returns an entry with its history, results, answers, reasons and
// call-back requests. Reading it is reading a person's record, so it is
// audited.
func (q *Queue) Detail(ctx context.Context, p *Principal, id, ip string) (*Detail, error) {
	w, err := q.load(ctx, p, id)
	if err != nil {
		return nil, err
	}
	d := &Detail{Warning: w}
	for _, rid := range w.ResultIDs {
		r, err := q.store.GetResult(ctx, rid)
		if err != nil {
			return nil, err
		}
		dr := DetailResult{ID: r.ID, Instrument: r.Instrument, Version: r.Version, Scores: r.Scores, Bands: r.Bands, Flags: r.Flags, CreatedAt: r.CreatedAt}
		if in, ok := q.lib.Get(r.Instrument, r.Version); ok {
			dr.Title = in.Doc.Title
			dr.ScoreLabels = map[string]engine.Text{}
			for score := range r.Scores {
				dr.ScoreLabels[score] = docScoreLabel(in, score)
			}
			dr.BandLabels = map[string]engine.Text{}
			for score, code := range r.Bands {
				for _, b := range in.Doc.Scoring.Bands[score] {
					if b.Code == code {
						dr.BandLabels[score] = b.Label
					}
				}
			}
		}
		d.Results = append(d.Results, dr)
	}
	sessions := []string{w.SessionID}
	for _, r := range d.Results {
		res, _ := q.store.GetResult(ctx, r.ID)
		if !slices.Contains(sessions, res.SessionID) {
			sessions = append(sessions, res.SessionID)
		}
	}
	versions := map[string]string{}
	for _, r := range d.Results {
		versions[r.Instrument] = r.Version
	}
	for _, sid := range sessions {
		answers, err := q.store.ListAnswers(ctx, sid)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		for _, a := range answers {
			d.Answers = append(d.Answers, q.wording(a, versions))
		}
	}
	callbacks, err := collect(func(pg store.Page) ([]store.Callback, string, error) {
		return q.store.ListCallbacks(ctx, store.CallbackFilter{WarningIDs: []string{w.ID}}, pg)
	})
	if err != nil {
		return nil, err
	}
	d.Callbacks = []CallbackRecord{}
	for _, c := range callbacks {
		d.Callbacks = append(d.Callbacks, NewCallbackRecord(c))
	}
	if err := q.auditDisclosure(ctx, warningAudit(p, "read_warning", w, ip, "")); err != nil {
		return nil, err
	}
	return d, nil
}

// wording finds an answer's item text and option label in the instrument
// version that scored it. Answers are keyed by API item id, "phq9.q9".
func (q *Queue) wording(a store.Answer, versions map[string]string) DetailAnswer {
	out := DetailAnswer{Answer: a}
	inst, itemID, ok := strings.Cut(a.Item, ".")
	if !ok {
		return out
	}
	in, ok := q.lib.Get(inst, versions[inst])
	if !ok {
		return out
	}
	for _, it := range in.Doc.Items {
		if it.ID != itemID {
			continue
		}
		out.Text = it.Text
		options := it.Options
		if len(options) == 0 {
			options = in.Doc.Options
		}
		for _, o := range options {
			if o.Value != nil && *o.Value == a.Value {
				out.Label = o.Label
			}
		}
	}
	return out
}

// warningAudit is the audit line of something p did to or with an entry.
func warningAudit(p *Principal, action string, w store.Warning, ip, detail string) store.AuditEntry {
	return auditBy(p, action, "warning", w.ID, w.UnitPath, ip, detail)
}

// mapQueueErr turns the store's queue errors into what a counsellor reads.
func mapQueueErr(err error) error {
	switch {
	case errors.Is(err, store.ErrLeaseHeld):
		return errorf(CodeConflict, "", "a colleague holds this entry; it can be taken over once their claim lapses")
	case errors.Is(err, store.ErrInvalidTransition):
		return errorf(CodeConflict, "state", "%s", err.Error())
	case errors.Is(err, store.ErrInvalid):
		return errorf(CodeValidation, "outcome", "%s", err.Error())
	}
	return err
}

// Claim takes an entry for the principal, with a lease.
func (q *Queue) Claim(ctx context.Context, p *Principal, id, ip string) (store.Warning, error) {
	if _, err := q.load(ctx, p, id); err != nil {
		return store.Warning{}, err
	}
	now := q.now()
	w, err := q.store.ClaimWarning(ctx, id, p.StaffID, now, now.Add(q.lease))
	if err != nil {
		return store.Warning{}, mapQueueErr(err)
	}
	q.auditAction(ctx, warningAudit(p, "claim", w, ip, ""))
	q.hub.Publish(w)
	return w, nil
}

// Change is a state transition asked for by staff.
type Change struct {
	To      store.WarningState
	Note    string
	Outcome string
}

// Transition moves an entry along its state machine; every move needs a
// note, and closing needs an outcome code. To open releases the entry.
func (q *Queue) Transition(ctx context.Context, p *Principal, id string, ch Change, ip string) (store.Warning, error) {
	if _, err := q.load(ctx, p, id); err != nil {
		return store.Warning{}, err
	}
	if ch.Note == "" {
		return store.Warning{}, errorf(CodeValidation, "note", "every step needs a note")
	}
	if ch.To == store.WarningReferred {
		return store.Warning{}, errorf(CodeValidation, "to", "refer an entry with POST /warnings/{id}/refer, naming the unit")
	}
	if ch.To == store.WarningClosed && !slices.Contains(Outcomes, ch.Outcome) {
		return store.Warning{}, errorf(CodeValidation, "outcome", "closing needs an outcome: one of %v", Outcomes)
	}
	w, err := q.store.TransitionWarning(ctx, id, store.WarningChange{ActorID: p.StaffID, To: ch.To, Note: ch.Note, Outcome: ch.Outcome, At: q.now()})
	if err != nil {
		return store.Warning{}, mapQueueErr(err)
	}
	q.auditAction(ctx, warningAudit(p, "transition", w, ip, string(ch.To)))
	q.hub.Publish(w)
	return w, nil
}

// Assign hands an entry to a colleague whose subtree holds it.
func (q *Queue) Assign(ctx context.Context, p *Principal, id, assigneeID, note, ip string) (store.Warning, error) {
	w, err := q.load(ctx, p, id)
	if err != nil {
		return store.Warning{}, err
	}
	a, err := q.store.GetStaff(ctx, assigneeID)
	colleague := &Principal{Role: a.Role, UnitPath: a.UnitPath}
	if errors.Is(err, store.ErrNotFound) || (err == nil && (!p.InScope(a.UnitPath) || !colleague.InScope(w.UnitPath) || canWork(colleague) != nil || a.Disabled)) {
		return store.Warning{}, errorf(CodeNotFound, "assignee_id", "no colleague %q who can take this entry", assigneeID)
	}
	if err != nil {
		return store.Warning{}, err
	}
	now := q.now()
	w, err = q.store.AssignWarning(ctx, id, p.StaffID, assigneeID, now, now.Add(q.lease), note)
	if err != nil {
		return store.Warning{}, mapQueueErr(err)
	}
	q.auditAction(ctx, warningAudit(p, "assign", w, ip, assigneeID))
	q.hub.Publish(w)
	return w, nil
}

// Escalate moves every level-1 entry left unclaimed past its deadline to
// the parent unit, with a fresh deadline, and records it in the history.
// It returns how many moved. An entry at a root unit stays and is logged:
// there is no one further up.
func (q *Queue) Escalate(ctx context.Context) (int, error) {
	now := q.now()
	moved := 0
	for {
		due, err := q.store.ScanOverdue(ctx, now, store.DefaultLimit)
		if err != nil {
			return moved, err
		}
		progress := false
		for _, w := range due {
			if w.Level != 1 || w.State != store.WarningOpen {
				continue
			}
			u, err := q.store.GetUnit(ctx, w.UnitID)
			if err != nil || u.ParentID == "" {
				q.log.Warn("level-1 warning overdue at the top of the tree", "warning", w.ID, "unit", w.UnitID)
				continue
			}
			note := fmt.Sprintf("unclaimed %s past its deadline: escalated from %s", now.Sub(w.DueAt).Round(time.Minute), u.ID)
			ew, err := q.store.EscalateWarning(ctx, w.ID, u.ParentID, now, now.Add(q.sla[1]), note)
			if errors.Is(err, store.ErrInvalidTransition) {
				continue // claimed in the meantime
			}
			if err != nil {
				return moved, err
			}
			moved++
			progress = true
			q.hub.Publish(ew)
		}
		if !progress || len(due) < store.DefaultLimit {
			return moved, nil
		}
	}
}

// RunEscalation calls Escalate every interval until ctx ends.
func (q *Queue) RunEscalation(ctx context.Context, every time.Duration) {
	runEvery(ctx, every, q.Escalate, func(n int, err error) {
		if err != nil {
			q.log.Error("escalation", "err", err)
		} else if n > 0 {
			q.log.Info("escalated overdue level-1 warnings", "count", n)
		}
	})
}

// runEvery calls job every interval until ctx ends and reports each run.
func runEvery(ctx context.Context, every time.Duration, job func(context.Context) (int, error), report func(int, error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			report(job(ctx))
		}
	}
}

// docScoreLabel is what a score is called, in every report locale, as
// scoreLabel names it.
func docScoreLabel(in *engine.Instrument, id string) engine.Text {
	t := engine.Text{}
	for _, l := range ReportLocales {
		t[l] = scoreLabel(in, id, l)
	}
	return t
}
