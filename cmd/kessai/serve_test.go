package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/internal/pgtest"
	"github.com/kessai/kessai/webhook"
)

// safeBuffer is the banner's writer; serve writes it before signalling
// ready, tests read it after.
type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// instance is one running `kessai serve`.
type instance struct {
	addrs serveAddrs
	out   *safeBuffer
	stop  func() error
}

func startServe(t *testing.T, cfg *serveConfig) *instance {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan serveAddrs, 1)
	done := make(chan error, 1)
	out := &safeBuffer{}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	go func() { done <- serve(ctx, cfg, log, out, ready) }()
	select {
	case a := <-ready:
		inst := &instance{addrs: a, out: out}
		var once sync.Once
		var err error
		inst.stop = func() error {
			once.Do(func() { cancel(); err = <-done })
			return err
		}
		t.Cleanup(func() { _ = inst.stop() })
		return inst
	case err := <-done:
		cancel()
		t.Fatalf("serve: %v", err)
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatal("serve did not become ready")
	}
	return nil
}

func testConfig(t *testing.T, dataDir, dbURL string, sim bool) *serveConfig {
	cfg, _, err := loadServeConfig("serve", []string{"-addr", "127.0.0.1:0", "-data-dir", dataDir, "-shutdown-timeout", "10s"}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cfg.DatabaseURL = dbURL
	cfg.SimAddr = "off"
	if sim {
		cfg.SimAddr = "127.0.0.1:0"
	}
	return cfg
}

var secretKeyRE = regexp.MustCompile(`secret key \(server calls\):\s+(sk_\S+)`)

// adminRE finds the first admin user's login and password in the banner.
var adminRE = regexp.MustCompile(`login / ログイン名:\s+(\S+)\n\s+password / パスワード:\s+(\S+)`)

// call sends an API request and decodes the JSON answer.
func call(t *testing.T, method, u, key string, body any, out any) int {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, u, r)
	req.Header.Set("Authorization", "Bearer "+key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %d %s", method, u, resp.StatusCode, b)
		}
	}
	return resp.StatusCode
}

// receiver counts verified webhook deliveries by event id.
type receiver struct {
	mu     sync.Mutex
	secret []byte
	seen   map[string]int
	types  map[string]string
	bad    int
}

func newReceiver() (*receiver, *httptest.Server) {
	rc := &receiver{seen: map[string]int{}, types: map[string]string{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc.mu.Lock()
		secret := rc.secret
		rc.mu.Unlock()
		ev, err := webhook.ParseEvent(r, [][]byte{secret}, 5*time.Minute)
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if err != nil {
			rc.bad++
			http.Error(w, err.Error(), 400)
			return
		}
		rc.seen[ev.ID]++
		rc.types[ev.ID] = ev.Type
	}))
	return rc, srv
}

