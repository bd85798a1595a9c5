package wechat_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"xinling/wechat"
	"xinling/wechat/wechattest"
)

const secret = "s3cr3t-never-in-logs"

func TestAuthorizeURLKeepsWeChatsOrder(t *testing.T) {
	c := wechat.New(wechat.Config{AppID: "wx123", Secret: secret})
	got := c.AuthorizeURL("https://xl.example.cn/api/v1/wechat/callback", "abc123")
	want := "https://open.weixin.qq.com/connect/oauth2/authorize?appid=wx123" +
		"&redirect_uri=https%3A%2F%2Fxl.example.cn%2Fapi%2Fv1%2Fwechat%2Fcallback" +
		"&response_type=code&scope=snsapi_base&state=abc123#wechat_redirect"
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestExchange(t *testing.T) {
	wx := wechattest.New("wx123", secret)
	defer wx.Close()
	c := wechat.New(wx.Config())
	ctx := context.Background()

	code := wx.Issue("openid-alice")
	id, err := c.Exchange(ctx, code)
	if err != nil || id.OpenID != "openid-alice" || id.Snapshot {
		t.Fatalf("Exchange = %+v, %v", id, err)
	}
	var ce *wechat.CodeError
	if _, err := c.Exchange(ctx, code); !errors.As(err, &ce) || ce.Errcode != wechat.ErrcodeCodeUsed {
		t.Fatalf("used code: %v", err)
	}
	if _, err := c.Exchange(ctx, "no-such-code"); !errors.As(err, &ce) || ce.Errcode != wechat.ErrcodeInvalidCode {
		t.Fatalf("unknown code: %v", err)
	}
	old := wx.Issue("openid-alice")
	wx.Age(wechattest.CodeLifetime + time.Second)
	if _, err := c.Exchange(ctx, old); !errors.As(err, &ce) || ce.Errcode != wechat.ErrcodeInvalidCode {
		t.Fatalf("expired code: %v", err)
	}

	wx.SetSnapshot(true)
	if id, err := c.Exchange(ctx, wx.Issue("virtual")); err != nil || !id.Snapshot {
		t.Fatalf("snapshot user: %+v, %v", id, err)
	}
}

// A wrong secret or an unreachable WeChat is the operator's problem, and
// the error that reaches the log must not carry the secret.
func TestExchangeFailuresKeepTheSecretOut(t *testing.T) {
	wx := wechattest.New("wx123", "the-real-secret")
	cfg := wx.Config()
	cfg.Secret = secret
	c := wechat.New(cfg)
	_, err := c.Exchange(context.Background(), wx.Issue("openid-alice"))
	if !errors.Is(err, wechat.ErrUnavailable) || strings.Contains(err.Error(), secret) {
		t.Fatalf("wrong secret: %v", err)
	}
	wx.Close()
	cfg.HTTP = &http.Client{Timeout: 2 * time.Second}
	_, err = wechat.New(cfg).Exchange(context.Background(), "code")
	if !errors.Is(err, wechat.ErrUnavailable) || strings.Contains(err.Error(), secret) {
		t.Fatalf("unreachable: %v", err)
	}
}
