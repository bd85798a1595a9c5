package notifytest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"xinling/notify"
)

func postJSON(t *testing.T, u string, body string) map[string]any {
	t.Helper()
	resp, err := http.Post(u, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return out
}

func TestWeComChecks(t *testing.T) {
	s := NewWeCom(t)
	good := s.URL + "?key=" + s.Key
	for body, code := range map[string]float64{
		`{"msgtype":"text","text":{"content":"hi"}}`:                                         0,
		`{"msgtype":"text","text":{"content":"hi","mentioned_mobile_list":["13812345678"]}}`: 40058,
		`{"msgtype":"text","text":{"content":"hi"},"extra":1}`:                               40058,
		`{"msgtype":"markdown","markdown":{"content":"hi"}}`:                                 40058,
		`{"msgtype":"text","text":{"content":""}}`:                                           40058,
		`{"msgtype":"text","text":{"content":"` + strings.Repeat("长", 700) + `"}}`:           40058,
	} {
		if got := postJSON(t, good, body)["errcode"]; got != code {
			t.Errorf("%.60s: errcode %v, want %v", body, got, code)
		}
	}
	if got := postJSON(t, s.URL+"?key=other", `{"msgtype":"text","text":{"content":"hi"}}`)["errcode"]; got != 93000.0 {
		t.Errorf("unknown key: errcode %v, want 93000", got)
	}
	if n := len(s.Delivered()); n != 1 {
		t.Errorf("%d delivered, want 1", n)
	}
}

func TestDingTalkTimestampFreshness(t *testing.T) {
	s := NewDingTalk(t)
	for _, c := range []struct {
		skew time.Duration
		ok   bool
	}{{0, true}, {59 * time.Minute, true}, {-59 * time.Minute, true}, {61 * time.Minute, false}, {-61 * time.Minute, false}} {
		cfg := s.Config()
		cfg.Now = func() time.Time { return time.Now().Add(c.skew) }
		ch, err := notify.NewDingTalk(cfg)
		if err != nil {
			t.Fatal(err)
		}
		err = ch.Send(ctx, s.Target(), msg("k"))
		if c.ok && err != nil {
			t.Errorf("clock off by %v: %v", c.skew, err)
		}
		if !c.ok && (err == nil || !notify.IsPermanent(err) || !strings.Contains(err.Error(), "310000")) {
			t.Errorf("clock off by %v: %v, want a permanent 310000", c.skew, err)
		}
	}
	// A request without the signature is refused too.
	u := s.URL + "?access_token=" + s.Token + "&timestamp=" + strconv.FormatInt(time.Now().UnixMilli(), 10)
	if got := postJSON(t, u, `{"msgtype":"text","text":{"content":"hi"}}`)["errcode"]; got != 310000.0 {
		t.Errorf("unsigned: errcode %v, want 310000", got)
	}
}
