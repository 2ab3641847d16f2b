package api

import (
	"context"
	"net/http"
	"net/url"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/cvspay"
)

// Online payment collections (package cvspay: convenience stores,
// Pay-easy, net banks, e-money) over the JSON API: the shopper's
// registration at checkout (/collect), the operator's registration of an
// order (ADMIN-15), the operator's view (ADMIN-12) and the change of the
// due date and amount (2Chg, ADMIN-13). As for cards, the handlers only
// decode, check path ids and render; every rule is cvspay's.
//
// Reference, cancel and resolve share their paths with card payments
// (/v1/payments/{id}/reference, …/cancel, …/resolve): a shop's backend
// should not have to know which engine holds a payment to ask about it, and
// ServeMux takes one handler per pattern. Those routes stay declared once,
// in cardRoutes, and byMethod sends a collection to the handlers below.
// The change has its own path (change_due): its body (due date and
// amount, once) is not a card amount change, and a client sending
// {"amount": n} to change_amount of a collection must not move a due date
// it never mentioned.
//
// Errors: a refused or undecided registration or operation is a
// *cvspay.Failure, rendered like a *cardpay.Failure (errors.go). The
// idempotency middleware needs nothing more; Register is also idempotent
// per order by itself (a second call answers the registration the order
// already has, "replayed": true), so a lost answer to /collect is safe to
// retry even without an Idempotency-Key.

// collectionRoutes lists the collection endpoints of their own (see
// routeTable); the shared ones are in cardRoutes.
func (a *API) collectionRoutes() []route {
	return []route{
		{"POST", "/v1/orders/{id}/collect", false, a.collectOrder},
		{"POST", "/v1/orders/{id}/collection", false, a.registerCollection},

		{"GET", "/v1/payments/{id}/collection", false, a.getCollection},
		{"POST", "/v1/payments/{id}/change_due", false, a.changeCollection},
	}
}

var errCollectionsUnavailable = kessai.Errorf(kessai.KindUnavailable, "collections_unavailable",
	"このサーバーではコンビニ・Pay-easy・電子マネー決済の API を利用できません（収納代行の機能が組み込まれていません）。",
	"Convenience store, Pay-easy and e-money payments are not available on this server (the collection engine is not configured).")

// colsCall starts a collection route: the engine must be there, and the
// path id plausible (otherwise notFound).
func (a *API) colsCall(c *call, notFound error) (string, error) {
	if a.cols == nil {
		return "", errCollectionsUnavailable
	}
	id := c.r.PathValue("id")
	if !plausibleID(id) {
		return "", notFound
	}
	return id, nil
}

// byMethod is the handler of a path both engines serve: a collection goes
// to col; anything else — a card payment, or a payment that cannot be read
// — to card, which then answers exactly as it would alone (its 404, or 503
// cards_unavailable without a card engine). Reading the payment first
// costs one indexed query on an operator's action.
func (a *API) byMethod(card, col handlerFunc) handlerFunc {
	return func(c *call) (int, any, error) {
		if id := c.r.PathValue("id"); plausibleID(id) {
			p, err := a.svc.GetPayment(c.ctx(), c.shopID, id)
			if err == nil && p.Method == kessai.MethodCollection {
				return col(c)
			}
		}
		return card(c)
	}
}

// collectResultView is a cvspay.Result with the order shown as everywhere
// else in the API (with its checkout_url).
type collectResultView struct {
	Status     string             `json:"status"`
	Order      *orderView         `json:"order,omitempty"`
	Payment    *kessai.Payment    `json:"payment,omitempty"`
	Collection *cvspay.Details    `json:"collection,omitempty"`
	NextAction *cvspay.NextAction `json:"next_action,omitempty"`
	Replayed   bool               `json:"replayed,omitempty"`
}

func (a *API) collectResultView(c *call, r *cvspay.Result) collectResultView {
	v := collectResultView{Status: r.Status, Payment: r.Payment, Collection: r.Collection, NextAction: r.NextAction, Replayed: r.Replayed}
	if r.Order != nil {
		ov := a.orderView(c, r.Order)
		v.Order = &ov
	}
	return v
}

