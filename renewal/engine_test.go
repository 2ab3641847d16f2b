package renewal_test

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/cardpay"
	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/escott/sim"
	"github.com/kessai/kessai/internal/paytest"
	"github.com/kessai/kessai/internal/testdb"
	"github.com/kessai/kessai/renewal"
	"github.com/kessai/kessai/subscription"
)

// TestYearOfMonthlyRenewals runs twelve monthly renewals by moving the
// clocks of kessai and the simulator together (SUB-03, SUB-05): each is
// one renewal order charged once with 定期購入処理区分 (1Gathering), on the
// billing date computed from the first one.
func TestYearOfMonthlyRenewals(t *testing.T) {
	e := newEnv(t, testdb.SQLite, subscription.RetryPolicy{})
	sub := e.monthly("c-year", 3300)
	if sub.Status != kessai.SubscriptionActive || sub.Paid != 1 || sub.Period != 1 {
		t.Fatalf("created %+v", sub)
	}
	first := sub.First
	for month := 1; month <= 12; month++ {
		if n := e.wake(); n != 0 {
			t.Fatalf("month %d: %d woke before the billing date", month, n)
		}
		s, _ := e.sub(sub.ID)
		want := first.AddDate(0, month, 0)
		if !s.NextAttempt.Equal(want) {
			t.Fatalf("month %d: next attempt %s, want %s", month, s.NextAttempt, want)
		}
		e.advanceTo(s.NextAttempt)
		if n := e.wake(); n < 1 {
			t.Fatalf("month %d: nothing woke at the billing date", month)
		}
	}
	s, rs := e.sub(sub.ID)
	if s.Paid != 13 || s.Period != 13 || s.Status != kessai.SubscriptionActive || s.Failures != 0 {
		t.Fatalf("after a year %+v", s)
	}
	if len(rs) != 12 {
		t.Fatalf("%d renewals", len(rs))
	}
	charges := e.renewalCharges(rs)
	for _, r := range rs {
		if r.Status != kessai.RenewalSucceeded || r.Attempts != 1 || charges[r.OrderID] != 1 {
			t.Fatalf("renewal %+v, %d charges", r, charges[r.OrderID])
		}
		o := e.GetOrder(r.OrderID)
		// A physical item: 処理中 even with 与信売上計上 (SUB-05, CARD-15).
		if o.Status != kessai.OrderProcessing || o.Amount != 3300 || o.CustomerID != "c-year" {
			t.Fatalf("renewal order %+v", o)
		}
		pays := e.Payments(r.OrderID)
		if len(pays) != 1 || pays[0].State != kessai.PaymentCaptured || pays[0].Operation != escott.OpGathering || !pays[0].WithMember {
			t.Fatalf("renewal payment %+v", pays)
		}
	}
	if n := countEvents(e, kessai.EventSubscriptionRenewed); n != 12 {
		t.Fatalf("%d renewed events", n)
	}
}

func countEvents(e *env, typ string) int {
	n := 0
	for _, ev := range e.Events() {
		if ev == typ {
			n++
		}
	}
	return n
}

