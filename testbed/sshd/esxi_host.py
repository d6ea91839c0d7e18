#!/usr/bin/env python3
"""testbed/sshd/esxi_host.py — a stateful fake ESXi host behind the loopback
OpenSSH server of the tests (fake-esxi.sh hands over to it when
OUTPUTS_DIR/host-state.json exists).

    python3 esxi_host.py OUTPUTS_DIR        # run by fake-esxi.sh, once per SSH session

It reads the command the client asked for from $SSH_ORIGINAL_COMMAND and
answers it the way an ESXi host does: same output layout, same exit status,
same wording where a real sample exists. What each answer is based on is
written next to it: REAL (a public capture, named), or CONSTRUCTED (no
public sample found; built from the documented layout or the API reference).
testbed/sshd/README.md lists the state file schema and every command.

Files in OUTPUTS_DIR:
  host-state.json  the host (written by the test, then owned by this program;
                   rewritten atomically: tmp + rename)
  host.lock        exclusive fcntl.flock while a command runs (sessions serialise)
  commands.log     every command line received, verbatim, one per line
  calls.json       {"<state-changing command line>": count, ...}
  commands.map     FILE<TAB>COMMAND of the saved read-only outputs (hardware,
                   network, storage adapters/devices...: the composite host-a)
  fs/              the host's files: /vmfs/volumes/<ds>/..., /scratch/...,
                   /tmp/..., /opt/ghettovcb/..., /bootbank/boot.cfg, /altbootbank/boot.cfg

Standard library only.
"""

import fcntl
import io
import json
import os
import posixpath
import re
import shlex
import signal
import sys
import time

# Imported where used (each SSH session starts a new interpreter): calendar,
# hashlib, tarfile, uuid, zipfile, xml.etree.ElementTree.

ESXCLI_NS = "http://www.vmware.com/Products/ESX/5.0/esxcli"
DEFAULT_HARDWARE = {
    # The composite host-a (crates/esxup-facts/tests/fixtures/host-a.list):
    # Dell PowerEdge R620 (hardware-platform-get/8.0.3.txt, real), 2 x Xeon
    # E5-2680 v2 (hardware-cpu-list/constructed-ivybridge.txt), 240470433792
    # bytes (hardware-memory-get/8.0.3.txt, real), 4 NICs (network-nic-list/8.0.3.txt).
    "vendor": "Dell Inc.",
    "model": "PowerEdge R620",
    "memory": 240470433792,
    "cpu_model": "Intel(R) Xeon(R) CPU E5-2680 v2 @ 2.80GHz",
    "cpu_mhz": 2800,
    "cpu_packages": 2,
    "cpu_cores": 20,
    "cpu_threads": 40,
    "nics": 4,
    "hbas": 2,
}
# Highest VM hardware version each release runs (research README).
MAX_VMX = {6: 15, 7: 19, 8: 21}
ACCEPTANCE_RANK = {"VMwareCertified": 0, "VMwareAccepted": 1, "PartnerSupported": 2, "CommunitySupported": 3}
ACCEPTANCE_SHORT = {"certified": "VMwareCertified", "accepted": "VMwareAccepted",
                    "partner": "PartnerSupported", "community": "CommunitySupported"}
SHORT_OF = {v: k for k, v in ACCEPTANCE_SHORT.items()}


class Exit(Exception):
    """Ends the command with a status (the output written so far is kept)."""

    def __init__(self, status):
        super().__init__(status)
        self.status = status


# ------------------------------------------------------------------ utilities


def now():
    return time.time()


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def parse_iso(s):
    import calendar

    s = s.rstrip("Z").split(".")[0]
    return calendar.timegm(time.strptime(s, "%Y-%m-%dT%H:%M:%S"))


def today():
    return time.strftime("%Y-%m-%d", time.gmtime(now()))


def xml_escape(s):
    return str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def vstr(s):
    """A vmodl string literal."""
    return '"' + str(s).replace("\\", "\\\\").replace('"', '\\"') + '"'


def vbool(b):
    return "true" if b else "false"


def version_key(v):
    """esximage's VIB version order (research README "VIB version order"):
    `version-release` split on the first '-', each half on '.', each field
    compared as (leading integer, trailing text); no integer sorts lowest,
    a missing field sorts lowest, text bytewise."""
    ver, _, rel = v.partition("-")
    return (dotted_key(ver), dotted_key(rel))


def dotted_key(s):
    out = []
    for f in s.split("."):
        m = re.match(r"(\d*)(.*)", f, re.S)
        out.append((int(m.group(1)) if m.group(1) else -1, m.group(2)))
    return tuple(out)


def vcmp(a, b):
    ka, kb = version_key(a), version_key(b)
    return (ka > kb) - (ka < kb)


def major_of(version):
    try:
        return int(str(version).split(".")[0])
    except ValueError:
        return 0


# ------------------------------------------------------------------ the host


class Host:
    def __init__(self, d, cmd):
        self.dir = d
        self.cmd = cmd
        self.state = None
        self.stdout = io.BytesIO()
        self.stderr = io.BytesIO()
        self.dirty = False

    # output
    def out(self, text):
        self.stdout.write(text.encode() if isinstance(text, str) else text)

    def err(self, text):
        self.stderr.write(text.encode())

    def fail(self, text, status=1, stdout=False):
        (self.out if stdout else self.err)(text)
        raise Exit(status)

    def changed(self):
        self.dirty = True

    def count(self):
        """Counts this state-changing command in calls.json (every attempt)."""
        count_call(self.dir, self.cmd)

    # files
    def fs(self, host_path):
        """Local path of a host path, or None when the host has no such
        place (unknown datastore, a path outside the mapped trees)."""
        p = posixpath.normpath(host_path)
        if p.startswith("/vmfs/volumes/"):
            parts = p.split("/")
            ds = self.datastore(parts[3])
            if ds is None:
                return None
            parts[3] = ds["name"]
            p = "/".join(parts)
        elif not any(p == r or p.startswith(r + "/") for r in
                     ("/scratch", "/tmp", "/opt/ghettovcb", "/bootbank", "/altbootbank")):
            return None
        return os.path.join(self.dir, "fs", p.lstrip("/"))

    def datastore(self, name_or_uuid):
        for ds in self.state.get("datastores", []):
            if name_or_uuid in (ds["name"], ds_uuid(ds)):
                return ds
        return None

    # state helpers
    def vm(self, vmid):
        for v in self.state.get("vms", []):
            if str(v["id"]) == str(vmid):
                return v
        return None

    def image(self):
        """The image `esxcli software` reports: the staged one if an update waits for a reboot."""
        p = self.state.get("pending")
        return p if p else self.state

    def fault(self, name):
        return self.state.get("faults", {}).get(name)


def ds_uuid(ds):
    import hashlib

    if ds.get("uuid"):
        return ds["uuid"]
    h = hashlib.sha256(("ds:" + ds["name"]).encode()).hexdigest()
    return "%s-%s-%s-%s" % (h[:8], h[8:16], h[16:20], h[20:32])


def vib_type(v):
    return v.get("type") or ("locker" if v["name"] == "tools-light" else "bootbank")


def vib_id(v):
    return "%s_%s_%s_%s" % (v["vendor"], vib_type(v), v["name"], v["version"])


def esx_base_version(vibs):
    for v in vibs:
        if v["name"] == "esx-base":
            return v["version"]
    return None


def boot_build_string(img):
    """`build=` of boot.cfg: the esx-base VIB version (6.7.0-3.89.15160138),
    as the altbootbank fixtures and Broadcom KB 395110 write it."""
    return esx_base_version(img.get("vibs", [])) or "%s-0.%s.%s" % (img["version"], img.get("patch", "0"), img["build"])


def release_of(esx_base):
    """(version, update, patch, build) from an esx-base version: 6.7.0-3.89.15160138
    (6.x: the update is the first release field) or 7.0.3-0.55.20328353 (7.0+:
    the update is the third version field)."""
    ver, _, rel = esx_base.partition("-")
    f = rel.split(".")
    build = int(re.sub(r"\D", "", f[-1]) or 0)
    patch = f[1] if len(f) >= 3 else "0"
    upd = ver.split(".")[2] if major_of(ver) >= 7 and len(ver.split(".")) > 2 else (f[0] if len(f) >= 3 else "0")
    return ver, upd, patch, build


# ------------------------------------------------------------------ esxcli XML


def xml_doc(inner):
    """The --formatter=xml document: REAL layout per the fixtures
    (system-version-get/8.0.3-xml.txt is CONSTRUCTED from VMware plug-in
    sources and public parsers)."""
    return ('<?xml version="1.0" encoding="utf-8"?>\n<output xmlns="%s">\n<root>\n%s</root>\n</output>\n'
            % (ESXCLI_NS, inner))


def xml_value(kind, value, ind):
    pad = " " * ind
    if kind == "list":
        items = "".join("%s   <string>%s</string>\n" % (pad, xml_escape(x)) for x in value)
        return '%s<list type="string">\n%s%s</list>\n' % (pad, items, pad)
    if kind == "boolean":
        value = vbool(value)
    return "%s<%s>%s</%s>\n" % (pad, kind, xml_escape(value), kind)


def xml_struct(type_name, fields, ind=3):
    pad = " " * ind
    body = "".join('%s   <field name="%s">\n%s%s   </field>\n' % (pad, n, xml_value(k, v, ind + 6), pad)
                   for n, k, v in fields)
    return '%s<structure typeName="%s">\n%s%s</structure>\n' % (pad, type_name, body, pad)


def xml_list(type_name, rows):
    return '   <list type="structure">\n%s   </list>\n' % "".join(xml_struct(type_name, r, 6) for r in rows)


def xml_scalar(kind, value):
    return xml_value(kind, value, 3)


# ------------------------------------------------------------------ vmodl dumps


def fault(type_name, fields, msg):
    """A vim-cmd fault dump. REAL layout: ESXi 9.0 lab notes (find_string id
    49324877612, `Reset failed: (vim.fault.InvalidPowerState) {`): fields end
    with ", ", the last one before `msg` without a comma."""
    lines = ["faultCause = (vmodl.MethodFault) null", "faultMessage = <unset>"]
    lines += ["%s = %s" % kv for kv in fields]
    body = "".join("   %s, \n" % l for l in lines[:-1]) + "   %s\n" % lines[-1]
    return "(%s) {\n%s   msg = %s\n}\n" % (type_name, body, vstr(msg))


