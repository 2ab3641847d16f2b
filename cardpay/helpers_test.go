package cardpay_test

// The end-to-end harness of package cardpay: internal/paytest's store,
// service, simulator and gateway factory, the Payer, and the receiver
// (package api) serving the browser returns. A test plays the shop's
// backend (Pay, Operate, …) and the shopper's browser (plain HTTP against
// the simulator's pages and the receiver, redirects not followed).

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/api"
	"github.com/kessai/kessai/card"
	"github.com/kessai/kessai/cardpay"
	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/escott/sim"
	"github.com/kessai/kessai/internal/paytest"
	"github.com/kessai/kessai/internal/testdb"
	"github.com/kessai/kessai/service"
)

const (
	shopID = paytest.ShopID
	// cardExp is far enough ahead that moving the clocks by months never
	// expires a card.
	cardExp   = "3012"
	demoSecCd = "8888"

	visaOK    = "4012000000000008"
	masterOK  = "5123000000000001"
	amexOK    = "370000000000002"
	threeDSOK = "4000000000003006" // frictionless, SecureResultCode 0
	declineCd = "4000000000000556" // G55
)

// env is one shop with cards over its own simulator and store.
type env struct {
	*paytest.Env
	payer *cardpay.Payer
}

type options struct {
	db       testdb.Backend
	patch    map[string]any
	simCfg   func(*sim.Config)
	payerCfg func(*cardpay.Config)
	// transport wraps the gateway's HTTP transport (fault injection on
	// the client side).
	transport func(http.RoundTripper) http.RoundTripper
}

type option func(*options)

// onDB runs the env on a backend (default SQLite).
func onDB(b testdb.Backend) option { return func(o *options) { o.db = b } }

// withCard adds card fields (key, value pairs) to that patch; later
// options win.
func withCard(kv ...any) option {
	return func(o *options) { o.patch = paytest.WithSection(o.patch, "card", kv...) }
}

func withSim(f func(*sim.Config)) option       { return func(o *options) { o.simCfg = f } }
func withPayer(f func(*cardpay.Config)) option { return func(o *options) { o.payerCfg = f } }
func withTransport(f func(http.RoundTripper) http.RoundTripper) option {
	return func(o *options) { o.transport = f }
}

// newEnv starts a shop with the demo merchant in the simulator
// environment, cards enabled (token type, no 3-D Secure, 1Gathering, card
// members on but not always registered), then applies the options.
func newEnv(t testing.TB, opts ...option) *env {
	t.Helper()
	o := options{db: testdb.SQLite}
	for _, f := range opts {
		f(&o)
	}
	e := &env{Env: paytest.Start(t, paytest.Options{DB: o.db, Sim: o.simCfg, Transport: o.transport})}
	pcfg := cardpay.Config{Service: e.Svc, Gateways: e.Gateways, ReturnURL: e.Recv + "/escott/notify", Logger: e.Log}
	if o.payerCfg != nil {
		o.payerCfg(&pcfg)
	}
	e.payer = cardpay.New(pcfg)
	e.Serve(api.New(api.Config{Service: e.Svc, Logger: e.Log, Now: e.Clock.Now, Cards: e.payer,
		Notifications: api.NotificationHandlers{ThreeDS: e.payer.ThreeDSReturn, ThreeDSMember: e.payer.ThreeDSMemberReturn,
			Link: e.payer.LinkReturn}}))

	d := sim.DemoMerchant
	e.Settings(map[string]any{
		"environment": "simulator",
		"card": map[string]any{
			"enabled": true, "merchant_id": d.MerchantID, "merchant_pass_test": d.TestPass, "merchant_pass_prod": d.ProdPass,
			"tenant_id": d.TenantIDs[0], "token_auth_code": d.TokenAuthCode, "aes_key": d.AESKey, "aes_iv": d.AESIV,
			"always_register": false,
		},
	})
	if o.patch != nil {
		e.Settings(o.patch)
	}
	return e
}

