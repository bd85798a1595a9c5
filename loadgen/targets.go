package loadgen

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net/url"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
)

// targetSet is the servers of a run, each with its own keep-alive pool,
// and how a request picks one. Several servers of one store stand behind
// a load balancer without sticky sessions: any request of any respondent
// may go to any of them.
type targetSet struct {
	urls    []string
	clients []*client
	random  bool
	next    atomic.Uint64 // round-robin position
	stats   []targetStats
}

// targetStats is one server's share: every request sent to it, each
// attempt of a failover on its own, and its failures by code.
type targetStats struct {
	requests atomic.Int64
	mu       sync.Mutex
	errors   map[string]int64
}

// TargetReport is one server's share of a run. Requests counts every
// request sent to it, including those that failed there and were sent
// again to another server (Report.Failovers); Errors holds its failures by
// code, those included, so a server that died shows its transport errors
// here even when no respondent lost anything.
type TargetReport struct {
	Target   string           `json:"target"`
	Requests int64            `json:"requests"`
	Errors   map[string]int64 `json:"errors"`
}

func newTargetSet(urls []*url.URL, raw []string, pick string, conns int, timeout time.Duration) *targetSet {
	t := &targetSet{urls: raw, random: pick == PickRandom, stats: make([]targetStats, len(urls))}
	for i, u := range urls {
		t.clients = append(t.clients, newClient(u, conns, timeout))
		t.stats[i].errors = map[string]int64{}
	}
	return t
}

func (t *targetSet) close() {
	for _, c := range t.clients {
		c.close()
	}
}

// pick returns the index of the server for a new request: the next in
// turn, or one at random, never the one the respondent used last on
// purpose.
func (t *targetSet) pick(rng *rand.Rand) int {
	n := len(t.clients)
	switch {
	case n == 1:
		return 0
	case t.random:
		return rng.IntN(n)
	}
	return int((t.next.Add(1) - 1) % uint64(n))
}

func (t *targetSet) note(i int, code string) {
	s := &t.stats[i]
	s.requests.Add(1)
	if code != "" {
		s.mu.Lock()
		s.errors[code]++
		s.mu.Unlock()
	}
}

func (t *targetSet) report() []TargetReport {
	out := make([]TargetReport, len(t.urls))
	for i := range t.urls {
		s := &t.stats[i]
		s.mu.Lock()
		errs := make(map[string]int64, len(s.errors))
		for k, v := range s.errors {
			errs[k] = v
		}
		s.mu.Unlock()
		out[i] = TargetReport{Target: t.urls[i], Requests: s.requests.Load(), Errors: errs}
	}
	return out
}

// sender is one worker's way to the servers: a reusable request state per
// server, and the counters its requests go to.
type sender struct {
	set       *targetSet
	conns     []*conn
	rng       *rand.Rand
	count     *atomic.Int64 // every request sent, each attempt on its own
	failovers *atomic.Int64
	prefix    string // of error codes in the per-server counts ("ping_" for the baseline)
}

func (t *targetSet) sender(rng *rand.Rand, count, failovers *atomic.Int64, prefix string) *sender {
	s := &sender{set: t, rng: rng, count: count, failovers: failovers, prefix: prefix}
	for _, c := range t.clients {
		s.conns = append(s.conns, c.conn())
	}
	return s
}

// do sends one request to a picked server. When that server refused or
// dropped the connection (it died, or is restarting) and some server has
// not been tried for this request yet, the same request, byte for byte, goes
// to the next one: a respondent's browser resends an answer with the same
// seq when the network fails, and the balancer sends it elsewhere. That is
// safe because every respondent call the generator makes is idempotent
// except POST /sessions, whose retry leaves at most an empty session
// behind (docs/SCALING.md). A timeout is not retried: the server may
// still be working on the request. The call returned is the last
// attempt's; its latency is the sum of all attempts, what the respondent
// waited.
func (s *sender) do(ctx context.Context, method, path, bearer string, body []byte, want int) call {
	n := len(s.conns)
	i := s.set.pick(s.rng)
	var waited time.Duration
	for tried := 1; ; tried++ {
		cl := s.conns[i].do(ctx, method, path, bearer, body, want)
		s.count.Add(1)
		code := cl.code
		if code != "" {
			code = s.prefix + code
		}
		s.set.note(i, code)
		waited += cl.latency
		if !cl.down || tried == n {
			cl.latency = waited
			return cl
		}
		s.failovers.Add(1)
		i = (i + 1) % n
	}
}

// targetDown reports whether a request failed because its server is not
// there: the connection was refused, reset or closed before a response.
// Such a request may be sent again to another server. Whether the first
// server had already acted on it is unknown, which is why only
// idempotent requests are sent again.
func targetDown(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, fasthttp.ErrConnectionClosed)
}
