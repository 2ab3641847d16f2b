package sim

// The control API [SIM]: JSON endpoints under /_sim/ and the matching Go
// methods, for tests and for developers driving the simulator by hand.
// Nothing here exists at the real gateway; a merchant system must never
// depend on it outside tests.
//
// Endpoints (all answers are JSON; every error is {"error": "..."} with a
// 4xx status — bad input never yields a 500):
//
//	GET    /_sim/state?merchant=ID&env=test|production
//	       Everything the merchant has on that environment: tokens (card
//	       masked), card transactions with their history, members,
//	       collections and issued 3-D Secure results (StateView). merchant
//	       may be omitted when exactly one merchant is configured; env
//	       defaults to test.
//	GET    /_sim/faults            {"faults": [Fault…]}
//	POST   /_sim/faults            body: a Fault (durations as Go duration
//	                               strings, e.g. "150ms") → 201 {"id": "…"}
//	DELETE /_sim/faults            removes every fault
//	DELETE /_sim/faults/{id}       removes one fault (404 if unknown)
//	GET    /_sim/clock             {"now": RFC 3339 in JST, "offset": "…"}
//	POST   /_sim/clock             {"advance": "72h"} or {"set":
//	                               "2026-12-01T10:00:00+09:00"} (exactly one)
//	POST   /_sim/tokens            {"merchant_id", "env", "card_number",
//	                               "exp": "YYMM", "security_code",
//	                               "holder_name"} → {"token": "…"}: a token
//	                               without a browser
//	POST   /_sim/collections/pay   {"merchant_id", "env", "free_area" or
//	                               "process_id", "cvs": "SEV"} → pays the
//	                               collection and queues its notification
//	POST   /_sim/reset             forgets all state (see Reset)
//	GET    /_sim/calls             E1–E4 load counters (CallStats: served,
//	                               in flight, queued, peaks, wait and busy
//	                               time in ns) under Config.MaxConcurrent
//	DELETE /_sim/calls             ResetCallStats, then the counters

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/kessai/kessai/escott"
)

// HistoryEntry is one operation applied to a transaction or collection.
// OperateID "paid" marks a collection's payment.
type HistoryEntry struct {
	At            time.Time        `json:"at"`
	OperateID     escott.OperateID `json:"operate_id"`
	TransactionID string           `json:"transaction_id"`
	ResponseCd    string           `json:"response_cd"`
	Amount        int64            `json:"amount,omitempty"`
}

// TransactionView is a read-only snapshot of a card transaction.
type TransactionView struct {
	ProcessID     string           `json:"process_id"`
	ProcessPass   string           `json:"process_pass"`
	Env           string           `json:"env"`
	OriginalOp    escott.OperateID `json:"original_op"`
	Status        string           `json:"status"` // AUTH, CAPTURED or CANCELLED
	Amount        int64            `json:"amount"`
	PayType       string           `json:"pay_type"`
	KaiinID       string           `json:"kaiin_id,omitempty"`
	CardNumber    string           `json:"card_number"` // masked
	CardExp       string           `json:"card_exp"`
	Created       time.Time        `json:"created"`
	SalesDate     string           `json:"sales_date,omitempty"`
	MerchantFree1 string           `json:"merchant_free1,omitempty"`
	MerchantFree2 string           `json:"merchant_free2,omitempty"`
	MerchantFree3 string           `json:"merchant_free3,omitempty"`
	ApproveNo     string           `json:"approve_no"`
	CompanyCd     string           `json:"company_cd"`
	ThreeDS       bool             `json:"three_ds"`
	History       []HistoryEntry   `json:"history"`
}

// MemberView is a read-only snapshot of a card member.
type MemberView struct {
	KaiinID    string    `json:"kaiin_id"`
	Env        string    `json:"env"`
	CardNumber string    `json:"card_number"` // masked
	CardExp    string    `json:"card_exp"`
	Valid      bool      `json:"valid"`
	Failures   int       `json:"failures"`
	Locked     bool      `json:"locked"`
	Expired    bool      `json:"expired"` // a test member past its lifetime
	Created    time.Time `json:"created"`
}

