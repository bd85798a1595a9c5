package api

import (
	"fmt"
	"net/url"
	"time"

	"github.com/gofiber/fiber/v2"

	"xinling/assess"
	"xinling/store"
)

// notifyAPI serves the notification settings, the dead-letter list and
// test sends to administrators, and an entry's notifications to the staff
// who work it (issue 16).
type notifyAPI struct {
	notes *assess.Notifications
}

func registerNotifications(v1 fiber.Router, auth fiber.Handler, n notifyAPI) {
	v1.Get("/units/:id/notify-settings", auth, n.settings)
	v1.Put("/units/:id/notify-settings", auth, n.putSettings)
	v1.Post("/units/:id/notify-settings/test", auth, n.test)
	v1.Get("/notifications/dead", auth, n.dead)
	v1.Post("/notifications/:id/retry", auth, n.retry)
	v1.Get("/warnings/:id/notifications", auth, n.ofWarning)
}

// A time of day is "HH:MM" on the wire (24:00 ends a day) and minutes
// after midnight in the store.
func clockText(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

func clockMinutes(s, field string, end bool) (int, error) {
	var h, m int
	if len(s) != 5 || s[2] != ':' {
		return 0, &assess.Error{Code: assess.CodeValidation, Field: field, Message: fmt.Sprintf("%q is not a time such as 08:30", s)}
	}
	if _, err := fmt.Sscanf(s, "%02d:%02d", &h, &m); err != nil || m > 59 || h > 24 || (h == 24 && (m != 0 || !end)) {
		return 0, &assess.Error{Code: assess.CodeValidation, Field: field, Message: fmt.Sprintf("%q is not a time such as 08:30", s)}
	}
	return h*60 + m, nil
}

type dutyWindowJSON struct {
	Days []int  `json:"days" validate:"max=7,dive,min=1,max=7"`
	From string `json:"from" validate:"required"`
	To   string `json:"to" validate:"required"`
}

func windowsIn(ws []dutyWindowJSON, field string) ([]store.DutyWindow, error) {
	var out []store.DutyWindow
	for i, w := range ws {
		f := fmt.Sprintf("%s[%d]", field, i)
		from, err := clockMinutes(w.From, f+".from", false)
		if err != nil {
			return nil, err
		}
		to, err := clockMinutes(w.To, f+".to", true)
		if err != nil {
			return nil, err
		}
		out = append(out, store.DutyWindow{Days: w.Days, From: from, To: to})
	}
	return out, nil
}

func windowsOut(ws []store.DutyWindow) []dutyWindowJSON {
	out := []dutyWindowJSON{}
	for _, w := range ws {
		days := w.Days
		if days == nil {
			days = []int{}
		}
		out = append(out, dutyWindowJSON{Days: days, From: clockText(w.From), To: clockText(w.To)})
	}
	return out
}

type policyJSON struct {
	Levels23  string           `json:"levels23" validate:"omitempty,oneof=immediate digest"`
	WorkHours []dutyWindowJSON `json:"work_hours" validate:"max=16,dive"`
	DigestAt  []string         `json:"digest_at" validate:"max=8"`
}

type endpointIn struct {
	Channel string  `json:"channel" validate:"required,oneof=wecom dingtalk webhook"`
	Address *string `json:"address" validate:"omitempty,max=1024"`
	Secret  *string `json:"secret" validate:"omitempty,max=256"`
}

type contactIn struct {
	ID      string           `json:"id" validate:"required,max=32"`
	Name    string           `json:"name" validate:"required,max=64"`
	Channel string           `json:"channel" validate:"required,oneof=wecom dingtalk webhook sms email"`
	Address *string          `json:"address" validate:"omitempty,max=256"`
	Locale  string           `json:"locale" validate:"omitempty,oneof=zh-CN en"`
	Always  bool             `json:"always"`
	Duty    []dutyWindowJSON `json:"duty" validate:"max=16,dive"`
}

type settingsIn struct {
	Version        int64        `json:"version" validate:"min=0"`
	Endpoints      []endpointIn `json:"endpoints" validate:"max=3,dive"`
	Contacts       []contactIn  `json:"contacts" validate:"max=50,dive"`
	Policy         policyJSON   `json:"policy"`
	UnclaimedAfter int          `json:"unclaimed_after_minutes" validate:"min=0,max=1440"`
}

func (in settingsIn) toInput() (assess.SettingsInput, error) {
	out := assess.SettingsInput{Version: in.Version, UnclaimedAfter: time.Duration(in.UnclaimedAfter) * time.Minute,
		Policy: store.NotifyPolicy{Levels23: in.Policy.Levels23}}
	var err error
	if out.Policy.WorkHours, err = windowsIn(in.Policy.WorkHours, "policy.work_hours"); err != nil {
		return out, err
	}
	for i, t := range in.Policy.DigestAt {
		m, err := clockMinutes(t, fmt.Sprintf("policy.digest_at[%d]", i), false)
		if err != nil {
			return out, err
		}
		out.Policy.DigestAt = append(out.Policy.DigestAt, m)
	}
	for _, e := range in.Endpoints {
		out.Endpoints = append(out.Endpoints, assess.EndpointInput{Channel: e.Channel, Address: e.Address, Secret: e.Secret})
	}
	for i, c := range in.Contacts {
		duty, err := windowsIn(c.Duty, fmt.Sprintf("contacts[%d].duty", i))
		if err != nil {
			return out, err
		}
		out.Contacts = append(out.Contacts, assess.ContactInput{ID: c.ID, Name: c.Name, Channel: c.Channel, Locale: c.Locale,
			Address: c.Address, Always: c.Always, Duty: duty})
	}
	return out, nil
}

// secretView says whether a value is on file, and never what it is.
type secretView struct {
	Set  bool   `json:"set"`
	Hint string `json:"hint,omitempty"`
}

type endpointOut struct {
	Channel string     `json:"channel"`
	Address secretView `json:"address"`
	Secret  secretView `json:"secret"`
}

type contactOut struct {
	ID      string           `json:"id"`
	Name    string           `json:"name"`
	Channel string           `json:"channel"`
	Address secretView       `json:"address"`
	Locale  string           `json:"locale,omitempty"`
	Always  bool             `json:"always"`
	Duty    []dutyWindowJSON `json:"duty"`
}

type settingsOut struct {
	UnitID         string        `json:"unit_id"`
	Own            bool          `json:"own"`
	InheritedFrom  string        `json:"inherited_from,omitempty"`
	Version        int64         `json:"version"`
	Endpoints      []endpointOut `json:"endpoints"`
	Contacts       []contactOut  `json:"contacts"`
	Policy         policyJSON    `json:"policy"`
	UnclaimedAfter int           `json:"unclaimed_after_minutes"`
	UpdatedBy      string        `json:"updated_by,omitempty"`
	UpdatedAt      *time.Time    `json:"updated_at,omitempty"`
}

func viewOfSettings(v assess.SettingsView) fiber.Map {
	after := v.UnclaimedAfter
	if after == 0 {
		after = store.DefaultUnclaimedAfter
	}
	s := settingsOut{UnitID: v.UnitID, Own: v.Own, InheritedFrom: v.InheritedFrom, Version: v.Version, Endpoints: []endpointOut{},
		Contacts: []contactOut{}, UnclaimedAfter: int(after / time.Minute), UpdatedBy: v.UpdatedBy,
		Policy: policyJSON{Levels23: v.Policy.Levels23, WorkHours: windowsOut(v.Policy.WorkHours), DigestAt: []string{}}}
	if s.Policy.Levels23 == "" {
		s.Policy.Levels23 = store.PolicyImmediate
	}
	if len(v.Policy.WorkHours) == 0 {
		s.Policy.WorkHours = windowsOut(store.DefaultWorkHours)
	}
	digest := v.Policy.DigestAt
	if len(digest) == 0 {
		digest = store.DefaultDigestAt
	}
	for _, m := range digest {
		s.Policy.DigestAt = append(s.Policy.DigestAt, clockText(m))
	}
	if !v.UpdatedAt.IsZero() {
		t := v.UpdatedAt
		s.UpdatedAt = &t
	}
	for _, e := range v.Endpoints {
		s.Endpoints = append(s.Endpoints, endpointOut{Channel: e.Channel, Address: secretView{Set: e.AddressSet, Hint: e.Hint},
			Secret: secretView{Set: e.SecretSet}})
	}
	for _, c := range v.Contacts {
		s.Contacts = append(s.Contacts, contactOut{ID: c.ID, Name: c.Name, Channel: c.Channel, Locale: c.Locale, Always: c.Always,
			Duty: windowsOut(c.Duty), Address: secretView{Set: c.AddressSet, Hint: c.AddressHint}})
	}
	return fiber.Map{"settings": s, "channels": v.Channels}
}

func (n notifyAPI) settings(c *fiber.Ctx) error {
	v, err := n.notes.Settings(c.UserContext(), principalOf(c), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(viewOfSettings(v))
}

func (n notifyAPI) putSettings(c *fiber.Ctx) error {
	var req settingsIn
	if err := decode(c, &req); err != nil {
		return err
	}
	in, err := req.toInput()
	if err != nil {
		return err
	}
	v, err := n.notes.PutSettings(c.UserContext(), principalOf(c), c.Params("id"), in, c.IP())
	if err != nil {
		return err
	}
	return c.JSON(viewOfSettings(v))
}

type notifyTestRequest struct {
	ContactID string `json:"contact_id" validate:"required,max=32"`
}

func (n notifyAPI) test(c *fiber.Ctx) error {
	var req notifyTestRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if err := n.notes.SendTest(c.UserContext(), principalOf(c), c.Params("id"), req.ContactID, c.IP()); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"ok": true})
}

