#!/usr/bin/env python3
"""Transcribes the ESXi release catalog (data/releases/<branch>.toml) from the
research files under /work/shared/research/catalog (or $RESEARCH_CATALOG).

This script documents how every release row was derived, so a reviewer can
re-run it and diff the output. It never invents values: a field the sources do
not give is left out; where sources disagree the vendor-derived value wins
and the other goes to `notes`.

Inputs (all public data, see shared/research/README.md):
  * virten_esxiReleases_2020-02-20.json  6.0/6.5/6.7 rows to Feb 2020
  * gcoxmoz_vmware_puppetfact_esxi_build_numbers_2018.json  KB 2143832 to 2018-11 (cross-check)
  * esxi_70_80_builds_from_KB316595_blog_copy_DERIVED.csv  7.0/8.0 rows of KB 316595
  * kb_rows_verbatim.txt  6.5/6.7 2020-2022 rows of KB 316595 (cross-check)
  * esxi_2020_2025_supplement.csv  2020-2025 gaps with per-row sources and notes
  * scripts/kb/wireshark_hb_builds.tsv  build -> name pairs from wireshark (cross-check)
  * esxi_profiles_bulletins_2020_2025_DERIVED.csv  7.0/8.0 image profiles and bulletins seen
    verbatim in depot listings and CVE records (issue 13), source per row
  * MANUAL below: rows and facts read with the search tool, each with its source.

Usage: python3 scripts/kb/transcribe.py [--out data/releases]
"""

import argparse
import csv
import json
import os
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
CAT = Path(os.environ.get("RESEARCH_CATALOG", "/work/shared/research/catalog"))

S_VIRTEN = "virten.net esxiReleases.json snapshot of 2020-02-20 (shared/research/catalog/virten_esxiReleases_2020-02-20.json)"
S_GCOX = "VMware KB 2143832 as JSON, 2018 (shared/research/catalog/gcoxmoz_vmware_puppetfact_esxi_build_numbers_2018.json)"
S_KB = "Broadcom KB 316595 (ex-KB 2143832) 'Build numbers and versions of VMware ESXi/ESX', blog copy (shared/research/catalog/esxi_70_80_builds_from_KB316595_blog_copy_DERIVED.csv)"
S_KBV = "Broadcom KB 316595 (ex-KB 2143832), 6.5/6.7 rows verbatim (shared/research/catalog/kb_rows_verbatim.txt)"
S_SUPP = "shared/research/catalog/esxi_2020_2025_supplement.csv"
S_WS = "wireshark/wireshark epan/dissectors/packet-vmware-hb.c vmware_hb_build_number[] @ffdced10e8739f7b110f690637f3d666204706cb"
S_VCF_ALIAS = "vmware/vcfcheck Data/MarketingVersionAliases/EsxMarketingVersionAliases.json @81e14bd06b628f27690aa9eb8b03f0fb092b0e96"
S_VCF_ESX = "vmware/vcfcheck Data/Interoperability/Esx.json @699e66173a254b00fd61a766b3e5a726fdbbc6ff"
S_EOL = "endoflife.date products/vmware-esxi.md (shared/research/catalog/endoflife-date_vmware-esxi.md)"
S_KB395110 = "Broadcom KB 395110 'Unified VCF Versioning in ESXi Release' (https://knowledge.broadcom.com/external/article/395110)"
S_RESEARCH = "shared/research/README.md (key facts, checked against two sources)"
F_PB = "esxi_profiles_bulletins_2020_2025_DERIVED.csv"
S_PB = f"shared/research/catalog/{F_PB}"
# VMSA-2026-0006 (Broadcom advisory 38017) CVE records, read with the search tool: each names
# the fixed 8.0 build (lessThan '<bulletin>') and, for ESX 9.0.x.x, 'ESXi-9.0.2.0100-25595025'.
S_CVE_2026_41703 = "CVEProject/cvelistV5 cves/2026/41xxx/CVE-2026-41703.json"
S_CVE_2026_41709 = "CVEProject/cvelistV5 cves/2026/41xxx/CVE-2026-41709.json"
S_CVE_2026_47876 = "CVEProject/cvelistV5 cves/2026/47xxx/CVE-2026-47876.json"
VMSA_2026_0006 = "VMSA-2026-0006, Broadcom advisory 38017"
# VMSA-2025-0010 (Broadcom advisory 25717) CVE records: 7.0 fixed in ESXi70U3sv-24723868.
S_CVE_2025_41226 = "CVEProject/cvelistV5 cves/2025/41xxx/CVE-2025-41226.json"
S_CVE_2025_41227 = "CVEProject/cvelistV5 cves/2025/41xxx/CVE-2025-41227.json"
S_CVE_2025_41228 = "CVEProject/cvelistV5 cves/2025/41xxx/CVE-2025-41228.json"
# A public dashboard's release table, read with the search tool (cross-check, see KNOWN_RELEASES).
S_KNOWN = ("KNOWN_VMWARE_RELEASES table in a public dashboard's source (search-index id 56719623927; repository not "
           "resolved): title, KB 316595-style version, date, build and release-notes URL per release")


def clean(s):
    return re.sub(r"\s+", " ", (s or "").strip())


def new(build, branch):
    return {
        "build": build,
        "branch": branch,
        "version": None,
        "update": None,
        "name": None,
        "kind": None,
        "bulletin": None,
        "date": None,
        "profiles": [],
        "iso": None,
        "sources": [],
        "notes": [],
    }


def add_source(r, s):
    if s.startswith("wireshark/wireshark epan/dissectors/packet-vmware-hb.c"):
        s = S_WS
    if s and s not in r["sources"]:
        r["sources"].append(s)


def add_note(r, n):
    if n and n not in r["notes"]:
        r["notes"].append(n)


def add_profile(r, p):
    p = p.strip()
    if p and p not in r["profiles"]:
        r["profiles"].append(p)


def kind_6x(name, bulletin):
    """Release kind of a 6.x row: from the name (GA, Security Only, Express
    Patch / EP) and the bulletin id (ESXi670-updateN = update release)."""
    n = name.lower()
    if "security only" in n:
        return "security-only"
    if n.endswith(" ga"):
        return "ga"
    if bulletin and re.search(r"-update\d$", bulletin):
        return "update"
    if "express patch" in n or re.search(r"\bep ?\d", n):
        return "express-patch"
    return "patch"


def expand_kb_6x(name):
    """KB 316595 short names 'ESXi 6.7 P05' / 'ESXi 6.7 EP 23' -> long form."""
    m = re.match(r"^(ESXi 6\.\d) P0?(\d+)$", name)
    if m:
        return f"{m.group(1)} Patch {m.group(2)}"
    m = re.match(r"^(ESXi 6\.\d) EP ?(\d+)$", name)
    if m:
        return f"{m.group(1)} Express Patch {m.group(2)}"
    return name


