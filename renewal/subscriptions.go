package renewal

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/card"
	"github.com/kessai/kessai/service"
	"github.com/kessai/kessai/subscription"
)

// CreateInput is a new subscription (POST /v1/subscriptions).
type CreateInput struct {
	CustomerID string `json:"customer_id"`
	// Description names the renewal orders' line item.
	Description string `json:"description"`
	Amount      int64  `json:"amount"`
	// Virtual: the item is virtual (SUB-05: with 与信売上計上 and the 完了
	// setting, renewal orders are then completed).
	Virtual  bool                  `json:"virtual,omitempty"`
	Interval subscription.Interval `json:"interval"`
	// StartAt is when the service starts (default now); with no trial
	// and no anchor it is the first billing date.
	StartAt  time.Time `json:"start_at,omitzero"`
	TrialEnd time.Time `json:"trial_end,omitzero"`
	// EndAt (exclusive) and MaxPayments end it by themselves.
	EndAt       time.Time `json:"end_at,omitzero"`
	MaxPayments int       `json:"max_payments,omitempty"`
	// InitialOrderID is the checkout order that paid the first period on
	// the saved card (SUB-02): it must be the customer's, paid by card.
	// Without it the engine charges the first period on its first billing
	// date (at once when that is now).
	InitialOrderID string            `json:"initial_order_id,omitempty"`
	Metadata       map[string]string `json:"metadata,omitempty"`
}

var (
	errCardRequired = kessai.Errorf(kessai.KindConflict, "card_required",
		"お客様のカードが登録されていません。定期購入にはカード会員の登録（カードの保存）が必要です。",
		"The customer has no saved card: a subscription is charged on the saved card.")
	errLightPlan = kessai.Errorf(kessai.KindForbidden, "light_plan",
		"定期購入は pro 版の機能です。", "Subscriptions are a pro plan feature.")
)

// validate checks the input that is not the schedule's, reusing the order
// rules for the renewal order the subscription will create.
func (in *CreateInput) validate(now time.Time) kessai.ValidationErrors {
	var v kessai.ValidationErrors
	if in.CustomerID == "" {
		v.Add("customer_id", "required", "customer_id は必須です。", "customer_id is required.")
	}
	if strings.TrimSpace(in.Description) == "" {
		v.Add("description", "required", "description（商品名）は必須です。", "description (the item's name) is required.")
	}
	if err := card.CheckAmount(in.Amount); err != nil {
		var ke *kessai.Error
		if errors.As(err, &ke) {
			v = append(v, ke)
		}
	}
	amount := in.Amount
	probe := service.OrderInput{ShopOrderID: "probe", Amount: &amount, CustomerID: in.CustomerID, Metadata: in.Metadata,
		Items: []service.ItemInput{{Name: in.Description, Quantity: 1, UnitAmount: amount, Virtual: in.Virtual}}}
	var ve kessai.ValidationErrors
	if err := service.ValidateOrderInput(&probe); errors.As(err, &ve) {
		for _, fe := range ve {
			switch {
			case strings.HasPrefix(fe.Field, "items[0].name") && strings.TrimSpace(in.Description) != "":
				c := *fe
				c.Field = "description"
				v = append(v, &c)
			case fe.Field == "customer_id" || strings.HasPrefix(fe.Field, "metadata"):
				v = append(v, fe)
			}
		}
	}
	if !in.StartAt.IsZero() && in.StartAt.Before(now.Add(-time.Minute)) {
		v.Add("start_at", "start_in_past", "start_at に過去の日時は指定できません。", "start_at cannot be in the past.")
	}
	return v
}

