package hosted

import (
	"bytes"
	"context"
	"net/url"
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	now := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	l := newLimiter(2, time.Minute, func() time.Time { return now })
	if !l.allow("a") || !l.allow("a") || l.allow("a") {
		t.Fatal("third event within the window allowed")
	}
	if !l.allow("b") {
		t.Fatal("clients share an allowance")
	}
	now = now.Add(61 * time.Second)
	if !l.allow("a") {
		t.Fatal("not allowed again after the window")
	}
}

func TestDerivedKeys(t *testing.T) {
	k := DerivedKeys(bytes.Repeat([]byte{7}, 32))
	a, _ := k.ShopKey(context.Background(), "shop_a")
	b, _ := k.ShopKey(context.Background(), "shop_b")
	a2, _ := k.ShopKey(context.Background(), "shop_a")
	if len(a) != 32 || bytes.Equal(a, b) || !bytes.Equal(a, a2) {
		t.Fatalf("keys %x %x %x", a, b, a2)
	}
	if _, err := DerivedKeys(nil).ShopKey(context.Background(), "x"); err == nil {
		t.Fatal("empty master accepted")
	}
}

func TestHasCardData(t *testing.T) {
	for _, c := range []struct {
		v    url.Values
		want bool
	}{
		{url.Values{"token": {"abcDEF0123456789abcDEF0123456789"}, "card_prefix": {"412300"}, "pay_type": {"03"}}, false},
		{url.Values{"cardholder_name": {"TARO YAMADA"}, "consent": {"1"}}, false},
		{url.Values{"order_id": {"ord_0000000000000000000000000a"}}, false},
		{url.Values{"phone": {"090-1234-5678"}}, false},
		{url.Values{"Card-No": {"x"}}, true},
		{url.Values{"SecurityCode": {""}}, true},
		{url.Values{"note": {"4123 0000 0000 0300"}}, true},
		{url.Values{"note": {"4123-0000-0000-0300"}}, true},
		{url.Values{"card_prefix": {"4123000"}}, true},
		{url.Values{"token": {"4123000000000300"}}, true},
	} {
		if got := hasCardData(c.v); got != c.want {
			t.Errorf("hasCardData(%v) = %v", c.v, got)
		}
	}
}

func TestYen(t *testing.T) {
	p := &pageData{Lang: langJa}
	if got := p.Yen(1234567); got != "1,234,567円" {
		t.Fatal(got)
	}
	p.Lang = langEn
	if got := p.Yen(500); got != "¥500" {
		t.Fatal(got)
	}
}
