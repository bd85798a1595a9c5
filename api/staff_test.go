//go:build !fuzzdecode

package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"xinling/store"
)

// console is one browser of a staff member: its own cookie jar and the
// anti-forgery token from sign-in.
type console struct {
	s      *server
	client *http.Client
	csrf   string
}

func (s *server) console() *console {
	jar, _ := cookiejar.New(nil)
	return &console{s: s, client: &http.Client{Jar: jar}}
}

func (c *console) do(method, path string, body any) response {
	c.s.t.Helper()
	var rd io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		rd = strings.NewReader(string(data))
	}
	req, _ := http.NewRequest(method, c.s.base+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if c.csrf != "" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	return c.send(req)
}

// send runs a prepared request in this browser and reads the answer.
func (c *console) send(req *http.Request) response {
	c.s.t.Helper()
	resp, err := c.client.Do(req)
	if err != nil {
		c.s.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode, raw: string(raw)}
	_ = json.Unmarshal(raw, &r.body)
	return r
}

func (c *console) login(login, password string) response {
	c.s.t.Helper()
	r := c.do("POST", "/api/v1/auth/login", map[string]any{"login": login, "password": password})
	if r.status == 200 {
		c.csrf, _ = r.body["csrf"].(string)
	}
	return r
}

// org builds city → county → {school A, school B} with an admin at the city.
func (s *server) org() (adminPassword string) {
	s.t.Helper()
	ctx := context.Background()
	_, otp, err := s.staff.Bootstrap(ctx, "admin", "管理员", "city", "city")
	if err != nil {
		s.t.Fatal(err)
	}
	for _, u := range []store.Unit{{ID: "county", ParentID: "city", Kind: "county"}, {ID: "schoolA", ParentID: "county", Kind: "school"}, {ID: "schoolB", ParentID: "county", Kind: "school"}} {
		if _, err := s.store.CreateUnit(ctx, u); err != nil {
			s.t.Fatal(err)
		}
	}
	return otp
}

// signIn logs in with a one-time password and replaces it.
func (s *server) signIn(login, otp string) *console {
	s.t.Helper()
	c := s.console()
	if r := c.login(login, otp); r.status != 200 || r.body["staff"].(map[string]any)["must_change_password"] != true {
		s.t.Fatalf("login with one-time password: %s", r.raw)
	}
	c.do("GET", "/api/v1/units", nil).expectError(s.t, 403, "password_change_required")
	if r := c.do("POST", "/api/v1/auth/password", map[string]any{"old_password": otp, "new_password": "a-long-new-secret"}); r.status != 200 {
		s.t.Fatalf("password change: %s", r.raw)
	}
	return c
}

func TestSignInPasswordChangeAndLogout(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	otp := s.org()
	admin := s.signIn("admin", otp)
	if r := admin.do("GET", "/api/v1/units", nil); r.status != 200 || len(r.body["units"].([]any)) != 4 {
		t.Fatalf("units after the password change: %s", r.raw)
	}
	// The one-time password no longer works; the new one does.
	s.console().login("admin", otp).expectError(t, 401, "login_failed")
	other := s.console()
	if r := other.login("admin", "a-long-new-secret"); r.status != 200 {
		t.Fatal(r.raw)
	}
	// A mutating request without the anti-forgery header is refused.
	noCSRF := *other
	noCSRF.csrf = ""
	noCSRF.do("POST", "/api/v1/units", map[string]any{"id": "x", "parent_id": "city", "kind": "county", "name": "X"}).expectError(t, 403, "csrf_failed")
	if r := other.do("POST", "/api/v1/auth/logout", nil); r.status != 200 {
		t.Fatal(r.raw)
	}
	other.do("GET", "/api/v1/auth/me", nil).expectError(t, 401, "unauthenticated")
	if r := admin.do("GET", "/api/v1/auth/me", nil); r.status != 200 {
		t.Fatalf("logging out one browser signed out another: %s", r.raw)
	}
	// Short or unchanged passwords are refused.
	admin.do("POST", "/api/v1/auth/password", map[string]any{"old_password": "a-long-new-secret", "new_password": "short"}).expectError(t, 400, "validation_failed")
}

