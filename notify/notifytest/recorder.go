// Package notifytest has local stand-ins for every notification
// provider: a WeCom group robot, a DingTalk custom robot, a webhook
// receiver, Alibaba Cloud's SMS API and an SMTP server. Each answers as
// the real service documents, checks the payload's shape and the
// signature the way the service would (stricter where a looser payload
// could leak personal data), records what it received, and can be told
// to fail: an HTTP or SMTP error status, a provider error code, or a
// request held until the client gives up.
//
// Typical use, in any package's tests:
//
//	wc := notifytest.NewWeCom(t)
//	err := wc.Channel().Send(ctx, wc.Target(), msg)
//	wc.FailNext(1, notifytest.Fault{Code: "45009"}) // throttled next time
//	wc.AssertNoPersonalData(t, "张三", "13800138000")
//
// Every stand-in closes itself when the test ends.
package notifytest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Received is one request (or one mail) as a stand-in saw it.
type Received struct {
	Channel string // notify.ChannelWeCom, …
	At      time.Time
	Method  string     // HTTP method, or "SMTP"
	Path    string     // HTTP path, or the envelope recipients
	Query   url.Values // HTTP query (SMS: the form parameters)
	Header  http.Header
	Body    []byte // raw body, or the raw message as sent over DATA
	// Strings holds every string the payload carries, decoded: JSON
	// string values, form values, a mail's decoded subject and body. A
	// personal-data scan looks here as well as in Body, so an escape or
	// a transfer encoding cannot hide anything from it.
	Strings []string
	// Text is what a person would read: the robot message, the SMS as
	// the phone shows it, the mail body. Empty for the webhook.
	Text string
	// IdempotencyKey is the key as found on the wire (Idempotency-Key
	// header, OutId, or the local part of the Message-ID); empty where
	// the protocol has no place for it.
	IdempotencyKey string
	// Accepted is true when the stand-in accepted the message; otherwise
	// Refusal says why (the provider's error code and message).
	Accepted bool
	Refusal  string
	// Duplicate is true when an accepted webhook repeated an
	// idempotency key that was accepted before.
	Duplicate bool
}

// Fault is a failure to inject into the next requests.
type Fault struct {
	// Status is the HTTP status to answer with (the SMTP stand-in: the
	// reply code to the message's DATA, such as 451 or 550).
	Status int
	// Code is a provider error code to answer with: the errcode of
	// WeCom or DingTalk (for example "45009"), the Code of Alibaba
	// Cloud (for example "isv.BUSINESS_LIMIT_CONTROL").
	Code string
	// Hang holds the request, without an answer, until the client gives
	// up or the stand-in closes.
	Hang bool
}

// Recorder is what every stand-in has in common: the requests it has
// received and the faults it is to inject.
type Recorder struct {
	channel string

	mu      sync.Mutex
	recs    []Received
	faults  []Fault
	closing chan struct{}
	once    sync.Once
}

func newRecorder(channel string) *Recorder {
	return &Recorder{channel: channel, closing: make(chan struct{})}
}

// FailNext makes the next n requests fail with f, after the requests
// already queued to fail.
func (r *Recorder) FailNext(n int, f Fault) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for range n {
		r.faults = append(r.faults, f)
	}
}

// ClearFaults drops the faults not yet injected.
func (r *Recorder) ClearFaults() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.faults = nil
}

// Received returns every request received so far, refused ones
// included, in order.
func (r *Recorder) Received() []Received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.recs)
}

// Delivered returns the requests that were accepted.
func (r *Recorder) Delivered() []Received {
	var out []Received
	for _, rec := range r.Received() {
		if rec.Accepted {
			out = append(out, rec)
		}
	}
	return out
}

// AssertNoPersonalData fails t if any marker (a name, a phone number, an
// answer used in the test) appears in anything this stand-in received.
func (r *Recorder) AssertNoPersonalData(t testing.TB, markers ...string) {
	t.Helper()
	AssertNoPersonalData(t, r.Received(), markers...)
}

func (r *Recorder) nextFault() (Fault, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.faults) == 0 {
		return Fault{}, false
	}
	f := r.faults[0]
	r.faults = r.faults[1:]
	return f, true
}

func (r *Recorder) add(rec Received) {
	rec.Channel = r.channel
	if rec.At.IsZero() {
		rec.At = time.Now()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = append(r.recs, rec)
}

// addAccepted records an accepted request, marking it Duplicate when an
// accepted request already carried its idempotency key.
func (r *Recorder) addAccepted(rec Received) {
	rec.Channel = r.channel
	rec.At = time.Now()
	rec.Accepted = true
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, old := range r.recs {
		if old.Accepted && rec.IdempotencyKey != "" && old.IdempotencyKey == rec.IdempotencyKey {
			rec.Duplicate = true
			break
		}
	}
	r.recs = append(r.recs, rec)
}

// hang waits until ctx ends or the stand-in closes.
func (r *Recorder) hang(ctx context.Context) {
	select {
	case <-ctx.Done():
	case <-r.closing:
	}
}

func (r *Recorder) close() { r.once.Do(func() { close(r.closing) }) }

// AssertNoPersonalData fails t for every marker found in recs.
func AssertNoPersonalData(t testing.TB, recs []Received, markers ...string) {
	t.Helper()
	for _, f := range FindPersonalData(recs, markers...) {
		t.Error(f)
	}
}

// FindPersonalData describes every place in recs where a marker occurs,
// ignoring case; it returns nothing when none does.
func FindPersonalData(recs []Received, markers ...string) []string {
	var found []string
	for i, rec := range recs {
		places := map[string][]string{
			"body":   {string(rec.Body)},
			"path":   {rec.Path},
			"text":   {rec.Text},
			"string": rec.Strings,
		}
		for k, vs := range rec.Query {
			places["query "+k] = vs
		}
		for k, vs := range rec.Header {
			places["header "+k] = vs
		}
		for _, m := range markers {
			if m == "" {
				continue
			}
			lm := strings.ToLower(m)
			for where, vs := range places {
				for _, v := range vs {
					if strings.Contains(strings.ToLower(v), lm) {
						found = append(found, fmt.Sprintf("%s request %d: personal data %q in the %s", rec.Channel, i, m, where))
					}
				}
			}
		}
	}
	slices.Sort(found)
	return slices.Compact(found)
}

// jsonStrings collects every string in a JSON document: values and keys.
func jsonStrings(b []byte) []string {
	var v any
	if json.Unmarshal(b, &v) != nil {
		return nil
	}
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			out = append(out, v)
		case []any:
			for _, e := range v {
				walk(e)
			}
		case map[string]any:
			for k, e := range v {
				out = append(out, k)
				walk(e)
			}
		}
	}
	walk(v)
	return out
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
