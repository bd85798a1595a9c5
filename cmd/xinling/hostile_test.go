package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// reply is what came back for one raw request; status 0 means the server
// closed the connection without an answer.
type reply struct {
	status int
	header http.Header
	body   string
}

// rawSend writes req to a fresh connection byte for byte (so malformed
// requests go out as written) and reads one response.
func rawSend(t *testing.T, addr string, req []byte) reply {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(60 * time.Second))
	// Write while reading: the server may answer (413) and close before
	// it has read a large body.
	go func() { _, _ = conn.Write(req) }()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return reply{}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return reply{status: resp.StatusCode, header: resp.Header, body: string(body)}
}

// hreq is one request of the corpus.
type hreq struct {
	name          string
	method, path  string
	contentType   string
	header        []string // "Name: value" lines, written as given
	body          []byte
	want          []int    // acceptable statuses
	mustNotAppear []string // in the response head or body
	// early: the HTTP parser may refuse it before Fiber sees it, with a
	// bare status and no error body.
	early bool
	// spa: the web app's history fallback may answer with a page's
	// index.html (200, or 503 with the placeholder when the app is not
	// built); that is not a file from outside the web root.
	spa bool
}

func (r hreq) bytes(host string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n", r.method, r.path, host)
	if r.contentType != "" {
		fmt.Fprintf(&b, "Content-Type: %s\r\n", r.contentType)
	}
	for _, h := range r.header {
		b.WriteString(h + "\r\n")
	}
	if r.body != nil || r.method == "POST" || r.method == "PUT" {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(r.body))
	}
	b.WriteString("\r\n")
	b.Write(r.body)
	return b.Bytes()
}

// staffAuth is a signed-in console: its cookie and anti-forgery token.
type staffAuth struct{ cookie, csrf string }

func (s staffAuth) headers() []string {
	return []string{"Cookie: xinling_session=" + s.cookie, "X-CSRF-Token: " + s.csrf}
}

