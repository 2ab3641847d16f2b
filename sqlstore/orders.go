package sqlstore

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/kessai/kessai"
)

const orderCols = `shop_id, id, shop_order_id, amount, currency, items, customer_id, billing, status, return_url, metadata, created_at, updated_at`

// orderJSON encodes the JSON columns of o.
func orderJSON(o *kessai.Order) (items, billing, metadata string, err error) {
	if items, err = toJSON(o.Items); err != nil {
		return
	}
	if billing, err = toJSON(o.Billing); err != nil {
		return
	}
	metadata, err = toJSON(o.Metadata)
	return
}

// nullString stores "" as NULL (used for the optional shop order id, so
// orders without one never collide on the unique key).
func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// CreateOrder inserts an order. ErrDuplicate when the shop already has an
// order with its ID or its (non-empty) ShopOrderID.
func (s *Store) CreateOrder(ctx context.Context, o *kessai.Order) error {
	const op = "create order"
	if err := need(op, "shop id", o.ShopID, "id", o.ID); err != nil {
		return err
	}
	items, billing, metadata, err := orderJSON(o)
	if err != nil {
		return err
	}
	o.CreatedAt, o.UpdatedAt = norm(o.CreatedAt), norm(o.UpdatedAt)
	// ON CONFLICT DO NOTHING rather than catching the unique violation:
	// on PostgreSQL a failed statement aborts the whole transaction, so a
	// caller inside InTx could not go on after ErrDuplicate. Both
	// databases accept the clause without a conflict target.
	n, err := s.execN(ctx, `INSERT INTO orders (`+orderCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		o.ShopID, o.ID, nullString(o.ShopOrderID), o.Amount, o.Currency, items, o.CustomerID, billing,
		string(o.Status), o.ReturnURL, metadata, micros(o.CreatedAt), micros(o.UpdatedAt))
	if err != nil {
		return s.fail(op, err)
	}
	if n == 0 {
		return duplicate(op + " " + o.ID + " (shop order id " + o.ShopOrderID + ")")
	}
	return nil
}

func scanOrder(sc scanner) (*kessai.Order, error) {
	var o kessai.Order
	var shopOrderID sql.NullString
	var items, billing, metadata string
	var created, updated int64
	if err := sc.Scan(&o.ShopID, &o.ID, &shopOrderID, &o.Amount, &o.Currency, &items, &o.CustomerID, &billing,
		&o.Status, &o.ReturnURL, &metadata, &created, &updated); err != nil {
		return nil, err
	}
	o.ShopOrderID = shopOrderID.String
	o.CreatedAt, o.UpdatedAt = fromMicros(created), fromMicros(updated)
	if err := fromJSON(items, &o.Items); err != nil {
		return nil, err
	}
	if err := fromJSON(billing, &o.Billing); err != nil {
		return nil, err
	}
	if err := fromJSON(metadata, &o.Metadata); err != nil {
		return nil, err
	}
	return &o, nil
}

// GetOrder returns an order of the shop.
func (s *Store) GetOrder(ctx context.Context, shopID, id string) (*kessai.Order, error) {
	return get(ctx, s, "get order "+id, scanOrder, `SELECT `+orderCols+` FROM orders WHERE shop_id = ? AND id = ?`, shopID, id)
}

// GetOrderByShopOrderID returns the shop's order with its own order id.
func (s *Store) GetOrderByShopOrderID(ctx context.Context, shopID, shopOrderID string) (*kessai.Order, error) {
	return get(ctx, s, "get order by shop order id "+shopOrderID, scanOrder,
		`SELECT `+orderCols+` FROM orders WHERE shop_id = ? AND shop_order_id = ?`, shopID, shopOrderID)
}

// ListOrders returns a page of the shop's orders, newest first.
//
// Orders are ordered by id: kessai.NewID puts the creation time first, so
// id order is creation order, and the cursor is a plain "id < after" that
// the (shop_id, id) primary key — or the (shop_id, status, id) and
// (shop_id, customer_id, id) indexes when those filters are set — serves
// without sorting. A cursor that no longer exists still works.
func (s *Store) ListOrders(ctx context.Context, shopID string, f kessai.OrderFilter, page kessai.Page) ([]kessai.Order, error) {
	var q strings.Builder
	q.WriteString(`SELECT ` + orderCols + ` FROM orders WHERE shop_id = ?`)
	args := []any{shopID}
	add := func(cond string, v any) {
		q.WriteString(" AND " + cond)
		args = append(args, v)
	}
	if f.Status != "" {
		add("status = ?", string(f.Status))
	}
	if f.CustomerID != "" {
		add("customer_id = ?", f.CustomerID)
	}
	if f.ShopOrderID != "" {
		add("shop_order_id = ?", f.ShopOrderID)
	}
	if !f.CreatedFrom.IsZero() {
		add("created_at >= ?", micros(f.CreatedFrom))
	}
	if !f.CreatedTo.IsZero() {
		add("created_at < ?", micros(f.CreatedTo))
	}
	if f.Method != "" {
		add("EXISTS (SELECT 1 FROM payments p WHERE p.shop_id = orders.shop_id AND p.order_id = orders.id AND p.method = ?)", string(f.Method))
	}
	if page.After != "" {
		add("id < ?", page.After)
	}
	q.WriteString(" ORDER BY id DESC LIMIT ?")
	args = append(args, limit(page))
	return list(ctx, s, "list orders", scanOrder, q.String(), args...)
}

// UpdateOrder writes the mutable fields of an existing order (status,
// items, amount, billing, metadata, updated_at, as kessai.OrderStore
// lists); the other fields are fixed at creation.
func (s *Store) UpdateOrder(ctx context.Context, o *kessai.Order) error {
	const op = "update order"
	items, billing, metadata, err := orderJSON(o)
	if err != nil {
		return err
	}
	o.UpdatedAt = norm(o.UpdatedAt)
	n, err := s.execN(ctx, `UPDATE orders SET status = ?, items = ?, amount = ?, billing = ?, metadata = ?, updated_at = ?
		WHERE shop_id = ? AND id = ?`,
		string(o.Status), items, o.Amount, billing, metadata, micros(o.UpdatedAt), o.ShopID, o.ID)
	if err != nil {
		return s.fail(op, err)
	}
	if n == 0 {
		return notFound(op + " " + o.ID)
	}
	return nil
}

// SetOrderStatus moves an order to status to if its current status is one
// of from (any, when from is empty). The condition is part of the UPDATE,
// so when several callers race, the database lets exactly one of them
// see its condition hold.
func (s *Store) SetOrderStatus(ctx context.Context, shopID, id string, from []kessai.OrderStatus, to kessai.OrderStatus, at time.Time) (bool, error) {
	const op = "set order status"
	query := `UPDATE orders SET status = ?, updated_at = ? WHERE shop_id = ? AND id = ?`
	args := []any{string(to), micros(at), shopID, id}
	if len(from) > 0 {
		query += ` AND status IN (` + placeholders(len(from)) + `)`
		for _, st := range from {
			args = append(args, string(st))
		}
	}
	n, err := s.execN(ctx, query, args...)
	if err != nil {
		return false, s.fail(op, err)
	}
	if n > 0 {
		return true, nil
	}
	ok, err := s.exists(ctx, `SELECT 1 FROM orders WHERE shop_id = ? AND id = ?`, shopID, id)
	if err != nil {
		return false, s.fail(op, err)
	}
	if !ok {
		return false, notFound(op + " " + id)
	}
	return false, nil
}
