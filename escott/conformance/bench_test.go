package conformance

import (
	"net/http"
	"testing"

	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/escott/sim"
)

// Benchmarks of a gateway round trip against the in-process simulator over
// loopback, and of the client's pure work. Run:
//
//	go test -run '^$' -bench . -benchtime=2s ./escott/conformance/
//
// Each round-trip benchmark reports conns/op: new TCP (and TLS)
// connections per call, from the client's own counters.

// reportConns adds the conns/op metric from the client's counters.
func reportConns(b *testing.B, c *escott.Client) {
	calls, conns := c.Stats()
	if calls > 0 {
		b.ReportMetric(float64(conns)/float64(calls), "conns/op")
	}
}

// BenchmarkRoundTrip measures one call over plain HTTP on loopback:
// 1Search of one transaction (read-only), and 1Auth with a fresh token per
// iteration (the tokens are issued before the timer starts).
func BenchmarkRoundTrip(b *testing.B) {
	b.Run("1Search", func(b *testing.B) {
		f := newFixture(b)
		pr := f.auth(visaOK, false, 1000).Process
		c := f.client(f.c.Merchant())
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			if _, err := c.Search(f.ctx, escott.Ref{}, pr); err != nil {
				b.Fatal(err)
			}
		}
		reportConns(b, c)
	})
	b.Run("1Auth", func(b *testing.B) {
		f := newFixture(b)
		c := f.client(f.c.Merchant())
		tokens := make([]string, 0, 1024)
		next := func() string {
			if len(tokens) == 0 {
				b.StopTimer()
				for range cap(tokens) {
					tokens = append(tokens, f.token(visaOK))
				}
				b.StartTimer()
			}
			t := tokens[len(tokens)-1]
			tokens = tokens[:len(tokens)-1]
			return t
		}
		ref := escott.Ref{MerchantFree1: "000000000001", MerchantFree2: "bench"}
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			if _, err := c.Authorize(f.ctx, escott.AuthRequest{Ref: ref, Amount: 1100, Token: next()}); err != nil {
				b.Fatal(err)
			}
		}
		reportConns(b, c)
	})
}

// BenchmarkRoundTripParallel is 1Search from GOMAXPROCS goroutines at
// once: throughput of the client and the simulator together.
func BenchmarkRoundTripParallel(b *testing.B) {
	f := newFixture(b)
	pr := f.auth(visaOK, false, 1000).Process
	c := f.client(f.c.Merchant())
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Search(f.ctx, escott.Ref{}, pr); err != nil {
				b.Error(err)
				return
			}
		}
	})
	reportConns(b, c)
}

// tlsBench runs 1Search over TLS 1.2 against h with the given transport
// options.
func tlsBench(b *testing.B, opts escott.TransportOptions, wrap func(http.Handler) http.Handler) {
	cert, err := sim.GenerateCertificate("127.0.0.1")
	if err != nil {
		b.Fatal(err)
	}
	f := startFixture(b, cert, wrap)
	pr := f.auth(visaOK, false, 1000).Process
	opts.RootCAs = cert.Pool
	c := f.client(f.c.Merchant(), func(cfg *escott.Config) {
		cfg.HTTPClient = &http.Client{Transport: escott.NewTransport(opts)}
	})
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.Search(f.ctx, escott.Ref{}, pr); err != nil {
			b.Fatal(err)
		}
	}
	reportConns(b, c)
}

// BenchmarkTLSPooled is the client as configured by default: keep-alive
// pooling over TLS 1.2. The simulator keeps a connection open unless the
// client asks for Connection: close, so conns/op shows the reuse.
func BenchmarkTLSPooled(b *testing.B) { tlsBench(b, escott.TransportOptions{}, nil) }

// BenchmarkTLSNewHandshake opens a new connection and TLS handshake per
// call, as the PHP plugins do (they send Connection: close).
func BenchmarkTLSNewHandshake(b *testing.B) {
	tlsBench(b, escott.TransportOptions{DisableKeepAlives: true}, nil)
}

// answer1Auth is a typical 1Auth answer as the simulator writes it.
const answer1Auth = "TransactionId=1000000000042&TransactionDate=20260401&OperateId=1Auth&MerchantFree1=000000000001&MerchantFree2=order-1001" +
	"&ResponseCd=OK&ProcessId=Vb3kQ9sLmT2xR8wZ1nC4yH7pJ6dF0gA5&ProcessPass=Kq2Wm8Zr5Tx1Lb7Nc4Vs9Hd3Jf6Gp0Ay&ApproveNo=0482211&CompanyCd=VS&PayType=01"

// BenchmarkParseResponse parses a 1Auth answer body.
func BenchmarkParseResponse(b *testing.B) {
	body := []byte(answer1Auth)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		r, err := escott.ParseResponse(body)
		if err != nil || !r.OK() {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncryptValue encrypts a 3Secure hand-off payload and parses a
// 3-D Secure return.
func BenchmarkEncryptValue(b *testing.B) {
	ci, err := escott.NewCipher(sim.DemoMerchant.AESKey, sim.DemoMerchant.AESIV)
	if err != nil {
		b.Fatal(err)
	}
	payload := escott.Params{
		{Key: "MerchantId", Value: sim.DemoMerchant.MerchantID}, {Key: "MerchantPass", Value: sim.DemoMerchant.TestPass},
		{Key: "TransactionDate", Value: "20260401"}, {Key: "MerchantFree1", Value: "000000000001"},
		{Key: "MerchantFree2", Value: "order-1001"}, {Key: "TenantId", Value: "0001"}, {Key: "Amount", Value: "1100"},
		{Key: "Token", Value: "Vb3kQ9sLmT2xR8wZ1nC4yH7pJ6dF0gA5Kq2Wm8Zr5Tx1Lb7Nc4Vs9Hd3Jf6Gp0Ay"},
		{Key: "OperateId", Value: "3Secure"}, {Key: "ProcNo", Value: "0482211"},
		{Key: "RedirectUrl", Value: "https://shop.example/?wc-api=wc_sonypayment"},
		{Key: "BillingFullName", Value: "TARO YAMADA"}, {Key: "BillingEmail", Value: "taro@example.jp"},
	}
	b.Run("encrypt", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if ci.Encrypt(payload) == "" {
				b.Fatal("empty")
			}
		}
	})
	ret := ci.Encrypt(escott.Params{
		{Key: "OperateId", Value: "3Secure"}, {Key: "ResponseCd", Value: "OK"}, {Key: "SecureResultCode", Value: "0"},
		{Key: "MerchantFree1", Value: "000000000001"}, {Key: "EncodeXId3D", Value: "q83vEjRWeJq83vEjRWeJq83vEjQ="},
		{Key: "MessageVersionNo3D", Value: "2.2.0"}, {Key: "TransactionStatus3D", Value: "Y"}, {Key: "CAVVAlgorithm3D", Value: "2"},
		{Key: "ECI3D", Value: "05"}, {Key: "CAVV3D", Value: "AAABBZEAAAAAAAAAAAAAAAAAAAA="},
		{Key: "DSTransactionId", Value: "3f0c3b52-1d1b-4d59-9c4e-7e0f5a3c2b1a"},
		{Key: "ThreeDSServerTransactionId", Value: "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"},
	})
	b.Run("parse return", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r, err := escott.ParseReturn(ci, ret)
			if err != nil || r.ThreeDS.StopsPayment() {
				b.Fatal(err)
			}
		}
	})
}
