package conformance

import (
	"strings"
	"testing"
	"time"

	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/escott/sim"
)

// TestTokenSearch covers 1TokenSearch: the token's state is reported in
// TokenResponseCd (with ResponseCd OK for a well-formed message), and the
// search never consumes the token.
func TestTokenSearch(t *testing.T) {
	t.Parallel()
	f := newFixture(t)

	used := f.token(visaOK)
	if _, err := f.c.Authorize(f.ctx, escott.AuthRequest{Ref: f.ref("o-used"), Amount: defaultAmt, Token: used}); err != nil {
		t.Fatalf("consuming auth: %v", err)
	}
	expired := f.token(visaOK)
	unknown := strings.Repeat("A", len(used)) // well-formed, never issued

	cases := []struct {
		name      string
		tok       func() string
		tokenCode string // "" for OK
		class     escott.Class
	}{
		{"valid", func() string { return f.token(visaOK) }, "", escott.ClassUnknown},
		{"used", func() string { return used }, "KI2", escott.ClassToken},
		{"unknown", func() string { return unknown }, "KHZ", escott.ClassToken},
		{"malformed", func() string { return "not-a-token" }, "KHX", escott.ClassToken},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := f.c.TokenSearch(f.ctx, f.ref("o-search"), tc.tok())
			if tc.tokenCode == "" {
				wantOK(t, err)
				if !res.OK() || strings.Join(res.TokenCodes, "|") != "OK" {
					t.Fatalf("codes %v / %v", res.Codes, res.TokenCodes)
				}
				return
			}
			e := wantCode(t, err, tc.tokenCode)
			if got := e.Response.TokenCodes; strings.Join(got, "|") != tc.tokenCode {
				t.Fatalf("TokenResponseCd %v, want %s", got, tc.tokenCode)
			}
			if got := strings.Join(e.Response.Codes, "|"); got != "OK" && tc.tokenCode != "KHX" {
				t.Fatalf("ResponseCd %s, want OK (only the token is wrong)", got)
			}
			if e.Class() != tc.class {
				t.Fatalf("class %v, want %v", e.Class(), tc.class)
			}
		})
	}

	t.Run("expired", func(t *testing.T) {
		// Runs after the table (not parallel): it moves the clock.
		f.sim.Advance(21 * time.Minute) // default TTL is 20 minutes
		_, err := f.c.TokenSearch(f.ctx, f.ref("o-exp"), expired)
		e := wantCode(t, err, "KI3")
		if strings.Join(e.Response.TokenCodes, "|") != "KI3" {
			t.Fatalf("TokenResponseCd %v", e.Response.TokenCodes)
		}
		// A used token stays "used" after it would have expired.
		_, err = f.c.TokenSearch(f.ctx, f.ref("o-exp"), used)
		wantCode(t, err, "KI2")
		// The expired token is refused by a consuming call too.
		_, err = f.c.Authorize(f.ctx, escott.AuthRequest{Ref: f.ref("o-exp"), Amount: defaultAmt, Token: expired})
		wantCode(t, err, "KI3")
	})
}

// TestTokenSearchDoesNotConsume searches a token several times and then
// pays with it; a second payment with it is refused as used.
func TestTokenSearchDoesNotConsume(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tok := f.token(sim.DemoCard)
	for i := range 3 {
		if _, err := f.c.TokenSearch(f.ctx, f.ref("o"), tok); err != nil {
			t.Fatalf("search %d: %v", i, err)
		}
	}
	res, err := f.c.Authorize(f.ctx, escott.AuthRequest{Ref: f.ref("o"), Amount: defaultAmt, Token: tok})
	wantOK(t, err)
	f.mustTxn(res.Process.ProcessID)
	_, err = f.c.TokenSearch(f.ctx, f.ref("o"), tok)
	wantCode(t, err, "KI2")
	_, err = f.c.Authorize(f.ctx, escott.AuthRequest{Ref: f.ref("o"), Amount: defaultAmt, Token: tok})
	wantCode(t, err, "KI2")
	if n := len(f.sim.Transactions(demoID, "test")); n != 1 {
		t.Fatalf("the simulator has %d transactions, want 1", n)
	}
}
