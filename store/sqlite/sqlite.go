// Package sqlite is the embedded store: one SQLite file in WAL mode,
// written by a single goroutine that group-commits, with every write
// acknowledged only once the WAL that holds it is on disk.
//
// Why group commit: an fsync costs about as much for one answer as for a
// thousand, and durable acknowledgements are the product's promise. Writers
// queue operations; the writer goroutine runs everything queued in one
// transaction (an operation that fails rolls back alone, see run).
//
// Why the sync is not SQLite's: with synchronous=FULL, COMMIT returns only
// after its fsync, so the writer would sit idle for every fsync and the
// next batch could not start. The writer connection runs with
// synchronous=NORMAL instead, which in WAL mode keeps the database
// consistent (SQLite syncs the WAL before each checkpoint and the database
// after it) but does not sync at COMMIT; a second goroutine, the syncer,
// fsyncs the WAL after each commit and only then releases the batch's
// callers. A crash loses at most a suffix of the WAL (recovery stops at
// the first frame that fails its checksum), and nothing in that suffix was
// ever acknowledged. Readers may see a commit a few milliseconds before it
// is durable; a write that depends on it commits after it, so a crash that
// loses one loses both.
//
// Reads go through a separate pool of read-only connections, which WAL lets
// run alongside the writer.
package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"xinling/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// FileName is the database file inside the data directory.
const FileName = "xinling.db"

// Options tune the store; the zero value is sensible.
type Options struct {
	// MaxBatch caps the operations committed in one transaction.
	MaxBatch int
	// QueueLen is the capacity of the write queue.
	QueueLen int
	// Readers is the size of the read pool.
	Readers int
	// tailTarget, if set (tests), replaces the package's tailTarget: how
	// many answers may wait in the answer log before sessions are moved.
	tailTarget int
	// OnCommit, if set, is called by the writer after each committed
	// transaction with the operations it held (the group-commit batch
	// size, for metrics). It runs on the writer goroutine: it must be quick.
	OnCommit func(ops int)
}

// DB is the sqlite Store.
type DB struct {
	path           string
	rdb            *readPool // read pool
	wdb            *sql.DB   // owns the single writer connection
	wconn          *sql.Conn
	ckdb           *sql.DB // checkpointer's connection
	ckStop, ckDone chan struct{}
	stmts          map[string]*sql.Stmt // writer's prepared statements

	queue  chan *writeOp
	syncq  chan committed // committed batches, for the syncer
	broken atomic.Pointer[error]
	syncs  atomic.Int64
	// syncHook, if set (tests), runs before each WAL sync; an error fails
	// the sync.
	syncHook func() error
	closing  sync.Once
	closeMu  sync.RWMutex // held for reading while enqueueing, for writing by Close
	closed   bool
	done     chan struct{}

	maxBatch   int
	onCommit   func(ops int)
	commits    atomic.Int64
	ops        atomic.Int64
	walRestart atomic.Bool         // set by the checkpointer, done by the writer
	activity   map[string]int64    // last activity written per session; the writer's own
	open       map[string]struct{} // sessions the writer saw open (opencache.go)
	closers    map[string]bool     // prepared statement → it may close sessions

	// The answer log (answerlog.go): the committed answers waiting to be
	// moved, and the writer's own state of the open batch.
	tail        *answerTail
	logBatch    []logAnswer               // answers logged in the open batch
	batchIndex  map[string]map[string]int // session → item → index in logBatch
	moves       []string                  // sessions moved in the open batch
	fresh       map[string]bool           // created here, nothing in answers yet
	created     []string                  // sessions created in the open batch
	freshStale  bool                      // the open batch ran a statement that may delete sessions
	tailTarget  int
	walRestarts atomic.Int64
}

var (
	_ store.Store      = (*DB)(nil)
	_ store.ChangeFeed = (*DB)(nil)
)
var _ store.Backuper = (*DB)(nil)

