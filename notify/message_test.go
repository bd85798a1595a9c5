package notify

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

var (
	testAt  = time.Date(2026, 3, 14, 1, 15, 0, 0, DisplayZone)
	testDue = time.Date(2026, 3, 14, 2, 15, 0, 0, DisplayZone)
)

func validMessage() Message {
	return Message{
		Kind:           KindWarningNew,
		Level:          1,
		UnitName:       "青山街道心理服务站",
		At:             testAt,
		DueAt:          testDue,
		Link:           "https://xinling.example/console/#/queue/q_7f3a9c",
		IdempotencyKey: "n_01JABCDEF-wecom-3",
	}
}

// The content of a notification is fixed by law of this package: these
// fields and no others. A new field needs a review of what it may carry
// (never a name, a phone number, an answer, a score or free text), an
// update of the templates, the webhook payload and this list.
func TestMessageFieldsAreTheAllowedOnes(t *testing.T) {
	checkAllowedFields(t, reflect.TypeFor[Message](), nil)
}

// allowedFields are the fields of Message, with their types.
var allowedFields = map[string]reflect.Type{
	"Kind":           reflect.TypeFor[Kind](),
	"Level":          reflect.TypeFor[int](),
	"UnitName":       reflect.TypeFor[string](),
	"At":             reflect.TypeFor[time.Time](),
	"DueAt":          reflect.TypeFor[time.Time](),
	"Count":          reflect.TypeFor[int](),
	"Link":           reflect.TypeFor[string](),
	"IdempotencyKey": reflect.TypeFor[string](),
	"Locale":         reflect.TypeFor[Locale](),
}

// checkAllowedFields fails unless typ has exactly the allowed fields;
// renamed maps a field of typ to the allowed name it stands for.
func checkAllowedFields(t *testing.T, typ reflect.Type, renamed map[string]string) {
	t.Helper()
	if typ.NumField() != len(allowedFields) {
		t.Errorf("%s has %d fields, want the %d allowed ones", typ.Name(), typ.NumField(), len(allowedFields))
	}
	for i := range typ.NumField() {
		f := typ.Field(i)
		name := f.Name
		if r, ok := renamed[name]; ok {
			name = r
		}
		if want, ok := allowedFields[name]; !ok || want != f.Type {
			t.Errorf("%s.%s %s is not an allowed field", typ.Name(), f.Name, f.Type)
		}
	}
}

