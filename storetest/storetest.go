// Package storetest is the conformance suite of kessai.Store: every
// storage adapter runs it (sqlite and postgres do), so they behave alike
// and as the interface's documentation says.
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) kessai.Store { … a fresh, empty store … },
//			storetest.WithRawDump(func(t *testing.T, s kessai.Store) string { … every table as text … }))
//	}
//
// It is an ordinary package (not a _test file) so that adapters in other
// packages can import it; it imports testing, and nothing in the product
// imports it.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/escott"
)

// Option configures Run.
type Option func(*config)

type config struct {
	rawDump func(t *testing.T, s kessai.Store) string
}

// WithRawDump gives the suite a way to read what the adapter wrote: dump
// returns every table of the store's database as text (see DumpTables).
// The suite then checks that no secret it stored appears in clear. Without
// it that test is skipped.
func WithRawDump(dump func(t *testing.T, s kessai.Store) string) Option {
	return func(c *config) { c.rawDump = dump }
}

// Run runs the conformance suite. open must return a new, empty store for
// each call (each subtest opens its own); it should close it with
// t.Cleanup.
func Run(t *testing.T, open func(t *testing.T) kessai.Store, opts ...Option) {
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	tests := []struct {
		name string
		fn   func(t *testing.T, s kessai.Store)
	}{
		{"Shop", testShop},
		{"Settings/Versioning", testSettingsVersioning},
		{"Settings/ConcurrentPut", testSettingsConcurrent},
		{"APIKey/CreateFindList", testAPIKeyCreateFindList},
		{"APIKey/Expire", testAPIKeyExpire},
		{"Order/CreateGet", testOrderCreateGet},
		{"Order/Duplicate", testOrderDuplicate},
		{"Order/Update", testOrderUpdate},
		{"Order/ListPagination", testOrderListPagination},
		{"Order/ListFilters", testOrderListFilters},
		{"Order/SetStatus", testOrderSetStatus},
		{"Order/SetStatusRace", testOrderSetStatusRace},
		{"Payment/CreateGet", testPaymentCreateGet},
		{"Payment/FindByTransactionCode", testPaymentFindByCode},
		{"Payment/Lists", testPaymentLists},
		{"Payment/Update", testPaymentUpdate},
		{"Attempt/Lifecycle", testAttemptLifecycle},
		{"Attempt/Lists", testAttemptLists},
		{"Attempt/FinishRace", testAttemptFinishRace},
		{"Payment/OneActivePerOrder", testOneActivePayment},
		{"Payment/ByCustomer", testCustomerPayments},
		{"Attempt/OnePendingPerPayment", testOnePendingAttempt},
		{"Checkout/Sessions", func(t *testing.T, s kessai.Store) { testCheckoutSessions(t, s, cfg.rawDump) }},
		{"Checkout/ConsumeRace", testCheckoutConsumeRace},
		{"History", testHistory},
		{"Member", testMember},
		{"Event/CreateGetList", testEventCreateGetList},
		{"Event/Outbox", testEventOutbox},
		{"Webhook/Endpoints", testWebhookEndpoints},
		{"Webhook/Deliveries", testWebhookDeliveries},
		{"AdminUser/CreateGetList", testAdminUserCreateGetList},
		{"AdminUser/Duplicate", testAdminUserDuplicate},
		{"AdminUser/UpdateDelete", testAdminUserUpdateDelete},
		{"AdminSession/Lifecycle", testAdminSessionLifecycle},
		{"AdminSession/DeleteOfUser", testAdminSessionDeleteOfUser},
		{"AdminSession/Purge", testAdminSessionPurge},
		{"Idempotency/Lifecycle", testIdempotencyLifecycle},
		{"Idempotency/Abandon", testIdempotencyAbandon},
		{"Idempotency/ExpiredReplaced", testIdempotencyExpired},
		{"Idempotency/Purge", testIdempotencyPurge},
		{"Idempotency/Race", testIdempotencyRace},
		{"Idempotency/ExpiredRace", testIdempotencyExpiredRace},
		{"Tx/Commit", testTxCommit},
		{"Tx/Rollback", testTxRollback},
		{"Tx/Nested", testTxNested},
		{"Tx/UsableAfterStoreErrors", testTxUsableAfterErrors},
		{"Tx/Panic", testTxPanic},
		{"Times", testTimes},
		{"Secrets/SealedAtRest", func(t *testing.T, s kessai.Store) { testSecretsSealed(t, s, cfg.rawDump) }},
		{"Console/ReadModels", testConsoleReadModels},
		{"Subscriptions", testSubscriptions},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, open(t))
		})
	}
}

// ---- helpers ----

// base is the suite's clock: a JST time with nanoseconds, so that the
// adapters' normalisation (UTC, microseconds) is exercised everywhere.
var base = time.Date(2025, 4, 1, 10, 0, 0, 123456789, kessai.JST)

func at(d time.Duration) time.Time { return base.Add(d) }

// us is t as a store returns it: UTC, microseconds.
func us(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return time.UnixMicro(t.UnixMicro()).UTC()
}

var shopSeq atomic.Int64

// newShop returns a fresh shop id. Shops need not exist for other rows.
func newShop() string { return fmt.Sprintf("shop_test%03d", shopSeq.Add(1)) }

func ctx(t *testing.T) context.Context { return t.Context() }

// must fails the test on err.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// wantErr fails unless errors.Is(err, target).
func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("got error %v, want %v", err, target)
	}
}

// same fails unless got and want are deeply equal.
func same(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got  %+v\n want %+v", what, got, want)
	}
}

func ids[T any](items []T, id func(T) string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = id(it)
	}
	return out
}

// pageAll walks list page by page, limit items a page, and returns the ids
// of every item in the order listed.
func pageAll[T any](t *testing.T, limit int, list func(kessai.Page) ([]T, error), id func(T) string) []string {
	t.Helper()
	var all []string
	page := kessai.Page{Limit: limit}
	for {
		got, err := list(page)
		must(t, err)
		all = append(all, ids(got, id)...)
		if len(got) < limit {
			return all
		}
		page.After = id(got[len(got)-1])
	}
}

func orderID(o kessai.Order) string              { return o.ID }
func paymentID(p kessai.Payment) string          { return p.ID }
func attemptID(a kessai.Attempt) string          { return a.ID }
func eventID(e kessai.Event) string              { return e.ID }
func deliveryID(d kessai.WebhookDelivery) string { return d.ID }

func newOrder(shop string, created time.Time) *kessai.Order {
	id := kessai.NewID("ord", created)
	return &kessai.Order{
		ID:          id,
		ShopID:      shop,
		ShopOrderID: "so-" + id[len(id)-10:],
		Amount:      5500,
		Currency:    kessai.Currency,
		Items: []kessai.LineItem{
			{Name: "緑茶 100g", Quantity: 2, UnitAmount: 2000},
			{Name: "送料", Quantity: 1, UnitAmount: 1500, Virtual: true},
		},
		CustomerID: "cus_1",
		Billing: kessai.Billing{LastName: "山田", FirstName: "太郎", LastNameKana: "ヤマダ", FirstNameKana: "タロウ",
			Email: "taro@example.jp", Phone: "0312345678"},
		Status:    kessai.OrderPending,
		ReturnURL: "https://shop.example.jp/thanks",
		Metadata:  map[string]string{"cart": "c-1", "note": "ギフト"},
		CreatedAt: created,
		UpdatedAt: created,
	}
}

func createOrder(t *testing.T, s kessai.Store, shop string, created time.Time) *kessai.Order {
	t.Helper()
	o := newOrder(shop, created)
	must(t, s.CreateOrder(ctx(t), o))
	return o
}

func newPayment(o *kessai.Order, created time.Time, code string) *kessai.Payment {
	return &kessai.Payment{
		ID:      kessai.NewID("pay", created),
		ShopID:  o.ShopID,
		OrderID: o.ID,
		Method:  kessai.MethodCard,
		// Failed: not active, so fixtures may give an order several
		// payments (an order has at most one active payment).
		State:           kessai.PaymentFailed,
		Amount:          o.Amount,
		Currency:        kessai.Currency,
		TransactionCode: code,
		Operation:       escott.OperateID("1Auth"),
		PayType:         escott.PayType("01"),
		CustomerID:      o.CustomerID,
		CreatedAt:       created,
		UpdatedAt:       created,
	}
}

func createPayment(t *testing.T, s kessai.Store, o *kessai.Order, created time.Time, code string) *kessai.Payment {
	t.Helper()
	p := newPayment(o, created, code)
	must(t, s.CreatePayment(ctx(t), p))
	return p
}

func newAttempt(p *kessai.Payment, created time.Time) *kessai.Attempt {
	return &kessai.Attempt{
		ID:            kessai.NewID("att", created),
		ShopID:        p.ShopID,
		PaymentID:     p.ID,
		Operation:     escott.OperateID("1Auth"),
		MerchantFree1: p.TransactionCode,
		Amount:        p.Amount,
		Status:        kessai.AttemptPending,
		CreatedAt:     created,
	}
}

// race runs fn from n goroutines started together and returns their
// errors.
func race(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var start, done sync.WaitGroup
	start.Add(1)
	for i := range n {
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait()
			errs[i] = fn(i)
		}()
	}
	start.Done()
	done.Wait()
	return errs
}

// oneWinner checks the outcome of a race in which exactly one call may
// succeed and every other must fail with loserErr (the database settled
// the race); what names the race in the failure message.
func oneWinner(t *testing.T, errs []error, loserErr error, what string) {
	t.Helper()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, loserErr):
			t.Fatalf("%s: unexpected error: %v", what, err)
		}
	}
	if won != 1 {
		t.Fatalf("%s: %d of %d racing calls succeeded, want exactly 1", what, won, len(errs))
	}
}

// ---- shops ----

