// Package wechattest is a local stand-in for WeChat's web-page
// authorization, answering as the documented API does, so that tests run
// the whole sign-in flow without the internet.
package wechattest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"time"

	"xinling/wechat"
)

// CodeLifetime is how long WeChat honours an authorization code.
const CodeLifetime = 5 * time.Minute

// Server is the stand-in. Set User to the openid that the next
// authorization names (the resident "in" the WeChat app).
type Server struct {
	*httptest.Server
	AppID, Secret string

	mu    sync.Mutex
	user  string
	codes map[string]*grant
	// Exchanges counts calls of the token endpoint.
	exchanges int
	now       func() time.Time
	snapshot  bool
}

type grant struct {
	openid string
	issued time.Time
	used   bool
}

// New starts a stand-in for the account appID with secret.
func New(appID, secret string) *Server {
	s := &Server{AppID: appID, Secret: secret, codes: map[string]*grant{}, now: time.Now}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /connect/oauth2/authorize", s.authorize)
	mux.HandleFunc("GET /sns/oauth2/access_token", s.token)
	s.Server = httptest.NewServer(mux)
	return s
}

// Config returns client settings that point at the stand-in.
func (s *Server) Config() wechat.Config {
	return wechat.Config{AppID: s.AppID, Secret: s.Secret, AuthorizeURL: s.URL + "/connect/oauth2/authorize", APIURL: s.URL}
}

// SetUser chooses whose openid the next authorization yields.
func (s *Server) SetUser(openid string) {
	s.mu.Lock()
	s.user = openid
	s.mu.Unlock()
}

// SetSnapshot makes the next authorizations come from a snapshot-mode page.
func (s *Server) SetSnapshot(on bool) {
	s.mu.Lock()
	s.snapshot = on
	s.mu.Unlock()
}

// Issue hands out a code for openid directly, as if the browser had been
// through the authorization page.
func (s *Server) Issue(openid string) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	code := hex.EncodeToString(b[:])
	s.mu.Lock()
	s.codes[code] = &grant{openid: openid, issued: s.now()}
	s.mu.Unlock()
	return code
}

// Age moves every issued code d into the past, so a test can let them
// expire.
func (s *Server) Age(d time.Duration) {
	s.mu.Lock()
	for _, g := range s.codes {
		g.issued = g.issued.Add(-d)
	}
	s.mu.Unlock()
}

// Exchanges returns how many times the token endpoint was called.
func (s *Server) Exchanges() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.exchanges
}

// authorize plays the page WeChat shows: with snsapi_base it asks the
// resident nothing and redirects straight back with a code and the state.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if q.Get("appid") != s.AppID || q.Get("response_type") != "code" || q.Get("scope") != "snsapi_base" ||
		err != nil || !redirect.IsAbs() {
		http.Error(w, "该链接无法访问", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	user := s.user
	s.mu.Unlock()
	code := s.Issue(user)
	back := redirect.Query()
	back.Set("code", code)
	back.Set("state", q.Get("state"))
	redirect.RawQuery = back.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.exchanges++
	reply := func(v any) {
		// WeChat answers errors with 200 and a JSON body, as plain text.
		w.Header().Set("Content-Type", "text/plain")
		_ = json.NewEncoder(w).Encode(v)
	}
	fail := func(code int, msg string) { reply(map[string]any{"errcode": code, "errmsg": msg}) }
	switch {
	case q.Get("appid") != s.AppID:
		fail(40013, "invalid appid")
		return
	case q.Get("secret") != s.Secret:
		fail(40125, "invalid appsecret")
		return
	case q.Get("grant_type") != "authorization_code":
		fail(40002, "invalid grant_type")
		return
	}
	g, ok := s.codes[q.Get("code")]
	switch {
	case !ok || s.now().Sub(g.issued) > CodeLifetime:
		fail(wechat.ErrcodeInvalidCode, "invalid code")
		return
	case g.used:
		fail(wechat.ErrcodeCodeUsed, "code been used")
		return
	}
	g.used = true
	out := map[string]any{"access_token": "ACCESS_" + q.Get("code"), "expires_in": 7200,
		"refresh_token": "REFRESH_" + q.Get("code"), "openid": g.openid, "scope": "snsapi_base"}
	if s.snapshot {
		out["is_snapshotuser"] = 1
	}
	reply(out)
}
