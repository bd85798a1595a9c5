//go:build !fuzzdecode

package api_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"xinling/store"
)

// moodDoc is a school's own three-item questionnaire at a version.
func moodDoc(version string, band2Max int) string {
	return `id: school_mood
version: ` + version + `
title: {zh-CN: 学生情绪问卷, en: Student mood questionnaire}
kind: screening
minutes: 2
source: written by a school for this test
license: the school's own
translation: unvalidated
instructions: {zh-CN: 请根据最近两周的情况回答, en: Answer for the last two weeks}
options:
  - {value: 0, label: {zh-CN: 没有, en: Never}}
  - {value: 1, label: {zh-CN: 有时, en: Sometimes}}
  - {value: 2, label: {zh-CN: 经常, en: Often}}
items:
  - {id: m1, text: {zh-CN: 我感到心情低落, en: I feel low}}
  - {id: m2, text: {zh-CN: 我对事情提不起兴趣, en: I have little interest in things}}
  - {id: m3, text: {zh-CN: 我睡不好, en: I sleep badly}}
scoring:
  scores:
    - {id: total, expr: sum(items), label: {zh-CN: 总分, en: Total}}
  bands:
    total:
      - {code: low, min: 0, max: 2, label: {zh-CN: 低, en: Low}}
      - {code: high, min: 3, max: ` + itoa(band2Max) + `, label: {zh-CN: 高, en: High}, warning: {level: 3, reason: {zh-CN: 情绪问卷得分高, en: High mood score}}}
vectors:
  - name: none
    answers: [0, 0, 0]
    expect: {scores: {total: 0}, bands: {total: low}}
  - name: high
    answers: [2, 2, 1]
    expect: {scores: {total: 5}, bands: {total: high}, warnings: [total.high]}
`
}

func itoa(n int) string { return strconv.Itoa(n) }

func meID(t *testing.T, c *console) string {
	t.Helper()
	return c.do("GET", "/api/v1/auth/me", nil).body["staff"].(map[string]any)["id"].(string)
}

func grantEditing(t *testing.T, admin, who *console) {
	t.Helper()
	r := admin.do("PUT", "/api/v1/staff/"+meID(t, who)+"/permissions", map[string]any{"permissions": []string{"edit_instruments"}})
	if r.status != 200 {
		t.Fatalf("grant: %s", r.raw)
	}
}

func reportOf(t *testing.T, r response) map[string]any {
	t.Helper()
	rep, _ := r.body["report"].(map[string]any)
	if rep == nil {
		if in, ok := r.body["instrument"].(map[string]any); ok {
			rep, _ = in["report"].(map[string]any)
		}
	}
	if rep == nil {
		t.Fatalf("no report: %s", r.raw)
	}
	return rep
}

