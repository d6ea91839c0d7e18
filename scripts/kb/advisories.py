#!/usr/bin/env python3
"""Writes data/advisories/VMSA-YYYY-NNNN.toml: the VMware security advisories of
2020-2025 that affect ESXi 6.5-9.0, transcribed from public records.

Sources (per record, cited in its `sources`):
  * CVEProject/cvelistV5 CVE JSON 5 records (VMware is the CNA): CVE ids,
    descriptions (summaries are shortened from them), CVSS where the record
    carries one (VMware's CNA metric, or CISA ADP where noted), the fixed
    version per branch, CISA KEV dates (CISA ADP container).
  * Tenable Nessus plugins (shared/research/catalog/tenable_nessus_esxi_vmsa_fixed_builds_DERIVED.csv):
    the build a scanner treats as first fixed, used where the CVE record names
    only a -SG bulletin (6.5/6.7) or is known to be incomplete.
  * vmware/vcf-security-and-compliance-guidelines security-advisories/vmsa-*/README.md
    (VMware's own FAQ): dates, exploitation status, workarounds.
  * shared/research/README.md key facts (VMSA-2021-0002 / CVE-2021-21974 / KB 76372).
  * cisagov/kev-data known_exploited_vulnerabilities.csv (CISA KEV catalog snapshot): known_exploited.
  * Later Tenable plugins read with the search tool (AmrouKourchid/nessus_plugins and
    search-index ids named in the records), where the CVE records are a CPU vendor's.

Rules: one [[fix]] per affected branch. `build` is the lowest build VMware
lists as fixed on that branch; other fixed update lines (back-in-time
releases such as 7.0 U2e, 8.0 U1d) are named in `notes`, and each gets a
[[fix.line]] (version of the line, its first fixed build and release) so
that esxup names the right fix for a build of that line. A branch listed
without `build` is affected with no public fixed build in the sources.
Advisory titles are the vendor's where a source gives them (Tenable plugin
names repeat the VMSA title); otherwise a descriptive title, marked in the
sources list.

Usage: python3 scripts/kb/advisories.py [--out data/advisories]
"""

import argparse
import json
import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent


def cvel(cve):
    y, n = cve.split("-")[1], cve.split("-")[2]
    return f"CVEProject/cvelistV5 cves/{y}/{n[:-3]}xxx/{cve}.json"


def ten(plugin):
    return f"Tenable Nessus plugin {plugin} (shared/research/catalog/tenable_nessus_esxi_vmsa_fixed_builds_DERIVED.csv)"


def faq(vmsa):
    return f"vmware/vcf-security-and-compliance-guidelines security-advisories/{vmsa.lower()}/README.md (VMware FAQ)"


def url(vmsa):
    return f"https://www.vmware.com/security/advisories/{vmsa}.html"


KEV_SNAPSHOT = "cisagov/kev-data known_exploited_vulnerabilities.csv @eacf03ec6637cc7be6d3d4ed50785493da5126a2 (catalog of 2025-08-25)"


def kev_absent(cves):
    return f"known_exploited = false: {', '.join(cves)} not in the CISA KEV catalog ({KEV_SNAPSHOT})"


DESCRIPTIVE = "title: descriptive, written from the CVE records (the vendor's verbatim title was not read)"
SLPD = dict(workaround_kb="KB 76372", workaround="Disable the SLP service (slpd) on ESXi (VMware KB 76372)",
            workaround_service="slpd")
USB = dict(workaround="Remove USB controllers from virtual machines (may affect console keyboard/mouse and USB passthrough)")


def C(id, summary, cvss=None, kev=False):
    return dict(id=id, summary=summary, cvss=cvss, known_exploited=kev)


def F(branch, build=None, release=None, notes=(), lines=()):
    """lines: (version, build, release) of each other fixed update line."""
    return dict(branch=branch, build=build, release=release, notes=list(notes), lines=list(lines))


