package notifytest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"xinling/notify"
)

func TestWebhookChecks(t *testing.T) {
	s := NewWebhook(t)
	post := func(body []byte, key string, ts int64, secret string) int {
		req, _ := http.NewRequest(http.MethodPost, s.URL, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(notify.WebhookIdempotencyHeader, key)
		req.Header.Set(notify.WebhookTimestampHeader, strconv.FormatInt(ts, 10))
		req.Header.Set(notify.WebhookSignatureHeader, notify.WebhookSignature(secret, ts, body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	payload, _ := json.Marshal(notify.NewWebhookPayload(msg("k1")))
	now := time.Now().Unix()
	if got := post(payload, "k1", now, s.Secret); got != http.StatusNoContent {
		t.Errorf("a good request: %d", got)
	}
	if got := post(payload, "k1", now, s.Secret); got != http.StatusNoContent {
		t.Errorf("a duplicate: %d, want 204", got)
	}
	withName := bytes.Replace(payload, []byte(`"kind"`), []byte(`"name":"王小明","kind"`), 1)
	for name, c := range map[string]struct {
		body   []byte
		key    string
		ts     int64
		secret string
		want   int
	}{
		"extra field":   {withName, "k1", now, s.Secret, http.StatusBadRequest},
		"other key":     {payload, "k2", now, s.Secret, http.StatusBadRequest},
		"wrong secret":  {payload, "k1", now, strings.Repeat("x", 32), http.StatusUnauthorized},
		"stale":         {payload, "k1", now - 600, s.Secret, http.StatusUnauthorized},
		"not a message": {[]byte(`{"kind":"note","unit":"x","at":"2026-01-01T00:00:00Z","link":"https://x/","idempotency_key":"k3","locale":"en"}`), "k3", now, s.Secret, http.StatusUnprocessableEntity},
	} {
		if got := post(c.body, c.key, c.ts, c.secret); got != c.want {
			t.Errorf("%s: %d, want %d", name, got, c.want)
		}
	}
	recs := s.Delivered()
	if len(recs) != 2 || recs[0].Duplicate || !recs[1].Duplicate || len(s.Unique()) != 1 {
		t.Errorf("duplicates are not told apart: %d delivered, %d unique", len(recs), len(s.Unique()))
	}
}
