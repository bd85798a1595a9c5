package api

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"xinling/assess"
	"xinling/store"
	"xinling/wechat"
)

// Codes of the respondent identity endpoints.
const (
	codeWeChatDisabled    = "wechat_disabled"
	codeWeChatCodeInvalid = "wechat_code_invalid"
	codeWeChatState       = "wechat_state_invalid"
	codeWeChatUnavailable = "wechat_unavailable"
	codeWeChatSnapshot    = "wechat_snapshot_user"
)

// Registered here rather than in errors.go so the identity endpoints stay
// in one file.
func init() {
	statusOf[assess.CodeIdentityRequired] = http.StatusUnauthorized
	statusOf[codeWeChatDisabled] = http.StatusNotFound
	statusOf[codeWeChatCodeInvalid] = http.StatusBadRequest
	statusOf[codeWeChatState] = http.StatusBadRequest
	statusOf[codeWeChatSnapshot] = http.StatusForbidden
	statusOf[codeWeChatUnavailable] = http.StatusBadGateway
}

const (
	// respondentCookie holds the signed respondent token. SameSite=Lax: it
	// must survive WeChat's top-level redirect back to the callback, and no
	// cross-site POST carries it.
	respondentCookie = "xinling_respondent"
	// stateCookie binds an authorization in flight to the browser that
	// started it; only the callback ever receives it.
	stateCookie    = "xinling_wechat_state"
	statePurpose   = "wechat-state"
	stateTTL       = 10 * time.Minute
	callbackPath   = "/api/v1/wechat/callback"
	defaultNext    = "/m/"
	maxNextLength  = 512
	identityIssuer = "wechat:" // + appid: openids are per official account
)

// WeChatConfig is the official account's settings (see package wechat).
type WeChatConfig = wechat.Config

// identityAPI serves /config, the WeChat sign-in and the respondent's own
// pages (/me/...).
type identityAPI struct {
	sessions     *assess.Sessions
	wx           *wechat.Client // nil: WeChat sign-in is off
	appID        string
	publicURL    string
	cookieSecure bool
	log          *slog.Logger
}

func registerIdentity(v1 fiber.Router, h identityAPI) {
	v1.Get("/config", h.config)
	v1.Get("/wechat/login", h.login)
	v1.Get("/wechat/callback", h.callback)
	v1.Get("/me/sessions", h.requireRespondent, h.mySessions)
	v1.Post("/me/logout", h.requireRespondent, h.logout)
}

// newIdentityAPI turns WeChat on only with both the account and an
// identity key: without the key there would be nothing safe to store.
func newIdentityAPI(cfg Config, sessions *assess.Sessions) identityAPI {
	h := identityAPI{sessions: sessions, publicURL: strings.TrimRight(cfg.PublicURL, "/"), log: cfg.Log,
		cookieSecure: cfg.CookieSecure || strings.HasPrefix(cfg.PublicURL, "https://")}
	if cfg.WeChat.Enabled() && sessions.IdentityEnabled() {
		h.wx, h.appID = wechat.New(cfg.WeChat), cfg.WeChat.AppID
	}
	return h
}

// respondentOf returns the signed-in respondent's person id, or "" for an
// anonymous browser (no cookie, or one no longer valid).
func (h identityAPI) respondentOf(c *fiber.Ctx) string {
	tok := c.Cookies(respondentCookie)
	if tok == "" {
		return ""
	}
	id, err := h.sessions.Respondent(c.UserContext(), tok)
	if err != nil {
		return ""
	}
	return id
}

// config tells the H5 what this server offers. It is public and carries no
// personal data; identified depends on the cookie, so it is never cached.
func (h identityAPI) config(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(fiber.Map{"wechat": h.wx != nil, "crisis_hotline": h.sessions.Hotline(), "identified": h.respondentOf(c) != ""})
}

func (h identityAPI) disabled() error {
	return &assess.Error{Code: codeWeChatDisabled, Message: "WeChat sign-in is not set up on this server"}
}

// safeNext accepts only a path of the H5 on this site, so that the sign-in
// can never send a resident elsewhere (an open redirect).
func safeNext(next string) (string, bool) {
	if next == "" {
		return defaultNext, true
	}
	if len(next) > maxNextLength || strings.ContainsAny(next, "\\\x00") || !strings.HasPrefix(next, "/m/") {
		return "", false
	}
	for _, r := range next {
		if r < 0x20 || r == 0x7f {
			return "", false
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "", false
	}
	// "/m/../api/..." stays on the site but leaves the H5: refuse it too.
	if clean := path.Clean(u.Path); clean != "/m" && !strings.HasPrefix(clean, "/m/") {
		return "", false
	}
	return next, true
}

func (h identityAPI) login(c *fiber.Ctx) error {
	if h.wx == nil {
		return h.disabled()
	}
	next, ok := safeNext(c.Query("next"))
	if !ok {
		return &assess.Error{Code: assess.CodeValidation, Field: "next", Message: "next must be a path of this site's H5, starting with /m/"}
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return err
	}
	state := hex.EncodeToString(b[:])
	value := state + " " + base64.RawURLEncoding.EncodeToString([]byte(next))
	c.Cookie(&fiber.Cookie{Name: stateCookie, Value: h.sessions.Sign(statePurpose, value, stateTTL), Path: callbackPath,
		MaxAge: int(stateTTL / time.Second), HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode, Secure: h.cookieSecure || c.Secure()})
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Redirect(h.wx.AuthorizeURL(h.publicURL+callbackPath, state), fiber.StatusFound)
}

// checkState returns where to go after the sign-in, if the state WeChat
// brought back is the one this browser was given.
func (h identityAPI) checkState(c *fiber.Ctx) (string, bool) {
	value, ok := h.sessions.Verify(statePurpose, c.Cookies(stateCookie))
	if !ok {
		return "", false
	}
	state, next64, _ := strings.Cut(value, " ")
	got := c.Query("state")
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(state)) != 1 {
		return "", false
	}
	next, err := base64.RawURLEncoding.DecodeString(next64)
	if err != nil {
		return "", false
	}
	if n, ok := safeNext(string(next)); ok {
		return n, true
	}
	return "", false
}

