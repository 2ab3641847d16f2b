package renewal

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/cardpay"
	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/service"
	"github.com/kessai/kessai/subscription"
)

// Due lists subscriptions (any shop) whose wake time has come, soonest
// first: the job runner's queue.
func (e *Engine) Due(ctx context.Context, limit int) ([]kessai.Subscription, error) {
	subs, err := e.store.ListSubscriptionsToWake(ctx, e.now(), limit)
	if err != nil {
		return nil, storeErr(err)
	}
	return subs, nil
}

// WakeDue wakes every due subscription in turn and reports how many it
// woke (the test clock and tests use it to run renewals synchronously;
// the job runner wakes them as separate durable jobs instead).
func (e *Engine) WakeDue(ctx context.Context) (int, error) {
	n := 0
	for {
		subs, err := e.Due(ctx, 100)
		if err != nil || len(subs) == 0 {
			return n, err
		}
		progress := false
		for _, s := range subs {
			before := s.UpdatedAt
			if err := e.Wake(ctx, s.ShopID, s.ID); err != nil {
				// One subscription's trouble (logged) does not hold up
				// the others; the durable job retries it.
				e.log.ErrorContext(ctx, "renewal: wake", "shop", s.ShopID, "subscription", s.ID, "err", err)
				continue
			}
			n++
			if after, err := e.store.GetSubscription(ctx, s.ShopID, s.ID); err == nil && !after.UpdatedAt.Equal(before) {
				progress = true
			}
		}
		if !progress {
			return n, nil // what is due waits for something else (a charge in flight elsewhere)
		}
	}
}

// Wake does what time has made due for one subscription: learns the
// outcome of its last renewal order if that changed (a resolution, a late
// payment), applies scheduled cancellations, expiry and the end of the
// grace period, and charges the period due. It is idempotent: waking a
// subscription with nothing due changes nothing, and two engines waking
// the same one charge it once.
func (e *Engine) Wake(ctx context.Context, shopID, id string) error {
	for range maxRaces {
		sub, err := e.get(ctx, shopID, id)
		if err != nil {
			if errors.Is(err, errNotFound) {
				return nil // deleted meanwhile: nothing to do
			}
			return err
		}
		done, err := e.wakeOnce(ctx, sub)
		if errors.Is(err, kessai.ErrConflict) {
			continue
		}
		if err != nil || done {
			return err
		}
	}
	return nil
}

// wakeOnce runs one decision over sub as read; ErrConflict asks Wake to
// read again. done is false when a step changed the subscription and the
// next step must see the new row.
func (e *Engine) wakeOnce(ctx context.Context, sub *kessai.Subscription) (done bool, err error) {
	now := e.now()
	expected := sub.UpdatedAt
	st := StateOf(sub)
	if st.Status != subscription.StatusActive && st.Status != subscription.StatusOnHold {
		if !sub.WakeAt.IsZero() { // a final subscription never wakes again
			sub.WakeAt, sub.UpdatedAt = time.Time{}, now
			return true, e.save(ctx, sub, expected, nil, nil)
		}
		return true, nil
	}
	// 1. The renewal order of the period due may have an outcome the
	// subscription has not recorded: a resolved unknown charge, or the
	// customer paying a failed renewal order.
	r, err := e.store.GetRenewal(ctx, sub.ShopID, sub.ID, sub.Period)
	if err != nil && !errors.Is(err, kessai.ErrNotFound) {
		return true, storeErr(err)
	}
	if err == nil && r.Status != kessai.RenewalSucceeded {
		outcome, codes, err := e.orderOutcome(ctx, sub.ShopID, r.OrderID)
		if err != nil {
			return true, err
		}
		switch {
		case outcome == kessai.RenewalSucceeded:
			return false, e.recordSuccess(ctx, sub, expected, r, now)
		case outcome == kessai.RenewalFailed && r.Status != kessai.RenewalFailed:
			// Resolved as failed, or declined by a process that died
			// before recording it.
			return false, e.recordFailure(ctx, sub, expected, r, subscription.Classify(codes), codes, now)
		case outcome == kessai.RenewalUnknown && !sub.Unconfirmed:
			// A charge whose answer was lost, or one in flight in a
			// process that died (or is still running): never charge
			// again; wait for its outcome.
			return false, e.recordFailure(ctx, sub, expected, r, subscription.DeclineUnknown, nil, now)
		case sub.Unconfirmed:
			// Still unknown: look again later.
			apply(sub, st, now)
			return true, e.save(ctx, sub, expected, nil, nil)
		}
	}
	// 2. What time alone does, and whether a charge is due.
	next, events, charge := st.Tick(now)
	if len(events) > 0 || next.Status != st.Status {
		apply(sub, next, now)
		return false, e.save(ctx, sub, expected, events, nil)
	}
	if !charge {
		if w := next.WakeAt(); !w.Equal(sub.WakeAt) && !sub.Unconfirmed {
			apply(sub, next, now)
			return true, e.save(ctx, sub, expected, nil, nil)
		}
		return true, nil
	}
	// 3. Charge the period due.
	r, err = e.renewalOf(ctx, sub, now)
	if err != nil {
		return true, err
	}
	if r.Status == kessai.RenewalSucceeded {
		return false, nil // recorded by step 1 on the next round
	}
	_, err = e.cards.Renew(ctx, sub.ShopID, r.OrderID)
	now = e.now()
	r.Attempts++
	var f *cardpay.Failure
	var ke *kessai.Error
	switch {
	case err == nil:
		return true, e.recordSuccess(ctx, sub, expected, r, now)
	case errors.As(err, &f) && f.Err.Kind == kessai.KindUnknown:
		return true, e.recordFailure(ctx, sub, expected, r, subscription.DeclineUnknown, f.Codes, now)
	case errors.As(err, &f):
		return true, e.recordFailure(ctx, sub, expected, r, subscription.Classify(f.Codes), f.Codes, now)
	case errors.As(err, &ke) && (ke.Code == "customer_not_member" || ke.Code == "card_not_found"):
		// No stored card (deleted at the gateway or in the console): no
		// retry can succeed until the customer registers one.
		var codes []string
		if ge, ok := escott.AsError(err); ok {
			codes = ge.Codes // e.g. K71: the test environment's member expired
		}
		return true, e.recordFailure(ctx, sub, expected, r, subscription.DeclineHard, codes, now)
	case errors.As(err, &ke) && (ke.Kind == kessai.KindUnavailable || ke.Kind == kessai.KindRateLimited || ke.Kind == kessai.KindForbidden):
		// Nothing reached the gateway (down, or the shop is on the light
		// plan or its card method cannot run): try again later, without
		// counting a failure against the customer.
		sub.NextAttempt, sub.WakeAt, sub.UpdatedAt = now.Add(UnavailableRetry), now.Add(UnavailableRetry), now
		return true, e.save(ctx, sub, expected, nil, r)
	case errors.As(err, &ke) && ke.Kind == kessai.KindConflict:
		// Another engine is charging this order (payment_in_progress),
		// it is paid already (step 1 records it next time), or it holds
		// an unknown charge (recorded as such by whoever made it).
		e.log.InfoContext(ctx, "renewal: order busy", "subscription", sub.ID, "order", r.OrderID, "code", ke.Code)
		return true, nil
	default:
		return true, err
	}
}

