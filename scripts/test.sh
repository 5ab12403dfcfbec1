#!/bin/bash
# Run every test: unit (cmocka), ISA (bare-metal RISC-V programs) and system
# tests (real Linux guests), fuzz corpus replays, first on the release
# build, then on an AddressSanitizer + UndefinedBehaviorSanitizer build; then
# the system tests once more with every VM on the interpreter
# (VIREO_ENGINE=interp; the JIT is the default on x86-64 hosts);
# 15 s of libFuzzer for each fuzz target. Ends with a line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh test || exit 1
scripts/build.sh || exit 1

if [ ! -f build-asan/build.ninja ]; then
    meson setup build-asan --buildtype=debugoptimized -Db_sanitize=address,undefined -Db_lundef=false >/dev/null || exit 1
fi
ninja -C build-asan >/dev/null || exit 1

export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0

passed=0; failed=0
run_suite() { # build-dir label [meson test arguments...]
    local dir=$1 label=$2 log
    shift 2
    log=$(mktemp)
    meson test -C "$dir" --print-errorlogs --num-processes 2 "$@" 2>&1 | tee "$log"
    local ok fail
    ok=$(sed -n 's/^Ok: *\([0-9]*\).*/\1/p' "$log" | tail -1)
    fail=$(sed -n 's/^Fail: *\([0-9]*\).*/\1/p' "$log" | tail -1)
    local to=$(sed -n 's/^Timeout: *\([0-9]*\).*/\1/p' "$log" | tail -1)
    rm -f "$log"
    echo "== $label: ${ok:-0} ok, ${fail:-0} failed, ${to:-0} timed out"
    passed=$((passed + ${ok:-0}))
    failed=$((failed + ${fail:-0} + ${to:-0}))
}
run_suite build release
run_suite build-asan "asan+ubsan"
# The system tests again with every VM on the interpreter (the JIT is the
# default on x86-64, docs/jit.md): both engines pass the whole suite.
VIREO_ENGINE=interp run_suite build "system tests, --engine interp" --suite system

# On top of the corpus replays (suite fuzz above): a short libFuzzer run of
# every fuzz target, clang + ASan + UBSan (docs/security.md). One test each.
fuzz_log=$(mktemp)
FUZZ_BUILD=build-fuzz scripts/fuzz.sh --seconds 15 2>&1 | tee "$fuzz_log"
fuzz_ok=$(grep -c '^fuzz .*, exit 0$' "$fuzz_log")
fuzz_all=$(grep -c '^fuzz ' "$fuzz_log")
[ "$fuzz_all" -eq 0 ] && fuzz_all=1   # it did not even build
rm -f "$fuzz_log"
echo "== fuzz: $fuzz_ok ok, $((fuzz_all - fuzz_ok)) failed"
passed=$((passed + fuzz_ok))
failed=$((failed + fuzz_all - fuzz_ok))
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
