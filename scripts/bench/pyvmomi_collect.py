#!/usr/bin/env python3
"""pyVmomi peer of esxup's vSphere inventory collection (scripts/bench-collect.sh).

Retrieves the same properties esxup's collector asks for (HostSystem,
VirtualMachine and Datastore through one ContainerView and paged
RetrievePropertiesEx) and the licence assignments, builds one small record
per host and writes them as JSON, so both sides do comparable work: fetch,
decode, summarise, write. Written the plain way a pyVmomi script would be
(sequential calls). `collect()` is the per-vCenter collection;
pyvmomi_fleet.py runs it over a fleet inventory.

usage: pyvmomi_collect.py URL USER THUMBPRINT OUT.json   (password in ESXUP_PASSWORD)
"""
import json
import os
import ssl
import sys
from urllib.parse import urlparse

from pyVim.connect import SmartConnect, Disconnect
from pyVmomi import vim, vmodl

# Keep in step with crates/esxup-collect/src/vim.rs (HOST_PATHS, VM_PATHS, DATASTORE_PATHS).
HOST_PATHS = ["name", "summary.config.product", "config.product", "summary.hardware.cpuModel", "hardware.cpuInfo",
              "hardware.cpuFeature", "hardware.memorySize", "hardware.pciDevice", "config.network.pnic",
              "config.network.vnic", "config.network.vswitch", "config.network.portgroup",
              "config.network.proxySwitch", "config.storageDevice.hostBusAdapter", "config.service", "config.firewall",
              "runtime.inMaintenanceMode", "runtime.connectionState", "datastore",
              "capability", "hardware.systemInfo", "hardware.biosInfo"]
VM_PATHS = ["name", "runtime.host", "runtime.powerState", "config.version", "config.guestId", "config.template",
            "guest.toolsVersionStatus2", "guest.toolsVersion", "snapshot", "summary.config.vmPathName"]
DS_PATHS = ["summary.name", "summary.type", "summary.capacity", "summary.freeSpace", "info"]


def collect(url, user, thumbprint, password):
    """Collects one vCenter (or host): one record per host, its VMs and licence."""
    u = urlparse(url)
    ctx = ssl._create_unverified_context()  # pinned by thumbprint below
    si = SmartConnect(host=u.hostname, port=u.port or 443, user=user, pwd=password,
                      sslContext=ctx, thumbprint=thumbprint.replace(":", ""))
    try:
        content = si.RetrieveContent()
        view = content.viewManager.CreateContainerView(content.rootFolder,
                                                       [vim.HostSystem, vim.VirtualMachine, vim.Datastore], True)
        PC = vmodl.query.PropertyCollector
        ts = PC.TraversalSpec(name="view", path="view", skip=False, type=vim.view.ContainerView)
        spec = PC.FilterSpec(objectSet=[PC.ObjectSpec(obj=view, skip=True, selectSet=[ts])], propSet=[
            PC.PropertySpec(type=vim.HostSystem, pathSet=HOST_PATHS, all=False),
            PC.PropertySpec(type=vim.VirtualMachine, pathSet=VM_PATHS, all=False),
            PC.PropertySpec(type=vim.Datastore, pathSet=DS_PATHS, all=False),
        ])
        pc = content.propertyCollector
        res = pc.RetrievePropertiesEx([spec], PC.RetrieveOptions(maxObjects=500))
        objs = []
        while res is not None:
            objs.extend(res.objects)
            res = pc.ContinueRetrievePropertiesEx(res.token) if res.token else None
        view.Destroy()

        hosts, vms_by_host = {}, {}
        for o in objs:
            props = {p.name: p.val for p in o.propSet}
            if isinstance(o.obj, vim.HostSystem):
                prod = props.get("summary.config.product") or props.get("config.product")
                cpu = props.get("hardware.cpuInfo")
                hosts[o.obj._moId] = {
                    "hostname": props.get("name"),
                    "product": {"version": prod.version, "build": prod.build} if prod else None,
                    "cpu": {"sockets": cpu.numCpuPackages, "cores": cpu.numCpuCores} if cpu else None,
                    "pci_devices": len(props.get("hardware.pciDevice") or []),
                }
            elif isinstance(o.obj, vim.VirtualMachine):
                snap = props.get("snapshot")
                count = 0
                stack = list(snap.rootSnapshotList) if snap else []
                while stack:
                    s = stack.pop()
                    count += 1
                    stack.extend(s.childSnapshotList)
                host = props.get("runtime.host")
                vms_by_host.setdefault(host._moId if host else None, []).append({
                    "name": props.get("name"), "hardware_version": props.get("config.version"),
                    "tools_status": props.get("guest.toolsVersionStatus2"), "snapshots": count})
        # Licences, with the same calls esxup makes: one bulk query, then one
        # per host the bulk answer did not name (vcsim names none).
        lm = content.licenseManager
        if content.about.apiType == "VirtualCenter":
            lam = lm.licenseAssignmentManager
            lic = {a.entityId: a.assignedLicense.name for a in lam.QueryAssignedLicenses()}
            for moid in hosts:
                if moid not in lic:
                    got = lam.QueryAssignedLicenses(entityId=moid)
                    lic[moid] = got[0].assignedLicense.name if got else None
        else:
            name = lm.licenses[0].name if lm.licenses else None
            lic = {moid: name for moid in hosts}
        for moid, h in hosts.items():
            h["vms"] = vms_by_host.get(moid, [])
            h["license"] = lic.get(moid)
        return list(hosts.values())
    finally:
        Disconnect(si)


def write(records, out):
    """Writes the records of one collection as one JSON file."""
    with open(out, "w") as f:
        json.dump(records, f, indent=2)


def main():
    url, user, thumbprint, out = sys.argv[1:5]
    records = collect(url, user, thumbprint, os.environ["ESXUP_PASSWORD"])
    write(records, out)
    print(f"pyvmomi: {len(records)} hosts, {sum(len(h['vms']) for h in records)} VMs", file=sys.stderr)


if __name__ == "__main__":
    main()
