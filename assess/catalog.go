package assess

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/semver"

	"xinling/engine"
	"xinling/instrumentbook"
	"xinling/store"
)

// Error codes of the instrument lifecycle.
const (
	CodeInstrumentInvalid = "instrument_invalid"
	CodeInstrumentTaken   = "instrument_id_taken"
	CodeImmutable         = "instrument_published"
)

// Catalog knows every instrument a server can score: the built-ins and
// every published custom version in the store, and who may use which. A
// custom instrument belongs to its unit and serves that unit's subtree;
// only a root administrator puts one into the public self-test catalogue.
// Versions already loaded stay loaded (retired ones too), so every stored
// result can be rescored with the document that made it.
type Catalog struct {
	*shared
	builtin map[string]bool

	mu       sync.RWMutex
	custom   map[string]*customInstrument // by instrument id
	disabled map[string]string            // "id version" → why the stored document no longer loads
	problems map[string]*InstrumentProblem
	unitPath map[string]string // unit id → path, for owners
}

type customInstrument struct {
	unitID, unitPath string
	versions         map[string]store.InstrumentDoc // published or retired, without source
}

// InstrumentProblem is something wrong with a loaded instrument that only
// showed at run time, such as a score in no band.
type InstrumentProblem struct {
	Instrument string    `json:"instrument"`
	Version    string    `json:"version"`
	Message    string    `json:"message"`
	Count      int       `json:"count"`
	First      time.Time `json:"first"`
	Last       time.Time `json:"last"`
}

// newCatalog returns a catalog whose built-ins are every instrument the
// library holds now.
func newCatalog(sh *shared) *Catalog {
	c := &Catalog{shared: sh, builtin: map[string]bool{},
		custom: map[string]*customInstrument{}, disabled: map[string]string{}, problems: map[string]*InstrumentProblem{},
		unitPath: map[string]string{}}
	for _, in := range sh.lib.Latest() {
		c.builtin[in.ID()] = true
	}
	return c
}

// SelfTest returns the version a new self-test of id uses: a public
// built-in, or the latest published custom version a root administrator
// made public.
func (c *Catalog) SelfTest(id string) (*engine.Instrument, bool) {
	return c.usable(id, "", true)
}

// ForUnit returns the version a new session or campaign of a unit uses:
// any built-in, or the latest published version of a custom instrument
// that belongs to the unit or one of its ancestors.
func (c *Catalog) ForUnit(id, unitPath string) (*engine.Instrument, bool) {
	return c.usable(id, unitPath, false)
}

func (c *Catalog) usable(id, unitPath string, public bool) (*engine.Instrument, bool) {
	if c.builtin[id] {
		in, ok := c.lib.Get(id, "")
		if !ok || (public && !in.Doc.Public) {
			return nil, false
		}
		return in, true
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	ci := c.custom[id]
	if ci == nil || (!public && !strings.HasPrefix(unitPath, ci.unitPath)) {
		return nil, false
	}
	versions := c.lib.Versions(id)
	for i := len(versions) - 1; i >= 0; i-- {
		d, ok := ci.versions[versions[i].Version()]
		if ok && d.State == store.InstrumentPublished && (!public || d.Public) {
			return versions[i], true
		}
	}
	return nil, false
}

// Public lists the self-test catalogue: one version per instrument.
func (c *Catalog) Public() []*engine.Instrument {
	var out []*engine.Instrument
	for _, in := range c.lib.Latest() {
		if v, ok := c.SelfTest(in.ID()); ok {
			out = append(out, v)
		}
	}
	return out
}

// Disabled lists stored versions that no longer load, and why.
func (c *Catalog) Disabled() map[string]string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make(map[string]string, len(c.disabled))
	for k, v := range c.disabled {
		out[k] = v
	}
	return out
}

// Problems lists run-time problems of loaded instruments, oldest first.
func (c *Catalog) Problems() []InstrumentProblem {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]InstrumentProblem, 0, len(c.problems))
	for _, p := range c.problems {
		out = append(out, *p)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].First.Before(out[b].First) })
	return out
}

