package mongo

import (
	"fmt"
	"reflect"
	"strings"

	"xinling/store"
)

// Field names. The documents embed the store records inline, so a field's
// name is what the driver makes of the Go field: its bson tag, or else its
// Go name in lower case. Names are derived from the document types here,
// once, rather than spelled in queries by hand, so that a renamed Go field
// fails at start (and in TestFieldNames, which marshals every document type
// and looks each declared name up in it) instead of silently matching
// nothing.

// declaredName is one derived name, for TestFieldNames.
type declaredName struct {
	doc    reflect.Type
	goPath string
	name   string
}

var declared []declaredName

// bsonPath returns the dotted BSON path of a Go field path ("History.Note")
// in document type t: through inline embedded structs, pointers and
// slices, as the driver encodes them. A document's own field shadows one
// of the record it inlines; the path can name the record to reach it
// ("Warning.Key", as warningDoc.Key is the _id).
func bsonPath(t reflect.Type, goPath string) (string, error) {
	var out []string
	for _, seg := range strings.Split(goPath, ".") {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return "", fmt.Errorf("%s: %s is not a document", goPath, t)
		}
		f, ok := findField(t, seg)
		if !ok {
			return "", fmt.Errorf("%s has no field %s", t, seg)
		}
		if !inline(f) { // naming an inlined record ("Warning.Key") adds no key
			out = append(out, keyOf(f))
		}
		t = f.Type
	}
	return strings.Join(out, "."), nil
}

// findField finds a field by Go name in t or in a struct t inlines.
func findField(t reflect.Type, name string) (reflect.StructField, bool) {
	if f, ok := t.FieldByName(name); ok && len(f.Index) == 1 {
		return f, true
	}
	for i := range t.NumField() {
		f := t.Field(i)
		if inline(f) {
			if g, ok := findField(f.Type, name); ok {
				return g, true
			}
		}
	}
	return reflect.StructField{}, false
}

func inline(f reflect.StructField) bool {
	_, opts, _ := strings.Cut(f.Tag.Get("bson"), ",")
	return f.Anonymous && strings.Contains(","+opts+",", ",inline,")
}

// keyOf is the driver's key for a field: the tag's name, or the Go name in
// lower case.
func keyOf(f reflect.StructField) string {
	if name, _, _ := strings.Cut(f.Tag.Get("bson"), ","); name != "" {
		return name
	}
	return strings.ToLower(f.Name)
}

// field returns the BSON path of a Go field path in document type D and
// records it for TestFieldNames. It panics on a path D does not have: a
// programming error that every test of the package shows at once.
func field[D any](goPath string) string {
	return fieldOf(reflect.TypeFor[D](), goPath)
}

func fieldOf(t reflect.Type, goPath string) string {
	name, err := bsonPath(t, goPath)
	if err != nil {
		panic("mongo: field name: " + err.Error())
	}
	declared = append(declared, declaredName{doc: t, goPath: goPath, name: name})
	return name
}

// names derives, for each field of N (all strings), the BSON path in
// document type D of the Go field of the same name, or of the Go path in
// its path tag (`path:"Pending.At"`), and records each for TestFieldNames.
func names[D, N any]() N {
	var n N
	v := reflect.ValueOf(&n).Elem()
	for i := range v.NumField() {
		sf := v.Type().Field(i)
		p := sf.Name
		if tag := sf.Tag.Get("path"); tag != "" {
			p = tag
		}
		v.Field(i).SetString(field[D](p))
	}
	return n
}

// common derives a name that every document type of docs (zero values)
// holds alike.
func common(goPath string, docs ...any) string {
	name := ""
	for _, d := range docs {
		n := fieldOf(reflect.TypeOf(d), goPath)
		if name != "" && n != name {
			panic(fmt.Sprintf("mongo: %s is %q in one document type and %q in %T", goPath, name, n, d))
		}
		name = n
	}
	return name
}

