#!/usr/bin/env bash
# Runs every fuzz target of the module, one after the other, each for the
# same time, and prints a summary. Usage:
#
#   scripts/fuzz.sh [FUZZTIME]        # default 30s; any -fuzztime value (5m, 1h, 10000x)
#   make fuzz FUZZTIME=5m
#
# Environment:
#   FUZZ               only targets whose "package.Name" matches this extended
#                      regexp (default: all); the package is its path in the
#                      module, "kessai" for the root: FUZZ='^api\.|FuzzDecrypt$'
#   FUZZMINIMIZETIME   -fuzzminimizetime (default 10s; go's default is 60s, which
#                      the targets driving the whole server spend re-minimising
#                      inputs whose coverage varies with goroutine timing)
#   FUZZPARALLEL       fuzzing workers per target (-parallel; default GOMAXPROCS)
#   FUZZLOG            directory for each run's full output (default: a new
#                      directory under ${TMPDIR:-/tmp})
#
# A target that fails leaves its failing input in the package's
# testdata/fuzz/<Name>/ (go test writes it there); commit it once fixed,
# it then runs with every `go test`. See docs/fuzzing.md.
set -euo pipefail
cd "$(dirname "$0")/.."

fuzztime="${1:-30s}"
minimize="${FUZZMINIMIZETIME:-10s}"
filter="${FUZZ:-.}"
parallel=()
[ -n "${FUZZPARALLEL:-}" ] && parallel=(-parallel "$FUZZPARALLEL")
logdir="${FUZZLOG:-$(mktemp -d "${TMPDIR:-/tmp}/kessai-fuzz.XXXXXX")}"
mkdir -p "$logdir"

# go test's -timeout (default 10m) covers the whole fuzzing run: allow the
# fuzz time plus 10 minutes for building, seeds and the last minimisation.
timeout=0
case "$fuzztime" in
  *[0-9]h) timeout="$(( ${fuzztime%h} * 3600 + 600 ))s" ;;
  *[0-9]m) timeout="$(( ${fuzztime%m} * 60 + 600 ))s" ;;
  *[0-9]s) timeout="$(( ${fuzztime%s} + 600 ))s" ;;
esac

# short is a package's path in the module ("kessai" for the root).
short() {
  local s="${1#github.com/kessai/kessai}"
  s="${s#/}"
  echo "${s:-kessai}"
}

echo "== listing fuzz targets"
# go test -list prints a package's matching names, then its "ok" line.
targets=()
names=()
while IFS= read -r line; do
  case "$line" in
    Fuzz*) names+=("$line") ;;
    ok*)
      pkg="$(awk '{print $2}' <<<"$line")"
      for n in "${names[@]}"; do
        if [[ "$(short "$pkg").$n" =~ $filter ]]; then
          targets+=("$pkg $n")
        fi
      done
      names=()
      ;;
    FAIL*|"# "*) echo "$line" >&2; exit 1 ;;
    *) names=() ;;
  esac
done < <(go test -list '^Fuzz' ./...)
if [ ${#targets[@]} -eq 0 ]; then
  echo "no fuzz target matches ${filter}" >&2
  exit 1
fi
echo "${#targets[@]} targets, ${fuzztime} each; logs in ${logdir}"

summary=()
failed=0
start_all=$SECONDS
for t in "${targets[@]}"; do
  read -r pkg name <<<"$t"
  pkgname="$(short "$pkg")"
  log="$logdir/${pkgname//\//_}.${name}.log"
  echo "== ${pkgname} ${name}"
  start=$SECONDS
  if go test "$pkg" -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" \
      -fuzzminimizetime "$minimize" -timeout "$timeout" ${parallel[@]+"${parallel[@]}"} >"$log" 2>&1; then
    result=ok
  else
    result=FAIL
    failed=$((failed + 1))
    grep -E -- '--- FAIL|Failing input|go test -run|fuzz_.*test.go:[0-9]+' "$log" | head -20 || true
  fi
  # The last progress line carries the totals.
  last="$(grep -E '^fuzz: elapsed' "$log" | tail -1 || true)"
  execs="$(sed -nE 's/.*execs: ([0-9]+).*/\1/p' <<<"$last")"
  interesting="$(sed -nE 's/.*new interesting: ([0-9]+) \(total: ([0-9]+)\).*/\1 (corpus \2)/p' <<<"$last")"
  line="$(printf '%-4s %-18s %-28s %6ss %12s execs  new %s' "$result" "$pkgname" "$name" \
    "$((SECONDS - start))" "${execs:-?}" "${interesting:-?}")"
  echo "$line"
  summary+=("$line")
done

echo
echo "== summary (${#targets[@]} targets, ${fuzztime} each, $((SECONDS - start_all))s in all; logs in ${logdir})"
printf '%s\n' "${summary[@]}"
if [ "$failed" -gt 0 ]; then
  echo "${failed} target(s) FAILED: see the logs and the inputs written under testdata/fuzz/" >&2
  exit 1
fi
