package demoshop

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kessai/kessai/api"
	"github.com/kessai/kessai/cardpay"
	"github.com/kessai/kessai/escott/sim"
	"github.com/kessai/kessai/gateway"
	"github.com/kessai/kessai/hosted"
	"github.com/kessai/kessai/jobs"
	"github.com/kessai/kessai/password"
	"github.com/kessai/kessai/service"
	"github.com/kessai/kessai/sqlite"
	"github.com/kessai/kessai/storetest"
)

// The tests run a real kessai — SQLite store, service, JSON API, card
// payments against the in-process simulator, the hosted pages, and (where
// webhooks are tested) the job runner delivering them — on one test
// server, with the demo shop mounted under /demo/ next to it as `kessai
// serve` would. The
// shop reaches the API over HTTP with a secret key, like any shop.

// approveCard is a simulator test card that is always approved.
const approveCard = "4012000000000008"

// envOptions choose what a test needs.
type envOptions struct {
	// webhooks starts the job runner and registers the shop's webhook
	// endpoint, so kessai really delivers events to the shop.
	webhooks bool
	// settings is a merge patch applied after the demo merchant's.
	settings map[string]any
	// apiPublicURL is kessai's public URL (checkout_url's base) when it
	// is not the test server's own.
	apiPublicURL string
	// beforeShop may register extra routes on the server's mux (stubs of
	// API routes) before the shop is mounted.
	beforeShop func(e *env)
}

// env is a running kessai with the demo shop.
type env struct {
	t       *testing.T
	url     string // the server: the API at /v1, the shop at /demo/
	shopURL string
	sk      string
	secret  string // the webhook endpoint's signing secret
	sim     *sim.Server
	mux     *http.ServeMux
	handler http.Handler // the shop
}

// quiet discards kessai's logs: the tests check answers, not log lines.
var quiet = slog.New(slog.DiscardHandler)

func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	ctx := t.Context()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "kessai.db"), storetest.TestSealer())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })

	cfg := service.Config{Store: db, Logger: quiet,
		// Bootstrap hashes the first admin's password; production
		// argon2id parameters would cost a second here.
		PasswordParams: password.Params{Time: 1, Memory: 64, Threads: 1, SaltLen: 16, KeyLen: 32}}
	var runner *jobs.Runner
	if o.webhooks {
		runner, err = jobs.NewSQLite(db.SQL(), db, jobs.Options{Logger: quiet, DispatchInterval: time.Second,
			Schedule: []time.Duration{100 * time.Millisecond, 200 * time.Millisecond}})
		if err != nil {
			t.Fatal(err)
		}
		if err := runner.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		cfg.AfterEvent, cfg.Resender = runner.Kick, runner
	}
	svc := service.New(cfg)
	keys, err := svc.Bootstrap(ctx)
	if err != nil || keys == nil {
		t.Fatalf("bootstrap: %v", err)
	}

	simulator, err := sim.New(sim.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(simulator.Close)
	simSrv := httptest.NewServer(simulator)
	t.Cleanup(simSrv.Close)

	e := &env{t: t, sk: keys.SecretKey, sim: simulator, mux: http.NewServeMux()}
	srv := httptest.NewServer(e.mux)
	t.Cleanup(srv.Close)
	e.url, e.shopURL = srv.URL, srv.URL+"/demo"

	gw := gateway.New(gateway.Config{SimulatorURL: simSrv.URL, Logger: quiet})
	payer := cardpay.New(cardpay.Config{Service: svc, Gateways: gw, ReturnURL: srv.URL + "/escott/notify", Logger: quiet})
	pub := srv.URL
	if o.apiPublicURL != "" {
		pub = o.apiPublicURL
	}
	// kessai's hosted pages (checkout_url, my cards), wired as kessai
	// serve wires them.
	pages := hosted.New(hosted.Config{Service: svc, Cards: payer, PublicURL: pub, SimulatorURL: simSrv.URL, Logger: quiet})
	for _, p := range hosted.Patterns {
		e.mux.Handle(p, pages)
	}
	e.mux.Handle("/", api.New(api.Config{Service: svc, Logger: quiet, PublicURL: pub, Cards: payer, MyCardsLink: pages.MyCardsLink}))

	d := sim.DemoMerchant
	e.settings(map[string]any{
		"environment": "simulator",
		"card": map[string]any{
			"enabled": true, "merchant_id": d.MerchantID, "merchant_pass_test": d.TestPass, "merchant_pass_prod": d.ProdPass,
			"tenant_id": d.TenantIDs[0], "token_auth_code": d.TokenAuthCode, "aes_key": d.AESKey, "aes_iv": d.AESIV,
		},
	})
	if o.settings != nil {
		e.settings(o.settings)
	}
	if o.webhooks {
		var ep struct {
			Secret string `json:"secret"`
		}
		e.api(http.MethodPost, "/v1/webhook_endpoints", map[string]any{"url": e.shopURL + "/webhook"}, &ep, http.StatusCreated)
		e.secret = ep.Secret
		if err := runner.Start(context.WithoutCancel(ctx)); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_ = runner.Stop(sctx)
		})
	}
	if o.beforeShop != nil {
		o.beforeShop(e)
	}
	h, err := New(Config{APIBaseURL: e.url, APIKey: e.sk, WebhookSecret: e.secret, PublicURL: e.shopURL,
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		t.Fatal(err)
	}
	e.handler = h
	e.mux.Handle("/demo/", h)
	return e
}

