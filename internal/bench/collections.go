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
	"strings"
	"sync"
	"time"

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
// /collect call unless said otherwise. An operation of APIReport is a
// registration: Gateway is the /collect call's 2Add, and Verified counts
// the registrations found registered exactly once at the simulator (one
// unpaid collection of the order) and recorded in the store (a pending
// payment, the order on hold).
type CollectionReport struct {
	APIReport
	// Registrations completed; Errors failed (must be 0).
	Registrations int
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
	st, err := startRun(ctx, &o)
	if err != nil {
		return nil, err
	}
	defer st.closeInto(&err)

	rep := &CollectionReport{APIReport: st.newAPIReport()}
	done, errs, err := st.runAPIBench(ctx, &rep.APIReport, "registration", st.register, st.collectionStats)
	if err != nil {
		return nil, err
	}
	rep.Registrations = len(done)

	o.progress()("verify")
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
	st, err := startRun(ctx, &o)
	if err != nil {
		return nil, err
	}
	defer st.closeInto(&err)
	progress := o.progress()

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
		if _, errs := drive(ctx, len(warm), o.Concurrency, notify(warm)); errs.count > 0 {
			return nil, fmt.Errorf("bench: warm-up notification failed: %s", errs.first())
		}
	}
	if rep.Analyzed, err = st.analyzeAfterWarmup(ctx); err != nil {
		return nil, err
	}

	progress("run")
	calls0, _ := st.collectionStats()
	var done []Checkout
	var errs *errorLog
	if rep.Wall, rep.CPU, err = measure(&o, &rep.Machine, func() {
		done, errs = drive(ctx, len(measured), o.Concurrency, notify(measured))
	}); err != nil {
		return nil, err
	}
	calls1, _ := st.collectionStats()
	rep.GatewayCalls = calls1 - calls0
	rep.Notifications, rep.Errors, rep.ErrorSamples = len(done), errs.count, errs.samples
	rep.PerSecond = perSecond(len(done), rep.Wall)
	// A notification creates no order, and its handler's time is not
	// reported: only the first three distributions apply.
	rep.Added, rep.Total, rep.Gateway, _, _ = callDists(done)

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

// inspect calls Options.Inspect, if set, with the measured calls.
func (st *stack) inspect(ctx context.Context, done []Checkout) error {
	if st.o.Inspect == nil {
		return nil
	}
	return st.o.Inspect(ctx, &Inspection{Sim: st.sim, MerchantID: st.merchantID, Store: st.store,
		ShopID: kessai.DefaultShopID, Orders: done})
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
	orderID, took, err := st.createOrder(ctx, collectionBilling)
	co.CreateOrder = took
	if err != nil {
		return co, err
	}
	co.OrderID = orderID

	// The body may be empty (the identity comes from the order's
	// billing); a shop's JSON client sends an empty object.
	req, err := st.request(ctx, "/v1/orders/"+url.PathEscape(orderID)+"/collect", []byte("{}"))
	if err != nil {
		return co, err
	}
	status, ans, total, p, err := st.probed(req)
	co.Total = total
	if err != nil {
		return co, fmt.Errorf("collect %s: %w", orderID, err)
	}
	co.Gateway, co.GatewayCalls, co.Handler = time.Duration(p.gateway.Load()), int(p.calls.Load()), p.handler
	var res collectAnswer
	if status != http.StatusOK || json.Unmarshal(ans, &res) != nil {
		return co, fmt.Errorf("collect %s: HTTP %d: %s", orderID, status, snippet(ans))
	}
	if res.Status != "pending" || res.Replayed || res.Payment == nil || res.Payment.ID == "" ||
		res.Payment.State != string(kessai.PaymentPending) {
		return co, fmt.Errorf("collect %s: not a new pending collection: %s", orderID, snippet(ans))
	}
	if co.GatewayCalls == 0 {
		// The probe did not reach the 2Add: the figures would count the
		// gateway as kessai's own time.
		return co, fmt.Errorf("collect %s: no gateway call was observed", orderID)
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
	return st.checkCollectionPayment(ctx, c.OrderID, c.PaymentID, kessai.PaymentPending)
}

// checkCollectionPayment checks that the store holds paymentID as
// orderID's payment of DefaultAmount, in state: pending once registered,
// paid once notified.
func (st *stack) checkCollectionPayment(ctx context.Context, orderID, paymentID string, state kessai.PaymentState) error {
	p, err := st.store.GetPayment(ctx, kessai.DefaultShopID, paymentID)
	if err != nil {
		return fmt.Errorf("bench: payment %s: %w", paymentID, err)
	}
	if p.OrderID != orderID || p.State != state || p.Amount != DefaultAmount {
		return fmt.Errorf("bench: payment %s: order %s, state %s, %d yen; want order %s, %s, %d yen",
			p.ID, p.OrderID, p.State, p.Amount, orderID, state, DefaultAmount)
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
	regs, errs := drive(ctx, n, c, func(ctx context.Context, _ int) (Checkout, error) { return st.register(ctx) })
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
	if err := st.checkCollectionPayment(ctx, c.orderID, c.paymentID, kessai.PaymentPaid); err != nil {
		return err
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
	return perCall(r.CPU, r.Registrations)
}

// CPUPerNotification is CPU divided by the applied notifications.
func (r *NotificationReport) CPUPerNotification() time.Duration {
	return perCall(r.CPU, r.Notifications)
}

// MarshalJSON writes durations in milliseconds and snake_case names, as
// Report does.
func (r *CollectionReport) MarshalJSON() ([]byte, error) {
	return r.marshalJSON("registration", r.Registrations)
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

// WriteTable prints the report for people.
func (r *CollectionReport) WriteTable(w io.Writer) error {
	return r.writeTable(w, "collection registration through the API", "registration", r.Registrations,
		"total /collect", "gateway (2Add)")
}

// WriteTable prints the report for people.
func (r *NotificationReport) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "payment notifications through the receiver (%s): %s (%s), simulator latency %s\n", notifyPath, r.DB,
		r.DBVersion, latencyText(r.Latency, r.Jitter))
	fmt.Fprintf(w, "  %d notifications, concurrency %d, warm-up %d, job runner %s%s; setup (register and pay) %s\n", r.N,
		r.Concurrency, r.Warmup, onOff(r.Jobs, "on", "off"), onOff(r.Analyzed, ", ANALYZE after the warm-up", ""),
		r.Setup.Round(time.Millisecond))
	writeMachine(w, r.Machine)
	writeDists(w, 24, []distRow{
		{"added (total − gateway)", r.Added},
		{"total notification", r.Total},
		{"gateway (2Ref)", r.Gateway},
	})
	fmt.Fprintf(w, "\n  notifications/s: %.0f  (%d in %s)\n", r.PerSecond, r.Notifications, r.Wall.Round(time.Millisecond))
	if c := r.CPUPerNotification(); c > 0 {
		fmt.Fprintf(w, "  CPU of this process: %.2f ms per notification (kessai, simulator and client; at most %.0f notifications/s on %d CPUs)\n",
			ms(c), float64(r.Machine.CPUs)/c.Seconds(), r.Machine.CPUs)
	}
	fmt.Fprintf(w, "  gateway calls: %d (%.1f per notification)\n", r.GatewayCalls, callsPer(r.GatewayCalls, r.Notifications))
	fmt.Fprintf(w, "  errors: %d, verified paid exactly once (one payment.paid event): %d\n", r.Errors, r.Verified)
	writeErrorSamples(w, r.ErrorSamples)
	_, err := fmt.Fprintln(w)
	return err
}
