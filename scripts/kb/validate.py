#!/usr/bin/env python3
"""Checks data/ against the schema in data/README.md: every file parses, only
known keys, required keys present, builds unique across the KB, dates
non-decreasing within a release file, versions match the branch, advisories'
fixed builds exist as releases (warning), every record has sources.

Usage: python3 scripts/kb/validate.py [DATA_DIR]   (exit 1 on errors)
"""
import re
import sys
import tomllib
from pathlib import Path

DATA = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent.parent / "data"
errors, warnings = [], []
KINDS = {"ga", "update", "patch", "express-patch", "security-only"}
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def err(m):
    errors.append(m)


def keys(where, d, required, optional):
    for k in required:
        if k not in d:
            err(f"{where}: missing key {k!r}")
    for k in d:
        if k not in required and k not in optional:
            err(f"{where}: unknown key {k!r}")


def strlist(where, d, k, nonempty=False):
    v = d.get(k)
    if v is None:
        return
    if not isinstance(v, list) or not all(isinstance(x, str) and x.strip() for x in v):
        err(f"{where}: {k} must be a list of non-empty strings")
    elif nonempty and not v:
        err(f"{where}: {k} must not be empty")


def date(where, d, k):
    if k in d and not (isinstance(d[k], str) and DATE.match(d[k])):
        err(f"{where}: {k} must be a YYYY-MM-DD string")


def load(p):
    try:
        return tomllib.loads(p.read_text(encoding="utf-8"))
    except Exception as e:  # noqa
        err(f"{p}: {e}")
        return None


builds = {}
for p in sorted((DATA / "releases").glob("*.toml")):
    d = load(p)
    if d is None:
        continue
    keys(str(p), d, ["branch", "release"], [])
    branch = d.get("branch")
    if p.stem != branch:
        err(f"{p}: branch {branch!r} does not match the file name")
    last = None
    for i, r in enumerate(d.get("release", [])):
        w = f"{p.name}[{i}] build {r.get('build')}"
        keys(w, r, ["build", "version", "name", "kind", "date", "sources"],
             ["update", "bulletin", "profiles", "iso", "notes", "order_exception", "withdrawn", "unsourced"])
        b = r.get("build")
        if not isinstance(b, int) or b <= 0:
            err(f"{w}: build must be a positive integer")
        elif b in builds:
            err(f"{w}: duplicate build (also in {builds[b]})")
        else:
            builds[b] = f"{p.name}"
        v = r.get("version", "")
        if not re.match(r"^\d+\.\d+\.\d+$", v) or ".".join(v.split(".")[:2]) != branch:
            err(f"{w}: version {v!r} does not match branch {branch}")
        if r.get("kind") not in KINDS:
            err(f"{w}: kind {r.get('kind')!r}")
        date(w, r, "date")
        strlist(w, r, "sources", True)
        strlist(w, r, "notes")
        strlist(w, r, "profiles")
        if "iso" in r and not isinstance(r["iso"], bool):
            err(f"{w}: iso must be a boolean")
        if "withdrawn" in r and (not isinstance(r["withdrawn"], str) or not r["withdrawn"].strip()):
            err(f"{w}: withdrawn must be a non-empty string (why VMware pulled the release)")
        if "unsourced" in r:
            u = r["unsourced"]
            if not isinstance(u, dict) or not u:
                err(f"{w}: unsourced must be a table naming bulletin and/or profiles")
            else:
                for k, why in u.items():
                    if k not in ("bulletin", "profiles"):
                        err(f"{w}: unknown key unsourced.{k}")
                    elif not isinstance(why, str) or not why.strip():
                        err(f"{w}: unsourced.{k} must be a non-empty reason")
                    elif r.get(k):
                        err(f"{w}: unsourced.{k} given but the record has {k}")
        if branch in ("6.5", "6.7", "7.0", "8.0", "9.0"):
            for k in ("bulletin", "profiles"):
                if not r.get(k) and k not in r.get("unsourced", {}):
                    warnings.append(f"{w}: no {k} and no unsourced.{k} reason")
        if last and r.get("date", "") < last and not r.get("order_exception"):
            err(f"{w}: date {r.get('date')} before the previous record's {last}")
        last = r.get("date", last)
        if r.get("update") is not None and not re.match(r"^\d[a-z]{0,2}$", r["update"]):
            err(f"{w}: update {r['update']!r}")

