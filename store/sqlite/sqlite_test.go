package sqlite

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"xinling/store"
	"xinling/store/storetest"
)

func open(t *testing.T) store.Store { return openTestDB(t, Options{}) }

func TestContract(t *testing.T) {
	t.Parallel()
	storetest.Run(t, open)
}

// A write that fails after writing inside a batch must roll back alone and
// not take the other writes of its batch with it.
func TestBadWriteInBatchLosesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := open(t).(*DB)
	sess, err := db.CreateSession(ctx, store.Session{ID: "s1", CreatedAt: storetest.T0})
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	var wg sync.WaitGroup
	const n = 200
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if i%10 == 0 {
				// Writes, then fails: its row must vanish with its savepoint.
				errs[i] = db.write(ctx, func(w *wtx) error {
					if _, err := w.exec("INSERT INTO answers(session_id, item, value, seq, at) VALUES ('s1', ?, 0, 1, 0)", "bad"+string(rune('A'+i/10))); err != nil {
						return err
					}
					return boom
				})
				return
			}
			_, errs[i] = db.SaveAnswer(ctx, store.Answer{SessionID: sess.ID, Item: string(rune(0x4e00 + i)), Value: 1, Seq: 1, At: storetest.T0})
		}(i)
	}
	wg.Wait()
	for i, err := range errs {
		if i%10 == 0 {
			if !errors.Is(err, boom) {
				t.Fatalf("bad write %d returned %v", i, err)
			}
		} else if err != nil {
			t.Fatalf("good write %d failed: %v", i, err)
		}
	}
	answers, err := db.ListAnswers(ctx, sess.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(answers) != n-n/10 {
		t.Fatalf("%d answers stored, want %d", len(answers), n-n/10)
	}
	if s := db.Stats(); s.Commits == 0 || s.Ops < int64(len(answers)) {
		t.Fatalf("stats = %+v", s)
	}
}

// A panicking write fails alone; the writer keeps serving.
func TestPanickingWrite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := open(t).(*DB)
	err := db.write(ctx, func(*wtx) error { panic("bug") })
	if err == nil {
		t.Fatal("panic not reported")
	}
	if _, err := db.CreateSession(ctx, store.Session{ID: "s1", CreatedAt: storetest.T0}); err != nil {
		t.Fatal(err)
	}
}