func TestCustomInstrumentLifecycleAndScope(t *testing.T) {
	t.Parallel()
	o := newQueueOrg(t)
	s := o.s

	// Without the permission, a school psychologist cannot even check.
	o.psychA.do("POST", "/api/v1/custom-instruments/check", map[string]any{"source": moodDoc("1.0.0", 6)}).expectError(t, 403, "forbidden")
	o.psychA.do("PUT", "/api/v1/staff/"+meID(t, o.psychB)+"/permissions", map[string]any{"permissions": []string{"edit_instruments"}}).expectError(t, 403, "forbidden")
	o.admin.do("PUT", "/api/v1/staff/"+meID(t, o.psychB)+"/permissions", map[string]any{"permissions": []string{"root"}}).expectError(t, 400, "validation_failed")
	grantEditing(t, o.admin, o.psychA)
	grantEditing(t, o.admin, o.psychB)
	if r := o.psychA.do("GET", "/api/v1/auth/me", nil); !strings.Contains(r.raw, `"permissions":["edit_instruments"]`) {
		t.Fatalf("me does not show the grant: %s", r.raw)
	}

	// The checker locates a broken expression at its line and column.
	broken := strings.Replace(moodDoc("1.0.0", 6), "expr: sum(items)", "expr: sum(itemz)", 1)
	r := o.psychA.do("POST", "/api/v1/custom-instruments/check", map[string]any{"source": broken})
	rep := reportOf(t, r)
	probs := rep["problems"].([]any)
	if r.status != 200 || rep["ok"] != false || len(probs) == 0 {
		t.Fatalf("check of a broken document: %s", r.raw)
	}
	p0 := probs[0].(map[string]any)
	if p0["line"].(float64) != 20 || p0["col"].(float64) != 29 || !strings.Contains(p0["message"].(string), "itemz") {
		t.Fatalf("problem not at the expression (20:29): %v", p0)
	}
	// A gap in the bands is found by the proof, not by luck.
	gap := strings.Replace(moodDoc("1.0.0", 6), "min: 3, max: 6", "min: 4, max: 6", 1)
	rep = reportOf(t, o.psychA.do("POST", "/api/v1/custom-instruments/check", map[string]any{"source": gap}))
	if rep["ok"] != false || !strings.Contains(rep["problems"].([]any)[0].(map[string]any)["message"].(string), "total = 3 falls in no band") {
		t.Fatalf("gap not found: %v", rep)
	}
	rep = reportOf(t, o.psychA.do("POST", "/api/v1/custom-instruments/check", map[string]any{"source": moodDoc("1.0.0", 6)}))
	if rep["ok"] != true || len(rep["vectors"].([]any)) != 2 || rep["coverage"].([]any)[0].(map[string]any)["proven"] != true {
		t.Fatalf("good document: %v", rep)
	}

	// A built-in's id is refused; a draft saves even with problems.
	o.psychA.do("POST", "/api/v1/custom-instruments", map[string]any{"source": strings.Replace(moodDoc("1.0.0", 6), "id: school_mood", "id: phq9", 1)}).expectError(t, 409, "instrument_id_taken")
	if r := o.psychA.do("POST", "/api/v1/custom-instruments", map[string]any{"source": broken}); r.status != 201 || reportOf(t, r)["ok"] != false {
		t.Fatalf("save a broken draft: %s", r.raw)
	}
	o.psychA.do("POST", "/api/v1/custom-instruments/school_mood/1.0.0/publish", nil).expectError(t, 422, "instrument_invalid")
	if r := o.psychA.do("POST", "/api/v1/custom-instruments", map[string]any{"source": moodDoc("1.0.0", 6)}); r.status != 201 {
		t.Fatalf("save draft: %s", r.raw)
	}

	// School B's editor can neither see nor use school A's draft, nor take its id.
	if r := o.psychB.do("GET", "/api/v1/custom-instruments", nil); strings.Contains(r.raw, "school_mood") {
		t.Fatalf("school B sees school A's draft: %s", r.raw)
	}
	o.psychB.do("GET", "/api/v1/custom-instruments/school_mood/1.0.0", nil).expectError(t, 404, "not_found")
	o.psychB.do("POST", "/api/v1/custom-instruments/school_mood/1.0.0/publish", nil).expectError(t, 404, "not_found")
	o.psychB.do("POST", "/api/v1/custom-instruments/school_mood/1.0.0/try", map[string]any{"answers": map[string]float64{"m1": 1}}).expectError(t, 404, "not_found")
	o.psychB.do("POST", "/api/v1/custom-instruments", map[string]any{"source": moodDoc("1.0.0", 6)}).expectError(t, 409, "instrument_id_taken")
	o.psychB.do("POST", "/api/v1/custom-instruments", map[string]any{"source": moodDoc("1.0.0", 6), "unit_id": "schoolA"}).expectError(t, 404, "not_found")

	// Try it: the draft scores without storing anything.
	r = o.psychA.do("POST", "/api/v1/custom-instruments/school_mood/1.0.0/try", map[string]any{"answers": map[string]float64{"m1": 2, "m2": 2, "m3": 1}})
	if r.status != 200 || !strings.Contains(r.raw, `"rule":"total.high"`) {
		t.Fatalf("try: %s", r.raw)
	}
	o.psychA.do("POST", "/api/v1/custom-instruments/school_mood/1.0.0/try", map[string]any{"answers": map[string]float64{"m1": 7}}).expectError(t, 422, "answer_out_of_range")

	// Publish; the version is then frozen.
	if r := o.psychA.do("POST", "/api/v1/custom-instruments/school_mood/1.0.0/publish", nil); r.status != 200 || r.body["instrument"].(map[string]any)["state"] != "published" {
		t.Fatalf("publish: %s", r.raw)
	}
	o.psychA.do("POST", "/api/v1/custom-instruments", map[string]any{"source": moodDoc("1.0.0", 6)}).expectError(t, 409, "instrument_published")
	o.psychA.do("POST", "/api/v1/custom-instruments", map[string]any{"source": moodDoc("0.9.0", 6)}).expectError(t, 409, "instrument_published")
	o.psychA.do("POST", "/api/v1/custom-instruments/school_mood/1.0.0/publish", nil).expectError(t, 409, "instrument_published")

	// School A's campaigns may use it; school B's may not.
	now := s.clock.Now()
	campaign := func(c *console, unit string) response {
		return c.do("POST", "/api/v1/campaigns", map[string]any{"name": "情绪筛查", "unit_id": unit, "unit_ids": []string{unit},
			"battery": []string{"school_mood"}, "mode": "open", "starts_at": now.Format(time.RFC3339), "ends_at": now.Add(24 * time.Hour).Format(time.RFC3339)})
	}
	if r := campaign(o.psychA, "schoolA"); r.status != 201 {
		t.Fatalf("school A campaign: %s", r.raw)
	}
	campaign(o.psychB, "schoolB").expectError(t, 404, "instrument_unknown")

	// Not in the public catalogue until a root administrator puts it there.
	s.do("POST", "/api/v1/sessions", "", map[string]any{"instrument": "school_mood", "consent": true}).expectError(t, 404, "instrument_unknown")
	o.psychA.do("PUT", "/api/v1/custom-instruments/school_mood/1.0.0/public", map[string]any{"public": true}).expectError(t, 403, "forbidden")
	if r := o.admin.do("PUT", "/api/v1/custom-instruments/school_mood/1.0.0/public", map[string]any{"public": true}); r.status != 200 {
		t.Fatalf("publicise: %s", r.raw)
	}
	if r := s.do("GET", "/api/v1/instruments", "", nil); !strings.Contains(r.raw, "school_mood") {
		t.Fatalf("catalogue lacks the public custom instrument: %s", r.raw)
	}
	ss := s.start(map[string]any{"instrument": "school_mood"})

	// Retired: no new sessions, but the open one still submits.
	if r := o.psychA.do("POST", "/api/v1/custom-instruments/school_mood/1.0.0/retire", nil); r.status != 200 {
		t.Fatalf("retire: %s", r.raw)
	}
	s.do("POST", "/api/v1/sessions", "", map[string]any{"instrument": "school_mood", "consent": true}).expectError(t, 404, "instrument_unknown")
	campaign(o.psychA, "schoolA").expectError(t, 404, "instrument_unknown")
	s.answerAll(ss, 2, 2, 1)
	if r := s.do("POST", "/api/v1/sessions/"+ss.id+"/submit", ss.token, nil); r.status != 200 || !strings.Contains(r.raw, "school_mood") {
		t.Fatalf("submit on a retired version: %s", r.raw)
	}

	// Every step is audited.
	r = o.admin.do("GET", "/api/v1/audit", nil)
	for _, action := range []string{"account_permissions", "instrument_draft", "instrument_publish", "instrument_publicise", "instrument_retire"} {
		if !strings.Contains(r.raw, action) {
			t.Errorf("audit lacks %s", action)
		}
	}
}

