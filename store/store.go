// Package store defines xinling's persistence: one interface of domain
// operations, the records it moves, and the errors it returns. Backends live
// in store/sqlite (embedded default) and store/mongo; store/storetest is the
// contract both must pass.
//
// Every write method returns only once the write is durable (fsynced on
// sqlite, majority-acknowledged on MongoDB): an acknowledgement to a
// respondent may rest on it. Scope (which staff may see what) is decided in
// assess; the store offers subtree filters (UnitPath) to make it cheap.
package store

import (
	"context"
	"time"
)

// Page asks for one page of a list. After is the Next of the previous page
// (empty for the first). Limit <= 0 means DefaultLimit; it is capped at
// MaxLimit. Pages are keyset-based, so inserts between calls never make a
// row appear twice or an existing row disappear.
type Page struct {
	After string
	Limit int
}

const (
	DefaultLimit = 50
	MaxLimit     = 1000
)

// Size returns the effective page size.
func (p Page) Size() int {
	switch {
	case p.Limit <= 0:
		return DefaultLimit
	case p.Limit > MaxLimit:
		return MaxLimit
	}
	return p.Limit
}

// StaffFilter selects staff accounts. UnitPath selects a subtree.
type StaffFilter struct {
	UnitPath string
	Role     Role
}

// PersonFilter selects persons.
type PersonFilter struct {
	UnitPath string
	SchoolID string
}

// SessionFilter selects sessions.
type SessionFilter struct {
	UnitPath   string
	CampaignID string
	PersonID   string
	State      SessionState
}

// ResultFilter selects results.
type ResultFilter struct {
	UnitPath   string
	CampaignID string
	PersonID   string
	SessionID  string
	Instrument string
	From, To   time.Time // CreatedAt in [From, To); zero means unbounded
	// WithSuperseded also lists results replaced by rescoring.
	WithSuperseded bool
}

// WarningFilter selects queue entries. Results are ordered by level, then
// age (oldest first), then id.
type WarningFilter struct {
	UnitPath   string // subtree
	Levels     []int
	States     []WarningState
	AssigneeID string
	PersonID   string
	OverdueAt  time.Time // if set: only entries whose DueAt is before it
}

// CaseFilter selects case records.
type CaseFilter struct {
	UnitPath  string
	PersonID  string
	WarningID string
}

// ReferralFilter selects referrals. ToUnitPath finds what was referred into
// a subtree (a centre's incoming queue); FromUnitPath what a subtree sent.
type ReferralFilter struct {
	ToUnitPath   string
	FromUnitPath string
	WarningID    string
	PersonID     string
	State        ReferralState
}

// CampaignFilter selects campaigns.
type CampaignFilter struct {
	UnitPath string
	State    CampaignState
}

// InstrumentFilter selects custom instrument versions.
type InstrumentFilter struct {
	ID    string
	State InstrumentState
}

// AuditFilter selects audit entries, ordered by time then id.
type AuditFilter struct {
	ActorID    string
	TargetKind string
	TargetID   string
	Action     string
	From, To   time.Time
}

// ActivityFilter selects activity records by subtree and date.
type ActivityFilter struct {
	UnitPath string
	From, To time.Time
}

// RosterOutcome counts what UpsertRoster did.
type RosterOutcome struct {
	Created int
	Updated int
}

// Store is the whole of xinling's persistence: the union of the area
// interfaces below, which follow the groups of the contract suite
// (store/storetest). Methods are safe for concurrent use. Splitting it lets
// a wrapper decide area by area what it must handle: store/sealed
// implements every area that carries personal data method by method, so a
// new method there does not compile until someone decides how it is sealed.
type Store interface {
	OrgStore
	StaffStore
	PersonStore
	SessionStore
	QueueStore
	CaseStore
	CampaignStore
	InstrumentStore
	AuditStore
	CountStore
	OutboxStore
	HandoffStore
	MeetingStore
	NotifySettingsStore
	AbsenceStore

	// Ping reports whether the store is reachable (readiness).
	Ping(ctx context.Context) error
	// Close flushes pending writes and releases the backend.
	Close() error
}

