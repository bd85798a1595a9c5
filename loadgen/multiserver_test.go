package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"xinling/store"
	"xinling/store/mongo"
	"xinling/store/sealed"
)

// Issue 15: several `xinling serve` on one MongoDB-wire store, behind a
// balancer without sticky sessions, survive the loss of one of them. These
// tests run the real binary against the server at XINLING_TEST_MONGO_URI,
// each in a database of its own that it drops at the end;
// `make test-multiserver` starts FerretDB for them.

// feedInterval is every server's --queue-feed: how often it polls the store
// for queue changes other servers made.
const feedInterval = time.Second

// cluster is one store and the servers on it.
type cluster struct {
	t   *testing.T
	bin string
	dir string
	env []string // the store and the data keys, the same for every process
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs several servers; skipped with -short")
	}
	uri := os.Getenv("XINLING_TEST_MONGO_URI")
	if uri == "" {
		t.Skip("XINLING_TEST_MONGO_URI is not set: the several-servers tests need a MongoDB-wire server " +
			"(make test-multiserver starts FerretDB for them)")
	}
	name := "xl_test_" + store.NewID()[:12]
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		db, err := mongo.Open(ctx, uri, name)
		if err != nil {
			t.Errorf("dropping %s: %v", name, err)
			return
		}
		if err := db.Drop(ctx); err != nil {
			t.Errorf("dropping %s: %v", name, err)
		}
		_ = db.Close()
	})
	c := &cluster{t: t, bin: buildXinling(t), dir: t.TempDir()}
	// Every server must read what any other sealed: one set of keys.
	c.env = append(os.Environ(), sealed.Env+"="+sealed.NewSpec("k1"), "XINLING_MONGO_URI="+uri, "XINLING_MONGO_DB="+name)
	return c
}

func (c *cluster) command(args ...string) *exec.Cmd {
	cmd := exec.Command(c.bin, args...)
	cmd.Env = c.env
	return cmd
}

// seed creates the demo org tree, whose only root receives anonymous
// self-tests' warnings, and returns the demo admin's one-time password.
func (c *cluster) seed() string {
	c.t.Helper()
	out, err := c.command("demo").CombinedOutput()
	if err != nil {
		c.t.Fatalf("demo: %v\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 2 && f[0] == "demo-admin" {
			return f[len(f)-1]
		}
	}
	c.t.Fatalf("demo printed no demo-admin sign-in:\n%s", out)
	return ""
}

// serve starts a server on a free loopback port and returns it with its
// base URL.
func (c *cluster) serve(name string) (*exec.Cmd, string) {
	c.t.Helper()
	addr := freeAddr(c.t)
	// No rate limits: every respondent comes from 127.0.0.1.
	cmd := c.command("serve", "--addr", addr, "--data", filepath.Join(c.dir, name), "--rate-ip", "0", "--rate-token", "0",
		"--rate-login", "0", "--queue-feed", feedInterval.String(), "--log-level", "warn")
	return runServer(c.t, cmd, addr, filepath.Join(c.dir, name+".log")), "http://" + addr
}

func (c *cluster) stop(srv *exec.Cmd) {
	c.t.Helper()
	if err := srv.Process.Signal(syscall.SIGTERM); err != nil {
		c.t.Fatal(err)
	}
	_ = srv.Wait()
}

func (c *cluster) logs(names ...string) string {
	var b strings.Builder
	for _, n := range names {
		log, _ := os.ReadFile(filepath.Join(c.dir, n+".log"))
		fmt.Fprintf(&b, "--- %s.log\n%s", n, log)
	}
	return b.String()
}

