package store

import "time"

// Times: every backend keeps times at millisecond precision in UTC (MongoDB
// cannot hold more), and returns the zero time for "unset". Callers pass the
// times (their clock is injectable); the store never reads the wall clock.

// Sealed is a value encrypted by the caller (AES-GCM with a key id, issue 9).
// The store keeps it as opaque bytes and never sees the plaintext, so no
// backend can leak a name into a query log or a raw database file.
type Sealed []byte

// Unit is a node of the org tree. Path is materialized as "/" + the ids from
// the root down, each followed by "/" (for example "/city/county/school/"),
// so that a subtree is one indexed range query. The store computes Path.
type Unit struct {
	ID        string
	ParentID  string // empty for a root
	Kind      string // city, county, township, village, school, grade, class, station, enterprise...
	Name      string
	Path      string
	CreatedAt time.Time
}

// Role of a staff account.
type Role string

const (
	RoleAdmin              Role = "admin"
	RoleCounsellor         Role = "counsellor"
	RoleSchoolPsychologist Role = "school_psychologist"
	RoleTeacher            Role = "teacher"
	RoleViewer             Role = "viewer"
)

// Staff is a console account. UnitPath is copied from the unit at write time
// so that scope filters need no join.
type Staff struct {
	ID           string
	Login        string // unique
	Name         string
	Role         Role
	UnitID       string
	UnitPath     string // set by the store
	PasswordHash []byte
	FailedLogins int
	LockedUntil  time.Time
	Disabled     bool
	// MustChangePassword is set with a one-time password: the account can
	// do nothing else until it chooses its own.
	MustChangePassword bool
	// Permissions an administrator granted beyond the role's own
	// (PermEditInstruments), sorted.
	Permissions []string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	Version     int64 // set by the store; UpdateStaff must carry the current one
}

// Person is a respondent. Personal identifiers are Sealed; StudentNoIndex is
// a keyed blind index (HMAC) of the student number, unique within SchoolID.
type Person struct {
	ID             string
	UnitID         string // class, village, ... where the person belongs
	UnitPath       string // set by the store
	SchoolID       string // roster key scope; empty for residents
	StudentNoIndex string
	Name           Sealed
	Phone          Sealed
	StudentNo      Sealed
	Sex            string // "m", "f" or ""
	BirthMonth     string // "2010-05" or ""
	Age            int    // when only the age is known
	Anonymised     bool   // PIPL erasure: identifiers gone, aggregates kept
	CreatedAt      time.Time
	UpdatedAt      time.Time
	Version        int64
}

// Identity kinds link an external key to a person.
const (
	IdentityRoster = "roster" // school id + student number blind index
	IdentityDevice = "device" // hash of an anonymous device token
	IdentityPhone  = "phone"  // blind index of a phone number
	IdentityWeChat = "wechat" // keyed HMAC of an official account's appid and openid
)

// SessionState: open → submitted; open|submitted → purged (retention).
type SessionState string

const (
	SessionOpen      SessionState = "open"
	SessionSubmitted SessionState = "submitted"
	SessionPurged    SessionState = "purged"
)

// ActivityResolution is how far a session's LastActiveAt may lag its
// latest answer. Idle timeouts and retention are hours and days long, and
// not rewriting the session on every answer halves the embedded store's
// work per answer.
const ActivityResolution = 30 * time.Second

// Session is one sitting of an instrument or a battery.
type Session struct {
	ID           string // random, suits a hashed shard key
	TokenHash    []byte // hash of the respondent's bearer token
	PersonID     string // empty for an anonymous self-test
	CampaignID   string
	AccessCode   string
	UnitID       string
	UnitPath     string // set by the store when UnitID is given
	FollowUpOf   string // session whose level-1 rule chained this one
	Instruments  []string
	Sex          string
	Age          int
	Consent      bool
	Locale       string
	State        SessionState // set by the store
	CreatedAt    time.Time
	LastActiveAt time.Time // advanced by saved answers, to within ActivityResolution
	SubmittedAt  time.Time
}

