package sqlite

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"xinling/store"
	"xinling/store/storetest"
)

// The whole contract again with sessions moved out of the answer log at
// almost every commit, so that every answer path crosses a move.
func TestContractWithAnswerMoves(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store { return openTestDB(t, Options{tailTarget: 2}) })
}

// A model check: concurrent writers save answers with sequence numbers out
// of order to a few sessions while answers are moved, and the store is
// closed and reopened (so the log is recovered) along the way. Every
// outcome and every ListAnswers must agree with a map of what was saved.
func TestAnswerLogAgreesWithAModel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, target := range []int{1, 7, 1 << 20} {
		t.Run(fmt.Sprintf("target=%d", target), func(t *testing.T) {
			dir := t.TempDir()
			db, err := Open(ctx, dir, Options{tailTarget: target})
			if err != nil {
				t.Fatal(err)
			}
			var sessions []string
			for i := 0; i < 6; i++ {
				id := fmt.Sprintf("t%d-s%d", target, i)
				if _, err := db.CreateSession(ctx, store.Session{ID: id, CreatedAt: storetest.T0}); err != nil {
					t.Fatal(err)
				}
				sessions = append(sessions, id)
			}
			type key struct{ session, item string }
			var mu sync.Mutex
			model := map[key]store.Answer{}
			check := func(db *DB) {
				t.Helper()
				for _, s := range sessions {
					got, err := db.ListAnswers(ctx, s)
					if err != nil {
						t.Fatal(err)
					}
					n := 0
					for _, a := range got {
						want, ok := model[key{s, a.Item}]
						if !ok || want.Seq != a.Seq || want.Value != a.Value {
							t.Fatalf("%s %s: stored %+v, model %+v (%v)", s, a.Item, a, want, ok)
						}
						n++
					}
					for k := range model {
						if k.session == s {
							n--
						}
					}
					if n != 0 {
						t.Fatalf("%s: %d answers listed, model differs by %d", s, len(got), n)
					}
				}
			}
			for round := 0; round < 3; round++ {
				var wg sync.WaitGroup
				for w := 0; w < 8; w++ {
					wg.Add(1)
					go func(w int) {
						defer wg.Done()
						r := rand.New(rand.NewPCG(uint64(target), uint64(round*100+w)))
						for i := 0; i < 120; i++ {
							s := sessions[r.IntN(len(sessions))]
							batch := make([]store.Answer, 1+r.IntN(3))
							for j := range batch {
								batch[j] = store.Answer{Item: fmt.Sprintf("q%d", r.IntN(12)), Value: float64(r.IntN(5)), Seq: int64(r.IntN(40)), At: storetest.T0}
							}
							// The model and the store must see each session's saves in
							// the same order: hold the lock across the save.
							mu.Lock()
							outs, err := db.SaveAnswers(ctx, s, batch)
							if err != nil {
								mu.Unlock()
								t.Error(err)
								return
							}
							for j, a := range batch {
								k := key{s, a.Item}
								cur, ok := model[k]
								want := store.AnswerSaved
								switch {
								case ok && cur.Seq > a.Seq:
									want = store.AnswerStale
								case ok && cur.Seq == a.Seq:
									want = store.AnswerReplay
								}
								if outs[j].Status != want {
									t.Errorf("%s %s seq %d: %s, want %s (model %+v)", s, a.Item, a.Seq, outs[j].Status, want, cur)
								}
								if want == store.AnswerSaved {
									a.SessionID = s
									model[k] = a
								} else if outs[j].Current.Seq != cur.Seq || outs[j].Current.Value != cur.Value {
									t.Errorf("%s %s: current %+v, model %+v", s, a.Item, outs[j].Current, cur)
								}
							}
							mu.Unlock()
						}
					}(w)
				}
				wg.Wait()
				check(db)
				// Both paths must have run: with a small target sessions were
				// moved into answers; with a large one everything still waits
				// (until the first reopen recovers it).
				var inTable int
				if err := db.rdb.QueryRow("SELECT count(*) FROM answers").Scan(&inTable); err != nil {
					t.Fatal(err)
				}
				if target < 100 && inTable == 0 {
					t.Fatal("no session was moved into answers")
				}
				if target >= 100 && round == 0 && inTable != 0 {
					t.Fatalf("%d answers moved below the target", inTable)
				}
				// Reopen: what waited in the log is recovered into answers.
				if err := db.Close(); err != nil {
					t.Fatal(err)
				}
				if db, err = Open(ctx, dir, Options{tailTarget: target}); err != nil {
					t.Fatal(err)
				}
				var waiting int
				if err := db.rdb.QueryRow("SELECT count(*) FROM answer_log").Scan(&waiting); err != nil || waiting != 0 {
					t.Fatalf("answer_log after reopening: %d rows (%v)", waiting, err)
				}
				check(db)
			}
			db.Close()
		})
	}
}

