package loadgen

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// The overhead check runs the generator in this process and a fake API in
// a child process (this test binary again, see TestMain), so that the
// generator's CPU figure (getrusage of this process) holds nothing of the
// server's. It is a measurement, not a test, and runs only when asked:
//
//	XINLING_LOADGEN_OVERHEAD=1 go test -run Overhead -v ./loadgen
//
// Optional: LOADGEN_RESPONDENTS, LOADGEN_THINK, LOADGEN_DURATION, LOADGEN_MIX.
func TestGeneratorOverhead(t *testing.T) {
	if os.Getenv("XINLING_LOADGEN_OVERHEAD") == "" {
		t.Skip("set XINLING_LOADGEN_OVERHEAD=1 to measure the generator's own CPU per request")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "LOADGEN_FAKE_SERVER=127.0.0.1:0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	env := func(k, def string) string {
		if v := os.Getenv(k); v != "" {
			return v
		}
		return def
	}
	n, _ := strconv.Atoi(env("LOADGEN_RESPONDENTS", "2000"))
	think, _ := time.ParseDuration(env("LOADGEN_THINK", "100ms"))
	dur, _ := time.ParseDuration(env("LOADGEN_DURATION", "10s"))
	cfg := Config{Target: "http://" + addr[:len(addr)-1], Respondents: n, Ramp: time.Second, Think: think, Duration: dur,
		Mix: mustMix(t, env("LOADGEN_MIX", "phq9,gad7,asq")), Conns: 4096, Timeout: 30 * time.Second,
		Baseline: os.Getenv("LOADGEN_BASELINE") != ""}
	rep, err := Run(context.Background(), cfg, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.MarshalIndent(rep, "", "  ")
	t.Logf("%s", b)
}

func TestMain(m *testing.M) {
	if addr := os.Getenv("LOADGEN_FAKE_SERVER"); addr != "" {
		serveFake(addr)
		return
	}
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// serveFake runs the in-memory API until killed and prints its address.
func serveFake(addr string) {
	lib, err := library()
	if err != nil {
		panic(err)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		panic(err)
	}
	os.Stdout.WriteString(l.Addr().String() + "\n")
	srv := &http.Server{Handler: newFakeAPI(lib).handler(), ErrorLog: nil}
	srv.ErrorLog = nil
	_ = srv.Serve(l)
	_, _ = io.Copy(io.Discard, os.Stdin)
}
