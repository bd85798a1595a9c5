package assess

import (
	"context"
	"log/slog"
	"time"

	"xinling/engine"
	"xinling/store"
)

// Options configure the services that New builds. A zero field takes its
// value from DefaultOptions.
type Options struct {
	// Now is the one clock of every service and background job; tests
	// replace it.
	Now func() time.Time
	// Log hears what the services report to the operator: audit writes
	// that failed (see AuditDisclosure), escalations, instruments
	// disabled. A line logged while serving a request carries its id
	// (logging.Handler). nil means slog.Default().
	Log *slog.Logger
	// Observer, if set, hears of events worth counting (metrics).
	Observer Observer
	// SLA is the follow-up deadline of a warning, by level (index 1..3):
	// of the entries that submissions file, of an escalated entry at its
	// new unit, and of those that rescoring raises.
	SLA [4]time.Duration
	// ClaimLease is how long a claim holds a queue entry without renewal.
	ClaimLease time.Duration
	// Sessions are the respondents' side's settings.
	Sessions SessionConfig
	// Auth are the staff side's settings.
	Auth AuthConfig
	// Notify configures the notification dispatcher (issue 16).
	Notify NotifyOptions
	// RetakeCoolingOff is how long after an invalid sitting a retake may
	// be issued; zero means DefaultRetakeCoolingOff.
	RetakeCoolingOff time.Duration
}

// DefaultOptions returns the settings used when none are given.
func DefaultOptions() Options {
	return Options{
		Now:        time.Now,
		SLA:        [4]time.Duration{0, time.Hour, 24 * time.Hour, 72 * time.Hour},
		ClaimLease: 30 * time.Minute,
		Sessions: SessionConfig{
			IdleTimeout:   72 * time.Hour,
			Hotline:       DefaultHotline,
			CacheSize:     200_000,
			MaxBattery:    8,
			RespondentTTL: DefaultRespondentTTL,
		},
		Auth: AuthConfig{SessionTTL: 12 * time.Hour, MaxFailures: 5, LockFor: 15 * time.Minute, Hashing: DefaultPasswordHashing},
	}
}

