package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"xinling/store/sealed"
	"xinling/store/sqlite"
	"xinling/store/storetest"
)

func TestDevKey(t *testing.T) {
	t.Setenv(sealed.Env, "")
	data := t.TempDir()
	if code, _, errs := runCLI(t, "demo", "--data", data); code != 2 || !strings.Contains(errs, sealed.Env+" is not set") {
		t.Fatalf("demo without a key: exit %d %s", code, errs)
	}
	if _, err := os.Stat(filepath.Join(data, sqlite.FileName)); err == nil {
		t.Fatal("a refused start created the store")
	}
	for i := 0; i < 2; i++ {
		code, _, errs := runCLI(t, "demo", "--data", data, "--dev-key")
		if code != 0 || !strings.Contains(errs, "DEVELOPMENT KEY") {
			t.Fatalf("demo --dev-key: exit %d %s", code, errs)
		}
	}
	fi, err := os.Stat(filepath.Join(data, devKeyFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("dev key file: %v %v", fi, err)
	}
	b, _ := os.ReadFile(filepath.Join(data, devKeyFile))
	if _, err := sealed.ParseKeys(strings.TrimSpace(string(b))); err != nil {
		t.Fatal(err)
	}
	// An explicit key wins over --dev-key, and the dev key is not used.
	t.Setenv(sealed.Env, storetest.TestKeySpec)
	if code, _, errs := runCLI(t, "user", "add", "--name", "x", "--role", "admin", "--unit", "other", "--data", t.TempDir(), "--dev-key"); code != 0 || strings.Contains(errs, "DEVELOPMENT") {
		t.Fatalf("user add with a key and --dev-key: exit %d %s", code, errs)
	}
}

// The rotation test through the command: data written under k1,
// `xinling rekey` to k2 while serve runs on the same directory, k1
// dropped, and everything still reads.
func TestRekeyCommand(t *testing.T) {
	data := t.TempDir()
	idx, k1, k2 := "index:"+sealed.NewKey(), "k1:"+sealed.NewKey(), "k2:"+sealed.NewKey()
	open := func(spec string) *sealed.Store {
		db, err := sqlite.Open(context.Background(), data, sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return sealed.Wrap(db, storetest.TestKeys(t, spec))
	}
	st := open(idx + "," + k1)
	p, _ := storetest.WriteSecrets(t, st)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	if code, out, _ := runCLI(t, "rekey", "--new-key"); code != 0 || len(strings.TrimSpace(out)) != 44 {
		t.Fatalf("--new-key: %d %q", code, out)
	}
	if code, _, errs := runCLI(t, "rekey", "--data", t.TempDir()); code != 2 || !strings.Contains(errs, "no store in") {
		t.Fatalf("rekey of an empty dir: %d %s", code, errs)
	}

	// serve restarted with k2 first, then rekey alongside it.
	rotated := idx + "," + k2 + "," + k1
	c := startServe(t, []string{"XINLING_DATA=" + data, sealed.Env + "=" + rotated})
	t.Setenv(sealed.Env, rotated)
	code, out, errs := runCLI(t, "rekey", "--data", data, "--batch", "3")
	if code != 0 || !strings.Contains(out, "10 sealed values seen, 10 moved to k2") || !strings.Contains(out, "may now be removed") {
		t.Fatalf("rekey: exit %d\n%s%s", code, out, errs)
	}
	code, out, _ = runCLI(t, "rekey", "--data", data)
	if code != 0 || !strings.Contains(out, ", 0 moved to k2") {
		t.Fatalf("second rekey: exit %d\n%s", code, out)
	}
	// The server still works after sharing its file with rekey.
	if status := post(t, c.base+"/api/v1/sessions", "", `{"instrument":"phq9","consent":true}`, nil); status != 201 {
		t.Fatalf("serve after rekey: %d\n%s", status, c.stderr.String())
	}
	_ = c.cmd.Process.Kill()
	_ = c.cmd.Wait()
	if code, out, errs := runCLI(t, "rekey", "--data", data, "--vacuum"); code != 0 || !strings.Contains(out, ", 0 moved to k2") {
		t.Fatalf("rekey --vacuum: exit %d\n%s%s", code, out, errs)
	}

	st = open(idx + "," + k2) // k1 dropped
	defer st.Close()
	storetest.CheckSecrets(t, st, p.ID)
}
