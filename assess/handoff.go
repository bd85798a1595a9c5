package assess

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"xinling/engine"
	"xinling/store"
)

// The warm hand-off (issue 16): a respondent at risk asks a counsellor to
// call them back, or books a consultation slot that a station or centre
// published. Research on crisis lines finds that a number alone is taken up
// by fewer than one in ten of the people at risk, while a call from a
// person is; so the crisis screen and every result that raised a warning
// offer a call-back, and the result page and the catalogue offer booking.
//
// Phone numbers and notes are sealed at rest (store/sealed), never logged
// and never put in a URL. Staff read them in the queue entry (audited as
// read_warning) and in a unit's bookings (audited as list_bookings).

// Error codes of the hand-off.
const (
	// CodeCallbackLimit: the session already holds the most call-back
	// requests it may (store.MaxCallbacksPerSession).
	CodeCallbackLimit = "callback_limit"
	// CodeSessionOpen: a call-back is asked for a session not submitted.
	CodeSessionOpen = "session_open"
	// CodeSlotUnavailable: the slot is full, closed or has begun.
	CodeSlotUnavailable = "slot_unavailable"
	// CodeBookingLimit: the number already holds MaxUpcomingBookings
	// upcoming places.
	CodeBookingLimit = "booking_limit"
)

// MaxUpcomingBookings is how many upcoming places one phone number may
// hold at once, so that one number (or a script) cannot take every place
// a station offers. A resident who needs more calls the station.
const MaxUpcomingBookings = 2

// ConsentVersions are the versions of the consent wording (in the H5's
// locale files, handoff.consent.<version>) a request may be given under.
var ConsentVersions = []string{"v1"}

// MaxHandoffNote bounds a respondent's note, in characters.
const MaxHandoffNote = 200

// How far ahead a resident may book, and the longest preferred window.
const (
	bookingHorizon    = 60 * 24 * time.Hour
	callbackHorizon   = 14 * 24 * time.Hour
	maxSlotLength     = 12 * time.Hour
	maxLocationLength = 200
)

// callbackReason is the reason a call-back request adds to its entry.
var callbackReason = engine.Text{"zh-CN": "请求回电", "en": "Call-back requested"}

// Handoff runs call-back requests, slots and bookings.
type Handoff struct {
	*shared
	sessions *Sessions
	records  *Records
}

var phonePattern = regexp.MustCompile(`^(1[3-9][0-9]{9}|0[1-9][0-9]{1,2}[0-9]{7,8})$`)

