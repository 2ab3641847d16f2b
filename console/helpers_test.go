package console_test

// The console's test harness: a shop over its own store and simulator
// (internal/paytest), the card Payer and the collection Collector, and one
// server that serves the console under /admin next to the API's gateway
// receiver, as cmd/kessai wires them. A test plays the operator with a
// cookie-keeping HTTP client (browser) or a real Chromium
// (browser_test.go), and the shop with direct calls.

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/api"
	"github.com/kessai/kessai/cardpay"
	"github.com/kessai/kessai/console"
	"github.com/kessai/kessai/cvspay"
	"github.com/kessai/kessai/escott/sim"
	"github.com/kessai/kessai/internal/paytest"
	"github.com/kessai/kessai/internal/testdb"
	"github.com/kessai/kessai/renewal"
	"github.com/kessai/kessai/service"
)

const shopID = paytest.ShopID

// Users of every env: an admin and a read-only member of staff.
const (
	adminEmail    = "ops@shop.example"
	readerEmail   = "staff@shop.example"
	adminPassword = "correct horse battery"
)

type env struct {
	*paytest.Env
	payer *cardpay.Payer
	col   *cvspay.Collector
	subs  *renewal.Engine
	h     *console.Handler
	url   string // the server's base URL (console at url + "/admin")
}

type options struct {
	db    testdb.Backend
	patch map[string]any
}

type option func(*options)

func onDB(b testdb.Backend) option { return func(o *options) { o.db = b } }

// withSettings merges a settings patch after the defaults.
func withSettings(patch map[string]any) option { return func(o *options) { o.patch = patch } }

