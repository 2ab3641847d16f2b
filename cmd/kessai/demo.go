package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/demoshop"
	"github.com/kessai/kessai/service"
)

// demoPath is where kessai serve mounts the demo shop.
const demoPath = "/demo/"

// demoStateFile, in the data directory (mode 0600), keeps what the demo
// shop needs across restarts: kessai stores only a hash of an API key,
// so the shop's key must be kept here, and the id of its webhook
// endpoint lets a restart on another address move the endpoint instead
// of adding one.
const demoStateFile = "demoshop.json"

type demoState struct {
	APIKey     string `json:"api_key"`
	EndpointID string `json:"webhook_endpoint_id,omitempty"`
}

// demoShop builds the demo shop of the default shop. It calls kessai like
// any shop, over HTTP at apiURL (kessai's own listener) with a secret key
// of its own; kessai delivers its webhooks to <public-url>/demo/webhook.
func demoShop(ctx context.Context, svc *service.Service, dataDir, publicURL, apiURL string, log *slog.Logger) (http.Handler, error) {
	path := filepath.Join(dataDir, demoStateFile)
	var st demoState
	switch b, err := os.ReadFile(path); {
	case err == nil:
		_ = json.Unmarshal(b, &st) // a damaged file is replaced below
	case !errors.Is(err, os.ErrNotExist):
		return nil, err
	}
	key, err := demoAPIKey(ctx, svc, st.APIKey)
	if err != nil {
		return nil, err
	}
	shopURL := publicURL + strings.TrimSuffix(demoPath, "/")
	epID, secret, err := demoWebhook(ctx, svc, st.EndpointID, shopURL+"/webhook")
	if err != nil {
		// A public URL kessai does not deliver to (plain http on a host
		// other than loopback): the shop runs, its events page stays empty.
		log.Warn("demo shop: no webhook endpoint", "err", err)
	}
	if next := (demoState{APIKey: key, EndpointID: epID}); next != st {
		b, _ := json.Marshal(next)
		if err := os.WriteFile(path, b, 0o600); err != nil {
			return nil, fmt.Errorf("save %s: %w", path, err)
		}
	}
	return demoshop.New(demoshop.Config{APIBaseURL: apiURL, APIKey: key, WebhookSecret: secret, PublicURL: shopURL, Logger: log})
}

// demoAPIKey returns saved if it is still a secret key of the default
// shop, or a new one.
func demoAPIKey(ctx context.Context, svc *service.Service, saved string) (string, error) {
	if saved != "" {
		k, err := svc.Authenticate(ctx, saved)
		if err == nil && k.ShopID == kessai.DefaultShopID && k.Kind == kessai.KeySecret {
			return saved, nil
		}
		// Rotated away, expired, or of another database: replace it.
		// Any other failure (the database) is no reason to mint keys.
		if ke := kessai.AsError(err); err != nil && (ke == nil || ke.Kind != kessai.KindUnauthorized) {
			return "", err
		}
	}
	key, _, err := svc.CreateAPIKey(ctx, kessai.DefaultShopID, kessai.KeySecret)
	return key, err
}

// demoWebhook returns the id and signing secret of the demo shop's webhook
// endpoint: the saved one (moved to url if the address changed), else one
// already registered for url, else a new one.
func demoWebhook(ctx context.Context, svc *service.Service, savedID, url string) (string, string, error) {
	if savedID != "" {
		ep, err := svc.GetWebhookEndpoint(ctx, kessai.DefaultShopID, savedID)
		if err == nil && ep.URL != url {
			ep, err = svc.UpdateWebhookEndpoint(ctx, kessai.DefaultShopID, savedID, service.WebhookEndpointPatch{URL: &url})
		}
		if err == nil {
			return ep.ID, ep.Secret, nil
		}
		// Deleted by an operator, or the new URL was refused: go on.
	}
	eps, err := svc.ListWebhookEndpoints(ctx, kessai.DefaultShopID)
	if err != nil {
		return "", "", err
	}
	for _, ep := range eps {
		if ep.URL == url {
			return ep.ID, ep.Secret, nil
		}
	}
	ep, secret, err := svc.CreateWebhookEndpoint(ctx, kessai.DefaultShopID, service.WebhookEndpointInput{URL: url})
	if err != nil {
		return "", "", err
	}
	return ep.ID, secret, nil
}
