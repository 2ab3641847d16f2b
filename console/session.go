package console

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"

	"github.com/kessai/kessai"
)

// Cookie names. The session cookie is scoped to the console's path.
const (
	sessionCookie = "kessai_admin"
	loginCookie   = "kessai_admin_login" // the login form's CSRF nonce
	langCookie    = "kessai_admin_lang"
	csrfField     = "csrf"
)

// Languages.
const (
	langJa = "ja"
	langEn = "en"
)

// wrap runs a route's checks before its handler: language, session,
// role, and the CSRF token of a POST.
func (h *Handler) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rq := &request{ShopID: h.shopID, Lang: h.lang(w, r)}
		if rt.access != public {
			c, err := r.Cookie(sessionCookie)
			if err == nil {
				rq.Session, rq.User, err = h.svc.AdminSession(r.Context(), c.Value)
				rq.token = c.Value
			}
			if err != nil || rq.Session.ShopID != h.shopID {
				h.toLogin(w, r, rq)
				return
			}
			if r.Method == http.MethodPost && !h.checkCSRF(r, rq.Session.CSRFToken) {
				h.renderError(w, r, rq, http.StatusForbidden, "error_csrf")
				return
			}
			if rt.access == writer && !rq.CanWrite() {
				h.log.WarnContext(r.Context(), "console: read-only user refused", "user", rq.User.ID, "path", r.URL.Path)
				h.renderError(w, r, rq, http.StatusForbidden, "error_read_only")
				return
			}
			if r.Method == http.MethodPost {
				// The audit trail of the console: who asked for which
				// change (the outcome is in the payment history and
				// events).
				h.log.InfoContext(r.Context(), "console: action", "user", rq.User.ID, "email", rq.User.Email, "path", r.URL.Path)
			}
		}
		rt.handle(w, r, rq)
	})
}

// optionalRequest is the request of a page that works with or without a
// session (the not-found page keeps the menu of a logged-in user).
func (h *Handler) optionalRequest(w http.ResponseWriter, r *http.Request) *request {
	rq := &request{ShopID: h.shopID, Lang: h.lang(w, r)}
	if c, err := r.Cookie(sessionCookie); err == nil {
		if sess, u, err := h.svc.AdminSession(r.Context(), c.Value); err == nil && sess.ShopID == h.shopID {
			rq.Session, rq.User, rq.token = sess, u, c.Value
		}
	}
	return rq
}

// toLogin sends a browser without a live session to the login page,
// remembering the page it wanted (a GET; a form posted after the session
// ended cannot be replayed and is dropped).
func (h *Handler) toLogin(w http.ResponseWriter, r *http.Request, rq *request) {
	h.clearCookie(w, sessionCookie)
	target := BasePath + "/login"
	if r.Method == http.MethodGet {
		target += "?next=" + url.QueryEscape(r.URL.RequestURI())
	} else {
		target += "?expired=1"
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// checkCSRF compares the form's token with want in constant time.
func (h *Handler) checkCSRF(r *http.Request, want string) bool {
	got := r.PostFormValue(csrfField)
	return want != "" && len(got) == len(want) && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// lang is the page language: ?lang= switches and is remembered in a
// cookie; Japanese by default.
func (h *Handler) lang(w http.ResponseWriter, r *http.Request) string {
	if l := r.URL.Query().Get("lang"); l == langJa || l == langEn {
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: l, Path: BasePath, MaxAge: 365 * 24 * 3600,
			HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteLaxMode})
		return l
	}
	if c, err := r.Cookie(langCookie); err == nil && c.Value == langEn {
		return langEn
	}
	return langJa
}

func (h *Handler) setSessionCookie(w http.ResponseWriter, token string) {
	// No MaxAge: the cookie ends with the browser, the session with the
	// server's idle and absolute limits, whichever comes first.
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: BasePath,
		HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteLaxMode})
}

func (h *Handler) clearCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: BasePath, MaxAge: -1,
		HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteLaxMode})
}

// loginNonce returns the login form's CSRF nonce, setting its cookie when
// the browser has none yet.
func (h *Handler) loginNonce(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(loginCookie); err == nil && len(c.Value) == 43 {
		return c.Value
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	v := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: v, Path: BasePath, MaxAge: 3600,
		HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteStrictMode})
	return v
}

// checkLoginNonce checks the login form's token against its cookie.
func (h *Handler) checkLoginNonce(r *http.Request) bool {
	c, err := r.Cookie(loginCookie)
	return err == nil && h.checkCSRF(r, c.Value)
}

// kindOf is the kind of a service error (KindInternal for anything that is
// not a kessai.Error).
func kindOf(err error) kessai.Kind {
	var ke *kessai.Error
	if errors.As(err, &ke) {
		return ke.Kind
	}
	return kessai.KindInternal
}
