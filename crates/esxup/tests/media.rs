//! `esxup iso inspect`, `--iso` and `esxup media` against real peers: ISOs
//! in the ESXi installer layout built here with xorriso
//! (testbed/iso/make-esxi-iso.py, from the synthetic depot), images checked
//! with sgdisk, sfdisk, fsck.fat and mtools, a boot in QEMU with OVMF
//! (testbed/iso/boot-usb.sh; a GRUB stand-in for BOOTX64.EFI prints the
//! kernelopt line it reads from the stick), and real loop devices for
//! `--device`. scripts/test.sh installs all of them.

mod common;

use common::{code, esxup_on, stderr, stdout, write_host_a};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

const TODAY: &str = "2026-11-26";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn tool(name: &str) -> Command {
    let c = Command::new(name);
    if which(name).is_none() {
        panic!("{name} not found: run scripts/test.sh to install the media test tools");
    }
    c
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?.to_str()?.split(':').map(|d| Path::new(d).join(name)).find(|p| p.is_file())
}

fn run(c: &mut Command) -> Output {
    let o = c.stdin(Stdio::null()).output().unwrap();
    assert!(
        !String::from_utf8_lossy(&o.stderr).contains("panicked"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn esxup(args: &[&str]) -> Output {
    esxup_env(args, &[])
}

fn esxup_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = esxup_on(TODAY);
    c.args(args).env_remove("ESXUP_ROOT_PASSWORD");
    for (k, v) in env {
        c.env(k, v);
    }
    run(&mut c)
}

/// The synthetic depot, generated once per test process.
fn depot() -> &'static Path {
    static D: OnceLock<PathBuf> = OnceLock::new();
    D.get_or_init(|| {
        let d = tempfile::tempdir().unwrap().keep();
        common::write_synthetic_depot(&d.join("depot"));
        d.join("depot")
    })
}

/// The stand-in UEFI loader testbed/iso/build.sh makes.
fn loader() -> PathBuf {
    let p = root().join("testbed/iso/bin/BOOTX64.EFI");
    assert!(p.is_file(), "{} missing: run scripts/test.sh (testbed/iso/build.sh)", p.display());
    p
}

/// Builds an ISO in the ESXi layout; returns its path.
fn make_iso(dir: &Path, name: &str, args: &[&str]) -> PathBuf {
    let out = dir.join(name);
    let o = run(Command::new("python3")
        .arg(root().join("testbed/iso/make-esxi-iso.py"))
        .arg("--out")
        .arg(&out)
        .arg("--depot")
        .arg(depot())
        .arg("--loader")
        .arg(loader())
        .args(args));
    assert!(o.status.success(), "make-esxi-iso.py: {}", String::from_utf8_lossy(&o.stderr));
    out
}

/// The 6.7 P04 example host with its devices renamed to the PCI ids the
/// synthetic depot's drivers claim (vendor fffe, as
/// scripts/gen-synthetic-depot.py `pci_tags`), so that the synthetic 7.0 U3g
/// image passes the check. Boots from a local disk, t10.ATA_____SSD.
fn claimed_facts(dir: &Path) -> PathBuf {
    let mut f: Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("examples/esxiargs.json")).unwrap())
            .unwrap();
    for d in f["pci_devices"].as_array_mut().unwrap() {
        if let Some(drv) = d["driver"].as_str() {
            let h = hex::encode(Sha256::digest(format!("dev:{}", drv.replace('_', "-"))));
            d["vendor_id"] = 0xfffe.into();
            d["device_id"] = u16::from_str_radix(&h[..4], 16).unwrap().into();
        }
    }
    let p = dir.join("host-facts.json");
    std::fs::write(&p, serde_json::to_string_pretty(&f).unwrap()).unwrap();
    p
}

/// [`claimed_facts`] of the same host booting from a USB stick.
fn usb_boot_facts(dir: &Path) -> PathBuf {
    let p = claimed_facts(dir);
    let mut f: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    f["boot_device"]["media"] = "usb".into();
    f["boot_device"]["device"] = "mpx.vmhba32:C0:T0:L0".into();
    let p = dir.join("usb-boot-facts.json");
    std::fs::write(&p, serde_json::to_string_pretty(&f).unwrap()).unwrap();
    p
}

/// A file of the ISO, read with xorriso (not with esxup's reader).
fn iso_file(iso: &Path, path: &str) -> String {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("f");
    let o =
        run(tool("xorriso").args(["-osirrox", "on", "-indev"]).arg(iso).arg("-extract").arg(path).arg(&out));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::read_to_string(out).unwrap()
}

