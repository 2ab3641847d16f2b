package service

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/kessai/kessai"
)

// DefaultShopName is the name of the shop created at first start.
const DefaultShopName = "デモショップ"

// BootstrapKeys are the API keys made at first start, in plain text. They
// exist only in this value: print them once and forget them.
type BootstrapKeys struct {
	ShopID         string
	SecretKey      string
	PublishableKey string
}

// Bootstrap prepares a new installation: the default shop with the default
// settings, one secret and one publishable API key, all in one
// transaction, so a crash never leaves a shop without keys. It returns the
// keys when it created them and nil when the shop already existed (every
// later start). Two instances starting together on one database are safe:
// the loser of the race sees the shop and returns nil.
func (s *Service) Bootstrap(ctx context.Context) (*BootstrapKeys, error) {
	_, err := s.store.GetShop(ctx, kessai.DefaultShopID)
	if err == nil {
		return nil, s.ensureSettings(ctx, kessai.DefaultShopID)
	}
	if !errors.Is(err, kessai.ErrNotFound) {
		return nil, storeErr(err, nil)
	}
	doc, err := json.Marshal(kessai.DefaultSettings())
	if err != nil {
		return nil, kessai.Internal(err)
	}
	keys := &BootstrapKeys{ShopID: kessai.DefaultShopID}
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
		keys.PublishableKey, _, err = s.createAPIKey(ctx, tx, shop.ID, kessai.KeyPublishable)
		return err
	})
	if errors.Is(err, kessai.ErrDuplicate) {
		return nil, nil // another instance bootstrapped first
	}
	if err != nil {
		return nil, storeErr(err, nil)
	}
	s.log.InfoContext(ctx, "service: created the default shop with API keys", "shop", kessai.DefaultShopID)
	return keys, nil
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
