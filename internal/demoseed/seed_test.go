package demoseed_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"xinling/assess"
	"xinling/internal/demoseed"
	"xinling/store"
	"xinling/store/sealed"
	"xinling/store/sqlite"
	"xinling/store/storetest"
)

// now is a Thursday: the screening is Monday to Wednesday of the week before.
var now = time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)

// seeded opens a store like `xinling demo`'s (sealed SQLite), gives it a
// county centre and a school with their accounts, and seeds the school.
func seeded(t *testing.T) (store.Store, *demoseed.Summary, demoseed.Options) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, t.TempDir(), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	st := sealed.Wrap(db, storetest.TestKeys(t, storetest.TestKeySpec))
	for _, u := range []store.Unit{
		{ID: "county", Kind: "county", Name: "示范区心理健康中心"},
		{ID: "street", ParentID: "county", Kind: "street", Name: "示范街道"},
		{ID: "station", ParentID: "street", Kind: "station", Name: "心灵驿站"},
		{ID: "school", ParentID: "county", Kind: "school", Name: "示范中学"},
	} {
		if _, err := st.CreateUnit(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	account := func(login string, role store.Role, unit string) store.Staff {
		s, err := st.CreateStaff(ctx, store.Staff{ID: store.NewID(), Login: login, Name: login, Role: role, UnitID: unit, CreatedAt: now})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	opt := demoseed.Options{SchoolID: "school", Now: now,
		Psychologist: account("psych", store.RoleSchoolPsychologist, "school"),
		Centre:       account("centre", store.RoleCounsellor, "county"),
		Station:      account("station", store.RoleCounsellor, "station")}
	lib, err := demoseed.Library()
	if err != nil {
		t.Fatal(err)
	}
	sum, err := demoseed.School(ctx, st, lib, opt)
	if err != nil {
		t.Fatal(err)
	}
	return st, sum, opt
}

func list[T any](t *testing.T, f func(store.Page) ([]T, string, error)) []T {
	t.Helper()
	var out []T
	pg := store.Page{Limit: store.MaxLimit}
	for {
		items, next, err := f(pg)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, items...)
		if next == "" {
			return out
		}
		pg.After = next
	}
}

// studentNumbers maps the school's person ids to their student numbers.
func studentNumbers(t *testing.T, st store.Store) map[string]string {
	t.Helper()
	number := map[string]string{}
	for _, p := range list(t, func(pg store.Page) ([]store.Person, string, error) {
		return st.ListPersons(context.Background(), store.PersonFilter{SchoolID: "school"}, pg)
	}) {
		number[p.ID] = string(p.StudentNo)
	}
	return number
}

// fingerprint is every stored result of the campaign keyed by student
// number, with its scores and bands, and each pupil's queue entry: what
// two runs of the seed must agree on, whatever ids the stores gave.
func fingerprint(t *testing.T, st store.Store, campaignID string) map[string]string {
	t.Helper()
	ctx := context.Background()
	number := studentNumbers(t, st)
	out := map[string]string{}
	for _, r := range list(t, func(pg store.Page) ([]store.Result, string, error) {
		return st.ListResults(ctx, store.ResultFilter{CampaignID: campaignID}, pg)
	}) {
		key := number[r.PersonID] + " " + r.Instrument
		out[key] = fmt.Sprint(r.Scores, r.Bands, r.Flags, r.CreatedAt.UTC())
	}
	for _, w := range list(t, func(pg store.Page) ([]store.Warning, string, error) {
		return st.ListWarnings(ctx, store.WarningFilter{UnitPath: "/county/school/"}, pg)
	}) {
		var rules []string
		for _, r := range w.Reasons {
			rules = append(rules, r.Instrument+"."+r.Rule)
		}
		sort.Strings(rules)
		out[number[w.PersonID]+" warning"] = fmt.Sprint(w.Level, w.State, w.Outcome, rules)
	}
	return out
}

// TestSchoolSeed seeds two stores: the first must have the school's
// shape, and the second the very same pupils, scores and queue.
func TestSchoolSeed(t *testing.T) {
	st, sum, opt := seeded(t)
	other, otherSum, _ := seeded(t)
	ctx := context.Background()

	if sum.Classes != 12 || sum.Pupils < 560 || sum.Pupils > 640 {
		t.Fatalf("%d pupils in %d classes, want about 600 in 12", sum.Pupils, sum.Classes)
	}
	units, err := st.ListUnits(ctx, "/county/school/")
	if err != nil {
		t.Fatal(err)
	}
	classes := 0
	for _, u := range units {
		if u.Kind == "class" {
			classes++
		}
	}
	people := list(t, func(pg store.Page) ([]store.Person, string, error) {
		return st.ListPersons(ctx, store.PersonFilter{SchoolID: "school"}, pg)
	})
	if classes != 12 || len(people) != sum.Pupils {
		t.Fatalf("store holds %d classes and %d pupils; the summary says %d and %d", classes, len(people), sum.Classes, sum.Pupils)
	}
	if sum.Absent == 0 || sum.Abandoned == 0 || sum.Submitted+sum.Absent+sum.Abandoned != sum.Pupils {
		t.Fatalf("participation %d submitted, %d absent, %d part-way of %d", sum.Submitted, sum.Absent, sum.Abandoned, sum.Pupils)
	}
	cp, err := st.GetCampaign(ctx, sum.CampaignID)
	// Still open for make-up sittings and retakes, though every sitting
	// of the seed was last week.
	if err != nil || cp.State != store.CampaignActive || !slices.Equal(cp.Battery, []string{"phq9", "gad7", "pss10"}) || !cp.EndsAt.After(now) {
		t.Fatalf("campaign %+v, %v: want an open PHQ-9 + GAD-7 + PSS-10 screening that ends after now", cp, err)
	}
	results := list(t, func(pg store.Page) ([]store.Result, string, error) {
		return st.ListResults(ctx, store.ResultFilter{CampaignID: cp.ID}, pg)
	})
	if len(results) != 3*sum.Submitted {
		t.Fatalf("%d results for %d submitted pupils", len(results), sum.Submitted)
	}
	moderate, item9 := 0, 0
	for _, r := range results {
		if r.CreatedAt.After(now) || r.CreatedAt.Before(cp.StartsAt) || r.CreatedAt.After(now.AddDate(0, 0, -7)) {
			t.Fatalf("result at %s, outside the screening window", r.CreatedAt)
		}
		if r.Instrument == "phq9" && r.Scores["total"] >= 10 {
			moderate++
		}
	}
	warnings := list(t, func(pg store.Page) ([]store.Warning, string, error) {
		return st.ListWarnings(ctx, store.WarningFilter{UnitPath: "/county/school/"}, pg)
	})
	for _, w := range warnings {
		for _, r := range w.Reasons {
			if r.Instrument == "phq9" && r.Rule == "item9" {
				item9++
			}
		}
	}
	if share := float64(moderate) / float64(sum.Submitted); share < 0.08 || share > 0.18 {
		t.Errorf("%.1f%% of pupils score 10 or more on the PHQ-9, want a realistic tail of about 10-15%%", 100*share)
	}
	if share := float64(item9) / float64(sum.Submitted); share < 0.01 || share > 0.08 {
		t.Errorf("%.1f%% positive on PHQ-9 item 9, want a few percent", 100*share)
	}
	for lvl := 1; lvl <= 3; lvl++ {
		if sum.Warnings[lvl] == 0 {
			t.Errorf("no level-%d warnings: %v", lvl, sum.Warnings)
		}
	}
	for _, s := range []store.WarningState{store.WarningOpen, store.WarningClaimed, store.WarningFollowingUp, store.WarningReferred, store.WarningClosed} {
		if sum.States[s] == 0 {
			t.Errorf("no %s entries: %v", s, sum.States)
		}
	}
	if len(warnings) != sum.Warnings[1]+sum.Warnings[2]+sum.Warnings[3] {
		t.Errorf("store holds %d entries; the summary counts %v", len(warnings), sum.Warnings)
	}
	// Every red entry was claimed: none is left open to escalate when the
	// server starts.
	for _, w := range warnings {
		if w.Level == 1 && w.State == store.WarningOpen {
			t.Errorf("level-1 entry %s left open", w.ID)
		}
	}

	cases := list(t, func(pg store.Page) ([]store.Case, string, error) {
		return st.ListCases(ctx, store.CaseFilter{UnitPath: "/county/school/"}, pg)
	})
	if len(cases) == 0 || len(cases) != len(sum.Cases) || string(cases[0].SelfEvaluation) == "" {
		t.Fatalf("cases %+v, summary %v", cases, sum.Cases)
	}
	refs := list(t, func(pg store.Page) ([]store.Referral, string, error) {
		return st.ListReferrals(ctx, store.ReferralFilter{ToUnitPath: "/county/"}, pg)
	})
	states := map[store.ReferralState]int{}
	for _, r := range refs {
		if !strings.HasPrefix(r.FromUnitPath, "/county/school/") || r.ToUnitID != opt.Centre.UnitID {
			t.Errorf("referral from %s to %s: want from the school to the county centre", r.FromUnitPath, r.ToUnitID)
		}
		states[r.State]++
	}
	if len(refs) != 2 || states[store.ReferralAccepted] != 1 || states[store.ReferralSent] != 1 {
		t.Errorf("referrals by state %v, want one accepted and one waiting", states)
	}
	if f := sum.Conference; f.PersonID == "" || f.WarningID == "" || f.CaseID == "" {
		t.Errorf("no pupil named for the case conference: %+v", f)
	}
	meetings, _, err := st.ListMeetings(ctx, store.MeetingFilter{PersonID: sum.Conference.PersonID}, store.Page{})
	if err != nil || len(meetings) != 2 || meetings[0].Kind != store.MeetingConference || meetings[0].Decision != store.DecisionReferral ||
		meetings[0].CaseID != sum.Conference.CaseID || meetings[1].Kind != store.MeetingParent || meetings[1].Date.After(time.Now()) {
		t.Errorf("the conference and parent meeting: %+v, %v", meetings, err)
	}
	acts := list(t, func(pg store.Page) ([]store.Activity, string, error) {
		return st.ListActivities(ctx, store.ActivityFilter{UnitPath: "/county/street/station/"}, pg)
	})
	if len(acts) == 0 {
		t.Error("the station's outreach was not recorded")
	}

	checkStress(t, results, warnings, sum)
	checkInvalid(t, st, sum, opt)

	// Once per store: a second run changes nothing.
	lib, _ := demoseed.Library()
	again, err := demoseed.School(ctx, st, lib, opt)
	if err != nil || !again.Skipped || again.CampaignID != sum.CampaignID {
		t.Fatalf("second seed: %+v, %v", again, err)
	}
	if n := len(list(t, func(pg store.Page) ([]store.Person, string, error) {
		return st.ListPersons(ctx, store.PersonFilter{SchoolID: "school"}, pg)
	})); n != sum.Pupils {
		t.Fatalf("%d pupils after the second run, want %d", n, sum.Pupils)
	}

	// Two stores seeded on the same day hold the same pupils with the same
	// scores, bands, times and queue entries.
	fa, fb := fingerprint(t, st, sum.CampaignID), fingerprint(t, other, otherSum.CampaignID)
	if len(fa) < 1000 {
		t.Fatalf("only %d fingerprint lines", len(fa))
	}
	if !maps.Equal(fa, fb) {
		for k, v := range fa {
			if fb[k] != v {
				t.Fatalf("%s: %s in one seed, %s in the other", k, v, fb[k])
			}
		}
		t.Fatalf("the seeds differ: %d and %d lines", len(fa), len(fb))
	}
	if sum.Warnings != otherSum.Warnings || !maps.Equal(sum.States, otherSum.States) {
		t.Fatalf("summaries differ: %+v and %+v", sum, otherSum)
	}
}

// checkStress: the PSS-10 spreads as a school's would, most pupils low or
// moderate and a few high, and each high total raised a yellow reason.
func checkStress(t *testing.T, results []store.Result, warnings []store.Warning, sum *demoseed.Summary) {
	t.Helper()
	bands := map[string]int{}
	high := map[string]bool{} // person ids
	for _, r := range results {
		if r.Instrument == "pss10" {
			bands[r.Bands["total"]]++
			if r.Bands["total"] == "high" {
				high[r.PersonID] = true
			}
		}
	}
	raised := map[string]bool{}
	for _, w := range warnings {
		for _, r := range w.Reasons {
			if r.Instrument == "pss10" {
				raised[w.PersonID] = true
				if r.Level != 3 {
					t.Errorf("a PSS-10 reason at level %d, want 3 (yellow)", r.Level)
				}
			}
		}
	}
	if !maps.Equal(high, raised) {
		t.Errorf("%d pupils with a high PSS-10 total, %d queue entries with a PSS-10 reason: want one for each", len(high), len(raised))
	}
	if n := bands["low"] + bands["moderate"] + bands["high"]; n != sum.Submitted {
		t.Fatalf("PSS-10 bands %v for %d submitted pupils", bands, sum.Submitted)
	}
	if share := float64(bands["high"]) / float64(sum.Submitted); bands["low"] < sum.Submitted/5 || share == 0 || share > 0.08 {
		t.Errorf("PSS-10 bands %v: want most pupils low or moderate and a few high", bands)
	}
}

// checkInvalid: exactly the straight-liners' PSS-10 results are flagged
// invalid (the PHQ-9 and GAD-7 have no validity checks, and careful pupils
// do not give one answer to ten questions worded both ways), the group
// report's invalid appendix names them, and the psychologist can give one
// of them a retake, the sitting being a week old and the campaign open.
func checkInvalid(t *testing.T, st store.Store, sum *demoseed.Summary, opt demoseed.Options) {
	t.Helper()
	ctx := context.Background()
	number := studentNumbers(t, st)
	straight := demoseed.StraightLiners(2026)
	if len(straight) == 0 || sum.Invalid != len(straight) || sum.Careless <= len(straight) {
		t.Fatalf("%d invalid results, %d straight-liners, %d careless pupils: want one invalid result per straight-liner, and hurried pupils besides",
			sum.Invalid, len(straight), sum.Careless)
	}
	flagged := map[string]string{} // student number → result id
	for _, r := range list(t, func(pg store.Page) ([]store.Result, string, error) {
		return st.ListResults(ctx, store.ResultFilter{CampaignID: sum.CampaignID}, pg)
	}) {
		no := number[r.PersonID]
		if invalid := assess.Invalid(r.Flags); invalid != (straight[no] && r.Instrument == "pss10") {
			t.Errorf("pupil %s's %s result: invalid %v (flags %v), straight-liner %v", no, r.Instrument, invalid, r.Flags, straight[no])
		} else if invalid {
			flagged[no] = r.ID
		}
	}
	if len(flagged) != len(straight) {
		t.Fatalf("%d straight-liners flagged of %d", len(flagged), len(straight))
	}

	lib, err := demoseed.Library()
	if err != nil {
		t.Fatal(err)
	}
	svc := assess.New(st, lib, assess.Options{Now: func() time.Time { return now }})
	psych := &assess.Principal{StaffID: opt.Psychologist.ID, Login: opt.Psychologist.Login, Role: opt.Psychologist.Role,
		UnitID: opt.Psychologist.UnitID, UnitPath: opt.Psychologist.UnitPath}
	rep, err := svc.Campaigns.GroupReport(ctx, psych, sum.CampaignID, "", "zh-CN", "")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Appendices == nil || len(rep.Appendices.Invalid) != len(straight) {
		t.Fatalf("the report's invalid appendix: %+v, want the %d straight-liners", rep.Appendices, len(straight))
	}
	for _, row := range rep.Appendices.Invalid {
		if !straight[number[row.PersonID]] || row.Instrument != "pss10" || len(row.Checks) != 1 || strings.Contains(row.Checks[0], "straight") {
			t.Errorf("invalid appendix row %+v: want a straight-liner's PSS-10, its check in words", row)
		}
	}
	if p := rep.Participation; p.Invalid == nil || *p.Invalid != len(straight) {
		t.Errorf("participation counts %v invalid, want %d", p.Invalid, len(straight))
	}

	no := slices.Sorted(maps.Keys(flagged))[0]
	rt, err := svc.Records.IssueRetake(ctx, psych, flagged[no], "")
	if err != nil || rt.Code == "" || rt.Existing || rt.CampaignID != sum.CampaignID {
		t.Fatalf("retake for pupil %s: %+v, %v", no, rt, err)
	}
}
