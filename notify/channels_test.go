package notify_test

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"xinling/notify"
	"xinling/notify/notifytest"
)

var (
	at  = time.Date(2026, 3, 14, 1, 15, 0, 0, notify.DisplayZone)
	due = time.Date(2026, 3, 14, 2, 15, 0, 0, notify.DisplayZone)
)

// Personal data of the respondent behind the warning, as a caller's
// test would hold it. None of it can be put into a Message, and none of
// it may reach any wire.
var personalData = []string{"王小明", "13812345678", "wangxm@example.org", "有过结束生命的念头", "PHQ-9 27"}

func message(key string) notify.Message {
	return notify.Message{
		Kind:           notify.KindWarningNew,
		Level:          1,
		UnitName:       "青山街道心理服务站",
		At:             at,
		DueAt:          due,
		Link:           "https://xinling.example/console/#/queue/q_7f3a9c",
		IdempotencyKey: key,
	}
}

// channelCase is one channel against its stand-in.
type channelCase struct {
	name string
	rec  *notifytest.Recorder
	// send sends through a channel whose requests time out after
	// timeout (the default when 0), with the right credentials.
	send func(ctx context.Context, m notify.Message, timeout time.Duration) error
	// sendWrong sends with a wrong secret, key or password.
	sendWrong func(ctx context.Context, m notify.Message) error
	// retryable are injected faults a retry may get past: the
	// provider's server errors and its throttling.
	retryable []notifytest.Fault
	// permanent are injected faults no retry cures.
	permanent []notifytest.Fault
	// keyOnWire says the protocol carries the idempotency key.
	keyOnWire bool
	// httpBased channels report a context deadline as such.
	httpBased bool
	// secrets must never appear in an error message, nor the query
	// parameters named in forbidden (a full URL with its key).
	secrets   []string
	forbidden []string
	// checkWire checks that an accepted request carries m and nothing
	// more.
	checkWire func(t *testing.T, m notify.Message, rec notifytest.Received)
}

func withTimeout(c *http.Client, timeout time.Duration) *http.Client {
	if timeout > 0 {
		return &http.Client{Timeout: timeout}
	}
	return c
}

// robotText checks that a robot received the rendered text and nothing
// else.
func robotText(t *testing.T, m notify.Message, rec notifytest.Received) {
	t.Helper()
	r, _ := notify.Render(m)
	if rec.Text != r.Text {
		t.Errorf("content = %q, want %q", rec.Text, r.Text)
	}
	var body map[string]any
	_ = json.Unmarshal(rec.Body, &body)
	if len(body) != 2 || body["msgtype"] != "text" {
		t.Errorf("body = %s, want msgtype and text only", rec.Body)
	}
}

// queryKeys checks the names of the query parameters received.
func queryKeys(t *testing.T, rec notifytest.Received, want ...string) {
	t.Helper()
	var got []string
	for k := range rec.Query {
		got = append(got, k)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("query parameters %v, want %v", got, want)
	}
}

// channelCases holds, by channel name, a function that starts the
// channel's stand-in and describes it; each channel's test file adds
// its own.
var channelCases = map[string]func(t *testing.T) channelCase{}

func checkNoSecrets(t *testing.T, c channelCase, err error) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range c.secrets {
		if strings.Contains(err.Error(), s) {
			t.Errorf("the error names a secret: %v", err)
		}
	}
	for _, s := range c.forbidden {
		if strings.Contains(err.Error(), s) {
			t.Errorf("the error names the request's %s: %v", s, err)
		}
	}
}

