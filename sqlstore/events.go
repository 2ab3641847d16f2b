package sqlstore

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/kessai/kessai"
)

const eventCols = `shop_id, id, event_type, data, created_at`

// CreateEvent inserts an event, undispatched (it is in the outbox until
// MarkEventDispatched). ErrDuplicate when the id exists.
func (s *Store) CreateEvent(ctx context.Context, e *kessai.Event) error {
	const op = "create event"
	if err := need(op, "shop id", e.ShopID, "id", e.ID); err != nil {
		return err
	}
	e.CreatedAt = norm(e.CreatedAt)
	n, err := s.execN(ctx, `INSERT INTO events (`+eventCols+`) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		e.ShopID, e.ID, e.Type, string(e.Data), micros(e.CreatedAt))
	if err != nil {
		return s.fail(op, err)
	}
	if n == 0 {
		return duplicate(op + " " + e.ID)
	}
	return nil
}

func scanEvent(sc scanner) (*kessai.Event, error) {
	var e kessai.Event
	var data string
	var created int64
	if err := sc.Scan(&e.ShopID, &e.ID, &e.Type, &data, &created); err != nil {
		return nil, err
	}
	if data != "" {
		e.Data = json.RawMessage(data)
	}
	e.CreatedAt = fromMicros(created)
	return &e, nil
}

// GetEvent returns an event of the shop.
func (s *Store) GetEvent(ctx context.Context, shopID, id string) (*kessai.Event, error) {
	return get(ctx, s, "get event "+id, scanEvent, `SELECT `+eventCols+` FROM events WHERE shop_id = ? AND id = ?`, shopID, id)
}

// ListEvents returns a page of the shop's events, newest first.
func (s *Store) ListEvents(ctx context.Context, shopID string, page kessai.Page) ([]kessai.Event, error) {
	q := `SELECT ` + eventCols + ` FROM events WHERE shop_id = ?`
	args := []any{shopID}
	if page.After != "" {
		q += ` AND id < ?`
		args = append(args, page.After)
	}
	return list(ctx, s, "list events", scanEvent, q+` ORDER BY id DESC LIMIT ?`, append(args, limit(page))...)
}

// ListUndispatchedEvents returns up to limit events of any shop that are
// not dispatched yet, oldest first. The partial index on undispatched
// events makes this cost the size of the backlog, not of the history.
func (s *Store) ListUndispatchedEvents(ctx context.Context, n int) ([]kessai.Event, error) {
	return list(ctx, s, "list undispatched events", scanEvent,
		`SELECT `+eventCols+` FROM events WHERE dispatched_at IS NULL ORDER BY created_at, id LIMIT ?`, limit(kessai.Page{Limit: n}))
}

// MarkEventDispatched takes an event out of the outbox. Marking it again
// keeps the first time.
func (s *Store) MarkEventDispatched(ctx context.Context, shopID, id string, at time.Time) error {
	const op = "mark event dispatched"
	n, err := s.execN(ctx, `UPDATE events SET dispatched_at = COALESCE(dispatched_at, ?) WHERE shop_id = ? AND id = ?`,
		micros(at), shopID, id)
	if err != nil {
		return s.fail(op, err)
	}
	if n == 0 {
		return notFound(op + " " + id)
	}
	return nil
}

const endpointCols = `shop_id, id, url, secret, event_types, enabled, created_at`

// CreateWebhookEndpoint inserts an endpoint; its Secret is sealed.
func (s *Store) CreateWebhookEndpoint(ctx context.Context, w *kessai.WebhookEndpoint) error {
	const op = "create webhook endpoint"
	if err := need(op, "shop id", w.ShopID, "id", w.ID); err != nil {
		return err
	}
	secret, err := s.seal(w.Secret)
	if err != nil {
		return err
	}
	types, err := toJSON(w.EventTypes)
	if err != nil {
		return err
	}
	w.CreatedAt = norm(w.CreatedAt)
	n, err := s.execN(ctx, `INSERT INTO webhook_endpoints (`+endpointCols+`) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		w.ShopID, w.ID, w.URL, secret, types, w.Enabled, micros(w.CreatedAt))
	if err != nil {
		return s.fail(op, err)
	}
	if n == 0 {
		return duplicate(op + " " + w.ID)
	}
	return nil
}

func (s *Store) scanEndpoint(sc scanner) (*kessai.WebhookEndpoint, error) {
	var w kessai.WebhookEndpoint
	var secret []byte
	var types string
	var created int64
	if err := sc.Scan(&w.ShopID, &w.ID, &w.URL, &secret, &types, &w.Enabled, &created); err != nil {
		return nil, err
	}
	var err error
	if w.Secret, err = s.open(secret); err != nil {
		return nil, err
	}
	w.CreatedAt = fromMicros(created)
	return &w, fromJSON(types, &w.EventTypes)
}