func TestLockoutAfterRepeatedFailures(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	otp := s.org()
	c := s.console()
	for i := 0; i < 5; i++ {
		c.login("admin", "wrong-password").expectError(t, 401, "login_failed")
	}
	// Locked: even the right password is refused for now.
	c.login("admin", otp).expectError(t, 423, "account_locked")
	s.clock.Add(16 * time.Minute)
	if r := c.login("admin", otp); r.status != 200 {
		t.Fatalf("after the lock expired: %s", r.raw)
	}
	// An unknown login gets the same answer as a wrong password.
	s.console().login("nobody", "whatever-it-is").expectError(t, 401, "login_failed")
	entries, _, err := s.store.ListAudit(context.Background(), store.AuditFilter{Action: "login_failed"}, store.Page{})
	if err != nil || len(entries) != 7 {
		t.Fatalf("audit of failed logins: %d entries, %v", len(entries), err)
	}
}

func TestAccountsAreScoped(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	admin := s.signIn("admin", s.org())
	r := admin.do("POST", "/api/v1/staff", map[string]any{"login": "adminA", "name": "A 校管理员", "role": "admin", "unit_id": "schoolA"})
	if r.status != 201 || r.body["one_time_password"] == "" {
		t.Fatal(r.raw)
	}
	schoolAdmin := s.signIn("adminA", r.body["one_time_password"].(string))
	// School A's admin cannot see or touch school B, nor the county.
	schoolAdmin.do("POST", "/api/v1/staff", map[string]any{"login": "t1", "name": "t", "role": "teacher", "unit_id": "schoolB"}).expectError(t, 404, "not_found")
	schoolAdmin.do("POST", "/api/v1/units", map[string]any{"id": "g1", "parent_id": "schoolB", "kind": "grade", "name": "一年级"}).expectError(t, 404, "not_found")
	if r := schoolAdmin.do("POST", "/api/v1/units", map[string]any{"id": "g1", "parent_id": "schoolA", "kind": "grade", "name": "一年级"}); r.status != 201 {
		t.Fatal(r.raw)
	}
	if r := schoolAdmin.do("GET", "/api/v1/units", nil); len(r.body["units"].([]any)) != 2 {
		t.Fatalf("school A's admin sees %s", r.raw)
	}
	adminID := admin.do("GET", "/api/v1/auth/me", nil).body["staff"].(map[string]any)["id"].(string)
	schoolAdmin.do("POST", "/api/v1/staff/"+adminID+"/reset-password", nil).expectError(t, 404, "not_found")
	// A teacher is not an admin.
	r = schoolAdmin.do("POST", "/api/v1/staff", map[string]any{"login": "teacher1", "name": "李老师", "role": "teacher", "unit_id": "g1"})
	if r.status != 201 {
		t.Fatal(r.raw)
	}
	teacher := s.signIn("teacher1", r.body["one_time_password"].(string))
	teacher.do("GET", "/api/v1/staff", nil).expectError(t, 403, "forbidden")
	// A reset signs the teacher out and issues a new one-time password.
	teacherID := teacher.do("GET", "/api/v1/auth/me", nil).body["staff"].(map[string]any)["id"].(string)
	r = schoolAdmin.do("POST", "/api/v1/staff/"+teacherID+"/reset-password", nil)
	if r.status != 200 {
		t.Fatal(r.raw)
	}
	teacher.do("GET", "/api/v1/auth/me", nil).expectError(t, 401, "unauthenticated")
	s.signIn("teacher1", r.body["one_time_password"].(string))
	// Duplicate logins and unknown roles are refused.
	admin.do("POST", "/api/v1/staff", map[string]any{"login": "teacher1", "name": "x", "role": "teacher", "unit_id": "g1"}).expectError(t, 409, "conflict")
	admin.do("POST", "/api/v1/staff", map[string]any{"login": "x2", "name": "x", "role": "root", "unit_id": "g1"}).expectError(t, 400, "validation_failed")
	// The audit log holds the account changes, readable by the admin.
	r = admin.do("GET", "/api/v1/audit?action=password_reset", nil)
	if r.status != 200 || len(r.body["entries"].([]any)) != 1 {
		t.Fatalf("audit: %s", r.raw)
	}
}

