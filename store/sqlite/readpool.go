package sqlite

import (
	"context"
	"database/sql"
	"sync"
)

// readPool is the pool of read connections, with the statements it runs
// prepared once. database/sql prepares a query string on every call made
// on the *sql.DB itself, and parsing SQL in the pure-Go driver cost as
// much as running these point reads (a submit's answer list, the
// dispatcher's settings, the session behind a token). A *sql.Stmt on the
// pool prepares lazily on each connection and is safe for concurrent use.
//
// A read transaction holds its connection, and preparing a new statement
// on the pool takes another: from inside transactions that held every
// connection, that waited forever (TestReadPoolNeverWaitsOnItself). So a
// transaction names its queries when it begins (beginRead): they are
// prepared on the pool before it holds a connection, and inside it they
// run on its connection through Tx.StmtContext, which reuses what that
// connection has prepared. Any other query in a transaction runs
// unprepared.
type readPool struct {
	*sql.DB
	mu    sync.RWMutex
	stmts map[string]*sql.Stmt
}

// maxReadStmts bounds the cache: list queries are built from their
// filters, so their texts vary, though within a few hundred shapes. Past
// the bound a query is simply not cached.
const maxReadStmts = 512

func newReadPool(db *sql.DB) *readPool {
	return &readPool{DB: db, stmts: map[string]*sql.Stmt{}}
}

// stmt returns the prepared statement for q, or nil if it cannot be
// cached; the caller then runs q unprepared, so a bad query reports its
// error the usual way.
func (p *readPool) stmt(ctx context.Context, q string) *sql.Stmt {
	p.mu.RLock()
	s := p.stmts[q]
	full := len(p.stmts) >= maxReadStmts
	p.mu.RUnlock()
	if s != nil || full {
		return s
	}
	s, err := p.DB.PrepareContext(ctx, q)
	if err != nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if old := p.stmts[q]; old != nil {
		s.Close()
		return old
	}
	p.stmts[q] = s
	return s
}

func (p *readPool) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if s := p.stmt(ctx, q); s != nil {
		return s.QueryContext(ctx, args...)
	}
	return p.DB.QueryContext(ctx, q, args...)
}

func (p *readPool) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	if s := p.stmt(ctx, q); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return p.DB.QueryRowContext(ctx, q, args...)
}

// readTx is a read-only transaction that runs the queries named when it
// began as prepared statements.
type readTx struct {
	*sql.Tx
	p *readPool
}

// beginRead prepares queries on the pool, then begins a read-only
// transaction. Preparing first matters: see readPool.
func (p *readPool) beginRead(ctx context.Context, queries ...string) (*readTx, error) {
	for _, q := range queries {
		p.stmt(ctx, q)
	}
	tx, err := p.DB.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	return &readTx{Tx: tx, p: p}, nil
}

// prepared returns q's statement if it is already cached; it never
// prepares, since that would take a second connection.
func (t *readTx) prepared(q string) *sql.Stmt {
	t.p.mu.RLock()
	defer t.p.mu.RUnlock()
	return t.p.stmts[q]
}

func (t *readTx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if s := t.prepared(q); s != nil {
		return t.Tx.StmtContext(ctx, s).QueryContext(ctx, args...)
	}
	return t.Tx.QueryContext(ctx, q, args...)
}

func (t *readTx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	if s := t.prepared(q); s != nil {
		return t.Tx.StmtContext(ctx, s).QueryRowContext(ctx, args...)
	}
	return t.Tx.QueryRowContext(ctx, q, args...)
}

// Close closes the statements, then the pool. The statements are closed
// outside mu: closing one waits for its queries in flight.
func (p *readPool) Close() error {
	p.mu.Lock()
	stmts := p.stmts
	p.stmts = map[string]*sql.Stmt{}
	p.mu.Unlock()
	for _, s := range stmts {
		s.Close()
	}
	return p.DB.Close()
}
