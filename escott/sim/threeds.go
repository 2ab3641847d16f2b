package sim

import (
	"net/http"
	"net/url"

	"github.com/kessai/kessai/escott"
)

// E5: the 3-D Secure page (spec §8, §16.7).
//
// The browser POSTs MerchantId and EncryptValue. The simulator decrypts
// the request, checks it, and either answers at once (test cards with a
// fixed outcome, "frictionless") or shows a challenge page on which the
// tester picks the outcome. The answer goes back to RedirectUrl as an
// auto-submitted POST form with an encrypted EncryptValue.
//
// [SIM] choices (docs/simulator-browser.md):
//   - a request that cannot be answered (unknown MerchantId, undecryptable
//     EncryptValue, bad RedirectUrl) gets an HTML error page (400), since
//     there is nowhere to send the browser;
//   - RedirectUrl: https, or http for loopback hosts; at most 255
//     characters (longer than 64 is accepted but logged, SFRA documents 64);
//   - other request errors are sent back to RedirectUrl with ResponseCd
//     (codes joined by '|') and no SecureResultCode (3DS did not run);
//   - outcome → TransactionStatus3D/ECI3D: 0 → Y/05, 2 and 3 → A/06,
//     1 → N/07, 8, 9 and U codes → U/07; CAVV3D only for Y and A;
//   - a U code chosen on the challenge page answers ResponseCd=Uxx with
//     SecureResultCode=9;
//   - 4MemAdd/4MemChg and 1Auth/1Gathering (combined mode) run the
//     operation after an outcome other than 1, 8, 9; otherwise the
//     operation is not run and ResponseCd is the U code, or U04 (1), U14
//     (8), U99 (9);
//   - a session not answered within 40 minutes answers U06.

// threeDSOps are the OperateIds accepted inside an E5 payload.
var threeDSOps = []escott.OperateID{escott.OpSecure, escott.OpMemAdd, escott.OpMemChg, escott.OpAuth, escott.OpGathering}

// threeDSChoice is one outcome the tester can pick on the challenge page.
type threeDSChoice struct {
	Value, LabelJa, LabelEn string
	Secure, Response        string
}

var threeDSChoices = []threeDSChoice{
	{"0", "認証成功", "authenticated", "0", "OK"},
	{"1", "認証失敗（本人認証NG）", "authentication failed", "1", "OK"},
	{"2", "未認証：3Dパスワード未設定", "not verified: cardholder not enrolled", "2", "OK"},
	{"3", "未認証：発行会社が3D未対応", "not verified: issuer does not support 3DS", "3", "OK"},
	{"8", "未認証：システムメンテナンス", "not verified: system maintenance", "8", "OK"},
	{"9", "未認証：認証システムエラー", "not verified: authentication system error", "9", "OK"},
	{"U01", "3Dパスワード未設定", "3DS password not set", "9", "U01"},
	{"U02", "3D未対応カード発行会社", "issuer does not support 3DS", "9", "U02"},
	{"U03", "ブランド/イシュア障害", "brand or issuer failure", "9", "U03"},
	{"U04", "3D認証不可", "3DS could not be performed", "9", "U04"},
	{"U06", "タイムアウト（40分超）", "timeout (over 40 minutes)", "9", "U06"},
	{"U09", "3D未対応ブランド", "brand not covered by 3DS", "9", "U09"},
	{"U14", "計画停止", "planned maintenance", "9", "U14"},
	{"U99", "想定外エラー", "unexpected error", "9", "U99"},
}

func lookupThreeDSChoice(v string) (threeDSChoice, bool) {
	for _, c := range threeDSChoices {
		if c.Value == v {
			return c, true
		}
	}
	return threeDSChoice{}, false
}

// threeDSStops reports whether a SecureResultCode stops the payment
// (spec §8.3, design A-18).
func threeDSStops(secure string) bool { return secure == "1" || secure == "8" || secure == "9" }

