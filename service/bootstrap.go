package service

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/password"
)

// DefaultShopName is the name of the shop created at first start.
const DefaultShopName = "デモショップ"

// BootstrapKeys are the credentials made at first start, in plain text:
// the API keys and the first admin console user's password. They exist only
// in this value (the database keeps hashes): print them once and forget
// them.
type BootstrapKeys struct {
	ShopID string
	// ShopCreated is set when this call created the shop (a new
	// installation); it is false when only a missing admin user was added
	// to an existing shop, whose settings must then be left alone.
	ShopCreated    bool
	SecretKey      string // empty when only an admin user was created (see Bootstrap)
	PublishableKey string
	// AdminEmail and AdminPassword log in to the admin console as its
	// first user, an admin (AdminEmail is BootstrapAdminEmail).
	AdminEmail    string
	AdminPassword string
}

// Bootstrap prepares a new installation: the default shop with the default
// settings, one secret and one publishable API key and the first admin
// console user (BootstrapAdminEmail, with a random password of
// GeneratedAdminPasswordLen characters), all in one transaction, so a
// crash never leaves a shop without keys or a way into the console. It
// returns the credentials when it created them and nil when the shop
// already existed (every later start). Two instances starting together on
// one database are safe: the loser of the race sees the shop and returns
// nil.
//
// A shop that exists but has no admin user at all (an installation made
// before admin users existed) gets the first admin user on the next start:
// the returned value then carries only AdminEmail and AdminPassword.
func (s *Service) Bootstrap(ctx context.Context) (*BootstrapKeys, error) {
	_, err := s.store.GetShop(ctx, kessai.DefaultShopID)
	if err == nil {
		if err := s.ensureSettings(ctx, kessai.DefaultShopID); err != nil {
			return nil, err
		}
		return s.ensureAdmin(ctx, kessai.DefaultShopID)
	}
	if !errors.Is(err, kessai.ErrNotFound) {
		return nil, storeErr(err, nil)
	}
	doc, err := json.Marshal(kessai.DefaultSettings())
	if err != nil {
		return nil, kessai.Internal(err)
	}
	// Hashed before the transaction: it takes a tenth of a second.
	adminPassword := password.Generate(GeneratedAdminPasswordLen)
	adminHash, err := s.hashPassword(adminPassword)
	if err != nil {
		return nil, err
	}
	keys := &BootstrapKeys{ShopID: kessai.DefaultShopID, ShopCreated: true, AdminEmail: BootstrapAdminEmail, AdminPassword: adminPassword}
	err = s.store.InTx(ctx, func(tx kessai.Store) error {
		shop := &kessai.Shop{ID: kessai.DefaultShopID, Name: DefaultShopName, CreatedAt: s.Now()}
		if err := tx.CreateShop(ctx, shop); err != nil {
			return err
		}
		if _, err := tx.PutSettings(ctx, shop.ID, doc, 0); err != nil {
			return err
		}
		var err error
		if keys.SecretKey, _, err = s.createAPIKey(ctx, tx, shop.ID, kessai.KeySecret); err != nil {
			return err
		}
		if keys.PublishableKey, _, err = s.createAPIKey(ctx, tx, shop.ID, kessai.KeyPublishable); err != nil {
			return err
		}
		// Users made before the shop (tests, a restored backup) are
		// kept, and then no first user is made.
		users, err := tx.ListAdminUsers(ctx, shop.ID)
		if err != nil || len(users) > 0 {
			keys.AdminEmail, keys.AdminPassword = "", ""
			return err
		}
		// Through the store, not createAdminUser: a duplicate must stay
		// ErrDuplicate to roll back and be recognised below.
		now := s.Now()
		return tx.CreateAdminUser(ctx, &kessai.AdminUser{ID: kessai.NewID(AdminUserIDPrefix, now), ShopID: shop.ID,
			Email: BootstrapAdminEmail, Name: BootstrapAdminName, Role: kessai.RoleAdmin, PasswordHash: adminHash,
			PasswordChangedAt: now, CreatedAt: now, UpdatedAt: now})
	})
	if errors.Is(err, kessai.ErrDuplicate) {
		return nil, nil // another instance bootstrapped first
	}
	if err != nil {
		return nil, storeErr(err, nil)
	}
	s.log.InfoContext(ctx, "service: created the default shop with API keys and the first admin user", "shop", kessai.DefaultShopID)
	return keys, nil
}

// ensureAdmin creates the first admin user of a shop that has none and
// returns its credentials; nil when the shop has users.
func (s *Service) ensureAdmin(ctx context.Context, shopID string) (*BootstrapKeys, error) {
	users, err := s.store.ListAdminUsers(ctx, shopID)
	if err != nil || len(users) > 0 {
		return nil, storeErr(err, nil)
	}
	pw := password.Generate(GeneratedAdminPasswordLen)
	hash, err := s.hashPassword(pw)
	if err != nil {
		return nil, err
	}
	_, err = s.createAdminUser(ctx, s.store, shopID, BootstrapAdminEmail, BootstrapAdminName, kessai.RoleAdmin, hash)
	if kessai.ErrorKind(err) == kessai.KindConflict {
		return nil, nil // another instance created it meanwhile
	}
	if err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "service: created the first admin user", "shop", shopID)
	return &BootstrapKeys{ShopID: shopID, AdminEmail: BootstrapAdminEmail, AdminPassword: pw}, nil
}

// ensureSettings stores the default settings for a shop that has none, so
// the version seen by the console starts at 1 like every saved document.
func (s *Service) ensureSettings(ctx context.Context, shopID string) error {
	_, _, err := s.store.GetSettings(ctx, shopID)
	if !errors.Is(err, kessai.ErrNotFound) {
		return storeErr(err, nil)
	}
	doc, err := json.Marshal(kessai.DefaultSettings())
	if err != nil {
		return kessai.Internal(err)
	}
	_, err = s.store.PutSettings(ctx, shopID, doc, 0)
	if errors.Is(err, kessai.ErrConflict) || errors.Is(err, kessai.ErrDuplicate) {
		return nil // someone else stored settings meanwhile: theirs win
	}
	return storeErr(err, nil)
}
