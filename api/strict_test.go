package api_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestBodyMustBeJSON(t *testing.T) {
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
	s := newServer(t)
	otp := s.org()
	admin := s.signIn("admin", otp)
	for _, path := range []string{"/api/v1/warnings?after=eyIkZ3QiOiIifQ", "/api/v1/audit?after=%00", "/api/v1/staff?after=not-a-cursor"} {
		r := admin.do("GET", path, nil)
		r.expectError(t, 400, "validation_failed")
	}
}
