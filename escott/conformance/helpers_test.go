package conformance

import (
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/escott/sim"
	"github.com/kessai/kessai/internal/htmlform"
)

// baseTime is the simulator's base clock in every fixture: noon JST, so
// that no test runs across a JST midnight and every date is reproducible.
// The simulator's clock only moves through Advance.
var baseTime = time.Date(2026, 4, 1, 12, 0, 0, 0, escott.JST)

// Card data used throughout. cardExp is far enough in the future that
// moving the clock by a few months never expires it.
const (
	cardExp    = "3012"
	demoSecCd  = "8888"
	visaOK     = "4012000000000008"
	masterOK   = "5123000000000001"
	jcbOK      = "3530000000000003"
	dinersOK   = "36000000000008"
	amexOK     = "370000000000002"
	threeDSOK  = "4000000000003006" // frictionless, SecureResultCode 0
	defaultAmt = 1100
)

// demoID is the demo merchant's MerchantId.
var demoID = sim.DemoMerchant.MerchantID

// fixture is one simulator served over loopback HTTP with a client for
// the demo merchant's test environment.
type fixture struct {
	t   testing.TB
	sim *sim.Server
	srv *httptest.Server
	c   *escott.Client
	ctx context.Context
}

// newFixture starts a simulator (configured by the optional mods) and a
// client whose clock is the simulator's, so TransactionDate and SalesDate
// follow every Advance.
func newFixture(t testing.TB, mods ...func(*sim.Config)) *fixture {
	t.Helper()
	return startFixture(t, nil, nil, mods...)
}

// startFixture is newFixture over TLS when cert is set: the simulator is
// served with the certificate (TLS 1.2 only) and the fixture's client
// trusts it. wrap, when set, wraps the simulator's handler.
func startFixture(t testing.TB, cert *sim.Certificate, wrap func(http.Handler) http.Handler, mods ...func(*sim.Config)) *fixture {
	t.Helper()
	cfg := sim.Config{Now: func() time.Time { return baseTime }}
	for _, m := range mods {
		m(&cfg)
	}
	s, err := sim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	var h http.Handler = s
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewUnstartedServer(h)
	// Handshake failures provoked on purpose would be logged otherwise.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	if cert != nil {
		srv.TLS = cert.TLSConfig()
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	f := &fixture{t: t, sim: s, srv: srv, ctx: context.Background()}
	var opts []func(*escott.Config)
	if cert != nil {
		opts = append(opts, func(c *escott.Config) {
			c.HTTPClient = &http.Client{Transport: escott.NewTransport(escott.TransportOptions{RootCAs: cert.Pool})}
		})
	}
	f.c = f.client(escott.Merchant{MerchantID: sim.DemoMerchant.MerchantID, MerchantPass: sim.DemoMerchant.TestPass, TenantID: "0001"}, opts...)
	return f
}

// client returns a client for other credentials against the same
// simulator.
func (f *fixture) client(m escott.Merchant, mods ...func(*escott.Config)) *escott.Client {
	f.t.Helper()
	cfg := escott.Config{Merchant: m, Environment: escott.Test, BaseURL: f.srv.URL, Now: f.sim.Now}
	for _, mod := range mods {
		mod(&cfg)
	}
	c, err := escott.New(cfg)
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// token issues a one-time token for the demo merchant's test environment
// through the simulator's Go API (no browser).
func (f *fixture) token(number string) string {
	f.t.Helper()
	sec := ""
	if number == sim.DemoCard {
		sec = demoSecCd
	}
	tok, err := f.sim.IssueToken(demoID, "test", number, cardExp, sec, "")
	if err != nil {
		f.t.Fatalf("IssueToken(%s): %v", number, err)
	}
	return tok
}

// ref returns fresh merchant references for a new transaction.
func (f *fixture) ref(order string) escott.Ref {
	f.t.Helper()
	mf1, err := escott.NewMerchantFree1(f.c.Rand())
	if err != nil {
		f.t.Fatal(err)
	}
	return escott.Ref{MerchantFree1: mf1, MerchantFree2: order}
}

// auth authorises amount on a fresh token of number and fails the test
// unless the gateway approves.
func (f *fixture) auth(number string, capture bool, amount int64) *escott.AuthResult {
	f.t.Helper()
	res, err := f.c.Authorize(f.ctx, escott.AuthRequest{Ref: f.ref("order-1"), Capture: capture, Amount: amount, Token: f.token(number)})
	if err != nil {
		f.t.Fatalf("Authorize(%s, capture=%v): %v", number, capture, err)
	}
	return res
}

// newMember registers a member for number and returns its ids.
func (f *fixture) newMember(customer, number string) escott.Member {
	f.t.Helper()
	id, err := escott.NewKaiinID(customer, f.c.Rand())
	if err != nil {
		f.t.Fatal(err)
	}
	pass, err := escott.NewKaiinPass(f.c.Rand())
	if err != nil {
		f.t.Fatal(err)
	}
	m := escott.Member{KaiinID: id, KaiinPass: pass}
	if _, err := f.c.AddMember(f.ctx, f.ref(""), m, f.token(number)); err != nil {
		f.t.Fatalf("AddMember: %v", err)
	}
	return m
}

// txn returns the simulator's view of a card transaction; ok is false
// when the simulator has none with this ProcessId.
func (f *fixture) txn(processID string) (sim.TransactionView, bool) {
	for _, t := range f.sim.Transactions(demoID, "test") {
		if t.ProcessID == processID {
			return t, true
		}
	}
	return sim.TransactionView{}, false
}

// mustTxn is txn that fails the test when the transaction is missing.
func (f *fixture) mustTxn(processID string) sim.TransactionView {
	f.t.Helper()
	t, ok := f.txn(processID)
	if !ok {
		f.t.Fatalf("the simulator has no transaction %s", processID)
	}
	return t
}

// member returns the simulator's view of a card member.
func (f *fixture) member(kaiinID string) (sim.MemberView, bool) {
	for _, m := range f.sim.Members(demoID, "test") {
		if m.KaiinID == kaiinID {
			return m, true
		}
	}
	return sim.MemberView{}, false
}

// collection returns the simulator's view of a collection.
func (f *fixture) collection(processID string) (sim.CollectionView, bool) {
	for _, c := range f.sim.Collections(demoID, "test") {
		if c.ProcessID == processID {
			return c, true
		}
	}
	return sim.CollectionView{}, false
}

// wantCode fails the test unless err is a gateway refusal carrying
// exactly the given codes.
func wantCode(t testing.TB, err error, codes ...string) *escott.Error {
	t.Helper()
	e, ok := escott.AsError(err)
	if !ok {
		t.Fatalf("want gateway error %v, got %v", codes, err)
	}
	if e.NoAnswer() {
		t.Fatalf("want gateway error %v, got no answer: %v", codes, err)
	}
	if strings.Join(e.Codes, "|") != strings.Join(codes, "|") {
		t.Fatalf("want codes %v, got %v (%v)", codes, e.Codes, err)
	}
	return e
}

// wantOK fails the test on any error.
func wantOK(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("want OK, got %v", err)
	}
}

