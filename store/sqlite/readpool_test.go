package sqlite

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// The read pool prepares each query once, still reports a bad query's
// error, and stops caching at its bound without failing queries.
func TestReadPoolPreparesOnceAndStaysBounded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := Open(ctx, t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
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
