package sqlite

import "strings"

// The writer's memory of open sessions.
//
// Every answer save must find its session open, and reading the session's
// state was a point query per answer: a seventh of the writer's work and
// about 4% of the server's CPU under load (issue 18). The writer is the
// only one who changes a session's state: serve holds the data directory's
// lock, and the commands that may open the store beside it (xinling user,
// xinling rekey) write staff and sealed values, never session states. So
// it remembers the sessions it has seen open and forgets them as it closes
// them.
//
// The memory must never say open for a session that is not, or an answer
// could land in a submitted or purged session. So it is kept from the
// side of caution:
//   - a session is remembered only once it was read open, or inserted open,
//     in the writer's own transaction;
//   - a statement on the sessions table that is not known to keep states
//     (sessionStateKeepers) forgets every session: purges and erasures are
//     rare, and a statement added later is safe without anyone's notice;
//   - Submit, the one frequent closer, forgets its own session;
//   - a rolled-back operation or batch forgets every session, as it
//     forgets written activity, since what it read or inserted may be undone.

// Statements on the sessions table that cannot change whether a session is
// open. The submit statement is here only because Submit forgets its
// session itself (forgetOpen).
const (
	qNoteActivity   = "UPDATE sessions SET last_active_at = max(last_active_at, ?) WHERE id = ?"
	qSetToken       = "UPDATE sessions SET token_hash = ? WHERE id = ? AND state = 'open'"
	qSessionWarning = "UPDATE sessions SET warning_id = ? WHERE id = ?"
	qSubmitSession  = "UPDATE sessions SET state = 'submitted', submitted_at = ?, warning_id = ? WHERE id = ?"
)

var sessionStateKeepers = map[string]bool{qNoteActivity: true, qSetToken: true, qSessionWarning: true, qSubmitSession: true}

// mayCloseSessions reports whether q might change a session's state: it
// names the sessions table and is neither a read, an insert of a new
// session, nor one of sessionStateKeepers.
func mayCloseSessions(q string) bool {
	if sessionStateKeepers[q] {
		return false
	}
	l := strings.ToLower(strings.TrimSpace(q))
	if !strings.Contains(l, "sessions") {
		return false
	}
	return !strings.HasPrefix(l, "select") && !strings.HasPrefix(l, "insert into sessions(")
}

// rememberOpen notes that session id is open in the writer's transaction.
func (w *wtx) rememberOpen(id string) {
	if len(w.db.open) >= maxActivity {
		clear(w.db.open) // forgetting only costs a read
	}
	w.db.open[id] = struct{}{}
}

func (w *wtx) forgetOpen(id string) { delete(w.db.open, id) }

// knownOpen reports whether the writer has seen session id open and has
// not closed it since.
func (w *wtx) knownOpen(id string) bool {
	_, ok := w.db.open[id]
	return ok
}