func testShop(t *testing.T, s kessai.Store) {
	_, err := s.GetShop(ctx(t), "shop_nope")
	wantErr(t, err, kessai.ErrNotFound)

	a := &kessai.Shop{ID: "shop_a", Name: "お茶の店", CreatedAt: at(0)}
	b := &kessai.Shop{ID: "shop_b", Name: "Shop B", CreatedAt: at(time.Hour)}
	must(t, s.CreateShop(ctx(t), b))
	must(t, s.CreateShop(ctx(t), a))
	got, err := s.GetShop(ctx(t), "shop_a")
	must(t, err)
	same(t, "shop", *got, kessai.Shop{ID: "shop_a", Name: "お茶の店", CreatedAt: us(at(0))})

	wantErr(t, s.CreateShop(ctx(t), &kessai.Shop{ID: "shop_a", Name: "again", CreatedAt: at(0)}), kessai.ErrDuplicate)

	list, err := s.ListShops(ctx(t))
	must(t, err)
	same(t, "shops, oldest first", ids(list, func(s kessai.Shop) string { return s.ID }), []string{"shop_a", "shop_b"})
}

// ---- settings ----

func testSettingsVersioning(t *testing.T, s kessai.Store) {
	shop, other := newShop(), newShop()
	_, _, err := s.GetSettings(ctx(t), shop)
	wantErr(t, err, kessai.ErrNotFound)

	doc1 := []byte(`{"plan":"pro","merchant_id":"030000001"}`)
	doc2 := []byte(`{"plan":"light"}`)
	steps := []struct {
		name     string
		doc      []byte
		expected int64
		want     int64
		err      error
	}{
		{"first save", doc1, 0, 1, nil},
		{"first save again", doc2, 0, 0, kessai.ErrConflict},
		{"save on current", doc2, 1, 2, nil},
		{"save on stale", doc1, 1, 0, kessai.ErrConflict},
		{"save on future", doc1, 7, 0, kessai.ErrConflict},
	}
	for _, st := range steps {
		v, err := s.PutSettings(ctx(t), shop, st.doc, st.expected)
		if st.err != nil {
			if !errors.Is(err, st.err) {
				t.Fatalf("%s: got %v, want %v", st.name, err, st.err)
			}
			continue
		}
		must(t, err)
		if v != st.want {
			t.Fatalf("%s: version %d, want %d", st.name, v, st.want)
		}
	}
	doc, v, err := s.GetSettings(ctx(t), shop)
	must(t, err)
	if v != 2 || string(doc) != string(doc2) {
		t.Fatalf("settings = %s v%d, want %s v2", doc, v, doc2)
	}

	_, _, err = s.GetSettings(ctx(t), other)
	wantErr(t, err, kessai.ErrNotFound)
	v, err = s.PutSettings(ctx(t), other, doc1, 0)
	must(t, err)
	if v != 1 {
		t.Fatalf("other shop's first version = %d, want 1", v)
	}
}

func testSettingsConcurrent(t *testing.T, s kessai.Store) {
	shop := newShop()
	_, err := s.PutSettings(ctx(t), shop, []byte(`{}`), 0)
	must(t, err)
	errs := race(8, func(i int) error {
		_, err := s.PutSettings(ctx(t), shop, fmt.Appendf(nil, `{"writer":%d}`, i), 1)
		return err
	})
	oneWinner(t, errs, kessai.ErrConflict, "writers saving on version 1")
	_, v, err := s.GetSettings(ctx(t), shop)
	must(t, err)
	if v != 2 {
		t.Fatalf("version = %d, want 2", v)
	}
}

// ---- API keys ----

func newKey(shop, key string, created time.Time) *kessai.APIKey {
	return &kessai.APIKey{ID: kessai.NewID("key", created), ShopID: shop, Kind: kessai.KeySecret,
		Hint: "sk_…" + key[len(key)-4:], Hash: kessai.HashKey(key), CreatedAt: created}
}

func testAPIKeyCreateFindList(t *testing.T, s kessai.Store) {
	shop, other := newShop(), newShop()
	k1 := newKey(shop, "sk_test_one_1111", at(0))
	k2 := newKey(shop, "sk_test_two_2222", at(time.Minute))
	k2.Kind = kessai.KeyPublishable
	k3 := newKey(other, "sk_test_three_3333", at(2*time.Minute))
	for _, k := range []*kessai.APIKey{k2, k1, k3} {
		must(t, s.CreateAPIKey(ctx(t), k))
	}

	got, err := s.FindAPIKey(ctx(t), kessai.HashKey("sk_test_two_2222"))
	must(t, err)
	same(t, "found key", *got, *k2)
	got, err = s.FindAPIKey(ctx(t), kessai.HashKey("sk_test_three_3333"))
	must(t, err)
	if got.ShopID != other {
		t.Fatalf("key found in shop %s, want %s", got.ShopID, other)
	}
	_, err = s.FindAPIKey(ctx(t), kessai.HashKey("sk_unknown"))
	wantErr(t, err, kessai.ErrNotFound)

	dup := newKey(shop, "sk_test_one_1111", at(3*time.Minute))
	wantErr(t, s.CreateAPIKey(ctx(t), dup), kessai.ErrDuplicate)

	list, err := s.ListAPIKeys(ctx(t), shop)
	must(t, err)
	same(t, "shop's keys, oldest first", list, []kessai.APIKey{*k1, *k2})
}

func testAPIKeyExpire(t *testing.T, s kessai.Store) {
	shop, other := newShop(), newShop()
	k := newKey(shop, "sk_test_rotate_9999", at(0))
	must(t, s.CreateAPIKey(ctx(t), k))
	if !k.Active(at(time.Hour)) {
		t.Fatal("new key not active")
	}
	must(t, s.ExpireAPIKey(ctx(t), shop, k.ID, at(24*time.Hour)))
	got, err := s.FindAPIKey(ctx(t), k.Hash)
	must(t, err)
	if !got.ExpiresAt.Equal(us(at(24 * time.Hour))) {
		t.Fatalf("ExpiresAt = %v, want %v", got.ExpiresAt, at(24*time.Hour))
	}
	if !got.Active(at(23*time.Hour)) || got.Active(at(25*time.Hour)) {
		t.Fatal("expired key: wrong Active")
	}
	wantErr(t, s.ExpireAPIKey(ctx(t), other, k.ID, at(0)), kessai.ErrNotFound)
	wantErr(t, s.ExpireAPIKey(ctx(t), shop, "key_missing", at(0)), kessai.ErrNotFound)
}

// ---- orders ----

func testOrderCreateGet(t *testing.T, s kessai.Store) {
	shop, other := newShop(), newShop()
	o := createOrder(t, s, shop, at(0))
	got, err := s.GetOrder(ctx(t), shop, o.ID)
	must(t, err)
	same(t, "order", *got, *o)

	got, err = s.GetOrderByShopOrderID(ctx(t), shop, o.ShopOrderID)
	must(t, err)
	same(t, "order by shop order id", *got, *o)

	// A minimal order: empty collections and zero values round-trip too.
	min := &kessai.Order{ID: kessai.NewID("ord", at(time.Minute)), ShopID: shop, Currency: kessai.Currency,
		Status: kessai.OrderPending, CreatedAt: at(time.Minute), UpdatedAt: at(time.Minute)}
	must(t, s.CreateOrder(ctx(t), min))
	got, err = s.GetOrder(ctx(t), shop, min.ID)
	must(t, err)
	same(t, "minimal order", *got, *min)

	for name, fn := range map[string]func() error{
		"GetOrder other shop":         func() error { _, err := s.GetOrder(ctx(t), other, o.ID); return err },
		"GetOrder missing":            func() error { _, err := s.GetOrder(ctx(t), shop, "ord_missing"); return err },
		"GetOrderByShopOrderID other": func() error { _, err := s.GetOrderByShopOrderID(ctx(t), other, o.ShopOrderID); return err },
		"GetOrderByShopOrderID missing": func() error {
			_, err := s.GetOrderByShopOrderID(ctx(t), shop, "so-missing")
			return err
		},
	} {
		if err := fn(); !errors.Is(err, kessai.ErrNotFound) {
			t.Errorf("%s: got %v, want ErrNotFound", name, err)
		}
	}
}

func testOrderDuplicate(t *testing.T, s kessai.Store) {
	shop, other := newShop(), newShop()
	o := createOrder(t, s, shop, at(0))

	sameShopOrderID := newOrder(shop, at(time.Minute))
	sameShopOrderID.ShopOrderID = o.ShopOrderID
	wantErr(t, s.CreateOrder(ctx(t), sameShopOrderID), kessai.ErrDuplicate)

	sameID := newOrder(shop, at(time.Minute))
	sameID.ID = o.ID
	wantErr(t, s.CreateOrder(ctx(t), sameID), kessai.ErrDuplicate)

	// Unique per shop: another shop may use the same shop order id.
	elsewhere := newOrder(other, at(time.Minute))
	elsewhere.ShopOrderID = o.ShopOrderID
	must(t, s.CreateOrder(ctx(t), elsewhere))

	// An empty ShopOrderID is "none": several orders may have none.
	for i := range 2 {
		none := newOrder(shop, at(time.Duration(i+2)*time.Minute))
		none.ShopOrderID = ""
		must(t, s.CreateOrder(ctx(t), none))
	}
}

func testOrderUpdate(t *testing.T, s kessai.Store) {
	shop, other := newShop(), newShop()
	o := createOrder(t, s, shop, at(0))
	o.Status = kessai.OrderProcessing
	o.Items = append(o.Items, kessai.LineItem{Name: "コンビニ決済手数料", Quantity: 1, UnitAmount: 330, Fee: true})
	o.Amount += 330
	o.Billing.Phone = "09011112222"
	o.Metadata = map[string]string{"cart": "c-2"}
	o.UpdatedAt = at(time.Hour)
	must(t, s.UpdateOrder(ctx(t), o))
	got, err := s.GetOrder(ctx(t), shop, o.ID)
	must(t, err)
	same(t, "updated order", *got, *o)

	missing := newOrder(shop, at(0))
	wantErr(t, s.UpdateOrder(ctx(t), missing), kessai.ErrNotFound)
	foreign := *o
	foreign.ShopID = other
	wantErr(t, s.UpdateOrder(ctx(t), &foreign), kessai.ErrNotFound)
}

