package sqlstore

import (
	"context"

	"github.com/kessai/kessai"
)

// PutMember creates the customer's card member or replaces its KaiinId,
// KaiinPass and UpdatedAt; a replaced member keeps its CreatedAt (and the
// value given is updated to it). KaiinPass is sealed.
func (s *Store) PutMember(ctx context.Context, m *kessai.Member) error {
	const op = "put member"
	if err := need(op, "shop id", m.ShopID, "customer id", m.CustomerID); err != nil {
		return err
	}
	pass, err := s.seal(m.KaiinPass)
	if err != nil {
		return err
	}
	m.CreatedAt, m.UpdatedAt = norm(m.CreatedAt), norm(m.UpdatedAt)
	var created int64
	err = s.queryRow(ctx, `INSERT INTO members (shop_id, customer_id, kaiin_id, kaiin_pass, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (shop_id, customer_id) DO UPDATE SET
			kaiin_id = excluded.kaiin_id, kaiin_pass = excluded.kaiin_pass, updated_at = excluded.updated_at
		RETURNING created_at`,
		m.ShopID, m.CustomerID, m.KaiinID, pass, micros(m.CreatedAt), micros(m.UpdatedAt)).Scan(&created)
	if err != nil {
		return s.fail(op+" of "+m.CustomerID, err)
	}
	m.CreatedAt = fromMicros(created)
	return nil
}

func (s *Store) scanMember(sc scanner) (*kessai.Member, error) {
	var m kessai.Member
	var pass []byte
	var created, updated int64
	if err := sc.Scan(&m.ShopID, &m.CustomerID, &m.KaiinID, &pass, &created, &updated); err != nil {
		return nil, err
	}
	var err error
	if m.KaiinPass, err = s.open(pass); err != nil {
		return nil, err
	}
	m.CreatedAt, m.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &m, nil
}

// GetMember returns the customer's card member.
func (s *Store) GetMember(ctx context.Context, shopID, customerID string) (*kessai.Member, error) {
	return get(ctx, s, "get member of "+customerID, s.scanMember,
		`SELECT shop_id, customer_id, kaiin_id, kaiin_pass, created_at, updated_at FROM members WHERE shop_id = ? AND customer_id = ?`,
		shopID, customerID)
}

// DeleteMember deletes the customer's card member; ErrNotFound when there
// is none.
func (s *Store) DeleteMember(ctx context.Context, shopID, customerID string) error {
	const op = "delete member"
	n, err := s.execN(ctx, `DELETE FROM members WHERE shop_id = ? AND customer_id = ?`, shopID, customerID)
	if err != nil {
		return s.fail(op, err)
	}
	if n == 0 {
		return notFound(op + " of " + customerID)
	}
	return nil
}
