package assess

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"xinling/store"
)

// Campaign codes.
const (
	CodeCampaignClosed = "campaign_closed"
	CodeCodeUnknown    = "code_unknown"
)

// Campaign modes and what respondents see at the end.
var (
	CampaignModes = []string{"roster", "open"}
	Visibilities  = []string{"nothing", "thanks", "bands"}
)

// Campaigns runs school screening campaigns. Their batteries may use the
// built-ins and the custom instruments a campaign's unit may use.
type Campaigns struct {
	*shared
	catalog    *Catalog
	maxBattery int // as a session's (SessionConfig.MaxBattery)
}

// canRunCampaigns: admins and school psychologists set up screenings.
func canRunCampaigns(p *Principal) error {
	if p.Role == store.RoleAdmin || p.Role == store.RoleSchoolPsychologist {
		return nil
	}
	return errorf(CodeForbidden, "", "only administrators and school psychologists run campaigns")
}

// NewCampaign describes a campaign to create.
type NewCampaign struct {
	Name       string
	UnitID     string   // the owning unit (a school)
	UnitIDs    []string // classes, grades or the school itself
	Battery    []string
	Mode       string
	Visibility string
	StartsAt   time.Time
	EndsAt     time.Time
}

// Create adds a draft campaign in the principal's subtree.
func (c *Campaigns) Create(ctx context.Context, p *Principal, n NewCampaign) (store.Campaign, error) {
	if err := canRunCampaigns(p); err != nil {
		return store.Campaign{}, err
	}
	if n.Visibility == "" {
		n.Visibility = "thanks" // students see no scores unless the school decides so
	}
	if err := c.check(ctx, p, n); err != nil {
		return store.Campaign{}, err
	}
	now := c.now()
	return c.store.CreateCampaign(ctx, store.Campaign{ID: store.NewID(), Name: n.Name, UnitID: n.UnitID, UnitIDs: n.UnitIDs,
		Battery: n.Battery, Mode: n.Mode, Visibility: n.Visibility, StartsAt: n.StartsAt, EndsAt: n.EndsAt,
		CreatedBy: p.StaffID, CreatedAt: now, UpdatedAt: now})
}

func (c *Campaigns) check(ctx context.Context, p *Principal, n NewCampaign) error {
	if strings.TrimSpace(n.Name) == "" {
		return errorf(CodeValidation, "name", "a campaign needs a name")
	}
	if !slices.Contains(CampaignModes, n.Mode) {
		return errorf(CodeValidation, "mode", "mode is roster or open")
	}
	if !slices.Contains(Visibilities, n.Visibility) {
		return errorf(CodeValidation, "visibility", "visibility is nothing, thanks or bands")
	}
	if !n.EndsAt.After(n.StartsAt) {
		return errorf(CodeValidation, "ends_at", "the window must end after it starts")
	}
	if len(n.Battery) == 0 || len(n.Battery) > c.maxBattery {
		return errorf(CodeValidation, "battery", "a battery has between 1 and %d instruments", c.maxBattery)
	}
	owner, err := unitIn(ctx, c.store, p, n.UnitID, "unit_id")
	if err != nil {
		return err
	}
	for _, id := range n.Battery {
		if _, ok := c.catalog.ForUnit(id, owner.Path); !ok {
			return errorf(CodeInstrumentUnknown, "battery", "no instrument %q that this unit may use", id)
		}
	}
	if len(n.UnitIDs) == 0 {
		return errorf(CodeValidation, "unit_ids", "name the classes, grades or school the campaign covers")
	}
	for _, id := range n.UnitIDs {
		u, err := unitIn(ctx, c.store, p, id, "unit_ids")
		if err != nil {
			return err
		}
		if !strings.HasPrefix(u.Path, owner.Path) {
			return errorf(CodeValidation, "unit_ids", "unit %q is not under %q", id, owner.ID)
		}
	}
	return nil
}

// unitIn loads a unit in p's subtree; anything else is not found.
func unitIn(ctx context.Context, st store.Store, p *Principal, id, field string) (store.Unit, error) {
	u, err := st.GetUnit(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !p.InScope(u.Path)) {
		return store.Unit{}, errorf(CodeNotFound, field, "no unit %q", id)
	}
	return u, err
}

// Get returns a campaign in the principal's subtree.
func (c *Campaigns) Get(ctx context.Context, p *Principal, id string) (store.Campaign, error) {
	cp, err := c.store.GetCampaign(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !p.InScope(cp.UnitPath)) {
		return store.Campaign{}, errorf(CodeNotFound, "", "no campaign %q", id)
	}
	return cp, err
}

