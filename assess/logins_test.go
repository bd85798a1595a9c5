package assess_test

import (
	"context"
	"testing"
	"time"

	"xinling/assess"
)

// Sign-ins past their lifetime are deleted from the store, not only
// refused: each holds the address it came from. A live one stays.
func TestExpiredSignInsAreDeleted(t *testing.T) {
	t.Parallel()
	_, st, clk, opts := fixture(t, time.Hour)
	ctx := context.Background()
	opts.Auth = assess.AuthConfig{SessionTTL: time.Hour, Hashing: assess.PasswordHashing{Time: 1, MemoryKiB: 64}}
	staff := assess.New(st, nil, opts).Staff
	_, otp, err := staff.Bootstrap(ctx, "admin", "管理员", "city", "city")
	if err != nil {
		t.Fatal(err)
	}
	old, _, err := staff.Login(ctx, "admin", otp, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	clk.Add(50 * time.Minute)
	live, _, err := staff.Login(ctx, "admin", otp, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := staff.DeleteExpiredLogins(ctx); err != nil || n != 0 {
		t.Fatalf("before any expiry: %d deleted, %v", n, err)
	}
	clk.Add(20 * time.Minute) // the first sign-in is 70 min old, the second 20
	// Nobody comes back with the old cookie (Authenticate would delete
	// it): the sweep must find it.
	if n, err := staff.DeleteExpiredLogins(ctx); err != nil || n != 1 {
		t.Fatalf("after the first sign-in expired: %d deleted, %v; want 1", n, err)
	}
	if _, err := staff.Authenticate(ctx, old); err == nil {
		t.Fatal("an expired sign-in still authenticates")
	}
	if _, err := staff.Authenticate(ctx, live); err != nil {
		t.Fatalf("the live sign-in went with the expired one: %v", err)
	}
	// Only the live sign-in is left for the account.
	admin, err := st.GetStaffByLogin(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := st.DeleteLogins(ctx, admin.ID); err != nil || n != 1 {
		t.Fatalf("%d sign-ins left (%v), want 1", n, err)
	}
}
