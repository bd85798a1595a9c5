//go:build !fuzzdecode

package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"xinling/api"
	"xinling/assess"
	"xinling/metrics"
	"xinling/store"
)

// doAs sends a request from c with its own X-Request-Id, so that the log
// lines it causes can be found.
func (c *console) doAs(requestID, method, path string, body any) response {
	c.s.t.Helper()
	var rd *strings.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		rd = strings.NewReader(string(data))
	} else {
		rd = strings.NewReader("")
	}
	req, _ := http.NewRequest(method, c.s.base+path, rd)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Request-Id", requestID)
	if c.csrf != "" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	return c.send(req)
}

// The audit policy for reads (assess.AuditDisclosure): while the audit log
// cannot be written, every endpoint that hands out personal data answers
// 503 audit_unavailable and holds none of it; once the log works again the
// same calls answer, and each is audited.
func TestAFailedAuditWithholdsEveryDisclosure(t *testing.T) {
	t.Parallel()
	o := newQueueOrg(t)
	s, ctx := o.s, context.Background()
	person := piplPerson(t, o) // 李四 of school A, in roster campaign cp1, with an entry, a case and a referral
	first := func(kind string, n int, err error) {
		t.Helper()
		if err != nil || n == 0 {
			t.Fatalf("no %s of the person: %v", kind, err)
		}
	}
	warnings, _, err := s.store.ListWarnings(ctx, store.WarningFilter{PersonID: person}, store.Page{})
	first("queue entry", len(warnings), err)
	cases, _, err := s.store.ListCases(ctx, store.CaseFilter{PersonID: person}, store.Page{})
	first("case", len(cases), err)
	refs, _, err := s.store.ListReferrals(ctx, store.ReferralFilter{PersonID: person}, store.Page{})
	first("referral", len(refs), err)

	reads := []struct {
		c            *console
		path, action string
	}{
		{o.admin, "/api/v1/persons/" + person, "read_person"},
		{o.admin, "/api/v1/persons/" + person + "/export", "export_person"},
		{o.psychA, "/api/v1/warnings/" + warnings[0].ID, "read_warning"},
		{o.psychA, "/api/v1/cases/" + cases[0].ID, "read_case"},
		{o.psychA, "/api/v1/cases?person=" + person, "list_cases"},
		{o.counsellor, "/api/v1/referrals/" + refs[0].ID, "read_referral"},
		{o.psychA, "/api/v1/campaigns/cp1/progress", "read_progress"},
		{o.psychA, "/api/v1/campaigns/cp1/progress.xlsx", "read_progress"},
		{o.psychA, "/api/v1/campaigns/cp1/report.xlsx", "export"},
		{o.psychA, "/api/v1/campaigns/cp1/codes.pdf", "export_codes"},
		{o.admin, "/api/v1/stats/monthly.xlsx?unit=county&month=2026-11", "export"},
	}
	s.audit.broken.Store(true)
	for _, r := range reads {
		got := r.c.do("GET", r.path, nil)
		got.expectError(t, 503, assess.CodeAuditUnavailable)
		for _, secret := range []string{"李四", "13800000000", "最近睡不好", "请县中心评估", "PIPLCODE"} {
			if strings.Contains(got.raw, secret) {
				t.Errorf("GET %s without its audit line sent %q: %s", r.path, secret, got.raw)
			}
		}
	}
	s.audit.broken.Store(false)
	for _, r := range reads {
		before := len(s.audits(r.action))
		if got := r.c.do("GET", r.path, nil); got.status != 200 {
			t.Errorf("GET %s with the audit log back: %d %s", r.path, got.status, got.raw)
		}
		if after := len(s.audits(r.action)); after <= before {
			t.Errorf("GET %s wrote no %s line", r.path, r.action)
		}
	}
}

