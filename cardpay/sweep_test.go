package cardpay_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/cardpay"
	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/internal/paytest"
	"github.com/kessai/kessai/internal/testdb"
)

func (e *env) sweep() cardpay.SweepResult {
	e.T.Helper()
	r, err := e.payer.Sweep(e.Ctx, shopID)
	if err != nil {
		e.T.Fatal(err)
	}
	return r
}

// TestSweepInterruptedCall: a process killed during the authorisation
// leaves a pending attempt (written before the call); once it is older
// than StaleAfter the sweep declares it unknown, with its payment, so
// that nobody charges the order again before an operator looked.
func TestSweepInterruptedCall(t *testing.T) {
	testdb.Run(t, func(t *testing.T, db testdb.Backend) {
		e := newEnv(t, onDB(db))
		o := e.order(3000)
		now := e.Clock.Now()
		// The crash: payment and attempt written, the outcome never.
		p := &kessai.Payment{ID: kessai.NewID(cardpay.PaymentIDPrefix, now), ShopID: shopID, OrderID: o.ID, Method: kessai.MethodCard,
			State: kessai.PaymentNew, Amount: 3000, Currency: kessai.Currency, TransactionCode: "123456789012",
			Operation: escott.OpGathering, PayType: escott.PayLump, CreatedAt: now, UpdatedAt: now}
		if err := e.Store.CreatePayment(e.Ctx, p); err != nil {
			t.Fatal(err)
		}
		a := &kessai.Attempt{ID: kessai.NewID("att", now), ShopID: shopID, PaymentID: p.ID, Operation: escott.OpGathering,
			MerchantFree1: "123456789012", Amount: 3000, Status: kessai.AttemptPending, CreatedAt: now}
		if err := e.Store.CreateAttempt(e.Ctx, a); err != nil {
			t.Fatal(err)
		}
		// A call still running is never touched.
		e.Clock.Advance(time.Minute)
		if r := e.sweep(); r != (cardpay.SweepResult{}) {
			t.Fatalf("fresh attempt swept: %+v", r)
		}
		// Meanwhile the order is blocked: the attempt may be charging.
		_, err := e.pay(o, e.tok(visaOK))
		wantErr(t, err, kessai.KindConflict, "payment_in_progress")

		e.Clock.Advance(cardpay.DefaultStaleAfter)
		if r := e.sweep(); r.Unknown != 1 || r.Abandoned != 0 {
			t.Fatalf("sweep %+v", r)
		}
		got := e.GetPayment(p.ID)
		paytest.WantState(t, got, kessai.PaymentUnknown)
		if got.TransactionCode != "123456789012" {
			t.Fatalf("payment %+v", got)
		}
		if at := e.Attempts(p.ID); at[0].Status != kessai.AttemptUnknown || !slices.Equal(at[0].Codes, []string{"NG"}) {
			t.Fatalf("attempt %+v", at[0])
		}
		if evs := e.EventsAbout(p.ID); !slices.Equal(evs, []string{kessai.EventPaymentUnknown}) {
			t.Fatalf("events %v", evs)
		}
		paytest.WantStatus(t, e.GetOrder(o.ID), kessai.OrderPending)
		_, err = e.pay(e.GetOrder(o.ID), e.tok(visaOK))
		wantErr(t, err, kessai.KindConflict, "payment_unknown")
		// Idempotent.
		if r := e.sweep(); r != (cardpay.SweepResult{}) {
			t.Fatalf("second sweep %+v", r)
		}
		// The operator settles it.
		if _, err := e.payer.Resolve(e.Ctx, shopID, p.ID, cardpay.ResolveInput{Outcome: "failed"}); err != nil {
			t.Fatal(err)
		}
		e.mustPay(e.GetOrder(o.ID), e.tok(visaOK))
	})
}

