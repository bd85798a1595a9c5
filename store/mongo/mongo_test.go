package mongo

import (
	"context"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"xinling/store"
	"xinling/store/storetest"
)

// TestContract runs the shared contract against a real server when
// XINLING_TEST_MONGO_URI is set (make test-mongo). Each subtest gets its own
// database, dropped afterwards. No transactions are used, so a standalone
// server or FerretDB will do.
func TestContract(t *testing.T) {
	uri := os.Getenv("XINLING_TEST_MONGO_URI")
	if uri == "" {
		t.Skip("XINLING_TEST_MONGO_URI not set; the MongoDB contract did not run")
	}
	open := func(t *testing.T) store.Store {
		ctx := context.Background()
		name := "xinling_test_" + store.NewID()[:12]
		db, err := Open(ctx, uri, name)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			// Close may already have run (the Lifecycle test); reconnect to drop.
			if d, err := Open(ctx, uri, name); err == nil {
				_ = d.Drop(ctx)
				_ = d.Close()
			}
			_ = db.Close()
		})
		return db
	}
	storetest.Run(t, open)
	storetest.RunSealed(t, open)
}

// The pure parts below run everywhere.

func roundTrip[D any](t *testing.T, in D) D {
	t.Helper()
	b, err := bson.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out D
	if err := bson.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDocumentMapping(t *testing.T) {
	at := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	w := store.Warning{ID: "w1", Key: "k", PersonID: "p", ResultIDs: []string{"r1", "r2"}, UnitPath: "/a/b/", Level: 1,
		Reasons: []store.Reason{{ResultID: "r1", Rule: "item9", Level: 1, Text: map[string]string{"zh-CN": "第9题"}}},
		State:   store.WarningClaimed, AssigneeID: "s", LeaseUntil: at, DueAt: at, CreatedAt: at, UpdatedAt: at, Version: 3,
		History: []store.WarningEvent{{At: at, Kind: store.EventCreated, To: store.WarningOpen}}}
	got := roundTrip(t, warningDoc{Key: w.ID, Warning: w})
	if got.Key != "w1" || !reflect.DeepEqual(got.Warning, w) {
		t.Fatalf("warning round trip:\n got %+v\nwant %+v", got.Warning, w)
	}
	// Field names the indexes and filters rely on.
	raw, _ := bson.Marshal(warningDoc{Key: w.ID, Warning: w})
	for _, f := range []string{"_id", "unitpath", "level", "createdat", "state", "dueat", "assigneeid", "personid", "key", "version", "history"} {
		if _, err := bson.Raw(raw).LookupErr(f); err != nil {
			t.Fatalf("warning document lacks %q", f)
		}
	}
	p := store.Person{ID: "p1", SchoolID: "s", StudentNoIndex: "i", Name: store.Sealed{1, 2}, CreatedAt: at}
	pd := roundTrip(t, newPersonDoc(p))
	if pd.RosterKey != "s\x00i" || string(pd.Name) != "\x01\x02" {
		t.Fatalf("person doc = %+v", pd)
	}
	if d := newPersonDoc(store.Person{ID: "p2"}); d.RosterKey != "" {
		t.Fatal("a person without a student number must stay out of the sparse roster index")
	}
	var zero store.Session
	s := roundTrip(t, sessionDoc{Key: "s", Session: zero})
	if !s.SubmittedAt.IsZero() || !s.CreatedAt.IsZero() {
		t.Fatalf("zero times must survive: %+v", s.Session)
	}
}

func TestSubtreeFilter(t *testing.T) {
	f := subtree(bson.D{}, "unitpath", "/city/county/school/")
	want := bson.D{{Key: "unitpath", Value: bson.D{{Key: "$gte", Value: "/city/county/school/"}, {Key: "$lt", Value: "/city/county/school0"}}}}
	if !reflect.DeepEqual(f, want) {
		t.Fatalf("subtree = %v", f)
	}
	if f := subtree(bson.D{}, "unitpath", ""); len(f) != 0 {
		t.Fatalf("empty path must not filter: %v", f)
	}
	// The range excludes a sibling whose id extends the subtree's ("school2").
	lo, hi, _ := store.PathRange("/city/county/school/")
	if p := "/city/county/school2/"; p >= lo && p < hi {
		t.Fatal("sibling inside range")
	}
}

func TestWarningFilter(t *testing.T) {
	at := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	cur := store.Cursor{Level: 2, At: at.UnixMilli(), ID: "w9"}.Encode()
	f, err := warningFilter(store.WarningFilter{UnitPath: "/a/", Levels: []int{1, 2}, States: []store.WarningState{store.WarningOpen},
		AssigneeID: "s", OverdueAt: at}, store.Page{After: cur})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, e := range f {
		keys = append(keys, e.Key)
	}
	if got := strings.Join(keys, ","); got != "unitpath,level,state,assigneeid,dueat,$or" {
		t.Fatalf("filter keys = %s", got)
	}
	or := f[len(f)-1].Value.(bson.A)
	if len(or) != 3 {
		t.Fatalf("keyset $or has %d branches", len(or))
	}
	if _, err := warningFilter(store.WarningFilter{}, store.Page{After: "%%"}); err == nil {
		t.Fatal("bad cursor accepted")
	}
	f, _ = warningFilter(store.WarningFilter{}, store.Page{})
	if len(f) != 0 {
		t.Fatalf("empty filter = %v", f)
	}
}

func TestAfterAndTimeRange(t *testing.T) {
	at := time.Date(2026, 3, 1, 8, 0, 0, 123_456_789, time.UTC)
	f := timeRange(bson.D{}, "at", at, time.Time{})
	if got := f[0].Value.(bson.D)[0].Value.(time.Time); !got.Equal(at.Truncate(time.Millisecond)) {
		t.Fatalf("time range not at ms precision: %v", got)
	}
	f, err := after(bson.D{}, "createdat", store.Page{After: store.Cursor{At: at.UnixMilli(), ID: "x"}.Encode()})
	if err != nil || len(f) != 1 || f[0].Key != "$or" {
		t.Fatalf("after = %v, %v", f, err)
	}
}

func TestIndexesCoverQueries(t *testing.T) {
	ix := indexes()
	has := func(coll string, keys ...string) bool {
		for _, m := range ix[coll] {
			d := m.Keys.(bson.D)
			if len(d) < len(keys) {
				continue
			}
			ok := true
			for i, k := range keys {
				ok = ok && d[i].Key == k
			}
			if ok {
				return true
			}
		}
		return false
	}
	for _, c := range [][]string{
		{cWarnings, "unitpath", "level", "createdat"}, {cWarnings, "key"}, {cWarnings, "state", "dueat"},
		{cStaff, "login"}, {cPersons, "rosterkey"}, {cAnswers, "sessionid"}, {cResults, "sessionid"}, {cAudit, "at"},
	} {
		if !has(c[0], c[1:]...) {
			t.Fatalf("no index on %s(%v)", c[0], c[1:])
		}
	}
}
