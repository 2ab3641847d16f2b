package cvspay

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/card"
	"github.com/kessai/kessai/collection"
	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/internal/payflow"
)

// View is a collection as the operator's 決済情報 dialog shows it
// (ADMIN-12): the payment, its state derived from the history, the
// operations allowed now, the shopper's payment details while payable, and
// the history itself.
type View struct {
	Payment *kessai.Payment `json:"payment"`
	State   StateView       `json:"state"`
	// Operations are the OperateIds an operator may start now on this
	// payment, in the dialog's button order: 2Del (取消), then 2Chg (変更)
	// unless already changed once. Empty on the light plan (ADMIN-18) and
	// for paid, cancelled, failed and unknown payments. A registration of
	// an order without one is RegisterFromAdmin, an action on the order.
	Operations []escott.OperateID    `json:"operations"`
	History    []kessai.HistoryEntry `json:"history"`
	// Collection is the shopper's payment details (link, due date,
	// e-mail text) while the collection can be paid: unpaid and not
	// expired, exactly when Details gives them.
	Collection *Details `json:"collection,omitempty"`
	// Gateway is the live reference (2Ref), when one was made.
	Gateway *GatewayView `json:"gateway,omitempty"`
	// Noop is set when the request changed nothing (a change to the
	// current due date and amount, ADMIN-13).
	Noop bool `json:"noop,omitempty"`
}

// StateView is the derived state (ADMIN-01, ADMIN-02, ADMIN-12).
type StateView struct {
	Kind    kessai.PaymentState `json:"kind"`
	LabelJa string              `json:"label_ja"`
	LabelEn string              `json:"label_en"`
	Amount  int64               `json:"amount"`
	// Changed: the one change (2Chg) has been used (ADMIN-13).
	Changed bool `json:"changed,omitempty"`
	// PastDue: unpaid and past the due date, not yet settled by the
	// expiry check (未入金（期限切れ）, CVS-11).
	PastDue  bool      `json:"past_due,omitempty"`
	PayLimit string    `json:"pay_limit,omitempty"`
	DueAt    time.Time `json:"due_at,omitzero"`
}

// GatewayView is what 2Ref reported (ADMIN-12).
type GatewayView struct {
	Paid       bool      `json:"paid"`
	Amount     int64     `json:"amount,omitempty"`
	PayLimit   string    `json:"pay_limit,omitempty"`
	NyukinDate string    `json:"nyukin_date,omitempty"`
	PaidAt     time.Time `json:"paid_at,omitzero"`
	RecvNum    string    `json:"recv_num,omitempty"`
	CvsCd      string    `json:"cvs_code,omitempty"`
	CvsName    string    `json:"cvs_name,omitempty"`
	// Codes are the refusal codes: K12 after a cancel (or for a
	// registration the gateway no longer knows).
	Codes []string `json:"codes,omitempty"`
}

// view builds the operator view. gw may be nil (no credentials): the
// details are then left out.
func (c *Collector) view(gw *escott.Client, pay *kessai.Payment, hist []kessai.HistoryEntry, plan kessai.Plan) *View {
	st := card.DeriveCollectionState(hist)
	kind := st.Kind
	ja, en := st.Label(), st.LabelEn()
	switch pay.State {
	case kessai.PaymentUnknown:
		kind, ja, en = pay.State, "結果不明", "unknown"
	case kessai.PaymentFailed:
		if st.Entry == nil {
			kind, ja, en = pay.State, "登録失敗", "registration failed"
		}
	case kessai.PaymentNew:
		kind, ja, en = pay.State, "処理中", "in progress"
	}
	v := &View{Payment: pay, History: hist, Operations: []escott.OperateID{},
		State: StateView{Kind: kind, LabelJa: ja, LabelEn: en, Amount: st.Amount, Changed: st.Changed, PayLimit: pay.PayLimit}}
	if v.History == nil {
		v.History = []kessai.HistoryEntry{}
	}
	if v.State.Amount == 0 {
		v.State.Amount = pay.Amount
	}
	if due, err := collection.DueAt(pay.PayLimit); err == nil {
		v.State.DueAt = due
	}
	unpaid := kind == kessai.PaymentPending || kind == kessai.PaymentExpired
	if kind == kessai.PaymentPending {
		if past, _ := collection.Expired(pay.PayLimit, c.now()); past {
			v.State.PastDue = true
			v.State.LabelJa, v.State.LabelEn = "未入金（期限切れ）", "unpaid (past due)"
		}
	}
	if plan == kessai.PlanPro && unpaid {
		for _, op := range card.CollectionOperations(st) {
			if op != escott.OpCvsAdd {
				v.Operations = append(v.Operations, op)
			}
		}
	}
	// Only a payable collection has details. An expired one is still
	// "unpaid" for the operations above (a change revives it), but its
	// link is dead — the agent's page refuses it — so a view (or an
	// e-mail built from one) must not send anyone there; Details refuses
	// it for the same reason.
	if kind == kessai.PaymentPending && pay.State == kessai.PaymentPending && gw != nil {
		v.Collection = details(gw, pay)
	}
	return v
}

// load reads a collection payment and its history.
func (c *Collector) load(ctx context.Context, shopID, paymentID string) (*kessai.Payment, []kessai.HistoryEntry, error) {
	d, err := c.svc.GetPaymentDetail(ctx, shopID, paymentID)
	if err != nil {
		return nil, nil, err
	}
	if d.Payment.Method != kessai.MethodCollection {
		return nil, nil, errNotCollection
	}
	return d.Payment, d.History, nil
}

// Get returns the operator view of a collection without calling the
// gateway (both plans: the light plan sees the state and the history, and
// no operations).
func (c *Collector) Get(ctx context.Context, shopID, paymentID string) (*View, error) {
	set, _, err := c.svc.GetSettings(ctx, shopID)
	if err != nil {
		return nil, err
	}
	pay, hist, err := c.load(ctx, shopID, paymentID)
	if err != nil {
		return nil, err
	}
	gw, _ := c.gw.Collection(&set) // without credentials the view has no payment link
	return c.view(gw, pay, hist, set.Plan), nil
}

// Details returns the shopper's payment details of a collection (design
// the thank-you page and the API show them): amount, fee, due date,
// payment link and e-mail text. KindConflict "collection_not_payable"
// when it is not (or no longer) payable.
func (c *Collector) Details(ctx context.Context, shopID, paymentID string) (*Details, error) {
	e, err := c.env(ctx, shopID, false)
	if err != nil {
		return nil, err
	}
	pay, _, err := c.load(ctx, shopID, paymentID)
	if err != nil {
		return nil, err
	}
	if d := details(e.GW, pay); d != nil && pay.State == kessai.PaymentPending {
		return d, nil
	}
	return nil, kessai.Errorf(kessai.KindConflict, "collection_not_payable",
		"このお支払いは現在お支払いいただける状態ではありません。", "This collection cannot be paid now.")
}

// opEnv loads what an operator action needs: the shop on the pro plan and
// the collection with its history, which must have a known outcome.
func (c *Collector) opEnv(ctx context.Context, shopID, paymentID string) (*payflow.Env, *kessai.Payment, []kessai.HistoryEntry, error) {
	e, err := c.env(ctx, shopID, false)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := checkPlan(e.Set.Plan); err != nil {
		return nil, nil, nil, err
	}
	pay, hist, err := c.load(ctx, shopID, paymentID)
	if err != nil {
		return nil, nil, nil, err
	}
	if pay.State == kessai.PaymentUnknown || pay.State == kessai.PaymentNew {
		return nil, nil, nil, errResolveFirst()
	}
	return e, pay, hist, nil
}

func errResolveFirst() *kessai.Error {
	return kessai.Errorf(kessai.KindConflict, "payment_unknown",
		"この決済は登録結果が不明のままです。e-SCOTT の管理画面で取引を確認し、先に結果を確定してください。",
		"The outcome of this registration is unknown. Check the transaction in the e-SCOTT console and resolve it first.")
}

