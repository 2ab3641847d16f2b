package bench

// RunCollections and RunNotifications measure online payment collections
// (convenience stores, Pay-easy: package cvspay) through the API, on the
// stack RunCard uses (start), which wires the collection engine as
// `kessai serve` does.
//
// RunCollections drives registrations as a shop's backend would: POST
// /v1/orders, then POST /v1/orders/{id}/collect, both with an
// Idempotency-Key. The /collect call carries a probe (probeMiddleware), so
// its 2Add round trip is known exactly and the added latency is the
// call's wall time at the client minus that round trip, as for /pay.
//
// RunNotifications measures the other half: the payment notifications
// (入金結果通知) the gateway posts to /escott/notify, each of which kessai
// confirms with a 2Ref before recording the payment. Outside the timed
// phase it registers the collections through the API and pays them at the
// simulator while the stack's captureMiddleware holds the simulator's
// notifications back; the timed phase then posts exactly those bodies to
// the receiver from Concurrency workers, as the gateway would deliver
// them. The receiver answers 200 whatever happens (NOTIFY-02), so a
// notification's success is judged by its effect: the probe must have
// seen its 2Ref, and the verification requires every collection to be
// paid with exactly one payment.paid event.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/escott/sim"
)

// collectionBilling is a billing identity a collection accepts (CVS-02:
// kanji and kana names and a phone number are required at the gateway).
var collectionBilling = map[string]any{"last_name": "山田", "first_name": "太郎", "last_name_kana": "ヤマダ",
	"first_name_kana": "タロウ", "email": "taro@example.jp", "phone": "090-1234-5678"}

// notifyPath is the receiver's clean path, the simulator's NotifyURL.
const notifyPath = "/escott/notify"

// Simulator collection states (sim.CollectionView.Status).
const (
	simUnpaid = "UNPAID"
	simPaid   = "PAID"
)

// CollectionReport is the outcome of RunCollections. Durations are per
// /collect call unless said otherwise.
type CollectionReport struct {
	DB             string
	DBVersion      string
	Latency        time.Duration // added by the simulator to each gateway call
	Jitter         time.Duration // plus up to this much more
	N              int           // registrations asked for
	Concurrency    int
	Warmup         int
	Jobs           bool // the job runner was running
	IdempotencyKey bool // requests carried an Idempotency-Key
	Analyzed       bool // the PostgreSQL schema was analysed after the warm-up

	// Registrations completed; Errors failed (must be 0).
	Registrations int
	Errors        int
	ErrorSamples  []string
	// Verified is how many completed registrations were found registered
	// exactly once at the simulator (one unpaid collection of the order)
	// and recorded in the store (a pending payment, the order on hold).
	Verified int

	// Wall is the measured phase's duration; PerSecond is
	// Registrations/Wall, each being an order creation and a /collect.
	Wall      time.Duration
	PerSecond float64
	// CPU is this process's CPU time in the measured phase (kessai, the
	// simulator and the client; not PostgreSQL's processes).
	CPU time.Duration

	// Added is Total minus Gateway: what kessai adds, as the shop sees it.
	// Total is the /collect call's wall time at the client, Gateway the
	// sum of its gateway round trips (its 2Add).
	Added, Total, Gateway Dist
	// HandlerAdded is the handler's time minus Gateway: kessai's own work
	// without the shop-side HTTP hop.
	HandlerAdded Dist
	// CreateOrder is the POST /v1/orders before each /collect.
	CreateOrder Dist
	// GatewayCalls and GatewayNewConns count the collection client's
	// calls and newly opened connections in the measured phase.
	GatewayCalls    int64
	GatewayNewConns int64

	Machine Machine
}

// NotificationReport is the outcome of RunNotifications. Durations are
// per notification (POST /escott/notify) unless said otherwise.
type NotificationReport struct {
	DB          string
	DBVersion   string
	Latency     time.Duration // added by the simulator to each gateway call (the 2Ref)
	Jitter      time.Duration
	N           int // notifications (one per collection) asked for
	Concurrency int
	Warmup      int
	Jobs        bool
	Analyzed    bool

	// Notifications sent and applied (answered 200 with an empty body,
	// after a 2Ref); Errors failed (must be 0).
	Notifications int
	Errors        int
	ErrorSamples  []string
	// Verified is how many of the measured collections were found paid
	// exactly once: the payment paid, its order out of on-hold, and one
	// payment.paid event about it.
	Verified int

	// Setup is the wall time of registering and paying the collections
	// (not measured otherwise).
	Setup time.Duration
	// Wall is the measured phase's duration; PerSecond is
	// Notifications/Wall.
	Wall      time.Duration
	PerSecond float64
	// CPU is this process's CPU time in the measured phase.
	CPU time.Duration

	// Added is Total minus Gateway; Total is the notification's wall time
	// at the client (the receiver answers once the payment is recorded),
	// Gateway its 2Ref round trip.
	Added, Total, Gateway Dist
	// GatewayCalls counts the collection client's calls in the measured
	// phase: one 2Ref per notification.
	GatewayCalls int64

	Machine Machine
}

