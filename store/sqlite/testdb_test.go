package sqlite

import (
	"context"
	"testing"
)

// openTestDB opens a store in a fresh directory, closed when the test ends.
func openTestDB(t *testing.T, opt Options) *DB {
	t.Helper()
	db, err := Open(context.Background(), t.TempDir(), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
