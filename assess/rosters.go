package assess

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"

	"xinling/roster"
	"xinling/store"
)

// CodeRosterInvalid is a roster with bad rows, none of it imported.
const CodeRosterInvalid = "roster_invalid"

// RosterImport is the outcome of an import.
type RosterImport struct {
	Created  int
	Updated  int
	Problems []roster.Problem
	Notices  []string
}

// RosterError is a roster refused for its rows; it lists every bad one.
type RosterError struct {
	Code, Field, Message string
	Problems             []roster.Problem
}

func (e *RosterError) Error() string { return e.Message }

// blindIndexer is the sealing store's keyed blind index (store/sealed).
type blindIndexer interface {
	StudentNoIndex(schoolID, studentNo string) string
	PhoneIndex(phone string) string
}

// studentNoIndex locates a student by number within a school without
// storing the number in clear: the sealing store's keyed HMAC, which
// `xinling serve` always has. A bare store (some tests) gets a plain hash;
// `xinling rekey` replaces any such index with the keyed one.
func studentNoIndex(st store.Store, schoolID, no string) string {
	if b, ok := st.(blindIndexer); ok {
		return b.StudentNoIndex(schoolID, no)
	}
	sum := sha256.Sum256([]byte(schoolID + "\x00" + no))
	return hex.EncodeToString(sum[:])
}

// phoneIndex locates a normalized phone number's bookings, keyed like
// studentNoIndex.
func phoneIndex(st store.Store, phone string) string {
	if b, ok := st.(blindIndexer); ok {
		return b.PhoneIndex(phone)
	}
	sum := sha256.Sum256([]byte("phone\x00" + phone))
	return hex.EncodeToString(sum[:])
}

// ImportRoster reads a school's roster (.xlsx or .csv) and creates or
// updates its students, keyed by student number within the school. A file
// with any bad row imports nothing, unless skipBad is set.
func (c *Campaigns) ImportRoster(ctx context.Context, p *Principal, schoolID, filename string, r io.Reader, skipBad bool, ip string) (*RosterImport, error) {
	if err := canRunCampaigns(p); err != nil {
		return nil, err
	}
	school, err := unitIn(ctx, c.store, p, schoolID, "unit")
	if err != nil {
		return nil, err
	}
	units, err := c.store.ListUnits(ctx, school.Path)
	if err != nil {
		return nil, err
	}
	classes := map[string]string{}
	for _, u := range units {
		if u.Kind == "class" {
			classes[u.Name] = u.ID
			classes[u.ID] = u.ID
		}
	}
	ro, err := roster.Parse(filename, r, classes, roster.Options{SkipBadRows: skipBad, Now: c.now()})
	var fe *roster.Error
	if errors.As(err, &fe) {
		return nil, &Error{Code: fe.Code, Field: "file", Message: fe.Message}
	}
	if err != nil {
		return nil, err
	}
	if len(ro.Problems) > 0 && !skipBad {
		return nil, &RosterError{Code: CodeRosterInvalid, Field: "file", Problems: ro.Problems,
			Message: fmt.Sprintf("%d problems in the roster; nothing was imported", len(ro.Problems))}
	}
	now := c.now()
	people := make([]store.Person, len(ro.Rows))
	for i, row := range ro.Rows {
		people[i] = store.Person{ID: store.NewID(), UnitID: row.UnitID, SchoolID: school.ID, StudentNoIndex: studentNoIndex(c.store, school.ID, row.StudentNo),
			Name: seal(row.Name), StudentNo: seal(row.StudentNo), Sex: row.Sex, BirthMonth: row.BirthMonth, Age: row.Age, CreatedAt: now, UpdatedAt: now}
	}
	out, err := c.store.UpsertRoster(ctx, school.ID, people, now)
	if err != nil {
		return nil, err
	}
	c.auditAction(ctx, auditBy(p, "roster_import", "unit", school.ID, school.Path, ip, ""))
	return &RosterImport{Created: out.Created, Updated: out.Updated, Problems: ro.Problems, Notices: ro.Notices}, nil
}

// IssuePersonalCodes gives every rostered student of a roster campaign's
// units a personal code, once: students who have one keep it.
func (c *Campaigns) IssuePersonalCodes(ctx context.Context, p *Principal, id string) ([]store.AccessCode, error) {
	if err := canRunCampaigns(p); err != nil {
		return nil, err
	}
	cp, err := c.Get(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if cp.Mode != "roster" {
		return nil, errorf(CodeValidation, "mode", "an open campaign uses class codes")
	}
	if cp.FollowUpOf != "" {
		// Its pupils are the first campaign's focus list, coded at creation;
		// the whole roster is not to be re-tested.
		return nil, nil
	}
	existing, err := collect(func(pg store.Page) ([]store.AccessCode, string, error) {
		return c.store.ListAccessCodes(ctx, cp.ID, pg)
	})
	if err != nil {
		return nil, err
	}
	var have []string
	for _, ac := range existing {
		have = append(have, ac.PersonID)
	}
	var units, persons []string
	for _, uid := range cp.UnitIDs {
		u, err := c.store.GetUnit(ctx, uid)
		if err != nil {
			return nil, err
		}
		people, err := collect(func(pg store.Page) ([]store.Person, string, error) {
			return c.store.ListPersons(ctx, store.PersonFilter{UnitPath: u.Path}, pg)
		})
		if err != nil {
			return nil, err
		}
		for _, person := range people {
			if person.Anonymised || slices.Contains(have, person.ID) || slices.Contains(persons, person.ID) {
				continue
			}
			units, persons = append(units, person.UnitID), append(persons, person.ID)
		}
	}
	if len(persons) == 0 {
		return nil, nil
	}
	return c.issue(ctx, cp, units, persons)
}
