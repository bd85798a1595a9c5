//go:build !fuzzdecode

package api_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"xinling/store"
)

const sealedName = "张三-secret-name"

// person creates a respondent in unit whose name is on file (sealed).
func (s *server) person(unit string) string {
	s.t.Helper()
	p, err := s.store.CreatePerson(context.Background(), store.Person{ID: store.NewID(), UnitID: unit, Name: store.Sealed(sealedName),
		Sex: "f", BirthMonth: "2010-05", CreatedAt: s.clock.Now()})
	if err != nil {
		s.t.Fatal(err)
	}
	return p.ID
}

// wave submits one session of the person's in unit with the given totals
// per instrument (instrument id → total); level > 0 also files a queue
// entry, whose id is returned.
func (s *server) wave(person, unit string, totals map[string]float64, level int) string {
	s.t.Helper()
	ctx := context.Background()
	var insts []string
	for inst := range totals {
		insts = append(insts, inst)
	}
	sess := store.Session{ID: store.NewID(), PersonID: person, UnitID: unit, Instruments: insts, Consent: true, CreatedAt: s.clock.Now()}
	if _, err := s.store.CreateSession(ctx, sess); err != nil {
		s.t.Fatal(err)
	}
	sub := store.Submission{SessionID: sess.ID, At: s.clock.Now()}
	for inst, total := range totals {
		sub.Results = append(sub.Results, store.Result{ID: store.NewID(), Instrument: inst, Version: "1.0.0",
			Scores: map[string]float64{"total": total}, Bands: map[string]string{"total": "b"}})
	}
	if level > 0 {
		sub.Warning = &store.WarningDraft{ID: store.NewID(), Key: sess.ID, Level: level, DueAt: s.clock.Now().Add(time.Hour),
			Reasons: []store.Reason{{ResultID: sub.Results[0].ID, Instrument: sub.Results[0].Instrument, Rule: "total", Level: level,
				Text: map[string]string{"zh-CN": "总分偏高", "en": "High total"}}}}
	}
	out, err := s.store.Submit(ctx, sub)
	if err != nil {
		s.t.Fatal(err)
	}
	if out.Warning != nil {
		return out.Warning.ID
	}
	return ""
}

func (c *console) id() string {
	c.s.t.Helper()
	return c.do("GET", "/api/v1/auth/me", nil).body["staff"].(map[string]any)["id"].(string)
}

// claim gives the entry to c, as the queue's claim would.
func (c *console) claim(warning string) {
	c.s.t.Helper()
	now := c.s.clock.Now()
	if _, err := c.s.store.ClaimWarning(context.Background(), warning, c.id(), now, now.Add(time.Hour)); err != nil {
		c.s.t.Fatal(err)
	}
}

func (s *server) audits(action string) []store.AuditEntry {
	s.t.Helper()
	entries, _, err := s.store.ListAudit(context.Background(), store.AuditFilter{Action: action}, store.Page{Limit: store.MaxLimit})
	if err != nil {
		s.t.Fatal(err)
	}
	return entries
}

func field(r response, path ...string) any {
	var v any = r.body
	for _, p := range path {
		m, _ := v.(map[string]any)
		v = m[p]
	}
	return v
}

func listIDs(r response, key string) string {
	var out []string
	items, _ := r.body[key].([]any)
	for _, it := range items {
		out = append(out, it.(map[string]any)["id"].(string))
	}
	return strings.Join(out, ",")
}

