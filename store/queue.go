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