// List returns the campaigns in the principal's subtree and, on the first
// page, the school's campaigns above it that screen its classes: a class
// teacher's screening belongs to the school, and the teacher reads its
// report for their class (campaignForReport).
func (c *Campaigns) List(ctx context.Context, p *Principal, page store.Page) ([]store.Campaign, string, error) {
	own, next, err := c.store.ListCampaigns(ctx, store.CampaignFilter{UnitPath: p.UnitPath}, page)
	if err != nil || page.After != "" {
		return own, next, err
	}
	above, err := c.campaignsAbove(ctx, p)
	if err != nil {
		return nil, "", err
	}
	return append(above, own...), next, nil
}

// View returns a campaign p may look at: one in p's subtree, or one of
// the school above p that screens p's units. Changing a campaign still
// needs it in p's subtree (Get).
func (c *Campaigns) View(ctx context.Context, p *Principal, id string) (store.Campaign, error) {
	return c.campaignForReport(ctx, p, id)
}

// UnitNames names a campaign's own unit and the units it screens, for a
// reader who cannot list them (a class teacher sees only their class of
// the school's tree). Unit names are not personal.
func (c *Campaigns) UnitNames(ctx context.Context, cp store.Campaign) (map[string]string, error) {
	out := map[string]string{}
	for _, id := range append([]string{cp.UnitID}, cp.UnitIDs...) {
		u, err := c.store.GetUnit(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out[id] = u.Name
	}
	return out, nil
}

// campaignsAbove lists the campaigns of the school above p (none when p
// is at or above a school) whose units reach into p's subtree.
func (c *Campaigns) campaignsAbove(ctx context.Context, p *Principal) ([]store.Campaign, error) {
	ids := strings.Split(strings.Trim(p.UnitPath, "/"), "/")
	var school store.Unit
	for i := len(ids) - 2; i >= 0; i-- { // ancestors, nearest first
		u, err := c.store.GetUnit(ctx, ids[i])
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if u.Kind == "school" {
			school = u
			break
		}
	}
	if school.ID == "" {
		return nil, nil
	}
	all, err := collect(func(pg store.Page) ([]store.Campaign, string, error) {
		return c.store.ListCampaigns(ctx, store.CampaignFilter{UnitPath: school.Path}, pg)
	})
	if err != nil {
		return nil, err
	}
	paths := map[string]string{}
	var out []store.Campaign
	for _, cp := range all {
		if p.InScope(cp.UnitPath) {
			continue // p's own, listed already
		}
		ok, err := c.screensUnder(ctx, cp, p, paths)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, cp)
		}
	}
	return out, nil
}

// screensUnder reports whether cp, owned above p, screens a unit in p's
// subtree or one that holds it. paths caches unit paths by id.
func (c *Campaigns) screensUnder(ctx context.Context, cp store.Campaign, p *Principal, paths map[string]string) (bool, error) {
	if !strings.HasPrefix(p.UnitPath, cp.UnitPath) {
		return false, nil
	}
	for _, uid := range cp.UnitIDs {
		path, ok := paths[uid]
		if !ok {
			u, err := c.store.GetUnit(ctx, uid)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return false, err
			}
			path, paths[uid] = u.Path, u.Path
		}
		if path != "" && (strings.HasPrefix(p.UnitPath, path) || strings.HasPrefix(path, p.UnitPath)) {
			return true, nil
		}
	}
	return false, nil
}

// SetState starts or closes a campaign.
func (c *Campaigns) SetState(ctx context.Context, p *Principal, id string, to store.CampaignState) (store.Campaign, error) {
	if err := canRunCampaigns(p); err != nil {
		return store.Campaign{}, err
	}
	if _, err := c.Get(ctx, p, id); err != nil {
		return store.Campaign{}, err
	}
	cp, err := c.store.SetCampaignState(ctx, id, to, c.now())
	if errors.Is(err, store.ErrInvalidTransition) {
		return store.Campaign{}, errorf(CodeConflict, "state", "a campaign goes draft → active → closed")
	}
	return cp, err
}

// codeAlphabet has no 0/O, 1/I/L: codes are copied off printed slips.
const codeAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

// CodeLength gives 31^8 ≈ 8.5e11 codes: at a few thousand per school, a
// guess hits one about once in 10^8 tries, and codes are random, so a
// neighbour's code says nothing about one's own.
const CodeLength = 8

func newCode() string {
	limit := 256 - 256%len(codeAlphabet)
	out := make([]byte, 0, CodeLength)
	buf := make([]byte, 2*CodeLength)
	for len(out) < CodeLength {
		if _, err := rand.Read(buf); err != nil {
			panic(err)
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < CodeLength {
				out = append(out, codeAlphabet[int(b)%len(codeAlphabet)])
			}
		}
	}
	return string(out)
}

