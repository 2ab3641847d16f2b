package cardpay_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/card"
	"github.com/kessai/kessai/cardpay"
	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/escott/sim"
	"github.com/kessai/kessai/internal/paytest"
)

const opsCustomer = "opc"

const day = 24 * time.Hour

// opsEnv is a pro shop with 1Auth whose customer opsCustomer has a saved
// card (registered outside any order); test members never expire here,
// so the clocks can move by months.
func opsEnv(t testing.TB, opts ...option) *env {
	t.Helper()
	opts = append([]option{withCard("operation", "1Auth"), withSim(func(c *sim.Config) { c.TestMemberLifetime = -1 })}, opts...)
	e := newEnv(t, opts...)
	if _, err := e.payer.SaveCard(e.Ctx, shopID, opsCustomer, cardpay.SaveCardInput{Token: e.token(visaOK)}); err != nil {
		t.Fatal(err)
	}
	return e
}

// memberPayment pays a new order of amount with the saved card.
func (e *env) memberPayment(amount int64) (*kessai.Order, *kessai.Payment) {
	e.T.Helper()
	o := e.order(amount, forCustomer(opsCustomer))
	res := e.mustPay(o, cardpay.PayInput{UseSavedCard: true})
	return o, e.GetPayment(res.Payment.ID)
}

func (e *env) operate(p *kessai.Payment, op escott.OperateID, amount int64) *cardpay.View {
	e.T.Helper()
	v, err := e.payer.Operate(e.Ctx, shopID, p.ID, op, amount)
	if err != nil {
		e.T.Fatalf("%s on %s: %v", op, p.ID, err)
	}
	return v
}

// opsStates reach each card state of spec §12.3 through real gateway
// calls and return the order and payment in that state.
var opsStates = []struct {
	name  string
	kind  kessai.PaymentState
	reach func(e *env) (*kessai.Order, *kessai.Payment)
}{
	{"new", kessai.PaymentNew, func(e *env) (*kessai.Order, *kessai.Payment) {
		// A declined checkout: the history has only the failed 1Auth.
		o := e.order(1000, forCustomer(opsCustomer))
		_, err := e.pay(o, e.tok(declineCd))
		f := wantFailure(e.T, err, kessai.KindDeclined, "payment_failed")
		return e.GetOrder(o.ID), e.GetPayment(f.PaymentID)
	}},
	{"authorized", kessai.PaymentAuthorized, func(e *env) (*kessai.Order, *kessai.Payment) {
		return e.memberPayment(1000)
	}},
	{"captured", kessai.PaymentCaptured, func(e *env) (*kessai.Order, *kessai.Payment) {
		o, p := e.memberPayment(1000)
		e.operate(p, escott.OpCapture, 0)
		return o, e.GetPayment(p.ID)
	}},
	{"gathered", kessai.PaymentCaptured, func(e *env) (*kessai.Order, *kessai.Payment) {
		e.card("operation", "1Gathering")
		return e.memberPayment(1000)
	}},
	{"cancelled", kessai.PaymentCancelled, func(e *env) (*kessai.Order, *kessai.Payment) {
		o, p := e.memberPayment(1000)
		e.operate(p, escott.OpDelete, 0)
		return o, e.GetPayment(p.ID)
	}},
	{"reauthorized", kessai.PaymentAuthorized, func(e *env) (*kessai.Order, *kessai.Payment) {
		o, p := e.memberPayment(1000)
		e.operate(p, escott.OpDelete, 0)
		e.operate(p, escott.OpReAuth, 1000)
		return o, e.GetPayment(p.ID)
	}},
	{"expired", kessai.PaymentExpired, func(e *env) (*kessai.Order, *kessai.Payment) {
		o, p := e.memberPayment(1000)
		e.Advance(61 * day)
		v, err := e.payer.Reference(e.Ctx, shopID, p.ID)
		if err != nil {
			e.T.Fatal(err)
		}
		if v.State.Kind != kessai.PaymentExpired || !v.State.Expired || len(v.Operations) != 0 {
			e.T.Fatalf("after K12: %+v", v.State)
		}
		return o, e.GetPayment(p.ID)
	}},
}

