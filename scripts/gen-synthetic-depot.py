#!/usr/bin/env python3
"""gen-synthetic-depot.py: write a synthetic ESXi software depot in the real
schema (index.xml -> vendor index -> metadata zips with vibs/, bulletins/,
profiles/, vmware.xml) for esxup's end-to-end tests and benchmarks.

    scripts/gen-synthetic-depot.py OUTDIR            # full size: ~1,500 profiles, ~25,000 VIBs
    scripts/gen-synthetic-depot.py OUTDIR --small    # a few dozen profiles, for tests

Nothing it writes is committed; tests and scripts/bench-depot.sh generate it
into a temporary directory.

What is real and what is synthetic
----------------------------------
* Key image profiles are built from REAL VIB lists (crates/esxup-depot/tests/
  fixtures/vibsets/, copied from the research notes; each file names its
  public source): a 6.7 host at P06 driver builds (HPE EP23 host,
  vmkusb 0.1-4vmw.670.3.159.18828794), a 6.7 P01 host, 6.7 GA standard,
  7.0 GA, 7.0 U2a (partial reconstruction), 7.0 U3g, 7.0 U3i and an HPE 7.0 U3o
  add-on image.
* Everything else is SYNTHETIC and marked so: filler releases and profiles
  are named `SYNTH-...`, their VIB versions carry `synth` and build numbers
  from 90000000 up (no real ESXi build is that high), release dates are made up.
* Relationships are synthetic but follow the pattern real descriptors show
  (research depot fixtures): native drivers depend on `vmkapi_2_N_0_0` and
  `vmkapi_incompat_2_N_0_0` of their release; vmklinux drivers on
  `vmkapi_2_2_0_0` and `com.vmware.driverAPI-9.2.2.0`; esx-base provides the
  vmkapi levels of its release and the incompat levels of its major only.
  The per-release API levels below are a model, not VMware data.
  From these first principles the seed's case follows: `profile update`
  of the 6.7 P06-like host to ESXi-7.0U2a-17867351-standard skips the older
  7.0 U2a vmkusb, keeps the newer 6.7 one, which then requires
  vmkapi_incompat_2_5_0_0 that 7.0's esx-base does not provide.
"""

import hashlib
import os
import random
import re
import sys
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
VIBSETS = os.path.join(HERE, "..", "crates", "esxup-depot", "tests", "fixtures", "vibsets")

# Synthetic model: vmkapi level per (major.minor, update).
API = {
    ("5.5", 0): 2, ("5.5", 1): 2, ("5.5", 2): 2, ("5.5", 3): 2,
    ("6.0", 0): 3, ("6.0", 1): 3, ("6.0", 2): 3, ("6.0", 3): 3,
    ("6.5", 0): 4, ("6.5", 1): 4, ("6.5", 2): 4, ("6.5", 3): 4,
    ("6.7", 0): 5, ("6.7", 1): 5, ("6.7", 2): 5, ("6.7", 3): 5,
    ("7.0", 0): 6, ("7.0", 1): 7, ("7.0", 2): 8, ("7.0", 3): 9,
    ("8.0", 0): 10, ("8.0", 1): 11, ("8.0", 2): 12, ("8.0", 3): 13,
}
MAJOR_FIRST_API = {"5": 0, "6": 2, "7": 6, "8": 10}
VMKLINUX_PREFIXES = ("net-", "scsi-", "sata-", "ata-", "block-", "ehci-", "ohci-", "uhci-", "xhci-",
                     "ipmi-", "misc-drivers", "usb-storage", "char-", "hid-", "qlnativefc-")
REAL_TAGS = {
    # PCIID tags seen in real descriptors (research depot fixtures).
    "vmkusb": ["................0c0300", "................0c0310", "................0c0320", "................0c0330"],
    "nvme-pcie": ["................010802"],
}


