package assess

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"xinling/notify"
	"xinling/store"
)

// The notification dispatcher (issue 16). The store writes what the
// on-duty staff are owed into the outbox in the same durable write as the
// queue change that owes it (store/outbox.go); every server runs a
// Dispatcher, which claims what is due under a lease, so that of several
// servers one works each notification per attempt.
//
// An event (a warning at a level, an unclaimed level-1 entry, a digest, a
// call-back request) is expanded into one delivery per on-duty contact of
// the unit, with the deterministic id "<event>:<contact>:<channel>", so
// that expanding it again (a crash before its outcome was written) adds
// nothing. A delivery is one message over one channel, sent with an
// idempotency key derived from its id: the receiver can drop a repeat,
// since delivery is at least once. A failure that a retry can cure is
// retried with exponential backoff and jitter, up to MaxAttempts; the
// others, and the exhausted ones, go to the dead-letter list, which admins
// see and can requeue. Every step is written to the entry's history.
//
// What is sent is a notify.Message: the level, the unit's display name,
// the times and a console link naming the entry by its opaque id. The
// dispatcher reads no person, answer or score, so it has none to leak.

// NotifyOptions configure the dispatcher. Zero fields take their defaults.
type NotifyOptions struct {
	// Channels send, by channel name (store.Channel*). A delivery on a
	// channel this server has not configured is a dead letter.
	Channels map[string]notify.Channel
	// PublicURL is where staff reach the console; links are built from it.
	PublicURL string
	// Owner names this process in the outbox's leases; it must differ
	// between servers. Empty: the host name and a random suffix.
	Owner string
	// Lease is how long a claim holds a notification; it must outlast a
	// round of sends (Concurrency sends of SendTimeout each, twice over).
	Lease time.Duration
	// Concurrency bounds the sends in flight.
	Concurrency int
	// SendTimeout bounds one send.
	SendTimeout time.Duration
	// MaxAttempts is how many times a delivery is tried before it is a
	// dead letter.
	MaxAttempts int
	// Backoff is the wait before the first retry; each retry waits twice
	// as long as the one before, up to MaxBackoff, less up to a half at
	// random (jitter), so that a recovering provider is not hit by every
	// retry at once.
	Backoff    time.Duration
	MaxBackoff time.Duration
	// Jitter returns a number in [0, 1); nil means math/rand.
	Jitter func() float64
}

// DefaultNotifyOptions are the dispatcher's defaults.
func DefaultNotifyOptions() NotifyOptions {
	return NotifyOptions{Lease: 2 * time.Minute, Concurrency: 16, SendTimeout: 15 * time.Second, MaxAttempts: 8,
		Backoff: 30 * time.Second, MaxBackoff: 30 * time.Minute}
}

func (o NotifyOptions) withDefaults() NotifyOptions {
	def := DefaultNotifyOptions()
	if o.Lease <= 0 {
		o.Lease = def.Lease
	}
	if o.Concurrency <= 0 {
		o.Concurrency = def.Concurrency
	}
	if o.SendTimeout <= 0 {
		o.SendTimeout = def.SendTimeout
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = def.MaxAttempts
	}
	if o.Backoff <= 0 {
		o.Backoff = def.Backoff
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = def.MaxBackoff
	}
	if o.Jitter == nil {
		o.Jitter = mrand.Float64
	}
	if o.Owner == "" {
		o.Owner = NewOwnerID()
	}
	o.PublicURL = strings.TrimRight(o.PublicURL, "/")
	return o
}

