package kessai

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"time"
)

// DefaultShopID is the shop created at first start.
const DefaultShopID = "shop_default"

// Shop is one merchant's shop; every other row belongs to one.
type Shop struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// KeyKind tells what an API key may do.
type KeyKind string

// API key kinds: a secret key for the shop's server, a publishable key
// that is safe to put in a browser (it can only start a checkout).
const (
	KeySecret      KeyKind = "secret"
	KeyPublishable KeyKind = "publishable"
)

// Prefix is the visible start of keys of the kind.
func (k KeyKind) Prefix() string {
	if k == KeyPublishable {
		return "pk_"
	}
	return "sk_"
}

// APIKey is a stored API key. Only a hash of the key is kept: the key
// itself is shown once when created.
type APIKey struct {
	ID     string  `json:"id"`
	ShopID string  `json:"-"`
	Kind   KeyKind `json:"kind"`
	// Hint is the key's prefix and last 4 characters, for display.
	Hint string `json:"hint"`
	// Hash is the hex SHA-256 of the key. Keys are 32 random bytes, so a
	// fast hash is enough: there is nothing to brute-force.
	Hash      string    `json:"-"`
	CreatedAt time.Time `json:"created_at"`
	// ExpiresAt, when set, ends the key: rotation sets it on the old key
	// to give clients time to switch (no downtime).
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// Active reports whether the key can be used at now.
func (k *APIKey) Active(now time.Time) bool {
	return k.ExpiresAt.IsZero() || now.Before(k.ExpiresAt)
}

// HashKey is how API keys are hashed for storage and lookup.
func HashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// SameHash compares two hashes in constant time.
func SameHash(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// IdempotencyState tells whether the first request with a key finished.
type IdempotencyState string

// Idempotency states.
const (
	IdempotencyRunning IdempotencyState = "running"
	IdempotencyDone    IdempotencyState = "done"
)

// IdempotencyRecord remembers a mutating API request by its
// Idempotency-Key, so a retry gets the stored response instead of a second
// effect.
type IdempotencyRecord struct {
	ShopID string
	Key    string
	// Fingerprint is a hash of method, path and body: the same key with a
	// different request is refused (422).
	Fingerprint string
	State       IdempotencyState
	StatusCode  int
	// Body is the stored response body (JSON).
	Body      []byte
	CreatedAt time.Time
	ExpiresAt time.Time
}
