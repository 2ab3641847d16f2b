// Package bench measures a card checkout through kessai's JSON API against
// the built-in gateway simulator: how much time kessai adds on top of the
// gateway's own (issue 4), and how many checkouts per second one instance
// completes.
//
// RunCard wires the same parts `kessai serve` does — a file-backed SQLite
// database or PostgreSQL, the job runner, the service, the gateway factory,
// the card payer, the metrics middleware and the API — on loopback
// listeners, with the simulator on a listener of its own (optionally slowed
// down by a latency fault), and drives it like a shop's backend would: one
// order with POST /v1/orders, then POST /v1/orders/{id}/pay with a card
// token, both with an Idempotency-Key as docs/api.md asks of shops.
//
// The gateway's share of a checkout is not estimated: every gateway call
// reports its duration to the factory's Observe hook with the request's
// context, and the request carries a per-checkout probe in that context,
// so the sum of exactly that checkout's gateway round trips is known.
// Added latency is the wall time of the /pay call as the client sees it
// minus that sum.
package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/escott/sim"
	"github.com/kessai/kessai/jobs"
)

// Databases RunCard can run on.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// Defaults of Options.
const (
	DefaultN           = 1000
	DefaultConcurrency = 8
	// DefaultAmount is the order total in yen: an ordinary purchase, not
	// a zero-amount order (which skips the gateway).
	DefaultAmount = 1000
)

// Card is the test card every checkout pays with: a Visa the simulator
// approves, paid as a guest (no saved card, so no member calls).
const (
	Card       = "4012000000000008"
	cardExp    = "3012"
	cardPrefix = "401200"
)

// Options configure RunCard. The zero value runs DefaultN checkouts on a
// temporary SQLite file with the simulator answering at once.
type Options struct {
	// DB is SQLite (default) or Postgres.
	DB string
	// DatabaseURL is the PostgreSQL server (a postgres:// URL). RunCard
	// creates a schema of its own in that database and drops it at the
	// end, so existing data is never touched.
	DatabaseURL string
	// DataDir holds the SQLite file; a temporary directory (removed at
	// the end) when empty. A given directory must not hold a kessai.db.
	DataDir string
	// Latency is added by the simulator to every gateway call (a
	// latency fault), to see kessai's overhead next to a realistic
	// gateway round trip.
	Latency time.Duration
	// Jitter adds a uniformly distributed [0, Jitter) to each call's
	// latency. With none, workers that wait the same fixed time for the
	// gateway stay in step and reach the database in bursts.
	Jitter time.Duration
	// N is the number of measured checkouts; Concurrency how many
	// shop-side workers run them at once.
	N           int
	Concurrency int
	// Warmup checkouts run before the measured ones and are not counted:
	// they open the database, gateway and API connections. Negative
	// means none; zero means one per worker.
	Warmup int
	// NoJobs leaves the job runner stopped. serve runs it, and on SQLite
	// it shares the one database connection, so the default keeps it.
	NoJobs bool
	// NoAnalyze skips the ANALYZE of the PostgreSQL schema after the
	// warm-up. autovacuum, on by default, analyses tables as they fill;
	// on a server without it (this project's test server) a fresh schema
	// has no planner statistics, and some lookups then scan whole tables.
	NoAnalyze bool
	// NoIdempotencyKey sends no Idempotency-Key (which costs two writes
	// per request), to see what it costs.
	NoIdempotencyKey bool
	// Logger receives the service's logs. The default formats them like
	// serve does (text, info level) and discards the bytes: the cost of
	// building each line is counted, the terminal's is not.
	Logger *slog.Logger
	// CPUProfile, when set, receives a CPU profile of the measured phase.
	CPUProfile io.Writer
	// Progress, when set, is told the phase being entered ("setup",
	// "warmup", "run", "verify").
	Progress func(phase string)
	// Inspect, when set, is called after the run and its own checks, with
	// the parts still running, so a test can look at the state the run
	// left in the simulator and the store.
	Inspect func(ctx context.Context, in *Inspection) error

	// simMaxConcurrent is the simulator's concurrency cap
	// (sim.Config.MaxConcurrent), and jobOptions, when set, adjusts the
	// job runner's options; only RunRenewals sets them.
	simMaxConcurrent int
	jobOptions       func(*jobs.Options)
}

