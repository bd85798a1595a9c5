// Package sealed encrypts personal data at rest. It wraps any store.Store
// (Wrap), so every backend keeps only ciphertext for names, phone numbers,
// student numbers and staff's free-text notes, and the backends need not
// know about keys at all.
//
// A value is AES-256-GCM with a random 96-bit nonce, written as
//
//	x1.<key id>.<base64url(nonce ‖ ciphertext ‖ tag)>
//
// which is plain ASCII, so it fits a TEXT column and a BSON string as well
// as a BLOB. The additional data binds the value to its format version, key
// id, field and row (store.PersonSealKey, a case id...): a ciphertext moved
// to another row or column, or altered in any byte, fails to open with
// ErrTampered instead of reading as garbage.
//
// Exact lookups (a student number within a school) use a blind index:
// HMAC-SHA256 under a key of its own, which never rotates with the
// encryption keys (see ParseKeys).
package sealed

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Env is the environment variable that holds the keys.
const Env = "XINLING_DATA_KEY"

// IndexID is the reserved key id of the blind-index key.
const IndexID = "index"

// ErrTampered: a sealed value failed authentication (altered, moved to
// another row or field, or sealed under a different key with the same id).
var ErrTampered = errors.New("sealed: value failed authentication (tampered or moved)")

// ErrUnknownKey: a value names a key id that is not configured.
var ErrUnknownKey = errors.New("sealed: value sealed under a key that is not configured")

// ErrNotSealed: a stored value is not in the sealed format (plaintext
// written before encryption was enabled: `xinling rekey` seals it).
var ErrNotSealed = errors.New("sealed: stored value is not sealed (run xinling rekey)")

const prefix = "x1."

var b64 = base64.RawURLEncoding

// Keys holds the encryption keys and the blind-index key. Safe for
// concurrent use.
type Keys struct {
	current string
	aead    map[string]cipher.AEAD
	ids     []string
	index   []byte
}

// ParseKeys reads a key specification:
//
//	index:BASE64,k2:BASE64,k1:BASE64
//
// Every key is 32 random bytes in standard or URL base64. The first
// encryption key is the current one (new values are sealed under it); the
// others still open what they sealed, until `xinling rekey` has moved every
// value to the current key and they can be dropped. The entry named
// "index" is the blind-index key: it is kept for good, since changing it
// would lose every lookup by student number (its HMAC key is derived from it
// with HKDF, so the raw entry is never used directly).
//
// Error messages name ids and positions, never key material.
func ParseKeys(spec string) (*Keys, error) {
	k := &Keys{aead: map[string]cipher.AEAD{}}
	for i, entry := range strings.Split(spec, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		id, enc, ok := strings.Cut(entry, ":")
		if !ok || !validKeyID(id) {
			return nil, fmt.Errorf("%s: entry %d must be ID:BASE64 with an id of letters, digits, '_' or '-' (at most 16)", Env, i+1)
		}
		raw, err := decodeKey(enc)
		if err != nil || len(raw) != 32 {
			return nil, fmt.Errorf("%s: key %q must be 32 bytes in base64 (xinling rekey --new-key prints one)", Env, id)
		}
		if id == IndexID {
			if k.index != nil {
				return nil, fmt.Errorf("%s: key %q appears twice", Env, id)
			}
			k.index, err = hkdf.Key(sha256.New, raw, nil, "xinling blind index v1", 32)
			if err != nil {
				return nil, err
			}
			continue
		}
		if _, dup := k.aead[id]; dup {
			return nil, fmt.Errorf("%s: key %q appears twice", Env, id)
		}
		block, err := aes.NewCipher(raw)
		if err != nil {
			return nil, err
		}
		k.aead[id], err = cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		k.ids = append(k.ids, id)
	}
	if len(k.ids) == 0 {
		return nil, fmt.Errorf("%s holds no encryption key: set it to index:BASE64,k1:BASE64 (32-byte keys)", Env)
	}
	if k.index == nil {
		return nil, fmt.Errorf("%s needs an %q entry, the blind-index key, which is kept when encryption keys rotate", Env, IndexID)
	}
	k.current = k.ids[0]
	return k, nil
}

