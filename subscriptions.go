package kessai

import (
	"context"
	"time"
)

// Subscription is a customer's recurring charge on the saved card (SUB-01
// … SUB-08): Amount yen every interval, renewal orders charged by the
// renewal engine. The schedule and lifecycle rules are package
// subscription's (its State); this is how they are stored and shown.
type Subscription struct {
	ID         string `json:"id"`
	ShopID     string `json:"-"`
	CustomerID string `json:"customer_id"`
	// Description names the renewal orders' one line item.
	Description string `json:"description"`
	Amount      int64  `json:"amount"`
	Currency    string `json:"currency"`
	// Virtual marks the renewal item as virtual: with 与信売上計上 and the
	// 完了 setting a renewal order is then completed (SUB-05, CARD-15).
	Virtual bool `json:"virtual"`
	// Status is pending, active, on_hold, cancelled or expired.
	Status string `json:"status"`
	// The interval: every IntervalCount IntervalUnits (day, week, month,
	// year), on AnchorDay of the month when set.
	IntervalUnit  string    `json:"interval_unit"`
	IntervalCount int       `json:"interval_count"`
	AnchorDay     int       `json:"anchor_day,omitempty"`
	StartAt       time.Time `json:"start_at"`
	TrialEnd      time.Time `json:"trial_end,omitzero"`
	EndAt         time.Time `json:"end_at,omitzero"`
	MaxPayments   int       `json:"max_payments,omitempty"`
	// The schedule's state: billing date n is the interval's nth date
	// after First; Period is the next one to charge.
	First    time.Time `json:"first_billing_at"`
	Period   int       `json:"period"`
	Paid     int       `json:"payments"`
	Failures int       `json:"failures"`
	// Hold says why an on-hold subscription is on hold (paused or
	// payment_failed).
	Hold              string    `json:"hold_reason,omitempty"`
	NextAttempt       time.Time `json:"next_attempt_at,omitzero"`
	CancelAt          time.Time `json:"cancel_at,omitzero"`
	CancelAtPeriodEnd bool      `json:"cancel_at_period_end"`
	// Unconfirmed: the last renewal charge's outcome is unknown; nothing
	// is charged until it is resolved.
	Unconfirmed bool `json:"unconfirmed,omitempty"`
	// WakeAt is when the renewal engine must look at the subscription
	// next (the State's WakeAt); zero when nothing happens by itself.
	WakeAt time.Time `json:"-"`
	// InitialOrderID is the checkout order that paid the first period.
	InitialOrderID string            `json:"initial_order_id,omitempty"`
	Metadata       map[string]string `json:"metadata,omitempty"`
	CreatedAt      time.Time         `json:"created_at"`
	UpdatedAt      time.Time         `json:"updated_at"`
}

// Subscription statuses (package subscription's Status values).
const (
	SubscriptionPending   = "pending"
	SubscriptionActive    = "active"
	SubscriptionOnHold    = "on_hold"
	SubscriptionCancelled = "cancelled"
	SubscriptionExpired   = "expired"
)

// Renewal statuses.
const (
	RenewalPending   = "pending"   // the order exists; a charge may be in flight
	RenewalSucceeded = "succeeded" // paid
	RenewalFailed    = "failed"    // the last attempt was declined (retries may follow)
	RenewalUnknown   = "unknown"   // the last attempt's outcome is unknown
)

// Renewal is the charge of one billing period of a subscription: exactly
// one row, and one renewal order, per (subscription, period) — the
// primary key is what makes two engines (or a restarted one) agree on a
// single order, and the order's single active payment on a single charge.
type Renewal struct {
	ShopID         string    `json:"-"`
	SubscriptionID string    `json:"subscription_id"`
	Period         int       `json:"period"`
	OrderID        string    `json:"order_id"`
	Status         string    `json:"status"`
	Attempts       int       `json:"attempts"`
	Codes          []string  `json:"codes,omitempty"`
	DueAt          time.Time `json:"due_at"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// SubscriptionFilter selects subscriptions in a list.
type SubscriptionFilter struct {
	Status     string
	CustomerID string
}

// SubscriptionStore keeps subscriptions and their renewals.
type SubscriptionStore interface {
	// CreateSubscription inserts a subscription (ErrDuplicate for an
	// existing ID).
	CreateSubscription(ctx context.Context, s *Subscription) error
	GetSubscription(ctx context.Context, shopID, id string) (*Subscription, error)
	// ListSubscriptions lists newest first, after the cursor page.After.
	ListSubscriptions(ctx context.Context, shopID string, f SubscriptionFilter, page Page) ([]Subscription, error)
	// UpdateSubscription writes every mutable field if the stored row's
	// UpdatedAt is still expectedUpdatedAt, else ErrConflict: two engines
	// (or an engine and an operator) cannot overwrite each other. UpdatedAt
	// is the compare-and-set token, so it always moves forward: a
	// UpdatedAt not after expectedUpdatedAt (a clock that did not move
	// between two updates) is stored, and set in s, as expectedUpdatedAt
	// plus one microsecond.
	UpdateSubscription(ctx context.Context, s *Subscription, expectedUpdatedAt time.Time) error
	// ListSubscriptionsToWake lists subscriptions (any shop) whose WakeAt
	// is set and not after now, soonest first.
	ListSubscriptionsToWake(ctx context.Context, now time.Time, limit int) ([]Subscription, error)
	// CountCustomerSubscriptions counts the customer's subscriptions in
	// the given statuses (the saved-card deletion rule, SUB-08).
	CountCustomerSubscriptions(ctx context.Context, shopID, customerID string, statuses []string) (int, error)

	// CreateRenewal inserts the renewal of a period; ErrDuplicate when the
	// period has one already.
	CreateRenewal(ctx context.Context, r *Renewal) error
	GetRenewal(ctx context.Context, shopID, subscriptionID string, period int) (*Renewal, error)
	// FindRenewalByOrder finds the renewal whose order is orderID.
	FindRenewalByOrder(ctx context.Context, shopID, orderID string) (*Renewal, error)
	// UpdateRenewal writes status, attempts, codes and UpdatedAt.
	UpdateRenewal(ctx context.Context, r *Renewal) error
	// ListRenewals lists a subscription's renewals, newest period first.
	ListRenewals(ctx context.Context, shopID, subscriptionID string) ([]Renewal, error)
}
