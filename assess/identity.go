package assess

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"xinling/engine"
	"xinling/store"
)

// Respondent identity: a resident who arrives through an official account
// is known by a keyed hash of their openid, linked to a person, so that
// their self-tests come together under "my tests" and in their record.
// The browser holds a signed token naming the person, never the openid.

// CodeIdentityRequired answers /me calls without a valid respondent token.
const CodeIdentityRequired = "identity_required"

// DefaultRespondentTTL is how long a respondent stays signed in. Signing in
// again is silent (snsapi_base asks nothing), so this can be short.
const DefaultRespondentTTL = 30 * 24 * time.Hour

// minIdentityKey is the shortest identity key accepted, in bytes.
const minIdentityKey = 32

// ParseIdentityKey reads XINLING_IDENTITY_KEY: base64 (standard or URL
// alphabet, padded or not) of at least 32 random bytes.
func ParseIdentityKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil {
			if len(k) < minIdentityKey {
				return nil, errors.New("the identity key must hold at least 32 bytes (try: head -c32 /dev/urandom | base64)")
			}
			return k, nil
		}
	}
	return nil, errors.New("the identity key is not base64 (try: head -c32 /dev/urandom | base64)")
}

// derive gives each use of the identity key its own subkey, so a token
// signature can never pass as an openid hash or the other way round.
func derive(master []byte, purpose string) []byte {
	m := hmac.New(sha256.New, master)
	m.Write([]byte("xinling/" + purpose))
	return m.Sum(nil)
}

// IdentityEnabled reports whether an identity key is configured.
func (s *Sessions) IdentityEnabled() bool { return len(s.cfg.IdentityKey) > 0 }

// identityIndex is the stored key of an external identity: HMAC of the
// subject within its issuer (an official account's appid), so that the
// table holds nothing that names anyone without the server's key.
func (s *Sessions) identityIndex(issuer, subject string) string {
	m := hmac.New(sha256.New, derive(s.cfg.IdentityKey, "identity-index"))
	m.Write([]byte(issuer + "\x00" + subject))
	return hex.EncodeToString(m.Sum(nil))
}

// Sign returns value with an expiry and a signature, for a cookie that the
// server must later trust: purpose keeps one kind of token from being
// replayed as another. The value must not contain "|".
func (s *Sessions) Sign(purpose, value string, ttl time.Duration) string {
	payload := value + "|" + strconv.FormatInt(s.now().Add(ttl).Unix(), 10)
	return base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." +
		base64.RawURLEncoding.EncodeToString(s.signature(purpose, payload))
}

// Verify returns the value of a token made by Sign for purpose, or false
// if it is malformed, forged or expired.
func (s *Sessions) Verify(purpose, token string) (string, bool) {
	if !s.IdentityEnabled() || len(token) > 1024 {
		return "", false
	}
	p64, sig64, ok := strings.Cut(token, ".")
	if !ok {
		return "", false
	}
	payload, err1 := base64.RawURLEncoding.DecodeString(p64)
	sig, err2 := base64.RawURLEncoding.DecodeString(sig64)
	if err1 != nil || err2 != nil || !hmac.Equal(sig, s.signature(purpose, string(payload))) {
		return "", false
	}
	value, exp, ok := strings.Cut(string(payload), "|")
	unix, err := strconv.ParseInt(exp, 10, 64)
	if !ok || err != nil || !s.now().Before(time.Unix(unix, 0)) {
		return "", false
	}
	return value, true
}

func (s *Sessions) signature(purpose, payload string) []byte {
	m := hmac.New(sha256.New, derive(s.cfg.IdentityKey, "sign"))
	m.Write([]byte(purpose + "\x00" + payload))
	return m.Sum(nil)
}

const respondentPurpose = "respondent"

// RespondentToken is what a signed-in respondent's browser keeps.
type RespondentToken struct {
	Token   string
	Expires time.Time
}

// SignIn finds the person behind an external identity (kind, issuer,
// subject), creating one on first sight, and returns a respondent token
// for them. The subject itself is never stored.
func (s *Sessions) SignIn(ctx context.Context, kind, issuer, subject string) (RespondentToken, error) {
	if !s.IdentityEnabled() {
		return RespondentToken{}, errors.New("sign-in needs an identity key")
	}
	if subject == "" {
		return RespondentToken{}, errors.New("sign-in needs a subject")
	}
	key := s.identityIndex(issuer, subject)
	p, err := s.store.FindIdentity(ctx, kind, key)
	switch {
	case err == nil:
	case errors.Is(err, store.ErrNotFound):
		if p, err = s.newIdentity(ctx, kind, key); err != nil {
			return RespondentToken{}, err
		}
	default:
		return RespondentToken{}, err
	}
	ttl := s.cfg.RespondentTTL
	return RespondentToken{Token: s.Sign(respondentPurpose, p.ID, ttl), Expires: s.now().Add(ttl)}, nil
}

