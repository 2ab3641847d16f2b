package sim

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"text/template"

	"github.com/kessai/kessai/escott"
)

// E7: the token script (spec §7.1–7.2) and the simulator's private
// endpoint it sends the card data to.
//
// [SIM] choices (docs/simulator-browser.md):
//   - the script POSTs the card data (form-encoded, a CORS "simple
//     request" without preflight) to tokenIssuePath on the origin the
//     script was loaded from; the endpoint allows any origin;
//   - the callback is called as callBackFunc(token, maskedCardNo, result);
//     on failure token and maskedCardNo are "" and result.resultCode holds
//     the code (KI1 for an unknown k_TokenNinsyoCode);
//   - the token auth code does not say which environment a token is for:
//     tokens are issued for the test environment unless the script URL
//     carries sim_env=prod (or production).

// tokenIssuePath is the private endpoint of the token script.
const tokenIssuePath = "/_sim/token-issue"

//go:embed web/templates/tokenjs.js.tmpl
var tokenJSSource string

var tokenJSTemplate = template.Must(template.New("tokenjs").Parse(tokenJSSource))

// maxTokenIssueBody bounds the token request body.
const maxTokenIssueBody = 8 << 10

// merchantByTokenCode returns the merchant whose token auth code is code.
func (s *Server) merchantByTokenCode(code string) *merchantEntry {
	if code == "" {
		return nil
	}
	for _, m := range s.merchants {
		if m.TokenAuthCode == code {
			return m
		}
	}
	return nil
}

// scriptEnv reads the sim_env parameter of the token script.
func scriptEnv(v string) env {
	switch strings.ToLower(v) {
	case "prod", "production":
		return envProd
	}
	return envTest
}

func envParam(e env) string {
	if e == envProd {
		return "prod"
	}
	return "test"
}

// jsString renders a Go string as a JavaScript string literal (JSON, with
// <, > and & escaped).
func jsString(v string) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func (s *Server) handleTokenJS(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		s.writeError(w, r, http.StatusMethodNotAllowed, "GET で取得してください。", "Use GET.")
		return
	}
	q := r.URL.Query()
	code := q.Get("k_TokenNinsyoCode")
	e := scriptEnv(q.Get("sim_env"))
	if m := s.merchantByTokenCode(code); m != nil {
		s.log.Info("sim: token script served", "merchant", m.MerchantID, "env", e)
	} else {
		// The script still loads; creating a token reports KI1.
		s.log.Info("sim: token script served for an unknown k_TokenNinsyoCode")
	}
	var buf bytes.Buffer
	err := tokenJSTemplate.Execute(&buf, map[string]string{
		"Code":       jsString(code),
		"Env":        jsString(envParam(e)),
		"Base":       jsString(s.publicBase(r)),
		"ScriptPath": jsString(escott.PathTokenJS),
		"IssuePath":  jsString(tokenIssuePath),
	})
	if err != nil {
		s.log.Error("sim: rendering token script", "err", err)
		http.Error(w, "token script unavailable", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/javascript; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Access-Control-Allow-Origin", "*")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(buf.Bytes())
	}
}

// tokenIssueResult is the JSON answer of the issuing endpoint.
type tokenIssueResult struct {
	ResultCode   string `json:"resultCode"`
	Token        string `json:"token,omitempty"`
	MaskedCardNo string `json:"maskedCardNo,omitempty"`
}

// tokenRequest is the card data the script sends.
type tokenRequest struct {
	Code, Env             string
	CardNo, YY, MM, SecCd string
	BirthMM, BirthDD, Tel string
	KanaSei, KanaMei      string
}

func (s *Server) handleTokenIssue(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	switch r.Method {
	case http.MethodOptions:
		h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "Content-Type")
		h.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return
	case http.MethodPost:
	default:
		h.Set("Allow", "POST, OPTIONS")
		writeJSON(w, http.StatusMethodNotAllowed, tokenIssueResult{ResultCode: "K01"})
		return
	}
	req, err := readTokenRequest(w, r)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, tokenIssueResult{ResultCode: "K01"})
		return
	}
	writeJSON(w, http.StatusOK, s.issueFromScript(req))
}

// readTokenRequest reads a form-encoded or JSON body (never the query
// string: card data does not belong in a URL).
func readTokenRequest(w http.ResponseWriter, r *http.Request) (tokenRequest, error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxTokenIssueBody)
	get := func(string) string { return "" }
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json":
		var m map[string]any
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return tokenRequest{}, err
		}
		if err := json.Unmarshal(body, &m); err != nil {
			return tokenRequest{}, err
		}
		get = func(k string) string {
			switch v := m[k].(type) {
			case string:
				return v
			case float64:
				b, _ := json.Marshal(v)
				return string(b)
			}
			return ""
		}
	case "application/x-www-form-urlencoded", "multipart/form-data", "text/plain", "":
		if ct == "text/plain" || ct == "" {
			// A form body sent without the usual type.
			body, err := io.ReadAll(r.Body)
			if err != nil {
				return tokenRequest{}, err
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		var err error
		if ct == "multipart/form-data" {
			err = r.ParseMultipartForm(maxTokenIssueBody)
		} else {
			err = r.ParseForm()
		}
		if err != nil {
			return tokenRequest{}, err
		}
		get = r.PostForm.Get
	default:
		return tokenRequest{}, errors.New("unsupported content type")
	}
	return tokenRequest{
		Code: get("k_TokenNinsyoCode"), Env: get("sim_env"),
		CardNo: get("cardNo"), YY: get("yy"), MM: get("mm"), SecCd: get("secCd"),
		BirthMM: get("birthMM"), BirthDD: get("birthDD"), Tel: get("tel"),
		KanaSei: get("kanaSei"), KanaMei: get("kanaMei"),
	}, nil
}

