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
	"github.com/kessai/kessai/internal/testdb"
)

func (e *env) sweep() cardpay.SweepResult {
	e.t.Helper()
	r, err := e.payer.Sweep(e.ctx, shopID)
	if err != nil {
		e.t.Fatal(err)
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
		now := e.clock.Now()
		// The crash: payment and attempt written, the outcome never.
		p := &kessai.Payment{ID: kessai.NewID(cardpay.PaymentIDPrefix, now), ShopID: shopID, OrderID: o.ID, Method: kessai.MethodCard,
			State: kessai.PaymentNew, Amount: 3000, Currency: kessai.Currency, TransactionCode: "123456789012",
			Operation: escott.OpGathering, PayType: escott.PayLump, CreatedAt: now, UpdatedAt: now}
		if err := e.store.CreatePayment(e.ctx, p); err != nil {
			t.Fatal(err)
		}
		a := &kessai.Attempt{ID: kessai.NewID("att", now), ShopID: shopID, PaymentID: p.ID, Operation: escott.OpGathering,
			MerchantFree1: "123456789012", Amount: 3000, Status: kessai.AttemptPending, CreatedAt: now}
		if err := e.store.CreateAttempt(e.ctx, a); err != nil {
			t.Fatal(err)
		}
		// A call still running is never touched.
		e.clock.Advance(time.Minute)
		if r := e.sweep(); r != (cardpay.SweepResult{}) {
			t.Fatalf("fresh attempt swept: %+v", r)
		}
		// Meanwhile the order is blocked: the attempt may be charging.
		_, err := e.pay(o, e.tok(visaOK))
		wantErr(t, err, kessai.KindConflict, "payment_in_progress")

		e.clock.Advance(cardpay.DefaultStaleAfter)
		if r := e.sweep(); r.Unknown != 1 || r.Abandoned != 0 {
			t.Fatalf("sweep %+v", r)
		}
		got := e.getPayment(p.ID)
		wantState(t, got, kessai.PaymentUnknown)
		if got.TransactionCode != "123456789012" {
			t.Fatalf("payment %+v", got)
		}
		if at := e.attempts(p.ID); at[0].Status != kessai.AttemptUnknown || !slices.Equal(at[0].Codes, []string{"NG"}) {
			t.Fatalf("attempt %+v", at[0])
		}
		if evs := e.eventsAbout(p.ID); !slices.Equal(evs, []string{kessai.EventPaymentUnknown}) {
			t.Fatalf("events %v", evs)
		}
		wantStatus(t, e.getOrder(o.ID), kessai.OrderPending)
		_, err = e.pay(e.getOrder(o.ID), e.tok(visaOK))
		wantErr(t, err, kessai.KindConflict, "payment_unknown")
		// Idempotent.
		if r := e.sweep(); r != (cardpay.SweepResult{}) {
			t.Fatalf("second sweep %+v", r)
		}
		// The operator settles it.
		if _, err := e.payer.Resolve(e.ctx, shopID, p.ID, cardpay.ResolveInput{Outcome: "failed"}); err != nil {
			t.Fatal(err)
		}
		e.mustPay(e.getOrder(o.ID), e.tok(visaOK))
	})
}

