//go:build !fuzzdecode

package api_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"xinling/api"
	"xinling/assess"
	"xinling/store"
)

// staffOf creates an account and signs it in with its own password.
func (s *server) staffOf(login string, role store.Role, unit string) *console {
	s.t.Helper()
	_, otp, err := s.staff.CreateByOperator(context.Background(), assess.NewStaffRequest{Login: login, Name: login, Role: role, UnitID: unit})
	if err != nil {
		s.t.Fatal(err)
	}
	return s.signIn(login, otp)
}

// warning files a submitted session with a level-n entry in unit, the way
// a campaign session would, and returns the entry id.
func (s *server) warning(unit string, level int) string {
	s.t.Helper()
	ctx := context.Background()
	sess := store.Session{ID: store.NewID(), Instruments: []string{"phq9@1.0.0"}, UnitID: unit, Consent: true, CreatedAt: s.clock.Now()}
	if _, err := s.store.CreateSession(ctx, sess); err != nil {
		s.t.Fatal(err)
	}
	if _, err := s.store.SaveAnswer(ctx, store.Answer{SessionID: sess.ID, Item: "phq9.q9", Value: 1, Seq: 1, At: s.clock.Now()}); err != nil {
		s.t.Fatal(err)
	}
	rid := store.NewID()
	out, err := s.store.Submit(ctx, store.Submission{SessionID: sess.ID, At: s.clock.Now(),
		Results: []store.Result{{ID: rid, Instrument: "phq9", Version: "1.0.0", Scores: map[string]float64{"total": 12}, Bands: map[string]string{"total": "moderate"}}},
		Warning: &store.WarningDraft{ID: store.NewID(), Key: sess.ID, Level: level, DueAt: s.clock.Now().Add(time.Hour),
			Reasons: []store.Reason{{ResultID: rid, Instrument: "phq9", Rule: "item9", Level: level, Text: map[string]string{"zh-CN": "第 9 题阳性", "en": "Item 9 positive"}}}}})
	if err != nil || out.Warning == nil {
		s.t.Fatalf("submit: %v", err)
	}
	return out.Warning.ID
}

// queueOrg: city → county → {schoolA, schoolB}, with one account of each
// role, and one entry in each school.
type queueOrg struct {
	s                  *server
	counsellor, psychA *console
	psychB, teacherA   *console
	viewer, admin      *console
	inA, inB           string
}

func newQueueOrg(t *testing.T, mutate ...func(*api.Config, *assess.Options)) *queueOrg {
	s := newServer(t, mutate...)
	o := &queueOrg{s: s}
	o.admin = s.signIn("admin", s.org())
	o.counsellor = s.staffOf("county-c", store.RoleCounsellor, "county")
	o.psychA = s.staffOf("psych-a", store.RoleSchoolPsychologist, "schoolA")
	o.psychB = s.staffOf("psych-b", store.RoleSchoolPsychologist, "schoolB")
	o.teacherA = s.staffOf("teacher-a", store.RoleTeacher, "schoolA")
	o.viewer = s.staffOf("viewer", store.RoleViewer, "city")
	o.inA, o.inB = s.warning("schoolA", 2), s.warning("schoolB", 2)
	return o
}

func ids(r response) []string {
	var out []string
	for _, w := range r.body["warnings"].([]any) {
		out = append(out, w.(map[string]any)["id"].(string))
	}
	return out
}

