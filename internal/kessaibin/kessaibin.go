// Package kessaibin builds the kessai binary for the suites that run the
// product as it ships — started, attacked, killed and restarted as a
// process of its own (securitytest, chaostest, the start-up benchmark) —
// and gives those processes a clean environment.
package kessaibin

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// Package is the import path of the kessai command.
const Package = "github.com/kessai/kessai/cmd/kessai"

// Build compiles the kessai command into dir and returns the binary's
// path. It uses the go command that runs the tests, so the build shares
// the cache of `go test ./...`, which compiles the same packages: it
// costs little more than a link.
func Build(dir string) (string, error) {
	bin := filepath.Join(dir, "kessai")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	out, err := exec.Command(GoTool(), "build", "-o", bin, Package).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("building kessai: %v\n%s", err, out)
	}
	return bin, nil
}

// GoTool finds the go command: the one on PATH, else GOROOT's.
func GoTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	if root := os.Getenv("GOROOT"); root != "" {
		return filepath.Join(root, "bin", "go")
	}
	return "go"
}

// Env is this process's environment without any KESSAI_* variable, plus
// extra: a developer's or CI's configuration (a master key, a database
// URL) must never reach an instance under test.
func Env(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "KESSAI_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}