// The isolation matrix for the records endpoints: every role, with a
// person (and their entry, case and referral) in scope and one out of it.
// School A's psychologist against school B's person is the sibling-school
// case. Out of scope is always 404, never 403; teachers and viewers get
// 403 everywhere.
func TestRecordsIsolationMatrix(t *testing.T) {
	t.Parallel()
	o := newQueueOrg(t)
	s := o.s
	ctx := context.Background()
	pA, pB := s.person("schoolA"), s.person("schoolB")
	wA, wB := s.wave(pA, "schoolA", map[string]float64{"phq9": 12}, 2), s.wave(pB, "schoolB", map[string]float64{"phq9": 12}, 2)
	var cases = map[string]string{}
	for person, unit := range map[string]string{pA: "schoolA", pB: "schoolB"} {
		c, err := s.store.CreateCase(ctx, store.Case{ID: store.NewID(), PersonID: person, UnitID: unit, CounsellorID: "x",
			SelfEvaluation: store.Sealed("自评"), At: s.clock.Now(), CreatedAt: s.clock.Now()})
		if err != nil {
			t.Fatal(err)
		}
		cases[person] = c.ID
	}
	// Each school's entry referred up to the county by its psychologist.
	o.psychA.claim(wA)
	o.psychB.claim(wB)
	refs := map[string]string{}
	for person, rq := range map[string]struct {
		c *console
		w string
	}{pA: {o.psychA, wA}, pB: {o.psychB, wB}} {
		r := rq.c.do("POST", "/api/v1/warnings/"+rq.w+"/refer", map[string]any{"to_unit_id": "county", "note": "需要县中心评估"})
		if r.status != 201 {
			t.Fatalf("refer: %s", r.raw)
		}
		refs[person] = field(r, "referral", "id").(string)
	}
	// Fresh entries, still open, for the refer endpoint itself.
	openW := map[string]string{pA: s.wave(pA, "schoolA", map[string]float64{"phq9": 14}, 2), pB: s.wave(pB, "schoolB", map[string]float64{"phq9": 14}, 2)}

	both := map[string]bool{pA: true, pB: true}
	roles := []struct {
		name    string
		c       *console
		sees    map[string]bool
		allowed bool
		county  bool // the county, where both referrals went, is in scope
	}{
		{"admin@city", o.admin, both, true, true},
		{"counsellor@county", o.counsellor, both, true, true},
		{"psychologist@schoolA", o.psychA, map[string]bool{pA: true, pB: false}, true, false},
		{"psychologist@schoolB", o.psychB, map[string]bool{pA: false, pB: true}, true, false},
		{"teacher@schoolA", o.teacherA, map[string]bool{pA: false, pB: false}, false, false},
		{"viewer@city", o.viewer, map[string]bool{pA: false, pB: false}, false, true},
	}
	reads := 0
	for _, role := range roles {
		t.Run(role.name, func(t *testing.T) {
			for _, path := range []string{"/api/v1/referrals?direction=incoming", "/api/v1/referrals?direction=outgoing", "/api/v1/cases"} {
				r := role.c.do("GET", path, nil)
				if !role.allowed {
					r.expectError(t, 403, "forbidden")
					continue
				}
				key := "referrals"
				if strings.HasPrefix(path, "/api/v1/cases") {
					key = "cases"
				}
				got := listIDs(r, key)
				for person, in := range role.sees {
					id := refs[person]
					if key == "cases" {
						id = cases[person]
					}
					// Each school sent its own; both went into the county.
					if strings.HasSuffix(path, "incoming") {
						in = role.county
					}
					if strings.Contains(got, id) != in {
						t.Errorf("GET %s: %s listed=%v, want %v (%s)", path, id, !in, in, r.raw)
					}
				}
			}
			for person, in := range role.sees {
				endpoints := []struct {
					method, path string
					body         any
					okStatus     int
				}{
					{"GET", "/api/v1/persons/" + person, nil, 200},
					{"GET", "/api/v1/cases/" + cases[person], nil, 200},
					{"GET", "/api/v1/cases?person=" + person, nil, 200},
					{"GET", "/api/v1/cases?warning=" + openW[person], nil, 200},
					// A stale version: in scope it reaches the version check.
					{"PUT", "/api/v1/cases/" + cases[person], map[string]any{"version": 99, "group_notified": false}, 409},
					{"POST", "/api/v1/cases", map[string]any{"person_id": person, "group_notified": true, "advice": "定期复评"}, 201},
					// Not claimed by the caller: in scope it reaches the holder check.
					{"POST", "/api/v1/warnings/" + openW[person] + "/refer", map[string]any{"to_unit_id": "city", "note": "n"}, 409},
					{"GET", "/api/v1/referrals/" + refs[person], nil, 200},
				}
				for _, e := range endpoints {
					r := role.c.do(e.method, e.path, e.body)
					switch {
					case !role.allowed:
						r.expectError(t, 403, "forbidden")
					case !in:
						r.expectError(t, 404, "not_found")
					case r.status != e.okStatus:
						t.Errorf("%s %s: %d %s, want %d", e.method, e.path, r.status, r.raw, e.okStatus)
					}
					if role.allowed && in && e.method == "GET" && strings.HasPrefix(e.path, "/api/v1/persons/") {
						reads++
					}
				}
			}
		})
	}
	// Every allowed person-record read left exactly one audit entry, and
	// no refused one left any.
	if got := len(s.audits("read_person")); got != reads || reads != 6 {
		t.Fatalf("%d read_person audit entries for %d reads", got, reads)
	}
}

