package cvspay_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/cvspay"
	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/escott/sim"
	"github.com/kessai/kessai/internal/paytest"
	"github.com/kessai/kessai/internal/testdb"
)

func jst(y int, m time.Month, d, h, min, s int) time.Time {
	return time.Date(y, m, d, h, min, s, 0, escott.JST)
}

// TestDueDates is CVS-05 / SET-15 at the gateway: the due date is the JST
// date of the registration plus the due days, at 23:59, around JST
// midnight (a server clock in UTC still on the previous day), month and
// year ends and a leap day; the simulator, whose clock is moved with
// kessai's, accepts each (its K50 check: in the future, within 60 days).
func TestDueDates(t *testing.T) {
	testdb.Run(t, func(t *testing.T, b testdb.Backend) {
		e := newEnv(t, onDB(b))
		for _, c := range []struct {
			name string
			now  time.Time
			days int
			want string
		}{
			{"one day before JST midnight", jst(2026, 1, 31, 23, 59, 30), 1, "202602012359"},
			{"JST midnight", jst(2026, 2, 1, 0, 0, 0), 1, "202602022359"},
			{"UTC still the day before", time.Date(2026, 1, 31, 15, 30, 0, 0, time.UTC), 1, "202602022359"},
			{"end of February", jst(2026, 2, 28, 12, 0, 0), 1, "202603012359"},
			{"into a leap day", jst(2028, 2, 28, 12, 0, 0), 1, "202802292359"},
			{"year end", jst(2026, 12, 31, 23, 0, 0), 1, "202701012359"},
			{"the default 7 days over a month end", jst(2026, 4, 27, 9, 0, 0), 7, "202605042359"},
			{"the longest, 60 days", jst(2026, 1, 1, 0, 0, 0), 60, "202603022359"},
		} {
			t.Run(c.name, func(t *testing.T) {
				e.SetTime(c.now)
				e.collection("due_days", c.days)
				res := e.register(e.order(1000))
				if res.Payment.PayLimit != c.want || e.simCollection(res.Payment.TransactionCode).PayLimit != c.want {
					t.Fatalf("PayLimit = %s, want %s", res.Payment.PayLimit, c.want)
				}
				due, _ := time.ParseInLocation("200601021504", c.want, escott.JST)
				if !res.Collection.DueAt.Equal(due.Add(59 * time.Second)) {
					t.Fatalf("due at %v", res.Collection.DueAt)
				}
			})
		}
	})
}

