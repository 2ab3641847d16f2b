package cardpay

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/card"
	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/internal/payflow"
)

// View is a card payment as the operator's 決済情報 dialog shows it
// (ADMIN-04): the payment, its state derived from the history, the
// operations allowed now, and the history itself.
type View struct {
	Payment *kessai.Payment `json:"payment"`
	State   StateView       `json:"state"`
	// Operations are the OperateIds an operator may start now, in the
	// dialog's button order (empty on the light plan, ADMIN-18).
	Operations []escott.OperateID    `json:"operations"`
	History    []kessai.HistoryEntry `json:"history"`
	// Noop is set when the request changed nothing (an amount change to
	// the current amount, ADMIN-07).
	Noop bool `json:"noop,omitempty"`
	// Gateway is the live reference (1Search), when one was made.
	Gateway *GatewayView `json:"gateway,omitempty"`
}

// StateView is the derived state (ADMIN-20).
type StateView struct {
	Kind         kessai.PaymentState `json:"kind"`
	LabelJa      string              `json:"label_ja"`
	LabelEn      string              `json:"label_en"`
	Amount       int64               `json:"amount"`
	Reauthorized bool                `json:"reauthorized,omitempty"`
	Expired      bool                `json:"expired,omitempty"`
}

// GatewayView is what 1Search reported.
type GatewayView struct {
	Amount    int64  `json:"amount"`
	SalesDate string `json:"sales_date,omitempty"`
}

func (p *Payer) view(pay *kessai.Payment, hist []kessai.HistoryEntry, plan kessai.Plan) *View {
	st := card.DeriveState(hist)
	v := &View{Payment: pay, History: hist, Operations: []escott.OperateID{},
		State: StateView{Kind: st.Kind, LabelJa: st.Label(), LabelEn: st.LabelEn(), Amount: st.Amount,
			Reauthorized: st.Reauthorized, Expired: st.Expired}}
	if v.History == nil {
		v.History = []kessai.HistoryEntry{}
	}
	if plan == kessai.PlanPro && pay.State != kessai.PaymentUnknown && pay.State != kessai.PaymentNew {
		if st.Entry != nil {
			v.Operations = card.Operations(st)
		}
	}
	return v
}

// load reads a card payment and its history.
func (p *Payer) load(ctx context.Context, shopID, paymentID string) (*kessai.Payment, []kessai.HistoryEntry, error) {
	d, err := p.svc.GetPaymentDetail(ctx, shopID, paymentID)
	if err != nil {
		return nil, nil, err
	}
	if d.Payment.Method != kessai.MethodCard {
		return nil, nil, kessai.Errorf(kessai.KindInvalid, "not_a_card_payment",
			"カード決済ではありません。", "This is not a card payment.")
	}
	return d.Payment, d.History, nil
}

// Get returns the operator view of a card payment without calling the
// gateway.
func (p *Payer) Get(ctx context.Context, shopID, paymentID string) (*View, error) {
	set, _, err := p.svc.GetSettings(ctx, shopID)
	if err != nil {
		return nil, err
	}
	pay, hist, err := p.load(ctx, shopID, paymentID)
	if err != nil {
		return nil, err
	}
	return p.view(pay, hist, set.Plan), nil
}

var opEvents = map[escott.OperateID]string{
	escott.OpCapture: kessai.EventPaymentCaptured,
	escott.OpDelete:  kessai.EventPaymentCanceled,
	escott.OpChange:  kessai.EventPaymentAmountChanged,
	escott.OpReAuth:  kessai.EventPaymentReauthorized,
}

