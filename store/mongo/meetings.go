package mongo

// Case conferences and parent meetings (store.MeetingStore). Each record
// is one document written once by a single insert, so no write spans
// documents and nothing needs finishing after a crash.

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"xinling/store"
)

const cMeetings = "meetings"

type meetingDoc struct {
	Key           string `bson:"_id"`
	store.Meeting `bson:",inline"`
}

var fMeeting = names[meetingDoc, struct{ Kind, PersonID, CaseID, UnitID, UnitPath, Date string }]()

// meetingIndexes are added by indexes(): a person's record, a case's
// meetings and a subtree's monthly figures.
func meetingIndexes(ix func(unique bool, keys ...string) mongo.IndexModel) map[string][]mongo.IndexModel {
	return map[string][]mongo.IndexModel{
		cMeetings: {ix(false, fMeeting.PersonID, fMeeting.Date, fID), ix(false, fMeeting.CaseID, fMeeting.Date, fID),
			ix(false, fMeeting.UnitPath, fMeeting.Date, fID)},
	}
}

func (db *DB) CreateMeeting(ctx context.Context, m store.Meeting) (store.Meeting, error) {
	if err := store.CheckMeeting(m); err != nil {
		return m, err
	}
	if _, err := db.GetPerson(ctx, m.PersonID); err != nil {
		return m, err
	}
	p, err := db.unitPath(ctx, m.UnitID)
	if err != nil {
		return m, err
	}
	m.UnitPath, m.Date, m.CreatedAt = p, store.Millis(m.Date), store.Millis(m.CreatedAt)
	_, err = db.c[cMeetings].InsertOne(ctx, meetingDoc{Key: m.ID, Meeting: m})
	return m, mapErr(err)
}

func (db *DB) GetMeeting(ctx context.Context, mid string) (store.Meeting, error) {
	d, err := get[meetingDoc](ctx, db.c[cMeetings], id(mid), "meeting", mid)
	return d.Meeting, err
}

func (db *DB) ListMeetings(ctx context.Context, f store.MeetingFilter, p store.Page) ([]store.Meeting, string, error) {
	q := subtree(bson.D{}, fMeeting.UnitPath, f.UnitPath)
	q = eq(eq(eq(q, fMeeting.PersonID, f.PersonID), fMeeting.CaseID, f.CaseID), fMeeting.Kind, string(f.Kind))
	q, err := after(q, fMeeting.Date, p)
	if err != nil {
		return nil, "", err
	}
	return list(ctx, db.c[cMeetings], q, byTime(fMeeting.Date), p, func(d meetingDoc) (store.Meeting, store.Cursor) {
		return d.Meeting, cursor(d.Date, d.Key)
	})
}

func (db *DB) MeetingCounts(ctx context.Context, path string, from, to time.Time) ([]store.MeetingCount, error) {
	q := timeRange(subtree(bson.D{}, fMeeting.UnitPath, path), fMeeting.Date, from, to)
	docs, err := findAll[meetingDoc](ctx, db.c[cMeetings], q)
	if err != nil {
		return nil, err
	}
	byUnit := map[string]*store.MeetingCount{}
	for _, d := range docs {
		c := byUnit[d.UnitID]
		if c == nil {
			c = &store.MeetingCount{UnitID: d.UnitID}
			byUnit[d.UnitID] = c
		}
		switch d.Kind {
		case store.MeetingConference:
			c.Conferences++
		case store.MeetingParent:
			c.ParentMeetings++
		}
	}
	out := make([]store.MeetingCount, 0, len(byUnit))
	for _, c := range byUnit {
		out = append(out, *c)
	}
	store.SortMeetingCounts(out)
	return out, nil
}

// eraseMeetings blanks the free text of the person's meetings.
func (db *DB) eraseMeetings(ctx context.Context, personID string) error {
	_, err := db.c[cMeetings].UpdateMany(ctx, bson.D{{Key: fMeeting.PersonID, Value: personID}, {Key: "$or", Value: eraseMeeting.held}},
		bson.D{{Key: "$set", Value: eraseMeeting.set}})
	return err
}