def invalid_power_state(requested, existing):
    words = {"poweredOn": "Powered on", "poweredOff": "Powered off", "suspended": "Suspended"}
    return fault("vim.fault.InvalidPowerState",
                 [("requestedState", vstr(requested)), ("existingState", vstr(existing))],
                 "The attempted operation cannot be performed in the current state (%s)." % words[existing])


def tools_unavailable():
    # CONSTRUCTED: the fault type is the API's; the message is the vSphere
    # client's wording for it.
    return fault("vim.fault.ToolsUnavailable", [],
                 "Cannot complete operation because VMware Tools is not running in this virtual machine.")


def not_found_vm(vmid):
    # CONSTRUCTED: vmodl.fault.ManagedObjectNotFound with the API's message.
    return fault("vmodl.fault.ManagedObjectNotFound", [("obj", "'vim.VirtualMachine:%s'" % vmid)],
                 "The object 'vim.VirtualMachine:%s' has already been deleted or has not been completely created"
                 % vmid)


# ------------------------------------------------------------------ system


def cmd_version_get(h, m):
    img = h.state
    h.out(xml_doc(xml_struct("VersionGet", [
        ("Build", "string", "Releasebuild-%s" % img["build"]),
        ("Patch", "string", img.get("patch", "0")),
        ("Product", "string", "VMware ESXi"),
        ("Update", "string", img.get("update", "0")),
        ("Version", "string", img["version"]),
    ])))


def cmd_vmware_vl(h, m):
    # REAL: `VMware ESXi 6.7.0 Update 3` (kuiper notes, `vmware -l`), `VMware
    # ESXi 8.0 Update 1` (vmware-vl/8.0.1.txt), `VMware ESXi 6.0.0 GA`
    # (find_string id 11008816096): 7.0+ print major.minor, 6.x the full version.
    s = h.state
    v = s["version"]
    short = ".".join(v.split(".")[:2]) if major_of(v) >= 7 else v
    upd = s.get("update", "0")
    h.out("VMware ESXi %s build-%s\nVMware ESXi %s %s\n" % (v, s["build"], short,
                                                          "GA" if upd in ("0", "") else "Update " + upd))


def cmd_hostname_get(h, m):
    fqdn = h.state["hostname"]
    short, _, domain = fqdn.partition(".")
    # CONSTRUCTED XML of the REAL text fields (system-hostname-get fixture).
    h.out(xml_doc(xml_struct("HostnameGet", [
        ("DomainName", "string", domain),
        ("FullyQualifiedDomainName", "string", fqdn),
        ("HostName", "string", short),
    ])))


def cmd_uptime(h, m):
    # CONSTRUCTED: `esxcli system stats uptime get` prints microseconds since boot.
    h.out("%d\n" % max(0, int((now() - parse_iso(h.state["boot_time"])) * 1e6)))


def cmd_maintenance_get(h, m):
    # CONSTRUCTED XML of the REAL one-word output (`Disabled`/`Enabled`,
    # find_string id 68562571875).
    h.out(xml_doc(xml_scalar("string", "Enabled" if h.state["maintenance"] else "Disabled")))


def cmd_maintenance_set(h, m):
    h.count()
    want = m.group(1) == "true"
    s = h.state
    if s["maintenance"] == want:
        # CONSTRUCTED wording: the vSphere CLI guide only says "an error
        # informs you that maintenance mode is already disabled".
        h.fail("Maintenance mode is already %s.\n" % ("enabled" if want else "disabled"))
    if want:
        on = [v["name"] for v in s.get("vms", []) if v["power"] == "poweredOn"]
        if on:
            # CONSTRUCTED: a standalone host cannot evacuate its VMs; a real
            # host waits for them to be powered off (vim-cmd
            # hostsvc/maintenance_mode_enter says "Operation timed out.",
            # find_string id 31334863764). This fake refuses at once.
            h.fail("Unable to enter maintenance mode: %d virtual machine(s) are powered on (%s). "
                   "Shut them down or power them off first.\n" % (len(on), ", ".join(on)))
    s["maintenance"] = want
    h.changed()


def cmd_reboot(h, m):
    h.count()
    s = h.state
    if not s["maintenance"]:
        # CONSTRUCTED wording: esxcli refuses a reboot outside maintenance mode
        # (public notes: "that requires maintenance mode", find_string id
        # 66715808843); no capture of its message was found.
        h.fail("Unable to reboot: the host is not in maintenance mode. Enter maintenance mode first.\n")
    s["down_until"] = now() + float(s.get("reboot_down_seconds", 2))
    h.changed()


def complete_reboot(s, when):
    """The host comes back at `when`: the staged image runs, VMs are off."""
    old = {"version": s["version"], "build": s["build"], "update": s.get("update"), "patch": s.get("patch"),
           "vibs": s.get("vibs", [])}
    p = s.get("pending")
    if p:
        for k in ("version", "build", "update", "patch", "profile", "vibs"):
            s[k] = p[k]
        s["profile_modified"] = p.get("profile_modified", s.get("profile_modified"))
        if major_of(old["version"]) < 7 <= major_of(s["version"]):
            # Research README: an esxcli (depot) upgrade from 6.x does not keep
            # the new VIB signatures, Secure Boot cannot be used after it.
            s["secure_boot_signatures_lost"] = True
        s["altbootbank"] = {"build": boot_build_string(old), "bootstate": 0}
        s["boot_updated"] = int(s.get("boot_updated", 3)) + 1
        s["pending"] = None
    s["boot_time"] = iso(when)
    s["down_until"] = None
    for v in s.get("vms", []):
        v["power"] = "poweredOff"
        v.pop("shutdown_at", None)
    slpd = s.setdefault("slpd", {"running": True, "policy": "on"})
    slpd["running"] = slpd.get("policy") == "on"


# ------------------------------------------------------------------ software


def cmd_profile_get(h, m):
    img = h.image()
    name = img.get("profile", "")
    # CONSTRUCTED XML of the REAL text fields (software-profile-get/8.0U3b.txt).
    h.out(xml_doc(xml_struct("ImageProfile", [
        ("AcceptanceLevel", "string", h.state.get("acceptance", "PartnerSupported")),
        ("CreationTime", "string", img.get("profile_created") or h.state.get("profile_created", "2021-01-01T00:00:00")),
        ("Description", "string", ""),
        ("ModificationTime", "string", img.get("profile_modified") or h.state.get("profile_modified", "2021-01-01T00:00:00")),
        ("Name", "string", name),
        ("StatelessReady", "boolean", True),
        ("VIBs", "list", [vib_id(v) for v in img.get("vibs", [])]),
        ("Vendor", "string", "VMware, Inc."),
    ])))


def cmd_vib_list(h, m):
    # CONSTRUCTED XML of the REAL table columns (software-vib-list fixtures).
    rows = []
    for v in h.image().get("vibs", []):
        rows.append([
            ("AcceptanceLevel", "string", v.get("acceptance", "VMwareCertified")),
            ("CreationDate", "string", v.get("install_date", "")),
            ("ID", "string", vib_id(v)),
            ("InstallDate", "string", v.get("install_date", "")),
            ("Name", "string", v["name"]),
            ("Status", "string", ""),
            ("Vendor", "string", v["vendor"]),
            ("Version", "string", v["version"]),
        ])
    h.out(xml_doc(xml_list("VIBSummary", rows)))


def cmd_acceptance_get(h, m):
    h.out(xml_doc(xml_scalar("string", h.state.get("acceptance", "PartnerSupported"))))


def cmd_profile_update(h, m):
    args = shlex.split(m.group(1))
    depot = profile = None
    dry = False
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("-d", "--depot") and i + 1 < len(args):
            depot, i = args[i + 1], i + 1
        elif a.startswith("--depot="):
            depot = a.split("=", 1)[1]
        elif a in ("-p", "--profile") and i + 1 < len(args):
            profile, i = args[i + 1], i + 1
        elif a.startswith("--profile="):
            profile = a.split("=", 1)[1]
        elif a == "--dry-run":
            dry = True
        i += 1
    if not dry:
        h.count()
    if not depot or not profile:
        # CONSTRUCTED (esxcli's usage error).
        h.fail("Error: Missing required parameter -d|--depot or -p|--profile\n", 1)
    meta, profiles = load_depot(h, depot)
    if profile not in profiles:
        # REAL wording: find_string id 68562571875 (8.0U3) and 2086700534 (6.0).
        h.fail(" [NoMatchError]\n No image profile found with name '%s'\n         id = %s\n"
               " Please refer to the log file for more details.\n" % (profile, profile))
    p = profiles[profile]
    tx = transaction(h, meta, p)
    if tx["problems"]:
        h.fail("".join(tx["problems"]) + " Please refer to the log file for more details.\n")
    installed = sorted(v["id"] for v in tx["installed"])
    removed = sorted(tx["removed"])
    skipped = sorted(tx["skipped"])
    changes = bool(installed or removed)
    reboot = any(not v["live"] for v in tx["installed"]) or any(
        vib_type(x) != "locker" for x in h.image()["vibs"] if vib_id(x) in tx["removed"])
    if dry:
        if h.fault("dryrun_differs") and installed:
            installed = installed[:-1]
        kinds = {i.split("_")[1] for i in installed + removed if i.count("_") >= 3}
        inst = [n for k, n in (("bootbank", "BootBankInstaller"), ("locker", "LockerInstaller")) if k in kinds]
        # REAL layout: research outputs/esxcli-software-dryrun-result__1.txt.
        msg = "Dryrun only, host not changed. The following installers will be applied: [%s]" % ", ".join(inst)
        h.out(result_block(h, msg, reboot and changes, installed, removed, skipped))
        return
    if not changes:
        # REAL wording: vmware-archive/vsphere-storage-for-docker#511.
        h.out(result_block(h, "Host is not changed.", False, [], [], skipped))
        return
    if not h.state["maintenance"]:
        mm_inst = [v["id"] for v in tx["installed"] if v["mm"]]
        mm_rm = [i for i in removed if i.split("_")[1] != "locker"]
        if mm_inst or mm_rm:
            # REAL-LOOKING wording as VMware KB articles quote it; no capture
            # in the public corpus (CONSTRUCTED).
            h.fail(" [MaintenanceModeError]\n MaintenanceMode is required to remove: [%s]; install: [%s].\n"
                   " Please refer to the log file for more details.\n" % (", ".join(mm_rm), ", ".join(mm_inst)))
    stage(h, p, tx)
    if reboot:
        msg = "The update completed successfully, but the system needs to be rebooted for the changes to be effective."
    else:
        msg = "Operation finished successfully."
    h.out(result_block(h, msg, reboot, installed, removed, skipped))