// A write is acknowledged only once the WAL holding it has been synced: the
// writer connection itself no longer syncs at COMMIT (synchronous=NORMAL).
func TestAcknowledgedOnlyAfterWALSync(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := open(t).(*DB)
	var mode int
	if err := db.wconn.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&mode); err != nil || mode != 1 {
		t.Fatalf("writer synchronous = %d (%v), want 1: the syncer makes commits durable", mode, err)
	}
	syncing, release := make(chan struct{}), make(chan struct{})
	db.syncHook = func() error {
		close(syncing)
		<-release
		return nil
	}
	done := make(chan error, 1)
	go func() {
		_, err := db.CreateSession(ctx, store.Session{ID: "s1", CreatedAt: storetest.T0})
		done <- err
	}()
	<-syncing
	select {
	case err := <-done:
		t.Fatalf("acknowledged (%v) while its WAL sync had not finished", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if db.syncs.Load() < 1 {
		t.Fatal("no WAL sync counted")
	}
}

// A failed WAL sync fails the writes it covered and every write after it,
// while reads go on; the store no longer reports itself ready.
func TestFailedWALSyncFailsWrites(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := open(t).(*DB)
	if _, err := db.CreateSession(ctx, store.Session{ID: "s1", CreatedAt: storetest.T0}); err != nil {
		t.Fatal(err)
	}
	eio := errors.New("input/output error")
	db.syncHook = func() error { return eio }
	if _, err := db.SaveAnswer(ctx, store.Answer{SessionID: "s1", Item: "q1", Value: 1, Seq: 1, At: storetest.T0}); !errors.Is(err, eio) {
		t.Fatalf("save with a failed sync: %v, want the sync's error", err)
	}
	db.syncHook = nil
	if _, err := db.CreateSession(ctx, store.Session{ID: "s2", CreatedAt: storetest.T0}); !errors.Is(err, eio) {
		t.Fatalf("write after a failed sync: %v, want it refused", err)
	}
	if _, err := db.GetSession(ctx, "s1"); err != nil {
		t.Fatalf("read after a failed sync: %v", err)
	}
	if err := db.Ping(ctx); !errors.Is(err, eio) {
		t.Fatalf("ping after a failed sync: %v, want not ready", err)
	}
}

// Acknowledged writes survive a reopen; migrations run once.
func TestReopen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := Open(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateSession(ctx, store.Session{ID: "s1", CreatedAt: storetest.T0}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SaveAnswer(ctx, store.Answer{SessionID: "s1", Item: "q1", Value: 3, Seq: 1, At: storetest.T0}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a, err := db.ListAnswers(ctx, "s1")
	if err != nil || len(a) != 1 || a[0].Value != 3 {
		t.Fatalf("after reopen: %v %+v", err, a)
	}
	// Each embedded migration is recorded once, and reopening applies none again.
	files, _ := fs.Glob(migrations, "migrations/*.sql")
	var n int
	if err := db.rdb.QueryRow("SELECT count(*) FROM schema_migrations").Scan(&n); err != nil || n != len(files) || n < 2 {
		t.Fatalf("schema_migrations rows = %d (%v), migrations %d", n, err, len(files))
	}
}

// Backup under concurrent writes yields a consistent, openable copy.
func TestBackup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := open(t).(*DB)
	if _, err := db.CreateSession(ctx, store.Session{ID: "s1", CreatedAt: storetest.T0}); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := int64(1); ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := db.SaveAnswer(ctx, store.Answer{SessionID: "s1", Item: "q", Value: float64(i), Seq: i, At: storetest.T0}); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	time.Sleep(20 * time.Millisecond)
	dst := filepath.Join(t.TempDir(), "copy", FileName)
	if err := db.Backup(ctx, filepath.Join(filepath.Dir(filepath.Dir(dst)), FileName)); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	if err := db.Backup(ctx, filepath.Join(filepath.Dir(filepath.Dir(dst)), FileName)); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("backup over an existing file: %v", err)
	}
	cp, err := Open(ctx, filepath.Dir(filepath.Dir(dst)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	a, err := cp.ListAnswers(ctx, "s1")
	if err != nil || len(a) != 1 {
		t.Fatalf("backup copy: %v %+v", err, a)
	}
}

// Under a steady stream of commits the WAL must still start over: a log
// that only grows makes every read slower and fills the disk.
//
// Not parallel: it lowers the package's walRestartFrames, which every Open reads.
func TestWALStaysBoundedUnderSustainedWrites(t *testing.T) {
	old := walRestartFrames
	walRestartFrames = 256 // 1 MiB, so the test needs little data
	defer func() { walRestartFrames = old }()
	dir := t.TempDir()
	db, err := Open(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := store.NewID()
			if _, err := db.CreateSession(ctx, store.Session{ID: id, Instruments: []string{"x"}, CreatedAt: time.Now()}); err != nil {
				t.Error(err)
				return
			}
			for n := 0; n < 400; n++ {
				a := store.Answer{SessionID: id, Item: fmt.Sprintf("q%d", n), Value: 1, Seq: 1, At: time.Now()}
				if _, err := db.SaveAnswer(ctx, a); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	// The checkpointer runs on its own clock: wait for its restart rather
	// than sleeping a fixed round.
	for deadline := time.Now().Add(10 * time.Second); db.walRestarts.Load() == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the WAL never started over during sustained writes")
		}
	}
	if st, err := os.Stat(filepath.Join(dir, FileName+"-wal")); err == nil && st.Size() > 64<<20 {
		t.Fatalf("WAL is %d bytes, beyond journal_size_limit", st.Size())
	}
}
