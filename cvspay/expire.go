package cvspay

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/card"
	"github.com/kessai/kessai/collection"
	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/internal/payflow"
)

// SweepResult counts what Expire and Sweep settled.
type SweepResult struct {
	// Expired are unpaid collections past their due date that a last 2Ref
	// found still unpaid: now expired (payment.expired).
	Expired int
	// OrdersCancelled are the orders of those that were cancelled because
	// the shop chose so (ExpireCancelsOrder).
	OrdersCancelled int
	// Paid are collections a 2Ref found paid although no notification was
	// recorded: at the due date (a lost or late notification), or after a
	// notification that could not be confirmed.
	Paid int
	// Deferred are collections whose 2Ref got no usable answer; the next
	// sweep asks again. A collection is never expired without an answer.
	Deferred int
	// Unknown are registrations, changes and cancellations whose call was
	// interrupted (the process died, or lost its database, during it).
	Unknown int
	// Abandoned are payments that never reached the gateway.
	Abandoned int
}

// Expire settles every unpaid collection of the shop whose due date
// (PayLimit, to the end of its minute, JST) is before now (design A-07,
// CVS-11). Each is asked about once more with 2Ref, because a payment made
// in the last minute may be reported after the deadline:
//
//   - paid: the payment is recorded as a notification would (applyPaid);
//   - unpaid, or unknown to the gateway (K12: deleted in the e-SCOTT
//     console): the collection is expired, with an 期限切れ history row and
//     payment.expired; when the shop chose ExpireCancelsOrder, its order is
//     cancelled (from on-hold, pending or failed only, never a paid order)
//     and the row records that, so that a late payment or a change can
//     undo exactly that cancellation;
//   - no answer: left for the next sweep (Deferred).
//
// The expiry is written in one transaction that checks the collection is
// still unpaid and still past due, so a notification or an operator's
// change racing the sweep wins cleanly. Errors of single collections are
// logged and counted; the returned error is a store failure that stopped
// the sweep.
func (c *Collector) Expire(ctx context.Context, shopID string, now time.Time) (SweepResult, error) {
	var out SweepResult
	var e *payflow.Env
	after := ""
	for {
		pays, err := c.store.ListPaymentsByState(ctx, shopID, kessai.PaymentPending, kessai.Page{Limit: sweepPage, After: after})
		if err != nil {
			return out, payflow.StoreErr(err)
		}
		for i := range pays {
			pay := &pays[i]
			if pay.Method != kessai.MethodCollection {
				continue
			}
			past, err := collection.Expired(pay.PayLimit, now)
			if err != nil || !past {
				continue
			}
			if e == nil {
				if e, err = c.env(ctx, shopID, false); err != nil {
					return out, err
				}
			}
			if err := c.expireOne(ctx, e, pay, now, &out); err != nil {
				return out, err
			}
		}
		if len(pays) < sweepPage {
			return out, nil
		}
		after = pays[len(pays)-1].ID
	}
}

// expireOne settles one collection past its due date (see Expire).
func (c *Collector) expireOne(ctx context.Context, e *payflow.Env, pay *kessai.Payment, now time.Time, out *SweepResult) error {
	applied, gs, err := c.reconcile(ctx, e, pay, "expiry", nil)
	switch {
	case err != nil && !isGatewayErr(err):
		var ke *kessai.Error
		if errors.As(err, &ke) && ke.Kind != kessai.KindInternal {
			return err
		}
		// A payment whose handle is broken cannot be asked about; it
		// must not stop the sweep of the others.
		c.log.ErrorContext(ctx, "cvspay: expiry check failed", "shop", pay.ShopID, "payment", pay.ID, "error", err)
		out.Deferred++
		return nil
	case payflow.NoAnswer(err), err != nil && !hasCode(err, "K12"):
		c.log.WarnContext(ctx, "cvspay: expiry check got no usable answer; retried at the next sweep", "shop", pay.ShopID,
			"payment", pay.ID, "codes", gatewayCodes(err))
		out.Deferred++
		return nil
	case err == nil && gs.Paid:
		if applied {
			c.log.InfoContext(ctx, "cvspay: collection found paid at its due date", "shop", pay.ShopID, "payment", pay.ID)
			out.Paid++
		}
		return nil
	}
	var resp *escott.Response
	if gs != nil {
		resp = gs.Response
	}
	codes := gatewayCodes(err) // nil (unpaid) or K12
	cancelOrder := e.Set.Collection.ExpireCancelsOrder
	expired, cancelled := false, false
	txErr := c.store.InTx(ctx, func(tx kessai.Store) error {
		expired, cancelled = false, false
		cur, err := tx.GetPayment(ctx, pay.ShopID, pay.ID)
		if err != nil {
			return err
		}
		if cur.State != kessai.PaymentPending {
			return nil // paid or cancelled meanwhile
		}
		if past, _ := collection.Expired(cur.PayLimit, now); !past {
			return nil // changed meanwhile to a later due date
		}
		if codes != nil {
			// The gateway's K12 answer goes into the history as it came.
			if err := tx.AppendHistory(ctx, c.historyEntry(cur, escott.OpCvsRef, resp, codes, 0)); err != nil {
				return err
			}
		}
		h := c.historyEntry(cur, card.OpExpired, nil, nil, 0)
		h.Fields["PayLimit"] = cur.PayLimit
		if cancelOrder {
			var err error
			_, cancelled, err = c.updateOrder(ctx, tx, cur.ShopID, cur.OrderID,
				moveStatus([]kessai.OrderStatus{kessai.OrderOnHold, kessai.OrderPending, kessai.OrderFailed}, kessai.OrderCancelled))
			if err != nil {
				return err
			}
		}
		if cancelled {
			h.Fields[fieldOrderCancelled] = "1"
		}
		cur.State, cur.UpdatedAt = kessai.PaymentExpired, c.now()
		if err := tx.UpdatePayment(ctx, cur); err != nil {
			return err
		}
		if err := tx.AppendHistory(ctx, h); err != nil {
			return err
		}
		expired = true
		return c.emit(ctx, tx, e.GW, kessai.EventPaymentExpired, cur, false)
	})
	if txErr != nil {
		return payflow.StoreErr(txErr)
	}
	if expired {
		c.svc.Kick()
		out.Expired++
		if cancelled {
			out.OrdersCancelled++
		}
		c.log.InfoContext(ctx, "cvspay: collection expired", "shop", pay.ShopID, "payment", pay.ID,
			"pay_limit", pay.PayLimit, "order_cancelled", cancelled, "codes", codes)
	}
	return nil
}

