//! End to end on a small synthetic depot written by
//! `scripts/gen-synthetic-depot.py --small` (real schema, key profiles from
//! real VIB lists): the seed's vmkusb case from first principles, its
//! controls, `--allow-downgrades`, `profile install` / `--ok-to-remove`,
//! acceptance levels, driver readiness and profile diff.

use esxup_depot::*;
use esxup_facts::{AcceptanceLevel, HostFacts, Nic, PciDevice};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const U2A: &str = "ESXi-7.0U2a-17867351-standard";
const U3G: &str = "ESXi-7.0U3g-20328353-standard";
const P06_PROFILE: &str = "SYNTH-6.7-P06-like-host-HPE-EP23-19195723";
const VMKUSB_P06: &str = "VMW_bootbank_vmkusb_0.1-4vmw.670.3.159.18828794";
const VMKUSB_U2A: &str = "VMW_bootbank_vmkusb_0.1-1vmw.702.0.0.17867351";

struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
    depot: Depot,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("depot");
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/gen-synthetic-depot.py");
        let out = std::process::Command::new("python3")
            .arg(&script)
            .arg(&root)
            .arg("--small")
            .output()
            .unwrap_or_else(|e| {
                panic!("python3 is needed to generate the synthetic depot ({e}): run scripts/test.sh")
            });
        assert!(out.status.success(), "generator failed: {}", String::from_utf8_lossy(&out.stderr));
        let depot = Depot::open(&root.display().to_string()).unwrap();
        Fixture { _dir: dir, root, depot }
    })
}

fn host(root: &Path, name: &str) -> HostImage {
    HostImage::from_vib_list(&std::fs::read_to_string(root.join("hosts").join(name)).unwrap()).unwrap()
}

fn ids(d: &[Decision]) -> Vec<&str> {
    d.iter().map(|x| x.vib.as_str()).collect()
}

#[test]
fn depot_shape() {
    let f = fixture();
    assert_eq!(f.depot.profiles().len(), 48);
    assert!(f.depot.warnings().is_empty(), "{:?}", f.depot.warnings());
    // Six metadata zips under vmw/metadata/, reached through vmw/vmw-depot-index.xml.
    assert_eq!(f.depot.metadata().len(), 6);
    assert!(f.depot.metadata().iter().all(|m| m.url.starts_with("metadata/vmw-ESXi-")));
    assert!(f.depot.components().iter().any(|c| c.name == "ESXi"));
}

#[test]
fn seed_case_p06_host_to_u2a_fails_on_vmkusb() {
    let f = fixture();
    let h = host(&f.root, "6.7-P06-like.viblist");
    let p = f.depot.profile(U2A).unwrap();
    let tx = simulate(&h, &f.depot, p, &TxOptions::default());
    assert!(!tx.succeeds());
    let failing: Vec<&Problem> = tx.problems.iter().filter(|p| p.kind.fails()).collect();
    assert_eq!(failing.len(), 1, "{:?}", tx.problems);
    assert_eq!(failing[0].kind, ProblemKind::DependencyError);
    assert_eq!(
        failing[0].message,
        format!("VIB {VMKUSB_P06} requires vmkapi_incompat_2_5_0_0, but the requirement cannot be satisfied within the ImageProfile.")
    );
    let skipped = tx.skipped.iter().find(|d| d.vib == VMKUSB_U2A).unwrap();
    assert!(skipped.reason.contains("a downgrade, skipped without --allow-downgrades"), "{}", skipped.reason);
    assert!(tx.kept.iter().any(|d| d.vib == VMKUSB_P06));
    assert!(tx.reboot_required && tx.maintenance_mode_required);
    // The same host image taken from the depot's profile gives the same verdict.
    let hp = HostImage::from_profile(&f.depot, f.depot.profile(P06_PROFILE).unwrap());
    let tx2 = simulate(&hp, &f.depot, p, &TxOptions::default());
    assert_eq!(tx2.problems, tx.problems);
    // And the back-in-time list names vmkusb.
    let back = backwards_vibs(&h, p);
    assert!(back.iter().any(|(i, t)| i.to_string() == VMKUSB_P06 && t.to_string() == VMKUSB_U2A));
}

