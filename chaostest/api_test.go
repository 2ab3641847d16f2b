package chaostest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
)

// answer is one API answer, read whole.
type answer struct {
	Status int
	Header http.Header
	Body   []byte
}

func (a *answer) String() string { return fmt.Sprintf("HTTP %d %s", a.Status, a.Body) }

// decode unmarshals the body into v.
func (a *answer) decode(v any) error { return json.Unmarshal(a.Body, v) }

// apiErr is the documented error object.
type apiErr struct {
	Type    string `json:"type"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Errors  []struct {
		Field string `json:"field"`
		Code  string `json:"code"`
	} `json:"errors"`
	PaymentID    string   `json:"payment_id"`
	OrderID      string   `json:"order_id"`
	GatewayCodes []string `json:"gateway_codes"`
	RequestID    string   `json:"request_id"`
}

// errObj returns the error object of an error answer (nil for a success
// or a body that is not one).
func (a *answer) errObj() *apiErr {
	var e struct {
		Error *apiErr `json:"error"`
	}
	if json.Unmarshal(a.Body, &e) != nil {
		return nil
	}
	return e.Error
}

// code is the error code of an error answer, "" otherwise.
func (a *answer) code() string {
	if e := a.errObj(); e != nil {
		return e.Code
	}
	return ""
}

// kindStatus is the one HTTP status of each error kind (docs/openapi.yaml,
// "Errors"); type invalid also answers the four protocol statuses.
var kindStatus = map[string][]int{
	"invalid": {400, 405, 413, 415, 422}, "unauthorized": {401}, "forbidden": {403}, "not_found": {404},
	"conflict": {409}, "declined": {402}, "unknown_outcome": {202}, "rate_limited": {429}, "unavailable": {503},
	"internal": {500},
}

// auditor checks every API answer of the suite against the documentation:
// the answer (status and body) must be one docs/openapi.yaml gives for
// the operation, the error's type must be the kind of its status, and its
// code (and every field error's code) must be named somewhere in docs/.
// Internal errors (500) are documented, but a gateway fault or a crash
// must end in a documented state, never in a bug: they count as problems
// too.
//
// The document's validator takes seconds to build (many more under the
// race detector), so it is built in the background while the run starts,
// and the answers are validated against it at the end (finish).
type auditor struct {
	mu        sync.Mutex
	codes     map[string]bool
	tally     map[string]int // "label → status code"
	problems  []string
	answers   []audited
	transport int // requests that met a dead kessai (no answer at all)

	ready chan struct{} // closed when v (or verr) is set
	v     validator.Validator
	verr  error
}

// audited is one answer kept for the validation at the end.
type audited struct {
	method, path string
	ans          *answer
}

// docCodeRE finds code-like words: backticked in the Markdown guides,
// snake_case in the OpenAPI document (its descriptions name codes).
var (
	backtickRE = regexp.MustCompile("`([a-z][a-z0-9_]*[a-z0-9])`")
	snakeRE    = regexp.MustCompile(`\b([a-z][a-z0-9]*(?:_[a-z0-9]+)+)\b`)
)

func newAuditor(t *testing.T) *auditor {
	t.Helper()
	spec, err := os.ReadFile("../docs/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	a := &auditor{codes: map[string]bool{}, tally: map[string]int{}, ready: make(chan struct{})}
	go func() {
		defer close(a.ready)
		doc, err := libopenapi.NewDocument(spec)
		if err != nil {
			a.verr = err
			return
		}
		v, errs := validator.NewValidator(doc)
		if len(errs) > 0 {
			a.verr = errors.Join(errs...)
			return
		}
		a.v = v
	}()
	for _, m := range snakeRE.FindAllSubmatch(spec, -1) {
		a.codes[string(m[1])] = true
	}
	for _, m := range backtickRE.FindAllSubmatch(spec, -1) {
		a.codes[string(m[1])] = true
	}
	mds, _ := filepath.Glob("../docs/*.md")
	for _, md := range mds {
		b, err := os.ReadFile(md)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range backtickRE.FindAllSubmatch(b, -1) {
			a.codes[string(m[1])] = true
		}
	}
	if !a.codes["order_not_payable"] || !a.codes["idempotency_in_progress"] {
		t.Fatal("the documented error codes were not found in docs/")
	}
	return a
}

// check audits one answer: the error's kind and code now, the answer's
// shape against the document at the end.
func (a *auditor) check(label, method, path string, ans *answer) {
	key := fmt.Sprintf("%s → %d", label, ans.Status)
	var problems []string
	e := ans.errObj()
	if ans.Status >= 400 || ans.Status == http.StatusAccepted && e != nil {
		if e == nil {
			problems = append(problems, "an error answer without the error object")
		} else {
			key += " " + e.Code
			if !slices.Contains(kindStatus[e.Type], ans.Status) {
				problems = append(problems, fmt.Sprintf("type %q does not answer HTTP %d", e.Type, ans.Status))
			}
			if !a.codes[e.Code] {
				problems = append(problems, fmt.Sprintf("code %q is not documented in docs/", e.Code))
			}
			for _, fe := range e.Errors {
				if !a.codes[fe.Code] && fe.Code != "required" {
					problems = append(problems, fmt.Sprintf("field error code %q (%s) is not documented", fe.Code, fe.Field))
				}
			}
			if e.Type == "internal" {
				problems = append(problems, "an internal error (a bug, not a documented outcome)")
			}
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.tally[key]++
	a.answers = append(a.answers, audited{method: method, path: path, ans: ans})
	for _, p := range problems {
		a.problems = append(a.problems, fmt.Sprintf("%s %s → %d: %s\n    %s", method, path, ans.Status, p, truncate(ans.Body, 400)))
	}
}

// finish validates the kept answers against docs/openapi.yaml.
func (a *auditor) finish(t *testing.T) {
	<-a.ready
	if a.verr != nil {
		t.Fatalf("docs/openapi.yaml: %v", a.verr)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, x := range a.answers {
		req, _ := http.NewRequest(x.method, "http://kessai.test"+x.path, nil)
		resp := &http.Response{StatusCode: x.ans.Status, Header: x.ans.Header, Body: io.NopCloser(bytes.NewReader(x.ans.Body)), Request: req}
		if ok, verrs := a.v.ValidateHttpResponse(req, resp); !ok {
			for _, ve := range verrs {
				detail := ve.Message + ": " + ve.Reason
				for _, se := range ve.SchemaValidationErrors {
					detail += fmt.Sprintf("; %s at %s", se.Reason, se.FieldPath)
				}
				a.problems = append(a.problems, fmt.Sprintf("%s %s → %d: not as docs/openapi.yaml says: %s\n    %s",
					x.method, x.path, x.ans.Status, detail, truncate(x.ans.Body, 400)))
			}
		}
	}
	a.answers = nil
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

// report returns the tally, most frequent first.
func (a *auditor) report() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	keys := make([]string, 0, len(a.tally))
	for k := range a.tally {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if a.tally[keys[i]] != a.tally[keys[j]] {
			return a.tally[keys[i]] > a.tally[keys[j]]
		}
		return keys[i] < keys[j]
	})
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "  %5d  %s\n", a.tally[k], k)
	}
	fmt.Fprintf(&b, "  %5d  requests that met a killed kessai (no answer; retried)\n", a.transport)
	return b.String()
}

// call sends one API request and audits the answer. label names the
// operation in reports ("POST /v1/orders/{id}/pay"). A transport error
// (kessai killed) is returned as is.
func (c *cluster) call(ctx context.Context, label, method, path string, body any, idem string) (*answer, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.api+path, r)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.sk)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if idem != "" {
		req.Header.Set("Idempotency-Key", idem)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		c.audit.mu.Lock()
		c.audit.transport++
		c.audit.mu.Unlock()
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.audit.mu.Lock()
		c.audit.transport++
		c.audit.mu.Unlock()
		return nil, err
	}
	ans := &answer{Status: resp.StatusCode, Header: resp.Header, Body: b}
	c.audit.check(label, method, path, ans)
	return ans, nil
}

// errStuck is a request whose Idempotency-Key stayed "in progress": its
// first attempt died with the process that ran it.
var errStuck = errors.New("idempotency key stuck in progress")

// send performs a request as a careful shop backend does: when the
// connection is lost (kessai killed) it waits for kessai to come back and
// repeats the request with the same Idempotency-Key; a 503 is retried
// likewise. A key still "in progress" after a few tries is given up with
// errStuck and the answer: the request that claimed it died with its
// process, and the key stays claimed until it expires (24 h), so the
// caller must read the outcome instead (GET the order).
func (c *cluster) send(ctx context.Context, label, method, path string, body any, idem string) (*answer, error) {
	inProgress := 0
	for try := 0; ; try++ {
		ans, err := c.call(ctx, label, method, path, body, idem)
		switch {
		case err != nil:
			if ctx.Err() != nil || try > 20 {
				return nil, err
			}
			// Down, or just killed: wait for the restart.
			time.Sleep(50 * time.Millisecond)
			if err := c.waitUp(ctx); err != nil {
				return nil, err
			}
			continue
		case ans.Status == http.StatusServiceUnavailable || ans.Status == http.StatusTooManyRequests:
			if try > 20 {
				return ans, nil
			}
			time.Sleep(200 * time.Millisecond)
			continue
		case ans.Status == http.StatusConflict && ans.code() == "idempotency_in_progress":
			inProgress++
			if inProgress >= 4 {
				return ans, errStuck
			}
			time.Sleep(300 * time.Millisecond)
			continue
		}
		return ans, nil
	}
}

// must sends a request that has to succeed with want.
func (c *cluster) must(ctx context.Context, label, method, path string, body any, idem string, want int, out any) *answer {
	c.t.Helper()
	ans, err := c.send(ctx, label, method, path, body, idem)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	if ans.Status != want {
		c.t.Fatalf("%s %s: %s, want %d", method, path, ans, want)
	}
	if out != nil {
		if err := ans.decode(out); err != nil {
			c.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	return ans
}

// simCall sends a control API request to the simulator.
func (c *cluster) simCall(ctx context.Context, method, path string, body any, out any) (int, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.sim+path, r)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: %v: %s", method, path, err, truncate(b, 300))
		}
	}
	if resp.StatusCode >= 300 {
		return resp.StatusCode, fmt.Errorf("%s %s: HTTP %d %s", method, path, resp.StatusCode, truncate(b, 300))
	}
	return resp.StatusCode, nil
}
