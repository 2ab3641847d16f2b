package leakscan

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func kinds(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, string(f.Kind)+":"+f.What)
	}
	return out
}

func TestLuhn(t *testing.T) {
	for _, n := range []string{"4012000000000008", "5123000000000001", "3530000000000003",
		"36000000000008", "370000000000002", "4000000000000127"} {
		if !Luhn(n) {
			t.Errorf("Luhn(%s) = false", n)
		}
	}
	// The manuals' demo card 4123000000000300 fails the check (the
	// simulator knows it by number).
	for _, n := range []string{"4123000000000300", "4012000000000009", "", "12a4", "0000000000000001"} {
		if Luhn(n) {
			t.Errorf("Luhn(%q) = true", n)
		}
	}
}

// TestCardNumbers: the card numbers of every brand the simulator knows,
// contiguous and grouped, inside text of every kind a log or a database
// holds.
func TestCardNumbers(t *testing.T) {
	var r Rules
	for _, tc := range []struct{ in, want string }{
		{`card=4012000000000008&exp=3012`, "401200…0008"},
		{`{"card_number":"5123000000000001"}`, "512300…0001"},
		{`JCB 3530000000000003.`, "353000…0003"},
		{`diners:36000000000008`, "360000…0008"},
		{`amex 370000000000002 end`, "370000…0002"},
		{`4012 0000 0000 0008`, "401200…0008"},
		{`4012-0000-0000-0008`, "401200…0008"},
		{`3700 000000 00002`, "370000…0002"},
		{`x4012000000000008y`, "401200…0008"}, // letters do not make it part of a longer number
	} {
		fs := r.Scan("t", []byte(tc.in))
		if len(fs) != 1 || fs[0].Kind != KindCardNumber || !strings.Contains(fs[0].What, tc.want) {
			t.Errorf("%q: %v", tc.in, kinds(fs))
			continue
		}
		if strings.Contains(fs[0].Context, "0000000") || strings.Contains(fs[0].What, "0000000") {
			t.Errorf("%q: the finding shows the number: %+v", tc.in, fs[0])
		}
	}
}

// TestNoFalsePositives: what kessai and the gateway write every day must
// not look like a card: 12-digit transaction codes (MerchantFree1), the
// simulator's 13-digit TransactionIds, 14-digit NyukinDate timestamps,
// Unix times in seconds to nanoseconds, masked card numbers, kessai ids,
// phone numbers, amounts, a Luhn-invalid 16-digit number, digits inside a
// longer run, and Luhn-valid runs that start with a digit no card number
// starts with.
func TestNoFalsePositives(t *testing.T) {
	r := Rules{Patterns: KessaiSecretKeys}
	for _, in := range []string{
		`MerchantFree1=123456789012&MerchantFree2=ord_01JQ8ZK3E3Y5T0000000000000`,
		`TransactionId=1000000000042`,
		`NyukinDate=20260401123045`, // a timestamp, Luhn-valid or not
		`paid_at 20261231235959 and 20260101000000`,
		`{"created_at":"2026-04-01T12:00:00.123456789+09:00"}`,
		`ts=1775012345 ms=1775012345123 us=1775012345123456 ns=1775012345123456789`,
		`card_number=412300******0300 masked=4123********0300`,
		`pay_01JQ8ZK3E3Y5T7MZ1S0H4D2C9A evt_01JQ8ZK3E3Y5T7MZ1S0H4D2C9B`,
		`phone 090-1234-5678, 0312345678`,
		`amount=5500 fee=330 total=1234567`,
		`4012000000000009`,                                                    // Luhn-invalid
		`40120000000000080`,                                                   // 17 digits: part of a longer run
		`1234567812345670 7000000000000007 9000000000000006 0000000000000000`, // Luhn-valid, no card prefix
		`PayLimit=202604082359 RecvNum=123456789012 ApproveNo=1234567`,
		`"security_code":true,"security_code_required":false`,
		`SecurityCode= K24`,
		`pk_` + strings.Repeat("a", 43), // publishable keys are public
		`CAVV3D=AAABBEg0VhI0VniQEjRWAAAAAAA= ECI3D=05`,
		`2026-04-01 12:00:00 JST`,
		// A SHA-256 in hex whose digits happen to form a Luhn-valid run.
		`fingerprint=182699fdb04b4064730000000000008924ad8336ca5506e7e23a6091d0fdcf3057bfba1c26`,
	} {
		if fs := r.Scan("t", []byte(in)); len(fs) > 0 {
			t.Errorf("%q: %v", in, kinds(fs))
		}
	}
}

