package sealed

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"xinling/store"
)

// RekeyReport counts what Rekey did.
type RekeyReport struct {
	Visited   int // non-empty sealed values seen
	Moved     int // values re-sealed from an older key to the current one
	Sealed    int // plaintext values (written before encryption) sealed
	Skipped   int // values a running server changed during the pass (they are current already)
	Reindexed int // persons whose blind index was rebuilt (plaintext-era hash → keyed HMAC)
}

// Rekey moves every sealed value of st (the backend below a Store, which
// must implement store.Resealer) to the current key, seals any plaintext
// left from before encryption, and rebuilds blind indexes that are not
// keyed HMACs. Values already under the current key are left alone, so a
// second run, or a run after an interruption, does only what is left.
// Once it reports no error, keys other than the current one can be dropped.
func Rekey(ctx context.Context, st store.Store, keys *Keys, batch int) (RekeyReport, error) {
	var rep RekeyReport
	rs, ok := st.(store.Resealer)
	if !ok {
		return rep, errors.New("this store cannot rewrite sealed values in place")
	}
	var moved, sealed int
	cnt, err := rs.Reseal(ctx, batch, func(v store.SealedValue) ([]byte, error) {
		val, suffix := v.Value, []byte(nil)
		if v.Field == store.FieldWarningNote && bytes.HasPrefix(val, []byte(" ")) {
			return nil, nil // an empty assignment note: only the plain " → <assignee>"
		}
		if v.Field == store.FieldWarningNote && IsSealed(val) {
			// An assignment note carries a plain " → <assignee>" suffix.
			if i := bytes.IndexByte(val, ' '); i >= 0 {
				val, suffix = val[:i], val[i:]
			}
		}
		if !IsSealed(val) {
			sealed++
			return keys.Seal(v.Field, v.Row, v.Value), nil
		}
		if id, _ := KeyID(val); id == keys.Current() {
			return nil, nil
		}
		plain, err := keys.Open(v.Field, v.Row, val)
		if err != nil {
			return nil, err
		}
		moved++
		return append(keys.Seal(v.Field, v.Row, plain), suffix...), nil
	})
	rep.Visited, rep.Skipped = cnt.Visited, cnt.Skipped
	// The counts from fn include values that lost the compare (Skipped).
	rep.Moved, rep.Sealed = moved, sealed
	if err != nil {
		return rep, err
	}
	rep.Reindexed, err = reindex(ctx, Wrap(st, keys))
	return rep, err
}

// reindex gives every person with a student number the keyed blind index.
func reindex(ctx context.Context, s *Store) (int, error) {
	n := 0
	pg := store.Page{Limit: store.MaxLimit}
	for {
		ps, next, err := s.ListPersons(ctx, store.PersonFilter{}, pg)
		if err != nil {
			return n, err
		}
		for _, p := range ps {
			if len(p.StudentNo) == 0 || p.SchoolID == "" {
				continue
			}
			want := s.keys.Blind(p.SchoolID, string(p.StudentNo))
			if p.StudentNoIndex == want {
				continue
			}
			p.StudentNoIndex = want
			if _, err := s.UpdatePerson(ctx, p); err != nil {
				return n, fmt.Errorf("reindex person %s: %w", p.ID, err)
			}
			n++
		}
		if next == "" || len(ps) == 0 {
			return n, nil
		}
		pg.After = next
	}
}