// threeDSFailureCode is the ResponseCd of an operation that was not run
// because 3-D Secure failed [SIM].
func threeDSFailureCode(secure, response string) string {
	if response != "" && response != escott.CodeOK {
		return response
	}
	switch secure {
	case "8":
		return "U14"
	case "9":
		return "U99"
	}
	return "U04"
}

// issueThreeDSResult makes the 3DS result fields of an outcome and records
// them (by DSTransactionId) so that a later authorisation carrying them
// can be checked.
func (s *Server) issueThreeDSResult(m *merchantEntry, e env, c card, amount int64, secure, response string) escott.Params {
	status, eci, withCAVV := "U", "07", false
	if response == escott.CodeOK {
		switch secure {
		case "0":
			status, eci, withCAVV = "Y", "05", true
		case "2", "3":
			status, eci, withCAVV = "A", "06", true
		case "1":
			status = "N"
		}
	}
	var f escott.Params
	f.Set("EncodeXId3D", randomBase64(20))
	f.Set("MessageVersionNo3D", "2.2.0")
	f.Set("TransactionStatus3D", status)
	if withCAVV {
		f.Set("CAVVAlgorithm3D", "2")
		f.Set("CAVV3D", randomBase64(20))
	}
	f.Set("ECI3D", eci)
	dsID := tdsUUID()
	f.Set("DSTransactionId", dsID)
	f.Set("ThreeDSServerTransactionId", tdsUUID())

	s.mu.Lock()
	m.state[e].threeDS[dsID] = &threeDSResult{
		MerchantID: m.MerchantID, Env: e, CardNumber: c.Number, Amount: amount,
		Fields: append(escott.Params{{Key: "SecureResultCode", Value: secure}}, f...), Issued: s.nowLocked(),
	}
	s.mu.Unlock()
	return f
}

// threeDSRequest is a checked E5 request.
type threeDSRequest struct {
	env    env
	op     escott.OperateID
	card   card
	amount int64
}

// checkThreeDSRequest validates a decrypted E5 payload and finds the card
// to authenticate. It returns the gateway codes of every problem.
func (s *Server) checkThreeDSRequest(m *merchantEntry, merchantID string, p url.Values) (threeDSRequest, []string) {
	var req threeDSRequest
	e, op, codes, ok := checkHandoffRequest(m, merchantID, p, m.DisableThreeDS, threeDSOps)
	if !ok {
		return req, codes
	}
	req.env, req.op = e, op
	if v := p.Get("PostUrl"); v != "" && !httpURL(v) {
		codes = append(codes, "K87")
	}
	switch req.op {
	case escott.OpSecure, escott.OpAuth, escott.OpGathering:
		amount, ok := parseWireAmount(p.Get("Amount"))
		if !ok {
			codes = append(codes, "K23")
		}
		req.amount = amount
		if req.op != escott.OpSecure && !escott.PayType(p.Get("PayType")).Valid() {
			codes = append(codes, "K22")
		}
	}
	if len(codes) > 0 {
		return req, codes
	}
	// The card source, with the codes of validateCardSource and
	// validateMemberCard.
	token, kaiinID, kaiinPass := p.Get("Token"), p.Get("KaiinId"), p.Get("KaiinPass")
	var code string
	switch req.op {
	case escott.OpSecure, escott.OpAuth, escott.OpGathering:
		switch {
		case token != "" && (kaiinID != "" || kaiinPass != ""):
			code = "K01"
		case token != "":
			req.card, code = s.lookupTokenCard(m, e, token)
		case !escott.ValidKaiinID(kaiinID) && (kaiinID != "" || kaiinPass != ""):
			code = "K45"
		case kaiinID != "" && !escott.ValidKaiinPass(kaiinPass):
			code = "K46"
		case kaiinID != "":
			req.card, code = s.lookupMemberCard(m, e, kaiinID, kaiinPass)
		default:
			code = "K20"
		}
	case escott.OpMemAdd, escott.OpMemChg:
		switch {
		case !escott.ValidKaiinID(kaiinID):
			code = "K45"
		case !escott.ValidKaiinPass(kaiinPass):
			code = "K46"
		case m.DisableMembers:
			code = "K68"
		case req.op == escott.OpMemChg:
			_, code = s.lookupMemberCard(m, e, kaiinID, kaiinPass)
		}
		if code == "" {
			if token == "" {
				code = "K20"
			} else {
				req.card, code = s.lookupTokenCard(m, e, token)
			}
		}
	}
	if code != "" {
		codes = append(codes, code)
	}
	return req, codes
}