// The isolation matrix: every role against every queue endpoint, with an
// entry in scope and one out of it (school A's psychologist and school B's
// entry are the sibling-school case).
func TestQueueIsolationMatrix(t *testing.T) {
	t.Parallel()
	o := newQueueOrg(t)
	type who struct {
		name    string
		c       *console
		sees    map[string]bool // entry → in scope
		allowed bool            // may work individual entries at all
	}
	all := map[string]bool{o.inA: true, o.inB: true}
	roles := []who{
		{"admin@city", o.admin, all, true},
		{"counsellor@county", o.counsellor, all, true},
		{"psychologist@schoolA", o.psychA, map[string]bool{o.inA: true, o.inB: false}, true},
		{"psychologist@schoolB", o.psychB, map[string]bool{o.inA: false, o.inB: true}, true},
		{"teacher@schoolA", o.teacherA, map[string]bool{o.inA: false, o.inB: false}, false},
		{"viewer@city", o.viewer, map[string]bool{o.inA: false, o.inB: false}, false},
	}
	for _, r := range roles {
		t.Run(r.name, func(t *testing.T) {
			list := r.c.do("GET", "/api/v1/warnings", nil)
			if !r.allowed {
				list.expectError(t, 403, "forbidden")
			} else {
				got := ids(list)
				for id, in := range r.sees {
					if in != strings.Contains(strings.Join(got, ","), id) {
						t.Errorf("list: entry %s visible=%v, want %v", id, !in, in)
					}
				}
			}
			for id, in := range r.sees {
				endpoints := []struct {
					method, path string
					body         any
				}{
					{"GET", "/api/v1/warnings/" + id, nil},
					{"POST", "/api/v1/warnings/" + id + "/claim", nil},
					{"POST", "/api/v1/warnings/" + id + "/transition", map[string]any{"to": "open", "note": "release"}},
					{"POST", "/api/v1/warnings/" + id + "/assign", map[string]any{"assignee_id": "nobody", "note": "n"}},
				}
				for _, e := range endpoints {
					resp := r.c.do(e.method, e.path, e.body)
					switch {
					case !r.allowed:
						resp.expectError(t, 403, "forbidden")
					case !in:
						resp.expectError(t, 404, "not_found")
					case resp.status >= 500 || resp.status == 403:
						t.Errorf("%s %s in scope: %d %s", e.method, e.path, resp.status, resp.raw)
					}
				}
			}
		})
	}
}

func TestQueueWorkflow(t *testing.T) {
	t.Parallel()
	o := newQueueOrg(t)
	c := o.psychA
	base := "/api/v1/warnings/" + o.inA
	// Moves need a claim, then a note; closing needs a known outcome.
	c.do("POST", base+"/transition", map[string]any{"to": "following_up", "note": "called"}).expectError(t, 409, "conflict")
	if r := c.do("POST", base+"/claim", nil); r.status != 200 || r.body["warning"].(map[string]any)["state"] != "claimed" {
		t.Fatal(r.raw)
	}
	o.counsellor.do("POST", base+"/claim", nil).expectError(t, 409, "conflict")
	// Releasing hands it back; then the claim is taken again.
	c.do("POST", base+"/release", map[string]any{}).expectError(t, 400, "validation_failed")
	if r := c.do("POST", base+"/release", map[string]any{"note": "not mine after all"}); r.status != 200 || r.body["warning"].(map[string]any)["state"] != "open" {
		t.Fatal(r.raw)
	}
	if r := c.do("POST", base+"/claim", nil); r.status != 200 {
		t.Fatal(r.raw)
	}
	c.do("POST", base+"/transition", map[string]any{"to": "following_up"}).expectError(t, 400, "validation_failed")
	if r := c.do("POST", base+"/transition", map[string]any{"to": "following_up", "note": "called the family"}); r.status != 200 {
		t.Fatal(r.raw)
	}
	c.do("POST", base+"/transition", map[string]any{"to": "closed", "note": "done"}).expectError(t, 400, "validation_failed")
	c.do("POST", base+"/transition", map[string]any{"to": "closed", "note": "done", "outcome": "fine"}).expectError(t, 400, "validation_failed")
	if r := c.do("POST", base+"/transition", map[string]any{"to": "closed", "note": "counselled twice", "outcome": "counselled"}); r.status != 200 {
		t.Fatal(r.raw)
	}
	d := c.do("GET", base, nil)
	hist := d.body["warning"].(map[string]any)["history"].([]any)
	if len(hist) < 4 || len(d.body["results"].([]any)) != 1 || len(d.body["answers"].([]any)) != 1 {
		t.Fatalf("detail: %s", d.raw)
	}
	// The counsellor reads the question and the answer in words.
	if a := d.body["answers"].([]any)[0].(map[string]any); a["item"] != "phq9.q9" || a["text"] != "有不如死掉或用某种方式伤害自己的念头" || a["label"] != "好几天" {
		t.Fatalf("answer wording: %v", a)
	}
	if r := d.body["results"].([]any)[0].(map[string]any); r["band_labels"].(map[string]any)["total"] != "中度抑郁症状" ||
		r["score_labels"].(map[string]any)["total"] != "总分" {
		t.Fatalf("band in words: %v", r)
	}
	// Reading an entry is reading a person's record: audited.
	entries, _, _ := o.s.store.ListAudit(context.Background(), store.AuditFilter{Action: "read_warning", TargetID: o.inA}, store.Page{})
	if len(entries) != 1 {
		t.Fatalf("%d audit entries for one read", len(entries))
	}
	// Assigning: only to a colleague whose subtree holds the entry.
	psychBID := o.psychB.do("GET", "/api/v1/auth/me", nil).body["staff"].(map[string]any)["id"].(string)
	o.counsellor.do("POST", "/api/v1/warnings/"+o.inA+"/assign", map[string]any{"assignee_id": psychBID, "note": "x"}).expectError(t, 404, "not_found")
	if r := o.counsellor.do("POST", "/api/v1/warnings/"+o.inB+"/assign", map[string]any{"assignee_id": psychBID, "note": "your school"}); r.status != 200 ||
		r.body["warning"].(map[string]any)["assignee_id"] != psychBID {
		t.Fatal(r.raw)
	}
}

