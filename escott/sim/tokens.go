package sim

// Card tokens (spec §4.8, §16.3) and 1TokenSearch (E3, §5.1).

import (
	"crypto/rand"
	"errors"
	"fmt"
	"time"
)

// tokenLen is the length of a simulator token: random ASCII letters and
// digits [SIM]. The real format is unknown (spec §17 #16).
const tokenLen = 64

// tokenPruneAfter is how long past its expiry an unused or used token is
// still remembered [SIM]: long enough that 1TokenSearch can tell "expired"
// (KI3) and "used" (KI2) from "unknown" (KHZ) in any realistic flow, short
// enough that a benchmark issuing millions of tokens does not grow memory
// without bound.
const tokenPruneAfter = 24 * time.Hour

// tokenPruneEvery is how many issued tokens trigger a pruning pass.
const tokenPruneEvery = 1024

// Errors of issueToken, worded for the token script's error callback and
// the control API.
var (
	errCardNumber   = errors.New("card number must be 13 to 19 digits")
	errCardExp      = errors.New("expiry must be YYMM with a month 01-12")
	errSecurityCode = errors.New("security code must be 3 or 4 digits")
	errHolderName   = errors.New("holder name must be at most 64 characters without control characters")
	errNoMerchant   = errors.New("unknown merchant")
)

// issueToken validates card data and issues a one-time token bound to the
// merchant, environment and card. The card must have 13–19 digits, an
// expiry YYMM with month 01–12 and, if given, a 3–4 digit security code;
// whether the card approves (Luhn, test-card declines, expiry in the
// past) is decided at use, like a real token service that does not
// contact the issuer. Tokens live cfg.TokenTTL on the simulator clock.
func (s *Server) issueToken(merchantID string, e env, c card) (string, error) {
	switch {
	case !isDigits(c.Number, 13, 19):
		return "", errCardNumber
	case !validExp(c.Exp):
		return "", errCardExp
	case c.SecurityCode != "" && !isDigits(c.SecurityCode, 3, 4):
		return "", errSecurityCode
	case len([]rune(c.HolderName)) > 64 || hasControl(c.HolderName):
		return "", errHolderName
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.merchants[merchantID]
	if m == nil {
		return "", errNoMerchant
	}
	if e != envTest && e != envProd {
		return "", fmt.Errorf("unknown environment %d", e)
	}
	st := m.state[e]
	now := s.nowLocked()
	v := randAlnum(tokenLen)
	st.tokens[v] = &token{Value: v, MerchantID: merchantID, Env: e, Card: c, Issued: now}
	if len(st.tokens)%tokenPruneEvery == 0 {
		s.pruneTokensLocked(st, now)
	}
	return v, nil
}

// pruneTokensLocked forgets tokens that expired more than tokenPruneAfter
// ago.
func (s *Server) pruneTokensLocked(st *merchantState, now time.Time) {
	for k, t := range st.tokens {
		if now.Sub(t.Issued) > s.cfg.TokenTTL+tokenPruneAfter {
			delete(st.tokens, k)
		}
	}
}

// validExp reports whether exp is YYMM with a month 01–12.
func validExp(exp string) bool {
	if !isDigits(exp, 4, 4) {
		return false
	}
	mm := (exp[2]-'0')*10 + exp[3] - '0'
	return mm >= 1 && mm <= 12
}

// tokenStatus looks a token up for the calling merchant and environment
// and returns it with "" when it is usable, or the code saying why not
// [SIM mapping, spec §16.3]:
//
//	KHX  not in the simulator's token format (token invalid)
//	KHZ  well-formed but never issued to this merchant on this
//	     environment, or forgotten long after expiry (no usable token)
//	KI2  already consumed
//	KI3  expired (older than the token TTL on the simulator clock)
//
// A used token answers KI2 even after it would have expired: "used" is
// the more useful diagnosis.
func (c *call) tokenStatus(v string) (*token, string) {
	if !isAlnum(v, tokenLen) || len(v) != tokenLen {
		return nil, "KHX"
	}
	t := c.st.tokens[v]
	switch {
	case t == nil:
		return nil, "KHZ"
	case t.Used:
		return t, "KI2"
	case c.now.Sub(t.Issued) > c.s.cfg.TokenTTL:
		return t, "KI3"
	}
	return t, ""
}

// validateTokenSearch: 1TokenSearch needs a Token; without one the message
// itself is invalid (ResponseCd=KHX, no TokenResponseCd) [SIM]. Amount and
// other extras that PRO sends are ignored.
func validateTokenSearch(c *call) {
	if !c.has("Token") {
		c.fail("KHX")
	}
}

// execTokenSearch answers ResponseCd=OK (the message is valid) and the
// token's state in TokenResponseCd. It never consumes the token.
func execTokenSearch(c *call) {
	_, code := c.tokenStatus(c.get("Token"))
	if code == "" {
		code = "OK"
	}
	c.tokenCd = code
}

// randAlnum returns n random ASCII letters and digits from crypto/rand.
func randAlnum(n int) string {
	return randFrom("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", n)
}

// randDigits returns n random decimal digits from crypto/rand.
func randDigits(n int) string { return randFrom("0123456789", n) }

// randFrom draws n characters uniformly from alphabet (at most 256
// characters) by rejection sampling, so there is no modulo bias.
func randFrom(alphabet string, n int) string {
	out := make([]byte, 0, n)
	limit := 256 - 256%len(alphabet)
	buf := make([]byte, n+8)
	for len(out) < n {
		_, _ = rand.Read(buf) // crypto/rand.Read never fails (Go ≥ 1.24)
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(out)
}
