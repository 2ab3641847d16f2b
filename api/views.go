package api

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/cardpay"
)

// The JSON shapes the API answers with. Domain types are embedded where
// their JSON tags already are the public contract (Order, Payment, Event,
// WebhookDelivery); explicit structs where the API shows something else
// (webhook endpoints, whose secret is shown only once).

// listResponse is every list answer.
type listResponse[T any] struct {
	Data    []T  `json:"data"`
	HasMore bool `json:"has_more"`
	// NextCursor is the starting_after of the next page, when HasMore.
	NextCursor string `json:"next_cursor,omitempty"`
}

// orderView is an order with the URL of its hosted checkout page.
type orderView struct {
	*kessai.Order
	CheckoutURL string `json:"checkout_url"`
}

func (a *API) orderView(c *call, o *kessai.Order) orderView {
	return orderView{Order: o, CheckoutURL: a.baseURL(c) + "/checkout/" + url.PathEscape(o.ID)}
}

// baseURL is the public base URL, or the request's own origin when none is
// configured (development).
func (a *API) baseURL(c *call) string {
	if a.publicURL != "" {
		return a.publicURL
	}
	scheme := "http"
	if c.r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + c.r.Host
}

// payResultView is a card checkout's cardpay.Result with the order shown
// as everywhere else in the API (with its checkout_url).
type payResultView struct {
	Status     string              `json:"status"`
	Order      *orderView          `json:"order,omitempty"`
	Payment    *kessai.Payment     `json:"payment,omitempty"`
	NextAction *cardpay.NextAction `json:"next_action,omitempty"`
}

func (a *API) payResultView(c *call, r *cardpay.Result) payResultView {
	v := payResultView{Status: r.Status, Payment: r.Payment, NextAction: r.NextAction}
	if r.Order != nil {
		ov := a.orderView(c, r.Order)
		v.Order = &ov
	}
	return v
}

// cardDeletedResponse confirms the deletion of a saved card.
type cardDeletedResponse struct {
	Deleted    bool   `json:"deleted"`
	CustomerID string `json:"customer_id"`
}

// paymentView is a payment with its history and gateway attempts.
type paymentView struct {
	*kessai.Payment
	History  []kessai.HistoryEntry `json:"history"`
	Attempts []kessai.Attempt      `json:"attempts"`
}

// endpointView is a webhook endpoint; Secret only right after it was made.
type endpointView struct {
	ID         string    `json:"id"`
	URL        string    `json:"url"`
	EventTypes []string  `json:"event_types"`
	Enabled    bool      `json:"enabled"`
	CreatedAt  time.Time `json:"created_at"`
	Secret     string    `json:"secret,omitempty"`
}

func endpointViewOf(ep *kessai.WebhookEndpoint, secret string) endpointView {
	types := ep.EventTypes
	if types == nil {
		types = []string{}
	}
	return endpointView{ID: ep.ID, URL: ep.URL, EventTypes: types, Enabled: ep.Enabled, CreatedAt: ep.CreatedAt, Secret: secret}
}

// settingsView is the settings as clients see them, with the version to
// send back for optimistic locking.
type settingsView struct {
	Version  int64                   `json:"version"`
	Settings kessai.RedactedSettings `json:"settings"`
}

// query reads the query string, refusing parameters the route does not
// know (a typo such as "stauts" would otherwise silently list
// everything) and repeated ones.
func query(c *call, allowed ...string) (url.Values, error) {
	q, err := url.ParseQuery(c.r.URL.RawQuery)
	if err != nil {
		return nil, kessai.Errorf(kessai.KindInvalid, "invalid_query", "クエリ文字列が正しくありません。", "The query string is malformed.")
	}
	var v kessai.ValidationErrors
	for _, k := range sortedKeys(q) {
		switch {
		case !slices.Contains(allowed, k):
			p := clipField(k)
			v.Add(p, "unknown_parameter", "不明なパラメーターです: "+p, "Unknown parameter: "+p)
		case len(q[k]) > 1:
			v.Add(k, "repeated_parameter", "同じパラメーターが複数あります。", "The parameter is given more than once.")
		}
	}
	return q, v.Err()
}

// page reads limit and starting_after.
func page(q url.Values) (kessai.Page, error) {
	var p kessai.Page
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100 {
			return p, kessai.ValidationErrors{kessai.FieldError("limit", "invalid_limit",
				"limit は 1〜100 の整数で指定してください。", "limit must be an integer between 1 and 100.")}
		}
		p.Limit = n
	}
	p.After = q.Get("starting_after")
	return p, nil
}

// parseTime reads an RFC 3339 time or a date (YYYY-MM-DD, midnight in
// Japan, where every shop using kessai is).
func parseTime(s string) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), true
	}
	if t, err := time.ParseInLocation(time.DateOnly, s, kessai.JST); err == nil {
		return t.UTC(), true
	}
	return time.Time{}, false
}

func sortedKeys(q url.Values) []string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// ifMatchVersion reads an If-Match header carrying a settings version as
// its ETag ("3", W/"3" or a bare 3). "*" and absence mean "any version".
func ifMatchVersion(r *http.Request) (int64, bool, error) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" || h == "*" {
		return 0, false, nil
	}
	h = strings.TrimPrefix(h, "W/")
	h = strings.Trim(h, `"`)
	v, err := strconv.ParseInt(h, 10, 64)
	if err != nil || v < 0 {
		return 0, false, kessai.Errorf(kessai.KindInvalid, "invalid_if_match",
			"If-Match には GET /v1/settings の ETag（例: \"3\"）を指定してください。",
			"If-Match must be the ETag of GET /v1/settings, e.g. \"3\".")
	}
	return v, true, nil
}

func etag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }
