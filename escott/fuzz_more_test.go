package escott

import (
	"bytes"
	"errors"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// Fuzz targets for what reaches the escott package from outside: the
// EncryptValue of browser returns (encryption round trip, ParseReturn),
// gateway answers rebuilt from fields (ParseResponse), notifications,
// the dates operators type, masking of logged fields, the PayType a
// shopper's form submits and the ids read back from the gateway. The
// older targets (FuzzDecrypt, FuzzParseResponse, FuzzParseNotification,
// FuzzLookupCode, FuzzParsePayLimit, FuzzParseNyukinDate) are in the
// files of the code they test. Committed corpora are in
// testdata/fuzz/<FuzzName>/; scripts/fuzz.sh runs every target.

// FuzzEncryptRoundTrip: any plaintext that a gateway could have sent
// (control-free valid UTF-8) decrypts back unchanged, also with the
// base64 spread over lines and its '+' turned into spaces by a form
// decoder; any other plaintext is refused with ErrBadEncryptValue only.
func FuzzEncryptRoundTrip(f *testing.F) {
	for _, v := range encryptVectors {
		f.Add(v.plain)
	}
	f.Add("")
	f.Add("OperateId=3Secure&ResponseCd=OK&SecureResultCode=0&MerchantFree1=000123456789")
	f.Add("a=1\n")
	f.Add("名前=山田&x=\x7f")
	f.Add("\xff\xfe")
	f.Add(strings.Repeat("z", 16))
	c := testCipher(f)
	f.Fuzz(func(t *testing.T, plain string) {
		ev := c.EncryptString(plain)
		if len(ev)%4 != 0 || len(ev) < 24 {
			t.Fatalf("EncryptString(%q) = %q: not whole base64 blocks", plain, ev)
		}
		got, err := c.DecryptString(ev)
		plausible := plausiblePlaintext([]byte(plain)) && len(ev) <= maxEncryptValue
		switch {
		case plausible && (err != nil || got != plain):
			t.Fatalf("round trip of %q: %q, %v", plain, got, err)
		case !plausible && !errors.Is(err, ErrBadEncryptValue):
			t.Fatalf("implausible %q decrypted to %q, %v", plain, got, err)
		case !plausible:
			return
		}
		// What a browser or a form decoder may do to the value on the
		// way back must not matter.
		var folded strings.Builder
		for i := 0; i < len(ev); i += 60 {
			folded.WriteString(strings.ReplaceAll(ev[i:min(i+60, len(ev))], "+", " "))
			folded.WriteString("\r\n\t")
		}
		if again, err := c.DecryptString(folded.String()); err != nil || again != plain {
			t.Fatalf("folded value of %q: %q, %v", plain, again, err)
		}
		// Decrypt reads the plaintext exactly as url.ParseQuery does.
		fields, err := c.Decrypt(ev)
		want, werr := url.ParseQuery(plain)
		if werr != nil || len(want) == 0 {
			if !errors.Is(err, ErrBadEncryptValue) {
				t.Fatalf("Decrypt of the unparsable %q: %v, %v", plain, fields, err)
			}
			return
		}
		if err != nil || !reflect.DeepEqual(fields, want) {
			t.Fatalf("Decrypt of %q = %v, %v; want %v", plain, fields, err, want)
		}
	})
}

// FuzzEncryptParams: whatever the keys and values (any bytes), a
// parameter list encrypted for the gateway decrypts to the same fields,
// in the same order for repeated keys.
func FuzzEncryptParams(f *testing.F) {
	f.Add("OperateId", "3Secure", "RedirectUrl", "https://shop.example/escott/notify?x=1&y=2", "MerchantFree1", "000123456789")
	f.Add("", "", "", "", "", "")
	f.Add("a", "b c+d%", "a", "=&;", "名前", "\x00\xff")
	f.Add("BillingFullName", "TARO YAMADA", "BillingEmail", "taro+x@example.jp", "Amount", "-1")
	c := testCipher(f)
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2, k3, v3 string) {
		p := Params{{k1, v1}, {k2, v2}, {k3, v3}}
		want := url.Values{}
		for _, kv := range p {
			want.Add(kv.Key, kv.Value)
		}
		ev := c.Encrypt(p)
		got, err := c.Decrypt(ev)
		if len(ev) > maxEncryptValue {
			if !errors.Is(err, ErrBadEncryptValue) {
				t.Fatalf("oversized value accepted: %v", err)
			}
			return
		}
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("Decrypt(Encrypt(%q)) = %q, %v", p, got, err)
		}
		// ParamsFromValues keeps the first value of every key.
		back := ParamsFromValues(got)
		for _, kv := range back {
			if kv.Value != want.Get(kv.Key) {
				t.Fatalf("ParamsFromValues: %q = %q, want %q", kv.Key, kv.Value, want.Get(kv.Key))
			}
		}
		if len(back) != len(want) || !slices.IsSortedFunc(back, func(a, b Param) int { return strings.Compare(a.Key, b.Key) }) {
			t.Fatalf("ParamsFromValues(%v) = %v", got, back)
		}
	})
}

