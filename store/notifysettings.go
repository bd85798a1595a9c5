package store

import (
	"context"
	"fmt"
	"sort"
	"time"
	"unicode/utf8"
)

// Per-unit notification settings (issue 16): where a unit's out-of-band
// alerts go, who is on duty when (值班表), and how level-2 and level-3
// entries are told. Nothing here is about a respondent. The endpoints'
// addresses and secrets (a robot key lets anyone post to the duty group)
// and the contacts' addresses (a duty phone, an e-mail) are sealed above
// every backend by store/sealed, as the personal-data inventory says.

// Notification channels, as package notify names them.
const (
	ChannelWeCom    = "wecom"    // a WeCom (企业微信) group robot: the unit's endpoint
	ChannelDingTalk = "dingtalk" // a DingTalk custom robot: the unit's endpoint
	ChannelWebhook  = "webhook"  // a signed HTTPS webhook: the unit's endpoint
	ChannelSMS      = "sms"      // a contact's mobile number
	ChannelEmail    = "email"    // a contact's e-mail address
)

// NotifyChannels lists every channel; EndpointChannels those that post to
// an endpoint of the unit (a group or a system) rather than to one person.
var (
	NotifyChannels   = []string{ChannelWeCom, ChannelDingTalk, ChannelWebhook, ChannelSMS, ChannelEmail}
	EndpointChannels = []string{ChannelWeCom, ChannelDingTalk, ChannelWebhook}
)

// Level-2/3 policies.
const (
	// PolicyImmediate tells level-2 and level-3 entries at once during
	// working hours, and in the next digest outside them.
	PolicyImmediate = "immediate"
	// PolicyDigest tells them only in digests, at fixed times.
	PolicyDigest = "digest"
)

// DefaultUnclaimedAfter is how long a level-1 entry may wait unclaimed
// before the parent unit's on-duty contacts are told, when a unit sets
// nothing: well inside the level-1 deadline (1 h by default).
const DefaultUnclaimedAfter = 15 * time.Minute

// Limits of the settings, checked by every backend (Check).
const (
	MaxNotifyContacts   = 50
	MaxDutyWindows      = 16
	MaxDigestTimes      = 8
	MaxContactNameRunes = 64
	MinUnclaimedAfter   = time.Minute
	MaxUnclaimedAfter   = 24 * time.Hour
)

// NotifySettings are one unit's notification settings. A unit without
// settings of its own follows its nearest ancestor that has some.
type NotifySettings struct {
	UnitID   string
	UnitPath string // set by the store
	// Endpoints are the unit's group robots and webhook, at most one per
	// endpoint channel, in the order of EndpointChannels.
	Endpoints []NotifyEndpoint
	// Contacts are the on-duty schedule (值班表), in the order staff put
	// them.
	Contacts []NotifyContact
	Policy   NotifyPolicy
	// UnclaimedAfter: a level-1 entry still open this long after it was
	// raised is told to the parent unit's on-duty contacts too. 0 means
	// DefaultUnclaimedAfter.
	UnclaimedAfter time.Duration
	UpdatedBy      string // staff id
	UpdatedAt      time.Time
	// Version is set by the store; PutNotifySettings must carry the
	// current one (0 for a unit without settings).
	Version int64
}

// NotifyEndpoint is a unit's robot or webhook on one endpoint channel.
type NotifyEndpoint struct {
	Channel string
	// Address is the WeCom robot's key, the DingTalk robot's access token
	// or the webhook's https URL.
	Address Sealed
	// Secret is the DingTalk robot's signing secret (加签) or the
	// webhook's HMAC key; unused for WeCom.
	Secret Sealed
}

