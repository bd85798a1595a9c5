package notifytest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"xinling/notify"
)

// The stand-in's own signature code reproduces the worked example of
// Alibaba's SMS documentation, apart from the client's.
func TestAliyunSignDocumentedExample(t *testing.T) {
	p := map[string]string{
		"AccessKeyId": "testId", "Action": "SendSms", "Format": "XML", "OutId": "123",
		"PhoneNumbers": "15300000001", "RegionId": "cn-hangzhou", "SignName": "阿里云短信测试专用",
		"SignatureMethod": "HMAC-SHA1", "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
		"SignatureVersion": "1.0", "TemplateCode": "SMS_71390007", "TemplateParam": `{"customer":"test"}`,
		"Timestamp": "2017-07-12T02:42:19Z", "Version": "2017-05-25",
	}
	if got := aliyunSign(http.MethodGet, p, "testSecret"); got != "zJDF+Lrzhj/ThnlvIToysFRq6t4=" {
		t.Errorf("aliyunSign = %s", got)
	}
}

func TestAliyunChecks(t *testing.T) {
	s := NewAliyunSMS(t)
	send := func(mutate func(*notify.AliyunSMSConfig), m notify.Message) error {
		cfg := s.Config()
		if mutate != nil {
			mutate(&cfg)
		}
		p, err := notify.NewAliyunSMS(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return notify.NewSMS(p).Send(ctx, s.Target(), m)
	}

	m := msg("k1")
	if err := send(nil, m); err != nil {
		t.Fatal(err)
	}
	got := s.Delivered()[0]
	want := "【心理服务平台】您好，青山街道心理服务站有一条一级心理预警待处理，请于" + m.DueAt.In(notify.DisplayZone).Format("15:04") + "前登录平台认领。"
	if m.DueAt.In(notify.DisplayZone).YearDay() != m.At.In(notify.DisplayZone).YearDay() {
		want = got.Text // near midnight the deadline carries its date
	}
	if got.Text != want || got.IdempotencyKey != "k1" || got.Method != http.MethodPost {
		t.Errorf("received %q (OutId %q, %s), want %q", got.Text, got.IdempotencyKey, got.Method, want)
	}

	long := msg("k2")
	long.UnitName = "青山区人民政府青山街道办事处社区心理健康服务站"
	if err := send(nil, long); err != nil {
		t.Errorf("a long unit name, shortened to 20 characters: %v", err)
	} else if rec := s.Delivered()[1]; !strings.Contains(rec.Text, "青山区人民政府青山街道办事处社区心理健") || strings.Contains(rec.Text, "服务站有") {
		t.Errorf("the unit name is not shortened to 20 characters: %s", rec.Text)
	}
	err := send(func(c *notify.AliyunSMSConfig) { c.MaxParamRunes = 40 }, long)
	if !notify.IsPermanent(err) || !strings.Contains(err.Error(), "isv.PARAM_LENGTH_LIMIT") {
		t.Errorf("a 23-character variable: %v, want a permanent isv.PARAM_LENGTH_LIMIT", err)
	}

	fixed := func(c *notify.AliyunSMSConfig) { c.Nonce = func() string { return "same-nonce" } }
	if err := send(fixed, msg("k3")); err != nil {
		t.Fatal(err)
	}
	err = send(fixed, msg("k4"))
	if err == nil || notify.IsPermanent(err) || !strings.Contains(err.Error(), "SignatureNonceUsed") {
		t.Errorf("a reused nonce: %v, want a retryable SignatureNonceUsed", err)
	}

	err = send(func(c *notify.AliyunSMSConfig) { c.Now = func() time.Time { return time.Now().Add(-20 * time.Minute) } }, msg("k5"))
	if !notify.IsPermanent(err) || !strings.Contains(err.Error(), "InvalidTimeStamp.Expired") {
		t.Errorf("a stale timestamp: %v", err)
	}
	err = send(func(c *notify.AliyunSMSConfig) { c.AccessKeyID = "LTAIunknown" }, msg("k6"))
	if !notify.IsPermanent(err) || !strings.Contains(err.Error(), "InvalidAccessKeyId.NotFound") {
		t.Errorf("an unknown key: %v", err)
	}
	err = send(func(c *notify.AliyunSMSConfig) { c.SignName = "别的签名" }, msg("k7"))
	if !notify.IsPermanent(err) || !strings.Contains(err.Error(), "isv.SMS_SIGNATURE_ILLEGAL") {
		t.Errorf("an unknown sign name: %v", err)
	}
	before := len(s.Received())
	err = send(func(c *notify.AliyunSMSConfig) { delete(c.Templates, notify.KindWarningNew) }, msg("k8"))
	if !notify.IsPermanent(err) || len(s.Received()) != before {
		t.Errorf("a kind without a template: %v, want a permanent error before any request", err)
	}

	// The stand-in checks GET requests as Alibaba does.
	params := map[string]string{
		"AccessKeyId": s.AccessKeyID, "Action": "SendSms", "Format": "JSON", "OutId": "k9",
		"PhoneNumbers": StaffPhone, "RegionId": "cn-hangzhou", "SignName": s.SignName,
		"SignatureMethod": "HMAC-SHA1", "SignatureNonce": randomHex(8), "SignatureVersion": "1.0",
		"TemplateCode": AliyunTemplates[notify.KindCallbackRequested].Code, "TemplateParam": `{"unit":"青山街道心理服务站","deadline":"09:00"}`,
		"Timestamp": time.Now().UTC().Format("2006-01-02T15:04:05Z"), "Version": "2017-05-25",
	}
	q := url.Values{}
	for k, v := range params {
		q.Set(k, v)
	}
	q.Set("Signature", notify.AliyunSignature(http.MethodGet, params, s.AccessKeySecret))
	resp, err := http.Get(s.URL + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	var rep map[string]string
	_ = json.NewDecoder(resp.Body).Decode(&rep)
	resp.Body.Close()
	if rep["Code"] != "OK" {
		t.Errorf("a signed GET: %v", rep)
	}
	params["TemplateParam"] = `{"unit":"青山街道心理服务站","deadline":"09:00","name":"王小明"}`
	params["SignatureNonce"] = randomHex(8)
	for k, v := range params {
		q.Set(k, v)
	}
	q.Set("Signature", notify.AliyunSignature(http.MethodGet, params, s.AccessKeySecret))
	resp, err = http.Get(s.URL + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	_ = json.NewDecoder(resp.Body).Decode(&rep)
	resp.Body.Close()
	if rep["Code"] != "isv.TEMPLATE_MISSING_PARAMETERS" {
		t.Errorf("a variable the template does not have: %v", rep)
	}
	if found := FindPersonalData(s.Received(), "王小明"); len(found) == 0 {
		t.Error("the scan misses a name in TemplateParam")
	}
}
