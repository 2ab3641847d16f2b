package demoshop

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"
)

// The shop keeps no server-side state about browsers: the cart and the
// session live in cookies signed with HMAC-SHA256, so a restart or a
// second instance loses nothing and a visitor cannot change their cart's
// prices or log in as someone else by editing a cookie. Cookies carry
// product ids and quantities only; prices always come from the catalog.

// Cookie names. The name is part of the signed message, so a valid
// cart cookie cannot be replayed as a session cookie.
const (
	cartCookie    = "demoshop_cart"
	sessionCookie = "demoshop_session"
)

// Lifetimes.
const (
	cartTTL    = 7 * 24 * time.Hour
	sessionTTL = 12 * time.Hour
)

// Limits that keep the cookies well under the browsers' 4 KB.
const (
	maxCartLines    = 20
	maxQuantity     = 20
	maxRecentOrders = 10
	maxCookieValue  = 3000
	csrfField       = "csrf"
)

// cart is the shopper's cart.
type cart struct {
	Lines []cartLine `json:"l"`
}

// cartLine is a product and how many.
type cartLine struct {
	ProductID string `json:"p"`
	Quantity  int64  `json:"q"`
}

// count is the number of pieces in the cart, for the header.
func (c *cart) count() int64 {
	var n int64
	for _, l := range c.Lines {
		n += l.Quantity
	}
	return n
}

// fingerprint identifies the cart's contents.
func (c *cart) fingerprint() string {
	b, _ := json.Marshal(c.Lines)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// add adds qty of a product, capped at maxQuantity per line.
func (c *cart) add(id string, qty int64) {
	for i := range c.Lines {
		if c.Lines[i].ProductID == id {
			c.Lines[i].Quantity = min(c.Lines[i].Quantity+qty, maxQuantity)
			return
		}
	}
	if len(c.Lines) < maxCartLines {
		c.Lines = append(c.Lines, cartLine{ProductID: id, Quantity: min(qty, maxQuantity)})
	}
}

// set changes a line's quantity; 0 removes it.
func (c *cart) set(id string, qty int64) {
	for i := range c.Lines {
		if c.Lines[i].ProductID == id {
			if qty <= 0 {
				c.Lines = slices.Delete(c.Lines, i, i+1)
			} else {
				c.Lines[i].Quantity = min(qty, maxQuantity)
			}
			return
		}
	}
}

// clean drops lines of unknown products and impossible quantities: a
// cookie signed by an older version of the shop may name a product that
// is gone.
func (c *cart) clean() {
	c.Lines = slices.DeleteFunc(c.Lines, func(l cartLine) bool {
		_, ok := productByID(l.ProductID)
		return !ok || l.Quantity < 1 || l.Quantity > maxQuantity
	})
	if len(c.Lines) > maxCartLines {
		c.Lines = c.Lines[:maxCartLines]
	}
}

// session is the visitor's session: a nonce that CSRF tokens are bound
// to, the logged-in customer if any, and the orders this browser placed
// (the thank-you page shows an order only to the browser that placed it
// or to its customer).
type session struct {
	Nonce    string   `json:"n"`
	Customer string   `json:"c,omitempty"`
	Expires  int64    `json:"e"`
	Orders   []string `json:"o,omitempty"`
	// CheckoutOrder is the order last made from the cart, and
	// CheckoutCart the cart's fingerprint then: once that order is paid
	// the cart is emptied, unless the shopper changed it meanwhile (the
	// new items are not part of the order).
	CheckoutOrder string `json:"co,omitempty"`
	CheckoutCart  string `json:"cc,omitempty"`
}

// hasOrder reports whether this browser placed order id.
func (s *session) hasOrder(id string) bool { return slices.Contains(s.Orders, id) }

// addOrder remembers an order, forgetting the oldest beyond the limit.
func (s *session) addOrder(id string) {
	if s.hasOrder(id) {
		return
	}
	s.Orders = append(s.Orders, id)
	if len(s.Orders) > maxRecentOrders {
		s.Orders = s.Orders[len(s.Orders)-maxRecentOrders:]
	}
}

// newNonce returns 16 random bytes in base64url.
func newNonce() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic("demoshop: no randomness: " + err.Error()) // crypto/rand does not fail on supported systems
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// cookies signs and reads the shop's cookies.
type cookies struct {
	key    []byte
	path   string
	secure bool
	now    func() time.Time
}

func (c *cookies) mac(name, payload string) []byte {
	h := hmac.New(sha256.New, c.key)
	h.Write([]byte(name))
	h.Write([]byte{0})
	h.Write([]byte(payload))
	return h.Sum(nil)
}

// read decodes cookie name into v; false when it is absent, tampered
// with or malformed (the caller then starts afresh).
func (c *cookies) read(r *http.Request, name string, v any) bool {
	ck, err := r.Cookie(name)
	if err != nil || len(ck.Value) > maxCookieValue {
		return false
	}
	payload, sig, ok := strings.Cut(ck.Value, ".")
	if !ok {
		return false
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, c.mac(name, payload)) {
		return false
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return false
	}
	return json.Unmarshal(raw, v) == nil
}

// write sets cookie name to v, signed, for ttl.
func (c *cookies) write(w http.ResponseWriter, name string, v any, ttl time.Duration) {
	raw, err := json.Marshal(v)
	if err != nil {
		panic("demoshop: cookie value: " + err.Error()) // only the shop's own structs are written
	}
	payload := base64.RawURLEncoding.EncodeToString(raw)
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: payload + "." + base64.RawURLEncoding.EncodeToString(c.mac(name, payload)),
		Path: c.path, MaxAge: int(ttl / time.Second), HttpOnly: true, Secure: c.secure, SameSite: http.SameSiteLaxMode,
	})
}

