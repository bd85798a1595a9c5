package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"xinling/store/sealed"
	"xinling/store/sqlite"
	"xinling/store/storetest"
)

// TestMain lets a test run this binary as `xinling` in a child process, so
// serve can be signalled and killed like the real thing.
func TestMain(m *testing.M) {
	if os.Getenv("XINLING_TEST_AS_MAIN") == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	// Every command that opens a store needs a data key; tests (and the
	// children they start, which inherit the environment) get a test key
	// unless they set their own. The refusals are tested with it unset.
	if os.Getenv(sealed.Env) == "" {
		os.Setenv(sealed.Env, storetest.TestKeySpec)
	}
	os.Exit(m.Run())
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

type child struct {
	cmd    *exec.Cmd
	stderr *bytes.Buffer
	base   string
}

// startServe runs `xinling serve` in a child and waits until it is ready.
func startServe(t *testing.T, env []string, args ...string) *child {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(os.Args[0], append([]string{"serve", "--addr", addr}, args...)...)
	cmd.Env = append(append(os.Environ(), "XINLING_TEST_AS_MAIN=1"), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, stderr: &stderr, base: "http://" + addr}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	// Generous: under -race on a loaded 2-core machine a start has taken
	// longer than 30 s.
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(c.base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return c
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Stop the child before reading what it wrote: it writes from another
	// goroutine while it runs.
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	t.Fatalf("serve did not become ready:\n%s", stderr.String())
	return nil
}

func post(t *testing.T, url, token, body string, out any) int {
	t.Helper()
	method := "POST"
	if strings.Contains(url, "/answers/") {
		method = "PUT"
	}
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		_ = json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

func TestServeShutsDownGracefullyAndKeepsAnswers(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	c := startServe(t, []string{"XINLING_DATA=" + data, sealed.Env + "=" + storetest.TestKeySpec})
	var sess struct{ ID, Token string }
	if code := post(t, c.base+"/api/v1/sessions", "", `{"instrument":"phq9","consent":true}`, &sess); code != 201 {
		t.Fatalf("create: %d", code)
	}
	for i := 1; i <= 3; i++ {
		if code := post(t, fmt.Sprintf("%s/api/v1/sessions/%s/answers/phq9.q%d", c.base, sess.ID, i), sess.Token, fmt.Sprintf(`{"value":2,"seq":%d}`, i), nil); code != 200 {
			t.Fatalf("answer %d: %d", i, code)
		}
	}
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Wait(); err != nil {
		t.Fatalf("serve did not exit cleanly on SIGTERM: %v\n%s", err, c.stderr.String())
	}
	if !strings.Contains(c.stderr.String(), "stopped") {
		t.Fatalf("no orderly stop in the log:\n%s", c.stderr.String())
	}
	st, err := sqlite.Open(context.Background(), data, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	answers, err := st.ListAnswers(context.Background(), sess.ID)
	if err != nil || len(answers) != 3 {
		t.Fatalf("after shutdown the store holds %v, %v; want the 3 acknowledged answers", answers, err)
	}
}

func TestServeRejectsBadSettings(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		env  []string
		args []string
		want string
	}{
		{[]string{"XINLING_SESSION_IDLE=soon"}, nil, `XINLING_SESSION_IDLE="soon" is not a duration`},
		{[]string{"XINLING_RATE_IP=lots"}, nil, `XINLING_RATE_IP="lots" is not a whole number`},
		{nil, []string{"--sla", "1h,2h"}, "--sla needs three durations"},
		{nil, []string{"--pprof-addr", "0.0.0.0:6060"}, "--pprof-addr must be a loopback address"},
		{nil, []string{"--nosuch"}, "flag provided but not defined"},
		{[]string{"XINLING_RETENTION_ANONYMOUS=24h"}, nil, "--retention-anonymous must be 0 (keep) or longer than --session-idle"},
		{[]string{sealed.Env + "="}, nil, sealed.Env + " is not set"},
		{[]string{sealed.Env + "=index:AAAA,k1:AAAA"}, nil, `key "index" must be 32 bytes`},
		{[]string{sealed.Env + "=" + storetest.TestKeySpec, "XINLING_DEV_KEY=maybe"}, nil, `XINLING_DEV_KEY="maybe" is not true or false`},
	} {
		t.Run(c.want, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], append([]string{"serve", "--data", t.TempDir()}, c.args...)...)
			cmd.Env = append(append(os.Environ(), "XINLING_TEST_AS_MAIN=1"), c.env...)
			out, err := cmd.CombinedOutput()
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !strings.Contains(string(out), c.want) {
				t.Errorf("%v %v: exit %v, output:\n%s\nwant exit 2 and %q", c.env, c.args, err, out, c.want)
			}
		})
	}
}

func TestServeHelpListsEverySetting(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(os.Args[0], "serve", "--help")
	cmd.Env = append(os.Environ(), "XINLING_TEST_AS_MAIN=1")
	out, _ := cmd.CombinedOutput()
	sc := bufio.NewScanner(bytes.NewReader(out))
	flags := 0
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "-") {
			flags++
			name := strings.Fields(strings.TrimPrefix(line, "-"))[0]
			if !strings.Contains(string(out), envName(name)) {
				t.Errorf("--%s has no environment variable in the help", name)
			}
		}
	}
	if flags < 10 {
		t.Fatalf("help lists %d flags:\n%s", flags, out)
	}
}
