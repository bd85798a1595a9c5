package sealed

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"xinling/store"
)

// Store seals personal data on its way into the wrapped store and opens it
// on its way out. Above it, store.Sealed fields hold plaintext; below it,
// only ciphertext.
//
// The areas of store.Store that carry personal data (persons, sessions,
// the queue, cases and referrals, activities) are implemented here method
// by method, pass-throughs included, and only the areas decided to hold
// none are embedded. So a method added to a personal area does not
// compile until someone writes it here and decides what it seals.
//
// What is sealed is declared once, in the personal-data inventory
// (store.Personal): every field it marks Sealed, which today are person
// name, phone and student number; a case's four free-text fields and its
// outcome; referral notes; the notes of staff moves in a queue entry's
// history; activity notes; the phone numbers and notes of call-back
// requests and the phone numbers of bookings (handoff.go); the attendees,
// agreements and notes of case conferences and parent meetings
// (meetings.go). Person, case,
// referral, activity, call-back and booking fields
// are sealed and opened from the inventory (fields.go), so a field marked
// there is sealed here without more code; history notes arrive as method
// arguments and are sealed below. A person written with a student number
// and no StudentNoIndex gets the keyed blind index (StudentNoIndex).
//
// The inventory also says why the rest stays in clear: staff names and
// logins (staff sign in by them and are not the people the records are
// about), sex, birth month and age (statistics group by them; no name is
// attached), the audit log (append-only; it must show an erasure's reason
// afterwards).
type Store struct {
	// Decided: nothing to seal in these areas (see above).
	store.OrgStore
	store.StaffStore
	store.CampaignStore
	store.InstrumentStore
	store.AuditStore
	store.OutboxStore

	inner store.Store
	keys  *Keys
}

var _ store.Store = (*Store)(nil)

// Wrap returns st with personal data sealed under keys.
func Wrap(st store.Store, keys *Keys) *Store {
	return &Store{OrgStore: st, StaffStore: st, CampaignStore: st, InstrumentStore: st, AuditStore: st, OutboxStore: st, inner: st, keys: keys}
}

func (s *Store) Ping(ctx context.Context) error { return s.inner.Ping(ctx) }
func (s *Store) Close() error                   { return s.inner.Close() }

// errNoID: every backend refuses a record without an id; this layer
// refuses it first, since it binds the ciphertext to the id.
func errNoID(kind string) error {
	return fmt.Errorf("%w: %s needs an id", store.ErrInvalid, kind)
}

// Persons.

// sealPerson seals a person's identifiers. A caller that has not indexed
// the student number gets the keyed blind index; one that has (the roster
// import asks StudentNoIndex first) keeps its own.
func (s *Store) sealPerson(p store.Person) store.Person {
	if p.StudentNoIndex == "" && len(p.StudentNo) > 0 && p.SchoolID != "" {
		p.StudentNoIndex = s.keys.Blind(p.SchoolID, string(p.StudentNo))
	}
	s.sealFields(&p, store.PersonSealKey(p.ID, p.SchoolID, p.StudentNoIndex))
	return p
}

func (s *Store) openPerson(p store.Person) (store.Person, error) {
	return p, s.openFields(&p, store.PersonSealKey(p.ID, p.SchoolID, p.StudentNoIndex))
}

// StudentNoIndex is the blind index of a student number within a school,
// for callers that look a student up.
func (s *Store) StudentNoIndex(schoolID, studentNo string) string {
	return s.keys.Blind(schoolID, studentNo)
}

// PhoneIndex is the blind index of a normalized phone number, for finding
// a number's bookings (store.Booking.PhoneIndex).
func (s *Store) PhoneIndex(phone string) string {
	return s.keys.Blind("booking-phone", phone)
}

func (s *Store) CreatePerson(ctx context.Context, p store.Person) (store.Person, error) {
	out, err := s.inner.CreatePerson(ctx, s.sealPerson(p))
	if err != nil {
		return out, err
	}
	return withPlain(out, p), nil
}

