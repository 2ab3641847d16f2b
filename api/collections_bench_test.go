package api

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/cvspay"
	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/escott/sim"
	"github.com/kessai/kessai/gateway"
	"github.com/kessai/kessai/internal/testdb"
	"github.com/kessai/kessai/sqlite"
	"github.com/kessai/kessai/storetest"
)

// Benchmarks of collections (issue 5), reported in docs/benchmarks.md:
//
//   - BenchmarkCollectionNotifications: payment notifications per second
//     through the receiver (/escott/notify), each notification delivered
//     twice as a retrying gateway would, with the de-duplication checked
//     afterwards (one payment.paid per collection, or the benchmark
//     fails);
//   - BenchmarkCollectionRegister: the latency kessai adds to a
//     registration (POST /v1/orders/{id}/collect) on top of the gateway's
//     own 2Add, and registrations per second of one client.
//
// Both run the API with the collection engine over the in-process
// simulator, as the tests of collections_test.go do, on SQLite — a file in
// WAL mode, as `kessai serve` opens it, not testdb's in-memory database,
// which would hide the cost of writing — and on PostgreSQL
// (internal/pgtest; skipped when no server answers). The logger formats
// every record as JSON, as in production, and throws it away.
//
// Everything but the measured requests happens outside the timer, and
// setup costs about as much as the measurement, so choose -benchtime in
// iterations, e.g.:
//
//	go test -run '^$' -bench Collection -benchtime 4000x ./api/

// benchBackends are SQLite (file, WAL) and PostgreSQL.
var benchBackends = []testdb.Backend{
	{Name: "sqlite", Open: func(t testing.TB) kessai.Store {
		t.Helper()
		db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "kessai.db"), storetest.TestSealer())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}},
	testdb.Postgres,
}

// notifyParallelism multiplies GOMAXPROCS into the number of goroutines
// that deliver notifications at once: the work mostly waits for the
// database and the 2Ref, and the gateway sends every notification on its
// own (the simulator does).
const notifyParallelism = 4

// notifyLag is how many collections after its first delivery the second
// copy of a notification is sent in the "later" mix: more than the
// deliveries in flight, so the first copy has been applied by then.
const notifyLag = 32

// BenchmarkCollectionNotifications measures payment notifications per
// second through the receiver. Outside the timer, ceil(N/2) collections
// are registered through the API and paid at the simulator, whose
// notifications are captured instead of delivered; the timed loop then
// posts them to /escott/notify from notifyParallelism×GOMAXPROCS
// goroutines over loopback HTTP (keep-alive), each one twice:
//
//   - "together": the two copies back to back, so they are in flight at
//     the same time and both usually pass the "still unpaid" check and ask
//     2Ref; the store's transaction decides which one records the payment;
//   - "later": the copy notifyLag collections later, when the first has
//     been applied; the duplicate stops at the "already paid" check
//     without a gateway call.
//
// N is the number of notifications (first deliveries and duplicates).
// Metrics: notifications/s, and 2Ref calls per collection (1 = every
// duplicate was answered from the store; 2 = every duplicate asked the
// gateway too).
func BenchmarkCollectionNotifications(b *testing.B) {
	for _, db := range benchBackends {
		b.Run(db.Name, func(b *testing.B) {
			for _, mix := range []struct {
				name string
				lag  int
			}{{"together", 0}, {"later", notifyLag}} {
				b.Run(mix.name, func(b *testing.B) { benchNotifications(b, db, mix.lag) })
			}
		})
	}
}