def load_ws():
    ws = {}
    for line in open(HERE / "wireshark_hb_builds.tsv", encoding="utf-8"):
        if line.startswith("#") or not line.strip():
            continue
        b, name = line.rstrip("\n").split("\t", 1)
        ws[int(b)] = name
    return ws


def parse_70_80_name(name):
    """'ESXi 7.0 Update 3g' -> ('7.0.3', '3g'); 'ESXi 8.0b' -> ('8.0.0', None);
    'ESXi 8.0 GA' -> ('8.0.0', None)."""
    m = re.match(r"^ESXi (\d)\.0 Update (\d)([a-z]?)(?: \(Security Only\))?$", name)
    if m:
        return f"{m.group(1)}.0.{m.group(2)}", m.group(2) + m.group(3)
    m = re.match(r"^ESXi (\d)\.0([a-z]?)(?: GA)?(?: \(Security Only\))?$", name)
    if m:
        return f"{m.group(1)}.0.0", None
    raise ValueError(f"cannot read version from {name!r}")


def kind_from_kb_version(col, name):
    """KB 316595 'Version' column: 'ESXi 7.0.3 P05' patch, 'ESXi 7.0.3 EP5'
    express patch, 'ESXi 7.0.2' update, 'ESXi 7.0.0' GA."""
    c = clean(col)
    if re.search(r"\bEP ?\d+$", c):
        return "express-patch", None
    if re.search(r"\bP ?\d+$", c):
        return "patch", None
    if re.match(r"^ESXi \d\.0\.0$", c):
        return "ga", None
    if re.match(r"^ESXi \d\.0\.[1-9]$", c):
        return "update", None
    return "patch", f"KB 316595 Version column reads '{c}' (neither P nor EP); kind recorded as patch"


# --------------------------------------------------------------------------
# Rows and facts not in the catalog files, read with the search tool.
# Each: build, branch, fields, sources, notes. Nothing here is guessed.
MANUAL = [
    # 8.0 rows from VMware's own vcfcheck alias map (version = 8.0.x.<build>, date).
    dict(build=23084122, branch="6.7", name="ESXi 6.7 ESXi670-202403001", kind="patch", sources=[S_EOL],
         notes=["no release name in the sources: named after the patch id, as endoflife.date does ('6.5 ESXi650-202403001'); extended-support patch outside general support"]),
    # 9.0: VCF-format versions (KB 395110: 9.x.y.z.<build>; 4-digit EEHH = express/hot patch).
    dict(build=24813472, branch="9.0", version="9.0.0", name="ESX 9.0.0.0100", kind="express-patch",
         date="2025-07-15", profiles=["ESXi-9.0.0.0100-24813472-standard", "ESXi-9.0.0.0100-24813472-no-tools"],
         sources=["ESX 9.0.0.0100 release notes ('VMware ESX 9.0.0.0100 | 15 JUL 2025 | Build 24813472'; search-index id 15288471696)",
                  "VCF download-tool listing 'VMware ESX 9.0.0.0100.24813472' (search-index id 5855852192)",
                  S_VCF_ESX, S_KB395110],
         notes=["kind from KB 395110: a 4-digit EEHH field of 0100 is the first express patch", "full version 9.0.0.0100.24813472",
                "release notes: category Security, live-patchable, resolves CVE-2025-41237 (VMSA-2025-0013); depot VMware-ESXi-9.0.0.0100.24813472-depot.zip"]),
    dict(build=24957456, branch="9.0", version="9.0.1", update="1", name="ESX 9.0.1.0", kind="patch",
         date="2025-09-29", iso=True,
         profiles=["ESXi-9.0.1-0.24957456-standard", "ESXi-9.0.1-0.24957456-no-tools"],
         sources=["installer ISO name VMware-VMvisor-Installer-9.0.1.0.24957456.x86_64.iso in several public VCF 9.0.1 deployment notes (search-index ids 5974179958, 60449127678, 18010225675)",
                  S_VCF_ESX, S_KB395110,
                  "ESX 9.0.1.0 release notes (techdocs.broadcom.com .../vmware-cloud-foundation-9-0-1-release-notes/esx-9-0-1-0000.html; copy at search-index id 15283974872): 'VMware ESX 9.0.1.0 | 29 SEP 2025 | Build 24957456', depot VMware-ESXi-9.0.1.0.24957456-depot.zip, image profiles ESXi-9.0.1-0.24957456-standard / -no-tools"],
         notes=["date = vcfcheck Esx.json gaDate of 9.0.1.0 (2025-09-29) = release-notes date 29 SEP 2025; build from the ISO file name, confirmed by the release notes",
                "KB 395110 maps the 9.x maintenance release (x.y.Z.0) to the old patch release; recorded as patch",
                "update \"1\" is the maintenance number of 9.0.1 (9.x has no 'Update N' names; the KB schema wants the z of x.y.z repeated here)",
                "release notes: ESX image ESXi_9.0.1-0.24957456, category Bugfix, not live-patchable; the build confirms the ISO file name",
                "image profiles from the release notes; the 9.x form '<x.y.z>-0.<build>' is read by esxup-version's profile parser"]),
    dict(build=25148076, branch="9.0", version="9.0.2", update="2", name="ESX 9.0.2.0", kind="patch",
         date="2026-01-20", iso=True,
         sources=["installer ISO name VMware-VMvisor-Installer-9.0.2.0.25148076.x86_64.iso in public lab notes (search-index ids 56191422157, 69582852714, 66879203630)",
                  S_VCF_ESX, S_KB395110],
         notes=["date = vcfcheck Esx.json gaDate of 9.0.2.0 (2026-01-20); build from the ISO file name (not read from release notes)",
                "KB 395110 maps the 9.x maintenance release to the old patch release; recorded as patch",
                "update \"2\" is the maintenance number of 9.0.2 (9.x has no 'Update N' names; the KB schema wants the z of x.y.z repeated here)"]),
    dict(build=25595025, branch="9.0", version="9.0.2", update="2", name="ESX 9.0.2.0100", kind="express-patch",
         date="2026-07-29",
         sources=[f"{S_CVE_2026_47876} (ESX 9.0.x.x affected lessThan 'ESXi-9.0.2.0100-25595025'; datePublic 2026-07-29; {VMSA_2026_0006})",
                  f"{S_CVE_2026_41703} (same fixed version for 9.0.x.x)",
                  f"{S_CVE_2026_41709} (same fixed version for 9.0.x.x)",
                  f"{S_VCF_ESX} (9.0.2.0100, gaDate 1785283200000 = 2026-07-29)",
                  f"{S_EOL}: 9.0 latest '9.0.2.0100', latestReleaseDate 2026-07-29",
                  S_KB395110],
         notes=["build from the VMSA-2026-0006 CVE records' fixed version 'ESXi-9.0.2.0100-25595025'; date = vcfcheck gaDate = endoflife.date latestReleaseDate = advisory date",
                "kind from KB 395110: a 4-digit EEHH field of 0100 is the first express patch on 9.0.2",
                "full version 9.0.2.0100.25595025"]),
    dict(build=25191479, branch="8.0", version="8.0.0", update=None, name="ESXi 8.0g", kind="patch",
         date="2026-02-13", sources=[S_VCF_ALIAS],
         notes=["vcfcheck alias '8.0.0g' = 8.0.0.25191479, 2026-02-13; kind not stated by the source (back-in-time patch of the 8.0 GA line), recorded as patch; only one source"]),
    dict(build=25205845, branch="8.0", version="8.0.3", update="3i", name="ESXi 8.0 Update 3i", kind="patch",
         bulletin="ESXi80U3i-25205845", date="2026-02-24",
         sources=[S_VCF_ALIAS, f"{S_CVE_2026_41703} (ESX 8.0 affected lessThan 'ESXi80U3i-25205845'; {VMSA_2026_0006})"],
         notes=["vcfcheck alias '8.0U3i' = 8.0.3.25205845, 2026-02-24 (Esx.json gaDate 2026-02-24); kind not stated by the source, recorded as patch"]),
    dict(build=25429389, branch="8.0", version="8.0.3", update="3j", name="ESXi 8.0 Update 3j", kind="patch",
         bulletin="ESXi80U3j-25429389", date="2026-05-27",
         sources=[S_VCF_ALIAS, f"{S_CVE_2026_41709} (ESX 8.0 affected lessThan 'ESXi80U3j-25429389'; {VMSA_2026_0006})"],
         notes=["vcfcheck alias '8.0U3j' = 8.0.3.25429389, 2026-05-27; kind not stated by the source, recorded as patch"]),
    dict(build=25595708, branch="8.0", version="8.0.3", update="3k", name="ESXi 8.0 Update 3k", kind="patch",
         bulletin="ESXi80U3k-25595708", date="2026-07-29",
         profiles=["ESXi-8.0U3k-25595708-standard", "ESXi-8.0U3k-25595708-no-tools"],
         sources=[S_VCF_ALIAS, S_EOL,
                  f"{S_CVE_2026_47876} (ESX 8.0 affected lessThan 'ESXi80U3k-25595708'; {VMSA_2026_0006})",
                  "blog post with `esxcli software sources profile list -d VMware-ESXi-8.0U3k-25595708-depot.zip` output: ESXi-8.0U3k-25595708-no-tools and ESXi-8.0U3k-25595708-standard, VMware, Inc., created 2026-07-22 (search-index id 68562571875; repository not resolved)"],
         notes=["vcfcheck alias '8.0U3k' = 8.0.3.25595708, 2026-07-29; endoflife.date: latest 8.0 = 8.0 Update 3k, 2026-07-29; kind not stated, recorded as patch",
                "depot profile creation time 2026-07-22 (a week before the 2026-07-29 release date)"]),
    # 7.0 security-only build named only by the VMSA-2025-0010 CVE records (not in the KB 316595 copy).
    dict(build=24723868, branch="7.0", version="7.0.3", update="3sv", name="ESXi 7.0 Update 3v (Security Only)",
         bulletin="ESXi70U3sv-24723868", date="2025-05-20",
         sources=[f"{S_CVE_2025_41226} (7.0 affected lessThan 'ESXi70U3sv-24723868'; datePublic 2025-05-20; Broadcom advisory 25717 = VMSA-2025-0010)",
                  S_CVE_2025_41227, S_CVE_2025_41228,
                  "news report of VMSA-2025-0010 naming the patches 'ESXi80U3se-24659227' and 'ESXi70U3sv-24723868' (search-index id 3458798800)",
                  f"{S_KB}: paired 7.0 U3v 24723872, 2025/05/20"],
         notes=["build and bulletin from the VMSA-2025-0010 CVE records (fixed version ESXi70U3sv-24723868); the KB 316595 copy does not list this security-only build",
                "date = the advisory's date 2025-05-20 (CVE datePublic), which is also the KB date of the paired standard release 7.0 U3v 24723872; no dated source for the build itself",
                "name written in this file's convention for security-only images ('Update 3v (Security Only)', VMware's 's' letter in the bulletin); no source read gives a release name, VMware names it only by its bulletin"]),
    dict(build=25626445, branch="8.0", version="8.0.2", update="2f", name="ESXi 8.0 Update 2f", kind="patch",
         date="2026-08-03", sources=[S_VCF_ALIAS],
         notes=["vcfcheck alias '8.0U2f' = 8.0.2.25626445, 2026-08-03 (Esx.json gaDate 2026-08-03); back-in-time patch of the 8.0 U2 line; kind not stated, recorded as patch"]),
]

