package sim

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/kessai/kessai/escott"
)

// E6: the hosted card page of the external link type (spec §9, §16.1).
//
// The browser GETs MerchantId and EncryptValue. The simulator decrypts the
// request and shows the gateway's own card form (the card data reaching
// the simulator is faithful: this page belongs to the gateway). On submit
// it issues a token internally, runs the payload's operation and sends the
// encrypted result back to RedirectUrl by an auto-submitted POST.
//
// [SIM] choices (docs/simulator-browser.md):
//   - the request is also accepted as a POST;
//   - cancel answers ResponseCd=P51;
//   - payments are lump sum only: PayType absent or 01, else K22;
//   - a payment request with the ids of a valid member offers "pay with
//     the saved card" next to the card form; the card form pays with the
//     new card without touching the member;
//   - second hop (§9.3): a 1Auth/1Gathering request for a member that was
//     registered or changed on this page within the last 30 minutes is
//     answered at once, without a page (once per registration);
//   - 3-D Secure runs on this page only for test cards with a fixed 3DS
//     outcome (frictionless), when the merchant has 3DS; 1, 8 and 9 stop
//     the operation with U04, U14 or U99 (or the card's U code); other
//     cards are paid without 3DS;
//   - the answer carries MerchantId, OperateId, ResponseCd,
//     TransactionDate, MerchantFree1–3, the operation's result fields
//     (ProcessId, ProcessPass, TransactionId, ApproveNo, … on payments),
//     KaiinId and KaiinPass on member operations, and the 3DS fields when
//     3DS ran here or came in the request (second hop);
//   - a page left open longer than 40 minutes can no longer be submitted.

var linkOps = []escott.OperateID{escott.OpAuth, escott.OpGathering, escott.OpMemAdd, escott.OpMemChg}

// threeDSResultKeys are the 3DS fields echoed on a second hop.
var threeDSResultKeys = []string{"SecureResultCode", "EncodeXId3D", "MessageVersionNo3D", "TransactionStatus3D",
	"CAVVAlgorithm3D", "ECI3D", "CAVV3D", "DSTransactionId", "ThreeDSServerTransactionId"}

func isMemberOp(op escott.OperateID) bool { return op == escott.OpMemAdd || op == escott.OpMemChg }

// linkRequest is a checked E6 request.
type linkRequest struct {
	env       env
	op        escott.OperateID
	savedCard string // masked card of a valid member, payments only
}

// checkHandoffRequest runs the checks shared by the E5 (3DS) and E6 (link)
// hand-offs: merchant id and password, OperateId against ops (all refused
// when disabled), tenant, date and ProcNo. ok is false when the password
// matches no environment; codes then holds the final answer.
func checkHandoffRequest(m *merchantEntry, merchantID string, p url.Values, disabled bool, ops []escott.OperateID) (e env, op escott.OperateID, codes []string, ok bool) {
	if id := p.Get("MerchantId"); id != "" && id != merchantID {
		codes = append(codes, "K02")
	}
	e, ok = browserEnvFor(m, p.Get("MerchantPass"))
	if !ok {
		return e, op, append(codes, "K03"), false
	}
	op = escott.OperateID(p.Get("OperateId"))
	if disabled || !slices.Contains(ops, op) {
		codes = append(codes, "K06")
	}
	if !slices.Contains(m.TenantIDs, p.Get("TenantId")) {
		codes = append(codes, "K04")
	}
	if !validDate(p.Get("TransactionDate")) {
		codes = append(codes, "K05")
	}
	if v := p.Get("ProcNo"); len(v) != 7 || !allDigits(v) {
		codes = append(codes, "K86")
	}
	return e, op, codes, true
}

