package api

import (
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2"

	"xinling/assess"
	"xinling/store"
)

// The warm hand-off's routes: a respondent's call-back request, booking a
// consultation slot, the resident's own list under "my tests", and the
// staff's slots, bookings and call-back outcomes. Roles and scope are
// decided in assess; phone numbers travel only in bodies, never in a URL.

func init() {
	statusOf[assess.CodeCallbackLimit] = http.StatusConflict
	statusOf[assess.CodeSessionOpen] = http.StatusConflict
	statusOf[assess.CodeSlotUnavailable] = http.StatusConflict
	statusOf[assess.CodeBookingLimit] = http.StatusConflict
}

type handoffAPI struct {
	handoff *assess.Handoff
	queue   *assess.Queue
	ident   identityAPI
}

// registerHandoff adds the routes. The two that take a phone number from
// the public are also limited per address (cfg.RateHandoff a minute).
func registerHandoff(v1 fiber.Router, auth fiber.Handler, cfg Config, h handoffAPI) {
	perIP := rateLimit(cfg.RateHandoff, func(c *fiber.Ctx) string { return c.IP() })
	v1.Post("/sessions/:id/callback", perIP, h.requestCallback)
	v1.Get("/booking/units", h.bookableUnits)
	v1.Get("/booking/units/:id/slots", h.openSlots)
	v1.Post("/booking/slots/:id/book", perIP, h.book)
	v1.Get("/me/handoffs", h.ident.requireRespondent, h.mine)
	v1.Post("/me/bookings/:id/cancel", h.ident.requireRespondent, h.cancelMine)
	if auth == nil {
		return
	}
	v1.Get("/slots", auth, h.slots)
	v1.Post("/slots", auth, h.publishSlot)
	v1.Post("/slots/:id/close", auth, h.closeSlot)
	v1.Get("/bookings", auth, h.bookings)
	v1.Post("/bookings/:id/outcome", auth, h.bookingOutcome)
	v1.Post("/bookings/:id/link", auth, h.linkBooking)
	v1.Post("/callbacks/:id/state", auth, h.callbackState)
}

type callbackRequest struct {
	Phone          string    `json:"phone" validate:"required,max=32"`
	Note           string    `json:"note" validate:"max=200"`
	PreferredFrom  time.Time `json:"preferred_from" validate:"required"`
	PreferredTo    time.Time `json:"preferred_to" validate:"required"`
	Consent        bool      `json:"consent"`
	ConsentVersion string    `json:"consent_version" validate:"required,max=16"`
}

func (h handoffAPI) requestCallback(c *fiber.Ctx) error {
	var req callbackRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	v, err := h.handoff.RequestCallback(c.UserContext(), c.Params("id"), bearer(c), assess.CallbackRequest{Phone: req.Phone, Note: req.Note,
		PreferredFrom: req.PreferredFrom, PreferredTo: req.PreferredTo, Consent: req.Consent, ConsentVersion: req.ConsentVersion})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"callback": v})
}

func (h handoffAPI) bookableUnits(c *fiber.Ctx) error {
	areas, units, err := h.handoff.BookableUnits(c.UserContext(), c.Query("area"))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"areas": areas, "units": units})
}

func (h handoffAPI) openSlots(c *fiber.Ctx) error {
	u, slots, err := h.handoff.OpenSlots(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"unit": fiber.Map{"id": u.ID, "name": u.Name, "kind": u.Kind}, "slots": slots})
}

type bookRequest struct {
	Phone          string `json:"phone" validate:"required,max=32"`
	Consent        bool   `json:"consent"`
	ConsentVersion string `json:"consent_version" validate:"required,max=16"`
	// SessionID ties the booking to the result it was made from; the
	// request must then carry that session's token.
	SessionID string `json:"session_id" validate:"omitempty,max=64"`
}

func (h handoffAPI) book(c *fiber.Ctx) error {
	var req bookRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	v, err := h.handoff.Book(c.UserContext(), assess.BookRequest{SlotID: c.Params("id"), Phone: req.Phone, Consent: req.Consent,
		ConsentVersion: req.ConsentVersion, SessionID: req.SessionID, SessionToken: bearer(c), PersonID: h.ident.respondentOf(c)})
	if err != nil {
		return err
	}
	if v.Existing {
		return c.JSON(fiber.Map{"booking": v})
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"booking": v})
}

func (h handoffAPI) mine(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	callbacks, bookings, err := h.handoff.Mine(c.UserContext(), c.Locals(respondentKey).(string))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"callbacks": callbacks, "bookings": bookings})
}

func (h handoffAPI) cancelMine(c *fiber.Ctx) error {
	v, err := h.handoff.CancelMine(c.UserContext(), c.Locals(respondentKey).(string), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"booking": v})
}

// Staff.