// Answer is the stored answer to one item. Item is the caller's item key; in
// a battery it should name the instrument too ("phq9/q9").
type Answer struct {
	SessionID string
	Item      string
	Value     float64
	Seq       int64
	At        time.Time
}

// AnswerStatus says what an answer save did.
type AnswerStatus string

const (
	AnswerSaved  AnswerStatus = "saved"  // new, or a newer seq replaced the old value
	AnswerReplay AnswerStatus = "replay" // equal seq: nothing written, same outcome as before
	AnswerStale  AnswerStatus = "stale"  // older seq: ignored
)

// AnswerOutcome reports a save. Current is what the store holds afterwards.
type AnswerOutcome struct {
	Status  AnswerStatus
	Current Answer
}

// Result is one scored instrument. The store knows nothing of the engine:
// scores, bands and the full result travel as plain data. Instrument, Version
// and ContentHash let the result be rescored with the exact document.
type Result struct {
	ID          string
	SessionID   string
	PersonID    string // copied from the session by the store
	CampaignID  string // copied from the session by the store
	UnitID      string // copied from the session by the store
	UnitPath    string
	Instrument  string
	Version     string
	ContentHash string
	Scores      map[string]float64
	Bands       map[string]string
	Flags       []string // validity flags (too fast, straight-lining...)
	Payload     []byte   // JSON of the engine's full result
	CreatedAt   time.Time
	// Supersedes is the result this one replaced when it was rescored with
	// another version of its instrument (it keeps that result's CreatedAt;
	// RescoredAt is when). SupersededBy is set on the replaced result,
	// which stays stored but leaves lists and counts.
	Supersedes   string
	SupersededBy string
	RescoredAt   time.Time
}

// Submission is what Submit writes in one atomic, durable step: the session
// becomes submitted, its results are stored, and its warning (if any rule
// fired) is created or merged. Nothing of it exists unless all of it does.
type Submission struct {
	SessionID string
	At        time.Time
	Results   []Result
	Warning   *WarningDraft // nil when no warning rule fired
}

// WarningDraft is the warning part of a submission. All reasons of one
// person from one battery go into one draft. Key groups entries: it defaults
// to the session id; a follow-up session passes the key of the session that
// chained it, so both results land in one entry.
type WarningDraft struct {
	ID      string // used when a new entry is created
	Key     string
	Level   int // 1 (critical) .. 3; the entry keeps the most severe
	DueAt   time.Time
	Reasons []Reason
}

// Reason is one fired warning rule.
type Reason struct {
	ResultID   string
	Instrument string
	Rule       string
	Level      int
	Text       map[string]string // by locale
	// EarlierResultID is the earlier result a trend warning compares
	// against (the same person's, same instrument).
	EarlierResultID string `json:",omitempty" bson:",omitempty"`
}

// SubmitOutcome is returned by Submit. Replayed is true when the session was
// already submitted: the stored results and warning are returned and nothing
// is written, so a retried submit creates no second warning.
type SubmitOutcome struct {
	Results  []Result
	Warning  *Warning
	Replayed bool
}

// WarningState of a queue entry:
//
//	open → claimed → following_up → referred | closed
//
// with release (claimed|following_up → open) and claimed → referred|closed.
type WarningState string

const (
	WarningOpen        WarningState = "open"
	WarningClaimed     WarningState = "claimed"
	WarningFollowingUp WarningState = "following_up"
	WarningReferred    WarningState = "referred"
	WarningClosed      WarningState = "closed"
)

// Warning is a queue entry.
type Warning struct {
	ID          string
	Key         string
	PersonID    string
	SessionID   string
	ResultIDs   []string
	UnitID      string
	UnitPath    string
	Level       int
	Reasons     []Reason
	State       WarningState
	AssigneeID  string
	LeaseUntil  time.Time
	DueAt       time.Time
	Escalations int
	Outcome     string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	Version     int64
	History     []WarningEvent // filled by GetWarning only
}

