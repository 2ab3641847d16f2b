package api

import (
	"net/http"
	"net/url"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/cardpay"
	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/service"
)

// Card payments (package cardpay) over the JSON API: checkout of an order
// with a token or the saved card (/pay), the operator's new charge, the
// order operations, the unknown-outcome resolution and saved cards. The
// handlers only decode, check path ids and render; every rule (states,
// plan, amounts, A-01 deletion refusals) is cardpay's.
//
// Errors: a refused or undecided payment is a *cardpay.Failure, rendered
// like any kinded error (402 declined, 202 unknown_outcome) plus
// payment_id, order_id and gateway_codes (errors.go). Idempotency needs
// nothing special: the middleware stores every answer but 5xx and 429, so
// a 402 or 202 of /pay is replayed as stored and a retry with the same key
// can never charge again.

// cardRoutes lists the card payment endpoints (see routeTable).
// reference, cancel and resolve serve collections too: byMethod hands a
// collection payment to its handler in collections.go.
func (a *API) cardRoutes() []route {
	return []route{
		{"POST", "/v1/orders/{id}/pay", false, a.payOrder},
		{"POST", "/v1/orders/{id}/charge", false, a.chargeOrder},

		{"GET", "/v1/payments/{id}/card", false, a.getCardPayment},
		{"POST", "/v1/payments/{id}/reference", false, a.byMethod(a.referenceCardPayment, a.referenceCollection)},
		{"POST", "/v1/payments/{id}/capture", false, a.operateCard(escott.OpCapture, false)},
		{"POST", "/v1/payments/{id}/cancel", false, a.byMethod(a.operateCard(escott.OpDelete, false), a.cancelCollection)},
		{"POST", "/v1/payments/{id}/change_amount", false, a.operateCard(escott.OpChange, true)},
		{"POST", "/v1/payments/{id}/reauthorize", false, a.operateCard(escott.OpReAuth, true)},
		{"POST", "/v1/payments/{id}/resolve", false, a.byMethod(a.resolveCardPayment, a.resolveCollection)},

		{"GET", "/v1/customers/{id}/card", false, a.getSavedCard},
		{"POST", "/v1/customers/{id}/card", false, a.saveCard},
		{"DELETE", "/v1/customers/{id}/card", false, a.deleteSavedCard},
		{"POST", "/v1/customers/{id}/card_link", false, a.cardLink},
	}
}

var errCardsUnavailable = kessai.Errorf(kessai.KindUnavailable, "cards_unavailable",
	"このサーバーではクレジットカード決済の API を利用できません（決済機能が組み込まれていません）。",
	"Card payments are not available on this server (the card payment engine is not configured).")

// The answers to path ids that cannot exist (the service's messages and
// codes, given before any settings or gateway work).
var (
	errOrderNotFound   = kessai.Errorf(kessai.KindNotFound, "order_not_found", "注文が見つかりません。", "No such order.")
	errPaymentNotFound = kessai.Errorf(kessai.KindNotFound, "payment_not_found", "決済が見つかりません。", "No such payment.")
	errCardNotFound    = kessai.Errorf(kessai.KindNotFound, "card_not_found",
		"カード会員情報が見つかりません。", "The customer has no saved card.")
)

// maxPathID bounds order and payment ids taken from the path (real ones
// are about 30 characters), as the service does.
const maxPathID = 64