// OrgStore holds the org tree.
type OrgStore interface {
	// CreateUnit adds a unit under ParentID (or a root) and fills Path.
	// ErrNotFound: no such parent. ErrConflict: the id exists.
	// ErrInvalid: the id is not [A-Za-z0-9_-]+.
	CreateUnit(ctx context.Context, u Unit) (Unit, error)
	GetUnit(ctx context.Context, id string) (Unit, error)
	// RenameUnit changes a unit's name and kind; its place in the tree (and
	// so every path below it) never changes. ErrNotFound: no such unit.
	RenameUnit(ctx context.Context, id, name, kind string) (Unit, error)
	// ListUnits returns the subtree under path (inclusive), ordered by path.
	ListUnits(ctx context.Context, path string) ([]Unit, error)
}

// StaffStore holds staff accounts and their console sign-ins.
type StaffStore interface {
	// CreateStaff: ErrConflict on a taken id or login; ErrNotFound on an
	// unknown unit.
	CreateStaff(ctx context.Context, s Staff) (Staff, error)
	GetStaff(ctx context.Context, id string) (Staff, error)
	GetStaffByLogin(ctx context.Context, login string) (Staff, error)
	// UpdateStaff replaces the mutable fields (name, role, unit, password
	// hash, must-change flag, failed logins, lock, disabled) when s.Version is current;
	// ErrConflict otherwise.
	UpdateStaff(ctx context.Context, s Staff) (Staff, error)
	ListStaff(ctx context.Context, f StaffFilter, p Page) ([]Staff, string, error)

	// Console sign-ins.

	// CreateLogin stores a signed-in session; ErrConflict on a taken id.
	CreateLogin(ctx context.Context, l Login) error
	// GetLogin returns a session, expired or not (the caller checks
	// ExpiresAt); ErrNotFound once it is deleted.
	GetLogin(ctx context.Context, id string) (Login, error)
	// DeleteLogin signs one session out; an absent one is not an error.
	DeleteLogin(ctx context.Context, id string) error
	// DeleteLogins signs out every session of a staff member (password
	// change or reset, disabling) and returns how many there were.
	DeleteLogins(ctx context.Context, staffID string) (int, error)
	// DeleteExpiredLogins deletes the sessions that expired before
	// before and returns how many there were. Expiry is by query in every
	// backend: not every MongoDB-wire server has TTL indexes.
	DeleteExpiredLogins(ctx context.Context, before time.Time) (int, error)
}

// PersonStore holds respondents' identities: personal data.
type PersonStore interface {
	// CreatePerson: ErrConflict on a taken id or (SchoolID, StudentNoIndex).
	CreatePerson(ctx context.Context, p Person) (Person, error)
	GetPerson(ctx context.Context, id string) (Person, error)
	// UpdatePerson replaces the mutable fields when p.Version is current.
	UpdatePerson(ctx context.Context, p Person) (Person, error)
	ListPersons(ctx context.Context, f PersonFilter, p Page) ([]Person, string, error)
	// UpsertRoster creates or updates (keyed by StudentNoIndex within
	// schoolID) every person. Every entry is checked before anything is
	// written (ErrInvalid: each person's UnitID must lie in the school's
	// subtree). sqlite writes them in one transaction; MongoDB upserts them
	// one by one, so a crash may leave part of the roster imported, and
	// importing it again completes it without duplicates.
	UpsertRoster(ctx context.Context, schoolID string, people []Person, at time.Time) (RosterOutcome, error)
	// LinkIdentity binds (kind, key) to a person. Linking the same pair
	// again is a no-op; a key bound to another person is ErrConflict.
	LinkIdentity(ctx context.Context, kind, key, personID string, at time.Time) error
	// FindIdentity returns the person bound to (kind, key).
	FindIdentity(ctx context.Context, kind, key string) (Person, error)
	// AnonymisePerson erases identifiers and identity links (PIPL) and
	// keeps results, warnings and cases for the statistics.
	AnonymisePerson(ctx context.Context, id string, at time.Time) error
	// ErasePerson carries out a PIPL erasure (one transaction on sqlite; on
	// MongoDB idempotent steps that mark the person anonymised last, so an
	// interrupted erasure shows as unfinished and is repeated), field by
	// field as the personal-data inventory (store.Personal) says: what
	// AnonymisePerson does, plus the birth month (see Erasure.Age), the
	// person's personal access codes, the free text of their case records,
	// referral notes and queue-history notes, and every session's token and
	// access code (open sessions become purged, so nothing more can be added). Results,
	// queue entries, cases and referrals stay, with their units and times,
	// so every count is the same afterwards. Repeating it is harmless.
	// ErrNotFound: no such person.
	ErasePerson(ctx context.Context, e Erasure) (ErasureOutcome, error)
	// ListIdentities returns the identity links of a person, oldest first.
	ListIdentities(ctx context.Context, personID string) ([]Identity, error)
	// ListPersonAccessCodes returns the personal access codes issued to a
	// person, oldest first.
	ListPersonAccessCodes(ctx context.Context, personID string) ([]AccessCode, error)
}