// FuzzParseReturn: an encrypted browser return with any plaintext is
// either refused with ErrBadEncryptValue or ErrIncompleteReturn, or read
// with an OperateId and at least one ResponseCd code, the fields exactly
// as sent and every accessor usable. The second argument is tried as an
// EncryptValue as it is (garbage and tampered values).
func FuzzParseReturn(f *testing.F) {
	threeDS := "OperateId=3Secure&ResponseCd=OK&SecureResultCode=0&MerchantFree1=000123456789&MerchantFree2=ord_1" +
		"&EncodeXId3D=wfZR5pC9Zx3osM7C%2F4kjjkMAcaM%3D&MessageVersionNo3D=2.2.0&TransactionStatus3D=Y&ECI3D=05" +
		"&DSTransactionId=ff98a27f-9c1d-43cc-94bb-60777a58bffe&ThreeDSServerTransactionId=2fd079f7-6b2c-411f-b33b-dae4ebe50e76"
	c := testCipher(f)
	f.Add(threeDS, c.EncryptString(threeDS))
	f.Add("MerchantId=030000001&OperateId=1Gathering&ResponseCd=OK&MerchantFree1=000123456789&MerchantFree2=ord_2&ProcessId=p&ProcessPass=q", "")
	f.Add("MerchantId=030000001&OperateId=4MemAdd&ResponseCd=P51&KaiinId=k1i0000001&KaiinPass=000000000001", "AAAA")
	f.Add("OperateId=4MemChg&ResponseCd=OK&SecureResultCode=1", "====")
	f.Add("OperateId=1Auth&ResponseCd=|||", c.EncryptString("a"))
	f.Add("ResponseCd=OK", "ClgSoomfzb3gSkWmxQBrcA==")
	f.Add("OperateId=&ResponseCd=OK", " \r\n")
	f.Fuzz(func(t *testing.T, plain, raw string) {
		check := func(ev string, fields url.Values) {
			r, err := ParseReturn(c, ev)
			if err != nil {
				if r != nil || !(errors.Is(err, ErrBadEncryptValue) || errors.Is(err, ErrIncompleteReturn)) {
					t.Fatalf("ParseReturn refused %q with %T %v (return %v)", ev, err, err, r)
				}
				if fields != nil && fields.Get("OperateId") != "" && len(SplitCodes(fields.Get("ResponseCd"))) > 0 {
					t.Fatalf("complete return %v refused: %v", fields, err)
				}
				return
			}
			if fields != nil && !reflect.DeepEqual(r.Fields, fields) {
				t.Fatalf("fields %v, sent %v", r.Fields, fields)
			}
			if r.Get("OperateId") == "" || len(r.Codes) == 0 || r.OperateID() == "" {
				t.Fatalf("return without OperateId or codes: %v", r.Fields)
			}
			if r.OK() == (len(r.FailureCodes()) > 0) {
				t.Fatalf("OK %v with failure codes %q", r.OK(), r.FailureCodes())
			}
			if r.ShopperCancelled() && (len(r.Codes) != 1 || r.OK()) {
				t.Fatalf("cancelled with codes %q", r.Codes)
			}
			if r.IsThreeDS() != r.Fields.Has("SecureResultCode") || r.ThreeDS.SecureResultCode != r.Get("SecureResultCode") {
				t.Fatalf("3DS fields misread: %+v", r.ThreeDS)
			}
			if r.ThreeDS.StopsPayment() && !slices.Contains([]string{"1", "8", "9"}, r.ThreeDS.SecureResultCode) {
				t.Fatalf("SecureResultCode %q stops the payment", r.ThreeDS.SecureResultCode)
			}
			if r.FromCheckout() != (r.Get("MerchantId") != "" && r.Get("MerchantFree2") != "") {
				t.Fatal("FromCheckout disagrees with the fields")
			}
			if m := r.Member(); m.KaiinID != r.Get("KaiinId") || m.KaiinPass != r.Get("KaiinPass") {
				t.Fatalf("member %+v", m)
			}
			if pr := r.Process(); pr.ProcessID != r.ProcessID() || pr.ProcessPass != r.ProcessPass() {
				t.Fatalf("process %+v", pr)
			}
			// Whatever a return carries, the masked copy for the log
			// hides its secrets.
			for k, vs := range MaskValues(r.Fields) {
				for i, v := range vs {
					if secretFields[k] && v != "" && v != Masked {
						t.Fatalf("%s logged as %q", k, v)
					}
					if secretFields[k] && r.Fields[k][i] == "" && v != "" {
						t.Fatalf("empty %s logged as %q", k, v)
					}
				}
			}
		}
		var fields url.Values
		if plausiblePlaintext([]byte(plain)) {
			if v, err := url.ParseQuery(plain); err == nil && len(v) > 0 {
				fields = v
			}
		}
		ev := c.EncryptString(plain)
		if len(ev) > maxEncryptValue {
			fields = nil
		}
		check(ev, fields)
		check(raw, nil)
	})
}

