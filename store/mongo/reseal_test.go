package mongo

import (
	"bytes"
	"sort"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"xinling/store"
)

// Reseal's document walk against the driver's real encoding of the store
// records: the field names, the row keys and the history paths must be the
// ones the sealing layer used, or rekey would corrupt data on MongoDB.
func TestSealedChanges(t *testing.T) {
	upper := func(v store.SealedValue) ([]byte, error) {
		return []byte(v.Field + "|" + v.Row + "|" + string(bytes.ToUpper(v.Value))), nil
	}
	raw := func(doc any) bson.Raw {
		b, err := bson.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	show := func(cs []sealedChange) string {
		var out []string
		for _, c := range cs {
			str := func(v any) string {
				if b, ok := v.([]byte); ok {
					return "bytes " + string(b)
				}
				return "string " + v.(string)
			}
			out = append(out, c.path+": "+str(c.old)+" -> "+str(c.new))
		}
		sort.Strings(out)
		return "[" + strings.Join(out, " ") + "]"
	}
	var cnt store.ResealCount

	p := newPersonDoc(store.Person{ID: "p1", SchoolID: "sch", StudentNoIndex: "ix", Name: store.Sealed("a"), StudentNo: store.Sealed("n")})
	cs, err := sealedChanges(cPersons, sealedFields[0].fields, "p1", raw(p), upper, &cnt)
	if err != nil {
		t.Fatal(err)
	}
	want := "[name: bytes a -> bytes person.name|roster/sch/ix|A studentno: bytes n -> bytes person.student_no|roster/sch/ix|N]"
	if got := show(cs); got != want {
		t.Fatalf("person changes:\n%s\nwant\n%s", got, want)
	}

	c := caseDoc{Key: "c1", Case: store.Case{ID: "c1", Advice: store.Sealed("adv"), Outcome: "done"}}
	cs, err = sealedChanges(cCases, sealedFields[1].fields, "c1", raw(c), upper, &cnt)
	if err != nil {
		t.Fatal(err)
	}
	if got := show(cs); got != "[advice: bytes adv -> bytes case.advice|c1|ADV outcome: string done -> string case.outcome|c1|DONE]" {
		t.Fatalf("case changes: %s", got)
	}

	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	w := warningDoc{Key: "w1", Warning: store.Warning{ID: "w1", History: []store.WarningEvent{
		{At: at, Kind: store.EventCreated, Note: "session s1"},
		{At: at, Kind: store.EventTransition, Note: "called"},
		{At: at, Kind: store.EventMerged, Note: "session s2"},
		{At: at, Kind: store.EventClaimed},
		{At: at, Kind: store.EventAssigned, Note: "x → b"},
	}}}
	cs, err = sealedChanges(cWarnings, nil, "w1", raw(w), upper, &cnt)
	if err != nil {
		t.Fatal(err)
	}
	if got := show(cs); got != "[history.1.note: string called -> string warning.note|w1|CALLED history.4.note: string x → b -> string warning.note|w1|X → B]" {
		t.Fatalf("history changes: %s", got)
	}
	for i, s := range sealedFields[:4] {
		if s.coll != []string{cPersons, cCases, cReferrals, cActivities}[i] {
			t.Fatalf("sealedFields order changed: %v", s.coll)
		}
	}
	r := referralDoc{Key: "r1", Referral: store.Referral{ID: "r1", Note: store.Sealed("n")}}
	a := activityDoc{Key: "a1", Activity: store.Activity{ID: "a1", Note: "n"}}
	for _, d := range []struct {
		coll   string
		fields map[string]string
		doc    any
	}{{cReferrals, sealedFields[2].fields, r}, {cActivities, sealedFields[3].fields, a}} {
		cs, err := sealedChanges(d.coll, d.fields, "x", raw(d.doc), upper, &cnt)
		if err != nil || len(cs) != 1 || cs[0].path != "note" {
			t.Fatalf("%s: %s %v", d.coll, show(cs), err)
		}
	}
	if cnt.Visited != 8 {
		t.Fatalf("visited %d values, want 8", cnt.Visited)
	}
}
