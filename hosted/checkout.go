package hosted

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"sort"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/card"
	"github.com/kessai/kessai/cardpay"
	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/service"
)

// checkoutCtx is one checkout page being shown or posted.
type checkoutCtx struct {
	h      *Handler
	r      *http.Request
	lang   string
	shopID string
	order  *kessai.Order
	set    *kessai.Settings
	// posted are the form values of a POST shown again (after an error).
	posted url.Values
	errors []string
	// returnURL is where a gateway round trip of this checkout comes back
	// to: this page, which then shows the thank-you page or the error.
	returnURL string
	// fieldErrors are the messages of a POST shown again, by form field
	// (the collection panel's billing fields).
	fieldErrors map[string]string
	// saved caches the customer's saved card (nil: none or not looked up).
	saved       *cardpay.SavedCard
	savedLoaded bool
}

// orderView is an order as the pages show it.
type orderView struct {
	Number string
	Amount int64
	Items  []kessai.LineItem
}

func viewOrder(o *kessai.Order) *orderView {
	v := &orderView{Number: o.ShopOrderID, Amount: o.Amount, Items: o.Items}
	if v.Number == "" {
		v.Number = o.ID
	}
	return v
}

// checkoutPage is the body of the checkout template.
type checkoutPage struct {
	Order       *orderView
	Errors      []string
	Methods     []methodView
	Single      bool
	Action      string
	CSRF        string
	Button      string
	TokenScript string
}

func (h *Handler) checkoutPath(r *http.Request, orderID string) string {
	return h.basePath(r) + CheckoutPrefix + url.PathEscape(orderID)
}

// loadCheckout loads the order and the settings of a checkout request;
// false when it already answered (unknown order, or an internal error).
func (h *Handler) loadCheckout(w http.ResponseWriter, r *http.Request) (*checkoutCtx, bool) {
	lang := langOf(r)
	id := r.PathValue("id")
	c := &checkoutCtx{h: h, r: r, lang: lang, shopID: h.shopID}
	if !kessai.ValidID("ord", id) {
		h.renderMessage(w, r, http.StatusNotFound, lang, messagePage{Heading: "not_found_title", Text: "order_not_found"})
		return nil, false
	}
	o, err := h.svc.GetOrder(r.Context(), h.shopID, id)
	if err != nil {
		if kessai.ErrorKind(err) == kessai.KindNotFound {
			h.renderMessage(w, r, http.StatusNotFound, lang, messagePage{Heading: "not_found_title", Text: "order_not_found"})
		} else {
			h.renderError(w, r, lang, err)
		}
		return nil, false
	}
	set, err := h.settings(r.Context(), h.shopID)
	if err != nil {
		h.renderError(w, r, lang, err)
		return nil, false
	}
	c.order, c.set = o, set
	c.returnURL = h.base(r) + CheckoutPrefix + url.PathEscape(o.ID)
	if service.CheckReturnURL("return_url", c.returnURL) != nil {
		// A public URL the gateway may not send shoppers back to (plain
		// http on a public host): the round trip returns to the order's
		// own return URL instead, as for API checkouts.
		c.returnURL = ""
	}
	return c, true
}

// renderError shows an error that is not about the form.
func (h *Handler) renderError(w http.ResponseWriter, r *http.Request, lang string, err error) {
	texts := h.messagesOf(r.Context(), err, lang)
	st := statusOf(err)
	if st < 400 {
		st = http.StatusInternalServerError
	}
	h.renderMessage(w, r, st, lang, messagePage{Heading: "checkout_title", Texts: texts})
}

// getCheckout shows the checkout of an order, or what became of it.
func (h *Handler) getCheckout(w http.ResponseWriter, r *http.Request) {
	h.rememberLang(w, r)
	c, ok := h.loadCheckout(w, r)
	if !ok {
		return
	}
	if h.orderSettled(w, r, c) {
		return
	}
	q := r.URL.Query()
	switch q.Get("status") {
	case "unknown":
		h.renderUnknown(w, r, c)
		return
	case "failed":
		// Back from the gateway with a failure (the receiver's query).
		if m := h.returnMessage(r.Context(), c, q.Get("error"), q.Get("payment_id")); m != "" {
			c.errors = append(c.errors, m)
		}
	}
	h.renderCheckout(w, r, c, http.StatusOK)
}

