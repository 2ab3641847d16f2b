package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/kessai/kessai"
)

// CreateShop inserts a shop; ErrDuplicate when the id is taken.
func (s *Store) CreateShop(ctx context.Context, sh *kessai.Shop) error {
	const op = "create shop"
	if err := need(op, "shop id", sh.ID); err != nil {
		return err
	}
	sh.CreatedAt = norm(sh.CreatedAt)
	n, err := s.execN(ctx, `INSERT INTO shops (id, name, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
		sh.ID, sh.Name, micros(sh.CreatedAt))
	if err != nil {
		return s.fail(op, err)
	}
	if n == 0 {
		return duplicate(op + " " + sh.ID)
	}
	return nil
}

func scanShop(sc scanner) (*kessai.Shop, error) {
	var sh kessai.Shop
	var created int64
	if err := sc.Scan(&sh.ID, &sh.Name, &created); err != nil {
		return nil, err
	}
	sh.CreatedAt = fromMicros(created)
	return &sh, nil
}

// GetShop returns a shop by id.
func (s *Store) GetShop(ctx context.Context, id string) (*kessai.Shop, error) {
	return get(ctx, s, "get shop "+id, scanShop, `SELECT id, name, created_at FROM shops WHERE id = ?`, id)
}

// ListShops returns every shop, oldest first.
func (s *Store) ListShops(ctx context.Context) ([]kessai.Shop, error) {
	return list(ctx, s, "list shops", scanShop, `SELECT id, name, created_at FROM shops ORDER BY created_at, id`)
}

// GetSettings returns the shop's settings document, opened, and its
// version.
func (s *Store) GetSettings(ctx context.Context, shopID string) ([]byte, int64, error) {
	const op = "get settings"
	var sealed []byte
	var version int64
	err := s.queryRow(ctx, `SELECT doc, version FROM settings WHERE shop_id = ?`, shopID).Scan(&sealed, &version)
	if err != nil {
		return nil, 0, s.fail(op+" of "+shopID, err)
	}
	doc, err := s.openBytes(sealed)
	if err != nil {
		return nil, 0, err
	}
	if doc == nil {
		doc = []byte{}
	}
	return doc, version, nil
}

// PutSettings stores the sealed document when the stored version is
// expected. The check and the write are one statement — an INSERT that
// does nothing if a row exists, or an UPDATE … WHERE version = expected —
// so two concurrent saves cannot both succeed.
func (s *Store) PutSettings(ctx context.Context, shopID string, doc []byte, expected int64) (int64, error) {
	const op = "put settings"
	if err := need(op, "shop id", shopID); err != nil {
		return 0, err
	}
	// Sealed even when empty, so the column never holds a cleartext
	// document, not even a trivial one.
	sealed, err := s.sealer.Seal(doc)
	if err != nil {
		return 0, s.fail(op, err)
	}
	var n int64
	if expected == 0 {
		n, err = s.execN(ctx, `INSERT INTO settings (shop_id, doc, version) VALUES (?, ?, 1) ON CONFLICT DO NOTHING`, shopID, sealed)
	} else {
		n, err = s.execN(ctx, `UPDATE settings SET doc = ?, version = version + 1 WHERE shop_id = ? AND version = ?`, sealed, shopID, expected)
	}
	if err != nil {
		return 0, s.fail(op, err)
	}
	if n == 0 {
		return 0, conflict(op + " of " + shopID + ": version changed")
	}
	return expected + 1, nil
}

// CreateAPIKey inserts a key; ErrDuplicate when its id or hash exists.
func (s *Store) CreateAPIKey(ctx context.Context, k *kessai.APIKey) error {
	const op = "create API key"
	if err := need(op, "shop id", k.ShopID, "id", k.ID, "hash", k.Hash); err != nil {
		return err
	}
	k.CreatedAt, k.ExpiresAt = norm(k.CreatedAt), normOpt(k.ExpiresAt)
	n, err := s.execN(ctx, `INSERT INTO api_keys (shop_id, id, kind, hint, key_hash, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		k.ShopID, k.ID, string(k.Kind), k.Hint, k.Hash, micros(k.CreatedAt), optMicros(k.ExpiresAt))
	if err != nil {
		return s.fail(op, err)
	}
	if n == 0 {
		return duplicate(op + " " + k.ID)
	}
	return nil
}

const apiKeyCols = `shop_id, id, kind, hint, key_hash, created_at, expires_at`

func scanAPIKey(sc scanner) (*kessai.APIKey, error) {
	var k kessai.APIKey
	var created int64
	var expires sql.NullInt64
	if err := sc.Scan(&k.ShopID, &k.ID, &k.Kind, &k.Hint, &k.Hash, &created, &expires); err != nil {
		return nil, err
	}
	k.CreatedAt, k.ExpiresAt = fromMicros(created), fromOptMicros(expires)
	return &k, nil
}

// FindAPIKey looks a key up by hash, in any shop. Expired keys are
// returned too: whether a key is still usable is the caller's decision
// (APIKey.Active with its clock).
func (s *Store) FindAPIKey(ctx context.Context, hash string) (*kessai.APIKey, error) {
	return get(ctx, s, "find API key", scanAPIKey, `SELECT `+apiKeyCols+` FROM api_keys WHERE key_hash = ?`, hash)
}

// ListAPIKeys returns the shop's keys, oldest first.
func (s *Store) ListAPIKeys(ctx context.Context, shopID string) ([]kessai.APIKey, error) {
	return list(ctx, s, "list API keys", scanAPIKey,
		`SELECT `+apiKeyCols+` FROM api_keys WHERE shop_id = ? ORDER BY created_at, id`, shopID)
}

// ExpireAPIKey sets the key's expiry.
func (s *Store) ExpireAPIKey(ctx context.Context, shopID, id string, at time.Time) error {
	const op = "expire API key"
	n, err := s.execN(ctx, `UPDATE api_keys SET expires_at = ? WHERE shop_id = ? AND id = ?`, optMicros(at), shopID, id)
	if err != nil {
		return s.fail(op, err)
	}
	if n == 0 {
		return notFound(op + " " + id)
	}
	return nil
}