// SessionStore holds sessions, answers and results: health data.
type SessionStore interface {
	// CreateSession stores an open session. ErrConflict on a taken id.
	CreateSession(ctx context.Context, s Session) (Session, error)
	GetSession(ctx context.Context, id string) (Session, error)
	// SetSessionToken replaces an open session's token hash, so that a
	// student resuming with a personal access code on another device gets
	// a fresh token (and the old device's one stops working).
	// ErrNotFound: no session. ErrSessionClosed: not open.
	SetSessionToken(ctx context.Context, id string, hash []byte) error
	ListSessions(ctx context.Context, f SessionFilter, p Page) ([]Session, string, error)
	// SaveAnswer stores one answer, idempotently by (session, item, seq):
	// a higher seq than stored replaces it (AnswerSaved), an equal seq is a
	// no-op (AnswerReplay), a lower seq is ignored and returns ErrStaleSeq
	// along with the outcome. ErrNotFound: no session. ErrSessionClosed.
	SaveAnswer(ctx context.Context, a Answer) (AnswerOutcome, error)
	// SaveAnswers is the batch form: one durable write, one outcome per
	// answer (stale ones are reported in the outcome, not as an error).
	SaveAnswers(ctx context.Context, sessionID string, answers []Answer) ([]AnswerOutcome, error)
	// ListAnswers returns a session's answers ordered by item.
	ListAnswers(ctx context.Context, sessionID string) ([]Answer, error)
	// Submit writes a Submission: no reader ever sees one of its results
	// without its queue entry, and once it returns, the session is
	// submitted. On MongoDB a crash part-way leaves the submission recorded
	// on the session, which then takes no answers until a retry or
	// FinishInterrupted completes it. See SubmitOutcome for replays.
	// ErrNotFound: no session. ErrSessionClosed: purged.
	Submit(ctx context.Context, sub Submission) (SubmitOutcome, error)
	// ListIdleSessions returns up to limit open sessions whose last activity
	// is in [from, before), least recently active first: the abandoned ones,
	// whose answers may still hold a risk nobody has seen.
	ListIdleSessions(ctx context.Context, from, before time.Time, limit int) ([]Session, error)
	// PurgeAnonymousSessions deletes the answers of sessions without a
	// person whose last activity is before the cutoff and marks them
	// purged; results stay (they hold no identifier, and the monthly
	// figures count them). A session whose queue entry is not closed is
	// kept until it is. Returns the count.
	PurgeAnonymousSessions(ctx context.Context, before time.Time) (int, error)

	// Results.

	GetResult(ctx context.Context, id string) (Result, error)
	// RescoreResult stores r.Result, marks the result it supersedes, and
	// files r.Warning in the session's queue entry (one transaction on
	// sqlite; recorded steps finished by FinishInterrupted on MongoDB).
	// ErrNotFound: no such old result. ErrConflict: it was already
	// superseded (a rescore is applied once).
	RescoreResult(ctx context.Context, r Rescore) (Result, *Warning, error)
	ListResults(ctx context.Context, f ResultFilter, p Page) ([]Result, string, error)
}