// NormalizePhone returns a mainland mobile (11 digits from 13…19) or a
// landline with its area code, without spaces, dashes or +86; ok is false
// for anything else.
func NormalizePhone(s string) (string, bool) {
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '(' || r == ')' {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	s = strings.TrimPrefix(strings.TrimPrefix(s, "+86"), "0086")
	if !phonePattern.MatchString(s) {
		return "", false
	}
	return s, true
}

// MaskPhone shows a number as its owner recognises it without showing it
// whole: 138****8000.
func MaskPhone(s string) string {
	if len(s) < 7 {
		return strings.Repeat("*", len(s))
	}
	return s[:3] + strings.Repeat("*", len(s)-7) + s[len(s)-4:]
}

func checkPhone(s string) (string, error) {
	p, ok := NormalizePhone(s)
	if !ok {
		return "", errorf(CodeValidation, "phone", "phone must be a mobile number (11 digits) or a landline with its area code")
	}
	return p, nil
}

func checkConsent(consent bool, version string) error {
	if !consent {
		return errorf(CodeConsentRequired, "consent", "consent is required before a counsellor may use your number")
	}
	if !slices.Contains(ConsentVersions, version) {
		return errorf(CodeValidation, "consent_version", "consent_version must be one of %v", ConsentVersions)
	}
	return nil
}

// Respondents: call-back requests.

// CallbackRequest is a respondent's "请心理咨询师联系我".
type CallbackRequest struct {
	Phone          string
	Note           string
	PreferredFrom  time.Time
	PreferredTo    time.Time
	Consent        bool
	ConsentVersion string
}

// MyCallback is a call-back request as its respondent sees it.
type MyCallback struct {
	ID            string     `json:"id"`
	State         string     `json:"state"`
	Phone         string     `json:"phone"` // masked
	PreferredFrom time.Time  `json:"preferred_from"`
	PreferredTo   time.Time  `json:"preferred_to"`
	CreatedAt     time.Time  `json:"created_at"`
	CalledAt      *time.Time `json:"called_at,omitempty"`
}

func myCallback(c store.Callback) MyCallback {
	v := MyCallback{ID: c.ID, State: string(c.State), Phone: MaskPhone(unseal(c.Phone)), PreferredFrom: c.PreferredFrom, PreferredTo: c.PreferredTo,
		CreatedAt: c.CreatedAt}
	if !c.CalledAt.IsZero() {
		at := c.CalledAt
		v.CalledAt = &at
	}
	return v
}

// RequestCallback files a call-back request of the session that token
// opens on its queue entry, or on a new level-2 entry "请求回电" when the
// session has none being worked, and tells the consoles at once.
func (h *Handoff) RequestCallback(ctx context.Context, sessionID, token string, in CallbackRequest) (*MyCallback, error) {
	ls, err := h.sessions.authorize(ctx, sessionID, token)
	if err != nil {
		return nil, err
	}
	if err := checkConsent(in.Consent, in.ConsentVersion); err != nil {
		return nil, err
	}
	phone, err := checkPhone(in.Phone)
	if err != nil {
		return nil, err
	}
	note := strings.TrimSpace(in.Note)
	if utf8.RuneCountInString(note) > MaxHandoffNote {
		return nil, errorf(CodeValidation, "note", "the note is at most %d characters", MaxHandoffNote)
	}
	now := h.now()
	switch {
	case !in.PreferredTo.After(in.PreferredFrom):
		return nil, errorf(CodeValidation, "preferred_to", "preferred_to comes after preferred_from")
	case in.PreferredTo.Before(now):
		return nil, errorf(CodeValidation, "preferred_to", "the preferred time has passed")
	case in.PreferredFrom.After(now.Add(callbackHorizon)):
		return nil, errorf(CodeValidation, "preferred_from", "the preferred time is at most 14 days ahead")
	}
	// The deadline is the end of the preferred window, or the level's SLA
	// if that comes first.
	due := now.Add(h.sla[2])
	if in.PreferredTo.Before(due) {
		due = in.PreferredTo
	}
	draft := store.WarningDraft{ID: store.NewID(), Level: 2, DueAt: due,
		Reasons: []store.Reason{{Rule: store.CallbackRule, Level: 2, Text: callbackReason}}}
	c, w, err := h.store.CreateCallback(ctx, store.Callback{ID: store.NewID(), SessionID: ls.sess.ID, Phone: seal(phone), Note: seal(note),
		PreferredFrom: in.PreferredFrom, PreferredTo: in.PreferredTo, Consent: true, ConsentVersion: in.ConsentVersion, CreatedAt: now}, draft)
	switch {
	case errors.Is(err, store.ErrLimit):
		return nil, errorf(CodeCallbackLimit, "", "this test already has %d call-back requests; a counsellor will call you", store.MaxCallbacksPerSession)
	case errors.Is(err, store.ErrInvalid):
		return nil, errorf(CodeSessionOpen, "", "finish the test first; then you can ask to be called back")
	case errors.Is(err, store.ErrSessionClosed):
		return nil, errorf(CodeSessionExpired, "", "this test is no longer kept; please start again")
	case err != nil:
		return nil, err
	}
	h.hub.Publish(w)
	h.kick() // the on-duty staff are owed a notice of it (store.CallbackNotification)
	v := myCallback(c)
	return &v, nil
}

// Respondents: booking.

// BookingArea is an area (the parent of units with open slots).
type BookingArea struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// BookingUnit is a unit that has slots open to booking.
type BookingUnit struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Kind      string    `json:"kind"`
	AreaID    string    `json:"area_id"`
	AreaName  string    `json:"area_name"`
	OpenSlots int       `json:"open_slots"`
	NextAt    time.Time `json:"next_at"`
}

// bookable lists the slots open to booking from now on, under path.
func (h *Handoff) bookable(ctx context.Context, path, unitID string) ([]store.Slot, error) {
	now := h.now()
	return collect(func(pg store.Page) ([]store.Slot, string, error) {
		return h.store.ListSlots(ctx, store.SlotFilter{UnitPath: path, UnitID: unitID, From: now, To: now.Add(bookingHorizon), Bookable: true}, pg)
	})
}

