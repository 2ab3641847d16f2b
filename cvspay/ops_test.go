package cvspay_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/card"
	"github.com/kessai/kessai/cvspay"
	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/escott/sim"
	"github.com/kessai/kessai/internal/paytest"
	"github.com/kessai/kessai/internal/testdb"
)

var (
	opsUnpaid        = []escott.OperateID{escott.OpCvsDel, escott.OpCvsChg}
	opsUnpaidChanged = []escott.OperateID{escott.OpCvsDel}
)

// TestChange is ADMIN-13: the due date and amount change once; the
// payment link changes (the old one stops working), the shop is told with
// payment.pending (new details) and payment.amount_changed; a second change
// is refused before reaching the gateway; the new link pays.
func TestChange(t *testing.T) {
	testdb.Run(t, func(t *testing.T, b testdb.Backend) {
		e := newEnv(t, onDB(b))
		o := e.order(2000)
		res := e.register(o)
		pay := res.Payment
		v, err := e.col.Get(e.Ctx, shopID, pay.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(v.Operations, opsUnpaid) || v.State.LabelJa != "未入金" || v.Collection == nil {
			t.Fatalf("view before: %+v %v", v.State, v.Operations)
		}
		// Nothing changed: a no-op, no gateway call (ADMIN-13).
		calls := e.Calls.Count("")
		v, err = e.col.Change(e.Ctx, shopID, pay.ID, cvspay.ChangeInput{DueDate: "20260408", Amount: 2000})
		if err != nil || !v.Noop || e.Calls.Count("") != calls {
			t.Fatalf("no-op change: %+v %v", v, err)
		}
		// Bad input, all at once.
		_, err = e.col.Change(e.Ctx, shopID, pay.ID, cvspay.ChangeInput{DueDate: "20260331", Amount: -5})
		var ve kessai.ValidationErrors
		if !asValidation(err, &ve) || len(ve) != 2 {
			t.Fatalf("invalid change: %v", err)
		}

		v, err = e.col.Change(e.Ctx, shopID, pay.ID, cvspay.ChangeInput{DueDate: "2026-04-20", Amount: 2500})
		if err != nil {
			t.Fatal(err)
		}
		got := e.GetPayment(pay.ID)
		if got.PayLimit != "202604202359" || got.Amount != 2500 || got.FreeArea == pay.FreeArea || got.State != kessai.PaymentPending {
			t.Fatalf("changed payment %+v", got)
		}
		sc := e.simCollection(pay.TransactionCode)
		if !sc.Changed || sc.FreeArea != got.FreeArea || sc.PayLimit != "202604202359" || sc.Amount != 2500 {
			t.Fatalf("gateway after change %+v", sc)
		}
		if !v.State.Changed || !slices.Equal(v.Operations, opsUnpaidChanged) || !strings.Contains(v.Collection.PaymentURL, got.FreeArea) {
			t.Fatalf("view after change %+v %v", v.State, v.Operations)
		}
		h := e.History(pay.ID)
		if len(h) != 2 || h[1].Operation != escott.OpCvsChg || h[1].Fields["PayLimit"] != "202604202359" || h[1].Fields["Amount"] != "2500" {
			t.Fatalf("history %+v", h)
		}
		wantList(t, "payment events", e.EventsAbout(pay.ID),
			[]string{kessai.EventPaymentPending, kessai.EventPaymentPending, kessai.EventPaymentAmountChanged})
		var ev struct {
			Collection cvspay.Details `json:"collection"`
		}
		if err := json.Unmarshal(e.lastEvent(kessai.EventPaymentPending, pay.ID), &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Collection.PaymentURL != v.Collection.PaymentURL || ev.Collection.Amount != 2500 || ev.Collection.Due != "2026年4月20日 23:59" {
			t.Fatalf("payment.pending after the change: %+v", ev.Collection)
		}
		paytest.WantStatus(t, e.GetOrder(o.ID), kessai.OrderOnHold) // the order total is not changed (ADMIN-17)
		if e.GetOrder(o.ID).Amount != 2000 {
			t.Fatal("the change touched the order total")
		}

		// The old link no longer pays (the payment number changed).
		if code := e.getAgent(res.NextAction.URL); code != http.StatusGone {
			t.Fatalf("old link: HTTP %d", code)
		}
		// A second change is refused here, before the gateway (ADMIN-13).
		calls = e.Calls.Count("")
		_, err = e.col.Change(e.Ctx, shopID, pay.ID, cvspay.ChangeInput{DueDate: "20260425"})
		wantErr(t, err, kessai.KindConflict, card.CodeAlreadyChanged)
		if e.Calls.Count("") != calls {
			t.Fatal("a second change reached the gateway")
		}
		// The new link pays.
		e.payAt(v.Collection.PaymentURL, "SEV")
		got = e.GetPayment(pay.ID)
		paytest.WantState(t, got, kessai.PaymentPaid)
		if got.Amount != 2500 {
			t.Fatalf("paid amount %d", got.Amount)
		}
	})
}

// TestChangeAfterPayment: no change or cancel after payment (ADMIN-13/14,
// [MANUAL]). Recorded as paid: refused from the state, without a gateway
// call. Paid at the gateway but not yet notified: the gateway refuses
// (K14), the payment is recorded at once by a 2Ref, and the operator is
// told it was paid.
func TestChangeAfterPayment(t *testing.T) {
	testdb.Run(t, func(t *testing.T, b testdb.Backend) {
		e := newEnv(t, onDB(b))
		res := e.register(e.order(2000))
		e.payAt(res.NextAction.URL, "SEV")
		calls := e.Calls.Count("")
		_, err := e.col.Change(e.Ctx, shopID, res.Payment.ID, cvspay.ChangeInput{Amount: 3000})
		wantErr(t, err, kessai.KindConflict, card.CodeOperationNotAllowed)
		_, err = e.col.Cancel(e.Ctx, shopID, res.Payment.ID)
		wantErr(t, err, kessai.KindConflict, card.CodeOperationNotAllowed)
		if e.Calls.Count("") != calls {
			t.Fatal("a refused operation reached the gateway")
		}

		for _, op := range []string{"change", "cancel"} {
			t.Run(op+" before the notification", func(t *testing.T) {
				o := e.order(2000)
				res := e.register(o)
				e.Sim.AddFault(sim.Fault{Kind: sim.FaultDropNotification, Times: 1})
				e.payAt(res.NextAction.URL, "LSN")
				paytest.WantState(t, e.GetPayment(res.Payment.ID), kessai.PaymentPending)
				var err error
				if op == "change" {
					_, err = e.col.Change(e.Ctx, shopID, res.Payment.ID, cvspay.ChangeInput{DueDate: "20260410"})
				} else {
					_, err = e.col.Cancel(e.Ctx, shopID, res.Payment.ID)
				}
				f := wantFailure(t, err, kessai.KindConflict, card.CodeOperationNotAllowed)
				if !slices.Contains(f.Codes, "K14") || !strings.Contains(f.Err.Ja, "入金済み") {
					t.Fatalf("failure %+v %+v", f, f.Err)
				}
				paytest.WantState(t, e.GetPayment(res.Payment.ID), kessai.PaymentPaid)
				paytest.WantStatus(t, e.GetOrder(o.ID), kessai.OrderProcessing)
				want := "2Chg:K14"
				if op == "cancel" {
					want = "2Del:K14"
				}
				wantList(t, "history", e.ops(res.Payment.ID), []string{"2Add:OK", want, "paid:OK"})
			})
		}
	})
}

// TestCancel is ADMIN-14: 2Del is final; the shopper can no longer pay;
// the order status is not changed; a reference then shows 取消済み (K12);
// a second cancel, a change and a re-registration are refused.
func TestCancel(t *testing.T) {
	testdb.Run(t, func(t *testing.T, b testdb.Backend) {
		e := newEnv(t, onDB(b))
		o := e.order(2000)
		res := e.register(o)
		v, err := e.col.Cancel(e.Ctx, shopID, res.Payment.ID)
		if err != nil {
			t.Fatal(err)
		}
		if v.State.Kind != kessai.PaymentCancelled || v.State.LabelJa != "取消済み" || len(v.Operations) != 0 || v.Collection != nil {
			t.Fatalf("view %+v %v", v.State, v.Operations)
		}
		paytest.WantState(t, e.GetPayment(res.Payment.ID), kessai.PaymentCancelled)
		paytest.WantStatus(t, e.GetOrder(o.ID), kessai.OrderOnHold)
		if sc := e.simCollection(res.Payment.TransactionCode); sc.Status != "DELETED" {
			t.Fatalf("gateway status %s", sc.Status)
		}
		wantList(t, "payment events", e.EventsAbout(res.Payment.ID), []string{kessai.EventPaymentPending, kessai.EventPaymentCanceled})
		if code := e.postAgent(res.NextAction.URL, "SEV"); code != http.StatusGone {
			t.Fatalf("paying a cancelled collection: HTTP %d", code)
		}

		v, err = e.col.Reference(e.Ctx, shopID, res.Payment.ID)
		if err != nil {
			t.Fatal(err)
		}
		if v.State.LabelJa != "取消済み" || v.Gateway == nil || !slices.Contains(v.Gateway.Codes, "K12") {
			t.Fatalf("reference after cancel %+v %+v", v.State, v.Gateway)
		}
		wantList(t, "history", e.ops(res.Payment.ID), []string{"2Add:OK", "2Del:OK"}) // K12 after our own 2Del is not news

		_, err = e.col.Cancel(e.Ctx, shopID, res.Payment.ID)
		wantErr(t, err, kessai.KindConflict, card.CodeOperationNotAllowed)
		_, err = e.col.Change(e.Ctx, shopID, res.Payment.ID, cvspay.ChangeInput{DueDate: "20260410"})
		wantErr(t, err, kessai.KindConflict, card.CodeOperationNotAllowed)
		_, err = e.col.RegisterFromAdmin(e.Ctx, shopID, o.ID, cvspay.AdminRegisterInput{})
		wantErr(t, err, kessai.KindConflict, card.CodeTransactionExists)
		_, err = e.col.Register(e.Ctx, shopID, o.ID, cvspay.RegisterInput{})
		wantErr(t, err, kessai.KindConflict, "order_not_payable")
		// A forged notification for the cancelled collection is refused
		// (2Ref answers K12).
		err = e.col.Notify(e.Ctx, shopID, &escott.Notification{MerchantID: paytest.DemoID, TransactionID: "1", RecvNum: "1",
			NyukinDate: "20260401120000", MerchantFree1: res.Payment.TransactionCode, MerchantFree2: o.ID})
		wantErr(t, err, kessai.KindInvalid, cvspay.CodeNotificationRejected)
		paytest.WantState(t, e.GetPayment(res.Payment.ID), kessai.PaymentCancelled)
	})
}

// TestOperationUnknown: a change whose answer is lost is not retried or
// guessed: the attempt is unknown, the collection keeps its state, and the
// operator is told to check with a reference.
func TestOperationUnknown(t *testing.T) {
	e := newEnv(t)
	res := e.register(e.order(2000))
	e.Sim.AddFault(sim.Fault{Op: escott.OpCvsChg, Kind: sim.FaultReset, After: true, Times: 1})
	_, err := e.col.Change(e.Ctx, shopID, res.Payment.ID, cvspay.ChangeInput{Amount: 2100})
	wantFailure(t, err, kessai.KindUnknown, "operation_unknown")
	got := e.GetPayment(res.Payment.ID)
	paytest.WantState(t, got, kessai.PaymentPending)
	if got.Amount != 2000 {
		t.Fatalf("amount %d after a lost change", got.Amount)
	}
	atts := e.Attempts(got.ID)
	if last := atts[len(atts)-1]; last.Operation != escott.OpCvsChg || last.Status != kessai.AttemptUnknown {
		t.Fatalf("attempt %+v", last)
	}
	v, err := e.col.Reference(e.Ctx, shopID, got.ID)
	if err != nil {
		t.Fatal(err)
	}
	if v.Gateway.Amount != 2100 { // the gateway did change it
		t.Fatalf("reference %+v", v.Gateway)
	}
}

// TestRegisterFromAdmin is ADMIN-15: an order without a registration is
// registered by the operator with the due date and amount entered (or the
// defaults); kana may be empty (the kanji name goes instead); no fee and
// no order status change.
func TestRegisterFromAdmin(t *testing.T) {
	testdb.Run(t, func(t *testing.T, b testdb.Backend) {
		e := newEnv(t, onDB(b), withCollection("fee_enabled", true, "fee_rows", manualFeeTable))
		o := e.order(3000, billing(kessai.Billing{LastName: "山田", FirstName: "太郎", Phone: "0312345678"}))
		_, err := e.col.RegisterFromAdmin(e.Ctx, shopID, o.ID, cvspay.AdminRegisterInput{DueDate: "20260101"})
		wantErr(t, err, kessai.KindInvalid, "due_date_in_past")

		v, err := e.col.RegisterFromAdmin(e.Ctx, shopID, o.ID, cvspay.AdminRegisterInput{DueDate: "2026-04-01", Amount: 2800}) // today
		if err != nil {
			t.Fatal(err)
		}
		pay := v.Payment
		if v.State.Kind != kessai.PaymentPending || pay.Amount != 2800 || pay.Fee != 0 || pay.PayLimit != "202604012359" ||
			!slices.Equal(v.Operations, opsUnpaid) {
			t.Fatalf("view %+v payment %+v", v.State, pay)
		}
		sc := e.simCollection(pay.TransactionCode)
		if sc.NameKana != "山田太郎" || sc.ReturnURL != "" || sc.Amount != 2800 {
			t.Fatalf("gateway %+v", sc)
		}
		got := e.GetOrder(o.ID)
		paytest.WantStatus(t, got, kessai.OrderPending) // ADMIN-15: status unchanged
		if got.Amount != 3000 || len(got.Items) != 1 {
			t.Fatalf("order changed: %+v", got)
		}
		wantList(t, "payment events", e.EventsAbout(pay.ID), []string{kessai.EventPaymentPending})
		_, err = e.col.RegisterFromAdmin(e.Ctx, shopID, o.ID, cvspay.AdminRegisterInput{})
		wantErr(t, err, kessai.KindConflict, card.CodeTransactionExists)

		// Default due date: today + due days.
		o2 := e.order(1000)
		v, err = e.col.RegisterFromAdmin(e.Ctx, shopID, o2.ID, cvspay.AdminRegisterInput{})
		if err != nil || v.Payment.PayLimit != "202604082359" || v.Payment.Amount != 1000 {
			t.Fatalf("defaults: %+v %v", v, err)
		}
		// The notification applies as for a checkout registration.
		e.payAt(v.Collection.PaymentURL, "JNB")
		paytest.WantStatus(t, e.GetOrder(o2.ID), kessai.OrderProcessing)
	})
}

// TestLightPlan: the light plan has no collection operations in kessai;
// the operator is sent to the e-SCOTT console (A-20, ADMIN-18). Checkout,
// notifications and expiry work as on pro.
func TestLightPlan(t *testing.T) {
	testdb.Run(t, func(t *testing.T, b testdb.Backend) {
		e := newEnv(t, onDB(b), withPlan(kessai.PlanLight))
		o := e.order(2000)
		res := e.register(o)
		calls := e.Calls.Count("")
		for name, op := range map[string]func() error{
			"reference": func() error { _, err := e.col.Reference(e.Ctx, shopID, res.Payment.ID); return err },
			"change": func() error {
				_, err := e.col.Change(e.Ctx, shopID, res.Payment.ID, cvspay.ChangeInput{DueDate: "20260410"})
				return err
			},
			"cancel": func() error { _, err := e.col.Cancel(e.Ctx, shopID, res.Payment.ID); return err },
			"register": func() error {
				_, err := e.col.RegisterFromAdmin(e.Ctx, shopID, e.order(500).ID, cvspay.AdminRegisterInput{})
				return err
			},
		} {
			ke := wantErr(t, op(), kessai.KindForbidden, card.CodeLightPlan)
			if !strings.Contains(ke.Ja, "e-SCOTT 管理画面") || !strings.Contains(ke.En, "e-SCOTT merchant console") {
				t.Fatalf("%s: message %q / %q", name, ke.Ja, ke.En)
			}
		}
		if e.Calls.Count("") != calls {
			t.Fatal("the light plan reached the gateway for an operation")
		}
		v, err := e.col.Get(e.Ctx, shopID, res.Payment.ID)
		if err != nil || len(v.Operations) != 0 || v.State.Kind != kessai.PaymentPending || v.Collection == nil {
			t.Fatalf("light view %+v %v", v, err)
		}
		e.payAt(res.NextAction.URL, "SEV")
		paytest.WantStatus(t, e.GetOrder(o.ID), kessai.OrderProcessing)

		res2 := e.register(e.order(1000))
		e.Advance(8 * 24 * time.Hour)
		out, err := e.col.Expire(e.Ctx, shopID, e.Clock.Now())
		if err != nil || out.Expired != 1 {
			t.Fatalf("expire on light: %+v %v", out, err)
		}
		paytest.WantState(t, e.GetPayment(res2.Payment.ID), kessai.PaymentExpired)
	})
}

// TestNotACollection: operations on a payment of another method are
// refused.
func TestNotACollection(t *testing.T) {
	e := newEnv(t)
	o := e.order(1000)
	now := e.Clock.Now()
	p := &kessai.Payment{ID: kessai.NewID("pay", now), ShopID: shopID, OrderID: o.ID, Method: kessai.MethodCard,
		State: kessai.PaymentAuthorized, Amount: 1000, Currency: "JPY", TransactionCode: "000000000123", CreatedAt: now, UpdatedAt: now}
	if err := e.Store.CreatePayment(e.Ctx, p); err != nil {
		t.Fatal(err)
	}
	_, err := e.col.Cancel(e.Ctx, shopID, p.ID)
	wantErr(t, err, kessai.KindInvalid, "not_a_collection")
	_, err = e.col.Get(e.Ctx, shopID, p.ID)
	wantErr(t, err, kessai.KindInvalid, "not_a_collection")
	_, err = e.col.Register(e.Ctx, shopID, o.ID, cvspay.RegisterInput{})
	wantErr(t, err, kessai.KindConflict, "order_already_paid")
	_, err = e.col.Get(e.Ctx, shopID, "pay_nope")
	wantErr(t, err, kessai.KindNotFound, "payment_not_found")
	// A notification naming a card payment's code is refused.
	err = e.col.Notify(e.Ctx, shopID, &escott.Notification{MerchantID: paytest.DemoID, TransactionID: "1", RecvNum: "1",
		NyukinDate: "20260401120000", MerchantFree1: p.TransactionCode, MerchantFree2: o.ID})
	wantErr(t, err, kessai.KindInvalid, cvspay.CodeNotificationRejected)
}
