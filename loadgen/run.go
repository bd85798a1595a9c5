package loadgen

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"xinling/engine"
)

// Report is what `xinling loadtest` prints. Field names are a contract with
// the issue and with scripts that read it.
type Report struct {
	// Target is the server, or the servers joined by commas; Targets has
	// each one's share of the requests and errors.
	Target            string         `json:"target"`
	Targets           []TargetReport `json:"targets"`
	Respondents       int            `json:"respondents"`
	Conns             int            `json:"conns"`
	ElapsedS          float64        `json:"elapsed_s"`
	SessionsStarted   int64          `json:"sessions_started"`
	SessionsCompleted int64          `json:"sessions_completed"`
	AnswersAcked      int64          `json:"answers_acked"`
	AnswersPerS       float64        `json:"answers_per_s"`
	BaselinePerS      *float64       `json:"baseline_per_s,omitempty"`
	// BaselineBurst (--baseline-burst) is the latency of as many pings as
	// respondents, each on a fresh connection, all sent at once.
	BaselineBurst *Stats           `json:"baseline_burst,omitempty"`
	Endpoints     map[string]Stats `json:"endpoints"`
	Errors        map[string]int64 `json:"errors"`
	// Failovers counts requests sent again to another server after theirs
	// refused or dropped the connection. Errors counts only requests that
	// failed in the end, on every server tried.
	Failovers          int64 `json:"failovers"`
	WarningsExpected   int64 `json:"warnings_expected"`
	WarningsConfirmed  int64 `json:"warnings_confirmed"`
	WarningsUnexpected int64 `json:"warnings_unexpected"`
	// ScheduleLag is how late respondents' actions started against their
	// plan. Small means the generator delivered the load it promised; large
	// means workers or connections ran out (raise --conns) or the machine
	// is saturated, and the latencies above understate what users would see.
	ScheduleLag Stats         `json:"schedule_lag"`
	Generator   GeneratorCost `json:"generator"`
	// Campaign is set for a run with access codes (Config.Codes).
	Campaign *CampaignReport `json:"campaign,omitempty"`
}

// CampaignReport is how a school screening went: every pupil enters once
// with a personal code, and the submits come in a burst.
type CampaignReport struct {
	Students int `json:"students"`
	// Entered counts pupils whose code opened a session; Finished, those
	// whose submit was acknowledged.
	Entered  int64 `json:"entered"`
	Finished int64 `json:"finished"`
	// FirstEntryS and LastEntryS bound when pupils' sessions opened,
	// seconds from the start.
	FirstEntryS float64 `json:"first_entry_s"`
	LastEntryS  float64 `json:"last_entry_s"`
	// The submit burst as planned, and how many submits were acknowledged
	// inside it or after it (pupils still answering when it began).
	SubmitAtS       float64 `json:"submit_at_s"`
	SubmitWindowS   float64 `json:"submit_window_s"`
	SubmitsInWindow int64   `json:"submits_in_window"`
	SubmitsLate     int64   `json:"submits_late"`
	// Burst is the submit latency of the submits sent inside the window.
	Burst Stats `json:"burst_submit"`
}

// GeneratorCost is the generator's own CPU, so every run shows whether the
// generator could have been the bottleneck.
type GeneratorCost struct {
	CPUS             float64 `json:"cpu_s"`
	Requests         int64   `json:"requests"`
	CPUMicrosPerReq  float64 `json:"cpu_us_per_request"`
	CPUShareOfHost   float64 `json:"cpu_share_of_host"` // cpu_s / (elapsed × NumCPU)
	NumCPU           int     `json:"num_cpu"`
	FileLimit        uint64  `json:"file_limit,omitempty"`
	BaselineRequests int64   `json:"baseline_requests,omitempty"`
}

// metrics are shared by all workers; every field is updated atomically.
type metrics struct {
	create, answer, resume, submit, ping Histogram
	lag, burst                           Histogram

	started, completed, acked       atomic.Int64
	expected, confirmed, unexpected atomic.Int64
	requests, pings, failovers      atomic.Int64
	entered, inWindow, late         atomic.Int64
	firstEntry, lastEntry           atomic.Int64 // µs since start; firstEntry -1 until set
	errMu                           sync.Mutex
	errors                          map[string]int64
}