func (s *Store) GetPerson(ctx context.Context, id string) (store.Person, error) {
	p, err := s.inner.GetPerson(ctx, id)
	if err != nil {
		return p, err
	}
	return s.openPerson(p)
}

func (s *Store) UpdatePerson(ctx context.Context, p store.Person) (store.Person, error) {
	out, err := s.inner.UpdatePerson(ctx, s.sealPerson(p))
	if err != nil {
		return out, err
	}
	return withPlain(out, p), nil
}

func (s *Store) ListPersons(ctx context.Context, f store.PersonFilter, pg store.Page) ([]store.Person, string, error) {
	ps, next, err := s.inner.ListPersons(ctx, f, pg)
	for i := range ps {
		if err != nil {
			break
		}
		ps[i], err = s.openPerson(ps[i])
	}
	return ps, next, err
}

func (s *Store) UpsertRoster(ctx context.Context, schoolID string, people []store.Person, at time.Time) (store.RosterOutcome, error) {
	sealed := make([]store.Person, len(people))
	for i, p := range people {
		p.SchoolID = schoolID
		sealed[i] = s.sealPerson(p)
	}
	return s.inner.UpsertRoster(ctx, schoolID, sealed, at)
}

func (s *Store) FindIdentity(ctx context.Context, kind, key string) (store.Person, error) {
	p, err := s.inner.FindIdentity(ctx, kind, key)
	if err != nil {
		return p, err
	}
	return s.openPerson(p)
}

// Cases.

func (s *Store) sealCase(c store.Case) store.Case {
	s.sealFields(&c, c.ID)
	return c
}

func (s *Store) openCase(c store.Case) (store.Case, error) {
	return c, s.openFields(&c, c.ID)
}

func (s *Store) CreateCase(ctx context.Context, c store.Case) (store.Case, error) {
	if c.ID == "" {
		return c, errNoID("case") // the ciphertext is bound to the id
	}
	out, err := s.inner.CreateCase(ctx, s.sealCase(c))
	if err != nil {
		return out, err
	}
	return withPlain(out, c), nil
}

func (s *Store) GetCase(ctx context.Context, id string) (store.Case, error) {
	c, err := s.inner.GetCase(ctx, id)
	if err != nil {
		return c, err
	}
	return s.openCase(c)
}

func (s *Store) UpdateCase(ctx context.Context, c store.Case) (store.Case, error) {
	out, err := s.inner.UpdateCase(ctx, s.sealCase(c))
	if err != nil {
		return out, err
	}
	return withPlain(out, c), nil
}

func (s *Store) ListCases(ctx context.Context, f store.CaseFilter, pg store.Page) ([]store.Case, string, error) {
	cs, next, err := s.inner.ListCases(ctx, f, pg)
	for i := range cs {
		if err != nil {
			break
		}
		cs[i], err = s.openCase(cs[i])
	}
	return cs, next, err
}

// Referrals.

func (s *Store) openReferral(r store.Referral, err error) (store.Referral, error) {
	if err != nil {
		return r, err
	}
	return r, s.openFields(&r, r.ID)
}

func (s *Store) ReferWarning(ctx context.Context, warningID string, r store.Referral) (store.Referral, error) {
	if r.ID == "" {
		return r, errNoID("referral")
	}
	plain := r
	s.sealFields(&r, r.ID)
	out, err := s.inner.ReferWarning(ctx, warningID, r)
	return withPlain(out, plain), err
}

func (s *Store) GetReferral(ctx context.Context, id string) (store.Referral, error) {
	return s.openReferral(s.inner.GetReferral(ctx, id))
}

func (s *Store) SetReferralState(ctx context.Context, id string, to store.ReferralState, at time.Time) (store.Referral, error) {
	return s.openReferral(s.inner.SetReferralState(ctx, id, to, at))
}

func (s *Store) ListReferrals(ctx context.Context, f store.ReferralFilter, pg store.Page) ([]store.Referral, string, error) {
	rs, next, err := s.inner.ListReferrals(ctx, f, pg)
	for i := range rs {
		if err != nil {
			break
		}
		rs[i], err = s.openReferral(rs[i], nil)
	}
	return rs, next, err
}

