// Package metrics holds xinling's Prometheus metrics in one registry. The
// domain packages do not import Prometheus: assess, the store and the hub
// report through small hooks (assess.Observer, sqlite.Options.OnCommit,
// api.Config.Observe) that cmd wires to a *Metrics, and the gauges are
// computed when scraped.
//
// No metric carries personal data or a per-person label: labels are warning
// levels, operations and outcomes only.
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"xinling/store"
)

// Metrics is the registry and the instruments fed by hooks.
type Metrics struct {
	reg      *prometheus.Registry
	answers  *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	batch    prometheus.Histogram
	warnings *prometheus.CounterVec
	audit    *prometheus.CounterVec
	sent     *prometheus.CounterVec
	failed   *prometheus.CounterVec
	notifyAt *prometheus.HistogramVec
}

// New registers the event metrics and the Go runtime and process ones.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		answers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "xinling_answers_saved_total",
			Help: "Answers acknowledged as durable, by outcome: saved (new or newer), replay (same seq again), stale (older seq, ignored).",
		}, []string{"status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "xinling_request_duration_seconds",
			Help: "Time to handle answer saves and submits, from routing to the response, by op (save, save_batch, submit) and outcome (ok, error).",
			// The durable write dominates: a group commit is a few ms, a
			// saturated writer hundreds.
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"op", "outcome"}),
		batch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "xinling_store_commit_batch_size",
			Help:    "Write operations in each group-committed transaction of the embedded store.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 12), // 1 .. 2048, the writer's largest batch
		}),
		warnings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "xinling_warnings_raised_total",
			Help: "Submissions that raised or joined a warning queue entry, by the entry's level (1 is the most urgent).",
		}, []string{"level"}),
		audit: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "xinling_audit_write_failures_total",
			Help: "Audit lines that could not be written, by kind: disclosure (the data was withheld, the caller got 503 audit_unavailable) or action (the action stands; the log has the line at ERROR). Any increase needs the operator.",
		}, []string{"kind"}),
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "xinling_notifications_sent_total",
			Help: "Notification deliveries this instance had accepted by their channel, by channel.",
		}, []string{"channel"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "xinling_notifications_failed_total",
			Help: "Failed notification attempts on this instance, by channel and outcome: retry (tried again with backoff) or dead (given up: on the dead-letter list, which needs an admin).",
		}, []string{"channel", "outcome"}),
		notifyAt: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "xinling_notification_delay_seconds",
			Help: "Time from the event (a warning filed, an entry left unclaimed) to its channel accepting a delivery, by channel.",
			// A level-1 message should be out in seconds; retries take minutes.
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 1800},
		}, []string{"channel"}),
	}
	m.reg.MustRegister(m.answers, m.latency, m.batch, m.warnings, m.audit, m.sent, m.failed, m.notifyAt,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// Levels that have not happened yet still show as 0, so alerts on
	// rate() see a series from the start.
	for lvl := 1; lvl <= 3; lvl++ {
		m.warnings.WithLabelValues(strconv.Itoa(lvl))
	}
	for _, st := range []string{string(store.AnswerSaved), string(store.AnswerReplay), string(store.AnswerStale)} {
		m.answers.WithLabelValues(st)
	}
	for _, kind := range []string{"disclosure", "action"} { // assess.AuditDisclosure, assess.AuditAction
		m.audit.WithLabelValues(kind)
	}
	for _, ch := range store.NotifyChannels {
		m.sent.WithLabelValues(ch)
		m.failed.WithLabelValues(ch, "retry")
		m.failed.WithLabelValues(ch, "dead")
	}
	return m
}

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// AnswerSaved counts one acknowledged answer (assess.Observer).
func (m *Metrics) AnswerSaved(status string) { m.answers.WithLabelValues(status).Inc() }

// WarningRaised counts a submission that filed a warning (assess.Observer).
func (m *Metrics) WarningRaised(level int) { m.warnings.WithLabelValues(strconv.Itoa(level)).Inc() }

// AuditWriteFailed counts an audit line that could not be written
// (assess.Observer).
func (m *Metrics) AuditWriteFailed(kind string) { m.audit.WithLabelValues(kind).Inc() }

// NotificationSent counts a delivery its channel accepted, and how long
// after its event (assess.Observer).
func (m *Metrics) NotificationSent(channel string, delay time.Duration) {
	m.sent.WithLabelValues(channel).Inc()
	m.notifyAt.WithLabelValues(channel).Observe(delay.Seconds())
}

// NotificationFailed counts a failed delivery attempt (assess.Observer).
func (m *Metrics) NotificationFailed(channel string, dead bool) {
	outcome := "retry"
	if dead {
		outcome = "dead"
	}
	m.failed.WithLabelValues(channel, outcome).Inc()
}

// Observe records a save or submit's latency (api.Config.Observe).
func (m *Metrics) Observe(op, outcome string, d time.Duration) {
	m.latency.WithLabelValues(op, outcome).Observe(d.Seconds())
}

// CommitBatch records one group commit's size (sqlite.Options.OnCommit).
func (m *Metrics) CommitBatch(ops int) { m.batch.Observe(float64(ops)) }

// Sources are what the scrape-time gauges ask. Any may be nil.
type Sources struct {
	// ActiveSessions counts sessions in progress.
	ActiveSessions func() int
	// SSEClients counts consoles on the live queue stream.
	SSEClients func() int
	// Queue sums up unclaimed queue entries (store.Store.QueueLevels).
	Queue func(ctx context.Context, now time.Time) ([]store.QueueLevel, error)
	// Notifications counts the outbox by kind, channel and state
	// (store.Store.NotificationCounts): what every instance sent, what is
	// pending and what is dead.
	Notifications func(ctx context.Context) ([]store.NotificationCount, error)
	// Now is the clock; tests replace it.
	Now func() time.Time
	// Log hears of a failed queue read; the scrape still answers.
	Log *slog.Logger
}

