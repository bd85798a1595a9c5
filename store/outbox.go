package store

import (
	"context"
	"fmt"
	"time"
)

// The notification outbox. A queue entry that reaches a level owes the
// on-duty staff of its unit an out-of-band message (WeCom, DingTalk, SMS,
// webhook, e-mail). The store writes that debt, as a Notification, in the
// same durable write as the entry's change, so a crash between the commit
// and the send cannot lose it; a dispatcher on any server then claims it
// under a lease, sends it, and records the outcome. Notifications carry no
// personal data: a kind, a level, a unit, times and ids.

// Notification kinds.
const (
	// NotifyWarning: an entry reached a level (created at it, or raised to
	// it by a merge). Written by the store with the entry's change.
	NotifyWarning = "warning"
	// NotifyUnclaimed: a level-1 entry was not claimed in time; its
	// parent unit's on-duty staff are told as well.
	NotifyUnclaimed = "unclaimed"
	// NotifyDigest: the level-2/3 entries of a unit in a period, for units
	// whose policy asks for a digest.
	NotifyDigest = "digest"
	// NotifyCallback: a respondent asked for a call-back.
	NotifyCallback = "callback"
	// NotifyDelivery: one message to one contact over one channel; made
	// by the dispatcher from one of the kinds above (ParentID).
	NotifyDelivery = "delivery"
)

// NotificationState is where a notification stands.
type NotificationState string

const (
	NotificationPending NotificationState = "pending" // to send at NotBefore
	NotificationSent    NotificationState = "sent"
	NotificationDead    NotificationState = "dead" // gave up: the dead-letter list
)

// Notification is one debt of the outbox. Its ID is deterministic (for
// example "warning:<entry>:level1"), which makes enqueueing idempotent and
// is the idempotency key of what is sent.
type Notification struct {
	ID        string
	Kind      string
	WarningID string // empty for digests
	UnitID    string // whose on-duty staff are told
	UnitPath  string // set by the store
	Level     int
	DueAt     time.Time // the entry's deadline, when there is one
	// ParentID, ContactID and Channel are set on deliveries.
	ParentID  string
	ContactID string
	Channel   string
	State     NotificationState
	NotBefore time.Time // not sent before then (retries, digests, policy)
	Attempts  int       // claims so far
	// LeaseOwner holds the notification until LeaseUntil, so that of
	// several servers one sends it per attempt.
	LeaseOwner string
	LeaseUntil time.Time
	LastError  string // the last failure, without secrets or personal data
	CreatedAt  time.Time
	UpdatedAt  time.Time
	SentAt     time.Time
}

// WarningNotification is the debt of an entry at its current level. A
// backend enqueues it whenever it writes an entry (new, merged, or a retry
// finishing a write): an entry already at that level owes it already, so
// only a new entry or a raised level adds one.
func WarningNotification(w Warning, at time.Time) Notification {
	return Notification{ID: fmt.Sprintf("warning:%s:level%d", w.ID, w.Level), Kind: NotifyWarning, WarningID: w.ID,
		UnitID: w.UnitID, Level: w.Level, DueAt: w.DueAt, State: NotificationPending, NotBefore: at, CreatedAt: at, UpdatedAt: at}
}

// CallbackNotification is the debt of a call-back request filed on an
// entry: the on-duty staff are told someone asked to be called, by the
// entry's deadline. It carries no phone number, only the ids.
func CallbackNotification(callbackID string, w Warning, at time.Time) Notification {
	return Notification{ID: "callback:" + callbackID, Kind: NotifyCallback, WarningID: w.ID, UnitID: w.UnitID, Level: w.Level,
		DueAt: w.DueAt, State: NotificationPending, NotBefore: at, CreatedAt: at, UpdatedAt: at}
}

// NotificationFinish records the outcome of one attempt.
type NotificationFinish struct {
	State     NotificationState // sent, pending (retry at NotBefore) or dead
	NotBefore time.Time
	Error     string
	At        time.Time
}

// NotificationFilter selects outbox entries, oldest first.
type NotificationFilter struct {
	UnitPath  string // subtree
	WarningID string
	ParentID  string
	Kinds     []string
	States    []NotificationState
}

// NotificationCount is how many notifications of a kind and channel are in
// a state (channel is empty except for deliveries).
type NotificationCount struct {
	Kind    string
	Channel string
	State   NotificationState
	Count   int
}

// OutboxStore holds the notification outbox. Nothing in it is personal.
type OutboxStore interface {
	// EnqueueNotifications adds the notifications whose id is new and
	// leaves the others as they are (idempotent); it returns how many were
	// added. A notification may be added already leased (LeaseOwner,
	// LeaseUntil, Attempts): a dispatcher that expands an event into
	// deliveries sends them itself at once, and no other server takes them
	// before the lease runs out. ErrNotFound: an unknown unit.
	EnqueueNotifications(ctx context.Context, ns []Notification) (int, error)
	// ClaimNotifications leases up to limit pending notifications due at
	// now (NotBefore reached, no live lease) to owner until leaseUntil,
	// oldest first, counting an attempt on each. Of several servers
	// claiming at once, each notification goes to one.
	ClaimNotifications(ctx context.Context, owner string, now, leaseUntil time.Time, limit int) ([]Notification, error)
	// FinishNotification records an attempt's outcome and drops the lease.
	// ErrLeaseHeld: owner does not hold it (its lease ran out and another
	// server took it). ErrInvalid: a state other than sent, pending, dead.
	FinishNotification(ctx context.Context, id, owner string, f NotificationFinish) (Notification, error)
	// RequeueNotification gives a dead notification another round: it
	// becomes pending at at, with no attempts counted and its last error
	// kept until the next attempt. ErrNotFound; ErrInvalidTransition: it
	// is not dead.
	RequeueNotification(ctx context.Context, id string, at time.Time) (Notification, error)
	GetNotification(ctx context.Context, id string) (Notification, error)
	ListNotifications(ctx context.Context, f NotificationFilter, p Page) ([]Notification, string, error)
	// NotificationCounts counts every notification by kind, channel and
	// state, for metrics.
	NotificationCounts(ctx context.Context) ([]NotificationCount, error)
}

// CheckFinish validates an attempt's outcome.
func (f NotificationFinish) Check() error {
	switch f.State {
	case NotificationSent, NotificationPending, NotificationDead:
		return nil
	}
	return fmt.Errorf("%w: notification state %q", ErrInvalid, f.State)
}