// Sweep is the periodic recovery of collections, for the job runner (every
// minute and at start-up, one process at a time, like cardpay's sweep). It
// settles, in this order:
//
//   - interrupted calls: an attempt (2Add, 2Chg, 2Del) still pending after
//     the stale period had its call made or not — nobody can tell — so it
//     becomes unknown; a registration's payment becomes unknown with it
//     (payment.unknown), for an operator to resolve, never retried;
//   - payments still "new" without any attempt after the stale period:
//     they never reached the gateway and are failed, freeing their order;
//   - unpaid collections whose payment notification could not be
//     confirmed (no answer to 2Ref at the time): 2Ref once more;
//   - Expire at the current time.
func (c *Collector) Sweep(ctx context.Context, shopID string) (SweepResult, error) {
	var out SweepResult
	now := c.now()
	if err := c.sweepAttempts(ctx, shopID, now, &out); err != nil {
		return out, err
	}
	if err := c.sweepNew(ctx, shopID, now, &out); err != nil {
		return out, err
	}
	if err := c.sweepUnconfirmed(ctx, shopID, &out); err != nil {
		return out, err
	}
	exp, err := c.Expire(ctx, shopID, now)
	out.Expired += exp.Expired
	out.OrdersCancelled += exp.OrdersCancelled
	out.Paid += exp.Paid
	out.Deferred += exp.Deferred
	return out, err
}

// sweepAttempts turns interrupted collection calls into unknown.
func (c *Collector) sweepAttempts(ctx context.Context, shopID string, now time.Time, out *SweepResult) error {
	after := ""
	for {
		atts, err := c.store.ListAttemptsByStatus(ctx, shopID, kessai.AttemptPending, kessai.Page{Limit: sweepPage, After: after})
		if err != nil {
			return payflow.StoreErr(err)
		}
		for i := range atts {
			a := &atts[i]
			if now.Sub(a.CreatedAt) < c.stale {
				continue
			}
			switch a.Operation {
			case escott.OpCvsAdd, escott.OpCvsChg, escott.OpCvsDel:
			default:
				continue // a card call: cardpay's sweep
			}
			pay, err := c.store.GetPayment(ctx, shopID, a.PaymentID)
			if err != nil {
				return payflow.StoreErr(err)
			}
			if pay.Method != kessai.MethodCollection {
				continue
			}
			a.Status, a.FinishedAt, a.Codes = kessai.AttemptUnknown, now, []string{escott.CodeNG}
			marked := false
			err = c.store.InTx(ctx, func(tx kessai.Store) error {
				marked = false
				if err := tx.FinishAttempt(ctx, a); err != nil {
					return err
				}
				cur, err := tx.GetPayment(ctx, shopID, pay.ID)
				if err != nil {
					return err
				}
				if a.Operation != escott.OpCvsAdd || cur.State != kessai.PaymentNew {
					// A change or cancel: the collection's state stands
					// until an operator's reference shows otherwise.
					return nil
				}
				cur.State, cur.UpdatedAt, cur.FailureCodes = kessai.PaymentUnknown, now, []string{escott.CodeNG}
				if err := tx.UpdatePayment(ctx, cur); err != nil {
					return err
				}
				marked = true
				return c.svc.Emit(ctx, tx, shopID, kessai.EventPaymentUnknown, eventData{Payment: cur})
			})
			if errors.Is(err, kessai.ErrConflict) {
				continue // finished meanwhile
			}
			if err != nil {
				return payflow.StoreErr(err)
			}
			if marked {
				c.svc.Kick()
			}
			c.log.WarnContext(ctx, "cvspay: interrupted gateway call marked unknown", "shop", shopID, "payment", pay.ID,
				"attempt", a.ID, "operation", a.Operation, "merchant_free1", a.MerchantFree1)
			out.Unknown++
		}
		if len(atts) < sweepPage {
			return nil
		}
		after = atts[len(atts)-1].ID
	}
}

