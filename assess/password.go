package assess

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// PasswordHashing is the argon2id cost of the hashes that are made. A
// hash records its own parameters and is checked with them, so the cost
// can be raised later without locking anyone out.
type PasswordHashing struct {
	Time      uint32 // passes over the memory
	MemoryKiB uint32
}

// DefaultPasswordHashing is OWASP's minimum (19 MiB, 2 passes). A county
// centre runs on two cores, and a class of teachers signs in at once.
var DefaultPasswordHashing = PasswordHashing{Time: 2, MemoryKiB: 19 * 1024}

const (
	argonThreads = 1
	argonKeyLen  = 32
)

// orDefault fills the fields left at zero from DefaultPasswordHashing.
func (h PasswordHashing) orDefault() PasswordHashing {
	if h.Time == 0 {
		h.Time = DefaultPasswordHashing.Time
	}
	if h.MemoryKiB == 0 {
		h.MemoryKiB = DefaultPasswordHashing.MemoryKiB
	}
	return h
}

// hash returns a PHC-format argon2id hash with a random salt.
func (h PasswordHashing) hash(password string) []byte {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		panic(err)
	}
	key := argon2.IDKey([]byte(password), salt, h.Time, h.MemoryKiB, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Appendf(nil, "$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, h.MemoryKiB, h.Time, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// checkPassword verifies password against a hash from hash, using
// the parameters stored in the hash, so they can be raised later.
func checkPassword(hash []byte, password string) bool {
	parts := strings.Split(string(hash), "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var version int
	var memory, time uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &memory, &time, &threads); err != nil || memory > 1<<20 || time > 16 || threads == 0 {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, time, memory, threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// passwordAlphabet leaves out look-alikes (0/O, 1/I/l), as one-time
// passwords are read off a screen or paper.
const passwordAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"

// oneTimePassword returns 14 random characters (about 81 bits). Bytes past
// the largest multiple of the alphabet's size are drawn again, so every
// character is equally likely.
func oneTimePassword() string {
	const n = 14
	limit := 256 - 256%len(passwordAlphabet)
	out := make([]byte, 0, n)
	buf := make([]byte, 2*n)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			panic(err)
		}
		for _, c := range buf {
			if int(c) < limit && len(out) < n {
				out = append(out, passwordAlphabet[int(c)%len(passwordAlphabet)])
			}
		}
	}
	return string(out)
}

// MinPasswordLength is the shortest password staff may choose.
const MinPasswordLength = 10

func checkNewPassword(password string) error {
	if len([]rune(password)) < MinPasswordLength {
		return errorf(CodeValidation, "new_password", "a password needs at least %d characters", MinPasswordLength)
	}
	if len(password) > 256 {
		return errorf(CodeValidation, "new_password", "a password may have at most 256 bytes")
	}
	return nil
}
