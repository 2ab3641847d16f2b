// Package payflow is the bookkeeping that card payments (cardpay) and
// online collections (cvspay) share around a gateway call (design §2
// principle 3, §4): loading the shop's method, the pending attempt written
// before a call and its outcome after it, the history row of an answer,
// taking over an idle checkout, the operator's resolution of an unknown
// payment, and the refusals and store-error translation every step may
// end with.
//
// Only what is the same rule for every method lives here. What differs on
// purpose stays with the method: its messages for people (a lost
// registration is not a lost charge), its failure types (the API tells a
// *cardpay.Failure from a *cvspay.Failure), how an order's status moves
// (collections write the fee line in the same update) and which errors
// count as a lost answer.
package payflow

import (
	"context"
	"io"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/gateway"
	"github.com/kessai/kessai/service"
)

// PaymentIDPrefix starts every payment's ID, whatever its method: one
// prefix keeps /v1/payments/{id} independent of the method.
const PaymentIDPrefix = "pay"

// DefaultStaleAfter is how long an attempt may stay pending before a
// sweep declares it unknown: two gateway timeouts (60 s each) plus slack,
// so a call still running is never touched.
const DefaultStaleAfter = 5 * time.Minute

// Env is what one call needs of its shop: the settings and the method's
// gateway client built from them.
type Env struct {
	ShopID string
	Set    kessai.Settings
	GW     *escott.Client
}

// Method is what LoadEnv needs to know of a payment method.
type Method struct {
	// Available reports whether the shop can take new payments of the
	// method: enabled and configured (SET-19).
	Available func(set *kessai.Settings) bool
	// Unavailable is the refusal when it cannot.
	Unavailable func() *kessai.Error
	// Client builds the method's client, e.g. (*gateway.Factory).Card.
	Client func(gws *gateway.Factory, set *kessai.Settings) (*escott.Client, error)
}

// LoadEnv loads the shop's settings and the method's client. A new
// payment needs the method usable (needEnabled); everything that works on
// an existing payment only needs the credentials, so that disabling the
// method for new orders does not strand the payments already made.
func LoadEnv(ctx context.Context, svc *service.Service, gws *gateway.Factory, m Method, shopID string, needEnabled bool) (*Env, error) {
	set, _, err := svc.GetSettings(ctx, shopID)
	if err != nil {
		return nil, err
	}
	if needEnabled && !m.Available(&set) {
		return nil, m.Unavailable()
	}
	gw, err := m.Client(gws, &set)
	if err != nil {
		return nil, err
	}
	return &Env{ShopID: shopID, Set: set, GW: gw}, nil
}

// NewCode returns a fresh transaction code (MerchantFree1).
func NewCode(r io.Reader) (string, error) {
	code, err := escott.NewMerchantFree1(r)
	if err != nil {
		return "", kessai.Internal(err)
	}
	return code, nil
}