// sweepNew fails collection payments that never reached the gateway.
func (c *Collector) sweepNew(ctx context.Context, shopID string, now time.Time, out *SweepResult) error {
	pays, err := c.store.ListPaymentsByState(ctx, shopID, kessai.PaymentNew, kessai.Page{Limit: sweepPage})
	if err != nil {
		return payflow.StoreErr(err)
	}
	for i := range pays {
		pay := &pays[i]
		if pay.Method != kessai.MethodCollection || now.Sub(pay.UpdatedAt) < c.stale {
			continue
		}
		atts, err := c.store.ListAttempts(ctx, shopID, pay.ID)
		if err != nil {
			return payflow.StoreErr(err)
		}
		if len(atts) > 0 {
			continue // sweepAttempts' business
		}
		if err := c.abandon(ctx, pay, "abandoned"); err != nil {
			return err
		}
		out.Abandoned++
	}
	return nil
}

// sweepUnconfirmed asks 2Ref again for unpaid collections whose
// notification could not be confirmed (codeUnconfirmed).
func (c *Collector) sweepUnconfirmed(ctx context.Context, shopID string, out *SweepResult) error {
	var e *payflow.Env
	after := ""
	for {
		pays, err := c.store.ListPaymentsByState(ctx, shopID, kessai.PaymentPending, kessai.Page{Limit: sweepPage, After: after})
		if err != nil {
			return payflow.StoreErr(err)
		}
		for i := range pays {
			pay := &pays[i]
			if pay.Method != kessai.MethodCollection || !slices.Contains(pay.FailureCodes, codeUnconfirmed) {
				continue
			}
			if e == nil {
				if e, err = c.env(ctx, shopID, false); err != nil {
					return err
				}
			}
			applied, gs, err := c.reconcile(ctx, e, pay, "sweep", nil)
			switch {
			case err != nil && !isGatewayErr(err):
				c.log.ErrorContext(ctx, "cvspay: re-check of a notification failed", "shop", shopID, "payment", pay.ID, "error", err)
				out.Deferred++
			case payflow.NoAnswer(err), temporaryRefusal(err):
				// Still no word on the payment: the mark stays and the
				// next sweep asks again.
				out.Deferred++
			case err == nil && gs.Paid:
				if applied {
					out.Paid++
				}
			default:
				// The gateway answered, and not "paid": the notification
				// was not true after all. The mark goes; the refusal is
				// logged as for a notification refused at once.
				c.log.WarnContext(ctx, "cvspay: payment notification refused on re-check (2Ref shows no payment)",
					"shop", shopID, "payment", pay.ID, "codes", gatewayCodes(err))
				if err := c.clearUnconfirmed(ctx, pay); err != nil {
					return err
				}
			}
		}
		if len(pays) < sweepPage {
			return nil
		}
		after = pays[len(pays)-1].ID
	}
}

// clearUnconfirmed removes the re-check mark of a collection.
func (c *Collector) clearUnconfirmed(ctx context.Context, pay *kessai.Payment) error {
	err := c.store.InTx(ctx, func(tx kessai.Store) error {
		cur, err := tx.GetPayment(ctx, pay.ShopID, pay.ID)
		if err != nil {
			return err
		}
		if !slices.Contains(cur.FailureCodes, codeUnconfirmed) {
			return nil
		}
		cur.FailureCodes = slices.DeleteFunc(cur.FailureCodes, func(s string) bool { return s == codeUnconfirmed })
		if len(cur.FailureCodes) == 0 {
			cur.FailureCodes = nil
		}
		cur.UpdatedAt = c.now()
		return tx.UpdatePayment(ctx, cur)
	})
	return payflow.StoreErr(err)
}

// SweepAll runs Sweep for every shop: the function the job runner's
// periodic recovery calls (jobs.Options.Recover, next to cardpay's sweep).
// A failing shop does not stop the others; their errors are joined.
func (c *Collector) SweepAll(ctx context.Context) error {
	shops, err := c.store.ListShops(ctx)
	if err != nil {
		return payflow.StoreErr(err)
	}
	var errs []error
	for _, s := range shops {
		if _, err := c.Sweep(ctx, s.ID); err != nil {
			errs = append(errs, fmt.Errorf("cvspay: sweep of shop %s: %w", s.ID, err))
		}
	}
	return errors.Join(errs...)
}
