package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/kessai/kessai"
)

// maxBody bounds JSON request bodies. Orders with a hundred items are a
// few tens of kilobytes; a megabyte is generous and still cheap to hold.
const maxBody = 1 << 20

// call is one API request in flight.
type call struct {
	r      *http.Request
	header http.Header // response headers set by the handler
	reqID  string
	lang   string
	key    *kessai.APIKey
	shopID string
	body   []byte // the request body of POST, PATCH and DELETE
	// replayed is set when the answer came from an idempotency record.
	replayed bool
}

// ctx is the request's context.
func (c *call) ctx() context.Context { return c.r.Context() }

// serve wraps a route: request id, recovery, authentication, body limits,
// idempotency, the handler, and the access log.
func (a *API) serve(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := a.now()
		c := &call{r: r, header: http.Header{}, reqID: kessai.NewID("req", start), lang: language(r)}
		status, body := a.run(c, rt)
		h := w.Header()
		for k, v := range c.header {
			h[k] = v
		}
		h.Set("Content-Type", "application/json; charset=utf-8")
		// Answers may carry a webhook secret or personal data: no cache
		// may keep them.
		h.Set("Cache-Control", "no-store")
		h.Set("Request-Id", c.reqID)
		h.Set("Content-Language", c.lang)
		if c.replayed {
			h.Set("Idempotent-Replayed", "true")
		}
		w.WriteHeader(status)
		_, _ = w.Write(body)
		a.log.InfoContext(r.Context(), "api", "request_id", c.reqID, "method", r.Method, "path", r.URL.Path,
			"status", status, "shop", c.shopID, "replayed", c.replayed, "duration", time.Since(start))
	})
}

// run produces the answer of a call. It never panics: a panic (a bug) is
// logged with its stack and answered with a JSON 500, and an idempotency
// key claimed by the failed request is released so the client may retry.
func (a *API) run(c *call, rt route) (status int, body []byte) {
	claimed := false
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p) // the client went away on purpose; let net/http handle it
			}
			a.log.ErrorContext(c.r.Context(), "api: panic", "request_id", c.reqID, "method", c.r.Method,
				"path", c.r.URL.Path, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			if claimed {
				a.abandon(c)
			}
			c.replayed = false
			status, body = a.marshalError(c, kessai.Internal(fmt.Errorf("panic: %v", p)))
		}
	}()
	if err := a.authenticate(c, rt); err != nil {
		return a.marshalError(c, err)
	}
	mutating := c.r.Method == http.MethodPost || c.r.Method == http.MethodPatch || c.r.Method == http.MethodDelete
	if mutating {
		if err := a.readBody(c); err != nil {
			return a.marshalError(c, err)
		}
	}
	idemKey := c.r.Header.Get("Idempotency-Key")
	if mutating && (idemKey != "" || len(c.r.Header.Values("Idempotency-Key")) > 0) {
		st, b, done, err := a.beginIdempotency(c, idemKey)
		if err != nil {
			return a.marshalError(c, err)
		}
		if done {
			return st, b
		}
		claimed = true
	}
	st, v, err := rt.h(c)
	if err != nil {
		status, body = a.marshalError(c, err)
	} else {
		status, body = st, a.marshal(v)
	}
	if claimed {
		claimed = false
		a.finishIdempotency(c, idemKey, status, body)
	}
	return status, body
}

func (a *API) marshalError(c *call, err error) (int, []byte) {
	st, eb := a.errorResponse(c, err)
	if st == http.StatusUnauthorized {
		c.header.Set("WWW-Authenticate", `Bearer realm="kessai"`)
	}
	return st, a.marshal(eb)
}

// marshal encodes an answer. Every answer type is plain data, so an error
// here is a bug; it panics into run's recovery rather than sending a
// half-written body.
func (a *API) marshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("api: marshal %T: %v", v, err))
	}
	return append(b, '\n')
}

// errPublishable is the answer to a publishable key on a secret route.
var errPublishable = kessai.Errorf(kessai.KindForbidden, "publishable_key_forbidden",
	"公開可能キー（pk_）ではこの API を呼び出せません。シークレットキー（sk_）を使用してください。",
	"A publishable key (pk_) cannot call this endpoint; use the secret key (sk_).")

var errNoKey = kessai.Errorf(kessai.KindUnauthorized, "api_key_missing",
	"API キーがありません。Authorization: Bearer sk_… ヘッダーを付けてください。",
	"No API key. Send the header Authorization: Bearer sk_….")

// authenticate reads the key from "Authorization: Bearer <key>" or HTTP
// Basic with the key as the user name (what curl -u and Stripe clients
// send), and checks it may call rt.
func (a *API) authenticate(c *call, rt route) error {
	h := c.r.Header.Get("Authorization")
	if h == "" {
		return errNoKey
	}
	var key string
	scheme, rest, _ := strings.Cut(h, " ")
	switch strings.ToLower(scheme) {
	case "bearer":
		key = strings.TrimSpace(rest)
	case "basic":
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest))
		if err != nil {
			return errNoKey
		}
		key, _, _ = strings.Cut(string(raw), ":")
	default:
		return errNoKey
	}
	k, err := a.svc.Authenticate(c.ctx(), key)
	if err != nil {
		return err
	}
	c.key, c.shopID = k, k.ShopID
	if k.Kind != kessai.KeySecret && !rt.publishable {
		return errPublishable
	}
	return nil
}

// readBody reads a mutating request's body within maxBody and checks that
// a non-empty body is JSON. An empty body is allowed here: handlers whose
// input is required say so when decoding.
func (a *API) readBody(c *call) error {
	if c.r.ContentLength > maxBody {
		return errBodyTooLarge()
	}
	b, err := io.ReadAll(io.LimitReader(c.r.Body, maxBody+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errBodyTooLarge()
		}
		return &kessai.Error{Kind: kessai.KindInvalid, Code: "body_unreadable",
			Ja: "リクエスト本文を読み取れませんでした。", En: "The request body could not be read.", Err: err}
	}
	if len(b) > maxBody {
		return errBodyTooLarge()
	}
	if len(bytes.TrimSpace(b)) > 0 && !isJSONContentType(c.r.Header.Get("Content-Type")) {
		return errUnsupportedMediaType()
	}
	c.body = b
	return nil
}

// isJSONContentType accepts application/json (and +json types) in UTF-8,
// the only encoding JSON has (RFC 8259).
func isJSONContentType(ct string) bool {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	if mt != "application/json" && !(strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")) {
		return false
	}
	cs, ok := params["charset"]
	return !ok || strings.EqualFold(cs, "utf-8")
}

// methodNotAllowed answers a method a path does not serve.
func (a *API) methodNotAllowed(methods []string) http.Handler {
	list := append([]string{}, methods...)
	if slices.Contains(methods, "GET") {
		list = append(list, "HEAD")
	}
	allow := strings.Join(list, ", ")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := &call{r: r, header: http.Header{}, reqID: kessai.NewID("req", a.now()), lang: language(r)}
		w.Header().Set("Allow", allow)
		a.writeDirect(w, c, errMethodNotAllowed())
	})
}

func (a *API) notFoundRoute(w http.ResponseWriter, r *http.Request) {
	c := &call{r: r, header: http.Header{}, reqID: kessai.NewID("req", a.now()), lang: language(r)}
	a.writeDirect(w, c, errRouteNotFound)
}

// writeDirect answers an error outside a route (no authentication ran).
func (a *API) writeDirect(w http.ResponseWriter, c *call, err error) {
	st, b := a.marshalError(c, err)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Request-Id", c.reqID)
	w.WriteHeader(st)
	_, _ = w.Write(b)
}