// NotifyContact is one row of the on-duty schedule: a member of staff (or
// a duty group) reachable on one channel at the hours of Duty.
type NotifyContact struct {
	ID   string // [A-Za-z0-9_-]{1,32}, unique in the unit
	Name string // display name, as staff see it (张医生, 值班群)
	// Channel is one of NotifyChannels. On an endpoint channel the message
	// goes to the unit's endpoint of that channel; on sms and email to
	// Address.
	Channel string
	Address Sealed // a mainland mobile number or an e-mail address; empty on endpoint channels
	Locale  string // zh-CN (also when empty) or en: the language of what is sent
	// Always puts the contact on duty at every hour; otherwise Duty says
	// when.
	Always bool
	Duty   []DutyWindow
}

// DutyWindow is a span of hours on some weekdays, in China Standard Time
// (Asia/Shanghai, UTC+8 all year).
type DutyWindow struct {
	// Days are ISO weekdays, 1 (Monday) to 7 (Sunday); empty means every
	// day. A window that spans midnight belongs to the day it starts on.
	Days []int
	// From and To are minutes after midnight: From in [0, 1440), To in
	// (0, 1440]. To <= From spans midnight (22:00–08:00).
	From int
	To   int
}

// NotifyPolicy says how level-2 and level-3 entries are told; level 1 is
// always told at once, at any hour.
type NotifyPolicy struct {
	// Levels23 is PolicyImmediate (also when empty) or PolicyDigest.
	Levels23 string
	// WorkHours are the working hours of PolicyImmediate; empty means
	// Monday to Friday, 08:30–17:30.
	WorkHours []DutyWindow
	// DigestAt are the times of day, in minutes after midnight (China
	// Standard Time), when digests go out; empty means 08:30.
	DigestAt []int
}

// DutyZone is the zone of every duty window and digest time: China
// Standard Time, which keeps no daylight saving time.
var DutyZone = time.FixedZone("CST", 8*60*60)

// DefaultWorkHours: Monday to Friday, 08:30–17:30.
var DefaultWorkHours = []DutyWindow{{Days: []int{1, 2, 3, 4, 5}, From: 8*60 + 30, To: 17*60 + 30}}

// DefaultDigestAt: one digest a day at 08:30.
var DefaultDigestAt = []int{8*60 + 30}

// SettingsError is a rule of the settings that a value breaks; it wraps
// ErrInvalid and names the field (contacts[2].duty[0].from).
type SettingsError struct {
	Field   string
	Message string
}

func (e *SettingsError) Error() string { return "store: invalid input: " + e.Field + ": " + e.Message }
func (e *SettingsError) Unwrap() error { return ErrInvalid }

