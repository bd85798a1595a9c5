package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// client is a keep-alive pool to one server, sized like the real clients it
// stands for: one connection per request in flight, up to Conns.
type client struct {
	hc     *http.Client
	scheme string
	host   string
	prefix string // path before /api/v1, usually empty
}

func newClient(u *url.URL, conns int, timeout time.Duration) *client {
	tr := &http.Transport{
		// Never a proxy, whatever the environment says: the load must stay
		// on the loopback address that CheckTarget approved.
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          conns,
		MaxIdleConnsPerHost:   conns,
		MaxConnsPerHost:       conns,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: timeout,
		DisableCompression:    true,
		ForceAttemptHTTP2:     false,
		WriteBufferSize:       4 << 10,
		ReadBufferSize:        8 << 10,
	}
	prefix := strings.TrimSuffix(strings.TrimRight(u.Path, "/"), "/api/v1")
	return &client{hc: &http.Client{Transport: tr, Timeout: timeout}, scheme: u.Scheme, host: u.Host, prefix: prefix}
}

func (c *client) close() { c.hc.CloseIdleConnections() }

// call is one request's outcome. body is the worker's buffer, valid until
// its next request.
type call struct {
	status  int
	body    []byte
	latency time.Duration
	code    string // error class when the call failed: the API's code, http_<status> or transport
}

func (c *call) ok() bool { return c.code == "" }

// conn is a worker's reusable request state, so that a request costs the
// client few allocations.
type conn struct {
	c      *client
	buf    bytes.Buffer
	header http.Header
}

func (c *client) conn() *conn {
	return &conn{c: c, header: http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}}}
}

// do sends one request. want is the expected success status.
func (w *conn) do(ctx context.Context, method, path, bearer string, body []byte, want int) call {
	h := w.header
	if bearer != "" {
		h = w.header.Clone()
		h.Set("Authorization", "Bearer "+bearer)
	}
	req := (&http.Request{
		Method: method,
		URL:    &url.URL{Scheme: w.c.scheme, Host: w.c.host, Path: w.c.prefix + path},
		Proto:  "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h,
		Host:   w.c.host,
	}).WithContext(ctx)
	if body != nil {
		req.Body = readCloser{bytes.NewReader(body)}
		req.ContentLength = int64(len(body))
		req.GetBody = nil
	}
	start := time.Now()
	resp, err := w.c.hc.Do(req)
	if err != nil {
		return call{latency: time.Since(start), code: "transport"}
	}
	w.buf.Reset()
	_, err = w.buf.ReadFrom(resp.Body)
	resp.Body.Close()
	cl := call{status: resp.StatusCode, body: w.buf.Bytes(), latency: time.Since(start)}
	switch {
	case err != nil:
		cl.code = "transport"
	case resp.StatusCode != want:
		cl.code = errorCode(resp.StatusCode, cl.body)
	}
	return cl
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

// errorCode is the API's error code from an error body, or http_<status>
// when the body is not the documented error shape.
func errorCode(status int, body []byte) string {
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error.Code != "" && len(e.Error.Code) <= 64 {
		return e.Error.Code
	}
	return "http_" + strconv.Itoa(status)
}

// Shapes of the responses the generator reads (docs/api.md). Texts and
// labels are skipped: the generator only needs ids and option values.
type apiItem struct {
	ID         string `json:"id"`
	Instrument string `json:"instrument"`
	Options    []struct {
		Value float64 `json:"value"`
	} `json:"options"`
}

type apiSession struct {
	ID    string    `json:"id"`
	Token string    `json:"token"`
	Items []apiItem `json:"items"`
	Next  *string   `json:"next"`
}

type apiAnswer struct {
	Item   string  `json:"item"`
	Value  float64 `json:"value"`
	Seq    int64   `json:"seq"`
	Status string  `json:"status"`
}

type apiSubmit struct {
	State  string          `json:"state"`
	Crisis json.RawMessage `json:"crisis"`
}

var errBadResponse = errors.New("bad_response")

// decode reads a success body; a body that does not parse is an error
// class of its own, since it means the server broke the contract.
func decode(cl *call, v any) bool {
	if err := json.Unmarshal(cl.body, v); err != nil {
		cl.code = errBadResponse.Error()
		return false
	}
	return true
}
