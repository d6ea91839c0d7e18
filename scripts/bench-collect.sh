#!/usr/bin/env bash
# scripts/bench-collect.sh — benchmark of the vSphere inventory collection
# (issue 3, "Performance"). Not a test: prints a table, asserts nothing.
#
# Starts the govmomi simulator harness (testbed/vcsim) as a vCenter with
# HOSTS hosts and VMS VMs, then times, side by side on the same simulator:
#   esxup    esxup collect --host URL --out-dir DIR (release build; full facts,
#            one JSON file per host)
#   pyvmomi  scripts/bench/pyvmomi_collect.py: the same properties through the
#            same ContainerView + RetrievePropertiesEx, one JSON summary
#   curl-rsc one raw SOAP round trip (RetrieveServiceContent): the floor
#   curl-all the raw SOAP requests of the retrieval (Login, CreateContainerView,
#            RetrievePropertiesEx) with curl, no parsing: the transfer floor
# Then the fleet case (issue 14), in the same run: FLEET_VCENTERS simulator
# vCenters at once, each with FLEET_HOSTS hosts and FLEET_VMS VMs, its own
# port and certificate, all in one inventory (fleet.toml: [defaults] user and
# password_env, one [[vcenter]] with url and thumbprint each):
#   esxup -c 1    esxup collect --inventory fleet.toml --out-dir DIR --concurrency 1
#   esxup -c N    the same with --concurrency N, N = FLEET_VCENTERS
#   pyvmomi ser.  scripts/bench/pyvmomi_fleet.py: the per-vCenter collection
#                 of pyvmomi_collect.py, one vCenter after the other
#   pyvmomi pool  the same with a ThreadPoolExecutor of N workers
# FLEET_VCENTERS=0 skips the fleet case.
# Wall time is measured around the command (date +%s%N), peak RSS comes from
# /usr/bin/time -v (maximum resident set size); each tool runs RUNS times,
# the best wall time and the largest peak RSS are reported.
#
# usage: scripts/bench-collect.sh [HOSTS] [VMS] [RUNS] [FLEET_VCENTERS] [FLEET_HOSTS] [FLEET_VMS]
#        (default 50 1000 3 4 12 250; the fleet sizes also from the environment)
set -euo pipefail
cd "$(dirname "$0")/.."
HOSTS=${1:-50}
VMS=${2:-1000}
RUNS=${3:-3}
FLEET_VCENTERS=${4:-${FLEET_VCENTERS:-4}}
FLEET_HOSTS=${5:-${FLEET_HOSTS:-12}}
FLEET_VMS=${6:-${FLEET_VMS:-250}}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
VENV=/tmp/esxup-bench-venv
WORK=$(mktemp -d /tmp/esxup-bench.XXXXXX)
SIM_PIDS=()
cleanup() {
  exec 9>&- 2>/dev/null || true
  local fd pid
  for fd in "${FLEET_FDS[@]:-}"; do [ -n "$fd" ] && eval "exec $fd>&-" 2>/dev/null; done
  for pid in "${SIM_PIDS[@]:-}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null; done
  rm -rf "$WORK"
}
trap cleanup EXIT

command -v /usr/bin/time >/dev/null || { echo "bench: installing time" >&2; apt-get install -y -qq time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }; }
bash testbed/vcsim/build.sh
echo "bench: building esxup (release)" >&2
cargo build --release -q -p esxup
ESXUP="$CARGO_TARGET_DIR/release/esxup"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import pyVmomi' 2>/dev/null; then
  echo "bench: installing pyvmomi into $VENV" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q pyvmomi
fi
PYVMOMI_VERSION=$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("pyvmomi"))')

# The simulator lives as long as fd 9 (its stdin) stays open.
mkfifo "$WORK/sim.in"
testbed/vcsim/bin/esxup-vcsim -mode vpx -hosts "$HOSTS" -vms "$VMS" -snapshot-every 10 \
  -user root -password esxup-bench <"$WORK/sim.in" >"$WORK/sim.out" 2>"$WORK/sim.err" &
