package store

import "errors"

// The error values every backend returns (possibly wrapped; test with
// errors.Is). assess maps them to HTTP statuses, so a backend must never
// invent its own for these conditions.
var (
	// ErrNotFound: the record (or the record an operation is about, such as
	// the session of an answer) does not exist.
	ErrNotFound = errors.New("store: not found")

	// ErrConflict: a unique key is already taken (a login, an access code,
	// an identity link, an id), or an optimistic update carried a stale
	// Version.
	ErrConflict = errors.New("store: conflict")

	// ErrStaleSeq: an answer arrived with a lower sequence number than the
	// one stored. It was ignored; the outcome carries the stored answer.
	ErrStaleSeq = errors.New("store: stale answer sequence")

	// ErrLeaseHeld: a warning entry is held by another staff member whose
	// lease has not expired, or the actor is not the holder.
	ErrLeaseHeld = errors.New("store: lease held by another")

	// ErrInvalidTransition: the state machine (warning, referral, campaign,
	// instrument) does not allow this move from the current state.
	ErrInvalidTransition = errors.New("store: invalid state transition")

	// ErrSessionClosed: the session was submitted or purged and accepts no
	// more answers.
	ErrSessionClosed = errors.New("store: session closed")

	// ErrImmutable: a published instrument version cannot change.
	ErrImmutable = errors.New("store: published instrument is immutable")

	// ErrInvalid: the input breaks a rule the store relies on (an empty or
	// malformed id, a missing required field, a bad cursor).
	ErrInvalid = errors.New("store: invalid input")
)