// NoteResult records what a scored result says is wrong with its
// instrument: a score in no band is kept, but administrators must hear of
// it. The first occurrence per server is audited; the record holds no
// personal data, only the instrument, version and score.
func (c *Catalog) NoteResult(ctx context.Context, res *engine.Result) {
	if res == nil || len(res.Unbanded) == 0 {
		return
	}
	now := c.now()
	for _, u := range res.Unbanded {
		msg := fmt.Sprintf("score %s fell in no band", u.Score)
		if len(u.Matches) > 0 {
			msg = fmt.Sprintf("score %s fell in several bands (%s)", u.Score, strings.Join(u.Matches, ", "))
		}
		key := res.Instrument + " " + res.Version + " " + msg
		c.mu.Lock()
		p := c.problems[key]
		first := p == nil
		if first {
			p = &InstrumentProblem{Instrument: res.Instrument, Version: res.Version, Message: msg, First: now}
			c.problems[key] = p
		}
		p.Count++
		p.Last = now
		c.mu.Unlock()
		if first {
			c.log.Warn("instrument problem", "instrument", res.Instrument, "version", res.Version, "problem", msg)
			c.auditAction(ctx, store.AuditEntry{At: now, ActorID: "system", Action: "instrument_problem",
				TargetKind: "instrument", TargetID: res.Instrument + " " + res.Version, Detail: msg})
		}
	}
}

// Sync loads every published or retired custom version the store holds
// that this server has not loaded, and refreshes their states, so that a
// version published on one server is usable on all within one interval.
// A stored document that no longer loads (the engine changed) is disabled
// and reported, never fatal.
func (c *Catalog) Sync(ctx context.Context) error {
	var docs []store.InstrumentDoc
	for _, state := range []store.InstrumentState{store.InstrumentPublished, store.InstrumentRetired} {
		list, err := c.store.ListInstruments(ctx, store.InstrumentFilter{State: state})
		if err != nil {
			return err
		}
		docs = append(docs, list...)
	}
	for _, d := range docs {
		if c.builtin[d.ID] {
			continue // a built-in of the same id (added to the binary later) wins
		}
		path, err := c.ownerPath(ctx, d.UnitID)
		if err != nil {
			return err
		}
		if _, loaded := c.lib.Get(d.ID, d.Version); !loaded && !c.isDisabled(d) {
			if err := c.load(ctx, d); err != nil {
				return err
			}
		}
		c.mu.Lock()
		ci := c.custom[d.ID]
		if ci == nil {
			ci = &customInstrument{unitID: d.UnitID, unitPath: path, versions: map[string]store.InstrumentDoc{}}
			c.custom[d.ID] = ci
		}
		d.Source = nil
		ci.versions[d.Version] = d
		c.mu.Unlock()
	}
	return nil
}

func (c *Catalog) isDisabled(d store.InstrumentDoc) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	_, off := c.disabled[d.ID+" "+d.Version]
	return off
}

func (c *Catalog) load(ctx context.Context, d store.InstrumentDoc) error {
	full, err := c.store.GetInstrument(ctx, d.ID, d.Version)
	if err != nil {
		return err
	}
	in, err := engine.Load(d.ID+"@"+d.Version+".yaml", full.Source)
	if err == nil && in.Hash != full.ContentHash {
		err = fmt.Errorf("content hash %s does not match the stored %s", in.Hash, full.ContentHash)
	}
	if err == nil && (in.ID() != d.ID || in.Version() != d.Version) {
		err = fmt.Errorf("the document says %s %s", in.ID(), in.Version())
	}
	if err == nil {
		err = c.lib.Add(in)
		if _, loaded := c.lib.Get(d.ID, d.Version); loaded {
			err = nil // another Sync or Publish on this server won the race
		}
	}
	if err != nil {
		why := err.Error()
		if ps, ok := engine.AsProblems(err); ok && len(ps) > 0 {
			why = fmt.Sprintf("%s (and %d more problems)", ps[0], len(ps)-1)
		}
		c.mu.Lock()
		c.disabled[d.ID+" "+d.Version] = why
		c.mu.Unlock()
		c.log.Warn("custom instrument disabled: it no longer loads", "instrument", d.ID, "version", d.Version, "why", why)
	}
	return nil
}