// Operate runs capture (1Capture), cancel (1Delete), amount change
// (1Change) or re-authorisation (1ReAuth) on a card payment (ADMIN-05 …
// ADMIN-08): allowed only on the pro plan, in the states of spec §12.3
// derived from the history, within 60 days of the authorisation. The
// member ids go along when the payment was made with a member whose card
// the gateway still finds (ADMIN-11; a K81 answer is retried without
// them by escott). Every answer, OK or not, is appended to the history;
// the order status is never changed (ADMIN-17).
func (p *Payer) Operate(ctx context.Context, shopID, paymentID string, op escott.OperateID, amount int64) (*View, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), checkoutTimeout)
	defer cancel()
	if _, ok := opEvents[op]; !ok {
		return nil, kessai.Errorf(kessai.KindInvalid, card.CodeUnsupportedOperation,
			"この操作はできません。", fmt.Sprintf("%s is not an operation on a card payment.", op))
	}
	e, err := p.env(ctx, shopID, false)
	if err != nil {
		return nil, err
	}
	if err := card.CheckPlan(e.Set.Plan); err != nil {
		return nil, err
	}
	pay, hist, err := p.load(ctx, shopID, paymentID)
	if err != nil {
		return nil, err
	}
	if pay.State == kessai.PaymentUnknown {
		return nil, errResolveFirst()
	}
	st := card.DeriveState(hist)
	if err := card.Permit(e.Set.Plan, st, op, p.now()); err != nil {
		return nil, err
	}
	if op == escott.OpChange || op == escott.OpReAuth {
		if err := card.CheckAmount(amount); err != nil {
			return nil, err
		}
		if card.IsNoop(st, op, amount) {
			v := p.view(pay, hist, e.Set.Plan)
			v.Noop = true
			return v, nil
		}
	} else {
		amount = 0
	}
	proc, err := st.Handle(pay)
	if err != nil {
		return nil, err
	}
	fu := escott.FollowUp{Ref: escott.Ref{MerchantFree1: pay.TransactionCode, MerchantFree2: pay.OrderID}, Process: proc}
	if pay.WithMember {
		fu.Member = p.confirmedMember(ctx, e, pay)
		if op == escott.OpReAuth && !fu.Member.IsZero() {
			fu.MerchantFree3 = pay.CustomerID
		}
	}
	att, err := p.beginAttempt(ctx, pay, op, pay.TransactionCode, amount, false)
	if err != nil {
		return nil, err
	}
	var res *escott.FollowUpResult
	switch op {
	case escott.OpCapture:
		res, err = e.GW.Capture(ctx, fu)
	case escott.OpDelete:
		res, err = e.GW.Delete(ctx, fu)
	case escott.OpChange:
		res, err = e.GW.Change(ctx, fu, amount)
	case escott.OpReAuth:
		res, err = e.GW.ReAuth(ctx, fu, amount)
	}
	return p.settleOp(ctx, e, pay, hist, att, op, amount, res, err)
}

// confirmedMember returns the member ids to send with a follow-up: those
// of the payment's customer when the gateway still finds the card
// (ADMIN-11), else none (escott's K81 rule covers the other mismatch).
func (p *Payer) confirmedMember(ctx context.Context, e *payflow.Env, pay *kessai.Payment) escott.Member {
	m, err := p.member(ctx, pay.ShopID, pay.CustomerID)
	if err != nil || m == nil {
		return escott.Member{}
	}
	if _, err := e.GW.ReferMember(ctx, escott.Ref{MerchantFree3: pay.CustomerID}, gwMember(m)); err != nil {
		return escott.Member{}
	}
	return gwMember(m)
}

func errResolveFirst() *kessai.Error {
	return kessai.Errorf(kessai.KindConflict, "payment_unknown",
		"この決済は結果が不明のままです。e-SCOTT の管理画面で取引を確認し、先に結果を確定してください。",
		"The outcome of this payment is unknown. Check the transaction in the e-SCOTT console and resolve it first.")
}

