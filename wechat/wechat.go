// Package wechat speaks the one part of WeChat's official-account API that
// xinling needs: web-page authorization (网页授权) with the snsapi_base
// scope, which names the resident by an openid without asking them
// anything. Both endpoints' addresses are settings, so tests and staging
// run the whole flow against a local stand-in.
//
// golang.org/x/oauth2 does not fit: WeChat names the client "appid", wants
// its parameters in a fixed order with a #wechat_redirect fragment, and
// reports errors as errcode in a 200 JSON body.
package wechat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Default endpoints of WeChat's public service.
const (
	DefaultAuthorizeURL = "https://open.weixin.qq.com/connect/oauth2/authorize"
	DefaultAPIURL       = "https://api.weixin.qq.com"
)

// WeChat's error codes for a code that cannot be exchanged (documented in
// the global return codes): unknown or expired, and already used.
const (
	ErrcodeInvalidCode = 40029
	ErrcodeCodeUsed    = 40163
)

// Config names the official account and where WeChat answers.
type Config struct {
	AppID  string
	Secret string // never logged, never in an error message
	// AuthorizeURL is the browser-facing authorization page; APIURL the
	// base of the server-to-server API. Empty means WeChat's own.
	AuthorizeURL string
	APIURL       string
	// HTTP is the client for the code exchange; nil means one with a 10 s
	// timeout, so a slow WeChat cannot hold a resident's browser for long.
	HTTP *http.Client
}

// Enabled reports whether the account is configured.
func (c Config) Enabled() bool { return c.AppID != "" && c.Secret != "" }

// Client authorizes residents through one official account.
type Client struct {
	cfg Config
}

// New returns a client; cfg must be Enabled.
func New(cfg Config) *Client {
	if cfg.AuthorizeURL == "" {
		cfg.AuthorizeURL = DefaultAuthorizeURL
	}
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	cfg.APIURL = strings.TrimSuffix(cfg.APIURL, "/")
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Timeout: 10 * time.Second}
	}
	return &Client{cfg: cfg}
}

// AuthorizeURL is where the browser goes to be identified. WeChat matches
// the link against a strict pattern, so the parameters keep the documented
// order and the #wechat_redirect fragment.
func (c *Client) AuthorizeURL(redirectURI, state string) string {
	sep := "?"
	if strings.Contains(c.cfg.AuthorizeURL, "?") {
		sep = "&"
	}
	return c.cfg.AuthorizeURL + sep +
		"appid=" + url.QueryEscape(c.cfg.AppID) +
		"&redirect_uri=" + url.QueryEscape(redirectURI) +
		"&response_type=code&scope=snsapi_base" +
		"&state=" + url.QueryEscape(state) +
		"#wechat_redirect"
}

// CodeError is WeChat refusing a code: unknown, expired (codes live five
// minutes) or used already (each works once).
type CodeError struct {
	Errcode int
	Errmsg  string
}

func (e *CodeError) Error() string {
	return fmt.Sprintf("wechat refused the authorization code: %d %s", e.Errcode, e.Errmsg)
}

// ErrUnavailable wraps every other failure of the exchange: WeChat
// unreachable, a malformed answer, or an error that points at our own
// configuration (a wrong appid or secret). The resident can do nothing
// about these; operators read them in the log.
var ErrUnavailable = errors.New("wechat is unavailable")

// Identity is what the exchange yields.
type Identity struct {
	OpenID string
	// Snapshot is set for the virtual account WeChat creates when a page
	// is opened in "snapshot" mode from Moments: its openid names nobody.
	Snapshot bool
}

type tokenResponse struct {
	OpenID         string `json:"openid"`
	Scope          string `json:"scope"`
	IsSnapshotUser int    `json:"is_snapshotuser"`
	Errcode        int    `json:"errcode"`
	Errmsg         string `json:"errmsg"`
}

// Exchange trades an authorization code for the resident's openid. The
// access token that comes with it is not kept: snsapi_base allows nothing
// more than the openid.
func (c *Client) Exchange(ctx context.Context, code string) (Identity, error) {
	q := url.Values{}
	q.Set("appid", c.cfg.AppID)
	q.Set("secret", c.cfg.Secret)
	q.Set("code", code)
	q.Set("grant_type", "authorization_code")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.cfg.APIURL+"/sns/oauth2/access_token?"+q.Encode(), nil)
	if err != nil {
		return Identity{}, fmt.Errorf("%w: bad API URL", ErrUnavailable)
	}
	resp, err := c.cfg.HTTP.Do(req)
	if err != nil {
		// A *url.Error quotes the whole URL, secret included: keep only
		// the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return Identity{}, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return Identity{}, fmt.Errorf("%w: reading the answer: %v", ErrUnavailable, err)
	}
	if resp.StatusCode != http.StatusOK {
		return Identity{}, fmt.Errorf("%w: HTTP %d", ErrUnavailable, resp.StatusCode)
	}
	var tr tokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		return Identity{}, fmt.Errorf("%w: the answer is not JSON", ErrUnavailable)
	}
	switch {
	case tr.Errcode == ErrcodeInvalidCode || tr.Errcode == ErrcodeCodeUsed:
		return Identity{}, &CodeError{Errcode: tr.Errcode, Errmsg: tr.Errmsg}
	case tr.Errcode != 0:
		return Identity{}, fmt.Errorf("%w: errcode %d %s", ErrUnavailable, tr.Errcode, tr.Errmsg)
	case tr.OpenID == "":
		return Identity{}, fmt.Errorf("%w: the answer has no openid", ErrUnavailable)
	}
	return Identity{OpenID: tr.OpenID, Snapshot: tr.IsSnapshotUser == 1}, nil
}
