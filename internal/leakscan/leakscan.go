// Package leakscan searches bytes — database files, logs, webhook
// payloads — for data that must never be there (design, §4):
// card numbers, security codes, merchant passwords, AES keys, card tokens
// and kessai's own secret keys.
//
// What counts as a hit:
//
//   - a card number: a run of 14–16 ASCII digits that is not part of a
//     longer digit run, starts with 2–6 (the ISO/IEC 7812 major industry
//     identifiers of banking and financial cards) and passes the Luhn
//     check; also written in groups (4-4-4-4, 4-6-5, 4-6-4) with spaces or
//     hyphens. A 14-digit run that reads as a date and time
//     (YYYYMMDDhhmmss, the gateway's NyukinDate and the like) is not a
//     card: no card number starts with a year from 1970 to 2099 in that
//     shape (Diners' 14-digit numbers start with 30, 36, 38 or 39); nor
//     is a run inside a run of 32 or more hexadecimal characters (a
//     SHA-256 or MD5 in hex, a hex dump), where a card number could not
//     be told from chance;
//   - a card number of Rules.Cards anywhere, even inside a longer digit
//     run: the numbers a test used are known and need no heuristic;
//   - a security code: 3 or 4 digits labelled as one (SecCd, SecurityCode,
//     security_code, cvv, cvc, セキュリティコード) — the label followed by
//     quotes, '=', ':' or spaces (also URL- or JSON-escaped) and the
//     digits. A security code is never stored or logged at all, so the
//     label alone is enough context;
//   - a secret of Rules.Secrets, as written and in the encodings a log or
//     a dump may turn it into: hex, and base64 (standard and URL alphabet)
//     at any alignment inside a longer base64 text;
//   - a match of one of Rules.Patterns (e.g. KessaiSecretKeys).
//
// Values in Rules.Allow are not reported, for data printed on purpose
// (the simulator's published demo card in a start-up banner).
//
// Findings never carry a secret in clear: card numbers are masked to the
// first six and last four digits, secrets are named, and the context
// shown around a hit has the hit masked.
package leakscan

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// Kind says what a finding is.
type Kind string

// The kinds of findings.
const (
	KindCardNumber   Kind = "card_number"
	KindSecurityCode Kind = "security_code"
	KindSecret       Kind = "secret"
	KindPattern      Kind = "pattern"
)

// Secret is a value that must not appear, with a name for reports.
type Secret struct {
	Name  string
	Value string
}

// Pattern is a regular expression whose matches must not appear. A match
// counts only as a whole token: not preceded or followed by a letter, a
// digit, '_' or '-' (so the expression needs no \b, and one that starts
// with a literal is searched for quickly).
type Pattern struct {
	Name string
	RE   *regexp.Regexp
}

// KessaiSecretKeys are the formats of kessai's own secrets that are shown
// once and then kept only hashed or sealed: API secret keys (sk_ and 43
// characters of base64url) and webhook endpoint secrets (whsec_ and 43).
// Publishable keys (pk_) are meant for browsers and are not listed.
var KessaiSecretKeys = []Pattern{
	{Name: "API secret key", RE: regexp.MustCompile(`sk_[A-Za-z0-9_-]{43}`)},
	{Name: "webhook secret", RE: regexp.MustCompile(`whsec_[A-Za-z0-9_-]{43}`)},
}

// Rules is what one scan looks for. The zero value finds card numbers and
// security codes only.
type Rules struct {
	// Secrets are exact values (passwords, keys, tokens) that must not
	// appear in any of the encodings listed in the package comment.
	Secrets []Secret
	// Cards are card numbers known to have been used: reported wherever
	// they occur, even inside longer digit runs.
	Cards []string
	// Patterns are further formats that must not appear.
	Patterns []Pattern
	// Allow lists values whose hits are not reported (card numbers or
	// matched text, compared exactly).
	Allow []string
	// ExactCardsOnly turns the card number heuristic off, leaving the
	// Cards list (and everything else): for formats that glue adjacent
	// fields together, such as SQLite's record payloads, where a digit
	// run crosses from one column into the next (the digits ending an id,
	// then a 12-digit transaction code) and a "card number" is made of
	// two values nobody wrote together. Scan a logical dump of such data
	// with the heuristic instead.
	ExactCardsOnly bool
}