func (m *metrics) fail(code string) {
	m.errMu.Lock()
	m.errors[code]++
	m.errMu.Unlock()
}

type phase uint8

const (
	phaseCreate phase = iota
	phaseAnswer
	phaseSubmit
	phaseDone // a pupil who has submitted: nothing more to do
)

// respondent is one virtual respondent's state between actions.
type respondent struct {
	phase   phase
	battery int // index into the mix of the current session
	id      string
	token   string
	items   []apiItem
	next    int // index into items of the next to answer
	seq     int64
	answers map[string]float64
	sex     string
	age     int
	// submitDue is when this respondent may submit (Config.SubmitAt).
	submitDue time.Duration
	entered   bool // a pupil's code has opened a session
}

// Run drives the load and returns the report. It stops by itself after
// cfg.Duration (plus the baseline phase, if asked), or when ctx ends; at
// most one request per worker is then still in flight, bounded by
// cfg.Timeout. Warnings go to logw.
func Run(ctx context.Context, cfg Config, logw io.Writer) (*Report, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	var urls []*url.URL
	for _, t := range cfg.targets() {
		u, _ := CheckTarget(t)
		urls = append(urls, u)
	}
	limit := raiseFileLimit()
	workers := min(cfg.Conns, cfg.Respondents)
	// Each connection is a descriptor; keep some for everything else. A
	// worker may keep an idle connection to every server.
	if n := uint64(len(urls)); limit > 0 && uint64(workers)*n+64 > limit {
		workers = max(1, (int(limit)-64)/int(n))
		fmt.Fprintf(logw, "loadgen: open-file limit %d: using %d connections\n", limit, workers)
	}
	cfg.Conns = workers

	lib, err := library()
	if err != nil {
		fmt.Fprintf(logw, "loadgen: built-in library: %v; warnings will not be predicted\n", err)
		lib = nil
	}
	cond := map[string]bool{}
	bodies := make([][]byte, len(cfg.Mix))
	for i, b := range cfg.Mix {
		for _, id := range b {
			cond[id] = conditional(lib, id)
		}
		bodies[i] = createPrefix(b)
	}
	if len(cfg.Codes) > 0 && lib != nil {
		// A pupil's battery is the campaign's, known only from the server.
		for _, in := range lib.Latest() {
			cond[in.Doc.ID] = conditional(lib, in.Doc.ID)
		}
	}

	var ack, subs *ackWriter
	if cfg.AckLog != "" {
		if ack, err = openLog(cfg.AckLog); err != nil {
			return nil, fmt.Errorf("--ack-log: %w", err)
		}
	}
	if cfg.SubmitLog != "" {
		if subs, err = openLog(cfg.SubmitLog); err != nil {
			if ack != nil {
				_ = ack.close()
			}
			return nil, fmt.Errorf("--submit-log: %w", err)
		}
	}

	// Each server gets a pool as large as the run's: a worker has one
	// request in flight, to whichever server it picked.
	set := newTargetSet(urls, cfg.targets(), cfg.Pick, workers, cfg.Timeout)
	defer set.close()
	m := &metrics{errors: map[string]int64{}}
	m.firstEntry.Store(-1)
	seed := cfg.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	cpu0 := cpuTime()
	rep := &Report{Target: strings.Join(cfg.targets(), ","), Respondents: cfg.Respondents, Conns: workers}

	if cfg.BaselineBurst {
		// For respondents who all start at once, the bare figure to compare
		// with is the same burst of fresh connections, one ping each.
		bare := newTargetSet(urls, cfg.targets(), cfg.Pick, workers, cfg.Timeout)
		st := runBurstBaseline(ctx, bare, min(cfg.Respondents, workers), m, seed)
		bare.close()
		rep.BaselineBurst = &st
	}
	if cfg.Baseline {
		n, el := runBaseline(ctx, set, workers, cfg.Duration, m, seed)
		v := round2(float64(n) / el.Seconds())
		rep.BaselinePerS = &v
	}

	start := time.Now()
	initial := make([]entry, cfg.Respondents)
	for i := range initial {
		var due time.Duration
		if cfg.Respondents > 1 {
			due = time.Duration(int64(cfg.Ramp) * int64(i) / int64(cfg.Respondents))
		}
		initial[i] = entry{due: due, id: int32(i)}
	}
	sch := newScheduler(start, cfg.Duration, initial)
	resp := make([]respondent, cfg.Respondents)
	plan := rand.New(rand.NewPCG(seed, ^uint64(0)))
	for i := range resp {
		resp[i].battery = i % len(cfg.Mix)
		resp[i].submitDue = cfg.SubmitAt
		if cfg.SubmitWindow > 0 {
			resp[i].submitDue += time.Duration(plan.Int64N(int64(cfg.SubmitWindow)))
		}
	}
	// A campaign run ends when every pupil has submitted, not at Duration.
	runCtx, allDone := context.WithCancel(ctx)
	defer allDone()
	var finished atomic.Int64
	// Requests are not cancelled at the end of the run: one that was sent
	// gets its answer (or its timeout), so that the ack log and the counts
	// agree with what the server did.
	reqCtx := context.WithoutCancel(ctx)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			wk := &worker{cfg: &cfg, snd: set.sender(rng, &m.requests, &m.failovers, ""), m: m, ack: ack, subs: subs,
				lib: lib, cond: cond, bodies: bodies, rng: rng, start: start}
			for e := range sch.ready {
				now := time.Since(start)
				if now >= cfg.Duration {
					continue
				}
				m.lag.Record(now - e.due)
				r := &resp[e.id]
				think := wk.step(reqCtx, r, e.id)
				if r.phase == phaseDone {
					if finished.Add(1) == int64(cfg.Respondents) {
						allDone()
					}
					continue
				}
				sch.resched <- entry{due: time.Since(start) + think, id: e.id}
			}
		}()
	}
	sch.run(runCtx.Done())
	wg.Wait()
	elapsed := time.Since(start)

	if ack != nil {
		if err := ack.close(); err != nil {
			return nil, fmt.Errorf("--ack-log: %w", err)
		}
	}
	if subs != nil {
		if err := subs.close(); err != nil {
			return nil, fmt.Errorf("--submit-log: %w", err)
		}
	}

	rep.ElapsedS = round2(elapsed.Seconds())
	rep.SessionsStarted = m.started.Load()
	rep.SessionsCompleted = m.completed.Load()
	rep.AnswersAcked = m.acked.Load()
	rep.AnswersPerS = round2(float64(rep.AnswersAcked) / elapsed.Seconds())
	rep.Endpoints = map[string]Stats{"create": m.create.Stats(), "answer": m.answer.Stats(), "submit": m.submit.Stats()}
	if m.resume.Count() > 0 {
		rep.Endpoints["resume"] = m.resume.Stats()
	}
	if m.ping.Count() > 0 {
		rep.Endpoints["ping"] = m.ping.Stats()
	}
	rep.Errors = m.errors
	rep.Targets = set.report()
	rep.Failovers = m.failovers.Load()
	rep.WarningsExpected = m.expected.Load()
	rep.WarningsConfirmed = m.confirmed.Load()
	rep.WarningsUnexpected = m.unexpected.Load()
	rep.ScheduleLag = m.lag.Stats()
	if len(cfg.Codes) > 0 {
		rep.Campaign = &CampaignReport{Students: len(cfg.Codes), Entered: m.entered.Load(), Finished: m.completed.Load(),
			FirstEntryS: round2(float64(max(m.firstEntry.Load(), 0)) / 1e6), LastEntryS: round2(float64(m.lastEntry.Load()) / 1e6),
			SubmitAtS: cfg.SubmitAt.Seconds(), SubmitWindowS: cfg.SubmitWindow.Seconds(),
			SubmitsInWindow: m.inWindow.Load(), SubmitsLate: m.late.Load(), Burst: m.burst.Stats()}
	}
	cpu := cpuTime() - cpu0
	total := m.requests.Load() + m.pings.Load()
	wall := elapsed
	if rep.BaselinePerS != nil {
		wall += cfg.Duration
	}
	rep.Generator = GeneratorCost{CPUS: round2(cpu.Seconds()), Requests: m.requests.Load(),
		NumCPU: runtime.NumCPU(), FileLimit: limit, BaselineRequests: m.pings.Load()}
	if total > 0 {
		rep.Generator.CPUMicrosPerReq = round2(float64(cpu.Microseconds()) / float64(total))
	}
	rep.Generator.CPUShareOfHost = round2(cpu.Seconds() / wall.Seconds() / float64(runtime.NumCPU()))
	return rep, nil
}

