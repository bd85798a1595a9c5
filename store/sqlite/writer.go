package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"slices"
)

var errClosed = errors.New("sqlite: store closed")

// writeOp is one caller's write. fn runs on the writer connection inside the
// batch transaction and a savepoint of its own; it may run twice (see run),
// so it must set its outputs afresh each time.
type writeOp struct {
	ctx  context.Context
	fn   func(*wtx) error
	done chan error
}

// wtx gives an operation the writer connection with cached statements.
type wtx struct {
	db *DB
}

func (w *wtx) stmt(q string) (*sql.Stmt, error) {
	if s, ok := w.db.stmts[q]; ok {
		return s, nil
	}
	s, err := w.db.wconn.PrepareContext(context.Background(), q)
	if err != nil {
		return nil, err
	}
	w.db.stmts[q] = s
	w.db.closers[q] = mayCloseSessions(q)
	return s, nil
}

func (w *wtx) exec(q string, args ...any) (sql.Result, error) {
	s, err := w.stmt(q)
	if err != nil {
		return nil, err
	}
	w.noteSessionsChange(q)
	return s.Exec(args...)
}

func (w *wtx) queryRow(q string, args ...any) *sql.Row {
	s, err := w.stmt(q)
	if err != nil {
		// Surface the prepare error through Scan.
		return w.db.wconn.QueryRowContext(context.Background(), q, args...)
	}
	w.noteSessionsChange(q)
	return s.QueryRow(args...)
}

func (w *wtx) query(q string, args ...any) (*sql.Rows, error) {
	s, err := w.stmt(q)
	if err != nil {
		return nil, err
	}
	w.noteSessionsChange(q)
	return s.Query(args...)
}

// noteSessionsChange runs before each statement the writer executes, reads
// included (an UPDATE … RETURNING is read as rows). If q may close or
// delete sessions, the writer forgets which were open (opencache.go), and
// readers which were fresh once this batch commits.
func (w *wtx) noteSessionsChange(q string) {
	if w.db.closers[q] {
		clear(w.db.open)
		w.db.freshStale = true
	}
}

