package sqlite

import (
	"context"
	"testing"

	"xinling/store"
	"xinling/store/storetest"
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

// openWithPerson opens a store holding one person, p1, for tests of what
// happens to a named person's sessions.
func openWithPerson(t *testing.T) (*DB, store.Person) {
	t.Helper()
	db := openTestDB(t, Options{})
	p, err := db.CreatePerson(context.Background(), store.Person{ID: "p1", Sex: "f", CreatedAt: storetest.T0})
	if err != nil {
		t.Fatal(err)
	}
	return db, p
}
