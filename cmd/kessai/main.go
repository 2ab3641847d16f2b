// Command kessai runs the kessai payment service and its tools.
//
//	kessai sim       run the e-SCOTT Smart gateway simulator
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
	case "sim":
		return runSim(args[1:])
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
  kessai sim [flags]    run the e-SCOTT Smart gateway simulator (kessai sim -h for flags)
  kessai version        print the version
`)
}
