package service

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kessai/kessai"
)

// APIKeyIDPrefix starts every API key's ID ("key_…"); the ID names a key in
// the console and in rotation without revealing it.
const APIKeyIDPrefix = "key"

// keyRandomBytes is the entropy of a key: 256 bits, so a fast hash is a
// safe way to store it (nothing to brute-force) and a lookup by hash is
// enough to authenticate.
const keyRandomBytes = 32

// keyLen is the length of a key: a 3-character prefix ("sk_" or "pk_")
// and 43 characters of unpadded base64url.
const keyLen = 3 + 43

// MaxRotationGrace bounds how long a rotated key keeps working. A month is
// plenty to roll a deployment; longer would make rotation meaningless
// after a leak.
const MaxRotationGrace = 30 * 24 * time.Hour

// NewAPIKeyString returns a fresh key of the kind: "sk_" or "pk_" followed
// by 43 characters of base64url (32 random bytes).
func NewAPIKeyString(kind kessai.KeyKind) string {
	return kind.Prefix() + randomToken(keyRandomBytes)
}

// keyHint is what the console shows of a key: prefix and last 4.
func keyHint(key string) string {
	return key[:3] + "…" + key[len(key)-4:]
}

// CreateAPIKey creates a key of kind for the shop and returns it in plain
// text, the only time it is ever available: only its hash is stored.
func (s *Service) CreateAPIKey(ctx context.Context, shopID string, kind kessai.KeyKind) (string, *kessai.APIKey, error) {
	return s.createAPIKey(ctx, s.store, shopID, kind)
}

func (s *Service) createAPIKey(ctx context.Context, st kessai.Store, shopID string, kind kessai.KeyKind) (string, *kessai.APIKey, error) {
	if kind != kessai.KeySecret && kind != kessai.KeyPublishable {
		return "", nil, kessai.ValidationErrors{kessai.FieldError("kind", "invalid_key_kind",
			"キーの種類は secret または publishable です。", "kind must be secret or publishable.")}
	}
	plain := NewAPIKeyString(kind)
	now := s.Now()
	k := &kessai.APIKey{ID: kessai.NewID(APIKeyIDPrefix, now), ShopID: shopID, Kind: kind,
		Hint: keyHint(plain), Hash: kessai.HashKey(plain), CreatedAt: now}
	if err := st.CreateAPIKey(ctx, k); err != nil {
		return "", nil, storeErr(err, nil)
	}
	return plain, k, nil
}

// ListAPIKeys lists the shop's keys (hints only).
func (s *Service) ListAPIKeys(ctx context.Context, shopID string) ([]kessai.APIKey, error) {
	ks, err := s.store.ListAPIKeys(ctx, shopID)
	if err != nil {
		return nil, storeErr(err, nil)
	}
	return nonNil(ks), nil
}

var errAPIKeyNotFound = notFound("api_key", "API キーが見つかりません。", "No such API key.")

// RotateAPIKey replaces key id with a new key of the same kind and returns
// the new key in plain text. The old key keeps working for grace (0: it
// stops at once), so a shop can deploy the new key without downtime. Both
// changes happen in one transaction: there is never a moment without a
// valid key.
func (s *Service) RotateAPIKey(ctx context.Context, shopID, id string, grace time.Duration) (string, *kessai.APIKey, error) {
	if grace < 0 || grace > MaxRotationGrace {
		return "", nil, kessai.ValidationErrors{kessai.FieldError("grace", "invalid_grace",
			"猶予期間は 0〜30 日で指定してください。", "grace must be between 0 and 30 days.")}
	}
	var plain string
	var nk *kessai.APIKey
	err := s.store.InTx(ctx, func(tx kessai.Store) error {
		keys, err := tx.ListAPIKeys(ctx, shopID)
		if err != nil {
			return storeErr(err, nil)
		}
		var old *kessai.APIKey
		for i := range keys {
			if keys[i].ID == id {
				old = &keys[i]
			}
		}
		now := s.Now()
		if old == nil || !old.Active(now) {
			// An expired key is as good as gone: rotating it would
			// mint a key from a credential the shop already retired.
			return errAPIKeyNotFound
		}
		until := now.Add(grace)
		if !old.ExpiresAt.IsZero() && old.ExpiresAt.Before(until) {
			until = old.ExpiresAt // rotating twice never extends the old key's life
		}
		if err := tx.ExpireAPIKey(ctx, shopID, id, until); err != nil {
			return storeErr(err, errAPIKeyNotFound)
		}
		plain, nk, err = s.createAPIKey(ctx, tx, shopID, old.Kind)
		return err
	})
	if err != nil {
		return "", nil, err
	}
	return plain, nk, nil
}

// errUnauthorized is the one answer to every bad key: the client learns
// nothing about which keys exist.
var errUnauthorized = kessai.Errorf(kessai.KindUnauthorized, "api_key_invalid",
	"API キーが正しくありません。", "The API key is invalid.")

// errKeyExpired is kept distinct from errUnauthorized: a shop whose rotated
// key ran out needs to know that, and it learns nothing an attacker could
// use (the key was theirs).
var errKeyExpired = kessai.Errorf(kessai.KindUnauthorized, "api_key_expired",
	"API キーの有効期限が切れています。新しいキーを使用してください。", "The API key has expired; use the new key.")

// Authenticate finds the active key for a plain-text key. Anything that is
// not a well-formed, stored, unexpired key is KindUnauthorized.
func (s *Service) Authenticate(ctx context.Context, plain string) (*kessai.APIKey, error) {
	var kind kessai.KeyKind
	switch {
	case strings.HasPrefix(plain, "sk_"):
		kind = kessai.KeySecret
	case strings.HasPrefix(plain, "pk_"):
		kind = kessai.KeyPublishable
	default:
		return nil, errUnauthorized
	}
	if len(plain) != keyLen {
		return nil, errUnauthorized
	}
	k, err := s.store.FindAPIKey(ctx, kessai.HashKey(plain))
	if errors.Is(err, kessai.ErrNotFound) {
		return nil, errUnauthorized
	}
	if err != nil {
		return nil, storeErr(err, nil)
	}
	if k.Kind != kind {
		// The prefix is part of the hashed key, so this means a store
		// bug; refuse rather than grant the wrong powers.
		return nil, kessai.Internal(fmt.Errorf("service: key %s has kind %s but prefix %s", k.ID, k.Kind, kind))
	}
	if !k.Active(s.Now()) {
		return nil, errKeyExpired
	}
	return k, nil
}
