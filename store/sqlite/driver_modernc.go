//go:build !mattn

package sqlite

import (
	"net/url"

	_ "modernc.org/sqlite" // pure Go: the binary stays free of cgo
)

const driverName = "sqlite"

// DriverName names the SQLite driver compiled in (see docs/storage.md).
const DriverName = "modernc.org/sqlite"

func dsn(path string, writer bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	if writer {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(FULL)")
	} else {
		q.Add("_pragma", "query_only(1)")
	}
	return "file:" + path + "?" + q.Encode()
}