// TestMultiServerSurvivesCrash drives respondents against three servers
// of one store, round-robin per request, kills one with SIGKILL a third of
// the way in, and lets the respondents carry on against the other two:
// requests the dead server refused or dropped go to the next one. Then
// `xinling verify` must find every acknowledged answer, one result per
// instrument of every acknowledged submit, and one queue entry for every
// submitted session whose answers raise a warning (none for the others).
// XINLING_MULTISERVER_DURATION and XINLING_MULTISERVER_RESPONDENTS make it
// longer or heavier.
func TestMultiServerSurvivesCrash(t *testing.T) {
	c := newCluster(t)
	c.seed()
	duration := envDuration("XINLING_MULTISERVER_DURATION", 12*time.Second)
	respondents := envInt("XINLING_MULTISERVER_RESPONDENTS", 20)
	a, urlA := c.serve("a")
	b, urlB := c.serve("b")
	cc, urlC := c.serve("c")

	acks, subs := filepath.Join(c.dir, "acks.jsonl"), filepath.Join(c.dir, "submits.jsonl")
	var out, errb bytes.Buffer
	// phq9 raises a level-1 warning whenever item 9 is above 0 (3 answers
	// in 4), gad7 level 2 or 3 warnings on high totals, the battery both.
	load := c.command("loadtest", "--target", urlA, "--target", urlB+","+urlC, "--respondents", strconv.Itoa(respondents),
		"--ramp", "1s", "--think", "200ms", "--duration", duration.String(), "--mix", "phq9,gad7,phq9+gad7",
		"--ack-log", acks, "--submit-log", subs, "--timeout", "30s")
	load.Stdout, load.Stderr = &out, &errb
	if err := load.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(duration / 3)
	if err := b.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = b.Wait()
	killedAt := time.Now()
	if err := load.Wait(); err != nil {
		t.Fatalf("loadtest: %v\n%s", err, errb.String())
	}
	var rep Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("loadtest output: %v\n%s", err, out.String())
	}
	c.stop(a)
	c.stop(cc)
	t.Logf("acked %d answers and %d submits (%.0f answers/s; answer p50 %.0f ms, p99 %.0f ms; submit p99 %.0f ms), %d failovers, errors %v; per server: %+v",
		rep.AnswersAcked, rep.SessionsCompleted, rep.AnswersPerS, rep.Endpoints["answer"].P50MS, rep.Endpoints["answer"].P99MS,
		rep.Endpoints["submit"].P99MS, rep.Failovers, rep.Errors, rep.Targets)

	// The load went on: the other two kept taking answers after the kill.
	if rep.AnswersAcked == 0 || rep.SessionsCompleted == 0 || rep.WarningsExpected == 0 {
		t.Fatalf("too little happened to check:\n%s\n%s", out.String(), c.logs("a", "b", "c"))
	}
	if time.Since(killedAt) < duration/3 {
		t.Fatalf("the load ended %v after the kill", time.Since(killedAt))
	}
	// The kill was mid-load: B's requests failed from then on and went
	// elsewhere. No respondent saw an error.
	if rep.Failovers == 0 || rep.Targets[1].Errors["transport"] == 0 {
		t.Fatalf("the killed server shows no failed requests: %+v", rep.Targets)
	}
	if len(rep.Errors) != 0 || len(rep.Targets[0].Errors) != 0 || len(rep.Targets[2].Errors) != 0 {
		t.Fatalf("errors %v, per server %+v\n%s", rep.Errors, rep.Targets, c.logs("a", "b", "c"))
	}
	if rep.WarningsUnexpected != 0 || rep.WarningsConfirmed != rep.WarningsExpected {
		t.Fatalf("crisis blocks: expected %d, confirmed %d, unexpected %d", rep.WarningsExpected, rep.WarningsConfirmed, rep.WarningsUnexpected)
	}

	vout, err := c.command("verify", "--ack-log", acks, "--submit-log", subs).Output()
	var vr VerifyReport
	if jerr := json.Unmarshal(vout, &vr); jerr != nil || vr.Submits == nil {
		t.Fatalf("verify: %v, output %s", err, vout)
	}
	t.Logf("verify: %d answers in %d sessions, %d submits of which %d raise a warning, %d submitted sessions checked",
		vr.Acked, vr.Sessions, vr.Submits.Sessions, vr.Submits.Warned, vr.Submits.Checked)
	if err != nil || !vr.OK() || vr.Acked != rep.AnswersAcked || int64(vr.Submits.Sessions) != rep.SessionsCompleted || vr.Submits.Warned == 0 {
		t.Fatalf("verify: %v: %s", err, vout)
	}
}