func TestPersonRecordTrendsSealedIdentifiersAndAudit(t *testing.T) {
	t.Parallel()
	o := newQueueOrg(t)
	s := o.s
	p := s.person("schoolA")
	w := s.wave(p, "schoolA", map[string]float64{"phq9": 20, "gad7": 3, "k10": 30}, 1)
	s.clock.Add(30 * 24 * time.Hour)
	s.wave(p, "schoolA", map[string]float64{"phq9": 10, "gad7": 9, "k10": 15}, 0)
	s.clock.Add(30 * 24 * time.Hour)
	s.wave(p, "schoolA", map[string]float64{"phq9": 12}, 0)
	// A result of the same person in school B is not school A's to read.
	s.wave(p, "schoolB", map[string]float64{"phq9": 27}, 0)
	// Two months on, the consoles sign in again.
	for login, c := range map[string]*console{"psych-a": o.psychA, "county-c": o.counsellor, "admin": o.admin} {
		if r := c.login(login, "a-long-new-secret"); r.status != 200 {
			t.Fatal(r.raw)
		}
	}

	r := o.psychA.do("GET", "/api/v1/persons/"+p, nil)
	if r.status != 200 {
		t.Fatal(r.raw)
	}
	if strings.Contains(r.raw, "secret-name") || strings.Contains(r.raw, base64.StdEncoding.EncodeToString([]byte(sealedName))) {
		t.Fatalf("the record leaks a sealed identifier: %s", r.raw)
	}
	if field(r, "person", "identifiers", "name", "sealed") != true || field(r, "person", "identifiers", "phone") != nil {
		t.Fatalf("identifiers: %v", field(r, "person"))
	}
	if field(r, "person", "age") != 16.0 || field(r, "person", "sex") != "f" || field(r, "person", "unit_id") != "schoolA" {
		t.Fatalf("basics: %v", field(r, "person"))
	}
	results := r.body["results"].([]any)
	if len(results) != 7 {
		t.Fatalf("%d results, want 7 (school B's hidden): %s", len(results), r.raw)
	}
	var prev string
	for _, res := range results {
		at := res.(map[string]any)["at"].(string)
		if at < prev {
			t.Fatalf("results out of order: %s after %s", at, prev)
		}
		prev = at
	}
	trends := map[string]map[string]any{}
	for _, tr := range r.body["trends"].([]any) {
		m := tr.(map[string]any)
		trends[m["instrument"].(string)] = m
	}
	for inst, want := range map[string]string{"phq9": "no_reliable_change", "gad7": "worsened", "k10": "unknown"} {
		if trends[inst]["trend"] != want {
			t.Errorf("%s trend %v, want %s", inst, trends[inst]["trend"], want)
		}
	}
	phq := trends["phq9"]["changes"].([]any)
	if len(phq) != 2 || phq[0].(map[string]any)["trend"] != "improved" || phq[0].(map[string]any)["rci"] != -6.09 {
		t.Errorf("phq9 changes: %v", phq)
	}
	if trends["phq9"]["reliability"] != 0.89 || trends["phq9"]["sd"] != 3.5 || trends["k10"]["rci"] != nil {
		t.Errorf("phq9 parameters: %v", trends["phq9"])
	}
	ws := r.body["warnings"].([]any)
	if len(ws) != 1 || ws[0].(map[string]any)["id"] != w || ws[0].(map[string]any)["level"] != 1.0 ||
		ws[0].(map[string]any)["state"] != "open" || len(ws[0].(map[string]any)["reasons"].([]any)) != 1 {
		t.Errorf("warnings: %v", ws)
	}
	// The county counsellor sees school B's wave as well.
	if r := o.counsellor.do("GET", "/api/v1/persons/"+p, nil); len(r.body["results"].([]any)) != 8 {
		t.Errorf("county sees %d results, want 8", len(r.body["results"].([]any)))
	}
	// Every read is audited: who, what, from where, and under which unit.
	o.psychA.do("GET", "/api/v1/persons/"+p, nil)
	entries := s.audits("read_person")
	if len(entries) != 3 {
		t.Fatalf("%d audit entries for 3 reads", len(entries))
	}
	// The reads share one clock tick, so their order in the log is not
	// theirs to rely on: count them by actor instead.
	psychID := o.psychA.id()
	byPsych := 0
	for i, e := range entries {
		if e.ActorID != psychID {
			continue
		}
		byPsych++
		if e.TargetKind != "person" || e.TargetID != p || e.IP != "127.0.0.1" || e.UnitPath != "/city/county/schoolA/" || e.At.IsZero() {
			t.Errorf("audit entry %d: %+v", i, e)
		}
	}
	if byPsych != 2 {
		t.Errorf("%d audit entries by school A's psychologist, want 2", byPsych)
	}
	// The admin reads them through the audit endpoint.
	if r := o.admin.do("GET", "/api/v1/audit?action=read_person&target="+p, nil); len(r.body["entries"].([]any)) != 3 {
		t.Errorf("audit endpoint: %s", r.raw)
	}
	o.psychA.do("GET", "/api/v1/persons/nope", nil).expectError(t, 404, "not_found")
}

