//go:build !fuzzdecode

package api_test

import (
	"testing"
)

// A resident's anonymous self-test names nobody, yet the station that
// works its queue entry records the counselling that follows: the first
// case creates a person in the entry's unit, later cases of the entry join
// that person, and the entry's case list shows them. Outside the entry's
// subtree it stays 404.
func TestCaseOnAnonymousEntry(t *testing.T) {
	t.Parallel()
	o := newQueueOrg(t)
	c := o.psychA
	w := o.inA // an anonymous entry of school A

	c.do("POST", "/api/v1/cases", map[string]any{"group_notified": true}).expectError(t, 400, "validation_failed")
	o.psychB.do("POST", "/api/v1/cases", map[string]any{"warning_id": w, "group_notified": true}).expectError(t, 404, "not_found")

	r := c.do("POST", "/api/v1/cases", map[string]any{"warning_id": w, "advice": "电话回访，约定面谈", "group_notified": false})
	if r.status != 201 {
		t.Fatal(r.raw)
	}
	person, _ := field(r, "case", "person_id").(string)
	if person == "" || field(r, "case", "warning_id") != w || field(r, "person", "unit_id") != "schoolA" {
		t.Fatalf("created: %s", r.raw)
	}
	first := field(r, "case", "id").(string)
	r = c.do("POST", "/api/v1/cases", map[string]any{"warning_id": w, "advice": "面谈一次", "group_notified": true})
	if r.status != 201 || field(r, "case", "person_id") != person {
		t.Fatalf("a second case of the entry should join the same person: %s", r.raw)
	}
	second := field(r, "case", "id").(string)

	if r := c.do("GET", "/api/v1/cases?warning="+w, nil); r.status != 200 || len(r.body["cases"].([]any)) != 2 {
		t.Fatalf("cases of the entry: %s", r.raw)
	}
	if r := c.do("GET", "/api/v1/cases/"+first, nil); r.status != 200 || field(r, "case", "advice") != "电话回访，约定面谈" {
		t.Fatalf("read: %s", r.raw)
	}
	if r := c.do("GET", "/api/v1/persons/"+person, nil); listIDs(r, "cases") == "" {
		t.Fatalf("the person record lacks the cases: %s", r.raw)
	}
	o.psychB.do("GET", "/api/v1/cases?warning="+w, nil).expectError(t, 404, "not_found")
	o.psychB.do("GET", "/api/v1/cases/"+second, nil).expectError(t, 404, "not_found")
	// A named person cannot be attached to someone else's anonymous entry.
	other := o.s.person("schoolA")
	c.do("POST", "/api/v1/cases", map[string]any{"person_id": other, "warning_id": w, "group_notified": true}).expectError(t, 400, "validation_failed")
}
