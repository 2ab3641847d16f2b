package cvspay_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/cvspay"
	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/escott/sim"
	"github.com/kessai/kessai/internal/paytest"
	"github.com/kessai/kessai/internal/testdb"
)

// TestPayAtEveryStore pays a collection at every channel the simulator's
// agent page offers (CVS-14: stores, Pay-easy, net banks, e-money); the
// notification, confirmed with 2Ref, marks it paid and the order
// processing (NOTIFY-02, CVS-10, A-09).
func TestPayAtEveryStore(t *testing.T) {
	testdb.Run(t, func(t *testing.T, b testdb.Backend) {
		e := newEnv(t, onDB(b))
		for _, cvs := range escott.CvsCodes {
			t.Run(cvs, func(t *testing.T) {
				o := e.order(1500)
				res := e.register(o)
				refs := e.Calls.Count(escott.OpCvsRef)
				e.payAt(res.NextAction.URL, cvs)

				pay := e.GetPayment(res.Payment.ID)
				paytest.WantState(t, pay, kessai.PaymentPaid)
				sc := e.simCollection(pay.TransactionCode)
				nyukin, _ := escott.ParseNyukinDate(sc.NyukinDate)
				if pay.CvsCd != cvs || pay.Amount != 1500 || !pay.PaidAt.Equal(nyukin) || len(pay.FailureCodes) != 0 {
					t.Fatalf("paid payment %+v (gateway %+v)", pay, sc)
				}
				paytest.WantStatus(t, e.GetOrder(o.ID), kessai.OrderProcessing)
				wantList(t, "history", e.ops(pay.ID), []string{"2Add:OK", "paid:OK"})
				h := e.History(pay.ID)[1]
				if h.Fields["CvsCd"] != cvs || h.Fields["RecvNum"] != sc.RecvNum || h.Fields["Source"] != "notification" ||
					h.Fields["Notification.RecvNum"] != sc.RecvNum || h.TransactionID != sc.PaidTransactionID || h.Amount != 1500 {
					t.Fatalf("paid row %+v", h)
				}
				wantList(t, "payment events", e.EventsAbout(pay.ID), []string{kessai.EventPaymentPending, kessai.EventPaymentPaid})
				wantList(t, "order events", e.EventsAbout(o.ID), []string{kessai.EventOrderCreated, kessai.EventOrderUpdated, kessai.EventOrderUpdated})
				if n := e.Calls.Count(escott.OpCvsRef) - refs; n != 1 {
					t.Fatalf("%d 2Ref calls to confirm one notification", n)
				}
				// The operator's view: paid, no buttons (ADMIN-12).
				v, err := e.col.Reference(e.Ctx, shopID, pay.ID)
				if err != nil {
					t.Fatal(err)
				}
				if v.State.LabelJa != "入金済" || len(v.Operations) != 0 || v.Gateway == nil || !v.Gateway.Paid ||
					v.Gateway.CvsCd != cvs || v.Gateway.CvsName != escott.CvsName(cvs) || v.Collection != nil {
					t.Fatalf("view %+v gateway %+v", v.State, v.Gateway)
				}
			})
		}
	})
}

// TestOrderStatusAfterPaid is CVS-10 / SET-17: processing, or completed
// when the shop chose 完了 and every item is virtual (the fee line does not
// count).
func TestOrderStatusAfterPaid(t *testing.T) {
	testdb.Run(t, func(t *testing.T, b testdb.Backend) {
		e := newEnv(t, onDB(b), withCollection("fee_enabled", true, "fee_rows", manualFeeTable))
		for _, c := range []struct {
			name      string
			completed bool
			virtual   []bool
			want      kessai.OrderStatus
		}{
			{"processing setting, virtual", false, []bool{true}, kessai.OrderProcessing},
			{"completed setting, virtual", true, []bool{true, true}, kessai.OrderCompleted},
			{"completed setting, mixed", true, []bool{true, false}, kessai.OrderProcessing},
			{"completed setting, physical", true, []bool{false}, kessai.OrderProcessing},
		} {
			t.Run(c.name, func(t *testing.T) {
				status := kessai.OrderProcessing
				if c.completed {
					status = kessai.OrderCompleted
				}
				e.collection("completed_status", string(status))
				o := e.order(3000, items(c.virtual...))
				res := e.register(o) // with a 330 yen fee line, itself virtual
				e.payAt(res.NextAction.URL, "FAM")
				paytest.WantStatus(t, e.GetOrder(o.ID), c.want)
			})
		}
	})
}

