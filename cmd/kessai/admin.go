package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/password"
	"github.com/kessai/kessai/service"
)

// withApp opens the installation for a one-shot command. The flags are the
// serve flags, so a command finds the same database as the service.
func withApp(name string, args []string, fn func(ctx context.Context, a *app, rest []string) error) int {
	// Split off the command's own words: flags come first.
	var flagArgs, rest []string
	for i := 0; i < len(args); i++ {
		if strings.HasPrefix(args[i], "-") {
			flagArgs = append(flagArgs, args[i])
			if !strings.Contains(args[i], "=") && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
				i++
				flagArgs = append(flagArgs, args[i])
			}
			continue
		}
		rest = append(rest, args[i])
	}
	cfg, _, err := loadServeConfig(name, flagArgs, os.Getenv)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(os.Stderr, "kessai %s: %v\n", name, err)
		return 2
	}
	log, err := newLogger(cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "kessai %s: %v\n", name, err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	a, err := openApp(ctx, cfg, log)
	if err != nil {
		fmt.Fprintf(os.Stderr, "kessai %s: %v\n", name, err)
		return 1
	}
	defer a.close()
	if err := fn(ctx, a, rest); err != nil {
		var ke *kessai.Error
		var ve kessai.ValidationErrors
		switch {
		case errors.As(err, &ve):
			for _, e := range ve {
				fmt.Fprintf(os.Stderr, "kessai %s: %s: %s / %s\n", name, e.Field, e.Ja, e.En)
			}
		case errors.As(err, &ke) && ke.Kind != kessai.KindInternal:
			fmt.Fprintf(os.Stderr, "kessai %s: %s / %s\n", name, ke.Ja, ke.En)
		default:
			fmt.Fprintf(os.Stderr, "kessai %s: %v\n", name, err)
		}
		return 1
	}
	return 0
}

func runMigrate(args []string) int {
	return withApp("migrate", args, func(ctx context.Context, a *app, rest []string) error {
		if len(rest) > 0 {
			return fmt.Errorf("unexpected argument %q", rest[0])
		}
		// openApp already migrated the schema and River's tables.
		fmt.Printf("database (%s) and job queue are up to date\n", a.kind)
		return nil
	})
}

func runSettings(args []string) int {
	return withApp("settings", args, func(ctx context.Context, a *app, rest []string) error {
		if err := bootstrap(ctx, a, os.Stderr); err != nil {
			return err
		}
		if len(rest) == 0 {
			return errors.New("usage: kessai settings get | kessai settings set '<json merge patch>' (or - for stdin)")
		}
		switch rest[0] {
		case "get":
			s, version, err := a.svc.GetSettings(ctx, kessai.DefaultShopID)
			if err != nil {
				return err
			}
			return printJSON(map[string]any{"version": version, "settings": s.Redacted()})
		case "set":
			var patch []byte
			switch {
			case len(rest) < 2 || rest[1] == "-":
				b, err := io.ReadAll(io.LimitReader(os.Stdin, 1<<20))
				if err != nil {
					return err
				}
				patch = b
			default:
				patch = []byte(rest[1])
			}
			s, version, err := a.svc.UpdateSettings(ctx, kessai.DefaultShopID, patch, service.AnyVersion)
			if err != nil {
				return err
			}
			return printJSON(map[string]any{"version": version, "settings": s.Redacted()})
		}
		return fmt.Errorf("unknown settings command %q (get or set)", rest[0])
	})
}

func runAPIKey(args []string) int {
	return withApp("apikey", args, func(ctx context.Context, a *app, rest []string) error {
		if err := bootstrap(ctx, a, os.Stderr); err != nil {
			return err
		}
		if len(rest) == 0 {
			return errors.New("usage: kessai apikey list | create [secret|publishable] | rotate <id> [grace, e.g. 24h]")
		}
		shop := kessai.DefaultShopID
		switch rest[0] {
		case "list":
			keys, err := a.svc.ListAPIKeys(ctx, shop)
			if err != nil {
				return err
			}
			return printJSON(keys)
		case "create":
			kind := kessai.KeySecret
			if len(rest) > 1 {
				kind = kessai.KeyKind(rest[1])
				if kind != kessai.KeySecret && kind != kessai.KeyPublishable {
					return fmt.Errorf("key kind must be secret or publishable, not %q", rest[1])
				}
			}
			plain, k, err := a.svc.CreateAPIKey(ctx, shop, kind)
			if err != nil {
				return err
			}
			fmt.Printf("%s key %s created — shown only now / 一度だけ表示されます:\n%s\n", k.Kind, k.ID, plain)
			return nil
		case "rotate":
			if len(rest) < 2 {
				return errors.New("usage: kessai apikey rotate <id> [grace]")
			}
			grace := 24 * time.Hour
			if len(rest) > 2 {
				d, err := time.ParseDuration(rest[2])
				if err != nil || d < 0 {
					return fmt.Errorf("grace %q is not a duration", rest[2])
				}
				grace = d
			}
			plain, k, err := a.svc.RotateAPIKey(ctx, shop, rest[1], grace)
			if err != nil {
				return err
			}
			fmt.Printf("new %s key %s — the old key keeps working for %s:\n%s\n", k.Kind, k.ID, grace, plain)
			return nil
		}
		return fmt.Errorf("unknown apikey command %q", rest[0])
	})
}

