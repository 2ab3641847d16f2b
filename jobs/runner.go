// Package jobs runs kessai's durable background work on River
// (riverqueue.com), in the same database as the rest of kessai: SQLite
// through riversqlite, PostgreSQL through riverpgxv5.
//
// Today that work is webhook delivery, subscription renewals, and the
// upkeep of the Idempotency-Key table:
//
//   - The outbox dispatcher turns new events (kessai.EventStore's
//     ListUndispatchedEvents) into one deliver_webhook job per (event,
//     endpoint), then marks the events dispatched. It runs as a periodic
//     River job and, after Kick, at once in the calling process.
//   - The delivery worker POSTs the signed event (package webhook) to the
//     endpoint, logs every attempt with RecordDelivery, and lets River retry
//     failures on the published DefaultSchedule for about 3.7 days.
//   - The purge deletes expired Idempotency-Key records every
//     PurgeInterval, as a periodic River job like the dispatcher.
//   - With Options.Renewals, a periodic scan (and KickRenewals) queues one
//     subscription_wake job per due subscription, unique per (subscription,
//     wake time) while unfinished, and the renewals queue's workers call
//     Renewals.Wake, retried by River on error (renewals.go).
//
// Jobs are rows in River's tables, so work survives restarts and crashes:
// a job a stopped process did not finish is worked by the next one, and
// one left "running" by a killed process is rescued after five minutes.
// Several processes may share one PostgreSQL database: each job runs on
// one of them, and River's unique jobs keep the dispatchers of different
// processes from queueing the same delivery twice.
//
// Delivery is at least once, not exactly once: a process killed after the
// shop answered but before River recorded the job as done sends it again
// after the rescue. Receivers de-duplicate by event id (docs/webhooks.md).
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivertype"

	"github.com/kessai/kessai"
)

// Queue names. Dispatching has its own queue with one worker, so a flood
// of slow deliveries never delays the queueing of new ones (and vice
// versa); upkeep such as the purge has another, so a long DELETE never
// holds up the outbox either.
const (
	QueueWebhooks    = "webhooks"
	QueueOutbox      = "webhook_outbox"
	QueueMaintenance = "maintenance"
)

// Defaults for Options.
const (
	DefaultDispatchInterval = 5 * time.Second
	DefaultWorkers          = 10
)

// rescueAfter is River's RescueStuckJobsAfter for kessai's jobs.
const rescueAfter = 5 * time.Minute

// Options configure a Runner. The zero value is usable.
type Options struct {
	// HTTPClient sends deliveries. Nil means a client of this package's own
	// (keep-alive transport, proxy from the environment). Whatever is given,
	// redirects are never followed: the Runner uses a copy whose
	// CheckRedirect refuses them, so a signed event never goes to a URL the
	// shop did not register. Each request is bounded by DeliveryTimeout.
	HTTPClient *http.Client
	// Logger receives the Runner's and River's logs; nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock for the delivery log's times, the dispatch marks
	// and the purge of expired Idempotency-Key records (so it must be the
	// service's clock, which stamps their expiry); nil means time.Now.
	// Signature timestamps and River's own scheduling (retries, periodic
	// jobs) always follow the real clock: they are compared with other
	// machines' clocks.
	Now func() time.Time
	// Schedule is the retry schedule: the delay after the first failed
	// attempt, after the second, and so on. A delivery is attempted
	// len(Schedule)+1 times in all, then given up. Nil means
	// DefaultSchedule. Tests use a schedule of milliseconds.
	Schedule []time.Duration
	// DispatchInterval is how often the outbox is swept by the periodic
	// dispatch job, the safety net for events whose Kick was lost (the
	// process died, or the event was made by another process).
	// Zero means DefaultDispatchInterval. River runs periodic jobs at most
	// once a second.
	DispatchInterval time.Duration
	// Workers is how many deliveries one process sends at once; zero means
	// DefaultWorkers.
	Workers int
	// Recover, when set, runs every RecoverInterval (and when a process
	// becomes leader) on the maintenance queue: the payment flows' sweep
	// that turns interrupted gateway calls into unknown payments and
	// frees abandoned checkouts (cardpay.Payer.Sweep). One process at a
	// time runs it, whatever the number of instances.
	Recover func(ctx context.Context) error
	// Renewals, when set, is the subscription engine whose due
	// subscriptions are woken as durable jobs on QueueRenewals; nil
	// turns renewals off.
	Renewals Renewals
	// RenewalInterval is how often due subscriptions are scanned for;
	// zero means DefaultRenewalInterval (at least one second).
	RenewalInterval time.Duration
	// RenewalWorkers is how many wakes one process runs at once; zero
	// means DefaultRenewalWorkers.
	RenewalWorkers int

	// testOnly sets River's TestOnly (no staggered start of its maintenance
	// services), so tests start and stop quickly.
	testOnly bool
}

