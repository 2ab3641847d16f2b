package conformance

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/escott/sim"
)

// TestFaultLatency: a latency fault delays the answer, which is otherwise
// normal; it applies only to its OperateId and only Times times.
func TestFaultLatency(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a := f.auth(visaOK, false, 1000)
	f.sim.AddFault(sim.Fault{Kind: sim.FaultLatency, Op: escott.OpSearch, Latency: 200 * time.Millisecond, Times: 1})

	// Another OperateId is not affected (and does not use up the fault).
	if _, err := f.c.TokenSearch(f.ctx, escott.Ref{}, f.token(visaOK)); err != nil {
		t.Fatal(err)
	}
	if len(f.sim.Faults()) != 1 {
		t.Fatal("fault consumed by another OperateId")
	}
	start := time.Now()
	res, err := f.c.Search(f.ctx, escott.Ref{}, a.Process)
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Fatalf("answered after %v, want ≥ 200ms", d)
	}
	wantOK(t, err)
	if res.Amount != 1000 {
		t.Fatalf("amount %d", res.Amount)
	}
	if len(f.sim.Faults()) != 0 {
		t.Fatalf("fault not used up: %+v", f.sim.Faults())
	}
}

// TestFaultLatencyBeyondClientTimeout: the client gives up during the
// injected latency; the simulator notices the closed connection and
// performs nothing. The client cannot know that, so the attempt is
// uncertain.
func TestFaultLatencyBeyondClientTimeout(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.sim.AddFault(sim.Fault{Kind: sim.FaultLatency, Op: escott.OpAuth, Latency: 400 * time.Millisecond})
	c := f.client(f.c.Merchant(), func(cfg *escott.Config) {
		cfg.HTTPClient = &http.Client{Transport: escott.NewTransport(escott.TransportOptions{ReadTimeout: 50 * time.Millisecond})}
	})
	tok := f.token(visaOK)
	_, err := c.Authorize(f.ctx, escott.AuthRequest{Ref: f.ref("o"), Amount: 1000, Token: tok})
	if !isNoAnswer(err) || !escott.IsUncertain(err) {
		t.Fatalf("want an uncertain NG, got %v", err)
	}
	// Wait past the latency: the simulator must not have run the call.
	time.Sleep(600 * time.Millisecond)
	if n := len(f.sim.Transactions(demoID, "test")); n != 0 {
		t.Fatalf("%d transactions after the client gave up during latency", n)
	}
	f.sim.ClearFaults()
	if _, err := f.c.TokenSearch(f.ctx, escott.Ref{}, tok); err != nil {
		t.Fatalf("token consumed: %v", err)
	}
}