func (c *Catalog) ownerPath(ctx context.Context, unitID string) (string, error) {
	c.mu.RLock()
	p, ok := c.unitPath[unitID]
	c.mu.RUnlock()
	if ok {
		return p, nil
	}
	u, err := c.store.GetUnit(ctx, unitID)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	c.unitPath[unitID] = u.Path
	c.mu.Unlock()
	return u.Path, nil
}

// RunSync syncs every interval until ctx ends.
func (c *Catalog) RunSync(ctx context.Context, every time.Duration) {
	runEvery(ctx, every, func(ctx context.Context) (int, error) { return 0, c.Sync(ctx) }, func(_ int, err error) {
		if err != nil && ctx.Err() == nil {
			c.log.Warn("instrument sync failed", "err", err)
		}
	})
}

// CheckReport is the checker's verdict on a document: every problem at
// its line and column, how each banded score's coverage was established,
// and each vector's outcome.
type CheckReport struct {
	ID       string                 `json:"id,omitempty"`
	Version  string                 `json:"version,omitempty"`
	Hash     string                 `json:"hash,omitempty"`
	OK       bool                   `json:"ok"`
	Problems []engine.Problem       `json:"problems"`
	Coverage []engine.Coverage      `json:"coverage"`
	Vectors  []engine.VectorOutcome `json:"vectors"`
	// Preview is the document's items as a respondent reads them, for
	// the editor's "try it" form; absent when the document does not compile.
	Preview *InstrumentPreview `json:"preview,omitempty"`
}

// documentFile names a document in its problems.
const documentFile = "document.yaml"

func (c *Catalog) requireEditor(p *Principal) error {
	if !p.Can(store.PermEditInstruments) {
		return errorf(CodeForbidden, "", "editing instruments needs the edit_instruments permission, which an administrator grants")
	}
	return nil
}

// Check runs the loader on a document without saving it: parse, compile
// every expression, prove the bands, run the vectors, and check that its id
// and version may be used by unitID (empty: the principal's unit).
func (c *Catalog) Check(ctx context.Context, p *Principal, unitID string, source []byte, locale string) (*CheckReport, error) {
	if err := c.requireEditor(p); err != nil {
		return nil, err
	}
	owner, err := c.ownerIn(ctx, p, unitID)
	if err != nil {
		return nil, err
	}
	r, _ := c.check(ctx, owner, source, locale)
	return r, nil
}

// check runs the loader over a document and reports on it; the
// instrument is returned when the document compiles, even if its vectors
// or identity fail.
func (c *Catalog) check(ctx context.Context, owner store.Unit, source []byte, locale string) (*CheckReport, *engine.Instrument) {
	r := &CheckReport{Problems: []engine.Problem{}, Coverage: []engine.Coverage{}, Vectors: []engine.VectorOutcome{}}
	in, outcomes, err := engine.Inspect(documentFile, source)
	if err != nil {
		ps, _ := engine.AsProblems(err)
		if len(ps) == 0 {
			ps = engine.Problems{{File: documentFile, Line: 1, Col: 1, Message: err.Error()}}
		}
		r.Problems = append(r.Problems, ps...)
	}
	if in == nil {
		r.ID, r.Version = engine.Identify(source)
	} else {
		r.ID, r.Version, r.Hash = in.ID(), in.Version(), in.Hash
		r.Coverage, r.Vectors = in.Coverage(), outcomes
		r.Preview = previewOf(in, locale)
		r.Problems = append(r.Problems, c.lib.CheckFollowUps(in)...)
	}
	if r.ID != "" {
		if msg, field := c.identityProblem(ctx, owner, r.ID, r.Version, hashOf(source)); msg != "" {
			line, col := engine.Locate(source, field)
			r.Problems = append(r.Problems, engine.Problem{File: documentFile, Line: line, Col: col, Path: field, Message: msg})
		}
	}
	r.OK = len(r.Problems) == 0
	return r, in
}