# Extra facts for existing rows: build -> dict(profiles=[...], bulletin=..., sources=[...], notes=[...])
S_VCHECK = "vCheck plugin Get-ESXiVersion by William Lam and Dario Doerflinger, build map 'pulled from https://kb.vmware.com/kb/2143832', v1.3 of Sept 2022 (search-index id 8226804873; repository not resolved)"

EXTRA = {
    18825058: dict(date="2021-10-28", sources=[S_VCHECK],
                   notes=["date 2021-10-28 only from a third-party copy of KB 2143832 (vCheck plugin); U3a is not in the KB 316595 copy"]),
    18905247: dict(date="2021-11-12", sources=[S_VCHECK],
                   notes=["date 2021-11-12 only from a third-party copy of KB 2143832 (vCheck plugin); U3b is not in the KB 316595 copy"]),
    20328353: dict(profiles=["ESXi-7.0U3g-20328353-standard"], sources=[S_RESEARCH]),
    17325551: dict(bulletin="ESXi70U1c-17325551",
                   sources=["CVEProject/cvelistV5 cves/2021/21xxx/CVE-2021-21974.json (fixed version ESXi70U1c-17325551)"]),
    19193900: dict(bulletin="ESXi70U3c-19193900",
                   sources=["Tenable Nessus plugin vmware_esxi_vmsa-2022-0004.nasl (shared/research/catalog/tenable_nessus_esxi_vmsa_fixed_builds_DERIVED.csv)"]),
    20036586: dict(bulletin="ESXi70U3sf-20036586",
                   sources=["CVEProject/cvelistV5 cves/2022/31xxx/CVE-2022-31681.json (affected: '7.0 prior to ESXi70U3sf-20036586'; VMSA-2022-0025)"]),
    20841705: dict(bulletin="ESXi70U3si-20841705",
                   sources=["CVEProject/cvelistV5 cves/2022/31xxx/CVE-2022-31705.json (fixed version ESXi70U3si-20841705)"]),
    23307199: dict(bulletin="ESXi70U3p-23307199",
                   sources=["CVEProject/cvelistV5 cves/2024/22xxx/CVE-2024-22252.json (fixed version ESXi70U3p-23307199)"]),
    23305545: dict(bulletin="ESXi80U2sb-23305545",
                   sources=["CVEProject/cvelistV5 cves/2024/22xxx/CVE-2024-22252.json (fixed version ESXi80U2sb-23305545)"]),
    23299997: dict(bulletin="ESXi80U1d-23299997",
                   sources=["CVEProject/cvelistV5 cves/2024/22xxx/CVE-2024-22252.json (fixed version ESXi80U1d-23299997)", S_VCF_ALIAS]),
    24585300: dict(bulletin="ESXi80U2d-24585300",
                   sources=["CVEProject/cvelistV5 cves/2025/22xxx/CVE-2025-22224.json (fixed version ESXi80U2d-24585300)", S_VCF_ALIAS]),
    24585291: dict(bulletin="ESXi70U3s-24585291",
                   sources=["CVEProject/cvelistV5 cves/2025/22xxx/CVE-2025-22224.json (fixed version ESXi70U3s-24585291)"]),
    24784741: dict(bulletin="ESXi70U3w-24784741"),
    20842819: dict(bulletin="ESXi80a-20842819", sources=["CVEProject/cvelistV5 cves/2022/31xxx/CVE-2022-31705.json (fixed version ESXi80a-20842819)"]),
    24022510: dict(bulletin="ESXi80U3-24022510", sources=["CVEProject/cvelistV5 cves/2024/37xxx/CVE-2024-37085.json (fixed version ESXi80U3-24022510)"]),
    23794019: dict(bulletin="ESXi70U3sq-23794019", sources=["CVEProject/cvelistV5 cves/2024/37xxx/CVE-2024-37086.json (fixed version ESXi70U3sq-23794019)"]),
    17630552: dict(bulletin="ESXi70U2-17630552", sources=["CVEProject/cvelistV5 cves/2021/21xxx/CVE-2021-21994.json (fixed version ESXi70U2-17630552)"]),
    17168206: dict(bulletin="ESXi70U1b-17168206", sources=["CVEProject/cvelistV5 cves/2020/4xxx/CVE-2020-4004.json (fixed version ESXi70U1b-17168206)"]),
    19290878: dict(bulletin="ESXi70U2e-19290878", sources=["CVEProject/cvelistV5 cves/2021/22xxx/CVE-2021-22040.json (fixed version ESXi70U2e-19290878)"],
                   notes=["back-in-time patch of the 7.0 Update 2 line for hosts that could not move to 7.0 U3c (VMSA-2022-0004 FAQ)"]),
    19324898: dict(bulletin="ESXi70U1e-19324898", sources=["CVEProject/cvelistV5 cves/2021/22xxx/CVE-2021-22040.json (fixed version ESXi70U1e-19324898)"],
                   notes=["back-in-time patch of the 7.0 Update 1 line for hosts that could not move to 7.0 U3c (VMSA-2022-0004 FAQ)"]),
    24784735: dict(bulletin="ESXi80U3f-24784735"),
    24789317: dict(bulletin="ESXi80U2e-24789317"),
    # One entry per build: a second `24585383:` key used to replace this one and drop the bulletin (issue 13).
    24585383: dict(bulletin="ESXi80U3d-24585383", profiles=["ESXi-8.0U3d-24585383-standard"],
                   sources=["CVEProject/cvelistV5 cves/2025/22xxx/CVE-2025-22224.json (fixed version ESXi80U3d-24585383)", S_VCF_ALIAS,
                            "blog 'VMware ESXi8 Update3eのパッチを適用する' of 2025-04-12 ('esxcli software profile get' output '(Updated) ESXi-8.0U3d-24585383-standard'; search-index id 37610223798)"]),
    24674464: dict(profiles=["ESXi-8.0U3e-24674464-standard", "ESXi-8.0U3e-24674464-no-tools"],
                   sources=[S_KB395110, S_VCF_ALIAS,
                            "blog 'VMware ESXi8 Update3eのパッチを適用する' of 2025-04-12 quoting the 8.0 U3e release notes' image profiles and a depot 'profile list' dated 2025-04-10 (search-index id 37610223798)"],
                   notes=["KB 395110: ESXi 8.0 Update 3e has the version string 8.0.3-0.70.24674464", "free ESXi (vSphere Hypervisor) was made available again with this release (see lifecycle.toml)"]),
    22380479: dict(sources=[S_KB395110], notes=["KB 395110: full version string 8.0.2-0.0.22380479"]),
    23305546: dict(sources=[S_KB395110], notes=["KB 395110: full version string 8.0.2-0.30.23305546 (8.0 U2b / P03)"]),
    23825572: dict(sources=[S_KB395110], notes=["KB 395110: full version string 8.0.2-0.40.23825572 (8.0 U2c / EP2)"]),
    20513097: dict(sources=[S_KB395110], notes=["KB 395110: full version string 8.0.0-1.0.20513097"]),
}

