package service

import (
	"github.com/kessai/kessai"
)

// Page size limits for every list.
const (
	DefaultLimit = 20
	MaxLimit     = 100
)

// checkPage applies the default limit and validates the page. The cursor
// must look like an ID of the listed resource (prefix, when given, is its
// ID prefix): a cursor from another list would silently skip rows.
func checkPage(p kessai.Page, prefix string) (kessai.Page, error) {
	var v kessai.ValidationErrors
	if p.Limit == 0 {
		p.Limit = DefaultLimit
	}
	if p.Limit < 1 || p.Limit > MaxLimit {
		v.Add("limit", "invalid_limit", "limit は 1〜100 で指定してください。", "limit must be between 1 and 100.")
	}
	if p.After != "" {
		ok := plausibleID(p.After)
		if ok && prefix != "" {
			ok = kessai.ValidID(prefix, p.After)
		}
		if !ok {
			v.Add("starting_after", "invalid_cursor", "starting_after が正しいカーソルではありません。", "starting_after is not a valid cursor.")
		}
	}
	return p, v.Err()
}
