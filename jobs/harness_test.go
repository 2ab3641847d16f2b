package jobs

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/secret"
	"github.com/kessai/kessai/webhook"
)

// The tests run against real databases (no mocks): a SQLite file in a
// temporary directory, and PostgreSQL in a fresh schema per test (see
// pgBackend). Each backend gives a "deployment" able to open several
// instances — a store and a Runner each — on one database.

// backend opens deployments of one database kind.
type backend struct {
	name string
	// open prepares a fresh, empty database for t and returns a function
	// that opens one more instance on it.
	open func(t *testing.T) func(t *testing.T, opts Options) *instance
}

// instance is one kessai process: its own store handle and Runner.
type instance struct {
	store  kessai.Store
	runner *Runner
}

// backends are the backends to run on. PostgreSQL is skipped locally when
// no server answers, and fails the test in CI (CI=true).
var backends = []backend{sqliteBackend(), pgBackend()}

// forEachBackend runs f as a subtest per backend, in parallel.
func forEachBackend(t *testing.T, f func(t *testing.T, b backend)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			f(t, b)
		})
	}
}

// testSealer is a fixed master key: the tests check deliveries, not
// sealing.
func testSealer(t testing.TB) kessai.Sealer {
	key := make([]byte, secret.KeySize)
	for i := range key {
		key[i] = byte(i + 1)
	}
	k, err := secret.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// testOptions are fast options for tests: a short retry schedule, quick
// periodic sweeps, quiet logs.
func testOptions(t testing.TB, schedule ...time.Duration) Options {
	if len(schedule) == 0 {
		schedule = []time.Duration{50 * time.Millisecond, 50 * time.Millisecond, 50 * time.Millisecond}
	}
	return Options{
		Logger:           testLogger(t),
		Schedule:         schedule,
		DispatchInterval: time.Second,
		Workers:          8,
		testOnly:         true,
	}
}

// businessOptions are testOptions whose clock (Options.Now) stands still
// at a business time years from the real one, as the simulator's moved
// clock may: what the runner stamps or compares with the business clock
// must follow it, while signatures and River keep real time.
func businessOptions(t testing.TB) (Options, time.Time) {
	at := time.Date(2030, 4, 1, 9, 0, 0, 0, kessai.JST)
	opts := testOptions(t)
	opts.Now = func() time.Time { return at }
	return opts, at
}

// testLogger sends warnings and errors to the test log (River's info logs
// are noise here); set KESSAI_TEST_LOG=debug to see everything.
func testLogger(t testing.TB) *slog.Logger {
	level := slog.LevelWarn
	if os.Getenv("KESSAI_TEST_LOG") == "debug" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: level}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// fixture is a started deployment: one shop and a receiver.
type fixture struct {
	t    *testing.T
	ctx  context.Context
	open func(t *testing.T, opts Options) *instance
	inst *instance // the first instance
	recv *receiver
	shop string
}

// newFixture opens a database, one instance (migrated, not started) and a
// shop, and starts a receiver.
func newFixture(t *testing.T, b backend, opts Options) *fixture {
	t.Helper()
	ctx := t.Context()
	open := b.open(t)
	inst := open(t, opts)
	if err := inst.runner.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, ctx: ctx, open: open, inst: inst, recv: newReceiver(t), shop: "shop_" + randHex(4)}
	if err := inst.store.CreateShop(ctx, &kessai.Shop{ID: f.shop, Name: "Test shop", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	return f
}

// start starts inst's runner and stops it at the end of the test.
func (f *fixture) start(inst *instance) {
	f.t.Helper()
	if err := inst.runner.Start(context.WithoutCancel(f.ctx)); err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := inst.runner.Stop(ctx); err != nil {
			f.t.Errorf("stop runner: %v", err)
		}
	})
}

// endpoint creates an endpoint of the fixture's shop that posts to the
// receiver under name.
func (f *fixture) endpoint(name string, enabled bool, types ...string) *kessai.WebhookEndpoint {
	f.t.Helper()
	sec, err := webhook.NewSecret()
	if err != nil {
		f.t.Fatal(err)
	}
	ep := &kessai.WebhookEndpoint{
		ID: kessai.NewID("we", time.Now()), ShopID: f.shop, URL: f.recv.url(name), Secret: sec,
		EventTypes: types, Enabled: enabled, CreatedAt: time.Now(),
	}
	if err := f.inst.store.CreateWebhookEndpoint(f.ctx, ep); err != nil {
		f.t.Fatal(err)
	}
	f.recv.setSecret(name, sec)
	return ep
}

// event creates an event of the fixture's shop.
func (f *fixture) event(typ string) *kessai.Event {
	f.t.Helper()
	ev, err := createEvent(f.ctx, f.inst.store, f.shop, typ)
	if err != nil {
		f.t.Fatal(err)
	}
	return ev
}

