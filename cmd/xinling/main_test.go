package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"xinling/store/sealed"
	"xinling/store/storetest"
)

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestScalesListAndValidateBuiltins(t *testing.T) {
	t.Parallel()
	code, out, errs := runCLI(t, "scales", "list", "--json")
	if code != 0 {
		t.Fatalf("list exited %d: %s", code, errs)
	}
	var list []struct {
		ID    string `json:"id"`
		Items int    `json:"items"`
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatal(err)
	}
	want := []string{"asq", "dass21", "gad7", "gds15", "k10", "mini_ipip", "phq15", "phq9", "pss10", "riasec", "sas", "sds", "who5"}
	var got []string
	for _, e := range list {
		got = append(got, e.ID)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("built-ins %v, want %v", got, want)
	}
	if code, _, errs := runCLI(t, "scales", "validate"); code != 0 {
		t.Fatalf("validate exited %d: %s", code, errs)
	}
	code, out, errs = runCLI(t, "scales", "test")
	if code != 0 || !strings.Contains(out, " 0 failed") {
		t.Fatalf("test exited %d: %s %s", code, out, errs)
	}
}

func TestValidateReportsEveryProblemWithLocation(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	doc, err := os.ReadFile("../../scales/phq9.yaml")
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(doc), "when: q9 > 0", "when: itme9 > 0", 1)
	broken = strings.Replace(broken, "kind: screening", "kind: screening\nauthor: me", 1)
	if err := os.WriteFile(bad, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errs := runCLI(t, "scales", "validate", bad)
	if code != 1 || !strings.Contains(errs, bad+`:13:1: author: unknown field "author"`) {
		t.Fatalf("exit %d, stderr:\n%s", code, errs)
	}
	// Fix the unknown field: the expression error now surfaces with its position.
	if err := os.WriteFile(bad, []byte(strings.Replace(broken, "author: me\n", "", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errs = runCLI(t, "scales", "validate", bad)
	if code != 1 || !strings.Contains(errs, `scoring.warnings[0].when: unknown name "itme9"`) || !strings.Contains(errs, bad+":") {
		t.Fatalf("exit %d, stderr:\n%s", code, errs)
	}
	code, out, _ := runCLI(t, "scales", "test", "../../engine/testdata")
	if code != 0 || !strings.Contains(out, "ok   scl90_like:") {
		t.Fatalf("test of a directory: exit %d\n%s", code, out)
	}
}

func TestScore(t *testing.T) {
	t.Parallel()
	code, out, errs := runCLI(t, "score", "--scale", "phq9", "--answers", "0,0,0,0,0,0,0,0,2", "--locale", "en")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var res struct {
		Scale    string             `json:"scale"`
		Version  string             `json:"version"`
		Hash     string             `json:"hash"`
		Scores   map[string]float64 `json:"scores"`
		Bands    map[string]struct{ Code, Label string }
		Warnings []struct {
			Level    int    `json:"level"`
			Rule     string `json:"rule"`
			Reason   string `json:"reason"`
			FollowUp string `json:"follow_up"`
		} `json:"warnings"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if res.Scale != "phq9" || res.Scores["total"] != 2 || res.Bands["total"].Code != "minimal" || res.Bands["total"].Label != "Minimal" ||
		len(res.Warnings) != 1 || res.Warnings[0].Level != 1 || res.Warnings[0].FollowUp != "asq" || len(res.Hash) != 64 {
		t.Fatalf("unexpected result: %s", out)
	}
	code, out, _ = runCLI(t, "score", "--scale", "asq", "--answers", "0,0,0,0")
	if code != 0 || !strings.Contains(out, `"positive": 0`) {
		t.Fatalf("asq with item 5 hidden: exit %d\n%s", code, out)
	}
	code, out, _ = runCLI(t, "score", "--scale", "riasec", "--answers-json", `{"q1":5}`)
	if code != 0 || !strings.Contains(out, `"complete": false`) {
		t.Fatalf("partial answers by id: exit %d\n%s", code, out)
	}
}

func TestScoreBadInput(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"unknown scale", []string{"--scale", "phq10", "--answers", "0"}, `unknown scale "phq10"`},
		{"unknown version", []string{"--scale", "phq9", "--version", "9.9.9", "--answers", "0"}, `has no version "9.9.9"`},
		{"too few answers", []string{"--scale", "phq9", "--answers", "0,1,2"}, "shows 9 items"},
		{"too many answers", []string{"--scale", "asq", "--answers", "0,0,0,0,0"}, "shows 4 items"},
		{"value not an option", []string{"--scale", "phq9", "--answers", "0,0,0,0,0,0,0,0,4"}, `item "q9", which accepts 0, 1, 2, 3, not 4`},
		{"not a number", []string{"--scale", "phq9", "--answers", "0,0,x,0,0,0,0,0,0"}, `answer 3 ("x") is not a number`},
		{"bad json", []string{"--scale", "phq9", "--answers-json", `{"q1":`}, "is not a JSON object"},
		{"json array", []string{"--scale", "phq9", "--answers-json", `[1,2]`}, "is not a JSON object"},
		{"unknown item", []string{"--scale", "phq9", "--answers-json", `{"q10":1}`}, `no item "q10"`},
		{"both answer forms", []string{"--scale", "phq9", "--answers", "0", "--answers-json", "{}"}, "exactly one of"},
		{"no scale", []string{"--answers", "0"}, "--scale is required"},
		{"bad sex", []string{"--scale", "phq9", "--answers", "0", "--sex", "x"}, "--sex must be f or m"},
		{"bad locale", []string{"--scale", "phq9", "--answers", "0", "--locale", "fr"}, "--locale must be"},
		{"unknown flag", []string{"--scael", "phq9"}, "flag provided but not defined"},
		{"file that is not a document", []string{"--scale", "phq9", "--file", "main.go", "--answers", "0"}, "is not a valid instrument document"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errs := runCLI(t, append([]string{"score"}, c.args...)...)
			if code != 2 || out != "" || !strings.Contains(errs, c.want) || strings.Contains(errs, "goroutine") {
				t.Fatalf("exit %d, stdout %q, stderr:\n%s\nwant exit 2 and %q", code, out, errs, c.want)
			}
		})
	}
}

func TestUnknownCommand(t *testing.T) {
	t.Parallel()
	if code, _, errs := runCLI(t, "frobnicate"); code != 2 || !strings.Contains(errs, `unknown command "frobnicate"`) {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if code, _, _ := runCLI(t); code != 2 {
		t.Fatalf("no command: exit %d", code)
	}
}

func TestUserAddAndDemo(t *testing.T) {
	t.Setenv(sealed.Env, storetest.TestKeySpec)
	data := t.TempDir()
	code, out, errs := runCLI(t, "user", "add", "--name", "王主任", "--role", "admin", "--unit", "city1", "--data", data)
	if code != 0 || !strings.Contains(out, "one-time password: ") {
		t.Fatalf("user add: exit %d\n%s%s", code, out, errs)
	}
	if code, _, errs := runCLI(t, "user", "add", "--name", "王主任", "--role", "admin", "--unit", "city1", "--data", data); code != 2 || !strings.Contains(errs, "is taken") {
		t.Fatalf("a second account with the same login: exit %d %s", code, errs)
	}
	if code, _, errs := runCLI(t, "user", "add", "--name", "x", "--role", "teacher", "--unit", "nowhere", "--data", data); code != 2 || !strings.Contains(errs, `no unit "nowhere"`) {
		t.Fatalf("teacher in an unknown unit: exit %d %s", code, errs)
	}
	if code, _, errs := runCLI(t, "user", "add", "--name", "x", "--role", "root", "--unit", "city1", "--data", data); code != 2 || !strings.Contains(errs, "role must be one of") {
		t.Fatalf("unknown role: exit %d %s", code, errs)
	}
	for run := 0; run < 2; run++ { // seeding twice gives fresh passwords, not an error
		code, out, errs := runCLI(t, "demo", "--data", data)
		if code != 0 || strings.Count(out, "demo-") < 10 {
			t.Fatalf("demo run %d: exit %d\n%s%s", run, code, out, errs)
		}
	}
}
