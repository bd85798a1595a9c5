//go:build !fuzzdecode

package api_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"xinling/store"
)

// campaignResult files a submitted campaign session of person in unit
// with one phq9 result carrying flags, and returns the result id.
func (s *server) campaignResult(person, unit, campaign string, flags []string) string {
	s.t.Helper()
	return s.campaignWave(person, unit, campaign, 7, flags, 0)
}

// campaignWave is campaignResult with a phq9 total, and a queue entry of
// level when level > 0.
func (s *server) campaignWave(person, unit, campaign string, total float64, flags []string, level int) string {
	s.t.Helper()
	ctx := context.Background()
	sess := store.Session{ID: store.NewID(), PersonID: person, CampaignID: campaign, UnitID: unit, Instruments: []string{"phq9"}, Consent: true, CreatedAt: s.clock.Now()}
	if _, err := s.store.CreateSession(ctx, sess); err != nil {
		s.t.Fatal(err)
	}
	rid := store.NewID()
	sub := store.Submission{SessionID: sess.ID, At: s.clock.Now(), Results: []store.Result{{ID: rid, Instrument: "phq9",
		Version: "1.1.0", Scores: map[string]float64{"total": total}, Bands: map[string]string{"total": "mild"}, Flags: flags}}}
	if level > 0 {
		sub.Warning = &store.WarningDraft{ID: store.NewID(), Key: sess.ID, Level: level, DueAt: s.clock.Now().Add(time.Hour),
			Reasons: []store.Reason{{ResultID: rid, Instrument: "phq9", Rule: "total", Level: level, Text: map[string]string{"zh-CN": "总分偏高"}}}}
	}
	if _, err := s.store.Submit(ctx, sub); err != nil {
		s.t.Fatal(err)
	}
	return rid
}

func (s *server) activeCampaign(unit string) string {
	s.t.Helper()
	ctx := context.Background()
	now := s.clock.Now()
	cp, err := s.store.CreateCampaign(ctx, store.Campaign{ID: store.NewID(), Name: "普测", UnitID: unit, UnitIDs: []string{unit}, Battery: []string{"phq9"},
		Mode: "roster", Visibility: "thanks", StartsAt: now.Add(-time.Hour), EndsAt: now.Add(60 * 24 * time.Hour), CreatedBy: "x", CreatedAt: now, UpdatedAt: now})
	if err != nil {
		s.t.Fatal(err)
	}
	if _, err := s.store.SetCampaignState(ctx, cp.ID, store.CampaignActive, now); err != nil {
		s.t.Fatal(err)
	}
	return cp.ID
}

