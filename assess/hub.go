package assess

import (
	"strings"
	"sync"

	"xinling/store"
)

// Hub fans queue changes out to connected consoles, each filtered by the
// subscriber's subtree. It is in-process: with several instances, each one
// only tells its own consoles, unless it also follows the store's change
// feed (Services.FollowFeed; docs/SCALING.md).
type Hub struct {
	mu     sync.Mutex
	subs   map[*Subscription]struct{}
	closed bool
	// sent is the latest version published per entry, so that a change
	// seen both locally and through the store's feed (FollowFeed) goes out
	// once, and an older version arriving late not at all.
	sent map[string]int64
}

// maxSent bounds the memory of sent versions; forgetting them all at
// worst sends a console an entry it already has, which it overwrites.
const maxSent = 100_000

// Subscription is one console's stream.
type Subscription struct {
	// C carries changed entries; it is closed when the hub closes.
	C    chan store.Warning
	path string
	// Lost is set when an event was dropped because the console was too
	// slow; the console should reload its list.
	lost bool
	hub  *Hub
}

// newHub returns an empty hub; New gives every service the same one.
func newHub() *Hub { return &Hub{subs: map[*Subscription]struct{}{}, sent: map[string]int64{}} }

// Subscribe starts a stream of changes under unitPath.
func (h *Hub) Subscribe(unitPath string) *Subscription {
	s := &Subscription{C: make(chan store.Warning, 64), path: unitPath, hub: h}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		close(s.C)
		return s
	}
	h.subs[s] = struct{}{}
	return s
}

// Cancel ends a subscription.
func (s *Subscription) Cancel() {
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[s]; ok {
		delete(h.subs, s)
		close(s.C)
	}
}

// TakeLost reports, once, whether events were dropped.
func (s *Subscription) TakeLost() bool {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	lost := s.lost
	s.lost = false
	return lost
}

// Publish sends w to every subscriber whose subtree holds it. It never
// blocks: a full stream loses the event and is told so.
func (h *Hub) Publish(w store.Warning) {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if w.Version > 0 {
		if h.sent[w.ID] >= w.Version {
			return
		}
		if len(h.sent) >= maxSent {
			clear(h.sent)
		}
		h.sent[w.ID] = w.Version
	}
	for s := range h.subs {
		if w.UnitPath == "" || !strings.HasPrefix(w.UnitPath, s.path) {
			continue
		}
		select {
		case s.C <- w:
		default:
			s.lost = true
		}
	}
}

// Subscribers counts the connected streams (metrics).
func (h *Hub) Subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// Close ends every stream, so that a shutting-down server is not held open
// by consoles.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for s := range h.subs {
		delete(h.subs, s)
		close(s.C)
	}
}
