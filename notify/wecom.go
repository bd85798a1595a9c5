package notify

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
)

// WeCom (企业微信) group robot.
//
// Wire format, from 群机器人配置说明
// (https://developer.work.weixin.qq.com/document/path/91770): POST
// https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=KEY with the JSON
// body {"msgtype":"text","text":{"content":"…"}}; content is at most 2048
// bytes of UTF-8. The robot answers {"errcode":0,"errmsg":"ok"}; a
// robot takes at most 20 messages a minute. The error codes are the
// global ones (全局错误码, https://developer.work.weixin.qq.com/document/path/90313):
// -1 system busy, 45009 call frequency over the limit and 45033 too many
// concurrent calls are worth retrying; 93000 (invalid webhook URL, robot
// removed from the group) and the rest are not. The robot protocol has
// no idempotency field, so a retry after a lost reply may post twice.

// DefaultWeComURL is WeCom's robot endpoint.
const DefaultWeComURL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"

// WeComConfig configures the WeCom channel.
type WeComConfig struct {
	// URL is the robot endpoint, without the key; empty means
	// DefaultWeComURL. Tests point it at notifytest's stand-in.
	URL string
	// HTTP is the client; nil means one with DefaultTimeout. Redirects
	// are never followed.
	HTTP *http.Client
}

// WeCom sends to WeCom group robots. Target.Address is the robot key.
type WeCom struct {
	endpoint *url.URL
	http     *http.Client
}

var weComRetryable = map[int]bool{-1: true, 45009: true, 45033: true}

// NewWeCom returns the channel, or an error if cfg.URL is not https (or
// http to a loopback host).
func NewWeCom(cfg WeComConfig) (*WeCom, error) {
	u, err := parseEndpoint(cfg.URL, DefaultWeComURL)
	if err != nil {
		return nil, err
	}
	return &WeCom{endpoint: u, http: httpClient(cfg.HTTP)}, nil
}

// Send posts m as a text message to the robot whose key is to.Address.
func (w *WeCom) Send(ctx context.Context, to Target, m Message) error {
	r, err := Render(m)
	if err != nil {
		return Permanent(err)
	}
	key, err := robotCredential(to.Address, "key")
	if err != nil {
		return Permanent(fmt.Errorf("notify: %s: %w", ChannelWeCom, err))
	}
	u := *w.endpoint
	u.RawQuery = url.Values{"key": {key}}.Encode()
	return postRobot(ctx, w.http, ChannelWeCom, &u, r.Text, weComRetryable, key)
}