// TestMultiServerQueueFeedReachesOtherConsoles: a console signed in on
// server A sees a level-1 warning submitted through server C within the
// change-feed interval plus one second (issue 15). The delay is logged.
func TestMultiServerQueueFeedReachesOtherConsoles(t *testing.T) {
	c := newCluster(t)
	otp := c.seed()
	a, urlA := c.serve("a")
	cc, urlC := c.serve("c")
	defer c.stop(a)
	defer c.stop(cc)

	// The console: sign in on A with the one-time password, choose a
	// password of one's own (nothing else is allowed before), open the
	// live queue.
	jar, _ := cookiejar.New(nil)
	staff := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	var login struct {
		CSRF string `json:"csrf"`
	}
	postJSON(t, staff, urlA+"/api/v1/auth/login", "", map[string]string{"login": "demo-admin", "password": otp}, &login)
	postJSON(t, staff, urlA+"/api/v1/auth/password", login.CSRF,
		map[string]string{"old_password": otp, "new_password": "several servers, one queue"}, nil)
	req, _ := http.NewRequest("GET", urlA+"/api/v1/warnings/stream", nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, err := (&http.Client{Jar: jar}).Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()
	if stream.StatusCode != 200 {
		b, _ := io.ReadAll(stream.Body)
		t.Fatalf("stream: %d %s", stream.StatusCode, b)
	}
	type event struct {
		data string
		at   time.Time
	}
	events := make(chan event, 16)
	connected := make(chan struct{})
	go func() {
		defer close(events)
		sc := bufio.NewScanner(stream.Body)
		for sc.Scan() {
			switch l := sc.Text(); {
			case strings.HasPrefix(l, ": connected"):
				close(connected)
			case strings.HasPrefix(l, "data: "):
				events <- event{l, time.Now()}
			}
		}
	}()
	select {
	case <-connected:
	case <-time.After(10 * time.Second):
		t.Fatal("the stream did not open")
	}

	// A resident's self-test on C with item 9 positive: level 1.
	var sess struct {
		ID    string `json:"id"`
		Token string `json:"token"`
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	resident := &http.Client{Timeout: 30 * time.Second}
	postJSON(t, resident, urlC+"/api/v1/sessions", "", map[string]any{"instrument": "phq9", "sex": "f", "age": 30, "consent": true}, &sess)
	if len(sess.Items) != 9 {
		t.Fatalf("phq9 session with %d items", len(sess.Items))
	}
	for i, it := range sess.Items {
		v := 0
		if i == 8 {
			v = 2
		}
		sendJSON(t, resident, "PUT", urlC+"/api/v1/sessions/"+sess.ID+"/answers/"+it.ID, sess.Token, map[string]int{"value": v, "seq": i + 1}, nil)
	}
	var sub struct {
		Crisis json.RawMessage `json:"crisis"`
	}
	sendJSON(t, resident, "POST", urlC+"/api/v1/sessions/"+sess.ID+"/submit", sess.Token, nil, &sub)
	submitted := time.Now()
	if len(sub.Crisis) == 0 || string(sub.Crisis) == "null" {
		t.Fatal("no crisis block for item 9 positive")
	}

	bound := feedInterval + time.Second
	deadline := time.After(bound + 10*time.Second) // wait past the bound, to report how late it was
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("the stream closed")
			}
			if !strings.Contains(ev.data, `"session_id":"`+sess.ID+`"`) {
				continue
			}
			if !strings.Contains(ev.data, `"level":1`) {
				t.Fatalf("event for the session is not level 1: %s", ev.data)
			}
			delay := ev.at.Sub(submitted)
			t.Logf("the level-1 entry submitted through C reached A's console %v after the submit returned (feed every %v)", delay, feedInterval)
			if delay > bound {
				t.Fatalf("it took %v, more than the feed interval plus one second (%v)", delay, bound)
			}
			return
		case <-deadline:
			t.Fatalf("no event on A's console %v after the submit on C\n%s", bound+10*time.Second, c.logs("a", "c"))
		}
	}
}

func postJSON(t *testing.T, hc *http.Client, url, csrf string, body, out any) {
	t.Helper()
	req := newJSONRequest(t, "POST", url, body)
	if csrf != "" {
		req.Header.Set("X-CSRF-Token", csrf)
	}
	doJSON(t, hc, req, out)
}

func sendJSON(t *testing.T, hc *http.Client, method, url, bearer string, body, out any) {
	t.Helper()
	req := newJSONRequest(t, method, url, body)
	req.Header.Set("Authorization", "Bearer "+bearer)
	doJSON(t, hc, req, out)
}

func newJSONRequest(t *testing.T, method, url string, body any) *http.Request {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

func doJSON(t *testing.T, hc *http.Client, req *http.Request, out any) {
	t.Helper()
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("%s %s: %d %s", req.Method, req.URL.Path, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v: %s", req.Method, req.URL.Path, err, b)
		}
	}
}
