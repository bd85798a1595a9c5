package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"xinling/store"
	"xinling/store/sqlite"
)

// backupCommand copies the embedded store while the server keeps running.
// It works on the data directory from its own process rather than asking
// the server over HTTP: a backup then needs no staff account or open port,
// works whether or not the server is up, and SQLite's WAL already lets a
// second process take a consistent snapshot without pausing the writer.
// Whoever can run it can read the database file anyway.
func backupCommand(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("backup", stderr)
	env := &envDefaults{fs: fs}
	data := env.String("data", "./data", "directory of the embedded store")
	mongoURI := env.String("mongo-uri", "", "MongoDB deployments are backed up with mongodump (see docs/storage.md)")
	out := fs.String("out", "", "file to write the backup to; it must not exist (required)")
	if helped, err := parseFlags(fs, args); helped || err != nil {
		return err
	}
	if len(env.errs) > 0 {
		return usagef("%v", env.errs)
	}
	if *mongoURI != "" {
		return usagef("backup copies the embedded store; back up MongoDB with mongodump or your platform's snapshots (docs/storage.md)")
	}
	if *out == "" || fs.NArg() > 0 {
		return usagef("usage: xinling backup --out FILE [--data DIR]")
	}
	if _, err := os.Stat(*out); err == nil {
		return usagef("--out %s exists; choose a new file", *out)
	}
	info, err := sqlite.BackupDir(context.Background(), *data, *out)
	if err != nil {
		return err
	}
	return printJSON(stdout, map[string]any{"backup": info})
}

// restoreCommand puts a backup in place as a data directory's store.
func restoreCommand(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("restore", stderr)
	env := &envDefaults{fs: fs}
	data := env.String("data", "./data", "directory of the embedded store to restore into")
	from := fs.String("from", "", "backup file written by xinling backup (required)")
	force := fs.Bool("force", false, "restore into a directory that holds a store; the old one is kept aside, renamed")
	if helped, err := parseFlags(fs, args); helped || err != nil {
		return err
	}
	if len(env.errs) > 0 {
		return usagef("%v", env.errs)
	}
	if *from == "" || fs.NArg() > 0 {
		return usagef("usage: xinling restore --from FILE [--data DIR] [--force]")
	}
	if _, err := os.Stat(*from); err != nil {
		return usagef("--from: %v", err)
	}
	res, err := sqlite.Restore(context.Background(), *from, *data, *force, time.Now())
	switch {
	case errors.Is(err, sqlite.ErrLocked):
		return usagef("%s is in use by a running xinling; stop the server first", *data)
	case errors.Is(err, store.ErrConflict):
		return usagef("%s", strings.TrimPrefix(err.Error(), store.ErrConflict.Error()+": "))
	case err != nil:
		return err
	}
	if res.KeptAside != "" {
		fmt.Fprintf(stderr, "xinling: the previous database is kept as %s\n", res.KeptAside)
	}
	return printJSON(stdout, map[string]any{"restored": res})
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
