package hosted

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ParseTrustedProxies reads a comma-separated list of CIDRs (or single
// addresses) of the reverse proxies in front of kessai.
func ParseTrustedProxies(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range strings.Split(list, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !strings.Contains(s, "/") {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, fmt.Errorf("trusted proxy %q: %w", s, err)
			}
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: %w", s, err)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// ProxyClientIP is a Config.ClientIP for kessai behind reverse proxies:
// the rate limit must count shoppers, not the proxy every request comes
// from. A request whose connection comes from a trusted proxy is
// attributed to the right-most X-Forwarded-For address that is not itself
// a trusted proxy (the left part of the header is whatever the client
// sent, so it is never believed); anything else, and a direct client, is
// its connection's address, so a client cannot choose its own identity by
// sending the header. With no trusted proxies it is the default.
func ProxyClientIP(trusted []netip.Prefix) func(*http.Request) string {
	isTrusted := func(a netip.Addr) bool {
		a = a.Unmap()
		for _, p := range trusted {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	return func(r *http.Request) string {
		peer := remoteIP(r)
		a, err := netip.ParseAddr(peer)
		if err != nil || !isTrusted(a) {
			return peer
		}
		hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
		for i := len(hops) - 1; i >= 0; i-- {
			h := strings.TrimSpace(hops[i])
			if host, _, err := net.SplitHostPort(h); err == nil {
				h = host
			}
			ha, err := netip.ParseAddr(h)
			if err != nil {
				return peer // a malformed hop: do not guess past it
			}
			if !isTrusted(ha) {
				return ha.Unmap().String()
			}
		}
		return peer
	}
}
