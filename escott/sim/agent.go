package sim

import (
	"net/http"
	"strings"

	"github.com/kessai/kessai/escott"
)

// E8: the collection agent's payment page, link.kessai.info/JLPCT/JLPcon
// (test) and /JLP/JLPcon (production) (spec §10.1, §16.1).
//
// GET ?code={FreeArea}&rkbn=1|2 shows the registered payment with one
// button per payment channel; POST (same path, fields code, rkbn, cvs)
// pays it through payCollection, which also sends the notification, and
// shows a receipt with a link back to the collection's ReturnURL.
//
// [SIM] choices (docs/simulator-browser.md):
//   - the page shows the same content for rkbn=1 and rkbn=2 (absent is
//     taken as 1, other values are refused with 400);
//   - paying is immediate: choosing a channel stands for "the shopper paid
//     there", the notification follows at once;
//   - a code replaced by 2Chg, a deleted or expired collection, and an
//     unknown code each get a clear page (410 / 404); a paid one shows its
//     payment (200).

// agentChannel is one payment channel of the agent page (§10.9).
type agentChannel struct {
	Code, NameJa, NameEn string
}

// agentGroup is a heading of channels.
type agentGroup struct {
	NameJa, NameEn string
	Channels       []agentChannel
}

var agentGroups = []agentGroup{
	{"コンビニエンスストア", "Convenience stores", []agentChannel{
		{"SEV", "セブンイレブン", "Seven-Eleven"},
		{"LSN", "ローソン", "Lawson"},
		{"FAM", "ファミリーマート", "FamilyMart"},
		{"MNS", "ミニストップ", "Ministop"},
		{"DAY", "デイリーヤマザキ", "Daily Yamazaki"},
		{"SCM", "セイコーマート", "Seicomart"},
		{"SAK", "サンクス", "Sunkus"},
		{"CCK", "サークルK", "Circle K"},
		{"FFF", "スリーエフ", "Three F"},
	}},
	{"Pay-easy", "Pay-easy", []agentChannel{
		{"ATM", "Pay-easy（ATM）", "Pay-easy (ATM)"},
		{"ONL", "Pay-easy（オンライン）", "Pay-easy (online banking)"},
		{"LNK", "Pay-easy（情報リンク）", "Pay-easy (information link)"},
	}},
	{"ネットバンク", "Online banks", []agentChannel{
		{"EBK", "楽天銀行", "Rakuten Bank"},
		{"JNB", "ジャパンネット銀行", "Japan Net Bank"},
		{"JIB", "じぶん銀行", "Jibun Bank"},
		{"SNB", "住信SBIネット銀行", "SBI Sumishin Net Bank"},
	}},
	{"電子マネー", "E-money", []agentChannel{
		{"EDY", "Edy", "Edy"},
		{"SUI", "Suica", "Suica"},
		{"JPM", "JCBプレモ", "JCB PREMO"},
	}},
}

func lookupAgentChannel(code string) (agentChannel, bool) {
	code = strings.TrimSpace(code)
	for _, g := range agentGroups {
		for _, c := range g.Channels {
			if c.Code == code {
				return c, true
			}
		}
	}
	return agentChannel{}, false
}

// agentState is what the page knows about a code.
type agentState string

const (
	agentUnknown  agentState = "unknown"
	agentUnpaid   agentState = "unpaid"
	agentPaid     agentState = "paid"
	agentDeleted  agentState = "deleted"
	agentExpired  agentState = "expired"
	agentReplaced agentState = "replaced"
)

// agentView is a snapshot of a collection for the page.
type agentView struct {
	State      agentState
	MerchantID string
	Code       string
	Rkbn       string
	Action     string
	Env        string
	Amount     int64
	Due        string
	Shouhin    string
	ReturnURL  string // only when http(s)
	RecvNum    string
	PaidAt     string
	Channel    string
	Groups     []agentGroup
	Error      string
}

