package assess

import (
	"strings"
	"testing"
)

// Tests elsewhere sign in with a cheap cost; this is where the cost a real
// server uses is pinned down.
func TestStaffHashesWithOWASPCostByDefault(t *testing.T) {
	t.Parallel()
	for _, cfg := range []AuthConfig{{}, DefaultOptions().Auth, {Hashing: PasswordHashing{Time: 2}}} {
		h := string(New(nil, nil, Options{Auth: cfg}).Staff.cfg.Hashing.hash("a-long-new-secret"))
		if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
			t.Fatalf("%+v hashes as %s, want argon2id with m=19456,t=2,p=1", cfg.Hashing, h)
		}
	}
}

func TestPasswordCheckFollowsTheHashOwnParameters(t *testing.T) {
	t.Parallel()
	cheap := PasswordHashing{Time: 1, MemoryKiB: 64}
	h := cheap.hash("a-long-new-secret")
	if !strings.Contains(string(h), "$m=64,t=1,p=1$") {
		t.Fatalf("hash %s does not record its cost", h)
	}
	if !checkPassword(h, "a-long-new-secret") {
		t.Fatal("the right password was refused")
	}
	if checkPassword(h, "a-long-new-secreT") {
		t.Fatal("a wrong password was accepted")
	}
	// Two hashes of one password differ: each has its own salt.
	if string(cheap.hash("a-long-new-secret")) == string(h) {
		t.Fatal("two hashes of one password are equal: no salt")
	}
	parts := strings.Split(string(h), "$")
	for name, bad := range map[string]string{
		"empty":            "",
		"bcrypt":           "$2a$10$abcdefghijklmnopqrstuv",
		"other version":    strings.Replace(string(h), "$v=19$", "$v=16$", 1),
		"memory too large": strings.Replace(string(h), "m=64,", "m=2000000,", 1),
		"too many passes":  strings.Replace(string(h), "t=1,", "t=17,", 1),
		"no threads":       strings.Replace(string(h), "p=1$", "p=0$", 1),
		"bad salt":         strings.Join([]string{parts[0], parts[1], parts[2], parts[3], "!!", parts[5]}, "$"),
		"empty key":        strings.Join([]string{parts[0], parts[1], parts[2], parts[3], parts[4], ""}, "$"),
		"other cost":       strings.Replace(string(h), "m=64,", "m=128,", 1),
	} {
		if checkPassword([]byte(bad), "a-long-new-secret") {
			t.Errorf("%s: %q accepted", name, bad)
		}
	}
}