// QueueStore holds the warning queue.
type QueueStore interface {
	// GetWarning returns an entry with its history.
	GetWarning(ctx context.Context, id string) (Warning, error)
	// ListWarnings returns entries without history.
	ListWarnings(ctx context.Context, f WarningFilter, p Page) ([]Warning, string, error)
	// ClaimWarning gives the entry to staffID until leaseUntil. It succeeds
	// on an open entry, on a claimed one whose lease expired, and renews
	// the caller's own claim. Of concurrent claimers exactly one wins; the
	// others get ErrLeaseHeld. ErrInvalidTransition past claimed.
	ClaimWarning(ctx context.Context, id, staffID string, at, leaseUntil time.Time) (Warning, error)
	// AssignWarning hands the entry to assigneeID (open → claimed; claimed
	// and following_up keep their state). Permission is assess's business.
	AssignWarning(ctx context.Context, id, actorID, assigneeID string, at, leaseUntil time.Time, note string) (Warning, error)
	// TransitionWarning moves the entry; only the assignee may
	// (ErrLeaseHeld), and only along the state machine
	// (ErrInvalidTransition). Closing needs an outcome (ErrInvalid).
	TransitionWarning(ctx context.Context, id string, ch WarningChange) (Warning, error)
	// EscalateWarning moves an open, overdue entry to another unit (the
	// parent) with a new due time. ErrInvalidTransition if it is no longer
	// open, or no longer overdue at `at` (another server escalated it first).
	EscalateWarning(ctx context.Context, id, toUnitID string, at, newDue time.Time, note string) (Warning, error)
	// ScanOverdue returns open entries due before now, most overdue first.
	ScanOverdue(ctx context.Context, now time.Time, limit int) ([]Warning, error)
	// AppendWarningEvent adds e to the end of an entry's history and
	// changes nothing else: not its state, assignee, unit, level, deadline,
	// UpdatedAt or Version. It records what the system did about an entry
	// without moving it (a notification sent, a delivery failed).
	// ErrNotFound: no such entry. ErrInvalid: e has no kind or time.
	AppendWarningEvent(ctx context.Context, id string, e WarningEvent) error

	// QueueLevels sums up the open (unclaimed) queue entries by level, for
	// metrics: it reads only open entries, through the (state, due_at)
	// index, so it stays cheap however long the queue's history grows.
	// Levels without an open entry are left out; the rest are in order.
	QueueLevels(ctx context.Context, now time.Time) ([]QueueLevel, error)
}

// CaseStore holds referrals and case records.
type CaseStore interface {
	// ReferWarning moves the entry to referred and creates the referral to
	// r.ToUnitID. Same rules as TransitionWarning. On MongoDB the entry
	// moves first, carrying the referral, so a crash leaves it visibly
	// referred; repeating the call with the same referral, or
	// FinishInterrupted, writes the referral once.
	ReferWarning(ctx context.Context, warningID string, r Referral) (Referral, error)
	GetReferral(ctx context.Context, id string) (Referral, error)
	// SetReferralState moves sent → accepted → completed.
	SetReferralState(ctx context.Context, id string, to ReferralState, at time.Time) (Referral, error)
	ListReferrals(ctx context.Context, f ReferralFilter, p Page) ([]Referral, string, error)

	// Cases.

	CreateCase(ctx context.Context, c Case) (Case, error)
	GetCase(ctx context.Context, id string) (Case, error)
	// UpdateCase replaces the mutable fields when c.Version is current.
	UpdateCase(ctx context.Context, c Case) (Case, error)
	ListCases(ctx context.Context, f CaseFilter, p Page) ([]Case, string, error)
}

// CampaignStore holds campaigns and their access codes.
type CampaignStore interface {
	CreateCampaign(ctx context.Context, c Campaign) (Campaign, error)
	GetCampaign(ctx context.Context, id string) (Campaign, error)
	// UpdateCampaign replaces name, units, battery, mode, visibility and
	// window when c.Version is current and the campaign is a draft
	// (ErrInvalidTransition otherwise).
	UpdateCampaign(ctx context.Context, c Campaign) (Campaign, error)
	// SetCampaignState moves draft → active → closed (or draft → closed).
	SetCampaignState(ctx context.Context, id string, to CampaignState, at time.Time) (Campaign, error)
	ListCampaigns(ctx context.Context, f CampaignFilter, p Page) ([]Campaign, string, error)
	// CreateAccessCodes makes all codes usable or none (ErrConflict if any
	// code is taken).
	CreateAccessCodes(ctx context.Context, codes []AccessCode) error
	GetAccessCode(ctx context.Context, code string) (AccessCode, error)
	ListAccessCodes(ctx context.Context, campaignID string, p Page) ([]AccessCode, string, error)
	// BindAccessCode records the session a personal code started, unless
	// one is already bound: it returns the code as stored, so concurrent
	// starts all resume the same session.
	BindAccessCode(ctx context.Context, code, sessionID string) (AccessCode, error)
}

