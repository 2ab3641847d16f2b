package chaostest

import (
	"net/http"
	"strings"
	"testing"
)

// The suite's own checks, on made-up answers and states: a check that
// cannot fail proves nothing.

func TestAuditorFindsUndocumentedAnswers(t *testing.T) {
	a := newAuditor(t)
	h := http.Header{"Content-Type": {"application/json"}, "Request-Id": {"req_1"}}
	ok := func(status int, body string) *answer { return &answer{Status: status, Header: h, Body: []byte(body)} }

	a.check("GET /v1/ping", "GET", "/v1/ping", ok(200, `{"ok":true,"shop_id":"shop_default","key_kind":"secret"}`))
	a.check("GET /v1/orders/{id}", "GET", "/v1/orders/ord_x", ok(404,
		`{"error":{"type":"not_found","code":"order_not_found","message":"x","request_id":"req_1"}}`))
	a.finish(t)
	if len(a.problems) != 0 {
		t.Fatalf("documented answers reported: %v", a.problems)
	}

	for _, tc := range []struct {
		method, path string
		ans          *answer
		want         string
	}{
		{"GET", "/v1/ping", ok(200, `{"ok":true}`), "openapi"},
		{"GET", "/v1/ping", ok(418, `{"error":{"type":"invalid","code":"teapot","message":"x","request_id":"r"}}`), "not documented"},
		{"POST", "/v1/orders/ord_x/pay", ok(402, `{"error":{"type":"declined","code":"made_up_code","message":"x","request_id":"r"}}`), "made_up_code"},
		{"POST", "/v1/orders/ord_x/pay", ok(400, `{"error":{"type":"conflict","code":"order_not_payable","message":"x","request_id":"r"}}`), "does not answer HTTP 400"},
		{"POST", "/v1/orders/ord_x/pay", ok(500, `{"error":{"type":"internal","code":"internal","message":"x","request_id":"r"}}`), "internal error"},
		{"POST", "/v1/orders", ok(502, `Bad Gateway`), "without the error object"},
	} {
		a.check("x", tc.method, tc.path, tc.ans)
		a.finish(t)
		if len(a.problems) == 0 || !strings.Contains(strings.ToLower(strings.Join(a.problems, "\n")), strings.ToLower(tc.want)) {
			t.Errorf("%s %s → %d: problems %q, want one about %q", tc.method, tc.path, tc.ans.Status, a.problems, tc.want)
		}
		a.problems = nil
	}
}

// goodSnapshot is a consistent state: a captured card payment, an unknown
// one with a charge (on the console's list), a paid collection, a failed
// payment with nothing at the gateway.
func goodSnapshot() *snapshot {
	s := &snapshot{orders: map[string]string{"o1": "processing", "o2": "pending", "o3": "processing", "o4": "failed"},
		unknown: map[string]bool{"o2": true}}
	s.sim.Transactions = append(s.sim.Transactions,
		simTx("p1", "CAPTURED", 1000, "111111111111", "o1"),
		simTx("p2", "AUTH", 2000, "222222222222", "o2"))
	s.sim.Collections = append(s.sim.Collections, simCol("c3", "PAID", 3000, "333333333333", "o3", "F3"))
	s.payments = []payment{
		pay("pay1", "o1", "card", "captured", 1000, "111111111111", "1Gathering", "succeeded"),
		pay("pay2", "o2", "card", "unknown", 2000, "222222222222", "1Auth", "unknown"),
		pay("pay3", "o3", "collection", "paid", 3000, "333333333333", "2Add", "succeeded"),
		pay("pay4", "o4", "card", "failed", 4000, "444444444444", "1Auth", "failed"),
	}
	return s
}

func simTx(pid, status string, amount int64, mf1, order string) (tx struct {
	ProcessID     string `json:"process_id"`
	Status        string `json:"status"`
	Amount        int64  `json:"amount"`
	OriginalOp    string `json:"original_op"`
	KaiinID       string `json:"kaiin_id"`
	MerchantFree1 string `json:"merchant_free1"`
	MerchantFree2 string `json:"merchant_free2"`
}) {
	tx.ProcessID, tx.Status, tx.Amount, tx.MerchantFree1, tx.MerchantFree2 = pid, status, amount, mf1, order
	return tx
}

