package assess

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"xinling/notify"
	"xinling/store"
)

// CodeNotifyFailed: a test message was refused by its channel (502); the
// message says why, without the secret.
const CodeNotifyFailed = "notify_failed"

// Notifications are the administrators' side of the dispatcher: a unit's
// settings and on-duty schedule, the dead-letter list, and test sends.
// Everything is scoped to the admin's subtree and audited.
type Notifications struct {
	*shared
	dispatcher *Dispatcher
}

// EndpointView is a unit's endpoint as the console sees it: which values
// are on file, never the values. Hint is the webhook's scheme and host.
type EndpointView struct {
	Channel    string
	AddressSet bool
	SecretSet  bool
	Hint       string
}

// ContactView is a contact with its address masked (138****8000,
// z***@example.cn): enough to recognise it, not to use it.
type ContactView struct {
	ID, Name, Channel, Locale string
	AddressSet                bool
	AddressHint               string
	Always                    bool
	Duty                      []store.DutyWindow
}

// SettingsView is what an admin reads of a unit's settings.
type SettingsView struct {
	UnitID string
	// Own is true when the unit has settings of its own; otherwise
	// InheritedFrom names the ancestor whose settings apply (or is empty
	// when none does), and the fields below are that ancestor's.
	Own            bool
	InheritedFrom  string
	Endpoints      []EndpointView
	Contacts       []ContactView
	Policy         store.NotifyPolicy
	UnclaimedAfter time.Duration
	UpdatedBy      string
	UpdatedAt      time.Time
	Version        int64
	// Channels says which channels this server can send on.
	Channels map[string]bool
}

// EndpointInput is an endpoint as an admin saves it. A nil Address or
// Secret keeps the one on file (it is never shown again); an empty one
// clears it.
type EndpointInput struct {
	Channel string
	Address *string
	Secret  *string
}

// ContactInput is a contact as an admin saves it; a nil Address keeps the
// one on file for the same contact id and channel.
type ContactInput struct {
	ID, Name, Channel, Locale string
	Address                   *string
	Always                    bool
	Duty                      []store.DutyWindow
}

// SettingsInput replaces a unit's settings. Version is the one read (0
// when the unit had none of its own).
type SettingsInput struct {
	Endpoints      []EndpointInput
	Contacts       []ContactInput
	Policy         store.NotifyPolicy
	UnclaimedAfter time.Duration
	Version        int64
}

// unit loads a unit an admin may configure; out of scope is not found.
func (ns *Notifications) unit(ctx context.Context, p *Principal, id string) (store.Unit, error) {
	if err := requireAdmin(p); err != nil {
		return store.Unit{}, err
	}
	u, err := ns.store.GetUnit(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !p.InScope(u.Path)) {
		return store.Unit{}, errorf(CodeNotFound, "", "no unit %q", id)
	}
	return u, err
}

// Settings returns the settings that apply to a unit, its own or
// inherited, with every secret withheld.
func (ns *Notifications) Settings(ctx context.Context, p *Principal, unitID string) (SettingsView, error) {
	if _, err := ns.unit(ctx, p, unitID); err != nil {
		return SettingsView{}, err
	}
	s, found, err := ns.dispatcher.effectiveSettings(ctx, unitID)
	if err != nil {
		return SettingsView{}, err
	}
	v := SettingsView{UnitID: unitID, Channels: ns.dispatcher.Channels()}
	if !found {
		return v, nil
	}
	v.Own = s.UnitID == unitID
	if !v.Own {
		v.InheritedFrom = s.UnitID
	}
	v.Policy, v.UnclaimedAfter, v.UpdatedBy, v.UpdatedAt = s.Policy, s.UnclaimedAfter, s.UpdatedBy, s.UpdatedAt
	if v.Own {
		v.Version = s.Version
	}
	for _, e := range s.Endpoints {
		ev := EndpointView{Channel: e.Channel, AddressSet: len(e.Address) > 0, SecretSet: len(e.Secret) > 0}
		if e.Channel == store.ChannelWebhook {
			if u, err := url.Parse(string(e.Address)); err == nil {
				ev.Hint = u.Scheme + "://" + u.Host
			}
		}
		v.Endpoints = append(v.Endpoints, ev)
	}
	for _, c := range s.Contacts {
		v.Contacts = append(v.Contacts, ContactView{ID: c.ID, Name: c.Name, Channel: c.Channel, Locale: c.Locale, Always: c.Always, Duty: c.Duty,
			AddressSet: len(c.Address) > 0, AddressHint: maskAddress(c.Channel, string(c.Address))})
	}
	return v, nil
}

