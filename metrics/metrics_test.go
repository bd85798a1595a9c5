package metrics

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"xinling/store"
)

func scrapeText(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("scrape: %d", rec.Code)
	}
	return rec.Body.String()
}

// A store that cannot be read does not fail the scrape: the other figures
// still come, and the failure shows as its own series.
func TestQueueReadFailureIsASeriesNotAFailedScrape(t *testing.T) {
	m := New()
	m.Watch(Sources{
		Queue: func(context.Context, time.Time) ([]store.QueueLevel, error) { return nil, errors.New("store closed") },
		Log:   slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	m.AnswerSaved("saved")
	text := scrapeText(t, m)
	for _, want := range []string{"xinling_queue_scrape_error 1", `xinling_answers_saved_total{status="saved"} 1`} {
		if !strings.Contains(text, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
	if strings.Contains(text, "xinling_queue_open{") {
		t.Error("queue figures reported without a queue read")
	}
}

// Every level is always there, so an emptied queue reads 0, not absent.
func TestQueueLevelsAlwaysReportAllThreeLevels(t *testing.T) {
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	m := New()
	m.Watch(Sources{Now: func() time.Time { return now },
		Queue: func(context.Context, time.Time) ([]store.QueueLevel, error) {
			return []store.QueueLevel{{Level: 2, Open: 4, Oldest: now.Add(-90 * time.Second), Overdue: 1}}, nil
		}})
	m.CommitBatch(3)
	m.WarningRaised(1)
	text := scrapeText(t, m)
	for _, want := range []string{
		`xinling_queue_open{level="1"} 0`, `xinling_queue_open{level="2"} 4`, `xinling_queue_open{level="3"} 0`,
		`xinling_queue_oldest_age_seconds{level="2"} 90`, `xinling_queue_oldest_age_seconds{level="1"} 0`,
		`xinling_sla_breaches{level="2"} 1`, `xinling_warnings_raised_total{level="1"} 1`, `xinling_warnings_raised_total{level="3"} 0`,
		"xinling_store_commit_batch_size_sum 3", "xinling_queue_scrape_error 0",
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("scrape lacks %q", want)
		}
	}
}

// The outbox's figures: every channel's pending and dead deliveries are
// there from the start, and the instance's own sends and failures count
// by channel.
func TestNotificationFigures(t *testing.T) {
	m := New()
	m.Watch(Sources{Notifications: func(context.Context) ([]store.NotificationCount, error) {
		return []store.NotificationCount{{Kind: store.NotifyDelivery, Channel: "wecom", State: store.NotificationPending, Count: 3},
			{Kind: store.NotifyWarning, State: store.NotificationSent, Count: 7}}, nil
	}})
	m.NotificationSent("wecom", 40*time.Millisecond)
	m.NotificationFailed("sms", false)
	m.NotificationFailed("sms", true)
	text := scrapeText(t, m)
	for _, want := range []string{
		`xinling_notifications{channel="wecom",kind="delivery",state="pending"} 3`,
		`xinling_notifications{channel="sms",kind="delivery",state="dead"} 0`,
		`xinling_notifications{channel="",kind="warning",state="sent"} 7`,
		`xinling_notifications_sent_total{channel="wecom"} 1`, `xinling_notifications_sent_total{channel="email"} 0`,
		`xinling_notifications_failed_total{channel="sms",outcome="retry"} 1`, `xinling_notifications_failed_total{channel="sms",outcome="dead"} 1`,
		`xinling_notification_delay_seconds_count{channel="wecom"} 1`, "xinling_notifications_scrape_error 0",
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("scrape lacks %q", want)
		}
	}
}