func TestCaseRecords(t *testing.T) {
	t.Parallel()
	o := newQueueOrg(t)
	s := o.s
	p, other := s.person("schoolA"), s.person("schoolA")
	w := s.wave(p, "schoolA", map[string]float64{"phq9": 16}, 2)
	wOther := s.wave(other, "schoolA", map[string]float64{"phq9": 16}, 2)
	c := o.psychA

	// Validation: the notified flag is required; unknown fields, long text,
	// an entry of another person, a time in the future are refused.
	c.do("POST", "/api/v1/cases", map[string]any{"person_id": p}).expectError(t, 400, "validation_failed")
	c.do("POST", "/api/v1/cases", map[string]any{"person_id": p, "group_notified": true, "name": "x"}).expectError(t, 400, "validation_failed")
	c.do("POST", "/api/v1/cases", map[string]any{"person_id": p, "group_notified": true, "advice": strings.Repeat("长", 4001)}).expectError(t, 400, "validation_failed")
	c.do("POST", "/api/v1/cases", map[string]any{"person_id": p, "group_notified": true, "warning_id": wOther}).expectError(t, 400, "validation_failed")
	c.do("POST", "/api/v1/cases", map[string]any{"person_id": p, "group_notified": true, "at": s.clock.Now().Add(48 * time.Hour)}).expectError(t, 400, "validation_failed")
	c.do("POST", "/api/v1/cases", map[string]any{"person_id": p, "group_notified": true, "unit_id": "schoolB"}).expectError(t, 404, "not_found")

	body := map[string]any{"person_id": p, "warning_id": w, "self_evaluation": "最近睡不好，压力大", "life_events": "父母离异，转学",
		"other_problems": "与同学关系紧张", "advice": "每周辅导一次，两周后复评", "group_notified": true, "at": s.clock.Now().Add(-time.Hour)}
	r := c.do("POST", "/api/v1/cases", body)
	if r.status != 201 {
		t.Fatal(r.raw)
	}
	id := field(r, "case", "id").(string)
	if field(r, "case", "life_events") != "父母离异，转学" || field(r, "case", "group_notified") != true || field(r, "case", "version") != 1.0 ||
		field(r, "case", "counsellor_id") != c.id() || field(r, "case", "unit_id") != "schoolA" || field(r, "person", "sex") != "f" {
		t.Fatalf("created: %s", r.raw)
	}
	if r := c.do("GET", "/api/v1/cases/"+id, nil); r.status != 200 || field(r, "case", "advice") != "每周辅导一次，两周后复评" || field(r, "person", "id") != p {
		t.Fatalf("read: %s", r.raw)
	}
	// Optimistic update: the version read wins once; a second writer with
	// the same version gets a conflict.
	upd := map[string]any{"version": 1, "self_evaluation": "好一些了", "life_events": "父母离异，转学", "advice": "继续", "group_notified": true}
	if r := c.do("PUT", "/api/v1/cases/"+id, upd); r.status != 200 || field(r, "case", "version") != 2.0 || field(r, "case", "self_evaluation") != "好一些了" {
		t.Fatalf("update: %s", r.raw)
	}
	o.counsellor.do("PUT", "/api/v1/cases/"+id, upd).expectError(t, 409, "conflict")
	c.do("PUT", "/api/v1/cases/"+id, map[string]any{"version": 2, "group_notified": true, "closed": true}).expectError(t, 400, "validation_failed")
	r = c.do("PUT", "/api/v1/cases/"+id, map[string]any{"version": 2, "group_notified": true, "closed": true, "outcome": "improved", "advice": "结案"})
	if r.status != 200 || field(r, "case", "closed") != true || field(r, "case", "closed_at") == nil {
		t.Fatalf("close: %s", r.raw)
	}
	// Lists by person and by queue entry.
	for _, q := range []string{"?person=" + p, "?warning=" + w, ""} {
		if r := c.do("GET", "/api/v1/cases"+q, nil); listIDs(r, "cases") != id {
			t.Errorf("cases%s: %s", q, r.raw)
		}
	}
	if r := c.do("GET", "/api/v1/persons/"+p, nil); listIDs(r, "cases") != id {
		t.Errorf("the person record lacks the case: %s", r.raw)
	}
	// Reads and writes are audited.
	for action, n := range map[string]int{"case_create": 1, "read_case": 1, "case_update": 2, "list_cases": 3} {
		if got := len(s.audits(action)); got != n {
			t.Errorf("%d %s audit entries, want %d", got, action, n)
		}
	}
}

