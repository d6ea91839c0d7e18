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
# Wall time is measured around the command (date +%s%N), peak RSS comes from
# /usr/bin/time -v (maximum resident set size); each tool runs RUNS times,
# the best wall time and the largest peak RSS are reported.
#
# usage: scripts/bench-collect.sh [HOSTS] [VMS] [RUNS]     (default 50 1000 3)
set -euo pipefail
cd "$(dirname "$0")/.."
HOSTS=${1:-50}
VMS=${2:-1000}
RUNS=${3:-3}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
VENV=/tmp/esxup-bench-venv
WORK=$(mktemp -d /tmp/esxup-bench.XXXXXX)
trap 'exec 9>&- 2>/dev/null || true; [ -n "${SIM_PID:-}" ] && kill "$SIM_PID" 2>/dev/null; rm -rf "$WORK"' EXIT

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
SIM_PID=$!
exec 9>"$WORK/sim.in"
for _ in $(seq 600); do [ -s "$WORK/sim.out" ] && break; sleep 0.1; done
[ -s "$WORK/sim.out" ] || { echo "bench: simulator did not start" >&2; cat "$WORK/sim.err" >&2; exit 2; }
BANNER=$(head -1 "$WORK/sim.out")
field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$BANNER" "$1"; }
URL=$(field url); TP=$(field thumbprint); NH=$(field hosts); NV=$(field vms)
export ESXUP_PASSWORD=esxup-bench
echo "bench: simulator $URL with $NH hosts, $NV VMs" >&2

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

declare -A BEST RSS
for name in curl-rsc curl-all esxup pyvmomi; do
  for run in $(seq "$RUNS"); do
    rm -rf "$WORK/esxup-out"
    t0=$(date +%s%N)
    if ! /usr/bin/time -v -o "$WORK/time.txt" ${CMD[$name]} >"$WORK/$name.stdout" 2>"$WORK/$name.stderr"; then
      echo "bench: $name failed:" >&2; tail -5 "$WORK/$name.stderr" >&2; exit 2
    fi
    t1=$(date +%s%N)
    [ "$name" = esxup ] && files=$(ls "$WORK/esxup-out" | wc -l)
    # Wall time in ns from date (time -v rounds to 10 ms).
    w=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.4f", (b-a)/1e9}')
    r=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$WORK/time.txt")
    if [ -z "${BEST[$name]:-}" ] || awk -v a="$w" -v b="${BEST[$name]}" 'BEGIN{exit !(a<b)}'; then BEST[$name]=$w; fi
    if [ -z "${RSS[$name]:-}" ] || [ "$r" -gt "${RSS[$name]}" ]; then RSS[$name]=$r; fi
  done
done
bytes=$(wc -c <"$WORK/curl-all.out")
echo
echo "esxup collect benchmark: simulator with $NH hosts, $NV VMs; best of $RUNS runs; $(nproc) CPUs"
echo "(pyvmomi $PYVMOMI_VERSION; RetrievePropertiesEx answer $bytes bytes; esxup wrote $files facts files)"
printf '%-9s %10s %14s  %s\n' tool wall_s peak_rss_MiB "vs esxup (wall)"
for name in esxup pyvmomi curl-all curl-rsc; do
  ratio=$(awk -v a="${BEST[$name]}" -v b="${BEST[esxup]}" 'BEGIN{ if (b>0) printf "%.2fx", a/b; else print "-" }')
  printf '%-9s %10.3f %14.1f  %s\n' "$name" "${BEST[$name]}" "$(awk -v r="${RSS[$name]}" 'BEGIN{print r/1024}')" "$ratio"
done
