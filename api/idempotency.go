package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/service"
)

// Idempotency-Key handling (design §4).
//
// Every POST, PATCH and DELETE honours the header; it is optional, because
// reads and most updates are naturally safe to repeat, but a client that
// creates orders or moves money should always send one (a UUID per
// logical operation) and retry with the same key after a timeout.
//
//   - The key is 1–255 printable ASCII characters, scoped to the shop and
//     remembered for 24 hours (service.IdempotencyTTL; expired records are
//     purged hourly by the job runner, jobs.Runner.PurgeIdempotency).
//   - The request's fingerprint is SHA-256 over method, path and the body
//     in canonical form (JSON re-encoded with sorted keys), so a retry that
//     re-serialises the same JSON differently still matches.
//   - First use: the key is claimed (state running), the request runs, and
//     its status and body are stored (state done).
//   - Same key, same fingerprint, done: the stored status and body are
//     answered again with "Idempotent-Replayed: true"; nothing runs.
//   - Same key, different fingerprint: 422 "idempotency_key_reused".
//   - Same key while the first request still runs: 409
//     "idempotency_in_progress"; retry a little later.
//   - Same key, claimed more than 5 minutes ago and never finished (the
//     process running it was killed): 409 "idempotency_interrupted"; the
//     client reads the order's state and uses a new key to act again.
//   - A request that ends in a 5xx or 429 (including KindUnavailable) is
//     not stored: the claim is released so that the retry runs. Client
//     errors (4xx) are stored like successes: the same request would fail
//     the same way, and replaying keeps the answer stable.
//   - Authentication, 413 and 415 are checked before the key is claimed,
//     so they are never stored.

// maxIdempotencyKey is the longest accepted key.
const maxIdempotencyKey = 255

var errBadIdempotencyKey = kessai.Errorf(kessai.KindInvalid, "invalid_idempotency_key",
	"Idempotency-Key は 1〜255 文字の半角英数記号で指定してください。",
	"Idempotency-Key must be 1 to 255 printable ASCII characters.")

// validIdempotencyKey reports whether k is 1–255 printable ASCII.
func validIdempotencyKey(k string) bool {
	if k == "" || len(k) > maxIdempotencyKey {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x20 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

// fingerprint identifies a request for idempotency: method, path and the
// canonical body. A body that is not JSON (it will fail validation anyway)
// is hashed as it is.
func fingerprint(method, path string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(method))
	h.Write([]byte{0})
	h.Write([]byte(path))
	h.Write([]byte{0})
	h.Write(canonicalJSON(body))
	return hex.EncodeToString(h.Sum(nil))
}

// canonicalJSON re-encodes JSON with object keys sorted and no
// insignificant whitespace; numbers keep their literal text.
func canonicalJSON(body []byte) []byte {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		return body
	}
	out, err := json.Marshal(v)
	if err != nil {
		return body
	}
	return out
}

// beginIdempotency claims key for c. done reports that the answer is
// already known (a replay, with status and body); otherwise the request
// must run and finishIdempotency must follow.
func (a *API) beginIdempotency(c *call, key string) (status int, body []byte, done bool, err error) {
	if !validIdempotencyKey(key) {
		return 0, nil, false, errBadIdempotencyKey
	}
	fp := fingerprint(c.r.Method, c.r.URL.Path, c.body)
	rec, err := a.svc.BeginIdempotency(c.ctx(), c.shopID, key, fp)
	if err != nil {
		return 0, nil, false, err
	}
	if rec == nil {
		return 0, nil, false, nil
	}
	if rec.Fingerprint != fp {
		return 0, nil, false, errIdempotencyKeyReused()
	}
	if a.svc.InterruptedClaim(rec) {
		return 0, nil, false, service.ErrIdempotencyInterrupted
	}
	if rec.State != kessai.IdempotencyDone {
		return 0, nil, false, errIdempotencyInProgress
	}
	c.replayed = true
	return rec.StatusCode, rec.Body, true, nil
}

// finishIdempotency stores the answer, or releases the key after a
// retryable failure. It runs even if the client has gone: the effect
// happened, and the stored answer is what its retry needs.
func (a *API) finishIdempotency(c *call, key string, status int, body []byte) {
	ctx := context.WithoutCancel(c.ctx())
	if status >= 500 || status == http.StatusTooManyRequests {
		a.abandonKey(ctx, c, key)
		return
	}
	if err := a.svc.CompleteIdempotency(ctx, c.shopID, key, status, body); err != nil {
		// The record stays "running" until it expires: retries get 409,
		// which is safer than releasing it and running the effect twice.
		a.log.ErrorContext(ctx, "api: storing the idempotent answer failed", "request_id", c.reqID, "shop", c.shopID, "error", err)
	}
}

// abandon releases the key of c after a panic.
func (a *API) abandon(c *call) {
	a.abandonKey(context.WithoutCancel(c.ctx()), c, c.r.Header.Get("Idempotency-Key"))
}

func (a *API) abandonKey(ctx context.Context, c *call, key string) {
	if err := a.svc.AbandonIdempotency(ctx, c.shopID, key); err != nil {
		a.log.ErrorContext(ctx, "api: releasing an idempotency key failed", "request_id", c.reqID, "shop", c.shopID, "error", err)
	}
}
