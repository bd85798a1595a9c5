//go:build !fuzzdecode

package api_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestBodyMustBeJSON(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	body := `{"instrument":"phq9","consent":true}`
	for ct, want := range map[string]int{
		"application/json":                  201,
		"application/json; charset=utf-8":   201,
		"application/merge-patch+json":      201,
		"":                                  201, // scripts that send none
		"text/plain":                        415,
		"application/x-www-form-urlencoded": 415,
		// The server reads multipart bodies before any route; this one is
		// not multipart at all.
		"multipart/form-data; boundary=x": 400,
		"application/xml":                 415,
		"application/json; charset=\"":    415,
	} {
		req, _ := http.NewRequest("POST", s.base+"/api/v1/sessions", strings.NewReader(body))
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want || (want == 415 && !strings.Contains(string(raw), `"unsupported_media_type"`)) || (want == 400 && !strings.Contains(string(raw), `"code"`)) {
			t.Errorf("Content-Type %q: %d %s; want %d", ct, resp.StatusCode, raw, want)
		}
	}
}

func TestDuplicateKeysAreRefused(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	r := s.do("POST", "/api/v1/sessions", "", `{"instrument":"phq9","instrument":"gad7","consent":true}`)
	r.expectError(t, 400, "malformed_json")
	if r.body["error"].(map[string]any)["field"] != "instrument" {
		t.Fatalf("field: %s", r.raw)
	}
	ss := s.start(map[string]any{"instrument": "phq9"})
	s.do("POST", "/api/v1/sessions/"+ss.id+"/answers", ss.token,
		`{"answers":[{"item":"phq9.q1","value":1,"seq":1,"seq":2}]}`).expectError(t, 400, "malformed_json")
	// The same key in sibling objects is not a duplicate.
	if r := s.do("POST", "/api/v1/sessions/"+ss.id+"/answers", ss.token,
		`{"answers":[{"item":"phq9.q1","value":1,"seq":1},{"item":"phq9.q2","value":{"x":1}["x"],"seq":1}]}`); r.status != 400 {
		t.Fatalf("invalid JSON: %d", r.status)
	}
	if r := s.do("POST", "/api/v1/sessions/"+ss.id+"/answers", ss.token,
		`{"answers":[{"item":"phq9.q1","value":1,"seq":1},{"item":"phq9.q2","value":2,"seq":1}]}`); r.status != 200 {
		t.Fatalf("sibling objects with the same keys: %d %s", r.status, r.raw)
	}
}

// TestForgedCursor: a cursor the store cannot read is the caller's
// mistake (400), not a server failure.
func TestForgedCursor(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	otp := s.org()
	admin := s.signIn("admin", otp)
	for _, path := range []string{"/api/v1/warnings?after=eyIkZ3QiOiIifQ", "/api/v1/audit?after=%00", "/api/v1/staff?after=not-a-cursor"} {
		r := admin.do("GET", path, nil)
		r.expectError(t, 400, "validation_failed")
	}
}

// TestRosterUploadMayExceedTheJSONLimit: a school's roster is larger than
// any JSON body (2,000 students are 120 kB as .csv); only the upload route
// gets the larger limit.
func TestRosterUploadMayExceedTheJSONLimit(t *testing.T) {
	t.Parallel()
	o := newQueueOrg(t)
	campaignWith(t, o, "roster", "thanks") // creates class a7-1 under school A
	var b strings.Builder
	b.WriteString("学号,姓名,性别,出生年月,班级\n")
	for i := range 2000 {
		fmt.Fprintf(&b, "2024%04d,学生%d,女,2012-03,a7-1\n", i, i)
	}
	if b.Len() <= 64<<10 {
		t.Fatalf("roster of %d bytes is not over the JSON limit", b.Len())
	}
	if r := o.psychA.upload("/api/v1/units/schoolA/roster", "roster.csv", b.String(), nil); r.status != 200 || r.body["created"] != 2000.0 {
		t.Fatalf("2,000-student roster (%d bytes): %d %s", b.Len(), r.status, short(r.raw))
	}
	// Everything else keeps the JSON limit, the roster route's look-alikes too.
	big := `{"instrument":"phq9","consent":true,"x":"` + strings.Repeat("a", 70<<10) + `"}`
	for _, path := range []string{"/api/v1/sessions", "/api/v1/units/schoolA/roster/x", "/api/v1/units/roster"} {
		o.psychA.do("POST", path, big).expectError(t, 413, "body_too_large")
	}
}

func short(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}
