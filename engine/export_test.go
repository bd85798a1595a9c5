package engine

// FewerPatterns lowers the load-time coverage sample for the rest of the
// test binary; only the fuzz target uses it, to keep loads fast enough to
// fuzz. It returns a function that restores the default.
func FewerPatterns(n int) (restore func()) {
	randomPatterns = n
	return func() { randomPatterns = RandomPatterns }
}