def result_block(h, message, reboot, installed, removed, skipped):
    if major_of(h.state["version"]) >= 8:
        # REAL layout of 8.0 (find_string id 68562571875): `Update Result`,
        # Reboot Required after the lists, then `DPU Results:`.
        return ("Update Result\n   Message: %s\n   VIBs Installed: %s\n   VIBs Removed: %s\n   VIBs Skipped: %s\n"
                "   Reboot Required: %s\n   DPU Results:\n"
                % (message, ", ".join(installed), ", ".join(removed), ", ".join(skipped), vbool(reboot)))
    # REAL layout of 6.x/7.0: research outputs/esxcli-software-dryrun-result__1.txt,
    # esxcli-software-vib-update-result__2.txt.
    return ("Installation Result\n   Message: %s\n   Reboot Required: %s\n   VIBs Installed: %s\n"
            "   VIBs Removed: %s\n   VIBs Skipped: %s\n"
            % (message, vbool(reboot), ", ".join(installed), ", ".join(removed), ", ".join(skipped)))


# ------------------------------------------------------------------ depots


def load_depot(h, depot):
    """(vib metadata by id, profiles by name) of an offline bundle zip (or an
    extracted depot folder) on the host: index.xml -> vendor index ->
    each <metadata><url> -> metadata zip (vibs/*.xml, profiles/*.xml)."""
    import zipfile
    import xml.etree.ElementTree as ET

    if depot.startswith(("http://", "https://")):
        return load_online_depot(h, depot)
    local = h.fs(depot) if depot.startswith("/") else None
    zurl = "zip:%s?index.xml" % depot
    if local is None or not os.path.exists(local):
        # REAL wording: find_string ids 31334863764, 36339256915 (esxcli 6.7/7.0).
        h.fail(" [MetadataDownloadError]\n Could not download from depot at %s, skipping ((%r, '', \"Error "
               "extracting index.xml from %s: [Errno 2] No such file or directory: '%s'\"))\n        url = %s\n"
               " Please refer to the log file for more details.\n" % (zurl, zurl, depot, depot, zurl))
    if os.path.isdir(local):
        def read(rel):
            with open(os.path.join(local, rel), "rb") as f:
                return f.read()
    else:
        try:
            zf = zipfile.ZipFile(local)
        except zipfile.BadZipFile:
            zf = None

        def read(rel):
            if zf is None:
                raise KeyError(rel)
            return zf.read(rel)
    try:
        index = ET.fromstring(read("index.xml"))
    except (KeyError, OSError):
        # REAL wording: find_string id 19909990573.
        h.fail(" [MetadataDownloadError]\n Could not download from depot at %s, skipping ((%r, '', 'Error "
               "extracting index.xml from %s: \"There is no item named \\'index.xml\\' in the archive\"'))\n"
               "        url = %s\n Please refer to the log file for more details.\n" % (zurl, zurl, depot, zurl))
    meta, profiles = {}, {}
    for vendor in index.iter("vendor"):
        rel = (vendor.findtext("relativePath") or "").strip().strip("/")
        vindex = posixpath.join(rel, (vendor.findtext("indexfile") or "").strip())
        try:
            vroot = ET.fromstring(read(vindex))
        except (KeyError, OSError):
            continue
        for md in vroot.iter("metadata"):
            url = (md.findtext("url") or "").strip()
            if not url or "://" in url:
                continue
            try:
                data = read(posixpath.normpath(posixpath.join(posixpath.dirname(vindex), url)))
            except (KeyError, OSError):
                continue
            read_metadata(data, meta, profiles)
    return meta, profiles


def load_online_depot(h, depot):
    """An online depot (`-d http://.../index.xml` or its folder URL): read
    over HTTP, as esxcli does, which needs the outgoing httpClient firewall
    ruleset enabled (CONSTRUCTED: the exact error of a blocked download was
    not found; esxcli reports download failures as MetadataDownloadError)."""
    import urllib.request
    import xml.etree.ElementTree as ET

    base = depot if depot.endswith("/") or depot.endswith(".xml") else depot + "/"
    base = base.rsplit("/", 1)[0] + "/"
    if not ruleset(h, "httpClient"):
        h.fail(" [MetadataDownloadError]\n Could not download from depot at %sindex.xml, skipping "
               "(('%sindex.xml', '', '<urlopen error [Errno 111] Connection refused>'))\n"
               " Please refer to the log file for more details.\n" % (base, base))

    def read(rel):
        with urllib.request.urlopen(base + rel, timeout=30) as r:
            return r.read()
    try:
        index = ET.fromstring(read("index.xml"))
    except OSError as e:
        h.fail(" [MetadataDownloadError]\n Could not download from depot at %sindex.xml, skipping "
               "(('%sindex.xml', '', '%s'))\n Please refer to the log file for more details.\n" % (base, base, e))
    meta, profiles = {}, {}
    for vendor in index.iter("vendor"):
        rel = (vendor.findtext("relativePath") or "").strip().strip("/")
        vindex = posixpath.join(rel, (vendor.findtext("indexfile") or "").strip())
        try:
            vroot = ET.fromstring(read(vindex))
        except OSError:
            continue
        for md in vroot.iter("metadata"):
            url = (md.findtext("url") or "").strip()
            if not url or "://" in url:
                continue
            try:
                data = read(posixpath.normpath(posixpath.join(posixpath.dirname(vindex), url)))
            except OSError:
                continue
            read_metadata(data, meta, profiles)
    return meta, profiles


def ruleset(h, name):
    """Whether firewall ruleset `name` is enabled: CIMSLP is `cimslp`, the
    others live in `rulesets` (httpClient: off, as on a fresh host)."""
    if name == "CIMSLP":
        return bool(h.state.get("cimslp", True))
    return bool((h.state.get("rulesets") or {}).get(name, False))


def read_metadata(data, meta, profiles):
    import zipfile
    import xml.etree.ElementTree as ET

    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for name in z.namelist():
            if name.startswith("vibs/") and name.endswith(".xml"):
                v = parse_vib(ET.fromstring(z.read(name)))
                meta[v["id"]] = v
            elif name.startswith("profiles/") and name.endswith(".xml"):
                p = ET.fromstring(z.read(name))
                pname = (p.findtext("name") or "").strip()
                profiles[pname] = {
                    "name": pname,
                    "vibs": [(e.text or "").strip() for e in p.iter("vib-id")],
                    "created": (p.findtext("creationtime") or "").strip(),
                    "acceptance": (p.findtext("acceptancelevel") or "partner").strip(),
                }


def parse_vib(e):
    def constraints(tag):
        node = e.find("relationships/" + tag)
        out = []
        if node is not None:
            for c in node:
                out.append((c.get("name"), c.get("relation"), c.get("version")))
        return out

    v = {k: (e.findtext(k) or "").strip() for k in ("type", "name", "version", "vendor")}
    v["id"] = "%s_%s_%s_%s" % (v["vendor"], v["type"], v["name"], v["version"])
    v["depends"] = constraints("depends")
    v["replaces"] = constraints("replaces")
    v["provides"] = [(c[0], c[2]) for c in constraints("provides")]
    level = (e.findtext("acceptance-level") or "partner").strip()
    v["acceptance"] = ACCEPTANCE_SHORT.get(level, level)
    v["live"] = (e.findtext("live-install-allowed") or "false").strip() == "true"
    v["mm"] = (e.findtext("system-requires/maintenance-mode") or "true").strip() != "false"
    return v


def satisfies(pv, rel, cv):
    """Whether a provided version satisfies `rel cv` (no relation: any). A
    constraint version without a release compares only the version halves."""
    if not rel:
        return True
    if pv is None or cv is None:
        return False
    if "-" in cv:
        a, b = version_key(pv), version_key(cv)
    else:
        a, b = dotted_key(pv.partition("-")[0]), dotted_key(cv)
    c = (a > b) - (a < b)
    return {"<<": c < 0, "<=": c <= 0, "=": c == 0, ">=": c >= 0, ">>": c > 0}.get(rel, False)


def provides(entry, c):
    name, rel, ver = c
    if entry["name"] == name and satisfies(entry["version"], rel, ver):
        return True
    return any(n == name and satisfies(pv, rel, ver) for n, pv in entry.get("provides", []))


def constraint_text(c):
    return c[0] if not c[1] else "%s %s %s" % c


def transaction(h, meta, profile):
    """`profile update` of the host image to `profile`, esximage's rules as the
    research README states them (and esxup's simulator applies): a profile VIB
    whose name is new is installed, one with a higher version replaces the
    host's, an equal or lower one is skipped; explicit `replaces` of the
    installed VIBs obsolete further host VIBs; the result must resolve
    (dependencies) and meet the host acceptance level."""
    host = []
    for x in h.image().get("vibs", []):
        i = vib_id(x)
        m = meta.get(i, {})
        host.append({"id": i, "name": x["name"], "version": x["version"], "provides": m.get("provides", []),
                     "replaces": m.get("replaces", []), "depends": m.get("depends"), "meta": bool(m)})
    by_name = {e["name"]: e for e in host}
    removed, skipped, installed = set(), [], []
    for tid in profile["vibs"]:
        t = meta.get(tid)
        if t is None:
            continue
        e = by_name.get(t["name"])
        if e is not None:
            c = vcmp(t["version"], e["version"])
            if c <= 0:
                skipped.append(tid)
                continue
            removed.add(e["id"])
        elif any(e["id"] not in removed and any(r[0] == t["name"] and satisfies(t["version"], r[1], r[2])
                                                for r in e["replaces"]) for e in host):
            skipped.append(tid)  # obsoleted by an installed host VIB
            continue
        installed.append(t)
    for t in installed:
        for c in t["replaces"]:
            for e in host:
                if e["id"] not in removed and provides(e, c):
                    removed.add(e["id"])
    image = [e for e in host if e["id"] not in removed] + installed
    problems = []
    deps = []
    for v in image:
        for c in v.get("depends") or []:
            if not any(provides(u, c) for u in image):
                deps.append(" VIB %s requires %s, but the requirement cannot be satisfied within the ImageProfile.\n"
                            % (v["id"], constraint_text(c)))
    if deps:
        # REAL wording: research README (seed case) and outputs/dependency-error__2.txt.
        problems.append(" [DependencyError]\n" + "".join(deps))
    host_level = h.state.get("acceptance", "PartnerSupported")
    acc = [t for t in installed if ACCEPTANCE_RANK.get(t["acceptance"], 3) > ACCEPTANCE_RANK.get(host_level, 2)]
    if acc:
        # REAL wording: research outputs/esxcli-software-vib-install-error__1.txt.
        problems.append(" [AcceptanceConfigError]\n" + "".join(
            " VIB %s's acceptance level is %s, which is not compliant with the ImageProfile acceptance level %s\n"
            % (t["id"], SHORT_OF.get(t["acceptance"], t["acceptance"]), SHORT_OF.get(host_level, host_level))
            for t in acc) + " To change the host acceptance level, use the 'esxcli software acceptance set' command.\n")
    return {"installed": installed, "removed": removed, "skipped": skipped, "problems": problems,
            "kept": [e for e in host if e["id"] not in removed]}


