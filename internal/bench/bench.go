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
	if err := o.normalise(); err != nil {
		return nil, err
	}
	progress := func(p string) {
		if o.Progress != nil {
			o.Progress(p)
		}
	}
	progress("setup")
	st, err := start(ctx, &o)
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := st.close(); cerr != nil && err == nil {
			err = fmt.Errorf("bench: shutting down: %w", cerr)
		}
	}()

	rep := &Report{DB: o.DB, DBVersion: st.dbVersion, Latency: o.Latency, Jitter: o.Jitter, N: o.N, Concurrency: o.Concurrency,
		Warmup: o.Warmup, Jobs: !o.NoJobs, IdempotencyKey: !o.NoIdempotencyKey, Machine: CurrentMachine()}

	if o.Warmup > 0 {
		progress("warmup")
		if _, errs := st.drive(ctx, o.Warmup, o.Concurrency); len(errs.samples) > 0 {
			return nil, fmt.Errorf("bench: warm-up checkout failed: %s", errs.samples[0])
		}
	}

	if st.analyze != nil && !o.NoAnalyze {
		if err := st.analyze(ctx); err != nil {
			return nil, fmt.Errorf("bench: analyze: %w", err)
		}
		rep.Analyzed = true
	}

	progress("run")
	calls0, conns0 := st.gatewayStats()
	rep.Machine.LoadAvgBefore = loadAvg()
	if o.CPUProfile != nil {
		if err := pprof.StartCPUProfile(o.CPUProfile); err != nil {
			return nil, fmt.Errorf("bench: cpu profile: %w", err)
		}
	}
	cpu0, began := processCPU(), time.Now()
	done, errs := st.drive(ctx, o.N, o.Concurrency)
	rep.Wall, rep.CPU = time.Since(began), processCPU()-cpu0
	if o.CPUProfile != nil {
		pprof.StopCPUProfile()
	}
	calls1, conns1 := st.gatewayStats()
	rep.GatewayCalls, rep.GatewayNewConns = calls1-calls0, conns1-conns0
	rep.Machine.LoadAvgAfter = loadAvg()
	rep.fill(done, errs)

	progress("verify")
	if len(done) > 0 {
		n, err := st.verify(ctx, done, o.Warmup+len(done)+errs.count)
		rep.Verified = n
		if err != nil {
			return rep, err
		}
	}
	if o.Inspect != nil {
		if err := o.Inspect(ctx, &Inspection{Sim: st.sim, MerchantID: st.merchantID, Store: st.store,
			ShopID: kessai.DefaultShopID, Orders: done}); err != nil {
			return rep, err
		}
	}
	if rep.Errors > 0 {
		return rep, fmt.Errorf("bench: %d of %d checkouts failed (first: %s)", rep.Errors, o.N, rep.ErrorSamples[0])
	}
	return rep, nil
}

func (o *Options) normalise() error {
	switch o.DB {
	case "":
		o.DB = SQLite
	case SQLite:
	case Postgres:
		if o.DatabaseURL == "" {
			return errors.New("bench: PostgreSQL needs a database URL")
		}
	default:
		return fmt.Errorf("bench: unknown database %q (sqlite or postgres)", o.DB)
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

// drive runs n checkouts with c workers and returns the successful ones.
func (st *stack) drive(ctx context.Context, n, c int) ([]Checkout, *errorLog) {
	var next atomic.Int64
	errs := &errorLog{}
	results := make([][]Checkout, c)
	var wg sync.WaitGroup
	for w := range c {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := next.Add(1)
				if i > int64(n) {
					return
				}
				co, err := st.checkout(ctx)
				if err != nil {
					errs.add(err)
					continue
				}
				results[w] = append(results[w], co)
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		errs.add(err)
	}
	var out []Checkout
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