// Open opens (creating if needed) the store in dir and applies migrations.
func Open(ctx context.Context, dir string, opt Options) (*DB, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("sqlite: data dir: %w", err)
	}
	if opt.MaxBatch <= 0 {
		opt.MaxBatch = 2048
	}
	if opt.QueueLen <= 0 {
		opt.QueueLen = 8192
	}
	if opt.Readers <= 0 {
		opt.Readers = max(4, 2*runtime.GOMAXPROCS(0))
	}
	path := filepath.Join(dir, FileName)
	wdb, err := sql.Open(driverName, dsn(path, true))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	wdb.SetConnMaxLifetime(0)
	wconn, err := wdb.Conn(ctx)
	if err != nil {
		wdb.Close()
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	db := &DB{path: path, wdb: wdb, wconn: wconn, stmts: map[string]*sql.Stmt{}, activity: map[string]int64{},
		open: map[string]struct{}{}, closers: map[string]bool{},
		tail: newAnswerTail(), batchIndex: map[string]map[string]int{}, fresh: map[string]bool{}, tailTarget: cmp.Or(opt.tailTarget, tailTarget),
		queue: make(chan *writeOp, opt.QueueLen), syncq: make(chan committed), done: make(chan struct{}), maxBatch: opt.MaxBatch, onCommit: opt.OnCommit}
	if err := db.checkPragmas(ctx); err != nil {
		db.closeConns()
		return nil, err
	}
	if err := db.migrate(ctx); err != nil {
		db.closeConns()
		return nil, err
	}
	if err := db.recoverAnswerLog(ctx); err != nil {
		db.closeConns()
		return nil, err
	}
	rpool, err := sql.Open(driverName, dsn(path, false))
	if err != nil {
		db.closeConns()
		return nil, fmt.Errorf("sqlite: open readers: %w", err)
	}
	db.rdb = newReadPool(rpool)
	db.rdb.SetMaxOpenConns(opt.Readers)
	db.rdb.SetMaxIdleConns(opt.Readers)
	// The writer must only ever fsync the WAL on its path: a checkpoint
	// (copying the WAL into the database file and fsyncing that) would stall
	// every queued caller. So automatic checkpoints are off on the writer and
	// a background goroutine checkpoints through its own connection instead.
	if _, err := db.wconn.ExecContext(ctx, "PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = 67108864"); err != nil {
		db.closeConns()
		return nil, fmt.Errorf("sqlite: pragma: %w", err)
	}
	// The syncer, not COMMIT, makes batches durable (see the package doc).
	if err := db.relaxCommitSync(ctx); err != nil {
		db.closeConns()
		return nil, err
	}
	db.ckdb, err = sql.Open(driverName, dsn(path, true))
	if err != nil {
		db.closeConns()
		return nil, fmt.Errorf("sqlite: open checkpointer: %w", err)
	}
	db.ckdb.SetMaxOpenConns(1)
	db.ckStop = make(chan struct{})
	db.ckDone = make(chan struct{})
	go db.checkpointer()
	go db.syncer()
	go db.writer()
	return db, nil
}

// walRestartFrames is the WAL length (in 4 KiB pages, so about 32 MiB) at
// which the log is made to start over.
var walRestartFrames int64 = 8192

// checkpointer copies the WAL into the database in the background. PASSIVE
// never blocks the writer or readers; it does what it can and the next
// round does the rest. But under a steady stream of commits a passive
// checkpoint never finds the log fully copied when the next write begins,
// so the log never starts over and grows without bound (3 GB in 90 s of a
// load test), and every read gets slower with it. Once the log passes
// walRestartFrames, the writer is asked to run a RESTART checkpoint between
// two batches (from this connection it would starve: the writer takes the
// lock again the moment it commits). It copies what little PASSIVE left
// and makes the next write start the log from its beginning;
// journal_size_limit then trims the file.
func (db *DB) checkpointer() {
	defer close(db.ckDone)
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	last := db.commits.Load()
	for {
		select {
		case <-db.ckStop:
			return
		case <-t.C:
		}
		c := db.commits.Load()
		if c == last {
			continue
		}
		last = c
		var busy, logFrames, copied int64
		if err := db.ckdb.QueryRow("PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logFrames, &copied); err != nil {
			continue
		}
		if logFrames >= walRestartFrames {
			db.walRestart.Store(true)
		}
	}
}

// checkPragmas refuses to run with weaker durability than promised, should a
// driver ignore a DSN setting.
func (db *DB) checkPragmas(ctx context.Context) error {
	var mode string
	if err := db.wconn.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("sqlite: pragma: %w", err)
	}
	var syncMode, fk int
	if err := db.wconn.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&syncMode); err != nil {
		return fmt.Errorf("sqlite: pragma: %w", err)
	}
	if err := db.wconn.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil {
		return fmt.Errorf("sqlite: pragma: %w", err)
	}
	if !strings.EqualFold(mode, "wal") || syncMode != 2 || fk != 1 {
		return fmt.Errorf("sqlite: journal_mode=%s synchronous=%d foreign_keys=%d, want wal/2/1", mode, syncMode, fk)
	}
	return nil
}

// recoverAnswerLog moves what a previous run left in answer_log into
// answers, before the writer starts: the tail in memory starts empty.
func (db *DB) recoverAnswerLog(ctx context.Context) (err error) {
	c := db.wconn
	if _, err := c.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("sqlite: answer log recovery: %w", err)
	}
	defer func() {
		if err != nil {
			_, _ = c.ExecContext(ctx, "ROLLBACK")
			err = fmt.Errorf("sqlite: answer log recovery: %w", err)
		}
	}()
	if _, err = c.ExecContext(ctx, moveLogSQL); err != nil {
		return err
	}
	if _, err = c.ExecContext(ctx, "DELETE FROM answer_log"); err != nil {
		return err
	}
	_, err = c.ExecContext(ctx, "COMMIT")
	return err
}