// opNewCharge stands for NewCharge (ADMIN-09) in the table.
const opNewCharge escott.OperateID = "new charge"

// simStatus is the simulator's transaction status of a payment state.
var simStatus = map[kessai.PaymentState]string{
	kessai.PaymentAuthorized: "AUTH", kessai.PaymentCaptured: "CAPTURED", kessai.PaymentCancelled: "CANCELLED",
}

// TestOperationMatrix is ADMIN-04 … ADMIN-09, ADMIN-16 and ADMIN-20 as
// one table: every card state, reached through real gateway calls, against
// every operation. Whether an operation is allowed comes from package
// card (Allowed, Operations); an allowed one must succeed at the
// simulator and leave the state the history derives, a refused one must
// be refused with card's code before any gateway call. The payments are
// member payments, so every follow-up needs the member ids (K80
// otherwise, ADMIN-11).
func TestOperationMatrix(t *testing.T) {
	t.Parallel()
	ops := []escott.OperateID{escott.OpCapture, escott.OpDelete, escott.OpChange, escott.OpReAuth, escott.OpSearch, opNewCharge}
	for _, sc := range opsStates {
		for _, op := range ops {
			t.Run(sc.name+"/"+string(op), func(t *testing.T) {
				t.Parallel()
				e := opsEnv(t)
				o, p := sc.reach(e)
				st := e.state(p.ID)
				if st.Kind != sc.kind {
					t.Fatalf("reached %s, want %s", st.Kind, sc.kind)
				}
				// The operator's view lists exactly card.Operations.
				v, err := e.payer.Get(e.Ctx, shopID, p.ID)
				if err != nil {
					t.Fatal(err)
				}
				if want := card.Operations(st); !slices.Equal(v.Operations, want) && !(len(v.Operations) == 0 && len(want) == 0) {
					if sc.kind != kessai.PaymentNew { // a failed payment offers nothing; new charge is per order
						t.Fatalf("view operations %v, card.Operations %v", v.Operations, want)
					}
				}
				var before sim.TransactionView
				if p.ProcessID != "" {
					before = e.simTxn(p.ProcessID)
				}
				calls := e.Calls.Count("")

				if op == opNewCharge {
					checkNewCharge(t, e, o, st)
					return
				}
				allowed := card.Allowed(st, op)
				if op != escott.OpSearch && (allowed == nil) != slices.Contains(card.Operations(st), op) {
					t.Fatalf("card.Allowed and card.Operations disagree on %s in %s", op, st.Kind)
				}
				var got *cardpay.View
				switch op {
				case escott.OpSearch:
					got, err = e.payer.Reference(e.Ctx, shopID, p.ID)
				case escott.OpChange:
					got, err = e.payer.Operate(e.Ctx, shopID, p.ID, op, 1234)
				case escott.OpReAuth:
					got, err = e.payer.Operate(e.Ctx, shopID, p.ID, op, 1500)
				default:
					got, err = e.payer.Operate(e.Ctx, shopID, p.ID, op, 0)
				}
				if allowed != nil {
					want := allowed.(*kessai.Error)
					wantErr(t, err, want.Kind, want.Code)
					if n := e.Calls.Count(""); n != calls {
						t.Fatalf("refused %s still called the gateway: %v", op, e.Calls.Since(calls))
					}
					if p.ProcessID != "" {
						if after := e.simTxn(p.ProcessID); after.Status != before.Status || len(after.History) != len(before.History) {
							t.Fatalf("simulator changed: %+v → %+v", before, after)
						}
					}
					return
				}
				if err != nil {
					t.Fatalf("%s in %s: %v", op, st.Kind, err)
				}
				checkAllowedOp(t, e, p, st, op, got)
			})
		}
	}
}

