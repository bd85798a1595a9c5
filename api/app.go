package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/cors"
	"github.com/gofiber/fiber/v2/middleware/limiter"
	"github.com/gofiber/fiber/v2/middleware/recover"

	"xinling/assess"
	"xinling/printout"
	"xinling/slips"
	"xinling/webapp"
)

// Config is the HTTP layer's settings.
type Config struct {
	// BodyLimit caps request bodies in bytes.
	BodyLimit int
	// UploadLimit caps roster uploads, the one body that is a file.
	UploadLimit int
	// RatePerIP and RatePerToken cap requests per minute; 0 disables. The
	// per-address limit must allow a whole school behind one NAT.
	RatePerIP    int
	RatePerToken int
	// CORSOrigins lists origins allowed to call the API from a browser;
	// empty means same-origin only.
	CORSOrigins []string
	// ProxyHeader, when set (X-Forwarded-For), is where the client address
	// is read from; only set it behind a proxy that overwrites the header.
	ProxyHeader string
	// Metrics, when set with MetricsToken, is served at /metrics to
	// scrapers presenting the token.
	Metrics      http.Handler
	MetricsToken string
	// Observe, when set, is told how long each answer save and submit took
	// (op: save, save_batch, submit; outcome: ok or error).
	Observe func(op, outcome string, d time.Duration)
	// CookieSecure marks the session cookie Secure even when TLS ends at a
	// proxy the server cannot see.
	CookieSecure bool
	// WeChat is the official account whose web-page authorization names
	// residents; off unless AppID and Secret are set (and the sessions
	// service has an identity key).
	WeChat WeChatConfig
	// RateLogin caps sign-in attempts per minute per client address.
	RateLogin int
	// RateHandoff caps call-back requests and bookings (which take a
	// phone number from the public) per minute per client address.
	RateHandoff int
	// PublicURL is where respondents reach the server; code slips' QR
	// codes point at its H5 entry.
	PublicURL string
	// CJKFont is the TrueType font that prints names on code slips.
	CJKFont string
	// WebApp is the built web app to serve; nil means the embedded one.
	WebApp fs.FS
	Log    *slog.Logger
}

// DefaultConfig returns settings that suit one server facing the internet.
func DefaultConfig() Config {
	return Config{BodyLimit: 64 << 10, UploadLimit: 4 << 20, RatePerIP: 60_000, RatePerToken: 600, RateLogin: 20, RateHandoff: 20,
		PublicURL: "http://127.0.0.1:8080", CJKFont: slips.DefaultFont}
}

// Services are what the API exposes: the workflows, as assess.New built
// and wired them, and the readiness check.
type Services struct {
	// Services may be nil for a test that asks only the probes.
	*assess.Services
	// Ready reports whether the server can serve: the store is reachable
	// and the instruments are loaded.
	Ready func(ctx context.Context) error
}

