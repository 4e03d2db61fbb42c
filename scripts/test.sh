#!/usr/bin/env bash
# The whole test suite: static checks (type-check, lint, format, boundaries) then `bun test`.
# Prints one closing line "N passed, N failed, N skipped" derived from bun's junit report, with
# each static check counted as one test. Exit code is non-zero when anything failed.
# Usage: npm test [-- <bun test args>]
set -u
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
mkdir -p out
static_pass=0
static_fail=0
step() {
  local name=$1
  shift
  echo "== $name: $*"
  if "$@"; then static_pass=$((static_pass + 1)); else
    static_fail=$((static_fail + 1))
    echo "(fail) static check: $name"
  fi
}
step typecheck tsc -p .
step lint deno lint -q
step format deno fmt --check -q
step boundaries bun scripts/check.ts
rm -f out/junit.xml
echo "== bun test"
bun test --reporter=junit --reporter-outfile=out/junit.xml "$@"
rc=$?
summary=$(bun scripts/junit_summary.ts out/junit.xml "$static_pass" "$static_fail")
echo "$summary"
if [ "$rc" -ne 0 ] || [ "$static_fail" -ne 0 ]; then exit 1; fi
exit 0
