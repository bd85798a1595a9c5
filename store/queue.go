package store

import (
	"fmt"
	"time"
)

// The queue's rules live here, beside the records, so that every backend
// applies the same ones; a backend only has to make the read-check-write
// atomic.

// CheckClaim decides whether staffID may claim v at the given time.
func CheckClaim(v Warning, staffID string, at time.Time) error {
	switch v.State {
	case WarningOpen:
		return nil
	case WarningClaimed, WarningFollowingUp:
		if v.AssigneeID == staffID {
			return nil // renewal
		}
		if v.State == WarningClaimed && !v.LeaseUntil.After(at) {
			return nil // the lease lapsed: anyone may take it over
		}
		return fmt.Errorf("%w: warning %s", ErrLeaseHeld, v.ID)
	}
	return fmt.Errorf("%w: claim a %s entry", ErrInvalidTransition, v.State)
}

// CheckEscalate decides whether v may be escalated at the given time. An
// entry must still be open and still overdue: when several servers scan
// the queue at once, the loser of the race re-reads an entry that the
// winner already moved and gave a new deadline, and must leave it alone
// rather than escalate it a second time.
func CheckEscalate(v Warning, at time.Time) error {
	if v.State != WarningOpen {
		return fmt.Errorf("%w: escalate a %s entry", ErrInvalidTransition, v.State)
	}
	if v.DueAt.After(at) {
		return fmt.Errorf("%w: warning %s is not overdue (due %s)", ErrInvalidTransition, v.ID, v.DueAt.Format(time.RFC3339))
	}
	return nil
}

// ApplyChange checks ch against v and applies it to v (not to storage).
// Checks run in a fixed order so that every backend reports the same error:
// the state machine, then the holder, then the outcome.
func ApplyChange(v *Warning, ch WarningChange) error {
	if !CanTransition(v.State, ch.To) {
		return fmt.Errorf("%w: %s → %s", ErrInvalidTransition, v.State, ch.To)
	}
	if ch.ActorID == "" || v.AssigneeID != ch.ActorID {
		return fmt.Errorf("%w: warning %s", ErrLeaseHeld, v.ID)
	}
	if ch.To == WarningClosed && ch.Outcome == "" {
		return fmt.Errorf("%w: closing needs an outcome", ErrInvalid)
	}
	v.State = ch.To
	switch ch.To {
	case WarningOpen:
		v.AssigneeID, v.LeaseUntil = "", time.Time{}
	case WarningClosed:
		v.Outcome = ch.Outcome
	}
	return nil
}

// NewWarning is the queue entry a submission opens when none has its key
// yet. Every backend stores this, so entries look alike whatever holds them.
func NewWarning(s Session, sub Submission, at time.Time) Warning {
	d := sub.Warning
	id := d.ID
	if id == "" {
		id = NewID()
	}
	return Warning{ID: id, Key: warningKey(s, d), PersonID: s.PersonID, SessionID: s.ID, ResultIDs: resultIDs(sub),
		UnitID: s.UnitID, UnitPath: s.UnitPath, Level: draftLevel(d), Reasons: d.Reasons, State: WarningOpen,
		DueAt: Millis(d.DueAt), CreatedAt: at, UpdatedAt: at, Version: 1}
}

// MergeWarning adds a submission to the entry that already has its key
// (a follow-up joining the session that chained it): results and reasons
// are appended, the level can only rise and the deadline only come
// earlier. It returns the history event the backend appends.
func MergeWarning(w *Warning, s Session, sub Submission, at time.Time) WarningEvent {
	d := sub.Warning
	if nd := Millis(d.DueAt); !nd.IsZero() && (w.DueAt.IsZero() || nd.Before(w.DueAt)) {
		w.DueAt = nd
	}
	w.ResultIDs, w.Reasons = append(w.ResultIDs, resultIDs(sub)...), append(w.Reasons, d.Reasons...)
	w.Level, w.UpdatedAt = MergeLevel(w.Level, draftLevel(d)), at
	return WarningEvent{At: at, Kind: EventMerged, From: w.State, To: w.State, Note: "session " + s.ID}
}

// WarningKey is the key a submission's entry is filed under.
func WarningKey(s Session, sub Submission) string { return warningKey(s, sub.Warning) }

func warningKey(s Session, d *WarningDraft) string {
	if d.Key != "" {
		return d.Key
	}
	return s.ID
}

func draftLevel(d *WarningDraft) int {
	level := d.Level
	for _, r := range d.Reasons {
		level = MergeLevel(level, r.Level)
	}
	return level
}

func resultIDs(sub Submission) []string {
	ids := make([]string, 0, len(sub.Results))
	for _, r := range sub.Results {
		ids = append(ids, r.ID)
	}
	return ids
}