// BookableUnits lists the units with open slots, under area when given,
// with the areas they lie in. Only the names of such units are public.
func (h *Handoff) BookableUnits(ctx context.Context, areaID string) ([]BookingArea, []BookingUnit, error) {
	path := ""
	if areaID != "" {
		u, err := h.store.GetUnit(ctx, areaID)
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil, errorf(CodeNotFound, "area", "no area %q", areaID)
		}
		if err != nil {
			return nil, nil, err
		}
		path = u.Path
	}
	slots, err := h.bookable(ctx, path, "")
	if err != nil {
		return nil, nil, err
	}
	byID := map[string]*BookingUnit{}
	var order []string
	names := map[string]store.Unit{}
	unit := func(id string) (store.Unit, error) {
		if u, ok := names[id]; ok {
			return u, nil
		}
		u, err := h.store.GetUnit(ctx, id)
		if err != nil {
			return u, err
		}
		names[id] = u
		return u, nil
	}
	for _, s := range slots {
		bu := byID[s.UnitID]
		if bu == nil {
			u, err := unit(s.UnitID)
			if err != nil {
				return nil, nil, err
			}
			bu = &BookingUnit{ID: u.ID, Name: u.Name, Kind: u.Kind, AreaID: u.ParentID, NextAt: s.StartsAt}
			if u.ParentID != "" {
				parent, err := unit(u.ParentID)
				if err != nil {
					return nil, nil, err
				}
				bu.AreaName = parent.Name
			}
			byID[s.UnitID] = bu
			order = append(order, s.UnitID)
		}
		bu.OpenSlots++
	}
	units := make([]BookingUnit, 0, len(order))
	areas := []BookingArea{}
	for _, id := range order {
		bu := *byID[id]
		units = append(units, bu)
		if bu.AreaID != "" && !slices.ContainsFunc(areas, func(a BookingArea) bool { return a.ID == bu.AreaID }) {
			areas = append(areas, BookingArea{ID: bu.AreaID, Name: bu.AreaName})
		}
	}
	slices.SortStableFunc(units, func(a, b BookingUnit) int { return strings.Compare(a.AreaName+a.Name, b.AreaName+b.Name) })
	slices.SortFunc(areas, func(a, b BookingArea) int { return strings.Compare(a.Name, b.Name) })
	return areas, units, nil
}

// OpenSlot is a slot as residents see it.
type OpenSlot struct {
	ID       string    `json:"id"`
	StartsAt time.Time `json:"starts_at"`
	EndsAt   time.Time `json:"ends_at"`
	Location string    `json:"location"`
	Free     int       `json:"free"`
}

// OpenSlots lists a unit's slots open to booking.
func (h *Handoff) OpenSlots(ctx context.Context, unitID string) (store.Unit, []OpenSlot, error) {
	u, err := h.store.GetUnit(ctx, unitID)
	if errors.Is(err, store.ErrNotFound) {
		return u, nil, errorf(CodeNotFound, "unit", "no unit %q", unitID)
	}
	if err != nil {
		return u, nil, err
	}
	slots, err := h.bookable(ctx, "", unitID)
	if err != nil {
		return u, nil, err
	}
	out := make([]OpenSlot, 0, len(slots))
	for _, s := range slots {
		out = append(out, OpenSlot{ID: s.ID, StartsAt: s.StartsAt, EndsAt: s.EndsAt, Location: s.Location, Free: s.Free()})
	}
	return u, out, nil
}

// BookRequest is a resident's booking. SessionID and SessionToken, when
// given, tie it to the result it was booked from; PersonID is the
// WeChat-signed-in resident (see Sessions.Respondent).
type BookRequest struct {
	SlotID         string
	Phone          string
	Consent        bool
	ConsentVersion string
	SessionID      string
	SessionToken   string
	PersonID       string
}

// MyBooking is a booking as its resident sees it.
type MyBooking struct {
	ID       string    `json:"id"`
	State    string    `json:"state"`
	UnitID   string    `json:"unit_id"`
	UnitName string    `json:"unit_name"`
	Location string    `json:"location"`
	StartsAt time.Time `json:"starts_at"`
	EndsAt   time.Time `json:"ends_at"`
	Phone    string    `json:"phone"` // masked
	// Cancellable: the resident may still cancel it (booked, not begun).
	Cancellable bool      `json:"cancellable"`
	CreatedAt   time.Time `json:"created_at"`
	// Existing: the number already held this place (a retried request).
	Existing bool `json:"existing,omitempty"`
}

