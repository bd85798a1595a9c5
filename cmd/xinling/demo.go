package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"xinling/assess"
	"xinling/store"
)

// demoTree is a small org tree with one unit of each level that matters.
var demoTree = []store.Unit{
	{ID: "demo-city", Kind: "city", Name: "示范市"},
	{ID: "demo-county", ParentID: "demo-city", Kind: "county", Name: "示范区心理健康中心"},
	{ID: "demo-street", ParentID: "demo-county", Kind: "street", Name: "示范街道"},
	{ID: "demo-station", ParentID: "demo-street", Kind: "station", Name: "示范街道心灵驿站"},
	{ID: "demo-community", ParentID: "demo-street", Kind: "community", Name: "示范社区"},
	{ID: "demo-school", ParentID: "demo-county", Kind: "school", Name: "示范中学"},
	{ID: "demo-grade7", ParentID: "demo-school", Kind: "grade", Name: "七年级"},
	{ID: "demo-class7-1", ParentID: "demo-grade7", Kind: "class", Name: "七年级一班"},
}

var demoAccounts = []assess.NewStaffRequest{
	{Login: "demo-admin", Name: "示范管理员", Role: store.RoleAdmin, UnitID: "demo-city"},
	{Login: "demo-centre", Name: "区中心咨询师", Role: store.RoleCounsellor, UnitID: "demo-county"},
	{Login: "demo-station", Name: "驿站咨询师", Role: store.RoleCounsellor, UnitID: "demo-station"},
	{Login: "demo-psych", Name: "学校心理老师", Role: store.RoleSchoolPsychologist, UnitID: "demo-school"},
	{Login: "demo-teacher", Name: "班主任", Role: store.RoleTeacher, UnitID: "demo-class7-1"},
}

// demoCommand seeds the demo tree and accounts, or gives the existing demo
// accounts fresh one-time passwords, and prints how to sign in.
func demoCommand(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("demo", stderr)
	env := &envDefaults{fs: fs}
	sf := addStoreFlags(env)
	if helped, err := parseFlags(fs, args); helped || err != nil {
		return err
	}
	ctx := context.Background()
	st, where, err := sf.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	for _, u := range demoTree {
		if _, err := st.CreateUnit(ctx, u); err != nil && !errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("demo unit %s: %w", u.ID, err)
		}
	}
	staff := assess.NewStaff(st, assess.AuthConfig{})
	fmt.Fprintf(stdout, "Demo accounts (store: %s). Sign in at the console; each one-time password must be replaced at first sign-in:\n", where)
	for _, a := range demoAccounts {
		_, otp, err := staff.CreateByOperator(ctx, a)
		if isCode(err, assess.CodeConflict) {
			otp, err = staff.ResetByOperator(ctx, a.Login)
		}
		if err != nil {
			return fmt.Errorf("demo account %s: %w", a.Login, err)
		}
		fmt.Fprintf(stdout, "  %-14s %-36s %s\n", a.Login, string(a.Role)+" @ "+a.UnitID, otp)
	}
	return nil
}

func isCode(err error, code string) bool {
	var ae *assess.Error
	return errors.As(err, &ae) && ae.Code == code
}