VCF_ALIAS_80 = {  # build -> (alias, date) from vcfcheck, used as a cross-check of the KB rows
    20513097: ("8.0", "2022-10-11"), 20842819: ("8.0.0a", "2022-12-08"), 21203435: ("8.0.0b", "2023-02-14"),
    21493926: ("8.0.0c", "2023-03-30"), 24118393: ("8.0.0d", "2024-10-07"), 24569005: ("8.0.0e", "2025-03-11"),
    24814147: ("8.0.0f", "2025-07-15"), 21495797: ("8.0U1", "2023-04-18"), 21813344: ("8.0U1a", "2023-06-01"),
    22088125: ("8.0U1c", "2023-07-27"), 23299997: ("8.0U1d", "2024-03-05"), 22380479: ("8.0U2", "2023-09-21"),
    23305546: ("8.0U2b", "2024-02-29"), 23825572: ("8.0U2c", "2024-05-21"), 24585300: ("8.0U2d", "2025-03-04"),
    24789317: ("8.0U2e", "2025-07-15"), 24022510: ("8.0U3", "2024-06-25"), 24280767: ("8.0U3b", "2024-09-17"),
    24414501: ("8.0U3c", "2024-12-12"), 24585383: ("8.0U3d", "2025-03-04"), 24674464: ("8.0U3e", "2025-04-10"),
    24784735: ("8.0U3f", "2025-07-15"), 24859861: ("8.0U3g", "2025-07-29"), 25067014: ("8.0U3h", "2025-12-15"),
}