// plausibleID reports whether s can be an order or payment id at all.
func plausibleID(s string) bool {
	if s == "" || len(s) > maxPathID {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= 0x20 || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// validCustomerID is the rule of an order's customer_id: 1–64 of A–Z,
// a–z, 0–9, _ and -.
func validCustomerID(s string) bool {
	if s == "" || len(s) > service.MaxCustomerIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// cardsCall starts a card route: the engine must be there, and the path id
// plausible (otherwise notFound).
func (a *API) cardsCall(c *call, notFound error) (string, error) {
	if a.cards == nil {
		return "", errCardsUnavailable
	}
	id := c.r.PathValue("id")
	if !plausibleID(id) {
		return "", notFound
	}
	return id, nil
}

// amountRequest is the body of change_amount and reauthorize.
type amountRequest struct {
	// Amount is the new amount in yen. A pointer, so that a missing
	// amount is "required" rather than the zero amount.
	Amount *int64 `json:"amount"`
}

// chargeRequest is the body of POST /v1/orders/{id}/charge.
type chargeRequest struct {
	Amount *int64 `json:"amount"`
	// Capture charges with 1Gathering (与信売上計上); false or absent
	// only authorises (1Auth), to be captured later.
	Capture bool `json:"capture,omitempty"`
}

func errAmountRequired() error {
	return kessai.ValidationErrors{kessai.FieldError("amount", "required",
		"amount（金額・円）は必須です。", "amount (in yen) is required.")}
}

// payOrder runs a card checkout of an order (cardpay.Payer.Pay). The body
// may be empty: what is missing is then named by the validation (token,
// consent, …), which depends on the shop's settings.
func (a *API) payOrder(c *call) (int, any, error) {
	id, err := a.cardsCall(c, errOrderNotFound)
	if err != nil {
		return 0, nil, err
	}
	var in cardpay.PayInput
	if err := decode(c, &in, true); err != nil {
		return 0, nil, err
	}
	res, err := a.cards.Pay(c.ctx(), c.shopID, id, in)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, a.payResultView(c, res), nil
}

// chargeOrder charges an order with its customer's saved card
// (cardpay.Payer.NewCharge, the operator's 新規決済).
func (a *API) chargeOrder(c *call) (int, any, error) {
	id, err := a.cardsCall(c, errOrderNotFound)
	if err != nil {
		return 0, nil, err
	}
	var in chargeRequest
	if err := decode(c, &in, false); err != nil {
		return 0, nil, err
	}
	if in.Amount == nil {
		return 0, nil, errAmountRequired()
	}
	v, err := a.cards.NewCharge(c.ctx(), c.shopID, id, *in.Amount, in.Capture)
	if err != nil {
		return 0, nil, err
	}
	c.header.Set("Location", "/v1/payments/"+url.PathEscape(v.Payment.ID)+"/card")
	return http.StatusCreated, v, nil
}

func (a *API) getCardPayment(c *call) (int, any, error) {
	id, err := a.cardsCall(c, errPaymentNotFound)
	if err != nil {
		return 0, nil, err
	}
	if _, err := query(c); err != nil {
		return 0, nil, err
	}
	v, err := a.cards.Get(c.ctx(), c.shopID, id)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, v, nil
}

func (a *API) referenceCardPayment(c *call) (int, any, error) {
	id, err := a.cardsCall(c, errPaymentNotFound)
	if err != nil {
		return 0, nil, err
	}
	var none struct{}
	if err := decode(c, &none, true); err != nil {
		return 0, nil, err
	}
	v, err := a.cards.Reference(c.ctx(), c.shopID, id)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, v, nil
}

// operateCard is the handler of one order operation: capture and cancel
// take no body (or {}), change_amount and reauthorize {"amount": n}.
func (a *API) operateCard(op escott.OperateID, withAmount bool) handlerFunc {
	return func(c *call) (int, any, error) {
		id, err := a.cardsCall(c, errPaymentNotFound)
		if err != nil {
			return 0, nil, err
		}
		var amount int64
		if withAmount {
			var in amountRequest
			if err := decode(c, &in, false); err != nil {
				return 0, nil, err
			}
			if in.Amount == nil {
				return 0, nil, errAmountRequired()
			}
			amount = *in.Amount
		} else {
			var none struct{}
			if err := decode(c, &none, true); err != nil {
				return 0, nil, err
			}
		}
		v, err := a.cards.Operate(c.ctx(), c.shopID, id, op, amount)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, v, nil
	}
}

func (a *API) resolveCardPayment(c *call) (int, any, error) {
	id, err := a.cardsCall(c, errPaymentNotFound)
	if err != nil {
		return 0, nil, err
	}
	var in cardpay.ResolveInput
	if err := decode(c, &in, false); err != nil {
		return 0, nil, err
	}
	v, err := a.cards.Resolve(c.ctx(), c.shopID, id, in)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, v, nil
}

// --- saved cards ---

// customerCall starts a saved-card route. A customer id that no order
// could carry has no card: 404 for reads and deletions, 400 for a
// registration (it would create one under an id the API cannot name).
func (a *API) customerCall(c *call, creating bool) (string, error) {
	if a.cards == nil {
		return "", errCardsUnavailable
	}
	id := c.r.PathValue("id")
	if validCustomerID(id) {
		return id, nil
	}
	if creating {
		return "", kessai.ValidationErrors{kessai.FieldError("customer_id", "invalid_customer_id",
			"customer_id（URL の顧客 ID）は 64 文字以内の半角英数字・_・- で指定してください。",
			"The customer id in the URL must be at most 64 characters of A-Z, a-z, 0-9, _ and -.")}
	}
	return "", errCardNotFound
}

func (a *API) getSavedCard(c *call) (int, any, error) {
	id, err := a.customerCall(c, false)
	if err != nil {
		return 0, nil, err
	}
	if _, err := query(c); err != nil {
		return 0, nil, err
	}
	card, err := a.cards.GetCard(c.ctx(), c.shopID, id)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, card, nil
}

// saveCard registers or replaces a customer's saved card. Like /pay, an
// empty body is let through so that the validation names what is missing.
func (a *API) saveCard(c *call) (int, any, error) {
	id, err := a.customerCall(c, true)
	if err != nil {
		return 0, nil, err
	}
	var in cardpay.SaveCardInput
	if err := decode(c, &in, true); err != nil {
		return 0, nil, err
	}
	res, err := a.cards.SaveCard(c.ctx(), c.shopID, id, in)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, res, nil
}

func (a *API) deleteSavedCard(c *call) (int, any, error) {
	id, err := a.customerCall(c, false)
	if err != nil {
		return 0, nil, err
	}
	var none struct{}
	if err := decode(c, &none, true); err != nil {
		return 0, nil, err
	}
	if err := a.cards.DeleteCard(c.ctx(), c.shopID, id); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, cardDeletedResponse{Deleted: true, CustomerID: id}, nil
}

// cardLink makes a short-lived signed link to the customer's hosted "my
// cards" page (MEMBER-02…07), for the shop to send its signed-in customer
// to. The shop vouches for who the customer is; the link carries no more
// than the customer id, the return URL and an expiry.
func (a *API) cardLink(c *call) (int, any, error) {
	id, err := a.customerCall(c, true)
	if err != nil {
		return 0, nil, err
	}
	if a.cardLinks == nil {
		return 0, nil, errCardsUnavailable
	}
	var in struct {
		ReturnURL  string `json:"return_url"`
		TTLSeconds int    `json:"ttl_seconds"`
	}
	if err := decode(c, &in, true); err != nil {
		return 0, nil, err
	}
	// The lifetime is checked here, in the API's own field name and
	// before any arithmetic on it: 0 (the default) or 60–3600 seconds.
	if in.TTLSeconds != 0 && (in.TTLSeconds < 60 || in.TTLSeconds > 3600) {
		return 0, nil, kessai.ValidationErrors{kessai.FieldError("ttl_seconds", "invalid_ttl",
			"ttl_seconds（リンクの有効期間）は 60〜3600 秒で指定してください。",
			"ttl_seconds (the link's lifetime) must be between 60 and 3600 seconds.")}
	}
	link, exp, err := a.cardLinks(c.ctx(), c.shopID, id, in.ReturnURL, time.Duration(in.TTLSeconds)*time.Second)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, cardLinkView{URL: link, ExpiresAt: exp}, nil
}

// cardLinkView is the answer of POST /v1/customers/{id}/card_link.
type cardLinkView struct {
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
}