// validNotification is what the gateway would send for a payment of pay.
func validNotification(pay *kessai.Payment) url.Values {
	return url.Values{"MerchantId": {paytest.DemoID}, "TransactionId": {"1000000000999"}, "RecvNum": {"123456789012"},
		"NyukinDate": {"20260401120000"}, "MerchantFree1": {pay.TransactionCode}, "MerchantFree2": {pay.OrderID},
		"CvsCd": {"SEV"}}
}

// TestNotificationDuplicates: a notification delivered twice, replayed
// later, or replayed many times at once is applied exactly once (NOTIFY-02,
//
func TestNotificationDuplicates(t *testing.T) {
	testdb.Run(t, func(t *testing.T, b testdb.Backend) {
		e := newEnv(t, onDB(b))
		o := e.order(2000)
		res := e.register(o)
		e.Sim.AddFault(sim.Fault{Kind: sim.FaultDuplicateNotification, Times: 1})
		e.payAt(res.NextAction.URL, "SEV")
		if ns := e.Sim.Notifications(); len(ns) != 2 || !ns[0].Delivered || !ns[1].Delivered {
			t.Fatalf("notifications %+v", ns)
		}
		pay := e.GetPayment(res.Payment.ID)
		paytest.WantState(t, pay, kessai.PaymentPaid)
		check := func() {
			t.Helper()
			wantList(t, "history", e.ops(pay.ID), []string{"2Add:OK", "paid:OK"})
			wantList(t, "payment events", e.EventsAbout(pay.ID), []string{kessai.EventPaymentPending, kessai.EventPaymentPaid})
			paytest.WantStatus(t, e.GetOrder(o.ID), kessai.OrderProcessing)
		}
		check()

		// A replay later (through the receiver): nothing changes and the
		// gateway is not even asked.
		refs := e.Calls.Count(escott.OpCvsRef)
		fields := e.lastNotification()
		e.notify(fields)
		check()
		// Many at once.
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				n, err := escott.ParseNotification(fields)
				if err != nil {
					t.Error(err)
					return
				}
				if err := e.col.Notify(e.Ctx, shopID, n); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		check()
		if n := e.Calls.Count(escott.OpCvsRef) - refs; n != 0 {
			t.Fatalf("%d 2Ref calls for replays of an applied notification", n)
		}
	})
}

