// Package loadgen drives virtual respondents against a xinling server over
// the public API (docs/api.md) and checks, afterwards, that every answer the
// server acknowledged is in its store (Verify).
//
// The generator has to stay cheap next to the server it measures: both share
// one 2-core machine in the targets of issue 5. So respondents are plain
// structs in a slice, not goroutines; one scheduler goroutine keeps them in a
// min-heap by the time of their next action and hands due ones to a bounded
// pool of workers, each of which owns one keep-alive connection's worth of
// concurrency.
package loadgen

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// Config is one load run. The zero value is not usable; see Defaults.
type Config struct {
	Target string // base URL, e.g. http://127.0.0.1:8080
	// Targets, when set, replaces Target: several servers of one store.
	// Each request goes to one of them, picked per request with no
	// stickiness (Pick), as a load balancer without sticky sessions would;
	// a request whose target refused or dropped the connection is sent
	// again to the next one.
	Targets     []string
	Pick        string        // PickRoundRobin (default) or PickRandom
	Respondents int           // virtual respondents
	Ramp        time.Duration // respondents start spread evenly over this
	Think       time.Duration // mean pause before each answer and submit (uniform ±50%)
	Duration    time.Duration // the run stops this long after its start
	Mix         []Battery     // sessions cycle through these
	AckLog      string        // append acknowledged answers here, if set
	SubmitLog   string        // append acknowledged submits here, if set (SubmitLine)
	Baseline    bool          // measure GET /api/v1/ping first, for the same duration
	// BaselineBurst first sends one GET /api/v1/ping per respondent, all at
	// once, each on a fresh connection: the bare cost of a burst.
	BaselineBurst bool
	Conns         int           // most connections (and requests in flight) at once
	Timeout       time.Duration // per request
	Seed          uint64        // for answer values, sex and age; 0 picks one

	// Codes switches to a school campaign: respondent i is a pupil who
	// enters with the personal access code Codes[i], takes the campaign's
	// battery once and is done. Respondents is then len(Codes).
	Codes []string
	// SubmitAt, when positive, holds every finished session's submit until
	// that long after the start, then spreads the submits evenly at random
	// over SubmitWindow: a class told to press submit together.
	SubmitAt     time.Duration
	SubmitWindow time.Duration
}

// Battery is the instruments of one session: one for a self-test, several
// for a battery ("phq9+gad7" in --mix).
type Battery []string

// Defaults returns a config with the defaults of `xinling loadtest`.
func Defaults() Config {
	return Config{
		Target:      "http://127.0.0.1:8080",
		Respondents: 100,
		Think:       3 * time.Second,
		Duration:    30 * time.Second,
		Mix:         []Battery{{"phq9"}, {"gad7"}},
		Conns:       4096,
		Timeout:     30 * time.Second,
	}
}

// ParseMix reads "phq9,gad7,phq9+gad7+asq": comma-separated sessions, each
// one instrument or a "+"-joined battery.
func ParseMix(s string) ([]Battery, error) {
	var mix []Battery
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		var b Battery
		for _, id := range strings.Split(part, "+") {
			if id = strings.TrimSpace(id); id == "" {
				return nil, fmt.Errorf("mix %q: empty instrument in %q", s, part)
			}
			b = append(b, id)
		}
		mix = append(mix, b)
	}
	if len(mix) == 0 {
		return nil, fmt.Errorf("mix %q names no instrument", s)
	}
	return mix, nil
}

// How a request's target is picked among several.
const (
	PickRoundRobin = "round-robin"
	PickRandom     = "random"
)

// ParseTargets reads --target values, each one URL or a comma-separated
// list of them, and returns the URLs in order. Every one must pass
// CheckTarget; the same URL twice is refused, since it would skew the
// per-target counts without adding a server.
func ParseTargets(values []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, v := range values {
		for _, t := range strings.Split(v, ",") {
			if t = strings.TrimSpace(t); t == "" {
				continue
			}
			if _, err := CheckTarget(t); err != nil {
				return nil, err
			}
			if seen[t] {
				return nil, fmt.Errorf("--target %q given twice", t)
			}
			seen[t] = true
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("--target names no server")
	}
	return out, nil
}

// targets returns the servers of the run: Targets, or Target alone.
func (c *Config) targets() []string {
	if len(c.Targets) > 0 {
		return c.Targets
	}
	return []string{c.Target}
}

// ErrNotLoopback refuses a target off this machine.
var ErrNotLoopback = errors.New("this workplace forbids load on other addresses: --target must be localhost, 127.0.0.0/8 or ::1")

// CheckTarget accepts only http(s) URLs whose host is a loopback address.
// A name other than "localhost" is refused without being resolved: a
// resolver could point it anywhere.
func CheckTarget(target string) (*url.URL, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("--target: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("--target %q: want an http:// or https:// URL", target)
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") {
		return u, nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return u, nil
	}
	return nil, fmt.Errorf("--target %q: %w", target, ErrNotLoopback)
}

func (c *Config) check() error {
	for _, t := range c.targets() {
		if _, err := CheckTarget(t); err != nil {
			return err
		}
	}
	switch {
	case c.Pick != "" && c.Pick != PickRoundRobin && c.Pick != PickRandom:
		return fmt.Errorf("--pick %q: want %s or %s", c.Pick, PickRoundRobin, PickRandom)
	case c.Respondents < 1:
		return errors.New("--respondents must be at least 1")
	case c.Duration <= 0:
		return errors.New("--duration must be positive")
	case c.Ramp < 0 || c.Think < 0:
		return errors.New("--ramp and --think must not be negative")
	case len(c.Mix) == 0:
		return errors.New("--mix names no instrument")
	case c.Conns < 1:
		return errors.New("--conns must be at least 1")
	case c.Timeout <= 0:
		return errors.New("--timeout must be positive")
	case c.SubmitAt < 0 || c.SubmitWindow < 0:
		return errors.New("--submit-at and --submit-window must not be negative")
	case len(c.Codes) > 0 && len(c.Codes) != c.Respondents:
		return fmt.Errorf("%d codes for %d respondents: a campaign run has one respondent per code", len(c.Codes), c.Respondents)
	}
	return nil
}
