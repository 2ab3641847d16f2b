package sim

// This file serves the four server-to-server endpoints E1–E4 (spec §2,
// §3, §16.1, §16.2): request parsing, the common validation every call
// goes through, dispatch to the operation handlers of card.go, member.go,
// tokens.go and collection.go, and the response writer.

import (
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kessai/kessai/escott"
)

// Limits and choices of the common validation. The real gateway's values
// are unknown (spec §4.3, §17 #11 and #24); each is a [SIM] choice.
const (
	// maxMerchantFree1/2/3 are the longest accepted MerchantFree values in
	// characters [SIM]; longer ones answer K07/K08/K09. PRO sends 12 digits
	// in MerchantFree1 and short numeric ids in the other two.
	maxMerchantFree1 = 32
	maxMerchantFree2 = 64
	maxMerchantFree3 = 64
	// merchantLockFailures consecutive wrong MerchantPass values (each
	// answered K03) lock the merchant: every later call answers KG8, even
	// with the right password, for merchantLockDuration of simulator time
	// [SIM]. A correct password before the limit resets the count.
	merchantLockFailures = 10
	merchantLockDuration = 30 * time.Minute
	// transactionDateSlack is how far TransactionDate may be from the
	// simulator's JST date [SIM]: one day either way, so a merchant whose
	// clock is a little off around midnight still gets through while a
	// stale or garbage date answers K05.
	transactionDateSlack = 1
	// maxRequestBody caps an E1–E4 request body [SIM]; real requests are
	// well under 2 KiB. A larger body answers K01.
	maxRequestBody = 64 << 10
)

// routesServer registers E1–E4 and the control API.
func (s *Server) routesServer(mux *http.ServeMux) {
	for _, ep := range []escott.Endpoint{escott.EndpointCard, escott.EndpointMember, escott.EndpointToken, escott.EndpointCollection} {
		mux.Handle(ep.Path(), s.endpointHandler(ep))
	}
	s.routesControl(mux)
}

// endpointHandler serves one of E1–E4: parse, apply injected faults,
// process, write.
func (s *Server) endpointHandler(ep escott.Endpoint) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// [SIM] Only POST is accepted: every known integration POSTs,
		// and answering a GET would let a client pass here that the real
		// gateway might refuse. The refusal has no ResponseCd, so a
		// client records it as NG.
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			w.Header().Set("Connection", "close")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		fields, ok := parseRequest(r)
		if !ok {
			// Unreadable or oversized body: the message as a whole is
			// invalid (K01) [SIM].
			s.writeAnswer(w, s.echoAnswer(fields, "K01"))
			return
		}
		// The cap is taken after the request is read (receiving it is
		// the network's time, not the gateway's) and held until the
		// answer is written, injected latency included.
		release, admitted := s.limit.acquire(r.Context())
		if !admitted {
			// The client gave up while queued: nothing was performed.
			abortConnection(w)
			return
		}
		defer release()
		op := escott.OperateID(fields.Get("OperateId"))
		plan := s.pickFaults(op)
		if !plan.wait(r) {
			// The client went away during injected latency: nothing
			// was performed and there is nobody to answer.
			abortConnection(w)
			return
		}
		if f := plan.outcome; f != nil && !f.After {
			s.applyOutcome(w, r, f, s.echoAnswer(fields, f.ResponseCd))
			return
		}
		answer := s.process(ep, fields)
		if f := plan.outcome; f != nil {
			// An After fault: the operation was performed, the answer is
			// lost or replaced.
			s.applyOutcome(w, r, f, s.echoAnswer(fields, f.ResponseCd))
			return
		}
		s.writeAnswer(w, answer)
	})
}

