package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// kindPurge is the periodic purge's job kind (stored in river_job.kind:
// never rename).
const kindPurge = "purge_idempotency"

// PurgeInterval is how often expired Idempotency-Key records are deleted.
// Expired records are already ignored (a new request with the key
// replaces one), so the purge only bounds the table's size: hourly keeps
// it at about a day and an hour of keys.
const PurgeInterval = time.Hour

// purgeArgs are the (empty) arguments of the periodic purge.
type purgeArgs struct{}

// Kind implements river.JobArgs.
func (purgeArgs) Kind() string { return kindPurge }

// PurgeIdempotency deletes the Idempotency-Key records of every shop that
// expired before now (Options.Now, the clock the service stamps them
// with) and returns how many it deleted. The periodic purge job calls it
// every PurgeInterval, and once soon after a process becomes leader.
func (r *Runner) PurgeIdempotency(ctx context.Context) (int64, error) {
	n, err := r.store.PurgeIdempotency(ctx, r.now())
	if err != nil {
		return 0, fmt.Errorf("jobs: purge expired idempotency keys: %w", err)
	}
	if n > 0 {
		r.log.InfoContext(ctx, "jobs: purged expired idempotency keys", slog.Int64("deleted", n))
	}
	return n, nil
}

// RecoverInterval is how often Options.Recover runs: a minute keeps an
// interrupted checkout's order blocked for little longer than the stale
// period itself.
const RecoverInterval = time.Minute

// kindRecover is the periodic recovery's job kind.
const kindRecover = "recover_payments"

// recoverArgs are the (empty) arguments of the periodic recovery.
type recoverArgs struct{}

// Kind implements river.JobArgs.
func (recoverArgs) Kind() string { return kindRecover }
