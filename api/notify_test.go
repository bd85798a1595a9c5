//go:build !fuzzdecode

package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"xinling/api"
	"xinling/assess"
	"xinling/metrics"
	"xinling/notify"
	"xinling/notify/notifytest"
	"xinling/store"
)

// standIns are a stand-in for every channel, and a second webhook for the
// parent unit.
type standIns struct {
	wc     *notifytest.WeCom
	dt     *notifytest.DingTalk
	wh     *notifytest.Webhook
	county *notifytest.Webhook
	sms    *notifytest.AliyunSMS
	mail   *notifytest.SMTP
}

func (si standIns) all() []notifytest.Received {
	var out []notifytest.Received
	for _, r := range []*notifytest.Recorder{si.wc.Recorder, si.dt.Recorder, si.wh.Recorder, si.county.Recorder, si.sms.Recorder, si.mail.Recorder} {
		out = append(out, r.Received()...)
	}
	return out
}

// notifyServer is a queue org whose server sends to the stand-ins and
// counts in Prometheus metrics.
func notifyServer(t *testing.T) (*queueOrg, standIns, *metrics.Metrics) {
	si := standIns{wc: notifytest.NewWeCom(t), dt: notifytest.NewDingTalk(t), wh: notifytest.NewWebhook(t), county: notifytest.NewWebhook(t),
		sms: notifytest.NewAliyunSMS(t), mail: notifytest.NewSMTP(t, notify.SMTPPlain)}
	m := metrics.New()
	o := newQueueOrg(t, func(c *api.Config, opts *assess.Options) {
		c.Metrics, c.MetricsToken = m.Handler(), "scrape-token-0123456789"
		opts.Observer = m
		opts.Notify = assess.NotifyOptions{PublicURL: "https://xl.example.cn", Jitter: func() float64 { return 0 }, Backoff: time.Minute,
			Channels: map[string]notify.Channel{store.ChannelWeCom: si.wc.Channel(), store.ChannelDingTalk: si.dt.Channel(),
				store.ChannelWebhook: si.wh.Channel(), store.ChannelSMS: si.sms.Channel(), store.ChannelEmail: si.mail.Channel()}}
	})
	m.Watch(metrics.Sources{Notifications: o.s.store.NotificationCounts})
	return o, si, m
}

