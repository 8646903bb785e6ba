#!/usr/bin/env bash
# Runs every fuzz target for SECONDS seconds each and prints executions and time per target.
#   fuzz/run.sh 60        # make fuzz
#   fuzz/run.sh 5 smoke   # make fuzz-smoke: the committed seeds first, then 5 s of fuzzing each
# Stable Rust: --sanitizer none (the address sanitizer needs a nightly compiler); -O with debug
# assertions (-a), so overflow checks and debug asserts still fire. New inputs go to a scratch
# corpus; the committed seeds (fuzz/corpus/<target>/seed-*) are only read. A crash leaves its
# input under fuzz/artifacts/<target>/ and fails the run.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-60}"
mode="${2:-full}"
targets=(digest engine validators dns)
cargo fuzz build --sanitizer none -O -a >/dev/null 2>&1 || cargo fuzz build --sanitizer none -O -a
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
printf '%-11s %12s %9s\n' target executions seconds
for t in "${targets[@]}"; do
    mkdir -p "$scratch/$t"
    log="$scratch/$t.log"
    start=$(date +%s)
    if ! cargo fuzz run --sanitizer none -O -a "$t" "$scratch/$t" "corpus/$t" -- \
            -max_total_time="$seconds" -print_final_stats=1 >"$log" 2>&1; then
        tail -n 30 "$log" >&2
        echo "fuzz: target $t failed (input saved under fuzz/artifacts/$t/)" >&2
        exit 1
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
    printf '%-11s %12s %9s\n' "$t" "${runs:-?}" "$(( $(date +%s) - start ))"
done
[ "$mode" = smoke ] && echo "fuzz: seeds and ${seconds} s per target, no failure"
exit 0