// Reference asks the gateway about the collection (2Ref, ADMIN-12) and
// shows what it says. A payment the shop had not recorded (a lost
// notification) is recorded now, with the order status of SET-17 (design
// the plugins always used processing here). K12 after a cancel is
// the cancelled state; K12 for a collection kessai did not cancel means
// the gateway no longer knows it (deleted in the e-SCOTT console), which
// is recorded as a 2Ref row so the history shows it.
func (c *Collector) Reference(ctx context.Context, shopID, paymentID string) (*View, error) {
	e, pay, hist, err := c.opEnv(ctx, shopID, paymentID)
	if err != nil {
		return nil, err
	}
	st := card.DeriveCollectionState(hist)
	if err := card.PermitCollection(e.Set.Plan, st, escott.OpCvsRef, c.now()); err != nil {
		return nil, err
	}
	_, gs, err := c.reconcile(ctx, e, pay, "reference", nil)
	switch {
	case payflow.NoAnswer(err):
		return nil, payflow.ErrGatewayUnavailable()
	case err != nil && !isGatewayErr(err):
		return nil, err
	case hasCode(err, "K12"):
		gv := &GatewayView{Codes: gatewayCodes(err)}
		if st.Kind != kessai.PaymentCancelled {
			var resp *escott.Response
			if gs != nil {
				resp = gs.Response
			}
			h := c.historyEntry(pay, escott.OpCvsRef, resp, gv.Codes, 0)
			if err := c.store.AppendHistory(ctx, h); err != nil {
				return nil, payflow.StoreErr(err)
			}
		}
		v, err := c.Get(ctx, shopID, paymentID)
		if err != nil {
			return nil, err
		}
		v.Gateway = gv
		return v, nil
	case err != nil:
		codes := gatewayCodes(err)
		return nil, &Failure{Err: &kessai.Error{Kind: kessai.KindDeclined, Code: "reference_failed",
			Ja: "参照に失敗しました。" + escott.DescribeCodes(codes, "ja"), En: "The reference failed: " + escott.DescribeCodes(codes, "en")},
			PaymentID: pay.ID, OrderID: pay.OrderID, Codes: codes}
	}
	v, err := c.Get(ctx, shopID, paymentID)
	if err != nil {
		return nil, err
	}
	v.Gateway = gatewayView(gs)
	return v, nil
}

func gatewayView(gs *escott.CollectionStatus) *GatewayView {
	if gs == nil {
		return nil
	}
	gv := &GatewayView{Paid: gs.Paid, Amount: gs.Amount, PayLimit: gs.Get("PayLimit"), NyukinDate: gs.NyukinDate,
		RecvNum: gs.RecvNum, CvsCd: gs.CvsCd}
	if gs.CvsCd != "" {
		gv.CvsName = escott.CvsName(gs.CvsCd)
	}
	if t, err := escott.ParseNyukinDate(gs.NyukinDate); err == nil {
		gv.PaidAt = t
	}
	return gv
}

// ChangeInput is the operator's change of an unpaid collection (ADMIN-13).
type ChangeInput struct {
	// DueDate is the new 支払期日, YYYYMMDD or YYYY-MM-DD (JST), from today
	// (design A-26) to 60 days ahead; empty keeps the current one.
	DueDate string `json:"due_date,omitempty"`
	// Amount is the new 支払額; 0 keeps the current one.
	Amount int64 `json:"amount,omitempty"`
}

