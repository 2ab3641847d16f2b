#!/usr/bin/env bash
# Runs every kessai test on a fresh machine: formatting, vet, the go.mod
# tidiness check, and the whole test suite with the race detector. Fuzz
# targets run over their committed corpora as ordinary tests.
#
# Storage, job and service tests need PostgreSQL at 127.0.0.1:5432
# (database "test", user "postgres", trust auth) or KESSAI_TEST_DATABASE_URL;
# the local cluster is started when it is installed but not running.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${KESSAI_TEST_DATABASE_URL:-}" ] && command -v pg_isready >/dev/null 2>&1 \
   && ! pg_isready -q -h 127.0.0.1 -p 5432; then
  echo "== starting PostgreSQL"
  for v in $(ls /etc/postgresql 2>/dev/null); do
    pg_ctlcluster --skip-systemctl-redirect "$v" main start || true
  done
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi

# The hosted checkout's browser tests drive Debian's chromium; screenshots
# of Japanese pages need a CJK font. Installed when missing (as root, or
# through sudo when it is there without a password).
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
[ -d /usr/share/fonts/opentype/noto ] && ls /usr/share/fonts/opentype/noto | grep -q CJK || need+=(fonts-noto-cjk)
if [ ${#need[@]} -gt 0 ]; then
  echo "== installing ${need[*]}"
  sudo=""
  [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && sudo="sudo -n"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

echo "== go vet"
go vet ./...

echo "== go mod tidy check"
if ! go mod tidy -diff; then
  echo "go.mod/go.sum are not tidy: run go mod tidy"; exit 1
fi

echo "== go test -race"
go test -race -count=1 -timeout 20m ./...