func (rc *receiver) waitFor(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for time.Now().Before(deadline) {
		rc.mu.Lock()
		got := len(rc.seen)
		rc.mu.Unlock()
		if got >= n {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	t.Fatalf("received %d distinct events, want %d (bad signatures: %d)", len(rc.seen), n, rc.bad)
}

func registerEndpoint(t *testing.T, api, key string, rc *receiver, target string) {
	t.Helper()
	var ep struct {
		ID     string `json:"id"`
		Secret string `json:"secret"`
	}
	if code := call(t, "POST", api+"/v1/webhook_endpoints", key, map[string]any{"url": target}, &ep); code != http.StatusCreated {
		t.Fatalf("create endpoint: %d", code)
	}
	if ep.Secret == "" {
		t.Fatal("endpoint secret not returned on creation")
	}
	rc.mu.Lock()
	rc.secret = []byte(ep.Secret)
	rc.mu.Unlock()
}

// TestServeZeroConfiguration starts kessai as the README's run command
// does (SQLite, simulator, no configuration), uses the API, receives a
// signed webhook, answers a gateway notification, shuts down gracefully
// and starts again on the same data.
func TestServeZeroConfiguration(t *testing.T) {
	dir := t.TempDir()
	inst := startServe(t, testConfig(t, dir, "", true))
	m := secretKeyRE.FindStringSubmatch(inst.out.String())
	if m == nil {
		t.Fatalf("no secret key in the banner:\n%s", inst.out.String())
	}
	key, api := m[1], inst.addrs.API
	admin := adminRE.FindStringSubmatch(inst.out.String())
	if admin == nil || admin[1] != "admin" || len(admin[2]) != 16 {
		t.Fatalf("no first admin login in the banner:\n%s", inst.out.String())
	}
	if inst.addrs.Sim == "" || !strings.Contains(inst.out.String(), inst.addrs.Sim) {
		t.Fatal("simulator URL not printed")
	}

	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(api + path)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %v %v", path, resp, err)
		}
		resp.Body.Close()
	}

	// The demo shop is on by default and lists its products.
	demo, err := http.Get(api + "/demo/")
	if err != nil {
		t.Fatal(err)
	}
	db, _ := io.ReadAll(demo.Body)
	demo.Body.Close()
	if demo.StatusCode != 200 || !strings.Contains(string(db), "/demo/") || !strings.Contains(inst.out.String(), api+"/demo/") {
		t.Fatalf("demo shop: HTTP %d\n%s", demo.StatusCode, db)
	}

	rc, rsrv := newReceiver()
	defer rsrv.Close()
	registerEndpoint(t, api, key, rc, rsrv.URL)

	var order struct {
		ID          string `json:"id"`
		CheckoutURL string `json:"checkout_url"`
	}
	if code := call(t, "POST", api+"/v1/orders", key, map[string]any{"shop_order_id": "A-1", "amount": 1100}, &order); code != http.StatusCreated {
		t.Fatalf("create order: %d", code)
	}
	if !strings.HasPrefix(order.CheckoutURL, api+"/checkout/") {
		t.Fatalf("checkout_url %q", order.CheckoutURL)
	}
	// The order's checkout_url is served: the hosted page loads the
	// built-in simulator's token script, and its CSP allows exactly that.
	page, err := http.Get(order.CheckoutURL)
	if err != nil {
		t.Fatal(err)
	}
	pb, _ := io.ReadAll(page.Body)
	page.Body.Close()
	if page.StatusCode != 200 || !strings.Contains(string(pb), inst.addrs.Sim) ||
		!strings.Contains(page.Header.Get("Content-Security-Policy"), inst.addrs.Sim) {
		t.Fatalf("checkout page: HTTP %d, CSP %q\n%s", page.StatusCode, page.Header.Get("Content-Security-Policy"), pb)
	}
	rc.waitFor(t, 1)
	for id, typ := range rc.types {
		if typ != "order.created" || rc.seen[id] != 1 {
			t.Fatalf("delivery %s %s ×%d", id, typ, rc.seen[id])
		}
	}

	// The simulator's settings were applied to the new shop.
	var settings struct {
		Settings struct {
			Environment string `json:"environment"`
			Card        struct {
				Enabled    bool   `json:"enabled"`
				MerchantID string `json:"merchant_id"`
			} `json:"card"`
		} `json:"settings"`
	}
	call(t, "GET", api+"/v1/settings", key, nil, &settings)
	if settings.Settings.Environment != "simulator" || !settings.Settings.Card.Enabled || settings.Settings.Card.MerchantID == "" {
		t.Fatalf("settings %+v", settings)
	}

	// A payment notification at the URL merchants register with SPS is
	// always answered 200 with an empty body.
	form := url.Values{"MerchantId": {"030000001"}, "TransactionId": {"1"}, "RecvNum": {"1"}, "NyukinDate": {"20261124101530"}, "MerchantFree1": {"000000000001"}, "MerchantFree2": {"x"}}
	resp, err := http.PostForm(api+"/?wc-api=wc_sonypayment", form)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(b) != 0 {
		t.Fatalf("notification answered %d %q", resp.StatusCode, b)
	}

	metrics, _ := http.Get(api + "/metrics")
	mb, _ := io.ReadAll(metrics.Body)
	metrics.Body.Close()
	if !strings.Contains(string(mb), `kessai_http_requests_total{code="201",route="POST /v1/orders"} 1`) {
		t.Fatalf("metrics lack the API route:\n%s", mb)
	}

	if err := inst.stop(); err != nil {
		t.Fatalf("graceful shutdown: %v", err)
	}

	// The printed admin password is the stored one.
	checkAdminLogin(t, testConfig(t, dir, "", false), admin[1], admin[2])

	// Second start on the same data: no new keys, the order is there.
	again := startServe(t, testConfig(t, dir, "", false))
	if secretKeyRE.MatchString(again.out.String()) {
		t.Fatal("keys printed again on the second start")
	}
	if adminRE.MatchString(again.out.String()) || strings.Contains(again.out.String(), admin[2]) {
		t.Fatalf("admin password printed again on the second start:\n%s", again.out.String())
	}
	var got struct {
		ShopOrderID string `json:"shop_order_id"`
	}
	if code := call(t, "GET", again.addrs.API+"/v1/orders/"+order.ID, key, nil, &got); code != 200 || got.ShopOrderID != "A-1" {
		t.Fatalf("order after restart: %d %+v", code, got)
	}
}

