package main

import (
	"context"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"

	"xinling/loadgen"
	"xinling/store/sqlite"
)

func verifyCommand(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("verify", stderr)
	env := &envDefaults{fs: fs}
	data := env.String("data", "./data", "data directory of the embedded store")
	mongoURI := env.Secret("mongo-uri", "check the MongoDB store at this URI instead of the embedded store")
	mongoDB := env.String("mongo-db", "xinling", "MongoDB database name")
	ackLog := fs.String("ack-log", "", "ack log written by xinling loadtest --ack-log")
	submitLog := fs.String("submit-log", "", "also check the submit log written by xinling loadtest --submit-log: one result per instrument and the right queue entries for every acknowledged submit")
	if helped, err := parseFlags(fs, args); helped || err != nil {
		return err
	}
	if len(env.errs) > 0 {
		return usagef("%v", env.errs)
	}
	explicit := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { explicit[f.Name] = true })
	env.applySecrets(explicit)
	if *ackLog == "" {
		return usagef("verify needs --ack-log FILE")
	}
	// sqlite.Open would create an empty store, and every answer would then
	// be "missing": say what is wrong instead.
	if *mongoURI == "" {
		if _, err := os.Stat(filepath.Join(*data, sqlite.FileName)); err != nil {
			return usagef("no store in %s: %v", *data, err)
		}
	}
	f, err := os.Open(*ackLog)
	if err != nil {
		return usagef("--ack-log: %v", err)
	}
	defer f.Close()
	var subs *os.File
	if *submitLog != "" {
		if subs, err = os.Open(*submitLog); err != nil {
			return usagef("--submit-log: %v", err)
		}
		defer subs.Close()
	}
	ctx := context.Background()
	// Answers, results and queue entries hold nothing sealed that verify
	// reads, so it needs no data key and opens the bare backend.
	st, _, err := openBackend(ctx, &serveConfig{data: *data, mongoURI: *mongoURI, mongoDB: *mongoDB})
	if err != nil {
		return err
	}
	rep, verr := loadgen.Verify(ctx, st, f)
	if verr == nil && subs != nil {
		verr = loadgen.VerifySubmits(ctx, st, subs, rep)
	}
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
