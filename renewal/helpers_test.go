package renewal_test

import (
	"context"
	"testing"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/api"
	"github.com/kessai/kessai/cardpay"
	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/escott/sim"
	"github.com/kessai/kessai/internal/paytest"
	"github.com/kessai/kessai/internal/testdb"
	"github.com/kessai/kessai/renewal"
	"github.com/kessai/kessai/service"
	"github.com/kessai/kessai/subscription"
)

const (
	shopID    = paytest.ShopID
	visaOK    = "4012000000000008"
	declineCd = "4000000000000556" // G55 at the simulator
)

// env is a pro shop on the simulator with cards (token type, 1Auth at
// checkout, 1Gathering for renewals) and the renewal engine.
type env struct {
	*paytest.Env
	payer  *cardpay.Payer
	engine *renewal.Engine
}

func newEnv(t testing.TB, db testdb.Backend, policy subscription.RetryPolicy) *env {
	return newEnvLifetime(t, db, policy, -1)
}

func newEnvLifetime(t testing.TB, db testdb.Backend, policy subscription.RetryPolicy, lifetime time.Duration) *env {
	t.Helper()
	if db.Open == nil {
		db = testdb.SQLite
	}
	// The test environment forgets card members after about two months
	// (the simulator too, by default); these tests run a production-like
	// member for months of renewals. TestTestMemberExpires covers the
	// default.
	e := &env{Env: paytest.Start(t, paytest.Options{DB: db, Sim: func(c *sim.Config) { c.TestMemberLifetime = lifetime }})}
	var engine *renewal.Engine
	e.payer = cardpay.New(cardpay.Config{Service: e.Svc, Gateways: e.Gateways, ReturnURL: e.Recv + "/escott/notify", Logger: e.Log,
		CardSaved: func(ctx context.Context, shop, customer string) { engine.CardChanged(ctx, shop, customer) }})
	engine = renewal.New(renewal.Config{Service: e.Svc, Cards: e.payer, Policy: policy, Logger: e.Log})
	e.engine = engine
	e.Serve(api.New(api.Config{Service: e.Svc, Logger: e.Log, Now: e.Clock.Now, Cards: e.payer,
		Notifications: api.NotificationHandlers{ThreeDS: e.payer.ThreeDSReturn, ThreeDSMember: e.payer.ThreeDSMemberReturn,
			Link: e.payer.LinkReturn}}))
	d := sim.DemoMerchant
	e.Settings(map[string]any{
		"environment": "simulator", "plan": "pro",
		"card": map[string]any{
			"enabled": true, "merchant_id": d.MerchantID, "merchant_pass_test": d.TestPass, "merchant_pass_prod": d.ProdPass,
			"tenant_id": d.TenantIDs[0], "token_auth_code": d.TokenAuthCode, "aes_key": d.AESKey, "aes_iv": d.AESIV,
			"operation": "1Auth", "subscription_operation": "1Gathering", "always_register": false,
		},
	})
	return e
}

func (e *env) token(number string) string {
	e.T.Helper()
	tok, err := e.Sim.IssueToken(paytest.DemoID, "test", number, "2812", "", "")
	if err != nil {
		e.T.Fatal(err)
	}
	return tok
}

// checkout pays a first order of amount for the customer with a card
// that is saved for the renewals (SUB-02) and returns the order.
func (e *env) checkout(customer string, amount int64, number string) *kessai.Order {
	e.T.Helper()
	o := e.CreateOrder(service.OrderInput{Amount: &amount, CustomerID: customer,
		Items: []service.ItemInput{{Name: "コーヒー定期便", Quantity: 1, UnitAmount: amount}}})
	res, err := e.payer.Pay(e.Ctx, shopID, o.ID, cardpay.PayInput{Token: e.token(number), CardPrefix: number[:6], Recurring: true})
	if err != nil || res.Status != cardpay.StatusSucceeded {
		e.T.Fatalf("checkout: %v %+v", err, res)
	}
	return o
}

// monthly creates a monthly subscription paid at checkout.
func (e *env) monthly(customer string, amount int64) *kessai.Subscription {
	e.T.Helper()
	o := e.checkout(customer, amount, visaOK)
	sub, err := e.engine.Create(e.Ctx, shopID, renewal.CreateInput{CustomerID: customer, Description: "コーヒー定期便",
		Amount: amount, Interval: subscription.Interval{Unit: subscription.Month, Count: 1}, InitialOrderID: o.ID})
	if err != nil {
		e.T.Fatal(err)
	}
	return sub
}

func (e *env) sub(id string) (*kessai.Subscription, []kessai.Renewal) {
	e.T.Helper()
	s, rs, err := e.engine.Get(e.Ctx, shopID, id)
	if err != nil {
		e.T.Fatal(err)
	}
	return s, rs
}

// wake runs what is due now and returns how many subscriptions woke.
func (e *env) wake() int {
	e.T.Helper()
	n, err := e.engine.WakeDue(e.Ctx)
	if err != nil {
		e.T.Fatal(err)
	}
	return n
}

// advanceTo moves both clocks to t (never back).
func (e *env) advanceTo(t time.Time) {
	if d := t.Sub(e.Clock.Now()); d > 0 {
		e.Advance(d)
	}
}

// renewalCharges counts the simulator's charges of renewal orders of a
// subscription (their MerchantFree2 is the renewal order id).
func (e *env) renewalCharges(rs []kessai.Renewal) map[string]int {
	orders := map[string]bool{}
	for _, r := range rs {
		orders[r.OrderID] = true
	}
	out := map[string]int{}
	for _, tx := range e.Sim.Transactions(paytest.DemoID, "test") {
		if orders[tx.MerchantFree2] {
			out[tx.MerchantFree2]++
		}
	}
	return out
}

func jst(y int, m time.Month, d, h int) time.Time { return time.Date(y, m, d, h, 0, 0, 0, escott.JST) }
