//! Reading the real bundles and VIBs in tests/fixtures (see SOURCES.md):
//! every layout opens, whole-VIB sha256 and payload checksums verify,
//! components and lenient-parsing warnings come out as expected.

use esxup_depot::*;
use std::path::PathBuf;

fn fx(rel: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(rel).display().to_string()
}

#[test]
fn every_real_bundle_opens_and_its_vibs_verify() {
    // Community bundles carry an empty sig.pkcs7; VMware's VIBs are signed
    // (checked with `openssl cms -verify -noverify -content descriptor.xml`).
    let bundles = [
        ("ghettovcb/vghetto-ghettoVCB-offline-bundle-2015-05-27-e6e2530.zip", "unsigned"),
        ("ghettovcb/vghetto-ghettoVCB-offline-bundle-2020-12-29-37290df.zip", "unsigned"),
        ("zip-in-zip/6-updates_ESXi650-VMKUSB-NIC-FLING-39176435-16775917.zip", "verified"),
        ("old-layout/6-updates_net55-r8168-8.045a-napi-offline_bundle.zip", "unsigned"),
        ("old-layout/6-updates_net51-r8169-6.011.00-2vft.510.0.0.799733-offline_bundle.zip", "unsigned"),
        ("old-layout/6-updates_net-igb-5.3.2-99-offline_bundle.zip", "unsigned"),
        ("components-7x/7-updates_ESXi703-VMKUSB-NIC-FLING-55634242-component-19849370.zip", "verified"),
        ("components-7x/7-updates_Net-Community-Driver_1.2.7.0-1vmw.700.1.0.15843807_19480755.zip", "verified"),
        ("components-7x/7-updates_nvme-community-driver_1.0.1.0-3vmw.700.1.0.15843807-component-18902434.zip", "verified"),
        ("components-7x/8-updates_VMware-Re-Driver_1.101.01-5vmw.800.1.0.20613240.zip", "verified"),
        ("drivers-6x/6-updates_ESXi670-VMKUSB-NIC-FLING-39203948-offline_bundle-16780994.zip", "verified"),
        ("drivers-6x/6-updates_nvme-community-driver_1.0.1.0-1vmw.670.0.0.8169922-offline_bundle-17658145.zip", "verified"),
    ];
    for (b, sig) in bundles {
        let d = Depot::open(&fx(b)).unwrap_or_else(|e| panic!("{b}: {e}"));
        assert_eq!(d.vibs().len(), 1, "{b}");
        assert_eq!(d.bulletins().len(), 1, "{b}");
        let checks = d.verify_vibs();
        assert_eq!(checks.len(), 1);
        assert_eq!(checks[0].signature, Some(sig), "{b}");
        assert_eq!(checks[0].status, VibCheckStatus::Ok, "{b}: {}", checks[0].message);
    }
}

#[test]
fn old_layout_vib_at_root_and_several_metadata_entries() {
    let d = Depot::open(&fx("old-layout/6-updates_net55-r8168-8.045a-napi-offline_bundle.zip")).unwrap();
    // vendor-index lists three <metadata> entries naming one zip that is not metadata.zip.
    assert_eq!(d.metadata().len(), 3);
    assert!(d.metadata().iter().all(|m| m.url == "Realtek-net55-r8168-8.045a-napi-metadata.zip"));
    let v = &d.vibs()[0];
    assert_eq!(v.id, "Realtek_bootbank_net55-r8168_8.045a-napi");
    assert_eq!(d.vib_file(&v.id), Some("net55-r8168-8.045a-napi.x86_64.vib"));
    // The real community deviation: <maintenanceMode> instead of <maintenance-mode>.
    assert_eq!(v.maintenance_mode, Some(true));
    assert!(d.warnings().iter().any(|w| w.contains("non-standard <maintenanceMode>")), "{:?}", d.warnings());
    // A vmklinux driver: depends on vmkapi_2_2_0_0 and driverAPI-9.2.
    assert!(v.is_vmklinux());
    assert_eq!(v.conflicts[0].name, "net51-drivers");
    assert_eq!(v.replaces[0].name, "net-r8168");
    assert_eq!(v.acceptance, Some(esxup_facts::AcceptanceLevel::CommunitySupported));
}

#[test]
fn zip_inside_a_zip_is_followed() {
    let d = Depot::open(&fx("zip-in-zip/6-updates_ESXi650-VMKUSB-NIC-FLING-39176435-16775917.zip")).unwrap();
    assert_eq!(d.vibs()[0].id, "VMW_bootbank_vmkusb-nic-fling_2.1-6vmw.650.2.50.39176435");
    assert!(d.vib_file(&d.vibs()[0].id).is_some());
}

#[test]
fn components_of_7x_bundles() {
    let d =
        Depot::open(&fx("components-7x/7-updates_ESXi703-VMKUSB-NIC-FLING-55634242-component-19849370.zip"))
            .unwrap();
    let c = &d.components()[0];
    assert_eq!(c.name, "VMware-vmkusb-nic-fling");
    assert_eq!(c.version.as_str(), "1.10-1vmw.703.0.50.55634242");
    assert_eq!(c.ui_version.as_deref(), Some("1.10-1vmw"));
    assert_eq!(c.vib_ids, ["VMW_bootbank_vmkusb-nic-fling_1.10-1vmw.703.0.50.55634242"]);
    let v = &d.vibs()[0];
    let tags: Vec<&str> = v.pci_ids().collect();
    assert_eq!(
        tags,
        [
            "................0c0300",
            "................0c0310",
            "................0c0320",
            "................0c0330"
        ]
    );
    assert!(!v.is_vmklinux());
    assert_eq!(
        v.checksum.as_ref().map(|c| c.value.as_str()),
        Some("e0f57ea723c8e1eefaf470455b80e469ed86c3beca6422b2069df94291ad5959")
    );
}

