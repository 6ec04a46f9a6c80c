#!/bin/sh
# Runs every GLib test program given on the command line in TAP mode and
# totals them. Ends with the plain line "N passed, N failed[, N skipped]" and
# exits non-zero when any test failed or a program crashed. With VALGRIND=1
# each program runs under valgrind memcheck (suppressions: tests/valgrind.supp).
set -u
export G_DEBUG=fatal-criticals
export G_SLICE=always-malloc
export LC_ALL=C.UTF-8
# Keep the suite away from the user's own libpurple profile.
export HOME="${TMPDIR:-/tmp}/ppm-test-home.$$"
mkdir -p "$HOME"
if [ "${SANITIZE:-}" = 1 ]; then
  # libpurple and GLib keep some allocations until exit; the leak check of the
  # plugin and library code runs under valgrind instead.
  export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
fi
run_under=""; program_timeout=900
if [ "${VALGRIND:-}" = 1 ]; then
  # Memcheck: a definite leak or a memory error fails the program (exit 99).
  # Test cases run in child processes of the test program are followed too,
  # but not system programs (proxy, IRC server) a test starts. Valgrind runs
  # code ~20 times slower, so the tests' timeouts stretch too.
  export G_DEBUG=fatal-criticals,gc-friendly
  export HARNESS_TIMEOUT_SCALE=20
  program_timeout=2400
  run_under="valgrind --tool=memcheck --leak-check=full --errors-for-leak-kinds=definite
    --error-exitcode=99 --suppressions=$(dirname "$0")/valgrind.supp --num-callers=30
    --trace-children=yes --trace-children-skip=/usr/*,/lib/*,/bin/*,/sbin/*"
fi
log_dir="${BUILD:-build}/test-logs"
mkdir -p "$log_dir"

passed=0; failed=0; skipped=0
for prog in "$@"; do
  name=$(basename "$prog")
  log="$log_dir/$name.log"
  timeout "$program_timeout" $run_under "$prog" --tap >"$log" 2>&1
  rc=$?
  p=$(grep -c '^ok [0-9]' "$log" | tr -d ' ')
  s=$(grep -E -c '^ok [0-9].*# (SKIP|skip)' "$log" | tr -d ' ')
  f=$(grep -c '^not ok [0-9]' "$log" | tr -d ' ')
  p=$((p - s))
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    # The program crashed or timed out outside a reported test case.
    f=1
    echo "FAIL $name: exited with status $rc"
  fi
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
  if [ "$f" -gt 0 ]; then
    echo "FAIL $name: $p passed, $f failed (log: $log)"
    grep -E '^not ok|ERROR|CRITICAL|Bail out' "$log" | head -20 | sed 's/^/    /'
  else
    echo "ok   $name: $p passed, $s skipped"
  fi
done
rm -rf "$HOME"
if [ "$skipped" -gt 0 ]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
