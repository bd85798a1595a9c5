package loadgen

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// Histogram records durations in microseconds in log-linear buckets, in the
// manner of HDR histograms: exact below 64 µs, then 32 buckets per power of
// two, so any reported value is within 1/32 (3.1%) of a recorded one. It is
// lock-free: thousands of workers record into it with one atomic add each,
// and a fixed 1,184 buckets cover a microsecond to twelve days with no
// allocation, which matters when the generator must stay cheaper than the
// server it measures.
type Histogram struct {
	buckets [numBuckets]atomic.Int64
	count   atomic.Int64
	sum     atomic.Int64
	max     atomic.Int64
}

const (
	subBits    = 5
	subCount   = 1 << subBits // buckets per power of two
	exactBelow = 2 * subCount // values below this have a bucket each
	maxShift   = 35
	numBuckets = exactBelow + maxShift*subCount
	maxValue   = 1<<(maxShift+subBits+1) - 1
)

func bucketOf(v int64) int {
	if v < exactBelow {
		return int(max(v, 0))
	}
	if v > maxValue {
		v = maxValue
	}
	shift := bits.Len64(uint64(v)) - (subBits + 1)
	m := int(v >> shift) // in [subCount, 2*subCount)
	return exactBelow + (shift-1)*subCount + (m - subCount)
}

// bucketHigh is the largest value that falls in bucket i.
func bucketHigh(i int) int64 {
	if i < exactBelow {
		return int64(i)
	}
	shift := (i-exactBelow)/subCount + 1
	m := int64((i-exactBelow)%subCount + subCount)
	return (m+1)<<shift - 1
}

// Record adds one observation.
func (h *Histogram) Record(d time.Duration) { h.RecordMicros(d.Microseconds()) }

// RecordMicros adds one observation in microseconds.
func (h *Histogram) RecordMicros(us int64) {
	h.buckets[bucketOf(us)].Add(1)
	h.count.Add(1)
	h.sum.Add(us)
	for {
		m := h.max.Load()
		if us <= m || h.max.CompareAndSwap(m, us) {
			return
		}
	}
}

// Count is the number of observations.
func (h *Histogram) Count() int64 { return h.count.Load() }

// Quantile returns the value at quantile q (0..1) in microseconds: the
// highest value equivalent to the observation of that rank, never more than
// the maximum seen. It reads buckets without stopping writers, which is fine
// for a report taken after the workers have stopped.
func (h *Histogram) Quantile(q float64) int64 {
	n := h.count.Load()
	if n == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(n)))
	rank = min(max(rank, 1), n)
	var seen int64
	for i := range h.buckets {
		seen += h.buckets[i].Load()
		if seen >= rank {
			return min(bucketHigh(i), h.max.Load())
		}
	}
	return h.max.Load()
}

// Stats is the reported summary of one histogram.
type Stats struct {
	Count  int64   `json:"count"`
	MeanMS float64 `json:"mean_ms"`
	P50MS  float64 `json:"p50_ms"`
	P95MS  float64 `json:"p95_ms"`
	P99MS  float64 `json:"p99_ms"`
	MaxMS  float64 `json:"max_ms"`
}

func ms(us int64) float64 { return math.Round(float64(us)) / 1000 }

// Stats summarises the histogram in milliseconds.
func (h *Histogram) Stats() Stats {
	n := h.count.Load()
	s := Stats{Count: n, P50MS: ms(h.Quantile(0.50)), P95MS: ms(h.Quantile(0.95)),
		P99MS: ms(h.Quantile(0.99)), MaxMS: ms(h.max.Load())}
	if n > 0 {
		s.MeanMS = math.Round(float64(h.sum.Load())/float64(n)) / 1000
	}
	return s
}