func (h *Handoff) myBooking(ctx context.Context, b store.Booking) (MyBooking, error) {
	v := MyBooking{ID: b.ID, State: string(b.State), UnitID: b.UnitID, StartsAt: b.StartsAt, EndsAt: b.EndsAt, Phone: MaskPhone(unseal(b.Phone)),
		CreatedAt: b.CreatedAt, Cancellable: b.State == store.BookingBooked && b.StartsAt.After(h.now())}
	if u, err := h.store.GetUnit(ctx, b.UnitID); err == nil {
		v.UnitName = u.Name
	} else if !errors.Is(err, store.ErrNotFound) {
		return v, err
	}
	if s, err := h.store.GetSlot(ctx, b.SlotID); err == nil {
		v.Location = s.Location
	} else if !errors.Is(err, store.ErrNotFound) {
		return v, err
	}
	return v, nil
}

// Book takes a place in a slot for a resident.
func (h *Handoff) Book(ctx context.Context, in BookRequest) (*MyBooking, error) {
	if err := checkConsent(in.Consent, in.ConsentVersion); err != nil {
		return nil, err
	}
	phone, err := checkPhone(in.Phone)
	if err != nil {
		return nil, err
	}
	person := in.PersonID
	if in.SessionID != "" {
		ls, err := h.sessions.authorize(ctx, in.SessionID, in.SessionToken)
		if err != nil {
			return nil, err
		}
		ls.mu.Lock()
		if ls.sess.PersonID != "" && ls.sess.CampaignID == "" {
			person = ls.sess.PersonID
		}
		ls.mu.Unlock()
	}
	s, err := h.store.GetSlot(ctx, in.SlotID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errorf(CodeNotFound, "slot_id", "no slot %q", in.SlotID)
	}
	if err != nil {
		return nil, err
	}
	if !s.StartsAt.After(h.now()) {
		return nil, errorf(CodeSlotUnavailable, "slot_id", "this time is no longer available; please choose another")
	}
	index := phoneIndex(h.store, phone)
	held, _, err := h.store.ListBookings(ctx, store.BookingFilter{PhoneIndex: index, States: []store.BookingState{store.BookingBooked},
		From: h.now()}, store.Page{Limit: MaxUpcomingBookings + 1})
	if err != nil {
		return nil, err
	}
	// A retried request (the answer to the first was lost) finds the place
	// it took and gets it back, rather than a second place in the same slot.
	// The check and the booking are two steps: two requests racing with one
	// number can still take two places, which the per-address rate limit
	// keeps rare and the station sees in its list.
	for _, b := range held {
		if b.SlotID == s.ID {
			v, err := h.myBooking(ctx, b)
			v.Existing = true
			return &v, err
		}
	}
	if len(held) >= MaxUpcomingBookings {
		return nil, errorf(CodeBookingLimit, "phone", "this number already holds %d upcoming consultations; cancel one, or call the station", MaxUpcomingBookings)
	}
	unavailable := errorf(CodeSlotUnavailable, "slot_id", "this time is no longer available; please choose another")
	if s.Free() == 0 {
		return nil, unavailable
	}
	b, err := h.store.BookSlot(ctx, store.Booking{ID: store.NewID(), SlotID: s.ID, Phone: seal(phone), PhoneIndex: index, PersonID: person,
		SessionID: in.SessionID, CreatedAt: h.now()})
	if errors.Is(err, store.ErrLimit) {
		return nil, unavailable
	}
	if err != nil {
		return nil, err
	}
	v, err := h.myBooking(ctx, b)
	return &v, err
}

// Mine lists a signed-in resident's call-back requests and bookings,
// newest first.
func (h *Handoff) Mine(ctx context.Context, personID string) ([]MyCallback, []MyBooking, error) {
	cs, err := collect(func(pg store.Page) ([]store.Callback, string, error) {
		return h.store.ListCallbacks(ctx, store.CallbackFilter{PersonID: personID}, pg)
	})
	if err != nil {
		return nil, nil, err
	}
	bs, err := collect(func(pg store.Page) ([]store.Booking, string, error) {
		return h.store.ListBookings(ctx, store.BookingFilter{PersonID: personID}, pg)
	})
	if err != nil {
		return nil, nil, err
	}
	callbacks := make([]MyCallback, 0, len(cs))
	for i := len(cs) - 1; i >= 0; i-- {
		callbacks = append(callbacks, myCallback(cs[i]))
	}
	bookings := make([]MyBooking, 0, len(bs))
	for i := len(bs) - 1; i >= 0; i-- {
		v, err := h.myBooking(ctx, bs[i])
		if err != nil {
			return nil, nil, err
		}
		bookings = append(bookings, v)
	}
	return callbacks, bookings, nil
}

