//go:build !fuzzdecode

package api_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
)

// A whole journey with every log line captured: a school imports a roster
// with a named student, the student enters with a personal code, answers,
// and submits an item-9 answer that raises a warning; a psychologist signs
// in, claims it, reads the student's record and writes a case note. The log
// must hold none of the student's name, student number, birth month, code,
// session token, answers, the case note, nor the staff's cookie, CSRF token
// or a mistyped password.
func TestLogsOfAJourneyHoldNoPersonalData(t *testing.T) {
	logs, withLog := captureLogs(t)
	o := newQueueOrg(t, withLog)
	s := o.s
	id := campaignWith(t, o, "roster", "bands")
	if _, err := s.store.RenameUnit(context.Background(), "a7-1", "七年级一班", "class"); err != nil {
		t.Fatal(err)
	}
	const name, studentNo, birth = "欧阳明月", "2024777", "2011-09"
	const note = "自述与继父冲突后彻夜失眠"
	roster := "学号,姓名,性别,出生年月,班级\n" + studentNo + "," + name + ",女," + birth + ",七年级一班\n"
	if r := o.psychA.upload("/api/v1/units/schoolA/roster", "roster.csv", roster, nil); r.status != 200 || r.body["created"] != 1.0 {
		t.Fatalf("roster: %s", r.raw)
	}
	// A rejected roster echoes its rows to the uploader, not to the log.
	o.psychA.upload("/api/v1/units/schoolA/roster", "roster.csv", roster+studentNo+","+name+"二,女,"+birth+",七年级一班\n", nil)
	code := o.psychA.do("POST", "/api/v1/campaigns/"+id+"/personal-codes", nil).body["codes"].([]any)[0].(map[string]any)["code"].(string)

	r := s.do("POST", "/api/v1/sessions", "", map[string]any{"code": code, "consent": true})
	if r.status != 201 {
		t.Fatalf("code entry: %s", r.raw)
	}
	ss := session{id: r.body["id"].(string), token: r.body["token"].(string)}
	for _, it := range r.body["items"].([]any) {
		ss.items = append(ss.items, it.(map[string]any)["id"].(string))
	}
	// Codes and tokens also turn up where they do not belong: in a path,
	// a query string, a bad request.
	s.do("GET", "/api/v1/sessions/"+code+"?code="+code+"&name="+url.QueryEscape(name), ss.token, nil)
	s.do("POST", "/api/v1/sessions", ss.token, map[string]any{"code": code, "name": name})
	s.answerAll(ss, 3, 3, 3, 3, 3, 3, 3, 3, 2, 0, 0, 0, 0)
	s.answer(ss, "phq9.q9", 7, 99) // out of range: refused
	sub := s.do("POST", "/api/v1/sessions/"+ss.id+"/submit", ss.token, nil)
	if sub.status != 200 || sub.body["crisis"] == nil {
		t.Fatalf("submit: %s", sub.raw)
	}

	o.psychA.login("psych-a", "the-wrong-password-9")
	if r := o.psychA.login("psych-a", "a-long-new-secret"); r.status != 200 {
		t.Fatal(r.raw)
	}
	entries := o.psychA.do("GET", "/api/v1/warnings?level=1", nil).body["warnings"].([]any)
	if len(entries) != 1 {
		t.Fatalf("%d level-1 entries", len(entries))
	}
	entry := entries[0].(map[string]any)
	wid, pid := entry["id"].(string), entry["person_id"].(string)
	if r := o.psychA.do("POST", "/api/v1/warnings/"+wid+"/claim", nil); r.status != 200 {
		t.Fatalf("claim: %s", r.raw)
	}
	if r := o.psychA.do("GET", "/api/v1/persons/"+pid, nil); r.status != 200 || !strings.Contains(r.raw, pid) {
		t.Fatalf("record: %s", r.raw)
	}
	if r := o.psychA.do("POST", "/api/v1/cases", map[string]any{"person_id": pid, "warning_id": wid, "self_evaluation": note,
		"group_notified": true}); r.status != 201 {
		t.Fatalf("case: %s", r.raw)
	}
	o.psychA.do("POST", "/api/v1/cases", map[string]any{"person_id": pid, "group_notified": true, "name": name, "advice": note})

	text := logs.String()
	base, _ := url.Parse(s.base)
	var cookie string
	for _, c := range o.psychA.client.Jar.Cookies(base) {
		cookie = c.Value
	}
	secrets := map[string]string{
		"name": name, "student number": studentNo, "birth month": birth, "access code": code,
		"access code (lower case)": strings.ToLower(code), "session token": ss.token, "case note": note,
		"staff cookie": cookie, "CSRF token": o.psychA.csrf, "mistyped password": "the-wrong-password-9",
		"new password": "a-long-new-secret", "escaped name": url.QueryEscape(name),
	}
	for what, v := range secrets {
		if v == "" {
			t.Fatalf("the journey produced no %s to look for", what)
		}
		if strings.Contains(text, v) {
			t.Errorf("the log holds the %s %q", what, v)
		}
	}
	// Answers: no line names an item or carries a value.
	lines := logs.lines(t)
	for _, l := range lines {
		for _, k := range []string{"value", "values", "answers", "item", "score", "scores"} {
			if _, ok := l[k]; ok {
				t.Errorf("a log line carries %q: %v", k, l)
			}
		}
	}
	if strings.Contains(text, "phq9.q") || strings.Contains(text, "asq.q") {
		t.Error("the log names answered items")
	}
	// And the log did record the journey, request by request.
	routes := map[string]bool{}
	for _, l := range lines {
		if l["msg"] == "request" {
			if l["request_id"] == nil {
				t.Errorf("access line without a request id: %v", l)
			}
			routes[l["route"].(string)] = true
		}
	}
	for _, want := range []string{"/api/v1/units/:id/roster", "/api/v1/sessions", "/api/v1/sessions/:id/answers/:item",
		"/api/v1/sessions/:id/submit", "/api/v1/auth/login", "/api/v1/persons/:id", "/api/v1/cases"} {
		if !routes[want] {
			t.Errorf("no access line for %s", want)
		}
	}
}
