package loadgen

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func testTargetSet(t *testing.T, pick string, raw ...string) *targetSet {
	t.Helper()
	var urls []*url.URL
	for _, r := range raw {
		u, err := CheckTarget(r)
		if err != nil {
			t.Fatal(err)
		}
		urls = append(urls, u)
	}
	return newTargetSet(urls, raw, pick, 1, time.Second)
}

func TestPickSpreadsRequestsWithoutStickiness(t *testing.T) {
	raw := []string{"http://127.0.0.1:1", "http://127.0.0.1:2", "http://127.0.0.1:3"}
	rr := testTargetSet(t, PickRoundRobin, raw...)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 300 {
		if got := rr.pick(rng); got != i%3 {
			t.Fatalf("round-robin pick %d = %d, want %d", i, got, i%3)
		}
	}
	// The default (an empty Pick) is round-robin.
	if def := testTargetSet(t, "", raw...); def.random {
		t.Fatal("default pick is random")
	}
	random := testTargetSet(t, PickRandom, raw...)
	counts := make([]int, 3)
	same := 0
	last := -1
	for range 3000 {
		i := random.pick(rng)
		counts[i]++
		if i == last {
			same++
		}
		last = i
	}
	for i, n := range counts {
		if n < 850 || n > 1150 {
			t.Errorf("random pick: target %d got %d of 3000", i, n)
		}
	}
	// Independent picks repeat the last target about a third of the time;
	// a sticky picker would repeat it nearly always.
	if same < 850 || same > 1150 {
		t.Errorf("random pick repeated the previous target %d times of 3000", same)
	}
	if one := testTargetSet(t, PickRandom, raw[0]); one.pick(rng) != 0 {
		t.Fatal("one target")
	}
}

