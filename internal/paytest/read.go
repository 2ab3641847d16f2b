package paytest

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/kessai/kessai"
)

// Reading the store as the tests check it; every failure ends the test.

// GetOrder reads an order.
func (e *Env) GetOrder(id string) *kessai.Order {
	e.T.Helper()
	o, err := e.Store.GetOrder(e.Ctx, ShopID, id)
	if err != nil {
		e.T.Fatal(err)
	}
	return o
}

// GetPayment reads a payment.
func (e *Env) GetPayment(id string) *kessai.Payment {
	e.T.Helper()
	p, err := e.Store.GetPayment(e.Ctx, ShopID, id)
	if err != nil {
		e.T.Fatal(err)
	}
	return p
}

// Payments lists the payments of an order, oldest first.
func (e *Env) Payments(orderID string) []kessai.Payment {
	e.T.Helper()
	ps, err := e.Store.ListPayments(e.Ctx, ShopID, orderID)
	if err != nil {
		e.T.Fatal(err)
	}
	return ps
}

// History lists a payment's history.
func (e *Env) History(paymentID string) []kessai.HistoryEntry {
	e.T.Helper()
	h, err := e.Store.ListHistory(e.Ctx, ShopID, paymentID)
	if err != nil {
		e.T.Fatal(err)
	}
	return h
}

// Attempts lists a payment's attempts.
func (e *Env) Attempts(paymentID string) []kessai.Attempt {
	e.T.Helper()
	a, err := e.Store.ListAttempts(e.Ctx, ShopID, paymentID)
	if err != nil {
		e.T.Fatal(err)
	}
	return a
}

// EventList returns the shop's events, oldest first.
func (e *Env) EventList() []kessai.Event {
	e.T.Helper()
	evs, err := e.Store.ListEvents(e.Ctx, ShopID, kessai.Page{Limit: 1000})
	if err != nil {
		e.T.Fatal(err)
	}
	slices.Reverse(evs) // the store lists newest first
	return evs
}

// Events returns the types of the shop's events, oldest first.
func (e *Env) Events() []string {
	e.T.Helper()
	evs := e.EventList()
	out := make([]string, 0, len(evs))
	for _, ev := range evs {
		out = append(out, ev.Type)
	}
	return out
}

// EventsAbout returns the types of the events whose data has id (an order's
// or a payment's "id"), oldest first.
func (e *Env) EventsAbout(id string) []string {
	e.T.Helper()
	var out []string
	for _, ev := range e.EventList() {
		var d struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(ev.Data, &d)
		if d.ID == id {
			out = append(out, ev.Type)
		}
	}
	return out
}

// WantStatus wants the order in status want.
func WantStatus(t testing.TB, o *kessai.Order, want kessai.OrderStatus) {
	t.Helper()
	if o.Status != want {
		t.Fatalf("order %s status %s, want %s", o.ID, o.Status, want)
	}
}

// WantState wants the payment in state want.
func WantState(t testing.TB, p *kessai.Payment, want kessai.PaymentState) {
	t.Helper()
	if p.State != want {
		t.Fatalf("payment %s state %s, want %s (codes %v)", p.ID, p.State, want, p.FailureCodes)
	}
}
