package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// Alibaba Cloud SMS (阿里云短信服务), the API SendSms of dysmsapi
// version 2017-05-25.
//
// Request, from SendSms (https://help.aliyun.com/document_detail/55284.html)
// and the RPC signature method
// (https://www.alibabacloud.com/help/en/sms/signature-method): the
// parameters AccessKeyId, Action=SendSms, Format=JSON, OutId,
// PhoneNumbers, RegionId, SignName, SignatureMethod=HMAC-SHA1,
// SignatureNonce, SignatureVersion=1.0, TemplateCode, TemplateParam (a
// JSON object of the template's variables), Timestamp (UTC, ISO 8601)
// and Version=2017-05-25, plus Signature =
// base64(HMAC-SHA1(key = AccessKeySecret + "&", message = METHOD + "&" +
// pct("/") + "&" + pct(canonical query))), where the canonical query is
// the other parameters sorted by name, each name and value
// percent-encoded (RFC 3986: only A-Z a-z 0-9 - _ . ~ stay as they are,
// a space is %20) and joined as name=value with &.
//
// We POST the parameters as a form rather than GET them in the URL, as
// the signature method allows, so that the phone number and the
// signature do not land in the access logs of a proxy on the way.
//
// The reply is {"Code":"OK","Message":"OK","BizId":…,"RequestId":…};
// any other Code is refused (API错误码,
// https://help.aliyun.com/document_detail/101346.html). Throttling
// (isv.BUSINESS_LIMIT_CONTROL, Throttling.*), a reused nonce and
// Alibaba's own faults (isp.SYSTEM_ERROR, ServiceUnavailable…) are worth
// retrying; a wrong signature, an unknown key, template, signature name
// or number, a missing parameter or an exhausted balance are not.
//
// SendSms is not idempotent on Alibaba's side; OutId carries our
// idempotency key so that the delivery receipts and the console's
// records can be matched to the notification.

// DefaultAliyunSMSEndpoint is the SMS API's endpoint.
const DefaultAliyunSMSEndpoint = "https://dysmsapi.aliyuncs.com/"

// DefaultAliyunParamRunes is the most characters a template variable may
// hold. The notification-template rules (通知短信模板规范,
// https://help.aliyun.com/document_detail/463270.html) limit a variable
// by the property chosen when the template was approved; 20 fits the
// strictest property that our variables may be given.
const DefaultAliyunParamRunes = 20

// AliyunSMSConfig configures the Alibaba Cloud provider.
type AliyunSMSConfig struct {
	// Endpoint is the API's base URL; empty means
	// DefaultAliyunSMSEndpoint.
	Endpoint        string
	AccessKeyID     string
	AccessKeySecret string // never written into an error
	// SignName is the approved signature (签名), shown as 【SignName】.
	SignName string
	// Templates maps each kind to the code of its approved template
	// (SMS_…). A kind without a template is refused permanently.
	Templates map[Kind]string
	// RegionID is cn-hangzhou when empty.
	RegionID string
	// MaxParamRunes is DefaultAliyunParamRunes when 0.
	MaxParamRunes int
	// HTTP is the client; nil means one with DefaultTimeout.
	HTTP *http.Client
	// Now dates the request; nil means time.Now.
	Now func() time.Time
	// Nonce returns a fresh SignatureNonce; nil means 16 random bytes
	// written as a UUID.
	Nonce func() string
}

// AliyunSMS is the SMSProvider for Alibaba Cloud SMS.
type AliyunSMS struct {
	cfg      AliyunSMSConfig
	endpoint *url.URL
	http     *http.Client
}

