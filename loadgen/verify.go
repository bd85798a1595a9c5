package loadgen

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"xinling/store"
)

// VerifyReport is what `xinling verify` prints.
type VerifyReport struct {
	Acked      int64 `json:"acked"`
	Sessions   int   `json:"sessions"`
	Missing    int64 `json:"missing"`
	Mismatched int64 `json:"mismatched"`
	// With a submit log (VerifySubmits): acknowledged submits, and the
	// sessions whose results or queue entries are wrong.
	Submits  *SubmitCheck `json:"submits,omitempty"`
	Examples []Problem    `json:"examples"`

	sessions []string // of the ack log, in order
}

// SubmitCheck is what VerifySubmits found.
type SubmitCheck struct {
	// Acked counts acknowledged submits (lines of the submit log);
	// Sessions, the sessions among them.
	Acked    int64 `json:"acked"`
	Sessions int   `json:"sessions"`
	// Warned counts acknowledged sessions whose answers raise a warning,
	// each of which must have exactly one queue entry.
	Warned int `json:"warned"`
	// Sessions not submitted in the store; with other than one result per
	// instrument; with the wrong number (or level) of queue entries.
	NotSubmitted int64 `json:"not_submitted"`
	Results      int64 `json:"results_wrong"`
	Warnings     int64 `json:"warnings_wrong"`
	// Checked counts every session the store holds as submitted among
	// those of both logs: acknowledged or not, none may hold a second
	// result for an instrument or a second queue entry.
	Checked int `json:"checked"`
}

// Problem is one acknowledged answer the store does not hold as acked.
type Problem struct {
	Kind    string   `json:"kind"` // missing | mismatched | not_submitted | results | warnings
	Session string   `json:"session"`
	Item    string   `json:"item"`
	Value   float64  `json:"value"`
	Seq     int64    `json:"seq"`
	Stored  *AckLine `json:"stored,omitempty"`
	Reason  string   `json:"reason,omitempty"`
}

// OK reports whether every acknowledged answer was found and, with a
// submit log, every submit left what it should.
func (r *VerifyReport) OK() bool {
	ok := r.Missing == 0 && r.Mismatched == 0
	if c := r.Submits; c != nil {
		ok = ok && c.NotSubmitted == 0 && c.Results == 0 && c.Warnings == 0
	}
	return ok
}

const maxExamples = 20

// Verify checks every line of an ack log against the store. An answer
// counts as kept when the store holds its (session, item) with the same seq
// and value, or with a higher seq: a later answer to the same item may
// legitimately have replaced it. Lines that do not parse are an error, not
// a pass: a truncated log would otherwise hide losses.
func Verify(ctx context.Context, st store.Store, log io.Reader) (*VerifyReport, error) {
	// Group by session so the store is read once per session.
	bySession := map[string][]AckLine{}
	var order []string
	rep := &VerifyReport{Examples: []Problem{}}
	sc := bufio.NewScanner(log)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Bytes()
		if len(strings.TrimSpace(string(line))) == 0 {
			continue
		}
		var a AckLine
		if err := json.Unmarshal(line, &a); err != nil || a.Session == "" || a.Item == "" {
			return nil, fmt.Errorf("ack log line %d: not an acknowledged answer: %.80q", n, line)
		}
		if _, seen := bySession[a.Session]; !seen {
			order = append(order, a.Session)
		}
		bySession[a.Session] = append(bySession[a.Session], a)
		rep.Acked++
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("ack log: %w", err)
	}
	rep.Sessions = len(order)
	rep.sessions = order
	for _, id := range order {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		acks := bySession[id]
		stored, err := st.ListAnswers(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			for _, a := range acks {
				rep.add(Problem{Kind: "missing", Session: a.Session, Item: a.Item, Value: a.Value, Seq: a.Seq, Reason: "session not in store"})
			}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("session %s: %w", id, err)
		}
		held := make(map[string]store.Answer, len(stored))
		for _, s := range stored {
			held[s.Item] = s
		}
		for _, a := range acks {
			s, ok := lookup(held, a.Item)
			switch {
			case !ok:
				rep.add(Problem{Kind: "missing", Session: a.Session, Item: a.Item, Value: a.Value, Seq: a.Seq, Reason: "answer not in store"})
			case s.Seq < a.Seq:
				rep.add(Problem{Kind: "missing", Session: a.Session, Item: a.Item, Value: a.Value, Seq: a.Seq,
					Stored: &AckLine{a.Session, s.Item, s.Value, s.Seq}, Reason: "store holds an older seq"})
			case s.Seq == a.Seq && s.Value != a.Value:
				rep.add(Problem{Kind: "mismatched", Session: a.Session, Item: a.Item, Value: a.Value, Seq: a.Seq,
					Stored: &AckLine{a.Session, s.Item, s.Value, s.Seq}, Reason: "same seq, different value"})
			}
		}
	}
	sort.SliceStable(rep.Examples, func(i, j int) bool { return rep.Examples[i].Kind < rep.Examples[j].Kind })
	return rep, nil
}

func (r *VerifyReport) add(p Problem) {
	switch p.Kind {
	case "missing":
		r.Missing++
	case "mismatched":
		r.Mismatched++
	case "not_submitted":
		r.Submits.NotSubmitted++
	case "results":
		r.Submits.Results++
	case "warnings":
		r.Submits.Warnings++
	}
	if len(r.Examples) < maxExamples {
		r.Examples = append(r.Examples, p)
	}
}

