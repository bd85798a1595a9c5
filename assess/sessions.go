package assess

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"xinling/engine"
	"xinling/store"
)

// SessionConfig holds the respondents' side's settings (Options.Sessions).
type SessionConfig struct {
	// IdleTimeout is how long an open session may go without an answer
	// before it expires. Residents come back hours later, so it is long.
	IdleTimeout time.Duration
	// Hotline is the crisis line shown when a level-1 rule fires.
	Hotline string
	// CacheSize bounds the sessions kept in memory.
	CacheSize int
	// MaxBattery bounds the instruments in one session.
	MaxBattery int
	// SelfTestUnit is the unit whose queue receives warnings from anonymous
	// self-tests. Empty means the org tree's only root, once there is one:
	// a warning in no unit would reach no counsellor.
	SelfTestUnit string
	// IdentityKey (XINLING_IDENTITY_KEY) hashes external identities such
	// as WeChat openids and signs respondent tokens; without it respondents
	// stay anonymous.
	IdentityKey []byte
	// RespondentTTL is how long a respondent token lasts.
	RespondentTTL time.Duration
	// AnonymousRetention is how long an anonymous self-test's answers are
	// kept after its last activity (PurgeExpired); 0 keeps them.
	AnonymousRetention time.Duration
}

// DefaultHotline is China's national psychological assistance line.
const DefaultHotline = "12356"

// Sessions runs respondents' sessions: create, answer, resume, submit.
type Sessions struct {
	*shared
	catalog   *Catalog
	campaigns *Campaigns
	cfg       SessionConfig
	// live caches sessions, so that saving an answer costs one durable
	// write and no read. Only fields that never change after creation are
	// trusted from it; the store itself refuses answers to closed sessions.
	live *lru.Cache[string, *liveSession]

	rootMu sync.Mutex
	root   string // resolved SelfTestUnit

	sweepMu sync.Mutex
	sweptTo time.Time // idle sessions up to here have been looked at
}

type liveSession struct {
	mu         sync.Mutex
	sess       store.Session
	insts      []*engine.Instrument
	lastActive time.Time
	// campaign is set for a campaign session; its state is re-read now and
	// then, so that closing a campaign stops answers within moments.
	campaign        *store.Campaign
	campaignChecked time.Time
}

func newSessions(sh *shared, catalog *Catalog, campaigns *Campaigns, cfg SessionConfig) *Sessions {
	live, _ := lru.New[string, *liveSession](cfg.CacheSize)
	return &Sessions{shared: sh, catalog: catalog, campaigns: campaigns, cfg: cfg, live: live}
}

// CreateRequest starts a self-test session.
type CreateRequest struct {
	Instruments []string
	Sex         string
	Age         int
	Consent     bool
	Locale      string
	// FollowUpOf chains this session to an earlier one whose crisis block
	// named this instrument; FollowUpToken must be that session's token.
	FollowUpOf    string
	FollowUpToken string
	// Code is a campaign access code: the campaign decides the battery and
	// the unit, and a personal code the person.
	Code string
	// PersonID is the signed-in respondent (see Respondent); a self-test
	// is linked to them. Campaign sessions ignore it: an open campaign
	// promised anonymity, and a roster one knows its student already.
	PersonID string
}

