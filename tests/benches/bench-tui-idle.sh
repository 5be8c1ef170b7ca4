#!/usr/bin/env bash
# TUI idle CPU: opens `entra-doctor demo` in a detached tmux session (120x40), picks the healthy
# lesson, runs doctor once (`d`), then leaves it alone and samples /proc/PID/stat (utime+stime)
# over SECONDS; prints the CPU used as a percentage of one core.
#
# usage: tests/benches/bench-tui-idle.sh [SECONDS]   (default 10; env ENTRA_DOCTOR_BIN; needs tmux, Linux)
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_IDLE="${1:-10}"
BIN="${ENTRA_DOCTOR_BIN:-}"
if [ -z "$BIN" ]; then
  cargo build --release --locked --quiet
  BIN="${CARGO_TARGET_DIR:-target}/release/entra-doctor"
fi
BIN="$(realpath "$BIN")"
SOCK="bench-tui-idle-$$"
T() { tmux -L "$SOCK" "$@"; }
trap 'T kill-server 2>/dev/null || true' EXIT

T new-session -d -s idle -x 120 -y 40 "exec '$BIN' demo"
sleep 1
T send-keys -t idle Enter
sleep 0.5
T send-keys -t idle d
sleep 2
PID="$(T list-panes -t idle -F '#{pane_pid}')"
[ "$(readlink "/proc/$PID/exe")" = "$BIN" ] || { echo "the TUI is not running" >&2; exit 1; }
ticks() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
HZ="$(getconf CLK_TCK)"
before="$(ticks)"
sleep "$SECONDS_IDLE"
after="$(ticks)"
awk -v a="$after" -v b="$before" -v hz="$HZ" -v s="$SECONDS_IDLE" 'BEGIN {
  printf "TUI idle over %d s: %d ticks (%.2f s of CPU) = %.2f%% of one core\n", s, a - b, (a - b) / hz, 100 * (a - b) / hz / s }'
