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
