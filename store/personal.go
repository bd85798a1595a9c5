package store

import (
	"fmt"
	"reflect"
)

// The personal-data inventory: the one declaration of which fields of the
// stored records carry personal data about a respondent, and for each,
// whether it is sealed at rest, what a PIPL erasure does to it, and
// whether the person's PIPL export holds it. Everything that treats
// personal data is driven by it or checked against it:
//
//   - store/sealed seals and opens the sealed fields of persons, cases,
//     referrals and activities from this list (history notes are method
//     arguments there); each backend's Reseal walks the columns the list
//     names; storetest's SealedInventory checks on every backend that each
//     sealed field is ciphertext and no other field is, and that a rekey
//     moves every one of them;
//   - each backend's ErasePerson and AnonymisePerson take the fields to
//     blank from this list (sqlite builds its whole statements from it;
//     MongoDB's steps per record type are checked against it by a unit
//     test); storetest's Erasure checks,
//     field by field, that what is blanked or deleted is gone and what is
//     kept is unchanged;
//   - assess's export test checks that every Exported field reaches the
//     export with its value.
//
// TestInventory (personal_test.go) walks every record type that crosses
// the Store interface: each field of a record listed here must be either
// a PersonalField or one of the record's plain fields, every Sealed-typed
// field must be sealed, and every other record type must be declared to
// hold no personal data of a respondent. So a field added to a record
// does not pass the tests until someone decides, here, what it is.

// Erase is what a PIPL erasure (ErasePerson) does to a personal field.
type Erase string

const (
	// EraseBlank clears the value (the zero value: NULL, "" or nil); the
	// record itself stays, for the statistics.
	EraseBlank Erase = "blank"
	// EraseDelete deletes the whole record.
	EraseDelete Erase = "delete"
	// EraseOnRequest deletes the whole record when the erasure asks for it
	// (Erasure.DropAnswers, assess's "delete" mode) and keeps it otherwise.
	EraseOnRequest Erase = "delete_on_request"
	// EraseToAge replaces the value with the age at erasure (Erasure.Age)
	// when one is given, and keeps it otherwise. Only Person.Age has it.
	EraseToAge Erase = "age_at_erasure"
	// EraseKeep keeps the value as it is; Why says why.
	EraseKeep Erase = "keep"
)

// PersonalField is one field of a stored record that carries personal data.
type PersonalField struct {
	Record string // the store type that holds it ("Person", "Case"...)
	Field  string // its Go field name
	// Sealed names the field a ciphertext is bound to (FieldPersonName...)
	// when store/sealed encrypts the value at rest; empty when it is kept
	// in clear.
	Sealed string
	Erase  Erase
	// Exported: the person's PIPL export (assess.Records.Export) holds it.
	Exported bool
	// Why explains every choice other than sealed, blanked and exported:
	// why in clear, why kept, why left out of the export.
	Why string
}

// Name is "Record.Field".
func (f PersonalField) Name() string { return f.Record + "." + f.Field }

// Of returns the field's value in rec, a record of f.Record's type or a
// pointer to one (settable through a pointer).
func (f PersonalField) Of(rec any) reflect.Value {
	v := reflect.ValueOf(rec)
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if v.Type().Name() != f.Record {
		panic(fmt.Sprintf("store: %s is not a field of %s", f.Name(), v.Type()))
	}
	return v.FieldByName(f.Field)
}