// clear deletes cookie name.
func (c *cookies) clear(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: c.path, MaxAge: -1, HttpOnly: true, Secure: c.secure,
		SameSite: http.SameSiteLaxMode})
}

// cart reads the cart (empty when there is none).
func (c *cookies) cart(r *http.Request) *cart {
	var ct cart
	if !c.read(r, cartCookie, &ct) {
		return &cart{}
	}
	ct.clean()
	return &ct
}

func (c *cookies) saveCart(w http.ResponseWriter, ct *cart) {
	if len(ct.Lines) == 0 {
		c.clear(w, cartCookie)
		return
	}
	c.write(w, cartCookie, ct, cartTTL)
}

// session reads the session; fresh is true when there was none (or it
// expired) and a new one was made, which the caller must save for its
// CSRF nonce to survive.
func (c *cookies) session(r *http.Request) (s *session, fresh bool) {
	var ss session
	if c.read(r, sessionCookie, &ss) && ss.Nonce != "" && c.now().Unix() < ss.Expires {
		if ss.Customer != "" {
			if _, ok := customerByID(ss.Customer); !ok {
				ss.Customer = ""
			}
		}
		return &ss, false
	}
	return &session{Nonce: newNonce(), Expires: c.now().Add(sessionTTL).Unix()}, true
}

func (c *cookies) saveSession(w http.ResponseWriter, s *session) {
	c.write(w, sessionCookie, s, time.Unix(s.Expires, 0).Sub(c.now()))
}

// csrfToken is the token forms carry: bound to the session's nonce, so a
// page of another site cannot know it, and changed at every login and
// logout.
func (c *cookies) csrfToken(s *session) string {
	return hex.EncodeToString(c.mac("csrf", s.Nonce))
}

// checkCSRF reports whether the form's token belongs to the session.
func (c *cookies) checkCSRF(r *http.Request, s *session) bool {
	got, err := hex.DecodeString(r.PostFormValue(csrfField))
	return err == nil && hmac.Equal(got, c.mac("csrf", s.Nonce))
}
