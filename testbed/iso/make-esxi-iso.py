#!/usr/bin/env python3
"""make-esxi-iso.py: build a test ESXi installer ISO (ISO 9660, the file layout
of a real ESXi installer ISO) from an image profile of a synthetic depot, for
the esxup-media tests (ISO reader, USB stick writer, kickstart). No root, no
mount: the tree is staged in a temporary folder and written with xorriso.

    testbed/iso/make-esxi-iso.py --out OUT.iso [--depot DIR] [--profile NAME]
        [--loader PATH] [--no-efi] [--extra-vib-xml FILE]... [--layout upgrade|imgdb]
        [--volid ID] [--list-profiles]

  --out FILE.iso        the ISO to write (required unless --list-profiles)
  --depot DIR           a depot written by scripts/gen-synthetic-depot.py; without
                        it one is generated (--small) into a temporary folder
  --profile NAME        image profile (default ESXi-7.0U3g-20328353-standard)
  --loader PATH         file to put in as EFI/BOOT/BOOTX64.EFI (and in EFIBOOT.IMG);
                        default testbed/iso/bin/BOOTX64.EFI (testbed/iso/build.sh)
  --no-efi              no EFI folder, no EFIBOOT.IMG, no El Torito EFI entry:
                        a BIOS-only image
  --extra-vib-xml FILE  (repeatable) a VIB descriptor (<vib>...</vib>) added to the
                        metadata and to the profile's VIB list, replacing the
                        profile's VIB of the same name if it has one (like a
                        customised ISO with an added or newer driver)
  --layout upgrade      (default) UPGRADE/METADATA.ZIP holds the metadata;
                        IMGDB.TGZ is dummy bytes like the other modules
  --layout imgdb        no UPGRADE/METADATA.ZIP; IMGDB.TGZ is a gzip tar of
                        var/db/esximg/profiles/<profile>, var/db/esximg/vibs/<name>.xml,
                        var/db/esximg/bulletins/<id>.xml
  --volid ID            volume id (default: the profile name in upper case,
                        at most 32 characters)
  --list-profiles       print the depot's image profiles and exit

Prints one JSON line: out, profile, build, volid, vibs, bulletins, efi, layout.

What is REAL and what is SYNTHETIC
----------------------------------
REAL (as on VMware's installer ISOs and in the vSphere installation guide):
* the file names at the root in upper-case 8.3 form, ISO 9660 names only (no
  Rock Ridge, no Joliet): BOOT.CFG, ISOLINUX.CFG, ISOLINUX.BIN, MBOOT.C32,
  MENU.C32, the module files (B.B00, JUMPSTRT.GZ, USEROPTS.GZ, FEATURES.GZ,
  K.B00, S.V00, ATA_LIBA.V00, IMGDB.TGZ), EFI/BOOT/BOOTX64.EFI,
  EFI/BOOT/BOOT.CFG, EFIBOOT.IMG, UPGRADE/METADATA.ZIP, UPGRADE/PRECHECK.PY.
  xorriso writes the ISO 9660 default version suffix, so a reader sees
  `BOOT.CFG;1` in the directory records and must strip `;1`.
* BOOT.CFG's format (bootstate, title, timeout, prefix, kernel, kernelopt,
  modules separated by ` --- `, build, updated). `kernelopt=runweasel
  cdromBoot` is the 7.0/8.0 ISO default (the line public USB-kickstart guides
  replace); 6.x ISOs have `cdromBoot runweasel`, used for 5.x/6.x profiles.
  `build=` is the esx-base VIB version of the profile, verbatim: on real ISOs
  it is the same string, e.g. 7.0 U2c ISOs carry build=7.0.2-0.20.18426014 =
  esx-base 7.0.2-0.20.18426014. For ESXi-7.0U3g-20328353-standard the depot's
  (real) esx-base is 7.0.3-0.55.20328353, so build=7.0.3-0.55.20328353.
  EFI/BOOT/BOOT.CFG is a byte-identical copy of BOOT.CFG.
* UPGRADE/METADATA.ZIP in depot metadata format (vmware.xml, vibs/,
  bulletins/, profiles/), holding one image profile.
* El Torito: a BIOS entry (ISOLINUX.BIN, no emulation, boot info table,
  catalogue BOOT.CAT) and an EFI entry (EFIBOOT.IMG, a FAT image holding
  EFI/BOOT/BOOTX64.EFI), as the guide's genisoimage command makes them.
SYNTHETIC:
* every module (B.B00, K.B00, JUMPSTRT.GZ, ..., IMGDB.TGZ in the upgrade
  layout), ISOLINUX.BIN, MBOOT.C32, MENU.C32 and UPGRADE/PRECHECK.PY: dummy
  bytes (a text line naming the file, padded), not executable and not valid
  gzip. A BIOS boot of the ISO does nothing useful.
* EFI/BOOT/BOOTX64.EFI: the stand-in GRUB loader of testbed/iso/build.sh
  (it prints BOOT.CFG to the serial console and powers off), not mboot.efi.
* the module list is a short subset of a real one; ISOLINUX.CFG is modelled
  on the real one (menu.c32, `KERNEL mboot.c32`, `APPEND -c boot.cfg`).
* which bulletins go into the metadata: every bulletin of the depot whose
  VIBs are all in the (final) profile. vmware.xml is a fixed stub.
* the imgdb layout's file names (profiles/<profile>, vibs/<name>.xml,
  bulletins/<id>.xml) are a model of /var/db/esximg, not copied from a real
  imgdb.tgz.
* the volume id: the profile name in upper case (ESXI-7.0U3G-20328353-STANDARD).
"""

