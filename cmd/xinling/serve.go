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
	"xinling/logging"
	"xinling/metrics"
	"xinling/store"
	"xinling/store/sealed"
	"xinling/store/sqlite"
)

// envDefaults lets XINLING_* variables set a flag's default; an explicit
// flag still wins. Bad values fail at start, with the variable's name.
type envDefaults struct {
	fs   *flag.FlagSet
	errs []string
	// sources records the config file line that set a flag.
	sources map[string]string
	// secrets are flags whose environment value must not become the
	// default that --help prints.
	secrets []string
}

// Secret is String for a value that must not show in --help: the
// environment is applied after parsing instead of as the default.
func (e *envDefaults) Secret(name, usage string) *string {
	e.secrets = append(e.secrets, name)
	return e.fs.String(name, "", usage+" [env "+envName(name)+"]")
}

// applySecrets sets each secret flag not given on the command line from
// its environment variable.
func (e *envDefaults) applySecrets(explicit map[string]bool) {
	for _, name := range e.secrets {
		if _, v, ok := e.lookup(name); ok && !explicit[name] {
			_ = e.fs.Set(name, v)
		}
	}
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

// Bool is a switch: "--dev-key" alone turns it on, as a flag should.
func (e *envDefaults) Bool(name string, def bool, usage string) *bool {
	if env, v, ok := e.lookup(name); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			e.errs = append(e.errs, fmt.Sprintf("%s=%q is not true or false", env, v))
		}
		def = b
	}
	return e.fs.Bool(name, def, usage+" [env "+envName(name)+"]")
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

const serveUsage = `usage: xinling serve [flags]

Each setting comes from, in order: its flag, its XINLING_* environment
variable, the --config file (YAML, keys named like the flags, for example
session-idle: 48h or sla: [1h, 24h, 72h]), its default. A bad value stops
the server at start, naming the setting and where it came from.

/healthz answers while the process lives; /readyz while the store answers
and the instruments are loaded. Prometheus metrics are served only where
asked: --metrics-addr (a private listener) or, with --metrics-token, on the
main address to scrapers sending that bearer token.

`

type serveConfig struct {
	addr, data, mongoURI, mongoDB string
	pprof                         string
	logFormat                     string
	logLevel                      slog.Level
	metricsAddr                   string
	commitHook                    func(ops int)
	queueFeed                     time.Duration
	notifyPoll, notifyScan        time.Duration
	api                           api.Config
	assess                        assess.Options
	devKey                        bool      // no XINLING_DATA_KEY: use a development key in the data dir
	warn                          io.Writer // where the development-key warning goes
}

