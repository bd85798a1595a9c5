package sealed

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

const (
	idx = "index:aW5kZXgta2V5LWZvci10ZXN0cy1vbmx5LTMyYnl0ZXM"
	k1  = "k1:azEta2V5LWZvci10ZXN0cy1vbmx5LTAwMDAwMDAwMDA="
	k2  = "k2:azIta2V5LWZvci10ZXN0cy1vbmx5LTAwMDAwMDAwMDA"
)

func keys(t *testing.T, spec string) *Keys {
	t.Helper()
	k, err := ParseKeys(spec)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestParseKeys(t *testing.T) {
	k := keys(t, " "+k2+", "+idx+","+k1+" ")
	if k.Current() != "k2" || strings.Join(k.IDs(), ",") != "k2,k1" {
		t.Fatalf("current %s, ids %v", k.Current(), k.IDs())
	}
	secret := "azEta2V5LWZvci10ZXN0cy1vbmx5LTAwMDAwMDAwMDA"
	for spec, want := range map[string]string{
		"":                                      "no encryption key",
		idx:                                     "no encryption key",
		k1:                                      `needs an "index" entry`,
		idx + "," + k1 + "," + k1:               `"k1" appears twice`,
		idx + "," + idx + "," + k1:              `"index" appears twice`,
		idx + ",k1:" + secret[:20]:              `key "k1" must be 32 bytes`,
		idx + ",k1:" + secret + "AAAA":          `key "k1" must be 32 bytes`,
		idx + ",k1:not base64!":                 `key "k1" must be 32 bytes`,
		idx + "," + secret:                      "entry 2 must be ID:BASE64",
		idx + ",bad/id:" + secret:               "entry 2 must be ID:BASE64",
		idx + ",much-too-long-key-id:" + secret: "entry 2 must be ID:BASE64",
	} {
		_, err := ParseKeys(spec)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseKeys(%q) = %v, want %q", spec, err, want)
			continue
		}
		// Messages name ids, never key material.
		if strings.Contains(err.Error(), secret[:16]) || !strings.Contains(err.Error(), Env) {
			t.Errorf("ParseKeys(%q): message %q", spec, err)
		}
	}
}

func TestSealOpen(t *testing.T) {
	k := keys(t, idx+","+k1)
	v := k.Seal("person.name", "p1", []byte("王小明"))
	if !IsSealed(v) || bytes.Contains(v, []byte("王小明")) {
		t.Fatalf("sealed = %q", v)
	}
	if id, ok := KeyID(v); !ok || id != "k1" {
		t.Fatalf("KeyID = %q %v", id, ok)
	}
	// A random nonce: the same plaintext seals differently each time.
	if bytes.Equal(v, k.Seal("person.name", "p1", []byte("王小明"))) {
		t.Fatal("two seals of one value are equal")
	}
	got, err := k.Open("person.name", "p1", v)
	if err != nil || string(got) != "王小明" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if k.Seal("person.name", "p1", nil) != nil {
		t.Fatal("an empty value must stay empty")
	}
	if got, err := k.Open("person.name", "p1", nil); err != nil || got != nil {
		t.Fatalf("Open(empty) = %q, %v", got, err)
	}
	for name, c := range map[string]struct {
		field, row string
		v          []byte
		want       error
	}{
		"other row":   {"person.name", "p2", v, ErrTampered},
		"other field": {"person.phone", "p1", v, ErrTampered},
		"flipped":     {"person.name", "p1", flip(v, len(v)-3), ErrTampered},
		"truncated":   {"person.name", "p1", v[:len(v)-4], ErrTampered},
		"no body":     {"person.name", "p1", []byte("x1.k1"), ErrTampered},
		"short":       {"person.name", "p1", []byte("x1.k1.AAAA"), ErrTampered},
		"bad base64":  {"person.name", "p1", []byte("x1.k1.!!!!"), ErrTampered},
		"other id":    {"person.name", "p1", append([]byte("x1.k9"), v[len("x1.k1"):]...), ErrUnknownKey},
		"relabelled":  {"person.name", "p1", append([]byte("x1.k2"), v[len("x1.k1"):]...), ErrUnknownKey},
		"plaintext":   {"person.name", "p1", []byte("王小明"), ErrNotSealed},
	} {
		if _, err := k.Open(c.field, c.row, c.v); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
	// A key id relabelled to another configured key fails authentication.
	k21 := keys(t, k2+","+idx+","+k1)
	if _, err := k21.Open("person.name", "p1", append([]byte("x1.k2"), v[len("x1.k1"):]...)); !errors.Is(err, ErrTampered) {
		t.Errorf("relabelled to k2: %v", err)
	}
	if got, err := k21.Open("person.name", "p1", v); err != nil || string(got) != "王小明" {
		t.Errorf("old key after rotation: %q, %v", got, err)
	}
}

func flip(v []byte, i int) []byte {
	out := bytes.Clone(v)
	if out[i] == 'A' {
		out[i] = 'B'
	} else {
		out[i] = 'A'
	}
	return out
}

func TestBlind(t *testing.T) {
	a := keys(t, idx+","+k1)
	b := keys(t, idx+","+k2) // another encryption key, the same index key
	if a.Blind("school", "2026001") != b.Blind("school", "2026001") {
		t.Fatal("the blind index changed with the encryption key")
	}
	if a.Blind("school", "2026001") == a.Blind("school2", "2026001") || a.Blind("school", "2026001") == a.Blind("school", "2026002") {
		t.Fatal("blind indexes collide")
	}
	if a.Blind("s", "ab") == a.Blind("sa", "b") {
		t.Fatal("scope and value are not separated")
	}
	other := keys(t, "index:"+NewKey()+","+k1)
	if a.Blind("school", "2026001") == other.Blind("school", "2026001") {
		t.Fatal("the index does not depend on its key")
	}
	if _, err := ParseKeys(NewSpec("k7")); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkSeal(b *testing.B) {
	k, _ := ParseKeys(idx + "," + k1)
	name := []byte("欧阳晓明")
	for b.Loop() {
		k.Seal("person.name", "roster/school/0123456789abcdef", name)
	}
}

func BenchmarkOpen(b *testing.B) {
	k, _ := ParseKeys(idx + "," + k1)
	v := k.Seal("person.name", "roster/school/0123456789abcdef", []byte("欧阳晓明"))
	for b.Loop() {
		if _, err := k.Open("person.name", "roster/school/0123456789abcdef", v); err != nil {
			b.Fatal(err)
		}
	}
}