// checkLinkRequest validates a decrypted E6 payload.
func (s *Server) checkLinkRequest(m *merchantEntry, merchantID string, p url.Values) (linkRequest, []string) {
	var req linkRequest
	e, op, codes, ok := checkHandoffRequest(m, merchantID, p, m.DisableLink, linkOps)
	if !ok {
		return req, codes
	}
	req.env, req.op = e, op
	kaiinID, kaiinPass := p.Get("KaiinId"), p.Get("KaiinPass")
	switch req.op {
	case escott.OpAuth, escott.OpGathering:
		if _, ok := parseWireAmount(p.Get("Amount")); !ok {
			codes = append(codes, "K23")
		}
		if pt := p.Get("PayType"); pt != "" && pt != string(escott.PayLump) {
			codes = append(codes, "K22")
		}
		if len(codes) == 0 && kaiinID != "" && kaiinPass != "" {
			if c, code := s.lookupMemberCard(m, e, kaiinID, kaiinPass); code == "" {
				req.savedCard = c.masked()
			}
		}
	case escott.OpMemAdd, escott.OpMemChg:
		switch {
		case m.DisableMembers:
			codes = append(codes, "K68")
		case !escott.ValidKaiinID(kaiinID):
			codes = append(codes, "K45")
		case !escott.ValidKaiinPass(kaiinPass):
			codes = append(codes, "K46")
		case len(codes) > 0:
		case req.op == escott.OpMemChg:
			if _, code := s.lookupMemberCard(m, e, kaiinID, kaiinPass); code != "" {
				codes = append(codes, code)
			}
		case s.memberExists(m, e, kaiinID):
			codes = append(codes, "K69")
		}
	}
	return req, codes
}

// memberExists reports whether kaiinID is taken, with the same rule as E2
// 4MemAdd: an expired test member no longer holds its id.
func (s *Server) memberExists(m *merchantEntry, e env, kaiinID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	mb, ok := m.state[e].members[kaiinID]
	if !ok {
		return false
	}
	probe := &call{s: s, now: s.nowLocked()}
	return !probe.memberGone(mb)
}

// linkAnswer starts the answer of an E6 request with the fields every
// answer carries.
func linkAnswer(merchantID string, p url.Values, responseCd string) escott.Params {
	var res escott.Params
	res.Set("MerchantId", merchantID)
	res.Set("OperateId", p.Get("OperateId"))
	res.Set("ResponseCd", responseCd)
	res.SetIf("TransactionDate", p.Get("TransactionDate"))
	echoFields(&res, p, "MerchantFree1", "MerchantFree2", "MerchantFree3")
	return res
}

func (s *Server) handleLink(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		s.writeError(w, r, http.StatusMethodNotAllowed, "許可されていないメソッドです。", "Method not allowed.")
		return
	}
	m, merchantID, payload, redirect, ok := s.openHandOff(w, r, "link")
	if !ok {
		return
	}
	req, codes := s.checkLinkRequest(m, merchantID, payload)
	if len(codes) > 0 {
		s.log.Info("sim: link request refused", "merchant", merchantID, "result", joinCodes(codes))
		s.writeAutoSubmit(w, r, newAutoSubmit(m, redirect, linkAnswer(merchantID, payload, joinCodes(codes))))
		return
	}
	sess := &browserSession{
		id: newSessionID(), kind: "link", merchantID: merchantID, env: req.env,
		payload: payload, savedCard: req.savedCard, created: nowReal(),
	}
	s.browser.put(sess)
	if req.savedCard != "" && s.browser.takeLinkMember(merchantID, req.env, payload.Get("KaiinId")) {
		// §9.3 second hop: pay with the member just registered, no page.
		s.browser.claim(sess)
		res := s.browser.finish(sess, s.linkPay(m, sess, linkModeSaved, card{}, ""))
		s.writeAutoSubmit(w, r, res)
		return
	}
	s.writeLinkForm(w, r, http.StatusOK, sess, nil)
}

// linkPage is the data of the hosted card page.
type linkPage struct {
	Action     string
	MerchantID string
	OperateID  string
	Payment    bool
	OpJa, OpEn string
	Amount     int64
	SavedCard  string
	Errors     []string
	TestCard   string
}

func (s *Server) writeLinkForm(w http.ResponseWriter, r *http.Request, status int, sess *browserSession, errs []string) {
	op := escott.OperateID(sess.payload.Get("OperateId"))
	amount, _ := parseWireAmount(sess.payload.Get("Amount"))
	d := linkPage{
		Action:     s.basePath() + "/_sim/link/" + sess.id,
		MerchantID: sess.merchantID,
		OperateID:  string(op),
		Payment:    !isMemberOp(op),
		Amount:     amount,
		SavedCard:  sess.savedCard,
		Errors:     errs,
		TestCard:   DemoCard,
	}
	switch op {
	case escott.OpMemAdd:
		d.OpJa, d.OpEn = "カード登録", "Register a card"
	case escott.OpMemChg:
		d.OpJa, d.OpEn = "登録カードの変更", "Change the registered card"
	default:
		d.OpJa, d.OpEn = "カードでのお支払い", "Card payment"
	}
	s.writePage(w, r, status, "link", "カード情報入力 / Card details", d)
}