// TestNotificationConcurrentFirst: copies of one notification arriving
// together before any is applied each ask 2Ref, and the state check in
// one transaction lets exactly one apply.
func TestNotificationConcurrentFirst(t *testing.T) {
	testdb.Run(t, func(t *testing.T, b testdb.Backend) {
		e := newEnv(t, onDB(b))
		testdb.WarmPool(t, e.Store, 6)
		o := e.order(2000)
		res := e.register(o)
		e.Sim.AddFault(sim.Fault{Kind: sim.FaultDropNotification, Times: 1})
		e.payAt(res.NextAction.URL, "SEV") // paid at the gateway, notification lost
		n, err := escott.ParseNotification(e.lastNotification())
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for range 6 {
			wg.Go(func() {
				if err := e.col.Notify(e.Ctx, shopID, n); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		pay := e.GetPayment(res.Payment.ID)
		paytest.WantState(t, pay, kessai.PaymentPaid)
		wantList(t, "history", e.ops(pay.ID), []string{"2Add:OK", "paid:OK"})
		wantList(t, "payment events", e.EventsAbout(pay.ID), []string{kessai.EventPaymentPending, kessai.EventPaymentPaid})
		if got := count(e.EventsAbout(o.ID), kessai.EventOrderUpdated); got != 2 {
			t.Fatalf("%d order.updated events", got)
		}
	})
}

// TestNotificationForged: notifications that do not match a collection of
// ours, or that the gateway does not confirm, are refused and change
// nothing; the receiver still answers 200 (NOTIFY-02, A-09).
func TestNotificationForged(t *testing.T) {
	testdb.Run(t, func(t *testing.T, b testdb.Backend) {
		e := newEnv(t, onDB(b))
		o := e.order(2000)
		res := e.register(o)
		pay := res.Payment
		other := e.register(e.order(500)).Payment
		for _, c := range []struct {
			name string
			edit func(url.Values)
		}{
			{"other merchant", func(v url.Values) { v.Set("MerchantId", "030000999") }},
			{"unknown transaction code", func(v url.Values) { v.Set("MerchantFree1", "000000000001") }},
			{"malformed transaction code", func(v url.Values) { v.Set("MerchantFree1", "' OR 1=1 --") }},
			{"other order", func(v url.Values) { v.Set("MerchantFree2", other.OrderID) }},
			{"unknown order", func(v url.Values) { v.Set("MerchantFree2", "ord_nonexistent") }},
			{"not paid at the gateway", func(url.Values) {}},
			{"another collection's code and order, not paid", func(v url.Values) {
				v.Set("MerchantFree1", other.TransactionCode)
				v.Set("MerchantFree2", other.OrderID)
			}},
		} {
			t.Run(c.name, func(t *testing.T) {
				fields := validNotification(pay)
				c.edit(fields)
				n, err := escott.ParseNotification(fields)
				if err != nil {
					t.Fatal(err)
				}
				err = e.col.Notify(e.Ctx, shopID, n)
				wantErr(t, err, kessai.KindInvalid, cvspay.CodeNotificationRejected)
				e.notify(fields) // through the receiver: 200, empty body
				for _, p := range []*kessai.Payment{pay, other} {
					paytest.WantState(t, e.GetPayment(p.ID), kessai.PaymentPending)
					wantList(t, "history", e.ops(p.ID), []string{"2Add:OK"})
					paytest.WantStatus(t, e.GetOrder(p.OrderID), kessai.OrderOnHold)
				}
			})
		}
		for _, ev := range e.Events() {
			if ev == kessai.EventPaymentPaid {
				t.Fatal("a forged notification produced payment.paid")
			}
		}
		// The ones 2Ref answered "unpaid" are asked about once more by the
		// next sweep (in case the gateway's reference lagged), then left.
		refs := e.Calls.Count(escott.OpCvsRef)
		if out, err := e.col.Sweep(e.Ctx, shopID); err != nil || out != (cvspay.SweepResult{}) {
			t.Fatalf("sweep %+v %v", out, err)
		}
		if n := e.Calls.Count(escott.OpCvsRef) - refs; n != 2 {
			t.Fatalf("%d re-checks, want one per collection", n)
		}
		for _, p := range []*kessai.Payment{pay, other} {
			if got := e.GetPayment(p.ID); got.State != kessai.PaymentPending || len(got.FailureCodes) != 0 {
				t.Fatalf("after the re-check %+v", got)
			}
		}
		if out, _ := e.col.Sweep(e.Ctx, shopID); out != (cvspay.SweepResult{}) || e.Calls.Count(escott.OpCvsRef)-refs != 2 {
			t.Fatal("a second sweep asked again")
		}
		// The real payment is still recognised.
		e.payAt(res.NextAction.URL, "LSN")
		paytest.WantState(t, e.GetPayment(pay.ID), kessai.PaymentPaid)
		paytest.WantState(t, e.GetPayment(other.ID), kessai.PaymentPending)
	})
}

// TestNotificationLost: a notification that never arrives is made up for by
// the operator's reference (ADMIN-12), with the SET-17 status; the
// lost notification arriving late afterwards is harmless.
func TestNotificationLost(t *testing.T) {
	testdb.Run(t, func(t *testing.T, b testdb.Backend) {
		e := newEnv(t, onDB(b), withCollection("completed_status", "completed"))
		o := e.order(2000, items(true))
		res := e.register(o)
		e.Sim.AddFault(sim.Fault{Kind: sim.FaultDropNotification, Times: 1})
		e.payAt(res.NextAction.URL, "EDY")
		pay := e.GetPayment(res.Payment.ID)
		paytest.WantState(t, pay, kessai.PaymentPending) // nothing arrived

		v, err := e.col.Reference(e.Ctx, shopID, pay.ID)
		if err != nil {
			t.Fatal(err)
		}
		if v.State.Kind != kessai.PaymentPaid || !v.Gateway.Paid || v.Gateway.CvsName != "Edy" || v.Gateway.RecvNum == "" {
			t.Fatalf("reference %+v %+v", v.State, v.Gateway)
		}
		paytest.WantStatus(t, e.GetOrder(o.ID), kessai.OrderCompleted) // SET-17 applies here too
		h := e.History(pay.ID)
		if len(h) != 2 || h[1].Operation != "paid" || h[1].Fields["Source"] != "reference" || h[1].Fields["CvsCd"] != "EDY" {
			t.Fatalf("history %+v", h)
		}
		e.notify(e.lastNotification()) // the late copy
		wantList(t, "history", e.ops(pay.ID), []string{"2Add:OK", "paid:OK"})
		wantList(t, "payment events", e.EventsAbout(pay.ID), []string{kessai.EventPaymentPending, kessai.EventPaymentPaid})
	})
}

// TestNotificationUnconfirmed: when the confirming 2Ref gets no answer the
// notification cannot be believed yet; the collection is marked and the
// sweep asks again (A-09; the receiver's 200 means the gateway will not).
func TestNotificationUnconfirmed(t *testing.T) {
	testdb.Run(t, func(t *testing.T, b testdb.Backend) {
		e := newEnv(t, onDB(b))
		o := e.order(2000)
		res := e.register(o)
		e.Sim.AddFault(sim.Fault{Op: escott.OpCvsRef, Kind: sim.FaultEmptyBody, Times: 1})
		e.payAt(res.NextAction.URL, "ATM")
		pay := e.GetPayment(res.Payment.ID)
		paytest.WantState(t, pay, kessai.PaymentPending)
		if len(pay.FailureCodes) != 1 || pay.FailureCodes[0] != "notification_unconfirmed" {
			t.Fatalf("mark %v", pay.FailureCodes)
		}
		out, err := e.col.Sweep(e.Ctx, shopID)
		if err != nil {
			t.Fatal(err)
		}
		if out.Paid != 1 || out.Expired != 0 {
			t.Fatalf("sweep %+v", out)
		}
		pay = e.GetPayment(pay.ID)
		paytest.WantState(t, pay, kessai.PaymentPaid)
		if len(pay.FailureCodes) != 0 || pay.CvsCd != "ATM" {
			t.Fatalf("paid %+v", pay)
		}
		paytest.WantStatus(t, e.GetOrder(o.ID), kessai.OrderProcessing)
		if out, err := e.col.Sweep(e.Ctx, shopID); err != nil || out != (cvspay.SweepResult{}) {
			t.Fatalf("second sweep %+v %v", out, err)
		}
	})
}

// TestNotificationRefusedReference: the confirming 2Ref is refused with an
// error code — found by the chaos suite, where such a notification used to
// be refused for good and the paid collection stayed unpaid (the gateway is
// answered 200 and does not send it again). An error says nothing about the
// payment, so the collection is marked for a re-check like a lost answer.
// A temporary code (C02 system error, U95) keeps the mark for as long as
// the gateway keeps failing; any other code gets one more 2Ref, then the
// mark goes (a collection is never asked about without end) (NOTIFY-02,
// A-09, CVS-10).
func TestNotificationRefusedReference(t *testing.T) {
	tests := []struct {
		code string
		// errors is how many 2Refs the gateway refuses.
		errors int
		// the first sweep: deferred (mark kept) or paid; false for both
		// means the mark was dropped.
		deferred, paidAtFirstSweep bool
	}{
		{code: "C02", errors: 2, deferred: true},
		{code: "U95", errors: 2, deferred: true},
		{code: "G12", errors: 1, paidAtFirstSweep: true},
		{code: "G12", errors: 2},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s×%d", tc.code, tc.errors), func(t *testing.T) {
			e := newEnv(t)
			o := e.order(2000)
			res := e.register(o)
			e.Sim.AddFault(sim.Fault{Op: escott.OpCvsRef, Kind: sim.FaultResponseCode, ResponseCd: tc.code, Times: tc.errors})
			e.payAt(res.NextAction.URL, "SEV")
			pay := e.GetPayment(res.Payment.ID)
			paytest.WantState(t, pay, kessai.PaymentPending)
			if len(pay.FailureCodes) != 1 || pay.FailureCodes[0] != "notification_unconfirmed" {
				t.Fatalf("mark %v", pay.FailureCodes)
			}
			out, err := e.col.Sweep(e.Ctx, shopID)
			if err != nil {
				t.Fatal(err)
			}
			pay = e.GetPayment(pay.ID)
			switch {
			case tc.deferred:
				if out.Deferred != 1 || out.Paid != 0 || len(pay.FailureCodes) != 1 {
					t.Fatalf("the mark must stay while the gateway fails: %+v %v", out, pay.FailureCodes)
				}
				if out, err = e.col.Sweep(e.Ctx, shopID); err != nil || out.Paid != 1 {
					t.Fatalf("sweep after the outage %+v %v", out, err)
				}
			case tc.paidAtFirstSweep:
				if out.Paid != 1 {
					t.Fatalf("sweep %+v", out)
				}
			default:
				if out.Paid != 0 || out.Deferred != 0 || len(pay.FailureCodes) != 0 {
					t.Fatalf("the mark must go after one more refusal: %+v %v", out, pay.FailureCodes)
				}
				paytest.WantState(t, pay, kessai.PaymentPending)
				calls := e.Sim.CallStats().Served
				if out, err := e.col.Sweep(e.Ctx, shopID); err != nil || out != (cvspay.SweepResult{}) || e.Sim.CallStats().Served != calls {
					t.Fatalf("asked again without a mark: %+v %v", out, err)
				}
				return
			}
			pay = e.GetPayment(pay.ID)
			paytest.WantState(t, pay, kessai.PaymentPaid)
			if len(pay.FailureCodes) != 0 || pay.CvsCd != "SEV" {
				t.Fatalf("paid %+v", pay)
			}
			wantList(t, "payment events", e.EventsAbout(pay.ID), []string{kessai.EventPaymentPending, kessai.EventPaymentPaid})
		})
	}
}

// TestLateNotificationAfterExpiry: the expiry check ran (2Ref unpaid, the
// collection expired, the order cancelled as the shop chose), then the
// gateway reports a payment made before the due date. The money was
// received: the payment is recorded and the order that the expiry
// cancelled is reopened (A-07, A-09, out-of-order events).
func TestLateNotificationAfterExpiry(t *testing.T) {
	testdb.Run(t, func(t *testing.T, b testdb.Backend) {
		e := newEnv(t, onDB(b), withCollection("expire_cancels_order", true))
		o := e.order(2000)
		res := e.register(o)
		// kessai's clock runs past the due date; the gateway's stays just
		// before it (its payment report is late).
		e.Clock.Advance(8 * 24 * time.Hour)
		out, err := e.col.Expire(e.Ctx, shopID, e.Clock.Now())
		if err != nil || out.Expired != 1 || out.OrdersCancelled != 1 {
			t.Fatalf("expire %+v %v", out, err)
		}
		paytest.WantState(t, e.GetPayment(res.Payment.ID), kessai.PaymentExpired)
		paytest.WantStatus(t, e.GetOrder(o.ID), kessai.OrderCancelled)

		e.payAt(res.NextAction.URL, "MNS")
		pay := e.GetPayment(res.Payment.ID)
		paytest.WantState(t, pay, kessai.PaymentPaid)
		paytest.WantStatus(t, e.GetOrder(o.ID), kessai.OrderProcessing)
		wantList(t, "history", e.ops(pay.ID), []string{"2Add:OK", "expired:OK", "paid:OK"})
		wantList(t, "payment events", e.EventsAbout(pay.ID),
			[]string{kessai.EventPaymentPending, kessai.EventPaymentExpired, kessai.EventPaymentPaid})
	})
}

// TestLateNotificationOperatorCancelled: an order the operator cancelled
// (not the expiry) is not reopened by a payment; the payment is recorded
// and the shop is told (payment.paid) to ship or refund.
func TestLateNotificationOperatorCancelled(t *testing.T) {
	e := newEnv(t)
	o := e.order(2000)
	res := e.register(o)
	if _, err := e.Store.SetOrderStatus(e.Ctx, shopID, o.ID, nil, kessai.OrderCancelled, e.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	e.payAt(res.NextAction.URL, "SEV")
	paytest.WantState(t, e.GetPayment(res.Payment.ID), kessai.PaymentPaid)
	paytest.WantStatus(t, e.GetOrder(o.ID), kessai.OrderCancelled)
	var ev struct {
		State   string `json:"state"`
		OrderID string `json:"order_id"`
	}
	if err := json.Unmarshal(e.lastEvent(kessai.EventPaymentPaid, res.Payment.ID), &ev); err != nil || ev.State != "paid" || ev.OrderID != o.ID {
		t.Fatalf("payment.paid %+v %v", ev, err)
	}
}

// TestLatePaymentWithAnotherPayment: a late payment of an expired
// collection while the order meanwhile has another active payment. The
// store allows one active payment per order, so the expired payment keeps
// its stored state, but the money is recorded — the 入金 row (the derived
// state says paid) and payment.paid — exactly once, and logged for the
// operator: the shopper may have paid twice.
func TestLatePaymentWithAnotherPayment(t *testing.T) {
	testdb.Run(t, func(t *testing.T, b testdb.Backend) {
		e := newEnv(t, onDB(b))
		o := e.order(2000)
		res := e.register(o)
		e.Clock.Advance(8 * 24 * time.Hour)
		if out, err := e.col.Expire(e.Ctx, shopID, e.Clock.Now()); err != nil || out.Expired != 1 {
			t.Fatalf("expire %+v %v", out, err)
		}
		now := e.Clock.Now()
		card := &kessai.Payment{ID: kessai.NewID("pay", now), ShopID: shopID, OrderID: o.ID, Method: kessai.MethodCard,
			State: kessai.PaymentCaptured, Amount: 2000, Currency: "JPY", TransactionCode: "000000000777", CreatedAt: now, UpdatedAt: now}
		if err := e.Store.CreatePayment(e.Ctx, card); err != nil {
			t.Fatal(err)
		}
		e.payAt(res.NextAction.URL, "SEV")
		e.notify(e.lastNotification()) // and a duplicate
		pay := e.GetPayment(res.Payment.ID)
		paytest.WantState(t, pay, kessai.PaymentExpired)
		if e.state(pay.ID).Kind != kessai.PaymentPaid || pay.CvsCd != "SEV" {
			t.Fatalf("derived %s, payment %+v", e.state(pay.ID).Kind, pay)
		}
		wantList(t, "history", e.ops(pay.ID), []string{"2Add:OK", "expired:OK", "paid:OK"})
		wantList(t, "payment events", e.EventsAbout(pay.ID),
			[]string{kessai.EventPaymentPending, kessai.EventPaymentExpired, kessai.EventPaymentPaid})
	})
}
