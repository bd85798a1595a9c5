package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"xinling/store"
)

// Case conferences and parent meetings (store.MeetingStore).

const meetingCols = "id, kind, person_id, case_id, warning_id, unit_id, unit_path, date, attendees, decision, agreed, notes, author_id, created_at"

func scanMeeting(r interface{ Scan(...any) error }) (store.Meeting, error) {
	var m store.Meeting
	var attendees, agreed, notes []byte
	var date, created int64
	err := r.Scan(&m.ID, &m.Kind, &m.PersonID, &m.CaseID, &m.WarningID, &m.UnitID, &m.UnitPath, &date, &attendees, &m.Decision,
		&agreed, &notes, &m.AuthorID, &created)
	m.Attendees, m.Agreed, m.Notes, m.Date, m.CreatedAt = attendees, agreed, notes, tm(date), tm(created)
	return m, err
}

func (db *DB) CreateMeeting(ctx context.Context, m store.Meeting) (store.Meeting, error) {
	if err := store.CheckMeeting(m); err != nil {
		return m, err
	}
	m.Date, m.CreatedAt = store.Millis(m.Date), store.Millis(m.CreatedAt)
	err := db.write(ctx, func(w *wtx) error {
		var one int
		if err := w.queryRow("SELECT 1 FROM persons WHERE id = ?", m.PersonID).Scan(&one); errors.Is(err, sql.ErrNoRows) {
			return notFound("person", m.PersonID)
		} else if err != nil {
			return err
		}
		p, err := w.unitPath(m.UnitID)
		if err != nil {
			return err
		}
		m.UnitPath = p
		_, err = w.exec("INSERT INTO meetings("+meetingCols+") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
			m.ID, string(m.Kind), m.PersonID, m.CaseID, m.WarningID, m.UnitID, m.UnitPath, ms(m.Date), []byte(m.Attendees), m.Decision,
			[]byte(m.Agreed), []byte(m.Notes), m.AuthorID, ms(m.CreatedAt))
		return mapErr(err)
	})
	return m, err
}

func (db *DB) GetMeeting(ctx context.Context, id string) (store.Meeting, error) {
	m, err := scanMeeting(db.rdb.QueryRowContext(ctx, "SELECT "+meetingCols+" FROM meetings WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return m, notFound("meeting", id)
	}
	return m, err
}

func (db *DB) ListMeetings(ctx context.Context, f store.MeetingFilter, p store.Page) ([]store.Meeting, string, error) {
	var w where
	w.subtree("unit_path", f.UnitPath)
	w.eq("person_id", f.PersonID)
	w.eq("case_id", f.CaseID)
	w.eq("kind", string(f.Kind))
	if err := w.after("date", "id", p); err != nil {
		return nil, "", err
	}
	return list(ctx, db, "SELECT "+meetingCols+" FROM meetings", &w, "date, id", p,
		func(r *sql.Rows) (store.Meeting, store.Cursor, error) {
			m, err := scanMeeting(r)
			return m, store.Cursor{At: ms(m.Date), ID: m.ID}, err
		})
}

func (db *DB) MeetingCounts(ctx context.Context, path string, from, to time.Time) ([]store.MeetingCount, error) {
	lo, hi, ok := store.PathRange(path)
	if !ok {
		lo, hi = "", "\U0010FFFF"
	}
	f, t := ms(store.Millis(from)), ms(store.Millis(to))
	if to.IsZero() {
		t = 1<<63 - 1
	}
	rows, err := db.rdb.QueryContext(ctx, `SELECT unit_id, kind, count(*) FROM meetings
		WHERE unit_path >= ? AND unit_path < ? AND date >= ? AND date < ? GROUP BY unit_id, kind`, lo, hi, f, t)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	byUnit := map[string]*store.MeetingCount{}
	for rows.Next() {
		var unit, kind string
		var n int
		if err := rows.Scan(&unit, &kind, &n); err != nil {
			return nil, err
		}
		c := byUnit[unit]
		if c == nil {
			c = &store.MeetingCount{UnitID: unit}
			byUnit[unit] = c
		}
		switch store.MeetingKind(kind) {
		case store.MeetingConference:
			c.Conferences += n
		case store.MeetingParent:
			c.ParentMeetings += n
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]store.MeetingCount, 0, len(byUnit))
	for _, c := range byUnit {
		out = append(out, *c)
	}
	store.SortMeetingCounts(out)
	return out, nil
}
