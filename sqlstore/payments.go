package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/kessai/kessai"
)

const paymentCols = `shop_id, id, order_id, method, state, amount, fee, currency, transaction_code, operation, pay_type,
	process_id, process_pass, with_member, customer_id, free_area, pay_limit, paid_at, cvs_cd, failure_codes, created_at, updated_at,
	secure_result_code, consent`

// CreatePayment inserts a payment of an existing order: ErrNotFound when
// the shop has no such order, ErrDuplicate when the id exists.
// ProcessPass is sealed.
func (s *Store) CreatePayment(ctx context.Context, p *kessai.Payment) error {
	const op = "create payment"
	if err := need(op, "shop id", p.ShopID, "id", p.ID, "order id", p.OrderID); err != nil {
		return err
	}
	pass, err := s.seal(p.ProcessPass)
	if err != nil {
		return err
	}
	codes, err := toJSON(p.FailureCodes)
	if err != nil {
		return err
	}
	p.CreatedAt, p.UpdatedAt, p.PaidAt = norm(p.CreatedAt), norm(p.UpdatedAt), normOpt(p.PaidAt)
	n, err := s.execN(ctx, `INSERT INTO payments (`+paymentCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		p.ShopID, p.ID, p.OrderID, string(p.Method), string(p.State), p.Amount, p.Fee, p.Currency, p.TransactionCode,
		string(p.Operation), string(p.PayType), p.ProcessID, pass, p.WithMember, p.CustomerID, p.FreeArea, p.PayLimit,
		optMicros(p.PaidAt), p.CvsCd, codes, micros(p.CreatedAt), micros(p.UpdatedAt), p.SecureResultCode, p.Consent)
	if err != nil {
		return s.fail(op+" of order "+p.OrderID, err)
	}
	if n == 0 {
		// The id exists, or the order already has an active payment
		// (index payments_one_active).
		return duplicate(op + " " + p.ID + " (or the order has an active payment)")
	}
	return nil
}

func (s *Store) scanPayment(sc scanner) (*kessai.Payment, error) {
	var p kessai.Payment
	var pass []byte
	var paid sql.NullInt64
	var codes string
	var created, updated int64
	if err := sc.Scan(&p.ShopID, &p.ID, &p.OrderID, &p.Method, &p.State, &p.Amount, &p.Fee, &p.Currency,
		&p.TransactionCode, &p.Operation, &p.PayType, &p.ProcessID, &pass, &p.WithMember, &p.CustomerID,
		&p.FreeArea, &p.PayLimit, &paid, &p.CvsCd, &codes, &created, &updated, &p.SecureResultCode, &p.Consent); err != nil {
		return nil, err
	}
	var err error
	if p.ProcessPass, err = s.open(pass); err != nil {
		return nil, err
	}
	if err := fromJSON(codes, &p.FailureCodes); err != nil {
		return nil, err
	}
	p.PaidAt, p.CreatedAt, p.UpdatedAt = fromOptMicros(paid), fromMicros(created), fromMicros(updated)
	return &p, nil
}

// GetPayment returns a payment of the shop.
func (s *Store) GetPayment(ctx context.Context, shopID, id string) (*kessai.Payment, error) {
	return get(ctx, s, "get payment "+id, s.scanPayment,
		`SELECT `+paymentCols+` FROM payments WHERE shop_id = ? AND id = ?`, shopID, id)
}

// FindPaymentByTransactionCode returns the payment whose current
// MerchantFree1 is code; should a code ever be on several payments, the
// newest wins.
func (s *Store) FindPaymentByTransactionCode(ctx context.Context, shopID, code string) (*kessai.Payment, error) {
	return get(ctx, s, "find payment by transaction code "+code, s.scanPayment,
		`SELECT `+paymentCols+` FROM payments WHERE shop_id = ? AND transaction_code = ? ORDER BY id DESC LIMIT 1`, shopID, code)
}

// FindPaymentByProcessID finds the newest payment holding a ProcessId.
// Only operators resolving an unknown payment ask, rarely, so the scan
// of the shop's payments is preferred over an index every insert pays.
func (s *Store) FindPaymentByProcessID(ctx context.Context, shopID, processID string) (*kessai.Payment, error) {
	return get(ctx, s, "find payment by process id", s.scanPayment,
		`SELECT `+paymentCols+` FROM payments WHERE shop_id = ? AND process_id = ? AND process_id <> '' ORDER BY id DESC LIMIT 1`,
		shopID, processID)
}

// ListPayments returns an order's payments, oldest first.
func (s *Store) ListPayments(ctx context.Context, shopID, orderID string) ([]kessai.Payment, error) {
	return list(ctx, s, "list payments", s.scanPayment,
		`SELECT `+paymentCols+` FROM payments WHERE shop_id = ? AND order_id = ? ORDER BY id`, shopID, orderID)
}

