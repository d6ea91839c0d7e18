//! The vSphere API collector against the real govmomi simulator (testbed/vcsim):
//! a standalone ESXi host and a vCenter with several hosts.

#[path = "vim_sim.rs"]
mod sim;

use esxup_collect::vim;
use esxup_facts::{PowerState, ToolsStatus};
use esxup_vim::{ConnectOptions, Thumbprint, TlsMode, TlsOptions};
use sim::Sim;
use std::collections::BTreeSet;
use std::time::Duration;

fn opts(sim: &Sim) -> ConnectOptions {
    ConnectOptions {
        url: sim.url.clone(),
        user: sim::USER.into(),
        password: sim::PASSWORD.into(),
        tls: TlsOptions { mode: TlsMode::Pin(Thumbprint::parse(&sim.thumbprint).unwrap()), ca_file: None },
        timeout: Duration::from_secs(30),
    }
}

#[test]
fn standalone_host_facts() {
    let sim = Sim::start(&["-mode", "esx", "-product", "6.7.0", "-vms", "6"]);
    let facts = vim::collect(&opts(&sim)).unwrap();
    assert_eq!(facts.len(), 1);
    let f = &facts[0];
    let p = f.product.as_ref().expect("product");
    assert_eq!(p.version.to_string(), "6.7.0");
    assert_eq!(p.build, 17700523);
    assert_eq!(p.full_name.as_deref(), Some("VMware ESXi 6.7.0 build-17700523"));
    assert!(f.source.as_deref().unwrap().starts_with("vim:https://127.0.0.1:"));

    // vcsim's template host: Xeon E5-1620 (CPUID family 6 model 0x2D stepping 7), NX and XSAVE set.
    let cpu = f.cpu.as_ref().expect("cpu");
    assert_eq!((cpu.family, cpu.model, cpu.stepping), (Some(6), Some(0x2D), Some(7)));
    assert_eq!((cpu.nx, cpu.xsave, cpu.hv), (Some(true), Some(true), None));
    assert_eq!(cpu.sockets, Some(2));
    assert_eq!(cpu.vendor, Some(esxup_facts::CpuVendor::Intel), "from CPUID leaf 0 (GenuineIntel)");
    // summary.hardware.cpuModel of vcsim's template host.
    assert_eq!(cpu.brand.as_deref(), Some("Intel(R) Core(TM) i7-3615QM CPU @ 2.30GHz"));
    assert!(f.memory_bytes.unwrap() > 0);

    // vmk0 sits on vSwitch0 whose only uplink is vmnic0.
    let nics = f.nics.as_ref().expect("nics");
    let mgmt: Vec<_> = nics.iter().filter(|n| n.management == Some(true)).map(|n| n.name.as_str()).collect();
    assert_eq!(mgmt, ["vmnic0"]);
    let pci = f.pci_devices.as_ref().expect("pci");
    let vmnic0 =
        pci.iter().find(|d| d.vmkernel_name.as_deref() == Some("vmnic0")).expect("vmnic0's PCI device");
    assert_eq!(vmnic0.driver.as_deref(), Some("nvmxnet3"));
    assert_eq!(vmnic0.vendor_id, 0x15ad);
    assert!(f
        .storage_adapters
        .as_ref()
        .unwrap()
        .iter()
        .any(|a| a.name == "vmhba0" && a.driver.as_deref() == Some("pvscsi")));
    assert_eq!(f.datastores.as_ref().unwrap().len(), 1);

    let slpd = f.slpd.as_ref().expect("slpd");
    assert_eq!((slpd.running, slpd.policy.as_deref()), (Some(true), Some("on")));
    assert_eq!(f.maintenance_mode, Some(false));
    let lic = f.license.as_ref().expect("licence");
    assert_eq!(lic.edition.as_deref(), Some("Evaluation Mode"));
    assert_eq!(lic.key_masked.as_deref(), Some("*****-*****-*****-*****-00000"));

    // VMs: hardware versions, Tools states and snapshots as the harness set them.
    let vms = f.vms.as_ref().expect("vms");
    assert_eq!(vms.len(), 6);
    let hw: BTreeSet<u32> = vms.iter().filter_map(|v| v.hardware_version).collect();
    assert_eq!(hw, BTreeSet::from([13, 14, 19]));
    assert!(vms.iter().any(|v| v.tools_status == Some(ToolsStatus::NotInstalled)));
    assert!(vms
        .iter()
        .any(|v| v.tools_status == Some(ToolsStatus::SupportedOld)
            && v.tools_version.as_deref() == Some("10346")));
    assert!(vms.iter().any(|v| v.power_state == Some(PowerState::PoweredOn)));
    let with_snaps: Vec<_> = vms.iter().filter(|v| !v.snapshots.as_ref().unwrap().is_empty()).collect();
    assert_eq!(with_snaps.len(), 2, "every 3rd VM has snapshots");
    assert!(vms.iter().all(|v| v.snapshots.is_some()), "no snapshot = collected, none");
    let two = with_snaps
        .iter()
        .find(|v| v.snapshots.as_ref().unwrap().len() == 2)
        .expect("a VM with a snapshot chain");
    let s = two.snapshots.as_ref().unwrap();
    let today = esxup_version::Date::today();
    assert_eq!(s[0].created.unwrap().days_until(today), 90);
    assert_eq!(s[1].created.unwrap().days_until(today), 30);

    // Of the firmware, the API gives the TPM and the system/BIOS vendor and
    // model (the harness gives its 6.7 host a TPM 1.2); firmware type and
    // Secure Boot stay unknown.
    let fw = f.firmware.as_ref().expect("firmware from HostCapability and hardware");
    assert_eq!((fw.tpm_present, fw.tpm_version.as_deref()), (Some(true), Some("1.2")));
    assert!(fw.system_vendor.is_some() && fw.system_model.is_some() && fw.bios_version.is_some(), "{fw:?}");
    assert_eq!((fw.kind, fw.secure_boot, fw.tpm_interface.as_deref()), (None, None, None));

    // What the API cannot see is said, not guessed.
    assert!(f.vibs.is_none() && f.boot_device.is_none());
    assert!(f.collection_notes.iter().any(|n| n.contains("not visible through the vSphere API")));
}