// CollectionView is a read-only snapshot of an online payment collection.
type CollectionView struct {
	ProcessID         string         `json:"process_id"`
	ProcessPass       string         `json:"process_pass"`
	Env               string         `json:"env"`
	FreeArea          string         `json:"free_area"`
	Status            string         `json:"status"` // UNPAID, PAID or DELETED
	Amount            int64          `json:"amount"`
	PayLimit          string         `json:"pay_limit"`
	NameKanji         string         `json:"name_kanji"`
	NameKana          string         `json:"name_kana"`
	TelNo             string         `json:"tel_no"`
	ShouhinName       string         `json:"shouhin_name"`
	ReturnURL         string         `json:"return_url,omitempty"`
	MerchantFree1     string         `json:"merchant_free1,omitempty"`
	MerchantFree2     string         `json:"merchant_free2,omitempty"`
	Changed           bool           `json:"changed"`
	Created           time.Time      `json:"created"`
	RecvNum           string         `json:"recv_num,omitempty"`
	NyukinDate        string         `json:"nyukin_date,omitempty"`
	CvsCd             string         `json:"cvs_cd,omitempty"`
	PaidTransactionID string         `json:"paid_transaction_id,omitempty"`
	History           []HistoryEntry `json:"history"`
}

// TokenView is a read-only snapshot of a card token.
type TokenView struct {
	Token      string    `json:"token"`
	CardNumber string    `json:"card_number"` // masked
	CardExp    string    `json:"card_exp"`
	Issued     time.Time `json:"issued"`
	Expires    time.Time `json:"expires"`
	Status     string    `json:"status"` // usable, used or expired
}

// ThreeDSView is a read-only snapshot of an issued 3-D Secure result.
type ThreeDSView struct {
	DSTransactionID string            `json:"ds_transaction_id"`
	CardNumber      string            `json:"card_number"` // masked
	Amount          int64             `json:"amount"`
	Fields          map[string]string `json:"fields"`
	Issued          time.Time         `json:"issued"`
	UsedForAuths    int               `json:"used_for_auths"`
}

// StateView is everything one merchant has on one environment.
type StateView struct {
	MerchantID   string            `json:"merchant_id"`
	Env          string            `json:"env"`
	Now          time.Time         `json:"now"`
	Tokens       []TokenView       `json:"tokens"`
	Transactions []TransactionView `json:"transactions"`
	Members      []MemberView      `json:"members"`
	Collections  []CollectionView  `json:"collections"`
	ThreeDS      []ThreeDSView     `json:"three_ds"`
}

// errBadEnv is returned for an environment name other than test or
// production.
var errBadEnv = errors.New(`env must be "test" or "production"`)

// parseEnv maps an environment name to env; "" means test.
func parseEnv(name string) (env, error) {
	switch name {
	case "", "test":
		return envTest, nil
	case "production":
		return envProd, nil
	}
	return 0, errBadEnv
}

// resolveMerchantLocked returns the merchant entry for id; an empty id
// means the only configured merchant.
func (s *Server) resolveMerchantLocked(id string) (*merchantEntry, error) {
	if id == "" {
		if len(s.merchants) == 1 {
			for _, m := range s.merchants {
				return m, nil
			}
		}
		return nil, errors.New("merchant is required when several merchants are configured")
	}
	if m := s.merchants[id]; m != nil {
		return m, nil
	}
	return nil, errNoMerchant
}

func history(rs []opRecord) []HistoryEntry {
	out := make([]HistoryEntry, len(rs))
	for i, r := range rs {
		out[i] = HistoryEntry(r)
	}
	return out
}

