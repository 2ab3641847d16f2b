package renewal_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/cardpay"
	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/gateway"
	"github.com/kessai/kessai/internal/paytest"
	"github.com/kessai/kessai/internal/testdb"
	"github.com/kessai/kessai/renewal"
	"github.com/kessai/kessai/subscription"
)

// hangAfter lets a call of one operation reach the gateway, then never
// returns its answer: the process that made it is as good as killed
// between the gateway's charge and the recording of its outcome.
type hangAfter struct {
	next    http.RoundTripper
	op      string
	reached chan struct{}
	release chan struct{}
}

func (h *hangAfter) RoundTrip(req *http.Request) (*http.Response, error) {
	body, _ := io.ReadAll(req.Body)
	req.Body.Close()
	req.Body = io.NopCloser(bytes.NewReader(body))
	res, err := h.next.RoundTrip(req)
	if err == nil && strings.Contains(string(body), "OperateId="+h.op) {
		close(h.reached)
		<-h.release
		res.Body.Close()
		return nil, context.Canceled
	}
	return res, err
}

// TestKilledMidRenewalChargesOnce: an engine dies after the gateway
// charged the renewal but before it recorded anything. The engine that
// takes over (a restart, or another instance) does not charge again: the
// undecided payment makes the subscription wait, the recovery sweep marks
// it unknown, and its resolution completes the renewal — one charge.
func TestKilledMidRenewalChargesOnce(t *testing.T) {
	e := newEnv(t, testdb.SQLite, subscription.RetryPolicy{})
	sub := e.monthly("c-kill", 2750)

	// The doomed instance: its gateway hangs on the renewal charge.
	hang := &hangAfter{next: escott.NewTransport(escott.TransportOptions{}), op: string(escott.OpGathering),
		reached: make(chan struct{}), release: make(chan struct{})}
	t.Cleanup(func() { close(hang.release) })
	doomedGW := gateway.New(gateway.Config{SimulatorURL: e.SimURL, HTTPClient: &http.Client{Transport: hang},
		Now: e.Sim.Now, Logger: slog.New(slog.DiscardHandler)})
	doomedPayer := cardpay.New(cardpay.Config{Service: e.Svc, Gateways: doomedGW, ReturnURL: e.Recv + "/escott/notify", Logger: e.Log})
	doomed := renewal.New(renewal.Config{Service: e.Svc, Cards: doomedPayer, Logger: e.Log})

	s, _ := e.sub(sub.ID)
	e.advanceTo(s.NextAttempt)
	go func() { _ = doomed.Wake(context.Background(), shopID, sub.ID) }()
	select {
	case <-hang.reached:
	case <-time.After(30 * time.Second):
		t.Fatal("the renewal charge never reached the gateway")
	}
	// The gateway charged; kessai recorded only the intent.
	_, rs := e.sub(sub.ID)
	if len(rs) != 1 || e.renewalCharges(rs)[rs[0].OrderID] != 1 {
		t.Fatalf("renewals %+v", rs)
	}

	// The restarted instance wakes the subscription: no second charge.
	charges := e.Calls.Count(escott.OpGathering)
	e.wake()
	s, rs = e.sub(sub.ID)
	if !s.Unconfirmed || rs[0].Status != kessai.RenewalUnknown {
		t.Fatalf("after the restart %+v %+v", s, rs)
	}
	e.Advance(24 * time.Hour)
	e.wake()
	if e.Calls.Count(escott.OpGathering) != charges || e.renewalCharges(rs)[rs[0].OrderID] != 1 {
		t.Fatal("charged again after the restart")
	}
	// The recovery sweep turns the interrupted call into an unknown
	// payment; the operator resolves it with the console's ProcessId.
	if _, err := e.payer.Sweep(e.Ctx, shopID); err != nil {
		t.Fatal(err)
	}
	pay := e.Payments(rs[0].OrderID)[0]
	paytest.WantState(t, &pay, kessai.PaymentUnknown)
	var processID, processPass string
	for _, tx := range e.Sim.Transactions(paytest.DemoID, "test") {
		if tx.MerchantFree2 == rs[0].OrderID {
			processID, processPass = tx.ProcessID, tx.ProcessPass
		}
	}
	if _, err := e.payer.Resolve(e.Ctx, shopID, pay.ID, cardpay.ResolveInput{Outcome: "succeeded", ProcessID: processID,
		ProcessPass: processPass}); err != nil {
		t.Fatal(err)
	}
	e.Advance(renewal.ReconcileEvery)
	e.wake()
	s, rs = e.sub(sub.ID)
	if s.Unconfirmed || s.Paid != 2 || rs[0].Status != kessai.RenewalSucceeded || e.renewalCharges(rs)[rs[0].OrderID] != 1 {
		t.Fatalf("after the resolution %+v %+v", s, rs)
	}
}