#[test]
fn vcenter_collects_every_host() {
    let sim = Sim::start(&["-mode", "vpx", "-hosts", "4", "-vms", "8"]);
    let facts = vim::collect(&opts(&sim)).unwrap();
    assert_eq!(facts.len(), 4);
    let products: BTreeSet<(String, u32)> =
        facts.iter().map(|f| f.product.as_ref().map(|p| (p.version.to_string(), p.build)).unwrap()).collect();
    assert_eq!(products, BTreeSet::from([("6.7.0".into(), 17700523), ("7.0.3".into(), 20328353)]));
    let vms: usize = facts.iter().map(|f| f.vms.as_ref().unwrap().len()).sum();
    assert_eq!(vms, sim.vms);
    for f in &facts {
        assert!(f.source.as_deref().unwrap().contains("#host-"), "{:?}", f.source);
        assert!(f.license.is_some(), "{:?}", f.collection_notes);
        // 7.0.3 hosts have slpd stopped (KB 76372 workaround applied), 6.7 hosts running.
        let p = f.product.as_ref().unwrap();
        assert_eq!(f.slpd.as_ref().unwrap().running, Some(p.build == 17700523));
    }
    // TPM from HostCapability: 6.7 hosts 1.2, 7.0 hosts 2.0, every 3rd host
    // (the third of four here) none: tpmSupported false, no version.
    let mut tpms: Vec<(Option<bool>, Option<String>)> = facts
        .iter()
        .map(|f| {
            let fw = f.firmware.as_ref().expect("firmware");
            let want = if f.product.as_ref().unwrap().build == 17700523 { "1.2" } else { "2.0" };
            if let Some(v) = &fw.tpm_version {
                assert_eq!(v, want);
            }
            (fw.tpm_present, fw.tpm_version.clone())
        })
        .collect();
    tpms.sort();
    assert_eq!(tpms.iter().filter(|t| *t == &(Some(false), None)).count(), 1, "{tpms:?}");
    assert_eq!(tpms.iter().filter(|t| t.0 == Some(true) && t.1.is_some()).count(), 3, "{tpms:?}");
    // The harness puts every 5th host in maintenance mode: none of 4.
    assert!(facts.iter().all(|f| f.maintenance_mode == Some(false)));
}
