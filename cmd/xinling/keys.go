package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"xinling/store"
	"xinling/store/mongo"
	"xinling/store/sealed"
	"xinling/store/sqlite"
)

// devKeyFile holds the development key that --dev-key creates, inside the
// data directory: next to the data it protects, so it protects nothing.
const devKeyFile = "dev-data-key"

// loadKeys reads XINLING_DATA_KEY. Without it, only --dev-key lets a
// command start: it uses (creating on first use) a key file in the data
// directory and says loudly that the data is not protected.
func loadKeys(data string, devKey bool, warn io.Writer) (*sealed.Keys, error) {
	if spec := os.Getenv(sealed.Env); spec != "" {
		k, err := sealed.ParseKeys(spec)
		if err != nil {
			return nil, usagef("%v", err)
		}
		return k, nil
	}
	if !devKey {
		return nil, usagef("%s is not set. Personal data is encrypted at rest under it: set it to "+
			"index:KEY,k1:KEY with two keys from `xinling rekey --new-key` (docs/storage.md), "+
			"or pass --dev-key for a throwaway development key", sealed.Env)
	}
	path := filepath.Join(data, devKeyFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(data, 0o700); err != nil {
			return nil, err
		}
		b = []byte(sealed.NewSpec("dev1") + "\n")
		err = os.WriteFile(path, b, 0o600)
	}
	if err != nil {
		return nil, fmt.Errorf("development key %s: %w", path, err)
	}
	k, err := sealed.ParseKeys(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("development key %s: %w", path, err)
	}
	if warn != nil {
		fmt.Fprintf(warn, "\n"+
			"!!! DEVELOPMENT KEY: personal data is encrypted under the key in %s,\n"+
			"!!! which sits next to the data: anyone with the directory can read it.\n"+
			"!!! Never use --dev-key with real people's data; set %s instead.\n\n", path, sealed.Env)
	}
	return k, nil
}

// openBackend opens the configured backend without the sealing layer.
func openBackend(ctx context.Context, cfg *serveConfig) (store.Store, string, error) {
	if cfg.mongoURI != "" {
		st, err := mongo.Open(ctx, cfg.mongoURI, cfg.mongoDB)
		if err != nil {
			return nil, "", fmt.Errorf("MongoDB: %w", err)
		}
		return st, "mongodb (" + cfg.mongoDB + ")", nil
	}
	st, err := sqlite.Open(ctx, cfg.data, sqlite.Options{OnCommit: cfg.commitHook})
	if err != nil {
		return nil, "", fmt.Errorf("embedded store in %s: %w", cfg.data, err)
	}
	return st, "embedded, " + cfg.data, nil
}

const rekeyUsage = `usage: xinling rekey [--data DIR | --mongo-uri URI --mongo-db NAME] [--batch N]
       xinling rekey --new-key

Re-encrypts every sealed value under the first key of XINLING_DATA_KEY,
seals values stored in clear before encryption, and rebuilds unkeyed
student-number indexes. Safe while serve runs on the same store (restart
serve with the new key first, so it writes under it too); run it again
after an interruption. When it reports no error, the older keys can be
removed from XINLING_DATA_KEY. --vacuum needs serve stopped.
`

func rekeyCommand(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("rekey", stderr)
	fs.Usage = func() { fmt.Fprint(stderr, rekeyUsage); fs.PrintDefaults() }
	env := &envDefaults{fs: fs}
	sf := addStoreFlags(env)
	batch := fs.Int("batch", 500, "values rewritten per write")
	newKey := fs.Bool("new-key", false, "print a fresh random key (base64) for XINLING_DATA_KEY and exit")
	vacuum := fs.Bool("vacuum", false, "then rebuild the embedded store's file so no old bytes remain in free space (stop serve first: it blocks writes)")
	if helped, err := parseFlags(fs, args); helped || err != nil {
		return err
	}
	if *newKey {
		fmt.Fprintln(stdout, sealed.NewKey())
		return nil
	}
	if *batch < 1 {
		return usagef("--batch must be at least 1")
	}
	cfg := &serveConfig{data: *sf.data, mongoURI: *sf.mongoURI, mongoDB: *sf.mongoDB}
	if cfg.mongoURI == "" {
		// sqlite.Open would create an empty store and report nothing to do.
		if _, err := os.Stat(filepath.Join(cfg.data, sqlite.FileName)); err != nil {
			return usagef("no store in %s: %v", cfg.data, err)
		}
	}
	keys, err := loadKeys(cfg.data, *sf.devKey, stderr)
	if err != nil {
		return err
	}
	ctx := context.Background()
	st, where, err := openBackend(ctx, cfg)
	if err != nil {
		return err
	}
	rep, err := sealed.Rekey(ctx, st, keys, *batch)
	vac, canVacuum := st.(interface{ Vacuum(context.Context) error })
	if err == nil && *vacuum && canVacuum {
		err = vac.Vacuum(ctx)
	}
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	fmt.Fprintf(stdout, "rekey (%s, current key %s): %d sealed values seen, %d moved to %s, %d sealed from plaintext, "+
		"%d changed meanwhile by a running server, %d student-number indexes rebuilt\n",
		where, keys.Current(), rep.Visited, rep.Moved, keys.Current(), rep.Sealed, rep.Skipped, rep.Reindexed)
	if err != nil {
		return fmt.Errorf("rekey stopped (run it again to finish): %w", err)
	}
	if rep.Sealed > 0 && canVacuum && !*vacuum {
		fmt.Fprintln(stdout, "Plaintext was sealed, but its old bytes may remain in free space of the database file: "+
			"stop serve and run xinling rekey --vacuum.")
	}
	if rep.Skipped > 0 {
		fmt.Fprintln(stdout, "Some values changed during the pass: run xinling rekey again to check them.")
	} else if len(keys.IDs()) > 1 {
		fmt.Fprintf(stdout, "Every value is under %s: the other keys (%s) may now be removed from %s.\n",
			keys.Current(), strings.Join(keys.IDs()[1:], ", "), sealed.Env)
	}
	return nil
}