SIM_PIDS+=($!)
exec 9>"$WORK/sim.in"
# The fleet's simulators, started at the same time; each lives as long as
# its own fd (FLEET_FDS) stays open.
FLEET_FDS=()
for i in $(seq "$FLEET_VCENTERS"); do
  mkfifo "$WORK/fleet$i.in"
  testbed/vcsim/bin/esxup-vcsim -mode vpx -hosts "$FLEET_HOSTS" -vms "$FLEET_VMS" -snapshot-every 10 \
    -user root -password esxup-bench <"$WORK/fleet$i.in" >"$WORK/fleet$i.out" 2>"$WORK/fleet$i.err" &
  SIM_PIDS+=($!)
  exec {fd}>"$WORK/fleet$i.in"
  FLEET_FDS+=("$fd")
done
wait_banner() { # OUT ERR: waits up to 60 s for the simulator's JSON line
  for _ in $(seq 600); do [ -s "$1" ] && return 0; sleep 0.1; done
  echo "bench: simulator did not start" >&2; cat "$2" >&2; exit 2
}
field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$BANNER" "$1"; }
wait_banner "$WORK/sim.out" "$WORK/sim.err"
BANNER=$(head -1 "$WORK/sim.out")
URL=$(field url); TP=$(field thumbprint); NH=$(field hosts); NV=$(field vms)
export ESXUP_PASSWORD=esxup-bench
echo "bench: simulator $URL with $NH hosts, $NV VMs" >&2
# The fleet inventory (format: crates/esxup-collect/src/inventory.rs).
printf '[defaults]\nuser = "root"\npassword_env = "ESXUP_PASSWORD"\n' >"$WORK/fleet.toml"
FLEET_NH=0; FLEET_NV=0
for i in $(seq "$FLEET_VCENTERS"); do
  wait_banner "$WORK/fleet$i.out" "$WORK/fleet$i.err"
  BANNER=$(head -1 "$WORK/fleet$i.out")
  printf '\n[[vcenter]]\nname = "vc%s"\nurl = "%s"\nthumbprint = "%s"\n' "$i" "$(field url)" "$(field thumbprint)" >>"$WORK/fleet.toml"
  FLEET_NH=$((FLEET_NH + $(field hosts))); FLEET_NV=$((FLEET_NV + $(field vms)))
  echo "bench: fleet simulator vc$i $(field url) with $(field hosts) hosts, $(field vms) VMs" >&2
done

