package sim

// Fault injection [SIM]: the real gateway is slow now and then, times out,
// drops connections and answers error codes; a merchant system has to end
// every such case in a clear state (design §4). Faults are applied by the
// E1–E4 handler (and, for notifications, by the notifier) and are managed
// through AddFault/ClearFaults/Faults or the control API.

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/kessai/kessai/escott"
)

// FaultKind says what an injected fault does.
type FaultKind string

// The fault kinds.
const (
	// FaultLatency delays the answer (see Fault.Latency); the call is then
	// processed normally. Several matching latency faults add up, and a
	// latency fault combines with one outcome fault.
	FaultLatency FaultKind = "latency"
	// FaultTimeout keeps the connection open without answering for Hold,
	// then closes it (TCP FIN) without a response.
	FaultTimeout FaultKind = "timeout"
	// FaultReset closes the connection with a TCP RST (SO_LINGER 0)
	// without writing anything.
	FaultReset FaultKind = "reset"
	// FaultEmptyBody answers HTTP 200 with Content-Length 0 — the client
	// records NG because there is no ResponseCd.
	FaultEmptyBody FaultKind = "empty_body"
	// FaultResponseCode answers ResponseCd instead of performing the
	// operation: no state changes (unless After is set, see Fault.After).
	FaultResponseCode FaultKind = "response_code"
	// FaultDropNotification makes the notifier lose a payment
	// notification: it is never delivered.
	FaultDropNotification FaultKind = "drop_notification"
	// FaultDuplicateNotification makes the notifier deliver a payment
	// notification twice.
	FaultDuplicateNotification FaultKind = "duplicate_notification"
)

// maxFaultHold caps how long a timeout fault keeps a connection open.
const maxFaultHold = 2 * time.Minute

// Fault is one injected misbehaviour. A call matches a fault when Op is
// empty or equals the call's OperateId; Probability then decides whether
// it applies to that call, and Times counts the calls it applied to.
//
// Latency distribution: each affected call waits Latency plus a uniformly
// distributed extra in [0, Jitter). With TailProbability p > 0 a call
// instead waits TailLatency (plus the same jitter) with probability p,
// which models a p99-style tail: {Latency: 20ms, TailProbability: 0.01,
// TailLatency: 2s} gives a p50 of 20 ms and a p99 at or near 2 s.
//
// The JSON form (control API) writes durations as Go duration strings
// ("150ms") and uses snake_case names: id, op, kind, latency, jitter,
// tail_probability, tail_latency, response_cd, after, times, probability,
// hold.
type Fault struct {
	// ID identifies the fault for removal; AddFault assigns one when empty.
	ID string
	// Op restricts the fault to one OperateId; empty means every call.
	// Ignored by the notification kinds.
	Op   escott.OperateID
	Kind FaultKind
	// Latency, Jitter, TailProbability and TailLatency shape the delay of
	// a latency fault (see the type's comment).
	Latency         time.Duration
	Jitter          time.Duration
	TailProbability float64
	TailLatency     time.Duration
	// ResponseCd is the answer of a response_code fault, e.g. "G55" or
	// "K20|K21".
	ResponseCd string
	// After applies a timeout, reset, empty_body or response_code fault
	// after the operation was performed: the gateway did it but the
	// merchant never learns the outcome (or learns a wrong one). Without
	// After the fault hits before anything is performed.
	After bool
	// Times is how many more calls the fault applies to; 0 means until it
	// is removed. Faults() shows the remaining count.
	Times int
	// Probability is the fraction of matching calls the fault applies to;
	// 0 or 1 mean every call.
	Probability float64
	// Hold is how long a timeout fault keeps the connection before
	// closing it; 0 means until the client gives up, at most 2 minutes.
	Hold time.Duration
}

// faultJSON is the wire form of Fault in the control API.
type faultJSON struct {
	ID              string           `json:"id,omitempty"`
	Op              escott.OperateID `json:"op,omitempty"`
	Kind            FaultKind        `json:"kind"`
	Latency         string           `json:"latency,omitempty"`
	Jitter          string           `json:"jitter,omitempty"`
	TailProbability float64          `json:"tail_probability,omitempty"`
	TailLatency     string           `json:"tail_latency,omitempty"`
	ResponseCd      string           `json:"response_cd,omitempty"`
	After           bool             `json:"after,omitempty"`
	Times           int              `json:"times,omitempty"`
	Probability     float64          `json:"probability,omitempty"`
	Hold            string           `json:"hold,omitempty"`
}

func durString(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return d.String()
}

