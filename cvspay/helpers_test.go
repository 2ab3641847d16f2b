package cvspay_test

// The end-to-end harness of package cvspay: internal/paytest's store,
// service, simulator and gateway factory, the Collector, and the real
// gateway receiver (package api) that the simulator's payment
// notifications reach. A test plays the shop's backend (Register, Change,
// …), the shopper at the collection agent's page (plain HTTP against the
// simulator) and the job runner (Expire, Sweep).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/api"
	"github.com/kessai/kessai/card"
	"github.com/kessai/kessai/cvspay"
	"github.com/kessai/kessai/escott/sim"
	"github.com/kessai/kessai/internal/paytest"
	"github.com/kessai/kessai/internal/testdb"
	"github.com/kessai/kessai/service"
)

// The receiver's handler type is the signature Notify must have.
var _ = api.NotificationHandlers{Collection: (*cvspay.Collector)(nil).Notify}

const shopID = paytest.ShopID

// env is one shop with collections over its own simulator and store.
type env struct {
	*paytest.Env
	col *cvspay.Collector
}

type options struct {
	db    testdb.Backend
	patch map[string]any
}

type option func(*options)

func onDB(b testdb.Backend) option { return func(o *options) { o.db = b } }

// withCollection adds collection settings (key, value pairs).
func withCollection(kv ...any) option {
	return func(o *options) { o.patch = paytest.WithSection(o.patch, "collection", kv...) }
}

// withPlan sets the shop's plan (SET-22).
func withPlan(p kessai.Plan) option {
	return func(o *options) {
		if o.patch == nil {
			o.patch = map[string]any{}
		}
		o.patch["plan"] = string(p)
	}
}

// newEnv starts a shop on the pro plan with the demo merchant in the
// simulator environment and collections enabled (due days 7, no fee, order
// status processing after payment), then applies the options.
func newEnv(t testing.TB, opts ...option) *env {
	t.Helper()
	o := options{db: testdb.SQLite}
	for _, f := range opts {
		f(&o)
	}
	e := &env{Env: paytest.Start(t, paytest.Options{DB: o.db, Sim: func(c *sim.Config) {
		c.NotifyRetry = []time.Duration{10 * time.Millisecond, 20 * time.Millisecond}
	}})}
	e.col = cvspay.New(cvspay.Config{Service: e.Svc, Gateways: e.Gateways, Logger: e.Log})
	e.Serve(api.New(api.Config{Service: e.Svc, Logger: e.Log, Now: e.Clock.Now,
		Notifications: api.NotificationHandlers{Collection: e.col.Notify}}))

	d := sim.DemoMerchant
	e.Settings(map[string]any{
		"environment": "simulator",
		"plan":        "pro",
		"collection": map[string]any{
			"enabled": true, "merchant_id": d.MerchantID, "merchant_pass_test": d.TestPass, "merchant_pass_prod": d.ProdPass,
			"due_days": 7,
		},
	})
	if o.patch != nil {
		e.Settings(o.patch)
	}
	return e
}

// collection applies collection settings given as key, value pairs.
func (e *env) collection(kv ...any) {
	e.T.Helper()
	e.Settings(map[string]any{"collection": paytest.KV(kv...)})
}

// ---- orders and collections ----

// items sets the order's line items, virtual or not, the first carrying
// the whole amount.
func items(virtual ...bool) paytest.OrderOpt {
	return func(in *service.OrderInput) {
		in.Items = nil
		for i, v := range virtual {
			in.Items = append(in.Items, service.ItemInput{Name: fmt.Sprintf("商品%d", i+1), Quantity: 1, Virtual: v})
		}
		if len(in.Items) > 0 {
			in.Items[0].UnitAmount = *in.Amount
		}
	}
}

func named(names ...string) paytest.OrderOpt {
	return func(in *service.OrderInput) {
		in.Items = nil
		for _, n := range names {
			in.Items = append(in.Items, service.ItemInput{Name: n, Quantity: 1})
		}
		if len(in.Items) > 0 {
			in.Items[0].UnitAmount = *in.Amount
		}
	}
}

func billing(b kessai.Billing) paytest.OrderOpt {
	return func(in *service.OrderInput) { in.Billing = &b }
}

// defaultBilling is a complete billing identity (CVS-02).
var defaultBilling = kessai.Billing{LastName: "山田", FirstName: "太郎", LastNameKana: "ﾔﾏﾀﾞ", FirstNameKana: "たろう",
	Email: "taro@example.jp", Phone: "090-1234-5678"}

// order creates a pending order of amount yen with one physical item.
func (e *env) order(amount int64, opts ...paytest.OrderOpt) *kessai.Order {
	e.T.Helper()
	b := defaultBilling
	return e.CreateOrder(service.OrderInput{Amount: &amount, Billing: &b,
		Items: []service.ItemInput{{Name: "Tシャツ", Quantity: 1, UnitAmount: amount}}}, opts...)
}

// register registers the order at checkout and fails the test on error.
func (e *env) register(o *kessai.Order) *cvspay.Result {
	e.T.Helper()
	r, err := e.col.Register(e.Ctx, shopID, o.ID, cvspay.RegisterInput{})
	if err != nil {
		e.T.Fatalf("Register(%s): %v", o.ID, err)
	}
	return r
}