// TestSweepInterruptedFollowUp: a follow-up cut off mid-call leaves the
// attempt unknown but the payment's state stands (its history decides).
func TestSweepInterruptedFollowUp(t *testing.T) {
	t.Parallel()
	const stale = 2 * time.Minute
	e := newEnv(t, withCard("operation", "1Auth"), withPayer(func(c *cardpay.Config) { c.StaleAfter = stale }))
	p := e.mustPay(e.order(3000), e.tok(visaOK)).Payment
	now := e.Clock.Now()
	a := &kessai.Attempt{ID: kessai.NewID("att", now), ShopID: shopID, PaymentID: p.ID, Operation: escott.OpCapture,
		MerchantFree1: p.TransactionCode, Status: kessai.AttemptPending, CreatedAt: now}
	if err := e.Store.CreateAttempt(e.Ctx, a); err != nil {
		t.Fatal(err)
	}
	// While it is pending a second capture cannot start.
	_, err := e.payer.Operate(e.Ctx, shopID, p.ID, escott.OpCapture, 0)
	wantErr(t, err, kessai.KindConflict, "payment_in_progress")
	e.Clock.Advance(stale - 10*time.Second)
	if r := e.sweep(); r.Unknown != 0 {
		t.Fatalf("swept before StaleAfter: %+v", r)
	}
	e.Clock.Advance(20 * time.Second)
	if r := e.sweep(); r.Unknown != 1 {
		t.Fatalf("sweep %+v", r)
	}
	paytest.WantState(t, e.GetPayment(p.ID), kessai.PaymentAuthorized)
	if _, err := e.payer.Operate(e.Ctx, shopID, p.ID, escott.OpCapture, 0); err != nil {
		t.Fatalf("capture after the sweep: %v", err)
	}
}

// TestSweepAbandonedThreeDS: a shopper who left at the 3-D Secure page
// never reached a charge; once the session expired the payment fails
// (abandoned) and the order is free again. A return after that is
// refused.
func TestSweepAbandonedThreeDS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withCard("three_ds", true))
	o := e.order(5000)
	res := e.startThreeDS(o, e.threeDSIn(threeDSOK))
	page := e.open(res.NextAction)

	e.Clock.Advance(cardpay.DefaultStaleAfter + time.Minute) // stale, but the session is open
	if r := e.sweep(); r != (cardpay.SweepResult{}) {
		t.Fatalf("open session swept: %+v", r)
	}
	paytest.WantState(t, e.GetPayment(res.Payment.ID), kessai.PaymentNew)

	e.Clock.Advance(cardpay.DefaultSessionTTL + cardpay.DefaultStaleAfter)
	if r := e.sweep(); r.Abandoned != 1 || r.Unknown != 0 {
		t.Fatalf("sweep %+v", r)
	}
	p := e.GetPayment(res.Payment.ID)
	paytest.WantState(t, p, kessai.PaymentFailed)
	if !slices.Equal(p.FailureCodes, []string{"abandoned"}) {
		t.Fatalf("failure codes %v", p.FailureCodes)
	}
	paytest.WantStatus(t, e.GetOrder(o.ID), kessai.OrderPending)
	if evs := e.EventsAbout(p.ID); !slices.Equal(evs, []string{kessai.EventPaymentFailed}) {
		t.Fatalf("events %v", evs)
	}
	action, ev := paytest.AutoSubmitted(t, page)
	if r := e.Browse(http.MethodPost, action, url.Values{"EncryptValue": {ev}}); r.Status != http.StatusConflict {
		t.Fatalf("late return: HTTP %d", r.Status)
	}
	if n := len(e.simTxns()); n != 0 {
		t.Fatalf("%d transactions", n)
	}
	// The shopper starts again.
	res = e.startThreeDS(e.GetOrder(o.ID), e.threeDSIn(threeDSOK))
	checkThreeDSOutcome(t, e, o, res, e.back(e.open(res.NextAction)), "0")
}