// maskAddress shows enough of a contact's address to recognise it.
func maskAddress(channel, a string) string {
	switch channel {
	case store.ChannelSMS:
		if m, err := notify.NormalizeMobile(a); err == nil {
			return m[:3] + "****" + m[7:]
		}
	case store.ChannelEmail:
		if local, domain, ok := strings.Cut(a, "@"); ok && local != "" {
			r, _ := utf8.DecodeRuneInString(local)
			return string(r) + "***@" + domain
		}
	}
	return ""
}

// PutSettings replaces a unit's own settings. Addresses and secrets left
// out keep the ones on file; everything is checked before it is saved.
func (ns *Notifications) PutSettings(ctx context.Context, p *Principal, unitID string, in SettingsInput, ip string) (SettingsView, error) {
	u, err := ns.unit(ctx, p, unitID)
	if err != nil {
		return SettingsView{}, err
	}
	old, err := ns.store.GetNotifySettings(ctx, unitID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return SettingsView{}, err
	}
	if old.Version != in.Version {
		return SettingsView{}, errorf(CodeConflict, "version", "the settings were changed meanwhile (version %d, not %d): reload them", old.Version, in.Version)
	}
	s := store.NotifySettings{UnitID: unitID, Policy: in.Policy, UnclaimedAfter: in.UnclaimedAfter, UpdatedBy: p.StaffID,
		UpdatedAt: ns.now(), Version: in.Version}
	for i, e := range in.Endpoints {
		field := fmt.Sprintf("endpoints[%d]", i)
		prev, _ := old.Endpoint(e.Channel)
		ep := store.NotifyEndpoint{Channel: e.Channel, Address: keep(e.Address, prev.Address), Secret: keep(e.Secret, prev.Secret)}
		if err := checkEndpoint(field, ep); err != nil {
			return SettingsView{}, err
		}
		s.Endpoints = append(s.Endpoints, ep)
	}
	for i, c := range in.Contacts {
		field := fmt.Sprintf("contacts[%d]", i)
		prev, ok := old.Contact(c.ID)
		var prevAddr store.Sealed
		if ok && prev.Channel == c.Channel {
			prevAddr = prev.Address
		}
		ct := store.NotifyContact{ID: c.ID, Name: strings.TrimSpace(c.Name), Channel: c.Channel, Locale: c.Locale, Always: c.Always, Duty: c.Duty,
			Address: keep(c.Address, prevAddr)}
		if err := checkContact(field, &ct); err != nil {
			return SettingsView{}, err
		}
		s.Contacts = append(s.Contacts, ct)
	}
	if err := s.Check(); err != nil {
		return SettingsView{}, settingsError(err)
	}
	if _, err := ns.store.PutNotifySettings(ctx, s); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return SettingsView{}, errorf(CodeConflict, "version", "the settings were changed meanwhile: reload them")
		}
		return SettingsView{}, settingsError(err)
	}
	var chans []string
	for _, e := range s.Endpoints {
		chans = append(chans, e.Channel)
	}
	ns.auditAction(ctx, auditBy(p, "notify_settings", "unit", unitID, u.Path, ip,
		fmt.Sprintf("%d contacts; endpoints %s; level 2/3 %s", len(s.Contacts), strings.Join(chans, ","), orDefault(s.Policy.Levels23, store.PolicyImmediate))))
	return ns.Settings(ctx, p, unitID)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// keep is the new value when one was given, else the stored one.
func keep(v *string, stored store.Sealed) store.Sealed {
	if v == nil {
		return stored
	}
	return store.Sealed(strings.TrimSpace(*v))
}

func settingsError(err error) error {
	var se *store.SettingsError
	if errors.As(err, &se) {
		return errorf(CodeValidation, se.Field, "%s", se.Message)
	}
	return err
}

