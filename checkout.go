package kessai

import (
	"context"
	"time"
)

// CheckoutKind says which browser round trip through the gateway a
// CheckoutSession belongs to.
type CheckoutKind string

// The round trips that keep state while the shopper is at the gateway.
const (
	// CheckoutThreeDS is a card checkout waiting for its 3-D Secure
	// return (E5, OperateId 3Secure).
	CheckoutThreeDS CheckoutKind = "3ds"
	// CheckoutLink is a card checkout on the gateway's own card page (E6):
	// a payment, or a member registration/change followed by a payment.
	CheckoutLink CheckoutKind = "link"
	// CheckoutMemberThreeDS is a saved-card registration or change with
	// 3-D Secure (E5, OperateId 4MemAdd/4MemChg), outside any order.
	CheckoutMemberThreeDS CheckoutKind = "3ds_member"
	// CheckoutMemberLink is a saved-card registration or change on the
	// gateway's card page (E6), outside any order.
	CheckoutMemberLink CheckoutKind = "link_member"
)

// CheckoutSession is the state a checkout keeps while the shopper's browser
// is at the gateway (3-D Secure or the link-type card page): what the
// shopper chose, kept under a one-time reference so that the return can
// resume exactly that checkout once (spec §8.1 step 2, LOG-03). The gateway
// echoes MerchantFree1, which is how the return finds its session; the
// session is consumed by the first return that uses it, so a replayed
// return finds it consumed and is refused.
type CheckoutSession struct {
	ID        string       `json:"id"`
	ShopID    string       `json:"-"`
	Kind      CheckoutKind `json:"kind"`
	OrderID   string       `json:"order_id,omitempty"`   // "" for a saved-card registration
	PaymentID string       `json:"payment_id,omitempty"` // the payment being made, if any
	// CustomerID is the shop's customer (MerchantFree3) for member work.
	CustomerID string `json:"customer_id,omitempty"`
	// MerchantFree1 is the transaction code sent in the hand-off; unique
	// per shop.
	MerchantFree1 string `json:"-"`
	// Data is the flow's own state (JSON). It may hold the one-time card
	// token and member ids, so the store seals it at rest.
	Data       []byte    `json:"-"`
	CreatedAt  time.Time `json:"created_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	ConsumedAt time.Time `json:"consumed_at,omitzero"`
}

// CheckoutStore keeps checkout sessions.
type CheckoutStore interface {
	// CreateCheckoutSession inserts a session. ErrDuplicate when the id
	// or the shop's MerchantFree1 exists.
	CreateCheckoutSession(ctx context.Context, s *CheckoutSession) error
	// GetCheckoutSession returns a session by id (consumed or not).
	GetCheckoutSession(ctx context.Context, shopID, id string) (*CheckoutSession, error)
	// FindCheckoutSession returns the session whose MerchantFree1 is code.
	FindCheckoutSession(ctx context.Context, shopID, code string) (*CheckoutSession, error)
	// ConsumeCheckoutSession marks a session used at the given time. It
	// fails with ErrConflict when the session was consumed already, so of
	// two concurrent returns exactly one proceeds. Expiry is the caller's
	// check; ErrNotFound when there is no such session.
	ConsumeCheckoutSession(ctx context.Context, shopID, id string, at time.Time) error
	// ListOpenCheckoutSessions lists the unconsumed sessions of an order,
	// oldest first (a new checkout supersedes an abandoned one).
	ListOpenCheckoutSessions(ctx context.Context, shopID, orderID string) ([]CheckoutSession, error)
	// PurgeCheckoutSessions deletes sessions that expired before the
	// given time, consumed or not, and returns how many went.
	PurgeCheckoutSessions(ctx context.Context, before time.Time) (int64, error)
}
