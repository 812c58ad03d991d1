#!/usr/bin/env bash
# Runs every benchmark binary in BUILD_DIR (default: build) and prints their
# JSON lines on stdout. Each benchmark repeats its measurement and reports the
# median itself; progress and notes go to stderr.
set -euo pipefail
build=${1:-build}
shopt -s nullglob
status=0
for b in "$build"/bench_*; do
  [ -x "$b" ] || continue
  echo "# $(basename "$b")" >&2
  "$b" || { echo "# $(basename "$b") failed with status $?" >&2; status=1; }
done
exit $status