// MarshalJSON writes the control API form of f.
func (f Fault) MarshalJSON() ([]byte, error) {
	return json.Marshal(faultJSON{
		ID: f.ID, Op: f.Op, Kind: f.Kind,
		Latency: durString(f.Latency), Jitter: durString(f.Jitter),
		TailProbability: f.TailProbability, TailLatency: durString(f.TailLatency),
		ResponseCd: f.ResponseCd, After: f.After, Times: f.Times,
		Probability: f.Probability, Hold: durString(f.Hold),
	})
}

// UnmarshalJSON reads the control API form of a fault. Unknown fields and
// malformed durations are errors, so a typo never silently yields a fault
// that does nothing.
func (f *Fault) UnmarshalJSON(b []byte) error {
	var j faultJSON
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return err
	}
	out := Fault{ID: j.ID, Op: j.Op, Kind: j.Kind, TailProbability: j.TailProbability,
		ResponseCd: j.ResponseCd, After: j.After, Times: j.Times, Probability: j.Probability}
	for _, d := range []struct {
		name string
		in   string
		out  *time.Duration
	}{{"latency", j.Latency, &out.Latency}, {"jitter", j.Jitter, &out.Jitter}, {"tail_latency", j.TailLatency, &out.TailLatency}, {"hold", j.Hold, &out.Hold}} {
		if d.in == "" {
			continue
		}
		v, err := time.ParseDuration(d.in)
		if err != nil {
			return fmt.Errorf("%s: %v", d.name, err)
		}
		*d.out = v
	}
	*f = out
	return nil
}

// validate checks a fault given through the control API.
func (f Fault) validate() error {
	switch f.Kind {
	case FaultLatency, FaultTimeout, FaultReset, FaultEmptyBody, FaultResponseCode,
		FaultDropNotification, FaultDuplicateNotification:
	case "":
		return errors.New("kind is required")
	default:
		return fmt.Errorf("unknown kind %q", f.Kind)
	}
	if f.Op != "" && endpointOf(f.Op) == 0 {
		return fmt.Errorf("op %q is not an E1–E4 OperateId", f.Op)
	}
	for name, d := range map[string]time.Duration{"latency": f.Latency, "jitter": f.Jitter, "tail_latency": f.TailLatency, "hold": f.Hold} {
		if d < 0 {
			return fmt.Errorf("%s must not be negative", name)
		}
	}
	if f.Probability < 0 || f.Probability > 1 || f.TailProbability < 0 || f.TailProbability > 1 {
		return errors.New("probabilities must be between 0 and 1")
	}
	if f.Times < 0 {
		return errors.New("times must not be negative")
	}
	if f.Kind == FaultResponseCode && !validCodeList(f.ResponseCd) {
		return errors.New(`response_cd must be one or more codes joined by "|", e.g. "G55" or "K20|K21"`)
	}
	if f.Kind == FaultLatency && f.Latency == 0 && f.Jitter == 0 && f.TailLatency == 0 {
		return errors.New("a latency fault needs latency, jitter or tail_latency")
	}
	return nil
}

// validCodeList reports whether s looks like a ResponseCd: codes of 2–3
// upper-case letters and digits joined by '|'.
func validCodeList(s string) bool {
	if s == "" {
		return false
	}
	for part := range strings.SplitSeq(s, "|") {
		if len(part) < 2 || len(part) > 3 {
			return false
		}
		for i := 0; i < len(part); i++ {
			c := part[i]
			if !('A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
				return false
			}
		}
	}
	return true
}

// AddFault installs a fault and returns its id. A fault with the id of an
// existing one replaces it. A hold above 2 minutes is capped.
func (s *Server) AddFault(f Fault) string {
	if f.Hold > maxFaultHold {
		f.Hold = maxFaultHold
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.ID == "" {
		f.ID = "f" + randAlnum(10)
	}
	for i, g := range s.faults {
		if g.ID == f.ID {
			s.faults[i] = &f
			return f.ID
		}
	}
	s.faults = append(s.faults, &f)
	return f.ID
}

// RemoveFault removes the fault with this id and reports whether it
// existed.
func (s *Server) RemoveFault(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.ID == id {
			s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			return true
		}
	}
	return false
}

// ClearFaults removes every fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	s.faults = nil
	s.mu.Unlock()
}

// Faults returns copies of the installed faults, in the order they were
// added, with the remaining Times.
func (s *Server) Faults() []Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Fault, 0, len(s.faults))
	for _, f := range s.faults {
		out = append(out, *f)
	}
	return out
}

// fires decides whether a matching fault applies to this call.
func (f *Fault) fires() bool {
	return f.Probability <= 0 || f.Probability >= 1 || rand.Float64() < f.Probability
}