func (h identityAPI) callback(c *fiber.Ctx) error {
	if h.wx == nil {
		return h.disabled()
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	next, ok := h.checkState(c)
	// The state is good for one return only.
	c.Cookie(&fiber.Cookie{Name: stateCookie, Value: "", Path: callbackPath, Expires: time.Unix(0, 0),
		HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode, Secure: h.cookieSecure || c.Secure()})
	if !ok {
		return h.failPage(c, codeWeChatState, defaultNext,
			"登录链接已失效或不是在本浏览器中打开的，请返回重试。", "The sign-in link has expired or was opened in another browser; please go back and try again.")
	}
	code := c.Query("code")
	if code == "" || len(code) > 512 {
		return h.failPage(c, codeWeChatCodeInvalid, next,
			"微信没有返回有效的授权码，请返回重试。", "WeChat did not return a valid authorization code; please go back and try again.")
	}
	id, err := h.wx.Exchange(c.UserContext(), code)
	var ce *wechat.CodeError
	switch {
	case errors.As(err, &ce):
		return h.failPage(c, codeWeChatCodeInvalid, next,
			"微信授权码无效、已过期或已被使用，请返回重试。", "The WeChat authorization code is invalid, expired or already used; please go back and try again.")
	case err != nil:
		h.log.WarnContext(c.UserContext(), "wechat sign-in failed", "err", err)
		return h.failPage(c, codeWeChatUnavailable, next,
			"暂时无法连接微信，请稍后再试。", "WeChat cannot be reached just now; please try again later.")
	case id.Snapshot:
		return h.failPage(c, codeWeChatSnapshot, next,
			"当前为朋友圈快照页，无法识别身份。请点击页面下方“使用完整服务”后再试。", "This is a Moments snapshot page, which cannot sign you in. Open the full page and try again.")
	}
	tok, err := h.sessions.SignIn(c.UserContext(), store.IdentityWeChat, identityIssuer+h.appID, id.OpenID)
	if err != nil {
		return err
	}
	c.Cookie(&fiber.Cookie{Name: respondentCookie, Value: tok.Token, Path: "/", Expires: tok.Expires,
		HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode, Secure: h.cookieSecure || c.Secure()})
	return c.Redirect(next, fiber.StatusFound)
}

var failTemplate = template.Must(template.New("fail").Parse(`<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>未能登录 · Not signed in</title>
<style>body{font:17px/1.6 system-ui,sans-serif;margin:2em auto;max-width:32em;padding:0 1em;color:#333}a{display:inline-block;margin-top:1em;padding:.6em 1.2em;background:#07c160;color:#fff;border-radius:6px;text-decoration:none}small{color:#888}</style>
</head><body>
<h1>未能通过微信登录</h1>
<p>{{.ZH}}</p>
<p>你仍然可以不登录继续使用自测，只是结果不会保存到“我的测评”。</p>
<p lang="en"><small>Not signed in with WeChat. {{.EN}} You can still take self-tests without signing in; they just won't appear under "my tests".</small></p>
<a href="{{.Next}}">继续 · Continue</a>
<p><small>{{.Code}}</small></p>
</body></html>`))

// failPage answers a failed sign-in: a page for the browser that was
// redirected here, the usual error JSON for anything else. Either way the
// resident can go on anonymously.
func (h identityAPI) failPage(c *fiber.Ctx, code, next, zh, en string) error {
	if !strings.Contains(c.Get(fiber.HeaderAccept), "text/html") {
		return &assess.Error{Code: code, Message: en}
	}
	c.Status(statusOf[code])
	c.Type("html", "utf-8")
	return failTemplate.Execute(c.Response().BodyWriter(), struct{ ZH, EN, Next, Code string }{zh, en, next, code})
}

const respondentKey = "respondent"

// requireRespondent admits calls with a valid respondent cookie. A cookie
// that no longer works is cleared, so the H5 falls back to anonymous use.
func (h identityAPI) requireRespondent(c *fiber.Ctx) error {
	tok := c.Cookies(respondentCookie)
	if tok == "" {
		return &assess.Error{Code: assess.CodeIdentityRequired, Message: "sign in through WeChat to see your earlier tests"}
	}
	id, err := h.sessions.Respondent(c.UserContext(), tok)
	if err != nil {
		h.clearRespondent(c)
		return err
	}
	c.Locals(respondentKey, id)
	return c.Next()
}

func (h identityAPI) clearRespondent(c *fiber.Ctx) {
	c.Cookie(&fiber.Cookie{Name: respondentCookie, Value: "", Path: "/", Expires: time.Unix(0, 0),
		HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode, Secure: h.cookieSecure || c.Secure()})
}

func (h identityAPI) mySessions(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	list, next, err := h.sessions.MySessions(c.UserContext(), c.Locals(respondentKey).(string), c.Query("after"),
		c.QueryInt("limit", store.DefaultLimit), locale(c))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"sessions": list, "next": next})
}

func (h identityAPI) logout(c *fiber.Ctx) error {
	h.clearRespondent(c)
	return c.JSON(fiber.Map{"ok": true})
}
