package sqlite

import (
	"context"
	"errors"
	"slices"
	"testing"

	"xinling/store"
	"xinling/store/storetest"
)

// Every way a session closes must reach the writer's memory of open
// sessions: after each, an answer to a session the writer had just seen
// open is refused.
func TestClosedSessionsRefuseAnswersAfterTheyWereSeenOpen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, p := openWithPerson(t)
	for _, s := range []store.Session{{ID: "submitted"}, {ID: "erased", PersonID: p.ID}, {ID: "purged"}, {ID: "kept", PersonID: p.ID}} {
		s.CreatedAt, s.LastActiveAt, s.State = storetest.T0, storetest.T0, store.SessionOpen
		if _, err := db.CreateSession(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	seq := int64(0)
	save := func(session string) error {
		seq++
		_, err := db.SaveAnswer(ctx, store.Answer{SessionID: session, Item: "q1", Value: 1, Seq: seq, At: storetest.T0})
		return err
	}
	closers := []struct {
		session string
		close   func() error
	}{
		{"submitted", func() error {
			_, err := db.Submit(ctx, store.Submission{SessionID: "submitted", At: storetest.T0})
			return err
		}},
		{"erased", func() error { // closes "kept" too: the person's other session
			_, err := db.ErasePerson(ctx, store.Erasure{PersonID: p.ID, At: storetest.T0})
			return err
		}},
		{"purged", func() error {
			_, err := db.PurgeAnonymousSessions(ctx, storetest.T0.AddDate(1, 0, 0))
			return err
		}},
	}
	fresh := func() int {
		db.tail.mu.RLock()
		defer db.tail.mu.RUnlock()
		return len(db.tail.fresh)
	}
	if fresh() != 4 {
		t.Fatalf("%d fresh sessions after creating 4", fresh())
	}
	open := []string{"submitted", "erased", "purged", "kept"}
	for _, c := range closers {
		// A refused answer rolls back and so forgets every session: answer
		// each still open one again, so the writer remembers it.
		for _, s := range open {
			if err := save(s); err != nil {
				t.Fatalf("%s, before %s closed: %v", s, c.session, err)
			}
		}
		if !db.writerKnowsOpen(c.session) {
			t.Fatalf("%s: the writer does not remember it open; the test proves nothing", c.session)
		}
		if err := c.close(); err != nil {
			t.Fatalf("closing %s: %v", c.session, err)
		}
		if err := save(c.session); !errors.Is(err, store.ErrSessionClosed) {
			t.Fatalf("%s: an answer after it closed: %v, want ErrSessionClosed", c.session, err)
		}
		open = slices.DeleteFunc(open, func(s string) bool { return s == c.session || c.session == "erased" && s == "kept" })
	}
	if err := save("kept"); !errors.Is(err, store.ErrSessionClosed) {
		t.Fatalf("kept: the erasure closed it too, yet an answer got %v", err)
	}
	// An erasure or purge may delete sessions as far as the writer knows:
	// readers must look in answers again for every session.
	if fresh() != 0 {
		t.Fatalf("%d sessions still fresh after an erasure and a purge", fresh())
	}
}

func TestMayCloseSessions(t *testing.T) {
	t.Parallel()
	for q, want := range map[string]bool{
		qNoteActivity: false, qSetToken: false, qSessionWarning: false, qSubmitSession: false,
		"SELECT state FROM sessions WHERE id = ?":                                   false,
		"INSERT INTO sessions(id) VALUES (?)":                                       false,
		"UPDATE warnings SET state = ? WHERE id = ?":                                false,
		"UPDATE sessions SET state = 'purged', token_hash = NULL WHERE id = ?":      true,
		"  update Sessions set state = 'open'":                                      true,
		"DELETE FROM answers WHERE session_id IN (SELECT id FROM sessions WHERE x)": true,
		"DELETE FROM sessions WHERE id = ?":                                         true,
		"UPDATE sessions SET last_active_at = ? WHERE id = ?":                       true, // not the known statement
		"INSERT OR REPLACE INTO sessions(id, state) VALUES (?, 'submitted')":        true,
	} {
		if got := mayCloseSessions(q); got != want {
			t.Errorf("mayCloseSessions(%q) = %v, want %v", q, got, want)
		}
	}
}

// A statement that closes sessions and returns rows (UPDATE … RETURNING)
// makes the writer forget them too.
func TestClosingReadsForgetOpenSessions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openTestDB(t, Options{})
	if _, err := db.CreateSession(ctx, store.Session{ID: "s1", State: store.SessionOpen, CreatedAt: storetest.T0}); err != nil {
		t.Fatal(err)
	}
	if !db.writerKnowsOpen("s1") {
		t.Fatal("a session created open is not remembered; the test proves nothing")
	}
	err := db.write(ctx, func(w *wtx) error {
		var id string
		return w.queryRow("UPDATE sessions SET state = 'purged' WHERE id = ? RETURNING id", "s1").Scan(&id)
	})
	if err != nil {
		t.Fatal(err)
	}
	if db.writerKnowsOpen("s1") {
		t.Fatal("the writer still remembers a session it purged through a query open")
	}
	if _, err := db.SaveAnswer(ctx, store.Answer{SessionID: "s1", Item: "q1", Value: 1, Seq: 1, At: storetest.T0}); !errors.Is(err, store.ErrSessionClosed) {
		t.Fatalf("an answer to the purged session: %v, want ErrSessionClosed", err)
	}
}

// A batch that runs a statement which may delete sessions marks none of
// its new sessions fresh, even one created before that statement.
func TestBatchThatMayDeleteSessionsMarksNoneFresh(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openTestDB(t, Options{})
	err := db.write(ctx, func(w *wtx) error {
		w.markFresh("new")
		_, err := w.exec("UPDATE sessions SET state = 'purged' WHERE id = ?", "none")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	db.tail.mu.RLock()
	_, fresh := db.tail.fresh["new"]
	db.tail.mu.RUnlock()
	if fresh {
		t.Fatal("a session created in a batch that may have deleted sessions is marked fresh")
	}
}

// writerKnowsOpen asks the writer, in its own goroutine, whether it
// remembers session id open.
func (db *DB) writerKnowsOpen(id string) bool {
	var known bool
	_ = db.write(context.Background(), func(w *wtx) error {
		known = w.knownOpen(id)
		return nil
	})
	return known
}
