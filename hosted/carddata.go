package hosted

import (
	"net/url"
	"strings"

	"github.com/kessai/kessai"
)

// The card data guard. kessai's own forms never name their card inputs,
// so a request that carries card data was built by hand, by a broken shop
// integration, or by an attacker probing whether kessai would take it.
// Either way it is refused whole: the pages must not process, echo or log
// a card number (CARD-02, design ).

// cardFieldNames are field names (lower case, without '_', '-' and
// spaces) that mean card data, from the gateway's own vocabulary (spec
// §7.2, the link page) and the usual autocomplete names.
var cardFieldNames = map[string]bool{
	"cardno": true, "cardnumber": true, "cardnum": true, "number": true, "pan": true, "ccnumber": true, "ccnum": true,
	"ccno": true, "creditcard": true, "creditcardnumber": true,
	"seccd": true, "securitycode": true, "cvc": true, "cvv": true, "cvv2": true, "cvc2": true, "csc": true, "cccsc": true,
	"cardexp": true, "expiry": true, "expirydate": true, "exp": true, "expmm": true, "expyy": true, "expmonth": true,
	"expyear": true, "expdate": true, "ccexp": true, "ccexpmonth": true, "ccexpyear": true, "mm": true, "yy": true,
}

// maxPrefixDigits is how much of a card number a form may send: the first
// six digits pick the installment rules (cardpay.PayInput.CardPrefix).
const maxPrefixDigits = 6

// hasCardData reports whether v carries card data: a card field name, a
// run of 13 or more digits anywhere (spaces and hyphens ignored, so
// "4123 0000 0000 0300" counts), or a card prefix longer than six digits.
// The digit rule needs no Luhn check: the manuals' demo card is not
// Luhn-valid, and no field of these forms ever holds 13 digits in a row.
// The gateway token is exempt from the run rule (its format is the
// gateway's) unless it is nothing but a card-length number.
func hasCardData(v url.Values) bool {
	for name, vals := range v {
		if cardFieldNames[normName(name)] || longDigitRun(name) {
			return true
		}
		for _, val := range vals {
			switch name {
			case "token":
				if n := len(val); n >= 13 && n <= 19 && allDigits(val) {
					return true
				}
			case "card_prefix":
				if len(val) > maxPrefixDigits {
					return true
				}
			case "customer_id":
				// The shop's own customer id, echoed by the gateway
				// receiver's redirect: a shop may well number its
				// customers with 13 digits or more.
			default:
				// A kessai id (ord_…, pay_…) is base32 and may, rarely,
				// hold 13 digits in a row: it is never card data.
				if longDigitRun(val) && !isID(val) {
					return true
				}
			}
		}
	}
	return false
}

func normName(s string) string {
	s = strings.ToLower(s)
	return strings.Map(func(r rune) rune {
		if r == '_' || r == '-' || r == ' ' || r == '.' {
			return -1
		}
		return r
	}, s)
}

// longDigitRun reports 13 or more digits in a row, ignoring spaces and
// hyphens between them (full-width digits included: a shopper's IME may
// type them).
func longDigitRun(s string) bool {
	n := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9', r >= '０' && r <= '９':
			n++
			if n >= 13 {
				return true
			}
		case r == ' ' || r == '-' || r == '\u3000':
		default:
			n = 0
		}
	}
	return false
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// isID reports whether s is an id made by kessai.NewID.
func isID(s string) bool {
	prefix, _, ok := strings.Cut(s, "_")
	return ok && len(prefix) <= 8 && kessai.ValidID(prefix, s)
}