// orderSettled answers for an order that cannot be paid any more: the
// thank-you page once paid, a notice otherwise. It reports whether it
// answered.
func (h *Handler) orderSettled(w http.ResponseWriter, r *http.Request, c *checkoutCtx) bool {
	o := c.order
	switch o.Status {
	case kessai.OrderProcessing, kessai.OrderCompleted:
		h.renderThanks(w, r, c)
		return true
	case kessai.OrderCancelled:
		h.renderMessage(w, r, http.StatusOK, c.lang, messagePage{Heading: "checkout_title", Text: "order_cancelled", Order: viewOrder(o)})
		return true
	case kessai.OrderOnHold:
		// A registered collection waits for the shopper's payment (CVS-06):
		// the thank-you page says what to pay, by when and where.
		// This is also where the agent's page links back to.
		if h.collectionOf(r.Context(), c) != nil {
			h.renderThanks(w, r, c)
			return true
		}
		h.renderMessage(w, r, http.StatusOK, c.lang, messagePage{Heading: "checkout_title", Text: "order_on_hold", Order: viewOrder(o), Role: "status"})
		return true
	case kessai.OrderPending, kessai.OrderFailed:
	default:
		h.renderMessage(w, r, http.StatusOK, c.lang, messagePage{Heading: "checkout_title", Text: "order_closed", Order: viewOrder(o)})
		return true
	}
	pays, err := h.store.ListPayments(r.Context(), c.shopID, o.ID)
	if err != nil {
		h.renderError(w, r, c.lang, kessai.Internal(err))
		return true
	}
	for _, p := range pays {
		if p.State == kessai.PaymentUnknown {
			// Design gap #25: the shopper must not pay again while an
			// earlier answer is lost.
			h.renderUnknown(w, r, c)
			return true
		}
	}
	return false
}

func (h *Handler) renderUnknown(w http.ResponseWriter, r *http.Request, c *checkoutCtx) {
	h.renderMessage(w, r, http.StatusOK, c.lang, messagePage{Heading: "payment_unknown_title", Text: "payment_unknown",
		Order: viewOrder(c.order), Link: h.shopLink(c, "unknown", "")})
}

// shopLink is the "back to the shop" link of an order, with the outcome
// in the query as the receiver would put it; nil without a return URL.
func (h *Handler) shopLink(c *checkoutCtx, status, paymentID string) *pageLink {
	u := withOutcome(c.order.ReturnURL, status, c.order.ID, paymentID)
	if u == "" {
		return nil
	}
	return &pageLink{URL: u, Label: text(c.lang, "back_to_shop")}
}