// The warning queue: staff notes in the history.

func (s *Store) sealNote(warningID, note string) string {
	return string(s.keys.Seal(store.FieldWarningNote, warningID, []byte(note)))
}

// openNote opens one history note. The store appends " → <assignee>" to an
// assignment's note after the sealed part; base64url has no space, so the
// sealed token ends at the first one and the rest is that plain suffix.
func (s *Store) openNote(warningID string, e store.WarningEvent) (string, error) {
	if e.Note == "" || !store.NoteSealed(e.Kind) {
		return e.Note, nil
	}
	token, rest, _ := strings.Cut(e.Note, " ")
	p, err := s.keys.Open(store.FieldWarningNote, warningID, []byte(token))
	if err != nil {
		return "", err
	}
	if rest != "" {
		return string(p) + " " + rest, nil
	}
	return string(p), nil
}

func (s *Store) openWarning(w store.Warning, err error) (store.Warning, error) {
	if err != nil {
		return w, err
	}
	for i := range w.History {
		if w.History[i].Note, err = s.openNote(w.ID, w.History[i]); err != nil {
			return w, err
		}
	}
	return w, nil
}

// GetWarning opens the notes of the entry's history. Lists, the overdue
// scan and the change feed pass through: they carry no history (see
// store.Warning), so they hold nothing sealed.
func (s *Store) GetWarning(ctx context.Context, id string) (store.Warning, error) {
	return s.openWarning(s.inner.GetWarning(ctx, id))
}

func (s *Store) ClaimWarning(ctx context.Context, id, staffID string, at, leaseUntil time.Time) (store.Warning, error) {
	return s.openWarning(s.inner.ClaimWarning(ctx, id, staffID, at, leaseUntil))
}

func (s *Store) AssignWarning(ctx context.Context, id, actorID, assigneeID string, at, leaseUntil time.Time, note string) (store.Warning, error) {
	return s.openWarning(s.inner.AssignWarning(ctx, id, actorID, assigneeID, at, leaseUntil, s.sealNote(id, note)))
}

func (s *Store) TransitionWarning(ctx context.Context, id string, ch store.WarningChange) (store.Warning, error) {
	ch.Note = s.sealNote(id, ch.Note)
	return s.openWarning(s.inner.TransitionWarning(ctx, id, ch))
}

func (s *Store) EscalateWarning(ctx context.Context, id, toUnitID string, at, newDue time.Time, note string) (store.Warning, error) {
	return s.openWarning(s.inner.EscalateWarning(ctx, id, toUnitID, at, newDue, s.sealNote(id, note)))
}

// AppendWarningEvent seals a note written by staff, as the other moves
// do; the notes of the system's own events (store.SystemNoteKinds) name
// no one and stay in clear.
func (s *Store) AppendWarningEvent(ctx context.Context, id string, e store.WarningEvent) error {
	if e.Note != "" && store.NoteSealed(e.Kind) {
		e.Note = s.sealNote(id, e.Note)
	}
	return s.inner.AppendWarningEvent(ctx, id, e)
}

func (s *Store) Submit(ctx context.Context, sub store.Submission) (store.SubmitOutcome, error) {
	out, err := s.inner.Submit(ctx, sub)
	if err == nil && out.Warning != nil {
		var w store.Warning
		w, err = s.openWarning(*out.Warning, nil)
		out.Warning = &w
	}
	return out, err
}

func (s *Store) RescoreResult(ctx context.Context, r store.Rescore) (store.Result, *store.Warning, error) {
	res, w, err := s.inner.RescoreResult(ctx, r)
	if err == nil && w != nil {
		var open store.Warning
		open, err = s.openWarning(*w, nil)
		w = &open
	}
	return res, w, err
}

// Notification settings: the endpoints' addresses and secrets and the
// contacts' addresses, bound to the unit and the channel or contact id.