// Create starts a session and returns it with its token. The token is shown
// once; only its hash is stored.
func (s *Sessions) Create(ctx context.Context, req CreateRequest, locale string) (*SessionView, error) {
	if !req.Consent {
		return nil, errorf(CodeConsentRequired, "consent", "consent is required before starting an assessment")
	}
	if req.Code != "" {
		return s.createFromCode(ctx, req, locale)
	}
	if len(req.Instruments) == 0 || len(req.Instruments) > s.cfg.MaxBattery {
		return nil, errorf(CodeValidation, "battery", "a session has between 1 and %d instruments", s.cfg.MaxBattery)
	}
	// A self-test offers the public catalogue; a follow-up chained from a
	// crisis block may also use what the first session's unit may.
	lookup := s.catalog.SelfTest
	var prev *liveSession
	if req.FollowUpOf != "" {
		var err error
		if prev, err = s.authorize(ctx, req.FollowUpOf, req.FollowUpToken); err != nil {
			return nil, err
		}
		prev.mu.Lock()
		unitPath := prev.sess.UnitPath
		prev.mu.Unlock()
		lookup = func(id string) (*engine.Instrument, bool) {
			if in, ok := s.catalog.SelfTest(id); ok {
				return in, true
			}
			return s.catalog.ForUnit(id, unitPath)
		}
	}
	var insts []*engine.Instrument
	var pinned []string
	for _, id := range req.Instruments {
		in, ok := lookup(id)
		if !ok {
			return nil, errorf(CodeInstrumentUnknown, "instrument", "no self-test instrument %q", id)
		}
		if slices.Contains(pinned, pin(in)) {
			return nil, errorf(CodeValidation, "battery", "instrument %q is listed twice", id)
		}
		insts = append(insts, in)
		pinned = append(pinned, pin(in))
	}
	var err error
	now := s.now()
	sess := store.Session{
		ID: store.NewID(), Instruments: pinned, Sex: req.Sex, Age: req.Age, Consent: true,
		Locale: req.Locale, CreatedAt: now,
	}
	if prev != nil {
		// Chain to the first session, so a whole chain shares one queue entry.
		sess.FollowUpOf = prev.sess.ID
		if prev.sess.FollowUpOf != "" {
			sess.FollowUpOf = prev.sess.FollowUpOf
		}
		sess.PersonID, sess.UnitID, sess.CampaignID = prev.sess.PersonID, prev.sess.UnitID, prev.sess.CampaignID
		if sess.Sex == "" {
			sess.Sex, sess.Age = prev.sess.Sex, prev.sess.Age
		}
	}
	if sess.PersonID == "" && sess.CampaignID == "" {
		sess.PersonID = req.PersonID
	}
	if sess.UnitID == "" {
		if sess.UnitID, err = s.selfTestUnit(ctx); err != nil {
			return nil, err
		}
	}
	token := newToken()
	sess.TokenHash = hashToken(token)
	stored, err := s.store.CreateSession(ctx, sess)
	if err != nil {
		return nil, err
	}
	ls := &liveSession{sess: stored, insts: insts, lastActive: stored.LastActiveAt}
	s.live.Add(stored.ID, ls)
	v, err := s.view(ls, nil, locale)
	if err != nil {
		return nil, err
	}
	v.Token = token
	return v, nil
}

// selfTestUnit finds the unit for anonymous self-tests: the configured
// one, or the tree's only root. With no tree yet it is empty, and such
// warnings wait unassigned until staff set one up.
func (s *Sessions) selfTestUnit(ctx context.Context) (string, error) {
	if s.cfg.SelfTestUnit != "" {
		return s.cfg.SelfTestUnit, nil
	}
	s.rootMu.Lock()
	defer s.rootMu.Unlock()
	if s.root != "" {
		return s.root, nil
	}
	units, err := s.store.ListUnits(ctx, "")
	if err != nil {
		return "", err
	}
	var roots []string
	for _, u := range units {
		if u.ParentID == "" {
			roots = append(roots, u.ID)
		}
	}
	if len(roots) == 1 {
		s.root = roots[0]
	}
	return s.root, nil
}

// createFromCode starts (or, with a personal code already used, resumes)
// a campaign session.
func (s *Sessions) createFromCode(ctx context.Context, req CreateRequest, locale string) (*SessionView, error) {
	entry, err := s.campaigns.Open(ctx, req.Code)
	if err != nil {
		return nil, err
	}
	ac, cp := entry.Code, entry.Campaign
	if ac.PersonID != "" && ac.SessionID != "" {
		return s.resume(ctx, ac.SessionID, locale)
	}
	var insts []*engine.Instrument
	var pinned []string
	owner, err := s.store.GetUnit(ctx, cp.UnitID)
	if err != nil {
		return nil, err
	}
	for _, id := range cp.Battery {
		in, ok := s.catalog.ForUnit(id, owner.Path)
		if !ok {
			return nil, errorf(CodeUnavailable, "", "instrument %s of this campaign is not available (retired, or not loaded)", id)
		}
		insts = append(insts, in)
		pinned = append(pinned, pin(in))
	}
	now := s.now()
	sess := store.Session{ID: store.NewID(), Instruments: pinned, PersonID: ac.PersonID, CampaignID: cp.ID, AccessCode: ac.Code,
		UnitID: ac.UnitID, Sex: req.Sex, Age: req.Age, Consent: true, Locale: req.Locale, CreatedAt: now}
	if ac.PersonID != "" {
		// The roster knows the student: their own sex and age count.
		if p, err := s.store.GetPerson(ctx, ac.PersonID); err == nil {
			sess.Sex, sess.Age = p.Sex, personAge(p, now)
		}
	}
	token := newToken()
	sess.TokenHash = hashToken(token)
	stored, err := s.store.CreateSession(ctx, sess)
	if err != nil {
		return nil, err
	}
	if ac.PersonID != "" {
		bound, err := s.store.BindAccessCode(ctx, ac.Code, stored.ID)
		if err != nil {
			return nil, err
		}
		if bound.SessionID != stored.ID {
			// Another device started first: continue that session.
			return s.resume(ctx, bound.SessionID, locale)
		}
	}
	ls := &liveSession{sess: stored, insts: insts, lastActive: stored.LastActiveAt, campaign: &cp, campaignChecked: now}
	s.live.Add(stored.ID, ls)
	v, err := s.view(ls, nil, locale)
	if err != nil {
		return nil, err
	}
	v.Token = token
	return v, nil
}

