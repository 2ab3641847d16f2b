package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kessai/kessai"
)

const idemCols = `shop_id, idem_key, fingerprint, state, status_code, body, created_at, expires_at`

// BeginIdempotency records the first request with a key as running.
//
// "now" is rec.CreatedAt (the caller's clock, design principle 5; the
// current time when zero): a stored record is live while its ExpiresAt is
// after now.
//
//   - No record: rec is inserted and returned.
//   - A live record: it is returned with ErrDuplicate; nothing is written.
//   - An expired record: it is replaced by rec, atomically — the UPDATE
//     repeats the "expired" condition, so of several requests replacing
//     the same expired record exactly one succeeds and the others see
//     the winner's live record.
//
// The insert is INSERT … ON CONFLICT DO NOTHING rather than an insert
// that fails: the outcome is the same, but a PostgreSQL transaction
// survives it.
func (s *Store) BeginIdempotency(ctx context.Context, rec *kessai.IdempotencyRecord) (*kessai.IdempotencyRecord, error) {
	const op = "begin idempotency"
	if err := need(op, "shop id", rec.ShopID, "key", rec.Key); err != nil {
		return nil, err
	}
	if rec.CreatedAt.IsZero() {
		rec.CreatedAt = time.Now()
	}
	rec.State, rec.StatusCode, rec.Body = kessai.IdempotencyRunning, 0, nil
	rec.CreatedAt, rec.ExpiresAt = norm(rec.CreatedAt), norm(rec.ExpiresAt)
	now := micros(rec.CreatedAt)

	// Three rounds are enough: each round that writes nothing has seen a
	// row vanish (abandoned or purged) or be replaced by a concurrent
	// request, which a next round resolves; more rounds would only hide a
	// storm of concurrent abandon/begin on one key.
	for range 3 {
		n, err := s.execN(ctx, `INSERT INTO idempotency_keys (`+idemCols+`) VALUES (?, ?, ?, ?, 0, NULL, ?, ?) ON CONFLICT DO NOTHING`,
			rec.ShopID, rec.Key, rec.Fingerprint, string(rec.State), now, micros(rec.ExpiresAt))
		if err != nil {
			return nil, s.fail(op, err)
		}
		if n > 0 {
			out := *rec
			return &out, nil
		}
		old, err := s.getIdempotency(ctx, rec.ShopID, rec.Key)
		if errors.Is(err, kessai.ErrNotFound) {
			continue // gone meanwhile: insert again
		}
		if err != nil {
			return nil, err
		}
		if micros(old.ExpiresAt) > now {
			return old, duplicate(op + " " + rec.Key)
		}
		n, err = s.execN(ctx, `UPDATE idempotency_keys SET fingerprint = ?, state = ?, status_code = 0, body = NULL,
			created_at = ?, expires_at = ? WHERE shop_id = ? AND idem_key = ? AND expires_at <= ?`,
			rec.Fingerprint, string(rec.State), now, micros(rec.ExpiresAt), rec.ShopID, rec.Key, now)
		if err != nil {
			return nil, s.fail(op, err)
		}
		if n > 0 {
			out := *rec
			return &out, nil
		}
		// Someone else replaced or deleted it first: look again.
	}
	return nil, fmt.Errorf("sqlstore: %s %s: the record keeps changing: %w", op, rec.Key, kessai.ErrConflict)
}

func (s *Store) getIdempotency(ctx context.Context, shopID, key string) (*kessai.IdempotencyRecord, error) {
	return get(ctx, s, "get idempotency record "+key, s.scanIdempotency,
		`SELECT `+idemCols+` FROM idempotency_keys WHERE shop_id = ? AND idem_key = ?`, shopID, key)
}

func (s *Store) scanIdempotency(sc scanner) (*kessai.IdempotencyRecord, error) {
	var r kessai.IdempotencyRecord
	var body []byte
	var created, expires int64
	if err := sc.Scan(&r.ShopID, &r.Key, &r.Fingerprint, &r.State, &r.StatusCode, &body, &created, &expires); err != nil {
		return nil, err
	}
	var err error
	if r.Body, err = s.openBytes(body); err != nil {
		return nil, err
	}
	r.CreatedAt, r.ExpiresAt = fromMicros(created), fromMicros(expires)
	return &r, nil
}

// CompleteIdempotency stores the response of a running record (the body
// sealed: a replayed response may carry a secret that is shown once, such
// as a new webhook endpoint's signing secret). ErrConflict when the record
// is already done, ErrNotFound when there is none.
func (s *Store) CompleteIdempotency(ctx context.Context, shopID, key string, status int, body []byte) error {
	const op = "complete idempotency"
	sealed, err := s.sealBytes(body)
	if err != nil {
		return err
	}
	n, err := s.execN(ctx, `UPDATE idempotency_keys SET state = ?, status_code = ?, body = ?
		WHERE shop_id = ? AND idem_key = ? AND state = ?`,
		string(kessai.IdempotencyDone), status, sealed, shopID, key, string(kessai.IdempotencyRunning))
	if err != nil {
		return s.fail(op, err)
	}
	if n > 0 {
		return nil
	}
	return s.runningMiss(ctx, op, shopID, key)
}

// AbandonIdempotency deletes a running record. ErrConflict when the record
// is done (its response must stay replayable), ErrNotFound when there is
// none.
func (s *Store) AbandonIdempotency(ctx context.Context, shopID, key string) error {
	const op = "abandon idempotency"
	n, err := s.execN(ctx, `DELETE FROM idempotency_keys WHERE shop_id = ? AND idem_key = ? AND state = ?`,
		shopID, key, string(kessai.IdempotencyRunning))
	if err != nil {
		return s.fail(op, err)
	}
	if n > 0 {
		return nil
	}
	return s.runningMiss(ctx, op, shopID, key)
}

// runningMiss explains why a statement on a running record touched
// nothing.
func (s *Store) runningMiss(ctx context.Context, op, shopID, key string) error {
	ok, err := s.exists(ctx, `SELECT 1 FROM idempotency_keys WHERE shop_id = ? AND idem_key = ?`, shopID, key)
	if err != nil {
		return s.fail(op, err)
	}
	if !ok {
		return notFound(op + " " + key)
	}
	return conflict(op + " " + key + ": not running")
}

// PurgeIdempotency deletes every record (any shop) that expired before t.
func (s *Store) PurgeIdempotency(ctx context.Context, before time.Time) (int64, error) {
	n, err := s.execN(ctx, `DELETE FROM idempotency_keys WHERE expires_at < ?`, micros(before))
	if err != nil {
		return 0, s.fail("purge idempotency", err)
	}
	return n, nil
}