// The names the queries, updates and indexes use, per collection. Operators
// ("$set", "$gt"...) are the only keys spelled in the queries themselves.
var (
	// fID is every document's key; fVersion the optimistic version of
	// the documents that cas and replaceVersioned write; fPersonID the
	// person of every document ErasePerson finds by it.
	fID = common("Key", unitDoc{}, staffDoc{}, personDoc{}, identityDoc{}, sessionDoc{}, answerDoc{}, resultDoc{}, warningDoc{},
		referralDoc{}, caseDoc{}, campaignDoc{}, codeDoc{}, batchDoc{}, instrumentDoc{}, auditDoc{}, activityDoc{}, loginDoc{}, fenceDoc{}, notificationDoc{},
		callbackDoc{}, slotDoc{}, bookingDoc{}, notifySettingsDoc{}, absenceDoc{})
	fVersion  = common("Version", staffDoc{}, personDoc{}, warningDoc{}, caseDoc{}, campaignDoc{}, callbackDoc{}, slotDoc{}, bookingDoc{})
	fPersonID = common("PersonID", identityDoc{}, codeDoc{}, caseDoc{}, referralDoc{}, warningDoc{}, sessionDoc{}, absenceDoc{})

	fUnit     = names[unitDoc, struct{ Path, Name, Kind string }]()
	fStaff    = names[staffDoc, struct{ Login, UnitPath, Role, CreatedAt string }]()
	fLogin    = names[loginDoc, struct{ StaffID, ExpiresAt string }]()
	fPerson   = names[personDoc, struct{ RosterKey, UnitPath, SchoolID, StudentNoIndex, CreatedAt, UpdatedAt, Anonymised, Age string }]()
	fIdentity = names[identityDoc, struct{ PersonID, CreatedAt string }]()
	fSession  = names[sessionDoc, struct {
		UnitPath, CampaignID, PersonID, State, CreatedAt, LastActiveAt, SubmittedAt, WarningID, TokenHash, Pending string

		PendingAt string `path:"Pending.At"`
	}]()
	fAnswer = names[answerDoc, struct{ SessionID, Item, Seq string }]()
	fResult = names[resultDoc, struct {
		UnitPath, UnitID, CampaignID, PersonID, SessionID, Instrument, CreatedAt, Supersedes, SupersededBy, PendingRescore string

		PendingRescoreAt       string `path:"PendingRescore.At"`
		PendingRescoreResultID string `path:"PendingRescore.Result.ID"`
	}]()
	fWarning = names[warningDoc, struct {
		UnitPath, UnitID, Level, State, AssigneeID, LeaseUntil, DueAt, Escalations, Outcome, PersonID string
		CreatedAt, UpdatedAt, History, PendingReferral, Reasons                                       string

		Key                      string `path:"Warning.Key"` // the entry's grouping key; warningDoc.Key is the _id
		PendingReferralID        string `path:"PendingReferral.ID"`
		PendingReferralCreatedAt string `path:"PendingReferral.CreatedAt"`
	}]()
	// fEvent names the fields of a history event, inside fWarning.History.
	fEvent        = names[store.WarningEvent, struct{ Kind, Note string }]()
	fReferral     = names[referralDoc, struct{ ToUnitPath, FromUnitPath, FromUnitID, WarningID, PersonID, State, CreatedAt, UpdatedAt string }]()
	fCase         = names[caseDoc, struct{ UnitPath, UnitID, PersonID, WarningID, CreatedAt, At, Closed, ClosedAt string }]()
	fCampaign     = names[campaignDoc, struct{ UnitPath, State, CreatedAt, UpdatedAt string }]()
	fCode         = names[codeDoc, struct{ CampaignID, PersonID, SessionID, Batch, CreatedAt string }]()
	fBatch        = names[batchDoc, struct{ CreatedAt string }]()
	fFence        = names[fenceDoc, struct{ At string }]()
	fInstrument   = names[instrumentDoc, struct{ ID, Version, ContentHash, Source, State, UnitID, PublishedAt, RetiredAt, Public string }]()
	fAudit        = names[auditDoc, struct{ At, ActorID, Action, TargetKind, TargetID string }]()
	fActivity     = names[activityDoc, struct{ UnitPath, UnitID, Date, Type string }]()
	fNotification = names[notificationDoc, struct {
		Kind, WarningID, UnitPath, ParentID, State, NotBefore, Attempts, LeaseOwner, LeaseUntil, LastError, CreatedAt, UpdatedAt, SentAt, Channel string
	}]()
	fAbsence        = names[absenceDoc, struct{ CampaignID, UnitPath string }]()
	fNotifySettings = names[notifySettingsDoc, struct{ UnitPath, Endpoints, Contacts string }]()
	// fEndpoint and fContact name the fields of an endpoint and a contact,
	// inside fNotifySettings.Endpoints and .Contacts.
	fEndpoint          = names[store.NotifyEndpoint, struct{ Channel, Address, Secret string }]()
	fContact           = names[store.NotifyContact, struct{ ID, Address string }]()
	fNotificationGroup = names[notificationGroup, struct{ Kind, Channel, State string }]()
	fNotificationN     = field[notificationCountRow]("N")
	// The warm hand-off (handoff.go).
	fCallback = names[callbackDoc, struct {
		SessionID, Seq, WarningID, PersonID, UnitID, UnitPath, State, CalledAt, ActorID, CreatedAt, UpdatedAt, Pending string

		PendingAt string `path:"Pending.At"`
	}]()
	fSlot    = names[slotDoc, struct{ UnitID, UnitPath, StartsAt, Closed, Free, Seats, Booked, UpdatedAt string }]()
	fBooking = names[bookingDoc, struct {
		SlotID, UnitID, UnitPath, StartsAt, PersonID, PhoneIndex, CaseID, State, ActorID, UpdatedAt, PendingAt, ReleaseAt string
	}]()
	// fCount names the group keys and the count of UnitCounts' aggregations.
	fCount  = names[countKey, struct{ Unit, Level, Type string }]()
	fCountN = field[countRow]("N")
)
