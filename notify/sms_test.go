package notify

import (
	"errors"
	"testing"
)

func TestNormalizeMobile(t *testing.T) {
	for in, want := range map[string]string{
		"13900000001":        "13900000001",
		"+86 139 0000 0001":  "13900000001",
		"0086-139-0000-0001": "13900000001",
		"8613900000001":      "13900000001",
	} {
		got, err := NormalizeMobile(in)
		if err != nil || got != want {
			t.Errorf("NormalizeMobile(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "12900000001", "1390000000", "139000000012", "021-12345678", "1390000000a", "13900000001+"} {
		if _, err := NormalizeMobile(in); !errors.Is(err, ErrInvalidTarget) {
			t.Errorf("NormalizeMobile(%q) = %v, want ErrInvalidTarget", in, err)
		}
	}
}
