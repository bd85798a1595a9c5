package api_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"testing"
	"time"

	"xinling/assess"
	"xinling/store"
)

func TestCampaignLifecycleAndClassCodes(t *testing.T) {
	o := newQueueOrg(t)
	s := o.s
	ctx := context.Background()
	for _, u := range []store.Unit{{ID: "a7", ParentID: "schoolA", Kind: "grade"}, {ID: "a7-1", ParentID: "a7", Kind: "class"}, {ID: "a7-2", ParentID: "a7", Kind: "class"}} {
		if _, err := s.store.CreateUnit(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	now := s.clock.Now()
	body := map[string]any{"name": "秋季心理筛查", "unit_id": "schoolA", "unit_ids": []string{"a7-1", "a7-2"}, "battery": []string{"phq9", "gad7", "asq"},
		"mode": "open", "starts_at": now.Format(time.RFC3339), "ends_at": now.Add(7 * 24 * time.Hour).Format(time.RFC3339)}
	r := o.psychA.do("POST", "/api/v1/campaigns", body)
	if r.status != 201 {
		t.Fatal(r.raw)
	}
	cp := r.body["campaign"].(map[string]any)
	if cp["visibility"] != "thanks" || cp["state"] != "draft" {
		t.Fatalf("defaults: %s", r.raw)
	}
	id := cp["id"].(string)
	// Bad campaigns are refused with the field at fault.
	for field, change := range map[string]map[string]any{
		"unit_ids": {"unit_ids": []string{"schoolB"}},
		"battery":  {"battery": []string{"phq10"}},
		"ends_at":  {"ends_at": now.Add(-time.Hour).Format(time.RFC3339)},
		"mode":     {"mode": "closed"},
	} {
		bad := map[string]any{}
		for k, v := range body {
			bad[k] = v
		}
		for k, v := range change {
			bad[k] = v
		}
		if r := o.psychA.do("POST", "/api/v1/campaigns", bad); r.status < 400 || r.status >= 500 || r.body["error"].(map[string]any)["field"] != field {
			t.Errorf("%s: %s", field, r.raw)
		}
	}
	// School B's psychologist, the teacher and the counsellor's roles.
	o.psychB.do("GET", "/api/v1/campaigns/"+id, nil).expectError(t, 404, "not_found")
	o.teacherA.do("POST", "/api/v1/campaigns", body).expectError(t, 403, "forbidden")

	r = o.psychA.do("POST", "/api/v1/campaigns/"+id+"/class-codes", nil)
	codes := r.body["codes"].([]any)
	if r.status != 200 || len(codes) != 2 {
		t.Fatal(r.raw)
	}
	code := codes[0].(map[string]any)["code"].(string)
	if !regexp.MustCompile(`^[2-9A-HJKMNP-Z]{8}$`).MatchString(code) {
		t.Fatalf("code %q uses an ambiguous or wrong alphabet", code)
	}
	// A code opens nothing before the campaign is active, nor after it closes.
	campaigns := s.campaigns
	if _, err := campaigns.Open(ctx, code); errCode(err) != "campaign_closed" {
		t.Fatalf("draft campaign opened: %v", err)
	}
	if r := o.psychA.do("POST", "/api/v1/campaigns/"+id+"/activate", nil); r.status != 200 {
		t.Fatal(r.raw)
	}
	if e, err := campaigns.Open(ctx, " "+code[:4]+" "+code[4:]+" "); err != nil || e.Code.UnitID == "" {
		t.Fatalf("active campaign, code typed with spaces: %v", err)
	}
	if _, err := campaigns.Open(ctx, "ZZZZZZZZ"); errCode(err) != "code_unknown" {
		t.Fatalf("unknown code: %v", err)
	}
	o.psychA.do("POST", "/api/v1/campaigns/"+id+"/close", nil)
	if _, err := campaigns.Open(ctx, code); errCode(err) != "campaign_closed" {
		t.Fatalf("closed campaign opened: %v", err)
	}
	o.psychA.do("POST", "/api/v1/campaigns/"+id+"/activate", nil).expectError(t, 409, "conflict")
}

func errCode(err error) string {
	var e *assess.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return fmt.Sprint(err)
}