// InstrumentStore holds custom instrument documents.
type InstrumentStore interface {
	// SaveInstrumentDraft creates or replaces a draft version; ErrConflict
	// if another unit's draft has that id and version; ErrImmutable
	// if that version is published.
	SaveInstrumentDraft(ctx context.Context, d InstrumentDoc) (InstrumentDoc, error)
	// PublishInstrument freezes a draft; ErrImmutable if already published.
	PublishInstrument(ctx context.Context, id, version string, at time.Time) (InstrumentDoc, error)
	// RetireInstrument stops a published version taking new sessions;
	// ErrConflict if it is a draft, ErrImmutable if already retired.
	RetireInstrument(ctx context.Context, id, version string, at time.Time) (InstrumentDoc, error)
	// SetInstrumentPublic puts a published version into, or takes it out
	// of, the public self-test catalogue; ErrConflict for a draft.
	SetInstrumentPublic(ctx context.Context, id, version string, public bool) (InstrumentDoc, error)
	GetInstrument(ctx context.Context, id, version string) (InstrumentDoc, error)
	// ListInstruments returns versions ordered by id then version, without
	// their source.
	ListInstruments(ctx context.Context, f InstrumentFilter) ([]InstrumentDoc, error)
}

// AuditStore is the append-only audit log: there is no update or delete.
type AuditStore interface {
	AppendAudit(ctx context.Context, e AuditEntry) error
	ListAudit(ctx context.Context, f AuditFilter, p Page) ([]AuditEntry, string, error)
}

// CountStore holds outreach activities and the monthly figures.
type CountStore interface {
	AddActivity(ctx context.Context, a Activity) (Activity, error)
	ListActivities(ctx context.Context, f ActivityFilter, p Page) ([]Activity, string, error)
	// UnitCounts returns, for every unit in the subtree under path that has
	// any figure in [from, to), its own counts.
	UnitCounts(ctx context.Context, path string, from, to time.Time) ([]UnitCounts, error)
}

// QueueLevel is the state of one level's unclaimed entries.
type QueueLevel struct {
	Level int
	// Open counts entries nobody has claimed yet.
	Open int
	// Oldest is when the longest-waiting of them was created.
	Oldest time.Time
	// Overdue counts those past their follow-up deadline: SLA breaches.
	Overdue int
}

// Backuper is implemented by backends that can write a consistent online
// copy of themselves to a file (sqlite; MongoDB has its own tools).
type Backuper interface {
	Backup(ctx context.Context, dst string) error
}

// Finisher is implemented by backends whose multi-document writes are
// ordered sequences of single-document steps (MongoDB), so that a crash
// between two steps leaves a recorded intent. FinishInterrupted completes
// every intent older than grace, as of now: a submit whose results or
// warning were not all written, a referral whose referral record was not,
// an access-code batch that was never published. Every server runs it
// periodically; two servers finishing the same intent is harmless, because
// each step is idempotent. It returns how many intents it completed.
type Finisher interface {
	FinishInterrupted(ctx context.Context, now time.Time, grace time.Duration) (int, error)
}

// ChangeFeed is implemented by backends that several servers can share
// (both do), so that each server can tell its own consoles about queue
// changes another server made. It is optional, like Backuper, so that
// wrappers of a Store need not forward it.
type ChangeFeed interface {
	// WarningsChangedSince returns entries whose UpdatedAt is at or after
	// since, oldest change first (UpdatedAt, then ID), without History.
	// UpdatedAt is the time of the entry's last event as the changing
	// server's clock saw it, so callers overlap their windows.
	WarningsChangedSince(ctx context.Context, since time.Time, limit int) ([]Warning, error)
}