def stage(h, profile, tx):
    """The real update: the new image waits in the alternate bootbank."""
    old = {vib_id(x): x for x in h.image().get("vibs", [])}
    vibs = [old[e["id"]] for e in tx["kept"]]
    for t in tx["installed"]:
        vibs.append({"name": t["name"], "version": t["version"], "vendor": t["vendor"],
                     "acceptance": t["acceptance"], "install_date": today(), "type": t["type"]})
    same = sorted(vib_id(v) for v in vibs) == sorted(profile["vibs"])
    base = esx_base_version(vibs)
    ver, upd, patch, build = release_of(base) if base else (
        h.state["version"], h.state.get("update"), h.state.get("patch"), h.state["build"])
    h.state["pending"] = {
        # REAL naming: a host whose image differs from the profile it was
        # updated to reports `(Updated) <profile>` (software-profile-get/8.0U3b.txt).
        "profile": profile["name"] if same else "(Updated) " + profile["name"],
        "profile_created": profile.get("created") or None,
        "profile_modified": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now())),
        "version": ver, "update": upd, "patch": patch, "build": build, "vibs": vibs,
    }
    h.state["altbootbank"] = {"build": base or boot_build_string(h.state), "bootstate": 1}
    h.changed()


# ------------------------------------------------------------------ hostsvc


def cmd_hostsummary(h, m):
    """CONSTRUCTED from the vSphere API reference of vim.host.Summary
    (HostListSummary: hardware, runtime, config.product) in the vmodl dump
    layout of the vmsvc-get.summary fixture; `inMaintenanceMode = false,`
    six spaces deep is REAL (find_string id 68562571875)."""
    s = h.state
    hw = dict(DEFAULT_HARDWARE, **s.get("hardware", {}))
    v = s["version"]
    api = {6: "6.7.3", 7: "7.0.3.0", 8: "8.0.3.0"}.get(major_of(v), v)
    h.out("""(vim.host.Summary) {
   host = 'vim.HostSystem:ha-host',
   hardware = (vim.host.Summary.HardwareSummary) {
      vendor = %s,
      model = %s,
      uuid = %s,
      otherIdentifyingInfo = (vim.host.SystemIdentificationInfo) [
      ],
      memorySize = %d,
      cpuModel = %s,
      cpuMhz = %d,
      numCpuPkgs = %d,
      numCpuCores = %d,
      numCpuThreads = %d,
      numNics = %d,
      numHBAs = %d,
   },
   runtime = (vim.host.RuntimeInfo) {
      connectionState = "connected",
      powerState = "poweredOn",
      standbyMode = "none",
      inMaintenanceMode = %s,
      inQuarantineMode = false,
      bootTime = %s,
      healthSystemRuntime = (vim.host.HealthStatusSystem.Runtime) null,
      dasHostState = (vim.cluster.DasFdmHostState) null,
      tpmPcrValues = <unset>,
      vsanRuntimeInfo = (vim.vsan.host.VsanRuntimeInfo) null,
      networkRuntimeInfo = (vim.host.RuntimeInfo.NetworkRuntimeInfo) null,
      vFlashResourceRuntimeInfo = (vim.host.VFlashManager.VFlashResourceRunTimeInfo) null,
      hostMaxVirtualDiskCapacity = 68169720922112,
      cryptoState = "incapable",
      cryptoKeyId = (vim.encryption.CryptoKeyId) null,
   },
   config = (vim.host.Summary.ConfigSummary) {
      name = %s,
      port = 443,
      sslThumbprint = <unset>,
      product = (vim.AboutInfo) {
         name = "VMware ESXi",
         fullName = %s,
         vendor = "VMware, Inc.",
         version = %s,
         build = %s,
         localeVersion = "INTL",
         localeBuild = "000",
         osType = "vmnix-x86",
         productLineId = "embeddedEsx",
         apiType = "HostAgent",
         apiVersion = %s,
         instanceUuid = <unset>,
         licenseProductName = "VMware ESX Server",
         licenseProductVersion = %s,
      },
      vmotionEnabled = false,
      faultToleranceEnabled = false,
      featureVersion = <unset>,
      agentVmDatastore = <unset>,
      agentVmNetwork = <unset>,
   },
   overallStatus = "green",
   rebootRequired = %s,
   customValue = <unset>,
   managementServerIp = <unset>,
   maxEVCModeKey = <unset>,
   currentEVCModeKey = <unset>,
   gateway = (vim.host.Summary.GatewaySummary) null,
}
""" % (vstr(hw["vendor"]), vstr(hw["model"]), vstr(s.get("uuid", "")), hw["memory"], vstr(hw["cpu_model"]),
       hw["cpu_mhz"], hw["cpu_packages"], hw["cpu_cores"], hw["cpu_threads"], hw["nics"], hw["hbas"],
       vbool(s["maintenance"]), vstr(s["boot_time"]), vstr(s["hostname"]),
       vstr("VMware ESXi %s build-%s" % (v, s["build"])), vstr(v), vstr(str(s["build"])), vstr(api),
       vstr("%d.0" % major_of(v)), vbool(bool(s.get("pending")))))


def cmd_sync_config(h, m):
    h.count()


