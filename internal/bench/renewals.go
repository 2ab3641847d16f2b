package bench

// RunRenewals measures subscription renewals against a gateway that serves
// a bounded number of calls at once: how close kessai's renewal engine
// comes to the throughput the cap allows, and how much memory it takes to
// do it.
//
// Setup (not measured). The stack is the card benchmark's (start): the
// store, the job runner, the service, the gateway factory and the card
// payer, with the simulator capped at Cap concurrent E1–E4 calls
// (sim.Config.MaxConcurrent) and every call taking Latency (a latency
// fault, spent inside the cap). The shop is the pro plan with renewals
// charged by 1Gathering. Seeding N subscriptions through the API would
// take a checkout (1Gathering with a token and 4MemAdd) per customer; the
// benchmark instead writes what such checkouts leave behind:
//
//   - per customer, a card member at the simulator (sim.AddMember, the
//     checks of a 4MemAdd) and the matching members row in the store
//     (Store.PutMember, the KaiinPass sealed as cardpay does);
//   - subscription 1 through renewal.Engine.Create (monthly, no initial
//     order, so its first period is due at once), and the other
//     N + Warmup − 1 as copies of that row with their own id and
//     customer, inserted with Store.CreateSubscription in the members'
//     transactions of seedBatch. The copies skip Create's
//     subscription.created event, which does not take part in a renewal.
//
// Measurement. Warmup renewals run first and are not measured (they open
// connections; PostgreSQL is analysed after them). Then Workers goroutines
// call Engine.Wake for each due subscription, fed by Engine.Due pages: the
// two calls the job runner's scan and wake jobs make, without River's
// queueing (one job row per wake) in between; ViaJobs measures through the
// job runner itself instead. Each renewal makes two gateway calls
// (4MemRefM, 1Gathering), so the cap allows Cap ÷ (2 × Latency) renewals
// per second; the report gives the achieved rate as a fraction of that,
// and splits the cap's slot time and each Wake's time to say what held it
// back.
//
// Verification. Every subscription (warm-up included) must have exactly
// one renewal, succeeded at the first attempt, with one captured payment
// on its order, and be active with one payment counted and its next wake a
// period ahead; the simulator must hold exactly one captured 1Gathering
// transaction per subscription, one per renewal order, and have served
// exactly 2N calls in the measured phase, never more than Cap at once.

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/escott/sim"
	"github.com/kessai/kessai/jobs"
	"github.com/kessai/kessai/renewal"
	"github.com/kessai/kessai/service"
	"github.com/kessai/kessai/subscription"
)

// Defaults of RenewalOptions.
const (
	DefaultRenewalN       = 100_000
	DefaultRenewalCap     = 16
	DefaultRenewalLatency = 50 * time.Millisecond
	// DefaultRenewalAmount is each renewal's charge in yen.
	DefaultRenewalAmount = 1000
	// DefaultProgressEvery is how often a running benchmark reports.
	DefaultProgressEvery = 10 * time.Second
	// DefaultRenewalWarmup is the number of renewals run before the
	// measured ones (at most a tenth of N): they open the database and
	// gateway connections and give PostgreSQL's ANALYZE rows to look at.
	DefaultRenewalWarmup = 1000
)

const (
	// duePage is how many due subscriptions one Engine.Due call lists:
	// the store's page limit (sqlstore.MaxLimit), and the job runner's
	// scan batch.
	duePage = 1000
	// maxRenewalWorkers keeps the subscriptions in flight (up to two per
	// worker: one being woken, one queued for it) well inside one Due
	// page, which has no cursor: a page must always show new ones.
	maxRenewalWorkers = 400
	// seedBatch is how many members and subscriptions one seeding
	// transaction writes.
	seedBatch = 1000
	// renewalDescription names the renewal orders' item.
	renewalDescription = "ベンチマーク定期便"
	// memberCardExp is the saved cards' expiry (YYMM).
	memberCardExp = "3012"
)

// RenewalOptions configure RunRenewals. The zero value renews
// DefaultRenewalN subscriptions on a temporary SQLite file against a
// simulator capped at DefaultRenewalCap calls of DefaultRenewalLatency.
type RenewalOptions struct {
	// DB, DatabaseURL and DataDir are as in Options.
	DB          string
	DatabaseURL string
	DataDir     string
	// N is the number of subscriptions, each renewed once.
	N int
	// Cap is the simulator's limit of concurrent gateway calls; Latency
	// the time each call takes inside it.
	Cap     int
	Latency time.Duration
	// Workers is how many wakes run at once; default 2 × Cap, so that
	// while a worker is in the database between its two calls another
	// one's call is waiting for the gateway.
	Workers int
	// Amount is each subscription's charge in yen.
	Amount int64
	// Warmup subscriptions more are seeded and renewed before the measured
	// N; zero means DefaultRenewalWarmup (at most N/10), negative none.
	Warmup int
	// NoJobs leaves the job runner stopped (see Options.NoJobs).
	NoJobs bool
	// ViaJobs runs the measured phase through the job runner instead of
	// the benchmark's own workers: its periodic scan (every second)
	// queues a subscription_wake job per due subscription and Workers
	// River workers on the renewals queue call Engine.Wake, which is how
	// `kessai serve` renews. The warm-up still uses the benchmark's
	// workers.
	ViaJobs bool
	// NoAnalyze skips the ANALYZE of the PostgreSQL schema after the
	// warm-up (see Options.NoAnalyze).
	NoAnalyze bool
	// ProgressEvery is how often Progress gets a line while renewals run
	// (default DefaultProgressEvery).
	ProgressEvery time.Duration
	// Progress, when set, receives one-line progress messages.
	Progress func(line string)
	// Logger receives the service's logs (see Options.Logger).
	Logger *slog.Logger
	// CPUProfile, when set, receives a CPU profile of the measured phase.
	CPUProfile io.Writer
	// Inspect, when set, is called after the verification with the parts
	// still running.
	Inspect func(ctx context.Context, in *RenewalInspection) error
}

// RenewalInspection is what RenewalOptions.Inspect sees.
type RenewalInspection struct {
	Sim        *sim.Server
	MerchantID string
	Store      kessai.Store
	ShopID     string
	Engine     *renewal.Engine
}

