package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// DingTalk (钉钉) custom robot with 加签 (signed requests).
//
// Wire format, from 自定义机器人安全设置
// (https://open.dingtalk.com/document/orgapp/customize-robot-security-settings)
// and 自定义机器人发送群消息
// (https://open.dingtalk.com/document/orgapp/custom-robots-send-group-messages):
// POST https://oapi.dingtalk.com/robot/send?access_token=T&timestamp=MS&sign=S
// where MS is the time in milliseconds, which must lie within one hour of
// DingTalk's clock, and S = urlencode(base64(HMAC-SHA256(key = secret,
// message = MS + "\n" + secret))). The body is
// {"msgtype":"text","text":{"content":"…"}}; the answer is
// {"errcode":0,"errmsg":"ok"}. 310000 means a wrong signature, a stale
// timestamp, a missing keyword or an address outside the robot's
// whitelist: never worth a retry. -1 (system busy) and the rate limits
// 130101 and 410100 (more than 20 messages a minute) are. The protocol
// has no idempotency field.

// DefaultDingTalkURL is DingTalk's robot endpoint.
const DefaultDingTalkURL = "https://oapi.dingtalk.com/robot/send"

// DingTalkConfig configures the DingTalk channel.
type DingTalkConfig struct {
	// URL is the robot endpoint, without parameters; empty means
	// DefaultDingTalkURL.
	URL string
	// HTTP is the client; nil means one with DefaultTimeout.
	HTTP *http.Client
	// Now is the clock that dates the signature; nil means time.Now.
	Now func() time.Time
}

// DingTalk sends to DingTalk custom robots that use 加签.
// Target.Address is the access token, Target.Secret the signing secret.
type DingTalk struct {
	endpoint *url.URL
	http     *http.Client
	now      func() time.Time
}

var dingTalkRetryable = map[int]bool{-1: true, 130101: true, 410100: true}

// NewDingTalk returns the channel, or an error if cfg.URL is not https
// (or http to a loopback host).
func NewDingTalk(cfg DingTalkConfig) (*DingTalk, error) {
	u, err := parseEndpoint(cfg.URL, DefaultDingTalkURL)
	if err != nil {
		return nil, err
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &DingTalk{endpoint: u, http: httpClient(cfg.HTTP), now: now}, nil
}

// DingTalkSign returns the signature of a request made at timestamp
// (milliseconds since the epoch), before URL encoding.
func DingTalkSign(secret string, timestamp int64) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(timestamp, 10) + "\n" + secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Send posts m as a signed text message to the robot to.Address.
func (d *DingTalk) Send(ctx context.Context, to Target, m Message) error {
	r, err := Render(m)
	if err != nil {
		return Permanent(err)
	}
	token, err := robotCredential(to.Address, "access_token")
	if err != nil {
		return Permanent(fmt.Errorf("notify: %s: %w", ChannelDingTalk, err))
	}
	if to.Secret == "" {
		return Permanent(fmt.Errorf("notify: %s: %w: no signing secret (the robot must use 加签)", ChannelDingTalk, ErrInvalidTarget))
	}
	ts := d.now().UnixMilli()
	sign := DingTalkSign(to.Secret, ts)
	u := *d.endpoint
	u.RawQuery = url.Values{
		"access_token": {token},
		"timestamp":    {strconv.FormatInt(ts, 10)},
		"sign":         {sign},
	}.Encode()
	return postRobot(ctx, d.http, ChannelDingTalk, &u, r.Text, dingTalkRetryable, token, to.Secret, sign)
}
