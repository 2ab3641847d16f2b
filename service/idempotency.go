package service

import (
	"context"
	"errors"
	"time"

	"github.com/kessai/kessai"
)

// IdempotencyTTL is how long an Idempotency-Key is remembered. A day
// covers every sane retry loop; after it the key may be reused.
const IdempotencyTTL = 24 * time.Hour

// ErrIdempotencyInProgress answers a request whose Idempotency-Key is held
// by another request that has not finished.
var ErrIdempotencyInProgress = kessai.Errorf(kessai.KindConflict, "idempotency_in_progress",
	"同じ Idempotency-Key のリクエストを処理中です。少し待ってから再試行してください。",
	"A request with the same Idempotency-Key is still being processed. Retry shortly.")

// ErrIdempotencyInterrupted answers a request whose Idempotency-Key was
// claimed by a request that never finished: the process running it was
// stopped (a crash, a kill) before it stored an answer. Retrying the key
// cannot help — the claim stays until the key expires — and running the
// request again under it could repeat an effect that did happen. Whatever
// the first request did is recorded on the order and its payments (an
// uncertain gateway call as an "unknown" payment), so the client reads
// them, and uses a new key if it still wants to act.
var ErrIdempotencyInterrupted = kessai.Errorf(kessai.KindConflict, "idempotency_interrupted",
	"同じ Idempotency-Key の最初のリクエストは完了しないまま中断されました（サーバーの再起動など）。注文と決済の状態を取得して結果を確認し、必要なら新しいキーで再度リクエストしてください。",
	"The first request with this Idempotency-Key was interrupted before it finished (the server restarted). Read the order and its payments to see what it did, and use a new key to try again if needed.")

// IdempotencyInterruptedAfter is how long a key may stay claimed before the
// request holding it is taken to be interrupted. No request runs this
// long: its gateway calls time out after 60 s each, and the API's own
// handler deadline is shorter still.
const IdempotencyInterruptedAfter = 5 * time.Minute

// BeginIdempotency claims key for a request with fingerprint. It returns
// (nil, nil) when the claim succeeded and the request should run, or the
// existing record when the key is already taken (running or done); the
// caller compares fingerprints and states (InterruptedClaim tells a
// running claim from an interrupted one).
func (s *Service) BeginIdempotency(ctx context.Context, shopID, key, fingerprint string) (*kessai.IdempotencyRecord, error) {
	now := s.Now()
	rec := &kessai.IdempotencyRecord{ShopID: shopID, Key: key, Fingerprint: fingerprint,
		State: kessai.IdempotencyRunning, CreatedAt: now, ExpiresAt: now.Add(IdempotencyTTL)}
	existing, err := s.store.BeginIdempotency(ctx, rec)
	if errors.Is(err, kessai.ErrDuplicate) && existing != nil {
		return existing, nil
	}
	if errors.Is(err, kessai.ErrConflict) {
		// The record kept changing under concurrent claims: to the
		// client that is the same as "another request is running".
		return nil, ErrIdempotencyInProgress
	}
	if err != nil {
		return nil, storeErr(err, nil)
	}
	return nil, nil
}

// InterruptedClaim reports whether rec is a claim whose request must have
// died with its process: still running IdempotencyInterruptedAfter after
// it was made.
func (s *Service) InterruptedClaim(rec *kessai.IdempotencyRecord) bool {
	return rec.State != kessai.IdempotencyDone && s.Now().Sub(rec.CreatedAt) > IdempotencyInterruptedAfter
}

// CompleteIdempotency stores the response of a claimed key.
func (s *Service) CompleteIdempotency(ctx context.Context, shopID, key string, status int, body []byte) error {
	return storeErr(s.store.CompleteIdempotency(ctx, shopID, key, status, body), nil)
}

// AbandonIdempotency releases a claimed key whose request failed in a way
// that may be retried (a 5xx), so the retry runs instead of replaying the
// failure.
func (s *Service) AbandonIdempotency(ctx context.Context, shopID, key string) error {
	return storeErr(s.store.AbandonIdempotency(ctx, shopID, key), nil)
}

// PurgeIdempotency deletes expired idempotency records now. The job runner
// does the same every hour through the store (package jobs); this is for
// one-off use by tools and tests.
func (s *Service) PurgeIdempotency(ctx context.Context) (int64, error) {
	n, err := s.store.PurgeIdempotency(ctx, s.Now())
	return n, storeErr(err, nil)
}
