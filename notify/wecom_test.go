package notify_test

import (
	"context"
	"testing"
	"time"

	"xinling/notify"
	"xinling/notify/notifytest"
)

func init() {
	channelCases[notify.ChannelWeCom] = func(t *testing.T) channelCase {
		wc := notifytest.NewWeCom(t)
		return channelCase{
			name: notify.ChannelWeCom,
			rec:  wc.Recorder,
			send: func(ctx context.Context, m notify.Message, timeout time.Duration) error {
				cfg := wc.Config()
				cfg.HTTP = withTimeout(cfg.HTTP, timeout)
				ch, err := notify.NewWeCom(cfg)
				if err != nil {
					t.Fatal(err)
				}
				return ch.Send(ctx, wc.Target(), m)
			},
			sendWrong: func(ctx context.Context, m notify.Message) error {
				return wc.Channel().Send(ctx, notify.Target{Address: "0f0f0f0f-dead-beef-0000-000000000000"}, m)
			},
			retryable: []notifytest.Fault{{Status: 502}, {Status: 503}, {Code: "45009"}, {Code: "-1"}, {Status: 429},
				// A 200 whose body is not the API's (a proxy's page): delivery is unknown.
				{Status: 200}},
			permanent: []notifytest.Fault{{Code: "93000"}, {Status: 404}},
			httpBased: true,
			secrets:   []string{wc.Key},
			forbidden: []string{"key="},
			checkWire: func(t *testing.T, m notify.Message, rec notifytest.Received) {
				robotText(t, m, rec)
				queryKeys(t, rec, "key")
			},
		}
	}
}