// checkAdminLogin opens the installation and logs in to the console.
func checkAdminLogin(t *testing.T, cfg *serveConfig, login, password string) {
	t.Helper()
	a, err := openApp(t.Context(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	u, err := a.svc.AuthenticateAdmin(t.Context(), kessai.DefaultShopID, login, password)
	if err != nil || u.Role != kessai.RoleAdmin {
		t.Fatalf("login as %s with the printed password: %+v %v", login, u, err)
	}
}

// TestTwoInstancesDeliverOnce runs two kessai processes' worth of wiring
// on one PostgreSQL: orders are created through both, and every event
// reaches the shop's webhook exactly once.
func TestTwoInstancesDeliverOnce(t *testing.T) {
	dbURL := pgtest.FreshSchema(t)
	dir := t.TempDir() // shared master key, as two instances of one installation share it
	a := startServe(t, testConfig(t, dir, dbURL, false))
	b := startServe(t, testConfig(t, dir, dbURL, false))
	keys := secretKeyRE.FindStringSubmatch(a.out.String() + b.out.String())
	if keys == nil {
		t.Fatal("no keys printed by either instance")
	}
	// Exactly one instance made (and printed) the first admin user.
	if n := len(adminRE.FindAllString(a.out.String()+b.out.String(), -1)); n != 1 {
		t.Fatalf("first admin printed %d times", n)
	}
	key := keys[1]
	rc, rsrv := newReceiver()
	defer rsrv.Close()
	registerEndpoint(t, a.addrs.API, key, rc, rsrv.URL)

	const n = 40
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			api := a.addrs.API
			if i%2 == 1 {
				api = b.addrs.API
			}
			var o map[string]any
			if code := call(t, "POST", api+"/v1/orders", key, map[string]any{"shop_order_id": fmt.Sprintf("P-%d", i), "amount": 100 + i}, &o); code != http.StatusCreated {
				t.Errorf("order %d: %d %v", i, code, o)
			}
		}()
	}
	wg.Wait()
	rc.waitFor(t, n)
	time.Sleep(2 * time.Second) // give a duplicate the chance to show up
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.seen) != n {
		t.Fatalf("%d distinct events, want %d", len(rc.seen), n)
	}
	for id, count := range rc.seen {
		if count != 1 {
			t.Errorf("event %s delivered %d times", id, count)
		}
	}
}

