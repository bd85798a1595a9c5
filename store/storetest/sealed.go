package storetest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"xinling/store"
	"xinling/store/sealed"
)

// Fixed test keys (never used outside tests).
const (
	testIndexKey = "index:aW5kZXgta2V5LWZvci10ZXN0cy1vbmx5LTMyYnl0ZXM"
	testK1       = "k1:azEta2V5LWZvci10ZXN0cy1vbmx5LTAwMDAwMDAwMDA"
	testK2       = "k2:azIta2V5LWZvci10ZXN0cy1vbmx5LTAwMDAwMDAwMDA"
)

// TestKeySpec is a key specification for tests of code above the store
// (assess, api) that should run through the sealing layer as serve does.
const TestKeySpec = testIndexKey + "," + testK1

// TestKeys parses a test key specification, failing the test on error.
func TestKeys(t testing.TB, spec string) *sealed.Keys {
	t.Helper()
	k, err := sealed.ParseKeys(spec)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// Plaintexts the sealed contract writes; a backend must never hold them.
const (
	SecretName      = "沈默然Zqx"
	SecretStudentNo = "S2026-0042-77"
	SecretNote      = "家庭矛盾 nightly-argument-note"
)

// RunSealed runs the whole contract again through the sealing layer (so
// sealing changes no behaviour), then the sealing contract itself: the
// backend holds only ciphertext, tampering is detected, and Rekey moves
// everything to a new key while a dropped old key loses nothing. The
// backend must implement store.Resealer.
func RunSealed(t *testing.T, open Opener) {
	k1 := TestKeys(t, testIndexKey+","+testK1)
	Run(t, func(t *testing.T) store.Store { return sealed.Wrap(open(t), k1) })
	t.Run("SealedAtRest", func(t *testing.T) { testSealedAtRest(t, open(t)) })
	t.Run("SealedInventory", func(t *testing.T) { testSealedInventory(t, open(t)) })
	t.Run("SealedTamper", func(t *testing.T) { testSealedTamper(t, open(t)) })
	t.Run("Rekey", func(t *testing.T) { testRekey(t, open(t)) })
	t.Run("RekeyPlaintext", func(t *testing.T) { testRekeyPlaintext(t, open(t)) })
	t.Run("ResealKeepsConcurrentWrites", func(t *testing.T) { testResealConcurrent(t, open(t)) })
}

// WriteSecrets writes a rostered student, a case, a referral, a queue note
// and an activity note through s, all carrying the Secret* plaintexts.
// It returns the student and the case.
func WriteSecrets(t *testing.T, s store.Store) (store.Person, store.Case) {
	t.Helper()
	tree(t, s)
	out, err := s.UpsertRoster(ctx, "school", []store.Person{{ID: store.NewID(), UnitID: "class1",
		Name: store.Sealed(SecretName), StudentNo: store.Sealed(SecretStudentNo), Phone: store.Sealed("13800138000"), Sex: "f", CreatedAt: T0, UpdatedAt: T0}}, T0)
	must(t, err)
	if out.Created != 1 {
		t.Fatalf("roster = %+v", out)
	}
	ps, _, err := s.ListPersons(ctx, store.PersonFilter{SchoolID: "school"}, store.Page{})
	must(t, err)
	if len(ps) != 1 || string(ps[0].Name) != SecretName || string(ps[0].StudentNo) != SecretStudentNo {
		t.Fatalf("roster read back = %+v", ps)
	}
	p := ps[0]
	c, err := s.CreateCase(ctx, store.Case{ID: "c1", PersonID: p.ID, UnitID: "station", CounsellorID: "a",
		SelfEvaluation: store.Sealed(SecretNote), Advice: store.Sealed(SecretNote), Outcome: SecretNote, At: T0, CreatedAt: T0})
	must(t, err)
	sess := session(t, s, "class1", p.ID)
	rid := store.NewID()
	sub, err := s.Submit(ctx, store.Submission{SessionID: sess.ID, At: T0,
		Results: []store.Result{{ID: rid, Instrument: "phq9", Version: "1", ContentHash: "h"}},
		Warning: &store.WarningDraft{ID: store.NewID(), Level: 1, DueAt: at(time.Hour),
			Reasons: []store.Reason{{ResultID: rid, Instrument: "phq9", Rule: "item9", Level: 1}}}})
	must(t, err)
	w := claimed(t, s, *sub.Warning, "a")
	_, err = s.AssignWarning(ctx, w.ID, "a", "b", at(time.Minute), at(time.Hour), SecretNote)
	must(t, err)
	_, err = s.TransitionWarning(ctx, w.ID, store.WarningChange{ActorID: "b", To: store.WarningFollowingUp, Note: SecretNote, At: at(2 * time.Minute)})
	must(t, err)
	_, err = s.ReferWarning(ctx, w.ID, store.Referral{ID: "r1", ToUnitID: "county2", SenderID: "b", Note: store.Sealed(SecretNote), CreatedAt: at(3 * time.Minute)})
	must(t, err)
	_, err = s.AddActivity(ctx, store.Activity{ID: "a1", UnitID: "station", Date: T0, Type: "lecture", Note: SecretNote, CreatedAt: T0})
	must(t, err)
	return p, c
}

// CheckSecrets reads everything WriteSecrets wrote back through s and
// fails unless every plaintext is intact.
func CheckSecrets(t *testing.T, s store.Store, personID string) {
	t.Helper()
	p, err := s.GetPerson(ctx, personID)
	must(t, err)
	if string(p.Name) != SecretName || string(p.StudentNo) != SecretStudentNo || string(p.Phone) != "13800138000" {
		t.Fatalf("person = %q %q %q", p.Name, p.StudentNo, p.Phone)
	}
	c, err := s.GetCase(ctx, "c1")
	must(t, err)
	if string(c.SelfEvaluation) != SecretNote || string(c.Advice) != SecretNote || c.Outcome != SecretNote || len(c.LifeEvents) != 0 {
		t.Fatalf("case = %+v", c)
	}
	r, err := s.GetReferral(ctx, "r1")
	must(t, err)
	if string(r.Note) != SecretNote {
		t.Fatalf("referral note = %q", r.Note)
	}
	w, err := s.GetWarning(ctx, r.WarningID)
	must(t, err)
	var notes []string
	for _, e := range w.History {
		notes = append(notes, e.Note)
	}
	if !strings.Contains(strings.Join(notes, "|"), SecretNote+" → b|"+SecretNote+"|") {
		t.Fatalf("history notes = %q", notes)
	}
	as, _, err := s.ListActivities(ctx, store.ActivityFilter{}, store.Page{})
	must(t, err)
	if len(as) != 1 || as[0].Note != SecretNote {
		t.Fatalf("activities = %+v", as)
	}
}

// rawDump reads what the backend holds, below the sealing layer.
func rawDump(t *testing.T, raw store.Store, personID string) []byte {
	t.Helper()
	var all []any
	p, err := raw.GetPerson(ctx, personID)
	must(t, err)
	c, err := raw.GetCase(ctx, "c1")
	must(t, err)
	r, err := raw.GetReferral(ctx, "r1")
	must(t, err)
	w, err := raw.GetWarning(ctx, r.WarningID)
	must(t, err)
	as, _, err := raw.ListActivities(ctx, store.ActivityFilter{}, store.Page{})
	must(t, err)
	all = append(all, p, c, r, w, as)
	b, err := json.Marshal(all)
	must(t, err)
	// JSON base64-encodes []byte fields: add their raw bytes too.
	for _, v := range [][]byte{p.Name, p.Phone, p.StudentNo, c.SelfEvaluation, c.Advice, r.Note} {
		b = append(b, v...)
	}
	return b
}

func testSealedAtRest(t *testing.T, raw store.Store) {
	keys := TestKeys(t, testIndexKey+","+testK1)
	s := sealed.Wrap(raw, keys)
	p, _ := WriteSecrets(t, s)
	CheckSecrets(t, s, p.ID)
	dump := rawDump(t, raw, p.ID)
	for _, secret := range []string{SecretName, SecretStudentNo, "13800138000", "家庭矛盾", "nightly-argument-note"} {
		if bytes.Contains(dump, []byte(secret)) {
			t.Errorf("the backend holds %q in clear", secret)
		}
	}
	rp, err := raw.GetPerson(ctx, p.ID)
	must(t, err)
	if rp.StudentNoIndex != keys.Blind("school", SecretStudentNo) {
		t.Errorf("student number index %q is not the keyed blind index", rp.StudentNoIndex)
	}
	// The roster finds the student again by the blind index.
	out, err := s.UpsertRoster(ctx, "school", []store.Person{{ID: store.NewID(), UnitID: "class2",
		Name: store.Sealed(SecretName + "2"), StudentNo: store.Sealed(SecretStudentNo)}}, at(time.Hour))
	must(t, err)
	if out.Created != 0 || out.Updated != 1 {
		t.Fatalf("re-import = %+v, want the same student updated", out)
	}
	got, err := s.GetPerson(ctx, p.ID)
	must(t, err)
	if string(got.Name) != SecretName+"2" || got.UnitID != "class2" {
		t.Fatalf("after re-import: %q in %s", got.Name, got.UnitID)
	}
}

func testSealedTamper(t *testing.T, raw store.Store) {
	s := sealed.Wrap(raw, TestKeys(t, testIndexKey+","+testK1))
	p, _ := WriteSecrets(t, s)
	other, err := s.CreatePerson(ctx, store.Person{ID: "other", UnitID: "class1", Name: store.Sealed("李四"), CreatedAt: T0})
	must(t, err)

	// One altered byte of a case field: an error, not garbage.
	c, err := raw.GetCase(ctx, "c1")
	must(t, err)
	bad := bytes.Clone(c.SelfEvaluation)
	i := len(bad) - 5
	bad[i] ^= 'A' ^ 'B'
	if bad[i] == c.SelfEvaluation[i] || !sealed.IsSealed(bad) {
		t.Fatal("test did not alter the value")
	}
	c.SelfEvaluation = bad
	_, err = raw.UpdateCase(ctx, c)
	must(t, err)
	if _, err := s.GetCase(ctx, "c1"); !errors.Is(err, sealed.ErrTampered) {
		t.Fatalf("GetCase of an altered value: %v, want ErrTampered", err)
	}

	// A whole ciphertext moved to another person's row does not open there.
	rp, err := raw.GetPerson(ctx, p.ID)
	must(t, err)
	ro, err := raw.GetPerson(ctx, other.ID)
	must(t, err)
	ro.Name = rp.Name
	_, err = raw.UpdatePerson(ctx, ro)
	must(t, err)
	if _, err := s.GetPerson(ctx, other.ID); !errors.Is(err, sealed.ErrTampered) {
		t.Fatalf("GetPerson with another row's name: %v, want ErrTampered", err)
	}
	// And a name moved into the phone field of its own row neither.
	rp.Phone = rp.Name
	_, err = raw.UpdatePerson(ctx, rp)
	must(t, err)
	if _, err := s.GetPerson(ctx, p.ID); !errors.Is(err, sealed.ErrTampered) {
		t.Fatalf("GetPerson with the name in the phone field: %v, want ErrTampered", err)
	}
}

func testRekey(t *testing.T, raw store.Store) {
	s1 := sealed.Wrap(raw, TestKeys(t, testIndexKey+","+testK1))
	p, _ := WriteSecrets(t, s1)

	// An assignment without a note stores only the plain " → <assignee>".
	w := claimed(t, s1, flagged(t, s1, "station", 2, T0), "a")
	_, err := s1.AssignWarning(ctx, w.ID, "a", "c", at(time.Minute), at(time.Hour), "")
	must(t, err)
	w, err = s1.GetWarning(ctx, w.ID)
	must(t, err)
	if n := w.History[len(w.History)-1].Note; n != " → c" {
		t.Fatalf("empty assignment note reads %q", n)
	}

	k21 := TestKeys(t, testIndexKey+","+testK2+","+testK1)
	rep, err := sealed.Rekey(ctx, raw, k21, 2) // small batches: several per column
	must(t, err)
	// name, phone, student no; 2 case fields and the outcome; the referral;
	// 2 history notes (assignment, transition); the activity; and the
	// second person's name and the empty assignment note, left alone
	if rep.Visited != 12 || rep.Moved != 11 || rep.Sealed != 0 || rep.Reindexed != 0 {
		t.Fatalf("rekey = %+v", rep)
	}
	again, err := sealed.Rekey(ctx, raw, k21, 2)
	must(t, err)
	if again.Visited != 12 || again.Moved != 0 {
		t.Fatalf("second rekey = %+v, want nothing to move", again)
	}
	// k1 dropped: everything still reads, and the roster still finds the student.
	s2 := sealed.Wrap(raw, TestKeys(t, testIndexKey+","+testK2))
	CheckSecrets(t, s2, p.ID)
	out, err := s2.UpsertRoster(ctx, "school", []store.Person{{ID: store.NewID(), UnitID: "class1",
		Name: store.Sealed(SecretName), StudentNo: store.Sealed(SecretStudentNo)}}, at(time.Hour))
	must(t, err)
	if out.Updated != 1 {
		t.Fatalf("roster after rotation = %+v", out)
	}
	// Before the rekey, k1's values do not open under k2 alone.
	s3 := sealed.Wrap(raw, TestKeys(t, testIndexKey+","+testK1))
	_, err = s3.CreatePerson(ctx, store.Person{ID: "late", UnitID: "class1", Name: store.Sealed("x"), CreatedAt: T0})
	must(t, err)
	if _, err := s2.GetPerson(ctx, "late"); !errors.Is(err, sealed.ErrUnknownKey) {
		t.Fatalf("a value under a dropped key: %v, want ErrUnknownKey", err)
	}
}

// testRekeyPlaintext: rows written before encryption (plain bytes and the
// old unkeyed SHA-256 student index) are sealed and reindexed by Rekey.
func testRekeyPlaintext(t *testing.T, raw store.Store) {
	tree(t, raw)
	sum := sha256.Sum256([]byte("school\x00" + SecretStudentNo))
	out, err := raw.UpsertRoster(ctx, "school", []store.Person{{ID: store.NewID(), UnitID: "class1", SchoolID: "school",
		StudentNoIndex: hex.EncodeToString(sum[:]), Name: store.Sealed(SecretName), StudentNo: store.Sealed(SecretStudentNo)}}, T0)
	must(t, err)
	if out.Created != 1 {
		t.Fatal(out)
	}
	keys := TestKeys(t, testIndexKey+","+testK1)
	s := sealed.Wrap(raw, keys)
	ps, _, err := raw.ListPersons(ctx, store.PersonFilter{}, store.Page{})
	must(t, err)
	if _, err := s.GetPerson(ctx, ps[0].ID); !errors.Is(err, sealed.ErrNotSealed) {
		t.Fatalf("plaintext row before rekey: %v, want ErrNotSealed", err)
	}
	rep, err := sealed.Rekey(ctx, raw, keys, 0)
	must(t, err)
	if rep.Sealed != 2 || rep.Reindexed != 1 {
		t.Fatalf("rekey of plaintext = %+v", rep)
	}
	got, err := s.GetPerson(ctx, ps[0].ID)
	must(t, err)
	if string(got.Name) != SecretName || got.StudentNoIndex != keys.Blind("school", SecretStudentNo) {
		t.Fatalf("after rekey: %q %q", got.Name, got.StudentNoIndex)
	}
	r, err := raw.GetPerson(ctx, ps[0].ID)
	must(t, err)
	if bytes.Contains(r.Name, []byte(SecretName)) || bytes.Contains(r.StudentNo, []byte(SecretStudentNo)) {
		t.Fatal("plaintext left after rekey")
	}
}

// testResealConcurrent: a server writing a value while Reseal is rewriting
// it keeps its write; Reseal counts the value as skipped.
func testResealConcurrent(t *testing.T, raw store.Store) {
	tree(t, raw)
	s1 := sealed.Wrap(raw, TestKeys(t, testIndexKey+","+testK1))
	_, err := s1.CreatePerson(ctx, store.Person{ID: "p1", UnitID: "class1", Name: store.Sealed("old name"), CreatedAt: T0})
	must(t, err)
	k21 := TestKeys(t, testIndexKey+","+testK2+","+testK1)
	s2 := sealed.Wrap(raw, k21) // the running server, already on k2
	rs, ok := raw.(store.Resealer)
	if !ok {
		t.Fatal("the backend does not implement store.Resealer")
	}
	cnt, err := rs.Reseal(ctx, 10, func(v store.SealedValue) ([]byte, error) {
		if v.Field != store.FieldPersonName {
			return nil, nil
		}
		p, err := s2.GetPerson(ctx, "p1")
		if err != nil {
			return nil, err
		}
		p.Name = store.Sealed("new name")
		if _, err := s2.UpdatePerson(ctx, p); err != nil {
			return nil, err
		}
		plain, err := k21.Open(v.Field, v.Row, v.Value)
		if err != nil {
			return nil, err
		}
		return k21.Seal(v.Field, v.Row, plain), nil
	})
	must(t, err)
	if cnt.Visited != 1 || cnt.Rewritten != 0 || cnt.Skipped != 1 {
		t.Fatalf("reseal = %+v", cnt)
	}
	p, err := s2.GetPerson(ctx, "p1")
	must(t, err)
	if string(p.Name) != "new name" {
		t.Fatalf("the concurrent write was lost: %q", p.Name)
	}
}