// listFixture creates 24 orders one hour apart: statuses cycle through
// pending, processing, completed; customers through cus_a, cus_b. Another
// shop gets orders at the same times, which must never show up.
func listFixture(t *testing.T, s kessai.Store) (string, []*kessai.Order) {
	shop, other := newShop(), newShop()
	statuses := []kessai.OrderStatus{kessai.OrderPending, kessai.OrderProcessing, kessai.OrderCompleted}
	var orders []*kessai.Order
	for i := range 24 {
		o := newOrder(shop, at(time.Duration(i)*time.Hour))
		o.Status = statuses[i%3]
		o.CustomerID = []string{"cus_a", "cus_b"}[i%2]
		must(t, s.CreateOrder(ctx(t), o))
		orders = append(orders, o)
		x := newOrder(other, at(time.Duration(i)*time.Hour))
		x.Status, x.CustomerID = o.Status, o.CustomerID
		must(t, s.CreateOrder(ctx(t), x))
	}
	return shop, orders
}

// newestFirst returns the ids of the orders that pass keep, newest first.
func newestFirst(orders []*kessai.Order, keep func(*kessai.Order) bool) []string {
	var out []string
	for i := len(orders) - 1; i >= 0; i-- {
		if keep(orders[i]) {
			out = append(out, orders[i].ID)
		}
	}
	return out
}

// listAll pages through ListOrders with limit n and returns every id.
func listAll(t *testing.T, s kessai.Store, shop string, f kessai.OrderFilter, n int) []string {
	t.Helper()
	var all []string
	page := kessai.Page{Limit: n}
	for range 100 {
		got, err := s.ListOrders(ctx(t), shop, f, page)
		must(t, err)
		if len(got) > n {
			t.Fatalf("page of %d orders, limit %d", len(got), n)
		}
		for _, o := range got {
			if o.ShopID != shop {
				t.Fatalf("order %s of shop %s listed for %s", o.ID, o.ShopID, shop)
			}
		}
		all = append(all, ids(got, orderID)...)
		if len(got) < n {
			return all
		}
		page.After = got[len(got)-1].ID
	}
	t.Fatal("pagination does not end")
	return nil
}

func testOrderListPagination(t *testing.T, s kessai.Store) {
	shop, orders := listFixture(t, s)
	all := newestFirst(orders, func(*kessai.Order) bool { return true })

	first, err := s.ListOrders(ctx(t), shop, kessai.OrderFilter{}, kessai.Page{Limit: 10})
	must(t, err)
	same(t, "first page", ids(first, orderID), all[:10])
	same(t, "first order content", first[0], *orders[23])

	second, err := s.ListOrders(ctx(t), shop, kessai.OrderFilter{}, kessai.Page{Limit: 10, After: first[9].ID})
	must(t, err)
	same(t, "second page", ids(second, orderID), all[10:20])

	third, err := s.ListOrders(ctx(t), shop, kessai.OrderFilter{}, kessai.Page{Limit: 10, After: second[9].ID})
	must(t, err)
	same(t, "last page", ids(third, orderID), all[20:])

	empty, err := s.ListOrders(ctx(t), shop, kessai.OrderFilter{}, kessai.Page{Limit: 10, After: third[len(third)-1].ID})
	must(t, err)
	if len(empty) != 0 {
		t.Fatalf("page after the last: %d orders", len(empty))
	}

	for _, n := range []int{1, 7, 24, 25} {
		same(t, fmt.Sprintf("all pages of %d", n), listAll(t, s, shop, kessai.OrderFilter{}, n), all)
	}
	none, err := s.ListOrders(ctx(t), newShop(), kessai.OrderFilter{}, kessai.Page{Limit: 10})
	must(t, err)
	if len(none) != 0 {
		t.Fatalf("empty shop lists %d orders", len(none))
	}
}

func testOrderListFilters(t *testing.T, s kessai.Store) {
	shop, orders := listFixture(t, s)
	cases := []struct {
		name string
		f    kessai.OrderFilter
		keep func(*kessai.Order) bool
	}{
		{"status", kessai.OrderFilter{Status: kessai.OrderProcessing},
			func(o *kessai.Order) bool { return o.Status == kessai.OrderProcessing }},
		{"customer", kessai.OrderFilter{CustomerID: "cus_b"},
			func(o *kessai.Order) bool { return o.CustomerID == "cus_b" }},
		{"status and customer", kessai.OrderFilter{Status: kessai.OrderPending, CustomerID: "cus_a"},
			func(o *kessai.Order) bool { return o.Status == kessai.OrderPending && o.CustomerID == "cus_a" }},
		{"shop order id", kessai.OrderFilter{ShopOrderID: orders[5].ShopOrderID},
			func(o *kessai.Order) bool { return o.ID == orders[5].ID }},
		{"unknown shop order id", kessai.OrderFilter{ShopOrderID: "so-none"},
			func(*kessai.Order) bool { return false }},
		{"created from (inclusive)", kessai.OrderFilter{CreatedFrom: at(20 * time.Hour)},
			func(o *kessai.Order) bool { return !o.CreatedAt.Before(us(at(20 * time.Hour))) }},
		{"created to (exclusive)", kessai.OrderFilter{CreatedTo: at(3 * time.Hour)},
			func(o *kessai.Order) bool { return o.CreatedAt.Before(us(at(3 * time.Hour))) }},
		{"created range", kessai.OrderFilter{CreatedFrom: at(5 * time.Hour), CreatedTo: at(12 * time.Hour)},
			func(o *kessai.Order) bool {
				return !o.CreatedAt.Before(us(at(5*time.Hour))) && o.CreatedAt.Before(us(at(12*time.Hour)))
			}},
		{"range in another time zone", kessai.OrderFilter{CreatedFrom: at(5 * time.Hour).UTC(), CreatedTo: at(12 * time.Hour).In(time.FixedZone("X", -7*3600))},
			func(o *kessai.Order) bool {
				return !o.CreatedAt.Before(us(at(5*time.Hour))) && o.CreatedAt.Before(us(at(12*time.Hour)))
			}},
		{"range and status", kessai.OrderFilter{Status: kessai.OrderCompleted, CreatedFrom: at(4 * time.Hour), CreatedTo: at(20 * time.Hour)},
			func(o *kessai.Order) bool {
				return o.Status == kessai.OrderCompleted && !o.CreatedAt.Before(us(at(4*time.Hour))) && o.CreatedAt.Before(us(at(20*time.Hour)))
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := newestFirst(orders, c.keep)
			for _, n := range []int{3, 100} {
				got := listAll(t, s, shop, c.f, n)
				if len(want) == 0 && len(got) == 0 {
					continue
				}
				same(t, fmt.Sprintf("ids (pages of %d)", n), got, want)
			}
		})
	}
}

func testOrderSetStatus(t *testing.T, s kessai.Store) {
	shop, other := newShop(), newShop()
	P, H, C, X := kessai.OrderPending, kessai.OrderOnHold, kessai.OrderCompleted, kessai.OrderCancelled
	cases := []struct {
		name    string
		initial kessai.OrderStatus
		from    []kessai.OrderStatus
		to      kessai.OrderStatus
		changed bool
	}{
		{"from matches", P, []kessai.OrderStatus{P, H}, C, true},
		{"from matches second", H, []kessai.OrderStatus{P, H}, C, true},
		{"from does not match", C, []kessai.OrderStatus{P, H}, X, false},
		{"empty from is any", C, nil, X, true},
		{"same status", P, []kessai.OrderStatus{P}, P, true},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := newOrder(shop, at(time.Duration(i)*time.Minute))
			o.Status = c.initial
			must(t, s.CreateOrder(ctx(t), o))
			changed, err := s.SetOrderStatus(ctx(t), shop, o.ID, c.from, c.to, at(time.Hour))
			must(t, err)
			if changed != c.changed {
				t.Fatalf("changed = %v, want %v", changed, c.changed)
			}
			got, err := s.GetOrder(ctx(t), shop, o.ID)
			must(t, err)
			want, wantUpdated := c.initial, us(o.UpdatedAt)
			if c.changed {
				want, wantUpdated = c.to, us(at(time.Hour))
			}
			if got.Status != want || !got.UpdatedAt.Equal(wantUpdated) {
				t.Fatalf("order is %s updated %v, want %s updated %v", got.Status, got.UpdatedAt, want, wantUpdated)
			}
		})
	}
	o := createOrder(t, s, shop, at(time.Hour))
	_, err := s.SetOrderStatus(ctx(t), other, o.ID, nil, C, at(time.Hour))
	wantErr(t, err, kessai.ErrNotFound)
	_, err = s.SetOrderStatus(ctx(t), shop, "ord_missing", []kessai.OrderStatus{P}, C, at(time.Hour))
	wantErr(t, err, kessai.ErrNotFound)
}

func testOrderSetStatusRace(t *testing.T, s kessai.Store) {
	shop := newShop()
	for _, inTx := range []bool{false, true} {
		t.Run(fmt.Sprintf("inTx=%v", inTx), func(t *testing.T) {
			o := createOrder(t, s, shop, at(0))
			var wins atomic.Int64
			errs := race(8, func(i int) error {
				to := []kessai.OrderStatus{kessai.OrderProcessing, kessai.OrderCancelled}[i%2]
				var changed bool
				set := func(st kessai.Store) (err error) {
					changed, err = st.SetOrderStatus(ctx(t), shop, o.ID, []kessai.OrderStatus{kessai.OrderPending}, to, at(time.Minute))
					return err
				}
				var err error
				if inTx {
					// A retried transaction runs set again: only the
					// outcome of the committed run counts.
					err = s.InTx(ctx(t), set)
				} else {
					err = set(s)
				}
				if err == nil && changed {
					wins.Add(1)
				}
				return err
			})
			for _, err := range errs {
				must(t, err)
			}
			if wins.Load() != 1 {
				t.Fatalf("%d of 8 racing SetOrderStatus calls changed the order, want exactly 1", wins.Load())
			}
		})
	}
}

