package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"xinling/store"
)

const sessionCols = "id, token_hash, person_id, campaign_id, access_code, unit_id, unit_path, follow_up_of, instruments, sex, age, consent, locale, state, created_at, last_active_at, submitted_at"

// scanSession reads sessionCols, then any extra columns into extra.
func scanSession(r interface{ Scan(...any) error }, extra ...any) (store.Session, error) {
	var s store.Session
	var instr string
	var consent int
	var created, active, submitted int64
	dest := append([]any{&s.ID, &s.TokenHash, &s.PersonID, &s.CampaignID, &s.AccessCode, &s.UnitID, &s.UnitPath, &s.FollowUpOf,
		&instr, &s.Sex, &s.Age, &consent, &s.Locale, &s.State, &created, &active, &submitted}, extra...)
	err := r.Scan(dest...)
	if err != nil {
		return s, err
	}
	s.Consent, s.CreatedAt, s.LastActiveAt, s.SubmittedAt = consent != 0, tm(created), tm(active), tm(submitted)
	return s, fromJSON(instr, &s.Instruments)
}

func (db *DB) CreateSession(ctx context.Context, s store.Session) (store.Session, error) {
	if s.ID == "" {
		return s, invalid("session id")
	}
	s.State = store.SessionOpen
	s.CreatedAt = store.Millis(s.CreatedAt)
	s.LastActiveAt, s.SubmittedAt = s.CreatedAt, time.Time{}
	err := db.write(ctx, func(w *wtx) error {
		s.UnitPath = ""
		if s.UnitID != "" {
			p, err := w.unitPath(s.UnitID)
			if err != nil {
				return err
			}
			s.UnitPath = p
		}
		_, err := w.exec("INSERT INTO sessions("+sessionCols+") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
			s.ID, s.TokenHash, s.PersonID, s.CampaignID, s.AccessCode, s.UnitID, s.UnitPath, s.FollowUpOf,
			jsonText(s.Instruments), s.Sex, s.Age, b2i(s.Consent), s.Locale, string(s.State),
			ms(s.CreatedAt), ms(s.LastActiveAt), 0)
		if err != nil {
			return mapErr(err)
		}
		// A respondent answers the first item seconds after creating the
		// session: its creation time is recent enough activity for that.
		w.rememberActivity(s.ID, ms(s.LastActiveAt))
		w.markFresh(s.ID)
		if s.State == store.SessionOpen {
			w.rememberOpen(s.ID)
		}
		return nil
	})
	return s, err
}