func (s *Server) handleThreeDS(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		s.writeError(w, r, http.StatusMethodNotAllowed,
			"3Dセキュアの画面へは POST（MerchantId と EncryptValue）で遷移してください。",
			"The 3-D Secure page takes a POST of MerchantId and EncryptValue.")
		return
	}
	m, merchantID, payload, redirect, ok := s.openHandOff(w, r, "3DS")
	if !ok {
		return
	}
	req, codes := s.checkThreeDSRequest(m, merchantID, payload)
	if len(codes) > 0 {
		s.log.Info("sim: 3DS request refused", "merchant", merchantID, "result", joinCodes(codes))
		var res escott.Params
		res.Set("OperateId", payload.Get("OperateId"))
		res.Set("ResponseCd", joinCodes(codes))
		echoFields(&res, payload, "MerchantFree1", "MerchantFree2", "MerchantFree3")
		s.writeAutoSubmit(w, r, newAutoSubmit(m, redirect, res))
		return
	}
	sess := &browserSession{
		id: newSessionID(), kind: "3ds", merchantID: merchantID, env: req.env,
		payload: payload, card: req.card, created: nowReal(),
	}
	if tc, ok := LookupTestCard(req.card.Number); ok && tc.ThreeDS != "" {
		resp := tc.ThreeDSResponseCd
		if resp == "" {
			resp = escott.CodeOK
		}
		s.browser.put(sess)
		s.browser.claim(sess)
		res := s.browser.finish(sess, s.finishThreeDS(m, sess, tc.ThreeDS, resp))
		s.writeAutoSubmit(w, r, res)
		return
	}
	s.browser.put(sess)
	s.writeChallenge(w, r, http.StatusOK, sess, "")
}

// challengePage is the data of the challenge page.
type challengePage struct {
	Action     string
	MerchantID string
	OperateID  string
	OpLabel    string
	Amount     int64
	Card       string
	Brand      string
	Choices    []threeDSChoice
	Error      string
}

func (s *Server) writeChallenge(w http.ResponseWriter, r *http.Request, status int, sess *browserSession, errMsg string) {
	amount, _ := parseWireAmount(sess.payload.Get("Amount"))
	op := escott.OperateID(sess.payload.Get("OperateId"))
	s.writePage(w, r, status, "challenge", "3Dセキュア認証 / 3-D Secure", challengePage{
		Action:     s.basePath() + "/_sim/3ds/" + sess.id,
		MerchantID: sess.merchantID,
		OperateID:  string(op),
		OpLabel:    op.Label(),
		Amount:     amount,
		Card:       sess.card.masked(),
		Brand:      cardBrand(sess.card.Number),
		Choices:    threeDSChoices,
		Error:      errMsg,
	})
}

// cardBrand names the brand of a card number for display.
func cardBrand(number string) string {
	if tc, ok := LookupTestCard(number); ok {
		return tc.Brand
	}
	switch {
	case len(number) >= 2 && number[:2] == "35":
		return "JCB"
	case len(number) >= 2 && number[:2] == "36":
		return "Diners"
	case len(number) >= 2 && (number[:2] == "34" || number[:2] == "37"):
		return "AMEX"
	case len(number) >= 1 && number[0] == '4':
		return "VISA"
	case len(number) >= 1 && (number[0] == '5' || number[0] == '2'):
		return "Mastercard"
	}
	return ""
}