// RunCollections measures collection registration (convenience store /
// Pay-easy): POST /v1/orders then POST /v1/orders/{id}/collect with an
// Idempotency-Key, through the API against the simulator with o.Latency.
// It returns the report and, when any registration failed or the checks
// found one not registered exactly once, an error as well: such a run
// must not be quoted. Options.Inspect sees the measured registrations as
// Inspection.Orders (Total being the /collect call).
func RunCollections(ctx context.Context, o Options) (_ *CollectionReport, err error) {
	if err := o.normalise(); err != nil {
		return nil, err
	}
	progress := o.colProgress()
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

	rep := &CollectionReport{DB: o.DB, DBVersion: st.dbVersion, Latency: o.Latency, Jitter: o.Jitter, N: o.N,
		Concurrency: o.Concurrency, Warmup: o.Warmup, Jobs: !o.NoJobs, IdempotencyKey: !o.NoIdempotencyKey,
		Machine: CurrentMachine()}

	if o.Warmup > 0 {
		progress("warmup")
		if _, errs := colWorkers(ctx, o.Warmup, o.Concurrency, func(ctx context.Context, _ int) (Checkout, error) {
			return st.register(ctx)
		}); errs.count > 0 {
			return nil, fmt.Errorf("bench: warm-up registration failed: %s", errs.first())
		}
	}
	if st.analyze != nil && !o.NoAnalyze {
		if err := st.analyze(ctx); err != nil {
			return nil, fmt.Errorf("bench: analyze: %w", err)
		}
		rep.Analyzed = true
	}

	progress("run")
	calls0, conns0 := st.collectionStats()
	rep.Machine.LoadAvgBefore = loadAvg()
	if o.CPUProfile != nil {
		if err := pprof.StartCPUProfile(o.CPUProfile); err != nil {
			return nil, fmt.Errorf("bench: cpu profile: %w", err)
		}
	}
	cpu0, began := processCPU(), time.Now()
	done, errs := colWorkers(ctx, o.N, o.Concurrency, func(ctx context.Context, _ int) (Checkout, error) {
		return st.register(ctx)
	})
	rep.Wall, rep.CPU = time.Since(began), processCPU()-cpu0
	if o.CPUProfile != nil {
		pprof.StopCPUProfile()
	}
	calls1, conns1 := st.collectionStats()
	rep.GatewayCalls, rep.GatewayNewConns = calls1-calls0, conns1-conns0
	rep.Machine.LoadAvgAfter = loadAvg()
	rep.Registrations, rep.Errors, rep.ErrorSamples = len(done), errs.count, errs.samples
	rep.PerSecond = colPerSecond(len(done), rep.Wall)
	rep.Added, rep.Total, rep.Gateway, rep.HandlerAdded, rep.CreateOrder = colDists(done)

	progress("verify")
	var failed error
	if rep.Errors > 0 {
		failed = fmt.Errorf("bench: %d of %d registrations failed (first: %s)", rep.Errors, o.N, errs.first())
	}
	if len(done) > 0 {
		n, err := st.verifyRegistrations(ctx, done, o.Warmup+len(done)+errs.count)
		rep.Verified = n
		if err != nil {
			return rep, errors.Join(failed, err)
		}
	}
	if err := st.inspect(ctx, done); err != nil {
		return rep, errors.Join(failed, err)
	}
	return rep, failed
}

