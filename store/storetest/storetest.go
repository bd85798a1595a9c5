// Package storetest is the contract every store.Store backend must pass.
// Backends call Run from their own tests with a constructor that returns a
// fresh, empty store for each subtest.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"xinling/store"
)

// Opener returns a fresh, empty store; it registers its own cleanup.
type Opener func(t *testing.T) store.Store

// Run runs the whole contract against the backend that open makes.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Units", testUnits},
		{"Staff", testStaff},
		{"Logins", testLogins},
		{"Persons", testPersons},
		{"Roster", testRoster},
		{"Sessions", testSessions},
		{"AnswerIdempotency", testAnswerIdempotency},
		{"AnswerBatch", testAnswerBatch},
		{"ConcurrentAnswers", testConcurrentAnswers},
		{"Purge", testPurge},
		{"IdleSessions", testIdleSessions},
		{"SessionToken", testSessionToken},
		{"Submit", testSubmit},
		{"SubmitAtomic", testSubmitAtomic},
		{"SubmitMerge", testSubmitMerge},
		{"OutboxWithWarnings", testOutboxWithWarnings},
		{"OutboxDelivery", testOutboxDelivery},
		{"OutboxClaimRace", testOutboxClaimRace},
		{"OutboxRequeue", testOutboxRequeue},
		{"OutboxEnqueueLeased", testOutboxEnqueueLeased},
		{"NotifySettings", testNotifySettings},
		{"Absences", testAbsences},
		{"AppendWarningEvent", testAppendWarningEvent},
		{"Results", testResults},
		{"Rescore", testRescore},
		{"ClaimRace", testClaimRace},
		{"ClaimLease", testClaimLease},
		{"Transitions", testTransitions},
		{"AssignEscalate", testAssignEscalate},
		{"ChangeFeed", testChangeFeed},
		{"QueueScope", testQueueScope},
		{"QueuePagination", testQueuePagination},
		{"QueueLevels", testQueueLevels},
		{"Referrals", testReferrals},
		{"Cases", testCases},
		{"Meetings", testMeetings},
		{"Campaigns", testCampaigns},
		{"AccessCodes", testAccessCodes},
		{"Instruments", testInstruments},
		{"Audit", testAudit},
		{"ActivitiesAndCounts", testActivitiesAndCounts},
		{"Lifecycle", testLifecycle},
		{"Erasure", testErasure},
		{"Retention", testRetention},
	}
	for _, h := range HandoffTests {
		tests = append(tests, struct {
			name string
			fn   func(t *testing.T, s store.Store)
		}{h.Name, h.Fn})
	}
	// Every area gets a store of its own, so they run side by side: most of
	// the contract's time is spent waiting for fsync, not computing.
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

// T0 is the contract's clock origin; times are at millisecond precision as
// the store keeps them.
var T0 = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return T0.Add(d) }

var ctx = context.Background()

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("got error %v, want %v", err, target)
	}
}

// tree builds:
//
//	city
//	├── county
//	│   ├── school (class1, class2)
//	│   └── school2 (class3)
//	└── county2
//	    └── station
func tree(t *testing.T, s store.Store) map[string]store.Unit {
	t.Helper()
	units := map[string]store.Unit{}
	for _, u := range []store.Unit{
		{ID: "city", Kind: "city", Name: "市"},
		{ID: "county", ParentID: "city", Kind: "county", Name: "县"},
		{ID: "school", ParentID: "county", Kind: "school", Name: "一中"},
		{ID: "class1", ParentID: "school", Kind: "class", Name: "1班"},
		{ID: "class2", ParentID: "school", Kind: "class", Name: "2班"},
		{ID: "school2", ParentID: "county", Kind: "school", Name: "二中"},
		{ID: "class3", ParentID: "school2", Kind: "class", Name: "3班"},
		{ID: "county2", ParentID: "city", Kind: "county", Name: "县2"},
		{ID: "station", ParentID: "county2", Kind: "station", Name: "驿站"},
	} {
		u.CreatedAt = T0
		got, err := s.CreateUnit(ctx, u)
		must(t, err)
		units[u.ID] = got
	}
	return units
}

// session creates an open session in unit for person (may be empty).
func session(t *testing.T, s store.Store, unit, person string) store.Session {
	t.Helper()
	sess, err := s.CreateSession(ctx, store.Session{ID: store.NewID(), TokenHash: []byte("h"), PersonID: person,
		UnitID: unit, Instruments: []string{"phq9"}, Consent: true, Locale: "zh-CN", CreatedAt: T0})
	must(t, err)
	return sess
}

func person(t *testing.T, s store.Store, unit string) store.Person {
	t.Helper()
	p, err := s.CreatePerson(ctx, store.Person{ID: store.NewID(), UnitID: unit, Name: store.Sealed("sealed-name"), Sex: "f", CreatedAt: T0})
	must(t, err)
	return p
}

// flagged submits a session with one result and a warning of level in unit,
// and returns the warning.
func flagged(t *testing.T, s store.Store, unit string, level int, created time.Time) store.Warning {
	t.Helper()
	p := person(t, s, unit)
	sess := session(t, s, unit, p.ID)
	rid := store.NewID()
	out, err := s.Submit(ctx, store.Submission{SessionID: sess.ID, At: created,
		Results: []store.Result{{ID: rid, Instrument: "phq9", Version: "1.0.0", ContentHash: "h1", Scores: map[string]float64{"total": 21}}},
		Warning: &store.WarningDraft{ID: store.NewID(), Level: level, DueAt: created.Add(time.Hour),
			Reasons: []store.Reason{{ResultID: rid, Instrument: "phq9", Rule: "item9", Level: level, Text: map[string]string{"en": "item 9"}}}}})
	must(t, err)
	if out.Warning == nil {
		t.Fatal("submit with a warning returned none")
	}
	return *out.Warning
}

func claimed(t *testing.T, s store.Store, w store.Warning, staff string) store.Warning {
	t.Helper()
	got, err := s.ClaimWarning(ctx, w.ID, staff, at(time.Minute), at(time.Hour))
	must(t, err)
	return got
}

func eqStrings(a, b []string) bool {
	return fmt.Sprint(a) == fmt.Sprint(b)
}