// Create makes a subscription (SUB-01/02). The customer must have a saved
// card; the shop must run the pro plan. With an initial order that paid
// the first period it starts active with that payment counted; otherwise
// it is active with its first billing date ahead (or now, charged at
// once by the next wake).
func (e *Engine) Create(ctx context.Context, shopID string, in CreateInput) (*kessai.Subscription, error) {
	now := e.now()
	set, _, err := e.svc.GetSettings(ctx, shopID)
	if err != nil {
		return nil, err
	}
	if set.Plan != kessai.PlanPro {
		return nil, errLightPlan
	}
	v := in.validate(now)
	start := in.StartAt
	if start.IsZero() {
		start = now
	}
	st, err := subscription.New(start, in.TrialEnd, in.Interval, subscription.End{At: in.EndAt, MaxPayments: in.MaxPayments})
	var ve kessai.ValidationErrors
	if errors.As(err, &ve) {
		v = append(v, ve...)
	} else if err != nil {
		return nil, err
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if _, err := e.store.GetMember(ctx, shopID, in.CustomerID); errors.Is(err, kessai.ErrNotFound) {
		return nil, errCardRequired
	} else if err != nil {
		return nil, storeErr(err)
	}
	paid := false
	if in.InitialOrderID != "" {
		if err := e.checkInitialOrder(ctx, shopID, in.CustomerID, in.InitialOrderID); err != nil {
			return nil, err
		}
		paid = true
	}
	st, events, err := st.Activate(now, paid)
	if err != nil {
		return nil, err
	}
	sub := &kessai.Subscription{ID: kessai.NewID(IDPrefix, now), ShopID: shopID, CustomerID: in.CustomerID,
		Description: strings.TrimSpace(in.Description), Amount: in.Amount, Currency: kessai.Currency, Virtual: in.Virtual,
		IntervalUnit: string(in.Interval.Unit), IntervalCount: in.Interval.Count, AnchorDay: in.Interval.AnchorDay,
		StartAt: start, TrialEnd: in.TrialEnd, EndAt: in.EndAt, MaxPayments: in.MaxPayments,
		InitialOrderID: in.InitialOrderID, Metadata: in.Metadata, CreatedAt: now}
	apply(sub, st, now)
	err = e.store.InTx(ctx, func(tx kessai.Store) error {
		if err := tx.CreateSubscription(ctx, sub); err != nil {
			return err
		}
		for _, ev := range events {
			if err := e.svc.Emit(ctx, tx, shopID, ev, eventData{Subscription: sub}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, storeErr(err)
	}
	e.svc.Kick()
	return sub, nil
}

// checkInitialOrder accepts the checkout order of the first period: the
// customer's, with a card payment that holds the money on the saved card.
func (e *Engine) checkInitialOrder(ctx context.Context, shopID, customerID, orderID string) error {
	bad := func(ja, en string) error {
		return &kessai.Error{Kind: kessai.KindInvalid, Code: "invalid_initial_order", Field: "initial_order_id", Ja: ja, En: en}
	}
	o, err := e.svc.GetOrder(ctx, shopID, orderID)
	if err != nil {
		return bad("initial_order_id の注文が見つかりません。", "The initial order does not exist.")
	}
	if o.CustomerID != customerID {
		return bad("initial_order_id の注文は別のお客様の注文です。", "The initial order belongs to another customer.")
	}
	// One checkout pays the first period of one subscription only.
	subs, err := e.store.ListSubscriptions(ctx, shopID, kessai.SubscriptionFilter{CustomerID: customerID}, kessai.Page{Limit: 1000})
	if err != nil {
		return storeErr(err)
	}
	for _, s := range subs {
		if s.InitialOrderID == orderID {
			return bad("initial_order_id の注文は別の定期購入（"+s.ID+"）の初回決済に使われています。",
				"The initial order already started subscription "+s.ID+".")
		}
	}
	pays, err := e.store.ListPayments(ctx, shopID, orderID)
	if err != nil {
		return storeErr(err)
	}
	for _, p := range pays {
		if p.Method == kessai.MethodCard && (p.State == kessai.PaymentAuthorized || p.State == kessai.PaymentCaptured) && p.WithMember {
			return nil
		}
	}
	return bad("initial_order_id の注文は登録済みカードで支払われていません（定期購入の初回は登録カードでの一括払いが必要です）。",
		"The initial order was not paid with the saved card (a subscription's first payment must register the card).")
}

// Get returns a subscription and its renewals, newest period first.
func (e *Engine) Get(ctx context.Context, shopID, id string) (*kessai.Subscription, []kessai.Renewal, error) {
	sub, err := e.get(ctx, shopID, id)
	if err != nil {
		return nil, nil, err
	}
	rs, err := e.store.ListRenewals(ctx, shopID, id)
	if err != nil {
		return nil, nil, storeErr(err)
	}
	if rs == nil {
		rs = []kessai.Renewal{}
	}
	return sub, rs, nil
}

// List lists subscriptions newest first.
func (e *Engine) List(ctx context.Context, shopID string, f kessai.SubscriptionFilter, page kessai.Page) ([]kessai.Subscription, error) {
	if f.Status != "" && !subscription.Status(f.Status).Valid() {
		return nil, kessai.FieldError("status", "invalid_status", "status が不正です。", "Unknown status.")
	}
	subs, err := e.store.ListSubscriptions(ctx, shopID, f, page)
	if err != nil {
		return nil, storeErr(err)
	}
	if subs == nil {
		subs = []kessai.Subscription{}
	}
	return subs, nil
}

// Pause puts an active subscription on hold (nothing is charged).
func (e *Engine) Pause(ctx context.Context, shopID, id string) (*kessai.Subscription, error) {
	return e.transition(ctx, shopID, id, subscription.State.Pause)
}

// Resume makes a paused subscription active; missed periods are skipped.
func (e *Engine) Resume(ctx context.Context, shopID, id string) (*kessai.Subscription, error) {
	return e.transition(ctx, shopID, id, subscription.State.Resume)
}

// Cancel cancels now, or at the end of the paid period (atPeriodEnd).
func (e *Engine) Cancel(ctx context.Context, shopID, id string, atPeriodEnd bool) (*kessai.Subscription, error) {
	if atPeriodEnd {
		return e.transition(ctx, shopID, id, subscription.State.ScheduleCancel)
	}
	return e.transition(ctx, shopID, id, subscription.State.Cancel)
}

// KeepActive withdraws a cancellation scheduled for the period's end.
func (e *Engine) KeepActive(ctx context.Context, shopID, id string) (*kessai.Subscription, error) {
	return e.transition(ctx, shopID, id, subscription.State.WithdrawCancel)
}

func (e *Engine) transition(ctx context.Context, shopID, id string,
	f func(subscription.State, time.Time) (subscription.State, []string, error)) (*kessai.Subscription, error) {
	set, _, err := e.svc.GetSettings(ctx, shopID)
	if err != nil {
		return nil, err
	}
	if set.Plan != kessai.PlanPro {
		return nil, errLightPlan
	}
	return e.update(ctx, shopID, id, func(sub *kessai.Subscription, now time.Time) ([]string, error) {
		st, events, err := f(StateOf(sub), now)
		if err != nil {
			return nil, err
		}
		apply(sub, st, now)
		return events, nil
	})
}

// CardChanged is cardpay's CardSaved hook (SUB-06): every subscription of
// the customer whose renewal is failing is charged again at once with the
// new card. It only marks them due and starts the wake in the background;
// the durable wake job catches up if this process stops.
func (e *Engine) CardChanged(ctx context.Context, shopID, customerID string) {
	ctx = context.WithoutCancel(ctx)
	subs, err := e.store.ListSubscriptions(ctx, shopID, kessai.SubscriptionFilter{CustomerID: customerID}, kessai.Page{Limit: 100})
	if err != nil {
		e.log.ErrorContext(ctx, "renewal: card changed: list subscriptions", "shop", shopID, "err", err)
		return
	}
	for _, s := range subs {
		if !slices.Contains([]string{kessai.SubscriptionActive, kessai.SubscriptionOnHold}, s.Status) {
			continue
		}
		sub, err := e.update(ctx, shopID, s.ID, func(sub *kessai.Subscription, now time.Time) ([]string, error) {
			apply(sub, StateOf(sub).CardChanged(now), now)
			return nil, nil
		})
		if err != nil {
			e.log.ErrorContext(ctx, "renewal: card changed", "subscription", s.ID, "err", err)
			continue
		}
		if !sub.NextAttempt.IsZero() && !sub.NextAttempt.After(e.now()) {
			go func() {
				if err := e.Wake(ctx, shopID, sub.ID); err != nil {
					e.log.WarnContext(ctx, "renewal: retry after card change", "subscription", sub.ID, "err", err)
				}
			}()
		}
	}
}