// agentLookup finds the collection of a payment code on an environment.
func (s *Server) agentLookup(e env, code string) agentView {
	v := agentView{State: agentUnknown, Code: code, Env: e.String()}
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, m := range s.merchants {
		col := m.state[e].freeAreas[code]
		if col == nil {
			continue
		}
		v.MerchantID = id
		v.Amount = col.Amount
		v.Shouhin = col.ShouhinName
		if httpURL(col.ReturnURL) {
			v.ReturnURL = col.ReturnURL
		}
		limit, err := escott.ParsePayLimit(col.PayLimit)
		if err == nil {
			v.Due = escott.FormatDisplayDate(limit)
		}
		switch {
		case col.Status == colDeleted:
			v.State = agentDeleted
		case col.Status == colPaid:
			v.State = agentPaid
			v.RecvNum = col.RecvNum
			if t, err := escott.ParseNyukinDate(col.NyukinDate); err == nil {
				v.PaidAt = escott.FormatDisplayDate(t)
			}
			v.Channel = col.CvsCd
			if c, ok := lookupAgentChannel(col.CvsCd); ok {
				v.Channel = c.NameJa + " / " + c.NameEn
			}
		case col.FreeArea != code:
			v.State = agentReplaced
		case err == nil && s.nowLocked().After(limit):
			v.State = agentExpired
		default:
			v.State = agentUnpaid
		}
		return v
	}
	return v
}

func (s *Server) handleAgent(e env) http.HandlerFunc {
	path := escott.PathAgentTest
	if e == envProd {
		path = escott.PathAgentProd
	}
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodPost {
			w.Header().Set("Allow", "GET, POST")
			s.writeError(w, r, http.StatusMethodNotAllowed, "許可されていないメソッドです。", "Method not allowed.")
			return
		}
		if !s.parseBrowserForm(w, r) {
			return
		}
		code := strings.TrimSpace(r.Form.Get("code"))
		rkbn := r.Form.Get("rkbn")
		if rkbn == "" {
			rkbn = "1"
		}
		if code == "" || len(code) > 64 || (rkbn != "1" && rkbn != "2") {
			s.writeError(w, r, http.StatusBadRequest, "支払番号（code）または表示区分（rkbn）が正しくありません。",
				"The payment code (code) or display type (rkbn) is not valid.")
			return
		}
		v := s.agentLookup(e, code)
		v.Rkbn = rkbn
		v.Action = s.basePath() + path
		v.Groups = agentGroups
		if r.Method != http.MethodPost || v.State != agentUnpaid {
			s.writeAgent(w, r, v)
			return
		}
		ch, ok := lookupAgentChannel(r.PostForm.Get("cvs"))
		if !ok {
			v.Error = "お支払い方法を選んでください。 / Choose a payment channel."
			s.writePage(w, r, http.StatusBadRequest, "agent", "お支払い方法の選択 / Choose how to pay", v)
			return
		}
		if err := s.payCollection(v.MerchantID, e, code, ch.Code); err != nil {
			s.log.Info("sim: agent page payment refused", "merchant", v.MerchantID, "env", e, "err", err)
			after := s.agentLookup(e, code)
			after.Rkbn, after.Action, after.Groups = rkbn, v.Action, agentGroups
			if after.State != agentUnpaid {
				s.writeAgent(w, r, after)
				return
			}
			after.Error = "お支払いを受け付けられませんでした（" + err.Error() + "）。 / The payment was refused."
			s.writePage(w, r, http.StatusConflict, "agent", "お支払い方法の選択 / Choose how to pay", after)
			return
		}
		s.log.Info("sim: collection paid on the agent page", "merchant", v.MerchantID, "env", e, "cvs", ch.Code)
		paid := s.agentLookup(e, code)
		paid.Rkbn, paid.Action = rkbn, v.Action
		s.writePage(w, r, http.StatusOK, "receipt", "お支払い完了 / Payment complete", paid)
	}
}

// writeAgent renders the page for a code in any state.
func (s *Server) writeAgent(w http.ResponseWriter, r *http.Request, v agentView) {
	switch v.State {
	case agentUnpaid:
		s.writePage(w, r, http.StatusOK, "agent", "お支払い方法の選択 / Choose how to pay", v)
	case agentPaid:
		s.writePage(w, r, http.StatusOK, "receipt", "お支払い済み / Already paid", v)
	case agentDeleted:
		s.writePage(w, r, http.StatusGone, "agentstatus", "お支払いは取り消されました / Cancelled", v)
	case agentExpired:
		s.writePage(w, r, http.StatusGone, "agentstatus", "お支払い期限切れ / Expired", v)
	case agentReplaced:
		s.writePage(w, r, http.StatusGone, "agentstatus", "支払番号が変更されました / Code replaced", v)
	default:
		s.writePage(w, r, http.StatusNotFound, "agentstatus", "お支払い情報が見つかりません / Not found", v)
	}
}