// Hostile documents get clear 4xx answers and never a 500.
func TestHostileInstrumentUploads(t *testing.T) {
	t.Parallel()
	o := newQueueOrg(t)
	grantEditing(t, o.admin, o.psychA)
	bomb := "id: x\nversion: 1.0.0\na: &a [x, x, x, x, x, x, x, x, x, x]\n"
	for i, prev := 'b', 'a'; i <= 'j'; i, prev = i+1, i {
		bomb += string(i) + ": &" + string(i) + " [" + strings.Repeat("*"+string(prev)+", ", 9) + "*" + string(prev) + "]\n"
	}
	o.psychA.do("POST", "/api/v1/custom-instruments", map[string]any{"source": bomb}).expectError(t, 422, "instrument_invalid")
	rep := reportOf(t, o.psychA.do("POST", "/api/v1/custom-instruments/check", map[string]any{"source": bomb}))
	if !strings.Contains(rep["problems"].([]any)[0].(map[string]any)["message"].(string), "expands to more than") {
		t.Fatalf("bomb: %v", rep)
	}
	o.psychA.do("POST", "/api/v1/custom-instruments/check", map[string]any{"source": strings.Repeat("a", 600<<10)}).expectError(t, 413, "body_too_large")
	rep = reportOf(t, o.psychA.do("POST", "/api/v1/custom-instruments/check", map[string]any{"source": "id: " + strings.Repeat("[", 50_000)}))
	if !strings.Contains(rep["problems"].([]any)[0].(map[string]any)["message"].(string), "nesting is deeper") {
		t.Fatalf("deep nesting: %v", rep)
	}
}

