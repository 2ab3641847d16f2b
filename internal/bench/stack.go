package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver, for the bench schema

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/api"
	"github.com/kessai/kessai/cardpay"
	"github.com/kessai/kessai/cvspay"
	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/escott/sim"
	"github.com/kessai/kessai/gateway"
	"github.com/kessai/kessai/jobs"
	"github.com/kessai/kessai/metrics"
	"github.com/kessai/kessai/postgres"
	"github.com/kessai/kessai/secret"
	"github.com/kessai/kessai/service"
	"github.com/kessai/kessai/sqlite"
)

// stack is one running installation: database, jobs, service, simulator,
// API, and the client that plays the shop.
type stack struct {
	o          *Options
	store      kessai.Store
	svc        *service.Service
	payer      *cardpay.Payer
	collector  *cvspay.Collector
	runner     *jobs.Runner
	sqlDB      *sql.DB // the store's pool, for its wait statistics
	sim        *sim.Server
	merchantID string
	gw         *gateway.Factory
	apiURL     string
	client     *http.Client
	secretKey  string
	dbVersion  string
	// analyze updates the planner statistics (PostgreSQL only).
	analyze func(context.Context) error
	// probes are the measured calls in flight, by the probe header's value.
	probes sync.Map
	// capture, when set, takes the simulator's payment notifications
	// instead of the receiver (RunNotifications; see captureMiddleware).
	capture atomic.Pointer[notifyCapture]
	closers []func() error
}

// probeHeader names a measured call's probe (/pay, /collect, or a
// notification to /escott/notify); the API ignores it.
const probeHeader = "Bench-Probe"

// probe collects one measured call's gateway round trips (from the gateway
// factory's Observe hook, which runs in the call's context) and the time
// kessai's handler took.
type probe struct {
	gateway atomic.Int64 // nanoseconds
	calls   atomic.Int64
	handler time.Duration // written before done is closed
	done    chan struct{}
}

type probeKey struct{}

// observe adds a gateway call to the probe of its request, if any.
func observe(ctx context.Context, e escott.LogEntry) {
	if p, ok := ctx.Value(probeKey{}).(*probe); ok {
		p.gateway.Add(int64(e.Duration))
		p.calls.Add(1)
	}
}

// probeMiddleware puts a measured call's probe into its context and times the
// whole handler, metrics middleware included. It closes the probe when
// the handler has returned, so the client, which may see the answer a
// moment earlier, waits for complete figures.
func (st *stack) probeMiddleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, _ := st.probes.Load(r.Header.Get(probeHeader))
		p, _ := v.(*probe)
		if p == nil {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), probeKey{}, p)))
		p.handler = time.Since(start)
		close(p.done)
	})
}