// settleOp writes a follow-up's outcome.
func (p *Payer) settleOp(ctx context.Context, e *payflow.Env, pay *kessai.Payment, hist []kessai.HistoryEntry, att *kessai.Attempt,
	op escott.OperateID, amount int64, res *escott.FollowUpResult, callErr error) (*View, error) {
	oc := payflow.OutcomeOf(callErr)
	codes := gatewayCodes(callErr)
	if callErr != nil && codes == nil {
		codes = []string{escott.CodeNG}
	}
	payflow.FinishAttempt(att, oc, codes, p.now())
	var entry *kessai.HistoryEntry
	if oc != payflow.Unknown {
		var resp *escott.Response
		if res != nil {
			resp = res.Response
		}
		entry = p.historyEntry(pay, op, resp, codes, amount)
		hist = append(hist, *entry)
	}
	if oc == payflow.Succeeded {
		st := card.DeriveState(hist)
		pay.State = st.Kind
		if st.Amount > 0 {
			pay.Amount = st.Amount
		}
		if res != nil && res.Process.ProcessPass != "" && res.Process.ProcessID == pay.ProcessID {
			pay.ProcessPass = res.Process.ProcessPass
		}
		pay.UpdatedAt = p.now()
	}
	err := p.store.InTx(ctx, func(tx kessai.Store) error {
		if err := tx.FinishAttempt(ctx, att); err != nil {
			return err
		}
		if entry != nil {
			if err := tx.AppendHistory(ctx, entry); err != nil {
				return err
			}
		}
		if oc != payflow.Succeeded {
			return nil
		}
		if err := tx.UpdatePayment(ctx, pay); err != nil {
			return err
		}
		return p.svc.Emit(ctx, tx, pay.ShopID, opEvents[op], pay)
	})
	if err != nil {
		return nil, payflow.StoreErr(err)
	}
	p.svc.Kick()
	switch oc {
	case payflow.Unknown:
		return nil, &Failure{Err: &kessai.Error{Kind: kessai.KindUnknown, Code: "operation_unknown",
			Ja: fmt.Sprintf("%sの結果を確認できませんでした。取引参照で現在の状態を確認してから操作してください。", op.Label()),
			En: fmt.Sprintf("The outcome of %s could not be confirmed. Check the current state with a reference before going on.", op)},
			PaymentID: pay.ID, OrderID: pay.OrderID, Codes: codes}
	case payflow.Failed:
		return nil, &Failure{Err: &kessai.Error{Kind: kessai.KindDeclined, Code: "operation_failed",
			Ja: fmt.Sprintf("%sに失敗しました。%s", op.Label(), escott.DescribeCodes(codes, "ja")),
			En: fmt.Sprintf("%s failed: %s", op, escott.DescribeCodes(codes, "en"))},
			PaymentID: pay.ID, OrderID: pay.OrderID, Codes: codes}
	}
	return p.view(pay, hist, e.Set.Plan), nil
}

// Reference asks the gateway for the transaction (1Search, ADMIN-04). K12
// means the handling period has passed: it is recorded, and the payment
// shows as expired with no operations (ADMIN-16). An amount that differs
// from the history's (changed in the e-SCOTT console) is recorded too, so
// the state follows the gateway.
func (p *Payer) Reference(ctx context.Context, shopID, paymentID string) (*View, error) {
	e, err := p.env(ctx, shopID, false)
	if err != nil {
		return nil, err
	}
	if err := card.CheckPlan(e.Set.Plan); err != nil {
		return nil, err
	}
	pay, hist, err := p.load(ctx, shopID, paymentID)
	if err != nil {
		return nil, err
	}
	st := card.DeriveState(hist)
	if err := card.Permit(e.Set.Plan, st, escott.OpSearch, p.now()); err != nil {
		return nil, err
	}
	proc, err := st.Handle(pay)
	if err != nil {
		return nil, err
	}
	res, err := e.GW.Search(ctx, escott.Ref{MerchantFree1: pay.TransactionCode, MerchantFree2: pay.OrderID}, proc)
	switch {
	case errors.Is(err, escott.ErrExpired):
		entry := p.historyEntry(pay, escott.OpSearch, res.Response, []string{"K12"}, 0)
		hist = append(hist, *entry)
		pay.State = kessai.PaymentExpired
		pay.UpdatedAt = p.now()
		err := p.store.InTx(ctx, func(tx kessai.Store) error {
			if err := tx.AppendHistory(ctx, entry); err != nil {
				return err
			}
			if err := tx.UpdatePayment(ctx, pay); err != nil {
				return err
			}
			return p.svc.Emit(ctx, tx, shopID, kessai.EventPaymentExpired, pay)
		})
		if err != nil {
			return nil, payflow.StoreErr(err)
		}
		p.svc.Kick()
		return p.view(pay, hist, e.Set.Plan), nil
	case err != nil:
		codes := gatewayCodes(err)
		if payflow.NoAnswer(err) {
			return nil, payflow.ErrGatewayUnavailable()
		}
		return nil, &Failure{Err: &kessai.Error{Kind: kessai.KindDeclined, Code: "reference_failed",
			Ja: "取引参照に失敗しました。" + escott.DescribeCodes(codes, "ja"), En: "The reference failed: " + escott.DescribeCodes(codes, "en")},
			PaymentID: pay.ID, OrderID: pay.OrderID, Codes: codes}
	}
	gv := &GatewayView{Amount: res.Amount, SalesDate: res.SalesDate}
	if res.Amount > 0 && res.Amount != st.Amount {
		entry := p.historyEntry(pay, escott.OpSearch, res.Response, nil, res.Amount)
		hist = append(hist, *entry)
		pay.Amount, pay.UpdatedAt = res.Amount, p.now()
		err := p.store.InTx(ctx, func(tx kessai.Store) error {
			if err := tx.AppendHistory(ctx, entry); err != nil {
				return err
			}
			return tx.UpdatePayment(ctx, pay)
		})
		if err != nil {
			return nil, payflow.StoreErr(err)
		}
	}
	v := p.view(pay, hist, e.Set.Plan)
	v.Gateway = gv
	return v, nil
}

