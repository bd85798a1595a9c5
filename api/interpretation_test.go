//go:build !fuzzdecode

package api_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode"

	"xinling/store"
)

// take answers every shown item of a self-test with its middle option,
// following display conditions as the H5 does, and submits it.
func (s *server) take(instrument, locale string) response {
	s.t.Helper()
	r := s.do("POST", "/api/v1/sessions?locale="+locale, "", map[string]any{"instrument": instrument, "consent": true})
	if r.status != 201 {
		s.t.Fatalf("start %s: %d %s", instrument, r.status, r.raw)
	}
	ss := session{id: r.body["id"].(string), token: r.body["token"].(string)}
	for seq := 1; ; seq++ {
		next, _ := r.body["next"].(string)
		if next == "" {
			break
		}
		var opts []any
		for _, it := range r.body["items"].([]any) {
			if m := it.(map[string]any); m["id"] == next {
				opts = m["options"].([]any)
			}
		}
		if len(opts) == 0 || seq > 500 {
			s.t.Fatalf("%s: no options for %s", instrument, next)
		}
		value := opts[len(opts)/2].(map[string]any)["value"].(float64)
		if a := s.answer(ss, next, value, seq); a.status != 200 {
			s.t.Fatalf("answer %s: %d %s", next, a.status, a.raw)
		}
		r = s.do("GET", "/api/v1/sessions/"+ss.id+"?locale="+locale, ss.token, nil)
	}
	sub := s.do("POST", "/api/v1/sessions/"+ss.id+"/submit?locale="+locale, ss.token, nil)
	if sub.status != 200 {
		s.t.Fatalf("submit %s: %d %s", instrument, sub.status, sub.raw)
	}
	return sub
}

var hasHan = func(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.Is(unicode.Han, r) }) >= 0
}

// Every public self-test must tell its respondent, in words and in their
// language, what the result means: a label for each score and a standing
// or feedback with it, never a raw id such as "total" or "minimal".
func TestEveryPublicInstrumentGivesReadableFeedback(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	cat := s.do("GET", "/api/v1/instruments", "", nil)
	entries := cat.body["instruments"].([]any)
	if len(entries) < 10 {
		t.Fatalf("catalogue: %s", cat.raw)
	}
	for _, e := range entries {
		id := e.(map[string]any)["id"].(string)
		for _, locale := range []string{"zh-CN", "en"} {
			t.Run(id+"/"+locale, func(t *testing.T) {
				sub := s.take(id, locale)
				ins := sub.body["result"].(map[string]any)["instruments"].([]any)
				if len(ins) != 1 {
					t.Fatalf("result: %s", sub.raw)
				}
				ir := ins[0].(map[string]any)
				raw := resultRawCodes(ir)
				raw[id] = true
				dims, _ := ir["dimensions"].([]any)
				if len(dims) == 0 {
					t.Fatalf("no dimensions: %s", sub.raw)
				}
				var said []string
				readable := 0
				for _, d := range dims {
					dm := d.(map[string]any)
					label, _ := dm["label"].(string)
					standing, _ := dm["standing"].(string)
					meaning, _ := dm["meaning"].(string)
					if label == "" {
						t.Errorf("score %v has no label", dm["score"])
					}
					if meaning != "" && standing != "" {
						readable++
					}
					said = append(said, label, standing, meaning)
				}
				if readable == 0 {
					t.Errorf("no score has a standing and words to go with it: %s", sub.raw)
				}
				said = append(said, ir["title"].(string))
				for _, text := range said {
					if text == "" {
						continue
					}
					if locale == "zh-CN" && !hasHan(text) {
						t.Errorf("%q is not in Chinese", text)
					}
					if word := rawCodeIn(text, raw, locale); word != "" {
						t.Errorf("raw code %q in %q", word, text)
					}
				}
			})
		}
	}
}

// resultRawCodes gathers the ids a respondent must never read: scores, bands
// and levels.
func resultRawCodes(ir map[string]any) map[string]bool {
	raw := map[string]bool{}
	for id := range ir["scores"].(map[string]any) {
		raw[id] = true
	}
	for _, b := range ir["bands"].(map[string]any) {
		raw[b.(map[string]any)["code"].(string)] = true
	}
	for _, d := range ir["dimensions"].([]any) {
		if lv, ok := d.(map[string]any)["level"].(string); ok {
			raw[lv] = true
		}
	}
	return raw
}

// rawCodeIn finds a raw id, as written (lower case, underscores), in a
// text: anywhere as a word in Chinese text, and in English text as the
// whole text (an English meaning may say "mild" or "total" as ordinary
// words, and "Extraversion" is a label, "extraversion" an id).
func rawCodeIn(text string, raw map[string]bool, locale string) string {
	for id := range raw {
		if len(id) < 2 {
			continue // a one-letter id (R, I, A) is a letter of a code, shown as such
		}
		if strings.TrimSpace(text) == id {
			return id
		}
		if locale == "zh-CN" && regexp.MustCompile(`\b`+regexp.QuoteMeta(id)+`\b`).MatchString(text) {
			return id
		}
	}
	return ""
}

// The Big Five's result carries each dimension's standing and meaning,
// and a chart's range; the 1.0.0 document, which has no interpretations,
// still gives labels and scores.
func TestMiniIPIPResultIsInterpreted(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	sub := s.take("mini_ipip", "zh-CN")
	ir := sub.body["result"].(map[string]any)["instruments"].([]any)[0].(map[string]any)
	dims := ir["dimensions"].([]any)
	if len(dims) != 5 {
		t.Fatalf("dimensions: %s", sub.raw)
	}
	want := []string{"外向性", "宜人性", "尽责性", "神经质", "智慧/想象力"}
	for i, d := range dims {
		dm := d.(map[string]any)
		// The middle option everywhere is 12 on every scale: "in between".
		if dm["label"] != want[i] || dm["value"] != 12.0 || dm["level"] != "middle" || dm["standing"] != "中等" ||
			dm["min"] != 4.0 || dm["max"] != 20.0 || !strings.Contains(dm["meaning"].(string), "你") {
			t.Errorf("dimension %d: %v", i, dm)
		}
	}
}