func TestKnownCardsAnywhere(t *testing.T) {
	r := Rules{Cards: []string{"4012000000000008"}}
	// Inside a longer digit run the heuristic stays silent; the known
	// number is still found.
	fs := r.Scan("t", []byte("x994012000000000008123y"))
	if len(fs) != 1 || !strings.Contains(fs[0].What, "used in the test") {
		t.Fatalf("%v", kinds(fs))
	}
	// A known number that is also a Luhn run is reported once.
	fs = r.Scan("t", []byte("card 4012000000000008"))
	if len(fs) != 1 {
		t.Fatalf("%v", kinds(fs))
	}
}

func TestAllow(t *testing.T) {
	r := Rules{Allow: []string{"5123000000000001"}}
	if fs := r.Scan("t", []byte("test card 5123000000000001, 8888, 12/28")); len(fs) != 0 {
		t.Fatalf("%v", kinds(fs))
	}
	if fs := r.Scan("t", []byte("card 4012000000000008")); len(fs) != 1 {
		t.Fatalf("%v", kinds(fs))
	}
}

func TestSecurityCodes(t *testing.T) {
	var r Rules
	for _, in := range []string{
		`SecCd=8888&Token=x`,
		`SecCd%3D123`,
		`{"security_code":"123"}`,
		`{\"securityCode\":\"1234\"}`,
		`cvv: 123`,
		`demo card, security code 8888, expiry 12/28`,
		`CVC2=999`,
		`セキュリティコード：123`,
		`セキュリティコード 1234`,
	} {
		fs := r.Scan("t", []byte(in))
		if len(fs) != 1 || fs[0].Kind != KindSecurityCode {
			t.Errorf("%q: %v", in, kinds(fs))
		}
	}
	for _, in := range []string{
		`SecCd=&Token=x`,         // empty
		`SecCd=12345`,            // not 3–4 digits
		`security code: K24`,     // a code about it
		`"security_code":false`,  // the setting
		`Xcvv123`,                // inside a word: random text
		`k_TokenNinsyoCode=DEMO`, // a code, not a security code
	} {
		if fs := r.Scan("t", []byte(in)); len(fs) != 0 {
			t.Errorf("%q: %v", in, kinds(fs))
		}
	}
}

func TestSecrets(t *testing.T) {
	const key = "DEMOAESKEY000001"
	r := Rules{Secrets: []Secret{{Name: "AES key", Value: key}}}
	found := func(in string) bool { return len(r.Scan("t", []byte(in))) > 0 }
	if !found("aes_key=" + key) {
		t.Error("plain")
	}
	if !found("x" + hex.EncodeToString([]byte(key)) + "x") {
		t.Error("hex")
	}
	if !found(strings.ToUpper(hex.EncodeToString([]byte(key)))) {
		t.Error("HEX")
	}
	// Base64 of a longer text holding the key, at each alignment and in
	// both alphabets.
	for _, prefix := range []string{"", "a", "ab", "abc", `{"aes_key":"`} {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding} {
			s := enc.EncodeToString([]byte(prefix + key + `","more":1}`))
			if !found("body=" + s) {
				t.Errorf("base64 with prefix %q: %s", prefix, s)
			}
		}
	}
	// (A key differing only in the low bits of its last byte would match
	// the base64 forms: their last character is partly padding.)
	if found("OTHERAESKEY00002 " + base64.StdEncoding.EncodeToString([]byte("OTHERAESKEY00002"))) {
		t.Error("another key found")
	}
	// The finding names the secret and never shows it.
	fs := r.Scan("t", []byte("key: "+key+" end"))
	if len(fs) != 1 || fs[0].What != "secret AES key" || strings.Contains(fs[0].String(), key) {
		t.Fatalf("%+v", fs)
	}
}