// Personal is the inventory. Order: records as a person's data flows
// (person, links, sessions and results, the queue, cases and referrals,
// then the records tied to no person).
var Personal = []PersonalField{
	// The person.
	{Record: "Person", Field: "Name", Sealed: FieldPersonName, Erase: EraseBlank, Exported: true},
	{Record: "Person", Field: "Phone", Sealed: FieldPersonPhone, Erase: EraseBlank, Exported: true},
	{Record: "Person", Field: "StudentNo", Sealed: FieldPersonStudentNo, Erase: EraseBlank, Exported: true},
	{Record: "Person", Field: "StudentNoIndex", Erase: EraseBlank,
		Why: "clear: a keyed HMAC (the roster finds students by it), useless without the index key; not exported: it means nothing outside xinling"},
	{Record: "Person", Field: "BirthMonth", Erase: EraseBlank, Exported: true,
		Why: "clear: statistics group by age, and no name is attached once erased"},
	{Record: "Person", Field: "Age", Erase: EraseToAge, Exported: true,
		Why: "clear and kept as the age at erasure: the age-grouped figures stay as they were"},
	{Record: "Person", Field: "Sex", Erase: EraseKeep, Exported: true,
		Why: "clear and kept: statistics group by it, and alone it identifies no one"},
	{Record: "Person", Field: "UnitID", Erase: EraseKeep, Exported: true,
		Why: "clear and kept: scope and every unit figure count by where the person belongs"},
	{Record: "Person", Field: "SchoolID", Erase: EraseKeep, Exported: true,
		Why: "clear and kept: the school of the roster, a unit id; with the index blanked it finds no one"},

	// Links by which xinling recognises the person.
	{Record: "Identity", Field: "Key", Erase: EraseDelete,
		Why: "clear: a hash or keyed index, never the identifier; not exported: it means nothing outside xinling"},
	{Record: "Identity", Field: "Kind", Erase: EraseDelete, Exported: true,
		Why: "clear: a kind (device, WeChat...), not an identifier"},
	{Record: "AccessCode", Field: "Code", Erase: EraseDelete, Exported: true,
		Why: "clear: a code is looked up as typed; it names no one, but its printed slip does"},

	// Sessions, answers and results: health data without an identifier.
	{Record: "Session", Field: "TokenHash", Erase: EraseBlank,
		Why: "clear: a hash of the bearer token; not exported: a credential"},
	{Record: "Session", Field: "AccessCode", Erase: EraseBlank,
		Why: "clear: looked up as typed; blanked because a printed slip maps the personal code to a name; not exported: the export lists the person's codes with the session each started"},
	{Record: "Session", Field: "Sex", Erase: EraseKeep, Exported: true,
		Why: "clear and kept: statistics group by it"},
	{Record: "Session", Field: "Age", Erase: EraseKeep, Exported: true,
		Why: "clear and kept: statistics group by it"},
	{Record: "Answer", Field: "Value", Erase: EraseOnRequest, Exported: true,
		Why: "clear: scoring reads it, and it is a number without a name; kept unless the erasure deletes the answers"},
	{Record: "Result", Field: "Scores", Erase: EraseKeep, Exported: true,
		Why: "clear and kept: results hold no identifier and every figure counts them"},
	{Record: "Result", Field: "Bands", Erase: EraseKeep, Exported: true,
		Why: "clear and kept, as the scores"},
	{Record: "Result", Field: "Flags", Erase: EraseKeep, Exported: true,
		Why: "clear and kept, as the scores"},
	{Record: "Result", Field: "Payload", Erase: EraseKeep, Exported: true,
		Why: "clear and kept: the engine's full result (scores, bands, warnings), rescoring and reports read it"},

	// The warning queue.
	{Record: "Warning", Field: "Level", Erase: EraseKeep, Exported: true,
		Why: "clear and kept: the queue sorts by it and the figures count by it"},
	{Record: "Warning", Field: "Outcome", Erase: EraseKeep, Exported: true,
		Why: "clear and kept: a code from a fixed list (assess.Outcomes), never free text"},
	{Record: "Reason", Field: "Rule", Erase: EraseKeep, Exported: true,
		Why: "clear and kept: the id of the instrument's rule that fired"},
	{Record: "WarningEvent", Field: "Note", Sealed: FieldWarningNote, Erase: EraseBlank, Exported: true,
		Why: "sealed when staff wrote it (NoteSealed); the store's own notes of created, merged and callback events, and the notification dispatcher's (channel, contact, error), name no one and stay clear"},
	{Record: "WarningEvent", Field: "Outcome", Erase: EraseKeep, Exported: true,
		Why: "clear and kept: a code from a fixed list, as the entry's"},

	// Counselling records and referrals: free text.
	{Record: "Case", Field: "SelfEvaluation", Sealed: FieldCaseSelfEval, Erase: EraseBlank, Exported: true},
	{Record: "Case", Field: "LifeEvents", Sealed: FieldCaseLifeEvents, Erase: EraseBlank, Exported: true},
	{Record: "Case", Field: "OtherProblems", Sealed: FieldCaseOther, Erase: EraseBlank, Exported: true},
	{Record: "Case", Field: "Advice", Sealed: FieldCaseAdvice, Erase: EraseBlank, Exported: true},
	{Record: "Case", Field: "Outcome", Sealed: FieldCaseOutcome, Erase: EraseBlank, Exported: true},
	{Record: "Case", Field: "GroupNotified", Erase: EraseKeep, Exported: true,
		Why: "clear and kept: a yes/no the monthly table reports"},
	{Record: "Referral", Field: "Note", Sealed: FieldReferralNote, Erase: EraseBlank, Exported: true},

	// Why a pupil took no part in a screening (issue 17): free text the
	// school writes (病假, 转学), which may name an illness.
	{Record: "Absence", Field: "Reason", Sealed: FieldAbsenceReason, Erase: EraseDelete, Exported: true,
		Why: "deleted by an erasure: a note about the person that no figure counts"},
	// Case conferences and parent meetings (issue 17): free text about the
	// pupil and their family.
	{Record: "Meeting", Field: "Attendees", Sealed: FieldMeetingAttendees, Erase: EraseBlank, Exported: true},
	{Record: "Meeting", Field: "Agreed", Sealed: FieldMeetingAgreed, Erase: EraseBlank, Exported: true},
	{Record: "Meeting", Field: "Notes", Sealed: FieldMeetingNotes, Erase: EraseBlank, Exported: true},
	{Record: "Meeting", Field: "Decision", Erase: EraseKeep, Exported: true,
		Why: "clear and kept: a code from a fixed list (store.MeetingDecisions), never free text"},

	// The warm hand-off: how to reach the person.
	{Record: "Callback", Field: "Phone", Sealed: FieldCallbackPhone, Erase: EraseBlank, Exported: true},
	{Record: "Callback", Field: "Note", Sealed: FieldCallbackNote, Erase: EraseBlank, Exported: true},
	{Record: "Callback", Field: "PreferredFrom", Erase: EraseKeep, Exported: true,
		Why: "clear and kept: a time window, alone it identifies no one"},
	{Record: "Callback", Field: "PreferredTo", Erase: EraseKeep, Exported: true,
		Why: "clear and kept, as PreferredFrom"},
	{Record: "Booking", Field: "Phone", Sealed: FieldBookingPhone, Erase: EraseBlank, Exported: true},
	{Record: "Booking", Field: "PhoneIndex", Erase: EraseBlank,
		Why: "clear: a keyed HMAC of the number (a retried booking and the per-number limit find bookings by it), useless without the index key; not exported: it means nothing outside xinling"},

	// Records tied to no person.
	{Record: "Activity", Field: "Note", Sealed: FieldActivityNote, Erase: EraseKeep,
		Why: "kept and not exported: a station's outreach record, tied to no person, so an erasure or export cannot find it; sealed in case staff name someone"},
	{Record: "AuditEntry", Field: "Detail", Erase: EraseKeep, Exported: true,
		Why: "clear and kept: the log is append-only and must show an erasure and its reason afterwards; staff must not name the person in a reason"},

	// A unit's notification settings (issue 16): its endpoints and its
	// on-duty staff, tied to no respondent, so an erasure or an export
	// never finds them.
	{Record: "NotifyEndpoint", Field: "Address", Sealed: FieldNotifyEndpointAddress, Erase: EraseKeep,
		Why: "sealed: a robot key, access token or webhook URL lets anyone post to the duty group; kept and not exported: a unit's endpoint, about no person"},
	{Record: "NotifyEndpoint", Field: "Secret", Sealed: FieldNotifyEndpointSecret, Erase: EraseKeep,
		Why: "sealed: a signing secret; kept and not exported: a unit's credential, about no person"},
	{Record: "NotifyContact", Field: "Address", Sealed: FieldNotifyContactAddress, Erase: EraseKeep,
		Why: "sealed: a staff member's duty mobile number or e-mail; kept and not exported: staff are not the people the records are about"},
	{Record: "NotifyContact", Field: "Name", Erase: EraseKeep,
		Why: "clear and kept, as staff names are: a duty contact's display name, about no respondent; not exported for the same reason"},
}

