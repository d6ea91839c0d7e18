//! The folder and vm-support collectors on the composite host of
//! esxup-facts/tests/fixtures/host-a.list, and the command list against
//! docs/collect-commands.md.

use esxup_collect::commands::{Output, Source, COMMANDS, PER_VM};
use esxup_collect::files::DirSource;
use esxup_collect::vmsupport::BundleSource;
use esxup_facts::*;
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../esxup-facts/tests/fixtures")
}

/// `(saved file name, output text)` of host-a, source lines stripped.
fn host_a() -> Vec<(String, String)> {
    let list = std::fs::read_to_string(fixtures().join("host-a.list")).unwrap();
    list.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (name, fx) = l.split_once(' ').unwrap();
            let text = std::fs::read_to_string(fixtures().join(fx.trim())).unwrap();
            let body = text.split_once('\n').map(|x| x.1).unwrap_or("").to_string();
            (name.to_string(), body)
        })
        .collect()
}

fn host_a_dir() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for (name, body) in host_a() {
        std::fs::write(d.path().join(name), body).unwrap();
    }
    d
}

#[test]
fn every_list_file_name_is_a_command() {
    let known: Vec<String> = COMMANDS.iter().map(|c| c.file_name()).collect();
    for (name, _) in host_a() {
        let per_vm = PER_VM.iter().any(|(p, _)| name.starts_with(&format!("{p}-")));
        assert!(known.contains(&name) || per_vm, "{name} is not a saved file name of the command list");
    }
}

#[test]
fn from_dir_gives_full_facts() {
    let d = host_a_dir();
    let mut src = DirSource::open(d.path()).unwrap();
    let c = esxup_collect::collect(&mut src).unwrap();
    assert!(c.problems.is_empty(), "{:?}", c.problems);
    let f = &c.facts;
    assert_eq!(f.hostname.as_deref(), Some("esxi-01.npcsolutions.co.za"));
    let p = f.product.as_ref().unwrap();
    assert_eq!((p.build, p.update.as_deref()), (24677879, Some("3")));
    assert_eq!(f.vibs.as_ref().unwrap().len(), 60);
    assert_eq!(f.acceptance_level, Some(AcceptanceLevel::PartnerSupported));
    let cpu = f.cpu.as_ref().unwrap();
    assert_eq!((cpu.model, cpu.cores, cpu.hv, cpu.nx), (Some(62), Some(20), Some(true), None));
    let mgmt: Vec<&str> = f
        .nics
        .as_ref()
        .unwrap()
        .iter()
        .filter(|n| n.management == Some(true))
        .map(|n| n.name.as_str())
        .collect();
    assert_eq!(mgmt, ["vmnic0", "vmnic2"]);
    let boot = f.boot_device.as_ref().unwrap();
    assert_eq!((boot.media, boot.adapter.as_deref()), (Some(BootMedia::Usb), Some("vmhba32")));
    let hba: Vec<_> =
        f.storage_adapters.as_ref().unwrap().iter().map(|a| (a.name.as_str(), a.boot)).collect();
    assert_eq!(hba, [("vmhba0", Some(false)), ("vmhba32", Some(true))]);
    let fw = f.firmware.as_ref().unwrap();
    assert_eq!(
        (fw.kind, fw.secure_boot, fw.secure_boot_can_be_enabled, fw.tpm_present),
        (Some(FirmwareType::Uefi), Some(false), Some(false), Some(true))
    );
    assert_eq!(f.altbootbank.as_ref().unwrap().bootstate, Some(1));
    assert_eq!(f.boot_options.as_deref(), Some(&["autoPartition=FALSE".to_string()][..]));
    assert_eq!(f.slpd.as_ref().unwrap().running, Some(false));
    assert_eq!(f.persistent_scratch, Some(true));
    assert_eq!(f.maintenance_mode, Some(false));
    let vms = f.vms.as_ref().unwrap();
    assert_eq!(vms.len(), 3);
    let b = vms.iter().find(|v| v.name == "Backup-Proxy-Host").unwrap();
    assert_eq!((b.power_state, b.tools_version.as_deref()), (Some(PowerState::PoweredOn), Some("10346")));
    assert_eq!(b.snapshots.as_ref().unwrap().len(), 2);
    let first = &vms[0];
    assert_eq!((first.snapshots.as_deref().map(<[_]>::len), first.power_state), (Some(0), None));
    // VMs 1 and 10 have no saved summary/guest: notes say which file to save.
    assert!(
        f.collection_notes.iter().any(|n| n.contains("vim-cmd-vmsvc-get.summary-1.txt")),
        "{:?}",
        f.collection_notes
    );
    assert_eq!(c.missing, 4);
}

