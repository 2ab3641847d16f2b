package kessai

import (
	"context"
	"time"
)

// Store is kessai's persistence. The SQLite and PostgreSQL adapters
// implement it identically (one conformance suite runs against both).
//
// Lookups of a missing row return an error wrapping ErrNotFound; inserts
// that break a unique key return one wrapping ErrDuplicate. Every method is
// scoped to a shop: a row of another shop is "not found". Secrets
// (ProcessPass, KaiinPass, webhook secrets, the settings document) are
// sealed by the adapter before they reach the database.
//
// Times are stored in UTC with microsecond precision; Create, Update and
// Put methods rewrite the times of the value they are given the same way,
// so the value equals what a later read returns. Inserts whose parent row
// is missing (a payment's order, an attempt's or history entry's payment,
// a delivery's event) return an error wrapping ErrNotFound.
type Store interface {
	// InTx runs fn in one database transaction: every call on the Store
	// given to fn is part of it; fn's error rolls it back. Never call the
	// gateway inside fn (design principle 3). Inside fn use only the Store
	// given to fn. ErrNotFound, ErrDuplicate and ErrConflict from that
	// Store leave the transaction usable. fn may run more than once: a
	// transaction that fails on a write conflict is retried.
	InTx(ctx context.Context, fn func(Store) error) error

	ShopStore
	SettingsStore
	APIKeyStore
	OrderStore
	PaymentStore
	MemberStore
	EventStore
	IdempotencyStore
	AdminUserStore
	CheckoutStore
	SubscriptionStore
}

// ShopStore keeps shops.
type ShopStore interface {
	CreateShop(ctx context.Context, s *Shop) error
	GetShop(ctx context.Context, id string) (*Shop, error)
	ListShops(ctx context.Context) ([]Shop, error)
}

// SettingsStore keeps each shop's settings document. Version implements
// optimistic locking: PutSettings with a version other than the stored one
// fails with ErrConflict, so two operators cannot overwrite each other.
type SettingsStore interface {
	// GetSettings returns the settings and their version; ErrNotFound
	// when the shop has never saved any.
	GetSettings(ctx context.Context, shopID string) (doc []byte, version int64, err error)
	// PutSettings stores doc if the current version is expected (0 for
	// "none yet") and returns the new version.
	PutSettings(ctx context.Context, shopID string, doc []byte, expected int64) (int64, error)
}

// APIKeyStore keeps API keys (hashed).
type APIKeyStore interface {
	CreateAPIKey(ctx context.Context, k *APIKey) error
	// FindAPIKey looks a key up by its hash across all shops.
	FindAPIKey(ctx context.Context, hash string) (*APIKey, error)
	ListAPIKeys(ctx context.Context, shopID string) ([]APIKey, error)
	// ExpireAPIKey sets the key's expiry (rotation).
	ExpireAPIKey(ctx context.Context, shopID, id string, at time.Time) error
}

// OrderStore keeps orders.
type OrderStore interface {
	// CreateOrder fails with ErrDuplicate when the shop already has an
	// order with the same ShopOrderID (an empty ShopOrderID is none and
	// never collides).
	CreateOrder(ctx context.Context, o *Order) error
	GetOrder(ctx context.Context, shopID, id string) (*Order, error)
	GetOrderByShopOrderID(ctx context.Context, shopID, shopOrderID string) (*Order, error)
	// ListOrders returns up to page.Limit orders, newest first, strictly
	// after the cursor page.After (an order ID).
	ListOrders(ctx context.Context, shopID string, f OrderFilter, page Page) ([]Order, error)
	// UpdateOrder writes every mutable field (status, items, amount,
	// billing, metadata, updated_at) of an existing order.
	UpdateOrder(ctx context.Context, o *Order) error
	// SetOrderStatus changes the status only when it is one of from
	// (empty from = any), reporting whether it changed. It is the safe way
	// to move an order when two events race (e.g. a notification and a
	// reconciliation).
	SetOrderStatus(ctx context.Context, shopID, id string, from []OrderStatus, to OrderStatus, at time.Time) (bool, error)
}

