package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"

	"xinling/loadgen"
	"xinling/store/sqlite"
)

func verifyCommand(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("verify", stderr)
	data := fs.String("data", "./data", "data directory of the embedded store")
	ackLog := fs.String("ack-log", "", "ack log written by xinling loadtest --ack-log")
	if helped, err := parseFlags(fs, args); helped || err != nil {
		return err
	}
	if *ackLog == "" {
		return usagef("verify needs --ack-log FILE")
	}
	// sqlite.Open would create an empty store, and every answer would then
	// be "missing": say what is wrong instead.
	if _, err := os.Stat(filepath.Join(*data, sqlite.FileName)); err != nil {
		return usagef("no store in %s: %v", *data, err)
	}
	f, err := os.Open(*ackLog)
	if err != nil {
		return usagef("--ack-log: %v", err)
	}
	defer f.Close()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, *data, sqlite.Options{})
	if err != nil {
		return err
	}
	rep, verr := loadgen.Verify(ctx, st, f)
	if err := st.Close(); err != nil && verr == nil {
		verr = err
	}
	if verr != nil {
		return verr
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		return err
	}
	if !rep.OK() {
		return errFailed
	}
	return nil
}