// checkAllowedOp checks an operation that went through: the simulator, the
// stored payment, the history and the view agree.
func checkAllowedOp(t *testing.T, e *env, p *kessai.Payment, st card.State, op escott.OperateID, v *cardpay.View) {
	t.Helper()
	after := e.state(p.ID)
	wantKind, wantAmount := st.Kind, st.Amount
	switch op {
	case escott.OpCapture:
		wantKind = kessai.PaymentCaptured
	case escott.OpDelete:
		wantKind = kessai.PaymentCancelled
	case escott.OpChange:
		wantAmount = 1234
	case escott.OpReAuth:
		wantAmount = 1500
		wantKind = map[escott.OperateID]kessai.PaymentState{escott.OpAuth: kessai.PaymentAuthorized,
			escott.OpGathering: kessai.PaymentCaptured}[st.Origin.Operation]
		if !after.Reauthorized || !v.State.Reauthorized {
			t.Fatalf("not marked re-authorised: %+v", after)
		}
	}
	if after.Kind != wantKind || v.State.Kind != wantKind || after.Amount != wantAmount || v.State.Amount != wantAmount {
		t.Fatalf("%s from %s: derived %s ¥%d, view %s ¥%d, want %s ¥%d", op, st.Kind, after.Kind, after.Amount,
			v.State.Kind, v.State.Amount, wantKind, wantAmount)
	}
	stored := e.GetPayment(p.ID)
	if stored.State != wantKind {
		t.Fatalf("stored state %s, want %s", stored.State, wantKind)
	}
	if !slices.Equal(v.Operations, card.Operations(after)) {
		t.Fatalf("view operations %v, want %v", v.Operations, card.Operations(after))
	}
	tx := e.simTxn(p.ProcessID)
	if wantKind != kessai.PaymentExpired && tx.Status != simStatus[wantKind] {
		t.Fatalf("simulator status %s, want %s", tx.Status, simStatus[wantKind])
	}
	if op != escott.OpDelete && tx.Amount != wantAmount {
		t.Fatalf("simulator amount %d, want %d", tx.Amount, wantAmount)
	}
	if op == escott.OpSearch && wantKind == kessai.PaymentExpired {
		// The gateway says K12 again: recorded, still expired.
		h := e.History(p.ID)
		if v.Gateway != nil || h[len(h)-1].ResponseCd != "K12" || len(v.Operations) != 0 {
			t.Fatalf("reference of an expired payment: %+v, last history %+v", v.Gateway, h[len(h)-1])
		}
		return
	}
	if op == escott.OpSearch {
		if v.Gateway == nil || v.Gateway.Amount != wantAmount {
			t.Fatalf("reference %+v", v.Gateway)
		}
		return
	}
	h := e.History(p.ID)
	last := h[len(h)-1]
	if last.Operation != op || last.ResponseCd != "OK" || last.TransactionID == "" {
		t.Fatalf("last history entry %+v", last)
	}
	ev := map[escott.OperateID]string{escott.OpCapture: kessai.EventPaymentCaptured, escott.OpDelete: kessai.EventPaymentCanceled,
		escott.OpChange: kessai.EventPaymentAmountChanged, escott.OpReAuth: kessai.EventPaymentReauthorized}[op]
	if evs := e.EventsAbout(p.ID); evs[len(evs)-1] != ev {
		t.Fatalf("events %v, want %s last", evs, ev)
	}
	// Follow-ups never change the order (ADMIN-17).
	if o := e.GetOrder(p.OrderID); o.Status != kessai.OrderProcessing {
		t.Fatalf("order %s", o.Status)
	}
}

// checkNewCharge is the table's "new charge" column (ADMIN-09): allowed
// where card allows a new authorisation, i.e. when the order has no
// transaction.
func checkNewCharge(t *testing.T, e *env, o *kessai.Order, st card.State) {
	t.Helper()
	calls := e.Calls.Count(escott.OpAuth) + e.Calls.Count(escott.OpGathering)
	v, err := e.payer.NewCharge(e.Ctx, shopID, o.ID, 1500, false)
	if card.Allowed(st, escott.OpAuth) != nil {
		wantErr(t, err, kessai.KindConflict, "")
		if n := e.Calls.Count(escott.OpAuth) + e.Calls.Count(escott.OpGathering); n != calls {
			t.Fatal("refused new charge reached the gateway")
		}
		return
	}
	if err != nil {
		t.Fatalf("new charge: %v", err)
	}
	if v.State.Kind != kessai.PaymentAuthorized || v.State.Amount != 1500 || v.Payment.PayType != escott.PayLump || !v.Payment.WithMember {
		t.Fatalf("view %+v payment %+v", v.State, v.Payment)
	}
	m, _ := e.member(opsCustomer)
	tx := e.simTxn(v.Payment.ProcessID)
	if tx.KaiinID != m.KaiinID || tx.Amount != 1500 || tx.Status != "AUTH" || tx.MerchantFree2 != o.ID {
		t.Fatalf("simulator %+v", tx)
	}
	paytest.WantStatus(t, e.GetOrder(o.ID), kessai.OrderProcessing)
	if !slices.Equal(v.Operations, card.Operations(card.State{Kind: kessai.PaymentAuthorized, Entry: &kessai.HistoryEntry{Operation: escott.OpAuth}})) {
		t.Fatalf("operations %v", v.Operations)
	}
}

