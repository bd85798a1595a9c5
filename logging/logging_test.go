package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestLinesLoggedWithARequestContextCarryItsID(t *testing.T) {
	var buf bytes.Buffer
	log, err := New(&buf, "json", slog.LevelInfo)
	if err != nil {
		t.Fatal(err)
	}
	ctx := WithRequestID(context.Background(), "req-1")
	log.With("part", "queue").InfoContext(ctx, "claimed")
	log.Info("no request")
	log.DebugContext(ctx, "below the level")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 lines, got:\n%s", buf.String())
	}
	var first, second map[string]any
	_ = json.Unmarshal([]byte(lines[0]), &first)
	_ = json.Unmarshal([]byte(lines[1]), &second)
	if first["request_id"] != "req-1" || first["part"] != "queue" {
		t.Errorf("first line: %s", lines[0])
	}
	if _, ok := second["request_id"]; ok {
		t.Errorf("a line outside any request got an id: %s", lines[1])
	}
}

func TestTextFormatAndUnknownFormat(t *testing.T) {
	var buf bytes.Buffer
	log, err := New(&buf, "text", slog.LevelWarn)
	if err != nil {
		t.Fatal(err)
	}
	log.WarnContext(WithRequestID(context.Background(), "abc"), "slow")
	if !strings.Contains(buf.String(), "request_id=abc") || !strings.Contains(buf.String(), "level=WARN") {
		t.Fatalf("text line: %s", buf.String())
	}
	if _, err := New(&buf, "xml", slog.LevelInfo); err == nil {
		t.Fatal("xml format accepted")
	}
}

// Buffered output holds Info lines until a flush, but never a warning.
func TestBufferedOutputFlushesWarningsAtOnce(t *testing.T) {
	var out syncBuffer
	b := NewBuffered(&out, time.Hour)
	log, err := New(b, "json", slog.LevelInfo)
	if err != nil {
		t.Fatal(err)
	}
	log.Info("routine")
	if out.String() != "" {
		t.Fatalf("an info line was written at once: %s", out.String())
	}
	log.With("part", "store").Warn("slow commit")
	if !strings.Contains(out.String(), "routine") || !strings.Contains(out.String(), "slow commit") {
		t.Fatalf("a warning was held back: %q", out.String())
	}
	log.Info("last words")
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "last words") {
		t.Fatalf("Close lost a line: %q", out.String())
	}
}

func TestBufferedOutputFlushesOnItsInterval(t *testing.T) {
	var out syncBuffer
	b := NewBuffered(&out, time.Millisecond)
	defer b.Close()
	_, _ = b.Write([]byte("line\n"))
	deadline := time.Now().Add(10 * time.Second)
	for out.String() == "" {
		if time.Now().After(deadline) {
			t.Fatal("never flushed")
		}
		time.Sleep(time.Millisecond)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
