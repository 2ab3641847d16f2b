package sim

// Concurrency cap [SIM]: a real gateway serves a bounded number of calls
// per merchant at once (its contract, its front-end pool, its database),
// and a merchant that sends more does not get an error — the extra calls
// wait in a queue, so the merchant's throughput is capped at
// cap ÷ service time however many calls it sends. Config.MaxConcurrent
// models that cap for E1–E4: a call holds one of MaxConcurrent slots from
// the moment it is admitted, through any injected latency and the
// operation, until its answer is written; calls beyond the cap wait, first
// come first served. The browser surfaces (E5–E8) and notifications are not
// capped: they are other systems at the real gateway.
//
// The counters (CallStats, GET /_sim/calls) are kept whether or not a cap
// is set, so an uncapped simulator still reports its peak concurrency;
// with a cap they also say whether free slots were the merchant's doing
// (idle: nothing was queued) or the simulator's (hand-off to a queued
// call).

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// CallStats are the E1–E4 load counters of the simulator since it started
// or since ResetCallStats. Durations are JSON nanoseconds.
type CallStats struct {
	// MaxConcurrent is the configured cap; 0 means none.
	MaxConcurrent int `json:"max_concurrent"`
	// Served counts the calls that were admitted to a slot and finished;
	// a call whose client gave up while queued is not served.
	Served int64 `json:"served"`
	// InFlight is the number of calls holding a slot now, Queued the
	// number waiting for one.
	InFlight int64 `json:"in_flight"`
	Queued   int64 `json:"queued"`
	// PeakInFlight is the most calls ever served at the same time; with a
	// cap it never exceeds MaxConcurrent. PeakQueued is the longest queue.
	PeakInFlight int64 `json:"peak_in_flight"`
	PeakQueued   int64 `json:"peak_queued"`
	// Waited counts the admitted calls that had to queue, WaitTime is the
	// total time admitted calls spent queued.
	Waited   int64         `json:"waited"`
	WaitTime time.Duration `json:"wait_time"`
	// BusyTime is the total time slots were held (the sum over served
	// calls of admission to answer written). BusyTime ÷ (MaxConcurrent ×
	// elapsed time) is the cap's utilisation.
	BusyTime time.Duration `json:"busy_time"`
	// With a cap, the slot time not busy is split in two. IdleTime is
	// slot time free while no call was queued: the merchant did not send
	// enough to use the cap. HandoffTime is slot time free while calls
	// were queued: a slot was released and the first queued call had not
	// started yet (the simulator's own scheduling delay). Busy, idle and
	// hand-off time add up to MaxConcurrent × the elapsed time, except
	// that a call in flight counts as busy only when it finishes.
	IdleTime    time.Duration `json:"idle_time"`
	HandoffTime time.Duration `json:"handoff_time"`
}

// limiter admits E1–E4 calls to at most cap slots and keeps the counters.
type limiter struct {
	cap int
	// slots is a counting semaphore (nil without a cap). A full channel
	// blocks senders in arrival order and hands a freed slot straight to
	// the first of them, which gives the first-come, first-served queue a
	// real gateway's front end has.
	slots chan struct{}

	// mu guards the counters. A mutex rather than atomics because the
	// idle and hand-off times integrate the state over time, which needs
	// every change seen in order; it is held for a few instructions per
	// change, far below the cost of a call.
	mu                    sync.Mutex
	last                  time.Time // of the last change, for the integrals
	served, waited        int64
	inFlight, queued      int64
	peakInFlight          int64
	peakQueued            int64
	waitTime, busyTime    time.Duration
	idleTime, handoffTime time.Duration
}

func newLimiter(cap int) *limiter {
	l := &limiter{cap: cap, last: time.Now()}
	if cap > 0 {
		l.slots = make(chan struct{}, cap)
	}
	return l
}

// advanceLocked integrates the free slots from the last change to now:
// a free slot while calls are queued is a hand-off (the next call has its
// slot but has not started yet), one with nobody queued is idle.
func (l *limiter) advanceLocked(now time.Time) {
	if l.cap > 0 {
		dt := now.Sub(l.last)
		free := int64(l.cap) - l.inFlight
		handoff := min(free, l.queued)
		l.handoffTime += dt * time.Duration(handoff)
		l.idleTime += dt * time.Duration(free-handoff)
	}
	l.last = now
}

// acquire waits for a slot. It returns the function that gives the slot
// back, or ok false when ctx ended while the call was queued (the client
// went away: the call is never performed).
func (l *limiter) acquire(ctx context.Context) (release func(), ok bool) {
	var began time.Time
	if l.slots != nil {
		select {
		case l.slots <- struct{}{}:
		default:
			began = time.Now()
			l.mu.Lock()
			l.advanceLocked(began)
			l.queued++
			l.peakQueued = max(l.peakQueued, l.queued)
			l.mu.Unlock()
			select {
			case l.slots <- struct{}{}:
			case <-ctx.Done():
				l.mu.Lock()
				l.advanceLocked(time.Now())
				l.queued--
				l.mu.Unlock()
				return nil, false
			}
		}
	}
	admitted := time.Now()
	l.mu.Lock()
	l.advanceLocked(admitted)
	if !began.IsZero() {
		l.queued--
		l.waited++
		l.waitTime += admitted.Sub(began)
	}
	l.inFlight++
	l.peakInFlight = max(l.peakInFlight, l.inFlight)
	l.mu.Unlock()
	return func() {
		now := time.Now()
		l.mu.Lock()
		l.advanceLocked(now)
		l.busyTime += now.Sub(admitted)
		l.inFlight--
		l.served++
		l.mu.Unlock()
		if l.slots != nil {
			<-l.slots
		}
	}, true
}

func (l *limiter) stats() CallStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.advanceLocked(time.Now())
	return CallStats{
		MaxConcurrent: l.cap,
		Served:        l.served,
		InFlight:      l.inFlight,
		Queued:        l.queued,
		PeakInFlight:  l.peakInFlight,
		PeakQueued:    l.peakQueued,
		Waited:        l.waited,
		WaitTime:      l.waitTime,
		BusyTime:      l.busyTime,
		IdleTime:      l.idleTime,
		HandoffTime:   l.handoffTime,
	}
}

// reset zeroes the totals; the peaks restart from the current load, since
// calls in flight or queued now are part of what comes next.
func (l *limiter) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.advanceLocked(time.Now())
	l.served, l.waited = 0, 0
	l.waitTime, l.busyTime, l.idleTime, l.handoffTime = 0, 0, 0, 0
	l.peakInFlight, l.peakQueued = l.inFlight, l.queued
}

// CallStats returns the E1–E4 load counters.
func (s *Server) CallStats() CallStats { return s.limit.stats() }

// ResetCallStats zeroes the totals of CallStats (served, waited, wait and
// busy time) and restarts the peaks from the current load, e.g. after a
// benchmark's warm-up. BusyTime of calls in flight now counts in full when
// they finish.
func (s *Server) ResetCallStats() { s.limit.reset() }

// routesLimit registers GET /_sim/calls (CallStats as JSON, durations in
// nanoseconds) and DELETE /_sim/calls (ResetCallStats).
func (s *Server) routesLimit(mux *http.ServeMux) {
	mux.HandleFunc("/_sim/calls", func(w http.ResponseWriter, r *http.Request) {
		if !allow(w, r, http.MethodGet, http.MethodDelete) {
			return
		}
		if r.Method == http.MethodDelete {
			s.ResetCallStats()
		}
		ctlJSON(w, http.StatusOK, s.CallStats())
	})
}
