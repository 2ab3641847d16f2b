package jobs

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/kessai/kessai"
)

// Renewals is the subscription engine as the runner drives it
// (renewal.Engine implements it): Due lists the subscriptions of any shop
// whose wake time has come, and Wake does what is due for one of them.
// Wake must be idempotent and safe to run in several processes at once:
// the runner guarantees one queued job per wake, not one call (a rescued
// or retried job calls it again).
type Renewals interface {
	Due(ctx context.Context, limit int) ([]kessai.Subscription, error)
	Wake(ctx context.Context, shopID, id string) error
}

// QueueRenewals is the queue of subscription wakes. It has its own
// workers (Options.RenewalWorkers) so a batch of renewals, each a gateway
// call, never holds up webhook delivery, and a flood of deliveries never
// delays a charge.
const QueueRenewals = "renewals"

// Defaults for the renewal options.
const (
	DefaultRenewalInterval = 30 * time.Second
	DefaultRenewalWorkers  = 4
)

// Job kinds (stored in river_job.kind: never rename).
const (
	kindRenewalsDue = "subscriptions_due"
	kindWake        = "subscription_wake"
)

const (
	// renewalBatch is how many due subscriptions one scan queues. Due
	// lists the soonest first and a subscription stays due until its wake
	// has run, so a scan cannot page past the first batch: the rest are
	// queued by later scans, as the queued ones are worked.
	renewalBatch = 1000
	// wakeMaxAttempts bounds River's retries of a failing Wake (its
	// default backoff, attempt⁴ seconds: about seven hours over ten
	// attempts). A discarded wake is not lost: the subscription is still
	// due, so a later scan queues it again.
	wakeMaxAttempts = 10
	// wakeTimeout bounds one Wake. The gateway call inside it is bounded
	// by cardpay (3 minutes, whatever the job's context says); the rest
	// is a few store writes. It stays under rescueAfter so River never
	// rescues, and hands to another worker, a wake that is still running.
	wakeTimeout = 4 * time.Minute
	// kickTimeout bounds KickRenewals' insert.
	kickTimeout = 10 * time.Second
	// dueSlots is how many scans may be queued or running at once (see
	// KickRenewals).
	dueSlots = 2
)

// dueArgs are the arguments of a scan. Rerun is 0 for the periodic scan,
// and 1 for the scan a kick queues behind a running one; it only makes
// the two unique keys differ.
type dueArgs struct {
	Rerun int `json:"rerun,omitempty"`
}

// Kind implements river.JobArgs.
func (dueArgs) Kind() string { return kindRenewalsDue }

// dueInsertOpts are a scan's options: those of every periodic job
// (unique while queued or running, one attempt), made unique by the
// arguments so a kick's rerun slot is distinct from the periodic one.
func dueInsertOpts() *river.InsertOpts {
	o := periodicInsertOpts(QueueMaintenance)
	o.UniqueOpts.ByArgs = true
	return o
}

// wakeArgs are a wake job's arguments: which subscription, and the wake
// time it was due at (WakeAt in Unix microseconds). The wake time makes
// the job unique per wake rather than per subscription: a later wake of
// the same subscription gets a job of its own even while an earlier one
// is retrying.
type wakeArgs struct {
	ShopID         string `json:"shop_id"`
	SubscriptionID string `json:"subscription_id"`
	WakeAt         int64  `json:"wake_at"`
}

// Kind implements river.JobArgs.
func (wakeArgs) Kind() string { return kindWake }

// wakeUniqueStates are the states in which a wake job blocks another for
// the same wake: every state but the final ones. A completed wake whose
// subscription is still due at the same time (the engine waited for a
// charge in flight elsewhere) must be queued again by the next scan, and
// so must a discarded one.
var wakeUniqueStates = []rivertype.JobState{
	rivertype.JobStateAvailable,
	rivertype.JobStatePending,
	rivertype.JobStateRetryable,
	rivertype.JobStateRunning,
	rivertype.JobStateScheduled,
}

func wakeInsertOpts() *river.InsertOpts {
	return &river.InsertOpts{
		Queue:       QueueRenewals,
		MaxAttempts: wakeMaxAttempts,
		UniqueOpts:  river.UniqueOpts{ByArgs: true, ByState: wakeUniqueStates},
	}
}

// wakeWorker runs one wake per attempt.
type wakeWorker struct {
	river.WorkerDefaults[wakeArgs]
	r *Runner
}

// Timeout implements river.Worker.
func (w *wakeWorker) Timeout(*river.Job[wakeArgs]) time.Duration { return wakeTimeout }

// Work calls Wake. An error is retried by River; a job left running by a
// killed process is rescued after rescueAfter and simply wakes the
// subscription again, which the engine makes harmless.
func (w *wakeWorker) Work(ctx context.Context, job *river.Job[wakeArgs]) error {
	a := job.Args
	err := w.r.renewals.Wake(ctx, a.ShopID, a.SubscriptionID)
	if err == nil {
		return nil
	}
	attrs := []any{
		slog.String("shop_id", a.ShopID), slog.String("subscription_id", a.SubscriptionID),
		slog.Int("attempt", job.Attempt), slog.Int("max_attempts", job.MaxAttempts), slog.Any("error", err),
	}
	if job.Attempt >= job.MaxAttempts {
		w.r.log.ErrorContext(ctx, "jobs: subscription wake failed for the last time; a later scan queues it again", attrs...)
	} else {
		w.r.log.WarnContext(ctx, "jobs: subscription wake failed; will retry", attrs...)
	}
	return err
}