// Finding is one hit.
type Finding struct {
	// Source names what was scanned (a file path, "webhook payloads", …).
	Source string
	// Offset is the byte offset of the hit in the source.
	Offset int
	Kind   Kind
	// What says what was found, without the value in clear: "card number
	// 401200…0008", "secret AES key (base64)", "security code (SecCd)".
	What string
	// Context is up to 40 bytes either side of the hit, with the hit
	// itself replaced by asterisks and non-printable bytes by dots.
	Context string
}

func (f Finding) String() string {
	return fmt.Sprintf("%s @%d: %s: %s  [%s]", f.Source, f.Offset, f.Kind, f.What, f.Context)
}

// Scan returns the hits in data, ordered by offset.
func (r *Rules) Scan(source string, data []byte) []Finding {
	var out []Finding
	add := func(start, end int, kind Kind, what string) {
		if slices.Contains(r.Allow, string(data[start:end])) {
			return
		}
		out = append(out, Finding{Source: source, Offset: start, Kind: kind, What: what, Context: context(data, start, end)})
	}
	r.scanCards(data, add)
	scanSecurityCodes(data, add)
	newMatcher(r.Secrets).scan(data, func(i int, n *needle) {
		add(i, i+len(n.text), KindSecret, "secret "+n.name+n.how)
	})
	for _, p := range r.Patterns {
		for _, m := range p.RE.FindAllIndex(data, -1) {
			if (m[0] > 0 && tokenChar(data[m[0]-1])) || (m[1] < len(data) && tokenChar(data[m[1]])) {
				continue
			}
			add(m[0], m[1], KindPattern, p.Name)
		}
	}
	slices.SortStableFunc(out, func(a, b Finding) int { return a.Offset - b.Offset })
	return dedupe(out)
}

// ScanFile scans one file.
func (r *Rules) ScanFile(path string) ([]Finding, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return r.Scan(path, b), nil
}

// ScanDir scans every regular file under dir, skipping the files for
// which skip (when not nil) returns true — e.g. a key file that is, by
// design, the secret itself.
func (r *Rules) ScanDir(dir string, skip func(path string) bool) ([]Finding, error) {
	var out []Finding
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() || (skip != nil && skip(path)) {
			return nil
		}
		f, err := r.ScanFile(path)
		if err != nil {
			return err
		}
		out = append(out, f...)
		return nil
	})
	return out, err
}

// ---- card numbers ----

func (r *Rules) scanCards(data []byte, add func(start, end int, kind Kind, what string)) {
	reported := map[int]bool{}
	// Known numbers first, anywhere.
	for _, c := range r.Cards {
		if c == "" {
			continue
		}
		for _, i := range indexAll(data, []byte(c)) {
			reported[i] = true
			add(i, i+len(c), KindCardNumber, "card number "+MaskCard(c)+" (used in the test)")
		}
	}
	if r.ExactCardsOnly {
		return
	}
	// Contiguous runs.
	for i := 0; i < len(data); {
		if !isDigit(data[i]) {
			i++
			continue
		}
		j := i
		for j < len(data) && isDigit(data[j]) {
			j++
		}
		if run := data[i:j]; !reported[i] && looksLikeCard(run) && !inHexRun(data, i, j) {
			add(i, j, KindCardNumber, "card number "+MaskCard(string(run)))
		}
		i = j
	}
	// Grouped: a run of four digits, then groups joined by one space or
	// hyphen (the same throughout): 4-4-4-4, 4-6-5 or 4-6-4.
	for i := 0; i+4 < len(data); i++ {
		if (i > 0 && isDigit(data[i-1])) || !isDigits(data[i:i+4]) {
			continue
		}
		sep := data[i+4]
		if sep != ' ' && sep != '-' {
			continue
		}
		var lens []int
		j := i + 4
		for j < len(data) && data[j] == sep {
			k := j + 1
			for k < len(data) && isDigit(data[k]) {
				k++
			}
			if k == j+1 {
				break
			}
			lens = append(lens, k-j-1)
			j = k
		}
		if j < len(data) && isDigit(data[j]) || !groupShape(lens) {
			continue
		}
		var ds []byte
		for _, c := range data[i:j] {
			if isDigit(c) {
				ds = append(ds, c)
			}
		}
		if looksLikeCard(ds) {
			add(i, j, KindCardNumber, "card number "+MaskCard(string(ds))+" (grouped)")
		}
		i = j
	}
}