import argparse
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import xml.etree.ElementTree as ET
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
GEN = os.path.join(ROOT, "scripts", "gen-synthetic-depot.py")
DEFAULT_LOADER = os.path.join(HERE, "bin", "BOOTX64.EFI")
DEFAULT_PROFILE = "ESXi-7.0U3g-20328353-standard"
ZIP_DATE = (2021, 1, 1, 0, 0, 0)
FILE_MTIME = 1609459200  # 2021-01-01T00:00:00Z, for reproducible images

# The kernel and modules, in boot order (SYNTHETIC subset of a 7.0 list).
KERNEL = "B.B00"
MODULES = ["JUMPSTRT.GZ", "USEROPTS.GZ", "FEATURES.GZ", "K.B00", "S.V00", "ATA_LIBA.V00", "IMGDB.TGZ"]
DUMMIES = [KERNEL] + MODULES + ["ISOLINUX.BIN", "MBOOT.C32", "MENU.C32"]


def die(msg):
    sys.stderr.write("make-esxi-iso.py: %s\n" % msg)
    sys.exit(1)


def text(el, tag):
    e = el.find(tag)
    return (e.text or "").strip() if e is not None else ""


def vib_id(vib):
    """VIB id as the depot names it: vendor_type_name_version."""
    return "%s_%s_%s_%s" % (text(vib, "vendor"), text(vib, "type"), text(vib, "name"), text(vib, "version"))


def metadata_zips(depot):
    """Metadata zip paths of a depot, following index.xml -> vendor index -> <url>."""
    out = []
    idx = os.path.join(depot, "index.xml")
    if not os.path.isfile(idx):
        die("%s: no index.xml" % depot)
    for vendor in ET.parse(idx).getroot().iter("vendor"):
        rel, indexfile = text(vendor, "relativePath"), text(vendor, "indexfile")
        vdir = os.path.join(depot, rel)
        vidx = os.path.join(vdir, indexfile)
        if not os.path.isfile(vidx):
            die("%s: vendor index %s missing" % (depot, vidx))
        for meta in ET.parse(vidx).getroot().iter("metadata"):
            out.append(os.path.join(vdir, text(meta, "url")))
    if not out:
        die("%s: no metadata zips listed" % depot)
    return out


def read_depot(depot):
    """(profiles {name: (zip member name, xml bytes)}, vibs {id: (member, bytes)}, bulletins [(member, bytes)])."""
    profiles, vibs, bulletins = {}, {}, []
    for zpath in metadata_zips(depot):
        with zipfile.ZipFile(zpath) as zf:
            for n in zf.namelist():
                if not n.endswith(".xml"):
                    continue
                data = zf.read(n)
                if n.startswith("profiles/"):
                    profiles[text(ET.fromstring(data), "name")] = (n, data)
                elif n.startswith("vibs/"):
                    vibs.setdefault(vib_id(ET.fromstring(data)), (n, data))
                elif n.startswith("bulletins/"):
                    bulletins.append((n, data))
    return profiles, vibs, bulletins


