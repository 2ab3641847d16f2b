package api

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/internal/testdb"
	"github.com/kessai/kessai/service"
)

func TestIdempotencyReplay(t *testing.T) {
	testdb.Run(t, func(t *testing.T, db testdb.Backend) {
		e := newEnv(t, db)
		key := map[string]string{"Idempotency-Key": "order-7f3a"}
		body := map[string]any{"shop_order_id": "IDEM-1", "amount": 1100}
		first := e.do(t, req{method: "POST", path: "/v1/orders", body: body, header: key}).must(t, 201)
		if first.header.Get("Idempotent-Replayed") != "" {
			t.Fatal("first answer marked replayed")
		}
		kicks := e.kicks.Load()
		// The same JSON serialised differently is the same request.
		again := e.do(t, req{method: "POST", path: "/v1/orders", body: "{ \"amount\": 1100,\n \"shop_order_id\": \"IDEM-1\" }", header: key}).must(t, 201)
		if again.header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(again.body, first.body) {
			t.Fatalf("replay: %v\n%s\n%s", again.header, again.body, first.body)
		}
		if e.kicks.Load() != kicks {
			t.Fatal("a replay ran the handler")
		}
		// Same key, another body: 422.
		r := e.do(t, req{method: "POST", path: "/v1/orders", body: map[string]any{"shop_order_id": "IDEM-2", "amount": 1100}, header: key}).must(t, 422)
		if r.errCode(t) != "idempotency_key_reused" {
			t.Fatal(string(r.body))
		}
		// Same key on another path is another request too.
		e.do(t, req{method: "POST", path: "/v1/webhook_endpoints", body: body, header: key}).must(t, 422)

		// A client error is stored and replayed like a success.
		bad := map[string]string{"Idempotency-Key": "bad-order"}
		r1 := e.do(t, req{method: "POST", path: "/v1/orders", body: `{"amount":1}`, header: bad}).must(t, 400)
		r2 := e.do(t, req{method: "POST", path: "/v1/orders", body: `{"amount":1}`, header: bad}).must(t, 400)
		if r2.header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(r1.body, r2.body) {
			t.Fatalf("400 not replayed: %s / %s", r1.body, r2.body)
		}

		// Keys are checked for format.
		for _, k := range []string{"", strings.Repeat("k", 256), "caf\u00e9"} {
			r := e.do(t, req{method: "POST", path: "/v1/orders", body: body, header: map[string]string{"Idempotency-Key": k}}).must(t, 400)
			if r.errCode(t) != "invalid_idempotency_key" {
				t.Errorf("%q: %s", k, r.body)
			}
		}
		// Keys are per shop and independent of GETs.
		e.do(t, req{method: "GET", path: "/v1/orders", header: key}).must(t, 200)

		// PATCH and DELETE honour the key too.
		ep := e.do(t, req{method: "POST", path: "/v1/webhook_endpoints", body: `{"url":"https://shop.example.jp/h"}`}).must(t, 201).json(t)
		dk := map[string]string{"Idempotency-Key": "del-1"}
		d1 := e.do(t, req{method: "DELETE", path: "/v1/webhook_endpoints/" + ep["id"].(string), header: dk}).must(t, 200)
		d2 := e.do(t, req{method: "DELETE", path: "/v1/webhook_endpoints/" + ep["id"].(string), header: dk}).must(t, 200)
		if d2.header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(d1.body, d2.body) {
			t.Fatal("DELETE not replayed")
		}
	})
}

func TestIdempotencyInProgress(t *testing.T) {
	testdb.Run(t, func(t *testing.T, db testdb.Backend) {
		e := newEnv(t, db)
		body := `{"shop_order_id":"RUN-1","amount":1}`
		// Claim the key as a request still running would.
		fp := fingerprint("POST", "/v1/orders", []byte(body))
		if rec, err := e.svc.BeginIdempotency(context.Background(), kessai.DefaultShopID, "running-key", fp); err != nil || rec != nil {
			t.Fatalf("claim: %v %v", rec, err)
		}
		r := e.do(t, req{method: "POST", path: "/v1/orders", body: body, header: map[string]string{"Idempotency-Key": "running-key"}}).must(t, 409)
		if r.errCode(t) != "idempotency_in_progress" {
			t.Fatal(string(r.body))
		}
		// Still claimed five minutes later: the request died with its
		// process (a kill). The retry is told so, in both languages, and
		// runs nothing (no order is created under the key).
		e.clock.Advance(service.IdempotencyInterruptedAfter + time.Second)
		r = e.do(t, req{method: "POST", path: "/v1/orders", body: body, header: map[string]string{"Idempotency-Key": "running-key"}}).must(t, 409)
		if r.errCode(t) != "idempotency_interrupted" || !strings.Contains(string(r.body), "中断") {
			t.Fatal(string(r.body))
		}
		if list := e.do(t, req{method: "GET", path: "/v1/orders"}).must(t, 200).json(t); len(list["data"].([]any)) != 0 {
			t.Fatalf("an interrupted key ran its request: %v", list)
		}
		// Expired keys may be used again after 24 hours.
		e.clock.Advance(25 * time.Hour)
		e.do(t, req{method: "POST", path: "/v1/orders", body: body, header: map[string]string{"Idempotency-Key": "running-key"}}).must(t, 201)
		if n, err := e.svc.PurgeIdempotency(context.Background()); err != nil || n != 0 {
			t.Fatalf("purge: %d %v", n, err) // the record was replaced, not left behind
		}
	})
}