// ---- payments ----

func testPaymentCreateGet(t *testing.T, s kessai.Store) {
	shop, other := newShop(), newShop()
	o := createOrder(t, s, shop, at(0))
	p := newPayment(o, at(time.Minute), "000000000001")
	p.Method = kessai.MethodCollection
	p.State = kessai.PaymentPending
	p.Fee = 330
	p.Operation = escott.OperateID("2Add")
	p.PayType = escott.PayType("")
	p.ProcessID = "pid-0001"
	p.ProcessPass = "ppass-0001"
	p.WithMember = true
	p.FreeArea = "free-area"
	p.PayLimit = "202504081200"
	p.PaidAt = at(2 * time.Hour)
	p.CvsCd = "LAW"
	p.FailureCodes = []string{"K01", "C12"}
	must(t, s.CreatePayment(ctx(t), p))
	got, err := s.GetPayment(ctx(t), shop, p.ID)
	must(t, err)
	same(t, "payment", *got, *p)

	bare := createPayment(t, s, o, at(2*time.Minute), "000000000002")
	got, err = s.GetPayment(ctx(t), shop, bare.ID)
	must(t, err)
	same(t, "bare payment", *got, *bare)

	_, err = s.GetPayment(ctx(t), other, p.ID)
	wantErr(t, err, kessai.ErrNotFound)
	_, err = s.GetPayment(ctx(t), shop, "pay_missing")
	wantErr(t, err, kessai.ErrNotFound)

	dup := newPayment(o, at(time.Minute), "000000000003")
	dup.ID = p.ID
	wantErr(t, s.CreatePayment(ctx(t), dup), kessai.ErrDuplicate)

	// A payment belongs to an order of its shop.
	orphan := newPayment(&kessai.Order{ID: "ord_missing", ShopID: shop}, at(time.Minute), "000000000004")
	wantErr(t, s.CreatePayment(ctx(t), orphan), kessai.ErrNotFound)
	foreign := newPayment(&kessai.Order{ID: o.ID, ShopID: other}, at(time.Minute), "000000000005")
	wantErr(t, s.CreatePayment(ctx(t), foreign), kessai.ErrNotFound)
}

func testPaymentFindByCode(t *testing.T, s kessai.Store) {
	shop, other := newShop(), newShop()
	o := createOrder(t, s, shop, at(0))
	p1 := createPayment(t, s, o, at(time.Minute), "000000000011")
	p2 := createPayment(t, s, o, at(2*time.Minute), "000000000012")
	for _, p := range []*kessai.Payment{p1, p2} {
		got, err := s.FindPaymentByTransactionCode(ctx(t), shop, p.TransactionCode)
		must(t, err)
		same(t, "payment by code", *got, *p)
	}
	_, err := s.FindPaymentByTransactionCode(ctx(t), other, p1.TransactionCode)
	wantErr(t, err, kessai.ErrNotFound)
	_, err = s.FindPaymentByTransactionCode(ctx(t), shop, "999999999999")
	wantErr(t, err, kessai.ErrNotFound)

	// The code is the payment's current one: after a change, the new
	// code finds it and the old one does not.
	p1.TransactionCode = "000000000013"
	p1.UpdatedAt = at(time.Hour)
	must(t, s.UpdatePayment(ctx(t), p1))
	got, err := s.FindPaymentByTransactionCode(ctx(t), shop, "000000000013")
	must(t, err)
	if got.ID != p1.ID {
		t.Fatalf("new code finds %s, want %s", got.ID, p1.ID)
	}
	_, err = s.FindPaymentByTransactionCode(ctx(t), shop, "000000000011")
	wantErr(t, err, kessai.ErrNotFound)

	// By ProcessId: only a payment that holds one, only in its shop.
	p2.ProcessID, p2.UpdatedAt = "PID-000000000012", at(time.Hour)
	must(t, s.UpdatePayment(ctx(t), p2))
	got, err = s.FindPaymentByProcessID(ctx(t), shop, "PID-000000000012")
	must(t, err)
	if got.ID != p2.ID {
		t.Fatalf("process id finds %s, want %s", got.ID, p2.ID)
	}
	_, err = s.FindPaymentByProcessID(ctx(t), other, "PID-000000000012")
	wantErr(t, err, kessai.ErrNotFound)
	_, err = s.FindPaymentByProcessID(ctx(t), shop, "")
	wantErr(t, err, kessai.ErrNotFound)
}

func testPaymentLists(t *testing.T, s kessai.Store) {
	shop, other := newShop(), newShop()
	o1 := createOrder(t, s, shop, at(0))
	o2 := createOrder(t, s, shop, at(time.Minute))
	var o1Payments, authorized []string
	for i := range 9 {
		o := []*kessai.Order{o1, o2}[i%2]
		p := newPayment(o, at(time.Duration(i+2)*time.Minute), fmt.Sprintf("%012d", 100+i))
		if i%3 != 0 {
			p.State = kessai.PaymentExpired // a state an order may have several payments in
			authorized = append(authorized, p.ID)
		}
		must(t, s.CreatePayment(ctx(t), p))
		if o == o1 {
			o1Payments = append(o1Payments, p.ID)
		}
	}
	xo := createOrder(t, s, other, at(0))
	x := newPayment(xo, at(time.Minute), "000000000999")
	x.State = kessai.PaymentExpired
	must(t, s.CreatePayment(ctx(t), x))

	list, err := s.ListPayments(ctx(t), shop, o1.ID)
	must(t, err)
	same(t, "order's payments, oldest first", ids(list, paymentID), o1Payments)
	list, err = s.ListPayments(ctx(t), other, o1.ID)
	must(t, err)
	if len(list) != 0 {
		t.Fatalf("another shop lists %d payments of the order", len(list))
	}

	got := pageAll(t, 4, func(page kessai.Page) ([]kessai.Payment, error) {
		return s.ListPaymentsByState(ctx(t), shop, kessai.PaymentExpired, page)
	}, paymentID)
	same(t, "expired payments, oldest first", got, authorized)
}

func testPaymentUpdate(t *testing.T, s kessai.Store) {
	shop, other := newShop(), newShop()
	o := createOrder(t, s, shop, at(0))
	p := createPayment(t, s, o, at(time.Minute), "000000000021")
	p.State = kessai.PaymentCaptured
	p.Amount = 6000
	p.Fee = 0
	p.TransactionCode = "000000000022"
	p.Operation = escott.OperateID("1Gathering")
	p.PayType = escott.PayType("02")
	p.ProcessID = "pid-22"
	p.ProcessPass = "ppass-22"
	p.WithMember = true
	p.PaidAt = at(time.Hour)
	p.FailureCodes = []string{"G12"}
	p.UpdatedAt = at(time.Hour)
	must(t, s.UpdatePayment(ctx(t), p))
	got, err := s.GetPayment(ctx(t), shop, p.ID)
	must(t, err)
	same(t, "updated payment", *got, *p)

	// Clearing values clears them.
	p.ProcessPass, p.PaidAt, p.FailureCodes, p.WithMember = "", time.Time{}, nil, false
	must(t, s.UpdatePayment(ctx(t), p))
	got, err = s.GetPayment(ctx(t), shop, p.ID)
	must(t, err)
	same(t, "cleared payment", *got, *p)

	missing := newPayment(o, at(0), "000000000023")
	wantErr(t, s.UpdatePayment(ctx(t), missing), kessai.ErrNotFound)
	foreign := *p
	foreign.ShopID = other
	wantErr(t, s.UpdatePayment(ctx(t), &foreign), kessai.ErrNotFound)
}

// ---- attempts ----

func testAttemptLifecycle(t *testing.T, s kessai.Store) {
	shop, other := newShop(), newShop()
	o := createOrder(t, s, shop, at(0))
	p := createPayment(t, s, o, at(0), "000000000031")

	a := newAttempt(p, at(time.Minute))
	must(t, s.CreateAttempt(ctx(t), a))
	got, err := s.GetAttempt(ctx(t), shop, a.ID)
	must(t, err)
	same(t, "pending attempt", *got, *a)
	wantErr(t, s.CreateAttempt(ctx(t), a), kessai.ErrDuplicate)

	a.Status = kessai.AttemptSucceeded
	a.Codes = []string{"OK"}
	a.FinishedAt = at(2 * time.Minute)
	must(t, s.FinishAttempt(ctx(t), a))
	got, err = s.GetAttempt(ctx(t), shop, a.ID)
	must(t, err)
	same(t, "finished attempt", *got, *a)

	again := *a
	again.Status = kessai.AttemptFailed
	wantErr(t, s.FinishAttempt(ctx(t), &again), kessai.ErrConflict)
	got, err = s.GetAttempt(ctx(t), shop, a.ID)
	must(t, err)
	if got.Status != kessai.AttemptSucceeded {
		t.Fatalf("second finish changed the status to %s", got.Status)
	}

	// unknown is not final: reconciliation finishes it later.
	u := newAttempt(p, at(3*time.Minute))
	must(t, s.CreateAttempt(ctx(t), u))
	u.Status, u.Codes, u.FinishedAt = kessai.AttemptUnknown, []string{"timeout"}, at(4*time.Minute)
	must(t, s.FinishAttempt(ctx(t), u))
	u.Status, u.Resolution, u.FinishedAt = kessai.AttemptSucceeded, "operator: ProcessId 123 found in the e-SCOTT console", at(time.Hour)
	must(t, s.FinishAttempt(ctx(t), u))
	got, err = s.GetAttempt(ctx(t), shop, u.ID)
	must(t, err)
	same(t, "resolved attempt", *got, *u)

	foreign := *a
	foreign.ShopID = other
	wantErr(t, s.FinishAttempt(ctx(t), &foreign), kessai.ErrNotFound)
	_, err = s.GetAttempt(ctx(t), other, a.ID)
	wantErr(t, err, kessai.ErrNotFound)
	orphan := newAttempt(&kessai.Payment{ID: "pay_missing", ShopID: shop}, at(0))
	wantErr(t, s.CreateAttempt(ctx(t), orphan), kessai.ErrNotFound)
	wantErr(t, s.FinishAttempt(ctx(t), orphan), kessai.ErrNotFound)
}