// withOutcome adds the receiver's query (status, order_id, payment_id) to
// a shop's return URL, so that a shopper following the link lands where a
// gateway round trip would have sent them.
func withOutcome(raw, status, orderID, paymentID string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	q := u.Query()
	q.Set("status", status)
	q.Set("order_id", orderID)
	if paymentID != "" {
		q.Set("payment_id", paymentID)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// returnMessage words the error code of a gateway round trip that came
// back failed (cardpay's codes, see cardpay/returns.go). A declined
// payment gets the message of its gateway codes, read from the payment
// itself (the query is not signed, so it only selects the text).
func (h *Handler) returnMessage(ctx context.Context, c *checkoutCtx, code, paymentID string) string {
	key := ""
	switch code {
	case "cancelled", "return_already_processed":
		return ""
	case "three_d_secure_failed":
		key = "three_ds_failed"
	case "return_session_not_found":
		key = "three_ds_lost"
	case "return_session_expired":
		key = "session_expired"
	case "card_not_found":
		key = "card_not_found"
	case "member_register_failed":
		key = "member_add_ng"
	case "member_change_failed":
		key = "member_chg_ng"
	}
	if key != "" {
		return text(c.lang, key)
	}
	if paymentID != "" && kessai.ValidID(cardpay.PaymentIDPrefix, paymentID) {
		if p, err := h.store.GetPayment(ctx, c.shopID, paymentID); err == nil && p.OrderID == c.order.ID && len(p.FailureCodes) > 0 {
			ja, en := card.ShopperFailure(p.FailureCodes)
			if c.lang == langEn {
				return en
			}
			return ja
		}
	}
	return text(c.lang, "payment_failed")
}

// renderCheckout renders the checkout form with every offered method.
func (h *Handler) renderCheckout(w http.ResponseWriter, r *http.Request, c *checkoutCtx, status int) {
	ctx := r.Context()
	p := h.newPage(r, c.lang, "checkout_title")
	h.withShop(ctx, p, c.shopID, c.set)
	nonce := h.csrfNonce(w, r)
	tok, err := h.csrfToken(ctx, c.shopID, "checkout:"+c.order.ID, nonce)
	if err != nil {
		h.renderError(w, r, c.lang, kessai.Internal(err))
		return
	}
	body := &checkoutPage{Order: viewOrder(c.order), Errors: c.errors, Action: h.checkoutPath(r, c.order.ID), CSRF: tok}
	chosen := kessai.Method(c.posted.Get("method"))
	var origins []string // every origin a panel's form may lead to
	tokenOrigin := ""
	for _, m := range h.methods {
		if !m.offered(c) {
			continue
		}
		mp, err := m.panel(ctx, c)
		if err != nil {
			h.renderError(w, r, c.lang, err)
			return
		}
		v := methodView{ID: m.id(), Title: mp.Title, Description: mp.Description, Panel: mp.Panel, Button: mp.Button,
			Selected: chosen == m.id()}
		body.Methods = append(body.Methods, v)
		if mp.TokenScript != "" && body.TokenScript == "" {
			body.TokenScript, tokenOrigin = mp.TokenScript, mp.GatewayOrigin
		}
		if mp.GatewayOrigin != "" && !slices.Contains(origins, mp.GatewayOrigin) {
			origins = append(origins, mp.GatewayOrigin)
		}
	}
	if len(body.Methods) > 0 {
		sel := 0
		for i, m := range body.Methods {
			if m.Selected {
				sel = i
			}
		}
		body.Methods[sel].Selected = true
		body.Button = body.Methods[sel].Button
		body.Single = len(body.Methods) == 1
	}
	p.Body = body
	p.Scripts = []string{p.Asset("checkout.js")}
	// The token script's origin gets script-src and connect-src; every
	// panel's origin gets form-action.
	gateway := tokenOrigin
	if gateway == "" && len(origins) > 0 {
		gateway = origins[0]
	}
	h.render(w, r, status, "checkout", csp(gateway, body.TokenScript != "", true, origins...), p)
}

// postCheckout takes the checkout form.
func (h *Handler) postCheckout(w http.ResponseWriter, r *http.Request) {
	c, ok := h.loadCheckout(w, r)
	if !ok {
		return
	}
	c.posted = r.PostForm
	if c.order.Status != kessai.OrderPending && c.order.Status != kessai.OrderFailed {
		// Paid meanwhile (another tab, a double click): show what it is.
		http.Redirect(w, r, h.checkoutPath(r, c.order.ID)+"?lang="+c.lang, http.StatusSeeOther)
		return
	}
	if !h.checkCSRF(r, c.shopID, "checkout:"+c.order.ID) {
		h.log.InfoContext(r.Context(), "hosted: checkout POST without a valid CSRF token", "order", c.order.ID)
		c.errors = []string{text(c.lang, "csrf_failed")}
		h.renderCheckout(w, r, c, http.StatusForbidden)
		return
	}
	want := kessai.Method(r.PostForm.Get("method"))
	for _, m := range h.methods {
		if m.id() == want && m.offered(c) {
			m.submit(w, r, c)
			return
		}
	}
	c.errors = []string{text(c.lang, "unknown_method")}
	h.renderCheckout(w, r, c, http.StatusBadRequest)
}

// redirectPage is the body of the auto-submitting hand-off page.
type redirectPage struct {
	URL    string
	Fields []field
}

type field struct{ K, V string }

// follow sends the browser where a payment's next action says: a plain
// redirect (the link-type card page), or a page whose script (kessai's,
// from its own origin) posts the hand-off form to the gateway (3-D
// Secure).
func (h *Handler) follow(w http.ResponseWriter, r *http.Request, lang string, na *cardpay.NextAction) {
	switch na.Type {
	case "redirect":
		http.Redirect(w, r, na.URL, http.StatusSeeOther)
	case "redirect_form":
		body := redirectPage{URL: na.URL}
		for k, v := range na.Fields {
			body.Fields = append(body.Fields, field{k, v})
		}
		sort.Slice(body.Fields, func(i, j int) bool { return body.Fields[i].K < body.Fields[j].K })
		p := h.newPage(r, lang, "redirect_title")
		p.LangSwitch = ""
		p.Body = body
		p.Scripts = []string{p.Asset("autosubmit.js")}
		h.render(w, r, http.StatusOK, "redirect", csp(originOf(na.URL), false, true), p)
	default:
		h.renderError(w, r, lang, kessai.Internal(errors.New("hosted: unknown next action "+na.Type)))
	}
}

// thanksPage is the body of the thank-you page.
type thanksPage struct {
	Order     *orderView
	State     string
	Message   string
	Method    string
	PayType   string
	ReturnURL string
	// Collection is what is left to pay for an order registered for
	// payment at a store, by Pay-easy or with e-money (design A-06).
	Collection *collectionThanks
}

// collectionOf returns the order's collection awaiting payment or past
// its due date, nil when there is none.
func (h *Handler) collectionOf(ctx context.Context, c *checkoutCtx) *kessai.Payment {
	pays, err := h.store.ListPayments(ctx, c.shopID, c.order.ID)
	if err != nil {
		return nil
	}
	for i := len(pays) - 1; i >= 0; i-- {
		p := &pays[i]
		if p.Method == kessai.MethodCollection && (p.State == kessai.PaymentPending || p.State == kessai.PaymentExpired) {
			return p
		}
	}
	return nil
}

// renderThanks shows a paid (or authorised) order (CARD-14), or one
// registered for a collection with what the shopper is to pay.
func (h *Handler) renderThanks(w http.ResponseWriter, r *http.Request, c *checkoutCtx) {
	ctx := r.Context()
	p := h.newPage(r, c.lang, "thanks_title")
	h.withShop(ctx, p, c.shopID, c.set)
	body := &thanksPage{Order: viewOrder(c.order), State: "paid", Message: text(c.lang, "paid_zero")}
	var paid *kessai.Payment
	if pays, err := h.store.ListPayments(ctx, c.shopID, c.order.ID); err == nil {
		for i := range pays {
			switch pays[i].State {
			case kessai.PaymentCaptured, kessai.PaymentAuthorized, kessai.PaymentPaid, kessai.PaymentPending:
				paid = &pays[i]
			case kessai.PaymentExpired:
				// An on-hold order whose collection expired unpaid (the
				// shop did not have it cancelled).
				if c.order.Status == kessai.OrderOnHold {
					paid = &pays[i]
				}
			}
		}
	}
	status := outcomeSucceeded
	if paid != nil && paid.Method == kessai.MethodCollection {
		status = h.collectionThanksOf(ctx, c, paid, body)
	}
	if paid != nil && paid.Method == kessai.MethodCard {
		body.Method = text(c.lang, "paid_card")
		if paid.PayType != "" && paid.PayType != escott.PayLump {
			body.PayType = paid.PayType.Label()
			if c.lang == langEn {
				body.PayType = paid.PayType.LabelEn()
			}
		}
		switch paid.State {
		case kessai.PaymentAuthorized:
			body.State, body.Message = "authorized", text(c.lang, "paid_authorized")
		case kessai.PaymentCaptured:
			body.State, body.Message = "captured", text(c.lang, "paid_captured")
		}
	}
	payID := ""
	if paid != nil {
		payID = paid.ID
	}
	body.ReturnURL = withOutcome(c.order.ReturnURL, status, c.order.ID, payID)
	p.Body = body
	h.render(w, r, http.StatusOK, "thanks", csp("", false, false), p)
}

// getResult is where the receiver sends a browser whose round trip had no
// return URL (see docs/hosted-checkout.md): an order's outcome is shown by
// its checkout page, a saved card's here.
func (h *Handler) getResult(w http.ResponseWriter, r *http.Request) {
	h.rememberLang(w, r)
	lang := langOf(r)
	q := r.URL.Query()
	status := q.Get("status")
	if id := q.Get("order_id"); kessai.ValidID("ord", id) {
		fwd := url.Values{}
		for _, k := range []string{"status", "error", "payment_id", "lang"} {
			if v := q.Get(k); v != "" {
				fwd.Set(k, v)
			}
		}
		target := h.checkoutPath(r, id)
		if len(fwd) > 0 {
			target += "?" + fwd.Encode()
		}
		http.Redirect(w, r, target, http.StatusSeeOther)
		return
	}
	if q.Get("customer_id") == "" {
		h.notFound(w, r)
		return
	}
	m := messagePage{Heading: "result_title"}
	switch status {
	case "succeeded":
		m.Text, m.Role = "card_saved_result", "status"
	case "cancelled":
		m.Text, m.Role = "cancelled_result", "status"
	case "unknown":
		m.Text = "payment_unknown"
	default:
		m.Text = savedCardFailureKey(q.Get("error"))
	}
	h.renderMessage(w, r, http.StatusOK, lang, m)
}

// savedCardFailureKey words a failed saved-card round trip (MEMBER-05).
func savedCardFailureKey(code string) string {
	switch code {
	case "three_d_secure_failed":
		return "three_ds_failed"
	case "return_session_not_found":
		return "three_ds_lost"
	case "return_session_expired":
		return "session_expired"
	case "member_change_failed":
		return "member_chg_ng"
	case "cancelled":
		return "cancelled_result"
	}
	return "member_add_ng"
}
