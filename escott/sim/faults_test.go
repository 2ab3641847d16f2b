package sim

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kessai/kessai/escott"
)

// rawPost sends a request with a client of its own (timeout, no reuse) and
// returns the response or the transport error.
func (h *harness) rawPost(timeout time.Duration, op escott.OperateID, kv ...string) (*http.Response, []byte, error) {
	c := &http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Post(h.ts.URL+endpointOf(op).Path(), "application/x-www-form-urlencoded",
		strings.NewReader(h.params(op, kv...).Encode()))
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

func (h *harness) authKV() []string {
	return []string{"Token", h.token(DemoCard), "Amount", "100", "PayType", "01"}
}

func TestFaultLatency(t *testing.T) {
	h := newHarness(t)
	h.s.AddFault(Fault{Kind: FaultLatency, Op: escott.OpAuth, Latency: 400 * time.Millisecond, Times: 1})
	start := time.Now()
	h.do(escott.OpSearch) // another op: no delay
	if d := time.Since(start); d > 250*time.Millisecond {
		t.Fatalf("unaffected op took %v", d)
	}
	kv := h.authKV()
	start = time.Now()
	h.must(escott.OpAuth, kv...)
	if d := time.Since(start); d < 400*time.Millisecond {
		t.Fatalf("delayed op took only %v", d)
	}
	if n := len(h.s.Faults()); n != 0 {
		t.Fatalf("fault with Times 1 still installed (%d)", n)
	}
}

func TestFaultLatencyDistribution(t *testing.T) {
	f := Fault{Kind: FaultLatency, Latency: 10 * time.Millisecond, Jitter: 5 * time.Millisecond}
	for range 1000 {
		if d := f.delay(); d < 10*time.Millisecond || d >= 15*time.Millisecond {
			t.Fatalf("delay %v outside [10ms, 15ms)", d)
		}
	}
	f = Fault{Kind: FaultLatency, Latency: time.Millisecond, TailProbability: 0.1, TailLatency: time.Second}
	tail := 0
	for range 10000 {
		switch f.delay() {
		case time.Second:
			tail++
		case time.Millisecond:
		default:
			t.Fatal("unexpected delay")
		}
	}
	if tail < 800 || tail > 1200 {
		t.Fatalf("%d tail delays of 10000, want about 1000", tail)
	}
}

func TestFaultTimeoutBefore(t *testing.T) {
	h := newHarness(t)
	h.s.AddFault(Fault{Kind: FaultTimeout, Op: escott.OpAuth, Times: 1})
	start := time.Now()
	_, _, err := h.rawPost(300*time.Millisecond, escott.OpAuth, h.authKV()...)
	if err == nil || time.Since(start) < 300*time.Millisecond {
		t.Fatalf("want a client timeout, got %v after %v", err, time.Since(start))
	}
	if n := len(h.s.Transactions(h.mid, "test")); n != 0 {
		t.Fatalf("the operation was performed: %d transactions", n)
	}
}

// TestFaultTimeoutAfter: the gateway performed the authorisation but the
// answer never arrives (the connection is closed after Hold).
func TestFaultTimeoutAfter(t *testing.T) {
	h := newHarness(t)
	h.s.AddFault(Fault{Kind: FaultTimeout, Op: escott.OpAuth, After: true, Hold: 100 * time.Millisecond})
	_, _, err := h.rawPost(5*time.Second, escott.OpAuth, h.authKV()...)
	if err == nil {
		t.Fatal("got an answer")
	}
	if !errors.Is(err, io.EOF) && !strings.Contains(err.Error(), "EOF") {
		t.Fatalf("want EOF, got %v", err)
	}
	txns := h.s.Transactions(h.mid, "test")
	if len(txns) != 1 || txns[0].Status != "AUTH" {
		t.Fatalf("transactions %+v", txns)
	}
}

func TestFaultReset(t *testing.T) {
	h := newHarness(t)
	h.s.AddFault(Fault{Kind: FaultReset, Op: escott.OpGathering, After: true})
	_, _, err := h.rawPost(5*time.Second, escott.OpGathering, h.authKV()...)
	if err == nil {
		t.Fatal("got an answer")
	}
	if !errors.Is(err, syscall.ECONNRESET) && !strings.Contains(err.Error(), "reset") && !strings.Contains(err.Error(), "EOF") {
		t.Fatalf("want a connection reset, got %v", err)
	}
	if n := len(h.s.Transactions(h.mid, "test")); n != 1 {
		t.Fatalf("%d transactions after an After reset", n)
	}
	// Before: nothing performed. Seen on a raw connection: RST, no bytes.
	h.s.AddFault(Fault{Kind: FaultReset})
	conn, err := net.Dial("tcp", h.ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := h.params(escott.OpSearch).Encode()
	_, _ = conn.Write([]byte("POST " + escott.PathCard + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\n\r\n" + body))
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	b, err := io.ReadAll(conn)
	if len(b) != 0 || !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("read %q, %v; want nothing and ECONNRESET", b, err)
	}
}

func TestFaultEmptyBody(t *testing.T) {
	h := newHarness(t)
	h.s.AddFault(Fault{Kind: FaultEmptyBody, Times: 2})
	for range 2 {
		resp, b, err := h.rawPost(5*time.Second, escott.OpSearch)
		if err != nil || resp.StatusCode != 200 || len(b) != 0 || resp.Header.Get("Content-Length") != "0" {
			t.Fatalf("resp %v body %q err %v", resp, b, err)
		}
		if _, perr := escott.ParseResponse(b); !errors.Is(perr, escott.ErrEmptyBody) {
			t.Fatalf("client parse: %v", perr)
		}
	}
	wantCode(t, h.do(escott.OpSearch), "K10|K11")
}

func TestFaultResponseCode(t *testing.T) {
	h := newHarness(t)
	h.s.AddFault(Fault{Kind: FaultResponseCode, Op: escott.OpAuth, ResponseCd: "G55", Times: 1})
	a := h.do(escott.OpAuth, h.authKV()...)
	wantCode(t, a, "G55")
	if a.Get("OperateId") != "1Auth" || a.Get("MerchantFree1") != "000482917365" || a.Get("TransactionId") == "" {
		t.Fatalf("answer %v", a)
	}
	if n := len(h.s.Transactions(h.mid, "test")); n != 0 {
		t.Fatalf("the operation was performed: %d transactions", n)
	}
	// Several codes.
	h.s.AddFault(Fault{Kind: FaultResponseCode, ResponseCd: "K20|K21", Times: 1})
	wantCode(t, h.do(escott.OpAuth, h.authKV()...), "K20|K21")
	// After: performed, but answered with the code.
	h.s.AddFault(Fault{Kind: FaultResponseCode, ResponseCd: "K96", After: true, Times: 1})
	wantCode(t, h.do(escott.OpAuth, h.authKV()...), "K96")
	if n := len(h.s.Transactions(h.mid, "test")); n != 1 {
		t.Fatalf("%d transactions after an After response_code", n)
	}
	// No fault left: normal answers again.
	h.must(escott.OpAuth, h.authKV()...)
}

func TestFaultSelection(t *testing.T) {
	h := newHarness(t)
	// The first matching outcome fault wins; a latency fault combines.
	h.s.AddFault(Fault{ID: "lat", Kind: FaultLatency, Latency: 50 * time.Millisecond})
	h.s.AddFault(Fault{ID: "cap", Kind: FaultResponseCode, Op: escott.OpCapture, ResponseCd: "C02"})
	h.s.AddFault(Fault{ID: "all", Kind: FaultResponseCode, ResponseCd: "C03"})
	start := time.Now()
	wantCode(t, h.do(escott.OpCapture), "C02")
	if time.Since(start) < 50*time.Millisecond {
		t.Fatal("latency not combined")
	}
	wantCode(t, h.do(escott.OpSearch), "C03")
	// Replacing by id.
	h.s.AddFault(Fault{ID: "all", Kind: FaultResponseCode, ResponseCd: "C99"})
	wantCode(t, h.do(escott.OpSearch), "C99")
	if len(h.s.Faults()) != 3 {
		t.Fatalf("faults %+v", h.s.Faults())
	}
	if !h.s.RemoveFault("all") || h.s.RemoveFault("all") {
		t.Fatal("RemoveFault")
	}
	h.s.ClearFaults()
	wantCode(t, h.do(escott.OpSearch), "K10|K11")
}

func TestFaultProbabilityAndTimes(t *testing.T) {
	h := newHarness(t)
	h.s.AddFault(Fault{Kind: FaultResponseCode, ResponseCd: "C02", Probability: 0.5})
	hit := 0
	for range 2000 {
		if p := h.s.pickFaults(escott.OpAuth); p.outcome != nil {
			hit++
		}
	}
	if hit < 850 || hit > 1150 {
		t.Fatalf("%d of 2000 calls hit, want about 1000", hit)
	}
	h.s.ClearFaults()
	h.s.AddFault(Fault{Kind: FaultResponseCode, ResponseCd: "C02", Times: 3})
	hit = 0
	for range 10 {
		if p := h.s.pickFaults(escott.OpAuth); p.outcome != nil {
			hit++
		}
	}
	if hit != 3 || len(h.s.Faults()) != 0 {
		t.Fatalf("Times 3 applied %d times, %d faults left", hit, len(h.s.Faults()))
	}
	// Times counts only the calls it applied to.
	h.s.AddFault(Fault{Kind: FaultResponseCode, Op: escott.OpCapture, ResponseCd: "C02", Times: 2})
	h.s.pickFaults(escott.OpAuth)
	if f := h.s.Faults(); len(f) != 1 || f[0].Times != 2 {
		t.Fatalf("faults %+v", f)
	}
}

func TestNotificationFaults(t *testing.T) {
	h := newHarness(t)
	if d, u := h.s.takeNotificationFault(); d || u {
		t.Fatal("fault without any installed")
	}
	// Notification faults do not touch E1–E4 calls and vice versa.
	h.s.AddFault(Fault{Kind: FaultDropNotification, Times: 1})
	h.s.AddFault(Fault{Kind: FaultDuplicateNotification, Times: 2})
	h.s.AddFault(Fault{Kind: FaultResponseCode, ResponseCd: "C02"})
	wantCode(t, h.do(escott.OpSearch), "C02")
	if d, u := h.s.takeNotificationFault(); !d || u {
		t.Fatalf("first: drop=%v dup=%v", d, u)
	}
	for range 2 {
		if d, u := h.s.takeNotificationFault(); d || !u {
			t.Fatalf("then: drop=%v dup=%v", d, u)
		}
	}
	if d, u := h.s.takeNotificationFault(); d || u {
		t.Fatal("faults not consumed")
	}
	if n := len(h.s.Faults()); n != 1 {
		t.Fatalf("%d faults left", n)
	}
}

// TestNotificationFaultsEndToEnd: a dropped notification never arrives, a
// duplicated one arrives twice.
func TestNotificationFaultsEndToEnd(t *testing.T) {
	recv := newReceiver(t)
	h := newHarness(t, withNotify(recv.ts.URL))
	h.s.AddFault(Fault{Kind: FaultDropNotification, Times: 1})
	h.s.AddFault(Fault{Kind: FaultDuplicateNotification, Times: 1})
	a, b := h.cvsAdd(), h.cvsAdd()
	if err := h.s.PayCollection(h.mid, "test", a.Get("FreeArea"), "SEV"); err != nil {
		t.Fatal(err)
	}
	if err := h.s.PayCollection(h.mid, "test", b.Get("FreeArea"), "FAM"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.s.FlushNotifications(ctx); err != nil {
		t.Fatal(err)
	}
	got := recv.all()
	if len(got) != 2 || got[0].Get("CvsCd") != "FAM" || got[1].Get("CvsCd") != "FAM" {
		t.Fatalf("received %v", got)
	}
}

func TestFaultJSON(t *testing.T) {
	in := `{"op":"1Auth","kind":"latency","latency":"150ms","jitter":"20ms","tail_probability":0.01,"tail_latency":"2s","times":3,"probability":0.5}`
	var f Fault
	if err := json.Unmarshal([]byte(in), &f); err != nil {
		t.Fatal(err)
	}
	if f.Latency != 150*time.Millisecond || f.Jitter != 20*time.Millisecond || f.TailLatency != 2*time.Second ||
		f.TailProbability != 0.01 || f.Times != 3 || f.Probability != 0.5 || f.Op != escott.OpAuth {
		t.Fatalf("%+v", f)
	}
	if err := f.validate(); err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(f)
	var back Fault
	if err := json.Unmarshal(out, &back); err != nil || back != f {
		t.Fatalf("round trip %s → %+v (%v)", out, back, err)
	}
	bad := []string{
		`{"kind":"latency","latency":"fast"}`,
		`{"kind":"latency","latncy":"1s"}`,
		`{"kind":"latency"}`,
		`{"kind":"explode"}`,
		`{}`,
		`{"kind":"response_code"}`,
		`{"kind":"response_code","response_cd":"g55"}`,
		`{"kind":"response_code","response_cd":"G55|"}`,
		`{"kind":"timeout","hold":"-1s"}`,
		`{"kind":"timeout","probability":2}`,
		`{"kind":"timeout","times":-1}`,
		`{"kind":"timeout","op":"3Secure"}`,
	}
	for _, b := range bad {
		var f Fault
		err := json.Unmarshal([]byte(b), &f)
		if err == nil {
			err = f.validate()
		}
		if err == nil {
			t.Errorf("%s: accepted", b)
		}
	}
}
