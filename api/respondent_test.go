//go:build !fuzzdecode

package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"xinling/api"
	"xinling/assess"
	"xinling/internal/testkit"
	"xinling/store"
	"xinling/store/sealed"
	"xinling/store/sqlite"
	"xinling/store/storetest"
)

// server runs the app on a real loopback listener, so tests go through
// HTTP as clients do (body limits, for one, act before any handler).
type server struct {
	t         *testing.T
	app       *fiber.App
	hub       *assess.Hub
	sessions  *assess.Sessions
	base      string
	store     store.Store
	staff     *assess.Staff
	queue     *assess.Queue
	campaigns *assess.Campaigns
	catalog   *assess.Catalog
	clock     *testkit.Clock
	dir       string // the embedded store's files
	audit     *auditSwitch
	svc       *assess.Services
}

// auditSwitch is the server's store, whose audit log can be made to fail.
type auditSwitch struct {
	store.Store
	broken atomic.Bool
}

func (a *auditSwitch) AppendAudit(ctx context.Context, e store.AuditEntry) error {
	if a.broken.Load() {
		return errors.New("the audit table is unavailable (test)")
	}
	return a.Store.AppendAudit(ctx, e)
}

func newServer(t *testing.T, mutate ...func(*api.Config, *assess.Options)) *server {
	t.Helper()
	lib, err := testkit.Library()
	if err != nil {
		t.Fatal(err)
	}
	lib = lib.Clone() // custom instruments published here stay here
	dir := t.TempDir()
	db, err := sqlite.Open(context.Background(), dir, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	// Through the sealing layer, as in xinling serve.
	audit := &auditSwitch{Store: sealed.Wrap(db, storetest.TestKeys(t, storetest.TestKeySpec))}
	var st store.Store = audit
	clk := testkit.NewClock(time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC))
	// A cheap argon2 cost: these tests sign in hundreds of times, and at
	// the real cost (pinned in assess's own tests) hashing was most of
	// this package's time under -race.
	acfg, opts := api.DefaultConfig(), assess.Options{Now: clk.Now, Auth: assess.AuthConfig{Hashing: assess.PasswordHashing{Time: 1, MemoryKiB: 64}}}
	for _, m := range mutate {
		m(&acfg, &opts)
	}
	if opts.Log == nil {
		opts.Log = acfg.Log // one logger, as in xinling serve
	}
	svc := assess.New(st, lib, opts)
	app := api.New(acfg, api.Services{Services: svc, Ready: api.Readiness(st.Ping, func() int { return len(lib.Latest()) })})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { svc.Hub.Close(); _ = app.Shutdown() })
	return &server{t: t, app: app, base: "http://" + ln.Addr().String(), store: st, staff: svc.Staff, queue: svc.Queue, campaigns: svc.Campaigns,
		catalog: svc.Catalog, clock: clk, dir: dir, hub: svc.Hub, sessions: svc.Sessions, audit: audit, svc: svc}
}

type response struct {
	status int
	body   map[string]any
	raw    string
}

func (s *server) do(method, path, token string, body any) response {
	s.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, _ := json.Marshal(b)
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, s.base+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode, raw: string(raw)}
	_ = json.Unmarshal(raw, &r.body)
	return r
}

// expectError checks the error envelope: status, machine code and a message.
func (r response) expectError(t *testing.T, status int, code string) {
	t.Helper()
	e, _ := r.body["error"].(map[string]any)
	if r.status != status || e == nil || e["code"] != code || e["message"] == "" {
		t.Fatalf("got %d %s; want %d with code %q", r.status, r.raw, status, code)
	}
}

type session struct {
	id, token string
	items     []string
}

func (s *server) start(body map[string]any) session {
	s.t.Helper()
	if _, ok := body["consent"]; !ok {
		body["consent"] = true
	}
	r := s.do("POST", "/api/v1/sessions", "", body)
	if r.status != 201 {
		s.t.Fatalf("create: %d %s", r.status, r.raw)
	}
	ss := session{id: r.body["id"].(string), token: r.body["token"].(string)}
	for _, it := range r.body["items"].([]any) {
		ss.items = append(ss.items, it.(map[string]any)["id"].(string))
	}
	return ss
}

