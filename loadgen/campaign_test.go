package loadgen

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestCampaignRun drives issue 7's school screening end to end with the
// real binary: `xinling demo --students` sets up the roster, the campaign
// and the codes; `xinling loadtest --codes` has every pupil enter once with
// their code, answer the battery and hold the submit for a shared window.
// Every pupil must finish exactly once, the run must end as soon as the
// last one has, and every acknowledged answer must be in the store.
func TestCampaignRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server; skipped with -short")
	}
	dir := t.TempDir()
	bin := buildXinling(t)
	data, codes, acks := filepath.Join(dir, "data"), filepath.Join(dir, "codes.txt"), filepath.Join(dir, "acks.jsonl")
	const pupils = 90
	if out, err := exec.Command(bin, "demo", "--dev-key", "--data", data, "--students", "90", "--class-size", "30", "--codes-out", codes).CombinedOutput(); err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	if b, _ := os.ReadFile(codes); strings.Count(string(b), "\n") != pupils {
		t.Fatalf("codes file: %q", b)
	}
	addr := freeAddr(t)
	srv := startServer(t, bin, data, addr, filepath.Join(dir, "serve.log"))
	var out, errb bytes.Buffer
	load := exec.Command(bin, "loadtest", "--target", "http://"+addr, "--codes", codes, "--ramp", "1s",
		"--think", "20ms", "--submit-at", "2500ms", "--submit-window", "1s", "--duration", "60s", "--ack-log", acks, "--timeout", "10s")
	load.Stdout, load.Stderr = &out, &errb
	if err := load.Run(); err != nil {
		t.Fatalf("loadtest: %v\n%s", err, errb.String())
	}
	var rep Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil || rep.Campaign == nil {
		t.Fatalf("loadtest output: %v\n%s", err, out.String())
	}
	c := rep.Campaign
	if c.Students != pupils || c.Entered != pupils || c.Finished != pupils || rep.SessionsStarted != pupils || len(rep.Errors) != 0 {
		t.Fatalf("campaign: %+v, sessions started %d, errors %v", *c, rep.SessionsStarted, rep.Errors)
	}
	if c.SubmitsInWindow+c.SubmitsLate != pupils || c.Burst.Count != c.SubmitsInWindow || c.LastEntryS > 2 {
		t.Fatalf("submit burst: %+v", *c)
	}
	if rep.ElapsedS > 30 {
		t.Fatalf("the run went on for %.1f s after every pupil had finished", rep.ElapsedS)
	}
	if rep.WarningsUnexpected != 0 || rep.WarningsConfirmed != rep.WarningsExpected {
		t.Fatalf("warnings: expected %d, confirmed %d, unexpected %d", rep.WarningsExpected, rep.WarningsConfirmed, rep.WarningsUnexpected)
	}
	if err := srv.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_ = srv.Wait()
	vout, err := exec.Command(bin, "verify", "--data", data, "--ack-log", acks).Output()
	var vr VerifyReport
	if jerr := json.Unmarshal(vout, &vr); jerr != nil || err != nil || !vr.OK() || vr.Acked != rep.AnswersAcked || vr.Sessions != pupils {
		t.Fatalf("verify: %v: %s", err, vout)
	}
}
