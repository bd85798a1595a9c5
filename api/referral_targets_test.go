//go:build !fuzzdecode

package api_test

import (
	"context"
	"testing"

	"xinling/store"
)

// The referral dialog's choices: every ancestor of the entry's unit,
// nearest first, each followed by the stations beside it, and nothing
// Refer would refuse; outside the caller's subtree the entry is 404 and
// teachers get 403.
func TestReferralTargets(t *testing.T) {
	t.Parallel()
	o := newQueueOrg(t)
	s := o.s
	ctx := context.Background()
	for _, u := range []store.Unit{{ID: "street", ParentID: "county", Kind: "street"}, {ID: "community", ParentID: "street", Kind: "community"},
		{ID: "station", ParentID: "street", Kind: "station"}, {ID: "county-station", ParentID: "county", Kind: "station"}} {
		if _, err := s.store.CreateUnit(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	worker := s.staffOf("community-c", store.RoleCounsellor, "community")
	w := s.warning("community", 1)

	r := worker.do("GET", "/api/v1/warnings/"+w+"/referral-targets", nil)
	if got := listIDs(r, "units"); r.status != 200 || got != "street,station,county,county-station,city" {
		t.Fatalf("targets = %q: %s", got, r.raw)
	}
	// Each one is accepted by Refer (checked on a fresh entry per target).
	for _, to := range []string{"street", "station", "county", "county-station", "city"} {
		e := s.warning("community", 2)
		worker.claim(e)
		if r := worker.do("POST", "/api/v1/warnings/"+e+"/refer", map[string]any{"to_unit_id": to, "note": "n"}); r.status != 201 {
			t.Errorf("refer to %s: %s", to, r.raw)
		}
	}
	// A station's own entry is not offered the station itself.
	st := s.warning("station", 1)
	if got := listIDs(o.counsellor.do("GET", "/api/v1/warnings/"+st+"/referral-targets", nil), "units"); got != "street,county,county-station,city" {
		t.Errorf("station entry targets = %q", got)
	}
	o.psychA.do("GET", "/api/v1/warnings/"+w+"/referral-targets", nil).expectError(t, 404, "not_found")
	o.teacherA.do("GET", "/api/v1/warnings/"+o.inA+"/referral-targets", nil).expectError(t, 403, "forbidden")
}