func (db *DB) GetSession(ctx context.Context, id string) (store.Session, error) {
	s, err := scanSession(db.rdb.QueryRowContext(ctx, "SELECT "+sessionCols+" FROM sessions WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return s, notFound("session", id)
	}
	return s, err
}

func (db *DB) SetSessionToken(ctx context.Context, id string, hash []byte) error {
	return db.write(ctx, func(w *wtx) error {
		res, err := w.exec(qSetToken, hash, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return w.sessionOpen(id)
		}
		return nil
	})
}

func (db *DB) ListSessions(ctx context.Context, f store.SessionFilter, p store.Page) ([]store.Session, string, error) {
	var w where
	w.subtree("unit_path", f.UnitPath)
	w.eq("campaign_id", f.CampaignID)
	w.eq("person_id", f.PersonID)
	w.eq("state", string(f.State))
	if err := w.after("created_at", "id", p); err != nil {
		return nil, "", err
	}
	return list(ctx, db, "SELECT "+sessionCols+" FROM sessions", &w, "created_at, id", p,
		func(r *sql.Rows) (store.Session, store.Cursor, error) {
			v, err := scanSession(r)
			return v, store.Cursor{At: ms(v.CreatedAt), ID: v.ID}, err
		})
}

func (db *DB) SaveAnswer(ctx context.Context, a store.Answer) (store.AnswerOutcome, error) {
	return store.OneAnswer(db.SaveAnswers(ctx, a.SessionID, []store.Answer{a}))
}

func (db *DB) SaveAnswers(ctx context.Context, sessionID string, answers []store.Answer) ([]store.AnswerOutcome, error) {
	if len(answers) == 0 {
		return nil, nil
	}
	var last int64
	for i := range answers {
		a := &answers[i]
		if a.Item == "" || (a.SessionID != "" && a.SessionID != sessionID) {
			return nil, invalid("answer item or session")
		}
		a.SessionID = sessionID
		a.At = store.Millis(a.At)
		last = max(last, ms(a.At))
	}
	out := make([]store.AnswerOutcome, len(answers))
	err := db.write(ctx, func(w *wtx) error {
		// The session must be open; each answer is then compared with the
		// latest one to its item and, if newer, appended to the answer log
		// (answerlog.go), never written in place.
		if err := w.sessionOpen(sessionID); err != nil {
			return err
		}
		for i, a := range answers {
			cur, found, err := w.currentAnswer(sessionID, a.Item)
			if err != nil {
				return err
			}
			if found && cur.Seq >= a.Seq {
				st := store.AnswerReplay
				if cur.Seq > a.Seq {
					st = store.AnswerStale
				}
				out[i] = store.AnswerOutcome{Status: st, Current: cur}
				continue
			}
			if err := w.logAnswer(a); err != nil {
				return err
			}
			out[i] = store.AnswerOutcome{Status: store.AnswerSaved, Current: a}
		}
		return w.noteActivity(sessionID, last)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// sessionOpen explains why a session took no answer: missing or closed.
func (w *wtx) sessionOpen(id string) error {
	if w.knownOpen(id) {
		return nil
	}
	var state string
	err := w.queryRow("SELECT state FROM sessions WHERE id = ?", id).Scan(&state)
	if errors.Is(err, sql.ErrNoRows) {
		return notFound("session", id)
	}
	if err != nil {
		return err
	}
	if state != string(store.SessionOpen) {
		return fmt.Errorf("%w: session %s is %s", store.ErrSessionClosed, id, state)
	}
	w.rememberOpen(id)
	return nil
}

// noteActivity advances a session's last activity once it has moved by
// store.ActivityResolution. Rewriting the session row and its idle index on
// every answer was a third of the writer's work; the writer remembers what
// it last wrote per session instead (only the writer goroutine runs this).
func (w *wtx) noteActivity(id string, at int64) error {
	if seen, ok := w.db.activity[id]; ok && at-seen < store.ActivityResolution.Milliseconds() {
		return nil
	}
	if _, err := w.exec(qNoteActivity, at, id); err != nil {
		return err
	}
	w.rememberActivity(id, at)
	return nil
}

// rememberActivity records the last activity written for a session.
func (w *wtx) rememberActivity(id string, at int64) {
	if len(w.db.activity) >= maxActivity {
		clear(w.db.activity)
	}
	w.db.activity[id] = at
}

// maxActivity bounds the writer's memory of session activity (about 100
// bytes a session, so 40 MB at most); forgetting only costs one extra
// update per session. It is well above the 100,000 respondents one node
// is sized for, since finished sessions stay in it until it is cleared.
const maxActivity = 400_000

func (db *DB) ListAnswers(ctx context.Context, sessionID string) ([]store.Answer, error) {
	// The waiting answers first, then the table: see answerlog.go. A
	// fresh session holds all its answers in the tail, and exists: this
	// process created it, and a statement that could delete it ends every
	// session's freshness (wtx.exec).
	waiting, all := db.tail.snapshot(sessionID)
	if all {
		return mergeAnswers(nil, waiting), nil
	}
	var n int
	if err := db.rdb.QueryRowContext(ctx, "SELECT count(*) FROM sessions WHERE id = ?", sessionID).Scan(&n); err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, notFound("session", sessionID)
	}
	rows, err := db.rdb.QueryContext(ctx, "SELECT item, value, seq, at FROM answers WHERE session_id = ? ORDER BY item", sessionID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Answer
	for rows.Next() {
		a := store.Answer{SessionID: sessionID}
		var at int64
		if err := rows.Scan(&a.Item, &a.Value, &a.Seq, &at); err != nil {
			return nil, err
		}
		a.At = tm(at)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return mergeAnswers(out, waiting), nil
}

func (db *DB) ListIdleSessions(ctx context.Context, from, before time.Time, limit int) ([]store.Session, error) {
	if limit <= 0 {
		limit = store.DefaultLimit
	}
	rows, err := db.rdb.QueryContext(ctx, "SELECT "+sessionCols+" FROM sessions WHERE state = 'open' AND last_active_at >= ? AND last_active_at < ? ORDER BY last_active_at, id LIMIT ?",
		ms(store.Millis(from)), ms(store.Millis(before)), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Session
	for rows.Next() {
		s, err := scanSession(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// purgeable selects anonymous sessions past the cutoff whose queue entry,
// if any, is closed: a counsellor still working an entry needs its answers.
const purgeable = `person_id = '' AND state <> 'purged' AND last_active_at < ?
	AND NOT EXISTS (SELECT 1 FROM warnings w WHERE w.id = sessions.warning_id AND w.state <> 'closed')`

func (db *DB) PurgeAnonymousSessions(ctx context.Context, before time.Time) (int, error) {
	var n int
	err := db.write(ctx, func(w *wtx) error {
		cut := ms(store.Millis(before))
		if err := w.moveAll(); err != nil {
			return err
		}
		if _, err := w.exec(`DELETE FROM answers WHERE session_id IN (SELECT id FROM sessions WHERE `+purgeable+`)`, cut); err != nil {
			return err
		}
		res, err := w.exec(`UPDATE sessions SET state = 'purged', token_hash = NULL WHERE `+purgeable, cut)
		if err != nil {
			return err
		}
		c, _ := res.RowsAffected()
		n = int(c)
		return nil
	})
	return n, err
}

// Results and submit.

const resultCols = "id, session_id, person_id, campaign_id, unit_id, unit_path, instrument, version, content_hash, scores, bands, flags, payload, created_at, supersedes, superseded_by, rescored_at"

func scanResult(r interface{ Scan(...any) error }) (store.Result, error) {
	var v store.Result
	var scores, bands, flags string
	var at, rescored int64
	err := r.Scan(&v.ID, &v.SessionID, &v.PersonID, &v.CampaignID, &v.UnitID, &v.UnitPath, &v.Instrument, &v.Version,
		&v.ContentHash, &scores, &bands, &flags, &v.Payload, &at, &v.Supersedes, &v.SupersededBy, &rescored)
	if err != nil {
		return v, err
	}
	v.CreatedAt, v.RescoredAt = tm(at), tm(rescored)
	return v, errors.Join(fromJSON(scores, &v.Scores), fromJSON(bands, &v.Bands), fromJSON(flags, &v.Flags))
}

func (db *DB) GetResult(ctx context.Context, id string) (store.Result, error) {
	v, err := scanResult(db.rdb.QueryRowContext(ctx, "SELECT "+resultCols+" FROM results WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return v, notFound("result", id)
	}
	return v, err
}

func (db *DB) ListResults(ctx context.Context, f store.ResultFilter, p store.Page) ([]store.Result, string, error) {
	var w where
	w.subtree("unit_path", f.UnitPath)
	w.eq("campaign_id", f.CampaignID)
	w.eq("person_id", f.PersonID)
	w.eq("session_id", f.SessionID)
	w.eq("instrument", f.Instrument)
	w.timeRange("created_at", f.From, f.To)
	if !f.WithSuperseded {
		w.add("superseded_by = ''")
	}
	if err := w.after("created_at", "id", p); err != nil {
		return nil, "", err
	}
	return list(ctx, db, "SELECT "+resultCols+" FROM results", &w, "created_at, id", p,
		func(r *sql.Rows) (store.Result, store.Cursor, error) {
			v, err := scanResult(r)
			return v, store.Cursor{At: ms(v.CreatedAt), ID: v.ID}, err
		})
}

func (db *DB) Submit(ctx context.Context, sub store.Submission) (store.SubmitOutcome, error) {
	if err := sub.Check(); err != nil {
		return store.SubmitOutcome{}, err
	}
	at := store.Millis(sub.At)
	var out store.SubmitOutcome
	err := db.write(ctx, func(w *wtx) error {
		out = store.SubmitOutcome{}
		var warningID string
		s, err := scanSession(w.queryRow("SELECT "+sessionCols+", warning_id FROM sessions WHERE id = ?", sub.SessionID), &warningID)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("session", sub.SessionID)
		}
		if err != nil {
			return err
		}
		switch s.State {
		case store.SessionPurged:
			return fmt.Errorf("%w: session %s is purged", store.ErrSessionClosed, s.ID)
		case store.SessionSubmitted:
			out.Replayed = true
			return w.loadSubmission(s.ID, warningID, &out)
		}
		for _, r := range sub.Results {
			r.SessionID, r.PersonID, r.CampaignID, r.UnitID, r.UnitPath = s.ID, s.PersonID, s.CampaignID, s.UnitID, s.UnitPath
			r.CreatedAt = at
			if err := w.insertResult(r); err != nil {
				return err
			}
			out.Results = append(out.Results, r)
		}
		// The outcome is what was just written, ordered as loadSubmission
		// orders it; reading it back cost a third of the submit.
		slices.SortFunc(out.Results, func(a, b store.Result) int { return strings.Compare(a.ID, b.ID) })
		if d := sub.Warning; d != nil {
			wr, err := w.putWarning(s, sub, at)
			if err != nil {
				return err
			}
			warningID, out.Warning = wr.ID, &wr
		}
		w.forgetOpen(s.ID)
		_, err = w.exec(qSubmitSession, ms(at), warningID, s.ID)
		return err
	})
	return out, err
}

func (w *wtx) insertResult(r store.Result) error {
	_, err := w.exec("INSERT INTO results("+resultCols+") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
		r.ID, r.SessionID, r.PersonID, r.CampaignID, r.UnitID, r.UnitPath, r.Instrument, r.Version, r.ContentHash,
		jsonText(nonNilMap(r.Scores)), jsonText(nonNilMap(r.Bands)), jsonText(nonNilSlice(r.Flags)), r.Payload, ms(r.CreatedAt),
		r.Supersedes, r.SupersededBy, ms(r.RescoredAt))
	return mapErr(err)
}

func (db *DB) RescoreResult(ctx context.Context, rs store.Rescore) (store.Result, *store.Warning, error) {
	if rs.Result.ID == "" || rs.Result.Supersedes == "" {
		return store.Result{}, nil, invalid("a rescored result needs an id and the result it supersedes")
	}
	at := store.Millis(rs.At)
	var out store.Result
	var outW *store.Warning
	err := db.write(ctx, func(w *wtx) error {
		out, outW = store.Result{}, nil
		old, err := scanResult(w.queryRow("SELECT "+resultCols+" FROM results WHERE id = ?", rs.Result.Supersedes))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("result", rs.Result.Supersedes)
		}
		if err != nil {
			return err
		}
		if old.SupersededBy != "" {
			return fmt.Errorf("%w: result %s was already rescored as %s", store.ErrConflict, old.ID, old.SupersededBy)
		}
		r := store.RescoredFrom(old, rs.Result, at)
		if err := w.insertResult(r); err != nil {
			return err
		}
		if _, err := w.exec("UPDATE results SET superseded_by = ? WHERE id = ?", r.ID, old.ID); err != nil {
			return err
		}
		out = r
		if rs.Warning == nil {
			return nil
		}
		s, err := scanSession(w.queryRow("SELECT "+sessionCols+", warning_id FROM sessions WHERE id = ?", old.SessionID), new(string))
		if err != nil {
			return err
		}
		wr, err := w.putWarning(s, store.Submission{SessionID: s.ID, At: at, Results: []store.Result{r}, Warning: rs.Warning}, at)
		outW = &wr
		return err
	})
	return out, outW, err
}

func nonNilMap[V any](m map[string]V) map[string]V {
	if m == nil {
		return map[string]V{}
	}
	return m
}

func nonNilSlice[V any](s []V) []V {
	if s == nil {
		return []V{}
	}
	return s
}

// putWarning files a submission's warning, new or merged into the entry
// with its key, and returns the entry as stored: Submit used to read it
// back, a sixth of its writer time.
func (w *wtx) putWarning(s store.Session, sub store.Submission, at time.Time) (store.Warning, error) {
	cur, err := w.loadWarning("key", store.WarningKey(s, sub))
	switch {
	case errors.Is(err, store.ErrNotFound):
		v := store.NewWarning(s, sub, at)
		_, err := w.exec("INSERT INTO warnings("+warningCols+") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
			v.ID, v.Key, v.PersonID, v.SessionID, jsonText(v.ResultIDs), v.UnitID, v.UnitPath, v.Level, jsonText(v.Reasons), string(v.State),
			"", 0, ms(v.DueAt), 0, "", ms(at), ms(at), v.Version)
		if err != nil {
			return store.Warning{}, mapErr(err)
		}
		if err := w.event(v.ID, store.WarningEvent{At: at, Kind: store.EventCreated, To: store.WarningOpen}); err != nil {
			return store.Warning{}, err
		}
		return v, w.owe(v, at)
	case err != nil:
		return store.Warning{}, err
	}
	ev := store.MergeWarning(&cur, s, sub, at)
	_, err = w.exec(`UPDATE warnings SET result_ids = ?, reasons = ?, level = ?, due_at = ?, updated_at = ?, version = version + 1 WHERE id = ?`,
		jsonText(cur.ResultIDs), jsonText(cur.Reasons), cur.Level, ms(cur.DueAt), ms(at), cur.ID)
	if err != nil {
		return store.Warning{}, err
	}
	cur.Version++
	if err := w.event(cur.ID, ev); err != nil {
		return store.Warning{}, err
	}
	return cur, w.owe(cur, at)
}

func (w *wtx) loadSubmission(sessionID, warningID string, out *store.SubmitOutcome) error {
	rows, err := w.query("SELECT "+resultCols+" FROM results WHERE session_id = ? AND supersedes = '' ORDER BY id", sessionID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanResult(rows)
		if err != nil {
			return err
		}
		out.Results = append(out.Results, r)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if warningID != "" {
		wr, err := w.loadWarning("id", warningID)
		if err != nil {
			return err
		}
		out.Warning = &wr
	}
	return nil
}