func simCol(pid, status string, amount int64, mf1, order, freeArea string) (c struct {
	ProcessID     string `json:"process_id"`
	FreeArea      string `json:"free_area"`
	Status        string `json:"status"`
	Amount        int64  `json:"amount"`
	MerchantFree1 string `json:"merchant_free1"`
	MerchantFree2 string `json:"merchant_free2"`
}) {
	c.ProcessID, c.Status, c.Amount, c.MerchantFree1, c.MerchantFree2, c.FreeArea = pid, status, amount, mf1, order, freeArea
	return c
}

func pay(id, order, method, state string, amount int64, code, op, attempt string) payment {
	p := payment{ID: id, OrderID: order, Method: method, State: state, Amount: amount, TransactionCode: code}
	p.Attempts = append(p.Attempts, struct {
		ID            string `json:"id"`
		Operation     string `json:"operation"`
		MerchantFree1 string `json:"merchant_free1"`
		Status        string `json:"status"`
	}{ID: "att_" + id, Operation: op, MerchantFree1: code, Status: attempt})
	return p
}

func TestInvariantChecks(t *testing.T) {
	if v := goodSnapshot().check(newLedger()); len(v.violations) != 0 {
		t.Fatalf("a consistent state: %v", v.violations)
	}
	for _, tc := range []struct {
		name    string
		corrupt func(s *snapshot, l *ledger)
		want    string
	}{
		{"a charge without a payment", func(s *snapshot, _ *ledger) {
			s.sim.Transactions = append(s.sim.Transactions, simTx("p9", "AUTH", 500, "999999999999", "o4"))
		}, "belongs to 0 payments"},
		{"a charge of two payments", func(s *snapshot, _ *ledger) {
			s.payments[3].Attempts[0].MerchantFree1 = "111111111111"
		}, "belongs to 2 payments"},
		{"an order charged twice", func(s *snapshot, _ *ledger) {
			s.payments = append(s.payments, pay("pay5", "o1", "card", "authorized", 700, "555555555555", "1Auth", "succeeded"))
			s.sim.Transactions = append(s.sim.Transactions, simTx("p5", "AUTH", 700, "555555555555", "o1"))
		}, "charged 2 times"},
		{"paid, left unpaid", func(s *snapshot, _ *ledger) {
			s.payments[1].State, s.payments[1].Attempts[0].Status = "failed", "failed"
			s.unknown = map[string]bool{}
		}, "left unpaid"},
		{"a collection paid, left unpaid", func(s *snapshot, _ *ledger) { s.payments[2].State = "pending" }, "left unpaid"},
		{"paid in kessai only", func(s *snapshot, _ *ledger) { s.sim.Transactions[0].Status = "CANCELLED" }, "is captured but"},
		{"an unknown payment off the list", func(s *snapshot, _ *ledger) { s.unknown = map[string]bool{} }, "not on the console's unknown list"},
		{"an uncertain attempt settled on its own", func(s *snapshot, _ *ledger) {
			s.payments[3].Attempts[0].Status = "unknown"
		}, "unresolved but the payment is \"failed\""},
		{"an attempt left pending", func(s *snapshot, _ *ledger) { s.payments[3].Attempts[0].Status = "pending" }, "still pending"},
		{"an amount that differs", func(s *snapshot, _ *ledger) { s.payments[0].Amount = 1001 }, "charged 1000"},
		{"an agent payment the gateway lost", func(_ *snapshot, l *ledger) { l.agentPaid["NOPE"] = "o9" }, "does not show it paid"},
	} {
		s, l := goodSnapshot(), newLedger()
		tc.corrupt(s, l)
		v := s.check(l)
		if !strings.Contains(strings.Join(v.violations, "\n"), tc.want) {
			t.Errorf("%s: violations %q, want one with %q", tc.name, v.violations, tc.want)
		}
	}
}
