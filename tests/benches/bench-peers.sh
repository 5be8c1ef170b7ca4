#!/usr/bin/env bash
# Side by side: entra-doctor against the peers an operator would otherwise use, on the embedded
# demo tenant (loopback, so the network is not what is measured).
#
#   token:  `entra-doctor token --raw` (cache off: in memory only, --force-refresh)
#           vs `curl` doing the same POST (the floor: one HTTP round trip)
#           vs MSAL Python `acquire_token_for_client` in a fresh process (https, as MSAL needs)
#   decode: `entra-doctor decode -` vs jwt-cli 6.2 `jwt decode -` (the Rust peer, same token)
#           vs PyJWT `jwt.decode(..., verify_signature=False)`
#
# Every command runs in a fresh process, interleaved round by round; the script prints the median
# wall time, the peak RSS (GNU time's %M) and each median's ratio to its peer, then the two ratios
# issue 17 sets targets for: decode / jwt-cli (at most 1.0) and token / curl (at most 1.2).
#
# usage: tests/benches/bench-peers.sh [RUNS]     (default 21; env: ENTRA_DOCTOR_BIN, BENCH_VENV)
# needs: python3 (with venv), curl, GNU time (/usr/bin/time), cargo; MSAL and PyJWT are installed
# from PyPI into a local venv (target/bench-venv), jwt-cli with cargo into target/bench-tools.
set -euo pipefail
cd "$(dirname "$0")/../.."

RUNS="${1:-21}"
TARGET="${CARGO_TARGET_DIR:-target}"
BIN="${ENTRA_DOCTOR_BIN:-}"
if [ -z "$BIN" ]; then
  cargo build --release --locked --quiet
  BIN="$TARGET/release/entra-doctor"
fi
VENV="${BENCH_VENV:-$TARGET/bench-venv}"
if ! "$VENV/bin/python" -c 'import msal, jwt' 2>/dev/null; then
  echo "==> installing msal and PyJWT into $VENV" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check msal pyjwt
fi

JWT_CLI="$TARGET/bench-tools/bin/jwt"
if ! [ -x "$JWT_CLI" ]; then
  echo "==> installing jwt-cli 6.2.0 into $TARGET/bench-tools" >&2
  cargo install jwt-cli --version 6.2.0 --locked --quiet --root "$TARGET/bench-tools"
fi

WORK="$(mktemp -d)"
chmod 700 "$WORK"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

# Two demo tenants: plain http on loopback (entra-doctor, which trusts only public roots, and
# curl), and https with a generated CA (MSAL refuses http authorities; curl again, for its ratio).
"$BIN" demo --serve --output json >"$WORK/http.json" 2>"$WORK/http.err" &
PIDS+=($!)
"$BIN" demo --serve --tls --output json >"$WORK/tls.json" 2>"$WORK/tls.err" &
PIDS+=($!)
for _ in $(seq 100); do
  [ -s "$WORK/http.json" ] && [ -s "$WORK/tls.json" ] && break
  sleep 0.1
done
[ -s "$WORK/http.json" ] && [ -s "$WORK/tls.json" ] || { cat "$WORK"/*.err >&2; exit 1; }

echo "entra-doctor $("$BIN" --version | cut -d' ' -f2), $(curl --version | head -1 | cut -d' ' -f1-2)," \
  "msal $("$VENV/bin/python" -c 'import msal; print(msal.__version__)')," \
  "PyJWT $("$VENV/bin/python" -c 'import jwt; print(jwt.__version__)'), $("$JWT_CLI" --version)," \
  "$(uname -sm), $(nproc) CPU(s)"

python3 - "$WORK" "$BIN" "$VENV/bin/python" "$RUNS" "$JWT_CLI" <<'PY' | python3 tests/benches/bench_measure.py
import json, os, subprocess, sys
work, bin_, py, runs, jwt_cli = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
docs = {k: json.load(open(f"{work}/{k}.json")) for k in ("http", "tls")}
def healthy(doc):
    return next(a for a in doc["apps"] if a["scenario"] == "healthy")
cmds = []
for kind, doc in docs.items():
    app = healthy(doc)
    # curl reads the secret from a file (mode 0600 in a 0700 folder), never from its argv.
    secret_file = f"{work}/{kind}.secret"
    with open(os.open(secret_file, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
        f.write(app["secret"])
    label = "https" if doc["ca_file"] else "http"
    cmds.append({"name": f"curl POST ({label})", "argv": [
        "curl", "-sS", "--fail", "-o", "/dev/null", "-X", "POST", doc["token_endpoint"],
        *(["--cacert", doc["ca_file"]] if doc["ca_file"] else []),
        "--data-urlencode", "grant_type=client_credentials",
        "--data-urlencode", f"client_id={app['client_id']}",
        "--data-urlencode", f"scope={app['scope']}",
        "--data-urlencode", f"client_secret@{secret_file}"]})
http, tls = docs["http"], docs["tls"]
app = healthy(http)
token_args = ["token", "--raw", "--force-refresh", "--authority-host", http["authority_host"],
              "--tenant", http["tenant_id"], "--client-id", app["client_id"], "--scope", app["scope"]]
secret_env = {"AZURE_CLIENT_SECRET": app["secret"]}
cmds.insert(1, {"name": "entra-doctor token --raw (http)", "argv": [bin_, *token_args],
                "env": secret_env, "vs": "curl POST (http)"})
tapp = healthy(tls)
msal = (
    "import os, sys, msal\n"
    "app = msal.ConfidentialClientApplication(os.environ['CID'], client_credential=os.environ['SECRET'],"
    " authority=os.environ['AUTHORITY'], instance_discovery=False)\n"
    "r = app.acquire_token_for_client(scopes=[os.environ['SCOPE']])\n"
    "sys.exit(0 if 'access_token' in r else r.get('error_description', 'no token'))\n")
cmds.append({"name": "MSAL acquire_token_for_client (https)", "argv": [py, "-c", msal],
             "env": {"CID": tapp["client_id"], "SECRET": tapp["secret"], "SCOPE": tapp["scope"],
                     "AUTHORITY": f"{tls['authority_host']}/{tls['tenant_id']}",
                     "REQUESTS_CA_BUNDLE": tls["ca_file"]},
             "vs": "curl POST (https)"})
token = subprocess.run([bin_, *token_args], env={**os.environ, **secret_env}, check=True,
                       capture_output=True, text=True).stdout.strip()
cmds.append({"name": "jwt-cli 6.2 decode -", "argv": [jwt_cli, "decode", "-"], "stdin": token})
cmds.append({"name": "entra-doctor decode -", "argv": [bin_, "decode", "-"], "stdin": token,
             "vs": "jwt-cli 6.2 decode -"})
pyjwt = ("import sys, jwt\n"
         "jwt.decode(sys.stdin.read().strip(), options={'verify_signature': False})\n")
cmds.append({"name": "PyJWT decode (no verify)", "argv": [py, "-c", pyjwt], "stdin": token,
             "vs": "entra-doctor decode -"})
# The two ratios issue 17 sets targets for, printed last.
targets = [
    {"label": "decode / jwt-cli", "name": "entra-doctor decode -", "vs": "jwt-cli 6.2 decode -",
     "target": 1.0},
    {"label": "token / curl", "name": "entra-doctor token --raw (http)", "vs": "curl POST (http)",
     "target": 1.2},
]
json.dump({"runs": runs, "warmup": 2, "commands": cmds, "targets": targets}, sys.stdout)
PY