// RenewalReport is the outcome of RunRenewals.
type RenewalReport struct {
	DB        string
	DBVersion string
	N         int
	Cap       int
	Latency   time.Duration
	Workers   int
	Amount    int64
	Warmup    int
	Jobs      bool // the job runner was running
	ViaJobs   bool // the measured wakes ran as the job runner's jobs
	Analyzed  bool // the PostgreSQL schema was analysed after the warm-up

	// Seed is the wall time of seeding N + Warmup subscriptions, and
	// WarmupWall that of the warm-up's renewals (neither is measured
	// otherwise).
	Seed       time.Duration
	WarmupWall time.Duration

	// Renewed counts the Wake calls that returned without error after
	// gateway calls (a renewal), NoOpWakes those that returned without
	// one (nothing was due: the job runner may run a second wake job for
	// a subscription a scan listed just before the first one's wake
	// committed), Errors those that failed; Stuck the subscriptions still
	// due after their Wake returned (an outcome the engine left for
	// later), which the benchmark's own workers do not wake again. The
	// timings below are the renewals'.
	Renewed      int
	NoOpWakes    int
	Errors       int
	ErrorSamples []string
	Stuck        int

	// Wall is the measured phase: from the first Due to the last Wake
	// returning. PerSecond is Renewed ÷ Wall; MaxPerSecond the cap's
	// throughput, Cap ÷ (2 × Latency); Fraction PerSecond ÷ MaxPerSecond.
	Wall         time.Duration
	PerSecond    float64
	MaxPerSecond float64
	Fraction     float64
	// Wake is the wall time of one Wake call; Gateway the part of it in
	// its gateway calls (queueing at the cap included), from the gateway
	// factory's Observe hook; Own the rest: kessai's own time, mostly
	// the database. The workers must cover Wake: keeping the cap busy
	// takes about MaxPerSecond × mean Wake time of them, at least
	// MaxPerSecond × (2 × Latency + mean Own).
	Wake, GatewayTime, Own Dist
	// CPU is this process's CPU time in the measured phase (kessai and
	// the simulator; PostgreSQL's processes not included).
	CPU time.Duration

	// Gateway is the simulator's load during the measured phase.
	Gateway sim.CallStats
	// DBConns is the store's pool size (1 on SQLite: one connection
	// serialises every statement); DBWaits and DBWait count the times a
	// statement or transaction had to wait for a free connection, and
	// the total wait, in the measured phase (database/sql's DBStats).
	DBConns int
	DBWaits int64
	DBWait  time.Duration
	// GatewayNewConns counts connections the card client opened.
	GatewayNewConns int64

	Memory RenewalMemory

	// Verified counts the subscriptions (warm-up included) found renewed
	// exactly once.
	Verified int

	Machine Machine
}

// RenewalMemory is the process's memory around the measured phase. The
// simulator runs in the same process and keeps every member and
// transaction, so the heap after the run includes its N transactions;
// kessai's engine keeps nothing per renewal.
type RenewalMemory struct {
	// HeapAfterSeed and HeapAfterRun are the live heap right after a
	// forced GC, before and after the measured phase.
	HeapAfterSeed uint64 `json:"heap_after_seed"`
	HeapAfterRun  uint64 `json:"heap_after_run"`
	// HeapPeak is the highest heap in use (live objects and garbage not
	// yet collected) sampled every 250 ms during the phase, HeapLivePeak
	// the highest live heap measured by a GC during it.
	HeapPeak     uint64 `json:"heap_peak"`
	HeapLivePeak uint64 `json:"heap_live_peak"`
	// GoTotalPeak is the highest memory the Go runtime had mapped
	// (runtime/metrics /memory/classes/total), sampled likewise.
	GoTotalPeak uint64 `json:"go_total_peak"`
	// RSSAfterSeed is VmRSS before the phase; RSSPeak is VmHWM at its
	// end, reset before it when RSSPeakOfRun (Linux clear_refs 5), else
	// the whole process's peak, seeding included.
	RSSAfterSeed uint64 `json:"rss_after_seed"`
	RSSPeak      uint64 `json:"rss_peak"`
	RSSPeakOfRun bool   `json:"rss_peak_of_run"`
	// GCs is the number of collections in the phase.
	GCs uint64 `json:"gcs"`
}