#[test]
fn controls_p01_to_u2a_and_p06_to_u3g_succeed() {
    let f = fixture();
    let tx = simulate(
        &host(&f.root, "6.7-P01.viblist"),
        &f.depot,
        f.depot.profile(U2A).unwrap(),
        &TxOptions::default(),
    );
    assert!(tx.succeeds(), "{:?}", tx.problems);
    let up = tx.installed.iter().find(|d| d.vib == VMKUSB_U2A).unwrap();
    assert_eq!(
        up.reason,
        "upgrades VMW_bootbank_vmkusb_0.1-1vmw.670.3.89.15160138 (0.1-1vmw.702.0.0.17867351 >> 0.1-1vmw.670.3.89.15160138)"
    );
    let tx = simulate(
        &host(&f.root, "6.7-P06-like.viblist"),
        &f.depot,
        f.depot.profile(U3G).unwrap(),
        &TxOptions::default(),
    );
    assert!(tx.succeeds(), "{:?}", tx.problems);
    assert!(ids(&tx.installed).contains(&"VMW_bootbank_vmkusb_0.1-7vmw.703.0.50.20036589"));
}

#[test]
fn allow_downgrades_takes_the_u2a_vmkusb() {
    let f = fixture();
    let opts = TxOptions { allow_downgrades: true, ..TxOptions::default() };
    let tx = simulate(&host(&f.root, "6.7-P06-like.viblist"), &f.depot, f.depot.profile(U2A).unwrap(), &opts);
    assert!(tx.succeeds(), "{:?}", tx.problems);
    let d = tx.installed.iter().find(|d| d.vib == VMKUSB_U2A).unwrap();
    assert!(d.reason.starts_with(&format!("downgrades {VMKUSB_P06}")), "{}", d.reason);
    assert!(ids(&tx.removed).contains(&VMKUSB_P06));
}

#[test]
fn profile_install_needs_ok_to_remove() {
    let f = fixture();
    let h = host(&f.root, "6.7-P06-like.viblist");
    let p = f.depot.profile(U3G).unwrap();
    let tx = simulate(&h, &f.depot, p, &TxOptions { mode: Mode::Install, ..TxOptions::default() });
    let rm = tx.problems.iter().find(|p| p.kind == ProblemKind::RemovalNotAllowed).unwrap();
    assert!(rm.vibs.contains(&"HPE_bootbank_amsd_670.11.8.0.15-1.7535516".to_string()));
    assert!(!tx.succeeds());
    let tx = simulate(
        &h,
        &f.depot,
        p,
        &TxOptions { mode: Mode::Install, ok_to_remove: true, ..TxOptions::default() },
    );
    assert!(tx.succeeds(), "{:?}", tx.problems);
    let d = tx.removed.iter().find(|d| d.vib == "HPE_bootbank_amsd_670.11.8.0.15-1.7535516").unwrap();
    assert_eq!(d.reason, "not in the image profile; removed by profile install (--ok-to-remove)");
    assert!(tx.kept.is_empty());
}

#[test]
fn acceptance_level_of_the_host_is_enforced() {
    let f = fixture();
    let mut h = host(&f.root, "6.7-P06-like.viblist");
    h.acceptance = Some(AcceptanceLevel::VMwareCertified);
    let p = f.depot.profile("HPE-Custom-AddOn_703.0.0.11.5.0-6").unwrap();
    let tx = simulate(&h, &f.depot, p, &TxOptions::default());
    let acc: Vec<&Problem> = tx.problems.iter().filter(|p| p.kind == ProblemKind::AcceptanceError).collect();
    assert!(!acc.is_empty());
    assert!(acc.iter().any(|p| p.message
        == "VIB BCM_bootbank_bnxtnet_226.0.121.0-1OEM.700.1.0.15843807's acceptance level is accepted, which is not compliant with the ImageProfile acceptance level certified"));
    h.acceptance = Some(AcceptanceLevel::PartnerSupported);
    let tx = simulate(&h, &f.depot, p, &TxOptions::default());
    assert!(!tx.problems.iter().any(|p| p.kind == ProblemKind::AcceptanceError));
}

fn pci(addr: &str, v: u16, d: u16, class: u32, vmk: &str) -> PciDevice {
    PciDevice {
        address: addr.into(),
        vendor_id: v,
        device_id: d,
        subvendor_id: None,
        subdevice_id: None,
        class: Some(class),
        vendor_name: None,
        device_name: None,
        driver: None,
        vmkernel_name: Some(vmk.into()),
    }
}

