package notify

import (
	"errors"
	"strings"
	"time"
)

// ErrInvalidTarget is wrapped by the (permanent) error a channel returns
// when a Target's address or secret cannot be used.
var ErrInvalidTarget = errors.New("notify: invalid target")

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks err as one that no retry can cure: the caller should
// move the notification to its dead-letter list at once. Permanent(nil)
// is nil.
func Permanent(err error) error {
	if err == nil || IsPermanent(err) {
		return err
	}
	return &permanentError{err}
}

// IsPermanent reports whether err, or an error it wraps, was marked by
// Permanent. An error that is not permanent is worth retrying with
// backoff: a timeout, a refused connection, a 5xx or 429 reply, a
// provider's throttling code.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

type retryAfterError struct {
	err   error
	after time.Duration
}

func (e *retryAfterError) Error() string { return e.err.Error() }
func (e *retryAfterError) Unwrap() error { return e.err }

// RetryAfter reports how long the receiver asked the caller to wait
// before the next attempt (an HTTP Retry-After header), when it did.
func RetryAfter(err error) (time.Duration, bool) {
	var r *retryAfterError
	if errors.As(err, &r) {
		return r.after, true
	}
	return 0, false
}

// sendError is the error a channel returns: a message of its own making,
// which names no secret, no key and no full URL, over the cause (which
// may be matched with errors.Is, for example context.DeadlineExceeded).
type sendError struct {
	msg   string
	cause error
}

func (e *sendError) Error() string { return e.msg }
func (e *sendError) Unwrap() error { return e.cause }

// scrub removes every secret from s, however the secret was encoded in
// a URL or a JSON string, so that an error message can be logged.
func scrub(s string, secrets ...string) string {
	for _, sec := range secrets {
		if len(sec) < 4 {
			continue // too short to find without mangling the message
		}
		for _, form := range secretForms(sec) {
			s = strings.ReplaceAll(s, form, "[REDACTED]")
		}
	}
	return s
}
