package assess_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"xinling/assess"
	"xinling/engine"
	"xinling/internal/testkit"
	"xinling/store"
	"xinling/store/sqlite"
)

// TestMeasureGroupReport times the group report of a county-sized
// screening and samples the heap while it runs. It is a measurement, not a
// check, so it runs only when asked:
//
//	XINLING_MEASURE_RESULTS=50000 go test ./assess/ -run TestMeasureGroupReport -v
//
// It seeds sessions of PHQ-9 and ASQ (two results each) in 50 classes,
// scored by the engine so payloads are real, then builds the report as
// the county's psychologist (with appendices) and as a viewer.
func TestMeasureGroupReport(t *testing.T) {
	want, _ := strconv.Atoi(os.Getenv("XINLING_MEASURE_RESULTS"))
	if want == 0 {
		t.Skip("set XINLING_MEASURE_RESULTS to measure")
	}
	ctx := context.Background()
	lib, err := testkit.Library()
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(ctx, t.TempDir(), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	svc := assess.New(db, lib, assess.Options{})
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	for _, u := range []store.Unit{{ID: "county", Kind: "county", Name: "县"}, {ID: "school", ParentID: "county", Kind: "school", Name: "一中"},
		{ID: "g7", ParentID: "school", Kind: "grade", Name: "七年级"}, {ID: "g8", ParentID: "school", Kind: "grade", Name: "八年级"}} {
		if _, err := db.CreateUnit(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	var classes []string
	for i := 0; i < 50; i++ {
		g := "g7"
		if i >= 25 {
			g = "g8"
		}
		id := fmt.Sprintf("c%02d", i)
		if _, err := db.CreateUnit(ctx, store.Unit{ID: id, ParentID: g, Kind: "class", Name: fmt.Sprintf("%d班", i+1)}); err != nil {
			t.Fatal(err)
		}
		classes = append(classes, id)
	}
	cp, err := db.CreateCampaign(ctx, store.Campaign{ID: "cp", Name: "县普测", UnitID: "school", UnitIDs: []string{"g7", "g8"}, Battery: []string{"phq9", "asq"},
		Mode: "open", State: store.CampaignActive, StartsAt: t0, EndsAt: t0.Add(30 * 24 * time.Hour), CreatedAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	phq, _ := lib.Get("phq9", "")
	asq, _ := lib.Get("asq", "")
	sessions := want / 2
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for i := w; i < sessions; i += 32 {
				sex := []string{"m", "f"}[i%2]
				s, err := db.CreateSession(ctx, store.Session{ID: store.NewID(), TokenHash: []byte("h"), CampaignID: cp.ID, UnitID: classes[i%len(classes)],
					Instruments: []string{"phq9", "asq"}, Sex: sex, Age: 13, Consent: true, Locale: "zh-CN", CreatedAt: t0})
				if err != nil {
					errs <- err
					return
				}
				answers := map[string]float64{}
				for k := 1; k <= 9; k++ {
					answers[fmt.Sprintf("q%d", k)] = float64(rng.IntN(4) * rng.IntN(2))
				}
				pr, err := phq.Score(scoreInput(answers, sex))
				if err != nil {
					errs <- err
					return
				}
				a := map[string]float64{"q1": 0, "q2": 0, "q3": 0, "q4": 0}
				if rng.IntN(50) == 0 {
					a["q1"], a["q5"] = 1, 0
				}
				ar, err := asq.Score(scoreInput(a, sex))
				if err != nil {
					errs <- err
					return
				}
				var results []store.Result
				for _, r := range []*engine.Result{pr, ar} {
					payload, _ := json.Marshal(r)
					res := store.Result{ID: store.NewID(), Instrument: r.Instrument, Version: r.Version, ContentHash: r.Hash,
						Scores: map[string]float64{}, Bands: map[string]string{}, Payload: payload, CreatedAt: t0.Add(time.Minute)}
					for _, sc := range r.Scores {
						res.Scores[sc.ID] = sc.Value
					}
					for _, b := range r.Bands {
						res.Bands[b.Score] = b.Code
					}
					results = append(results, res)
				}
				if _, err := db.Submit(ctx, store.Submission{SessionID: s.ID, At: t0.Add(time.Minute), Results: results}); err != nil {
					errs <- err
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	t.Logf("seeded %d sessions, %d results in %s", sessions, 2*sessions, time.Since(start).Round(time.Millisecond))

	for _, who := range []*assess.Principal{
		{StaffID: "psych", Role: store.RoleSchoolPsychologist, UnitID: "county", UnitPath: "/county/"},
		{StaffID: "viewer", Role: store.RoleViewer, UnitID: "county", UnitPath: "/county/"},
	} {
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		peak := uint64(0)
		done := make(chan struct{})
		go func() {
			for {
				select {
				case <-done:
					return
				case <-time.After(5 * time.Millisecond):
					var m runtime.MemStats
					runtime.ReadMemStats(&m)
					if m.HeapAlloc > peak {
						peak = m.HeapAlloc
					}
				}
			}
		}()
		began := time.Now()
		rep, err := svc.Campaigns.GroupReport(ctx, who, "cp", "school", "zh-CN", "")
		took := time.Since(began)
		close(done)
		if err != nil {
			t.Fatal(err)
		}
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		t.Logf("%s: %d finished, report in %s; heap before %.1f MiB, peak %.1f MiB, allocated %.0f MiB in all",
			who.Role, rep.Participation.Finished, took.Round(time.Millisecond), mib(before.HeapAlloc), mib(peak), mib(after.TotalAlloc-before.TotalAlloc))
	}
}

func scoreInput(answers map[string]float64, sex string) engine.Input {
	return engine.Input{Answers: answers, Sex: sex, Age: 13}
}

func mib(n uint64) float64 { return float64(n) / (1 << 20) }