// NewOwnerID returns a lease owner unique to this process: the host name
// and random bytes.
func NewOwnerID() string {
	host, _ := os.Hostname()
	if host == "" {
		host = "xinling"
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	return host + "-" + hex.EncodeToString(b[:])
}

// Reasons a notification was not delivered, in history notes and dead
// letters' errors; the console words them.
const (
	ReasonNoSettings     = "no_settings"      // neither the unit nor an ancestor has notification settings
	ReasonNobodyOnDuty   = "nobody_on_duty"   // no contact was on duty
	ReasonClaimed        = "claimed"          // the entry was claimed before it was told (unclaimed notices)
	ReasonNothingWaiting = "nothing_waiting"  // a digest found no entry waiting
	ReasonDeferred       = "deferred"         // level 2/3 outside working hours or under a digest policy
	ReasonPermanent      = "permanent"        // the channel refused the message for good
	ReasonExhausted      = "exhausted"        // MaxAttempts failures
	ReasonNoChannel      = "channel_missing"  // this server has no such channel configured
	ReasonNoContact      = "contact_removed"  // the contact is no longer in the settings
	ReasonNoEndpoint     = "endpoint_missing" // the unit's endpoint of the channel is gone
	ReasonRetry          = "retry"            // a failure worth another attempt
)

// NotifyNote is the note of the dispatcher's history events (and so of no
// staff's writing): what was told to whom, over which channel, and how it
// went. The console words it in the reader's language.
type NotifyNote struct {
	// Notification is the kind of what was told (warning, unclaimed,
	// digest, callback); Level its level.
	Notification string `json:"notification,omitempty"`
	Level        int    `json:"level,omitempty"`
	// SettingsUnit is the unit whose contacts were told (the entry's unit,
	// its parent, or the ancestor whose settings the unit follows).
	SettingsUnit string `json:"settings_unit,omitempty"`
	Deliveries   int    `json:"deliveries,omitempty"`
	Channel      string `json:"channel,omitempty"`
	Contact      string `json:"contact,omitempty"`
	ContactName  string `json:"contact_name,omitempty"`
	Attempt      int    `json:"attempt,omitempty"`
	// DeferredUntil is the digest a level-2/3 entry was put off to.
	DeferredUntil time.Time `json:"deferred_until,omitzero"`
	// RetryAt is when a failed delivery is tried again.
	RetryAt time.Time `json:"retry_at,omitzero"`
	Reason  string    `json:"reason,omitempty"`
	Error   string    `json:"error,omitempty"`
}

// ParseNotifyNote reads the note of a dispatcher's event; ok is false for
// a note that is not one (blanked by an erasure, or another event's).
func ParseNotifyNote(note string) (NotifyNote, bool) {
	var n NotifyNote
	if note == "" || note[0] != '{' || json.Unmarshal([]byte(note), &n) != nil {
		return NotifyNote{}, false
	}
	return n, true
}

func (n NotifyNote) String() string {
	b, _ := json.Marshal(n)
	return string(b)
}

// Dispatcher sends what the outbox holds. assess.New builds one for every
// server; cmd runs Run and RunUnclaimedScan.
type Dispatcher struct {
	*shared
	opts NotifyOptions
	wake chan struct{}
}

func newDispatcher(sh *shared, opts NotifyOptions) *Dispatcher {
	return &Dispatcher{shared: sh, opts: opts.withDefaults(), wake: make(chan struct{}, 1)}
}

// Owner is the name this dispatcher claims notifications under.
func (d *Dispatcher) Owner() string { return d.opts.Owner }

// Channels reports which channels this server can send on.
func (d *Dispatcher) Channels() map[string]bool {
	out := map[string]bool{}
	for _, ch := range store.NotifyChannels {
		out[ch] = d.opts.Channels[ch] != nil
	}
	return out
}

// Kick makes Run look at the outbox now rather than at its next tick: a
// submission on this server has just filed a warning.
func (d *Dispatcher) Kick() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run works the outbox until ctx ends: whenever it is kicked, and every
// interval (for what other servers filed, retries that came due and
// digests). It holds up to twice Concurrency notifications, works
// Concurrency of them at once, and claims a new batch as soon as half of
// what it holds is done, so that a burst of warnings is not worked in
// rounds that each wait for their slowest send, nor claimed one by one.
func (d *Dispatcher) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	hold := 2 * d.opts.Concurrency
	slots := make(chan struct{}, d.opts.Concurrency)
	var held atomic.Int64
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		for {
			room := hold - int(held.Load())
			if room < hold/2 {
				break
			}
			claimed, err := d.claim(ctx, room)
			if err != nil {
				if ctx.Err() == nil {
					d.log.Error("notification dispatch", "err", err)
				}
				break
			}
			held.Add(int64(len(claimed)))
			for _, n := range claimed {
				wg.Add(1)
				go func() {
					defer wg.Done()
					slots <- struct{}{}
					d.work(ctx, n)
					<-slots
					if held.Add(-1) == int64(hold/2-1) {
						d.Kick() // room for another batch
					}
				}()
			}
			if len(claimed) < room {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-d.wake:
		}
	}
}

