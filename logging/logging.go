// Package logging builds xinling's structured logger and carries a
// request's id through its context, so that every line written while
// serving a request names it, including lines from assess.
//
// What goes into a log line is decided where it is written; the rule is
// that logs hold pseudonymous ids (session, warning, unit) and never names,
// student numbers, access codes, tokens, answers or case notes.
package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
)

type requestIDKey struct{}

// WithRequestID returns ctx carrying the request id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the request id carried by ctx, or "".
func RequestID(ctx context.Context) string {
	if ctx == nil {
		return ""
	}
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// New returns a logger writing format ("text" or "json") to w at level and
// above. Lines logged with a context (InfoContext...) get its request id.
func New(w io.Writer, format string, level slog.Leveler) (*slog.Logger, error) {
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	switch format {
	case "json":
		h = slog.NewJSONHandler(w, opts)
	case "text", "":
		h = slog.NewTextHandler(w, opts)
	default:
		return nil, fmt.Errorf("log format %q: want text or json", format)
	}
	rh := requestIDHandler{Handler: h}
	if f, ok := w.(flusher); ok {
		rh.flush = f
	}
	return slog.New(rh), nil
}

type flusher interface{ Flush() error }

// Handler wraps h so that records logged with a request's context carry
// its id.
func Handler(h slog.Handler) slog.Handler { return requestIDHandler{Handler: h} }

type requestIDHandler struct {
	slog.Handler
	// flush, when the output is buffered, is called after warnings and
	// errors, so that they are never held back.
	flush flusher
}

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	err := h.Handler.Handle(ctx, r)
	if h.flush != nil && r.Level >= slog.LevelWarn {
		_ = h.flush.Flush()
	}
	return err
}

func (h requestIDHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(as), h.flush}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name), h.flush}
}