func round2(v float64) float64 { return float64(int64(v*100+0.5)) / 100 }

// runBurstBaseline opens n connections at the same instant, each sending
// one GET /api/v1/ping, and returns their latencies, connection set-up
// included: what a burst of n respondents arriving together costs the
// bare handler on this machine. The respondents' own burst starts once
// these connections are closed, so it opens fresh ones too.
func runBurstBaseline(ctx context.Context, set *targetSet, n int, m *metrics, seed uint64) Stats {
	var h Histogram
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := set.sender(rand.New(rand.NewPCG(seed, ^uint64(i))), &m.pings, &m.failovers, "ping_")
			<-start
			r := c.do(context.WithoutCancel(ctx), "GET", "/api/v1/ping", "", nil, 200)
			if !r.ok() {
				m.fail("ping_" + r.code)
				return
			}
			h.Record(r.latency)
		}()
	}
	close(start)
	wg.Wait()
	return h.Stats()
}

// runBaseline hits GET /api/v1/ping from workers in a closed loop for d,
// before the respondents start. It runs alone rather than alongside the
// respondents: sharing the CPU would make each figure depend on the other,
// while alone it is the framework floor that the answer rate is compared to.
func runBaseline(ctx context.Context, set *targetSet, workers int, d time.Duration, m *metrics, seed uint64) (int64, time.Duration) {
	start := time.Now()
	deadline := start.Add(d)
	var ok atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := set.sender(rand.New(rand.NewPCG(seed, ^uint64(w))), &m.pings, &m.failovers, "ping_")
			for ctx.Err() == nil && time.Now().Before(deadline) {
				r := c.do(context.WithoutCancel(ctx), "GET", "/api/v1/ping", "", nil, 200)
				m.ping.Record(r.latency)
				if !r.ok() {
					m.fail("ping_" + r.code)
					if r.code == "transport" {
						// Do not spin on a refused connection.
						time.Sleep(10 * time.Millisecond)
					}
					continue
				}
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	return ok.Load(), time.Since(start)
}

// worker performs respondents' actions, one request (two for a re-read) at
// a time. Its random source and request buffers are its own.
type worker struct {
	cfg    *Config
	snd    *sender
	m      *metrics
	ack    *ackWriter
	subs   *ackWriter // the submit log
	lib    *engine.Library
	cond   map[string]bool // instrument → its items depend on answers
	bodies [][]byte
	rng    *rand.Rand
	start  time.Time
	buf    []byte
	down   bool // the last request failed in transport
}

func (w *worker) think() time.Duration {
	t := w.cfg.Think
	if t <= 0 {
		return 0
	}
	return t/2 + time.Duration(w.rng.Int64N(int64(t)+1))
}

// step performs r's next action and returns how long r thinks before the
// one after. Any failure abandons the session, as a person would, and the
// respondent starts a new one after thinking.
func (w *worker) step(ctx context.Context, r *respondent, id int32) time.Duration {
	switch r.phase {
	case phaseCreate:
		w.create(ctx, r, id)
	case phaseAnswer:
		w.answer(ctx, r)
	case phaseSubmit:
		w.submit(ctx, r)
	}
	if w.down {
		// A server that is down (or restarting, in the crash test) is
		// retried at a person's pace, not in a busy loop.
		w.down = false
		return max(w.think(), 100*time.Millisecond)
	}
	if r.phase == phaseSubmit && w.cfg.SubmitAt > 0 {
		return max(w.think(), r.submitDue-time.Since(w.start))
	}
	return w.think()
}

func (w *worker) abandon(r *respondent, code string) {
	w.m.fail(code)
	w.down = code == "transport"
	r.phase, r.items, r.answers = phaseCreate, nil, nil
	r.battery = (r.battery + 1) % len(w.cfg.Mix)
}

func (w *worker) create(ctx context.Context, r *respondent, id int32) {
	var body []byte
	if len(w.cfg.Codes) > 0 {
		// The roster knows the pupil's sex and age; the body has the code.
		r.sex, r.age = "", 0
		body = append(w.buf[:0], `{"code":`...)
		body = appendJSONString(body, w.cfg.Codes[id])
		body = append(body, `,"consent":true}`...)
	} else {
		r.sex = "f"
		if w.rng.IntN(2) == 0 {
			r.sex = "m"
		}
		r.age = 12 + w.rng.IntN(69)
		body = append(w.buf[:0], w.bodies[r.battery]...)
		body = append(body, `,"sex":"`...)
		body = append(body, r.sex...)
		body = append(body, `","age":`...)
		body = strconv.AppendInt(body, int64(r.age), 10)
		body = append(body, `,"consent":true}`...)
	}
	w.buf = body
	cl := w.snd.do(ctx, "POST", "/api/v1/sessions", "", body, 201)
	w.m.create.Record(cl.latency)
	var s apiSession
	if cl.ok() && decode(&cl, &s) && (s.ID == "" || s.Token == "") {
		cl.code = errBadResponse.Error()
	}
	if !cl.ok() {
		w.abandon(r, cl.code)
		return
	}
	w.m.started.Add(1)
	r.id, r.token, r.items, r.seq = s.ID, s.Token, s.Items, 0
	r.answers = make(map[string]float64, len(s.Items)+1)
	if len(w.cfg.Codes) > 0 {
		// Entering with the code again after a failure resumes the same
		// session: what the server holds is already answered. (Sequence
		// numbers are per item, so fresh ones for the rest cannot clash.)
		for item, v := range s.Answers {
			r.answers[item] = v
		}
		w.noteEntry(r)
	}
	r.next = 0
	r.next = firstUnanswered(r)
	r.phase = phaseAnswer
	if r.next >= len(r.items) {
		r.phase = phaseSubmit
	}
}

// firstUnanswered finds the next item to answer. Items are answered in
// order, so every item before r.next is answered: scanning from the start
// made a battery of a hundred items cost the generator fifty lookups an
// answer.
func firstUnanswered(r *respondent) int {
	for i := r.next; i < len(r.items); i++ {
		if _, done := r.answers[r.items[i].ID]; !done {
			return i
		}
	}
	return len(r.items)
}

func (w *worker) answer(ctx context.Context, r *respondent) {
	it := &r.items[r.next]
	if len(it.Options) == 0 {
		w.abandon(r, "item_without_options")
		return
	}
	v := it.Options[w.rng.IntN(len(it.Options))].Value
	r.seq++
	body := append(w.buf[:0], `{"value":`...)
	body = strconv.AppendFloat(body, v, 'g', -1, 64)
	body = append(body, `,"seq":`...)
	body = strconv.AppendInt(body, r.seq, 10)
	body = append(body, '}')
	w.buf = body
	cl := w.snd.do(ctx, "PUT", "/api/v1/sessions/"+r.id+"/answers/"+it.ID, r.token, body, 200)
	w.m.answer.Record(cl.latency)
	var a apiAnswer
	if cl.ok() && !savedAnswer(cl.body) && decode(&cl, &a) && a.Status != "saved" && a.Status != "replay" {
		// Fresh sequence numbers can only be saved; anything else means the
		// server lost track of this session's counter.
		cl.code = "answer_" + a.Status
	}
	if !cl.ok() {
		w.abandon(r, cl.code)
		return
	}
	w.m.acked.Add(1)
	if w.ack != nil {
		w.ack.write(r.id, it.ID, v, r.seq)
	}
	r.answers[it.ID] = v
	if c, known := w.cond[it.Instrument]; c || !known {
		// The answer may show or hide later items: read them back as the
		// web app would, right after saving and before the next question.
		cl := w.snd.do(ctx, "GET", "/api/v1/sessions/"+r.id, r.token, nil, 200)
		w.m.resume.Record(cl.latency)
		var s apiSession
		if !cl.ok() || !decode(&cl, &s) {
			w.abandon(r, cl.code)
			return
		}
		r.items = s.Items
		r.next = len(r.items)
		if s.Next != nil {
			r.next = slices.IndexFunc(r.items, func(it apiItem) bool { return it.ID == *s.Next })
			if r.next < 0 {
				w.abandon(r, errBadResponse.Error())
				return
			}
		}
	} else {
		r.next = firstUnanswered(r)
	}
	if r.next >= len(r.items) {
		r.phase = phaseSubmit
	}
}

func (w *worker) submit(ctx context.Context, r *respondent) {
	cl := w.snd.do(ctx, "POST", "/api/v1/sessions/"+r.id+"/submit", r.token, nil, 200)
	w.m.submit.Record(cl.latency)
	var s apiSubmit
	if !cl.ok() || !decode(&cl, &s) {
		w.abandon(r, cl.code)
		return
	}
	w.m.completed.Add(1)
	if len(w.cfg.Codes) > 0 {
		w.noteCampaignSubmit(cl.latency)
	}
	crisis := len(s.Crisis) > 0 && string(s.Crisis) != "null"
	level, known := expectLevel(w.lib, r.answers, r.sex, r.age)
	if w.subs != nil {
		expect := level
		if !known || len(w.cfg.Codes) > 0 {
			// A pupil's sex and age, which norms and rules may use, are
			// the roster's, unknown here.
			expect = -1
		}
		w.subs.writeSubmit(r.id, expect, crisis)
	}
	if want := level == 1; known {
		switch {
		case want && crisis:
			w.m.expected.Add(1)
			w.m.confirmed.Add(1)
		case want:
			w.m.expected.Add(1)
		case crisis:
			w.m.unexpected.Add(1)
		}
	}
	r.phase, r.items, r.answers = phaseCreate, nil, nil
	r.battery = (r.battery + 1) % len(w.cfg.Mix)
	if len(w.cfg.Codes) > 0 {
		r.phase = phaseDone
	}
}

// noteEntry records when a pupil's session opened; a re-entry after a
// failure counts once.
func (w *worker) noteEntry(r *respondent) {
	if r.entered {
		return
	}
	r.entered = true
	w.m.entered.Add(1)
	at := time.Since(w.start).Microseconds()
	w.m.firstEntry.CompareAndSwap(-1, at)
	for {
		last := w.m.lastEntry.Load()
		if at <= last || w.m.lastEntry.CompareAndSwap(last, at) {
			return
		}
	}
}

// noteCampaignSubmit sorts an acknowledged submit into the burst or late.
func (w *worker) noteCampaignSubmit(latency time.Duration) {
	sent := time.Since(w.start) - latency
	if w.cfg.SubmitAt > 0 && sent > w.cfg.SubmitAt+w.cfg.SubmitWindow {
		w.m.late.Add(1)
		return
	}
	w.m.inWindow.Add(1)
	w.m.burst.Record(latency)
}

// createPrefix is the start of a create body for a battery, without the
// closing brace: {"instrument":"phq9" or {"battery":["phq9","gad7"].
func createPrefix(b Battery) []byte {
	out := []byte(`{`)
	if len(b) == 1 {
		out = append(out, `"instrument":`...)
		return appendJSONString(out, b[0])
	}
	out = append(out, `"battery":[`...)
	for i, id := range b {
		if i > 0 {
			out = append(out, ',')
		}
		out = appendJSONString(out, id)
	}
	return append(out, ']')
}
