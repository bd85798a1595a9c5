package loadgen

import (
	"context"
	"strings"
	"testing"
	"time"

	"xinling/store"
	"xinling/store/sqlite"
)

// TestVerifyAgainstSQLite writes answers through the store API, loses some
// on purpose, and expects verify to find exactly those.
func TestVerifyAgainstSQLite(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, dir, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	old := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, s := range []store.Session{
		{ID: "live", TokenHash: []byte("h1"), Instruments: []string{"phq9", "gad7"}, Consent: true, CreatedAt: now},
		{ID: "old", TokenHash: []byte("h2"), Instruments: []string{"phq9"}, Consent: true, CreatedAt: old},
	} {
		if _, err := st.CreateSession(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	save := func(session, item string, value float64, seq int64, at time.Time) {
		t.Helper()
		if _, err := st.SaveAnswer(ctx, store.Answer{SessionID: session, Item: item, Value: value, Seq: seq, At: at}); err != nil {
			t.Fatal(err)
		}
	}
	save("live", "phq9.q1", 2, 1, now)
	save("live", "phq9.q2", 1, 2, now)
	save("live", "phq9.q2", 0, 3, now) // a later answer replaces the acked one
	save("live", "phq9.q3", 3, 4, now)
	save("live", "phq9.q4", 1, 5, now)
	save("live", "gad7/q1", 2, 6, now) // the other spelling of an item key
	save("old", "phq9.q1", 1, 1, old)
	// The only way the store API deletes answers: purge idle anonymous
	// sessions. It stands in for a lost write.
	if n, err := st.PurgeAnonymousSessions(ctx, old.Add(time.Hour)); err != nil || n != 1 {
		t.Fatalf("purge: %d, %v", n, err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	log := strings.Join([]string{
		`{"session":"live","item":"phq9.q1","value":2,"seq":1}`, // kept
		`{"session":"live","item":"phq9.q2","value":1,"seq":2}`, // replaced by seq 3: kept
		`{"session":"live","item":"phq9.q3","value":1,"seq":4}`, // same seq, other value: mismatched
		`{"session":"live","item":"phq9.q4","value":1,"seq":6}`, // store has seq 5 only: missing
		`{"session":"live","item":"phq9.q9","value":0,"seq":7}`, // never stored: missing
		`{"session":"live","item":"gad7.q1","value":2,"seq":6}`, // kept, as gad7/q1
		``,
		`{"session":"old","item":"phq9.q1","value":1,"seq":1}`,   // purged: missing
		`{"session":"ghost","item":"phq9.q1","value":1,"seq":1}`, // no such session: missing
	}, "\n")

	// A fresh store on the same directory, as `xinling verify` opens it.
	st, err = sqlite.Open(ctx, dir, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rep, err := Verify(ctx, st, strings.NewReader(log))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Acked != 8 || rep.Sessions != 3 || rep.Missing != 4 || rep.Mismatched != 1 || rep.OK() {
		t.Fatalf("report %+v", rep)
	}
	if len(rep.Examples) != 5 {
		t.Fatalf("examples %+v", rep.Examples)
	}
	got := map[string]string{}
	for _, p := range rep.Examples {
		got[p.Session+" "+p.Item] = p.Kind
	}
	want := map[string]string{"live phq9.q3": "mismatched", "live phq9.q4": "missing", "live phq9.q9": "missing",
		"old phq9.q1": "missing", "ghost phq9.q1": "missing"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q", k, got[k], v)
		}
	}

	good := strings.Join([]string{
		`{"session":"live","item":"phq9.q1","value":2,"seq":1}`,
		`{"session":"live","item":"phq9.q4","value":1,"seq":5}`,
	}, "\n")
	if rep, err := Verify(ctx, st, strings.NewReader(good)); err != nil || !rep.OK() || rep.Acked != 2 {
		t.Fatalf("good log: %+v, %v", rep, err)
	}
	if _, err := Verify(ctx, st, strings.NewReader(`{"session":"live","item":"phq9.q1","val`)); err == nil {
		t.Fatal("a truncated line must be an error, not a pass")
	}
}