func (s *server) answer(ss session, item string, value float64, seq int) response {
	s.t.Helper()
	return s.do("PUT", "/api/v1/sessions/"+ss.id+"/answers/"+item, ss.token, map[string]any{"value": value, "seq": seq})
}

func (s *server) answerAll(ss session, values ...float64) {
	s.t.Helper()
	for i, item := range ss.items {
		if r := s.answer(ss, item, values[i], i+1); r.status != 200 || r.body["status"] != "saved" {
			s.t.Fatalf("answer %s: %d %s", item, r.status, r.raw)
		}
	}
}

func TestSessionLifecycle(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	ss := s.start(map[string]any{"instrument": "phq9", "sex": "f", "age": 30})
	if len(ss.items) != 9 || ss.items[0] != "phq9.q1" || len(ss.token) < 22 {
		t.Fatalf("create gave items %v token %q", ss.items, ss.token)
	}
	s.answerAll(ss, 2, 2, 2, 2, 2, 0, 0, 0, 0)

	// Resume: the answers so far and the next item.
	r := s.do("GET", "/api/v1/sessions/"+ss.id, ss.token, nil)
	if r.status != 200 || r.body["next"] != nil || r.body["progress"].(map[string]any)["answered"] != 9.0 || r.body["token"] != nil {
		t.Fatalf("resume: %d %s", r.status, r.raw)
	}
	sub := s.do("POST", "/api/v1/sessions/"+ss.id+"/submit", ss.token, nil)
	res := sub.body["result"].(map[string]any)["instruments"].([]any)[0].(map[string]any)
	band := res["bands"].(map[string]any)["total"].(map[string]any)
	if sub.status != 200 || res["scores"].(map[string]any)["total"] != 10.0 || band["code"] != "moderate" || band["feedback"] == "" || sub.body["crisis"] != nil {
		t.Fatalf("submit: %d %s", sub.status, sub.raw)
	}
	flat := sub.body["result"].(map[string]any)
	if flat["scores"].(map[string]any)["total"] != 10.0 || flat["bands"].(map[string]any)["total"].(map[string]any)["code"] != "moderate" {
		t.Fatalf("result.scores and result.bands: %s", sub.raw)
	}
	if strings.Contains(sub.raw, "total.moderate") || strings.Contains(sub.raw, "reason") {
		t.Fatalf("a warning rule reached the respondent: %s", sub.raw)
	}
	again := s.do("POST", "/api/v1/sessions/"+ss.id+"/submit", ss.token, nil)
	if again.status != 200 || again.raw != sub.raw {
		t.Fatalf("second submit differs:\n%s\n%s", sub.raw, again.raw)
	}
	ws, _, err := s.store.ListWarnings(context.Background(), store.WarningFilter{}, store.Page{})
	if err != nil || len(ws) != 1 || ws[0].Level != 3 || ws[0].SessionID != ss.id {
		t.Fatalf("warnings after two submits: %+v %v", ws, err)
	}
	s.answer(ss, "phq9.q1", 1, 99).expectError(t, 409, "session_submitted")
	if r := s.do("GET", "/api/v1/sessions/"+ss.id, ss.token, nil); r.status != 200 || r.body["result"] == nil {
		t.Fatalf("a submitted session's resume state lacks its result: %s", r.raw)
	}
}

