package loadgen

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"xinling/engine"
)

// fakeAPI implements the respondent side of docs/api.md in memory, with the
// real engine for items, display conditions and crisis rules, so the
// generator's bookkeeping can be checked against what a server saw. It is
// deliberately small: only what loadgen uses.
type fakeAPI struct {
	lib *engine.Library

	mu       sync.Mutex
	sessions map[string]*fakeSession

	// fail, when set, may answer a request instead of the handler: it
	// gets the endpoint name and a per-endpoint counter starting at 1.
	fail func(endpoint string, n int64, w http.ResponseWriter) bool

	creates, answers, gets, submits, pings atomic.Int64
	saved, crises                          atomic.Int64
}

type fakeSession struct {
	token       string
	instruments []string
	sex         string
	age         int
	answers     map[string]fakeAnswer // by API item id
	submitted   bool
	crisis      bool
}

type fakeAnswer struct {
	value float64
	seq   int64
}

func newFakeAPI(lib *engine.Library) *fakeAPI {
	return &fakeAPI{lib: lib, sessions: map[string]*fakeSession{}}
}

func (f *fakeAPI) handler() http.Handler {
	mux := http.NewServeMux()
	wrap := func(name string, counter *atomic.Int64, h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			n := counter.Add(1)
			if f.fail != nil && f.fail(name, n, w) {
				return
			}
			h(w, r)
		}
	}
	mux.HandleFunc("GET /api/v1/ping", wrap("ping", &f.pings, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]bool{"ok": true})
	}))
	mux.HandleFunc("POST /api/v1/sessions", wrap("create", &f.creates, f.create))
	mux.HandleFunc("GET /api/v1/sessions/{id}", wrap("get", &f.gets, f.get))
	mux.HandleFunc("PUT /api/v1/sessions/{id}/answers/{item}", wrap("answer", &f.answers, f.answer))
	mux.HandleFunc("POST /api/v1/sessions/{id}/submit", wrap("submit", &f.submits, f.submit))
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func apiError(w http.ResponseWriter, status int, code string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": code}})
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

type fakeItem struct {
	ID         string       `json:"id"`
	Instrument string       `json:"instrument"`
	Text       string       `json:"text"`
	Options    []fakeOption `json:"options"`
}

type fakeOption struct {
	Value float64 `json:"value"`
	Label string  `json:"label"`
}

// shown lists the session's shown items given its answers (caller holds mu).
func (f *fakeAPI) shown(s *fakeSession) []fakeItem {
	var out []fakeItem
	for _, id := range s.instruments {
		in, _ := f.lib.Get(id, "")
		ans := map[string]float64{}
		for k, a := range s.answers {
			if instr, item, _ := strings.Cut(k, "."); instr == id {
				ans[item] = a.value
			}
		}
		ids, err := in.Shown(ans, s.sex, float64(s.age))
		if err != nil {
			panic(err)
		}
		for _, itemID := range ids {
			for _, it := range in.Doc.Items {
				if it.ID != itemID {
					continue
				}
				opts := it.Options
				if len(opts) == 0 {
					opts = in.Doc.Options
				}
				fi := fakeItem{ID: id + "." + it.ID, Instrument: id, Text: it.Text.Get("zh-CN")}
				for _, o := range opts {
					fi.Options = append(fi.Options, fakeOption{Value: *o.Value, Label: o.Label.Get("zh-CN")})
				}
				out = append(out, fi)
			}
		}
	}
	return out
}

func (f *fakeAPI) view(id string, s *fakeSession, withToken bool) map[string]any {
	items := f.shown(s)
	var next *string
	answers := map[string]float64{}
	for _, it := range items {
		if a, ok := s.answers[it.ID]; ok {
			answers[it.ID] = a.value
		} else if next == nil {
			v := it.ID
			next = &v
		}
	}
	v := map[string]any{"id": id, "state": "open", "items": items, "answers": answers, "next": next,
		"progress": map[string]int{"answered": len(answers), "total": len(items)}}
	if withToken {
		v["token"] = s.token
	}
	return v
}

func (f *fakeAPI) create(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Instrument string   `json:"instrument"`
		Battery    []string `json:"battery"`
		Sex        string   `json:"sex"`
		Age        int      `json:"age"`
		Consent    bool     `json:"consent"`
	}
	if json.NewDecoder(r.Body).Decode(&req) != nil {
		apiError(w, 400, "malformed_json")
		return
	}
	if !req.Consent {
		apiError(w, 422, "consent_required")
		return
	}
	instr := req.Battery
	if req.Instrument != "" {
		instr = []string{req.Instrument}
	}
	if len(instr) == 0 {
		apiError(w, 400, "validation_failed")
		return
	}
	for _, id := range instr {
		if _, ok := f.lib.Get(id, ""); !ok {
			apiError(w, 404, "instrument_unknown")
			return
		}
	}
	s := &fakeSession{token: randHex(16), instruments: instr, sex: req.Sex, age: req.Age, answers: map[string]fakeAnswer{}}
	id := randHex(12)
	f.mu.Lock()
	f.sessions[id] = s
	v := f.view(id, s, true)
	f.mu.Unlock()
	writeJSON(w, 201, v)
}