func TestPatterns(t *testing.T) {
	r := Rules{Patterns: KessaiSecretKeys}
	sk := "sk_" + strings.Repeat("Ab1-_", 8) + "xyz"
	wh := "whsec_" + strings.Repeat("Q", 43)
	fs := r.Scan("t", []byte(`Authorization: Bearer `+sk+"\n"+`{"secret":"`+wh+`"}`))
	if len(fs) != 2 || fs[0].What != "API secret key" || fs[1].What != "webhook secret" {
		t.Fatalf("%v", kinds(fs))
	}
	if strings.Contains(fs[0].Context, sk) || strings.Contains(fs[1].Context, wh) {
		t.Fatalf("context shows the key: %+v", fs)
	}
	// A longer base64url run is not a key of this format.
	if fs := r.Scan("t", []byte("sk_"+strings.Repeat("a", 50))); len(fs) != 0 {
		t.Fatalf("%v", kinds(fs))
	}
}

func TestScanDir(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "kessai.db"), []byte("\x00\x01SQLite\x00card=5123000000000001\x00"), 0o600)
	os.WriteFile(filepath.Join(dir, "kessai.db-wal"), []byte("\x00\x00nothing here 123456789012\x00"), 0o600)
	os.WriteFile(filepath.Join(dir, "master.key"), []byte("DEMOAESKEY000001"), 0o600)
	r := Rules{Secrets: []Secret{{Name: "key", Value: "DEMOAESKEY000001"}}}
	fs, err := r.ScanDir(dir, func(p string) bool { return filepath.Base(p) == "master.key" })
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 1 || filepath.Base(fs[0].Source) != "kessai.db" || fs[0].Kind != KindCardNumber {
		t.Fatalf("%v", fs)
	}
}

func TestExactCardsOnly(t *testing.T) {
	// SQLite writes a record's columns back to back: the digits that end
	// an id and a 12-digit transaction code make a run no one stored.
	// (ID ending in "394", then MerchantFree1 "450123456783".)
	glued := []byte("pay_06h3wmpcsyd0yas0je9mgaq394450123456783\x01\x02")
	if fs := (&Rules{}).Scan("t", glued); len(fs) != 1 {
		t.Fatalf("the heuristic should take the glued run for a card: %v", kinds(fs))
	}
	r := Rules{ExactCardsOnly: true, Cards: []string{"4012000000000008"}}
	if fs := r.Scan("t", glued); len(fs) != 0 {
		t.Fatalf("%v", kinds(fs))
	}
	if fs := r.Scan("t", []byte("x4012000000000008")); len(fs) != 1 {
		t.Fatalf("known card: %v", kinds(fs))
	}
}

func TestHexRun(t *testing.T) {
	var r Rules
	// The same digits outside a hex run are a card.
	if fs := r.Scan("t", []byte("id=zz4012000000000008zz")); len(fs) != 1 {
		t.Fatalf("%v", kinds(fs))
	}
	hexed := []byte("ab" + "4012000000000008" + strings.Repeat("c", 14))
	if fs := r.Scan("t", hexed); len(fs) != 0 {
		t.Fatalf("%v", kinds(fs))
	}
}

// BenchmarkScan: a megabyte of mixed binary and log text with a hundred
// secrets, as the chaos suite's database and log scans look.
func BenchmarkScan(b *testing.B) {
	data := make([]byte, 0, 1<<20)
	for i := 0; len(data) < 1<<20; i++ {
		data = append(data, fmt.Sprintf("time=2026-04-01T12:00:%02d level=INFO msg=\"cardpay: paid\" payment=pay_06h3wmpcsyd0yas0je9mgaq merchant_free1=%012d\n", i%60, i)...)
		data = append(data, byte(i), byte(i>>8), 0, 0xff, 0x13)
	}
	var r Rules
	for i := range 100 {
		r.Secrets = append(r.Secrets, Secret{Name: "token", Value: fmt.Sprintf("%064d", i)})
	}
	r.Cards = []string{"4012000000000008", "5123000000000001"}
	r.Patterns = KessaiSecretKeys
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		r.Scan("bench", data)
	}
}
