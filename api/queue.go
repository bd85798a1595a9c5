package api

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"xinling/assess"
	"xinling/engine"
	"xinling/store"
)

// queueAPI serves the warning queue to counsellors' consoles.
type queueAPI struct {
	queue *assess.Queue
	hub   *assess.Hub
}

func registerQueue(v1 fiber.Router, auth fiber.Handler, q queueAPI) {
	v1.Get("/warnings", auth, q.list)
	// The stream is registered before /warnings/:id so "stream" is not an id.
	v1.Get("/warnings/stream", auth, q.stream)
	v1.Get("/warnings/:id", auth, q.detail)
	v1.Post("/warnings/:id/claim", auth, q.claim)
	v1.Post("/warnings/:id/release", auth, q.release)
	v1.Post("/warnings/:id/transition", auth, q.transition)
	v1.Post("/warnings/:id/assign", auth, q.assign)
}

type reasonView struct {
	Instrument string `json:"instrument"`
	Rule       string `json:"rule"`
	Level      int    `json:"level"`
	Text       string `json:"text"`
}

type eventView struct {
	At      time.Time `json:"at"`
	ActorID string    `json:"actor_id,omitempty"`
	Kind    string    `json:"kind"`
	From    string    `json:"from,omitempty"`
	To      string    `json:"to,omitempty"`
	Note    string    `json:"note,omitempty"`
	Outcome string    `json:"outcome,omitempty"`
	UnitID  string    `json:"unit_id,omitempty"`
	// Notify is what the notification dispatcher did (the notify_* kinds),
	// for the console to word in the reader's language.
	Notify *notifyEventView `json:"notify,omitempty"`
}

type notifyEventView struct {
	Notification  string     `json:"notification,omitempty"`
	Level         int        `json:"level,omitempty"`
	SettingsUnit  string     `json:"settings_unit,omitempty"`
	Deliveries    int        `json:"deliveries"`
	Channel       string     `json:"channel,omitempty"`
	Contact       string     `json:"contact,omitempty"`
	ContactName   string     `json:"contact_name,omitempty"`
	Attempt       int        `json:"attempt,omitempty"`
	DeferredUntil *time.Time `json:"deferred_until,omitempty"`
	RetryAt       *time.Time `json:"retry_at,omitempty"`
	Reason        string     `json:"reason,omitempty"`
	Error         string     `json:"error,omitempty"`
}

// viewOfEvent shows a history event; a dispatcher's note becomes its
// fields rather than text.
func viewOfEvent(e store.WarningEvent) eventView {
	v := eventView{At: e.At, ActorID: e.ActorID, Kind: e.Kind, From: string(e.From), To: string(e.To), Note: e.Note, Outcome: e.Outcome, UnitID: e.UnitID}
	if !strings.HasPrefix(e.Kind, "notify_") {
		return v
	}
	v.Note = ""
	n, ok := assess.ParseNotifyNote(e.Note)
	if !ok {
		return v // blanked by an erasure
	}
	nv := &notifyEventView{Notification: n.Notification, Level: n.Level, SettingsUnit: n.SettingsUnit, Deliveries: n.Deliveries,
		Channel: n.Channel, Contact: n.Contact, ContactName: n.ContactName, Attempt: n.Attempt, Reason: n.Reason, Error: n.Error}
	if !n.DeferredUntil.IsZero() {
		nv.DeferredUntil = &n.DeferredUntil
	}
	if !n.RetryAt.IsZero() {
		nv.RetryAt = &n.RetryAt
	}
	v.Notify = nv
	return v
}

