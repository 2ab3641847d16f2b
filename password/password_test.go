package password

import (
	"errors"
	"strings"
	"sync"
	"testing"
)

// fast are cheap parameters for tests that hash many times.
var fast = Params{Time: 1, Memory: 64, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestHashVerify(t *testing.T) {
	for _, pw := range []string{"correct horse battery staple", "パスワード１２３４５６", "x", strings.Repeat("a", MaxLen)} {
		h, err := fast.Hash(pw)
		if err != nil {
			t.Fatalf("%.20q: %v", pw, err)
		}
		ok, err := Verify(pw, h)
		if err != nil || !ok {
			t.Fatalf("%.20q does not verify against its hash %s: %v", pw, h, err)
		}
		for _, wrong := range []string{"!" + pw[1:], pw[:len(pw)-1] + "?", pw[:len(pw)-1] + " "} {
			if ok, err := Verify(wrong, h); ok || err != nil {
				t.Fatalf("%.20q verifies against the hash of %.20q (%v)", wrong, pw, err)
			}
		}
	}
}

func TestDefaultFormat(t *testing.T) {
	h, err := Hash("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(h, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != "v=19" || parts[3] != "m=65536,t=3,p=2" ||
		len(parts[4]) != 22 || len(parts[5]) != 43 {
		t.Fatalf("default hash %s: want $argon2id$v=19$m=65536,t=3,p=2$<22 chars>$<43 chars>", h)
	}
	if ok, err := Verify("correct horse battery staple", h); !ok || err != nil {
		t.Fatalf("Verify = %v, %v", ok, err)
	}
	// Two hashes of one password differ: the salt is random.
	h1, _ := fast.Hash("correct horse battery staple")
	h2, _ := fast.Hash("correct horse battery staple")
	if h1 == h2 {
		t.Fatal("same hash twice: salt not random")
	}
	if NeedsRehash(h) {
		t.Fatal("a fresh default hash needs rehashing")
	}
}

// TestReferenceVector checks compatibility with the reference
// implementation (phc-winner-argon2: "password", salt "somesalt", t=2,
// m=64 MiB, p=1), so hashes move between kessai and other tools.
func TestReferenceVector(t *testing.T) {
	const ref = "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"
	if ok, err := Verify("password", ref); !ok || err != nil {
		t.Fatalf("reference hash: %v, %v", ok, err)
	}
	if ok, err := Verify("Password", ref); ok || err != nil {
		t.Fatalf("reference hash accepts a wrong password: %v, %v", ok, err)
	}
	p := Params{Time: 2, Memory: 65536, Threads: 1, SaltLen: 8, KeyLen: 32}
	if got := p.encode([]byte("somesalt"), p.key("password", []byte("somesalt"))); got != ref {
		t.Fatalf("encoded\n got  %s\n want %s", got, ref)
	}
}

func TestRefusedPasswords(t *testing.T) {
	h, err := fast.Hash("a fine password")
	if err != nil {
		t.Fatal(err)
	}
	for pw, want := range map[string]error{"": ErrEmpty, strings.Repeat("a", MaxLen+1): ErrTooLong} {
		if _, err := fast.Hash(pw); !errors.Is(err, want) {
			t.Errorf("Hash(%d bytes) = %v, want %v", len(pw), err, want)
		}
		if ok, err := Verify(pw, h); ok || !errors.Is(err, want) {
			t.Errorf("Verify(%d bytes) = %v, %v, want %v", len(pw), ok, err, want)
		}
	}
}

func TestMalformed(t *testing.T) {
	good, err := fast.Hash("pw")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, "$")
	salt, key := parts[4], parts[5]
	for _, h := range []string{
		"",
		"plain text",
		"$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy", // bcrypt
		"$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key,               // another variant
		"$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key,              // another version
		"$argon2id$m=64,t=1,p=1$" + salt + "$" + key,                   // no version
		"$argon2id$v=19$t=1,m=64,p=1$" + salt + "$" + key,              // order
		"$argon2id$v=19$m=64,t=1$" + salt + "$" + key,                  // missing p
		"$argon2id$v=19$m=64,t=1,p=1,x=2$" + salt + "$" + key,          // extra
		"$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key,              // no passes
		"$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + key,              // no lanes
		"$argon2id$v=19$m=64,t=1,p=300$" + salt + "$" + key,            // too many lanes
		"$argon2id$v=19$m=4,t=1,p=1$" + salt + "$" + key,               // memory below 8p
		"$argon2id$v=19$m=4194304,t=1,p=1$" + salt + "$" + key,         // 4 GiB
		"$argon2id$v=19$m=64,t=1000,p=1$" + salt + "$" + key,           // minutes
		"$argon2id$v=19$m=64,t=-1,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=99999999999,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "=$" + key,      // padded
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key + "$", // trailing part
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdA$" + key,             // 4-byte salt
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "$c2hvcnQ",      // 5-byte hash
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key[:10] + "!" + key[11:],
		"x" + good,
	} {
		if ok, err := Verify("pw", h); ok || !errors.Is(err, ErrMalformed) {
			t.Errorf("Verify(%q) = %v, %v, want ErrMalformed", h, ok, err)
		}
		if !NeedsRehash(h) {
			t.Errorf("NeedsRehash(%q) = false", h)
		}
	}
}

func TestNeedsRehash(t *testing.T) {
	h, err := fast.Hash("pw")
	if err != nil {
		t.Fatal(err)
	}
	if fast.NeedsRehash(h) {
		t.Fatal("hash needs rehashing with its own parameters")
	}
	if !NeedsRehash(h) {
		t.Fatal("a hash with other parameters than Default does not need rehashing")
	}
	for _, p := range []Params{
		{Time: 2, Memory: 64, Threads: 1, SaltLen: 16, KeyLen: 32},
		{Time: 1, Memory: 128, Threads: 1, SaltLen: 16, KeyLen: 32},
		{Time: 1, Memory: 64, Threads: 2, SaltLen: 16, KeyLen: 32},
		{Time: 1, Memory: 64, Threads: 1, SaltLen: 32, KeyLen: 32},
		{Time: 1, Memory: 64, Threads: 1, SaltLen: 16, KeyLen: 64},
	} {
		if !p.NeedsRehash(h) {
			t.Errorf("%+v: a hash made with %+v does not need rehashing", p, fast)
		}
	}
}

func TestUnusableParams(t *testing.T) {
	for _, p := range []Params{
		{},
		{Time: 1, Memory: 64, Threads: 1, SaltLen: 4, KeyLen: 32},
		{Time: 1, Memory: 64, Threads: 1, SaltLen: 16, KeyLen: 8},
	} {
		if _, err := p.Hash("pw"); err == nil {
			t.Errorf("Hash with %+v succeeded", p)
		}
	}
}

func TestConcurrentHashes(t *testing.T) {
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			h, err := fast.Hash("pw")
			if err == nil {
				var ok bool
				if ok, err = Verify("pw", h); err == nil && !ok {
					err = errors.New("hash does not verify")
				}
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestGenerate(t *testing.T) {
	seen := map[string]bool{}
	counts := map[rune]int{}
	for range 2000 {
		pw := Generate(16)
		if len(pw) != 16 {
			t.Fatalf("%q: %d characters", pw, len(pw))
		}
		if seen[pw] {
			t.Fatalf("%q generated twice", pw)
		}
		seen[pw] = true
		for _, c := range pw {
			if !strings.ContainsRune(alphabet, c) {
				t.Fatalf("%q has %q, outside the alphabet", pw, c)
			}
			counts[c]++
		}
	}
	// 32000 characters over 56 symbols: about 571 each. Every symbol
	// shows up, and none is far off (a biased sampler would be).
	if len(counts) != len(alphabet) {
		t.Fatalf("%d distinct characters, want %d", len(counts), len(alphabet))
	}
	for c, n := range counts {
		if n < 400 || n > 750 {
			t.Errorf("%q appears %d times, want about 571", c, n)
		}
	}
	if Generate(0) != "" {
		t.Fatal("Generate(0) not empty")
	}
}

func BenchmarkHash(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Hash("correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	h, err := Hash("correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := Verify("correct horse battery staple", h); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}