// NewCharge charges an order that has no successful payment with the
// customer's saved card (ADMIN-09, 新規): lump sum, the operator's amount,
// 1Auth or 1Gathering, a new transaction code. The customer must be a card
// member whose card the gateway finds.
func (p *Payer) NewCharge(ctx context.Context, shopID, orderID string, amount int64, capture bool) (*View, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), checkoutTimeout)
	defer cancel()
	e, err := p.env(ctx, shopID, false)
	if err != nil {
		return nil, err
	}
	if err := card.CheckPlan(e.Set.Plan); err != nil {
		return nil, err
	}
	if err := card.CheckAmount(amount); err != nil {
		return nil, err
	}
	op := escott.OpAuth
	if capture {
		op = escott.OpGathering
	}
	pay, err := p.chargeSaved(ctx, e, shopID, orderID, amount, op)
	var f *Failure
	if errors.As(err, &f) {
		// The operator reads the codes (ERR-02), not the shopper's text.
		f.Err.Ja = "新規決済に失敗しました。" + escott.DescribeCodes(f.Codes, "ja")
		f.Err.En = "The new charge failed: " + escott.DescribeCodes(f.Codes, "en")
		if f.Err.Kind == kessai.KindUnknown {
			f.Err.Ja, f.Err.En = errResolveFirst().Ja, errResolveFirst().En
		}
		return nil, f
	}
	if err != nil {
		return nil, err
	}
	return p.Get(ctx, shopID, pay.ID)
}

// Renew charges a subscription's renewal order on the customer's saved
// card (SUB-03): the order's amount, lump sum, with 定期購入処理区分
// (SET-10), the member ids and a new transaction code, after a 4MemRefM;
// the order's status then follows CARD-15 with that operation (SUB-05).
// The same rules as every charge apply: an order has one active payment
// at a time, so a second Renew of an order being charged or charged
// already is refused (payment_in_progress, order_paid), and a lost answer
// leaves the payment unknown (a *Failure of KindUnknown), never retried.
// A declined charge is a *Failure with the gateway's codes; a customer
// without a saved card (or one the gateway no longer finds) is
// "customer_not_member" / "card_not_found".
func (p *Payer) Renew(ctx context.Context, shopID, orderID string) (*kessai.Payment, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), checkoutTimeout)
	defer cancel()
	e, err := p.env(ctx, shopID, false)
	if err != nil {
		return nil, err
	}
	if err := card.CheckPlan(e.Set.Plan); err != nil {
		return nil, err
	}
	o, err := p.svc.GetOrder(ctx, shopID, orderID)
	if err != nil {
		return nil, err
	}
	if err := card.CheckAmount(o.Amount); err != nil {
		return nil, err
	}
	op := e.Set.Card.SubscriptionOperation
	if op != escott.OpAuth {
		op = escott.OpGathering // the default, and what anything unknown means
	}
	return p.chargeSaved(ctx, e, shopID, orderID, o.Amount, op)
}