// resume hands a personal-code session to the device that just entered
// the code: a fresh token, the answers so far. The old token stops working.
func (s *Sessions) resume(ctx context.Context, id, locale string) (*SessionView, error) {
	ls, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := s.checkOpen(ctx, ls); err != nil {
		if isCode(err, CodeSessionSubmitted) {
			return nil, errorf(CodeSessionSubmitted, "code", "this code was already used to complete the screening")
		}
		return nil, err
	}
	token := newToken()
	if err := s.store.SetSessionToken(ctx, id, hashToken(token)); err != nil {
		return nil, fromStore(err, id)
	}
	ls.mu.Lock()
	ls.sess.TokenHash = hashToken(token)
	ls.mu.Unlock()
	answers, err := s.store.ListAnswers(ctx, id)
	if err != nil {
		return nil, fromStore(err, id)
	}
	v, err := s.view(ls, answers, locale)
	if err != nil {
		return nil, err
	}
	v.Token = token
	return v, nil
}

// personAge is a roster person's age in years at now, from the birth
// month when known.
func personAge(p store.Person, now time.Time) int {
	var y, m int
	if _, err := fmt.Sscanf(p.BirthMonth, "%d-%d", &y, &m); err == nil && y > 1900 {
		age := now.Year() - y
		if int(now.Month()) < m {
			age--
		}
		return max(age, 0)
	}
	return p.Age
}

// pin names an instrument version, so a session is scored with the document
// it was started with even after a newer version is loaded.
func pin(in *engine.Instrument) string { return in.ID() + "@" + in.Version() }

func newToken() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func hashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// load returns a session from the cache or the store.
func (s *Sessions) load(ctx context.Context, id string) (*liveSession, error) {
	if ls, ok := s.live.Get(id); ok {
		return ls, nil
	}
	sess, err := s.store.GetSession(ctx, id)
	if err != nil {
		return nil, fromStore(err, id)
	}
	insts := make([]*engine.Instrument, len(sess.Instruments))
	for i, p := range sess.Instruments {
		id, version, _ := strings.Cut(p, "@")
		in, ok := s.lib.Get(id, version)
		if !ok {
			// Another server may have published this version moments ago.
			if err := s.catalog.Sync(ctx); err != nil {
				return nil, err
			}
			in, ok = s.lib.Get(id, version)
		}
		if !ok {
			return nil, errorf(CodeUnavailable, "", "instrument %s of this session is no longer loaded", p)
		}
		insts[i] = in
	}
	ls := &liveSession{sess: sess, insts: insts, lastActive: sess.LastActiveAt}
	if sess.CampaignID != "" {
		cp, err := s.store.GetCampaign(ctx, sess.CampaignID)
		if err != nil {
			return nil, err
		}
		ls.campaign, ls.campaignChecked = &cp, s.now()
	}
	s.live.Add(id, ls)
	return ls, nil
}

// authorize loads a session and checks the bearer token against it. A
// wrong token and an unknown session are told apart, since session ids are
// unguessable and the respondent needs to know which is wrong.
func (s *Sessions) authorize(ctx context.Context, id, token string) (*liveSession, error) {
	if token == "" {
		return nil, errorf(CodeTokenInvalid, "", "this call needs the session's token (Authorization: Bearer …)")
	}
	ls, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	ls.mu.Lock()
	want := ls.sess.TokenHash
	ls.mu.Unlock()
	if subtle.ConstantTimeCompare(hashToken(token), want) != 1 {
		return nil, errorf(CodeTokenInvalid, "", "the token is not valid for this session")
	}
	return ls, nil
}

