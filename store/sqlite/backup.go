package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"xinling/store"
)

// LockName is the lock file in the data directory (see LockDir).
const LockName = "xinling.lock"

// ErrLocked: the data directory is held by a running server.
var ErrLocked = errors.New("sqlite: the data directory is in use by a running xinling")

// SchemaVersion is the newest migration this build knows.
func SchemaVersion() int {
	names, _ := fs.Glob(migrations, "migrations/*.sql")
	v := 0
	for _, name := range names {
		n, err := strconv.Atoi(strings.SplitN(filepath.Base(name), "_", 2)[0])
		if err == nil && n > v {
			v = n
		}
	}
	return v
}

// Info describes a database file: what a backup or restore checked.
type Info struct {
	File          string           `json:"file"`
	Bytes         int64            `json:"bytes"`
	SchemaVersion int              `json:"schema_version"`
	Integrity     string           `json:"integrity"`
	Rows          map[string]int64 `json:"rows"`
}

// countedTables are the rows an operator recognises in a backup report.
var countedTables = []string{"units", "staff", "persons", "sessions", "answers", "results", "warnings", "cases", "referrals", "campaigns", "audit"}

// Inspect checks a database file without changing it: SQLite's full
// integrity_check must say ok, and the schema must be one this build can
// run (not newer than SchemaVersion). It fails on anything else.
func Inspect(ctx context.Context, file string) (Info, error) {
	info := Info{File: file, Rows: map[string]int64{}}
	st, err := os.Stat(file)
	if err != nil {
		return info, fmt.Errorf("sqlite: %w", err)
	}
	info.Bytes = st.Size()
	c, err := sql.Open(driverName, dsn(file, false)+"&mode=ro")
	if err != nil {
		return info, err
	}
	defer c.Close()
	c.SetMaxOpenConns(1)
	rows, err := c.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return info, fmt.Errorf("sqlite: %s is not a readable database: %w", file, err)
	}
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			rows.Close()
			return info, err
		}
		problems = append(problems, line)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return info, fmt.Errorf("sqlite: integrity check of %s: %w", file, err)
	}
	info.Integrity = strings.Join(problems, "; ")
	if info.Integrity != "ok" {
		return info, fmt.Errorf("sqlite: %s fails its integrity check: %s", file, info.Integrity)
	}
	var v sql.NullInt64
	if err := c.QueryRowContext(ctx, "SELECT max(version) FROM schema_migrations").Scan(&v); err != nil || !v.Valid {
		return info, fmt.Errorf("sqlite: %s is not a xinling store (no schema version)", file)
	}
	info.SchemaVersion = int(v.Int64)
	if info.SchemaVersion > SchemaVersion() {
		return info, fmt.Errorf("sqlite: %s has schema version %d, newer than this xinling's %d: use the newer binary",
			file, info.SchemaVersion, SchemaVersion())
	}
	for _, t := range countedTables {
		var n int64
		if err := c.QueryRowContext(ctx, "SELECT count(*) FROM "+t).Scan(&n); err != nil {
			return info, fmt.Errorf("sqlite: %s: table %s: %w", file, t, err)
		}
		info.Rows[t] = n
	}
	return info, nil
}