func parseServeFlags(args []string, stderr io.Writer) (*serveConfig, bool, error) {
	fs := newFlags("serve", stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), serveUsage)
		fs.PrintDefaults()
	}
	env := &envDefaults{fs: fs}
	apiDef, assessDef := api.DefaultConfig(), assess.DefaultOptions()
	sessDef := assessDef.Sessions
	addr := env.String("addr", "127.0.0.1:8080", "address to listen on")
	data := env.String("data", "./data", "directory of the embedded store")
	mongoURI := env.Secret("mongo-uri", "use MongoDB at this URI instead of the embedded store")
	mongoDB := env.String("mongo-db", "xinling", "MongoDB database name")
	queueFeed := env.Duration("queue-feed", 2*time.Second, "with MongoDB, poll it this often for queue changes other servers made, for live consoles (0: off)")
	idle := env.Duration("session-idle", sessDef.IdleTimeout, "how long an unanswered session stays open")
	retakeWait := env.Duration("retake-cooling-off", assess.DefaultRetakeCoolingOff, "how long after an invalid sitting a pupil may be given a retake code")
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
	rateHandoff := env.Int("rate-handoff", apiDef.RateHandoff, "call-back requests and bookings per minute per client address (0: no limit)")
	staffTTL := env.Duration("staff-session", assessDef.Auth.SessionTTL, "how long a staff sign-in lasts")
	publicURL := env.String("public-url", apiDef.PublicURL, "where respondents reach this server (QR codes on code slips point here)")
	configFile := env.String("config", "", "YAML file of settings named like these flags (addr: 0.0.0.0:8080); flags and environment win over it")
	logFormat := env.String("log-format", "text", "log format: text or json")
	logLevel := env.String("log-level", "info", "least severe log level written: debug, info, warn or error")
	metricsAddr := env.String("metrics-addr", "", "serve Prometheus /metrics on this separate address (keep it private: 127.0.0.1:9464)")
	metricsToken := env.Secret("metrics-token", "also serve /metrics on the main address to scrapers sending this bearer token (set it in the environment, not on the command line)")
	cjkFont := env.String("cjk-font", apiDef.CJKFont, "TrueType font with Chinese glyphs for code slips (Debian: fonts-droid-fallback)")
	selfTestUnit := env.String("self-test-unit", "", "unit whose queue gets warnings from anonymous self-tests (default: the tree's only root)")
	retention := env.Duration("retention-anonymous", assess.DefaultAnonymousRetention, "purge the answers of anonymous self-tests idle this long (0: keep them)")
	devKey := env.Bool("dev-key", false, "without XINLING_DATA_KEY, encrypt under a throwaway key kept in the data directory (development only)")
	pprofAddr := env.String("pprof-addr", "", "serve Go profiles on this loopback address (127.0.0.1:6060) for performance work")
	wx := addWeChatFlags(env)
	nf := addNotifyFlags(env)
	if helped, err := parseFlags(fs, args); helped || err != nil {
		return nil, helped, err
	}
	if len(env.errs) > 0 {
		return nil, false, usagef("%s", strings.Join(env.errs, "; "))
	}
	explicit := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { explicit[f.Name] = true })
	env.applySecrets(explicit)
	if *configFile != "" {
		if err := env.applyConfigFile(*configFile, explicit); err != nil {
			return nil, false, err
		}
	}
	from := func(name string) string { return env.source(name, explicit) }
	if fs.NArg() > 0 {
		return nil, false, usagef("unexpected argument %q", fs.Arg(0))
	}
	cfg := &serveConfig{addr: *addr, data: *data, mongoURI: *mongoURI, mongoDB: *mongoDB, api: apiDef, assess: assessDef, pprof: *pprofAddr,
		logFormat: *logFormat, metricsAddr: *metricsAddr}
	if cfg.pprof != "" && !isLoopback(cfg.pprof) {
		return nil, false, usagef("--pprof-addr must be a loopback address: profiles expose memory contents (from %s)", from("pprof-addr"))
	}
	if cfg.queueFeed = *queueFeed; cfg.queueFeed < 0 {
		return nil, false, usagef("--queue-feed must be 0 (off) or positive")
	}
	if *idle <= 0 {
		return nil, false, usagef("--session-idle must be positive (from %s)", from("session-idle"))
	}
	for _, n := range []string{"rate-ip", "rate-token", "rate-login", "rate-handoff"} {
		if v, _ := fs.Lookup(n).Value.(flag.Getter).Get().(int); v < 0 {
			return nil, false, usagef("--%s must be 0 or more, not %d (from %s)", n, v, from(n))
		}
	}
	if *bodyLimit < 1024 {
		return nil, false, usagef("--body-limit must be at least 1024, not %d (from %s)", *bodyLimit, from("body-limit"))
	}
	levels := strings.Split(*sla, ",")
	if len(levels) != 3 {
		return nil, false, usagef("--sla needs three durations, for levels 1,2,3: %q (from %s)", *sla, from("sla"))
	}
	for i, l := range levels {
		d, err := time.ParseDuration(strings.TrimSpace(l))
		if err != nil || d <= 0 {
			return nil, false, usagef("--sla level %d: %q is not a positive duration (from %s)", i+1, l, from("sla"))
		}
		cfg.assess.SLA[i+1] = d
	}
	cfg.assess.Sessions.IdleTimeout, cfg.assess.Sessions.Hotline, cfg.assess.Sessions.SelfTestUnit = *idle, *hotline, *selfTestUnit
	if *retakeWait < 0 {
		return nil, false, usagef("--retake-cooling-off must not be negative")
	}
	cfg.assess.RetakeCoolingOff = *retakeWait
	// Retention shorter than the idle time would purge an abandoned risk
	// answer before the sweeper could file its warning.
	if *retention < 0 || (*retention > 0 && *retention <= *idle) {
		return nil, false, usagef("--retention-anonymous must be 0 (keep) or longer than --session-idle (%s)", *idle)
	}
	cfg.assess.Sessions.AnonymousRetention = *retention
	switch *cookieSecure {
	case "true", "1":
		cfg.api.CookieSecure = true
	case "false", "0", "":
	default:
		return nil, false, usagef("--cookie-secure must be true or false, not %q (from %s)", *cookieSecure, from("cookie-secure"))
	}
	if cfg.logFormat != "text" && cfg.logFormat != "json" {
		return nil, false, usagef("--log-format must be text or json, not %q (from %s)", cfg.logFormat, from("log-format"))
	}
	if err := cfg.logLevel.UnmarshalText([]byte(*logLevel)); err != nil {
		return nil, false, usagef("--log-level must be debug, info, warn or error, not %q (from %s)", *logLevel, from("log-level"))
	}
	if len(*metricsToken) > 0 && len(*metricsToken) < 16 {
		return nil, false, usagef("--metrics-token must be at least 16 characters (from %s)", from("metrics-token"))
	}
	cfg.api.MetricsToken = *metricsToken
	if *rateLogin < 0 || *staffTTL <= 0 {
		return nil, false, usagef("--rate-login must be 0 or more and --staff-session positive")
	}
	cfg.devKey = *devKey
	cfg.warn = stderr
	cfg.api.RateLogin, cfg.api.RateHandoff, cfg.assess.Auth.SessionTTL = *rateLogin, *rateHandoff, *staffTTL
	cfg.api.PublicURL, cfg.api.CJKFont = *publicURL, *cjkFont
	cfg.api.RatePerIP, cfg.api.RatePerToken, cfg.api.BodyLimit, cfg.api.ProxyHeader = *rateIP, *rateToken, *bodyLimit, *proxy
	if cfg.api.UploadLimit = *uploadLimit; cfg.api.UploadLimit < 1024 {
		return nil, false, usagef("--upload-limit must be at least 1024")
	}
	if *cors != "" {
		cfg.api.CORSOrigins = strings.Split(*cors, ",")
	}
	if err := wx.apply(cfg); err != nil {
		return nil, false, err
	}
	if err := nf.apply(cfg); err != nil {
		return nil, false, err
	}
	return cfg, false, nil
}

