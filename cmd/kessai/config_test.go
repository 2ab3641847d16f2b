package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestServeConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "kessai.json")
	if err := os.WriteFile(file, []byte(`{"addr":"127.0.0.1:9000","data_dir":"/from/file","log_level":"warn"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"KESSAI_CONFIG": file, "KESSAI_DATA_DIR": "/from/env", "KESSAI_SHUTDOWN_TIMEOUT": "5s"}
	cfg, _, err := loadServeConfig("serve", []string{"-log-level", "debug"}, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:9000" || cfg.DataDir != "/from/env" || cfg.LogLevel != "debug" || cfg.Shutdown != 5*time.Second || cfg.SimAddr != "127.0.0.1:8470" {
		t.Fatalf("%+v", cfg)
	}
}

func TestServeConfigErrors(t *testing.T) {
	none := func(string) string { return "" }
	for _, args := range [][]string{
		{"-log-format", "xml"},
		{"-shutdown-timeout", "soon"},
		{"-database-url", "mysql://x"},
		{"extra"},
		{"-config", "/does/not/exist.json"},
	} {
		if _, _, err := loadServeConfig("serve", args, none); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"adress":"typo"}`), 0o600)
	if _, _, err := loadServeConfig("serve", []string{"-config", bad}, none); err == nil {
		t.Error("unknown key in the file accepted")
	}
}

func TestServeConfigSimURLAndStaleAfter(t *testing.T) {
	env := map[string]string{"KESSAI_SIM_URL": "http://127.0.0.1:9470/", "KESSAI_STALE_AFTER": "20s"}
	cfg, _, err := loadServeConfig("serve", nil, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SimURL != "http://127.0.0.1:9470" || cfg.StaleAfter != 20*time.Second || cfg.builtinSim() {
		t.Fatalf("%+v", cfg)
	}
	def, _, err := loadServeConfig("serve", nil, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if def.SimURL != "" || def.StaleAfter != 5*time.Minute || !def.builtinSim() {
		t.Fatalf("defaults: %+v", def)
	}
	none := func(string) string { return "" }
	for _, args := range [][]string{
		{"-sim-url", "127.0.0.1:8470"},
		{"-sim-url", "ftp://127.0.0.1:8470"},
		{"-sim-url", "http://127.0.0.1:8470/?x=1"},
		{"-stale-after", "0s"},
		{"-stale-after", "later"},
	} {
		if _, _, err := loadServeConfig("serve", args, none); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}
