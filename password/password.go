// Package password hashes admin console passwords with argon2id (RFC
// 9106) and checks them.
//
// Hashes are stored in the usual PHC string format, the one libsodium, the
// reference implementation and most libraries read and write:
//
//	$argon2id$v=19$m=65536,t=3,p=2$<salt>$<hash>
//
// (salt and hash in unpadded standard base64), so the parameters travel
// with each hash: raising them later (Default) does not break stored
// hashes, and NeedsRehash tells when a hash should be replaced after the
// next successful login.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// MaxLen bounds a password, in bytes. Hashing cost does not depend on the
// length, but a megabyte "password" has no use and would be copied around.
const MaxLen = 1024

// Params are argon2id's cost parameters and the sizes of salt and hash.
type Params struct {
	Time    uint32 // passes over memory (t)
	Memory  uint32 // memory in KiB (m)
	Threads uint8  // lanes (p)
	SaltLen uint32 // bytes of random salt
	KeyLen  uint32 // bytes of hash
}

// Default follows RFC 9106's second recommended option (t=3, m=64 MiB,
// 128-bit salt, 256-bit tag) with p=2 instead of 4, for the 2-core servers
// kessai targets: about 0.1 s per hash there, slow enough to make guessing
// from a stolen database expensive, fast enough for a login.
var Default = Params{Time: 3, Memory: 64 * 1024, Threads: 2, SaltLen: 16, KeyLen: 32}

// Limits on the parameters Verify accepts from a stored hash, so a
// corrupted or planted hash cannot make a login take gigabytes or minutes.
const (
	maxTime    = 16
	maxMemory  = 1024 * 1024 // 1 GiB
	minSaltLen = 8
	maxSaltLen = 64
	minKeyLen  = 16
	maxKeyLen  = 64
)

// Errors.
var (
	// ErrEmpty refuses an empty password.
	ErrEmpty = errors.New("password: empty password")
	// ErrTooLong refuses a password of more than MaxLen bytes.
	ErrTooLong = errors.New("password: password longer than 1024 bytes")
	// ErrMalformed is a stored hash that is not an argon2id hash this
	// package can check.
	ErrMalformed = errors.New("password: malformed argon2id hash")
)

// slots bounds how many hashes run at once: each holds Params.Memory (64
// MiB by default), so a burst of logins must queue rather than take the
// server's memory. One per CPU keeps the CPUs busy; more would only
// share them.
var slots = make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))

func check(password string) error {
	switch {
	case password == "":
		return ErrEmpty
	case len(password) > MaxLen:
		return ErrTooLong
	}
	return nil
}

func (p Params) key(password string, salt []byte) []byte {
	slots <- struct{}{}
	defer func() { <-slots }()
	return argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
}

func (p Params) valid() bool {
	return p.Time >= 1 && p.Time <= maxTime && p.Memory >= 8*uint32(p.Threads) && p.Memory <= maxMemory &&
		p.Threads >= 1 && p.SaltLen >= minSaltLen && p.SaltLen <= maxSaltLen && p.KeyLen >= minKeyLen && p.KeyLen <= maxKeyLen
}

// Hash hashes password with Default parameters and a random salt.
func Hash(password string) (string, error) { return Default.Hash(password) }

// Hash hashes password with p and a random salt and returns the encoded
// hash.
func (p Params) Hash(password string) (string, error) {
	if err := check(password); err != nil {
		return "", err
	}
	if !p.valid() {
		return "", fmt.Errorf("password: unusable parameters %+v", p)
	}
	salt := make([]byte, p.SaltLen)
	_, _ = rand.Read(salt) // never fails (Go 1.24+ aborts instead)
	return p.encode(salt, p.key(password, salt)), nil
}

func (p Params) encode(salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// decode parses an encoded hash.
func decode(encoded string) (p Params, salt, key []byte, err error) {
	parts := strings.Split(encoded, "$")
	// "", "argon2id", "v=19", "m=…,t=…,p=…", salt, hash
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, ErrMalformed
	}
	// Exactly m, t and p, in this order (as every encoder writes them).
	var mtp [3]uint64
	kvs := strings.Split(parts[3], ",")
	if len(kvs) != len(mtp) {
		return p, nil, nil, ErrMalformed
	}
	for i, kv := range kvs {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || name != "mtp"[i:i+1] {
			return p, nil, nil, ErrMalformed
		}
		if mtp[i], err = strconv.ParseUint(value, 10, 32); err != nil {
			return p, nil, nil, ErrMalformed
		}
	}
	m, t, threads := mtp[0], mtp[1], mtp[2]
	if salt, err = base64.RawStdEncoding.Strict().DecodeString(parts[4]); err != nil {
		return p, nil, nil, ErrMalformed
	}
	if key, err = base64.RawStdEncoding.Strict().DecodeString(parts[5]); err != nil {
		return p, nil, nil, ErrMalformed
	}
	if threads > 255 {
		return p, nil, nil, ErrMalformed
	}
	p = Params{Time: uint32(t), Memory: uint32(m), Threads: uint8(threads), SaltLen: uint32(len(salt)), KeyLen: uint32(len(key))}
	if !p.valid() {
		return p, nil, nil, ErrMalformed
	}
	return p, salt, key, nil
}

// Verify reports whether password matches the encoded hash, comparing in
// constant time. A wrong password is (false, nil); an error means the hash
// itself is unusable (ErrMalformed) or the password could never have been
// hashed (ErrEmpty, ErrTooLong).
func Verify(password, encoded string) (bool, error) {
	if err := check(password); err != nil {
		return false, err
	}
	p, salt, want, err := decode(encoded)
	if err != nil {
		return false, err
	}
	got := p.key(password, salt)
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// NeedsRehash reports whether encoded was made with other parameters than
// Default (or cannot be read): after a successful login, hash the password
// again and store the new hash.
func NeedsRehash(encoded string) bool { return Default.NeedsRehash(encoded) }

// NeedsRehash reports whether encoded was made with other parameters than
// p (or cannot be read).
func (p Params) NeedsRehash(encoded string) bool {
	got, _, _, err := decode(encoded)
	return err != nil || got != p
}

// Generated passwords use letters and digits without the look-alikes
// 0 O o 1 l I, so they can be read off a terminal and typed.
const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// Generate returns a random password of n characters from a 56-character
// alphabet (about 5.8 bits each: 16 characters are 92 bits).
func Generate(n int) string {
	b := make([]byte, n)
	// Rejection sampling: only bytes below the largest multiple of the
	// alphabet's size are used, so every character is equally likely.
	const limit = 256 - 256%len(alphabet)
	buf := make([]byte, 2*n)
	for i := 0; i < n; {
		_, _ = rand.Read(buf)
		for _, c := range buf {
			if int(c) < limit && i < n {
				b[i] = alphabet[int(c)%len(alphabet)]
				i++
			}
		}
	}
	return string(b)
}
