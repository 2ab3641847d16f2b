package sim

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kessai/kessai/escott"
)

// burst sends m 1Auth calls at once and returns how long the whole burst
// took and how many answered OK.
func (h *harness) burst(m int) (time.Duration, int) {
	h.t.Helper()
	bodies := make([]string, m)
	for i := range bodies {
		bodies[i] = h.params(escott.OpAuth, h.authKV()...).Encode()
	}
	var mu sync.Mutex
	ok := 0
	var wg sync.WaitGroup
	start := time.Now()
	for _, body := range bodies {
		wg.Go(func() {
			resp, err := http.Post(h.ts.URL+escott.EndpointCard.Path(), "application/x-www-form-urlencoded", strings.NewReader(body))
			if err != nil {
				h.t.Error(err)
				return
			}
			defer resp.Body.Close()
			if h.readAnswer(resp).Get("ResponseCd") == "OK" {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return time.Since(start), ok
}

// TestMaxConcurrent: with a cap of n and every call taking the latency L,
// 3n calls sent at once are all served, never more than n at a time, so
// the burst takes at least 3 L; the calls beyond the cap queued.
func TestMaxConcurrent(t *testing.T) {
	const n, m, latency = 3, 9, 100 * time.Millisecond
	created := time.Now()
	h := newHarness(t, func(c *Config) { c.MaxConcurrent = n })
	h.s.AddFault(Fault{Kind: FaultLatency, Latency: latency})
	took, ok := h.burst(m)
	if ok != m {
		t.Fatalf("%d of %d calls answered OK", ok, m)
	}
	// Independent of the counters: had more than n been served at once,
	// the m calls would have needed fewer than m/n rounds of the latency.
	if min := time.Duration(m/n) * latency; took < min {
		t.Errorf("%d calls took %v with a cap of %d, want at least %v", m, took, n, min)
	}
	st := h.s.CallStats()
	if st.MaxConcurrent != n || st.Served != m || st.PeakInFlight != n || st.InFlight != 0 || st.Queued != 0 {
		t.Errorf("stats %+v: want cap %d, %d served, peak %d, nothing in flight or queued", st, n, m, n)
	}
	// All m arrive within a few ms of each other, far less than the
	// latency, so exactly the first n find a free slot.
	if st.Waited != m-n || st.PeakQueued != m-n {
		t.Errorf("waited %d, peak queue %d; want %d and %d", st.Waited, st.PeakQueued, m-n, m-n)
	}
	if st.WaitTime < time.Duration(m-n)*latency || st.BusyTime < time.Duration(m)*latency {
		t.Errorf("wait time %v, busy time %v: want at least %v and %v", st.WaitTime, st.BusyTime,
			time.Duration(m-n)*latency, time.Duration(m)*latency)
	}
	if got := len(h.s.Transactions(h.mid, h.env)); got != m {
		t.Errorf("%d transactions, want %d", got, m)
	}
	// Slot time adds up: busy, idle (before and after the burst) and
	// hand-off cover the cap over the simulator's life so far. The
	// hand-offs, 6 of them, are scheduling delays: far below a latency.
	st = h.s.CallStats()
	total := st.BusyTime + st.IdleTime + st.HandoffTime
	if lived := time.Since(created); total > n*lived || total < n*took {
		t.Errorf("busy %v + idle %v + hand-off %v = %v, want between %v and %v", st.BusyTime, st.IdleTime, st.HandoffTime,
			total, n*took, n*lived)
	}
	if st.IdleTime <= 0 || st.HandoffTime >= latency {
		t.Errorf("idle %v, hand-off %v", st.IdleTime, st.HandoffTime)
	}

	// The counters over the control API, then reset.
	req, _ := http.NewRequest(http.MethodDelete, h.ts.URL+"/_sim/calls", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got CallStats
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("DELETE /_sim/calls: %d %v", resp.StatusCode, err)
	}
	if got.Served != 0 || got.PeakInFlight != 0 || got.MaxConcurrent != n {
		t.Errorf("after reset: %+v", got)
	}
}

// TestMaxConcurrentGiveUp: a call whose client gives up while it is
// queued is never performed and not counted as served.
func TestMaxConcurrentGiveUp(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.MaxConcurrent = 1 })
	h.s.AddFault(Fault{Kind: FaultLatency, Latency: 400 * time.Millisecond})
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.must(escott.OpAuth, h.authKV()...) // holds the only slot
	}()
	for h.s.CallStats().InFlight == 0 {
		time.Sleep(time.Millisecond)
	}
	if _, _, err := h.rawPost(100*time.Millisecond, escott.OpAuth, h.authKV()...); err == nil {
		t.Fatal("the queued call was answered before the slot freed")
	}
	<-done
	// The server notices the departed client when its context ends; give
	// the handler a moment to leave the queue.
	deadline := time.Now().Add(2 * time.Second)
	for h.s.CallStats().Queued != 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	st := h.s.CallStats()
	if st.Served != 1 || st.Queued != 0 || st.Waited != 0 {
		t.Errorf("stats %+v: want 1 served, none queued or admitted after waiting", st)
	}
	if got := len(h.s.Transactions(h.mid, h.env)); got != 1 {
		t.Errorf("%d transactions, want 1", got)
	}
}

// TestNoCapCountsPeak: without a cap every call is served at once and the
// peak shows it.
func TestNoCapCountsPeak(t *testing.T) {
	const m, latency = 6, 150 * time.Millisecond
	h := newHarness(t)
	h.s.AddFault(Fault{Kind: FaultLatency, Latency: latency})
	took, ok := h.burst(m)
	if ok != m || took >= 2*latency {
		t.Fatalf("%d of %d OK in %v", ok, m, took)
	}
	if st := h.s.CallStats(); st.MaxConcurrent != 0 || st.Served != m || st.PeakInFlight != m || st.Waited != 0 {
		t.Errorf("stats %+v", st)
	}
	if _, err := New(Config{MaxConcurrent: -1}); err == nil {
		t.Error("a negative MaxConcurrent was accepted")
	}
}

// TestAddMember: a member registered directly is used by 4MemRefM and a
// member payment, and AddMember applies 4MemAdd's checks.
func TestAddMember(t *testing.T) {
	h := newHarness(t)
	if err := h.s.AddMember(h.mid, "test", "kbench1i0000001", "123456789012", "4012000000000008", "2812"); err != nil {
		t.Fatal(err)
	}
	kv := []string{"KaiinId", "kbench1i0000001", "KaiinPass", "123456789012"}
	if a := h.must(escott.OpMemRefM, kv...); a.Get("CardNo") != "4012********0008" {
		t.Errorf("4MemRefM: %v", a)
	}
	h.must(escott.OpGathering, append(kv, "Amount", "1000", "PayType", "01")...)
	for _, c := range []struct{ id, pass, number, exp, code string }{
		{"kbench1i0000001", "123456789012", "4012000000000008", "2812", "K69"},
		{"bad-id", "123456789012", "4012000000000008", "2812", "K45"},
		{"kbench2", "", "4012000000000008", "2812", "K46"},
		{"kbench2", "1", "4012000000000009", "2812", "K82"},
		{"kbench2", "1", "4012000000000008", "2001", "K83"},
	} {
		err := h.s.AddMember(h.mid, "test", c.id, c.pass, c.number, c.exp)
		if err == nil || !strings.Contains(err.Error(), c.code) {
			t.Errorf("AddMember(%s, %s, %s): %v, want %s", c.id, c.number, c.exp, err, c.code)
		}
	}
	if err := h.s.AddMember(restrictedMerchant.MerchantID, "test", "kbench3", "1", "4012000000000008", "2812"); err == nil {
		t.Error("a merchant without members accepted one")
	}
}