def cmd_backup_config(h, m):
    import uuid

    h.count()
    s = h.state
    bid = str(uuid.uuid4())
    name = "configBundle-%s.tgz" % s["hostname"]
    data = config_bundle(s)
    if h.fault("backup_corrupt"):
        data = data[: len(data) // 2]
    path = h.fs("/scratch/downloads/%s/%s" % (bid, name))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    # REAL wording (spec and HostFirmwareSystem.BackupFirmwareConfiguration: a
    # download URL whose host part is `*`).
    h.out("Bundle can be downloaded at : http://*/downloads/%s/%s\n" % (bid, name))


def config_bundle(s):
    """CONSTRUCTED layout: a gzip tar holding Manifest.txt (UUID=, BUILD=) and
    state.tgz (a real bundle holds state.tgz with local.tgz inside)."""
    import tarfile

    def tgz(members):
        b = io.BytesIO()
        with tarfile.open(fileobj=b, mode="w:gz") as t:
            for name, data in members:
                info = tarfile.TarInfo(name)
                info.size = len(data)
                info.mtime = int(now())
                t.addfile(info, io.BytesIO(data))
        return b.getvalue()
    esxconf = ("/adv/Misc/HostName = \"%s\"\n/system/uuid = \"%s\"\n" % (s["hostname"], s.get("uuid", ""))).encode()
    local = tgz([("etc/vmware/esx.conf", esxconf), ("etc/hosts", b"127.0.0.1 localhost\n")])
    state = tgz([("local.tgz", local)])
    manifest = ("UUID=%s\nBUILD=%s\n" % (s.get("uuid", ""), s["build"])).encode()
    return tgz([("Manifest.txt", manifest), ("state.tgz", state)])


def cmd_autostart_seq(h, m):
    """CONSTRUCTED from the vSphere API reference of
    vim.host.AutoStartManager.AutoPowerInfo in the vmodl dump layout."""
    vms = sorted((v for v in h.state.get("vms", []) if v.get("autostart")), key=lambda v: v["autostart"])
    items = []
    for v in vms:
        items.append("""   (vim.host.AutoStartManager.AutoPowerInfo) {
      key = 'vim.VirtualMachine:%s',
      startOrder = %d,
      startDelay = -1,
      waitForHeartbeat = "systemDefault",
      startAction = "powerOn",
      stopDelay = -1,
      stopAction = "systemDefault",
   }""" % (v["id"], v["autostart"]))
    h.out("(vim.host.AutoStartManager.AutoPowerInfo) [\n%s\n]\n" % ",\n".join(items) if items
          else "(vim.host.AutoStartManager.AutoPowerInfo) []\n")


# ------------------------------------------------------------------ vmsvc


def settle_vms(s):
    """Guest shutdowns that were asked for complete after `shutdown_seconds`.
    True if one did."""
    done = False
    for v in s.get("vms", []):
        at = v.get("shutdown_at")
        if at is not None and now() >= at:
            v["power"] = "poweredOff"
            v.pop("shutdown_at")
            done = True
    return done


def tools_running(v):
    return v["power"] == "poweredOn" and v.get("tools") != "guestToolsNotInstalled" and v.get("tools_running", True)


def cmd_getallvms(h, m):
    # REAL layout: vmsvc-getallvms/6.5.txt.
    rows = []
    for v in h.state.get("vms", []):
        path = "[%s] %s/%s.vmx" % (v.get("datastore", "datastore1"), v["name"], v["name"])
        rows.append((str(v["id"]), v["name"], path, v.get("guest", "otherGuest64"), "vmx-%02d" % v.get("hw", 14),
                     v.get("annotation", "")))
    w = [max([len(r[i]) for r in rows] + [n]) for i, n in enumerate((4, 4, 4, 8, 7))]
    out = "%-*s   %-*s   %-*s   %-*s   %-*s   Annotation\n" % (w[0], "Vmid", w[1], "Name", w[2], "File", w[3],
                                                            "Guest OS", w[4], "Version")
    for r in rows:
        out += "%-*s   %-*s   %-*s   %-*s   %-*s   %s\n" % (w[0], r[0], w[1], r[1], w[2], r[2], w[3], r[3], w[4],
                                                         r[4], r[5])
    h.out(out)


def vm_or_fail(h, vmid):
    v = h.vm(vmid)
    if v is None:
        h.fail(not_found_vm(vmid), 1, stdout=True)
    return v


def tools_fields(v):
    st2 = v.get("tools", "guestToolsNotInstalled")
    legacy = {"guestToolsCurrent": "guestToolsCurrent", "guestToolsNotInstalled": "guestToolsNotInstalled",
              "guestToolsUnmanaged": "guestToolsUnmanaged"}.get(st2, "guestToolsNeedUpgrade")
    if st2 == "guestToolsNotInstalled":
        status = "toolsNotInstalled"
    elif not tools_running(v):
        status = "toolsNotRunning"
    elif st2 == "guestToolsCurrent" or st2 == "guestToolsUnmanaged":
        status = "toolsOk"
    else:
        status = "toolsOld"
    running = "guestToolsRunning" if tools_running(v) else "guestToolsNotRunning"
    return status, legacy, st2, running


def cmd_get_summary(h, m):
    """CONSTRUCTED (as vmsvc-get.summary/constructed-11.txt) from the vSphere
    API reference of vim.vm.Summary."""
    v = vm_or_fail(h, m.group(1))
    status, legacy, st2, running = tools_fields(v)
    name = v["name"]
    h.out("""Listsummary:

(vim.vm.Summary) {
   vm = 'vim.VirtualMachine:%s',
   runtime = (vim.vm.RuntimeInfo) {
      host = 'vim.HostSystem:ha-host',
      connectionState = "connected",
      powerState = %s,
      faultToleranceState = "notConfigured",
      toolsInstallerMounted = false,
      suspendInterval = 0,
      maxCpuUsage = %d,
      maxMemoryUsage = %d,
      numMksConnections = 0,
      recordReplayState = "inactive",
      onlineStandby = false,
      consolidationNeeded = false,
   },
   guest = (vim.vm.Summary.GuestSummary) {
      guestId = %s,
      toolsStatus = %s,
      toolsVersionStatus = %s,
      toolsVersionStatus2 = %s,
      toolsRunningStatus = %s,
      hostName = <unset>,
      ipAddress = <unset>,
   },
   config = (vim.vm.Summary.ConfigSummary) {
      name = %s,
      template = false,
      vmPathName = %s,
      memorySizeMB = %d,
      cpuReservation = 0,
      memoryReservation = 0,
      numCpu = %d,
      numEthernetCards = 1,
      numVirtualDisks = 1,
      uuid = %s,
      guestId = %s,
      guestFullName = %s,
      annotation = %s,
      installBootRequired = false,
      hwVersion = "vmx-%02d",
   },
   overallStatus = "green",
}
""" % (v["id"], vstr(v["power"]), 2800 * v.get("cpus", 2), v.get("memory_mb", 4096), vstr(v.get("guest", "")),
       vstr(status), vstr(legacy), vstr(st2), vstr(running), vstr(name),
       vstr("[%s] %s/%s.vmx" % (v.get("datastore", "datastore1"), name, name)), v.get("memory_mb", 4096),
       v.get("cpus", 2), vstr("564d%04x-0000-0000-0000-%012x" % (int(v["id"]) % 65536, int(v["id"]))),
       vstr(v.get("guest", "")), vstr(v.get("guest_full_name", v.get("guest", ""))), vstr(v.get("annotation", "")),
       v.get("hw", 14)))


def cmd_get_guest(h, m):
    """CONSTRUCTED (as vmsvc-get.guest/constructed-11.txt), head REAL from
    josenk/terraform-provider-esxi#101."""
    v = vm_or_fail(h, m.group(1))
    status, legacy, st2, running = tools_fields(v)
    ver = v.get("tools_version", "0") if st2 != "guestToolsNotInstalled" else "0"
    h.out("""Guest information:

(vim.vm.GuestInfo) {
   toolsStatus = %s,
   toolsVersionStatus = %s,
   toolsVersionStatus2 = %s,
   toolsRunningStatus = %s,
   toolsVersion = %s,
   toolsInstallType = %s,
   toolsUpdateStatus = (vim.vm.GuestInfo.ToolsUpdateStatus) null,
   guestId = %s,
   guestFamily = %s,
   guestFullName = %s,
   hostName = %s,
   ipAddress = <unset>,
   net = (vim.vm.GuestInfo.NicInfo) [
   ],
   guestState = %s,
}
""" % (vstr(status), vstr(legacy), vstr(st2), vstr(running), vstr(ver),
       vstr("guestToolsTypeUnknown" if st2 == "guestToolsNotInstalled" else v.get("tools_install_type", "guestToolsTypeOpenVMTools")),
       vstr(v.get("guest", "")), vstr("windowsGuest" if "win" in v.get("guest", "") else "linuxGuest"),
       vstr(v.get("guest_full_name", v.get("guest", ""))), vstr(v["name"]),
       vstr("running" if v["power"] == "poweredOn" else "notRunning")))


def snapshot_children(v, parent):
    return [s for s in v.get("snapshots", []) if s.get("parent") == parent]


def cmd_get_snapshotinfo(h, m):
    """CONSTRUCTED (as vmsvc-get.snapshotinfo/constructed-tree.txt) from the
    vSphere API reference of vim.vm.SnapshotInfo; nothing for a VM without
    snapshots (vmsvc-get.snapshotinfo/none.txt)."""
    v = vm_or_fail(h, m.group(1))
    if not v.get("snapshots"):
        return

    def tree(parent, ind):
        items = []
        pad = " " * ind
        for s in snapshot_children(v, parent):
            kids = snapshot_children(v, s["id"])
            child = ("(vim.vm.SnapshotTree) [\n%s\n%s   ]" % (tree(s["id"], ind + 6), pad)) if kids else "<unset>"
            items.append("""%s(vim.vm.SnapshotTree) {
%s   snapshot = 'vim.vm.Snapshot:%s-snapshot-%s',
%s   vm = 'vim.VirtualMachine:%s',
%s   name = %s,
%s   description = %s,
%s   id = %s,
%s   createTime = %s,
%s   state = %s,
%s   quiesced = %s,
%s   backupManifest = <unset>,
%s   childSnapshotList = %s,
%s   replaySupported = false,
%s}""" % (pad, pad, v["id"], s["id"], pad, v["id"], pad, vstr(s["name"]), pad, vstr(s.get("description", "")),
                pad, s["id"], pad, vstr(s.get("created", "")), pad, vstr(s.get("state", "poweredOff")), pad,
                vbool(s.get("quiesced", False)), pad, pad, child, pad, pad))
        return ",\n".join(items)

    cur = v.get("current_snapshot") or v["snapshots"][-1]["id"]
    h.out("Get Snapshot Info:\n(vim.vm.SnapshotInfo) {\n   currentSnapshot = 'vim.vm.Snapshot:%s-snapshot-%s',\n"
          "   rootSnapshotList = (vim.vm.SnapshotTree) [\n%s\n   ]\n}\n" % (v["id"], cur, tree(None, 6)))


def cmd_snapshot_get(h, m):
    """REAL layout (vmsvc-get.snapshotinfo/snapshot-get-layout.txt, one root
    snapshot); children indented with two more dashes: CONSTRUCTED."""
    v = vm_or_fail(h, m.group(1))
    out = ["Get Snapshot:"]

    def walk(parent, depth):
        for s in snapshot_children(v, parent):
            d = "--" * depth
            out.append("%s|-%s" % (d, "ROOT" if depth == 0 else "CHILD"))
            created = time.strftime("%m/%d/%Y %H:%M:%S", time.gmtime(parse_iso(s.get("created", iso(0)))))
            out.append("%s--Snapshot Name        : %s" % (d, s["name"]))
            out.append("%s--Snapshot Id        : %s" % (d, s["id"]))
            out.append("%s--Snapshot Desciption  : %s" % (d, s.get("description", "")))
            out.append("%s--Snapshot Created On  : %s" % (d, created))
            out.append("%s--Snapshot State       : %s" % (d, "powered on" if s.get("state") == "poweredOn"
                                                          else "powered off"))
            walk(s["id"], depth + 1)

    walk(None, 0)
    h.out("\n".join(out) + "\n")


def cmd_power_on(h, m):
    h.count()
    # REAL banner and failure layout: ESXi 9.0 lab notes (find_string id
    # 49324877612) and the VCL vSphere module's notes (id 2210528385).
    h.out("Powering on VM:\n")
    v = vm_or_fail(h, m.group(1))
    if h.state["maintenance"]:
        # The fault and message are REAL (vmware/vic#2244, a host in
        # maintenance mode); their use for power.on is CONSTRUCTED.
        h.fail("Power on failed: " + fault("vim.fault.InvalidState", [],
                                           "The operation is not allowed in the current state."), 1, stdout=True)
    if v["power"] == "poweredOn":
        h.fail("Power on failed: " + invalid_power_state("poweredOff", "poweredOn"), 1, stdout=True)
    v["power"] = "poweredOn"
    v.pop("shutdown_at", None)
    h.changed()


def cmd_power_off(h, m):
    h.count()
    h.out("Powering off VM:\n")
    v = vm_or_fail(h, m.group(1))
    if v["power"] == "poweredOff":
        h.fail("Power off failed: " + invalid_power_state("poweredOn", "poweredOff"), 1, stdout=True)
    v["power"] = "poweredOff"
    v.pop("shutdown_at", None)
    h.changed()


def cmd_power_shutdown(h, m):
    h.count()
    v = vm_or_fail(h, m.group(1))
    # Exit status 1 when the guest cannot be shut down: REAL (scripts fall back
    # to power.off on `$? -eq 1`, find_string id 16921877533).
    if v["power"] != "poweredOn":
        h.fail(invalid_power_state("poweredOn", v["power"]), 1, stdout=True)
    if not tools_running(v):
        h.fail(tools_unavailable(), 1, stdout=True)
    if h.fault("shutdown_ignored"):
        return  # the guest ignores the request: it stays on
    delay = float(h.state.get("shutdown_seconds", 0))
    if delay > 0:
        v["shutdown_at"] = now() + delay
    else:
        v["power"] = "poweredOff"
    h.changed()


def cmd_tools_upgrade(h, m):
    h.count()
    v = vm_or_fail(h, m.group(1))
    if v["power"] != "poweredOn":
        h.fail(invalid_power_state("poweredOn", v["power"]), 1, stdout=True)
    if not tools_running(v):
        h.fail(tools_unavailable(), 1, stdout=True)
    v["tools"] = "guestToolsCurrent"
    v["tools_version"] = bundled_tools_version(h.state)
    h.changed()


def bundled_tools_version(s):
    """The toolsVersion number (major*1024 + minor*32 + patch) of the Tools in
    the host's tools-light VIB (11.0.5.15389592-15843807 -> 11269)."""
    for x in s.get("vibs", []):
        if x["name"] == "tools-light":
            f = (x["version"].split("-")[0].split(".") + ["0", "0", "0"])[:3]
            try:
                return str(int(f[0]) * 1024 + int(f[1]) * 32 + int(f[2]))
            except ValueError:
                break
    return "10346"


def cmd_vm_upgrade(h, m):
    h.count()
    v = vm_or_fail(h, m.group(1))
    target = int(m.group(2))
    if v["power"] != "poweredOff":
        h.fail(invalid_power_state("poweredOff", v["power"]), 1, stdout=True)
    if target <= int(v.get("hw", 14)):
        # CONSTRUCTED message (the API names the fault vim.fault.AlreadyUpgraded).
        h.fail(fault("vim.fault.AlreadyUpgraded", [], "Virtual machine compatibility is already up-to-date."),
               1, stdout=True)
    top = MAX_VMX.get(major_of(h.state["version"]), 21)
    if target > top:
        # CONSTRUCTED: the type of this fault in the API is vmodl.fault.NotSupported.
        h.fail(fault("vmodl.fault.NotSupported", [], "The operation is not supported on the object."),
               1, stdout=True)
    v["hw"] = target
    h.changed()


def cmd_snapshot_create(h, m):
    h.count()
    args = shlex.split(m.group(1))
    v = vm_or_fail(h, args[0])
    name = args[1] if len(args) > 1 else "snapshot"
    desc = args[2] if len(args) > 2 else ""
    memory = len(args) > 3 and args[3] in ("1", "true")
    quiesce = len(args) > 4 and args[4] in ("1", "true")
    # REAL banner pattern (`Remove All Snapshots:`, kuiper notes; `Get Snapshot:`).
    h.out("Create Snapshot:\n")
    if quiesce and not tools_running(v):
        h.fail("Create Snapshot failed: " + tools_unavailable(), 1, stdout=True)
    ids = [s["id"] for s in v.get("snapshots", [])]
    sid = max(ids + [int(v.get("last_snapshot_id", 0))]) + 1
    v["last_snapshot_id"] = sid
    v.setdefault("snapshots", []).append({
        "id": sid, "name": name, "description": desc, "created": iso(now()),
        "state": "poweredOn" if v["power"] == "poweredOn" and memory else "poweredOff",
        "quiesced": quiesce, "parent": v.get("current_snapshot"),
    })
    v["current_snapshot"] = sid
    h.changed()


def cmd_snapshot_remove(h, m):
    h.count()
    v = vm_or_fail(h, m.group(1))
    sid = int(m.group(2))
    h.out("Remove Snapshot:\n")
    snaps = v.get("snapshots", [])
    target = next((s for s in snaps if int(s["id"]) == sid), None)
    if target is None:
        # REAL message of vim.fault.NotFound (VCL vSphere module notes, id 2210528385).
        h.fail(fault("vim.fault.NotFound", [], "The object or item referred to could not be found."), 1,
               stdout=True)
    for s in snaps:
        if s.get("parent") == sid:
            s["parent"] = target.get("parent")
    v["snapshots"] = [s for s in snaps if int(s["id"]) != sid]
    if v.get("current_snapshot") == sid:
        v["current_snapshot"] = target.get("parent")
    h.changed()


def cmd_snapshot_removeall(h, m):
    h.count()
    v = vm_or_fail(h, m.group(1))
    h.out("Remove All Snapshots:\n")  # REAL (kuiper notes)
    v["snapshots"] = []
    v["current_snapshot"] = None
    h.changed()


# ------------------------------------------------------------------ services (KB 76372)


def cmd_slpd_status(h, m):
    # REAL wording (slpd-status fixture; `slpd is running` per the parser).
    h.out("slpd is running\n" if h.state["slpd"]["running"] else "slpd is not running\n")


def cmd_slpd_stop(h, m):
    h.count()
    if not h.state["slpd"]["running"]:
        h.out("slpd is not running\n")  # CONSTRUCTED
        return
    h.out("Stopping slpd\n")  # as KB 76372 shows it
    h.state["slpd"]["running"] = False
    h.changed()


def cmd_slpd_start(h, m):
    h.count()
    if h.state["slpd"]["running"]:
        h.out("slpd is already running\n")  # CONSTRUCTED
        return
    h.out("Starting slpd\n")  # CONSTRUCTED, symmetric to `Stopping slpd`
    h.state["slpd"]["running"] = True
    h.changed()


def cmd_chkconfig_list(h, m):
    # Layout of slpd-chkconfig/constructed-off.txt (KB 76372).
    h.out("%-24s%s\n" % ("slpd", h.state["slpd"].get("policy", "on")))


def cmd_chkconfig_set(h, m):
    h.count()
    h.state["slpd"]["policy"] = m.group(1)
    h.changed()


def cmd_firewall_list(h, m):
    # CONSTRUCTED XML of the documented Name/Enabled columns (firewall-cimslp fixture).
    name = m.group(1)
    h.out(xml_doc(xml_list("Ruleset", [[("Enabled", "boolean", ruleset(h, name)), ("Name", "string", name)]])))


def cmd_firewall_set(h, m):
    h.count()
    name, on = m.group(1), m.group(2) in ("1", "true")
    if name == "CIMSLP":
        h.state["cimslp"] = on
    else:
        h.state.setdefault("rulesets", {})[name] = on
    h.changed()


# ------------------------------------------------------------------ licence


def license_block(h):
    s = h.state
    lic = s.get("license")
    major = major_of(s["version"])
    if not lic:
        # REAL layout and values: license-show/6.0-evaluation.txt.
        boot = parse_iso(s["boot_time"])
        left = max(0, int(boot + 60 * 86400 - now()))
        return ("   serial: 00000-00000-00000-00000-00000\n   vmodl key: eval\n   name: Evaluation Mode\n"
                "   total: 1\n   used:  1\n   unit: host\n   Properties:\n     [ProductName] = VMware ESX Server\n"
                "     [ProductVersion] = %d.0\n     [evaluation] = License has not been set, evaluation Period in effect.\n"
                "     [expirationHours] = %d\n     [expirationMinutes] = %d\n     [expirationDate] = %s\n"
                "     [system_time] = %s\n" % (major, left // 3600, left // 60 % 60,
                                              iso(boot + 60 * 86400).replace("Z", ".000000Z"),
                                              iso(now()).replace("Z", ".000000Z")))
    edition = lic.get("edition", "vSphere %d Enterprise Plus" % major)
    low = edition.lower()
    if "hypervisor" in low:
        key, unit = "esx.hypervisor.cpuPackageCoreLimited", "cpuPackage:32core"
    else:
        word = next((w for w in ("enterprisePlus", "enterprise", "standard", "essentialsPlus", "essentials")
                     if w.lower() in low.replace(" ", "")), "enterprisePlus")
        key, unit = "esx.%s.cpuPackage" % word, "cpuPackage"
    # REAL layout: license-show/7.0-hypervisor.txt (vmodl key and unit of
    # other editions CONSTRUCTED).
    return ("   serial: %s\n   vmodl key: %s\n   name: %s\n   total: 0\n   used: %d\n   unit: %s\n   Properties:\n"
            "     [ProductName] = VMware ESX Server\n     [ProductVersion] = %s.0\n"
            "     [count_disabled] = This license is unlimited\n     [feature] = vsmp:0 (\"Unlimited virtual SMP\")\n"
            "     [FileVersion] = %s.1\n%s"
            % (lic["key"], key, edition, DEFAULT_HARDWARE["cpu_packages"], unit, lic.get("version", major),
               s["version"], ("     [expirationDate] = %s\n" % lic["expires"]) if lic.get("expires") else ""))


def cmd_license_show(h, m):
    # REAL header line: license-show/6.0-evaluation.txt, 9.0-evaluation.txt.
    h.out("[200] Sending request for installed licenses...[200] Complete, result is:\n" + license_block(h))


def cmd_license_set(h, m):
    h.count()
    key = sys.stdin.readline().strip()
    s = h.state
    major = major_of(s["version"])
    catalog = s.get("license_keys")
    ok = bool(re.fullmatch(r"[A-Z0-9]{5}(-[A-Z0-9]{5}){4}", key)) and key != "00000-00000-00000-00000-00000"
    entry = {}
    if ok and catalog is not None:
        entry = catalog.get(key)
        ok = entry is not None and int(str(entry.get("version", major)).split(".")[0]) >= major
    if not ok:
        masked = re.sub(r"[A-Z0-9](?=[A-Z0-9-]{5})", "*", key) if key else ""
        # CONSTRUCTED: the API's fault type; message and layout as the other faults.
        h.fail(fault("vim.fault.InvalidLicense", [("licenseContent", vstr(masked))],
                     "The license key is not valid for this host."), 1, stdout=True)
    s["license"] = {"key": key, "edition": entry.get("edition", "vSphere %d Enterprise Plus" % major),
                    "version": str(entry.get("version", major))}
    h.changed()
    # REAL: `--set` prints a blank line, then the licence in the --show layout
    # (license-show/7.0-hypervisor.txt).
    h.out("\n" + license_block(h))


# ------------------------------------------------------------------ boot, firmware, secure boot


def boot_cfg(build, bootstate, updated):
    # Layout of the bootbank/altbootbank fixtures (CONSTRUCTED from the REAL 4.1 layout).
    return ("bootstate=%d\ntitle=Loading VMware ESXi\ntimeout=5\nprefix=\nkernel=b.b00\nkernelopt=autoPartition=FALSE\n"
            "modules=jumpstrt.gz --- useropts.gz --- features.gz --- k.b00 --- uc_intel.b00 --- uc_amd.b00 --- "
            "procfs.b00 --- vmx.v00 --- vim.v00 --- sb.v00 --- s.v00 --- imgdb.tgz --- state.tgz\n"
            "build=%s\nupdated=%d\n" % (bootstate, build, updated))


def write_boot_files(h):
    s = h.state
    n = int(s.get("boot_updated", 3))
    files = {"/bootbank/boot.cfg": boot_cfg(boot_build_string(s), 0, n)}
    alt = s.get("altbootbank")
    if alt:
        files["/altbootbank/boot.cfg"] = boot_cfg(alt["build"], int(alt.get("bootstate", 0)),
                                                  n + 1 if alt.get("bootstate") == 1 else max(n - 1, 1))
    for p in ("/bootbank/boot.cfg", "/altbootbank/boot.cfg"):
        local = h.fs(p)
        if p in files:
            os.makedirs(os.path.dirname(local), exist_ok=True)
            with open(local, "w") as f:
                f.write(files[p])
        elif os.path.exists(local):
            os.remove(local)
    gv = h.fs("/opt/ghettovcb/bin/ghettoVCB.sh")
    if s.get("ghettovcb"):
        if not os.path.exists(gv):
            os.makedirs(os.path.dirname(gv), exist_ok=True)
            with open(gv, "w") as f:
                f.write("#!/bin/sh\n# ghettoVCB (stand-in of the fake ESXi host)\n")
    elif os.path.exists(gv):
        os.remove(gv)


def cmd_secureboot_state(h, m):
    if h.state.get("firmware", "uefi") != "uefi":
        # CONSTRUCTED: a BIOS host has no Secure Boot (docs/collect-commands.md:
        # the output stays empty).
        h.fail("Secure Boot is not supported on this platform (legacy BIOS).\n")
    # REAL values Enabled/Disabled (DISA STIG check text, secureboot-state fixture).
    h.out("Enabled\n" if h.state.get("secure_boot") else "Disabled\n")


def cmd_secureboot_check(h, m):
    if h.state.get("firmware", "uefi") != "uefi":
        h.fail("Secure Boot is not supported on this platform (legacy BIOS).\n")
    vibs = h.state.get("vibs", [])
    bad = [v["name"] for v in vibs if v.get("acceptance") == "CommunitySupported"]
    if h.state.get("secure_boot_signatures_lost"):
        bad += [v["name"] for v in vibs if v["vendor"] in ("VMware", "VMW")][:3]
    # Wording of secureboot-check/cannot.txt (CONSTRUCTED from the STIG text).
    if bad:
        h.out("Secure boot CANNOT be enabled: Failed to verify signatures of the following vib(s): [%s]. "
              "All tardisks validated. All acceptance levels are valid.\n" % ", ".join(bad))
    else:
        h.out("Secure boot can be enabled: All vib signatures verified. All tardisks validated. "
              "All acceptance levels are valid.\n")


def cmd_firmware_type(h, m):
    # CONSTRUCTED (firmware-type/constructed-uefi.txt).
    h.out("UEFI\n" if h.state.get("firmware", "uefi") == "uefi" else "BIOS\n")


# ------------------------------------------------------------------ storage


def used_bytes(h, ds):
    root = h.fs("/vmfs/volumes/%s" % ds["name"])
    total = 0
    for d, _, files in os.walk(root):
        for f in files:
            total += os.path.getsize(os.path.join(d, f))
    return total


def cmd_filesystem_list(h, m):
    """CONSTRUCTED XML of the REAL table columns (storage-filesystem-list/8.0.3.txt):
    the state's datastores (free space less what was uploaded), then the
    OSDATA and bootbank volumes of that fixture."""
    rows = []
    for ds in h.state.get("datastores", []):
        u = ds_uuid(ds)
        rows.append(("/vmfs/volumes/" + u, ds["name"], u, "VMFS-6", int(ds["capacity"]),
                     max(0, int(ds["free"]) - used_bytes(h, ds))))
    for name, u, ty, size, free in (
            ("OSDATA-6824ca0f-f9173a53-55ca-90b11c3cc561", "6824ca0f-f9173a53-55ca-90b11c3cc561", "VMFSOS",
             128580583424, 122972798976),
            ("BOOTBANK1", "1625b350-a74a0254-b68c-3f9c8a969ecd", "vfat", 4293591040, 4077060096),
            ("BOOTBANK2", "f904d0cb-b0472b50-b19e-0f73a37f49da", "vfat", 4293591040, 4021878784)):
        rows.append(("/vmfs/volumes/" + u, name, u, ty, size, free))
    h.out(xml_doc(xml_list("FilesystemVolume", [[
        ("Free", "integer", r[5]), ("Mounted", "boolean", True), ("MountPoint", "string", r[0]),
        ("Size", "integer", r[4]), ("Type", "string", r[3]), ("UUID", "string", r[2]),
        ("VolumeName", "string", r[1])] for r in rows])))


# ------------------------------------------------------------------ files (busybox ash wording)


def one_path(h, text):
    try:
        args = shlex.split(text)
    except ValueError:
        h.fail("sh: syntax error: unterminated quoted string\n", 2)
    if len(args) != 1:
        h.fail("sh: %s: not found\n" % h.cmd, 127)
    return args[0]


def cmd_cat(h, m):
    p = one_path(h, m.group(1))
    local = h.fs(p)
    if local is None or not os.path.isfile(local):
        h.fail("cat: can't open '%s': No such file or directory\n" % p)  # REAL busybox wording
    with open(local, "rb") as f:
        h.out(f.read())


def cmd_cat_upload(h, m):
    h.count()
    p = one_path(h, m.group(1))
    local = h.fs(p)
    if local is None or not os.path.isdir(os.path.dirname(local)):
        h.fail("sh: can't create %s: nonexistent directory\n" % p)  # REAL busybox wording
    data = sys.stdin.buffer.read()
    if (h.state.get("faults") or {}).get("upload_corrupt"):
        # A transfer that went wrong on the way (CONSTRUCTED): half the bytes arrive.
        data = data[:len(data) // 2]
    if p.startswith("/vmfs/volumes/"):
        ds = h.datastore(p.split("/")[3])
        if used_bytes(h, ds) + len(data) > int(ds["free"]):
            h.fail("cat: write error: No space left on device\n")
    with open(local + ".part", "wb") as f:
        f.write(data)
    os.replace(local + ".part", local)


def cmd_mkdir(h, m):
    h.count()
    p = one_path(h, m.group(1))
    local = h.fs(p)
    if local is None:
        # CONSTRUCTED: /vmfs/volumes holds only mounted volumes.
        h.fail("mkdir: can't create directory '%s': Operation not permitted\n" % p)
    os.makedirs(local, exist_ok=True)


def cmd_rm(h, m):
    h.count()
    p = one_path(h, m.group(2))
    local = h.fs(p)
    if local is None or not os.path.exists(local):
        if "f" not in m.group(1):
            h.fail("rm: can't remove '%s': No such file or directory\n" % p)
        return
    if os.path.isdir(local):
        if "r" not in m.group(1):
            h.fail("rm: '%s' is a directory\n" % p)
        for d, dirs, files in os.walk(local, topdown=False):
            for f in files:
                os.remove(os.path.join(d, f))
            for x in dirs:
                os.rmdir(os.path.join(d, x))
        os.rmdir(local)
    else:
        os.remove(local)


def cmd_sha256sum(h, m):
    import hashlib

    p = one_path(h, m.group(1))
    local = h.fs(p)
    if local is None or not os.path.isfile(local):
        h.fail("sha256sum: %s: No such file or directory\n" % p)  # REAL busybox wording
    d = hashlib.sha256()
    with open(local, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            d.update(chunk)
    h.out("%s  %s\n" % (d.hexdigest(), p))


def cmd_ls(h, m):
    p = one_path(h, m.group(1))
    local = h.fs(p)
    if local is None or not os.path.exists(local):
        h.fail("ls: %s: No such file or directory\n" % p)  # REAL busybox wording
    if os.path.isdir(local):
        h.out("".join(n + "\n" for n in sorted(os.listdir(local))))
    else:
        h.out(p + "\n")


# ------------------------------------------------------------------ ghettoVCB


def cmd_ghettovcb(h, m):
    h.count()
    if not h.state.get("ghettovcb"):
        h.fail("sh: /opt/ghettovcb/bin/ghettoVCB.sh: not found\n", 127)
    args = shlex.split(m.group(1))
    opts = {args[i]: args[i + 1] for i in range(0, len(args) - 1) if args[i].startswith("-")}
    conf = {}
    if "-g" in opts:
        local = h.fs(opts["-g"])
        if local is None or not os.path.isfile(local):
            h.fail("%s -- info: ERROR: Unable to locate configuration file %s\n" % (stamp(), opts["-g"]), 1,
                   stdout=True)
        with open(local) as f:
            for line in f:
                k, eq, val = line.strip().partition("=")
                if eq and not k.startswith("#"):
                    conf[k.strip()] = val.strip().strip('"').strip("'")
    names = []
    if "-f" in opts:
        local = h.fs(opts["-f"])
        if local is not None and os.path.isfile(local):
            with open(local) as f:
                names = [x.strip() for x in f if x.strip() and not x.startswith("#")]
    elif "-m" in opts:
        names = [opts["-m"]]
    volume = conf.get("VM_BACKUP_VOLUME", "/vmfs/volumes/datastore1/backups")
    # REAL log lines: ghettoVCB run logs (find_string ids 22169542160,
    # 61488481996, 6111129736) and ghettoVCB.sh's getFinalStatus (id 1214315309).
    log = ["%s -- info: ============================== ghettoVCB LOG START ==============================" % stamp()]
    if "-g" in opts:
        log.append("%s -- info: CONFIG - USING GLOBAL GHETTOVCB CONFIGURATION FILE = %s" % (stamp(), opts["-g"]))
    log.append("%s -- info: CONFIG - VERSION = 2021_10_20_1" % stamp())
    ok = failed = 0
    for name in names:
        v = next((x for x in h.state.get("vms", []) if x["name"] == name), None)
        if v is None or h.fault("ghettovcb_fail"):
            log.append("%s -- info: ERROR: failed to locate and extract VM_ID for %s!\n" % (stamp(), name))
            failed += 1
            continue
        log.append("%s -- info: Initiate backup for %s" % (stamp(), name))
        if v["power"] == "poweredOn":
            log.append("%s -- info: Creating Snapshot \"ghettoVCB-snapshot-%s\" for %s" % (stamp(), today(), name))
        d = h.fs("%s/%s/%s-%s" % (volume.rstrip("/"), name, name, time.strftime("%Y-%m-%d_%H-%M-%S",
                                                                               time.gmtime(now()))))
        if d is None:
            log.append("%s -- info: ERROR: Failed to backup %s!\n" % (stamp(), name))
            failed += 1
            continue
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "%s.vmx" % name), "w") as f:
            f.write('displayName = "%s"\nvirtualHW.version = "%s"\n' % (name, v.get("hw", 14)))
        with open(os.path.join(d, "STATUS.ok"), "w") as f:
            f.write("Successfully completed backup\n")
        if v["power"] == "poweredOn":
            log.append("%s -- info: Removing snapshot from %s ..." % (stamp(), name))
        log.append("%s -- info: Backup Duration: 1 Seconds" % stamp())
        log.append("%s -- info: Successfully completed backup for %s!\n" % (stamp(), name))
        ok += 1
    if ok and not failed:
        final, status = "All VMs backed up OK!", 0
    elif ok:
        final, status = "ERROR: Only some of the VMs backed up!", 4
    elif failed:
        final, status = "ERROR: All VMs failed!", 6
    else:
        final, status = "ERROR: No VMs backed up!", 7
    log.append("%s -- info: ###### Final status: %s ######\n" % (stamp(), final))
    log.append("%s -- info: ============================== ghettoVCB LOG END ================================" % stamp())
    h.out("\n".join(log) + "\n")
    if status:
        raise Exit(status)


def stamp():
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now()))


