// Command kessai runs the kessai payment service and its tools.
//
//	kessai serve     run the payment service
//	kessai sim       run the e-SCOTT Smart gateway simulator
//	kessai migrate   create or upgrade the database
//	kessai settings  read or change the shop's settings
//	kessai apikey    list, create or rotate API keys
//	kessai admin     list admin console users, create one, set a password
//	kessai bench     the performance report (kessai bench report), or one
//	                 benchmark: card checkouts (kessai bench card), renewals
//	                 against a capped gateway (kessai bench renewals)
//	kessai demo      run the demo shop alone against a running kessai
//	kessai version   print the version
package main

import (
	"fmt"
	"os"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	if len(args) == 0 {
		usage()
		return 2
	}
	switch args[0] {
	case "serve":
		return runServe(args[1:])
	case "sim":
		return runSim(args[1:])
	case "migrate":
		return runMigrate(args[1:])
	case "settings":
		return runSettings(args[1:])
	case "apikey":
		return runAPIKey(args[1:])
	case "admin":
		return runAdmin(args[1:])
	case "bench":
		return runBench(args[1:])
	case "demo":
		return runDemo(args[1:])
	case "version", "-version", "--version":
		fmt.Println("kessai", version)
		return 0
	case "help", "-h", "-help", "--help":
		usage()
		return 0
	}
	fmt.Fprintf(os.Stderr, "kessai: unknown command %q\n\n", args[0])
	usage()
	return 2
}

func usage() {
	fmt.Fprint(os.Stderr, `kessai — self-hosted payments on the e-SCOTT Smart gateway
kessai — e-SCOTT Smart 決済サービス

Usage:
  kessai serve [flags]  run the payment service (SQLite and the simulator by default; kessai serve -h)
  kessai sim [flags]    run the e-SCOTT Smart gateway simulator alone (kessai sim -h for flags)
  kessai migrate        create or upgrade the database schema and job tables, then exit
  kessai settings get   print the default shop's settings (secrets redacted)
  kessai settings set   apply a JSON merge patch (argument or stdin) to the settings
  kessai apikey list|create [secret|publishable]|rotate <id> [grace]
  kessai admin list|create-user <email> [--role admin|readonly] [--name NAME]|set-password <email>
                        admin console users (password from $KESSAI_ADMIN_PASSWORD, or generated)
  kessai bench report [flags]
                        run every benchmark and write the report (Markdown, SVG, JSON) to -out (docs/report)
  kessai bench card [flags]
                        measure card checkouts through the API against the simulator
  kessai bench renewals [flags]
                        measure due subscription renewals against a simulator with a concurrency cap
  kessai demo [flags]   run the demo shop alone against a running kessai (KESSAI_API_KEY=sk_…)
  kessai version        print the version
`)
}