# vCheck plugin build map (S_VCHECK): build -> (name, date) for 2020-2022 rows, cross-check only.
VCHECK = {
    20328353: ("ESXi 7.0 Update 3g", "2022-09-01"), 20036589: ("ESXi 7.0 Update 3f", "2022-07-12"),
    19898904: ("ESXi 7.0 Update 3e", "2022-06-14"), 19482537: ("ESXi 7.0 Update 3d", "2022-03-29"),
    19193900: ("ESXi 7.0 Update 3c", "2022-01-27"), 18905247: ("ESXi 7.0 Update 3b", "2021-11-12"),
    18825058: ("ESXi 7.0 Update 3a", "2021-10-28"), 18644231: ("ESXi 7.0 Update 3", "2021-10-05"),
    19290878: ("ESXi 7.0 Update 2e", "2022-02-15"), 18538813: ("ESXi 7.0 Update 2d", "2021-09-14"),
    18426014: ("ESXi 7.0 Update 2c", "2021-08-24"), 17867351: ("ESXi 7.0 Update 2a", "2021-04-29"),
    17630552: ("ESXi 7.0 Update 2", "2021-03-09"), 19324898: ("ESXi 7.0 Update 1e", "2022-02-15"),
    17551050: ("ESXi 7.0 Update 1d", "2021-02-02"), 17325551: ("ESXi 7.0 Update 1c", "2020-12-17"),
    17325020: ("ESXi 7.0 Update 1c (security only)", "2020-12-17"), 17168206: ("ESXi 7.0 Update 1b", "2020-11-19"),
    17119627: ("ESXi 7.0 Update 1a", "2020-11-04"), 16850804: ("ESXi 7.0 Update 1", "2020-10-06"),
    16324942: ("ESXi 7.0b", "2020-06-23"), 15843807: ("ESXi 7.0 GA", "2020-04-02"),
    19997733: ("ESXi 6.7 EP24", "2022-07-12"), 19898906: ("ESXi 6.7 P07", "2022-06-14"),
    19195723: ("ESXi 6.7 EP 23", "2022-01-25"), 18828794: ("ESXi 6.7 P07", "2021-11-23"),
    17700523: ("ESXi 6.7 P05", "2021-03-18"), 17499825: ("ESXi 6.7 EP 18", "2021-02-23"),
    17167734: ("ESXi 6.7 P04", "2020-11-19"), 17098360: ("ESXi 6.7 EP 17", "2020-11-04"),
    16773714: ("ESXi 6.7 EP 16", "2020-10-15"), 16713306: ("ESXi 6.7 P03", "2020-08-20"),
    16316930: ("ESXi 6.7 EP 15", "2020-06-09"), 16075168: ("ESXi 6.7 P02", "2020-04-28"),
    15820472: ("ESXi 6.7 EP 14", "2020-04-07"),
    19997716: ("ESXi 6.5 EP 27", "2022-07-12"), 19588618: ("ESXi 6.5 P08", "2022-05-12"),
    19092475: ("ESXi 6.5 EP 26", "2022-02-15"), 18678235: ("ESXi 6.5 P07", "2021-12-12"),
    18071574: ("ESXi 6.5 EP 24", "2021-07-13"), 17477841: ("ESXi 6.5 P06", "2021-02-23"),
    17167537: ("ESXi 6.5 EP 23", "2020-11-19"), 17097218: ("ESXi 6.5 EP 22", "2020-11-04"),
    16901156: ("ESXi 6.5 EP 21", "2020-10-15"), 16576891: ("ESXi 6.5 P05", "2020-07-30"),
    16389870: ("ESXi 6.5 EP 20", "2020-06-30"), 16207673: ("ESXi 6.5 EP 19", "2020-05-28"),
}


