package assess

import (
	"context"
	"strings"

	"xinling/store"
)

// ReferralTargets lists the units an entry may be referred to, nearest
// first: each ancestor of the entry's unit, followed by the stations
// (心灵驿站) hanging off it. A counsellor's own subtree rarely holds these
// units, so without this list the console could name them only by id. The
// rule is Refer's own (referTarget), so the list never offers a unit that
// Refer would refuse.
func (r *Records) ReferralTargets(ctx context.Context, p *Principal, warningID string) ([]store.Unit, error) {
	w, err := r.entryForRecords(ctx, p, warningID)
	if err != nil {
		return nil, err
	}
	ids := strings.Split(strings.Trim(w.UnitPath, "/"), "/")
	if len(ids) < 2 {
		return []store.Unit{}, nil // the root has nothing above it
	}
	// One read of the tree under the root gives every ancestor and the
	// stations beside them.
	root, err := r.store.GetUnit(ctx, ids[0])
	if err != nil {
		return nil, err
	}
	all, err := r.store.ListUnits(ctx, root.Path)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]store.Unit, len(all))
	stations := map[string][]store.Unit{} // parent id → its stations
	for _, u := range all {
		byID[u.ID] = u
		if u.Kind == "station" {
			stations[u.ParentID] = append(stations[u.ParentID], u)
		}
	}
	out := []store.Unit{}
	for i := len(ids) - 2; i >= 0; i-- {
		anc, ok := byID[ids[i]]
		if !ok {
			continue
		}
		if referTarget(anc, byID[anc.ParentID].Path, w.UnitPath) {
			out = append(out, anc)
		}
		for _, st := range stations[anc.ID] {
			if referTarget(st, anc.Path, w.UnitPath) {
				out = append(out, st)
			}
		}
	}
	return out, nil
}