// ListPaymentsByState returns a page of the shop's payments in a state,
// oldest first (by id, i.e. creation); page.After is the last id seen.
func (s *Store) ListPaymentsByState(ctx context.Context, shopID string, state kessai.PaymentState, page kessai.Page) ([]kessai.Payment, error) {
	return list(ctx, s, "list payments by state", s.scanPayment,
		`SELECT `+paymentCols+` FROM payments WHERE shop_id = ? AND state = ? AND id > ? ORDER BY id LIMIT ?`,
		shopID, string(state), page.After, limit(page))
}

// ListCustomerPayments returns a customer's payments created at or after
// since, newest first.
func (s *Store) ListCustomerPayments(ctx context.Context, shopID, customerID string, since time.Time) ([]kessai.Payment, error) {
	return list(ctx, s, "list customer payments", s.scanPayment,
		`SELECT `+paymentCols+` FROM payments WHERE shop_id = ? AND customer_id = ? AND created_at >= ? ORDER BY created_at DESC, id DESC`,
		shopID, customerID, micros(since))
}

// UpdatePayment writes every field of an existing payment but its order,
// method, currency and creation time.
func (s *Store) UpdatePayment(ctx context.Context, p *kessai.Payment) error {
	const op = "update payment"
	pass, err := s.seal(p.ProcessPass)
	if err != nil {
		return err
	}
	codes, err := toJSON(p.FailureCodes)
	if err != nil {
		return err
	}
	p.UpdatedAt, p.PaidAt = norm(p.UpdatedAt), normOpt(p.PaidAt)
	n, err := s.execN(ctx, `UPDATE payments SET state = ?, amount = ?, fee = ?, transaction_code = ?, operation = ?,
		pay_type = ?, process_id = ?, process_pass = ?, with_member = ?, customer_id = ?, free_area = ?, pay_limit = ?,
		paid_at = ?, cvs_cd = ?, failure_codes = ?, updated_at = ?, secure_result_code = ?, consent = ?
		WHERE shop_id = ? AND id = ?`,
		string(p.State), p.Amount, p.Fee, p.TransactionCode, string(p.Operation), string(p.PayType), p.ProcessID, pass,
		p.WithMember, p.CustomerID, p.FreeArea, p.PayLimit, optMicros(p.PaidAt), p.CvsCd, codes, micros(p.UpdatedAt),
		p.SecureResultCode, p.Consent, p.ShopID, p.ID)
	if err != nil {
		return s.fail(op, err)
	}
	if n == 0 {
		return notFound(op + " " + p.ID)
	}
	return nil
}

const attemptCols = `shop_id, id, payment_id, operation, merchant_free1, amount, status, codes, resolution, created_at, finished_at`

// CreateAttempt records the intent of a gateway call, before the call:
// ErrNotFound when the payment does not exist, ErrDuplicate when the id
// does.
func (s *Store) CreateAttempt(ctx context.Context, a *kessai.Attempt) error {
	const op = "create attempt"
	if err := need(op, "shop id", a.ShopID, "id", a.ID, "payment id", a.PaymentID); err != nil {
		return err
	}
	codes, err := toJSON(a.Codes)
	if err != nil {
		return err
	}
	a.CreatedAt, a.FinishedAt = norm(a.CreatedAt), normOpt(a.FinishedAt)
	n, err := s.execN(ctx, `INSERT INTO attempts (`+attemptCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		a.ShopID, a.ID, a.PaymentID, string(a.Operation), a.MerchantFree1, a.Amount, string(a.Status), codes,
		a.Resolution, micros(a.CreatedAt), optMicros(a.FinishedAt))
	if err != nil {
		return s.fail(op+" of payment "+a.PaymentID, err)
	}
	if n == 0 {
		return duplicate(op + " " + a.ID)
	}
	return nil
}