// checkOpen refuses calls that would change a submitted or expired session.
func (s *Sessions) checkOpen(ctx context.Context, ls *liveSession) error {
	ls.mu.Lock()
	state, last := ls.sess.State, ls.lastActive
	ls.mu.Unlock()
	if state != store.SessionOpen {
		return errorf(CodeSessionSubmitted, "", "this session was already submitted")
	}
	if err := s.checkCampaign(ctx, ls); err != nil {
		return err
	}
	if s.now().Sub(last) <= s.cfg.IdleTimeout {
		return nil
	}
	// Another instance may have seen activity this one did not: ask the
	// store before turning the respondent away.
	fresh, err := s.store.GetSession(ctx, ls.sess.ID)
	if err != nil {
		return fromStore(err, ls.sess.ID)
	}
	ls.mu.Lock()
	ls.sess.State, ls.lastActive = fresh.State, fresh.LastActiveAt
	ls.mu.Unlock()
	if fresh.State != store.SessionOpen {
		return errorf(CodeSessionSubmitted, "", "this session was already submitted")
	}
	if s.now().Sub(fresh.LastActiveAt) > s.cfg.IdleTimeout {
		return errorf(CodeSessionExpired, "", "this session expired after %s without an answer; please start again", s.cfg.IdleTimeout)
	}
	return nil
}

// campaignRecheck is how often a campaign session re-reads its campaign.
const campaignRecheck = 30 * time.Second

// checkCampaign refuses answers once a session's campaign is closed or its
// window has ended.
func (s *Sessions) checkCampaign(ctx context.Context, ls *liveSession) error {
	ls.mu.Lock()
	cp, checked := ls.campaign, ls.campaignChecked
	ls.mu.Unlock()
	if cp == nil {
		return nil
	}
	now := s.now()
	if now.Sub(checked) > campaignRecheck {
		fresh, err := s.store.GetCampaign(ctx, cp.ID)
		if err != nil {
			return err
		}
		cp = &fresh
		ls.mu.Lock()
		ls.campaign, ls.campaignChecked = cp, now
		ls.mu.Unlock()
	}
	if cp.State == store.CampaignClosed || !now.Before(cp.EndsAt) {
		return errorf(CodeCampaignClosed, "", "this screening has ended and takes no more answers")
	}
	return nil
}

// AnswerInput is one answer as a client sends it.
type AnswerInput struct {
	Item  string
	Value float64
	Seq   int64
}

// AnswerView is what a save did.
type AnswerView struct {
	Item   string  `json:"item"`
	Value  float64 `json:"value"`
	Seq    int64   `json:"seq"`
	Status string  `json:"status"`
}

// resolveItem splits "phq9.q1" and checks the value against the item.
func (ls *liveSession) resolveItem(item string, v float64) error {
	instID, itemID, ok := strings.Cut(item, ".")
	if ok {
		for _, in := range ls.insts {
			if in.ID() == instID {
				return fromInput(in.CheckAnswer(itemID, v), item)
			}
		}
	}
	return errorf(CodeItemUnknown, "item", "this session has no item %q", item)
}

// SaveAnswers stores answers durably, in one write. Every answer is checked
// first, so a bad one saves nothing and the client can retry the batch whole.
func (s *Sessions) SaveAnswers(ctx context.Context, id, token string, in []AnswerInput) ([]AnswerView, error) {
	ls, err := s.authorize(ctx, id, token)
	if err != nil {
		return nil, err
	}
	if err := s.checkOpen(ctx, ls); err != nil {
		return nil, err
	}
	now := s.now()
	answers := make([]store.Answer, len(in))
	for i, a := range in {
		if err := ls.resolveItem(a.Item, a.Value); err != nil {
			return nil, err
		}
		answers[i] = store.Answer{SessionID: id, Item: a.Item, Value: a.Value, Seq: a.Seq, At: now}
	}
	outs, err := s.store.SaveAnswers(ctx, id, answers)
	if err != nil {
		return nil, fromStore(err, id)
	}
	ls.mu.Lock()
	ls.lastActive = now
	ls.mu.Unlock()
	views := make([]AnswerView, len(outs))
	for i, o := range outs {
		views[i] = AnswerView{Item: o.Current.Item, Value: o.Current.Value, Seq: o.Current.Seq, Status: string(o.Status)}
		s.obs.AnswerSaved(string(o.Status))
	}
	return views, nil
}

