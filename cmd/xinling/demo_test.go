package main

import (
	"strings"
	"testing"
)

// `make run` runs `xinling demo --school` on every start: the first run
// seeds the school, later ones keep it and only renew the passwords.
func TestDemoSchoolSeedsOnce(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	code, out, errs := runCLI(t, "demo", "--dev-key", "--school", "--data", data)
	if code != 0 || !strings.Contains(out, "of 示范中学 (sat last week, open for make-up sittings):") || !strings.Contains(out, " invalid results") || strings.Contains(out, "; 0 invalid") || !strings.Contains(out, "12 classes") || !strings.Contains(out, "level-1") {
		t.Fatalf("first run: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs = runCLI(t, "demo", "--dev-key", "--school", "--data", data)
	if code != 0 || !strings.Contains(out, "is already there; left as it is") || strings.Count(out, "demo-") < 10 {
		t.Fatalf("second run: exit %d\n%s%s", code, out, errs)
	}
}
