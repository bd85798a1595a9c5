package sqlite

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"xinling/store"
)

// BenchmarkDurableAnswers measures acknowledged (fsynced) answer saves with
// 1, 64 and 1024 concurrent writers, each on its own session as real
// respondents are. Metrics: saves/s, commits/s (fsyncs) and answers/commit
// (the group-commit batch). Set XINLING_BENCH_DIR to put the database on a
// given disk; the default is the test's temporary directory.
//
//	go test -run '^$' -bench DurableAnswers -benchtime 20000x ./store/sqlite/
//	go test -tags mattn -run '^$' -bench DurableAnswers -benchtime 20000x ./store/sqlite/
func BenchmarkDurableAnswers(b *testing.B) {
	for _, writers := range []int{1, 64, 1024} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			ctx := context.Background()
			dir := b.TempDir()
			if d := os.Getenv("XINLING_BENCH_DIR"); d != "" {
				var err error
				if dir, err = os.MkdirTemp(d, "bench"); err != nil {
					b.Fatal(err)
				}
				defer os.RemoveAll(dir)
			}
			db, err := Open(ctx, dir, Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			sessions := make([]string, writers)
			for i := range sessions {
				sessions[i] = store.NewID()
				if _, err := db.CreateSession(ctx, store.Session{ID: sessions[i], Instruments: []string{"phq9"}, CreatedAt: time.Now()}); err != nil {
					b.Fatal(err)
				}
			}
			before := db.Stats()
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for w := 0; w < writers; w++ {
				wg.Add(1)
				go func(sess string) {
					defer wg.Done()
					for {
						n := next.Add(1)
						if n > int64(b.N) {
							return
						}
						_, err := db.SaveAnswer(ctx, store.Answer{SessionID: sess, Item: fmt.Sprintf("q%d", n), Value: 1, Seq: 1, At: time.Now()})
						if err != nil {
							b.Error(err)
							return
						}
					}
				}(sessions[w])
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			after := db.Stats()
			commits := after.Commits - before.Commits
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "saves/s")
			b.ReportMetric(float64(commits)/elapsed.Seconds(), "commits/s")
			if commits > 0 {
				b.ReportMetric(float64(after.Ops-before.Ops)/float64(commits), "answers/commit")
			}
		})
	}
}

// BenchmarkNotifySettingsLookup is the dispatcher's walk up the tree for
// each warning: a unit without settings of its own, and one with them.
//
//	go test -run '^$' -bench NotifySettingsLookup ./store/sqlite/
func BenchmarkNotifySettingsLookup(b *testing.B) {
	ctx := context.Background()
	db, err := Open(ctx, b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	root, err := db.CreateUnit(ctx, store.Unit{ID: store.NewID(), Name: "root", Kind: "city"})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := db.PutNotifySettings(ctx, store.NotifySettings{UnitID: root.ID, UnitPath: root.Path}); err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct{ name, unit string }{{"none", "no-such-unit"}, {"own", root.ID}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := db.GetNotifySettings(ctx, c.unit); err != nil && c.name == "own" {
					b.Fatal(err)
				}
			}
		})
	}
}
