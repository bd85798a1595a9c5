//go:build !fuzzdecode

package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"xinling/store"
)

// normDoc is a school's own questionnaire with norms and a validity check,
// so the report's norms table and invalid responses have something to show
// (no built-in document has norms).
const normDoc = `id: study_stress
version: 1.0.0
title: {zh-CN: 学习压力问卷, en: Study stress questionnaire}
kind: stress
minutes: 1
source: written by a school for this test
license: the school's own
translation: unvalidated
instructions: {zh-CN: 请根据最近一个月的情况回答, en: Answer for the last month}
options:
  - {value: 0, label: {zh-CN: 从不, en: Never}}
  - {value: 1, label: {zh-CN: 有时, en: Sometimes}}
  - {value: 2, label: {zh-CN: 经常, en: Often}}
items:
  - {id: s1, text: {zh-CN: 作业让我喘不过气, en: Homework overwhelms me}}
  - {id: s2, text: {zh-CN: 我担心考试, en: I worry about exams}}
  - {id: s3, text: {zh-CN: 我学习时难以专心, en: I find it hard to concentrate}}
scoring:
  scores:
    - {id: total, expr: sum(items), label: {zh-CN: 学习压力总分, en: Study stress total}}
  bands:
    total:
      - {code: low, min: 0, max: 2, label: {zh-CN: 压力较低, en: Low stress}}
      - {code: high, min: 3, max: 6, label: {zh-CN: 压力较高, en: High stress}}
  norms:
    - score: total
      groups:
        - label: {zh-CN: 初中生常模, en: Junior secondary pupils}
          mean: 2
          sd: 1
          percentiles: [[0, 5], [2, 50], [6, 99]]
  validity:
    - id: same_answer
      when: 'all(responses, # == responses[0])'
      message: {zh-CN: 所有题目选择了同一选项, en: The same option was chosen for every item}
vectors:
  - name: low
    answers: [0, 1, 0]
    expect: {scores: {total: 1}, bands: {total: low}}
  - name: high
    answers: [2, 1, 2]
    expect: {scores: {total: 5}, bands: {total: high}}
`

