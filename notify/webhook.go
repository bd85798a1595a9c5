package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The generic webhook, for a city platform or any other system to
// integrate with. Its contract is ours; docs/notifications.md describes
// it for integrators:
//
//	POST <the receiver's https URL>
//	Content-Type: application/json
//	Idempotency-Key: <Message.IdempotencyKey>
//	X-Xinling-Timestamp: <Unix time in seconds>
//	X-Xinling-Signature: v1=<hex(HMAC-SHA256(secret, timestamp + "." + body))>
//
//	<WebhookPayload as JSON>
//
// Any 2xx reply accepts the message. 408, 425, 429 and 5xx are retried
// (honouring Retry-After); any other status is permanent.

// Header names of the webhook.
const (
	WebhookTimestampHeader   = "X-Xinling-Timestamp"
	WebhookSignatureHeader   = "X-Xinling-Signature"
	WebhookIdempotencyHeader = "Idempotency-Key"
)

// MinWebhookSecretLen is the shortest secret the webhook channel signs
// with.
const MinWebhookSecretLen = 16

// DefaultWebhookTolerance is how far a signature's timestamp may lie from
// the receiver's clock when VerifyWebhook is given no tolerance.
const DefaultWebhookTolerance = 5 * time.Minute

// WebhookPayload is the JSON body of a webhook request: the fields of
// Message and nothing more. Times are RFC 3339 in UTC; level, due_at and
// count are left out when they do not apply.
type WebhookPayload struct {
	Kind           Kind      `json:"kind"`
	Level          int       `json:"level,omitzero"`
	Unit           string    `json:"unit"`
	At             time.Time `json:"at"`
	DueAt          time.Time `json:"due_at,omitzero"`
	Count          int       `json:"count,omitzero"`
	Link           string    `json:"link"`
	IdempotencyKey string    `json:"idempotency_key"`
	Locale         Locale    `json:"locale"`
}

// NewWebhookPayload is the payload that carries m.
func NewWebhookPayload(m Message) WebhookPayload {
	p := WebhookPayload{
		Kind:           m.Kind,
		Level:          m.Level,
		Unit:           m.UnitName,
		At:             m.At.UTC().Truncate(time.Second),
		Count:          m.Count,
		Link:           m.Link,
		IdempotencyKey: m.IdempotencyKey,
		Locale:         m.locale(),
	}
	if !m.DueAt.IsZero() {
		p.DueAt = m.DueAt.UTC().Truncate(time.Second)
	}
	return p
}

// Message turns a received payload back into a Message, for a receiver
// written in Go that wants to render it with Render.
func (p WebhookPayload) Message() Message {
	return Message{
		Kind: p.Kind, Level: p.Level, UnitName: p.Unit, At: p.At, DueAt: p.DueAt,
		Count: p.Count, Link: p.Link, IdempotencyKey: p.IdempotencyKey, Locale: p.Locale,
	}
}

// WebhookConfig configures the webhook channel.
type WebhookConfig struct {
	// HTTP is the client; nil means one with DefaultTimeout. Redirects
	// are never followed.
	HTTP *http.Client
	// Now is the clock that dates the signature; nil means time.Now.
	Now func() time.Time
}

// Webhook posts signed JSON to a receiver's URL. Target.Address is the
// URL (https, or http to a loopback host), Target.Secret the HMAC secret.
type Webhook struct {
	http *http.Client
	now  func() time.Time
}

// NewWebhook returns the channel.
func NewWebhook(cfg WebhookConfig) *Webhook {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Webhook{http: httpClient(cfg.HTTP), now: now}
}

// ValidateWebhookURL reports whether raw can receive webhooks: an https
// URL (or http to a loopback host) without user information or fragment.
// Call it when a unit's settings are saved.
func ValidateWebhookURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%w: the webhook URL cannot be parsed", ErrInvalidTarget)
	}
	if u.User != nil || u.Fragment != "" {
		return fmt.Errorf("%w: the webhook URL has user information or a fragment", ErrInvalidTarget)
	}
	if err := checkSecureURL(u); err != nil {
		return fmt.Errorf("%w: the webhook URL: %v", ErrInvalidTarget, err)
	}
	return nil
}

// WebhookSignature is the signature header's value for body sent at
// timestamp (Unix seconds).
func WebhookSignature(secret string, timestamp int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(timestamp, 10)))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "v1=" + hex.EncodeToString(mac.Sum(nil))
}

// Send posts m to the URL to.Address, signed with to.Secret.
func (w *Webhook) Send(ctx context.Context, to Target, m Message) error {
	if err := m.Validate(); err != nil {
		return Permanent(err)
	}
	if err := ValidateWebhookURL(to.Address); err != nil {
		return Permanent(fmt.Errorf("notify: %s: %w", ChannelWebhook, err))
	}
	if len(to.Secret) < MinWebhookSecretLen {
		return Permanent(fmt.Errorf("notify: %s: %w: the secret is shorter than %d bytes", ChannelWebhook, ErrInvalidTarget, MinWebhookSecretLen))
	}
	u, _ := url.Parse(to.Address) // checked by ValidateWebhookURL
	body, err := json.Marshal(NewWebhookPayload(m))
	if err != nil {
		return Permanent(fmt.Errorf("notify: %s: %w", ChannelWebhook, err))
	}
	ts := w.now().Unix()
	req, err := http.NewRequest(http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return Permanent(fmt.Errorf("notify: %s: building the request: %w", ChannelWebhook, ErrInvalidTarget))
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set(WebhookIdempotencyHeader, m.IdempotencyKey)
	req.Header.Set(WebhookTimestampHeader, strconv.FormatInt(ts, 10))
	req.Header.Set(WebhookSignatureHeader, WebhookSignature(to.Secret, ts, body))
	// The path and query of a receiver's URL may hold its own token, so
	// an error names the host only.
	shown := u.Scheme + "://" + u.Host
	secrets := []string{to.Secret, u.RawQuery, u.EscapedPath()}
	r, err := do(ctx, w.http, req, ChannelWebhook, shown, secrets...)
	if err != nil {
		return err
	}
	return statusError(r, ChannelWebhook, http.MethodPost, shown, secrets...)
}

// Errors of VerifyWebhook.
var (
	ErrWebhookUnsigned  = errors.New("notify: webhook request has no timestamp or signature")
	ErrWebhookStale     = errors.New("notify: webhook timestamp is outside the tolerance")
	ErrWebhookSignature = errors.New("notify: webhook signature does not match")
)

// VerifyWebhook checks a received webhook request: that its timestamp
// lies within tolerance of now (DefaultWebhookTolerance when tolerance
// is 0 or less) and that one of the v1= signatures in the signature
// header is the HMAC-SHA256 of timestamp + "." + body under secret.
// Several signatures may be given, separated by commas, so that a secret
// can be rotated. body must be the raw bytes received, before any
// parsing. The comparison takes constant time.
func VerifyWebhook(secret string, header http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultWebhookTolerance
	}
	tsText := header.Get(WebhookTimestampHeader)
	sigs := header.Values(WebhookSignatureHeader)
	if tsText == "" || len(sigs) == 0 {
		return ErrWebhookUnsigned
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return ErrWebhookUnsigned
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return ErrWebhookStale
	}
	want := []byte(WebhookSignature(secret, ts, body))
	for _, h := range sigs {
		for _, sig := range strings.Split(h, ",") {
			if hmac.Equal([]byte(strings.TrimSpace(sig)), want) {
				return nil
			}
		}
	}
	return ErrWebhookSignature
}
