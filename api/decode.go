package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/kessai/kessai"
)

// decode reads c.body into dst (a pointer to a struct). optional allows an
// empty body (dst keeps its zero value).
//
// Before filling dst, the JSON is checked against dst's shape: an unknown
// field or a value of the wrong type is reported with its full JSON path
// ("items[2].quantity"), which encoding/json alone cannot do (it names
// only the last key of an unknown field and stops at the first problem).
// Field names must match exactly: encoding/json would accept "Amount" for
// "amount", hiding a client bug that another server would not forgive.
// null is accepted for every field and means "absent".
func decode(c *call, dst any, optional bool) error {
	return decodeJSON(c.body, dst, optional)
}

func decodeJSON(body []byte, dst any, optional bool) error {
	if len(bytes.TrimSpace(body)) == 0 {
		if optional {
			return nil
		}
		return kessai.Errorf(kessai.KindInvalid, "body_required",
			"リクエスト本文（JSON）が必要です。", "A JSON request body is required.")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return syntaxError(body, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		off := dec.InputOffset()
		line, col := position(body, off)
		return &kessai.Error{Kind: kessai.KindInvalid, Code: "invalid_json",
			Ja: fmt.Sprintf("JSON の後に余分なデータがあります（%d 行 %d 文字目）。", line, col),
			En: fmt.Sprintf("Unexpected data after the JSON value at line %d, column %d.", line, col)}
	}
	t := reflect.TypeOf(dst).Elem()
	if _, ok := v.(map[string]any); !ok {
		return kessai.Errorf(kessai.KindInvalid, "invalid_body",
			"リクエスト本文は JSON オブジェクト（{…}）で送ってください。", "The request body must be a JSON object ({…}).")
	}
	var errs kessai.ValidationErrors
	checkShape(v, t, "", &errs)
	if len(errs) > 0 {
		return errs
	}
	if err := json.Unmarshal(body, dst); err != nil {
		// The shape check passed, so this is a value the types cannot
		// hold that it did not foresee; still the client's input.
		return &kessai.Error{Kind: kessai.KindInvalid, Code: "invalid_body",
			Ja: "リクエスト本文を解釈できません。", En: "The request body could not be decoded.", Err: err}
	}
	return nil
}

// syntaxError describes malformed JSON with its line and column.
func syntaxError(body []byte, err error) error {
	var se *json.SyntaxError
	off := int64(len(body))
	if errors.As(err, &se) {
		off = se.Offset
	}
	line, col := position(body, off)
	return &kessai.Error{Kind: kessai.KindInvalid, Code: "invalid_json",
		Ja:  fmt.Sprintf("JSON の形式が正しくありません（%d 行 %d 文字目付近）。", line, col),
		En:  fmt.Sprintf("Malformed JSON near line %d, column %d.", line, col),
		Err: err}
}

// position converts a byte offset into a 1-based line and column.
func position(body []byte, off int64) (line, col int) {
	if off > int64(len(body)) {
		off = int64(len(body))
	}
	if off < 0 {
		off = 0
	}
	before := body[:off]
	line = bytes.Count(before, []byte{'\n'}) + 1
	col = int(off) - bytes.LastIndexByte(before, '\n')
	return line, col
}

var (
	rawMessageType = reflect.TypeFor[json.RawMessage]()
	unmarshalerT   = reflect.TypeFor[json.Unmarshaler]()
)

// checkShape compares a decoded JSON value with the Go type it will fill
// and records every unknown field and type mismatch.
func checkShape(v any, t reflect.Type, path string, errs *kessai.ValidationErrors) {
	if len(*errs) >= 50 {
		return // enough to fix; a hostile body cannot make the answer huge
	}
	if v == nil {
		return // null: absent
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == rawMessageType || t.Kind() == reflect.Interface {
		return
	}
	if reflect.PointerTo(t).Implements(unmarshalerT) {
		return // the type decodes itself and reports its own errors
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			typeMismatch(errs, path, "オブジェクト", "an object")
			return
		}
		fields := jsonFieldsOf(t)
		for _, k := range sortedAnyKeys(obj) {
			f, ok := fields[k]
			if !ok {
				p := clipField(joinPath(path, k))
				errs.Add(p, "unknown_field", "不明なフィールドです: "+p, "Unknown field: "+p)
				continue
			}
			checkShape(obj[k], t.FieldByIndex(f).Type, joinPath(path, k), errs)
		}
	case reflect.Map:
		obj, ok := v.(map[string]any)
		if !ok {
			typeMismatch(errs, path, "オブジェクト", "an object")
			return
		}
		for _, k := range sortedAnyKeys(obj) {
			checkShape(obj[k], t.Elem(), joinPath(path, k), errs)
		}
	case reflect.Slice, reflect.Array:
		arr, ok := v.([]any)
		if !ok {
			typeMismatch(errs, path, "配列", "an array")
			return
		}
		for i, e := range arr {
			checkShape(e, t.Elem(), path+"["+strconv.Itoa(i)+"]", errs)
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			typeMismatch(errs, path, "文字列", "a string")
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			typeMismatch(errs, path, "true または false", "true or false")
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := v.(json.Number)
		if !ok {
			typeMismatch(errs, path, "整数", "an integer")
			return
		}
		i, err := strconv.ParseInt(string(n), 10, 64)
		if err != nil || reflect.Zero(t).OverflowInt(i) {
			typeMismatch(errs, path, "整数", "an integer")
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, ok := v.(json.Number)
		if !ok {
			typeMismatch(errs, path, "0 以上の整数", "a non-negative integer")
			return
		}
		u, err := strconv.ParseUint(string(n), 10, 64)
		if err != nil || reflect.Zero(t).OverflowUint(u) {
			typeMismatch(errs, path, "0 以上の整数", "a non-negative integer")
		}
	case reflect.Float32, reflect.Float64:
		if _, ok := v.(json.Number); !ok {
			typeMismatch(errs, path, "数値", "a number")
		}
	}
}

func typeMismatch(errs *kessai.ValidationErrors, path, ja, en string) {
	errs.Add(clipField(path), "invalid_type", ja+"で指定してください。", "must be "+en+".")
}

// jsonFieldsOf maps the JSON names of t's exported fields to their index.
func jsonFieldsOf(t reflect.Type) map[string][]int {
	out := map[string][]int{}
	for _, f := range reflect.VisibleFields(t) {
		if !f.IsExported() || f.Anonymous {
			continue
		}
		name := f.Name
		if tag, ok := f.Tag.Lookup("json"); ok {
			n, _, _ := strings.Cut(tag, ",")
			if n == "-" {
				continue
			}
			if n != "" {
				name = n
			}
		}
		if _, dup := out[name]; !dup {
			out[name] = f.Index
		}
	}
	return out
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// clipField bounds a client-chosen field name echoed in an answer, so a
// megabyte-long key is not sent back.
func clipField(s string) string {
	r := []rune(s)
	if len(r) > 100 {
		return string(r[:100]) + "…"
	}
	return s
}

func sortedAnyKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
