package sealed

import (
	"slices"
	"testing"

	"xinling/store"
)

// TestSealsTheInventory: every record with a field the inventory marks
// sealed is sealed by this layer, from the inventory or (history notes) by
// hand. The contract's SealedInventory checks the result on each backend.
func TestSealsTheInventory(t *testing.T) {
	byHand := []string{"WarningEvent"}
	for _, f := range store.Personal {
		if f.Sealed != "" && !slices.Contains(sealedRecords, f.Record) && !slices.Contains(byHand, f.Record) {
			t.Errorf("%s is sealed in the inventory, but this layer does not seal %s records: "+
				"seal them in store.go (sealFields/openFields) and add the type to sealedRecords", f.Name(), f.Record)
		}
	}
	for _, r := range sealedRecords {
		if len(store.SealedFields(r)) == 0 {
			t.Errorf("%s is in sealedRecords but has no sealed field in the inventory", r)
		}
	}
	for _, f := range store.SealedFields("WarningEvent") {
		if f.Field != "Note" || f.Sealed != store.FieldWarningNote {
			t.Errorf("%s: history notes are sealed by hand as %s", f.Name(), store.FieldWarningNote)
		}
	}
}

func TestSealFieldsRoundTrip(t *testing.T) {
	s := Wrap(nil, keys(t, idx+","+k1))
	c := store.Case{ID: "c1", SelfEvaluation: store.Sealed("self"), Advice: store.Sealed("advice"), Outcome: "better", UnitID: "u"}
	sealed := c
	s.sealFields(&sealed, c.ID)
	if !IsSealed(sealed.SelfEvaluation) || !IsSealed(sealed.Advice) || !IsSealed([]byte(sealed.Outcome)) || len(sealed.LifeEvents) != 0 || sealed.UnitID != "u" {
		t.Fatalf("sealed case = %+v", sealed)
	}
	if got := withPlain(sealed, c); string(got.Advice) != "advice" || got.Outcome != "better" {
		t.Fatalf("withPlain = %+v", got)
	}
	if err := s.openFields(&sealed, c.ID); err != nil {
		t.Fatal(err)
	}
	if string(sealed.SelfEvaluation) != "self" || string(sealed.Advice) != "advice" || sealed.Outcome != "better" || sealed.LifeEvents != nil {
		t.Fatalf("opened case = %+v", sealed)
	}
	if err := s.openFields(&sealed, "c2"); err == nil {
		// The plaintext is not sealed any more: opening it is an error.
		t.Fatal("opened a plaintext")
	}
}
