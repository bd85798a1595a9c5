package api

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"xinling/assess"
)

func TestScanAnswer(t *testing.T) {
	t.Parallel()
	accept := []struct {
		body  string
		value float64
		seq   int64
	}{
		{`{"value":3,"seq":1}`, 3, 1},
		{`{"seq":12,"value":0}`, 0, 12},
		{" \n{ \"value\" : -1.5e2 ,\t\"seq\" : 9223372036854775807 }\r\n", -150, math.MaxInt64},
		{`{"value":0.25,"seq":7}`, 0.25, 7},
	}
	for _, c := range accept {
		v, s, ok := scanAnswer([]byte(c.body))
		if !ok || v != c.value || s != c.seq {
			t.Errorf("%q: got %v %v %v, want %v %v", c.body, v, s, ok, c.value, c.seq)
		}
	}
	// Each of these must go to the strict decoder, which rejects most of
	// them and names the fault; a few (case-folded keys) it accepts.
	decline := []string{
		``, `{}`, `{"value":1}`, `{"seq":1}`, `{"value":1,"seq":1,"x":2}`,
		`{"value":1,"value":2,"seq":1}`, `{"value":1,"seq":1,"seq":2}`,
		`{"value":1,"seq":0}`, `{"value":1,"seq":-3}`, `{"value":1,"seq":1.0}`, `{"value":1,"seq":1e2}`,
		`{"value":1,"seq":9223372036854775808}`, `{"value":1e400,"seq":1}`, `{"value":01,"seq":1}`,
		`{"value":1.,"seq":1}`, `{"value":.5,"seq":1}`, `{"value":-,"seq":1}`, `{"value":1e,"seq":1}`,
		`{"value":"1","seq":1}`, `{"value":null,"seq":1}`, `{"Value":1,"seq":1}`, `{"val\u0075e":1,"seq":1}`,
		`{"value":1,"seq":1}x`, `{"value":1,"seq":1}{}`, `{"value":1,"seq":1`, `{"value":1 "seq":1}`,
		`{"value":1,,"seq":1}`, `{,"value":1,"seq":1}`, `{"value":1,"seq":1,}`, "\xef\xbb\xbf{\"value\":1,\"seq\":1}",
		`[{"value":1,"seq":1}]`, `{"":1,"value":1,"seq":1}`,
	}
	for _, b := range decline {
		if v, s, ok := scanAnswer([]byte(b)); ok {
			t.Errorf("%q: accepted as %v %v", b, v, s)
		}
	}
}

// FuzzScanAnswer checks the answer fast path against the strict decoder:
// whatever scanAnswer accepts, decode must accept too, with the same value
// and seq. `make fuzz` runs it.
func FuzzScanAnswer(f *testing.F) {
	for _, b := range []string{`{"value":3,"seq":1}`, `{"seq":2,"value":-0.5e1}`, `{"value":1,"seq":1,"seq":1}`, `{"Value":1,"seq":1}`} {
		f.Add([]byte(b))
	}
	app := fiber.New()
	f.Fuzz(func(t *testing.T, body []byte) {
		value, seq, ok := scanAnswer(body)
		if !ok {
			return
		}
		fctx := &fasthttp.RequestCtx{}
		fctx.Request.SetBody(body)
		c := app.AcquireCtx(fctx)
		defer app.ReleaseCtx(c)
		var req answerRequest
		if err := decode(c, &req); err != nil {
			t.Fatalf("%q: fast path accepts (%v, %v), strict decode refuses: %v", body, value, seq, err)
		}
		if math.Float64bits(*req.Value) != math.Float64bits(value) || *req.Seq != seq {
			t.Fatalf("%q: fast path (%v, %v), strict decode (%v, %v)", body, value, seq, *req.Value, *req.Seq)
		}
	})
}

// The hand-written answer response says what c.JSON would.
func TestAnswerJSONMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	app := fiber.New()
	for _, v := range []assess.AnswerView{
		{Item: "phq9.q1", Value: 3, Seq: 1, Status: "saved"},
		{Item: "sds.q20", Value: -0.5, Seq: math.MaxInt64, Status: "stale"},
		{Item: "x.y", Value: 1e21, Seq: 2, Status: "replay"},
		{Item: "x.y", Value: 1.0 / 3, Seq: 2, Status: "saved"},
		{Item: `odd"item<&>\é`, Value: 2, Seq: 3, Status: "saved"},
		{Item: "x.y", Value: 5e-324, Seq: 4, Status: "saved"},
	} {
		fctx := &fasthttp.RequestCtx{}
		c := app.AcquireCtx(fctx)
		if err := answerJSON(c, &v); err != nil {
			t.Fatal(err)
		}
		if ct := string(fctx.Response.Header.ContentType()); ct != fiber.MIMEApplicationJSON {
			t.Errorf("%+v: content type %q", v, ct)
		}
		var got, want map[string]any
		if err := json.Unmarshal(fctx.Response.Body(), &got); err != nil {
			t.Fatalf("%+v: %s is not JSON: %v", v, fctx.Response.Body(), err)
		}
		std, _ := json.Marshal(v)
		_ = json.Unmarshal(std, &want)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("answerJSON %s, encoding/json %s", fctx.Response.Body(), std)
		}
		app.ReleaseCtx(c)
	}
}
