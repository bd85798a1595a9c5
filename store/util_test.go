package store

import (
	"testing"
	"time"
)

// Ids fit the id alphabet, never repeat, and sort in the order they were
// made once a millisecond has passed between them.
func TestNewIDIsValidUniqueAndTimeOrdered(t *testing.T) {
	seen := map[string]bool{}
	prev := ""
	for i := 0; i < 2000; i++ {
		id := NewID()
		if len(id) != 26 || !ValidID(id) {
			t.Fatalf("NewID() = %q: want 26 characters of the id alphabet", id)
		}
		if seen[id] {
			t.Fatalf("NewID() repeated %q", id)
		}
		seen[id] = true
		if i%500 == 0 {
			if prev != "" && id <= prev {
				t.Fatalf("%q made a millisecond after %q sorts before it", id, prev)
			}
			prev = id
			time.Sleep(2 * time.Millisecond)
		}
	}
	// The random part varies: two ids of one millisecond share at most the
	// time prefix (10 characters).
	a, b := NewID(), NewID()
	if a[10:] == b[10:] {
		t.Fatalf("ids %q and %q share their random part", a, b)
	}
}
