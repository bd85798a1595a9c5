package storetest

import (
	"errors"
	"testing"
	"time"

	"xinling/store"
)

// testAbsences: a reason is stored per campaign and person with the
// person's unit, replaced by a second write, listed by campaign, subtree
// and person, deleted by an empty reason, and refused for an unknown
// campaign or person or without keys.
func testAbsences(t *testing.T, s store.Store) {
	tree(t, s)
	for _, c := range []store.Campaign{{ID: "cp1", UnitID: "school", Mode: "roster", CreatedAt: T0}, {ID: "cp2", UnitID: "school", Mode: "roster", CreatedAt: T0}} {
		_, err := s.CreateCampaign(ctx, c)
		must(t, err)
	}
	for _, p := range []store.Person{{ID: "pa", UnitID: "class1", CreatedAt: T0}, {ID: "pb", UnitID: "class2", CreatedAt: T0}} {
		_, err := s.CreatePerson(ctx, p)
		must(t, err)
	}
	a, err := s.PutAbsence(ctx, store.Absence{CampaignID: "cp1", PersonID: "pb", Reason: store.Sealed("病假"), UpdatedBy: "staff1", UpdatedAt: T0})
	must(t, err)
	if a.UnitID != "class2" || a.UnitPath != "/city/county/school/class2/" {
		t.Fatalf("PutAbsence = %+v, want the person's unit", a)
	}
	_, err = s.PutAbsence(ctx, store.Absence{CampaignID: "cp1", PersonID: "pa", Reason: store.Sealed("转学"), UpdatedBy: "staff1", UpdatedAt: T0})
	must(t, err)
	_, err = s.PutAbsence(ctx, store.Absence{CampaignID: "cp2", PersonID: "pa", Reason: store.Sealed("事假"), UpdatedBy: "staff1", UpdatedAt: T0})
	must(t, err)
	// A second write replaces the first.
	_, err = s.PutAbsence(ctx, store.Absence{CampaignID: "cp1", PersonID: "pa", Reason: store.Sealed("转学（已办手续）"), UpdatedBy: "staff2", UpdatedAt: at(time.Hour)})
	must(t, err)

	list, err := s.ListAbsences(ctx, store.AbsenceFilter{CampaignID: "cp1"})
	must(t, err)
	if len(list) != 2 || list[0].PersonID != "pa" || string(list[0].Reason) != "转学（已办手续）" || list[0].UpdatedBy != "staff2" ||
		!list[0].UpdatedAt.Equal(at(time.Hour)) || list[1].PersonID != "pb" || string(list[1].Reason) != "病假" {
		t.Fatalf("ListAbsences(cp1) = %+v", list)
	}
	list, err = s.ListAbsences(ctx, store.AbsenceFilter{CampaignID: "cp1", UnitPath: "/city/county/school/class2/"})
	must(t, err)
	if len(list) != 1 || list[0].PersonID != "pb" {
		t.Fatalf("ListAbsences(cp1, class2) = %+v", list)
	}
	list, err = s.ListAbsences(ctx, store.AbsenceFilter{PersonID: "pa"})
	must(t, err)
	if len(list) != 2 || list[0].CampaignID != "cp1" || list[1].CampaignID != "cp2" {
		t.Fatalf("ListAbsences(pa) = %+v", list)
	}

	// An empty reason deletes; deleting what is not there is no error.
	_, err = s.PutAbsence(ctx, store.Absence{CampaignID: "cp1", PersonID: "pb", UpdatedBy: "staff1", UpdatedAt: T0})
	must(t, err)
	_, err = s.PutAbsence(ctx, store.Absence{CampaignID: "cp1", PersonID: "pb", UpdatedBy: "staff1", UpdatedAt: T0})
	must(t, err)
	list, err = s.ListAbsences(ctx, store.AbsenceFilter{CampaignID: "cp1"})
	must(t, err)
	if len(list) != 1 || list[0].PersonID != "pa" {
		t.Fatalf("after deleting pb's reason: %+v", list)
	}

	for name, bad := range map[string]store.Absence{
		"unknown campaign": {CampaignID: "nope", PersonID: "pa", Reason: store.Sealed("x"), UpdatedAt: T0},
		"unknown person":   {CampaignID: "cp1", PersonID: "nope", Reason: store.Sealed("x"), UpdatedAt: T0},
	} {
		if _, err := s.PutAbsence(ctx, bad); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: err = %v, want ErrNotFound", name, err)
		}
	}
	if _, err := s.PutAbsence(ctx, store.Absence{PersonID: "pa", Reason: store.Sealed("x")}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("no campaign: err = %v, want ErrInvalid", err)
	}
}