// CancelMine cancels a signed-in resident's own booking before it begins;
// the place goes back to the slot.
func (h *Handoff) CancelMine(ctx context.Context, personID, bookingID string) (*MyBooking, error) {
	b, err := h.store.GetBooking(ctx, bookingID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && b.PersonID != personID) {
		return nil, errorf(CodeNotFound, "", "no booking %q of yours", bookingID)
	}
	if err != nil {
		return nil, err
	}
	if b.State != store.BookingBooked || !b.StartsAt.After(h.now()) {
		return nil, errorf(CodeConflict, "state", "this booking can no longer be cancelled here; please call the unit")
	}
	b, err = h.store.SetBookingState(ctx, b.ID, store.BookingChange{To: store.BookingCancelled, At: h.now()})
	if errors.Is(err, store.ErrInvalidTransition) {
		return nil, errorf(CodeConflict, "state", "this booking can no longer be cancelled here; please call the unit")
	}
	if err != nil {
		return nil, err
	}
	v, err := h.myBooking(ctx, b)
	return &v, err
}

// Staff: call-back requests, read with their queue entry.

// CallbackRecord is a call-back request as staff read it.
type CallbackRecord struct {
	ID             string     `json:"id"`
	WarningID      string     `json:"warning_id"`
	SessionID      string     `json:"session_id"`
	Seq            int        `json:"seq"`
	Phone          string     `json:"phone"`
	Note           string     `json:"note"`
	PreferredFrom  time.Time  `json:"preferred_from"`
	PreferredTo    time.Time  `json:"preferred_to"`
	ConsentVersion string     `json:"consent_version"`
	State          string     `json:"state"`
	CalledAt       *time.Time `json:"called_at,omitempty"`
	ActorID        string     `json:"actor_id,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
}

// NewCallbackRecord is the staff view of a stored request.
func NewCallbackRecord(c store.Callback) CallbackRecord {
	v := CallbackRecord{ID: c.ID, WarningID: c.WarningID, SessionID: c.SessionID, Seq: c.Seq, Phone: unseal(c.Phone), Note: unseal(c.Note),
		PreferredFrom: c.PreferredFrom, PreferredTo: c.PreferredTo, ConsentVersion: c.ConsentVersion, State: string(c.State), ActorID: c.ActorID,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
	if !c.CalledAt.IsZero() {
		at := c.CalledAt
		v.CalledAt = &at
	}
	return v
}

// CallbackSummary is what a queue list shows of an entry's open call-back
// requests: no number, only that one waits and when to call.
type CallbackSummary struct {
	Open          int       `json:"open"`
	PreferredFrom time.Time `json:"preferred_from"`
	PreferredTo   time.Time `json:"preferred_to"`
}

// openCallbackStates are the states of a request still waiting for a call.
var openCallbackStates = []store.CallbackState{store.CallbackRequested, store.CallbackUnreachable}

// CallbackSummaries returns, for the entries that have any, a summary of
// their open requests (the earliest preferred window). The entries must
// be ones the caller listed through Queue.List.
func (q *Queue) CallbackSummaries(ctx context.Context, warnings []store.Warning) (map[string]CallbackSummary, error) {
	out := map[string]CallbackSummary{}
	var ids []string
	for _, w := range warnings {
		if slices.ContainsFunc(w.Reasons, func(r store.Reason) bool { return r.Rule == store.CallbackRule }) {
			ids = append(ids, w.ID)
		}
	}
	if len(ids) == 0 {
		return out, nil
	}
	cs, err := collect(func(pg store.Page) ([]store.Callback, string, error) {
		return q.store.ListCallbacks(ctx, store.CallbackFilter{WarningIDs: ids, States: openCallbackStates}, pg)
	})
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		s := out[c.WarningID]
		if s.Open == 0 || c.PreferredFrom.Before(s.PreferredFrom) {
			s.PreferredFrom, s.PreferredTo = c.PreferredFrom, c.PreferredTo
		}
		s.Open++
		out[c.WarningID] = s
	}
	return out, nil
}

// SetCallbackState records what came of a call: called (the person was
// reached; the monthly table counts it), unreachable (try again) or done.
// Staff who may work the request's entry may mark it.
func (q *Queue) SetCallbackState(ctx context.Context, p *Principal, id string, to store.CallbackState, ip string) (CallbackRecord, error) {
	c, err := q.store.GetCallback(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && c.WarningID == "") {
		return CallbackRecord{}, errorf(CodeNotFound, "", "no call-back request %q", id)
	}
	if err != nil {
		return CallbackRecord{}, err
	}
	w, err := q.load(ctx, p, c.WarningID)
	if err != nil {
		if isCode(err, CodeNotFound) {
			return CallbackRecord{}, errorf(CodeNotFound, "", "no call-back request %q", id)
		}
		return CallbackRecord{}, err
	}
	c, err = q.store.SetCallbackState(ctx, id, store.CallbackChange{To: to, ActorID: p.StaffID, At: q.now()})
	if errors.Is(err, store.ErrInvalidTransition) {
		return CallbackRecord{}, errorf(CodeConflict, "state", "%s", err.Error())
	}
	if err != nil {
		return CallbackRecord{}, err
	}
	q.auditAction(ctx, warningAudit(p, "callback_"+string(to), w, ip, "callback "+c.ID))
	return NewCallbackRecord(c), nil
}

// Staff: slots and bookings.

// NewSlot is a consultation time to publish.
type NewSlot struct {
	UnitID   string
	StartsAt time.Time
	EndsAt   time.Time
	Capacity int
	Location string
}

// PublishSlot publishes a slot of a unit in the principal's subtree.
func (h *Handoff) PublishSlot(ctx context.Context, p *Principal, in NewSlot, ip string) (store.Slot, error) {
	if err := canWork(p); err != nil {
		return store.Slot{}, err
	}
	u, err := unitIn(ctx, h.store, p, in.UnitID, "unit_id")
	if err != nil {
		return store.Slot{}, err
	}
	now := h.now()
	location := strings.TrimSpace(in.Location)
	switch {
	case !in.StartsAt.After(now):
		return store.Slot{}, errorf(CodeValidation, "starts_at", "a slot starts in the future")
	case !in.EndsAt.After(in.StartsAt) || in.EndsAt.Sub(in.StartsAt) > maxSlotLength:
		return store.Slot{}, errorf(CodeValidation, "ends_at", "a slot ends after it starts, within 12 hours")
	case in.Capacity < 1 || in.Capacity > store.MaxSlotCapacity:
		return store.Slot{}, errorf(CodeValidation, "capacity", "capacity is 1 to %d", store.MaxSlotCapacity)
	case utf8.RuneCountInString(location) > maxLocationLength:
		return store.Slot{}, errorf(CodeValidation, "location", "the location is at most %d characters", maxLocationLength)
	}
	s, err := h.store.CreateSlot(ctx, store.Slot{ID: store.NewID(), UnitID: u.ID, StartsAt: in.StartsAt, EndsAt: in.EndsAt, Capacity: in.Capacity,
		Location: location, CreatedBy: p.StaffID, CreatedAt: now})
	if err != nil {
		return s, err
	}
	h.auditAction(ctx, auditBy(p, "slot_publish", "slot", s.ID, s.UnitPath, ip, ""))
	return s, nil
}

// SlotQuery selects a subtree's slots.
type SlotQuery struct {
	UnitID   string
	From, To time.Time
}

// scopePath is the subtree a staff query covers: a unit in scope, or the
// principal's own.
func (h *Handoff) scopePath(ctx context.Context, p *Principal, unitID, field string) (string, error) {
	if unitID == "" {
		return p.UnitPath, nil
	}
	u, err := unitIn(ctx, h.store, p, unitID, field)
	return u.Path, err
}

// Slots lists the slots of a subtree, by start.
func (h *Handoff) Slots(ctx context.Context, p *Principal, q SlotQuery, pg store.Page) ([]store.Slot, string, error) {
	if err := canWork(p); err != nil {
		return nil, "", err
	}
	path, err := h.scopePath(ctx, p, q.UnitID, "unit")
	if err != nil {
		return nil, "", err
	}
	return h.store.ListSlots(ctx, store.SlotFilter{UnitPath: path, From: q.From, To: q.To}, pg)
}

// CloseSlot stops a slot taking bookings; those it has stay.
func (h *Handoff) CloseSlot(ctx context.Context, p *Principal, id, ip string) (store.Slot, error) {
	if err := canWork(p); err != nil {
		return store.Slot{}, err
	}
	s, err := h.store.GetSlot(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !p.InScope(s.UnitPath)) {
		return store.Slot{}, errorf(CodeNotFound, "", "no slot %q", id)
	}
	if err != nil {
		return s, err
	}
	s, err = h.store.CloseSlot(ctx, id, h.now())
	if err != nil {
		return s, err
	}
	h.auditAction(ctx, auditBy(p, "slot_close", "slot", s.ID, s.UnitPath, ip, ""))
	return s, nil
}

// BookingRecord is a booking as staff read it, with the phone number.
type BookingRecord struct {
	ID        string    `json:"id"`
	SlotID    string    `json:"slot_id"`
	UnitID    string    `json:"unit_id"`
	StartsAt  time.Time `json:"starts_at"`
	EndsAt    time.Time `json:"ends_at"`
	Phone     string    `json:"phone"`
	PersonID  string    `json:"person_id,omitempty"`
	SessionID string    `json:"session_id,omitempty"`
	CaseID    string    `json:"case_id,omitempty"`
	State     string    `json:"state"`
	ActorID   string    `json:"actor_id,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func bookingRecord(b store.Booking) BookingRecord {
	return BookingRecord{ID: b.ID, SlotID: b.SlotID, UnitID: b.UnitID, StartsAt: b.StartsAt, EndsAt: b.EndsAt, Phone: unseal(b.Phone),
		PersonID: b.PersonID, SessionID: b.SessionID, CaseID: b.CaseID, State: string(b.State), ActorID: b.ActorID,
		CreatedAt: b.CreatedAt, UpdatedAt: b.UpdatedAt}
}

