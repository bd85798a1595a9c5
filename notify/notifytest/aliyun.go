package notifytest

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"xinling/notify"
)

// AliyunTemplate is an approved SMS template: its code and its wording,
// with ${name} for each variable.
type AliyunTemplate struct {
	Code    string
	Content string
}

// AliyunTemplates are the templates docs/notifications.md suggests
// registering, one per kind (the codes are made up: Alibaba assigns them
// on approval).
var AliyunTemplates = map[notify.Kind]AliyunTemplate{
	notify.KindWarningNew:        {"SMS_480000001", "您好，${unit}有一条${level}心理预警待处理，请于${deadline}前登录平台认领。"},
	notify.KindWarningUnclaimed:  {"SMS_480000002", "您好，${unit}的一条${level}心理预警超时无人认领，已升级由你单位处理，请于${deadline}前登录平台处理。"},
	notify.KindDigest:            {"SMS_480000003", "您好，截至${time}，${unit}有${count}条二级、三级心理预警待处理，请登录平台查看。"},
	notify.KindCallbackRequested: {"SMS_480000004", "您好，${unit}有一条回访请求，请于${deadline}前登录平台处理。"},
	notify.KindTest:              {"SMS_480000005", "您好，这是${unit}的值班通知测试短信，无需处理。"},
}

// StaffPhone is the number of the stand-in's contact on duty.
const StaffPhone = "13900000001"

// AliyunTimestampTolerance is how far a request's Timestamp may lie from
// Alibaba's clock.
const AliyunTimestampTolerance = 15 * time.Minute

var templateVar = regexp.MustCompile(`\$\{([A-Za-z][A-Za-z0-9_]*)\}`)

// AliyunSMS is a stand-in for Alibaba Cloud's SMS API (SendSms, version
// 2017-05-25, RPC signature HMAC-SHA1). It recomputes the signature from
// the parameters received, GET or POST, and refuses as Alibaba does: an
// unknown AccessKeyId (404 InvalidAccessKeyId.NotFound), a wrong
// signature (400 SignatureDoesNotMatch), a stale timestamp (400
// InvalidTimeStamp.Expired), a reused nonce (400 SignatureNonceUsed); and
// with HTTP 200 and an isv. code a wrong number, signature name or
// template, template parameters that are not exactly the template's
// variables, or a variable longer than MaxParamRunes
// (isv.PARAM_LENGTH_LIMIT). An accepted message is recorded with Text
// set to the SMS as the phone shows it.
type AliyunSMS struct {
	*Recorder
	AccessKeyID     string
	AccessKeySecret string
	SignName        string
	// MaxParamRunes is the longest variable accepted.
	MaxParamRunes int
	// URL is the API endpoint.
	URL string

	t   testing.TB
	srv *httptest.Server

	stateMu   sync.Mutex
	now       func() time.Time
	nonces    map[string]bool
	templates map[string]string // code → content
}

// NewAliyunSMS starts a stand-in with a random key pair and
// AliyunTemplates registered.
func NewAliyunSMS(t testing.TB) *AliyunSMS {
	s := &AliyunSMS{
		Recorder:        newRecorder(notify.ChannelSMS),
		AccessKeyID:     "LTAI" + randomHex(10),
		AccessKeySecret: randomHex(15),
		SignName:        "心理服务平台",
		MaxParamRunes:   notify.DefaultAliyunParamRunes,
		t:               t,
		now:             time.Now,
		nonces:          map[string]bool{},
		templates:       map[string]string{},
	}
	for _, tpl := range AliyunTemplates {
		s.templates[tpl.Code] = tpl.Content
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.handle))
	s.URL = s.srv.URL + "/"
	t.Cleanup(s.Close)
	return s
}

// SetNow sets the stand-in's clock.
func (s *AliyunSMS) SetNow(now func() time.Time) {
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	s.now = now
}

// Config is a provider configuration that sends here.
func (s *AliyunSMS) Config() notify.AliyunSMSConfig {
	codes := map[notify.Kind]string{}
	for k, tpl := range AliyunTemplates {
		codes[k] = tpl.Code
	}
	return notify.AliyunSMSConfig{
		Endpoint:        s.URL,
		AccessKeyID:     s.AccessKeyID,
		AccessKeySecret: s.AccessKeySecret,
		SignName:        s.SignName,
		Templates:       codes,
	}
}

