package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DefaultTimeout bounds one HTTP request of a channel (connection,
// request and reply) when the caller gives no client of its own.
const DefaultTimeout = 10 * time.Second

// maxReplyBytes is as much of a reply as a channel reads.
const maxReplyBytes = 64 << 10

const userAgent = "xinling-notify/1"

// httpClient returns a copy of c (or a new client) that times out
// (DefaultTimeout unless c sets a Timeout) and never follows a redirect:
// a signed request is not sent anywhere but where it was addressed, and
// a redirect is reported as an error.
func httpClient(c *http.Client) *http.Client {
	var out http.Client
	if c != nil {
		out = *c
	} else {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.TLSHandshakeTimeout = 5 * time.Second
		t.ResponseHeaderTimeout = DefaultTimeout
		out = http.Client{Transport: t, Timeout: DefaultTimeout}
	}
	if out.Timeout <= 0 {
		out.Timeout = DefaultTimeout
	}
	out.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &out
}

// checkSecureURL admits https URLs, and plain http only to a loopback
// host (a local relay, or a stand-in in tests).
func checkSecureURL(u *url.URL) error {
	if u.Host == "" || u.Hostname() == "" {
		return errors.New("no host")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
		return errors.New("plain http is allowed only to a loopback host")
	default:
		return fmt.Errorf("scheme %q is not https", u.Scheme)
	}
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// parseEndpoint checks a configured base URL.
func parseEndpoint(raw, def string) (*url.URL, error) {
	if raw == "" {
		raw = def
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("notify: endpoint is not a URL")
	}
	if err := checkSecureURL(u); err != nil {
		return nil, fmt.Errorf("notify: endpoint %s://%s: %v", u.Scheme, u.Host, err)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("notify: endpoint %s://%s has user information, a query or a fragment", u.Scheme, u.Host)
	}
	return u, nil
}

// shownURL is how a URL appears in an error: scheme, host and path,
// without the query (which holds keys and tokens) or user information.
func shownURL(u *url.URL) string {
	return u.Scheme + "://" + u.Host + u.EscapedPath()
}

// reply is what came back from an HTTP request.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// do sends req and reads the reply. A transport failure is returned as a
// retryable error that names the request by shown and holds none of
// secrets; certificate errors are permanent, since a retry meets the
// same certificate.
func do(ctx context.Context, c *http.Client, req *http.Request, channel, shown string, secrets ...string) (reply, error) {
	req = req.WithContext(ctx)
	req.Header.Set("User-Agent", userAgent)
	resp, err := c.Do(req)
	if err != nil {
		cause := err
		var ue *url.Error
		if errors.As(err, &ue) {
			cause = ue.Err // url.Error's own message repeats the whole URL
		}
		e := &sendError{
			msg:   scrub(fmt.Sprintf("notify: %s: %s %s: %v", channel, req.Method, shown, cause), secrets...),
			cause: cause,
		}
		if isCertificateError(cause) {
			return reply{}, Permanent(e)
		}
		return reply{}, e
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxReplyBytes))
	if err != nil {
		return reply{}, &sendError{
			msg:   scrub(fmt.Sprintf("notify: %s: %s %s: reading the reply: %v", channel, req.Method, shown, err), secrets...),
			cause: err,
		}
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: body}, nil
}

func isCertificateError(err error) bool {
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	return errors.As(err, &unknown) || errors.As(err, &host) || errors.As(err, &invalid) || errors.As(err, &verify)
}

// statusError classifies a reply by its HTTP status alone: nil for 2xx;
// retryable for 408, 425, 429 and 5xx (with the Retry-After delay when
// given); permanent for anything else, redirects included.
func statusError(r reply, channel, method, shown string, secrets ...string) error {
	if r.status >= 200 && r.status < 300 {
		return nil
	}
	e := &sendError{msg: scrub(fmt.Sprintf("notify: %s: %s %s: HTTP %d%s", channel, method, shown, r.status, replySnippet(r.body)), secrets...)}
	switch {
	case r.status == http.StatusRequestTimeout, r.status == http.StatusTooEarly,
		r.status == http.StatusTooManyRequests, r.status >= 500:
		if d, ok := parseRetryAfter(r.header.Get("Retry-After")); ok {
			return &retryAfterError{err: e, after: d}
		}
		return e
	default:
		return Permanent(e)
	}
}

// replySnippet quotes the start of a reply body for an error message.
func replySnippet(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return ""
	}
	const max = 200
	s := TruncateRunes(string(b), max)
	if len(s) < len(b) {
		s += "…"
	}
	return ": " + strconv.QuoteToGraphic(s)
}

func parseRetryAfter(v string) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := time.Until(t)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}

// secretForms lists the ways a secret can appear in a message: as is,
// query-escaped, path-escaped and percent-encoded the way Alibaba Cloud
// encodes it.
func secretForms(s string) []string {
	forms := []string{s, url.QueryEscape(s), url.PathEscape(s), percentEncode(s)}
	out := forms[:0]
	seen := map[string]bool{}
	for _, f := range forms {
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out
}

// percentEncode is RFC 3986 encoding of UTF-8 bytes: unreserved
// characters stay, everything else becomes %XY in upper case.
func percentEncode(s string) string {
	const hexdigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexdigits[c>>4])
		b.WriteByte(hexdigits[c&15])
	}
	return b.String()
}
