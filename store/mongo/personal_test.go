package mongo

import (
	"testing"

	"xinling/store"
)

// TestPersonalCoversInventory: ErasePerson does to each record type what
// the inventory says, and Reseal walks every record type it seals.
func TestPersonalCoversInventory(t *testing.T) {
	for _, r := range store.ErasedRecords() {
		if got, want := erasedHere[r], store.RecordErasure(r); got != want {
			t.Errorf("the inventory says an erasure does %q to %s records, ErasePerson does %q (store/mongo/persons.go, erasedHere)", want, r, got)
		}
	}
	for r := range erasedHere {
		if store.RecordErasure(r) == store.EraseKeep {
			t.Errorf("ErasePerson erases %s records, which the inventory keeps", r)
		}
	}
	for r, d := range recordDocs {
		for _, f := range store.ErasedFields(r) {
			if d.inside != "" && f.IsBytes() {
				// held uses $ne nil for bytes, which on a path into an
				// array matches only when no element is null.
				t.Errorf("%s: bytes inside %s need another erasure filter", f.Name(), d.inside)
			}
		}
	}
	walked := map[string]bool{}
	for _, s := range sealedFields {
		walked[s.coll] = true
	}
	for _, f := range store.Personal {
		d, ok := recordDocs[f.Record]
		if f.Sealed != "" && (!ok || !walked[d.coll]) {
			t.Errorf("%s is sealed, but Reseal does not walk %s records (reseal.go, sealedFields)", f.Name(), f.Record)
		}
		if f.Sealed != "" && d.inside != "" && f.Name() != "WarningEvent.Note" && d.coll != cNotifySettings {
			t.Errorf("%s: Reseal walks only history notes and a unit's endpoints and contacts inside documents", f.Name())
		}
	}
}
