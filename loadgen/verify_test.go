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

// TestVerifySubmitsAgainstSQLite submits sessions through the store API,
// some not as the submit log says, and expects verify to find exactly those.
func TestVerifySubmitsAgainstSQLite(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir(), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Now()
	session := func(id string, instruments ...string) {
		t.Helper()
		if _, err := st.CreateSession(ctx, store.Session{ID: id, TokenHash: []byte(id), Instruments: instruments, Consent: true, CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
		first, _, _ := strings.Cut(instruments[0], "@")
		if _, err := st.SaveAnswer(ctx, store.Answer{SessionID: id, Item: first + ".q1", Value: 1, Seq: 1, At: now}); err != nil {
			t.Fatal(err)
		}
	}
	submit := func(id string, level int, instruments ...string) {
		t.Helper()
		sub := store.Submission{SessionID: id, At: now}
		for _, in := range instruments {
			sub.Results = append(sub.Results, store.Result{ID: store.NewID(), SessionID: id, Instrument: in, Version: "1", CreatedAt: now})
		}
		if level > 0 {
			sub.Warning = &store.WarningDraft{ID: store.NewID(), Key: id, Level: level, DueAt: now.Add(time.Hour),
				Reasons: []store.Reason{{ResultID: sub.Results[0].ID, Instrument: instruments[0], Rule: "r", Level: level}}}
		}
		if _, err := st.Submit(ctx, sub); err != nil {
			t.Fatal(err)
		}
	}
	session("crisis", "phq9")
	submit("crisis", 1, "phq9")
	session("calm", "gad7")
	submit("calm", 0, "gad7")
	session("open", "phq9") // acked as submitted, never stored so
	session("level", "phq9")
	submit("level", 2, "phq9") // the answers raise level 1
	session("silent", "phq9")
	submit("silent", 0, "phq9") // the answers raise level 2
	session("loud", "gad7")
	submit("loud", 3, "gad7") // the answers raise none
	session("unknown", "phq9")
	submit("unknown", 2, "phq9") // the generator could not tell
	session("battery", "phq9@1.1.0", "gad7@1.1.0")
	submit("battery", 0, "phq9") // one result of two (sessions pin versions, results name the instrument)
	session("unacked", "phq9", "gad7")
	submit("unacked", 1, "phq9") // submitted, but the ack never came: still checked

	var acks, subs []string
	for _, id := range []string{"crisis", "calm", "open", "level", "silent", "loud", "unknown", "battery", "unacked"} {
		item := "phq9.q1"
		if id == "calm" || id == "loud" {
			item = "gad7.q1"
		}
		acks = append(acks, `{"session":"`+id+`","item":"`+item+`","value":1,"seq":1}`)
	}
	for _, l := range []string{`"crisis","warning":1,"crisis":true`, `"calm","warning":0`, `"open","warning":0`,
		`"level","warning":1`, `"silent","warning":2`, `"loud","warning":0`, `"unknown","warning":-1`, `"battery","warning":0`,
		`"crisis","warning":1,"crisis":true`} { // a replayed submit, logged again
		subs = append(subs, `{"session":`+l+`}`)
	}
	rep, err := Verify(ctx, st, strings.NewReader(strings.Join(acks, "\n")))
	if err != nil || !rep.OK() {
		t.Fatalf("answers: %+v, %v", rep, err)
	}
	if err := VerifySubmits(ctx, st, strings.NewReader(strings.Join(subs, "\n")), rep); err != nil {
		t.Fatal(err)
	}
	c := rep.Submits
	if rep.OK() || c.Acked != 9 || c.Sessions != 8 || c.Warned != 3 || c.NotSubmitted != 1 || c.Results != 2 || c.Warnings != 3 || c.Checked != 8 {
		t.Fatalf("report %+v, submits %+v", rep, *c)
	}
	got := map[string]string{}
	for _, p := range rep.Examples {
		got[p.Session] += p.Kind + " "
	}
	want := map[string]string{"open": "not_submitted ", "level": "warnings ", "silent": "warnings ", "loud": "warnings ",
		"battery": "results ", "unacked": "results "}
	if len(got) != len(want) {
		t.Errorf("problems %+v", rep.Examples)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q", k, got[k], v)
		}
	}

	// Only what the log says it is.
	good := `{"session":"crisis","warning":1,"crisis":true}` + "\n" + `{"session":"calm","warning":0}`
	rep, _ = Verify(ctx, st, strings.NewReader(acks[0]))
	if err := VerifySubmits(ctx, st, strings.NewReader(good), rep); err != nil || !rep.OK() || rep.Submits.Checked != 2 {
		t.Fatalf("good log: %+v %+v, %v", rep, rep.Submits, err)
	}
	for _, bad := range []string{`{"session":"crisis","warn`, `{"session":"","warning":0}`, `{"session":"x","warning":-2}`,
		`{"session":"crisis","warning":1}` + "\n" + `{"session":"crisis","warning":0}`} {
		rep, _ = Verify(ctx, st, strings.NewReader(""))
		if err := VerifySubmits(ctx, st, strings.NewReader(bad), rep); err == nil {
			t.Errorf("%q: accepted", bad)
		}
	}
}