// identityProblem says why owner may not use id and version, if it may not.
func (c *Catalog) identityProblem(ctx context.Context, owner store.Unit, id, version, hash string) (msg, field string) {
	if c.builtin[id] {
		return fmt.Sprintf("%q is the id of a built-in instrument; choose another", id), "id"
	}
	if id == "builtin" || id == "import" || id == "check" {
		return fmt.Sprintf("%q is reserved; choose another id", id), "id"
	}
	versions, err := c.store.ListInstruments(ctx, store.InstrumentFilter{ID: id})
	if err != nil {
		return "", ""
	}
	for _, d := range versions {
		if d.UnitID != owner.ID {
			return fmt.Sprintf("the id %q is taken by another unit's instrument; choose another", id), "id"
		}
	}
	for _, d := range versions {
		if d.State == store.InstrumentDraft {
			continue
		}
		if d.Version == version && d.ContentHash == hash {
			return "", "" // the published document itself, opened again
		}
		if d.Version == version {
			return fmt.Sprintf("version %s is published and never changes; a correction needs a higher version", version), "version"
		}
		if semver.Compare("v"+version, "v"+d.Version) < 0 {
			return fmt.Sprintf("version %s is lower than the published %s; a new version must be higher", version, d.Version), "version"
		}
	}
	return "", ""
}

func (c *Catalog) ownerIn(ctx context.Context, p *Principal, unitID string) (store.Unit, error) {
	if unitID == "" {
		unitID = p.UnitID
	}
	return unitIn(ctx, c.store, p, unitID, "unit_id")
}

// InstrumentVersion is one custom version as the console lists it.
type InstrumentVersion struct {
	ID          string       `json:"id"`
	Version     string       `json:"version"`
	State       string       `json:"state"` // builtin, draft, published, retired
	Title       engine.Text  `json:"title,omitempty"`
	UnitID      string       `json:"unit_id,omitempty"`
	Hash        string       `json:"hash,omitempty"`
	Public      bool         `json:"public"`
	CreatedAt   time.Time    `json:"created_at,omitzero"`
	PublishedAt time.Time    `json:"published_at,omitzero"`
	RetiredAt   time.Time    `json:"retired_at,omitzero"`
	Disabled    string       `json:"disabled,omitempty"`
	Source      string       `json:"source,omitempty"`
	Report      *CheckReport `json:"report,omitempty"`
}

func versionOf(d store.InstrumentDoc) InstrumentVersion {
	return InstrumentVersion{ID: d.ID, Version: d.Version, State: string(d.State), UnitID: d.UnitID, Hash: d.ContentHash,
		Public: d.Public, CreatedAt: d.CreatedAt, PublishedAt: d.PublishedAt, RetiredAt: d.RetiredAt}
}

// List returns what the principal may see: every built-in, the custom
// versions their subtree owns (drafts only to editors), and published
// versions their unit may use from its ancestors.
func (c *Catalog) List(ctx context.Context, p *Principal) ([]InstrumentVersion, error) {
	var out []InstrumentVersion
	for _, in := range c.lib.Latest() {
		if c.builtin[in.ID()] {
			out = append(out, InstrumentVersion{ID: in.ID(), Version: in.Version(), State: "builtin", Title: in.Doc.Title,
				Hash: in.Hash, Public: in.Doc.Public})
		}
	}
	docs, err := c.store.ListInstruments(ctx, store.InstrumentFilter{})
	if err != nil {
		return nil, err
	}
	disabled := c.Disabled()
	for _, d := range docs {
		path, err := c.ownerPath(ctx, d.UnitID)
		if err != nil {
			return nil, err
		}
		owned := p.InScope(path)
		usable := d.State != store.InstrumentDraft && strings.HasPrefix(p.UnitPath, path)
		if (d.State == store.InstrumentDraft && !(owned && p.Can(store.PermEditInstruments))) || (!owned && !usable) {
			continue
		}
		v := versionOf(d)
		if in, ok := c.lib.Get(d.ID, d.Version); ok && d.State != store.InstrumentDraft {
			v.Title = in.Doc.Title
		}
		v.Disabled = disabled[d.ID+" "+d.Version]
		out = append(out, v)
	}
	return out, nil
}

