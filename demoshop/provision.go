package demoshop

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// RegisterWebhook makes kessai deliver the shop's events to the shop's
// webhook endpoint (cfg.PublicURL + "/webhook"), through the API with
// cfg.APIKey, and returns the signing secret for Config.WebhookSecret.
// It creates the endpoint, or, when one is already registered for that
// URL, rotates its secret: kessai shows a secret only when it makes one,
// and a demo shop that starts afresh has forgotten the old one. (The old
// secret stops working at once, which only matters to a second shop
// process on the same URL.)
//
// It is for a demo shop run on its own against any kessai (a `kessai demo`
// command); a kessai that runs the shop in-process can register the
// endpoint directly.
func RegisterWebhook(ctx context.Context, cfg Config) (string, error) {
	api, err := parseBaseURL("APIBaseURL", cfg.APIBaseURL)
	if err != nil {
		return "", err
	}
	pub, err := parseBaseURL("PublicURL", cfg.PublicURL)
	if err != nil {
		return "", err
	}
	if cfg.APIKey == "" {
		return "", errors.New("demoshop: APIKey is required")
	}
	c := &client{base: strings.TrimRight(api.String(), "/"), key: cfg.APIKey, hc: cfg.HTTPClient}
	if c.hc == nil {
		c.hc = &http.Client{Timeout: 30 * time.Second}
	}
	target := strings.TrimRight(pub.String(), "/") + pathWebhook

	type endpoint struct {
		ID     string `json:"id"`
		URL    string `json:"url"`
		Secret string `json:"secret"`
	}
	var list struct {
		Data []endpoint `json:"data"`
	}
	if err := c.do(ctx, http.MethodGet, "/v1/webhook_endpoints", nil, nil, "", &list); err != nil {
		return "", fmt.Errorf("demoshop: list webhook endpoints: %w", err)
	}
	var ep endpoint
	for _, e := range list.Data {
		if e.URL == target {
			if err := c.do(ctx, http.MethodPost, "/v1/webhook_endpoints/"+url.PathEscape(e.ID)+"/rotate_secret", nil, struct{}{}, "", &ep); err != nil {
				return "", fmt.Errorf("demoshop: rotate the webhook secret: %w", err)
			}
			return secretOf(ep.Secret)
		}
	}
	if err := c.do(ctx, http.MethodPost, "/v1/webhook_endpoints", nil, map[string]any{"url": target}, "", &ep); err != nil {
		return "", fmt.Errorf("demoshop: register the webhook endpoint %s: %w", target, err)
	}
	return secretOf(ep.Secret)
}

func secretOf(s string) (string, error) {
	if s == "" {
		return "", errors.New("demoshop: kessai answered without a webhook secret")
	}
	return s, nil
}

// liveCheckTTL is how long the shop trusts what it last read of the
// shop's gateway environment.
const liveCheckTTL = 30 * time.Second

// environment reads the shop's gateway environment from GET
// /v1/settings ("simulator", "test" or "production"), cached briefly: it
// is checked before every order, and changes rarely.
func (s *shop) environment(ctx context.Context) (string, error) {
	s.envMu.Lock()
	defer s.envMu.Unlock()
	if s.env != "" && s.now().Before(s.envUntil) {
		return s.env, nil
	}
	var v struct {
		Settings struct {
			Environment string `json:"environment"`
		} `json:"settings"`
	}
	if err := s.api.do(ctx, http.MethodGet, "/v1/settings", nil, nil, "", &v); err != nil {
		return "", err
	}
	if v.Settings.Environment == "" {
		return "", errors.New("demoshop: the settings name no environment")
	}
	s.env, s.envUntil = v.Settings.Environment, s.now().Add(liveCheckTTL)
	return s.env, nil
}