func testAttemptLists(t *testing.T, s kessai.Store) {
	shop, other := newShop(), newShop()
	o := createOrder(t, s, shop, at(0))
	p1 := createPayment(t, s, o, at(0), "000000000041")
	p2 := createPayment(t, s, o, at(time.Second), "000000000042")
	var ofP1, unknown []string
	for i := range 10 {
		p := []*kessai.Payment{p1, p2}[i%2]
		a := newAttempt(p, at(time.Duration(i)*time.Minute))
		a.Status = kessai.AttemptFailed // a payment has at most one pending attempt
		if i%3 == 0 {
			a.Status = kessai.AttemptUnknown
			unknown = append(unknown, a.ID)
		}
		must(t, s.CreateAttempt(ctx(t), a))
		if p == p1 {
			ofP1 = append(ofP1, a.ID)
		}
	}
	list, err := s.ListAttempts(ctx(t), shop, p1.ID)
	must(t, err)
	same(t, "payment's attempts, oldest first", ids(list, attemptID), ofP1)
	list, err = s.ListAttempts(ctx(t), other, p1.ID)
	must(t, err)
	if len(list) != 0 {
		t.Fatalf("another shop lists %d attempts", len(list))
	}

	got := pageAll(t, 3, func(page kessai.Page) ([]kessai.Attempt, error) {
		return s.ListAttemptsByStatus(ctx(t), shop, kessai.AttemptUnknown, page)
	}, attemptID)
	same(t, "unknown attempts, oldest first", got, unknown)
	list, err = s.ListAttemptsByStatus(ctx(t), other, kessai.AttemptUnknown, kessai.Page{})
	must(t, err)
	if len(list) != 0 {
		t.Fatalf("another shop lists %d unknown attempts", len(list))
	}
}

func testAttemptFinishRace(t *testing.T, s kessai.Store) {
	shop := newShop()
	o := createOrder(t, s, shop, at(0))
	p := createPayment(t, s, o, at(0), "000000000051")
	a := newAttempt(p, at(time.Minute))
	must(t, s.CreateAttempt(ctx(t), a))
	errs := race(8, func(i int) error {
		fin := *a
		fin.Status = []kessai.AttemptStatus{kessai.AttemptSucceeded, kessai.AttemptFailed}[i%2]
		fin.FinishedAt = at(2 * time.Minute)
		return s.FinishAttempt(ctx(t), &fin)
	})
	oneWinner(t, errs, kessai.ErrConflict, "FinishAttempt")
}

// ---- history ----

func testHistory(t *testing.T, s kessai.Store) {
	shop, other := newShop(), newShop()
	o := createOrder(t, s, shop, at(0))
	p := createPayment(t, s, o, at(0), "000000000061")
	q := createPayment(t, s, o, at(time.Second), "000000000062")
	entry := func(p *kessai.Payment, when time.Time, op string) *kessai.HistoryEntry {
		return &kessai.HistoryEntry{ID: kessai.NewID("his", at(time.Hour)), ShopID: shop, PaymentID: p.ID, At: when,
			TransactionID: "tx-" + op, Operation: escott.OperateID(op), ResponseCd: "OK", Amount: 5500,
			Fields: map[string]string{"ProcessId": "pid", "CardNo": "************0300"}}
	}
	// Appended out of order: the history is ordered by time.
	h3 := entry(p, at(3*time.Minute), "1Capture")
	h1 := entry(p, at(1*time.Minute), "1Auth")
	h2 := entry(p, at(2*time.Minute), "1Change")
	hq := entry(q, at(0), "1Auth")
	hq.Fields = nil
	for _, h := range []*kessai.HistoryEntry{h3, h1, hq, h2} {
		must(t, s.AppendHistory(ctx(t), h))
	}
	wantErr(t, s.AppendHistory(ctx(t), h1), kessai.ErrDuplicate)

	list, err := s.ListHistory(ctx(t), shop, p.ID)
	must(t, err)
	same(t, "history, oldest first", list, []kessai.HistoryEntry{*h1, *h2, *h3})
	list, err = s.ListHistory(ctx(t), shop, q.ID)
	must(t, err)
	same(t, "other payment's history", list, []kessai.HistoryEntry{*hq})
	list, err = s.ListHistory(ctx(t), other, p.ID)
	must(t, err)
	if len(list) != 0 {
		t.Fatalf("another shop lists %d history entries", len(list))
	}
	orphan := entry(&kessai.Payment{ID: "pay_missing"}, at(0), "1Auth")
	wantErr(t, s.AppendHistory(ctx(t), orphan), kessai.ErrNotFound)
}

// ---- members ----

func testMember(t *testing.T, s kessai.Store) {
	shop, other := newShop(), newShop()
	_, err := s.GetMember(ctx(t), shop, "cus_1")
	wantErr(t, err, kessai.ErrNotFound)

	m := &kessai.Member{ShopID: shop, CustomerID: "cus_1", KaiinID: "K0001", KaiinPass: "kpass-0001",
		CreatedAt: at(0), UpdatedAt: at(0)}
	must(t, s.PutMember(ctx(t), m))
	got, err := s.GetMember(ctx(t), shop, "cus_1")
	must(t, err)
	same(t, "member", *got, *m)

	replaced := &kessai.Member{ShopID: shop, CustomerID: "cus_1", KaiinID: "K0002", KaiinPass: "kpass-0002",
		CreatedAt: at(time.Hour), UpdatedAt: at(time.Hour)}
	must(t, s.PutMember(ctx(t), replaced))
	got, err = s.GetMember(ctx(t), shop, "cus_1")
	must(t, err)
	same(t, "replaced member", *got, kessai.Member{ShopID: shop, CustomerID: "cus_1", KaiinID: "K0002",
		KaiinPass: "kpass-0002", CreatedAt: us(at(0)), UpdatedAt: us(at(time.Hour))})

	_, err = s.GetMember(ctx(t), other, "cus_1")
	wantErr(t, err, kessai.ErrNotFound)
	wantErr(t, s.DeleteMember(ctx(t), other, "cus_1"), kessai.ErrNotFound)

	// Another shop's customer with the same id is another member.
	must(t, s.PutMember(ctx(t), &kessai.Member{ShopID: other, CustomerID: "cus_1", KaiinID: "X", KaiinPass: "x",
		CreatedAt: at(0), UpdatedAt: at(0)}))

	must(t, s.DeleteMember(ctx(t), shop, "cus_1"))
	_, err = s.GetMember(ctx(t), shop, "cus_1")
	wantErr(t, err, kessai.ErrNotFound)
	wantErr(t, s.DeleteMember(ctx(t), shop, "cus_1"), kessai.ErrNotFound)
	got, err = s.GetMember(ctx(t), other, "cus_1")
	must(t, err)
	if got.KaiinID != "X" {
		t.Fatalf("other shop's member = %+v", got)
	}
}

// ---- events and webhooks ----

func newEvent(shop string, created time.Time, typ string) *kessai.Event {
	id := kessai.NewID("evt", created)
	return &kessai.Event{ID: id, ShopID: shop, Type: typ, CreatedAt: created,
		Data: json.RawMessage(`{"id":"` + id + `","amount":5500}`)}
}

func testEventCreateGetList(t *testing.T, s kessai.Store) {
	shop, other := newShop(), newShop()
	var events []*kessai.Event
	for i := range 7 {
		e := newEvent(shop, at(time.Duration(i)*time.Minute), kessai.EventTypes[i])
		must(t, s.CreateEvent(ctx(t), e))
		events = append(events, e)
	}
	must(t, s.CreateEvent(ctx(t), newEvent(other, at(0), kessai.EventOrderCreated)))

	got, err := s.GetEvent(ctx(t), shop, events[2].ID)
	must(t, err)
	same(t, "event", *got, *events[2])
	_, err = s.GetEvent(ctx(t), other, events[2].ID)
	wantErr(t, err, kessai.ErrNotFound)
	wantErr(t, s.CreateEvent(ctx(t), events[0]), kessai.ErrDuplicate)

	var want []string
	for i := len(events) - 1; i >= 0; i-- {
		want = append(want, events[i].ID)
	}
	all := pageAll(t, 3, func(page kessai.Page) ([]kessai.Event, error) {
		return s.ListEvents(ctx(t), shop, page)
	}, eventID)
	same(t, "events, newest first", all, want)
}

