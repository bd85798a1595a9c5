package api

import (
	"bytes"
	"encoding/json"
	"testing"
)

// duplicateKeyByTokens is the first duplicateKey, a walk with
// json.Decoder.Token: slow, but plainly right, so it is the reference the
// byte scan is checked against.
func duplicateKeyByTokens(body []byte) string {
	dec := json.NewDecoder(bytes.NewReader(body))
	type frame struct {
		object bool
		keys   map[string]bool
		expect bool
	}
	var stack []frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		var top *frame
		if len(stack) > 0 {
			top = &stack[len(stack)-1]
		}
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{', '[':
				if top != nil && top.object {
					top.expect = true
				}
				stack = append(stack, frame{object: d == '{', keys: map[string]bool{}, expect: true})
			default:
				stack = stack[:len(stack)-1]
			}
			continue
		}
		if top == nil || !top.object {
			continue
		}
		if top.expect {
			key := tok.(string)
			if top.keys[key] {
				return key
			}
			top.keys[key] = true
			top.expect = false
		} else {
			top.expect = true
		}
	}
}

var duplicateKeyCases = []struct{ body, want string }{
	{`{"a":1,"b":2}`, ""},
	{`{"a":1,"a":2}`, "a"},
	{` { "a" : 1 , "b" : { "a" : 2 } } `, ""},
	{`{"a":{"b":1,"b":2}}`, "b"},
	{`[{"a":1},{"a":1}]`, ""},
	{`[{"a":1,"c":[1,{"x":"a","x":"b"}]}]`, "x"},
	{`{"a":"\"a\":","a":1}`, "a"},
	{`{"a":1,"\u0061":2}`, "a"},
	{`{"k\\":1,"k\\":2}`, `k\`},
	{`{"a":[],"b":{},"a":null}`, "a"},
	{`{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"j":10,"k":11,"l":12,"m":13,"n":14,"o":15,"p":16,"q":17,"r":18,"q":19}`, "q"},
	{"{\"a\xff\":1,\"a\xfe\":2}", "a\ufffd"},
	{`"just a string"`, ""},
	{`[1,"a","a"]`, ""},
}

func TestDuplicateKey(t *testing.T) {
	for _, c := range duplicateKeyCases {
		if got := duplicateKey([]byte(c.body)); got != c.want {
			t.Errorf("duplicateKey(%s) = %q, want %q", c.body, got, c.want)
		}
		if ref := duplicateKeyByTokens([]byte(c.body)); ref != c.want {
			t.Errorf("the reference says %q for %s; the case is wrong", ref, c.body)
		}
	}
}

// FuzzDuplicateKey checks the byte scan against the token walk on every
// valid JSON body the fuzzer finds (decode only asks it about those).
func FuzzDuplicateKey(f *testing.F) {
	for _, c := range duplicateKeyCases {
		f.Add([]byte(c.body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if !json.Valid(body) {
			return
		}
		if got, want := duplicateKey(body), duplicateKeyByTokens(body); got != want {
			t.Fatalf("duplicateKey(%q) = %q, the token walk says %q", body, got, want)
		}
	})
}