func TestConcurrentClaimsExactlyOneWins(t *testing.T) {
	t.Parallel()
	o := newQueueOrg(t)
	var consoles []*console
	for i := 0; i < 8; i++ {
		consoles = append(consoles, o.s.staffOf(fmt.Sprintf("c%d", i), store.RoleCounsellor, "county"))
	}
	var wg sync.WaitGroup
	statuses := make([]int, len(consoles))
	for i, c := range consoles {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = c.do("POST", "/api/v1/warnings/"+o.inB+"/claim", nil).status
		}()
	}
	wg.Wait()
	won := 0
	for _, st := range statuses {
		switch st {
		case 200:
			won++
		case 409:
		default:
			t.Fatalf("claim answered %d", st)
		}
	}
	if won != 1 {
		t.Fatalf("%d claims won, want exactly 1 (%v)", won, statuses)
	}
}

func TestLevelOneEscalatesUpTheTree(t *testing.T) {
	t.Parallel()
	o := newQueueOrg(t)
	red := o.s.warning("schoolA", 1)
	amber := o.s.warning("schoolA", 2)
	if n, err := o.s.queue.Escalate(context.Background()); err != nil || n != 0 {
		t.Fatalf("before the deadline: %d escalated, %v", n, err)
	}
	o.s.clock.Add(61 * time.Minute)
	if n, err := o.s.queue.Escalate(context.Background()); err != nil || n != 1 {
		t.Fatalf("after the deadline: %d escalated, %v; want the level-1 entry only", n, err)
	}
	// School A no longer holds it; the county does, with the move recorded.
	o.psychA.do("GET", "/api/v1/warnings/"+red, nil).expectError(t, 404, "not_found")
	d := o.counsellor.do("GET", "/api/v1/warnings/"+red, nil)
	w := d.body["warning"].(map[string]any)
	hist := w["history"].([]any)
	last := hist[len(hist)-1].(map[string]any)
	if w["unit_id"] != "county" || last["kind"] != "escalated" || w["escalations"] != 1.0 {
		t.Fatalf("escalated entry: %s", d.raw)
	}
	if r := o.psychA.do("GET", "/api/v1/warnings/"+amber, nil); r.status != 200 {
		t.Fatalf("a level-2 entry must stay: %s", r.raw)
	}
	// A claimed level-1 entry is being handled: it does not move.
	claimed := o.s.warning("schoolB", 1)
	o.psychB.do("POST", "/api/v1/warnings/"+claimed+"/claim", nil)
	o.s.clock.Add(2 * time.Hour)
	o.s.queue.Escalate(context.Background())
	if r := o.psychB.do("GET", "/api/v1/warnings/"+claimed, nil); r.status != 200 {
		t.Fatalf("a claimed entry moved: %s", r.raw)
	}
}

