package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof" // served only with --pprof-addr, on loopback
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"xinling/api"
	"xinling/assess"
	"xinling/store"
	"xinling/store/mongo"
	"xinling/store/sqlite"
)

// envDefaults lets XINLING_* variables set a flag's default; an explicit
// flag still wins. Bad values fail at start, with the variable's name.
type envDefaults struct {
	fs   *flag.FlagSet
	errs []string
}

func (e *envDefaults) lookup(flagName string) (string, string, bool) {
	env := "XINLING_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
	v, ok := os.LookupEnv(env)
	return env, v, ok
}

func (e *envDefaults) String(name, def, usage string) *string {
	if _, v, ok := e.lookup(name); ok {
		def = v
	}
	return e.fs.String(name, def, usage+" [env "+envName(name)+"]")
}

func (e *envDefaults) Int(name string, def int, usage string) *int {
	if env, v, ok := e.lookup(name); ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			e.errs = append(e.errs, fmt.Sprintf("%s=%q is not a whole number", env, v))
		}
		def = n
	}
	return e.fs.Int(name, def, usage+" [env "+envName(name)+"]")
}

func (e *envDefaults) Duration(name string, def time.Duration, usage string) *time.Duration {
	if env, v, ok := e.lookup(name); ok {
		d, err := time.ParseDuration(v)
		if err != nil {
			e.errs = append(e.errs, fmt.Sprintf("%s=%q is not a duration such as 72h", env, v))
		}
		def = d
	}
	return e.fs.Duration(name, def, usage+" [env "+envName(name)+"]")
}

