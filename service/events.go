package service

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/kessai/kessai"
)

// EventIDPrefix starts every event ID ("evt_…").
const EventIDPrefix = "evt"

// Emit records an event of type typ with data (marshalled to JSON) in tx,
// which should be the transaction that makes the change the event
// describes: the event then exists exactly when the change does (outbox).
// The job runner delivers it to the shop's webhook endpoints; call Kick
// after the transaction commits so that happens at once.
//
// An unknown type is a programming error and is refused, so a typo cannot
// publish an event name that was never documented.
func (s *Service) Emit(ctx context.Context, tx kessai.Store, shopID, typ string, data any) error {
	_, err := s.emit(ctx, tx, shopID, typ, data)
	return err
}

func (s *Service) emit(ctx context.Context, tx kessai.Store, shopID, typ string, data any) (*kessai.Event, error) {
	if !slices.Contains(kessai.EventTypes, typ) {
		return nil, kessai.Internal(fmt.Errorf("service: unknown event type %q", typ))
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return nil, kessai.Internal(fmt.Errorf("service: marshal %s event: %w", typ, err))
	}
	now := s.Now()
	e := &kessai.Event{ID: kessai.NewID(EventIDPrefix, now), ShopID: shopID, Type: typ, Data: raw, CreatedAt: now}
	if err := tx.CreateEvent(ctx, e); err != nil {
		return nil, storeErr(err, nil)
	}
	return e, nil
}

// EventList is one page of events, newest first.
type EventList struct {
	Events  []kessai.Event
	HasMore bool
}

// ListEvents lists the shop's events, newest first.
func (s *Service) ListEvents(ctx context.Context, shopID string, page kessai.Page) (*EventList, error) {
	page, err := checkPage(page, EventIDPrefix)
	if err != nil {
		return nil, err
	}
	evs, err := s.store.ListEvents(ctx, shopID, kessai.Page{Limit: page.Limit + 1, After: page.After})
	if err != nil {
		return nil, storeErr(err, nil)
	}
	more := len(evs) > page.Limit
	if more {
		evs = evs[:page.Limit]
	}
	return &EventList{Events: nonNil(evs), HasMore: more}, nil
}

var errEventNotFound = notFound("event", "イベントが見つかりません。", "No such event.")

// GetEvent returns one event of the shop.
func (s *Service) GetEvent(ctx context.Context, shopID, id string) (*kessai.Event, error) {
	if !plausibleID(id) {
		return nil, errEventNotFound
	}
	e, err := s.store.GetEvent(ctx, shopID, id)
	if err != nil {
		return nil, storeErr(err, errEventNotFound)
	}
	return e, nil
}

// DeliveryList is one page of webhook delivery attempts, newest first.
type DeliveryList struct {
	Deliveries []kessai.WebhookDelivery
	HasMore    bool
}

// ListDeliveries lists the delivery attempts of an event, optionally of
// one endpoint only. The event must exist, so that a mistyped ID answers
// 404 rather than an empty list.
func (s *Service) ListDeliveries(ctx context.Context, shopID, eventID, endpointID string, page kessai.Page) (*DeliveryList, error) {
	if _, err := s.GetEvent(ctx, shopID, eventID); err != nil {
		return nil, err
	}
	if endpointID != "" {
		if _, err := s.GetWebhookEndpoint(ctx, shopID, endpointID); err != nil {
			return nil, err
		}
	}
	page, err := checkPage(page, "")
	if err != nil {
		return nil, err
	}
	ds, err := s.store.ListDeliveries(ctx, shopID, eventID, endpointID, kessai.Page{Limit: page.Limit + 1, After: page.After})
	if err != nil {
		return nil, storeErr(err, nil)
	}
	more := len(ds) > page.Limit
	if more {
		ds = ds[:page.Limit]
	}
	return &DeliveryList{Deliveries: nonNil(ds), HasMore: more}, nil
}

// Resend queues the event for redelivery. With endpointID it goes to that
// endpoint (even if its filter would not select the event: the operator
// asked for it explicitly, but a disabled endpoint is refused); without,
// to every enabled endpoint whose filter selects the event. It returns the
// endpoints it was queued for.
func (s *Service) Resend(ctx context.Context, shopID, eventID, endpointID string) ([]string, error) {
	ev, err := s.GetEvent(ctx, shopID, eventID)
	if err != nil {
		return nil, err
	}
	var targets []string
	if endpointID != "" {
		ep, err := s.GetWebhookEndpoint(ctx, shopID, endpointID)
		if err != nil {
			if kessai.ErrorKind(err) == kessai.KindNotFound {
				e := *errEndpointNotFound
				e.Kind, e.Field, e.Code = kessai.KindInvalid, "endpoint_id", "endpoint_not_found"
				return nil, kessai.ValidationErrors{&e}
			}
			return nil, err
		}
		if !ep.Enabled {
			return nil, kessai.Errorf(kessai.KindConflict, "endpoint_disabled",
				"無効化された Webhook エンドポイントには再送できません。先に有効にしてください。",
				"The webhook endpoint is disabled; enable it before resending.")
		}
		targets = []string{ep.ID}
	} else {
		eps, err := s.ListWebhookEndpoints(ctx, shopID)
		if err != nil {
			return nil, err
		}
		for _, ep := range eps {
			if ep.Enabled && (len(ep.EventTypes) == 0 || slices.Contains(ep.EventTypes, ev.Type)) {
				targets = append(targets, ep.ID)
			}
		}
		if len(targets) == 0 {
			return nil, kessai.Errorf(kessai.KindConflict, "no_endpoints",
				"このイベントを受け取る有効な Webhook エンドポイントがありません。",
				"No enabled webhook endpoint receives this event.")
		}
	}
	if s.resender == nil {
		return nil, kessai.Errorf(kessai.KindUnavailable, "resend_unavailable",
			"再送機能が利用できません（ジョブ実行が構成されていません）。",
			"Resending is unavailable: no job runner is configured.")
	}
	for _, id := range targets {
		if err := s.resender.Resend(ctx, shopID, ev.ID, id); err != nil {
			return nil, storeErr(err, nil)
		}
	}
	return targets, nil
}

// nonNil turns a nil slice into an empty one, so JSON lists render as []
// rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