// TestFaultOutcomes runs 1Auth under each outcome fault, before and after
// the operation. Before: no usable answer (or the injected code) and the
// simulator has nothing. After: the same for the client, but the
// simulator performed the authorisation — the lost-answer case the client
// reports as uncertain.
func TestFaultOutcomes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		fault sim.Fault
		// clientTimeout, when set, is the client's read timeout (the
		// fault holds the connection until the client gives up).
		clientTimeout time.Duration
		code          string // "" = client-side NG
		cause         error  // wrapped by the NG, when known
	}{
		{"timeout hold", sim.Fault{Kind: sim.FaultTimeout, Hold: 100 * time.Millisecond}, 0, "", nil},
		{"timeout until the client gives up", sim.Fault{Kind: sim.FaultTimeout}, 100 * time.Millisecond, "", nil},
		{"reset", sim.Fault{Kind: sim.FaultReset}, 0, "", nil},
		{"empty body", sim.Fault{Kind: sim.FaultEmptyBody}, 0, "", escott.ErrEmptyBody},
		{"response code", sim.Fault{Kind: sim.FaultResponseCode, ResponseCd: "C03"}, 0, "C03", nil},
	}
	for _, tc := range cases {
		for _, after := range []bool{false, true} {
			name := tc.name + map[bool]string{false: "/before", true: "/after"}[after]
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				f := newFixture(t)
				c := f.c
				if tc.clientTimeout > 0 {
					c = f.client(f.c.Merchant(), func(cfg *escott.Config) {
						cfg.HTTPClient = &http.Client{Transport: escott.NewTransport(escott.TransportOptions{ReadTimeout: tc.clientTimeout})}
					})
				}
				fault := tc.fault
				fault.Op, fault.After, fault.Times = escott.OpAuth, after, 1
				f.sim.AddFault(fault)
				tok := f.token(visaOK)
				ref := f.ref("o-fault")
				res, err := c.Authorize(f.ctx, escott.AuthRequest{Ref: ref, Amount: 2500, Token: tok})
				if tc.code == "" {
					if res != nil || !isNoAnswer(err) {
						t.Fatalf("want NG, got %v / %v", res, err)
					}
					// The request was written: whatever the fault, the
					// client cannot rule out that it was processed.
					if !escott.IsUncertain(err) {
						t.Fatalf("IsUncertain false for %v", err)
					}
					if e, _ := escott.AsError(err); e.Class().Retryable() {
						t.Fatal("NG must not be retryable")
					}
					if tc.cause != nil && !errors.Is(err, tc.cause) {
						t.Fatalf("cause %v, want %v", err, tc.cause)
					}
				} else {
					e := wantCode(t, err, tc.code)
					if escott.IsUncertain(err) || e.Class() != escott.ClassTemporary || !e.Class().Retryable() {
						t.Fatalf("injected %s: uncertain=%v class=%v", tc.code, escott.IsUncertain(err), e.Class())
					}
				}
				txns := f.sim.Transactions(demoID, "test")
				_, tokErr := f.c.TokenSearch(f.ctx, escott.Ref{}, tok)
				if !after {
					if len(txns) != 0 {
						t.Fatalf("fault before processing, but the simulator has %+v", txns)
					}
					if tokErr != nil {
						t.Fatalf("token consumed although nothing ran: %v", tokErr)
					}
				} else {
					// The lost answer: the authorisation exists, and the
					// merchant can find it by its MerchantFree1.
					if len(txns) != 1 || txns[0].Status != "AUTH" || txns[0].Amount != 2500 || txns[0].MerchantFree1 != ref.MerchantFree1 {
						t.Fatalf("fault after processing, simulator has %+v", txns)
					}
					if !hasCode(tokErr, "KI2") {
						t.Fatalf("token after the lost answer: %v", tokErr)
					}
					// Its handle (from the simulator, as an operator would
					// read it in the console) still works.
					pr := escott.Process{ProcessID: txns[0].ProcessID, ProcessPass: txns[0].ProcessPass}
					if _, err := f.c.Delete(f.ctx, escott.FollowUp{Process: pr}); err != nil {
						t.Fatalf("voiding the lost authorisation: %v", err)
					}
				}
				if len(f.sim.Faults()) != 0 {
					t.Fatal("Times: 1 fault not used up")
				}
				// The next call is normal.
				if _, err := c.Authorize(f.ctx, escott.AuthRequest{Ref: f.ref("o-next"), Amount: 100, Token: f.token(visaOK)}); err != nil {
					t.Fatalf("call after the fault: %v", err)
				}
			})
		}
	}
}

// TestFaultContextCancel: a caller's deadline ends a call that the
// simulator holds; the error is NG and wraps the context error.
func TestFaultContextCancel(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.sim.AddFault(sim.Fault{Kind: sim.FaultTimeout, Op: escott.OpSearch})
	a := f.auth(visaOK, false, 1000)
	ctx, cancel := context.WithTimeout(f.ctx, 100*time.Millisecond)
	defer cancel()
	_, err := f.c.Search(ctx, escott.Ref{}, a.Process)
	if !isNoAnswer(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want NG wrapping the deadline, got %v", err)
	}
}

// TestFaultResponseCodeMultiple: an injected multi-code answer reaches the
// client split, and ClassOf picks the decisive class.
func TestFaultResponseCodeMultiple(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.sim.AddFault(sim.Fault{Kind: sim.FaultResponseCode, Op: escott.OpAuth, ResponseCd: "K20|G55", Times: 1})
	_, err := f.c.Authorize(f.ctx, escott.AuthRequest{Amount: 100, Token: f.token(visaOK)})
	e := wantCode(t, err, "K20", "G55")
	if e.Class() != escott.ClassIssuerDecline {
		t.Fatalf("class %v", e.Class())
	}
	// The shopper is told about the field to correct first.
	if ja, _ := escott.ShopperMessage(e.Codes); ja != "指定のカード番号が適切ではありません。" {
		t.Fatalf("shopper message %q", ja)
	}
}