// TestFailuresRetriesHoldCancel: a renewal declined every time (G55) is
// retried after 1, 3 and 5 days while active, then the subscription is on
// hold, and cancelled 14 days later (SUB-04).
func TestFailuresRetriesHoldCancel(t *testing.T) {
	e := newEnv(t, testdb.SQLite, subscription.RetryPolicy{})
	sub := e.monthly("c-fail", 2200)
	e.Sim.AddFault(sim.Fault{Op: escott.OpGathering, Kind: sim.FaultResponseCode, ResponseCd: "G55"})
	s, _ := e.sub(sub.ID)
	e.advanceTo(s.NextAttempt)
	steps := []struct {
		wait     time.Duration
		failures int
		status   string
	}{
		{24 * time.Hour, 1, kessai.SubscriptionActive},
		{72 * time.Hour, 2, kessai.SubscriptionActive},
		{120 * time.Hour, 3, kessai.SubscriptionActive},
		{0, 4, kessai.SubscriptionOnHold},
	}
	for i, st := range steps {
		e.wake()
		s, rs := e.sub(sub.ID)
		if s.Failures != st.failures || s.Status != st.status || len(rs) != 1 || rs[0].Status != kessai.RenewalFailed {
			t.Fatalf("step %d: %+v renewals %+v", i, s, rs)
		}
		if !slices.Equal(rs[0].Codes, []string{"G55"}) || rs[0].Attempts != st.failures {
			t.Fatalf("step %d: renewal %+v", i, rs[0])
		}
		if st.wait > 0 {
			if got := s.NextAttempt.Sub(e.Clock.Now()); got < st.wait-time.Second || got > st.wait {
				t.Fatalf("step %d: next attempt in %s, want %s", i, got, st.wait)
			}
			e.advanceTo(s.NextAttempt)
		} else if s.Hold != string(subscription.HoldPaymentFailed) || s.CancelAt.IsZero() || !s.NextAttempt.IsZero() {
			t.Fatalf("on hold: %+v", s)
		}
	}
	// One renewal order, four declined payments, nothing charged.
	s, rs := e.sub(sub.ID)
	if pays := e.Payments(rs[0].OrderID); len(pays) != 4 {
		t.Fatalf("%d payments", len(pays))
	}
	e.advanceTo(s.CancelAt.Add(-time.Minute))
	e.wake()
	if s, _ = e.sub(sub.ID); s.Status != kessai.SubscriptionOnHold {
		t.Fatalf("cancelled before the grace period ended: %s", s.Status)
	}
	e.advanceTo(s.CancelAt)
	e.wake()
	if s, _ = e.sub(sub.ID); s.Status != kessai.SubscriptionCancelled || !s.WakeAt.IsZero() {
		t.Fatalf("after the grace period %+v", s)
	}
	for typ, want := range map[string]int{kessai.EventSubscriptionRenewalFailed: 4, kessai.EventSubscriptionRetryScheduled: 3,
		kessai.EventSubscriptionOnHold: 1, kessai.EventSubscriptionCancelled: 1, kessai.EventSubscriptionRenewed: 0} {
		if n := countEvents(e, typ); n != want {
			t.Errorf("%s: %d events, want %d", typ, n, want)
		}
	}
}