type linkMode int

const (
	linkModeCard linkMode = iota
	linkModeSaved
)

func (s *Server) handleLinkAnswer(w http.ResponseWriter, r *http.Request) {
	sess, expired := s.browser.get(r.PathValue("session"), "link")
	if sess == nil {
		s.writeError(w, r, http.StatusNotFound, "このお支払い画面のセッションは存在しません。", "No such payment page session.")
		return
	}
	if res := s.browser.answered(sess); res != nil {
		s.writeAutoSubmit(w, r, res)
		return
	}
	if expired {
		s.writeError(w, r, http.StatusGone, "お支払い画面の有効期限（40分）が切れました。加盟店の画面からやり直してください。",
			"This payment page has expired (40 minutes). Start again from the shop.")
		return
	}
	if r.Method != http.MethodPost {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, POST")
			s.writeError(w, r, http.StatusMethodNotAllowed, "許可されていないメソッドです。", "Method not allowed.")
			return
		}
		s.writeLinkForm(w, r, http.StatusOK, sess, nil)
		return
	}
	if !s.parseBrowserForm(w, r) {
		return
	}
	m := s.merchants[sess.merchantID]
	action := r.PostForm.Get("action")
	var c card
	switch action {
	case "cancel":
	case "saved":
		if sess.savedCard == "" {
			s.writeLinkForm(w, r, http.StatusBadRequest, sess, []string{"登録済みのカードはありません。 / There is no saved card."})
			return
		}
	case "card":
		var errs []string
		c, errs = readLinkCard(r.PostForm)
		if len(errs) > 0 {
			s.writeLinkForm(w, r, http.StatusBadRequest, sess, errs)
			return
		}
	default:
		s.writeLinkForm(w, r, http.StatusBadRequest, sess, []string{"操作を選んでください。 / Choose an action."})
		return
	}
	if prev, ok := s.browser.claim(sess); !ok {
		if prev != nil {
			s.writeAutoSubmit(w, r, prev)
			return
		}
		s.writeError(w, r, http.StatusConflict, "処理中です。しばらくしてから再読み込みしてください。", "Already being processed; reload in a moment.")
		return
	}
	var res *autoSubmit
	switch action {
	case "cancel":
		s.log.Info("sim: link page cancelled", "merchant", sess.merchantID)
		res = newAutoSubmit(m, sess.payload.Get("RedirectUrl"), linkAnswer(sess.merchantID, sess.payload, "P51"))
	case "saved":
		res = s.linkPay(m, sess, linkModeSaved, card{}, "")
	case "card":
		tok, err := s.issueToken(sess.merchantID, sess.env, c)
		if err != nil {
			s.browser.unclaim(sess)
			code := errorCode(err, "K20")
			s.writeLinkForm(w, r, http.StatusBadRequest, sess, []string{
				"カード情報に誤りがあります（" + code + "）。 / The card details are not valid (" + code + ")."})
			return
		}
		res = s.linkPay(m, sess, linkModeCard, c, tok)
	}
	s.writeAutoSubmit(w, r, s.browser.finish(sess, res))
}