// collectOrder registers an order for payment at a convenience store, by
// Pay-easy or with e-money (cvspay.Collector.Register). The body may be
// empty: the shopper's identity comes from the order's billing, and what
// is missing there is named by the validation.
func (a *API) collectOrder(c *call) (int, any, error) {
	id, err := a.colsCall(c, errOrderNotFound)
	if err != nil {
		return 0, nil, err
	}
	var in cvspay.RegisterInput
	if err := decode(c, &in, true); err != nil {
		return 0, nil, err
	}
	res, err := a.cols.Register(c.ctx(), c.shopID, id, in)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, a.collectResultView(c, res), nil
}

// registerCollection is the operator's registration of an order that has
// no collection (cvspay.Collector.RegisterFromAdmin, ADMIN-15). The body
// may be empty: the shop's due days and the order's total are the
// defaults, as in the admin dialog.
func (a *API) registerCollection(c *call) (int, any, error) {
	id, err := a.colsCall(c, errOrderNotFound)
	if err != nil {
		return 0, nil, err
	}
	var in cvspay.AdminRegisterInput
	if err := decode(c, &in, true); err != nil {
		return 0, nil, err
	}
	v, err := a.cols.RegisterFromAdmin(c.ctx(), c.shopID, id, in)
	if err != nil {
		return 0, nil, err
	}
	c.header.Set("Location", "/v1/payments/"+url.PathEscape(v.Payment.ID)+"/collection")
	return http.StatusCreated, v, nil
}

// getCollection is the operator's view of a collection, from kessai's
// records only; while it is unpaid the view carries the shopper's payment
// details (design A-06), so this is also where a shop reads them again.
func (a *API) getCollection(c *call) (int, any, error) {
	id, err := a.colsCall(c, errPaymentNotFound)
	if err != nil {
		return 0, nil, err
	}
	if _, err := query(c); err != nil {
		return 0, nil, err
	}
	v, err := a.cols.Get(c.ctx(), c.shopID, id)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, v, nil
}

// referenceCollection asks the gateway (2Ref, ADMIN-12); reached through
// byMethod from POST /v1/payments/{id}/reference.
func (a *API) referenceCollection(c *call) (int, any, error) {
	return a.collectionOp(c, a.cols.Reference)
}

// cancelCollection deletes an unpaid collection (2Del, ADMIN-14); reached
// through byMethod from POST /v1/payments/{id}/cancel.
func (a *API) cancelCollection(c *call) (int, any, error) {
	return a.collectionOp(c, a.cols.Cancel)
}

// collectionOp runs an operation that takes no input (the body, if any,
// must be an empty object) on the collection named in the path. op is a
// method value of a.cols; it is called only once colsCall has checked
// that collections are configured.
func (a *API) collectionOp(c *call, op func(ctx context.Context, shopID, paymentID string) (*cvspay.View, error)) (int, any, error) {
	id, err := a.colsCall(c, errPaymentNotFound)
	if err != nil {
		return 0, nil, err
	}
	var none struct{}
	if err := decode(c, &none, true); err != nil {
		return 0, nil, err
	}
	v, err := op(c.ctx(), c.shopID, id)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, v, nil
}

// changeCollection changes the due date and/or the amount of an unpaid
// collection (2Chg, ADMIN-13). The body is required, as for
// change_amount: a change names what it changes. {} names nothing and
// answers "noop": true, like unchanged values in the admin dialog.
func (a *API) changeCollection(c *call) (int, any, error) {
	id, err := a.colsCall(c, errPaymentNotFound)
	if err != nil {
		return 0, nil, err
	}
	var in cvspay.ChangeInput
	if err := decode(c, &in, false); err != nil {
		return 0, nil, err
	}
	v, err := a.cols.Change(c.ctx(), c.shopID, id, in)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, v, nil
}

// resolveCollection settles a registration whose answer was lost; reached
// through byMethod from POST /v1/payments/{id}/resolve. Its body may carry
// free_area (the payment code), which a card resolution refuses.
func (a *API) resolveCollection(c *call) (int, any, error) {
	id, err := a.colsCall(c, errPaymentNotFound)
	if err != nil {
		return 0, nil, err
	}
	var in cvspay.ResolveInput
	if err := decode(c, &in, false); err != nil {
		return 0, nil, err
	}
	v, err := a.cols.Resolve(c.ctx(), c.shopID, id, in)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, v, nil
}