// BookingQuery selects a subtree's bookings.
type BookingQuery struct {
	UnitID   string
	States   []store.BookingState
	From, To time.Time
}

// Bookings lists the bookings of a unit's subtree (the principal's when
// no unit is named), by the slot's start. They hold phone numbers, so the
// read is audited (list_bookings) before they are returned.
func (h *Handoff) Bookings(ctx context.Context, p *Principal, q BookingQuery, pg store.Page, ip string) ([]BookingRecord, string, error) {
	if err := canWork(p); err != nil {
		return nil, "", err
	}
	path, err := h.scopePath(ctx, p, q.UnitID, "unit")
	if err != nil {
		return nil, "", err
	}
	bs, next, err := h.store.ListBookings(ctx, store.BookingFilter{UnitPath: path, States: q.States, From: q.From, To: q.To}, pg)
	if err != nil {
		return nil, "", err
	}
	out := make([]BookingRecord, 0, len(bs))
	for _, b := range bs {
		out = append(out, bookingRecord(b))
	}
	target := q.UnitID
	if target == "" {
		target = p.UnitID
	}
	if err := h.auditDisclosure(ctx, auditBy(p, "list_bookings", "unit", target, path, ip, "")); err != nil {
		return nil, "", err
	}
	return out, next, nil
}