// A version published through one server is served by another server of
// the same store after its next sync; one that no longer loads is
// disabled and reported, and the server stays ready.
func TestPublishedVersionsReachEveryServer(t *testing.T) {
	t.Parallel()
	o := newQueueOrg(t)
	grantEditing(t, o.admin, o.psychA)
	ctx := context.Background()
	// Another server's publication: straight into the store.
	if _, err := o.s.store.SaveInstrumentDraft(ctx, store.InstrumentDoc{ID: "school_mood", Version: "1.0.0", ContentHash: hashOf(moodDoc("1.0.0", 6)),
		Source: []byte(moodDoc("1.0.0", 6)), UnitID: "schoolA", CreatedAt: o.s.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, err := o.s.store.PublishInstrument(ctx, "school_mood", "1.0.0", o.s.clock.Now()); err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(moodDoc("2.0.0", 6), "expr: sum(items)", "expr: sum(itemz)", 1)
	if _, err := o.s.store.SaveInstrumentDraft(ctx, store.InstrumentDoc{ID: "school_mood", Version: "2.0.0", ContentHash: hashOf(bad),
		Source: []byte(bad), UnitID: "schoolA", CreatedAt: o.s.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, err := o.s.store.PublishInstrument(ctx, "school_mood", "2.0.0", o.s.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if _, ok := o.s.catalog.ForUnit("school_mood", "/city/county/schoolA/"); ok {
		t.Fatal("usable before sync")
	}
	if err := o.s.catalog.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	in, ok := o.s.catalog.ForUnit("school_mood", "/city/county/schoolA/")
	if !ok || in.Version() != "1.0.0" {
		t.Fatalf("after sync: %v %v (2.0.0 does not load, so 1.0.0 serves)", in, ok)
	}
	r := o.s.do("GET", "/readyz", "", nil)
	if r.status != 200 || !strings.Contains(r.raw, "school_mood 2.0.0") || !strings.Contains(r.raw, "itemz") {
		t.Fatalf("readyz: %s", r.raw)
	}
	if r := o.psychA.do("GET", "/api/v1/custom-instruments", nil); !strings.Contains(r.raw, `"disabled":"`) {
		t.Fatalf("the console does not show the disabled version: %s", r.raw)
	}
}

func hashOf(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// sleepDoc is a questionnaire whose third item ("I sleep well") must be
// reverse-keyed; version 1.0.0 was published without the reversal.
func sleepDoc(version string, fixed bool) string {
	reverse, high := "", "[2, 2, 2]"
	if fixed {
		reverse, high = ", reverse: true", "[2, 2, 0]"
	}
	return `id: sleep_mood
version: ` + version + `
title: {zh-CN: 睡眠与情绪, en: Sleep and mood}
kind: screening
minutes: 1
source: written by a school for this test
license: the school's own
translation: unvalidated
instructions: {zh-CN: 请回答, en: Please answer}
options:
  - {value: 0, label: {zh-CN: 没有, en: Never}}
  - {value: 1, label: {zh-CN: 有时, en: Sometimes}}
  - {value: 2, label: {zh-CN: 经常, en: Often}}
items:
  - {id: m1, text: {zh-CN: 我感到心情低落, en: I feel low}}
  - {id: m2, text: {zh-CN: 我容易紧张, en: I get tense}}
  - {id: m3, text: {zh-CN: 我睡得很好, en: I sleep well}` + reverse + `}
scoring:
  scores:
    - {id: total, expr: sum(items)}
  bands:
    total:
      - {code: low, min: 0, max: 2, label: {zh-CN: 低, en: Low}}
      - {code: high, min: 3, max: 6, label: {zh-CN: 高, en: High}, warning: {level: 3, reason: {zh-CN: 睡眠与情绪得分高, en: High sleep and mood score}}}
vectors:
  - name: high
    answers: ` + high + `
    expect: {scores: {total: 6}, bands: {total: high}, warnings: [total.high]}
`
}

// A scoring key published wrong is corrected and past results rescored:
// the dry run counts what changes, applying it keeps the old results,
// raises the new warning and sends the dropped one back for review.
func TestRescoreWithACorrectedVersion(t *testing.T) {
	t.Parallel()
	o := newQueueOrg(t)
	s := o.s
	grantEditing(t, o.admin, o.psychA)
	publish := func(version string, fixed bool) {
		t.Helper()
		if r := o.psychA.do("POST", "/api/v1/custom-instruments", map[string]any{"source": sleepDoc(version, fixed)}); r.status != 201 {
			t.Fatalf("draft %s: %s", version, r.raw)
		}
		if r := o.psychA.do("POST", "/api/v1/custom-instruments/sleep_mood/"+version+"/publish", nil); r.status != 200 {
			t.Fatalf("publish %s: %s", version, r.raw)
		}
	}
	publish("1.0.0", false)
	// School A screens a class with it.
	now := s.clock.Now()
	r := o.psychA.do("POST", "/api/v1/campaigns", map[string]any{"name": "睡眠筛查", "unit_id": "schoolA", "unit_ids": []string{"schoolA"},
		"battery": []string{"sleep_mood"}, "mode": "open", "starts_at": now.Format(time.RFC3339), "ends_at": now.Add(24 * time.Hour).Format(time.RFC3339)})
	if r.status != 201 {
		t.Fatalf("campaign: %s", r.raw)
	}
	cid := r.body["campaign"].(map[string]any)["id"].(string)
	o.psychA.do("POST", "/api/v1/campaigns/"+cid+"/activate", nil)
	code := o.psychA.do("POST", "/api/v1/campaigns/"+cid+"/class-codes", nil).body["codes"].([]any)[0].(map[string]any)["code"].(string)
	take := func(values ...float64) session {
		ss := s.start(map[string]any{"code": code})
		s.answerAll(ss, values...)
		if r := s.do("POST", "/api/v1/sessions/"+ss.id+"/submit", ss.token, nil); r.status != 200 {
			t.Fatalf("submit: %s", r.raw)
		}
		return ss
	}
	a := take(1, 1, 0) // wrong key 2 (low), right key 4 (high)
	b := take(1, 1, 2) // wrong key 4 (high), right key 2 (low)
	take(0, 0, 1)      // 1 either way
	before := len(ids(o.admin.do("GET", "/api/v1/warnings", nil)))

	publish("1.1.0", true)
	o.psychB.do("POST", "/api/v1/custom-instruments/sleep_mood/1.1.0/rescore", map[string]any{}).expectError(t, 403, "forbidden")
	// A dry run changes nothing but reads results' scores: without its
	// audit line it shows none of them.
	s.audit.broken.Store(true)
	o.psychA.do("POST", "/api/v1/custom-instruments/sleep_mood/1.1.0/rescore", map[string]any{}).expectError(t, 503, "audit_unavailable")
	s.audit.broken.Store(false)
	r = o.psychA.do("POST", "/api/v1/custom-instruments/sleep_mood/1.1.0/rescore", map[string]any{})
	rep, _ := r.body["rescore"].(map[string]any)
	want := map[string]float64{"considered": 3, "unchanged": 1, "score_changed": 2, "band_changed": 2, "warning_raised": 1, "warning_for_review": 1}
	for k, v := range want {
		if rep == nil || rep[k] != v {
			t.Fatalf("dry run %s = %v, want %v: %s", k, rep[k], v, r.raw)
		}
	}
	if rep["applied"] != false || len(ids(o.admin.do("GET", "/api/v1/warnings", nil))) != before {
		t.Fatalf("a dry run changed the queue: %s", r.raw)
	}

	r = o.psychA.do("POST", "/api/v1/custom-instruments/sleep_mood/1.1.0/rescore", map[string]any{"apply": true})
	rep = r.body["rescore"].(map[string]any)
	if r.status != 200 || rep["applied"] != true || len(rep["new_warnings"].([]any)) != 2 || rep["failed"] != nil {
		t.Fatalf("apply: %s", r.raw)
	}
	queue := o.admin.do("GET", "/api/v1/warnings", nil)
	if len(ids(queue)) != before+2 || !strings.Contains(queue.raw, "rescore_review.total.high") {
		t.Fatalf("queue after apply: %s", queue.raw)
	}
	ctx := context.Background()
	for _, ss := range []session{a, b} {
		all, _, err := s.store.ListResults(ctx, store.ResultFilter{SessionID: ss.id, WithSuperseded: true}, store.Page{})
		if err != nil || len(all) != 2 {
			t.Fatalf("results of %s: %v %v; want the old kept beside the new", ss.id, all, err)
		}
		cur, _, _ := s.store.ListResults(ctx, store.ResultFilter{SessionID: ss.id}, store.Page{})
		if len(cur) != 1 || cur[0].Version != "1.1.0" || cur[0].Supersedes == "" {
			t.Fatalf("current result of %s: %+v", ss.id, cur)
		}
	}
	// Applying again changes nothing: the rescored results are 1.1.0's, and
	// the unchanged one stays as it was.
	r = o.psychA.do("POST", "/api/v1/custom-instruments/sleep_mood/1.1.0/rescore", map[string]any{"apply": true})
	if rep := r.body["rescore"].(map[string]any); rep["considered"] != float64(1) || rep["unchanged"] != float64(1) || rep["new_warnings"] != nil {
		t.Fatalf("second apply: %s", r.raw)
	}
	audit := o.admin.do("GET", "/api/v1/audit", nil).raw
	for _, action := range []string{"rescore_dry_run", "rescore_apply", `"rescore"`} {
		if !strings.Contains(audit, action) {
			t.Errorf("audit lacks %s", action)
		}
	}
}

// Excel round trip: a built-in exported as a template, renamed in its
// instrument sheet, imports as a draft that passes the checker; a bad
// cell is named by sheet and cell.
func TestInstrumentWorkbookRoundTrip(t *testing.T) {
	t.Parallel()
	o := newQueueOrg(t)
	grantEditing(t, o.admin, o.psychA)
	req, _ := http.NewRequest("GET", o.s.base+"/api/v1/custom-instruments/gad7/1.1.0/template.xlsx", nil)
	resp, err := o.psychA.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	book, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Type"), "spreadsheetml") {
		t.Fatalf("template: %d %s", resp.StatusCode, book)
	}
	f, err := excelize.OpenReader(bytes.NewReader(book))
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := f.GetCellValue("instrument", "A2"); v != "id" {
		t.Fatalf("instrument sheet starts with %q", v)
	}
	if err := f.SetCellValue("instrument", "B2", "school_gad7"); err != nil {
		t.Fatal(err)
	}
	if err := f.SetCellValue("instrument", "B3", "1.0.0"); err != nil {
		t.Fatal(err)
	}
	good, _ := f.WriteToBuffer()
	r := o.psychA.upload("/api/v1/custom-instruments/import", "mine.xlsx", good.String(), nil)
	if r.status != 201 {
		t.Fatalf("import: %s", r.raw)
	}
	in := r.body["instrument"].(map[string]any)
	if in["id"] != "school_gad7" || in["report"].(map[string]any)["ok"] != true || !strings.Contains(in["source"].(string), "id: school_gad7") {
		t.Fatalf("imported draft: %s", r.raw)
	}
	if err := f.SetCellValue("bands", "C3", "five"); err != nil {
		t.Fatal(err)
	}
	bad, _ := f.WriteToBuffer()
	r = o.psychA.upload("/api/v1/custom-instruments/import", "bad.xlsx", bad.String(), nil)
	if r.status != 422 || !strings.Contains(r.raw, `"sheet":"bands","cell":"C3"`) {
		t.Fatalf("bad cell: %s", r.raw)
	}
	o.psychB.upload("/api/v1/custom-instruments/import", "mine.xlsx", good.String(), nil).expectError(t, 403, "forbidden")
	o.psychA.upload("/api/v1/custom-instruments/import", "junk.xlsx", "not a workbook", nil).expectError(t, 422, "workbook_invalid")
}