// plainFields lists, for every record in Personal, the fields that carry
// nothing personal by themselves: ids and links between records, codes,
// states, times and versions, the structure the service and its figures
// need. They stay in clear and are kept by an erasure (the records they
// are in may be deleted as a whole, per Erase).
var plainFields = map[string]string{
	"Person":         "ID UnitPath Anonymised CreatedAt UpdatedAt Version",
	"Identity":       "PersonID CreatedAt",
	"AccessCode":     "CampaignID PersonID UnitID UnitPath SessionID RetakeOf CreatedAt",
	"Session":        "ID PersonID CampaignID UnitID UnitPath FollowUpOf Instruments Consent Locale State CreatedAt LastActiveAt SubmittedAt",
	"Answer":         "SessionID Item Seq At",
	"Result":         "ID SessionID PersonID CampaignID UnitID UnitPath Instrument Version ContentHash CreatedAt Supersedes SupersededBy RescoredAt",
	"Warning":        "ID Key PersonID SessionID ResultIDs UnitID UnitPath Reasons State AssigneeID LeaseUntil DueAt Escalations CreatedAt UpdatedAt Version History",
	"Reason":         "ResultID Instrument Level Text EarlierResultID", // level and text are the instrument's, for the rule
	"WarningEvent":   "At ActorID Kind From To UnitID",
	"Case":           "ID PersonID WarningID UnitID UnitPath CounsellorID At Closed ClosedAt CreatedAt UpdatedAt Version",
	"Absence":        "CampaignID PersonID UnitID UnitPath UpdatedBy UpdatedAt",
	"Referral":       "ID WarningID PersonID FromUnitID FromUnitPath ToUnitID ToUnitPath SenderID State CreatedAt UpdatedAt",
	"Activity":       "ID UnitID UnitPath Date Type Reached Materials CreatedBy CreatedAt",
	"Meeting":        "ID Kind PersonID CaseID WarningID UnitID UnitPath Date AuthorID CreatedAt",
	"Callback":       "ID SessionID PersonID WarningID UnitID UnitPath Seq Consent ConsentVersion State CalledAt ActorID CreatedAt UpdatedAt Version",
	"Booking":        "ID SlotID UnitID UnitPath StartsAt EndsAt PersonID SessionID CaseID State ActorID CreatedAt UpdatedAt Version",
	"AuditEntry":     "ID At ActorID Action TargetKind TargetID UnitPath IP", // IP: the staff member's, left out of the export
	"NotifyEndpoint": "Channel",
	"NotifyContact":  "ID Channel Locale Always Duty",
}

