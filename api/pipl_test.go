//go:build !fuzzdecode

package api_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"xinling/store"
)

// piplPerson files, for one rostered pupil of school A, a fact in every
// area an export must cover, and returns the person's id.
func piplPerson(t *testing.T, o *queueOrg) string {
	t.Helper()
	s, ctx := o.s, context.Background()
	p, err := s.store.CreatePerson(ctx, store.Person{ID: store.NewID(), UnitID: "schoolA", SchoolID: "schoolA", StudentNoIndex: "idx-20260101",
		Name: store.Sealed("李四"), Phone: store.Sealed("13800000000"), StudentNo: store.Sealed("20260101"), Sex: "m", BirthMonth: "2011-03", CreatedAt: s.clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.store.LinkIdentity(ctx, store.IdentityDevice, "device-hash", p.ID, s.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.store.CreateCampaign(ctx, store.Campaign{ID: "cp1", Name: "秋季筛查", UnitID: "schoolA", UnitIDs: []string{"schoolA"}, Battery: []string{"phq9"},
		Mode: "roster", Visibility: "thanks", State: store.CampaignActive, StartsAt: s.clock.Now().Add(-time.Hour), EndsAt: s.clock.Now().Add(24 * time.Hour), CreatedAt: s.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := s.store.CreateAccessCodes(ctx, []store.AccessCode{{Code: "PIPLCODE", CampaignID: "cp1", PersonID: p.ID, UnitID: "schoolA", CreatedAt: s.clock.Now()}}); err != nil {
		t.Fatal(err)
	}
	sess := store.Session{ID: store.NewID(), TokenHash: []byte("t"), PersonID: p.ID, CampaignID: "cp1", UnitID: "schoolA", Instruments: []string{"phq9"}, Consent: true, CreatedAt: s.clock.Now()}
	if _, err := s.store.CreateSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	if _, err := s.store.SaveAnswer(ctx, store.Answer{SessionID: sess.ID, Item: "phq9.q9", Value: 2, Seq: 1, At: s.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	rid := store.NewID()
	out, err := s.store.Submit(ctx, store.Submission{SessionID: sess.ID, At: s.clock.Now(),
		Results: []store.Result{{ID: rid, Instrument: "phq9", Version: "1.0.0", Scores: map[string]float64{"total": 17}, Bands: map[string]string{"total": "moderately_severe"}, Payload: []byte(`{"complete":true}`)}},
		Warning: &store.WarningDraft{ID: store.NewID(), Key: sess.ID, Level: 1, DueAt: s.clock.Now().Add(time.Hour),
			Reasons: []store.Reason{{ResultID: rid, Instrument: "phq9", Rule: "item9", Level: 1, Text: map[string]string{"zh-CN": "第 9 题阳性"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	o.psychA.claim(out.Warning.ID)
	if _, err := s.store.TransitionWarning(ctx, out.Warning.ID, store.WarningChange{ActorID: o.psychA.id(), To: store.WarningFollowingUp,
		Note: "已电话联系家长", At: s.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	if r := o.psychA.do("POST", "/api/v1/cases", map[string]any{"person_id": p.ID, "warning_id": out.Warning.ID, "self_evaluation": "最近睡不好",
		"group_notified": false}); r.status != 201 {
		t.Fatalf("case: %s", r.raw)
	}
	if r := o.psychA.do("POST", "/api/v1/warnings/"+out.Warning.ID+"/refer", map[string]any{"to_unit_id": "county", "note": "请县中心评估"}); r.status != 201 {
		t.Fatalf("refer: %s", r.raw)
	}
	if r := o.admin.do("GET", "/api/v1/persons/"+p.ID, nil); r.status != 200 {
		t.Fatalf("record: %s", r.raw)
	}
	return p.ID
}

func TestPersonExportHoldsEveryArea(t *testing.T) {
	t.Parallel()
	o := newQueueOrg(t)
	id := piplPerson(t, o)
	adminB := o.s.staffOf("admin-b", store.RoleAdmin, "schoolB")

	o.psychA.do("GET", "/api/v1/persons/"+id+"/export", nil).expectError(t, 403, "forbidden")
	o.counsellor.do("GET", "/api/v1/persons/"+id+"/export", nil).expectError(t, 403, "forbidden")
	adminB.do("GET", "/api/v1/persons/"+id+"/export", nil).expectError(t, 404, "not_found")
	o.admin.do("GET", "/api/v1/persons/nobody/export", nil).expectError(t, 404, "not_found")

	r := o.admin.do("GET", "/api/v1/persons/"+id+"/export", nil)
	if r.status != 200 {
		t.Fatal(r.raw)
	}
	first := func(key string) map[string]any {
		items, _ := r.body[key].([]any)
		if len(items) == 0 {
			t.Fatalf("export has no %s: %s", key, r.raw)
		}
		return items[0].(map[string]any)
	}
	sess := first("sessions")
	answer := sess["answers"].([]any)[0].(map[string]any)
	result := sess["results"].([]any)[0].(map[string]any)
	warning := first("warnings")
	for what, ok := range map[string]bool{
		"format":          r.body["format"] == "xinling.person-export/1",
		"name":            field(r, "person", "name") == "李四",
		"phone":           field(r, "person", "phone") == "13800000000",
		"student number":  field(r, "person", "student_no") == "20260101",
		"birth month":     field(r, "person", "birth_month") == "2011-03",
		"roster":          field(r, "roster", "school_id") == "schoolA",
		"identity link":   first("identity_links")["kind"] == "device",
		"access code":     first("access_codes")["code"] == "PIPLCODE",
		"answer":          answer["item"] == "phq9.q9" && answer["value"] == 2.0,
		"result":          result["scores"].(map[string]any)["total"] == 17.0 && result["detail"] != nil,
		"warning":         warning["level"] == 1.0 && strings.Contains(r.raw, "第 9 题阳性"),
		"warning history": strings.Contains(r.raw, "已电话联系家长"),
		"case":            first("cases")["self_evaluation"] == "最近睡不好",
		"referral":        first("referrals")["note"] == "请县中心评估",
		"audit":           strings.Contains(r.raw, `"action":"read_person"`) && strings.Contains(r.raw, `"action":"case_create"`) && strings.Contains(r.raw, `"action":"refer"`),
	} {
		if !ok {
			t.Errorf("export lacks the %s: %s", what, r.raw)
		}
	}
	if got := o.s.audits("export_person"); len(got) != 1 || got[0].TargetID != id {
		t.Fatalf("export audit: %+v", got)
	}
}

func TestAnonymiseKeepsStatisticsAndIsAudited(t *testing.T) {
	t.Parallel()
	o := newQueueOrg(t)
	id := piplPerson(t, o)
	adminB := o.s.staffOf("admin-b", store.RoleAdmin, "schoolB")
	figures := func() []map[string]any {
		t.Helper()
		var out []map[string]any
		for _, path := range []string{"/api/v1/stats/monthly?unit=city&month=2026-11", "/api/v1/units/city/summary", "/api/v1/units/schoolA/summary"} {
			r := o.admin.do("GET", path, nil)
			if r.status != 200 {
				t.Fatalf("%s: %s", path, r.raw)
			}
			out = append(out, r.body)
		}
		return out
	}
	before := figures()
	path := "/api/v1/persons/" + id + "/anonymise"
	ok := map[string]any{"reason": "本人书面申请删除（PIPL 第47条）", "confirm": id}
	o.psychA.do("POST", path, ok).expectError(t, 403, "forbidden")
	adminB.do("POST", path, ok).expectError(t, 404, "not_found")
	o.admin.do("POST", path, map[string]any{"confirm": id}).expectError(t, 400, "validation_failed")
	o.admin.do("POST", path, map[string]any{"reason": "x", "confirm": "someone-else"}).expectError(t, 400, "validation_failed")
	o.admin.do("POST", path, map[string]any{"reason": "x", "confirm": id, "mode": "shred"}).expectError(t, 400, "validation_failed")

	r := o.admin.do("POST", path, ok)
	if r.status != 200 || field(r, "person", "anonymised") != true || field(r, "removed", "access_codes") != 1.0 ||
		field(r, "removed", "identity_links") != 1.0 || field(r, "removed", "case_texts") != 1.0 || field(r, "removed", "answers") != 0.0 {
		t.Fatalf("anonymise: %d %s", r.status, r.raw)
	}
	if after := figures(); !reflect.DeepEqual(before, after) {
		t.Fatalf("statistics changed by anonymising:\n before %v\n after  %v", before, after)
	}
	rec := o.admin.do("GET", "/api/v1/persons/"+id, nil)
	if field(rec, "person", "anonymised") != true || len(field(rec, "person", "identifiers").(map[string]any)) != 0 ||
		field(rec, "person", "birth_month") != nil || len(rec.body["results"].([]any)) != 1 {
		t.Fatalf("record after anonymising: %s", rec.raw)
	}
	o.admin.do("POST", path, ok).expectError(t, 409, "conflict")
	// The personal code no longer leads to the pupil's session.
	if c := o.s.do("POST", "/api/v1/sessions", "", map[string]any{"code": "PIPLCODE", "consent": true}); c.status != 404 {
		t.Fatalf("erased access code still opens a session: %s", c.raw)
	}

	del := map[string]any{"reason": "本人要求删除作答记录", "confirm": id, "mode": "delete"}
	if r := o.admin.do("POST", path, del); r.status != 200 || field(r, "removed", "answers") != 1.0 {
		t.Fatalf("delete: %s", r.raw)
	}
	if r := o.admin.do("POST", path, del); r.status != 200 || field(r, "removed", "answers") != 0.0 {
		t.Fatalf("repeated delete: %s", r.raw)
	}
	if after := figures(); !reflect.DeepEqual(before, after) {
		t.Fatalf("statistics changed by deleting:\n before %v\n after  %v", before, after)
	}
	exp := o.admin.do("GET", "/api/v1/persons/"+id+"/export", nil)
	for _, gone := range []string{"李四", "13800000000", "20260101", "2011-03", "最近睡不好", "请县中心评估", "已电话联系家长", "PIPLCODE", "phq9.q9\""} {
		if strings.Contains(exp.raw, gone) {
			t.Errorf("export after erasure still holds %q: %s", gone, exp.raw)
		}
	}
	if !strings.Contains(exp.raw, `"total":17`) {
		t.Errorf("erasure removed the scored result: %s", exp.raw)
	}
	anon, deleted := o.s.audits("person_anonymise"), o.s.audits("person_delete")
	if len(anon) != 1 || anon[0].TargetID != id || anon[0].Detail != ok["reason"] || anon[0].ActorID != o.admin.id() || len(deleted) != 2 {
		t.Fatalf("erasure audit: %+v %+v", anon, deleted)
	}
}