func benchNotifications(b *testing.B, db testdb.Backend, lag int) {
	e := newColBench(b, db)
	n := (b.N + 1) / 2
	cols := e.paidCollections(b, n)
	// Delivery k of the sequence: first copies in order, and after the
	// first copy of collection i the second copy of collection i-lag; the
	// copies still missing at the end follow. b.N deliveries take every
	// first copy (they all come before position 2n-1).
	seq := make([]int, 0, 2*n) // index into cols, duplicates included
	for i := 0; len(seq) < 2*n; i++ {
		if i < n {
			seq = append(seq, i)
		}
		if j := i - lag; j >= 0 && j < n {
			seq = append(seq, j)
		}
	}
	seq = seq[:b.N]
	e.analyze(b)
	e.warnings.Store(0)
	refs := e.ops[escott.OpCvsRef].Load()

	var next atomic.Int64
	var failures atomic.Int64
	var firstErr atomic.Pointer[string]
	b.SetParallelism(notifyParallelism)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c := cols[seq[next.Add(1)-1]]
			status, body, err := e.send("POST", "/escott/notify", "application/x-www-form-urlencoded", c.notification, nil)
			if err == nil && (status != http.StatusOK || len(body) != 0) {
				err = fmt.Errorf("receiver answered %d %q; want 200 and no body", status, body)
			}
			if err != nil {
				failures.Add(1)
				msg := err.Error()
				firstErr.CompareAndSwap(nil, &msg)
			}
		}
	})
	b.StopTimer()
	elapsed := b.Elapsed()

	if f := failures.Load(); f > 0 {
		b.Fatalf("%d of %d deliveries failed; the first: %s", f, b.N, *firstErr.Load())
	}
	if w := e.warnings.Load(); w > 0 {
		b.Fatalf("%d warnings or errors were logged while notifications were received (a refused or unconfirmed notification)", w)
	}
	e.checkPaidOnce(b, cols)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "notifications/s")
	b.ReportMetric(float64(e.ops[escott.OpCvsRef].Load()-refs)/float64(n), "2Ref/collection")
}

// BenchmarkCollectionRegister measures registrations through the API, one
// at a time, as a shop's backend sends them (with an Idempotency-Key).
// The orders exist before the timer starts, next to as many collections
// registered before. Each call's gateway time is the sum of the durations
// of its gateway calls (its 2Add), which the gateway factory's Observe
// hook reports in the request's context; the added latency is the call's
// wall time, seen by the client over loopback HTTP, minus that sum.
// Metrics: the added latency's p50 and p99, the gateway time's p50, and
// registrations per second.
func BenchmarkCollectionRegister(b *testing.B) {
	for _, db := range benchBackends {
		b.Run(db.Name, func(b *testing.B) { benchRegister(b, db) })
	}
}

func benchRegister(b *testing.B, db testdb.Backend) {
	e := newColBench(b, db)
	// The shop already has max(N, 200) collections, registered four at a
	// time before the timer (which also opens the connections and builds
	// the gateway client), and the planner's statistics know them: the
	// measured registrations run against tables of a realistic shape,
	// not against empty ones whose plans change as they grow.
	existing := max(b.N, 200)
	orders := e.orders(b, existing+b.N)
	if err := inParallel(existing, 4, func(i int) error {
		_, err := e.collect(orders[i], -1)
		return err
	}); err != nil {
		b.Fatal(err)
	}
	orders = orders[existing:]
	e.analyze(b)
	probes := make([]benchProbe, b.N)
	e.probes.Store(&probes)
	adds := e.ops[escott.OpCvsAdd].Load()
	total := make([]time.Duration, b.N)

	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		_, err := e.collect(orders[i], i)
		total[i] = time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	elapsed := b.Elapsed()

	if got := e.ops[escott.OpCvsAdd].Load() - adds; got != int64(b.N) {
		b.Fatalf("%d 2Add calls for %d registrations", got, b.N)
	}
	added := make([]time.Duration, b.N)
	gw := make([]time.Duration, b.N)
	for i := range probes {
		if c := probes[i].calls.Load(); c != 1 {
			b.Fatalf("registration %d made %d gateway calls in its context; want 1 (2Add)", i, c)
		}
		gw[i] = time.Duration(probes[i].gateway.Load())
		added[i] = total[i] - gw[i]
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "registrations/s")
	b.ReportMetric(micros(percentile(added, 0.50)), "added-p50-µs")
	b.ReportMetric(micros(percentile(added, 0.99)), "added-p99-µs")
	b.ReportMetric(micros(percentile(gw, 0.50)), "gateway-p50-µs")
}

// percentile is the nearest-rank percentile of v (sorted in place).
func percentile(v []time.Duration, p float64) time.Duration {
	slices.Sort(v)
	i := int(p*float64(len(v))+0.999999) - 1
	return v[max(0, min(i, len(v)-1))]
}

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// colBench is the API with the collection engine over the simulator,
// served behind a probe middleware, with counters fed by the gateway
// factory's Observe hook and the logger.
type colBench struct {
	*colEnv
	url    string // the API behind probeMiddleware
	client *http.Client

	// ops counts gateway calls by operation.
	ops map[escott.OperateID]*atomic.Int64
	// warnings counts log records at Warn and above.
	warnings atomic.Int64
	// probes are the measured registrations' probes, by the index in the
	// Bench-Probe header.
	probes atomic.Pointer[[]benchProbe]

	// captured holds the simulator's notifications by MerchantFree1,
	// form-encoded as it sent them.
	mu       sync.Mutex
	captured map[string]string
}