// IssueClassCodes gives each class of an open campaign one shared code.
func (c *Campaigns) IssueClassCodes(ctx context.Context, p *Principal, id string) ([]store.AccessCode, error) {
	cp, err := c.Get(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if err := canRunCampaigns(p); err != nil {
		return nil, err
	}
	if cp.Mode != "open" {
		return nil, errorf(CodeValidation, "mode", "a roster campaign gives each student a personal code from the roster")
	}
	return c.issue(ctx, cp, cp.UnitIDs, nil)
}

// issue creates codes, one per unit (class codes) or per person (with
// units[i] the person's class), retrying the whole set on the rare clash.
func (c *Campaigns) issue(ctx context.Context, cp store.Campaign, units, persons []string) ([]store.AccessCode, error) {
	for attempt := 0; attempt < 5; attempt++ {
		codes := make([]store.AccessCode, len(units))
		for i, u := range units {
			codes[i] = store.AccessCode{Code: newCode(), CampaignID: cp.ID, UnitID: u, CreatedAt: c.now()}
			if persons != nil {
				codes[i].PersonID = persons[i]
			}
		}
		err := c.store.CreateAccessCodes(ctx, codes)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return codes, nil
	}
	return nil, fmt.Errorf("could not draw unique access codes")
}

// Entry is what a code opens: the campaign and the respondent's place.
type Entry struct {
	Campaign store.Campaign
	Code     store.AccessCode
}

// Open checks an access code: known, its campaign active and within its
// window. Codes are matched without regard to case or spaces.
func (c *Campaigns) Open(ctx context.Context, code string) (*Entry, error) {
	code = strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(code), " ", ""))
	ac, err := c.store.GetAccessCode(ctx, code)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errorf(CodeCodeUnknown, "code", "this access code is not known; please check it with your teacher")
	}
	if err != nil {
		return nil, err
	}
	cp, err := c.store.GetCampaign(ctx, ac.CampaignID)
	if err != nil {
		return nil, err
	}
	now := c.now()
	switch {
	case cp.State == store.CampaignDraft || now.Before(cp.StartsAt):
		return nil, errorf(CodeCampaignClosed, "code", "this screening has not started yet; it opens at %s", cp.StartsAt.Local().Format("2006-01-02 15:04"))
	case cp.State == store.CampaignClosed || !now.Before(cp.EndsAt):
		return nil, errorf(CodeCampaignClosed, "code", "this screening has ended and takes no more answers")
	}
	return &Entry{Campaign: cp, Code: ac}, nil
}

// SlipData is one code with what its printed slip shows.
type SlipData struct {
	Code  string
	Name  string // the student's name; empty for a class code
	Class string
}

// CodesForSlips lists a campaign's codes with names and classes, for
// printing: personal data, so reading it is audited as an export.
func (c *Campaigns) CodesForSlips(ctx context.Context, p *Principal, id, unitID, ip string) (store.Campaign, []SlipData, error) {
	if err := canRunCampaigns(p); err != nil {
		return store.Campaign{}, nil, err
	}
	cp, err := c.Get(ctx, p, id)
	if err != nil {
		return store.Campaign{}, nil, err
	}
	filter := ""
	if unitID != "" {
		u, err := unitIn(ctx, c.store, p, unitID, "unit")
		if err != nil {
			return store.Campaign{}, nil, err
		}
		filter = u.Path
	}
	codes, err := collect(func(pg store.Page) ([]store.AccessCode, string, error) {
		return c.store.ListAccessCodes(ctx, cp.ID, pg)
	})
	if err != nil {
		return store.Campaign{}, nil, err
	}
	classNames := map[string]string{}
	var out []SlipData
	for _, ac := range codes {
		if filter != "" && !strings.HasPrefix(ac.UnitPath, filter) {
			continue
		}
		if _, ok := classNames[ac.UnitID]; !ok {
			u, err := c.store.GetUnit(ctx, ac.UnitID)
			if err != nil {
				return store.Campaign{}, nil, err
			}
			classNames[ac.UnitID] = u.Name
		}
		sd := SlipData{Code: ac.Code, Class: classNames[ac.UnitID]}
		if ac.PersonID != "" {
			person, err := c.store.GetPerson(ctx, ac.PersonID)
			if err != nil {
				return store.Campaign{}, nil, err
			}
			sd.Name = unseal(person.Name)
		}
		out = append(out, sd)
	}
	// Class by class, then by name, as slips are handed out.
	slices.SortFunc(out, func(a, b SlipData) int {
		if a.Class != b.Class {
			return strings.Compare(a.Class, b.Class)
		}
		return strings.Compare(a.Name, b.Name)
	})
	if err := c.auditDisclosure(ctx, auditBy(p, "export_codes", "campaign", cp.ID, cp.UnitPath, ip, fmt.Sprintf("%d slips", len(out)))); err != nil {
		return store.Campaign{}, nil, err
	}
	return cp, out, nil
}