# Raw SOAP bodies for curl.
ENV_OPEN='<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>'
ENV_CLOSE='</soapenv:Body></soapenv:Envelope>'
echo "$ENV_OPEN<RetrieveServiceContent xmlns=\"urn:vim25\"><_this type=\"ServiceInstance\">ServiceInstance</_this></RetrieveServiceContent>$ENV_CLOSE" >"$WORK/rsc.xml"
paths() { for p in "$@"; do printf '<pathSet>%s</pathSet>' "$p"; done; }
# Keep in step with crates/esxup-collect/src/vim.rs.
HOSTP=$(paths name summary.config.product config.product summary.hardware.cpuModel hardware.cpuInfo hardware.cpuFeature hardware.memorySize hardware.pciDevice config.network.pnic config.network.vnic config.network.vswitch config.network.portgroup config.network.proxySwitch config.storageDevice.hostBusAdapter config.service config.firewall runtime.inMaintenanceMode runtime.connectionState datastore capability hardware.systemInfo hardware.biosInfo)
VMP=$(paths name runtime.host runtime.powerState config.version config.guestId config.template guest.toolsVersionStatus2 guest.toolsVersion snapshot summary.config.vmPathName)
DSP=$(paths summary.name summary.type summary.capacity summary.freeSpace info)
cat >"$WORK/curl-all.sh" <<CURL
#!/usr/bin/env bash
set -euo pipefail
c() { curl -s --fail-with-body -k -b "$WORK/jar" -c "$WORK/jar" -H 'Content-Type: text/xml' -H 'SOAPAction: urn:vim25/6.5' --data-binary @- "$URL"; }
: >"$WORK/jar"
sc=\$(c <"$WORK/rsc.xml")
sm=\$(echo "\$sc" | sed -n 's/.*<sessionManager type="SessionManager">\([^<]*\)<.*/\1/p')
vmgr=\$(echo "\$sc" | sed -n 's/.*<viewManager type="ViewManager">\([^<]*\)<.*/\1/p')
root=\$(echo "\$sc" | sed -n 's/.*<rootFolder type="Folder">\([^<]*\)<.*/\1/p')
pc=\$(echo "\$sc" | sed -n 's/.*<propertyCollector type="PropertyCollector">\([^<]*\)<.*/\1/p')
echo '$ENV_OPEN<Login xmlns="urn:vim25"><_this type="SessionManager">'"\$sm"'</_this><userName>root</userName><password>esxup-bench</password></Login>$ENV_CLOSE' | c >/dev/null
view=\$(echo '$ENV_OPEN<CreateContainerView xmlns="urn:vim25"><_this type="ViewManager">'"\$vmgr"'</_this><container type="Folder">'"\$root"'</container><type>HostSystem</type><type>VirtualMachine</type><type>Datastore</type><recursive>true</recursive></CreateContainerView>$ENV_CLOSE' | c | sed -n 's/.*<returnval type="ContainerView">\([^<]*\)<.*/\1/p')
echo '$ENV_OPEN<RetrievePropertiesEx xmlns="urn:vim25"><_this type="PropertyCollector">'"\$pc"'</_this><specSet><propSet><type>HostSystem</type><all>false</all>$HOSTP</propSet><propSet><type>VirtualMachine</type><all>false</all>$VMP</propSet><propSet><type>Datastore</type><all>false</all>$DSP</propSet><objectSet><obj type="ContainerView">'"\$view"'</obj><skip>true</skip><selectSet xsi:type="TraversalSpec"><name>view</name><type>ContainerView</type><path>view</path><skip>false</skip></selectSet></objectSet></specSet><options><maxObjects>500</maxObjects></options></RetrievePropertiesEx>$ENV_CLOSE' | c >"$WORK/curl-all.out"
CURL
chmod +x "$WORK/curl-all.sh"

declare -A CMD
CMD[esxup]="$ESXUP collect --host $URL --user root --thumbprint $TP --out-dir $WORK/esxup-out"
CMD[pyvmomi]="$VENV/bin/python scripts/bench/pyvmomi_collect.py $URL root $TP $WORK/pyvmomi.json"
CMD[curl-rsc]="curl -s -k -o /dev/null -H Content-Type:text/xml -H SOAPAction:urn:vim25/6.5 --data-binary @$WORK/rsc.xml $URL"
CMD[curl-all]="$WORK/curl-all.sh"
N=$FLEET_VCENTERS
CMD[fleet-esxup-1]="$ESXUP collect --inventory $WORK/fleet.toml --out-dir $WORK/fleet-out --concurrency 1"
CMD[fleet-esxup-N]="$ESXUP collect --inventory $WORK/fleet.toml --out-dir $WORK/fleet-out --concurrency $N"
CMD[fleet-pyvmomi-1]="$VENV/bin/python scripts/bench/pyvmomi_fleet.py $WORK/fleet.toml $WORK/fleet-out --concurrency 1"
CMD[fleet-pyvmomi-N]="$VENV/bin/python scripts/bench/pyvmomi_fleet.py $WORK/fleet.toml $WORK/fleet-out --concurrency $N"

