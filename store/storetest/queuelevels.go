package storetest

import (
	"testing"
	"time"

	"xinling/store"
)

// testQueueLevels: the metrics' view of the queue counts only unclaimed
// entries, dates the oldest, and counts those past their deadline.
func testQueueLevels(t *testing.T, s store.Store) {
	tree(t, s)
	got, err := s.QueueLevels(ctx, T0)
	must(t, err)
	if len(got) != 0 {
		t.Fatalf("empty queue: %+v", got)
	}
	flagged(t, s, "class1", 1, at(time.Minute))
	flagged(t, s, "class2", 1, at(30*time.Minute))
	gone := flagged(t, s, "class3", 1, T0) // the oldest, but claimed: not waiting
	claimed(t, s, gone, "a")
	flagged(t, s, "school", 3, at(10*time.Minute))
	got, err = s.QueueLevels(ctx, at(65*time.Minute)) // only the first is past its hour
	must(t, err)
	want := []store.QueueLevel{
		{Level: 1, Open: 2, Oldest: at(time.Minute), Overdue: 1},
		{Level: 3, Open: 1, Oldest: at(10 * time.Minute), Overdue: 0},
	}
	if len(got) != len(want) {
		t.Fatalf("QueueLevels = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i].Level != want[i].Level || got[i].Open != want[i].Open || !got[i].Oldest.Equal(want[i].Oldest) || got[i].Overdue != want[i].Overdue {
			t.Fatalf("QueueLevels = %+v, want %+v", got, want)
		}
	}
}
