//go:build !fuzzdecode

package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"xinling/api"
	"xinling/assess"
	"xinling/wechat/wechattest"
)

// publicHost is the name residents use for the server in these tests; a
// browser's transport sends it to the test listener, so the cookie jar
// and WeChat's redirect see one site, as in production.
const publicHost = "xl.test"

var identityKey = bytes.Repeat([]byte{7}, 32)

func newWeChatServer(t *testing.T) (*server, *wechattest.Server) {
	t.Helper()
	wx := wechattest.New("wx0123456789abcdef", "app-secret-for-tests")
	t.Cleanup(wx.Close)
	s := newServer(t, func(c *api.Config, sc *assess.Options) {
		c.PublicURL = "http://" + publicHost
		c.WeChat = wx.Config()
		sc.Sessions.IdentityKey = identityKey
	})
	return s, wx
}

// browser is one phone: its own cookie jar, following redirects between
// the server and the WeChat stand-in.
type browser struct {
	t      *testing.T
	client *http.Client
	accept string
}

func (s *server) browser() *browser {
	s.t.Helper()
	jar, _ := cookiejar.New(nil)
	target := strings.TrimPrefix(s.base, "http://")
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		if addr == publicHost+":80" {
			addr = target
		}
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}
	s.t.Cleanup(tr.CloseIdleConnections)
	return &browser{t: s.t, client: &http.Client{Jar: jar, Transport: tr}}
}

// noFollow makes the browser stop at the first redirect.
func (b *browser) noFollow() *browser {
	c := *b.client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &browser{t: b.t, client: &c, accept: b.accept}
}

type hop struct {
	response
	location string
	final    *url.URL
	header   http.Header
}

func (b *browser) do(method, target string, body any) hop {
	b.t.Helper()
	if strings.HasPrefix(target, "/") {
		target = "http://" + publicHost + target
	}
	var rd io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, target, rd)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if b.accept != "" {
		req.Header.Set("Accept", b.accept)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	h := hop{response: response{status: resp.StatusCode, raw: string(raw)}, location: resp.Header.Get("Location"),
		final: resp.Request.URL, header: resp.Header}
	_ = json.Unmarshal(raw, &h.body)
	return h
}

// signIn runs the whole flow: login → WeChat → callback → the H5 page.
func (b *browser) signIn(wx *wechattest.Server, openid string) {
	b.t.Helper()
	wx.SetUser(openid)
	h := b.do("GET", "/api/v1/wechat/login?next=/m/me", nil)
	// The H5 itself is not part of this server's tests: arriving at it is
	// the proof.
	if h.final.Host != publicHost || h.final.Path != "/m/me" {
		b.t.Fatalf("sign-in ended at %s (%d %s)", h.final, h.status, h.raw)
	}
	if !b.config()["identified"].(bool) {
		b.t.Fatal("signed in, but config says not identified")
	}
}

func (b *browser) config() map[string]any {
	b.t.Helper()
	h := b.do("GET", "/api/v1/config", nil)
	if h.status != 200 {
		b.t.Fatalf("config: %d %s", h.status, h.raw)
	}
	return h.body
}

// selfTest takes a PHQ-9 with the given answers and returns its id.
func (b *browser) selfTest(values ...float64) string {
	b.t.Helper()
	h := b.do("POST", "/api/v1/sessions", map[string]any{"instrument": "phq9", "consent": true})
	if h.status != 201 {
		b.t.Fatalf("create: %d %s", h.status, h.raw)
	}
	id, token := h.body["id"].(string), h.body["token"].(string)
	answers := []map[string]any{}
	for i, v := range values {
		answers = append(answers, map[string]any{"item": "phq9.q" + string(rune('1'+i)), "value": v, "seq": 1})
	}
	r := b.bearer("POST", "/api/v1/sessions/"+id+"/answers", token, map[string]any{"answers": answers})
	if r.status != 200 {
		b.t.Fatalf("answers: %d %s", r.status, r.raw)
	}
	if r := b.bearer("POST", "/api/v1/sessions/"+id+"/submit", token, nil); r.status != 200 {
		b.t.Fatalf("submit: %d %s", r.status, r.raw)
	}
	return id
}

