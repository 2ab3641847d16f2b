package sim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Payment notifications (入金結果通知, spec §10.5, §16.1).
//
// [SIM] choices, listed in docs/simulator-browser.md:
//   - delivery is a POST with an application/x-www-form-urlencoded body to
//     the merchant's NotifyURL; only HTTP 200 counts as delivered, the body
//     is ignored, redirects are not followed (a 3xx is a failure);
//   - failed attempts are retried on the schedule Config.NotifyRetry
//     (default [defaultNotifyRetry]), measured in REAL time, not on the
//     simulator's movable clock; RetryNotificationsNow makes every pending
//     retry due at once and FlushNotifications also waits for it;
//   - a merchant without NotifyURL gets nothing: the notification is logged
//     and listed as skipped;
//   - a "drop" fault records the notification but never sends it, a
//     "duplicate" fault sends it twice (two independent deliveries).

// maxNotificationLog bounds the delivery log; the oldest finished entries
// are forgotten first.
const maxNotificationLog = 2000

// defaultNotifyRetry is the delay before each retry of a notification the
// merchant did not accept: 10s, 30s, 1m, 5m, 15m, 1h, then hourly, for 24
// attempts in all (so 23 delays) [SIM].
func defaultNotifyRetry() []time.Duration {
	d := []time.Duration{10 * time.Second, 30 * time.Second, time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour}
	for len(d) < 23 {
		d = append(d, time.Hour)
	}
	return d
}

// NotificationView is one entry of the notification delivery log, as the
// control API (GET /_sim/notifications) and Notifications show it.
type NotificationView struct {
	ID         int               `json:"id"`
	MerchantID string            `json:"merchant_id"`
	URL        string            `json:"url"`
	Fields     map[string]string `json:"fields"`
	// Body is the form-encoded body as sent (insertion order).
	Body        string    `json:"body"`
	Created     time.Time `json:"created"`
	Attempts    int       `json:"attempts"`
	LastStatus  string    `json:"last_status,omitempty"` // "200", "500", or a transport error
	LastAttempt time.Time `json:"last_attempt,omitzero"`
	NextAttempt time.Time `json:"next_attempt,omitzero"` // zero when nothing is scheduled
	Delivered   bool      `json:"delivered"`
	// Pending: a further attempt is scheduled or running.
	Pending bool `json:"pending"`
	// GaveUp: every attempt of the retry schedule failed.
	GaveUp bool `json:"gave_up"`
	// Dropped: a "drop" fault swallowed the notification; it is never sent.
	Dropped bool `json:"dropped"`
	// Duplicate: the second copy made by a "duplicate" fault.
	Duplicate bool `json:"duplicate"`
	// Skipped: the merchant has no NotifyURL.
	Skipped bool `json:"skipped"`
}

// delivery is the notifier's record of one notification.
type delivery struct {
	view NotificationView
	n    notification
	// decided is set once the fault (drop/duplicate) has been consulted.
	decided  bool
	inFlight bool
	due      time.Time // real time of the next attempt; zero: none
}

func (d *delivery) finished() bool {
	return d.decided && !d.inFlight && d.due.IsZero()
}

// notifier delivers notifications in the background. It has its own lock
// and never holds it while calling into the Server, so s.notify may be
// called with s.mu held.
type notifier struct {
	s      *Server
	client *http.Client
	retry  []time.Duration

	mu      sync.Mutex
	log     []*delivery
	nextID  int
	changed chan struct{} // closed and replaced on every change
	closed  bool

	wake   chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // the loop and every in-flight send
	once   sync.Once
}

func newNotifier(s *Server) *notifier {
	c := *s.cfg.HTTPClient
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	ctx, cancel := context.WithCancel(context.Background())
	n := &notifier{
		s:       s,
		client:  &c,
		retry:   s.cfg.NotifyRetry,
		changed: make(chan struct{}),
		wake:    make(chan struct{}, 1),
		ctx:     ctx,
		cancel:  cancel,
	}
	n.wg.Add(1)
	go n.loop()
	return n
}

// close stops the sender: the loop ends, running requests are cancelled,
// and close returns once every goroutine has finished. Pending retries stay
// listed as pending.
func (n *notifier) close() {
	n.once.Do(func() {
		n.mu.Lock()
		n.closed = true
		n.mu.Unlock()
		n.cancel()
		n.wg.Wait()
	})
}