// A Holland code comes with what each of its letters means, with fields
// of study and occupations, in a campaign that shows students their
// results; a campaign that shows only thanks shows none of it.
func TestHollandCodeLettersWithinCampaignVisibility(t *testing.T) {
	t.Parallel()
	for _, vis := range []string{"bands", "thanks"} {
		t.Run(vis, func(t *testing.T) {
			t.Parallel()
			o := newQueueOrg(t)
			s := o.s
			for _, u := range []store.Unit{{ID: "a7", ParentID: "schoolA", Kind: "grade"}, {ID: "a7-1", ParentID: "a7", Kind: "class"}} {
				if _, err := s.store.CreateUnit(context.Background(), u); err != nil {
					t.Fatal(err)
				}
			}
			now := s.clock.Now()
			r := o.psychA.do("POST", "/api/v1/campaigns", map[string]any{"name": "生涯规划", "unit_id": "schoolA", "unit_ids": []string{"a7-1"},
				"battery": []string{"riasec"}, "mode": "open", "visibility": vis,
				"starts_at": now.Format(time.RFC3339), "ends_at": now.Add(24 * time.Hour).Format(time.RFC3339)})
			if r.status != 201 {
				t.Fatal(r.raw)
			}
			id := r.body["campaign"].(map[string]any)["id"].(string)
			o.psychA.do("POST", "/api/v1/campaigns/"+id+"/activate", nil)
			codes := o.psychA.do("POST", "/api/v1/campaigns/"+id+"/class-codes", nil)
			code := codes.body["codes"].([]any)[0].(map[string]any)["code"].(string)
			start := s.do("POST", "/api/v1/sessions", "", map[string]any{"code": code, "consent": true})
			if start.status != 201 {
				t.Fatal(start.raw)
			}
			ss := session{id: start.body["id"].(string), token: start.body["token"].(string)}
			for _, it := range start.body["items"].([]any) {
				ss.items = append(ss.items, it.(map[string]any)["id"].(string))
			}
			// Strongly Like on the S, E and C items, Strongly Dislike elsewhere: code SEC.
			values := make([]float64, 60)
			for i := range values {
				values[i] = 1
				if i%12 >= 6 {
					values[i] = 5
				}
			}
			s.answerAll(ss, values...)
			sub := s.do("POST", "/api/v1/sessions/"+ss.id+"/submit", ss.token, nil)
			if sub.status != 200 {
				t.Fatal(sub.raw)
			}
			ins := sub.body["result"].(map[string]any)["instruments"].([]any)
			if vis == "thanks" {
				if len(ins) != 0 || strings.Contains(sub.raw, "社会型") || strings.Contains(sub.raw, "occupations") {
					t.Fatalf("a thanks-only campaign showed the code's meaning: %s", sub.raw)
				}
				return
			}
			codesOut := ins[0].(map[string]any)["codes"].([]any)
			c := codesOut[0].(map[string]any)
			letters := c["letters"].([]any)
			if c["value"] != "SEC" || len(letters) != 3 {
				t.Fatalf("code: %s", sub.raw)
			}
			got := ""
			for _, l := range letters {
				lm := l.(map[string]any)
				got += fmt.Sprint(lm["letter"])
				for _, f := range []string{"label", "meaning", "fields", "occupations"} {
					if !hasHan(fmt.Sprint(lm[f])) {
						t.Errorf("letter %v: %s is %q", lm["letter"], f, lm[f])
					}
				}
			}
			if got != "SEC" || !strings.Contains(sub.raw, "社会型") || !strings.Contains(sub.raw, "教师") {
				t.Fatalf("letters %q: %s", got, sub.raw)
			}
		})
	}
}

// A signed-in resident's history says, without numbers, where they stood
// on each Big Five dimension: before, it showed only the title.
func TestMySessionsShowBigFiveStandings(t *testing.T) {
	t.Parallel()
	s, wx := newWeChatServer(t)
	bob := s.browser()
	bob.signIn(wx, "oXL-openid-bob-51c2d0")
	h := bob.do("POST", "/api/v1/sessions", map[string]any{"instrument": "mini_ipip", "consent": true})
	if h.status != 201 {
		t.Fatal(h.raw)
	}
	id, token := h.body["id"].(string), h.body["token"].(string)
	answers := []map[string]any{}
	for i := 1; i <= 20; i++ {
		answers = append(answers, map[string]any{"item": fmt.Sprintf("mini_ipip.q%d", i), "value": 3, "seq": 1})
	}
	if r := bob.bearer("POST", "/api/v1/sessions/"+id+"/answers", token, map[string]any{"answers": answers}); r.status != 200 {
		t.Fatal(r.raw)
	}
	if r := bob.bearer("POST", "/api/v1/sessions/"+id+"/submit", token, nil); r.status != 200 {
		t.Fatal(r.raw)
	}
	got := mySessions(t, bob)
	res := got[0]["result"].(map[string]any)["instruments"].([]any)[0].(map[string]any)
	st, _ := res["standings"].([]any)
	if len(st) != 5 {
		t.Fatalf("standings: %v", res)
	}
	first := st[0].(map[string]any)
	if first["label"] != "Extraversion" || first["standing"] != "In between" || first["meaning"] == "" {
		t.Fatalf("extraversion: %v", first)
	}
	if _, ok := first["value"]; ok {
		t.Fatalf("a history shows no scores: %v", first)
	}
}