func testEventOutbox(t *testing.T, s kessai.Store) {
	shop, other := newShop(), newShop()
	e1 := newEvent(shop, at(0), kessai.EventOrderCreated)
	e2 := newEvent(other, at(time.Minute), kessai.EventOrderCreated)
	e3 := newEvent(shop, at(2*time.Minute), kessai.EventPaymentAuthorized)
	for _, e := range []*kessai.Event{e3, e1, e2} {
		must(t, s.CreateEvent(ctx(t), e))
	}
	list, err := s.ListUndispatchedEvents(ctx(t), 10)
	must(t, err)
	same(t, "outbox, every shop, oldest first", list, []kessai.Event{*e1, *e2, *e3})
	list, err = s.ListUndispatchedEvents(ctx(t), 2)
	must(t, err)
	same(t, "outbox, limited", ids(list, eventID), []string{e1.ID, e2.ID})

	wantErr(t, s.MarkEventDispatched(ctx(t), other, e1.ID, at(time.Hour)), kessai.ErrNotFound)
	wantErr(t, s.MarkEventDispatched(ctx(t), shop, "evt_missing", at(time.Hour)), kessai.ErrNotFound)
	must(t, s.MarkEventDispatched(ctx(t), shop, e1.ID, at(time.Hour)))
	must(t, s.MarkEventDispatched(ctx(t), other, e2.ID, at(time.Hour)))
	must(t, s.MarkEventDispatched(ctx(t), other, e2.ID, at(2*time.Hour))) // again: harmless
	list, err = s.ListUndispatchedEvents(ctx(t), 10)
	must(t, err)
	same(t, "outbox after dispatch", ids(list, eventID), []string{e3.ID})

	// Dispatched events are still events.
	got, err := s.GetEvent(ctx(t), shop, e1.ID)
	must(t, err)
	same(t, "dispatched event", *got, *e1)
}

func testWebhookEndpoints(t *testing.T, s kessai.Store) {
	shop, other := newShop(), newShop()
	w1 := &kessai.WebhookEndpoint{ID: kessai.NewID("we", at(0)), ShopID: shop, URL: "https://shop.example.jp/hooks",
		Secret: "whsec_first_0001", EventTypes: []string{kessai.EventPaymentCaptured, kessai.EventPaymentFailed},
		Enabled: true, CreatedAt: at(0)}
	w2 := &kessai.WebhookEndpoint{ID: kessai.NewID("we", at(time.Minute)), ShopID: shop, URL: "https://other.example.jp/",
		Secret: "whsec_second_0002", CreatedAt: at(time.Minute)}
	for _, w := range []*kessai.WebhookEndpoint{w2, w1} {
		must(t, s.CreateWebhookEndpoint(ctx(t), w))
	}
	wantErr(t, s.CreateWebhookEndpoint(ctx(t), w1), kessai.ErrDuplicate)
	got, err := s.GetWebhookEndpoint(ctx(t), shop, w1.ID)
	must(t, err)
	same(t, "endpoint", *got, *w1)
	list, err := s.ListWebhookEndpoints(ctx(t), shop)
	must(t, err)
	same(t, "endpoints, oldest first", list, []kessai.WebhookEndpoint{*w1, *w2})
	list, err = s.ListWebhookEndpoints(ctx(t), other)
	must(t, err)
	if len(list) != 0 {
		t.Fatalf("another shop lists %d endpoints", len(list))
	}
	_, err = s.GetWebhookEndpoint(ctx(t), other, w1.ID)
	wantErr(t, err, kessai.ErrNotFound)

	w1.URL = "https://shop.example.jp/hooks/v2"
	w1.Secret = "whsec_rotated_0003"
	w1.EventTypes = nil
	w1.Enabled = false
	must(t, s.UpdateWebhookEndpoint(ctx(t), w1))
	got, err = s.GetWebhookEndpoint(ctx(t), shop, w1.ID)
	must(t, err)
	same(t, "updated endpoint", *got, *w1)
	foreign := *w1
	foreign.ShopID = other
	wantErr(t, s.UpdateWebhookEndpoint(ctx(t), &foreign), kessai.ErrNotFound)

	wantErr(t, s.DeleteWebhookEndpoint(ctx(t), other, w1.ID), kessai.ErrNotFound)
	must(t, s.DeleteWebhookEndpoint(ctx(t), shop, w1.ID))
	_, err = s.GetWebhookEndpoint(ctx(t), shop, w1.ID)
	wantErr(t, err, kessai.ErrNotFound)
	wantErr(t, s.DeleteWebhookEndpoint(ctx(t), shop, w1.ID), kessai.ErrNotFound)
	wantErr(t, s.UpdateWebhookEndpoint(ctx(t), w1), kessai.ErrNotFound)
	list, err = s.ListWebhookEndpoints(ctx(t), shop)
	must(t, err)
	same(t, "endpoints after delete", list, []kessai.WebhookEndpoint{*w2})
}

func testWebhookDeliveries(t *testing.T, s kessai.Store) {
	shop, other := newShop(), newShop()
	e1 := newEvent(shop, at(0), kessai.EventOrderCreated)
	e2 := newEvent(shop, at(time.Minute), kessai.EventPaymentCaptured)
	must(t, s.CreateEvent(ctx(t), e1))
	must(t, s.CreateEvent(ctx(t), e2))
	endpoints := []string{kessai.NewID("we", at(0)), kessai.NewID("we", at(0))}
	var all []*kessai.WebhookDelivery
	n := 0
	for _, e := range []*kessai.Event{e1, e2} {
		for _, ep := range endpoints {
			for attempt := 1; attempt <= 2; attempt++ {
				when := at(time.Duration(n) * time.Minute)
				n++
				d := &kessai.WebhookDelivery{ID: kessai.NewID("whd", when), ShopID: shop, EventID: e.ID, EndpointID: ep,
					Attempt: attempt, Status: kessai.DeliveryFailed, HTTPStatus: 500, Error: "HTTP 500", DurationMS: 120, At: when}
				if attempt == 2 {
					d.Status, d.HTTPStatus, d.Error = kessai.DeliverySucceeded, 200, ""
				}
				must(t, s.RecordDelivery(ctx(t), d))
				all = append(all, d)
			}
		}
	}
	wantErr(t, s.RecordDelivery(ctx(t), all[0]), kessai.ErrDuplicate)
	orphan := *all[0]
	orphan.ID, orphan.EventID = kessai.NewID("whd", at(time.Hour)), "evt_missing"
	wantErr(t, s.RecordDelivery(ctx(t), &orphan), kessai.ErrNotFound)

	newest := func(keep func(*kessai.WebhookDelivery) bool) []kessai.WebhookDelivery {
		var out []kessai.WebhookDelivery
		for i := len(all) - 1; i >= 0; i-- {
			if keep(all[i]) {
				out = append(out, *all[i])
			}
		}
		return out
	}
	cases := []struct {
		name, event, endpoint string
		keep                  func(*kessai.WebhookDelivery) bool
	}{
		{"all", "", "", func(*kessai.WebhookDelivery) bool { return true }},
		{"event", e1.ID, "", func(d *kessai.WebhookDelivery) bool { return d.EventID == e1.ID }},
		{"endpoint", "", endpoints[1], func(d *kessai.WebhookDelivery) bool { return d.EndpointID == endpoints[1] }},
		{"event and endpoint", e2.ID, endpoints[0], func(d *kessai.WebhookDelivery) bool {
			return d.EventID == e2.ID && d.EndpointID == endpoints[0]
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := newest(c.keep)
			got, err := s.ListDeliveries(ctx(t), shop, c.event, c.endpoint, kessai.Page{Limit: 100})
			must(t, err)
			same(t, "deliveries, newest first", got, want)
			paged := pageAll(t, 3, func(page kessai.Page) ([]kessai.WebhookDelivery, error) {
				return s.ListDeliveries(ctx(t), shop, c.event, c.endpoint, page)
			}, deliveryID)
			same(t, "paged deliveries", paged, ids(want, deliveryID))
			other, err := s.ListDeliveries(ctx(t), other, c.event, c.endpoint, kessai.Page{})
			must(t, err)
			if len(other) != 0 {
				t.Fatalf("another shop lists %d deliveries", len(other))
			}
		})
	}
}

// ---- idempotency ----

func newRecord(shop, key, fingerprint string, now time.Time) *kessai.IdempotencyRecord {
	return &kessai.IdempotencyRecord{ShopID: shop, Key: key, Fingerprint: fingerprint,
		CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour)}
}

func testIdempotencyLifecycle(t *testing.T, s kessai.Store) {
	shop, other := newShop(), newShop()
	rec := newRecord(shop, "key-1", "fp-1", at(0))
	got, err := s.BeginIdempotency(ctx(t), rec)
	must(t, err)
	want := kessai.IdempotencyRecord{ShopID: shop, Key: "key-1", Fingerprint: "fp-1", State: kessai.IdempotencyRunning,
		CreatedAt: us(at(0)), ExpiresAt: us(at(24 * time.Hour))}
	same(t, "begun record", *got, want)

	// Same key while running: the running record, and nothing written.
	got, err = s.BeginIdempotency(ctx(t), newRecord(shop, "key-1", "fp-other", at(time.Minute)))
	wantErr(t, err, kessai.ErrDuplicate)
	if got == nil {
		t.Fatal("duplicate begin returned no record")
	}
	same(t, "running record", *got, want)

	// Another shop's key is another record.
	_, err = s.BeginIdempotency(ctx(t), newRecord(other, "key-1", "fp-x", at(0)))
	must(t, err)

	body := []byte(`{"id":"ord_1","status":"processing"}`)
	must(t, s.CompleteIdempotency(ctx(t), shop, "key-1", 201, body))
	got, err = s.BeginIdempotency(ctx(t), newRecord(shop, "key-1", "fp-1", at(time.Hour)))
	wantErr(t, err, kessai.ErrDuplicate)
	want.State, want.StatusCode, want.Body = kessai.IdempotencyDone, 201, body
	same(t, "done record", *got, want)

	wantErr(t, s.CompleteIdempotency(ctx(t), shop, "key-1", 500, nil), kessai.ErrConflict)
	wantErr(t, s.AbandonIdempotency(ctx(t), shop, "key-1"), kessai.ErrConflict)
	wantErr(t, s.CompleteIdempotency(ctx(t), shop, "key-missing", 200, nil), kessai.ErrNotFound)
	got, err = s.BeginIdempotency(ctx(t), newRecord(shop, "key-1", "fp-1", at(time.Hour)))
	wantErr(t, err, kessai.ErrDuplicate)
	same(t, "record after refused changes", *got, want)

	// The other shop's record is still running.
	must(t, s.CompleteIdempotency(ctx(t), other, "key-1", 200, []byte(`{}`)))
}

