package cvspay

import (
	"context"
	"errors"
	"strings"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/card"
	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/internal/payflow"
)

// codeUnconfirmed marks an unpaid collection (in Payment.FailureCodes)
// that received a payment notification 2Ref did not confirm: the gateway
// gave no answer, or answered "unpaid". The notification is answered 200
// regardless and the gateway does not send it again, so the sweep asks
// 2Ref once more for every collection carrying the mark (Sweep), and drops
// the mark when the answer is still "unpaid".
const codeUnconfirmed = "notification_unconfirmed"

// Notification refusals (kessai.Error.Code). The receiver only logs them:
// the gateway is answered 200 whatever happens (NOTIFY-02).
const (
	// CodeNotificationRejected: the notification does not match a
	// collection of ours (merchant, transaction code, order, method) or
	// the gateway does not confirm the payment (design A-09). Forged,
	// misrouted or premature; nothing was changed.
	CodeNotificationRejected = "notification_rejected"
	// CodeNotificationUnconfirmed: the 2Ref that should confirm the
	// payment got no answer; the sweep asks again.
	CodeNotificationUnconfirmed = "notification_unconfirmed"
)

func rejected(ja, en string) *kessai.Error {
	return kessai.Errorf(kessai.KindInvalid, CodeNotificationRejected, ja, en)
}