func TestAnswerIdempotency(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	ss := s.start(map[string]any{"instrument": "gad7"})
	if r := s.answer(ss, "gad7.q1", 3, 5); r.body["status"] != "saved" {
		t.Fatal(r.raw)
	}
	if r := s.answer(ss, "gad7.q1", 3, 5); r.status != 200 || r.body["status"] != "replay" {
		t.Fatalf("replay: %s", r.raw)
	}
	if r := s.answer(ss, "gad7.q1", 0, 4); r.status != 200 || r.body["status"] != "stale" || r.body["value"] != 3.0 || r.body["seq"] != 5.0 {
		t.Fatalf("stale seq must be ignored and report what is stored: %s", r.raw)
	}
	if r := s.answer(ss, "gad7.q1", 1, 6); r.body["status"] != "saved" || r.body["value"] != 1.0 {
		t.Fatalf("newer seq: %s", r.raw)
	}
	batch := s.do("POST", "/api/v1/sessions/"+ss.id+"/answers", ss.token, map[string]any{"answers": []map[string]any{
		{"item": "gad7.q2", "value": 2, "seq": 7}, {"item": "gad7.q1", "value": 3, "seq": 2},
	}})
	acks := batch.body["answers"].([]any)
	if batch.status != 200 || acks[0].(map[string]any)["status"] != "saved" || acks[1].(map[string]any)["status"] != "stale" {
		t.Fatalf("batch: %s", batch.raw)
	}
	// A batch with one bad answer saves nothing.
	bad := s.do("POST", "/api/v1/sessions/"+ss.id+"/answers", ss.token, map[string]any{"answers": []map[string]any{
		{"item": "gad7.q3", "value": 2, "seq": 8}, {"item": "gad7.q4", "value": 9, "seq": 9},
	}})
	bad.expectError(t, 422, "answer_out_of_range")
	if r := s.do("GET", "/api/v1/sessions/"+ss.id, ss.token, nil); r.body["answers"].(map[string]any)["gad7.q3"] != nil {
		t.Fatalf("part of a rejected batch was saved: %s", r.raw)
	}
}

func TestDisplayConditionsAndIncompleteSubmit(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	ss := s.start(map[string]any{"instrument": "asq"})
	if len(ss.items) != 4 {
		t.Fatalf("ASQ shows %v before any answer; item 5 must wait for a yes", ss.items)
	}
	s.answer(ss, "asq.q1", 1, 1)
	r := s.do("GET", "/api/v1/sessions/"+ss.id, ss.token, nil)
	if n := len(r.body["items"].([]any)); n != 5 || r.body["next"] != "asq.q2" {
		t.Fatalf("after a yes: %d items, next %v", n, r.body["next"])
	}
	s.do("POST", "/api/v1/sessions/"+ss.id+"/submit", ss.token, nil).expectError(t, 422, "incomplete")
	for i, item := range []string{"asq.q2", "asq.q3", "asq.q4", "asq.q5"} {
		s.answer(ss, item, 0, i+2)
	}
	sub := s.do("POST", "/api/v1/sessions/"+ss.id+"/submit", ss.token, nil)
	if sub.status != 200 || sub.body["crisis"] != nil {
		t.Fatalf("non-acute positive ASQ: %s", sub.raw)
	}
	ws, _, _ := s.store.ListWarnings(context.Background(), store.WarningFilter{}, store.Page{})
	if len(ws) != 1 || ws[0].Level != 2 {
		t.Fatalf("want one level-2 entry, got %+v", ws)
	}
}