func (b *browser) bearer(method, p, token string, body any) response {
	b.t.Helper()
	var rd io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		rd = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, "http://"+publicHost+p, rd)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode, raw: string(raw)}
	_ = json.Unmarshal(raw, &r.body)
	return r
}

func mySessions(t *testing.T, b *browser) []map[string]any {
	t.Helper()
	h := b.do("GET", "/api/v1/me/sessions?locale=en", nil)
	if h.status != 200 {
		t.Fatalf("me/sessions: %d %s", h.status, h.raw)
	}
	var out []map[string]any
	for _, s := range h.body["sessions"].([]any) {
		out = append(out, s.(map[string]any))
	}
	return out
}

func TestWeChatSignInLinksSelfTests(t *testing.T) {
	t.Parallel()
	s, wx := newWeChatServer(t)
	const openid = "oXL-openid-alice-7f3a9c"

	alice := s.browser()
	if c := alice.config(); c["wechat"] != true || c["identified"] != false || c["crisis_hotline"] != "12356" {
		t.Fatalf("config before sign-in: %v", c)
	}
	alice.signIn(wx, openid)
	first := alice.selfTest(2, 2, 2, 1, 1, 1, 0, 0, 0)

	got := mySessions(t, alice)
	if len(got) != 1 || got[0]["id"] != first || got[0]["kind"] != "self_test" || got[0]["state"] != "submitted" ||
		got[0]["visibility"] != "bands" || got[0]["submitted_at"] == nil {
		t.Fatalf("my sessions: %v", got)
	}
	if inst := got[0]["instruments"].([]any)[0].(map[string]any); inst["id"] != "phq9" || inst["title"] == "" {
		t.Fatalf("instruments: %v", inst)
	}
	res := got[0]["result"].(map[string]any)["instruments"].([]any)[0].(map[string]any)
	band := res["bands"].(map[string]any)["total"].(map[string]any)
	if band["code"] != "mild" || band["label"] == "" || band["feedback"] == "" {
		t.Fatalf("band: %v", band)
	}
	if _, ok := res["scores"]; ok {
		t.Fatalf("scores reached the list: %v", res)
	}

	// Another resident on another phone sees only their own.
	bob := s.browser()
	bob.signIn(wx, "oXL-openid-bob-1d2e")
	if got := mySessions(t, bob); len(got) != 0 {
		t.Fatalf("bob sees %v", got)
	}
	bob.selfTest(0, 0, 0, 0, 0, 0, 0, 0, 0)
	if got := mySessions(t, alice); len(got) != 1 {
		t.Fatalf("alice sees %d sessions after bob's test", len(got))
	}

	// The same resident on a new phone is the same person: newest first.
	s.clock.Add(time.Hour)
	phone2 := s.browser()
	phone2.signIn(wx, openid)
	second := phone2.selfTest(3, 3, 3, 3, 3, 3, 3, 3, 1)
	got = mySessions(t, phone2)
	if len(got) != 2 || got[0]["id"] != second || got[1]["id"] != first {
		t.Fatalf("after a second test: %v", got)
	}
	// Item 9 fired a level-1 warning: the hotline stays next to it.
	if c, _ := got[0]["crisis"].(map[string]any); c == nil || c["hotline"] != "12356" {
		t.Fatalf("crisis reminder: %v", got[0]["crisis"])
	}
	// Pages: one at a time, following next.
	h := phone2.do("GET", "/api/v1/me/sessions?limit=1", nil)
	if n := len(h.body["sessions"].([]any)); n != 1 || h.body["next"] != second {
		t.Fatalf("page 1: %s", h.raw)
	}
	h = phone2.do("GET", "/api/v1/me/sessions?limit=1&after="+second, nil)
	if n := len(h.body["sessions"].([]any)); n != 1 || h.body["next"] != "" {
		t.Fatalf("page 2: %s", h.raw)
	}

	// Logging out forgets the identity in this browser only.
	if h := phone2.do("POST", "/api/v1/me/logout", nil); h.status != 200 {
		t.Fatalf("logout: %d %s", h.status, h.raw)
	}
	phone2.do("GET", "/api/v1/me/sessions", nil).expectError(t, 401, assess.CodeIdentityRequired)
	if phone2.config()["identified"] != false {
		t.Fatal("still identified after logout")
	}
	anon := phone2.selfTest(0, 0, 0, 0, 0, 0, 0, 0, 0)
	if got := mySessions(t, alice); len(got) != 2 || got[0]["id"] == anon {
		t.Fatalf("an anonymous test was linked: %v", got)
	}

	// The openid is stored only as a keyed hash: no file of the store
	// holds it.
	files, _ := filepath.Glob(filepath.Join(s.dir, "*"))
	if len(files) == 0 {
		t.Fatal("no store files to scan")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(data, []byte("openid-alice")) || bytes.Contains(data, []byte("openid-bob")) {
			t.Fatalf("%s holds an openid in clear", filepath.Base(f))
		}
	}
}

