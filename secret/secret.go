// Package secret encrypts secrets at rest (gateway credentials, AES
// material, card-member passwords, webhook secrets, the settings document)
// with a master key kept outside the database (design §4), so a copy of the
// database alone reveals none of them.
//
// A sealed value is
//
//	version (1 byte, 1) | key id (4 bytes, big endian) | nonce (12 bytes) | AES-256-GCM ciphertext and tag
//
// The version and key id are authenticated as additional data. The key id
// is the first 4 bytes of SHA-256 of the key, so it can be computed from
// the key alone and needs no registry: a Keyring opens values sealed with
// any key it holds, which is how a master key is rotated without
// re-encrypting the database first.
package secret

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
)

// KeySize is the master key length: 32 bytes, AES-256.
const KeySize = 32

// Version is the format version written as the first byte.
const Version byte = 1

const (
	headerSize = 1 + 4
	nonceSize  = 12
	tagSize    = 16
	// Overhead is how many bytes sealing adds to a plaintext.
	Overhead = headerSize + nonceSize + tagSize
)

// Errors of Open. None of them (nor any other error of this package)
// contains key material or plaintext.
var (
	// ErrMalformed: too short or an unknown version.
	ErrMalformed = errors.New("secret: sealed value is malformed")
	// ErrUnknownKey: sealed with a key the ring does not hold (wrap
	// includes the key id, which is not secret).
	ErrUnknownKey = errors.New("secret: sealed with an unknown master key")
	// ErrAuth: the value was altered, or sealed with another key of the
	// same id (which a 32-bit id makes possible but very unlikely).
	ErrAuth = errors.New("secret: sealed value failed authentication")
)

// KeyID returns the id of a key: the first 4 bytes of its SHA-256.
func KeyID(key []byte) uint32 {
	sum := sha256.Sum256(key)
	return binary.BigEndian.Uint32(sum[:4])
}

type ringKey struct {
	id   uint32
	aead cipher.AEAD
}

// Keyring seals with its current key and opens with any of its keys. It
// implements kessai.Sealer and is safe for concurrent use.
type Keyring struct {
	current ringKey
	keys    map[uint32]cipher.AEAD
	source  string
	// prk is the HKDF pseudo-random key extracted from the current key,
	// the root of DeriveKey.
	prk []byte
}

// NewKeyring returns a ring that seals with current and also opens values
// sealed with any of old (keys being retired after a rotation). Each key
// must be KeySize bytes. The same key listed twice is accepted; two
// different keys with the same id are refused.
func NewKeyring(current []byte, old ...[]byte) (*Keyring, error) {
	k := &Keyring{keys: make(map[uint32]cipher.AEAD, 1+len(old))}
	seen := make(map[uint32][]byte, 1+len(old))
	for i, key := range append([][]byte{current}, old...) {
		if err := checkKey(key); err != nil {
			return nil, fmt.Errorf("secret: key %d: %w", i+1, err)
		}
		id := KeyID(key)
		if prev, ok := seen[id]; ok {
			if bytes.Equal(prev, key) {
				continue
			}
			return nil, fmt.Errorf("secret: keys with the same id %08x; replace one of them", id)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("secret: key %d: %w", i+1, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("secret: key %d: %w", i+1, err)
		}
		seen[id] = bytes.Clone(key)
		k.keys[id] = aead
		if i == 0 {
			k.current = ringKey{id: id, aead: aead}
			prk, err := hkdf.Extract(sha256.New, key, []byte("kessai keyring"))
			if err != nil {
				return nil, fmt.Errorf("secret: key %d: %w", i+1, err)
			}
			k.prk = prk
		}
	}
	return k, nil
}

// checkKey refuses keys of the wrong size and the degenerate ones a broken
// setup produces (every byte equal, e.g. 32 zero bytes from /dev/zero).
func checkKey(key []byte) error {
	if len(key) != KeySize {
		return fmt.Errorf("must be %d bytes, got %d", KeySize, len(key))
	}
	if bytes.Count(key, key[:1]) == len(key) {
		return errors.New("all bytes are equal; generate the key from a random source")
	}
	return nil
}

// DeriveKey returns a 32-byte key for purpose, derived with HKDF-SHA256
// from the current master key. It serves secrets that must be the same on
// every instance but never stored, such as the signing key of short-lived
// links; rotating the master key changes them, which only invalidates
// what was signed before (links of minutes), so no old derived key is kept.
func (k *Keyring) DeriveKey(purpose string) []byte {
	key, err := hkdf.Expand(sha256.New, k.prk, purpose, KeySize)
	if err != nil {
		// Only a length over 255 hash sizes fails; KeySize is 32.
		panic("secret: DeriveKey: " + err.Error())
	}
	return key
}

// CurrentKeyID is the id of the key new values are sealed with.
func (k *Keyring) CurrentKeyID() uint32 { return k.current.id }

// KeyIDs lists the ids of every key the ring can open with, ascending.
func (k *Keyring) KeyIDs() []uint32 {
	ids := make([]uint32, 0, len(k.keys))
	for id := range k.keys {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

// Source says where LoadKeyring found the key ("KESSAI_MASTER_KEY" or the
// file's path), for the start-up log; "" for a ring made by NewKeyring.
func (k *Keyring) Source() string { return k.source }

// Seal encrypts plain with the current key under a fresh random nonce.
func (k *Keyring) Seal(plain []byte) ([]byte, error) {
	out := make([]byte, headerSize+nonceSize, headerSize+nonceSize+len(plain)+tagSize)
	out[0] = Version
	binary.BigEndian.PutUint32(out[1:headerSize], k.current.id)
	nonce := out[headerSize:]
	if err := randRead(nonce); err != nil {
		return nil, fmt.Errorf("secret: no randomness for the nonce: %w", err)
	}
	return k.current.aead.Seal(out, nonce, plain, out[:headerSize]), nil
}

// Open decrypts a value made by Seal with any key of the ring.
func (k *Keyring) Open(sealed []byte) ([]byte, error) {
	id, err := SealedKeyID(sealed)
	if err != nil {
		return nil, err
	}
	aead, ok := k.keys[id]
	if !ok {
		return nil, fmt.Errorf("%w (key id %08x)", ErrUnknownKey, id)
	}
	nonce := sealed[headerSize : headerSize+nonceSize]
	plain, err := aead.Open(nil, nonce, sealed[headerSize+nonceSize:], sealed[:headerSize])
	if err != nil {
		return nil, ErrAuth
	}
	if plain == nil {
		plain = []byte{} // an empty secret opens to empty, never nil-vs-empty surprises
	}
	return plain, nil
}

// Stale reports whether sealed was made with a key other than the current
// one, so a caller can re-seal it on the next write and an old key can be
// dropped once nothing stale is left. Malformed values are not stale.
func (k *Keyring) Stale(sealed []byte) bool {
	id, err := SealedKeyID(sealed)
	return err == nil && id != k.current.id
}

// SealedKeyID returns the id of the key a value was sealed with, without
// decrypting it.
func SealedKeyID(sealed []byte) (uint32, error) {
	if len(sealed) < headerSize+nonceSize+tagSize || sealed[0] != Version {
		return 0, ErrMalformed
	}
	return binary.BigEndian.Uint32(sealed[1:headerSize]), nil
}