// TestExpire is design A-07 / CVS-11: an unpaid collection past its due
// date is asked about once more (2Ref), then expired — or recorded paid
// when the last-minute payment's notification was lost — and its order is
// cancelled only when the shop chose so. Not-yet-due collections are left
// alone, to the second.
func TestExpire(t *testing.T) {
	testdb.Run(t, func(t *testing.T, b testdb.Backend) {
		for _, c := range []struct {
			name        string
			cancel      bool
			lastMinute  bool // paid at 23:59 of the due date, notification lost
			wantPay     kessai.PaymentState
			wantOrder   kessai.OrderStatus
			wantHistory []string
			wantEvents  []string
		}{
			{"unpaid, order kept", false, false, kessai.PaymentExpired, kessai.OrderOnHold,
				[]string{"2Add:OK", "expired:OK"}, []string{kessai.EventPaymentPending, kessai.EventPaymentExpired}},
			{"unpaid, order cancelled", true, false, kessai.PaymentExpired, kessai.OrderCancelled,
				[]string{"2Add:OK", "expired:OK"}, []string{kessai.EventPaymentPending, kessai.EventPaymentExpired}},
			{"paid in the last minute", true, true, kessai.PaymentPaid, kessai.OrderProcessing,
				[]string{"2Add:OK", "paid:OK"}, []string{kessai.EventPaymentPending, kessai.EventPaymentPaid}},
		} {
			t.Run(c.name, func(t *testing.T) {
				e := newEnv(t, onDB(b), withCollection("expire_cancels_order", c.cancel, "due_days", 1))
				o := e.order(2000)
				res := e.register(o) // 1 April noon → due 2 April 23:59
				e.SetTime(jst(2026, 4, 2, 23, 59, 0))
				if c.lastMinute {
					e.Sim.AddFault(sim.Fault{Kind: sim.FaultDropNotification, Times: 1})
					e.payAt(res.NextAction.URL, "SEV")
				}
				// Still payable to the end of the minute: nothing happens.
				out, err := e.col.Expire(e.Ctx, shopID, jst(2026, 4, 2, 23, 59, 59))
				if err != nil || out != (cvspay.SweepResult{}) {
					t.Fatalf("before the end of the due minute: %+v %v", out, err)
				}
				refs := e.Calls.Count(escott.OpCvsRef)
				e.SetTime(jst(2026, 4, 3, 0, 0, 5))
				out, err = e.col.Sweep(e.Ctx, shopID)
				if err != nil {
					t.Fatal(err)
				}
				if n := e.Calls.Count(escott.OpCvsRef) - refs; n != 1 {
					t.Fatalf("%d 2Ref calls at expiry, want 1", n)
				}
				pay := e.GetPayment(res.Payment.ID)
				paytest.WantState(t, pay, c.wantPay)
				paytest.WantStatus(t, e.GetOrder(o.ID), c.wantOrder)
				wantList(t, "history", e.ops(pay.ID), c.wantHistory)
				wantList(t, "payment events", e.EventsAbout(pay.ID), c.wantEvents)
				switch {
				case c.lastMinute && (out.Paid != 1 || out.Expired != 0):
					t.Fatalf("sweep %+v", out)
				case !c.lastMinute && (out.Expired != 1 || (out.OrdersCancelled == 1) != c.cancel):
					t.Fatalf("sweep %+v", out)
				}
				// Idempotent: the next sweep finds nothing to do.
				if out, err := e.col.Sweep(e.Ctx, shopID); err != nil || out != (cvspay.SweepResult{}) {
					t.Fatalf("second sweep %+v %v", out, err)
				}
				if c.wantPay != kessai.PaymentExpired {
					return
				}
				// The operator's view: 期限切れ with the unpaid buttons,
				// and a new due date gives the shopper another chance
				// (ADMIN-13, A-26); an order the expiry cancelled goes
				// back on hold.
				v, err := e.col.Get(e.Ctx, shopID, pay.ID)
				if err != nil || v.State.LabelJa != "期限切れ" || len(v.Operations) != 2 {
					t.Fatalf("expired view %+v %v", v, err)
				}
				v, err = e.col.Change(e.Ctx, shopID, pay.ID, cvspay.ChangeInput{DueDate: "20260405"})
				if err != nil {
					t.Fatal(err)
				}
				if v.State.Kind != kessai.PaymentPending || v.Payment.PayLimit != "202604052359" {
					t.Fatalf("after change %+v", v.State)
				}
				paytest.WantStatus(t, e.GetOrder(o.ID), kessai.OrderOnHold)
				e.payAt(v.Collection.PaymentURL, "FAM")
				paytest.WantState(t, e.GetPayment(pay.ID), kessai.PaymentPaid)
				paytest.WantStatus(t, e.GetOrder(o.ID), kessai.OrderProcessing)
			})
		}
	})
}

// TestExpireNoAnswer: a collection is never expired without the gateway's
// word; without an answer it waits for the next sweep.
func TestExpireNoAnswer(t *testing.T) {
	e := newEnv(t, withCollection("expire_cancels_order", true))
	o := e.order(2000)
	res := e.register(o)
	e.Advance(8 * 24 * time.Hour)
	e.Sim.AddFault(sim.Fault{Op: escott.OpCvsRef, Kind: sim.FaultTimeout, Hold: 10 * time.Millisecond, Times: 1})
	out, err := e.col.Sweep(e.Ctx, shopID)
	if err != nil || out.Deferred != 1 || out.Expired != 0 {
		t.Fatalf("sweep without an answer %+v %v", out, err)
	}
	paytest.WantState(t, e.GetPayment(res.Payment.ID), kessai.PaymentPending)
	paytest.WantStatus(t, e.GetOrder(o.ID), kessai.OrderOnHold)
	out, err = e.col.Sweep(e.Ctx, shopID)
	if err != nil || out.Expired != 1 || out.OrdersCancelled != 1 {
		t.Fatalf("next sweep %+v %v", out, err)
	}
}

// TestExpireDeletedAtConsole: a collection the gateway no longer knows
// (deleted in the e-SCOTT console: 2Ref answers K12) is expired, with the
// gateway's answer in the history.
func TestExpireDeletedAtConsole(t *testing.T) {
	e := newEnv(t)
	res := e.register(e.order(2000))
	e.Advance(8 * 24 * time.Hour)
	e.Sim.AddFault(sim.Fault{Op: escott.OpCvsRef, Kind: sim.FaultResponseCode, ResponseCd: "K12", Times: 1})
	out, err := e.col.Expire(e.Ctx, shopID, e.Clock.Now())
	if err != nil || out.Expired != 1 {
		t.Fatalf("expire %+v %v", out, err)
	}
	wantList(t, "history", e.ops(res.Payment.ID), []string{"2Add:OK", "2Ref:K12", "expired:OK"})
}

