package sealed

import (
	"context"
	"time"

	"xinling/store"
)

// The warm hand-off. A call-back request's phone and note, and a booking's
// phone, are sealed from the inventory, bound to the request's or the
// booking's id. Slots hold nothing personal (a unit's time and place) and
// the counts are counts; those methods pass through.

func (s *Store) openCallback(c store.Callback, err error) (store.Callback, error) {
	if err != nil {
		return c, err
	}
	return c, s.openFields(&c, c.ID)
}

func (s *Store) openBooking(b store.Booking, err error) (store.Booking, error) {
	if err != nil {
		return b, err
	}
	return b, s.openFields(&b, b.ID)
}

func (s *Store) CreateCallback(ctx context.Context, c store.Callback, d store.WarningDraft) (store.Callback, store.Warning, error) {
	if c.ID == "" {
		return c, store.Warning{}, errNoID("call-back request")
	}
	plain := c
	s.sealFields(&c, c.ID)
	out, w, err := s.inner.CreateCallback(ctx, c, d)
	if err != nil {
		return out, w, err
	}
	w, err = s.openWarning(w, nil)
	return withPlain(out, plain), w, err
}

func (s *Store) GetCallback(ctx context.Context, id string) (store.Callback, error) {
	return s.openCallback(s.inner.GetCallback(ctx, id))
}

func (s *Store) ListCallbacks(ctx context.Context, f store.CallbackFilter, p store.Page) ([]store.Callback, string, error) {
	cs, next, err := s.inner.ListCallbacks(ctx, f, p)
	for i := range cs {
		if err != nil {
			break
		}
		cs[i], err = s.openCallback(cs[i], nil)
	}
	return cs, next, err
}

func (s *Store) SetCallbackState(ctx context.Context, id string, ch store.CallbackChange) (store.Callback, error) {
	return s.openCallback(s.inner.SetCallbackState(ctx, id, ch))
}

func (s *Store) BookSlot(ctx context.Context, b store.Booking) (store.Booking, error) {
	if b.ID == "" {
		return b, errNoID("booking")
	}
	plain := b
	s.sealFields(&b, b.ID)
	out, err := s.inner.BookSlot(ctx, b)
	return withPlain(out, plain), err
}

func (s *Store) GetBooking(ctx context.Context, id string) (store.Booking, error) {
	return s.openBooking(s.inner.GetBooking(ctx, id))
}

func (s *Store) ListBookings(ctx context.Context, f store.BookingFilter, p store.Page) ([]store.Booking, string, error) {
	bs, next, err := s.inner.ListBookings(ctx, f, p)
	for i := range bs {
		if err != nil {
			break
		}
		bs[i], err = s.openBooking(bs[i], nil)
	}
	return bs, next, err
}

func (s *Store) SetBookingState(ctx context.Context, id string, ch store.BookingChange) (store.Booking, error) {
	return s.openBooking(s.inner.SetBookingState(ctx, id, ch))
}

func (s *Store) LinkBooking(ctx context.Context, id, personID, caseID string, at time.Time) (store.Booking, error) {
	return s.openBooking(s.inner.LinkBooking(ctx, id, personID, caseID, at))
}

// Pass-throughs: slots and counts carry nothing sealed.

func (s *Store) CreateSlot(ctx context.Context, sl store.Slot) (store.Slot, error) {
	return s.inner.CreateSlot(ctx, sl)
}

func (s *Store) GetSlot(ctx context.Context, id string) (store.Slot, error) {
	return s.inner.GetSlot(ctx, id)
}

func (s *Store) ListSlots(ctx context.Context, f store.SlotFilter, p store.Page) ([]store.Slot, string, error) {
	return s.inner.ListSlots(ctx, f, p)
}

func (s *Store) CloseSlot(ctx context.Context, id string, at time.Time) (store.Slot, error) {
	return s.inner.CloseSlot(ctx, id, at)
}

func (s *Store) HandoffCounts(ctx context.Context, path string, from, to time.Time) ([]store.HandoffCount, error) {
	return s.inner.HandoffCounts(ctx, path, from, to)
}
