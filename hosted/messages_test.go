package hosted

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestMessagesComplete: every message key the templates and the code use
// exists, in both languages (a missing one would show its key).
func TestMessagesComplete(t *testing.T) {
	for k, m := range messages {
		if strings.HasPrefix(k, "yen_") {
			continue
		}
		if m.ja == "" || m.en == "" {
			t.Errorf("message %s lacks a language", k)
		}
	}
	used := map[string]bool{}
	tmpl := regexp.MustCompile(`\.T "([a-z0-9_]+)"`)
	err := fs.WalkDir(templateFS, "web/templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := templateFS.ReadFile(p)
		for _, m := range tmpl.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = true
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	code := regexp.MustCompile(`(?:text\(\w+(?:\.\w+)?, |(?:Heading|Text|key)\s*[:=]+\s*|return |case "[a-z_]+":\s*return )"([a-z][a-z0-9_]+)"`)
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range code.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = true
		}
	}
	for _, k := range []string{"js_invalid", "js_number", "js_expiry", "js_csc", "js_name", "js_choice", "js_consent",
		"js_script", "js_token_ng", "js_token_config", "js_token_other"} {
		used[k] = true
	}
	if len(used) < 50 {
		t.Fatalf("only %d keys found: the scan is broken", len(used))
	}
	for k := range used {
		if _, ok := messages[k]; !ok && !notMessage[k] {
			t.Errorf("message %q is used but not defined", k)
		}
	}
}

// notMessage are quoted words the scan picks up that are not message
// keys.
var notMessage = map[string]bool{"redirect": true, "redirect_form": true, "status": true, "alert": true, "kessai_csrf": true}
