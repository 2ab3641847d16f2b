package escott

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// stuckByteReader yields the same byte forever and counts how many it gave.
type stuckByteReader struct {
	b byte
	n int
}

func (r *stuckByteReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = r.b
	}
	r.n += len(p)
	return len(p), nil
}

func idBytes(b ...byte) io.Reader { return bytes.NewReader(b) }

func TestNewMerchantFree1Deterministic(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"zero is 1", []byte{0, 0, 0, 0, 0}, "000000000001"},
		{"one", []byte{0, 0, 0, 0, 1}, "000000000002"},
		{"big endian", []byte{0, 0, 0, 1, 0}, "000000000257"},
		// 0xE8D4A50FFD = 999999999997, the largest accepted draw.
		{"largest", []byte{0xE8, 0xD4, 0xA5, 0x0F, 0xFD}, "999999999998"},
		// 999999999998 would map to the placeholder: rejected, next 5 bytes used.
		{"placeholder rejected", []byte{0xE8, 0xD4, 0xA5, 0x0F, 0xFE, 0, 0, 0, 0, 4}, "000000000005"},
		{"above 1e12 rejected", []byte{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 9}, "000000000010"},
		{"only 5 bytes used", []byte{0, 0, 0, 0, 7, 0xFF}, "000000000008"},
	}
	for _, tt := range tests {
		got, err := NewMerchantFree1(idBytes(tt.in...))
		if err != nil || got != tt.want {
			t.Errorf("%s: NewMerchantFree1(% x) = %q, %v; want %q", tt.name, tt.in, got, err, tt.want)
		}
	}
}