// TestNewChargeAfterCancelOrExpiry: NewCharge (ADMIN-09, "an order
// without a transaction") refuses an order whose payment was cancelled or
// is past the handling period: spec §12.3 allows only 1ReAuth after a
// cancel and nothing after expiry, and for an expired *captured* payment
// a new charge would take the money a second time.
func TestNewChargeAfterCancelOrExpiry(t *testing.T) {
	t.Parallel()
	e := opsEnv(t, withCard("operation", "1Gathering"))
	o, p := e.memberPayment(1000)
	e.Advance(61 * day)
	if _, err := e.payer.Reference(e.Ctx, shopID, p.ID); err != nil {
		t.Fatal(err)
	}
	paytest.WantState(t, e.GetPayment(p.ID), kessai.PaymentExpired)
	if tx := e.simTxn(p.ProcessID); tx.Status != "CAPTURED" {
		t.Fatalf("simulator %+v", tx)
	}
	_, err := e.payer.NewCharge(e.Ctx, shopID, o.ID, 1000, true)
	if err == nil {
		t.Errorf("second charge of order %s accepted; the gateway now holds %d captured transactions for it", o.ID, len(e.simTxnsOf(o.ID)))
	}
}

// TestOperationMembers is ADMIN-11 / spec §12.1: follow-ups carry the
// member ids exactly when the transaction was made with a member (the
// simulator answers K80 / K81 otherwise).
func TestOperationMembers(t *testing.T) {
	t.Parallel()
	e := opsEnv(t)
	// Member payment: the capture must carry the ids (K80 otherwise).
	_, mp := e.memberPayment(1200)
	if !mp.WithMember || e.simTxn(mp.ProcessID).KaiinID == "" {
		t.Fatalf("member payment %+v", mp)
	}
	n := e.Calls.Count("")
	e.operate(mp, escott.OpCapture, 0)
	if got := e.Calls.Since(n); !slices.Equal(got, []escott.OperateID{escott.OpMemRefM, escott.OpCapture}) {
		t.Fatalf("gateway calls %v", got)
	}
	e.operate(mp, escott.OpChange, 1100)
	e.operate(mp, escott.OpDelete, 0)
	e.operate(mp, escott.OpReAuth, 1200)
	// 1Auth → 1Capture → 1Change → 1Delete → 1ReAuth: authorised again
	// on the original 1Auth (spec §12.2).
	if tx := e.simTxn(mp.ProcessID); tx.Status != "AUTH" || tx.Amount != 1200 || e.state(mp.ID).Kind != kessai.PaymentAuthorized {
		t.Fatalf("simulator %+v", tx)
	}
	// The same customer paying with a new card, not saved: no member ids
	// on the follow-ups (K81 otherwise), one call each.
	o := e.order(900, forCustomer(opsCustomer))
	res := e.mustPay(o, e.tok(masterOK))
	tp := e.GetPayment(res.Payment.ID)
	if tp.WithMember || e.simTxn(tp.ProcessID).KaiinID != "" {
		t.Fatalf("token payment %+v", tp)
	}
	n = e.Calls.Count("")
	e.operate(tp, escott.OpCapture, 0)
	if got := e.Calls.Since(n); !slices.Equal(got, []escott.OperateID{escott.OpCapture}) {
		t.Fatalf("gateway calls %v", got)
	}
}