func (s *Server) handleThreeDSAnswer(w http.ResponseWriter, r *http.Request) {
	sess, expired := s.browser.get(r.PathValue("session"), "3ds")
	if sess == nil {
		s.writeError(w, r, http.StatusNotFound, "この3Dセキュア認証のセッションは存在しません。", "No such 3-D Secure session.")
		return
	}
	if res := s.browser.answered(sess); res != nil {
		s.writeAutoSubmit(w, r, res)
		return
	}
	if r.Method != http.MethodPost {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, POST")
			s.writeError(w, r, http.StatusMethodNotAllowed, "許可されていないメソッドです。", "Method not allowed.")
			return
		}
		s.writeChallenge(w, r, http.StatusOK, sess, "")
		return
	}
	m := s.merchants[sess.merchantID]
	var choice threeDSChoice
	if expired {
		choice = threeDSChoice{Secure: "9", Response: "U06"}
	} else {
		if !s.parseBrowserForm(w, r) {
			return
		}
		var ok bool
		choice, ok = lookupThreeDSChoice(r.PostForm.Get("outcome"))
		if !ok {
			s.writeChallenge(w, r, http.StatusBadRequest, sess, "結果を選んでください。 / Choose an outcome.")
			return
		}
	}
	if prev, ok := s.browser.claim(sess); !ok {
		if prev != nil {
			s.writeAutoSubmit(w, r, prev)
			return
		}
		s.writeError(w, r, http.StatusConflict, "処理中です。しばらくしてから再読み込みしてください。", "Already being processed; reload in a moment.")
		return
	}
	res := s.browser.finish(sess, s.finishThreeDS(m, sess, choice.Secure, choice.Response))
	s.writeAutoSubmit(w, r, res)
}

// finishThreeDS builds the answer of a 3DS session for an outcome, running
// the payload's operation for member and combined requests.
func (s *Server) finishThreeDS(m *merchantEntry, sess *browserSession, secure, response string) *autoSubmit {
	p := sess.payload
	op := escott.OperateID(p.Get("OperateId"))
	amount, _ := parseWireAmount(p.Get("Amount"))
	fields3 := s.issueThreeDSResult(m, sess.env, sess.card, amount, secure, response)

	var res escott.Params
	res.Set("OperateId", string(op))
	res.Set("ResponseCd", response)
	res.Set("SecureResultCode", secure)
	echoFields(&res, p, "MerchantFree1", "MerchantFree2", "MerchantFree3")
	res = append(res, fields3...)

	if op != escott.OpSecure {
		if threeDSStops(secure) || response != escott.CodeOK {
			res.Set("ResponseCd", threeDSFailureCode(secure, response))
		} else {
			fields := cloneValues(p)
			fields.Set("MerchantId", sess.merchantID)
			for _, kv := range fields3 {
				fields.Set(kv.Key, kv.Value)
			}
			fields.Set("SecureResultCode", secure)
			ep := escott.EndpointCard
			if op == escott.OpMemAdd || op == escott.OpMemChg {
				ep = escott.EndpointMember
			}
			out := s.process(ep, fields)
			for _, kv := range out {
				if kv.Key == "OperateId" {
					continue
				}
				res.Set(kv.Key, kv.Value)
			}
		}
		if op == escott.OpMemAdd || op == escott.OpMemChg {
			echoFields(&res, p, "KaiinId", "KaiinPass")
		}
	}
	s.log.Info("sim: 3DS answered", "merchant", sess.merchantID, "env", sess.env, "operate_id", op,
		"secure_result", secure, "result", res.Get("ResponseCd"))
	return newAutoSubmit(m, p.Get("RedirectUrl"), res)
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
