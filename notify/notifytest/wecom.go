package notifytest

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"xinling/notify"
)

// WeCom is a stand-in for WeCom's group robot endpoint
// (/cgi-bin/webhook/send?key=KEY). It accepts a text message for the
// robot Key and answers {"errcode":0,"errmsg":"ok"}; an unknown key gets
// errcode 93000, a malformed message 40058.
type WeCom struct {
	*Recorder
	// Key is the robot's key.
	Key string
	// URL is the endpoint, without the key.
	URL string

	t   testing.TB
	srv *httptest.Server
}

// NewWeCom starts a stand-in robot with a random key.
func NewWeCom(t testing.TB) *WeCom {
	s := &WeCom{Recorder: newRecorder(notify.ChannelWeCom), Key: randomHex(16), t: t}
	mux := http.NewServeMux()
	mux.HandleFunc("/cgi-bin/webhook/send", s.handle)
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL + "/cgi-bin/webhook/send"
	t.Cleanup(s.Close)
	return s
}

// Config is a channel configuration that sends here.
func (s *WeCom) Config() notify.WeComConfig { return notify.WeComConfig{URL: s.URL} }

// Channel is a channel that sends here.
func (s *WeCom) Channel() *notify.WeCom {
	c, err := notify.NewWeCom(s.Config())
	if err != nil {
		s.t.Fatal(err)
	}
	return c
}

// Target is this robot as a contact.
func (s *WeCom) Target() notify.Target { return notify.Target{Address: s.Key} }

// Close stops the stand-in, releasing any held request.
func (s *WeCom) Close() {
	s.close()
	s.srv.Close()
}

func (s *WeCom) handle(w http.ResponseWriter, r *http.Request) {
	c := s.startRobot(w, r)
	if c == nil {
		return
	}
	if r.URL.Query().Get("key") != s.Key {
		c.refuse(93000, "invalid webhook url")
		return
	}
	c.accept(r, 40058)
}
