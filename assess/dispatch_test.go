package assess_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"xinling/assess"
	"xinling/internal/testkit"
	"xinling/notify"
	"xinling/notify/notifytest"
	"xinling/store"
)

// monday10 is 10:00 on a Monday in China Standard Time: working hours.
var monday10 = time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC)

// rig is one server's services over a sealed store, with a stand-in for
// every channel and a clock that only the test moves.
type rig struct {
	t    *testing.T
	ctx  context.Context
	st   store.Store
	clk  *testkit.Clock
	opts assess.Options
	svc  *assess.Services
	wc   *notifytest.WeCom
	dt   *notifytest.DingTalk
	wh   *notifytest.Webhook
	sms  *notifytest.AliyunSMS
	mail *notifytest.SMTP
}

func newRig(t *testing.T, mutate ...func(*assess.NotifyOptions)) *rig {
	t.Helper()
	lib, st, _, opts := fixture(t, time.Hour)
	clk := testkit.NewClock(monday10)
	r := &rig{t: t, ctx: context.Background(), st: st, clk: clk,
		wc: notifytest.NewWeCom(t), dt: notifytest.NewDingTalk(t), wh: notifytest.NewWebhook(t),
		sms: notifytest.NewAliyunSMS(t), mail: notifytest.NewSMTP(t, notify.SMTPPlain)}
	opts.Now = clk.Now
	opts.Notify = assess.NotifyOptions{Owner: "server-a", PublicURL: "https://xl.example.cn/",
		Channels: map[string]notify.Channel{store.ChannelWeCom: r.wc.Channel(), store.ChannelDingTalk: r.dt.Channel(),
			store.ChannelWebhook: r.wh.Channel(), store.ChannelSMS: r.sms.Channel(), store.ChannelEmail: r.mail.Channel()},
		Backoff: time.Minute, MaxBackoff: 8 * time.Minute, MaxAttempts: 4, SendTimeout: 2 * time.Second,
		Jitter: func() float64 { return 0 }}
	for _, m := range mutate {
		m(&opts.Notify)
	}
	r.opts = opts
	r.svc = assess.New(st, lib, opts)
	for _, u := range []store.Unit{{ID: "city", Kind: "city", Name: "市心理健康中心"}, {ID: "county", ParentID: "city", Kind: "county", Name: "青山区"},
		{ID: "town", ParentID: "county", Kind: "township", Name: "青山街道心理服务站"}, {ID: "village", ParentID: "town", Kind: "village", Name: "青山村"}} {
		if _, err := st.CreateUnit(r.ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

// settings stores a unit's settings, replacing what it has.
func (r *rig) settings(s store.NotifySettings) {
	r.t.Helper()
	if old, err := r.st.GetNotifySettings(r.ctx, s.UnitID); err == nil {
		s.Version = old.Version
	}
	if _, err := r.st.PutNotifySettings(r.ctx, s); err != nil {
		r.t.Fatal(err)
	}
}

// Endpoints of the stand-ins.
func (r *rig) weCom() store.NotifyEndpoint {
	return store.NotifyEndpoint{Channel: store.ChannelWeCom, Address: store.Sealed(r.wc.Key)}
}
func (r *rig) dingTalk() store.NotifyEndpoint {
	return store.NotifyEndpoint{Channel: store.ChannelDingTalk, Address: store.Sealed(r.dt.Token), Secret: store.Sealed(r.dt.Secret)}
}
func (r *rig) webhook() store.NotifyEndpoint {
	return store.NotifyEndpoint{Channel: store.ChannelWebhook, Address: store.Sealed(r.wh.URL), Secret: store.Sealed(r.wh.Secret)}
}

func always(id, channel string) store.NotifyContact {
	return store.NotifyContact{ID: id, Name: id + " 值班", Channel: channel, Always: true}
}

// file submits a session in unit whose warning is at level, as a
// respondent's would be, and returns the entry. The person's name and
// answers exist only here: nothing sent may carry them.
func (r *rig) file(unit string, level int) store.Warning {
	r.t.Helper()
	now := r.clk.Now()
	p, err := r.st.CreatePerson(r.ctx, store.Person{ID: store.NewID(), UnitID: unit, Name: store.Sealed(secretName), Phone: store.Sealed(secretPhone), CreatedAt: now})
	if err != nil {
		r.t.Fatal(err)
	}
	sess, err := r.st.CreateSession(r.ctx, store.Session{ID: store.NewID(), PersonID: p.ID, UnitID: unit, Instruments: []string{"phq9"}, Consent: true, CreatedAt: now})
	if err != nil {
		r.t.Fatal(err)
	}
	rid := store.NewID()
	out, err := r.st.Submit(r.ctx, store.Submission{SessionID: sess.ID, At: now,
		Results: []store.Result{{ID: rid, Instrument: "phq9", Version: "1.0.0", Scores: map[string]float64{"total": secretScore}}},
		Warning: &store.WarningDraft{ID: store.NewID(), Level: level, DueAt: now.Add(time.Hour),
			Reasons: []store.Reason{{ResultID: rid, Instrument: "phq9", Rule: "item9", Level: level}}}})
	if err != nil || out.Warning == nil {
		r.t.Fatalf("submit: %v", err)
	}
	return *out.Warning
}

const (
	secretName  = "欧阳晓雪"
	secretPhone = "13612345678"
	secretScore = 19.75
)

// settle dispatches until nothing is due at the clock's time.
func (r *rig) settle(d *assess.Dispatcher) {
	r.t.Helper()
	for range 50 {
		n, err := d.DispatchOnce(r.ctx)
		if err != nil {
			r.t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
	r.t.Fatal("the outbox never settled")
}

func (r *rig) notification(id string) store.Notification {
	r.t.Helper()
	n, err := r.st.GetNotification(r.ctx, id)
	if err != nil {
		r.t.Fatalf("notification %s: %v", id, err)
	}
	return n
}

// history returns the dispatcher's events of an entry as kind → notes.
func (r *rig) history(w store.Warning) map[string][]assess.NotifyNote {
	r.t.Helper()
	got, err := r.st.GetWarning(r.ctx, w.ID)
	if err != nil {
		r.t.Fatal(err)
	}
	out := map[string][]assess.NotifyNote{}
	for _, e := range got.History {
		if n, ok := assess.ParseNotifyNote(e.Note); ok {
			out[e.Kind] = append(out[e.Kind], n)
		}
	}
	return out
}

func level1ID(w store.Warning) string { return fmt.Sprintf("warning:%s:level%d", w.ID, w.Level) }

// A level-1 entry reaches every contact on duty, on every channel, at
// once; a contact off duty hears nothing; the messages carry the level,
// the unit, the times and a link, and nothing about the respondent.
func TestLevel1ReachesEveryoneOnDuty(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	r.settings(store.NotifySettings{UnitID: "town", Endpoints: []store.NotifyEndpoint{r.weCom(), r.dingTalk(), r.webhook()},
		Contacts: []store.NotifyContact{always("group", store.ChannelWeCom), always("ding", store.ChannelDingTalk), always("hook", store.ChannelWebhook),
			// A second member of the WeCom group: the robot posts once.
			always("group2", store.ChannelWeCom),
			{ID: "zhang", Name: "张医生", Channel: store.ChannelSMS, Address: store.Sealed(notifytest.StaffPhone),
				Duty: []store.DutyWindow{{Days: []int{1, 2, 3, 4, 5}, From: 8 * 60, To: 18 * 60}}},
			{ID: "night", Name: "夜班", Channel: store.ChannelEmail, Address: store.Sealed(notifytest.StaffEmail), Locale: "en",
				Duty: []store.DutyWindow{{From: 22 * 60, To: 8 * 60}}}}})
	w := r.file("town", 1)
	r.settle(r.svc.Dispatcher)

	for name, rec := range map[string]*notifytest.Recorder{"wecom": r.wc.Recorder, "dingtalk": r.dt.Recorder, "webhook": r.wh.Recorder, "sms": r.sms.Recorder} {
		if got := rec.Delivered(); len(got) != 1 {
			t.Errorf("%s received %d messages, want 1: %+v", name, len(got), rec.Received())
		}
	}
	if got := r.mail.Received(); len(got) != 0 {
		t.Errorf("the contact off duty was mailed: %+v", got)
	}
	event := r.notification(level1ID(w))
	if event.State != store.NotificationSent {
		t.Fatalf("the event is %s", event.State)
	}
	for _, id := range []string{"group:wecom", "ding:dingtalk", "hook:webhook", "zhang:sms"} {
		d := r.notification(level1ID(w) + ":" + id)
		if d.State != store.NotificationSent || d.Attempts != 1 || d.UnitID != "town" || d.WarningID != w.ID {
			t.Errorf("delivery %s: %+v", id, d)
		}
	}
	p := r.wh.Unique()[0]
	if p.Kind != notify.KindWarningNew || p.Level != 1 || p.Unit != "青山街道心理服务站" || p.Link != "https://xl.example.cn/console/queue/"+w.ID ||
		p.IdempotencyKey != assess.IdempotencyKey(level1ID(w)+":hook:webhook") {
		t.Errorf("webhook payload %+v", p)
	}
	if text := r.sms.Delivered()[0].Text; !strings.Contains(text, "青山街道心理服务站") {
		t.Errorf("the SMS does not name the unit: %q", text)
	}
	h := r.history(w)
	if len(h[store.EventNotifyPlanned]) != 1 || h[store.EventNotifyPlanned][0].Deliveries != 4 || len(h[store.EventNotifySent]) != 4 {
		t.Fatalf("history %+v", h)
	}
	var names []string
	for _, n := range h[store.EventNotifySent] {
		names = append(names, n.ContactName)
	}
	slices.Sort(names)
	if fmt.Sprint(names) != "[ding 值班 group 值班 hook 值班 张医生]" {
		t.Errorf("history names %v", names)
	}
	for _, rec := range []*notifytest.Recorder{r.wc.Recorder, r.dt.Recorder, r.wh.Recorder, r.sms.Recorder} {
		rec.AssertNoPersonalData(t, secretName, secretPhone, fmt.Sprint(secretScore), w.PersonID, w.SessionID)
	}
	// Dispatching again sends nothing more.
	r.settle(r.svc.Dispatcher)
	if n := len(r.wh.Received()) + len(r.wc.Received()) + len(r.dt.Received()) + len(r.sms.Received()); n != 4 {
		t.Fatalf("%d requests after a second round, want 4", n)
	}
}

// A 5xx and a timeout are retried with exponential backoff, with the same
// idempotency key each time, until the message is accepted once.
func TestRetriesWithBackoff(t *testing.T) {
	t.Parallel()
	r := newRig(t, func(o *assess.NotifyOptions) { o.SendTimeout = 300 * time.Millisecond })
	r.settings(store.NotifySettings{UnitID: "town", Endpoints: []store.NotifyEndpoint{r.webhook()},
		Contacts: []store.NotifyContact{always("hook", store.ChannelWebhook)}})
	r.wh.FailNext(1, notifytest.Fault{Status: 503})
	r.wh.FailNext(1, notifytest.Fault{Hang: true})
	w := r.file("town", 1)
	id := level1ID(w) + ":hook:webhook"
	r.settle(r.svc.Dispatcher)
	d := r.notification(id)
	if d.State != store.NotificationPending || !d.NotBefore.Equal(r.clk.Now().Add(time.Minute)) || !strings.Contains(d.LastError, "503") {
		t.Fatalf("after a 503: %+v", d)
	}
	r.clk.Add(59 * time.Second)
	r.settle(r.svc.Dispatcher)
	if n := len(r.wh.Received()); n != 1 {
		t.Fatalf("retried before the backoff: %d requests", n)
	}
	r.clk.Add(time.Second)
	r.settle(r.svc.Dispatcher) // times out
	d = r.notification(id)
	if d.State != store.NotificationPending || !d.NotBefore.Equal(r.clk.Now().Add(2*time.Minute)) || d.Attempts != 2 {
		t.Fatalf("after a timeout: %+v", d)
	}
	r.clk.Add(2 * time.Minute)
	r.settle(r.svc.Dispatcher)
	d = r.notification(id)
	if d.State != store.NotificationSent || d.Attempts != 3 {
		t.Fatalf("after the third attempt: %+v", d)
	}
	keys := map[string]bool{}
	for _, rec := range r.wh.Received() {
		keys[rec.Header.Get("Idempotency-Key")] = true
	}
	if len(r.wh.Unique()) != 1 || len(keys) != 1 || !keys[assess.IdempotencyKey(id)] {
		t.Fatalf("accepted %d, keys %v", len(r.wh.Unique()), keys)
	}
	h := r.history(w)
	if len(h[store.EventNotifyFailed]) != 2 || len(h[store.EventNotifySent]) != 1 || h[store.EventNotifyFailed][0].RetryAt.IsZero() {
		t.Fatalf("history %+v", h)
	}
}

// The backoff doubles up to its cap, less the jitter.
func TestBackoffDoublesToItsCapWithJitter(t *testing.T) {
	t.Parallel()
	jitter := 0.5
	r := newRig(t, func(o *assess.NotifyOptions) {
		o.MaxAttempts, o.Backoff, o.MaxBackoff = 10, time.Minute, 4*time.Minute
		o.Jitter = func() float64 { return jitter }
	})
	r.settings(store.NotifySettings{UnitID: "town", Endpoints: []store.NotifyEndpoint{r.webhook()},
		Contacts: []store.NotifyContact{always("hook", store.ChannelWebhook)}})
	r.wh.FailNext(5, notifytest.Fault{Status: 502})
	w := r.file("town", 1)
	id := level1ID(w) + ":hook:webhook"
	// Full waits 1, 2, 4, 4, 4 minutes; a jitter of 0.5 takes a quarter off.
	for i, full := range []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 4 * time.Minute, 4 * time.Minute} {
		r.settle(r.svc.Dispatcher)
		d := r.notification(id)
		want := full - full/4
		if got := d.NotBefore.Sub(r.clk.Now()); got != want {
			t.Fatalf("wait after failure %d: %s, want %s", i+1, got, want)
		}
		r.clk.Add(want)
	}
	r.settle(r.svc.Dispatcher)
	if d := r.notification(id); d.State != store.NotificationSent {
		t.Fatalf("after the failures: %+v", d)
	}
}

// A wrong signature is permanent: the delivery goes to the dead-letter
// list at once, which admins see and can retry once the secret is fixed;
// a failure that lasts past MaxAttempts goes there too.
func TestDeadLettersAndRetry(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	wrong := r.dingTalk()
	wrong.Secret = store.Sealed("SECnot-the-robots-secret")
	r.settings(store.NotifySettings{UnitID: "town", Endpoints: []store.NotifyEndpoint{wrong, r.webhook()},
		Contacts: []store.NotifyContact{always("ding", store.ChannelDingTalk), always("hook", store.ChannelWebhook)}})
	r.wh.FailNext(10, notifytest.Fault{Status: 500})
	w := r.file("town", 1)
	r.settle(r.svc.Dispatcher)
	ding := r.notification(level1ID(w) + ":ding:dingtalk")
	if ding.State != store.NotificationDead || ding.Attempts != 1 || !strings.HasPrefix(ding.LastError, assess.ReasonPermanent) {
		t.Fatalf("a wrong signature: %+v", ding)
	}
	if strings.Contains(ding.LastError, "not-the-robots-secret") || strings.Contains(ding.LastError, r.dt.Token) {
		t.Fatalf("the error keeps a secret: %q", ding.LastError)
	}
	// The webhook fails four times (MaxAttempts), a minute, 2 and 4 apart.
	for _, wait := range []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute} {
		r.clk.Add(wait)
		r.settle(r.svc.Dispatcher)
	}
	hook := r.notification(level1ID(w) + ":hook:webhook")
	if hook.State != store.NotificationDead || hook.Attempts != 4 || !strings.HasPrefix(hook.LastError, assess.ReasonExhausted) || len(r.wh.Received()) != 4 {
		t.Fatalf("exhausted: %+v after %d requests", hook, len(r.wh.Received()))
	}
	h := r.history(w)
	if len(h[store.EventNotifyDead]) != 2 || len(h[store.EventNotifyFailed]) != 3 {
		t.Fatalf("history %+v", h)
	}

	admin := &assess.Principal{StaffID: "admin1", Role: store.RoleAdmin, UnitID: "county", UnitPath: "/city/county/"}
	dead, _, err := r.svc.Notifications.DeadLetters(r.ctx, admin, store.Page{})
	if err != nil || len(dead) != 2 || dead[0].ContactName == "" {
		t.Fatalf("dead letters: %+v, %v", dead, err)
	}
	elsewhere := &assess.Principal{StaffID: "admin2", Role: store.RoleAdmin, UnitID: "other", UnitPath: "/city/other/"}
	if list, _, _ := r.svc.Notifications.DeadLetters(r.ctx, elsewhere, store.Page{}); len(list) != 0 {
		t.Fatalf("an admin of another subtree sees %d dead letters", len(list))
	}
	if _, err := r.svc.Notifications.Retry(r.ctx, elsewhere, ding.ID, ""); code(err) != assess.CodeNotFound {
		t.Fatalf("retry out of scope: %v", err)
	}
	counsellor := &assess.Principal{StaffID: "c1", Role: store.RoleCounsellor, UnitPath: "/city/county/"}
	if _, err := r.svc.Notifications.Retry(r.ctx, counsellor, ding.ID, ""); code(err) != assess.CodeForbidden {
		t.Fatalf("retry by a counsellor: %v", err)
	}
	// The admin fixes the secret (the token is kept: it is not sent again)
	// and retries.
	secret := r.dt.Secret
	view, err := r.svc.Notifications.Settings(r.ctx, admin, "town")
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.svc.Notifications.PutSettings(r.ctx, admin, "town", assess.SettingsInput{Version: view.Version,
		Endpoints: []assess.EndpointInput{{Channel: store.ChannelDingTalk, Secret: &secret}, {Channel: store.ChannelWebhook}},
		Contacts:  []assess.ContactInput{{ID: "ding", Name: "ding", Channel: store.ChannelDingTalk, Always: true}}}, "10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	back, err := r.svc.Notifications.Retry(r.ctx, admin, ding.ID, "10.0.0.1")
	if err != nil || back.State != store.NotificationPending {
		t.Fatalf("retry: %+v %v", back, err)
	}
	if _, err := r.svc.Notifications.Retry(r.ctx, admin, ding.ID, ""); code(err) != assess.CodeConflict {
		t.Fatalf("a second retry of a pending one: %v", err)
	}
	r.settle(r.svc.Dispatcher)
	if got := r.notification(ding.ID); got.State != store.NotificationSent || len(r.dt.Delivered()) != 1 {
		t.Fatalf("after the retry: %+v", got)
	}
	h = r.history(w)
	if len(h[store.EventNotifyRequeued]) != 1 || h[store.EventNotifyRequeued][0].ContactName != "ding" || len(h[store.EventNotifySent]) != 1 {
		t.Fatalf("history after the retry %+v", h)
	}
	audit, _, err := r.st.ListAudit(r.ctx, store.AuditFilter{Action: "notification_retry"}, store.Page{})
	if err != nil || len(audit) != 1 || audit[0].ActorID != "admin1" {
		t.Fatalf("audit of the retry: %+v %v", audit, err)
	}
}

// A channel this server has no account for, and a contact removed since
// the event, are dead letters with their reason.
func TestDeadWithoutChannelOrContact(t *testing.T) {
	t.Parallel()
	r := newRig(t, func(o *assess.NotifyOptions) { delete(o.Channels, store.ChannelSMS) })
	r.settings(store.NotifySettings{UnitID: "town", Endpoints: []store.NotifyEndpoint{r.webhook()},
		Contacts: []store.NotifyContact{{ID: "zhang", Name: "张", Channel: store.ChannelSMS, Address: store.Sealed(notifytest.StaffPhone), Always: true},
			always("hook", store.ChannelWebhook)}})
	// The hook's first attempt fails; the contact is removed before its retry.
	r.wh.FailNext(1, notifytest.Fault{Status: 503})
	w := r.file("town", 1)
	r.settle(r.svc.Dispatcher)
	r.settings(store.NotifySettings{UnitID: "town", Contacts: []store.NotifyContact{{ID: "zhang", Name: "张", Channel: store.ChannelSMS,
		Address: store.Sealed(notifytest.StaffPhone), Always: true}}})
	r.clk.Add(time.Minute)
	r.settle(r.svc.Dispatcher)
	for id, reason := range map[string]string{"zhang:sms": assess.ReasonNoChannel, "hook:webhook": assess.ReasonNoContact} {
		d := r.notification(level1ID(w) + ":" + id)
		if d.State != store.NotificationDead || !strings.HasPrefix(d.LastError, reason) {
			t.Errorf("%s: %+v", id, d)
		}
	}
}

// A level-1 entry left unclaimed past its unit's time (15 minutes unless
// set) is told to the parent unit's on-duty contacts, once; a claimed one
// is not.
func TestUnclaimedLevel1TellsTheParent(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	r.settings(store.NotifySettings{UnitID: "county", Endpoints: []store.NotifyEndpoint{r.dingTalk()},
		Contacts: []store.NotifyContact{always("county-duty", store.ChannelDingTalk)}})
	r.settings(store.NotifySettings{UnitID: "town", Endpoints: []store.NotifyEndpoint{r.weCom()},
		Contacts: []store.NotifyContact{always("group", store.ChannelWeCom)}})
	left := r.file("town", 1)
	taken := r.file("town", 1)
	r.settle(r.svc.Dispatcher)
	if len(r.wc.Delivered()) != 2 || len(r.dt.Received()) != 0 {
		t.Fatalf("at once: wecom %d, dingtalk %d", len(r.wc.Delivered()), len(r.dt.Received()))
	}
	if _, err := r.st.ClaimWarning(r.ctx, taken.ID, "c1", r.clk.Now(), r.clk.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	r.clk.Add(14*time.Minute + 59*time.Second)
	if n, err := r.svc.Dispatcher.ScanUnclaimed(r.ctx); err != nil || n != 0 {
		t.Fatalf("before 15 minutes: %d, %v", n, err)
	}
	r.clk.Add(time.Second)
	if n, err := r.svc.Dispatcher.ScanUnclaimed(r.ctx); err != nil || n != 1 {
		t.Fatalf("at 15 minutes: %d, %v", n, err)
	}
	if n, _ := r.svc.Dispatcher.ScanUnclaimed(r.ctx); n != 0 {
		t.Fatalf("a second scan owes %d more", n)
	}
	r.settle(r.svc.Dispatcher)
	got := r.dt.Delivered()
	if len(got) != 1 || !strings.Contains(got[0].Text, "未认领") || !strings.Contains(got[0].Text, "青山街道心理服务站") {
		t.Fatalf("the county heard %+v", got)
	}
	d := r.notification(assess.UnclaimedID(left.ID) + ":county-duty:dingtalk")
	if d.State != store.NotificationSent || d.UnitID != "county" {
		t.Fatalf("unclaimed delivery %+v", d)
	}
	if h := r.history(left); len(h[store.EventNotifyPlanned]) != 2 || h[store.EventNotifyPlanned][1].Notification != store.NotifyUnclaimed {
		t.Fatalf("history %+v", h)
	}

	// A unit may tell its parent sooner; an entry claimed between the scan
	// and the send is not told.
	r.settings(store.NotifySettings{UnitID: "town", Endpoints: []store.NotifyEndpoint{r.weCom()},
		Contacts: []store.NotifyContact{always("group", store.ChannelWeCom)}, UnclaimedAfter: 5 * time.Minute})
	soon, late := r.file("town", 1), r.file("town", 1)
	r.settle(r.svc.Dispatcher)
	r.clk.Add(5 * time.Minute)
	if n, _ := r.svc.Dispatcher.ScanUnclaimed(r.ctx); n != 2 {
		t.Fatalf("after 5 minutes, %d notices", n)
	}
	if _, err := r.st.ClaimWarning(r.ctx, late.ID, "c1", r.clk.Now(), r.clk.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	r.settle(r.svc.Dispatcher)
	if len(r.dt.Delivered()) != 2 {
		t.Fatalf("the county heard %d notices, want 2", len(r.dt.Delivered()))
	}
	if n := r.notification(assess.UnclaimedID(late.ID)); n.State != store.NotificationSent || n.LastError != assess.ReasonClaimed {
		t.Fatalf("a notice of an entry claimed meanwhile: %+v", n)
	}
	_ = soon
}

// Levels 2 and 3 are told at once in working hours; outside them, and
// always under a digest policy, they wait for the next digest, which
// counts the unit's entries still open.
func TestLevels23FollowThePolicy(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	r.settings(store.NotifySettings{UnitID: "town", Endpoints: []store.NotifyEndpoint{r.webhook()},
		Contacts: []store.NotifyContact{always("hook", store.ChannelWebhook)},
		Policy:   store.NotifyPolicy{Levels23: store.PolicyImmediate, DigestAt: []int{8*60 + 30, 17 * 60}}})
	day := r.file("town", 2) // Monday 10:00: at once
	r.settle(r.svc.Dispatcher)
	if got := r.wh.Unique(); len(got) != 1 || got[0].Kind != notify.KindWarningNew || got[0].Level != 2 {
		t.Fatalf("in working hours: %+v", got)
	}
	r.clk.Add(10 * time.Hour) // Monday 20:00
	evening := []store.Warning{r.file("town", 2), r.file("town", 3)}
	r.settle(r.svc.Dispatcher)
	if n := len(r.wh.Received()); n != 1 {
		t.Fatalf("out of hours, %d messages", n)
	}
	tuesday0830 := time.Date(2026, 11, 24, 0, 30, 0, 0, time.UTC)
	digest := r.notification(assess.DigestID("town", tuesday0830))
	if digest.State != store.NotificationPending || !digest.NotBefore.Equal(tuesday0830) {
		t.Fatalf("digest %+v", digest)
	}
	for _, w := range evening {
		h := r.history(w)
		if p := h[store.EventNotifyPlanned]; len(p) != 1 || p[0].Reason != assess.ReasonDeferred || !p[0].DeferredUntil.Equal(tuesday0830) {
			t.Fatalf("deferred entry's history %+v", h)
		}
	}
	r.clk.Set(tuesday0830.Add(-time.Second))
	r.settle(r.svc.Dispatcher)
	if n := len(r.wh.Received()); n != 1 {
		t.Fatal("the digest went out early")
	}
	// One of the three is claimed before the digest: two still wait.
	if _, err := r.st.ClaimWarning(r.ctx, day.ID, "c1", r.clk.Now(), r.clk.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	r.clk.Set(tuesday0830)
	r.settle(r.svc.Dispatcher)
	got := r.wh.Unique()
	if len(got) != 2 || got[1].Kind != notify.KindDigest || got[1].Count != 2 || got[1].Link != "https://xl.example.cn/console/queue" {
		t.Fatalf("the digest: %+v", got)
	}

	// Under a digest policy, a level-2 entry waits even in working hours.
	r.settings(store.NotifySettings{UnitID: "town", Endpoints: []store.NotifyEndpoint{r.webhook()},
		Contacts: []store.NotifyContact{always("hook", store.ChannelWebhook)}, Policy: store.NotifyPolicy{Levels23: store.PolicyDigest}})
	r.clk.Set(tuesday0830.Add(90 * time.Minute)) // 10:00
	w := r.file("town", 2)
	r.settle(r.svc.Dispatcher)
	if len(r.wh.Unique()) != 2 {
		t.Fatal("a level-2 entry was told at once under a digest policy")
	}
	if p := r.history(w)[store.EventNotifyPlanned]; len(p) != 1 || !p[0].DeferredUntil.Equal(tuesday0830.Add(24*time.Hour)) {
		t.Fatalf("deferred to %+v", p)
	}
	// Level 1 is told at once whatever the policy.
	r.file("town", 1)
	r.settle(r.svc.Dispatcher)
	if got := r.wh.Unique(); len(got) != 3 || got[2].Level != 1 {
		t.Fatalf("level 1 under a digest policy: %+v", got)
	}
}

// A unit without settings follows its nearest ancestor's; with nobody on
// duty, or no settings up the tree, the history says so.
func TestInheritedSettingsAndNobodyOnDuty(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	lone := r.file("village", 1)
	r.settle(r.svc.Dispatcher)
	if p := r.history(lone)[store.EventNotifyPlanned]; len(p) != 1 || p[0].Reason != assess.ReasonNoSettings {
		t.Fatalf("without settings: %+v", p)
	}
	r.settings(store.NotifySettings{UnitID: "town", Endpoints: []store.NotifyEndpoint{r.webhook()},
		Contacts: []store.NotifyContact{{ID: "weekdays", Name: "工作日", Channel: store.ChannelWebhook,
			Duty: []store.DutyWindow{{Days: []int{1, 2, 3, 4, 5}, From: 9 * 60, To: 17 * 60}}}}})
	w := r.file("village", 1)
	r.settle(r.svc.Dispatcher)
	if got := r.wh.Unique(); len(got) != 1 || got[0].Unit != "青山村" {
		t.Fatalf("the village's entry through the town's settings: %+v", got)
	}
	if d := r.notification(level1ID(w) + ":weekdays:webhook"); d.UnitID != "town" {
		t.Fatalf("delivery %+v", d)
	}
	r.clk.Add(5 * 24 * time.Hour) // Saturday
	sat := r.file("village", 1)
	r.settle(r.svc.Dispatcher)
	if p := r.history(sat)[store.EventNotifyPlanned]; len(p) != 1 || p[0].Reason != assess.ReasonNobodyOnDuty || len(r.wh.Received()) != 1 {
		t.Fatalf("nobody on duty: %+v", p)
	}
}

// Two servers dispatching one store at once deliver each message once.
func TestTwoDispatchersDeliverOnce(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	other := assess.New(r.st, nil, func() assess.Options { o := r.opts; o.Notify.Owner = "server-b"; return o }())
	r.settings(store.NotifySettings{UnitID: "town", Endpoints: []store.NotifyEndpoint{r.webhook(), r.weCom()},
		Contacts: []store.NotifyContact{always("hook", store.ChannelWebhook), always("group", store.ChannelWeCom)}})
	const entries = 24
	for range entries {
		r.file("town", 1)
	}
	var wg sync.WaitGroup
	for _, d := range []*assess.Dispatcher{r.svc.Dispatcher, other.Dispatcher} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				n, err := d.DispatchOnce(r.ctx)
				if err != nil {
					t.Error(err)
					return
				}
				if n == 0 {
					if c, _ := r.st.ClaimNotifications(r.ctx, "probe", r.clk.Now(), r.clk.Now(), 1); len(c) == 0 {
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	if got := r.wh.Received(); len(got) != entries || len(r.wh.Unique()) != entries {
		t.Fatalf("webhook: %d requests, %d unique, want %d", len(got), len(r.wh.Unique()), entries)
	}
	if got := r.wc.Received(); len(got) != entries {
		t.Fatalf("wecom: %d requests, want %d", len(got), entries)
	}
	owners := map[string]bool{}
	list, _, err := r.st.ListNotifications(r.ctx, store.NotificationFilter{Kinds: []string{store.NotifyDelivery}}, store.Page{Limit: store.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range list {
		if n.State != store.NotificationSent || n.Attempts != 1 {
			t.Errorf("delivery %s: %s after %d attempts", n.ID, n.State, n.Attempts)
		}
	}
	_ = owners
}

// Settings as admins keep them: secrets are never shown again and a save
// without them keeps them; addresses are checked; scope and roles hold;
// the save is audited without a secret.
func TestNotifySettingsKeepSecrets(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	admin := &assess.Principal{StaffID: "admin1", Role: store.RoleAdmin, UnitID: "county", UnitPath: "/city/county/"}
	hookSecret, dingToken, dingSecret, phone := "hook-secret-0123456789abcdef", "ding-token-7777", "SECding-secret-8888", "+86 139 0000 0001"
	url := r.wh.URL
	in := assess.SettingsInput{
		Endpoints: []assess.EndpointInput{{Channel: store.ChannelWebhook, Address: &url, Secret: &hookSecret},
			{Channel: store.ChannelDingTalk, Address: &dingToken, Secret: &dingSecret}},
		Contacts: []assess.ContactInput{{ID: "zhang", Name: "张医生", Channel: store.ChannelSMS, Address: &phone, Always: true},
			{ID: "ding", Name: "钉钉群", Channel: store.ChannelDingTalk, Always: true}},
		Policy: store.NotifyPolicy{Levels23: store.PolicyDigest}, UnclaimedAfter: 10 * time.Minute,
	}
	view, err := r.svc.Notifications.PutSettings(r.ctx, admin, "town", in, "10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	shown := fmt.Sprintf("%+v", view)
	for _, s := range []string{hookSecret, dingToken, dingSecret, "13900000001", "/hooks/xinling"} {
		if strings.Contains(shown, s) {
			t.Errorf("the settings show %q: %s", s, shown)
		}
	}
	if !view.Own || view.Version != 1 || view.Endpoints[1].Hint != "http://"+strings.TrimPrefix(strings.Split(url, "/hooks")[0], "http://") ||
		!view.Endpoints[0].SecretSet || view.Contacts[0].AddressHint != "139****0001" || !view.Channels[store.ChannelSMS] {
		t.Fatalf("view %+v", view)
	}
	// Saved again without any address or secret: all are kept.
	in.Version = view.Version
	in.Endpoints = []assess.EndpointInput{{Channel: store.ChannelWebhook}, {Channel: store.ChannelDingTalk}}
	in.Contacts[0].Address = nil
	if _, err := r.svc.Notifications.PutSettings(r.ctx, admin, "town", in, ""); err != nil {
		t.Fatal(err)
	}
	s, err := r.st.GetNotifySettings(r.ctx, "town")
	if err != nil {
		t.Fatal(err)
	}
	hook, _ := s.Endpoint(store.ChannelWebhook)
	ding, _ := s.Endpoint(store.ChannelDingTalk)
	if string(hook.Secret) != hookSecret || string(hook.Address) != url || string(ding.Address) != dingToken || string(ding.Secret) != dingSecret ||
		string(s.Contacts[0].Address) != "13900000001" || s.Version != 2 {
		t.Fatalf("kept settings %+v", s)
	}
	// A child unit reads its parent's settings as inherited.
	if v, err := r.svc.Notifications.Settings(r.ctx, admin, "village"); err != nil || v.Own || v.InheritedFrom != "town" || v.Version != 0 {
		t.Fatalf("inherited view %+v %v", v, err)
	}
	bad := func(in assess.SettingsInput, field string) {
		t.Helper()
		_, err := r.svc.Notifications.PutSettings(r.ctx, admin, "county", in, "")
		var e *assess.Error
		if code(err) != assess.CodeValidation || !errors.As(err, &e) || e.Field != field {
			t.Errorf("want validation_failed on %s, got %v", field, err)
		}
	}
	plain, short, badPhone := "http://hooks.example.cn/x", "short", "12345"
	bad(assess.SettingsInput{Endpoints: []assess.EndpointInput{{Channel: store.ChannelWebhook, Address: &plain, Secret: &hookSecret}}}, "endpoints[0].address")
	bad(assess.SettingsInput{Endpoints: []assess.EndpointInput{{Channel: store.ChannelWebhook, Address: &url, Secret: &short}}}, "endpoints[0].secret")
	bad(assess.SettingsInput{Contacts: []assess.ContactInput{{ID: "x", Name: "x", Channel: store.ChannelSMS, Address: &badPhone, Always: true}}}, "contacts[0].address")
	bad(assess.SettingsInput{Contacts: []assess.ContactInput{{ID: "x", Name: "x", Channel: store.ChannelWeCom, Always: true}}}, "contacts[0].channel")
	bad(assess.SettingsInput{Contacts: []assess.ContactInput{{ID: "x", Name: "x", Channel: store.ChannelEmail, Address: &phone, Always: true}}}, "contacts[0].address")
	if _, err := r.svc.Notifications.PutSettings(r.ctx, admin, "town", assess.SettingsInput{Version: 1}, ""); code(err) != assess.CodeConflict {
		t.Fatalf("a stale version: %v", err)
	}
	elsewhere := &assess.Principal{StaffID: "admin2", Role: store.RoleAdmin, UnitPath: "/city/other/"}
	if _, err := r.svc.Notifications.Settings(r.ctx, elsewhere, "town"); code(err) != assess.CodeNotFound {
		t.Fatalf("out of scope: %v", err)
	}
	counsellor := &assess.Principal{StaffID: "c1", Role: store.RoleCounsellor, UnitPath: "/city/"}
	if _, err := r.svc.Notifications.Settings(r.ctx, counsellor, "town"); code(err) != assess.CodeForbidden {
		t.Fatalf("a counsellor: %v", err)
	}
	audit, _, err := r.st.ListAudit(r.ctx, store.AuditFilter{Action: "notify_settings"}, store.Page{})
	if err != nil || len(audit) != 2 {
		t.Fatalf("audit %+v %v", audit, err)
	}
	raw, _ := json.Marshal(audit)
	for _, s := range []string{hookSecret, dingToken, dingSecret, "13900000001"} {
		if strings.Contains(string(raw), s) {
			t.Errorf("the audit log holds %q", s)
		}
	}
}

// A test send reaches the contact at once and tells the admin how it went.
func TestSendTest(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	admin := &assess.Principal{StaffID: "admin1", Role: store.RoleAdmin, UnitPath: "/city/"}
	r.settings(store.NotifySettings{UnitID: "town", Endpoints: []store.NotifyEndpoint{r.weCom()},
		Contacts: []store.NotifyContact{always("group", store.ChannelWeCom)}})
	if err := r.svc.Notifications.SendTest(r.ctx, admin, "town", "group", ""); err != nil {
		t.Fatal(err)
	}
	if got := r.wc.Delivered(); len(got) != 1 || !strings.Contains(got[0].Text, "测试") || !strings.Contains(got[0].Text, "青山街道心理服务站") {
		t.Fatalf("test message: %+v", got)
	}
	r.wc.FailNext(1, notifytest.Fault{Code: "93000"})
	if err := r.svc.Notifications.SendTest(r.ctx, admin, "town", "group", ""); code(err) != assess.CodeNotifyFailed {
		t.Fatalf("a refused test: %v", err)
	}
	if err := r.svc.Notifications.SendTest(r.ctx, admin, "town", "nobody", ""); code(err) != assess.CodeNotFound {
		t.Fatalf("an unknown contact: %v", err)
	}
}

// Run sends at once when kicked (a submission on this server kicks it),
// without waiting for its interval, and stops with its context.
func TestRunSendsWhenKicked(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	r.settings(store.NotifySettings{UnitID: "town", Endpoints: []store.NotifyEndpoint{r.webhook()},
		Contacts: []store.NotifyContact{always("hook", store.ChannelWebhook)}})
	ctx, cancel := context.WithCancel(r.ctx)
	done := make(chan struct{})
	go func() { r.svc.Dispatcher.Run(ctx, time.Hour); close(done) }()
	for i := range 40 {
		r.file("town", 1)
		if i%10 == 0 {
			r.svc.Dispatcher.Kick()
		}
	}
	r.svc.Dispatcher.Kick()
	deadline := time.Now().Add(10 * time.Second)
	for len(r.wh.Unique()) < 40 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	if n := len(r.wh.Unique()); n != 40 || len(r.wh.Received()) != 40 {
		t.Fatalf("%d of 40 delivered, %d requests", n, len(r.wh.Received()))
	}
}

// A respondent's call-back request is told to the on-duty contacts at
// once, whatever the hour and the policy, without the phone number or the
// note the respondent gave.
func TestCallbackRequestIsToldAtOnce(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	r.settings(store.NotifySettings{UnitID: "town", Endpoints: []store.NotifyEndpoint{r.webhook()},
		Contacts: []store.NotifyContact{always("hook", store.ChannelWebhook)}, Policy: store.NotifyPolicy{Levels23: store.PolicyDigest}})
	r.clk.Add(12 * time.Hour) // Monday 22:00: outside working hours
	now := r.clk.Now()
	sess, err := r.st.CreateSession(r.ctx, store.Session{ID: store.NewID(), UnitID: "town", Instruments: []string{"phq9"}, Consent: true, CreatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.st.Submit(r.ctx, store.Submission{SessionID: sess.ID, At: now, Results: []store.Result{{ID: store.NewID(), Instrument: "phq9"}}}); err != nil {
		t.Fatal(err)
	}
	c, w, err := r.st.CreateCallback(r.ctx, store.Callback{ID: store.NewID(), SessionID: sess.ID, Phone: store.Sealed(secretPhone),
		Note: store.Sealed("晚上九点后方便"), PreferredFrom: now, PreferredTo: now.Add(2 * time.Hour), Consent: true, ConsentVersion: "1", CreatedAt: now},
		store.WarningDraft{ID: store.NewID(), Level: 2, DueAt: now.Add(2 * time.Hour), Reasons: []store.Reason{{Rule: store.CallbackRule, Level: 2}}})
	if err != nil {
		t.Fatal(err)
	}
	r.settle(r.svc.Dispatcher)
	var kinds []notify.Kind
	for _, p := range r.wh.Unique() {
		kinds = append(kinds, p.Kind)
		if p.Kind == notify.KindCallbackRequested && (!p.DueAt.Equal(w.DueAt.Truncate(time.Second)) || p.Link != "https://xl.example.cn/console/queue/"+w.ID) {
			t.Errorf("call-back payload %+v", p)
		}
	}
	if !slices.Contains(kinds, notify.KindCallbackRequested) || slices.Contains(kinds, notify.KindWarningNew) {
		t.Fatalf("told %v: the call-back at once, the level-2 entry in the digest", kinds)
	}
	if d := r.notification("callback:" + c.ID + ":hook:webhook"); d.State != store.NotificationSent {
		t.Fatalf("call-back delivery %+v", d)
	}
	r.wh.AssertNoPersonalData(t, secretPhone, "晚上九点", sess.ID)
}