func jsonBody(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

var (
	statusFine = func(s int) bool { return s >= 200 && s < 500 }
)

// TestHostileRequests starts `xinling serve` on a fresh store and sends it
// a corpus of hostile requests. Each gets the status listed for it, never
// a 5xx, never a file from outside the web root, and afterwards the server
// is healthy and a respondent and a counsellor can still do their work.
//
// The path traversal rows are the place to add the web app's static
// routes (/m/, /console/) when they are served by this binary: a
// traversal must answer 400 or 404 (or the SPA's index), never the file.
func TestHostileRequests(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts the server")
	}
	data := t.TempDir()
	var out bytes.Buffer
	if code := run([]string{"user", "add", "--data", data, "--name", "管理员", "--login", "admin", "--role", "admin", "--unit", "city"}, &out, io.Discard); code != 0 {
		t.Fatalf("user add: %d %s", code, out.String())
	}
	otp := regexp.MustCompile(`one-time password: (\S+)`).FindStringSubmatch(out.String())
	if otp == nil {
		t.Fatalf("no password in %q", out.String())
	}
	c := startServe(t, []string{"XINLING_DATA=" + data})
	addr := strings.TrimPrefix(c.base, "http://")
	send := func(r hreq) reply { return rawSend(t, addr, r.bytes(addr)) }

	// A console signed in with its own password, and a respondent whose
	// PHQ-9 item 9 put a level-1 entry in the queue.
	admin := signInStaff(t, send, "admin", otp[1], "a-long-new-secret")
	sessID, token := newRespondent(t, send)
	submitPHQ9(t, send, sessID, token, 1)
	wl := send(hreq{method: "GET", path: "/api/v1/warnings", header: admin.headers()})
	var list struct{ Warnings []struct{ ID string } }
	if json.Unmarshal([]byte(wl.body), &list); wl.status != 200 || len(list.Warnings) != 1 {
		t.Fatalf("queue: %d %s", wl.status, wl.body)
	}
	warningID := list.Warnings[0].ID
	sess2, token2 := newRespondent(t, send)

	var corpus []hreq
	add := func(r hreq) { corpus = append(corpus, r) }

	// Path traversal, against every prefix that serves something.
	for _, p := range []string{
		"/m/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/console/..%2f..%2fgo.mod", "/console/..%2F..%2F..%2Fetc%2Fpasswd",
		"/api/v1/../../../../etc/passwd", "/api/v1/openapi.json/../../go.mod", "/..%5c..%5cgo.mod", "//etc/passwd", "/./././../go.mod",
		"/m/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd", "/m/..%00/go.mod", "/static/../cmd/xinling/main.go", "/api/v1/sessions/..%2f..%2f..%2fgo.mod",
		"/assets/../../go.mod", "/assets/..%2f..%2f..%2fgo.mod", "/assets/%2e%2e/%2e%2e/webapp/embed.go", "/m/..%5c..%5c..%5cgo.mod",
		"/console/%2e%2e%2f%2e%2e%2fetc%2fpasswd", "/m/....//....//etc/passwd", "/console/..;/..;/go.mod", "/m/%252e%252e%252fgo.mod",
	} {
		add(hreq{name: "traversal " + p, method: "GET", path: p, want: []int{400, 401, 404}, spa: true,
			mustNotAppear: []string{"root:x:", "module xinling", "package main", "package webapp"}})
	}

	// Bodies too large, too deep, doubled, mistyped, badly encoded.
	big := append([]byte(`{"instrument":"phq9","consent":true,"x":"`), bytes.Repeat([]byte("a"), 10<<20)...)
	add(hreq{name: "10 MB body", method: "POST", path: "/api/v1/sessions", contentType: "application/json", body: append(big, `"}`...), want: []int{0, 413}})
	add(hreq{name: "100k-deep array", method: "POST", path: "/api/v1/sessions", contentType: "application/json", body: bytes.Repeat([]byte("["), 100_000), want: []int{413}})
	add(hreq{name: "60k-deep array", method: "POST", path: "/api/v1/sessions", contentType: "application/json", body: bytes.Repeat([]byte("["), 60_000), want: []int{400}})
	add(hreq{name: "12k-deep objects", method: "POST", path: "/api/v1/sessions", contentType: "application/json", body: bytes.Repeat([]byte(`{"a":`), 12_000), want: []int{400}})
	add(hreq{name: "deep answer value", method: "PUT", path: "/api/v1/sessions/" + sess2 + "/answers/phq9.q1", contentType: "application/json",
		header: []string{"Authorization: Bearer " + token2}, body: []byte(`{"value":` + strings.Repeat("[", 20_000) + `,"seq":1}`), want: []int{400}})
	add(hreq{name: "duplicate keys", method: "POST", path: "/api/v1/sessions", contentType: "application/json", body: []byte(`{"instrument":"phq9","instrument":"gad7","consent":true}`), want: []int{400}})
	add(hreq{name: "duplicate login keys", method: "POST", path: "/api/v1/auth/login", contentType: "application/json", body: []byte(`{"login":"admin","login":"x","password":"a-long-new-secret"}`), want: []int{400}})
	for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "text/html; charset=utf-8", "application/xml", "image/png", "application/json; charset=\""} {
		add(hreq{name: "content type " + ct, method: "POST", path: "/api/v1/sessions", contentType: ct, body: []byte(`{"instrument":"phq9","consent":true}`), want: []int{415}})
	}
	add(hreq{name: "multipart to a JSON route", method: "POST", path: "/api/v1/sessions", contentType: "multipart/form-data; boundary=xx", body: []byte("--xx\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nb\r\n--xx--\r\n"), want: []int{415}})
	add(hreq{name: "JSON to the roster upload", method: "POST", path: "/api/v1/units/city/roster", contentType: "application/json", header: admin.headers(), body: []byte(`{"file":"x"}`), want: []int{400, 415, 422}})
	add(hreq{name: "invalid UTF-8", method: "POST", path: "/api/v1/sessions", contentType: "application/json", body: []byte("{\"instrument\":\"\xff\xfe\xc0\xaf\",\"consent\":true}"), want: []int{400, 404}})
	add(hreq{name: "raw NUL byte", method: "POST", path: "/api/v1/sessions", contentType: "application/json", body: []byte("{\"instrument\":\"phq9\x00\",\"consent\":true}"), want: []int{400}})
	add(hreq{name: "escaped NUL", method: "POST", path: "/api/v1/sessions", contentType: "application/json", body: []byte(`{"instrument":"phq9\u0000","consent":true}`), want: []int{400, 404}})
	add(hreq{name: "NUL before JSON", method: "POST", path: "/api/v1/sessions", contentType: "application/json", body: []byte("\x00{}"), want: []int{400}})
	add(hreq{name: "huge number", method: "PUT", path: "/api/v1/sessions/" + sess2 + "/answers/phq9.q1", contentType: "application/json",
		header: []string{"Authorization: Bearer " + token2}, body: []byte(`{"value":1e999,"seq":99999999999999999999999}`), want: []int{400}})
	add(hreq{name: "UTF-16 body", method: "POST", path: "/api/v1/sessions", contentType: "application/json", body: []byte("\xff\xfe{\x00}\x00"), want: []int{400}})

	// Forged, expired and garbled credentials.
	loggedOut := signInStaff(t, send, "admin", "a-long-new-secret", "")
	if r := send(hreq{method: "POST", path: "/api/v1/auth/logout", header: loggedOut.headers(), body: []byte{}}); r.status != 200 {
		t.Fatalf("logout: %d %s", r.status, r.body)
	}
	for _, tok := range []string{"", "garbage", token, strings.Repeat("A", 3000), "../../etc/passwd", "' OR '1'='1", `{"$gt":""}`, "Bearer Bearer x"} {
		h := []string{}
		if tok != "" {
			h = append(h, "Authorization: Bearer "+tok)
		}
		add(hreq{name: "session token " + short(tok), method: "GET", path: "/api/v1/sessions/" + sess2, header: h, want: []int{401}})
	}
	add(hreq{name: "token in the wrong scheme", method: "GET", path: "/api/v1/sessions/" + sess2, header: []string{"Authorization: Basic " + token2}, want: []int{401}})
	for _, ck := range []string{"garbage", loggedOut.cookie, admin.cookie + "x", strings.Repeat("a", 3000), "x; xinling_session=y", `{"$ne":null}`, "' OR 1=1 --", "%00"} {
		add(hreq{name: "staff cookie " + short(ck), method: "GET", path: "/api/v1/warnings", header: []string{"Cookie: xinling_session=" + ck}, want: []int{401}})
	}
	add(hreq{name: "two staff cookies", method: "GET", path: "/api/v1/warnings", header: []string{"Cookie: xinling_session=garbage; xinling_session=" + admin.cookie}, want: []int{200, 401}})
	add(hreq{name: "wrong CSRF token", method: "POST", path: "/api/v1/warnings/" + warningID + "/claim", header: []string{"Cookie: xinling_session=" + admin.cookie, "X-CSRF-Token: " + loggedOut.csrf}, body: []byte{}, want: []int{403}})
	add(hreq{name: "no CSRF token", method: "POST", path: "/api/v1/units", contentType: "application/json", header: []string{"Cookie: xinling_session=" + admin.cookie}, body: []byte(`{"id":"x","parent_id":"city","kind":"county","name":"X"}`), want: []int{403}})

	// Absurd path parameters.
	for _, id := range []string{strings.Repeat("9", 3000), "%00", "%0d%0aSet-Cookie:%20injected=1", "' OR '1'='1", "%7B%22%24gt%22%3A%22%22%7D", "..", "%2e%2e%2f", "%E4%BD%A0%E5%A5%BD", "-1", "null", "%ff%fe"} {
		add(hreq{name: "session id " + short(id), method: "GET", path: "/api/v1/sessions/" + id, header: []string{"Authorization: Bearer " + token2}, want: []int{401, 404}})
		add(hreq{name: "warning id " + short(id), method: "GET", path: "/api/v1/warnings/" + id, header: admin.headers(), want: []int{400, 404}})
		add(hreq{name: "item id " + short(id), method: "PUT", path: "/api/v1/sessions/" + sess2 + "/answers/" + id, contentType: "application/json", header: []string{"Authorization: Bearer " + token2}, body: []byte(`{"value":1,"seq":1}`), want: []int{404}})
		add(hreq{name: "person id " + short(id), method: "GET", path: "/api/v1/persons/" + id, header: admin.headers(), want: []int{400, 404}})
		add(hreq{name: "campaign id " + short(id), method: "GET", path: "/api/v1/campaigns/" + id + "/codes.pdf", header: admin.headers(), want: []int{400, 404}})
		add(hreq{name: "export person id " + short(id), method: "GET", path: "/api/v1/persons/" + id + "/export", header: admin.headers(), want: []int{400, 404}})
	}
	add(hreq{name: "absurd query", method: "GET", path: "/api/v1/warnings?limit=-99999999999999999999&after=%00%ff&level=1,2,3,4&state=' OR 1=1", header: admin.headers(), want: []int{400}})
	add(hreq{name: "absurd limit", method: "GET", path: "/api/v1/audit?limit=999999999&from=yesterday", header: admin.headers(), want: []int{400}})
	add(hreq{name: "forged cursor", method: "GET", path: "/api/v1/warnings?after=eyIkZ3QiOiIifQ", header: admin.headers(), want: []int{200, 400}})

	// Header injection and oversized heads.
	add(hreq{name: "CRLF in a query", method: "GET", path: "/api/v1/instruments?locale=en%0d%0aSet-Cookie:%20injected=1", want: []int{200}})
	add(hreq{name: "bare CR in a header", method: "GET", path: "/api/v1/ping", header: []string{"X-Test: a\rSet-Cookie: injected=1"}, want: []int{200, 400}, early: true})
	add(hreq{name: "CRLF in Accept-Language", method: "GET", path: "/api/v1/instruments", header: []string{"Accept-Language: en\r\n Set-Cookie: injected=1"}, want: []int{200, 400}, early: true})
	add(hreq{name: "forged forwarded-for", method: "GET", path: "/api/v1/ping", header: []string{"X-Forwarded-For: 127.0.0.1\r\nX-Forwarded-For: ' OR 1=1"}, want: []int{200}})
	add(hreq{name: "100 kB URL", method: "GET", path: "/api/v1/instruments?x=" + strings.Repeat("a", 100<<10), want: []int{0, 400, 414, 431}, early: true})
	add(hreq{name: "8 kB path", method: "GET", path: "/api/v1/sessions/" + strings.Repeat("a", 8<<10), want: []int{0, 400, 401, 404, 414, 431}, early: true})
	add(hreq{name: "100 kB header", method: "GET", path: "/api/v1/ping", header: []string{"X-Big: " + strings.Repeat("a", 100<<10)}, want: []int{0, 400, 431}, early: true})
	// WeChat sign-in is off on this server: every way into it is a 404,
	// whatever rides in the query, and no redirect is ever given.
	for _, q := range []string{"?next=//evil.example/", "?next=/m/%0d%0aSet-Cookie:%20injected=1", "?code=' OR 1=1&state={\"$gt\":\"\"}"} {
		add(hreq{name: "wechat login " + q, method: "GET", path: "/api/v1/wechat/login" + q, want: []int{404}})
		add(hreq{name: "wechat callback " + q, method: "GET", path: "/api/v1/wechat/callback" + q, want: []int{404}})
	}
	add(hreq{name: "forged respondent cookie", method: "GET", path: "/api/v1/me/sessions", header: []string{"Cookie: xinling_respondent=eyJwIjoiYWRtaW4ifQ.forged"}, want: []int{401}})
	add(hreq{name: "unknown method", method: "BREW", path: "/api/v1/ping", want: []int{400, 404, 405, 501}, early: true})

	// SQL and NoSQL injection in every string field of every body type:
	// as strings they are data (any 2xx-4xx, never 5xx), as objects they
	// are the wrong type (400).
	for _, ep := range injectionEndpoints(admin, sessID, token, sess2, token2, warningID) {
		for _, f := range stringFields(ep.body) {
			for _, p := range injections {
				body := setField(ep.body, f, p)
				want := []int{}
				if _, isObject := p.(map[string]any); isObject {
					want = []int{400}
				}
				add(hreq{name: fmt.Sprintf("%s %s %s=%s", ep.method, ep.path, f, short(fmt.Sprint(p))), method: ep.method, path: ep.path,
					contentType: "application/json", header: ep.header, body: jsonBody(body), want: want})
			}
		}
	}

	for _, r := range corpus {
		got := send(r)
		spaPage := r.spa && (got.status == 200 || got.status == 503) && strings.HasPrefix(got.header.Get("Content-Type"), "text/html")
		ok := slices.Contains(r.want, got.status) || (len(r.want) == 0 && statusFine(got.status)) || spaPage
		if !ok || (got.status >= 500 && !spaPage) {
			t.Errorf("%s: status %d %s; want %v", r.name, got.status, short(got.body), r.want)
		}
		if got.status >= 400 && !r.early && !spaPage && !strings.Contains(got.body, `"code"`) {
			t.Errorf("%s: %d without an error code: %s", r.name, got.status, short(got.body))
		}
		// A CR or LF smuggled in through a path, query or header must
		// never become a header of the answer.
		for name, vals := range got.header {
			if strings.Contains(strings.ToLower(name+strings.Join(vals, "")), "injected") {
				t.Errorf("%s: injected response header %s: %v", r.name, name, vals)
			}
		}
		for _, bad := range r.mustNotAppear {
			head := fmt.Sprint(got.header)
			if strings.Contains(got.body, bad) || strings.Contains(head, bad) {
				t.Errorf("%s: response contains %q", r.name, bad)
			}
		}
	}
	t.Logf("%d hostile requests sent", len(corpus))

	// Still healthy, and the people it serves can still do their work.
	for _, p := range []string{"/healthz", "/readyz"} {
		if r := send(hreq{method: "GET", path: p}); r.status != 200 {
			t.Fatalf("%s after the corpus: %d", p, r.status)
		}
	}
	id, tok := newRespondent(t, send)
	submitPHQ9(t, send, id, tok, 2)
	after := send(hreq{method: "GET", path: "/api/v1/warnings", header: admin.headers()})
	if json.Unmarshal([]byte(after.body), &list); after.status != 200 || len(list.Warnings) != 2 {
		t.Fatalf("queue after the corpus: %d %s", after.status, short(after.body))
	}
	if again := signInStaff(t, send, "admin", "a-long-new-secret", ""); again.cookie == "" {
		t.Fatal("the admin cannot sign in after the corpus")
	}
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Wait(); err != nil {
		t.Fatalf("serve did not stop cleanly: %v", err)
	}
	if log := c.stderr.String(); strings.Contains(log, "panic") || strings.Contains(log, "request failed") {
		t.Fatalf("the server logged a panic or a 5xx:\n%s", log)
	}
}

