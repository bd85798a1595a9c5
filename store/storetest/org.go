package storetest

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"xinling/store"
)

func testUnits(t *testing.T, s store.Store) {
	units := tree(t, s)
	if got := units["class1"].Path; got != "/city/county/school/class1/" {
		t.Fatalf("path = %q", got)
	}
	u, err := s.GetUnit(ctx, "school")
	must(t, err)
	renamed, err := s.RenameUnit(ctx, "school", "第一中学", "school")
	must(t, err)
	if renamed.Name != "第一中学" || renamed.Path != u.Path || renamed.ParentID != u.ParentID {
		t.Fatalf("RenameUnit = %+v", renamed)
	}
	_, err = s.RenameUnit(ctx, "nope", "x", "school")
	wantErr(t, err, store.ErrNotFound)
	if u.ParentID != "county" || u.Name != "一中" || !u.CreatedAt.Equal(T0) {
		t.Fatalf("GetUnit = %+v", u)
	}
	_, err = s.GetUnit(ctx, "nope")
	wantErr(t, err, store.ErrNotFound)
	_, err = s.CreateUnit(ctx, store.Unit{ID: "x", ParentID: "nope", Kind: "class"})
	wantErr(t, err, store.ErrNotFound)
	_, err = s.CreateUnit(ctx, store.Unit{ID: "school", ParentID: "county", Kind: "school"})
	wantErr(t, err, store.ErrConflict)
	_, err = s.CreateUnit(ctx, store.Unit{ID: "a/b", Kind: "school"})
	wantErr(t, err, store.ErrInvalid)

	// "school" must not match "school2": the subtree is by path, not prefix text.
	sub, err := s.ListUnits(ctx, units["school"].Path)
	must(t, err)
	var ids []string
	for _, u := range sub {
		ids = append(ids, u.ID)
	}
	if !eqStrings(ids, []string{"school", "class1", "class2"}) {
		t.Fatalf("ListUnits(school) = %v", ids)
	}
	all, err := s.ListUnits(ctx, "")
	must(t, err)
	if len(all) != len(units) {
		t.Fatalf("ListUnits(all) = %d units, want %d", len(all), len(units))
	}
}