// parseRequest reads the parameters of an E1–E4 call from the query string
// and the form body. Both are accepted because the reference integrations
// differ (PRO: body only; SFRA: query string only, spec §2 notes); when a
// key is in both, the body wins [INFERENCE]. The body is parsed only when
// the Content-Type is application/x-www-form-urlencoded (with or without a
// charset), as a servlet container would [SIM]. Malformed pairs are
// skipped, like a lenient form parser; ok is false only when the body
// cannot be read or is larger than maxRequestBody. The returned values are
// usable even when ok is false (the query part).
func parseRequest(r *http.Request) (url.Values, bool) {
	query, _ := url.ParseQuery(r.URL.RawQuery)
	if query == nil {
		query = url.Values{}
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if r.Body == nil || ct != "application/x-www-form-urlencoded" {
		if r.Body != nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, maxRequestBody))
		}
		return query, true
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
	if err != nil || len(raw) > maxRequestBody {
		return query, false
	}
	body, _ := url.ParseQuery(string(raw))
	for k, v := range body {
		query[k] = v
	}
	return query, true
}

// writeAnswer writes an E1–E4 answer the way the gateway evidently does
// (spec §3.3): HTTP 200 whatever the outcome [SIM], one form-encoded line,
// an explicit Content-Length and therefore no chunked encoding. The
// connection is closed after the answer when the client asks for it with
// Connection: close, as the PHP plugins do (they read until EOF), and kept
// open for clients that pool connections [SIM: the real gateway's
// keep-alive behaviour is not observable; plain HTTP/1.1 semantics]. The
// Content-Type is not observable (spec §3.3 #6); text/plain with UTF-8 is
// the [SIM] choice.
func (s *Server) writeAnswer(w http.ResponseWriter, p escott.Params) {
	body := p.Encode()
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=UTF-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, body)
}

// echoAnswer builds an answer that carries only the echoes, a fresh
// TransactionId and the given ResponseCd, without looking at or changing
// any state: used for injected response codes and for unreadable requests.
func (s *Server) echoAnswer(fields url.Values, code string) escott.Params {
	s.mu.Lock()
	txID := s.nextTransactionIDLocked()
	s.mu.Unlock()
	f := firstValues(fields)
	p := echoes(f, txID)
	p.Set("ResponseCd", code)
	return p
}

// firstValues flattens url.Values to the first value of each key and drops
// empty values: the gateway treats "key=" as "not specified" (spec §3.1),
// and PRO's K81 retry relies on that.
func firstValues(v url.Values) map[string]string {
	out := make(map[string]string, len(v))
	for k, vals := range v {
		if len(vals) > 0 && vals[0] != "" {
			out[k] = vals[0]
		}
	}
	return out
}

// echoes starts an answer with the fields every answer carries, errors
// included (spec §3.5, §16.2): a fresh TransactionId, and the echoes of
// TransactionDate, OperateId and MerchantFree1/2/3 as sent.
func echoes(f map[string]string, txID string) escott.Params {
	p := escott.Params{{Key: "TransactionId", Value: txID}}
	p.SetIf("TransactionDate", f["TransactionDate"])
	p.Set("OperateId", f["OperateId"])
	p.SetIf("MerchantFree1", f["MerchantFree1"])
	p.SetIf("MerchantFree2", f["MerchantFree2"])
	p.SetIf("MerchantFree3", f["MerchantFree3"])
	return p
}

// call is the state of one E1–E4 call while it is processed. It lives only
// inside process, under s.mu.
type call struct {
	s   *Server
	ep  escott.Endpoint
	op  escott.OperateID
	f   map[string]string
	m   *merchantEntry
	env env
	st  *merchantState
	now time.Time
	// today is 00:00 JST of the simulator's current date.
	today time.Time
	txID  string
	// errs collects every applicable error code, in the order found.
	errs []string
	// out holds the operation's answer fields, written after ResponseCd
	// on success.
	out escott.Params
	// tokenCd is the TokenResponseCd of 1TokenSearch ("" elsewhere).
	tokenCd string
	// txn and col, when set, receive a history row with the outcome.
	txn *cardTxn
	col *collection
}

func (c *call) get(k string) string { return c.f[k] }
func (c *call) has(k string) bool   { _, ok := c.f[k]; return ok }

// fail records error codes, each once.
func (c *call) fail(codes ...string) {
	for _, code := range codes {
		if !slices.Contains(c.errs, code) {
			c.errs = append(c.errs, code)
		}
	}
}

func (c *call) failed() bool { return len(c.errs) > 0 }

// operation is one OperateId's implementation: validate checks the message
// itself (formats, required fields) and may add several codes; exec runs
// only when nothing failed so far and works on the state.
type operation struct {
	validate func(*call)
	exec     func(*call)
}