// Notify applies a payment notification (入金結果通知, NOTIFY-02, CVS-10).
// It has the signature of api.NotificationHandlers.Collection.
//
// The notification is believed only when every check of design A-09
// passes: its MerchantId is the shop's collection merchant; its
// MerchantFree1 is the transaction code of one of the shop's collections;
// its MerchantFree2 is that collection's order; and a 2Ref to the gateway,
// with the handle only kessai knows, reports the payment (NyukinDate).
// The notification carries no amount or handle of its own on the real
// gateway (spec §17 #8), so the gateway's answer, not the notification,
// supplies what is recorded: amount, channel, receipt number and payment
// date. Anything else is refused with CodeNotificationRejected and logged
// without secrets; nothing is changed.
//
// Applying is idempotent: the payment is marked paid, with its 入金
// history row, payment.paid, and the order status (processing, or
// completed per SET-17 and the virtual-items rule, card.
// OrderStatusAfterCollectionPaid), in one transaction that first checks
// the collection is still unpaid. A duplicate or replayed notification,
// or one that arrives after the expiry check or an operator's reference
// already found the payment, changes nothing and returns nil.
//
// Order of events, as handled:
//   - paid before the due date but notified after the collection was
//     marked expired (a late notification, or a payment the gateway
//     reports late): the payment is recorded — the money was received —
//     and an order that the expiry cancelled itself is reopened;
//   - notified while the registration is still being written (payment
//     "new") or after it was lost (unknown): it cannot be checked without
//     the gateway handle, so it is refused; the sweep and the operator's
//     resolution reach the payment through 2Ref instead;
//   - notified for a cancelled (2Del) collection: the gateway refuses
//     payment after a deletion, so it is refused unless 2Ref says paid.
func (c *Collector) Notify(ctx context.Context, shopID string, n *escott.Notification) error {
	if n == nil {
		return rejected("入金通知が空です。", "empty notification")
	}
	set, _, err := c.svc.GetSettings(ctx, shopID)
	if err != nil {
		return err
	}
	logRejected := func(reason string, attrs ...any) {
		base := []any{"shop", shopID, "reason", reason, "fields", maskedFields(n.Fields)}
		c.log.WarnContext(ctx, "cvspay: payment notification refused", append(base, attrs...)...)
	}
	if want := strings.TrimSpace(set.Collection.MerchantID); want == "" || n.MerchantID != want {
		logRejected("merchant id does not match the collection merchant")
		return rejected("入金通知のマーチャントIDが一致しません。", "the notification's MerchantId is not the shop's collection merchant")
	}
	if !plausibleCode(n.MerchantFree1) {
		logRejected("malformed transaction code")
		return rejected("入金通知の取引コードが不正です。", "the notification's transaction code (MerchantFree1) is malformed")
	}
	pay, err := c.store.FindPaymentByTransactionCode(ctx, shopID, n.MerchantFree1)
	switch {
	case errors.Is(err, kessai.ErrNotFound):
		logRejected("no payment with this transaction code")
		return rejected("入金通知の取引コードに該当する決済がありません。", "no payment has the notification's transaction code")
	case err != nil:
		return payflow.StoreErr(err)
	}
	if pay.Method != kessai.MethodCollection || pay.OrderID != n.MerchantFree2 {
		logRejected("transaction code of another order or method", "payment", pay.ID)
		return rejected("入金通知の注文または決済方法が一致しません。", "the notification's order or payment method does not match")
	}
	switch pay.State {
	case kessai.PaymentPaid:
		// Duplicates and replays land here without calling the gateway.
		c.log.InfoContext(ctx, "cvspay: payment notification for a paid collection ignored", "shop", shopID,
			"payment", pay.ID, "transaction_id", n.TransactionID)
		return nil
	case kessai.PaymentNew, kessai.PaymentUnknown, kessai.PaymentFailed:
		logRejected("collection without a confirmed registration", "payment", pay.ID, "state", pay.State)
		return kessai.Errorf(kessai.KindConflict, CodeNotificationRejected,
			"登録が確定していない取引への入金通知のため、確認できません。",
			"the notification names a collection whose registration is not confirmed; resolve the payment first")
	}
	e, err := c.env(ctx, shopID, false)
	if err != nil {
		return err
	}
	applied, st, err := c.reconcile(ctx, e, pay, "notification", n)
	switch {
	case payflow.NoAnswer(err):
		c.markUnconfirmed(ctx, pay)
		c.log.WarnContext(ctx, "cvspay: payment notification could not be confirmed (no answer to 2Ref); the sweep retries",
			"shop", shopID, "payment", pay.ID, "fields", maskedFields(n.Fields))
		return kessai.Errorf(kessai.KindUnavailable, CodeNotificationUnconfirmed,
			"入金通知を確認できませんでした（参照に応答がありません）。後で再確認します。",
			"the payment could not be confirmed with 2Ref (no answer); the sweep asks again")
	case temporaryRefusal(err):
		// A system error or maintenance at the gateway (C02, U95 …) says
		// nothing about the payment. Refusing the notification for good
		// would leave a paid collection unpaid, since the gateway is
		// answered 200 and does not send it again: the sweep asks again.
		c.markUnconfirmed(ctx, pay)
		c.log.WarnContext(ctx, "cvspay: payment notification could not be confirmed (2Ref temporarily refused); the sweep retries",
			"shop", shopID, "payment", pay.ID, "codes", gatewayCodes(err), "fields", maskedFields(n.Fields))
		return kessai.Errorf(kessai.KindUnavailable, CodeNotificationUnconfirmed,
			"入金通知を確認できませんでした（参照が一時的なエラーで失敗しました）。後で再確認します。",
			"the payment could not be confirmed: the gateway refused 2Ref with a temporary error; the sweep asks again")
	case err != nil && !isGatewayErr(err):
		return err
	case err != nil || st == nil || !st.Paid:
		logRejected("the gateway does not confirm the payment (2Ref)", "payment", pay.ID, "state", pay.State,
			"codes", gatewayCodes(err))
		if pay.State == kessai.PaymentPending {
			// Should the gateway's reference lag behind its own
			// notification, or refuse the reference with a code that
			// says nothing about the payment, the next sweep asks once
			// more (and drops the mark unless the answer is "paid" or a
			// temporary failure): at most one extra 2Ref per collection,
			// however many copies arrive.
			c.markUnconfirmed(ctx, pay)
		}
		if err != nil {
			return rejected("決済代行会社が入金の照会（2Ref）をエラーで返したため、入金通知を受け付けませんでした。再確認します。",
				"the gateway refused the 2Ref that confirms the payment ("+strings.Join(gatewayCodes(err), ",")+"); it is asked once more")
		}
		return rejected("決済代行会社で入金が確認できないため、入金通知を受け付けませんでした。",
			"the gateway does not confirm the payment (2Ref shows no NyukinDate)")
	}
	if applied {
		c.log.InfoContext(ctx, "cvspay: collection paid", "shop", shopID, "payment", pay.ID, "cvs", st.CvsCd)
	}
	return nil
}