// bootstrap prepares the installation for a one-shot command, like the
// first `kessai serve` would. When this is the first start, the new
// credentials are printed to out (stderr: stdout may be piped into a JSON
// tool), or they would be lost.
func bootstrap(ctx context.Context, a *app, out io.Writer) error {
	keys, err := a.svc.Bootstrap(ctx)
	if err != nil {
		return err
	}
	printCredentials(out, keys, "")
	return nil
}

// adminUsage is the synopsis of `kessai admin`.
const adminUsage = `usage: kessai admin list
       kessai admin create-user <email> [--role admin|readonly] [--name NAME]
       kessai admin set-password <email>
The password is $KESSAI_ADMIN_PASSWORD, or generated and printed once.`

// adminPasswordEnv names the environment variable that gives
// `kessai admin create-user` and `set-password` the password to set.
const adminPasswordEnv = "KESSAI_ADMIN_PASSWORD"

func runAdmin(args []string) int {
	own, args, err := takeFlags(args, "role", "name")
	if err != nil {
		fmt.Fprintf(os.Stderr, "kessai admin: %v\n%s\n", err, adminUsage)
		return 2
	}
	return withApp("admin", args, func(ctx context.Context, a *app, rest []string) error {
		return adminCommand(ctx, a, rest, own, os.Getenv, os.Stdout, os.Stderr)
	})
}

// adminCommand runs `kessai admin <rest…>` with the command's own flags
// (role, name) already taken out of the arguments.
func adminCommand(ctx context.Context, a *app, rest []string, flags map[string]string, getenv func(string) string, out, errOut io.Writer) error {
	if err := bootstrap(ctx, a, errOut); err != nil {
		return err
	}
	if len(rest) == 0 {
		return errors.New(adminUsage)
	}
	if _, ok := flags["role"]; ok && rest[0] != "create-user" {
		return fmt.Errorf("--role is only for create-user\n%s", adminUsage)
	}
	if _, ok := flags["name"]; ok && rest[0] != "create-user" {
		return fmt.Errorf("--name is only for create-user\n%s", adminUsage)
	}
	shop := kessai.DefaultShopID
	// newPassword is the password to set: from the environment, or a
	// new one that is printed (the only time it can be).
	newPassword := func() (pw string, generated bool) {
		if pw := getenv(adminPasswordEnv); pw != "" {
			return pw, false
		}
		return password.Generate(service.GeneratedAdminPasswordLen), true
	}
	switch rest[0] {
	case "list":
		if len(rest) > 1 {
			return fmt.Errorf("unexpected argument %q\n%s", rest[1], adminUsage)
		}
		users, err := a.svc.ListAdminUsers(ctx, shop)
		if err != nil {
			return err
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(users)
	case "create-user":
		if len(rest) != 2 {
			return errors.New(adminUsage)
		}
		role := kessai.RoleAdmin
		if r, ok := flags["role"]; ok {
			role = kessai.AdminRole(r)
		}
		pw, generated := newPassword()
		u, err := a.svc.CreateAdminUser(ctx, shop, rest[1], flags["name"], role, pw)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "admin user %s (%s, %s) created / 管理ユーザーを作成しました\n", u.Email, u.Role, u.ID)
		if generated {
			fmt.Fprintf(out, "password — shown only now / 一度だけ表示されます:\n%s\n", pw)
		}
		return nil
	case "set-password":
		if len(rest) != 2 {
			return errors.New(adminUsage)
		}
		u, err := a.svc.AdminUserByEmail(ctx, shop, rest[1])
		if err != nil {
			return err
		}
		pw, generated := newPassword()
		if err := a.svc.SetAdminPassword(ctx, shop, u.ID, pw); err != nil {
			return err
		}
		fmt.Fprintf(out, "password of %s changed; its sessions ended and any lock-out was lifted / パスワードを変更しました\n", u.Email)
		if generated {
			fmt.Fprintf(out, "new password — shown only now / 一度だけ表示されます:\n%s\n", pw)
		}
		return nil
	}
	return fmt.Errorf("unknown admin command %q\n%s", rest[0], adminUsage)
}

// takeFlags removes the named flags ("-name value", "--name value",
// "-name=value", "--name=value") from args and returns their values and
// the other arguments, which withApp then reads as the serve flags.
func takeFlags(args []string, names ...string) (map[string]string, []string, error) {
	values := map[string]string{}
	var rest []string
	for i := 0; i < len(args); i++ {
		arg := args[i]
		name, value, hasValue := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(arg, "-"), "-"), "=")
		if !strings.HasPrefix(arg, "-") || !slices.Contains(names, name) {
			rest = append(rest, arg)
			continue
		}
		if !hasValue {
			if i+1 >= len(args) {
				return nil, nil, fmt.Errorf("flag --%s needs a value", name)
			}
			i++
			value = args[i]
		}
		if _, dup := values[name]; dup {
			return nil, nil, fmt.Errorf("flag --%s given twice", name)
		}
		values[name] = value
	}
	return values, rest, nil
}

func printJSON(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