// queue is what the Runner needs of a river.Client, whatever its driver's
// transaction type: the methods used here do not mention the type.
type queue interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	StopAndCancel(ctx context.Context) error
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	InsertMany(ctx context.Context, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error)
}

// Runner owns a River client working kessai's jobs on one database.
// Create it with NewSQLite or NewPostgres, call Migrate once per database
// (e.g. from `kessai migrate` or at start-up), then Start; Stop on
// shutdown. Kick and Resend may be called from any goroutine, and Resend
// and Dispatch work even when the Runner is not started (they only
// insert jobs).
type Runner struct {
	store      kessai.Store
	log        *slog.Logger
	now        func() time.Time
	schedule   []time.Duration
	httpClient *http.Client
	timeout    time.Duration // DeliveryTimeout; shorter in tests

	client  queue
	migrate func(context.Context) error
	count   func(ctx context.Context, query string) (int, error)

	kick chan struct{}

	// queued and duplicates count the delivery jobs this Runner's
	// dispatches inserted and those River skipped as already queued (by
	// another dispatcher, or before a crash); tests read them.
	queued, duplicates atomic.Int64

	// renewals is Options.Renewals; wakesQueued and wakeDuplicates count
	// this Runner's scans' inserted and skipped wake jobs (tests read them).
	renewals                    Renewals
	wakesQueued, wakeDuplicates atomic.Int64

	mu       sync.Mutex
	started  bool
	stopKick context.CancelFunc
	kickDone chan struct{}
}