// Every route is public by this list, or else refuses a request without a
// staff session. A new route that forgets its check fails here.
func TestEveryNonPublicRouteNeedsAStaffSession(t *testing.T) {
	t.Parallel()
	public := map[string]bool{
		"GET /healthz": true, "GET /readyz": true, "GET /api/v1/ping": true, "GET /api/v1/openapi.json": true,
		"GET /api/v1/instruments": true, "GET /api/v1/instruments/:id": true, "POST /api/v1/sessions": true, "GET /api/v1/sessions/:id": true,
		"PUT /api/v1/sessions/:id/answers/:item": true, "POST /api/v1/sessions/:id/answers": true,
		"POST /api/v1/sessions/:id/submit": true, "POST /api/v1/auth/login": true,
		// Respondent identity: /me checks the respondent cookie (wechat_test.go).
		"GET /api/v1/config": true, "GET /api/v1/wechat/login": true, "GET /api/v1/wechat/callback": true,
		"GET /api/v1/me/sessions": true, "POST /api/v1/me/logout": true,
		// The warm hand-off: a session token, or nothing but the per-address
		// limit (handoff_test.go); /me checks the respondent cookie.
		"POST /api/v1/sessions/:id/callback": true, "GET /api/v1/booking/units": true, "GET /api/v1/booking/units/:id/slots": true,
		"POST /api/v1/booking/slots/:id/book": true, "GET /api/v1/me/handoffs": true, "POST /api/v1/me/bookings/:id/cancel": true,
	}
	s := newServer(t)
	checked := 0
	for _, route := range s.app.GetRoutes(true) {
		if route.Method == "HEAD" || route.Method == "USE" {
			continue
		}
		key := route.Method + " " + route.Path
		if public[key] || isWebAppRoute(route.Path) {
			continue
		}
		path := strings.NewReplacer(":id", "someid", ":item", "phq9.q1").Replace(route.Path)
		r := s.console().do(route.Method, path, map[string]any{})
		r.expectError(t, 401, "unauthenticated")
		checked++
	}
	if checked < 9 {
		t.Fatalf("only %d staff routes checked", checked)
	}
}

func TestDisableAccountAndRenameUnit(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	admin := s.signIn("admin", s.org())
	r := admin.do("POST", "/api/v1/staff", map[string]any{"login": "c1", "name": "咨询师", "role": "counsellor", "unit_id": "schoolA"})
	c1 := s.signIn("c1", r.body["one_time_password"].(string))
	id := r.body["staff"].(map[string]any)["id"].(string)
	if r := admin.do("POST", "/api/v1/staff/"+id+"/disable", nil); r.status != 200 || r.body["disabled"] != true {
		t.Fatal(r.raw)
	}
	c1.do("GET", "/api/v1/auth/me", nil).expectError(t, 401, "unauthenticated")
	for _, a := range admin.do("GET", "/api/v1/staff", nil).body["staff"].([]any) {
		if a := a.(map[string]any); a["login"] == "c1" && a["disabled"] != true {
			t.Fatalf("the staff list does not show c1 as disabled: %v", a)
		}
	}
	s.console().login("c1", "a-long-new-secret").expectError(t, 401, "login_failed")
	admin.do("POST", "/api/v1/staff/"+id+"/enable", nil)
	if r := s.console().login("c1", "a-long-new-secret"); r.status != 200 {
		t.Fatalf("re-enabled account: %s", r.raw)
	}
	me := admin.do("GET", "/api/v1/auth/me", nil).body["staff"].(map[string]any)["id"].(string)
	admin.do("POST", "/api/v1/staff/"+me+"/disable", nil).expectError(t, 400, "validation_failed")

	if r := admin.do("PUT", "/api/v1/units/schoolA", map[string]any{"name": "第一中学", "kind": "school"}); r.status != 200 ||
		r.body["unit"].(map[string]any)["name"] != "第一中学" || r.body["unit"].(map[string]any)["path"] != "/city/county/schoolA/" {
		t.Fatal(r.raw)
	}
	r = admin.do("POST", "/api/v1/staff", map[string]any{"login": "adminB", "name": "B", "role": "admin", "unit_id": "schoolB"})
	adminB := s.signIn("adminB", r.body["one_time_password"].(string))
	adminB.do("PUT", "/api/v1/units/schoolA", map[string]any{"name": "x", "kind": "school"}).expectError(t, 404, "not_found")
	adminB.do("POST", "/api/v1/staff/"+id+"/disable", nil).expectError(t, 404, "not_found")
}
