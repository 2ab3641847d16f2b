package cardpay_test

import (
	"errors"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/cardpay"
	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/escott/sim"
	"github.com/kessai/kessai/internal/paytest"
	"github.com/kessai/kessai/internal/testdb"
)

const racers = 8

// race runs f racers times at once and returns the errors.
func race(f func(i int) error) []error {
	errs := make([]error, racers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() {
			<-start
			errs[i] = f(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// oneWinner wants exactly one nil error; the others must be conflicts
// with one of codes.
func oneWinner(t *testing.T, errs []error, codes ...string) {
	t.Helper()
	wins := 0
	for _, err := range errs {
		if err == nil {
			wins++
			continue
		}
		var ke *kessai.Error
		if !errors.As(err, &ke) || ke.Kind != kessai.KindConflict {
			t.Errorf("loser: %T %v, want a conflict", err, err)
			continue
		}
		ok := false
		for _, c := range codes {
			ok = ok || ke.Code == c
		}
		if !ok {
			t.Errorf("loser code %s, want one of %v", ke.Code, codes)
		}
	}
	if wins != 1 {
		t.Fatalf("%d winners, want 1: %v", wins, errs)
	}
}

// TestConcurrentPay: simultaneous checkouts of one order charge once
// (design: one active payment per order, enforced by the database), on
// both databases. The authorisation is slowed down so that they overlap.
func TestConcurrentPay(t *testing.T) {
	testdb.Run(t, func(t *testing.T, db testdb.Backend) {
		e := newEnv(t, onDB(db))
		testdb.WarmPool(t, e.Store, racers+2)
		e.Sim.AddFault(sim.Fault{Kind: sim.FaultLatency, Op: escott.OpGathering, Latency: 150 * time.Millisecond})
		o := e.order(5000)
		ins := make([]cardpay.PayInput, racers)
		for i := range ins {
			ins[i] = e.tok(visaOK)
		}
		errs := race(func(i int) error {
			_, err := e.payer.Pay(e.Ctx, shopID, o.ID, ins[i])
			return err
		})
		// order_not_payable: a loser that read the order after the
		// winner had finished.
		oneWinner(t, errs, "payment_in_progress", "order_already_paid", "order_not_payable")
		if n := len(e.simTxnsOf(o.ID)); n != 1 {
			t.Fatalf("%d transactions at the simulator for one order", n)
		}
		if n := e.Calls.Count(escott.OpGathering); n != 1 {
			t.Fatalf("%d authorisations", n)
		}
		ps := e.Payments(o.ID)
		if len(ps) != 1 || ps[0].State != kessai.PaymentCaptured {
			t.Fatalf("payments %+v", ps)
		}
		paytest.WantStatus(t, e.GetOrder(o.ID), kessai.OrderProcessing)
	})
}

// TestConcurrentCapture: two operators pressing capture at once reach
// the gateway once (one pending attempt per payment).
func TestConcurrentCapture(t *testing.T) {
	testdb.Run(t, func(t *testing.T, db testdb.Backend) {
		e := newEnv(t, onDB(db), withCard("operation", "1Auth"))
		testdb.WarmPool(t, e.Store, racers+2)
		o := e.order(5000)
		p := e.mustPay(o, e.tok(visaOK)).Payment
		e.Sim.AddFault(sim.Fault{Kind: sim.FaultLatency, Op: escott.OpCapture, Latency: 150 * time.Millisecond})
		errs := race(func(int) error {
			_, err := e.payer.Operate(e.Ctx, shopID, p.ID, escott.OpCapture, 0)
			return err
		})
		oneWinner(t, errs, "payment_in_progress", "operation_not_allowed")
		tx := e.simTxn(p.ProcessID)
		captures := 0
		for _, h := range tx.History {
			if h.OperateID == escott.OpCapture {
				captures++
			}
		}
		if captures != 1 || tx.Status != "CAPTURED" {
			t.Fatalf("simulator %+v", tx)
		}
		paytest.WantState(t, e.GetPayment(p.ID), kessai.PaymentCaptured)
	})
}

// TestConcurrentReturns: the same 3-D Secure return posted twice at once
// (a double-clicked button) authorises once.
func TestConcurrentReturns(t *testing.T) {
	testdb.Run(t, func(t *testing.T, db testdb.Backend) {
		e := newEnv(t, onDB(db), withCard("three_ds", true))
		testdb.WarmPool(t, e.Store, racers+2)
		o := e.order(5000)
		res := e.startThreeDS(o, e.threeDSIn(threeDSOK))
		action, ev := paytest.AutoSubmitted(t, e.open(res.NextAction))
		statuses := make([]int, racers)
		race(func(i int) error {
			r, err := paytest.NoRedirect.PostForm(action, url.Values{"EncryptValue": {ev}})
			if err == nil {
				statuses[i] = r.StatusCode
				r.Body.Close()
			}
			return err
		})
		redirects := 0
		for _, s := range statuses {
			switch s {
			case http.StatusSeeOther:
				redirects++
			case http.StatusConflict:
			default:
				t.Fatalf("statuses %v", statuses)
			}
		}
		if redirects != 1 {
			t.Fatalf("statuses %v: want one redirect, the rest 409", statuses)
		}
		if n := len(e.simTxnsOf(o.ID)); n != 1 {
			t.Fatalf("%d transactions", n)
		}
		paytest.WantState(t, e.GetPayment(res.Payment.ID), kessai.PaymentCaptured)
	})
}

// TestSupersedeDuringReturn: a second checkout while the first one's 3-D
// Secure return is being processed must not lead to a charge kessai does
// not know about (design §4). The first payment looks idle — its session
// is consumed by the return and it is older than StaleAfter — but a
// recently consumed session counts as a return still running, and the
// first charge re-checks the payment in the transaction that writes its
// attempt, so "superseded" and "charged" cannot both happen. Here the
// return is held in its member registration (4MemAdd, a network call
// between consuming the session and writing the attempt) by a latency
// fault.
func TestSupersedeDuringReturn(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withCard("three_ds", true))
	o := e.order(5000, forCustomer("racy"))
	in := e.threeDSIn(threeDSOK)
	in.SaveCard = true
	first := e.startThreeDS(o, in)
	action, ev := paytest.AutoSubmitted(t, e.open(first.NextAction))
	// The shopper took a while on the 3-D Secure page.
	e.Clock.Advance(cardpay.DefaultStaleAfter + time.Minute)
	e.Sim.AddFault(sim.Fault{Kind: sim.FaultLatency, Op: escott.OpMemAdd, Latency: 500 * time.Millisecond, Times: 1})

	done := make(chan int, 1)
	go func() {
		r, err := paytest.NoRedirect.PostForm(action, url.Values{"EncryptValue": {ev}})
		if err != nil {
			done <- 0
			return
		}
		r.Body.Close()
		done <- r.StatusCode
	}()
	// Wait until the return consumed its session (it is then in 4MemAdd).
	deadline := time.Now().Add(5 * time.Second)
	for {
		s, err := e.Store.FindCheckoutSession(e.Ctx, shopID, first.Payment.TransactionCode)
		if err == nil && !s.ConsumedAt.IsZero() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the return never consumed its session")
		}
		time.Sleep(time.Millisecond)
	}
	in2 := e.threeDSIn(threeDSOK)
	in2.SaveCard = true
	second, err := e.pay(e.GetOrder(o.ID), in2)
	<-done

	// Whatever the interleaving, every charge at the gateway must be a
	// payment kessai holds as charged.
	for _, tx := range e.simTxnsOf(o.ID) {
		found := false
		for _, p := range e.Payments(o.ID) {
			if p.ProcessID == tx.ProcessID && (p.State == kessai.PaymentCaptured || p.State == kessai.PaymentUnknown) {
				found = true
			}
		}
		if !found {
			t.Errorf("the gateway charged %d yen (%s) for a payment kessai holds as %v; second checkout: %v / %v",
				tx.Amount, tx.MerchantFree1, states(e.Payments(o.ID)), second != nil, err)
		}
	}
}

func states(ps []kessai.Payment) []kessai.PaymentState {
	var out []kessai.PaymentState
	for _, p := range ps {
		out = append(out, p.State)
	}
	return out
}