// card applies card settings given as key, value pairs: e.g.
// e.card("three_ds", true, "operation", "1Auth").
func (e *env) card(kv ...any) { e.T.Helper(); e.Settings(map[string]any{"card": paytest.KV(kv...)}) }

// ---- orders, tokens, payments ----

func forCustomer(id string) paytest.OrderOpt {
	return func(in *service.OrderInput) { in.CustomerID = id }
}

// items sets the order's line items, all virtual or not, summing to the
// order's amount.
func items(virtual ...bool) paytest.OrderOpt {
	return func(in *service.OrderInput) {
		in.Items = nil
		for i, v := range virtual {
			in.Items = append(in.Items, service.ItemInput{Name: fmt.Sprintf("item %d", i), Quantity: 1, Virtual: v})
		}
		if len(in.Items) > 0 {
			in.Items[0].UnitAmount = *in.Amount
		}
	}
}

func noReturnURL() paytest.OrderOpt { return func(in *service.OrderInput) { in.ReturnURL = "" } }

// order creates a pending order of amount yen.
func (e *env) order(amount int64, opts ...paytest.OrderOpt) *kessai.Order {
	e.T.Helper()
	return e.CreateOrder(service.OrderInput{Amount: &amount,
		Billing: &kessai.Billing{LastName: "山田", FirstName: "太郎", Email: "taro@example.jp"}}, opts...)
}

// token issues a one-time token for number as the gateway's script would.
func (e *env) token(number string) string {
	e.T.Helper()
	sec := ""
	if number == sim.DemoCard {
		sec = demoSecCd
	}
	tok, err := e.Sim.IssueToken(paytest.DemoID, "test", number, cardExp, sec, "")
	if err != nil {
		e.T.Fatalf("IssueToken(%s): %v", number, err)
	}
	return tok
}

// tok is a PayInput with a fresh token of number.
func (e *env) tok(number string) cardpay.PayInput {
	return cardpay.PayInput{Token: e.token(number), CardPrefix: number[:6]}
}

func (e *env) pay(o *kessai.Order, in cardpay.PayInput) (*cardpay.Result, error) {
	return e.payer.Pay(e.Ctx, shopID, o.ID, in)
}

// mustPay pays and wants a succeeded checkout.
func (e *env) mustPay(o *kessai.Order, in cardpay.PayInput) *cardpay.Result {
	e.T.Helper()
	res, err := e.pay(o, in)
	if err != nil {
		e.T.Fatalf("Pay(%s): %v", o.ID, err)
	}
	if res.Status != cardpay.StatusSucceeded || res.Payment == nil {
		e.T.Fatalf("Pay(%s): status %s, payment %v", o.ID, res.Status, res.Payment)
	}
	return res
}

// state derives the payment's state from its stored history.
func (e *env) state(paymentID string) card.State { return card.DeriveState(e.History(paymentID)) }

func (e *env) member(customerID string) (*kessai.Member, bool) {
	e.T.Helper()
	m, err := e.Store.GetMember(e.Ctx, shopID, customerID)
	if errors.Is(err, kessai.ErrNotFound) {
		return nil, false
	}
	if err != nil {
		e.T.Fatal(err)
	}
	return m, true
}

// ---- the simulator's view ----

func (e *env) simTxns() []sim.TransactionView { return e.Sim.Transactions(paytest.DemoID, "test") }

// simTxnsOf returns the simulator's card transactions of an order
// (MerchantFree2 is the order id).
func (e *env) simTxnsOf(orderID string) []sim.TransactionView {
	var out []sim.TransactionView
	for _, t := range e.simTxns() {
		if t.MerchantFree2 == orderID {
			out = append(out, t)
		}
	}
	return out
}

// simTxn returns the simulator's transaction with ProcessId id.
func (e *env) simTxn(processID string) sim.TransactionView {
	e.T.Helper()
	for _, t := range e.simTxns() {
		if t.ProcessID == processID {
			return t
		}
	}
	e.T.Fatalf("the simulator has no transaction %q", processID)
	return sim.TransactionView{}
}