func decodeKey(s string) ([]byte, error) {
	s = strings.TrimRight(strings.TrimSpace(s), "=")
	if b, err := base64.RawStdEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return base64.RawURLEncoding.DecodeString(s)
}

func validKeyID(id string) bool {
	if id == "" || len(id) > 16 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// NewKey returns a fresh random key in base64, for a key specification.
func NewKey() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.StdEncoding.EncodeToString(b)
}

// NewSpec returns a complete specification with fresh keys: a blind-index
// key and one encryption key with the given id.
func NewSpec(id string) string {
	return IndexID + ":" + NewKey() + "," + id + ":" + NewKey()
}

// Current is the id of the key new values are sealed under.
func (k *Keys) Current() string { return k.current }

// IDs lists the encryption key ids, current first.
func (k *Keys) IDs() []string { return append([]string(nil), k.ids...) }

func aad(keyID, field, row string) []byte {
	return []byte(prefix + keyID + "\x00" + field + "\x00" + row)
}

// Seal encrypts plain under the current key, bound to field and row. An
// empty value stays empty: the store keeps "nothing on file" as nothing.
func (k *Keys) Seal(field, row string, plain []byte) []byte {
	if len(plain) == 0 {
		return nil
	}
	a := k.aead[k.current]
	buf := make([]byte, a.NonceSize(), a.NonceSize()+len(plain)+a.Overhead())
	if _, err := rand.Read(buf); err != nil {
		panic(err)
	}
	buf = a.Seal(buf, buf, plain, aad(k.current, field, row))
	out := make([]byte, 0, len(prefix)+len(k.current)+1+b64.EncodedLen(len(buf)))
	out = append(out, prefix...)
	out = append(out, k.current...)
	out = append(out, '.')
	return b64.AppendEncode(out, buf)
}

// IsSealed reports whether v is in the sealed format (it may still fail to
// open).
func IsSealed(v []byte) bool { return bytes.HasPrefix(v, []byte(prefix)) }

// KeyID returns the id of the key v was sealed under.
func KeyID(v []byte) (string, bool) {
	if !IsSealed(v) {
		return "", false
	}
	id, _, ok := bytes.Cut(v[len(prefix):], []byte("."))
	return string(id), ok
}

// Open decrypts v, which must have been sealed for field and row. An empty
// value opens to nothing.
func (k *Keys) Open(field, row string, v []byte) ([]byte, error) {
	if len(v) == 0 {
		return nil, nil
	}
	if !IsSealed(v) {
		return nil, fmt.Errorf("%s of %s: %w", field, row, ErrNotSealed)
	}
	id, body, ok := bytes.Cut(v[len(prefix):], []byte("."))
	if !ok {
		return nil, fmt.Errorf("%s of %s: %w", field, row, ErrTampered)
	}
	a, known := k.aead[string(id)]
	if !known {
		return nil, fmt.Errorf("%s of %s: key %q: %w", field, row, id, ErrUnknownKey)
	}
	raw, err := b64.DecodeString(string(body))
	if err != nil || len(raw) < a.NonceSize()+a.Overhead() {
		return nil, fmt.Errorf("%s of %s: %w", field, row, ErrTampered)
	}
	plain, err := a.Open(nil, raw[:a.NonceSize()], raw[a.NonceSize():], aad(string(id), field, row))
	if err != nil {
		return nil, fmt.Errorf("%s of %s: %w", field, row, ErrTampered)
	}
	return plain, nil
}

// Blind is the blind index of value within scope (a student number within
// a school): equal inputs give equal indexes, and without the index key
// nobody can compute or invert one, even for a guessable student number.
func (k *Keys) Blind(scope, value string) string {
	m := hmac.New(sha256.New, k.index)
	m.Write([]byte(scope))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return hex.EncodeToString(m.Sum(nil))
}