advisories = 0
for p in sorted((DATA / "advisories").glob("*.toml")):
    d = load(p)
    if d is None:
        continue
    advisories += 1
    keys(str(p), d, ["id", "title", "published", "sources", "cve", "fix"],
         ["workaround_kb", "workaround", "workaround_service"])
    if d.get("id") != p.stem:
        err(f"{p}: id {d.get('id')!r} does not match the file name")
    date(str(p), d, "published")
    strlist(str(p), d, "sources", True)
    for i, c in enumerate(d.get("cve", [])):
        w = f"{p.name} cve[{i}]"
        keys(w, c, ["id", "summary"], ["cvss", "known_exploited"])
        if not re.match(r"^CVE-\d{4}-\d{4,}$", c.get("id", "")):
            err(f"{w}: bad id")
        if "cvss" in c and not (isinstance(c["cvss"], (int, float)) and 0 <= c["cvss"] <= 10):
            err(f"{w}: cvss")
    for i, f in enumerate(d.get("fix", [])):
        w = f"{p.name} fix[{i}] {f.get('branch')}"
        keys(w, f, ["branch"], ["build", "release", "notes", "line"])
        for j, ln in enumerate(f.get("line", [])):
            lw = f"{w} line[{j}]"
            keys(lw, ln, ["version", "build"], ["release"])
            if not str(ln.get("version", "")).startswith(f"{f.get('branch')}."):
                err(f"{lw}: version {ln.get('version')!r} is not of branch {f.get('branch')}")
            if "build" not in f or not isinstance(ln.get("build"), int) or ln["build"] <= f["build"]:
                err(f"{lw}: build must be higher than the fix's build (the branch's lowest fixed build)")
            elif ln["build"] not in builds:
                warnings.append(f"{lw}: fixed build {ln['build']} is not a catalogued release")
        strlist(w, f, "notes")
        if "release" in f and "build" not in f:
            err(f"{w}: release without build")
        if "build" in f:
            if f["build"] not in builds:
                warnings.append(f"{w}: fixed build {f['build']} is not a catalogued release")
            elif builds[f["build"]] != f"{f['branch']}.toml":
                err(f"{w}: fixed build {f['build']} is in {builds[f['build']]}")

p = DATA / "lifecycle.toml"
if p.exists():
    d = load(p) or {}
    keys(str(p), d, ["branch"], ["note"])
    for i, b in enumerate(d.get("branch", [])):
        w = f"lifecycle branch[{i}]"
        keys(w, b, ["branch", "sources"], ["ga", "end_of_general_support", "end_of_technical_guidance", "notes"])
        for k in ("ga", "end_of_general_support", "end_of_technical_guidance"):
            date(w, b, k)
        strlist(w, b, "sources", True)
        strlist(w, b, "notes")
    for i, n in enumerate(d.get("note", [])):
        w = f"lifecycle note[{i}]"
        keys(w, n, ["date", "text", "sources"], ["free_hypervisor"])
        date(w, n, "date")
        strlist(w, n, "sources", True)

p = DATA / "upgrade-paths.toml"
if p.exists():
    d = load(p) or {}
    keys(str(p), d, ["path"], [])
    for i, x in enumerate(d.get("path", [])):
        w = f"upgrade-paths path[{i}]"
        keys(w, x, ["to", "from", "sources"], ["notes"])
        strlist(w, x, "from")
        strlist(w, x, "sources", True)
        strlist(w, x, "notes")

p = DATA / "vm-hardware.toml"
if p.exists():
    d = load(p) or {}
    keys(str(p), d, ["hardware"], [])
    for i, x in enumerate(d.get("hardware", [])):
        w = f"vm-hardware[{i}]"
        keys(w, x, ["version", "first_release", "sources"], ["since", "notes"])
        strlist(w, x, "sources", True)
        if "since" in x:
            keys(w + ".since", x["since"], ["branch", "build"], [])
            if x["since"].get("build") not in builds:
                err(f"{w}: since build {x['since'].get('build')} is not a catalogued release")

for w in warnings:
    print("warning:", w)
for e in errors:
    print("error:", e)
print(f"{len(builds)} releases, {advisories} advisories, {len(errors)} errors, {len(warnings)} warnings")
sys.exit(1 if errors else 0)
