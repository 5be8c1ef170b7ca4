#!/usr/bin/env bash
# The tenant audit at scale: `entra-doctor audit -o json` against the demo tenant holding 1,000,
# 10,000 and 100,000 synthetic app registrations (`demo --serve --synthetic-apps N`, computed per
# page, 999 a page). Each run reads every listing (service principals, Graph grants, credential
# sign-in activity, applications) and streams one JSON line per app to /dev/null. Every run
# meets the demo's one 429 (Retry-After: 1), so each wall time includes one second of waiting,
# as a real tenant-wide read would. Prints median wall time, apps per second and peak RSS.
#
# usage: tests/benches/bench-audit.sh [RUNS] [SIZES...]   (default 3 runs; 1000 10000 100000;
#        env: ENTRA_DOCTOR_BIN; needs python3 and GNU time)
set -euo pipefail
cd "$(dirname "$0")/../.."

RUNS="${1:-3}"
shift || true
SIZES=("${@:-1000 10000 100000}")
read -r -a SIZES <<<"${SIZES[*]}"
BIN="${ENTRA_DOCTOR_BIN:-}"
if [ -z "$BIN" ]; then
  cargo build --release --locked --quiet
  BIN="${CARGO_TARGET_DIR:-target}/release/entra-doctor"
fi

WORK="$(mktemp -d)"
chmod 700 "$WORK"
DEMO_PID=""
cleanup() {
  [ -n "$DEMO_PID" ] && kill "$DEMO_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "entra-doctor $("$BIN" --version | cut -d' ' -f2), $(nproc) CPU(s), $RUNS run(s) each; fresh process per run"
printf '%-30s %10s %10s %13s\n' "audit" "median ms" "apps/s" "peak RSS MiB"
for n in "${SIZES[@]}"; do
  rm -f "$WORK/demo.json"
  "$BIN" demo --serve --synthetic-apps "$n" --output json >"$WORK/demo.json" 2>"$WORK/demo.err" &
  DEMO_PID=$!
  for _ in $(seq 100); do [ -s "$WORK/demo.json" ] && break; sleep 0.1; done
  [ -s "$WORK/demo.json" ] || { cat "$WORK/demo.err" >&2; exit 1; }
  python3 - "$WORK" "$BIN" "$RUNS" "$n" <<'PY' >"$WORK/spec.json"
import json, sys
work, bin_, runs, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
doc = json.load(open(f"{work}/demo.json"))
app = next(a for a in doc["apps"] if a["scenario"] == "healthy")
# Exit 1 (credentials expiring) is the audit's answer, not a failure; GNU time's peak RSS of the
# shell includes the audit's (wait4 reports the largest of the waited-for descendants).
cmd = {"name": f"audit ({n} synthetic apps)",
       "argv": ["sh", "-c", '"$0" "$@"; [ $? -le 1 ]', bin_, "audit", "-o", "json", "--authority-host", doc["authority_host"],
                "--tenant", doc["tenant_id"], "--client-id", app["client_id"]],
       "env": {"AZURE_CLIENT_SECRET": app["secret"]}, "apps": n}
json.dump({"runs": runs, "warmup": 0, "commands": [cmd]}, sys.stdout)
PY
  python3 tests/benches/bench_measure.py --json <"$WORK/spec.json" >"$WORK/result.json"
  python3 - "$WORK" "$n" <<'PY'
import json, sys
work, n = sys.argv[1], int(sys.argv[2])
row = json.load(open(f"{work}/result.json"))["rows"][0]
# The demo also holds its lesson apps and the audit's registrations (a few dozen).
print(f"{row['name']:<30} {row['median_ms']:>10.1f} {n / (row['median_ms'] / 1000):>10.0f} "
      f"{row['peak_rss_mib']:>13.1f}")
PY
  kill "$DEMO_PID" 2>/dev/null || true
  wait "$DEMO_PID" 2>/dev/null || true
  DEMO_PID=""
done
