package notify

import (
	"context"
	"fmt"
	"strings"
)

// SMSProvider sends the SMS template of a message's kind through one
// provider's API. A provider holds its own account credentials, its
// signature name (签名) and the template registered for each kind; the
// template holds the fixed wording and takes the variables of
// SMSParams. It must honour the error contract of Channel (Permanent,
// RetryAfter) and carry m.IdempotencyKey where its API allows.
type SMSProvider interface {
	// SendSMS sends m to phone, an 11-digit mainland mobile number
	// without prefix. m has been validated.
	SendSMS(ctx context.Context, phone string, m Message) error
}

// SMS is the channel that sends text messages through an SMSProvider.
// Target.Address is the phone number of the contact on duty.
//
// No link is sent: approved SMS templates cannot take a URL as a
// variable, so the message names the level, the unit and the deadline,
// and the staff open the console themselves.
type SMS struct {
	provider SMSProvider
}

// NewSMS returns the channel over p.
func NewSMS(p SMSProvider) *SMS { return &SMS{provider: p} }

// Send validates m and the phone number and hands them to the provider.
func (s *SMS) Send(ctx context.Context, to Target, m Message) error {
	if err := m.Validate(); err != nil {
		return Permanent(err)
	}
	phone, err := NormalizeMobile(to.Address)
	if err != nil {
		return Permanent(fmt.Errorf("notify: %s: %w", ChannelSMS, err))
	}
	return s.provider.SendSMS(ctx, phone, m)
}

// NormalizeMobile returns a mainland China mobile number as its 11
// digits, without the +86, 0086 or 86 that may precede it, or spaces and
// hyphens between the digits.
func NormalizeMobile(s string) (string, error) {
	var b strings.Builder
	for i, r := range strings.TrimSpace(s) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-':
		case r == '+' && i == 0:
		default:
			return "", fmt.Errorf("%w: the phone number holds %q", ErrInvalidTarget, r)
		}
	}
	d := b.String()
	for _, p := range []string{"0086", "86"} {
		if len(d) == 11+len(p) && strings.HasPrefix(d, p) {
			d = d[len(p):]
			break
		}
	}
	if len(d) != 11 || d[0] != '1' || d[1] < '3' {
		return "", fmt.Errorf("%w: not a mainland mobile number", ErrInvalidTarget)
	}
	return d, nil
}
