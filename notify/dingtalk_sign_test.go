package notify

import "testing"

// Computed apart with: printf '%s' '1700000000000\nSECtest-secret' |
// openssl dgst -sha256 -hmac SECtest-secret -binary | base64
func TestDingTalkSign(t *testing.T) {
	if got := DingTalkSign("SECtest-secret", 1700000000000); got != "LC7hxZ4wslL+P7j7gu1hoQ+wzByekL+yWgiUMekZs0g=" {
		t.Errorf("DingTalkSign = %s", got)
	}
}