// readLinkCard reads and checks the card form. Messages never repeat the
// card number.
func readLinkCard(f url.Values) (card, []string) {
	var errs []string
	number := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, strings.TrimSpace(f.Get("cardno")))
	if !allDigits(number) || len(number) < 13 || len(number) > 19 {
		errs = append(errs, "カード番号は13〜19桁の数字で入力してください。 / Enter the card number as 13–19 digits.")
	}
	mm, yy := strings.TrimSpace(f.Get("expmm")), strings.TrimSpace(f.Get("expyy"))
	if len(mm) == 1 {
		mm = "0" + mm
	}
	if len(mm) != 2 || !allDigits(mm) || mm < "01" || mm > "12" || len(yy) != 2 || !allDigits(yy) {
		errs = append(errs, "有効期限を月（MM）と年（YY）の2桁ずつで入力してください。 / Enter the expiry as MM and YY.")
	}
	sec := strings.TrimSpace(f.Get("seccd"))
	if sec != "" && (!allDigits(sec) || len(sec) < 3 || len(sec) > 4) {
		errs = append(errs, "セキュリティコードは3〜4桁の数字です。 / The security code is 3 or 4 digits.")
	}
	name := strings.TrimSpace(f.Get("holder"))
	if len(name) > 45 || strings.IndexFunc(name, func(r rune) bool {
		return !(r == ' ' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z')
	}) >= 0 {
		errs = append(errs, "カード名義は半角英字で入力してください。 / Enter the cardholder name in Latin letters.")
	}
	return card{Number: number, Exp: yy + mm, SecurityCode: sec, HolderName: strings.ToUpper(name)}, errs
}

// linkPay runs the payload's operation with the new card c (as token tok)
// or the saved member, after a 3DS step for test cards with a fixed
// outcome, and builds the answer.
func (s *Server) linkPay(m *merchantEntry, sess *browserSession, mode linkMode, c card, tok string) *autoSubmit {
	p := sess.payload
	op := escott.OperateID(p.Get("OperateId"))
	redirect := p.Get("RedirectUrl")
	fields := cloneValues(p)
	fields.Set("MerchantId", sess.merchantID)
	if !isMemberOp(op) && fields.Get("PayType") == "" {
		fields.Set("PayType", string(escott.PayLump))
	}

	var extra escott.Params // 3DS fields for the answer
	switch mode {
	case linkModeSaved:
		fields.Del("Token")
		if p.Get("SecureResultCode") != "" {
			for _, k := range threeDSResultKeys {
				extra.SetIf(k, p.Get(k))
			}
		}
	case linkModeCard:
		fields.Set("Token", tok)
		if !isMemberOp(op) {
			fields.Del("KaiinId")
			fields.Del("KaiinPass")
		}
		for _, k := range threeDSResultKeys {
			fields.Del(k) // 3DS of another card does not apply
		}
		if tc, ok := LookupTestCard(c.Number); ok && tc.ThreeDS != "" && !m.DisableThreeDS {
			resp := tc.ThreeDSResponseCd
			if resp == "" {
				resp = escott.CodeOK
			}
			amount, _ := parseWireAmount(p.Get("Amount"))
			f3 := s.issueThreeDSResult(m, sess.env, c, amount, tc.ThreeDS, resp)
			extra.Set("SecureResultCode", tc.ThreeDS)
			extra = append(extra, f3...)
			if threeDSStops(tc.ThreeDS) || resp != escott.CodeOK {
				res := linkAnswer(sess.merchantID, p, threeDSFailureCode(tc.ThreeDS, resp))
				res = append(res, extra...)
				s.log.Info("sim: link page 3DS failed", "merchant", sess.merchantID, "result", res.Get("ResponseCd"))
				return newAutoSubmit(m, redirect, res)
			}
			for _, kv := range extra {
				fields.Set(kv.Key, kv.Value)
			}
		}
	}

	ep := escott.EndpointCard
	if isMemberOp(op) {
		ep = escott.EndpointMember
	}
	out := s.process(ep, fields)
	res := linkAnswer(sess.merchantID, p, out.Get("ResponseCd"))
	for _, kv := range out {
		switch kv.Key {
		case "OperateId", "MerchantId", "MerchantPass", "Token":
			continue
		}
		res.Set(kv.Key, kv.Value)
	}
	if isMemberOp(op) {
		echoFields(&res, p, "KaiinId", "KaiinPass")
		if out.Get("ResponseCd") == escott.CodeOK {
			s.browser.rememberLinkMember(sess.merchantID, sess.env, p.Get("KaiinId"))
		}
	}
	for _, kv := range extra {
		res.Set(kv.Key, kv.Value)
	}
	s.log.Info("sim: link page answered", "merchant", sess.merchantID, "env", sess.env, "operate_id", op, "result", res.Get("ResponseCd"))
	return newAutoSubmit(m, redirect, res)
}
