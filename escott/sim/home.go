package sim

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/kessai/kessai/escott"
)

// The home page (GET / and /_sim/): what the simulator is, its merchants
// with every credential (it is a simulator), where to point a merchant
// system, the test cards and the installment rules.

type homeEndpoint struct {
	ID, NameJa, NameEn, Method, URL string
}

type homeMerchant struct {
	Merchant
	Tenants      string
	ScriptTag    string
	ScriptTagPrd string
	Options      []string
}

type homeCard struct {
	TestCard
	Behaviour string
}

type homePayTypes struct {
	Prefix, Group string
	Codes         []string
}

type homeData struct {
	Base      string
	Endpoints []homeEndpoint
	Merchants []homeMerchant
	Cards     []homeCard
	PayTypes  []homePayTypes
	CvsCodes  []agentGroup
	Now       string
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

func (s *Server) handleHome(w http.ResponseWriter, r *http.Request) {
	base := s.publicBase(r)
	d := homeData{Base: base, CvsCodes: agentGroups, Now: escott.FormatDisplayDate(s.now())}
	d.Endpoints = []homeEndpoint{
		{"E1", "カード決済", "card transactions", "POST", base + escott.PathCard},
		{"E2", "カード会員", "card members", "POST", base + escott.PathMember},
		{"E3", "トークン照会", "token reference", "POST", base + escott.PathToken},
		{"E4", "オンライン収納代行", "online payment collection", "POST", base + escott.PathCollection},
		{"E5", "3Dセキュア（ブラウザ）", "3-D Secure (browser)", "POST", base + escott.PathThreeDS},
		{"E6", "外部リンク型決済画面（ブラウザ）", "hosted card page (browser)", "GET", base + escott.PathLink},
		{"E7", "トークン作成スクリプト", "token script", "GET", base + escott.PathTokenJS + "?k_TokenNinsyoCode=…"},
		{"E8", "収納代行 支払方法選択（テスト）", "collection agent page (test)", "GET", base + escott.PathAgentTest + "?code=…&rkbn=1"},
		{"E8", "収納代行 支払方法選択（本番）", "collection agent page (production)", "GET", base + escott.PathAgentProd + "?code=…&rkbn=1"},
	}
	for _, m := range s.cfg.Merchants {
		hm := homeMerchant{Merchant: m, Tenants: strings.Join(m.TenantIDs, ", ")}
		if len(m.TenantIDs) == 0 {
			hm.Tenants = "0001"
		}
		src := base + escott.PathTokenJS + "?k_TokenNinsyoCode=" + urlQueryEscape(m.TokenAuthCode)
		hm.ScriptTag = `<script type="text/javascript" src="` + src + `" callBackFunc="setToken" class="spsvToken"></script>`
		hm.ScriptTagPrd = `<script type="text/javascript" src="` + src + `&sim_env=prod" callBackFunc="setToken" class="spsvToken"></script>`
		for _, o := range []struct {
			off    bool
			ja, en string
		}{
			{m.DisableThreeDS, "3Dセキュア", "3-D Secure"},
			{m.DisableMembers, "カード会員", "card members"},
			{m.DisableCollection, "オンライン収納代行", "online collection"},
			{m.DisableLink, "外部リンク型", "external link type"},
		} {
			state := "有効 / on"
			if o.off {
				state = "無効 / off"
			}
			hm.Options = append(hm.Options, o.ja+" ("+o.en+"): "+state)
		}
		d.Merchants = append(d.Merchants, hm)
	}
	for _, c := range TestCards {
		d.Cards = append(d.Cards, homeCard{TestCard: c})
	}
	for _, g := range []struct {
		prefix string
		pan    string
	}{
		{"4, 5, 35", "4"},
		{"37", "37"},
		{"36", "36"},
		{"その他 / other (34, 30, 38, 39, 2…)", "9"},
	} {
		bg := escott.BrandGroupOf(g.pan)
		var codes []string
		for _, pt := range escott.AllowedPayTypes(bg, escott.InstallmentsAndBonus) {
			codes = append(codes, string(pt)+" "+pt.Label())
		}
		d.PayTypes = append(d.PayTypes, homePayTypes{Prefix: g.prefix, Group: bg.String(), Codes: codes})
	}
	s.writePage(w, r, http.StatusOK, "home", "e-SCOTT Smart シミュレーター / simulator", d)
}