func createEvent(ctx context.Context, s kessai.Store, shop, typ string) (*kessai.Event, error) {
	ev := &kessai.Event{
		ID: kessai.NewID("evt", time.Now()), ShopID: shop, Type: typ,
		Data: json.RawMessage(`{"order_id":"ord_1","amount":5500}`), CreatedAt: time.Now(),
	}
	return ev, s.CreateEvent(ctx, ev)
}

// deliveries lists every logged attempt of the shop (all pages), oldest
// first.
func (f *fixture) deliveries(eventID, endpointID string) []kessai.WebhookDelivery {
	f.t.Helper()
	var all []kessai.WebhookDelivery
	page := kessai.Page{Limit: 100}
	for {
		ds, err := f.inst.store.ListDeliveries(f.ctx, f.shop, eventID, endpointID, page)
		if err != nil {
			f.t.Fatal(err)
		}
		all = append(all, ds...)
		if len(ds) < page.Limit {
			break
		}
		page.After = ds[len(ds)-1].ID
	}
	for i, j := 0, len(all)-1; i < j; i, j = i+1, j-1 {
		all[i], all[j] = all[j], all[i]
	}
	return all
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// countJobs counts the jobs of r's database that match where (SQL over
// river_job).
func countJobs(t *testing.T, r *Runner, where string) int {
	t.Helper()
	n, err := r.count(t.Context(), "SELECT count(*) FROM river_job WHERE "+where)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// deliveriesDone reports whether River has finished every delivery job.
// Tests wait for it rather than for QueueDepth 0, which also counts the
// periodic sweep and purge: they are queued at start (RunOnStart) and
// every period, and one may rightly still wait for its turn — or stay
// queued over a Stop — when the test looks.
func deliveriesDone(t *testing.T, r *Runner) bool {
	t.Helper()
	return countJobs(t, r, "kind = '"+kindDeliver+"' AND state IN ("+unfinishedStates+")") == 0
}

// received is one request the receiver accepted or refused.
type received struct {
	endpoint string
	eventID  string
	typ      string
	attempt  int
	status   int
	verifyOK bool
	body     []byte
	header   http.Header
}

// receiver is the shop's side: an HTTP server with one path per endpoint
// name. It verifies every signature with webhook.Verify and counts
// deliveries per (endpoint, event id); its answer is scripted per endpoint.
type receiver struct {
	t   *testing.T
	srv *httptest.Server

	mu      sync.Mutex
	secrets map[string]string
	reqs    []received
	// respond chooses the status for a request; nil answers 200 (or 400
	// when the signature does not verify, like a real receiver).
	respond  func(endpoint string, n int, r *http.Request) int
	calls    map[string]int // requests per endpoint+event, for respond
	location string         // Location header of every answer, for redirects
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{t: t, secrets: map[string]string{}, calls: map[string]int{}}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) url(name string) string { return rc.srv.URL + "/hooks/" + name }

func (rc *receiver) setSecret(name, sec string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.secrets[name] = sec
}

func (rc *receiver) redirectTo(location string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.location = location
}

func (rc *receiver) script(f func(endpoint string, n int, r *http.Request) int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.respond = f
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/hooks/")
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	sec := rc.secrets[name]
	location := rc.location
	rc.mu.Unlock()
	if location != "" {
		w.Header().Set("Location", location)
	}

	err := webhook.Verify(r.Header.Get(webhook.HeaderSignature), body, [][]byte{[]byte(sec)}, webhook.DefaultTolerance, time.Now())
	attempt, _ := strconv.Atoi(r.Header.Get(webhook.HeaderDeliveryAttempt))
	rec := received{
		endpoint: name, eventID: r.Header.Get(webhook.HeaderEventID), typ: r.Header.Get(webhook.HeaderEventType),
		attempt: attempt, verifyOK: err == nil, body: body, header: r.Header.Clone(),
	}

	rc.mu.Lock()
	key := name + "|" + rec.eventID
	rc.calls[key]++
	n := rc.calls[key]
	respond := rc.respond
	rc.mu.Unlock()

	status := http.StatusOK
	switch {
	case err != nil:
		rc.t.Errorf("receiver: %s: signature does not verify: %v", name, err)
		status = http.StatusBadRequest
	case respond != nil:
		status = respond(name, n, r)
	}
	rec.status = status
	rc.mu.Lock()
	rc.reqs = append(rc.reqs, rec)
	rc.mu.Unlock()
	w.WriteHeader(status)
	fmt.Fprintf(w, "status %d", status)
}

// requests returns a copy of every request so far.
func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.reqs...)
}

// accepted counts 2xx-answered requests per endpoint and event id.
func (rc *receiver) accepted() map[string]int {
	out := map[string]int{}
	for _, r := range rc.requests() {
		if r.status/100 == 2 {
			out[r.endpoint+"|"+r.eventID]++
		}
	}
	return out
}

func randHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return fmt.Sprintf("%x", b)
}
