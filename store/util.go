package store

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// NewID returns a 128-bit id in lower-case base32 (26 characters): the
// first 48 bits are the time in milliseconds, the other 80 are random. It
// fits the id alphabet that materialized paths need, 80 random bits keep it
// unguessable and unique, and a hashed shard key spreads it evenly.
//
// Why the time first (issue 18): ids are primary keys and index entries.
// Random ones put each insert on a random page of every index, so a commit
// of a few dozen submits wrote a few hundred pages; ids that grow with time
// land next to each other, so the same commit writes a handful. The
// alphabet is in ASCII order, so ids sort as they were made (ids from
// before sorted randomly; they still parse, being in the same alphabet).
func NewID() string {
	var b [16]byte
	ms := uint64(time.Now().UnixMilli())
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	if _, err := rand.Read(b[6:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return idEncoding.EncodeToString(b[:])
}

// idEncoding is base32 with its 32 symbols in ASCII order.
var idEncoding = base32.NewEncoding("234567abcdefghijklmnopqrstuvwxyz").WithPadding(base32.NoPadding)

// ValidID reports whether id may be stored as a unit id (and so appear in a
// path): letters, digits, '_' and '-', at most 64 characters. Paths use '/'
// as the separator, so it must never occur inside an id.
func ValidID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// ChildPath is the materialized path of id under parent ("" for a root).
func ChildPath(parent, id string) string {
	if parent == "" {
		return "/" + id + "/"
	}
	return parent + id + "/"
}

// PathRange returns [lo, hi) such that a path p lies in the subtree of path
// exactly when lo <= p < hi. Because paths end in '/' and '0' is the byte
// after '/', the range is a plain index scan in both backends and needs no
// LIKE escaping. An empty path means everything (ok is false).
func PathRange(path string) (lo, hi string, ok bool) {
	if path == "" {
		return "", "", false
	}
	if !strings.HasSuffix(path, "/") {
		path += "/"
	}
	return path, path[:len(path)-1] + "0", true
}

// InSubtree reports whether p lies in the subtree of path.
func InSubtree(p, path string) bool {
	lo, hi, ok := PathRange(path)
	return !ok || (p >= lo && p < hi)
}

// Millis normalizes a time to what every backend keeps: UTC, milliseconds.
func Millis(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Millisecond)
}

// Cursor is the keyset position of a row in a list: its sort key. Lists that
// sort by time use At and ID; the warning queue also uses Level.
type Cursor struct {
	Level int    `json:"l,omitempty"`
	At    int64  `json:"t"`
	ID    string `json:"i"`
}

// Encode returns the opaque form of c.
func (c Cursor) Encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor parses an After value; "" gives the zero cursor and ok false.
func DecodeCursor(s string) (c Cursor, ok bool, err error) {
	if s == "" {
		return Cursor{}, false, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Cursor{}, false, fmt.Errorf("%w: cursor", ErrInvalid)
	}
	if err := json.Unmarshal(b, &c); err != nil || c.ID == "" {
		return Cursor{}, false, fmt.Errorf("%w: cursor", ErrInvalid)
	}
	return c, true, nil
}

// CanTransition reports whether a warning entry may move from one state to
// another through TransitionWarning (claims and assignment have their own
// methods).
func CanTransition(from, to WarningState) bool {
	switch from {
	case WarningClaimed:
		return to == WarningOpen || to == WarningFollowingUp || to == WarningReferred || to == WarningClosed
	case WarningFollowingUp:
		return to == WarningOpen || to == WarningReferred || to == WarningClosed
	}
	return false
}

// CanMoveReferral reports whether a referral may move from one state to another.
func CanMoveReferral(from, to ReferralState) bool {
	return from == ReferralSent && to == ReferralAccepted || from == ReferralAccepted && to == ReferralCompleted
}

// CanMoveCampaign reports whether a campaign may move from one state to another.
func CanMoveCampaign(from, to CampaignState) bool {
	return from == CampaignDraft && (to == CampaignActive || to == CampaignClosed) ||
		from == CampaignActive && to == CampaignClosed
}

// MergeLevel returns the more severe of two warning levels (1 is the most
// severe; 0 means none yet).
func MergeLevel(a, b int) int {
	if a == 0 || (b != 0 && b < a) {
		return b
	}
	return a
}

// SortCounts orders unit counts by unit id, so both backends answer alike.
func SortCounts(c []UnitCounts) { sortByUnit(c, func(u UnitCounts) string { return u.UnitID }) }

// sortByUnit orders one unit's figures per row by unit id: every per-unit
// count a backend returns is sorted this way, so both answer alike.
func sortByUnit[T any](c []T, unit func(T) string) {
	slices.SortFunc(c, func(a, b T) int { return strings.Compare(unit(a), unit(b)) })
}

// OneAnswer turns a one-answer SaveAnswers call into SaveAnswer's result,
// so every backend gives a stale seq the same documented error.
func OneAnswer(out []AnswerOutcome, err error) (AnswerOutcome, error) {
	if err != nil {
		return AnswerOutcome{}, err
	}
	if out[0].Status == AnswerStale {
		return out[0], ErrStaleSeq
	}
	return out[0], nil
}

// Check reports a submission that no backend may store (ErrInvalid), so
// both refuse the same ones with the same words.
func (s Submission) Check() error {
	if s.SessionID == "" {
		return fmt.Errorf("%w: submission session", ErrInvalid)
	}
	for _, r := range s.Results {
		if r.ID == "" || r.Instrument == "" {
			return fmt.Errorf("%w: result needs id and instrument", ErrInvalid)
		}
	}
	if d := s.Warning; d != nil && (d.Level < 1 || d.Level > 3 || len(d.Reasons) == 0) {
		return fmt.Errorf("%w: warning needs a level 1..3 and reasons", ErrInvalid)
	}
	return nil
}

// SortedSet returns the distinct non-empty strings of list in order, or
// nil, so that every backend stores and returns a set the same way.
func SortedSet(list []string) []string {
	var out []string
	for _, s := range list {
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}