// oneSimTxn wants exactly one simulator transaction for the order.
func (e *env) oneSimTxn(orderID string) sim.TransactionView {
	e.T.Helper()
	ts := e.simTxnsOf(orderID)
	if len(ts) != 1 {
		e.T.Fatalf("simulator transactions of %s: %d, want 1: %+v", orderID, len(ts), ts)
	}
	return ts[0]
}

func (e *env) simMember(kaiinID string) (sim.MemberView, bool) {
	for _, m := range e.Sim.Members(paytest.DemoID, "test") {
		if m.KaiinID == kaiinID {
			return m, true
		}
	}
	return sim.MemberView{}, false
}

// ---- error assertions ----

// wantErr wants a kinded error with code (any code when "").
func wantErr(t testing.TB, err error, kind kessai.Kind, code string) *kessai.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("want %v %s, got no error", kind, code)
	}
	var ke *kessai.Error
	if !errors.As(err, &ke) {
		t.Fatalf("want %v %s, got %T %v", kind, code, err, err)
	}
	if ke.Kind != kind || (code != "" && ke.Code != code) {
		t.Fatalf("want %v %s, got %v %s: %v", kind, code, ke.Kind, ke.Code, err)
	}
	return ke
}

// wantField wants a validation error on field with code.
func wantField(t testing.TB, err error, field, code string) {
	t.Helper()
	var v kessai.ValidationErrors
	if errors.As(err, &v) {
		for _, fe := range v {
			if fe.Field == field && (code == "" || fe.Code == code) {
				if fe.Kind != kessai.KindInvalid {
					t.Fatalf("%s: kind %v", field, fe.Kind)
				}
				return
			}
		}
	}
	var ke *kessai.Error
	if errors.As(err, &ke) && ke.Field == field && (code == "" || ke.Code == code) && ke.Kind == kessai.KindInvalid {
		return
	}
	t.Fatalf("want invalid %s (%s), got %v", field, code, err)
}

// wantFailure wants a *cardpay.Failure of kind with code.
func wantFailure(t testing.TB, err error, kind kessai.Kind, code string) *cardpay.Failure {
	t.Helper()
	var f *cardpay.Failure
	if !errors.As(err, &f) {
		t.Fatalf("want *cardpay.Failure %v %s, got %T %v", kind, code, err, err)
	}
	if f.Err.Kind != kind || f.Err.Code != code {
		t.Fatalf("want failure %v %s, got %v %s (%v)", kind, code, f.Err.Kind, f.Err.Code, f.Codes)
	}
	return f
}

// ---- the shopper's browser ----

// open follows a checkout's next action to the gateway's page and
// returns that page (3-D Secure: the challenge or, for a frictionless
// card, the hand-back; link type: the card form).
func (e *env) open(na *cardpay.NextAction) string {
	e.T.Helper()
	if na == nil {
		e.T.Fatal("no next action")
	}
	var r paytest.Resp
	switch na.Type {
	case "redirect_form":
		if na.Method != http.MethodPost || na.Reason != "three_d_secure" {
			e.T.Fatalf("next action %+v", na)
		}
		form := url.Values{}
		for k, v := range na.Fields {
			form.Set(k, v)
		}
		r = e.Browse(http.MethodPost, na.URL, form)
	case "redirect":
		if na.Method != http.MethodGet || na.Reason != "link" {
			e.T.Fatalf("next action %+v", na)
		}
		r = e.Browse(http.MethodGet, na.URL, nil)
	default:
		e.T.Fatalf("next action type %q", na.Type)
	}
	if r.Status != http.StatusOK {
		e.T.Fatalf("gateway page: HTTP %d\n%s", r.Status, r.Body)
	}
	if !strings.HasPrefix(na.URL, e.SimURL) {
		e.T.Fatalf("next action goes to %s, not the simulator %s", na.URL, e.SimURL)
	}
	return r.Body
}

