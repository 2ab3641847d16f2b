package cardpay_test

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/cardpay"
	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/escott/sim"
	"github.com/kessai/kessai/internal/paytest"
)

// lostAnswers are the faults that lose the gateway's answer (design §4,
// gap #25). Timeouts hold the connection briefly, then close it.
var lostAnswers = []sim.Fault{
	{Kind: sim.FaultTimeout, Hold: 100 * time.Millisecond},
	{Kind: sim.FaultReset},
	{Kind: sim.FaultEmptyBody},
}

// wantUnknown checks a checkout whose answer was lost: payment and
// attempt unknown, the order untouched, the shopper told not to pay again.
func wantUnknown(t *testing.T, e *env, o *kessai.Order, err error) *kessai.Payment {
	t.Helper()
	f := wantFailure(t, err, kessai.KindUnknown, "payment_unknown")
	if !strings.Contains(f.Err.Ja, "再度のお支払いはしないでください") || !strings.Contains(f.Err.En, "do not pay again") {
		t.Fatalf("message %q / %q", f.Err.Ja, f.Err.En)
	}
	p := e.GetPayment(f.PaymentID)
	paytest.WantState(t, p, kessai.PaymentUnknown)
	if a := e.Attempts(p.ID); len(a) != 1 || a[0].Status != kessai.AttemptUnknown || a[0].MerchantFree1 != p.TransactionCode {
		t.Fatalf("attempts %+v", a)
	}
	paytest.WantStatus(t, e.GetOrder(o.ID), kessai.OrderPending)
	if h := e.History(p.ID); len(h) != 0 {
		t.Fatalf("history for an unknown outcome: %+v", h)
	}
	if got := e.EventsAbout(p.ID); !slices.Equal(got, []string{kessai.EventPaymentUnknown}) {
		t.Fatalf("events %v", got)
	}
	// Paying again could charge twice: refused without a gateway call.
	n := e.Calls.Count("")
	_, err = e.pay(e.GetOrder(o.ID), e.tok(visaOK))
	wantErr(t, err, kessai.KindConflict, "payment_unknown")
	// So is any operation until it is resolved.
	_, err = e.payer.Operate(e.Ctx, shopID, p.ID, escott.OpCapture, 0)
	wantErr(t, err, kessai.KindConflict, "payment_unknown")
	if got := e.Calls.Since(n); len(got) != 0 {
		t.Fatalf("gateway calls while unknown: %v", got)
	}
	return p
}

