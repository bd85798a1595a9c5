//go:build !fuzzdecode

package api_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"xinling/api"
	"xinling/assess"
	"xinling/store"
)

// The warm hand-off through HTTP: call-back requests, slots, bookings,
// "my tests" and the monthly table.

const residentPhone = "13800138000"

// selfTest takes a PHQ-9 through the API and submits it.
func (s *server) selfTest(values ...float64) (session, response) {
	s.t.Helper()
	ss := s.start(map[string]any{"instrument": "phq9"})
	s.answerAll(ss, values...)
	sub := s.do("POST", "/api/v1/sessions/"+ss.id+"/submit", ss.token, nil)
	if sub.status != 200 {
		s.t.Fatalf("submit: %s", sub.raw)
	}
	return ss, sub
}

func (s *server) callbackBody(extra map[string]any) map[string]any {
	now := s.clock.Now()
	body := map[string]any{"phone": "138-0013-8000", "note": "下午三点后方便", "preferred_from": now.Add(2 * time.Hour).Format(time.RFC3339),
		"preferred_to": now.Add(5 * time.Hour).Format(time.RFC3339), "consent": true, "consent_version": "v1"}
	for k, v := range extra {
		if v == nil {
			delete(body, k)
		} else {
			body[k] = v
		}
	}
	return body
}

func TestCallbackFromTheCrisisScreen(t *testing.T) {
	t.Parallel()
	logs, withLog := captureLogs(t)
	o := newQueueOrg(t, withLog)
	s := o.s
	cityC := s.staffOf("city-c", store.RoleCounsellor, "city")

	// PHQ-9 with item 9 positive: the crisis block, and the offer.
	ss, sub := s.selfTest(1, 1, 1, 1, 1, 1, 1, 1, 2)
	if sub.body["crisis"] == nil || sub.body["callback_offer"] != true {
		t.Fatalf("submit: %s", sub.raw)
	}
	r := s.do("POST", "/api/v1/sessions/"+ss.id+"/callback", ss.token, s.callbackBody(nil))
	if r.status != 201 {
		t.Fatalf("callback: %s", r.raw)
	}
	cb := r.body["callback"].(map[string]any)
	if cb["state"] != "requested" || cb["phone"] != "138****8000" || strings.Contains(r.raw, residentPhone) {
		t.Fatalf("callback view: %s", r.raw)
	}

	// The counsellor sees 回电请求 with the preferred time in the queue,
	// without the number.
	list := cityC.do("GET", "/api/v1/warnings?level=1", nil)
	if list.status != 200 || len(ids(list)) != 1 {
		t.Fatalf("queue: %s", list.raw)
	}
	entry := list.body["warnings"].([]any)[0].(map[string]any)
	sum, _ := entry["callback"].(map[string]any)
	want := s.clock.Now().Add(2 * time.Hour).UTC().Format(time.RFC3339)
	if sum == nil || sum["open"] != 1.0 || sum["preferred_from"] != want || strings.Contains(list.raw, residentPhone) {
		t.Fatalf("queue entry lacks the call-back summary (want from %s): %s", want, list.raw)
	}
	reasons := fmt.Sprint(entry["reasons"])
	if !strings.Contains(reasons, "callback") || !strings.Contains(reasons, "请求回电") {
		t.Fatalf("reasons: %s", reasons)
	}
	wid := entry["id"].(string)
	if r := cityC.do("POST", "/api/v1/warnings/"+wid+"/claim", nil); r.status != 200 {
		t.Fatalf("claim: %s", r.raw)
	}
	d := cityC.do("GET", "/api/v1/warnings/"+wid, nil)
	cbs, _ := d.body["callbacks"].([]any)
	if d.status != 200 || len(cbs) != 1 {
		t.Fatalf("detail: %s", d.raw)
	}
	full := cbs[0].(map[string]any)
	if full["phone"] != residentPhone || full["note"] != "下午三点后方便" || full["preferred_from"] != want || full["consent_version"] != "v1" {
		t.Fatalf("detail's call-back: %v", full)
	}
	if n := len(s.audits("read_warning")); n != 1 {
		t.Fatalf("%d read_warning audit lines, want 1", n)
	}

	// The outcome, by staff of the entry's subtree only.
	cid := full["id"].(string)
	o.psychA.do("POST", "/api/v1/callbacks/"+cid+"/state", map[string]any{"state": "called"}).expectError(t, 404, "not_found")
	o.teacherA.do("POST", "/api/v1/callbacks/"+cid+"/state", map[string]any{"state": "called"}).expectError(t, 403, "forbidden")
	cityC.do("POST", "/api/v1/callbacks/"+cid+"/state", map[string]any{"state": "requested"}).expectError(t, 400, "validation_failed")
	cityC.do("POST", "/api/v1/callbacks/nope/state", map[string]any{"state": "called"}).expectError(t, 404, "not_found")
	r = cityC.do("POST", "/api/v1/callbacks/"+cid+"/state", map[string]any{"state": "called"})
	if r.status != 200 || r.body["callback"].(map[string]any)["state"] != "called" || r.body["callback"].(map[string]any)["called_at"] == nil {
		t.Fatalf("called: %s", r.raw)
	}
	cityC.do("POST", "/api/v1/callbacks/"+cid+"/state", map[string]any{"state": "unreachable"}).expectError(t, 409, "conflict")
	if n := len(s.audits("callback_called")); n != 1 {
		t.Fatalf("%d callback_called audit lines", n)
	}
	if list := cityC.do("GET", "/api/v1/warnings?level=1", nil); list.body["warnings"].([]any)[0].(map[string]any)["callback"] != nil {
		t.Fatalf("a called request still shows as waiting: %s", list.raw)
	}

	// The number and the note never reach the log.
	if text := logs.String(); strings.Contains(text, residentPhone) || strings.Contains(text, "138-0013-8000") || strings.Contains(text, "下午三点后方便") {
		t.Fatalf("the log holds the phone number or note:\n%s", text)
	}
}