# ------------------------------------------------------------------ dispatch


def exact(s):
    return "^" + re.escape(s) + "$"


# (pattern over the whole command line, handler). Handlers of state-changing
# commands call h.count() (calls.json) themselves.
COMMANDS = [
    # system
    (exact("esxcli --formatter=xml system version get"), cmd_version_get),
    (exact("vmware -vl"), cmd_vmware_vl),
    (exact("esxcli --formatter=xml system hostname get"), cmd_hostname_get),
    (exact("esxcli system stats uptime get"), cmd_uptime),
    (exact("esxcli --formatter=xml system maintenanceMode get"), cmd_maintenance_get),
    (r"^esxcli system maintenanceMode set (?:--enable|-e) (true|false)$", cmd_maintenance_set),
    (r"^esxcli system shutdown reboot (?:-r|--reason) .+$", cmd_reboot),
    # software
    (exact("esxcli --formatter=xml software profile get"), cmd_profile_get),
    (exact("esxcli --formatter=xml software vib list"), cmd_vib_list),
    (exact("esxcli --formatter=xml software acceptance get"), cmd_acceptance_get),
    (r"^esxcli software profile update (.+)$", cmd_profile_update),
    # hostsvc
    (exact("vim-cmd hostsvc/hostsummary"), cmd_hostsummary),
    (exact("vim-cmd hostsvc/firmware/sync_config"), cmd_sync_config),
    (exact("vim-cmd hostsvc/firmware/backup_config"), cmd_backup_config),
    (exact("vim-cmd hostsvc/autostartmanager/get_autostartseq"), cmd_autostart_seq),
    # vmsvc
    (exact("vim-cmd vmsvc/getallvms"), cmd_getallvms),
    (r"^vim-cmd vmsvc/get\.summary (\d+)$", cmd_get_summary),
    (r"^vim-cmd vmsvc/get\.guest (\d+)$", cmd_get_guest),
    (r"^vim-cmd vmsvc/get\.snapshotinfo (\d+)$", cmd_get_snapshotinfo),
    (r"^vim-cmd vmsvc/snapshot\.get (\d+)$", cmd_snapshot_get),
    (r"^vim-cmd vmsvc/power\.on (\d+)$", cmd_power_on),
    (r"^vim-cmd vmsvc/power\.off (\d+)$", cmd_power_off),
    (r"^vim-cmd vmsvc/power\.shutdown (\d+)$", cmd_power_shutdown),
    (r"^vim-cmd vmsvc/tools\.upgrade (\d+)$", cmd_tools_upgrade),
    (r"^vim-cmd vmsvc/upgrade (\d+) vmx-(\d+)$", cmd_vm_upgrade),
    (r"^vim-cmd vmsvc/snapshot\.create (\d+(?: .*)?)$", cmd_snapshot_create),
    (r"^vim-cmd vmsvc/snapshot\.remove (\d+) (\d+)(?: \S+)?$", cmd_snapshot_remove),
    (r"^vim-cmd vmsvc/snapshot\.removeall (\d+)$", cmd_snapshot_removeall),
    # services (VMware KB 76372)
    (exact("/etc/init.d/slpd status"), cmd_slpd_status),
    (exact("/etc/init.d/slpd stop"), cmd_slpd_stop),
    (exact("/etc/init.d/slpd start"), cmd_slpd_start),
    (exact("chkconfig --list slpd"), cmd_chkconfig_list),
    (r"^chkconfig slpd (on|off)$", cmd_chkconfig_set),
    (r"^esxcli --formatter=xml network firewall ruleset list -r (CIMSLP|httpClient)$", cmd_firewall_list),
    (r"^esxcli network firewall ruleset set -r (CIMSLP|httpClient) -e (0|1|true|false)$", cmd_firewall_set),
    # licence
    (exact("vim-cmd vimsvc/license --show"), cmd_license_show),
    (exact('read -r k && vim-cmd vimsvc/license --set "$k"'), cmd_license_set),
    # boot, firmware, secure boot
    (exact("/usr/lib/vmware/secureboot/bin/secureBoot.py -s"), cmd_secureboot_state),
    (exact("/usr/lib/vmware/secureboot/bin/secureBoot.py -c"), cmd_secureboot_check),
    (exact("vsish -e get /hardware/firmwareType"), cmd_firmware_type),
    # storage
    (exact("esxcli --formatter=xml storage filesystem list"), cmd_filesystem_list),
    # files
    (r"^cat > (.+)$", cmd_cat_upload),
    (r"^cat ([^>].*)$", cmd_cat),
    (r"^mkdir -p (.+)$", cmd_mkdir),
    (r"^rm (-[rf]+) (.+)$", cmd_rm),
    (r"^sha256sum (.+)$", cmd_sha256sum),
    (r"^ls (.+)$", cmd_ls),
    # ghettoVCB
    (r"^/opt/ghettovcb/bin/ghettoVCB\.sh (.+)$", cmd_ghettovcb),
]
DISPATCH = [(re.compile(p, re.S), f) for p, f in COMMANDS]