// booking loads a booking in the principal's subtree.
func (h *Handoff) booking(ctx context.Context, p *Principal, id string) (store.Booking, error) {
	if err := canWork(p); err != nil {
		return store.Booking{}, err
	}
	b, err := h.store.GetBooking(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !p.InScope(b.UnitPath)) {
		return store.Booking{}, errorf(CodeNotFound, "", "no booking %q", id)
	}
	return b, err
}

// SetBookingOutcome records whether the resident came (kept, no_show: once
// the slot has begun) or cancels the booking.
func (h *Handoff) SetBookingOutcome(ctx context.Context, p *Principal, id string, to store.BookingState, ip string) (BookingRecord, error) {
	b, err := h.booking(ctx, p, id)
	if err != nil {
		return BookingRecord{}, err
	}
	if (to == store.BookingKept || to == store.BookingNoShow) && h.now().Before(b.StartsAt) {
		return BookingRecord{}, errorf(CodeConflict, "state", "the consultation has not begun yet")
	}
	b, err = h.store.SetBookingState(ctx, id, store.BookingChange{To: to, ActorID: p.StaffID, At: h.now()})
	if errors.Is(err, store.ErrInvalidTransition) {
		return BookingRecord{}, errorf(CodeConflict, "state", "%s", err.Error())
	}
	if err != nil {
		return BookingRecord{}, err
	}
	h.auditAction(ctx, auditBy(p, "booking_"+string(to), "booking", b.ID, b.UnitPath, ip, ""))
	return bookingRecord(b), nil
}

