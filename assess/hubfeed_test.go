package assess_test

import (
	"context"
	"testing"
	"time"

	"xinling/assess"
	"xinling/store"
)

// TestHubFeedCarriesChangesBetweenInstances: two services with their own
// hubs over one store stand for two servers. A warning filed on a reaches
// b's consoles through b's feed, and a's consoles get it once although a
// both publishes it locally and reads it back from the feed.
func TestHubFeedCarriesChangesBetweenInstances(t *testing.T) {
	t.Parallel()
	lib, st, clk, opts := fixture(t, time.Hour)
	ctx := context.Background()
	if _, err := st.CreateUnit(ctx, store.Unit{ID: "city", Kind: "city", Name: "市"}); err != nil {
		t.Fatal(err)
	}
	srvA, srvB := assess.New(st, lib, opts), assess.New(st, lib, opts)
	t.Cleanup(srvA.Hub.Close)
	t.Cleanup(srvB.Hub.Close)
	a := srvA.Sessions
	feed := st.(store.ChangeFeed)
	feedA, feedB := srvA.FollowFeed(feed), srvB.FollowFeed(feed)
	subA, subB := srvA.Hub.Subscribe("/city/"), srvB.Hub.Subscribe("/city/")

	v, err := a.Create(ctx, assess.CreateRequest{Instruments: []string{"phq9"}, Consent: true}, "zh-CN")
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 9; i++ {
		clk.Add(time.Second)
		item := "phq9.q" + string(rune('0'+i))
		if _, err := a.SaveAnswer(ctx, v.ID, v.Token, assess.AnswerInput{Item: item, Value: 2, Seq: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.Submit(ctx, v.ID, v.Token, "zh-CN"); err != nil {
		t.Fatal(err)
	}
	if len(subB.C) != 0 {
		t.Fatal("b heard of the warning before following the feed")
	}
	clk.Add(2 * time.Second)
	for _, f := range []*assess.HubFeed{feedA, feedB, feedA, feedB} {
		if _, err := f.Poll(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if len(subA.C) != 1 || len(subB.C) != 1 {
		t.Fatalf("events: a %d, b %d; want one each", len(subA.C), len(subB.C))
	}
	w := <-subB.C
	if w.SessionID != v.ID || w.Level != 1 || w.UnitPath != "/city/" {
		t.Fatalf("b got %+v", w)
	}
	<-subA.C

	// A later change made directly in the store (another server claiming
	// it) reaches both, once.
	clk.Add(time.Minute)
	if _, err := st.ClaimWarning(ctx, w.ID, "someone", clk.Now(), clk.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, f := range []*assess.HubFeed{feedA, feedB, feedA, feedB} {
		if _, err := f.Poll(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if len(subA.C) != 1 || len(subB.C) != 1 {
		t.Fatalf("claim events: a %d, b %d; want one each", len(subA.C), len(subB.C))
	}
	if got := <-subB.C; got.State != store.WarningClaimed {
		t.Fatalf("b got %+v", got)
	}
}

// TestHubSendsAnEntryVersionOnce: publishing the same or an older version
// again sends nothing.
func TestHubSendsAnEntryVersionOnce(t *testing.T) {
	t.Parallel()
	h := assess.New(nil, nil, assess.Options{}).Hub
	t.Cleanup(h.Close)
	sub := h.Subscribe("/city/")
	for _, v := range []int64{1, 1, 3, 2, 3, 4} {
		h.Publish(store.Warning{ID: "w1", UnitPath: "/city/x/", Version: v})
	}
	var got []int64
	for len(sub.C) > 0 {
		got = append(got, (<-sub.C).Version)
	}
	if len(got) != 3 || got[0] != 1 || got[1] != 3 || got[2] != 4 {
		t.Fatalf("versions sent: %v, want [1 3 4]", got)
	}
}