func TestChannels(t *testing.T) {
	names := slices.Sorted(maps.Keys(channelCases))
	if len(names) == 0 {
		t.Fatal("no channel registered")
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			c := channelCases[name](t)
			ctx := context.Background()
			n := 0
			key := func() string { n++; return c.name + "-key-" + string(rune('a'+n)) }

			t.Run("success", func(t *testing.T) {
				before := len(c.rec.Received())
				for _, loc := range []notify.Locale{notify.LocaleZH, notify.LocaleEN} {
					m := message(key())
					m.Locale = loc
					if err := c.send(ctx, m, 0); err != nil {
						t.Fatalf("Send: %v", err)
					}
					recs := c.rec.Received()[before:]
					before += len(recs)
					if len(recs) != 1 || !recs[0].Accepted {
						t.Fatalf("the stand-in received %+v", recs)
					}
					c.checkWire(t, m, recs[0])
					if c.keyOnWire && recs[0].IdempotencyKey != m.IdempotencyKey {
						t.Errorf("idempotency key on the wire = %q, want %q", recs[0].IdempotencyKey, m.IdempotencyKey)
					}
				}
			})

			t.Run("every kind", func(t *testing.T) {
				ms := []notify.Message{message(key()), message(key()), message(key()), message(key())}
				ms[1].Kind, ms[1].Level = notify.KindWarningUnclaimed, 2
				ms[2].Kind, ms[2].Level, ms[2].DueAt, ms[2].Count = notify.KindDigest, 0, time.Time{}, 5
				ms[3].Kind, ms[3].Level = notify.KindCallbackRequested, 0
				for _, m := range ms {
					if err := c.send(ctx, m, 0); err != nil {
						t.Errorf("%s: %v", m.Kind, err)
						continue
					}
					recs := c.rec.Received()
					c.checkWire(t, m, recs[len(recs)-1])
				}
			})

			t.Run("wrong secret is permanent", func(t *testing.T) {
				before := len(c.rec.Delivered())
				err := c.sendWrong(ctx, message(key()))
				if err == nil || !notify.IsPermanent(err) {
					t.Fatalf("Send = %v, want a permanent error", err)
				}
				checkNoSecrets(t, c, err)
				if len(c.rec.Delivered()) != before {
					t.Error("the stand-in accepted a wrong secret")
				}
			})

			t.Run("failures a retry may cure", func(t *testing.T) {
				for _, f := range c.retryable {
					c.rec.FailNext(1, f)
					err := c.send(ctx, message(key()), 0)
					if err == nil || notify.IsPermanent(err) {
						t.Errorf("fault %+v: Send = %v, want a retryable error", f, err)
					}
					checkNoSecrets(t, c, err)
				}
			})

			t.Run("failures no retry cures", func(t *testing.T) {
				for _, f := range c.permanent {
					c.rec.FailNext(1, f)
					err := c.send(ctx, message(key()), 0)
					if err == nil || !notify.IsPermanent(err) {
						t.Errorf("fault %+v: Send = %v, want a permanent error", f, err)
					}
					checkNoSecrets(t, c, err)
				}
			})

			t.Run("timeout is retryable", func(t *testing.T) {
				c.rec.FailNext(1, notifytest.Fault{Hang: true})
				start := time.Now()
				err := c.send(ctx, message(key()), 500*time.Millisecond)
				if err == nil || notify.IsPermanent(err) {
					t.Errorf("Send = %v, want a retryable error", err)
				}
				if d := time.Since(start); d > 5*time.Second {
					t.Errorf("Send took %v past a 500 ms timeout", d)
				}
				checkNoSecrets(t, c, err)
				// On a slow machine the time may run out before the
				// request reaches the stand-in, leaving the fault unused.
				c.rec.ClearFaults()

				c.rec.FailNext(1, notifytest.Fault{Hang: true})
				dctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
				defer cancel()
				err = c.send(dctx, message(key()), 0)
				if err == nil || notify.IsPermanent(err) {
					t.Errorf("with a context deadline: Send = %v, want a retryable error", err)
				}
				if c.httpBased && !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("with a context deadline: %v does not wrap context.DeadlineExceeded", err)
				}
				c.rec.ClearFaults()
			})

			t.Run("a retry carries the same key", func(t *testing.T) {
				m := message(key())
				c.rec.FailNext(1, c.retryable[0])
				if err := c.send(ctx, m, 0); err == nil || notify.IsPermanent(err) {
					t.Fatalf("first attempt: %v, want a retryable error", err)
				}
				if err := c.send(ctx, m, 0); err != nil {
					t.Fatalf("retry: %v", err)
				}
				recs := c.rec.Received()
				first, retry := recs[len(recs)-2], recs[len(recs)-1]
				if !retry.Accepted {
					t.Fatalf("the retry was refused: %s", retry.Refusal)
				}
				if c.keyOnWire && (first.IdempotencyKey != m.IdempotencyKey || retry.IdempotencyKey != m.IdempotencyKey) {
					t.Errorf("keys on the wire %q and %q, want %q twice", first.IdempotencyKey, retry.IdempotencyKey, m.IdempotencyKey)
				}
			})

			t.Run("invalid message is permanent and sends nothing", func(t *testing.T) {
				before := len(c.rec.Received())
				m := message(key())
				m.UnitName = "青山街道 王小明 13812345678"
				err := c.send(ctx, m, 0)
				if !errors.Is(err, notify.ErrInvalidMessage) || !notify.IsPermanent(err) {
					t.Errorf("Send = %v, want a permanent ErrInvalidMessage", err)
				}
				if len(c.rec.Received()) != before {
					t.Error("an invalid message reached the wire")
				}
			})

			c.rec.AssertNoPersonalData(t, personalData...)
			// The scan does find what is there: the unit's name went out
			// in every message.
			if found := notifytest.FindPersonalData(c.rec.Received(), "青山街道心理服务站"); len(found) == 0 {
				t.Error("the personal-data scan finds nothing, not even the unit name every message carries")
			}
		})
	}
}
