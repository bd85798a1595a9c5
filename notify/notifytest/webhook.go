package notifytest

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"xinling/notify"
)

// Webhook is a stand-in for an integrator's webhook receiver, written as
// docs/notifications.md asks integrators to write theirs: it verifies
// the signature with notify.VerifyWebhook (401 when it does not match or
// the timestamp is stale), decodes the body strictly as a
// notify.WebhookPayload (400 for any field beyond it), checks that the
// Idempotency-Key header matches the payload, and treats a repeated key
// as a duplicate: answered 200, recorded with Duplicate set.
type Webhook struct {
	*Recorder
	// Secret is the shared HMAC secret.
	Secret string
	// URL is where to post.
	URL string
	// Tolerance is the accepted clock difference;
	// notify.DefaultWebhookTolerance when 0.
	Tolerance time.Duration

	t   testing.TB
	srv *httptest.Server

	clockMu sync.Mutex
	now     func() time.Time
}

// NewWebhook starts a stand-in receiver with a random secret.
func NewWebhook(t testing.TB) *Webhook {
	s := &Webhook{Recorder: newRecorder(notify.ChannelWebhook), Secret: randomHex(32), t: t, now: time.Now}
	mux := http.NewServeMux()
	mux.HandleFunc("/hooks/xinling", s.handle)
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL + "/hooks/xinling"
	t.Cleanup(s.Close)
	return s
}

// SetNow sets the receiver's clock.
func (s *Webhook) SetNow(now func() time.Time) {
	s.clockMu.Lock()
	defer s.clockMu.Unlock()
	s.now = now
}

// Config is a channel configuration for this receiver.
func (s *Webhook) Config() notify.WebhookConfig { return notify.WebhookConfig{} }

// Channel is a channel that can send here.
func (s *Webhook) Channel() *notify.Webhook { return notify.NewWebhook(s.Config()) }

// Target is this receiver as a contact.
func (s *Webhook) Target() notify.Target { return notify.Target{Address: s.URL, Secret: s.Secret} }

// Unique returns the accepted payloads, one per idempotency key.
func (s *Webhook) Unique() []notify.WebhookPayload {
	var out []notify.WebhookPayload
	for _, rec := range s.Delivered() {
		if rec.Duplicate {
			continue
		}
		var p notify.WebhookPayload
		if json.Unmarshal(rec.Body, &p) == nil {
			out = append(out, p)
		}
	}
	return out
}

// Close stops the stand-in, releasing any held request.
func (s *Webhook) Close() {
	s.close()
	s.srv.Close()
}

func (s *Webhook) handle(w http.ResponseWriter, r *http.Request) {
	body := readBody(r)
	rec := Received{
		Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: body,
		Strings: jsonStrings(body), IdempotencyKey: r.Header.Get(notify.WebhookIdempotencyHeader),
	}
	refuse := func(status int, msg string) {
		rec.Refusal = msg
		s.add(rec)
		writeJSON(w, status, map[string]string{"error": msg})
	}
	if f, ok := s.nextFault(); ok {
		rec.Refusal = "injected fault"
		s.add(rec)
		if f.Hang {
			s.hang(r.Context())
			return
		}
		http.Error(w, http.StatusText(f.Status), f.Status)
		return
	}
	if r.Method != http.MethodPost {
		refuse(http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		refuse(http.StatusUnsupportedMediaType, "Content-Type is not application/json")
		return
	}
	s.clockMu.Lock()
	now := s.now()
	s.clockMu.Unlock()
	if err := notify.VerifyWebhook(s.Secret, r.Header, body, now, s.Tolerance); err != nil {
		refuse(http.StatusUnauthorized, err.Error())
		return
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var p notify.WebhookPayload
	if err := dec.Decode(&p); err != nil {
		refuse(http.StatusBadRequest, "the payload is not a notification: "+err.Error())
		return
	}
	if rec.IdempotencyKey == "" || rec.IdempotencyKey != p.IdempotencyKey {
		refuse(http.StatusBadRequest, "the Idempotency-Key header does not match the payload")
		return
	}
	if err := p.Message().Validate(); err != nil {
		refuse(http.StatusUnprocessableEntity, err.Error())
		return
	}
	s.addAccepted(rec)
	w.WriteHeader(http.StatusNoContent)
}