// TestLostAnswer: a timeout, reset or empty body AFTER the gateway
// processed 1Auth/1Gathering leaves the payment unknown (never retried);
// the simulator holds exactly one charge, which the operator confirms
// with its ProcessId (Resolve).
func TestLostAnswer(t *testing.T) {
	t.Parallel()
	for _, fault := range lostAnswers {
		for _, op := range []escott.OperateID{escott.OpAuth, escott.OpGathering} {
			t.Run(string(fault.Kind)+"/"+string(op), func(t *testing.T) {
				t.Parallel()
				e := newEnv(t, withCard("operation", string(op)))
				o := e.order(6600)
				f := fault
				f.Op, f.After, f.Times = op, true, 1
				e.Sim.AddFault(f)
				_, err := e.pay(o, e.tok(visaOK))
				p := wantUnknown(t, e, o, err)
				if n := e.Calls.Count(op); n != 1 {
					t.Fatalf("%d calls of %s: a lost answer must not be retried", n, op)
				}
				tx := e.oneSimTxn(o.ID)
				if tx.MerchantFree1 != p.TransactionCode || tx.Amount != 6600 {
					t.Fatalf("simulator %+v, payment code %s", tx, p.TransactionCode)
				}

				// The operator finds the transaction by its MerchantFree1 in
				// the console and resolves with its handle.
				_, err = e.payer.Resolve(e.Ctx, shopID, p.ID, cardpay.ResolveInput{Outcome: "succeeded", ProcessID: "nosuch", ProcessPass: "nosuch"})
				wantErr(t, err, kessai.KindInvalid, "process_not_found")
				v, err := e.payer.Resolve(e.Ctx, shopID, p.ID, cardpay.ResolveInput{Outcome: "succeeded", ProcessID: tx.ProcessID, ProcessPass: tx.ProcessPass})
				if err != nil {
					t.Fatal(err)
				}
				want := map[escott.OperateID]kessai.PaymentState{escott.OpAuth: kessai.PaymentAuthorized, escott.OpGathering: kessai.PaymentCaptured}[op]
				if v.State.Kind != want || v.State.Amount != 6600 {
					t.Fatalf("resolved view %+v", v.State)
				}
				rp := e.GetPayment(p.ID)
				paytest.WantState(t, rp, want)
				if rp.ProcessID != tx.ProcessID || rp.ProcessPass != tx.ProcessPass {
					t.Fatalf("resolved payment %+v", rp)
				}
				paytest.WantStatus(t, e.GetOrder(o.ID), kessai.OrderProcessing)
				if a := e.Attempts(p.ID); a[0].Status != kessai.AttemptSucceeded || a[0].Resolution == "" {
					t.Fatalf("attempt %+v", a[0])
				}
				// The resolved payment can be operated on.
				if op == escott.OpAuth {
					if _, err := e.payer.Operate(e.Ctx, shopID, p.ID, escott.OpCapture, 0); err != nil {
						t.Fatal(err)
					}
					if e.simTxn(tx.ProcessID).Status != "CAPTURED" {
						t.Fatal("not captured")
					}
				}
				_, err = e.payer.Resolve(e.Ctx, shopID, p.ID, cardpay.ResolveInput{Outcome: "failed"})
				wantErr(t, err, kessai.KindConflict, "payment_not_unknown")
				if n := len(e.simTxnsOf(o.ID)); n != 1 {
					t.Fatalf("%d transactions", n)
				}
			})
		}
	}
}

// TestResolveFailed: the operator finds no transaction → the payment and
// the order fail, and the shopper may pay again.
func TestResolveFailed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	o := e.order(1000)
	// Lost BEFORE processing: the request was written, so the client
	// cannot tell either — unknown as well, and the simulator has nothing.
	e.Sim.AddFault(sim.Fault{Kind: sim.FaultReset, Op: escott.OpGathering, Times: 1})
	_, err := e.pay(o, e.tok(visaOK))
	p := wantUnknown(t, e, o, err)
	if n := len(e.simTxns()); n != 0 {
		t.Fatalf("%d transactions for a fault before processing", n)
	}
	for _, bad := range []cardpay.ResolveInput{{Outcome: "maybe"}, {Outcome: "succeeded"}, {Outcome: "failed", ProcessID: "x"}} {
		_, err := e.payer.Resolve(e.Ctx, shopID, p.ID, bad)
		wantErr(t, err, kessai.KindInvalid, "")
	}
	v, err := e.payer.Resolve(e.Ctx, shopID, p.ID, cardpay.ResolveInput{Outcome: "failed"})
	if err != nil {
		t.Fatal(err)
	}
	if v.Payment.State != kessai.PaymentFailed {
		t.Fatalf("view %+v", v.Payment)
	}
	paytest.WantState(t, e.GetPayment(p.ID), kessai.PaymentFailed)
	paytest.WantStatus(t, e.GetOrder(o.ID), kessai.OrderFailed)
	if a := e.Attempts(p.ID); a[0].Status != kessai.AttemptFailed || a[0].Resolution == "" {
		t.Fatalf("attempt %+v", a[0])
	}
	e.mustPay(e.GetOrder(o.ID), e.tok(visaOK))
	paytest.WantStatus(t, e.GetOrder(o.ID), kessai.OrderProcessing)
	if n := len(e.simTxnsOf(o.ID)); n != 1 {
		t.Fatalf("%d transactions", n)
	}
}