// New builds the Fiber app with every route and middleware.
func New(cfg Config, svc Services) *fiber.App {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.BodyLimit <= 0 {
		cfg.BodyLimit = DefaultConfig().BodyLimit
	}
	if svc.Services == nil {
		svc.Services = &assess.Services{}
	}
	app := fiber.New(fiber.Config{
		AppName:               "xinling",
		BodyLimit:             max(cfg.BodyLimit, cfg.UploadLimit),
		ErrorHandler:          errorHandler(cfg.Log),
		DisableStartupMessage: true,
		// Strings from a request must outlive it: session ids are kept as
		// cache keys. Immutable copies them instead of aliasing buffers.
		Immutable:    true,
		ReadTimeout:  30 * time.Second,
		WriteTimeout: 30 * time.Second,
		IdleTimeout:  120 * time.Second,
		ProxyHeader:  cfg.ProxyHeader,
	})
	// observe comes first, so that a recovered panic is still logged with
	// its request id and final status.
	app.Use(observe(cfg.Log))
	app.Use(recover.New())
	app.Use(securityHeaders(cfg.CookieSecure))
	app.Use(bodyLimit(cfg.BodyLimit))
	app.Use("/api", noStore)
	if len(cfg.CORSOrigins) > 0 {
		app.Use(cors.New(cors.Config{AllowOrigins: strings.Join(cfg.CORSOrigins, ","), AllowHeaders: "Authorization, Content-Type"}))
	}

	app.Get("/healthz", func(c *fiber.Ctx) error { return c.JSON(fiber.Map{"ok": true}) })
	var readyDetail func() fiber.Map
	if svc.Catalog != nil {
		readyDetail = func() fiber.Map {
			return fiber.Map{"instruments": fiber.Map{"disabled": svc.Catalog.Disabled(), "problems": svc.Catalog.Problems()}}
		}
	}
	app.Get("/readyz", readyz(cfg.Log, svc.Ready, readyDetail))
	if cfg.Metrics != nil && cfg.MetricsToken != "" {
		app.Get("/metrics", metricsRoute(cfg.MetricsToken, cfg.Metrics))
	}

	v1 := app.Group("/api/v1", rateLimit(cfg.RatePerIP, func(c *fiber.Ctx) string { return c.IP() }))
	v1.Get("/ping", func(c *fiber.Ctx) error { return c.JSON(fiber.Map{"ok": true}) })
	v1.Get("/openapi.json", serveOpenAPI)

	r := respondent{svc.Sessions}
	v1.Get("/instruments", r.catalogue)
	v1.Get("/instruments/:id", r.instrument)
	v1.Post("/sessions", r.create)
	sessions := v1.Group("/sessions/:id", rateLimit(cfg.RatePerToken, tokenKey))
	sessions.Get("", r.get)
	sessions.Put("/answers/:item", timed(cfg.Observe, "save", r.answer))
	sessions.Post("/answers", timed(cfg.Observe, "save_batch", r.answers))
	sessions.Post("/submit", timed(cfg.Observe, "submit", r.submit))
	ident := newIdentityAPI(cfg, svc.Sessions)
	registerIdentity(v1, ident)
	var staffAuth fiber.Handler

	if svc.Staff != nil {
		st := staffAPI{staff: svc.Staff, cookieSecure: cfg.CookieSecure}
		v1.Post("/auth/login", rateLimit(cfg.RateLogin, func(c *fiber.Ctx) string { return c.IP() }),
			rateLimit(cfg.RateLogin, loginAccountKey), st.login)
		// Each staff route names the check itself: a prefix group would
		// also catch unknown paths and answer 401 for a 404.
		auth := st.requireStaff
		staffAuth = auth
		v1.Post("/auth/logout", auth, st.logout)
		v1.Get("/auth/me", auth, st.me)
		v1.Post("/auth/password", auth, st.changePassword)
		v1.Get("/staff", auth, st.listAccounts)
		v1.Post("/staff", auth, st.createAccount)
		v1.Post("/staff/:id/reset-password", auth, st.resetPassword)
		v1.Get("/units", auth, st.units)
		v1.Post("/units", auth, st.createUnit)
		v1.Get("/units/:id/summary", auth, st.summary)
		v1.Put("/units/:id", auth, st.renameUnit)
		v1.Post("/staff/:id/disable", auth, st.setDisabled(true))
		v1.Post("/staff/:id/enable", auth, st.setDisabled(false))
		v1.Get("/audit", auth, st.audit)
		if svc.Records != nil {
			registerRecords(v1, auth, svc.Records)
			registerAfterScreening(v1, auth, svc.Records)
		}
		if svc.Queue != nil {
			registerQueue(v1, auth, queueAPI{queue: svc.Queue, hub: svc.Hub})
		}
		if svc.Notifications != nil {
			registerNotifications(v1, auth, notifyAPI{notes: svc.Notifications})
		}
		if svc.Campaigns != nil {
			font := sync.OnceValues(func() ([]byte, error) { return slips.LoadFont(cfg.CJKFont) })
			fonts := sync.OnceValues(func() (*printout.Fonts, error) {
				data, err := font()
				if err != nil {
					return nil, err
				}
				return printout.NewFonts(data)
			})
			registerCampaigns(v1, auth, campaignAPI{campaigns: svc.Campaigns, publicURL: cfg.PublicURL, font: font, fonts: fonts})
			if svc.Records != nil {
				registerFollowUps(v1, auth, followUpAPI{campaigns: svc.Campaigns, records: svc.Records})
			}
		}
		if svc.Stats != nil {
			registerStats(v1, auth, statsAPI{stats: svc.Stats})
		}
		if svc.Catalog != nil {
			registerInstruments(v1, auth, instrumentAPI{catalog: svc.Catalog})
		}
		v1.Put("/staff/:id/permissions", auth, st.setPermissions)
	}
	if svc.Handoff != nil {
		registerHandoff(v1, staffAuth, cfg, handoffAPI{handoff: svc.Handoff, queue: svc.Queue, ident: ident})
	}
	if cfg.WebApp == nil {
		cfg.WebApp = webapp.Files()
	}
	registerWebApp(app, cfg.WebApp)
	return app
}

// rateLimit allows max requests per minute per key; 0 turns it off.
func rateLimit(max int, key func(*fiber.Ctx) string) fiber.Handler {
	return limiter.New(limiter.Config{
		Next:         func(*fiber.Ctx) bool { return max <= 0 },
		Max:          max,
		Expiration:   time.Minute,
		KeyGenerator: key,
		LimitReached: func(c *fiber.Ctx) error {
			return sendError(c, codeRateLimited, "too many requests; please slow down", "")
		},
	})
}

// tokenKey limits per session token; the token itself is not kept in
// the limiter's memory, only its hash.
func tokenKey(c *fiber.Ctx) string {
	sum := sha256.Sum256([]byte(bearer(c)))
	return hex.EncodeToString(sum[:8])
}

func bearer(c *fiber.Ctx) string {
	h := c.Get(fiber.HeaderAuthorization)
	if t, ok := strings.CutPrefix(h, "Bearer "); ok {
		return strings.TrimSpace(t)
	}
	return ""
}

// locale picks zh-CN or en from ?locale= or Accept-Language.
func locale(c *fiber.Ctx) string {
	if l := c.Query("locale"); l == "en" || l == "zh-CN" {
		return l
	}
	if strings.HasPrefix(strings.ToLower(c.Get(fiber.HeaderAcceptLanguage)), "en") {
		return "en"
	}
	return "zh-CN"
}
