package sealed

import (
	"context"
	"time"

	"xinling/store"
)

// Case conferences and parent meetings: who attended, what was agreed and
// the notes are sealed from the inventory, bound to the meeting's id. The
// counts are counts and pass through.

func (s *Store) openMeeting(m store.Meeting, err error) (store.Meeting, error) {
	if err != nil {
		return m, err
	}
	return m, s.openFields(&m, m.ID)
}

func (s *Store) CreateMeeting(ctx context.Context, m store.Meeting) (store.Meeting, error) {
	if m.ID == "" {
		return m, errNoID("meeting")
	}
	plain := m
	s.sealFields(&m, m.ID)
	out, err := s.inner.CreateMeeting(ctx, m)
	if err != nil {
		return out, err
	}
	return withPlain(out, plain), nil
}

func (s *Store) GetMeeting(ctx context.Context, id string) (store.Meeting, error) {
	return s.openMeeting(s.inner.GetMeeting(ctx, id))
}

func (s *Store) ListMeetings(ctx context.Context, f store.MeetingFilter, p store.Page) ([]store.Meeting, string, error) {
	ms, next, err := s.inner.ListMeetings(ctx, f, p)
	for i := range ms {
		if err != nil {
			break
		}
		ms[i], err = s.openMeeting(ms[i], nil)
	}
	return ms, next, err
}

func (s *Store) MeetingCounts(ctx context.Context, path string, from, to time.Time) ([]store.MeetingCount, error) {
	return s.inner.MeetingCounts(ctx, path, from, to)
}
