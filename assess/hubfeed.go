package assess

import (
	"context"
	"log/slog"
	"time"

	"xinling/store"
)

// FeedOverlap is how far back each poll of the change feed reaches before
// the newest change already seen. Entries carry the changing server's
// clock, and a change can commit a moment after a later-stamped one; the
// hub's version check drops what the overlap sends twice.
const FeedOverlap = 5 * time.Second

// HubFeed publishes into a hub the queue changes that other servers
// sharing the store made, by polling the store's change feed.
type HubFeed struct {
	hub   *Hub
	feed  store.ChangeFeed
	log   *slog.Logger
	since time.Time // newest UpdatedAt seen
}

// Poll publishes every change since the last poll (less the overlap) and
// returns how many entries it read.
func (f *HubFeed) Poll(ctx context.Context) (int, error) {
	const page = 500
	read := 0
	from := f.since.Add(-FeedOverlap)
	for {
		ws, err := f.feed.WarningsChangedSince(ctx, from, page)
		if err != nil {
			return read, err
		}
		read += len(ws)
		for _, w := range ws {
			f.hub.Publish(w)
			if w.UpdatedAt.After(f.since) {
				f.since = w.UpdatedAt
			}
		}
		if len(ws) < page {
			return read, nil
		}
		last := ws[len(ws)-1].UpdatedAt
		if !last.After(from) {
			// A whole page stamped with one millisecond: take the rest at
			// the next poll rather than loop on the same page.
			return read, nil
		}
		from = last
	}
}

// Run polls every interval until ctx ends. Errors are logged and the next
// poll tries again from the same point, so nothing is skipped.
func (f *HubFeed) Run(ctx context.Context, every time.Duration) {
	runEvery(ctx, every, f.Poll, func(_ int, err error) {
		if err != nil {
			f.log.Warn("queue change feed", "err", err)
		}
	})
}
