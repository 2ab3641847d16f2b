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
	"strings"
	"time"

	"github.com/kessai/kessai"
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
		if _, err := a.svc.Bootstrap(ctx); err != nil {
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
		if _, err := a.svc.Bootstrap(ctx); err != nil {
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

func printJSON(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