// issueFromScript validates the card data and issues a token. Card data is
// never logged.
func (s *Server) issueFromScript(req tokenRequest) tokenIssueResult {
	m := s.merchantByTokenCode(req.Code)
	if m == nil {
		s.log.Info("sim: token request with an unknown k_TokenNinsyoCode", "result", "KI1")
		return tokenIssueResult{ResultCode: "KI1"}
	}
	e := scriptEnv(req.Env)
	if codes := checkTokenCard(req); len(codes) > 0 {
		code := joinCodes(codes)
		s.log.Info("sim: token request refused", "merchant", m.MerchantID, "env", e, "result", code)
		return tokenIssueResult{ResultCode: code}
	}
	c := card{Number: req.CardNo, Exp: req.YY + req.MM, SecurityCode: req.SecCd}
	tok, err := s.issueToken(m.MerchantID, e, c)
	if err != nil {
		code := errorCode(err, "K99")
		s.log.Info("sim: token request refused", "merchant", m.MerchantID, "env", e, "result", code)
		return tokenIssueResult{ResultCode: code}
	}
	s.log.Info("sim: token issued", "merchant", m.MerchantID, "env", e)
	return tokenIssueResult{ResultCode: escott.CodeOK, Token: tok, MaskedCardNo: c.masked()}
}

// checkTokenCard validates the nine arguments of spsvCreateToken [SIM]:
// card number 13–19 digits (K20), YY two digits and MM 01–12 (K21),
// security code empty or 3–4 digits (K24), and the authentication-assist
// items (K25–K28) for plausibility only.
func checkTokenCard(req tokenRequest) []string {
	var codes []string
	if !allDigits(req.CardNo) || len(req.CardNo) < 13 || len(req.CardNo) > 19 {
		codes = append(codes, "K20")
	}
	if len(req.YY) != 2 || !allDigits(req.YY) || len(req.MM) != 2 || !allDigits(req.MM) || req.MM < "01" || req.MM > "12" {
		codes = append(codes, "K21")
	}
	if req.SecCd != "" && (!allDigits(req.SecCd) || len(req.SecCd) < 3 || len(req.SecCd) > 4) {
		codes = append(codes, "K24")
	}
	if len([]rune(req.KanaSei)) > 30 {
		codes = append(codes, "K25")
	}
	if len([]rune(req.KanaMei)) > 30 {
		codes = append(codes, "K26")
	}
	if (req.BirthMM != "" && (len(req.BirthMM) != 2 || !allDigits(req.BirthMM))) ||
		(req.BirthDD != "" && (len(req.BirthDD) != 2 || !allDigits(req.BirthDD))) {
		codes = append(codes, "K27")
	}
	if req.Tel != "" && (!allDigits(req.Tel) || len(req.Tel) > 15) {
		codes = append(codes, "K28")
	}
	return codes
}

// errorCode maps an error of the server half (issueToken) to the gateway
// code the browser surfaces report, else def.
func errorCode(err error, def string) string {
	switch {
	case errors.Is(err, errCardNumber):
		return "K20"
	case errors.Is(err, errCardExp):
		return "K21"
	case errors.Is(err, errSecurityCode):
		return "K24"
	case errors.Is(err, errHolderName):
		return "KE5"
	case errors.Is(err, errNoMerchant):
		return "K02"
	}
	var coded interface{ Code() string }
	if errors.As(err, &coded) && coded.Code() != "" {
		return coded.Code()
	}
	return def
}

func (s *Server) handleTokenDemo(w http.ResponseWriter, r *http.Request) {
	code := r.URL.Query().Get("k_TokenNinsyoCode")
	if code == "" {
		for _, m := range s.cfg.Merchants {
			if m.TokenAuthCode != "" {
				code = m.TokenAuthCode
				break
			}
		}
	}
	e := scriptEnv(r.URL.Query().Get("sim_env"))
	src := s.basePath() + escott.PathTokenJS + "?k_TokenNinsyoCode=" + urlQueryEscape(code)
	if e == envProd {
		src += "&sim_env=prod"
	}
	s.writePage(w, r, http.StatusOK, "tokendemo", "トークン作成の試用 / Try the token script", map[string]any{
		"ScriptSrc": src, "Code": code, "Env": e.String(),
	})
}
