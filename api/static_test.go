//go:build !fuzzdecode

package api_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/fstest"

	"xinling/api"
	"xinling/assess"
)

// builtWebApp stands in for webapp/dist after `npm run build`.
func builtWebApp() fstest.MapFS {
	return fstest.MapFS{
		"m/index.html":       {Data: []byte("<!doctype html><title>H5</title>")},
		"console/index.html": {Data: []byte("<!doctype html><title>console</title>")},
		"assets/m-abc.js":    {Data: []byte("console.log(1)")},
		"placeholder.html":   {Data: []byte("not built")},
	}
}

func getPage(t *testing.T, base, path string) (int, http.Header, string) {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func TestWebAppHistoryFallbackAndAssets(t *testing.T) {
	t.Parallel()
	s := newServer(t, func(c *api.Config, _ *assess.Options) { c.WebApp = builtWebApp() })
	for _, tc := range []struct {
		path, want string
		status     int
	}{
		{"/m/", "<title>H5</title>", 200},
		{"/m", "<title>H5</title>", 200},
		{"/m/take/phq9", "<title>H5</title>", 200},           // client-side route
		{"/console/queue/42", "<title>console</title>", 200}, // client-side route
		{"/assets/m-abc.js", "console.log(1)", 200},
		{"/assets/missing.js", "not_found", 404},
		{"/m/missing.png", "not_found", 404},
		{"/assets/../../go.mod", "not_found", 404},
		{"/assets/%2e%2e/%2e%2e/go.mod", "not_found", 404},
		{"/assets/..%2f..%2fgo.mod", "not_found", 404},
	} {
		status, _, body := getPage(t, s.base, tc.path)
		if status != tc.status || !strings.Contains(body, tc.want) {
			t.Errorf("GET %s = %d %q, want %d with %q", tc.path, status, body, tc.status, tc.want)
		}
	}
	if status, h, _ := getPage(t, s.base, "/"); status != 302 || h.Get("Location") != "/m/" {
		t.Errorf("GET / = %d to %q, want a redirect to the H5", status, h.Get("Location"))
	}
	if _, h, _ := getPage(t, s.base, "/assets/m-abc.js"); !strings.Contains(h.Get("Cache-Control"), "immutable") {
		t.Errorf("hashed assets should be cached for good, got %q", h.Get("Cache-Control"))
	}
	if _, h, _ := getPage(t, s.base, "/m/"); h.Get("Cache-Control") != "no-cache" {
		t.Errorf("index.html must be revalidated so a deploy takes effect, got %q", h.Get("Cache-Control"))
	}
}

func TestWebAppNotBuiltSaysHowToBuild(t *testing.T) {
	t.Parallel()
	s := newServer(t, func(c *api.Config, _ *assess.Options) {
		c.WebApp = fstest.MapFS{"placeholder.html": {Data: []byte("not built")}}
	})
	status, _, body := getPage(t, s.base, "/console/")
	if status != 503 || !strings.Contains(body, "make build") {
		t.Fatalf("unbuilt web app: %d %q", status, body)
	}
}