func envName(flagName string) string {
	return "XINLING_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

type serveConfig struct {
	addr, data, mongoURI, mongoDB string
	pprof                         string
	queueFeed                     time.Duration
	api                           api.Config
	sessions                      assess.Config
	auth                          assess.AuthConfig
}

func parseServeFlags(args []string, stderr io.Writer) (*serveConfig, bool, error) {
	fs := newFlags("serve", stderr)
	env := &envDefaults{fs: fs}
	apiDef, sessDef := api.DefaultConfig(), assess.DefaultConfig()
	addr := env.String("addr", "127.0.0.1:8080", "address to listen on")
	data := env.String("data", "./data", "directory of the embedded store")
	mongoURI := env.String("mongo-uri", "", "use MongoDB at this URI instead of the embedded store")
	mongoDB := env.String("mongo-db", "xinling", "MongoDB database name")
	queueFeed := env.Duration("queue-feed", 2*time.Second, "with MongoDB, poll it this often for queue changes other servers made, for live consoles (0: off)")
	idle := env.Duration("session-idle", sessDef.IdleTimeout, "how long an unanswered session stays open")
	hotline := env.String("crisis-hotline", sessDef.Hotline, "hotline shown when a level-1 warning fires")
	sla := env.String("sla", "1h,24h,72h", "follow-up deadlines of warning levels 1,2,3")
	rateIP := env.Int("rate-ip", apiDef.RatePerIP, "requests per minute per client address (0: no limit)")
	rateToken := env.Int("rate-token", apiDef.RatePerToken, "requests per minute per session token (0: no limit)")
	bodyLimit := env.Int("body-limit", apiDef.BodyLimit, "largest request body in bytes")
	uploadLimit := env.Int("upload-limit", apiDef.UploadLimit, "largest roster upload (.xlsx or .csv) in bytes")
	cors := env.String("cors-origins", "", "comma-separated origins allowed to call the API from browsers")
	proxy := env.String("proxy-header", "", "header with the client address when behind a proxy (X-Forwarded-For)")
	cookieSecure := env.String("cookie-secure", "false", "mark the staff session cookie Secure (set true when TLS ends at a proxy)")
	rateLogin := env.Int("rate-login", apiDef.RateLogin, "sign-in attempts per minute per client address, and per account name (0: no limit)")
	staffTTL := env.Duration("staff-session", assess.DefaultAuthConfig().SessionTTL, "how long a staff sign-in lasts")
	publicURL := env.String("public-url", apiDef.PublicURL, "where respondents reach this server (QR codes on code slips point here)")
	cjkFont := env.String("cjk-font", apiDef.CJKFont, "TrueType font with Chinese glyphs for code slips (Debian: fonts-droid-fallback)")
	selfTestUnit := env.String("self-test-unit", "", "unit whose queue gets warnings from anonymous self-tests (default: the tree's only root)")
	pprofAddr := env.String("pprof-addr", "", "serve Go profiles on this loopback address (127.0.0.1:6060) for performance work")
	if helped, err := parseFlags(fs, args); helped || err != nil {
		return nil, helped, err
	}
	if len(env.errs) > 0 {
		return nil, false, usagef("%s", strings.Join(env.errs, "; "))
	}
	if fs.NArg() > 0 {
		return nil, false, usagef("unexpected argument %q", fs.Arg(0))
	}
	cfg := &serveConfig{addr: *addr, data: *data, mongoURI: *mongoURI, mongoDB: *mongoDB, api: apiDef, sessions: sessDef, pprof: *pprofAddr}
	if cfg.pprof != "" && !isLoopback(cfg.pprof) {
		return nil, false, usagef("--pprof-addr must be a loopback address: profiles expose memory contents")
	}
	if cfg.queueFeed = *queueFeed; cfg.queueFeed < 0 {
		return nil, false, usagef("--queue-feed must be 0 (off) or positive")
	}
	if *idle <= 0 {
		return nil, false, usagef("--session-idle must be positive")
	}
	if *rateIP < 0 || *rateToken < 0 || *bodyLimit < 1024 {
		return nil, false, usagef("rate limits must be 0 or more and --body-limit at least 1024")
	}
	levels := strings.Split(*sla, ",")
	if len(levels) != 3 {
		return nil, false, usagef("--sla needs three durations, for levels 1,2,3: %q", *sla)
	}
	for i, l := range levels {
		d, err := time.ParseDuration(strings.TrimSpace(l))
		if err != nil || d <= 0 {
			return nil, false, usagef("--sla level %d: %q is not a positive duration", i+1, l)
		}
		cfg.sessions.SLA[i+1] = d
	}
	cfg.sessions.IdleTimeout, cfg.sessions.Hotline, cfg.sessions.SelfTestUnit = *idle, *hotline, *selfTestUnit
	switch *cookieSecure {
	case "true", "1":
		cfg.api.CookieSecure = true
	case "false", "0", "":
	default:
		return nil, false, usagef("--cookie-secure must be true or false, not %q", *cookieSecure)
	}
	if *rateLogin < 0 || *staffTTL <= 0 {
		return nil, false, usagef("--rate-login must be 0 or more and --staff-session positive")
	}
	cfg.api.RateLogin, cfg.auth.SessionTTL = *rateLogin, *staffTTL
	cfg.api.PublicURL, cfg.api.CJKFont = *publicURL, *cjkFont
	cfg.api.RatePerIP, cfg.api.RatePerToken, cfg.api.BodyLimit, cfg.api.ProxyHeader = *rateIP, *rateToken, *bodyLimit, *proxy
	if cfg.api.UploadLimit = *uploadLimit; cfg.api.UploadLimit < 1024 {
		return nil, false, usagef("--upload-limit must be at least 1024")
	}
	if *cors != "" {
		cfg.api.CORSOrigins = strings.Split(*cors, ",")
	}
	return cfg, false, nil
}

func serveCommand(args []string, stdout, stderr io.Writer) error {
	cfg, helped, err := parseServeFlags(args, stderr)
	if helped || err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	lib, err := builtins()
	if err != nil {
		return fmt.Errorf("built-in instruments: %w", err)
	}
	st, where, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	hub := assess.NewHub()
	// Several servers share a MongoDB store: each tells its own consoles of
	// the queue changes the others make. One embedded store has one server.
	if cfg.mongoURI != "" && cfg.queueFeed > 0 {
		if feed, ok := st.(store.ChangeFeed); ok {
			go assess.NewHubFeed(hub, feed, nil, log).Run(ctx, cfg.queueFeed)
		} else {
			log.Warn("the store offers no change feed: consoles see only this server's queue changes live")
		}
	}
	campaigns := assess.NewCampaigns(st, lib, nil)
	cfg.sessions.Hub, cfg.sessions.Campaigns = hub, campaigns
	sessions := assess.NewSessions(st, lib, cfg.sessions)
	queue := assess.NewQueue(st, lib, assess.QueueConfig{SLA: cfg.sessions.SLA, Hub: hub, Log: log})
	go queue.RunEscalation(ctx, 30*time.Second)
	go sessions.RunSweeper(ctx, time.Minute, log.Info)
	cfg.api.Log = log
	staff := assess.NewStaff(st, cfg.auth)
	records := assess.NewRecords(st, lib, nil)
	records.OnWarningChange(hub.Publish) // a referral moves its entry: tell the consoles
	app := api.New(cfg.api, api.Services{Sessions: sessions, Staff: staff, Records: records,
		Queue: queue, Hub: hub, Campaigns: campaigns, Stats: assess.NewStats(st, nil), Ready: st.Ping})

	if cfg.pprof != "" {
		go func() {
			log.Info("profiles", "url", "http://"+cfg.pprof+"/debug/pprof/")
			if err := http.ListenAndServe(cfg.pprof, nil); err != nil {
				log.Error("pprof server", "err", err)
			}
		}()
	}
	errc := make(chan error, 1)
	go func() { errc <- app.Listen(cfg.addr) }()
	log.Info("xinling is serving", "url", "http://"+cfg.addr, "store", where, "instruments", len(lib.Latest()))
	fmt.Fprintf(stdout, "xinling is serving on http://%s (store: %s)\n", cfg.addr, where)

	select {
	case err = <-errc:
		// Listen failed (address in use...): nothing was served.
	case <-ctx.Done():
		log.Info("shutting down: finishing requests in flight")
		hub.Close() // consoles' live streams would otherwise hold the server open
		err = app.ShutdownWithTimeout(30 * time.Second)
	}
	// Close flushes the store's writer: every acknowledged answer is on disk.
	if cerr := st.Close(); cerr != nil {
		err = errors.Join(err, cerr)
	}
	if err == nil {
		log.Info("stopped")
	}
	return err
}

func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}

func openStore(ctx context.Context, cfg *serveConfig) (store.Store, string, error) {
	if cfg.mongoURI != "" {
		st, err := mongo.Open(ctx, cfg.mongoURI, cfg.mongoDB)
		if err != nil {
			return nil, "", fmt.Errorf("MongoDB: %w", err)
		}
		return st, "mongodb (" + cfg.mongoDB + ")", nil
	}
	st, err := sqlite.Open(ctx, cfg.data, sqlite.Options{})
	if err != nil {
		return nil, "", fmt.Errorf("embedded store in %s: %w", cfg.data, err)
	}
	return st, "embedded, " + cfg.data, nil
}