// Inspection is what Options.Inspect sees.
type Inspection struct {
	Sim        *sim.Server
	MerchantID string
	Store      kessai.Store
	ShopID     string
	// Orders are the ids of the measured checkouts' orders, with the
	// payment each /pay answered.
	Orders []Checkout
}

// Checkout is one measured checkout.
type Checkout struct {
	OrderID   string
	PaymentID string
	// Total is the /pay call's wall time at the client, Gateway the sum
	// of its gateway round trips, Handler the time kessai's HTTP handler
	// took (Total without the loopback hop and the client's own work).
	Total, Gateway, Handler time.Duration
	// GatewayCalls is the number of gateway round trips of the call.
	GatewayCalls int
	// CreateOrder is the wall time of the POST /v1/orders before it.
	CreateOrder time.Duration
}

// Added is what kessai added to the gateway's time, as the shop sees it.
func (c Checkout) Added() time.Duration { return c.Total - c.Gateway }

// maxErrorSamples bounds the error messages a report keeps.
const maxErrorSamples = 10

// RunCard runs the card checkout benchmark. It returns the report and,
// when any checkout failed or the final checks found a checkout that did
// not charge exactly once, an error as well: a run with errors measures
// something else than the happy path and must not be quoted.
func RunCard(ctx context.Context, o Options) (_ *Report, err error) {
	st, err := startRun(ctx, &o)
	if err != nil {
		return nil, err
	}
	defer st.closeInto(&err)

	rep := &Report{APIReport: st.newAPIReport()}
	done, errs, err := st.runAPIBench(ctx, &rep.APIReport, "checkout", st.checkout, st.gatewayStats)
	if err != nil {
		return nil, err
	}
	rep.Checkouts = len(done)

	o.progress()("verify")
	if len(done) > 0 {
		n, err := st.verify(ctx, done, o.Warmup+len(done)+errs.count)
		rep.Verified = n
		if err != nil {
			return rep, err
		}
	}
	if err := st.inspect(ctx, done); err != nil {
		return rep, err
	}
	if rep.Errors > 0 {
		return rep, fmt.Errorf("bench: %d of %d checkouts failed (first: %s)", rep.Errors, o.N, rep.ErrorSamples[0])
	}
	return rep, nil
}

// startRun normalises o and starts the stack a benchmark runs on, in its
// "setup" phase. The caller defers closeInto.
func startRun(ctx context.Context, o *Options) (*stack, error) {
	if err := o.normalise(); err != nil {
		return nil, err
	}
	o.progress()("setup")
	return start(ctx, o)
}

// closeInto closes the stack at the end of a run; a failed shutdown
// becomes the run's error when it had none.
func (st *stack) closeInto(err *error) {
	if cerr := st.close(); cerr != nil && *err == nil {
		*err = fmt.Errorf("bench: shutting down: %w", cerr)
	}
}

// newAPIReport is the report of a run on st before anything is
// measured: its conditions and the machine.
func (st *stack) newAPIReport() APIReport {
	o := st.o
	return APIReport{DB: o.DB, DBVersion: st.dbVersion, Latency: o.Latency, Jitter: o.Jitter, N: o.N,
		Concurrency: o.Concurrency, Warmup: o.Warmup, Jobs: !o.NoJobs, IdempotencyKey: !o.NoIdempotencyKey,
		Machine: CurrentMachine()}
}

// runAPIBench runs what RunCard and RunCollections do alike after the
// setup: the warm-up's operations (unit names one in errors), the
// ANALYZE, and the measured phase of o.N operations, with stats, the
// gateway client's counters, read around it. It fills rep's figures but
// for the count and the verification, and returns the measured calls
// and the failed ones.
func (st *stack) runAPIBench(ctx context.Context, rep *APIReport, unit string, op func(context.Context) (Checkout, error),
	stats func() (calls, newConns int64)) ([]Checkout, *errorLog, error) {
	o := st.o
	progress := o.progress()
	call := func(ctx context.Context, _ int) (Checkout, error) { return op(ctx) }
	if o.Warmup > 0 {
		progress("warmup")
		if _, errs := drive(ctx, o.Warmup, o.Concurrency, call); errs.count > 0 {
			return nil, nil, fmt.Errorf("bench: warm-up %s failed: %s", unit, errs.first())
		}
	}
	var err error
	if rep.Analyzed, err = st.analyzeAfterWarmup(ctx); err != nil {
		return nil, nil, err
	}

	progress("run")
	calls0, conns0 := stats()
	var done []Checkout
	var errs *errorLog
	if rep.Wall, rep.CPU, err = measure(o, &rep.Machine, func() {
		done, errs = drive(ctx, o.N, o.Concurrency, call)
	}); err != nil {
		return nil, nil, err
	}
	calls1, conns1 := stats()
	rep.GatewayCalls, rep.GatewayNewConns = calls1-calls0, conns1-conns0
	rep.fill(done, errs)
	return done, errs, nil
}

