package assess

import (
	"math"
	"testing"
	"time"

	"xinling/engine"
	"xinling/internal/testkit"
	"xinling/store"
)

func TestRCIFormula(t *testing.T) {
	t.Parallel()
	// Jacobson & Truax's worked example shape: SD 7.5, r 0.88 → SEdiff =
	// sqrt(2·(7.5·sqrt(0.12))²) = 3.674; a change of 10 gives 2.72.
	if got := RCI(30, 40, 7.5, 0.88); math.Abs(got-2.7217) > 1e-3 {
		t.Fatalf("RCI = %v", got)
	}
	// The thresholds the built-in parameters imply: PHQ-9 changes of 4
	// points are reliable and 3 are not; GAD-7 changes of 3 are, 2 not.
	for _, c := range []struct {
		inst     string
		delta    float64
		reliable bool
	}{{"phq9", 4, true}, {"phq9", 3, false}, {"gad7", 3, true}, {"gad7", 2, false}} {
		par, _ := statisticsFor(testLibrary(t), c.inst, "")
		if rel := math.Abs(RCI(0, c.delta, par.SD, par.Reliability)) >= 1.96; rel != c.reliable {
			t.Errorf("%s change of %v: reliable=%v", c.inst, c.delta, rel)
		}
	}
}

func TestTrends(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	res := func(id, inst string, total float64, days int) store.Result {
		return store.Result{ID: id, Instrument: inst, Scores: map[string]float64{"total": total}, CreatedAt: t0.AddDate(0, 0, days)}
	}
	got := trends(testLibrary(t), []store.Result{
		res("a1", "phq9", 20, 0), res("b1", "gad7", 3, 0), res("c1", "k10", 30, 0), res("d1", "who5", 12, 0),
		res("a2", "phq9", 10, 30), res("b2", "gad7", 9, 30), res("c2", "k10", 15, 30),
		res("a3", "phq9", 12, 60),
		{ID: "a4", Instrument: "phq9", Scores: map[string]float64{"other": 1}, CreatedAt: t0.AddDate(0, 0, 90)},
	})
	want := map[string][]string{
		"phq9": {TrendImproved, TrendNoChange, TrendUnknown}, // a wave without the total cannot be compared
		"gad7": {TrendWorsened},
		"k10":  {TrendUnknown}, // no parameters for K10 in the table
		"who5": {},
	}
	if len(got) != len(want) {
		t.Fatalf("%d trends: %+v", len(got), got)
	}
	for _, tr := range got {
		w := want[tr.Instrument]
		if len(tr.Changes) != len(w) {
			t.Fatalf("%s: %+v", tr.Instrument, tr.Changes)
		}
		for i, ch := range tr.Changes {
			if ch.Trend != w[i] {
				t.Errorf("%s change %d: %s, want %s", tr.Instrument, i, ch.Trend, w[i])
			}
			if (ch.RCI == nil) != (ch.Trend == TrendUnknown) {
				t.Errorf("%s change %d: rci %v with trend %s", tr.Instrument, i, ch.RCI, ch.Trend)
			}
		}
		last := TrendSingle
		if len(w) > 0 {
			last = w[len(w)-1]
		}
		if tr.Trend != last {
			t.Errorf("%s: trend %s, want %s", tr.Instrument, tr.Trend, last)
		}
	}
	if got[0].Instrument != "phq9" || got[0].Changes[0].Delta != -10 || *got[0].Changes[0].RCI != -6.09 {
		t.Errorf("phq9 20 → 10: %+v", got[0].Changes[0])
	}
}

func TestReferTarget(t *testing.T) {
	t.Parallel()
	unit := func(path, kind string) store.Unit { return store.Unit{Path: path, Kind: kind} }
	entry := "/city/county/street/community/"
	for _, c := range []struct {
		to, parent string
		kind       string
		ok         bool
	}{
		{"/city/county/street/", "/city/county/", "street", true},
		{"/city/", "", "city", true},
		{"/city/county/street/community/", "/city/county/street/", "community", false},           // its own unit
		{"/city/county/street/community/x/", "/city/county/street/community/", "station", false}, // below it
		{"/city/county/street/station/", "/city/county/street/", "station", true},                // the street's station
		{"/city/county/school/", "/city/county/", "school", false},                               // a sibling branch
		{"/city/county2/station/", "/city/county2/", "station", false},                           // another county's station
	} {
		if got := referTarget(unit(c.to, c.kind), c.parent, entry); got != c.ok {
			t.Errorf("refer %s to %s (%s): %v, want %v", entry, c.to, c.kind, got, c.ok)
		}
	}
}

func TestAgeAt(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	for month, want := range map[string]int{"2010-05": 16, "2010-12": 15, "2010-11": 16, "bad": 0, "2030-01": 0} {
		if got := ageAt(month, now); got != want {
			t.Errorf("ageAt(%s) = %d, want %d", month, got, want)
		}
	}
}

func testLibrary(t *testing.T) *engine.Library {
	t.Helper()
	lib, err := testkit.Library()
	if err != nil {
		t.Fatal(err)
	}
	return lib
}