// RunNotifications registers o.N collections through the API (not
// timed), pays them at the simulator with the notifications captured
// instead of delivered, then posts each to /escott/notify from
// o.Concurrency workers (timed), and verifies that every collection is
// paid exactly once. o.Warmup more collections are prepared alike and
// notified before the timed phase. It returns the report and, when any
// notification failed or the verification found a mismatch, an error as
// well. Options.Inspect sees the measured collections as
// Inspection.Orders (Total being the notification's POST).
func RunNotifications(ctx context.Context, o Options) (_ *NotificationReport, err error) {
	if err := o.normalise(); err != nil {
		return nil, err
	}
	progress := o.colProgress()
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

	rep := &NotificationReport{DB: o.DB, DBVersion: st.dbVersion, Latency: o.Latency, Jitter: o.Jitter, N: o.N,
		Concurrency: o.Concurrency, Warmup: o.Warmup, Jobs: !o.NoJobs, Machine: CurrentMachine()}

	setupBegan := time.Now()
	cols, err := st.paidCollections(ctx, o.Warmup+o.N, o.Concurrency)
	if err != nil {
		return nil, err
	}
	rep.Setup = time.Since(setupBegan)
	warm, measured := cols[:o.Warmup], cols[o.Warmup:]

	notify := func(cs []paidCollection) func(context.Context, int) (Checkout, error) {
		return func(ctx context.Context, i int) (Checkout, error) { return st.notify(ctx, cs[i]) }
	}
	if len(warm) > 0 {
		progress("warmup")
		if _, errs := colWorkers(ctx, len(warm), o.Concurrency, notify(warm)); errs.count > 0 {
			return nil, fmt.Errorf("bench: warm-up notification failed: %s", errs.first())
		}
	}
	if st.analyze != nil && !o.NoAnalyze {
		if err := st.analyze(ctx); err != nil {
			return nil, fmt.Errorf("bench: analyze: %w", err)
		}
		rep.Analyzed = true
	}

	progress("run")
	calls0, _ := st.collectionStats()
	rep.Machine.LoadAvgBefore = loadAvg()
	if o.CPUProfile != nil {
		if err := pprof.StartCPUProfile(o.CPUProfile); err != nil {
			return nil, fmt.Errorf("bench: cpu profile: %w", err)
		}
	}
	cpu0, began := processCPU(), time.Now()
	done, errs := colWorkers(ctx, len(measured), o.Concurrency, notify(measured))
	rep.Wall, rep.CPU = time.Since(began), processCPU()-cpu0
	if o.CPUProfile != nil {
		pprof.StopCPUProfile()
	}
	calls1, _ := st.collectionStats()
	rep.GatewayCalls = calls1 - calls0
	rep.Machine.LoadAvgAfter = loadAvg()
	rep.Notifications, rep.Errors, rep.ErrorSamples = len(done), errs.count, errs.samples
	rep.PerSecond = colPerSecond(len(done), rep.Wall)
	rep.Added, rep.Total, rep.Gateway, _, _ = colDists(done)

	progress("verify")
	// Every collection is checked, the warm-up's and the failed ones'
	// included: a payment recorded twice, or one whose failed
	// notification still took effect half way, is a mismatch all the
	// same. Only the measured ones that pass are counted.
	n, verr := st.verifyPaid(ctx, cols, o.Warmup)
	rep.Verified = n
	var failed error
	if rep.Errors > 0 {
		// Named first: a failed notification is usually also the
		// collection the verification finds unpaid.
		failed = fmt.Errorf("bench: %d of %d notifications failed (first: %s)", rep.Errors, o.N, errs.first())
	}
	if verr != nil {
		return rep, errors.Join(failed, verr)
	}
	if err := st.inspect(ctx, done); err != nil {
		return rep, errors.Join(failed, err)
	}
	return rep, failed
}

// colProgress returns o.Progress, or a function that does nothing.
func (o *Options) colProgress() func(string) {
	if o.Progress == nil {
		return func(string) {}
	}
	return o.Progress
}

// inspect calls Options.Inspect, if set, with the measured calls.
func (st *stack) inspect(ctx context.Context, done []Checkout) error {
	if st.o.Inspect == nil {
		return nil
	}
	return st.o.Inspect(ctx, &Inspection{Sim: st.sim, MerchantID: st.merchantID, Store: st.store,
		ShopID: kessai.DefaultShopID, Orders: done})
}

func colPerSecond(n int, wall time.Duration) float64 {
	if wall <= 0 {
		return 0
	}
	return float64(n) / wall.Seconds()
}