def dummy(name, size=4096):
    line = ("ESXUP TEST ISO: dummy content of %s (not a real ESXi module)\n" % name).encode()
    return (line * (size // len(line) + 1))[:size]


def boot_cfg(build, major):
    kopt = "runweasel cdromBoot" if major >= 7 else "cdromBoot runweasel"
    return ("bootstate=0\n"
            "title=Loading ESXi installer\n"
            "timeout=5\n"
            "prefix=\n"
            "kernel=/%s\n"
            "kernelopt=%s\n"
            "modules=%s\n"
            "build=%s\n"
            "updated=0\n"
            % (KERNEL.lower(), kopt, " --- ".join("/" + m.lower() for m in MODULES), build))


def isolinux_cfg(profile):
    return ("DEFAULT menu.c32\n"
            "MENU TITLE %s Boot Menu\n"
            "NOHALT 1\n"
            "PROMPT 0\n"
            "TIMEOUT 80\n"
            "LABEL install\n"
            "  KERNEL mboot.c32\n"
            "  APPEND -c boot.cfg\n"
            "  MENU LABEL %s ^Installer\n"
            "LABEL hddboot\n"
            "  LOCALBOOT 0x80\n"
            "  MENU LABEL ^Boot from local disk\n" % (profile, profile))


def zip_bytes(members):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            zi = zipfile.ZipInfo(name, ZIP_DATE)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(zi, data)
    return buf.getvalue()


def tgz_bytes(members):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.GNU_FORMAT) as tf:
        dirs = set()
        for name, _ in members:
            parts = name.split("/")[:-1]
            for i in range(1, len(parts) + 1):
                dirs.add("/".join(parts[:i]))
        for d in sorted(dirs):
            ti = tarfile.TarInfo(d)
            ti.type, ti.mode, ti.mtime = tarfile.DIRTYPE, 0o755, FILE_MTIME
            tf.addfile(ti)
        for name, data in members:
            ti = tarfile.TarInfo(name)
            ti.size, ti.mode, ti.mtime = len(data), 0o644, FILE_MTIME
            tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def main():
    ap = argparse.ArgumentParser(description="Build a test ESXi installer ISO (see the script's doc).")
    ap.add_argument("--out")
    ap.add_argument("--depot")
    ap.add_argument("--profile", default=DEFAULT_PROFILE)
    ap.add_argument("--loader", default=DEFAULT_LOADER)
    ap.add_argument("--no-efi", action="store_true")
    ap.add_argument("--extra-vib-xml", action="append", default=[])
    ap.add_argument("--layout", choices=("upgrade", "imgdb"), default="upgrade")
    ap.add_argument("--volid")
    ap.add_argument("--list-profiles", action="store_true")
    a = ap.parse_args()
    if not a.out and not a.list_profiles:
        ap.error("--out is required")

    tmp = tempfile.mkdtemp(prefix="esxup-iso-")
    try:
        depot = a.depot
        if not depot:
            depot = os.path.join(tmp, "depot")
            subprocess.run([sys.executable, GEN, depot, "--small"], check=True, stdout=subprocess.DEVNULL)
        profiles, vibs, bulletins = read_depot(depot)
        if a.list_profiles:
            for n in sorted(profiles):
                print(n)
            return 0
        if a.profile not in profiles:
            die("no image profile %r in %s (--list-profiles lists them)" % (a.profile, depot))

        pmember, pdata = profiles[a.profile]
        prof = ET.fromstring(pdata)
        viblist = prof.find("viblist")
        ids = [text(v, "vib-id") for v in viblist.findall("vib")]
        missing = [i for i in ids if i not in vibs]
        if missing:
            die("profile %s names VIBs the depot has no descriptor for: %s" % (a.profile, ", ".join(missing[:5])))
        chosen = {i: vibs[i] for i in ids}

        # Added drivers: descriptor into vibs/, id into the profile (same name replaced).
        for path in a.extra_vib_xml:
            with open(path, "rb") as f:
                data = f.read()
            v = ET.fromstring(data)
            if v.tag != "vib":
                die("%s: not a VIB descriptor (root element <%s>)" % (path, v.tag))
            vid, name = vib_id(v), text(v, "name")
            for old in [i for i in chosen if i.split("_", 2)[2].rsplit("_", 1)[0] == name]:
                del chosen[old]
            chosen[vid] = ("vibs/%s-extra.xml" % name, data)
        if a.extra_vib_xml:
            for e in list(viblist):
                viblist.remove(e)
            for vid in chosen:
                el = ET.SubElement(viblist, "vib")
                ET.SubElement(el, "vib-id").text = vid
            pdata = ET.tostring(prof)

        esx = [i for i in chosen if i.split("_", 2)[2].rsplit("_", 1)[0] == "esx-base"]
        if len(esx) != 1:
            die("profile %s has %d esx-base VIBs (need exactly one for build=)" % (a.profile, len(esx)))
        build = esx[0].rsplit("_", 1)[1]
        m = re.match(r"(\d+)\.(\d+)\.(\d+)-", build)
        if not m:
            die("esx-base version %r is not MAJOR.MINOR.UPDATE-..." % build)
        major = int(m.group(1))

        sel = []
        for n, data in bulletins:
            b = ET.fromstring(data)
            bv = [(e.text or "").strip() for e in b.iter("vibID")]
            if bv and all(i in chosen for i in bv):
                sel.append((text(b, "id"), n, data))

        # Stage the tree.
        st = os.path.join(tmp, "tree")
        os.makedirs(os.path.join(st, "UPGRADE"))
        files = {}
        cfg = boot_cfg(build, major).encode()
        files["BOOT.CFG"] = cfg
        files["ISOLINUX.CFG"] = isolinux_cfg(a.profile).encode()
        for d in DUMMIES:
            files[d] = dummy(d)
        files["UPGRADE/PRECHECK.PY"] = (b"# ESXUP TEST ISO: dummy UPGRADE/PRECHECK.PY (not VMware's upgrade precheck)\n"
                                        b"import sys\nsys.exit(0)\n")
        if a.layout == "upgrade":
            members = [("vmware.xml", b"<metadataResponse><version>3.0</version><timestamp>2021-01-01T00:00:00"
                                      b"</timestamp></metadataResponse>")]
            members += sorted(chosen.values())
            members += [(n, data) for _, n, data in sel]
            members.append((pmember, pdata))
            files["UPGRADE/METADATA.ZIP"] = zip_bytes(members)
        else:
            db = "var/db/esximg/"
            members = [(db + "profiles/" + a.profile, pdata)]
            members += sorted((db + "vibs/%s.xml" % i.split("_", 2)[2].rsplit("_", 1)[0], chosen[i][1]) for i in chosen)
            members += sorted((db + "bulletins/%s.xml" % bid, data) for bid, _, data in sel)
            files["IMGDB.TGZ"] = tgz_bytes(members)
        efi = not a.no_efi
        if efi:
            if not os.path.isfile(a.loader):
                die("loader %s missing (run testbed/iso/build.sh, or give --loader)" % a.loader)
            with open(a.loader, "rb") as f:
                loader = f.read()
            os.makedirs(os.path.join(st, "EFI", "BOOT"))
            files["EFI/BOOT/BOOTX64.EFI"] = loader
            files["EFI/BOOT/BOOT.CFG"] = cfg
        for rel, data in files.items():
            p = os.path.join(st, rel)
            with open(p, "wb") as f:
                f.write(data)
            os.utime(p, (FILE_MTIME, FILE_MTIME))
        for d, _, _ in os.walk(st):
            os.utime(d, (FILE_MTIME, FILE_MTIME))
        if efi:
            # EFIBOOT.IMG: FAT image with EFI/BOOT/BOOTX64.EFI (+ BOOT.CFG) for the El Torito EFI entry.
            img = os.path.join(st, "EFIBOOT.IMG")
            kib = (len(loader) + len(cfg)) // 1024 + 512
            kib = max(1440, (kib + 63) // 64 * 64)
            env = dict(os.environ, MTOOLS_SKIP_CHECK="1", SOURCE_DATE_EPOCH=str(FILE_MTIME))
            subprocess.run(["mkfs.fat", "-C", "-i", "45535855", img, str(kib)],
                           check=True, stdout=subprocess.DEVNULL, env=env)
            subprocess.run(["mcopy", "-s", "-m", "-i", img, os.path.join(st, "EFI"), "::/"], check=True, env=env)
            os.utime(img, (FILE_MTIME, FILE_MTIME))
        for d, _, _ in os.walk(st):
            os.utime(d, (FILE_MTIME, FILE_MTIME))

        volid = (a.volid or a.profile.upper())[:32]
        cmd = ["xorriso", "-as", "mkisofs", "-quiet", "--norock", "-iso-level", "1", "-V", volid,
               "--modification-date=2021010100000000",
               "-c", "BOOT.CAT", "-b", "ISOLINUX.BIN", "-no-emul-boot", "-boot-load-size", "4", "-boot-info-table"]
        if efi:
            cmd += ["-eltorito-alt-boot", "-e", "EFIBOOT.IMG", "-no-emul-boot"]
        out = os.path.abspath(a.out)
        cmd += ["-o", out, st]
        env = dict(os.environ, SOURCE_DATE_EPOCH=str(FILE_MTIME))
        r = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if r.returncode != 0:
            sys.stderr.write(r.stderr.decode(errors="replace"))
            die("xorriso failed (%d)" % r.returncode)
        print(json.dumps({"out": out, "profile": a.profile, "build": build, "volid": volid, "vibs": len(chosen),
                          "bulletins": len(sel), "efi": efi, "layout": a.layout}))
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