// State returns a snapshot of everything the merchant has on the
// environment ("test" or "production"; "" means test).
func (s *Server) State(merchantID, envName string) (StateView, error) {
	e, err := parseEnv(envName)
	if err != nil {
		return StateView{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.resolveMerchantLocked(merchantID)
	if err != nil {
		return StateView{}, err
	}
	now := s.nowLocked()
	st := m.state[e]
	v := StateView{MerchantID: m.MerchantID, Env: e.String(), Now: now.In(escott.JST),
		Tokens: []TokenView{}, Transactions: []TransactionView{}, Members: []MemberView{},
		Collections: []CollectionView{}, ThreeDS: []ThreeDSView{}}
	for _, t := range st.tokens {
		status := "usable"
		switch {
		case t.Used:
			status = "used"
		case now.Sub(t.Issued) > s.cfg.TokenTTL:
			status = "expired"
		}
		v.Tokens = append(v.Tokens, TokenView{Token: t.Value, CardNumber: t.Card.masked(), CardExp: t.Card.Exp,
			Issued: t.Issued, Expires: t.Issued.Add(s.cfg.TokenTTL), Status: status})
	}
	slices.SortFunc(v.Tokens, func(a, b TokenView) int { return cmpTime(a.Issued, b.Issued, a.Token, b.Token) })
	for _, t := range st.txns {
		v.Transactions = append(v.Transactions, TransactionView{
			ProcessID: t.ProcessID, ProcessPass: t.ProcessPass, Env: t.Env.String(), OriginalOp: t.OriginalOp,
			Status: string(t.Status), Amount: t.Amount, PayType: t.PayType, KaiinID: t.KaiinID,
			CardNumber: t.Card.masked(), CardExp: t.Card.Exp, Created: t.Created, SalesDate: t.SalesDate,
			MerchantFree1: t.MerchantFree1, MerchantFree2: t.MerchantFree2, MerchantFree3: t.MerchantFree3,
			ApproveNo: t.ApproveNo, CompanyCd: t.CompanyCd, ThreeDS: t.ThreeDS, History: history(t.History),
		})
	}
	slices.SortFunc(v.Transactions, func(a, b TransactionView) int {
		return cmpTime(a.Created, b.Created, firstTxID(a.History), firstTxID(b.History))
	})
	probe := &call{s: s, now: now}
	for _, mb := range st.members {
		v.Members = append(v.Members, MemberView{KaiinID: mb.KaiinID, Env: mb.Env.String(), CardNumber: mb.Card.masked(),
			CardExp: mb.Card.Exp, Valid: mb.Valid, Failures: mb.Failures, Locked: now.Before(mb.LockedUntil),
			Expired: probe.memberGone(mb), Created: mb.Created})
	}
	slices.SortFunc(v.Members, func(a, b MemberView) int { return cmpTime(a.Created, b.Created, a.KaiinID, b.KaiinID) })
	for _, c := range st.collections {
		v.Collections = append(v.Collections, CollectionView{
			ProcessID: c.ProcessID, ProcessPass: c.ProcessPass, Env: c.Env.String(), FreeArea: c.FreeArea,
			Status: string(c.Status), Amount: c.Amount, PayLimit: c.PayLimit, NameKanji: c.NameKanji,
			NameKana: c.NameKana, TelNo: c.TelNo, ShouhinName: c.ShouhinName, ReturnURL: c.ReturnURL,
			MerchantFree1: c.MerchantFree1, MerchantFree2: c.MerchantFree2, Changed: c.Changed, Created: c.Created,
			RecvNum: c.RecvNum, NyukinDate: c.NyukinDate, CvsCd: c.CvsCd, PaidTransactionID: c.PaidTransactionID,
			History: history(c.History),
		})
	}
	slices.SortFunc(v.Collections, func(a, b CollectionView) int {
		return cmpTime(a.Created, b.Created, firstTxID(a.History), firstTxID(b.History))
	})
	for id, r := range st.threeDS {
		fields := map[string]string{}
		for _, kv := range r.Fields {
			fields[kv.Key] = kv.Value
		}
		v.ThreeDS = append(v.ThreeDS, ThreeDSView{DSTransactionID: id, CardNumber: card{Number: r.CardNumber}.masked(),
			Amount: r.Amount, Fields: fields, Issued: r.Issued, UsedForAuths: r.UsedForAuths})
	}
	slices.SortFunc(v.ThreeDS, func(a, b ThreeDSView) int {
		return cmpTime(a.Issued, b.Issued, a.DSTransactionID, b.DSTransactionID)
	})
	return v, nil
}

// cmpTime orders by time, then by a tie-breaking key.
func cmpTime(a, b time.Time, ka, kb string) int {
	if c := a.Compare(b); c != 0 {
		return c
	}
	return strings.Compare(ka, kb)
}

func firstTxID(h []HistoryEntry) string {
	if len(h) == 0 {
		return ""
	}
	return h[0].TransactionID
}

// Transactions returns the merchant's card transactions on the environment,
// oldest first; nil for an unknown merchant or environment.
func (s *Server) Transactions(merchantID, envName string) []TransactionView {
	v, err := s.State(merchantID, envName)
	if err != nil {
		return nil
	}
	return v.Transactions
}

// Members returns the merchant's card members on the environment, oldest
// first; nil for an unknown merchant or environment.
func (s *Server) Members(merchantID, envName string) []MemberView {
	v, err := s.State(merchantID, envName)
	if err != nil {
		return nil
	}
	return v.Members
}

// Collections returns the merchant's collections on the environment,
// oldest first; nil for an unknown merchant or environment.
func (s *Server) Collections(merchantID, envName string) []CollectionView {
	v, err := s.State(merchantID, envName)
	if err != nil {
		return nil
	}
	return v.Collections
}

// IssueToken issues a card token as the token script would, for tests
// that need one without a browser. exp is YYMM; securityCode and
// holderName may be empty.
func (s *Server) IssueToken(merchantID, envName, number, exp, securityCode, holderName string) (string, error) {
	e, err := parseEnv(envName)
	if err != nil {
		return "", err
	}
	return s.issueToken(merchantID, e, card{Number: number, Exp: exp, SecurityCode: securityCode, HolderName: holderName})
}

// AddMember registers a card member directly, as a 4MemAdd with a token
// for that card would, without the token and the E2 round trip: for
// tests and benchmarks that need many saved cards (a benchmark seeding
// 100,000 subscriptions). The checks are 4MemAdd's: KaiinId and KaiinPass
// formats (K45/K46), an existing id (K69), and the card (K82/K83),
// returned as errors naming the code. exp is YYMM.
func (s *Server) AddMember(merchantID, envName, kaiinID, kaiinPass, number, exp string) error {
	e, err := parseEnv(envName)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.resolveMerchantLocked(merchantID)
	if err != nil {
		return err
	}
	if m.DisableMembers {
		return fmt.Errorf("sim: merchant %s has no card member contract (K68)", m.MerchantID)
	}
	switch {
	case !escott.ValidKaiinID(kaiinID):
		return fmt.Errorf("sim: KaiinId %q is invalid (K45)", kaiinID)
	case !escott.ValidKaiinPass(kaiinPass):
		return fmt.Errorf("sim: KaiinPass is invalid (K46)")
	}
	now := s.nowLocked()
	st := m.state[e]
	c := &call{s: s, now: now}
	if old := st.members[kaiinID]; old != nil && !c.memberGone(old) {
		return fmt.Errorf("sim: member %s exists (K69)", kaiinID)
	}
	cd := card{Number: number, Exp: exp}
	if code := registrationAnswer(cd, now); code != "" {
		return fmt.Errorf("sim: card refused (%s)", code)
	}
	st.members[kaiinID] = &member{KaiinID: kaiinID, KaiinPass: kaiinPass, MerchantID: m.MerchantID, Env: e,
		Card: storedCard(cd), Valid: true, Created: now}
	return nil
}

// PayCollection pays the collection whose current payment code is
// freeArea at channel cvs (a CvsCd of spec §10.9; "" means SEV) and queues
// the payment notification, as a shopper paying at the store would.
func (s *Server) PayCollection(merchantID, envName, freeArea, cvs string) error {
	e, err := parseEnv(envName)
	if err != nil {
		return err
	}
	if cvs == "" {
		cvs = "SEV"
	}
	return s.payCollection(merchantID, e, freeArea, cvs)
}

// SetTime moves the simulator's clock to t; it then runs on from there.
func (s *Server) SetTime(t time.Time) {
	s.mu.Lock()
	s.offset = t.Sub(s.cfg.Now())
	s.mu.Unlock()
}

// Reset forgets all state: tokens, transactions, members, collections,
// 3-D Secure results, merchant lock-outs and faults; the clock returns to
// real time. Merchants stay configured and the TransactionId sequence
// continues, so ids never repeat. Notifications already queued are the
// notifier's business and are not withdrawn.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.merchants {
		m.state = [2]*merchantState{newMerchantState(), newMerchantState()}
		m.passFailures = 0
		m.lockedUntil = time.Time{}
	}
	s.faults = nil
	s.offset = 0
}

