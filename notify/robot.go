package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// WeCom and DingTalk robots take the same text message and answer alike:
// {"errcode":0,"errmsg":"ok"} with HTTP 200, a non-zero errcode when the
// message is refused.

// robotText is the body of a text message to either robot. Nothing else
// is sent: no @-mentions, whose lists would carry staff phone numbers.
type robotText struct {
	MsgType string `json:"msgtype"`
	Text    struct {
		Content string `json:"content"`
	} `json:"text"`
}

type robotReply struct {
	Errcode *int   `json:"errcode"`
	Errmsg  string `json:"errmsg"`
}

// postRobot posts the rendered text of m to u and classifies the answer.
// retryable lists the errcodes that a later attempt may get past.
func postRobot(ctx context.Context, c *http.Client, channel string, u *url.URL, text string, retryable map[int]bool, secrets ...string) error {
	var body robotText
	body.MsgType = "text"
	body.Text.Content = text
	b, err := json.Marshal(body)
	if err != nil {
		return Permanent(fmt.Errorf("notify: %s: %w", channel, err))
	}
	req, err := http.NewRequest(http.MethodPost, u.String(), bytes.NewReader(b))
	if err != nil {
		return Permanent(&sendError{msg: scrub(fmt.Sprintf("notify: %s: building the request: %v", channel, err), secrets...)})
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	shown := shownURL(u)
	r, err := do(ctx, c, req, channel, shown, secrets...)
	if err != nil {
		return err
	}
	if err := statusError(r, channel, http.MethodPost, shown, secrets...); err != nil {
		return err
	}
	var rep robotReply
	if err := json.Unmarshal(r.body, &rep); err != nil || rep.Errcode == nil {
		// Something answered 200 that is not the robot API (a proxy's
		// page, say). Whether the message went through is unknown, so
		// try again: delivery is at least once.
		return &sendError{msg: scrub(fmt.Sprintf("notify: %s: POST %s: the reply is not the robot API's%s", channel, shown, replySnippet(r.body)), secrets...)}
	}
	if *rep.Errcode == 0 {
		return nil
	}
	e := &sendError{msg: scrub(fmt.Sprintf("notify: %s: POST %s: errcode %d: %s", channel, shown, *rep.Errcode, strings.TrimSpace(rep.Errmsg)), secrets...)}
	if retryable[*rep.Errcode] {
		return e
	}
	return Permanent(e)
}

// robotCredential takes a robot's key or token from a Target's Address,
// which may hold it alone or the whole webhook URL that carries it as
// the query parameter param.
func robotCredential(address, param string) (string, error) {
	s := strings.TrimSpace(address)
	if strings.Contains(s, "://") {
		u, err := url.Parse(s)
		if err != nil {
			return "", fmt.Errorf("%w: the webhook URL cannot be parsed", ErrInvalidTarget)
		}
		s = u.Query().Get(param)
	}
	if s == "" || len(s) > 256 {
		return "", fmt.Errorf("%w: no robot %s", ErrInvalidTarget, param)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return "", fmt.Errorf("%w: the robot %s holds a character outside A-Z a-z 0-9 - _", ErrInvalidTarget, param)
		}
	}
	return s, nil
}
