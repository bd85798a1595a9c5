package mongo

import (
	"reflect"

	"go.mongodb.org/mongo-driver/v2/bson"

	"xinling/store"
)

// How the personal-data inventory (store.Personal) maps onto the
// collections. ErasePerson, AnonymisePerson and Reseal take the fields to
// blank or to reseal from the inventory through these;
// TestPersonalCoversInventory checks that they reach every record type the
// inventory erases or seals, the way it says.

// recordDoc is where the records of one type live: a collection, its
// document type, and the Go path of the records inside a document (empty
// when the document is the record; "History" for queue history events).
type recordDoc struct {
	coll   string
	doc    reflect.Type
	inside string
}

var recordDocs = map[string]recordDoc{
	"Person":       {cPersons, reflect.TypeFor[personDoc](), ""},
	"Identity":     {cIdentities, reflect.TypeFor[identityDoc](), ""},
	"AccessCode":   {cCodes, reflect.TypeFor[codeDoc](), ""},
	"Session":      {cSessions, reflect.TypeFor[sessionDoc](), ""},
	"Answer":       {cAnswers, reflect.TypeFor[answerDoc](), ""},
	"WarningEvent": {cWarnings, reflect.TypeFor[warningDoc](), "History"},
	"Case":         {cCases, reflect.TypeFor[caseDoc](), ""},
	"Referral":     {cReferrals, reflect.TypeFor[referralDoc](), ""},
	"Activity":     {cActivities, reflect.TypeFor[activityDoc](), ""},
	"Callback":     {cCallbacks, reflect.TypeFor[callbackDoc](), ""},
	"Booking":      {cBookings, reflect.TypeFor[bookingDoc](), ""},
	"Absence":      {cAbsences, reflect.TypeFor[absenceDoc](), ""},
	"Meeting":      {cMeetings, reflect.TypeFor[meetingDoc](), ""},
	// A unit's endpoints and contacts, inside its settings document.
	"NotifyEndpoint": {cNotifySettings, reflect.TypeFor[notifySettingsDoc](), "Endpoints"},
	"NotifyContact":  {cNotifySettings, reflect.TypeFor[notifySettingsDoc](), "Contacts"},
}

// name is the BSON path of an inventory field in the record's documents.
func (r recordDoc) name(f store.PersonalField) string {
	p := f.Field
	if r.inside != "" {
		p = r.inside + "." + p
	}
	return fieldOf(r.doc, p)
}

// erasure blanks the fields of one record type that the inventory erases.
type erasure struct {
	set  bson.D // for $set: each field to its blank (nil for bytes, "" for text)
	held bson.A // for $or: a document still holds a value in one of them
}

func erasureOf(record string) erasure {
	r := recordDocs[record]
	var e erasure
	for _, f := range store.ErasedFields(record) {
		name := r.name(f)
		if f.IsBytes() {
			e.set = append(e.set, bson.E{Key: name, Value: nil})
			e.held = append(e.held, bson.D{{Key: name, Value: bson.D{{Key: "$ne", Value: nil}}}})
		} else {
			e.set = append(e.set, bson.E{Key: name, Value: ""})
			// $gt "" and not $ne "" (nor $nin): on a path into an array
			// (history.note) MongoDB's $ne and $nin match only when no
			// element has the value, and nearly every history has a claim
			// without a note. $gt "" matches when any element holds text.
			e.held = append(e.held, bson.D{{Key: name, Value: bson.D{{Key: "$gt", Value: ""}}}})
		}
	}
	return e
}

// The blanks ErasePerson writes, record type by record type; the test
// checks that erasedHere matches the inventory.
var (
	erasePerson   = erasureOf("Person")
	eraseCase     = erasureOf("Case")
	eraseReferral = erasureOf("Referral")
	eraseHistory  = erasureOf("WarningEvent") // held only: the notes are blanked in Go
	eraseSession  = erasureOf("Session")
	eraseCallback = erasureOf("Callback")
	eraseBooking  = erasureOf("Booking")
	eraseMeeting  = erasureOf("Meeting")
)

// erasedHere is what ErasePerson does to each record type, to compare with
// the inventory (store.RecordErasure).
var erasedHere = map[string]store.Erase{
	"Person": store.EraseBlank, "Identity": store.EraseDelete, "AccessCode": store.EraseDelete, "Case": store.EraseBlank,
	"Referral": store.EraseBlank, "WarningEvent": store.EraseBlank, "Session": store.EraseBlank, "Answer": store.EraseOnRequest,
	"Callback": store.EraseBlank, "Booking": store.EraseBlank, "Absence": store.EraseDelete, "Meeting": store.EraseBlank,
}

// sealedFieldsOf lists, per collection, the document fields that hold
// sealed values, from the inventory. Records inside documents (history
// events) get no field map: Reseal walks them by position.
func sealedFieldsOf(records ...string) []sealedSpec {
	var out []sealedSpec
	for _, rec := range records {
		r := recordDocs[rec]
		spec := sealedSpec{coll: r.coll}
		if r.inside == "" {
			spec.fields = map[string]string{}
			for _, f := range store.SealedFields(rec) {
				spec.fields[r.name(f)] = f.Sealed
			}
		}
		out = append(out, spec)
	}
	return out
}
