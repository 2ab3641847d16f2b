package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/kessai/kessai"
)

// The console's read models: lists and aggregates that only the admin
// console asks for. They read the same tables as the rest of the store.

// maxOrdersPerBatch bounds ListPaymentsOfOrders (one IN list).
const maxOrdersPerBatch = 200

// ListPaymentsOfOrders returns every payment of the given orders, oldest
// first, in one query.
func (s *Store) ListPaymentsOfOrders(ctx context.Context, shopID string, orderIDs []string) ([]kessai.Payment, error) {
	if len(orderIDs) == 0 {
		return nil, nil
	}
	if len(orderIDs) > maxOrdersPerBatch {
		return nil, fmt.Errorf("sqlstore: list payments of orders: %d orders, at most %d", len(orderIDs), maxOrdersPerBatch)
	}
	args := make([]any, 0, len(orderIDs)+1)
	args = append(args, shopID)
	for _, id := range orderIDs {
		args = append(args, id)
	}
	return list(ctx, s, "list payments of orders", s.scanPayment,
		`SELECT `+paymentCols+` FROM payments WHERE shop_id = ? AND order_id IN (`+placeholders(len(orderIDs))+`) ORDER BY id`, args...)
}

// ListAttemptLog lists attempts newest first with the filter's conditions.
// A code is matched inside the JSON array of codes as the quoted string
// (so K71 does not match K710). The test is "removing the string changes
// the text": REPLACE is case-sensitive on both databases, where LIKE is
// not (SQLite's LIKE ignores ASCII case, PostgreSQL's does not), so a
// lower-case "k71" finds nothing on either, as gateway codes are upper
// case. Codes are short alphanumerics; anything else is refused.
func (s *Store) ListAttemptLog(ctx context.Context, shopID string, f kessai.AttemptFilter, page kessai.Page) ([]kessai.Attempt, error) {
	var q strings.Builder
	q.WriteString(`SELECT ` + attemptCols + ` FROM attempts WHERE shop_id = ?`)
	args := []any{shopID}
	add := func(cond string, v any) {
		q.WriteString(" AND " + cond)
		args = append(args, v)
	}
	if f.Status != "" {
		add("status = ?", string(f.Status))
	}
	if f.Code != "" {
		if !codeChars(f.Code) {
			return nil, fmt.Errorf("sqlstore: list attempt log: code %q is not alphanumeric", f.Code)
		}
		add("REPLACE(codes, ?, '') <> codes", `"`+f.Code+`"`)
	}
	if f.MerchantFree1 != "" {
		add("merchant_free1 = ?", f.MerchantFree1)
	}
	if f.PaymentID != "" {
		add("payment_id = ?", f.PaymentID)
	}
	if f.Operation != "" {
		add("operation = ?", string(f.Operation))
	}
	if !f.CreatedFrom.IsZero() {
		add("created_at >= ?", micros(f.CreatedFrom))
	}
	if !f.CreatedTo.IsZero() {
		add("created_at < ?", micros(f.CreatedTo))
	}
	if page.After != "" {
		add("id < ?", page.After)
	}
	q.WriteString(" ORDER BY id DESC LIMIT ?")
	args = append(args, limit(page))
	return list(ctx, s, "list attempt log", scanAttempt, q.String(), args...)
}

func codeChars(c string) bool {
	if len(c) > 16 {
		return false
	}
	for i := 0; i < len(c); i++ {
		b := c[i]
		if !('0' <= b && b <= '9' || 'A' <= b && b <= 'Z' || 'a' <= b && b <= 'z') {
			return false
		}
	}
	return true
}

const microsPerDay = int64(24 * time.Hour / time.Microsecond)

// PaymentStats groups payments by day, method and state in the database.
// Times are integer microseconds (see the package comment), so the day is
// an integer division after shifting by the zone's offset, identical on
// both databases. The offset is the zone's at from: right for Asia/Tokyo,
// which has no daylight saving time.
func (s *Store) PaymentStats(ctx context.Context, shopID string, from, to time.Time, loc *time.Location) ([]kessai.PaymentStat, error) {
	const op = "payment stats"
	if loc == nil {
		loc = time.UTC
	}
	_, off := from.In(loc).Zone()
	offUS := int64(off) * int64(time.Second/time.Microsecond)
	rows, err := s.query(ctx, `SELECT (created_at + ?) / ? AS day, method, state, COUNT(*), COALESCE(SUM(amount), 0)
		FROM payments WHERE shop_id = ? AND created_at >= ? AND created_at < ?
		GROUP BY day, method, state ORDER BY day, method, state`,
		offUS, microsPerDay, shopID, micros(from), micros(to))
	if err != nil {
		return nil, s.fail(op, err)
	}
	defer rows.Close()
	var out []kessai.PaymentStat
	for rows.Next() {
		var day, count, amount int64
		var method, state string
		if err := rows.Scan(&day, &method, &state, &count, &amount); err != nil {
			return nil, s.fail(op, err)
		}
		midnight := time.UnixMicro(day*microsPerDay - offUS).In(loc)
		out = append(out, kessai.PaymentStat{Day: midnight, Method: kessai.Method(method), State: kessai.PaymentState(state),
			Count: count, Amount: amount})
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail(op, err)
	}
	return out, nil
}

// FailureCodeStats groups failed payments by their stored code list (so
// the database returns one row per distinct list, not per payment) and
// counts each code in Go.
func (s *Store) FailureCodeStats(ctx context.Context, shopID string, from, to time.Time) ([]kessai.CodeCount, error) {
	const op = "failure code stats"
	rows, err := s.query(ctx, `SELECT failure_codes, COUNT(*) FROM payments
		WHERE shop_id = ? AND state = ? AND created_at >= ? AND created_at < ?
		GROUP BY failure_codes`,
		shopID, string(kessai.PaymentFailed), micros(from), micros(to))
	if err != nil {
		return nil, s.fail(op, err)
	}
	defer rows.Close()
	counts := map[string]int64{}
	for rows.Next() {
		var doc string
		var n int64
		if err := rows.Scan(&doc, &n); err != nil {
			return nil, s.fail(op, err)
		}
		var codes []string
		if doc != "" && doc != "null" {
			if err := json.Unmarshal([]byte(doc), &codes); err != nil {
				return nil, s.fail(op, err)
			}
		}
		if len(codes) == 0 {
			codes = []string{""} // failed without a code (e.g. never reached the gateway)
		}
		seen := map[string]bool{}
		for _, c := range codes {
			if !seen[c] {
				seen[c] = true
				counts[c] += n
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail(op, err)
	}
	out := make([]kessai.CodeCount, 0, len(counts))
	for c, n := range counts {
		out = append(out, kessai.CodeCount{Code: c, Count: n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Code < out[j].Code
	})
	return out, nil
}

// ListMembers lists the shop's card members by customer id.
func (s *Store) ListMembers(ctx context.Context, shopID string, page kessai.Page) ([]kessai.Member, error) {
	return list(ctx, s, "list members", s.scanMember,
		`SELECT shop_id, customer_id, kaiin_id, kaiin_pass, created_at, updated_at FROM members
		WHERE shop_id = ? AND customer_id > ? ORDER BY customer_id LIMIT ?`,
		shopID, page.After, limit(page))
}
