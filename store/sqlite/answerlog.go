package sqlite

import (
	"database/sql"
	"errors"
	"math"
	"sort"
	"sync"

	"xinling/store"
)

// Why an answer log: answers are keyed by (session, item), so a batch of
// answers from a hundred respondents used to dirty a hundred B-tree pages,
// each written to the WAL at every commit, and with 100,000 open sessions
// most of those pages were not even in the cache. Now a saved answer is
// appended to answer_log (its key is the rowid, so a batch fills a page or
// two at the table's end), and answers are moved into the keyed table
// later, a whole session at a time, oldest first, once more than
// tailTarget of them wait: a session's page is then written once for many
// answers instead of once for each.
//
// The answers that wait (the tail) are held in memory as well, so that
// nothing ever reads answer_log by session:
//   - the writer finds a session's latest answer to an item in the tail,
//     in the open batch, or else in answers (skipped for a session this
//     process created and never moved, which has none there);
//   - ListAnswers merges the tail into what answers holds, the higher
//     sequence number winning; for a session this process created and
//     never moved (tail.fresh) it returns the tail alone.
//
// The tail holds only committed answers: the writer keeps the open batch's
// own (logBatch) apart and publishes them after COMMIT, together with the
// removal of what the batch moved. A reader copies the tail before it
// queries answers; an answer moved in between is then found in answers,
// so none is missed, and one found in both is the same answer.
//
// Crash recovery is Open's: every row still in answer_log is moved into
// answers before the writer starts (recoverAnswerLog). Whatever deletes
// answers (erasure, purging anonymous sessions) first moves every waiting
// answer (moveAll), so that none survives in the log.

// tailTarget is how many answers may wait in the tail before the oldest
// sessions' answers are moved. About 200 bytes each in memory, so some
// 50 MB; at 100,000 respondents answering every few seconds, that is half
// a minute of answers, so a session's page is written once for a dozen.
const tailTarget = 256 << 10

// moveMin is the fewest answers a batch moves once the tail is over
// target, so that moving keeps up with saving.
const moveMin = 256

// logAnswer is an answer with its answer_log rowid.
type logAnswer struct {
	store.Answer
	id int64
}

// tailSession is one session's waiting answers: the latest per item.
type tailSession struct {
	first   int64 // the rowid of its oldest waiting answer
	answers map[string]logAnswer
}

// answerTail is the committed answers not yet moved into answers. Readers
// take mu for reading; only the writer changes it, under mu.
type answerTail struct {
	mu       sync.RWMutex
	sessions map[string]*tailSession
	rows     int // answers held (one per session and item)
	// fresh are sessions this process created whose answers were never
	// moved: answers holds nothing of them, so a reader need not look.
	// Committed creations and moves only, like the rest of the tail.
	fresh map[string]struct{}

	// The writer's own: sessions in the order of their first waiting
	// answer, oldest first; an entry whose session has since been moved
	// (and perhaps come back with a later first) is skipped.
	order []tailRef
}

type tailRef struct {
	session string
	first   int64
}

func newAnswerTail() *answerTail {
	return &answerTail{sessions: map[string]*tailSession{}, fresh: map[string]struct{}{}}
}

// snapshot copies a session's waiting answers, for a reader, and reports
// whether they are all its answers (a fresh session: answers holds none).
func (t *answerTail) snapshot(session string) (waiting []store.Answer, all bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	_, all = t.fresh[session]
	ts := t.sessions[session]
	if ts == nil {
		return nil, all
	}
	out := make([]store.Answer, 0, len(ts.answers))
	for _, a := range ts.answers {
		out = append(out, a.Answer)
	}
	return out, all
}

// mergeAnswers adds the waiting answers to those read from answers: per
// item the higher sequence number wins. The result is sorted by item.
func mergeAnswers(stored, waiting []store.Answer) []store.Answer {
	if len(waiting) == 0 {
		return stored
	}
	byItem := make(map[string]int, len(stored))
	for i, a := range stored {
		byItem[a.Item] = i
	}
	for _, a := range waiting {
		if i, ok := byItem[a.Item]; ok {
			if a.Seq > stored[i].Seq {
				stored[i] = a
			}
			continue
		}
		byItem[a.Item] = len(stored)
		stored = append(stored, a)
	}
	sort.Slice(stored, func(i, j int) bool { return stored[i].Item < stored[j].Item })
	return stored
}