// operations maps every OperateId served on E1–E4 to its implementation.
// Filled in init to break the initialisation cycle through the handlers.
var operations map[escott.OperateID]operation

// opMemRef is SFRA's name of the member reference (spec §5.11). The
// simulator answers it exactly like 4MemRefM [SIM]; escott has no constant
// for it because kessai never sends it.
const opMemRef escott.OperateID = "4MemRef"

func init() {
	operations = map[escott.OperateID]operation{
		escott.OpAuth:        {validateAuth, execAuth},
		escott.OpGathering:   {validateAuth, execAuth},
		escott.OpCheck:       {validateCheck, execCheck},
		escott.OpCapture:     {validateFollowUp, execFollowUp},
		escott.OpChange:      {validateFollowUp, execFollowUp},
		escott.OpDelete:      {validateFollowUp, execFollowUp},
		escott.OpReAuth:      {validateFollowUp, execFollowUp},
		escott.OpSearch:      {validateFollowUp, execFollowUp},
		escott.OpTokenSearch: {validateTokenSearch, execTokenSearch},
		escott.OpMemAdd:      {validateMemberCard, execMemAdd},
		escott.OpMemChg:      {validateMemberCard, execMemChg},
		escott.OpMemRefM:     {validateMember, execMemRef},
		opMemRef:             {validateMember, execMemRef},
		escott.OpMemInval:    {validateMember, execMemInval},
		escott.OpMemUnInval:  {validateMember, execMemUnInval},
		escott.OpMemDel:      {validateMember, execMemDel},
		escott.OpCvsAdd:      {validateCvsAdd, execCvsAdd},
		escott.OpCvsChg:      {validateCvsChg, execCvsChg},
		escott.OpCvsDel:      {validateCvsProcess, execCvsDel},
		escott.OpCvsRef:      {validateCvsProcess, execCvsRef},
	}
}

// endpointOf is the endpoint an OperateId belongs to, including the
// simulator-only alias 4MemRef.
func endpointOf(op escott.OperateID) escott.Endpoint {
	if op == opMemRef {
		return escott.EndpointMember
	}
	return op.Endpoint()
}

// process runs one E1–E4 call exactly as the HTTP endpoint does and returns
// the answer fields. The browser half calls it with decrypted E5/E6
// payloads (which must carry MerchantId). It never panics, whatever the
// input, and always answers with ResponseCd, the echoes and a fresh
// TransactionId.
func (s *Server) process(ep escott.Endpoint, fields url.Values) escott.Params {
	f := firstValues(fields)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.nowLocked()
	c := &call{
		s:     s,
		ep:    ep,
		op:    escott.OperateID(f["OperateId"]),
		f:     f,
		now:   now,
		today: jstMidnight(now),
		txID:  s.nextTransactionIDLocked(),
	}
	if s.commonChecks(c) {
		// Non-fatal common errors (K04, K05, K07–K09) are reported
		// together with the operation's own format errors; the state is
		// only touched when nothing failed.
		if opn, ok := operations[c.op]; !ok {
			c.fail("K06")
		} else {
			opn.validate(c)
			if !c.failed() {
				opn.exec(c)
			}
		}
	}
	code := escott.CodeOK
	if c.failed() {
		code = strings.Join(c.errs, "|")
	}
	p := echoes(f, c.txID)
	p.Set("ResponseCd", code)
	if c.op == escott.OpTokenSearch && c.tokenCd != "" {
		p.Set("TokenResponseCd", c.tokenCd)
	}
	if !c.failed() {
		p = append(p, c.out...)
	}
	rec := opRecord{At: now, OperateID: c.op, TransactionID: c.txID, ResponseCd: code}
	if c.txn != nil {
		if !c.failed() {
			rec.Amount = c.txn.Amount
		}
		c.txn.History = append(c.txn.History, rec)
	}
	if c.col != nil {
		if !c.failed() {
			rec.Amount = c.col.Amount
		}
		c.col.History = append(c.col.History, rec)
	}
	return p
}

