#!/usr/bin/env bash
# Fleet mode at scale (issue 17): `entra-doctor doctor --fleet FILE -o json` for 1,000, 10,000 and
# 100,000 apps against the embedded demo tenant (http on loopback). The demo tenant has one
# healthy app, so every fleet entry is that app with the same credential: the fleet makes one
# token request (identical credentials share it) and one probe per app, and each app is still
# decoded, verified and diagnosed on its own.
# Prints, per size: median wall time, apps per second and peak RSS (the target: under 64 MiB at
# 100,000 apps), then time(largest)/time(smallest) scaled by the size ratio (1.0 = linear).
#
# usage: tests/benches/bench-fleet.sh [RUNS] [SIZES...]   (default 1 run; 1000 10000 100000;
#        env: ENTRA_DOCTOR_BIN, CONCURRENCY default 16, FORMAT toml|json|jsonl default toml;
#        needs python3 and GNU time)
# The demo tenant takes 100,000 probes within its limits: its API routes for the healthy app have
# no rate limit, and 16 connections are far below its 512 (`ServeLimits`).
set -euo pipefail
cd "$(dirname "$0")/../.."

RUNS="${1:-1}"
shift || true
SIZES=("${@:-1000 10000 100000}")
read -r -a SIZES <<<"${SIZES[*]}"
CONCURRENCY="${CONCURRENCY:-16}"
FORMAT="${FORMAT:-toml}"
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

python3 - "$WORK" "$BIN" "$RUNS" "$CONCURRENCY" "$FORMAT" "${SIZES[@]}" <<'PY' >"$WORK/spec.json"
import json, sys
work, bin_, runs, conc, fmt, sizes = (sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4],
                                      sys.argv[5], sys.argv[6:])
doc = json.load(open(f"{work}/demo.json"))
app = next(a for a in doc["apps"] if a["scenario"] == "healthy")
cmds = []
for n in map(int, sizes):
    path = f"{work}/fleet-{n}.{fmt}"
    with open(path, "w") as f:
        entry = lambda i: {"name": f"daemon-{i:06}", "tenant": doc["tenant_id"],
                           "client_id": app["client_id"], "scopes": [app["scope"]],
                           "probe": app["probe_url"], "secret_env": "FLEET_SECRET"}
        if fmt == "toml":
            for i in range(n):
                e = entry(i)
                f.write(f'[[apps]]\nname = "{e["name"]}"\ntenant = "{e["tenant"]}"\n'
                        f'client_id = "{e["client_id"]}"\nscopes = ["{app["scope"]}"]\n'
                        f'probe = "{e["probe"]}"\nsecret_env = "FLEET_SECRET"\n\n')
        elif fmt == "jsonl":
            for i in range(n):
                f.write(json.dumps(entry(i)) + "\n")
        else:
            f.write('{"apps": [\n')
            f.write(",\n".join(json.dumps(entry(i)) for i in range(n)))
            f.write("\n]}\n")
    cmds.append({"name": f"doctor --fleet ({n} apps)",
                 "argv": [bin_, "doctor", "--fleet", path, "--concurrency", conc, "-o", "json",
                          "--authority-host", doc["authority_host"]],
                 "env": {"FLEET_SECRET": app["secret"]}, "apps": n})
# One untimed warm-up round only when there are several runs: a 100,000-app round is long.
json.dump({"runs": runs, "warmup": 1 if runs > 1 else 0, "commands": cmds}, sys.stdout)
PY

echo "entra-doctor $("$BIN" --version | cut -d' ' -f2), concurrency $CONCURRENCY, $FORMAT fleet" \
  "file, $(nproc) CPU(s)"
python3 tests/benches/bench_measure.py --json <"$WORK/spec.json" >"$WORK/result.json"
python3 - "$WORK" <<'PY'
import json, sys
work = sys.argv[1]
spec = json.load(open(f"{work}/spec.json"))
result = json.load(open(f"{work}/result.json"))
print(f"{result['runs']} run(s) each; fresh process per run")
print(f"{'fleet':<30} {'median ms':>10} {'apps/s':>8} {'ms/app':>7} {'peak RSS MiB':>13}")
rows = list(zip(spec["commands"], result["rows"]))
for cmd, row in rows:
    per_s = cmd["apps"] / (row["median_ms"] / 1000.0)
    print(f"{row['name']:<30} {row['median_ms']:>10.0f} {per_s:>8.0f} "
          f"{row['median_ms'] / cmd['apps']:>7.3f} {row['peak_rss_mib']:>13.1f}")
if len(rows) > 1:
    (small, s_row), (large, l_row) = rows[0], rows[-1]
    scale = large["apps"] / small["apps"]
    ratio = l_row["median_ms"] / s_row["median_ms"] / scale
    print(f"linearity: time({large['apps']})/time({small['apps']})/{scale:g} = {ratio:.2f} "
          f"(1.00 = linear)")
PY
