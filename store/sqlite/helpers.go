package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"xinling/store"
)

// ms stores a time as unix milliseconds, 0 for the zero time.
func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func tm(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only plain maps and slices reach here
	}
	return string(b)
}

func fromJSON(s string, v any) error {
	if s == "" || s == "null" {
		return nil
	}
	return json.Unmarshal([]byte(s), v)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// mapErr turns driver constraint failures into store errors. The messages
// are SQLite's own and identical under both drivers.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "UNIQUE constraint failed"), strings.Contains(msg, "PRIMARY KEY constraint failed"):
		return fmt.Errorf("%w: %v", store.ErrConflict, err)
	case strings.Contains(msg, "FOREIGN KEY constraint failed"):
		return fmt.Errorf("%w: %v", store.ErrNotFound, err)
	}
	return err
}

// where accumulates SQL conditions and their arguments.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

// subtree restricts col to the subtree under path (nothing for "").
func (w *where) subtree(col, path string) {
	if lo, hi, ok := store.PathRange(path); ok {
		w.add(col+" >= ? AND "+col+" < ?", lo, hi)
	}
}

// in adds "col is one of vals" when vals is not empty.
func in[T ~string](w *where, col string, vals []T) {
	if len(vals) == 0 {
		return
	}
	args := make([]any, len(vals))
	for i, v := range vals {
		args[i] = string(v)
	}
	w.add(col+" IN ("+placeholders(len(args))+")", args...)
}

func (w *where) eq(col string, v string) {
	if v != "" {
		w.add(col+" = ?", v)
	}
}

func (w *where) timeRange(col string, from, to time.Time) {
	if !from.IsZero() {
		w.add(col+" >= ?", ms(from))
	}
	if !to.IsZero() {
		w.add(col+" < ?", ms(to))
	}
}

// after adds the keyset condition for lists ordered by (timeCol, idCol).
func (w *where) after(timeCol, idCol string, p store.Page) error {
	c, ok, err := store.DecodeCursor(p.After)
	if err != nil || !ok {
		return err
	}
	w.add("("+timeCol+", "+idCol+") > (?, ?)", c.At, c.ID)
	return nil
}

func (w *where) sql() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// list runs a keyset-paginated query. cols and from make the SELECT; scan
// reads one row and returns the item with its cursor.
func list[T any](ctx context.Context, db *DB, q string, w *where, order string, p store.Page,
	scan func(*sql.Rows) (T, store.Cursor, error)) ([]T, string, error) {
	n := p.Size()
	rows, err := db.rdb.QueryContext(ctx, q+w.sql()+" ORDER BY "+order+fmt.Sprintf(" LIMIT %d", n+1), w.args...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var out []T
	var last store.Cursor
	for rows.Next() {
		if len(out) == n {
			return out, last.Encode(), rows.Close()
		}
		v, c, err := scan(rows)
		if err != nil {
			return nil, "", err
		}
		out = append(out, v)
		last = c
	}
	return out, "", rows.Err()
}

// unitPath returns a unit's path through the writer connection.
func (w *wtx) unitPath(id string) (string, error) {
	var p string
	err := w.queryRow("SELECT path FROM units WHERE id = ?", id).Scan(&p)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("%w: unit %s", store.ErrNotFound, id)
	}
	return p, err
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{store.ErrInvalid}, args...)...)
}

func notFound(kind, id string) error {
	return fmt.Errorf("%w: %s %s", store.ErrNotFound, kind, id)
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// versionMiss explains an optimistic update that matched no row.
func (w *wtx) versionMiss(table, id string) error {
	var n int
	if err := w.queryRow("SELECT count(*) FROM "+table+" WHERE id = ?", id).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return notFound(table, id)
	}
	return fmt.Errorf("%w: %s %s changed since read", store.ErrConflict, table, id)
}

func nullable(id string) any {
	if id == "" {
		return nil
	}
	return id
}