// commonChecks runs the validation every call goes through (spec §16.2)
// and selects merchant, environment and state. It collects every
// applicable code; it returns false when the operation itself cannot be
// validated at all (unknown merchant, wrong password, locked merchant,
// wrong or disabled OperateId).
func (s *Server) commonChecks(c *call) bool {
	proceed := true
	m := s.merchants[c.get("MerchantId")]
	switch {
	case m == nil:
		c.fail("K02")
		proceed = false
	case c.now.Before(m.lockedUntil):
		// A locked merchant gets KG8 and nothing else, whatever it sends.
		c.errs = []string{"KG8"}
		return false
	default:
		switch pass := c.get("MerchantPass"); {
		case pass != "" && pass == m.TestPass:
			c.env = envTest
		case pass != "" && pass == m.ProdPass:
			c.env = envProd
		default:
			m.passFailures++
			if m.passFailures >= merchantLockFailures {
				// This failure is still answered K03; the next calls
				// meet the lock.
				m.passFailures = 0
				m.lockedUntil = c.now.Add(merchantLockDuration)
			}
			c.fail("K03")
			proceed = false
		}
		if proceed {
			m.passFailures = 0
			c.m = m
			c.st = m.state[c.env]
		}
	}

	if endpointOf(c.op) != c.ep || c.ep == 0 {
		c.fail("K06")
		proceed = false
	} else if c.m != nil {
		switch {
		case c.ep == escott.EndpointMember && c.m.DisableMembers:
			c.fail("K68")
			proceed = false
		case c.ep == escott.EndpointCollection && c.m.DisableCollection:
			c.fail("K06")
			proceed = false
		case c.ep == escott.EndpointCard && c.m.DisableMembers && (c.has("KaiinId") || c.has("KaiinPass")):
			c.fail("K68")
			proceed = false
		}
	}

	// TenantId: card, member and token calls only; collection calls do
	// not carry it and ignore one that is sent anyway.
	if c.ep != escott.EndpointCollection && c.m != nil {
		if !slices.Contains(c.m.TenantIDs, c.get("TenantId")) {
			c.fail("K04")
		}
	}
	if !c.validTransactionDate() {
		c.fail("K05")
	}
	for _, lim := range []struct {
		key  string
		max  int
		code string
	}{{"MerchantFree1", maxMerchantFree1, "K07"}, {"MerchantFree2", maxMerchantFree2, "K08"}, {"MerchantFree3", maxMerchantFree3, "K09"}} {
		if v := c.get(lim.key); utf8.RuneCountInString(v) > lim.max || !utf8.ValidString(v) || hasControl(v) {
			c.fail(lim.code)
		}
	}
	return proceed
}

// validTransactionDate reports whether TransactionDate is a real YYYYMMDD
// date within transactionDateSlack days of the simulator's JST date.
func (c *call) validTransactionDate() bool {
	d, err := escott.ParseDate(c.get("TransactionDate"))
	if err != nil {
		return false
	}
	return !d.Before(c.today.AddDate(0, 0, -transactionDateSlack)) && !d.After(c.today.AddDate(0, 0, transactionDateSlack))
}

// jstMidnight returns 00:00 JST of the JST calendar day of t.
func jstMidnight(t time.Time) time.Time {
	y, m, d := t.In(escott.JST).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, escott.JST)
}

// hasControl reports whether s contains an ASCII control character, which
// no gateway field accepts [SIM].
func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return true
		}
	}
	return false
}

// isAlnum reports whether s is 1…max ASCII letters and digits.
func isAlnum(s string, max int) bool {
	if len(s) == 0 || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// isDigits reports whether s is min…max ASCII digits.
func isDigits(s string, min, max int) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// maxAmount is the largest Amount accepted, in yen [SIM]: 7 digits.
const maxAmount = 9_999_999

// parseAmount parses an Amount: a positive JPY integer written as plain
// digits without sign, separators, decimals or leading zeros, at most
// maxAmount [SIM]. "1100.00" is refused (spec §4.4 [INFERENCE]).
func parseWireAmount(s string) (int64, bool) {
	if !isDigits(s, 1, 7) || s[0] == '0' {
		return 0, false
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 1 || v > maxAmount {
		return 0, false
	}
	return v, true
}
