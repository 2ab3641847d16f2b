package conformance

import (
	"crypto/tls"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/escott/sim"
)

// TestTLS serves the simulator over TLS 1.2 with a self-signed
// certificate: the client's transport (TLS 1.2 pinned, verification on)
// completes a checkout against it; the server offers no other version;
// a client that does not trust the certificate gets a certain NG (the
// request was never sent).
func TestTLS(t *testing.T) {
	t.Parallel()
	cert, err := sim.GenerateCertificate("127.0.0.1", "localhost")
	if err != nil {
		t.Fatal(err)
	}
	f := startFixture(t, cert, nil)
	if !strings.HasPrefix(f.srv.URL, "https://") {
		t.Fatalf("not TLS: %s", f.srv.URL)
	}
	tok := f.token(sim.DemoCard)
	if _, err := f.c.TokenSearch(f.ctx, f.ref("o-tls"), tok); err != nil {
		t.Fatal(err)
	}
	res, err := f.c.Authorize(f.ctx, escott.AuthRequest{Ref: f.ref("o-tls"), Amount: 1980, Token: tok})
	wantOK(t, err)
	if _, err := f.c.Capture(f.ctx, escott.FollowUp{Process: res.Process}); err != nil {
		t.Fatal(err)
	}
	if tx := f.mustTxn(res.Process.ProcessID); tx.Status != "CAPTURED" {
		t.Fatalf("simulator %+v", tx)
	}

	addr := f.srv.Listener.Addr().String()
	// The server negotiates TLS 1.2 even with a client that prefers 1.3.
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: cert.Pool, ServerName: "127.0.0.1", MaxVersion: tls.VersionTLS13})
	if err != nil {
		t.Fatal(err)
	}
	if v := conn.ConnectionState().Version; v != tls.VersionTLS12 {
		t.Fatalf("negotiated %s, want TLS 1.2", tls.VersionName(v))
	}
	conn.Close()
	// A TLS-1.3-only client cannot connect.
	if c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: cert.Pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS13}); err == nil {
		c.Close()
		t.Fatal("TLS 1.3 handshake succeeded")
	}

	// A client with the system roots does not trust the simulator.
	untrusting := f.client(f.c.Merchant(), func(cfg *escott.Config) {
		cfg.HTTPClient = &http.Client{Transport: escott.NewTransport(escott.TransportOptions{})}
	})
	_, err = untrusting.Authorize(f.ctx, escott.AuthRequest{Amount: 100, Token: f.token(visaOK)})
	var verr *tls.CertificateVerificationError
	if !isNoAnswer(err) || escott.IsUncertain(err) || !errors.As(err, &verr) {
		t.Fatalf("want a certain NG from certificate verification, got %v (uncertain=%v)", err, escott.IsUncertain(err))
	}
	if n := len(f.sim.Transactions(demoID, "test")); n != 1 {
		t.Fatalf("%d transactions", n)
	}
}
