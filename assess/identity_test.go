package assess_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"xinling/assess"
	"xinling/store"
)

func identityFixture(t *testing.T) (*assess.Sessions, store.Store, func(time.Duration)) {
	t.Helper()
	lib, st, clk, opts := fixture(t, time.Hour)
	opts.Sessions.IdentityKey = bytes.Repeat([]byte{9}, 32)
	return assess.New(st, lib, opts).Sessions, st, clk.Add
}

func TestSignInFindsTheSamePersonAgain(t *testing.T) {
	t.Parallel()
	s, st, _ := identityFixture(t)
	ctx := context.Background()
	a, err := s.SignIn(ctx, store.IdentityWeChat, "wechat:wxA", "openid-1")
	must(t, err)
	again, err := s.SignIn(ctx, store.IdentityWeChat, "wechat:wxA", "openid-1")
	must(t, err)
	other, err := s.SignIn(ctx, store.IdentityWeChat, "wechat:wxB", "openid-1") // another account's openid space
	must(t, err)
	pa, _ := s.Respondent(ctx, a.Token)
	pagain, _ := s.Respondent(ctx, again.Token)
	pother, _ := s.Respondent(ctx, other.Token)
	if pa == "" || pa != pagain || pa == pother {
		t.Fatalf("persons: %q %q %q", pa, pagain, pother)
	}
	// Anonymising the person (PIPL) ends the sign-in.
	must(t, st.AnonymisePerson(ctx, pa, time.Now()))
	if _, err := s.Respondent(ctx, a.Token); code(err) != assess.CodeIdentityRequired {
		t.Fatalf("anonymised person's token: %v", err)
	}
}

func TestRespondentTokens(t *testing.T) {
	t.Parallel()
	s, _, advance := identityFixture(t)
	ctx := context.Background()
	tok, err := s.SignIn(ctx, store.IdentityWeChat, "wechat:wxA", "openid-1")
	must(t, err)
	if _, err := s.Respondent(ctx, tok.Token); err != nil {
		t.Fatal(err)
	}
	tampered := []byte(tok.Token)
	tampered[3] ^= 1
	// A token signed for another purpose (the sign-in state) is no
	// respondent token, even naming the same value.
	id, _ := s.Respondent(ctx, tok.Token)
	for _, bad := range []string{"", "garbage", string(tampered), s.Sign("wechat-state", id, time.Hour)} {
		if _, err := s.Respondent(ctx, bad); code(err) != assess.CodeIdentityRequired {
			t.Errorf("token %q: %v", bad, err)
		}
	}
	advance(assess.DefaultRespondentTTL + time.Second)
	if _, err := s.Respondent(ctx, tok.Token); code(err) != assess.CodeIdentityRequired {
		t.Fatalf("expired token: %v", err)
	}
}

// A campaign session of the same person shows what its campaign allows.
func TestMySessionsFollowsCampaignVisibility(t *testing.T) {
	t.Parallel()
	s, st, _ := identityFixture(t)
	ctx := context.Background()
	tok, err := s.SignIn(ctx, store.IdentityWeChat, "wechat:wxA", "openid-1")
	must(t, err)
	person, _ := s.Respondent(ctx, tok.Token)
	_, err = st.CreateUnit(ctx, store.Unit{ID: "school", Name: "学校", Kind: "school"})
	must(t, err)
	now := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	for _, vis := range []string{"thanks", "bands"} {
		_, err = st.CreateCampaign(ctx, store.Campaign{ID: "cp-" + vis, Name: "筛查", UnitID: "school", UnitIDs: []string{"school"}, Battery: []string{"gad7"},
			Mode: "roster", Visibility: vis, StartsAt: now.Add(-time.Hour), EndsAt: now.Add(24 * time.Hour), CreatedAt: now})
		must(t, err)
		token := "token-" + vis
		sum := sha256.Sum256([]byte(token))
		sess, err := st.CreateSession(ctx, store.Session{ID: "s-" + vis, TokenHash: sum[:], PersonID: person, CampaignID: "cp-" + vis,
			UnitID: "school", Instruments: []string{"gad7@" + gad7Version(t, s)}, Consent: true, CreatedAt: now})
		must(t, err)
		for i, item := range []string{"q1", "q2", "q3", "q4", "q5", "q6", "q7"} {
			_, err := s.SaveAnswer(ctx, sess.ID, token, assess.AnswerInput{Item: "gad7." + item, Value: 2, Seq: int64(i + 1)})
			must(t, err)
		}
		_, err = s.Submit(ctx, sess.ID, token, "zh-CN")
		must(t, err)
		now = now.Add(time.Minute)
	}
	list, _, err := s.MySessions(ctx, person, "", 0, "zh-CN")
	must(t, err)
	if len(list) != 2 {
		t.Fatalf("%d sessions", len(list))
	}
	byID := map[string]assess.MySession{}
	for _, m := range list {
		byID[m.ID] = m
	}
	if m := byID["s-thanks"]; m.Kind != "campaign" || m.Visibility != "thanks" || m.Result != nil {
		t.Fatalf("thanks campaign: %+v", m)
	}
	if m := byID["s-bands"]; m.Visibility != "bands" || m.Result == nil || m.Result.Instruments[0].Bands["total"].Code != "moderate" {
		t.Fatalf("bands campaign: %+v", m)
	}
}

func gad7Version(t *testing.T, s *assess.Sessions) string {
	t.Helper()
	for _, c := range s.Catalogue("en") {
		if c.ID == "gad7" {
			return c.Version
		}
	}
	t.Fatal("gad7 not in the catalogue")
	return ""
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// Two callbacks of one resident at once (a double tap) must end in one
// person, not two.
func TestConcurrentFirstSignInsAgreeOnOnePerson(t *testing.T) {
	t.Parallel()
	s, _, _ := identityFixture(t)
	ctx := context.Background()
	const n = 8
	ids := make(chan string, n)
	errs := make(chan error, n)
	for range n {
		go func() {
			tok, err := s.SignIn(ctx, store.IdentityWeChat, "wechat:wxA", "openid-twice")
			if err != nil {
				errs <- err
				return
			}
			id, err := s.Respondent(ctx, tok.Token)
			errs <- err
			ids <- id
		}()
	}
	for range n {
		must(t, <-errs)
	}
	first := <-ids
	for range n - 1 {
		if id := <-ids; id != first {
			t.Fatalf("two persons for one openid: %s and %s", first, id)
		}
	}
}