def build_catalog():
    ws = load_ws()
    rows = {}  # build -> record

    def get(build, branch):
        if build not in rows:
            rows[build] = new(build, branch)
        r = rows[build]
        if r["branch"] != branch:
            raise SystemExit(f"build {build} in two branches: {r['branch']} and {branch}")
        return r

    # ---- 6.x from virten
    virten = json.load(open(CAT / "virten_esxiReleases_2020-02-20.json", encoding="utf-8"))["data"]["esxiReleases"]
    for v in virten:
        branch = v["minorRelease"]
        if branch not in ("6.0", "6.5", "6.7"):
            continue
        b = int(v["build"])
        r = get(b, branch)
        name = clean(v["friendlyName"])
        bulletin = clean(v["patchRelease"]) or None
        r["version"] = f"{branch}.0"
        m = re.match(r"^ESXi \d\.\d U(\d)$", clean(v["updateRelease"]))
        r["update"] = m.group(1) if m else None
        r["name"] = name
        r["bulletin"] = bulletin
        r["kind"] = kind_6x(name, bulletin)
        r["date"] = v["releaseDate"]
        prof = v["imageProfile"]
        if prof.strip() != prof:
            add_note(r, "virten imageProfile has trailing whitespace, stripped")
        prof = prof.strip()
        if prof.startswith("EESXi-"):
            add_note(r, f"virten imageProfile reads '{prof}' (typo), recorded as '{prof[1:]}'")
            prof = prof[1:]
        add_profile(r, prof)
        add_source(r, S_VIRTEN)
        if not v["releaseFullName"].endswith("build-" + v["build"]):
            add_note(r, f"virten releaseFullName reads '{v['releaseFullName']}' (does not match the build)")
        if clean(v["releaseLevel"]).find("Update " + (r["update"] or "")) < 0 and r["update"]:
            add_note(r, f"virten releaseLevel reads '{clean(v['releaseLevel'])}' but updateRelease '{clean(v['updateRelease'])}'")
        if "(Recalled)" in name:
            add_note(r, "recalled by VMware (name in KB 2143832 / virten)")

    # ---- gcoxmoz cross-check (KB 2143832 JSON, 2018)
    for g in json.load(open(CAT / "gcoxmoz_vmware_puppetfact_esxi_build_numbers_2018.json", encoding="utf-8")):
        if g["major_version"] not in ("6.0", "6.5", "6.7"):
            continue
        b = int(g["build_number"])
        if b not in rows:
            print(f"warning: gcoxmoz build {b} not in virten", file=sys.stderr)
            continue
        r = rows[b]
        add_source(r, S_GCOX)
        if g["release_date"] != r["date"]:
            add_note(r, f"KB 2143832 JSON (gcoxmoz) date {g['release_date']} vs virten {r['date']}; virten kept")
        if clean(g["full_version"]).lower() not in r["name"].lower():
            add_note(r, f"KB 2143832 JSON (gcoxmoz) name: '{clean(g['full_version'])}'")

    # ---- KB 316595 6.5/6.7 rows verbatim (cross-check of the supplement)
    kbv = {}
    for line in open(CAT / "kb_rows_verbatim.txt", encoding="utf-8"):
        cells = [clean(c) for c in line.strip().strip("|").split("|")]
        if len(cells) == 5:
            kbv[int(cells[3])] = cells

    # ---- 2020-2025 supplement
    for s in csv.DictReader(open(CAT / "esxi_2020_2025_supplement.csv", encoding="utf-8")):
        if not s["build"]:
            continue  # rows without a build cannot be catalogued (gaps, see report)
        b = int(s["build"])
        branch = s["branch"]
        r = get(b, branch)
        name = clean(s["release_name"])
        for src in s["sources"].split(" | "):
            add_source(r, clean(src))
        add_source(r, S_SUPP)
        for n in [s["notes"]]:
            add_note(r, clean(n))
        if s["version_string"]:
            add_note(r, f"full version string {s['version_string']}")
        if s["image_profiles"]:
            for p in s["image_profiles"].split(";"):
                add_profile(r, p)
        sec = s["security_only"] == "yes"
        if branch in ("6.5", "6.7"):
            if name:
                long = expand_kb_6x(name)
                if long != name:
                    add_note(r, f"KB 316595 name: '{name}'")
                r["name"] = r["name"] or long
            r["version"] = f"{branch}.0"
            r["update"] = "3"
            if s["bulletin"]:
                r["bulletin"] = r["bulletin"] or clean(s["bulletin"])
            r["kind"] = "security-only" if sec else kind_6x(r["name"] or "", r["bulletin"])
            if s["available_as"] == "Patch":
                r["iso"] = False
        elif branch in ("7.0", "8.0"):
            if r["name"] is None:
                r["name"] = name
                r["version"], upd = parse_70_80_name(name)
                if sec and upd:
                    upd = upd[0] + "s" + upd[1:]
                r["update"] = upd
                r["kind"] = "security-only" if sec else None
            if s["available_as"] == "ISO":
                r["iso"] = True
        elif branch == "9.0":
            r["name"] = "ESX 9.0.0.0"
            r["version"] = "9.0.0"
            r["kind"] = "ga"
            r["iso"] = True
        if s["release_date"]:
            if r["date"] and r["date"] != s["release_date"]:
                add_note(r, f"supplement date {s['release_date']} vs {r['date']}")
            r["date"] = r["date"] or s["release_date"]

    # ---- KB 316595 7.0/8.0 rows (vendor list: takes precedence for name, date, kind, iso)
    lines = [l for l in open(CAT / "esxi_70_80_builds_from_KB316595_blog_copy_DERIVED.csv", encoding="utf-8") if not l.startswith("#")]
    for k in csv.DictReader(lines):
        b = int(k["build"])
        name = clean(k["release_name"])
        branch = name.split()[1][:3]
        r = get(b, branch)
        r["name"] = name
        r["version"], r["update"] = parse_70_80_name(name)
        kind, knote = kind_from_kb_version(k["version"], name)
        if b == 19193900:
            kind, knote = "update", "KB 316595 Version column reads 'ESXi 7.0.3 U3c'; recorded as update (re-release of 7.0 Update 3)"
        r["kind"] = kind
        add_note(r, knote)
        add_note(r, f"KB 316595 Version column: '{clean(k['version'])}'")
        d = k["release_date"].replace("/", "-")
        if r["date"] and r["date"] != d:
            add_note(r, f"other source date {r['date']}; KB 316595 date {d} kept")
        r["date"] = d
        av = clean(k["available_as"])
        if av == "ISO":
            r["iso"] = True
        elif av == "Patch":
            r["iso"] = False
        else:
            add_note(r, f"KB 316595 'Available as' reads '{av}'")
        add_source(r, S_KB)

    # ---- 6.5/6.7 KB verbatim cross-check
    for b, cells in kbv.items():
        if b not in rows:
            print(f"warning: KB verbatim build {b} not catalogued", file=sys.stderr)
            continue
        r = rows[b]
        add_source(r, S_KBV)
        if cells[2].replace("/", "-") != r["date"]:
            add_note(r, f"KB 316595 verbatim date {cells[2]} vs {r['date']}")

    # ---- manual rows and extra facts
    for m in MANUAL:
        r = get(m["build"], m["branch"])
        for k in ("version", "update", "name", "kind", "date", "bulletin", "iso"):
            if m.get(k) is not None:
                r[k] = m[k]
        for p in m.get("profiles", []):
            add_profile(r, p)
        for s in m["sources"]:
            add_source(r, s)
        for n in m.get("notes", []):
            add_note(r, n)
    for b, e in EXTRA.items():
        if b not in rows:
            raise SystemExit(f"EXTRA for unknown build {b}")
        r = rows[b]
        if e.get("bulletin"):
            r["bulletin"] = r["bulletin"] or e["bulletin"]
        if e.get("date"):
            r["date"] = r["date"] or e["date"]
        for p in e.get("profiles", []):
            add_profile(r, p)
        for s in e.get("sources", []):
            add_source(r, s)
        for n in e.get("notes", []):
            add_note(r, n)

    # ---- 7.0/8.0 image profiles and bulletins seen verbatim (issue 13; source per row)
    pb_desc = {}
    pb_lines = []
    last_id = None
    for line in open(CAT / F_PB, encoding="utf-8"):
        m = re.match(r"^#\s{1,4}([DC]\d+)\s+(.*)$", line)
        cont = re.match(r"^#\s{5,}(\S.*)$", line)
        if m:
            last_id = m.group(1)
            pb_desc[last_id] = clean(m.group(2))
        elif cont and last_id:  # continuation line of the source above
            pb_desc[last_id] = clean(pb_desc[last_id] + " " + cont.group(1))
        else:
            last_id = None
        if not line.startswith("#"):
            pb_lines.append(line)
    for row in csv.DictReader(pb_lines):
        b = int(row["build"])
        if b not in rows:
            raise SystemExit(f"{F_PB}: build {b} not catalogued")
        r = rows[b]
        if r["branch"] != row["branch"]:
            raise SystemExit(f"{F_PB}: build {b} is on {r['branch']}, not {row['branch']}")
        sid = row["source_id"]
        if sid not in pb_desc:
            raise SystemExit(f"{F_PB}: source id {sid} not described in the header")
        value = row["value"].strip()
        if row["field"] == "profile":
            add_profile(r, value)
        elif row["field"] == "bulletin":
            if r["bulletin"] and r["bulletin"] != value:
                raise SystemExit(f"{F_PB}: build {b} bulletin {value} vs {r['bulletin']}")
            r["bulletin"] = value
        else:
            raise SystemExit(f"{F_PB}: unknown field {row['field']!r}")
        add_source(r, f"{S_PB} ({sid}: {pb_desc[sid]})")

    # ---- vcfcheck cross-check of 8.0
    for b, (alias, d) in VCF_ALIAS_80.items():
        if b not in rows:
            raise SystemExit(f"vcfcheck build {b} not catalogued")
        r = rows[b]
        add_source(r, S_VCF_ALIAS)
        if r["date"] != d:
            add_note(r, f"vcfcheck alias '{alias}' date {d} vs {r['date']}")

    # ---- vCheck cross-check (third-party copy of KB 2143832, 2020-2022 rows)
    for b, (name, d) in VCHECK.items():
        if b not in rows:
            raise SystemExit(f"vCheck build {b} not catalogued")
        r = rows[b]
        add_source(r, S_VCHECK)
        if r["date"] is None:
            r["date"] = d
            add_note(r, f"date {d} from the vCheck copy of KB 2143832 (third-party) only")
        elif r["date"] != d:
            add_note(r, f"vCheck copy of KB 2143832 dates it {d} (kept: {r['date']})")
        if b == 18828794:
            add_note(r, "vCheck copy of KB 2143832 labels it 'ESXi 6.7 P07' (a typo there: P07 is 19898906)")

    # ---- wireshark cross-check (names only)
    for b, r in rows.items():
        if b in ws:
            add_source(r, S_WS)
            if clean(ws[b]).lower() != (r["name"] or "").lower():
                add_note(r, f"wireshark name: '{clean(ws[b])}'")
    for b, name in ws.items():
        if b not in rows:
            print(f"warning: wireshark build {b} ({name}) not catalogued", file=sys.stderr)

    return rows


