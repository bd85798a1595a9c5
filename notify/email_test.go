package notify_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"xinling/notify"
	"xinling/notify/notifytest"
)

func init() {
	channelCases[notify.ChannelEmail] = func(t *testing.T) channelCase {
		mail := notifytest.NewSMTP(t, notify.SMTPStartTLS)
		return channelCase{
			name: notify.ChannelEmail,
			rec:  mail.Recorder,
			send: func(ctx context.Context, m notify.Message, timeout time.Duration) error {
				cfg := mail.Config()
				if timeout > 0 {
					cfg.Timeout = timeout
				}
				ch, err := notify.NewEmail(cfg)
				if err != nil {
					t.Fatal(err)
				}
				return ch.Send(ctx, mail.Target(), m)
			},
			sendWrong: func(ctx context.Context, m notify.Message) error {
				cfg := mail.Config()
				cfg.Password = "not-the-password"
				ch, err := notify.NewEmail(cfg)
				if err != nil {
					t.Fatal(err)
				}
				return ch.Send(ctx, mail.Target(), m)
			},
			// SMTP has no throttling code of its own: servers that
			// throttle say 421 or 451 (4.7.x), like any temporary error.
			retryable: []notifytest.Fault{{Status: 451}, {Status: 452}, {Status: 421}},
			permanent: []notifytest.Fault{{Status: 550}, {Status: 554}},
			keyOnWire: true,
			secrets:   []string{mail.Password, notifytest.StaffEmail},
			checkWire: func(t *testing.T, m notify.Message, rec notifytest.Received) {
				r, _ := notify.Render(m)
				if rec.Text != r.Text+"\n" {
					t.Errorf("body = %q, want %q", rec.Text, r.Text+"\n")
				}
				if !slices.Contains(rec.Strings, r.Title) {
					t.Errorf("subject is not %q", r.Title)
				}
			},
		}
	}
}
