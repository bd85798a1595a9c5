package assess

import (
	"context"
	"time"

	"xinling/store"
)

// RunFinisher completes the multi-document writes that a crash interrupted
// (a submit whose queue entry was not yet written, a referral whose record
// was not), for backends that write them as steps (store.Finisher). It
// runs once at once, finishing whatever a crashed server left, then every
// interval for intents older than grace, which in-flight writes never are.
// Every server of a shared store runs it; the steps are idempotent.
func RunFinisher(ctx context.Context, st store.Store, now func() time.Time, every, grace time.Duration, log func(msg string, args ...any)) {
	f, ok := st.(store.Finisher)
	if !ok {
		return
	}
	if now == nil {
		now = time.Now
	}
	job := func(ctx context.Context) (int, error) { return f.FinishInterrupted(ctx, now(), grace) }
	report := func(n int, err error) {
		if err != nil {
			log("finishing interrupted writes", "err", err)
		} else if n > 0 {
			log("finished writes a crash had interrupted", "count", n)
		}
	}
	report(job(ctx))
	runEvery(ctx, every, job, report)
}