// A new level-1 entry reaches a connected console through a real HTTP
// stream; the latency is logged, not asserted.
func TestNewWarningReachesConsoleOverSSE(t *testing.T) {
	t.Parallel()
	o := newQueueOrg(t, func(_ *api.Config, c *assess.Options) { c.Sessions.SelfTestUnit = "county" })
	req, _ := http.NewRequest("GET", o.s.base+"/api/v1/warnings/stream", nil)
	resp, err := o.counsellor.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	if l := <-lines; !strings.HasPrefix(l, ": connected") {
		t.Fatalf("first line %q", l)
	}
	// A resident's self-test with item 9 positive.
	ss := o.s.start(map[string]any{"instrument": "phq9"})
	o.s.answerAll(ss, 0, 0, 0, 0, 0, 0, 0, 0, 2)
	start := time.Now()
	o.s.do("POST", "/api/v1/sessions/"+ss.id+"/submit", ss.token, nil)
	deadline := time.After(10 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("stream closed")
			}
			if strings.HasPrefix(l, "data: ") && strings.Contains(l, `"level":1`) {
				t.Logf("level-1 entry reached the console %v after the submit returned", time.Since(start))
				return
			}
		case <-deadline:
			t.Fatal("no event within 10 s")
		}
	}
}

func TestStreamIsForCaseWorkersOnly(t *testing.T) {
	t.Parallel()
	o := newQueueOrg(t)
	o.teacherA.do("GET", "/api/v1/warnings/stream", nil).expectError(t, 403, "forbidden")
}

// Teachers see anonymous aggregates of their own units, with small counts
// suppressed, and nothing of other units.
func TestTeacherSeesOnlyAnonymousAggregates(t *testing.T) {
	t.Parallel()
	o := newQueueOrg(t)
	for i := 0; i < 5; i++ {
		o.s.warning("schoolA", 3)
	}
	r := o.teacherA.do("GET", "/api/v1/units/schoolA/summary", nil)
	if r.status != 200 {
		t.Fatal(r.raw)
	}
	w := r.body["warnings"].(map[string]any)
	if w["3"] != 5.0 || w["2"] != nil || w["1"] != 0.0 {
		t.Fatalf("teacher's warning counts: %s (level 2 has 1 entry and must be suppressed)", r.raw)
	}
	inst := r.body["instruments"].([]any)[0].(map[string]any)
	if inst["instrument"] != "phq9" || inst["results"] != 6.0 || inst["bands"].([]any)[0].(map[string]any)["count"] != 6.0 {
		t.Fatalf("teacher's band counts: %s", r.raw)
	}
	if strings.Contains(r.raw, "person") || strings.Contains(r.raw, "session") {
		t.Fatalf("an aggregate mentions individuals: %s", r.raw)
	}
	o.teacherA.do("GET", "/api/v1/units/schoolB/summary", nil).expectError(t, 404, "not_found")
	// A counsellor sees the small counts too.
	if r := o.counsellor.do("GET", "/api/v1/units/schoolA/summary", nil); r.body["warnings"].(map[string]any)["2"] != 1.0 {
		t.Fatalf("counsellor: %s", r.raw)
	}
}