// checkEndpoint checks an endpoint's address and secret as its channel
// will use them, so a typo shows when it is saved, not at 02:00.
func checkEndpoint(field string, e store.NotifyEndpoint) error {
	addr, secret := string(e.Address), string(e.Secret)
	if len(addr) > 1024 || len(secret) > 256 {
		return errorf(CodeValidation, field, "the address or secret is too long")
	}
	switch e.Channel {
	case store.ChannelWeCom:
		if addr == "" {
			return errorf(CodeValidation, field+".address", "the WeCom robot's key (or its webhook URL) is required")
		}
	case store.ChannelDingTalk:
		if addr == "" {
			return errorf(CodeValidation, field+".address", "the DingTalk robot's access token (or its webhook URL) is required")
		}
		if secret == "" {
			return errorf(CodeValidation, field+".secret", "the DingTalk robot's signing secret (加签) is required")
		}
	case store.ChannelWebhook:
		if err := notify.ValidateWebhookURL(addr); err != nil {
			return errorf(CodeValidation, field+".address", "the webhook URL: %v", err)
		}
		if len(secret) < notify.MinWebhookSecretLen {
			return errorf(CodeValidation, field+".secret", "the webhook's signing secret needs at least %d characters", notify.MinWebhookSecretLen)
		}
	default:
		return errorf(CodeValidation, field+".channel", "an endpoint is one of %v", store.EndpointChannels)
	}
	return nil
}

// checkContact checks and normalises a contact's address.
func checkContact(field string, c *store.NotifyContact) error {
	addr := string(c.Address)
	switch c.Channel {
	case store.ChannelSMS:
		m, err := notify.NormalizeMobile(addr)
		if err != nil {
			return errorf(CodeValidation, field+".address", "a mainland mobile number is required")
		}
		c.Address = store.Sealed(m)
	case store.ChannelEmail:
		a, err := mail.ParseAddress(addr)
		if err != nil || a.Name != "" || a.Address != addr {
			return errorf(CodeValidation, field+".address", "an e-mail address is required")
		}
	}
	return nil
}

// DeadLetter is a delivery given up, as an admin reads it.
type DeadLetter struct {
	store.Notification
	ContactName string // "" when the contact is no longer in the settings
}

// DeadLetters lists the dead deliveries of the admin's subtree, oldest
// first.
func (ns *Notifications) DeadLetters(ctx context.Context, p *Principal, page store.Page) ([]DeadLetter, string, error) {
	if err := requireAdmin(p); err != nil {
		return nil, "", err
	}
	list, next, err := ns.store.ListNotifications(ctx, store.NotificationFilter{UnitPath: p.UnitPath, Kinds: []string{store.NotifyDelivery},
		States: []store.NotificationState{store.NotificationDead}}, page)
	if err != nil {
		return nil, "", err
	}
	settings := map[string]store.NotifySettings{}
	out := make([]DeadLetter, len(list))
	for i, n := range list {
		s, ok := settings[n.UnitID]
		if !ok {
			s, _ = ns.store.GetNotifySettings(ctx, n.UnitID)
			settings[n.UnitID] = s
		}
		c, _ := s.Contact(n.ContactID)
		out[i] = DeadLetter{Notification: n, ContactName: c.Name}
	}
	return out, next, nil
}

// Retry gives a dead delivery another round of attempts, at once.
func (ns *Notifications) Retry(ctx context.Context, p *Principal, id, ip string) (store.Notification, error) {
	if err := requireAdmin(p); err != nil {
		return store.Notification{}, err
	}
	n, err := ns.store.GetNotification(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (!p.InScope(n.UnitPath) || n.Kind != store.NotifyDelivery)) {
		return store.Notification{}, errorf(CodeNotFound, "", "no dead letter %q", id)
	}
	if err != nil {
		return store.Notification{}, err
	}
	n, err = ns.store.RequeueNotification(ctx, id, ns.now())
	if errors.Is(err, store.ErrInvalidTransition) {
		return store.Notification{}, errorf(CodeConflict, "", "only a dead letter can be retried; this one is %s", n.State)
	}
	if err != nil {
		return store.Notification{}, err
	}
	ns.auditAction(ctx, auditBy(p, "notification_retry", "notification", n.ID, n.UnitPath, ip, n.Channel))
	if n.WarningID != "" {
		note := NotifyNote{Channel: n.Channel, Contact: n.ContactID, Level: n.Level, SettingsUnit: n.UnitID}
		if s, err := ns.store.GetNotifySettings(ctx, n.UnitID); err == nil {
			c, _ := s.Contact(n.ContactID)
			note.ContactName = c.Name
		}
		if err := ns.store.AppendWarningEvent(ctx, n.WarningID, store.WarningEvent{At: ns.now(), ActorID: p.StaffID,
			Kind: store.EventNotifyRequeued, UnitID: n.UnitID, Note: note.String()}); err != nil && !errors.Is(err, store.ErrNotFound) {
			ns.log.Warn("history of a retried notification", "id", n.ID, "err", err)
		}
	}
	ns.dispatcher.Kick()
	return n, nil
}