// BackupDir writes a consistent online copy of the store in dir to dst.
// It needs no Open: it works from another process while `xinling serve`
// keeps writing, because VACUUM INTO is one read transaction on a WAL
// database, a snapshot that never blocks the writer. The copy is written
// beside dst under a temporary name, fsynced, checked with Inspect, and
// only then renamed to dst, so dst is either a verified backup or absent.
func BackupDir(ctx context.Context, dir, dst string) (Info, error) {
	src := filepath.Join(dir, FileName)
	if _, err := os.Stat(src); err != nil {
		return Info{}, fmt.Errorf("sqlite: no store in %s: %w", dir, err)
	}
	if _, err := os.Stat(dst); err == nil {
		return Info{}, fmt.Errorf("%w: backup target %s exists", store.ErrConflict, dst)
	}
	tmp := dst + ".partial-" + randomSuffix()
	defer os.Remove(tmp) // a no-op once renamed
	// mode=rw: a vanished store is an error, not a new empty database.
	c, err := sql.Open(driverName, dsn(src, true)+"&mode=rw")
	if err != nil {
		return Info{}, err
	}
	c.SetMaxOpenConns(1)
	_, err = c.ExecContext(ctx, "VACUUM INTO ?", tmp)
	var srcVersion int
	if err == nil {
		err = c.QueryRowContext(ctx, "SELECT max(version) FROM schema_migrations").Scan(&srcVersion)
	}
	c.Close()
	if err != nil {
		return Info{}, fmt.Errorf("sqlite: backup: %w", err)
	}
	if err := syncFile(tmp); err != nil {
		return Info{}, err
	}
	info, err := Inspect(ctx, tmp)
	if err != nil {
		return info, err
	}
	// The snapshot's own version may trail srcVersion only if a migration
	// ran in between; anything else means the copy is not of this store.
	if info.SchemaVersion > srcVersion {
		return info, fmt.Errorf("sqlite: backup schema version %d, store %d", info.SchemaVersion, srcVersion)
	}
	if err := os.Rename(tmp, dst); err != nil {
		return info, err
	}
	info.File = dst
	return info, syncDir(filepath.Dir(dst))
}

// RestoreOutcome reports a restore.
type RestoreOutcome struct {
	Info
	// KeptAside is where the database that was in the directory went
	// (with its -wal and -shm), empty if there was none.
	KeptAside string `json:"kept_aside,omitempty"`
}

// Restore puts the backup from into dir as its database. It holds the
// directory's lock throughout (ErrLocked while a server runs there). A
// directory that holds anything is refused unless force; with force the
// old database, WAL and shared-memory file are renamed aside with a time
// stamp, never deleted. The backup is copied, fsynced and inspected before
// anything in dir is touched, and the result is opened once (which also
// applies any newer migrations) before Restore reports success.
func Restore(ctx context.Context, from, dir string, force bool, now time.Time) (RestoreOutcome, error) {
	var out RestoreOutcome
	release, err := LockDir(dir)
	if err != nil {
		return out, err
	}
	defer release()
	entries, err := os.ReadDir(dir)
	if err != nil {
		return out, err
	}
	var present []string
	for _, e := range entries {
		if e.Name() != LockName && !strings.HasPrefix(e.Name(), FileName+".restoring") {
			present = append(present, e.Name())
		}
	}
	sort.Strings(present)
	if len(present) > 0 && !force {
		return out, fmt.Errorf("%w: %s is not empty (%s); pass --force to keep the old database aside and restore",
			store.ErrConflict, dir, strings.Join(present, ", "))
	}
	target := filepath.Join(dir, FileName)
	staging := target + ".restoring"
	if err := copyFile(from, staging); err != nil {
		os.Remove(staging)
		return out, err
	}
	defer os.Remove(staging)
	if out.Info, err = Inspect(ctx, staging); err != nil {
		return out, fmt.Errorf("the backup %s: %w", from, err)
	}
	if _, err := os.Stat(target); err == nil {
		out.KeptAside = target + ".before-restore-" + now.UTC().Format("20060102T150405Z")
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if err := os.Rename(target+suffix, out.KeptAside+suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return out, fmt.Errorf("sqlite: keeping the old database aside: %w", err)
			}
		}
	}
	if err := os.Rename(staging, target); err != nil {
		return out, err
	}
	if err := syncDir(dir); err != nil {
		return out, err
	}
	out.File = target
	db, err := Open(ctx, dir, Options{})
	if err != nil {
		return out, fmt.Errorf("sqlite: the restored store does not open: %w", err)
	}
	err = db.Ping(ctx)
	return out, errors.Join(err, db.Close())
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func randomSuffix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
