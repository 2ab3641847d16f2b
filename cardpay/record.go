package cardpay

import (
	"context"
	"errors"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/card"
	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/internal/payflow"
)

// errSuperseded refuses to charge a payment that was replaced by a newer
// checkout of the order (or abandoned) while its shopper was at the
// gateway's page: the newer checkout is the one that pays.
var errSuperseded = kessai.Errorf(kessai.KindConflict, "payment_superseded",
	"この決済手続きは、同じ注文の新しい手続きに置き換えられたため中止しました。請求は発生していません。",
	"This checkout was replaced by a newer checkout of the same order and was stopped. Nothing was charged.")

// errUnknownBlocks is the refusal while an earlier payment's outcome is
// unknown: paying again could charge twice.
func errUnknownBlocks() *kessai.Error {
	e := errPaymentUnknown()
	e.Kind = kessai.KindConflict
	e.Code = "payment_unknown"
	return e
}

// createPayment inserts a new payment for o. When the order already has
// an active payment it decides, in this order: an unknown one blocks (do
// not pay twice); a successful one means the order is paid; a payment
// still "new" is superseded only if it is provably idle — waiting at the
// gateway page with its session unused (the shopper came back and tried
// again) or abandoned before any charge for longer than the stale period.
// Superseding consumes the old session, so its return, should it still
// come, is refused: the old and the new checkout can never both charge.
func (p *Payer) createPayment(ctx context.Context, pay *kessai.Payment) error {
	for range 3 {
		err := p.store.CreatePayment(ctx, pay)
		if err == nil {
			return nil
		}
		if !errors.Is(err, kessai.ErrDuplicate) {
			return payflow.StoreErr(err)
		}
		if err := p.supersede(ctx, pay.ShopID, pay.OrderID); err != nil {
			return err
		}
	}
	return payflow.ErrInProgress
}

// supersede clears the way for a new payment of an order, or says why not.
func (p *Payer) supersede(ctx context.Context, shopID, orderID string) error {
	pays, err := p.store.ListPayments(ctx, shopID, orderID)
	if err != nil {
		return payflow.StoreErr(err)
	}
	var cur *kessai.Payment
	for i := range pays {
		if pays[i].State.Active() {
			cur = &pays[i]
		}
	}
	if cur == nil {
		return nil // it went away meanwhile: try again
	}
	switch cur.State {
	case kessai.PaymentUnknown:
		return errUnknownBlocks()
	case kessai.PaymentNew:
	default:
		return payflow.ErrAlreadyPaid
	}
	if err := payflow.CheckNoCall(ctx, p.store, cur); err != nil {
		return err
	}
	now := p.now()
	// A browser return may be about to charge it (returnRunning): a card
	// payment's own reason to wait, before its sessions are taken.
	running, err := p.returnRunning(ctx, cur)
	if err != nil {
		return err
	}
	if running {
		return payflow.ErrInProgress
	}
	if err := payflow.TakeOver(ctx, p.store, cur, now, p.stale); err != nil {
		return err
	}
	abandoned, err := p.abandon(ctx, cur, "superseded")
	if err != nil {
		return err
	}
	if !abandoned {
		return payflow.ErrInProgress // an attempt began meanwhile
	}
	return nil
}

// returnRunning reports whether a browser return of the payment took its
// session recently: between taking the session and writing its attempt,
// the return makes gateway calls (3-D Secure result, 4MemAdd) during which
// the payment still looks idle. Within the stale period it is treated as
// running, so that a second checkout does not supersede a payment that is
// about to be charged.
func (p *Payer) returnRunning(ctx context.Context, pay *kessai.Payment) (bool, error) {
	if pay.TransactionCode == "" {
		return false, nil
	}
	s, err := p.store.FindCheckoutSession(ctx, pay.ShopID, pay.TransactionCode)
	if errors.Is(err, kessai.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, payflow.StoreErr(err)
	}
	if s.PaymentID != pay.ID || s.ConsumedAt.IsZero() {
		return false, nil
	}
	return p.now().Sub(s.ConsumedAt) < p.stale, nil
}

