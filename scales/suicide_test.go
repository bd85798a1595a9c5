package scales_test

import (
	"slices"
	"testing"

	"xinling/engine"
	"xinling/scales"
)

// The built-in documents mark no item `special: suicide` (their published
// bytes, and so their content hashes, stay as they were): reports fall back
// to the items read by item-only warning rules. This pins that fallback to
// exactly the suicide items, so a new item-only rule about anything else
// makes its author mark the suicide items explicitly.
func TestBuiltinSuicideRules(t *testing.T) {
	t.Parallel()
	lib, err := engine.LoadFS(scales.FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{"phq9": {"item9"}, "sds": {"item19"}, "asq": {"acute", "positive"}}
	for _, in := range lib.Latest() {
		for _, v := range lib.Versions(in.ID()) {
			got := v.SuicideRules()
			if !slices.Equal(got, want[in.ID()]) {
				t.Errorf("%s %s: suicide rules %v, want %v", in.ID(), v.Version(), got, want[in.ID()])
			}
		}
	}
}
