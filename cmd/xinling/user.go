package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"xinling/assess"
	"xinling/store"
)

// storeFlags are the flags that choose a store, shared by every command
// that opens one.
type storeFlags struct {
	data, mongoURI, mongoDB *string
	devKey                  *bool
}

func addStoreFlags(env *envDefaults) storeFlags {
	return storeFlags{
		data:     env.String("data", "./data", "directory of the embedded store"),
		mongoURI: env.String("mongo-uri", "", "use MongoDB at this URI instead of the embedded store"),
		mongoDB:  env.String("mongo-db", "xinling", "MongoDB database name"),
		devKey:   env.fs.Bool("dev-key", false, "without XINLING_DATA_KEY, encrypt under a throwaway key kept in the data directory (development only)"),
	}
}

func (f storeFlags) open(ctx context.Context, warn io.Writer) (store.Store, string, error) {
	return openStore(ctx, &serveConfig{data: *f.data, mongoURI: *f.mongoURI, mongoDB: *f.mongoDB, devKey: *f.devKey, warn: warn})
}

func userCommand(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "add" {
		return usagef("usage: xinling user add --name NAME --role admin --unit ROOT [--login LOGIN]")
	}
	fs := newFlags("user add", stderr)
	env := &envDefaults{fs: fs}
	sf := addStoreFlags(env)
	name := fs.String("name", "", "the person's name (required)")
	login := fs.String("login", "", "sign-in name (default: the name)")
	role := fs.String("role", "admin", "admin, counsellor, school_psychologist, teacher or viewer")
	unit := fs.String("unit", "", "scope unit id; for an admin it is created as a root if it does not exist (required)")
	kind := fs.String("unit-kind", "city", "kind of a root unit created for an admin")
	if helped, err := parseFlags(fs, args[1:]); helped || err != nil {
		return err
	}
	if len(env.errs) > 0 {
		return usagef("%v", env.errs)
	}
	if *name == "" || *unit == "" {
		return usagef("--name and --unit are required")
	}
	if *login == "" {
		*login = *name
	}
	if !store.ValidID(*unit) {
		return usagef("--unit %q: a unit id has letters, digits, _ and - only", *unit)
	}
	ctx := context.Background()
	st, where, err := sf.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	staff := assess.New(st, nil, assess.Options{}).Staff // accounts need no instruments
	var otp string
	if store.Role(*role) == store.RoleAdmin {
		_, otp, err = staff.Bootstrap(ctx, *login, *name, *unit, *kind)
	} else {
		_, otp, err = staff.CreateByOperator(ctx, assess.NewStaffRequest{Login: *login, Name: *name, Role: store.Role(*role), UnitID: *unit})
	}
	var ae *assess.Error
	if errors.As(err, &ae) {
		return usagef("%s", ae.Message)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created %s %q in unit %s (store: %s)\n", *role, *login, *unit, where)
	fmt.Fprintf(stdout, "one-time password: %s\n", otp)
	fmt.Fprintln(stdout, "it must be replaced at the first sign-in.")
	return nil
}