// start opens the database and starts everything, wired as cmd/kessai's
// serve does; only the listeners are loopback test servers.
func start(ctx context.Context, o *Options) (_ *stack, err error) {
	st := &stack{o: o}
	defer func() {
		if err != nil {
			_ = st.close()
		}
	}()
	var key [32]byte
	if _, err := rand.Read(key[:]); err != nil {
		return nil, err
	}
	kr, err := secret.NewKeyring(key[:])
	if err != nil {
		return nil, err
	}
	lg := o.Logger
	payer := &atomic.Pointer[cardpay.Payer]{}
	collector := &atomic.Pointer[cvspay.Collector]{}
	// The periodic recovery sweeps both engines, as serve's
	// recoverPayments does (the stack has only the default shop).
	jopts := jobs.Options{Logger: lg, Recover: func(ctx context.Context) error {
		var errs []error
		if p := payer.Load(); p != nil {
			_, err := p.Sweep(ctx, kessai.DefaultShopID)
			errs = append(errs, err)
		}
		if c := collector.Load(); c != nil {
			_, err := c.Sweep(ctx, kessai.DefaultShopID)
			errs = append(errs, err)
		}
		return errors.Join(errs...)
	}}
	if o.jobOptions != nil {
		o.jobOptions(&jopts)
	}
	var runner *jobs.Runner
	switch o.DB {
	case SQLite:
		runner, err = st.openSQLite(ctx, kr, jopts)
	case Postgres:
		runner, err = st.openPostgres(ctx, kr, jopts)
	}
	if err != nil {
		return nil, err
	}
	st.runner = runner
	if err := runner.Migrate(ctx); err != nil {
		return nil, fmt.Errorf("bench: job queue migration: %w", err)
	}
	st.svc = service.New(service.Config{Store: st.store, Logger: lg, AfterEvent: runner.Kick, Resender: runner})

	// Both listeners first: the simulator's merchant and the payer need
	// the API's URL, and the API's settings the simulator's.
	apiSrv := httptest.NewUnstartedServer(nil)
	apiSrv.Config.ErrorLog = log.New(io.Discard, "", 0)
	st.closers = append(st.closers, func() error { apiSrv.Close(); return nil })
	st.apiURL = "http://" + apiSrv.Listener.Addr().String()
	simSrv := httptest.NewUnstartedServer(nil)
	simSrv.Config.ErrorLog = log.New(io.Discard, "", 0)
	st.closers = append(st.closers, func() error { simSrv.Close(); return nil })
	simURL := "http://" + simSrv.Listener.Addr().String()

	m := sim.DemoMerchant
	m.NotifyURL = st.apiURL + "/escott/notify"
	st.merchantID = m.MerchantID
	st.sim, err = sim.New(sim.Config{Merchants: []sim.Merchant{m}, PublicURL: simURL, Logger: lg.With("component", "sim"),
		MaxConcurrent: o.simMaxConcurrent})
	if err != nil {
		return nil, err
	}
	st.closers = append(st.closers, func() error { st.sim.Close(); return nil })
	if o.Latency > 0 || o.Jitter > 0 {
		st.sim.AddFault(sim.Fault{ID: "bench-latency", Kind: sim.FaultLatency, Latency: o.Latency, Jitter: o.Jitter})
	}
	simSrv.Config.Handler = st.sim
	simSrv.Start()

	keys, err := st.svc.Bootstrap(ctx)
	if err != nil {
		return nil, fmt.Errorf("bench: first start: %w", err)
	}
	if keys == nil || keys.SecretKey == "" {
		return nil, errors.New("bench: the database already has a shop; use an empty one")
	}
	st.secretKey = keys.SecretKey
	if err := st.configureShop(ctx); err != nil {
		return nil, err
	}

	met := metrics.New(metrics.Gauges{WebhookBacklog: runner.Backlog, JobQueueDepth: runner.QueueDepth})
	st.gw = gateway.New(gateway.Config{SimulatorURL: simURL, Logger: lg.With("component", "gateway"),
		Observe: func(ctx context.Context, e escott.LogEntry) {
			met.ObserveGateway(ctx, e)
			observe(ctx, e)
		}})
	p := cardpay.New(cardpay.Config{Service: st.svc, Gateways: st.gw, ReturnURL: st.apiURL + "/escott/notify",
		Logger: lg.With("component", "cardpay")})
	payer.Store(p)
	st.payer = p
	col := cvspay.New(cvspay.Config{Service: st.svc, Gateways: st.gw, Logger: lg.With("component", "cvspay")})
	collector.Store(col)
	st.collector = col
	mux := http.NewServeMux()
	mux.Handle("/", api.New(api.Config{Service: st.svc, Logger: lg, PublicURL: st.apiURL, Cards: p, Collections: col,
		Notifications: api.NotificationHandlers{ThreeDS: p.ThreeDSReturn, ThreeDSMember: p.ThreeDSMemberReturn, Link: p.LinkReturn,
			Collection: col.Notify}}))
	apiSrv.Config.Handler = st.captureMiddleware(st.probeMiddleware(met.Middleware(mux)))
	apiSrv.Start()

	if !o.NoJobs {
		// Start's context is the runner's lifetime (cancelling it is a
		// hard stop); Stop ends it gracefully at close.
		jctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		if err := runner.Start(jctx); err != nil {
			cancel()
			return nil, fmt.Errorf("bench: job runner: %w", err)
		}
		st.closers = append(st.closers, func() error {
			defer cancel()
			sctx, scancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer scancel()
			return runner.Stop(sctx)
		})
	}

	// Enough idle connections for every worker: the default two per host
	// would make the load generator open a connection per request.
	conns := 2 * o.Concurrency
	tr := &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns, DisableCompression: true, IdleConnTimeout: time.Minute}
	st.client = &http.Client{Transport: tr, Timeout: 5 * time.Minute}
	st.closers = append(st.closers, func() error { tr.CloseIdleConnections(); return nil })
	return st, nil
}

