//go:build !unix

package sqlite

// LockDir is a no-op where flock is missing: restore then relies on the
// operator having stopped the server (docs/storage.md says so).
func LockDir(dir string) (release func() error, err error) {
	return func() error { return nil }, nil
}