// Change changes the due date and/or the amount of an unpaid collection
// (2Chg, ADMIN-13): pro plan only; once (a second change is refused with
// card.CodeAlreadyChanged before anything is sent); never after payment
// (refused from the state; and when the gateway answers K14 because the
// payment is not recorded yet, it is reconciled at once and refused).
// Both values unchanged is a no-op. The gateway issues a new payment code,
// so the payment link changes: payment.pending is emitted again with the
// new details for the shop to re-inform the shopper ([MANUAL]), plus
// payment.amount_changed when the amount changed. An expired collection
// can be changed too (a new due date gives the shopper another chance);
// it is unpaid again, and an order that its expiry cancelled is put back
// on hold. The order's own total is not changed (ADMIN-17).
func (c *Collector) Change(ctx context.Context, shopID, paymentID string, in ChangeInput) (*View, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), callTimeout)
	defer cancel()
	e, pay, hist, err := c.opEnv(ctx, shopID, paymentID)
	if err != nil {
		return nil, err
	}
	now := c.now()
	st := card.DeriveCollectionState(hist)
	if err := card.PermitCollection(e.Set.Plan, st, escott.OpCvsChg, now); err != nil {
		return nil, err
	}
	var v kessai.ValidationErrors
	amount := pay.Amount
	if in.Amount != 0 {
		if err := card.CheckAmount(in.Amount); err != nil {
			v = append(v, kessai.AsError(err))
		}
		amount = in.Amount
	}
	payLimit := pay.PayLimit
	if in.DueDate != "" {
		pl, err := collection.PayLimitForDate(in.DueDate, now)
		if err != nil {
			v = append(v, kessai.AsError(err))
		}
		payLimit = pl
	} else if past, _ := collection.Expired(pay.PayLimit, now); past && amount != pay.Amount {
		// The gateway refuses a PayLimit in the past (K50).
		v.Add(collection.DueDateField, "due_date_required",
			"支払期限を過ぎているため、新しい支払期限を入力してください。",
			"The due date has passed: enter a new due date.")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if payLimit == pay.PayLimit && amount == pay.Amount {
		view := c.view(e.GW, pay, hist, e.Set.Plan)
		view.Noop = true
		return view, nil
	}
	proc, err := st.Handle(pay)
	if err != nil {
		return nil, err
	}
	att, err := c.beginAttempt(ctx, pay, escott.OpCvsChg, amount)
	if err != nil {
		return nil, err
	}
	res, callErr := e.GW.ChangeCollection(ctx, escott.Ref{MerchantFree1: pay.TransactionCode, MerchantFree2: pay.OrderID}, proc, payLimit, amount)
	var resp *escott.Response
	if res != nil {
		resp = res.Response
	}
	oldAmount := pay.Amount
	return c.settleOp(ctx, e, pay, att, escott.OpCvsChg, resp, callErr, amount, func(tx kessai.Store, cur *kessai.Payment, h *kessai.HistoryEntry) error {
		h.Fields["PayLimit"], h.Fields["Amount"] = payLimit, fmt.Sprint(amount)
		wasExpired := cur.State == kessai.PaymentExpired
		cur.State, cur.PayLimit, cur.Amount, cur.FailureCodes = kessai.PaymentPending, payLimit, amount, nil
		if res.FreeArea != "" {
			cur.FreeArea = res.FreeArea
		}
		if res.Process.ProcessPass != "" && res.Process.ProcessID == proc.ProcessID {
			cur.ProcessPass = res.Process.ProcessPass
		}
		if err := tx.UpdatePayment(ctx, cur); err != nil {
			return err
		}
		if err := c.emit(ctx, tx, e.GW, kessai.EventPaymentPending, cur, true); err != nil {
			return err
		}
		if amount != oldAmount {
			if err := c.emit(ctx, tx, e.GW, kessai.EventPaymentAmountChanged, cur, true); err != nil {
				return err
			}
		}
		if wasExpired && cancelledByExpiry(hist) {
			_, _, err := c.updateOrder(ctx, tx, cur.ShopID, cur.OrderID, moveStatus([]kessai.OrderStatus{kessai.OrderCancelled}, kessai.OrderOnHold))
			return err
		}
		return nil
	})
}

