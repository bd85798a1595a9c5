package store

import "time"

// Identity is one external key bound to a person (LinkIdentity). Key is a
// hash or blind index, never the plain identifier.
type Identity struct {
	Kind      string
	Key       string
	PersonID  string
	CreatedAt time.Time
}

// Erasure is a PIPL erasure of one person (ErasePerson).
type Erasure struct {
	PersonID string
	At       time.Time
	// Age, when > 0, replaces the person's age: the birth month is erased
	// and the age at erasure is all that stays for age-grouped figures.
	Age int
	// DropAnswers also deletes the item answers of every session of the
	// person ("delete" rather than "anonymise"). Scored results stay
	// either way: they carry no identifier and the statistics count them.
	DropAnswers bool
}

// ErasureOutcome counts what an erasure changed. A repeated erasure finds
// little or nothing left to change.
type ErasureOutcome struct {
	Identities  int // identity links removed
	AccessCodes int // personal access codes removed
	Cases       int // case records whose free text was erased
	Referrals   int // referrals whose note was erased
	Sessions    int // sessions whose token was revoked
	Answers     int // item answers deleted (DropAnswers)
}