// TestIdempotencyConcurrent fires n identical requests with one key at
// once: exactly one runs, the rest are replays or "in progress". Then,
// after the key expired, n requests with the same key and another body
// race to replace the expired record: again exactly one runs.
func TestIdempotencyConcurrent(t *testing.T) {
	testdb.Run(t, func(t *testing.T, db testdb.Backend) {
		e := newEnv(t, db)
		const n = 20
		testdb.WarmPool(t, e.store, n)
		for round, sid := range []string{"RACE-1", "RACE-2"} {
			if round > 0 {
				e.clock.Advance(25 * time.Hour)
			}
			var wg sync.WaitGroup
			results := make([]*resp, n)
			start := make(chan struct{})
			for i := range n {
				wg.Go(func() {
					<-start
					results[i] = e.do(t, req{method: "POST", path: "/v1/orders", body: `{"shop_order_id":"` + sid + `","amount":2000}`,
						header: map[string]string{"Idempotency-Key": "race-key"}})
				})
			}
			close(start) // all at once, so the claims overlap
			wg.Wait()
			fresh, replayed, busy := 0, 0, 0
			var firstBody []byte
			for _, r := range results {
				switch {
				case r.status == 201 && r.header.Get("Idempotent-Replayed") == "true":
					replayed++
				case r.status == 201:
					fresh++
					firstBody = r.body
				case r.status == 409 && r.errCode(t) == "idempotency_in_progress":
					busy++
				default:
					t.Fatalf("%s: unexpected answer %d %s", sid, r.status, r.body)
				}
			}
			if fresh != 1 || fresh+replayed+busy != n {
				t.Fatalf("%s: fresh %d replayed %d busy %d", sid, fresh, replayed, busy)
			}
			for _, r := range results {
				if r.status == 201 && !bytes.Equal(r.body, firstBody) {
					t.Fatalf("%s: replay differs:\n%s\n%s", sid, r.body, firstBody)
				}
			}
			list := e.do(t, req{method: "GET", path: "/v1/orders?shop_order_id=" + sid}).must(t, 200).json(t)
			if got := len(list["data"].([]any)); got != 1 {
				t.Fatalf("%s: %d orders created", sid, got)
			}
			events := e.do(t, req{method: "GET", path: "/v1/events"}).must(t, 200).json(t)
			if got := len(events["data"].([]any)); got != round+1 {
				t.Fatalf("%s: %d events, want %d", sid, got, round+1)
			}
			t.Logf("%s: fresh %d, replayed %d, in progress %d", sid, fresh, replayed, busy)
		}
	})
}

func TestFingerprint(t *testing.T) {
	a := fingerprint("POST", "/v1/orders", []byte(`{"a":1,"b":[1,2]}`))
	for _, same := range []string{`{"b":[1,2],"a":1}`, " {\"a\" : 1, \"b\": [1, 2]}\n"} {
		if fingerprint("POST", "/v1/orders", []byte(same)) != a {
			t.Errorf("%s differs", same)
		}
	}
	for i, other := range [][3]string{
		{"POST", "/v1/orders", `{"a":2,"b":[1,2]}`},
		{"PATCH", "/v1/orders", `{"a":1,"b":[1,2]}`},
		{"POST", "/v1/order", `{"a":1,"b":[1,2]}`},
		{"POST", "/v1/orders", `{"a":1,"b":[2,1]}`},
		{"POST", "/v1/orders", `{"a":1.0,"b":[1,2]}`},
	} {
		if fingerprint(other[0], other[1], []byte(other[2])) == a {
			t.Errorf("case %d collides", i)
		}
	}
	if fingerprint("POST", "/x", []byte("not json")) == fingerprint("POST", "/x", []byte("not  json")) {
		t.Error("raw bodies collide")
	}
}