// dispatch runs the server's dispatcher until nothing is due.
func (s *server) dispatch() {
	s.t.Helper()
	for range 50 {
		n, err := s.svc.Dispatcher.DispatchOnce(context.Background())
		if err != nil {
			s.t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
	s.t.Fatal("the outbox never settled")
}

// The respondent's identifiers, the words of the answers and the result:
// none may appear in anything a channel receives.
const (
	journeyName      = "欧阳晓雪"
	journeyPhone     = "13612345678"
	journeyStudentNo = "S-2026-0099"
)

// TestNotificationJourney is issue 16 end to end over HTTP: an admin sets
// up a school's channels and on-duty schedule, a pupil's campaign session
// raises a level-1 warning, every channel's stand-in hears of it, a
// permanent failure lands on the dead-letter list and is retried, the
// entry left unclaimed reaches the county, the history shows each step,
// and /metrics counts them. Every payload of the journey is captured and
// checked: it is exactly what the level, unit, times and link render to,
// and it holds no name, phone number, student number, id, answer or score.
func TestNotificationJourney(t *testing.T) {
	t.Parallel()
	o, si, _ := notifyServer(t)
	s := o.s
	ctx := context.Background()
	if r := o.admin.do("PUT", "/api/v1/units/schoolA", map[string]any{"name": "青山中学", "kind": "school"}); r.status != 200 {
		t.Fatal(r.raw)
	}
	// The admin saves the school's settings, secrets and all.
	settings := map[string]any{
		"endpoints": []any{
			map[string]any{"channel": "wecom", "address": si.wc.Key},
			map[string]any{"channel": "dingtalk", "address": si.dt.Token, "secret": si.dt.Secret},
			map[string]any{"channel": "webhook", "address": si.wh.URL, "secret": si.wh.Secret},
		},
		"contacts": []any{
			map[string]any{"id": "group", "name": "值班群", "channel": "wecom", "always": true},
			map[string]any{"id": "ding", "name": "钉钉群", "channel": "dingtalk", "always": true},
			map[string]any{"id": "hook", "name": "市平台", "channel": "webhook", "always": true},
			map[string]any{"id": "zhang", "name": "张老师", "channel": "sms", "address": notifytest.StaffPhone, "always": true},
			map[string]any{"id": "li", "name": "Li", "channel": "email", "address": notifytest.StaffEmail, "locale": "en",
				"duty": []any{map[string]any{"days": []int{1, 2, 3, 4, 5, 6, 7}, "from": "08:00", "to": "24:00"}}},
		},
		"policy": map[string]any{"levels23": "immediate", "work_hours": []any{map[string]any{"days": []int{1, 2, 3, 4, 5}, "from": "08:30", "to": "17:30"}},
			"digest_at": []string{"08:30", "17:00"}},
		"unclaimed_after_minutes": 15,
	}
	r := o.admin.do("PUT", "/api/v1/units/schoolA/notify-settings", settings)
	if r.status != 200 {
		t.Fatalf("put settings: %s", r.raw)
	}
	secrets := []string{si.wc.Key, si.dt.Token, si.dt.Secret, si.wh.Secret, si.wh.URL, notifytest.StaffPhone, notifytest.StaffEmail}
	for _, raw := range []string{r.raw, o.admin.do("GET", "/api/v1/units/schoolA/notify-settings", nil).raw} {
		for _, sec := range secrets {
			if strings.Contains(raw, sec) {
				t.Fatalf("the settings show %q: %s", sec, raw)
			}
		}
	}
	got := field(r, "settings").(map[string]any)
	if got["version"] != 1.0 || field(r, "settings", "endpoints").([]any)[1].(map[string]any)["secret"].(map[string]any)["set"] != true ||
		field(r, "settings", "contacts").([]any)[3].(map[string]any)["address"].(map[string]any)["hint"] != "139****0001" ||
		field(r, "channels", "sms") != true {
		t.Fatalf("settings view: %s", r.raw)
	}
	// Saved again without a single secret or address: they are kept.
	for _, e := range settings["endpoints"].([]any) {
		delete(e.(map[string]any), "address")
		delete(e.(map[string]any), "secret")
	}
	for _, c := range settings["contacts"].([]any) {
		delete(c.(map[string]any), "address")
	}
	settings["version"] = 1
	if r := o.admin.do("PUT", "/api/v1/units/schoolA/notify-settings", settings); r.status != 200 || field(r, "settings", "version") != 2.0 {
		t.Fatalf("put without secrets: %s", r.raw)
	}
	// The county's own webhook hears of entries its schools leave unclaimed.
	if r := o.admin.do("PUT", "/api/v1/units/county/notify-settings", map[string]any{
		"endpoints": []any{map[string]any{"channel": "webhook", "address": si.county.URL, "secret": si.county.Secret}},
		"contacts":  []any{map[string]any{"id": "county-hook", "name": "区平台", "channel": "webhook", "always": true}},
	}); r.status != 200 {
		t.Fatal(r.raw)
	}

	// A pupil with a name, a phone and a student number answers PHQ-9
	// item 9 positively in a campaign.
	cp := campaignWith(t, o, "roster", "thanks")
	if r := o.admin.do("PUT", "/api/v1/units/a7-1", map[string]any{"name": "七年级1班", "kind": "class"}); r.status != 200 {
		t.Fatal(r.raw)
	}
	p, err := s.store.CreatePerson(ctx, store.Person{ID: store.NewID(), UnitID: "a7-1", SchoolID: "schoolA", Name: store.Sealed(journeyName),
		Phone: store.Sealed(journeyPhone), StudentNo: store.Sealed(journeyStudentNo), Sex: "f", CreatedAt: s.clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.store.CreateAccessCodes(ctx, []store.AccessCode{{Code: "QSZX2345", CampaignID: cp, PersonID: p.ID, UnitID: "a7-1", CreatedAt: s.clock.Now()}}); err != nil {
		t.Fatal(err)
	}
	start := s.do("POST", "/api/v1/sessions", "", map[string]any{"code": "QSZX2345", "consent": true})
	if start.status != 201 {
		t.Fatal(start.raw)
	}
	ss := session{id: start.body["id"].(string), token: start.body["token"].(string)}
	for _, it := range start.body["items"].([]any) {
		ss.items = append(ss.items, it.(map[string]any)["id"].(string))
	}
	s.answerAll(ss, 3, 3, 3, 3, 3, 3, 3, 3, 2, 0, 0, 0, 0)
	if sub := s.do("POST", "/api/v1/sessions/"+ss.id+"/submit", ss.token, nil); sub.status != 200 || sub.body["crisis"] == nil {
		t.Fatalf("submit: %s", sub.raw)
	}
	q := o.counsellor.do("GET", "/api/v1/warnings?level=1", nil)
	entry := ids(q)[0]

	// The city platform refuses the first message for good.
	si.wh.FailNext(1, notifytest.Fault{Status: 400})
	s.dispatch()
	for name, rec := range map[string]*notifytest.Recorder{"wecom": si.wc.Recorder, "dingtalk": si.dt.Recorder, "sms": si.sms.Recorder, "email": si.mail.Recorder} {
		if n := len(rec.Delivered()); n != 1 {
			t.Errorf("%s got %d messages, want 1", name, n)
		}
	}
	dead := o.admin.do("GET", "/api/v1/notifications/dead", nil)
	letters := dead.body["notifications"].([]any)
	if dead.status != 200 || len(letters) != 1 || letters[0].(map[string]any)["contact_name"] != "市平台" || letters[0].(map[string]any)["warning_id"] != entry {
		t.Fatalf("dead letters: %s", dead.raw)
	}
	o.counsellor.do("GET", "/api/v1/notifications/dead", nil).expectError(t, 403, "forbidden")
	o.psychB.do("POST", "/api/v1/notifications/"+letters[0].(map[string]any)["id"].(string)+"/retry", nil).expectError(t, 403, "forbidden")
	// The id holds ':', which a browser escapes.
	if r := o.admin.do("POST", "/api/v1/notifications/"+url.PathEscape(letters[0].(map[string]any)["id"].(string))+"/retry", nil); r.status != 200 || field(r, "notification", "state") != "pending" {
		t.Fatalf("retry: %s", r.raw)
	}
	o.admin.do("POST", "/api/v1/notifications/nowhere/retry", nil).expectError(t, 404, "not_found")
	s.dispatch()
	if n := len(si.wh.Unique()); n != 1 {
		t.Fatalf("the webhook has %d messages after the retry", n)
	}

	// Nobody claims it: after 15 minutes the county hears too.
	s.clock.Add(15 * time.Minute)
	if _, err := s.svc.Dispatcher.ScanUnclaimed(ctx); err != nil {
		t.Fatal(err)
	}
	s.dispatch()
	up := si.county.Unique()
	if len(up) != 1 || up[0].Kind != notify.KindWarningUnclaimed || up[0].Unit != "七年级1班" || up[0].Link != "https://xl.example.cn/console/queue/"+entry {
		t.Fatalf("the county heard %+v", up)
	}

	// The entry's history, in the console's words: each step, from the
	// plan to every delivery and failure.
	d := o.counsellor.do("GET", "/api/v1/warnings/"+entry, nil)
	kinds := map[string]int{}
	for _, e := range field(d, "warning", "history").([]any) {
		ev := e.(map[string]any)
		kinds[ev["kind"].(string)]++
		if strings.HasPrefix(ev["kind"].(string), "notify_") && (ev["notify"] == nil || ev["note"] != nil) {
			t.Errorf("a notification event without its fields: %v", ev)
		}
	}
	if kinds["notify_planned"] != 2 || kinds["notify_sent"] != 6 || kinds["notify_dead"] != 1 || kinds["notify_requeued"] != 1 {
		t.Fatalf("history kinds %v in %s", kinds, d.raw)
	}
	list := o.counsellor.do("GET", "/api/v1/warnings/"+entry+"/notifications", nil)
	if n := len(list.body["notifications"].([]any)); list.status != 200 || n != 8 { // 2 events, 5 + 1 deliveries
		t.Fatalf("the entry's notifications: %s", list.raw)
	}
	o.psychB.do("GET", "/api/v1/warnings/"+entry+"/notifications", nil).expectError(t, 404, "not_found")
	o.teacherA.do("GET", "/api/v1/warnings/"+entry+"/notifications", nil).expectError(t, 403, "forbidden")

	// Every payload is exactly the rendering of an allowed message: for each
	// event, the webhook's strict JSON is the message, and every text is
	// its rendering.
	expected := map[string]bool{}
	smsParams := map[string]bool{}
	for _, pl := range append(si.wh.Unique(), si.county.Unique()...) {
		for _, loc := range []notify.Locale{notify.LocaleZH, notify.LocaleEN} {
			m := pl.Message()
			m.Locale = loc
			rd, err := notify.Render(m)
			if err != nil {
				t.Fatal(err)
			}
			expected[rd.Text] = true
			params, _ := notify.SMSParams(m)
			vars := map[string]string{}
			for _, p := range params {
				vars[p.Name] = notify.TruncateRunes(p.Value, notify.DefaultAliyunParamRunes)
			}
			b, _ := json.Marshal(vars)
			smsParams[string(b)] = true
		}
	}
	for _, rec := range append(append(si.wc.Delivered(), si.dt.Delivered()...), si.mail.Delivered()...) {
		if !expected[strings.TrimSpace(rec.Text)] {
			t.Errorf("%s sent %q, which is not the rendering of an allowed message (%v)", rec.Channel, rec.Text, expected)
		}
	}
	for _, rec := range si.sms.Delivered() {
		var vars map[string]string
		if err := json.Unmarshal([]byte(rec.Query.Get("TemplateParam")), &vars); err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(vars)
		if !smsParams[string(b)] {
			t.Errorf("the SMS carried %s, not the variables of an allowed message", b)
		}
	}
	for _, pl := range append(si.wh.Unique(), si.county.Unique()...) {
		if !regexp.MustCompile(`^https://xl\.example\.cn/console/queue/` + entry + `$`).MatchString(pl.Link) {
			t.Errorf("link %q", pl.Link)
		}
	}

	// A test message reaches the group now.
	if r := o.admin.do("POST", "/api/v1/units/schoolA/notify-settings/test", map[string]any{"contact_id": "group"}); r.status != 200 {
		t.Fatal(r.raw)
	}
	if n := len(si.wc.Delivered()); n != 2 {
		t.Fatalf("wecom has %d messages after the test", n)
	}
	o.admin.do("POST", "/api/v1/units/schoolA/notify-settings/test", map[string]any{"contact_id": "nobody"}).expectError(t, 404, "not_found")
	si.wc.FailNext(1, notifytest.Fault{Code: "93000"})
	o.admin.do("POST", "/api/v1/units/schoolA/notify-settings/test", map[string]any{"contact_id": "group"}).expectError(t, 502, "notify_failed")
	o.counsellor.do("POST", "/api/v1/units/schoolA/notify-settings/test", map[string]any{"contact_id": "group"}).expectError(t, 403, "forbidden")

	// And nothing anyone received carries the pupil or the answers.
	answers := o.counsellor.do("GET", "/api/v1/warnings/"+entry, nil)
	markers := []string{journeyName, journeyPhone, journeyStudentNo, p.ID, ss.id, ss.token, cp, "QSZX2345"}
	for _, a := range answers.body["answers"].([]any) {
		am := a.(map[string]any)
		if txt, _ := am["text"].(string); len([]rune(txt)) > 6 {
			markers = append(markers, txt)
		}
		if l, _ := am["label"].(string); len([]rune(l)) > 3 {
			markers = append(markers, l)
		}
	}
	for _, res := range answers.body["results"].([]any) {
		for _, l := range res.(map[string]any)["band_labels"].(map[string]any) {
			markers = append(markers, l.(string))
		}
	}
	all := si.all()
	if len(all) < 9 {
		t.Fatalf("only %d payloads captured", len(all))
	}
	notifytest.AssertNoPersonalData(t, all, markers...)
	// The scores, as a person reads the texts: no number there is one of
	// them (the answers' values, 0 to 3, are too common to look for: the
	// exact renderings above already rule them out).
	scores := map[string]bool{}
	for _, res := range answers.body["results"].([]any) {
		for _, v := range res.(map[string]any)["scores"].(map[string]any) {
			if f := v.(float64); f > 3 {
				scores[fmt.Sprint(f)] = true
			}
		}
	}
	if len(scores) == 0 {
		t.Fatal("no score to look for")
	}
	number := regexp.MustCompile(`[0-9]+`)
	link := regexp.MustCompile(`https?://\S+`)
	for _, rec := range all {
		for _, n := range number.FindAllString(link.ReplaceAllString(rec.Text, ""), -1) {
			if scores[n] {
				t.Errorf("%s: %q holds %s, a score of the pupil's", rec.Channel, rec.Text, n)
			}
		}
	}

	// /metrics counts what was sent, failed and is pending, by channel.
	req, _ := http.NewRequest("GET", s.base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer scrape-token-0123456789")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`xinling_notifications_sent_total{channel="webhook"} 2`, `xinling_notifications_sent_total{channel="sms"} 1`,
		`xinling_notifications_failed_total{channel="webhook",outcome="dead"} 1`,
		`xinling_notifications{channel="webhook",kind="delivery",state="sent"} 2`,
		`xinling_notifications{channel="wecom",kind="delivery",state="pending"} 0`} {
		if !strings.Contains(string(body), want+"\n") {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// expectField checks an error and the field it names.
func (r response) expectField(t *testing.T, status int, code, field string) {
	t.Helper()
	r.expectError(t, status, code)
	if e, _ := r.body["error"].(map[string]any); e == nil || e["field"] != field {
		t.Errorf("error names field %v, want %q: %s", e["field"], field, r.raw)
	}
}

// Bad settings are refused with the field at fault; other subtrees and
// other roles see nothing.
func TestNotifySettingsInput(t *testing.T) {
	t.Parallel()
	o, si, _ := notifyServer(t)
	put := func(c *console, unit string, body map[string]any) response {
		return c.do("PUT", "/api/v1/units/"+unit+"/notify-settings", body)
	}
	sms := func(addr string) map[string]any {
		return map[string]any{"contacts": []any{map[string]any{"id": "z", "name": "张", "channel": "sms", "address": addr, "always": true}}}
	}
	for _, tc := range []struct {
		body  map[string]any
		field string
	}{
		{sms("12345"), "contacts[0].address"},
		{map[string]any{"contacts": []any{map[string]any{"id": "bad id", "name": "x", "channel": "sms", "address": notifytest.StaffPhone}}}, "contacts[0].id"},
		{map[string]any{"contacts": []any{map[string]any{"id": "x", "name": "x", "channel": "fax"}}}, "contacts[0].channel"},
		{map[string]any{"contacts": []any{map[string]any{"id": "x", "name": "x", "channel": "wecom", "always": true}}}, "contacts[0].channel"},
		{map[string]any{"contacts": []any{map[string]any{"id": "x", "name": "x", "channel": "sms", "address": notifytest.StaffPhone,
			"duty": []any{map[string]any{"from": "25:00", "to": "08:00"}}}}}, "contacts[0].duty[0].from"},
		{map[string]any{"policy": map[string]any{"digest_at": []string{"17:00", "08:30"}}}, "policy.digest_at[1]"},
		{map[string]any{"policy": map[string]any{"levels23": "never"}}, "policy.levels23"},
		{map[string]any{"endpoints": []any{map[string]any{"channel": "webhook", "address": "http://hooks.example.cn/x", "secret": "0123456789abcdef0123"}}}, "endpoints[0].address"},
		{map[string]any{"endpoints": []any{map[string]any{"channel": "dingtalk", "address": "token"}}}, "endpoints[0].secret"},
		{map[string]any{"unclaimed_after_minutes": 2000}, "unclaimed_after_minutes"},
		{map[string]any{"colour": "red"}, "colour"},
	} {
		put(o.admin, "schoolA", tc.body).expectField(t, 400, "validation_failed", tc.field)
	}
	put(o.admin, "schoolA", map[string]any{"version": 3}).expectError(t, 409, "conflict")
	put(o.psychA, "schoolA", sms(notifytest.StaffPhone)).expectError(t, 403, "forbidden")
	o.counsellor.do("GET", "/api/v1/units/schoolA/notify-settings", nil).expectError(t, 403, "forbidden")
	// An admin of school B does not see school A's settings.
	o.s.staffOf("admin-b", store.RoleAdmin, "schoolB").do("GET", "/api/v1/units/schoolA/notify-settings", nil).expectError(t, 404, "not_found")
	put(o.admin, "nowhere", sms(notifytest.StaffPhone)).expectError(t, 404, "not_found")
	// A unit without settings reads its ancestor's as inherited.
	if r := put(o.admin, "county", map[string]any{"endpoints": []any{map[string]any{"channel": "wecom", "address": si.wc.Key}},
		"contacts": []any{map[string]any{"id": "g", "name": "群", "channel": "wecom", "always": true}}}); r.status != 200 {
		t.Fatal(r.raw)
	}
	r := o.admin.do("GET", "/api/v1/units/schoolA/notify-settings", nil)
	if field(r, "settings", "own") != false || field(r, "settings", "inherited_from") != "county" || field(r, "settings", "version") != 0.0 ||
		field(r, "settings", "unclaimed_after_minutes") != 15.0 || field(r, "settings", "policy", "digest_at").([]any)[0] != "08:30" {
		t.Fatalf("inherited: %s", r.raw)
	}
}