// Cancel deletes an unpaid collection at the gateway (2Del, ADMIN-14): pro
// plan only; final (no re-registration of the order, [MANUAL]); refused
// after payment like Change. The shopper can no longer pay; the order's
// status is not changed (ADMIN-14, ADMIN-17); payment.canceled is emitted.
func (c *Collector) Cancel(ctx context.Context, shopID, paymentID string) (*View, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), callTimeout)
	defer cancel()
	e, pay, hist, err := c.opEnv(ctx, shopID, paymentID)
	if err != nil {
		return nil, err
	}
	st := card.DeriveCollectionState(hist)
	if err := card.PermitCollection(e.Set.Plan, st, escott.OpCvsDel, c.now()); err != nil {
		return nil, err
	}
	proc, err := st.Handle(pay)
	if err != nil {
		return nil, err
	}
	att, err := c.beginAttempt(ctx, pay, escott.OpCvsDel, 0)
	if err != nil {
		return nil, err
	}
	resp, callErr := e.GW.DeleteCollection(ctx, escott.Ref{MerchantFree1: pay.TransactionCode, MerchantFree2: pay.OrderID}, proc)
	return c.settleOp(ctx, e, pay, att, escott.OpCvsDel, resp, callErr, 0, func(tx kessai.Store, cur *kessai.Payment, _ *kessai.HistoryEntry) error {
		cur.State, cur.FailureCodes = kessai.PaymentCancelled, nil
		if err := tx.UpdatePayment(ctx, cur); err != nil {
			return err
		}
		return c.emit(ctx, tx, e.GW, kessai.EventPaymentCanceled, cur, false)
	})
}

// settleOp writes the outcome of a 2Chg or 2Del: the attempt and the
// history row (OK or not) always, and on success, through apply, the
// payment and the events, in one transaction that first checks that the
// collection is still unpaid. A K14 answer (the gateway says the
// collection cannot be changed: typically paid before its notification
// arrived) is reconciled with 2Ref at once, so the operator is told it was
// paid rather than left with a bare code.
func (c *Collector) settleOp(ctx context.Context, e *payflow.Env, pay *kessai.Payment, att *kessai.Attempt, op escott.OperateID,
	resp *escott.Response, callErr error, amount int64, apply func(tx kessai.Store, cur *kessai.Payment, h *kessai.HistoryEntry) error) (*View, error) {
	oc := outcomeOf(callErr)
	codes := gatewayCodes(callErr)
	now := c.now()
	payflow.FinishAttempt(att, oc, codes, now)
	var h *kessai.HistoryEntry
	if oc != payflow.Unknown {
		h = c.historyEntry(pay, op, resp, codes, amount)
	}
	err := c.store.InTx(ctx, func(tx kessai.Store) error {
		if err := tx.FinishAttempt(ctx, att); err != nil {
			return err
		}
		if oc == payflow.Unknown {
			return nil
		}
		if oc == payflow.Succeeded {
			cur, err := tx.GetPayment(ctx, pay.ShopID, pay.ID)
			if err != nil {
				return err
			}
			if cur.State != kessai.PaymentPending && cur.State != kessai.PaymentExpired {
				// Paid meanwhile (a notification between our check and
				// the call): the gateway accepted, so the row is kept,
				// but the paid state stands (card.DeriveCollectionState:
				// paid wins over any later row).
				return tx.AppendHistory(ctx, h)
			}
			cur.UpdatedAt = now
			if err := apply(tx, cur, h); err != nil {
				return err
			}
			*pay = *cur
		}
		return tx.AppendHistory(ctx, h)
	})
	if err != nil {
		c.log.ErrorContext(ctx, "cvspay: operation outcome not recorded", "shop", pay.ShopID, "payment", pay.ID,
			"operation", op, "outcome", oc, "codes", codes, "error", err)
		return nil, payflow.StoreErr(err)
	}
	c.svc.Kick()
	switch oc {
	case payflow.Unknown:
		c.log.WarnContext(ctx, "cvspay: operation outcome unknown", "shop", pay.ShopID, "payment", pay.ID, "operation", op, "error", callErr)
		return nil, &Failure{Err: &kessai.Error{Kind: kessai.KindUnknown, Code: "operation_unknown",
			Ja: fmt.Sprintf("%sの結果を確認できませんでした。参照で現在の状態を確認してから操作してください。", op.Label()),
			En: fmt.Sprintf("The outcome of %s could not be confirmed. Check the current state with a reference before going on.", op)},
			PaymentID: pay.ID, OrderID: pay.OrderID, Codes: codes}
	case payflow.Failed:
		if slices.Contains(codes, "K14") {
			if applied, gs, rerr := c.reconcile(ctx, e, pay, "reference", nil); rerr == nil && gs != nil && gs.Paid {
				if applied {
					c.log.InfoContext(ctx, "cvspay: operation refused because the collection was paid; payment recorded",
						"shop", pay.ShopID, "payment", pay.ID, "operation", op)
				}
				return nil, &Failure{Err: &kessai.Error{Kind: kessai.KindConflict, Code: card.CodeOperationNotAllowed,
					Ja: fmt.Sprintf("入金済みの取引は%sできません。", op.Label()),
					En: fmt.Sprintf("The collection has been paid, so %s is not possible.", strings.ToLower(nounEn(op)))},
					PaymentID: pay.ID, OrderID: pay.OrderID, Codes: codes}
			}
		}
		return nil, &Failure{Err: &kessai.Error{Kind: kessai.KindDeclined, Code: "operation_failed",
			Ja: fmt.Sprintf("%sに失敗しました。%s", op.Label(), escott.DescribeCodes(codes, "ja")),
			En: fmt.Sprintf("%s failed: %s", nounEn(op), escott.DescribeCodes(codes, "en"))},
			PaymentID: pay.ID, OrderID: pay.OrderID, Codes: codes}
	}
	hist, err := c.store.ListHistory(ctx, pay.ShopID, pay.ID)
	if err != nil {
		return nil, payflow.StoreErr(err)
	}
	return c.view(e.GW, pay, hist, e.Set.Plan), nil
}