// relaxCommitSync sets the writer connection to synchronous=NORMAL, once
// the WAL exists (the syncer opens it by name), and checks that it took.
func (db *DB) relaxCommitSync(ctx context.Context) error {
	if _, err := os.Stat(db.path + "-wal"); err != nil {
		return fmt.Errorf("sqlite: the WAL is missing after opening: %w", err)
	}
	if _, err := db.wconn.ExecContext(ctx, "PRAGMA synchronous = NORMAL"); err != nil {
		return fmt.Errorf("sqlite: pragma: %w", err)
	}
	var mode int
	if err := db.wconn.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&mode); err != nil {
		return fmt.Errorf("sqlite: pragma: %w", err)
	}
	if mode != 1 {
		return fmt.Errorf("sqlite: synchronous=%d on the writer, want 1 (NORMAL)", mode)
	}
	return nil
}

func (db *DB) migrate(ctx context.Context) error {
	c := db.wconn
	if _, err := c.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("sqlite: migrations table: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		base := filepath.Base(name)
		v, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("sqlite: migration name %s: %w", base, err)
		}
		var n int
		if err := c.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations WHERE version = ?", v).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			continue
		}
		src, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		if err := db.applyMigration(ctx, v, base, string(src)); err != nil {
			return fmt.Errorf("sqlite: migration %s: %w", base, err)
		}
	}
	return nil
}

func (db *DB) applyMigration(ctx context.Context, v int, name, src string) (err error) {
	c := db.wconn
	if _, err := c.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_, _ = c.ExecContext(ctx, "ROLLBACK")
		}
	}()
	if _, err = c.ExecContext(ctx, src); err != nil {
		return err
	}
	if _, err = c.ExecContext(ctx, "INSERT INTO schema_migrations(version, name, applied_at) VALUES (?, ?, ?)",
		v, name, time.Now().UnixMilli()); err != nil {
		return err
	}
	_, err = c.ExecContext(ctx, "COMMIT")
	return err
}

// Stats counts the writer's work since Open: transactions committed and
// operations in them. Ops/Commits is the mean group-commit batch.
type Stats struct {
	Commits int64
	Ops     int64
}

// Stats returns the writer's counters.
func (db *DB) Stats() Stats {
	return Stats{Commits: db.commits.Load(), Ops: db.ops.Load()}
}

// Path returns the database file.
func (db *DB) Path() string { return db.path }

// Ping checks that a read connection works and that no WAL sync has
// failed: after one, writes are refused and the server is not ready.
func (db *DB) Ping(ctx context.Context) error {
	if broken := db.broken.Load(); broken != nil {
		return *broken
	}
	if err := db.readable(); err != nil {
		return err
	}
	defer db.closeMu.RUnlock()
	var one int
	return db.rdb.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// readable holds closeMu for reading, until the caller releases it, unless
// the store is closed. Probes and scrapes run during shutdown too; without
// this they would find the read pool gone.
func (db *DB) readable() error {
	db.closeMu.RLock()
	if db.closed {
		db.closeMu.RUnlock()
		return errClosed
	}
	return nil
}

// Close stops accepting writes, lets the writer drain what is queued, and
// closes the database.
func (db *DB) Close() error {
	db.closing.Do(func() {
		db.closeMu.Lock()
		db.closed = true
		close(db.queue)
		db.closeMu.Unlock()
		<-db.done
		if db.ckStop != nil {
			close(db.ckStop)
			<-db.ckDone
		}
	})
	return db.closeConns()
}

func (db *DB) closeConns() error {
	var errs []error
	for _, s := range db.stmts {
		errs = append(errs, s.Close())
	}
	db.stmts = map[string]*sql.Stmt{}
	if db.wconn != nil {
		errs = append(errs, db.wconn.Close())
		db.wconn = nil
	}
	if db.wdb != nil {
		errs = append(errs, db.wdb.Close())
		db.wdb = nil
	}
	if db.rdb != nil {
		errs = append(errs, db.rdb.Close())
		db.rdb = nil
	}
	if db.ckdb != nil {
		errs = append(errs, db.ckdb.Close())
		db.ckdb = nil
	}
	return errors.Join(errs...)
}

// Backup writes a consistent copy of the live database to dst with VACUUM
// INTO. It runs on a read connection, so writers keep going meanwhile; the
// copy is the snapshot at the start of the statement. dst must not exist.
func (db *DB) Backup(ctx context.Context, dst string) error {
	if _, err := os.Stat(dst); err == nil {
		return fmt.Errorf("%w: backup target %s exists", store.ErrConflict, dst)
	}
	// VACUUM INTO writes, so it cannot use a query_only connection.
	c, err := sql.Open(driverName, dsn(db.path, true))
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.ExecContext(ctx, "VACUUM INTO ?", dst); err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	return nil
}