// colDists summarises the measured calls: added, total, gateway, added in
// the handler, and the order creation before each call.
func colDists(done []Checkout) (added, total, gateway, handlerAdded, createOrder Dist) {
	pick := func(f func(Checkout) time.Duration) Dist {
		v := make([]time.Duration, len(done))
		for i, c := range done {
			v[i] = f(c)
		}
		return summarise(v)
	}
	return pick(Checkout.Added), pick(func(c Checkout) time.Duration { return c.Total }),
		pick(func(c Checkout) time.Duration { return c.Gateway }),
		pick(func(c Checkout) time.Duration { return c.Handler - c.Gateway }),
		pick(func(c Checkout) time.Duration { return c.CreateOrder })
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

// colWorkers runs f(0) … f(n-1) on c workers and returns the successful
// results (in no particular order) and the failures. A cancelled ctx
// stops the workers and counts as a failure.
func colWorkers[T any](ctx context.Context, n, c int, f func(ctx context.Context, i int) (T, error)) ([]T, *errorLog) {
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

// probed sends req under a fresh probe and returns the answer with the
// call's wall time and its probe, complete once the handler has returned.
func (st *stack) probed(req *http.Request) (status int, body []byte, total time.Duration, p *probe, err error) {
	p = &probe{done: make(chan struct{})}
	id := newKey()
	req.Header.Set(probeHeader, id)
	st.probes.Store(id, p)
	defer st.probes.Delete(id)
	began := time.Now()
	status, body, err = st.do(req)
	total = time.Since(began)
	if err != nil {
		return 0, nil, total, p, err
	}
	select {
	case <-p.done:
	case <-time.After(time.Minute):
		return status, body, total, p, errors.New("the handler did not finish after answering")
	}
	return status, body, total, p, nil
}

// collectAnswer is the part of /collect's answer the benchmark checks.
type collectAnswer struct {
	Status   string `json:"status"`
	Replayed bool   `json:"replayed"`
	Payment  *struct {
		ID    string `json:"id"`
		State string `json:"state"`
	} `json:"payment"`
}

// register runs one registration as a shop's backend would: create the
// order, then register it for collection. Only the /collect call is
// probed.
func (st *stack) register(ctx context.Context) (Checkout, error) {
	var co Checkout
	body, err := json.Marshal(orderRequest{ShopOrderID: "bench-" + newKey()[:20], Amount: DefaultAmount,
		Items:     []orderItem{{Name: "ベンチマーク商品", Quantity: 1, UnitAmount: DefaultAmount}},
		Billing:   collectionBilling,
		ReturnURL: "https://shop.example/thanks"})
	if err != nil {
		return co, err
	}
	req, err := st.request(ctx, "/v1/orders", body)
	if err != nil {
		return co, err
	}
	t0 := time.Now()
	status, ans, err := st.do(req)
	co.CreateOrder = time.Since(t0)
	if err != nil {
		return co, fmt.Errorf("create order: %w", err)
	}
	var order struct {
		ID string `json:"id"`
	}
	if status != http.StatusCreated || json.Unmarshal(ans, &order) != nil || order.ID == "" {
		return co, fmt.Errorf("create order: HTTP %d: %s", status, snippet(ans))
	}
	co.OrderID = order.ID

	// The body may be empty (the identity comes from the order's
	// billing); a shop's JSON client sends an empty object.
	req, err = st.request(ctx, "/v1/orders/"+url.PathEscape(order.ID)+"/collect", []byte("{}"))
	if err != nil {
		return co, err
	}
	status, ans, total, p, err := st.probed(req)
	co.Total = total
	if err != nil {
		return co, fmt.Errorf("collect %s: %w", order.ID, err)
	}
	co.Gateway, co.GatewayCalls, co.Handler = time.Duration(p.gateway.Load()), int(p.calls.Load()), p.handler
	var res collectAnswer
	if status != http.StatusOK || json.Unmarshal(ans, &res) != nil {
		return co, fmt.Errorf("collect %s: HTTP %d: %s", order.ID, status, snippet(ans))
	}
	if res.Status != "pending" || res.Replayed || res.Payment == nil || res.Payment.ID == "" ||
		res.Payment.State != string(kessai.PaymentPending) {
		return co, fmt.Errorf("collect %s: not a new pending collection: %s", order.ID, snippet(ans))
	}
	if co.GatewayCalls == 0 {
		// The probe did not reach the 2Add: the figures would count the
		// gateway as kessai's own time.
		return co, fmt.Errorf("collect %s: no gateway call was observed", order.ID)
	}
	co.PaymentID = res.Payment.ID
	return co, nil
}

// collectionStats reads the collection client's call and new-connection
// counters.
func (st *stack) collectionStats() (calls, newConns int64) {
	set, _, err := st.svc.GetSettings(context.Background(), kessai.DefaultShopID)
	if err != nil {
		return 0, 0
	}
	c, err := st.gw.Collection(&set)
	if err != nil {
		return 0, 0
	}
	return c.Stats()
}

// simCollections indexes the simulator's collections by order
// (MerchantFree2, which kessai sets to the order id).
func (st *stack) simCollections() (map[string][]sim.CollectionView, int) {
	cols := st.sim.Collections(st.merchantID, "test")
	byOrder := make(map[string][]sim.CollectionView, len(cols))
	for _, c := range cols {
		byOrder[c.MerchantFree2] = append(byOrder[c.MerchantFree2], c)
	}
	return byOrder, len(cols)
}

// verifyRegistrations checks that each registration made exactly one
// unpaid collection of the order's amount at the simulator, and left a
// pending payment on an on-hold order in the store. maxCols bounds the
// simulator's collections (warm-up, measured and failed registrations),
// so none came from elsewhere. It returns how many registrations passed.
func (st *stack) verifyRegistrations(ctx context.Context, done []Checkout, maxCols int) (int, error) {
	byOrder, total := st.simCollections()
	if total > maxCols {
		return 0, fmt.Errorf("bench: the simulator holds %d collections, more than the %d registrations tried", total, maxCols)
	}
	var errs []error
	ok := 0
	for _, c := range done {
		if err := st.verifyRegistration(ctx, c, byOrder[c.OrderID]); err != nil {
			if errs = append(errs, err); len(errs) == maxErrorSamples {
				break
			}
			continue
		}
		ok++
	}
	return ok, errors.Join(errs...)
}

func (st *stack) verifyRegistration(ctx context.Context, c Checkout, cols []sim.CollectionView) error {
	if len(cols) != 1 {
		return fmt.Errorf("bench: order %s has %d collections at the simulator, want 1", c.OrderID, len(cols))
	}
	if sc := cols[0]; sc.Status != simUnpaid || sc.Amount != DefaultAmount {
		return fmt.Errorf("bench: order %s: simulator collection %s is %s of %d yen, want %s of %d",
			c.OrderID, sc.ProcessID, sc.Status, sc.Amount, simUnpaid, DefaultAmount)
	}
	o, err := st.store.GetOrder(ctx, kessai.DefaultShopID, c.OrderID)
	if err != nil {
		return fmt.Errorf("bench: order %s: %w", c.OrderID, err)
	}
	if o.Status != kessai.OrderOnHold {
		return fmt.Errorf("bench: order %s is %s, want %s", c.OrderID, o.Status, kessai.OrderOnHold)
	}
	p, err := st.store.GetPayment(ctx, kessai.DefaultShopID, c.PaymentID)
	if err != nil {
		return fmt.Errorf("bench: payment %s: %w", c.PaymentID, err)
	}
	if p.OrderID != c.OrderID || p.State != kessai.PaymentPending || p.Amount != DefaultAmount {
		return fmt.Errorf("bench: payment %s: order %s, state %s, %d yen; want order %s, %s, %d yen",
			p.ID, p.OrderID, p.State, p.Amount, c.OrderID, kessai.PaymentPending, DefaultAmount)
	}
	return nil
}

// ---- notifications ----

// notifyCapture holds the simulator's payment notifications, by
// MerchantFree1 (the collection's transaction code), while
// RunNotifications prepares its collections. The simulator keeps sending
// to the receiver's real URL, as serve wires it; only this capture, in
// front of everything else, decides that they are kept for later.
type notifyCapture struct {
	mu     sync.Mutex
	bodies map[string]string // form-encoded, as the simulator sent it
}

// maxNotificationBody bounds a captured body, as the receiver bounds its
// own (real notifications are a few hundred bytes).
const maxNotificationBody = 64 << 10

// captureMiddleware answers the simulator's notifications itself while a
// capture is set, keeping their bodies; otherwise it passes everything
// on. It answers 200, which the simulator takes as delivered, so nothing
// is retried later into the measured phase.
func (st *stack) captureMiddleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := st.capture.Load()
		if c == nil || r.URL.Path != notifyPath {
			next.ServeHTTP(w, r)
			return
		}
		b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxNotificationBody))
		if err != nil {
			http.Error(w, "unreadable notification", http.StatusBadRequest)
			return
		}
		f, err := url.ParseQuery(string(b))
		if err != nil || f.Get("MerchantFree1") == "" {
			// Not a notification the benchmark can use: refused, so
			// that the missing capture is reported by paidCollections.
			http.Error(w, "not a notification", http.StatusBadRequest)
			return
		}
		c.mu.Lock()
		c.bodies[f.Get("MerchantFree1")] = string(b)
		c.mu.Unlock()
	})
}