// nounEn names a collection operation in English messages.
func nounEn(op escott.OperateID) string {
	switch op {
	case escott.OpCvsChg:
		return "The change of due date and amount"
	case escott.OpCvsDel:
		return "Cancellation"
	case escott.OpCvsAdd:
		return "Registration"
	}
	return "Reference"
}

// ResolveInput settles a registration whose answer was lost (design gap
// #25): Outcome "succeeded" with the ProcessId and ProcessPass the
// operator found in the e-SCOTT console (checked with 2Ref before anything
// is written) and, if known, the payment code (FreeArea) so the shopper's
// payment link can be shown again; or "failed" when the console shows no
// such registration.
type ResolveInput struct {
	Outcome     string `json:"outcome"`
	ProcessID   string `json:"process_id,omitempty"`
	ProcessPass string `json:"process_pass,omitempty"`
	FreeArea    string `json:"free_area,omitempty"`
}

// Resolve settles an unknown collection. "failed" fails the payment and the
// order (as a refused registration would, CVS-07) and removes the fee line,
// freeing the order for a new payment. "succeeded" records the
// registration (a 2Add row marked as the operator's), puts the order on
// hold, and — when the 2Ref shows the collection paid already — records
// the payment as well.
func (c *Collector) Resolve(ctx context.Context, shopID, paymentID string, in ResolveInput) (*View, error) {
	in.FreeArea = strings.TrimSpace(in.FreeArea)
	// The payment code (free_area) is the collection's own input: refused
	// with "failed" like the handle, and checked here when given.
	v := payflow.CheckResolve(in.Outcome, in.ProcessID, in.ProcessPass, handleChars, in.FreeArea)
	if in.Outcome == "succeeded" && in.FreeArea != "" && !handleChars(in.FreeArea) {
		v.Add("free_area", "invalid_free_area", "free_area（支払番号）は英数字で指定してください。", "free_area must be letters and digits.")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	e, err := c.env(ctx, shopID, false)
	if err != nil {
		return nil, err
	}
	pay, _, err := c.load(ctx, shopID, paymentID)
	if err != nil {
		return nil, err
	}
	// Only a registration leaves a collection unknown; a lost change or
	// cancel is settled by a reference instead.
	att, err := payflow.UndecidedAttempt(ctx, c.store, pay, escott.OpCvsAdd)
	if err != nil {
		return nil, err
	}
	if att == nil {
		return nil, payflow.Internalf("cvspay: unknown payment %s has no unknown registration attempt", pay.ID)
	}
	now := c.now()
	att.FinishedAt = now
	var gs *escott.CollectionStatus
	var h *kessai.HistoryEntry
	event := kessai.EventPaymentFailed
	var change func(o *kessai.Order) bool
	if in.Outcome == "failed" {
		att.Status, att.Resolution = kessai.AttemptFailed, "operator: no registration at the gateway"
		pay.State, pay.FailureCodes = kessai.PaymentFailed, []string{"resolved_failed"}
		change = func(o *kessai.Order) bool {
			changed := setFee(o, 0)
			return moveStatus([]kessai.OrderStatus{kessai.OrderPending}, kessai.OrderFailed)(o) || changed
		}
	} else {
		if other, err := c.store.FindPaymentByProcessID(ctx, shopID, in.ProcessID); err == nil && other.ID != pay.ID {
			return nil, kessai.FieldError("process_id", "process_in_use",
				"この ProcessId は別の決済に登録されています。", "This ProcessId belongs to another payment.")
		}
		proc := escott.Process{ProcessID: in.ProcessID, ProcessPass: in.ProcessPass}
		gs, err = e.GW.ReferCollection(ctx, escott.Ref{MerchantFree1: att.MerchantFree1, MerchantFree2: pay.OrderID}, proc)
		if err != nil {
			if payflow.NoAnswer(err) {
				return nil, payflow.ErrGatewayUnavailable()
			}
			return nil, kessai.Errorf(kessai.KindInvalid, "process_not_found",
				"指定の取引を e-SCOTT で確認できませんでした。ProcessId と ProcessPass を確認してください。",
				"The gateway does not confirm this registration: check process_id and process_pass.")
		}
		amount := att.Amount
		if !gs.Paid && gs.Amount > 0 {
			amount = gs.Amount
		}
		if pl := gs.Get("PayLimit"); pl != "" {
			if _, err := escott.ParsePayLimit(pl); err == nil {
				pay.PayLimit = pl
			}
		}
		att.Status, att.Resolution = kessai.AttemptSucceeded, "operator: confirmed with ProcessId "+in.ProcessID
		h = c.historyEntry(pay, escott.OpCvsAdd, gs.Response, nil, amount)
		h.Fields["ProcessId"] = in.ProcessID
		h.Fields["PayLimit"] = pay.PayLimit
		h.Fields["Amount"] = fmt.Sprint(amount)
		h.Fields["Resolution"] = "operator"
		pay.State, pay.Amount, pay.FailureCodes = kessai.PaymentPending, amount, nil
		pay.ProcessID, pay.ProcessPass, pay.FreeArea = in.ProcessID, in.ProcessPass, in.FreeArea
		pay.TransactionCode = att.MerchantFree1
		event = kessai.EventPaymentPending
		change = moveStatus(payflow.PayableStatuses, kessai.OrderOnHold)
	}
	pay.UpdatedAt = now
	err = c.store.InTx(ctx, func(tx kessai.Store) error {
		if err := tx.FinishAttempt(ctx, att); err != nil {
			return err
		}
		if h != nil {
			if err := tx.AppendHistory(ctx, h); err != nil {
				return err
			}
		}
		if err := tx.UpdatePayment(ctx, pay); err != nil {
			return err
		}
		if err := c.emit(ctx, tx, e.GW, event, pay, event == kessai.EventPaymentPending); err != nil {
			return err
		}
		_, _, err := c.updateOrder(ctx, tx, shopID, pay.OrderID, change)
		return err
	})
	if err != nil {
		if errors.Is(err, kessai.ErrDuplicate) {
			return nil, payflow.ErrAlreadyPaid
		}
		if errors.Is(err, kessai.ErrConflict) {
			return nil, payflow.ErrInProgress // resolved meanwhile
		}
		return nil, payflow.StoreErr(err)
	}
	c.svc.Kick()
	if gs != nil && gs.Paid {
		if _, err := c.applyPaid(ctx, e, pay, gs, "resolution", nil); err != nil {
			return nil, err
		}
	}
	return c.Get(ctx, shopID, pay.ID)
}

// handleChars reports whether s is plausible as a ProcessId, ProcessPass or
// FreeArea typed by an operator: 1–64 ASCII letters and digits.
func handleChars(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}