// An erasure that drops answers, and the purge of anonymous sessions, reach
// the answers still waiting in the log: none is left behind there.
func TestDeletingAnswersEmptiesTheLog(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, p := openWithPerson(t)
	if _, err := db.CreateSession(ctx, store.Session{ID: "named", PersonID: p.ID, CreatedAt: storetest.T0}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateSession(ctx, store.Session{ID: "anon", CreatedAt: storetest.T0}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"named", "anon"} {
		if _, err := db.SaveAnswer(ctx, store.Answer{SessionID: s, Item: "q1", Value: 3, Seq: 1, At: storetest.T0}); err != nil {
			t.Fatal(err)
		}
	}
	logged := func(session string) int {
		var n int
		if err := db.rdb.QueryRow("SELECT count(*) FROM answer_log WHERE session_id = ?", session).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if logged("named") != 1 || logged("anon") != 1 {
		t.Fatal("the answers are not waiting in the log; the test proves nothing")
	}
	out, err := db.ErasePerson(ctx, store.Erasure{PersonID: p.ID, At: storetest.T0, DropAnswers: true})
	if err != nil {
		t.Fatal(err)
	}
	if out.Answers != 1 || logged("named") != 0 {
		t.Fatalf("erasure deleted %d answers, %d left in the log", out.Answers, logged("named"))
	}
	if a, err := db.ListAnswers(ctx, "named"); err != nil || len(a) != 0 {
		t.Fatalf("answers after erasure: %+v (%v)", a, err)
	}
	n, err := db.PurgeAnonymousSessions(ctx, storetest.T0.AddDate(1, 0, 0))
	if err != nil || n != 1 {
		t.Fatalf("purged %d (%v)", n, err)
	}
	if logged("anon") != 0 {
		t.Fatal("a purged session's answer is left in the log")
	}
	if a, err := db.ListAnswers(ctx, "anon"); err != nil || len(a) != 0 {
		t.Fatalf("answers after purge: %+v (%v)", a, err)
	}
}

// Another process that opens the store (xinling user, say, while the server
// runs) moves the log into answers and empties it. The server's later
// answers must still get rowids above those it holds: dropping the log's
// prefix below the oldest waiting answer relies on it, and a reused rowid
// would drop an acknowledged answer that so far lives only in the log.
func TestAnotherOpenEmptyingTheLogKeepsRowidsRising(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := Open(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range []string{"a", "b"} {
		if _, err := db.CreateSession(ctx, store.Session{ID: s, CreatedAt: storetest.T0}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 1; i <= 5; i++ {
		if _, err := db.SaveAnswer(ctx, store.Answer{SessionID: "a", Item: fmt.Sprintf("q%d", i), Value: 1, Seq: 1, At: storetest.T0}); err != nil {
			t.Fatal(err)
		}
	}
	var held int64
	db.tail.mu.RLock()
	for _, a := range db.tail.sessions["a"].answers {
		held = max(held, a.id)
	}
	db.tail.mu.RUnlock()
	other, err := Open(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	other.Close()
	if _, err := db.SaveAnswer(ctx, store.Answer{SessionID: "b", Item: "q1", Value: 1, Seq: 1, At: storetest.T0}); err != nil {
		t.Fatal(err)
	}
	var next int64
	if err := db.rdb.QueryRow("SELECT id FROM answer_log WHERE session_id = 'b'").Scan(&next); err != nil {
		t.Fatal(err)
	}
	if next <= held {
		t.Fatalf("after the log was emptied, a new answer got rowid %d, not above the %d held", next, held)
	}
	got, err := db.ListAnswers(ctx, "a")
	if err != nil || len(got) != 5 {
		t.Fatalf("session a after the other open: %d answers (%v)", len(got), err)
	}
}