// noPersonalData lists the other types that cross the Store interface,
// and why none holds personal data of a respondent.
var noPersonalData = map[string]string{
	"Unit":               "the org tree",
	"Campaign":           "a screening's settings",
	"InstrumentDoc":      "an instrument document",
	"Staff":              "staff accounts: staff are not the people the records are about, and sign in by login (kept in clear on purpose)",
	"Login":              "a staff sign-in",
	"Submission":         "a write's input: its results and warning are stored as Result and Warning",
	"WarningDraft":       "a write's input, stored as Warning",
	"WarningChange":      "a write's input, stored as Warning and WarningEvent",
	"Rescore":            "a write's input, stored as Result and Warning",
	"Erasure":            "the erasure request itself",
	"SubmitOutcome":      "returns stored Results and a Warning",
	"AnswerOutcome":      "returns a stored Answer",
	"QueueLevel":         "counts",
	"UnitCounts":         "counts",
	"RosterOutcome":      "counts",
	"ErasureOutcome":     "counts",
	"ResealCount":        "counts",
	"SealedValue":        "a stored sealed value on its way through a rekey",
	"Page":               "a page request",
	"StaffFilter":        "a query (not stored)",
	"PersonFilter":       "a query (not stored)",
	"SessionFilter":      "a query (not stored)",
	"ResultFilter":       "a query (not stored)",
	"WarningFilter":      "a query (not stored)",
	"CaseFilter":         "a query (not stored)",
	"ReferralFilter":     "a query (not stored)",
	"CampaignFilter":     "a query (not stored)",
	"Notification":       "an outbox debt: a kind, a level, a unit, times and ids, never who or what (issue 16)",
	"NotificationFinish": "an attempt's outcome; its error text is a channel's reply, never a message body",
	"NotificationFilter": "a query (not stored)",
	"NotificationCount":  "counts",
	"InstrumentFilter":   "a query (not stored)",
	"AuditFilter":        "a query (not stored)",
	"ActivityFilter":     "a query (not stored)",
	"Slot":               "a unit's published consultation time and place",
	"CallbackChange":     "a write's input, stored as Callback",
	"BookingChange":      "a write's input, stored as Booking",
	"HandoffCount":       "counts",
	"CallbackFilter":     "a query (not stored)",
	"SlotFilter":         "a query (not stored)",
	"BookingFilter":      "a query (not stored)",
	"MeetingFilter":      "a query (not stored)",
	"MeetingCount":       "counts",
	"NotifySettings":     "a unit's notification settings: its endpoints and contacts are records of the inventory (NotifyEndpoint, NotifyContact)",
	"NotifyPolicy":       "a unit's working hours and digest times",
	"DutyWindow":         "weekdays and hours of duty",
	"AbsenceFilter":      "a query (not stored)",
}