// WarningEvent kinds.
const (
	EventCreated    = "created"
	EventMerged     = "merged"
	EventClaimed    = "claimed"
	EventAssigned   = "assigned"
	EventTransition = "transition"
	EventEscalated  = "escalated"
	EventReferred   = "referred"

	// What the notification dispatcher did about an entry (issue 16),
	// appended with AppendWarningEvent. Their notes are written by the
	// dispatcher, never by staff: a JSON object of channel, contact id and
	// name, attempt and the channel's error (see assess.NotifyNote), with
	// nothing about the respondent.

	// EventNotifyPlanned: a notification of the entry was worked out into
	// deliveries to the on-duty contacts of UnitID (or deferred to a
	// digest, or found nobody on duty).
	EventNotifyPlanned = "notify_planned"
	// EventNotifySent: one delivery was accepted by its channel.
	EventNotifySent = "notify_sent"
	// EventNotifyFailed: one attempt of a delivery failed; it is retried.
	EventNotifyFailed = "notify_failed"
	// EventNotifyDead: a delivery was given up (dead-letter list).
	EventNotifyDead = "notify_dead"
	// EventNotifyRequeued: an admin gave a dead delivery another round
	// (ActorID is the admin).
	EventNotifyRequeued = "notify_requeued"
)

// SystemNoteKinds are the history events whose notes the system writes:
// they name no one and are stored in clear (see NoteSealed).
var SystemNoteKinds = []string{EventCreated, EventMerged, EventCallback, EventNotifyPlanned, EventNotifySent, EventNotifyFailed, EventNotifyDead, EventNotifyRequeued}

// WarningEvent is one line of an entry's append-only history.
type WarningEvent struct {
	At      time.Time
	ActorID string // empty for the system
	Kind    string
	From    WarningState
	To      WarningState
	Note    string
	Outcome string
	UnitID  string // escalation or referral target
}

// WarningChange moves an entry along its state machine (TransitionWarning).
// To = open releases the entry. Closing needs an Outcome.
type WarningChange struct {
	ActorID string
	To      WarningState
	Note    string
	Outcome string
	At      time.Time
}

// Case is a counselling record (心理辅导个案记录). Free text is Sealed.
type Case struct {
	ID             string
	PersonID       string
	WarningID      string // optional link to a queue entry
	UnitID         string
	UnitPath       string // set by the store
	CounsellorID   string
	SelfEvaluation Sealed
	LifeEvents     Sealed
	OtherProblems  Sealed
	Advice         Sealed
	GroupNotified  bool // 是否通报综合管理小组
	At             time.Time
	Closed         bool
	ClosedAt       time.Time
	Outcome        string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	Version        int64
}

// ReferralState: sent → accepted → completed.
type ReferralState string

const (
	ReferralSent      ReferralState = "sent"
	ReferralAccepted  ReferralState = "accepted"
	ReferralCompleted ReferralState = "completed"
)

