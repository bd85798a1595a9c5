package mongo

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"xinling/store"
)

func (db *DB) CreateStaff(ctx context.Context, s store.Staff) (store.Staff, error) {
	if s.ID == "" || s.Login == "" || s.UnitID == "" {
		return s, invalid("staff needs id, login and unit")
	}
	p, err := db.unitPath(ctx, s.UnitID)
	if err != nil {
		return s, err
	}
	s.UnitPath, s.CreatedAt, s.LockedUntil, s.Version = p, store.Millis(s.CreatedAt), store.Millis(s.LockedUntil), 1
	s.UpdatedAt, s.Permissions = s.CreatedAt, store.SortedSet(s.Permissions)
	_, err = db.c[cStaff].InsertOne(ctx, staffDoc{Key: s.ID, Staff: s})
	return s, mapErr(err)
}

func (db *DB) GetStaff(ctx context.Context, sid string) (store.Staff, error) {
	d, err := get[staffDoc](ctx, db.c[cStaff], id(sid), "staff", sid)
	return d.Staff, err
}

func (db *DB) GetStaffByLogin(ctx context.Context, login string) (store.Staff, error) {
	d, err := get[staffDoc](ctx, db.c[cStaff], bson.D{{Key: fStaff.Login, Value: login}}, "staff login", login)
	return d.Staff, err
}

func (db *DB) UpdateStaff(ctx context.Context, s store.Staff) (store.Staff, error) {
	cur, err := db.GetStaff(ctx, s.ID)
	if err != nil {
		return s, err
	}
	p, err := db.unitPath(ctx, s.UnitID)
	if err != nil {
		return s, err
	}
	n := cur
	n.Name, n.Role, n.UnitID, n.UnitPath, n.PasswordHash = s.Name, s.Role, s.UnitID, p, s.PasswordHash
	n.FailedLogins, n.LockedUntil, n.Disabled, n.UpdatedAt = s.FailedLogins, store.Millis(s.LockedUntil), s.Disabled, store.Millis(s.UpdatedAt)
	n.MustChangePassword, n.Permissions = s.MustChangePassword, store.SortedSet(s.Permissions)
	n.Version = s.Version + 1
	return n, db.replaceVersioned(ctx, cStaff, s.ID, s.Version, staffDoc{Key: s.ID, Staff: n}, "staff")
}

func (db *DB) ListStaff(ctx context.Context, f store.StaffFilter, p store.Page) ([]store.Staff, string, error) {
	q := eq(subtree(bson.D{}, fStaff.UnitPath, f.UnitPath), fStaff.Role, string(f.Role))
	q, err := after(q, fStaff.CreatedAt, p)
	if err != nil {
		return nil, "", err
	}
	return list(ctx, db.c[cStaff], q, byTime(fStaff.CreatedAt), p, func(d staffDoc) (store.Staff, store.Cursor) {
		return d.Staff, cursor(d.CreatedAt, d.Key)
	})
}

type loginDoc struct {
	Key         string `bson:"_id"`
	store.Login `bson:",inline"`
}

func (db *DB) CreateLogin(ctx context.Context, l store.Login) error {
	if l.ID == "" || l.StaffID == "" {
		return invalid("login needs an id and a staff id")
	}
	l.CreatedAt, l.ExpiresAt = store.Millis(l.CreatedAt), store.Millis(l.ExpiresAt)
	_, err := db.c[cLogins].InsertOne(ctx, loginDoc{Key: l.ID, Login: l})
	return mapErr(err)
}

func (db *DB) GetLogin(ctx context.Context, id string) (store.Login, error) {
	var d loginDoc
	if err := db.c[cLogins].FindOne(ctx, bson.D{{Key: fID, Value: id}}).Decode(&d); err != nil {
		if errors.Is(mapErr(err), store.ErrNotFound) {
			return store.Login{}, notFound("login", "(hidden)")
		}
		return store.Login{}, mapErr(err)
	}
	d.Login.ID = d.Key
	return d.Login, nil
}

func (db *DB) DeleteLogin(ctx context.Context, id string) error {
	_, err := db.c[cLogins].DeleteOne(ctx, bson.D{{Key: fID, Value: id}})
	return mapErr(err)
}

func (db *DB) DeleteLogins(ctx context.Context, staffID string) (int, error) {
	res, err := db.c[cLogins].DeleteMany(ctx, bson.D{{Key: fLogin.StaffID, Value: staffID}})
	if err != nil {
		return 0, mapErr(err)
	}
	return int(res.DeletedCount), nil
}

func (db *DB) DeleteExpiredLogins(ctx context.Context, before time.Time) (int, error) {
	res, err := db.c[cLogins].DeleteMany(ctx, bson.D{{Key: fLogin.ExpiresAt, Value: bson.D{{Key: "$lt", Value: store.Millis(before)}}}})
	if err != nil {
		return 0, mapErr(err)
	}
	return int(res.DeletedCount), nil
}
