package mongo

import (
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"xinling/store"
)

// Documents embed the store records, so the mapping is the driver's default
// (lower-cased field names) plus an explicit _id. Keeping records and
// documents one type means a new field needs no mapping code; the price is
// that the record's own id is stored twice (_id and id). Queries never
// spell a field name: fields.go derives each one from these types.

type unitDoc struct {
	Key        string `bson:"_id"`
	store.Unit `bson:",inline"`
}

type staffDoc struct {
	Key         string `bson:"_id"`
	store.Staff `bson:",inline"`
}

type personDoc struct {
	Key          string `bson:"_id"`
	store.Person `bson:",inline"`
	// RosterKey is "school\x00index" for roster persons and absent
	// otherwise, so a sparse unique index enforces one person per student
	// number within a school.
	RosterKey string `bson:"rosterkey,omitempty"`
}

func newPersonDoc(p store.Person) personDoc {
	d := personDoc{Key: p.ID, Person: p}
	if p.StudentNoIndex != "" {
		d.RosterKey = p.SchoolID + "\x00" + p.StudentNoIndex
	}
	return d
}

type identityDoc struct {
	Key       string    `bson:"_id"` // kind + "\x00" + key
	PersonID  string    `bson:"personid"`
	CreatedAt time.Time `bson:"createdat"`
}

type sessionDoc struct {
	Key           string `bson:"_id"`
	store.Session `bson:",inline"`
	WarningID     string `bson:"warningid"`
	// Pending is the submission decided for this session and not yet fully
	// written (see submit.go); while it is set the session takes no answers.
	Pending *pendingSubmit `bson:"pending,omitempty"`
}

// pendingSubmit is a submission recorded on its session before its results
// and warning are written, so that whoever finds it can finish it alike.
type pendingSubmit struct {
	At      time.Time           `bson:"at"`
	Results []store.Result      `bson:"results"`
	Warning *store.WarningDraft `bson:"warning,omitempty"`
}

// answerDoc is keyed by session and item so that a save is one
// single-document upsert.
type answerDoc struct {
	Key          string `bson:"_id"`
	store.Answer `bson:",inline"`
}

func answerKey(session, item string) string { return session + "\x00" + item }

type resultDoc struct {
	Key          string `bson:"_id"`
	store.Result `bson:",inline"`
	// PendingRescore is the rescoring decided for this result (whose
	// SupersededBy already names the new one) and not yet fully written.
	PendingRescore *pendingRescore `bson:"pendingrescore,omitempty"`
}

type pendingRescore struct {
	At      time.Time           `bson:"at"`
	Result  store.Result        `bson:"result"`
	Warning *store.WarningDraft `bson:"warning,omitempty"`
}

type warningDoc struct {
	Key           string `bson:"_id"`
	store.Warning `bson:",inline"`
	// PendingReferral is the referral this entry was moved to "referred"
	// for, until its own record is written.
	PendingReferral *store.Referral `bson:"pendingreferral,omitempty"`
}

type referralDoc struct {
	Key            string `bson:"_id"`
	store.Referral `bson:",inline"`
}

type caseDoc struct {
	Key        string `bson:"_id"`
	store.Case `bson:",inline"`
}

type campaignDoc struct {
	Key            string `bson:"_id"`
	store.Campaign `bson:",inline"`
}

type codeDoc struct {
	Key              string `bson:"_id"`
	store.AccessCode `bson:",inline"`
	// Batch names the CreateAccessCodes call that wrote the code until that
	// call publishes the batch; a code with a batch counts only once the
	// batch document exists.
	Batch string `bson:"batch,omitempty"`
}

// batchDoc publishes a batch of access codes: one insert makes all of its
// codes usable at once.
type batchDoc struct {
	Key        string    `bson:"_id"`
	CampaignID string    `bson:"campaignid"`
	CreatedAt  time.Time `bson:"createdat"`
}

type instrumentDoc struct {
	Key                 string `bson:"_id"` // id + "\x00" + version
	store.InstrumentDoc `bson:",inline"`
}

