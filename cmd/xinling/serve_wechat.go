package main

import (
	"net/url"
	"os"
	"strings"
	"time"

	"xinling/assess"
	"xinling/wechat"
)

// Secrets come from the environment only: a flag would show in ps and in
// shell history.
const (
	envWeChatSecret = "XINLING_WECHAT_SECRET"
	envIdentityKey  = "XINLING_IDENTITY_KEY"
)

// weChatFlags are the settings of WeChat sign-in for residents.
type weChatFlags struct {
	appID, authorizeURL, apiURL *string
	respondentTTL               *time.Duration
}

func addWeChatFlags(env *envDefaults) weChatFlags {
	return weChatFlags{
		appID:         env.String("wechat-appid", "", "official account appid; with "+envWeChatSecret+" and "+envIdentityKey+" it turns on WeChat sign-in for residents"),
		authorizeURL:  env.String("wechat-authorize-url", wechat.DefaultAuthorizeURL, "WeChat's web-page authorization page (a stand-in for tests)"),
		apiURL:        env.String("wechat-api-url", wechat.DefaultAPIURL, "base URL of WeChat's API (a stand-in for tests)"),
		respondentTTL: env.Duration("respondent-session", assess.DefaultRespondentTTL, "how long a resident stays signed in"),
	}
}

// apply checks the settings together and fills cfg. WeChat sign-in is on
// only when appid and secret are both set, and then it needs the identity
// key: openids are stored as a keyed hash and nothing else is safe.
func (w weChatFlags) apply(cfg *serveConfig) error {
	if *w.respondentTTL <= 0 {
		return usagef("--respondent-session must be positive")
	}
	cfg.assess.Sessions.RespondentTTL = *w.respondentTTL
	if raw, ok := os.LookupEnv(envIdentityKey); ok && raw != "" {
		key, err := assess.ParseIdentityKey(raw)
		if err != nil {
			return usagef("%s: %v", envIdentityKey, err)
		}
		cfg.assess.Sessions.IdentityKey = key
	}
	appID, secret := strings.TrimSpace(*w.appID), os.Getenv(envWeChatSecret)
	switch {
	case appID == "" && secret == "":
		return nil
	case appID == "" || secret == "":
		return usagef("WeChat sign-in needs both --wechat-appid (XINLING_WECHAT_APPID) and %s", envWeChatSecret)
	case cfg.assess.Sessions.IdentityKey == nil:
		return usagef("WeChat sign-in needs %s (base64 of 32 random bytes: head -c32 /dev/urandom | base64)", envIdentityKey)
	}
	for name, v := range map[string]string{"--wechat-authorize-url": *w.authorizeURL, "--wechat-api-url": *w.apiURL, "--public-url": cfg.api.PublicURL} {
		if u, err := url.Parse(v); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return usagef("%s must be an absolute http(s) URL, not %q", name, v)
		}
	}
	cfg.api.WeChat = wechat.Config{AppID: appID, Secret: secret, AuthorizeURL: *w.authorizeURL, APIURL: *w.apiURL}
	return nil
}
