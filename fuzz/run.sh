#!/usr/bin/env bash
# Runs every fuzz target for SECONDS seconds, one after the other, and prints executions and
# time per target.
#   fuzz/run.sh 60          # make fuzz: keeps its finds in target/fuzz-corpus/<target> for next time
#   fuzz/run.sh 5 smoke     # make fuzz-smoke: the committed seeds, then 5 s of fuzzing each, from scratch
#   fuzz/run.sh 60 full engine dns   # only some targets
# Stable Rust: --sanitizer none, since the address sanitizer needs a nightly compiler (and the
# core has no unsafe code outside its C ABI); nothing else here needs nightly, so no
# RUSTC_BOOTSTRAP. -O with -a: optimised, with debug assertions and overflow checks on.
# The committed seeds (corpus/<target>/seed-*) are only read. A crash, a failed check or an
# input slower than FUZZ_INPUT_TIMEOUT seconds (a hang) fails the run and leaves the input
# under fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-60}"
mode="${2:-full}"
shift $(( $# < 2 ? $# : 2 ))
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(digest engine validators dns remote_datagram tls_store)
input_timeout="${FUZZ_INPUT_TIMEOUT:-10}"
flags=(--sanitizer none -O -a)

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
build_start=$(date +%s)
if ! cargo fuzz build "${flags[@]}" >"$scratch/build.log" 2>&1; then
    cat "$scratch/build.log" >&2
    exit 1
fi
echo "fuzz: built in $(( $(date +%s) - build_start )) s"
printf '%-11s %12s %9s %9s\n' target executions seconds exec/s
for t in "${targets[@]}"; do
    if [ "$mode" = smoke ]; then
        work="$scratch/$t"
    else
        work="target/fuzz-corpus/$t"
    fi
    mkdir -p "$work"
    log="$scratch/$t.log"
    start=$(date +%s)
    if ! cargo fuzz run "${flags[@]}" "$t" "$work" "corpus/$t" -- \
            -max_total_time="$seconds" -timeout="$input_timeout" -print_final_stats=1 >"$log" 2>&1; then
        grep -v '^#[0-9]' "$log" | tail -n 40 >&2
        echo "fuzz: target $t failed; the input is under fuzz/artifacts/$t/" >&2
        exit 1
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
    took=$(( $(date +%s) - start ))
    printf '%-11s %12s %9s %9s\n' "$t" "${runs:-?}" "$took" "$(( ${runs:-0} / (took > 0 ? took : 1) ))"
done
if [ "$mode" = smoke ]; then
    echo "fuzz: committed seeds and ${seconds} s of fuzzing per target, no failure"
fi