// claim leases what is due. Store writes of the dispatcher do not stop
// when ctx does: a claim or an outcome that reached the store is waited
// for, so that what was sent before a shutdown is recorded as sent (and
// the embedded store never finishes a write for a caller that left).
func (d *Dispatcher) claim(ctx context.Context, limit int) ([]store.Notification, error) {
	now := d.now()
	return d.store.ClaimNotifications(context.WithoutCancel(ctx), d.opts.Owner, now, now.Add(d.opts.Lease), limit)
}

// work expands an event or sends a delivery. A failure to record the
// outcome leaves the notification leased: it is tried again when the
// lease runs out.
func (d *Dispatcher) work(ctx context.Context, n store.Notification) {
	var err error
	if n.Kind == store.NotifyDelivery {
		err = d.deliver(ctx, n)
	} else {
		err = d.expand(ctx, n)
	}
	if err != nil && ctx.Err() == nil {
		d.log.Error("notification", "id", n.ID, "kind", n.Kind, "err", err)
	}
}

// DispatchOnce claims what is due now and works it, Concurrency at a
// time, and returns how many it claimed: one round of Run, for tests and
// tools that move a clock by hand.
func (d *Dispatcher) DispatchOnce(ctx context.Context) (int, error) {
	claimed, err := d.claim(ctx, 2*d.opts.Concurrency)
	if err != nil {
		return 0, err
	}
	sem := make(chan struct{}, d.opts.Concurrency)
	var wg sync.WaitGroup
	for _, n := range claimed {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			d.work(ctx, n)
		}()
	}
	wg.Wait()
	return len(claimed), nil
}

// effectiveSettings returns the settings that apply to a unit: its own, or
// its nearest ancestor's. ok is false when no unit up the tree has any.
func (d *Dispatcher) effectiveSettings(ctx context.Context, unitID string) (store.NotifySettings, bool, error) {
	for id, hops := unitID, 0; id != "" && hops < 32; hops++ {
		s, err := d.store.GetNotifySettings(ctx, id)
		if err == nil {
			return s, true, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return s, false, err
		}
		u, err := d.store.GetUnit(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			break
		}
		if err != nil {
			return store.NotifySettings{}, false, err
		}
		id = u.ParentID
	}
	return store.NotifySettings{}, false, nil
}

// onDuty returns the contacts on duty at t, in the schedule's order, with
// one contact per endpoint channel: a group robot posts once however many
// of its members are on duty.
func onDuty(s store.NotifySettings, t time.Time) []store.NotifyContact {
	var out []store.NotifyContact
	robots := map[string]bool{}
	for _, c := range s.Contacts {
		if !c.OnDuty(t) {
			continue
		}
		if store.IsEndpointChannel(c.Channel) {
			if robots[c.Channel] {
				continue
			}
			robots[c.Channel] = true
		}
		out = append(out, c)
	}
	return out
}

// DeliveryID is the id of the delivery of an event to one contact.
func DeliveryID(eventID, contactID, channel string) string {
	return eventID + ":" + contactID + ":" + channel
}

// DigestID is the id of a unit's digest at a time.
func DigestID(unitID string, at time.Time) string {
	return fmt.Sprintf("digest:%s:%d", unitID, at.UnixMilli())
}

// UnclaimedID is the id of the notice that a level-1 entry waits unclaimed.
func UnclaimedID(warningID string) string { return "unclaimed:" + warningID }

// IdempotencyKey is the key a delivery is sent with: derived from its id,
// so every retry (and every server) sends the same one, in the alphabet
// and length receivers accept.
func IdempotencyKey(deliveryID string) string {
	sum := sha256.Sum256([]byte(deliveryID))
	return "xl-" + hex.EncodeToString(sum[:24])
}

// finish records an attempt's outcome; a lease lost meanwhile is logged,
// since another server then owns the notification.
func (d *Dispatcher) finish(ctx context.Context, n store.Notification, f store.NotificationFinish) error {
	f.At = d.now()
	_, err := d.store.FinishNotification(ctx, n.ID, d.opts.Owner, f)
	if errors.Is(err, store.ErrLeaseHeld) {
		d.log.Warn("notification lease lost before its outcome was written", "id", n.ID)
		return nil
	}
	return err
}

