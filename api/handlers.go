package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/service"
)

// pingResponse tells a client its key works and which shop it belongs to.
type pingResponse struct {
	OK      bool           `json:"ok"`
	ShopID  string         `json:"shop_id"`
	KeyKind kessai.KeyKind `json:"key_kind"`
}

func (a *API) ping(c *call) (int, any, error) {
	if _, err := query(c); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, pingResponse{OK: true, ShopID: c.shopID, KeyKind: c.key.Kind}, nil
}

// --- orders ---

func (a *API) createOrder(c *call) (int, any, error) {
	var in service.OrderInput
	if err := decode(c, &in, false); err != nil {
		return 0, nil, err
	}
	o, err := a.svc.CreateOrder(c.ctx(), c.shopID, in)
	if err != nil {
		return 0, nil, err
	}
	c.header.Set("Location", "/v1/orders/"+o.ID)
	return http.StatusCreated, a.orderView(c, o), nil
}

func (a *API) listOrders(c *call) (int, any, error) {
	q, err := query(c, "status", "customer_id", "shop_order_id", "created_from", "created_to", "limit", "starting_after")
	if err != nil {
		return 0, nil, err
	}
	p, err := page(q)
	if err != nil {
		return 0, nil, err
	}
	f := kessai.OrderFilter{Status: kessai.OrderStatus(q.Get("status")), CustomerID: q.Get("customer_id"), ShopOrderID: q.Get("shop_order_id")}
	var v kessai.ValidationErrors
	for _, tf := range []struct {
		name string
		dst  *kessai.OrderFilter
		from bool
	}{{"created_from", &f, true}, {"created_to", &f, false}} {
		s := q.Get(tf.name)
		if s == "" {
			continue
		}
		t, ok := parseTime(s)
		if !ok {
			v.Add(tf.name, "invalid_time", "日時は RFC 3339（例: 2025-01-02T15:04:05+09:00）または日付（2025-01-02）で指定してください。",
				"Use an RFC 3339 time (e.g. 2025-01-02T15:04:05+09:00) or a date (2025-01-02).")
			continue
		}
		if tf.from {
			tf.dst.CreatedFrom = t
		} else {
			tf.dst.CreatedTo = t
		}
	}
	if err := v.Err(); err != nil {
		return 0, nil, err
	}
	list, err := a.svc.ListOrders(c.ctx(), c.shopID, f, p)
	if err != nil {
		return 0, nil, err
	}
	out := listResponse[orderView]{Data: make([]orderView, 0, len(list.Orders)), HasMore: list.HasMore}
	for i := range list.Orders {
		out.Data = append(out.Data, a.orderView(c, &list.Orders[i]))
	}
	if list.HasMore && len(list.Orders) > 0 {
		out.NextCursor = list.Orders[len(list.Orders)-1].ID
	}
	return http.StatusOK, out, nil
}

