package hosted

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"
)

// KeySource gives the key a shop's hosted pages sign with: my-cards links
// and sessions, and CSRF tokens. The key must be secret, at least 32
// bytes, and the same on every instance serving the shop; replacing it
// invalidates the links and open forms of that moment, nothing else (they
// live minutes).
type KeySource interface {
	ShopKey(ctx context.Context, shopID string) ([]byte, error)
}

// DerivedKeys derives each shop's key from one master secret kept outside
// the database (HMAC-SHA256 of the shop id under the master), so a copy of
// the database alone cannot forge a my-cards link. master should be 32
// random bytes; it is copied.
func DerivedKeys(master []byte) KeySource {
	return derivedKeys{master: append([]byte(nil), master...)}
}

type derivedKeys struct{ master []byte }

func (d derivedKeys) ShopKey(_ context.Context, shopID string) ([]byte, error) {
	if len(d.master) == 0 {
		return nil, errors.New("hosted: empty master key")
	}
	m := hmac.New(sha256.New, d.master)
	m.Write([]byte("kessai hosted shop key v1\x00"))
	m.Write([]byte(shopID))
	return m.Sum(nil), nil
}

// KeyFunc adapts a function to KeySource (e.g. one reading a per-shop
// secret from the store).
type KeyFunc func(ctx context.Context, shopID string) ([]byte, error)

// ShopKey implements KeySource.
func (f KeyFunc) ShopKey(ctx context.Context, shopID string) ([]byte, error) { return f(ctx, shopID) }

// mac signs data for one purpose: the purpose is part of the signed text,
// so a value signed for one use (a CSRF token) can never pass as another
// (a my-cards session).
func mac(key []byte, purpose string, data ...string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(purpose))
	for _, d := range data {
		m.Write([]byte{0})
		m.Write([]byte(d))
	}
	return m.Sum(nil)
}

var b64 = base64.RawURLEncoding

func randomString(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("hosted: crypto/rand failed: " + err.Error())
	}
	return b64.EncodeToString(b)
}

// ---- my-cards links and sessions ----

// Lifetimes of my-cards access.
const (
	// DefaultLinkTTL is a link's lifetime when the caller gives none: the
	// shop creates the link just before it sends the customer there.
	DefaultLinkTTL = 10 * time.Minute
	// MaxLinkTTL bounds what a caller may ask for: a link is a bearer
	// credential for the customer's saved card.
	MaxLinkTTL = time.Hour
	// sessionTTL is how long the page stays usable once opened (the link
	// is exchanged for a cookie on the first visit): long enough to type
	// a card and pass 3-D Secure.
	sessionTTL = 30 * time.Minute
)

// Kinds of signed my-cards tokens. A link travels in a URL; a session
// lives in an HttpOnly cookie. They are signed for different purposes so
// that a leaked cookie value cannot be replayed as a link and vice versa.
const (
	claimLink    = "link"
	claimSession = "session"
)

// claims is the signed content of a my-cards link or session.
type claims struct {
	V        int    `json:"v"`
	Kind     string `json:"k"`
	Shop     string `json:"s"`
	Customer string `json:"c"`
	// Return is the shop's page to go back to ("" when none).
	Return string `json:"r,omitempty"`
	Exp    int64  `json:"e"`
	// Nonce makes two links of one customer and second differ.
	Nonce string `json:"n"`
}

var errBadToken = errors.New("hosted: invalid or expired token")

// sign encodes c as base64url(JSON) "." base64url(HMAC).
func (h *Handler) sign(ctx context.Context, c claims) (string, error) {
	key, err := h.keys.ShopKey(ctx, c.Shop)
	if err != nil {
		return "", err
	}
	body, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	p := b64.EncodeToString(body)
	return p + "." + b64.EncodeToString(mac(key, "kessai/my-cards/"+c.Kind, p)), nil
}

// verify decodes a token of kind and checks its signature and expiry.
// The shop named inside picks the key; the signature then covers it.
func (h *Handler) verify(ctx context.Context, tok, kind string, now time.Time) (*claims, error) {
	if len(tok) > 4096 {
		return nil, errBadToken
	}
	p, sig, ok := strings.Cut(tok, ".")
	if !ok {
		return nil, errBadToken
	}
	body, err := b64.DecodeString(p)
	if err != nil {
		return nil, errBadToken
	}
	got, err := b64.DecodeString(sig)
	if err != nil {
		return nil, errBadToken
	}
	var c claims
	if err := json.Unmarshal(body, &c); err != nil || c.V != 1 || c.Kind != kind || c.Shop == "" || c.Customer == "" {
		return nil, errBadToken
	}
	key, err := h.keys.ShopKey(ctx, c.Shop)
	if err != nil {
		return nil, err
	}
	if !hmac.Equal(got, mac(key, "kessai/my-cards/"+kind, p)) {
		return nil, errBadToken
	}
	if !now.Before(time.Unix(c.Exp, 0)) {
		return nil, errBadToken
	}
	return &c, nil
}

// ---- CSRF ----

// csrfCookie holds the browser's CSRF nonce. The __Host- prefix (https
// only) stops a sibling subdomain from planting its own value.
func csrfCookieName(secure bool) string {
	if secure {
		return "__Host-kessai_csrf"
	}
	return "kessai_csrf"
}

// csrfNonce returns the browser's nonce, setting a new cookie when it has
// none (or a malformed one).
func (h *Handler) csrfNonce(w http.ResponseWriter, r *http.Request) string {
	name := csrfCookieName(h.secure(r))
	if c, err := r.Cookie(name); err == nil && validNonce(c.Value) {
		return c.Value
	}
	n := randomString(18)
	http.SetCookie(w, &http.Cookie{Name: name, Value: n, Path: "/", HttpOnly: true, Secure: h.secure(r),
		SameSite: http.SameSiteLaxMode})
	return n
}

func validNonce(s string) bool {
	if len(s) != 24 {
		return false
	}
	_, err := b64.DecodeString(s)
	return err == nil
}

// csrfToken is the form token of scope ("checkout:<order>",
// "mycards:<customer>") for this browser: a token taken from another
// browser, or from another order's page, does not verify.
func (h *Handler) csrfToken(ctx context.Context, shopID, scope, nonce string) (string, error) {
	key, err := h.keys.ShopKey(ctx, shopID)
	if err != nil {
		return "", err
	}
	return b64.EncodeToString(mac(key, "kessai/csrf", scope, nonce)), nil
}

// checkCSRF verifies a POST's "csrf" field against the browser's cookie.
func (h *Handler) checkCSRF(r *http.Request, shopID, scope string) bool {
	c, err := r.Cookie(csrfCookieName(h.secure(r)))
	if err != nil || !validNonce(c.Value) {
		return false
	}
	got, err := b64.DecodeString(r.PostForm.Get("csrf"))
	if err != nil || len(got) == 0 {
		return false
	}
	key, err := h.keys.ShopKey(r.Context(), shopID)
	if err != nil {
		return false
	}
	return hmac.Equal(got, mac(key, "kessai/csrf", scope, c.Value))
}
