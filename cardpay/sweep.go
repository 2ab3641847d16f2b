package cardpay

import (
	"context"
	"errors"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/internal/payflow"
)

// SweepResult counts what a sweep settled.
type SweepResult struct {
	// Unknown are attempts that stayed pending past the stale period:
	// the process died (or lost its database) during the call.
	Unknown int
	// Abandoned are payments that never reached a charge: the shopper
	// left at the 3-D Secure page, or the process died before the call.
	Abandoned int
}

// Sweep recovers from interruptions (design §4: a process killed at any
// point recovers on restart). It runs at start-up and periodically:
//
//   - an attempt still pending after the stale period had its call made
//     or not — nobody can tell — so it becomes unknown, with its payment
//     (payment.unknown), for an operator to resolve; a link checkout's
//     attempt waits until its session expires, since the shopper may
//     still be on the gateway's page;
//   - a payment still "new" without any attempt, whose session (if any)
//     expired, moved no money (every charge is preceded by an attempt):
//     it becomes failed, freeing the order.
func (p *Payer) Sweep(ctx context.Context, shopID string) (SweepResult, error) {
	var out SweepResult
	now := p.now()
	atts, err := p.store.ListAttemptsByStatus(ctx, shopID, kessai.AttemptPending, kessai.Page{Limit: 500})
	if err != nil {
		return out, payflow.StoreErr(err)
	}
	for i := range atts {
		a := &atts[i]
		if now.Sub(a.CreatedAt) < p.stale {
			continue
		}
		pay, err := p.store.GetPayment(ctx, shopID, a.PaymentID)
		if err != nil {
			return out, payflow.StoreErr(err)
		}
		if pay.Method != kessai.MethodCard {
			continue
		}
		open, err := p.openSession(ctx, pay)
		if err != nil {
			return out, err
		}
		if open {
			continue
		}
		a.Status, a.FinishedAt, a.Codes = kessai.AttemptUnknown, now, []string{"NG"}
		err = p.store.InTx(ctx, func(tx kessai.Store) error {
			if err := tx.FinishAttempt(ctx, a); err != nil {
				return err
			}
			cur, err := tx.GetPayment(ctx, shopID, pay.ID)
			if err != nil {
				return err
			}
			if cur.State != kessai.PaymentNew {
				return nil // a follow-up operation: the payment's state stands
			}
			cur.State, cur.UpdatedAt, cur.TransactionCode = kessai.PaymentUnknown, now, a.MerchantFree1
			if err := tx.UpdatePayment(ctx, cur); err != nil {
				return err
			}
			return p.svc.Emit(ctx, tx, shopID, kessai.EventPaymentUnknown, cur)
		})
		if errors.Is(err, kessai.ErrConflict) {
			continue // finished meanwhile
		}
		if err != nil {
			return out, payflow.StoreErr(err)
		}
		p.log.WarnContext(ctx, "cardpay: interrupted gateway call marked unknown", "shop", shopID, "payment", pay.ID,
			"attempt", a.ID, "merchant_free1", a.MerchantFree1)
		out.Unknown++
	}
	pays, err := p.store.ListPaymentsByState(ctx, shopID, kessai.PaymentNew, kessai.Page{Limit: 500})
	if err != nil {
		return out, payflow.StoreErr(err)
	}
	for i := range pays {
		pay := &pays[i]
		if pay.Method != kessai.MethodCard || now.Sub(pay.UpdatedAt) < p.stale {
			continue
		}
		atts, err := p.store.ListAttempts(ctx, shopID, pay.ID)
		if err != nil {
			return out, payflow.StoreErr(err)
		}
		if len(atts) > 0 {
			continue
		}
		open, err := p.openSession(ctx, pay)
		if err != nil {
			return out, err
		}
		if open {
			continue
		}
		running, err := p.returnRunning(ctx, pay)
		if err != nil {
			return out, err
		}
		if running {
			continue
		}
		abandoned, err := p.abandon(ctx, pay, "abandoned")
		if err != nil {
			return out, err
		}
		if abandoned {
			out.Abandoned++
		}
	}
	if out.Unknown > 0 {
		p.svc.Kick()
	}
	return out, nil
}

// openSession reports whether the payment has an unconsumed browser
// session that has not expired yet: the shopper may still come back.
func (p *Payer) openSession(ctx context.Context, pay *kessai.Payment) (bool, error) {
	ss, err := p.store.ListOpenCheckoutSessions(ctx, pay.ShopID, pay.OrderID)
	if err != nil {
		return false, payflow.StoreErr(err)
	}
	now := p.now()
	for _, s := range ss {
		if s.PaymentID == pay.ID && now.Before(s.ExpiresAt.Add(p.stale)) {
			return true, nil
		}
	}
	return false, nil
}
