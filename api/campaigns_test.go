//go:build !fuzzdecode

package api_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
	"time"

	"xinling/assess"
	"xinling/store"
)

func TestCampaignLifecycleAndClassCodes(t *testing.T) {
	t.Parallel()
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

// campaignWith makes an active campaign over class a7-1 of school A.
func campaignWith(t *testing.T, o *queueOrg, mode, visibility string) string {
	t.Helper()
	ctx := context.Background()
	for _, u := range []store.Unit{{ID: "a7", ParentID: "schoolA", Kind: "grade"}, {ID: "a7-1", ParentID: "a7", Kind: "class"}} {
		if _, err := o.s.store.CreateUnit(ctx, u); err != nil && !errors.Is(err, store.ErrConflict) {
			t.Fatal(err)
		}
	}
	now := o.s.clock.Now()
	r := o.psychA.do("POST", "/api/v1/campaigns", map[string]any{"name": "筛查", "unit_id": "schoolA", "unit_ids": []string{"a7-1"},
		"battery": []string{"phq9", "asq"}, "mode": mode, "visibility": visibility,
		"starts_at": now.Format(time.RFC3339), "ends_at": now.Add(24 * time.Hour).Format(time.RFC3339)})
	if r.status != 201 {
		t.Fatal(r.raw)
	}
	id := r.body["campaign"].(map[string]any)["id"].(string)
	o.psychA.do("POST", "/api/v1/campaigns/"+id+"/activate", nil)
	return id
}

func TestClassCodeStartsAnAnonymousCampaignSession(t *testing.T) {
	t.Parallel()
	o := newQueueOrg(t)
	s := o.s
	id := campaignWith(t, o, "open", "thanks")
	code := o.psychA.do("POST", "/api/v1/campaigns/"+id+"/class-codes", nil).body["codes"].([]any)[0].(map[string]any)["code"].(string)
	r := s.do("POST", "/api/v1/sessions", "", map[string]any{"code": strings.ToLower(code), "consent": true})
	if r.status != 201 || len(r.body["items"].([]any)) != 13 {
		t.Fatalf("class code: %d %s", r.status, r.raw)
	}
	ss := session{id: r.body["id"].(string), token: r.body["token"].(string)}
	for _, it := range r.body["items"].([]any) {
		ss.items = append(ss.items, it.(map[string]any)["id"].(string))
	}
	s.answerAll(ss, 3, 3, 3, 3, 3, 3, 3, 3, 1, 0, 0, 0, 0)
	sub := s.do("POST", "/api/v1/sessions/"+ss.id+"/submit", ss.token, nil)
	res := sub.body["result"].(map[string]any)
	if sub.status != 200 || sub.body["visibility"] != "thanks" || sub.body["message"] == "" || len(res["instruments"].([]any)) != 0 || len(res["scores"].(map[string]any)) != 0 {
		t.Fatalf("a thanks-only campaign showed results: %s", sub.raw)
	}
	if sub.body["crisis"] == nil {
		t.Fatalf("the crisis block must show whatever the visibility: %s", sub.raw)
	}
	// The entry lands in the class's queue, where school A sees it.
	if r := o.psychA.do("GET", "/api/v1/warnings?level=1", nil); len(ids(r)) != 1 {
		t.Fatalf("school A's queue: %s", r.raw)
	}
	s.do("POST", "/api/v1/sessions", "", map[string]any{"code": "ZZZZ2222", "consent": true}).expectError(t, 404, "code_unknown")
	s.do("POST", "/api/v1/sessions", "", map[string]any{"code": code, "instrument": "phq9", "consent": true}).expectError(t, 400, "validation_failed")
}

func TestPersonalCodeResumesOnAnotherDevice(t *testing.T) {
	t.Parallel()
	o := newQueueOrg(t)
	s := o.s
	ctx := context.Background()
	id := campaignWith(t, o, "roster", "bands")
	p, err := s.store.CreatePerson(ctx, store.Person{ID: store.NewID(), UnitID: "a7-1", Sex: "f", BirthMonth: "2012-03", CreatedAt: s.clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.store.CreateAccessCodes(ctx, []store.AccessCode{{Code: "ABCD2345", CampaignID: id, PersonID: p.ID, UnitID: "a7-1", CreatedAt: s.clock.Now()}}); err != nil {
		t.Fatal(err)
	}
	first := s.do("POST", "/api/v1/sessions", "", map[string]any{"code": "ABCD2345", "consent": true})
	if first.status != 201 {
		t.Fatal(first.raw)
	}
	sid, tok1 := first.body["id"].(string), first.body["token"].(string)
	s.answer(session{id: sid, token: tok1}, "phq9.q1", 2, 1)
	// The same code on another device resumes the same session.
	second := s.do("POST", "/api/v1/sessions", "", map[string]any{"code": "ABCD2345", "consent": true})
	if second.status != 201 || second.body["id"] != sid || second.body["answers"].(map[string]any)["phq9.q1"] != 2.0 || second.body["next"] != "phq9.q2" {
		t.Fatalf("resume: %s", second.raw)
	}
	tok2 := second.body["token"].(string)
	s.do("GET", "/api/v1/sessions/"+sid, tok1, nil).expectError(t, 401, "token_invalid")
	if r := s.do("GET", "/api/v1/sessions/"+sid, tok2, nil); r.status != 200 {
		t.Fatal(r.raw)
	}
	// Closing the campaign stops answers at once for a cached session too,
	// after the recheck interval.
	o.psychA.do("POST", "/api/v1/campaigns/"+id+"/close", nil)
	s.clock.Add(time.Minute)
	s.answer(session{id: sid, token: tok2}, "phq9.q2", 1, 2).expectError(t, 410, "campaign_closed")
	s.do("POST", "/api/v1/sessions", "", map[string]any{"code": "ABCD2345", "consent": true}).expectError(t, 410, "campaign_closed")
}

func (c *console) upload(path, filename, content string, fields map[string]string) response {
	c.s.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", filename)
	fw.Write([]byte(content))
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	mw.Close()
	req, _ := http.NewRequest("POST", c.s.base+path, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("X-CSRF-Token", c.csrf)
	return c.send(req)
}

func TestRosterImportAndPersonalCodes(t *testing.T) {
	t.Parallel()
	o := newQueueOrg(t)
	id := campaignWith(t, o, "roster", "thanks") // creates class a7-1 under school A
	if _, err := o.s.store.RenameUnit(context.Background(), "a7-1", "七年级一班", "class"); err != nil {
		t.Fatal(err)
	}
	good := "学号,姓名,性别,出生年月,班级\n2024001,张三,男,2012-03,七年级一班\n2024002,李四,女,2012-07,七年级一班\n"
	bad := good + "2024002,王五,女,2012-01,七年级一班\n2024004,,男,2012-01,八年级\n"
	r := o.psychA.upload("/api/v1/units/schoolA/roster", "roster.csv", bad, nil)
	if r.status != 422 || r.body["error"].(map[string]any)["code"] != "roster_invalid" || len(r.body["problems"].([]any)) < 3 {
		t.Fatalf("bad roster: %d %s", r.status, r.raw)
	}
	if people, _, _ := o.s.store.ListPersons(context.Background(), store.PersonFilter{SchoolID: "schoolA"}, store.Page{}); len(people) != 0 {
		t.Fatalf("a rejected roster imported %d students", len(people))
	}
	if r := o.psychA.upload("/api/v1/units/schoolA/roster", "roster.csv", good, nil); r.status != 200 || r.body["created"] != 2.0 {
		t.Fatalf("good roster: %s", r.raw)
	}
	// Re-importing updates in place, keyed by student number.
	if r := o.psychA.upload("/api/v1/units/schoolA/roster", "roster.csv", strings.Replace(good, "李四", "李思", 1), nil); r.body["updated"] != 2.0 || r.body["created"] != 0.0 {
		t.Fatalf("re-import: %s", r.raw)
	}
	o.psychB.upload("/api/v1/units/schoolA/roster", "roster.csv", good, nil).expectError(t, 404, "not_found")
	o.teacherA.upload("/api/v1/units/schoolA/roster", "roster.csv", good, nil).expectError(t, 403, "forbidden")
	o.psychA.upload("/api/v1/units/schoolA/roster", "roster.pdf", "%PDF-1.4", nil).expectError(t, 415, "roster_format")

	codes := o.psychA.do("POST", "/api/v1/campaigns/"+id+"/personal-codes", nil).body["codes"].([]any)
	if len(codes) != 2 {
		t.Fatalf("%d personal codes for 2 students", len(codes))
	}
	if again := o.psychA.do("POST", "/api/v1/campaigns/"+id+"/personal-codes", nil); len(again.body["codes"].([]any)) != 0 {
		t.Fatalf("codes issued twice: %s", again.raw)
	}
	code := codes[0].(map[string]any)["code"].(string)
	if r := o.s.do("POST", "/api/v1/sessions", "", map[string]any{"code": code, "consent": true}); r.status != 201 {
		t.Fatalf("entering with a personal code: %s", r.raw)
	}
	// The printable slips: a PDF with the CJK font embedded and one QR code
	// per student; printing names is an audited export.
	req, _ := http.NewRequest("GET", o.s.base+"/api/v1/campaigns/"+id+"/codes.pdf", nil)
	pdf := o.psychA.send(req)
	if pdf.status != 200 || !strings.HasPrefix(pdf.raw, "%PDF-") || !strings.Contains(pdf.raw, "/FontFile2") || strings.Count(pdf.raw, "/Subtype /Image") != 2 {
		t.Fatalf("codes.pdf: %d, %d bytes", pdf.status, len(pdf.raw))
	}
	if entries, _, _ := o.s.store.ListAudit(context.Background(), store.AuditFilter{Action: "export_codes", TargetID: id}, store.Page{}); len(entries) != 1 {
		t.Fatalf("%d audit entries for one export", len(entries))
	}
	req, _ = http.NewRequest("GET", o.s.base+"/api/v1/campaigns/"+id+"/codes.pdf", nil)
	o.teacherA.send(req).expectError(t, 403, "forbidden")
}

func TestCampaignProgressAndReport(t *testing.T) {
	t.Parallel()
	o := newQueueOrg(t)
	id := campaignWith(t, o, "roster", "bands")
	if _, err := o.s.store.RenameUnit(context.Background(), "a7-1", "七年级一班", "class"); err != nil {
		t.Fatal(err)
	}
	roster := "学号,姓名,性别,出生年月,班级\n2024001,张三,男,2012-03,七年级一班\n2024002,李四,女,2012-07,七年级一班\n"
	if r := o.psychA.upload("/api/v1/units/schoolA/roster", "r.csv", roster, nil); r.status != 200 {
		t.Fatal(r.raw)
	}
	codes := o.psychA.do("POST", "/api/v1/campaigns/"+id+"/personal-codes", nil).body["codes"].([]any)
	// One student finishes (PHQ-9 and ASQ all "no"), the other never starts.
	r := o.s.do("POST", "/api/v1/sessions", "", map[string]any{"code": codes[0].(map[string]any)["code"], "consent": true})
	ss := session{id: r.body["id"].(string), token: r.body["token"].(string)}
	for _, it := range r.body["items"].([]any) {
		ss.items = append(ss.items, it.(map[string]any)["id"].(string))
	}
	o.s.answerAll(ss, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0)
	if sub := o.s.do("POST", "/api/v1/sessions/"+ss.id+"/submit", ss.token, nil); sub.status != 200 {
		t.Fatal(sub.raw)
	}
	pr := o.psychA.do("GET", "/api/v1/campaigns/"+id+"/progress", nil)
	class := pr.body["classes"].([]any)[0].(map[string]any)
	if pr.status != 200 || class["finished"] != 1.0 || class["not_started"] != 1.0 || len(class["not_started_names"].([]any)) != 1 {
		t.Fatalf("progress for the psychologist: %s", pr.raw)
	}
	if entries, _, _ := o.s.store.ListAudit(context.Background(), store.AuditFilter{Action: "read_progress", TargetID: id}, store.Page{}); len(entries) != 1 {
		t.Fatalf("%d audit entries for one read of pupils' names", len(entries))
	}
	tp := o.teacherA.do("GET", "/api/v1/campaigns/"+id+"/progress", nil)
	if tp.status != 200 || strings.Contains(tp.raw, "not_started_names") || strings.Contains(tp.raw, "张三") || strings.Contains(tp.raw, "李四") {
		t.Fatalf("a teacher saw names: %s", tp.raw)
	}
	o.psychB.do("GET", "/api/v1/campaigns/"+id+"/progress", nil).expectError(t, 404, "not_found")

	rep := o.psychA.do("GET", "/api/v1/campaigns/"+id+"/report", nil)
	var phq map[string]any
	for _, g := range rep.body["groups"].([]any) {
		g := g.(map[string]any)
		if g["unit_id"] == "a7-1" && g["instrument"] == "phq9" {
			phq = g
		}
	}
	if phq == nil || phq["results"] != 1.0 || phq["scores"].([]any)[0].(map[string]any)["mean"] != 6.0 {
		t.Fatalf("report: %s", rep.raw)
	}
	// For a teacher the single result's band count is suppressed.
	trep := o.teacherA.do("GET", "/api/v1/campaigns/"+id+"/report", nil)
	if trep.status != 200 || !strings.Contains(trep.raw, `"mild":null`) || !strings.Contains(trep.raw, `"suppressed":true`) || strings.Contains(trep.raw, `"mean":6`) {
		t.Fatalf("teacher's report: %s", trep.raw)
	}

	// The same tables as workbooks: the psychologist's progress names the
	// pupil who has not started; the teacher's report withholds the cell.
	sheet := func(c *console, path, name string) [][]string {
		t.Helper()
		req, _ := http.NewRequest("GET", o.s.base+path, nil)
		r := c.send(req)
		f, err := excelize.OpenReader(strings.NewReader(r.raw))
		if err != nil {
			t.Fatalf("%s: not a workbook (%d): %v", path, r.status, err)
		}
		rows, err := f.GetRows(name)
		if err != nil {
			t.Fatal(err)
		}
		return rows
	}
	progress := sheet(o.psychA, "/api/v1/campaigns/"+id+"/progress.xlsx", "完成情况")
	if len(progress) != 3 || progress[2][0] != "七年级一班" || progress[2][1] != "1" || (progress[2][4] != "张三" && progress[2][4] != "李四") {
		t.Fatalf("progress.xlsx: %q", progress)
	}
	teacher := sheet(o.teacherA, "/api/v1/campaigns/"+id+"/report.xlsx", "团体报告")
	joined := fmt.Sprint(teacher)
	if !strings.Contains(joined, "<5") || !strings.Contains(joined, "—") || strings.Contains(joined, " 6 ") {
		t.Fatalf("teacher's report.xlsx shows what the JSON withholds: %q", teacher)
	}
	if entries, _, _ := o.s.store.ListAudit(context.Background(), store.AuditFilter{Action: "export", TargetID: id}, store.Page{}); len(entries) != 2 {
		t.Fatalf("%d audit entries for two exports", len(entries))
	}
}
