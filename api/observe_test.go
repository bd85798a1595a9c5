//go:build !fuzzdecode

package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"xinling/api"
	"xinling/assess"
	"xinling/logging"
	"xinling/metrics"
)

// logBuffer collects what the server logs; the server writes from many
// goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// lines parses the JSON log.
func (b *logBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", l)
		}
		out = append(out, m)
	}
	return out
}

// captureLogs sends the server's log, at every level, to the buffer. The
// process default logger is captured as well, for anything logging there.
func captureLogs(t *testing.T) (*logBuffer, func(*api.Config, *assess.Options)) {
	b := &logBuffer{}
	log, err := logging.New(b, "json", slog.LevelDebug)
	if err != nil {
		t.Fatal(err)
	}
	prev := slog.Default()
	slog.SetDefault(log)
	t.Cleanup(func() { slog.SetDefault(prev) })
	return b, func(c *api.Config, _ *assess.Options) { c.Log = log }
}

func TestRequestIDsInResponsesErrorsAndLogs(t *testing.T) {
	logs, withLog := captureLogs(t)
	s := newServer(t, withLog)
	send := func(method, path, id string, body string) (*http.Response, map[string]any) {
		req, _ := http.NewRequest(method, s.base+path, strings.NewReader(body))
		if id != "" {
			req.Header.Set("X-Request-Id", id)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp, m
	}
	// A sane incoming id is kept and echoed, also in the error body.
	resp, body := send("GET", "/api/v1/sessions/nosuch?locale=en&name=欧阳明月", "lb-7f3a.1", "")
	if resp.Header.Get("X-Request-Id") != "lb-7f3a.1" || body["error"].(map[string]any)["request_id"] != "lb-7f3a.1" {
		t.Fatalf("id not echoed: %v %v", resp.Header, body)
	}
	// Anything else is replaced by a generated one.
	for _, bad := range []string{`x" level=ERROR msg=forged`, strings.Repeat("a", 65), "名字"} {
		resp, _ := send("GET", "/api/v1/ping", bad, "")
		got := resp.Header.Get("X-Request-Id")
		if got == "" || got == bad || strings.ContainsAny(got, "\" =") {
			t.Errorf("incoming id %q became %q", bad, got)
		}
	}
	resp, _ = send("GET", "/api/v1/ping", "", "")
	generated := resp.Header.Get("X-Request-Id")
	if len(generated) < 16 {
		t.Fatalf("generated id %q", generated)
	}
	// A malformed body: the error carries the request's id.
	resp, body = send("POST", "/api/v1/sessions", "", `{"instrument":`)
	if e := body["error"].(map[string]any); resp.StatusCode != 400 || e["request_id"] != resp.Header.Get("X-Request-Id") {
		t.Fatalf("malformed body: %d %v", resp.StatusCode, body)
	}

	var access []map[string]any
	for _, l := range logs.lines(t) {
		if l["msg"] == "request" {
			access = append(access, l)
		}
	}
	if len(access) < 6 {
		t.Fatalf("%d access lines:\n%s", len(access), logs.String())
	}
	first := access[0]
	if first["request_id"] != "lb-7f3a.1" || first["route"] != "/api/v1/sessions/:id" || first["status"] != 401.0 || first["method"] != "GET" {
		t.Errorf("access line: %v", first)
	}
	seen := false
	for _, l := range access {
		if l["request_id"] == generated {
			seen = true
		}
	}
	if !seen {
		t.Errorf("no access line for generated id %s", generated)
	}
	text := logs.String()
	for _, leak := range []string{"nosuch", "locale=en", "欧阳明月", "%E6", "forged"} {
		if strings.Contains(text, leak) {
			t.Errorf("the log holds %q from a request's path or query:\n%s", leak, text)
		}
	}
}

func TestReadiness(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	if r := s.do("GET", "/readyz", "", nil); r.status != 200 {
		t.Fatalf("ready: %s", r.raw)
	}
	// The store is gone: not ready, saying why, while liveness holds.
	s.store.Close()
	r := s.do("GET", "/readyz", "", nil)
	r.expectError(t, 503, "unavailable")
	if msg := r.body["error"].(map[string]any)["message"]; msg != "not ready: the store is unreachable" {
		t.Errorf("message %q", msg)
	}
	if r := s.do("GET", "/healthz", "", nil); r.status != 200 {
		t.Errorf("healthz while not ready: %d", r.status)
	}
}

// bareApp serves an app with only a readiness check.
func bareApp(t *testing.T, ready func(context.Context) error) string {
	t.Helper()
	app := api.New(api.DefaultConfig(), api.Services{Ready: ready})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { _ = app.Shutdown() })
	return "http://" + ln.Addr().String()
}