type notificationView struct {
	ID          string     `json:"id"`
	Kind        string     `json:"kind"`
	WarningID   string     `json:"warning_id,omitempty"`
	UnitID      string     `json:"unit_id"`
	Level       int        `json:"level,omitempty"`
	ParentID    string     `json:"parent_id,omitempty"`
	ContactID   string     `json:"contact_id,omitempty"`
	ContactName string     `json:"contact_name,omitempty"`
	Channel     string     `json:"channel,omitempty"`
	State       string     `json:"state"`
	Attempts    int        `json:"attempts"`
	NotBefore   time.Time  `json:"not_before"`
	LastError   string     `json:"last_error,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	SentAt      *time.Time `json:"sent_at,omitempty"`
}

func viewOfNotification(n store.Notification, contactName string) notificationView {
	v := notificationView{ID: n.ID, Kind: n.Kind, WarningID: n.WarningID, UnitID: n.UnitID, Level: n.Level, ParentID: n.ParentID,
		ContactID: n.ContactID, ContactName: contactName, Channel: n.Channel, State: string(n.State), Attempts: n.Attempts,
		NotBefore: n.NotBefore, LastError: n.LastError, CreatedAt: n.CreatedAt, UpdatedAt: n.UpdatedAt}
	if !n.SentAt.IsZero() {
		t := n.SentAt
		v.SentAt = &t
	}
	return v
}

func (n notifyAPI) dead(c *fiber.Ctx) error {
	list, next, err := n.notes.DeadLetters(c.UserContext(), principalOf(c), page(c))
	if err != nil {
		return err
	}
	views := make([]notificationView, len(list))
	for i, d := range list {
		views[i] = viewOfNotification(d.Notification, d.ContactName)
	}
	return c.JSON(fiber.Map{"notifications": views, "next": next})
}

// notificationID is the id in the path, which holds ':' (warning:<id>:
// level1:<contact>:<channel>) that a client may have escaped.
func notificationID(c *fiber.Ctx) string {
	id := c.Params("id")
	if u, err := url.PathUnescape(id); err == nil {
		return u
	}
	return id
}

func (n notifyAPI) retry(c *fiber.Ctx) error {
	got, err := n.notes.Retry(c.UserContext(), principalOf(c), notificationID(c), c.IP())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"notification": viewOfNotification(got, "")})
}

func (n notifyAPI) ofWarning(c *fiber.Ctx) error {
	list, err := n.notes.EntryNotifications(c.UserContext(), principalOf(c), c.Params("id"))
	if err != nil {
		return err
	}
	views := make([]notificationView, len(list))
	for i, d := range list {
		views[i] = viewOfNotification(d, "")
	}
	return c.JSON(fiber.Map{"notifications": views})
}