// LinkBooking ties a booking to a person's record and, optionally, to a
// case of that person (the case names the person when no person is
// given). Both must be open to the principal.
func (h *Handoff) LinkBooking(ctx context.Context, p *Principal, id, personID, caseID, ip string) (BookingRecord, error) {
	if err := requireRecords(p); err != nil {
		return BookingRecord{}, err
	}
	b, err := h.booking(ctx, p, id)
	if err != nil {
		return BookingRecord{}, err
	}
	if caseID != "" {
		c, _, err := h.records.caseAccess(ctx, p, caseID)
		if err != nil {
			return BookingRecord{}, withField(err, "case_id")
		}
		if personID != "" && personID != c.PersonID {
			return BookingRecord{}, errorf(CodeValidation, "case_id", "case %q is about another person", caseID)
		}
		personID = c.PersonID
	}
	if personID == "" {
		return BookingRecord{}, errorf(CodeValidation, "person_id", "name a person or a case")
	}
	if _, err := h.records.personAccess(ctx, p, personID); err != nil {
		return BookingRecord{}, withField(err, "person_id")
	}
	b, err = h.store.LinkBooking(ctx, id, personID, caseID, h.now())
	if err != nil {
		return BookingRecord{}, err
	}
	h.auditAction(ctx, auditBy(p, "booking_link", "booking", b.ID, b.UnitPath, ip, "person "+personID))
	return bookingRecord(b), nil
}

// bookingPerson gives the person a case on a booking is recorded under:
// the one named (personID), the booking's own (a signed-in resident, or
// one linked before), or a new person in the booking's unit with nothing
// on file, as for an anonymous queue entry. The booking is linked to them.
func (r *Records) bookingPerson(ctx context.Context, p *Principal, bookingID, personID string) (store.Booking, string, error) {
	b, err := r.store.GetBooking(ctx, bookingID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !p.InScope(b.UnitPath)) {
		return b, "", errorf(CodeNotFound, "booking_id", "no booking %q", bookingID)
	}
	if err != nil {
		return b, "", err
	}
	switch {
	case personID != "" && b.PersonID != "" && b.PersonID != personID:
		return b, "", errorf(CodeValidation, "booking_id", "booking %q is another person's", bookingID)
	case personID != "":
		return b, personID, nil
	case b.PersonID != "":
		return b, b.PersonID, nil
	}
	person, err := r.store.CreatePerson(ctx, store.Person{ID: store.NewID(), UnitID: b.UnitID, CreatedAt: r.now()})
	if err != nil {
		return b, "", err
	}
	if b, err = r.store.LinkBooking(ctx, b.ID, person.ID, "", r.now()); err != nil {
		return b, "", err
	}
	return b, person.ID, nil
}

// bookedHere reports whether the person has a booking at a unit in the
// principal's subtree, which opens their record there: a resident who
// booked a station asked to be seen by it.
func (r *Records) bookedHere(ctx context.Context, p *Principal, personID string) (bool, error) {
	bs, _, err := r.store.ListBookings(ctx, store.BookingFilter{PersonID: personID, UnitPath: p.UnitPath}, store.Page{Limit: 1})
	return len(bs) > 0, err
}

// handoffOf is what a person's record shows of their call-back requests
// and bookings: those filed on entries and made at units the reader may
// see.
func (r *Records) handoffOf(ctx context.Context, a *access, personID string) ([]CallbackRecord, []BookingRecord, error) {
	cs, err := collect(func(pg store.Page) ([]store.Callback, string, error) {
		return r.store.ListCallbacks(ctx, store.CallbackFilter{PersonID: personID}, pg)
	})
	if err != nil {
		return nil, nil, err
	}
	bs, err := collect(func(pg store.Page) ([]store.Booking, string, error) {
		return r.store.ListBookings(ctx, store.BookingFilter{PersonID: personID}, pg)
	})
	if err != nil {
		return nil, nil, err
	}
	callbacks, bookings := []CallbackRecord{}, []BookingRecord{}
	for _, c := range cs {
		if c.UnitPath != "" && a.visible(c.UnitPath) {
			callbacks = append(callbacks, NewCallbackRecord(c))
		}
	}
	for _, b := range bs {
		if a.visible(b.UnitPath) {
			bookings = append(bookings, bookingRecord(b))
		}
	}
	return callbacks, bookings, nil
}