// currentAnswer is the latest saved answer of a session to an item, as the
// open transaction sees it.
func (w *wtx) currentAnswer(session, item string) (store.Answer, bool, error) {
	db := w.db
	if m := db.batchIndex[session]; m != nil {
		if i, ok := m[item]; ok {
			return db.logBatch[i].Answer, true, nil
		}
	}
	// Only the writer changes the tail, so it reads it without the lock.
	if ts := db.tail.sessions[session]; ts != nil {
		if a, ok := ts.answers[item]; ok {
			return a.Answer, true, nil
		}
	}
	if db.fresh[session] {
		return store.Answer{}, false, nil
	}
	a := store.Answer{SessionID: session, Item: item}
	var at int64
	err := w.queryRow("SELECT value, seq, at FROM answers WHERE session_id = ? AND item = ?", session, item).Scan(&a.Value, &a.Seq, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Answer{}, false, nil
	}
	if err != nil {
		return store.Answer{}, false, err
	}
	a.At = tm(at)
	return a, true, nil
}

// logAnswer appends a saved answer to answer_log and to the open batch.
func (w *wtx) logAnswer(a store.Answer) error {
	res, err := w.exec("INSERT INTO answer_log(session_id, item, value, seq, at) VALUES (?, ?, ?, ?, ?)",
		a.SessionID, a.Item, a.Value, a.Seq, ms(a.At))
	if err != nil {
		return mapErr(err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return err
	}
	db := w.db
	db.logBatch = append(db.logBatch, logAnswer{Answer: a, id: id})
	m := db.batchIndex[a.SessionID]
	if m == nil {
		m = map[string]int{}
		db.batchIndex[a.SessionID] = m
	}
	m[a.Item] = len(db.logBatch) - 1
	return nil
}

// markFresh notes a session created by this process: answers holds
// nothing of it until it is moved.
func (w *wtx) markFresh(session string) {
	if len(w.db.fresh) >= maxActivity {
		clear(w.db.fresh) // forgetting only costs a lookup
	}
	w.db.fresh[session] = true
	w.db.created = append(w.db.created, session)
}

// batchMark is where an operation began in the open batch's logs, so that
// a failed operation's entries can be dropped (rollbackBatchTo).
type batchMark struct{ logged, moved, created int }

func (db *DB) batchMark() batchMark {
	return batchMark{logged: len(db.logBatch), moved: len(db.moves), created: len(db.created)}
}

// rollbackBatchTo forgets what an operation that rolled back to its
// savepoint had logged and moved.
func (db *DB) rollbackBatchTo(m batchMark) {
	db.created = db.created[:m.created]
	if len(db.logBatch) == m.logged && len(db.moves) == m.moved {
		return
	}
	db.logBatch = db.logBatch[:m.logged]
	db.moves = db.moves[:m.moved]
	clear(db.batchIndex)
	for i, a := range db.logBatch {
		idx := db.batchIndex[a.SessionID]
		if idx == nil {
			idx = map[string]int{}
			db.batchIndex[a.SessionID] = idx
		}
		idx[a.Item] = i
	}
	// A move that rolled back may have cleared fresh sessions: that only
	// costs lookups in answers, never a wrong answer.
}

// discardBatch forgets the open batch after a rollback.
func (db *DB) discardBatch() {
	db.logBatch = db.logBatch[:0]
	db.moves = db.moves[:0]
	db.created = db.created[:0]
	clear(db.batchIndex)
}

// publishBatch applies a committed batch to the tail: first the sessions
// it moved, then the answers it logged (which may bring a moved session
// back). A move takes every waiting answer of its session, and the tail
// does not change between the move and this, so a moved session leaves
// the tail whole.
func (db *DB) publishBatch() {
	if len(db.logBatch) == 0 && len(db.moves) == 0 && len(db.created) == 0 && !db.freshStale {
		return
	}
	t := db.tail
	t.mu.Lock()
	if db.freshStale || len(t.fresh)+len(db.created) > maxActivity {
		// Forgetting only costs readers a query.
		clear(t.fresh)
	}
	if !db.freshStale {
		// A batch that may have deleted sessions marks none fresh, not
		// even those it created before the statement that did.
		for _, session := range db.created {
			t.fresh[session] = struct{}{}
		}
	}
	db.freshStale = false
	for _, session := range db.moves {
		delete(t.fresh, session)
		if ts := t.sessions[session]; ts != nil {
			t.rows -= len(ts.answers)
			delete(t.sessions, session)
		}
	}
	for _, a := range db.logBatch {
		ts := t.sessions[a.SessionID]
		if ts == nil {
			ts = &tailSession{first: a.id, answers: map[string]logAnswer{}}
			t.sessions[a.SessionID] = ts
			t.order = append(t.order, tailRef{session: a.SessionID, first: a.id})
		}
		if _, ok := ts.answers[a.Item]; !ok {
			t.rows++
		}
		ts.answers[a.Item] = a
	}
	// Drop the order's leading entries for sessions moved since.
	k := 0
	for k < len(t.order) && t.stale(t.order[k]) {
		k++
	}
	t.order = t.order[k:]
	t.mu.Unlock()
	db.discardBatch()
}

// stale reports an order entry whose session has been moved since (or
// has come back, with a later entry of its own).
func (t *answerTail) stale(ref tailRef) bool {
	ts := t.sessions[ref.session]
	return ts == nil || ts.first != ref.first
}

// moveSome moves the oldest sessions' waiting answers into answers once the
// tail is over target: at least as many as the batch logged (so the tail
// stops growing) and moveMin. It runs in the batch's transaction, before
// COMMIT, inside a savepoint of its own: a failure only leaves the answers
// waiting.
func (w *wtx) moveSome() {
	db := w.db
	t := db.tail
	over := t.rows + len(db.logBatch) - db.tailTarget
	if over <= 0 {
		return
	}
	budget := min(over, max(moveMin, 2*len(db.logBatch)))
	if _, err := w.exec("SAVEPOINT move"); err != nil {
		return
	}
	mark := db.batchMark()
	var done int
	var err error
	movedSessions := map[string]bool{}
	i := 0
	for ; i < len(t.order) && done < budget; i++ {
		ref := t.order[i]
		if t.stale(ref) || movedSessions[ref.session] {
			continue
		}
		ts := t.sessions[ref.session]
		if err = w.moveSession(ref.session, ts); err != nil {
			break
		}
		movedSessions[ref.session] = true
		db.moves = append(db.moves, ref.session)
		done += len(ts.answers)
	}
	if err == nil {
		// Rows below the oldest answer still waiting are in answers (or
		// superseded): drop that prefix of the log.
		floor := db.nextLogFloor(i, movedSessions)
		_, err = w.exec("DELETE FROM answer_log WHERE id < ?", floor)
	}
	if err != nil {
		db.rollbackBatchTo(mark)
		_, _ = w.exec("ROLLBACK TO move")
		_, _ = w.exec("RELEASE move")
		return
	}
	if _, err := w.exec("RELEASE move"); err != nil {
		db.rollbackBatchTo(mark)
	}
}

// moveSession writes a session's waiting answers into answers.
func (w *wtx) moveSession(session string, ts *tailSession) error {
	for _, a := range ts.answers {
		if _, err := w.exec(`INSERT INTO answers(session_id, item, value, seq, at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT(session_id, item) DO UPDATE SET value = excluded.value, seq = excluded.seq, at = excluded.at
			WHERE excluded.seq > answers.seq`, session, a.Item, a.Value, a.Seq, ms(a.At)); err != nil {
			return mapErr(err)
		}
	}
	delete(w.db.fresh, session)
	return nil
}

// nextLogFloor is the lowest rowid still needed in answer_log once the
// sessions moved by this batch are gone: the first of the oldest session
// still waiting (from order[from:]), or of the open batch's own.
func (db *DB) nextLogFloor(from int, movedNow map[string]bool) int64 {
	floor := int64(math.MaxInt64)
	t := db.tail
	for _, ref := range t.order[from:] {
		if t.stale(ref) || movedNow[ref.session] {
			continue
		}
		floor = ref.first
		break
	}
	for _, a := range db.logBatch {
		floor = min(floor, a.id)
	}
	return floor
}

// moveLogSQL moves every row of answer_log into answers, the highest
// sequence number per item winning (a session erased meanwhile is skipped:
// its answers went with it).
const moveLogSQL = `INSERT INTO answers(session_id, item, value, seq, at)
	SELECT session_id, item, value, seq, at FROM answer_log WHERE session_id IN (SELECT id FROM sessions) ORDER BY id
	ON CONFLICT(session_id, item) DO UPDATE SET value = excluded.value, seq = excluded.seq, at = excluded.at
	WHERE excluded.seq > answers.seq`

// moveAll moves every waiting answer, the open batch's included, into
// answers and empties answer_log: for the operations that delete answers,
// so that none is left behind in the log.
func (w *wtx) moveAll() error {
	if _, err := w.exec(moveLogSQL); err != nil {
		return err
	}
	if _, err := w.exec("DELETE FROM answer_log"); err != nil {
		return err
	}
	db := w.db
	for s := range db.tail.sessions {
		db.moves = append(db.moves, s)
	}
	clear(db.fresh)
	return nil
}