// delay draws the latency of one call (see the Fault comment).
func (f *Fault) delay() time.Duration {
	d := f.Latency
	if f.TailProbability > 0 && rand.Float64() < f.TailProbability {
		d = f.TailLatency
	}
	if f.Jitter > 0 {
		d += time.Duration(rand.Int64N(int64(f.Jitter)))
	}
	return d
}

func (f *Fault) isNotification() bool {
	return f.Kind == FaultDropNotification || f.Kind == FaultDuplicateNotification
}

// faultPlan is what the faults decided for one call.
type faultPlan struct {
	delay   time.Duration
	outcome *Fault // a copy; nil for none
}

// pickFaults decides, for a call with this OperateId, the total injected
// latency and the first applying outcome fault (timeout, reset,
// empty_body, response_code), consuming one use of each applied fault.
func (s *Server) pickFaults(op escott.OperateID) faultPlan {
	s.mu.Lock()
	defer s.mu.Unlock()
	var plan faultPlan
	var spent []*Fault
	for _, f := range s.faults {
		if f.isNotification() || (f.Op != "" && f.Op != op) {
			continue
		}
		if f.Kind == FaultLatency {
			if f.fires() {
				plan.delay += f.delay()
				spent = s.consumeLocked(f, spent)
			}
			continue
		}
		if plan.outcome == nil && f.fires() {
			c := *f
			plan.outcome = &c
			spent = s.consumeLocked(f, spent)
		}
	}
	s.removeLocked(spent)
	return plan
}

// consumeLocked counts one use of f and notes it for removal when its
// Times run out.
func (s *Server) consumeLocked(f *Fault, spent []*Fault) []*Fault {
	if f.Times > 0 {
		f.Times--
		if f.Times == 0 {
			spent = append(spent, f)
		}
	}
	return spent
}

func (s *Server) removeLocked(spent []*Fault) {
	if len(spent) == 0 {
		return
	}
	kept := s.faults[:0]
	for _, f := range s.faults {
		if !containsPtr(spent, f) {
			kept = append(kept, f)
		}
	}
	clear(s.faults[len(kept):])
	s.faults = kept
}

func containsPtr(list []*Fault, f *Fault) bool {
	for _, g := range list {
		if g == f {
			return true
		}
	}
	return false
}

// takeNotificationFault is called by the notifier once per notification
// before delivering it: drop means never deliver it, duplicate means
// deliver it twice. Each applied fault is consumed like the others.
func (s *Server) takeNotificationFault() (drop, duplicate bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var spent []*Fault
	for _, f := range s.faults {
		switch {
		case f.Kind == FaultDropNotification && !drop && f.fires():
			drop = true
			spent = s.consumeLocked(f, spent)
		case f.Kind == FaultDuplicateNotification && !duplicate && !drop && f.fires():
			duplicate = true
			spent = s.consumeLocked(f, spent)
		}
		if drop {
			break
		}
	}
	s.removeLocked(spent)
	if drop {
		duplicate = false
	}
	return drop, duplicate
}

// wait sleeps the injected latency; false means the client went away.
func (p faultPlan) wait(r *http.Request) bool {
	if p.delay <= 0 {
		return true
	}
	t := time.NewTimer(p.delay)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// applyOutcome carries out an outcome fault on the connection. answer is
// what a response_code fault writes.
func (s *Server) applyOutcome(w http.ResponseWriter, r *http.Request, f *Fault, answer escott.Params) {
	switch f.Kind {
	case FaultTimeout:
		hold := f.Hold
		if hold <= 0 || hold > maxFaultHold {
			hold = maxFaultHold
		}
		t := time.NewTimer(hold)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
		}
		abortConnection(w)
	case FaultReset:
		resetConnection(w)
	case FaultEmptyBody:
		h := w.Header()
		h.Set("Content-Type", "text/plain; charset=UTF-8")
		h.Set("Content-Length", "0")
		h.Set("Connection", "close")
		w.WriteHeader(http.StatusOK)
	default: // FaultResponseCode
		s.writeAnswer(w, answer)
	}
}

// abortConnection closes the connection without writing a response (a
// normal close, TCP FIN).
func abortConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// Not hijackable (HTTP/2, a recorder): make the server drop it.
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

// resetConnection closes the connection with SO_LINGER 0, so the peer
// sees a TCP RST ("connection reset by peer") instead of an orderly close.
func resetConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tcp := tcpConnOf(conn); tcp != nil {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}

// tcpConnOf unwraps TLS and similar wrappers down to the TCP connection.
func tcpConnOf(c net.Conn) *net.TCPConn {
	for range 8 {
		switch x := c.(type) {
		case *net.TCPConn:
			return x
		case interface{ NetConn() net.Conn }:
			c = x.NetConn()
		default:
			return nil
		}
	}
	return nil
}