// paidCollection is a registered collection paid at the simulator, with
// the notification the simulator made of the payment.
type paidCollection struct {
	orderID, paymentID string
	notification       string // form-encoded
}

// payTimeout bounds the simulator's delivery of the captured
// notifications.
const payTimeout = 5 * time.Minute

// paidCollections registers n collections through the API with c
// workers, pays each at the simulator (rotating through the channels) and
// returns them with their captured notifications.
func (st *stack) paidCollections(ctx context.Context, n, c int) ([]paidCollection, error) {
	regs, errs := colWorkers(ctx, n, c, func(ctx context.Context, _ int) (Checkout, error) { return st.register(ctx) })
	if errs.count > 0 {
		return nil, fmt.Errorf("bench: registration (setup) failed: %s", errs.first())
	}
	byOrder, _ := st.simCollections()
	capture := &notifyCapture{bodies: make(map[string]string, n)}
	st.capture.Store(capture)
	defer st.capture.Store(nil)
	code := make(map[string]string, n) // order id → MerchantFree1
	for i, r := range regs {
		cols := byOrder[r.OrderID]
		if len(cols) != 1 {
			return nil, fmt.Errorf("bench: order %s has %d collections at the simulator, want 1", r.OrderID, len(cols))
		}
		cvs := escott.CvsCodes[i%len(escott.CvsCodes)]
		if err := st.sim.PayCollection(st.merchantID, "test", cols[0].FreeArea, cvs); err != nil {
			return nil, fmt.Errorf("bench: paying order %s at the simulator: %w", r.OrderID, err)
		}
		code[r.OrderID] = cols[0].MerchantFree1
	}
	fctx, cancel := context.WithTimeout(ctx, payTimeout)
	defer cancel()
	if err := st.sim.FlushNotifications(fctx); err != nil {
		return nil, fmt.Errorf("bench: waiting for the simulator's notifications: %w", err)
	}
	capture.mu.Lock()
	defer capture.mu.Unlock()
	out := make([]paidCollection, len(regs))
	for i, r := range regs {
		body, ok := capture.bodies[code[r.OrderID]]
		if !ok {
			return nil, fmt.Errorf("bench: the simulator's notification of order %s was not captured", r.OrderID)
		}
		out[i] = paidCollection{orderID: r.OrderID, paymentID: r.PaymentID, notification: body}
	}
	return out, nil
}

