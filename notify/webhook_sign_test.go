package notify

import (
	"net/http"
	"reflect"
	"strconv"
	"testing"
	"time"
)

// Computed apart with: printf '%s' '1700000000.<body>' |
// openssl dgst -sha256 -hmac xinling-test-secret-0123
func TestWebhookSignatureAndVerify(t *testing.T) {
	const secret = "xinling-test-secret-0123"
	body := []byte(`{"kind":"warning_new","unit":"青山街道心理服务站"}`)
	want := "v1=7bbddf42f061fc7c4817a2a67b18150fa3c7f9fcb96ffe914e025febfddf44a9"
	if got := WebhookSignature(secret, 1700000000, body); got != want {
		t.Fatalf("WebhookSignature = %s, want %s", got, want)
	}
	now := time.Unix(1700000000, 0)
	h := http.Header{}
	h.Set(WebhookTimestampHeader, "1700000000")
	h.Set(WebhookSignatureHeader, want)
	if err := VerifyWebhook(secret, h, body, now.Add(4*time.Minute), 0); err != nil {
		t.Errorf("a good signature: %v", err)
	}
	if err := VerifyWebhook(secret, h, body, now.Add(6*time.Minute), 0); err != ErrWebhookStale {
		t.Errorf("6 minutes late: %v, want ErrWebhookStale", err)
	}
	if err := VerifyWebhook(secret, h, body, now.Add(-6*time.Minute), 0); err != ErrWebhookStale {
		t.Errorf("6 minutes early: %v, want ErrWebhookStale", err)
	}
	if err := VerifyWebhook(secret, h, body, now.Add(50*time.Minute), time.Hour); err != nil {
		t.Errorf("within a 1 h tolerance: %v", err)
	}
	if err := VerifyWebhook("another-secret-0123456", h, body, now, 0); err != ErrWebhookSignature {
		t.Errorf("wrong secret: %v, want ErrWebhookSignature", err)
	}
	if err := VerifyWebhook(secret, h, append(body, ' '), now, 0); err != ErrWebhookSignature {
		t.Errorf("altered body: %v, want ErrWebhookSignature", err)
	}
	h.Set(WebhookTimestampHeader, strconv.Itoa(1700000001))
	if err := VerifyWebhook(secret, h, body, now, 0); err != ErrWebhookSignature {
		t.Errorf("altered timestamp: %v, want ErrWebhookSignature", err)
	}
	h.Set(WebhookTimestampHeader, "1700000000")
	h.Set(WebhookSignatureHeader, "v1=00, "+want) // rotation: the old and the new secret's signatures
	if err := VerifyWebhook(secret, h, body, now, 0); err != nil {
		t.Errorf("one of two signatures matches: %v", err)
	}
	h.Del(WebhookSignatureHeader)
	if err := VerifyWebhook(secret, h, body, now, 0); err != ErrWebhookUnsigned {
		t.Errorf("unsigned: %v, want ErrWebhookUnsigned", err)
	}
}

// The webhook's JSON holds the fields of Message and nothing more.
func TestWebhookPayloadFieldsAreTheAllowedOnes(t *testing.T) {
	checkAllowedFields(t, reflect.TypeFor[WebhookPayload](), map[string]string{"Unit": "UnitName"})
}
