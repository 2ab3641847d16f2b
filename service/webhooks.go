package service

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/webhook"
)

// WebhookEndpointIDPrefix starts every webhook endpoint's ID ("we_…").
const WebhookEndpointIDPrefix = "we"

// MaxWebhookEndpoints bounds the endpoints of one shop: each event is sent
// to every endpoint, so the count multiplies the delivery work.
const MaxWebhookEndpoints = 16

// maxURLLen bounds URLs accepted from clients.
const maxURLLen = 2048

// WebhookEndpointInput creates an endpoint.
type WebhookEndpointInput struct {
	URL string `json:"url"`
	// EventTypes filters the events sent; empty or absent means all.
	EventTypes []string `json:"event_types,omitempty"`
	// Enabled defaults to true.
	Enabled *bool `json:"enabled,omitempty"`
}

// WebhookEndpointPatch changes an endpoint; absent fields stay as they are.
// An empty event_types list means "all events" again.
type WebhookEndpointPatch struct {
	URL        *string   `json:"url,omitempty"`
	EventTypes *[]string `json:"event_types,omitempty"`
	Enabled    *bool     `json:"enabled,omitempty"`
}

var errEndpointNotFound = notFound("webhook_endpoint", "Webhook エンドポイントが見つかりません。", "No such webhook endpoint.")

// CreateWebhookEndpoint validates in, generates a signing secret and
// stores the endpoint. The secret is returned here and by
// RotateWebhookSecret only: the shop must save it now.
func (s *Service) CreateWebhookEndpoint(ctx context.Context, shopID string, in WebhookEndpointInput) (*kessai.WebhookEndpoint, string, error) {
	var v kessai.ValidationErrors
	checkWebhookURL(&v, "url", in.URL)
	types := checkEventTypes(&v, "event_types", in.EventTypes)
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	secret, err := webhook.NewSecret()
	if err != nil {
		return nil, "", kessai.Internal(err)
	}
	now := s.Now()
	ep := &kessai.WebhookEndpoint{ID: kessai.NewID(WebhookEndpointIDPrefix, now), ShopID: shopID, URL: in.URL,
		Secret: secret, EventTypes: types, Enabled: in.Enabled == nil || *in.Enabled, CreatedAt: now}
	err = s.store.InTx(ctx, func(tx kessai.Store) error {
		eps, err := tx.ListWebhookEndpoints(ctx, shopID)
		if err != nil {
			return storeErr(err, nil)
		}
		if len(eps) >= MaxWebhookEndpoints {
			return kessai.Errorf(kessai.KindConflict, "too_many_endpoints",
				fmt.Sprintf("Webhook エンドポイントは %d 件までです。不要なものを削除してください。", MaxWebhookEndpoints),
				fmt.Sprintf("A shop can have at most %d webhook endpoints; delete one first.", MaxWebhookEndpoints))
		}
		return storeErr(tx.CreateWebhookEndpoint(ctx, ep), nil)
	})
	if err != nil {
		return nil, "", err
	}
	return ep, secret, nil
}

// ListWebhookEndpoints lists the shop's endpoints (without secrets).
func (s *Service) ListWebhookEndpoints(ctx context.Context, shopID string) ([]kessai.WebhookEndpoint, error) {
	eps, err := s.store.ListWebhookEndpoints(ctx, shopID)
	if err != nil {
		return nil, storeErr(err, nil)
	}
	return nonNil(eps), nil
}

// GetWebhookEndpoint returns one endpoint of the shop.
func (s *Service) GetWebhookEndpoint(ctx context.Context, shopID, id string) (*kessai.WebhookEndpoint, error) {
	if !plausibleID(id) {
		return nil, errEndpointNotFound
	}
	ep, err := s.store.GetWebhookEndpoint(ctx, shopID, id)
	if err != nil {
		return nil, storeErr(err, errEndpointNotFound)
	}
	return ep, nil
}