// Referral sends a warning's person to a unit higher in the tree.
type Referral struct {
	ID           string
	WarningID    string
	PersonID     string // copied from the warning
	FromUnitID   string // the warning's unit at referral time
	FromUnitPath string
	ToUnitID     string
	ToUnitPath   string // set by the store
	SenderID     string
	Note         Sealed
	State        ReferralState
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// CampaignState: draft → active → closed, draft → closed.
type CampaignState string

const (
	CampaignDraft  CampaignState = "draft"
	CampaignActive CampaignState = "active"
	CampaignClosed CampaignState = "closed"
)

// Campaign is a screening in one school (or other unit).
type Campaign struct {
	ID         string
	Name       string
	UnitID     string // the owning unit (a school)
	UnitPath   string // set by the store
	UnitIDs    []string
	Battery    []string
	Mode       string // "roster" or "open"
	Visibility string // "nothing", "thanks", "bands"
	State      CampaignState
	StartsAt   time.Time
	EndsAt     time.Time
	CreatedBy  string
	// FollowUpOf is the campaign whose focus list this follow-up screening
	// re-tests (issue 17); its results are compared with that one's.
	FollowUpOf string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	Version    int64
}

// AccessCode opens a campaign: a personal code (roster mode, PersonID set)
// or a class code (open mode, PersonID empty).
type AccessCode struct {
	Code       string
	CampaignID string
	PersonID   string
	UnitID     string
	UnitPath   string // set by the store
	SessionID  string // the session a personal code started
	// RetakeOf is the invalid result a retake code was issued for (issue
	// 17): the pupil answers the campaign again under a new code.
	RetakeOf  string
	CreatedAt time.Time
}

// InstrumentState of a custom instrument version.
type InstrumentState string

const (
	InstrumentDraft     InstrumentState = "draft"
	InstrumentPublished InstrumentState = "published"
	// InstrumentRetired takes no new sessions; results that use it stay.
	InstrumentRetired InstrumentState = "retired"
)

// PermEditInstruments lets a staff account author, check, publish and
// retire custom instruments of units in its scope.
const PermEditInstruments = "edit_instruments"

// InstrumentDoc is a custom instrument document version. Once published it
// never changes.
type InstrumentDoc struct {
	ID          string
	Version     string
	ContentHash string
	Source      []byte // the YAML document
	State       InstrumentState
	UnitID      string // the unit that owns it
	CreatedBy   string
	CreatedAt   time.Time
	PublishedAt time.Time
	RetiredAt   time.Time
	// Public puts a published version into the self-test catalogue.
	Public bool
}

// AuditEntry is one line of the append-only audit log.
type AuditEntry struct {
	ID         string
	At         time.Time
	ActorID    string
	Action     string // login, login_failed, read_person, transition, export, account_change...
	TargetKind string
	TargetID   string
	UnitPath   string
	IP         string
	Detail     string
}

// Login is one signed-in console session. ID is the SHA-256 (hex) of the
// cookie's token, so a copy of the database signs no one in.
type Login struct {
	ID        string
	StaffID   string
	CSRF      string // anti-forgery token the console echoes in a header
	IP        string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Activity is an outreach record of a station (publicity, lecture, clinic).
type Activity struct {
	ID        string
	UnitID    string
	UnitPath  string // set by the store
	Date      time.Time
	Type      string // "publicity", "lecture", "clinic"
	Reached   int
	Materials int
	Note      string
	CreatedBy string
	CreatedAt time.Time
}

// UnitCounts are one unit's own figures for a period (not rolled up: assess
// sums a subtree into the rows of the monthly table).
type UnitCounts struct {
	UnitID           string
	Results          int         // assessments completed
	WarningsByLevel  map[int]int // new entries by level
	Referrals        int         // referrals sent from the unit
	Cases            int         // counselling sessions (辅导人次数)
	CasesClosed      int
	Activities       map[string]int // count by activity type
	ActivityReached  map[string]int // people reached by activity type
	MaterialsHandout int
}

// Rescore is one stored result rescored with another version of its
// instrument.
type Rescore struct {
	// Result is the new result; Result.Supersedes names the one it
	// replaces. The store copies the session fields and CreatedAt from it.
	Result Result
	// Warning, if set, is filed as a new queue entry: the warnings the new
	// score raises, and those it would no longer raise, for review.
	Warning *WarningDraft
	At      time.Time
}

// RescoredFrom is the stored form of a rescored result: the session's
// fields and the assessment's time come from the result it replaces.
func RescoredFrom(old, r Result, at time.Time) Result {
	r.SessionID, r.PersonID, r.CampaignID, r.UnitID, r.UnitPath = old.SessionID, old.PersonID, old.CampaignID, old.UnitID, old.UnitPath
	r.CreatedAt, r.RescoredAt, r.Supersedes, r.SupersededBy = old.CreatedAt, at, old.ID, ""
	return r
}
