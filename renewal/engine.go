// Package renewal runs subscriptions: it creates them over a customer's
// saved card, and charges each billing period exactly once as a renewal
// order (SUB-01 … SUB-08). The schedule and lifecycle rules are package
// subscription's; the charge is cardpay's (Payer.Renew); this package
// stores the outcome and tells the shop.
//
// Exactly once, with any number of engines (kessai instances) and
// crashes:
//
//   - A period has one renewal row and one renewal order, created together
//     in one transaction; the row's primary key (subscription, period)
//     makes a second engine use the first one's order.
//   - An order has at most one active payment (the store refuses a
//     second), so two engines charging the same order at once make one
//     gateway call; the loser sees "payment in progress".
//   - A charge whose answer was lost (or whose process died mid-call: the
//     recovery sweep turns its pending attempt into unknown) is never
//     retried: the subscription is Unconfirmed until the payment is
//     resolved (POST /v1/payments/{id}/resolve or the console), and the
//     engine then reads the order's outcome.
//   - Subscription rows are written with a compare-and-set on updated_at;
//     a lost race is re-read and re-decided.
package renewal

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/cardpay"
	"github.com/kessai/kessai/service"
	"github.com/kessai/kessai/subscription"
)

// IDPrefix starts every subscription's ID ("sub_…").
const IDPrefix = "sub"

// Engine timing.
const (
	// UnavailableRetry is when a renewal that could not reach the gateway
	// (nothing was sent) is tried again; it does not count as a failure.
	UnavailableRetry = 15 * time.Minute
	// ReconcileEvery is how often an Unconfirmed subscription looks at its
	// renewal order again to learn a resolution.
	ReconcileEvery = 10 * time.Minute
	// maxRaces bounds the re-reads after lost compare-and-set races.
	maxRaces = 5
)

// Config wires an Engine. Service and Cards are required.
type Config struct {
	Service *service.Service
	Cards   *cardpay.Payer
	// Policy is what follows a declined renewal; the zero value is the
	// default (retries after 1, 3 and 5 days, then on hold, cancelled 14
	// days later).
	Policy subscription.RetryPolicy
	Logger *slog.Logger
}

// Engine creates and runs subscriptions. It is safe for concurrent use.
type Engine struct {
	svc    *service.Service
	store  kessai.Store
	cards  *cardpay.Payer
	policy subscription.RetryPolicy
	log    *slog.Logger
}

// New returns an Engine.
func New(cfg Config) *Engine {
	if cfg.Service == nil || cfg.Cards == nil {
		panic("renewal: Config.Service and Config.Cards are required")
	}
	e := &Engine{svc: cfg.Service, store: cfg.Service.Store(), cards: cfg.Cards, policy: cfg.Policy, log: cfg.Logger}
	if e.log == nil {
		e.log = slog.Default()
	}
	return e
}

func (e *Engine) now() time.Time { return e.svc.Now() }

var errNotFound = &kessai.Error{Kind: kessai.KindNotFound, Code: "subscription_not_found",
	Ja: "定期購入が見つかりません。", En: "No such subscription."}

// StateOf is the rules' view of a stored subscription (what the console
// asks which actions are allowed).
func StateOf(s *kessai.Subscription) subscription.State {
	return subscription.State{
		Status:            subscription.Status(s.Status),
		Interval:          subscription.Interval{Unit: subscription.Unit(s.IntervalUnit), Count: s.IntervalCount, AnchorDay: s.AnchorDay},
		End:               subscription.End{At: s.EndAt, MaxPayments: s.MaxPayments},
		First:             s.First,
		Period:            s.Period,
		Paid:              s.Paid,
		Failures:          s.Failures,
		Hold:              subscription.HoldReason(s.Hold),
		NextAttempt:       s.NextAttempt,
		CancelAt:          s.CancelAt,
		CancelAtPeriodEnd: s.CancelAtPeriodEnd,
		Unconfirmed:       s.Unconfirmed,
	}
}

// apply writes a State back into the stored subscription, with the time
// the engine must look at it next.
func apply(s *kessai.Subscription, st subscription.State, now time.Time) {
	s.Status, s.First, s.Period, s.Paid, s.Failures = string(st.Status), st.First, st.Period, st.Paid, st.Failures
	s.Hold, s.NextAttempt, s.CancelAt = string(st.Hold), st.NextAttempt, st.CancelAt
	s.CancelAtPeriodEnd, s.Unconfirmed = st.CancelAtPeriodEnd, st.Unconfirmed
	s.WakeAt = st.WakeAt()
	if st.Unconfirmed {
		// The rules wait for a resolution; the engine polls for it.
		s.WakeAt = now.Add(ReconcileEvery)
	}
	s.UpdatedAt = now
}

// eventData is the payload of subscription events: the subscription, and
// the renewal the event is about when there is one.
type eventData struct {
	*kessai.Subscription
	Renewal *kessai.Renewal `json:"renewal,omitempty"`
}

// save writes sub (changed from the row read at expected) and emits the
// events in one transaction. ErrConflict means another writer won.
func (e *Engine) save(ctx context.Context, sub *kessai.Subscription, expected time.Time, events []string, r *kessai.Renewal) error {
	err := e.store.InTx(ctx, func(tx kessai.Store) error {
		if err := tx.UpdateSubscription(ctx, sub, expected); err != nil {
			return err
		}
		if r != nil {
			if err := tx.UpdateRenewal(ctx, r); err != nil {
				return err
			}
		}
		for _, ev := range events {
			if err := e.svc.Emit(ctx, tx, sub.ShopID, ev, eventData{Subscription: sub, Renewal: r}); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil && len(events) > 0 {
		e.svc.Kick()
	}
	return err
}

// update runs change on a fresh copy of the subscription until its write
// wins the compare-and-set (a lost race re-reads and re-decides).
func (e *Engine) update(ctx context.Context, shopID, id string, change func(sub *kessai.Subscription, now time.Time) ([]string, error)) (*kessai.Subscription, error) {
	for range maxRaces {
		sub, err := e.get(ctx, shopID, id)
		if err != nil {
			return nil, err
		}
		expected := sub.UpdatedAt
		now := e.now()
		events, err := change(sub, now)
		if err != nil {
			return nil, err
		}
		err = e.save(ctx, sub, expected, events, nil)
		if errors.Is(err, kessai.ErrConflict) {
			continue
		}
		if err != nil {
			return nil, storeErr(err)
		}
		return sub, nil
	}
	return nil, kessai.Errorf(kessai.KindConflict, "subscription_busy",
		"定期購入が同時に更新されています。もう一度お試しください。", "The subscription is being changed by someone else; try again.")
}

func (e *Engine) get(ctx context.Context, shopID, id string) (*kessai.Subscription, error) {
	sub, err := e.store.GetSubscription(ctx, shopID, id)
	if errors.Is(err, kessai.ErrNotFound) {
		return nil, errNotFound
	}
	if err != nil {
		return nil, storeErr(err)
	}
	return sub, nil
}

func storeErr(err error) error {
	var ke *kessai.Error
	if errors.As(err, &ke) {
		return err
	}
	return kessai.Internal(fmt.Errorf("renewal: %w", err))
}