// abandon marks a payment that never reached a charge as failed, so that
// the order can be paid again. Nothing happened at the gateway, so no
// event is sent beyond payment.failed for the shop's records. It reports
// false, changing nothing, when the payment has left "new" or has an
// attempt: the check and the write share one transaction with
// beginAttempt's, so exactly one of "abandoned" and "charging" wins.
func (p *Payer) abandon(ctx context.Context, pay *kessai.Payment, reason string) (bool, error) {
	abandoned := false
	err := p.store.InTx(ctx, func(tx kessai.Store) error {
		abandoned = false
		cur, err := tx.GetPayment(ctx, pay.ShopID, pay.ID)
		if err != nil {
			return err
		}
		if cur.State != kessai.PaymentNew {
			return nil
		}
		atts, err := tx.ListAttempts(ctx, pay.ShopID, pay.ID)
		if err != nil {
			return err
		}
		if len(atts) > 0 {
			return nil
		}
		cur.State = kessai.PaymentFailed
		cur.FailureCodes = []string{reason}
		cur.UpdatedAt = p.now()
		if err := tx.UpdatePayment(ctx, cur); err != nil {
			return err
		}
		abandoned = true
		return p.svc.Emit(ctx, tx, pay.ShopID, kessai.EventPaymentFailed, cur)
	})
	if err != nil {
		return false, payflow.StoreErr(err)
	}
	if abandoned {
		p.svc.Kick()
	}
	return abandoned, nil
}

// beginAttempt records the intent of a money-moving call (design
// principle 3). The store allows one pending attempt per payment, so of
// two operators clicking at once only one reaches the gateway.
//
// The payment is read and touched in the same transaction as the attempt
// is written. A follow-up (charge false) requires it unchanged since the
// caller read it. The first charge of a payment (charge true) requires it
// to be still "new": a checkout superseded or abandoned meanwhile (abandon runs
// the mirror check) is never charged. On PostgreSQL both transactions
// write the payment row, so REPEATABLE READ makes the later one retry on
// fresh data; on SQLite they run one after the other.
func (p *Payer) beginAttempt(ctx context.Context, pay *kessai.Payment, op escott.OperateID, code string, amount int64, charge bool) (*kessai.Attempt, error) {
	now := p.now()
	a := payflow.NewAttempt(now, pay, op, code, amount)
	err := p.store.InTx(ctx, func(tx kessai.Store) error {
		cur, err := tx.GetPayment(ctx, pay.ShopID, pay.ID)
		if err != nil {
			return err
		}
		switch {
		case charge && cur.State != kessai.PaymentNew:
			return errSuperseded
		case !charge && (cur.State != pay.State || !cur.UpdatedAt.Equal(pay.UpdatedAt)):
			// Another operation finished between the caller's read
			// and now: the state the caller judged the operation by
			// is gone (two "capture" clicks, one after the other's
			// answer). Judge again on fresh data rather than send
			// the gateway an operation it may refuse (K14).
			return payflow.ErrInProgress
		}
		cur.UpdatedAt = now
		if err := tx.UpdatePayment(ctx, cur); err != nil {
			return err
		}
		pay.UpdatedAt = now
		return tx.CreateAttempt(ctx, a)
	})
	switch {
	case errors.Is(err, errSuperseded):
		return nil, errSuperseded
	case errors.Is(err, payflow.ErrInProgress):
		return nil, payflow.ErrInProgress
	}
	if err := payflow.AttemptErr(err); err != nil {
		return nil, err
	}
	return a, nil
}

// authCall is one authorisation (1Auth/1Gathering) and what it was for.
type authCall struct {
	order   *kessai.Order
	pay     *kessai.Payment
	req     escott.AuthRequest
	consent bool
}

// authorize runs the authorisation of a payment and settles it: the
// attempt first, then the call, then one transaction with the outcome.
func (p *Payer) authorize(ctx context.Context, e *payflow.Env, c authCall) error {
	att, err := p.beginAttempt(ctx, c.pay, c.req.Op(), c.req.MerchantFree1, c.req.Amount, true)
	if err != nil {
		return err
	}
	res, callErr := e.GW.Authorize(ctx, c.req)
	return p.settleAuth(ctx, e, c, att, res, callErr)
}