def saved_output(d, cmd):
    """The fixture output commands.map names for a read-only command, if any."""
    try:
        with open(os.path.join(d, "commands.map"), encoding="utf-8") as f:
            for line in f:
                name, tab, c = line.rstrip("\n").partition("\t")
                if tab and c == cmd and os.path.isfile(os.path.join(d, name)):
                    with open(os.path.join(d, name), "rb") as o:
                        return o.read()
    except OSError:
        pass
    return None


def save_json(path, value):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(value, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)


def count_call(d, cmd):
    path = os.path.join(d, "calls.json")
    try:
        with open(path) as f:
            calls = json.load(f)
    except (OSError, ValueError):
        calls = {}
    calls[cmd] = calls.get(cmd, 0) + 1
    save_json(path, calls)


def drop_connection():
    """The host is gone: kill the sshd process serving this session (as the
    DROP fixture of fake-esxi.sh does), so the client sees the connection die."""
    os.kill(os.getppid(), signal.SIGKILL)
    sys.exit(255)


# `CMD; printf '\n@@ESXUP-BATCH@@ %s\n' "$?"; CMD2; ...` (esxup-run's
# batch_command): the commands of one session.
BATCH_MARK = "@@ESXUP-BATCH@@"
BATCH_SUFFIX = "; printf '\\n%s %%s\\n' \"$?\"" % BATCH_MARK


