#!/usr/bin/env bash
# Runs every fuzz target (or those named) for RUNS executions each, one after another on one
# core, and prints a table. Needs a nightly toolchain and cargo-fuzz; installs nothing.
#
#   tests/fuzz/run.sh                  # every target, 1,000,000 runs each
#   tests/fuzz/run.sh 100000 decode_jwt api_error
#
# Limits: -rss_limit_mb catches unbounded allocation, -timeout a hang (seconds per input).
# Corpora grow in tests/fuzz/corpus/<target> (git-ignored), seeded from tests/fuzz/seeds;
# a crash is saved in tests/fuzz/artifacts/<target> and reproduced with
#   cargo +nightly fuzz run --fuzz-dir tests/fuzz <target> <artifact>
set -euo pipefail
cd "$(dirname "$0")/../.."

runs="${1:-1000000}"
shift || true
all=(decode_jwt token_error api_error www_authenticate explain_input tenant_scope_url profile_file cache_file)
targets=("${@:-${all[@]}}")
fuzz_dir=tests/fuzz
logs="$fuzz_dir/logs"

if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "needs a nightly toolchain and cargo-fuzz (cargo install cargo-fuzz --locked)" >&2
    exit 2
fi
mkdir -p "$logs"
echo "==> building the targets (log: $logs/build.log)" >&2
cargo +nightly fuzz build --fuzz-dir "$fuzz_dir" >"$logs/build.log" 2>&1 || {
    tail -n 30 "$logs/build.log" >&2
    exit 2
}

max_len() {
    case "$1" in
        tenant_scope_url) echo 8192 ;; # typed by an operator
        *) echo 65536 ;;
    esac
}

stat() { # the value of a libFuzzer final stat, or "?"
    sed -n "s/^stat::$1: *//p" "$2" | tail -n 1 | grep . || echo "?"
}

rows=()
failed=0
for target in "${targets[@]}"; do
    corpus="$fuzz_dir/corpus/$target"
    artifacts="$fuzz_dir/artifacts/$target"
    log="$logs/$target.log"
    mkdir -p "$corpus" "$artifacts"
    before=$(find "$artifacts" -type f | wc -l)
    echo "==> $target ($runs runs)" >&2
    start=$(date +%s)
    status=0
    cargo +nightly fuzz run --fuzz-dir "$fuzz_dir" "$target" "$corpus" "$fuzz_dir/seeds/$target" -- \
        -runs="$runs" -rss_limit_mb=2048 -timeout=5 -max_len="$(max_len "$target")" \
        -dict="$fuzz_dir/dicts/$target.dict" -print_final_stats=1 >"$log" 2>&1 || status=$?
    seconds=$(($(date +%s) - start))
    crashes=$(($(find "$artifacts" -type f | wc -l) - before))
    if [ "$status" -ne 0 ] && [ "$crashes" -eq 0 ]; then crashes="?"; fi
    if [ "$status" -ne 0 ]; then failed=1; echo "    failed (exit $status): see $log" >&2; fi
    rows+=("$(printf '%-18s %12s %8s %10s %8s %8s' "$target" \
        "$(stat number_of_executed_units "$log")" "$(stat average_exec_per_sec "$log")" \
        "$crashes" "$(stat peak_rss_mb "$log")" "$seconds")")
done

printf '%-18s %12s %8s %10s %8s %8s\n' target executions exec/s crashes rss_mb seconds
printf '%s\n' "${rows[@]}"
exit "$failed"