func testStaff(t *testing.T, s store.Store) {
	tree(t, s)
	a, err := s.CreateStaff(ctx, store.Staff{ID: "st1", Login: "wang", Name: "王", Role: store.RoleCounsellor, UnitID: "county",
		PasswordHash: []byte("hash"), CreatedAt: T0})
	must(t, err)
	if a.UnitPath != "/city/county/" || a.Version == 0 {
		t.Fatalf("CreateStaff = %+v", a)
	}
	_, err = s.CreateStaff(ctx, store.Staff{ID: "st2", Login: "wang", Role: store.RoleAdmin, UnitID: "city", CreatedAt: T0})
	wantErr(t, err, store.ErrConflict)
	_, err = s.CreateStaff(ctx, store.Staff{ID: "st1", Login: "li", Role: store.RoleAdmin, UnitID: "city", CreatedAt: T0})
	wantErr(t, err, store.ErrConflict)
	_, err = s.CreateStaff(ctx, store.Staff{ID: "st3", Login: "zhao", Role: store.RoleAdmin, UnitID: "nope", CreatedAt: T0})
	wantErr(t, err, store.ErrNotFound)
	_, err = s.CreateStaff(ctx, store.Staff{ID: "st4", Role: store.RoleAdmin, UnitID: "city"})
	wantErr(t, err, store.ErrInvalid)

	got, err := s.GetStaffByLogin(ctx, "wang")
	must(t, err)
	if got.ID != "st1" || !bytes.Equal(got.PasswordHash, []byte("hash")) || got.Role != store.RoleCounsellor {
		t.Fatalf("GetStaffByLogin = %+v", got)
	}
	_, err = s.GetStaffByLogin(ctx, "nobody")
	wantErr(t, err, store.ErrNotFound)
	_, err = s.GetStaff(ctx, "nobody")
	wantErr(t, err, store.ErrNotFound)

	got.FailedLogins, got.LockedUntil, got.UnitID, got.UpdatedAt = 3, at(time.Hour), "station", at(time.Minute)
	got.MustChangePassword = true
	got.Permissions = []string{"z_perm", store.PermEditInstruments, "z_perm"}
	up, err := s.UpdateStaff(ctx, got)
	must(t, err)
	if up.FailedLogins != 3 || !up.LockedUntil.Equal(at(time.Hour)) || up.UnitPath != "/city/county2/station/" || up.Version != got.Version+1 || !up.MustChangePassword {
		t.Fatalf("UpdateStaff = %+v", up)
	}
	if again, _ := s.GetStaff(ctx, "st1"); !slices.Equal(again.Permissions, []string{store.PermEditInstruments, "z_perm"}) {
		t.Fatalf("permissions stored as %q, want the sorted set", again.Permissions)
	}
	_, err = s.UpdateStaff(ctx, got) // stale version
	wantErr(t, err, store.ErrConflict)
	got.ID = "nobody"
	_, err = s.UpdateStaff(ctx, got)
	wantErr(t, err, store.ErrNotFound)

	for i, u := range []string{"school", "class1", "school2", "county"} {
		_, err := s.CreateStaff(ctx, store.Staff{ID: "t" + u, Login: "t" + u, Role: store.RoleTeacher, UnitID: u, CreatedAt: at(time.Duration(i) * time.Second)})
		must(t, err)
	}
	list, _, err := s.ListStaff(ctx, store.StaffFilter{UnitPath: "/city/county/school/"}, store.Page{})
	must(t, err)
	if len(list) != 2 {
		t.Fatalf("ListStaff(school) = %d, want 2", len(list))
	}
	list, _, err = s.ListStaff(ctx, store.StaffFilter{Role: store.RoleCounsellor}, store.Page{})
	must(t, err)
	if len(list) != 1 || list[0].ID != "st1" {
		t.Fatalf("ListStaff(role) = %+v", list)
	}
	seen := map[string]bool{}
	after := ""
	for {
		page, next, err := s.ListStaff(ctx, store.StaffFilter{}, store.Page{After: after, Limit: 2})
		must(t, err)
		for _, p := range page {
			if seen[p.ID] {
				t.Fatalf("staff %s listed twice", p.ID)
			}
			seen[p.ID] = true
		}
		if next == "" {
			break
		}
		after = next
	}
	if len(seen) != 5 {
		t.Fatalf("paged through %d staff, want 5", len(seen))
	}
	_, _, err = s.ListStaff(ctx, store.StaffFilter{}, store.Page{After: "!!bad"})
	wantErr(t, err, store.ErrInvalid)
}