var injections = []any{
	"'; DROP TABLE staff; --",
	"\" OR \"1\"=\"1",
	"admin'--",
	`{"$gt":""}`,
	`{"$where":"sleep(5000) || true"}`,
	map[string]any{"$gt": ""},
	map[string]any{"$where": "function() { sleep(5000); return true }"},
	map[string]any{"$ne": nil},
}

func short(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

type endpoint struct {
	method, path string
	header       []string
	body         map[string]any
}

// injectionEndpoints lists a valid body for every JSON body the API takes
// (the same types as api's FuzzDecode table).
func injectionEndpoints(admin staffAuth, sessID, token, sess2, token2, warningID string) []endpoint {
	bearer := func(tok string) []string { return []string{"Authorization: Bearer " + tok} }
	st := admin.headers()
	return []endpoint{
		{"POST", "/api/v1/sessions", nil, map[string]any{"instrument": "phq9", "consent": true, "sex": "f", "locale": "en", "follow_up_of": sessID}},
		{"POST", "/api/v1/sessions", nil, map[string]any{"battery": []any{"phq9", "gad7"}, "consent": true}},
		{"POST", "/api/v1/sessions", nil, map[string]any{"code": "ABCD-EFGH", "consent": true}},
		{"POST", "/api/v1/sessions/" + sess2 + "/answers", bearer(token2), map[string]any{"answers": []any{map[string]any{"item": "phq9.q1", "value": 1, "seq": 1}}}},
		{"POST", "/api/v1/sessions/" + sessID + "/submit", bearer(token), map[string]any{}},
		{"POST", "/api/v1/auth/login", nil, map[string]any{"login": "nobody-here", "password": "not-the-password"}},
		{"POST", "/api/v1/auth/password", st, map[string]any{"old_password": "not-the-password", "new_password": "another-long-secret"}},
		{"POST", "/api/v1/staff", st, map[string]any{"login": "li", "name": "李", "role": "counsellor", "unit_id": "city"}},
		{"POST", "/api/v1/units", st, map[string]any{"id": "county9", "parent_id": "city", "kind": "county", "name": "九县"}},
		{"PUT", "/api/v1/units/city", st, map[string]any{"name": "市", "kind": "city"}},
		{"POST", "/api/v1/campaigns", st, map[string]any{"name": "筛查", "unit_id": "city", "unit_ids": []any{"city"}, "battery": []any{"phq9"}, "mode": "open",
			"starts_at": "2026-11-22T08:00:00+08:00", "ends_at": "2026-11-29T08:00:00+08:00"}},
		{"POST", "/api/v1/warnings/" + warningID + "/transition", st, map[string]any{"to": "following_up", "note": "电话", "outcome": "x"}},
		{"POST", "/api/v1/warnings/" + warningID + "/release", st, map[string]any{"note": "换班"}},
		{"POST", "/api/v1/warnings/" + warningID + "/assign", st, map[string]any{"assignee_id": "nobody", "note": "请跟进"}},
		{"POST", "/api/v1/warnings/" + warningID + "/refer", st, map[string]any{"to_unit_id": "nowhere", "note": "转介"}},
		{"POST", "/api/v1/cases", st, map[string]any{"person_id": "p1", "warning_id": warningID, "unit_id": "city", "self_evaluation": "a", "life_events": "b",
			"other_problems": "c", "advice": "d", "group_notified": false}},
		{"PUT", "/api/v1/cases/c1", st, map[string]any{"version": 1, "outcome": "stable", "self_evaluation": "a", "life_events": "b", "other_problems": "c", "advice": "d", "group_notified": true}},
		{"POST", "/api/v1/activities", st, map[string]any{"unit_id": "city", "date": "2026-11-01T00:00:00+08:00", "type": "lecture", "reached": 1, "note": "讲座"}},
		// A person that does not exist: the erasure must refuse, never act.
		{"POST", "/api/v1/persons/p-nobody/anonymise", st, map[string]any{"mode": "anonymise", "reason": "本人申请", "confirm": "p-nobody"}},
	}
}

// stringFields names every string in body: "a" at the top, "a.0" in an
// array, "a.0.b" in an object in an array.
func stringFields(body map[string]any) []string {
	var out []string
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch v := v.(type) {
		case string:
			out = append(out, prefix)
		case []any:
			for i, e := range v {
				walk(fmt.Sprintf("%s.%d", prefix, i), e)
			}
		case map[string]any:
			for k, e := range v {
				walk(strings.TrimPrefix(prefix+"."+k, "."), e)
			}
		}
	}
	walk("", body)
	slices.Sort(out)
	return out
}

