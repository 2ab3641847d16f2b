package sqlstore

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/kessai/kessai"
)

const subscriptionCols = `shop_id, id, customer_id, description, amount, currency, virtual, status, interval_unit, interval_count,
	anchor_day, start_at, trial_end, end_at, max_payments, first_billing_at, period, paid, failures, hold, next_attempt_at,
	cancel_at, cancel_at_period_end, unconfirmed, wake_at, initial_order_id, metadata, created_at, updated_at`

// normSubscription rounds the times of s as the database stores them.
func normSubscription(s *kessai.Subscription) {
	s.StartAt, s.First, s.CreatedAt, s.UpdatedAt = norm(s.StartAt), norm(s.First), norm(s.CreatedAt), norm(s.UpdatedAt)
	s.TrialEnd, s.EndAt, s.NextAttempt = normOpt(s.TrialEnd), normOpt(s.EndAt), normOpt(s.NextAttempt)
	s.CancelAt, s.WakeAt = normOpt(s.CancelAt), normOpt(s.WakeAt)
}

// CreateSubscription inserts a subscription; ErrDuplicate for an existing
// id.
func (s *Store) CreateSubscription(ctx context.Context, sub *kessai.Subscription) error {
	const op = "create subscription"
	if err := need(op, "shop id", sub.ShopID, "id", sub.ID, "customer id", sub.CustomerID); err != nil {
		return err
	}
	meta, err := toJSON(sub.Metadata)
	if err != nil {
		return err
	}
	normSubscription(sub)
	n, err := s.execN(ctx, `INSERT INTO subscriptions (`+subscriptionCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		sub.ShopID, sub.ID, sub.CustomerID, sub.Description, sub.Amount, sub.Currency, sub.Virtual, sub.Status,
		sub.IntervalUnit, sub.IntervalCount, sub.AnchorDay, micros(sub.StartAt), optMicros(sub.TrialEnd), optMicros(sub.EndAt),
		sub.MaxPayments, micros(sub.First), sub.Period, sub.Paid, sub.Failures, sub.Hold, optMicros(sub.NextAttempt),
		optMicros(sub.CancelAt), sub.CancelAtPeriodEnd, sub.Unconfirmed, optMicros(sub.WakeAt), sub.InitialOrderID, meta,
		micros(sub.CreatedAt), micros(sub.UpdatedAt))
	if err != nil {
		return s.fail(op, err)
	}
	if n == 0 {
		return duplicate(op + " " + sub.ID)
	}
	return nil
}

func scanSubscription(sc scanner) (*kessai.Subscription, error) {
	var sub kessai.Subscription
	var meta string
	var start, first, created, updated int64
	var trial, end, next, cancel, wake sql.NullInt64
	if err := sc.Scan(&sub.ShopID, &sub.ID, &sub.CustomerID, &sub.Description, &sub.Amount, &sub.Currency, &sub.Virtual,
		&sub.Status, &sub.IntervalUnit, &sub.IntervalCount, &sub.AnchorDay, &start, &trial, &end, &sub.MaxPayments, &first,
		&sub.Period, &sub.Paid, &sub.Failures, &sub.Hold, &next, &cancel, &sub.CancelAtPeriodEnd, &sub.Unconfirmed, &wake,
		&sub.InitialOrderID, &meta, &created, &updated); err != nil {
		return nil, err
	}
	if err := fromJSON(meta, &sub.Metadata); err != nil {
		return nil, err
	}
	sub.StartAt, sub.First, sub.CreatedAt, sub.UpdatedAt = fromMicros(start), fromMicros(first), fromMicros(created), fromMicros(updated)
	sub.TrialEnd, sub.EndAt, sub.NextAttempt = fromOptMicros(trial), fromOptMicros(end), fromOptMicros(next)
	sub.CancelAt, sub.WakeAt = fromOptMicros(cancel), fromOptMicros(wake)
	return &sub, nil
}

// GetSubscription returns a subscription of the shop.
func (s *Store) GetSubscription(ctx context.Context, shopID, id string) (*kessai.Subscription, error) {
	return get(ctx, s, "get subscription "+id, scanSubscription,
		`SELECT `+subscriptionCols+` FROM subscriptions WHERE shop_id = ? AND id = ?`, shopID, id)
}

