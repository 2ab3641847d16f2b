package console

import (
	"net/http"
	"strings"
)

func (h *Handler) authRoutes() []route {
	return []route{
		{"GET", "/login", public, h.loginPage},
		{"POST", "/login", public, h.login},
		{"POST", "/logout", viewer, h.logout},
		{"GET", "/password", viewer, h.passwordPage},
		{"POST", "/password", viewer, h.changePassword},
	}
}

type loginBody struct {
	Email string
	Next  string
	Nonce string
}

// safeNext keeps a post-login target inside the console; anything else
// (another host, a scheme, "//host") goes to the dashboard.
func safeNext(next string) string {
	if strings.HasPrefix(next, BasePath+"/") && !strings.HasPrefix(next, "//") && !strings.ContainsAny(next, "\\\r\n") &&
		!strings.HasPrefix(next, BasePath+"/login") {
		return next
	}
	return BasePath + "/"
}

func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request, rq *request) {
	// A browser that is still logged in goes where it wanted to.
	if o := h.optionalRequest(w, r); o.User != nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	p := h.newPage(r, rq, "", "login_title")
	if r.URL.Query().Get("expired") != "" {
		p.Errors = append(p.Errors, text(rq.Lang, "login_expired"))
	}
	p.Body = loginBody{Next: safeNext(r.URL.Query().Get("next")), Nonce: h.loginNonce(w, r)}
	h.render(w, r, http.StatusOK, "login", p)
}

func (h *Handler) login(w http.ResponseWriter, r *http.Request, rq *request) {
	email, next := r.PostFormValue("email"), safeNext(r.PostFormValue("next"))
	p := h.newPage(r, rq, "", "login_title")
	if !h.checkLoginNonce(r) {
		p.Errors = append(p.Errors, text(rq.Lang, "login_csrf"))
		p.Body = loginBody{Email: email, Next: next, Nonce: h.loginNonce(w, r)}
		h.render(w, r, http.StatusForbidden, "login", p)
		return
	}
	u, err := h.svc.AuthenticateAdmin(r.Context(), rq.ShopID, email, r.PostFormValue("password"))
	if err != nil {
		if !formErrors(p, err, rq.Lang) {
			h.fail(w, r, rq, err)
			return
		}
		p.Body = loginBody{Email: email, Next: next, Nonce: h.loginNonce(w, r)}
		h.render(w, r, kindOf(err).HTTPStatus(), "login", p)
		return
	}
	token, _, err := h.svc.StartAdminSession(r.Context(), u)
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	h.log.InfoContext(r.Context(), "console: login", "user", u.ID)
	h.clearCookie(w, loginCookie)
	h.setSessionCookie(w, token)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request, rq *request) {
	if err := h.svc.EndAdminSession(r.Context(), rq.ShopID, rq.token); err != nil {
		h.fail(w, r, rq, err)
		return
	}
	h.clearCookie(w, sessionCookie)
	redirect(w, r, BasePath+"/login", "logout")
}

func (h *Handler) passwordPage(w http.ResponseWriter, r *http.Request, rq *request) {
	p := h.newPage(r, rq, "account", "password_title")
	h.render(w, r, http.StatusOK, "password", p)
}

func (h *Handler) changePassword(w http.ResponseWriter, r *http.Request, rq *request) {
	p := h.newPage(r, rq, "account", "password_title")
	next := r.PostFormValue("new_password")
	if next != r.PostFormValue("confirm_password") {
		p.FieldErrors = map[string]string{"confirm_password": text(rq.Lang, "password_mismatch")}
		p.Errors = []string{text(rq.Lang, "password_mismatch")}
		h.render(w, r, http.StatusBadRequest, "password", p)
		return
	}
	err := h.svc.ChangeAdminPassword(r.Context(), rq.ShopID, rq.User.ID, r.PostFormValue("current_password"), next)
	if err != nil {
		if !formErrors(p, err, rq.Lang) {
			h.fail(w, r, rq, err)
			return
		}
		h.render(w, r, kindOf(err).HTTPStatus(), "password", p)
		return
	}
	// The change ended every session of the user, this one included:
	// this browser gets a fresh one, the others must log in again.
	token, _, err := h.svc.StartAdminSession(r.Context(), rq.User)
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	h.setSessionCookie(w, token)
	redirect(w, r, BasePath+"/password", "password")
}
