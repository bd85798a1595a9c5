// Command measure-notify measures how long a level-1 warning takes to
// reach the on-duty staff (issue 16): the time from a respondent's submit
// to a webhook stand-in receiving the notification, over many submits.
//
//	go run ./scripts/measure-notify                 # 1,000 submits, 16 at a time
//	go run ./scripts/measure-notify -n 1000 -c 32 -bin bin/xinling
//
// It builds xinling (or takes -bin), makes a data directory whose root
// unit has one on-duty contact, a signed webhook served by this program,
// and starts `xinling serve` on it with the embedded store. Then -n
// anonymous PHQ-9 self-tests, -c at a time, each answered in one batch
// with item 9 positive and submitted: every submit files a level-1 entry
// in the root unit's queue and its notification in the outbox. The
// receiver verifies each request's signature and notes when it arrived.
// Once every notification has arrived (or -wait has passed) the server is
// stopped, the store maps each entry to its session, and the delay of each
// is the time from the submit request leaving here to the webhook request
// arriving here, on one clock. It prints p50, p90, p99 and the maximum,
// and how many submits were acknowledged and notifications received.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"xinling/notify"
	"xinling/store"
	"xinling/store/sealed"
	"xinling/store/sqlite"
)

func main() {
	n := flag.Int("n", 1000, "level-1 submits")
	c := flag.Int("c", 16, "respondents at once")
	bin := flag.String("bin", "", "the xinling binary (default: built from this checkout)")
	wait := flag.Duration("wait", 2*time.Minute, "longest wait for the last notification")
	keep := flag.Bool("keep", false, "keep the work directory (the store and the server's log)")
	flag.Parse()
	if err := run(*n, *c, *bin, *wait, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "measure-notify:", err)
		os.Exit(1)
	}
}

