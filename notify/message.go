package notify

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Kind says what happened, and so which wording a message gets.
type Kind string

// The kinds of notification.
const (
	// KindWarningNew: a new warning of Level 1, 2 or 3 waits in the
	// unit's queue and must be claimed by DueAt.
	KindWarningNew Kind = "warning_new"
	// KindWarningUnclaimed: a warning raised at At in UnitName was not
	// claimed in time and has been escalated to the on-duty staff of the
	// parent unit, who receive this; it must be handled by DueAt.
	KindWarningUnclaimed Kind = "warning_unclaimed"
	// KindDigest: as of At, Count level-2/3 warnings of UnitName need
	// attention. Level is 0 and DueAt is unset.
	KindDigest Kind = "digest"
	// KindCallbackRequested: a respondent asked to be called back; the
	// call is due by DueAt. Level is optional.
	KindCallbackRequested Kind = "callback_requested"
	// KindTest: an administrator checks that a contact's channel works. It
	// names UnitName and links to the console; it has no level, deadline
	// or count, and says that no action is needed.
	KindTest Kind = "test"
)

// Kinds lists every kind, in a fixed order.
var Kinds = []Kind{KindWarningNew, KindWarningUnclaimed, KindDigest, KindCallbackRequested, KindTest}

// Locale chooses the language of the rendered text.
type Locale string

// The locales a message can be rendered in. The empty Locale is zh-CN.
const (
	LocaleZH Locale = "zh-CN"
	LocaleEN Locale = "en"
)

// Limits on a message's fields.
const (
	MaxUnitNameRunes      = 64
	MaxLinkBytes          = 512
	MaxIdempotencyKeyLen  = 64
	phoneLikeDigitsMinRun = 7
)

// ErrInvalidMessage is wrapped by every error of Message.Validate.
var ErrInvalidMessage = errors.New("notify: invalid message")

// Message is everything a notification may say. It deliberately has no
// free-text field: whatever a channel sends is rendered from these
// fields alone, and the webhook's JSON holds exactly these fields. Do not
// add a field that could hold a person's name, a phone number, an
// answer, a score or a note; TestMessageFieldsAreTheAllowedOnes fails if
// a field is added without review.
type Message struct {
	Kind Kind
	// Level is the warning level, 1 (most urgent, red) to 3 (yellow).
	// Required for warnings, optional for a callback request, 0 for a
	// digest.
	Level int
	// UnitName is the display name of the unit whose queue holds the
	// entry, for example 青山街道心理服务站.
	UnitName string
	// At is when the event happened: the warning was raised, or the
	// digest was taken.
	At time.Time
	// DueAt is the deadline to claim or handle the entry; unset for a
	// digest.
	DueAt time.Time
	// Count is the number of entries a digest counts; 0 otherwise.
	Count int
	// Link is the console URL of the entry or the queue, for example
	// https://host/console/queue/<opaque entry id>: an absolute http(s)
	// URL without user information, at most 512 bytes, that names the
	// entry by an opaque id only.
	Link string
	// IdempotencyKey identifies this notification to one contact on one
	// channel. It must be the same on every retry: the receivers use it
	// to drop duplicates. 1 to 64 characters of A-Z a-z 0-9 - _.
	IdempotencyKey string
	// Locale is zh-CN (also when empty) or en.
	Locale Locale
}

func (m Message) locale() Locale {
	if m.Locale == LocaleEN {
		return LocaleEN
	}
	return LocaleZH
}

// Validate reports the first problem that keeps m from being sent. Every
// channel validates before it sends; an invalid message is a permanent
// error.
func (m Message) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidMessage, fmt.Sprintf(format, args...))
	}
	switch m.Kind {
	case KindWarningNew, KindWarningUnclaimed:
		if m.Level < 1 || m.Level > 3 {
			return bad("level %d of a %s is not 1, 2 or 3", m.Level, m.Kind)
		}
	case KindCallbackRequested:
		if m.Level < 0 || m.Level > 3 {
			return bad("level %d of a %s is not 0 to 3", m.Level, m.Kind)
		}
	case KindDigest, KindTest:
		if m.Level != 0 {
			return bad("a %s has no level", m.Kind)
		}
	default:
		return bad("unknown kind %q", m.Kind)
	}
	if m.Kind == KindDigest {
		if m.Count < 1 {
			return bad("a digest counts at least one entry")
		}
		if !m.DueAt.IsZero() {
			return bad("a digest has no deadline")
		}
	} else {
		if m.Count != 0 {
			return bad("only a digest has a count")
		}
		if m.Kind == KindTest && !m.DueAt.IsZero() {
			return bad("a test has no deadline")
		}
		if m.Kind != KindTest && m.DueAt.IsZero() {
			return bad("a %s needs a deadline", m.Kind)
		}
	}
	if m.At.IsZero() {
		return bad("the time is missing")
	}
	if err := checkUnitName(m.UnitName); err != nil {
		return bad("%v", err)
	}
	if err := checkLink(m.Link); err != nil {
		return bad("%v", err)
	}
	if err := checkIdempotencyKey(m.IdempotencyKey); err != nil {
		return bad("%v", err)
	}
	if m.Locale != "" && m.Locale != LocaleZH && m.Locale != LocaleEN {
		return bad("unknown locale %q", m.Locale)
	}
	return nil
}

func checkUnitName(s string) error {
	if !utf8.ValidString(s) {
		return errors.New("the unit name is not UTF-8")
	}
	if strings.TrimSpace(s) != s || s == "" {
		return errors.New("the unit name is empty or has surrounding space")
	}
	if n := utf8.RuneCountInString(s); n > MaxUnitNameRunes {
		return fmt.Errorf("the unit name has %d characters, more than %d", n, MaxUnitNameRunes)
	}
	run := 0
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Zl, r) || unicode.Is(unicode.Zp, r) {
			return errors.New("the unit name holds a control character")
		}
		if unicode.IsDigit(r) {
			run++
			if run >= phoneLikeDigitsMinRun {
				// A unit's name has no long number in it; a phone
				// number or an ID number does.
				return fmt.Errorf("the unit name holds %d or more digits in a row", phoneLikeDigitsMinRun)
			}
		} else {
			run = 0
		}
	}
	return nil
}

func checkLink(s string) error {
	if s == "" {
		return errors.New("the link is missing")
	}
	if len(s) > MaxLinkBytes {
		return fmt.Errorf("the link is longer than %d bytes", MaxLinkBytes)
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f {
			return errors.New("the link holds a space or a control character")
		}
	}
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("the link is not a URL")
	}
	if u.User != nil {
		return errors.New("the link holds user information")
	}
	// http is allowed: a console on an intranet may have no certificate,
	// and an alert with a plain link is better than none.
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return errors.New("the link is not an absolute http(s) URL")
	}
	return nil
}

func checkIdempotencyKey(s string) error {
	if s == "" || len(s) > MaxIdempotencyKeyLen {
		return fmt.Errorf("the idempotency key must have 1 to %d characters", MaxIdempotencyKeyLen)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return errors.New("the idempotency key may hold only A-Z a-z 0-9 - _")
		}
	}
	return nil
}