// settleAuth writes an authorisation's outcome: attempt, payment, history,
// order status and events, together.
func (p *Payer) settleAuth(ctx context.Context, e *payflow.Env, c authCall, att *kessai.Attempt, res *escott.AuthResult, callErr error) error {
	oc := payflow.OutcomeOf(callErr)
	codes := gatewayCodes(callErr)
	unreached := notSent(callErr)
	if callErr != nil && codes == nil {
		// Not a gateway answer at all (bad request built, cancelled
		// before sending): nothing can have happened at the gateway.
		codes = []string{escott.CodeNG}
		if payflow.Cancelled(callErr) {
			oc = payflow.Unknown
		}
	}
	now := p.now()
	payflow.FinishAttempt(att, oc, codes, now)
	pay := c.pay
	pay.UpdatedAt = now
	var resp *escott.Response
	if res != nil {
		resp = res.Response
	}
	var events []string
	switch oc {
	case payflow.Succeeded:
		pay.State = kessai.PaymentAuthorized
		events = append(events, kessai.EventPaymentAuthorized)
		if c.req.Capture {
			pay.State = kessai.PaymentCaptured
			events = []string{kessai.EventPaymentCaptured}
		}
		pay.ProcessID, pay.ProcessPass = res.Process.ProcessID, res.Process.ProcessPass
		pay.TransactionCode = c.req.MerchantFree1
		pay.Operation = c.req.Op()
		pay.Amount = c.req.Amount
		pay.PayType = c.req.PayType
		if pay.PayType == "" {
			pay.PayType = escott.PayLump
		}
		pay.WithMember = !c.req.Member.IsZero()
		pay.SecureResultCode = c.req.ThreeDS.SecureResultCode
		pay.Consent = c.consent
		pay.FailureCodes = nil
	case payflow.Unknown:
		pay.State = kessai.PaymentUnknown
		pay.TransactionCode = c.req.MerchantFree1
		pay.FailureCodes = codes
		events = append(events, kessai.EventPaymentUnknown)
	default:
		pay.State = kessai.PaymentFailed
		pay.FailureCodes = codes
		events = append(events, kessai.EventPaymentFailed)
	}
	var hist *kessai.HistoryEntry
	if oc != payflow.Unknown {
		hist = p.historyEntry(pay, c.req.Op(), resp, codes, c.req.Amount)
		if oc == payflow.Succeeded && !c.req.ThreeDS.IsZero() {
			// The plugins add the 3DS result and the consent to the
			// logged answer (CARD-09, ADMIN-02).
			hist.Fields["SecureResultCode"] = c.req.ThreeDS.SecureResultCode
		}
		if oc == payflow.Succeeded && c.consent {
			hist.Fields["Agreement"] = "1"
		}
	}
	var orderTo kessai.OrderStatus
	switch oc {
	case payflow.Succeeded:
		orderTo = card.OrderStatusAfterPayment(c.req.Op(), e.Set.Card.CompletedStatus == kessai.OrderCompleted, c.order)
	case payflow.Failed:
		orderTo = kessai.OrderFailed
	}
	err := p.store.InTx(ctx, func(tx kessai.Store) error {
		if err := payflow.RecordOutcome(ctx, tx, att, pay, hist); err != nil {
			return err
		}
		for _, ev := range events {
			if err := p.svc.Emit(ctx, tx, pay.ShopID, ev, pay); err != nil {
				return err
			}
		}
		if orderTo != "" {
			return p.setOrderStatus(ctx, tx, c.order, orderTo)
		}
		return nil
	})
	if err != nil {
		// The call happened but its outcome could not be written: the
		// attempt stays pending and the sweep turns it unknown, which
		// is the truth from the database's point of view.
		p.log.ErrorContext(ctx, "cardpay: authorisation outcome not recorded", "shop", pay.ShopID, "payment", pay.ID,
			"attempt", att.ID, "outcome", oc, "codes", codes, "error", err)
		return payflow.StoreErr(err)
	}
	p.svc.Kick()
	switch oc {
	case payflow.Succeeded:
		return nil
	case payflow.Unknown:
		p.log.WarnContext(ctx, "cardpay: authorisation outcome unknown", "shop", pay.ShopID, "payment", pay.ID,
			"merchant_free1", c.req.MerchantFree1, "error", callErr)
		return unknownFailure(pay)
	}
	if unreached {
		p.log.WarnContext(ctx, "cardpay: authorisation not sent", "shop", pay.ShopID, "payment", pay.ID, "error", callErr)
		return unreachedFailure("payment_failed", pay, c.order.ID, codes)
	}
	p.log.InfoContext(ctx, "cardpay: authorisation declined", "shop", pay.ShopID, "payment", pay.ID,
		"codes", codes, "description", escott.DescribeCodes(codes, "en"))
	return declined("payment_failed", pay, c.order.ID, codes)
}