// notify posts one collection's notification to the receiver, as the
// gateway delivers it (a form POST, no API key). The receiver answers 200
// with an empty body whatever happens, so a notification it refused
// before asking the gateway shows only as the missing 2Ref.
func (st *stack) notify(ctx context.Context, pc paidCollection) (Checkout, error) {
	co := Checkout{OrderID: pc.orderID, PaymentID: pc.paymentID}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, st.apiURL+notifyPath, strings.NewReader(pc.notification))
	if err != nil {
		return co, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	status, ans, total, p, err := st.probed(req)
	co.Total = total
	if err != nil {
		return co, fmt.Errorf("notify %s: %w", pc.orderID, err)
	}
	co.Gateway, co.GatewayCalls, co.Handler = time.Duration(p.gateway.Load()), int(p.calls.Load()), p.handler
	if status != http.StatusOK || len(ans) != 0 {
		return co, fmt.Errorf("notify %s: HTTP %d: %q; want 200 and no body", pc.orderID, status, snippet(ans))
	}
	if co.GatewayCalls == 0 {
		return co, fmt.Errorf("notify %s: no 2Ref was made: the receiver refused the notification (see the log)", pc.orderID)
	}
	return co, nil
}

// eventPage is how many events one verification query reads (the
// store's page limit).
const eventPage = 1000

// verifyPaid checks that every collection is paid exactly once: its
// payment paid with the order's amount, the order out of on-hold, one
// payment.paid event about it, no payment.paid event about anything else,
// and the simulator's collection paid. The first skip collections are the
// warm-up's: checked, not counted. It returns how many of the others
// passed.
func (st *stack) verifyPaid(ctx context.Context, cols []paidCollection, skip int) (int, error) {
	paidEvents := map[string]int{}
	for after := ""; ; {
		evs, err := st.store.ListEvents(ctx, kessai.DefaultShopID, kessai.Page{Limit: eventPage, After: after})
		if err != nil {
			return 0, fmt.Errorf("bench: events: %w", err)
		}
		if len(evs) == 0 {
			break
		}
		for _, ev := range evs {
			if ev.Type != kessai.EventPaymentPaid {
				continue
			}
			var d struct {
				ID string `json:"id"`
			}
			if err := json.Unmarshal(ev.Data, &d); err != nil {
				return 0, fmt.Errorf("bench: event %s: %w", ev.ID, err)
			}
			paidEvents[d.ID]++
		}
		after = evs[len(evs)-1].ID
	}
	byOrder, _ := st.simCollections()
	var errs []error
	ok := 0
	for i, c := range cols {
		if err := st.verifyPaidOne(ctx, c, paidEvents[c.paymentID], byOrder[c.orderID]); err != nil {
			if errs = append(errs, err); len(errs) == maxErrorSamples {
				break
			}
			continue
		}
		if i >= skip {
			ok++
		}
	}
	if len(paidEvents) != len(cols) {
		errs = append(errs, fmt.Errorf("bench: payment.paid events name %d payments, want the %d collections", len(paidEvents), len(cols)))
	}
	return ok, errors.Join(errs...)
}

func (st *stack) verifyPaidOne(ctx context.Context, c paidCollection, events int, simCols []sim.CollectionView) error {
	if events != 1 {
		return fmt.Errorf("bench: payment %s (order %s) has %d payment.paid events, want 1", c.paymentID, c.orderID, events)
	}
	if len(simCols) != 1 || simCols[0].Status != simPaid {
		return fmt.Errorf("bench: order %s: the simulator does not hold exactly one paid collection", c.orderID)
	}
	p, err := st.store.GetPayment(ctx, kessai.DefaultShopID, c.paymentID)
	if err != nil {
		return fmt.Errorf("bench: payment %s: %w", c.paymentID, err)
	}
	if p.OrderID != c.orderID || p.State != kessai.PaymentPaid || p.Amount != DefaultAmount {
		return fmt.Errorf("bench: payment %s: order %s, state %s, %d yen; want order %s, %s, %d yen",
			p.ID, p.OrderID, p.State, p.Amount, c.orderID, kessai.PaymentPaid, DefaultAmount)
	}
	o, err := st.store.GetOrder(ctx, kessai.DefaultShopID, c.orderID)
	if err != nil {
		return fmt.Errorf("bench: order %s: %w", c.orderID, err)
	}
	// Processing, or completed for virtual items when the shop says so
	// (card.OrderStatusAfterCollectionPaid).
	if o.Status != kessai.OrderProcessing && o.Status != kessai.OrderCompleted {
		return fmt.Errorf("bench: order %s is %s after its payment, want %s or %s", c.orderID, o.Status,
			kessai.OrderProcessing, kessai.OrderCompleted)
	}
	return nil
}