// Conferences and parent meetings: recorded on a person's record and
// case, validated, scoped (another school's psychologist gets 404, a
// teacher 403), audited on write and read, on the record's timeline,
// and counted in the monthly table.
func TestMeetingsThroughHTTP(t *testing.T) {
	t.Parallel()
	o := newQueueOrg(t)
	s := o.s
	ctx := context.Background()
	p := s.person("schoolA")
	w := s.wave(p, "schoolA", map[string]float64{"phq9": 20}, 1)
	c, err := s.store.CreateCase(ctx, store.Case{ID: store.NewID(), PersonID: p, WarningID: w, UnitID: "schoolA", CounsellorID: "x", At: s.clock.Now(), CreatedAt: s.clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
	s.clock.Add(time.Hour)
	conf := map[string]any{"kind": "conference", "person_id": p, "case_id": c.ID, "attendees": "班主任、心理老师、分管校长",
		"decision": "parent_meeting", "agreed": "本周内约谈家长", "notes": "近两周失眠"}
	r := o.psychA.do("POST", "/api/v1/meetings", conf)
	if r.status != 201 {
		t.Fatalf("create conference: %d %s", r.status, r.raw)
	}
	confID := field(r, "meeting", "id").(string)
	if field(r, "meeting", "warning_id") != w || field(r, "meeting", "attendees") != "班主任、心理老师、分管校长" {
		t.Fatalf("conference: %s", r.raw)
	}
	s.clock.Add(time.Minute)
	if r := o.psychA.do("POST", "/api/v1/meetings", map[string]any{"kind": "parent", "person_id": p, "attendees": "母亲", "agreed": "周末去医院"}); r.status != 201 {
		t.Fatalf("create parent meeting: %d %s", r.status, r.raw)
	}

	// Bad input: a clear 400 naming the field.
	for _, bad := range []map[string]any{
		{"kind": "conference", "person_id": p, "attendees": "x"},                             // no decision
		{"kind": "conference", "person_id": p, "attendees": "x", "decision": "whatever"},     // unknown decision
		{"kind": "parent", "person_id": p, "attendees": "x", "decision": "monitor"},          // a parent meeting decides nothing
		{"kind": "visit", "person_id": p, "attendees": "x"},                                  // unknown kind
		{"kind": "parent", "person_id": p},                                                   // no attendees
		{"kind": "parent", "person_id": p, "attendees": "x", "date": "2099-01-01T00:00:00Z"}, // future
	} {
		if r := o.psychA.do("POST", "/api/v1/meetings", bad); r.status != 400 {
			t.Errorf("%v: %d %s", bad, r.status, r.raw)
		}
	}
	// Scope: another school's psychologist cannot write, list or read it;
	// a teacher is refused outright.
	if r := o.psychB.do("POST", "/api/v1/meetings", conf); r.status != 404 {
		t.Errorf("psychologist B writes: %d %s", r.status, r.raw)
	}
	if r := o.psychB.do("GET", "/api/v1/meetings/"+confID, nil); r.status != 404 {
		t.Errorf("psychologist B reads: %d %s", r.status, r.raw)
	}
	if r := o.psychB.do("GET", "/api/v1/meetings?person="+p, nil); r.status != 404 {
		t.Errorf("psychologist B lists: %d %s", r.status, r.raw)
	}
	if r := o.teacherA.do("GET", "/api/v1/meetings/"+confID, nil); r.status != 403 {
		t.Errorf("teacher reads: %d %s", r.status, r.raw)
	}
	// The case of another person is refused.
	other := s.person("schoolA")
	if r := o.psychA.do("POST", "/api/v1/meetings", map[string]any{"kind": "parent", "person_id": other, "case_id": c.ID, "attendees": "x"}); r.status != 400 {
		t.Errorf("another person's case: %d %s", r.status, r.raw)
	}

	if r := o.psychA.do("GET", "/api/v1/meetings/"+confID, nil); r.status != 200 || field(r, "meeting", "decision") != "parent_meeting" {
		t.Fatalf("read: %d %s", r.status, r.raw)
	}
	if r := o.counsellor.do("GET", "/api/v1/meetings?person="+p+"&kind=parent", nil); r.status != 200 || len(r.body["meetings"].([]any)) != 1 {
		t.Fatalf("county lists parent meetings: %d %s", r.status, r.raw)
	}
	if n := len(s.audits("meeting_create")); n != 2 {
		t.Errorf("%d meeting_create audit lines, want 2", n)
	}
	if n := len(s.audits("read_meeting")); n != 1 {
		t.Errorf("%d read_meeting audit lines, want 1", n)
	}
	if n := len(s.audits("list_meetings")); n != 1 {
		t.Errorf("%d list_meetings audit lines, want 1", n)
	}

	// The record shows them, and its timeline runs result → entry →
	// case → conference → parent meeting.
	r = o.psychA.do("GET", "/api/v1/persons/"+p, nil)
	if r.status != 200 || len(r.body["meetings"].([]any)) != 2 {
		t.Fatalf("record: %d %s", r.status, r.raw)
	}
	var kinds []string
	for _, e := range r.body["timeline"].([]any) {
		kinds = append(kinds, e.(map[string]any)["kind"].(string))
	}
	if got := strings.Join(kinds, ","); got != "result,warning,case,conference,parent_meeting" {
		t.Fatalf("timeline %s", got)
	}

	// The monthly table counts them beside the counselling sessions.
	month := s.clock.Now().In(time.FixedZone("CST", 8*3600)).Format("2006-01")
	r = o.admin.do("GET", "/api/v1/stats/monthly?unit=city&month="+month, nil)
	if r.status != 200 {
		t.Fatalf("monthly: %d %s", r.status, r.raw)
	}
	if field(r, "total", "conferences") != 1.0 || field(r, "total", "parent_meetings") != 1.0 {
		t.Fatalf("monthly total: %v", field(r, "total"))
	}
}

// The person record's labels come from the instrument document in the
// requested locale, and an invalid result is marked, not hidden.
func TestPersonRecordLabelsAndInvalidResults(t *testing.T) {
	t.Parallel()
	o := newQueueOrg(t)
	s := o.s
	p := s.person("schoolA")
	cp := s.activeCampaign("schoolA")
	bad := s.campaignResult(p, "schoolA", cp, []string{"too_fast"})
	r := o.psychA.do("GET", "/api/v1/persons/"+p+"?locale=zh-CN", nil)
	if r.status != 200 {
		t.Fatal(r.raw)
	}
	res := r.body["results"].([]any)
	if len(res) != 1 || res[0].(map[string]any)["id"] != bad || res[0].(map[string]any)["invalid"] != true {
		t.Fatalf("results %v", res)
	}
	if got := field(r, "labels", "phq9", "scores").(map[string]any)["total"]; got != "总分" {
		t.Fatalf("zh-CN score label %v", got)
	}
	if got := field(r, "labels", "phq9", "bands").(map[string]any)["total"].(map[string]any)["mild"]; got == "" || got == "mild" {
		t.Fatalf("zh-CN band label %v", got)
	}
	r = o.psychA.do("GET", "/api/v1/persons/"+p+"?locale=en", nil)
	if got := field(r, "labels", "phq9", "scores").(map[string]any)["total"]; got != "Total score" {
		t.Fatalf("en score label %v", got)
	}
}

// Retakes: only for an invalid campaign result, only after the cooling
// off, only in scope; the code opens the same campaign, is issued once,
// audited, and shows on the timeline.
func TestRetakeThroughHTTP(t *testing.T) {
	t.Parallel()
	o := newQueueOrg(t)
	s := o.s
	p := s.person("schoolA")
	cp := s.activeCampaign("schoolA")
	bad := s.campaignResult(p, "schoolA", cp, []string{"too_fast"})
	good := s.campaignResult(p, "schoolA", cp, nil)
	self := s.campaignResult(p, "schoolA", "", []string{"too_fast"})

	code := func(r response) string {
		e, _ := r.body["error"].(map[string]any)
		c, _ := e["code"].(string)
		return c
	}
	if r := o.psychA.do("POST", "/api/v1/results/"+bad+"/retake", nil); r.status != 409 || code(r) != "retake_too_early" {
		t.Fatalf("too early: %d %s", r.status, r.raw)
	}
	s.clock.Add(25 * time.Hour)
	for login, c := range map[string]*console{"psych-a": o.psychA, "psych-b": o.psychB, "teacher-a": o.teacherA} {
		if r := c.login(login, "a-long-new-secret"); r.status != 200 {
			t.Fatal(r.raw)
		}
	}
	if r := o.psychA.do("POST", "/api/v1/results/"+good+"/retake", nil); r.status != 409 || code(r) != "result_valid" {
		t.Fatalf("valid result: %d %s", r.status, r.raw)
	}
	if r := o.psychA.do("POST", "/api/v1/results/"+self+"/retake", nil); r.status != 409 || code(r) != "retake_not_possible" {
		t.Fatalf("self-test: %d %s", r.status, r.raw)
	}
	if r := o.psychB.do("POST", "/api/v1/results/"+bad+"/retake", nil); r.status != 404 {
		t.Fatalf("another school: %d %s", r.status, r.raw)
	}
	if r := o.teacherA.do("POST", "/api/v1/results/"+bad+"/retake", nil); r.status != 403 {
		t.Fatalf("teacher: %d %s", r.status, r.raw)
	}
	if r := o.psychA.do("POST", "/api/v1/results/nope/retake", nil); r.status != 404 {
		t.Fatalf("unknown: %d %s", r.status, r.raw)
	}
	r := o.psychA.do("POST", "/api/v1/results/"+bad+"/retake", nil)
	if r.status != 201 {
		t.Fatalf("retake: %d %s", r.status, r.raw)
	}
	c := field(r, "retake", "code").(string)
	if field(r, "retake", "campaign_id") != cp || field(r, "retake", "result_id") != bad || len(c) != 8 {
		t.Fatalf("retake %s", r.raw)
	}
	again := o.psychA.do("POST", "/api/v1/results/"+bad+"/retake", nil)
	if again.status != 200 || field(again, "retake", "code") != c || field(again, "retake", "existing") != true {
		t.Fatalf("second ask: %d %s", again.status, again.raw)
	}
	if n := len(s.audits("retake_issue")); n != 1 {
		t.Fatalf("%d retake_issue audit lines, want 1", n)
	}
	// The code opens the campaign for the pupil.
	ac, err := s.store.GetAccessCode(context.Background(), c)
	if err != nil || ac.PersonID != p || ac.CampaignID != cp || ac.RetakeOf != bad {
		t.Fatalf("stored code %+v, %v", ac, err)
	}
	rec := o.psychA.do("GET", "/api/v1/persons/"+p, nil)
	if !strings.Contains(rec.raw, `"kind":"retake"`) || len(rec.body["retakes"].([]any)) != 1 {
		t.Fatalf("record: %s", rec.raw)
	}
}

// A follow-up screening of a campaign's focus list: only the pupils with
// a warning get a code, it opens a month later, and each follow-up result
// is compared with the first by reliable change, through the campaign's
// comparison and on the person's record. Scoped and audited.
func TestFollowUpCampaignThroughHTTP(t *testing.T) {
	t.Parallel()
	o := newQueueOrg(t)
	s := o.s
	ctx := context.Background()
	flaggedPupil, calmPupil := s.person("schoolA"), s.person("schoolA")
	cp := s.activeCampaign("schoolA")
	first := s.campaignWave(flaggedPupil, "schoolA", cp, 20, nil, 2)
	s.campaignWave(calmPupil, "schoolA", cp, 3, nil, 0)

	if r := o.psychB.do("POST", "/api/v1/campaigns/"+cp+"/follow-up", map[string]any{}); r.status != 404 {
		t.Fatalf("another school: %d %s", r.status, r.raw)
	}
	if r := o.teacherA.do("POST", "/api/v1/campaigns/"+cp+"/follow-up", map[string]any{}); r.status != 403 {
		t.Fatalf("teacher: %d %s", r.status, r.raw)
	}
	if r := o.psychA.do("POST", "/api/v1/campaigns/"+cp+"/follow-up", map[string]any{"person_ids": []string{calmPupil}}); r.status != 400 {
		t.Fatalf("a pupil off the focus list: %d %s", r.status, r.raw)
	}
	r := o.psychA.do("POST", "/api/v1/campaigns/"+cp+"/follow-up", map[string]any{})
	if r.status != 201 || field(r, "persons") != 1.0 || field(r, "campaign", "follow_up_of") != cp || field(r, "campaign", "state") != "active" {
		t.Fatalf("follow-up: %d %s", r.status, r.raw)
	}
	follow := field(r, "campaign", "id").(string)
	starts, _ := time.Parse(time.RFC3339, field(r, "campaign", "starts_at").(string))
	if d := starts.Sub(s.clock.Now()); d < 29*24*time.Hour || d > 31*24*time.Hour {
		t.Fatalf("opens in %s, want about a month", d)
	}
	codes, _, err := s.store.ListAccessCodes(ctx, follow, store.Page{Limit: 10})
	if err != nil || len(codes) != 1 || codes[0].PersonID != flaggedPupil {
		t.Fatalf("codes %+v, %v", codes, err)
	}
	// The whole roster is not re-coded.
	if r := o.psychA.do("POST", "/api/v1/campaigns/"+follow+"/personal-codes", nil); r.status >= 300 {
		t.Fatalf("personal codes: %d %s", r.status, r.raw)
	}
	if codes, _, _ := s.store.ListAccessCodes(ctx, follow, store.Page{Limit: 10}); len(codes) != 1 {
		t.Fatalf("personal codes gave the follow-up %d codes", len(codes))
	}

	s.clock.Add(31 * 24 * time.Hour)
	for login, c := range map[string]*console{"psych-a": o.psychA, "psych-b": o.psychB, "teacher-a": o.teacherA} {
		if r := c.login(login, "a-long-new-secret"); r.status != 200 {
			t.Fatal(r.raw)
		}
	}
	second := s.campaignWave(flaggedPupil, "schoolA", follow, 6, nil, 0)
	r = o.psychA.do("GET", "/api/v1/campaigns/"+follow+"/comparison", nil)
	if r.status != 200 {
		t.Fatalf("comparison: %d %s", r.status, r.raw)
	}
	list := r.body["comparisons"].([]any)
	if len(list) != 1 {
		t.Fatalf("comparisons %s", r.raw)
	}
	c := list[0].(map[string]any)
	if c["person_id"] != flaggedPupil || c["first_result"] != first || c["follow_up_result"] != second || c["delta"] != -14.0 ||
		c["trend"] != "improved" || c["rci"] == nil || c["statistics_source"] == "" {
		t.Fatalf("comparison %v", c)
	}
	if r := o.psychB.do("GET", "/api/v1/campaigns/"+follow+"/comparison", nil); r.status != 404 {
		t.Fatalf("another school reads: %d %s", r.status, r.raw)
	}
	if r := o.teacherA.do("GET", "/api/v1/campaigns/"+follow+"/comparison", nil); r.status != 403 {
		t.Fatalf("teacher reads: %d %s", r.status, r.raw)
	}
	if r := o.psychA.do("GET", "/api/v1/campaigns/"+cp+"/comparison", nil); r.status != 400 {
		t.Fatalf("not a follow-up: %d %s", r.status, r.raw)
	}
	if len(s.audits("campaign_follow_up")) != 1 || len(s.audits("read_follow_up")) != 1 {
		t.Fatalf("audit: %d follow-up, %d reads", len(s.audits("campaign_follow_up")), len(s.audits("read_follow_up")))
	}
	rec := o.psychA.do("GET", "/api/v1/persons/"+flaggedPupil, nil)
	fu, _ := rec.body["follow_ups"].([]any)
	if rec.status != 200 || len(fu) != 1 || fu[0].(map[string]any)["trend"] != "improved" {
		t.Fatalf("record follow-ups: %s", rec.raw)
	}
}