// routesControl registers the control API.
func (s *Server) routesControl(mux *http.ServeMux) {
	mux.HandleFunc("/_sim/state", s.ctlState)
	mux.HandleFunc("/_sim/faults", s.ctlFaults)
	mux.HandleFunc("/_sim/faults/{id}", s.ctlFault)
	mux.HandleFunc("/_sim/clock", s.ctlClock)
	mux.HandleFunc("/_sim/tokens", s.ctlTokens)
	mux.HandleFunc("/_sim/collections/pay", s.ctlPay)
	mux.HandleFunc("/_sim/reset", s.ctlReset)
}

// maxControlBody caps a control API request body.
const maxControlBody = 1 << 20

func ctlJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"encoding the answer failed"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

func jsonError(w http.ResponseWriter, status int, msg string) {
	ctlJSON(w, status, map[string]string{"error": msg})
}

// allow answers 405 unless the request uses one of the methods.
func allow(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	if slices.Contains(methods, r.Method) {
		return true
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	jsonError(w, http.StatusMethodNotAllowed, "method not allowed; use "+strings.Join(methods, " or "))
	return false
}

// decodeJSON reads one JSON object, refusing unknown fields and trailing
// data so that a typo is reported instead of ignored.
func decodeJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxControlBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return errors.New("request body must be a JSON object")
		}
		return fmt.Errorf("bad JSON: %v", err)
	}
	if dec.More() {
		return errors.New("bad JSON: trailing data after the object")
	}
	return nil
}

