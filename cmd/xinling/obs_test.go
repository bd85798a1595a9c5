package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
)

// serve with --metrics-addr: metrics on their own listener (the embedded
// store's group commits among them), none on the main one, and JSON logs
// whose request lines carry ids.
func TestServeMetricsListenerAndJSONLogs(t *testing.T) {
	t.Parallel()
	maddr := freeAddr(t)
	c := startServe(t, []string{"XINLING_DATA=" + t.TempDir(), "XINLING_LOG_FORMAT=json"}, "--metrics-addr", maddr)
	var sess struct{ ID, Token string }
	if code := post(t, c.base+"/api/v1/sessions", "", `{"instrument":"phq9","consent":true}`, &sess); code != 201 {
		t.Fatalf("create: %d", code)
	}
	for i := 1; i <= 2; i++ {
		if code := post(t, fmt.Sprintf("%s/api/v1/sessions/%s/answers/phq9.q%d", c.base, sess.ID, i), sess.Token, fmt.Sprintf(`{"value":1,"seq":%d}`, i), nil); code != 200 {
			t.Fatalf("answer %d: %d", i, code)
		}
	}
	resp, err := http.Get("http://" + maddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	text := string(raw)
	for _, want := range []string{`xinling_answers_saved_total{status="saved"} 2`, `xinling_sessions_active 1`,
		`xinling_request_duration_seconds_count{op="save",outcome="ok"} 2`, "xinling_store_commit_batch_size_count ", "go_goroutines "} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(text, "xinling_store_commit_batch_size_count 0\n") {
		t.Error("no group commit was counted")
	}
	// No token configured: the main listener has no /metrics.
	if resp, err := http.Get(c.base + "/metrics"); err != nil || resp.StatusCode != 404 {
		t.Errorf("main listener /metrics: %v %v", resp.StatusCode, err)
	}
	// Stop it first: its stderr is written by another goroutine until then.
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Wait(); err != nil {
		t.Fatalf("serve: %v", err)
	}
	requests := 0
	for _, l := range strings.Split(c.stderr.String(), "\n") {
		var m map[string]any
		if !strings.HasPrefix(l, "{") {
			continue // not a log record: a banner written for the operator
		}
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not a JSON log line: %q", l)
		}
		if m["msg"] == "request" && m["route"] == "/api/v1/sessions/:id/answers/:item" && m["request_id"] != nil {
			requests++
		}
	}
	if requests != 2 {
		t.Errorf("%d access lines for 2 answers:\n%s", requests, c.stderr.String())
	}
}
