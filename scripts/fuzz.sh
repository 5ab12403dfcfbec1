#!/bin/bash
# Fuzzing campaigns with libFuzzer (docs/security.md).
#
#   scripts/fuzz.sh [--seconds N] [--save] [TARGET...]
#
# Builds build-fuzz or $FUZZ_BUILD (clang, -Dfuzzing=true, ASan + UBSan), then runs each
# target (all of tests/fuzz/fuzz_*.c when none is named) for N seconds
# (default 60), starting from its saved corpus tests/fuzz/corpus/TARGET.
# New inputs collect in BUILD/corpus/TARGET; with --save they are
# merged (minimised) back into the saved corpus. A crash leaves its input in
# BUILD/crashes/TARGET/ and makes the script exit 1. The CPU time each
# target has had is added up in BUILD/cpu-seconds.
set -uo pipefail
cd "$(dirname "$0")/.."
B=${FUZZ_BUILD:-build-fuzz}   # another build directory: FUZZ_BUILD=dir
seconds=60 save=0 targets=()
while [ $# -gt 0 ]; do
    case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --save) save=1; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
    esac
done
if [ ${#targets[@]} -eq 0 ]; then
    for f in tests/fuzz/fuzz_*.c; do t=${f#tests/fuzz/fuzz_}; targets+=("${t%.c}"); done
fi
command -v clang >/dev/null || { echo "fuzz.sh: clang is needed (scripts/deps.sh test installs it)" >&2; exit 1; }
if [ ! -f "$B/build.ninja" ]; then
    CC=clang meson setup "$B" -Dfuzzing=true --buildtype=debugoptimized \
        -Db_sanitize=address,undefined -Db_lundef=false >/dev/null || exit 1
fi
ninja -C "$B" $(printf 'tests/fuzz/fuzz_%s ' "${targets[@]}") >/dev/null || exit 1

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
crashed=0
for t in "${targets[@]}"; do
    bin=$B/tests/fuzz/fuzz_$t
    saved=tests/fuzz/corpus/$t
    work=$B/corpus/$t
    crashes=$B/crashes/$t
    mkdir -p "$work" "$crashes" "$saved"
    dict=()
    [ -f "tests/fuzz/$t.dict" ] && dict=(-dict="tests/fuzz/$t.dict")
    log=$B/fuzz-$t.log
    "$bin" "$work" "$saved" "${dict[@]}" -max_total_time="$seconds" -artifact_prefix="$crashes/" \
        -print_final_stats=1 >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    echo "fuzz $t: ${seconds}s, ${execs:-?} runs, ${cov:-cov: ?}, exit $rc"
    echo "$t $seconds" >>"$B/cpu-seconds"
    if [ $rc -ne 0 ]; then
        crashed=1
        grep -m3 -E 'ERROR|runtime error|SUMMARY' "$log" | sed 's/^/    /'
        echo "    input and log: $crashes/ $log"
    elif [ $save -eq 1 ]; then
        tmp=$(mktemp -d)
        # edge coverage only, so the saved corpus stays small
        "$bin" -merge=1 -use_counters=0 "$tmp" "$saved" "$work" >/dev/null 2>&1 &&
            rm -f "$saved"/* && cp "$tmp"/* "$saved"/ 2>/dev/null
        rm -rf "$tmp"
        echo "    saved corpus: $(ls "$saved" | wc -l) inputs"
    fi
done
exit $crashed