// session finds the session and checks its token; the caller holds mu.
func (f *fakeAPI) session(w http.ResponseWriter, r *http.Request) (string, *fakeSession) {
	id := r.PathValue("id")
	s, ok := f.sessions[id]
	if !ok {
		apiError(w, 404, "session_not_found")
		return "", nil
	}
	if r.Header.Get("Authorization") != "Bearer "+s.token {
		apiError(w, 401, "token_invalid")
		return "", nil
	}
	return id, s
}

func (f *fakeAPI) get(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id, s := f.session(w, r)
	if s == nil {
		return
	}
	writeJSON(w, 200, f.view(id, s, false))
}

func (f *fakeAPI) answer(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Value *float64 `json:"value"`
		Seq   int64    `json:"seq"`
	}
	if json.NewDecoder(r.Body).Decode(&req) != nil || req.Value == nil {
		apiError(w, 400, "malformed_json")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	_, s := f.session(w, r)
	if s == nil {
		return
	}
	if s.submitted {
		apiError(w, 409, "session_submitted")
		return
	}
	item := r.PathValue("item")
	var it *fakeItem
	items := f.shown(s)
	for i := range items {
		if items[i].ID == item {
			it = &items[i]
		}
	}
	if it == nil {
		apiError(w, 404, "item_unknown")
		return
	}
	valid := false
	for _, o := range it.Options {
		valid = valid || o.Value == *req.Value
	}
	if !valid {
		apiError(w, 422, "answer_out_of_range")
		return
	}
	status := "saved"
	cur, had := s.answers[item]
	switch {
	case had && req.Seq == cur.seq:
		status = "replay"
	case had && req.Seq < cur.seq:
		status = "stale"
	default:
		cur = fakeAnswer{value: *req.Value, seq: req.Seq}
		s.answers[item] = cur
		f.saved.Add(1)
	}
	writeJSON(w, 200, map[string]any{"item": item, "value": cur.value, "seq": cur.seq, "status": status})
}

func (f *fakeAPI) submit(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id, s := f.session(w, r)
	if s == nil {
		return
	}
	for _, it := range f.shown(s) {
		if _, ok := s.answers[it.ID]; !ok {
			apiError(w, 422, "incomplete")
			return
		}
	}
	if !s.submitted {
		s.submitted = true
		for _, instr := range s.instruments {
			in, _ := f.lib.Get(instr, "")
			ans := map[string]float64{}
			for k, a := range s.answers {
				if i, item, _ := strings.Cut(k, "."); i == instr {
					ans[item] = a.value
				}
			}
			res, err := in.Score(engine.Input{Answers: ans, Sex: s.sex, Age: float64(s.age)})
			if err != nil {
				panic(fmt.Sprintf("score %s: %v", instr, err))
			}
			s.crisis = s.crisis || res.HighestLevel() == 1
		}
		if s.crisis {
			f.crises.Add(1)
		}
	}
	var crisis any
	if s.crisis {
		crisis = map[string]any{"hotline": "12356", "message": "…"}
	}
	writeJSON(w, 200, map[string]any{"id": id, "state": "submitted", "result": map[string]any{"instruments": []any{}}, "crisis": crisis})
}
