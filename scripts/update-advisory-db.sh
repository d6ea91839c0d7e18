#!/usr/bin/env bash
# scripts/update-advisory-db.sh — regenerate the vendored RustSec advisory
# snapshot in supply-chain/advisory-db/ from a full copy of
# github.com/rustsec/advisory-db.
#
#   scripts/update-advisory-db.sh PATH
#
# PATH is a clone of the advisory database, with a work tree or bare: its
# HEAD commit is read (git archive), never changed.
#
# What is kept (the rest of the database is not needed to check this repo):
# every advisory under crates/NAME/ for each crate NAME that appears in
# Cargo.lock or fuzz/Cargo.lock, verbatim; the database's licence files; the
# list of crate names that were looked up (crates.txt: scripts/supply-chain.sh
# refuses a Cargo.lock naming a crate that is not in it, so a new dependency
# cannot slip past an old snapshot); and SNAPSHOT (commit and commit date,
# which the staleness check uses). README.md in that folder is hand-written and
# kept; its commit/date lines are rewritten.
#
# Run it whenever Cargo.lock gains a crate, and at least every few months (the
# check refuses a snapshot older than deny.toml's maximum-db-staleness).
set -euo pipefail
cd "$(dirname "$0")/.."

src=${1:?usage: scripts/update-advisory-db.sh PATH-TO-ADVISORY-DB-CLONE}
out=supply-chain/advisory-db

g=(git -C "$src")
commit=$("${g[@]}" rev-parse HEAD) || { echo "update-advisory-db: $src is not a git clone" >&2; exit 2; }
date=$("${g[@]}" show -s --format=%cI HEAD)
"${g[@]}" cat-file -e "HEAD:crates" 2>/dev/null \
  || { echo "update-advisory-db: $src HEAD has no crates/ directory: not the advisory database?" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"${g[@]}" archive --format=tar HEAD crates LICENSE.txt LICENSES | tar -x -C "$tmp"

# Crate names of every lock file in the repo (the workspace and the fuzz
# workspace), sorted and unique.
cat Cargo.lock fuzz/Cargo.lock | sed -n 's/^name = "\(.*\)"$/\1/p' | LC_ALL=C sort -u >"$tmp/crates.txt"

rm -rf "$out/crates" "$out/LICENSES"
mkdir -p "$out/crates"
kept=0
while read -r name; do
  if [ -d "$tmp/crates/$name" ]; then
    mkdir -p "$out/crates/$name"
    for f in "$tmp/crates/$name"/*.md; do
      cp "$f" "$out/crates/$name/"
      kept=$((kept + 1))
    done
  fi
done <"$tmp/crates.txt"
cp "$tmp/crates.txt" "$out/crates.txt"
cp "$tmp/LICENSE.txt" "$out/LICENSE.txt"
cp -r "$tmp/LICENSES" "$out/LICENSES"
printf 'commit=%s\ndate=%s\n' "$commit" "$date" >"$out/SNAPSHOT"
if [ -f "$out/README.md" ]; then
  sed -i -e "s|^- Commit: .*|- Commit: \`$commit\`|" -e "s|^- Commit date: .*|- Commit date: $date|" "$out/README.md"
fi
total=$(find "$tmp/crates" -name '*.md' | wc -l)
echo "update-advisory-db: $commit ($date): kept $kept of $total advisories," \
  "for $(find "$out/crates" -mindepth 1 -maxdepth 1 -type d | wc -l) of the $(wc -l <"$out/crates.txt") crate names in the lock files" >&2