// broadcastLocked wakes everyone waiting for a change of the log.
func (n *notifier) broadcastLocked() {
	close(n.changed)
	n.changed = make(chan struct{})
}

func (n *notifier) poke() {
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// add queues a notification for delivery.
func (n *notifier) add(nt notification, now time.Time) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.appendLocked(nt, now, false)
	n.trimLocked()
	n.broadcastLocked()
	n.poke()
}

func (n *notifier) appendLocked(nt notification, now time.Time, duplicate bool) *delivery {
	n.nextID++
	fields := make(map[string]string, len(nt.Fields))
	for _, kv := range nt.Fields {
		fields[kv.Key] = kv.Value
	}
	d := &delivery{
		n: nt,
		view: NotificationView{
			ID: n.nextID, MerchantID: nt.MerchantID, URL: nt.URL, Fields: fields,
			Body: nt.Fields.Encode(), Created: now, Duplicate: duplicate, Pending: true,
		},
		decided: duplicate, // a duplicate copy is itself the outcome of a fault
		due:     now,
	}
	if nt.URL == "" {
		d.decided, d.due = true, time.Time{}
		d.view.Skipped, d.view.Pending = true, false
		d.view.LastStatus = "merchant has no NotifyURL"
	}
	n.log = append(n.log, d)
	return d
}

// trimLocked forgets the oldest finished entries beyond the log limit.
func (n *notifier) trimLocked() {
	for len(n.log) > maxNotificationLog {
		i := -1
		for j, d := range n.log {
			if d.finished() {
				i = j
				break
			}
		}
		if i < 0 {
			return
		}
		n.log = append(n.log[:i], n.log[i+1:]...)
	}
}

// loop starts every due attempt and sleeps until the next one is due.
func (n *notifier) loop() {
	defer n.wg.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		undecided, next := n.collect()
		for _, d := range undecided {
			n.decide(d)
		}
		if len(undecided) > 0 {
			continue // deciding may have made deliveries due
		}
		wait := time.Hour
		if !next.IsZero() {
			wait = max(time.Until(next), 0)
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(wait)
		select {
		case <-n.ctx.Done():
			return
		case <-n.wake:
		case <-timer.C:
		}
	}
}

// collect starts the sends that are due, returns the deliveries whose fault
// has not been consulted yet, and the time of the next scheduled attempt.
func (n *notifier) collect() (undecided []*delivery, next time.Time) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil, time.Time{}
	}
	now := time.Now()
	for _, d := range n.log {
		switch {
		case !d.decided:
			undecided = append(undecided, d)
		case d.inFlight || d.due.IsZero():
		case !d.due.After(now):
			d.inFlight = true
			n.wg.Add(1)
			go n.send(d)
		case next.IsZero() || d.due.Before(next):
			next = d.due
		}
	}
	return undecided, next
}

// decide consults the fault list once for a new notification. It is called
// without n.mu held, because takeNotificationFault takes the Server's lock.
func (n *notifier) decide(d *delivery) {
	drop, dup := n.s.takeNotificationFault()
	n.mu.Lock()
	defer n.mu.Unlock()
	d.decided = true
	switch {
	case drop:
		d.due = time.Time{}
		d.view.Dropped, d.view.Pending = true, false
		d.view.LastStatus = "dropped by fault"
		n.s.log.Info("sim: notification dropped by fault", "merchant", d.n.MerchantID, "id", d.view.ID)
	case dup:
		c := n.appendLocked(d.n, time.Now(), true)
		c.view.Created = d.view.Created
		n.s.log.Info("sim: notification duplicated by fault", "merchant", d.n.MerchantID, "id", d.view.ID, "copy", c.view.ID)
	}
	n.broadcastLocked()
}