// SaveAnswer stores one answer durably.
func (s *Sessions) SaveAnswer(ctx context.Context, id, token string, a AnswerInput) (*AnswerView, error) {
	views, err := s.SaveAnswers(ctx, id, token, []AnswerInput{a})
	if err != nil {
		return nil, err
	}
	return &views[0], nil
}

// Get returns the resume state: answers so far, the items now shown, the
// next item, and the result once submitted.
func (s *Sessions) Get(ctx context.Context, id, token, locale string) (*SessionView, error) {
	ls, err := s.authorize(ctx, id, token)
	if err != nil {
		return nil, err
	}
	ls.mu.Lock()
	submitted := ls.sess.State != store.SessionOpen
	ls.mu.Unlock()
	if !submitted {
		if err := s.checkOpen(ctx, ls); err != nil && !isCode(err, CodeSessionSubmitted) {
			return nil, err
		}
	}
	answers, err := s.store.ListAnswers(ctx, id)
	if err != nil {
		return nil, fromStore(err, id)
	}
	v, err := s.view(ls, answers, locale)
	if err != nil {
		return nil, err
	}
	if v.State != string(store.SessionOpen) {
		sub, err := s.storedSubmission(ctx, ls, locale)
		if err != nil {
			return nil, err
		}
		v.Result = &sub.Result
	}
	return v, nil
}

func isCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// Submit scores every instrument of the session and stores the results and
// their warning in one durable write. Submitting again returns what the
// first submit stored.
func (s *Sessions) Submit(ctx context.Context, id, token, locale string) (*SubmitView, error) {
	ls, err := s.authorize(ctx, id, token)
	if err != nil {
		return nil, err
	}
	if err := s.checkOpen(ctx, ls); err != nil {
		if isCode(err, CodeSessionSubmitted) {
			return s.storedSubmission(ctx, ls, locale)
		}
		return nil, err
	}
	sub, scored, err := s.submission(ctx, ls, false)
	if err != nil {
		return nil, err
	}
	out, err := s.commit(ctx, ls, sub)
	if err != nil {
		return nil, err
	}
	if out.Replayed {
		// Another submit of this session got there first: show what it
		// stored, not what this one scored.
		scored = nil
	}
	return s.render(ls, out.Results, scored, locale)
}

// submission scores every instrument of a session over its stored answers
// and gathers the warnings into one draft. With incomplete, an instrument
// short of answers still yields a result, carrying only its item warnings.
// It also returns each result as scored, by result id, so that the submit
// response need not parse back the payloads it has just written.
func (s *Sessions) submission(ctx context.Context, ls *liveSession, incomplete bool) (store.Submission, map[string]*engine.Result, error) {
	id := ls.sess.ID
	answers, err := s.store.ListAnswers(ctx, id)
	if err != nil {
		return store.Submission{}, nil, fromStore(err, id)
	}
	scored := make(map[string]*engine.Result, len(ls.insts))
	byInst := groupAnswers(answers)
	now := s.now()
	sub := store.Submission{SessionID: id, At: now}
	var draft *store.WarningDraft
	for _, in := range ls.insts {
		history, err := historyOf(ctx, s.store, ls.sess.PersonID, in, now)
		if err != nil {
			return store.Submission{}, nil, err
		}
		res, err := s.score(ls, in, byInst[in.ID()], incomplete, history)
		if err != nil {
			return store.Submission{}, nil, err
		}
		s.catalog.NoteResult(ctx, res)
		payload, err := json.Marshal(res)
		if err != nil {
			return store.Submission{}, nil, err
		}
		rec := store.Result{
			ID: store.NewID(), SessionID: id, Instrument: in.ID(), Version: in.Version(), ContentHash: in.Hash,
			Scores: map[string]float64{}, Bands: map[string]string{}, Payload: payload, CreatedAt: now,
		}
		for _, sc := range res.Scores {
			rec.Scores[sc.ID] = sc.Value
		}
		for _, b := range res.Bands {
			rec.Bands[b.Score] = b.Code
		}
		for _, f := range res.Validity {
			rec.Flags = append(rec.Flags, f.ID)
		}
		if !res.Complete {
			rec.Flags = append(rec.Flags, FlagIncomplete)
		}
		sub.Results = append(sub.Results, rec)
		scored[rec.ID] = res
		for _, w := range res.Warnings {
			if draft == nil {
				draft = &store.WarningDraft{ID: store.NewID(), Key: ls.warningKey(), Level: w.Level}
			}
			draft.Level = min(draft.Level, w.Level)
			draft.Reasons = append(draft.Reasons, store.Reason{ResultID: rec.ID, Instrument: in.ID(), Rule: w.Rule, Level: w.Level, Text: w.Reason,
				EarlierResultID: w.Earlier})
		}
	}
	if draft != nil {
		draft.DueAt = now.Add(s.sla[draft.Level])
		sub.Warning = draft
	}
	return sub, scored, nil
}