type slotView struct {
	ID        string    `json:"id"`
	UnitID    string    `json:"unit_id"`
	StartsAt  time.Time `json:"starts_at"`
	EndsAt    time.Time `json:"ends_at"`
	Capacity  int       `json:"capacity"`
	Booked    int       `json:"booked"`
	Location  string    `json:"location"`
	Closed    bool      `json:"closed"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

func viewOfSlot(s store.Slot) slotView {
	return slotView{ID: s.ID, UnitID: s.UnitID, StartsAt: s.StartsAt, EndsAt: s.EndsAt, Capacity: s.Capacity, Booked: s.Booked,
		Location: s.Location, Closed: s.Closed, CreatedBy: s.CreatedBy, CreatedAt: s.CreatedAt}
}

// timeQuery reads an optional RFC 3339 time from the query string.
func timeQuery(c *fiber.Ctx, name string) (time.Time, error) {
	v := c.Query(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return t, &assess.Error{Code: assess.CodeValidation, Field: name, Message: name + " is a time such as 2026-11-22T09:00:00+08:00"}
	}
	return t, nil
}

func timeRange(c *fiber.Ctx) (from, to time.Time, err error) {
	if from, err = timeQuery(c, "from"); err != nil {
		return
	}
	to, err = timeQuery(c, "to")
	return
}

func (h handoffAPI) slots(c *fiber.Ctx) error {
	from, to, err := timeRange(c)
	if err != nil {
		return err
	}
	list, next, err := h.handoff.Slots(c.UserContext(), principalOf(c), assess.SlotQuery{UnitID: c.Query("unit"), From: from, To: to}, page(c))
	if err != nil {
		return err
	}
	views := make([]slotView, len(list))
	for i, s := range list {
		views[i] = viewOfSlot(s)
	}
	return c.JSON(fiber.Map{"slots": views, "next": next})
}

type slotRequest struct {
	UnitID   string    `json:"unit_id" validate:"required,max=64"`
	StartsAt time.Time `json:"starts_at" validate:"required"`
	EndsAt   time.Time `json:"ends_at" validate:"required"`
	Capacity int       `json:"capacity" validate:"gte=1,lte=200"`
	Location string    `json:"location" validate:"max=200"`
}

func (h handoffAPI) publishSlot(c *fiber.Ctx) error {
	var req slotRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	s, err := h.handoff.PublishSlot(c.UserContext(), principalOf(c), assess.NewSlot{UnitID: req.UnitID, StartsAt: req.StartsAt, EndsAt: req.EndsAt,
		Capacity: req.Capacity, Location: req.Location}, c.IP())
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"slot": viewOfSlot(s)})
}

func (h handoffAPI) closeSlot(c *fiber.Ctx) error {
	s, err := h.handoff.CloseSlot(c.UserContext(), principalOf(c), c.Params("id"), c.IP())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"slot": viewOfSlot(s)})
}

var bookingStates = []store.BookingState{store.BookingBooked, store.BookingKept, store.BookingNoShow, store.BookingCancelled}

func (h handoffAPI) bookings(c *fiber.Ctx) error {
	from, to, err := timeRange(c)
	if err != nil {
		return err
	}
	q := assess.BookingQuery{UnitID: c.Query("unit"), From: from, To: to}
	for _, st := range splitList(c.Query("state")) {
		s := store.BookingState(st)
		if !contains(bookingStates, s) {
			return &assess.Error{Code: assess.CodeValidation, Field: "state", Message: "state is booked, kept, no_show or cancelled (or a list: kept,no_show)"}
		}
		q.States = append(q.States, s)
	}
	list, next, err := h.handoff.Bookings(c.UserContext(), principalOf(c), q, page(c), c.IP())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"bookings": list, "next": next})
}

func contains[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

type bookingOutcomeRequest struct {
	State string `json:"state" validate:"required,oneof=kept no_show cancelled"`
}

func (h handoffAPI) bookingOutcome(c *fiber.Ctx) error {
	var req bookingOutcomeRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	b, err := h.handoff.SetBookingOutcome(c.UserContext(), principalOf(c), c.Params("id"), store.BookingState(req.State), c.IP())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"booking": b})
}

type linkBookingRequest struct {
	PersonID string `json:"person_id" validate:"required_without=CaseID,max=64"`
	CaseID   string `json:"case_id" validate:"omitempty,max=64"`
}

func (h handoffAPI) linkBooking(c *fiber.Ctx) error {
	var req linkBookingRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	b, err := h.handoff.LinkBooking(c.UserContext(), principalOf(c), c.Params("id"), req.PersonID, req.CaseID, c.IP())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"booking": b})
}

type callbackStateRequest struct {
	State string `json:"state" validate:"required,oneof=called unreachable done"`
}

func (h handoffAPI) callbackState(c *fiber.Ctx) error {
	var req callbackStateRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	v, err := h.queue.SetCallbackState(c.UserContext(), principalOf(c), c.Params("id"), store.CallbackState(req.State), c.IP())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"callback": v})
}