// benchProbe collects one request's gateway time.
type benchProbe struct {
	gateway atomic.Int64 // nanoseconds
	calls   atomic.Int64
}

type benchProbeKey struct{}

// benchProbeHeader carries a measured request's index in colBench.probes.
const benchProbeHeader = "Bench-Probe"

// newColBench starts the API with the collection engine for the
// simulator's demo merchant on the pro plan, set up as newColEnv does
// (due days 7, the same fee table). The simulator's notifications go to a
// capturing server, not to the API: the benchmark sends them itself.
func newColBench(b *testing.B, db testdb.Backend) *colBench {
	b.Helper()
	cb := &colBench{ops: map[escott.OperateID]*atomic.Int64{}, captured: map[string]string{}}
	for _, op := range []escott.OperateID{escott.OpCvsAdd, escott.OpCvsRef, escott.OpCvsChg, escott.OpCvsDel} {
		cb.ops[op] = &atomic.Int64{}
	}
	capture := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		f, perr := url.ParseQuery(string(body))
		if err != nil || perr != nil {
			http.Error(w, "unreadable", http.StatusBadRequest)
			return
		}
		cb.mu.Lock()
		cb.captured[f.Get("MerchantFree1")] = string(body)
		cb.mu.Unlock()
	}))
	b.Cleanup(capture.Close)
	log := slog.New(&countingHandler{Handler: slog.NewJSONHandler(io.Discard, nil), warnings: &cb.warnings})
	var s *sim.Server
	e := newEnv(b, db, func(cfg *Config) {
		cfg.Logger = log
		m := sim.DemoMerchant
		m.NotifyURL = capture.URL + "/escott/notify"
		var err error
		s, err = sim.New(sim.Config{Merchants: []sim.Merchant{m}, Now: cfg.Now})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(s.Close)
		simSrv := httptest.NewServer(s)
		b.Cleanup(simSrv.Close)
		gw := gateway.New(gateway.Config{SimulatorURL: simSrv.URL, Now: cfg.Now, Logger: log, Observe: cb.observe})
		cfg.Collections = cvspay.New(cvspay.Config{Service: cfg.Service, Gateways: gw, Logger: log})
		cfg.Notifications = NotificationHandlers{Collection: cfg.Collections.Notify}
	})
	cb.colEnv = &colEnv{env: e, sim: s}
	d := sim.DemoMerchant
	cb.settings(b, map[string]any{
		"environment": "simulator",
		"plan":        "pro",
		"collection": map[string]any{
			"enabled": true, "merchant_id": d.MerchantID, "merchant_pass_test": d.TestPass, "merchant_pass_prod": d.ProdPass,
			"due_days": 7, "fee_enabled": true, "fee_rows": []any{
				map[string]any{"from": 0, "to": 1000, "fee": 110}, map[string]any{"from": 1001, "to": "*", "fee": 220}},
		},
	})
	srv := httptest.NewServer(cb.probeMiddleware(e.api))
	b.Cleanup(srv.Close)
	cb.url = srv.URL
	tr := &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}
	b.Cleanup(tr.CloseIdleConnections)
	cb.client = &http.Client{Transport: tr, Timeout: time.Minute}
	if db.Name == testdb.Postgres.Name {
		testdb.WarmPool(b, e.store, 16)
	}
	return cb
}

// analyze gathers PostgreSQL's planner statistics, as autovacuum does on
// a running server (the project's test server runs without it). Without
// statistics, or with those of nearly empty tables, the planner reads a
// payment by id through payments_customer (shop_id, customer_id,
// created_at) — every payment of the shop — or scans payments, attempts
// and idempotency_keys whole: costs that grow with the tables and would
// dominate the figures. SQLite's planner picks the keys without
// statistics.
func (cb *colBench) analyze(b *testing.B) {
	b.Helper()
	if _, ok := cb.store.(*sqlite.DB); ok {
		return
	}
	db, ok := cb.store.(interface{ SQL() *sql.DB })
	if !ok {
		b.Fatalf("store %T has no SQL handle", cb.store)
	}
	if _, err := db.SQL().ExecContext(b.Context(), "ANALYZE"); err != nil {
		b.Fatal(err)
	}
}