// progress returns o.Progress, or a function that does nothing.
func (o *Options) progress() func(string) {
	if o.Progress == nil {
		return func(string) {}
	}
	return o.Progress
}

// analyzeAfterWarmup runs the PostgreSQL ANALYZE between the warm-up and
// the measured phase (see Options.NoAnalyze) and reports whether it ran.
func (st *stack) analyzeAfterWarmup(ctx context.Context) (bool, error) {
	if st.analyze == nil || st.o.NoAnalyze {
		return false, nil
	}
	if err := st.analyze(ctx); err != nil {
		return false, fmt.Errorf("bench: analyze: %w", err)
	}
	return true, nil
}

// measure times run, the measured phase: its wall time and this
// process's CPU time, with o.CPUProfile (when set) profiling exactly that
// phase and m's load averages read just before and after it.
func measure(o *Options, m *Machine, run func()) (wall, cpu time.Duration, err error) {
	m.LoadAvgBefore = loadAvg()
	if o.CPUProfile != nil {
		if err := pprof.StartCPUProfile(o.CPUProfile); err != nil {
			return 0, 0, fmt.Errorf("bench: cpu profile: %w", err)
		}
	}
	cpu0, began := processCPU(), time.Now()
	run()
	wall, cpu = time.Since(began), processCPU()-cpu0
	if o.CPUProfile != nil {
		pprof.StopCPUProfile()
	}
	m.LoadAvgAfter = loadAvg()
	return wall, cpu, nil
}

// normaliseDB defaults *db to SQLite and checks that it names a database
// the benchmarks run on, with the URL PostgreSQL needs: Options,
// RenewalOptions and FullOptions take the same -db and -database-url.
func normaliseDB(db *string, databaseURL string) error {
	switch *db {
	case "":
		*db = SQLite
	case SQLite:
	case Postgres:
		if databaseURL == "" {
			return errors.New("bench: PostgreSQL needs a database URL")
		}
	default:
		return fmt.Errorf("bench: unknown database %q (sqlite or postgres)", *db)
	}
	return nil
}

func (o *Options) normalise() error {
	if err := normaliseDB(&o.DB, o.DatabaseURL); err != nil {
		return err
	}
	if o.N <= 0 {
		o.N = DefaultN
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	switch {
	case o.Warmup < 0:
		o.Warmup = 0
	case o.Warmup == 0:
		o.Warmup = o.Concurrency
	}
	if o.Latency < 0 || o.Jitter < 0 {
		return errors.New("bench: latency and jitter must not be negative")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	return nil
}

// errorLog counts failed checkouts and keeps the first messages.
type errorLog struct {
	mu      sync.Mutex
	count   int
	samples []string
}

func (e *errorLog) add(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.count++
	if len(e.samples) < maxErrorSamples {
		e.samples = append(e.samples, err.Error())
	}
}

// first is the first error message kept ("" when none).
func (e *errorLog) first() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.samples) == 0 {
		return ""
	}
	return e.samples[0]
}

// drive runs f(0) … f(n-1) on c workers and returns the successful
// results (in no particular order) and the failures. A cancelled ctx
// stops the workers and counts as a failure. Every benchmark's load
// (checkouts, registrations, notifications) goes through it, so they
// all offer their load alike.
func drive[T any](ctx context.Context, n, c int, f func(ctx context.Context, i int) (T, error)) ([]T, *errorLog) {
	var next atomic.Int64
	errs := &errorLog{}
	results := make([][]T, max(c, 1))
	var wg sync.WaitGroup
	for w := range results {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				r, err := f(ctx, i)
				if err != nil {
					errs.add(err)
					continue
				}
				results[w] = append(results[w], r)
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		errs.add(err)
	}
	var out []T
	for _, r := range results {
		out = append(out, r...)
	}
	return out, errs
}

// newKey returns a random Idempotency-Key (or shop order id).
func newKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