// RunRenewals runs the renewal benchmark. It returns the report and, when
// a wake failed or the verification found a subscription not renewed
// exactly once, an error as well.
func RunRenewals(ctx context.Context, o RenewalOptions) (_ *RenewalReport, err error) {
	if err := o.normalise(); err != nil {
		return nil, err
	}
	say := func(format string, args ...any) {
		if o.Progress != nil {
			o.Progress(fmt.Sprintf(format, args...))
		}
	}
	say("setup: %s, simulator capped at %d calls of %s", o.DB, o.Cap, o.Latency)
	so := &Options{DB: o.DB, DatabaseURL: o.DatabaseURL, DataDir: o.DataDir, Latency: o.Latency, Concurrency: o.Workers,
		NoJobs: o.NoJobs, Logger: o.Logger, simMaxConcurrent: o.Cap}
	var gate *jobGate
	if o.ViaJobs {
		gate = &jobGate{}
		so.jobOptions = func(j *jobs.Options) {
			j.Renewals, j.RenewalWorkers, j.RenewalInterval = gate, o.Workers, time.Second
		}
	}
	st, err := start(ctx, so)
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := st.close(); cerr != nil && err == nil {
			err = fmt.Errorf("bench: shutting down: %w", cerr)
		}
	}()
	if err := st.configureRenewals(ctx); err != nil {
		return nil, err
	}
	eng := renewal.New(renewal.Config{Service: st.svc, Cards: st.payer, Logger: o.Logger.With("component", "renewal")})
	if gate != nil {
		gate.eng.Store(eng)
	}

	rep := &RenewalReport{DB: o.DB, DBVersion: st.dbVersion, N: o.N, Cap: o.Cap, Latency: o.Latency, Workers: o.Workers,
		Amount: o.Amount, Warmup: o.Warmup, Jobs: !o.NoJobs, ViaJobs: o.ViaJobs, MaxPerSecond: float64(o.Cap) / (2 * o.Latency.Seconds()), Machine: CurrentMachine()}

	total := o.N + o.Warmup
	say("seeding %d customers with saved cards and due subscriptions…", total)
	t0 := time.Now()
	if err := st.seedRenewals(ctx, eng, total, &o, say); err != nil {
		return nil, err
	}
	rep.Seed = time.Since(t0)
	say("seeded in %s", rep.Seed.Round(time.Millisecond))
	if o.Warmup > 0 {
		say("warm-up: %d renewals", o.Warmup)
		w := &waker{eng: eng, o: &o, sim: st.sim, max: rep.MaxPerSecond, say: say, limit: o.Warmup}
		w.run(ctx)
		rep.WarmupWall = w.wall
		if w.errs.count > 0 || w.stuck > 0 || int(w.renewed.Load()) != o.Warmup {
			return nil, fmt.Errorf("bench: warm-up: %d renewed, %d stuck, %d errors %q", w.renewed.Load(), w.stuck, w.errs.count, w.errs.samples)
		}
	}
	if st.analyze != nil && !o.NoAnalyze {
		if err := st.analyze(ctx); err != nil {
			return nil, fmt.Errorf("bench: analyze: %w", err)
		}
		rep.Analyzed = true
	}

	// The measured phase starts from a collected heap, fresh peaks and
	// fresh gateway counters.
	runtime.GC()
	rep.Memory.HeapAfterSeed = readMetric(metricHeapLive)
	rep.Memory.RSSAfterSeed = procStatus("VmRSS")
	rep.Memory.RSSPeakOfRun = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
	gcs0 := readMetric(metricGCs)
	db0 := st.sqlDB.Stats()
	st.sim.ResetCallStats()
	_, conns0 := st.gatewayStats()
	rep.Machine.LoadAvgBefore = loadAvg()
	if o.CPUProfile != nil {
		if err := pprof.StartCPUProfile(o.CPUProfile); err != nil {
			return nil, fmt.Errorf("bench: cpu profile: %w", err)
		}
	}
	w := &waker{eng: eng, o: &o, sim: st.sim, max: rep.MaxPerSecond, say: say}
	cpu0 := processCPU()
	if gate != nil {
		say("run: the job runner's scan and %d River workers wake due subscriptions; the cap allows %.1f renewals/s", o.Workers, rep.MaxPerSecond)
		gate.open(w)
		w.runJobs(ctx, st.runner.KickRenewals)
	} else {
		say("run: %d workers waking due subscriptions; the cap allows %.1f renewals/s", o.Workers, rep.MaxPerSecond)
		w.run(ctx)
	}
	rep.Wall, rep.CPU = w.wall, processCPU()-cpu0
	if o.CPUProfile != nil {
		pprof.StopCPUProfile()
	}
	rep.Gateway = st.sim.CallStats()
	db1 := st.sqlDB.Stats()
	rep.DBConns, rep.DBWaits, rep.DBWait = db1.MaxOpenConnections, db1.WaitCount-db0.WaitCount, db1.WaitDuration-db0.WaitDuration
	_, conns1 := st.gatewayStats()
	rep.GatewayNewConns = conns1 - conns0
	rep.Machine.LoadAvgAfter = loadAvg()
	rep.Memory.RSSPeak = procStatus("VmHWM")
	rep.Memory.HeapPeak, rep.Memory.HeapLivePeak, rep.Memory.GoTotalPeak = w.heapPeak, w.liveHeapPeak, w.goTotalPeak
	rep.Memory.GCs = readMetric(metricGCs) - gcs0
	runtime.GC()
	rep.Memory.HeapAfterRun = readMetric(metricHeapLive)

	rep.Renewed, rep.NoOpWakes, rep.Errors, rep.ErrorSamples, rep.Stuck = int(w.renewed.Load()), int(w.noop.Load()), w.errs.count,
		w.errs.samples, w.stuck
	if rep.Wall > 0 {
		rep.PerSecond = float64(rep.Renewed) / rep.Wall.Seconds()
		rep.Fraction = rep.PerSecond / rep.MaxPerSecond
	}
	own := make([]time.Duration, len(w.durations))
	for i, d := range w.durations {
		own[i] = d - w.gateway[i]
	}
	rep.Wake, rep.GatewayTime, rep.Own = summarise(w.durations), summarise(w.gateway), summarise(own)
	say("run done: %d renewals in %s, %.1f/s = %.1f %% of the cap's %.1f/s", rep.Renewed, rep.Wall.Round(time.Millisecond),
		rep.PerSecond, 100*rep.Fraction, rep.MaxPerSecond)
	if ctx.Err() != nil {
		return rep, ctx.Err()
	}

	say("verify…")
	n, verr := st.verifyRenewals(ctx, &o, total)
	rep.Verified = n
	if o.Inspect != nil {
		if err := o.Inspect(ctx, &RenewalInspection{Sim: st.sim, MerchantID: st.merchantID, Store: st.store,
			ShopID: kessai.DefaultShopID, Engine: eng}); err != nil {
			return rep, err
		}
	}
	switch {
	case rep.Renewed != o.N && rep.Errors == 0 && rep.Stuck == 0:
		return rep, fmt.Errorf("bench: %d renewals in the measured phase, want %d", rep.Renewed, o.N)
	case rep.Errors > 0:
		return rep, fmt.Errorf("bench: %d of %d wakes failed (first: %s)", rep.Errors, o.N, rep.ErrorSamples[0])
	case rep.Stuck > 0:
		return rep, fmt.Errorf("bench: %d subscriptions were still due after their wake", rep.Stuck)
	case verr != nil:
		return rep, verr
	}
	return rep, nil
}

