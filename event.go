package kessai

import (
	"encoding/json"
	"time"
)

// Event types sent to the shop's webhooks. The list is documented in
// docs/webhooks.md; names never change meaning once published.
const (
	EventOrderCreated          = "order.created"
	EventOrderUpdated          = "order.updated"
	EventPaymentAuthorized     = "payment.authorized"
	EventPaymentCaptured       = "payment.captured"
	EventPaymentFailed         = "payment.failed"
	EventPaymentCanceled       = "payment.canceled"
	EventPaymentAmountChanged  = "payment.amount_changed"
	EventPaymentReauthorized   = "payment.reauthorized"
	EventPaymentPending        = "payment.pending"
	EventPaymentPaid           = "payment.paid"
	EventPaymentExpired        = "payment.expired"
	EventPaymentUnknown        = "payment.unknown"
	EventMemberUpdated         = "member.updated"
	EventMemberDeleted         = "member.deleted"
	EventSubscriptionCreated   = "subscription.created"
	EventSubscriptionUpdated   = "subscription.updated"
	EventSubscriptionRenewed   = "subscription.renewed"
	EventSubscriptionCancelled = "subscription.canceled"
	// Renewal outcomes and lifecycle (package subscription says when
	// each fires).
	EventSubscriptionRenewalFailed  = "subscription.renewal_failed"
	EventSubscriptionRetryScheduled = "subscription.retry_scheduled"
	EventSubscriptionCardRequired   = "subscription.card_required"
	EventSubscriptionOnHold         = "subscription.on_hold"
	EventSubscriptionResumed        = "subscription.resumed"
	EventSubscriptionExpired        = "subscription.expired"
)

// EventTypes lists every event type, for validation of endpoint filters.
var EventTypes = []string{
	EventOrderCreated, EventOrderUpdated,
	EventPaymentAuthorized, EventPaymentCaptured, EventPaymentFailed, EventPaymentCanceled,
	EventPaymentAmountChanged, EventPaymentReauthorized, EventPaymentPending, EventPaymentPaid,
	EventPaymentExpired, EventPaymentUnknown, EventMemberUpdated, EventMemberDeleted,
	EventSubscriptionCreated, EventSubscriptionUpdated, EventSubscriptionRenewed, EventSubscriptionCancelled,
	EventSubscriptionRenewalFailed, EventSubscriptionRetryScheduled, EventSubscriptionCardRequired,
	EventSubscriptionOnHold, EventSubscriptionResumed, EventSubscriptionExpired,
}

// Event is something that happened in a shop, delivered to its webhooks.
type Event struct {
	ID        string          `json:"id"`
	ShopID    string          `json:"-"`
	Type      string          `json:"type"`
	Data      json.RawMessage `json:"data"`
	CreatedAt time.Time       `json:"created_at"`
}

// WebhookEndpoint is a shop URL that receives events.
type WebhookEndpoint struct {
	ID     string `json:"id"`
	ShopID string `json:"-"`
	URL    string `json:"url"`
	// Secret signs deliveries (HMAC-SHA256); encrypted at rest, shown once.
	Secret string `json:"-"`
	// EventTypes filters what is sent; empty means every event.
	EventTypes []string  `json:"event_types,omitempty"`
	Enabled    bool      `json:"enabled"`
	CreatedAt  time.Time `json:"created_at"`
}

// DeliveryStatus is the result of one webhook delivery attempt.
type DeliveryStatus string

// Delivery statuses.
const (
	DeliverySucceeded DeliveryStatus = "succeeded"
	DeliveryFailed    DeliveryStatus = "failed"
)

// WebhookDelivery records one attempt to deliver an event to an endpoint.
type WebhookDelivery struct {
	ID         string         `json:"id"`
	ShopID     string         `json:"-"`
	EventID    string         `json:"event_id"`
	EndpointID string         `json:"endpoint_id"`
	Attempt    int            `json:"attempt"`
	Status     DeliveryStatus `json:"status"`
	HTTPStatus int            `json:"http_status,omitempty"`
	Error      string         `json:"error,omitempty"`
	DurationMS int64          `json:"duration_ms"`
	At         time.Time      `json:"at"`
}
