package sqlite

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"xinling/store"
	"xinling/store/storetest"
)

// The read pool prepares each query once, still reports a bad query's
// error, and stops caching at its bound without failing queries.
func TestReadPoolPreparesOnceAndStaysBounded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openTestDB(t, Options{})
	p := db.rdb
	var one int
	for range 3 {
		if err := p.QueryRowContext(ctx, "SELECT 1 WHERE ? = 1", 1).Scan(&one); err != nil || one != 1 {
			t.Fatalf("SELECT 1: %v %v", one, err)
		}
	}
	p.mu.RLock()
	cached := p.stmts["SELECT 1 WHERE ? = 1"] != nil
	p.mu.RUnlock()
	if !cached {
		t.Fatal("a query run three times is not prepared")
	}
	if err := p.QueryRowContext(ctx, "SELEKT 1").Scan(&one); err == nil || !strings.Contains(err.Error(), "syntax") {
		t.Fatalf("a bad query reports %v, want its syntax error", err)
	}
	for i := range maxReadStmts + 10 {
		rows, err := p.QueryContext(ctx, fmt.Sprintf("SELECT %d", i))
		if err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
	p.mu.RLock()
	n := len(p.stmts)
	p.mu.RUnlock()
	if n > maxReadStmts {
		t.Fatalf("%d statements cached, bound %d", n, maxReadStmts)
	}
}

// Reads in a transaction and plain reads, from many more goroutines than
// the pool has connections, all finish. A read transaction holds its
// connection: a statement cache that prepared on the pool from inside one
// needed a second connection, and with every connection held by such a
// transaction the readers (and the dispatcher, which reads settings this
// way) stopped for good.
func TestReadPoolNeverWaitsOnItself(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db := openTestDB(t, Options{Readers: 2})
	if _, err := db.CreateUnit(ctx, store.Unit{ID: "u1", Name: "u1", Kind: "school"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.PutNotifySettings(ctx, storetest.NotifyFixture("u1")); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 40 {
				var err error
				if (g+i)%2 == 0 {
					_, err = db.GetNotifySettings(ctx, "u1")
				} else {
					_, err = db.GetUnit(ctx, "u1")
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("a read failed or waited past the deadline: %v", err)
	}
}

// A read transaction runs the queries it named as prepared statements, on
// its own connection, and still sees what they read.
func TestReadTxRunsItsQueriesPrepared(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openTestDB(t, Options{Readers: 1})
	if _, err := db.CreateUnit(ctx, store.Unit{ID: "u1", Name: "u1", Kind: "school"}); err != nil {
		t.Fatal(err)
	}
	want := storetest.NotifyFixture("u1")
	if _, err := db.PutNotifySettings(ctx, want); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		got, err := db.GetNotifySettings(ctx, "u1")
		if err != nil || len(got.Contacts) != len(want.Contacts) || len(got.Endpoints) != len(want.Endpoints) {
			t.Fatalf("settings read in a prepared transaction: %+v %v", got, err)
		}
	}
	db.rdb.mu.RLock()
	defer db.rdb.mu.RUnlock()
	for _, q := range []string{qNotifySettings, qNotifyEndpoints, qNotifyContacts} {
		if db.rdb.stmts[q] == nil {
			t.Errorf("not prepared: %s", q)
		}
	}
}
