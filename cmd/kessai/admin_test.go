package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/password"
	"github.com/kessai/kessai/service"
)

func TestTakeFlags(t *testing.T) {
	cases := []struct {
		args   []string
		values map[string]string
		rest   []string
		err    bool
	}{
		{[]string{"create-user", "a@b.jp"}, map[string]string{}, []string{"create-user", "a@b.jp"}, false},
		{[]string{"-data-dir", "d", "create-user", "a@b.jp", "--role", "readonly", "-name=運用 太郎"},
			map[string]string{"role": "readonly", "name": "運用 太郎"}, []string{"-data-dir", "d", "create-user", "a@b.jp"}, false},
		{[]string{"--role=admin", "-role", "readonly"}, nil, nil, true},
		{[]string{"create-user", "--name"}, nil, nil, true},
		{[]string{"--names", "x"}, map[string]string{}, []string{"--names", "x"}, false},
	}
	for _, c := range cases {
		values, rest, err := takeFlags(c.args, "role", "name")
		if (err != nil) != c.err {
			t.Errorf("%q: error %v", c.args, err)
			continue
		}
		if err == nil && (!equalMaps(values, c.values) || !slices.Equal(rest, c.rest)) {
			t.Errorf("%q: %v %q, want %v %q", c.args, values, rest, c.values, c.rest)
		}
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestAdminCommand runs `kessai admin` on a new installation: the first
// command bootstraps it and shows the first credentials, then users are
// created, listed and given new passwords.
func TestAdminCommand(t *testing.T) {
	ctx := context.Background()
	a, err := openApp(ctx, testConfig(t, t.TempDir(), "", false), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	// Cheap hashes: this test hashes a dozen times (TestServeZeroConfiguration
	// checks the real parameters).
	a.svc = service.New(service.Config{Store: a.store, PasswordParams: password.Params{Time: 1, Memory: 64, Threads: 1, SaltLen: 16, KeyLen: 32}})
	env := map[string]string{}
	admin := func(flags map[string]string, args ...string) (string, string, error) {
		var out, errOut bytes.Buffer
		if flags == nil {
			flags = map[string]string{}
		}
		err := adminCommand(ctx, a, args, flags, func(k string) string { return env[k] }, &out, &errOut)
		return out.String(), errOut.String(), err
	}
	login := func(email, pw string) error {
		_, err := a.svc.AuthenticateAdmin(ctx, kessai.DefaultShopID, email, pw)
		return err
	}

	// The first command of an installation shows what it created (on
	// stderr: stdout stays JSON).
	out, first, err := admin(nil, "list")
	if err != nil {
		t.Fatal(err)
	}
	m := adminRE.FindStringSubmatch(first)
	if m == nil || !secretKeyRE.MatchString(first) {
		t.Fatalf("first command did not show the first credentials:\n%s", first)
	}
	if err := login(m[1], m[2]); err != nil {
		t.Fatal(err)
	}
	var users []map[string]any
	if err := json.Unmarshal([]byte(out), &users); err != nil || len(users) != 1 || users[0]["email"] != "admin" {
		t.Fatalf("list: %v %s", err, out)
	}
	if strings.Contains(out, "argon2") || strings.Contains(out, "password_hash") {
		t.Fatalf("list shows the password hash:\n%s", out)
	}

	// create-user with the password from the environment: not printed.
	env[adminPasswordEnv] = "correct horse battery"
	out, again, err := admin(map[string]string{"role": "readonly", "name": "スタッフ"}, "create-user", "Staff@Shop.example.jp")
	if err != nil || again != "" || strings.Contains(out, "correct horse battery") || !strings.Contains(out, "staff@shop.example.jp (readonly") {
		t.Fatalf("create-user: %v\nstdout %s\nstderr %s", err, out, again)
	}
	if err := login("staff@shop.example.jp", "correct horse battery"); err != nil {
		t.Fatal(err)
	}

	// Without it the password is generated and printed once.
	delete(env, adminPasswordEnv)
	out, _, err = admin(nil, "create-user", "owner@shop.example.jp")
	if err != nil {
		t.Fatal(err)
	}
	generated := regexp.MustCompile(`(?m)^([A-Za-z0-9]{16})$`).FindStringSubmatch(out)
	if generated == nil {
		t.Fatalf("no generated password in:\n%s", out)
	}
	if err := login("owner@shop.example.jp", generated[1]); err != nil {
		t.Fatal(err)
	}
	u, _ := a.svc.AdminUserByEmail(ctx, kessai.DefaultShopID, "owner@shop.example.jp")
	if u.Role != kessai.RoleAdmin {
		t.Fatalf("default role %s", u.Role)
	}

	// set-password, from the environment and generated.
	env[adminPasswordEnv] = "a brand new password"
	if out, _, err := admin(nil, "set-password", "STAFF@shop.example.jp"); err != nil || strings.Contains(out, "a brand new password") {
		t.Fatalf("set-password: %v %s", err, out)
	}
	if err := login("staff@shop.example.jp", "a brand new password"); err != nil {
		t.Fatal(err)
	}
	delete(env, adminPasswordEnv)
	out, _, err = admin(nil, "set-password", "admin")
	if err != nil {
		t.Fatal(err)
	}
	if generated = regexp.MustCompile(`(?m)^([A-Za-z0-9]{16})$`).FindStringSubmatch(out); generated == nil {
		t.Fatalf("no generated password in:\n%s", out)
	}
	if err := login("admin", generated[1]); err != nil {
		t.Fatal(err)
	}
	if err := login("admin", m[2]); kessai.ErrorKind(err) != kessai.KindUnauthorized {
		t.Fatalf("old first password: %v", err)
	}

	out, _, err = admin(nil, "list")
	if err != nil {
		t.Fatal(err)
	}
	users = nil
	if err := json.Unmarshal([]byte(out), &users); err != nil || len(users) != 3 {
		t.Fatalf("list: %v %s", err, out)
	}

	// Refusals.
	env[adminPasswordEnv] = "short"
	for _, c := range []struct {
		flags map[string]string
		args  []string
		kind  kessai.Kind
	}{
		{nil, []string{"create-user", "new@shop.example.jp"}, kessai.KindInvalid}, // password too short
		{map[string]string{"role": "owner"}, []string{"create-user", "x@shop.example.jp"}, kessai.KindInvalid},
		{nil, []string{"set-password", "nobody@shop.example.jp"}, kessai.KindNotFound},
		{nil, []string{"create-user"}, kessai.KindInternal},
		{nil, []string{"set-password"}, kessai.KindInternal},
		{nil, []string{"list", "extra"}, kessai.KindInternal},
		{map[string]string{"role": "admin"}, []string{"list"}, kessai.KindInternal},
		{nil, []string{"delete"}, kessai.KindInternal},
		{nil, nil, kessai.KindInternal},
	} {
		_, _, err := admin(c.flags, c.args...)
		if err == nil {
			t.Errorf("%v %q succeeded", c.flags, c.args)
			continue
		}
		kind := kessai.ErrorKind(err)
		var ve kessai.ValidationErrors
		if errors.As(err, &ve) {
			kind = kessai.KindInvalid
		}
		if kind != c.kind {
			t.Errorf("%v %q: %v (%s), want %s", c.flags, c.args, err, kind, c.kind)
		}
	}
}