func testIdempotencyAbandon(t *testing.T, s kessai.Store) {
	shop := newShop()
	_, err := s.BeginIdempotency(ctx(t), newRecord(shop, "key-a", "fp-1", at(0)))
	must(t, err)
	must(t, s.AbandonIdempotency(ctx(t), shop, "key-a"))
	wantErr(t, s.AbandonIdempotency(ctx(t), shop, "key-a"), kessai.ErrNotFound)
	got, err := s.BeginIdempotency(ctx(t), newRecord(shop, "key-a", "fp-2", at(time.Minute)))
	must(t, err)
	if got.Fingerprint != "fp-2" || got.State != kessai.IdempotencyRunning {
		t.Fatalf("begin after abandon = %+v", got)
	}
}

func testIdempotencyExpired(t *testing.T, s kessai.Store) {
	shop := newShop()
	for _, done := range []bool{false, true} {
		key := fmt.Sprintf("key-done-%v", done)
		old := newRecord(shop, key, "fp-old", at(0))
		old.ExpiresAt = at(time.Hour)
		_, err := s.BeginIdempotency(ctx(t), old)
		must(t, err)
		if done {
			must(t, s.CompleteIdempotency(ctx(t), shop, key, 200, []byte(`{"old":true}`)))
		}
		// Still live just before it expires.
		_, err = s.BeginIdempotency(ctx(t), newRecord(shop, key, "fp-new", at(time.Hour-time.Second)))
		wantErr(t, err, kessai.ErrDuplicate)
		// Replaced once it has expired.
		got, err := s.BeginIdempotency(ctx(t), newRecord(shop, key, "fp-new", at(2*time.Hour)))
		must(t, err)
		want := kessai.IdempotencyRecord{ShopID: shop, Key: key, Fingerprint: "fp-new", State: kessai.IdempotencyRunning,
			CreatedAt: us(at(2 * time.Hour)), ExpiresAt: us(at(26 * time.Hour))}
		same(t, "replacing record", *got, want)
		got, err = s.BeginIdempotency(ctx(t), newRecord(shop, key, "fp-3", at(3*time.Hour)))
		wantErr(t, err, kessai.ErrDuplicate)
		same(t, "stored replacement", *got, want)
	}
}

func testIdempotencyPurge(t *testing.T, s kessai.Store) {
	shop, other := newShop(), newShop()
	for i, sh := range []string{shop, other, shop, other} {
		r := newRecord(sh, fmt.Sprintf("key-%d", i), "fp", at(0))
		r.ExpiresAt = at(time.Duration(i+1) * time.Hour)
		_, err := s.BeginIdempotency(ctx(t), r)
		must(t, err)
	}
	n, err := s.PurgeIdempotency(ctx(t), at(2*time.Hour+time.Minute))
	must(t, err)
	if n != 2 {
		t.Fatalf("purged %d records, want 2 (every shop's)", n)
	}
	// Purged keys are free, the others still taken.
	for i, sh := range []string{shop, other, shop, other} {
		_, err := s.BeginIdempotency(ctx(t), newRecord(sh, fmt.Sprintf("key-%d", i), "fp", at(0)))
		if i < 2 {
			must(t, err)
		} else {
			wantErr(t, err, kessai.ErrDuplicate)
		}
	}
	n, err = s.PurgeIdempotency(ctx(t), at(0))
	must(t, err)
	if n != 0 {
		t.Fatalf("purged %d records expiring later, want 0", n)
	}
}

func testIdempotencyRace(t *testing.T, s kessai.Store) {
	shop := newShop()
	errs := race(10, func(i int) error {
		_, err := s.BeginIdempotency(ctx(t), newRecord(shop, "key-race", fmt.Sprintf("fp-%d", i), at(0)))
		return err
	})
	oneWinner(t, errs, kessai.ErrDuplicate, "BeginIdempotency")
}

func testIdempotencyExpiredRace(t *testing.T, s kessai.Store) {
	shop := newShop()
	// Several rounds, as a lost race needs the racers to interleave.
	for round := range 10 {
		key := fmt.Sprintf("key-expired-race-%d", round)
		old := newRecord(shop, key, "fp-old", at(0))
		old.ExpiresAt = at(time.Hour)
		_, err := s.BeginIdempotency(ctx(t), old)
		must(t, err)
		var winner atomic.Value
		errs := race(10, func(i int) error {
			fp := fmt.Sprintf("fp-%d", i)
			_, err := s.BeginIdempotency(ctx(t), newRecord(shop, key, fp, at(2*time.Hour)))
			if err == nil {
				winner.Store(fp)
			}
			return err
		})
		oneWinner(t, errs, kessai.ErrDuplicate, fmt.Sprintf("round %d: replacing an expired record", round))
		got, err := s.BeginIdempotency(ctx(t), newRecord(shop, key, "fp-late", at(2*time.Hour)))
		wantErr(t, err, kessai.ErrDuplicate)
		if got.Fingerprint != winner.Load() {
			t.Fatalf("stored fingerprint %s, winner %s", got.Fingerprint, winner.Load())
		}
	}
}

// ---- transactions ----

func testTxCommit(t *testing.T, s kessai.Store) {
	shop := newShop()
	var o *kessai.Order
	var p *kessai.Payment
	must(t, s.InTx(ctx(t), func(tx kessai.Store) error {
		o = newOrder(shop, at(0))
		if err := tx.CreateOrder(ctx(t), o); err != nil {
			return err
		}
		// Reads inside the transaction see its writes.
		if _, err := tx.GetOrder(ctx(t), shop, o.ID); err != nil {
			return err
		}
		p = newPayment(o, at(0), "000000000071")
		if err := tx.CreatePayment(ctx(t), p); err != nil {
			return err
		}
		_, err := tx.PutSettings(ctx(t), shop, []byte(`{"a":1}`), 0)
		return err
	}))
	got, err := s.GetOrder(ctx(t), shop, o.ID)
	must(t, err)
	same(t, "committed order", *got, *o)
	gotP, err := s.GetPayment(ctx(t), shop, p.ID)
	must(t, err)
	same(t, "committed payment", *gotP, *p)
	_, v, err := s.GetSettings(ctx(t), shop)
	must(t, err)
	if v != 1 {
		t.Fatalf("settings version %d, want 1", v)
	}
}

var errAbort = errors.New("storetest: abort")

func testTxRollback(t *testing.T, s kessai.Store) {
	shop := newShop()
	kept := createOrder(t, s, shop, at(0))
	o := newOrder(shop, at(time.Minute))
	p := newPayment(o, at(time.Minute), "000000000081")
	e := newEvent(shop, at(time.Minute), kessai.EventOrderCreated)
	m := &kessai.Member{ShopID: shop, CustomerID: "cus_tx", KaiinID: "K", KaiinPass: "P", CreatedAt: at(0), UpdatedAt: at(0)}
	err := s.InTx(ctx(t), func(tx kessai.Store) error {
		steps := []error{
			tx.CreateOrder(ctx(t), o),
			tx.CreatePayment(ctx(t), p),
			tx.CreateEvent(ctx(t), e),
			tx.PutMember(ctx(t), m),
			func() error { _, err := tx.PutSettings(ctx(t), shop, []byte(`{}`), 0); return err }(),
			func() error {
				_, err := tx.SetOrderStatus(ctx(t), shop, kept.ID, nil, kessai.OrderCancelled, at(time.Hour))
				return err
			}(),
			func() error {
				_, err := tx.BeginIdempotency(ctx(t), newRecord(shop, "key-tx", "fp", at(0)))
				return err
			}(),
		}
		for _, err := range steps {
			if err != nil {
				return err
			}
		}
		return fmt.Errorf("wrapped: %w", errAbort)
	})
	wantErr(t, err, errAbort)

	checks := map[string]error{}
	_, checks["order"] = s.GetOrder(ctx(t), shop, o.ID)
	_, checks["payment"] = s.GetPayment(ctx(t), shop, p.ID)
	_, checks["event"] = s.GetEvent(ctx(t), shop, e.ID)
	_, checks["member"] = s.GetMember(ctx(t), shop, "cus_tx")
	_, _, checks["settings"] = s.GetSettings(ctx(t), shop)
	for what, err := range checks {
		if !errors.Is(err, kessai.ErrNotFound) {
			t.Errorf("%s after rollback: got %v, want ErrNotFound", what, err)
		}
	}
	got, err := s.GetOrder(ctx(t), shop, kept.ID)
	must(t, err)
	if got.Status != kessai.OrderPending {
		t.Errorf("status change survived the rollback: %s", got.Status)
	}
	_, err = s.BeginIdempotency(ctx(t), newRecord(shop, "key-tx", "fp", at(0)))
	must(t, err) // the key is free: the record was rolled back
	list, err := s.ListUndispatchedEvents(ctx(t), 10)
	must(t, err)
	if len(list) != 0 {
		t.Errorf("rolled-back event in the outbox: %v", ids(list, eventID))
	}
}

func testTxNested(t *testing.T, s kessai.Store) {
	shop := newShop()
	outer := newOrder(shop, at(0))
	inner := newOrder(shop, at(time.Minute))
	err := s.InTx(ctx(t), func(tx kessai.Store) error {
		if err := tx.CreateOrder(ctx(t), outer); err != nil {
			return err
		}
		if err := tx.InTx(ctx(t), func(tx2 kessai.Store) error { return tx2.CreateOrder(ctx(t), inner) }); err != nil {
			return err
		}
		// The nested transaction is the same one: its write is visible.
		if _, err := tx.GetOrder(ctx(t), shop, inner.ID); err != nil {
			return err
		}
		return tx.InTx(ctx(t), func(kessai.Store) error { return errAbort })
	})
	wantErr(t, err, errAbort)
	for _, o := range []*kessai.Order{outer, inner} {
		_, err := s.GetOrder(ctx(t), shop, o.ID)
		wantErr(t, err, kessai.ErrNotFound)
	}

	must(t, s.InTx(ctx(t), func(tx kessai.Store) error {
		if err := tx.CreateOrder(ctx(t), outer); err != nil {
			return err
		}
		return tx.InTx(ctx(t), func(tx2 kessai.Store) error { return tx2.CreateOrder(ctx(t), inner) })
	}))
	for _, o := range []*kessai.Order{outer, inner} {
		_, err := s.GetOrder(ctx(t), shop, o.ID)
		must(t, err)
	}
}

