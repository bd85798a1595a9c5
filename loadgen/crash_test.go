package loadgen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestCrashLosesNoAcknowledgedAnswer is issue 5's crash-safety check, end
// to end with the real binary: serve, drive load with an ack log, kill -9
// the server mid-load, restart it on the same data, let the load carry on,
// then `xinling verify` must find every acknowledged answer. Short by
// default (about 15 s) so that `make test` runs it; -short skips it, and
// XINLING_CRASHTEST_DURATION / XINLING_CRASHTEST_RESPONDENTS make it longer.
func TestCrashLosesNoAcknowledgedAnswer(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test builds and runs the server; skipped with -short")
	}
	dir := t.TempDir()
	bin := buildXinling(t)
	data := filepath.Join(dir, "data")
	acks := filepath.Join(dir, "acks.jsonl")
	addr := freeAddr(t)

	duration := envDuration("XINLING_CRASHTEST_DURATION", 8*time.Second)
	respondents := envInt("XINLING_CRASHTEST_RESPONDENTS", 300)

	srv := startServer(t, bin, data, addr, filepath.Join(dir, "serve1.log"))
	var out, errb bytes.Buffer
	load := exec.Command(bin, "loadtest", "--target", "http://"+addr, "--respondents", strconv.Itoa(respondents),
		"--ramp", "500ms", "--think", "20ms", "--duration", duration.String(), "--mix", "phq9,gad7,asq,phq9+gad7",
		"--ack-log", acks, "--timeout", "5s")
	load.Stdout, load.Stderr = &out, &errb
	if err := load.Start(); err != nil {
		t.Fatal(err)
	}
	// Mid-load: a third of the way in, with every respondent started.
	time.Sleep(duration / 3)
	if err := srv.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = srv.Wait()
	srv = startServer(t, bin, data, addr, filepath.Join(dir, "serve2.log"))
	if err := load.Wait(); err != nil {
		t.Fatalf("loadtest: %v\n%s", err, errb.String())
	}
	var rep Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("loadtest output: %v\n%s", err, out.String())
	}
	if err := srv.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_ = srv.Wait()
	t.Logf("acked %d answers, %d sessions completed, errors %v (the crash shows as transport errors)",
		rep.AnswersAcked, rep.SessionsCompleted, rep.Errors)
	if rep.AnswersAcked == 0 {
		t.Fatalf("no answer acknowledged: nothing was tested\n%s", out.String())
	}

	verify := exec.Command(bin, "verify", "--data", data, "--ack-log", acks)
	vout, err := verify.Output()
	var vr VerifyReport
	if jerr := json.Unmarshal(vout, &vr); jerr != nil {
		t.Fatalf("verify: %v, output %s", err, vout)
	}
	if err != nil || !vr.OK() || vr.Acked != rep.AnswersAcked {
		t.Fatalf("verify: %v: %s", err, vout)
	}
}

// built is the xinling binary that the tests of this package run whole,
// built once however many tests need it (TestMain removes it).
var built struct {
	once     sync.Once
	dir, bin string
	err      error
}

// buildXinling builds the command once per test binary.
func buildXinling(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool to build xinling with")
	}
	built.once.Do(func() {
		if built.dir, built.err = os.MkdirTemp("", "xinling-loadgen-"); built.err != nil {
			return
		}
		built.bin = filepath.Join(built.dir, "xinling")
		build := exec.Command(goBin, "build", "-o", built.bin, "./cmd/xinling")
		build.Dir = ".."
		if out, err := build.CombinedOutput(); err != nil {
			built.err = fmt.Errorf("build: %v\n%s", err, out)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.bin
}

func startServer(t *testing.T, bin, data, addr, logFile string) *exec.Cmd {
	t.Helper()
	// No rate limits: every respondent comes from 127.0.0.1.
	cmd := exec.Command(bin, "serve", "--data", data, "--addr", addr, "--rate-ip", "0", "--rate-token", "0", "--dev-key")
	return runServer(t, cmd, addr, logFile)
}

// runServer starts a serve command with its output in logFile and waits
// until it answers on addr. The test's end kills it if it still runs.
func runServer(t *testing.T, cmd *exec.Cmd, addr, logFile string) *exec.Cmd {
	t.Helper()
	logf, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logf.Close() })
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/api/v1/ping")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return cmd
			}
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logFile)
			t.Fatalf("server on %s not ready: %v\n%s", addr, err, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func envDuration(k string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(k)); err == nil && d > 0 {
		return d
	}
	return def
}

func envInt(k string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(k)); err == nil && n > 0 {
		return n
	}
	return def
}