func TestParseTargets(t *testing.T) {
	got, err := ParseTargets([]string{"http://127.0.0.1:1, http://127.0.0.1:2", "http://localhost:3"})
	if err != nil || strings.Join(got, " ") != "http://127.0.0.1:1 http://127.0.0.1:2 http://localhost:3" {
		t.Fatalf("%q, %v", got, err)
	}
	if _, err := ParseTargets([]string{"http://127.0.0.1:1", "http://10.0.0.1:2"}); !errors.Is(err, ErrNotLoopback) {
		t.Fatalf("an address off this machine among several: %v", err)
	}
	for _, bad := range [][]string{nil, {""}, {" , "}, {"http://127.0.0.1:1,http://127.0.0.1:1"}} {
		if _, err := ParseTargets(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	cfg := Defaults()
	cfg.Targets = []string{"http://127.0.0.1:1", "http://192.168.0.1:2"}
	if _, err := Run(context.Background(), cfg, io.Discard); !errors.Is(err, ErrNotLoopback) {
		t.Fatalf("Run with 192.168.0.1 among its targets: %v", err)
	}
	cfg.Targets, cfg.Pick = nil, "sticky"
	if _, err := Run(context.Background(), cfg, io.Discard); err == nil || !strings.Contains(err.Error(), "--pick") {
		t.Fatalf("Run with pick sticky: %v", err)
	}
}

// server is one of several httptest servers in front of one fakeAPI (one
// store), counting what it served and which sessions it saw.
type server struct {
	srv      *httptest.Server
	served   atomic.Int64
	mu       sync.Mutex
	sessions map[string]bool
	// drop, when set, may take a request over: it decides from the
	// endpoint and its count on this server whether the connection is
	// closed without a response, before the handler runs (the request is
	// lost) or after it (the write is done, the response is lost).
	drop func(endpoint string, n int64) (before, after bool)
	n    sync.Map // endpoint → *atomic.Int64
}

func newServer(t *testing.T, h http.Handler) *server {
	s := &server{sessions: map[string]bool{}}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.served.Add(1)
		ep := endpointOf(r)
		if id, ok := strings.CutPrefix(r.URL.Path, "/api/v1/sessions/"); ok {
			id, _, _ = strings.Cut(id, "/")
			s.mu.Lock()
			s.sessions[id] = true
			s.mu.Unlock()
		}
		if s.drop != nil {
			c, _ := s.n.LoadOrStore(ep, new(atomic.Int64))
			before, after := s.drop(ep, c.(*atomic.Int64).Add(1))
			if after {
				h.ServeHTTP(httptest.NewRecorder(), r)
			}
			if before || after {
				conn, _, err := http.NewResponseController(w).Hijack()
				if err != nil {
					t.Error(err)
					return
				}
				conn.Close()
				return
			}
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func endpointOf(r *http.Request) string {
	switch {
	case r.Method == "POST" && r.URL.Path == "/api/v1/sessions":
		return "create"
	case r.Method == "PUT":
		return "answer"
	case strings.HasSuffix(r.URL.Path, "/submit"):
		return "submit"
	case r.Method == "GET" && strings.HasPrefix(r.URL.Path, "/api/v1/sessions/"):
		return "get"
	}
	return "other"
}

func readSubmitLog(t *testing.T, path string) []SubmitLine {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []SubmitLine
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var s SubmitLine
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatalf("submit log line %q: %v", sc.Text(), err)
		}
		out = append(out, s)
	}
	return out
}

// checkLogs holds the ack and submit logs against the fake store: every
// acked answer is stored with its seq and value and acked once, and every
// acked submit is a submitted session whose crisis matches the expected
// level.
func checkLogs(t *testing.T, f *fakeAPI, rep *Report, ackPath, subPath string) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	acks := readAckLog(t, ackPath)
	if int64(len(acks)) != rep.AnswersAcked || rep.AnswersAcked != f.saved.Load() {
		t.Fatalf("%d acks logged, %d reported, the store saved %d", len(acks), rep.AnswersAcked, f.saved.Load())
	}
	seen := map[[2]string]bool{}
	for _, a := range acks {
		s := f.sessions[a.Session]
		if s == nil {
			t.Fatalf("ack for unknown session: %+v", a)
		}
		if st, ok := s.answers[a.Item]; !ok || st.seq != a.Seq || st.value != a.Value {
			t.Fatalf("ack %+v, store holds %+v (present %v)", a, st, ok)
		}
		if k := [2]string{a.Session, a.Item}; seen[k] {
			t.Fatalf("answer acked twice: %+v", a)
		} else {
			seen[k] = true
		}
	}
	subs := readSubmitLog(t, subPath)
	if int64(len(subs)) != rep.SessionsCompleted {
		t.Fatalf("%d submits logged, %d reported", len(subs), rep.SessionsCompleted)
	}
	for _, s := range subs {
		fs := f.sessions[s.Session]
		if fs == nil || !fs.submitted {
			t.Fatalf("acked submit of a session the store does not hold submitted: %+v", s)
		}
		if s.Warning < 0 || (s.Warning == 1) != fs.crisis || s.Crisis != fs.crisis {
			t.Fatalf("submit %+v, store's crisis %v", s, fs.crisis)
		}
	}
}

// TestRunSpreadsRequestsOverTargets: three servers of one store each get a
// third of the requests, the report's per-target counts are what each
// served, and respondents' sessions hop between servers.
func TestRunSpreadsRequestsOverTargets(t *testing.T) {
	f := testLibrary(t)
	var srvs []*server
	var targets []string
	for range 3 {
		s := newServer(t, f.handler())
		srvs = append(srvs, s)
		targets = append(targets, s.srv.URL)
	}
	dir := t.TempDir()
	ackPath, subPath := filepath.Join(dir, "acks.jsonl"), filepath.Join(dir, "submits.jsonl")
	cfg := Config{Targets: targets, Respondents: 20, Ramp: 50 * time.Millisecond, Think: 2 * time.Millisecond,
		Duration: time.Second, Mix: mustMix(t, "phq9,gad7+asq"), AckLog: ackPath, SubmitLog: subPath,
		Conns: 8, Timeout: 10 * time.Second, Seed: 3}
	rep, err := Run(context.Background(), cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Errors) != 0 || rep.Failovers != 0 || rep.SessionsCompleted == 0 {
		t.Fatalf("errors %v, failovers %d, completed %d", rep.Errors, rep.Failovers, rep.SessionsCompleted)
	}
	if rep.Target != strings.Join(targets, ",") || len(rep.Targets) != 3 {
		t.Fatalf("report names %q, %d targets", rep.Target, len(rep.Targets))
	}
	var sum int64
	for i, tr := range rep.Targets {
		if tr.Target != targets[i] || tr.Requests != srvs[i].served.Load() || len(tr.Errors) != 0 {
			t.Errorf("target %d: %+v, server served %d", i, tr, srvs[i].served.Load())
		}
		sum += tr.Requests
		// Round-robin over every request of every worker: the shares differ by one at most.
		if d := tr.Requests - rep.Generator.Requests/3; d < 0 || d > 1 {
			t.Errorf("target %d served %d of %d requests", i, tr.Requests, rep.Generator.Requests)
		}
	}
	if sum != rep.Generator.Requests {
		t.Fatalf("targets served %d requests, generator sent %d", sum, rep.Generator.Requests)
	}
	// No stickiness: a session's requests go to whichever server is next.
	hops := 0
	for id := range f.sessions {
		n := 0
		for _, s := range srvs[:] {
			if s.sessions[id] {
				n++
			}
		}
		if n > 1 {
			hops++
		}
	}
	if hops*2 < len(f.sessions) {
		t.Fatalf("only %d of %d sessions used more than one server", hops, len(f.sessions))
	}
	checkLogs(t, f, rep, ackPath, subPath)
}

// TestRunFailsOverFromDeadTarget: one target refuses every connection
// (its server is down); every request it gets goes on to the next, and no
// respondent notices.
func TestRunFailsOverFromDeadTarget(t *testing.T) {
	f := testLibrary(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String()
	l.Close()
	a, b := newServer(t, f.handler()), newServer(t, f.handler())
	dir := t.TempDir()
	ackPath, subPath := filepath.Join(dir, "acks.jsonl"), filepath.Join(dir, "submits.jsonl")
	for _, pick := range []string{PickRoundRobin, PickRandom} {
		cfg := Config{Targets: []string{dead, a.srv.URL, b.srv.URL}, Pick: pick, Respondents: 10, Think: 2 * time.Millisecond,
			Duration: 500 * time.Millisecond, Mix: mustMix(t, "phq9"), AckLog: ackPath, SubmitLog: subPath,
			Conns: 4, Timeout: 10 * time.Second, Seed: 5}
		rep, err := Run(context.Background(), cfg, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		d := rep.Targets[0]
		if len(rep.Errors) != 0 || rep.Failovers == 0 || d.Requests != rep.Failovers || d.Errors["transport"] != d.Requests || len(d.Errors) != 1 {
			t.Fatalf("%s: errors %v, failovers %d, dead target %+v", pick, rep.Errors, rep.Failovers, d)
		}
		if served := a.served.Load() + b.served.Load(); rep.Targets[1].Requests+rep.Targets[2].Requests != served {
			t.Fatalf("%s: live targets report %d, served %d", pick, rep.Targets[1].Requests+rep.Targets[2].Requests, served)
		}
		a.served.Store(0)
		b.served.Store(0)
		if rep.SessionsCompleted == 0 {
			t.Fatalf("%s: nothing completed", pick)
		}
	}
	// Both runs appended to the same logs.
	rep := &Report{}
	rep.AnswersAcked = int64(len(readAckLog(t, ackPath)))
	rep.SessionsCompleted = int64(len(readSubmitLog(t, subPath)))
	checkLogs(t, f, rep, ackPath, subPath)
}

// TestRunFailsOverWhenServerDropsConnection: a server that dies mid-request
// either never did the write (the request is lost) or did it and never
// answered. The request goes again to another server: an answer with the
// same seq is a replay there and a submit replays its outcome, so every
// acknowledged answer and submit is in the store exactly once, and an answer
// is logged only once acknowledged.
func TestRunFailsOverWhenServerDropsConnection(t *testing.T) {
	f := testLibrary(t)
	a, b := newServer(t, f.handler()), newServer(t, f.handler())
	var droppedBefore, droppedAfter atomic.Int64
	b.drop = func(ep string, n int64) (bool, bool) {
		switch {
		case ep != "answer" && ep != "submit" && ep != "create" && ep != "get":
		case n%3 == 0:
			droppedAfter.Add(1)
			return false, true
		case n%4 == 0:
			droppedBefore.Add(1)
			return true, false
		}
		return false, false
	}
	dir := t.TempDir()
	ackPath, subPath := filepath.Join(dir, "acks.jsonl"), filepath.Join(dir, "submits.jsonl")
	cfg := Config{Targets: []string{a.srv.URL, b.srv.URL}, Respondents: 12, Ramp: 20 * time.Millisecond, Think: 2 * time.Millisecond,
		Duration: time.Second, Mix: mustMix(t, "phq9,asq,gad7+phq9"), AckLog: ackPath, SubmitLog: subPath,
		Conns: 6, Timeout: 10 * time.Second, Seed: 9}
	rep, err := Run(context.Background(), cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if droppedAfter.Load() == 0 || droppedBefore.Load() == 0 {
		t.Fatal("nothing dropped: run too short to test")
	}
	if len(rep.Errors) != 0 || rep.Failovers != droppedAfter.Load()+droppedBefore.Load() {
		t.Fatalf("errors %v, failovers %d, dropped %d before and %d after the write",
			rep.Errors, rep.Failovers, droppedBefore.Load(), droppedAfter.Load())
	}
	if rep.Targets[1].Errors["transport"] != rep.Failovers || len(rep.Targets[0].Errors) != 0 {
		t.Fatalf("per-target errors %+v", rep.Targets)
	}
	if rep.WarningsUnexpected != 0 || rep.WarningsConfirmed != rep.WarningsExpected || rep.WarningsExpected == 0 {
		t.Fatalf("warnings: expected %d, confirmed %d, unexpected %d", rep.WarningsExpected, rep.WarningsConfirmed, rep.WarningsUnexpected)
	}
	checkLogs(t, f, rep, ackPath, subPath)
}

// TestRunSurvivesServerDeathMidLoad closes one of two servers while the
// load runs: requests in flight there and every later one it gets go on to
// the other, with nothing lost.
func TestRunSurvivesServerDeathMidLoad(t *testing.T) {
	f := testLibrary(t)
	a, b := newServer(t, f.handler()), newServer(t, f.handler())
	dir := t.TempDir()
	ackPath, subPath := filepath.Join(dir, "acks.jsonl"), filepath.Join(dir, "submits.jsonl")
	cfg := Config{Targets: []string{a.srv.URL, b.srv.URL}, Respondents: 20, Think: 2 * time.Millisecond,
		Duration: 1500 * time.Millisecond, Mix: mustMix(t, "phq9,gad7"), AckLog: ackPath, SubmitLog: subPath,
		Conns: 8, Timeout: 10 * time.Second, Seed: 11}
	go func() {
		for f.saved.Load() < 200 {
			time.Sleep(time.Millisecond)
		}
		// The listener first, so that nothing reconnects, then every
		// connection, busy or idle, as a killed process's would close.
		b.srv.Listener.Close()
		b.srv.CloseClientConnections()
	}()
	rep, err := Run(context.Background(), cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Errors) != 0 || rep.Failovers == 0 || rep.Targets[1].Errors["transport"] != rep.Failovers {
		t.Fatalf("errors %v, failovers %d, targets %+v", rep.Errors, rep.Failovers, rep.Targets)
	}
	checkLogs(t, f, rep, ackPath, subPath)
}

// TestRunWithEveryTargetDown: a request is tried once on each server, then
// fails as a transport error, and nothing is acknowledged.
func TestRunWithEveryTargetDown(t *testing.T) {
	var targets []string
	for range 2 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		targets = append(targets, "http://"+l.Addr().String())
		l.Close()
	}
	ackPath := filepath.Join(t.TempDir(), "acks.jsonl")
	cfg := Config{Targets: targets, Respondents: 3, Think: time.Millisecond, Duration: 250 * time.Millisecond,
		Mix: mustMix(t, "phq9"), AckLog: ackPath, Conns: 3, Timeout: time.Second}
	rep, err := Run(context.Background(), cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	n := rep.Errors["transport"]
	if n == 0 || len(rep.Errors) != 1 || rep.Failovers != n || rep.Generator.Requests != 2*n || rep.SessionsStarted != 0 {
		t.Fatalf("errors %v, failovers %d, requests %d, started %d", rep.Errors, rep.Failovers, rep.Generator.Requests, rep.SessionsStarted)
	}
	if acks := readAckLog(t, ackPath); len(acks) != 0 {
		t.Fatalf("%d answers acked with every server down", len(acks))
	}
}