// testTxUsableAfterErrors checks that the store's own "expected" errors
// (duplicate, not found, conflict) leave a transaction usable: on
// PostgreSQL a failed statement would abort the whole transaction, so an
// adapter must detect these cases without one.
func testTxUsableAfterErrors(t *testing.T, s kessai.Store) {
	shop := newShop()
	existing := createOrder(t, s, shop, at(0))
	p := createPayment(t, s, existing, at(0), "000000000091")
	a := newAttempt(p, at(0))
	must(t, s.CreateAttempt(ctx(t), a))
	a.Status = kessai.AttemptSucceeded
	must(t, s.FinishAttempt(ctx(t), a))
	_, err := s.PutSettings(ctx(t), shop, []byte(`{}`), 0)
	must(t, err)
	_, err = s.BeginIdempotency(ctx(t), newRecord(shop, "key-live", "fp", at(0)))
	must(t, err)
	must(t, s.CreateAPIKey(ctx(t), newKey(shop, "sk_test_tx_usable_1234", at(0))))
	admin := createAdminUser(t, s, shop, "tx@example.jp", at(0))

	fresh := newOrder(shop, at(time.Hour))
	must(t, s.InTx(ctx(t), func(tx kessai.Store) error {
		dup := newOrder(shop, at(time.Minute))
		dup.ShopOrderID = existing.ShopOrderID
		expect := []struct {
			what string
			err  error
			want error
		}{
			{"duplicate order", tx.CreateOrder(ctx(t), dup), kessai.ErrDuplicate},
			{"duplicate API key", tx.CreateAPIKey(ctx(t), newKey(shop, "sk_test_tx_usable_1234", at(0))), kessai.ErrDuplicate},
			{"missing order", func() error { _, err := tx.GetOrder(ctx(t), shop, "ord_missing"); return err }(), kessai.ErrNotFound},
			{"finished attempt", tx.FinishAttempt(ctx(t), a), kessai.ErrConflict},
			{"stale settings", func() error { _, err := tx.PutSettings(ctx(t), shop, []byte(`{}`), 0); return err }(), kessai.ErrConflict},
			{"live idempotency key", func() error {
				_, err := tx.BeginIdempotency(ctx(t), newRecord(shop, "key-live", "fp", at(0)))
				return err
			}(), kessai.ErrDuplicate},
			{"missing member", tx.DeleteMember(ctx(t), shop, "cus_none"), kessai.ErrNotFound},
			{"duplicate admin email", tx.CreateAdminUser(ctx(t), newAdminUser(shop, admin.Email, at(time.Minute))), kessai.ErrDuplicate},
			{"missing admin user", tx.UpdateAdminUser(ctx(t), newAdminUser(shop, "nobody@example.jp", at(0))), kessai.ErrNotFound},
			{"missing admin session", tx.DeleteAdminSession(ctx(t), shop, kessai.HashKey("none")), kessai.ErrNotFound},
		}
		for _, e := range expect {
			if !errors.Is(e.err, e.want) {
				return fmt.Errorf("%s: got %v, want %v", e.what, e.err, e.want)
			}
		}
		return tx.CreateOrder(ctx(t), fresh)
	}))
	_, err = s.GetOrder(ctx(t), shop, fresh.ID)
	must(t, err)
}

func testTxPanic(t *testing.T, s kessai.Store) {
	shop := newShop()
	o := newOrder(shop, at(0))
	func() {
		defer func() {
			if r := recover(); r != "storetest: boom" {
				t.Fatalf("recovered %v, want the panic of fn", r)
			}
		}()
		_ = s.InTx(ctx(t), func(tx kessai.Store) error {
			if err := tx.CreateOrder(ctx(t), o); err != nil {
				return err
			}
			panic("storetest: boom")
		})
	}()
	_, err := s.GetOrder(ctx(t), shop, o.ID)
	wantErr(t, err, kessai.ErrNotFound)
	// The store is still usable (the connection was given back).
	createOrder(t, s, shop, at(time.Minute))
}

// ---- times ----

func testTimes(t *testing.T, s kessai.Store) {
	shop := newShop()
	// Nanoseconds, a non-UTC zone, a monotonic clock reading, and a time
	// before 1970: each comes back as the same instant, in UTC, cut to
	// microseconds.
	cases := []time.Time{
		time.Date(2025, 12, 31, 23, 59, 59, 999999999, kessai.JST),
		time.Now(),
		time.Date(1969, 7, 20, 20, 17, 40, 1000, time.UTC),
	}
	for i, when := range cases {
		o := newOrder(shop, at(time.Duration(i)*time.Minute))
		o.CreatedAt, o.UpdatedAt = when, when
		must(t, s.CreateOrder(ctx(t), o))
		got, err := s.GetOrder(ctx(t), shop, o.ID)
		must(t, err)
		want := time.UnixMicro(when.UnixMicro()).UTC()
		if got.CreatedAt != want || got.CreatedAt.Location() != time.UTC {
			t.Errorf("stored %v, read %v, want %v", when, got.CreatedAt, want)
		}
		// The value given was normalised the same way, so it equals
		// what a later read returns.
		if o.CreatedAt != got.CreatedAt {
			t.Errorf("created value holds %v, read %v", o.CreatedAt, got.CreatedAt)
		}
	}
}

// ---- secrets ----

func testSecretsSealed(t *testing.T, s kessai.Store, dump func(*testing.T, kessai.Store) string) {
	if dump == nil {
		t.Skip("adapter gave no WithRawDump: cannot look at the stored bytes")
	}
	shop := newShop()
	secrets := []string{
		"PROCESSPASS-in-clear-0001",
		"PROCESSPASS-updated-0002",
		"KAIINPASS-in-clear-0003",
		"WHSEC-in-clear-0004",
		"WHSEC-updated-0005",
		"SETTINGS-in-clear-0006",
		"SETTINGS-updated-0007",
		"RESPONSE-in-clear-0008",
	}
	o := createOrder(t, s, shop, at(0))
	p := newPayment(o, at(0), "000000000101")
	p.ProcessPass = secrets[0]
	must(t, s.CreatePayment(ctx(t), p))
	p.ProcessPass = secrets[1]
	must(t, s.UpdatePayment(ctx(t), p))
	p2 := newPayment(o, at(time.Second), "000000000102")
	p2.ProcessPass = secrets[0]
	must(t, s.CreatePayment(ctx(t), p2))
	must(t, s.PutMember(ctx(t), &kessai.Member{ShopID: shop, CustomerID: "cus_1", KaiinID: "K0001",
		KaiinPass: secrets[2], CreatedAt: at(0), UpdatedAt: at(0)}))
	w := &kessai.WebhookEndpoint{ID: kessai.NewID("we", at(0)), ShopID: shop, URL: "https://shop.example.jp/",
		Secret: secrets[3], Enabled: true, CreatedAt: at(0)}
	must(t, s.CreateWebhookEndpoint(ctx(t), w))
	w2 := &kessai.WebhookEndpoint{ID: kessai.NewID("we", at(time.Second)), ShopID: shop, URL: "https://shop.example.jp/2",
		Secret: secrets[3], Enabled: true, CreatedAt: at(0)}
	must(t, s.CreateWebhookEndpoint(ctx(t), w2))
	w2.Secret = secrets[4]
	must(t, s.UpdateWebhookEndpoint(ctx(t), w2))
	v, err := s.PutSettings(ctx(t), shop, []byte(`{"merchant_pass":"`+secrets[5]+`"}`), 0)
	must(t, err)
	other := newShop()
	_, err = s.PutSettings(ctx(t), other, []byte(`{"merchant_pass":"`+secrets[5]+`"}`), 0)
	must(t, err)
	_, err = s.PutSettings(ctx(t), other, []byte(`{"merchant_pass":"`+secrets[6]+`"}`), 1)
	must(t, err)
	_, err = s.BeginIdempotency(ctx(t), newRecord(shop, "key-secret", "fp", at(0)))
	must(t, err)
	must(t, s.CompleteIdempotency(ctx(t), shop, "key-secret", 201, []byte(`{"secret":"`+secrets[7]+`"}`)))

	raw := dump(t, s)
	// The dump must show the rows at all, or this test proves nothing.
	for _, visible := range []string{o.ID, p.ID, w.URL, "K0001", "key-secret"} {
		if !strings.Contains(raw, visible) {
			t.Fatalf("raw dump lacks %q: it does not show the stored rows", visible)
		}
	}
	for _, secret := range secrets {
		if strings.Contains(raw, secret) {
			t.Errorf("secret %q is stored in clear", secret)
		}
	}

	// And the store reads them back.
	gotP, err := s.GetPayment(ctx(t), shop, p.ID)
	must(t, err)
	gotM, err := s.GetMember(ctx(t), shop, "cus_1")
	must(t, err)
	gotW, err := s.GetWebhookEndpoint(ctx(t), shop, w2.ID)
	must(t, err)
	doc, v2, err := s.GetSettings(ctx(t), shop)
	must(t, err)
	if gotP.ProcessPass != secrets[1] || gotM.KaiinPass != secrets[2] || gotW.Secret != secrets[4] ||
		!strings.Contains(string(doc), secrets[5]) || v2 != v {
		t.Fatalf("secrets do not read back: %q %q %q %s", gotP.ProcessPass, gotM.KaiinPass, gotW.Secret, doc)
	}
}
