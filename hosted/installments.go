package hosted

import (
	"github.com/kessai/kessai/escott"
)

// payTypeOption is one choice of the 支払回数 select.
type payTypeOption struct {
	V   string `json:"v"`
	L   string `json:"l"`
	Sel bool   `json:"-"`
}

// brandKeys name the brand groups in the rules checkout.js reads; its
// brandGroup function maps a card number to these keys exactly as
// escott.BrandGroupOf maps it to a group (spec §7.4).
var brandKeys = []struct {
	key string
	g   escott.BrandGroup
}{
	{"vmj", escott.BrandVisaMasterJCB},
	{"amex", escott.BrandAmex},
	{"diners", escott.BrandDiners},
	{"other", escott.BrandUnknown},
}

// installmentRules are the choices per brand group under the shop's
// 支払回数 setting (CARD-05), rendered into the page so that the select
// follows the card number as it is typed. They come from
// escott.AllowedPayTypes, the same table card.CheckPayType enforces on the
// server, so the page never offers what the server would refuse.
func installmentRules(mode escott.InstallmentMode, lang string) map[string]any {
	groups := map[string][]payTypeOption{}
	for _, b := range brandKeys {
		groups[b.key] = payTypeOptions(escott.AllowedPayTypes(b.g, mode), "", lang)
	}
	return map[string]any{"groups": groups}
}

// payTypeOptions labels a list of PayTypes, marking sel (or lump sum when
// sel is not in the list).
func payTypeOptions(list []escott.PayType, sel escott.PayType, lang string) []payTypeOption {
	found := false
	for _, p := range list {
		if p == sel {
			found = true
		}
	}
	if !found {
		sel = escott.PayLump
	}
	out := make([]payTypeOption, 0, len(list))
	for _, p := range list {
		l := p.Label()
		if lang == langEn {
			l = p.LabelEn()
		}
		out = append(out, payTypeOption{V: string(p), L: l, Sel: p == sel})
	}
	return out
}
