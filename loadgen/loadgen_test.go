package loadgen

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func testLibrary(t testing.TB) *fakeAPI {
	t.Helper()
	lib, err := library()
	if err != nil {
		t.Fatal(err)
	}
	return newFakeAPI(lib)
}

func mustMix(t testing.TB, s string) []Battery {
	t.Helper()
	m, err := ParseMix(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func readAckLog(t *testing.T, path string) []AckLine {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []AckLine
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var a AckLine
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			t.Fatalf("ack log line %q: %v", sc.Text(), err)
		}
		out = append(out, a)
	}
	return out
}

// TestRunCountsAgreeWithServer checks every figure of the report against
// what the server saw, request by request.
func TestRunCountsAgreeWithServer(t *testing.T) {
	f := testLibrary(t)
	srv := httptest.NewServer(f.handler())
	defer srv.Close()
	ackPath := filepath.Join(t.TempDir(), "acks.jsonl")
	// Long enough that sessions complete even on a loaded machine: the
	// checks need completions and crisis blocks to compare.
	// A line from an earlier run: the log is appended to, never truncated.
	if err := os.WriteFile(ackPath, []byte(`{"session":"earlier","item":"phq9.q1","value":0,"seq":1}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Target: srv.URL, Respondents: 30, Ramp: 50 * time.Millisecond, Think: 2 * time.Millisecond,
		Duration: 2 * time.Second, Mix: mustMix(t, "phq9,asq,phq9+gad7+asq"), AckLog: ackPath,
		Conns: 8, Timeout: 10 * time.Second, Seed: 7}
	rep, err := Run(context.Background(), cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Errors) != 0 {
		t.Fatalf("errors %v", rep.Errors)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	submitted := 0
	for _, s := range f.sessions {
		if s.submitted {
			submitted++
		}
	}
	checks := []struct {
		name      string
		got, want int64
	}{
		{"sessions_started", rep.SessionsStarted, int64(len(f.sessions))},
		{"sessions_completed", rep.SessionsCompleted, int64(submitted)},
		{"answers_acked", rep.AnswersAcked, f.saved.Load()},
		{"create count", rep.Endpoints["create"].Count, f.creates.Load()},
		{"answer count", rep.Endpoints["answer"].Count, f.answers.Load()},
		{"submit count", rep.Endpoints["submit"].Count, f.submits.Load()},
		{"resume count", rep.Endpoints["resume"].Count, f.gets.Load()},
		{"warnings_expected", rep.WarningsExpected, f.crises.Load()},
		{"warnings_confirmed", rep.WarningsConfirmed, f.crises.Load()},
		{"warnings_unexpected", rep.WarningsUnexpected, 0},
		{"requests", rep.Generator.Requests, f.creates.Load() + f.answers.Load() + f.gets.Load() + f.submits.Load()},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %d, server saw %d", c.name, c.got, c.want)
		}
	}
	// The run must have done something worth checking.
	if rep.SessionsCompleted == 0 || rep.WarningsExpected == 0 || f.gets.Load() == 0 {
		t.Fatalf("too little happened to check: %+v", rep)
	}

	acks := readAckLog(t, ackPath)
	if len(acks) != int(rep.AnswersAcked)+1 || acks[0].Session != "earlier" {
		t.Fatalf("ack log has %d lines, want the earlier one and %d", len(acks), rep.AnswersAcked)
	}
	seen := map[[2]string]bool{}
	lastSeq := map[string]int64{}
	for _, a := range acks[1:] {
		s := f.sessions[a.Session]
		if s == nil {
			t.Fatalf("ack for unknown session: %+v", a)
		}
		st, ok := s.answers[a.Item]
		if !ok || st.seq != a.Seq || st.value != a.Value {
			t.Fatalf("ack %+v, server holds %+v (present %v)", a, st, ok)
		}
		if seen[[2]string{a.Session, a.Item}] {
			t.Fatalf("item acked twice: %+v", a)
		}
		seen[[2]string{a.Session, a.Item}] = true
		if a.Seq != lastSeq[a.Session]+1 {
			t.Fatalf("seq %d after %d in session %s", a.Seq, lastSeq[a.Session], a.Session)
		}
		lastSeq[a.Session] = a.Seq
	}
	// Sessions are re-read only after answers to instruments whose items
	// depend on answers (ASQ here), and after every one of those.
	asq := int64(0)
	for _, a := range acks[1:] {
		if strings.HasPrefix(a.Item, "asq.") {
			asq++
		}
	}
	if asq != f.gets.Load() {
		t.Errorf("%d ASQ answers, %d re-reads", asq, f.gets.Load())
	}
	if int64(len(seen)) != f.saved.Load() {
		t.Fatalf("%d distinct acks, server saved %d", len(seen), f.saved.Load())
	}
}

// TestRunCountsErrorsByCode injects failures and expects each one counted
// under its API code, or http_<status> when the body is not an API error.
func TestRunCountsErrorsByCode(t *testing.T) {
	f := testLibrary(t)
	var injected = map[string]*atomic.Int64{"answer_out_of_range": {}, "http_500": {}, "rate_limited": {}, "bad_response": {}}
	f.fail = func(endpoint string, n int64, w http.ResponseWriter) bool {
		switch {
		case endpoint == "answer" && n%7 == 0:
			injected["answer_out_of_range"].Add(1)
			apiError(w, 422, "answer_out_of_range")
		case endpoint == "answer" && n%11 == 0:
			injected["http_500"].Add(1)
			http.Error(w, "oops", 500)
		case endpoint == "create" && n%5 == 0:
			injected["rate_limited"].Add(1)
			apiError(w, 429, "rate_limited")
		case endpoint == "submit" && n%3 == 0:
			injected["bad_response"].Add(1)
			w.WriteHeader(200)
			_, _ = w.Write([]byte("{not json"))
		default:
			return false
		}
		return true
	}
	srv := httptest.NewServer(f.handler())
	defer srv.Close()
	cfg := Config{Target: srv.URL, Respondents: 10, Think: time.Millisecond, Duration: 400 * time.Millisecond,
		Mix: mustMix(t, "gad7"), Conns: 4, Timeout: 10 * time.Second, Seed: 1}
	rep, err := Run(context.Background(), cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for code, n := range injected {
		if n.Load() == 0 {
			t.Fatalf("no %s injected: run too short to test", code)
		}
		if rep.Errors[code] != n.Load() {
			t.Errorf("errors[%s] = %d, injected %d", code, rep.Errors[code], n.Load())
		}
	}
	if len(rep.Errors) != len(injected) {
		t.Errorf("errors %v, injected only %v", rep.Errors, injected)
	}
	if rep.AnswersAcked != f.saved.Load() {
		t.Errorf("answers_acked %d, server saved %d", rep.AnswersAcked, f.saved.Load())
	}
}

func TestRunCountsTransportErrors(t *testing.T) {
	// A port that was just free: connections are refused.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cfg := Config{Target: "http://" + addr, Respondents: 3, Think: time.Millisecond, Duration: 250 * time.Millisecond,
		Mix: mustMix(t, "phq9"), Conns: 3, Timeout: time.Second}
	rep, err := Run(context.Background(), cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Errors["transport"] == 0 || rep.SessionsStarted != 0 || len(rep.Errors) != 1 {
		t.Fatalf("errors %v, started %d", rep.Errors, rep.SessionsStarted)
	}
}

// runAgainstFake runs a short WHO-5 load against the fake API with one of
// the baseline flags set by set.
func runAgainstFake(t *testing.T, respondents, conns int, set func(*Config)) (*fakeAPI, *Report) {
	t.Helper()
	f := testLibrary(t)
	srv := httptest.NewServer(f.handler())
	t.Cleanup(srv.Close)
	cfg := Config{Target: srv.URL + "/api/v1/", Respondents: respondents, Think: 5 * time.Millisecond, Duration: 200 * time.Millisecond,
		Mix: mustMix(t, "who5"), Conns: conns, Timeout: 10 * time.Second}
	set(&cfg)
	rep, err := Run(context.Background(), cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return f, rep
}

func TestRunBaseline(t *testing.T) {
	f, rep := runAgainstFake(t, 4, 4, func(c *Config) { c.Baseline = true })
	if rep.BaselinePerS == nil || *rep.BaselinePerS <= 0 {
		t.Fatalf("baseline_per_s %v", rep.BaselinePerS)
	}
	if rep.Endpoints["ping"].Count != f.pings.Load() || rep.Generator.BaselineRequests != f.pings.Load() {
		t.Fatalf("ping count %d / %d, server saw %d", rep.Endpoints["ping"].Count, rep.Generator.BaselineRequests, f.pings.Load())
	}
	if len(rep.Errors) != 0 || rep.SessionsCompleted == 0 {
		t.Fatalf("errors %v, completed %d", rep.Errors, rep.SessionsCompleted)
	}
	// baseline_per_s is in the printed JSON only when asked for.
	rep.BaselinePerS = nil
	b, _ := json.Marshal(rep)
	if strings.Contains(string(b), "baseline_per_s") {
		t.Fatal("baseline_per_s printed without --baseline")
	}
}

func TestRunStopsWhenCancelled(t *testing.T) {
	f := testLibrary(t)
	srv := httptest.NewServer(f.handler())
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cfg := Config{Target: srv.URL, Respondents: 5, Think: time.Millisecond, Duration: time.Hour,
		Mix: mustMix(t, "phq9"), Conns: 5, Timeout: 10 * time.Second}
	done := make(chan *Report)
	go func() {
		rep, err := Run(ctx, cfg, io.Discard)
		if err != nil {
			t.Error(err)
		}
		done <- rep
	}()
	for f.saved.Load() < 20 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if rep := <-done; rep != nil && rep.AnswersAcked < 20 {
		t.Fatalf("acked %d", rep.AnswersAcked)
	}
}

func TestCheckTargetRefusesOtherHosts(t *testing.T) {
	for _, ok := range []string{"http://127.0.0.1:8080", "http://127.9.8.7", "http://localhost:1", "http://LOCALHOST", "http://[::1]:8080", "https://127.0.0.1/"} {
		if _, err := CheckTarget(ok); err != nil {
			t.Errorf("%s refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"http://10.0.0.1:8080", "http://192.168.1.2", "http://example.com", "http://localhost.example.com",
		"http://[::2]:80", "http://0.0.0.0:8080", "http://128.0.0.1", "http://[::ffff:10.0.0.1]"} {
		_, err := CheckTarget(bad)
		if !errors.Is(err, ErrNotLoopback) {
			t.Errorf("%s: err %v, want ErrNotLoopback", bad, err)
		}
	}
	for _, bad := range []string{"ftp://127.0.0.1", "127.0.0.1:8080", "://x"} {
		if _, err := CheckTarget(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	cfg := Defaults()
	cfg.Target = "http://10.1.2.3:8080"
	if _, err := Run(context.Background(), cfg, io.Discard); !errors.Is(err, ErrNotLoopback) {
		t.Fatalf("Run on 10.1.2.3: %v", err)
	}
}

func TestParseMix(t *testing.T) {
	m, err := ParseMix(" phq9, gad7 ,phq9+gad7+asq,")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(m)
	if string(got) != `[["phq9"],["gad7"],["phq9","gad7","asq"]]` {
		t.Fatalf("mix %s", got)
	}
	for _, bad := range []string{"", ",", "phq9++gad7", "+"} {
		if _, err := ParseMix(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if string(createPrefix(Battery{"phq9"}))+"}" != `{"instrument":"phq9"}` ||
		string(createPrefix(Battery{"phq9", "gad7"}))+"}" != `{"battery":["phq9","gad7"]}` {
		t.Fatal("create bodies")
	}
}

func TestAppendJSONString(t *testing.T) {
	for _, s := range []string{"", "abc", `q"uote\`, "tab\tnl\nctl\x01", "中文", "bad\xffutf8", "\u2028"} {
		var back string
		b := appendJSONString(nil, s)
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%q → %s: %v", s, b, err)
		}
		want := strings.ToValidUTF8(s, "\ufffd")
		if back != want {
			t.Fatalf("%q → %s → %q", s, b, back)
		}
	}
}

func TestRunBurstBaseline(t *testing.T) {
	f, rep := runAgainstFake(t, 20, 64, func(c *Config) { c.BaselineBurst = true })
	if rep.BaselineBurst == nil || rep.BaselineBurst.Count != 20 || f.pings.Load() != 20 || rep.BaselinePerS != nil {
		t.Fatalf("baseline_burst %+v, server saw %d pings, baseline_per_s %v", rep.BaselineBurst, f.pings.Load(), rep.BaselinePerS)
	}
	if len(rep.Errors) != 0 || rep.SessionsCompleted == 0 {
		t.Fatalf("errors %v, completed %d", rep.Errors, rep.SessionsCompleted)
	}
}
