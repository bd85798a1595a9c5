package api

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"

	"xinling/assess"
	"xinling/logging"
)

const requestIDKey = "requestid"

// observe gives every request an id and writes one access line when it
// ends. The line names the route pattern (/api/v1/sessions/:id), never the
// path or query as sent: those carry session ids, access codes and, in
// searches, names. Bodies, headers and tokens are never logged.
func observe(log *slog.Logger) fiber.Handler {
	return func(c *fiber.Ctx) error {
		start := time.Now()
		id := c.Get(fiber.HeaderXRequestID)
		if !saneRequestID(id) {
			id = newRequestID()
		}
		c.Set(fiber.HeaderXRequestID, id)
		c.Locals(requestIDKey, id)
		ctx := logging.WithRequestID(c.UserContext(), id)
		c.SetUserContext(ctx)
		if err := c.Next(); err != nil {
			// Answer here rather than after returning, so that the line
			// below logs the status the client gets.
			if herr := c.App().ErrorHandler(c, err); herr != nil {
				_ = c.SendStatus(fiber.StatusInternalServerError)
			}
		}
		status := c.Response().StatusCode()
		level := slog.LevelInfo
		route := routeOf(c)
		switch {
		case status >= 500:
			level = slog.LevelWarn
		case route == "/healthz" || route == "/readyz" || route == "/metrics":
			level = slog.LevelDebug // probes every few seconds would drown the rest
		}
		size := -1 // a stream (the live queue) is still being written
		if !c.Response().IsBodyStream() {
			size = len(c.Response().Body())
		}
		log.LogAttrs(ctx, level, "request", slog.String("method", c.Method()), slog.String("route", route),
			slog.Int("status", status), slog.Float64("ms", float64(time.Since(start).Microseconds())/1000),
			slog.Int("bytes", size))
		return nil
	}
}

// routeOf is the matched route's pattern; a request that matched none (or
// failed before routing) is "unmatched", so its raw path is not logged.
func routeOf(c *fiber.Ctx) string {
	r := c.Route()
	if len(r.Handlers) == 0 {
		return "unmatched"
	}
	return r.Path
}

// saneRequestID accepts a caller's id (a proxy's or a client's) only if it
// is short and plain, so it cannot forge log lines or smuggle data.
func saneRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' || r == ':'
		if !ok {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func requestIDOf(c *fiber.Ctx) string {
	id, _ := c.Locals(requestIDKey).(string)
	return id
}

// timed reports how long a handler took, as op, for the save and submit
// latency histogram. Without an observer the handler runs as it is.
func timed(observe func(op, outcome string, d time.Duration), op string, h fiber.Handler) fiber.Handler {
	if observe == nil {
		return h
	}
	return func(c *fiber.Ctx) error {
		start := time.Now()
		err := h(c)
		outcome := "ok"
		if err != nil {
			outcome = "error"
		}
		observe(op, outcome, time.Since(start))
		return err
	}
}

// metricsRoute serves the Prometheus handler on the main listener, only to
// scrapers presenting the token: the figures carry no personal data, but
// warning volumes by level are not for the public internet.
func metricsRoute(token string, h http.Handler) fiber.Handler {
	serve := adaptor.HTTPHandler(h)
	want := []byte("Bearer " + token)
	return func(c *fiber.Ctx) error {
		if subtle.ConstantTimeCompare([]byte(c.Get(fiber.HeaderAuthorization)), want) != 1 {
			return &assess.Error{Code: assess.CodeUnauthenticated, Message: "metrics need the scrape token (Authorization: Bearer ...)"}
		}
		return serve(c)
	}
}

// NotReady is a readiness failure whose Reason may be shown to anyone
// (load balancers, probes); Err, which may name hosts, is only logged.
type NotReady struct {
	Reason string
	Err    error
}

func (e *NotReady) Error() string {
	if e.Err != nil {
		return e.Reason + ": " + e.Err.Error()
	}
	return e.Reason
}

func (e *NotReady) Unwrap() error { return e.Err }

// Readiness builds Services.Ready: the instruments are loaded and the store
// answers a ping.
func Readiness(ping func(context.Context) error, instruments func() int) func(context.Context) error {
	return func(ctx context.Context) error {
		if instruments != nil && instruments() == 0 {
			return &NotReady{Reason: "no instruments are loaded"}
		}
		if err := ping(ctx); err != nil {
			return &NotReady{Reason: "the store is unreachable", Err: err}
		}
		return nil
	}
}

// readyTimeout bounds the store ping: a probe that hangs is a failed probe.
const readyTimeout = 2 * time.Second

func readyz(log *slog.Logger, ready func(context.Context) error, detail func() fiber.Map) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if ready != nil {
			ctx, cancel := context.WithTimeout(c.UserContext(), readyTimeout)
			defer cancel()
			if err := ready(ctx); err != nil {
				msg := "not ready"
				var nr *NotReady
				if errors.As(err, &nr) {
					msg += ": " + nr.Reason
				}
				log.WarnContext(c.UserContext(), "not ready", "err", err)
				return c.Status(fiber.StatusServiceUnavailable).JSON(errorBody{Error: errorDetail{
					Code: assess.CodeUnavailable, Message: msg, RequestID: requestIDOf(c)}})
			}
		}
		body := fiber.Map{"ok": true}
		if detail != nil {
			// Problems a server works around (a stored instrument that no
			// longer loads) leave it ready, but operators must see them.
			for k, v := range detail() {
				body[k] = v
			}
		}
		return c.JSON(body)
	}
}
