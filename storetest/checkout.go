package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/kessai/kessai"
)

func newCheckoutSession(shop, orderID, paymentID, code string, created time.Time) *kessai.CheckoutSession {
	return &kessai.CheckoutSession{ID: kessai.NewID("cks", created), ShopID: shop, Kind: kessai.CheckoutThreeDS,
		OrderID: orderID, PaymentID: paymentID, CustomerID: "cus_1", MerchantFree1: code,
		Data: []byte(`{"token":"TOKEN-in-clear-0009"}`), CreatedAt: created, ExpiresAt: created.Add(time.Hour)}
}

func testCheckoutSessions(t *testing.T, s kessai.Store, rawDump func(t *testing.T, s kessai.Store) string) {
	shop, other := newShop(), newShop()
	c := newCheckoutSession(shop, "ord_1", "pay_1", "000000000301", at(0))
	must(t, s.CreateCheckoutSession(ctx(t), c))
	got, err := s.GetCheckoutSession(ctx(t), shop, c.ID)
	must(t, err)
	same(t, "session", *got, *c)
	got, err = s.FindCheckoutSession(ctx(t), shop, "000000000301")
	must(t, err)
	same(t, "session by code", *got, *c)
	_, err = s.FindCheckoutSession(ctx(t), other, "000000000301")
	wantErr(t, err, kessai.ErrNotFound)
	_, err = s.GetCheckoutSession(ctx(t), other, c.ID)
	wantErr(t, err, kessai.ErrNotFound)

	// The id and the shop's code are unique; another shop may reuse the code.
	dupID := *c
	dupID.MerchantFree1 = "000000000302"
	wantErr(t, s.CreateCheckoutSession(ctx(t), &dupID), kessai.ErrDuplicate)
	dupCode := newCheckoutSession(shop, "ord_2", "pay_2", "000000000301", at(time.Second))
	wantErr(t, s.CreateCheckoutSession(ctx(t), dupCode), kessai.ErrDuplicate)
	must(t, s.CreateCheckoutSession(ctx(t), newCheckoutSession(other, "ord_1", "pay_1", "000000000301", at(time.Second))))

	// The data is sealed at rest.
	if rawDump != nil {
		raw := rawDump(t, s)
		if !strings.Contains(raw, c.ID) {
			t.Fatal("raw dump lacks the session row")
		}
		if strings.Contains(raw, "TOKEN-in-clear-0009") {
			t.Error("session data is stored in clear")
		}
	}

	// Open sessions of an order, oldest first; consumed ones drop out.
	c2 := newCheckoutSession(shop, "ord_1", "pay_1b", "000000000303", at(time.Minute))
	must(t, s.CreateCheckoutSession(ctx(t), c2))
	open, err := s.ListOpenCheckoutSessions(ctx(t), shop, "ord_1")
	must(t, err)
	same(t, "open sessions", ids(open, sessionID), []string{c.ID, c2.ID})

	// Consumed once.
	must(t, s.ConsumeCheckoutSession(ctx(t), shop, c.ID, at(2*time.Minute)))
	wantErr(t, s.ConsumeCheckoutSession(ctx(t), shop, c.ID, at(3*time.Minute)), kessai.ErrConflict)
	wantErr(t, s.ConsumeCheckoutSession(ctx(t), shop, "cks_missing", at(3*time.Minute)), kessai.ErrNotFound)
	wantErr(t, s.ConsumeCheckoutSession(ctx(t), other, c2.ID, at(3*time.Minute)), kessai.ErrNotFound)
	got, err = s.GetCheckoutSession(ctx(t), shop, c.ID)
	must(t, err)
	if want := at(2 * time.Minute).Truncate(time.Microsecond); !got.ConsumedAt.Equal(want) {
		t.Fatalf("consumed at %v, want %v", got.ConsumedAt, want)
	}
	open, err = s.ListOpenCheckoutSessions(ctx(t), shop, "ord_1")
	must(t, err)
	same(t, "open sessions after consume", ids(open, sessionID), []string{c2.ID})

	// Purge by expiry, consumed or not.
	n, err := s.PurgeCheckoutSessions(ctx(t), at(time.Hour+30*time.Second))
	must(t, err)
	if n != 2 { // c (expires at 1h) and the other shop's (1h1s), across shops; c2 expires later
		t.Fatalf("purged %d sessions, want 2", n)
	}
	_, err = s.GetCheckoutSession(ctx(t), shop, c2.ID)
	must(t, err)
	_, err = s.GetCheckoutSession(ctx(t), shop, c.ID)
	wantErr(t, err, kessai.ErrNotFound)
}

func sessionID(c kessai.CheckoutSession) string { return c.ID }

