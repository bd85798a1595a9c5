package loadgen

import (
	"time"
)

// entry is a respondent waiting for its next action.
type entry struct {
	due time.Duration // since the run's start (monotonic)
	id  int32
}

// timeHeap is a min-heap by due time; hand-written because container/heap's
// interface calls cost more than the work at 100,000 entries.
type timeHeap []entry

func (h *timeHeap) push(e entry) {
	*h = append(*h, e)
	s := *h
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if s[p].due <= s[i].due {
			break
		}
		s[p], s[i] = s[i], s[p]
		i = p
	}
}

func (h *timeHeap) pop() entry {
	s := *h
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s = s[:n]
	i := 0
	for {
		l, r, m := 2*i+1, 2*i+2, i
		if l < n && s[l].due < s[m].due {
			m = l
		}
		if r < n && s[r].due < s[m].due {
			m = r
		}
		if m == i {
			break
		}
		s[m], s[i] = s[i], s[m]
		i = m
	}
	*h = s
	return top
}

// scheduler owns the heap. Workers send respondents back on resched with
// their next due time; the scheduler hands due ones out on ready. Both
// channels hold every respondent at once, so neither side ever blocks on
// the other: a respondent is always in exactly one of the heap, ready, a
// worker or resched.
type scheduler struct {
	start   time.Time
	end     time.Duration
	heap    timeHeap
	ready   chan entry
	resched chan entry
}

func newScheduler(start time.Time, end time.Duration, initial []entry) *scheduler {
	h := timeHeap(initial)
	// initial is sorted by due time, which is already a valid heap; sort
	// defensively anyway in case a caller changes that.
	for i := 1; i < len(h); i++ {
		if h[i].due < h[(i-1)/2].due {
			h = nil
			for _, e := range initial {
				h.push(e)
			}
			break
		}
	}
	return &scheduler{start: start, end: end, heap: h,
		ready: make(chan entry, len(initial)), resched: make(chan entry, len(initial))}
}

// tick is the scheduler's resolution. Wake-ups are rounded up to it, so a
// busy run wakes the scheduler at most once per tick rather than once per
// respondent; a millisecond late is nothing next to a think time of seconds.
const tick = time.Millisecond

// run dispatches until the end of the run or until stop closes, then closes
// ready so that the workers finish.
//
// The timer is re-armed only when it has fired or must fire earlier. A
// timer reset to an earlier time makes the Go runtime walk its whole timer
// heap on the next check, and that heap holds two deadline timers per
// connection: re-arming on every event cost 12% of the generator's CPU at
// 10,000 respondents.
func (s *scheduler) run(stop <-chan struct{}) {
	defer close(s.ready)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	armed := time.Duration(-1) // when the timer fires, since start; -1: not armed
	for {
		now := time.Since(s.start)
		if now >= s.end {
			return
		}
		for len(s.heap) > 0 && s.heap[0].due <= now {
			s.ready <- s.heap.pop()
		}
		want := s.end
		if len(s.heap) > 0 {
			want = min(want, (s.heap[0].due+tick-1)/tick*tick)
		}
		if armed < 0 || want < armed {
			timer.Reset(max(want-now, 0))
			armed = want
		}
		select {
		case e := <-s.resched:
			s.heap.push(e)
			// Take whatever else is queued before looking at the clock again.
			for drained := false; !drained; {
				select {
				case e := <-s.resched:
					s.heap.push(e)
				default:
					drained = true
				}
			}
		case <-timer.C:
			armed = -1
		case <-stop:
			return
		}
	}
}
