package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
)

// client is a keep-alive pool to one server, sized like the real clients it
// stands for: one connection per request in flight, up to Conns. It is
// fasthttp's rather than net/http's because the generator shares the
// machine with the server: net/http costs a goroutine hand-off per request
// (its read and write loops), and measured about 1.5 times the CPU per request
// here (see the overhead figures in the package's tests).
type client struct {
	hc     *fasthttp.HostClient
	scheme string
	host   string
	prefix string // path before /api/v1, usually empty
}

func newClient(u *url.URL, conns int, timeout time.Duration) *client {
	tls := u.Scheme == "https"
	hc := &fasthttp.HostClient{
		Addr:                          fasthttp.AddMissingPort(u.Host, tls),
		IsTLS:                         tls,
		MaxConns:                      conns,
		MaxConnWaitTimeout:            timeout,
		MaxIdleConnDuration:           90 * time.Second,
		ReadTimeout:                   timeout,
		WriteTimeout:                  timeout,
		ReadBufferSize:                16 << 10,
		WriteBufferSize:               4 << 10,
		NoDefaultUserAgentHeader:      true,
		DisableHeaderNamesNormalizing: true,
		// fasthttp would retry idempotent requests (GET, PUT) on a broken
		// connection, and any request whose connection closed before the
		// response (io.EOF), whatever RetryIf says, up to
		// MaxIdemponentCallAttempts times on the same server. Every attempt
		// must be counted and timed on its own, and a crash must show as
		// errors, so nothing is retried here: with several servers the
		// generator itself sends the request again to another (sender.do).
		RetryIf:                   func(*fasthttp.Request) bool { return false },
		MaxIdemponentCallAttempts: 1,
		Dial:                      (&fasthttp.TCPDialer{Concurrency: 0}).Dial,
	}
	prefix := strings.TrimSuffix(strings.TrimRight(u.Path, "/"), "/api/v1")
	return &client{hc: hc, scheme: u.Scheme, host: u.Host, prefix: prefix}
}

func (c *client) close() { c.hc.CloseIdleConnections() }

// call is one request's outcome. body is the worker's buffer, valid until
// its next request.
type call struct {
	status  int
	body    []byte
	latency time.Duration
	code    string // error class when the call failed: the API's code, http_<status> or transport
	down    bool   // a transport failure that says the server is not there (targetDown)
}

func (c *call) ok() bool { return c.code == "" }

// conn is a worker's reusable request state, so that a request costs the
// client almost no allocation.
type conn struct {
	c    *client
	req  fasthttp.Request
	resp fasthttp.Response
	uri  []byte
}

func (c *client) conn() *conn { return &conn{c: c} }

// do sends one request. want is the expected success status. The context
// is not used to cancel: a request that was sent is waited for (up to the
// timeout), so that counts agree with what the server did.
func (w *conn) do(_ context.Context, method, path, bearer string, body []byte, want int) call {
	req, resp := &w.req, &w.resp
	req.Reset()
	resp.Reset()
	w.uri = append(append(append(append(w.uri[:0], w.c.scheme...), "://"...), w.c.host...), w.c.prefix...)
	w.uri = append(w.uri, path...)
	req.SetRequestURIBytes(w.uri)
	req.Header.SetMethod(method)
	req.Header.Set("Accept", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if body != nil {
		req.Header.SetContentType("application/json")
		req.SetBodyRaw(body)
	}
	start := time.Now()
	err := w.c.hc.Do(req, resp)
	cl := call{latency: time.Since(start)}
	if err != nil {
		cl.code = "transport"
		cl.down = targetDown(err)
		return cl
	}
	cl.status = resp.StatusCode()
	cl.body = resp.Body()
	if cl.status != want {
		cl.code = errorCode(cl.status, cl.body)
	}
	return cl
}

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
	ID      string             `json:"id"`
	Token   string             `json:"token"`
	Items   []apiItem          `json:"items"`
	Answers map[string]float64 `json:"answers"`
	Next    *string            `json:"next"`
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

// savedAnswer recognises the usual answer acknowledgement without decoding
// it: a JSON object that ends with the status saved or replay, as the
// server writes it. Anything else is decoded and checked in full.
func savedAnswer(body []byte) bool {
	return len(body) > 0 && body[0] == '{' &&
		(bytes.HasSuffix(body, []byte(`,"status":"saved"}`)) || bytes.HasSuffix(body, []byte(`,"status":"replay"}`)))
}

// decode reads a success body; a body that does not parse is an error
// class of its own, since it means the server broke the contract.
func decode(cl *call, v any) bool {
	if err := json.Unmarshal(cl.body, v); err != nil {
		cl.code = errBadResponse.Error()
		return false
	}
	return true
}
