package main

import (
	"io"
	"strings"
	"testing"
)

const testIdentityKey = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=" // 32 bytes of 7

func TestServeWeChatSettings(t *testing.T) {
	// Off by default, and the H5 stays anonymous.
	cfg, _, err := parseServeFlags(nil, io.Discard)
	if err != nil || cfg.api.WeChat.Enabled() || cfg.assess.Sessions.IdentityKey != nil {
		t.Fatalf("default: %+v, %v", cfg.api.WeChat, err)
	}

	t.Setenv("XINLING_WECHAT_APPID", "wx0123")
	t.Setenv("XINLING_WECHAT_SECRET", "the-secret")
	t.Setenv("XINLING_IDENTITY_KEY", testIdentityKey)
	t.Setenv("XINLING_WECHAT_API_URL", "http://127.0.0.1:9999")
	cfg, _, err = parseServeFlags([]string{"--public-url", "https://xl.example.cn"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	w := cfg.api.WeChat
	if !w.Enabled() || w.AppID != "wx0123" || w.Secret != "the-secret" || w.APIURL != "http://127.0.0.1:9999" ||
		w.AuthorizeURL != "https://open.weixin.qq.com/connect/oauth2/authorize" || len(cfg.assess.Sessions.IdentityKey) != 32 {
		t.Fatalf("enabled: %+v key %d bytes", w, len(cfg.assess.Sessions.IdentityKey))
	}
}

func TestServeWeChatRefusesHalfSettings(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"XINLING_WECHAT_APPID": "wx0123"}, "needs both"},
		{map[string]string{"XINLING_WECHAT_SECRET": "s"}, "needs both"},
		{map[string]string{"XINLING_WECHAT_APPID": "wx0123", "XINLING_WECHAT_SECRET": "s"}, "needs XINLING_IDENTITY_KEY"},
		{map[string]string{"XINLING_IDENTITY_KEY": "c2hvcnQ="}, "at least 32 bytes"},
		{map[string]string{"XINLING_IDENTITY_KEY": "not base64!"}, "not base64"},
		{map[string]string{"XINLING_WECHAT_APPID": "wx0123", "XINLING_WECHAT_SECRET": "s", "XINLING_IDENTITY_KEY": testIdentityKey,
			"XINLING_WECHAT_API_URL": "api.weixin.qq.com"}, "--wechat-api-url must be an absolute"},
	} {
		t.Run(c.want, func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			_, _, err := parseServeFlags(nil, io.Discard)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("%v: %v, want %q", c.env, err, c.want)
			}
			if strings.Contains(err.Error(), "the-secret") || strings.Contains(err.Error(), testIdentityKey) {
				t.Fatalf("a secret reached the message: %v", err)
			}
		})
	}
}