// TestSweepInterruptedFollowUp: a follow-up cut off mid-call leaves the
// attempt unknown but the payment's state stands (its history decides).
func TestSweepInterruptedFollowUp(t *testing.T) {
	t.Parallel()
	const stale = 2 * time.Minute
	e := newEnv(t, withCard("operation", "1Auth"), withPayer(func(c *cardpay.Config) { c.StaleAfter = stale }))
	p := e.mustPay(e.order(3000), e.tok(visaOK)).Payment
	now := e.clock.Now()
	a := &kessai.Attempt{ID: kessai.NewID("att", now), ShopID: shopID, PaymentID: p.ID, Operation: escott.OpCapture,
		MerchantFree1: p.TransactionCode, Status: kessai.AttemptPending, CreatedAt: now}
	if err := e.store.CreateAttempt(e.ctx, a); err != nil {
		t.Fatal(err)
	}
	// While it is pending a second capture cannot start.
	_, err := e.payer.Operate(e.ctx, shopID, p.ID, escott.OpCapture, 0)
	wantErr(t, err, kessai.KindConflict, "payment_in_progress")
	e.clock.Advance(stale - 10*time.Second)
	if r := e.sweep(); r.Unknown != 0 {
		t.Fatalf("swept before StaleAfter: %+v", r)
	}
	e.clock.Advance(20 * time.Second)
	if r := e.sweep(); r.Unknown != 1 {
		t.Fatalf("sweep %+v", r)
	}
	wantState(t, e.getPayment(p.ID), kessai.PaymentAuthorized)
	if _, err := e.payer.Operate(e.ctx, shopID, p.ID, escott.OpCapture, 0); err != nil {
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

	e.clock.Advance(cardpay.DefaultStaleAfter + time.Minute) // stale, but the session is open
	if r := e.sweep(); r != (cardpay.SweepResult{}) {
		t.Fatalf("open session swept: %+v", r)
	}
	wantState(t, e.getPayment(res.Payment.ID), kessai.PaymentNew)

	e.clock.Advance(cardpay.DefaultSessionTTL + cardpay.DefaultStaleAfter)
	if r := e.sweep(); r.Abandoned != 1 || r.Unknown != 0 {
		t.Fatalf("sweep %+v", r)
	}
	p := e.getPayment(res.Payment.ID)
	wantState(t, p, kessai.PaymentFailed)
	if !slices.Equal(p.FailureCodes, []string{"abandoned"}) {
		t.Fatalf("failure codes %v", p.FailureCodes)
	}
	wantStatus(t, e.getOrder(o.ID), kessai.OrderPending)
	if evs := e.eventsAbout(p.ID); !slices.Equal(evs, []string{kessai.EventPaymentFailed}) {
		t.Fatalf("events %v", evs)
	}
	action, ev := autoSubmitted(t, page)
	if r := e.browse(http.MethodPost, action, url.Values{"EncryptValue": {ev}}); r.status != http.StatusConflict {
		t.Fatalf("late return: HTTP %d", r.status)
	}
	if n := len(e.simTxns()); n != 0 {
		t.Fatalf("%d transactions", n)
	}
	// The shopper starts again.
	res = e.startThreeDS(e.getOrder(o.ID), e.threeDSIn(threeDSOK))
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

	e.clock.Advance(10 * time.Minute)
	if r := e.sweep(); r != (cardpay.SweepResult{}) {
		t.Fatalf("open link session swept: %+v", r)
	}
	e.clock.Advance(cardpay.DefaultSessionTTL + cardpay.DefaultStaleAfter)
	if r := e.sweep(); r.Unknown != 1 {
		t.Fatalf("sweep %+v", r)
	}
	p := e.getPayment(res.Payment.ID)
	wantState(t, p, kessai.PaymentUnknown)
	wantStatus(t, e.getOrder(o.ID), kessai.OrderPending)
	// The late return cannot settle it any more; the operator does, with
	// the handle from the console.
	action, ev := autoSubmitted(t, page)
	r := e.browse(http.MethodPost, action, url.Values{"EncryptValue": {ev}})
	if r.status != http.StatusConflict || !strings.Contains(r.body, "return_session_expired") {
		t.Fatalf("late return: HTTP %d\n%s", r.status, r.body)
	}
	tx := e.oneSimTxn(o.ID)
	if tx.MerchantFree1 != p.TransactionCode {
		t.Fatalf("the unknown payment's code %s is not the gateway's %s", p.TransactionCode, tx.MerchantFree1)
	}
	if _, err := e.payer.Resolve(e.ctx, shopID, p.ID, cardpay.ResolveInput{Outcome: "succeeded", ProcessID: tx.ProcessID, ProcessPass: tx.ProcessPass}); err != nil {
		t.Fatal(err)
	}
	wantState(t, e.getPayment(p.ID), kessai.PaymentCaptured)
	wantStatus(t, e.getOrder(o.ID), kessai.OrderProcessing)
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
	action, ev := autoSubmitted(t, e.payOnLinkPage(e.open(res.NextAction), visaOK))
	r := e.browse(http.MethodPost, action, url.Values{"EncryptValue": {ev}})
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.loc, e.simURL) {
		t.Fatalf("first hop return: HTTP %d %s", r.status, r.loc)
	}
	if g := e.browse(http.MethodGet, r.loc, nil); g.status != http.StatusOK {
		t.Fatalf("second hop: HTTP %d", g.status)
	}
	tx := e.oneSimTxn(o.ID) // paid; the browser never posts the answer back
	e.clock.Advance(cardpay.DefaultSessionTTL + cardpay.DefaultStaleAfter + time.Minute)
	if r := e.sweep(); r.Unknown != 1 {
		t.Fatalf("sweep %+v", r)
	}
	p := e.getPayment(res.Payment.ID)
	wantState(t, p, kessai.PaymentUnknown)
	if p.TransactionCode != tx.MerchantFree1 {
		t.Errorf("unknown payment carries MerchantFree1 %s; the gateway's transaction has %s", p.TransactionCode, tx.MerchantFree1)
	}
}
