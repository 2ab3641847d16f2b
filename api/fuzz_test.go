package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/internal/testdb"
	"github.com/kessai/kessai/service"
)

// FuzzReceiver throws arbitrary requests at the gateway receiver: it must
// never panic, never answer 5xx, and answer every notification-looking
// request 200 with an empty body. The committed corpus is in
// testdata/fuzz/FuzzReceiver. It runs on SQLite only: without handlers
// the receiver stores nothing, so the database plays no part.
func FuzzReceiver(f *testing.F) {
	e, _ := newReceiverEnv(f, testdb.SQLite, false)
	n := notification()
	f.Add("POST", "wc-api=wc_sonypayment", "application/x-www-form-urlencoded", []byte(n.Encode()))
	f.Add("GET", "wc-api=wc_sonypayment&"+n.Encode(), "", []byte{})
	f.Add("POST", "", "application/x-www-form-urlencoded", []byte("EncryptValue="+url.QueryEscape(encrypt(params("OperateId", "3Secure", "ResponseCd", "OK", "SecureResultCode", "0")))))
	f.Add("POST", "", "application/x-www-form-urlencoded", []byte("EncryptValue=AAAA%%%"))
	f.Add("POST", "EncryptValue=", "multipart/form-data; boundary=x", []byte("--x\r\n"))
	f.Add("GET", "MerchantId=1&TransactionId=2&RecvNum=3&NyukinDate=99999999&MerchantFree1=a&MerchantFree2=b", "", []byte{})
	f.Fuzz(func(t *testing.T, method, rawQuery, contentType string, body []byte) {
		if method != "GET" {
			method = "POST"
		}
		path := "/escott/notify"
		if strings.HasPrefix(rawQuery, "wc-api=") {
			path = "/"
		}
		r := httptest.NewRequest(method, "http://kessai.test"+path, bytes.NewReader(body))
		r.URL.RawQuery = rawQuery
		if contentType != "" {
			r.Header.Set("Content-Type", contentType)
		}
		w := httptest.NewRecorder()
		e.api.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("status %d for %s %q %q %q", w.Code, method, rawQuery, contentType, body)
		}
		// Whatever parsed as a notification is acknowledged with 200.
		fields, err := url.ParseQuery(rawQuery)
		if err == nil && method == "GET" && escott.IsNotification(fields) && (path == "/escott/notify" || fields.Get("wc-api") == "wc_sonypayment") {
			if w.Code != 200 || w.Body.Len() != 0 {
				t.Fatalf("notification answered %d %q", w.Code, w.Body)
			}
		}
	})
}

// createOrderSeeds start FuzzCreateOrder; TestCreateOrderCorpus replays
// them too.
var createOrderSeeds = [][]byte{
	[]byte(`{"shop_order_id":"A-1","amount":1100,"items":[{"name":"茶","quantity":1,"unit_amount":1000}],"billing":{"email":"a@b.jp"}}`),
	[]byte(`{"shop_order_id":"A-1","amount":-1,"metadata":{"":""}}`),
	[]byte(`{"amount":1e400}`),
	[]byte(`{"items":[null,{"quantity":9223372036854775807,"unit_amount":9223372036854775807}]}`),
	[]byte(`[`),
	[]byte("{\"shop_order_id\":\"\xff\",\"amount\":1}"),
}

// FuzzCreateOrder throws arbitrary bodies at POST /v1/orders: the answer
// is never 5xx and always a JSON object, and decoding plus validation
// never panic. The committed corpus is in testdata/fuzz/FuzzCreateOrder.
// The fuzzer runs on SQLite (a fresh PostgreSQL schema per fuzzing
// worker would only slow it down); TestCreateOrderCorpus replays the
// seeds and the corpus on every backend, since whatever passes validation
// is stored, and PostgreSQL refuses text that SQLite keeps (a NUL byte).
func FuzzCreateOrder(f *testing.F) {
	e := newEnv(f, testdb.SQLite)
	for _, seed := range createOrderSeeds {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkCreateOrder(t, e, body) })
}

func checkCreateOrder(t *testing.T, e *env, body []byte) {
	t.Helper()
	var in service.OrderInput
	if err := decodeJSON(body, &in, false); err == nil {
		_ = service.ValidateOrderInput(&in)
	}
	r := httptest.NewRequest("POST", "/v1/orders", bytes.NewReader(body))
	r.Header.Set("Authorization", "Bearer "+e.sk)
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	e.api.ServeHTTP(w, r)
	if w.Code >= 500 {
		t.Fatalf("status %d for %q: %s", w.Code, body, w.Body)
	}
	var m map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil || !utf8.Valid(w.Body.Bytes()) {
		t.Fatalf("answer is not JSON: %q", w.Body)
	}
	if w.Code != http.StatusCreated && m["error"] == nil {
		t.Fatalf("status %d without an error object: %s", w.Code, w.Body)
	}
}

// TestCreateOrderCorpus replays FuzzCreateOrder's seeds and committed
// corpus on every backend.
func TestCreateOrderCorpus(t *testing.T) {
	inputs := map[string][]byte{}
	for i, seed := range createOrderSeeds {
		inputs["seed#"+strconv.Itoa(i)] = seed
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzCreateOrder")
	files, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, fi := range files {
		raw, err := os.ReadFile(filepath.Join(dir, fi.Name()))
		if err != nil {
			t.Fatal(err)
		}
		inputs[fi.Name()] = corpusBytes(t, fi.Name(), raw)
	}
	testdb.Run(t, func(t *testing.T, db testdb.Backend) {
		e := newEnv(t, db)
		for name, body := range inputs {
			t.Run(name, func(t *testing.T) { checkCreateOrder(t, e, body) })
		}
	})
}

// corpusBytes decodes a corpus file of a fuzz target with one []byte
// argument: "go test fuzz v1" and a line []byte("...") in Go syntax.
func corpusBytes(t *testing.T, name string, raw []byte) []byte {
	t.Helper()
	header, arg, _ := strings.Cut(strings.TrimSpace(string(raw)), "\n")
	quoted, ok := strings.CutPrefix(strings.TrimSpace(arg), "[]byte(")
	quoted, ok2 := strings.CutSuffix(quoted, ")")
	body, err := strconv.Unquote(quoted)
	if header != "go test fuzz v1" || !ok || !ok2 || err != nil {
		t.Fatalf("corpus file %s is not one []byte value: %q", name, raw)
	}
	return []byte(body)
}