// ---- reports ----

// CPUPerRegistration is CPU divided by the completed registrations.
func (r *CollectionReport) CPUPerRegistration() time.Duration {
	return colPerCall(r.CPU, r.Registrations)
}

// CPUPerNotification is CPU divided by the applied notifications.
func (r *NotificationReport) CPUPerNotification() time.Duration {
	return colPerCall(r.CPU, r.Notifications)
}

func colPerCall(cpu time.Duration, n int) time.Duration {
	if n <= 0 {
		return 0
	}
	return cpu / time.Duration(n)
}

// MarshalJSON writes durations in milliseconds and snake_case names, as
// Report does.
func (r *CollectionReport) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		DB              string   `json:"db"`
		DBVersion       string   `json:"db_version"`
		LatencyMS       float64  `json:"sim_latency_ms"`
		JitterMS        float64  `json:"sim_jitter_ms"`
		N               int      `json:"n"`
		Concurrency     int      `json:"concurrency"`
		Warmup          int      `json:"warmup"`
		Jobs            bool     `json:"job_runner"`
		IdempotencyKey  bool     `json:"idempotency_key"`
		Analyzed        bool     `json:"analyzed"`
		Registrations   int      `json:"registrations"`
		Errors          int      `json:"errors"`
		ErrorSamples    []string `json:"error_samples,omitempty"`
		Verified        int      `json:"verified"`
		WallMS          float64  `json:"wall_ms"`
		PerSecond       float64  `json:"registrations_per_second"`
		CPUPerCall      float64  `json:"cpu_ms_per_registration"`
		Added           Dist     `json:"added"`
		Total           Dist     `json:"total"`
		Gateway         Dist     `json:"gateway"`
		HandlerAdded    Dist     `json:"handler_added"`
		CreateOrder     Dist     `json:"create_order"`
		GatewayCalls    int64    `json:"gateway_calls"`
		GatewayNewConns int64    `json:"gateway_new_connections"`
		Machine         Machine  `json:"machine"`
	}{r.DB, r.DBVersion, ms(r.Latency), ms(r.Jitter), r.N, r.Concurrency, r.Warmup, r.Jobs, r.IdempotencyKey, r.Analyzed,
		r.Registrations, r.Errors, r.ErrorSamples, r.Verified, ms(r.Wall), r.PerSecond, ms(r.CPUPerRegistration()),
		r.Added, r.Total, r.Gateway, r.HandlerAdded, r.CreateOrder, r.GatewayCalls, r.GatewayNewConns, r.Machine})
}

// MarshalJSON writes durations in milliseconds and snake_case names, as
// Report does.
func (r *NotificationReport) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		DB            string   `json:"db"`
		DBVersion     string   `json:"db_version"`
		LatencyMS     float64  `json:"sim_latency_ms"`
		JitterMS      float64  `json:"sim_jitter_ms"`
		N             int      `json:"n"`
		Concurrency   int      `json:"concurrency"`
		Warmup        int      `json:"warmup"`
		Jobs          bool     `json:"job_runner"`
		Analyzed      bool     `json:"analyzed"`
		Notifications int      `json:"notifications"`
		Errors        int      `json:"errors"`
		ErrorSamples  []string `json:"error_samples,omitempty"`
		Verified      int      `json:"verified"`
		SetupMS       float64  `json:"setup_ms"`
		WallMS        float64  `json:"wall_ms"`
		PerSecond     float64  `json:"notifications_per_second"`
		CPUPerCall    float64  `json:"cpu_ms_per_notification"`
		Added         Dist     `json:"added"`
		Total         Dist     `json:"total"`
		Gateway       Dist     `json:"gateway"`
		GatewayCalls  int64    `json:"gateway_calls"`
		Machine       Machine  `json:"machine"`
	}{r.DB, r.DBVersion, ms(r.Latency), ms(r.Jitter), r.N, r.Concurrency, r.Warmup, r.Jobs, r.Analyzed,
		r.Notifications, r.Errors, r.ErrorSamples, r.Verified, ms(r.Setup), ms(r.Wall), r.PerSecond,
		ms(r.CPUPerNotification()), r.Added, r.Total, r.Gateway, r.GatewayCalls, r.Machine})
}

// colDistRow is one line of a report's latency table.
type colDistRow struct {
	name string
	d    Dist
}