// chargeSaved charges an order with the customer's saved card: NewCharge
// and Renew.
func (p *Payer) chargeSaved(ctx context.Context, e *payflow.Env, shopID, orderID string, amount int64, op escott.OperateID) (*kessai.Payment, error) {
	o, err := p.svc.GetOrder(ctx, shopID, orderID)
	if err != nil {
		return nil, err
	}
	// ADMIN-09 is for an order without a transaction. One that ever had
	// one — even cancelled (1ReAuth revives it, spec §12.3) or past the
	// handling period (the gateway may still hold its money) — is not
	// charged again from here.
	pays, err := p.store.ListPayments(ctx, shopID, o.ID)
	if err != nil {
		return nil, payflow.StoreErr(err)
	}
	for _, old := range pays {
		// Active payments are refused by createPayment with their own
		// reasons (paid, in progress, unknown).
		if old.ProcessID != "" && !old.State.Active() {
			return nil, kessai.Errorf(kessai.KindConflict, "order_has_transaction",
				"この注文にはすでに決済取引（"+old.ID+"、状態: "+string(old.State)+"）があるため、新規決済はできません。取消済みの取引は再オーソリで戻せます。",
				"This order already has a transaction ("+old.ID+", "+string(old.State)+"), so no new charge can be made; a cancelled one can be re-authorised.")
		}
	}
	m, err := p.member(ctx, shopID, o.CustomerID)
	if err != nil {
		return nil, err
	}
	if m == nil {
		return nil, kessai.Errorf(kessai.KindConflict, "customer_not_member", "カード会員情報未登録",
			"The order's customer has no saved card.")
	}
	if _, err := e.GW.ReferMember(ctx, escott.Ref{MerchantFree2: o.ID, MerchantFree3: o.CustomerID}, gwMember(m)); err != nil {
		if payflow.NoAnswer(err) {
			return nil, payflow.ErrGatewayUnavailable()
		}
		return nil, cardNotFound(err)
	}
	code, err := p.newCode()
	if err != nil {
		return nil, err
	}
	now := p.now()
	pay := &kessai.Payment{ID: kessai.NewID(PaymentIDPrefix, now), ShopID: shopID, OrderID: o.ID, Method: kessai.MethodCard,
		State: kessai.PaymentNew, Amount: amount, Currency: kessai.Currency, TransactionCode: code, Operation: op,
		PayType: escott.PayLump, CustomerID: o.CustomerID, CreatedAt: now, UpdatedAt: now}
	if err := p.createPayment(ctx, pay); err != nil {
		return nil, err
	}
	req := escott.AuthRequest{Ref: escott.Ref{MerchantFree1: code, MerchantFree2: o.ID, MerchantFree3: o.CustomerID},
		Capture: op == escott.OpGathering, Amount: amount, PayType: escott.PayLump, Member: gwMember(m)}
	if err := p.authorize(ctx, e, authCall{order: o, pay: pay, req: req}); err != nil {
		return nil, err
	}
	return pay, nil
}

// ResolveInput settles a payment whose outcome is unknown (design gap
// #25): Outcome "succeeded" with the ProcessId and ProcessPass the
// operator found in the e-SCOTT console (checked with 1Search before
// anything is written), or "failed" when the console shows no such
// transaction.
type ResolveInput struct {
	Outcome     string `json:"outcome"`
	ProcessID   string `json:"process_id,omitempty"`
	ProcessPass string `json:"process_pass,omitempty"`
}

