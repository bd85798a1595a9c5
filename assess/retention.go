package assess

import (
	"context"
	"time"
)

// DefaultAnonymousRetention keeps an anonymous self-test for about half a
// year: long enough for a resident to come back to it, or for a counsellor
// to look at an entry weeks later, short enough that answers nobody can be
// asked about do not pile up.
const DefaultAnonymousRetention = 180 * 24 * time.Hour

// PurgeExpired applies the retention period to anonymous self-tests: their
// answers and tokens go, and the session is marked purged. Their scored
// results stay, since they identify no one and the monthly figures count
// them; a session whose queue entry is still being worked stays until the
// entry is closed. A zero retention keeps everything.
func (s *Sessions) PurgeExpired(ctx context.Context) (int, error) {
	if s.cfg.AnonymousRetention <= 0 {
		return 0, nil
	}
	return s.store.PurgeAnonymousSessions(ctx, s.now().Add(-s.cfg.AnonymousRetention))
}

// RunRetention calls PurgeExpired every interval until ctx ends.
func (s *Sessions) RunRetention(ctx context.Context, every time.Duration, log func(msg string, args ...any)) {
	runEvery(ctx, every, s.PurgeExpired, func(n int, err error) {
		if err != nil {
			log("purging expired anonymous sessions", "err", err)
		} else if n > 0 {
			log("purged expired anonymous sessions", "count", n)
		}
	})
}