// FinishAttempt records an attempt's outcome (status, codes, resolution,
// finished_at, and the operation and MerchantFree1 when set: a link-type
// checkout learns from the return which call the gateway made) if it is
// still pending or unknown; otherwise ErrConflict.
// The status check is in the UPDATE itself, so of two callers finishing
// the same attempt at once exactly one succeeds.
func (s *Store) FinishAttempt(ctx context.Context, a *kessai.Attempt) error {
	const op = "finish attempt"
	codes, err := toJSON(a.Codes)
	if err != nil {
		return err
	}
	a.FinishedAt = normOpt(a.FinishedAt)
	n, err := s.execN(ctx, `UPDATE attempts SET status = ?, codes = ?, resolution = ?, finished_at = ?,
		operation = COALESCE(NULLIF(?, ''), operation), merchant_free1 = COALESCE(NULLIF(?, ''), merchant_free1)
		WHERE shop_id = ? AND id = ? AND status IN (?, ?)`,
		string(a.Status), codes, a.Resolution, optMicros(a.FinishedAt), string(a.Operation), a.MerchantFree1, a.ShopID, a.ID,
		string(kessai.AttemptPending), string(kessai.AttemptUnknown))
	if err != nil {
		return s.fail(op, err)
	}
	if n > 0 {
		return nil
	}
	ok, err := s.exists(ctx, `SELECT 1 FROM attempts WHERE shop_id = ? AND id = ?`, a.ShopID, a.ID)
	if err != nil {
		return s.fail(op, err)
	}
	if !ok {
		return notFound(op + " " + a.ID)
	}
	return conflict(op + " " + a.ID + ": already finished")
}

func scanAttempt(sc scanner) (*kessai.Attempt, error) {
	var a kessai.Attempt
	var codes string
	var created int64
	var finished sql.NullInt64
	if err := sc.Scan(&a.ShopID, &a.ID, &a.PaymentID, &a.Operation, &a.MerchantFree1, &a.Amount, &a.Status, &codes,
		&a.Resolution, &created, &finished); err != nil {
		return nil, err
	}
	if err := fromJSON(codes, &a.Codes); err != nil {
		return nil, err
	}
	a.CreatedAt, a.FinishedAt = fromMicros(created), fromOptMicros(finished)
	return &a, nil
}

// GetAttempt returns an attempt of the shop.
func (s *Store) GetAttempt(ctx context.Context, shopID, id string) (*kessai.Attempt, error) {
	return get(ctx, s, "get attempt "+id, scanAttempt, `SELECT `+attemptCols+` FROM attempts WHERE shop_id = ? AND id = ?`, shopID, id)
}

// ListAttempts returns a payment's attempts, oldest first.
func (s *Store) ListAttempts(ctx context.Context, shopID, paymentID string) ([]kessai.Attempt, error) {
	return list(ctx, s, "list attempts", scanAttempt,
		`SELECT `+attemptCols+` FROM attempts WHERE shop_id = ? AND payment_id = ? ORDER BY id`, shopID, paymentID)
}

// ListAttemptsByStatus returns a page of the shop's attempts in a status,
// oldest first; page.After is the last id seen.
func (s *Store) ListAttemptsByStatus(ctx context.Context, shopID string, status kessai.AttemptStatus, page kessai.Page) ([]kessai.Attempt, error) {
	return list(ctx, s, "list attempts by status", scanAttempt,
		`SELECT `+attemptCols+` FROM attempts WHERE shop_id = ? AND status = ? AND id > ? ORDER BY id LIMIT ?`,
		shopID, string(status), page.After, limit(page))
}

const historyCols = `shop_id, id, payment_id, happened_at, transaction_id, operation, response_cd, amount, fields`

// AppendHistory adds a row to a payment's operation history: ErrNotFound
// when the payment does not exist, ErrDuplicate when the id does.
func (s *Store) AppendHistory(ctx context.Context, h *kessai.HistoryEntry) error {
	const op = "append history"
	if err := need(op, "shop id", h.ShopID, "id", h.ID, "payment id", h.PaymentID); err != nil {
		return err
	}
	fields, err := toJSON(h.Fields)
	if err != nil {
		return err
	}
	h.At = norm(h.At)
	n, err := s.execN(ctx, `INSERT INTO payment_history (`+historyCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		h.ShopID, h.ID, h.PaymentID, micros(h.At), h.TransactionID, string(h.Operation), h.ResponseCd, h.Amount, fields)
	if err != nil {
		return s.fail(op+" of payment "+h.PaymentID, err)
	}
	if n == 0 {
		return duplicate(op + " " + h.ID)
	}
	return nil
}

func scanHistory(sc scanner) (*kessai.HistoryEntry, error) {
	var h kessai.HistoryEntry
	var at int64
	var fields string
	if err := sc.Scan(&h.ShopID, &h.ID, &h.PaymentID, &at, &h.TransactionID, &h.Operation, &h.ResponseCd, &h.Amount, &fields); err != nil {
		return nil, err
	}
	h.At = fromMicros(at)
	return &h, fromJSON(fields, &h.Fields)
}

// ListHistory returns a payment's history, oldest first (by time, then
// id for entries of the same microsecond).
func (s *Store) ListHistory(ctx context.Context, shopID, paymentID string) ([]kessai.HistoryEntry, error) {
	return list(ctx, s, "list history", scanHistory,
		`SELECT `+historyCols+` FROM payment_history WHERE shop_id = ? AND payment_id = ? ORDER BY happened_at, id`, shopID, paymentID)
}
