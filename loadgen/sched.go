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

// run dispatches until the end of the run or until stop closes, then closes
// ready so that the workers finish.
func (s *scheduler) run(stop <-chan struct{}) {
	defer close(s.ready)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		now := time.Since(s.start)
		if now >= s.end {
			return
		}
		for len(s.heap) > 0 && s.heap[0].due <= now {
			s.ready <- s.heap.pop()
		}
		wait := s.end - now
		if len(s.heap) > 0 {
			wait = min(wait, s.heap[0].due-now)
		}
		timer.Reset(wait)
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
		case <-stop:
			return
		}
	}
}