// colWriteDists prints a latency table with the names in a column of width
// runes (not bytes: "−" is three bytes wide in UTF-8).
func colWriteDists(w io.Writer, width int, rows []colDistRow) {
	fmt.Fprintf(w, "  %s %8s %8s %8s %8s %8s\n", "ms"+strings.Repeat(" ", width-2), "p50", "p90", "p99", "max", "mean")
	for _, row := range rows {
		d := row.d
		pad := strings.Repeat(" ", max(0, width-utf8.RuneCountInString(row.name)))
		fmt.Fprintf(w, "  %s%s %8.2f %8.2f %8.2f %8.2f %8.2f\n", row.name, pad, ms(d.P50), ms(d.P90), ms(d.P99), ms(d.Max), ms(d.Mean))
	}
}

func colOnOff(b bool, on, off string) string {
	if b {
		return on
	}
	return off
}

func colLatencyText(latency, jitter time.Duration) string {
	s := latency.String()
	if jitter > 0 {
		s += " + [0, " + jitter.String() + ")"
	}
	return s
}

func colWriteMachine(w io.Writer, m Machine) {
	fmt.Fprintf(w, "  machine: %d CPUs, %s, %s/%s, %s, load %s → %s\n\n", m.CPUs, m.CPUModel, m.OS, m.Arch, m.Go, m.LoadAvgBefore, m.LoadAvgAfter)
}

// WriteTable prints the report for people.
func (r *CollectionReport) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "collection registration through the API: %s (%s), simulator latency %s\n", r.DB, r.DBVersion,
		colLatencyText(r.Latency, r.Jitter))
	fmt.Fprintf(w, "  %d registrations, concurrency %d, warm-up %d, job runner %s, Idempotency-Key %s%s\n", r.N, r.Concurrency,
		r.Warmup, colOnOff(r.Jobs, "on", "off"), colOnOff(r.IdempotencyKey, "yes", "no"), colOnOff(r.Analyzed, ", ANALYZE after the warm-up", ""))
	colWriteMachine(w, r.Machine)
	colWriteDists(w, 24, []colDistRow{
		{"added (total − gateway)", r.Added},
		{"total /collect", r.Total},
		{"gateway (2Add)", r.Gateway},
		{"added in handler", r.HandlerAdded},
		{"create order", r.CreateOrder},
	})
	fmt.Fprintf(w, "\n  registrations/s: %.0f  (%d in %s)\n", r.PerSecond, r.Registrations, r.Wall.Round(time.Millisecond))
	if c := r.CPUPerRegistration(); c > 0 {
		fmt.Fprintf(w, "  CPU of this process: %.2f ms per registration (kessai, simulator and client; at most %.0f registrations/s on %d CPUs)\n",
			ms(c), float64(r.Machine.CPUs)/c.Seconds(), r.Machine.CPUs)
	}
	fmt.Fprintf(w, "  gateway calls: %d (%.1f per registration), new gateway connections: %d\n", r.GatewayCalls,
		colRatio(r.GatewayCalls, r.Registrations), r.GatewayNewConns)
	fmt.Fprintf(w, "  errors: %d, verified at the simulator and in the store: %d\n", r.Errors, r.Verified)
	for _, s := range r.ErrorSamples {
		fmt.Fprintf(w, "    %s\n", s)
	}
	_, err := fmt.Fprintln(w)
	return err
}

// WriteTable prints the report for people.
func (r *NotificationReport) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "payment notifications through the receiver (%s): %s (%s), simulator latency %s\n", notifyPath, r.DB,
		r.DBVersion, colLatencyText(r.Latency, r.Jitter))
	fmt.Fprintf(w, "  %d notifications, concurrency %d, warm-up %d, job runner %s%s; setup (register and pay) %s\n", r.N,
		r.Concurrency, r.Warmup, colOnOff(r.Jobs, "on", "off"), colOnOff(r.Analyzed, ", ANALYZE after the warm-up", ""),
		r.Setup.Round(time.Millisecond))
	colWriteMachine(w, r.Machine)
	colWriteDists(w, 24, []colDistRow{
		{"added (total − gateway)", r.Added},
		{"total notification", r.Total},
		{"gateway (2Ref)", r.Gateway},
	})
	fmt.Fprintf(w, "\n  notifications/s: %.0f  (%d in %s)\n", r.PerSecond, r.Notifications, r.Wall.Round(time.Millisecond))
	if c := r.CPUPerNotification(); c > 0 {
		fmt.Fprintf(w, "  CPU of this process: %.2f ms per notification (kessai, simulator and client; at most %.0f notifications/s on %d CPUs)\n",
			ms(c), float64(r.Machine.CPUs)/c.Seconds(), r.Machine.CPUs)
	}
	fmt.Fprintf(w, "  gateway calls: %d (%.1f per notification)\n", r.GatewayCalls, colRatio(r.GatewayCalls, r.Notifications))
	fmt.Fprintf(w, "  errors: %d, verified paid exactly once (one payment.paid event): %d\n", r.Errors, r.Verified)
	for _, s := range r.ErrorSamples {
		fmt.Fprintf(w, "    %s\n", s)
	}
	_, err := fmt.Fprintln(w)
	return err
}

func colRatio(a int64, b int) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}