// newEnv starts a pro shop on the simulator with both methods enabled for
// the demo merchant (token type, no 3-D Secure, 1Auth so that captures
// can be tested, card members on), an admin and a read-only user.
func newEnv(t testing.TB, opts ...option) *env {
	t.Helper()
	o := options{db: testdb.SQLite}
	for _, f := range opts {
		f(&o)
	}
	e := &env{Env: paytest.Start(t, paytest.Options{DB: o.db})}
	e.payer = cardpay.New(cardpay.Config{Service: e.Svc, Gateways: e.Gateways, ReturnURL: e.Recv + "/escott/notify", Logger: e.Log})
	e.col = cvspay.New(cvspay.Config{Service: e.Svc, Gateways: e.Gateways, Logger: e.Log})
	e.subs = renewal.New(renewal.Config{Service: e.Svc, Cards: e.payer, Logger: e.Log})
	e.url = e.Recv
	e.h = console.New(console.Config{Service: e.Svc, Cards: e.payer, Collections: e.col, Subscriptions: e.subs, ShopID: shopID,
		PublicURL: e.Recv, Logger: e.Log})
	mux := http.NewServeMux()
	mux.Handle(console.Pattern, e.h)
	mux.Handle("/", api.New(api.Config{Service: e.Svc, Logger: e.Log, Now: e.Clock.Now, Cards: e.payer, Collections: e.col,
		Notifications: api.NotificationHandlers{ThreeDS: e.payer.ThreeDSReturn, ThreeDSMember: e.payer.ThreeDSMemberReturn,
			Link: e.payer.LinkReturn, Collection: e.col.Notify}}))
	e.Serve(mux)

	d := sim.DemoMerchant
	e.Settings(map[string]any{
		"environment": "simulator",
		"plan":        "pro",
		"card": map[string]any{
			"enabled": true, "merchant_id": d.MerchantID, "merchant_pass_test": d.TestPass, "merchant_pass_prod": d.ProdPass,
			"tenant_id": d.TenantIDs[0], "token_auth_code": d.TokenAuthCode, "aes_key": d.AESKey, "aes_iv": d.AESIV,
			"always_register": false, "operation": "1Auth",
		},
		"collection": map[string]any{
			"enabled": true, "merchant_id": d.MerchantID, "merchant_pass_test": d.TestPass, "merchant_pass_prod": d.ProdPass,
			"due_days": 7,
		},
	})
	if o.patch != nil {
		e.Settings(o.patch)
	}
	for _, u := range []struct {
		email string
		role  kessai.AdminRole
	}{{adminEmail, kessai.RoleAdmin}, {readerEmail, kessai.RoleReadOnly}} {
		if _, err := e.Svc.CreateAdminUser(e.Ctx, shopID, u.email, "担当 "+string(u.role), u.role, adminPassword); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// ---- the shop's side ----

var defaultBilling = kessai.Billing{LastName: "山田", FirstName: "太郎", LastNameKana: "ﾔﾏﾀﾞ", FirstNameKana: "ﾀﾛｳ",
	Email: "taro@example.jp", Phone: "090-1234-5678"}

// order creates a pending order of amount yen with one physical item.
func (e *env) order(amount int64, opts ...paytest.OrderOpt) *kessai.Order {
	e.T.Helper()
	b := defaultBilling
	return e.CreateOrder(service.OrderInput{Amount: &amount, Billing: &b,
		Items: []service.ItemInput{{Name: "Tシャツ", Quantity: 1, UnitAmount: amount}}}, opts...)
}

func forCustomer(id string) paytest.OrderOpt {
	return func(in *service.OrderInput) { in.CustomerID = id }
}

// payCard pays an order with the demo card (token type) and returns the
// payment. saveCard registers the card for the order's customer.
func (e *env) payCard(o *kessai.Order, saveCard bool) *kessai.Payment {
	e.T.Helper()
	tok, err := e.Sim.IssueToken(paytest.DemoID, "test", sim.DemoCard, "2812", "8888", "")
	if err != nil {
		e.T.Fatal(err)
	}
	in := cardpay.PayInput{Token: tok, CardPrefix: sim.DemoCard[:6]}
	if saveCard {
		in.SaveCard = true
	}
	res, err := e.payer.Pay(e.Ctx, shopID, o.ID, in)
	if err != nil {
		e.T.Fatalf("Pay(%s): %v", o.ID, err)
	}
	if res.Status != cardpay.StatusSucceeded || res.Payment == nil {
		e.T.Fatalf("Pay(%s): status %s", o.ID, res.Status)
	}
	return res.Payment
}

// register registers a collection for the order at checkout.
func (e *env) register(o *kessai.Order) *cvspay.Result {
	e.T.Helper()
	r, err := e.col.Register(e.Ctx, shopID, o.ID, cvspay.RegisterInput{})
	if err != nil {
		e.T.Fatalf("Register(%s): %v", o.ID, err)
	}
	return r
}

// ---- the operator's browser ----

// browser is an operator's browser without JavaScript: it keeps cookies
// and does not follow redirects, so each answer can be checked.
type browser struct {
	e      *env
	client *http.Client
}

type resp struct {
	Status int
	Body   string
	Loc    string
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, client: &http.Client{Jar: jar, Timeout: 60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) do(method, path string, form url.Values) resp {
	b.e.T.Helper()
	var body io.Reader
	if method == http.MethodPost {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(b.e.Ctx, method, b.e.url+path, body)
	if err != nil {
		b.e.T.Fatal(err)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := b.client.Do(req)
	if err != nil {
		b.e.T.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	if err != nil {
		b.e.T.Fatal(err)
	}
	return resp{Status: res.StatusCode, Body: string(out), Loc: res.Header.Get("Location")}
}

// get fetches a page.
func (b *browser) get(path string) resp { b.e.T.Helper(); return b.do(http.MethodGet, path, nil) }

// page fetches a page and wants 200.
func (b *browser) page(path string) string {
	b.e.T.Helper()
	r := b.get(path)
	if r.Status != http.StatusOK {
		b.e.T.Fatalf("GET %s: HTTP %d (Location %q)\n%s", path, r.Status, r.Loc, r.Body)
	}
	return r.Body
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf is the CSRF token of a page's forms.
func csrfOf(t testing.TB, body string) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token in page:\n%s", body)
	}
	return m[1]
}

// post submits a form from the page at from (whose CSRF token it takes)
// to path.
func (b *browser) post(from, path string, form url.Values) resp {
	b.e.T.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", csrfOf(b.e.T, b.page(from)))
	return b.do(http.MethodPost, path, form)
}

// login logs in and wants the redirect to the dashboard.
func (b *browser) login(email string) {
	b.e.T.Helper()
	r := b.post("/admin/login", "/admin/login", url.Values{"email": {email}, "password": {adminPassword}})
	if r.Status != http.StatusSeeOther {
		b.e.T.Fatalf("login %s: HTTP %d\n%s", email, r.Status, r.Body)
	}
}

// asAdmin and asReader are logged-in browsers.
func (e *env) asAdmin() *browser  { b := e.browser(); b.login(adminEmail); return b }
func (e *env) asReader() *browser { b := e.browser(); b.login(readerEmail); return b }

// wantRedirect checks a form's answer is a redirect to a path prefix.
func wantRedirect(t testing.TB, r resp, prefix string) {
	t.Helper()
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Loc, prefix) {
		t.Fatalf("want redirect to %s, got HTTP %d Location %q\n%s", prefix, r.Status, r.Loc, r.Body)
	}
}

// wantContains checks that a page shows each text.
func wantContains(t testing.TB, body string, texts ...string) {
	t.Helper()
	for _, s := range texts {
		if !strings.Contains(body, s) {
			t.Errorf("page lacks %q", s)
		}
	}
	if t.Failed() {
		t.Logf("page:\n%s", body)
	}
}

func wantNotContains(t testing.TB, body string, texts ...string) {
	t.Helper()
	for _, s := range texts {
		if strings.Contains(body, s) {
			t.Errorf("page shows %q", s)
		}
	}
}
