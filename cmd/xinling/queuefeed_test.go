package main

import (
	"io"
	"strings"
	"testing"
	"time"
)

func TestQueueFeedSetting(t *testing.T) {
	cfg, _, err := parseServeFlags([]string{"--queue-feed", "500ms"}, io.Discard)
	if err != nil || cfg.queueFeed != 500*time.Millisecond {
		t.Fatalf("--queue-feed 500ms: %+v, %v", cfg, err)
	}
	if cfg, _, err := parseServeFlags(nil, io.Discard); err != nil || cfg.queueFeed != 2*time.Second {
		t.Fatalf("default: %v, %v", cfg.queueFeed, err)
	}
	if _, _, err := parseServeFlags([]string{"--queue-feed", "-1s"}, io.Discard); err == nil || !strings.Contains(err.Error(), "--queue-feed") {
		t.Fatalf("negative --queue-feed: %v", err)
	}
}