// personalTypes are the record types of the inventory, by name.
var personalTypes = map[string]reflect.Type{
	"Person": reflect.TypeFor[Person](), "Identity": reflect.TypeFor[Identity](), "AccessCode": reflect.TypeFor[AccessCode](),
	"Session": reflect.TypeFor[Session](), "Answer": reflect.TypeFor[Answer](), "Result": reflect.TypeFor[Result](),
	"Warning": reflect.TypeFor[Warning](), "Reason": reflect.TypeFor[Reason](), "WarningEvent": reflect.TypeFor[WarningEvent](),
	"Case": reflect.TypeFor[Case](), "Referral": reflect.TypeFor[Referral](), "Absence": reflect.TypeFor[Absence](), "Activity": reflect.TypeFor[Activity](),
	"Meeting":    reflect.TypeFor[Meeting](),
	"AuditEntry": reflect.TypeFor[AuditEntry](),
	"Callback":   reflect.TypeFor[Callback](), "Booking": reflect.TypeFor[Booking](),
	"NotifyEndpoint": reflect.TypeFor[NotifyEndpoint](), "NotifyContact": reflect.TypeFor[NotifyContact](),
}

// Type is the field's Go type.
func (f PersonalField) Type() reflect.Type {
	sf, ok := personalTypes[f.Record].FieldByName(f.Field)
	if !ok {
		panic("store: no field " + f.Name())
	}
	return sf.Type
}

// IsBytes reports whether the field holds bytes (Sealed or []byte), which
// the backends blank as NULL; text is blanked as "".
func (f PersonalField) IsBytes() bool {
	t := f.Type()
	return t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8
}

// PersonalFields returns the inventory's fields of one record type, in
// inventory order.
func PersonalFields(record string) []PersonalField {
	var out []PersonalField
	for _, f := range Personal {
		if f.Record == record {
			out = append(out, f)
		}
	}
	return out
}

// ErasedFields returns the fields of record that an erasure blanks.
func ErasedFields(record string) []PersonalField {
	var out []PersonalField
	for _, f := range PersonalFields(record) {
		if f.Erase == EraseBlank {
			out = append(out, f)
		}
	}
	return out
}

// RecordErasure says what an erasure does to the records of one type as a
// whole: EraseDelete or EraseOnRequest when any of its personal fields says
// so (the inventory test checks that all of them agree), else EraseBlank
// when it has fields to blank, else EraseKeep.
func RecordErasure(record string) Erase {
	out := EraseKeep
	for _, f := range PersonalFields(record) {
		switch f.Erase {
		case EraseDelete, EraseOnRequest:
			return f.Erase
		case EraseBlank:
			out = EraseBlank
		}
	}
	return out
}

// ErasedRecords returns the record types an erasure changes (any Erase
// but EraseKeep, with EraseToAge counted as a change), in inventory order.
// Each backend's ErasePerson must reach every one of them.
func ErasedRecords() []string {
	var out []string
	seen := map[string]bool{}
	for _, f := range Personal {
		if f.Erase != EraseKeep && !seen[f.Record] {
			seen[f.Record] = true
			out = append(out, f.Record)
		}
	}
	return out
}

// SealedFields returns the fields of record that are sealed at rest.
func SealedFields(record string) []PersonalField {
	var out []PersonalField
	for _, f := range PersonalFields(record) {
		if f.Sealed != "" {
			out = append(out, f)
		}
	}
	return out
}

// BlankErased sets every field of *rec that an erasure blanks to its zero
// value, for a backend that erases a record in Go.
func BlankErased(rec any) {
	v := reflect.ValueOf(rec).Elem()
	for _, f := range ErasedFields(v.Type().Name()) {
		fv := v.FieldByName(f.Field)
		fv.Set(reflect.Zero(fv.Type()))
	}
}