// Resolve settles an unknown payment.
func (p *Payer) Resolve(ctx context.Context, shopID, paymentID string, in ResolveInput) (*View, error) {
	if err := payflow.CheckResolve(in.Outcome, in.ProcessID, in.ProcessPass, processChars).Err(); err != nil {
		return nil, err
	}
	e, err := p.env(ctx, shopID, false)
	if err != nil {
		return nil, err
	}
	pay, hist, err := p.load(ctx, shopID, paymentID)
	if err != nil {
		return nil, err
	}
	att, err := payflow.UndecidedAttempt(ctx, p.store, pay)
	if err != nil {
		return nil, err
	}
	if att == nil {
		return nil, payflow.Internalf("cardpay: unknown payment %s has no unknown attempt", pay.ID)
	}
	o, err := p.store.GetOrder(ctx, shopID, pay.OrderID)
	if err != nil {
		return nil, payflow.StoreErr(err)
	}
	now := p.now()
	att.FinishedAt = now
	var entry *kessai.HistoryEntry
	var events []string
	var orderTo kessai.OrderStatus
	if in.Outcome == "failed" {
		att.Status, att.Resolution = kessai.AttemptFailed, "operator: no transaction at the gateway"
		pay.State = kessai.PaymentFailed
		events = []string{kessai.EventPaymentFailed}
		orderTo = kessai.OrderFailed
	} else {
		proc := escott.Process{ProcessID: in.ProcessID, ProcessPass: in.ProcessPass}
		res, err := e.GW.Search(ctx, escott.Ref{MerchantFree1: att.MerchantFree1, MerchantFree2: pay.OrderID}, proc)
		if err != nil {
			return nil, kessai.Errorf(kessai.KindInvalid, "process_not_found",
				"指定の取引を e-SCOTT で確認できませんでした。ProcessId と ProcessPass を確認してください。",
				"The gateway does not confirm this transaction: check process_id and process_pass.")
		}
		// A handle copied from another transaction (a slip in the
		// console) must not be attached: two payments would then act
		// on one transaction's money. The amount 1Search reports and
		// the handle's owner tell most slips apart.
		amount := res.Amount
		if amount == 0 {
			amount = att.Amount
		}
		if amount != att.Amount {
			return nil, kessai.Errorf(kessai.KindInvalid, "process_amount_mismatch",
				fmt.Sprintf("指定の取引の金額（%d円）がこの決済の金額（%d円）と一致しません。ProcessId を確認してください。", amount, att.Amount),
				fmt.Sprintf("The transaction's amount (%d yen) differs from this payment's (%d yen): check process_id.", amount, att.Amount))
		}
		if holder, err := p.store.FindPaymentByProcessID(ctx, shopID, in.ProcessID); err == nil && holder.ID != pay.ID {
			return nil, kessai.Errorf(kessai.KindConflict, "process_id_in_use",
				"指定の ProcessId は別の決済（"+holder.ID+"）の取引です。",
				"This ProcessId belongs to another payment ("+holder.ID+").")
		} else if err != nil && !errors.Is(err, kessai.ErrNotFound) {
			return nil, payflow.StoreErr(err)
		}
		att.Status, att.Resolution = kessai.AttemptSucceeded, "operator: confirmed with ProcessId "+in.ProcessID
		entry = p.historyEntry(pay, att.Operation, res.Response, nil, amount)
		entry.Fields["ProcessId"] = in.ProcessID
		entry.Fields["Resolution"] = "operator"
		hist = append(hist, *entry)
		st := card.DeriveState(hist)
		pay.State, pay.Amount = st.Kind, amount
		pay.ProcessID, pay.ProcessPass = in.ProcessID, in.ProcessPass
		pay.Operation, pay.TransactionCode, pay.FailureCodes = att.Operation, att.MerchantFree1, nil
		events = []string{kessai.EventPaymentAuthorized}
		if pay.State == kessai.PaymentCaptured {
			events = []string{kessai.EventPaymentCaptured}
		}
		orderTo = card.OrderStatusAfterPayment(att.Operation, e.Set.Card.CompletedStatus == kessai.OrderCompleted, o)
	}
	pay.UpdatedAt = now
	err = p.store.InTx(ctx, func(tx kessai.Store) error {
		if err := tx.FinishAttempt(ctx, att); err != nil {
			return err
		}
		if entry != nil {
			if err := tx.AppendHistory(ctx, entry); err != nil {
				return err
			}
		}
		if err := tx.UpdatePayment(ctx, pay); err != nil {
			return err
		}
		for _, ev := range events {
			if err := p.svc.Emit(ctx, tx, shopID, ev, pay); err != nil {
				return err
			}
		}
		return p.setOrderStatus(ctx, tx, o, orderTo)
	})
	if err != nil {
		if errors.Is(err, kessai.ErrDuplicate) {
			return nil, payflow.ErrAlreadyPaid
		}
		return nil, payflow.StoreErr(err)
	}
	p.svc.Kick()
	return p.view(pay, hist, e.Set.Plan), nil
}

// processChars reports whether s is plausible as a card ProcessId or
// ProcessPass typed by an operator: 1–64 printable ASCII characters, none
// of them a form separator (& or =).
func processChars(s string) bool {
	return s != "" && len(s) <= 64 && tokenChars(s) && !strings.ContainsAny(s, "&=")
}