#[test]
fn missing_files_leave_facts_unknown_with_a_note() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("vmware-vl.txt"), "VMware ESXi 7.0.1 build-17168206\n").unwrap();
    let c = esxup_collect::collect(&mut DirSource::open(d.path()).unwrap()).unwrap();
    assert_eq!(c.facts.product.as_ref().unwrap().build, 17168206);
    assert_eq!(c.facts.vibs, None);
    assert_eq!(c.facts.cpu, None);
    let note = c.facts.collection_notes.iter().find(|n| n.contains("esxcli-software-vib-list.txt")).unwrap();
    assert!(
        note.contains("esxcli --formatter=xml software vib list > esxcli-software-vib-list.txt"),
        "{note}"
    );
    assert_eq!(c.missing, COMMANDS.len() - 1);
}

#[test]
fn bad_outputs_become_problems_naming_command_and_line() {
    let d = host_a_dir();
    let text = std::fs::read_to_string(fixtures().join("system-version-get/truncated.txt")).unwrap();
    std::fs::write(d.path().join("esxcli-system-version-get.txt"), text.split_once('\n').unwrap().1).unwrap();
    // Non-UTF-8 bytes in an otherwise fine output: read lossily, with a warning.
    std::fs::write(d.path().join("slpd-status.txt"), b"slpd is not running \xff\xfe\n").unwrap();
    let c = esxup_collect::collect(&mut DirSource::open(d.path()).unwrap()).unwrap();
    assert_eq!(c.problems.len(), 1);
    assert_eq!(c.problems[0].command, "esxcli system version get");
    // vmware -vl still gives the product.
    assert_eq!(c.facts.product.as_ref().unwrap().build, 24414501);
    assert_eq!(c.facts.slpd.as_ref().unwrap().running, Some(false));
    assert!(c.facts.collection_notes.iter().any(|n| n.contains("not valid UTF-8") && n.contains("slpd")));
}

fn tgz(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut b = tar::Builder::new(gz);
    for (path, data) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        // Write the name bytes directly so that unsafe paths can be tested.
        let name = h.as_old_mut().name.as_mut();
        name[..path.len()].copy_from_slice(path.as_bytes());
        h.set_cksum();
        b.append(&h, data.as_slice()).unwrap();
    }
    b.into_inner().unwrap().finish().unwrap()
}