// Watch registers the gauges computed at scrape time.
func (m *Metrics) Watch(src Sources) {
	if src.Now == nil {
		src.Now = time.Now
	}
	if src.Log == nil {
		src.Log = slog.Default()
	}
	if src.ActiveSessions != nil {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "xinling_sessions_active",
			Help: "Open sessions on this instance with an answer or a start in the last " + ActiveWindow.String() + ".",
		}, func() float64 { return float64(src.ActiveSessions()) }))
	}
	if src.SSEClients != nil {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "xinling_sse_clients",
			Help: "Consoles connected to this instance's live queue stream.",
		}, func() float64 { return float64(src.SSEClients()) }))
	}
	if src.Queue != nil {
		m.reg.MustRegister(&queueCollector{src: src})
	}
	if src.Notifications != nil {
		m.reg.MustRegister(&outboxCollector{src: src})
	}
}

var (
	outboxDesc = prometheus.NewDesc("xinling_notifications",
		"Notifications in the outbox (shared by every instance), by kind (warning, unclaimed, digest, callback; delivery: one message to one contact), channel (deliveries only) and state (pending, sent, dead).",
		[]string{"kind", "channel", "state"}, nil)
	outboxErrDesc = prometheus.NewDesc("xinling_notifications_scrape_error",
		"1 when the outbox figures could not be read from the store at this scrape.", nil, nil)
)

// outboxCollector reads the outbox's counts once per scrape. The pending
// and dead deliveries of every channel are always reported, so an alert on
// them sees 0 rather than nothing.
type outboxCollector struct{ src Sources }

func (o *outboxCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- outboxDesc
	ch <- outboxErrDesc
}

func (o *outboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	counts, err := o.src.Notifications(ctx)
	if err != nil {
		o.src.Log.Warn("metrics: reading the notification outbox", "err", err)
		ch <- prometheus.MustNewConstMetric(outboxErrDesc, prometheus.GaugeValue, 1)
		return
	}
	ch <- prometheus.MustNewConstMetric(outboxErrDesc, prometheus.GaugeValue, 0)
	type key struct{ kind, channel, state string }
	seen := map[key]int{}
	for _, c := range counts {
		seen[key{c.Kind, c.Channel, string(c.State)}] += c.Count
	}
	for _, chn := range store.NotifyChannels {
		for _, st := range []store.NotificationState{store.NotificationPending, store.NotificationSent, store.NotificationDead} {
			k := key{store.NotifyDelivery, chn, string(st)}
			seen[k] += 0
		}
	}
	for k, n := range seen {
		ch <- prometheus.MustNewConstMetric(outboxDesc, prometheus.GaugeValue, float64(n), k.kind, k.channel, k.state)
	}
}

// ActiveWindow is how recent a session's last activity must be for it to
// count as active: a respondent reads an item for seconds, not minutes.
const ActiveWindow = 15 * time.Minute

var (
	queueOpenDesc = prometheus.NewDesc("xinling_queue_open",
		"Warning queue entries nobody has claimed yet, by level.", []string{"level"}, nil)
	queueAgeDesc = prometheus.NewDesc("xinling_queue_oldest_age_seconds",
		"Age of the longest-waiting unclaimed queue entry, by level (0 when none waits).", []string{"level"}, nil)
	slaDesc = prometheus.NewDesc("xinling_sla_breaches",
		"Unclaimed queue entries past their follow-up deadline, by level.", []string{"level"}, nil)
	scrapeErrDesc = prometheus.NewDesc("xinling_queue_scrape_error",
		"1 when the queue figures could not be read from the store at this scrape.", nil, nil)
)

// queueCollector reads the queue summary once per scrape. Every level is
// always reported, so a level whose queue empties drops to 0 instead of
// vanishing.
type queueCollector struct{ src Sources }

func (q *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- queueOpenDesc
	ch <- queueAgeDesc
	ch <- slaDesc
	ch <- scrapeErrDesc
}

// scrapeTimeout keeps a slow store from holding a scrape open.
const scrapeTimeout = 3 * time.Second

func (q *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	now := q.src.Now()
	levels, err := q.src.Queue(ctx, now)
	if err != nil {
		q.src.Log.Warn("metrics: reading the queue", "err", err)
		ch <- prometheus.MustNewConstMetric(scrapeErrDesc, prometheus.GaugeValue, 1)
		return
	}
	ch <- prometheus.MustNewConstMetric(scrapeErrDesc, prometheus.GaugeValue, 0)
	byLevel := map[int]store.QueueLevel{}
	for _, l := range levels {
		byLevel[l.Level] = l
	}
	for lvl := 1; lvl <= 3; lvl++ {
		l := byLevel[lvl]
		label := strconv.Itoa(lvl)
		age := 0.0
		if l.Open > 0 && !l.Oldest.IsZero() {
			age = max(0, now.Sub(l.Oldest).Seconds())
		}
		ch <- prometheus.MustNewConstMetric(queueOpenDesc, prometheus.GaugeValue, float64(l.Open), label)
		ch <- prometheus.MustNewConstMetric(queueAgeDesc, prometheus.GaugeValue, age, label)
		ch <- prometheus.MustNewConstMetric(slaDesc, prometheus.GaugeValue, float64(l.Overdue), label)
	}
}
