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
// Only reads made on the pool itself use the cache. A read transaction
// holds its connection, and preparing a new statement on the pool takes
// another: from inside transactions that held every connection, that
// waited forever (TestReadPoolNeverWaitsOnItself), so they run their
// queries unprepared.
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