func testPersons(t *testing.T, s store.Store) {
	tree(t, s)
	p, err := s.CreatePerson(ctx, store.Person{ID: "p1", UnitID: "class1", SchoolID: "school", StudentNoIndex: "idx1",
		Name: store.Sealed("n1"), StudentNo: store.Sealed("s1"), Sex: "m", BirthMonth: "2010-05", CreatedAt: T0})
	must(t, err)
	if p.UnitPath != "/city/county/school/class1/" {
		t.Fatalf("person path %q", p.UnitPath)
	}
	_, err = s.CreatePerson(ctx, store.Person{ID: "p2", UnitID: "class2", SchoolID: "school", StudentNoIndex: "idx1", CreatedAt: T0})
	wantErr(t, err, store.ErrConflict)
	_, err = s.CreatePerson(ctx, store.Person{ID: "p1", UnitID: "class2", CreatedAt: T0})
	wantErr(t, err, store.ErrConflict)
	_, err = s.CreatePerson(ctx, store.Person{ID: "p3", UnitID: "nope", CreatedAt: T0})
	wantErr(t, err, store.ErrNotFound)
	resident, err := s.CreatePerson(ctx, store.Person{ID: "p4", CreatedAt: T0}) // an anonymous resident has no unit
	must(t, err)
	if resident.UnitPath != "" {
		t.Fatalf("unit-less person has path %q", resident.UnitPath)
	}

	got, err := s.GetPerson(ctx, "p1")
	must(t, err)
	if string(got.Name) != "n1" || got.BirthMonth != "2010-05" || got.StudentNoIndex != "idx1" {
		t.Fatalf("GetPerson = %+v", got)
	}
	_, err = s.GetPerson(ctx, "nope")
	wantErr(t, err, store.ErrNotFound)
	got.Phone, got.UnitID, got.UpdatedAt = store.Sealed("phone"), "class2", at(time.Minute)
	up, err := s.UpdatePerson(ctx, got)
	must(t, err)
	if string(up.Phone) != "phone" || up.UnitPath != "/city/county/school/class2/" || up.Version != got.Version+1 {
		t.Fatalf("UpdatePerson = %+v", up)
	}
	_, err = s.UpdatePerson(ctx, got)
	wantErr(t, err, store.ErrConflict)

	must(t, s.LinkIdentity(ctx, store.IdentityDevice, "dev1", "p1", T0))
	must(t, s.LinkIdentity(ctx, store.IdentityDevice, "dev1", "p1", T0)) // idempotent
	wantErr(t, s.LinkIdentity(ctx, store.IdentityDevice, "dev1", "p4", T0), store.ErrConflict)
	wantErr(t, s.LinkIdentity(ctx, store.IdentityDevice, "dev2", "nope", T0), store.ErrNotFound)
	found, err := s.FindIdentity(ctx, store.IdentityDevice, "dev1")
	must(t, err)
	if found.ID != "p1" {
		t.Fatalf("FindIdentity = %s", found.ID)
	}
	_, err = s.FindIdentity(ctx, store.IdentityDevice, "dev9")
	wantErr(t, err, store.ErrNotFound)
	// Kinds are separate namespaces: a WeChat key equal to a device key
	// names its own person.
	must(t, s.LinkIdentity(ctx, store.IdentityWeChat, "dev1", "p4", T0))
	if found, err := s.FindIdentity(ctx, store.IdentityWeChat, "dev1"); err != nil || found.ID != "p4" {
		t.Fatalf("FindIdentity(wechat) = %s, %v", found.ID, err)
	}

	list, _, err := s.ListPersons(ctx, store.PersonFilter{UnitPath: "/city/county/school/"}, store.Page{})
	must(t, err)
	if len(list) != 1 || list[0].ID != "p1" {
		t.Fatalf("ListPersons(school) = %d", len(list))
	}

	must(t, s.AnonymisePerson(ctx, "p1", at(time.Hour)))
	anon, err := s.GetPerson(ctx, "p1")
	must(t, err)
	if !anon.Anonymised || len(anon.Name) != 0 || len(anon.Phone) != 0 || len(anon.StudentNo) != 0 || anon.StudentNoIndex != "" {
		t.Fatalf("anonymised person keeps identifiers: %+v", anon)
	}
	_, err = s.FindIdentity(ctx, store.IdentityDevice, "dev1")
	wantErr(t, err, store.ErrNotFound)
	if found, err := s.FindIdentity(ctx, store.IdentityWeChat, "dev1"); err != nil || found.ID != "p4" {
		t.Fatalf("anonymising p1 unlinked p4: %v", err)
	}
	wantErr(t, s.AnonymisePerson(ctx, "nope", T0), store.ErrNotFound)
}

func testRoster(t *testing.T, s store.Store) {
	tree(t, s)
	var people []store.Person
	for i := 0; i < 30; i++ {
		cls := "class1"
		if i%2 == 1 {
			cls = "class2"
		}
		people = append(people, store.Person{StudentNoIndex: "no" + string(rune('A'+i)), UnitID: cls, Name: store.Sealed("n"), Sex: "f"})
	}
	out, err := s.UpsertRoster(ctx, "school", people, T0)
	must(t, err)
	if out.Created != 30 || out.Updated != 0 {
		t.Fatalf("first import = %+v", out)
	}
	people[0].Name = store.Sealed("renamed")
	people[0].UnitID = "class2"
	people = append(people, store.Person{StudentNoIndex: "new", UnitID: "class1"})
	out, err = s.UpsertRoster(ctx, "school", people, at(time.Hour))
	must(t, err)
	if out.Created != 1 || out.Updated != 30 {
		t.Fatalf("re-import = %+v", out)
	}
	list, _, err := s.ListPersons(ctx, store.PersonFilter{SchoolID: "school"}, store.Page{Limit: 100})
	must(t, err)
	if len(list) != 31 {
		t.Fatalf("roster has %d persons, want 31", len(list))
	}
	for _, p := range list {
		if p.StudentNoIndex == "noA" && (string(p.Name) != "renamed" || p.UnitID != "class2") {
			t.Fatalf("re-import did not update in place: %+v", p)
		}
	}
	// A person outside the school fails the whole import: nothing changes.
	bad := []store.Person{{StudentNoIndex: "zz1", UnitID: "class1"}, {StudentNoIndex: "zz2", UnitID: "class3"}}
	_, err = s.UpsertRoster(ctx, "school", bad, at(2*time.Hour))
	wantErr(t, err, store.ErrInvalid)
	list, _, err = s.ListPersons(ctx, store.PersonFilter{SchoolID: "school"}, store.Page{Limit: 100})
	must(t, err)
	if len(list) != 31 {
		t.Fatalf("failed import left %d persons, want 31", len(list))
	}
	_, err = s.UpsertRoster(ctx, "nope", people[:1], T0)
	wantErr(t, err, store.ErrNotFound)
}

