// Package testkit holds what several packages' tests need alike: the
// built-in library, loaded once per test binary, and a settable clock.
package testkit

import (
	"sync"
	"time"

	"xinling/engine"
	"xinling/scales"
)

// Library loads the built-in instruments once; loading checks thousands of
// answer patterns per document, so tests share it.
var Library = sync.OnceValues(func() (*engine.Library, error) { return engine.LoadFS(scales.FS, ".") })

// Clock is a time source that tests move by hand.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock starts a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// Add moves the clock forward.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}
