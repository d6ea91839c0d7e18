#!/bin/sh
# testbed/sshd/fake-esxi.sh — the "ESXi host" behind the loopback OpenSSH
# server of the SSH collector tests (crates/esxup/tests/cli_collect.rs).
#
# sshd runs it as ForceCommand: `sh fake-esxi.sh OUTPUTS_DIR`. It answers the
# command the client asked for ($SSH_ORIGINAL_COMMAND) with the saved output
# that OUTPUTS_DIR/commands.map names for it (lines: FILE<TAB>COMMAND).
# Unknown commands fail like a missing binary (status 127, nothing on stdout).
# If OUTPUTS_DIR/SLEEP holds a command line, that command hangs instead
# (for the timeout test), as a host that stops answering would.
# See DROP below for a connection that dies mid-collection.
# If OUTPUTS_DIR/host-state.json exists, a stateful fake host answers instead
# (esxi_host.py: the write commands of `esxup run` too; README.md).
dir="$1"
cmd="$SSH_ORIGINAL_COMMAND"
if [ -f "$dir/SLEEP" ] && [ "$cmd" = "$(cat "$dir/SLEEP")" ]; then
  exec sleep 30
fi
# If OUTPUTS_DIR/DROP holds a command line, the connection dies there: the
# sshd process serving this session is killed, as when a host crashes.
if [ -f "$dir/DROP" ] && [ "$cmd" = "$(cat "$dir/DROP")" ]; then
  kill -9 "$PPID"
  exit 1
fi
if [ -f "$dir/host-state.json" ]; then
  # Imported, not run as a script, so that Python keeps its bytecode in
  # __pycache__ instead of compiling 1,800 lines for every command.
  exec python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import esxi_host; sys.exit(esxi_host.main(sys.argv[1:]))' "$(dirname "$0")" "$dir"
fi
file=$(awk -F '\t' -v c="$cmd" '$2 == c { print $1; exit }' "$dir/commands.map")
if [ -n "$file" ] && [ -f "$dir/$file" ]; then
  exec cat "$dir/$file"
fi
echo "sh: $cmd: not found" >&2
exit 127
