package loadgen

import (
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestHistogramBuckets(t *testing.T) {
	// Every value lands in a bucket whose bounds hold it, buckets are in
	// order, and a bucket is at most 1/32 of its values wide.
	prev := -1
	for _, v := range []int64{0, 1, 63, 64, 65, 127, 128, 1000, 1 << 20, 1<<40 - 1, maxValue} {
		b := bucketOf(v)
		if b < prev || b >= numBuckets {
			t.Fatalf("bucket of %d is %d (previous %d)", v, b, prev)
		}
		prev = b
		hi := bucketHigh(b)
		lo := int64(0)
		if b > 0 {
			lo = bucketHigh(b-1) + 1
		}
		if v < lo || v > hi {
			t.Fatalf("%d in bucket %d [%d, %d]", v, b, lo, hi)
		}
		if float64(hi-lo) > float64(hi)/32+1 {
			t.Fatalf("bucket %d [%d, %d] too wide", b, lo, hi)
		}
	}
	if bucketOf(-5) != 0 || bucketOf(1<<50) != numBuckets-1 {
		t.Fatal("out-of-range values must be clamped")
	}
}

func TestHistogramQuantiles(t *testing.T) {
	var h Histogram
	if s := h.Stats(); s.Count != 0 || s.P99MS != 0 || s.MaxMS != 0 {
		t.Fatalf("empty %+v", s)
	}
	// 1..100000 µs in random order from several goroutines.
	vals := make([]int64, 100000)
	for i := range vals {
		vals[i] = int64(i + 1)
	}
	rand.Shuffle(len(vals), func(i, j int) { vals[i], vals[j] = vals[j], vals[i] })
	var wg sync.WaitGroup
	for part := range slices.Chunk(vals, 25000) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, v := range part {
				h.RecordMicros(v)
			}
		}()
	}
	wg.Wait()
	for _, c := range []struct {
		q    float64
		want int64
	}{{0.5, 50000}, {0.95, 95000}, {0.99, 99000}, {1, 100000}, {0, 1}} {
		got := h.Quantile(c.q)
		if got < c.want || float64(got) > float64(c.want)*(1+1.0/32) {
			t.Errorf("q%.2f = %d, want %d within 1/32 above", c.q, got, c.want)
		}
	}
	s := h.Stats()
	if s.Count != 100000 || s.MaxMS != 100 || s.MeanMS < 50 || s.MeanMS > 50.01 {
		t.Fatalf("stats %+v", s)
	}
	if !(s.P50MS <= s.P95MS && s.P95MS <= s.P99MS && s.P99MS <= s.MaxMS) {
		t.Fatalf("quantiles out of order: %+v", s)
	}
}

func TestHistogramSmallSample(t *testing.T) {
	var h Histogram
	for _, v := range []int64{10, 20, 30, 40, 5000} {
		h.RecordMicros(v)
	}
	if h.Quantile(0.5) != 30 || h.Quantile(0.99) != 5000 || h.Quantile(0.8) != 40 {
		t.Fatalf("p50 %d p80 %d p99 %d", h.Quantile(0.5), h.Quantile(0.8), h.Quantile(0.99))
	}
}

func TestTimeHeap(t *testing.T) {
	var h timeHeap
	r := rand.New(rand.NewPCG(1, 2))
	var want []int64
	for i := range 1000 {
		d := r.Int64N(500)
		want = append(want, d)
		h.push(entry{due: durationOf(d), id: int32(i)})
	}
	slices.Sort(want)
	for i, w := range want {
		if e := h.pop(); int64(e.due) != w {
			t.Fatalf("pop %d: %d, want %d", i, e.due, w)
		}
	}
	if len(h) != 0 {
		t.Fatal("heap not empty")
	}
}

func durationOf(n int64) (d time.Duration) { return time.Duration(n) }
