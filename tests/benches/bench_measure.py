#!/usr/bin/env python3
"""Runs commands interleaved, each in a fresh process, and reports median wall time and peak RSS.

Used by tests/benches/bench-peers.sh and tests/benches/bench-fleet.sh. Reads a JSON spec on stdin:
  {"runs": N, "warmup": W, "baseline": "curl", "commands": [
     {"name": "...", "argv": [...], "env": {...}, "stdin": "...", "vs": "<name>"}, ...]}
A command's ratio is its median over the median of the command named in its "vs". Optional
"targets": [{"label": "...", "name": "<name>", "vs": "<name>", "target": 1.2}, ...] are printed
last, one line each: the ratio of the two medians and whether it meets its target.
Each round runs every command once, in order (so a noisy moment hits all of them alike). Wall
time is measured around spawn-to-exit (through /usr/bin/time, the same small cost for every
command); peak RSS is GNU time's %M, the command's own high-water mark. A command that exits non-zero fails the benchmark:
a fast failure is not a result. Prints a table; with --json, one JSON document instead.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time


def run_once(cmd, rss_file):
    env = dict(os.environ)
    env.update(cmd.get("env", {}))
    data = cmd.get("stdin")
    # GNU time reports the peak RSS: a child forked from Python would inherit Python's
    # high-water mark across exec, so wait4 here would report Python's, not the command's.
    argv = ["/usr/bin/time", "-f", "%M", "-o", rss_file, *cmd["argv"]]
    started = time.perf_counter()
    proc = subprocess.run(argv, input=(data or "").encode(), stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, env=env, check=False)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        err = proc.stderr.decode(errors="replace").strip()[:500]
        sys.exit(f"{cmd['name']} failed with exit code {proc.returncode}: {err}")
    with open(rss_file) as f:
        kib = int(f.read().split()[-1])
    return wall * 1000.0, kib / 1024.0  # ms, MiB


def main():
    spec = json.load(sys.stdin)
    runs, warmup = spec.get("runs", 21), spec.get("warmup", 2)
    cmds = spec["commands"]
    samples = {c["name"]: [] for c in cmds}
    rss_file = tempfile.mkstemp(prefix="bench-rss-")[1]
    for round_no in range(warmup + runs):
        for cmd in cmds:
            result = run_once(cmd, rss_file)
            if round_no >= warmup:
                samples[cmd["name"]].append(result)
    os.remove(rss_file)
    rows = []
    for cmd in cmds:
        walls = [w for w, _ in samples[cmd["name"]]]
        rss = [r for _, r in samples[cmd["name"]]]
        rows.append({
            "name": cmd["name"],
            "median_ms": statistics.median(walls),
            "min_ms": min(walls),
            "peak_rss_mib": max(rss),
        })
    medians = {r["name"]: r["median_ms"] for r in rows}
    for row, cmd in zip(rows, cmds):
        base = medians.get(cmd.get("vs", ""))
        row["vs"] = cmd.get("vs", "")
        row["ratio"] = row["median_ms"] / base if base else None
    checks = []
    for target in spec.get("targets", []):
        ratio = medians[target["name"]] / medians[target["vs"]]
        checks.append({**target, "ratio": ratio, "met": ratio <= target["target"]})
    if "--json" in sys.argv:
        print(json.dumps({"runs": runs, "rows": rows, "targets": checks}))
        return
    print(f"{runs} interleaved runs each (after {warmup} warm-up rounds); fresh process per run")
    print(f"{'command':<40} {'median ms':>10} {'min ms':>8} {'peak RSS MiB':>13}  ratio")
    for row in rows:
        ratio = f"{row['ratio']:.2f}x {row['vs']}" if row["ratio"] else ""
        print(f"{row['name']:<40} {row['median_ms']:>10.2f} {row['min_ms']:>8.2f} "
              f"{row['peak_rss_mib']:>13.1f}  {ratio}")
    if checks:
        print()
    for check in checks:
        verdict = "met" if check["met"] else "NOT met"
        print(f"{check['label']:<18} {check['ratio']:.2f}x  (target at most "
              f"{check['target']:.1f}x: {verdict})")


if __name__ == "__main__":
    main()
