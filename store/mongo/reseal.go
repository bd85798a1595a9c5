package mongo

import (
	"context"
	"fmt"
	"strconv"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"xinling/store"
)

var _ store.Resealer = (*DB)(nil)

// sealedSpec names the document fields of one collection that hold
// sealed values (bson name → store field name).
type sealedSpec struct {
	coll   string
	fields map[string]string
}

// sealedFields are the sealed fields Reseal walks, from the inventory;
// history notes are walked by position (below).
var sealedFields = sealedFieldsOf("Person", "Case", "Referral", "Activity", "WarningEvent", "Callback", "Booking", "Meeting", "NotifyEndpoint", "Absence")

// rawBytes returns a sealed value as stored: binary (store.Sealed) or a
// string (notes), with the Go value to write a replacement back as.
func rawBytes(v bson.RawValue) ([]byte, func([]byte) any, bool) {
	if _, b, ok := v.BinaryOK(); ok && len(b) > 0 {
		return b, func(n []byte) any { return n }, true
	}
	if s, ok := v.StringValueOK(); ok && s != "" {
		return []byte(s), func(n []byte) any { return string(n) }, true
	}
	return nil, nil, false
}

// Reseal walks each collection in _id order. Every value is replaced by a
// single-document update conditioned on the old value, so a concurrent
// server's write wins. History entries are addressed by position, which
// never changes (history is append-only).
func (db *DB) Reseal(ctx context.Context, batch int, fn func(store.SealedValue) ([]byte, error)) (store.ResealCount, error) {
	var cnt store.ResealCount
	if batch <= 0 {
		batch = 500
	}
	for _, spec := range sealedFields {
		after := ""
		for {
			filter := bson.D{}
			if after != "" {
				filter = bson.D{{Key: fID, Value: bson.D{{Key: "$gt", Value: after}}}}
			}
			cur, err := db.c[spec.coll].Find(ctx, filter, options.Find().SetSort(bson.D{{Key: fID, Value: 1}}).SetLimit(int64(batch)))
			if err != nil {
				return cnt, err
			}
			var docs []bson.Raw
			if err := cur.All(ctx, &docs); err != nil {
				return cnt, err
			}
			for _, doc := range docs {
				docID, _ := doc.Lookup(fID).StringValueOK()
				after = docID
				if err := db.resealDoc(ctx, spec.coll, spec.fields, docID, doc, fn, &cnt); err != nil {
					return cnt, fmt.Errorf("reseal %s %s: %w", spec.coll, docID, err)
				}
			}
			if len(docs) < batch {
				break
			}
		}
	}
	return cnt, nil
}

// sealedChange is one value to replace in a document: path is the field
// path for $set, old and new are the Go values (as stored: []byte or string).
type sealedChange struct {
	path     string
	old, new any
}

// sealedChanges asks fn about every sealed value of one document. It is
// pure, so the field names and history paths are tested without a server.
func sealedChanges(coll string, fields map[string]string, docID string, doc bson.Raw,
	fn func(store.SealedValue) ([]byte, error), cnt *store.ResealCount) ([]sealedChange, error) {
	var changes []sealedChange
	visit := func(path, field, row string, v bson.RawValue) error {
		old, as, ok := rawBytes(v)
		if !ok {
			return nil
		}
		cnt.Visited++
		nv, err := fn(store.SealedValue{Field: field, Row: row, Value: old})
		if err != nil || nv == nil {
			return err
		}
		changes = append(changes, sealedChange{path, as(old), as(nv)})
		return nil
	}
	if coll == cWarnings {
		arr, ok := doc.Lookup(fWarning.History).ArrayOK()
		if !ok {
			return nil, nil
		}
		vals, err := arr.Values()
		if err != nil {
			return nil, err
		}
		for i, ev := range vals {
			e, ok := ev.DocumentOK()
			if !ok {
				continue
			}
			kind, _ := e.Lookup(fEvent.Kind).StringValueOK()
			if !store.NoteSealed(kind) {
				continue
			}
			if err := visit(fWarning.History+"."+strconv.Itoa(i)+"."+fEvent.Note, store.FieldWarningNote, docID, e.Lookup(fEvent.Note)); err != nil {
				return nil, err
			}
		}
		return changes, nil
	}
	if coll == cNotifySettings {
		return changes, visitNotifyParts(doc, docID, visit)
	}
	row := docID
	if coll == cPersons {
		school, _ := doc.Lookup(fPerson.SchoolID).StringValueOK()
		idx, _ := doc.Lookup(fPerson.StudentNoIndex).StringValueOK()
		row = store.PersonSealKey(docID, school, idx)
	}
	for name, field := range fields {
		if err := visit(name, field, row, doc.Lookup(name)); err != nil {
			return nil, err
		}
	}
	return changes, nil
}

// visitNotifyParts visits the sealed values of a unit's endpoints and
// contacts, by position (a PUT replaces the document whole, and a value
// moved to another position by it no longer matches the old value there).
func visitNotifyParts(doc bson.Raw, unitID string, visit func(path, field, row string, v bson.RawValue) error) error {
	each := func(arr, key string, fn func(i int, e bson.Raw, k string) error) error {
		a, ok := doc.Lookup(arr).ArrayOK()
		if !ok {
			return nil
		}
		vals, err := a.Values()
		if err != nil {
			return err
		}
		for i, v := range vals {
			if e, ok := v.DocumentOK(); ok {
				k, _ := e.Lookup(key).StringValueOK()
				if err := fn(i, e, k); err != nil {
					return err
				}
			}
		}
		return nil
	}
	err := each(fNotifySettings.Endpoints, fEndpoint.Channel, func(i int, e bson.Raw, ch string) error {
		at := fNotifySettings.Endpoints + "." + strconv.Itoa(i) + "."
		row := store.NotifyEndpointSealKey(unitID, ch)
		if err := visit(at+fEndpoint.Address, store.FieldNotifyEndpointAddress, row, e.Lookup(fEndpoint.Address)); err != nil {
			return err
		}
		return visit(at+fEndpoint.Secret, store.FieldNotifyEndpointSecret, row, e.Lookup(fEndpoint.Secret))
	})
	if err != nil {
		return err
	}
	return each(fNotifySettings.Contacts, fContact.ID, func(i int, e bson.Raw, cid string) error {
		return visit(fNotifySettings.Contacts+"."+strconv.Itoa(i)+"."+fContact.Address, store.FieldNotifyContactAddress,
			store.NotifyContactSealKey(unitID, cid), e.Lookup(fContact.Address))
	})
}

func (db *DB) resealDoc(ctx context.Context, coll string, fields map[string]string, docID string, doc bson.Raw,
	fn func(store.SealedValue) ([]byte, error), cnt *store.ResealCount) error {
	changes, err := sealedChanges(coll, fields, docID, doc, fn, cnt)
	if err != nil {
		return err
	}
	for _, c := range changes {
		res, err := db.c[coll].UpdateOne(ctx, bson.D{{Key: fID, Value: docID}, {Key: c.path, Value: c.old}},
			bson.D{{Key: "$set", Value: bson.D{{Key: c.path, Value: c.new}}}})
		if err != nil {
			return err
		}
		if res.MatchedCount == 1 {
			cnt.Rewritten++
		} else {
			cnt.Skipped++
		}
	}
	return nil
}