// loginState starts a sign-in and returns the state sent to WeChat; the
// browser keeps the state cookie.
func loginState(t *testing.T, b *browser, next string) string {
	t.Helper()
	h := b.noFollow().do("GET", "/api/v1/wechat/login?next="+url.QueryEscape(next), nil)
	if h.status != 302 {
		t.Fatalf("login: %d %s", h.status, h.raw)
	}
	u, err := url.Parse(h.location)
	if err != nil || u.Query().Get("scope") != "snsapi_base" || u.Fragment != "wechat_redirect" ||
		u.Query().Get("redirect_uri") != "http://"+publicHost+"/api/v1/wechat/callback" {
		t.Fatalf("authorize URL: %s", h.location)
	}
	return u.Query().Get("state")
}

func TestWeChatBadCodes(t *testing.T) {
	t.Parallel()
	s, wx := newWeChatServer(t)
	b := s.browser()
	nf := b.noFollow()
	callback := func(code, state string) hop {
		return nf.do("GET", "/api/v1/wechat/callback?code="+url.QueryEscape(code)+"&state="+url.QueryEscape(state), nil)
	}

	// Unknown code.
	callback("not-a-code", loginState(t, b, "/m/")).expectError(t, 400, "wechat_code_invalid")

	// A code works once; the second time WeChat says it was used.
	code := wx.Issue("oXL-openid-carol")
	if h := callback(code, loginState(t, b, "/m/")); h.status != 302 || h.location != "/m/" {
		t.Fatalf("good code: %d %s %s", h.status, h.location, h.raw)
	}
	b.do("POST", "/api/v1/me/logout", nil)
	callback(code, loginState(t, b, "/m/")).expectError(t, 400, "wechat_code_invalid")

	// Codes expire after five minutes.
	old := wx.Issue("oXL-openid-carol")
	wx.Age(wechattest.CodeLifetime + time.Minute)
	state := loginState(t, b, "/m/")
	callback(old, state).expectError(t, 400, "wechat_code_invalid")

	// A browser gets a page it can read, with a way on.
	html := *nf
	html.accept = "text/html,application/xhtml+xml"
	h := html.do("GET", "/api/v1/wechat/callback?code=nope&state="+loginState(t, b, "/m/quiz"), nil)
	if h.status != 400 || !strings.Contains(h.header.Get("Content-Type"), "text/html") ||
		!strings.Contains(h.raw, "wechat_code_invalid") || !strings.Contains(h.raw, `href="/m/quiz"`) {
		t.Fatalf("html failure: %d %s %s", h.status, h.header.Get("Content-Type"), h.raw)
	}

	// None of that signed anyone in, and the H5 still works anonymously.
	if b.config()["identified"] != false {
		t.Fatal("identified after failed sign-ins")
	}
	b.do("GET", "/api/v1/me/sessions", nil).expectError(t, 401, assess.CodeIdentityRequired)
	b.selfTest(0, 0, 0, 0, 0, 0, 0, 0, 0)

	// A snapshot-mode page has a virtual openid: refused, not linked.
	wx.SetSnapshot(true)
	callback(wx.Issue("virtual"), loginState(t, b, "/m/")).expectError(t, 403, "wechat_snapshot_user")
}