// The closed loop: a community worker refers an entry up to the street's
// station (心灵驿站), which accepts and completes it; the sender follows
// the state throughout.
func TestReferralWorkflow(t *testing.T) {
	t.Parallel()
	o := newQueueOrg(t)
	s := o.s
	ctx := context.Background()
	for _, u := range []store.Unit{{ID: "street", ParentID: "county", Kind: "street"}, {ID: "community", ParentID: "street", Kind: "community"},
		{ID: "station", ParentID: "street", Kind: "station"}} {
		if _, err := s.store.CreateUnit(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	worker := s.staffOf("community-c", store.RoleCounsellor, "community")
	station := s.staffOf("station-c", store.RoleCounsellor, "station")
	p := s.person("community")
	w := s.wave(p, "community", map[string]float64{"phq9": 21}, 1)

	refer := func(c *console, to string) response {
		return c.do("POST", "/api/v1/warnings/"+w+"/refer", map[string]any{"to_unit_id": to, "note": "高危，需驿站面谈"})
	}
	refer(worker, "station").expectError(t, 409, "conflict") // not claimed yet
	worker.claim(w)
	o.counsellor.do("POST", "/api/v1/warnings/"+w+"/refer", map[string]any{"to_unit_id": "county", "note": "n"}).expectError(t, 409, "conflict") // not the holder
	for _, to := range []string{"community", "schoolA", "nope", "city/"} {
		refer(worker, to).expectError(t, 400, "validation_failed")
	}
	worker.do("POST", "/api/v1/warnings/"+w+"/refer", map[string]any{"to_unit_id": "station"}).expectError(t, 400, "validation_failed")
	station.do("POST", "/api/v1/warnings/"+w+"/refer", map[string]any{"to_unit_id": "county", "note": "n"}).expectError(t, 404, "not_found")

	r := refer(worker, "station")
	if r.status != 201 || field(r, "referral", "state") != "sent" || field(r, "referral", "from_unit_id") != "community" ||
		field(r, "referral", "person_id") != p || field(r, "referral", "note") != "高危，需驿站面谈" {
		t.Fatalf("refer: %s", r.raw)
	}
	ref := field(r, "referral", "id").(string)
	refer(worker, "county").expectError(t, 409, "conflict") // already referred
	if got, _ := s.store.GetWarning(ctx, w); got.State != store.WarningReferred {
		t.Fatalf("entry state %s after referral", got.State)
	}

	// The station sees it coming in, and may open the person's record
	// although the community is not in its subtree.
	if r := station.do("GET", "/api/v1/referrals?direction=incoming", nil); listIDs(r, "referrals") != ref {
		t.Fatalf("station incoming: %s", r.raw)
	}
	if r := station.do("GET", "/api/v1/referrals?direction=outgoing", nil); listIDs(r, "referrals") != "" {
		t.Fatalf("station outgoing: %s", r.raw)
	}
	if r := worker.do("GET", "/api/v1/referrals?direction=outgoing&state=sent", nil); listIDs(r, "referrals") != ref {
		t.Fatalf("worker outgoing: %s", r.raw)
	}
	worker.do("GET", "/api/v1/referrals?direction=sideways", nil).expectError(t, 400, "validation_failed")
	r = station.do("GET", "/api/v1/persons/"+p, nil)
	if r.status != 200 || len(r.body["results"].([]any)) != 1 || listIDs(r, "warnings") != w || listIDs(r, "referrals") != ref {
		t.Fatalf("station reads the referred person: %s", r.raw)
	}
	// The station records its counselling; the case is the station's, so
	// the sending community does not read its notes.
	r = station.do("POST", "/api/v1/cases", map[string]any{"person_id": p, "warning_id": w, "self_evaluation": "愿意接受帮助", "group_notified": true})
	if r.status != 201 || field(r, "case", "unit_id") != "station" {
		t.Fatalf("station case: %s", r.raw)
	}
	stationCase := field(r, "case", "id").(string)
	if r := worker.do("GET", "/api/v1/persons/"+p, nil); listIDs(r, "cases") != "" || listIDs(r, "referrals") != ref {
		t.Errorf("the community's view of the record: %s", r.raw)
	}
	worker.do("GET", "/api/v1/cases/"+stationCase, nil).expectError(t, 404, "not_found")
	// Another school's psychologist still finds nothing.
	o.psychA.do("GET", "/api/v1/persons/"+p, nil).expectError(t, 404, "not_found")
	o.psychA.do("GET", "/api/v1/referrals/"+ref, nil).expectError(t, 404, "not_found")
	o.psychA.do("POST", "/api/v1/referrals/"+ref+"/accept", nil).expectError(t, 404, "not_found")

	// Only the receiving side moves it: the sender sees but may not accept.
	worker.do("POST", "/api/v1/referrals/"+ref+"/accept", nil).expectError(t, 403, "forbidden")
	o.teacherA.do("POST", "/api/v1/referrals/"+ref+"/accept", nil).expectError(t, 403, "forbidden")
	station.do("POST", "/api/v1/referrals/"+ref+"/complete", nil).expectError(t, 409, "conflict") // sent → completed skips a step
	for _, step := range []string{"accept", "complete"} {
		if r := station.do("POST", "/api/v1/referrals/"+ref+"/"+step, nil); r.status != 200 {
			t.Fatalf("%s: %s", step, r.raw)
		}
	}
	station.do("POST", "/api/v1/referrals/"+ref+"/complete", nil).expectError(t, 409, "conflict")
	if r := worker.do("GET", "/api/v1/referrals/"+ref, nil); field(r, "referral", "state") != "completed" {
		t.Fatalf("the sender's view: %s", r.raw)
	}

	// A referral to an ancestor: the county receives a school entry.
	p2 := s.person("schoolA")
	w2 := s.wave(p2, "schoolA", map[string]float64{"phq9": 22}, 1)
	o.psychA.claim(w2)
	r = o.psychA.do("POST", "/api/v1/warnings/"+w2+"/refer", map[string]any{"to_unit_id": "county", "note": "转县中心"})
	if r.status != 201 {
		t.Fatal(r.raw)
	}
	if r := o.counsellor.do("POST", fmt.Sprintf("/api/v1/referrals/%s/accept", field(r, "referral", "id")), nil); r.status != 200 {
		t.Fatalf("county accepts: %s", r.raw)
	}
	for action, n := range map[string]int{"refer": 2, "referral_accepted": 2, "referral_completed": 1} {
		if got := len(s.audits(action)); got != n {
			t.Errorf("%d %s audit entries, want %d", got, action, n)
		}
	}
}
