package api

import (
	"math"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"xinling/assess"
)

// decodeAnswer reads the body of PUT /sessions/:id/answers/:item, the one
// request a respondent sends for every item. Nearly every such body is
// {"value":N,"seq":M}; scanning that shape directly costs a small fraction
// of the general decode (a json.Decoder, a second pass for duplicate keys,
// reflection in the validator), which was half of the answer handler's
// time (issue 18). Anything else, including every malformed or unusual
// body, takes the general path, so the errors a client sees are the same.
func decodeAnswer(c *fiber.Ctx, req *answerRequest) error {
	if c.Get(fiber.HeaderContentType) == fiber.MIMEApplicationJSON {
		if value, seq, ok := scanAnswer(c.Body()); ok {
			req.Value, req.Seq = &value, &seq
			return nil
		}
	}
	return decode(c, req)
}

// scanAnswer accepts only an object with exactly the keys "value" (a JSON
// number that fits a float64) and "seq" (an integer from 1 that fits an
// int64), once each, in either order, with JSON whitespace around the
// tokens. It reports false for anything else, never an error: the caller
// then decodes strictly. What it accepts, the general decoder accepts with
// the same values (FuzzScanAnswer checks this).
func scanAnswer(b []byte) (value float64, seq int64, ok bool) {
	var haveValue, haveSeq bool
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return 0, 0, false
	}
	for {
		i = skipSpace(b, i+1)
		key, next, ok := plainKey(b, i)
		if !ok {
			return 0, 0, false
		}
		i = skipSpace(b, next)
		if i >= len(b) || b[i] != ':' {
			return 0, 0, false
		}
		i = skipSpace(b, i+1)
		start := i
		end, isInt, ok := jsonNumber(b, i)
		if !ok {
			return 0, 0, false
		}
		lit := string(b[start:end])
		i = end
		switch {
		case key == "value" && !haveValue:
			v, err := strconv.ParseFloat(lit, 64)
			if err != nil {
				return 0, 0, false
			}
			value, haveValue = v, true
		case key == "seq" && !haveSeq && isInt:
			n, err := strconv.ParseInt(lit, 10, 64)
			if err != nil || n < 1 {
				return 0, 0, false
			}
			seq, haveSeq = n, true
		default:
			return 0, 0, false
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return 0, 0, false
		}
		if b[i] == '}' {
			break
		}
		if b[i] != ',' {
			return 0, 0, false
		}
	}
	if skipSpace(b, i+1) != len(b) || !haveValue || !haveSeq {
		return 0, 0, false
	}
	return value, seq, true
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// plainKey reads a quoted key of lower-case ASCII letters only: no escapes,
// so the bytes are the key. It returns the index after the closing quote.
func plainKey(b []byte, i int) (string, int, bool) {
	if i >= len(b) || b[i] != '"' {
		return "", 0, false
	}
	j := i + 1
	for j < len(b) && b[j] >= 'a' && b[j] <= 'z' {
		j++
	}
	if j >= len(b) || b[j] != '"' || j == i+1 {
		return "", 0, false
	}
	return string(b[i+1 : j]), j + 1, true
}

// jsonNumber checks the JSON number grammar (RFC 8259 §6) from i and
// returns the index after it, and whether it is an integer literal (no
// fraction, no exponent), as encoding/json requires for an int64.
func jsonNumber(b []byte, i int) (end int, isInt bool, ok bool) {
	digits := func(i int) int {
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = digits(i)
	default:
		return 0, false, false
	}
	isInt = true
	if i < len(b) && b[i] == '.' {
		j := digits(i + 1)
		if j == i+1 {
			return 0, false, false
		}
		i, isInt = j, false
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digits(i)
		if j == i {
			return 0, false, false
		}
		i, isInt = j, false
	}
	return i, isInt, true
}

// answerJSON writes the saved answer as c.JSON would, without reflection:
// the answer response is the most frequent one the API sends. An item id
// that JSON or HTML would want escaped goes through c.JSON instead.
func answerJSON(c *fiber.Ctx, v *assess.AnswerView) error {
	if !plainJSONString(v.Item) || !plainJSONString(v.Status) || math.IsNaN(v.Value) || math.IsInf(v.Value, 0) {
		return c.JSON(v)
	}
	b := make([]byte, 0, 64+len(v.Item))
	b = append(b, `{"item":"`...)
	b = append(b, v.Item...)
	b = append(b, `","value":`...)
	b = strconv.AppendFloat(b, v.Value, 'g', -1, 64)
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, v.Seq, 10)
	b = append(b, `,"status":"`...)
	b = append(b, v.Status...)
	b = append(b, `"}`...)
	// As c.JSON does: c.Set would normalise the header name first, a
	// fifth of this function's time. b is not reused, so the response
	// may keep it rather than copy it.
	c.Response().Header.SetContentType(fiber.MIMEApplicationJSON)
	c.Response().SetBodyRaw(b)
	return nil
}

// plainJSONString reports whether s needs no escaping inside a JSON
// string, by encoding/json's rules (which also escape <, > and &).
func plainJSONString(s string) bool {
	for i := 0; i < len(s); i++ {
		if b := s[i]; b < 0x20 || b >= 0x7f || b == '"' || b == '\\' || b == '<' || b == '>' || b == '&' {
			return false
		}
	}
	return true
}