func TestWeChatStateIsBoundToTheBrowser(t *testing.T) {
	t.Parallel()
	s, wx := newWeChatServer(t)
	victim, attacker := s.browser(), s.browser()
	before := wx.Exchanges()

	// A state from another browser (login CSRF: the attacker's code
	// planted on the victim) is refused before any exchange.
	state := loginState(t, attacker, "/m/")
	code := wx.Issue("oXL-openid-attacker")
	victim.noFollow().do("GET", "/api/v1/wechat/callback?code="+code+"&state="+state, nil).expectError(t, 400, "wechat_state_invalid")

	// A wrong state with this browser's cookie, and no state at all.
	loginState(t, victim, "/m/")
	victim.noFollow().do("GET", "/api/v1/wechat/callback?code="+code+"&state=forged", nil).expectError(t, 400, "wechat_state_invalid")
	good := loginState(t, victim, "/m/")
	victim.noFollow().do("GET", "/api/v1/wechat/callback?code="+code, nil).expectError(t, 400, "wechat_state_invalid")

	// The state cookie is good for one return: the failure above used it.
	victim.noFollow().do("GET", "/api/v1/wechat/callback?code="+code+"&state="+good, nil).expectError(t, 400, "wechat_state_invalid")

	// A stale state cookie (over ten minutes) is refused too.
	good = loginState(t, victim, "/m/")
	s.clock.Add(11 * time.Minute)
	victim.noFollow().do("GET", "/api/v1/wechat/callback?code="+code+"&state="+good, nil).expectError(t, 400, "wechat_state_invalid")

	if wx.Exchanges() != before {
		t.Fatalf("%d code exchanges despite bad states", wx.Exchanges()-before)
	}
	if victim.config()["identified"] != false {
		t.Fatal("the victim was signed in")
	}
}

func TestWeChatNextMustStayInTheH5(t *testing.T) {
	t.Parallel()
	s, wx := newWeChatServer(t)
	b := s.browser().noFollow()
	for _, next := range []string{
		"https://evil.example/m/", "//evil.example/m/", "/\\evil.example/m/", "/m", "/api/v1/me/sessions",
		"/m/../api/v1/ping", "javascript:alert(1)", "/m/\r\nSet-Cookie: x=1", "m/quiz", "/x/m/",
	} {
		h := b.do("GET", "/api/v1/wechat/login?next="+url.QueryEscape(next), nil)
		h.expectError(t, 400, assess.CodeValidation)
		if h.location != "" {
			t.Errorf("next %q redirected to %s", next, h.location)
		}
	}
	for next, want := range map[string]string{"": "/m/", "/m/": "/m/", "/m/self-test/phq9?from=menu": "/m/self-test/phq9?from=menu"} {
		b := s.browser()
		state := loginState(t, b, next)
		h := b.noFollow().do("GET", "/api/v1/wechat/callback?code="+wx.Issue("oXL-openid-dan")+"&state="+state, nil)
		if h.status != 302 || h.location != want {
			t.Errorf("next %q: %d to %q, want %q", next, h.status, h.location, want)
		}
	}
}

// The default server: WeChat is off and everything is anonymous.
func TestWeChatDisabled(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	r := s.do("GET", "/api/v1/config", "", nil)
	if r.status != 200 || r.body["wechat"] != false || r.body["identified"] != false || r.body["crisis_hotline"] != "12356" {
		t.Fatalf("config: %d %s", r.status, r.raw)
	}
	s.do("GET", "/api/v1/wechat/login?next=/m/", "", nil).expectError(t, 404, "wechat_disabled")
	s.do("GET", "/api/v1/wechat/callback?code=x&state=y", "", nil).expectError(t, 404, "wechat_disabled")
	s.do("GET", "/api/v1/me/sessions", "", nil).expectError(t, 401, assess.CodeIdentityRequired)
	s.do("POST", "/api/v1/me/logout", "", nil).expectError(t, 401, assess.CodeIdentityRequired)
}