// FlagIncomplete marks a result filed for an abandoned session: it holds
// item warnings but no scores, and reports leave it out of score figures.
const FlagIncomplete = "incomplete"

// commit stores a submission and tells the consoles of its warning.
func (s *Sessions) commit(ctx context.Context, ls *liveSession, sub store.Submission) (store.SubmitOutcome, error) {
	out, err := s.store.Submit(ctx, sub)
	if err != nil {
		return out, fromStore(err, sub.SessionID)
	}
	if out.Warning != nil && !out.Replayed {
		s.hub.Publish(*out.Warning)
		s.obs.WarningRaised(out.Warning.Level)
		s.kick() // its notification is in the outbox: send it now
	}
	ls.mu.Lock()
	ls.sess.State = store.SessionSubmitted
	ls.mu.Unlock()
	return out, nil
}

// Observer hears of events worth counting. It must not block; it gets no
// personal data, only outcomes and levels.
type Observer interface {
	// AnswerSaved is called once per acknowledged answer with its status
	// (saved, replay, stale).
	AnswerSaved(status string)
	// WarningRaised is called when a submission files or joins a queue
	// entry, with the entry's level.
	WarningRaised(level int)
	// AuditWriteFailed is called when an audit line could not be written,
	// with its kind (AuditDisclosure or AuditAction).
	AuditWriteFailed(kind string)
	// NotificationSent is called when a channel accepted a delivery, with
	// the time since the event it tells of.
	NotificationSent(channel string, latency time.Duration)
	// NotificationFailed is called when a delivery's attempt failed: dead
	// when it was given up (the dead-letter list), else it is retried.
	NotificationFailed(channel string, dead bool)
}

// Active counts the open sessions held in memory whose last answer or start
// is more recent than window. It walks the session cache, so it is for an
// occasional scrape, not the hot path; with several instances, each counts
// the respondents it has served.
func (s *Sessions) Active(window time.Duration) int {
	since := s.now().Add(-window)
	n := 0
	for _, ls := range s.live.Values() {
		ls.mu.Lock()
		if ls.sess.State == store.SessionOpen && ls.lastActive.After(since) {
			n++
		}
		ls.mu.Unlock()
	}
	return n
}

// SweepAbandoned looks at the sessions whose idle time ran out since the
// last sweep. One that holds an answer firing a warning on its own (PHQ-9
// item 9, an ASQ "yes") is filed as submitted with its incomplete results
// and that warning: a resident who answered "nearly every day" to item 9
// and closed the browser must still reach a counsellor. Others are left
// for retention. It returns how many were filed.
func (s *Sessions) SweepAbandoned(ctx context.Context) (int, error) {
	now := s.now()
	before := now.Add(-s.cfg.IdleTimeout)
	s.sweepMu.Lock()
	from := s.sweptTo
	if from.IsZero() {
		from = before.Add(-7 * 24 * time.Hour) // after a restart, catch up on a week
	}
	s.sweepMu.Unlock()
	filed := 0
	for {
		idle, err := s.store.ListIdleSessions(ctx, from, before, 100)
		if err != nil {
			return filed, err
		}
		for _, sess := range idle {
			from = sess.LastActiveAt
			ls, err := s.load(ctx, sess.ID)
			if err != nil {
				return filed, err
			}
			sub, _, err := s.submission(ctx, ls, true)
			if err != nil {
				return filed, err
			}
			if sub.Warning == nil {
				continue
			}
			if _, err := s.commit(ctx, ls, sub); err != nil && !isCode(err, CodeSessionSubmitted) {
				return filed, err
			}
			filed++
		}
		if len(idle) < 100 {
			break
		}
		from = from.Add(time.Millisecond)
	}
	s.sweepMu.Lock()
	s.sweptTo = before
	s.sweepMu.Unlock()
	return filed, nil
}

