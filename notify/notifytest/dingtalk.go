package notifytest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"xinling/notify"
)

// DingTalkFreshness is how far a signed request's timestamp may lie from
// DingTalk's clock.
const DingTalkFreshness = time.Hour

// DingTalk is a stand-in for a DingTalk custom robot that uses 加签
// (/robot/send?access_token=T&timestamp=MS&sign=S). It recomputes the
// signature from Secret and refuses a wrong one, or a timestamp more
// than an hour away, with errcode 310000; an unknown token gets 300001,
// a malformed message 40035.
type DingTalk struct {
	*Recorder
	Token  string
	Secret string
	// URL is the endpoint, without parameters.
	URL string

	t   testing.TB
	srv *httptest.Server

	clockMu sync.Mutex
	now     func() time.Time
}

// NewDingTalk starts a stand-in robot with a random token and secret.
func NewDingTalk(t testing.TB) *DingTalk {
	s := &DingTalk{
		Recorder: newRecorder(notify.ChannelDingTalk),
		Token:    randomHex(32),
		Secret:   "SEC" + randomHex(32),
		t:        t,
		now:      time.Now,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/robot/send", s.handle)
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL + "/robot/send"
	t.Cleanup(s.Close)
	return s
}

// SetNow sets the stand-in's clock.
func (s *DingTalk) SetNow(now func() time.Time) {
	s.clockMu.Lock()
	defer s.clockMu.Unlock()
	s.now = now
}

// Config is a channel configuration that sends here.
func (s *DingTalk) Config() notify.DingTalkConfig { return notify.DingTalkConfig{URL: s.URL} }

// Channel is a channel that sends here.
func (s *DingTalk) Channel() *notify.DingTalk {
	c, err := notify.NewDingTalk(s.Config())
	if err != nil {
		s.t.Fatal(err)
	}
	return c
}

// Target is this robot as a contact.
func (s *DingTalk) Target() notify.Target {
	return notify.Target{Address: s.Token, Secret: s.Secret}
}

// Close stops the stand-in, releasing any held request.
func (s *DingTalk) Close() {
	s.close()
	s.srv.Close()
}

func (s *DingTalk) handle(w http.ResponseWriter, r *http.Request) {
	c := s.startRobot(w, r)
	if c == nil {
		return
	}
	q := r.URL.Query()
	if q.Get("access_token") != s.Token {
		c.refuse(300001, "token is not exist")
		return
	}
	ts, err := strconv.ParseInt(q.Get("timestamp"), 10, 64)
	if err != nil {
		c.refuse(310000, "sign not match, more: timestamp is missing or malformed")
		return
	}
	s.clockMu.Lock()
	now := s.now()
	s.clockMu.Unlock()
	if d := now.Sub(time.UnixMilli(ts)); d > DingTalkFreshness || d < -DingTalkFreshness {
		c.refuse(310000, "sign not match, more: timestamp is more than an hour away")
		return
	}
	// Query() has undone the URL encoding of sign.
	got, err := base64.StdEncoding.DecodeString(q.Get("sign"))
	mac := hmac.New(sha256.New, []byte(s.Secret))
	mac.Write([]byte(q.Get("timestamp") + "\n" + s.Secret))
	if err != nil || !hmac.Equal(got, mac.Sum(nil)) {
		c.refuse(310000, "sign not match")
		return
	}
	c.accept(r, 40035)
}
