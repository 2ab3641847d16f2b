package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kessai/kessai/escott/sim"
)

// TestServeExternalSimulator runs kessai against a simulator it did not
// start (-sim-url), as `kessai sim` beside `kessai serve` would be: the
// new shop gets the demo merchant, payments and notifications go through
// that simulator, no built-in one is started and there is no test clock
// (the simulator's clock is its own).
func TestServeExternalSimulator(t *testing.T) {
	// kessai's address must be known before the simulator starts: the
	// simulator's merchant sends notifications there.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	m := sim.DemoMerchant
	m.NotifyURL = "http://" + addr + "/escott/notify"
	s, err := sim.New(sim.Config{Merchants: []sim.Merchant{m}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ts := httptest.NewServer(s)
	defer ts.Close()

	cfg := testConfig(t, t.TempDir(), "", true)
	cfg.Addr = addr
	cfg.SimURL = ts.URL
	inst := startServe(t, cfg)
	if inst.addrs.Sim != ts.URL || !strings.Contains(inst.out.String(), ts.URL) {
		t.Fatalf("simulator %q, banner:\n%s", inst.addrs.Sim, inst.out.String())
	}
	m2 := secretKeyRE.FindStringSubmatch(inst.out.String())
	if m2 == nil {
		t.Fatalf("no secret key in the banner:\n%s", inst.out.String())
	}
	key, api := m2[1], inst.addrs.API

	if code := call(t, "GET", api+"/v1/test_clock", key, nil, nil); code != http.StatusNotFound {
		t.Errorf("GET /v1/test_clock with an external simulator: %d, want 404", code)
	}

	// A token payment lands in the external simulator.
	tok, err := s.IssueToken(m.MerchantID, "test", "4012000000000008", "3012", "", "")
	if err != nil {
		t.Fatal(err)
	}
	var order struct {
		ID string `json:"id"`
	}
	if code := call(t, "POST", api+"/v1/orders", key, map[string]any{"shop_order_id": "X-1", "amount": 1200}, &order); code != http.StatusCreated {
		t.Fatalf("create order: %d", code)
	}
	var paid struct {
		Status string `json:"status"`
	}
	if code := call(t, "POST", api+"/v1/orders/"+order.ID+"/pay", key, map[string]any{"token": tok, "card_prefix": "401200"}, &paid); code != 200 || paid.Status != "succeeded" {
		t.Fatalf("pay: %d %+v", code, paid)
	}
	txns := s.Transactions(m.MerchantID, "test")
	if len(txns) != 1 || txns[0].MerchantFree2 != order.ID || txns[0].Amount != 1200 {
		t.Fatalf("simulator transactions: %+v", txns)
	}

	// A collection paid at the simulator reaches kessai by notification.
	billing := map[string]any{"last_name": "山田", "first_name": "太郎", "last_name_kana": "ヤマダ",
		"first_name_kana": "タロウ", "email": "taro@example.jp", "phone": "090-1234-5678"}
	var corder struct {
		ID string `json:"id"`
	}
	if code := call(t, "POST", api+"/v1/orders", key, map[string]any{"shop_order_id": "X-2", "amount": 2000, "billing": billing}, &corder); code != http.StatusCreated {
		t.Fatalf("create order: %d", code)
	}
	var col struct {
		Payment struct {
			ID string `json:"id"`
		} `json:"payment"`
	}
	if code := call(t, "POST", api+"/v1/orders/"+corder.ID+"/collect", key, map[string]any{}, &col); code != http.StatusOK && code != http.StatusCreated {
		t.Fatalf("collect: %d", code)
	}
	cols := s.Collections(m.MerchantID, "test")
	if len(cols) != 1 {
		t.Fatalf("simulator collections: %+v", cols)
	}
	if err := s.PayCollection(m.MerchantID, "test", cols[0].FreeArea, "SEV"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.FlushNotifications(ctx); err != nil {
		t.Fatal(err)
	}
	var pay struct {
		State string `json:"state"`
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		call(t, "GET", api+"/v1/payments/"+col.Payment.ID, key, nil, &pay)
		if pay.State == "paid" || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if pay.State != "paid" {
		t.Fatalf("collection after the notification: %q, want paid", pay.State)
	}
}