// challenge answers the simulator's 3-D Secure challenge page with an
// outcome (SecureResultCode or U code) and returns the hand-back page.
func (e *env) challenge(page, outcome string) string {
	e.T.Helper()
	for _, f := range paytest.ParseForms(page) {
		for _, b := range f.Buttons {
			if b.Get("outcome") == outcome {
				r := e.Browse(http.MethodPost, e.SimAction(f.Action), url.Values{"outcome": {outcome}})
				if r.Status != http.StatusOK {
					e.T.Fatalf("challenge %s: HTTP %d\n%s", outcome, r.Status, r.Body)
				}
				return r.Body
			}
		}
	}
	e.T.Fatalf("no challenge outcome %s on the page:\n%s", outcome, page)
	return ""
}

// payOnLinkPage types a card into the simulator's card page.
func (e *env) payOnLinkPage(page, number string) string {
	e.T.Helper()
	for _, f := range paytest.ParseForms(page) {
		if !slices.Contains(f.Names, "cardno") {
			continue
		}
		v := f.Fields
		v.Set("cardno", number)
		v.Set("expmm", cardExp[2:])
		v.Set("expyy", cardExp[:2])
		if number == sim.DemoCard {
			v.Set("seccd", demoSecCd)
		}
		v.Set("holder", "TARO YAMADA")
		r := e.Browse(http.MethodPost, e.SimAction(f.Action), v)
		if r.Status != http.StatusOK {
			e.T.Fatalf("card form: HTTP %d\n%s", r.Status, r.Body)
		}
		return r.Body
	}
	e.T.Fatalf("no card form on the link page:\n%s", page)
	return ""
}

// pressOnLinkPage presses the card page's button action=value ("cancel",
// "saved").
func (e *env) pressOnLinkPage(page, value string) string {
	e.T.Helper()
	for _, f := range paytest.ParseForms(page) {
		for _, b := range f.Buttons {
			if b.Get("action") == value {
				r := e.Browse(http.MethodPost, e.SimAction(f.Action), b)
				if r.Status != http.StatusOK {
					e.T.Fatalf("%s: HTTP %d\n%s", value, r.Status, r.Body)
				}
				return r.Body
			}
		}
	}
	e.T.Fatalf("no %q button on the link page:\n%s", value, page)
	return ""
}

// back posts a hand-back page's EncryptValue to the receiver, as its
// auto-submit script does, and follows the receiver's redirects into the
// simulator (the link type's second hop) until the browser is sent
// elsewhere or shown a page. It returns that last answer.
func (e *env) back(page string) paytest.Resp {
	e.T.Helper()
	for range 5 {
		action, ev := paytest.AutoSubmitted(e.T, page)
		if action != e.Recv+"/escott/notify" {
			e.T.Fatalf("hand-back posts to %s, want the receiver %s/escott/notify", action, e.Recv)
		}
		r := e.Browse(http.MethodPost, action, url.Values{"EncryptValue": {ev}})
		if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Loc, e.SimURL) {
			return r
		}
		g := e.Browse(http.MethodGet, r.Loc, nil)
		if g.Status != http.StatusOK {
			e.T.Fatalf("second hop: HTTP %d\n%s", g.Status, g.Body)
		}
		page = g.Body
	}
	e.T.Fatal("too many hops")
	return paytest.Resp{}
}

// outcome reads where the receiver sent the browser: the shop's return
// URL, with status, order_id, payment_id, customer_id and error.
func outcome(t testing.TB, r paytest.Resp) url.Values {
	t.Helper()
	if r.Status != http.StatusSeeOther {
		t.Fatalf("receiver answered %d, want a redirect to the shop:\n%s", r.Status, r.Body)
	}
	u, err := url.Parse(r.Loc)
	if err != nil {
		t.Fatal(err)
	}
	if got := u.Scheme + "://" + u.Host + u.Path; got != paytest.ShopReturnURL {
		t.Fatalf("redirect to %s, want %s", r.Loc, paytest.ShopReturnURL)
	}
	return u.Query()
}

// demoCipher is the demo merchant's EncryptValue cipher.
func demoCipher(t testing.TB) *escott.Cipher {
	t.Helper()
	ci, err := escott.NewCipher(sim.DemoMerchant.AESKey, sim.DemoMerchant.AESIV)
	if err != nil {
		t.Fatal(err)
	}
	return ci
}