// plausibleCode reports whether s can be a MerchantFree1 kessai issued
// (12 ASCII digits), so a forged value never reaches a query.
func plausibleCode(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// markUnconfirmed flags a collection whose notification could not be
// checked, so that the sweep checks it (codeUnconfirmed).
func (c *Collector) markUnconfirmed(ctx context.Context, pay *kessai.Payment) {
	err := c.store.InTx(ctx, func(tx kessai.Store) error {
		cur, err := tx.GetPayment(ctx, pay.ShopID, pay.ID)
		if err != nil {
			return err
		}
		if cur.State != kessai.PaymentPending && cur.State != kessai.PaymentExpired {
			return nil
		}
		cur.FailureCodes, cur.UpdatedAt = []string{codeUnconfirmed}, c.now()
		return tx.UpdatePayment(ctx, cur)
	})
	if err != nil {
		c.log.ErrorContext(ctx, "cvspay: could not mark an unconfirmed notification", "shop", pay.ShopID, "payment", pay.ID, "error", err)
	}
}

// reconcile asks the gateway about a registered collection (2Ref) and, when
// it reports the payment, records it (applyPaid). It returns whether this
// call recorded the payment, and the gateway's answer; the error is the
// call's (an *escott.Error for a refusal or no answer) or the store's.
// source says who asked ("notification", "reference", "expiry", "sweep"),
// for the history row.
func (c *Collector) reconcile(ctx context.Context, e *payflow.Env, pay *kessai.Payment, source string, n *escott.Notification) (bool, *escott.CollectionStatus, error) {
	hist, err := c.store.ListHistory(ctx, pay.ShopID, pay.ID)
	if err != nil {
		return false, nil, payflow.StoreErr(err)
	}
	proc, err := card.DeriveCollectionState(hist).Handle(pay)
	if err != nil {
		return false, nil, err
	}
	st, err := e.GW.ReferCollection(ctx, escott.Ref{MerchantFree1: pay.TransactionCode, MerchantFree2: pay.OrderID}, proc)
	if err != nil {
		return false, st, err
	}
	if !st.Paid {
		return false, st, nil
	}
	applied, err := c.applyPaid(ctx, e, pay, st, source, n)
	return applied, st, err
}

// reopenable is where a paid collection's order may come from: unpaid
// states (an admin registration leaves the order as it was).
var reopenable = []kessai.OrderStatus{kessai.OrderPending, kessai.OrderOnHold, kessai.OrderFailed}

// applyPaid records a payment the gateway confirmed (st.Paid): in one
// transaction, only if the collection is still unpaid (pending or
// expired), the payment becomes paid, a 入金 (paid) history row is written,
// payment.paid is emitted and the order moves to its status after payment
// (CVS-10, SET-17 — on every path, design A-08). It reports whether it
// recorded anything; false means someone else already had.
func (c *Collector) applyPaid(ctx context.Context, e *payflow.Env, pay *kessai.Payment, st *escott.CollectionStatus, source string, n *escott.Notification) (bool, error) {
	now := c.now()
	paidAt := now
	if t, err := escott.ParseNyukinDate(st.NyukinDate); err == nil {
		paidAt = t
	} else if n != nil {
		if t, err := escott.ParseNyukinDate(n.NyukinDate); err == nil {
			paidAt = t
		}
	}
	cvs := st.CvsCd
	if cvs == "" && n != nil {
		cvs = n.CvsCd
	}
	completed := e.Set.Collection.CompletedStatus == kessai.OrderCompleted
	applied := false
	var fallback bool
	write := func(tx kessai.Store, keepState bool) error {
		applied = false
		cur, err := tx.GetPayment(ctx, pay.ShopID, pay.ID)
		if err != nil {
			return err
		}
		if cur.State != kessai.PaymentPending && cur.State != kessai.PaymentExpired {
			return nil // paid already (a duplicate, or the other path won), or not ours to change
		}
		hist, err := tx.ListHistory(ctx, pay.ShopID, pay.ID)
		if err != nil {
			return err
		}
		if card.DeriveCollectionState(hist).Kind == kessai.PaymentPaid {
			return nil // recorded before with the state kept (see the fallback below)
		}
		amount := st.Amount
		if amount <= 0 {
			amount = cur.Amount
		}
		if amount != cur.Amount {
			c.log.WarnContext(ctx, "cvspay: paid amount differs from the registered amount", "shop", pay.ShopID,
				"payment", pay.ID, "registered", cur.Amount, "paid", amount)
		}
		h := c.historyEntry(cur, card.OpPaid, st.Response, nil, amount)
		h.Fields["Source"] = source
		h.Fields["NyukinDate"] = st.NyukinDate
		h.Fields["RecvNum"] = st.RecvNum
		h.Fields["CvsCd"] = cvs
		if n != nil {
			// The notification as received (NOTIFY-02 keeps it whole);
			// it carries nothing secret, but mask by name regardless.
			for k, v := range n.Fields {
				if len(v) > 0 {
					h.Fields["Notification."+k] = escott.MaskValue(k, v[0])
				}
			}
			h.TransactionID = n.TransactionID
		}
		wasExpired := cur.State == kessai.PaymentExpired
		cur.Amount, cur.PaidAt, cur.CvsCd, cur.FailureCodes, cur.UpdatedAt = amount, paidAt, cvs, nil, now
		if !keepState {
			cur.State = kessai.PaymentPaid
		} else {
			h.Fields["Note"] = "recorded while the order has another active payment"
		}
		if err := tx.UpdatePayment(ctx, cur); err != nil {
			return err
		}
		if err := tx.AppendHistory(ctx, h); err != nil {
			return err
		}
		if err := c.emit(ctx, tx, e.GW, kessai.EventPaymentPaid, cur, false); err != nil {
			return err
		}
		from := reopenable
		if wasExpired && cancelledByExpiry(hist) {
			// The expiry cancelled the order itself; the money
			// came after all, so that cancellation is undone.
			from = append(append([]kessai.OrderStatus(nil), reopenable...), kessai.OrderCancelled)
		}
		o, err := tx.GetOrder(ctx, pay.ShopID, pay.OrderID)
		if err != nil {
			return err
		}
		to := card.OrderStatusAfterCollectionPaid(completed, o)
		if _, _, err := c.updateOrder(ctx, tx, pay.ShopID, pay.OrderID, moveStatus(from, to)); err != nil {
			return err
		}
		*pay = *cur
		applied = true
		return nil
	}
	err := c.store.InTx(ctx, func(tx kessai.Store) error { return write(tx, false) })
	if errors.Is(err, kessai.ErrDuplicate) {
		// A late payment of an expired collection while the order has
		// another active payment: the store's one-active-payment rule
		// refuses "paid". The money was received all the same, so the
		// 入金 row and payment.paid are recorded (the history, hence the
		// derived state, says paid) and the operator is told loudly:
		// the shopper has paid twice.
		fallback = true
		err = c.store.InTx(ctx, func(tx kessai.Store) error { return write(tx, true) })
	}
	if err != nil {
		return false, payflow.StoreErr(err)
	}
	if applied {
		c.svc.Kick()
		if fallback {
			c.log.ErrorContext(ctx, "cvspay: collection paid while its order has another active payment: the shopper may have paid twice",
				"shop", pay.ShopID, "payment", pay.ID, "order", pay.OrderID)
		}
	}
	return applied, nil
}

// fieldOrderCancelled is the field of an expired row that records that the
// expiry cancelled the order (ExpireCancelsOrder), so that a late payment
// or a change can undo exactly that and nothing an operator did.
const fieldOrderCancelled = "OrderCancelled"

// cancelledByExpiry reports whether the newest expired row of the history
// cancelled the order.
func cancelledByExpiry(hist []kessai.HistoryEntry) bool {
	for i := len(hist) - 1; i >= 0; i-- {
		if hist[i].Operation == card.OpExpired && hist[i].ResponseCd == escott.CodeOK {
			return hist[i].Fields[fieldOrderCancelled] == "1"
		}
	}
	return false
}
