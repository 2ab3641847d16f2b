package hosted

import (
	"net/http/httptest"
	"testing"
)

func TestProxyClientIP(t *testing.T) {
	trusted, err := ParseTrustedProxies("10.0.0.0/8, 127.0.0.1 ,::1/128")
	if err != nil {
		t.Fatal(err)
	}
	ip := ProxyClientIP(trusted)
	for _, c := range []struct {
		name, remote string
		xff          []string
		want         string
	}{
		{"direct client, header ignored", "203.0.113.5:4000", []string{"198.51.100.1"}, "203.0.113.5"},
		{"behind the proxy", "127.0.0.1:5000", []string{"198.51.100.7"}, "198.51.100.7"},
		{"spoofed left part ignored", "127.0.0.1:5000", []string{"1.2.3.4, 198.51.100.7"}, "198.51.100.7"},
		{"two trusted hops", "10.1.2.3:80", []string{"198.51.100.9, 10.9.9.9"}, "198.51.100.9"},
		{"several header lines", "127.0.0.1:5000", []string{"1.1.1.1", "198.51.100.8"}, "198.51.100.8"},
		{"no header", "127.0.0.1:5000", nil, "127.0.0.1"},
		{"malformed hop", "127.0.0.1:5000", []string{"not-an-ip"}, "127.0.0.1"},
		{"ipv6 proxy", "[::1]:5000", []string{"2001:db8::1"}, "2001:db8::1"},
		{"all hops trusted", "127.0.0.1:5000", []string{"10.0.0.1"}, "127.0.0.1"},
	} {
		r := httptest.NewRequest("POST", "/checkout/x", nil)
		r.RemoteAddr = c.remote
		for _, v := range c.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := ip(r); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	if _, err := ParseTrustedProxies("10.0.0.0/33"); err == nil {
		t.Error("a bad prefix was accepted")
	}
	if _, err := ParseTrustedProxies("nonsense"); err == nil {
		t.Error("a bad address was accepted")
	}
}