#[test]
fn vm_support_bundle() {
    // A bundle holds localcli_* text outputs under <top>/commands/.
    let outputs = host_a();
    let get = |n: &str| outputs.iter().find(|(k, _)| k == n).unwrap().1.clone().into_bytes();
    let top = "esx-esxi-01-2026-11-26--22.00-1234";
    let mut entries = vec![
        (format!("{top}/commands/vmware_-vl.txt"), get("vmware-vl.txt")),
        (format!("{top}/commands/localcli_software-vib-list.txt"), get("esxcli-software-vib-list.txt")),
        (
            format!("{top}/commands/localcli_hardware-cpu-global-get.txt"),
            get("esxcli-hardware-cpu-global-get.txt"),
        ),
        (
            format!("{top}/commands/localcli_storage-core-device-list.txt"),
            get("esxcli-storage-core-device-list.txt"),
        ),
        (format!("{top}/var/log/vmkernel.log"), b"not read\n".to_vec()),
        ("../commands/localcli_system-version-get.txt".to_string(), b"   Version: 9.9.9\n".to_vec()),
    ];
    entries
        .push((format!("{top}/commands/localcli_network-nic-list.txt"), get("esxcli-network-nic-list.txt")));
    let data = tgz(&entries);
    let path = Path::new("bundle.tgz");
    let mut src = BundleSource::from_reader(path, data.as_slice()).unwrap();
    assert!(src.warnings.iter().any(|w| w.contains("unsafe entry path ../commands")), "{:?}", src.warnings);
    let c = esxup_collect::collect(&mut src).unwrap();
    assert!(c.problems.is_empty(), "{:?}", c.problems);
    let f = &c.facts;
    assert_eq!(f.source.as_deref(), Some("vm-support:bundle.tgz"));
    assert_eq!(f.product.as_ref().unwrap().build, 24414501, "from vmware -vl, not the traversal entry");
    assert_eq!(f.vibs.as_ref().unwrap().len(), 60);
    assert_eq!(f.nics.as_ref().unwrap().len(), 4);
    assert_eq!(f.boot_device.as_ref().unwrap().media, Some(BootMedia::Usb));
    assert_eq!(f.license, None);
    assert!(f
        .collection_notes
        .iter()
        .any(|n| n.contains("vm-support bundle does not hold `vim-cmd vimsvc/license --show`")));
}

#[test]
fn bad_bundles_are_clear_errors() {
    let e = BundleSource::from_reader(Path::new("x.tgz"), &b"not gzip at all"[..]).err().unwrap().to_string();
    assert!(e.starts_with("read vm-support bundle x.tgz:"), "{e}");
    let good = tgz(&[("top/commands/vmware_-vl.txt".into(), b"VMware ESXi 8.0.3 build-24414501\n".to_vec())]);
    let cut = &good[..good.len() / 2];
    let e = BundleSource::from_reader(Path::new("cut.tgz"), cut).err().unwrap().to_string();
    assert!(e.contains("cut.tgz"), "{e}");
    let other = tgz(&[("top/etc/hosts".into(), b"127.0.0.1 localhost\n".to_vec())]);
    let e = BundleSource::from_reader(Path::new("o.tgz"), other.as_slice()).err().unwrap().to_string();
    assert!(e.contains("is this a vm-support bundle"), "{e}");
}

#[test]
fn docs_name_every_command_and_file() {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/collect-commands.md"))
            .unwrap();
    for c in COMMANDS {
        assert!(doc.contains(&format!("`{}`", c.command)), "docs/collect-commands.md lacks `{}`", c.command);
        assert!(
            doc.contains(&format!("{} > {}", c.command, c.file_name())),
            "the snippet lacks {}",
            c.file_name()
        );
    }
    for (prefix, sub) in PER_VM {
        assert!(doc.contains(&format!("{prefix}-N.txt")) && doc.contains(&format!("vmsvc/{sub} N")));
    }
}

/// A source that always fails mid-way: the error ends the collection.
struct Dead;
impl Source for Dead {
    fn label(&self) -> String {
        "dead".into()
    }
    fn fetch(&mut self, c: &str, _f: &str, _v: &[&str]) -> Result<Output, esxup_collect::CollectError> {
        Err(esxup_collect::CollectError::Timeout {
            target: "x".into(),
            seconds: 1,
            during: format!("waiting for `{c}`"),
        })
    }
}

#[test]
fn a_failing_source_ends_the_collection() {
    let e = esxup_collect::collect(&mut Dead).unwrap_err().to_string();
    assert!(e.contains("timed out") && e.contains("esxcli --formatter=xml system version get"), "{e}");
}