// write queues fn and waits until its batch has committed and the WAL that
// holds it is on disk (or it failed). A cancelled ctx releases the caller
// early, but an operation that already reached the writer may still
// commit: only a nil return is an acknowledgement.
func (db *DB) write(ctx context.Context, fn func(*wtx) error) error {
	if broken := db.broken.Load(); broken != nil {
		return *broken
	}
	op := &writeOp{ctx: ctx, fn: fn, done: make(chan error, 1)}
	db.closeMu.RLock()
	if db.closed {
		db.closeMu.RUnlock()
		return errClosed
	}
	select {
	case db.queue <- op:
		db.closeMu.RUnlock()
	case <-ctx.Done():
		db.closeMu.RUnlock()
		return ctx.Err()
	}
	select {
	case err := <-op.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (db *DB) writer() {
	defer close(db.syncq)
	batch := make([]*writeOp, 0, db.maxBatch)
	for op := range db.queue {
		batch = append(batch[:0], op)
	drain:
		for len(batch) < db.maxBatch {
			select {
			case op, ok := <-db.queue:
				if !ok {
					break drain
				}
				batch = append(batch, op)
			default:
				break drain
			}
		}
		errs := db.run(batch)
		// The syncer releases the callers once the WAL holding this batch
		// is on disk; meanwhile the writer goes on with the next batch.
		db.syncq <- committed{ops: slices.Clone(batch), errs: errs}
		clear(batch)
		if db.walRestart.CompareAndSwap(true, false) {
			// Writes queued meanwhile wait for this, which PASSIVE has
			// mostly done already. With synchronous=NORMAL, SQLite syncs
			// the WAL before it copies it and the database after.
			if _, err := db.wconn.ExecContext(context.Background(), "PRAGMA wal_checkpoint(RESTART)"); err == nil {
				db.walRestarts.Add(1)
			}
		}
	}
}

// committed is a batch whose transaction has committed, with each
// operation's outcome, waiting for the WAL sync that makes it durable.
type committed struct {
	ops  []*writeOp
	errs []error
}

// syncer makes committed batches durable and only then releases their
// callers: one fsync of the WAL covers every batch committed before it, so
// while it runs, the writer commits the next batches instead of waiting.
// A failed sync fails every operation it covered, and every write after it
// (see write): after a failed fsync the kernel may have dropped the pages,
// so nothing that follows can be promised either.
func (db *DB) syncer() {
	defer close(db.done)
	for c := range db.syncq {
		group := []committed{c}
	drain:
		for {
			select {
			case c, ok := <-db.syncq:
				if !ok {
					break drain
				}
				group = append(group, c)
			default:
				break drain
			}
		}
		err := db.syncWAL()
		if err != nil {
			db.broken.CompareAndSwap(nil, &err)
		}
		for _, c := range group {
			for i, op := range c.ops {
				e := c.errs[i]
				if e == nil && err != nil {
					e = err
				}
				op.done <- e
			}
		}
	}
}

// syncWAL fsyncs the write-ahead log. It opens the file by name each time:
// SQLite deletes and recreates the WAL only when every connection has
// closed, but a descriptor kept across that would sync a dead file. (SQLite
// keeps no POSIX locks on the WAL, so closing this descriptor cannot drop
// one of its locks, as closing one on the database file would.)
func (db *DB) syncWAL() error {
	if db.syncHook != nil {
		if err := db.syncHook(); err != nil {
			return err
		}
	}
	f, err := os.Open(db.path + "-wal")
	if err != nil {
		return fmt.Errorf("sqlite: open the WAL to sync it: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sqlite: sync the WAL: %w", err)
	}
	db.syncs.Add(1)
	return nil
}

// run commits a batch and returns each operation's error.
//
// The fast path runs every operation straight in the batch transaction. If
// any of them fails, the transaction is rolled back unseen and the batch is
// run again with a savepoint around each operation, so the failing one
// rolls back alone. Savepoints cost two statements per operation, and
// failures are rare on the hot path (a stale answer is an outcome, not an
// error), so paying them only when needed nearly halves the writer's work.
//
// If COMMIT itself fails, nothing of the batch was written; each operation
// is then retried in a transaction of its own, so one poisoned write cannot
// take the others down with it.
func (db *DB) run(batch []*writeOp) []error {
	errs, err := db.runTx(batch, false)
	if errors.Is(err, errOpFailed) {
		errs, err = db.runTx(batch, true)
	}
	if err == nil {
		return errs
	}
	if len(batch) == 1 {
		return []error{err}
	}
	errs = make([]error, len(batch))
	for i := range batch {
		one, err := db.runTx(batch[i:i+1], true)
		if err != nil {
			errs[i] = err
		} else {
			errs[i] = one[0]
		}
	}
	return errs
}

// control runs a transaction control statement on the writer's connection,
// prepared once: the driver parses a statement on every unprepared call,
// and each batch runs two of these.
func (db *DB) control(q string) (sql.Result, error) {
	s, err := (&wtx{db: db}).stmt(q)
	if err != nil {
		return nil, err
	}
	return s.Exec()
}

// errOpFailed aborts a fast-path transaction in which an operation failed.
var errOpFailed = errors.New("sqlite: an operation failed without savepoints")

func (db *DB) runTx(batch []*writeOp, savepoints bool) (errs []error, err error) {
	errs = make([]error, len(batch))
	if _, err := db.control("BEGIN IMMEDIATE"); err != nil {
		return nil, fmt.Errorf("sqlite: begin: %w", err)
	}
	abort := func(err error) ([]error, error) {
		_, _ = db.control("ROLLBACK")
		// What the writer remembers of written activity and logged
		// answers, and the sessions it saw open, may have been rolled back
		// with the rest.
		clear(db.activity)
		clear(db.open)
		db.discardBatch()
		return nil, err
	}
	w := &wtx{db: db}
	n := 0
	for i, op := range batch {
		if err := op.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		if !savepoints {
			if errs[i] = call(op.fn, w); errs[i] != nil {
				return abort(errOpFailed)
			}
			n++
			continue
		}
		if _, err := w.exec("SAVEPOINT op"); err != nil {
			return abort(fmt.Errorf("sqlite: savepoint: %w", err))
		}
		mark := db.batchMark()
		errs[i] = call(op.fn, w)
		if errs[i] != nil {
			clear(db.activity)
			clear(db.open)
			db.rollbackBatchTo(mark)
			if _, err := w.exec("ROLLBACK TO op"); err != nil {
				return abort(fmt.Errorf("sqlite: rollback to savepoint: %w", err))
			}
		} else {
			n++
		}
		if _, err := w.exec("RELEASE op"); err != nil {
			return abort(fmt.Errorf("sqlite: release savepoint: %w", err))
		}
	}
	w.moveSome()
	if _, err := db.control("COMMIT"); err != nil {
		return abort(fmt.Errorf("sqlite: commit: %w", err))
	}
	db.publishBatch()
	db.commits.Add(1)
	db.ops.Add(int64(n))
	if db.onCommit != nil {
		db.onCommit(n)
	}
	return errs, nil
}

// call runs fn and turns a panic into that operation's error, so a bug in
// one write cannot kill the writer and strand every other caller.
func call(fn func(*wtx) error, w *wtx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("sqlite: write panicked: %v", r)
		}
	}()
	return fn(w)
}