// EntryNotifications lists the notifications of a queue entry (events and
// deliveries), for staff who may work the entry.
func (ns *Notifications) EntryNotifications(ctx context.Context, p *Principal, warningID string) ([]store.Notification, error) {
	if err := canWork(p); err != nil {
		return nil, err
	}
	w, err := ns.store.GetWarning(ctx, warningID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !p.InScope(w.UnitPath)) {
		return nil, errorf(CodeNotFound, "", "no warning %q", warningID)
	}
	if err != nil {
		return nil, err
	}
	var out []store.Notification
	pg := store.Page{Limit: store.MaxLimit}
	for {
		list, next, err := ns.store.ListNotifications(ctx, store.NotificationFilter{WarningID: warningID}, pg)
		if err != nil {
			return nil, err
		}
		out = append(out, list...)
		if next == "" {
			return out, nil
		}
		pg.After = next
	}
}

// SendTest sends a test message to one contact of a unit's own settings,
// at once and outside the outbox, and reports what the channel said.
func (ns *Notifications) SendTest(ctx context.Context, p *Principal, unitID, contactID, ip string) error {
	u, err := ns.unit(ctx, p, unitID)
	if err != nil {
		return err
	}
	s, err := ns.store.GetNotifySettings(ctx, unitID)
	if errors.Is(err, store.ErrNotFound) {
		return errorf(CodeNotFound, "contact_id", "the unit has no notification settings of its own")
	}
	if err != nil {
		return err
	}
	c, ok := s.Contact(contactID)
	if !ok {
		return errorf(CodeNotFound, "contact_id", "no contact %q in the unit's settings", contactID)
	}
	target := notify.Target{Address: string(c.Address)}
	if store.IsEndpointChannel(c.Channel) {
		ep, _ := s.Endpoint(c.Channel)
		target = notify.Target{Address: string(ep.Address), Secret: string(ep.Secret)}
	}
	ch := ns.dispatcher.opts.Channels[c.Channel]
	if ch == nil {
		return errorf(CodeNotifyFailed, "contact_id", "this server has no %s channel configured", c.Channel)
	}
	now := ns.now()
	m := testMessage(u, now, ns.dispatcher.opts.PublicURL, c.Locale)
	sctx, cancel := context.WithTimeout(ctx, ns.dispatcher.opts.SendTimeout)
	err = ch.Send(sctx, target, m)
	cancel()
	outcome := "ok"
	if err != nil {
		outcome = "failed"
	}
	ns.auditAction(ctx, auditBy(p, "notification_test", "unit", unitID, u.Path, ip, c.Channel+" "+c.ID+" "+outcome))
	if err != nil {
		return errorf(CodeNotifyFailed, "contact_id", "%s", scrubTarget(err.Error(), target))
	}
	return nil
}

// testMessage is what a test send says: that the unit's channel works and
// nothing needs doing, with a link to the console's queue.
func testMessage(u store.Unit, now time.Time, publicURL, locale string) notify.Message {
	name := notify.TruncateRunes(strings.TrimSpace(u.Name), notify.MaxUnitNameRunes)
	if name == "" {
		name = u.ID
	}
	return notify.Message{Kind: notify.KindTest, UnitName: name, At: now, Link: publicURL + "/console/queue",
		IdempotencyKey: IdempotencyKey(fmt.Sprintf("test:%s:%d", u.ID, now.UnixNano())), Locale: notify.Locale(locale)}
}
