package escott

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

// Vectors made with an independent implementation (OpenSSL's
// `enc -aes-128-cbc -base64 -A`, which is what the PHP plugins call), so
// they prove byte compatibility rather than agreement with ourselves.
var encryptVectors = []struct {
	plain, cipher string
}{
	{"MerchantPass=pass01&TransactionDate=20240930&MerchantFree1=000482917365&OperateId=3Secure",
		"dBwCcj26vuCkqkC4btqLjm81Al+s5oF0LzVUUE8Nhuktjru9LRoPgfmmWXXQd35UwD74k5+/44RSS3plmatF2BtFmFCTlNvvID/lkJHYVRsVPSTFha27GQxQxufwwnQR"},
	{"ResponseCd=K20%7CK21&OperateId=1Auth", "l16oxRKuzt85+MBGWTY4VazLfgZ5Z2WAmLVtfgHP+twZOOg5gmZLpLaRbV8elmtO"},
	{"a=1", "ClgSoomfzb3gSkWmxQBrcA=="},
}

func testCipher(t testing.TB) *Cipher {
	t.Helper()
	c, err := NewCipher("ABCDEFGHIJKLMNOP", "0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestEncryptFixedVectors(t *testing.T) {
	c := testCipher(t)
	for _, v := range encryptVectors {
		if got := c.EncryptString(v.plain); got != v.cipher {
			t.Errorf("EncryptString(%q) = %q, want %q", v.plain, got, v.cipher)
		}
		got, err := c.DecryptString(v.cipher)
		if err != nil || got != v.plain {
			t.Errorf("DecryptString(%q) = %q, %v; want %q", v.cipher, got, err, v.plain)
		}
	}
}

func TestEncryptRoundTrip(t *testing.T) {
	c := testCipher(t)
	p := Params{{"MerchantId", "030000001"}, {"RedirectUrl", "https://shop.example/?wc-api=wc_sonypayment"}, {"BillingFullName", "TARO YAMADA"}, {"NameKanji", "山田太郎"}, {"ResponseCd", "K20|K21"}}
	for n := 0; n < 40; n++ { // every padding length
		p.Set("Pad", strings.Repeat("x", n))
		v, err := c.Decrypt(c.Encrypt(p))
		if err != nil {
			t.Fatal(err)
		}
		for _, kv := range p {
			if v.Get(kv.Key) != kv.Value {
				t.Fatalf("n=%d %s = %q, want %q", n, kv.Key, v.Get(kv.Key), kv.Value)
			}
		}
	}
}

func TestDecryptToleratesTransportDamage(t *testing.T) {
	c := testCipher(t)
	v := encryptVectors[0].cipher
	for _, in := range []string{
		strings.ReplaceAll(v, "+", " "), // a form decoder turned '+' into ' '
		v[:40] + "\r\n" + v[40:],        // line-wrapped base64
	} {
		if got, err := c.DecryptString(in); err != nil || got != encryptVectors[0].plain {
			t.Errorf("DecryptString(%q) = %q, %v", in, got, err)
		}
	}
}

func TestDecryptRejects(t *testing.T) {
	c := testCipher(t)
	other, _ := NewCipher("PONMLKJIHGFEDCBA", "0123456789abcdef")
	cases := map[string]string{
		"empty":        "",
		"not base64":   "!!!!",
		"short block":  "AAAA",
		"wrong key":    other.EncryptString("a=1&b=2"),
		"huge":         strings.Repeat("A", maxEncryptValue+4),
		"not a query":  c.EncryptString("%zz"),
		"empty plain":  c.EncryptString(""),
		"flipped byte": encryptVectors[2].cipher[:2] + "A" + encryptVectors[2].cipher[3:],
	}
	for name, in := range cases {
		if _, err := c.Decrypt(in); !errors.Is(err, ErrBadEncryptValue) {
			t.Errorf("%s: err = %v, want ErrBadEncryptValue", name, err)
		}
	}
}

func TestNewCipherLengths(t *testing.T) {
	for _, tc := range []struct{ key, iv string }{
		{"short", "0123456789abcdef"},
		{"ABCDEFGHIJKLMNOPQ", "0123456789abcdef"},
		{"ABCDEFGHIJKLMNOP", "0123"},
		{"", ""},
	} {
		if _, err := NewCipher(tc.key, tc.iv); err == nil {
			t.Errorf("NewCipher(%q, %q) accepted a wrong length", tc.key, tc.iv)
		}
	}
}

func FuzzDecrypt(f *testing.F) {
	for _, v := range encryptVectors {
		f.Add(v.cipher)
	}
	f.Add("")
	f.Add("====")
	c := testCipher(f)
	f.Fuzz(func(t *testing.T, in string) {
		v, err := c.Decrypt(in)
		if err != nil {
			if !errors.Is(err, ErrBadEncryptValue) {
				t.Fatalf("unexpected error kind %v", err)
			}
			return
		}
		// Whatever decrypts must survive a round trip.
		again, err := c.Decrypt(c.Encrypt(ParamsFromValues(v)))
		if err != nil || len(again) != len(v) {
			t.Fatalf("round trip failed: %v", err)
		}
	})
}

// TestDecryptRejectsModifiedCiphertext flips one bit at every position of
// a 3-D Secure return's ciphertext: each change garbles a whole block,
// which the plaintext check refuses, so a tampered return is never read as
// a return with different fields.
func TestDecryptRejectsModifiedCiphertext(t *testing.T) {
	c := testCipher(t)
	plain := "OperateId=3Secure&ResponseCd=OK&SecureResultCode=0&MerchantFree1=000123456789&MerchantFree2=ord_1" +
		"&EncodeXId3D=wfZR5pC9Zx3osM7C%2F4kjjkMAcaM%3D&MessageVersionNo3D=2.2.0&TransactionStatus3D=Y&ECI3D=05" +
		"&DSTransactionId=ff98a27f-9c1d-43cc-94bb-60777a58bffe&ThreeDSServerTransactionId=2fd079f7-6b2c-411f-b33b-dae4ebe50e76"
	ev := c.EncryptString(plain)
	raw, err := base64.StdEncoding.DecodeString(ev)
	if err != nil {
		t.Fatal(err)
	}
	for i := range raw {
		for _, bit := range []byte{0x01, 0x80} {
			mod := bytes.Clone(raw)
			mod[i] ^= bit
			if got, err := c.DecryptString(base64.StdEncoding.EncodeToString(mod)); err == nil {
				t.Fatalf("byte %d bit %#x: modified ciphertext decrypted to %q", i, bit, got)
			}
		}
	}
}
