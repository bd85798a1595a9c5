package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"xinling/assess"
	"xinling/notify"
	"xinling/store"
)

// Secrets of the notification channels come from the environment only. A
// unit's robot keys and webhook secrets are not here: admins save them in
// the console, and they are stored sealed.
const (
	envSMSKeyID     = "XINLING_SMS_ACCESS_KEY_ID"
	envSMSKeySecret = "XINLING_SMS_ACCESS_KEY_SECRET"
	envSMTPPassword = "XINLING_SMTP_PASSWORD"
)

// notifyFlags are the settings of the notification dispatcher (issue 16).
type notifyFlags struct {
	poll, scan, backoff, maxBackoff   *time.Duration
	lease, sendTimeout                *time.Duration
	maxAttempts                       *int
	weComURL, dingTalkURL             *string
	smsEndpoint, smsSign, smsTemplate *string
	smtpHost, smtpSecurity, smtpUser  *string
	smtpFrom                          *string
	smtpPort                          *int
}

func addNotifyFlags(env *envDefaults) notifyFlags {
	def := assess.DefaultNotifyOptions()
	return notifyFlags{
		poll:        env.Duration("notify-poll", time.Second, "look at the notification outbox this often (a warning filed on this server is sent at once)"),
		scan:        env.Duration("notify-unclaimed-scan", 30*time.Second, "look for level-1 entries left unclaimed (to tell the parent unit) this often"),
		backoff:     env.Duration("notify-backoff", def.Backoff, "wait before a failed notification's first retry; doubled each time"),
		sendTimeout: env.Duration("notify-send-timeout", def.SendTimeout, "longest wait for a channel to accept one message"),
		lease: env.Duration("notify-lease", def.Lease,
			"how long a server holds a notification it is sending; after a crash another (or the restarted one) sends it once this has passed"),
		maxBackoff:  env.Duration("notify-max-backoff", def.MaxBackoff, "longest wait between retries of a notification"),
		maxAttempts: env.Int("notify-max-attempts", def.MaxAttempts, "attempts before a notification goes to the dead-letter list"),
		weComURL:    env.String("notify-wecom-url", notify.DefaultWeComURL, "WeCom group robots' endpoint (a stand-in for tests)"),
		dingTalkURL: env.String("notify-dingtalk-url", notify.DefaultDingTalkURL, "DingTalk robots' endpoint (a stand-in for tests)"),
		smsEndpoint: env.String("sms-endpoint", notify.DefaultAliyunSMSEndpoint, "Alibaba Cloud SMS API endpoint"),
		smsSign:     env.String("sms-sign-name", "", "approved SMS signature (签名); with "+envSMSKeyID+" and "+envSMSKeySecret+" it turns SMS on"),
		smsTemplate: env.String("sms-templates", "", "approved SMS template codes by kind: warning_new=SMS_1,warning_unclaimed=SMS_2,digest=SMS_3,callback_requested=SMS_4"),
		smtpHost:    env.String("smtp-host", "", "SMTP server for e-mail notifications; with --smtp-from it turns e-mail on"),
		smtpPort:    env.Int("smtp-port", 0, "SMTP port (default by --smtp-security: 587, 465 or 25)"),
		smtpSecurity: env.String("smtp-security", string(notify.SMTPStartTLS),
			"SMTP connection: starttls, tls, or plain (loopback relays only)"),
		smtpUser: env.String("smtp-user", "", "SMTP user name; the password comes from "+envSMTPPassword),
		smtpFrom: env.String("smtp-from", "", "sender address of e-mail notifications"),
	}
}

// apply builds the channels this server can send on. WeCom, DingTalk and
// the webhook need nothing of the server (their keys are a unit's); SMS
// and e-mail are on when their accounts are configured.
func (n notifyFlags) apply(cfg *serveConfig) error {
	o := &cfg.assess.Notify
	if *n.poll <= 0 || *n.scan <= 0 || *n.backoff <= 0 || *n.maxBackoff < *n.backoff || *n.maxAttempts < 1 {
		return usagef("--notify-poll, --notify-unclaimed-scan and --notify-backoff must be positive, --notify-max-backoff at least the backoff, --notify-max-attempts at least 1")
	}
	// A send may take SendTimeout; a lease shorter than that would let a
	// second server send what the first is still sending.
	if *n.sendTimeout <= 0 || *n.lease < 2**n.sendTimeout {
		return usagef("--notify-send-timeout must be positive and --notify-lease at least twice as long")
	}
	o.Lease, o.SendTimeout = *n.lease, *n.sendTimeout
	cfg.notifyPoll, cfg.notifyScan = *n.poll, *n.scan
	o.Backoff, o.MaxBackoff, o.MaxAttempts = *n.backoff, *n.maxBackoff, *n.maxAttempts
	o.PublicURL = cfg.api.PublicURL
	o.Channels = map[string]notify.Channel{store.ChannelWebhook: notify.NewWebhook(notify.WebhookConfig{})}
	wc, err := notify.NewWeCom(notify.WeComConfig{URL: *n.weComURL})
	if err != nil {
		return usagef("--notify-wecom-url: %v", err)
	}
	dt, err := notify.NewDingTalk(notify.DingTalkConfig{URL: *n.dingTalkURL})
	if err != nil {
		return usagef("--notify-dingtalk-url: %v", err)
	}
	o.Channels[store.ChannelWeCom], o.Channels[store.ChannelDingTalk] = wc, dt

	keyID, keySecret := os.Getenv(envSMSKeyID), os.Getenv(envSMSKeySecret)
	if *n.smsSign != "" || keyID != "" || keySecret != "" {
		if *n.smsSign == "" || keyID == "" || keySecret == "" {
			return usagef("SMS needs --sms-sign-name, %s and %s together", envSMSKeyID, envSMSKeySecret)
		}
		templates, err := parseTemplates(*n.smsTemplate)
		if err != nil {
			return err
		}
		p, err := notify.NewAliyunSMS(notify.AliyunSMSConfig{Endpoint: *n.smsEndpoint, AccessKeyID: keyID, AccessKeySecret: keySecret,
			SignName: *n.smsSign, Templates: templates})
		if err != nil {
			return usagef("SMS: %v", err)
		}
		o.Channels[store.ChannelSMS] = notify.NewSMS(p)
	}
	if *n.smtpHost != "" || *n.smtpFrom != "" {
		e, err := notify.NewEmail(notify.SMTPConfig{Host: *n.smtpHost, Port: *n.smtpPort, Security: notify.SMTPSecurity(*n.smtpSecurity),
			Username: *n.smtpUser, Password: os.Getenv(envSMTPPassword), From: *n.smtpFrom})
		if err != nil {
			return usagef("e-mail: %v", err)
		}
		o.Channels[store.ChannelEmail] = e
	}
	return nil
}

// parseTemplates reads kind=code pairs.
func parseTemplates(s string) (map[notify.Kind]string, error) {
	out := map[notify.Kind]string{}
	for _, pair := range strings.Split(s, ",") {
		if strings.TrimSpace(pair) == "" {
			continue
		}
		k, v, ok := strings.Cut(pair, "=")
		kind := notify.Kind(strings.TrimSpace(k))
		known := false
		for _, kk := range notify.Kinds {
			known = known || kk == kind
		}
		if !ok || !known || strings.TrimSpace(v) == "" {
			return nil, usagef("--sms-templates: %q is not kind=code with a kind of %v", pair, notify.Kinds)
		}
		out[kind] = strings.TrimSpace(v)
	}
	if len(out) == 0 {
		return nil, usagef("--sms-templates names no template: %s", fmt.Sprint(notify.Kinds))
	}
	return out, nil
}
