package service

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/internal/testdb"
	"github.com/kessai/kessai/password"
)

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

// newTestService returns a service over a fresh SQLite store.
func newTestService(t *testing.T, cfg Config) (*Service, kessai.Store) {
	t.Helper()
	return newTestServiceOn(t, testdb.SQLite, cfg)
}

// newTestServiceOn returns a service over a fresh store of backend db;
// tests run on every backend with testdb.Run.
func newTestServiceOn(t *testing.T, db testdb.Backend, cfg Config) (*Service, kessai.Store) {
	t.Helper()
	st := db.Open(t)
	cfg.Store = st
	if cfg.PasswordParams == (password.Params{}) {
		cfg.PasswordParams = testPasswordParams
	}
	if cfg.Now == nil {
		cfg.Now = (&testClock{t: time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC)}).Now
	}
	return New(cfg), st
}

func TestBootstrap(t *testing.T) {
	s, st := newTestService(t, Config{})
	ctx := context.Background()
	keys, err := s.Bootstrap(ctx)
	if err != nil || keys == nil {
		t.Fatalf("%v %v", keys, err)
	}
	if !strings.HasPrefix(keys.SecretKey, "sk_") || len(keys.SecretKey) != 46 || !strings.HasPrefix(keys.PublishableKey, "pk_") || len(keys.PublishableKey) != 46 {
		t.Fatalf("keys %+v", keys)
	}
	shop, err := st.GetShop(ctx, kessai.DefaultShopID)
	if err != nil || shop.Name != DefaultShopName {
		t.Fatalf("shop %+v %v", shop, err)
	}
	set, version, err := s.GetSettings(ctx, kessai.DefaultShopID)
	if err != nil || version != 1 || set.Plan != kessai.PlanPro {
		t.Fatalf("settings v%d %v", version, err)
	}
	if keys.AdminEmail != BootstrapAdminEmail || len(keys.AdminPassword) != GeneratedAdminPasswordLen {
		t.Fatalf("first admin %q / %q", keys.AdminEmail, keys.AdminPassword)
	}
	admin, err := s.AuthenticateAdmin(ctx, kessai.DefaultShopID, keys.AdminEmail, keys.AdminPassword)
	if err != nil || admin.Role != kessai.RoleAdmin {
		t.Fatalf("first admin login: %+v %v", admin, err)
	}
	// Later starts create nothing and show no keys.
	again, err := s.Bootstrap(ctx)
	if err != nil || again != nil {
		t.Fatalf("second bootstrap: %+v %v", again, err)
	}
	ks, _ := s.ListAPIKeys(ctx, kessai.DefaultShopID)
	if len(ks) != 2 {
		t.Fatalf("%d keys", len(ks))
	}
	for _, k := range []string{keys.SecretKey, keys.PublishableKey} {
		got, err := s.Authenticate(ctx, k)
		if err != nil || got.ShopID != kessai.DefaultShopID || got.Hash != "" && got.Hash != kessai.HashKey(k) {
			t.Fatalf("authenticate %s: %+v %v", k[:3], got, err)
		}
	}
}

func TestAuthenticateRefusals(t *testing.T) {
	testdb.Run(t, func(t *testing.T, db testdb.Backend) {
		s, _ := newTestServiceOn(t, db, Config{})
		ctx := context.Background()
		if _, err := s.Bootstrap(ctx); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"", "sk_", "sk_short", "rk_" + strings.Repeat("a", 43), NewAPIKeyString(kessai.KeySecret), NewAPIKeyString(kessai.KeyPublishable), strings.Repeat("x", 10000)} {
			_, err := s.Authenticate(ctx, k)
			var e *kessai.Error
			if !errors.As(err, &e) || e.Kind != kessai.KindUnauthorized || e.Ja == "" || e.En == "" {
				t.Errorf("%.10q: %v", k, err)
			}
		}
		if _, _, err := s.CreateAPIKey(ctx, kessai.DefaultShopID, "admin"); kessai.ErrorKind(err) != kessai.KindInvalid {
			t.Fatalf("bad kind: %v", err)
		}
		pk, _, err := s.CreateAPIKey(ctx, kessai.DefaultShopID, kessai.KeyPublishable)
		if err != nil {
			t.Fatal(err)
		}
		if k, err := s.Authenticate(ctx, pk); err != nil || k.Kind != kessai.KeyPublishable {
			t.Fatalf("%+v %v", k, err)
		}
	})
}

func TestValidateOrderInput(t *testing.T) {
	amt := func(v int64) *int64 { return &v }
	ok := []OrderInput{
		{ShopOrderID: "1", Amount: amt(0)},
		{ShopOrderID: "A-1 b", Amount: amt(MaxAmount), Currency: "JPY"},
		{ShopOrderID: "x", Amount: amt(1100), Items: []ItemInput{{Name: "a", Quantity: 1, UnitAmount: 1000}}},
		{ShopOrderID: "x", Amount: amt(1000), Items: []ItemInput{{Name: "a", Quantity: 2, UnitAmount: 500}}},
		{ShopOrderID: "x", Amount: amt(1), ReturnURL: "http://localhost/x", CustomerID: "C_1-a"},
		{ShopOrderID: "x", Amount: amt(1), ReturnURL: "http://[::1]:8080/x"},
	}
	for i, in := range ok {
		if err := ValidateOrderInput(&in); err != nil {
			t.Errorf("ok %d: %v", i, err)
		}
	}
	bad := map[string]OrderInput{
		"shop_order_id":  {ShopOrderID: " x", Amount: amt(1)},
		"amount":         {ShopOrderID: "x", Amount: amt(999), Items: []ItemInput{{Name: "a", Quantity: 1, UnitAmount: 1000}}},
		"items[0].name":  {ShopOrderID: "x", Amount: amt(1), Items: []ItemInput{{Name: "a\x00", Quantity: 1}}},
		"return_url":     {ShopOrderID: "x", Amount: amt(1), ReturnURL: "http://10.0.0.1/"},
		"billing.phone":  {ShopOrderID: "x", Amount: amt(1), Billing: &kessai.Billing{Phone: "---"}},
		"billing.email":  {ShopOrderID: "x", Amount: amt(1), Billing: &kessai.Billing{Email: "a@b"}},
		"customer_id":    {ShopOrderID: "x", Amount: amt(1), CustomerID: strings.Repeat("a", 65)},
		"metadata":       {ShopOrderID: "x", Amount: amt(1), Metadata: map[string]string{"": "v"}},
		"items":          {ShopOrderID: "x", Amount: amt(1), Items: make([]ItemInput, MaxItems+1)},
		"shop_order_id ": {ShopOrderID: strings.Repeat("x", 65), Amount: amt(1)},
	}
	for field, in := range bad {
		err := ValidateOrderInput(&in)
		var v kessai.ValidationErrors
		if !errors.As(err, &v) || v[0].Field != strings.TrimSpace(field) || v[0].Ja == "" || v[0].En == "" {
			t.Errorf("%s: %v", field, err)
		}
	}
}

