package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// The warm hand-off (issue 16): a respondent asks a counsellor to call them
// back, or books a consultation slot that a station or centre published.
// A hotline number alone is taken up by few of the people at risk; a call
// from a person is. Phone numbers and notes are personal data (sealed at
// rest by store/sealed, erased and exported as store.Personal says).

// ErrLimit: a limit the store keeps was reached: a slot is full, or a
// session already holds MaxCallbacksPerSession call-back requests.
var ErrLimit = errors.New("store: limit reached")

// MaxCallbacksPerSession bounds the call-back requests one session may
// file. A respondent who asks again (another time that suits them better)
// is heard; one who taps the button twenty times does not fill the queue.
const MaxCallbacksPerSession = 3

// MaxSlotCapacity bounds the bookings one slot takes.
const MaxSlotCapacity = 200

// CallbackState: requested → called | unreachable | done; unreachable →
// called | unreachable | done (another try); called → done.
type CallbackState string

const (
	CallbackRequested   CallbackState = "requested"
	CallbackCalled      CallbackState = "called"
	CallbackUnreachable CallbackState = "unreachable"
	CallbackDone        CallbackState = "done"
)

// CanMoveCallback reports whether a call-back request may move from one
// state to another.
func CanMoveCallback(from, to CallbackState) bool {
	switch from {
	case CallbackRequested, CallbackUnreachable:
		return to == CallbackCalled || to == CallbackUnreachable || to == CallbackDone
	case CallbackCalled:
		return to == CallbackDone
	}
	return false
}

// Callback is a respondent's request that a counsellor call them back
// ("请心理咨询师联系我"). It is filed on the session's queue entry, or on a
// new one (CreateCallback).
type Callback struct {
	ID        string
	SessionID string
	PersonID  string // copied from the session by the store
	WarningID string // the queue entry it is filed on; set by the store
	// UnitID and UnitPath are the entry's unit when the request was filed,
	// and again when it was last marked (where the call is counted).
	UnitID   string
	UnitPath string
	// Seq numbers a session's requests from 1 (set by the store); at most
	// MaxCallbacksPerSession.
	Seq   int
	Phone Sealed
	Note  Sealed // the respondent's short note, optional
	// PreferredFrom and PreferredTo are the window the respondent would
	// like the call in.
	PreferredFrom time.Time
	PreferredTo   time.Time
	// Consent records that the respondent agreed to be called, under the
	// wording of ConsentVersion.
	Consent        bool
	ConsentVersion string
	State          CallbackState // set by the store
	// CalledAt is when it was first marked called: the monthly table
	// counts the call then (辅导人次数).
	CalledAt  time.Time
	ActorID   string // the staff member who last changed it
	CreatedAt time.Time
	UpdatedAt time.Time
	Version   int64
}

// CallbackChange moves a call-back request (SetCallbackState).
type CallbackChange struct {
	To      CallbackState
	ActorID string
	At      time.Time
}

// CallbackFilter selects call-back requests, ordered by creation.
type CallbackFilter struct {
	SessionID  string
	PersonID   string
	WarningIDs []string
	UnitPath   string
	States     []CallbackState
}