# Security-only rows whose date no source gives directly: VMware ships the
# "s" image profile in the same bundle as the standard one (every virten row
# pairs them with the same bulletin and date), so the date of the paired
# standard release is used and the derivation is written into notes.
PAIRED = {
    16576879: 16576891, 17459147: 17477841, 18677441: 18678235, 19581852: 19588618, 20448942: 20502893,
    19898894: 19898906, 20491463: 20497097,
    16321839: 16324942, 17325020: 17325551,
    21203431: 21203435, 22082334: 22088125,
}


# Releases VMware withdrew (pulled from downloads), written as the `withdrawn`
# key. The text repeats what the row's own notes and sources already say (The
# Register article 'VMware recalls full vSphere update over driver dramas' on
# the U3 and U3b rows; the U3c row's note that U3c re-releases the withdrawn
# U3/U3a/U3b line). No withdrawal date is given: no source in reach states one.
S_REGISTER = "The Register article 'VMware recalls full vSphere update over driver dramas'"
WITHDRAWN = {
    18644231: ("VMware removed 7.0 Update 3 from downloads (after pulling 7.0 U3b the week before) over "
               "i40en/i40enu driver-name collisions breaking upgrades and HA; replaced by 7.0 U3c 19193900 "
               f"({S_REGISTER})"),
    18825058: ("withdrawn with the 7.0 Update 3 line (U3, U3a, U3b); replaced by 7.0 U3c 19193900, the "
               "re-release of that line (see the 7.0 U3 and U3c rows)"),
    18905247: ("VMware pulled 7.0 U3b (HA issues and the i40enu->i40en driver rename causing "
               f"'host returned esxupdate code -1'); replaced by 7.0 U3c 19193900 ({S_REGISTER})"),
}


# Kinds the sources do not state for rows outside KB 316595's table.
KIND = {
    18644231: ("update", "7.0 Update 3 is an update release (name)"),
    3073146: ("express-patch", "KB 2143832 JSON (gcoxmoz) calls it '6.0 U1a (Express Patch 3)'"),
    15517548: ("express-patch", "wireshark and endoflife.date call it 'ESXi 6.0 Express Patch 25' / '6.0 EP 25'"),
    24859861: ("patch", "a third-party catalog (see supplement note) names it 'ESXi 8.0.3 P06'"),
    25067014: ("patch", "a third-party catalog (see supplement note) names it 'ESXi 8.0.3 P07'"),
    24723868: ("security-only", "security-only from the 's' bulletin (the -s images of 7.0 carry security fixes only); no source states the class"),
}


# S_KNOWN release table: build -> (title, KB 316595-style version, date), cross-check only. Applied
# after KIND so the note can compare the table's version (P = patch, EP = express patch) with the kind kept.
KNOWN_RELEASES = {
    25067014: ("VMware ESXi 8.0 Update 3h", "ESXi 8.0.3 P07", "2025-12-15"),
    25205845: ("VMware ESXi 8.0 Update 3i", "ESXi 8.0.3 P08", "2026-02-24"),
    25429389: ("VMware ESXi 8.0 Update 3j", "ESXi 8.0.3 P09", "2026-05-27"),
}


# Supplement notes that later rows made stale: build -> {note as the supplement writes it: note written}.
# The old text must still be there (a supplement edit stops the run, to be looked at again).
REWORDED_NOTES = {
    # esxi_2020_2025_supplement.csv, 9.0 GA row: 9.0.0.0100 and 9.0.1.0 were "not added as rows" (9.0.1.0
    # "build not found") when the supplement was written; both are MANUAL rows now, 9.0.1.0's build from its
    # ISO name and release notes.
    24755229: {
        ("product renamed ESX from 9.0; version format per Broadcom KB 395110. Later in 2025: 9.0.0.0100 (build "
         "24813472 per itiligent issue #37; 2025-07-15 per vcfcheck/endoflife) and 9.0.1.0 (2025-09-29 per "
         "vcfcheck/endoflife, build not found) - not added as rows"):
        ("product renamed ESX from 9.0; version format per Broadcom KB 395110. Later in 2025: 9.0.0.0100 (build "
         "24813472, 2025-07-15) and 9.0.1.0 (build 24957456, 2025-09-29), both records of this file (the supplement "
         "listed them without rows and without 9.0.1.0's build)"),
    },
}


# `unsourced` reasons that say more than unsourced_reasons' generic text, per build and field.
# A reason for a field the record has is refused (the loader and kb-lint reject it too).
UNSOURCED = {
    24957456: dict(
        bulletin=("the ESX 9.0.1.0 release notes list no rollup bulletin: their 'ESX Images' table names the image "
                  "'ESXi_9.0.1-0.24957456' (an image name and version, not a bulletin), so none is recorded")),
    25595025: dict(
        bulletin=("no release notes or depot listing read for this build; the CVE records name the fix as "
                  "'ESXi-9.0.2.0100-25595025' (a version string, recorded in notes, not a bulletin)")),
}


# Branches whose catalog is meant to be complete (issue 13): a release there
# that lacks a bulletin or image profiles says why in `unsourced`.
COMPLETE_BRANCHES = ("6.5", "6.7", "7.0", "8.0", "9.0")