func TestCallbackWithoutAWarningOpensALevelTwoEntry(t *testing.T) {
	t.Parallel()
	o := newQueueOrg(t)
	s := o.s
	ss, sub := s.selfTest(0, 0, 0, 0, 0, 0, 0, 0, 0)
	if sub.body["callback_offer"] != false {
		t.Fatalf("a result without a warning offers a call-back: %s", sub.raw)
	}
	if r := s.do("POST", "/api/v1/sessions/"+ss.id+"/callback", ss.token, s.callbackBody(nil)); r.status != 201 {
		t.Fatalf("callback: %s", r.raw)
	}
	ws, _, err := s.store.ListWarnings(context.Background(), store.WarningFilter{}, store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	var mine []store.Warning
	for _, w := range ws {
		if w.SessionID == ss.id {
			mine = append(mine, w)
		}
	}
	if len(mine) != 1 || mine[0].Level != 2 || mine[0].UnitID != "city" || len(mine[0].Reasons) != 1 || mine[0].Reasons[0].Text["zh-CN"] != "请求回电" {
		t.Fatalf("entries of the session: %+v", mine)
	}
	// The deadline is the end of the preferred window, which comes before
	// the level's SLA.
	if want := s.clock.Now().Add(5 * time.Hour).UTC().Truncate(time.Second); !mine[0].DueAt.Equal(want) {
		t.Fatalf("due %v, want %v", mine[0].DueAt, want)
	}
	// A few per session, then 409.
	for i := 2; i <= store.MaxCallbacksPerSession; i++ {
		if r := s.do("POST", "/api/v1/sessions/"+ss.id+"/callback", ss.token, s.callbackBody(nil)); r.status != 201 {
			t.Fatalf("request %d: %s", i, r.raw)
		}
	}
	s.do("POST", "/api/v1/sessions/"+ss.id+"/callback", ss.token, s.callbackBody(nil)).expectError(t, 409, "callback_limit")
}

func TestCallbackRefusesBadInput(t *testing.T) {
	t.Parallel()
	o := newQueueOrg(t)
	s := o.s
	ss, _ := s.selfTest(1, 1, 1, 1, 1, 1, 1, 1, 2)
	path := "/api/v1/sessions/" + ss.id + "/callback"
	for _, c := range []struct {
		body          any
		status        int
		code, field   string
		token, reason string
	}{
		{s.callbackBody(nil), 401, "token_invalid", "", "", "no token"},
		{s.callbackBody(nil), 401, "token_invalid", "", "wrong-token", "another token"},
		{s.callbackBody(map[string]any{"phone": "12345"}), 400, "validation_failed", "phone", ss.token, "not a phone number"},
		{s.callbackBody(map[string]any{"phone": nil}), 400, "validation_failed", "phone", ss.token, "no phone"},
		{s.callbackBody(map[string]any{"consent": false}), 422, "consent_required", "consent", ss.token, "no consent"},
		{s.callbackBody(map[string]any{"consent_version": "v9"}), 400, "validation_failed", "consent_version", ss.token, "unknown wording"},
		{s.callbackBody(map[string]any{"note": strings.Repeat("长", 201)}), 400, "validation_failed", "note", ss.token, "long note"},
		{s.callbackBody(map[string]any{"preferred_to": s.clock.Now().Format(time.RFC3339)}), 400, "validation_failed", "preferred_to", ss.token, "window backwards"},
		{s.callbackBody(map[string]any{"preferred_from": "tomorrow"}), 400, "malformed_json", "", ss.token, "not a time"},
		{s.callbackBody(map[string]any{"preferred_from": s.clock.Now().Add(-5 * time.Hour).Format(time.RFC3339),
			"preferred_to": s.clock.Now().Add(-time.Hour).Format(time.RFC3339)}), 400, "validation_failed", "preferred_to", ss.token, "past"},
		{s.callbackBody(map[string]any{"preferred_from": s.clock.Now().Add(20 * 24 * time.Hour).Format(time.RFC3339),
			"preferred_to": s.clock.Now().Add(21 * 24 * time.Hour).Format(time.RFC3339)}), 400, "validation_failed", "preferred_from", ss.token, "too far"},
		{s.callbackBody(map[string]any{"name": "张三"}), 400, "validation_failed", "name", ss.token, "unknown field"},
		{"{", 400, "malformed_json", "", ss.token, "broken JSON"},
	} {
		r := s.do("POST", path, c.token, c.body)
		r.expectError(t, c.status, c.code)
		if f, _ := r.body["error"].(map[string]any)["field"].(string); f != c.field {
			t.Errorf("%s: field %q, want %q", c.reason, f, c.field)
		}
	}
	s.do("POST", "/api/v1/sessions/nope/callback", ss.token, s.callbackBody(nil)).expectError(t, 404, "session_not_found")
	open := s.start(map[string]any{"instrument": "phq9"})
	s.do("POST", "/api/v1/sessions/"+open.id+"/callback", open.token, s.callbackBody(nil)).expectError(t, 409, "session_open")
	if ws, _, _ := s.store.ListCallbacks(context.Background(), store.CallbackFilter{}, store.Page{}); len(ws) != 0 {
		t.Fatalf("refused requests were stored: %+v", ws)
	}
}

func TestHandoffIsRateLimitedPerAddress(t *testing.T) {
	t.Parallel()
	o := newQueueOrg(t, func(c *api.Config, _ *assess.Options) { c.RateHandoff = 2 })
	s := o.s
	ss, _ := s.selfTest(1, 1, 1, 1, 1, 1, 1, 1, 2)
	for i := range 2 {
		if r := s.do("POST", "/api/v1/sessions/"+ss.id+"/callback", ss.token, s.callbackBody(nil)); r.status != 201 {
			t.Fatalf("request %d: %s", i, r.raw)
		}
	}
	s.do("POST", "/api/v1/sessions/"+ss.id+"/callback", ss.token, s.callbackBody(nil)).expectError(t, 429, "rate_limited")
	s.do("POST", "/api/v1/booking/slots/x/book", "", map[string]any{"phone": residentPhone, "consent": true, "consent_version": "v1"}).
		expectError(t, 429, "rate_limited")
}

// bookingOrg adds two streets under the county, each with a station and a
// counsellor there.
type bookingOrg struct {
	*queueOrg
	stationA, stationB *console
}

func newBookingOrg(t *testing.T) *bookingOrg {
	o := newQueueOrg(t)
	for _, u := range []store.Unit{{ID: "streetA", ParentID: "county", Kind: "township", Name: "东街道"},
		{ID: "stationA", ParentID: "streetA", Kind: "station", Name: "东街道心灵驿站"},
		{ID: "streetB", ParentID: "county", Kind: "township", Name: "西街道"},
		{ID: "stationB", ParentID: "streetB", Kind: "station", Name: "西街道心灵驿站"}} {
		if _, err := o.s.store.CreateUnit(context.Background(), u); err != nil {
			t.Fatal(err)
		}
	}
	return &bookingOrg{queueOrg: o, stationA: o.s.staffOf("station-a", store.RoleCounsellor, "stationA"),
		stationB: o.s.staffOf("station-b", store.RoleCounsellor, "stationB")}
}

func (o *bookingOrg) slot(c *console, unit string, in time.Duration, capacity int) string {
	o.s.t.Helper()
	start := o.s.clock.Now().Add(in)
	r := c.do("POST", "/api/v1/slots", map[string]any{"unit_id": unit, "starts_at": start.Format(time.RFC3339),
		"ends_at": start.Add(time.Hour).Format(time.RFC3339), "capacity": capacity, "location": "驿站二楼咨询室"})
	if r.status != 201 {
		o.s.t.Fatalf("publish: %s", r.raw)
	}
	return r.body["slot"].(map[string]any)["id"].(string)
}

func bookBody(phone string, extra map[string]any) map[string]any {
	b := map[string]any{"phone": phone, "consent": true, "consent_version": "v1"}
	for k, v := range extra {
		b[k] = v
	}
	return b
}

// A retried booking gets back the place it took; one number may hold only
// assess.MaxUpcomingBookings upcoming places, and a cancelled or past one
// does not count.
func TestBookingRetriesAndTheLimitPerNumber(t *testing.T) {
	t.Parallel()
	o := newBookingOrg(t)
	s := o.s
	first := o.slot(o.stationA, "stationA", 2*time.Hour, 3)
	r := s.do("POST", "/api/v1/booking/slots/"+first+"/book", "", bookBody("13900139000", nil))
	if r.status != 201 {
		t.Fatalf("book: %s", r.raw)
	}
	id := r.body["booking"].(map[string]any)["id"]
	// The same number, written otherwise, retries: the same place, 200.
	r = s.do("POST", "/api/v1/booking/slots/"+first+"/book", "", bookBody("+86 139-0013-9000", nil))
	if r.status != 200 || r.body["booking"].(map[string]any)["id"] != id || r.body["booking"].(map[string]any)["existing"] != true {
		t.Fatalf("a retry: %s", r.raw)
	}
	if r := o.stationA.do("GET", "/api/v1/slots", nil); !strings.Contains(r.raw, `"booked":1`) {
		t.Fatalf("a retry took a second place: %s", r.raw)
	}
	second := o.slot(o.stationA, "stationA", 26*time.Hour, 1)
	third := o.slot(o.stationA, "stationA", 50*time.Hour, 1)
	if r := s.do("POST", "/api/v1/booking/slots/"+second+"/book", "", bookBody("13900139000", nil)); r.status != 201 {
		t.Fatalf("a second place: %s", r.raw)
	}
	s.do("POST", "/api/v1/booking/slots/"+third+"/book", "", bookBody("13900139000", nil)).expectError(t, 409, "booking_limit")
	// Another number is not limited by this one.
	if r := s.do("POST", "/api/v1/booking/slots/"+third+"/book", "", bookBody("13700137000", nil)); r.status != 201 {
		t.Fatalf("another number: %s", r.raw)
	}
	// Once the first consultation is over, the number may book again.
	s.clock.Add(4 * time.Hour)
	fourth := o.slot(o.stationA, "stationA", 30*time.Hour, 1)
	if r := s.do("POST", "/api/v1/booking/slots/"+fourth+"/book", "", bookBody("13900139000", nil)); r.status != 201 {
		t.Fatalf("after the first is over: %s", r.raw)
	}
}

func TestSlotsAndBookingsPerUnit(t *testing.T) {
	t.Parallel()
	o := newBookingOrg(t)
	s := o.s
	// Staff sign-ins last 12 hours: the slots are within them.
	start := s.clock.Now().Add(2 * time.Hour)
	// Publishing: scope, roles and bad input.
	slot := o.slot(o.stationA, "stationA", 2*time.Hour, 2)
	good := func(extra map[string]any) map[string]any {
		b := map[string]any{"unit_id": "stationA", "starts_at": start.Format(time.RFC3339), "ends_at": start.Add(time.Hour).Format(time.RFC3339), "capacity": 2}
		for k, v := range extra {
			b[k] = v
		}
		return b
	}
	o.stationA.do("POST", "/api/v1/slots", good(map[string]any{"unit_id": "stationB"})).expectError(t, 404, "not_found")
	o.teacherA.do("POST", "/api/v1/slots", good(nil)).expectError(t, 403, "forbidden")
	o.stationA.do("POST", "/api/v1/slots", good(map[string]any{"capacity": 0})).expectError(t, 400, "validation_failed")
	o.stationA.do("POST", "/api/v1/slots", good(map[string]any{"ends_at": start.Add(-time.Hour).Format(time.RFC3339)})).expectError(t, 400, "validation_failed")
	o.stationA.do("POST", "/api/v1/slots", good(map[string]any{"starts_at": s.clock.Now().Add(-time.Hour).Format(time.RFC3339),
		"ends_at": s.clock.Now().Format(time.RFC3339)})).expectError(t, 400, "validation_failed")
	closed := o.slot(o.stationA, "stationA", 3*time.Hour, 1)
	o.stationB.do("POST", "/api/v1/slots/"+closed+"/close", nil).expectError(t, 404, "not_found")
	if r := o.stationA.do("POST", "/api/v1/slots/"+closed+"/close", nil); r.status != 200 || r.body["slot"].(map[string]any)["closed"] != true {
		t.Fatalf("close: %s", r.raw)
	}
	o.slot(o.stationB, "stationB", time.Hour, 1)
	if r := o.stationA.do("GET", "/api/v1/slots", nil); r.status != 200 || len(r.body["slots"].([]any)) != 2 {
		t.Fatalf("station A's slots: %s", r.raw)
	}

	// The public list: units with open slots, by area.
	r := s.do("GET", "/api/v1/booking/units", "", nil)
	if r.status != 200 || len(r.body["units"].([]any)) != 2 || len(r.body["areas"].([]any)) != 2 {
		t.Fatalf("bookable units: %s", r.raw)
	}
	r = s.do("GET", "/api/v1/booking/units?area=streetA", "", nil)
	units := r.body["units"].([]any)
	if len(units) != 1 || units[0].(map[string]any)["id"] != "stationA" || units[0].(map[string]any)["area_name"] != "东街道" ||
		units[0].(map[string]any)["open_slots"] != 1.0 {
		t.Fatalf("street A's units (the closed slot is not open): %s", r.raw)
	}
	s.do("GET", "/api/v1/booking/units?area=nope", "", nil).expectError(t, 404, "not_found")
	r = s.do("GET", "/api/v1/booking/units/stationA/slots", "", nil)
	slots := r.body["slots"].([]any)
	if r.status != 200 || len(slots) != 1 || slots[0].(map[string]any)["id"] != slot || slots[0].(map[string]any)["free"] != 2.0 ||
		slots[0].(map[string]any)["location"] != "驿站二楼咨询室" {
		t.Fatalf("station A's open slots: %s", r.raw)
	}

	// Booking: from the catalogue (no session), and from a result page.
	r = s.do("POST", "/api/v1/booking/slots/"+slot+"/book", "", bookBody("13900139000", nil))
	if r.status != 201 {
		t.Fatalf("book: %s", r.raw)
	}
	b1 := r.body["booking"].(map[string]any)
	if b1["unit_name"] != "东街道心灵驿站" || b1["phone"] != "139****9000" || b1["state"] != "booked" || b1["location"] != "驿站二楼咨询室" {
		t.Fatalf("booking view: %s", r.raw)
	}
	ss, _ := s.selfTest(1, 1, 1, 1, 1, 1, 1, 1, 0)
	s.do("POST", "/api/v1/booking/slots/"+slot+"/book", "wrong", bookBody("13700137000", map[string]any{"session_id": ss.id})).
		expectError(t, 401, "token_invalid")
	if r := s.do("POST", "/api/v1/booking/slots/"+slot+"/book", ss.token, bookBody("13700137000", map[string]any{"session_id": ss.id})); r.status != 201 {
		t.Fatalf("book from a result: %s", r.raw)
	}
	s.do("POST", "/api/v1/booking/slots/"+slot+"/book", "", bookBody("13600136000", nil)).expectError(t, 409, "slot_unavailable")
	s.do("POST", "/api/v1/booking/slots/"+closed+"/book", "", bookBody("13600136000", nil)).expectError(t, 409, "slot_unavailable")
	s.do("POST", "/api/v1/booking/slots/nope/book", "", bookBody("13600136000", nil)).expectError(t, 404, "not_found")
	s.do("POST", "/api/v1/booking/slots/"+slot+"/book", "", bookBody("555", nil)).expectError(t, 400, "validation_failed")
	s.do("POST", "/api/v1/booking/slots/"+slot+"/book", "", map[string]any{"phone": residentPhone, "consent": false, "consent_version": "v1"}).
		expectError(t, 422, "consent_required")
	s.do("POST", "/api/v1/booking/slots/"+slot+"/book", "", map[string]any{"phone": residentPhone}).expectError(t, 400, "validation_failed")

	// The station sees its bookings with the numbers; the other station
	// sees none of them.
	r = o.stationA.do("GET", "/api/v1/bookings?unit=stationA", nil)
	list := r.body["bookings"].([]any)
	var id1, id2 string // from the catalogue, from the result page
	for _, b := range list {
		b := b.(map[string]any)
		switch {
		case b["phone"] == "13900139000" && b["session_id"] == nil:
			id1 = b["id"].(string)
		case b["phone"] == "13700137000" && b["session_id"] == ss.id:
			id2 = b["id"].(string)
		}
	}
	if r.status != 200 || len(list) != 2 || id1 == "" || id2 == "" {
		t.Fatalf("station A's bookings: %s", r.raw)
	}
	if n := len(s.audits("list_bookings")); n != 1 {
		t.Fatalf("%d list_bookings audit lines, want 1", n)
	}
	o.stationB.do("GET", "/api/v1/bookings?unit=stationA", nil).expectError(t, 404, "not_found")
	if r := o.stationB.do("GET", "/api/v1/bookings", nil); r.status != 200 || len(r.body["bookings"].([]any)) != 0 || strings.Contains(r.raw, "139") {
		t.Fatalf("station B sees another unit's bookings: %s", r.raw)
	}
	o.teacherA.do("GET", "/api/v1/bookings", nil).expectError(t, 403, "forbidden")
	o.stationA.do("GET", "/api/v1/bookings?state=maybe", nil).expectError(t, 400, "validation_failed")
	o.stationA.do("GET", "/api/v1/bookings?from=yesterday", nil).expectError(t, 400, "validation_failed")

	// Outcomes: only once the consultation has begun, only by the unit.
	o.stationA.do("POST", "/api/v1/bookings/"+id1+"/outcome", map[string]any{"state": "kept"}).expectError(t, 409, "conflict")
	s.clock.Add(start.Add(30 * time.Minute).Sub(s.clock.Now()))
	o.stationB.do("POST", "/api/v1/bookings/"+id1+"/outcome", map[string]any{"state": "kept"}).expectError(t, 404, "not_found")
	o.stationA.do("POST", "/api/v1/bookings/"+id1+"/outcome", map[string]any{"state": "came"}).expectError(t, 400, "validation_failed")
	if r := o.stationA.do("POST", "/api/v1/bookings/"+id1+"/outcome", map[string]any{"state": "kept"}); r.status != 200 ||
		r.body["booking"].(map[string]any)["state"] != "kept" {
		t.Fatalf("kept: %s", r.raw)
	}
	if r := o.stationA.do("POST", "/api/v1/bookings/"+id2+"/outcome", map[string]any{"state": "no_show"}); r.status != 200 {
		t.Fatalf("no show: %s", r.raw)
	}
	o.stationA.do("POST", "/api/v1/bookings/"+id1+"/outcome", map[string]any{"state": "cancelled"}).expectError(t, 409, "conflict")
	r = o.stationA.do("GET", "/api/v1/bookings?unit=stationA&state=kept,no_show", nil)
	if len(r.body["bookings"].([]any)) != 2 {
		t.Fatalf("kept and no-shows: %s", r.raw)
	}
	if r := o.stationA.do("GET", "/api/v1/bookings?state=kept", nil); len(r.body["bookings"].([]any)) != 1 {
		t.Fatalf("kept: %s", r.raw)
	}

	// A case recorded on the booking links it to a person's record.
	r = o.stationA.do("POST", "/api/v1/cases", map[string]any{"booking_id": id1, "self_evaluation": "睡眠差", "group_notified": false})
	if r.status != 201 {
		t.Fatalf("case on a booking: %s", r.raw)
	}
	caseID := r.body["case"].(map[string]any)["id"].(string)
	person := r.body["case"].(map[string]any)["person_id"].(string)
	got, err := s.store.GetBooking(context.Background(), id1)
	if err != nil || got.CaseID != caseID || got.PersonID != person {
		t.Fatalf("booking after the case: %+v %v", got, err)
	}
	rec := o.stationA.do("GET", "/api/v1/persons/"+person, nil)
	if rec.status != 200 || len(rec.body["bookings"].([]any)) != 1 || len(rec.body["cases"].([]any)) != 1 {
		t.Fatalf("record: %s", rec.raw)
	}
	o.stationB.do("POST", "/api/v1/cases", map[string]any{"booking_id": id2, "group_notified": false}).expectError(t, 404, "not_found")
	// Linking the other booking to that person's case: the case names them.
	o.stationA.do("POST", "/api/v1/bookings/"+id2+"/link", map[string]any{}).expectError(t, 400, "validation_failed")
	o.stationA.do("POST", "/api/v1/bookings/"+id2+"/link", map[string]any{"case_id": "nope"}).expectError(t, 404, "not_found")
	if r := o.stationA.do("POST", "/api/v1/bookings/"+id2+"/link", map[string]any{"case_id": caseID}); r.status != 200 ||
		r.body["booking"].(map[string]any)["person_id"] != person {
		t.Fatalf("link: %s", r.raw)
	}
}

func TestMonthlyTableCountsCallbacksAndBookings(t *testing.T) {
	t.Parallel()
	o := newBookingOrg(t)
	s := o.s
	cityC := s.staffOf("city-c", store.RoleCounsellor, "city")
	// A call-back made (the self-test's entry is at the city, the root).
	ss, _ := s.selfTest(1, 1, 1, 1, 1, 1, 1, 1, 2)
	cb := s.do("POST", "/api/v1/sessions/"+ss.id+"/callback", ss.token, s.callbackBody(nil)).body["callback"].(map[string]any)["id"].(string)
	if r := cityC.do("POST", "/api/v1/callbacks/"+cb+"/state", map[string]any{"state": "called"}); r.status != 200 {
		t.Fatal(r.raw)
	}
	// A second request, unreachable: no call was made.
	cb2 := s.do("POST", "/api/v1/sessions/"+ss.id+"/callback", ss.token, s.callbackBody(nil)).body["callback"].(map[string]any)["id"].(string)
	cityC.do("POST", "/api/v1/callbacks/"+cb2+"/state", map[string]any{"state": "unreachable"})
	// Two bookings kept at station A, one no-show, one kept with a case.
	slot := o.slot(o.stationA, "stationA", 2*time.Hour, 4)
	var booked []string
	for i := range 4 {
		r := s.do("POST", "/api/v1/booking/slots/"+slot+"/book", "", bookBody(fmt.Sprintf("1390013900%d", i), nil))
		booked = append(booked, r.body["booking"].(map[string]any)["id"].(string))
	}
	s.clock.Add(3 * time.Hour)
	for i, st := range []string{"kept", "kept", "no_show", "kept"} {
		if r := o.stationA.do("POST", "/api/v1/bookings/"+booked[i]+"/outcome", map[string]any{"state": st}); r.status != 200 {
			t.Fatal(r.raw)
		}
	}
	if r := o.stationA.do("POST", "/api/v1/cases", map[string]any{"booking_id": booked[3], "group_notified": false}); r.status != 201 {
		t.Fatal(r.raw)
	}
	r := o.admin.do("GET", "/api/v1/stats/monthly?unit=city&month=2026-11", nil)
	if r.status != 200 {
		t.Fatal(r.raw)
	}
	rows := map[string]map[string]any{}
	for _, row := range r.body["rows"].([]any) {
		rows[row.(map[string]any)["unit_id"].(string)] = row.(map[string]any)
	}
	own, county, total := rows["city"], rows["county"], r.body["total"].(map[string]any)
	// 辅导人次数: the city's call made; the county's two bookings kept
	// without a case and the one case (whose booking is not counted twice).
	if own["callbacks_made"] != 1.0 || own["counselling_cases"] != 1.0 || county["bookings_kept"] != 2.0 || county["counselling_cases"] != 3.0 ||
		total["counselling_cases"] != 4.0 || total["callbacks_made"] != 1.0 || total["bookings_kept"] != 2.0 {
		t.Fatalf("monthly table: %s", r.raw)
	}
	if r := o.admin.do("GET", "/api/v1/stats/monthly?unit=city&month=2026-10", nil); r.body["total"].(map[string]any)["counselling_cases"] != 0.0 {
		t.Fatalf("October counted November: %s", r.raw)
	}
}

// A resident signed in through WeChat finds their call-back requests and
// bookings under "my tests", and may cancel a booking not yet begun.
func TestMyCallbacksAndBookings(t *testing.T) {
	t.Parallel()
	s, wx := newWeChatServer(t)
	ctx := context.Background()
	for _, u := range []store.Unit{{ID: "city", Kind: "city", Name: "市"}, {ID: "station", ParentID: "city", Kind: "station", Name: "市心理健康中心"}} {
		if _, err := s.store.CreateUnit(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	start := s.clock.Now().Add(48 * time.Hour)
	sl, err := s.store.CreateSlot(ctx, store.Slot{ID: store.NewID(), UnitID: "station", StartsAt: start, EndsAt: start.Add(time.Hour), Capacity: 3,
		Location: "三楼", CreatedAt: s.clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
	alice := s.browser()
	alice.signIn(wx, "oXL-openid-alice-handoff")
	h := alice.do("POST", "/api/v1/sessions", map[string]any{"instrument": "phq9", "consent": true})
	id, token := h.body["id"].(string), h.body["token"].(string)
	var answers []map[string]any
	for i := range 9 {
		answers = append(answers, map[string]any{"item": fmt.Sprintf("phq9.q%d", i+1), "value": 2, "seq": 1})
	}
	alice.bearer("POST", "/api/v1/sessions/"+id+"/answers", token, map[string]any{"answers": answers})
	alice.bearer("POST", "/api/v1/sessions/"+id+"/submit", token, nil)
	if r := alice.bearer("POST", "/api/v1/sessions/"+id+"/callback", token, s.callbackBody(nil)); r.status != 201 {
		t.Fatalf("callback: %s", r.raw)
	}
	b := alice.do("POST", "/api/v1/booking/slots/"+sl.ID+"/book", bookBody("13900139000", nil))
	if b.status != 201 {
		t.Fatalf("book: %s", b.raw)
	}
	mine := alice.do("GET", "/api/v1/me/handoffs", nil)
	if mine.status != 200 || len(mine.body["callbacks"].([]any)) != 1 || len(mine.body["bookings"].([]any)) != 1 ||
		strings.Contains(mine.raw, residentPhone) || strings.Contains(mine.raw, "13900139000") || mine.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("my hand-offs: %s", mine.raw)
	}
	booking := mine.body["bookings"].([]any)[0].(map[string]any)
	if booking["unit_name"] != "市心理健康中心" || booking["location"] != "三楼" || booking["cancellable"] != true ||
		mine.body["callbacks"].([]any)[0].(map[string]any)["phone"] != "138****8000" {
		t.Fatalf("my hand-offs: %s", mine.raw)
	}
	// Someone else sees none of it and cannot cancel it.
	bob := s.browser()
	bob.signIn(wx, "oXL-openid-bob-handoff")
	if r := bob.do("GET", "/api/v1/me/handoffs", nil); len(r.body["callbacks"].([]any)) != 0 || len(r.body["bookings"].([]any)) != 0 {
		t.Fatalf("bob sees: %s", r.raw)
	}
	bid := booking["id"].(string)
	bob.do("POST", "/api/v1/me/bookings/"+bid+"/cancel", nil).expectError(t, 404, "not_found")
	s.browser().do("GET", "/api/v1/me/handoffs", nil).expectError(t, 401, "identity_required")
	r := alice.do("POST", "/api/v1/me/bookings/"+bid+"/cancel", nil)
	if r.status != 200 || r.body["booking"].(map[string]any)["state"] != "cancelled" {
		t.Fatalf("cancel: %s", r.raw)
	}
	alice.do("POST", "/api/v1/me/bookings/"+bid+"/cancel", nil).expectError(t, 409, "conflict")
	if got, _ := s.store.GetSlot(ctx, sl.ID); got.Booked != 0 {
		t.Fatalf("the cancelled place was not given back: %+v", got)
	}
}