// refuseOp is a client transport that fails calls of one OperateId
// before writing anything, as a refused connection does: the client
// knows the gateway never saw the request.
type refuseOp struct {
	next    http.RoundTripper
	op      string
	refused atomic.Int64
}

func (r *refuseOp) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		if bytes.Contains(b, []byte("OperateId="+r.op+"&")) || bytes.HasSuffix(b, []byte("OperateId="+r.op)) {
			r.refused.Add(1)
			return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
		}
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	return r.next.RoundTrip(req)
}

// TestRequestNotWritten: when the client can tell that the request never
// left (connection refused), nothing can have happened at the gateway:
// the payment fails instead of becoming unknown, and the shopper can pay
// again.
func TestRequestNotWritten(t *testing.T) {
	t.Parallel()
	ref := &refuseOp{op: string(escott.OpGathering)}
	e := newEnv(t, withTransport(func(next http.RoundTripper) http.RoundTripper { ref.next = next; return ref }))
	o := e.order(1000)
	_, err := e.pay(o, e.tok(visaOK))
	f := wantFailure(t, err, kessai.KindDeclined, "payment_failed")
	if ref.refused.Load() != 1 || !slices.Equal(f.Codes, []string{escott.CodeNG}) {
		t.Fatalf("refused %d, failure %+v", ref.refused.Load(), f)
	}
	p := e.GetPayment(f.PaymentID)
	paytest.WantState(t, p, kessai.PaymentFailed)
	if a := e.Attempts(p.ID); len(a) != 1 || a[0].Status != kessai.AttemptFailed {
		t.Fatalf("attempts %+v", a)
	}
	paytest.WantStatus(t, e.GetOrder(o.ID), kessai.OrderFailed)
	if n := len(e.simTxns()); n != 0 {
		t.Fatalf("%d transactions", n)
	}
	ref.op = "none"
	e.mustPay(e.GetOrder(o.ID), e.tok(visaOK))
}

// TestForcedResponseCode: a refusal the gateway answers (here injected)
// is an ordinary decline.
func TestForcedResponseCode(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	o := e.order(1000)
	e.Sim.AddFault(sim.Fault{Kind: sim.FaultResponseCode, Op: escott.OpGathering, ResponseCd: "G55", Times: 1})
	_, err := e.pay(o, e.tok(visaOK))
	f := wantFailure(t, err, kessai.KindDeclined, "payment_failed")
	if !slices.Equal(f.Codes, []string{"G55"}) {
		t.Fatalf("codes %v", f.Codes)
	}
	paytest.WantState(t, e.GetPayment(f.PaymentID), kessai.PaymentFailed)
	paytest.WantStatus(t, e.GetOrder(o.ID), kessai.OrderFailed)
	if n := len(e.simTxns()); n != 0 {
		t.Fatalf("%d transactions", n)
	}
}

