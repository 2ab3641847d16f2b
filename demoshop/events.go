package demoshop

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/kessai/kessai/webhook"
)

// The webhook endpoint and the log behind the "イベント" page. A real shop
// would act on the events (ship when payment.captured arrives, mail the
// download link for virtual goods); the demo shows what arrived, so a
// visitor can watch kessai's webhooks follow their clicks.

// maxEvents is how many received events the log keeps (in memory: the
// demo needs no database, and a restart starting afresh is fine).
const maxEvents = 200

// receivedEvent is one verified delivery, reduced to what the events
// page shows. Billing details are left out on purpose: the page is
// public on a demo site.
type receivedEvent struct {
	ID         string
	Type       string
	CreatedAt  time.Time
	ReceivedAt time.Time
	// Deliveries counts how often the event arrived (retries and
	// resends carry the same id).
	Deliveries int
	// Attempt is the Kessai-Delivery-Attempt header of the last delivery.
	Attempt string
	// ObjectID is data.id: the order for order.*, the payment for
	// payment.*; OrderID is the order the object belongs to.
	ObjectID string
	OrderID  string
	// CustomerID is data.customer_id: the customer of an order, or of a
	// saved card (member.* events have no id of their own).
	CustomerID string
	Status     string
	Amount     *int64
}

// eventLog keeps the latest events, newest last, and knows which orders
// are the demo shop's own.
//
// kessai sends an endpoint every event of the shop, including orders that
// other integrations of the same kessai shop made. The events page is
// public, so it shows only the demo's own orders (and its demo customers'
// saved cards): those it created itself, or whose order events carry its
// metadata (which covers orders made before a restart).
type eventLog struct {
	mu     sync.Mutex
	events []*receivedEvent
	ours   map[string]bool
}

// maxOwnOrders bounds the set of own order ids; beyond it the set starts
// afresh (older orders' events have long left the log by then).
const maxOwnOrders = 10000

// markOrder notes an order id as the demo shop's.
func (l *eventLog) markOrder(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.markLocked(id)
}

func (l *eventLog) markLocked(id string) {
	if l.ours == nil || len(l.ours) >= maxOwnOrders {
		l.ours = map[string]bool{}
	}
	l.ours[id] = true
}

// shown reports whether an event may appear on the public page.
func (l *eventLog) shown(e *receivedEvent) bool {
	if l.ours[e.ObjectID] || l.ours[e.OrderID] {
		return true
	}
	_, demoCustomer := customerByID(e.CustomerID)
	return demoCustomer
}

// add records ev; a redelivery of a known event only counts up. own
// marks an order event as one of the demo shop's orders.
func (l *eventLog) add(ev *receivedEvent, own bool) (duplicate bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if own && ev.ObjectID != "" {
		l.markLocked(ev.ObjectID)
	}
	for _, e := range l.events {
		if e.ID == ev.ID {
			e.Deliveries++
			e.Attempt = ev.Attempt
			e.ReceivedAt = ev.ReceivedAt
			return true
		}
	}
	ev.Deliveries = 1
	l.events = append(l.events, ev)
	if len(l.events) > maxEvents {
		l.events = l.events[len(l.events)-maxEvents:]
	}
	return false
}

// list returns copies of the events that may be shown, newest first;
// with orderID set, only those about that order.
func (l *eventLog) list(orderID string) []receivedEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]receivedEvent, 0, len(l.events))
	for i := len(l.events) - 1; i >= 0; i-- {
		e := l.events[i]
		if !l.shown(e) || (orderID != "" && e.ObjectID != orderID && e.OrderID != orderID) {
			continue
		}
		out = append(out, *e)
	}
	return out
}

// eventObject is the part of an event's data the log keeps. Orders and
// payments both have an id and an amount; an order has a status, a
// payment a state and the id of its order.
type eventObject struct {
	ID         string          `json:"id"`
	OrderID    string          `json:"order_id"`
	CustomerID string          `json:"customer_id"`
	Status     string          `json:"status"`
	State      string          `json:"state"`
	Amount     json.RawMessage `json:"amount"`
	// Metadata is the order's: the demo marks its orders with
	// source=demoshop.
	Metadata map[string]string `json:"metadata"`
}

// webhookHandler receives kessai's deliveries: it verifies the
// signature with package webhook (any failure is 400 and the event is
// not recorded), records the event once per id and answers 204 at once,
// as kessai asks (slow work belongs after the answer).
func (s *shop) webhookHandler(w http.ResponseWriter, r *http.Request) {
	if len(s.secrets) == 0 {
		// Without a secret nothing can be verified. 503 rather than 400:
		// the sender did nothing wrong and kessai retries later, by when
		// the shop may be configured.
		s.log.Warn("demoshop: webhook received but no webhook secret is configured")
		http.Error(w, "webhook secret not configured", http.StatusServiceUnavailable)
		return
	}
	ev, err := webhook.ParseEvent(r, s.secrets, webhook.DefaultTolerance)
	if err != nil {
		var reason string
		switch {
		case errors.Is(err, webhook.ErrNoSignature):
			reason = "no signature"
		case errors.Is(err, webhook.ErrMismatch):
			reason = "signature mismatch"
		case errors.Is(err, webhook.ErrTimestamp):
			reason = "timestamp outside tolerance"
		case errors.Is(err, webhook.ErrBadHeader):
			reason = "malformed signature header"
		default:
			reason = "invalid event"
		}
		s.log.Warn("demoshop: webhook refused", "reason", reason, "err", err, "remote", r.RemoteAddr)
		http.Error(w, "invalid signature", http.StatusBadRequest)
		return
	}
	rec := &receivedEvent{ID: ev.ID, Type: ev.Type, CreatedAt: ev.CreatedAt, ReceivedAt: s.now(),
		Attempt: r.Header.Get(webhook.HeaderDeliveryAttempt)}
	var obj eventObject
	own := false
	if json.Unmarshal(ev.Data, &obj) == nil {
		own = strings.HasPrefix(ev.Type, "order.") && obj.Metadata["source"] == orderSource
		rec.ObjectID, rec.OrderID, rec.CustomerID, rec.Status = obj.ID, obj.OrderID, obj.CustomerID, obj.Status
		if rec.Status == "" {
			rec.Status = obj.State
		}
		var n int64
		if json.Unmarshal(obj.Amount, &n) == nil {
			rec.Amount = &n
		}
	}
	dup := s.events.add(rec, own)
	s.log.Info("demoshop: webhook received", "event_id", ev.ID, "type", ev.Type, "object", rec.ObjectID, "duplicate", dup)
	w.WriteHeader(http.StatusNoContent)
}