ADVISORIES = [
    dict(
        id="VMSA-2020-0008",
        title="VMware ESXi patches address Stored Cross-Site Scripting (XSS) vulnerability",
        published="2020-04-29",
        sources=[url("VMSA-2020-0008"), cvel("CVE-2020-3955"), ten("vmware_esxi_VMSA-2020-0008.nasl"),
                 "title: Tenable plugin vmware_VMSA-2020-0008.nasl name; published: cvelistV5 datePublished",
                 "CVSS 8.3: 'maximum CVSSv3 base score of 8.3' in the CVE description"],
        cve=[C("CVE-2020-3955", "Stored cross-site scripting: ESXi does not neutralise script-related HTML when viewing virtual machine attributes", 8.3)],
        fix=[F("6.5", 15256549, "ESXi650-201912104-SG", ["build: Tenable build check (6.5 P04, bundle ESXi650-201912002)"]),
             F("6.7", 16075168, "ESXi670-202004103-SG", ["build: Tenable build check (6.7 P02, bundle ESXi670-202004002); the security-only image of that bundle is 15999342"])],
    ),
    dict(
        id="VMSA-2020-0011",
        title="VMware ESXi updates address multiple security vulnerabilities",
        published="2020-05-29",
        sources=[url("VMSA-2020-0011"), cvel("CVE-2020-3958"), cvel("CVE-2020-3959"), ten("vmware_VMSA-2020-0011.nasl"),
                 "title: Tenable plugin vmware_VMSA-2020-0011.nasl name; published: cvelistV5 datePublished"],
        cve=[C("CVE-2020-3958", "Denial of service in the shader functionality: a non-admin user in a VM can crash the VM's vmx process"),
             C("CVE-2020-3959", "Memory leak in the VMCI module: a non-admin user in a VM can crash the VM's vmx process (partial denial of service)")],
        fix=[F("6.5", 16207673, "ESXi650-202005401-SG", ["build: Tenable esx-base check 6.5.0-3.126.16207673 (6.5 EP 19)"]),
             F("6.7", 15999342, "ESXi670-202004101-SG", ["build: Tenable esx-base check 6.7.0-3.99.15999342 (security-only image of 6.7 P02)"])],
    ),
    dict(
        id="VMSA-2020-0012",
        title="VMware ESXi, Workstation and Fusion updates address out-of-bounds read vulnerability",
        published="2020-06-09",
        sources=[url("VMSA-2020-0012"), cvel("CVE-2020-3960"), ten("vmware_VMSA-2020-0012.nasl"),
                 "title: Tenable plugin vmware_VMSA-2020-0012.nasl name",
                 "published: not read from the advisory; date of the 6.7 bundle ESXi670-202006001 that carries the fix (KB 316595); the CVE record's datePublished (2021-09-15) is a later re-publication"],
        cve=[C("CVE-2020-3960", "Out-of-bounds read in NVMe: a non-admin user in a VM with a virtual NVMe controller may read privileged information from physical memory")],
        fix=[F("6.5", 16207673, "ESXi650-202005401-SG", ["build: Tenable esx-base check (6.5 EP 19)"]),
             F("6.7", 16316930, "ESXi670-202006401-SG", ["build: Tenable esx-base check 6.7.0-3.108.16316930 (6.7 EP 15)"])],
    ),
    dict(
        id="VMSA-2020-0015",
        title="VMware ESXi, Workstation, and Fusion updates address multiple security vulnerabilities",
        published="2020-06-24",
        sources=[url("VMSA-2020-0015")] + [cvel(f"CVE-2020-{n}") for n in range(3962, 3972)] + [
            ten("vmware_VMSA-2020-0015.nasl"),
            "title: Tenable plugin vmware_VMSA-2020-0015.nasl name; published: earliest cvelistV5 datePublished of its CVEs"],
        cve=[C("CVE-2020-3962", "Use-after-free in the SVGA device: a user in a VM with 3D graphics enabled may execute code on the hypervisor"),
             C("CVE-2020-3963", "Use-after-free in PVNVRAM: a user in a VM may read privileged information from physical memory"),
             C("CVE-2020-3964", "Information leak in the EHCI USB controller: a user in a VM may read hypervisor memory"),
             C("CVE-2020-3965", "Information leak in the XHCI USB controller: a user in a VM may read hypervisor memory"),
             C("CVE-2020-3966", "Heap overflow from a race condition in the USB 2.0 controller (EHCI): code execution on the hypervisor from a VM"),
             C("CVE-2020-3967", "Heap overflow in the USB 2.0 controller (EHCI): code execution on the hypervisor from a VM"),
             C("CVE-2020-3968", "Out-of-bounds write in the USB 3.0 controller (xHCI): vmx crash or code execution on the hypervisor from a VM"),
             C("CVE-2020-3969", "Off-by-one heap overflow in the SVGA device: code execution on the hypervisor from a VM with 3D graphics enabled"),
             C("CVE-2020-3970", "Out-of-bounds read in the shader functionality: a non-admin user in a VM with 3D graphics can crash the vmx process"),
             C("CVE-2020-3971", "Heap overflow in the vmxnet3 virtual network adapter: a user in a VM may read privileged information from physical memory")],
        fix=[F("6.5", 16207673, "ESXi650-202005401-SG", ["build: Tenable esx-base check (6.5 EP 19); CVE-2020-3971 was already fixed by ESXi650-201907101-SG"]),
             F("6.7", 16316930, "ESXi670-202006401-SG",
               ["CVE records: CVE-2020-3963/3964/3965 fixed by ESXi670-202006401-SG, the others by ESXi670-202004101-SG (15999342); build = Tenable esx-base check (6.7 EP 15)",
                "CVE-2020-3971 was already fixed by ESXi670-201904101-SG"]),
             F("7.0", 16321839, "ESXi_7.0.0-1.20.16321839", ["7.0b security-only build; CVE-2020-3971 does not affect 7.0"])],
    ),
    dict(
        id="VMSA-2020-0018",
        title="VMware ESXi, vCenter Server, and Cloud Foundation updates address a partial denial of service vulnerability",
        published="2020-08-21",
        sources=[url("VMSA-2020-0018"), cvel("CVE-2020-3976"), ten("vmware_VMSA-2020-0018.nasl"), ten("vmware_esxi_vmsa_2020_0018.nasl"),
                 "title: Tenable plugin vmware_VMSA-2020-0018.nasl name; published: cvelistV5 datePublished",
                 "CVSS 5.3: 'maximum CVSSv3 base score of 5.3' in the CVE description"],
        cve=[C("CVE-2020-3976", "Partial denial of service in the authentication services of ESXi and vCenter Server", 5.3)],
        fix=[F("6.5", 16576879, None, ["Tenable esx-base check 6.5.0-3.134.16576879 (6.5 P05 security-only); Tenable build check 16576891 (6.5 P05)"]),
             F("6.7", 16701467, None, ["Tenable esx-base check 6.7.0-3.112.16701467 (6.7 P03 security-only); Tenable build check 16713306 (6.7 P03)"]),
             F("7.0", 16321839, "ESXi_7.0.0-1.20.16321839", ["Tenable esx-base check 7.0.0-1.20.16321839 (7.0b security-only); Tenable build check 16324942 (7.0b)"])],
    ),
    dict(
        id="VMSA-2020-0023",
        title="VMware ESXi, Workstation, Fusion and NSX-T updates address multiple security vulnerabilities",
        published="2020-10-20",
        sources=[url("VMSA-2020-0023"), cvel("CVE-2020-3981"), cvel("CVE-2020-3982"), cvel("CVE-2020-3992"), cvel("CVE-2020-3995"),
                 ten("vmware_VMSA-2020-0023.nasl"), "shared/research/catalog/cvelistV5_esxi_affected_DERIVED.csv",
                 "title: Tenable plugin vmware_VMSA-2020-0023.nasl name; published: cvelistV5 datePublished of CVE-2020-3992",
                 "CVSS 9.8 and KEV date of CVE-2020-3992: CISA ADP container of the CVE record"],
        **SLPD,
        cve=[C("CVE-2020-3981", "Out-of-bounds read from a time-of-check time-of-use issue in the ACPI device: an admin in a VM may leak vmx memory"),
             C("CVE-2020-3982", "Out-of-bounds write from a time-of-check time-of-use issue in the ACPI device: an admin in a VM may crash vmx or corrupt the hypervisor heap"),
             C("CVE-2020-3992", "OpenSLP use-after-free: an attacker on the management network with access to port 427 may execute code remotely", 9.8, True),
             C("CVE-2020-3995", "Memory leak in the VMCI host drivers: a VM may exhaust hypervisor memory over time")],
        fix=[F("6.5", 17097218, "ESXi650-202011001",
               ["CVE-2020-3992 record: fixed by ESXi650-202010401-SG (6.5 EP 21, 16901156); Tenable's VMSA-2020-0023 esx-base check wants 6.5.0-3.146.17097218 (6.5 EP 22, bundle ESXi650-202011001) - the later build is kept"]),
             F("6.7", 16773714, "ESXi670-202010401-SG",
               ["CVE-2020-3992 record and Tenable esx-base check agree on 6.7 EP 16 (16773714); CVE-2020-3981/3982 were fixed earlier by ESXi670-202008101-SG",
                "doubt: the 6.5 and 7.0 fixes moved to later builds (EP 22, U1a), the 6.7 one did not in these sources"]),
             F("7.0", 17119627, "ESXi 7.0 Update 1a",
               ["CVE records: 7.0 fixed in ESXi_7.0.1-0.0.16850804 (7.0 Update 1); Tenable esx-base check wants 7.0.1-0.10.17119627 (7.0 U1a) - the later build is kept"])],
    ),
    dict(
        id="VMSA-2020-0026",
        title="VMware ESXi, Workstation and Fusion updates address use-after-free and privilege escalation vulnerabilities",
        published="2020-11-20",
        sources=[url("VMSA-2020-0026"), cvel("CVE-2020-4004"), cvel("CVE-2020-4005"), ten("vmware_VMSA-2020-0026.nasl"), ten("vmware_esxi_vmsa_2020_0026.nasl"),
                 "title: Tenable plugin vmware_VMSA-2020-0026.nasl name; published: cvelistV5 datePublished"],
        cve=[C("CVE-2020-4004", "Use-after-free in the XHCI USB controller: an admin in a VM may execute code as the VM's vmx process on the host"),
             C("CVE-2020-4005", "Privilege escalation in the way certain system calls are managed: from the vmx process to the host, when chained with another issue such as CVE-2020-4004")],
        fix=[F("6.5", 17167537, "ESXi650-202011301-SG", ["Tenable esx-base and build checks: 6.5 EP 23"]),
             F("6.7", 17167699, "ESXi670-202011101-SG", ["Tenable esx-base check 6.7.0-3.128.17167699 (6.7 P04 security-only); Tenable build check 17167734 (6.7 P04)"]),
             F("7.0", 17168206, "ESXi70U1b-17168206")],
    ),
    dict(
        id="VMSA-2020-0029",
        title="VMware ESXi, Workstation, Fusion and Cloud Foundation updates address a denial of service vulnerability",
        published="2020-12-21",
        sources=[url("VMSA-2020-0029"), cvel("CVE-2020-3999"), ten("vmware_esxi_vmsa_2020_0029.nasl"),
                 DESCRIPTIVE, "published: cvelistV5 datePublished"],
        cve=[C("CVE-2020-3999", "Denial of service from improper input validation in GuestInfo: a normal user in a VM can crash the VM's vmx process")],
        fix=[F("7.0", 17325551, "ESXi70U1c-17325551", ["6.5 and 6.7 are not listed as affected in the CVE record"])],
    ),
    dict(
        id="VMSA-2021-0002",
        title="VMware ESXi and vCenter Server updates address multiple security vulnerabilities",
        published="2021-02-23",
        sources=[url("VMSA-2021-0002"), cvel("CVE-2021-21974"), ten("vmware_esxi_vmsa-2021-0002.nasl"),
                 "title: data/README.md schema example (not re-read from the advisory)",
                 "shared/research/catalog/cvelistV5_esxi_affected_DERIVED.csv", "shared/research/README.md (key facts: VMSA-2021-0002, KB 76372, ESXiArgs)",
                 "CVSS 8.8: CISA ADP container of the CVE record",
                 "published: release date of the fixing bundles ESXi670-202102001 / ESXi650-202102001 (KB 316595); the CVE record's datePublished is 2021-02-24 (UTC)"],
        **SLPD,
        cve=[C("CVE-2021-21974", "OpenSLP heap overflow: an attacker on the same network segment with access to port 427 may execute code remotely", 8.8, True)],
        fix=[F("6.5", 17477841, "ESXi650-202102101-SG", ["build: Tenable build check (ESXi650-202102001, 6.5 P06)"]),
             F("6.7", 17499825, "ESXi670-202102401-SG", ["build: Tenable build check (ESXi670-202102001, 6.7 EP 18)"]),
             F("7.0", 17325551, "ESXi70U1c-17325551")],
    ),
    dict(
        id="VMSA-2021-0014",
        title="VMware ESXi updates address authentication and denial of service vulnerabilities",
        published="2021-07-13",
        sources=[url("VMSA-2021-0014"), cvel("CVE-2021-21994"), cvel("CVE-2021-21995"), ten("vmware_esxi_vmsa-2021-0014.nasl"),
                 DESCRIPTIVE, "published: cvelistV5 datePublished"],
        cve=[C("CVE-2021-21994", "SFCB (CIM broker) authentication bypass: an attacker with access to port 5989 may bypass SFCB authentication"),
             C("CVE-2021-21995", "OpenSLP heap out-of-bounds read: an attacker with access to port 427 may cause a denial of service")],
        fix=[F("6.5", 18071574, "ESXi650-202107401-SG", ["build: Tenable build check (ESXi650-202107001, 6.5 EP 24)"]),
             F("6.7", 17700523, "ESXi670-202103101-SG", ["build: Tenable build check (ESXi670-202103001, 6.7 P05); the security-only image of that bundle is 17700514"]),
             F("7.0", 17630552, "ESXi70U2-17630552")],
    ),
    dict(
        id="VMSA-2022-0001",
        title="VMware ESXi, Workstation, and Fusion updates address a heap-overflow vulnerability",
        published="2022-01-04",
        sources=[url("VMSA-2022-0001"), cvel("CVE-2021-22045"), ten("vmware_esxi_vmsa-2022-0001.nasl"),
                 DESCRIPTIVE, "published: cvelistV5 datePublished"],
        cve=[C("CVE-2021-22045", "Heap overflow in CD-ROM device emulation: a user in a VM with an emulated CD-ROM may, chained with other issues, execute code on the hypervisor")],
        fix=[F("6.5", 18678235, "ESXi650-202110101-SG", ["build: Tenable build check (ESXi650-202110001, 6.5 P07); the security-only image of that bundle is 18677441"]),
             F("6.7", 18828794, "ESXi670-202111101-SG", ["build: Tenable build check (ESXi670-202111001, 6.7 P06); the security-only image of that bundle is 18812553"]),
             F("7.0", 19193900, "ESXi70U3c-19193900", ["the CVE record lists 7.0 as affected without a fixed version; Tenable's check wants 7.0 U3c (19193900)"])],
    ),
    dict(
        id="VMSA-2022-0004",
        title="VMware ESXi, Workstation, and Fusion updates address multiple security vulnerabilities",
        published="2022-02-15",
        sources=[url("VMSA-2022-0004"), faq("VMSA-2022-0004")] + [cvel(f"CVE-2021-{n}") for n in (22040, 22041, 22042, 22043, 22050)] + [
            ten("vmware_esxi_vmsa-2022-0004.nasl"), DESCRIPTIVE,
            "published: release date of the back-in-time fixes 7.0 U1e / U2e and 6.5 EP 26 (KB 316595); the CVE records' datePublished is 2022-02-16 (UTC)"],
        **USB,
        cve=[C("CVE-2021-22040", "Use-after-free in the XHCI USB controller: an admin in a VM may execute code as the VM's vmx process on the host"),
             C("CVE-2021-22041", "Double-fetch in the UHCI USB controller: an admin in a VM may execute code as the VM's vmx process on the host"),
             C("CVE-2021-22042", "Unauthorized access: the vmx process has access to settingsd authorization tickets and may reach settingsd as a high-privileged user"),
             C("CVE-2021-22043", "Time-of-check time-of-use issue in settingsd temporary-file handling: privilege escalation by writing arbitrary files"),
             C("CVE-2021-22050", "Slow HTTP POST denial of service in rhttpproxy")],
        fix=[F("6.5", 19092475, "ESXi650-202202401-SG", ["build: Tenable build check (ESXi650-202202001, 6.5 EP 26)"]),
             F("6.7", 18828794, "ESXi670-202111101-SG", ["build: Tenable build check (ESXi670-202111001, 6.7 P06); the security-only image of that bundle is 18812553"]),
             F("7.0", 19193900, "ESXi70U3c-19193900",
               ["back-in-time fixes for older update lines: ESXi70U2e-19290878 (7.0 U2 line) and ESXi70U1e-19324898 (7.0 U1 line); a host on 7.0 U1/U2 is fixed by those or by 7.0 U3c and later",
                "FAQ: 'if you have fully applied the ESXi 7.0 Update 3c release from January 27, 2022, or a newer release, you are fully protected'"])],
    ),
    dict(
        id="VMSA-2022-0016",
        title="VMware ESXi updates address Intel CPU (MMIO stale data) side-channel vulnerabilities",
        published="2022-06-14",
        sources=[url("VMSA-2022-0016"), faq("VMSA-2022-0016"),
                 "CVE summaries: Intel's CVE descriptions as quoted by Tenable plugin 192568 (the cvelistV5 records of CVE-2022-21123/21125/21166 were not read)"] + [
            "Tenable Nessus plugin 192568 vmware_esxi_vmsa-2022-0016.nasl (AmrouKourchid/nessus_plugins @575ad1f93ccc89f3008f41d5e467b31a032617c3, search-index id 11139053594): fixed builds 6.7 19898906 '6.7 P07', 7.0 19898904 '7.0 Update 3e'",
            DESCRIPTIVE,
            "published: FAQ change log '2022-06-14, 1000: Initial release' (Intel's disclosure of the same day)",
            "CVSS 3.8: FAQ 'VMware has scored this issue as CVSS 3.8' (one vendor score for the advisory's three CVEs; the CVE records are Intel's)",
            kev_absent(["CVE-2022-21123", "CVE-2022-21125", "CVE-2022-21166"])],
        workaround=("Only hosts using DirectPath I/O (PCI passthrough) or SR-IOV on Intel CPUs are exposed: stop using DirectPath I/O, or keep such VMs under trusted staff; "
                    "once patched, a Side-Channel Aware Scheduler with VMkernel.Boot.forceHyperthreadingMitigation (FAQ)"),
        cve=[C("CVE-2022-21123", "Intel CPU: incomplete cleanup of multi-core shared buffers may let an authenticated local user disclose information (MMIO stale data); relevant to VMs using DirectPath I/O or SR-IOV", 3.8),
             C("CVE-2022-21125", "Intel CPU: incomplete cleanup of microarchitectural fill buffers may let an authenticated local user disclose information (MMIO stale data); relevant to VMs using DirectPath I/O or SR-IOV", 3.8),
             C("CVE-2022-21166", "Intel CPU: incomplete cleanup in specific special register write operations may let an authenticated local user disclose information; relevant to VMs using DirectPath I/O or SR-IOV", 3.8)],
        fix=[F("6.5", None, None,
               ["FAQ 'Why is there no patch for VMware vSphere 6.5?': SCAv2 needs 6.7 Update 2 or newer; its 6.5 workarounds are upgrading ('7.0 U3e (preferred) or 6.7 U3r'), discontinuing DirectPath I/O, or trusted VM operators"]),
             F("6.7", 19898906, "ESXi670-202206001", ["build: Tenable build check '6.7 P07 (19898906)' (bundle ESXi670-202206001)"]),
             F("7.0", 19898904, "ESXi 7.0 Update 3e", ["build: Tenable build check '7.0 Update 3e (19898904)'"])],
    ),
    dict(
        id="VMSA-2022-0020",
        title="VMware ESXi updates address CPU side-channel (RetBleed / Branch Type Confusion) vulnerabilities",
        published="2022-07-12",
        sources=[url("VMSA-2022-0020"), faq("VMSA-2022-0020"), cvel("CVE-2022-23816"), cvel("CVE-2022-28693"),
                 "CVE summaries of CVE-2022-23825 and CVE-2022-29901: the CPU vendors' descriptions as quoted by Tenable plugin 192466 (their cvelistV5 records were not read)"] + [
            "Tenable Nessus plugin 192466 'VMware ESXi 6.5 / 6.7 / 7.0 Multiple Vulnerabilities (VMSA-2022-0020)' (search-index id 11108314339): fixed builds 6.5 19997716 (ESXi650-202207001), 6.7 19997733 (ESXi670-202207001), 7.0 20036589 (ESXi 7.0 Update 3f); it also lists CVE-2022-26373, which the FAQ does not name",
            DESCRIPTIVE,
            "published: FAQ change log '2022-07-12, 1000: Initial release'",
            "CVSS 5.6: FAQ 'VMware has scored this issue as CVSS 5.6' (one vendor score for the advisory's CVEs; the CVE records are Intel's and AMD's)",
            kev_absent(["CVE-2022-23816", "CVE-2022-23825", "CVE-2022-28693", "CVE-2022-29901"])],
        workaround="none: the FAQ says 'Put simply: patch.' and that the Side-Channel Aware Schedulers 'do not mitigate these issues'",
        cve=[C("CVE-2022-23816", "AMD CPU branch type confusion (RetBleed), as the FAQ lists it; the cvelistV5 record is REJECTED by AMD (2023-01-17, 'unused by its CNA')", 5.6),
             C("CVE-2022-23825", "AMD CPU: aliases in the branch predictor may cause the wrong branch type to be predicted, potentially disclosing information (Branch Type Confusion); an admin or root in a VM is needed on ESXi", 5.6),
             C("CVE-2022-28693", "Intel CPU: unprotected alternative channel of return branch target prediction may let an authorized local user disclose information (Return Stack Buffer Underflow)", 5.6),
             C("CVE-2022-29901", "Intel CPU (generations 6 to 8): Spectre variant that bypasses the retpoline mitigation to leak arbitrary data (RetBleed); an admin or root in a VM is needed on ESXi", 5.6)],
        fix=[F("6.5", 19997716, "ESXi650-202207001", ["build: Tenable build check (ESXi650-202207001, 6.5 EP 27)"]),
             F("6.7", 19997733, "ESXi670-202207001", ["build: Tenable build check (ESXi670-202207001, 6.7 EP 24)"]),
             F("7.0", 20036589, "ESXi 7.0 Update 3f",
               ["build: Tenable build check (ESXi 7.0 Update 3f)",
                "not settled: the security-only image 7.0 U3sf 20036586 of the same bundle is numbered lower; no source read says whether it carries these mitigations, so it counts as not fixed here"])],
    ),
    dict(
        id="VMSA-2022-0025",
        title="VMware vCenter Server and ESXi updates address multiple security vulnerabilities",
        published="2022-10-07",
        sources=[url("VMSA-2022-0025"), cvel("CVE-2022-31681"),
                 ten("vmware_esxi_vmsa-2022-0030.nasl") + ": build of the same -SG bulletins ESXi650-202210101-SG / ESXi670-202210101-SG",
                 "Tenable plugin 166101 'VMware vCenter Server 6.5 < 6.5 U3u RCE (VMSA-2022-0025)' (search-index id 18956375477): CVE-2022-31680 of this advisory is vCenter Server only",
                 DESCRIPTIVE,
                 "published: cvelistV5 datePublished 2022-10-07 (UTC); the fixing 6.5/6.7 bundles ESXi650-202210001 / ESXi670-202210001 are dated 2022-10-06 (KB 316595)",
                 "CVSS: the CVE record carries no score and no source read gives VMware's CVSSv3 for CVE-2022-31681 (left unset)",
                 kev_absent(["CVE-2022-31681"])],
        cve=[C("CVE-2022-31681", "Null-pointer dereference: an actor with privileges within the VMX process only may cause a denial of service of the host")],
        fix=[F("6.5", 20502893, "ESXi650-202210101-SG",
               ["CVE record: 6.5 prior to ESXi650-202210101-SG; build = Tenable's build check for that bulletin's bundle (ESXi650-202210001, 6.5 P09; VMSA-2022-0030 plugin); the security-only image of that bundle is 20448942"]),
             F("6.7", 20497097, "ESXi670-202210101-SG",
               ["CVE record: 6.7 prior to ESXi670-202210101-SG; build = Tenable's build check for that bulletin's bundle (ESXi670-202210001, 6.7 P08; VMSA-2022-0030 plugin); the security-only image of that bundle is 20491463"]),
             F("7.0", 20036586, "ESXi70U3sf-20036586", ["CVE record: 7.0 prior to ESXi70U3sf-20036586 (security-only image of 7.0 U3f 20036589)"])],
    ),
    dict(
        id="VMSA-2022-0030",
        title="VMware ESXi and Cloud Foundation updates address multiple security vulnerabilities",
        published="2022-12-13",
        sources=[url("VMSA-2022-0030"), cvel("CVE-2022-31696"), cvel("CVE-2022-31699"), ten("vmware_esxi_vmsa-2022-0030.nasl"),
                 DESCRIPTIVE, "published: cvelistV5 datePublished"],
        cve=[C("CVE-2022-31696", "Memory corruption in network socket handling: a local actor may escape the ESXi sandbox"),
             C("CVE-2022-31699", "Heap overflow: a local actor with restricted privileges in a sandbox process may achieve partial information disclosure")],
        fix=[F("6.5", 20502893, "ESXi650-202210101-SG", ["build: Tenable build check (ESXi650-202210001, 6.5 P09); the security-only image of that bundle is 20448942"]),
             F("6.7", 20497097, "ESXi670-202210101-SG", ["build: Tenable build check (ESXi670-202210001, 6.7 P08); the security-only image of that bundle is 20491463"]),
             F("7.0", 20841705, "ESXi70U3si-20841705")],
    ),
    dict(
        id="VMSA-2022-0033",
        title="VMware ESXi, Workstation, and Fusion updates address a heap out-of-bounds write vulnerability",
        published="2022-12-14",
        sources=[url("VMSA-2022-0033"), cvel("CVE-2022-31705"), ten("vmware_esxi_vmsa-2022-0033.nasl"),
                 DESCRIPTIVE, "published: cvelistV5 datePublished"],
        cve=[C("CVE-2022-31705", "Heap out-of-bounds write in the USB 2.0 controller (EHCI): an admin in a VM may execute code as the VM's vmx process (contained in the VMX sandbox on ESXi)")],
        fix=[F("7.0", 20841705, "ESXi70U3si-20841705"),
             F("8.0", 20842819, "ESXi80a-20842819",
               ["6.5 and 6.7 (past end of general support) are not listed in the CVE record; Tenable's plugin also carries junk rows '7'/'8' (ignored)"])],
    ),
    dict(
        id="VMSA-2024-0006",
        title="VMware ESXi, Workstation, and Fusion updates address multiple security vulnerabilities",
        published="2024-03-05",
        sources=[url("VMSA-2024-0006"), faq("VMSA-2024-0006")] + [cvel(f"CVE-2024-{n}") for n in (22252, 22253, 22254, 22255)] + [
            "shared/research/catalog/cvelistV5_esxi_affected_DERIVED.csv", "shared/research/catalog/esxi_2020_2025_supplement.csv (6.5/6.7 extended-support patches)",
            DESCRIPTIVE, "published: FAQ ('On March 5, 2024, Broadcom issued a security advisory, VMSA-2024-0006')"],
        **USB,
        cve=[C("CVE-2024-22252", "Use-after-free in the XHCI USB controller: an admin in a VM may execute code as the VM's vmx process (contained in the VMX sandbox on ESXi)", 9.3),
             C("CVE-2024-22253", "Use-after-free in the UHCI USB controller: an admin in a VM may execute code as the VM's vmx process (contained in the VMX sandbox on ESXi)", 9.3),
             C("CVE-2024-22254", "Out-of-bounds write: an actor with privileges in the vmx process may escape the sandbox", 7.9),
             C("CVE-2024-22255", "Information disclosure in the UHCI USB controller: an admin in a VM may leak vmx memory", 7.1)],
        fix=[F("6.5", None, None,
               ["extended-support patch ESXi650-202403001 (2024-03-05; FAQ: extended support patches for 6.5, 6.7 and VCF 3.x); its build is not in the sources"]),
             F("6.7", 23084122, "ESXi670-202403001", ["extended-support patch (FAQ); build from the esx-base VIB 6.7.0-3.193.23084122 quoted from its release notes (supplement)"]),
             F("7.0", 23307199, "ESXi70U3p-23307199",
               ["doubt: KB 316595 copy dates 7.0 U3p 2024-04-11, after this advisory; the CVE records name it as the fix on 2024-03-05"]),
             F("8.0", 23299997, "ESXi80U1d-23299997",
               ["two fixed lines: ESXi80U1d-23299997 (8.0 U1 line) and ESXi80U2sb-23305545 (8.0 U2 line, security-only image of 8.0 U2b 23305546)"],
               lines=[("8.0.2", 23305545, "ESXi80U2sb-23305545")])],
    ),
    dict(
        id="VMSA-2024-0011",
        title="VMware ESXi, Workstation, and Fusion updates address multiple security vulnerabilities",
        published="2024-05-21",
        sources=["https://support.broadcom.com/web/ecx/support-content-notification/-/external/content/SecurityAdvisories/0/24308",
                 cvel("CVE-2024-22273"),
                 "Greenbone NASL 'VMware ESXi Out-of-bounds read/write Vulnerability (VMSA-2024-0011)' (search-index id 14646360416): ties CVE-2024-22273 to VMSA-2024-0011",
                 DESCRIPTIVE, "published: cvelistV5 datePublished"],
        cve=[C("CVE-2024-22273", "Out-of-bounds read/write in the storage controllers: a user of a VM may cause a denial of service or, chained with other issues, execute code on the hypervisor", 8.1)],
        fix=[F("7.0", 23794019, "ESXi70U3sq-23794019"),
             F("8.0", 23305545, "ESXi80U2sb-23305545", ["the other CVEs of this advisory affect Workstation and Fusion only"])],
    ),
    dict(
        id="VMSA-2024-0013",
        title="VMware ESXi updates address authentication bypass and denial-of-service vulnerabilities",
        published="2024-06-25",
        sources=["https://support.broadcom.com/web/ecx/support-content-notification/-/external/content/SecurityAdvisories/0/24505",
                 cvel("CVE-2024-37085"), cvel("CVE-2024-37086"),
                 "Greenbone NASL 'VMware ESXi Authentication Bypass Vulnerability (VMSA-2024-0013)' (search-index id 6869007577): ties the Broadcom advisory 24505 to VMSA-2024-0013",
                 DESCRIPTIVE, "published: cvelistV5 datePublic"],
        cve=[C("CVE-2024-37085", "Authentication bypass in Active Directory integration: an actor with enough AD permissions gets full access to an AD-joined host by re-creating the configured admin group ('ESX Admins' by default); CISA KEV since 2024-07-30", 6.8, True),
             C("CVE-2024-37086", "Out-of-bounds read: an admin in a VM with an existing snapshot may cause a host denial of service", 6.8)],
        fix=[F("7.0", None, None,
               ["CVE-2024-37085: the CVE record lists 7.0 as affected with no fixed version; CVE-2024-37086 is fixed in ESXi70U3sq-23794019",
                "CVE-2024-37087 of the same advisory affects vCenter Server only"]),
             F("8.0", 24022510, "ESXi80U3-24022510")],
    ),
    dict(
        id="VMSA-2025-0004",
        title="VMware ESXi, Workstation, and Fusion updates address multiple vulnerabilities",
        published="2025-03-04",
        sources=["https://support.broadcom.com/web/ecx/support-content-notification/-/external/content/SecurityAdvisories/0/25390",
                 faq("VMSA-2025-0004"), cvel("CVE-2025-22224"), cvel("CVE-2025-22225"), cvel("CVE-2025-22226"),
                 "shared/research/catalog/cvelistV5_esxi_affected_DERIVED.csv", DESCRIPTIVE,
                 "published: FAQ ('On March 4, 2025 Broadcom released a critical VMware Security Advisory')"],
        workaround="none: the FAQ says 'There are no feasible workarounds for this situation'",
        cve=[C("CVE-2025-22224", "Time-of-check time-of-use issue leading to an out-of-bounds write: an admin in a VM may execute code as the VM's vmx process on the host (VM escape); CISA KEV since 2025-03-04", 9.3, True),
             C("CVE-2025-22225", "Arbitrary write: an actor with privileges in the vmx process may trigger an arbitrary kernel write and escape the sandbox; CISA KEV since 2025-03-04", 8.2, True),
             C("CVE-2025-22226", "Information disclosure from an out-of-bounds read in HGFS: an admin in a VM may leak vmx memory; CISA KEV since 2025-03-04", 7.1, True)],
        fix=[F("6.5", None, None, ["FAQ: 6.5 customers should use the extended support process; no public build in the sources"]),
             F("6.7", None, None,
               ["FAQ: 'A patch has been released for ESX 6.7 and is available via the Support Portal to all customers'; bundle name ESXi670-202503001 from the itiligent script (supplement), build and date not found"]),
             F("7.0", 24585291, "ESXi70U3s-24585291"),
             F("8.0", 24585300, "ESXi80U2d-24585300",
               ["two fixed lines: ESXi80U2d-24585300 (8.0 U2 line) and ESXi80U3d-24585383 (8.0 U3 line); 8.0 U3 builds before 24585383 are not fixed",
                "FAQ: moving from 8.0 U2d to an 8.0 Update 3 build older than U3d is a back-in-time move that re-exposes the host",
                "8.0e (24569005, 2025-03-11, 8.0 GA line) is not named as a fixed version in the CVE records"],
               lines=[("8.0.3", 24585383, "ESXi80U3d-24585383")])],
    ),
    dict(
        id="VMSA-2025-0010",
        title="VMware ESXi, vCenter Server, Workstation, and Fusion updates address multiple vulnerabilities",
        published="2025-05-20",
        sources=["https://support.broadcom.com/web/ecx/support-content-notification/-/external/content/SecurityAdvisories/0/25717"]
                + [cvel(f"CVE-2025-{n}") for n in (41226, 41227, 41228)] + [
            "Tenable plugin list in a Risu ESXi post-process file (search-index id 67385817715): '237246, #MEDIUM, VMware ESXi 7.0 / 8.0 Multiple Vulenerabilities (VMSA-2025-0010)' ties the Broadcom advisory 25717 to VMSA-2025-0010",
            "Tenable plugin list (search-index id 67646538307): vCenter plugins 237247/237248 name CVE-2025-41225 and CVE-2025-41228 under VMSA-2025-0010",
            DESCRIPTIVE, "published: cvelistV5 datePublic 2025-05-20",
            kev_absent(["CVE-2025-41226", "CVE-2025-41227", "CVE-2025-41228"])],
        cve=[C("CVE-2025-41226", "Denial of service in guest operations: an actor with guest operation privileges on a VM, authenticated through vCenter Server or ESXi, may make guest VMs with VMware Tools and guest operations unavailable", 6.8),
             C("CVE-2025-41227", "Denial of service from certain guest options: a non-admin user in a guest may exhaust memory of the host process", 5.5),
             C("CVE-2025-41228", "Reflected cross-site scripting on the login page of certain ESXi host (and vCenter Server) URL paths: cookie theft or redirection", 4.3)],
        fix=[F("7.0", 24723868, "ESXi70U3sv-24723868",
               ["CVE records: 7.0 prior to ESXi70U3sv-24723868 (security-only image of 7.0 U3v 24723872); CVE-2025-41225 of this advisory is vCenter Server only"]),
             F("8.0", 24659227, "ESXi80U3se-24659227",
               ["CVE records: 8.0 prior to ESXi80U3se-24659227 (security-only image of 8.0 U3e 24674464); they name no fix for the 8.0 U2 line",
                "not settled: later 8.0 U2 builds (8.0 U2e 24789317, 2025-07) are numbered above 24659227 and count as fixed here; no source read says so"])],
    ),
    dict(
        id="VMSA-2025-0013",
        title="VMware ESXi, Workstation, Fusion, and VMware Tools updates address multiple vulnerabilities",
        published="2025-07-15",
        sources=["https://support.broadcom.com/web/ecx/support-content-notification/-/external/content/SecurityAdvisories/0/35877",
                 faq("VMSA-2025-0013")] + [cvel(f"CVE-2025-{n}") for n in (41236, 41237, 41238, 41239)] + [
            "ESX 9.0.0.0100 release notes (search-index id 15288471696): 'This live-patchable release resolves CVE-2025-41237'",
            DESCRIPTIVE, "published: FAQ ('On July 15, 2025, Broadcom released a critical VMware Security Advisory')"],
        workaround="none: the FAQ says 'There are no feasible workarounds for these vulnerabilities'",
        cve=[C("CVE-2025-41236", "Integer overflow in the VMXNET3 virtual network adapter: an admin in a VM with a VMXNET3 adapter may execute code on the host", 9.3),
             C("CVE-2025-41237", "Integer underflow in VMCI leading to an out-of-bounds write: an admin in a VM may execute code as the VM's vmx process (contained in the VMX sandbox on ESXi)", 9.3),
             C("CVE-2025-41238", "Heap overflow in the PVSCSI controller leading to an out-of-bounds write: code execution as the vmx process; on ESXi only in unsupported configurations", 9.3),
             C("CVE-2025-41239", "Use of uninitialised memory in vSockets: an admin in a VM may leak memory of processes communicating over vSockets", 7.1)],
        fix=[F("6.5", None, None, ["FAQ: 6.5 and 6.7 customers should use the extended support process; no public build in the sources"]),
             F("6.7", None, None, ["FAQ: extended support process only; no public build in the sources"]),
             F("7.0", 24784741, "ESXi70U3w-24784741"),
             F("8.0", 24784735, "ESXi80U3f-24784735",
               ["two fixed lines: ESXi80U3f-24784735 (8.0 U3 line) and ESXi80U2e-24789317 (8.0 U2 line)",
                "FAQ: this update triggers back-in-time issues for upgrades from 7.0 to 8.0 until a later 8.0 update"],
               lines=[("8.0.2", 24789317, "ESXi80U2e-24789317")]),
             F("9.0", 24813472, "ESX 9.0.0.0100", ["only CVE-2025-41237 affects 9.0.0.0 (CVE record: Cloud Foundation / vSphere Foundation 9.0.0.0); fixed by ESX 9.0.0.0100 per its release notes"])],
    ),
]


