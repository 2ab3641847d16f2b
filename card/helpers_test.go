package card

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/escott"
)

// t0 is the day the test transactions are opened: 1 April 2026, 10:00 JST.
var t0 = time.Date(2026, 4, 1, 10, 0, 0, 0, escott.JST)

// hist builds a history, oldest first, one row per string written
// "OPERATION CODE [AMOUNT] [pid=ID]", e.g. "1Auth OK 1000" or
// "1Search K12". Rows are one minute apart from t0 and get the ids h0, h1,
// … so that tests can name the state entry. Successful rows carry the
// answer's ProcessId as the gateway sends it — the same for the whole
// transaction unless pid= says otherwise, and none for pid=- — and a
// masked ProcessPass, as the history stores them.
func hist(rows ...string) []kessai.HistoryEntry {
	out := make([]kessai.HistoryEntry, 0, len(rows))
	for i, r := range rows {
		out = append(out, parseRow(i, r))
	}
	return out
}

// parseHistory parses rows separated by ';' (the fuzz corpus format).
func parseHistory(s string) []kessai.HistoryEntry {
	var out []kessai.HistoryEntry
	for r := range strings.SplitSeq(s, ";") {
		out = append(out, parseRow(len(out), r))
	}
	return out
}

// parseRow parses one row of hist; anything missing stays empty, so it
// accepts any input (the fuzz test feeds it random text).
func parseRow(i int, r string) kessai.HistoryEntry {
	f := strings.Fields(r)
	e := kessai.HistoryEntry{ID: fmt.Sprintf("h%d", i), ShopID: "shop", PaymentID: "pay",
		At: t0.Add(time.Duration(i) * time.Minute), TransactionID: fmt.Sprintf("%08d", i+1)}
	if len(f) > 0 {
		e.Operation = escott.OperateID(f[0])
	}
	if len(f) > 1 {
		e.ResponseCd = f[1]
	}
	pid := "pid-1"
	for _, x := range f[min(2, len(f)):] {
		if v, ok := strings.CutPrefix(x, "pid="); ok {
			pid = v
		} else {
			e.Amount, _ = strconv.ParseInt(x, 10, 64)
		}
	}
	if e.ResponseCd == escott.CodeOK && pid != "-" {
		e.Fields = map[string]string{"ProcessId": pid, "ProcessPass": escott.Masked}
	}
	return e
}

// entryID is the id of a state's entry, "" for none.
func entryID(e *kessai.HistoryEntry) string {
	if e == nil {
		return ""
	}
	return e.ID
}

// code returns the Code of err ("" for nil), failing the test for an
// error that is not a *kessai.Error.
func code(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var e *kessai.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is not a *kessai.Error", err)
	}
	if e.Ja == "" || e.En == "" {
		t.Errorf("error %s lacks a message: ja %q, en %q", e.Code, e.Ja, e.En)
	}
	return e.Code
}

// kindOfErr returns the kind of a *kessai.Error.
func kindOfErr(err error) kessai.Kind { return kessai.ErrorKind(err) }
