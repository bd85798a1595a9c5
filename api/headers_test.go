//go:build !fuzzdecode

package api_test

import (
	"net/http"
	"strings"
	"testing"

	"xinling/api"
	"xinling/assess"
)

// raw sends one request and returns the response headers and status,
// for tests that look at headers rather than bodies.
func (s *server) raw(method, path, contentType, body string, header map[string]string) *http.Response {
	s.t.Helper()
	req, err := http.NewRequest(method, s.base+path, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestSecurityHeadersOnEveryResponseClass(t *testing.T) {
	t.Parallel()
	s := newServer(t, func(c *api.Config, _ *assess.Options) { c.RateLogin = 1 })
	s.org()
	cases := []struct {
		name, method, path, body string
		status                   int
		api                      bool
	}{
		{"health", "GET", "/healthz", "", 200, false},
		{"readiness", "GET", "/readyz", "", 200, false},
		{"404 outside the API", "GET", "/nope/../../etc/passwd", "", 404, false},
		{"API JSON", "GET", "/api/v1/instruments", "", 200, true},
		{"OpenAPI document", "GET", "/api/v1/openapi.json", "", 200, true},
		{"API 404", "GET", "/api/v1/nope", "", 404, true},
		{"405", "DELETE", "/api/v1/ping", "", 405, true},
		{"malformed JSON", "POST", "/api/v1/sessions", "{", 400, true},
		{"unauthenticated", "GET", "/api/v1/units", "", 401, true},
		{"created", "POST", "/api/v1/sessions", `{"instrument":"phq9","consent":true}`, 201, true},
		{"login failed", "POST", "/api/v1/auth/login", `{"login":"admin","password":"wrong-one"}`, 401, true},
		{"rate limited", "POST", "/api/v1/auth/login", `{"login":"admin","password":"wrong-one"}`, 429, true},
	}
	for _, c := range cases {
		resp := s.raw(c.method, c.path, "application/json", c.body, nil)
		h := resp.Header
		if resp.StatusCode != c.status {
			t.Errorf("%s: status %d, want %d", c.name, resp.StatusCode, c.status)
		}
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "script-src 'self';", "style-src 'self' 'unsafe-inline'", "img-src 'self' data: blob:",
			"connect-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'self'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", c.name, csp, want)
			}
		}
		if strings.Contains(strings.SplitN(csp, "style-src", 2)[0], "unsafe-inline") {
			t.Errorf("%s: inline scripts allowed: %q", c.name, csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" || h.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: nosniff %q, referrer %q, frame %q", c.name, h.Get("X-Content-Type-Options"), h.Get("Referrer-Policy"), h.Get("X-Frame-Options"))
		}
		if h.Get("Strict-Transport-Security") != "" {
			t.Errorf("%s: HSTS on plain HTTP without --cookie-secure", c.name)
		}
		if c.api && h.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control %q on an API answer", c.name, h.Get("Cache-Control"))
		}
	}
}

func TestHSTSOnlyBehindTLS(t *testing.T) {
	t.Parallel()
	s := newServer(t, func(c *api.Config, _ *assess.Options) { c.CookieSecure = true })
	for _, path := range []string{"/healthz", "/api/v1/ping", "/api/v1/nope"} {
		if got := s.raw("GET", path, "", "", nil).Header.Get("Strict-Transport-Security"); !strings.HasPrefix(got, "max-age=31536000") {
			t.Errorf("%s with --cookie-secure: HSTS %q", path, got)
		}
	}
}

func TestLiveStreamIsNotStored(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	otp := s.org()
	admin := s.signIn("admin", otp)
	req, _ := http.NewRequest("GET", s.base+"/api/v1/warnings/stream", nil)
	resp, err := admin.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("Content-Security-Policy") == "" {
		t.Fatalf("stream: %d, Cache-Control %q", resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
}

// The console frames the H5's read-only preview, so that one page may be
// framed by this origin; every other web app page may not be framed at all.
func TestOnlyThePreviewMayBeFramedAndOnlyHere(t *testing.T) {
	t.Parallel()
	s := newServer(t, func(c *api.Config, _ *assess.Options) { c.WebApp = builtWebApp() })
	for path, want := range map[string][2]string{
		"/m/preview/phq9":     {"frame-ancestors 'self'", "SAMEORIGIN"},
		"/m/":                 {"frame-ancestors 'none'", "DENY"},
		"/console/queue":      {"frame-ancestors 'none'", "DENY"},
		"/m/previewer/x":      {"frame-ancestors 'none'", "DENY"},
		"/api/v1/instruments": {"frame-ancestors 'none'", "DENY"},
	} {
		h := s.raw("GET", path, "", "", nil).Header
		if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, want[0]) || !strings.Contains(csp, "script-src 'self';") {
			t.Errorf("%s: CSP %q, want %q", path, csp, want[0])
		}
		if got := h.Get("X-Frame-Options"); got != want[1] {
			t.Errorf("%s: X-Frame-Options %q, want %q", path, got, want[1])
		}
	}
}