// ---- HTML of the browser pages ----

var reOption = regexp.MustCompile(`(?is)<option\b([^>]*)>`)

// htmlForm is one form of a page: its action, method and the fields a
// browser would submit without user input (hidden and pre-filled inputs;
// buttons are listed separately).
type htmlForm struct {
	Action  string
	Method  string
	Fields  url.Values
	Buttons []url.Values // name=value of each submit button
	Names   []string     // every field name, in order
}

// parseForms extracts the forms of an HTML page.
func parseForms(page string) []htmlForm {
	var out []htmlForm
	for _, r := range htmlform.Scan(page) {
		f := htmlForm{Action: r.Attrs["action"], Method: strings.ToUpper(r.Attrs["method"]), Fields: url.Values{}}
		if f.Method == "" {
			f.Method = http.MethodGet
		}
		for _, c := range r.Controls {
			ia := c.Attrs
			name := ia["name"]
			if name == "" {
				continue
			}
			typ := strings.ToLower(ia["type"])
			f.Names = append(f.Names, name)
			switch {
			case c.Tag == "button" || typ == "submit":
				f.Buttons = append(f.Buttons, url.Values{name: {ia["value"]}})
			case typ == "radio" || typ == "checkbox":
				if _, checked := ia["checked"]; checked {
					f.Fields.Add(name, ia["value"])
				}
			case c.Tag == "select":
				// The first option is what a browser submits untouched.
				rest := r.Body[strings.Index(r.Body, c.Src):]
				if om := reOption.FindStringSubmatch(rest); om != nil {
					f.Fields.Set(name, htmlform.Attrs(om[1])["value"])
				}
			default:
				f.Fields.Set(name, ia["value"])
			}
		}
		out = append(out, f)
	}
	return out
}

// autoSubmitted returns the action and EncryptValue of the auto-submit
// page the simulator hands the browser back with.
func autoSubmitted(t testing.TB, page string) (action, encryptValue string) {
	t.Helper()
	action, encryptValue, ok := htmlform.AutoSubmitted(page)
	if !ok {
		t.Fatalf("no auto-submitted EncryptValue in page:\n%s", page)
	}
	return action, encryptValue
}

// resolve makes a form action absolute against the simulator.
func (f *fixture) resolve(action string) string {
	u, err := url.Parse(action)
	if err != nil {
		f.t.Fatalf("bad action %q: %v", action, err)
	}
	base, _ := url.Parse(f.srv.URL + "/")
	return base.ResolveReference(u).String()
}

// do sends a browser request without following redirects and returns the
// status and the body.
func (f *fixture) browse(method, target string, form url.Values) (int, string) {
	f.t.Helper()
	var body io.Reader
	if method == http.MethodPost {
		body = strings.NewReader(form.Encode())
	} else if form != nil {
		target += "?" + form.Encode()
	}
	req, err := http.NewRequestWithContext(f.ctx, method, target, body)
	if err != nil {
		f.t.Fatal(err)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		f.t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// isNoAnswer reports whether err is the client-side NG.
func isNoAnswer(err error) bool {
	e, ok := escott.AsError(err)
	return ok && e.NoAnswer() && e.Class() == escott.ClassNoAnswer && e.HasCode(escott.CodeNG) && e.Cause != nil
}