// TestHandlingPeriod is ADMIN-16: day 60 after the authorisation is still
// inside; from day 61 kessai refuses before calling, and a reference
// records the gateway's K12 as expired.
func TestHandlingPeriod(t *testing.T) {
	t.Parallel()
	e := opsEnv(t)
	_, p60 := e.memberPayment(1000)
	_, p61 := e.memberPayment(2000)
	e.Advance(60 * day)
	e.operate(p60, escott.OpCapture, 0)
	if e.simTxn(p60.ProcessID).Status != "CAPTURED" {
		t.Fatal("day 60 capture did not reach the gateway")
	}
	e.Advance(day)
	n := e.Calls.Count("")
	for _, op := range []escott.OperateID{escott.OpCapture, escott.OpDelete, escott.OpChange, escott.OpReAuth} {
		_, err := e.payer.Operate(e.Ctx, shopID, p61.ID, op, 1500)
		wantErr(t, err, kessai.KindConflict, card.CodeHandlingPeriodExpired)
	}
	if got := e.Calls.Since(n); len(got) != 0 {
		t.Fatalf("gateway calls after the period: %v", got)
	}
	// The reference is exempt and learns K12 from the gateway.
	v, err := e.payer.Reference(e.Ctx, shopID, p61.ID)
	if err != nil {
		t.Fatal(err)
	}
	if v.State.Kind != kessai.PaymentExpired || len(v.Operations) != 0 || v.State.LabelJa != "期限切れ" {
		t.Fatalf("view %+v ops %v", v.State, v.Operations)
	}
	paytest.WantState(t, e.GetPayment(p61.ID), kessai.PaymentExpired)
	h := e.History(p61.ID)
	if last := h[len(h)-1]; last.Operation != escott.OpSearch || last.ResponseCd != "K12" {
		t.Fatalf("history %+v", h)
	}
	if evs := e.EventsAbout(p61.ID); evs[len(evs)-1] != kessai.EventPaymentExpired {
		t.Fatalf("events %v", evs)
	}
}

// TestAmountChange is ADMIN-07: a change to the current amount does
// nothing; a bad amount is refused on field amount; the state stays.
func TestAmountChange(t *testing.T) {
	t.Parallel()
	e := opsEnv(t)
	_, p := e.memberPayment(3000)
	n, hist := e.Calls.Count(""), len(e.History(p.ID))
	v := e.operate(p, escott.OpChange, 3000)
	if !v.Noop || v.State.Amount != 3000 {
		t.Fatalf("view %+v", v)
	}
	if e.Calls.Count("") != n || len(e.History(p.ID)) != hist {
		t.Fatal("a no-op change called the gateway or wrote history")
	}
	for _, amount := range []int64{0, -1, card.MaxAmount + 1} {
		_, err := e.payer.Operate(e.Ctx, shopID, p.ID, escott.OpChange, amount)
		wantField(t, err, "amount", "")
	}
	v = e.operate(p, escott.OpChange, 2500)
	if v.Noop || v.State.Kind != kessai.PaymentAuthorized || v.State.Amount != 2500 || !slices.Contains(v.Operations, escott.OpCapture) {
		t.Fatalf("view %+v ops %v", v.State, v.Operations)
	}
	if tx := e.simTxn(p.ProcessID); tx.Amount != 2500 || tx.Status != "AUTH" {
		t.Fatalf("simulator %+v", tx)
	}
	if got := e.GetPayment(p.ID); got.Amount != 2500 {
		t.Fatalf("payment amount %d", got.Amount)
	}
	// A re-authorisation at the same amount is not a no-op.
	n = e.Calls.Count(escott.OpReAuth)
	if v := e.operate(p, escott.OpReAuth, 2500); v.Noop || e.Calls.Count(escott.OpReAuth) != n+1 {
		t.Fatalf("re-auth at the same amount: %+v", v)
	}
	// An operation that is not a card follow-up.
	_, err := e.payer.Operate(e.Ctx, shopID, p.ID, escott.OpAuth, 100)
	wantErr(t, err, kessai.KindInvalid, card.CodeUnsupportedOperation)
}