// A forged or foreign cookie identifies nobody: /me refuses it and clears
// it, and a self-test with it stays anonymous.
func TestForgedRespondentCookie(t *testing.T) {
	t.Parallel()
	s, _ := newWeChatServer(t)
	b := s.browser()
	u, _ := url.Parse("http://" + publicHost + "/")
	b.client.Jar.SetCookies(u, []*http.Cookie{{Name: "xinling_respondent", Value: "cGVyc29uMXw5OTk5OTk5OTk5.Zm9yZ2Vk"}})
	if b.config()["identified"] != false {
		t.Fatal("a forged cookie identified someone")
	}
	h := b.do("GET", "/api/v1/me/sessions", nil)
	h.expectError(t, 401, assess.CodeIdentityRequired)
	if !strings.Contains(strings.Join(h.header.Values("Set-Cookie"), ";"), "xinling_respondent=;") {
		t.Fatalf("the bad cookie was not cleared: %v", h.header.Values("Set-Cookie"))
	}
	b.selfTest(0, 0, 0, 0, 0, 0, 0, 0, 0)
}

// Behind https the cookies are Secure, and the state cookie only ever goes
// to the callback.
func TestWeChatCookiesBehindHTTPS(t *testing.T) {
	t.Parallel()
	wx := wechattest.New("wx0123456789abcdef", "app-secret-for-tests")
	t.Cleanup(wx.Close)
	s := newServer(t, func(c *api.Config, sc *assess.Options) {
		c.PublicURL = "https://xl.example.cn"
		c.WeChat = wx.Config()
		sc.Sessions.IdentityKey = identityKey
	})
	req, _ := http.NewRequest("GET", s.base+"/api/v1/wechat/login?next=/m/", nil)
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cookies := resp.Cookies()
	if resp.StatusCode != 302 || len(cookies) != 1 || !cookies[0].Secure || !cookies[0].HttpOnly ||
		cookies[0].Path != "/api/v1/wechat/callback" || cookies[0].SameSite != http.SameSiteLaxMode {
		t.Fatalf("state cookie: %d %+v", resp.StatusCode, cookies)
	}
	if !strings.Contains(resp.Header.Get("Location"), url.QueryEscape("https://xl.example.cn/api/v1/wechat/callback")) {
		t.Fatalf("redirect_uri: %s", resp.Header.Get("Location"))
	}
}

// A signed-in resident's warning reaches the self-test unit's staff with
// the person attached, so their record shows the earlier tests; a class
// code used with the same cookie stays anonymous, as the campaign promised.
func TestSignedInSelfTestsReachThePersonRecord(t *testing.T) {
	t.Parallel()
	wx := wechattest.New("wx0123456789abcdef", "app-secret-for-tests")
	t.Cleanup(wx.Close)
	o := newQueueOrg(t, func(c *api.Config, sc *assess.Options) {
		c.PublicURL = "http://" + publicHost
		c.WeChat = wx.Config()
		sc.Sessions.IdentityKey = identityKey
	})
	s := o.s
	alice := s.browser()
	alice.signIn(wx, "oXL-openid-erin")

	cp := campaignWith(t, o, "open", "bands")
	code := o.psychA.do("POST", "/api/v1/campaigns/"+cp+"/class-codes", nil).body["codes"].([]any)[0].(map[string]any)["code"].(string)
	if h := alice.do("POST", "/api/v1/sessions", map[string]any{"code": code, "consent": true}); h.status != 201 {
		t.Fatalf("class code: %d %s", h.status, h.raw)
	}
	s.clock.Add(time.Minute)
	first := alice.selfTest(1, 1, 1, 1, 1, 1, 1, 1, 0)
	s.clock.Add(time.Minute)
	second := alice.selfTest(2, 2, 2, 2, 2, 2, 2, 2, 2)
	if got := mySessions(t, alice); len(got) != 2 || got[0]["id"] != second || got[1]["id"] != first {
		t.Fatalf("my sessions hold the class-code session or miss a self-test: %v", got)
	}

	r := o.admin.do("GET", "/api/v1/warnings?level=1", nil)
	var person string
	for _, w := range r.body["warnings"].([]any) {
		if w := w.(map[string]any); w["session_id"] == second {
			person, _ = w["person_id"].(string)
		}
	}
	if person == "" {
		t.Fatalf("the self-test's entry names no person: %s", r.raw)
	}
	rec := o.admin.do("GET", "/api/v1/persons/"+person, nil)
	if rec.status != 200 || len(rec.body["results"].([]any)) != 2 {
		t.Fatalf("person record: %d %s", rec.status, rec.raw)
	}
}