// FuzzResponseFields: an answer body built from fields (as the gateway
// and the simulator write it) parses back to the same fields, with
// ResponseCd and TokenResponseCd split as SplitCodes does; an answer
// whose ResponseCd has no code is ErrNoResponseCd.
func FuzzResponseFields(f *testing.F) {
	f.Add("OK", false, "", "ProcessId", "abc")
	f.Add("K20|K21", true, "KI2", "TransactionId", "1")
	f.Add(" | ", true, "OK", "", "")
	f.Add("", false, "", "x", "y")
	f.Add("G12", true, "", "ResponseCd", "OK")
	f.Fuzz(func(t *testing.T, code string, withToken bool, token, key, value string) {
		p := Params{{"ResponseCd", code}}
		if withToken {
			p.Set("TokenResponseCd", token)
		}
		if key != "ResponseCd" && key != "TokenResponseCd" {
			p.Set(key, value)
		}
		body := p.Encode()
		r, err := ParseResponse([]byte(body))
		codes := SplitCodes(code)
		if len(body) > maxResponseBody {
			if err == nil {
				t.Fatal("oversized answer accepted")
			}
			return
		}
		if len(codes) == 0 {
			if !errors.Is(err, ErrNoResponseCd) || r != nil {
				t.Fatalf("ParseResponse(%q) = %v, %v; want ErrNoResponseCd", body, r, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("ParseResponse(%q): %v", body, err)
		}
		if !reflect.DeepEqual(r.Fields, p.Values()) || !slices.Equal(r.Codes, codes) {
			t.Fatalf("ParseResponse(%q) = %v %q", body, r.Fields, r.Codes)
		}
		if withToken && !slices.Equal(r.TokenCodes, SplitCodes(token)) || !withToken && r.TokenCodes != nil {
			t.Fatalf("TokenCodes %q for TokenResponseCd %q (sent %v)", r.TokenCodes, token, withToken)
		}
		wantOK := isOK(codes) && (r.TokenCodes == nil || isOK(r.TokenCodes))
		if r.OK() != wantOK || r.OK() == (len(r.FailureCodes()) > 0) {
			t.Fatalf("OK() = %v for %q / %q, failure codes %q", r.OK(), code, token, r.FailureCodes())
		}
		if cl := ClassOf(r.FailureCodes()); cl < ClassUnknown || cl >= numClasses {
			t.Fatalf("class %d", int(cl))
		}
	})
}

// FuzzNotificationFields: a payment notification is accepted only with
// its six fields present, each at most 256 bytes, a date ParseNyukinDate
// reads and a non-negative integer Amount when there is one; what is
// accepted is the trimmed fields.
func FuzzNotificationFields(f *testing.F) {
	f.Add("030000001", "1000000000001", "R123", "20241003101530", "000771020345", "ord_1", "SEV ", "3630")
	f.Add(" 030000001 ", "1", "1", "20241003", "1", "1", "", "")
	f.Add("1", "1", "1", "202410031015", "1", "1", "XYZ", "-1")
	f.Add("1", "1", "1", "20241331", "1", "1", "", "1.5")
	f.Add("", "", "", "", "", "", "", "")
	f.Fuzz(func(t *testing.T, merchant, tx, recv, nyukin, mf1, mf2, cvs, amount string) {
		v := url.Values{"MerchantId": {merchant}, "TransactionId": {tx}, "RecvNum": {recv}, "NyukinDate": {nyukin},
			"MerchantFree1": {mf1}, "MerchantFree2": {mf2}, "CvsCd": {cvs}, "Amount": {amount}}
		// The receiver reads the form of the request: go through the
		// wire encoding, as the gateway's notification does.
		fields, err := url.ParseQuery(v.Encode())
		if err != nil {
			t.Fatal(err)
		}
		n, err := ParseNotification(fields)
		if !IsNotification(fields) {
			if !errors.Is(err, ErrNotNotification) || n != nil {
				t.Fatalf("not a notification: %v, %v", n, err)
			}
			return
		}
		// Exactly the documented checks refuse a notification.
		valid := true
		for _, s := range []string{merchant, tx, recv, nyukin, mf1, mf2, cvs, amount} {
			valid = valid && len(s) <= maxNotificationField
		}
		if _, derr := ParseNyukinDate(strings.TrimSpace(nyukin)); derr != nil {
			valid = false
		}
		if a := strings.TrimSpace(amount); a != "" {
			if v, perr := strconv.ParseInt(a, 10, 64); perr != nil || v < 0 {
				valid = false
			}
		}
		if err != nil {
			if n != nil || valid {
				t.Fatalf("refused %v: %v", fields, err)
			}
			return
		}
		if !valid {
			t.Fatalf("accepted %v", fields)
		}
		if n.MerchantID != strings.TrimSpace(merchant) || n.TransactionID != strings.TrimSpace(tx) || n.MerchantFree1 != strings.TrimSpace(mf1) ||
			n.MerchantFree2 != strings.TrimSpace(mf2) || n.CvsCd != strings.TrimSpace(cvs) || n.RecvNum != strings.TrimSpace(recv) ||
			n.NyukinDate != strings.TrimSpace(nyukin) || !reflect.DeepEqual(n.Fields, fields) {
			t.Fatalf("fields misread: %+v", n)
		}
		if n.Amount < 0 || (strings.TrimSpace(amount) == "" && n.Amount != 0) {
			t.Fatalf("Amount %d from %q", n.Amount, amount)
		}
		_ = CvsName(n.CvsCd)
	})
}

// FuzzDueDate: an operator's due date (ParseDate, PayLimitFromDate) is
// exactly 8 digits of a real day; what is accepted formats back to
// itself, and a PayLimit is that day + "2359" within MaxDueDays of today,
// readable by ParsePayLimit. Refusals of a real day wrap the two
// documented errors.
func FuzzDueDate(f *testing.F) {
	f.Add("20260401", int64(0))
	f.Add("20260230", int64(0))
	f.Add("2026-4-1", int64(86400))
	f.Add("20260531", int64(-86400*400))
	f.Add("00010101", int64(1<<40))
	f.Add("99991231", int64(-(1 << 40)))
	f.Add("２０２６０４０１", int64(0))
	base := time.Date(2026, 4, 1, 12, 0, 0, 0, JST)
	f.Fuzz(func(t *testing.T, s string, offset int64) {
		d, err := ParseDate(s)
		if err == nil {
			if TransactionDate(d) != s || !d.Equal(jstMidnight(d)) || d.Location() != JST {
				t.Fatalf("ParseDate(%q) = %v", s, d)
			}
		} else if d != (time.Time{}) {
			t.Fatalf("ParseDate(%q) returned %v with %v", s, d, err)
		}
		now := base.Add(time.Duration(offset%(1<<33)) * time.Second) // ±272 years
		limit, lerr := PayLimitFromDate(s, now)
		if err != nil {
			if lerr == nil {
				t.Fatalf("PayLimitFromDate accepted %q that ParseDate refuses", s)
			}
			return
		}
		if lerr != nil {
			if !errors.Is(lerr, ErrDueDateInPast) && !errors.Is(lerr, ErrDueDateTooLate) {
				t.Fatalf("PayLimitFromDate(%q): %v", s, lerr)
			}
			return
		}
		if limit != s+payLimitTime {
			t.Fatalf("PayLimitFromDate(%q) = %q", s, limit)
		}
		end, err := ParsePayLimit(limit)
		if err != nil || end.Before(now) || end.After(jstMidnight(now).AddDate(0, 0, MaxDueDays+1)) {
			t.Fatalf("PayLimit %q for now %v: %v %v", limit, now, end, err)
		}
	})
}

// FuzzMaskValue: a masked field never shows a secret, a card number
// keeps only its first and last four characters and its length, personal
// data only its first character; other fields are left as they are.
func FuzzMaskValue(f *testing.F) {
	f.Add("CardNo", "4012000000000008")
	f.Add("CardNo", "12345678")
	f.Add("MerchantPass", "secret")
	f.Add("NameKanji", "山田太郎")
	f.Add("TelNo", "\xff\xfe")
	f.Add("Amount", "100")
	f.Add("EncryptValue", "")
	keys := []string{"CardNo", "MerchantPass", "KaiinPass", "Token", "EncryptValue", "SecCd", "NameKanji", "BillingEmail", "TelNo", "Amount"}
	f.Fuzz(func(t *testing.T, key, value string) {
		for _, k := range append(keys, key) {
			got := MaskValue(k, value)
			switch {
			case value == "":
				if got != "" {
					t.Fatalf("MaskValue(%q, \"\") = %q", k, got)
				}
			case secretFields[k]:
				if got != Masked {
					t.Fatalf("secret %s masked as %q", k, got)
				}
			case panFields[k]:
				want := strings.Repeat("*", len(value))
				if len(value) > 8 {
					want = value[:4] + strings.Repeat("*", len(value)-8) + value[len(value)-4:]
				}
				if got != want {
					t.Fatalf("card number %q masked as %q", value, got)
				}
			case personalFields[k]:
				r, _ := utf8.DecodeRuneInString(value)
				if !strings.HasSuffix(got, "***") || utf8.RuneCountInString(got) != 4 || (r != utf8.RuneError && !strings.HasPrefix(got, string(r))) {
					t.Fatalf("personal %s %q masked as %q", k, value, got)
				}
			default:
				if got != value {
					t.Fatalf("%s changed to %q", k, got)
				}
			}
		}
		p := Params{{key, value}, {"MerchantPass", value}}
		if m := MaskParams(p); len(m) != 2 || m[0].Key != key || m[0].Value != MaskValue(key, value) || (value != "" && m[1].Value != Masked) {
			t.Fatalf("MaskParams(%q) = %q", p, m)
		}
		if p[1].Value != value {
			t.Fatal("MaskParams changed its argument")
		}
	})
}

// FuzzCheckPayType: a submitted PayType is accepted exactly when
// AllowedPayTypes offers it for the card's brand and the shop's mode (lump
// sum always); refusals wrap ErrPayTypeNotAllowed, and labels never fail.
func FuzzCheckPayType(f *testing.F) {
	f.Add("4012000000000008", uint8(1), "02")
	f.Add("3712********0002", uint8(2), "80")
	f.Add("36", uint8(2), "88")
	f.Add("", uint8(0), "01")
	f.Add("3", uint8(9), "")
	f.Add("5", uint8(1), "2")
	f.Fuzz(func(t *testing.T, pan string, mode uint8, pt string) {
		m := InstallmentMode(int(mode) - 1) // -1 and beyond 2: unknown values
		p := PayType(pt)
		err := CheckPayType(pan, m, p)
		allowed := AllowedPayTypes(BrandGroupOf(pan), m)
		want := p.Valid() && (p == PayLump || slices.Contains(allowed, p))
		if (err == nil) != want {
			t.Fatalf("CheckPayType(%q, %v, %q) = %v, allowed %q", pan, m, pt, err, allowed)
		}
		if err != nil && !errors.Is(err, ErrPayTypeNotAllowed) {
			t.Fatalf("refusal does not wrap ErrPayTypeNotAllowed: %v", err)
		}
		if len(allowed) == 0 || allowed[0] != PayLump {
			t.Fatalf("AllowedPayTypes(%v, %v) = %q", BrandGroupOf(pan), m, allowed)
		}
		for _, a := range allowed {
			if !a.Valid() || a.Label() == "" || a.LabelEn() == "" {
				t.Fatalf("offered %q", a)
			}
		}
		if p.Label() == "" && pt != "" || p.LabelEn() == "" && pt != "" {
			t.Fatalf("no label for %q", pt)
		}
		_ = BrandGroupOf(pan).String() + m.String()
	})
}

// FuzzIDs: ids read back from the gateway, notifications or storage are
// checked by form only, and the ids kessai makes pass its own checks.
func FuzzIDs(f *testing.F) {
	f.Add("15", []byte{1, 2, 3, 4, 5, 6, 7, 8}, "000482917365")
	f.Add("", []byte{}, "")
	f.Add("abcdefghijkl", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, "0004829173650")
	f.Add("a_b", []byte{0}, "00048291736a")
	f.Add("１２", []byte{9}, "１２")
	f.Fuzz(func(t *testing.T, customer string, random []byte, code string) {
		// A reader that repeats the fuzzed bytes (zeros when empty).
		// A stuck source (say all 0xff) may be refused with
		// errRandomRejected; nothing else may go wrong.
		rnd := &cycle{b: random}
		id, err := NewKaiinID(customer, rnd)
		okCustomer := customer != "" && len(customer) <= MaxKaiinCustomerIDLen && asciiAlnumOnly(customer)
		switch {
		case errors.Is(err, errRandomRejected) && okCustomer:
		case (err == nil) != okCustomer:
			t.Fatalf("NewKaiinID(%q) = %q, %v", customer, id, err)
		case err == nil && (!ValidKaiinID(id) || !strings.HasPrefix(id, "k"+customer+"i") || len(id) != len(customer)+2+procNoLen):
			t.Fatalf("NewKaiinID(%q) = %q", customer, id)
		}
		if pass, err := NewKaiinPass(rnd); !errors.Is(err, errRandomRejected) && (err != nil || !ValidKaiinPass(pass) || len(pass) != kaiinPassLen) {
			t.Fatalf("NewKaiinPass = %q, %v", pass, err)
		}
		if mf1, err := NewMerchantFree1(rnd); !errors.Is(err, errRandomRejected) &&
			(err != nil || !ValidMerchantFree1(mf1) || mf1 == NoTransactionCode || mf1 == "000000000000") {
			t.Fatalf("NewMerchantFree1 = %q, %v", mf1, err)
		}
		if pn, err := NewProcNo(rnd); !errors.Is(err, errRandomRejected) && (err != nil || len(pn) != procNoLen || !asciiDigitsOnly(pn) || pn == LinkProcNo) {
			t.Fatalf("NewProcNo = %q, %v", pn, err)
		}
		if ValidMerchantFree1(code) != (len(code) == 12 && asciiDigitsOnly(code)) {
			t.Fatalf("ValidMerchantFree1(%q)", code)
		}
		if ValidKaiinID(code) != (len(code) >= 1 && len(code) <= maxKaiinLen && asciiAlnumOnly(code)) {
			t.Fatalf("ValidKaiinID(%q)", code)
		}
	})
}

// cycle reads its bytes over and over; zeros when it has none.
type cycle struct {
	b []byte
	i int
}

func (c *cycle) Read(p []byte) (int, error) {
	for j := range p {
		if len(c.b) == 0 {
			p[j] = 0
			continue
		}
		p[j] = c.b[c.i%len(c.b)]
		c.i++
	}
	return len(p), nil
}

// FuzzClassText: a response code class read from text (stored attempts,
// JSON) is one of the classes, and writes back as the same text.
func FuzzClassText(f *testing.F) {
	for c := ClassUnknown; c < numClasses; c++ {
		f.Add(c.String())
	}
	f.Add("class(99)")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		var c Class
		if err := c.UnmarshalText([]byte(s)); err != nil {
			if _, ok := ParseClass(s); ok {
				t.Fatalf("ParseClass accepts %q that UnmarshalText refuses", s)
			}
			return
		}
		b, err := c.MarshalText()
		if err != nil || !bytes.Equal(b, []byte(s)) {
			t.Fatalf("%q → %v → %q, %v", s, c, b, err)
		}
	})
}
