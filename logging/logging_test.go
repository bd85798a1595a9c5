package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
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
