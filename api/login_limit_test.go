//go:build !fuzzdecode

package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"xinling/api"
	"xinling/assess"
)

// loginFrom signs in as if from addr; the test servers trust
// X-Forwarded-For, as one behind a proxy does.
func (c *console) loginFrom(addr, login, password string) response {
	c.s.t.Helper()
	req, _ := http.NewRequest("POST", c.s.base+"/api/v1/auth/login", strings.NewReader(fmt.Sprintf(`{"login":%q,"password":%q}`, login, password)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", addr)
	return c.send(req)
}

func behindProxy(limit int) func(*api.Config, *assess.Options) {
	return func(c *api.Config, _ *assess.Options) { c.RateLogin, c.ProxyHeader = limit, "X-Forwarded-For" }
}

func TestLoginRateLimitPerAddress(t *testing.T) {
	t.Parallel()
	s := newServer(t, behindProxy(3))
	s.org()
	c := s.console()
	// Different account names from one address share the address's budget.
	for _, login := range []string{"admin", "alice", "bob"} {
		c.loginFrom("203.0.113.7", login, "wrong-password").expectError(t, 401, "login_failed")
	}
	c.loginFrom("203.0.113.7", "carol", "wrong-password").expectError(t, 429, "rate_limited")
	// Another address, and the rest of the API, are not affected.
	c.loginFrom("203.0.113.8", "carol", "wrong-password").expectError(t, 401, "login_failed")
	if r := s.do("GET", "/api/v1/ping", "", nil); r.status != 200 {
		t.Fatalf("ping after the sign-in limit: %d", r.status)
	}
}

func TestLoginRateLimitPerAccount(t *testing.T) {
	t.Parallel()
	s := newServer(t, behindProxy(3))
	otp := s.org()
	c := s.console()
	// Guesses at one account from ever new addresses still meet a limit,
	// whatever case the name is written in.
	for i, login := range []string{"admin", "Admin", " admin"} {
		r := c.loginFrom(fmt.Sprintf("198.51.100.%d", i+1), login, "wrong-password")
		if r.status != 401 {
			t.Fatalf("guess %d: %d %s", i, r.status, r.raw)
		}
	}
	c.loginFrom("198.51.100.9", "admin", otp).expectError(t, 429, "rate_limited")
	// Other accounts still sign in.
	c.loginFrom("198.51.100.10", "someone-else", "wrong-password").expectError(t, 401, "login_failed")
}

// TestParallelGuessesLockTheAccount: a burst of wrong passwords sent at
// once must count every guess, so the account locks.
func TestParallelGuessesLockTheAccount(t *testing.T) {
	t.Parallel()
	s := newServer(t, behindProxy(0))
	otp := s.org()
	var wg sync.WaitGroup
	statuses := make([]int, 12)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = s.console().loginFrom(fmt.Sprintf("192.0.2.%d", i+1), "admin", "wrong-password").status
		}()
	}
	wg.Wait()
	for i, st := range statuses {
		if st != 401 && st != 423 {
			t.Errorf("guess %d: %d", i, st)
		}
	}
	s.console().loginFrom("192.0.2.200", "admin", otp).expectError(t, 423, "account_locked")
}
