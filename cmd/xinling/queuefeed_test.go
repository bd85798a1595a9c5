package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"strings"
	"testing"
	"time"

	"xinling/store"
)

func TestQueueFeedSetting(t *testing.T) {
	t.Parallel()
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

// TestServedStoreOffersChangeFeed: whatever serve wraps around the backend
// must still offer the change feed, or servers sharing MongoDB stop
// telling each other's consoles of queue changes. A wrapper that embeds
// store.Store hides it unless it forwards WarningsChangedSince.
func TestServedStoreOffersChangeFeed(t *testing.T) {
	key := func(b byte) string { return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{b}, 32)) }
	t.Setenv("XINLING_DATA_KEY", "index:"+key(1)+",k1:"+key(2)) // for a store that seals personal data
	st, _, err := openStore(context.Background(), &serveConfig{data: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, ok := st.(store.ChangeFeed); !ok {
		t.Fatalf("%T does not offer store.ChangeFeed", st)
	}
}