#[test]
fn vib_files_parse_and_payloads_verify() {
    for f in [
        "ghettovcb/vghetto-ghettoVCB-2020-12-29-37290df.vib",
        "vibs/6-updates_net-r8125-9.011.00-10.vib",
        "vibs/fwrule-ntpServer-1.0.0-1.vib",
    ] {
        let (v, bytes) = VibFile::open(std::path::Path::new(&fx(f))).unwrap();
        assert_eq!(v.members[0].name, "descriptor.xml", "{f}");
        assert_eq!(v.signature_size, Some(0), "{f}");
        assert_eq!(v.signature, VibSignature::Unsigned, "{f}");
        let checks = v.verify_payloads(f, &bytes);
        assert!(!checks.is_empty());
        // sha-256 of the stored payload and sha-1 of the gunzipped one.
        assert!(checks.iter().any(|c| c.checksum == "sha-1 (gunzip)"), "{f}");
        assert!(checks.iter().all(|c| c.ok), "{f}: {checks:?}");
    }
    let (r8125, _) =
        VibFile::open(std::path::Path::new(&fx("vibs/6-updates_net-r8125-9.011.00-10.vib"))).unwrap();
    assert_eq!(r8125.descriptor.id, "Realtek_bootbank_net-r8125_9.011.00-10");
    assert!(r8125.descriptor.is_vmklinux());
    let (fw, _) = VibFile::open(std::path::Path::new(&fx("vibs/fwrule-ntpServer-1.0.0-1.vib"))).unwrap();
    assert_eq!(fw.descriptor.vendor, "github.com_tcely");
    assert_eq!(fw.descriptor.conflicts[0].name, "fwenable-ntpd");
}

#[test]
fn fling_versions_sort_in_esximage_order() {
    // The USB NIC fling for 6.7 sorts above the 7.0 one: version order does
    // not follow releases, which is why a 6.7 -> 7.0 update can skip it.
    let d67 = Depot::open(&fx(
        "drivers-6x/6-updates_ESXi670-VMKUSB-NIC-FLING-39203948-offline_bundle-16780994.zip",
    ))
    .unwrap();
    let d70 =
        Depot::open(&fx("components-7x/7-updates_ESXi703-VMKUSB-NIC-FLING-55634242-component-19849370.zip"))
            .unwrap();
    assert!(d67.vibs()[0].version > d70.vibs()[0].version);
}

#[test]
fn ghettovcb_breaks_the_community_extensibility_rules() {
    // esxcli 7.0.1 refused this VIB: "failed a check of extensibility rules
    // for acceptance level 'community'" (research outputs/
    // esxcli-software-vib-install-error__2.txt). Its /etc/ghettovcb files are
    // outside the paths vib20-extensibility.rng allows community VIBs.
    let (v, _) =
        VibFile::open(std::path::Path::new(&fx("ghettovcb/vghetto-ghettoVCB-2020-12-29-37290df.vib")))
            .unwrap();
    assert_eq!(
        v.descriptor.extensibility_violations(),
        [
            "etc/ghettovcb/ghettoVCB-restore_vm_restore_configuration_template",
            "etc/ghettovcb/ghettoVCB-vm_backup_configuration_template",
            "etc/ghettovcb/ghettoVCB.conf"
        ]
    );
    let (fw, _) = VibFile::open(std::path::Path::new(&fx("vibs/fwrule-ntpServer-1.0.0-1.vib"))).unwrap();
    assert!(fw.descriptor.extensibility_violations().is_empty());

    // In a simulated install the depot metadata's file list gives the same warning.
    let d = Depot::open(&fx("ghettovcb/vghetto-ghettoVCB-offline-bundle-2020-12-29-37290df.zip")).unwrap();
    let profile = ImageProfile {
        name: "with-ghettovcb".into(),
        vib_ids: vec![d.vibs()[0].id.clone()],
        ..Default::default()
    };
    let mut host = HostImage::from_vib_list("VMW_bootbank_vmkusb_0.1-4vmw.670.3.159.18828794\n").unwrap();
    host.acceptance = Some(esxup_facts::AcceptanceLevel::CommunitySupported);
    let tx = simulate(&host, &d, &profile, &TxOptions::default());
    let p = tx.problems.iter().find(|p| p.kind == ProblemKind::Extensibility).unwrap();
    assert_eq!(
        p.message,
        "VIB (virtuallyGhetto_bootbank_ghettoVCB_1.0.0-0.0.0) failed a check of extensibility rules for acceptance level 'community': 3 file(s) outside the allowed paths (etc/ghettovcb/ghettoVCB-restore_vm_restore_configuration_template, etc/ghettovcb/ghettoVCB-vm_backup_configuration_template, etc/ghettovcb/ghettoVCB.conf)"
    );
    assert!(tx.succeeds(), "a warning: which releases enforce the rules is not recorded");
    // And a partner-level host refuses the community VIB, as esxcli 8.0.1 did.
    host.acceptance = Some(esxup_facts::AcceptanceLevel::PartnerSupported);
    let tx = simulate(&host, &d, &profile, &TxOptions::default());
    assert!(tx.problems.iter().any(|p| p.message
        == "VIB virtuallyGhetto_bootbank_ghettoVCB_1.0.0-0.0.0's acceptance level is community, which is not compliant with the ImageProfile acceptance level partner"));
}
