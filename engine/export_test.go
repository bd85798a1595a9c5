package engine

// FewerPatterns lowers the load-time coverage sample for the rest of the
// test binary; only the fuzz target uses it, to keep loads fast enough to
// fuzz. It returns a function that restores the default.
func FewerPatterns(n int) (restore func()) {
	randomPatterns = n
	return func() { randomPatterns = RandomPatterns }
}

// CompileUnchecked compiles a document without the coverage check, to
// test what scoring does with bands the check would have refused.
func CompileUnchecked(file string, data []byte) (*Instrument, error) {
	in, _, err := compileDocument(file, data, false)
	return in, err
}