func (s *Store) sealSettings(n store.NotifySettings) store.NotifySettings {
	n.Endpoints = append([]store.NotifyEndpoint(nil), n.Endpoints...)
	for i := range n.Endpoints {
		s.sealFields(&n.Endpoints[i], store.NotifyEndpointSealKey(n.UnitID, n.Endpoints[i].Channel))
	}
	n.Contacts = append([]store.NotifyContact(nil), n.Contacts...)
	for i := range n.Contacts {
		s.sealFields(&n.Contacts[i], store.NotifyContactSealKey(n.UnitID, n.Contacts[i].ID))
	}
	return n
}

func (s *Store) openSettings(n store.NotifySettings, err error) (store.NotifySettings, error) {
	if err != nil {
		return n, err
	}
	for i := range n.Endpoints {
		if err := s.openFields(&n.Endpoints[i], store.NotifyEndpointSealKey(n.UnitID, n.Endpoints[i].Channel)); err != nil {
			return n, err
		}
	}
	for i := range n.Contacts {
		if err := s.openFields(&n.Contacts[i], store.NotifyContactSealKey(n.UnitID, n.Contacts[i].ID)); err != nil {
			return n, err
		}
	}
	return n, nil
}

func (s *Store) GetNotifySettings(ctx context.Context, unitID string) (store.NotifySettings, error) {
	return s.openSettings(s.inner.GetNotifySettings(ctx, unitID))
}

func (s *Store) PutNotifySettings(ctx context.Context, n store.NotifySettings) (store.NotifySettings, error) {
	if n.UnitID == "" {
		return n, errNoID("notification settings") // the ciphertext is bound to the unit
	}
	return s.openSettings(s.inner.PutNotifySettings(ctx, s.sealSettings(n)))
}

func (s *Store) ListNotifySettings(ctx context.Context, path string) ([]store.NotifySettings, error) {
	list, err := s.inner.ListNotifySettings(ctx, path)
	for i := range list {
		if err != nil {
			break
		}
		list[i], err = s.openSettings(list[i], nil)
	}
	return list, err
}

// Absences: the reason is bound to its campaign and person.

func (s *Store) PutAbsence(ctx context.Context, a store.Absence) (store.Absence, error) {
	plain := a
	s.sealFields(&a, store.AbsenceSealKey(a.CampaignID, a.PersonID))
	out, err := s.inner.PutAbsence(ctx, a)
	return withPlain(out, plain), err
}

func (s *Store) ListAbsences(ctx context.Context, f store.AbsenceFilter) ([]store.Absence, error) {
	as, err := s.inner.ListAbsences(ctx, f)
	for i := range as {
		if err != nil {
			break
		}
		err = s.openFields(&as[i], store.AbsenceSealKey(as[i].CampaignID, as[i].PersonID))
	}
	return as, err
}

// Activities.

func (s *Store) AddActivity(ctx context.Context, a store.Activity) (store.Activity, error) {
	if a.ID == "" {
		return a, errNoID("activity")
	}
	plain := a
	s.sealFields(&a, a.ID)
	out, err := s.inner.AddActivity(ctx, a)
	return withPlain(out, plain), err
}

func (s *Store) ListActivities(ctx context.Context, f store.ActivityFilter, pg store.Page) ([]store.Activity, string, error) {
	as, next, err := s.inner.ListActivities(ctx, f, pg)
	for i := range as {
		if err != nil {
			break
		}
		err = s.openFields(&as[i], as[i].ID)
	}
	return as, next, err
}

// WarningsChangedSince forwards the backend's change feed, which store.Store
// does not declare, so embedding alone would hide it and the servers sharing
// a database would stop telling each other's consoles.
func (s *Store) WarningsChangedSince(ctx context.Context, since time.Time, limit int) ([]store.Warning, error) {
	feed, ok := s.inner.(store.ChangeFeed)
	if !ok {
		return nil, errors.New("sealed: the wrapped store offers no change feed")
	}
	return feed.WarningsChangedSince(ctx, since, limit)
}