// TestFaultsBeforeTheCharge: a token check or a member step that fails
// (whatever the reason, even a lost answer: no money moves there) fails
// the checkout with its own message (CARD-07, CARD-17), before any
// authorisation.
func TestFaultsBeforeTheCharge(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		fault  sim.Fault
		member bool // the customer has a saved card already
		code   string
		ja     string
	}{
		{"1TokenSearch reset", sim.Fault{Kind: sim.FaultReset, Op: escott.OpTokenSearch}, false, "token_invalid", ""},
		{"1TokenSearch code", sim.Fault{Kind: sim.FaultResponseCode, Op: escott.OpTokenSearch, ResponseCd: "KHX"}, false, "token_invalid", ""},
		{"4MemAdd reset", sim.Fault{Kind: sim.FaultReset, Op: escott.OpMemAdd}, false, "member_register_failed", "カード会員情報の登録に失敗しました。"},
		{"4MemAdd empty body after", sim.Fault{Kind: sim.FaultEmptyBody, Op: escott.OpMemAdd, After: true}, false, "member_register_failed", "カード会員情報の登録に失敗しました。"},
		{"4MemAdd code", sim.Fault{Kind: sim.FaultResponseCode, Op: escott.OpMemAdd, ResponseCd: "K45"}, false, "member_register_failed", "カード会員情報の登録に失敗しました。"},
		{"4MemChg code", sim.Fault{Kind: sim.FaultResponseCode, Op: escott.OpMemChg, ResponseCd: "K75"}, true, "member_change_failed", "カード会員情報の変更に失敗しました。"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			if tc.member {
				if _, err := e.payer.SaveCard(e.Ctx, shopID, "flt", cardpay.SaveCardInput{Token: e.token(visaOK)}); err != nil {
					t.Fatal(err)
				}
			}
			o := e.order(1000, forCustomer("flt"))
			f := tc.fault
			f.Times = 1
			e.Sim.AddFault(f)
			in := e.tok(masterOK)
			in.SaveCard = true
			_, err := e.pay(o, in)
			fl := wantFailure(t, err, kessai.KindDeclined, tc.code)
			if tc.ja != "" && fl.Err.Ja != tc.ja {
				t.Fatalf("message %q, want %q", fl.Err.Ja, tc.ja)
			}
			if len(fl.Codes) == 0 || fl.PaymentID == "" {
				t.Fatalf("failure %+v", fl)
			}
			paytest.WantState(t, e.GetPayment(fl.PaymentID), kessai.PaymentFailed)
			paytest.WantStatus(t, e.GetOrder(o.ID), kessai.OrderFailed)
			if n := e.Calls.Count(escott.OpGathering) + e.Calls.Count(escott.OpAuth); n != 0 {
				t.Fatalf("%d authorisations after a failed step", n)
			}
			if n := len(e.simTxns()); n != 0 {
				t.Fatalf("%d transactions", n)
			}
			if !tc.member {
				if _, ok := e.member("flt"); ok {
					t.Fatal("member stored although the registration failed")
				}
			}
		})
	}
}

// TestRequestNotWrittenMessage: when the request certainly never left,
// the payment and the order are failed and the shopper may pay again, so
// the message must not be the lost-answer one ("do not pay again"): it
// says the gateway could not be reached and to try again (ERR-01).
func TestRequestNotWrittenMessage(t *testing.T) {
	t.Parallel()
	ref := &refuseOp{op: string(escott.OpGathering)}
	e := newEnv(t, withTransport(func(next http.RoundTripper) http.RoundTripper { ref.next = next; return ref }))
	o := e.order(1000)
	_, err := e.pay(o, e.tok(visaOK))
	f := wantFailure(t, err, kessai.KindDeclined, "payment_failed")
	paytest.WantStatus(t, e.GetOrder(o.ID), kessai.OrderFailed) // payable again
	if strings.Contains(f.Err.En, "do not pay again") || strings.Contains(f.Err.Ja, "再度のお支払い操作はしないでください") {
		t.Errorf("a payment that certainly did not happen tells the shopper not to pay again: %q", f.Err.En)
	}
}

// TestResolveWithAnotherTransaction: an operator attaching the ProcessId
// of another order's transaction (a copy-paste slip in the console) is
// refused — the amount 1Search reports must be the attempt's, and a
// handle another payment holds is not attached — so two payments never
// act on one transaction's money.
func TestResolveWithAnotherTransaction(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	other := e.mustPay(e.order(1000), e.tok(visaOK)).Payment
	o := e.order(6600)
	e.Sim.AddFault(sim.Fault{Kind: sim.FaultEmptyBody, Op: escott.OpGathering, After: true, Times: 1})
	_, err := e.pay(o, e.tok(visaOK))
	p := wantUnknown(t, e, o, err)
	otx := e.simTxn(other.ProcessID)
	_, err = e.payer.Resolve(e.Ctx, shopID, p.ID, cardpay.ResolveInput{Outcome: "succeeded", ProcessID: otx.ProcessID, ProcessPass: otx.ProcessPass})
	if err == nil {
		got := e.GetPayment(p.ID)
		t.Errorf("resolved a ¥6600 payment with the ¥1000 transaction of another order: now %s ¥%d with ProcessId %s (also held by %s)",
			got.State, got.Amount, got.ProcessID, other.ID)
	}
}