func TestValidate(t *testing.T) {
	if err := validMessage().Validate(); err != nil {
		t.Fatalf("valid message: %v", err)
	}
	digest := validMessage()
	digest.Kind, digest.Level, digest.DueAt, digest.Count = KindDigest, 0, time.Time{}, 4
	if err := digest.Validate(); err != nil {
		t.Fatalf("valid digest: %v", err)
	}
	callback := validMessage()
	callback.Kind, callback.Level = KindCallbackRequested, 0
	if err := callback.Validate(); err != nil {
		t.Fatalf("valid callback request: %v", err)
	}
	test := validMessage()
	test.Kind, test.Level, test.DueAt = KindTest, 0, time.Time{}
	if err := test.Validate(); err != nil {
		t.Fatalf("valid test: %v", err)
	}

	cases := map[string]func(*Message){
		"unknown kind":            func(m *Message) { m.Kind = "note" },
		"level 0 warning":         func(m *Message) { m.Level = 0 },
		"level 4 warning":         func(m *Message) { m.Level = 4 },
		"no deadline":             func(m *Message) { m.DueAt = time.Time{} },
		"no time":                 func(m *Message) { m.At = time.Time{} },
		"count on a warning":      func(m *Message) { m.Count = 2 },
		"digest without count":    func(m *Message) { m.Kind, m.Level, m.DueAt = KindDigest, 0, time.Time{} },
		"digest with a level":     func(m *Message) { m.Kind, m.DueAt, m.Count = KindDigest, time.Time{}, 1 },
		"digest with a deadline":  func(m *Message) { m.Kind, m.Level, m.Count = KindDigest, 0, 1 },
		"test with a level":       func(m *Message) { m.Kind, m.DueAt = KindTest, time.Time{} },
		"test with a deadline":    func(m *Message) { m.Kind, m.Level = KindTest, 0 },
		"test with a count":       func(m *Message) { m.Kind, m.Level, m.DueAt, m.Count = KindTest, 0, time.Time{}, 1 },
		"empty unit":              func(m *Message) { m.UnitName = "" },
		"unit with a newline":     func(m *Message) { m.UnitName = "青山街道\n王小明" },
		"unit with a phone":       func(m *Message) { m.UnitName = "青山街道 13812345678" },
		"unit with spaced digits": func(m *Message) { m.UnitName = "站1381234567" },
		"unit too long":           func(m *Message) { m.UnitName = strings.Repeat("站", MaxUnitNameRunes+1) },
		"unit with outer space":   func(m *Message) { m.UnitName = " 青山街道" },
		"no link":                 func(m *Message) { m.Link = "" },
		"ftp link":                func(m *Message) { m.Link = "ftp://xinling.example/console/" },
		"link with user":          func(m *Message) { m.Link = "https://u:p@xinling.example/console/" },
		"link with space":         func(m *Message) { m.Link = "https://xinling.example/console/ 王小明" },
		"relative link":           func(m *Message) { m.Link = "/console/#/queue/1" },
		"no key":                  func(m *Message) { m.IdempotencyKey = "" },
		"key with @":              func(m *Message) { m.IdempotencyKey = "a@b" },
		"key too long":            func(m *Message) { m.IdempotencyKey = strings.Repeat("k", MaxIdempotencyKeyLen+1) },
		"unknown locale":          func(m *Message) { m.Locale = "fr" },
	}
	for name, mutate := range cases {
		m := validMessage()
		mutate(&m)
		if err := m.Validate(); !errors.Is(err, ErrInvalidMessage) {
			t.Errorf("%s: Validate() = %v, want ErrInvalidMessage", name, err)
		}
	}

	ok := map[string]func(*Message){
		"unit with a short number": func(m *Message) { m.UnitName = "第123中学心理辅导室" },
		"intranet http link":       func(m *Message) { m.Link = "http://10.0.8.2:8080/console/#/queue/x" },
		"english":                  func(m *Message) { m.Locale = LocaleEN },
	}
	for name, mutate := range ok {
		m := validMessage()
		mutate(&m)
		if err := m.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestPermanent(t *testing.T) {
	base := errors.New("boom")
	if Permanent(nil) != nil {
		t.Error("Permanent(nil) is not nil")
	}
	if IsPermanent(base) {
		t.Error("a plain error is permanent")
	}
	p := Permanent(base)
	if !IsPermanent(p) || !errors.Is(p, base) {
		t.Error("Permanent does not mark or does not wrap")
	}
	if !IsPermanent(errors.Join(errors.New("x"), p)) {
		t.Error("a wrapped permanent error is not permanent")
	}
	if _, ok := RetryAfter(base); ok {
		t.Error("RetryAfter found a delay in a plain error")
	}
}

func TestTruncateRunes(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"青山街道心理服务站", 4, "青山街道"},
		{"青山街道心理服务站", 9, "青山街道心理服务站"},
		{"青山街道心理服务站", 20, "青山街道心理服务站"},
		{"ab青c", 3, "ab青"},
		{"abc", 0, ""},
	} {
		if got := TruncateRunes(c.in, c.n); got != c.want {
			t.Errorf("TruncateRunes(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}

func TestScrub(t *testing.T) {
	secret := "s3cr3t/+=key"
	msg := "GET https://x/?k=" + percentEncode(secret) + "&q=" + strings.ReplaceAll(secret, "/", "%2F") + " raw " + secret
	got := scrub(msg, secret, "ab")
	if strings.Contains(got, "s3cr3t") {
		t.Errorf("scrub left the secret: %s", got)
	}
	if scrub("ab cd", "ab") != "ab cd" {
		t.Error("scrub removed a string too short to be a secret")
	}
}
