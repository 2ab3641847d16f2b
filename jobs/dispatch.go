package jobs

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/kessai/kessai"
)

// kindDispatch is the periodic outbox sweep's job kind (stored in
// river_job.kind: never rename).
const kindDispatch = "dispatch_webhooks"

// dispatchBatch is how many events one step of Dispatch reads and queues
// in one River transaction.
const dispatchBatch = 100

// maxDispatchSteps bounds one Dispatch call (10,000 events), so a store
// that failed to mark events dispatched cannot make it loop forever; the
// next sweep carries on.
const maxDispatchSteps = 100

// dispatchArgs are the (empty) arguments of the periodic sweep.
type dispatchArgs struct{}

// Kind implements river.JobArgs.
func (dispatchArgs) Kind() string { return kindDispatch }

// periodicInsertOpts are the insert options of a periodic job (the outbox
// sweep, the purge) on queue: unique while queued or running, so a slow
// run never piles up copies behind it, and not retried (MaxAttempts 1,
// and retryable is left out of ByState) because the next period runs
// anyway.
func periodicInsertOpts(queue string) *river.InsertOpts {
	return &river.InsertOpts{
		Queue:       queue,
		MaxAttempts: 1,
		UniqueOpts: river.UniqueOpts{ByState: []rivertype.JobState{
			rivertype.JobStateAvailable, rivertype.JobStatePending,
			rivertype.JobStateRunning, rivertype.JobStateScheduled,
		}},
	}
}

// Dispatch moves the outbox once, now, in the calling goroutine: for every
// undispatched event it queues a delivery job per enabled endpoint of the
// event's shop whose filter takes the event type, then marks the event
// dispatched. It returns how many jobs it queued.
//
// Dispatch is safe to run in several processes at once and to repeat after
// a crash between queueing and marking: every delivery job is unique per
// (event, endpoint) in River (see deliverInsertOpts), so a second queueing
// of the same pair is skipped by the database's unique index, and only
// then is the event marked. The periodic job, Kick and tests all use it.
func (r *Runner) Dispatch(ctx context.Context) (int, error) {
	total := 0
	for range maxDispatchSteps {
		events, err := r.store.ListUndispatchedEvents(ctx, dispatchBatch)
		if err != nil {
			return total, fmt.Errorf("jobs: list undispatched events: %w", err)
		}
		if len(events) == 0 {
			return total, nil
		}
		n, err := r.dispatchEvents(ctx, events)
		total += n
		if err != nil {
			return total, err
		}
		if len(events) < dispatchBatch {
			return total, nil
		}
	}
	return total, nil
}

// dispatchEvents queues the deliveries of events in one River transaction
// and then marks each event dispatched.
func (r *Runner) dispatchEvents(ctx context.Context, events []kessai.Event) (int, error) {
	endpoints := map[string][]kessai.WebhookEndpoint{} // by shop, read once per batch
	var args []deliverArgs
	for _, ev := range events {
		eps, ok := endpoints[ev.ShopID]
		if !ok {
			var err error
			eps, err = r.store.ListWebhookEndpoints(ctx, ev.ShopID)
			if err != nil {
				return 0, fmt.Errorf("jobs: list webhook endpoints of shop %s: %w", ev.ShopID, err)
			}
			endpoints[ev.ShopID] = eps
		}
		for i := range eps {
			if wants(&eps[i], ev.Type) {
				args = append(args, deliverArgs{ShopID: ev.ShopID, EventID: ev.ID, EndpointID: eps[i].ID})
			}
		}
	}
	// One order for every dispatcher: on PostgreSQL, two dispatchers
	// inserting overlapping batches then lock the unique keys in the same
	// order and wait for each other instead of deadlocking.
	slices.SortFunc(args, func(a, b deliverArgs) int {
		return cmp.Or(cmp.Compare(a.EventID, b.EventID), cmp.Compare(a.EndpointID, b.EndpointID), cmp.Compare(a.ShopID, b.ShopID))
	})
	args = slices.Compact(args) // River refuses a unique key twice in one batch

	inserted := 0
	if len(args) > 0 {
		params := make([]river.InsertManyParams, len(args))
		for i, a := range args {
			params[i] = river.InsertManyParams{Args: a, InsertOpts: r.deliverInsertOpts(true)}
		}
		res, err := r.client.InsertMany(ctx, params)
		if err != nil {
			return 0, fmt.Errorf("jobs: queue %d webhook deliveries: %w", len(params), err)
		}
		for _, ir := range res {
			if !ir.UniqueSkippedAsDuplicate {
				inserted++
			}
		}
		r.queued.Add(int64(inserted))
		r.duplicates.Add(int64(len(res) - inserted))
	}
	// Marking comes only after the jobs are committed: a crash in between
	// leaves the events in the outbox, and the next sweep's inserts are
	// skipped as duplicates.
	now := r.now()
	for _, ev := range events {
		if err := r.store.MarkEventDispatched(ctx, ev.ShopID, ev.ID, now); err != nil {
			return inserted, fmt.Errorf("jobs: mark event %s dispatched: %w", ev.ID, err)
		}
	}
	return inserted, nil
}

// wants reports whether ep should receive an event of type t: it is
// enabled, and its filter is empty (every event) or names t.
func wants(ep *kessai.WebhookEndpoint, t string) bool {
	return ep.Enabled && (len(ep.EventTypes) == 0 || slices.Contains(ep.EventTypes, t))
}
