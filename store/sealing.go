package store

import "context"

// Sealed fields. store/sealed encrypts these above any backend; each
// ciphertext is bound to its field name and its row key (SealKey), so a
// value copied into another row or another column fails to open. The names
// are shared here so that a backend's Reseal reports the same field and row
// key that the sealing layer used.
const (
	FieldPersonName      = "person.name"
	FieldPersonPhone     = "person.phone"
	FieldPersonStudentNo = "person.student_no"
	FieldCaseSelfEval    = "case.self_evaluation"
	FieldCaseLifeEvents  = "case.life_events"
	FieldCaseOther       = "case.other_problems"
	FieldCaseAdvice      = "case.advice"
	FieldCaseOutcome     = "case.outcome"
	FieldReferralNote    = "referral.note"
	FieldWarningNote     = "warning.note" // notes of staff moves in a queue entry's history
	FieldActivityNote    = "activity.note"
	FieldCallbackPhone   = "callback.phone"
	FieldCallbackNote    = "callback.note"
	FieldBookingPhone    = "booking.phone"
	// Case conferences and parent meetings (issue 17).
	FieldMeetingAttendees = "meeting.attendees"
	FieldMeetingAgreed    = "meeting.agreed"
	FieldMeetingNotes     = "meeting.notes"
	// A unit's notification settings (issue 16): no respondent's data, but
	// credentials and staff contacts.
	FieldNotifyEndpointAddress = "notify.endpoint_address"
	FieldNotifyEndpointSecret  = "notify.endpoint_secret"
	FieldNotifyContactAddress  = "notify.contact_address"
	// Why a pupil took no part in a campaign (issue 17).
	FieldAbsenceReason = "absence.reason"
)

// NotifyEndpointSealKey and NotifyContactSealKey are the row keys of a
// unit's endpoint and contact values: the unit and the channel or the
// contact id, so a value moved to another unit or contact fails to open.
func NotifyEndpointSealKey(unitID, channel string) string  { return unitID + "/" + channel }
func NotifyContactSealKey(unitID, contactID string) string { return unitID + "/" + contactID }

// PersonSealKey is the row key a person's sealed identifiers are bound to.
// A roster student's row is found by (school, student number index) and a
// roster import may update a row whose id the importer never saw, so a
// roster student's identifiers are bound to that key; anyone else's to the
// person id.
func PersonSealKey(id, schoolID, studentNoIndex string) string {
	if studentNoIndex != "" {
		return "roster/" + schoolID + "/" + studentNoIndex
	}
	return id
}

// NoteSealed reports whether the note of a history event of this kind was
// written by staff (and so is sealed). The store writes the notes of
// created, merged and callback events itself ("session <id>", "callback
// <id>"), and the notification dispatcher those of its events
// (SystemNoteKinds): they name no one.
func NoteSealed(kind string) bool {
	for _, k := range SystemNoteKinds {
		if k == kind {
			return false
		}
	}
	return true
}

// SealedValue is one stored sealed value as Reseal shows it.
type SealedValue struct {
	Field string // one of the Field* names
	Row   string // the row key it is bound to
	Value []byte
}

// ResealCount says what a Reseal pass did.
type ResealCount struct {
	Visited   int // non-empty sealed values seen
	Rewritten int // values replaced
	Skipped   int // values that changed under the pass (a running server wrote them): left as written
}

// Resealer is implemented by backends whose sealed values `xinling rekey`
// can rewrite in place. Reseal visits every non-empty sealed value, batch
// values at a time. fn returns the replacement, or nil to keep the value.
// A value is replaced only if it is still the one fn saw, so a write made
// meanwhile by a running server is never overwritten. A failed pass can
// simply run again: what it already rewrote, fn keeps.
type Resealer interface {
	Reseal(ctx context.Context, batch int, fn func(SealedValue) ([]byte, error)) (ResealCount, error)
}