func testLogins(t *testing.T, s store.Store) {
	tree(t, s)
	for _, id := range []string{"st1", "st2"} {
		_, err := s.CreateStaff(ctx, store.Staff{ID: id, Login: id, Role: store.RoleCounsellor, UnitID: "county", CreatedAt: T0})
		must(t, err)
	}
	l := store.Login{ID: "h1", StaffID: "st1", CSRF: "c1", IP: "127.0.0.1", CreatedAt: T0, ExpiresAt: at(8 * time.Hour)}
	must(t, s.CreateLogin(ctx, l))
	wantErr(t, s.CreateLogin(ctx, l), store.ErrConflict)
	wantErr(t, s.CreateLogin(ctx, store.Login{ID: "h9"}), store.ErrInvalid)
	must(t, s.CreateLogin(ctx, store.Login{ID: "h2", StaffID: "st1", CreatedAt: T0, ExpiresAt: at(time.Hour)}))
	must(t, s.CreateLogin(ctx, store.Login{ID: "h3", StaffID: "st2", CreatedAt: T0, ExpiresAt: at(time.Hour)}))
	got, err := s.GetLogin(ctx, "h1")
	must(t, err)
	if got != l {
		t.Fatalf("GetLogin = %+v, want %+v", got, l)
	}
	_, err = s.GetLogin(ctx, "nope")
	wantErr(t, err, store.ErrNotFound)
	must(t, s.DeleteLogin(ctx, "h2"))
	must(t, s.DeleteLogin(ctx, "h2")) // signing out twice is fine
	_, err = s.GetLogin(ctx, "h2")
	wantErr(t, err, store.ErrNotFound)
	must(t, s.CreateLogin(ctx, store.Login{ID: "h4", StaffID: "st1", CreatedAt: T0, ExpiresAt: at(time.Hour)}))
	n, err := s.DeleteLogins(ctx, "st1")
	must(t, err)
	if n != 2 {
		t.Fatalf("DeleteLogins removed %d sessions, want 2", n)
	}
	_, err = s.GetLogin(ctx, "h1")
	wantErr(t, err, store.ErrNotFound)
	if _, err := s.GetLogin(ctx, "h3"); err != nil {
		t.Fatalf("another staff member's session went too: %v", err)
	}

	// Expired sign-ins go by query: those that expired before the time
	// given, whoever they belong to; one expiring at that instant stays.
	must(t, s.CreateLogin(ctx, store.Login{ID: "h5", StaffID: "st2", CreatedAt: T0, ExpiresAt: at(30 * time.Minute)}))
	must(t, s.CreateLogin(ctx, store.Login{ID: "h6", StaffID: "st1", CreatedAt: T0, ExpiresAt: at(10 * time.Minute)}))
	must(t, s.CreateLogin(ctx, store.Login{ID: "h7", StaffID: "st1", CreatedAt: T0, ExpiresAt: at(2 * time.Hour)}))
	n, err = s.DeleteExpiredLogins(ctx, at(time.Hour))
	must(t, err)
	if n != 2 {
		t.Fatalf("DeleteExpiredLogins removed %d sessions, want 2", n)
	}
	for _, id := range []string{"h5", "h6"} {
		_, err = s.GetLogin(ctx, id)
		wantErr(t, err, store.ErrNotFound)
	}
	for _, id := range []string{"h3", "h7"} {
		if _, err := s.GetLogin(ctx, id); err != nil {
			t.Fatalf("session %s, not yet expired, went: %v", id, err)
		}
	}
	if n, err = s.DeleteExpiredLogins(ctx, at(time.Hour)); err != nil || n != 0 {
		t.Fatalf("a second DeleteExpiredLogins removed %d (%v), want 0", n, err)
	}
}