// The audit policy for actions (assess.AuditAction): while the audit log
// cannot be written, what staff do is done and answered as usual, and
// each missing line is logged at ERROR with the request's id and counted;
// a withheld read is logged and counted too. The log holds no personal
// data from the request.
func TestAFailedAuditLeavesActionsDoneLoggedAndCounted(t *testing.T) {
	logs, withLog := captureLogs(t) // the process's default logger: not parallel
	const token = "scrape-token-0123456789"
	m := metrics.New()
	o := newQueueOrg(t, withLog, func(c *api.Config, a *assess.Options) {
		c.Metrics, c.MetricsToken = m.Handler(), token
		a.Observer = m
	})
	s, ctx := o.s, context.Background()
	for _, u := range []store.Unit{{ID: "a7", ParentID: "schoolA", Kind: "grade", Name: "七年级"}, {ID: "a7-1", ParentID: "a7", Kind: "class", Name: "七年级一班"}} {
		if _, err := s.store.CreateUnit(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	person := s.person("schoolA")

	s.audit.broken.Store(true)
	if r := o.psychA.doAs("claim-unaudited", "POST", "/api/v1/warnings/"+o.inA+"/claim", nil); r.status != 200 {
		t.Fatalf("claim: %s", r.raw)
	}
	if w, err := s.store.GetWarning(ctx, o.inA); err != nil || w.State != store.WarningClaimed {
		t.Fatalf("the claim did not stand: %+v %v", w, err)
	}
	r := o.psychA.doAs("case-unaudited", "POST", "/api/v1/cases", map[string]any{"person_id": person, "self_evaluation": "夜里总是醒来", "group_notified": false})
	if r.status != 201 {
		t.Fatalf("case: %s", r.raw)
	}
	if c, err := s.store.GetCase(ctx, field(r, "case", "id").(string)); err != nil || c.PersonID != person {
		t.Fatalf("the case did not stand: %+v %v", c, err)
	}
	roster := "学号,姓名,性别,出生年月,班级\n2024009,王小明,男,2012-03,七年级一班\n"
	if r := o.psychA.upload("/api/v1/units/schoolA/roster", "roster.csv", roster, nil); r.status != 200 || r.body["created"] != 1.0 {
		t.Fatalf("roster import: %d %s", r.status, r.raw)
	}
	if r := s.console().login("admin", "a-long-new-secret"); r.status != 200 {
		t.Fatalf("sign-in: %s", r.raw)
	}
	o.psychA.doAs("read-unaudited", "GET", "/api/v1/warnings/"+o.inA, nil).expectError(t, 503, assess.CodeAuditUnavailable)
	s.audit.broken.Store(false)

	got := scrape(t, s.base, token)
	if a, d := got[`xinling_audit_write_failures_total{kind="action"}`], got[`xinling_audit_write_failures_total{kind="disclosure"}`]; a != 4 || d != 1 {
		t.Errorf("audit write failures counted: action %v, disclosure %v; want 4 (claim, case, roster, sign-in) and 1", a, d)
	}
	found := map[string]map[string]any{}
	for _, l := range logs.lines(t) {
		if l["msg"] == "audit write failed" {
			if l["level"] != "ERROR" {
				t.Errorf("an audit failure logged at %v", l["level"])
			}
			if id, _ := l["request_id"].(string); id != "" {
				found[id] = l
			}
		}
	}
	for id, want := range map[string][3]string{
		"claim-unaudited": {"claim", assess.AuditAction, "done"},
		"case-unaudited":  {"case_create", assess.AuditAction, "done"},
		"read-unaudited":  {"read_warning", assess.AuditDisclosure, "withheld"},
	} {
		l := found[id]
		if l == nil || l["action"] != want[0] || l["kind"] != want[1] || l["outcome"] != want[2] {
			t.Errorf("request %s: log line %v; want action %s, kind %s, outcome %s", id, l, want[0], want[1], want[2])
		}
	}
	if l := found["claim-unaudited"]; l != nil && (l["target"] != o.inA || l["actor"] == "") {
		t.Errorf("the claim's line cannot be restored from the log: %v", l)
	}
	for _, secret := range []string{"夜里总是醒来", "王小明", sealedName} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log holds %q", secret)
		}
	}
}
