package mongo

import (
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// TestHandoffIndexes: a session's call-back requests are unique by seq,
// which is what keeps a session to MaxCallbacksPerSession under racing
// servers, and the lists and the finisher have their indexes.
func TestHandoffIndexes(t *testing.T) {
	ix := indexes()
	find := func(coll string, keys ...string) (bool, bool) {
		for _, m := range ix[coll] {
			d := m.Keys.(bson.D)
			if len(d) < len(keys) {
				continue
			}
			match := true
			for i, k := range keys {
				match = match && d[i].Key == k
			}
			if match {
				var o options.IndexOptions
				if m.Options != nil {
					for _, set := range m.Options.List() {
						_ = set(&o)
					}
				}
				return true, o.Unique != nil && *o.Unique
			}
		}
		return false, false
	}
	if found, unique := find(cCallbacks, fCallback.SessionID, fCallback.Seq); !found || !unique {
		t.Fatalf("callbacks(sessionid, seq) index: found %v, unique %v", found, unique)
	}
	for _, c := range [][]string{{cCallbacks, fCallback.WarningID}, {cCallbacks, fCallback.PendingAt}, {cSlots, fSlot.UnitPath, fSlot.StartsAt},
		{cBookings, fBooking.UnitPath, fBooking.StartsAt}, {cBookings, fBooking.PendingAt}, {cBookings, fBooking.ReleaseAt}} {
		if found, _ := find(c[0], c[1:]...); !found {
			t.Fatalf("no index on %s(%v)", c[0], c[1:])
		}
	}
}