// ListSubscriptions lists the shop's subscriptions newest first.
func (s *Store) ListSubscriptions(ctx context.Context, shopID string, f kessai.SubscriptionFilter, page kessai.Page) ([]kessai.Subscription, error) {
	var q strings.Builder
	q.WriteString(`SELECT ` + subscriptionCols + ` FROM subscriptions WHERE shop_id = ?`)
	args := []any{shopID}
	if f.Status != "" {
		q.WriteString(" AND status = ?")
		args = append(args, f.Status)
	}
	if f.CustomerID != "" {
		q.WriteString(" AND customer_id = ?")
		args = append(args, f.CustomerID)
	}
	if page.After != "" {
		q.WriteString(" AND id < ?")
		args = append(args, page.After)
	}
	q.WriteString(" ORDER BY id DESC LIMIT ?")
	args = append(args, limit(page))
	return list(ctx, s, "list subscriptions", scanSubscription, q.String(), args...)
}

// UpdateSubscription writes the mutable fields if updated_at is still
// expected: the compare-and-set that keeps two writers from overwriting
// each other.
func (s *Store) UpdateSubscription(ctx context.Context, sub *kessai.Subscription, expected time.Time) error {
	const op = "update subscription"
	meta, err := toJSON(sub.Metadata)
	if err != nil {
		return err
	}
	if micros(sub.UpdatedAt) <= micros(expected) {
		// updated_at is the compare-and-set token: were it written
		// unchanged (a frozen or coarse clock), a second writer holding
		// the same version would match the new row too and both would
		// win.
		sub.UpdatedAt = fromMicros(micros(expected) + 1)
	}
	normSubscription(sub)
	n, err := s.execN(ctx, `UPDATE subscriptions SET description = ?, amount = ?, virtual = ?, status = ?, interval_unit = ?,
		interval_count = ?, anchor_day = ?, trial_end = ?, end_at = ?, max_payments = ?, first_billing_at = ?, period = ?,
		paid = ?, failures = ?, hold = ?, next_attempt_at = ?, cancel_at = ?, cancel_at_period_end = ?, unconfirmed = ?,
		wake_at = ?, metadata = ?, updated_at = ?
		WHERE shop_id = ? AND id = ? AND updated_at = ?`,
		sub.Description, sub.Amount, sub.Virtual, sub.Status, sub.IntervalUnit, sub.IntervalCount, sub.AnchorDay,
		optMicros(sub.TrialEnd), optMicros(sub.EndAt), sub.MaxPayments, micros(sub.First), sub.Period, sub.Paid,
		sub.Failures, sub.Hold, optMicros(sub.NextAttempt), optMicros(sub.CancelAt), sub.CancelAtPeriodEnd,
		sub.Unconfirmed, optMicros(sub.WakeAt), meta, micros(sub.UpdatedAt), sub.ShopID, sub.ID, micros(expected))
	if err != nil {
		return s.fail(op, err)
	}
	if n == 0 {
		ok, err := s.exists(ctx, `SELECT 1 FROM subscriptions WHERE shop_id = ? AND id = ?`, sub.ShopID, sub.ID)
		if err != nil {
			return s.fail(op, err)
		}
		if !ok {
			return notFound(op + " " + sub.ID)
		}
		return conflict(op + " " + sub.ID)
	}
	return nil
}

// ListSubscriptionsToWake is the renewal engine's queue, across shops.
func (s *Store) ListSubscriptionsToWake(ctx context.Context, now time.Time, n int) ([]kessai.Subscription, error) {
	return list(ctx, s, "list subscriptions to wake", scanSubscription,
		`SELECT `+subscriptionCols+` FROM subscriptions WHERE wake_at IS NOT NULL AND wake_at <= ?
		ORDER BY wake_at, shop_id, id LIMIT ?`, micros(now), limit(kessai.Page{Limit: n}))
}

// CountCustomerSubscriptions counts a customer's subscriptions in the
// statuses.
func (s *Store) CountCustomerSubscriptions(ctx context.Context, shopID, customerID string, statuses []string) (int, error) {
	if len(statuses) == 0 {
		return 0, nil
	}
	args := []any{shopID, customerID}
	for _, st := range statuses {
		args = append(args, st)
	}
	var n int
	err := s.queryRow(ctx, `SELECT COUNT(*) FROM subscriptions WHERE shop_id = ? AND customer_id = ? AND status IN (`+
		placeholders(len(statuses))+`)`, args...).Scan(&n)
	if err != nil {
		return 0, s.fail("count customer subscriptions", err)
	}
	return n, nil
}