func (o *RenewalOptions) normalise() error {
	if err := normaliseDB(&o.DB, o.DatabaseURL); err != nil {
		return err
	}
	if o.N <= 0 {
		o.N = DefaultRenewalN
	}
	if o.Cap <= 0 {
		o.Cap = DefaultRenewalCap
	}
	if o.Latency < 0 {
		return errors.New("bench: latency must not be negative")
	}
	if o.Latency == 0 {
		// The cap's throughput is defined by the latency; without one
		// there is nothing to compare with.
		o.Latency = DefaultRenewalLatency
	}
	if o.Workers <= 0 {
		o.Workers = 2 * o.Cap
	}
	if o.ViaJobs && o.NoJobs {
		return errors.New("bench: renewals through the job runner need the job runner")
	}
	if o.Workers > maxRenewalWorkers {
		return fmt.Errorf("bench: at most %d workers (a Due page lists %d subscriptions)", maxRenewalWorkers, duePage)
	}
	if o.Amount <= 0 {
		o.Amount = DefaultRenewalAmount
	}
	switch {
	case o.Warmup < 0:
		o.Warmup = 0
	case o.Warmup == 0:
		o.Warmup = min(DefaultRenewalWarmup, o.N/10)
	}
	if o.ProgressEvery <= 0 {
		o.ProgressEvery = DefaultProgressEvery
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	return nil
}

// configureRenewals makes the shop a pro shop whose renewals are
// captured at once (1Gathering), on top of configureShop's card settings.
func (st *stack) configureRenewals(ctx context.Context) error {
	patch := []byte(`{"plan": "pro", "card": {"subscription_operation": "1Gathering"}}`)
	if _, _, err := st.svc.UpdateSettings(ctx, kessai.DefaultShopID, patch, service.AnyVersion); err != nil {
		return fmt.Errorf("bench: renewal settings: %w", err)
	}
	return nil
}

// benchCustomer is the id of the i-th customer: short ASCII letters and
// digits, so that it is also the stem of the member's KaiinId, as
// cardpay's newMember makes it.
func benchCustomer(i int) string { return fmt.Sprintf("b%07d", i) }

// newBenchMember makes the i-th customer's member ids.
func newBenchMember(i int) (kessai.Member, error) {
	id, err := escott.NewKaiinID(benchCustomer(i), rand.Reader)
	if err != nil {
		return kessai.Member{}, err
	}
	pass, err := escott.NewKaiinPass(rand.Reader)
	if err != nil {
		return kessai.Member{}, err
	}
	return kessai.Member{ShopID: kessai.DefaultShopID, CustomerID: benchCustomer(i), KaiinID: id, KaiinPass: pass}, nil
}

// seedRenewals writes the N customers' members and due subscriptions
// (see the file comment).
func (st *stack) seedRenewals(ctx context.Context, eng *renewal.Engine, n int, o *RenewalOptions, say func(string, ...any)) error {
	now := st.svc.Now()
	addMember := func(i int) (kessai.Member, error) {
		m, err := newBenchMember(i)
		if err != nil {
			return m, err
		}
		m.CreatedAt, m.UpdatedAt = now, now
		if err := st.sim.AddMember(st.merchantID, "test", m.KaiinID, m.KaiinPass, Card, memberCardExp); err != nil {
			return m, fmt.Errorf("bench: simulator member: %w", err)
		}
		return m, nil
	}
	m, err := addMember(0)
	if err != nil {
		return err
	}
	if err := st.store.PutMember(ctx, &m); err != nil {
		return fmt.Errorf("bench: member: %w", err)
	}
	tmpl, err := eng.Create(ctx, kessai.DefaultShopID, renewal.CreateInput{CustomerID: m.CustomerID, Description: renewalDescription,
		Amount: o.Amount, Interval: subscription.Interval{Unit: subscription.Month, Count: 1}})
	if err != nil {
		return fmt.Errorf("bench: first subscription: %w", err)
	}
	if tmpl.WakeAt.IsZero() || tmpl.WakeAt.After(st.svc.Now()) || tmpl.Status != kessai.SubscriptionActive {
		return fmt.Errorf("bench: the first subscription is %s and wakes at %v, not due now", tmpl.Status, tmpl.WakeAt)
	}
	last := time.Now()
	for lo := 1; lo < n; lo += seedBatch {
		hi := min(lo+seedBatch, n)
		members := make([]kessai.Member, 0, hi-lo)
		for i := lo; i < hi; i++ {
			m, err := addMember(i)
			if err != nil {
				return err
			}
			members = append(members, m)
		}
		err := st.store.InTx(ctx, func(tx kessai.Store) error {
			for i := range members {
				m := &members[i]
				if err := tx.PutMember(ctx, m); err != nil {
					return err
				}
				sub := *tmpl
				sub.ID, sub.CustomerID = kessai.NewID(renewal.IDPrefix, now), m.CustomerID
				if err := tx.CreateSubscription(ctx, &sub); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("bench: seeding subscriptions %d–%d: %w", lo, hi-1, err)
		}
		if time.Since(last) >= o.ProgressEvery {
			say("  seeded %d of %d", hi, n)
			last = time.Now()
		}
	}
	return nil
}

// waker runs the measured phase: a feeder lists due subscriptions with
// Engine.Due and hands each one not yet handled to a pool of workers that
// call Engine.Wake.
type waker struct {
	eng wakeEngine
	o   *RenewalOptions
	sim *sim.Server
	max float64
	say func(string, ...any)
	// limit, when positive, stops the feeder after that many
	// subscriptions (the warm-up).
	limit int

	mu sync.Mutex
	// inflight are the subscriptions handed out whose Wake has not
	// returned; finished those whose Wake returned since the feeder's
	// last Due began. Both stay as small as the pool: nothing is kept
	// per renewal, so the benchmark's own memory does not grow with N.
	inflight, finished map[string]bool
	// skip are the subscriptions still due after their Wake (stuck).
	skip  map[string]bool
	stuck int
	// done is signalled when a Wake returns.
	done chan struct{}

	renewed, noop atomic.Int64
	errs          errorLog
	// durations are the Wake calls' wall times and gateway their time in
	// gateway calls: 16 bytes per renewal, the benchmark's only
	// per-renewal memory. Guarded by mu.
	durations, gateway []time.Duration
	lastDone           time.Time // when the latest Wake returned

	wall                                time.Duration
	heapPeak, liveHeapPeak, goTotalPeak uint64
}

// jobGate is the engine as the job runner sees it with ViaJobs: closed
// (nothing is due) until the measured phase opens it, so that the
// runner's periodic scan leaves the subscriptions alone while they are
// seeded and warmed up; then Wake is the waker's, which times and counts
// each wake as the benchmark's own workers do.
type jobGate struct {
	eng atomic.Pointer[renewal.Engine]
	w   atomic.Pointer[waker]
}

func (g *jobGate) open(w *waker) { g.w.Store(w) }

// Due implements jobs.Renewals.
func (g *jobGate) Due(ctx context.Context, limit int) ([]kessai.Subscription, error) {
	if g.w.Load() == nil {
		return nil, nil
	}
	return g.eng.Load().Due(ctx, limit)
}

// Wake implements jobs.Renewals.
func (g *jobGate) Wake(ctx context.Context, shopID, id string) error {
	w := g.w.Load()
	if w == nil {
		return errors.New("bench: a wake job before the measured phase")
	}
	return w.wake(ctx, shopID, id)
}

// runJobs is the measured phase through the job runner: kick a scan,
// then wait until N wakes have succeeded. Wall time ends at the last
// one. A phase without progress for noProgressLimit is given up.
func (w *waker) runJobs(ctx context.Context, kick func()) {
	const noProgressLimit = 5 * time.Minute
	began := time.Now()
	stopWatch := w.watch(ctx, began)
	defer stopWatch()
	kick()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	last, lastAt := int64(0), began
	for {
		n := w.renewed.Load()
		if n >= int64(w.o.N) {
			break
		}
		if n != last {
			last, lastAt = n, time.Now()
		} else if time.Since(lastAt) > noProgressLimit {
			w.errs.add(fmt.Errorf("no wake succeeded for %s (%d of %d renewed)", noProgressLimit, n, w.o.N))
			break
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			w.errs.add(ctx.Err())
			w.wall = time.Since(began)
			return
		}
	}
	w.mu.Lock()
	w.wall = w.lastDone.Sub(began)
	w.mu.Unlock()
}

// wakeEngine is the part of renewal.Engine the measured phase calls: the
// job runner's interface (jobs.Renewals), restated so that the feeder can
// be tested with a fake.
type wakeEngine interface {
	Due(ctx context.Context, limit int) ([]kessai.Subscription, error)
	Wake(ctx context.Context, shopID, id string) error
}

func subKey(s *kessai.Subscription) string { return s.ShopID + "/" + s.ID }

func (w *waker) run(ctx context.Context) {
	w.inflight, w.finished, w.skip = map[string]bool{}, map[string]bool{}, map[string]bool{}
	w.done = make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Queue room for one subscription per worker: a worker finishing a
	// Wake finds the next one waiting, and the feeder blocks (instead of
	// listing more) while the pool is busy.
	queue := make(chan kessai.Subscription, w.o.Workers)
	maxErrors := max(100, w.o.N/100)

	began := time.Now()
	stopWatch := w.watch(ctx, began)
	var wg sync.WaitGroup
	for range w.o.Workers {
		wg.Go(func() {
			for s := range queue {
				if err := w.wake(ctx, s.ShopID, s.ID); err != nil && w.errorCount() > maxErrors {
					cancel() // something is broken; do not grind through N
				}
				k := subKey(&s)
				w.mu.Lock()
				delete(w.inflight, k)
				w.finished[k] = true
				w.mu.Unlock()
				select {
				case w.done <- struct{}{}:
				default:
				}
			}
		})
	}
	w.feed(ctx, queue)
	close(queue)
	wg.Wait()
	w.wall = time.Since(began)
	stopWatch()
	if err := ctx.Err(); err != nil && w.errorCount() <= maxErrors {
		w.errs.add(err)
	}
}

// wake calls Engine.Wake and records its outcome and times.
func (w *waker) wake(ctx context.Context, shopID, id string) error {
	// The gateway factory's Observe hook adds each call's duration to
	// the probe in the context (stack.go).
	p := &probe{}
	t := time.Now()
	err := w.eng.Wake(context.WithValue(ctx, probeKey{}, p), shopID, id)
	d := time.Since(t)
	if err != nil {
		w.errs.add(fmt.Errorf("wake %s: %w", id, err))
		return err
	}
	if p.calls.Load() == 0 {
		w.noop.Add(1)
		return nil
	}
	w.mu.Lock()
	w.lastDone = t.Add(d)
	w.durations = append(w.durations, d)
	w.gateway = append(w.gateway, time.Duration(p.gateway.Load()))
	w.mu.Unlock()
	w.renewed.Add(1)
	return nil
}

func (w *waker) errorCount() int {
	w.errs.mu.Lock()
	defer w.errs.mu.Unlock()
	return w.errs.count
}

// feed lists due subscriptions until none is left that was not handled.
// A Due page has no cursor and lists the soonest first, so it shows the
// subscriptions in flight again; they are skipped, and so are those whose
// Wake returned while the page was being read (the page may predate their
// write). One whose Wake returned before the page was read and that is
// still on it stayed due: it is stuck, and not woken again.
func (w *waker) feed(ctx context.Context, queue chan<- kessai.Subscription) {
	var fresh []kessai.Subscription
	sent := 0
	for ctx.Err() == nil && (w.limit <= 0 || sent < w.limit) {
		w.mu.Lock()
		checked := w.finished
		w.finished = map[string]bool{}
		w.mu.Unlock()
		subs, err := w.eng.Due(ctx, duePage)
		if err != nil {
			w.errs.add(fmt.Errorf("due: %w", err))
			if ctx.Err() == nil {
				time.Sleep(100 * time.Millisecond)
			}
			continue
		}
		fresh = fresh[:0]
		w.mu.Lock()
		for _, s := range subs {
			k := subKey(&s)
			switch {
			case w.inflight[k], w.finished[k], w.skip[k]:
			case checked[k]:
				w.skip[k] = true
				w.stuck++
			case w.limit > 0 && sent+len(fresh) >= w.limit:
			default:
				w.inflight[k] = true
				fresh = append(fresh, s)
			}
		}
		idle := len(w.inflight) == 0
		w.mu.Unlock()
		if len(fresh) == 0 {
			if idle {
				return
			}
			select { // wait for a Wake to return, then look again
			case <-w.done:
			case <-ctx.Done():
			}
			continue
		}
		for _, s := range fresh {
			select {
			case queue <- s:
				sent++
			case <-ctx.Done():
				return
			}
		}
	}
}

// watch samples memory every 250 ms and reports progress every
// ProgressEvery until the returned stop is called.
func (w *waker) watch(ctx context.Context, began time.Time) (stop func()) {
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		sample := time.NewTicker(250 * time.Millisecond)
		defer sample.Stop()
		report := time.NewTicker(w.o.ProgressEvery)
		defer report.Stop()
		lastN, lastT, lastCS := int64(0), began, sim.CallStats{}
		if w.sim != nil {
			lastCS = w.sim.CallStats()
		}
		for {
			select {
			case <-quit:
				w.sampleMemory()
				return
			case <-ctx.Done():
				w.sampleMemory()
				return
			case <-sample.C:
				w.sampleMemory()
			case now := <-report.C:
				n, target := w.renewed.Load(), w.o.N
				if w.limit > 0 {
					target = w.limit
				}
				dt := now.Sub(lastT)
				rate := float64(n-lastN) / dt.Seconds()
				var cs sim.CallStats
				if w.sim != nil {
					cs = w.sim.CallStats()
				}
				// Slot shares of this interval (a call counts as busy
				// when it finishes, so they are approximate).
				slot := float64(max(cs.MaxConcurrent, 1)) * dt.Seconds()
				w.say("  %6s  %7d of %d renewed  %6.1f/s (%5.1f %% of the cap)  slots: %4.1f %% busy, %4.1f %% idle, %4.1f %% hand-off; %2d queued  errors %d  heap %s",
					now.Sub(began).Round(time.Second), n, target, rate, 100*rate/w.max,
					100*(cs.BusyTime-lastCS.BusyTime).Seconds()/slot, 100*(cs.IdleTime-lastCS.IdleTime).Seconds()/slot,
					100*(cs.HandoffTime-lastCS.HandoffTime).Seconds()/slot, cs.Queued, w.errorCount(), mib(readMetric(metricHeapObjects)))
				lastN, lastT, lastCS = n, now, cs
			}
		}
	})
	return func() { close(quit); wg.Wait() }
}

func (w *waker) sampleMemory() {
	w.heapPeak = max(w.heapPeak, readMetric(metricHeapObjects))
	w.liveHeapPeak = max(w.liveHeapPeak, readMetric(metricHeapLive))
	w.goTotalPeak = max(w.goTotalPeak, readMetric(metricGoTotal))
}

// runtime/metrics names used for the memory figures.
const (
	metricHeapObjects = "/memory/classes/heap/objects:bytes"
	metricHeapLive    = "/gc/heap/live:bytes"
	metricGoTotal     = "/memory/classes/total:bytes"
	metricGCs         = "/gc/cycles/total:gc-cycles"
)

func readMetric(name string) uint64 {
	s := []metrics.Sample{{Name: name}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

// procStatus reads a "kB" line of /proc/self/status in bytes (0 where
// there is no /proc).
func procStatus(key string) uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || k != key {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return 0
		}
		return n << 10
	}
	return 0
}

func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// verifyRenewals checks that every subscription was renewed exactly once
// (see the file comment) and returns how many passed.
func (st *stack) verifyRenewals(ctx context.Context, o *RenewalOptions, total int) (int, error) {
	var errs []error
	fail := func(err error) bool {
		errs = append(errs, err)
		return len(errs) >= maxErrorSamples
	}
	// The simulator's side: one captured 1Gathering transaction per
	// subscription, one per order, made with 2 calls per renewal of the
	// measured phase (the counters were reset after the warm-up).
	txns := st.sim.Transactions(st.merchantID, "test")
	byOrder := make(map[string]*sim.TransactionView, len(txns))
	if len(txns) != total {
		fail(fmt.Errorf("bench: the simulator holds %d transactions, want %d", len(txns), total))
	}
	for i := range txns {
		t := &txns[i]
		if byOrder[t.MerchantFree2] != nil {
			if fail(fmt.Errorf("bench: order %s charged twice at the simulator", t.MerchantFree2)) {
				return 0, errors.Join(errs...)
			}
			continue
		}
		byOrder[t.MerchantFree2] = t
	}
	cs := st.sim.CallStats()
	if cs.Served != int64(2*o.N) || cs.PeakInFlight > int64(o.Cap) {
		fail(fmt.Errorf("bench: the simulator served %d calls, at most %d at once; want %d, at most %d",
			cs.Served, cs.PeakInFlight, 2*o.N, o.Cap))
	}

	// The store's side, subscription by subscription.
	now := st.svc.Now()
	ok, seen, after := 0, 0, ""
	for len(errs) < maxErrorSamples {
		page, err := st.store.ListSubscriptions(ctx, kessai.DefaultShopID, kessai.SubscriptionFilter{}, kessai.Page{Limit: duePage, After: after})
		if err != nil {
			return ok, errors.Join(append(errs, err)...)
		}
		if len(page) == 0 {
			break
		}
		after = page[len(page)-1].ID
		for i := range page {
			seen++
			if err := st.verifyRenewal(ctx, &page[i], byOrder, now, o.Amount); err != nil {
				if fail(err) {
					break
				}
				continue
			}
			ok++
		}
	}
	if len(errs) < maxErrorSamples && seen != total {
		fail(fmt.Errorf("bench: the store holds %d subscriptions, want %d", seen, total))
	}
	return ok, errors.Join(errs...)
}

func (st *stack) verifyRenewal(ctx context.Context, s *kessai.Subscription, byOrder map[string]*sim.TransactionView, now time.Time, amount int64) error {
	if s.Status != kessai.SubscriptionActive || s.Paid != 1 || s.Failures != 0 || s.Unconfirmed || !s.WakeAt.After(now) {
		return fmt.Errorf("bench: subscription %s: %s, %d paid, %d failures, unconfirmed %v, wakes %v: want active, 1, 0, false, later",
			s.ID, s.Status, s.Paid, s.Failures, s.Unconfirmed, s.WakeAt)
	}
	rs, err := st.store.ListRenewals(ctx, s.ShopID, s.ID)
	if err != nil {
		return err
	}
	if len(rs) != 1 || rs[0].Status != kessai.RenewalSucceeded || rs[0].Attempts != 1 {
		return fmt.Errorf("bench: subscription %s has %d renewals (first %+v), want 1 succeeded at the first attempt", s.ID, len(rs), rs)
	}
	orderID := rs[0].OrderID
	pays, err := st.store.ListPayments(ctx, s.ShopID, orderID)
	if err != nil {
		return err
	}
	if len(pays) != 1 || pays[0].State != kessai.PaymentCaptured || pays[0].Amount != amount {
		return fmt.Errorf("bench: renewal order %s has %d payments (first %+v), want 1 captured of %d yen", orderID, len(pays), pays, amount)
	}
	t := byOrder[orderID]
	switch {
	case t == nil:
		return fmt.Errorf("bench: renewal order %s has no transaction at the simulator", orderID)
	case t.Status != "CAPTURED" || t.OriginalOp != escott.OpGathering || t.Amount != amount || t.MerchantFree3 != s.CustomerID:
		return fmt.Errorf("bench: renewal order %s: simulator transaction %s is %s %s of %d yen for %q",
			orderID, t.ProcessID, t.OriginalOp, t.Status, t.Amount, t.MerchantFree3)
	}
	return nil
}

// SlotShares splits the cap's slot time in the measured phase (Cap ×
// Wall): busy serving calls, idle (free with no call queued: kessai did
// not send enough) and hand-off (free while a call was queued: the
// simulator had not started the next call yet). Achieved ÷ cap rate =
// busy × Latency ÷ the mean call's service time.
func (r *RenewalReport) SlotShares() (busy, idle, handoff float64) {
	if r.Wall <= 0 || r.Cap == 0 {
		return 0, 0, 0
	}
	slot := float64(r.Cap) * r.Wall.Seconds()
	g := r.Gateway
	return g.BusyTime.Seconds() / slot, g.IdleTime.Seconds() / slot, g.HandoffTime.Seconds() / slot
}

// MeanCall is the mean time a call held its slot: Latency plus the
// simulator's own time (timer lateness, processing).
func (r *RenewalReport) MeanCall() time.Duration {
	if r.Gateway.Served == 0 {
		return 0
	}
	return r.Gateway.BusyTime / time.Duration(r.Gateway.Served)
}

// MarshalJSON writes durations in milliseconds and snake_case names.
func (r *RenewalReport) MarshalJSON() ([]byte, error) {
	cs := r.Gateway
	perCall := func(d time.Duration, n int64) float64 {
		if n == 0 {
			return 0
		}
		return ms(d / time.Duration(n))
	}
	busy, idle, handoff := r.SlotShares()
	dbWaitPer := 0.0
	if r.Renewed > 0 {
		dbWaitPer = ms(r.DBWait / time.Duration(r.Renewed))
	}
	cpuPer := 0.0
	if r.Renewed > 0 {
		cpuPer = ms(r.CPU / time.Duration(r.Renewed))
	}
	return json.Marshal(struct {
		DB               string        `json:"db"`
		DBVersion        string        `json:"db_version"`
		N                int           `json:"n"`
		Cap              int           `json:"cap"`
		LatencyMS        float64       `json:"sim_latency_ms"`
		Workers          int           `json:"workers"`
		Amount           int64         `json:"amount"`
		Jobs             bool          `json:"job_runner"`
		ViaJobs          bool          `json:"via_job_runner"`
		Analyzed         bool          `json:"analyzed"`
		Warmup           int           `json:"warmup"`
		WarmupMS         float64       `json:"warmup_ms"`
		SeedMS           float64       `json:"seed_ms"`
		Renewed          int           `json:"renewed"`
		NoOpWakes        int           `json:"no_op_wakes"`
		Errors           int           `json:"errors"`
		ErrorSamples     []string      `json:"error_samples,omitempty"`
		Stuck            int           `json:"stuck"`
		WallMS           float64       `json:"wall_ms"`
		PerSecond        float64       `json:"renewals_per_second"`
		MaxPerSecond     float64       `json:"cap_renewals_per_second"`
		Fraction         float64       `json:"fraction_of_cap"`
		Wake             Dist          `json:"wake"`
		GatewayTime      Dist          `json:"wake_gateway"`
		Own              Dist          `json:"wake_own"`
		CPUPerRenewal    float64       `json:"cpu_ms_per_renewal"`
		GatewayCalls     int64         `json:"gateway_calls"`
		PeakInFlight     int64         `json:"gateway_peak_in_flight"`
		PeakQueued       int64         `json:"gateway_peak_queued"`
		Waited           int64         `json:"gateway_calls_queued"`
		MeanWaitMS       float64       `json:"gateway_mean_queue_wait_ms"`
		MeanServiceMS    float64       `json:"gateway_mean_service_ms"`
		SlotBusy         float64       `json:"gateway_slot_busy"`
		SlotIdle         float64       `json:"gateway_slot_idle"`
		SlotHandoff      float64       `json:"gateway_slot_handoff"`
		GatewayNewConns  int64         `json:"gateway_new_connections"`
		DBConns          int           `json:"db_pool_size"`
		DBWaits          int64         `json:"db_pool_waits"`
		DBWaitPerRenewal float64       `json:"db_pool_wait_ms_per_renewal"`
		Memory           RenewalMemory `json:"memory_bytes"`
		Verified         int           `json:"verified"`
		Machine          Machine       `json:"machine"`
	}{r.DB, r.DBVersion, r.N, r.Cap, ms(r.Latency), r.Workers, r.Amount, r.Jobs, r.ViaJobs, r.Analyzed, r.Warmup, ms(r.WarmupWall), ms(r.Seed),
		r.Renewed, r.NoOpWakes, r.Errors, r.ErrorSamples, r.Stuck, ms(r.Wall), r.PerSecond, r.MaxPerSecond, r.Fraction, r.Wake, r.GatewayTime, r.Own,
		cpuPer, cs.Served,
		cs.PeakInFlight, cs.PeakQueued, cs.Waited, perCall(cs.WaitTime, cs.Served), perCall(cs.BusyTime, cs.Served),
		busy, idle, handoff, r.GatewayNewConns, r.DBConns, r.DBWaits, dbWaitPer, r.Memory, r.Verified, r.Machine})
}

// WriteTable prints the report for people.
func (r *RenewalReport) WriteTable(w io.Writer) error {
	m, cs, mem := r.Machine, r.Gateway, r.Memory
	jobs := "on"
	if !r.Jobs {
		jobs = "off"
	}
	analyzed := ""
	if r.Analyzed {
		analyzed = ", ANALYZE after the warm-up"
	}
	fmt.Fprintf(w, "subscription renewals against a capped gateway: %s (%s), %d subscriptions of %d yen\n", r.DB, r.DBVersion, r.N, r.Amount)
	fmt.Fprintf(w, "  gateway: at most %d concurrent calls of %s each → %.1f renewals/s at 2 calls per renewal\n", r.Cap, r.Latency, r.MaxPerSecond)
	if r.ViaJobs {
		fmt.Fprintf(w, "  through the job runner: its scan queues wake jobs, %d River workers call Engine.Wake%s\n", r.Workers, analyzed)
	} else {
		fmt.Fprintf(w, "  %d workers calling Engine.Wake, fed by Engine.Due pages; job runner %s%s\n", r.Workers, jobs, analyzed)
	}
	fmt.Fprintf(w, "  machine: %d CPUs, %s, %s/%s, %s, load %s → %s\n\n", m.CPUs, m.CPUModel, m.OS, m.Arch, m.Go, m.LoadAvgBefore, m.LoadAvgAfter)
	fmt.Fprintf(w, "  not measured: seeding %d subscriptions %s, warm-up of %d renewals %s\n", r.N+r.Warmup, r.Seed.Round(time.Millisecond),
		r.Warmup, r.WarmupWall.Round(time.Millisecond))
	fmt.Fprintf(w, "  renewed: %d in %s = %.1f/s = %.1f %% of the cap's %.1f/s\n", r.Renewed, r.Wall.Round(time.Millisecond),
		r.PerSecond, 100*r.Fraction, r.MaxPerSecond)
	fmt.Fprintf(w, "\n  %-32s %8s %8s %8s %8s %8s\n", "one Wake, ms", "p50", "p90", "p99", "max", "mean")
	for _, row := range []struct {
		name string
		d    Dist
	}{{"wall time", r.Wake}, {"in gateway calls (with queueing)", r.GatewayTime}, {"kessai's own (database, CPU)", r.Own}} {
		d := row.d
		fmt.Fprintf(w, "  %-32s %8.1f %8.1f %8.1f %8.1f %8.1f\n", row.name, ms(d.P50), ms(d.P90), ms(d.P99), ms(d.Max), ms(d.Mean))
	}
	if r.Wake.Mean > 0 {
		fmt.Fprintf(w, "  workers to keep the cap busy: at least %.0f (cap rate × (2 × latency + mean own time)); %d ran\n\n",
			r.MaxPerSecond*(2*r.Latency+r.Own.Mean).Seconds(), r.Workers)
	}
	if cs.Served > 0 {
		perRenewal := 0.0
		if r.Renewed > 0 {
			perRenewal = float64(cs.Served) / float64(r.Renewed)
		}
		busy, idle, handoff := r.SlotShares()
		fmt.Fprintf(w, "  gateway: %d calls (%.2f per renewal), peak %d in flight (cap %d); %d calls queued (peak queue %d), mean wait %.1f ms; %d new connections\n",
			cs.Served, perRenewal, cs.PeakInFlight, cs.MaxConcurrent, cs.Waited, cs.PeakQueued,
			ms(cs.WaitTime/time.Duration(cs.Served)), r.GatewayNewConns)
		fmt.Fprintf(w, "  slot time: %.1f %% busy, %.1f %% idle (nothing queued), %.1f %% hand-off (queued, not started); mean call %.2f ms for %s of latency\n",
			100*busy, 100*idle, 100*handoff, ms(r.MeanCall()), r.Latency)
	}
	if r.Renewed > 0 {
		fmt.Fprintf(w, "  database pool: %d connections; waited for one %d times, %.1f ms per renewal\n", r.DBConns, r.DBWaits,
			ms(r.DBWait/time.Duration(r.Renewed)))
	}
	if r.Renewed > 0 && r.Wall > 0 {
		fmt.Fprintf(w, "  CPU of this process: %.2f ms per renewal (kessai and simulator), %.0f %% of %d CPUs\n",
			ms(r.CPU/time.Duration(r.Renewed)), 100*r.CPU.Seconds()/(r.Wall.Seconds()*float64(m.CPUs)), m.CPUs)
	}
	rss := "peak RSS during the run"
	if !mem.RSSPeakOfRun {
		rss = "peak RSS of the process"
	}
	fmt.Fprintf(w, "  memory: live heap %s after seeding, %s after the run (the in-process simulator keeps every member and transaction)\n",
		mib(mem.HeapAfterSeed), mib(mem.HeapAfterRun))
	fmt.Fprintf(w, "          during the run: heap in use ≤ %s, live ≤ %s, Go runtime total ≤ %s, %d GCs; RSS %s after seeding, %s %s\n",
		mib(mem.HeapPeak), mib(mem.HeapLivePeak), mib(mem.GoTotalPeak), mem.GCs, mib(mem.RSSAfterSeed), rss, mib(mem.RSSPeak))
	fmt.Fprintf(w, "  errors: %d, still due after their wake: %d, wakes with nothing due: %d, verified renewed exactly once: %d\n",
		r.Errors, r.Stuck, r.NoOpWakes, r.Verified)
	for _, s := range r.ErrorSamples {
		fmt.Fprintf(w, "    %s\n", s)
	}
	_, err := fmt.Fprintln(w)
	return err
}