// setField returns a deep copy of body with the string at path replaced.
func setField(body map[string]any, path string, val any) map[string]any {
	var cp map[string]any
	_ = json.Unmarshal(jsonBody(body), &cp)
	parts := strings.Split(path, ".")
	var cur any = cp
	for i, p := range parts {
		last := i == len(parts)-1
		switch c := cur.(type) {
		case map[string]any:
			if last {
				c[p] = val
			} else {
				cur = c[p]
			}
		case []any:
			var n int
			fmt.Sscan(p, &n)
			if last {
				c[n] = val
			} else {
				cur = c[n]
			}
		}
	}
	return cp
}

func signInStaff(t *testing.T, send func(hreq) reply, login, password, newPassword string) staffAuth {
	t.Helper()
	r := send(hreq{method: "POST", path: "/api/v1/auth/login", contentType: "application/json", body: jsonBody(map[string]string{"login": login, "password": password})})
	if r.status != 200 {
		t.Fatalf("sign in: %d %s", r.status, r.body)
	}
	var me struct{ CSRF string }
	_ = json.Unmarshal([]byte(r.body), &me)
	var a staffAuth
	for _, ck := range (&http.Response{Header: r.header}).Cookies() {
		if ck.Name == "xinling_session" {
			a.cookie = ck.Value
		}
	}
	a.csrf = me.CSRF
	if newPassword != "" {
		if r := send(hreq{method: "POST", path: "/api/v1/auth/password", contentType: "application/json", header: a.headers(),
			body: jsonBody(map[string]string{"old_password": password, "new_password": newPassword})}); r.status != 200 {
			t.Fatalf("password change: %d %s", r.status, r.body)
		}
	}
	return a
}