func testCheckoutConsumeRace(t *testing.T, s kessai.Store) {
	shop := newShop()
	c := newCheckoutSession(shop, "ord_1", "pay_1", "000000000311", at(0))
	must(t, s.CreateCheckoutSession(ctx(t), c))
	errs := race(8, func(int) error { return s.ConsumeCheckoutSession(ctx(t), shop, c.ID, at(time.Minute)) })
	oneWinner(t, errs, kessai.ErrConflict, "ConsumeCheckoutSession")
}

// testOneActivePayment checks the single-flight rule of CreatePayment and
// UpdatePayment: at most one active payment per order.
func testOneActivePayment(t *testing.T, s kessai.Store) {
	shop := newShop()
	o := createOrder(t, s, shop, at(0))
	o2 := createOrder(t, s, shop, at(time.Second))
	first := newPayment(o, at(time.Minute), "000000000401")
	first.State = kessai.PaymentNew
	first.SecureResultCode, first.Consent = "2", true
	must(t, s.CreatePayment(ctx(t), first))
	got, err := s.GetPayment(ctx(t), shop, first.ID)
	must(t, err)
	same(t, "payment with 3DS result", *got, *first)

	second := newPayment(o, at(2*time.Minute), "000000000402")
	second.State = kessai.PaymentNew
	wantErr(t, s.CreatePayment(ctx(t), second), kessai.ErrDuplicate)
	// Another order is not affected, nor are inactive payments.
	elsewhere := newPayment(o2, at(2*time.Minute), "000000000403")
	elsewhere.State = kessai.PaymentAuthorized
	must(t, s.CreatePayment(ctx(t), elsewhere))
	must(t, s.CreatePayment(ctx(t), newPayment(o, at(3*time.Minute), "000000000404"))) // failed

	// Once the first fails, the order may be paid again.
	first.State = kessai.PaymentFailed
	must(t, s.UpdatePayment(ctx(t), first))
	must(t, s.CreatePayment(ctx(t), second))
	second.State = kessai.PaymentCaptured
	must(t, s.UpdatePayment(ctx(t), second))
	// Reviving the failed one while another is active is refused.
	first.State = kessai.PaymentAuthorized
	wantErr(t, s.UpdatePayment(ctx(t), first), kessai.ErrDuplicate)

	// Racing creations: exactly one wins.
	o3 := createOrder(t, s, shop, at(4*time.Minute))
	errs := race(8, func(i int) error {
		p := newPayment(o3, at(5*time.Minute), "000000000410")
		p.State = kessai.PaymentNew
		return s.CreatePayment(ctx(t), p)
	})
	oneWinner(t, errs, kessai.ErrDuplicate, "CreatePayment of one order")
}

// testOnePendingAttempt: a payment has at most one attempt in flight.
func testOnePendingAttempt(t *testing.T, s kessai.Store) {
	shop := newShop()
	o := createOrder(t, s, shop, at(0))
	p := createPayment(t, s, o, at(0), "000000000501")
	a := newAttempt(p, at(time.Minute))
	must(t, s.CreateAttempt(ctx(t), a))
	wantErr(t, s.CreateAttempt(ctx(t), newAttempt(p, at(2*time.Minute))), kessai.ErrDuplicate)
	a.Status, a.FinishedAt = kessai.AttemptSucceeded, at(3*time.Minute)
	must(t, s.FinishAttempt(ctx(t), a))
	must(t, s.CreateAttempt(ctx(t), newAttempt(p, at(4*time.Minute))))

	p2 := createPayment(t, s, o, at(time.Second), "000000000502")
	errs := race(8, func(i int) error { return s.CreateAttempt(ctx(t), newAttempt(p2, at(5*time.Minute))) })
	oneWinner(t, errs, kessai.ErrDuplicate, "CreateAttempt of one payment")
}

func testCustomerPayments(t *testing.T, s kessai.Store) {
	shop, other := newShop(), newShop()
	var want []string
	for i := range 4 {
		o := createOrder(t, s, shop, at(time.Duration(i)*time.Hour)) // customer of createOrder
		p := newPayment(o, at(time.Duration(i)*time.Hour), "000000000600")
		must(t, s.CreatePayment(ctx(t), p))
		if i >= 1 {
			want = append([]string{p.ID}, want...)
		}
	}
	xo := createOrder(t, s, other, at(0))
	must(t, s.CreatePayment(ctx(t), newPayment(xo, at(2*time.Hour), "000000000601")))
	o := createOrder(t, s, shop, at(0))
	got, err := s.ListCustomerPayments(ctx(t), shop, o.CustomerID, at(time.Hour))
	must(t, err)
	same(t, "customer's payments since 1h, newest first", ids(got, paymentID), want)
	got, err = s.ListCustomerPayments(ctx(t), shop, "cus_nobody", time.Time{})
	must(t, err)
	if len(got) != 0 {
		t.Fatalf("an unknown customer has %d payments", len(got))
	}
}