#[test]
fn driver_readiness_flags_the_management_nic() {
    let f = fixture();
    // Synthetic ne1000 device id: vendor fffe, device from the generator's hash.
    let ne1000: u16 = {
        use sha2::Digest;
        let h = hex::encode(sha2::Sha256::digest(b"dev:ne1000"));
        u16::from_str_radix(&h[..4], 16).unwrap()
    };
    let facts = HostFacts {
        pci_devices: Some(vec![
            // Realtek 8168 (PCI id from the real r8168 descriptor tags): no 7.0 driver.
            pci("0000:02:00.0", 0x10ec, 0x8168, 0x020000, "vmnic0"),
            pci("0000:03:00.0", 0xfffe, ne1000, 0x020000, "vmnic1"),
            PciDevice {
                driver: Some("vmkusb".into()),
                ..pci("0000:00:14.0", 0x8086, 0xa36d, 0x0c0330, "vmhba32")
            },
        ]),
        nics: Some(vec![Nic {
            name: "vmnic0".into(),
            pci_address: Some("0000:02:00.0".into()),
            driver: Some("r8168".into()),
            link_up: Some(true),
            speed_mbps: None,
            mac: None,
            description: None,
            management: Some(true),
        }]),
        ..HostFacts::default()
    };
    let r = driver_readiness(&facts, &f.depot, f.depot.profile(U2A).unwrap());
    assert_eq!(r.len(), 3);
    assert_eq!(r[0].role, DeviceRole::ManagementNic);
    assert_eq!(r[0].status, Readiness::NoDriver);
    assert!(r[0].blocker);
    assert_eq!(r[1].status, Readiness::Native);
    assert_eq!(r[1].target_vibs, ["VMW_bootbank_ne1000_0.8.4-11vmw.702.0.0.17867351"]);
    assert!(!r[1].blocker);
    assert_eq!(r[2].status, Readiness::Native);
    assert_eq!(r[2].target_vibs, [VMKUSB_U2A]);
}

#[test]
fn diff_of_67ga_and_70u2a() {
    let f = fixture();
    let a = f.depot.profile("ESXi-6.7.0-8169922-standard").unwrap();
    let b = f.depot.profile(U2A).unwrap();
    let d = diff_profiles(&f.depot, a, b);
    assert!(!d.packages_equal);
    assert!(d.upgraded.iter().any(|c| c.name == "vmkusb"
        && c.from == "0.1-1vmw.670.0.0.8169922"
        && c.to == "0.1-1vmw.702.0.0.17867351"));
    assert!(d.vmklinux_in_a.iter().any(|v| v.contains("net-e1000e")), "{:?}", d.vmklinux_in_a);
    assert!(d.vmklinux_in_b.is_empty());
    assert!(d.only_in_a.iter().any(|v| v.contains("_net-e1000e_")));
}

#[test]
fn parsed_snapshots_give_the_same_depot() {
    let f = fixture();
    let cache = tempfile::tempdir().unwrap();
    let opts = OpenOptions {
        cache_dir: Some(cache.path().to_path_buf()),
        snapshots: true,
        ..OpenOptions::default()
    };
    let first = Depot::open_with(&f.root.display().to_string(), &opts).unwrap();
    let n = std::fs::read_dir(cache.path().join("parsed")).unwrap().count();
    assert_eq!(n, 6, "one snapshot per metadata zip");
    let second = Depot::open_with(&f.root.display().to_string(), &opts).unwrap();
    assert_eq!(second.vibs(), f.depot.vibs());
    assert_eq!(second.profiles(), f.depot.profiles());
    assert_eq!(second.bulletins(), f.depot.bulletins());
    assert_eq!(first.components(), second.components());
    let h = host(&f.root, "6.7-P06-like.viblist");
    let p = second.profile(U2A).unwrap();
    assert_eq!(
        simulate(&h, &second, p, &TxOptions::default()),
        simulate(&h, &f.depot, f.depot.profile(U2A).unwrap(), &TxOptions::default())
    );
}

#[test]
fn vmklinux_only_devices_depend_on_the_target_release() {
    let f = fixture();
    let ga67 = f.depot.profile("ESXi-6.7.0-8169922-standard").unwrap();
    let e1000e = ga67.vib_ids.iter().find(|id| id.contains("_net-e1000e_")).unwrap().clone();
    assert!(f.depot.vib(&e1000e).unwrap().is_vmklinux());
    let dev: u16 = {
        use sha2::Digest;
        let h = hex::encode(sha2::Sha256::digest(b"dev:net-e1000e"));
        u16::from_str_radix(&h[..4], 16).unwrap()
    };
    let facts = HostFacts {
        pci_devices: Some(vec![pci("0000:04:00.0", 0xfffe, dev, 0x020000, "vmnic0")]),
        nics: Some(vec![Nic {
            name: "vmnic0".into(),
            pci_address: None,
            driver: Some("e1000e".into()),
            link_up: None,
            speed_mbps: None,
            mac: None,
            description: None,
            management: Some(true),
        }]),
        ..HostFacts::default()
    };
    // On 6.7 the vmklinux driver is the device's driver.
    let r = driver_readiness(&facts, &f.depot, ga67);
    assert_eq!((r[0].status, r[0].blocker), (Readiness::Native, false));
    // A 7.0 image carrying the same vmklinux VIB does not help: it will not load.
    let mut p = f.depot.profile(U2A).unwrap().clone();
    p.vib_ids.push(e1000e.clone());
    let r = driver_readiness(&facts, &f.depot, &p);
    assert_eq!(r[0].role, DeviceRole::ManagementNic);
    assert_eq!(r[0].status, Readiness::VmklinuxOnly);
    assert!(r[0].blocker);
    assert!(r[0].reason.contains(&e1000e) && r[0].reason.contains("vmkapi_2_2_0_0"), "{}", r[0].reason);
}