// FinishInterrupted forwards the backend's recovery of interrupted
// multi-document writes, which embedding alone would hide. A backend that
// needs none (one embedded store writes each operation in one
// transaction) has nothing to finish.
func (s *Store) FinishInterrupted(ctx context.Context, now time.Time, grace time.Duration) (int, error) {
	f, ok := s.inner.(store.Finisher)
	if !ok {
		return 0, nil
	}
	return f.FinishInterrupted(ctx, now, grace)
}

// Pass-throughs of the personal areas. Each was checked: it moves no
// sealed field (ids, states, times, scores and answers' values; answers
// and results hold no name, phone or free text), so it needs nothing here.

func (s *Store) LinkIdentity(ctx context.Context, kind, key, personID string, at time.Time) error {
	return s.inner.LinkIdentity(ctx, kind, key, personID, at)
}

func (s *Store) AnonymisePerson(ctx context.Context, id string, at time.Time) error {
	return s.inner.AnonymisePerson(ctx, id, at)
}

func (s *Store) ErasePerson(ctx context.Context, e store.Erasure) (store.ErasureOutcome, error) {
	return s.inner.ErasePerson(ctx, e)
}

func (s *Store) ListIdentities(ctx context.Context, personID string) ([]store.Identity, error) {
	return s.inner.ListIdentities(ctx, personID)
}

func (s *Store) ListPersonAccessCodes(ctx context.Context, personID string) ([]store.AccessCode, error) {
	return s.inner.ListPersonAccessCodes(ctx, personID)
}

func (s *Store) CreateSession(ctx context.Context, sess store.Session) (store.Session, error) {
	return s.inner.CreateSession(ctx, sess)
}

func (s *Store) GetSession(ctx context.Context, id string) (store.Session, error) {
	return s.inner.GetSession(ctx, id)
}

func (s *Store) SetSessionToken(ctx context.Context, id string, hash []byte) error {
	return s.inner.SetSessionToken(ctx, id, hash)
}

func (s *Store) ListSessions(ctx context.Context, f store.SessionFilter, p store.Page) ([]store.Session, string, error) {
	return s.inner.ListSessions(ctx, f, p)
}

func (s *Store) SaveAnswer(ctx context.Context, a store.Answer) (store.AnswerOutcome, error) {
	return s.inner.SaveAnswer(ctx, a)
}

func (s *Store) SaveAnswers(ctx context.Context, sessionID string, answers []store.Answer) ([]store.AnswerOutcome, error) {
	return s.inner.SaveAnswers(ctx, sessionID, answers)
}

func (s *Store) ListAnswers(ctx context.Context, sessionID string) ([]store.Answer, error) {
	return s.inner.ListAnswers(ctx, sessionID)
}

func (s *Store) ListIdleSessions(ctx context.Context, from, before time.Time, limit int) ([]store.Session, error) {
	return s.inner.ListIdleSessions(ctx, from, before, limit)
}

func (s *Store) PurgeAnonymousSessions(ctx context.Context, before time.Time) (int, error) {
	return s.inner.PurgeAnonymousSessions(ctx, before)
}

func (s *Store) GetResult(ctx context.Context, id string) (store.Result, error) {
	return s.inner.GetResult(ctx, id)
}

func (s *Store) ListResults(ctx context.Context, f store.ResultFilter, p store.Page) ([]store.Result, string, error) {
	return s.inner.ListResults(ctx, f, p)
}

// ListWarnings and ScanOverdue return entries without history, and only
// history notes are sealed in an entry.
func (s *Store) ListWarnings(ctx context.Context, f store.WarningFilter, p store.Page) ([]store.Warning, string, error) {
	return s.inner.ListWarnings(ctx, f, p)
}

func (s *Store) ScanOverdue(ctx context.Context, now time.Time, limit int) ([]store.Warning, error) {
	return s.inner.ScanOverdue(ctx, now, limit)
}

func (s *Store) QueueLevels(ctx context.Context, now time.Time) ([]store.QueueLevel, error) {
	return s.inner.QueueLevels(ctx, now)
}

func (s *Store) UnitCounts(ctx context.Context, path string, from, to time.Time) ([]store.UnitCounts, error) {
	return s.inner.UnitCounts(ctx, path, from, to)
}