func TestCrisisAndFollowUpShareOneQueueEntry(t *testing.T) {
	t.Parallel()
	s := newServer(t, func(_ *api.Config, c *assess.Options) { c.Sessions.Hotline = "400-000-0000" })
	ss := s.start(map[string]any{"instrument": "phq9"})
	s.answerAll(ss, 0, 0, 0, 0, 0, 0, 0, 0, 1)
	sub := s.do("POST", "/api/v1/sessions/"+ss.id+"/submit", ss.token, nil)
	crisis, _ := sub.body["crisis"].(map[string]any)
	if crisis == nil || crisis["hotline"] != "400-000-0000" || !strings.Contains(crisis["message"].(string), "400-000-0000") ||
		crisis["follow_up"].(map[string]any)["instrument"] != "asq" {
		t.Fatalf("crisis block: %s", sub.raw)
	}
	// The first response is built from the results as scored, a replay
	// from the stored payloads: they must read the same.
	if again := s.do("POST", "/api/v1/sessions/"+ss.id+"/submit", ss.token, nil); again.raw != sub.raw {
		t.Fatalf("a second submit of a crisis differs:\n%s\n%s", sub.raw, again.raw)
	}
	// Starting the follow-up needs the first session's token.
	s.do("POST", "/api/v1/sessions", "wrong", map[string]any{"instrument": "asq", "consent": true, "follow_up_of": ss.id}).expectError(t, 401, "token_invalid")
	r := s.do("POST", "/api/v1/sessions", ss.token, map[string]any{"instrument": "asq", "consent": true, "follow_up_of": ss.id})
	if r.status != 201 {
		t.Fatal(r.raw)
	}
	fu := session{id: r.body["id"].(string), token: r.body["token"].(string), items: []string{"asq.q1", "asq.q2", "asq.q3", "asq.q4", "asq.q5"}}
	for i, v := range []float64{1, 0, 0, 0, 1} {
		s.answer(fu, fu.items[i], v, i+1)
	}
	sub = s.do("POST", "/api/v1/sessions/"+fu.id+"/submit", fu.token, nil)
	if sub.body["crisis"] == nil || sub.body["crisis"].(map[string]any)["follow_up"] != nil {
		t.Fatalf("acute ASQ must show the crisis block and chain nothing further: %s", sub.raw)
	}
	ws, _, _ := s.store.ListWarnings(context.Background(), store.WarningFilter{}, store.Page{})
	if len(ws) != 1 || ws[0].Level != 1 || len(ws[0].Reasons) != 2 {
		t.Fatalf("PHQ-9 item 9 and acute ASQ must be one level-1 entry with both reasons: %+v", ws)
	}
}