// RunSweeper calls SweepAbandoned every interval until ctx ends.
func (s *Sessions) RunSweeper(ctx context.Context, every time.Duration, log func(msg string, args ...any)) {
	runEvery(ctx, every, s.SweepAbandoned, func(n int, err error) {
		if err != nil {
			log("sweeping abandoned sessions", "err", err)
		} else if n > 0 {
			log("filed warnings of abandoned sessions", "count", n)
		}
	})
}

// warningKey groups a follow-up's warning with the session that chained it.
func (ls *liveSession) warningKey() string {
	if ls.sess.FollowUpOf != "" {
		return ls.sess.FollowUpOf
	}
	return ls.sess.ID
}

// score runs one instrument over the session's answers. Answers to items
// that the respondent's later choices hid are dropped, as the screen did.
// historyOf is a known person's results of an instrument as they stood at a
// time, oldest first: made before it, and current then (a rescore made
// later does not rewrite what an earlier scoring saw), so rescoring a
// result with its own version sees the history its first scoring saw. Only
// documents with trend rules need one, and anonymous sessions have none.
func historyOf(ctx context.Context, st store.Store, personID string, in *engine.Instrument, at time.Time) ([]engine.Earlier, error) {
	if personID == "" || len(in.Doc.Scoring.Trends) == 0 {
		return nil, nil
	}
	var all []store.Result
	page := store.Page{Limit: store.MaxLimit}
	for {
		list, next, err := st.ListResults(ctx, store.ResultFilter{PersonID: personID, Instrument: in.ID(), To: at, WithSuperseded: true}, page)
		if err != nil {
			return nil, err
		}
		all = append(all, list...)
		if next == "" {
			break
		}
		page.After = next
	}
	rescoredAt := map[string]time.Time{}
	for _, r := range all {
		rescoredAt[r.ID] = r.RescoredAt
	}
	var out []engine.Earlier
	for _, r := range all {
		if r.Supersedes != "" && r.RescoredAt.After(at) {
			continue // did not exist yet
		}
		if by := r.SupersededBy; by != "" && !rescoredAt[by].After(at) {
			continue // already replaced by then
		}
		if len(r.Scores) > 0 && !slices.Contains(r.Flags, FlagIncomplete) {
			out = append(out, engine.Earlier{ID: r.ID, Scores: r.Scores, Bands: r.Bands})
		}
	}
	return out, nil
}

func (s *Sessions) score(ls *liveSession, in *engine.Instrument, answers map[string]float64, incomplete bool, history []engine.Earlier) (*engine.Result, error) {
	res, err := scoreAnswers(in, answers, ls.sess.Sex, float64(ls.sess.Age), history)
	if err != nil {
		return nil, err
	}
	if !res.Complete && !incomplete {
		first := in.ID() + "." + res.Missing[0]
		return nil, errorf(CodeIncomplete, first, "%d items of %s are not answered yet, starting with %s", len(res.Missing), in.ID(), first)
	}
	return res, nil
}

// scoreAnswers scores a session's answers to one instrument. Answers to
// items that the respondent's later choices hid are dropped, as the screen
// did. Submit and rescoring both score this way.
func scoreAnswers(in *engine.Instrument, answers map[string]float64, sex string, age float64, history []engine.Earlier) (*engine.Result, error) {
	shown, err := in.Shown(answers, sex, age)
	if err != nil {
		return nil, fromInput(err, "")
	}
	visible := make(map[string]float64, len(shown))
	for _, item := range shown {
		if v, ok := answers[item]; ok {
			visible[item] = v
		}
	}
	res, err := in.Score(engine.Input{Answers: visible, Sex: sex, Age: age, History: history})
	if err != nil {
		return nil, fromInput(err, "")
	}
	return res, nil
}

// groupAnswers splits "phq9.q1" answers by instrument.
func groupAnswers(answers []store.Answer) map[string]map[string]float64 {
	out := map[string]map[string]float64{}
	for _, a := range answers {
		inst, item, ok := strings.Cut(a.Item, ".")
		if !ok {
			continue
		}
		if out[inst] == nil {
			out[inst] = map[string]float64{}
		}
		out[inst][item] = a.Value
	}
	return out
}

// storedSubmission rebuilds the submit response from the stored results.
func (s *Sessions) storedSubmission(ctx context.Context, ls *liveSession, locale string) (*SubmitView, error) {
	results, _, err := s.store.ListResults(ctx, store.ResultFilter{SessionID: ls.sess.ID}, store.Page{Limit: store.MaxLimit})
	if err != nil {
		return nil, err
	}
	if len(results) == 0 {
		return nil, fmt.Errorf("session %s is submitted but has no results", ls.sess.ID)
	}
	return s.render(ls, results, nil, locale)
}