// TestLightPlan is ADMIN-18 / design A-20: no operations in kessai; the
// refusal sends the operator to the e-SCOTT console.
func TestLightPlan(t *testing.T) {
	t.Parallel()
	e := opsEnv(t)
	o, p := e.memberPayment(1000)
	e.Settings(map[string]any{"plan": "light"})
	n := e.Calls.Count("")
	check := func(err error) {
		t.Helper()
		ke := wantErr(t, err, kessai.KindForbidden, card.CodeLightPlan)
		if !strings.Contains(ke.Ja, "e-SCOTT") || !strings.Contains(ke.En, "e-SCOTT") {
			t.Fatalf("refusal %q / %q does not name the e-SCOTT console", ke.Ja, ke.En)
		}
	}
	for _, op := range []escott.OperateID{escott.OpCapture, escott.OpDelete, escott.OpChange, escott.OpReAuth} {
		_, err := e.payer.Operate(e.Ctx, shopID, p.ID, op, 500)
		check(err)
	}
	_, err := e.payer.Reference(e.Ctx, shopID, p.ID)
	check(err)
	_, err = e.payer.NewCharge(e.Ctx, shopID, o.ID, 500, false)
	check(err)
	if got := e.Calls.Since(n); len(got) != 0 {
		t.Fatalf("gateway calls on the light plan: %v", got)
	}
	v, err := e.payer.Get(e.Ctx, shopID, p.ID)
	if err != nil || len(v.Operations) != 0 || v.State.Kind != kessai.PaymentAuthorized {
		t.Fatalf("light view %+v %v", v, err)
	}
}

// TestNewCharge is ADMIN-09: an order without a payment is charged with
// the customer's saved card; a customer without one is refused.
func TestNewCharge(t *testing.T) {
	t.Parallel()
	e := opsEnv(t)
	o := e.order(8000, forCustomer(opsCustomer))
	v, err := e.payer.NewCharge(e.Ctx, shopID, o.ID, 7500, true)
	if err != nil {
		t.Fatal(err)
	}
	if v.State.Kind != kessai.PaymentCaptured || v.Payment.Amount != 7500 || v.Payment.Operation != escott.OpGathering {
		t.Fatalf("view %+v payment %+v", v.State, v.Payment)
	}
	m, _ := e.member(opsCustomer)
	if tx := e.oneSimTxn(o.ID); tx.KaiinID != m.KaiinID || tx.Amount != 7500 || tx.Status != "CAPTURED" || tx.PayType != "01" {
		t.Fatalf("simulator %+v", tx)
	}
	paytest.WantStatus(t, e.GetOrder(o.ID), kessai.OrderProcessing)
	// The order is paid now.
	_, err = e.payer.NewCharge(e.Ctx, shopID, o.ID, 7500, true)
	wantErr(t, err, kessai.KindConflict, "order_already_paid")

	n := e.Calls.Count("")
	_, err = e.payer.NewCharge(e.Ctx, shopID, e.order(1000, forCustomer("nobody")).ID, 1000, false)
	wantErr(t, err, kessai.KindConflict, "customer_not_member")
	_, err = e.payer.NewCharge(e.Ctx, shopID, e.order(1000).ID, 1000, false)
	wantErr(t, err, kessai.KindConflict, "customer_not_member")
	_, err = e.payer.NewCharge(e.Ctx, shopID, o.ID, 0, false)
	wantField(t, err, "amount", card.CodeInvalidAmount)
	if got := e.Calls.Since(n); len(got) != 0 {
		t.Fatalf("gateway calls %v", got)
	}
	// A declined new charge is reported with the codes for the operator
	// (ERR-02).
	e.Sim.AddFault(sim.Fault{Kind: sim.FaultResponseCode, Op: escott.OpAuth, ResponseCd: "G12", Times: 1})
	o2 := e.order(1000, forCustomer(opsCustomer))
	_, err = e.payer.NewCharge(e.Ctx, shopID, o2.ID, 1000, false)
	f := wantFailure(t, err, kessai.KindDeclined, "payment_failed")
	if !slices.Equal(f.Codes, []string{"G12"}) || !strings.Contains(f.Err.Ja, "G12") {
		t.Fatalf("failure %+v %q", f, f.Err.Ja)
	}
	paytest.WantStatus(t, e.GetOrder(o2.ID), kessai.OrderFailed)
	var target *cardpay.Failure
	if !errors.As(err, &target) {
		t.Fatal("not a Failure")
	}
}