// withDefaults fills every zero field from DefaultOptions.
func (o Options) withDefaults() Options {
	def := DefaultOptions()
	if o.Now == nil {
		o.Now = def.Now
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Observer == nil {
		o.Observer = noObserver{}
	}
	for lvl := 1; lvl <= 3; lvl++ {
		if o.SLA[lvl] <= 0 {
			o.SLA[lvl] = def.SLA[lvl]
		}
	}
	if o.ClaimLease <= 0 {
		o.ClaimLease = def.ClaimLease
	}
	s, ds := &o.Sessions, def.Sessions
	if s.IdleTimeout <= 0 {
		s.IdleTimeout = ds.IdleTimeout
	}
	if s.Hotline == "" {
		s.Hotline = ds.Hotline
	}
	if s.CacheSize <= 0 {
		s.CacheSize = ds.CacheSize
	}
	if s.MaxBattery <= 0 {
		s.MaxBattery = ds.MaxBattery
	}
	if s.RespondentTTL <= 0 {
		s.RespondentTTL = ds.RespondentTTL
	}
	a, da := &o.Auth, def.Auth
	if a.SessionTTL <= 0 {
		a.SessionTTL = da.SessionTTL
	}
	if a.MaxFailures <= 0 {
		a.MaxFailures = da.MaxFailures
	}
	if a.LockFor <= 0 {
		a.LockFor = da.LockFor
	}
	a.Hashing = a.Hashing.orDefault()
	return o
}

// Services are one server's workflows, wired to each other: a session's
// warning reaches the consoles through Hub, a campaign's battery and a
// session's instruments come from Catalog, a referral moves its entry on
// the consoles. The API serves them; cmd runs their background jobs.
type Services struct {
	Hub       *Hub
	Catalog   *Catalog
	Campaigns *Campaigns
	Sessions  *Sessions
	Queue     *Queue
	Records   *Records
	Staff     *Staff
	Stats     *Stats
	Handoff   *Handoff
	// Dispatcher sends the notification outbox; Notifications are its
	// settings, dead letters and test sends for admins.
	Dispatcher    *Dispatcher
	Notifications *Notifications

	shared *shared
}

// shared is what every service holds in common. Each one embeds the same
// *shared, so they cannot disagree about the time, the deadlines, the live
// feed or what a failed audit write means.
type shared struct {
	store store.Store
	lib   *engine.Library
	now   func() time.Time
	log   *slog.Logger
	obs   Observer
	hub   *Hub
	sla   [4]time.Duration
	// kick wakes the notification dispatcher: a warning was just filed.
	kick func()
}

// New builds every service over one store and one instrument library. lib
// may be nil for a command that uses no instrument (creating an account);
// the library is then empty.
func New(st store.Store, lib *engine.Library, opts Options) *Services {
	opts = opts.withDefaults()
	if lib == nil {
		lib = engine.NewLibrary()
	}
	sh := &shared{store: st, lib: lib, now: opts.Now, log: opts.Log, obs: opts.Observer, hub: newHub(), sla: opts.SLA}
	catalog := newCatalog(sh)
	campaigns := &Campaigns{shared: sh, catalog: catalog, maxBattery: opts.Sessions.MaxBattery}
	sessions := newSessions(sh, catalog, campaigns, opts.Sessions)
	records := &Records{shared: sh, coolingOff: opts.RetakeCoolingOff}
	dispatcher := newDispatcher(sh, opts.Notify)
	sh.kick = dispatcher.Kick
	return &Services{
		Hub:           sh.hub,
		Catalog:       catalog,
		Campaigns:     campaigns,
		Sessions:      sessions,
		Queue:         &Queue{shared: sh, lease: opts.ClaimLease},
		Records:       records,
		Staff:         newStaff(sh, opts.Auth),
		Stats:         &Stats{shared: sh},
		Handoff:       &Handoff{shared: sh, sessions: sessions, records: records},
		Dispatcher:    dispatcher,
		Notifications: &Notifications{shared: sh, dispatcher: dispatcher},
		shared:        sh,
	}
}

// FollowFeed returns a feed that publishes into Hub the queue changes
// other servers of a shared store make, from now on: changes made before
// it started are what a console loads with its list.
func (s *Services) FollowFeed(feed store.ChangeFeed) *HubFeed {
	return &HubFeed{hub: s.Hub, feed: feed, log: s.shared.log, since: s.shared.now()}
}

// RunFinisher completes the multi-document writes that a crash interrupted
// (a submit whose queue entry was not yet written, a referral whose record
// was not), for backends that write them as steps (store.Finisher). It
// runs once at once, finishing whatever a crashed server left, then every
// interval for intents older than grace, which in-flight writes never are.
// Every server of a shared store runs it; the steps are idempotent.
func (s *Services) RunFinisher(ctx context.Context, every, grace time.Duration) {
	f, ok := s.shared.store.(store.Finisher)
	if !ok {
		return
	}
	log := s.shared.log
	job := func(ctx context.Context) (int, error) { return f.FinishInterrupted(ctx, s.shared.now(), grace) }
	report := func(n int, err error) {
		if err != nil {
			log.Warn("finishing interrupted writes", "err", err)
		} else if n > 0 {
			log.Warn("finished writes a crash had interrupted", "count", n)
		}
	}
	report(job(ctx))
	runEvery(ctx, every, job, report)
}

// noObserver counts nothing.
type noObserver struct{}

func (noObserver) AnswerSaved(string)                     {}
func (noObserver) WarningRaised(int)                      {}
func (noObserver) AuditWriteFailed(string)                {}
func (noObserver) NotificationSent(string, time.Duration) {}
func (noObserver) NotificationFailed(string, bool)        {}
