#!/usr/bin/env bash
# The demo tenant under a flood of idle connections (issue 14): N connections to
# `entra-doctor demo --serve` on loopback that never send a byte, as half-open ones look to the
# server. Prints the server's RSS before, with the connections open, after the server's own
# timeouts, and after the client closed them; and whether a real request is answered meanwhile.
#
# Bounded: loopback only, at most N connections (default 20000), every wait has a deadline, and
# the server is stopped at the end (or on any exit).
#
# usage: tests/benches/bench-demo-flood.sh [N]     (env: ENTRA_DOCTOR_BIN)
# needs: python3, an open-files limit of 10,100 or more (ulimit -n): the connections are held by
# client processes of at most 10,000 each
set -euo pipefail
cd "$(dirname "$0")/../.."

N="${1:-20000}"
TARGET="${CARGO_TARGET_DIR:-target}"
BIN="${ENTRA_DOCTOR_BIN:-}"
if [ -z "$BIN" ]; then
  cargo build --release --locked --quiet
  BIN="$TARGET/release/entra-doctor"
fi
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 10100 ]; then
  ulimit -n 10100 2>/dev/null || {
    echo "error: the open-files limit $(ulimit -n) is below 10,100; raise it" >&2
    exit 2
  }
fi

WORK="$(mktemp -d)"
chmod 700 "$WORK"
SERVER=""
cleanup() {
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

"$BIN" demo --serve --output json >"$WORK/serve.json" 2>"$WORK/serve.err" &
SERVER=$!
for _ in $(seq 100); do
  [ -s "$WORK/serve.json" ] && break
  sleep 0.1
done
[ -s "$WORK/serve.json" ] || { cat "$WORK/serve.err" >&2; exit 1; }

timeout 600 python3 - "$WORK/serve.json" "$SERVER" "$N" <<'PY'
import json, os, socket, sys, time, urllib.request

serve, pid, n = json.load(open(sys.argv[1])), int(sys.argv[2]), int(sys.argv[3])
host = serve["authority_host"]
port = int(host.rsplit(":", 1)[1])
url = f"{host}/{serve['tenant_id']}/v2.0/.well-known/openid-configuration"
PER_CLIENT = 10_000

def rss_mib():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")

def served():
    """Whether a real request is answered within 5 s, and in how many ms."""
    started = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            ok = answer.status == 200 and b"token_endpoint" in answer.read()
    except Exception as e:  # a timeout, a reset: not served
        return f"no ({type(e).__name__})"
    return f"{'yes' if ok else 'no'} ({(time.monotonic() - started) * 1000:.0f} ms)"

def server_sockets():
    """The server's open sockets (the listener and its connections)."""
    count = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            count += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
        except OSError:
            pass
    return count

def still_open(socks):
    """How many sockets the server has not closed (no EOF, no reset)."""
    alive = 0
    for s in socks:
        try:
            alive += s.recv(1, socket.MSG_PEEK) != b""
        except BlockingIOError:
            alive += 1
        except OSError:
            pass
    return alive

def client(count, commands, answers):
    """A child holding `count` idle connections; answers 'open' counts until told 'close'."""
    lines = os.fdopen(commands)
    lines.readline()  # "connect"
    socks, refused = [], 0
    for _ in range(count):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        except OSError:
            refused += 1
            s.close()
            continue
        socks.append(s)
    os.write(answers, f"{len(socks)} {refused}\n".encode())
    for line in lines:
        if line.strip() == "open":
            os.write(answers, f"{still_open(socks)}\n".encode())
        else:
            break
    for s in socks:
        s.close()
    os.write(answers, b"closed\n")
    os._exit(0)

children = []
for start in range(0, n, PER_CLIENT):
    answers, from_child = os.pipe()
    commands, to_child = os.pipe()
    if os.fork() == 0:
        os.close(to_child); os.close(answers)
        client(min(PER_CLIENT, n - start), commands, from_child)
    os.close(commands); os.close(from_child)
    children.append((os.fdopen(to_child, "w", buffering=1), os.fdopen(answers)))

def ask(what):
    for to, _ in children:
        to.write(what + "\n")
    return [fr.readline().split() for _, fr in children]

print(f"demo tenant pid {pid}; {n} idle connections (never a byte sent)")
print(f"{'when':<40} {'RSS MiB':>8}  {'a request served':<18} {'server sockets':>14}  client sees open")
warm = served()  # the first request builds what later ones reuse
print(f"{'before (after one request)':<40} {rss_mib():8.1f}  {served():<18} {server_sockets():>14}  -")
made = ask("connect")
connected = sum(int(m[0]) for m in made)
refused = sum(int(m[1]) for m in made)
time.sleep(2)  # let the server accept what it will
alive = sum(int(a[0]) for a in ask("open"))
print(f"{'with the connections open':<40} {rss_mib():8.1f}  {served():<18} {server_sockets():>14}  {alive} of {connected} ({refused} refused)")
time.sleep(12)  # past the header-read timeout (10 s)
alive = sum(int(a[0]) for a in ask("open"))
print(f"{'12 s later, still open on the client':<40} {rss_mib():8.1f}  {served():<18} {server_sockets():>14}  {alive}")
ask("close")
for _ in children:
    os.wait()
time.sleep(2)
print(f"{'after the client closed them':<40} {rss_mib():8.1f}  {served():<18} {server_sockets():>14}  -")
PY