// history appends the dispatcher's event to an entry (digests have none).
func (d *Dispatcher) history(ctx context.Context, warningID, kind, unitID string, note NotifyNote) error {
	if warningID == "" {
		return nil
	}
	err := d.store.AppendWarningEvent(ctx, warningID, store.WarningEvent{At: d.now(), Kind: kind, UnitID: unitID, Note: note.String()})
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

// moment is when an event happened: who was on duty then is told. A digest
// is due at its time, which its id carries.
func moment(n store.Notification) time.Time {
	if n.Kind == store.NotifyDigest {
		if i := strings.LastIndexByte(n.ID, ':'); i > 0 {
			if ms, err := strconv.ParseInt(n.ID[i+1:], 10, 64); err == nil {
				return time.UnixMilli(ms).UTC()
			}
		}
	}
	return n.CreatedAt
}

// expand works out an event into deliveries.
func (d *Dispatcher) expand(live context.Context, n store.Notification) error {
	ctx := context.WithoutCancel(live) // see claim
	at := moment(n)
	note := NotifyNote{Notification: n.Kind, Level: n.Level}
	settings, found, err := d.effectiveSettings(ctx, n.UnitID)
	if err != nil {
		return err
	}
	note.SettingsUnit = settings.UnitID
	done := func(reason string) error {
		note.Reason = reason
		if err := d.history(ctx, n.WarningID, store.EventNotifyPlanned, n.UnitID, note); err != nil {
			return err
		}
		return d.finish(ctx, n, store.NotificationFinish{State: store.NotificationSent, Error: reason})
	}
	if !found {
		d.log.Warn("nobody to notify: no notification settings up the tree", "unit", n.UnitID, "notification", n.ID)
		return done(ReasonNoSettings)
	}
	switch n.Kind {
	case store.NotifyWarning:
		p := settings.Policy
		if n.Level >= 2 && (p.Levels23 == store.PolicyDigest || !p.InWorkHours(at)) {
			slot := p.NextDigest(at)
			digest := store.Notification{ID: DigestID(n.UnitID, slot), Kind: store.NotifyDigest, UnitID: n.UnitID,
				State: store.NotificationPending, NotBefore: slot, CreatedAt: d.now()}
			if _, err := d.store.EnqueueNotifications(ctx, []store.Notification{digest}); err != nil {
				return err
			}
			note.DeferredUntil = slot
			return done(ReasonDeferred)
		}
	case store.NotifyUnclaimed:
		w, err := d.store.GetWarning(ctx, n.WarningID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && w.State != store.WarningOpen) {
			return done(ReasonClaimed)
		}
		if err != nil {
			return err
		}
	case store.NotifyDigest:
		count, err := d.digestCount(ctx, n.UnitID)
		if err != nil {
			return err
		}
		if count == 0 {
			return done(ReasonNothingWaiting)
		}
	}
	contacts := onDuty(settings, at)
	if len(contacts) == 0 {
		d.log.Warn("nobody on duty to notify", "unit", settings.UnitID, "notification", n.ID)
		return done(ReasonNobodyOnDuty)
	}
	// On the event's first attempt its deliveries are added leased to this
	// server, which sends them at once; a later attempt (a crash before the
	// event's outcome was written) adds what is missing for any server.
	inline := n.Attempts <= 1
	now := d.now()
	deliveries := make([]store.Notification, len(contacts))
	for i, c := range contacts {
		deliveries[i] = store.Notification{ID: DeliveryID(n.ID, c.ID, c.Channel), Kind: store.NotifyDelivery, WarningID: n.WarningID,
			UnitID: settings.UnitID, Level: n.Level, DueAt: n.DueAt, ParentID: n.ID, ContactID: c.ID, Channel: c.Channel,
			State: store.NotificationPending, NotBefore: now, CreatedAt: now}
		if inline {
			deliveries[i].LeaseOwner, deliveries[i].LeaseUntil, deliveries[i].Attempts = d.opts.Owner, now.Add(d.opts.Lease), 1
		}
	}
	note.Deliveries = len(deliveries)
	var added int
	if inline {
		// Nobody else can see the deliveries before their lease ends, so
		// the plan and the deliveries are written together (one group
		// commit), and the plan still reads before their outcomes.
		err = together(
			func() error { return d.history(ctx, n.WarningID, store.EventNotifyPlanned, settings.UnitID, note) },
			func() (err error) { added, err = d.store.EnqueueNotifications(ctx, deliveries); return err })
	} else {
		// The plan goes on the history first, so that it reads before the
		// outcomes of deliveries another server may send at once.
		if err = d.history(ctx, n.WarningID, store.EventNotifyPlanned, settings.UnitID, note); err == nil {
			added, err = d.store.EnqueueNotifications(ctx, deliveries)
		}
	}
	if err != nil {
		return err
	}
	if !inline || added != len(deliveries) {
		if inline {
			d.log.Warn("an event's deliveries existed before its first attempt; those added wait for their lease", "notification", n.ID)
		}
		d.Kick()
		return d.finish(ctx, n, store.NotificationFinish{State: store.NotificationSent})
	}
	// The deliveries are durable: the event is done, and each is sent now.
	jobs := []func() error{func() error { return d.finish(ctx, n, store.NotificationFinish{State: store.NotificationSent}) }}
	for _, dl := range deliveries {
		jobs = append(jobs, func() error { return d.send(live, dl, n, settings) })
	}
	return together(jobs...)
}

// together runs fns at once and returns their errors joined: writes made
// together share the embedded store's group commit.
func together(fns ...func() error) error {
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = fn()
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// digestCount counts the unit's own open level-2/3 entries.
func (d *Dispatcher) digestCount(ctx context.Context, unitID string) (int, error) {
	u, err := d.store.GetUnit(ctx, unitID)
	if err != nil {
		return 0, err
	}
	count := 0
	pg := store.Page{Limit: store.MaxLimit}
	for {
		ws, next, err := d.store.ListWarnings(ctx, store.WarningFilter{UnitPath: u.Path, Levels: []int{2, 3},
			States: []store.WarningState{store.WarningOpen}}, pg)
		if err != nil {
			return 0, err
		}
		for _, w := range ws {
			if w.UnitID == unitID {
				count++
			}
		}
		if next == "" {
			return count, nil
		}
		pg.After = next
	}
}

// deliver sends a claimed delivery and records how it went.
func (d *Dispatcher) deliver(ctx context.Context, n store.Notification) error {
	event, err := d.store.GetNotification(ctx, n.ParentID)
	if err != nil {
		return err
	}
	settings, err := d.store.GetNotifySettings(ctx, n.UnitID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return d.send(ctx, n, event, settings)
}

// send sends a delivery this server holds, of event, to a contact in
// settings, and records how it went. live stops the send; the record is
// written whatever happens to it (see claim).
func (d *Dispatcher) send(live context.Context, n, event store.Notification, settings store.NotifySettings) error {
	ctx := context.WithoutCancel(live)
	note := NotifyNote{Notification: event.Kind, Level: n.Level, SettingsUnit: n.UnitID, Channel: n.Channel, Contact: n.ContactID, Attempt: n.Attempts}
	contact, ok := settings.Contact(n.ContactID)
	if !ok || contact.Channel != n.Channel {
		return d.dead(ctx, n, note, ReasonNoContact, "the contact is no longer in the unit's settings on this channel")
	}
	note.ContactName = contact.Name
	target := notify.Target{Address: string(contact.Address)}
	if store.IsEndpointChannel(n.Channel) {
		ep, ok := settings.Endpoint(n.Channel)
		if !ok {
			return d.dead(ctx, n, note, ReasonNoEndpoint, "the unit has no "+n.Channel+" endpoint any more")
		}
		target = notify.Target{Address: string(ep.Address), Secret: string(ep.Secret)}
	}
	ch := d.opts.Channels[n.Channel]
	if ch == nil {
		return d.dead(ctx, n, note, ReasonNoChannel, "this server has no "+n.Channel+" channel configured")
	}
	msg, err := d.message(ctx, event, n, contact)
	if err != nil {
		return err
	}
	sctx, cancel := context.WithTimeout(live, d.opts.SendTimeout)
	err = ch.Send(sctx, target, msg)
	cancel()
	if err != nil && live.Err() != nil {
		return live.Err() // shutting down: the lease runs out and the send is tried again
	}
	if err == nil {
		d.obs.NotificationSent(n.Channel, d.now().Sub(event.CreatedAt))
		return together(
			func() error { return d.finish(ctx, n, store.NotificationFinish{State: store.NotificationSent}) },
			func() error { return d.history(ctx, n.WarningID, store.EventNotifySent, n.UnitID, note) })
	}
	text := scrubTarget(err.Error(), target)
	if notify.IsPermanent(err) {
		return d.dead(ctx, n, note, ReasonPermanent, text)
	}
	if n.Attempts >= d.opts.MaxAttempts {
		return d.dead(ctx, n, note, ReasonExhausted, text)
	}
	wait := d.backoff(n.Attempts)
	if after, ok := notify.RetryAfter(err); ok && after > wait {
		wait = min(after, d.opts.MaxBackoff)
	}
	note.RetryAt, note.Reason, note.Error = d.now().Add(wait), ReasonRetry, text
	d.obs.NotificationFailed(n.Channel, false)
	d.log.Warn("notification failed; retrying", "id", n.ID, "channel", n.Channel, "attempt", n.Attempts, "retry_at", note.RetryAt, "err", text)
	return together(
		func() error {
			return d.finish(ctx, n, store.NotificationFinish{State: store.NotificationPending, NotBefore: note.RetryAt, Error: text})
		},
		func() error { return d.history(ctx, n.WarningID, store.EventNotifyFailed, n.UnitID, note) })
}

// dead puts a delivery on the dead-letter list.
func (d *Dispatcher) dead(ctx context.Context, n store.Notification, note NotifyNote, reason, text string) error {
	note.Reason, note.Error = reason, text
	d.obs.NotificationFailed(n.Channel, true)
	d.log.Error("notification given up: it is on the dead-letter list", "id", n.ID, "channel", n.Channel, "attempts", n.Attempts,
		"reason", reason, "err", text)
	return together(
		func() error {
			return d.finish(ctx, n, store.NotificationFinish{State: store.NotificationDead, Error: reason + ": " + text})
		},
		func() error { return d.history(ctx, n.WarningID, store.EventNotifyDead, n.UnitID, note) })
}

// backoff is the wait after the attempt-th failure: Backoff doubled per
// earlier failure, at most MaxBackoff, less up to half of it at random.
func (d *Dispatcher) backoff(attempt int) time.Duration {
	wait := d.opts.Backoff
	for i := 1; i < attempt && wait < d.opts.MaxBackoff; i++ {
		wait *= 2
	}
	wait = min(wait, d.opts.MaxBackoff)
	return wait - time.Duration(d.opts.Jitter()*float64(wait)/2)
}

// scrubTarget removes the contact's address and the endpoint's secrets
// from an error text before it is stored or logged (the channels scrub
// their own; this is the second lock).
func scrubTarget(s string, t notify.Target) string {
	for _, v := range []string{t.Secret, t.Address} {
		if len(v) >= 4 {
			s = strings.ReplaceAll(s, v, "[REDACTED]")
			s = strings.ReplaceAll(s, url.QueryEscape(v), "[REDACTED]")
		}
	}
	if len(s) > 500 {
		s = notify.TruncateRunes(s, 500)
	}
	return s
}

// message is what a delivery says: the kind, level, unit name, times and
// a link. Nothing else exists to be said.
func (d *Dispatcher) message(ctx context.Context, event, n store.Notification, c store.NotifyContact) (notify.Message, error) {
	m := notify.Message{Level: n.Level, At: event.CreatedAt, DueAt: event.DueAt, IdempotencyKey: IdempotencyKey(n.ID),
		Locale: notify.Locale(c.Locale), Link: d.entryLink(n.WarningID)}
	unitID := event.UnitID
	switch event.Kind {
	case store.NotifyWarning:
		m.Kind = notify.KindWarningNew
	case store.NotifyUnclaimed:
		// Told to the parent unit; the message names the entry's unit.
		m.Kind = notify.KindWarningUnclaimed
		w, err := d.store.GetWarning(ctx, n.WarningID)
		if err != nil {
			return m, err
		}
		unitID, m.DueAt = w.UnitID, w.DueAt
		if lvl, err := d.store.GetNotification(ctx, fmt.Sprintf("warning:%s:level1", w.ID)); err == nil {
			m.At = lvl.CreatedAt
		} else {
			m.At = w.CreatedAt
		}
	case store.NotifyDigest:
		m.Kind, m.Level, m.DueAt, m.At = notify.KindDigest, 0, time.Time{}, moment(event)
		count, err := d.digestCount(ctx, event.UnitID)
		if err != nil {
			return m, err
		}
		m.Count = max(count, 1)
	case store.NotifyCallback:
		m.Kind = notify.KindCallbackRequested
		if m.DueAt.IsZero() && n.WarningID != "" {
			if w, err := d.store.GetWarning(ctx, n.WarningID); err == nil {
				m.DueAt = w.DueAt
			}
		}
	default:
		return m, fmt.Errorf("a delivery of an unknown kind %q", event.Kind)
	}
	u, err := d.store.GetUnit(ctx, unitID)
	if err != nil {
		return m, err
	}
	m.UnitName = notify.TruncateRunes(strings.TrimSpace(u.Name), notify.MaxUnitNameRunes)
	if m.UnitName == "" {
		m.UnitName = u.ID
	}
	return m, nil
}

// entryLink is the console page of an entry, by its opaque id, or the
// queue for a digest.
func (d *Dispatcher) entryLink(warningID string) string {
	if warningID == "" {
		return d.opts.PublicURL + "/console/queue"
	}
	return d.opts.PublicURL + "/console/queue/" + url.PathEscape(warningID)
}

// ScanUnclaimed owes the parent unit's on-duty staff a notice of every
// level-1 entry still open past the unclaimed-after time of its unit's
// settings (default 15 min): the notice's id is the entry's, so each
// entry is told once however often, and on however many servers, this
// runs. The parent is that of the unit whose settings told the entry
// (its own, or the ancestor's it follows), and whoever's settings apply
// there are told. An entry at the top of the tree is told to its own
// unit again.
func (d *Dispatcher) ScanUnclaimed(ctx context.Context) (int, error) {
	now := d.now()
	added := 0
	settingsOf := map[string]store.NotifySettings{}
	pg := store.Page{Limit: store.MaxLimit}
	for {
		ws, next, err := d.store.ListWarnings(ctx, store.WarningFilter{Levels: []int{1}, States: []store.WarningState{store.WarningOpen}}, pg)
		if err != nil {
			return added, err
		}
		for _, w := range ws {
			s, ok := settingsOf[w.UnitID]
			if !ok {
				if s, _, err = d.effectiveSettings(ctx, w.UnitID); err != nil {
					return added, err
				}
				settingsOf[w.UnitID] = s
			}
			since := w.CreatedAt
			if lvl, err := d.store.GetNotification(ctx, fmt.Sprintf("warning:%s:level1", w.ID)); err == nil {
				since = lvl.CreatedAt
			}
			if now.Sub(since) < s.EffectiveUnclaimedAfter() {
				continue
			}
			// The parent of the unit whose contacts were told: a class
			// that follows its school's settings escalates to the school's
			// parent, not to its grade (which follows the school's too).
			told := w.UnitID
			if s.UnitID != "" {
				told = s.UnitID
			}
			u, err := d.store.GetUnit(ctx, told)
			if err != nil {
				return added, err
			}
			to := u.ParentID
			if to == "" {
				to = u.ID
			}
			n, err := d.store.EnqueueNotifications(context.WithoutCancel(ctx), []store.Notification{{ID: UnclaimedID(w.ID), Kind: store.NotifyUnclaimed,
				WarningID: w.ID, UnitID: to, Level: 1, DueAt: w.DueAt, State: store.NotificationPending, NotBefore: now, CreatedAt: now}})
			if err != nil {
				return added, err
			}
			added += n
		}
		if next == "" {
			break
		}
		pg.After = next
	}
	if added > 0 {
		d.Kick()
	}
	return added, nil
}

// RunUnclaimedScan calls ScanUnclaimed every interval until ctx ends.
func (d *Dispatcher) RunUnclaimedScan(ctx context.Context, every time.Duration) {
	runEvery(ctx, every, d.ScanUnclaimed, func(n int, err error) {
		if err != nil {
			d.log.Error("unclaimed level-1 scan", "err", err)
		} else if n > 0 {
			d.log.Info("level-1 entries unclaimed: parent units told", "count", n)
		}
	})
}