const renewalCols = `shop_id, subscription_id, period, order_id, status, attempts, codes, due_at, created_at, updated_at`

// CreateRenewal inserts a period's renewal; ErrDuplicate when the period
// (or the order) has one already, ErrNotFound when the subscription or
// the order does not exist.
func (s *Store) CreateRenewal(ctx context.Context, r *kessai.Renewal) error {
	const op = "create renewal"
	if err := need(op, "shop id", r.ShopID, "subscription id", r.SubscriptionID, "order id", r.OrderID); err != nil {
		return err
	}
	codes, err := toJSON(r.Codes)
	if err != nil {
		return err
	}
	r.DueAt, r.CreatedAt, r.UpdatedAt = norm(r.DueAt), norm(r.CreatedAt), norm(r.UpdatedAt)
	n, err := s.execN(ctx, `INSERT INTO subscription_renewals (`+renewalCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		r.ShopID, r.SubscriptionID, r.Period, r.OrderID, r.Status, r.Attempts, codes, micros(r.DueAt), micros(r.CreatedAt),
		micros(r.UpdatedAt))
	if err != nil {
		return s.fail(op+" of "+r.SubscriptionID, err)
	}
	if n == 0 {
		return duplicate(op + " of " + r.SubscriptionID)
	}
	return nil
}

func scanRenewal(sc scanner) (*kessai.Renewal, error) {
	var r kessai.Renewal
	var codes string
	var due, created, updated int64
	if err := sc.Scan(&r.ShopID, &r.SubscriptionID, &r.Period, &r.OrderID, &r.Status, &r.Attempts, &codes, &due, &created,
		&updated); err != nil {
		return nil, err
	}
	if err := fromJSON(codes, &r.Codes); err != nil {
		return nil, err
	}
	r.DueAt, r.CreatedAt, r.UpdatedAt = fromMicros(due), fromMicros(created), fromMicros(updated)
	return &r, nil
}

// GetRenewal returns the renewal of a period.
func (s *Store) GetRenewal(ctx context.Context, shopID, subscriptionID string, period int) (*kessai.Renewal, error) {
	return get(ctx, s, "get renewal of "+subscriptionID, scanRenewal,
		`SELECT `+renewalCols+` FROM subscription_renewals WHERE shop_id = ? AND subscription_id = ? AND period = ?`,
		shopID, subscriptionID, period)
}

// FindRenewalByOrder returns the renewal charged by an order.
func (s *Store) FindRenewalByOrder(ctx context.Context, shopID, orderID string) (*kessai.Renewal, error) {
	return get(ctx, s, "find renewal of order "+orderID, scanRenewal,
		`SELECT `+renewalCols+` FROM subscription_renewals WHERE shop_id = ? AND order_id = ?`, shopID, orderID)
}

// UpdateRenewal writes a renewal's status, attempts, codes and updated_at.
func (s *Store) UpdateRenewal(ctx context.Context, r *kessai.Renewal) error {
	const op = "update renewal"
	codes, err := toJSON(r.Codes)
	if err != nil {
		return err
	}
	r.UpdatedAt = norm(r.UpdatedAt)
	n, err := s.execN(ctx, `UPDATE subscription_renewals SET status = ?, attempts = ?, codes = ?, updated_at = ?
		WHERE shop_id = ? AND subscription_id = ? AND period = ?`,
		r.Status, r.Attempts, codes, micros(r.UpdatedAt), r.ShopID, r.SubscriptionID, r.Period)
	if err != nil {
		return s.fail(op, err)
	}
	if n == 0 {
		return notFound(op + " of " + r.SubscriptionID)
	}
	return nil
}

// ListRenewals lists a subscription's renewals, newest period first.
func (s *Store) ListRenewals(ctx context.Context, shopID, subscriptionID string) ([]kessai.Renewal, error) {
	return list(ctx, s, "list renewals", scanRenewal,
		`SELECT `+renewalCols+` FROM subscription_renewals WHERE shop_id = ? AND subscription_id = ? ORDER BY period DESC`,
		shopID, subscriptionID)
}