// observe is the gateway factory's Observe hook.
func (cb *colBench) observe(ctx context.Context, e escott.LogEntry) {
	if c := cb.ops[e.Op]; c != nil {
		c.Add(1)
	}
	if p, ok := ctx.Value(benchProbeKey{}).(*benchProbe); ok {
		p.gateway.Add(int64(e.Duration))
		p.calls.Add(1)
	}
}

// probeMiddleware puts the probe a request names into its context; the
// gateway calls made for it report there (cvspay keeps the request's
// context values).
func (cb *colBench) probeMiddleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := r.Header.Get(benchProbeHeader); v != "" {
			i, err := strconv.Atoi(v)
			probes := cb.probes.Load()
			if err != nil || probes == nil || i < 0 || i >= len(*probes) {
				http.Error(w, "bad probe", http.StatusBadRequest)
				return
			}
			r = r.WithContext(context.WithValue(r.Context(), benchProbeKey{}, &(*probes)[i]))
		}
		next.ServeHTTP(w, r)
	})
}

// send makes one request to the API with the shop's secret key and
// returns the answer; it may be called from any goroutine.
func (cb *colBench) send(method, path, contentType, body string, header map[string]string) (int, []byte, error) {
	r, err := http.NewRequest(method, cb.url+path, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	if !strings.HasPrefix(path, "/escott/") {
		r.Header.Set("Authorization", "Bearer "+cb.sk)
	}
	for k, v := range header {
		r.Header.Set(k, v)
	}
	res, err := cb.client.Do(r)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, b, err
}

// sendJSON sends body as JSON and decodes a JSON answer of status want.
func (cb *colBench) sendJSON(path string, body any, header map[string]string, want int) (map[string]any, error) {
	j, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	status, ans, err := cb.send("POST", path, "application/json", string(j), header)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if status != want || json.Unmarshal(ans, &m) != nil {
		return nil, fmt.Errorf("POST %s: %d %s; want %d", path, status, ans, want)
	}
	return m, nil
}

// orders creates n orders of 1000 yen (fee 110) whose billing a
// collection accepts, as newColEnv's order does, four at a time.
func (cb *colBench) orders(b *testing.B, n int) []string {
	b.Helper()
	ids := make([]string, n)
	err := inParallel(n, 4, func(i int) error {
		m, err := cb.sendJSON("/v1/orders", map[string]any{"shop_order_id": fmt.Sprintf("B-%d", i), "amount": 1000,
			"billing": colBilling, "items": []any{map[string]any{"name": "緑茶", "quantity": 1, "unit_amount": 1000}}}, nil, 201)
		if err != nil {
			return err
		}
		ids[i], _ = m["id"].(string)
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return ids
}

// collect registers an order through the API with an Idempotency-Key,
// under probe i when i >= 0, and returns the payment id.
func (cb *colBench) collect(orderID string, i int) (string, error) {
	h := map[string]string{"Idempotency-Key": "collect-" + orderID}
	if i >= 0 {
		h[benchProbeHeader] = strconv.Itoa(i)
	}
	status, body, err := cb.send("POST", "/v1/orders/"+orderID+"/collect", "", "", h)
	if err != nil {
		return "", err
	}
	var m struct {
		Status  string `json:"status"`
		Payment struct {
			ID string `json:"id"`
		} `json:"payment"`
	}
	if status != http.StatusOK || json.Unmarshal(body, &m) != nil || m.Status != "pending" || m.Payment.ID == "" {
		return "", fmt.Errorf("collect %s: %d %s", orderID, status, body)
	}
	return m.Payment.ID, nil
}

// benchCollection is a registered collection paid at the simulator, with
// the notification the simulator made of the payment.
type benchCollection struct {
	orderID, paymentID string
	notification       string // form-encoded, as the simulator sent it
}

// paidCollections registers n collections through the API, pays each at
// the simulator (rotating through the channels) and returns them with
// their captured notifications.
func (cb *colBench) paidCollections(b *testing.B, n int) []benchCollection {
	b.Helper()
	orders := cb.orders(b, n)
	cols := make([]benchCollection, n)
	err := inParallel(n, 4, func(i int) error {
		pid, err := cb.collect(orders[i], -1)
		cols[i] = benchCollection{orderID: orders[i], paymentID: pid}
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	byOrder := map[string]sim.CollectionView{}
	for _, c := range cb.sim.Collections(sim.DemoMerchant.MerchantID, "test") {
		byOrder[c.MerchantFree2] = c
	}
	code := map[string]string{} // MerchantFree2 → MerchantFree1
	for i, c := range cols {
		sc, ok := byOrder[c.orderID]
		if !ok {
			b.Fatalf("the simulator has no collection of %s", c.orderID)
		}
		if err := cb.sim.PayCollection(sim.DemoMerchant.MerchantID, "test", sc.FreeArea, escott.CvsCodes[i%len(escott.CvsCodes)]); err != nil {
			b.Fatal(err)
		}
		code[c.orderID] = sc.MerchantFree1
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := cb.sim.FlushNotifications(ctx); err != nil {
		b.Fatal(err)
	}
	cb.mu.Lock()
	defer cb.mu.Unlock()
	for i := range cols {
		body, ok := cb.captured[code[cols[i].orderID]]
		if !ok {
			b.Fatalf("no notification was captured for %s", cols[i].orderID)
		}
		cols[i].notification = body
	}
	return cols
}

// checkPaidOnce fails unless every collection's payment is paid and has
// exactly one payment.paid event, and no other payment got one.
func (cb *colBench) checkPaidOnce(b *testing.B, cols []benchCollection) {
	b.Helper()
	ctx := context.Background()
	paidEvents := map[string]int{}
	for after := ""; ; {
		evs, err := cb.store.ListEvents(ctx, kessai.DefaultShopID, kessai.Page{Limit: 500, After: after})
		if err != nil {
			b.Fatal(err)
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
				b.Fatal(err)
			}
			paidEvents[d.ID]++
		}
		after = evs[len(evs)-1].ID
	}
	paid := map[string]bool{}
	for after := ""; ; {
		ps, err := cb.store.ListPaymentsByState(ctx, kessai.DefaultShopID, kessai.PaymentPaid, kessai.Page{Limit: 500, After: after})
		if err != nil {
			b.Fatal(err)
		}
		if len(ps) == 0 {
			break
		}
		for _, p := range ps {
			paid[p.ID] = true
		}
		after = ps[len(ps)-1].ID
	}
	bad := 0
	for _, c := range cols {
		if !paid[c.paymentID] || paidEvents[c.paymentID] != 1 {
			if bad++; bad <= 5 {
				b.Errorf("collection %s (order %s): paid %v, %d payment.paid events; want paid, 1", c.paymentID, c.orderID, paid[c.paymentID], paidEvents[c.paymentID])
			}
		}
	}
	if len(paid) != len(cols) || len(paidEvents) != len(cols) {
		b.Errorf("%d paid payments and payment.paid events about %d payments; want %d of each", len(paid), len(paidEvents), len(cols))
	}
	if bad > 0 || b.Failed() {
		b.Fatalf("%d of %d collections are not paid exactly once", bad, len(cols))
	}
}

// inParallel runs f(0) … f(n-1) on workers goroutines and returns the
// first error (the remaining calls are skipped).
func inParallel(n, workers int, f func(i int) error) error {
	var next atomic.Int64
	var first atomic.Pointer[error]
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for first.Load() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := f(i); err != nil {
					first.CompareAndSwap(nil, &err)
				}
			}
		})
	}
	wg.Wait()
	if p := first.Load(); p != nil {
		return *p
	}
	return nil
}

// countingHandler counts the records at Warn and above.
type countingHandler struct {
	slog.Handler
	warnings *atomic.Int64
}

func (h *countingHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		h.warnings.Add(1)
	}
	return h.Handler.Handle(ctx, r)
}

func (h *countingHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &countingHandler{Handler: h.Handler.WithAttrs(as), warnings: h.warnings}
}

func (h *countingHandler) WithGroup(name string) slog.Handler {
	return &countingHandler{Handler: h.Handler.WithGroup(name), warnings: h.warnings}
}
