#!/bin/sh
# run-bench.sh BENCH...: runs each benchmark program and judges its figures.
# A benchmark prints "figure NAME VALUE UNIT OP LIMIT" lines (OP "<=" or ">=",
# or "-" for a figure shown without a target), "error TEXT" when it could not
# measure, and "info TEXT" for context. This prints one line per figure with
# its target and PASS/FAIL, and exits 1 when a target is missed, a benchmark
# reports an error or exits non-zero. Targets: tests/bench/README.md.
set -u

status=0
for bench in "$@"; do
  name=$(basename "$bench")
  echo "# $name"
  out=$(mktemp)
  start=$(date +%s)
  "$bench" >"$out" 2>"$out.err"
  rc=$?
  awk -v bench="$name" '
    $1 == "figure" {
      name = $2; value = $3; unit = $4; op = $5; limit = $6
      if (op == "-") { printf "  %-52s %12s %-7s %-16s %s\n", name, value, unit, "(no target)", "INFO"; next }
      ok = (op == "<=") ? (value + 0 <= limit + 0) : (value + 0 >= limit + 0)
      printf "  %-52s %12s %-7s %-16s %s\n", name, value, unit, "(" op " " limit ")", ok ? "PASS" : "FAIL"
      if (!ok) failed = 1
      next
    }
    $1 == "error" { sub(/^error /, ""); printf "  %-52s %s\n", "ERROR", $0; failed = 1; next }
    $1 == "info"  { sub(/^info /, ""); printf "  # %s\n", $0; next }
    END { exit failed }
  ' "$out" || status=1
  if [ "$rc" -ne 0 ]; then
    echo "  $name exited with status $rc; its stderr (last lines):"
    tail -n 20 "$out.err" | sed 's/^/    /'
    status=1
  fi
  if ! grep -q '^figure ' "$out"; then
    echo "  $name printed no figure"
    status=1
  fi
  echo "  ($name took $(( $(date +%s) - start )) s)"
  rm -f "$out" "$out.err"
done
if [ "$status" -eq 0 ]; then
  echo "bench: every target met"
else
  echo "bench: some targets missed (FAIL or ERROR above)"
fi
exit "$status"
