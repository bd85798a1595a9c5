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
	Acked      int64     `json:"acked"`
	Sessions   int       `json:"sessions"`
	Missing    int64     `json:"missing"`
	Mismatched int64     `json:"mismatched"`
	Examples   []Problem `json:"examples"`
}

// Problem is one acknowledged answer the store does not hold as acked.
type Problem struct {
	Kind    string   `json:"kind"` // missing | mismatched
	Session string   `json:"session"`
	Item    string   `json:"item"`
	Value   float64  `json:"value"`
	Seq     int64    `json:"seq"`
	Stored  *AckLine `json:"stored,omitempty"`
	Reason  string   `json:"reason,omitempty"`
}

// OK reports whether every acknowledged answer was found.
func (r *VerifyReport) OK() bool { return r.Missing == 0 && r.Mismatched == 0 }

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
	if p.Kind == "missing" {
		r.Missing++
	} else {
		r.Mismatched++
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
