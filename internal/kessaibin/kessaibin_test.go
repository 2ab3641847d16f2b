package kessaibin

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

func TestEnvDropsKessaiVariables(t *testing.T) {
	t.Setenv("KESSAI_MASTER_KEY", "secret")
	t.Setenv("KESSAI_DATABASE_URL", "postgres://nowhere")
	t.Setenv("KESSAIX_KEPT", "yes") // only the KESSAI_ prefix goes
	env := Env("KESSAI_ADDR=127.0.0.1:0")
	for _, kv := range env {
		if strings.HasPrefix(kv, "KESSAI_MASTER_KEY=") || strings.HasPrefix(kv, "KESSAI_DATABASE_URL=") {
			t.Errorf("leaked %s", kv)
		}
	}
	if !slices.Contains(env, "KESSAIX_KEPT=yes") || !slices.Contains(env, "KESSAI_ADDR=127.0.0.1:0") {
		t.Errorf("env %v", env)
	}
}

func TestBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin, err := Build(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "kessai") {
		t.Fatalf("kessai version: %v %s", err, out)
	}
}