// instrumentSyncEvery is how soon a custom version published on another
// server of the same store becomes usable here.
const instrumentSyncEvery = 5 * time.Second

// finishEvery and finishGrace pace the completion of writes a crashed
// server left half done: an intent older than the grace is no longer in
// flight anywhere (a submit takes milliseconds), so finishing it races
// nobody, and a level-1 entry so delayed is filed well inside its deadline.
const (
	finishEvery = 10 * time.Second
	finishGrace = 20 * time.Second
)

func serveCommand(args []string, stdout, stderr io.Writer) error {
	cfg, helped, err := parseServeFlags(args, stderr)
	if helped || err != nil {
		return err
	}
	// Access lines come one per request: batching their writes keeps the
	// log's cost down (warnings and errors are still written at once).
	out := logging.NewBuffered(stderr, 200*time.Millisecond)
	defer out.Close()
	log, err := logging.New(out, cfg.logFormat, cfg.logLevel)
	if err != nil {
		return usagef("%v", err)
	}
	m := metrics.New()
	cfg.commitHook = m.CommitBatch
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	lib, err := builtins()
	if err != nil {
		return fmt.Errorf("built-in instruments: %w", err)
	}
	unlock, err := lockData(cfg)
	if err != nil {
		return err
	}
	defer unlock()
	st, where, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	cfg.assess.Log, cfg.assess.Observer = log, m
	// One lease owner per process: of several servers sharing a store, each
	// notification goes to one per attempt.
	cfg.assess.Notify.Owner = assess.NewOwnerID()
	svc := assess.New(st, lib, cfg.assess)
	hub := svc.Hub
	// Several servers share a MongoDB store: each tells its own consoles of
	// the queue changes the others make. One embedded store has one server.
	if cfg.mongoURI != "" && cfg.queueFeed > 0 {
		if feed, ok := st.(store.ChangeFeed); ok {
			go svc.FollowFeed(feed).Run(ctx, cfg.queueFeed)
		} else {
			log.Warn("the store offers no change feed: consoles see only this server's queue changes live")
		}
	}
	// A crash mid-submit or mid-referral leaves an intent in a shared store;
	// every server finishes such intents, so no result waits without its
	// queue entry (docs/storage.md).
	go svc.RunFinisher(ctx, finishEvery, finishGrace)
	// Custom instruments published in the store load now, and every few
	// seconds after, so a version published on one server serves on all.
	if err := svc.Catalog.Sync(ctx); err != nil {
		log.Error("loading custom instruments", "err", err)
	}
	go svc.Catalog.RunSync(ctx, instrumentSyncEvery)
	go svc.Queue.RunEscalation(ctx, 30*time.Second)
	go svc.Sessions.RunSweeper(ctx, time.Minute, log.Info)
	if cfg.assess.Sessions.AnonymousRetention > 0 {
		go svc.Sessions.RunRetention(ctx, time.Hour, log.Info)
	}
	go svc.Staff.RunLoginExpiry(ctx, 10*time.Minute, log.Warn)
	// The notification outbox: what a crash left unsent goes out now, and
	// every warning filed from here on at once (docs/notifications.md).
	go svc.Dispatcher.Run(ctx, cfg.notifyPoll)
	go svc.Dispatcher.RunUnclaimedScan(ctx, cfg.notifyScan)
	m.Watch(metrics.Sources{
		ActiveSessions: func() int { return svc.Sessions.Active(metrics.ActiveWindow) },
		SSEClients:     hub.Subscribers,
		Queue:          st.QueueLevels,
		Notifications:  st.NotificationCounts,
		Log:            log,
	})
	cfg.api.Log = log
	cfg.api.Metrics, cfg.api.Observe = m.Handler(), m.Observe
	ready := api.Readiness(st.Ping, func() int { return len(lib.Latest()) })
	app := api.New(cfg.api, api.Services{Services: svc, Ready: ready})

	if cfg.pprof != "" {
		go func() {
			log.Info("profiles", "url", "http://"+cfg.pprof+"/debug/pprof/")
			if err := http.ListenAndServe(cfg.pprof, nil); err != nil {
				log.Error("pprof server", "err", err)
			}
		}()
	}
	var metricsSrv *http.Server
	if cfg.metricsAddr != "" {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", m.Handler())
		metricsSrv = &http.Server{Addr: cfg.metricsAddr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		ln, err := net.Listen("tcp", cfg.metricsAddr)
		if err != nil {
			st.Close()
			return fmt.Errorf("--metrics-addr: %w", err)
		}
		go func() {
			if err := metricsSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("metrics server", "err", err)
			}
		}()
		log.Info("metrics", "url", "http://"+ln.Addr().String()+"/metrics")
	}
	errc := make(chan error, 1)
	go func() { errc <- app.Listen(cfg.addr) }()
	log.Info("xinling is serving", "url", "http://"+cfg.addr, "store", where, "instruments", len(lib.Latest()),
		"notify_owner", svc.Dispatcher.Owner(), "notify_channels", enabledChannels(svc.Dispatcher.Channels()),
		"wechat_appid", cfg.api.WeChat.AppID) // the appid is public; the secret is never logged
	fmt.Fprintf(stdout, "xinling is serving on http://%s (store: %s)\n", cfg.addr, where)

	select {
	case err = <-errc:
		// Listen failed (address in use...): nothing was served.
	case <-ctx.Done():
		log.Info("shutting down: finishing requests in flight")
		hub.Close() // consoles' live streams would otherwise hold the server open
		err = app.ShutdownWithTimeout(30 * time.Second)
	}
	if metricsSrv != nil {
		_ = metricsSrv.Close()
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

func enabledChannels(m map[string]bool) string {
	var on []string
	for _, ch := range store.NotifyChannels {
		if m[ch] {
			on = append(on, ch)
		}
	}
	return strings.Join(on, ",")
}

func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}

// openStore opens the configured backend behind the sealing layer, so
// personal data is encrypted before it reaches any backend. Keys are read
// first: a missing or bad key fails before the store is touched.
func openStore(ctx context.Context, cfg *serveConfig) (store.Store, string, error) {
	keys, err := loadKeys(cfg.data, cfg.devKey, cfg.warn)
	if err != nil {
		return nil, "", err
	}
	st, where, err := openBackend(ctx, cfg)
	if err != nil {
		return nil, "", err
	}
	return sealed.Wrap(st, keys), where, nil
}

// lockData holds the embedded store's directory lock for as long as the
// server runs, so that xinling restore refuses to swap the database under
// it. MongoDB needs none.
func lockData(cfg *serveConfig) (func() error, error) {
	if cfg.mongoURI != "" {
		return func() error { return nil }, nil
	}
	release, err := sqlite.LockDir(cfg.data)
	if errors.Is(err, sqlite.ErrLocked) {
		return nil, fmt.Errorf("%s is in use by another xinling serve or restore", cfg.data)
	}
	return release, err
}