// TestSweepLinkCheckout: a link checkout's attempt is written before the
// shopper goes to the gateway's page, where the money may move; the
// sweep leaves it alone while the session is open, then makes it unknown
// (not failed: the shopper may have paid).
func TestSweepLinkCheckout(t *testing.T) {
	t.Parallel()
	e := linkEnv(t)
	o := e.order(2000)
	res := e.startLink(o, cardpay.PayInput{})
	page := e.payOnLinkPage(e.open(res.NextAction), visaOK) // paid at the gateway; the return is not posted yet

	e.Clock.Advance(10 * time.Minute)
	if r := e.sweep(); r != (cardpay.SweepResult{}) {
		t.Fatalf("open link session swept: %+v", r)
	}
	e.Clock.Advance(cardpay.DefaultSessionTTL + cardpay.DefaultStaleAfter)
	if r := e.sweep(); r.Unknown != 1 {
		t.Fatalf("sweep %+v", r)
	}
	p := e.GetPayment(res.Payment.ID)
	paytest.WantState(t, p, kessai.PaymentUnknown)
	paytest.WantStatus(t, e.GetOrder(o.ID), kessai.OrderPending)
	// The late return cannot settle it any more; the operator does, with
	// the handle from the console.
	action, ev := paytest.AutoSubmitted(t, page)
	r := e.Browse(http.MethodPost, action, url.Values{"EncryptValue": {ev}})
	if r.Status != http.StatusConflict || !strings.Contains(r.Body, "return_session_expired") {
		t.Fatalf("late return: HTTP %d\n%s", r.Status, r.Body)
	}
	tx := e.oneSimTxn(o.ID)
	if tx.MerchantFree1 != p.TransactionCode {
		t.Fatalf("the unknown payment's code %s is not the gateway's %s", p.TransactionCode, tx.MerchantFree1)
	}
	if _, err := e.payer.Resolve(e.Ctx, shopID, p.ID, cardpay.ResolveInput{Outcome: "succeeded", ProcessID: tx.ProcessID, ProcessPass: tx.ProcessPass}); err != nil {
		t.Fatal(err)
	}
	paytest.WantState(t, e.GetPayment(p.ID), kessai.PaymentCaptured)
	paytest.WantStatus(t, e.GetOrder(o.ID), kessai.OrderProcessing)
}

// TestSweepLinkSecondHop: when the shopper is lost after the second hop
// of a link checkout with card registration (CARD-12) — the gateway paid
// with the second hop's MerchantFree1 — the unknown payment carries the
// code the gateway knows, for the operator to find the transaction in the
// console: the second hop has its own pending attempt under its own code.
func TestSweepLinkSecondHop(t *testing.T) {
	t.Parallel()
	e := linkEnv(t)
	o := e.order(2000, forCustomer("hop"))
	res := e.startLink(o, cardpay.PayInput{SaveCard: true})
	// First hop: the card is registered; the receiver sends the browser
	// to the second hop, which the gateway answers at once (paid).
	action, ev := paytest.AutoSubmitted(t, e.payOnLinkPage(e.open(res.NextAction), visaOK))
	r := e.Browse(http.MethodPost, action, url.Values{"EncryptValue": {ev}})
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Loc, e.SimURL) {
		t.Fatalf("first hop return: HTTP %d %s", r.Status, r.Loc)
	}
	if g := e.Browse(http.MethodGet, r.Loc, nil); g.Status != http.StatusOK {
		t.Fatalf("second hop: HTTP %d", g.Status)
	}
	tx := e.oneSimTxn(o.ID) // paid; the browser never posts the answer back
	e.Clock.Advance(cardpay.DefaultSessionTTL + cardpay.DefaultStaleAfter + time.Minute)
	if r := e.sweep(); r.Unknown != 1 {
		t.Fatalf("sweep %+v", r)
	}
	p := e.GetPayment(res.Payment.ID)
	paytest.WantState(t, p, kessai.PaymentUnknown)
	if p.TransactionCode != tx.MerchantFree1 {
		t.Errorf("unknown payment carries MerchantFree1 %s; the gateway's transaction has %s", p.TransactionCode, tx.MerchantFree1)
	}
}