type auditDoc struct {
	Key              string `bson:"_id"`
	store.AuditEntry `bson:",inline"`
}

type activityDoc struct {
	Key            string `bson:"_id"`
	store.Activity `bson:",inline"`
}

// Filter building. These functions are pure, so their tests run without a
// server.

// subtree adds the range condition for a materialized-path subtree.
func subtree(f bson.D, field, path string) bson.D {
	if lo, hi, ok := store.PathRange(path); ok {
		f = append(f, bson.E{Key: field, Value: bson.D{{Key: "$gte", Value: lo}, {Key: "$lt", Value: hi}}})
	}
	return f
}

// in adds "field is one of vals" when vals is not empty; string-typed
// values (states, kinds) are stored as plain strings.
func in[T ~string](f bson.D, field string, vals []T) bson.D {
	if len(vals) == 0 {
		return f
	}
	a := make(bson.A, len(vals))
	for i, v := range vals {
		a[i] = string(v)
	}
	return append(f, bson.E{Key: field, Value: bson.D{{Key: "$in", Value: a}}})
}

func eq(f bson.D, field, v string) bson.D {
	if v != "" {
		f = append(f, bson.E{Key: field, Value: v})
	}
	return f
}

func timeRange(f bson.D, field string, from, to time.Time) bson.D {
	var r bson.D
	if !from.IsZero() {
		r = append(r, bson.E{Key: "$gte", Value: store.Millis(from)})
	}
	if !to.IsZero() {
		r = append(r, bson.E{Key: "$lt", Value: store.Millis(to)})
	}
	if len(r) > 0 {
		f = append(f, bson.E{Key: field, Value: r})
	}
	return f
}

// after adds the keyset condition for lists sorted by (timeField, _id).
func after(f bson.D, timeField string, p store.Page) (bson.D, error) {
	c, ok, err := store.DecodeCursor(p.After)
	if err != nil || !ok {
		return f, err
	}
	t := time.UnixMilli(c.At).UTC()
	return append(f, bson.E{Key: "$or", Value: bson.A{
		bson.D{{Key: timeField, Value: bson.D{{Key: "$gt", Value: t}}}},
		bson.D{{Key: timeField, Value: t}, {Key: fID, Value: bson.D{{Key: "$gt", Value: c.ID}}}},
	}}), nil
}

// warningFilter builds the queue query: the org-path prefix first, then
// level, state and time, matching the index (unitpath, level, createdat).
func warningFilter(wf store.WarningFilter, p store.Page) (bson.D, error) {
	f := subtree(bson.D{}, fWarning.UnitPath, wf.UnitPath)
	if len(wf.Levels) > 0 {
		f = append(f, bson.E{Key: fWarning.Level, Value: bson.D{{Key: "$in", Value: wf.Levels}}})
	}
	f = in(f, fWarning.State, wf.States)
	f = eq(f, fWarning.AssigneeID, wf.AssigneeID)
	f = eq(f, fWarning.PersonID, wf.PersonID)
	if !wf.OverdueAt.IsZero() {
		f = append(f, bson.E{Key: fWarning.DueAt, Value: bson.D{{Key: "$gt", Value: time.Time{}}, {Key: "$lt", Value: store.Millis(wf.OverdueAt)}}})
	}
	c, ok, err := store.DecodeCursor(p.After)
	if err != nil {
		return nil, err
	}
	if ok {
		t := time.UnixMilli(c.At).UTC()
		f = append(f, bson.E{Key: "$or", Value: bson.A{
			bson.D{{Key: fWarning.Level, Value: bson.D{{Key: "$gt", Value: c.Level}}}},
			bson.D{{Key: fWarning.Level, Value: c.Level}, {Key: fWarning.CreatedAt, Value: bson.D{{Key: "$gt", Value: t}}}},
			bson.D{{Key: fWarning.Level, Value: c.Level}, {Key: fWarning.CreatedAt, Value: t}, {Key: fID, Value: bson.D{{Key: "$gt", Value: c.ID}}}},
		}})
	}
	return f, nil
}

func key2(a, b string) string { return fmt.Sprintf("%s\x00%s", a, b) }