// render turns stored results into what the respondent may see: scores,
// band labels and feedback, and the crisis block. Rule ids and reasons
// stay with staff. scored holds results as just scored, by id; any other
// is parsed from its stored payload (parsing was a third of a submit's
// own CPU).
func (s *Sessions) render(ls *liveSession, results []store.Result, scored map[string]*engine.Result, locale string) (*SubmitView, error) {
	v := &SubmitView{ID: ls.sess.ID, State: string(store.SessionSubmitted), Result: ResultView{Instruments: []InstrumentResult{}}}
	var followUps []string
	crisis, warned := false, false
	for _, inst := range ls.insts {
		for _, rec := range results {
			if rec.Instrument != inst.ID() {
				continue
			}
			res := scored[rec.ID]
			if res == nil {
				res = new(engine.Result)
				if err := json.Unmarshal(rec.Payload, res); err != nil {
					return nil, fmt.Errorf("result %s: %w", rec.ID, err)
				}
			}
			v.Result.Instruments = append(v.Result.Instruments, instrumentResult(inst, res, locale))
			for _, w := range res.Warnings {
				warned = true
				if w.Level == 1 {
					crisis = true
					if w.FollowUp != "" {
						followUps = append(followUps, w.FollowUp)
					}
				}
			}
		}
	}
	v.Result.flatten()
	if crisis {
		// The crisis block is about safety, not results: every campaign
		// shows it, whatever it lets students see of their scores.
		v.Crisis = s.crisis(ls, followUps, locale)
	}
	ls.mu.Lock()
	cp := ls.campaign
	ls.mu.Unlock()
	if cp != nil && cp.Visibility != "bands" {
		v.Result = ResultView{Scores: map[string]float64{}, Bands: map[string]BandView{}, Instruments: []InstrumentResult{}}
		v.Visibility = cp.Visibility
		if cp.Visibility == "thanks" {
			v.Message = thanksMessage.Get(locale)
		}
		warned = crisis
	}
	v.CallbackOffer = warned
	return v, nil
}

func instrumentResult(in *engine.Instrument, res *engine.Result, locale string) InstrumentResult {
	ir := InstrumentResult{ID: in.ID(), Title: in.Doc.Title.Get(locale), Scores: map[string]float64{}, Bands: map[string]BandView{}}
	for _, sc := range res.Scores {
		ir.Scores[sc.ID] = sc.Value
	}
	for _, b := range res.Bands {
		ir.Bands[b.Score] = BandView{Code: b.Code, Label: b.Label.Get(locale), Feedback: b.Feedback.Get(locale)}
	}
	for _, t := range res.Texts {
		if ir.Texts == nil {
			ir.Texts = map[string]string{}
		}
		ir.Texts[t.ID] = t.Value
	}
	words := Interpret(in, res, locale)
	ir.Dimensions, ir.Codes = words.Dimensions, words.Codes
	return ir
}

var thanksMessage = engine.Text{
	"zh-CN": "感谢你认真完成本次测评！如果你想和心理老师聊一聊，随时可以去找他们。",
	"en":    "Thank you for completing this screening. If you would like to talk with the school psychologist, you are welcome at any time.",
}

var crisisMessage = engine.Text{
	"zh-CN": "你并不孤单，我们很关心你现在的安全。如果你有伤害自己的想法，请现在就拨打心理援助热线 %s，或拨打 120 / 110，也请告诉一位你信任的人。",
	"en":    "You are not alone, and your safety right now matters to us. If you are thinking of harming yourself, please call the psychological assistance line %s now, or 120 / 110, and tell someone you trust.",
}

// crisis builds the block shown when a level-1 rule fired. The follow-up
// is the first named instrument that the session has not already taken.
func (s *Sessions) crisis(ls *liveSession, followUps []string, locale string) *Crisis {
	c := &Crisis{Hotline: s.cfg.Hotline, Message: fmt.Sprintf(crisisMessage.Get(locale), s.cfg.Hotline)}
	for _, id := range followUps {
		taken := slices.ContainsFunc(ls.insts, func(in *engine.Instrument) bool { return in.ID() == id })
		if in, ok := s.catalog.ForUnit(id, ls.sess.UnitPath); ok && !taken {
			c.FollowUp = &FollowUp{Instrument: id, Title: in.Doc.Title.Get(locale)}
			break
		}
	}
	return c
}