// payAt pays the collection on the simulator's agent page at the given
// channel, as the shopper would (POST to the page behind the link), and
// waits until the payment notification has been delivered and handled.
func (e *env) payAt(link, cvs string) {
	e.T.Helper()
	if code := e.postAgent(link, cvs); code != http.StatusOK {
		e.T.Fatalf("paying %s at %s: HTTP %d", link, cvs, code)
	}
	e.flush()
}

// postAgent posts the agent page's form and returns the HTTP status.
func (e *env) postAgent(link, cvs string) int {
	e.T.Helper()
	u, err := url.Parse(link)
	if err != nil {
		e.T.Fatal(err)
	}
	form := u.Query()
	form.Set("cvs", cvs)
	u.RawQuery = ""
	resp, err := http.PostForm(u.String(), form)
	if err != nil {
		e.T.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// getAgent opens a payment link and returns the HTTP status.
func (e *env) getAgent(link string) int {
	e.T.Helper()
	resp, err := http.Get(link)
	if err != nil {
		e.T.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// flush waits until every queued notification was delivered (or given up).
func (e *env) flush() {
	e.T.Helper()
	ctx, cancel := context.WithTimeout(e.Ctx, 10*time.Second)
	defer cancel()
	if err := e.Sim.FlushNotifications(ctx); err != nil {
		e.T.Fatal(err)
	}
}

// notify posts notification fields to the receiver, as the gateway (or
// someone pretending to be it) would, and checks the answer is 200.
func (e *env) notify(fields url.Values) {
	e.T.Helper()
	resp, err := http.PostForm(e.Recv+"/escott/notify", fields)
	if err != nil {
		e.T.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || len(body) != 0 {
		e.T.Fatalf("receiver answered %d %q to a notification; want 200 with an empty body (NOTIFY-02)", resp.StatusCode, body)
	}
}

// lastNotification returns the fields of the newest notification the
// simulator sent.
func (e *env) lastNotification() url.Values {
	e.T.Helper()
	ns := e.Sim.Notifications()
	if len(ns) == 0 {
		e.T.Fatal("the simulator sent no notification")
	}
	v := url.Values{}
	for k, val := range ns[len(ns)-1].Fields {
		v.Set(k, val)
	}
	return v
}

// ---- reading state ----

// ops lists the operations of a payment's history, oldest first, with
// their results: "2Add:OK", "paid:OK", "2Chg:K14", …
func (e *env) ops(paymentID string) []string {
	e.T.Helper()
	var out []string
	for _, h := range e.History(paymentID) {
		out = append(out, string(h.Operation)+":"+h.ResponseCd)
	}
	return out
}

func (e *env) state(paymentID string) card.CollectionState {
	return card.DeriveCollectionState(e.History(paymentID))
}

// lastEvent returns the newest event of a type about id.
func (e *env) lastEvent(typ, id string) json.RawMessage {
	e.T.Helper()
	evs := e.EventList()
	for i := len(evs) - 1; i >= 0; i-- {
		var d struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(evs[i].Data, &d)
		if evs[i].Type == typ && d.ID == id {
			return evs[i].Data
		}
	}
	e.T.Fatalf("no %s event about %s; events: %v", typ, id, e.EventsAbout(id))
	return nil
}

// simCollection returns the simulator's record of a transaction code.
func (e *env) simCollection(merchantFree1 string) sim.CollectionView {
	e.T.Helper()
	for _, c := range e.Sim.Collections(paytest.DemoID, "test") {
		if c.MerchantFree1 == merchantFree1 {
			return c
		}
	}
	e.T.Fatalf("the simulator has no collection %s", merchantFree1)
	return sim.CollectionView{}
}

// simCollectionsOf returns the simulator's collections of an order.
func (e *env) simCollectionsOf(orderID string) []sim.CollectionView {
	var out []sim.CollectionView
	for _, c := range e.Sim.Collections(paytest.DemoID, "test") {
		if c.MerchantFree2 == orderID {
			out = append(out, c)
		}
	}
	return out
}

// ---- assertions ----

// wantErr checks err is a *kessai.Error of kind and code.
func wantErr(t testing.TB, err error, kind kessai.Kind, code string) *kessai.Error {
	t.Helper()
	var ke *kessai.Error
	if !errors.As(err, &ke) {
		t.Fatalf("error = %v (%T), want a *kessai.Error %s/%s", err, err, kind, code)
	}
	if ke.Kind != kind || ke.Code != code {
		t.Fatalf("error = %s/%s (%v), want %s/%s", ke.Kind, ke.Code, ke, kind, code)
	}
	if ke.Ja == "" || ke.En == "" {
		t.Fatalf("error %s has no message in both languages: %+v", code, ke)
	}
	return ke
}

// wantFailure checks err is a *cvspay.Failure of kind and code.
func wantFailure(t testing.TB, err error, kind kessai.Kind, code string) *cvspay.Failure {
	t.Helper()
	var f *cvspay.Failure
	if !errors.As(err, &f) {
		t.Fatalf("error = %v (%T), want *cvspay.Failure", err, err)
	}
	wantErr(t, err, kind, code)
	return f
}

func wantList(t testing.TB, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s = %q, want %q", what, got, want)
	}
}

// count returns how many elements of s equal v.
func count(s []string, v string) int {
	n := 0
	for _, x := range s {
		if x == v {
			n++
		}
	}
	return n
}