// PaymentStore keeps payments, their attempts and history.
type PaymentStore interface {
	// CreatePayment inserts a payment. An order has at most one active
	// payment (state new, unknown, authorized, captured, pending or paid):
	// a second one is refused with ErrDuplicate, which is what makes two
	// simultaneous checkouts of one order charge once. Failed, cancelled
	// and expired payments do not count.
	CreatePayment(ctx context.Context, p *Payment) error
	GetPayment(ctx context.Context, shopID, id string) (*Payment, error)
	// FindPaymentByTransactionCode finds the payment whose current
	// MerchantFree1 is code.
	FindPaymentByTransactionCode(ctx context.Context, shopID, code string) (*Payment, error)
	// FindPaymentByProcessID finds a payment holding the gateway
	// transaction handle processID (ErrNotFound if none). Used when an
	// operator attaches a ProcessId by hand, so it is not indexed.
	FindPaymentByProcessID(ctx context.Context, shopID, processID string) (*Payment, error)
	ListPayments(ctx context.Context, shopID, orderID string) ([]Payment, error)
	// ListPaymentsByState lists payments of a state across the shop,
	// oldest first (for reconciliation and expiry jobs).
	ListPaymentsByState(ctx context.Context, shopID string, state PaymentState, page Page) ([]Payment, error)
	// UpdatePayment rewrites a payment. ErrDuplicate when the change
	// would give the order a second active payment (see CreatePayment).
	UpdatePayment(ctx context.Context, p *Payment) error
	// ListCustomerPayments lists the payments of a customer created at or
	// after since, newest first (the saved-card deletion rule, A-01).
	ListCustomerPayments(ctx context.Context, shopID, customerID string, since time.Time) ([]Payment, error)

	// CreateAttempt records an intent before the gateway call.
	CreateAttempt(ctx context.Context, a *Attempt) error
	// FinishAttempt records the outcome (and the operation and
	// MerchantFree1 when non-empty: a link-type return tells which call
	// was made); it fails with ErrConflict when the attempt is no longer
	// pending or unknown (finished twice).
	FinishAttempt(ctx context.Context, a *Attempt) error
	GetAttempt(ctx context.Context, shopID, id string) (*Attempt, error)
	ListAttempts(ctx context.Context, shopID, paymentID string) ([]Attempt, error)
	// ListAttemptsByStatus lists attempts in a status, oldest first.
	ListAttemptsByStatus(ctx context.Context, shopID string, status AttemptStatus, page Page) ([]Attempt, error)

	// ListPaymentsOfOrders returns every payment of the given orders (at
	// most 200 ids), oldest first: the console's order list shows each
	// order's payment state without a query per row.
	ListPaymentsOfOrders(ctx context.Context, shopID string, orderIDs []string) ([]Payment, error)
	// ListAttemptLog lists the shop's gateway attempts newest first,
	// filtered (the console's payment result log, LOG-01/02).
	ListAttemptLog(ctx context.Context, shopID string, f AttemptFilter, page Page) ([]Attempt, error)
	// PaymentStats aggregates payments created in [from, to) by day of
	// the time zone loc (Asia/Tokyo for the console), method and state.
	// Days without payments are absent.
	PaymentStats(ctx context.Context, shopID string, from, to time.Time, loc *time.Location) ([]PaymentStat, error)
	// FailureCodeStats counts the failure codes of failed payments created
	// in [from, to), most frequent first (a payment with two codes counts
	// for each).
	FailureCodeStats(ctx context.Context, shopID string, from, to time.Time) ([]CodeCount, error)

	AppendHistory(ctx context.Context, h *HistoryEntry) error
	// ListHistory returns a payment's history, oldest first.
	ListHistory(ctx context.Context, shopID, paymentID string) ([]HistoryEntry, error)
}

// MemberStore keeps card members (one per customer).
type MemberStore interface {
	// PutMember creates or replaces the customer's member (a replaced
	// member keeps its CreatedAt).
	PutMember(ctx context.Context, m *Member) error
	GetMember(ctx context.Context, shopID, customerID string) (*Member, error)
	// ListMembers lists the shop's members by customer id; page.After is
	// a customer id (the list continues strictly after it).
	ListMembers(ctx context.Context, shopID string, page Page) ([]Member, error)
	DeleteMember(ctx context.Context, shopID, customerID string) error
}

// EventStore keeps events, webhook endpoints and the delivery log.
type EventStore interface {
	CreateEvent(ctx context.Context, e *Event) error
	GetEvent(ctx context.Context, shopID, id string) (*Event, error)
	ListEvents(ctx context.Context, shopID string, page Page) ([]Event, error)
	// ListUndispatchedEvents returns events (any shop) whose deliveries
	// have not been queued yet, oldest first: the outbox.
	ListUndispatchedEvents(ctx context.Context, limit int) ([]Event, error)
	MarkEventDispatched(ctx context.Context, shopID, id string, at time.Time) error

	CreateWebhookEndpoint(ctx context.Context, w *WebhookEndpoint) error
	GetWebhookEndpoint(ctx context.Context, shopID, id string) (*WebhookEndpoint, error)
	ListWebhookEndpoints(ctx context.Context, shopID string) ([]WebhookEndpoint, error)
	UpdateWebhookEndpoint(ctx context.Context, w *WebhookEndpoint) error
	DeleteWebhookEndpoint(ctx context.Context, shopID, id string) error

	RecordDelivery(ctx context.Context, d *WebhookDelivery) error
	// ListDeliveries lists attempts newest first, filtered by event and/or
	// endpoint when non-empty.
	ListDeliveries(ctx context.Context, shopID, eventID, endpointID string, page Page) ([]WebhookDelivery, error)
}

// IdempotencyStore keeps Idempotency-Key records.
type IdempotencyStore interface {
	// BeginIdempotency inserts rec as running. If a live record with the
	// same shop and key exists, it is returned with ErrDuplicate and
	// nothing is written; an expired one is replaced. "Live" means its
	// ExpiresAt is after rec.CreatedAt (the caller's clock).
	BeginIdempotency(ctx context.Context, rec *IdempotencyRecord) (*IdempotencyRecord, error)
	// CompleteIdempotency stores the response of a running record
	// (ErrConflict when it is done already, ErrNotFound when missing).
	CompleteIdempotency(ctx context.Context, shopID, key string, status int, body []byte) error
	// AbandonIdempotency deletes a running record (the request failed in
	// a way that may be retried with the same key); ErrConflict when it is
	// done, ErrNotFound when missing.
	AbandonIdempotency(ctx context.Context, shopID, key string) error
	// PurgeIdempotency deletes records that expired before t.
	PurgeIdempotency(ctx context.Context, before time.Time) (int64, error)
}

// Sealer encrypts secrets before they are stored and decrypts them when
// read. Implemented by package secret.
type Sealer interface {
	Seal(plain []byte) ([]byte, error)
	Open(sealed []byte) ([]byte, error)
}