// newIdentity creates a person for a first-time identity. Self-tests are
// filed under the self-test unit, and so is the person, so that the staff
// who receive their warnings can open their record.
func (s *Sessions) newIdentity(ctx context.Context, kind, key string) (store.Person, error) {
	unit, err := s.selfTestUnit(ctx)
	if err != nil {
		return store.Person{}, err
	}
	now := s.now()
	p, err := s.store.CreatePerson(ctx, store.Person{ID: store.NewID(), UnitID: unit, CreatedAt: now, UpdatedAt: now})
	if err != nil {
		return store.Person{}, err
	}
	err = s.store.LinkIdentity(ctx, kind, key, p.ID, now)
	if errors.Is(err, store.ErrConflict) {
		// The same resident signed in twice at once and the other request
		// linked first: use its person. Ours stays empty and unlinked.
		return s.store.FindIdentity(ctx, kind, key)
	}
	return p, err
}

// Respondent returns the person a respondent token names. A forged or
// expired token, or a person since anonymised or deleted, is
// CodeIdentityRequired: the browser should sign in again or go on
// anonymously.
func (s *Sessions) Respondent(ctx context.Context, token string) (string, error) {
	id, ok := s.Verify(respondentPurpose, token)
	if !ok {
		return "", errorf(CodeIdentityRequired, "", "sign in through WeChat to see your earlier tests")
	}
	p, err := s.store.GetPerson(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && p.Anonymised) {
		return "", errorf(CodeIdentityRequired, "", "sign in through WeChat to see your earlier tests")
	}
	if err != nil {
		return "", err
	}
	return p.ID, nil
}

// MySession is one of a respondent's sessions as they may see it.
type MySession struct {
	ID          string           `json:"id"`
	Kind        string           `json:"kind"` // self_test or campaign
	State       string           `json:"state"`
	CreatedAt   time.Time        `json:"created_at"`
	SubmittedAt *time.Time       `json:"submitted_at"`
	Instruments []InstrumentName `json:"instruments"`
	// Visibility is what the respondent may see of the result: bands
	// (labels and feedback), thanks or nothing (as the campaign decided).
	Visibility string       `json:"visibility"`
	Result     *MyResult    `json:"result"`
	Crisis     *CrisisShort `json:"crisis,omitempty"`
}

// InstrumentName names an instrument in the respondent's language.
type InstrumentName struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

// MyResult is a result summary without scores: bands with their labels and
// feedback, per instrument.
type MyResult struct {
	Instruments []MyInstrumentResult `json:"instruments"`
}

// MyInstrumentResult is one instrument's bands.
type MyInstrumentResult struct {
	ID    string              `json:"id"`
	Title string              `json:"title"`
	Bands map[string]BandView `json:"bands"`
	// Standings put a profile into words without its numbers: each
	// interpreted dimension's standing and meaning, and each code with
	// the names of its letters.
	Standings []StandingView `json:"standings,omitempty"`
}

// CrisisShort reminds of the hotline next to a result that raised a
// level-1 warning, whatever the visibility.
type CrisisShort struct {
	Hotline string `json:"hotline"`
}