// orderOutcome is what the payments of a renewal order say: succeeded
// (money held), unknown (an undecided charge), failed (the newest payment
// failed, with its codes), or pending (nothing yet).
func (e *Engine) orderOutcome(ctx context.Context, shopID, orderID string) (string, []string, error) {
	pays, err := e.store.ListPayments(ctx, shopID, orderID)
	if err != nil {
		return "", nil, storeErr(err)
	}
	outcome, codes := kessai.RenewalPending, []string(nil)
	for _, p := range pays { // oldest first: the newest decides
		switch p.State {
		case kessai.PaymentAuthorized, kessai.PaymentCaptured:
			return kessai.RenewalSucceeded, nil, nil
		case kessai.PaymentUnknown, kessai.PaymentNew:
			outcome, codes = kessai.RenewalUnknown, nil
		case kessai.PaymentFailed:
			outcome, codes = kessai.RenewalFailed, p.FailureCodes
		}
	}
	return outcome, codes, nil
}

// renewalOf returns the renewal of the period due, creating it and its
// order in one transaction the first time. A concurrent creator wins the
// primary key; its row is read back.
func (e *Engine) renewalOf(ctx context.Context, sub *kessai.Subscription, now time.Time) (*kessai.Renewal, error) {
	r, err := e.store.GetRenewal(ctx, sub.ShopID, sub.ID, sub.Period)
	if err == nil {
		return r, nil
	}
	if !errors.Is(err, kessai.ErrNotFound) {
		return nil, storeErr(err)
	}
	amount := sub.Amount
	o, err := e.svc.NewOrder(sub.ShopID, service.OrderInput{
		ShopOrderID: sub.ID + "-" + strconv.Itoa(sub.Period), Amount: &amount, CustomerID: sub.CustomerID,
		Items:    []service.ItemInput{{Name: sub.Description, Quantity: 1, UnitAmount: amount, Virtual: sub.Virtual}},
		Metadata: map[string]string{"subscription_id": sub.ID, "period": strconv.Itoa(sub.Period)},
	})
	if err != nil {
		return nil, err
	}
	r = &kessai.Renewal{ShopID: sub.ShopID, SubscriptionID: sub.ID, Period: sub.Period, OrderID: o.ID,
		Status: kessai.RenewalPending, DueAt: StateOf(sub).Due(), CreatedAt: now, UpdatedAt: now}
	err = e.store.InTx(ctx, func(tx kessai.Store) error {
		if err := e.svc.InsertOrder(ctx, tx, o); err != nil {
			return err
		}
		return tx.CreateRenewal(ctx, r)
	})
	if err != nil {
		var ke *kessai.Error
		if errors.Is(err, kessai.ErrDuplicate) || (errors.As(err, &ke) && ke.Code == "order_exists") {
			r, err = e.store.GetRenewal(ctx, sub.ShopID, sub.ID, sub.Period)
			if err != nil {
				return nil, storeErr(fmt.Errorf("renewal of period %d lost to a concurrent creator but not found: %w", sub.Period, err))
			}
			return r, nil
		}
		return nil, storeErr(err)
	}
	e.svc.Kick()
	return r, nil
}

func (e *Engine) recordSuccess(ctx context.Context, sub *kessai.Subscription, expected time.Time, r *kessai.Renewal, now time.Time) error {
	st, events, err := StateOf(sub).Renewed(now)
	if err != nil {
		return err
	}
	apply(sub, st, now)
	r.Status, r.Codes, r.UpdatedAt = kessai.RenewalSucceeded, nil, now
	return e.save(ctx, sub, expected, events, r)
}

func (e *Engine) recordFailure(ctx context.Context, sub *kessai.Subscription, expected time.Time, r *kessai.Renewal,
	d subscription.Decline, codes []string, now time.Time) error {
	st, events, err := StateOf(sub).RenewalFailed(e.policy, d, now)
	if err != nil {
		return err
	}
	apply(sub, st, now)
	r.Status, r.Codes, r.UpdatedAt = kessai.RenewalFailed, codes, now
	if st.Unconfirmed {
		r.Status = kessai.RenewalUnknown
	}
	return e.save(ctx, sub, expected, events, r)
}