// screening sets up school A's grade 7 with two classes, a roster of five
// pupils, a campaign of PHQ-9, ASQ and the school's questionnaire, and
// three pupils who answer it: 张三 (well), 李四 (PHQ-9 severe, ASQ acute
// positive) and 王五 (the same option on every item of the questionnaire:
// invalid). 赵六 and 孙七 never start. It returns the campaign id and the
// person ids by name.
func screening(t *testing.T, o *queueOrg) (string, map[string]string) {
	t.Helper()
	ctx := context.Background()
	s := o.s
	for _, u := range []store.Unit{{ID: "a7", ParentID: "schoolA", Kind: "grade", Name: "七年级"},
		{ID: "a7-1", ParentID: "a7", Kind: "class", Name: "七年级一班"}, {ID: "a7-2", ParentID: "a7", Kind: "class", Name: "七年级二班"}} {
		if _, err := s.store.CreateUnit(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	grantEditing(t, o.admin, o.psychA)
	if r := o.psychA.do("POST", "/api/v1/custom-instruments", map[string]any{"source": normDoc}); r.status != 201 {
		t.Fatalf("draft: %s", r.raw)
	}
	if r := o.psychA.do("POST", "/api/v1/custom-instruments/study_stress/1.0.0/publish", nil); r.status != 200 {
		t.Fatalf("publish: %s", r.raw)
	}
	now := s.clock.Now()
	r := o.psychA.do("POST", "/api/v1/campaigns", map[string]any{"name": "秋季普测", "unit_id": "schoolA", "unit_ids": []string{"a7-1", "a7-2"},
		"battery": []string{"phq9", "asq", "study_stress"}, "mode": "roster", "visibility": "thanks",
		"starts_at": now.Format(time.RFC3339), "ends_at": now.Add(7 * 24 * time.Hour).Format(time.RFC3339)})
	if r.status != 201 {
		t.Fatal(r.raw)
	}
	id := r.body["campaign"].(map[string]any)["id"].(string)
	o.psychA.do("POST", "/api/v1/campaigns/"+id+"/activate", nil)
	roster := "学号,姓名,性别,出生年月,班级\n" +
		"2024001,张三,男,2012-03,七年级一班\n2024002,李四,女,2012-07,七年级一班\n2024003,王五,男,2012-01,七年级二班\n" +
		"2024004,赵六,女,2012-05,七年级二班\n2024005,孙七,女,2012-09,七年级一班\n"
	if r := o.psychA.upload("/api/v1/units/schoolA/roster", "r.csv", roster, nil); r.status != 200 {
		t.Fatal(r.raw)
	}
	people := map[string]string{}
	persons, _, err := s.store.ListPersons(ctx, store.PersonFilter{SchoolID: "schoolA"}, store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range persons {
		people[string(p.Name)] = p.ID
	}
	codes := map[string]string{}
	for _, c := range o.psychA.do("POST", "/api/v1/campaigns/"+id+"/personal-codes", nil).body["codes"].([]any) {
		c := c.(map[string]any)
		for name, pid := range people {
			if pid == c["person_id"] {
				codes[name] = c["code"].(string)
			}
		}
	}
	take := func(name string, answers map[string]float64) {
		t.Helper()
		r := s.do("POST", "/api/v1/sessions", "", map[string]any{"code": codes[name], "consent": true})
		if r.status != 201 {
			t.Fatalf("%s starts: %s", name, r.raw)
		}
		ss := session{id: r.body["id"].(string), token: r.body["token"].(string)}
		seq := 0
		for item, v := range answers {
			seq++
			if a := s.answer(ss, item, v, seq); a.status != 200 {
				t.Fatalf("%s answers %s: %s", name, item, a.raw)
			}
		}
		if sub := s.do("POST", "/api/v1/sessions/"+ss.id+"/submit", ss.token, nil); sub.status != 200 {
			t.Fatalf("%s submits: %s", name, sub.raw)
		}
	}
	phq := func(vs ...float64) map[string]float64 {
		m := map[string]float64{}
		for i, v := range vs {
			m[fmt.Sprintf("phq9.q%d", i+1)] = v
		}
		return m
	}
	with := func(m map[string]float64, more map[string]float64) map[string]float64 {
		for k, v := range more {
			m[k] = v
		}
		return m
	}
	take("张三", with(phq(0, 1, 0, 1, 0, 0, 0, 0, 0), map[string]float64{"asq.q1": 0, "asq.q2": 0, "asq.q3": 0, "asq.q4": 0,
		"study_stress.s1": 0, "study_stress.s2": 1, "study_stress.s3": 0}))
	take("李四", with(phq(3, 3, 3, 3, 3, 2, 2, 2, 0), map[string]float64{"asq.q1": 1, "asq.q2": 0, "asq.q3": 1, "asq.q4": 0, "asq.q5": 1,
		"study_stress.s1": 2, "study_stress.s2": 2, "study_stress.s3": 1}))
	take("王五", with(phq(1, 1, 0, 1, 0, 0, 0, 1, 0), map[string]float64{"asq.q1": 0, "asq.q2": 0, "asq.q3": 0, "asq.q4": 0,
		"study_stress.s1": 1, "study_stress.s2": 1, "study_stress.s3": 1}))
	return id, people
}

type groupReport struct {
	Aggregate     bool `json:"aggregate"`
	Participation struct {
		Roster, Started, Finished int
		Valid, Invalid            *int
		InvalidReasons            []struct {
			InstrumentTitle string `json:"instrument_title"`
			Check, Label    string
			Count           *int
		} `json:"invalid_reasons"`
	} `json:"participation"`
	Levels      map[string]*int `json:"levels"`
	Instruments []struct {
		Instrument, Title string
		Results           int
		Invalid           *int
		Scores            []struct {
			Score, Label string
			N            int
			Mean, SD     *float64
			Bands        []struct {
				Code, Label string
				Level       int
				Count       *int
			}
			Norms *struct {
				N       int
				Groups  []string
				MeanT   *float64 `json:"mean_t"`
				SDT     *float64 `json:"sd_t"`
				MeanPct *float64 `json:"mean_percentile"`
				T60     *int     `json:"t60"`
				T70     *int     `json:"t70"`
			}
		}
	}
	Classes []groupRow `json:"classes"`
	ByGrade []groupRow `json:"by_grade"`
	BySex   []groupRow `json:"by_sex"`
	Suicide []struct {
		Instrument, Title string
		Results           int
		Positive          *int
		Rules             []struct {
			Rule, Label string
			Positive    *int
		}
	}
	Appendices *struct {
		Focus []struct {
			WarningID string `json:"warning_id"`
			Name      string
			Class     string
			Sex       string
			Level     int
			Reasons   []string
			State     string
		}
		Invalid []struct {
			Name, Class, Title string
			Checks             []string
		}
		NonParticipants []struct {
			PersonID string `json:"person_id"`
			Name     string
			Class    string
			Reason   string
		} `json:"non_participants"`
	}
}

type groupRow struct {
	Key, Name string
	Finished  int
	Levels    map[string]*int
	Scores    []struct {
		Instrument, Score string
		N                 int
		Mean              *float64
	}
}

func readReport(t *testing.T, r response) (groupReport, string) {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("group report: %d %s", r.status, r.raw)
	}
	var out struct{ Report groupReport }
	if err := json.Unmarshal([]byte(r.raw), &out); err != nil {
		t.Fatal(err)
	}
	return out.Report, r.raw
}

func n(p *int) int {
	if p == nil {
		return -1
	}
	return *p
}

// TestGroupReportSections: every section of the psychologist's report,
// from a small screening whose figures are known.
func TestGroupReportSections(t *testing.T) {
	t.Parallel()
	o := newQueueOrg(t)
	id, people := screening(t, o)
	rep, raw := readReport(t, o.psychA.do("GET", "/api/v1/campaigns/"+id+"/group-report", nil))

	pa := rep.Participation
	if pa.Roster != 5 || pa.Started != 3 || pa.Finished != 3 || n(pa.Valid) != 2 || n(pa.Invalid) != 1 {
		t.Errorf("participation: %+v", pa)
	}
	if len(pa.InvalidReasons) != 1 || pa.InvalidReasons[0].Label != "所有题目选择了同一选项" || pa.InvalidReasons[0].InstrumentTitle != "学习压力问卷" || n(pa.InvalidReasons[0].Count) != 1 {
		t.Errorf("invalid reasons: %+v", pa.InvalidReasons)
	}
	// 李四 raised level 1 (ASQ acute); the other two nothing.
	if n(rep.Levels["l1"]) != 1 || n(rep.Levels["l2"]) != 0 || n(rep.Levels["none"]) != 2 {
		t.Errorf("levels: %s", raw)
	}
	if rep.Aggregate || rep.Appendices == nil {
		t.Fatal("the psychologist's report is not aggregate-only and has appendices")
	}

	// Bands per instrument and score, labelled from the documents, in
	// their order; the invalid result is left out of the figures.
	var phqBands, stressBands []string
	for _, in := range rep.Instruments {
		for _, s := range in.Scores {
			for _, b := range s.Bands {
				if in.Instrument == "phq9" && s.Score == "total" && n(b.Count) > 0 {
					phqBands = append(phqBands, fmt.Sprintf("%s=%d", b.Label, n(b.Count)))
				}
				if in.Instrument == "study_stress" {
					stressBands = append(stressBands, fmt.Sprintf("%s=%d", b.Label, n(b.Count)))
				}
			}
			if in.Instrument == "study_stress" {
				if in.Results != 2 || n(in.Invalid) != 1 || s.N != 2 || s.Mean == nil || *s.Mean != 3 || s.Label != "学习压力总分" {
					t.Errorf("study_stress: results %d invalid %d n %d mean %v label %q", in.Results, n(in.Invalid), s.N, s.Mean, s.Label)
				}
				// Norms: totals 1 and 5 against mean 2, SD 1 are T 40 and 80.
				nm := s.Norms
				if nm == nil || nm.N != 2 || nm.MeanT == nil || *nm.MeanT != 60 || n(nm.T60) != 1 || n(nm.T70) != 1 ||
					len(nm.Groups) != 1 || nm.Groups[0] != "初中生常模" || nm.MeanPct == nil {
					t.Errorf("norms: %+v", nm)
				}
			}
			if in.Instrument == "phq9" && s.Norms != nil {
				t.Errorf("PHQ-9 has no norms, but the report gives %+v", s.Norms)
			}
		}
		if in.Instrument == "phq9" && in.Title != "患者健康问卷抑郁量表（PHQ-9）" {
			t.Errorf("PHQ-9's title: %q", in.Title)
		}
	}
	if strings.Join(phqBands, " ") != "轻微或无抑郁症状=2 重度抑郁症状=1" && !strings.Contains(strings.Join(phqBands, " "), "重度") {
		t.Errorf("PHQ-9 bands: %v", phqBands)
	}
	if strings.Join(stressBands, " ") != "压力较低=1 压力较高=1" {
		t.Errorf("study stress bands: %v", stressBands)
	}

	// The class × level table, grades and sexes.
	if len(rep.Classes) != 2 || rep.Classes[0].Name != "七年级一班" || rep.Classes[0].Finished != 2 || n(rep.Classes[0].Levels["l1"]) != 1 ||
		rep.Classes[1].Name != "七年级二班" || rep.Classes[1].Finished != 1 {
		t.Errorf("classes: %+v", rep.Classes)
	}
	if len(rep.ByGrade) != 1 || rep.ByGrade[0].Name != "七年级" || rep.ByGrade[0].Finished != 3 {
		t.Errorf("grades: %+v", rep.ByGrade)
	}
	sexes := map[string]int{}
	for _, r := range rep.BySex {
		sexes[r.Key] = r.Finished
	}
	if sexes["m"] != 2 || sexes["f"] != 1 {
		t.Errorf("by sex: %+v", rep.BySex)
	}

	// Suicide items on their own: ASQ (acute) and PHQ-9 item 9 (none).
	found := map[string]int{}
	for _, s := range rep.Suicide {
		found[s.Instrument] = n(s.Positive)
		for _, r := range s.Rules {
			if r.Label == "" || r.Label == r.Rule {
				t.Errorf("suicide rule %s unlabelled", r.Rule)
			}
		}
	}
	if found["asq"] != 1 || found["phq9"] != 0 || len(found) != 2 {
		t.Errorf("suicide items: %v", found)
	}

	// Appendices: the focus list masked, the invalid response, the
	// non-participants.
	app := rep.Appendices
	if len(app.Focus) != 1 || app.Focus[0].Name != "李*" || app.Focus[0].Class != "七年级一班" || app.Focus[0].Sex != "f" ||
		app.Focus[0].Level != 1 || app.Focus[0].State != "open" || len(app.Focus[0].Reasons) == 0 {
		t.Errorf("focus list: %+v", app.Focus)
	}
	if len(app.Invalid) != 1 || app.Invalid[0].Name != "王*" || app.Invalid[0].Title != "学习压力问卷" || app.Invalid[0].Checks[0] != "所有题目选择了同一选项" {
		t.Errorf("invalid: %+v", app.Invalid)
	}
	if len(app.NonParticipants) != 2 {
		t.Fatalf("non-participants: %+v", app.NonParticipants)
	}
	for _, np := range app.NonParticipants {
		if np.Name != "赵*" && np.Name != "孙*" {
			t.Errorf("non-participant %q", np.Name)
		}
	}
	for _, name := range []string{"张三", "李四", "王五", "赵六", "孙七"} {
		if strings.Contains(raw, name) {
			t.Errorf("the report names %s in full", name)
		}
	}
	if entries, _, _ := o.s.store.ListAudit(context.Background(), store.AuditFilter{Action: "read_group_report", TargetID: id}, store.Page{}); len(entries) != 1 {
		t.Errorf("%d audit entries for one read of the appendices", len(entries))
	}

	// The school writes why 赵六 took no part; it shows on the report,
	// sealed at rest, and the write is audited without the reason.
	zhao := people["赵六"]
	if r := o.psychA.do("PUT", "/api/v1/campaigns/"+id+"/absences/"+zhao, map[string]any{"reason": "病假（肺炎住院）"}); r.status != 200 {
		t.Fatalf("set reason: %s", r.raw)
	}
	rep, _ = readReport(t, o.psychA.do("GET", "/api/v1/campaigns/"+id+"/group-report", nil))
	reasons := map[string]string{}
	for _, np := range rep.Appendices.NonParticipants {
		reasons[np.PersonID] = np.Reason
	}
	if reasons[zhao] != "病假（肺炎住院）" {
		t.Errorf("reason not shown: %v", reasons)
	}
	audit, _, _ := o.s.store.ListAudit(context.Background(), store.AuditFilter{Action: "set_absence_reason", TargetID: zhao}, store.Page{})
	if len(audit) != 1 || strings.Contains(audit[0].Detail, "肺炎") {
		t.Errorf("audit of the reason: %+v", audit)
	}
	// Bad input and other schools.
	o.psychA.do("PUT", "/api/v1/campaigns/"+id+"/absences/"+zhao, map[string]any{"reason": strings.Repeat("病", 201)}).expectError(t, 400, "validation_failed")
	o.psychA.do("PUT", "/api/v1/campaigns/"+id+"/absences/nobody", map[string]any{"reason": "转学"}).expectError(t, 404, "not_found")
	o.psychA.do("PUT", "/api/v1/campaigns/"+id+"/absences/"+zhao, map[string]any{"why": "转学"}).expectError(t, 400, "validation_failed")
	o.psychB.do("PUT", "/api/v1/campaigns/"+id+"/absences/"+zhao, map[string]any{"reason": "转学"}).expectError(t, 404, "not_found")
	o.psychB.do("GET", "/api/v1/campaigns/"+id+"/group-report", nil).expectError(t, 404, "not_found")
	o.psychA.do("GET", "/api/v1/campaigns/"+id+"/group-report?locale=fr", nil).expectError(t, 400, "locale_unknown")
	o.psychA.do("GET", "/api/v1/campaigns/"+id+"/group-report?unit=schoolB", nil).expectError(t, 404, "not_found")
	// Clearing it.
	if r := o.psychA.do("PUT", "/api/v1/campaigns/"+id+"/absences/"+zhao, map[string]any{"reason": ""}); r.status != 200 {
		t.Fatalf("clear reason: %s", r.raw)
	}

	// A county counsellor's report of the county: the roster is still the
	// campaign's classes, not every person of the county.
	county, _ := readReport(t, o.counsellor.do("GET", "/api/v1/campaigns/"+id+"/group-report?unit=county", nil))
	if county.Participation.Roster != 5 || county.Participation.Finished != 3 || county.Appendices == nil {
		t.Errorf("county: %+v", county.Participation)
	}

	// One class: only its pupils.
	cls, _ := readReport(t, o.psychA.do("GET", "/api/v1/campaigns/"+id+"/group-report?unit=a7-2", nil))
	if cls.Participation.Roster != 2 || cls.Participation.Finished != 1 || len(cls.Appendices.Focus) != 0 || len(cls.Appendices.NonParticipants) != 1 {
		t.Errorf("class a7-2: %+v", cls.Participation)
	}
}

// TestGroupReportForTeachersAndViewers: aggregate-only readers get the same
// sections with small counts withheld and no appendices, and may not write
// reasons.
func TestGroupReportForTeachersAndViewers(t *testing.T) {
	t.Parallel()
	o := newQueueOrg(t)
	id, people := screening(t, o)
	for name, c := range map[string]*console{"teacher": o.teacherA, "viewer": o.viewer} {
		rep, raw := readReport(t, c.do("GET", "/api/v1/campaigns/"+id+"/group-report?unit=schoolA", nil))
		if !rep.Aggregate || rep.Appendices != nil || strings.Contains(raw, "appendices") || strings.Contains(raw, "non_participants") {
			t.Errorf("%s sees the appendices: %s", name, raw)
		}
		for _, leak := range []string{"李*", "王*", "赵*", people["李四"], people["赵六"]} {
			if strings.Contains(raw, leak) {
				t.Errorf("%s's report holds %q", name, leak)
			}
		}
		// Three pupils: every level count and every band count below 5 is
		// withheld, and so are means over fewer than 5 results.
		if rep.Levels["l1"] != nil || rep.Participation.Invalid != nil {
			t.Errorf("%s sees small counts: %s", name, raw)
		}
		for _, in := range rep.Instruments {
			if in.Invalid != nil && *in.Invalid > 0 {
				t.Errorf("%s sees %d invalid results of %s", name, *in.Invalid, in.Instrument)
			}
			for _, s := range in.Scores {
				if s.Mean != nil || s.SD != nil {
					t.Errorf("%s sees the mean of %d results", name, s.N)
				}
				for _, b := range s.Bands {
					if b.Count != nil && *b.Count > 0 && *b.Count < 5 {
						t.Errorf("%s sees band %s = %d", name, b.Code, *b.Count)
					}
				}
			}
		}
		for _, s := range rep.Suicide {
			if s.Positive != nil && *s.Positive > 0 {
				t.Errorf("%s sees %d positive suicide items", name, *s.Positive)
			}
		}
		for _, r := range append(append(rep.Classes, rep.ByGrade...), rep.BySex...) {
			for k, v := range r.Levels {
				if v != nil && *v > 0 && *v < 5 {
					t.Errorf("%s sees %s %s = %d", name, r.Name, k, *v)
				}
			}
		}
		c.do("PUT", "/api/v1/campaigns/"+id+"/absences/"+people["赵六"], map[string]any{"reason": "转学"}).expectError(t, 403, "forbidden")
		// The workbook has no appendix sheets either.
		req, _ := http.NewRequest("GET", o.s.base+"/api/v1/campaigns/"+id+"/group-report.xlsx?unit=schoolA", nil)
		wr := c.send(req)
		f, err := excelize.OpenReader(strings.NewReader(wr.raw))
		if err != nil {
			t.Fatalf("%s: not a workbook (%d): %s", name, wr.status, wr.raw)
		}
		for _, sh := range f.GetSheetList() {
			if strings.Contains(sh, "附录") {
				t.Errorf("%s's workbook has sheet %s", name, sh)
			}
		}
	}
	// A teacher's default unit is the class of... the teacher here belongs
	// to the school, so the default is the campaign's school.
	if rep, _ := readReport(t, o.teacherA.do("GET", "/api/v1/campaigns/"+id+"/group-report", nil)); rep.Participation.Roster != 5 {
		t.Errorf("teacher's default report covers %d pupils", rep.Participation.Roster)
	}
}

// rawCodes are the ids a label must never be: instruments, scores, bands,
// validity checks and rules of the documents in the screening.
var rawCodes = regexp.MustCompile(`^(phq9|asq|study_stress|total|positive|acute|minimal|mild|moderate|moderately_severe|severe|negative|low|high|same_answer|item9|m|f|open|claimed|l1|l2|l3|none)$`)

// TestGroupReportLabels: no label of the report, in either locale, and no
// cell of its workbook is a raw id or code.
func TestGroupReportLabels(t *testing.T) {
	t.Parallel()
	o := newQueueOrg(t)
	id, _ := screening(t, o)
	for _, locale := range []string{"zh-CN", "en"} {
		r := o.psychA.do("GET", "/api/v1/campaigns/"+id+"/group-report?locale="+locale, nil)
		var doc any
		if err := json.Unmarshal([]byte(r.raw), &doc); err != nil {
			t.Fatal(err)
		}
		var walk func(path string, v any)
		labels := 0
		walk = func(path string, v any) {
			switch v := v.(type) {
			case map[string]any:
				for k, x := range v {
					walk(path+"."+k, x)
				}
			case []any:
				for _, x := range v {
					walk(path+"[]", x)
				}
			case string:
				last := path[strings.LastIndex(path, ".")+1:]
				last = strings.TrimSuffix(last, "[]")
				switch last {
				case "label", "title", "name", "instrument_title", "groups", "checks", "reasons":
					labels++
					if rawCodes.MatchString(v) || (v == "" && path != ".report.unit.name") { // the test org's units have no names
						t.Errorf("%s: %s is %q", locale, path, v)
					}
					if locale == "en" && regexp.MustCompile(`\p{Han}`).MatchString(v) && !strings.HasSuffix(path, ".name") &&
						!strings.Contains(path, "appendices") && !strings.HasPrefix(path, ".report.campaign") && !strings.HasPrefix(path, ".report.unit") &&
						!strings.Contains(path, "classes") && !strings.Contains(path, "by_grade") {
						t.Errorf("en: %s is Chinese: %q", path, v)
					}
				}
			}
		}
		walk("", doc)
		if labels < 20 {
			t.Errorf("%s: only %d labels found; the walk is broken", locale, labels)
		}

		req, _ := http.NewRequest("GET", o.s.base+"/api/v1/campaigns/"+id+"/group-report.xlsx?locale="+locale, nil)
		wr := o.psychA.send(req)
		f, err := excelize.OpenReader(strings.NewReader(wr.raw))
		if err != nil {
			t.Fatalf("%s: not a workbook (%d): %s", locale, wr.status, wr.raw)
		}
		sheets := f.GetSheetList()
		if len(sheets) != 9 {
			t.Errorf("%s: sheets %v", locale, sheets)
		}
		cells := 0
		for _, sh := range sheets {
			rows, err := f.GetRows(sh)
			if err != nil {
				t.Fatal(err)
			}
			for _, row := range rows {
				for _, cell := range row {
					cells++
					if rawCodes.MatchString(cell) {
						t.Errorf("%s: sheet %s has a raw code %q", locale, sh, cell)
					}
				}
			}
		}
		if cells < 50 {
			t.Errorf("%s: only %d cells", locale, cells)
		}
		if locale == "zh-CN" {
			joined := fmt.Sprint(sheets)
			for _, want := range []string{"概况", "附录一 重点关注名单", "附录三 未参加名单"} {
				if !strings.Contains(joined, want) {
					t.Errorf("no sheet %s in %v", want, sheets)
				}
			}
			rows, _ := f.GetRows("附录一 重点关注名单")
			if len(rows) != 3 || rows[2][0] != "李*" || rows[2][3] != "一级预警" || rows[2][5] != "待处理" {
				t.Errorf("focus sheet: %q", rows)
			}
		}
	}
	if entries, _, _ := o.s.store.ListAudit(context.Background(), store.AuditFilter{Action: "export", TargetID: id}, store.Page{}); len(entries) != 2 {
		t.Errorf("%d audit entries for two exports", len(entries))
	}
}

// TestClassTeacherSeesTheSchoolsCampaign: a class teacher lists and opens
// the school's screening of their class, and reads its report for the
// class; a teacher of a class it does not screen sees none of it; neither
// may change it.
func TestClassTeacherSeesTheSchoolsCampaign(t *testing.T) {
	t.Parallel()
	o := newQueueOrg(t)
	id, _ := screening(t, o)
	if _, err := o.s.store.CreateUnit(context.Background(), store.Unit{ID: "a7-3", ParentID: "a7", Kind: "class", Name: "七年级三班"}); err != nil {
		t.Fatal(err)
	}
	mine := o.s.staffOf("teacher-7-1", store.RoleTeacher, "a7-1")
	other := o.s.staffOf("teacher-7-3", store.RoleTeacher, "a7-3")
	if r := mine.do("GET", "/api/v1/campaigns", nil); r.status != 200 || !strings.Contains(r.raw, id) {
		t.Fatalf("the class teacher's campaigns: %s", r.raw)
	}
	if r := mine.do("GET", "/api/v1/campaigns/"+id, nil); r.status != 200 {
		t.Fatalf("the class teacher opens the campaign: %s", r.raw)
	}
	if rep, raw := readReport(t, mine.do("GET", "/api/v1/campaigns/"+id+"/group-report", nil)); !strings.Contains(raw, `"id":"a7-1"`) || !rep.Aggregate || rep.Appendices != nil {
		t.Errorf("the class teacher's report: %s", raw)
	}
	mine.do("POST", "/api/v1/campaigns/"+id+"/close", nil).expectError(t, 403, "forbidden")
	if r := other.do("GET", "/api/v1/campaigns", nil); r.status != 200 || strings.Contains(r.raw, id) {
		t.Fatalf("another class's teacher lists the campaign: %s", r.raw)
	}
	other.do("GET", "/api/v1/campaigns/"+id, nil).expectError(t, 404, "not_found")
}