// setOrderStatus moves the order to a status (from the payable ones) and
// emits order.updated when it changed.
func (p *Payer) setOrderStatus(ctx context.Context, tx kessai.Store, o *kessai.Order, to kessai.OrderStatus) error {
	changed, err := tx.SetOrderStatus(ctx, o.ShopID, o.ID, payflow.PayableStatuses, to, p.now())
	if err != nil || !changed {
		return err
	}
	fresh, err := tx.GetOrder(ctx, o.ShopID, o.ID)
	if err != nil {
		return err
	}
	*o = *fresh
	return p.svc.Emit(ctx, tx, o.ShopID, kessai.EventOrderUpdated, fresh)
}

// failBeforeCharge ends a payment that failed before any money moved (token
// check, member registration, 3-D Secure): the payment is failed and, per
// CARD-17, so is the order — unless keepOrder (the shopper cancelled at the
// gateway's page, CARD-13: the order stays as it was). att is the link
// checkout's pending attempt, if any. A 3-D Secure result already set on
// pay is kept (A-18: the operator sees why the payment stopped).
func (p *Payer) failBeforeCharge(ctx context.Context, o *kessai.Order, pay *kessai.Payment, att *kessai.Attempt, codes []string, keepOrder bool) error {
	if att != nil {
		payflow.FinishAttempt(att, payflow.Failed, codes, p.now())
	}
	err := p.store.InTx(ctx, func(tx kessai.Store) error {
		if att != nil {
			if err := tx.FinishAttempt(ctx, att); err != nil {
				return err
			}
		}
		cur, err := tx.GetPayment(ctx, pay.ShopID, pay.ID)
		if err != nil {
			return err
		}
		if cur.State != kessai.PaymentNew {
			return nil // settled meanwhile by someone else
		}
		cur.State = kessai.PaymentFailed
		cur.FailureCodes = codes
		cur.UpdatedAt = p.now()
		if pay.SecureResultCode != "" {
			cur.SecureResultCode = pay.SecureResultCode
		}
		if err := tx.UpdatePayment(ctx, cur); err != nil {
			return err
		}
		*pay = *cur
		if err := p.svc.Emit(ctx, tx, cur.ShopID, kessai.EventPaymentFailed, cur); err != nil {
			return err
		}
		if keepOrder {
			return nil
		}
		return p.setOrderStatus(ctx, tx, o, kessai.OrderFailed)
	})
	if err != nil {
		return payflow.StoreErr(err)
	}
	p.svc.Kick()
	return nil
}

// failOrder marks an order failed when a checkout failed before it had a
// payment (a saved card that could not be found, CARD-08).
func (p *Payer) failOrder(ctx context.Context, o *kessai.Order) error {
	err := p.store.InTx(ctx, func(tx kessai.Store) error { return p.setOrderStatus(ctx, tx, o, kessai.OrderFailed) })
	if err != nil {
		return payflow.StoreErr(err)
	}
	p.svc.Kick()
	return nil
}
