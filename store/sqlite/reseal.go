package sqlite

import (
	"context"
	"fmt"
	"strings"

	"xinling/store"
)

var _ store.Resealer = (*DB)(nil)

// sealedCol is one column that holds sealed values.
type sealedCol struct {
	table, col, field string
	pk                []string // primary key, the order of the pass
	keyCols           []string // read to compute the row key
	where             string   // extra condition
	row               func(pk, key []any) string
}

func str(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case []byte:
		return string(v)
	}
	return fmt.Sprint(v)
}

func byID(pk, _ []any) string { return str(pk[0]) }

var personRow = func(pk, key []any) string { return store.PersonSealKey(str(pk[0]), str(key[0]), str(key[1])) }

var sealedCols = sealedColumns()

// Vacuum rebuilds the database file, so bytes of rewritten rows (the
// plaintext that rekey sealed) no longer linger in free space. It holds the
// write lock for its whole run, so a serve on the same file waits: run it
// with serve stopped. It runs outside the writer's batch transaction, on the
// checkpointer's connection (VACUUM cannot run inside a transaction).
func (db *DB) Vacuum(ctx context.Context) error {
	if _, err := db.ckdb.ExecContext(ctx, "VACUUM"); err != nil {
		return fmt.Errorf("sqlite: vacuum: %w", err)
	}
	return nil
}

// Reseal walks every sealed column in primary-key order. Each batch is read
// from the read pool and rewritten in one write through the group-commit
// writer, with a compare on the old value, so a `serve` running on the same
// file (through its own writer; SQLite's lock and busy timeout order the two)
// never has a fresh write overwritten.
func (db *DB) Reseal(ctx context.Context, batch int, fn func(store.SealedValue) ([]byte, error)) (store.ResealCount, error) {
	var total store.ResealCount
	if batch <= 0 {
		batch = 500
	}
	for _, c := range sealedCols {
		var after []any
		for {
			n, last, cnt, err := db.resealBatch(ctx, c, after, batch, fn)
			total.Visited += cnt.Visited
			total.Rewritten += cnt.Rewritten
			total.Skipped += cnt.Skipped
			if err != nil {
				return total, fmt.Errorf("reseal %s.%s: %w", c.table, c.col, err)
			}
			if n < batch {
				break
			}
			after = last
		}
	}
	return total, nil
}

type resealRow struct {
	pk       []any
	old, new any
}

func (db *DB) resealBatch(ctx context.Context, c sealedCol, after []any, batch int,
	fn func(store.SealedValue) ([]byte, error)) (int, []any, store.ResealCount, error) {
	var cnt store.ResealCount
	cols := append(append(append([]string{}, c.pk...), c.keyCols...), c.col)
	q := "SELECT " + strings.Join(cols, ", ") + " FROM " + c.table + " WHERE " + c.col + " IS NOT NULL AND length(" + c.col + ") > 0"
	if c.where != "" {
		q += " AND " + c.where
	}
	pkList := strings.Join(c.pk, ", ")
	if after != nil {
		q += " AND (" + pkList + ") > (" + strings.TrimSuffix(strings.Repeat("?, ", len(c.pk)), ", ") + ")"
	}
	q += fmt.Sprintf(" ORDER BY %s LIMIT %d", pkList, batch)
	rows, err := db.rdb.QueryContext(ctx, q, after...)
	if err != nil {
		return 0, nil, cnt, err
	}
	var n int
	var last []any
	var todo []resealRow
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			rows.Close()
			return 0, nil, cnt, err
		}
		n++
		pk, key, old := vals[:len(c.pk)], vals[len(c.pk):len(c.pk)+len(c.keyCols)], vals[len(cols)-1]
		last = pk
		cnt.Visited++
		nv, err := fn(store.SealedValue{Field: c.field, Row: c.row(pk, key), Value: []byte(str(old))})
		if err != nil {
			rows.Close()
			return 0, nil, cnt, err
		}
		if nv == nil {
			continue
		}
		r := resealRow{pk: pk, old: old, new: nv}
		if _, text := old.(string); text {
			r.new = string(nv) // keep the column's storage class, or the compare below never matches
		}
		todo = append(todo, r)
	}
	if err := rows.Close(); err != nil {
		return 0, nil, cnt, err
	}
	if len(todo) == 0 {
		return n, last, cnt, nil
	}
	upd := "UPDATE " + c.table + " SET " + c.col + " = ? WHERE "
	for _, k := range c.pk {
		upd += k + " = ? AND "
	}
	upd += c.col + " = ?"
	var rewritten int
	err = db.write(ctx, func(w *wtx) error {
		rewritten = 0 // the writer may run an operation twice
		for _, r := range todo {
			args := append(append([]any{r.new}, r.pk...), r.old)
			res, err := w.exec(upd, args...)
			if err != nil {
				return err
			}
			if k, _ := res.RowsAffected(); k == 1 {
				rewritten++
			}
		}
		return nil
	})
	if err != nil {
		return 0, nil, cnt, err
	}
	cnt.Rewritten, cnt.Skipped = rewritten, len(todo)-rewritten
	return n, last, cnt, nil
}
