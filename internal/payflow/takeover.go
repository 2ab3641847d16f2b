package payflow

import (
	"context"
	"errors"
	"time"

	"github.com/kessai/kessai"
)

// A payment still "new" (created, no outcome yet) holds its order's one
// active payment. A newer checkout of the order, of either method, takes
// it over only when it is provably idle — CheckNoCall, then TakeOver — so
// that the old and the new checkout can never both charge, while a
// shopper who left a card page and came back (perhaps to pick a
// convenience store instead) is not blocked.

// CheckNoCall refuses (ErrInProgress) to take over a payment with a gateway
// call under way or undecided: a pending or unknown attempt.
func CheckNoCall(ctx context.Context, st kessai.Store, pay *kessai.Payment) error {
	atts, err := st.ListAttempts(ctx, pay.ShopID, pay.ID)
	if err != nil {
		return StoreErr(err)
	}
	for _, a := range atts {
		if a.Status == kessai.AttemptPending || a.Status == kessai.AttemptUnknown {
			return ErrInProgress
		}
	}
	return nil
}

// TakeOver consumes the payment's open browser sessions (3-D Secure or
// link page), so that its return, should it still come, is refused; when
// one is being handled right now, the payment is in progress. The payment
// may then be superseded if it had such a session (the shopper came back
// and tried again) or has been left untouched for longer than stale;
// otherwise it is in progress (ErrInProgress).
func TakeOver(ctx context.Context, st kessai.Store, pay *kessai.Payment, now time.Time, stale time.Duration) error {
	sessions, err := st.ListOpenCheckoutSessions(ctx, pay.ShopID, pay.OrderID)
	if err != nil {
		return StoreErr(err)
	}
	idle := now.Sub(pay.UpdatedAt) > stale
	for _, s := range sessions {
		if s.PaymentID != pay.ID {
			continue
		}
		err := st.ConsumeCheckoutSession(ctx, pay.ShopID, s.ID, now)
		if errors.Is(err, kessai.ErrConflict) {
			return ErrInProgress // its return is being handled right now
		}
		if err != nil {
			return StoreErr(err)
		}
		idle = true
	}
	if !idle {
		return ErrInProgress
	}
	return nil
}
