#!/usr/bin/env python3
"""pyVmomi peer of `esxup collect --inventory FILE --out-dir DIR --concurrency N`
(scripts/bench-collect.sh, the fleet case).

Reads the same TOML inventory (`[defaults]` user / password_env, `[[vcenter]]`
and `[[host]]` with url, thumbprint and optional user / password_env / name)
and collects every entry with pyvmomi_collect.collect(), writing one JSON
summary per entry into OUT_DIR (`<n>-<label>.json`). `--concurrency 1` (the
default) goes through the entries one after the other, the plain way a script
would; a larger N uses a concurrent.futures.ThreadPoolExecutor with N
workers. A failed entry is reported on stderr and the others go on.
Exit status as esxup's: 0 every entry collected, 1 some failed, 2 none.

usage: pyvmomi_fleet.py FLEET.toml OUT_DIR [--concurrency N]
"""
import argparse
import os
import re
import sys
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlparse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pyvmomi_collect import collect, write  # noqa: E402


def targets(path):
    """The inventory's entries, each with its user, password and thumbprint resolved."""
    with open(path, "rb") as f:
        inv = tomllib.load(f)
    d = inv.get("defaults", {})
    out = []
    for entry in inv.get("vcenter", []) + inv.get("host", []):
        url = entry["url"] if "://" in entry["url"] else "https://" + entry["url"]
        var = entry.get("password_env", d.get("password_env", "ESXUP_PASSWORD"))
        out.append({
            "label": entry.get("name") or urlparse(url).hostname,
            "url": url,
            "user": entry.get("user", d.get("user")),
            "password": os.environ[var],
            "thumbprint": entry.get("thumbprint", ""),
        })
    return out


def run_one(i, t, out_dir):
    t0 = time.monotonic()
    records = collect(t["url"], t["user"], t["thumbprint"], t["password"])
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", t["label"])
    write(records, os.path.join(out_dir, f"{i + 1}-{stem}.json"))
    return len(records), sum(len(h["vms"]) for h in records), time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("inventory")
    ap.add_argument("out_dir")
    ap.add_argument("--concurrency", type=int, default=1)
    a = ap.parse_args()
    ts = targets(a.inventory)
    os.makedirs(a.out_dir, exist_ok=True)
    results = [None] * len(ts)
    if a.concurrency <= 1:
        for i, t in enumerate(ts):
            try:
                results[i] = run_one(i, t, a.out_dir)
            except Exception as e:  # one failed vCenter does not stop the others
                results[i] = e
    else:
        with ThreadPoolExecutor(max_workers=a.concurrency) as pool:
            futures = [pool.submit(run_one, i, t, a.out_dir) for i, t in enumerate(ts)]
            for i, f in enumerate(futures):
                try:
                    results[i] = f.result()
                except Exception as e:
                    results[i] = e
    hosts = vms = failed = 0
    for t, r in zip(ts, results):
        if isinstance(r, Exception):
            failed += 1
            print(f"pyvmomi: {t['label']} ({t['url']}): FAILED: {r!r}", file=sys.stderr)
        else:
            hosts += r[0]
            vms += r[1]
            print(f"pyvmomi: {t['label']} ({t['url']}): {r[0]} hosts, {r[1]} VMs in {r[2]:.3f} s", file=sys.stderr)
    print(f"pyvmomi: {hosts} hosts, {vms} VMs from {len(ts) - failed} of {len(ts)} targets "
          f"(concurrency {a.concurrency})", file=sys.stderr)
    sys.exit(2 if hosts == 0 else 1 if failed else 0)


if __name__ == "__main__":
    main()