// Slot is a consultation time a unit (a station, a centre) publishes for
// residents to book. Location is the unit's address or room, not personal.
type Slot struct {
	ID        string
	UnitID    string
	UnitPath  string // set by the store
	StartsAt  time.Time
	EndsAt    time.Time
	Capacity  int
	Booked    int // set by the store: bookings that hold a place
	Location  string
	Closed    bool // closed by staff: takes no more bookings
	CreatedBy string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Free is how many more bookings the slot takes.
func (s Slot) Free() int {
	if s.Closed {
		return 0
	}
	return max(s.Capacity-s.Booked, 0)
}

// CheckSlot reports a slot that no backend may store.
func CheckSlot(s Slot) error {
	switch {
	case s.ID == "" || s.UnitID == "":
		return fmt.Errorf("%w: a slot needs an id and a unit", ErrInvalid)
	case !s.EndsAt.After(s.StartsAt):
		return fmt.Errorf("%w: a slot ends after it starts", ErrInvalid)
	case s.Capacity < 1 || s.Capacity > MaxSlotCapacity:
		return fmt.Errorf("%w: a slot takes 1 to %d bookings", ErrInvalid, MaxSlotCapacity)
	}
	return nil
}

// SlotFilter selects slots, ordered by start time.
type SlotFilter struct {
	UnitPath string // subtree
	UnitID   string
	From, To time.Time // StartsAt in [From, To); zero means unbounded
	// Bookable leaves out closed and full slots.
	Bookable bool
}

// BookingState: booked → kept | no_show | cancelled; kept ⇄ no_show (a
// correction). Cancelling gives the place back.
type BookingState string

const (
	BookingBooked    BookingState = "booked"
	BookingKept      BookingState = "kept"
	BookingNoShow    BookingState = "no_show"
	BookingCancelled BookingState = "cancelled"
)

// CanMoveBooking reports whether a booking may move from one state to
// another.
func CanMoveBooking(from, to BookingState) bool {
	switch from {
	case BookingBooked:
		return to == BookingKept || to == BookingNoShow || to == BookingCancelled
	case BookingKept:
		return to == BookingNoShow
	case BookingNoShow:
		return to == BookingKept
	}
	return false
}

// Booking is a resident's place in a slot.
type Booking struct {
	ID       string
	SlotID   string
	UnitID   string // the slot's, copied by the store
	UnitPath string
	StartsAt time.Time // the slot's, copied by the store
	EndsAt   time.Time
	Phone    Sealed
	// PhoneIndex is the keyed blind index of the normalized number (see
	// assess.Handoff.Book): it finds a number's upcoming bookings, so a
	// retried booking returns the place it holds and one number cannot take
	// every place, without the number being stored in clear.
	PhoneIndex string
	// PersonID is the WeChat-signed-in resident who booked, or the person
	// staff linked it to; SessionID the session whose result page it was
	// booked from; CaseID the case the counsellor recorded for it.
	PersonID  string
	SessionID string
	CaseID    string
	State     BookingState // set by the store
	ActorID   string       // the staff member who last changed it
	CreatedAt time.Time
	UpdatedAt time.Time
	Version   int64
}

// BookingChange moves a booking (SetBookingState).
type BookingChange struct {
	To      BookingState
	ActorID string
	At      time.Time
}

// BookingFilter selects bookings, ordered by the slot's start time.
type BookingFilter struct {
	UnitPath string // subtree
	UnitID   string
	SlotID   string
	PersonID string
	// PhoneIndex selects the bookings of one number (Booking.PhoneIndex).
	PhoneIndex string
	States     []BookingState
	From, To   time.Time // StartsAt in [From, To)
}

// HandoffCount is one unit's hand-off figures for a period: call-backs
// made (first marked called in it) and bookings kept (of slots starting in
// it) that no case record counts already. The monthly table adds them to
// the unit's counselling sessions (辅导人次数).
type HandoffCount struct {
	UnitID        string
	CallbacksMade int
	BookingsKept  int
}

// SortHandoffCounts orders counts by unit id, so both backends answer alike.
func SortHandoffCounts(c []HandoffCount) {
	sortByUnit(c, func(x HandoffCount) string { return x.UnitID })
}

// HandoffStore holds call-back requests, consultation slots and bookings:
// personal data (phone numbers, notes).
type HandoffStore interface {
	// CreateCallback files c on its session's queue entry in one durable
	// write: the session must be submitted (ErrInvalid while open,
	// ErrSessionClosed once purged). An entry still being worked (open,
	// claimed, following up) takes it: its level rises to at least
	// d.Level, its deadline comes no later than d.DueAt, d's reasons are
	// added once, and a "callback" event is appended. Without one, a new
	// open entry (id d.ID, level d.Level, reasons d.Reasons) is created:
	// under the session's key if the session has no entry, else (its entry
	// was closed or referred) under a key of the request's own. The store
	// sets the person, the entry, the unit, Seq and the state (requested).
	// ErrLimit: the session holds MaxCallbacksPerSession requests already.
	// ErrNotFound: no session. On MongoDB the request is recorded first
	// and FinishInterrupted completes an interrupted filing.
	CreateCallback(ctx context.Context, c Callback, d WarningDraft) (Callback, Warning, error)
	GetCallback(ctx context.Context, id string) (Callback, error)
	ListCallbacks(ctx context.Context, f CallbackFilter, p Page) ([]Callback, string, error)
	// SetCallbackState moves a request (CanMoveCallback, else
	// ErrInvalidTransition), records CalledAt the first time it becomes
	// called, and refreshes its unit from its entry's current one.
	SetCallbackState(ctx context.Context, id string, ch CallbackChange) (Callback, error)

	// CreateSlot publishes a slot (CheckSlot: ErrInvalid). ErrNotFound: no
	// such unit. ErrConflict: the id exists.
	CreateSlot(ctx context.Context, s Slot) (Slot, error)
	GetSlot(ctx context.Context, id string) (Slot, error)
	ListSlots(ctx context.Context, f SlotFilter, p Page) ([]Slot, string, error)
	// CloseSlot stops a slot taking bookings; those it has stay. Closing
	// a closed slot is harmless.
	CloseSlot(ctx context.Context, id string, at time.Time) (Slot, error)

	// BookSlot takes a place in b.SlotID: of concurrent bookers no more
	// than the slot's capacity succeed, and the others get ErrLimit, as
	// does a closed slot. The store copies the slot's unit and times and
	// sets the state (booked). ErrNotFound: no such slot.
	BookSlot(ctx context.Context, b Booking) (Booking, error)
	GetBooking(ctx context.Context, id string) (Booking, error)
	ListBookings(ctx context.Context, f BookingFilter, p Page) ([]Booking, string, error)
	// SetBookingState records an outcome (CanMoveBooking, else
	// ErrInvalidTransition). Cancelling gives the place back to the slot.
	SetBookingState(ctx context.Context, id string, ch BookingChange) (Booking, error)
	// LinkBooking ties a booking to a person's record and, optionally,
	// the case recorded for it.
	LinkBooking(ctx context.Context, id, personID, caseID string, at time.Time) (Booking, error)

	// HandoffCounts returns, for every unit in the subtree under path with
	// a call-back made or a booking kept in [from, to), its own figures.
	HandoffCounts(ctx context.Context, path string, from, to time.Time) ([]HandoffCount, error)
}

// Where a call-back request is filed. These rules live beside the records
// so that both backends file alike.

// CallbackRule is the rule id of the reason a call-back request adds to
// its queue entry.
const CallbackRule = "callback"

// EventCallback is the history event of a call-back request filed on an
// entry. Its note, written by the store, names the request.
const EventCallback = "callback"

// CallbackNote is the note of the EventCallback event of request id.
func CallbackNote(id string) string { return "callback " + id }

// Workable reports whether an entry is still being worked, so that a
// call-back request joins it rather than opening a new one.
func Workable(w Warning) bool {
	return w.State == WarningOpen || w.State == WarningClaimed || w.State == WarningFollowingUp
}

// CallbackKey is the key of the entry a call-back request opens when its
// session's own entry is no longer being worked.
func CallbackKey(callbackID string) string { return "callback/" + callbackID }

// HasCallback reports whether w's history already holds the filing of
// request id (an interrupted filing being finished).
func HasCallback(w Warning, id string) bool {
	return slices.ContainsFunc(w.History, func(e WarningEvent) bool {
		return e.Kind == EventCallback && e.Note == CallbackNote(id)
	})
}

// CheckCallback reports a request or draft that no backend may store.
func CheckCallback(c Callback, d WarningDraft) error {
	switch {
	case c.ID == "" || c.SessionID == "":
		return fmt.Errorf("%w: a call-back request needs an id and a session", ErrInvalid)
	case d.ID == "" || d.Level < 1 || d.Level > 3 || len(d.Reasons) == 0:
		return fmt.Errorf("%w: a call-back request's entry needs an id, a level 1..3 and reasons", ErrInvalid)
	}
	return nil
}

// NewCallbackWarning is the entry a call-back request opens.
func NewCallbackWarning(s Session, key string, d WarningDraft, at time.Time) Warning {
	return Warning{ID: d.ID, Key: key, PersonID: s.PersonID, SessionID: s.ID, ResultIDs: []string{}, UnitID: s.UnitID, UnitPath: s.UnitPath,
		Level: d.Level, Reasons: d.Reasons, State: WarningOpen, DueAt: Millis(d.DueAt), CreatedAt: at, UpdatedAt: at, Version: 1}
}

// AttachCallback files request id on w (not on storage): the level rises
// to at least d.Level, the deadline comes no later than d.DueAt, d's
// reasons are added unless the entry has them. It returns the event to
// append.
func AttachCallback(w *Warning, id string, d WarningDraft, at time.Time) WarningEvent {
	w.Level = MergeLevel(w.Level, d.Level)
	if nd := Millis(d.DueAt); !nd.IsZero() && (w.DueAt.IsZero() || nd.Before(w.DueAt)) {
		w.DueAt = nd
	}
	for _, r := range d.Reasons {
		if !slices.ContainsFunc(w.Reasons, func(o Reason) bool { return o.Rule == r.Rule && o.Instrument == r.Instrument }) {
			w.Reasons = append(w.Reasons, r)
		}
	}
	w.UpdatedAt = at
	return WarningEvent{At: at, Kind: EventCallback, From: w.State, To: w.State, Note: CallbackNote(id)}
}

// CreatedEvent is the first event of every entry.
func CreatedEvent(at time.Time) WarningEvent {
	return WarningEvent{At: at, Kind: EventCreated, To: WarningOpen}
}