def split_batch(cmd):
    """The commands of a batch line, or None for a single command."""
    if not cmd.endswith(BATCH_SUFFIX):
        return None
    parts = cmd[:-len(BATCH_SUFFIX)].split(BATCH_SUFFIX + "; ")
    return parts


def run_one(h, d, cmd, faults):
    """Answers one command into h's buffers; its exit status."""
    status = 0
    injected = (faults.get("fail") or {}).get(cmd)
    if injected is not None:
        h.out(injected.get("stdout", ""))
        h.err(injected.get("stderr", ""))
        status = int(injected.get("status", 1))
    else:
        for rx, fn in DISPATCH:
            m = rx.match(cmd)
            if m:
                try:
                    fn(h, m)
                except Exit as e:
                    status = e.status
                break
        else:
            saved = saved_output(d, cmd)
            if saved is not None:
                h.out(saved)
            else:
                # As the ESXi shell (busybox ash) words it.
                h.err("sh: %s: not found\n" % cmd)
                status = 127
    return status


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: esxi_host.py OUTPUTS_DIR\n")
        return 2
    d = argv[1]
    cmd = os.environ.get("SSH_ORIGINAL_COMMAND", "")
    state_path = os.path.join(d, "host-state.json")
    lock = open(os.path.join(d, "host.lock"), "a")
    fcntl.flock(lock, fcntl.LOCK_EX)
    parts = split_batch(cmd)
    # commands.log holds the commands the shell ran: a batch's one by one.
    with open(os.path.join(d, "commands.log"), "a", encoding="utf-8") as f:
        f.write("".join(c + "\n" for c in (parts or [cmd])))
    with open(state_path, encoding="utf-8") as f:
        state = json.load(f)
    h = Host(d, cmd)
    h.state = state
    # Down (rebooting, or never coming back): the session is cut at once.
    if state.get("never_back") and state.get("down_until") is not None:
        drop_connection()
    if state.get("down_until") is not None:
        if now() < state["down_until"]:
            drop_connection()
        complete_reboot(state, state["down_until"])
        h.changed()
    if settle_vms(state):
        h.changed()
    write_boot_files(h)
    faults = state.get("faults") or {}
    if faults.get("drop") in (parts or [cmd]):
        drop_connection()
    if faults.get("hang") in (parts or [cmd]):
        # The command never answers: the lock is released so other sessions go on.
        fcntl.flock(lock, fcntl.LOCK_UN)
        time.sleep(float(faults.get("hang_seconds", 30)))
        return 1
    if parts is None:
        status = run_one(h, d, cmd, faults)
    else:
        # One session, several commands (esxup's observation of the host):
        # the shell runs each in turn and printf marks its end and status.
        status = 0
        for sub in parts:
            h.cmd = sub
            status = run_one(h, d, sub, faults)
            h.out("\n%s %d\n" % (BATCH_MARK, status))
        h.cmd = cmd
    if h.dirty:
        save_json(state_path, state)
        write_boot_files(h)
    fcntl.flock(lock, fcntl.LOCK_UN)
    sys.stdout.buffer.write(h.stdout.getvalue())
    sys.stdout.buffer.flush()
    sys.stderr.buffer.write(h.stderr.getvalue())
    sys.stderr.buffer.flush()
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