// owned loads a custom version the principal may edit.
func (c *Catalog) owned(ctx context.Context, p *Principal, id, version string) (store.InstrumentDoc, string, error) {
	if err := c.requireEditor(p); err != nil {
		return store.InstrumentDoc{}, "", err
	}
	notFound := errorf(CodeNotFound, "", "no custom instrument %s version %s", id, version)
	d, err := c.store.GetInstrument(ctx, id, version)
	if errors.Is(err, store.ErrNotFound) {
		return d, "", notFound
	}
	if err != nil {
		return d, "", err
	}
	path, err := c.ownerPath(ctx, d.UnitID)
	if err != nil {
		return d, "", err
	}
	if !p.InScope(path) {
		return d, "", notFound
	}
	return d, path, nil
}

// Get returns one custom version with its source and, for a draft, the
// checker's report.
func (c *Catalog) Get(ctx context.Context, p *Principal, id, version, locale string) (InstrumentVersion, error) {
	d, _, err := c.owned(ctx, p, id, version)
	if err != nil {
		return InstrumentVersion{}, err
	}
	v := versionOf(d)
	v.Source = string(d.Source)
	v.Disabled = c.Disabled()[d.ID+" "+d.Version]
	if d.State == store.InstrumentDraft {
		u, err := c.store.GetUnit(ctx, d.UnitID)
		if err != nil {
			return v, err
		}
		v.Report, _ = c.check(ctx, u, d.Source, locale)
	}
	return v, nil
}

// SaveDraft stores a document as a draft of unitID (empty: the editor's
// unit), whatever its problems, and returns the checker's report. The id
// and version must be readable, and free for this unit to use.
func (c *Catalog) SaveDraft(ctx context.Context, p *Principal, unitID string, source []byte, locale, ip string) (InstrumentVersion, error) {
	if err := c.requireEditor(p); err != nil {
		return InstrumentVersion{}, err
	}
	owner, err := c.ownerIn(ctx, p, unitID)
	if err != nil {
		return InstrumentVersion{}, err
	}
	report, _ := c.check(ctx, owner, source, locale)
	if report.ID == "" || report.Version == "" || !semver.IsValid("v"+report.Version) {
		return InstrumentVersion{Report: report}, &Error{Code: CodeInstrumentInvalid, Field: "source",
			Message: "a draft needs a readable id and a semantic version (1.0.0) before it can be saved"}
	}
	if msg, field := c.identityProblem(ctx, owner, report.ID, report.Version, ""); msg != "" {
		code := CodeInstrumentTaken
		if field == "version" {
			code = CodeImmutable
		}
		return InstrumentVersion{Report: report}, &Error{Code: code, Field: field, Message: msg}
	}
	d, err := c.store.SaveInstrumentDraft(ctx, store.InstrumentDoc{ID: report.ID, Version: report.Version,
		ContentHash: hashOf(source), Source: source, UnitID: owner.ID, CreatedBy: p.StaffID, CreatedAt: c.now()})
	switch {
	case errors.Is(err, store.ErrImmutable):
		return InstrumentVersion{Report: report}, errorf(CodeImmutable, "version", "version %s is published and never changes; a correction needs a higher version", report.Version)
	case errors.Is(err, store.ErrConflict):
		return InstrumentVersion{Report: report}, errorf(CodeInstrumentTaken, "id", "the id %q is taken by another unit's instrument; choose another", report.ID)
	case err != nil:
		return InstrumentVersion{}, err
	}
	c.audit(ctx, p, "instrument_draft", d, ip)
	v := versionOf(d)
	v.Report = report
	return v, nil
}