// MySessions lists a respondent's sessions, newest first, showing of each
// result only what its visibility allows: self-tests their bands and
// feedback, campaign sessions what the campaign decided. After is the id
// of the last session of the previous page.
func (s *Sessions) MySessions(ctx context.Context, personID, after string, limit int, locale string) ([]MySession, string, error) {
	// The store pages oldest first; a person's sessions are few, so they
	// are gathered whole and turned round.
	var sessions []store.Session
	pg := store.Page{Limit: store.MaxLimit}
	for {
		batch, next, err := s.store.ListSessions(ctx, store.SessionFilter{PersonID: personID}, pg)
		if err != nil {
			return nil, "", err
		}
		sessions = append(sessions, batch...)
		if next == "" {
			break
		}
		pg.After = next
	}
	slices.Reverse(sessions)
	start := 0
	if after != "" {
		i := slices.IndexFunc(sessions, func(x store.Session) bool { return x.ID == after })
		if i < 0 {
			return nil, "", errorf(CodeValidation, "after", "after names no session of yours")
		}
		start = i + 1
	}
	limit = store.Page{Limit: limit}.Size()
	page := sessions[start:min(start+limit, len(sessions))]
	next := ""
	if start+limit < len(sessions) {
		next = page[len(page)-1].ID
	}
	results, err := s.resultsOf(ctx, personID)
	if err != nil {
		return nil, "", err
	}
	campaigns := map[string]string{}
	out := make([]MySession, 0, len(page))
	for _, sess := range page {
		ms := MySession{ID: sess.ID, Kind: "self_test", State: string(sess.State), CreatedAt: sess.CreatedAt,
			Visibility: "bands", Instruments: []InstrumentName{}}
		if !sess.SubmittedAt.IsZero() {
			at := sess.SubmittedAt
			ms.SubmittedAt = &at
		}
		if sess.CampaignID != "" {
			ms.Kind = "campaign"
			vis, ok := campaigns[sess.CampaignID]
			if !ok {
				cp, err := s.store.GetCampaign(ctx, sess.CampaignID)
				if err != nil && !errors.Is(err, store.ErrNotFound) {
					return nil, "", err
				}
				vis = cp.Visibility
				if vis == "" {
					vis = "nothing" // no campaign to ask: show nothing
				}
				campaigns[sess.CampaignID] = vis
			}
			ms.Visibility = vis
		}
		for _, p := range sess.Instruments {
			id, version, _ := strings.Cut(p, "@")
			ms.Instruments = append(ms.Instruments, InstrumentName{ID: id, Title: s.title(id, version, locale)})
		}
		if recs := results[sess.ID]; len(recs) > 0 {
			if ms.Visibility == "bands" {
				ms.Result = s.myResult(sess, recs, locale)
			}
			if crisisIn(recs) {
				ms.Crisis = &CrisisShort{Hotline: s.cfg.Hotline}
			}
		}
		out = append(out, ms)
	}
	return out, next, nil
}

// resultsOf gathers a person's results by session, in one pass.
func (s *Sessions) resultsOf(ctx context.Context, personID string) (map[string][]store.Result, error) {
	out := map[string][]store.Result{}
	page := store.Page{Limit: store.MaxLimit}
	for {
		rs, next, err := s.store.ListResults(ctx, store.ResultFilter{PersonID: personID}, page)
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			out[r.SessionID] = append(out[r.SessionID], r)
		}
		if next == "" {
			return out, nil
		}
		page.After = next
	}
}

func (s *Sessions) title(id, version, locale string) string {
	if in, ok := s.lib.Get(id, version); ok {
		return in.Doc.Title.Get(locale)
	}
	return id
}

// myResult renders bands and feedback in the session's instrument order.
// Scores stay out: the band says what the number means.
func (s *Sessions) myResult(sess store.Session, recs []store.Result, locale string) *MyResult {
	r := &MyResult{Instruments: []MyInstrumentResult{}}
	for _, p := range sess.Instruments {
		id, version, _ := strings.Cut(p, "@")
		for _, rec := range recs {
			if rec.Instrument != id || slices.Contains(rec.Flags, FlagIncomplete) {
				continue
			}
			ir := MyInstrumentResult{ID: id, Title: s.title(id, version, locale), Bands: map[string]BandView{}}
			var res engine.Result
			if json.Unmarshal(rec.Payload, &res) == nil && len(res.Bands) > 0 {
				for _, b := range res.Bands {
					ir.Bands[b.Score] = BandView{Code: b.Code, Label: b.Label.Get(locale), Feedback: b.Feedback.Get(locale)}
				}
			} else {
				for score, code := range rec.Bands {
					ir.Bands[score] = BandView{Code: code}
				}
			}
			if words, err := InterpretStored(s.lib, rec, locale); err == nil {
				ir.Standings = standings(words, locale)
			}
			r.Instruments = append(r.Instruments, ir)
		}
	}
	return r
}

func crisisIn(recs []store.Result) bool {
	for _, rec := range recs {
		var res engine.Result
		if json.Unmarshal(rec.Payload, &res) != nil {
			continue
		}
		for _, w := range res.Warnings {
			if w.Level == 1 {
				return true
			}
		}
	}
	return false
}

// Hotline is the crisis line the H5 shows.
func (s *Sessions) Hotline() string { return s.cfg.Hotline }