declare -A BEST RSS
files=0; fleet_files=0
measure() { # NAME: runs ${CMD[NAME]} RUNS times, keeps the best wall time and the largest peak RSS
  local name=$1 run t0 t1 w r
  for run in $(seq "$RUNS"); do
    rm -rf "$WORK/esxup-out" "$WORK/fleet-out"
    t0=$(date +%s%N)
    # shellcheck disable=SC2086 # the command line is split on purpose
    if ! /usr/bin/time -v -o "$WORK/time.txt" ${CMD[$name]} >"$WORK/$name.stdout" 2>"$WORK/$name.stderr"; then
      echo "bench: $name failed (run $run):" >&2; tail -5 "$WORK/$name.stderr" >&2; exit 2
    fi
    t1=$(date +%s%N)
    [ "$name" = esxup ] && files=$(find "$WORK/esxup-out" -name '*.json' | wc -l)
    case $name in fleet-esxup-*)
      fleet_files=$(find "$WORK/fleet-out" -name '*.json' | wc -l)
      if [ "$fleet_files" -ne "$FLEET_NH" ]; then
        echo "bench: $name wrote $fleet_files facts files, expected $FLEET_NH" >&2; exit 2
      fi ;;
    esac
    # Wall time in ns from date (time -v rounds to 10 ms).
    w=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.4f", (b-a)/1e9}')
    r=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$WORK/time.txt")
    if [ -z "${BEST[$name]:-}" ] || awk -v a="$w" -v b="${BEST[$name]}" 'BEGIN{exit !(a<b)}'; then BEST[$name]=$w; fi
    if [ -z "${RSS[$name]:-}" ] || [ "$r" -gt "${RSS[$name]}" ]; then RSS[$name]=$r; fi
  done
}
for name in curl-rsc curl-all esxup pyvmomi; do measure "$name"; done
if [ "$N" -gt 0 ]; then
  for name in fleet-esxup-1 fleet-esxup-N fleet-pyvmomi-1 fleet-pyvmomi-N; do measure "$name"; done
fi
bytes=$(wc -c <"$WORK/curl-all.out")
echo
echo "esxup collect benchmark: simulator with $NH hosts, $NV VMs; best of $RUNS runs; $(nproc) CPUs"
echo "(pyvmomi $PYVMOMI_VERSION; RetrievePropertiesEx answer $bytes bytes; esxup wrote $files facts files)"
printf '%-9s %10s %14s  %s\n' tool wall_s peak_rss_MiB "vs esxup (wall)"
for name in esxup pyvmomi curl-all curl-rsc; do
  ratio=$(awk -v a="${BEST[$name]}" -v b="${BEST[esxup]}" 'BEGIN{ if (b>0) printf "%.2fx", a/b; else print "-" }')
  printf '%-9s %10.3f %14.1f  %s\n' "$name" "${BEST[$name]}" "$(awk -v r="${RSS[$name]}" 'BEGIN{print r/1024}')" "$ratio"
done

[ "$N" -gt 0 ] || exit 0
row() { # LABEL NAME BASE
  local ratio
  ratio=$(awk -v a="${BEST[$2]}" -v b="${BEST[$3]}" 'BEGIN{ if (b>0) printf "%.2fx", a/b; else print "-" }')
  printf '%-15s %10.3f %14.1f  %s\n' "$1" "${BEST[$2]}" "$(awk -v r="${RSS[$2]}" 'BEGIN{print r/1024}')" "$ratio"
}
speedup() { awk -v a="${BEST[$1]}" -v b="${BEST[$2]}" 'BEGIN{ if (b>0) printf "%.2fx", a/b; else print "-" }'; }
echo
echo "fleet: $N simulator vCenters at once, $FLEET_HOSTS hosts / $FLEET_VMS VMs each ($FLEET_NH hosts, $FLEET_NV VMs); best of $RUNS runs; $(nproc) CPUs"
echo "(esxup collect --inventory, --concurrency 1 and $N; pyvmomi serial and ThreadPoolExecutor($N); esxup wrote $fleet_files facts files)"
printf '%-15s %10s %14s  %s\n' tool wall_s peak_rss_MiB "vs esxup -c $N (wall)"
row "esxup -c $N" fleet-esxup-N fleet-esxup-N
row "esxup -c 1" fleet-esxup-1 fleet-esxup-N
row "pyvmomi pool $N" fleet-pyvmomi-N fleet-esxup-N
row "pyvmomi serial" fleet-pyvmomi-1 fleet-esxup-N
echo "speedup of concurrency $N over 1: esxup $(speedup fleet-esxup-1 fleet-esxup-N), pyvmomi $(speedup fleet-pyvmomi-1 fleet-pyvmomi-N)"