func newRespondent(t *testing.T, send func(hreq) reply) (id, token string) {
	t.Helper()
	r := send(hreq{method: "POST", path: "/api/v1/sessions", contentType: "application/json", body: []byte(`{"instrument":"phq9","consent":true}`)})
	var s struct{ ID, Token string }
	if json.Unmarshal([]byte(r.body), &s); r.status != 201 || s.Token == "" {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	return s.ID, s.Token
}

// submitPHQ9 answers every item (item 9 with q9) and submits.
func submitPHQ9(t *testing.T, send func(hreq) reply, id, token string, q9 int) {
	t.Helper()
	auth := []string{"Authorization: Bearer " + token}
	for i := 1; i <= 9; i++ {
		v := 1
		if i == 9 {
			v = q9
		}
		r := send(hreq{method: "PUT", path: fmt.Sprintf("/api/v1/sessions/%s/answers/phq9.q%d", url.PathEscape(id), i), contentType: "application/json", header: auth,
			body: []byte(fmt.Sprintf(`{"value":%d,"seq":1}`, v))})
		if r.status != 200 {
			t.Fatalf("answer %d: %d %s", i, r.status, r.body)
		}
	}
	if r := send(hreq{method: "POST", path: "/api/v1/sessions/" + id + "/submit", header: auth, body: []byte{}}); r.status != 200 {
		t.Fatalf("submit: %d %s", r.status, r.body)
	}
}