def q(s):
    return json.dumps(s, ensure_ascii=False)


def render(a):
    o = [f"# {a['id']}. GENERATED by scripts/kb/advisories.py; edit the script, not this file. Schema: data/README.md.", ""]
    o.append(f"id = {q(a['id'])}")
    o.append(f"title = {q(a['title'])}")
    o.append(f"published = {q(a['published'])}")
    o.append("sources = [")
    o.extend(f"  {q(s)}," for s in a["sources"])
    o.append("]")
    for k in ("workaround_kb", "workaround", "workaround_service"):
        if a.get(k):
            o.append(f"{k} = {q(a[k])}")
    for c in a["cve"]:
        o += ["", "[[cve]]", f"id = {q(c['id'])}"]
        if c["cvss"] is not None:
            o.append(f"cvss = {c['cvss']}")
        o.append(f"summary = {q(c['summary'])}")
        o.append(f"known_exploited = {'true' if c['known_exploited'] else 'false'}")
    for f in a["fix"]:
        o += ["", "[[fix]]", f"branch = {q(f['branch'])}"]
        if f["build"] is not None:
            o.append(f"build = {f['build']}")
        if f["release"]:
            o.append(f"release = {q(f['release'])}")
        o.append("notes = [" + ", ".join(q(n) for n in f["notes"]) + "]")
        for version, build, release in f["lines"]:
            o += ["", "[[fix.line]]", f"version = {q(version)}", f"build = {build}", f"release = {q(release)}"]
    return "\n".join(o) + "\n"


KEV_NOTES = {
    "CVE-2020-3992": "CISA KEV since 2021-11-03 (cvelistV5 CISA ADP container)",
    "CVE-2021-21974": "exploited by the ESXiArgs ransomware campaign in February 2023 (shared/research/README.md); CISA ADP marks exploitation 'poc', not in KEV per the record",
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(REPO / "data" / "advisories"))
    a = ap.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    for adv in ADVISORIES:
        for c in adv["cve"]:
            if c["id"] in KEV_NOTES and KEV_NOTES[c["id"]] not in c["summary"]:
                c["summary"] += "; " + KEV_NOTES[c["id"]]
        path = out / f"{adv['id']}.toml"
        tmp = path.with_suffix(".toml.tmp")
        tmp.write_text(render(adv), encoding="utf-8")
        os.replace(tmp, path)
    print(f"{out}: {len(ADVISORIES)} advisories")


if __name__ == "__main__":
    main()