type warningView struct {
	ID          string       `json:"id"`
	Level       int          `json:"level"`
	State       string       `json:"state"`
	UnitID      string       `json:"unit_id"`
	PersonID    string       `json:"person_id,omitempty"`
	SessionID   string       `json:"session_id"`
	AssigneeID  string       `json:"assignee_id,omitempty"`
	LeaseUntil  *time.Time   `json:"lease_until,omitempty"`
	DueAt       time.Time    `json:"due_at"`
	Overdue     bool         `json:"overdue"`
	Escalations int          `json:"escalations"`
	Outcome     string       `json:"outcome,omitempty"`
	Reasons     []reasonView `json:"reasons"`
	CreatedAt   time.Time    `json:"created_at"`
	UpdatedAt   time.Time    `json:"updated_at"`
	History     []eventView  `json:"history,omitempty"`
	// Callback is set while a call-back request ("回电请求") waits: how
	// many, and the earliest preferred window. The number is only in the
	// entry's detail, whose read is audited.
	Callback *assess.CallbackSummary `json:"callback,omitempty"`
}

func viewOfWarning(w store.Warning, locale string, now time.Time) warningView {
	v := warningView{ID: w.ID, Level: w.Level, State: string(w.State), UnitID: w.UnitID, PersonID: w.PersonID, SessionID: w.SessionID,
		AssigneeID: w.AssigneeID, DueAt: w.DueAt, Escalations: w.Escalations, Outcome: w.Outcome, CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt,
		Overdue: (w.State == store.WarningOpen || w.State == store.WarningClaimed) && now.After(w.DueAt), Reasons: []reasonView{}}
	if !w.LeaseUntil.IsZero() {
		l := w.LeaseUntil
		v.LeaseUntil = &l
	}
	for _, r := range w.Reasons {
		v.Reasons = append(v.Reasons, reasonView{Instrument: r.Instrument, Rule: r.Rule, Level: r.Level, Text: engine.Text(r.Text).Get(locale)})
	}
	for _, e := range w.History {
		v.History = append(v.History, viewOfEvent(e))
	}
	return v
}

func (q queueAPI) list(c *fiber.Ctx) error {
	var f assess.QueueFilter
	for _, l := range splitList(c.Query("level")) {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 3 {
			return &assess.Error{Code: assess.CodeValidation, Field: "level", Message: "level is 1, 2 or 3 (or a list: 1,2)"}
		}
		f.Levels = append(f.Levels, n)
	}
	for _, st := range splitList(c.Query("state")) {
		f.States = append(f.States, store.WarningState(st))
	}
	f.UnitID, f.Overdue = c.Query("unit"), c.QueryBool("overdue")
	list, next, err := q.queue.List(c.UserContext(), principalOf(c), f, page(c))
	if err != nil {
		return err
	}
	now, loc := time.Now(), locale(c)
	callbacks, err := q.queue.CallbackSummaries(c.UserContext(), list)
	if err != nil {
		return err
	}
	views := make([]warningView, len(list))
	for i, w := range list {
		views[i] = viewOfWarning(w, loc, now)
		if s, ok := callbacks[w.ID]; ok {
			views[i].Callback = &s
		}
	}
	return c.JSON(fiber.Map{"warnings": views, "next": next})
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func (q queueAPI) detail(c *fiber.Ctx) error {
	d, err := q.queue.Detail(c.UserContext(), principalOf(c), c.Params("id"), c.IP())
	if err != nil {
		return err
	}
	loc := locale(c)
	results := make([]fiber.Map, len(d.Results))
	for i, r := range d.Results {
		labels, scoreLabels := map[string]string{}, map[string]string{}
		for score, l := range r.BandLabels {
			labels[score] = l.Get(loc)
		}
		for score, l := range r.ScoreLabels {
			scoreLabels[score] = l.Get(loc)
		}
		results[i] = fiber.Map{"id": r.ID, "instrument": r.Instrument, "version": r.Version, "title": r.Title.Get(loc),
			"scores": r.Scores, "score_labels": scoreLabels, "bands": r.Bands, "band_labels": labels, "flags": r.Flags, "created_at": r.CreatedAt}
	}
	answers := make([]fiber.Map, len(d.Answers))
	for i, a := range d.Answers {
		answers[i] = fiber.Map{"item": a.Item, "value": a.Value, "at": a.At, "text": a.Text.Get(loc), "label": a.Label.Get(loc)}
	}
	return c.JSON(fiber.Map{"warning": viewOfWarning(d.Warning, loc, time.Now()), "results": results, "answers": answers, "callbacks": d.Callbacks})
}

func (q queueAPI) claim(c *fiber.Ctx) error {
	w, err := q.queue.Claim(c.UserContext(), principalOf(c), c.Params("id"), c.IP())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"warning": viewOfWarning(w, locale(c), time.Now())})
}

