package card

import (
	"github.com/kessai/kessai"
	"github.com/kessai/kessai/escott"
)

// Error codes of [CheckPayType], all KindInvalid on field "pay_type".
const (
	// CodePayTypeInvalid: not a PayType code at all (spec §4.5).
	CodePayTypeInvalid = "invalid_pay_type"
	// CodePayTypeLinkType: link type offers lump sum only (SET-11).
	CodePayTypeLinkType = "pay_type_link_type"
	// CodePayTypeSubscription: a cart with a subscription pays lump sum
	// (CARD-05): renewals always charge 01, so the first charge must too.
	CodePayTypeSubscription = "pay_type_subscription"
	// CodePayTypeLumpSumOnly: the shop's 支払回数 is 一括払いのみ.
	CodePayTypeLumpSumOnly = "pay_type_lump_sum_only"
	// CodePayTypeBonus: bonus payment is not enabled (分割払いとボーナス払い).
	CodePayTypeBonus = "pay_type_bonus_not_accepted"
	// CodePayTypeBrand: the card's brand does not allow the choice.
	CodePayTypeBrand = "pay_type_not_for_card"
)

// payTypeField is the request field the errors point at.
const payTypeField = "pay_type"

// CheckPayType validates on the server the PayType a shopper chose at
// checkout (CARD-05): the form offers only the allowed choices, but a form
// can be forged and the plugins never re-checked it. It returns the PayType
// to send — "" means the form's default, lump sum (01) — or a *kessai.Error
// KindInvalid on field "pay_type" that tells the shopper what to choose.
//
// The rules, in order: the code must exist; lump sum is always accepted;
// link type (cs.LinkType) and carts with a subscription accept lump sum
// only, whatever the setting; otherwise escott.CheckPayType decides, from
// the shop's 支払回数 (cs.InstallmentMode) and the card's brand group.
//
// cardPrefix is the first digits of the card, never the number itself
// (design A-10): the masked CardNo of 4MemRefM for a saved card, or the
// prefix the checkout script sends with the token for a new one (the token
// does not reveal the brand). Only its first four characters are looked
// at. A shopper could send a false prefix; the gateway then still refuses
// the combination (C10/C12/G74), so this check keeps honest shoppers from
// a gateway error, while the gateway remains the last word.
func CheckPayType(cs *kessai.CardSettings, cardPrefix string, subscription bool, p escott.PayType) (escott.PayType, error) {
	if p == "" {
		p = escott.PayLump
	}
	if len(cardPrefix) > 4 {
		cardPrefix = cardPrefix[:4]
	}
	switch {
	case !p.Valid():
		return "", kessai.FieldError(payTypeField, CodePayTypeInvalid,
			"お支払い回数の指定が正しくありません。", "The number of payments is not valid.")
	case p == escott.PayLump:
		return p, nil
	case cs == nil:
		// No settings: the safe default of SET-11, lump sum only.
		return "", lumpSumOnly()
	case cs.LinkType:
		return "", kessai.FieldError(payTypeField, CodePayTypeLinkType,
			"このお支払い方法では一括払いのみご利用いただけます。",
			"Only lump-sum payment is available with this payment method.")
	case subscription:
		return "", kessai.FieldError(payTypeField, CodePayTypeSubscription,
			"定期購入の商品を含むご注文は一括払いのみご利用いただけます。",
			"Orders that include a subscription can only be paid in one lump sum.")
	}
	mode := cs.InstallmentMode()
	err := escott.CheckPayType(cardPrefix, mode, p)
	if err == nil {
		return p, nil
	}
	// escott says no; word the reason for the shopper, checking the same
	// conditions escott does, in the same order.
	var e *kessai.Error
	switch {
	case mode != escott.Installments && mode != escott.InstallmentsAndBonus:
		e = lumpSumOnly()
	case escott.BrandGroupOf(cardPrefix) != escott.BrandUnknown && p == escott.PayBonus && mode != escott.InstallmentsAndBonus:
		e = kessai.FieldError(payTypeField, CodePayTypeBonus,
			"ボーナス一括払いはご利用いただけません。お支払い回数を変更してください。",
			"Bonus payment is not accepted. Please choose another number of payments.")
	default:
		e = kessai.FieldError(payTypeField, CodePayTypeBrand,
			"ご利用のカードでは「"+p.Label()+"」はご利用いただけません。お支払い回数を変更してください。",
			"The payment option “"+p.LabelEn()+"” is not available for this card. Please choose another number of payments.")
	}
	e.Err = err
	return "", e
}

// lumpSumOnly refuses anything but 01 in a shop that accepts lump sum only.
func lumpSumOnly() *kessai.Error {
	return kessai.FieldError(payTypeField, CodePayTypeLumpSumOnly,
		"このショップでは一括払いのみご利用いただけます。",
		"This shop accepts lump-sum payment only.")
}