// addRenewals registers the renewal workers, and, when opts.Renewals is
// set, the periodic scan and the renewals queue. The workers are always
// registered: a scan job queued by another process (or before a restart
// with renewals off) then finishes as a no-op instead of failing as an
// unknown kind. Wake jobs are only fetched where the queue is worked.
func (r *Runner) addRenewals(w *river.Workers, opts Options) ([]*river.PeriodicJob, map[string]river.QueueConfig, error) {
	r.renewals = opts.Renewals
	scan := &periodicWorker[dueArgs]{run: func(ctx context.Context) error { _, err := r.scanRenewals(ctx); return err }}
	if err := river.AddWorkerSafely(w, scan); err != nil {
		return nil, nil, fmt.Errorf("jobs: %w", err)
	}
	if err := river.AddWorkerSafely(w, &wakeWorker{r: r}); err != nil {
		return nil, nil, fmt.Errorf("jobs: %w", err)
	}
	if r.renewals == nil {
		return nil, nil, nil
	}
	interval := cmp.Or(opts.RenewalInterval, DefaultRenewalInterval)
	if interval < time.Second {
		return nil, nil, fmt.Errorf("jobs: RenewalInterval %v is below River's one-second minimum for periodic jobs", interval)
	}
	workers := opts.RenewalWorkers
	if workers <= 0 {
		workers = DefaultRenewalWorkers
	}
	periodic := []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(interval),
		func() (river.JobArgs, *river.InsertOpts) { return dueArgs{}, dueInsertOpts() },
		// RunOnStart: renewals that fell due while no process ran are
		// charged when one starts, not an interval later.
		&river.PeriodicJobOpts{ID: kindRenewalsDue, RunOnStart: true})}
	return periodic, map[string]river.QueueConfig{QueueRenewals: {MaxWorkers: workers}}, nil
}

// scanRenewals queues a wake job for each due subscription (up to
// renewalBatch) and returns how many it queued. A subscription whose wake
// is already queued, running or retrying is skipped by River's unique
// index, so scans may overlap, repeat, and run in several processes.
func (r *Runner) scanRenewals(ctx context.Context) (int, error) {
	if r.renewals == nil {
		return 0, nil
	}
	subs, err := r.renewals.Due(ctx, renewalBatch)
	if err != nil {
		return 0, fmt.Errorf("jobs: list due subscriptions: %w", err)
	}
	args := make([]wakeArgs, 0, len(subs))
	for _, s := range subs {
		args = append(args, wakeArgs{ShopID: s.ShopID, SubscriptionID: s.ID, WakeAt: s.WakeAt.UnixMicro()})
	}
	// One order for every scanner, as in dispatchEvents: overlapping
	// scans on PostgreSQL take the unique keys' locks in the same order
	// instead of deadlocking. River refuses a key twice in one batch.
	slices.SortFunc(args, func(a, b wakeArgs) int {
		return cmp.Or(cmp.Compare(a.ShopID, b.ShopID), cmp.Compare(a.SubscriptionID, b.SubscriptionID), cmp.Compare(a.WakeAt, b.WakeAt))
	})
	args = slices.Compact(args)
	if len(args) == 0 {
		return 0, nil
	}
	params := make([]river.InsertManyParams, len(args))
	for i, a := range args {
		params[i] = river.InsertManyParams{Args: a, InsertOpts: wakeInsertOpts()}
	}
	res, err := r.client.InsertMany(ctx, params)
	if err != nil {
		return 0, fmt.Errorf("jobs: queue %d subscription wakes: %w", len(params), err)
	}
	inserted := 0
	for _, ir := range res {
		if !ir.UniqueSkippedAsDuplicate {
			inserted++
		}
	}
	r.wakesQueued.Add(int64(inserted))
	r.wakeDuplicates.Add(int64(len(res) - inserted))
	if len(subs) == renewalBatch {
		r.log.InfoContext(ctx, "jobs: more subscriptions are due than one scan queues; later scans queue the rest",
			slog.Int("batch", renewalBatch))
	}
	return inserted, nil
}

// KickRenewals asks for a scan of due subscriptions soon, without
// waiting for the periodic one: call it after moving the test clock. It
// queues the scan as a River job (River has no way to run a periodic job
// now), so any process may run it, and waits only for that insert.
//
// A scan already queued is enough, since it lists what is due when it
// runs. One already running may have listed before the caller's change,
// so the kick then queues a second, distinct scan behind it (dueSlots);
// only when both are running is the kick left to the periodic scan. It
// does nothing when renewals are off, and failures are only logged.
func (r *Runner) KickRenewals() {
	if r.renewals == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), kickTimeout)
	defer cancel()
	for rerun := range dueSlots {
		res, err := r.client.Insert(ctx, dueArgs{Rerun: rerun}, dueInsertOpts())
		if err != nil {
			r.log.WarnContext(ctx, "jobs: queueing a renewal scan failed; the periodic scan will run it", slog.Any("error", err))
			return
		}
		if !res.UniqueSkippedAsDuplicate || res.Job == nil || res.Job.State != rivertype.JobStateRunning {
			return
		}
	}
}
