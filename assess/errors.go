// Package assess is xinling's workflow: sessions, submissions, the warning
// queue and what staff may see. It uses engine and store and knows nothing
// of HTTP; api translates requests into these calls.
package assess

import (
	"errors"
	"fmt"

	"xinling/engine"
	"xinling/store"
)

// Error codes. They are part of the API contract (docs/api.md): clients
// switch on them, so they never change meaning.
const (
	CodeValidation        = "validation_failed"
	CodeInstrumentUnknown = "instrument_unknown"
	CodeSessionNotFound   = "session_not_found"
	CodeItemUnknown       = "item_unknown"
	CodeTokenInvalid      = "token_invalid"
	CodeSessionSubmitted  = "session_submitted"
	CodeSessionExpired    = "session_expired"
	CodeConsentRequired   = "consent_required"
	CodeOutOfRange        = "answer_out_of_range"
	CodeIncomplete        = "incomplete"
	CodeUnavailable       = "unavailable"
)

// Error is a failure the caller can act on: bad input, a missing or
// expired thing, a refused token. Anything else is an internal error.
type Error struct {
	Code    string
	Message string
	Field   string
}

func (e *Error) Error() string { return e.Message }

func errorf(code, field, format string, args ...any) *Error {
	return &Error{Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// fromInput turns the engine's verdict on an answer into an API error.
func fromInput(err error, item string) error {
	var ie *engine.InputError
	if !errors.As(err, &ie) {
		return err
	}
	switch ie.Code {
	case engine.CodeUnknownItem:
		return errorf(CodeItemUnknown, "item", "this session has no item %q", item)
	case engine.CodeAnswerOutOfRange:
		return &Error{Code: CodeOutOfRange, Field: "value", Message: ie.Message}
	}
	return &Error{Code: CodeValidation, Message: ie.Message}
}

// fromStore maps the store's documented errors for session calls.
func fromStore(err error, sessionID string) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return errorf(CodeSessionNotFound, "", "no session %q", sessionID)
	case errors.Is(err, store.ErrSessionClosed):
		return errorf(CodeSessionSubmitted, "", "this session is closed to new answers")
	}
	return err
}