#[test]
fn hardware_platform_requirements() {
    use std::io::Write;
    // A folder depot whose one profile holds a VIB requiring HPE ProLiant
    // hardware (index files copied from the real ghettoVCB bundle layout).
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    std::fs::write(
        d.join("index.xml"),
        "<vendorList><vendor><name>HPE</name><code>HPE</code><indexfile>vendor-index.xml</indexfile><patchUrl></patchUrl><relativePath></relativePath><content><name>VMware ESX</name><type>http://www.vmware.com/depotmanagement/esx</type></content></vendor></vendorList>",
    )
    .unwrap();
    std::fs::write(
        d.join("vendor-index.xml"),
        "<metaList><metadata><productId>embeddedEsx</productId><version>7.0</version><locale></locale><url>hpe-metadata.zip</url><channelName>default</channelName></metadata></metaList>",
    )
    .unwrap();
    let vib = r#"<vib version="5.0"><type>bootbank</type><name>oem-tool</name><version>1.0-1</version><vendor>HPE</vendor><relationships><depends/><conflicts/><replaces/><provides/><compatibleWith/></relationships><system-requires><maintenance-mode>false</maintenance-mode><hwplatform vendor="HPE" model="ProLiant"/></system-requires><acceptance-level>partner</acceptance-level><live-install-allowed>true</live-install-allowed></vib>"#;
    let profile = "<imageprofile><name>oem</name><creator>HPE</creator><readonly>true</readonly><viblist><vib><vib-id>HPE_bootbank_oem-tool_1.0-1</vib-id></vib></viblist><acceptancelevel>partner</acceptancelevel></imageprofile>";
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (n, b) in [
        ("vibs/oem.xml", vib),
        ("profiles/oem.xml", profile),
        (
            "bulletins/oem.xml",
            "<bulletin><id>oem</id><vibList><vibID>HPE_bootbank_oem-tool_1.0-1</vibID></vibList></bulletin>",
        ),
    ] {
        w.start_file(n, zip::write::SimpleFileOptions::default()).unwrap();
        w.write_all(b.as_bytes()).unwrap();
    }
    std::fs::write(d.join("hpe-metadata.zip"), w.finish().unwrap().into_inner()).unwrap();
    let depot = Depot::open(&d.display().to_string()).unwrap();
    let p = depot.profile("oem").unwrap();
    let mut h = HostImage::from_vib_list("VMW_bootbank_vmkusb_0.1-4vmw.670.3.159.18828794\n").unwrap();

    h.hw_vendor = Some("Dell Inc.".into());
    h.hw_model = Some("PowerEdge R340".into());
    let tx = simulate(&h, &depot, p, &TxOptions::default());
    let hw: Vec<&Problem> = tx.problems.iter().filter(|p| p.kind == ProblemKind::HardwarePlatform).collect();
    assert_eq!(hw.len(), 1);
    assert_eq!(
        hw[0].message,
        "VIB HPE_bootbank_oem-tool_1.0-1 requires hardware platform HPE ProLiant, but the host is Dell Inc. PowerEdge R340"
    );
    h.hw_vendor = Some("HPE".into());
    h.hw_model = Some("ProLiant".into());
    assert!(simulate(&h, &depot, p, &TxOptions::default()).succeeds());
    h.hw_vendor = None;
    let tx = simulate(&h, &depot, p, &TxOptions::default());
    assert!(tx.succeeds());
    assert!(tx.notes.iter().any(
        |n| n == "HPE_bootbank_oem-tool_1.0-1 requires a hardware platform; the host's vendor is unknown"
    ));
    // Live-installable: no reboot needed for it.
    assert!(!tx.reboot_reasons.iter().any(|r| r.contains("oem-tool")));
}

#[test]
fn simulate_many_matches_one_by_one() {
    let f = fixture();
    let h = host(&f.root, "6.7-P06-like.viblist");
    let all = simulate_many(&h, &f.depot, f.depot.profiles(), &TxOptions::default());
    assert_eq!(all.len(), f.depot.profiles().len());
    for (p, tx) in f.depot.profiles().iter().zip(&all) {
        assert_eq!(tx, &simulate(&h, &f.depot, p, &TxOptions::default()));
    }
    assert!(all.iter().any(|t| t.succeeds()) && all.iter().any(|t| !t.succeeds()));
}