// merchantStatus maps a merchant/env lookup error to an HTTP status.
func merchantStatus(err error) int {
	if errors.Is(err, errNoMerchant) {
		return http.StatusNotFound
	}
	return http.StatusBadRequest
}

func (s *Server) ctlState(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet) {
		return
	}
	v, err := s.State(r.URL.Query().Get("merchant"), r.URL.Query().Get("env"))
	if err != nil {
		jsonError(w, merchantStatus(err), err.Error())
		return
	}
	ctlJSON(w, http.StatusOK, v)
}

func (s *Server) ctlFaults(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet, http.MethodPost, http.MethodDelete) {
		return
	}
	switch r.Method {
	case http.MethodGet:
		ctlJSON(w, http.StatusOK, map[string]any{"faults": s.Faults()})
	case http.MethodDelete:
		s.ClearFaults()
		ctlJSON(w, http.StatusOK, map[string]any{"ok": true})
	default:
		var f Fault
		if err := decodeJSON(r, &f); err != nil {
			jsonError(w, http.StatusBadRequest, err.Error())
			return
		}
		if err := f.validate(); err != nil {
			jsonError(w, http.StatusBadRequest, err.Error())
			return
		}
		id := s.AddFault(f)
		ctlJSON(w, http.StatusCreated, map[string]any{"id": id})
	}
}

func (s *Server) ctlFault(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodDelete) {
		return
	}
	if !s.RemoveFault(r.PathValue("id")) {
		jsonError(w, http.StatusNotFound, "no fault with this id")
		return
	}
	ctlJSON(w, http.StatusOK, map[string]any{"ok": true})
}

// clockView is the answer of /_sim/clock.
type clockView struct {
	Now    time.Time `json:"now"`
	Offset string    `json:"offset"`
}

func (s *Server) clockView() clockView {
	s.mu.Lock()
	defer s.mu.Unlock()
	return clockView{Now: s.nowLocked().In(escott.JST), Offset: s.offset.String()}
}