// newRunner builds the Runner around a River client for driver. It is
// generic over the driver's transaction type so both databases share one
// code path; only migration locking and counting differ, passed in.
func newRunner[TTx any](driver riverdriver.Driver[TTx], store kessai.Store, opts Options,
	migrate func(ctx context.Context, migrateFn func(context.Context) error) error,
	count func(ctx context.Context, query string) (int, error),
) (*Runner, error) {
	if store == nil {
		return nil, errors.New("jobs: a store is required")
	}
	r := &Runner{
		store:    store,
		log:      opts.Logger,
		now:      opts.Now,
		schedule: opts.Schedule,
		count:    count,
		kick:     make(chan struct{}, 1),
		timeout:  DeliveryTimeout,
	}
	if r.log == nil {
		r.log = slog.Default()
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.schedule == nil {
		r.schedule = DefaultSchedule
	}
	r.schedule = slices.Clone(r.schedule) // the caller's slice (or the exported default) may change later
	for _, d := range r.schedule {
		if d <= 0 {
			return nil, fmt.Errorf("jobs: retry schedule has a non-positive delay %v", d)
		}
	}
	r.httpClient = deliveryClient(opts.HTTPClient)
	interval := opts.DispatchInterval
	if interval == 0 {
		interval = DefaultDispatchInterval
	}
	if interval < time.Second {
		return nil, fmt.Errorf("jobs: DispatchInterval %v is below River's one-second minimum for periodic jobs", interval)
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = DefaultWorkers
	}

	w := river.NewWorkers()
	if err := river.AddWorkerSafely(w, &deliverWorker{r: r}); err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	dispatch := &periodicWorker[dispatchArgs]{run: func(ctx context.Context) error { _, err := r.Dispatch(ctx); return err }}
	if err := river.AddWorkerSafely(w, dispatch); err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	purge := &periodicWorker[purgeArgs]{run: func(ctx context.Context) error { _, err := r.PurgeIdempotency(ctx); return err }}
	if err := river.AddWorkerSafely(w, purge); err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	periodic := []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(interval),
			func() (river.JobArgs, *river.InsertOpts) { return dispatchArgs{}, periodicInsertOpts(QueueOutbox) },
			// RunOnStart: a new leader sweeps the outbox at once rather
			// than one interval later, e.g. after a restart.
			&river.PeriodicJobOpts{ID: "webhook_outbox", RunOnStart: true}),
		river.NewPeriodicJob(river.PeriodicInterval(PurgeInterval),
			func() (river.JobArgs, *river.InsertOpts) { return purgeArgs{}, periodicInsertOpts(QueueMaintenance) },
			// RunOnStart: processes that never live an hour (frequent
			// deploys) still purge.
			&river.PeriodicJobOpts{ID: "purge_idempotency", RunOnStart: true}),
	}
	if opts.Recover != nil {
		recoverer := &periodicWorker[recoverArgs]{run: opts.Recover}
		if err := river.AddWorkerSafely(w, recoverer); err != nil {
			return nil, fmt.Errorf("jobs: %w", err)
		}
		periodic = append(periodic, river.NewPeriodicJob(river.PeriodicInterval(RecoverInterval),
			func() (river.JobArgs, *river.InsertOpts) { return recoverArgs{}, periodicInsertOpts(QueueMaintenance) },
			// RunOnStart: a restart after a crash recovers at once.
			&river.PeriodicJobOpts{ID: "recover_payments", RunOnStart: true}))
	}
	renewalJobs, renewalQueues, err := r.addRenewals(w, opts)
	if err != nil {
		return nil, err
	}
	periodic = append(periodic, renewalJobs...)
	queues := map[string]river.QueueConfig{
		QueueWebhooks:    {MaxWorkers: workers},
		QueueOutbox:      {MaxWorkers: 1},
		QueueMaintenance: {MaxWorkers: 1},
	}
	maps.Copy(queues, renewalQueues)
	client, err := river.NewClient(driver, &river.Config{
		Logger:       r.log,
		Queues:       queues,
		Workers:      w,
		PeriodicJobs: periodic,
		// A job still "running" this long after it started belonged to a
		// process that died: River's rescuer hands it to another. A
		// delivery takes under a minute (request and log write are both
		// bounded), so five minutes cannot rescue a live one, and a crash
		// delays a webhook by minutes instead of River's default hour.
		RescueStuckJobsAfter: rescueAfter,
		TestOnly:             opts.testOnly,
	})
	if err != nil {
		return nil, fmt.Errorf("jobs: create River client: %w", err)
	}
	r.client = client
	r.migrate = func(ctx context.Context) error {
		return migrate(ctx, func(ctx context.Context) error { return runMigrations(ctx, driver, r.log) })
	}
	return r, nil
}

// periodicWorker works the jobs of a periodic task (the outbox sweep, the
// purge), whose arguments A carry nothing, by calling run.
type periodicWorker[A river.JobArgs] struct {
	river.WorkerDefaults[A]
	run func(context.Context) error
}

// Work implements river.Worker.
func (w *periodicWorker[A]) Work(ctx context.Context, _ *river.Job[A]) error { return w.run(ctx) }

// Migrate creates or upgrades River's tables (river_job, river_leader,
// river_queue, …) to the version this build of River needs. It is safe to
// run on every start: applied migrations are skipped. On PostgreSQL it
// takes an advisory lock, so instances starting together migrate one after
// the other; on SQLite a single process owns the database file.
func (r *Runner) Migrate(ctx context.Context) error {
	if err := r.migrate(ctx); err != nil {
		return fmt.Errorf("jobs: migrate: %w", err)
	}
	return nil
}