// groupShape reports whether the groups after the first four digits are
// 4-4-4, 6-5 or 6-4.
func groupShape(lens []int) bool {
	return slices.Equal(lens, []int{4, 4, 4}) || slices.Equal(lens, []int{6, 5}) || slices.Equal(lens, []int{6, 4})
}

func isDigits(b []byte) bool {
	for _, c := range b {
		if !isDigit(c) {
			return false
		}
	}
	return len(b) > 0
}

// looksLikeCard applies the card number rules of the package comment to
// a run of digits.
func looksLikeCard(d []byte) bool {
	if len(d) < 14 || len(d) > 16 || d[0] < '2' || d[0] > '6' {
		return false
	}
	if len(d) == 14 && isTimestamp(d) {
		return false
	}
	return Luhn(string(d))
}

// minHexRun is the length from which a run of hexadecimal characters is
// taken for a hash or a hex dump.
const minHexRun = 32

// inHexRun reports whether data[i:j] lies in a run of at least minHexRun
// hexadecimal characters.
func inHexRun(data []byte, i, j int) bool {
	for i > 0 && isHex(data[i-1]) {
		i--
	}
	for j < len(data) && isHex(data[j]) {
		j++
	}
	return j-i >= minHexRun
}

func isHex(c byte) bool { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// isTimestamp reports whether 14 digits read as YYYYMMDDhhmmss between
// 1970 and 2099.
func isTimestamp(d []byte) bool {
	n := func(i, j int) int {
		v := 0
		for _, c := range d[i:j] {
			v = v*10 + int(c-'0')
		}
		return v
	}
	y, mo, day, h, mi, s := n(0, 4), n(4, 6), n(6, 8), n(8, 10), n(10, 12), n(12, 14)
	return y >= 1970 && y <= 2099 && mo >= 1 && mo <= 12 && day >= 1 && day <= 31 && h <= 23 && mi <= 59 && s <= 59
}

// Luhn reports whether a string of digits passes the Luhn check.
func Luhn(number string) bool {
	if number == "" {
		return false
	}
	sum, double := 0, false
	for i := len(number) - 1; i >= 0; i-- {
		c := number[i]
		if !isDigit(c) {
			return false
		}
		v := int(c - '0')
		if double {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
		double = !double
	}
	return sum%10 == 0
}

// MaskCard shows the first six and the last four digits of a card number,
// as the gateway's own masked numbers do.
func MaskCard(number string) string {
	if len(number) <= 10 {
		return strings.Repeat("*", len(number))
	}
	return number[:6] + "…" + number[len(number)-4:]
}

// ---- security codes ----

// secCodeLabels are the labels of a security code, lower case (the
// search ignores ASCII case).
var secCodeLabels = []string{"seccd", "securitycode", "security_code", "security code", "security-code", "sec_cd",
	"cvv2", "cvv", "cvc2", "cvc", "セキュリティコード"}

// secCodeSeps may stand between a label and its value: quotes, '=', ':',
// '>', spaces, and their URL and JSON escapes.
var secCodeSeps = []string{" ", "\t", "\n", "\r", `"`, "'", "=", ":", ">", "：", "%3d", "%22", `\u0022`, `\"`}

// scanSecurityCodes finds a label that starts a word (a random base64
// text contains "cvv" now and then), then separators, then 3 or 4
// digits that do not go on.
func scanSecurityCodes(data []byte, add func(start, end int, kind Kind, what string)) {
	lower := make([]byte, len(data))
	for i, c := range data {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower[i] = c
	}
	done := map[int]bool{}
	for _, label := range secCodeLabels {
		for _, i := range indexAll(lower, []byte(label)) {
			if i > 0 && (isDigit(lower[i-1]) || lower[i-1] >= 'a' && lower[i-1] <= 'z') {
				continue
			}
			j := i + len(label)
			for steps := 0; steps < 8; steps++ {
				k := j
				for _, sep := range secCodeSeps {
					if bytes.HasPrefix(lower[j:], []byte(sep)) {
						k = j + len(sep)
						break
					}
				}
				if k == j {
					break
				}
				j = k
			}
			d := j
			for d < len(data) && isDigit(data[d]) {
				d++
			}
			if n := d - j; n < 3 || n > 4 || done[j] {
				continue
			}
			done[j] = true
			add(j, d, KindSecurityCode, "security code ("+string(data[i:i+len(label)])+")")
		}
	}
}

// ---- secrets ----

type needle struct {
	text []byte
	name string // the secret's
	how  string // the encoding, "" for none
}

// matcher finds many needles in one pass: a table of the two bytes that
// start a needle rules out most positions at once, and a map of the
// first eight bytes finds the candidates (a scan of every needle with
// bytes.Index would read the data once per needle: hundreds of times
// with a token per checkout).
type matcher struct {
	first   [1 << 16]bool
	byStart map[uint64][]*needle
	short   []*needle // shorter than 8 bytes: searched one by one
}

func newMatcher(secrets []Secret) *matcher {
	m := &matcher{byStart: map[uint64][]*needle{}}
	for _, s := range secrets {
		for _, n := range needles(s.Value) {
			n.name = s.Name
			if len(n.text) < 8 {
				m.short = append(m.short, &n)
				continue
			}
			m.first[uint16(n.text[0])<<8|uint16(n.text[1])] = true
			k := binary.LittleEndian.Uint64(n.text)
			m.byStart[k] = append(m.byStart[k], &n)
		}
	}
	return m
}

// scan calls hit for every occurrence of every needle.
func (m *matcher) scan(data []byte, hit func(int, *needle)) {
	for i := 0; i+8 <= len(data); i++ {
		if !m.first[uint16(data[i])<<8|uint16(data[i+1])] {
			continue
		}
		for _, n := range m.byStart[binary.LittleEndian.Uint64(data[i:])] {
			if bytes.HasPrefix(data[i:], n.text) {
				hit(i, n)
			}
		}
	}
	for _, n := range m.short {
		for _, i := range indexAll(data, n.text) {
			hit(i, n)
		}
	}
}

// minEncoded is the shortest encoded form searched for: shorter ones
// would match by chance in any large text.
const minEncoded = 8

// needles returns the forms of a secret to search for: itself, hex, and
// the base64 characters that depend on the secret alone at each of the
// three alignments it can have inside a longer base64 text.
func needles(v string) []needle {
	if v == "" {
		return nil
	}
	out := []needle{{text: []byte(v)}}
	h := hex.EncodeToString([]byte(v))
	out = append(out, needle{text: []byte(h), how: " (hex)"}, needle{text: []byte(strings.ToUpper(h)), how: " (hex)"})
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
		for shift := 0; shift < 3; shift++ {
			src := append(make([]byte, shift), v...)
			e := enc.EncodeToString(src)
			// Character i encodes bits [6i, 6i+6); the secret's bits
			// are [8·shift, 8·(shift+len)). Keep the characters wholly
			// inside them.
			first := (8*shift + 5) / 6
			last := (8 * (shift + len(v))) / 6 // exclusive
			if last-first < minEncoded {
				continue
			}
			out = append(out, needle{text: []byte(e[first:last]), how: " (base64)"})
		}
	}
	// Distinct forms only (a URL and a standard encoding often agree).
	var uniq []needle
	for _, n := range out {
		if !slices.ContainsFunc(uniq, func(u needle) bool { return bytes.Equal(u.text, n.text) }) {
			uniq = append(uniq, n)
		}
	}
	return uniq
}

// ---- helpers ----

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func tokenChar(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '_' || c == '-'
}

// indexAll returns every offset of n in data (overlapping ones too).
func indexAll(data, n []byte) []int {
	var out []int
	for off := 0; ; {
		i := bytes.Index(data[off:], n)
		if i < 0 {
			return out
		}
		out = append(out, off+i)
		off += i + 1
	}
}

// context shows the bytes around [start, end) with the hit masked.
func context(data []byte, start, end int) string {
	const around = 40
	var b strings.Builder
	for _, c := range data[max(0, start-around):start] {
		b.WriteByte(printable(c))
	}
	b.WriteString(strings.Repeat("*", min(end-start, 24)))
	for _, c := range data[end:min(len(data), end+around)] {
		b.WriteByte(printable(c))
	}
	return b.String()
}

func printable(c byte) byte {
	if c < 0x20 || c >= 0x7f {
		return '.'
	}
	return c
}

// dedupe drops a finding of the offset and kind of an earlier one (a
// known card that is also a Luhn run, a secret whose hex form is upper
// and lower case alike).
func dedupe(fs []Finding) []Finding {
	type key struct {
		off  int
		kind Kind
	}
	seen := map[key]bool{}
	var out []Finding
	for _, f := range fs {
		k := key{f.Offset, f.Kind}
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, f)
	}
	return out
}