// Publish freezes a draft whose check passes (problems, coverage, vectors,
// follow-ups, id and version), and makes it usable at once on this server;
// other servers load it at their next sync.
func (c *Catalog) Publish(ctx context.Context, p *Principal, id, version, ip string) (InstrumentVersion, error) {
	d, _, err := c.owned(ctx, p, id, version)
	if err != nil {
		return InstrumentVersion{}, err
	}
	if d.State != store.InstrumentDraft {
		return InstrumentVersion{}, errorf(CodeImmutable, "", "%s %s is already %s", id, version, d.State)
	}
	owner, err := c.store.GetUnit(ctx, d.UnitID)
	if err != nil {
		return InstrumentVersion{}, err
	}
	report, in := c.check(ctx, owner, d.Source, "")
	if !report.OK {
		return InstrumentVersion{Report: report}, errorf(CodeInstrumentInvalid, "", "the draft has %d problems; fix them before publishing (first: %s)", len(report.Problems), report.Problems[0])
	}
	pub, err := c.store.PublishInstrument(ctx, id, version, c.now())
	switch {
	case errors.Is(err, store.ErrImmutable):
		return InstrumentVersion{}, errorf(CodeImmutable, "", "%s %s is already published", id, version)
	case errors.Is(err, store.ErrConflict):
		return InstrumentVersion{}, errorf(CodeConflict, "", "the draft changed while publishing; check it again")
	case err != nil:
		return InstrumentVersion{}, err
	}
	if _, loaded := c.lib.Get(id, version); !loaded {
		if err := c.lib.Add(in); err != nil {
			return InstrumentVersion{}, err
		}
	}
	c.remember(pub, owner.Path)
	c.audit(ctx, p, "instrument_publish", pub, ip)
	return versionOf(pub), nil
}

// Retire stops a published version taking new sessions; sessions and
// results that use it keep working.
func (c *Catalog) Retire(ctx context.Context, p *Principal, id, version, ip string) (InstrumentVersion, error) {
	_, path, err := c.owned(ctx, p, id, version)
	if err != nil {
		return InstrumentVersion{}, err
	}
	d, err := c.store.RetireInstrument(ctx, id, version, c.now())
	if err != nil {
		return InstrumentVersion{}, c.stateError(err, id, version)
	}
	c.remember(d, path)
	c.audit(ctx, p, "instrument_retire", d, ip)
	return versionOf(d), nil
}

// SetPublic puts a published version into the public self-test catalogue,
// or takes it out. Only a root administrator may.
func (c *Catalog) SetPublic(ctx context.Context, p *Principal, id, version string, public bool, ip string) (InstrumentVersion, error) {
	if !p.IsRootAdmin() {
		return InstrumentVersion{}, errorf(CodeForbidden, "", "only an administrator of the root unit may change the public catalogue")
	}
	_, path, err := c.owned(ctx, p, id, version)
	if err != nil {
		return InstrumentVersion{}, err
	}
	d, err := c.store.SetInstrumentPublic(ctx, id, version, public)
	if err != nil {
		return InstrumentVersion{}, c.stateError(err, id, version)
	}
	c.remember(d, path)
	action := "instrument_unpublicise"
	if public {
		action = "instrument_publicise"
	}
	c.audit(ctx, p, action, d, ip)
	return versionOf(d), nil
}

func (c *Catalog) stateError(err error, id, version string) error {
	switch {
	case errors.Is(err, store.ErrConflict):
		return errorf(CodeConflict, "", "%s %s is a draft; publish it first", id, version)
	case errors.Is(err, store.ErrImmutable):
		return errorf(CodeConflict, "", "%s %s is already retired", id, version)
	}
	return err
}

func (c *Catalog) remember(d store.InstrumentDoc, path string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ci := c.custom[d.ID]
	if ci == nil {
		ci = &customInstrument{unitID: d.UnitID, unitPath: path, versions: map[string]store.InstrumentDoc{}}
		c.custom[d.ID] = ci
	}
	d.Source = nil
	ci.versions[d.Version] = d
}