func (st *stack) openSQLite(ctx context.Context, kr *secret.Keyring, jopts jobs.Options) (*jobs.Runner, error) {
	dir := st.o.DataDir
	if dir == "" {
		d, err := os.MkdirTemp("", "kessai-bench-")
		if err != nil {
			return nil, err
		}
		st.closers = append(st.closers, func() error { return os.RemoveAll(d) })
		dir = d
	}
	path := filepath.Join(dir, "kessai.db")
	if _, err := os.Stat(path); err == nil {
		return nil, fmt.Errorf("bench: %s exists; the benchmark needs an empty database", path)
	}
	db, err := sqlite.Open(ctx, path, kr)
	if err != nil {
		return nil, fmt.Errorf("bench: sqlite: %w", err)
	}
	st.closers = append(st.closers, db.Close)
	st.store = db
	st.sqlDB = db.SQL()
	if err := db.SQL().QueryRowContext(ctx, `SELECT sqlite_version()`).Scan(&st.dbVersion); err != nil {
		return nil, err
	}
	st.dbVersion = "SQLite " + st.dbVersion
	return jobs.NewSQLite(db.SQL(), db, jopts)
}

// openPostgres creates a schema of the run's own and opens the store and
// River's pool in it; the schema is dropped at close, after both are
// closed.
func (st *stack) openPostgres(ctx context.Context, kr *secret.Keyring, jopts jobs.Options) (*jobs.Runner, error) {
	admin, err := sql.Open("pgx", st.o.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("bench: postgres: %w", err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "kessai_bench_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		admin.Close()
		return nil, fmt.Errorf("bench: postgres: create schema: %w", err)
	}
	st.closers = append(st.closers, func() error {
		dctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, err := admin.ExecContext(dctx, `DROP SCHEMA `+schema+` CASCADE`)
		return errors.Join(err, admin.Close())
	})
	dbURL, err := withSchema(st.o.DatabaseURL, schema)
	if err != nil {
		return nil, err
	}
	db, err := postgres.Open(ctx, dbURL, kr)
	if err != nil {
		return nil, fmt.Errorf("bench: postgres: %w", err)
	}
	st.closers = append(st.closers, db.Close)
	st.store = db
	st.sqlDB = db.SQL()
	if err := db.SQL().QueryRowContext(ctx, `SHOW server_version`).Scan(&st.dbVersion); err != nil {
		return nil, err
	}
	st.dbVersion = "PostgreSQL " + st.dbVersion
	st.analyze = func(ctx context.Context) error { return analyzeSchema(ctx, db.SQL()) }
	pool, err := jobs.OpenPool(ctx, dbURL)
	if err != nil {
		return nil, fmt.Errorf("bench: postgres pool: %w", err)
	}
	st.closers = append(st.closers, func() error { pool.Close(); return nil })
	return jobs.NewPostgres(pool, db, jopts)
}

// analyzeSchema runs ANALYZE on the tables of the current schema only: a
// bare ANALYZE would go through every schema of the shared database.
func analyzeSchema(ctx context.Context, db *sql.DB) error {
	rows, err := db.QueryContext(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = current_schema()`)
	if err != nil {
		return err
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return err
		}
		names = append(names, `"`+strings.ReplaceAll(n, `"`, `""`)+`"`)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return err
	}
	if len(names) == 0 {
		return errors.New("no tables in the current schema")
	}
	_, err = db.ExecContext(ctx, `ANALYZE `+strings.Join(names, ", "))
	return err
}

// withSchema points a postgres:// URL at schema (search_path), replacing
// any schema it named.
func withSchema(raw, schema string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", errors.New("bench: the database URL must be a postgres:// URL")
	}
	q := u.Query()
	q.Del("schema")
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// configureShop gives the new shop the simulator's demo merchant for
// both methods, as serve's zero-configuration start does, with 3-D Secure
// and the link type off so that a checkout completes in one API call.
func (st *stack) configureShop(ctx context.Context) error {
	d := sim.DemoMerchant
	patch, err := json.Marshal(map[string]any{
		"environment": "simulator",
		"card": map[string]any{
			"enabled": true, "merchant_id": d.MerchantID, "merchant_pass_test": d.TestPass, "merchant_pass_prod": d.ProdPass,
			"tenant_id": d.TenantIDs[0], "token_auth_code": d.TokenAuthCode, "aes_key": d.AESKey, "aes_iv": d.AESIV,
			"three_ds": false, "link_type": false,
		},
		"collection": map[string]any{
			"enabled": true, "merchant_id": d.MerchantID, "merchant_pass_test": d.TestPass, "merchant_pass_prod": d.ProdPass,
		},
	})
	if err != nil {
		return err
	}
	if _, _, err := st.svc.UpdateSettings(ctx, kessai.DefaultShopID, patch, service.AnyVersion); err != nil {
		return fmt.Errorf("bench: settings: %w", err)
	}
	return nil
}

// gatewayStats reads the card client's call and new-connection counters.
func (st *stack) gatewayStats() (calls, newConns int64) {
	set, _, err := st.svc.GetSettings(context.Background(), kessai.DefaultShopID)
	if err != nil {
		return 0, 0
	}
	c, err := st.gw.Card(&set)
	if err != nil {
		return 0, 0
	}
	return c.Stats()
}

func (st *stack) close() error {
	var errs []error
	for i := len(st.closers) - 1; i >= 0; i-- {
		errs = append(errs, st.closers[i]())
	}
	st.closers = nil
	return errors.Join(errs...)
}

// orderRequest is the body of POST /v1/orders: what a shop sends for an
// ordinary guest purchase.
type orderRequest struct {
	ShopOrderID string         `json:"shop_order_id"`
	Amount      int64          `json:"amount"`
	Items       []orderItem    `json:"items"`
	Billing     map[string]any `json:"billing"`
	ReturnURL   string         `json:"return_url"`
}

type orderItem struct {
	Name       string `json:"name"`
	Quantity   int64  `json:"quantity"`
	UnitAmount int64  `json:"unit_amount"`
}

// payAnswer is the part of /pay's answer the benchmark checks.
type payAnswer struct {
	Status  string `json:"status"`
	Payment *struct {
		ID    string `json:"id"`
		State string `json:"state"`
	} `json:"payment"`
}

// cardBilling is the guest's billing identity of a card checkout (a
// card needs no kana names or phone number, unlike collectionBilling).
var cardBilling = map[string]any{"last_name": "山田", "first_name": "太郎", "email": "taro@example.jp"}

// createOrder creates an order as a shop's backend does, POST /v1/orders
// billed to billing, and returns its id and the call's wall time (the
// CreateOrder figure of a checkout or a registration).
func (st *stack) createOrder(ctx context.Context, billing map[string]any) (id string, took time.Duration, err error) {
	body, err := json.Marshal(orderRequest{ShopOrderID: "bench-" + newKey()[:20], Amount: DefaultAmount,
		Items:     []orderItem{{Name: "ベンチマーク商品", Quantity: 1, UnitAmount: DefaultAmount}},
		Billing:   billing,
		ReturnURL: "https://shop.example/thanks"})
	if err != nil {
		return "", 0, err
	}
	req, err := st.request(ctx, "/v1/orders", body)
	if err != nil {
		return "", 0, err
	}
	t0 := time.Now()
	status, ans, err := st.do(req)
	took = time.Since(t0)
	if err != nil {
		return "", took, fmt.Errorf("create order: %w", err)
	}
	var order struct {
		ID string `json:"id"`
	}
	if status != http.StatusCreated || json.Unmarshal(ans, &order) != nil || order.ID == "" {
		return "", took, fmt.Errorf("create order: HTTP %d: %s", status, snippet(ans))
	}
	return order.ID, took, nil
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

// checkout runs one checkout as a shop's backend would: create the order,
// get a token (the shopper's browser does that against the gateway, so it
// is outside the timed window), pay. Only the /pay call is probed.
func (st *stack) checkout(ctx context.Context) (Checkout, error) {
	var co Checkout
	orderID, took, err := st.createOrder(ctx, cardBilling)
	co.CreateOrder = took
	if err != nil {
		return co, err
	}
	co.OrderID = orderID

	tok, err := st.sim.IssueToken(st.merchantID, "test", Card, cardExp, "", "")
	if err != nil {
		return co, fmt.Errorf("token: %w", err)
	}
	body, err := json.Marshal(map[string]string{"token": tok, "card_prefix": cardPrefix})
	if err != nil {
		return co, err
	}
	req, err := st.request(ctx, "/v1/orders/"+url.PathEscape(orderID)+"/pay", body)
	if err != nil {
		return co, err
	}
	status, ans, total, p, err := st.probed(req)
	co.Total = total
	if err != nil {
		return co, fmt.Errorf("pay %s: %w", orderID, err)
	}
	co.Gateway, co.GatewayCalls, co.Handler = time.Duration(p.gateway.Load()), int(p.calls.Load()), p.handler
	var res payAnswer
	if status != http.StatusOK || json.Unmarshal(ans, &res) != nil {
		return co, fmt.Errorf("pay %s: HTTP %d: %s", orderID, status, snippet(ans))
	}
	if res.Status != cardpay.StatusSucceeded || res.Payment == nil || res.Payment.State != string(kessai.PaymentCaptured) {
		return co, fmt.Errorf("pay %s: not captured: %s", orderID, snippet(ans))
	}
	if co.GatewayCalls == 0 {
		// The probe did not reach the gateway calls: the figures would
		// count the gateway as kessai's own time.
		return co, fmt.Errorf("pay %s: no gateway call was observed", orderID)
	}
	co.PaymentID = res.Payment.ID
	return co, nil
}

// request builds an authenticated API POST with an Idempotency-Key.
func (st *stack) request(ctx context.Context, path string, body []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, st.apiURL+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+st.secretKey)
	req.Header.Set("Content-Type", "application/json")
	if !st.o.NoIdempotencyKey {
		req.Header.Set("Idempotency-Key", newKey())
	}
	return req, nil
}

// do sends req and reads the whole answer.
func (st *stack) do(req *http.Request) (int, []byte, error) {
	res, err := st.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, nil, err
	}
	return res.StatusCode, b, nil
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// verify checks that each measured checkout charged exactly once: one
// captured transaction of the order's amount at the simulator, and a
// captured payment on a processing order in the store. maxTxns bounds the
// simulator's transactions (warm-up, measured and failed checkouts), so
// no charge came from elsewhere. It returns how many checkouts passed.
func (st *stack) verify(ctx context.Context, done []Checkout, maxTxns int) (int, error) {
	txns := st.sim.Transactions(st.merchantID, "test")
	if len(txns) > maxTxns {
		return 0, fmt.Errorf("bench: the simulator holds %d transactions, more than the %d checkouts tried", len(txns), maxTxns)
	}
	byOrder := make(map[string][]sim.TransactionView, len(txns))
	for _, t := range txns {
		byOrder[t.MerchantFree2] = append(byOrder[t.MerchantFree2], t)
	}
	var errs []error
	ok := 0
	for _, c := range done {
		if err := st.verifyOne(ctx, c, byOrder[c.OrderID]); err != nil {
			errs = append(errs, err)
			if len(errs) == maxErrorSamples {
				break
			}
			continue
		}
		ok++
	}
	return ok, errors.Join(errs...)
}

func (st *stack) verifyOne(ctx context.Context, c Checkout, txns []sim.TransactionView) error {
	if len(txns) != 1 {
		return fmt.Errorf("bench: order %s has %d transactions at the simulator, want 1", c.OrderID, len(txns))
	}
	if t := txns[0]; t.Status != "CAPTURED" || t.Amount != DefaultAmount {
		return fmt.Errorf("bench: order %s: simulator transaction %s is %s of %d yen, want CAPTURED of %d", c.OrderID, t.ProcessID, t.Status, t.Amount, DefaultAmount)
	}
	o, err := st.store.GetOrder(ctx, kessai.DefaultShopID, c.OrderID)
	if err != nil {
		return fmt.Errorf("bench: order %s: %w", c.OrderID, err)
	}
	if o.Status != kessai.OrderProcessing {
		return fmt.Errorf("bench: order %s is %s, want %s", c.OrderID, o.Status, kessai.OrderProcessing)
	}
	p, err := st.store.GetPayment(ctx, kessai.DefaultShopID, c.PaymentID)
	if err != nil {
		return fmt.Errorf("bench: payment %s: %w", c.PaymentID, err)
	}
	if p.OrderID != c.OrderID || p.State != kessai.PaymentCaptured || p.Amount != DefaultAmount {
		return fmt.Errorf("bench: payment %s: order %s, state %s, %d yen", p.ID, p.OrderID, p.State, p.Amount)
	}
	return nil
}
