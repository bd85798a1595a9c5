package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/go-playground/validator/v10"
	"github.com/gofiber/fiber/v2"

	"xinling/assess"
)

var validate = func() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	// Report fields by their JSON names, as the client wrote them.
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			return ""
		}
		return name
	})
	return v
}()

// decode reads a JSON body strictly (unknown fields and trailing data are
// errors) and validates it. Both kinds of failure name the field at fault.
func decode(c *fiber.Ctx, dst any) error {
	if err := jsonContentType(c); err != nil {
		return err
	}
	body := c.Body()
	if len(bytes.TrimSpace(body)) == 0 {
		return &assess.Error{Code: codeMalformedJSON, Message: "the request needs a JSON body"}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return &assess.Error{Code: codeMalformedJSON, Message: "the body has data after the JSON value"}
	}
	if key := duplicateKey(body); key != "" {
		return &assess.Error{Code: codeMalformedJSON, Field: key, Message: fmt.Sprintf("the field %q appears more than once", key)}
	}
	if err := validate.Struct(dst); err != nil {
		return validationError(err)
	}
	return nil
}

func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return &assess.Error{Code: codeMalformedJSON, Message: fmt.Sprintf("the body is not valid JSON (at byte %d)", syn.Offset)}
	case errors.As(err, &typ):
		return &assess.Error{Code: assess.CodeValidation, Field: typ.Field, Message: fmt.Sprintf("%s must be %s, not %s", fieldName(typ.Field), jsonKind(typ.Type), typ.Value)}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &assess.Error{Code: codeMalformedJSON, Message: "the body ends in the middle of the JSON value"}
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		f := strings.Trim(name, `"`)
		return &assess.Error{Code: assess.CodeValidation, Field: f, Message: fmt.Sprintf("unknown field %q", f)}
	}
	return &assess.Error{Code: codeMalformedJSON, Message: "the body is not valid JSON: " + err.Error()}
}

func fieldName(f string) string {
	if f == "" {
		return "the body"
	}
	return f
}

func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return t.String()
}

func validationError(err error) error {
	var fes validator.ValidationErrors
	if !errors.As(err, &fes) || len(fes) == 0 {
		return &assess.Error{Code: assess.CodeValidation, Message: err.Error()}
	}
	fe := fes[0]
	field := strings.TrimPrefix(fe.Namespace(), strings.SplitN(fe.Namespace(), ".", 2)[0]+".")
	var msg string
	switch fe.Tag() {
	case "required":
		msg = field + " is required"
	case "required_without", "excluded_with":
		msg = fmt.Sprintf("give exactly one of %s and %s", fe.Field(), strings.ToLower(fe.Param()))
	case "required_without_all":
		msg = fmt.Sprintf("%s is required unless one of %s is given", field, strings.ToLower(strings.ReplaceAll(fe.Param(), " ", ", ")))
	case "oneof":
		msg = fmt.Sprintf("%s must be one of: %s", field, fe.Param())
	case "min", "gte":
		msg = fmt.Sprintf("%s must be at least %s", field, fe.Param())
	case "max", "lte":
		msg = fmt.Sprintf("%s must be at most %s", field, fe.Param())
	default:
		msg = fmt.Sprintf("%s is not valid (%s)", field, fe.Tag())
	}
	return &assess.Error{Code: assess.CodeValidation, Field: field, Message: msg}
}

// jsonContentType refuses a body that says it is something else. A body
// without a Content-Type is read as JSON, for scripts and old clients; a
// form or text/plain body is refused so that a cross-site HTML form, which
// can send those without asking, never reaches a handler as JSON.
func jsonContentType(c *fiber.Ctx) error {
	ct := strings.TrimSpace(c.Get(fiber.HeaderContentType))
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil && (mt == fiber.MIMEApplicationJSON || strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")) {
		return nil
	}
	return &assess.Error{Code: codeMediaType, Message: "send the body as JSON, with Content-Type: application/json"}
}

// duplicateKey returns a key that appears twice in one object of an
// already decoded body, or "". encoding/json keeps the last of duplicates
// silently; a proxy or log reader may take the first, so that
// {"login":"a","login":"b"} could mean different things to each.
//
// The body has just decoded, so it is valid JSON and a byte scan is
// enough: walking it with json.Decoder.Token cost two thirds of decoding a
// session's create request. Keys are compared as decoded, so "a" and
// "\u0061" are the same key.
func duplicateKey(body []byte) string {
	var stack []*objectKeys // nil for an array
	expectKey := false
	for i := 0; i < len(body); {
		switch body[i] {
		case '{':
			stack = append(stack, &objectKeys{})
			expectKey = true
		case '[':
			stack = append(stack, nil)
			expectKey = false
		case '}', ']':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			expectKey = false
		case ',':
			expectKey = len(stack) > 0 && stack[len(stack)-1] != nil
		case '"':
			end := stringEnd(body, i)
			if expectKey && len(stack) > 0 && stack[len(stack)-1] != nil {
				if key, ok := decodedKey(body[i:end]); ok && stack[len(stack)-1].seen(key) {
					return key
				}
				expectKey = false
			}
			i = end
			continue
		}
		i++
	}
	return ""
}

// objectKeys is the keys of one object so far.
type objectKeys struct {
	keys []string
	set  map[string]bool // once keys outgrows a linear scan
}

// seen records key and says whether the object already had it.
func (o *objectKeys) seen(key string) bool {
	if o.set != nil {
		if o.set[key] {
			return true
		}
		o.set[key] = true
		return false
	}
	if slices.Contains(o.keys, key) {
		return true
	}
	o.keys = append(o.keys, key)
	if len(o.keys) > 16 {
		o.set = make(map[string]bool, 2*len(o.keys))
		for _, k := range o.keys {
			o.set[k] = true
		}
	}
	return false
}

// stringEnd returns the index just after the JSON string that starts at
// body[start] (a quote), or len(body) if it never closes.
func stringEnd(body []byte, start int) int {
	for i := start + 1; i < len(body); i++ {
		switch body[i] {
		case '\\':
			i++ // the escaped byte cannot end the string
		case '"':
			return i + 1
		}
	}
	return len(body)
}

// decodedKey is a quoted JSON string's value. Only keys with escapes or
// invalid UTF-8 (which encoding/json reads as U+FFFD) pay for
// encoding/json.
func decodedKey(quoted []byte) (string, bool) {
	if len(quoted) < 2 {
		return "", false
	}
	if raw := quoted[1 : len(quoted)-1]; bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
		return string(raw), true
	}
	var key string
	return key, json.Unmarshal(quoted, &key) == nil
}