// GetWebhookEndpoint returns an endpoint of the shop, its secret opened.
func (s *Store) GetWebhookEndpoint(ctx context.Context, shopID, id string) (*kessai.WebhookEndpoint, error) {
	return get(ctx, s, "get webhook endpoint "+id, s.scanEndpoint,
		`SELECT `+endpointCols+` FROM webhook_endpoints WHERE shop_id = ? AND id = ?`, shopID, id)
}

// ListWebhookEndpoints returns the shop's endpoints, oldest first.
func (s *Store) ListWebhookEndpoints(ctx context.Context, shopID string) ([]kessai.WebhookEndpoint, error) {
	return list(ctx, s, "list webhook endpoints", s.scanEndpoint,
		`SELECT `+endpointCols+` FROM webhook_endpoints WHERE shop_id = ? ORDER BY created_at, id`, shopID)
}

// UpdateWebhookEndpoint writes an endpoint's URL, secret, event types and
// enabled flag.
func (s *Store) UpdateWebhookEndpoint(ctx context.Context, w *kessai.WebhookEndpoint) error {
	const op = "update webhook endpoint"
	secret, err := s.seal(w.Secret)
	if err != nil {
		return err
	}
	types, err := toJSON(w.EventTypes)
	if err != nil {
		return err
	}
	n, err := s.execN(ctx, `UPDATE webhook_endpoints SET url = ?, secret = ?, event_types = ?, enabled = ? WHERE shop_id = ? AND id = ?`,
		w.URL, secret, types, w.Enabled, w.ShopID, w.ID)
	if err != nil {
		return s.fail(op, err)
	}
	if n == 0 {
		return notFound(op + " " + w.ID)
	}
	return nil
}

// DeleteWebhookEndpoint deletes an endpoint; its delivery log stays.
func (s *Store) DeleteWebhookEndpoint(ctx context.Context, shopID, id string) error {
	const op = "delete webhook endpoint"
	n, err := s.execN(ctx, `DELETE FROM webhook_endpoints WHERE shop_id = ? AND id = ?`, shopID, id)
	if err != nil {
		return s.fail(op, err)
	}
	if n == 0 {
		return notFound(op + " " + id)
	}
	return nil
}

const deliveryCols = `shop_id, id, event_id, endpoint_id, attempt, status, http_status, error_message, duration_ms, delivered_at`

// RecordDelivery logs one delivery attempt of an existing event:
// ErrNotFound when the event does not exist, ErrDuplicate when the id
// does.
func (s *Store) RecordDelivery(ctx context.Context, d *kessai.WebhookDelivery) error {
	const op = "record delivery"
	if err := need(op, "shop id", d.ShopID, "id", d.ID, "event id", d.EventID); err != nil {
		return err
	}
	d.At = norm(d.At)
	n, err := s.execN(ctx, `INSERT INTO webhook_deliveries (`+deliveryCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		d.ShopID, d.ID, d.EventID, d.EndpointID, d.Attempt, string(d.Status), d.HTTPStatus, d.Error, d.DurationMS, micros(d.At))
	if err != nil {
		return s.fail(op+" of event "+d.EventID, err)
	}
	if n == 0 {
		return duplicate(op + " " + d.ID)
	}
	return nil
}

func scanDelivery(sc scanner) (*kessai.WebhookDelivery, error) {
	var d kessai.WebhookDelivery
	var at int64
	if err := sc.Scan(&d.ShopID, &d.ID, &d.EventID, &d.EndpointID, &d.Attempt, &d.Status, &d.HTTPStatus, &d.Error,
		&d.DurationMS, &at); err != nil {
		return nil, err
	}
	d.At = fromMicros(at)
	return &d, nil
}

// ListDeliveries returns a page of delivery attempts, newest first,
// filtered by event and/or endpoint when given.
func (s *Store) ListDeliveries(ctx context.Context, shopID, eventID, endpointID string, page kessai.Page) ([]kessai.WebhookDelivery, error) {
	var q strings.Builder
	q.WriteString(`SELECT ` + deliveryCols + ` FROM webhook_deliveries WHERE shop_id = ?`)
	args := []any{shopID}
	for _, c := range []struct {
		cond string
		v    string
	}{{"event_id = ?", eventID}, {"endpoint_id = ?", endpointID}, {"id < ?", page.After}} {
		if c.v != "" {
			q.WriteString(" AND " + c.cond)
			args = append(args, c.v)
		}
	}
	q.WriteString(` ORDER BY id DESC LIMIT ?`)
	return list(ctx, s, "list deliveries", scanDelivery, q.String(), append(args, limit(page))...)
}
