package store

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"
)

// Absences (issue 17): why a rostered pupil took no part in a campaign, as
// the school writes it on the group report's list of non-participants
// (病假, 转学, 请假). The reason is free text and may carry health
// information, so store/sealed seals it above every backend, as the
// personal-data inventory says.

// MaxAbsenceReasonRunes bounds a reason: a short note, not a case record.
const MaxAbsenceReasonRunes = 200

// Absence is the reason one person did not take part in one campaign.
type Absence struct {
	CampaignID string
	PersonID   string
	UnitID     string // the person's unit, set by the store
	UnitPath   string // set by the store
	Reason     Sealed
	UpdatedBy  string // staff id
	UpdatedAt  time.Time
}

// AbsenceFilter selects absences: of one campaign, within a subtree, or of
// one person (for the person's PIPL export).
type AbsenceFilter struct {
	CampaignID string
	UnitPath   string
	PersonID   string
}

// AbsenceSealKey is the row key an absence's reason is bound to.
func AbsenceSealKey(campaignID, personID string) string { return campaignID + "/" + personID }

// Check reports what is wrong with a to be written (ErrInvalid), or nil.
// The length is checked on the plaintext by the caller (the sealed
// layer's ciphertext is longer); here only the keys.
func (a Absence) Check() error {
	if a.CampaignID == "" || a.PersonID == "" {
		return fmt.Errorf("%w: an absence needs a campaign and a person", ErrInvalid)
	}
	return nil
}

// ReasonTooLong reports whether a plaintext reason is over the limit.
func ReasonTooLong(reason string) bool {
	return utf8.RuneCountInString(reason) > MaxAbsenceReasonRunes || !utf8.ValidString(reason)
}

// AbsenceStore holds the reasons of non-participation.
type AbsenceStore interface {
	// PutAbsence creates or replaces the absence of (CampaignID, PersonID)
	// and returns it as stored, with UnitID and UnitPath of the person;
	// an empty Reason deletes it (and returns it with no reason).
	// ErrNotFound: no such campaign or person. ErrInvalid: no keys.
	PutAbsence(ctx context.Context, a Absence) (Absence, error)
	// ListAbsences returns the matching absences ordered by unit path,
	// then person id. They are few: written one by one by hand.
	ListAbsences(ctx context.Context, f AbsenceFilter) ([]Absence, error)
}
