package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"xinling/store"
)

// ErasePerson erases, in one transaction, what the personal-data
// inventory (store.Personal) says: the person's identifiers (and the birth
// month, for the age at erasure), then each record type of eraseTargets.
func (db *DB) ErasePerson(ctx context.Context, e store.Erasure) (store.ErasureOutcome, error) {
	var out store.ErasureOutcome
	err := db.write(ctx, func(w *wtx) error {
		out = store.ErasureOutcome{} // the writer may run an operation twice
		at := ms(store.Millis(e.At))
		res, err := w.exec("UPDATE persons SET "+personBlanks()+`,
			age = CASE WHEN ? > 0 THEN ? ELSE age END, anonymised=1, updated_at=?, version=version+1 WHERE id=?`,
			e.Age, e.Age, at, e.PersonID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("person", e.PersonID)
		}
		// No answer may wait in the log, out of the erasure's reach.
		if err := w.moveAll(); err != nil {
			return err
		}
		for _, t := range eraseTargets {
			q := t.statement(e.DropAnswers)
			if q == "" {
				continue
			}
			res, err := w.exec(q, e.PersonID)
			if err != nil {
				return fmt.Errorf("erase %s: %w", t.table, err)
			}
			if t.count != nil {
				n, _ := res.RowsAffected()
				*t.count(&out) = int(n)
			}
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

const personCols = "id, COALESCE(unit_id, ''), unit_path, school_id, student_no_index, name, phone, student_no, sex, birth_month, age, anonymised, created_at, updated_at, version"

func scanPerson(r interface{ Scan(...any) error }) (store.Person, error) {
	var p store.Person
	var anon int
	var created, updated int64
	var name, phone, sno []byte
	err := r.Scan(&p.ID, &p.UnitID, &p.UnitPath, &p.SchoolID, &p.StudentNoIndex, &name, &phone, &sno,
		&p.Sex, &p.BirthMonth, &p.Age, &anon, &created, &updated, &p.Version)
	p.Name, p.Phone, p.StudentNo = name, phone, sno
	p.Anonymised, p.CreatedAt, p.UpdatedAt = anon != 0, tm(created), tm(updated)
	return p, err
}

func (w *wtx) insertPerson(p *store.Person) error {
	p.UnitPath = ""
	if p.UnitID != "" {
		path, err := w.unitPath(p.UnitID)
		if err != nil {
			return err
		}
		p.UnitPath = path
	}
	_, err := w.exec("INSERT INTO persons(id, unit_id, unit_path, school_id, student_no_index, name, phone, student_no, sex, birth_month, age, anonymised, created_at, updated_at, version) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
		p.ID, nullable(p.UnitID), p.UnitPath, p.SchoolID, p.StudentNoIndex, []byte(p.Name), []byte(p.Phone), []byte(p.StudentNo),
		p.Sex, p.BirthMonth, p.Age, b2i(p.Anonymised), ms(p.CreatedAt), ms(p.UpdatedAt), p.Version)
	return mapErr(err)
}

func (db *DB) CreatePerson(ctx context.Context, p store.Person) (store.Person, error) {
	if p.ID == "" {
		return p, invalid("person id")
	}
	p.CreatedAt = store.Millis(p.CreatedAt)
	p.UpdatedAt, p.Version = p.CreatedAt, 1
	err := db.write(ctx, func(w *wtx) error { return w.insertPerson(&p) })
	return p, err
}

func (db *DB) GetPerson(ctx context.Context, id string) (store.Person, error) {
	p, err := scanPerson(db.rdb.QueryRowContext(ctx, "SELECT "+personCols+" FROM persons WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return p, notFound("person", id)
	}
	return p, err
}

func (w *wtx) updatePerson(p store.Person, checkVersion bool) error {
	path := ""
	if p.UnitID != "" {
		var err error
		if path, err = w.unitPath(p.UnitID); err != nil {
			return err
		}
	}
	q := `UPDATE persons SET unit_id=?, unit_path=?, school_id=?, student_no_index=?, name=?, phone=?, student_no=?,
		sex=?, birth_month=?, age=?, updated_at=?, version=version+1 WHERE id=?`
	args := []any{nullable(p.UnitID), path, p.SchoolID, p.StudentNoIndex, []byte(p.Name), []byte(p.Phone), []byte(p.StudentNo),
		p.Sex, p.BirthMonth, p.Age, ms(store.Millis(p.UpdatedAt)), p.ID}
	if checkVersion {
		q += " AND version=?"
		args = append(args, p.Version)
	}
	res, err := w.exec(q, args...)
	if err != nil {
		return mapErr(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return w.versionMiss("persons", p.ID)
	}
	return nil
}

func (db *DB) UpdatePerson(ctx context.Context, p store.Person) (store.Person, error) {
	var out store.Person
	err := db.write(ctx, func(w *wtx) error {
		if err := w.updatePerson(p, true); err != nil {
			return err
		}
		var err error
		out, err = scanPerson(w.queryRow("SELECT "+personCols+" FROM persons WHERE id = ?", p.ID))
		return err
	})
	return out, err
}

func (db *DB) ListPersons(ctx context.Context, f store.PersonFilter, p store.Page) ([]store.Person, string, error) {
	var w where
	w.subtree("unit_path", f.UnitPath)
	w.eq("school_id", f.SchoolID)
	if err := w.after("created_at", "id", p); err != nil {
		return nil, "", err
	}
	return list(ctx, db, "SELECT "+personCols+" FROM persons", &w, "created_at, id", p,
		func(r *sql.Rows) (store.Person, store.Cursor, error) {
			v, err := scanPerson(r)
			return v, store.Cursor{At: ms(v.CreatedAt), ID: v.ID}, err
		})
}

// rosterLookup finds a student by school and index. The roster index is
// partial (non-empty indexes only), and SQLite uses a partial index only
// when the query repeats its condition: without it, every row of an import
// scanned every person (20,000 students took 5 minutes instead of 5 s).
const rosterLookup = "SELECT id FROM persons WHERE school_id = ? AND student_no_index = ? AND student_no_index <> ''"

func (db *DB) UpsertRoster(ctx context.Context, schoolID string, people []store.Person, at time.Time) (store.RosterOutcome, error) {
	var out store.RosterOutcome
	at = store.Millis(at)
	for _, p := range people {
		if p.StudentNoIndex == "" || p.UnitID == "" {
			return out, invalid("roster entry needs a student number index and a unit")
		}
	}
	err := db.write(ctx, func(w *wtx) error {
		out = store.RosterOutcome{}
		school, err := w.unitPath(schoolID)
		if err != nil {
			return err
		}
		for _, p := range people {
			path, err := w.unitPath(p.UnitID)
			if err != nil {
				return err
			}
			if !store.InSubtree(path, school) {
				return invalid("unit %s is outside school %s", p.UnitID, schoolID)
			}
			p.SchoolID, p.UpdatedAt = schoolID, at
			var id string
			err = w.queryRow(rosterLookup, schoolID, p.StudentNoIndex).Scan(&id)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				if p.ID == "" {
					p.ID = store.NewID()
				}
				p.CreatedAt, p.Version = at, 1
				if err := w.insertPerson(&p); err != nil {
					return err
				}
				out.Created++
			case err != nil:
				return err
			default:
				p.ID = id
				if err := w.updatePerson(p, false); err != nil {
					return err
				}
				out.Updated++
			}
		}
		return nil
	})
	return out, err
}

func (db *DB) LinkIdentity(ctx context.Context, kind, key, personID string, at time.Time) error {
	if kind == "" || key == "" || personID == "" {
		return invalid("identity needs kind, key and person")
	}
	return db.write(ctx, func(w *wtx) error {
		var cur string
		err := w.queryRow("SELECT person_id FROM identities WHERE kind = ? AND key = ?", kind, key).Scan(&cur)
		switch {
		case err == nil && cur == personID:
			return nil
		case err == nil:
			return fmt.Errorf("%w: identity bound to another person", store.ErrConflict)
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		_, err = w.exec("INSERT INTO identities(kind, key, person_id, created_at) VALUES (?, ?, ?, ?)", kind, key, personID, ms(store.Millis(at)))
		return mapErr(err)
	})
}

func (db *DB) FindIdentity(ctx context.Context, kind, key string) (store.Person, error) {
	p, err := scanPerson(db.rdb.QueryRowContext(ctx, "SELECT "+personCols+
		" FROM persons WHERE id = (SELECT person_id FROM identities WHERE kind = ? AND key = ?)", kind, key))
	if errors.Is(err, sql.ErrNoRows) {
		return p, notFound("identity", kind)
	}
	return p, err
}

func (db *DB) AnonymisePerson(ctx context.Context, id string, at time.Time) error {
	return db.write(ctx, func(w *wtx) error {
		res, err := w.exec("UPDATE persons SET "+personBlanks()+", anonymised=1, updated_at=?, version=version+1 WHERE id=?",
			ms(store.Millis(at)), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("person", id)
		}
		_, err = w.exec("DELETE FROM identities WHERE person_id = ?", id)
		return err
	})
}