// TestReferenceFollowsGateway: an amount changed outside kessai (the
// e-SCOTT console) is learnt by the reference and recorded (ADMIN-04).
func TestReferenceFollowsGateway(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withCard("operation", "1Auth"))
	p := e.mustPay(e.order(5000), e.tok(visaOK)).Payment
	console, err := escott.New(escott.Config{Merchant: escott.Merchant{MerchantID: paytest.DemoID, MerchantPass: sim.DemoMerchant.TestPass, TenantID: "0001"},
		Environment: escott.Test, BaseURL: e.SimURL, Now: e.Sim.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := console.Change(e.Ctx, escott.FollowUp{Process: escott.Process{ProcessID: p.ProcessID, ProcessPass: p.ProcessPass}}, 4200); err != nil {
		t.Fatal(err)
	}
	v, err := e.payer.Reference(e.Ctx, shopID, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if v.Gateway.Amount != 4200 || v.State.Amount != 4200 || v.State.Kind != kessai.PaymentAuthorized {
		t.Fatalf("view %+v %+v", v.Gateway, v.State)
	}
	if got := e.GetPayment(p.ID); got.Amount != 4200 {
		t.Fatalf("payment amount %d", got.Amount)
	}
	h := e.History(p.ID)
	if last := h[len(h)-1]; last.Operation != escott.OpSearch || last.Amount != 4200 {
		t.Fatalf("history %+v", h)
	}
	// A second reference with the same amount writes nothing.
	if _, err := e.payer.Reference(e.Ctx, shopID, p.ID); err != nil {
		t.Fatal(err)
	}
	if n := len(e.History(p.ID)); n != len(h) {
		t.Fatalf("history grew to %d", n)
	}
}

// TestLostFollowUpAnswer: a capture whose answer is lost is reported as
// unknown and not retried; the attempt is unknown, the history and the
// payment's state are left as they were (the history records answers).
func TestLostFollowUpAnswer(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withCard("operation", "1Auth"))
	p := e.mustPay(e.order(3000), e.tok(visaOK)).Payment
	e.Sim.AddFault(sim.Fault{Kind: sim.FaultEmptyBody, Op: escott.OpCapture, After: true, Times: 1})
	_, err := e.payer.Operate(e.Ctx, shopID, p.ID, escott.OpCapture, 0)
	f := wantFailure(t, err, kessai.KindUnknown, "operation_unknown")
	if !slices.Equal(f.Codes, []string{escott.CodeNG}) {
		t.Fatalf("codes %v", f.Codes)
	}
	if n := e.Calls.Count(escott.OpCapture); n != 1 {
		t.Fatalf("%d captures sent", n)
	}
	paytest.WantState(t, e.GetPayment(p.ID), kessai.PaymentAuthorized)
	if h := e.History(p.ID); len(h) != 1 {
		t.Fatalf("history %+v", h)
	}
	a := e.Attempts(p.ID)
	if last := a[len(a)-1]; last.Operation != escott.OpCapture || last.Status != kessai.AttemptUnknown {
		t.Fatalf("attempt %+v", last)
	}
	// The gateway did capture; the reference shows its SalesDate.
	if e.simTxn(p.ProcessID).Status != "CAPTURED" {
		t.Fatal("simulator did not capture")
	}
	v, err := e.payer.Reference(e.Ctx, shopID, p.ID)
	if err != nil || v.Gateway == nil || v.Gateway.SalesDate == "" {
		t.Fatalf("reference %+v %v", v, err)
	}
}
