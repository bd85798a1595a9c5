package assess

import (
	"time"

	"xinling/engine"
	"xinling/store"
)

// Records serves person records (心理档案), case records and referrals.
type Records struct {
	store store.Store
	lib   *engine.Library
	now   func() time.Time
}

// NewRecords returns the records service.
func NewRecords(st store.Store, lib *engine.Library, now func() time.Time) *Records {
	if now == nil {
		now = time.Now
	}
	return &Records{store: st, lib: lib, now: now}
}
