package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"xinling/notify/notifytest"
	"xinling/store"
	"xinling/store/sealed"
	"xinling/store/sqlite"
	"xinling/store/storetest"
)

// notifyData makes a data directory whose root unit sends its warnings to
// a webhook at hookURL, which is always on duty.
func notifyData(t *testing.T, hookURL, secret string) string {
	t.Helper()
	data := t.TempDir()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, data, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st := sealed.Wrap(db, storetest.TestKeys(t, storetest.TestKeySpec))
	if _, err := st.CreateUnit(ctx, store.Unit{ID: "city", Kind: "city", Name: "市心理健康中心", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.PutNotifySettings(ctx, store.NotifySettings{UnitID: "city",
		Endpoints: []store.NotifyEndpoint{{Channel: store.ChannelWebhook, Address: store.Sealed(hookURL), Secret: store.Sealed(secret)}},
		Contacts:  []store.NotifyContact{{ID: "hook", Name: "市平台", Channel: store.ChannelWebhook, Always: true}}}); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	return data
}

// raiseLevel1 answers PHQ-9 with item 9 positive and submits: the
// anonymous self-test's level-1 entry goes to the root unit.
func raiseLevel1(t *testing.T, c *child) {
	t.Helper()
	var sess struct{ ID, Token string }
	if code := post(t, c.base+"/api/v1/sessions", "", `{"instrument":"phq9","consent":true}`, &sess); code != 201 {
		t.Fatalf("create: %d", code)
	}
	for i := 1; i <= 9; i++ {
		if code := post(t, fmt.Sprintf("%s/api/v1/sessions/%s/answers/phq9.q%d", c.base, sess.ID, i), sess.Token, fmt.Sprintf(`{"value":2,"seq":%d}`, i), nil); code != 200 {
			t.Fatalf("answer %d: %d", i, code)
		}
	}
	var out struct{ Crisis any }
	if code := post(t, c.base+"/api/v1/sessions/"+sess.ID+"/submit", sess.Token, "", &out); code != 200 || out.Crisis == nil {
		t.Fatalf("submit: %d %v", code, out)
	}
}

func waitFor(t *testing.T, what string, within time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func kill9(t *testing.T, c *child) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = c.cmd.Wait()
}

// notifyFlags make a killed server's leases run out soon.
var notifyCrashFlags = []string{"--notify-send-timeout", "5s", "--notify-lease", "10s", "--notify-backoff", "1s", "--notify-poll", "200ms", "--rate-ip", "0"}

// A server killed with SIGKILL after the warning's commit and before its
// notification was delivered: the notification is in the outbox, durable
// with the warning, and the restarted server delivers it, exactly once.
// Two points of death: with the message on the wire (the webhook holds
// the request unanswered), and with the receiver down (the first attempt
// failed and waits for its retry).
func TestKilledServerDeliversOnceAfterRestart(t *testing.T) {
	t.Parallel()
	t.Run("mid-send", func(t *testing.T) {
		t.Parallel()
		hook := notifytest.NewWebhook(t)
		hook.FailNext(1, notifytest.Fault{Hang: true})
		data := notifyData(t, hook.URL, hook.Secret)
		env := []string{"XINLING_DATA=" + data}
		c := startServe(t, env, notifyCrashFlags...)
		raiseLevel1(t, c)
		waitFor(t, "the message on the wire", 30*time.Second, func() bool { return len(hook.Received()) == 1 })
		kill9(t, c)
		if n := len(hook.Delivered()); n != 0 {
			t.Fatalf("%d delivered before the kill", n)
		}
		c = startServe(t, env, notifyCrashFlags...)
		waitFor(t, "the delivery after restart", 60*time.Second, func() bool { return len(hook.Delivered()) == 1 })
		time.Sleep(2 * time.Second) // room for a second delivery, if there were one
		checkOnce(t, hook)
		kill9(t, c)
	})
	t.Run("receiver-down", func(t *testing.T) {
		t.Parallel()
		hook := notifytest.NewWebhook(t)
		// The webhook's address, where nothing listens until the restart.
		addr := freeAddr(t)
		target, _ := url.Parse(hook.URL)
		data := notifyData(t, "http://"+addr+target.Path, hook.Secret)
		env := []string{"XINLING_DATA=" + data, "XINLING_METRICS_TOKEN=crash-test-token-0123"}
		c := startServe(t, env, notifyCrashFlags...)
		raiseLevel1(t, c)
		waitFor(t, "a failed attempt", 30*time.Second, func() bool {
			return scrapeCount(c.base, `xinling_notifications_failed_total{channel="webhook",outcome="retry"}`) >= 1
		})
		kill9(t, c)
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		relay := &http.Server{Handler: httputil.NewSingleHostReverseProxy(&url.URL{Scheme: target.Scheme, Host: target.Host})}
		go func() { _ = relay.Serve(ln) }()
		t.Cleanup(func() { _ = relay.Close() })
		c = startServe(t, env, notifyCrashFlags...)
		waitFor(t, "the delivery after restart", 60*time.Second, func() bool { return len(hook.Delivered()) == 1 })
		time.Sleep(2 * time.Second)
		checkOnce(t, hook)
		kill9(t, c)
	})
}

// checkOnce: one message accepted, every request with the same key.
func checkOnce(t *testing.T, hook *notifytest.Webhook) {
	t.Helper()
	keys := map[string]bool{}
	for _, r := range hook.Received() {
		keys[r.IdempotencyKey] = true
	}
	if n := len(hook.Delivered()); n != 1 || len(keys) != 1 || len(hook.Unique()) != 1 {
		t.Fatalf("%d delivered, %d keys over %d requests", n, len(keys), len(hook.Received()))
	}
	if p := hook.Unique()[0]; p.Level != 1 || p.Unit != "市心理健康中心" {
		t.Fatalf("payload %+v", p)
	}
}

// scrapeCount reads one sample of the main listener's /metrics.
func scrapeCount(base, series string) float64 {
	req, _ := http.NewRequest("GET", base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer crash-test-token-0123")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			v, _ := strconv.ParseFloat(rest, 64)
			return v
		}
	}
	return 0
}