func (c *Catalog) audit(ctx context.Context, p *Principal, action string, d store.InstrumentDoc, ip string) {
	path, _ := c.ownerPath(ctx, d.UnitID)
	c.auditAction(ctx, auditBy(p, action, "instrument", d.ID+" "+d.Version, path, ip, d.ContentHash))
}

// Try scores answers with a draft or a published version, for the
// editor's preview: nothing is stored.
func (c *Catalog) Try(ctx context.Context, p *Principal, id, version string, in engine.Input) (*engine.Result, error) {
	d, _, err := c.owned(ctx, p, id, version)
	if err != nil {
		return nil, err
	}
	inst, ok := c.lib.Get(id, version)
	if !ok || d.State == store.InstrumentDraft {
		if inst, err = engine.Compile(documentFile, d.Source); err != nil {
			return nil, errorf(CodeInstrumentInvalid, "", "the draft does not compile; see its problems")
		}
	}
	res, err := inst.Score(in)
	if err != nil {
		return nil, fromInput(err, "")
	}
	return res, nil
}

// BuiltinSource returns a built-in's document, for an editor to start a
// custom instrument from a copy. Built-ins are public knowledge: any
// signed-in staff member may read them.
func (c *Catalog) BuiltinSource(id string) (InstrumentVersion, error) {
	in, ok := c.lib.Get(id, "")
	if !ok || !c.builtin[id] {
		return InstrumentVersion{}, errorf(CodeNotFound, "", "no built-in instrument %q", id)
	}
	return InstrumentVersion{ID: in.ID(), Version: in.Version(), State: "builtin", Title: in.Doc.Title, Hash: in.Hash,
		Public: in.Doc.Public, Source: string(in.Source)}, nil
}

func hashOf(source []byte) string {
	sum := sha256.Sum256(source)
	return hex.EncodeToString(sum[:])
}

// CodeWorkbookInvalid is a workbook whose cells cannot be read into a
// document; the error carries every problem by sheet and cell.
const CodeWorkbookInvalid = "workbook_invalid"

// WorkbookError is an import refused for problems in the workbook.
type WorkbookError struct {
	Problems instrumentbook.Problems
}

func (e *WorkbookError) Error() string { return e.Problems.Error() }

// Template exports a built-in or a custom version the principal may see
// as an Excel workbook, to fill in and import as a new draft.
func (c *Catalog) Template(ctx context.Context, p *Principal, id, version string) ([]byte, error) {
	var doc *engine.Document
	if c.builtin[id] {
		in, ok := c.lib.Get(id, version)
		if !ok {
			return nil, errorf(CodeNotFound, "", "no built-in instrument %s %s", id, version)
		}
		doc = in.Doc
	} else {
		d, _, err := c.owned(ctx, p, id, version)
		if err != nil {
			return nil, err
		}
		in, err := engine.Compile(documentFile, d.Source)
		if err != nil {
			return nil, errorf(CodeInstrumentInvalid, "", "the document has problems; fix them in the editor before exporting it")
		}
		doc = in.Doc
	}
	return instrumentbook.Export(doc)
}

// ImportDraft reads a filled workbook into a document and saves it as a
// draft, as SaveDraft does with YAML. Problems in the workbook come back
// by sheet and cell; problems in the document, by line and column of the
// YAML it became.
func (c *Catalog) ImportDraft(ctx context.Context, p *Principal, unitID string, workbook []byte, locale, ip string) (InstrumentVersion, error) {
	if err := c.requireEditor(p); err != nil {
		return InstrumentVersion{}, err
	}
	source, err := instrumentbook.Import(workbook)
	var ps instrumentbook.Problems
	if errors.As(err, &ps) {
		return InstrumentVersion{}, &WorkbookError{Problems: ps}
	}
	if err != nil {
		return InstrumentVersion{}, err
	}
	v, err := c.SaveDraft(ctx, p, unitID, source, locale, ip)
	if err == nil || v.Report != nil {
		v.Source = string(source)
	}
	return v, err
}