// UpdateWebhookEndpoint applies p to endpoint id.
func (s *Service) UpdateWebhookEndpoint(ctx context.Context, shopID, id string, p WebhookEndpointPatch) (*kessai.WebhookEndpoint, error) {
	var v kessai.ValidationErrors
	if p.URL != nil {
		checkWebhookURL(&v, "url", *p.URL)
	}
	var types []string
	if p.EventTypes != nil {
		types = checkEventTypes(&v, "event_types", *p.EventTypes)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	var ep *kessai.WebhookEndpoint
	err := s.store.InTx(ctx, func(tx kessai.Store) error {
		var err error
		if ep, err = s.getEndpointTx(ctx, tx, shopID, id); err != nil {
			return err
		}
		if p.URL != nil {
			ep.URL = *p.URL
		}
		if p.EventTypes != nil {
			ep.EventTypes = types
		}
		if p.Enabled != nil {
			ep.Enabled = *p.Enabled
		}
		return storeErr(tx.UpdateWebhookEndpoint(ctx, ep), errEndpointNotFound)
	})
	if err != nil {
		return nil, err
	}
	return ep, nil
}

// RotateWebhookSecret replaces the endpoint's signing secret and returns
// the new one (shown once). The old secret stops signing immediately:
// deliveries already queued are signed with the new one when sent, so the
// shop should accept both secrets while it deploys the new one.
func (s *Service) RotateWebhookSecret(ctx context.Context, shopID, id string) (*kessai.WebhookEndpoint, string, error) {
	secret, err := webhook.NewSecret()
	if err != nil {
		return nil, "", kessai.Internal(err)
	}
	var ep *kessai.WebhookEndpoint
	err = s.store.InTx(ctx, func(tx kessai.Store) error {
		var err error
		if ep, err = s.getEndpointTx(ctx, tx, shopID, id); err != nil {
			return err
		}
		ep.Secret = secret
		return storeErr(tx.UpdateWebhookEndpoint(ctx, ep), errEndpointNotFound)
	})
	if err != nil {
		return nil, "", err
	}
	return ep, secret, nil
}

// DeleteWebhookEndpoint deletes the endpoint. Its delivery log stays, so
// past deliveries remain explainable.
func (s *Service) DeleteWebhookEndpoint(ctx context.Context, shopID, id string) error {
	if !plausibleID(id) {
		return errEndpointNotFound
	}
	return storeErr(s.store.DeleteWebhookEndpoint(ctx, shopID, id), errEndpointNotFound)
}

func (s *Service) getEndpointTx(ctx context.Context, tx kessai.Store, shopID, id string) (*kessai.WebhookEndpoint, error) {
	if !plausibleID(id) {
		return nil, errEndpointNotFound
	}
	ep, err := tx.GetWebhookEndpoint(ctx, shopID, id)
	if err != nil {
		return nil, storeErr(err, errEndpointNotFound)
	}
	return ep, nil
}

// checkWebhookURL requires an absolute https URL, or http to a loopback
// host (a developer's machine). Credentials in the URL are refused: they
// would be stored and shown in plain text, and the signature already
// authenticates kessai to the shop.
func checkWebhookURL(v *kessai.ValidationErrors, field, raw string) {
	if msgJa, msgEn := checkPublicURL(raw); msgJa != "" {
		v.Add(field, "invalid_url", msgJa, msgEn)
	}
}

// checkPublicURL validates an https (or loopback http) URL and returns the
// problem in both languages, or "" when it is fine.
func checkPublicURL(raw string) (ja, en string) {
	if raw == "" {
		return "URL を指定してください。", "A URL is required."
	}
	if len(raw) > maxURLLen {
		return fmt.Sprintf("URL が長すぎます（%d 文字まで）。", maxURLLen), fmt.Sprintf("The URL is too long (at most %d characters).", maxURLLen)
	}
	for _, r := range raw {
		if r <= 0x20 || r == 0x7f {
			return "URL に空白や制御文字は使えません。", "The URL must not contain spaces or control characters."
		}
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return "絶対 URL（https://…）を指定してください。", "The URL must be absolute (https://…)."
	}
	if u.User != nil {
		return "URL にユーザー名やパスワードを含めないでください。", "The URL must not contain a user name or password."
	}
	if u.Fragment != "" {
		return "URL に # 以降（フラグメント）は指定できません。", "The URL must not have a fragment (#…)."
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return "", ""
	case "http":
		if isLoopback(u.Hostname()) {
			return "", ""
		}
		return "URL は https でなければなりません（http はローカルホストのみ可）。", "The URL must use https (http is allowed for localhost only)."
	}
	return "URL は https でなければなりません。", "The URL must use https."
}

// isLoopback reports whether host is localhost or a loopback address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkEventTypes validates an event type filter and returns it without
// duplicates, in the given order (nil for "all events").
func checkEventTypes(v *kessai.ValidationErrors, field string, types []string) []string {
	if len(types) == 0 {
		return nil
	}
	var out []string
	for i, t := range types {
		if !slices.Contains(kessai.EventTypes, t) {
			v.Add(fmt.Sprintf("%s[%d]", field, i), "invalid_event_type",
				"不明なイベント種別です: "+clip(t, 64), "Unknown event type: "+clip(t, 64))
			continue
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// clip shortens s for an error message, so a client's huge value is not
// echoed back whole.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// CheckReturnURL checks a URL the shopper's browser is sent back to (an
// order's or a checkout's return URL): absolute, https (http only for
// localhost), no credentials or fragment. It returns a KindInvalid error on
// field, or nil.
func CheckReturnURL(field, raw string) error {
	if ja, en := checkPublicURL(raw); ja != "" {
		return kessai.FieldError(field, "invalid_url", ja, en)
	}
	return nil
}