// receiver is the webhook of the root unit's on-duty contact.
type receiver struct {
	secret string
	mu     sync.Mutex
	at     map[string]time.Time // entry id → first arrival
	reqs   int
	bad    int
	got    chan struct{}
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	now := time.Now()
	body, _ := io.ReadAll(req.Body)
	var p notify.WebhookPayload
	if notify.VerifyWebhook(r.secret, req.Header, body, now, 0) != nil || json.Unmarshal(body, &p) != nil {
		r.mu.Lock()
		r.bad++
		r.mu.Unlock()
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	entry := p.Link[strings.LastIndexByte(p.Link, '/')+1:]
	r.mu.Lock()
	r.reqs++
	if _, seen := r.at[entry]; !seen && p.Kind == notify.KindWarningNew && p.Level == 1 {
		r.at[entry] = now
		r.got <- struct{}{}
	}
	r.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func newKey() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

func run(n, conc int, bin string, wait time.Duration, keep bool) error {
	work, err := os.MkdirTemp("", "xinling-notify-")
	if err != nil {
		return err
	}
	if keep {
		fmt.Println("work directory:", work)
	} else {
		defer os.RemoveAll(work)
	}
	if bin == "" {
		bin = filepath.Join(work, "xinling")
		build := exec.Command("go", "build", "-o", bin, "./cmd/xinling")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("build: %w", err)
		}
	}

	// The receiver, on this machine's loopback.
	rcv := &receiver{secret: newKey(), at: map[string]time.Time{}, got: make(chan struct{}, n+16)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hook := &http.Server{Handler: rcv, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hook.Serve(ln) }()
	defer hook.Close()

	// The store: one root unit, its webhook contact on duty at all hours.
	keySpec := "index:" + newKey() + ",k1:" + newKey()
	keys, err := sealed.ParseKeys(keySpec)
	if err != nil {
		return err
	}
	data := filepath.Join(work, "data")
	ctx := context.Background()
	db, err := sqlite.Open(ctx, data, sqlite.Options{})
	if err != nil {
		return err
	}
	st := sealed.Wrap(db, keys)
	if _, err := st.CreateUnit(ctx, store.Unit{ID: "city", Kind: "city", Name: "市心理健康中心", CreatedAt: time.Now()}); err != nil {
		return err
	}
	if _, err := st.PutNotifySettings(ctx, store.NotifySettings{UnitID: "city",
		Endpoints: []store.NotifyEndpoint{{Channel: store.ChannelWebhook, Address: store.Sealed("http://" + ln.Addr().String() + "/hook"), Secret: store.Sealed(rcv.secret)}},
		Contacts:  []store.NotifyContact{{ID: "hook", Name: "市平台", Channel: store.ChannelWebhook, Always: true}}}); err != nil {
		return err
	}
	if err := st.Close(); err != nil {
		return err
	}

	// The server.
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	logf, err := os.Create(filepath.Join(work, "serve.log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	srv := exec.Command(bin, "serve", "--data", data, "--addr", addr, "--rate-ip", "0", "--rate-token", "0", "--public-url", "http://"+addr)
	srv.Env = append(os.Environ(), sealed.Env+"="+keySpec)
	srv.Stdout, srv.Stderr = logf, logf
	if err := srv.Start(); err != nil {
		return err
	}
	defer func() { _ = srv.Process.Kill(); _ = srv.Wait() }()
	base := "http://" + addr
	if err := ready(base); err != nil {
		return err
	}

	// The load: n sessions, conc at a time.
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: conc}}
	var mu sync.Mutex
	submitted := map[string]time.Time{} // session id → submit sent
	var failures []string
	jobs := make(chan int)
	var wg sync.WaitGroup
	start := time.Now()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				id, at, err := respond(client, base)
				mu.Lock()
				if err != nil {
					failures = append(failures, err.Error())
				} else {
					submitted[id] = at
				}
				mu.Unlock()
			}
		}()
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	loadTime := time.Since(start)

	// Every notification in, or the wait is over.
	deadline := time.After(wait)
	for received := 0; received < len(submitted); received++ {
		select {
		case <-rcv.got:
		case <-deadline:
			received = len(submitted)
		}
	}
	_ = srv.Process.Signal(syscall.SIGTERM)
	_ = srv.Wait()

	// Entry → session, from the store.
	db, err = sqlite.Open(ctx, data, sqlite.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	var delays []time.Duration
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	pg := store.Page{Limit: store.MaxLimit}
	entries := 0
	for {
		ws, next, err := db.ListWarnings(ctx, store.WarningFilter{Levels: []int{1}}, pg)
		if err != nil {
			return err
		}
		for _, w := range ws {
			entries++
			sent, ok1 := submitted[w.SessionID]
			got, ok2 := rcv.at[w.ID]
			if ok1 && ok2 {
				delays = append(delays, got.Sub(sent))
			}
		}
		if next == "" {
			break
		}
		pg.After = next
	}
	slices.Sort(delays)
	pct := func(p float64) time.Duration {
		if len(delays) == 0 {
			return 0
		}
		return delays[min(len(delays)-1, int(float64(len(delays))*p))]
	}
	fmt.Printf("machine: %d CPUs, %s/%s; embedded store (sqlite) in %s\n", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, os.TempDir())
	fmt.Printf("load: %d level-1 submits, %d at a time, in %s (%.0f submits/s, each after creating the session and saving 9 answers)\n",
		n, conc, loadTime.Round(time.Millisecond), float64(len(submitted))/loadTime.Seconds())
	fmt.Printf("submits acknowledged %d, failed %d; level-1 entries %d; notifications received %d (requests %d, refused signatures %d)\n",
		len(submitted), len(failures), entries, len(rcv.at), rcv.reqs, rcv.bad)
	fmt.Printf("submit → webhook stand-in: p50 %s  p90 %s  p99 %s  max %s  (n=%d)\n",
		ms(pct(0.50)), ms(pct(0.90)), ms(pct(0.99)), ms(pct(1)), len(delays))
	if len(failures) > 0 {
		fmt.Println("first failure:", failures[0])
	}
	if len(delays) < n {
		return fmt.Errorf("%d of %d notifications measured", len(delays), n)
	}
	return nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000) }

// respond is one respondent: a PHQ-9 self-test answered in one batch, item
// 9 positive, then submitted. It returns the session id and when the
// submit request left.
func respond(c *http.Client, base string) (string, time.Time, error) {
	var sess struct{ ID, Token string }
	if err := call(c, "POST", base+"/api/v1/sessions", "", map[string]any{"instrument": "phq9", "consent": true}, &sess); err != nil {
		return "", time.Time{}, err
	}
	var answers []map[string]any
	for i := 1; i <= 9; i++ {
		answers = append(answers, map[string]any{"item": fmt.Sprintf("phq9.q%d", i), "value": 2, "seq": i})
	}
	if err := call(c, "POST", base+"/api/v1/sessions/"+sess.ID+"/answers", sess.Token, map[string]any{"answers": answers}, nil); err != nil {
		return "", time.Time{}, err
	}
	at := time.Now()
	var out struct{ Crisis any }
	if err := call(c, "POST", base+"/api/v1/sessions/"+sess.ID+"/submit", sess.Token, nil, &out); err != nil {
		return "", time.Time{}, err
	}
	if out.Crisis == nil {
		return "", time.Time{}, fmt.Errorf("submit %s raised no level-1 warning", sess.ID)
	}
	return sess.ID, at, nil
}

func call(c *http.Client, method, url, token string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, rd)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %d %s", method, url, resp.StatusCode, raw)
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

func ready(base string) error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("the server at %s did not become ready", base)
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
