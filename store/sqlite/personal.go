package sqlite

import (
	"strings"

	"xinling/store"
)

// How the personal-data inventory (store.Personal) maps onto the tables:
// a record type's table, how its rows are tied to a person, and the column
// of each field, which is the field's Go name in snake case
// (SelfEvaluation → self_evaluation). ErasePerson, AnonymisePerson and
// Reseal build their statements from the inventory through these; the
// tests in personal_test.go check that they reach every record type the
// inventory erases or seals.

// column is the column of a record field: its Go name in snake case.
func column(field string) string {
	var b strings.Builder
	for i, r := range field {
		upper := r >= 'A' && r <= 'Z'
		if upper && i > 0 {
			prev, next := field[i-1], byte(0)
			if i+1 < len(field) {
				next = field[i+1]
			}
			if prev >= 'a' && prev <= 'z' || next >= 'a' && next <= 'z' {
				b.WriteByte('_')
			}
		}
		if upper {
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// blanks returns, for every field of record that an erasure blanks, the
// assignment that blanks its column and the condition that it still holds
// something: blank bytes are stored as NULL, blank text as the empty string.
func blanks(record string) (sets, held []string) {
	for _, f := range store.ErasedFields(record) {
		col := column(f.Field)
		if f.IsBytes() {
			sets, held = append(sets, col+"=NULL"), append(held, col+" IS NOT NULL")
		} else {
			sets, held = append(sets, col+"=''"), append(held, col+" <> ''")
		}
	}
	return sets, held
}

// personBlanks is the SET list that erases a person's identifiers, for
// ErasePerson and AnonymisePerson.
func personBlanks() string {
	sets, _ := blanks("Person")
	return strings.Join(sets, ", ")
}

// eraseTarget is where ErasePerson finds the rows of one record type that
// belong to a person, and what more it does to them than the inventory
// says.
type eraseTarget struct {
	record, table string
	of            string // selects the person's rows; one ? for the person id
	set           string // another assignment, besides the blanks
	also          string // another reason to update a row, besides a value left to blank
	count         func(*store.ErasureOutcome) *int
}

// eraseTargets are the record types ErasePerson reaches after the person,
// in order (one transaction: the order is only for reading).
var eraseTargets = []eraseTarget{
	{record: "Identity", table: "identities", of: "person_id = ?", count: func(o *store.ErasureOutcome) *int { return &o.Identities }},
	{record: "AccessCode", table: "access_codes", of: "person_id = ?", count: func(o *store.ErasureOutcome) *int { return &o.AccessCodes }},
	{record: "Case", table: "cases", of: "person_id = ?", count: func(o *store.ErasureOutcome) *int { return &o.Cases }},
	{record: "Referral", table: "referrals", of: "person_id = ?", count: func(o *store.ErasureOutcome) *int { return &o.Referrals }},
	{record: "WarningEvent", table: "warning_events", of: "warning_id IN (SELECT id FROM warnings WHERE person_id = ?)"},
	// Open sessions become purged, so that nothing more can be added.
	{record: "Session", table: "sessions", of: "person_id = ?",
		set: "state = CASE WHEN state = 'open' THEN 'purged' ELSE state END", also: "state = 'open'",
		count: func(o *store.ErasureOutcome) *int { return &o.Sessions }},
	{record: "Answer", table: "answers", of: "session_id IN (SELECT id FROM sessions WHERE person_id = ?)",
		count: func(o *store.ErasureOutcome) *int { return &o.Answers }},
	// A call-back request of an anonymous self-test names no person; it is
	// the person's when its entry is, or when a case of the person was
	// recorded on its entry (the first case of an anonymous entry creates
	// the person). ?1 is the person id each time.
	{record: "Callback", table: "callbacks",
		of: "(person_id = ?1 OR warning_id IN (SELECT id FROM warnings WHERE person_id = ?1) OR warning_id IN (SELECT warning_id FROM cases WHERE person_id = ?1 AND warning_id <> ''))"},
	{record: "Booking", table: "bookings", of: "person_id = ?"},
	{record: "Absence", table: "absences", of: "person_id = ?"},
	{record: "Meeting", table: "meetings", of: "person_id = ?"},
}

// statement is the SQL that erases the person's rows of t as the inventory
// says, or "" when an erasure leaves them (answers, unless dropped).
func (t eraseTarget) statement(dropAnswers bool) string {
	switch store.RecordErasure(t.record) {
	case store.EraseOnRequest:
		if !dropAnswers {
			return ""
		}
		fallthrough
	case store.EraseDelete:
		return "DELETE FROM " + t.table + " WHERE " + t.of
	case store.EraseBlank:
		sets, held := blanks(t.record)
		if t.set != "" {
			sets = append(sets, t.set)
		}
		if t.also != "" {
			held = append(held, t.also)
		}
		return "UPDATE " + t.table + " SET " + strings.Join(sets, ", ") + " WHERE " + t.of + " AND (" + strings.Join(held, " OR ") + ")"
	}
	return ""
}

// sealedTable is how Reseal walks the rows of one record type whose
// fields are sealed.
type sealedTable struct {
	table   string
	pk      []string // primary key, the order of the pass
	keyCols []string // read to compute the row key
	where   string   // extra condition
	row     func(pk, key []any) string
}

var sealedTables = map[string]sealedTable{
	"Person":   {table: "persons", pk: []string{"id"}, keyCols: []string{"school_id", "student_no_index"}, row: personRow},
	"Case":     {table: "cases", pk: []string{"id"}, row: byID},
	"Referral": {table: "referrals", pk: []string{"id"}, row: byID},
	// Only staff notes are sealed (store.NoteSealed).
	"WarningEvent": {table: "warning_events", pk: []string{"warning_id", "seq"}, row: byID,
		where: "kind NOT IN ('" + strings.Join(store.SystemNoteKinds, "', '") + "')"},
	"Activity": {table: "activities", pk: []string{"id"}, row: byID},
	"Callback": {table: "callbacks", pk: []string{"id"}, row: byID},
	"Booking":  {table: "bookings", pk: []string{"id"}, row: byID},
	"Absence": {table: "absences", pk: []string{"campaign_id", "person_id"},
		row: func(pk, _ []any) string { return store.AbsenceSealKey(str(pk[0]), str(pk[1])) }},
	"Meeting": {table: "meetings", pk: []string{"id"}, row: byID},
	"NotifyEndpoint": {table: "notify_endpoints", pk: []string{"unit_id", "channel"},
		row: func(pk, _ []any) string { return store.NotifyEndpointSealKey(str(pk[0]), str(pk[1])) }},
	"NotifyContact": {table: "notify_contacts", pk: []string{"unit_id", "id"},
		row: func(pk, _ []any) string { return store.NotifyContactSealKey(str(pk[0]), str(pk[1])) }},
}

// sealedColumns lists every column that holds sealed values: each field
// the inventory marks sealed whose record has a sealedTable (the test
// checks that every one has).
func sealedColumns() []sealedCol {
	var out []sealedCol
	for _, f := range store.Personal {
		t, ok := sealedTables[f.Record]
		if f.Sealed == "" || !ok {
			continue
		}
		out = append(out, sealedCol{table: t.table, col: column(f.Field), field: f.Sealed, pk: t.pk, keyCols: t.keyCols, where: t.where, row: t.row})
	}
	return out
}