def unsourced_reasons(r):
    """Why `bulletin` / `profiles` are absent: no source read for the record
    states them. VMware's naming pattern (ESXi70U3x-<build>,
    ESXi-7.0U3x-<build>-standard) is never used to fill a field."""
    out = {}
    branch, ga = r["branch"], r["kind"] == "ga"
    if not r["bulletin"]:
        if branch in ("6.5", "6.7") and ga:
            out["bulletin"] = ("GA image: virten.net and the KB 2143832 copies give no patch bulletin for a GA release "
                               "(only its image profile)")
        elif branch == "9.0":
            out["bulletin"] = ("no source read names a bulletin for this 9.0 build (release-notes excerpts, KB 395110 and "
                               "vcfcheck give versions only); not derived from a naming pattern")
        else:
            out["bulletin"] = ("no source read names this build's bulletin (KB 316595 copy, virten 2020 snapshot, CVE records, "
                               "Tenable extract, depot listings); VMware's naming pattern is not a source, so none is recorded")
    if not r["profiles"]:
        if branch in ("6.5", "6.7"):
            out["profiles"] = ("no source read names this build's image profile: the virten snapshot ends in Feb 2020 and the "
                               "KB 316595 copies have no profile column; 6.x profile names (ESXi-6.x.0-<date><seq>) are not "
                               "derivable from the bulletin")
        else:
            out["profiles"] = ("no depot listing, profile-get output or release-notes text read names this build's image "
                               "profiles; VMware's naming pattern is not a source, so none is recorded")
    return out


def finish(rows):
    out = {}
    for b, r in rows.items():
        for old, reworded in REWORDED_NOTES.get(b, {}).items():
            if old not in r["notes"]:
                raise SystemExit(f"REWORDED_NOTES: build {b} has no note {old!r}")
            r["notes"][r["notes"].index(old)] = reworded
        if b in KIND:
            r["kind"], why = KIND[b]
            add_note(r, "kind: " + why)
        elif r["kind"] is None and r["name"]:
            r["kind"] = "patch"
            add_note(r, "kind not stated by the sources; recorded as patch")
        if b in KNOWN_RELEASES:
            title, ver, d = KNOWN_RELEASES[b]
            add_source(r, S_KNOWN)
            k = kind_from_kb_version(ver, title)[0]
            kinds = f"{k}, as recorded" if k == r["kind"] else f"{k} by that version; recorded as {r['kind']}"
            add_note(r, f"cross-check: that table lists '{title}', version '{ver}', {d}, build {b} ({kinds})")
            if d != r["date"]:
                add_note(r, f"that table dates it {d} (kept: {r['date']})")
        if b in PAIRED and not r["date"]:
            p = rows[PAIRED[b]]
            r["date"] = p["date"]
            r["bulletin"] = r["bulletin"] or (p["bulletin"] if r["branch"] in ("6.5", "6.7") else None)
            add_note(r, f"date not given by a source for this build: set to the date of the paired standard release {p['build']} ({p['name']}), whose bundle carries the security-only image profile")
        if b in WITHDRAWN:
            r["withdrawn"] = WITHDRAWN[b]
        if r["branch"] in COMPLETE_BRANCHES:
            r["unsourced"] = unsourced_reasons(r)
            for k, why in UNSOURCED.get(b, {}).items():
                if k not in r["unsourced"]:
                    raise SystemExit(f"UNSOURCED: build {b} has {k}; no reason may be given for it")
                r["unsourced"][k] = why
        elif b in UNSOURCED:
            raise SystemExit(f"UNSOURCED: build {b} is on {r['branch']}, outside COMPLETE_BRANCHES")
        missing = [k for k in ("version", "name", "kind", "date") if not r[k]]
        if missing:
            print(f"skipped {b} ({r['branch']} {r['name']}): missing {missing}", file=sys.stderr)
            continue
        out.setdefault(r["branch"], []).append(r)
    for branch, lst in out.items():
        lst.sort(key=lambda r: (r["date"], r["build"]))
        top = 0
        for r in lst:
            if r["build"] < top:
                r["order_exception"] = ("build lower than an earlier-dated build of this branch: VMware released it later "
                                        "for an older update line (back-in-time release)")
            top = max(top, r["build"])
    return out


def q(s):
    return json.dumps(s, ensure_ascii=False)


def render(branch, lst):
    o = [f"# ESXi {branch} releases, oldest first. GENERATED by scripts/kb/transcribe.py from the",
         "# research catalog and the sources named per record; edit the script, not this file.",
         "# Schema: data/README.md.",
         "",
         f'branch = "{branch}"',
         ""]
    for r in lst:
        o.append("[[release]]")
        o.append(f"build = {r['build']}")
        o.append(f"version = {q(r['version'])}")
        if r["update"]:
            o.append(f"update = {q(r['update'])}")
        o.append(f"name = {q(r['name'])}")
        o.append(f"kind = {q(r['kind'])}")
        if r["bulletin"]:
            o.append(f"bulletin = {q(r['bulletin'])}")
        o.append(f"date = {q(r['date'])}")
        if r["profiles"]:
            o.append("profiles = [" + ", ".join(q(p) for p in r["profiles"]) + "]")
        if r["iso"] is not None:
            o.append(f"iso = {'true' if r['iso'] else 'false'}")
        o.append("sources = [")
        o.extend(f"  {q(s)}," for s in r["sources"])
        o.append("]")
        if r.get("order_exception"):
            o.append(f"order_exception = {q(r['order_exception'])}")
        if r.get("withdrawn"):
            o.append(f"withdrawn = {q(r['withdrawn'])}")
        if r.get("unsourced"):
            o.append("unsourced = { " + ", ".join(f"{k} = {q(v)}" for k, v in sorted(r["unsourced"].items())) + " }")
        if r["notes"]:
            o.append("notes = [")
            o.extend(f"  {q(n)}," for n in r["notes"])
            o.append("]")
        o.append("")
    return "\n".join(o)


def check_unique_keys():
    """EXTRA and the other build-keyed tables are dict literals: a build
    written twice silently keeps only the last entry (that dropped 8.0 U3d's
    bulletin once). Refuse to run when a key repeats."""
    import ast
    tree = ast.parse(Path(__file__).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict):
            names = [t.id for t in node.targets if isinstance(t, ast.Name)]
            keys = [ast.literal_eval(k) for k in node.value.keys if k is not None and isinstance(k, ast.Constant)]
            dup = sorted({k for k in keys if keys.count(k) > 1}, key=str)
            if dup:
                raise SystemExit(f"{', '.join(names)}: key(s) {dup} written more than once")


def main():
    check_unique_keys()
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(REPO / "data" / "releases"))
    ap.add_argument("--branches", default="6.0,6.5,6.7,7.0,8.0,9.0")
    a = ap.parse_args()
    out = finish(build_catalog())
    for branch in a.branches.split(","):
        if branch not in out:
            continue
        path = Path(a.out) / f"{branch}.toml"
        tmp = path.with_suffix(".toml.tmp")
        tmp.write_text(render(branch, out[branch]), encoding="utf-8")
        os.replace(tmp, path)  # atomic: other helpers' tests may read the file any moment
        print(f"{path}: {len(out[branch])} releases")


if __name__ == "__main__":
    main()