def read_vibset(name):
    ids = []
    with open(os.path.join(VIBSETS, name), encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                ids.append(line)
    return ids


def split_id(vib_id):
    vendor, kind, rest = vib_id.split("_", 2)
    name, version = rest.rsplit("_", 1)
    return vendor, kind, name, version


def branch_of(version):
    """(major.minor, update) of a VIB version, or None."""
    for m in (re.search(r"(?:vmw|OEM|synth)\.(\d)(\d)(\d)\.", version), re.match(r"(\d)\.(\d)\.(\d)-", version)):
        if m:
            br = ("%s.%s" % (m.group(1), m.group(2)), int(m.group(3)))
            if br in API:
                return br
    return None


def api_of(br):
    return API.get(br, API.get((br[0], 0), 5)) if br else None


def is_driver(vendor, name):
    if vendor in ("VMware", "HPE"):
        return False
    return name not in ("tools-light",)


def is_vmklinux(vendor, name, br):
    return vendor in ("VMW", "VMware") and br is not None and br[0] < "7" and name.startswith(VMKLINUX_PREFIXES)


def h(s, n=64):
    return hashlib.sha256(s.encode()).hexdigest()[:n]


def pci_tags(name):
    if name in REAL_TAGS:
        return ["PCIID " + t for t in REAL_TAGS[name]]
    # Synthetic device ids under vendor fffe (not a real PCI vendor).
    return ["PCIID fffe%s" % h("dev:" + name, 4)]


class Vib:
    __slots__ = ("vid", "vendor", "kind", "name", "version", "br", "depends", "provides", "replaces",
                 "tags", "acceptance", "date", "live")

    def __init__(self, vid, br_hint=None, date=None):
        self.vid = vid
        self.vendor, self.kind, self.name, self.version = split_id(vid)
        self.br = branch_of(self.version) or br_hint
        self.depends, self.provides, self.replaces, self.tags = [], [], [], []
        self.acceptance = "certified" if self.vendor in ("VMW", "VMware") else (
            "accepted" if is_driver(self.vendor, self.name) else "partner")
        self.date = date
        self.live = self.kind == "locker"
        self.replaces = list(EXTRA_REPLACES.get(self.name, []))
        api = api_of(self.br)
        if self.name == "esx-base" and self.br:
            major = self.br[0].split(".")[0]
            lo = 0 if major in ("5", "6") else 3
            for k in range(lo, api + 1):
                self.provides.append(("vmkapi_2_%d_0_0" % k, None))
            for k in range(MAJOR_FIRST_API.get(major, api), api + 1):
                self.provides.append(("vmkapi_incompat_2_%d_0_0" % k, None))
            if major in ("5", "6"):
                for k in range(4):
                    self.provides.append(("com.vmware.driverAPI-9.2.%d.0" % k, None))
        elif is_vmklinux(self.vendor, self.name, self.br):
            self.depends = [("vmkapi_2_2_0_0", None, None), ("com.vmware.driverAPI-9.2.2.0", None, None)]
            self.tags = ["driver", "module"] + pci_tags(self.name)
        elif is_driver(self.vendor, self.name) and api is not None:
            self.depends = [("vmkapi_2_%d_0_0" % api, None, None)]
            if self.vendor == "VMW":
                self.depends.append(("vmkapi_incompat_2_%d_0_0" % api, None, None))
            self.tags = ["driver", "module"] + pci_tags(self.name)
        elif self.vendor == "VMware" and self.name != "esx-base" and self.br:
            m = re.match(r"(\d+\.\d+\.\d+)-", self.version)
            if m:
                self.depends = [("esx-base", ">=", m.group(1))]

    def xml(self):
        dep = "".join(
            '<constraint name="%s"/>' % n if r is None else '<constraint name="%s" relation="%s" version="%s"/>'
            % (n, r.replace("<", "&lt;").replace(">", "&gt;"), v)
            for n, r, v in self.depends)
        rep = "".join('<constraint name="%s"/>' % n for n in self.replaces)
        prov = "".join('<provide name="%s"/>' % n if v is None else '<provide name="%s" version="%s"/>' % (n, v)
                       for n, v in self.provides)
        tags = "".join("<tag>%s</tag>" % t for t in self.tags)
        files = "".join("<file>usr/lib/vmware/%s/%s.%d</file>" % (self.kind, self.name, i) for i in range(3))
        rd = "<release-date>%s</release-date>" % self.date if self.date else ""
        mm = "true" if not self.live else "false"
        live = "true" if self.live else "false"
        size = 10000 + int(h(self.vid, 6), 16) % 900000
        rel = "vib20/%s/%s.vib" % (self.name, self.vid)
        return (
            '<vib version="5.0"><type>%s</type><name>%s</name><version>%s</version><vendor>%s</vendor>'
            "<summary>%s</summary><description>Synthetic depot entry for %s</description>%s<urls/>"
            "<relationships><depends>%s</depends><conflicts/><replaces>%s</replaces><provides>%s</provides>"
            "<compatibleWith/></relationships><software-tags>%s</software-tags>"
            "<relative-path>%s</relative-path><packed-size>%d</packed-size>"
            '<checksum checksum-type="sha-256">%s</checksum>'
            "<system-requires><maintenance-mode>%s</maintenance-mode></system-requires>"
            "<file-list>%s</file-list><acceptance-level>%s</acceptance-level>"
            "<live-install-allowed>%s</live-install-allowed><live-remove-allowed>%s</live-remove-allowed>"
            "<cimom-restart>false</cimom-restart><stateless-ready>true</stateless-ready><overlay>false</overlay>"
            '<payloads><payload name="%s" type="vgz" size="%d"><checksum checksum-type="sha-256">%s</checksum>'
            '<checksum checksum-type="sha-1" verify-process="gunzip">%s</checksum></payload></payloads></vib>'
            % (self.kind, self.name, self.version, self.vendor, ("%s %s" % (self.vendor, self.name))[:80], self.name,
               rd, dep, rep, prov, tags, rel, size, h("vib:" + self.vid), mm, files, self.acceptance, live, live,
               self.name[:8], size - 1500, h("pl:" + self.vid), h("pl1:" + self.vid, 40)))


def profile_xml(name, vib_ids, desc, acceptance="partner", created="2021-01-01T00:00:00"):
    vl = "".join("<vib><vib-id>%s</vib-id></vib>" % v for v in vib_ids)
    return ("<imageprofile><name>%s</name><creator>%s</creator><profileID>%s</profileID>"
            "<creationtime>%s</creationtime><modifiedtime>%s</modifiedtime><serialno>1</serialno>"
            "<description>%s</description><readonly>true</readonly><viblist>%s</viblist>"
            "<acceptancelevel>%s</acceptancelevel></imageprofile>"
            % (name, "VMware, Inc." if not name.startswith("HPE") else "HPE", h("p:" + name, 32), created, created,
               desc, vl, acceptance))


def bulletin_xml(bid, vib_ids, date, platform, component=None):
    comp = ""
    if component:
        comp = ('<componentNameSpec uiString="%s" name="%s"/><componentVersionSpec uiString="%s" version="%s"/>'
                % (component[0], component[0], component[1], component[1]))
    return ("<bulletin><id>%s</id><vendor>VMware</vendor><summary>Synthetic bulletin %s</summary>"
            "<severity>general</severity><category>bugfix</category><urgency>important</urgency>"
            "<releaseType>patch</releaseType><description>synthetic</description><kbUrl>about:blank</kbUrl>"
            "<contact>none</contact>%s<releaseDate>%s</releaseDate><platforms>"
            '<softwarePlatform locale="" version="%s" productLineID="embeddedEsx"/></platforms><vibList>%s'
            "</vibList></bulletin>"
            % (bid, bid, comp, date, platform, "".join("<vibID>%s</vibID>" % v for v in vib_ids)))


# The U2a reconstruction lacks these; their U2c builds (research vibsets
# README: seen on a 7.0 U2e host) stand in.
U2A_GAPS = [
    "VMW_bootbank_i40enu_1.8.1.137-1vmw.702.0.20.18426014",
    "VMW_bootbank_lpfc_12.8.298.3-2vmw.702.0.20.18426014",
    "VMW_bootbank_qedentv_3.40.5.53-20vmw.702.0.20.18426014",
    "VMW_bootbank_qedrntv_3.40.5.53-17vmw.702.0.20.18426014",
]
# SYNTH assumption: 7.0 U2's i40enu takes over from i40en (explicit replaces).
EXTRA_REPLACES = {"i40enu": ["i40en"]}

KEY_PROFILES = [
    # (profile name, vibset file, description, drop VIB names)
    ("SYNTH-6.7-P06-like-host-HPE-EP23-19195723", "6.7-EP23-19195723-HPE-host__fileid35943486190-removed.txt",
     "6.7 host at P06 driver builds (real VIB list: HPE EP23 host)", ()),
    ("SYNTH-6.7-P01-host-15160138", "6.7P01-15160138-host__fileid31334863764-removed.txt",
     "6.7 P01 host (real VIB list)", ()),
    ("ESXi-6.7.0-8169922-standard", "6.7GA-8169922-standard__fileid16491985340-installed.txt",
     "6.7 GA standard (real VIB list)", ()),
    ("SYNTH-7.0GA-15843807-depot", "7.0GA-15843807__fileid31334863764-reconstructed-depot.txt",
     "7.0 GA depot VIB set (real, reconstructed)", ()),
    ("ESXi-7.0U2a-17867351-standard", "7.0U2a-17867351-standard__reconstructed-partial.txt",
     "7.0 U2a standard, reconstructed from real lists; i40enu, lpfc, qedentv, qedrntv filled in with their "
     "7.0 U2c builds (real ids seen on a 7.0 U2e host), tools-light missing", ()),
    ("ESXi-7.0U3g-20328353-standard", "7.0U3g-20328353-plus-usbnicfling__fileid3577124047-installed.txt",
     "7.0 U3g standard (real VIB list, USB NIC fling removed)", ("vmkusb-nic-fling",)),
    ("SYNTH-7.0U3i-20842708-reconstructed", "7.0U3i-20842708__fileid24145403887-reconstructed-full.txt",
     "7.0 U3i (real, reconstructed)", ()),
    ("HPE-Custom-AddOn_703.0.0.11.5.0-6", "7.0U3o-22348816-HPE-Custom-AddOn_703.0.0.11.5.0-6__fileid35943486190-installed.txt",
     "HPE custom 7.0 U3o image (real VIB list)", ()),
]


def main(argv):
    if len(argv) < 2 or argv[1].startswith("-"):
        sys.stderr.write("usage: gen-synthetic-depot.py OUTDIR [--small] [--releases N]\n")
        return 2
    out = argv[1]
    small = "--small" in argv
    releases = 10 if small else 373
    if "--releases" in argv:
        releases = int(argv[argv.index("--releases") + 1])
    rnd = random.Random(20211123)

    vibs = {}  # id -> Vib
    zips = {}  # zip name -> {"vibs": [ids], "profiles": [(name, xml)], "bulletins": [xml]}

    def zip_for(br):
        return "vmw-ESXi-%s-metadata.zip" % (br[0] if br else "other")

    def add_vib(v):
        if v.vid not in vibs:
            vibs[v.vid] = v
            zips.setdefault(zip_for(v.br), {"vibs": [], "profiles": [], "bulletins": []})["vibs"].append(v.vid)
        return vibs[v.vid]

    # Key profiles from real VIB lists.
    key_ids = {}
    names_6x, names_7x = set(), set()
    for pname, fname, desc, drop in KEY_PROFILES:
        ids = [i for i in read_vibset(fname) if split_id(i)[2] not in drop]
        if pname.startswith("ESXi-7.0U2a"):
            ids += U2A_GAPS
        key_ids[pname] = ids
        for i in ids:
            vendor, _, name, version = split_id(i)
            br = branch_of(version)
            if vendor in ("VMW", "VMware") and br:
                (names_6x if br[0] < "7" else names_7x).add(name)
    # 7.0 esx-base obsoletes the 6.x VMware VIBs 7.0 no longer ships.
    gone = sorted(names_6x - names_7x)
    for pname, fname, desc, drop in KEY_PROFILES:
        ids = key_ids[pname]
        hint = None
        for i in ids:
            b = branch_of(split_id(i)[3])
            if b and split_id(i)[2] == "esx-base":
                hint = b
        for i in ids:
            v = add_vib(Vib(i, br_hint=hint))
            if v.name == "esx-base" and v.br and v.br[0] >= "7" and not v.replaces:
                v.replaces = list(gone)
        br = hint or ("7.0", 3)
        zips.setdefault(zip_for(br), {"vibs": [], "profiles": [], "bulletins": []})
        zips[zip_for(br)]["profiles"].append((pname, profile_xml(pname, ids, desc)))
        zips[zip_for(br)]["bulletins"].append(bulletin_xml("SYNTH-KEY-" + pname, ids, "2021-01-01T00:00:00+00:00", br[0]))

    # Filler releases: synthetic versions of the real VIB names.
    pool6 = sorted({split_id(i)[:3] for p in KEY_PROFILES[:3] for i in key_ids[p[0]]
                    if split_id(i)[0] in ("VMW", "VMware")}, key=lambda t: t[2])
    pool7 = sorted({split_id(i)[:3] for p in KEY_PROFILES[3:7] for i in key_ids[p[0]]
                    if split_id(i)[0] in ("VMW", "VMware")}, key=lambda t: t[2])
    branches = [(m, u) for m in ("5.5", "6.0", "6.5", "6.7", "7.0", "8.0") for u in range(4)]
    nb = len(branches)
    per = [releases * (i + 1) // nb - releases * i // nb for i in range(nb)]
    gidx = 0
    day = 0
    for (major, upd), n in zip(branches, per):
        pool = pool6 if major < "7" else pool7
        code = major.replace(".", "")
        state = {}
        for r in range(n):
            gidx += 1
            day += 11
            build = 90000000 + gidx
            date = "20%02d-%02d-%02dT00:00:00+00:00" % (13 + day // 336, 1 + (day // 28) % 12, 1 + day % 28)
            bump = pool if r == 0 else rnd.sample(pool, min(len(pool), 62))
            new_ids = []
            for vendor, kind, name in bump:
                if vendor == "VMware":
                    ver = "%s.%d-%d.%d.%d" % (major, upd, upd, r, build)
                else:
                    ver = "%d.%d.%d-%dsynth.%s%d.%d.%d.%d" % (
                        1 + int(h(name, 2), 16) % 9, upd, r, 1 + r, code, upd, upd, r, build)
                vid = "%s_%s_%s_%s" % (vendor, kind, name, ver)
                v = add_vib(Vib(vid, date=date))
                if v.name == "esx-base" and major >= "7":
                    v.replaces = list(gone)
                state[name] = vid
                new_ids.append(vid)
            zname = zip_for((major, upd))
            z = zips.setdefault(zname, {"vibs": [], "profiles": [], "bulletins": []})
            rel = "%s-r%03d" % (major, gidx)
            z["bulletins"].append(bulletin_xml("SYNTH-ESXi%s-%d" % (code, build), new_ids, date, major,
                                               ("ESXi", "%s.%d-%d.%d" % (major, upd, r, build))
                                               if major >= "7" else None))
            if major >= "7":
                for vid in new_ids:
                    _, _, name, ver = split_id(vid)
                    z["bulletins"].append(bulletin_xml("SYNTH-VMware-%s_%s" % (name, ver), [vid], date, major,
                                                       ("VMware-" + name, ver)))
            full = sorted(state.values())
            notools = [i for i in full if split_id(i)[2] != "tools-light"]
            for kindname, ids in (("standard", full), ("no-tools", notools), ("s-standard", full),
                                  ("s-no-tools", notools)):
                pname = "SYNTH-ESXi-%s.%d-%s-%s" % (major, upd, rel, kindname)
                z["profiles"].append((pname, profile_xml(pname, ids, "synthetic filler profile", created=date[:19])))

    # Write the depot.
    os.makedirs(os.path.join(out, "vmw", "metadata"), exist_ok=True)
    with open(os.path.join(out, "index.xml"), "w") as f:
        f.write("<vendorList><vendor><name>VMware</name><code>VMW</code><indexfile>vmw-depot-index.xml</indexfile>"
                "<patchUrl></patchUrl><relativePath>vmw</relativePath><content><name>VMware ESX</name>"
                "<type>http://www.vmware.com/depotmanagement/esx</type></content></vendor></vendorList>\n")
    metas = []
    xml_bytes = 0
    nprof = 0
    for zname in sorted(zips):
        z = zips[zname]
        path = os.path.join(out, "vmw", "metadata", zname)
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
            zf.writestr("vmware.xml", "<metadataResponse><version>3.0</version><timestamp>2021-01-01T00:00:00"
                                      "</timestamp></metadataResponse>")
            for vid in z["vibs"]:
                data = vibs[vid].xml()
                xml_bytes += len(data)
                zf.writestr("vibs/%s-%s.xml" % (vibs[vid].name, h(vid, 16)), data)
            for i, b in enumerate(z["bulletins"]):
                xml_bytes += len(b)
                zf.writestr("bulletins/b%06d.xml" % i, b)
            for pname, p in z["profiles"]:
                xml_bytes += len(p)
                nprof += 1
                zf.writestr("profiles/%s.xml" % pname, p)
        metas.append("<metadata><productId>embeddedEsx</productId><version>%s</version><locale></locale>"
                     "<url>metadata/%s</url><channelName>default</channelName></metadata>"
                     % (zname.split("-")[2], zname))
    with open(os.path.join(out, "vmw", "vmw-depot-index.xml"), "w") as f:
        f.write("<metaList>%s</metaList>\n" % "".join(metas))
    os.makedirs(os.path.join(out, "hosts"), exist_ok=True)
    for pname, fname in (("6.7-P06-like.viblist", KEY_PROFILES[0][1]), ("6.7-P01.viblist", KEY_PROFILES[1][1])):
        with open(os.path.join(out, "hosts", pname), "w") as f:
            f.write("# host image from %s (real VIB list)\n" % fname)
            f.write("\n".join(read_vibset(fname)) + "\n")
    print('{"profiles": %d, "vibs": %d, "metadata_zips": %d, "xml_bytes": %d}'
          % (nprof, len(vibs), len(zips), xml_bytes))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
