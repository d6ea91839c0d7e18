//! `esxup depot ...` and `esxup vib ...` end to end: the real binary on the
//! real fixtures (crates/esxup-depot/tests/fixtures, see SOURCES.md) and on a
//! small synthetic depot from scripts/gen-synthetic-depot.py. Outputs are
//! insta snapshots; temporary paths are replaced by `<DEPOT>`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../esxup-depot/tests/fixtures")
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn esxup(dir: &Path, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_esxup"))
        .args(args)
        .current_dir(dir)
        .env("ESXUP_CACHE_DIR", std::env::temp_dir().join("esxup-cli-depot-test-cache"))
        .env("ESXUP_TODAY", "2026-11-26")
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// A small synthetic depot, generated once per test binary.
fn synthetic() -> &'static Path {
    static D: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &D.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("depot");
        common::write_synthetic_depot(&root);
        (dir, root)
    })
    .1
}

#[test]
fn depot_ls_old_layout_bundle() {
    let r = esxup(
        &fixtures(),
        &["depot", "ls", "old-layout/6-updates_net55-r8168-8.045a-napi-offline_bundle.zip"],
    );
    assert_eq!(r.code, 0);
    insta::assert_snapshot!(r.stdout);
    assert_eq!(
        r.stderr,
        "warning: old-layout/6-updates_net55-r8168-8.045a-napi-offline_bundle.zip!Realtek-net55-r8168-8.045a-napi-metadata.zip!vibs/net55-r8168-9999999990.xml: non-standard <maintenanceMode> in <system-requires> read as <maintenance-mode>\n"
    );
}

#[test]
fn depot_ls_component_bundle_json() {
    let r = esxup(
        &fixtures(),
        &[
            "depot",
            "ls",
            "components-7x/7-updates_ESXi703-VMKUSB-NIC-FLING-55634242-component-19849370.zip",
            "--format",
            "json",
        ],
    );
    assert_eq!(r.code, 0);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["components"][0]["name"], "VMware-vmkusb-nic-fling");
    assert_eq!(v["vibs"][0]["in_depot"], true);
    assert_eq!(v["metadata"][0]["url"], "metadata.zip");
}