type transitionRequest struct {
	To      string `json:"to" validate:"required,oneof=open claimed following_up closed referred"`
	Note    string `json:"note" validate:"required,max=2000"`
	Outcome string `json:"outcome" validate:"max=64"`
}

func (q queueAPI) transition(c *fiber.Ctx) error {
	var req transitionRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	w, err := q.queue.Transition(c.UserContext(), principalOf(c), c.Params("id"),
		assess.Change{To: store.WarningState(req.To), Note: req.Note, Outcome: req.Outcome}, c.IP())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"warning": viewOfWarning(w, locale(c), time.Now())})
}

type releaseRequest struct {
	Note string `json:"note" validate:"required,max=2000"`
}

// release hands a claimed entry back to the queue: the same as a
// transition to open, named as counsellors say it.
func (q queueAPI) release(c *fiber.Ctx) error {
	var req releaseRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	w, err := q.queue.Transition(c.UserContext(), principalOf(c), c.Params("id"), assess.Change{To: store.WarningOpen, Note: req.Note}, c.IP())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"warning": viewOfWarning(w, locale(c), time.Now())})
}

type assignRequest struct {
	AssigneeID string `json:"assignee_id" validate:"required,max=64"`
	Note       string `json:"note" validate:"required,max=2000"`
}

func (q queueAPI) assign(c *fiber.Ctx) error {
	var req assignRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	w, err := q.queue.Assign(c.UserContext(), principalOf(c), c.Params("id"), req.AssigneeID, req.Note, c.IP())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"warning": viewOfWarning(w, locale(c), time.Now())})
}

// stream sends new and changed entries in the caller's subtree as
// server-sent events, with a comment every 15 s to keep proxies from
// closing an idle connection.
func (q queueAPI) stream(c *fiber.Ctx) error {
	p := principalOf(c)
	if _, _, err := q.queue.List(c.UserContext(), p, assess.QueueFilter{}, store.Page{Limit: 1}); err != nil {
		return err // the same role check as the list
	}
	sub := q.hub.Subscribe(p.UnitPath)
	loc := locale(c)
	c.Set(fiber.HeaderContentType, "text/event-stream")
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set("X-Accel-Buffering", "no")
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		defer sub.Cancel()
		fmt.Fprint(w, ": connected\n\n")
		if w.Flush() != nil {
			return
		}
		beat := time.NewTicker(15 * time.Second)
		defer beat.Stop()
		for {
			select {
			case ev, ok := <-sub.C:
				if !ok {
					return
				}
				if sub.TakeLost() {
					fmt.Fprint(w, "event: resync\ndata: {}\n\n")
				}
				v := viewOfWarning(ev, loc, time.Now())
				if sums, err := q.queue.CallbackSummaries(context.Background(), []store.Warning{ev}); err == nil {
					if s, ok := sums[ev.ID]; ok {
						v.Callback = &s
					}
				}
				data, _ := json.Marshal(v)
				fmt.Fprintf(w, "event: warning\nid: %s\ndata: %s\n\n", ev.ID, data)
			case <-beat.C:
				fmt.Fprint(w, ": keep-alive\n\n")
			}
			if w.Flush() != nil {
				return // the console went away
			}
		}
	})
	return nil
}
