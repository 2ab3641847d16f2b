package escott

import (
	"net/url"
	"slices"
	"strings"
)

// Param is one key=value pair of a gateway message.
type Param struct {
	Key, Value string
}

// Params is an ordered parameter list. Order is not significant to the
// gateway, but keeping insertion order makes wire logs read like the
// manuals' examples and keeps EncryptValue output stable.
type Params []Param

// Set replaces the value of key, or appends it when absent.
func (p *Params) Set(key, value string) {
	for i := range *p {
		if (*p)[i].Key == key {
			(*p)[i].Value = value
			return
		}
	}
	*p = append(*p, Param{key, value})
}

// SetIf sets key only when value is not empty. The gateway treats an empty
// value as "not specified", so optional fields are simply left out.
func (p *Params) SetIf(key, value string) {
	if value != "" {
		p.Set(key, value)
	}
}

// Get returns the value of key, or "" when absent.
func (p Params) Get(key string) string {
	for _, kv := range p {
		if kv.Key == key {
			return kv.Value
		}
	}
	return ""
}

// Del removes key.
func (p *Params) Del(key string) {
	out := (*p)[:0]
	for _, kv := range *p {
		if kv.Key != key {
			out = append(out, kv)
		}
	}
	*p = out
}

// Encode renders the list as an application/x-www-form-urlencoded string in
// insertion order (space becomes '+', other reserved bytes %XX, UTF-8).
func (p Params) Encode() string {
	var b strings.Builder
	for i, kv := range p {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(kv.Key))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(kv.Value))
	}
	return b.String()
}

// Values converts the list to url.Values.
func (p Params) Values() url.Values {
	v := make(url.Values, len(p))
	for _, kv := range p {
		v.Set(kv.Key, kv.Value)
	}
	return v
}

// ParamsFromValues builds an ordered list from url.Values, keys sorted, first
// value of each key.
func ParamsFromValues(v url.Values) Params {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	p := make(Params, 0, len(keys))
	for _, k := range keys {
		p = append(p, Param{k, v.Get(k)})
	}
	return p
}
