package notify_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"xinling/notify"
	"xinling/notify/notifytest"
)

func init() {
	channelCases[notify.ChannelDingTalk] = func(t *testing.T) channelCase {
		dt := notifytest.NewDingTalk(t)
		return channelCase{
			name: notify.ChannelDingTalk,
			rec:  dt.Recorder,
			send: func(ctx context.Context, m notify.Message, timeout time.Duration) error {
				cfg := dt.Config()
				cfg.HTTP = withTimeout(cfg.HTTP, timeout)
				ch, err := notify.NewDingTalk(cfg)
				if err != nil {
					t.Fatal(err)
				}
				return ch.Send(ctx, dt.Target(), m)
			},
			sendWrong: func(ctx context.Context, m notify.Message) error {
				return dt.Channel().Send(ctx, notify.Target{Address: dt.Token, Secret: "SEC" + strings.Repeat("0", 64)}, m)
			},
			retryable: []notifytest.Fault{{Status: 500}, {Code: "130101"}, {Code: "410100"}, {Code: "-1"}},
			permanent: []notifytest.Fault{{Code: "310000"}, {Code: "300001"}, {Status: 400}},
			httpBased: true,
			secrets:   []string{dt.Token, dt.Secret},
			forbidden: []string{"access_token=", "sign=", "timestamp="},
			checkWire: func(t *testing.T, m notify.Message, rec notifytest.Received) {
				robotText(t, m, rec)
				queryKeys(t, rec, "access_token", "timestamp", "sign")
			},
		}
	}
}
