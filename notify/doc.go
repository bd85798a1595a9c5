// Package notify delivers out-of-band alerts about the warning queue to
// the staff on duty: a WeCom (企业微信) group robot, a DingTalk (钉钉)
// custom robot with a signed timestamp, a generic HTTPS webhook signed
// with HMAC-SHA256, SMS through a provider's HTTP API (Alibaba Cloud SMS
// is the one built in), and e-mail over SMTP.
//
// A notification carries a Message and nothing else. Message has no free
// text: the level, the unit's display name, the time, the deadline, a
// count for digests and a link to the console entry. Every human-readable
// wording is rendered in this package from those fields (render.go and
// templates/), so no caller can put a respondent's name, phone number,
// answer or score into a notification.
//
// Channels send one message to one Target and report whether a retry can
// help: IsPermanent(err) is true when it cannot (a wrong signature, an
// unknown robot key, a malformed message); every other error is worth
// retrying with backoff (timeouts, 5xx, 429, a provider's throttling
// code). Delivery is at least once: the caller's outbox retries, and each
// request carries the message's IdempotencyKey where the protocol has a
// place for it. Secrets arrive unsealed in Target or in a channel's
// configuration and never appear in an error message.
//
// Package notifytest has stand-ins for every provider, which check the
// payload and signature as the provider would and can inject failures.
// docs/notifications.md describes the channels for operators and
// integrators.
package notify
