package notify_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"xinling/notify"
	"xinling/notify/notifytest"
)

func init() {
	channelCases[notify.ChannelSMS] = func(t *testing.T) channelCase {
		sms := notifytest.NewAliyunSMS(t)
		return channelCase{
			name: notify.ChannelSMS,
			rec:  sms.Recorder,
			send: func(ctx context.Context, m notify.Message, timeout time.Duration) error {
				cfg := sms.Config()
				cfg.HTTP = withTimeout(cfg.HTTP, timeout)
				p, err := notify.NewAliyunSMS(cfg)
				if err != nil {
					t.Fatal(err)
				}
				return notify.NewSMS(p).Send(ctx, sms.Target(), m)
			},
			sendWrong: func(ctx context.Context, m notify.Message) error {
				cfg := sms.Config()
				cfg.AccessKeySecret = strings.Repeat("x", 30)
				p, err := notify.NewAliyunSMS(cfg)
				if err != nil {
					t.Fatal(err)
				}
				return notify.NewSMS(p).Send(ctx, sms.Target(), m)
			},
			retryable: []notifytest.Fault{
				{Status: 500}, {Status: 503}, {Code: "isv.BUSINESS_LIMIT_CONTROL"}, {Code: "Throttling.User"},
				{Code: "isp.SYSTEM_ERROR"}, {Code: "ServiceUnavailable", Status: 503},
			},
			permanent: []notifytest.Fault{
				{Code: "isv.MOBILE_NUMBER_ILLEGAL"}, {Code: "isv.AMOUNT_NOT_ENOUGH"}, {Code: "InvalidAccessKeyId.NotFound", Status: 404},
				{Code: "SignatureDoesNotMatch"}, {Status: 403},
			},
			keyOnWire: true,
			httpBased: true,
			secrets:   []string{sms.AccessKeySecret, notifytest.StaffPhone},
			forbidden: []string{"Signature=", "PhoneNumbers=", "AccessKeyId="},
			checkWire: func(t *testing.T, m notify.Message, rec notifytest.Received) {
				if rec.Query.Get("PhoneNumbers") != notifytest.StaffPhone {
					t.Errorf("PhoneNumbers = %q", rec.Query.Get("PhoneNumbers"))
				}
				var vars map[string]string
				if err := json.Unmarshal([]byte(rec.Query.Get("TemplateParam")), &vars); err != nil {
					t.Fatal(err)
				}
				params, _ := notify.SMSParams(m)
				if len(vars) != len(params) {
					t.Errorf("TemplateParam %v, want %v", vars, params)
				}
				for _, p := range params {
					if vars[p.Name] != notify.TruncateRunes(p.Value, notify.DefaultAliyunParamRunes) {
						t.Errorf("TemplateParam %s = %q, want %q", p.Name, vars[p.Name], p.Value)
					}
				}
			},
		}
	}
}