// lookup finds an API item id ("phq9.q1") among stored answers. The API
// names items <instrument>.<item>; the store keeps whatever key assess
// gives it, which records.go suggests may be "phq9/q1", or the bare item
// id in a single-instrument session. All three spellings are tried, so
// verify does not depend on that choice.
func lookup(held map[string]store.Answer, item string) (store.Answer, bool) {
	if s, ok := held[item]; ok {
		return s, true
	}
	instr, bare, ok := strings.Cut(item, ".")
	if !ok {
		return store.Answer{}, false
	}
	if s, ok := held[instr+"/"+bare]; ok {
		return s, true
	}
	s, ok := held[bare]
	return s, ok
}

// VerifySubmits checks a submit log (loadtest --submit-log) against the
// store and adds what it finds to rep, which Verify made from the ack log
// of the same run. For every acknowledged submit:
//   - the session is submitted;
//   - it has exactly one result per instrument: a submit that was retried
//     on another server after the first one died must not have stored a
//     second set;
//   - it has exactly one queue entry, at the expected level, when the
//     generator's engine says its answers raise a warning, and none when
//     they raise none (only one check when the log cannot tell: at most one).
//
// Sessions of the ack log that the store holds as submitted without an
// acknowledged submit (the server died before answering, and the
// respondent gave up) get the last two checks as well, without an expected
// level.
func VerifySubmits(ctx context.Context, st store.Store, log io.Reader, rep *VerifyReport) error {
	chk := &SubmitCheck{}
	rep.Submits = chk
	want := map[string]int{} // session → expected level; -1 unknown
	var order []string
	sc := bufio.NewScanner(log)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Bytes()
		if len(strings.TrimSpace(string(line))) == 0 {
			continue
		}
		var s SubmitLine
		if err := json.Unmarshal(line, &s); err != nil || s.Session == "" || s.Warning < -1 {
			return fmt.Errorf("submit log line %d: not an acknowledged submit: %.80q", n, line)
		}
		chk.Acked++
		if old, seen := want[s.Session]; seen {
			// Submitting again replays: the expectation cannot change.
			if old != s.Warning {
				return fmt.Errorf("submit log line %d: session %s expected level %d, earlier %d", n, s.Session, s.Warning, old)
			}
			continue
		}
		want[s.Session] = s.Warning
		order = append(order, s.Session)
		if s.Warning > 0 {
			chk.Warned++
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("submit log: %w", err)
	}
	chk.Sessions = len(order)
	entries, err := entriesBySession(ctx, st)
	if err != nil {
		return err
	}
	check := func(id string, level int, acked bool) error {
		sess, err := st.GetSession(ctx, id)
		switch {
		case errors.Is(err, store.ErrNotFound):
			if acked {
				rep.add(Problem{Kind: "not_submitted", Session: id, Reason: "session not in store"})
			}
			return nil
		case err != nil:
			return fmt.Errorf("session %s: %w", id, err)
		case sess.State != store.SessionSubmitted:
			if acked {
				rep.add(Problem{Kind: "not_submitted", Session: id, Reason: "session is " + string(sess.State)})
			}
			return nil
		}
		chk.Checked++
		results, _, err := st.ListResults(ctx, store.ResultFilter{SessionID: id}, store.Page{Limit: store.MaxLimit})
		if err != nil {
			return fmt.Errorf("session %s results: %w", id, err)
		}
		per := map[string]int{}
		for _, r := range results {
			per[r.Instrument]++
		}
		for _, in := range sess.Instruments {
			in, _, _ = strings.Cut(in, "@") // a session pins versions: phq9@1.1.0
			if per[in] != 1 {
				rep.add(Problem{Kind: "results", Session: id, Reason: fmt.Sprintf("%d results for %s, want 1", per[in], in)})
			}
			delete(per, in)
		}
		for in, n := range per {
			rep.add(Problem{Kind: "results", Session: id, Reason: fmt.Sprintf("%d results for %s, which the session does not have", n, in)})
		}
		got := entries[id]
		switch {
		case len(got) > 1:
			rep.add(Problem{Kind: "warnings", Session: id, Reason: fmt.Sprintf("%d queue entries, want at most 1", len(got))})
		case level > 0 && len(got) == 0:
			rep.add(Problem{Kind: "warnings", Session: id, Reason: fmt.Sprintf("no queue entry; the answers raise level %d", level)})
		case level > 0 && got[0].Level != level:
			rep.add(Problem{Kind: "warnings", Session: id, Reason: fmt.Sprintf("queue entry at level %d, want %d", got[0].Level, level)})
		case level == 0 && len(got) == 1:
			rep.add(Problem{Kind: "warnings", Session: id, Reason: fmt.Sprintf("a level-%d queue entry; the answers raise none", got[0].Level)})
		}
		return nil
	}
	for _, id := range order {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := check(id, want[id], true); err != nil {
			return err
		}
	}
	for _, id := range rep.sessions {
		if _, acked := want[id]; acked {
			continue
		}
		if err := check(id, -1, false); err != nil {
			return err
		}
	}
	sort.SliceStable(rep.Examples, func(i, j int) bool { return rep.Examples[i].Kind < rep.Examples[j].Kind })
	return nil
}

// entriesBySession reads the whole queue once, by session. A load test's
// store is small enough; a production store is not what verify is for.
func entriesBySession(ctx context.Context, st store.Store) (map[string][]store.Warning, error) {
	out := map[string][]store.Warning{}
	page := store.Page{Limit: store.MaxLimit}
	for {
		ws, next, err := st.ListWarnings(ctx, store.WarningFilter{}, page)
		if err != nil {
			return nil, fmt.Errorf("queue: %w", err)
		}
		for _, w := range ws {
			out[w.SessionID] = append(out[w.SessionID], w)
		}
		if next == "" {
			return out, nil
		}
		page.After = next
	}
}