func (a *API) getOrder(c *call) (int, any, error) {
	if _, err := query(c); err != nil {
		return 0, nil, err
	}
	o, err := a.svc.GetOrder(c.ctx(), c.shopID, c.r.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, a.orderView(c, o), nil
}

// --- payments ---

func (a *API) listOrderPayments(c *call) (int, any, error) {
	if _, err := query(c); err != nil {
		return 0, nil, err
	}
	ps, err := a.svc.ListPayments(c.ctx(), c.shopID, c.r.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, listResponse[kessai.Payment]{Data: ps}, nil
}

func (a *API) getPayment(c *call) (int, any, error) {
	if _, err := query(c); err != nil {
		return 0, nil, err
	}
	d, err := a.svc.GetPaymentDetail(c.ctx(), c.shopID, c.r.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, paymentView{Payment: d.Payment, History: d.History, Attempts: d.Attempts}, nil
}

// --- settings ---

func (a *API) getSettings(c *call) (int, any, error) {
	if _, err := query(c); err != nil {
		return 0, nil, err
	}
	set, version, err := a.svc.GetSettings(c.ctx(), c.shopID)
	if err != nil {
		return 0, nil, err
	}
	c.header.Set("ETag", etag(version))
	return http.StatusOK, settingsView{Version: version, Settings: set.Redacted()}, nil
}

// settingsPatch is the body of PATCH /v1/settings: the envelope GET
// answers with, "settings" holding a JSON merge patch
// (kessai.SettingsPatch, whose shape Settings.Apply checks itself) and
// "version" the version the client read.
type settingsPatch struct {
	Version  *int64          `json:"version"`
	Settings json.RawMessage `json:"settings"`
}

func (a *API) patchSettings(c *call) (int, any, error) {
	var body settingsPatch
	if err := decode(c, &body, false); err != nil {
		return 0, nil, err
	}
	raw := bytes.TrimSpace(body.Settings)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return 0, nil, kessai.ValidationErrors{kessai.FieldError("settings", "required",
			"settings（変更する設定）は必須です。", "settings (the changes) is required.")}
	}
	if raw[0] != '{' {
		return 0, nil, kessai.ValidationErrors{kessai.FieldError("settings", "invalid_type",
			"オブジェクトで指定してください。", "must be an object.")}
	}
	expected := service.AnyVersion
	hv, hasHeader, err := ifMatchVersion(c.r)
	if err != nil {
		return 0, nil, err
	}
	switch {
	case hasHeader && body.Version != nil && *body.Version != hv:
		return 0, nil, kessai.ValidationErrors{kessai.FieldError("version", "version_mismatch",
			"version と If-Match ヘッダーの値が一致しません。", "version and the If-Match header disagree.")}
	case hasHeader:
		expected = hv
	case body.Version != nil:
		if *body.Version < 0 {
			return 0, nil, kessai.ValidationErrors{kessai.FieldError("version", "invalid_version",
				"version は 0 以上の整数です。", "version must be a non-negative integer.")}
		}
		expected = *body.Version
	}
	set, version, err := a.svc.UpdateSettings(c.ctx(), c.shopID, raw, expected)
	if err != nil {
		var ve kessai.ValidationErrors
		if errors.As(err, &ve) {
			out := make(kessai.ValidationErrors, len(ve))
			for i, e := range ve {
				cp := *e
				cp.Field = joinPath("settings", e.Field)
				out[i] = &cp
			}
			return 0, nil, out
		}
		return 0, nil, err
	}
	c.header.Set("ETag", etag(version))
	return http.StatusOK, settingsView{Version: version, Settings: set.Redacted()}, nil
}

// --- webhook endpoints ---

func (a *API) createEndpoint(c *call) (int, any, error) {
	var in service.WebhookEndpointInput
	if err := decode(c, &in, false); err != nil {
		return 0, nil, err
	}
	ep, secret, err := a.svc.CreateWebhookEndpoint(c.ctx(), c.shopID, in)
	if err != nil {
		return 0, nil, err
	}
	c.header.Set("Location", "/v1/webhook_endpoints/"+ep.ID)
	return http.StatusCreated, endpointViewOf(ep, secret), nil
}

func (a *API) listEndpoints(c *call) (int, any, error) {
	if _, err := query(c); err != nil {
		return 0, nil, err
	}
	eps, err := a.svc.ListWebhookEndpoints(c.ctx(), c.shopID)
	if err != nil {
		return 0, nil, err
	}
	out := listResponse[endpointView]{Data: make([]endpointView, 0, len(eps))}
	for i := range eps {
		out.Data = append(out.Data, endpointViewOf(&eps[i], ""))
	}
	return http.StatusOK, out, nil
}

func (a *API) getEndpoint(c *call) (int, any, error) {
	if _, err := query(c); err != nil {
		return 0, nil, err
	}
	ep, err := a.svc.GetWebhookEndpoint(c.ctx(), c.shopID, c.r.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, endpointViewOf(ep, ""), nil
}

func (a *API) updateEndpoint(c *call) (int, any, error) {
	var p service.WebhookEndpointPatch
	if err := decode(c, &p, false); err != nil {
		return 0, nil, err
	}
	ep, err := a.svc.UpdateWebhookEndpoint(c.ctx(), c.shopID, c.r.PathValue("id"), p)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, endpointViewOf(ep, ""), nil
}

// deletedResponse confirms a deletion.
type deletedResponse struct {
	ID      string `json:"id"`
	Deleted bool   `json:"deleted"`
}

func (a *API) deleteEndpoint(c *call) (int, any, error) {
	var none struct{}
	if err := decode(c, &none, true); err != nil {
		return 0, nil, err
	}
	id := c.r.PathValue("id")
	if err := a.svc.DeleteWebhookEndpoint(c.ctx(), c.shopID, id); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, deletedResponse{ID: id, Deleted: true}, nil
}

func (a *API) rotateEndpointSecret(c *call) (int, any, error) {
	var none struct{}
	if err := decode(c, &none, true); err != nil {
		return 0, nil, err
	}
	ep, secret, err := a.svc.RotateWebhookSecret(c.ctx(), c.shopID, c.r.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, endpointViewOf(ep, secret), nil
}

// --- events ---

func (a *API) listEvents(c *call) (int, any, error) {
	q, err := query(c, "limit", "starting_after")
	if err != nil {
		return 0, nil, err
	}
	p, err := page(q)
	if err != nil {
		return 0, nil, err
	}
	list, err := a.svc.ListEvents(c.ctx(), c.shopID, p)
	if err != nil {
		return 0, nil, err
	}
	out := listResponse[kessai.Event]{Data: list.Events, HasMore: list.HasMore}
	if list.HasMore && len(list.Events) > 0 {
		out.NextCursor = list.Events[len(list.Events)-1].ID
	}
	return http.StatusOK, out, nil
}

func (a *API) getEvent(c *call) (int, any, error) {
	if _, err := query(c); err != nil {
		return 0, nil, err
	}
	e, err := a.svc.GetEvent(c.ctx(), c.shopID, c.r.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, e, nil
}

func (a *API) listDeliveries(c *call) (int, any, error) {
	q, err := query(c, "endpoint_id", "limit", "starting_after")
	if err != nil {
		return 0, nil, err
	}
	p, err := page(q)
	if err != nil {
		return 0, nil, err
	}
	list, err := a.svc.ListDeliveries(c.ctx(), c.shopID, c.r.PathValue("id"), q.Get("endpoint_id"), p)
	if err != nil {
		return 0, nil, err
	}
	out := listResponse[kessai.WebhookDelivery]{Data: list.Deliveries, HasMore: list.HasMore}
	if list.HasMore && len(list.Deliveries) > 0 {
		out.NextCursor = list.Deliveries[len(list.Deliveries)-1].ID
	}
	return http.StatusOK, out, nil
}

// resendRequest is the body of POST /v1/events/{id}/resend.
type resendRequest struct {
	// EndpointID limits the resend to one endpoint; empty: every enabled
	// endpoint that receives the event's type.
	EndpointID string `json:"endpoint_id,omitempty"`
}

// resendResponse lists where the event was queued.
type resendResponse struct {
	EventID     string   `json:"event_id"`
	EndpointIDs []string `json:"endpoint_ids"`
}

func (a *API) resendEvent(c *call) (int, any, error) {
	var in resendRequest
	if err := decode(c, &in, true); err != nil {
		return 0, nil, err
	}
	id := c.r.PathValue("id")
	targets, err := a.svc.Resend(c.ctx(), c.shopID, id, in.EndpointID)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusAccepted, resendResponse{EventID: id, EndpointIDs: targets}, nil
}