/// A file of the stick's FAT partition (at 1 MiB), read with mtools.
fn stick_file(img: &Path, path: &str) -> String {
    let o = run(tool("mtype").arg("-i").arg(format!("{}@@1M", img.display())).arg(format!("::/{path}")));
    assert!(o.status.success(), "mtype {path}: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Checks the partition with fsck.fat on a copy of it (fsck.fat takes no offset).
fn fsck_partition(img: &Path, first_lba: u64, sectors: u64) {
    let t = tempfile::tempdir().unwrap();
    let part = t.path().join("part");
    let o =
        run(tool("dd").arg(format!("if={}", img.display())).arg(format!("of={}", part.display())).args([
            "bs=512".to_string(),
            format!("skip={first_lba}"),
            format!("count={sectors}"),
            "status=none".into(),
        ]));
    assert!(o.status.success());
    let o = run(tool("fsck.fat").arg("-n").arg(&part));
    assert!(
        o.status.success(),
        "fsck.fat: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

fn json(o: &Output) -> Value {
    serde_json::from_str(&stdout(o)).unwrap_or_else(|e| panic!("{e}: {}\n{}", stdout(o), stderr(o)))
}

fn sha_file(p: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(p).unwrap()))
}

/// Boots the image in QEMU/OVMF as a USB stick; returns the serial log.
fn boot(img: &Path) -> String {
    which("qemu-system-x86_64").expect("qemu-system-x86_64 not found: run scripts/test.sh");
    let log = img.with_extension("serial.log");
    let o =
        run(Command::new("bash").arg(root().join("testbed/iso/boot-usb.sh")).arg(img).arg(&log).arg("180"));
    let text = std::fs::read_to_string(&log).unwrap_or_default().replace('\r', "");
    assert!(
        o.status.success(),
        "boot-usb.sh failed: {}\nserial log:\n{text}",
        String::from_utf8_lossy(&o.stderr)
    );
    text
}

// ------------------------------------------------------------------ inspect

#[test]
fn iso_inspect_reads_build_profile_loader_and_added_vibs() {
    let t = tempfile::tempdir().unwrap();
    let extra = root().join("testbed/iso/extra-vib-synth-nic.xml");
    let iso = make_iso(t.path(), "custom.iso", &["--extra-vib-xml", extra.to_str().unwrap()]);
    let o = esxup(&["iso", "inspect", iso.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let r = json(&o);
    common::assert_valid("iso-inspect.schema.json", &r);
    assert_eq!(r["version"], "7.0.3");
    assert_eq!(r["build"], 20328353);
    assert_eq!(r["metadata"], "UPGRADE/METADATA.ZIP");
    assert_eq!(r["boot_cfgs_match"], true);
    assert_eq!(r["efi_loader"]["sha256"], sha_file(&loader()));
    let p = &r["profiles"][0];
    assert_eq!(p["name"], "ESXi-7.0U3g-20328353-standard");
    assert_eq!(p["added_vibs"], serde_json::json!(["SYNTH_bootbank_synth-nic_1.2.3-1OEM.703.0.0.20328353"]));

    // The image database layout (IMGDB.TGZ, no UPGRADE/METADATA.ZIP) gives the same image.
    let db =
        make_iso(t.path(), "imgdb.iso", &["--layout", "imgdb", "--extra-vib-xml", extra.to_str().unwrap()]);
    let o = esxup(&["iso", "inspect", db.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let d = json(&o);
    assert_eq!(d["metadata"], "IMGDB.TGZ");
    assert_eq!(d["profiles"][0]["name"], p["name"]);
    assert_eq!(d["profiles"][0]["vibs"], p["vibs"]);
    assert_eq!(d["profiles"][0]["added_vibs"], p["added_vibs"]);

    // Text form names the loader and the added driver.
    let o = esxup(&["iso", "inspect", iso.to_str().unwrap()]);
    let s = stdout(&o);
    assert!(s.contains("UEFI loader      EFI/BOOT/BOOTX64.EFI"), "{s}");
    assert!(s.contains("SYNTH_bootbank_synth-nic_1.2.3-1OEM.703.0.0.20328353"), "{s}");
}

#[test]
fn the_seed_iso_feeds_the_back_in_time_check_like_the_depot() {
    let t = tempfile::tempdir().unwrap();
    let iso = make_iso(t.path(), "u2a.iso", &["--profile", "ESXi-7.0U2a-17867351-standard"]);
    let bundle = common::write_synthetic_bundle(t.path());
    // Without --target the ISO's own build is the target.
    let by_iso = esxup(&["check", "--example", "seed", "--iso", iso.to_str().unwrap(), "--format", "json"]);
    let by_depot = esxup(&[
        "check",
        "--example",
        "seed",
        "--target",
        "17867351",
        "--depot",
        bundle.to_str().unwrap(),
        "--profile",
        "ESXi-7.0U2a-17867351-standard",
        "--format",
        "json",
    ]);
    assert_eq!((code(&by_iso), code(&by_depot)), (1, 1), "{}{}", stderr(&by_iso), stderr(&by_depot));
    let (a, b) = (json(&by_iso), json(&by_depot));
    let bit =
        |r: &Value| r["findings"].as_array().unwrap().iter().find(|f| f["id"] == "BACK_IN_TIME").cloned();
    let (fa, fb) =
        (bit(&a).expect("BACK_IN_TIME from the ISO"), bit(&b).expect("BACK_IN_TIME from the depot"));
    assert_eq!(fa["severity"], "blocker");
    assert_eq!(fa["args"], fb["args"], "the ISO and the depot give one answer");
    assert!(fa["args"].to_string().contains("vmkusb"), "{fa}");
    assert_eq!(a["target"]["release"]["build"], 17867351);

    // The dry run reads the ISO like the bundle.
    let seed = root().join("examples/seed.json");
    let d_iso = esxup(&[
        "depot",
        "dry-run",
        "--iso",
        iso.to_str().unwrap(),
        "--facts",
        seed.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let d_dep = esxup(&[
        "depot",
        "dry-run",
        "--depot",
        bundle.to_str().unwrap(),
        "--profile",
        "ESXi-7.0U2a-17867351-standard",
        "--facts",
        seed.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let (x, y) = (json(&d_iso), json(&d_dep));
    assert_eq!(x["command"], y["command"]);
    // The VIB going backwards, and what profile update skips, are the same.
    assert_eq!(x["backwards"], y["backwards"]);
    assert!(x["backwards"].to_string().contains("vmkusb"), "{}", x["backwards"]);
    assert_eq!(x["transaction"]["skipped"], y["transaction"]["skipped"]);
    // An ISO holds only its own image's VIBs: the host's old VIBs are not in
    // it, so the dry run says their dependencies went unchecked (the depot,
    // which has them, finds the vmkusb dependency error).
    assert!(
        x["transaction"]["notes"].to_string().contains("not in the depot"),
        "{}",
        x["transaction"]["notes"]
    );
    assert_eq!(y["result"], "refused");
}

// -------------------------------------------------------------------- media

#[test]
fn an_upgrade_stick_passes_the_real_tools_and_boots_in_qemu() {
    let t = tempfile::tempdir().unwrap();
    let iso = make_iso(t.path(), "u3g.iso", &[]);
    let facts = claimed_facts(t.path());
    let img = t.path().join("stick.img");
    let o = esxup(&[
        "media",
        "--iso",
        iso.to_str().unwrap(),
        "--facts",
        facts.to_str().unwrap(),
        "--out",
        img.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let r = json(&o);
    common::assert_valid("media.schema.json", &r);
    let w = &r["written"];
    let (first, last) =
        (w["partition_first_lba"].as_u64().unwrap(), w["partition_last_lba"].as_u64().unwrap());
    assert_eq!(first, 2048);
    assert_eq!(r["verified"]["files"], r["layout"]["files"].as_array().unwrap().len());

    // The partition table, by sgdisk and sfdisk.
    let o = run(tool("sgdisk").arg("-v").arg(&img));
    let s = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success() && s.contains("No problems found"), "{s}");
    assert!(!s.contains("Caution"), "aligned to 1 MiB: {s}");
    let o = run(tool("sfdisk").arg("--dump").arg(&img));
    let s = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(s.contains("label: gpt"), "{s}");
    assert!(
        s.contains(&format!(
            "start=        2048, size={:>12}, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B",
            last - first + 1
        )),
        "{s}"
    );
    // The file system, by fsck.fat and mtools: every ISO file is there.
    fsck_partition(&img, first, last - first + 1);
    let o = run(tool("mdir").arg("-/").arg("-b").arg("-i").arg(format!("{}@@1M", img.display())).arg("::/"));
    let listed = String::from_utf8_lossy(&o.stdout).to_uppercase();
    for f in r["layout"]["files"].as_array().unwrap() {
        let p = f["path"].as_str().unwrap();
        assert!(listed.contains(&format!("::/{p}")), "{p} not on the stick: {listed}");
    }
    let copy = t.path().join("loader.efi");
    let o = run(tool("mcopy")
        .arg("-n")
        .arg("-i")
        .arg(format!("{}@@1M", img.display()))
        .arg("::/EFI/BOOT/BOOTX64.EFI")
        .arg(&copy));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(sha_file(&copy), sha_file(&loader()), "the loader, byte for byte");
    // Both boot.cfg copies: only kernelopt changed, every other line kept.
    let orig = iso_file(&iso, "/BOOT.CFG");
    for p in ["BOOT.CFG", "EFI/BOOT/BOOT.CFG"] {
        let new = stick_file(&img, p);
        let diff: Vec<(&str, &str)> = orig.lines().zip(new.lines()).filter(|(a, b)| a != b).collect();
        assert_eq!(
            diff,
            [("kernelopt=runweasel cdromBoot", "kernelopt=runweasel cdromBoot ks=usb:/KS.CFG")],
            "{p}"
        );
        assert_eq!(orig.lines().count(), new.lines().count(), "{p}");
    }
    let ks = stick_file(&img, "KS.CFG");
    assert!(ks.contains("vmaccepteula\n"), "{ks}");
    assert!(ks.contains("\nupgrade --disk=t10.ATA_____SSD\n"), "the facts' boot disk: {ks}");
    assert!(
        !ks.contains("overwritevmfs") && !ks.contains("rootpw"),
        "an upgrade keeps VMFS and the password: {ks}"
    );
    // The 6.7 P04 host's slpd advisory (VMSA-2021-0002) is fixed by 7.0 U3g: no workaround at first boot.
    assert!(!ks.contains("%firstboot"), "{ks}");

    // The same inputs give the same image.
    let again = t.path().join("again.img");
    let o = esxup(&[
        "media",
        "--iso",
        iso.to_str().unwrap(),
        "--facts",
        facts.to_str().unwrap(),
        "--out",
        again.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(sha_file(&img), sha_file(&again));

    // UEFI firmware finds the loader on the stick, and the loader reads the edited boot.cfg and KS.CFG.
    let log = boot(&img);
    assert!(log.contains("ESXUP-STANDIN-LOADER-OK"), "{log}");
    assert!(log.contains("kernelopt=runweasel cdromBoot ks=usb:/KS.CFG"), "{log}");
    assert!(log.contains("ESXUP-KS-PRESENT"), "{log}");
}

#[test]
fn an_mbr_stick_has_one_active_fat32_partition_and_boots() {
    let t = tempfile::tempdir().unwrap();
    let iso = make_iso(t.path(), "u3g.iso", &[]);
    let img = t.path().join("mbr.img");
    let o = esxup(&[
        "media",
        "--iso",
        iso.to_str().unwrap(),
        "--mbr",
        "--ks",
        "none",
        "--out",
        img.to_str().unwrap(),
        "--size",
        "96M",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(std::fs::metadata(&img).unwrap().len(), 96 << 20);
    let o = run(tool("sfdisk").arg("--dump").arg(&img));
    let s = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(s.contains("label: dos"), "{s}");
    let line = s.lines().find(|l| l.contains("start=")).unwrap();
    assert!(
        line.contains("start=        2048") && line.contains("type=c") && line.contains("bootable"),
        "{line}"
    );
    let sectors: u64 = line.split("size=").nth(1).unwrap().split(',').next().unwrap().trim().parse().unwrap();
    fsck_partition(&img, 2048, sectors);
    // No kickstart: the boot.cfg copies are the ISO's.
    assert_eq!(stick_file(&img, "EFI/BOOT/BOOT.CFG"), iso_file(&iso, "/EFI/BOOT/BOOT.CFG"));
    let log = boot(&img);
    assert!(log.contains("ESXUP-STANDIN-LOADER-OK") && log.contains("ESXUP-KS-MISSING"), "{log}");
}

#[test]
fn a_blocked_upgrade_or_a_bad_kickstart_writes_nothing() {
    let t = tempfile::tempdir().unwrap();
    let iso = make_iso(t.path(), "u2a.iso", &["--profile", "ESXi-7.0U2a-17867351-standard"]);
    let img = t.path().join("never.img");
    // The seed host on 7.0 U2a: back in time, so no upgrade stick.
    let o = esxup(&[
        "media",
        "--iso",
        iso.to_str().unwrap(),
        "--example",
        "seed",
        "--out",
        img.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("BACK_IN_TIME"), "{}", stderr(&o));
    assert!(stderr(&o).contains("nothing written"), "{}", stderr(&o));
    assert!(!img.exists());

    // An admin's kickstart with two disk commands, one of them wiping the host's boot disk.
    let u3g = make_iso(t.path(), "u3g.iso", &[]);
    let facts = claimed_facts(t.path());
    // --dry-run shows the layout and the kickstart, and writes nothing.
    let o = esxup(&[
        "media",
        "--iso",
        u3g.to_str().unwrap(),
        "--facts",
        facts.to_str().unwrap(),
        "--dry-run",
        "--format",
        "json",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let r = json(&o);
    common::assert_valid("media.schema.json", &r);
    assert!(r["written"].is_null() && r["verified"].is_null());
    assert!(
        r["kickstart"].as_str().unwrap().contains("upgrade --disk=t10.ATA_____SSD"),
        "{}",
        r["kickstart"]
    );
    assert_eq!(r["layout"]["kernelopt"], "runweasel cdromBoot ks=usb:/KS.CFG");
    assert_eq!(std::fs::read_dir(t.path()).unwrap().count(), 3, "only the two ISOs and the facts");
    let ks = t.path().join("ks.cfg");
    std::fs::write(
        &ks,
        "vmaccepteula\nupgrade --firstdisk\ninstall --disk=t10.ATA_____SSD --overwritevmfs\nreboot\n",
    )
    .unwrap();
    let o = esxup(&[
        "media",
        "--iso",
        u3g.to_str().unwrap(),
        "--facts",
        facts.to_str().unwrap(),
        "--ks-file",
        ks.to_str().unwrap(),
        "--out",
        img.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("line 3: more than one of install/upgrade/installorupgrade"), "{e}");
    assert!(
        e.contains("line 3: install --overwritevmfs is aimed at the host's boot disk t10.ATA_____SSD"),
        "{e}"
    );
    assert!(!img.exists());
    // A clean one of the admin's own is written as given.
    std::fs::write(&ks, "vmaccepteula\nupgrade --disk=t10.ATA_____SSD\nreboot\n").unwrap();
    let o = esxup(&[
        "media",
        "--iso",
        u3g.to_str().unwrap(),
        "--facts",
        facts.to_str().unwrap(),
        "--ks-file",
        ks.to_str().unwrap(),
        "--out",
        img.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stick_file(&img, "KS.CFG"), std::fs::read_to_string(&ks).unwrap());
}

#[test]
fn bad_isos_are_named_errors() {
    let t = tempfile::tempdir().unwrap();
    let img = t.path().join("x.img");
    let not_iso = t.path().join("not.iso");
    std::fs::write(&not_iso, vec![0x41u8; 200_000]).unwrap();
    let o = esxup(&["iso", "inspect", not_iso.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("not an ISO 9660 image"), "{}", stderr(&o));
    assert!(stderr(&o).contains("hint:"), "{}", stderr(&o));

    let bios = make_iso(t.path(), "bios.iso", &["--no-efi"]);
    let o =
        esxup(&["media", "--iso", bios.to_str().unwrap(), "--ks", "none", "--out", img.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("BIOS-only image"), "{}", stderr(&o));
    assert!(!img.exists());

    let good = make_iso(t.path(), "good.iso", &[]);
    let bytes = std::fs::read(&good).unwrap();
    let cut = t.path().join("cut.iso");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    for args in [
        vec!["iso", "inspect", cut.to_str().unwrap()],
        vec!["check", "--example", "seed", "--iso", cut.to_str().unwrap()],
    ] {
        let o = esxup(&args);
        assert_eq!(code(&o), 2, "{args:?}");
        assert!(stderr(&o).contains("truncated"), "{args:?}: {}", stderr(&o));
    }
}

#[test]
fn crafted_isos_and_partition_tables_are_refused_cleanly() {
    let t = tempfile::tempdir().unwrap();
    let good = make_iso(t.path(), "good.iso", &[]);
    // Patch one directory record of the root in place (same length).
    let patch = |name: &str, from: &[u8], to: &[u8]| -> PathBuf {
        let mut b = std::fs::read(&good).unwrap();
        let i = b
            .windows(from.len())
            .position(|w| w == from)
            .unwrap_or_else(|| panic!("{from:?} not in the ISO"));
        b[i..i + to.len()].copy_from_slice(to);
        if to.len() < from.len() {
            b[i - 1] = to.len() as u8; // the name length byte of the record
        }
        let p = t.path().join(name);
        std::fs::write(&p, b).unwrap();
        p
    };
    // A file named "..;1" (it would become "." on the stick).
    let dotdot = patch("dotdot.iso", b"MBOOT.C32;1", b"..;1");
    // Two BOOT.CFG at the root (one would be lost).
    let dup = patch("dup.iso", b"MENU.C32;1", b"BOOT.CFG;1");
    let img = t.path().join("x.img");
    for (iso, want) in [(&dotdot, "unsafe path \".\""), (&dup, "BOOT.CFG is listed twice")] {
        for args in [
            vec!["iso", "inspect", iso.to_str().unwrap()],
            vec!["media", "--iso", iso.to_str().unwrap(), "--ks", "none", "--out", img.to_str().unwrap()],
        ] {
            let o = esxup(&args);
            assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
            assert!(stderr(&o).contains(want), "{args:?}: {}", stderr(&o));
        }
    }
    assert!(!img.exists());

    // GPTs with valid CRCs whose partition ends before it starts, or lies
    // far past the disk: read as "no partition", never a panic.
    for (name, start, end) in
        [("backwards.img", "4000", "100"), ("far.img", "4611686018427387904", "4611686018427388004")]
    {
        let p = t.path().join(name);
        let o = run(Command::new("python3")
            .arg(root().join("testbed/iso/make-bad-gpt.py"))
            .args([start, end])
            .arg(&p));
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let o = esxup(&["collect", "--from-dir", p.to_str().unwrap()]);
        assert_eq!(code(&o), 2, "{name}: {}", stderr(&o));
        assert!(stderr(&o).contains("not a .tgz (no gzip header)"), "{name}: {}", stderr(&o));
    }
}

// ------------------------------------------------------------ trial install

/// `openssl passwd -6` with the salt of `hash`: an independent SHA-512 crypt.
fn openssl_sha512_crypt(pw: &str, hash: &str) -> String {
    let salt = hash.split('$').nth(2).unwrap();
    let o = run(tool("openssl").args(["passwd", "-6", "-salt", salt, pw]));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

#[test]
fn a_trial_install_kickstart_hashes_the_password_and_saves_outputs() {
    let t = tempfile::tempdir().unwrap();
    let iso = make_iso(t.path(), "u3g.iso", &[]);
    let facts = claimed_facts(t.path());
    let img = t.path().join("trial.img");
    let pw = "Trial-pass9x";
    let args = [
        "media",
        "--iso",
        iso.to_str().unwrap(),
        "--facts",
        facts.to_str().unwrap(),
        "--ks",
        "install",
        "--keyboard",
        "Japanese",
        "--out",
        img.to_str().unwrap(),
    ];
    let o = esxup_env(&args, &[("ESXUP_ROOT_PASSWORD", pw)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let ks = stick_file(&img, "KS.CFG");
    assert!(ks.contains("\ninstall --firstdisk=usb --overwritevmfs\n"), "{ks}");
    assert!(ks.contains("\nkeyboard Japanese\n"), "{ks}");
    let hash = ks.lines().find_map(|l| l.strip_prefix("rootpw --iscrypted ")).expect("rootpw --iscrypted");
    assert!(hash.starts_with("$6$"), "{hash}");
    assert_eq!(
        openssl_sha512_crypt(pw, hash),
        hash,
        "OpenSSL computes the same SHA-512 crypt for the password"
    );
    // The saved outputs: every read-only command, then the archive on the bootbank.
    assert!(ks.contains("%firstboot --interpreter=busybox"), "{ks}");
    for c in esxup_collect::commands::COMMANDS {
        assert!(
            ks.contains(&format!("{} > /tmp/esxup/{} 2>/dev/null", c.command, c.file_name())),
            "{}",
            c.id
        );
    }
    assert!(ks.contains("tar czf /bootbank/ESXUP.TGZ esxup"), "{ks}");
    // The clear text is nowhere.
    let all = [stdout(&o), stderr(&o)].concat();
    assert!(!all.contains(pw));
    assert!(!std::fs::read(&img).unwrap().windows(pw.len()).any(|w| w == pw.as_bytes()));

    // The installer's rules are checked before anything is written.
    let weak = t.path().join("weak.img");
    let mut a2 = args.to_vec();
    *a2.last_mut().unwrap() = weak.to_str().unwrap();
    let o = esxup_env(&a2, &[("ESXUP_ROOT_PASSWORD", "Password1")]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("character classes"), "{}", stderr(&o));
    assert!(!weak.exists());
    // The password from a file gives a hash of that password, and no trace of it.
    let pwfile = t.path().join("pw");
    std::fs::write(&pwfile, "Other-pass7x\n").unwrap();
    let from_file = t.path().join("from-file.img");
    let mut a3 = args.to_vec();
    *a3.last_mut().unwrap() = from_file.to_str().unwrap();
    let o = esxup(&[&a3[..], &["--root-password-file", pwfile.to_str().unwrap()]].concat());
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let ks2 = stick_file(&from_file, "KS.CFG");
    let hash2 = ks2.lines().find_map(|l| l.strip_prefix("rootpw --iscrypted ")).expect("rootpw --iscrypted");
    assert!(hash2.starts_with("$6$") && hash2 != hash, "a fresh salt and another password: {hash2}");
    assert_eq!(openssl_sha512_crypt("Other-pass7x", hash2), hash2);
    assert!(!ks2.contains("Other-pass7x"));
    // Never onto the host's boot disk; never "the first USB disk" on a host booting from USB.
    let o = esxup_env(&[&a2[..], &["--ks-disk", "t10.ATA_____SSD"]].concat(), &[("ESXUP_ROOT_PASSWORD", pw)]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("is the host's boot disk"), "{}", stderr(&o));
    let usb = usb_boot_facts(t.path());
    // An SD card (Dell IDSDM, HPE microSD) is in the installer's USB class too.
    let mut sd: Value = serde_json::from_str(&std::fs::read_to_string(&usb).unwrap()).unwrap();
    sd["boot_device"]["media"] = "sd-card".into();
    let sd_path = t.path().join("sd-boot.json");
    std::fs::write(&sd_path, sd.to_string()).unwrap();
    let sd_install = [
        "media",
        "--iso",
        iso.to_str().unwrap(),
        "--facts",
        sd_path.to_str().unwrap(),
        "--ks",
        "install",
        "--dry-run",
    ];
    let o = esxup_env(&sd_install, &[("ESXUP_ROOT_PASSWORD", pw)]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("boots from USB or SD"), "{}", stderr(&o));
    let seed_install = [
        "media",
        "--iso",
        iso.to_str().unwrap(),
        "--facts",
        usb.to_str().unwrap(),
        "--ks",
        "install",
        "--out",
        weak.to_str().unwrap(),
    ];
    let o = esxup_env(&seed_install, &[("ESXUP_ROOT_PASSWORD", pw)]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("boots from USB or SD"), "{}", stderr(&o));
    assert!(!weak.exists());
}

#[test]
fn collect_reads_a_trial_install_back_from_the_stick() {
    // A disk laid out as the trial install leaves the stick: GPT, the
    // bootbank as FAT partition 5 with ESXUP.TGZ at its root (the archive
    // the %firstboot writes: esxup/<file>.txt), other partitions not FAT.
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("esxup");
    write_host_a(&out);
    let tgz = t.path().join("ESXUP.TGZ");
    let o = run(tool("tar").arg("czf").arg(&tgz).arg("-C").arg(t.path()).arg("esxup"));
    assert!(o.status.success());
    let img = t.path().join("trial-stick.img");
    std::fs::File::create(&img).unwrap().set_len(64 << 20).unwrap();
    let o = run(tool("sgdisk")
        .args([
            "-n1:2048:+4M",
            "-t1:ef00",
            "-n5:0:+24M",
            "-t5:0700",
            "-n6:0:+24M",
            "-t6:0700",
            "-n7:0:0",
            "-t7:fb00",
        ])
        .arg(&img));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let start = |n: u32| -> u64 {
        let o = run(tool("sgdisk").arg(format!("-i{n}")).arg(&img));
        let s = String::from_utf8_lossy(&o.stdout).into_owned();
        s.lines()
            .find_map(|l| l.strip_prefix("First sector: "))
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let bootbank = format!("{}@@{}", img.display(), start(5) * 512);
    let o = run(tool("mformat").args(["-i", &bootbank, "-v", "BOOTBANK1", "::"]));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = run(tool("mcopy").args(["-i", &bootbank]).arg(&tgz).arg("::/ESXUP.TGZ"));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // Partition 1 is FAT too, without the archive.
    let o = run(tool("mformat").args(["-i", &format!("{}@@{}", img.display(), start(1) * 512), "::"]));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    let facts = t.path().join("trial.json");
    let o = esxup(&["collect", "--from-dir", img.to_str().unwrap(), "-o", facts.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("read ESXUP.TGZ from partition 5"), "{}", stderr(&o));
    // The same facts as from the folder itself.
    let direct = t.path().join("direct.json");
    let o = esxup(&["collect", "--from-dir", out.to_str().unwrap(), "-o", direct.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    // Source, date and the notes (which name the source) aside.
    let strip = |p: &Path| {
        let mut v: Value = serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
        let notes = v["collection_notes"].as_array().map(Vec::len);
        for k in ["source", "collected_on", "collection_notes"] {
            v[k] = Value::Null;
        }
        (serde_json::to_string(&v).unwrap(), notes)
    };
    let (a, b) = (strip(&facts), strip(&direct));
    assert!(
        a == b,
        "the facts from the stick differ from the folder's: {} vs {} bytes",
        a.0.len(),
        b.0.len()
    );
    assert!(a.0.contains("esxi-01.npcsolutions.co.za"));

    // A stick without the archive says what to do.
    let empty = t.path().join("empty.img");
    std::fs::File::create(&empty).unwrap().set_len(16 << 20).unwrap();
    assert!(run(tool("sgdisk").args(["-n1:2048:0", "-t1:ef00"]).arg(&empty)).status.success());
    assert!(run(tool("mformat").args(["-i", &format!("{}@@1M", empty.display()), "::"])).status.success());
    let o = esxup(&["collect", "--from-dir", empty.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("no FAT partition holds ESXUP.TGZ"), "{}", stderr(&o));
}

// ------------------------------------------------------------------- device

/// A loop device over a file, detached on drop.
struct Loop {
    dev: PathBuf,
}

impl Loop {
    fn new(file: &Path) -> Loop {
        // -P: the kernel reads its partition table (loopNp1 ...).
        let o = run(tool("losetup").args(["-f", "--show", "-P"]).arg(file));
        assert!(
            o.status.success(),
            "losetup (root and loop devices are needed for the --device tests): {}",
            String::from_utf8_lossy(&o.stderr)
        );
        Loop { dev: PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()) }
    }
    fn name(&self) -> String {
        self.dev.file_name().unwrap().to_string_lossy().into_owned()
    }
}

impl Drop for Loop {
    fn drop(&mut self) {
        let _ = Command::new("losetup").arg("-d").arg(&self.dev).status();
    }
}

#[test]
fn device_writes_are_refused_when_unsafe_and_read_back_when_done() {
    let t = tempfile::tempdir().unwrap();
    let iso = make_iso(t.path(), "u3g.iso", &[]);
    let base = ["media", "--iso", iso.to_str().unwrap(), "--ks", "none", "--device"];
    // A regular file is not a device.
    let file = t.path().join("plain.img");
    std::fs::write(&file, vec![0u8; 1 << 20]).unwrap();
    let o = esxup(&[&base[..], &[file.to_str().unwrap(), "--confirm", "x"]].concat());
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("a regular file, not a block device"), "{}", stderr(&o));

    let backing = t.path().join("stick.raw");
    std::fs::File::create(&backing).unwrap().set_len(128 << 20).unwrap();
    let lo = Loop::new(&backing);
    let dev = lo.dev.to_str().unwrap().to_string();
    // A loop device is neither removable nor USB.
    let o = esxup(&[&base[..], &[&dev, "--confirm", &lo.name()]].concat());
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o)
            .contains("not removable; if this really is the installer stick, add --force-non-removable"),
        "{}",
        stderr(&o)
    );
    // A partition is not a whole disk; a mounted partition makes the whole
    // disk in use (refused even with --force-non-removable). The kernel here
    // may lack vfat: any file system it mounts will do.
    assert!(run(tool("sgdisk").args(["-n1:2048:+32M", "-t1:8300"]).arg(&dev)).status.success());
    // sgdisk asks the kernel to re-read the table; partx is the fallback.
    let _ = Command::new("partx").arg("-u").arg(&dev).output();
    let part = format!("{dev}p1");
    for _ in 0..50 {
        if Path::new(&part).exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(Path::new(&part).exists(), "{part} did not appear");
    let o = esxup(&[&base[..], &[&part, "--force-non-removable", "--confirm", &lo.name()]].concat());
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains(&format!("a partition, not a whole disk: give {dev}")), "{}", stderr(&o));
    assert!(run(tool("mkfs.ext2").args(["-q", "-F"]).arg(&part)).status.success());
    let mnt = t.path().join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    assert!(run(tool("mount").arg(&part).arg(&mnt)).status.success(), "mount");
    let o = esxup(&[&base[..], &[&dev, "--force-non-removable", "--confirm", &lo.name()]].concat());
    let _ = run(tool("umount").arg(&mnt));
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("it is in use: mounted at"), "{}", stderr(&o));
    // A wrong confirmation writes nothing (the partition made above is still there).
    let before = sha_file(&backing);
    let o = esxup(&[&base[..], &[&dev, "--force-non-removable", "--confirm", "sdz"]].concat());
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("does not match; nothing written"), "{}", stderr(&o));
    assert_eq!(sha_file(&backing), before);
    // Typed on stdin, the right name goes on: written, fsynced, read back.
    let mut c = esxup_on(TODAY);
    c.args([&base[..], &[&dev, "--force-non-removable", "--format", "json"]].concat())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    {
        use std::io::Write;
        writeln!(child.stdin.take().unwrap(), "{}", lo.name()).unwrap();
    }
    let o = child.wait_with_output().unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("esxup will ERASE"), "{}", stderr(&o));
    let r = json(&o);
    assert_eq!(r["written"]["disk_bytes"], 128u64 << 20);
    assert!(r["verified"]["files"].as_u64().unwrap() > 10);
    let o = run(tool("sgdisk").arg("-v").arg(&dev));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("No problems found"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert_eq!(stick_file(&backing, "EFI/BOOT/BOOT.CFG"), iso_file(&iso, "/EFI/BOOT/BOOT.CFG"));
}
