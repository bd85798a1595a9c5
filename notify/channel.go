package notify

import "context"

// Target is one contact on one channel, as configured for a unit. The
// caller unseals Secret before it builds a Target and keeps it only for
// the call; channels never write a secret into an error.
type Target struct {
	// Address is where the message goes:
	//   WeCom    the robot's key (the key= of its webhook URL; the whole
	//            webhook URL is accepted too)
	//   DingTalk the robot's access token (the access_token= of its
	//            webhook URL; the whole webhook URL is accepted too)
	//   Webhook  the receiver's https URL
	//   SMS      a mainland mobile number (+86, 0086 or 86 may precede it)
	//   E-mail   an e-mail address
	Address string
	// Secret signs the request: the DingTalk robot's 加签 secret
	// (SEC…), or the webhook's HMAC secret. Unused by the other channels,
	// whose credentials belong to the channel's configuration.
	Secret string
}

// Channel sends one message to one contact.
//
// Send validates m, renders it, and delivers it once. A nil error means
// the provider accepted the message. Otherwise IsPermanent tells whether
// a retry can help, and RetryAfter whether the provider asked for a
// delay. Send is safe for concurrent use.
type Channel interface {
	Send(ctx context.Context, to Target, m Message) error
}

// Names of the channels, for configuration and for the outbox's records.
const (
	ChannelWeCom    = "wecom"
	ChannelDingTalk = "dingtalk"
	ChannelWebhook  = "webhook"
	ChannelSMS      = "sms"
	ChannelEmail    = "email"
)
