package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"

	"xinling/loadgen"
)

func loadtestCommand(args []string, stdout, stderr io.Writer) error {
	def := loadgen.Defaults()
	fs := newFlags("loadtest", stderr)
	var targets targetList
	cpuProfile := fs.String("cpuprofile", "", "write the generator's own CPU profile to this `file`, to see what a run costs the generator")
	fs.Var(&targets, "target", "base `URL` of the server; loopback addresses only (default "+def.Target+"). "+
		"Repeat it, or give a comma-separated list, for several servers of one store: each request goes to one of them (--pick), "+
		"and one whose server refused or dropped the connection is sent again to the next")
	pick := fs.String("pick", loadgen.PickRoundRobin, "how each request picks among several --target servers: "+loadgen.PickRoundRobin+" or "+loadgen.PickRandom+" (never sticky)")
	respondents := fs.Int("respondents", def.Respondents, "virtual respondents")
	ramp := fs.Duration("ramp", def.Ramp, "start the respondents spread evenly over this time")
	think := fs.Duration("think", def.Think, "mean pause before each answer and submit (uniform ±50%); 0 for flat out")
	duration := fs.Duration("duration", def.Duration, "stop after this long")
	mix := fs.String("mix", "phq9,gad7", "sessions to cycle through: instruments, or batteries joined by + (phq9+gad7+asq)")
	ackLog := fs.String("ack-log", "", "append every acknowledged answer to this file as JSON lines, for xinling verify")
	submitLog := fs.String("submit-log", "", "append every acknowledged submit, with the warning level its answers should raise, to this file as JSON lines, for xinling verify")
	baseline := fs.Bool("baseline", false, "first hit GET /api/v1/ping for the same duration and report baseline_per_s")
	baselineBurst := fs.Bool("baseline-burst", false, "first send one GET /api/v1/ping per respondent, all at once on fresh connections, and report their latency as baseline_burst (compare with a --ramp 0s burst's create p99)")
	conns := fs.Int("conns", def.Conns, "most connections and requests in flight at once")
	timeout := fs.Duration("timeout", def.Timeout, "per-request timeout")
	seed := fs.Uint64("seed", 0, "random seed for answers, sex and age (0: random)")
	codesFile := fs.String("codes", "", "school screening: pupils' personal access codes, one per line (xinling demo --students N --codes-out FILE); one respondent per code, each takes the battery once")
	submitAt := fs.Duration("submit-at", 0, "hold every submit until this long after the start (a class told to submit together); 0: submit when done")
	submitWindow := fs.Duration("submit-window", 0, "spread the held submits over this window after --submit-at")
	if helped, err := parseFlags(fs, args); helped || err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("loadtest takes no arguments, got %q", fs.Args())
	}
	m, err := loadgen.ParseMix(*mix)
	if err != nil {
		return usagef("--mix: %v", err)
	}
	if len(targets) == 0 {
		targets = targetList{def.Target}
	}
	urls, err := loadgen.ParseTargets(targets)
	if err != nil {
		return usagef("%v", err)
	}
	if *pick != loadgen.PickRoundRobin && *pick != loadgen.PickRandom {
		return usagef("--pick %q: want %s or %s", *pick, loadgen.PickRoundRobin, loadgen.PickRandom)
	}
	cfg := loadgen.Config{Target: urls[0], Targets: urls, Pick: *pick, Respondents: *respondents, Ramp: *ramp, Think: *think,
		Duration: *duration, Mix: m, AckLog: *ackLog, SubmitLog: *submitLog, Baseline: *baseline, BaselineBurst: *baselineBurst, Conns: *conns,
		Timeout: *timeout, Seed: *seed, SubmitAt: *submitAt, SubmitWindow: *submitWindow}
	if *codesFile != "" {
		if cfg.Codes, err = readCodes(*codesFile); err != nil {
			return usagef("--codes: %v", err)
		}
		cfg.Respondents = len(cfg.Codes)
	}
	// Ctrl-C ends the run early but still prints the report and flushes the
	// ack log: a partial run's figures are still worth reading.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return usagef("--cpuprofile: %v", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	rep, err := loadgen.Run(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// targetList collects --target values: the flag may be repeated, and each
// value may itself be a comma-separated list (loadgen.ParseTargets).
type targetList []string

func (t *targetList) String() string { return strings.Join(*t, ",") }

func (t *targetList) Set(v string) error {
	*t = append(*t, v)
	return nil
}

// readCodes reads one access code per line, skipping blank lines.
func readCodes(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var codes []string
	for _, line := range strings.Split(string(b), "\n") {
		if c := strings.TrimSpace(line); c != "" {
			codes = append(codes, c)
		}
	}
	if len(codes) == 0 {
		return nil, fmt.Errorf("%s holds no codes", path)
	}
	return codes, nil
}
