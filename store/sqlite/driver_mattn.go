//go:build mattn

package sqlite

import (
	"net/url"

	_ "github.com/mattn/go-sqlite3" // cgo; only for the driver comparison
)

const driverName = "sqlite3"

// DriverName names the SQLite driver compiled in (see docs/storage.md).
const DriverName = "github.com/mattn/go-sqlite3"

func dsn(path string, writer bool) string {
	q := url.Values{}
	q.Set("_busy_timeout", "10000")
	q.Set("_foreign_keys", "1")
	if writer {
		q.Set("_journal_mode", "WAL")
		q.Set("_synchronous", "FULL")
	} else {
		q.Set("_query_only", "1")
	}
	return "file:" + path + "?" + q.Encode()
}