func TestBatteryAndLocale(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	r := s.do("POST", "/api/v1/sessions?locale=en", "", map[string]any{"battery": []string{"phq9", "gad7"}, "consent": true})
	items := r.body["items"].([]any)
	first := items[0].(map[string]any)
	if r.status != 201 || len(items) != 16 || first["text"] != "Little interest or pleasure in doing things" ||
		first["options"].([]any)[0].(map[string]any)["label"] != "Not at all" || items[9].(map[string]any)["id"] != "gad7.q1" {
		t.Fatalf("battery in English: %d %s", r.status, r.raw[:min(400, len(r.raw))])
	}
	sess := session{id: r.body["id"].(string), token: r.body["token"].(string)}
	for _, it := range items {
		sess.items = append(sess.items, it.(map[string]any)["id"].(string))
	}
	s.answerAll(sess, 1, 1, 1, 1, 1, 1, 1, 1, 0, 2, 2, 2, 2, 2, 0, 0)
	sub := s.do("POST", "/api/v1/sessions/"+sess.id+"/submit?locale=en", sess.token, nil)
	flat := sub.body["result"].(map[string]any)["scores"].(map[string]any)
	if sub.status != 200 || flat["phq9.total"] != 8.0 || flat["gad7.total"] != 10.0 || len(sub.body["result"].(map[string]any)["instruments"].([]any)) != 2 {
		t.Fatalf("battery submit: %s", sub.raw)
	}
	cat := s.do("GET", "/api/v1/instruments", "", nil)
	for _, e := range cat.body["instruments"].([]any) {
		if e.(map[string]any)["id"] == "riasec" {
			t.Fatal("riasec is not public but is in the catalogue")
		}
	}
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	s := newServer(t, func(c *api.Config, _ *assess.Options) { c.BodyLimit = 4096 })
	ss := s.start(map[string]any{"instrument": "phq9"})
	path := "/api/v1/sessions/" + ss.id
	cases := []struct {
		name         string
		method, path string
		token        string
		body         any
		status       int
		code, field  string
	}{
		{"unknown instrument", "POST", "/api/v1/sessions", "", map[string]any{"instrument": "phq10", "consent": true}, 404, "instrument_unknown", "instrument"},
		{"non-public instrument", "POST", "/api/v1/sessions", "", map[string]any{"instrument": "riasec", "consent": true}, 404, "instrument_unknown", "instrument"},
		{"missing consent", "POST", "/api/v1/sessions", "", map[string]any{"instrument": "phq9"}, 422, "consent_required", "consent"},
		{"malformed json", "POST", "/api/v1/sessions", "", `{"instrument": `, 400, "malformed_json", ""},
		{"not json at all", "POST", "/api/v1/sessions", "", `instrument=phq9`, 400, "malformed_json", ""},
		{"empty body", "POST", "/api/v1/sessions", "", ``, 400, "malformed_json", ""},
		{"trailing data", "POST", "/api/v1/sessions", "", `{"instrument":"phq9","consent":true} {}`, 400, "malformed_json", ""},
		{"unknown field", "POST", "/api/v1/sessions", "", map[string]any{"instrument": "phq9", "consent": true, "nmae": "x"}, 400, "validation_failed", "nmae"},
		{"wrong type", "POST", "/api/v1/sessions", "", map[string]any{"instrument": "phq9", "consent": true, "age": "thirty"}, 400, "validation_failed", "age"},
		{"bad sex", "POST", "/api/v1/sessions", "", map[string]any{"instrument": "phq9", "consent": true, "sex": "x"}, 400, "validation_failed", "sex"},
		{"battery too long", "POST", "/api/v1/sessions", "", map[string]any{"battery": []string{"a", "b", "c", "d", "e", "f", "g", "h", "i"}, "consent": true}, 400, "validation_failed", "battery"},
		{"oversized body", "POST", "/api/v1/sessions", "", `{"instrument":"` + strings.Repeat("x", 5000) + `"}`, 413, "body_too_large", ""},
		{"unknown session", "GET", "/api/v1/sessions/nosuchsession", ss.token, nil, 404, "session_not_found", ""},
		{"no token", "GET", path, "", nil, 401, "token_invalid", ""},
		{"wrong token", "GET", path, "forged-token-forged-token-forged", nil, 401, "token_invalid", ""},
		{"unknown item", "PUT", path + "/answers/phq9.q10", ss.token, map[string]any{"value": 1, "seq": 1}, 404, "item_unknown", "item"},
		{"item of another instrument", "PUT", path + "/answers/gad7.q1", ss.token, map[string]any{"value": 1, "seq": 1}, 404, "item_unknown", "item"},
		{"out of range", "PUT", path + "/answers/phq9.q1", ss.token, map[string]any{"value": 4, "seq": 1}, 422, "answer_out_of_range", "value"},
		{"fractional value", "PUT", path + "/answers/phq9.q1", ss.token, map[string]any{"value": 0.5, "seq": 1}, 422, "answer_out_of_range", "value"},
		{"missing seq", "PUT", path + "/answers/phq9.q1", ss.token, map[string]any{"value": 1}, 400, "validation_failed", "seq"},
		{"zero seq", "PUT", path + "/answers/phq9.q1", ss.token, map[string]any{"value": 1, "seq": 0}, 400, "validation_failed", "seq"},
		{"missing value", "PUT", path + "/answers/phq9.q1", ss.token, map[string]any{"seq": 3}, 400, "validation_failed", "value"},
		{"empty batch", "POST", path + "/answers", ss.token, map[string]any{"answers": []any{}}, 400, "validation_failed", "answers"},
		{"unknown route", "GET", "/api/v1/nothing", "", nil, 404, "not_found", ""},
		{"wrong method", "DELETE", path, ss.token, nil, 405, "method_not_allowed", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := s.do(c.method, c.path, c.token, c.body)
			r.expectError(t, c.status, c.code)
			if f, _ := r.body["error"].(map[string]any)["field"].(string); f != c.field {
				t.Fatalf("field %q, want %q (%s)", f, c.field, r.raw)
			}
		})
	}
	// None of that touched the session.
	if r := s.do("GET", path, ss.token, nil); len(r.body["answers"].(map[string]any)) != 0 {
		t.Fatalf("bad input saved something: %s", r.raw)
	}
}