// testWriter sends the shop's warnings to the test's log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// settings applies a settings merge patch through the API.
func (e *env) settings(patch map[string]any) {
	e.t.Helper()
	e.api(http.MethodPatch, "/v1/settings", map[string]any{"settings": patch}, nil, http.StatusOK)
}

// api calls kessai's API with the secret key, checks the status (when
// want is not 0) and decodes the answer into out (when not nil).
func (e *env) api(method, path string, body, out any, want int) int {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.sk)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if want != 0 && resp.StatusCode != want {
		e.t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			e.t.Fatalf("%s %s: %v: %s", method, path, err, raw)
		}
	}
	return resp.StatusCode
}

// orders lists the shop's orders through the API (optionally of one
// customer).
func (e *env) orders(customerID string) []apiOrder {
	e.t.Helper()
	p := "/v1/orders?limit=100"
	if customerID != "" {
		p += "&customer_id=" + url.QueryEscape(customerID)
	}
	var l orderList
	e.api(http.MethodGet, p, nil, &l, http.StatusOK)
	return l.Data
}

// order reads one order through the API.
func (e *env) order(id string) *apiOrder {
	e.t.Helper()
	var o apiOrder
	e.api(http.MethodGet, "/v1/orders/"+id, nil, &o, http.StatusOK)
	return &o
}

// pay pays an order with a simulator token, as the hosted checkout page
// would after the shopper typed the card.
func (e *env) pay(orderID string) {
	e.t.Helper()
	tok, err := e.sim.IssueToken(sim.DemoMerchant.MerchantID, "test", approveCard, "3012", "", "")
	if err != nil {
		e.t.Fatal(err)
	}
	var res struct {
		Status string `json:"status"`
	}
	e.api(http.MethodPost, "/v1/orders/"+orderID+"/pay", map[string]any{"token": tok, "card_prefix": approveCard[:6]}, &res, http.StatusOK)
	if res.Status != "succeeded" {
		e.t.Fatalf("pay %s: %s", orderID, res.Status)
	}
}

// browser is a shopper: a cookie jar, and redirects reported rather than
// followed so the tests see where the shop sends it.
type browser struct {
	t   *testing.T
	e   *env
	c   *http.Client
	jar *cookiejar.Jar
}

func (e *env) browser() *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return &browser{t: e.t, e: e, jar: jar, c: &http.Client{Jar: jar, Timeout: 60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// page is an answer of the shop.
type page struct {
	status int
	header http.Header
	body   string
}

// location is the redirect target.
func (p *page) location() string { return p.header.Get("Location") }

var csrfRE = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// csrf is the CSRF token of a page's forms.
func (p *page) csrf(t *testing.T) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no CSRF token in the page:\n%s", p.body)
	}
	return m[1]
}

// input is the value of a named input of the page.
func (p *page) input(t *testing.T, name string) string {
	t.Helper()
	re := regexp.MustCompile(`name="` + regexp.QuoteMeta(name) + `"[^>]*? value="([^"]*)"`)
	m := re.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no input %q in the page:\n%s", name, p.body)
	}
	return htmlUnescape(m[1])
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&#34;", `"`, "&#39;", "'", "&quot;", `"`).Replace(s)
}

func (b *browser) do(req *http.Request) *page {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return &page{status: resp.StatusCode, header: resp.Header, body: string(raw)}
}

// get fetches a path of the server (e.g. "/demo/cart").
func (b *browser) get(path string) *page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.e.url+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

// post submits a form.
func (b *browser) post(path string, form url.Values) *page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.e.url+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// must checks a page's status.
func (p *page) must(t *testing.T, status int) *page {
	t.Helper()
	if p.status != status {
		t.Fatalf("status %d, want %d; Location %q\n%s", p.status, status, p.location(), p.body)
	}
	return p
}

// addToCart adds a product from its page.
func (b *browser) addToCart(id string, qty int) {
	b.t.Helper()
	p := b.get("/demo/products/"+id).must(b.t, http.StatusOK)
	r := b.post("/demo/cart/add", url.Values{"csrf": {p.csrf(b.t)}, "product": {id}, "quantity": {strconv.Itoa(qty)}}).must(b.t, http.StatusSeeOther)
	if r.location() != "/demo/cart" {
		b.t.Fatalf("add to cart went to %q", r.location())
	}
}

// login logs in from the login page.
func (b *browser) login(email, pw, next string) *page {
	b.t.Helper()
	p := b.get("/demo/login").must(b.t, http.StatusOK)
	return b.post("/demo/login", url.Values{"csrf": {p.csrf(b.t)}, "email": {email}, "password": {pw}, "next": {next}})
}

// checkout opens the checkout page, lets fill change the prefilled form
// and submits it.
func (b *browser) checkout(fill func(url.Values)) *page {
	b.t.Helper()
	p := b.get("/demo/checkout").must(b.t, http.StatusOK)
	form := url.Values{"csrf": {p.csrf(b.t)}, "attempt": {p.input(b.t, "attempt")}}
	for _, f := range []string{"last_name", "first_name", "last_name_kana", "first_name_kana", "email", "phone"} {
		form.Set(f, p.input(b.t, f))
	}
	if fill != nil {
		fill(form)
	}
	return b.post("/demo/checkout", form)
}