// TestServeKeepsSettingsOfExistingShop: a shop that exists but has lost
// its admin users gets a new first admin at the next start — and keeps the
// settings its operator chose (the demo merchant is for new shops only).
func TestServeKeepsSettingsOfExistingShop(t *testing.T) {
	dir := t.TempDir()
	first := startServe(t, testConfig(t, dir, "", true))
	key := secretKeyRE.FindStringSubmatch(first.out.String())[1]
	var patched map[string]any
	if code := call(t, "PATCH", first.addrs.API+"/v1/settings", key, map[string]any{"settings": map[string]any{"environment": "test"}}, &patched); code != 200 {
		t.Fatalf("settings patch: %d %v", code, patched)
	}
	if err := first.stop(); err != nil {
		t.Fatal(err)
	}

	// Remove every admin user, as an installation made before admin users
	// existed would look.
	cfg := testConfig(t, dir, "", false)
	a, err := openApp(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	users, err := a.store.ListAdminUsers(context.Background(), "shop_default")
	if err != nil || len(users) == 0 {
		t.Fatalf("users %v %v", users, err)
	}
	for _, u := range users {
		if err := a.store.DeleteAdminUser(context.Background(), u.ShopID, u.ID); err != nil {
			t.Fatal(err)
		}
	}
	a.close()

	again := startServe(t, testConfig(t, dir, "", true))
	if !strings.Contains(again.out.String(), "password / パスワード") {
		t.Fatalf("no new first admin printed:\n%s", again.out.String())
	}
	var got struct {
		Settings struct {
			Environment string `json:"environment"`
		} `json:"settings"`
	}
	call(t, "GET", again.addrs.API+"/v1/settings", key, nil, &got)
	if got.Settings.Environment != "test" {
		t.Fatalf("environment %q after restart; the operator's settings were overwritten", got.Settings.Environment)
	}
}

// TestServeRenewalsAndTestClock checks serve's wiring of subscriptions:
// the API's subscription routes and test clock are on; the clock is the
// one the service and the built-in simulator read, and goes back to real
// time when the shop leaves the simulator; the job runner scans for due
// subscriptions (a River job, so Options.Renewals is set). Without the
// simulator there is no test clock at all.
func TestServeRenewalsAndTestClock(t *testing.T) {
	dir := t.TempDir()
	inst := startServe(t, testConfig(t, dir, "", true))
	m := secretKeyRE.FindStringSubmatch(inst.out.String())
	if m == nil {
		t.Fatalf("no secret key in the banner:\n%s", inst.out.String())
	}
	key, api := m[1], inst.addrs.API

	if code := call(t, "GET", api+"/v1/subscriptions", key, nil, nil); code != http.StatusOK {
		t.Fatalf("GET /v1/subscriptions: %d, want 200 (the engine is wired)", code)
	}
	const month = 30 * 24 * time.Hour
	var clock struct {
		Now           time.Time `json:"now"`
		OffsetSeconds int64     `json:"offset_seconds"`
	}
	if code := call(t, "POST", api+"/v1/test_clock/advance", key, map[string]any{"seconds": int64(month / time.Second)}, &clock); code != http.StatusOK ||
		clock.OffsetSeconds != int64(month/time.Second) {
		t.Fatalf("advance the test clock: %d %+v", code, clock)
	}
	// The service dates orders by it, and the simulator tells the same
	// time.
	var order struct {
		CreatedAt time.Time `json:"created_at"`
	}
	if code := call(t, "POST", api+"/v1/orders", key, map[string]any{"shop_order_id": "T-1", "amount": 1100}, &order); code != http.StatusCreated {
		t.Fatalf("create order: %d", code)
	}
	if d := order.CreatedAt.Sub(time.Now()); d < month-time.Minute || d > month+time.Minute {
		t.Errorf("order created at %v, %v from now; want a month ahead", order.CreatedAt, d)
	}
	resp, err := http.Get(inst.addrs.Sim + "/_sim/state")
	if err != nil {
		t.Fatal(err)
	}
	var state struct {
		Now time.Time `json:"now"`
	}
	err = json.NewDecoder(resp.Body).Decode(&state)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if d := state.Now.Sub(time.Now()); d < month-time.Minute || d > month+time.Minute {
		t.Errorf("the simulator's time is %v, %v from now; want the test clock's", state.Now, d)
	}
	// Leaving the simulator returns the clock to real time.
	if code := call(t, "PATCH", api+"/v1/settings", key, map[string]any{"settings": map[string]any{"environment": "test"}}, nil); code != http.StatusOK {
		t.Fatalf("switch to the test environment: %d", code)
	}
	if code := call(t, "GET", api+"/v1/test_clock", key, nil, &clock); code != http.StatusOK || clock.OffsetSeconds != 0 {
		t.Fatalf("test clock after leaving the simulator: %d %+v, want offset 0", code, clock)
	}

	// The periodic scan ran (RunOnStart) as a River job. The database is
	// opened as a second process would.
	a, err := openApp(t.Context(), testConfig(t, dir, "", false), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	db := a.store.(interface{ SQL() *sql.DB }).SQL()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var n int
		if err := db.QueryRowContext(t.Context(), "SELECT count(*) FROM river_job WHERE kind = 'subscriptions_due' AND state = 'completed'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no subscriptions_due job completed: the job runner does not scan for renewals")
		}
		time.Sleep(100 * time.Millisecond)
	}
	a.close()
	if err := inst.stop(); err != nil {
		t.Fatal(err)
	}

	// Without the simulator there is no test clock.
	again := startServe(t, testConfig(t, dir, "", false))
	if code := call(t, "GET", again.addrs.API+"/v1/test_clock", key, nil, nil); code != http.StatusNotFound {
		t.Errorf("GET /v1/test_clock without the simulator: %d, want 404", code)
	}
}
