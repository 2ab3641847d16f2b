package demoshop

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// The kessai API as a shop's backend sees it: JSON over HTTP with the
// secret key. The shop declares its own types for what it reads instead
// of importing kessai's, as a shop written in any other language would,
// so this file doubles as a small, complete example client.

// apiOrder is an order as the API returns it.
type apiOrder struct {
	ID          string            `json:"id"`
	ShopOrderID string            `json:"shop_order_id"`
	Amount      int64             `json:"amount"`
	Currency    string            `json:"currency"`
	Items       []apiItem         `json:"items"`
	CustomerID  string            `json:"customer_id,omitempty"`
	Billing     apiBilling        `json:"billing"`
	Status      string            `json:"status"`
	ReturnURL   string            `json:"return_url,omitempty"`
	Metadata    map[string]string `json:"metadata,omitempty"`
	CreatedAt   time.Time         `json:"created_at"`
	CheckoutURL string            `json:"checkout_url"`
}

// apiItem is one order line. Virtual is sent on every line, true or
// false, so an order never depends on a default.
type apiItem struct {
	Name       string `json:"name"`
	Quantity   int64  `json:"quantity"`
	UnitAmount int64  `json:"unit_amount"`
	Virtual    bool   `json:"virtual"`
	// Fee marks a line kessai added (a collection's settlement fee); the
	// shop never sends it.
	Fee bool `json:"fee,omitempty"`
}

// apiBilling is the billing identity kessai passes to the gateway.
type apiBilling struct {
	LastName      string `json:"last_name"`
	FirstName     string `json:"first_name"`
	LastNameKana  string `json:"last_name_kana"`
	FirstNameKana string `json:"first_name_kana"`
	Email         string `json:"email"`
	Phone         string `json:"phone"`
}

// createOrderRequest is the body of POST /v1/orders.
type createOrderRequest struct {
	ShopOrderID string            `json:"shop_order_id"`
	Amount      int64             `json:"amount"`
	Items       []apiItem         `json:"items"`
	CustomerID  string            `json:"customer_id,omitempty"`
	Billing     apiBilling        `json:"billing"`
	ReturnURL   string            `json:"return_url"`
	Metadata    map[string]string `json:"metadata,omitempty"`
}

// orderList is a page of GET /v1/orders.
type orderList struct {
	Data       []apiOrder `json:"data"`
	HasMore    bool       `json:"has_more"`
	NextCursor string     `json:"next_cursor"`
}

// cardLinkRoute is where the shop asks kessai for a signed link to the
// customer's "my cards" page (docs/hosted-checkout.md). %s is the
// customer id.
const cardLinkRoute = "/v1/customers/%s/card_link"

// cardLink is the answer of cardLinkRoute.
type cardLink struct {
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
}

// apiError is a non-2xx answer of the API.
type apiError struct {
	Status  int
	Code    string
	Message string
	// Fields are the per-field problems of a validation error, by JSON
	// path ("billing.email").
	Fields map[string]string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("kessai API: %d %s: %s", e.Status, e.Code, e.Message)
}

// errorBody is the API's error answer.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field"`
		Errors  []struct {
			Field   string `json:"field"`
			Message string `json:"message"`
		} `json:"errors"`
	} `json:"error"`
}

// maxAnswer bounds what the client reads of one answer: an order list of
// a hundred orders is far below it.
const maxAnswer = 4 << 20

// client calls kessai's API.
type client struct {
	base string
	key  string
	hc   *http.Client
}

// do sends one call. body, when not nil, is sent as JSON; idemKey, when
// not empty, as Idempotency-Key. A 2xx answer is decoded into out (when
// not nil); anything else is returned as *apiError, a failure to reach
// the API as a wrapped transport error.
func (c *client) do(ctx context.Context, method, path string, q url.Values, body any, idemKey string, out any) error {
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Accept", "application/json")
	// Messages in the shopper's language: this shop is Japanese.
	req.Header.Set("Accept-Language", "ja")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if idemKey != "" {
		req.Header.Set("Idempotency-Key", idemKey)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("kessai API %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return fmt.Errorf("kessai API %s %s: %w", method, path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		ae := &apiError{Status: resp.StatusCode}
		var eb errorBody
		if json.Unmarshal(raw, &eb) == nil && eb.Error.Code != "" {
			ae.Code, ae.Message = eb.Error.Code, eb.Error.Message
			for _, fe := range eb.Error.Errors {
				if ae.Fields == nil {
					ae.Fields = map[string]string{}
				}
				ae.Fields[fe.Field] = fe.Message
			}
			if len(ae.Fields) == 0 && eb.Error.Field != "" {
				ae.Fields = map[string]string{eb.Error.Field: eb.Error.Message}
			}
		} else {
			// Not kessai's JSON (a proxy's page, a route that does
			// not exist on an older kessai): keep a hint for the log.
			ae.Message = strings.TrimSpace(string(raw[:min(len(raw), 200)]))
		}
		return ae
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("kessai API %s %s: decode answer: %w", method, path, err)
	}
	return nil
}

// apiStatus returns the HTTP status of an API error, 0 for other errors.
func apiStatus(err error) int {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

func (c *client) createOrder(ctx context.Context, in *createOrderRequest, idemKey string) (*apiOrder, error) {
	var o apiOrder
	if err := c.do(ctx, http.MethodPost, "/v1/orders", nil, in, idemKey, &o); err != nil {
		return nil, err
	}
	return &o, nil
}

func (c *client) getOrder(ctx context.Context, id string) (*apiOrder, error) {
	var o apiOrder
	if err := c.do(ctx, http.MethodGet, "/v1/orders/"+url.PathEscape(id), nil, nil, "", &o); err != nil {
		return nil, err
	}
	return &o, nil
}

// customerOrders lists one page of a customer's orders, newest first,
// with the API's customer_id filter.
func (c *client) customerOrders(ctx context.Context, customerID, after string, limit int) (*orderList, error) {
	q := url.Values{"customer_id": {customerID}, "limit": {fmt.Sprint(limit)}}
	if after != "" {
		q.Set("starting_after", after)
	}
	var l orderList
	if err := c.do(ctx, http.MethodGet, "/v1/orders", q, nil, "", &l); err != nil {
		return nil, err
	}
	return &l, nil
}

// myCardsLink asks kessai for a signed link to the customer's "my cards"
// page, valid ttl; returnURL is where its "back to the shop" link leads.
func (c *client) myCardsLink(ctx context.Context, customerID, returnURL string, ttl time.Duration) (*cardLink, error) {
	var l cardLink
	path := fmt.Sprintf(cardLinkRoute, url.PathEscape(customerID))
	in := map[string]any{"return_url": returnURL, "ttl_seconds": int(ttl / time.Second)}
	if err := c.do(ctx, http.MethodPost, path, nil, in, "", &l); err != nil {
		return nil, err
	}
	return &l, nil
}