func TestExpiredSession(t *testing.T) {
	t.Parallel()
	s := newServer(t, func(_ *api.Config, c *assess.Options) { c.Sessions.IdleTimeout = time.Hour })
	ss := s.start(map[string]any{"instrument": "gad7"})
	s.clock.Add(50 * time.Minute)
	if r := s.answer(ss, "gad7.q1", 1, 1); r.status != 200 {
		t.Fatal(r.raw)
	}
	s.clock.Add(50 * time.Minute) // 50 minutes since the last answer: still open
	if r := s.answer(ss, "gad7.q2", 1, 2); r.status != 200 {
		t.Fatal(r.raw)
	}
	s.clock.Add(61 * time.Minute)
	s.answer(ss, "gad7.q3", 1, 3).expectError(t, 410, "session_expired")
	s.do("GET", "/api/v1/sessions/"+ss.id, ss.token, nil).expectError(t, 410, "session_expired")
	s.do("POST", "/api/v1/sessions/"+ss.id+"/submit", ss.token, nil).expectError(t, 410, "session_expired")
}

func TestRateLimits(t *testing.T) {
	t.Parallel()
	s := newServer(t, func(c *api.Config, _ *assess.Options) { c.RatePerToken = 3 })
	ss := s.start(map[string]any{"instrument": "gad7"})
	for i := 1; i <= 3; i++ {
		if r := s.answer(ss, "gad7.q1", 1, i); r.status != 200 {
			t.Fatalf("request %d: %s", i, r.raw)
		}
	}
	s.answer(ss, "gad7.q1", 1, 4).expectError(t, 429, "rate_limited")
	// Another respondent behind the same address is not affected.
	other := s.start(map[string]any{"instrument": "gad7"})
	if r := s.answer(other, "gad7.q1", 1, 1); r.status != 200 {
		t.Fatalf("per-token limit leaked to another session: %s", r.raw)
	}
}

func TestEveryRouteIsInOpenAPI(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	r := s.do("GET", "/api/v1/openapi.json", "", nil)
	paths, _ := r.body["paths"].(map[string]any)
	if r.status != 200 || len(paths) == 0 {
		t.Fatalf("openapi: %d", r.status)
	}
	for _, route := range s.app.GetRoutes(true) {
		if route.Method == "HEAD" || route.Method == "USE" || isWebAppRoute(route.Path) {
			continue
		}
		p := openAPIPath(route.Path)
		ops, ok := paths[p].(map[string]any)
		if !ok || ops[strings.ToLower(route.Method)] == nil {
			t.Errorf("%s %s is not in openapi.json (as %s)", route.Method, route.Path, p)
		}
	}
}

// openAPIPath turns Fiber's /sessions/:id into OpenAPI's /sessions/{id}.
func openAPIPath(p string) string {
	parts := strings.Split(p, "/")
	for i, part := range parts {
		if name, ok := strings.CutPrefix(part, ":"); ok {
			parts[i] = fmt.Sprintf("{%s}", name)
		}
	}
	return strings.TrimSuffix(strings.Join(parts, "/"), "/")
}

func TestCORS(t *testing.T) {
	t.Parallel()
	s := newServer(t, func(c *api.Config, _ *assess.Options) { c.CORSOrigins = []string{"https://m.example.cn"} })
	for origin, allowed := range map[string]bool{"https://m.example.cn": true, "https://evil.example": false} {
		req, _ := http.NewRequest("OPTIONS", s.base+"/api/v1/sessions", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got := resp.Header.Get("Access-Control-Allow-Origin")
		if (got == origin) != allowed {
			t.Errorf("origin %s: Access-Control-Allow-Origin %q", origin, got)
		}
	}
}

func TestHealth(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	for _, p := range []string{"/healthz", "/readyz", "/api/v1/ping"} {
		if r := s.do("GET", p, "", nil); r.status != http.StatusOK {
			t.Errorf("%s: %d", p, r.status)
		}
	}
}

// isWebAppRoute tells the web app's pages, which are not API, from the API.
func isWebAppRoute(path string) bool {
	switch path {
	case "/", "/assets/*", "/m", "/m/*", "/console", "/console/*":
		return true
	}
	return false
}
