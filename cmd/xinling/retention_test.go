package main

import (
	"io"
	"testing"
	"time"

	"xinling/assess"
)

func TestRetentionSetting(t *testing.T) {
	cfg, _, err := parseServeFlags(nil, io.Discard)
	if err != nil || cfg.assess.Sessions.AnonymousRetention != assess.DefaultAnonymousRetention {
		t.Fatalf("default retention %v, %v", cfg, err)
	}
	t.Setenv("XINLING_RETENTION_ANONYMOUS", "0")
	if cfg, _, err := parseServeFlags(nil, io.Discard); err != nil || cfg.assess.Sessions.AnonymousRetention != 0 {
		t.Fatalf("XINLING_RETENTION_ANONYMOUS=0: %v, %v", cfg, err)
	}
	if cfg, _, err := parseServeFlags([]string{"--retention-anonymous", "2160h"}, io.Discard); err != nil || cfg.assess.Sessions.AnonymousRetention != 90*24*time.Hour {
		t.Fatalf("--retention-anonymous 2160h: %v, %v", cfg, err)
	}
}