// NewAliyunSMS returns the provider, or an error if the configuration is
// incomplete.
func NewAliyunSMS(cfg AliyunSMSConfig) (*AliyunSMS, error) {
	u, err := parseEndpoint(cfg.Endpoint, DefaultAliyunSMSEndpoint)
	if err != nil {
		return nil, err
	}
	if cfg.AccessKeyID == "" || cfg.AccessKeySecret == "" || cfg.SignName == "" {
		return nil, errors.New("notify: aliyun sms: AccessKeyID, AccessKeySecret and SignName are required")
	}
	if len(cfg.Templates) == 0 {
		return nil, errors.New("notify: aliyun sms: no template codes")
	}
	cfg.Templates = maps.Clone(cfg.Templates)
	if cfg.RegionID == "" {
		cfg.RegionID = "cn-hangzhou"
	}
	if cfg.MaxParamRunes <= 0 {
		cfg.MaxParamRunes = DefaultAliyunParamRunes
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Nonce == nil {
		cfg.Nonce = randomUUID
	}
	if u.Path == "" {
		u.Path = "/"
	}
	return &AliyunSMS{cfg: cfg, endpoint: u, http: httpClient(cfg.HTTP)}, nil
}

var aliyunRetryable = map[string]bool{
	"isv.BUSINESS_LIMIT_CONTROL": true,
	"Throttling":                 true,
	"Throttling.User":            true,
	"Throttling.Api":             true,
	"SignatureNonceUsed":         true,
	"isp.SYSTEM_ERROR":           true,
	"isp.GATEWAY_ERROR":          true,
	"isv.SYSTEM_ERROR":           true,
	"InternalError":              true,
	"ServiceUnavailable":         true,
}

type aliyunReply struct {
	Code      string `json:"Code"`
	Message   string `json:"Message"`
	BizID     string `json:"BizId"`
	RequestID string `json:"RequestId"`
}

// TemplateParam is the TemplateParam JSON that m's template receives:
// the variables of SMSParams, each shortened to the configured limit.
func (a *AliyunSMS) TemplateParam(m Message) (string, error) {
	params, err := SMSParams(m)
	if err != nil {
		return "", err
	}
	obj := make(map[string]string, len(params))
	for _, p := range params {
		obj[p.Name] = TruncateRunes(p.Value, a.cfg.MaxParamRunes)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(obj); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// SendSMS sends m's template to phone.
func (a *AliyunSMS) SendSMS(ctx context.Context, phone string, m Message) error {
	const channel = ChannelSMS + "/aliyun"
	code := a.cfg.Templates[m.Kind]
	if code == "" {
		return Permanent(fmt.Errorf("notify: %s: no template for %s", channel, m.Kind))
	}
	param, err := a.TemplateParam(m)
	if err != nil {
		return Permanent(err)
	}
	params := map[string]string{
		"AccessKeyId":      a.cfg.AccessKeyID,
		"Action":           "SendSms",
		"Format":           "JSON",
		"OutId":            m.IdempotencyKey,
		"PhoneNumbers":     phone,
		"RegionId":         a.cfg.RegionID,
		"SignName":         a.cfg.SignName,
		"SignatureMethod":  "HMAC-SHA1",
		"SignatureNonce":   a.cfg.Nonce(),
		"SignatureVersion": "1.0",
		"TemplateCode":     code,
		"TemplateParam":    param,
		"Timestamp":        a.cfg.Now().UTC().Format("2006-01-02T15:04:05Z"),
		"Version":          "2017-05-25",
	}
	sig := AliyunSignature(http.MethodPost, params, a.cfg.AccessKeySecret)
	body := "Signature=" + percentEncode(sig) + "&" + aliyunCanonicalQuery(params)

	req, err := http.NewRequest(http.MethodPost, a.endpoint.String(), strings.NewReader(body))
	if err != nil {
		return Permanent(fmt.Errorf("notify: %s: building the request: %v", channel, err))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	shown := shownURL(a.endpoint)
	secrets := []string{a.cfg.AccessKeySecret, sig, phone}
	r, err := do(ctx, a.http, req, channel, shown, secrets...)
	if err != nil {
		return err
	}
	var rep aliyunReply
	if json.Unmarshal(r.body, &rep) != nil || rep.Code == "" {
		if err := statusError(r, channel, http.MethodPost, shown, secrets...); err != nil {
			return err
		}
		return &sendError{msg: scrub(fmt.Sprintf("notify: %s: POST %s: the reply is not the SMS API's%s", channel, shown, replySnippet(r.body)), secrets...)}
	}
	if rep.Code == "OK" {
		return nil
	}
	e := &sendError{msg: scrub(fmt.Sprintf("notify: %s: POST %s: HTTP %d, Code %s: %s (RequestId %s)",
		channel, shown, r.status, rep.Code, rep.Message, rep.RequestID), secrets...)}
	if aliyunRetryable[rep.Code] || r.status >= 500 && !strings.HasPrefix(rep.Code, "isv.") {
		if d, ok := parseRetryAfter(r.header.Get("Retry-After")); ok {
			return &retryAfterError{err: e, after: d}
		}
		return e
	}
	return Permanent(e)
}

// AliyunSignature signs an RPC request made with method (GET or POST)
// whose parameters, Signature excluded, are params. The result is before
// percent-encoding.
func AliyunSignature(method string, params map[string]string, accessKeySecret string) string {
	toSign := strings.ToUpper(method) + "&" + percentEncode("/") + "&" + percentEncode(aliyunCanonicalQuery(params))
	mac := hmac.New(sha1.New, []byte(accessKeySecret+"&"))
	mac.Write([]byte(toSign))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// aliyunCanonicalQuery sorts params by name and joins them percent-encoded.
func aliyunCanonicalQuery(params map[string]string) string {
	names := make([]string, 0, len(params))
	for k := range params {
		if k != "Signature" {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	var b strings.Builder
	for i, k := range names {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(percentEncode(k))
		b.WriteByte('=')
		b.WriteString(percentEncode(params[k]))
	}
	return b.String()
}

func randomUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails: see crypto/rand.Read
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