func TestReadinessWithoutInstrumentsOrWithAHangingStore(t *testing.T) {
	t.Parallel()
	ping := func(context.Context) error { return nil }
	hang := func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
	leaky := func(context.Context) error { return errors.New("dial tcp 10.1.2.3:27017: connection refused") }
	for _, c := range []struct {
		ready func(context.Context) error
		want  string
	}{
		{api.Readiness(ping, func() int { return 0 }), "not ready: no instruments are loaded"},
		{api.Readiness(hang, func() int { return 13 }), "not ready: the store is unreachable"},
		{leaky, "not ready"}, // an unexplained error: its text, which may name hosts, stays in the log
	} {
		resp, err := http.Get(bareApp(t, c.ready) + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var body map[string]map[string]any
		_ = json.Unmarshal(raw, &body)
		if resp.StatusCode != 503 || body["error"]["code"] != "unavailable" || body["error"]["message"] != c.want {
			t.Errorf("got %d %s, want 503 %q", resp.StatusCode, raw, c.want)
		}
	}
}

// scrape reads /metrics with the token and returns series → value.
func scrape(t *testing.T, base, token string) map[string]float64 {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		raw, _ := io.ReadAll(resp.Body)
		t.Fatalf("metrics: %d %s", resp.StatusCode, raw)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q", line)
		}
		out[line[:i]] = v
	}
	return out
}

func TestMetricsMoveWithAJourney(t *testing.T) {
	t.Parallel()
	const token = "scrape-token-0123456789"
	m := metrics.New()
	o := newQueueOrg(t, func(c *api.Config, sc *assess.Options) {
		c.Metrics, c.MetricsToken, c.Observe = m.Handler(), token, m.Observe
		sc.Observer, sc.Sessions.SelfTestUnit = m, "county"
	})
	s := o.s
	m.Watch(metrics.Sources{ActiveSessions: func() int { return s.sessions.Active(metrics.ActiveWindow) },
		SSEClients: s.hub.Subscribers, Queue: s.store.QueueLevels, Now: s.clock.Now})

	// Without the token, nothing.
	s.do("GET", "/metrics", "", nil).expectError(t, 401, "unauthenticated")
	s.do("GET", "/metrics", "wrong-token-0123456789", nil).expectError(t, 401, "unauthenticated")
	before := scrape(t, s.base, token)
	if before[`xinling_answers_saved_total{status="saved"}`] != 0 || before[`xinling_warnings_raised_total{level="1"}`] != 0 {
		t.Fatalf("counters before the journey: %v", before)
	}

	// A console listens; a resident answers item 9 positively and submits;
	// another resident is half-way.
	req, _ := http.NewRequest("GET", s.base+"/api/v1/warnings/stream", nil)
	stream, err := o.counsellor.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()
	_, _ = bufio.NewReader(stream.Body).ReadString('\n') // connected
	ss := s.start(map[string]any{"instrument": "phq9"})
	s.answerAll(ss, 0, 0, 0, 0, 0, 0, 0, 0, 2)
	s.answer(ss, "phq9.q9", 2, 9) // the same again: a replay
	if r := s.do("POST", "/api/v1/sessions/"+ss.id+"/submit", ss.token, nil); r.status != 200 {
		t.Fatal(r.raw)
	}
	other := s.start(map[string]any{"instrument": "gad7"})
	s.do("POST", "/api/v1/sessions/"+other.id+"/answers", other.token, map[string]any{"answers": []map[string]any{
		{"item": "gad7.q1", "value": 1, "seq": 1}, {"item": "gad7.q2", "value": 1, "seq": 1}}})
	check := func(got map[string]float64, want map[string]float64) {
		t.Helper()
		for series, v := range want {
			if g, ok := got[series]; !ok || g != v {
				t.Errorf("%s = %v (present %v), want %v", series, g, ok, v)
			}
		}
	}
	check(scrape(t, s.base, token), map[string]float64{
		`xinling_answers_saved_total{status="saved"}`:                                 11,
		`xinling_answers_saved_total{status="replay"}`:                                1,
		`xinling_warnings_raised_total{level="1"}`:                                    1,
		`xinling_request_duration_seconds_count{op="save",outcome="ok"}`:              10,
		`xinling_request_duration_seconds_count{op="save_batch",outcome="ok"}`:        1,
		`xinling_request_duration_seconds_count{op="submit",outcome="ok"}`:            1,
		`xinling_request_duration_seconds_bucket{op="submit",outcome="ok",le="+Inf"}`: 1,
		`xinling_sessions_active`:                                                     1, // the submitted one no longer counts
		`xinling_sse_clients`:                                                         1,
		`xinling_queue_open{level="1"}`:                                               1,
		`xinling_queue_open{level="2"}`:                                               2, // the org's two school entries
		`xinling_queue_open{level="3"}`:                                               0,
		`xinling_sla_breaches{level="1"}`:                                             0,
		`xinling_queue_oldest_age_seconds{level="1"}`:                                 0,
		`xinling_queue_scrape_error`:                                                  0,
	})
	// Two hours on, nobody has claimed anything: every entry is past its
	// deadline, and the half-way respondent is no longer active.
	s.clock.Add(2 * time.Hour)
	check(scrape(t, s.base, token), map[string]float64{
		`xinling_sla_breaches{level="1"}`:             1,
		`xinling_sla_breaches{level="2"}`:             2,
		`xinling_queue_oldest_age_seconds{level="1"}`: 2 * 3600,
		`xinling_sessions_active`:                     0,
	})
	o.counsellor.claim(ids(o.counsellor.do("GET", "/api/v1/warnings?level=1", nil))[0])
	check(scrape(t, s.base, token), map[string]float64{
		`xinling_queue_open{level="1"}`:               0,
		`xinling_sla_breaches{level="1"}`:             0,
		`xinling_queue_oldest_age_seconds{level="1"}`: 0,
	})
}