func TestCheckPublicURL(t *testing.T) {
	for _, u := range []string{"https://a.example/x?y=1", "http://localhost:3000/", "http://127.0.0.5/", "http://app.localhost/", "HTTPS://A.EXAMPLE/"} {
		if ja, en := checkPublicURL(u); ja != "" || en != "" {
			t.Errorf("%s refused: %s", u, en)
		}
	}
	for _, u := range []string{"", "a.example", "//a.example/", "http://a.example/", "https://u@a.example/", "https://a.example/#x", "https://a.example/ x", "javascript:alert(1)", "mailto:a@b.jp", "https://" + strings.Repeat("a", 3000)} {
		if ja, en := checkPublicURL(u); ja == "" || en == "" {
			t.Errorf("%q accepted", u)
		}
	}
}

func TestEmitRefusesUnknownType(t *testing.T) {
	testdb.Run(t, func(t *testing.T, db testdb.Backend) {
		s, st := newTestServiceOn(t, db, Config{})
		err := s.Emit(context.Background(), st, kessai.DefaultShopID, "order.exploded", nil)
		if kessai.ErrorKind(err) != kessai.KindInternal {
			t.Fatalf("%v", err)
		}
	})
}

func TestResendWithoutResender(t *testing.T) {
	testdb.Run(t, func(t *testing.T, db testdb.Backend) {
		s, _ := newTestServiceOn(t, db, Config{})
		ctx := context.Background()
		if _, err := s.Bootstrap(ctx); err != nil {
			t.Fatal(err)
		}
		amount := int64(1)
		if _, err := s.CreateOrder(ctx, kessai.DefaultShopID, OrderInput{ShopOrderID: "x", Amount: &amount}); err != nil {
			t.Fatal(err)
		}
		ep, secret, err := s.CreateWebhookEndpoint(ctx, kessai.DefaultShopID, WebhookEndpointInput{URL: "https://a.example/h"})
		if err != nil || secret == "" {
			t.Fatal(err)
		}
		evs, err := s.ListEvents(ctx, kessai.DefaultShopID, kessai.Page{})
		if err != nil || len(evs.Events) != 1 {
			t.Fatalf("%+v %v", evs, err)
		}
		_, err = s.Resend(ctx, kessai.DefaultShopID, evs.Events[0].ID, ep.ID)
		if kessai.ErrorKind(err) != kessai.KindUnavailable {
			t.Fatalf("%v", err)
		}
	})
}

func TestSettingsOptimisticLock(t *testing.T) {
	testdb.Run(t, func(t *testing.T, db testdb.Backend) {
		s, st := newTestServiceOn(t, db, Config{})
		ctx := context.Background()
		// Before bootstrap a shop has the defaults at version 0.
		_, v, err := s.GetSettings(ctx, kessai.DefaultShopID)
		if err != nil || v != 0 {
			t.Fatalf("v%d %v", v, err)
		}
		if _, err := s.Bootstrap(ctx); err != nil {
			t.Fatal(err)
		}
		_, v1, err := s.UpdateSettings(ctx, kessai.DefaultShopID, []byte(`{"notify_log":false}`), 1)
		if err != nil || v1 != 2 {
			t.Fatalf("v%d %v", v1, err)
		}
		if _, _, err := s.UpdateSettings(ctx, kessai.DefaultShopID, []byte(`{"notify_log":true}`), 1); kessai.ErrorKind(err) != kessai.KindConflict {
			t.Fatalf("stale: %v", err)
		}
		if _, _, err := s.UpdateSettings(ctx, kessai.DefaultShopID, []byte(`{"nope":1}`), AnyVersion); kessai.ErrorKind(err) != kessai.KindInvalid {
			t.Fatalf("unknown field: %v", err)
		}
		// Concurrent writers from the same version: exactly one wins.
		const writers = 8
		testdb.WarmPool(t, st, writers)
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins := 0
		start := make(chan struct{})
		for range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				if _, _, err := s.UpdateSettings(ctx, kessai.DefaultShopID, []byte(`{"notify_log":true}`), 2); err == nil {
					mu.Lock()
					wins++
					mu.Unlock()
				} else if kessai.ErrorKind(err) != kessai.KindConflict {
					t.Errorf("concurrent: %v", err)
				}
			}()
		}
		close(start) // all at once, so the writes overlap
		wg.Wait()
		if wins != 1 {
			t.Fatalf("%d writers won", wins)
		}
	})
}
