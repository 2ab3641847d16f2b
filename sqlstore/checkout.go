package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/kessai/kessai"
)

const sessionCols = `shop_id, id, kind, order_id, payment_id, customer_id, merchant_free1, data, created_at, expires_at, consumed_at`

// CreateCheckoutSession inserts a session with its data sealed:
// ErrDuplicate when the id or the shop's MerchantFree1 exists.
func (s *Store) CreateCheckoutSession(ctx context.Context, c *kessai.CheckoutSession) error {
	const op = "create checkout session"
	if err := need(op, "shop id", c.ShopID, "id", c.ID, "kind", string(c.Kind), "merchant free1", c.MerchantFree1); err != nil {
		return err
	}
	data, err := s.sealBytes(c.Data)
	if err != nil {
		return err
	}
	c.CreatedAt, c.ExpiresAt, c.ConsumedAt = norm(c.CreatedAt), norm(c.ExpiresAt), normOpt(c.ConsumedAt)
	n, err := s.execN(ctx, `INSERT INTO checkout_sessions (`+sessionCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		c.ShopID, c.ID, string(c.Kind), c.OrderID, c.PaymentID, c.CustomerID, c.MerchantFree1, data,
		micros(c.CreatedAt), micros(c.ExpiresAt), optMicros(c.ConsumedAt))
	if err != nil {
		return s.fail(op, err)
	}
	if n == 0 {
		return duplicate(op + " " + c.ID)
	}
	return nil
}

func (s *Store) scanSession(sc scanner) (*kessai.CheckoutSession, error) {
	var c kessai.CheckoutSession
	var data []byte
	var created, expires int64
	var consumed sql.NullInt64
	if err := sc.Scan(&c.ShopID, &c.ID, &c.Kind, &c.OrderID, &c.PaymentID, &c.CustomerID, &c.MerchantFree1, &data,
		&created, &expires, &consumed); err != nil {
		return nil, err
	}
	var err error
	if c.Data, err = s.openBytes(data); err != nil {
		return nil, err
	}
	c.CreatedAt, c.ExpiresAt, c.ConsumedAt = fromMicros(created), fromMicros(expires), fromOptMicros(consumed)
	return &c, nil
}

// GetCheckoutSession returns a session by id.
func (s *Store) GetCheckoutSession(ctx context.Context, shopID, id string) (*kessai.CheckoutSession, error) {
	return get(ctx, s, "get checkout session "+id, s.scanSession,
		`SELECT `+sessionCols+` FROM checkout_sessions WHERE shop_id = ? AND id = ?`, shopID, id)
}

// FindCheckoutSession returns the session of a MerchantFree1.
func (s *Store) FindCheckoutSession(ctx context.Context, shopID, code string) (*kessai.CheckoutSession, error) {
	return get(ctx, s, "find checkout session", s.scanSession,
		`SELECT `+sessionCols+` FROM checkout_sessions WHERE shop_id = ? AND merchant_free1 = ?`, shopID, code)
}

// ConsumeCheckoutSession marks a session used; the condition is in the
// UPDATE, so of two concurrent returns exactly one succeeds and the other
// gets ErrConflict.
func (s *Store) ConsumeCheckoutSession(ctx context.Context, shopID, id string, at time.Time) error {
	const op = "consume checkout session"
	n, err := s.execN(ctx, `UPDATE checkout_sessions SET consumed_at = ? WHERE shop_id = ? AND id = ? AND consumed_at IS NULL`,
		micros(at), shopID, id)
	if err != nil {
		return s.fail(op, err)
	}
	if n == 1 {
		return nil
	}
	ok, err := s.exists(ctx, `SELECT 1 FROM checkout_sessions WHERE shop_id = ? AND id = ?`, shopID, id)
	if err != nil {
		return s.fail(op, err)
	}
	if !ok {
		return notFound(op + " " + id)
	}
	return conflict(op + " " + id + ": already consumed")
}

// ListOpenCheckoutSessions lists an order's unconsumed sessions, oldest
// first.
func (s *Store) ListOpenCheckoutSessions(ctx context.Context, shopID, orderID string) ([]kessai.CheckoutSession, error) {
	return list(ctx, s, "list open checkout sessions", s.scanSession,
		`SELECT `+sessionCols+` FROM checkout_sessions WHERE shop_id = ? AND order_id = ? AND consumed_at IS NULL ORDER BY id`,
		shopID, orderID)
}

// PurgeCheckoutSessions deletes the sessions that expired before the
// given time.
func (s *Store) PurgeCheckoutSessions(ctx context.Context, before time.Time) (int64, error) {
	n, err := s.execN(ctx, `DELETE FROM checkout_sessions WHERE expires_at < ?`, micros(before))
	if err != nil {
		return 0, s.fail("purge checkout sessions", err)
	}
	return n, nil
}
