package sqlite

import (
	"context"

	"xinling/store"
)

func (db *DB) ErasePerson(ctx context.Context, e store.Erasure) (store.ErasureOutcome, error) {
	var out store.ErasureOutcome
	err := db.write(ctx, func(w *wtx) error {
		out = store.ErasureOutcome{} // the writer may run an operation twice
		at := ms(store.Millis(e.At))
		res, err := w.exec(`UPDATE persons SET name=NULL, phone=NULL, student_no=NULL, student_no_index='', birth_month='',
			age = CASE WHEN ? > 0 THEN ? ELSE age END, anonymised=1, updated_at=?, version=version+1 WHERE id=?`,
			e.Age, e.Age, at, e.PersonID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("person", e.PersonID)
		}
		count := func(n *int, q string, args ...any) error {
			res, err := w.exec(q, args...)
			if err != nil {
				return err
			}
			c, _ := res.RowsAffected()
			*n = int(c)
			return nil
		}
		var events int
		for _, step := range []struct {
			n *int
			q string
		}{
			{&out.Identities, "DELETE FROM identities WHERE person_id = ?"},
			{&out.AccessCodes, "DELETE FROM access_codes WHERE person_id = ?"},
			{&out.Cases, `UPDATE cases SET self_evaluation=NULL, life_events=NULL, other_problems=NULL, advice=NULL, outcome=''
				WHERE person_id = ? AND (self_evaluation IS NOT NULL OR life_events IS NOT NULL OR other_problems IS NOT NULL OR advice IS NOT NULL OR outcome <> '')`},
			{&out.Referrals, "UPDATE referrals SET note=NULL WHERE person_id = ? AND note IS NOT NULL"},
			{&events, "UPDATE warning_events SET note='' WHERE note <> '' AND warning_id IN (SELECT id FROM warnings WHERE person_id = ?)"},
			{&out.Sessions, `UPDATE sessions SET token_hash=NULL, state = CASE WHEN state = 'open' THEN 'purged' ELSE state END
				WHERE person_id = ? AND (token_hash IS NOT NULL OR state = 'open')`},
		} {
			if err := count(step.n, step.q, e.PersonID); err != nil {
				return err
			}
		}
		if e.DropAnswers {
			return count(&out.Answers, "DELETE FROM answers WHERE session_id IN (SELECT id FROM sessions WHERE person_id = ?)", e.PersonID)
		}
		return nil
	})
	return out, err
}

func (db *DB) ListIdentities(ctx context.Context, personID string) ([]store.Identity, error) {
	rows, err := db.rdb.QueryContext(ctx, "SELECT kind, key, person_id, created_at FROM identities WHERE person_id = ? ORDER BY created_at, kind, key", personID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []store.Identity{}
	for rows.Next() {
		var v store.Identity
		var at int64
		if err := rows.Scan(&v.Kind, &v.Key, &v.PersonID, &at); err != nil {
			return nil, err
		}
		v.CreatedAt = tm(at)
		out = append(out, v)
	}
	return out, rows.Err()
}

func (db *DB) ListPersonAccessCodes(ctx context.Context, personID string) ([]store.AccessCode, error) {
	if personID == "" {
		return []store.AccessCode{}, nil // class codes have no person; they are not anyone's
	}
	rows, err := db.rdb.QueryContext(ctx, "SELECT "+codeCols+" FROM access_codes WHERE person_id = ? ORDER BY created_at, code", personID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []store.AccessCode{}
	for rows.Next() {
		c, err := scanCode(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