#[test]
fn vib_show_vmklinux_driver() {
    let r = esxup(&fixtures(), &["vib", "show", "vibs/6-updates_net-r8125-9.011.00-10.vib"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    insta::assert_snapshot!(r.stdout);
}

#[test]
fn vib_show_json_and_a_tampered_vib() {
    let r = esxup(&fixtures(), &["vib", "show", "vibs/fwrule-ntpServer-1.0.0-1.vib", "--format", "json"]);
    assert_eq!(r.code, 0);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["vib"]["descriptor"]["id"], "github.com_tcely_bootbank_fwrule-ntpServer_1.0.0-1");
    assert_eq!(v["payload_checks"].as_array().unwrap().len(), 2);

    let t = tempfile::tempdir().unwrap();
    let mut bytes = std::fs::read(fixtures().join("vibs/fwrule-ntpServer-1.0.0-1.vib")).unwrap();
    let n = bytes.len();
    bytes[n - 40] ^= 0x55;
    std::fs::write(t.path().join("bad.vib"), &bytes).unwrap();
    let r = esxup(t.path(), &["vib", "show", "bad.vib"]);
    assert_eq!(r.code, 1, "a checksum mismatch is a finding");
    assert!(
        r.stdout.contains("FAILED: bad.vib: payload fwrule sha-256 mismatch: expected 5212ede1"),
        "{}",
        r.stdout
    );

    std::fs::write(t.path().join("trunc.vib"), &bytes[..n / 2]).unwrap();
    let r = esxup(t.path(), &["vib", "show", "trunc.vib"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.starts_with("error: read VIB trunc.vib: read trunc.vib: not an ar archive (truncated"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("\nhint: "));
}

/// `esxup depot dry-run --depot . --profile PROFILE` in the depot folder
/// One member of a fixture zip (the signed VIBs live in component bundles).
fn unzip(zip: &str, member: &str) -> Vec<u8> {
    let f = std::fs::File::open(fixtures().join(zip)).unwrap();
    let mut z = zip::ZipArchive::new(f).unwrap();
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut z.by_name(member).unwrap(), &mut out).unwrap();
    out
}

const FLING70: &str = "components-7x/7-updates_ESXi703-VMKUSB-NIC-FLING-55634242-component-19849370.zip";
const FLING70_VIB: &str =
    "vib20/vmkusb-nic-fling/VMW_bootbank_vmkusb-nic-fling_1.10-1vmw.703.0.50.55634242.vib";

/// The members of a (GNU) `ar` archive, short names only.
fn ar_members(b: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut pos = 8;
    let mut out = Vec::new();
    while pos + 60 <= b.len() {
        let h = &b[pos..pos + 60];
        let name = String::from_utf8_lossy(&h[..16]).trim_end().trim_end_matches('/').to_string();
        let size: usize = String::from_utf8_lossy(&h[48..58]).trim().parse().unwrap();
        out.push((name, b[pos + 60..pos + 60 + size].to_vec()));
        pos += 60 + size + (size & 1);
    }
    out
}

/// Builds an `ar` archive, as VIBs are.
fn ar(members: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = b"!<arch>\n".to_vec();
    for (name, data) in members {
        let h =
            format!("{:<16}{:<12}{:<6}{:<6}{:<8}{:<10}`\n", format!("{name}/"), 0, 0, 0, 100644, data.len());
        assert_eq!(h.len(), 60);
        out.extend_from_slice(h.as_bytes());
        out.extend_from_slice(data);
        if data.len() % 2 == 1 {
            out.push(b'\n');
        }
    }
    out
}

#[test]
fn vib_show_a_vmware_signed_vib() {
    // The 6.7 USB NIC fling: VMwareAccepted, signed by "VMware Accepted VIB
    // Signing" whose certificate ran out on 2022-04-15 (after the signing
    // time, before ESXUP_TODAY): shown as a fact; trust is not checked.
    let t = tempfile::tempdir().unwrap();
    let vib = unzip(
        "drivers-6x/6-updates_ESXi670-VMKUSB-NIC-FLING-39203948-offline_bundle-16780994.zip",
        "vib20/vmkusb-nic-fling/VMW_bootbank_vmkusb-nic-fling_2.1-6vmw.670.2.48.39203948.vib",
    );
    std::fs::write(t.path().join("fling.vib"), &vib).unwrap();
    let r = esxup(t.path(), &["vib", "show", "fling.vib"]);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    insta::assert_snapshot!(r.stdout);

    let r = esxup(t.path(), &["vib", "show", "fling.vib", "--format", "json"]);
    assert_eq!(r.code, 0);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let sig = &v["vib"]["signature"];
    assert_eq!(sig["status"], "signed");
    assert_eq!(sig["verification"]["result"], "verified");
    assert_eq!(sig["signers"][0]["certificate"]["common_name"], "VMware Accepted VIB Signing");
    assert_eq!(sig["signers"][0]["certificate"]["not_after"], "2022-04-15");
    assert_eq!(sig["signers"][0]["signing_time"], "2020-08-21T13:18:40Z");
    assert_eq!(v["signature_warnings"], serde_json::json!([]));
    assert!(v["signature_notes"][0].as_str().unwrap().starts_with("trust not checked: "));
}

#[test]
fn vib_show_a_descriptor_changed_after_signing() {
    let t = tempfile::tempdir().unwrap();
    let mut members = ar_members(&unzip(FLING70, FLING70_VIB));
    assert_eq!(members[0].0, "descriptor.xml");
    let good = ar(&members);
    std::fs::write(t.path().join("good.vib"), &good).unwrap();
    let r = esxup(t.path(), &["vib", "show", "good.vib"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r
        .stdout
        .contains("\nStatus                verified: descriptor.xml is what the signer signed\n"));
    assert!(r.stdout.contains("\nSigner                VMware Certified VIB Signing (VMware, Inc.)\n"));

    // One letter of the summary: the payloads still verify, the signature does not.
    let d = String::from_utf8(members[0].1.clone()).unwrap().replacen("<summary>", "<summary>X", 1);
    members[0].1 = d.into_bytes();
    std::fs::write(t.path().join("bad.vib"), ar(&members)).unwrap();
    let r = esxup(t.path(), &["vib", "show", "bad.vib"]);
    assert_eq!(r.code, 1, "a signature that does not match is a finding");
    assert!(r.stdout.contains("\nStatus                DOES NOT MATCH the descriptor\n"), "{}", r.stdout);
    assert!(!r.stdout.contains("FAILED"), "{}", r.stdout);
    assert!(
        r.stderr.starts_with("warning: bad.vib!sig.pkcs7: the signature does not match descriptor.xml: the descriptor was changed after signing (sha256 of descriptor.xml is "),
        "{}",
        r.stderr
    );
    let r = esxup(t.path(), &["vib", "show", "bad.vib", "--format", "json"]);
    assert_eq!(r.code, 1);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["vib"]["signature"]["verification"]["result"], "descriptor-mismatch");
    assert_eq!(v["signature_warnings"].as_array().unwrap().len(), 1);

    // sig.pkcs7 cut short: unreadable, reported, exit 1; the VIB still shows.
    let sig = members.iter_mut().find(|m| m.0 == "sig.pkcs7").unwrap();
    sig.1.truncate(100);
    std::fs::write(t.path().join("cut.vib"), ar(&members)).unwrap();
    let r = esxup(t.path(), &["vib", "show", "cut.vib"]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("\nStatus                unreadable\n"), "{}", r.stdout);
    assert_eq!(
        r.stderr,
        "warning: read signature cut.vib!sig.pkcs7: PEM: no -----END PKCS7----- line (truncated?)\n"
    );
}

#[test]
fn vib_show_unsigned_partner_and_community_vibs() {
    // ghettoVCB: community, empty sig.pkcs7.
    let r = esxup(&fixtures(), &["vib", "show", "ghettovcb/vghetto-ghettoVCB-2020-12-29-37290df.vib"]);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    assert!(r.stdout.contains(
        "\nSignature\nStatus                unsigned (sig.pkcs7 is empty)\nSecure Boot           Secure Boot hosts cannot use CommunitySupported VIBs\n"
    ), "{}", r.stdout);

    // The same VIB claiming the partner level: unsigned is now a warning,
    // and the Secure Boot line (about CommunitySupported) goes.
    let t = tempfile::tempdir().unwrap();
    let mut members = ar_members(
        &std::fs::read(fixtures().join("ghettovcb/vghetto-ghettoVCB-2020-12-29-37290df.vib")).unwrap(),
    );
    let d = String::from_utf8(members[0].1.clone()).unwrap();
    assert!(d.contains("<acceptance-level>community</acceptance-level>"));
    members[0].1 = d
        .replace(
            "<acceptance-level>community</acceptance-level>",
            "<acceptance-level>partner</acceptance-level>",
        )
        .into_bytes();
    std::fs::write(t.path().join("partner.vib"), ar(&members)).unwrap();
    let r = esxup(t.path(), &["vib", "show", "partner.vib"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stderr, "warning: partner.vib: acceptance level is partner but the VIB is unsigned\n");
    assert!(!r.stdout.contains("Secure Boot"), "{}", r.stdout);
    let r = esxup(t.path(), &["vib", "show", "partner.vib", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["vib"]["signature"]["status"], "unsigned");
    assert_eq!(
        v["signature_warnings"][0],
        "partner.vib: acceptance level is partner but the VIB is unsigned"
    );
}

/// `root`, then the `host` options (`--vib-list`, `--facts`, ...).
fn dry_run(root: &Path, profile: &str, host: &[&str]) -> Run {
    let mut args = vec!["depot", "dry-run", "--depot", ".", "--profile", profile];
    args.extend_from_slice(host);
    esxup(root, &args)
}

fn redact(s: &str, root: &Path) -> String {
    s.replace(&root.display().to_string(), "<DEPOT>")
}

#[test]
fn dry_run_seed_case_fails_with_the_esxcli_dependency_error() {
    let root = synthetic();
    let r = dry_run(root, "ESXi-7.0U2a-17867351-standard", &["--vib-list", "hosts/6.7-P06-like.viblist"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    insta::assert_snapshot!(redact(&r.stdout, root));
}

#[test]
fn dry_run_p01_host_succeeds_and_json_agrees() {
    let root = synthetic();
    let profile = "ESXi-7.0U2a-17867351-standard";
    let r = dry_run(root, profile, &["--vib-list", "hosts/6.7-P01.viblist"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(r.stdout.contains("Installation Result\n   Message: Dryrun only, host not changed. The following installers will be applied: [BootBankInstaller]\n   Reboot Required: true\n"), "{}", r.stdout);
    let r = dry_run(root, profile, &["--vib-list", "hosts/6.7-P01.viblist", "--format", "json"]);
    assert_eq!(r.code, 0);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["succeeds"], true);
    assert_eq!(v["transaction"]["mode"], "update");
    assert!(v["transaction"]["installed"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["vib"] == "VMW_bootbank_vmkusb_0.1-1vmw.702.0.0.17867351"));
}

#[test]
fn dry_run_install_without_ok_to_remove_and_from_facts() {
    let root = synthetic();
    let r = dry_run(
        root,
        "ESXi-7.0U3g-20328353-standard",
        &["--host-profile", "SYNTH-6.7-P06-like-host-HPE-EP23-19195723", "--install"],
    );
    assert_eq!(r.code, 1);
    assert!(
        r.stdout.contains(
            " [RemovalNotAllowed]\n Applying image profile ESXi-7.0U3g-20328353-standard would remove VIBs ("
        ),
        "{}",
        r.stdout
    );

    // A facts file: installed VIBs, acceptance level, a management NIC without a 7.0 driver.
    let facts = serde_json::json!({
        "schema_version": 1,
        "hostname": "esx01",
        "source": null, "collected_on": null, "product": null, "image_profile": null,
        "vibs": [
            {"name": "vmkusb", "version": "0.1-1vmw.670.3.89.15160138", "vendor": "VMW", "acceptance_level": "VMwareCertified", "install_date": null},
            {"name": "esx-base", "version": "6.7.0-3.89.15160138", "vendor": "VMware", "acceptance_level": "VMwareCertified", "install_date": null}
        ],
        "acceptance_level": "PartnerSupported",
        "cpu": null, "memory_bytes": null,
        "pci_devices": [{"address": "0000:02:00.0", "vendor_id": 4332, "device_id": 33128, "subvendor_id": null,
                         "subdevice_id": null, "class": 131072, "vendor_name": "Realtek", "device_name": "RTL8111/8168",
                         "driver": "r8168", "vmkernel_name": "vmnic0"}],
        "nics": [{"name": "vmnic0", "pci_address": "0000:02:00.0", "driver": "r8168", "link_up": true,
                  "speed_mbps": 1000, "mac": null, "description": null, "management": true}],
        "storage_adapters": null, "boot_device": null, "firmware": null, "modules": null, "slpd": null,
        "altbootbank": null, "datastores": null, "vms": null, "license": null, "maintenance_mode": null,
        "persistent_scratch": null, "boot_options": null
    });
    let t = tempfile::tempdir().unwrap();
    let fp = t.path().join("facts.json");
    std::fs::write(&fp, serde_json::to_string_pretty(&facts).unwrap()).unwrap();
    let r = dry_run(root, "ESXi-7.0U2a-17867351-standard", &["--facts", fp.to_str().unwrap()]);
    assert_eq!(r.code, 1, "the management NIC loses its driver: {}", r.stdout);
    assert!(
        r.stdout.contains("Host:      facts of esx01 (2 VIBs), acceptance level partner\n"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("vmnic0  10ec:8168  managementnic  NO DRIVER      BLOCKER  no driver VIB in ESXi-7.0U2a-17867351-standard claims 10ec:8168"), "{}", r.stdout);
    assert!(
        r.stdout.contains("Result: 1 device(s) would lose their driver (see Driver readiness)"),
        "{}",
        r.stdout
    );
}

#[test]
fn depot_profiles_and_diff() {
    let root = synthetic();
    let r = esxup(root, &["depot", "profiles", "."]);
    assert_eq!(r.code, 0);
    assert_eq!(r.stdout.lines().count(), 2 + 48);
    assert!(r.stdout.contains("\nESXi-7.0U2a-17867351-standard "));
    let r = esxup(
        root,
        &["depot", "diff", ".", "ESXi-7.0U2a-17867351-standard", "ESXi-7.0U3g-20328353-standard"],
    );
    assert_eq!(r.code, 0);
    insta::assert_snapshot!(r.stdout);
    // A VMware-signed component: its VIB's signature verifies.
    let r = esxup(&fixtures(), &["depot", "verify", FLING70, "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["checks"][0]["signature"], "verified");
    assert_eq!(v["checks"][0]["status"], "ok");
}

#[test]
fn bad_input_exits_2_with_a_hint() {
    let t = tempfile::tempdir().unwrap();
    let bytes =
        std::fs::read(fixtures().join("ghettovcb/vghetto-ghettoVCB-offline-bundle-2020-12-29-37290df.zip"))
            .unwrap();
    std::fs::write(t.path().join("cut.zip"), &bytes[..1000]).unwrap();
    let r = esxup(t.path(), &["depot", "ls", "cut.zip"]);
    assert_eq!(r.code, 2);
    assert!(r.stdout.is_empty());
    assert!(
        r.stderr.starts_with(
            "error: open depot cut.zip: read zip cut.zip: not a readable zip (corrupt or truncated?)"
        ),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.ends_with(
            "hint: give an offline bundle .zip, an extracted depot folder, or an http(s) depot URL\n"
        ),
        "{}",
        r.stderr
    );

    let root = synthetic();
    let r = dry_run(root, "ESXi-7.0U2a", &["--vib-list", "hosts/6.7-P01.viblist"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.starts_with("error: find image profile \"ESXi-7.0U2a\" in .: no such profile\nhint: list them with `esxup depot profiles .`; e.g. ESXi-7.0U2a-17867351-standard"), "{}", r.stderr);

    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}/index.xml");
    let r = esxup(t.path(), &["depot", "profiles", &url]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.starts_with(&format!("error: open depot {url}: fetch {url}: unreachable")),
        "{}",
        r.stderr
    );
}

#[test]
fn verify_a_real_bundle() {
    let r = esxup(
        &fixtures(),
        &["depot", "verify", "ghettovcb/vghetto-ghettoVCB-offline-bundle-2015-05-27-e6e2530.zip"],
    );
    assert_eq!(r.code, 0);
    insta::assert_snapshot!(r.stdout);
    // A VMware-signed component: its VIB's signature verifies.
    let r = esxup(&fixtures(), &["depot", "verify", FLING70, "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["checks"][0]["signature"], "verified");
    assert_eq!(v["checks"][0]["status"], "ok");
}