func settingsErr(field, format string, args ...any) error {
	return &SettingsError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// IsEndpointChannel reports whether ch posts to a unit's endpoint.
func IsEndpointChannel(ch string) bool {
	for _, c := range EndpointChannels {
		if c == ch {
			return true
		}
	}
	return false
}

func isChannel(ch string) bool {
	for _, c := range NotifyChannels {
		if c == ch {
			return true
		}
	}
	return false
}

// Check reports the first rule the settings break (a *SettingsError), or
// nil. Every backend checks before it writes.
func (s NotifySettings) Check() error {
	if s.UnitID == "" {
		return settingsErr("unit_id", "a unit is required")
	}
	seen := map[string]bool{}
	for i, e := range s.Endpoints {
		f := fmt.Sprintf("endpoints[%d]", i)
		if !IsEndpointChannel(e.Channel) {
			return settingsErr(f+".channel", "%q is not one of %v", e.Channel, EndpointChannels)
		}
		if seen[e.Channel] {
			return settingsErr(f+".channel", "a unit has one %s endpoint", e.Channel)
		}
		seen[e.Channel] = true
		if len(e.Address) == 0 {
			return settingsErr(f+".address", "the address is required")
		}
	}
	if len(s.Contacts) > MaxNotifyContacts {
		return settingsErr("contacts", "at most %d contacts", MaxNotifyContacts)
	}
	ids := map[string]bool{}
	for i, c := range s.Contacts {
		f := fmt.Sprintf("contacts[%d]", i)
		if !validContactID(c.ID) {
			return settingsErr(f+".id", "an id is 1 to 32 of A-Z a-z 0-9 _ -")
		}
		if ids[c.ID] {
			return settingsErr(f+".id", "the id %q is used twice", c.ID)
		}
		ids[c.ID] = true
		if n := utf8.RuneCountInString(c.Name); c.Name == "" || n > MaxContactNameRunes || !utf8.ValidString(c.Name) {
			return settingsErr(f+".name", "a name of 1 to %d characters is required", MaxContactNameRunes)
		}
		if !isChannel(c.Channel) {
			return settingsErr(f+".channel", "%q is not one of %v", c.Channel, NotifyChannels)
		}
		if IsEndpointChannel(c.Channel) {
			if len(c.Address) != 0 {
				return settingsErr(f+".address", "a %s contact uses the unit's endpoint and has no address of its own", c.Channel)
			}
			if !seen[c.Channel] {
				return settingsErr(f+".channel", "the unit has no %s endpoint", c.Channel)
			}
		} else if len(c.Address) == 0 {
			return settingsErr(f+".address", "a %s contact needs an address", c.Channel)
		}
		if c.Locale != "" && c.Locale != "zh-CN" && c.Locale != "en" {
			return settingsErr(f+".locale", "zh-CN or en, not %q", c.Locale)
		}
		if err := checkWindows(f+".duty", c.Duty); err != nil {
			return err
		}
	}
	p := s.Policy
	if p.Levels23 != "" && p.Levels23 != PolicyImmediate && p.Levels23 != PolicyDigest {
		return settingsErr("policy.levels23", "%q is not %s or %s", p.Levels23, PolicyImmediate, PolicyDigest)
	}
	if err := checkWindows("policy.work_hours", p.WorkHours); err != nil {
		return err
	}
	if len(p.DigestAt) > MaxDigestTimes {
		return settingsErr("policy.digest_at", "at most %d digest times", MaxDigestTimes)
	}
	for i, m := range p.DigestAt {
		if m < 0 || m >= 24*60 {
			return settingsErr(fmt.Sprintf("policy.digest_at[%d]", i), "a time of day is 00:00 to 23:59")
		}
		if i > 0 && m <= p.DigestAt[i-1] {
			return settingsErr(fmt.Sprintf("policy.digest_at[%d]", i), "digest times are in order, each once")
		}
	}
	if s.UnclaimedAfter != 0 && (s.UnclaimedAfter < MinUnclaimedAfter || s.UnclaimedAfter > MaxUnclaimedAfter) {
		return settingsErr("unclaimed_after", "between %s and %s", MinUnclaimedAfter, MaxUnclaimedAfter)
	}
	return nil
}

func checkWindows(field string, ws []DutyWindow) error {
	if len(ws) > MaxDutyWindows {
		return settingsErr(field, "at most %d windows", MaxDutyWindows)
	}
	for i, w := range ws {
		f := fmt.Sprintf("%s[%d]", field, i)
		for _, d := range w.Days {
			if d < 1 || d > 7 {
				return settingsErr(f+".days", "a day is 1 (Monday) to 7 (Sunday)")
			}
		}
		if w.From < 0 || w.From >= 24*60 {
			return settingsErr(f+".from", "a time of day is 00:00 to 23:59")
		}
		if w.To <= 0 || w.To > 24*60 {
			return settingsErr(f+".to", "an end is 00:01 to 24:00")
		}
		if w.From == w.To {
			return settingsErr(f+".to", "a window cannot end when it starts (use always)")
		}
	}
	return nil
}

func validContactID(id string) bool {
	if id == "" || len(id) > 32 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// SortEndpoints puts the endpoints in the order of EndpointChannels, the
// order every backend returns them in.
func (s *NotifySettings) SortEndpoints() {
	rank := func(ch string) int {
		for i, c := range EndpointChannels {
			if c == ch {
				return i
			}
		}
		return len(EndpointChannels)
	}
	sort.SliceStable(s.Endpoints, func(i, j int) bool { return rank(s.Endpoints[i].Channel) < rank(s.Endpoints[j].Channel) })
}

// EffectiveUnclaimedAfter is UnclaimedAfter or its default.
func (s NotifySettings) EffectiveUnclaimedAfter() time.Duration {
	if s.UnclaimedAfter > 0 {
		return s.UnclaimedAfter
	}
	return DefaultUnclaimedAfter
}

// Contact returns the contact with the id.
func (s NotifySettings) Contact(id string) (NotifyContact, bool) {
	for _, c := range s.Contacts {
		if c.ID == id {
			return c, true
		}
	}
	return NotifyContact{}, false
}

// Endpoint returns the unit's endpoint of a channel.
func (s NotifySettings) Endpoint(channel string) (NotifyEndpoint, bool) {
	for _, e := range s.Endpoints {
		if e.Channel == channel {
			return e, true
		}
	}
	return NotifyEndpoint{}, false
}

// InWindows reports whether t falls in one of the windows (in DutyZone).
func InWindows(ws []DutyWindow, t time.Time) bool {
	t = t.In(DutyZone)
	day := isoDay(t.Weekday())
	prev := day - 1
	if prev == 0 {
		prev = 7
	}
	minute := t.Hour()*60 + t.Minute()
	for _, w := range ws {
		if w.From < w.To {
			if onDay(w.Days, day) && minute >= w.From && minute < w.To {
				return true
			}
			continue
		}
		// Spans midnight: the evening of a listed day, or the morning after.
		if onDay(w.Days, day) && minute >= w.From || onDay(w.Days, prev) && minute < w.To {
			return true
		}
	}
	return false
}

// OnDuty reports whether the contact is on duty at t.
func (c NotifyContact) OnDuty(t time.Time) bool {
	return c.Always || InWindows(c.Duty, t)
}

func isoDay(d time.Weekday) int {
	if d == time.Sunday {
		return 7
	}
	return int(d)
}

func onDay(days []int, d int) bool {
	if len(days) == 0 {
		return true
	}
	for _, x := range days {
		if x == d {
			return true
		}
	}
	return false
}

// InWorkHours reports whether t is in the policy's working hours.
func (p NotifyPolicy) InWorkHours(t time.Time) bool {
	ws := p.WorkHours
	if len(ws) == 0 {
		ws = DefaultWorkHours
	}
	return InWindows(ws, t)
}

// NextDigest returns the first digest time strictly after t.
func (p NotifyPolicy) NextDigest(t time.Time) time.Time {
	at := p.DigestAt
	if len(at) == 0 {
		at = DefaultDigestAt
	}
	local := t.In(DutyZone)
	midnight := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, DutyZone)
	for day := 0; day < 2; day++ {
		base := midnight.AddDate(0, 0, day)
		for _, m := range at {
			if c := base.Add(time.Duration(m) * time.Minute); c.After(t) {
				return c.UTC()
			}
		}
	}
	return midnight.AddDate(0, 0, 2).UTC() // not reached: some time of tomorrow is after t
}

// NotifySettingsStore holds the units' notification settings.
type NotifySettingsStore interface {
	// GetNotifySettings returns a unit's own settings. ErrNotFound: the
	// unit has none (or does not exist).
	GetNotifySettings(ctx context.Context, unitID string) (NotifySettings, error)
	// PutNotifySettings replaces a unit's settings when s.Version is the
	// stored one (0: the unit has none yet), and returns them as stored,
	// with the next Version and UnitPath set. ErrConflict: a stale
	// Version. ErrNotFound: no such unit. ErrInvalid (a *SettingsError):
	// s.Check fails.
	PutNotifySettings(ctx context.Context, s NotifySettings) (NotifySettings, error)
	// ListNotifySettings returns the settings of every unit in the subtree
	// under path ("" for all), ordered by unit path.
	ListNotifySettings(ctx context.Context, path string) ([]NotifySettings, error)
}
