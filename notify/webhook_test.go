package notify_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"xinling/notify"
	"xinling/notify/notifytest"
)

func init() {
	channelCases[notify.ChannelWebhook] = func(t *testing.T) channelCase {
		wh := notifytest.NewWebhook(t)
		return channelCase{
			name: notify.ChannelWebhook,
			rec:  wh.Recorder,
			send: func(ctx context.Context, m notify.Message, timeout time.Duration) error {
				cfg := wh.Config()
				cfg.HTTP = withTimeout(cfg.HTTP, timeout)
				return notify.NewWebhook(cfg).Send(ctx, wh.Target(), m)
			},
			sendWrong: func(ctx context.Context, m notify.Message) error {
				return wh.Channel().Send(ctx, notify.Target{Address: wh.URL, Secret: strings.Repeat("w", 32)}, m)
			},
			retryable: []notifytest.Fault{{Status: 500}, {Status: 503}, {Status: 429}, {Status: 408}},
			permanent: []notifytest.Fault{{Status: 400}, {Status: 401}, {Status: 404}, {Status: 410}},
			keyOnWire: true,
			httpBased: true,
			secrets:   []string{wh.Secret},
			forbidden: []string{"/hooks/"},
			checkWire: func(t *testing.T, m notify.Message, rec notifytest.Received) {
				var fields map[string]json.RawMessage
				if err := json.Unmarshal(rec.Body, &fields); err != nil {
					t.Fatal(err)
				}
				allowed := []string{"kind", "level", "unit", "at", "due_at", "count", "link", "idempotency_key", "locale"}
				for k := range fields {
					if !slices.Contains(allowed, k) {
						t.Errorf("payload field %q is not a Message field", k)
					}
				}
				var p notify.WebhookPayload
				_ = json.Unmarshal(rec.Body, &p)
				want := notify.NewWebhookPayload(m)
				if !p.At.Equal(want.At) || !p.DueAt.Equal(want.DueAt) || p.Unit != m.UnitName || p.Link != m.Link ||
					p.Level != m.Level || p.Kind != m.Kind || p.Count != m.Count || p.IdempotencyKey != m.IdempotencyKey {
					t.Errorf("payload %+v, want %+v", p, want)
				}
			},
		}
	}
}

func TestWebhookTargetChecks(t *testing.T) {
	ctx := context.Background()
	ch := notify.NewWebhook(notify.WebhookConfig{})
	secret := strings.Repeat("s", 32)

	redirect := httptest.NewServer(http.RedirectHandler("http://127.0.0.1:1/elsewhere", http.StatusFound))
	defer redirect.Close()
	if err := ch.Send(ctx, notify.Target{Address: redirect.URL, Secret: secret}, message("k1")); !notify.IsPermanent(err) {
		t.Errorf("a redirect: %v, want a permanent error (a signed request is not forwarded)", err)
	}

	untrusted := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	untrusted.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	untrusted.StartTLS()
	defer untrusted.Close()
	if err := ch.Send(ctx, notify.Target{Address: untrusted.URL, Secret: secret}, message("k2")); !notify.IsPermanent(err) {
		t.Errorf("an untrusted certificate: %v, want a permanent error", err)
	}
	trusting := notify.NewWebhook(notify.WebhookConfig{HTTP: untrusted.Client()})
	if err := trusting.Send(ctx, notify.Target{Address: untrusted.URL, Secret: secret}, message("k3")); err != nil {
		t.Errorf("a trusted certificate: %v", err)
	}

	for _, tgt := range []notify.Target{
		{Address: "http://xinling.example/hook", Secret: secret},
		{Address: "ftp://127.0.0.1/hook", Secret: secret},
		{Address: "https://user:pw@xinling.example/hook", Secret: secret},
		{Address: untrusted.URL, Secret: "short"},
	} {
		err := ch.Send(ctx, tgt, message("k4"))
		if !errors.Is(err, notify.ErrInvalidTarget) || !notify.IsPermanent(err) {
			t.Errorf("%s: %v, want a permanent ErrInvalidTarget", tgt.Address, err)
		}
		if err != nil && strings.Contains(err.Error(), "pw@") {
			t.Errorf("the error names the URL's password: %v", err)
		}
	}
	if err := notify.ValidateWebhookURL("https://platform.city.example/xinling?token=abc"); err != nil {
		t.Errorf("ValidateWebhookURL: %v", err)
	}
}

// Nobody listening is a failure a retry may cure.
func TestWebhookConnectionRefusedIsRetryable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.URL
	srv.Close()
	err := notify.NewWebhook(notify.WebhookConfig{}).Send(context.Background(), notify.Target{Address: addr, Secret: strings.Repeat("s", 32)}, message("k"))
	if err == nil || notify.IsPermanent(err) {
		t.Errorf("Send = %v, want a retryable error", err)
	}
}

func TestRetryAfterIsReported(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	err := notify.NewWebhook(notify.WebhookConfig{}).Send(context.Background(), notify.Target{Address: srv.URL, Secret: strings.Repeat("s", 32)}, message("k"))
	if notify.IsPermanent(err) {
		t.Fatalf("429 is permanent: %v", err)
	}
	if d, ok := notify.RetryAfter(err); !ok || d != 7*time.Second {
		t.Errorf("RetryAfter = %v, %v; want 7s", d, ok)
	}
}
