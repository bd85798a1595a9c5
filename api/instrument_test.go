//go:build !fuzzdecode

package api_test

import "testing"

func TestInstrumentPreview(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	r := s.do("GET", "/api/v1/instruments/asq?locale=en", "", nil)
	if r.status != 200 {
		t.Fatalf("asq: %d %s", r.status, r.raw)
	}
	if r.body["id"] != "asq" || r.body["title"] == "" || r.body["instructions"] == "" {
		t.Fatalf("asq preview lacks its header: %s", r.raw)
	}
	items, _ := r.body["items"].([]any)
	if len(items) != 5 {
		t.Fatalf("want all 5 ASQ items, conditional one included; got %d: %s", len(items), r.raw)
	}
	first := items[0].(map[string]any)
	if first["id"] != "asq.q1" || first["text"] == "" || len(first["options"].([]any)) != 2 || first["conditional"] != nil {
		t.Fatalf("first item: %v", first)
	}
	if last := items[4].(map[string]any); last["conditional"] != true {
		t.Fatalf("ASQ item 5 should be marked conditional: %v", last)
	}
	// Locale picks the language of the texts.
	zh := s.do("GET", "/api/v1/instruments/asq?locale=zh-CN", "", nil)
	if zh.status != 200 || zh.body["title"] == r.body["title"] {
		t.Fatalf("zh-CN title should differ from en: %v / %v", zh.body["title"], r.body["title"])
	}
	// Only the public catalogue: unknown and non-public instruments look the same.
	for _, id := range []string{"nope", "riasec"} {
		s.do("GET", "/api/v1/instruments/"+id, "", nil).expectError(t, 404, "instrument_unknown")
	}
	// Nothing was started.
	if n := s.do("GET", "/api/v1/instruments", "", nil); n.status != 200 {
		t.Fatalf("catalogue: %d", n.status)
	}
}