func (s *Server) ctlClock(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet, http.MethodPost) {
		return
	}
	if r.Method == http.MethodPost {
		var req struct {
			Advance string `json:"advance"`
			Set     string `json:"set"`
		}
		if err := decodeJSON(r, &req); err != nil {
			jsonError(w, http.StatusBadRequest, err.Error())
			return
		}
		switch {
		case (req.Advance == "") == (req.Set == ""):
			jsonError(w, http.StatusBadRequest, `give exactly one of "advance" (a Go duration, e.g. "72h") or "set" (RFC 3339 time)`)
			return
		case req.Advance != "":
			d, err := time.ParseDuration(req.Advance)
			if err != nil {
				jsonError(w, http.StatusBadRequest, "advance: "+err.Error())
				return
			}
			s.Advance(d)
		default:
			t, err := time.Parse(time.RFC3339, req.Set)
			if err != nil {
				jsonError(w, http.StatusBadRequest, "set: "+err.Error())
				return
			}
			s.SetTime(t)
		}
	}
	ctlJSON(w, http.StatusOK, s.clockView())
}

func (s *Server) ctlTokens(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodPost) {
		return
	}
	var req struct {
		MerchantID   string `json:"merchant_id"`
		Env          string `json:"env"`
		CardNumber   string `json:"card_number"`
		Exp          string `json:"exp"`
		SecurityCode string `json:"security_code"`
		HolderName   string `json:"holder_name"`
	}
	if err := decodeJSON(r, &req); err != nil {
		jsonError(w, http.StatusBadRequest, err.Error())
		return
	}
	mid, err := s.defaultMerchant(req.MerchantID)
	if err != nil {
		jsonError(w, merchantStatus(err), err.Error())
		return
	}
	tok, err := s.IssueToken(mid, req.Env, req.CardNumber, req.Exp, req.SecurityCode, req.HolderName)
	if err != nil {
		jsonError(w, merchantStatus(err), err.Error())
		return
	}
	ctlJSON(w, http.StatusCreated, map[string]string{"token": tok})
}

// defaultMerchant resolves an optional merchant id to a configured one.
func (s *Server) defaultMerchant(id string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.resolveMerchantLocked(id)
	if err != nil {
		return "", err
	}
	return m.MerchantID, nil
}

func (s *Server) ctlPay(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodPost) {
		return
	}
	var req struct {
		MerchantID string `json:"merchant_id"`
		Env        string `json:"env"`
		FreeArea   string `json:"free_area"`
		ProcessID  string `json:"process_id"`
		Cvs        string `json:"cvs"`
	}
	if err := decodeJSON(r, &req); err != nil {
		jsonError(w, http.StatusBadRequest, err.Error())
		return
	}
	e, err := parseEnv(req.Env)
	if err != nil {
		jsonError(w, http.StatusBadRequest, err.Error())
		return
	}
	if (req.FreeArea == "") == (req.ProcessID == "") {
		jsonError(w, http.StatusBadRequest, `give exactly one of "free_area" or "process_id"`)
		return
	}
	mid, err := s.defaultMerchant(req.MerchantID)
	if err != nil {
		jsonError(w, merchantStatus(err), err.Error())
		return
	}
	freeArea := req.FreeArea
	if req.ProcessID != "" {
		s.mu.Lock()
		if col := s.merchants[mid].state[e].collections[req.ProcessID]; col != nil {
			freeArea = col.FreeArea
		}
		s.mu.Unlock()
		if freeArea == "" {
			jsonError(w, http.StatusNotFound, "no collection with this process_id")
			return
		}
	}
	if err := s.PayCollection(mid, e.String(), freeArea, req.Cvs); err != nil {
		status := http.StatusConflict
		switch {
		case errors.Is(err, errNoMerchant), errors.Is(err, errNoCollection):
			status = http.StatusNotFound
		case errors.Is(err, errUnknownCvs), errors.Is(err, errBadEnv):
			status = http.StatusBadRequest
		}
		jsonError(w, status, err.Error())
		return
	}
	for _, c := range s.Collections(mid, e.String()) {
		if c.FreeArea == freeArea {
			ctlJSON(w, http.StatusOK, c)
			return
		}
	}
	ctlJSON(w, http.StatusOK, map[string]any{"ok": true})
}

func (s *Server) ctlReset(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodPost) {
		return
	}
	s.Reset()
	ctlJSON(w, http.StatusOK, map[string]any{"ok": true})
}