// TestCardChangeRetriesAtOnce: a failed renewal is charged again as soon
// as the customer saves a new card, without waiting for the retry
// (SUB-06).
func TestCardChangeRetriesAtOnce(t *testing.T) {
	e := newEnv(t, testdb.SQLite, subscription.RetryPolicy{})
	sub := e.monthly("c-card", 4400)
	fault := e.Sim.AddFault(sim.Fault{Op: escott.OpGathering, Kind: sim.FaultResponseCode, ResponseCd: "G55"})
	s, _ := e.sub(sub.ID)
	e.advanceTo(s.NextAttempt)
	e.wake()
	if s, _ = e.sub(sub.ID); s.Failures != 1 {
		t.Fatalf("not failed: %+v", s)
	}
	e.Sim.RemoveFault(fault)
	if _, err := e.payer.SaveCard(e.Ctx, shopID, "c-card", cardpay.SaveCardInput{Token: e.token(visaOK)}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		s, rs := e.sub(sub.ID)
		if s.Paid == 2 {
			if s.Failures != 0 || s.Status != kessai.SubscriptionActive || rs[0].Status != kessai.RenewalSucceeded {
				t.Fatalf("after the card change %+v %+v", s, rs)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the renewal was not retried after the card change: %+v", s)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestLostAnswerNeverChargedTwice: the answer to a renewal charge is lost
// after the gateway charged (as when the process dies mid-call). The
// subscription waits, never charging again, until the payment is resolved;
// then the renewal counts, once.
func TestLostAnswerNeverChargedTwice(t *testing.T) {
	e := newEnv(t, testdb.SQLite, subscription.RetryPolicy{})
	sub := e.monthly("c-lost", 5500)
	e.Sim.AddFault(sim.Fault{Op: escott.OpGathering, Kind: sim.FaultReset, After: true, Times: 1})
	s, _ := e.sub(sub.ID)
	e.advanceTo(s.NextAttempt)
	e.wake()
	s, rs := e.sub(sub.ID)
	if !s.Unconfirmed || s.Failures != 0 || rs[0].Status != kessai.RenewalUnknown {
		t.Fatalf("after the lost answer %+v %+v", s, rs)
	}
	calls := e.Calls.Count(escott.OpGathering)
	for range 3 {
		e.Advance(24 * time.Hour)
		e.wake()
	}
	if n := e.Calls.Count(escott.OpGathering); n != calls {
		t.Fatalf("%d more charges while the outcome was unknown", n-calls)
	}
	if _, err := e.engine.Pause(e.Ctx, shopID, sub.ID); err == nil {
		t.Fatal("paused while a charge is unconfirmed")
	}
	// The operator finds the charge in the e-SCOTT console.
	var tx sim.TransactionView
	for _, v := range e.Sim.Transactions(paytest.DemoID, "test") {
		if v.MerchantFree2 == rs[0].OrderID {
			tx = v
		}
	}
	pay := e.Payments(rs[0].OrderID)[0]
	if _, err := e.payer.Resolve(e.Ctx, shopID, pay.ID, cardpay.ResolveInput{Outcome: "succeeded", ProcessID: tx.ProcessID,
		ProcessPass: tx.ProcessPass}); err != nil {
		t.Fatal(err)
	}
	e.Advance(renewal.ReconcileEvery)
	e.wake()
	s, rs = e.sub(sub.ID)
	if s.Unconfirmed || s.Paid != 2 || rs[0].Status != kessai.RenewalSucceeded || e.renewalCharges(rs)[rs[0].OrderID] != 1 {
		t.Fatalf("after the resolution %+v %+v", s, rs)
	}
	// The following month is charged normally; the missed days are not.
	if !s.NextAttempt.After(e.Clock.Now()) {
		t.Fatalf("next attempt %s is not ahead", s.NextAttempt)
	}
}

// TestTwoEnginesChargeOnce: two kessai instances (two engines and payers
// over one database and gateway) wake the same due subscriptions at the
// same time; each period is charged exactly once.
func TestTwoEnginesChargeOnce(t *testing.T) {
	for _, db := range []testdb.Backend{testdb.SQLite, testdb.Postgres} {
		t.Run(db.Name, func(t *testing.T) {
			e := newEnv(t, db, subscription.RetryPolicy{})
			other := cardpay.New(cardpay.Config{Service: e.Svc, Gateways: e.Gateways, ReturnURL: e.Recv + "/escott/notify", Logger: e.Log})
			engines := []*renewal.Engine{e.engine, renewal.New(renewal.Config{Service: e.Svc, Cards: other, Logger: e.Log})}
			var subs []*kessai.Subscription
			for i := range 6 {
				subs = append(subs, e.monthly("c-two-"+string(rune('a'+i)), int64(1000+i)))
			}
			s, _ := e.sub(subs[0].ID)
			e.advanceTo(s.NextAttempt)
			var wg sync.WaitGroup
			errs := make(chan error, 8)
			for i := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := engines[i%2].WakeDue(e.Ctx); err != nil {
						errs <- err
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			e.wake() // anything a busy engine left is recorded now
			for _, sub := range subs {
				s, rs := e.sub(sub.ID)
				if s.Paid != 2 || len(rs) != 1 || rs[0].Status != kessai.RenewalSucceeded {
					t.Fatalf("%s: %+v %+v", sub.ID, s, rs)
				}
				if n := e.renewalCharges(rs)[rs[0].OrderID]; n != 1 {
					t.Fatalf("%s charged %d times", sub.ID, n)
				}
			}
		})
	}
}

// TestCreateRefusals: the rules a new subscription must meet.
func TestCreateRefusals(t *testing.T) {
	e := newEnv(t, testdb.SQLite, subscription.RetryPolicy{})
	paid := e.checkout("c-ok", 1000, visaOK)
	month := subscription.Interval{Unit: subscription.Month, Count: 1}
	cases := []struct {
		name string
		in   renewal.CreateInput
		kind kessai.Kind
		code string
	}{
		{"no saved card", renewal.CreateInput{CustomerID: "c-none", Description: "x", Amount: 1000, Interval: month},
			kessai.KindConflict, "card_required"},
		{"bad interval", renewal.CreateInput{CustomerID: "c-ok", Description: "x", Amount: 1000,
			Interval: subscription.Interval{Unit: subscription.Day, Count: 1, AnchorDay: 5}}, kessai.KindInvalid, ""},
		{"zero amount", renewal.CreateInput{CustomerID: "c-ok", Description: "x", Amount: 0, Interval: month}, kessai.KindInvalid, ""},
		{"no description", renewal.CreateInput{CustomerID: "c-ok", Amount: 1000, Interval: month}, kessai.KindInvalid, ""},
		{"another customer's order", renewal.CreateInput{CustomerID: "c-other", Description: "x", Amount: 1000, Interval: month,
			InitialOrderID: paid.ID}, kessai.KindInvalid, ""},
	}
	e.checkout("c-other", 1000, visaOK) // c-other has a card too
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.engine.Create(e.Ctx, shopID, c.in)
			var ke *kessai.Error
			var ve kessai.ValidationErrors
			switch {
			case errors.As(err, &ve):
				if c.kind != kessai.KindInvalid {
					t.Fatalf("validation errors %v, want %v", ve, c.kind)
				}
			case errors.As(err, &ke):
				if ke.Kind != c.kind || (c.code != "" && ke.Code != c.code) {
					t.Fatalf("error %v (%s), want %v %s", ke.Kind, ke.Code, c.kind, c.code)
				}
			default:
				t.Fatalf("err %v", err)
			}
		})
	}
	// Without an initial order, the first period is charged at once.
	sub, err := e.engine.Create(e.Ctx, shopID, renewal.CreateInput{CustomerID: "c-ok", Description: "x", Amount: 1200, Interval: month})
	if err != nil {
		t.Fatal(err)
	}
	e.wake()
	if s, rs := e.sub(sub.ID); s.Paid != 1 || len(rs) != 1 || rs[0].Period != 0 || rs[0].Status != kessai.RenewalSucceeded {
		t.Fatalf("first period %+v %+v", s, rs)
	}
	// One checkout starts one subscription.
	first, err := e.engine.Create(e.Ctx, shopID, renewal.CreateInput{CustomerID: "c-ok", Description: "x", Amount: 1000,
		Interval: month, InitialOrderID: paid.ID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.engine.Create(e.Ctx, shopID, renewal.CreateInput{CustomerID: "c-ok", Description: "x", Amount: 1000,
		Interval: month, InitialOrderID: paid.ID}); err == nil {
		t.Fatalf("the initial order of %s started a second subscription", first.ID)
	}
	// A customer with an active subscription cannot delete the card (SUB-08).
	if err := e.payer.DeleteCard(e.Ctx, shopID, "c-ok"); err == nil {
		t.Fatal("card deleted under an active subscription")
	}
}

// TestTestMemberExpires: on the test environment a card member lapses
// after about two months (OPS-04, MEMBER-09); the renewal then fails hard
// with the gateway's K71, the subscription goes on hold and the shop is
// told the customer must register a card again (card_required).
func TestTestMemberExpires(t *testing.T) {
	e := newEnvLifetime(t, testdb.SQLite, subscription.RetryPolicy{}, 0) // the simulator's default, 60 days
	sub := e.monthly("c-k71", 1500)
	for range 2 {
		s, _ := e.sub(sub.ID)
		e.advanceTo(s.NextAttempt)
		e.wake()
	}
	s, rs := e.sub(sub.ID)
	if s.Paid != 2 || s.Status != kessai.SubscriptionOnHold || s.Hold != string(subscription.HoldPaymentFailed) || !s.NextAttempt.IsZero() {
		t.Fatalf("after the member lapsed %+v", s)
	}
	if rs[0].Status != kessai.RenewalFailed || !slices.Contains(rs[0].Codes, "K71") {
		t.Fatalf("renewal %+v", rs[0])
	}
	if n := countEvents(e, kessai.EventSubscriptionCardRequired); n != 1 {
		t.Fatalf("%d card_required events", n)
	}
}