// send makes one delivery attempt and schedules the next one on failure.
func (n *notifier) send(d *delivery) {
	defer n.wg.Done()
	status, ok := n.post(d.n)
	n.mu.Lock()
	defer n.mu.Unlock()
	d.inFlight = false
	d.view.Attempts++
	d.view.LastAttempt = time.Now()
	d.view.LastStatus = status
	switch {
	case ok:
		d.due = time.Time{}
		d.view.Delivered, d.view.Pending = true, false
		d.view.NextAttempt = time.Time{}
		n.s.log.Info("sim: notification delivered", "merchant", d.n.MerchantID, "id", d.view.ID, "attempts", d.view.Attempts)
	case n.closed:
		// Cancelled by Close: the attempt is counted, the retry stays due.
		d.due = time.Now()
		d.view.NextAttempt = d.due
	case d.view.Attempts-1 < len(n.retry):
		d.due = time.Now().Add(n.retry[d.view.Attempts-1])
		d.view.NextAttempt = d.due
		n.s.log.Warn("sim: notification not accepted, will retry", "merchant", d.n.MerchantID, "id", d.view.ID,
			"status", status, "attempts", d.view.Attempts, "next", d.due)
	default:
		d.due = time.Time{}
		d.view.GaveUp, d.view.Pending = true, false
		d.view.NextAttempt = time.Time{}
		n.s.log.Warn("sim: notification given up", "merchant", d.n.MerchantID, "id", d.view.ID, "attempts", d.view.Attempts)
	}
	n.broadcastLocked()
	n.poke()
}

// post sends the notification once and reports the status text and
// whether the merchant accepted it.
func (n *notifier) post(nt notification) (string, bool) {
	req, err := http.NewRequestWithContext(n.ctx, http.MethodPost, nt.URL, strings.NewReader(nt.Fields.Encode()))
	if err != nil {
		return "bad NotifyURL: " + err.Error(), false
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := n.client.Do(req)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return "cancelled: simulator closed", false
		}
		return "error: " + err.Error(), false
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return fmt.Sprint(resp.StatusCode), resp.StatusCode == http.StatusOK
}

// retryNow makes every scheduled retry due immediately.
func (n *notifier) retryNow() {
	n.mu.Lock()
	defer n.mu.Unlock()
	now := time.Now()
	for _, d := range n.log {
		if !d.finished() && !d.inFlight && !d.due.IsZero() {
			d.due = now
			d.view.NextAttempt = now
		}
	}
	n.broadcastLocked()
	n.poke()
}

// settledLocked reports whether no delivery is waiting for its fault
// decision, being attempted, or due now.
func (n *notifier) settledLocked(now time.Time) bool {
	for _, d := range n.log {
		if !d.finished() && (!d.decided || d.inFlight || !d.due.After(now)) {
			return false
		}
	}
	return true
}

// views returns a copy of the delivery log, oldest first.
func (n *notifier) views() []NotificationView {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]NotificationView, 0, len(n.log))
	for _, d := range n.log {
		v := d.view
		v.Fields = make(map[string]string, len(d.view.Fields))
		for k, val := range d.view.Fields {
			v.Fields[k] = val
		}
		v.Pending = !d.finished()
		out = append(out, v)
	}
	return out
}

// notify queues a payment notification for delivery to the merchant's
// NotifyURL (n.URL when set). It never blocks on the network and may be
// called with s.mu held.
func (s *Server) notify(nt notification) {
	if nt.URL == "" {
		if m, ok := s.merchants[nt.MerchantID]; ok {
			nt.URL = m.NotifyURL
		}
	}
	if nt.URL == "" {
		s.log.Warn("sim: merchant has no NotifyURL; notification not sent", "merchant", nt.MerchantID)
	}
	s.notifier.add(nt, time.Now())
}

// Notifications returns the notification delivery log, oldest first.
func (s *Server) Notifications() []NotificationView { return s.notifier.views() }

// RetryNotificationsNow makes every pending notification retry due at once
// instead of waiting for the retry schedule. It does not wait for the
// attempts; see FlushNotifications.
func (s *Server) RetryNotificationsNow() { s.notifier.retryNow() }

// FlushNotifications makes every scheduled retry due at once and waits
// until no notification is being attempted or due any more (each has been
// delivered, dropped, given up, or failed again and got its next retry
// scheduled), or until ctx is done. An attempt already running when it is
// called is waited for but not repeated: call it again to retry that one.
func (s *Server) FlushNotifications(ctx context.Context) error {
	n := s.notifier
	n.retryNow()
	for {
		n.mu.Lock()
		done := n.settledLocked(time.Now())
		ch, closed := n.changed, n.closed
		n.mu.Unlock()
		if done {
			return nil
		}
		if closed {
			return errors.New("sim: simulator closed")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		case <-time.After(50 * time.Millisecond):
			// A due time may pass without a change being broadcast.
		}
	}
}
