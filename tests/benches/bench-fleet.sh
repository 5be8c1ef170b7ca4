#!/usr/bin/env bash
# Fleet mode at scale: `entra-doctor doctor --fleet FILE` for 10, 100 and 1,000 apps against the
# embedded demo tenant (http on loopback). The demo tenant has one healthy app, so every fleet
# entry reuses its credentials: each entry is still a full token request, decode and probe.
# Prints median wall time, peak RSS and milliseconds per app for each size.
#
# usage: tests/benches/bench-fleet.sh [RUNS] [SIZES...]   (default 5 runs; 10 100 1000; env:
#        ENTRA_DOCTOR_BIN, CONCURRENCY default 16; needs python3 and GNU time)
set -euo pipefail
cd "$(dirname "$0")/../.."

RUNS="${1:-5}"
shift || true
SIZES=("${@:-10 100 1000}")
read -r -a SIZES <<<"${SIZES[*]}"
CONCURRENCY="${CONCURRENCY:-16}"
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

"$BIN" demo --serve --output json >"$WORK/demo.json" 2>"$WORK/demo.err" &
DEMO_PID=$!
for _ in $(seq 100); do [ -s "$WORK/demo.json" ] && break; sleep 0.1; done
[ -s "$WORK/demo.json" ] || { cat "$WORK/demo.err" >&2; exit 1; }

python3 - "$WORK" "$BIN" "$RUNS" "$CONCURRENCY" "${SIZES[@]}" <<'PY' >"$WORK/spec.json"
import json, sys
work, bin_, runs, conc, sizes = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5:]
doc = json.load(open(f"{work}/demo.json"))
app = next(a for a in doc["apps"] if a["scenario"] == "healthy")
cmds = []
for n in map(int, sizes):
    path = f"{work}/fleet-{n}.toml"
    with open(path, "w") as f:
        for i in range(n):
            f.write(f'[[apps]]\nname = "daemon-{i:04}"\ntenant = "{doc["tenant_id"]}"\n'
                    f'client_id = "{app["client_id"]}"\nscopes = ["{app["scope"]}"]\n'
                    f'probe = "{app["probe_url"]}"\nsecret_env = "FLEET_SECRET"\n\n')
    cmds.append({"name": f"doctor --fleet ({n} apps)",
                 "argv": [bin_, "doctor", "--fleet", path, "--concurrency", conc, "-o", "json",
                          "--authority-host", doc["authority_host"]],
                 "env": {"FLEET_SECRET": app["secret"]}, "apps": n})
json.dump({"runs": runs, "warmup": 1, "commands": cmds}, sys.stdout)
PY

echo "entra-doctor $("$BIN" --version | cut -d' ' -f2), concurrency $CONCURRENCY, $(nproc) CPU(s)"
python3 tests/benches/bench_measure.py --json <"$WORK/spec.json" >"$WORK/result.json"
python3 - "$WORK" <<'PY'
import json, sys
work = sys.argv[1]
spec = json.load(open(f"{work}/spec.json"))
result = json.load(open(f"{work}/result.json"))
print(f"{result['runs']} runs each; fresh process per run")
print(f"{'fleet':<28} {'median ms':>10} {'ms/app':>8} {'peak RSS MiB':>13}")
for cmd, row in zip(spec["commands"], result["rows"]):
    per_app = row["median_ms"] / cmd["apps"]
    print(f"{row['name']:<28} {row['median_ms']:>10.1f} {per_app:>8.2f} {row['peak_rss_mib']:>13.1f}")
PY