// TestSweepInterrupted: a process that died during a 2Add leaves a pending
// attempt; after the stale period the sweep makes the payment unknown (not
// retried, payment.unknown). A payment that died before its attempt is
// failed, freeing the order.
func TestSweepInterrupted(t *testing.T) {
	testdb.Run(t, func(t *testing.T, b testdb.Backend) {
		e := newEnv(t, onDB(b))
		o1, o2 := e.order(1000), e.order(1000)
		now := e.Clock.Now()
		mk := func(o *kessai.Order, code string) *kessai.Payment {
			p := &kessai.Payment{ID: kessai.NewID("pay", now), ShopID: shopID, OrderID: o.ID, Method: kessai.MethodCollection,
				State: kessai.PaymentNew, Amount: 1000, Currency: "JPY", TransactionCode: code, Operation: escott.OpCvsAdd,
				PayLimit: "202604082359", CreatedAt: now, UpdatedAt: now}
			if err := e.Store.CreatePayment(e.Ctx, p); err != nil {
				t.Fatal(err)
			}
			return p
		}
		interrupted := mk(o1, "000000000101")
		if err := e.Store.CreateAttempt(e.Ctx, &kessai.Attempt{ID: kessai.NewID("att", now), ShopID: shopID, PaymentID: interrupted.ID,
			Operation: escott.OpCvsAdd, MerchantFree1: interrupted.TransactionCode, Amount: 1000, Status: kessai.AttemptPending,
			CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
		abandoned := mk(o2, "000000000102")

		// Within the stale period nothing is touched: the call may run.
		if out, err := e.col.Sweep(e.Ctx, shopID); err != nil || out != (cvspay.SweepResult{}) {
			t.Fatalf("early sweep %+v %v", out, err)
		}
		e.Advance(cvspay.DefaultStaleAfter + time.Second)
		out, err := e.col.Sweep(e.Ctx, shopID)
		if err != nil || out.Unknown != 1 || out.Abandoned != 1 {
			t.Fatalf("sweep %+v %v", out, err)
		}
		paytest.WantState(t, e.GetPayment(interrupted.ID), kessai.PaymentUnknown)
		if a := e.Attempts(interrupted.ID); a[0].Status != kessai.AttemptUnknown {
			t.Fatalf("attempt %+v", a[0])
		}
		wantList(t, "events", e.EventsAbout(interrupted.ID), []string{kessai.EventPaymentUnknown})
		paytest.WantState(t, e.GetPayment(abandoned.ID), kessai.PaymentFailed)
		_, err = e.col.Register(e.Ctx, shopID, o1.ID, cvspay.RegisterInput{})
		wantErr(t, err, kessai.KindConflict, "payment_unknown")
		e.register(o2) // free again
		if n := e.Calls.Count(escott.OpCvsAdd); n != 1 {
			t.Fatalf("%d 2Add calls", n)
		}
	})
}

// TestExpiredViewHasNoPaymentDetails: the operator's view of an expired
// collection keeps its operations (a change revives it) but no payment
// details — its link is dead, the agent's page answers 410 — exactly as
// Details refuses it. A past-due collection not yet expired still has
// them, as Details does.
func TestExpiredViewHasNoPaymentDetails(t *testing.T) {
	e := newEnv(t)
	res := e.register(e.order(2000))
	link := res.Collection.PaymentURL
	e.Advance(7*24*time.Hour + 12*time.Hour) // past 8 April 23:59
	v, err := e.col.Get(e.Ctx, shopID, res.Payment.ID)
	if err != nil || !v.State.PastDue || v.Collection == nil {
		t.Fatalf("past-due view %+v %v", v, err)
	}
	if out, err := e.col.Sweep(e.Ctx, shopID); err != nil || out.Expired != 1 {
		t.Fatalf("sweep %+v %v", out, err)
	}
	v, err = e.col.Get(e.Ctx, shopID, res.Payment.ID)
	if err != nil {
		t.Fatal(err)
	}
	if v.State.Kind != kessai.PaymentExpired || len(v.Operations) != 2 || v.Collection != nil {
		t.Fatalf("expired view: state %+v, operations %v, details %+v", v.State, v.Operations, v.Collection)
	}
	_, err = e.col.Details(e.Ctx, shopID, res.Payment.ID)
	wantErr(t, err, kessai.KindConflict, "collection_not_payable")
	if code := e.getAgent(link); code != http.StatusGone {
		t.Fatalf("the expired collection's link answers %d, want 410", code)
	}
}