func TestNewProcNoDeterministic(t *testing.T) {
	tests := []struct {
		in   []byte
		want string
	}{
		{[]byte{0, 0, 0}, "0000001"},
		{[]byte{0, 1, 0}, "0000257"},
		{[]byte{0x98, 0x96, 0x7E}, "9999999"},          // 9999998 + 1
		{[]byte{0x98, 0x96, 0x7F, 0, 0, 1}, "0000002"}, // 9999999 rejected
		{[]byte{0xFF, 0xFF, 0xFF, 0, 0, 2}, "0000003"}, // 2^24-1 rejected
	}
	for _, tt := range tests {
		got, err := NewProcNo(idBytes(tt.in...))
		if err != nil || got != tt.want {
			t.Errorf("NewProcNo(% x) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestNewKaiinPassDeterministic(t *testing.T) {
	tests := []struct {
		in   []byte
		want string
	}{
		{[]byte{0, 0, 0, 0, 0}, "000000000000"},
		{[]byte{0, 0, 0, 0, 42}, "000000000042"},
		{[]byte{0xE8, 0xD4, 0xA5, 0x0F, 0xFF}, "999999999999"},                // full range, top value
		{[]byte{0xE8, 0xD4, 0xA5, 0x10, 0x00, 0, 0, 0, 0, 1}, "000000000001"}, // 1e12 rejected
	}
	for _, tt := range tests {
		got, err := NewKaiinPass(idBytes(tt.in...))
		if err != nil || got != tt.want {
			t.Errorf("NewKaiinPass(% x) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestNewKaiinID(t *testing.T) {
	tests := []struct {
		customer string
		in       []byte
		want     string
		errText  string
	}{
		{"15", []byte{0x00, 0x00, 0x00}, "k15i0000001", ""},
		{"15", []byte{0x07, 0x5A, 0x2A}, "k15i0481835", ""}, // 0x075A2A = 481834, plus 1
		{"C42", []byte{0x98, 0x96, 0x7E}, "kC42i9999999", ""},
		{"abcDEF12345", []byte{0, 0, 9}, "kabcDEF12345i0000010", ""}, // 11 chars: total exactly 20
		{"abcDEF123456", []byte{0, 0, 9}, "", "longer than 11"},
		{"", []byte{0, 0, 0}, "", "empty customer id"},
		{"a-b", []byte{0, 0, 0}, "", "ASCII letters and digits"},
		{"a b", []byte{0, 0, 0}, "", "ASCII letters and digits"},
		{"ユーザー", []byte{0, 0, 0}, "", "ASCII letters and digits"}, // 12 bytes, but rejected either way
		{"ｕ1", []byte{0, 0, 0}, "", "ASCII letters and digits"},
		{"1_2", []byte{0, 0, 0}, "", "ASCII letters and digits"},
	}
	for _, tt := range tests {
		got, err := NewKaiinID(tt.customer, idBytes(tt.in...))
		if tt.errText != "" {
			if err == nil || !strings.Contains(err.Error(), tt.errText) {
				t.Errorf("NewKaiinID(%q) = %q, %v; want error containing %q", tt.customer, got, err, tt.errText)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("NewKaiinID(%q, % x) = %q, %v; want %q", tt.customer, tt.in, got, err, tt.want)
		}
		if !ValidKaiinID(got) {
			t.Errorf("NewKaiinID(%q) = %q, not ValidKaiinID", tt.customer, got)
		}
	}
}

func TestMerchantFreeAndOtherIDsPropagateReaderErrors(t *testing.T) {
	boom := errors.New("boom")
	gens := map[string]func(io.Reader) (string, error){
		"NewMerchantFree1": NewMerchantFree1,
		"NewProcNo":        NewProcNo,
		"NewKaiinPass":     NewKaiinPass,
		"NewKaiinID":       func(r io.Reader) (string, error) { return NewKaiinID("7", r) },
	}
	for name, gen := range gens {
		if got, err := gen(iotest.ErrReader(boom)); !errors.Is(err, boom) || got != "" {
			t.Errorf("%s(error reader) = %q, %v; want error wrapping boom", name, got, err)
		}
		// A short read is an error too, never a value built from missing bytes.
		if got, err := gen(idBytes(1, 2)); !errors.Is(err, io.ErrUnexpectedEOF) || got != "" {
			t.Errorf("%s(2-byte reader) = %q, %v; want io.ErrUnexpectedEOF", name, got, err)
		}
		if got, err := gen(idBytes()); !errors.Is(err, io.EOF) || got != "" {
			t.Errorf("%s(empty reader) = %q, %v; want io.EOF", name, got, err)
		}
		// Reads split into single bytes still work.
		if _, err := gen(iotest.OneByteReader(idBytes(0, 0, 0, 0, 0))); err != nil {
			t.Errorf("%s(one-byte reader) = %v", name, err)
		}
	}
}

func TestMerchantFreeAndOtherIDsStopOnStuckReader(t *testing.T) {
	// Every draw from an all-0xFF source is out of range for these generators,
	// so rejection sampling must give up after a bounded number of attempts.
	gens := map[string]struct {
		gen   func(io.Reader) (string, error)
		bytes int // bytes per attempt
	}{
		"NewMerchantFree1": {NewMerchantFree1, 5},
		"NewProcNo":        {NewProcNo, 3},
		"NewKaiinPass":     {NewKaiinPass, 5},
		"NewKaiinID":       {func(r io.Reader) (string, error) { return NewKaiinID("7", r) }, 3},
	}
	for name, g := range gens {
		r := &stuckByteReader{b: 0xFF}
		got, err := g.gen(r)
		if !errors.Is(err, errRandomRejected) || got != "" {
			t.Errorf("%s(0xFF reader) = %q, %v; want errRandomRejected", name, got, err)
		}
		if want := maxRandomAttempts * g.bytes; r.n != want {
			t.Errorf("%s(0xFF reader) read %d bytes, want %d", name, r.n, want)
		}
	}
}

// TestMerchantFreeUniformSamplingUnbiased feeds every possible byte once and checks each
// accepted value comes out equally often: masking plus rejection, no modulo.
func TestMerchantFreeUniformSamplingUnbiased(t *testing.T) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	for n := uint64(2); n <= 256; n++ {
		r := bytes.NewReader(all)
		counts := make([]int, n)
		for {
			v, err := uniformBelow(r, n)
			if err != nil {
				break // EOF, or rejection run at the end of the stream
			}
			counts[v]++
		}
		for v, c := range counts {
			if c != counts[0] {
				t.Fatalf("n=%d: value %d drawn %d times, value 0 %d times", n, v, c, counts[0])
			}
		}
		if counts[0] == 0 {
			t.Fatalf("n=%d: nothing drawn", n)
		}
	}
	// n = 1 needs no randomness at all.
	if v, err := uniformBelow(iotest.ErrReader(errors.New("unused")), 1); v != 0 || err != nil {
		t.Errorf("uniformBelow(1) = %d, %v", v, err)
	}
	// Two-byte range: n = 300 needs 9 bits, so 2 bytes masked with 0x1FF.
	// 0xFFFF masks to 511 and is rejected; 0x012B = 299 is accepted.
	v, err := uniformBelow(idBytes(0xFF, 0xFF, 0x01, 0x2B), 300)
	if err != nil || v != 299 {
		t.Errorf("uniformBelow(300) = %d, %v; want 299", v, err)
	}
	// Bits above the mask are ignored: 0xFE2B & 0x1FF = 0x02B = 43.
	v, err = uniformBelow(idBytes(0xFE, 0x2B), 300)
	if err != nil || v != 43 {
		t.Errorf("uniformBelow(300) = %d, %v; want 43", v, err)
	}
	// Full 64-bit range does not overflow the mask.
	v, err = uniformBelow(idBytes(0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE), ^uint64(0))
	if err != nil || v != ^uint64(0)-1 {
		t.Errorf("uniformBelow(max) = %d, %v", v, err)
	}
}

func TestMerchantFreeAndOtherIDsCryptoRand(t *testing.T) {
	for range 2000 {
		mf, err := NewMerchantFree1(rand.Reader)
		if err != nil || !ValidMerchantFree1(mf) || mf == NoTransactionCode || mf == "000000000000" {
			t.Fatalf("NewMerchantFree1 = %q, %v", mf, err)
		}
		pn, err := NewProcNo(rand.Reader)
		if err != nil || len(pn) != 7 || !asciiDigitsOnly(pn) || pn == LinkProcNo {
			t.Fatalf("NewProcNo = %q, %v", pn, err)
		}
		pw, err := NewKaiinPass(rand.Reader)
		if err != nil || len(pw) != 12 || !asciiDigitsOnly(pw) || !ValidKaiinPass(pw) {
			t.Fatalf("NewKaiinPass = %q, %v", pw, err)
		}
		id, err := NewKaiinID("12345", rand.Reader)
		if err != nil || len(id) != 14 || !strings.HasPrefix(id, "k12345i") || !ValidKaiinID(id) ||
			!asciiDigitsOnly(id[7:]) || id[7:] == "0000000" {
			t.Fatalf("NewKaiinID = %q, %v", id, err)
		}
	}
}

func TestValidMerchantFree1(t *testing.T) {
	tests := []struct {
		s    string
		want bool
	}{
		{"000482917365", true},
		{"000000000001", true},
		{"000000000000", true},    // format only
		{NoTransactionCode, true}, // format only
		{"", false},
		{"00048291736", false},
		{"0004829173650", false},
		{"00048291736a", false},
		{" 00482917365", false},
		{"-00482917365", false},
		{"+00482917365", false},
		{"０００482917365", false},
	}
	for _, tt := range tests {
		if got := ValidMerchantFree1(tt.s); got != tt.want {
			t.Errorf("ValidMerchantFree1(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
}

func TestValidKaiinIDAndPass(t *testing.T) {
	tests := []struct {
		s    string
		want bool
	}{
		{"wc15i0482211", true}, // the plugins' format
		{"k15i0482211", true},  // ours
		{"3f2504e0-4f8", false},
		{"3f2504e04f8", true}, // SFRA-style hex
		{"001234567890", true},
		{"a", true},
		{"abcdefghij0123456789", true},   // 20
		{"abcdefghij0123456789x", false}, // 21
		{"", false},
		{"ab cd", false},
		{"ab_cd", false},
		{"ａｂ", false},
		{"ab\x00", false},
	}
	for _, tt := range tests {
		if got := ValidKaiinID(tt.s); got != tt.want {
			t.Errorf("ValidKaiinID(%q) = %v, want %v", tt.s, got, tt.want)
		}
		if got := ValidKaiinPass(tt.s); got != tt.want {
			t.Errorf("ValidKaiinPass(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
}

func TestMerchantFreeProcNoKaiinConstants(t *testing.T) {
	if !ValidMerchantFree1(NoTransactionCode) || NoTransactionCode != strings.Repeat("9", 12) {
		t.Errorf("NoTransactionCode = %q", NoTransactionCode)
	}
	if LinkProcNo != "0000000" {
		t.Errorf("LinkProcNo = %q", LinkProcNo)
	}
	if MaxKaiinCustomerIDLen != 11 {
		t.Errorf("MaxKaiinCustomerIDLen = %d, want 11", MaxKaiinCustomerIDLen)
	}
}