// Start starts working jobs and the in-process dispatcher behind Kick, and
// sweeps the outbox once soon. Jobs run with contexts derived from ctx:
// cancelling it is a hard stop (running deliveries are cancelled), so
// pass a long-lived context and end with Stop instead.
func (r *Runner) Start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started {
		return errors.New("jobs: runner already started")
	}
	if err := r.client.Start(ctx); err != nil {
		return fmt.Errorf("jobs: start River: %w", err)
	}
	kctx, cancel := context.WithCancel(ctx)
	r.stopKick, r.kickDone = cancel, make(chan struct{})
	go r.kickLoop(kctx, r.kickDone)
	r.started = true
	r.Kick() // events left from before the start go out without waiting for the periodic sweep
	return nil
}

// Stop shuts down gracefully: no new jobs are fetched, and deliveries in
// flight finish (each is bounded by DeliveryTimeout) and are logged. If
// ctx ends first, the remaining jobs' contexts are cancelled and Stop
// waits a little for them to return before giving up with ctx's error.
// Jobs that did not finish stay in the database and are worked after the
// next Start, by this process or another.
func (r *Runner) Stop(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.started {
		return nil
	}
	r.started = false
	r.stopKick()
	<-r.kickDone
	err := r.client.Stop(ctx)
	if err != nil && ctx.Err() != nil {
		// Escalate: cancel the stragglers and give them a moment to
		// record their attempt and hand the job back to River.
		hard, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if herr := r.client.StopAndCancel(hard); herr != nil {
			err = errors.Join(err, herr)
		}
	}
	if err != nil {
		return fmt.Errorf("jobs: stop: %w", err)
	}
	return nil
}

// Kick asks for the outbox to be dispatched soon, in this process, without
// waiting for the periodic sweep: call it after committing a transaction
// that created events. It never blocks; kicks that arrive while a dispatch
// is running are merged into one more run. Before Start, the kick is kept
// for the first run.
func (r *Runner) Kick() {
	select {
	case r.kick <- struct{}{}:
	default: // a run is already pending; it will see these events too
	}
}

// kickLoop runs Dispatch once per kick until ctx ends. A failed run is only
// logged: the periodic sweep (or the next kick) retries, and dispatching
// twice is harmless.
func (r *Runner) kickLoop(ctx context.Context, done chan<- struct{}) {
	defer close(done)
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.kick:
		}
		if _, err := r.Dispatch(ctx); err != nil && ctx.Err() == nil {
			r.log.WarnContext(ctx, "jobs: dispatching webhooks failed; the periodic sweep will retry", slog.Any("error", err))
		}
	}
}

// pendingStates are the states of a job that has yet to run (or run
// again): what the backlog gauges count.
const pendingStates = "'available', 'retryable', 'scheduled'"

// unfinishedStates are the states of a job River is not done with:
// pendingStates, 'pending' (inserted, not yet made available) and
// 'running'.
const unfinishedStates = pendingStates + ", 'pending', 'running'"

// Backlog returns the number of webhook deliveries waiting to be sent:
// deliver_webhook jobs that are available, scheduled or waiting for a
// retry (those being sent right now are not counted). It backs the
// kessai_webhook_backlog gauge.
func (r *Runner) Backlog(ctx context.Context) (int, error) {
	n, err := r.count(ctx, "SELECT count(*) FROM river_job WHERE kind = '"+kindDeliver+"' AND state IN ("+pendingStates+")")
	if err != nil {
		return 0, fmt.Errorf("jobs: backlog: %w", err)
	}
	return n, nil
}

// QueueDepth returns the number of jobs of every kind that are not
// finished: waiting, scheduled, retrying or running. Besides deliveries
// that includes a periodic sweep or purge between its insertion and its
// run, so an idle process reads 0 most of the time but not always. It
// backs the kessai_job_queue_depth gauge.
func (r *Runner) QueueDepth(ctx context.Context) (int, error) {
	n, err := r.count(ctx, "SELECT count(*) FROM river_job WHERE state IN ("+unfinishedStates+")")
	if err != nil {
		return 0, fmt.Errorf("jobs: queue depth: %w", err)
	}
	return n, nil
}