// Provider is a provider that sends here.
func (s *AliyunSMS) Provider() *notify.AliyunSMS {
	p, err := notify.NewAliyunSMS(s.Config())
	if err != nil {
		s.t.Fatal(err)
	}
	return p
}

// Channel is an SMS channel that sends here.
func (s *AliyunSMS) Channel() *notify.SMS { return notify.NewSMS(s.Provider()) }

// Target is the contact on duty, StaffPhone.
func (s *AliyunSMS) Target() notify.Target { return notify.Target{Address: StaffPhone} }

// Close stops the stand-in, releasing any held request.
func (s *AliyunSMS) Close() {
	s.close()
	s.srv.Close()
}

type aliyunAnswer struct {
	Code      string `json:"Code"`
	Message   string `json:"Message"`
	BizID     string `json:"BizId,omitempty"`
	RequestID string `json:"RequestId"`
}

func (s *AliyunSMS) handle(w http.ResponseWriter, r *http.Request) {
	body := readBody(r)
	rec := Received{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body}
	requestID := strings.ToUpper(randomHex(16))
	answer := func(status int, code, msg string) {
		if code != "OK" {
			rec.Refusal = code + ": " + msg
		}
		s.add(rec)
		writeJSON(w, status, aliyunAnswer{Code: code, Message: msg, RequestID: requestID})
	}

	var raw string
	switch r.Method {
	case http.MethodGet:
		raw = r.URL.RawQuery
	case http.MethodPost:
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
			answer(http.StatusBadRequest, "InvalidParameter", "the form is not application/x-www-form-urlencoded")
			return
		}
		raw = string(body)
	default:
		answer(http.StatusMethodNotAllowed, "UnsupportedHTTPMethod", "GET or POST")
		return
	}
	values, err := url.ParseQuery(raw)
	if err != nil {
		answer(http.StatusBadRequest, "InvalidParameter", "the parameters cannot be parsed")
		return
	}
	rec.Query = values
	for _, vs := range values {
		rec.Strings = append(rec.Strings, vs...)
	}
	rec.Strings = append(rec.Strings, jsonStrings([]byte(values.Get("TemplateParam")))...)
	rec.IdempotencyKey = values.Get("OutId")

	if f, ok := s.nextFault(); ok {
		rec.Refusal = "injected fault"
		switch {
		case f.Hang:
			s.add(rec)
			s.hang(r.Context())
		case f.Code != "":
			status := f.Status
			if status == 0 {
				status = http.StatusBadRequest
				if strings.HasPrefix(f.Code, "isv.") || strings.HasPrefix(f.Code, "isp.") {
					status = http.StatusOK
				}
			}
			answer(status, f.Code, "injected fault")
		default:
			s.add(rec)
			http.Error(w, http.StatusText(f.Status), f.Status)
		}
		return
	}

	p := map[string]string{}
	for k, vs := range values {
		if len(vs) != 1 {
			answer(http.StatusBadRequest, "InvalidParameter", "parameter "+k+" is repeated")
			return
		}
		p[k] = vs[0]
	}
	for _, k := range []string{"AccessKeyId", "Action", "Format", "PhoneNumbers", "SignName", "Signature", "SignatureMethod",
		"SignatureNonce", "SignatureVersion", "TemplateCode", "Timestamp", "Version"} {
		if p[k] == "" {
			answer(http.StatusBadRequest, "MissingParameter", "the parameter "+k+" is missing")
			return
		}
	}
	switch {
	case p["Action"] != "SendSms":
		answer(http.StatusBadRequest, "InvalidAction.NotFound", "only SendSms is served")
		return
	case p["Version"] != "2017-05-25":
		answer(http.StatusBadRequest, "InvalidVersion", "only 2017-05-25 is served")
		return
	case p["Format"] != "JSON":
		answer(http.StatusBadRequest, "InvalidParameter", "the stand-in answers Format=JSON only")
		return
	case p["SignatureMethod"] != "HMAC-SHA1" || p["SignatureVersion"] != "1.0":
		answer(http.StatusBadRequest, "InvalidSignatureMethod", "HMAC-SHA1 1.0 only")
		return
	case p["AccessKeyId"] != s.AccessKeyID:
		answer(http.StatusNotFound, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
		return
	}
	ts, err := time.Parse("2006-01-02T15:04:05Z", p["Timestamp"])
	if err != nil {
		answer(http.StatusBadRequest, "InvalidTimeStamp.Format", "Specified time stamp or date value is not well formatted.")
		return
	}
	s.stateMu.Lock()
	now := s.now()
	s.stateMu.Unlock()
	if d := now.Sub(ts); d > AliyunTimestampTolerance || d < -AliyunTimestampTolerance {
		answer(http.StatusBadRequest, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.")
		return
	}
	if !hmac.Equal([]byte(p["Signature"]), []byte(aliyunSign(r.Method, p, s.AccessKeySecret))) {
		answer(http.StatusBadRequest, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation.")
		return
	}
	s.stateMu.Lock()
	used := s.nonces[p["SignatureNonce"]]
	s.nonces[p["SignatureNonce"]] = true
	s.stateMu.Unlock()
	if used {
		answer(http.StatusBadRequest, "SignatureNonceUsed", "Specified signature nonce was used already.")
		return
	}

	if !mobile.MatchString(p["PhoneNumbers"]) {
		answer(http.StatusOK, "isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
		return
	}
	if p["SignName"] != s.SignName {
		answer(http.StatusOK, "isv.SMS_SIGNATURE_ILLEGAL", "该账号下找不到对应签名")
		return
	}
	s.stateMu.Lock()
	content, ok := s.templates[p["TemplateCode"]]
	s.stateMu.Unlock()
	if !ok {
		answer(http.StatusOK, "isv.SMS_TEMPLATE_ILLEGAL", "该账号下找不到对应模板")
		return
	}
	var vars map[string]string
	if err := json.Unmarshal([]byte(p["TemplateParam"]), &vars); err != nil {
		answer(http.StatusOK, "isv.INVALID_JSON_PARAM", "JSON参数不合法，只接受字符串值")
		return
	}
	var want []string
	for _, m := range templateVar.FindAllStringSubmatch(content, -1) {
		want = append(want, m[1])
	}
	var got []string
	for k := range vars {
		got = append(got, k)
	}
	sort.Strings(want)
	sort.Strings(got)
	if !slices.Equal(want, got) {
		// Alibaba ignores extra variables; the stand-in refuses them
		// too, since a variable the template does not show has no
		// reason to be sent.
		answer(http.StatusOK, "isv.TEMPLATE_MISSING_PARAMETERS", fmt.Sprintf("模板变量 %v 与参数 %v 不一致", want, got))
		return
	}
	for k, v := range vars {
		if n := utf8.RuneCountInString(v); n > s.MaxParamRunes || n == 0 {
			answer(http.StatusOK, "isv.PARAM_LENGTH_LIMIT", fmt.Sprintf("参数 %s 超出长度限制", k))
			return
		}
	}
	rec.Text = "【" + s.SignName + "】" + templateVar.ReplaceAllStringFunc(content, func(m string) string {
		return vars[templateVar.FindStringSubmatch(m)[1]]
	})
	rec.Accepted = true
	s.add(rec)
	writeJSON(w, http.StatusOK, aliyunAnswer{Code: "OK", Message: "OK", BizID: randomHex(8) + "^0", RequestID: requestID})
}

var mobile = regexp.MustCompile(`^1[3-9][0-9]{9}$`)

// aliyunSign is the RPC signature, written apart from the client's so
// that a mistake in one is not repeated in the other: Java's
// URLEncoder-style encoding, patched as Alibaba's documentation
// describes (+ → %20, * → %2A, %7E → ~).
func aliyunSign(method string, p map[string]string, secret string) string {
	enc := strings.NewReplacer("+", "%20", "*", "%2A", "%7E", "~")
	pop := func(s string) string { return enc.Replace(url.QueryEscape(s)) }
	var keys []string
	for k := range p {
		if k != "Signature" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	pairs := make([]string, len(keys))
	for i, k := range keys {
		pairs[i] = pop(k) + "=" + pop(p[k])
	}
	toSign := method + "&" + pop("/") + "&" + pop(strings.Join(pairs, "&"))
	mac := hmac.New(sha1.New, []byte(secret+"&"))
	mac.Write([]byte(toSign))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
