//! The stateful fake ESXi host of testbed/sshd (esxi_host.py behind the
//! loopback OpenSSH server), driven with the real OpenSSH client: its state
//! changes, its errors and exit statuses, and outputs that esxup's own
//! parsers (esxup_facts::parse) and simulator (`esxup depot dry-run`) read.

mod common;

use common::sshd::Sshd;
use common::write_synthetic_bundle as bundle;
use esxup_facts::parse::{boot, network, services, software, storage, system, vimcmd, vmodl};
use esxup_facts::{HostFacts, PowerState, ToolsStatus};
use serde_json::{json, Value};
use std::collections::BTreeSet;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const U3G: &str = "ESXi-7.0U3g-20328353-standard";
const DEPOT: &str = "/vmfs/volumes/datastore1/esxup/depot.zip";

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `(status, stdout, stderr)` of `cmd` on the host.
fn run(s: &Sshd, cmd: &str) -> (i32, String, String) {
    let o = s.ssh(cmd);
    (o.status.code().unwrap_or(-1), text(&o.stdout), text(&o.stderr))
}

/// Stdout of `cmd`, which must succeed.
fn ok(s: &Sshd, cmd: &str) -> String {
    let (c, out, err) = run(s, cmd);
    assert_eq!(c, 0, "`{cmd}` failed ({c}): {out}{err}");
    out
}

/// `(output, status)` of `cmd`, which must fail with `status`.
fn fails(s: &Sshd, cmd: &str, status: i32) -> String {
    let (c, out, err) = run(s, cmd);
    assert_eq!(c, status, "`{cmd}`: {out}{err}");
    out + &err
}

/// Uploads `local` to `host_path` with `cat >`, the way `esxup run` does.
fn upload(s: &Sshd, local: &Path, host_path: &str) {
    let dir = host_path.rsplit_once('/').unwrap().0;
    ok(s, &format!("mkdir -p '{dir}'"));
    let o = s.ssh_stdin(&format!("cat > '{host_path}'"), &std::fs::read(local).unwrap());
    assert!(o.status.success(), "{}", text(&o.stderr));
}

/// `VIBs Installed/Removed/Skipped` of an esxcli result block.
fn lists(out: &str) -> [BTreeSet<String>; 3] {
    ["Installed", "Removed", "Skipped"].map(|k| {
        let line = out.lines().find_map(|l| l.trim().strip_prefix(&format!("VIBs {k}:"))).unwrap_or("");
        line.split(", ").map(str::trim).filter(|x| !x.is_empty()).map(str::to_string).collect()
    })
}

fn sha256_local(p: &Path) -> String {
    let o = Command::new("sha256sum").arg(p).output().unwrap();
    text(&o.stdout).split_whitespace().next().unwrap().to_string()
}

fn esxup(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_esxup")).args(args).stdin(Stdio::null()).output().unwrap()
}

/// Waits until the host answers again after a reboot; the time it took.
fn wait_back(s: &Sshd, limit: Duration) -> Duration {
    let t = Instant::now();
    while t.elapsed() < limit {
        if s.ssh("vmware -vl").status.success() {
            return t.elapsed();
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    panic!("the host did not come back within {limit:?}");
}

fn vm<'a>(st: &'a Value, id: &str) -> &'a Value {
    st["vms"].as_array().unwrap().iter().find(|v| v["id"] == id).unwrap()
}

// ---------------------------------------------------------------- the upgrade round trip

#[test]
fn upgrade_round_trip_6_7_to_7_0_u3g() {
    let t = tempfile::tempdir().unwrap();
    let zip = bundle(t.path());
    let s = Sshd::start_host(&Sshd::host_67());

    // The running release, read with esxup's own parsers.
    let p = system::version_get(&ok(&s, "esxcli --formatter=xml system version get")).unwrap();
    assert_eq!((p.version.to_string().as_str(), p.build), ("6.7.0", 15160138));
    assert_eq!(p.update.as_deref(), Some("3"));
    let vl = system::vmware_vl(&ok(&s, "vmware -vl")).unwrap();
    assert_eq!((vl.build, vl.update.as_deref()), (15160138, Some("3")));
    let boot0 = vmodl::parse("h", &ok(&s, "vim-cmd hostsvc/hostsummary")).unwrap().unwrap();
    assert_eq!(boot0.text_at("runtime.bootTime"), Some("2026-11-30T08:00:00Z"));
    assert_eq!(boot0.text_at("config.product.build"), Some("15160138"));

    // Maintenance mode is refused while VMs run; guest shutdown needs Tools.
    let e = fails(&s, "esxcli system maintenanceMode set --enable true", 1);
    assert!(e.contains("2 virtual machine(s) are powered on (web01, db01)"), "{e}");
    assert_eq!(s.state()["maintenance"], false);
    let e = fails(&s, "vim-cmd vmsvc/power.shutdown 3", 1);
    assert!(
        e.contains("(vim.fault.InvalidPowerState) {") && e.contains("existingState = \"poweredOff\""),
        "{e}"
    );
    ok(&s, "vim-cmd vmsvc/power.shutdown 1");
    assert_eq!(vm(&s.state(), "1")["power"], "poweredOff");
    assert_eq!(ok(&s, "vim-cmd vmsvc/power.on 1"), "Powering on VM:\n");
    let e = fails(&s, "vim-cmd vmsvc/power.on 1", 1);
    assert!(e.starts_with("Powering on VM:\nPower on failed: (vim.fault.InvalidPowerState) {"), "{e}");
    let e = fails(&s, "vim-cmd vmsvc/power.on 99", 1);
    assert!(e.contains("vmodl.fault.ManagedObjectNotFound"), "{e}");
    assert_eq!(ok(&s, "vim-cmd vmsvc/power.off 1"), "Powering off VM:\n");
    ok(&s, "vim-cmd vmsvc/power.shutdown 2");
    assert!(
        vimcmd::vm_summary("2", &ok(&s, "vim-cmd vmsvc/get.summary 2")).unwrap().power_state
            == Some(PowerState::PoweredOff)
    );
    ok(&s, "esxcli system maintenanceMode set --enable true");
    assert!(system::maintenance_mode(&ok(&s, "esxcli --formatter=xml system maintenanceMode get")).unwrap());
    let e = fails(&s, "esxcli system maintenanceMode set --enable true", 1);
    assert!(e.contains("already enabled"), "{e}");
    let e = fails(&s, "vim-cmd vmsvc/power.on 1", 1);
    assert!(e.contains("vim.fault.InvalidState"), "power.on in maintenance mode: {e}");

    // Configuration backup, fetched with cat: a gzip tar with Manifest.txt.
    ok(&s, "vim-cmd hostsvc/firmware/sync_config");
    let out = ok(&s, "vim-cmd hostsvc/firmware/backup_config");
    let url = out.trim().strip_prefix("Bundle can be downloaded at : http://*/downloads/").unwrap();
    let (id, file) = url.split_once('/').unwrap();
    assert_eq!(file, "configBundle-esx01.lab.local.tgz");
    let bytes = s.ssh(&format!("cat /scratch/downloads/{id}/{file}")).stdout;
    let local = t.path().join("bundle.tgz");
    std::fs::write(&local, &bytes).unwrap();
    let m = Command::new("tar").args(["-xzOf", local.to_str().unwrap(), "Manifest.txt"]).output().unwrap();
    assert!(m.status.success());
    assert_eq!(text(&m.stdout), "UUID=4c4c4544-0042-3610-8052-b4c04f4d4e32\nBUILD=15160138\n");
    let l = Command::new("tar").args(["-tzf", local.to_str().unwrap()]).output().unwrap();
    assert_eq!(text(&l.stdout), "Manifest.txt\nstate.tgz\n");
    let e = fails(&s, "cat /scratch/downloads/nope/configBundle-esx01.lab.local.tgz", 1);
    assert_eq!(e, "cat: can't open '/scratch/downloads/nope/configBundle-esx01.lab.local.tgz': No such file or directory\n");
    s.set_fault("backup_corrupt", json!(true));
    let out = ok(&s, "vim-cmd hostsvc/firmware/backup_config");
    let url = out.trim().rsplit_once("/downloads/").unwrap().1.to_string();
    std::fs::write(&local, s.ssh(&format!("cat /scratch/downloads/{url}")).stdout).unwrap();
    assert!(!Command::new("tar").args(["-tzf", local.to_str().unwrap()]).output().unwrap().status.success());
    s.set_fault("backup_corrupt", json!(false));

    // Upload the offline bundle; the checksum matches; free space shrinks.
    let e = fails(&s, "cat > '/vmfs/volumes/nods/esxup/depot.zip'", 1);
    assert_eq!(e, "sh: can't create /vmfs/volumes/nods/esxup/depot.zip: nonexistent directory\n");
    upload(&s, &zip, DEPOT);
    let sum = ok(&s, &format!("sha256sum '{DEPOT}'"));
    assert_eq!(sum, format!("{}  {DEPOT}\n", sha256_local(&zip)));
    let e = fails(&s, "sha256sum '/vmfs/volumes/datastore1/esxup/none.zip'", 1);
    assert_eq!(e, "sha256sum: /vmfs/volumes/datastore1/esxup/none.zip: No such file or directory\n");
    let ds = storage::filesystem_list(&ok(&s, "esxcli --formatter=xml storage filesystem list")).unwrap();
    let d1 = ds.iter().find(|d| d.name == "datastore1").unwrap();
    assert_eq!(d1.free_bytes, Some(300000000000 - std::fs::metadata(&zip).unwrap().len()));

    // The dry run agrees with esxup's own simulation of the same host.
    let facts = t.path().join("facts.json");
    let kh = s.known_hosts();
    let o = s.collect(["--known-hosts", &kh], &["-o", facts.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let update = format!("esxcli software profile update -d '{DEPOT}' -p '{U3G}'");
    let dry = ok(&s, &format!("{update} --dry-run"));
    assert!(dry.starts_with("Installation Result\n   Message: Dryrun only, host not changed. The following installers will be applied: [BootBankInstaller, LockerInstaller]\n   Reboot Required: true\n"), "{dry}");
    let sim = esxup(&[
        "depot",
        "dry-run",
        "--depot",
        zip.to_str().unwrap(),
        "--profile",
        U3G,
        "--facts",
        facts.to_str().unwrap(),
    ]);
    // (Its exit status also weighs host-a's PCI devices against the depot's
    // drivers; the transaction is what the host must agree on.)
    assert!(
        text(&sim.stdout).contains("\nInstallation Result\n"),
        "{}{}",
        text(&sim.stdout),
        text(&sim.stderr)
    );
    let [inst, rm, skip] = lists(&dry);
    assert_eq!(lists(&text(&sim.stdout)), [inst.clone(), rm.clone(), skip.clone()]);
    assert_eq!((inst.len(), rm.len(), skip.len()), (79, 143, 0));
    assert!(inst.contains("VMware_bootbank_esx-base_7.0.3-0.55.20328353"));
    assert!(rm.contains("VMware_bootbank_esx-base_6.7.0-3.89.15160138"));
    s.set_fault("dryrun_differs", json!(true));
    let [inst2, ..] = lists(&ok(&s, &format!("{update} --dry-run")));
    assert_eq!(inst2.len(), inst.len() - 1);
    assert!(inst2.is_subset(&inst));
    s.set_fault("dryrun_differs", json!(false));
    assert_eq!(
        system::version_get(&ok(&s, "esxcli --formatter=xml system version get")).unwrap().build,
        15160138
    );

    // The real update needs maintenance mode; then the new image waits in
    // the alternate bootbank and the running build stays.
    ok(&s, "esxcli system maintenanceMode set --enable false");
    let e = fails(&s, &update, 1);
    assert!(
        e.starts_with(" [MaintenanceModeError]\n MaintenanceMode is required to remove: [VMW_bootbank_"),
        "{e}"
    );
    assert!(s.state()["pending"].is_null());
    ok(&s, "esxcli system maintenanceMode set --enable true");
    let res = ok(&s, &update);
    assert!(res.starts_with("Installation Result\n   Message: The update completed successfully, but the system needs to be rebooted for the changes to be effective.\n   Reboot Required: true\n"), "{res}");
    assert_eq!(lists(&res), [inst.clone(), rm, skip]);
    assert_eq!(
        system::version_get(&ok(&s, "esxcli --formatter=xml system version get")).unwrap().build,
        15160138
    );
    assert_eq!(software::profile_get(&ok(&s, "esxcli --formatter=xml software profile get")).unwrap(), U3G);
    let vibs = software::vib_list(&ok(&s, "esxcli --formatter=xml software vib list")).unwrap();
    assert_eq!(vibs.len(), 79);
    let alt = boot::boot_cfg(boot::ALTBOOTBANK_CFG, &ok(&s, "cat /altbootbank/boot.cfg")).unwrap();
    assert_eq!((alt.build, alt.bootstate), (Some(20328353), Some(1)));
    let sum = vmodl::parse("h", &ok(&s, "vim-cmd hostsvc/hostsummary")).unwrap().unwrap();
    assert_eq!(sum.text_at("rebootRequired"), Some("true"));

    // Reboot: refused outside maintenance mode; then down, then back on 7.0 U3g.
    ok(&s, "esxcli system maintenanceMode set --enable false");
    let e = fails(&s, "esxcli system shutdown reboot -r 'esxup: ESXi 7.0 U3g'", 1);
    assert!(e.contains("not in maintenance mode"), "{e}");
    ok(&s, "esxcli system maintenanceMode set --enable true");
    let up_before = ok(&s, "esxcli system stats uptime get").trim().parse::<u64>().unwrap();
    assert!(up_before > 3_600_000_000, "booted 2026-11-30: {up_before}");
    assert_eq!(ok(&s, "esxcli system shutdown reboot -r 'esxup: ESXi 7.0 U3g'"), "");
    let down = s.ssh("vmware -vl");
    assert_eq!(down.status.code(), Some(255), "a host that reboots cuts the session");
    assert!(down.stdout.is_empty());
    let took = wait_back(&s, Duration::from_secs(30));
    assert!(took < Duration::from_secs(10), "{took:?}");
    let p = system::version_get(&ok(&s, "esxcli --formatter=xml system version get")).unwrap();
    assert_eq!(
        (p.version.to_string().as_str(), p.build, p.update.as_deref()),
        ("7.0.3", 20328353, Some("3"))
    );
    assert_eq!(ok(&s, "vmware -vl"), "VMware ESXi 7.0.3 build-20328353\nVMware ESXi 7.0 Update 3\n");
    let sum = vmodl::parse("h", &ok(&s, "vim-cmd hostsvc/hostsummary")).unwrap().unwrap();
    assert_ne!(sum.text_at("runtime.bootTime"), Some("2026-11-30T08:00:00Z"));
    assert_eq!(sum.text_at("runtime.inMaintenanceMode"), Some("true"));
    assert_eq!(sum.text_at("config.product.fullName"), Some("VMware ESXi 7.0.3 build-20328353"));
    assert!(ok(&s, "esxcli system stats uptime get").trim().parse::<u64>().unwrap() < 60_000_000);
    let alt = boot::boot_cfg(boot::ALTBOOTBANK_CFG, &ok(&s, "cat /altbootbank/boot.cfg")).unwrap();
    assert_eq!((alt.build, alt.bootstate), (Some(15160138), Some(0)));
    let cur = boot::boot_cfg(boot::BOOTBANK_CFG, &ok(&s, "cat /bootbank/boot.cfg")).unwrap();
    assert_eq!((cur.build, cur.bootstate), (Some(20328353), Some(0)));
    let st = s.state();
    assert!(st["pending"].is_null() && st["down_until"].is_null());
    assert!(st["vms"].as_array().unwrap().iter().all(|v| v["power"] == "poweredOff"));
    assert!(system::maintenance_mode(&ok(&s, "esxcli --formatter=xml system maintenanceMode get")).unwrap());
    // After an esxcli upgrade from 6.x the VIB signatures do not allow Secure Boot.
    let sb = ok(&s, "/usr/lib/vmware/secureboot/bin/secureBoot.py -c");
    assert!(!esxup_facts::parse::hardware::secureboot_check(&sb).unwrap());

    // The licence arrives on stdin, never on the command line.
    let set = "read -r k && vim-cmd vimsvc/license --set \"$k\"";
    let o = s.ssh_stdin(set, b"NOT-A-KEY\n");
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stdout).contains("(vim.fault.InvalidLicense) {"), "{}", text(&o.stdout));
    let o = s.ssh_stdin(set, b"0A1B2-C3D4E-F5G6H-J7K8L-M9N0P\n");
    assert!(o.status.success(), "{}", text(&o.stdout));
    assert!(text(&o.stdout).starts_with("\n   serial: 0A1B2-C3D4E-F5G6H-J7K8L-M9N0P\n"));
    let lic = vimcmd::license_show(&ok(&s, "vim-cmd vimsvc/license --show")).unwrap();
    assert_eq!(lic.edition.as_deref(), Some("vSphere 7 Enterprise Plus"));
    assert_eq!(lic.product_major, Some(7));
    assert_eq!(lic.key_masked.as_deref(), Some("*****-*****-*****-*****-M9N0P"));
    let log = s.commands_log();
    assert!(log.iter().all(|l| !l.contains("M9N0P") && !l.contains("NOT-A-KEY")), "{log:?}");
    assert_eq!(log.iter().filter(|l| *l == set).count(), 2);

    // What the host was asked to change, and how often.
    let calls = s.calls();
    assert_eq!(calls.get("esxcli system maintenanceMode set --enable true"), Some(&5));
    assert_eq!(calls.get("vim-cmd vmsvc/power.on 1"), Some(&3));
    assert_eq!(calls.get(&update), Some(&2));
    assert_eq!(calls.get(&format!("{update} --dry-run")), None, "a dry run changes nothing");
    assert_eq!(calls.get("esxcli system shutdown reboot -r 'esxup: ESXi 7.0 U3g'"), Some(&2));
    assert_eq!(calls.get(set), Some(&2));
    assert_eq!(calls.get("esxcli --formatter=xml system version get"), None);
}

// ---------------------------------------------------------------- the collector against the stateful host

#[test]
fn collect_reads_the_state_of_the_host() {
    let s = Sshd::start_host(&Sshd::host_70());
    let kh = s.known_hosts();
    let o = s.collect(["--known-hosts", &kh], &["--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}\n{}", text(&o.stderr), s.log());
    let f: HostFacts = serde_json::from_str(&text(&o.stdout)).unwrap();
    let p = f.product.unwrap();
    assert_eq!((p.version.to_string().as_str(), p.build), ("7.0.2", 17867351));
    assert_eq!(f.hostname.as_deref(), Some("esx02.lab.local"));
    assert_eq!(f.image_profile.as_deref(), Some("DEL-ESXi-702_17867351-A03"));
    assert_eq!(f.vibs.as_ref().map(Vec::len), Some(83));
    assert_eq!(f.maintenance_mode, Some(false));
    let vms = f.vms.unwrap();
    assert_eq!(vms.iter().map(|v| v.name.as_str()).collect::<Vec<_>>(), ["dc01", "backup-proxy"]);
    assert_eq!(vms[0].power_state, Some(PowerState::PoweredOn));
    assert_eq!(vms[0].hardware_version, Some(17));
    assert_eq!(vms[1].tools_status, Some(ToolsStatus::SupportedOld));
    assert_eq!(vms[1].datastore.as_deref(), Some("datastore2"));
    assert_eq!(f.license.unwrap().edition.as_deref(), Some("vSphere 7 Enterprise Plus"));
    assert_eq!(f.altbootbank.unwrap().build, Some(17325551));
    let slpd = f.slpd.unwrap();
    assert_eq!(
        (slpd.running, slpd.policy.as_deref(), slpd.firewall_enabled),
        (Some(false), Some("off"), Some(false))
    );
    let fw = f.firmware.unwrap();
    assert_eq!(fw.secure_boot, Some(true));
    let names: Vec<_> = f.datastores.unwrap().into_iter().map(|d| d.name).collect();
    assert!(names.starts_with(&["datastore1".to_string(), "datastore2".to_string()]), "{names:?}");
    // Reads are not counted as changes.
    assert!(s.calls().is_empty(), "{:?}", s.calls());
    assert!(s.commands_log().iter().any(|l| l == "vim-cmd vmsvc/get.summary 4"));
}

// ---------------------------------------------------------------- VMs

#[test]
fn vm_snapshots_tools_and_hardware_upgrades() {
    let s = Sshd::start_host(&Sshd::host_67());
    let vms = vimcmd::getallvms(&ok(&s, "vim-cmd vmsvc/getallvms")).unwrap();
    assert_eq!(vms.len(), 3);
    assert_eq!(
        (vms[0].name.as_str(), vms[0].hardware_version, vms[0].guest_os.as_deref()),
        ("web01", Some(14), Some("ubuntu64Guest"))
    );
    let g = vimcmd::vm_guest("1", &ok(&s, "vim-cmd vmsvc/get.guest 1")).unwrap();
    assert_eq!(
        (g.tools_status, g.tools_version.as_deref()),
        (Some(ToolsStatus::SupportedOld), Some("10346"))
    );

    // Autostart order (VMs without an entry are left out).
    let seq =
        vmodl::parse("a", &ok(&s, "vim-cmd hostsvc/autostartmanager/get_autostartseq")).unwrap().unwrap();
    let vmodl::V::Arr(items) = seq else { panic!("{seq:?}") };
    let keys: Vec<_> =
        items.iter().map(|i| (i.text_at("key").unwrap(), i.text_at("startOrder").unwrap())).collect();
    assert_eq!(keys, [("vim.VirtualMachine:1", "1"), ("vim.VirtualMachine:2", "2")]);

    // Snapshots: ids as snapshot.get and get.snapshotinfo show them.
    assert_eq!(ok(&s, "vim-cmd vmsvc/get.snapshotinfo 1"), "");
    assert_eq!(
        ok(&s, "vim-cmd vmsvc/snapshot.create 1 'esxup-before-upgrade' 'before ESXi 7.0 U3g' 0 0"),
        "Create Snapshot:\n"
    );
    ok(&s, "vim-cmd vmsvc/snapshot.create 1 'second' '' 0 0");
    let snaps = vimcmd::vm_snapshots("1", &ok(&s, "vim-cmd vmsvc/get.snapshotinfo 1")).unwrap();
    assert_eq!(snaps.iter().map(|x| x.name.as_str()).collect::<Vec<_>>(), ["esxup-before-upgrade", "second"]);
    assert!(snaps[0].created.is_some());
    let get = ok(&s, "vim-cmd vmsvc/snapshot.get 1");
    assert!(get.starts_with("Get Snapshot:\n|-ROOT\n--Snapshot Name        : esxup-before-upgrade\n--Snapshot Id        : 1\n"), "{get}");
    assert_eq!(vimcmd::vm_snapshots("1", &get).unwrap().len(), 2);
    let e = fails(&s, "vim-cmd vmsvc/snapshot.create 3 'q' '' 0 1", 1);
    assert!(e.contains("vim.fault.ToolsUnavailable"), "quiescing needs Tools: {e}");
    assert_eq!(ok(&s, "vim-cmd vmsvc/snapshot.remove 1 1"), "Remove Snapshot:\n");
    let e = fails(&s, "vim-cmd vmsvc/snapshot.remove 1 1", 1);
    assert!(e.contains("vim.fault.NotFound"), "{e}");
    let left = vimcmd::vm_snapshots("1", &ok(&s, "vim-cmd vmsvc/get.snapshotinfo 1")).unwrap();
    assert_eq!(left.iter().map(|x| x.name.as_str()).collect::<Vec<_>>(), ["second"]);
    let st = s.state();
    assert_eq!(vm(&st, "1")["snapshots"][0]["id"], 2);

    // Tools upgrade: needs a running VM with Tools.
    let e = fails(&s, "vim-cmd vmsvc/tools.upgrade 3", 1);
    assert!(e.contains("vim.fault.InvalidPowerState"), "{e}");
    ok(&s, "vim-cmd vmsvc/power.on 3");
    let e = fails(&s, "vim-cmd vmsvc/tools.upgrade 3", 1);
    assert!(e.contains("vim.fault.ToolsUnavailable"), "{e}");
    ok(&s, "vim-cmd vmsvc/tools.upgrade 1");
    let sum = vimcmd::vm_summary("1", &ok(&s, "vim-cmd vmsvc/get.summary 1")).unwrap();
    assert_eq!(sum.tools_status, Some(ToolsStatus::Current));

    // VM hardware: only when off, only upwards, only to what 6.7 runs (vmx-15).
    let e = fails(&s, "vim-cmd vmsvc/upgrade 1 vmx-15", 1);
    assert!(e.contains("vim.fault.InvalidPowerState"), "{e}");
    ok(&s, "vim-cmd vmsvc/power.off 1");
    let e = fails(&s, "vim-cmd vmsvc/upgrade 1 vmx-13", 1);
    assert!(e.contains("vim.fault.AlreadyUpgraded"), "{e}");
    let e = fails(&s, "vim-cmd vmsvc/upgrade 1 vmx-17", 1);
    assert!(e.contains("NotSupported"), "{e}");
    ok(&s, "vim-cmd vmsvc/upgrade 1 vmx-15");
    let vms = vimcmd::getallvms(&ok(&s, "vim-cmd vmsvc/getallvms")).unwrap();
    assert_eq!(vms[0].hardware_version, Some(15));
    assert_eq!(s.calls().get("vim-cmd vmsvc/upgrade 1 vmx-15"), Some(&2));
}

#[test]
fn concurrent_sessions_serialise_on_the_lock() {
    let s = Sshd::start_host(&Sshd::host_67());
    std::thread::scope(|sc| {
        let hs: Vec<_> = (0..8)
            .map(|i| {
                let s = &s;
                sc.spawn(move || ok(s, &format!("vim-cmd vmsvc/snapshot.create 2 'snap{i}' '' 0 0")))
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
    });
    let st = s.state();
    let mut ids: Vec<u64> =
        vm(&st, "2")["snapshots"].as_array().unwrap().iter().map(|x| x["id"].as_u64().unwrap()).collect();
    ids.sort_unstable();
    assert_eq!(ids, (1..=8).collect::<Vec<_>>(), "no lost update");
    assert_eq!(s.commands_log().len(), 8);
}

// ---------------------------------------------------------------- services, faults

#[test]
fn slpd_workaround_of_kb_76372_survives_a_reboot() {
    let mut st = Sshd::host_67();
    st["maintenance"] = json!(true);
    for v in st["vms"].as_array_mut().unwrap() {
        v["power"] = json!("poweredOff");
    }
    let s = Sshd::start_host(&st);
    assert!(services::slpd_status(&ok(&s, "/etc/init.d/slpd status")).unwrap());
    assert_eq!(ok(&s, "/etc/init.d/slpd stop"), "Stopping slpd\n");
    ok(&s, "esxcli network firewall ruleset set -r CIMSLP -e 0");
    assert!(!services::slpd_status(&ok(&s, "/etc/init.d/slpd status")).unwrap());
    assert_eq!(services::slpd_chkconfig(&ok(&s, "chkconfig --list slpd")).unwrap(), "on");
    assert!(!network::firewall_ruleset(&ok(
        &s,
        "esxcli --formatter=xml network firewall ruleset list -r CIMSLP"
    ))
    .unwrap());
    // Stopped but still on at boot: a reboot starts it again.
    ok(&s, "esxcli system shutdown reboot -r 'test'");
    wait_back(&s, Duration::from_secs(30));
    assert!(services::slpd_status(&ok(&s, "/etc/init.d/slpd status")).unwrap());
    ok(&s, "/etc/init.d/slpd stop");
    ok(&s, "chkconfig slpd off");
    ok(&s, "esxcli system shutdown reboot -r 'test'");
    wait_back(&s, Duration::from_secs(30));
    assert!(!services::slpd_status(&ok(&s, "/etc/init.d/slpd status")).unwrap());
    assert_eq!(services::slpd_chkconfig(&ok(&s, "chkconfig --list slpd")).unwrap(), "off");
    assert!(!network::firewall_ruleset(&ok(
        &s,
        "esxcli --formatter=xml network firewall ruleset list -r CIMSLP"
    ))
    .unwrap());
}

#[test]
fn a_host_that_never_comes_back_and_one_that_hangs() {
    let mut st = Sshd::host_67();
    st["maintenance"] = json!(true);
    st["never_back"] = json!(true);
    st["reboot_down_seconds"] = json!(0.5);
    for v in st["vms"].as_array_mut().unwrap() {
        v["power"] = json!("poweredOff");
    }
    let s = Sshd::start_host(&st);

    // A command that hangs holds only itself: other sessions still answer.
    s.set_fault("hang", json!("vim-cmd hostsvc/firmware/sync_config"));
    s.set_fault("hang_seconds", json!(3));
    let t = Instant::now();
    let hung = std::thread::scope(|sc| {
        let h = sc.spawn(|| s.ssh("vim-cmd hostsvc/firmware/sync_config"));
        std::thread::sleep(Duration::from_millis(500));
        assert_eq!(ok(&s, "vmware -vl"), "VMware ESXi 6.7.0 build-15160138\nVMware ESXi 6.7.0 Update 3\n");
        assert!(t.elapsed() < Duration::from_secs(3), "the other session waited for the hung one");
        h.join().unwrap()
    });
    assert!(t.elapsed() >= Duration::from_secs(3));
    assert_eq!(hung.status.code(), Some(1));
    assert!(s.calls().is_empty(), "a hung command changes nothing");

    ok(&s, "esxcli system shutdown reboot -r 'gone'");
    std::thread::sleep(Duration::from_secs(1));
    for _ in 0..3 {
        assert_eq!(s.ssh("vmware -vl").status.code(), Some(255));
    }
    assert!(!s.state()["down_until"].is_null());
}

// ---------------------------------------------------------------- depots

#[test]
fn dry_runs_fail_as_esxcli_does() {
    let t = tempfile::tempdir().unwrap();
    let zip = bundle(t.path());
    // The seed case: a 6.7 host at P06 driver builds (the synthetic depot's
    // hosts/6.7-P06-like.viblist) and ESXi 7.0 U2a.
    let mut st = Sshd::host_67();
    let ids = std::fs::read_to_string(t.path().join("depot/hosts/6.7-P06-like.viblist")).unwrap();
    let vibs: Vec<Value> = ids
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|id| {
            let mut p = id.trim().splitn(3, '_');
            let (vendor, kind, rest) = (p.next().unwrap(), p.next().unwrap(), p.next().unwrap());
            let (name, version) = rest.rsplit_once('_').unwrap();
            json!({"name": name, "version": version, "vendor": vendor, "acceptance": "VMwareCertified",
                   "install_date": "2021-12-01", "type": kind})
        })
        .collect();
    st["vibs"] = json!(vibs);
    let s = Sshd::start_host(&st);
    upload(&s, &zip, DEPOT);
    let e = fails(
        &s,
        &format!("esxcli software profile update -d '{DEPOT}' -p 'ESXi-7.0U2a-17867351-standard' --dry-run"),
        1,
    );
    assert!(e.starts_with(" [DependencyError]\n"), "{e}");
    assert!(e.contains(" VIB VMW_bootbank_vmkusb_0.1-4vmw.670.3.159.18828794 requires vmkapi_incompat_2_5_0_0, but the requirement cannot be satisfied within the ImageProfile.\n"), "{e}");
    assert!(e.ends_with(" Please refer to the log file for more details.\n"), "{e}");
    let e = fails(
        &s,
        &format!("esxcli software profile update -d '{DEPOT}' -p 'ESXi-7.0U3-standard' --dry-run"),
        1,
    );
    assert_eq!(e, " [NoMatchError]\n No image profile found with name 'ESXi-7.0U3-standard'\n         id = ESXi-7.0U3-standard\n Please refer to the log file for more details.\n");
    let e = fails(
        &s,
        &format!("esxcli software profile update -d '/vmfs/volumes/datastore1/x.zip' -p '{U3G}' --dry-run"),
        1,
    );
    assert!(e.starts_with(" [MetadataDownloadError]\n Could not download from depot at zip:/vmfs/volumes/datastore1/x.zip?index.xml, skipping"), "{e}");
    // The same host to 7.0 U3g resolves.
    let dry = ok(&s, &format!("esxcli software profile update -d '{DEPOT}' -p '{U3G}' --dry-run"));
    let [i, r, k] = lists(&dry);
    assert_eq!((i.len(), r.len(), k.len()), (68, 123, 11));
}

#[test]
fn oem_host_update_keeps_newer_drivers_and_reports_an_updated_profile() {
    let t = tempfile::tempdir().unwrap();
    let zip = bundle(t.path());
    let mut st = Sshd::host_70();
    st["vms"][0]["power"] = json!("poweredOff");
    st["maintenance"] = json!(true);
    let s = Sshd::start_host(&st);
    upload(&s, &zip, "/vmfs/volumes/datastore2/esxup/depot.zip");
    let res = ok(
        &s,
        &format!("esxcli software profile update -d '/vmfs/volumes/datastore2/esxup/depot.zip' -p '{U3G}'"),
    );
    let [i, r, k] = lists(&res);
    assert_eq!((i.len(), r.len(), k.len()), (64, 59, 15));
    assert!(
        k.contains("VMW_bootbank_bnxtnet_216.0.50.0-44vmw.703.0.50.20036589"),
        "BCM's newer bnxtnet stays: {k:?}"
    );
    // The image now differs from the profile: esxcli calls it "(Updated) ...".
    let name = software::profile_get(&ok(&s, "esxcli --formatter=xml software profile get")).unwrap();
    assert_eq!(name, format!("(Updated) {U3G}"));
    let vibs = software::vib_list(&ok(&s, "esxcli --formatter=xml software vib list")).unwrap();
    assert!(vibs.iter().any(|v| v.name == "bnxtnet" && v.vendor == "BCM"));
    assert!(vibs.iter().any(|v| v.name == "esx-base" && v.version == "7.0.3-0.55.20328353"));
    ok(&s, "esxcli system shutdown reboot -r 'u3g'");
    wait_back(&s, Duration::from_secs(30));
    let p = system::version_get(&ok(&s, "esxcli --formatter=xml system version get")).unwrap();
    assert_eq!((p.build, p.patch.as_deref()), (20328353, Some("55")));
    // 7.0 runs VM hardware up to vmx-19.
    ok(&s, "vim-cmd vmsvc/upgrade 4 vmx-19");
    let e = fails(&s, "vim-cmd vmsvc/upgrade 7 vmx-20", 1);
    assert!(e.contains("NotSupported"), "{e}");
}

// ---------------------------------------------------------------- ghettoVCB

#[test]
fn ghettovcb_backups_write_status_files() {
    let s = Sshd::start_host(&Sshd::host_70());
    assert_eq!(ok(&s, "ls /opt/ghettovcb/bin/ghettoVCB.sh"), "/opt/ghettovcb/bin/ghettoVCB.sh\n");
    let t = tempfile::tempdir().unwrap();
    std::fs::write(t.path().join("vms"), "dc01\nbackup-proxy\n").unwrap();
    std::fs::write(
        t.path().join("conf"),
        "VM_BACKUP_VOLUME=/vmfs/volumes/datastore2/backups\nVM_BACKUP_ROTATION_COUNT=1\n",
    )
    .unwrap();
    upload(&s, &t.path().join("vms"), "/tmp/esxup/vms.txt");
    upload(&s, &t.path().join("conf"), "/tmp/esxup/ghettoVCB.conf");
    let cmd = "/opt/ghettovcb/bin/ghettoVCB.sh -f '/tmp/esxup/vms.txt' -g '/tmp/esxup/ghettoVCB.conf'";
    let log = ok(&s, cmd);
    assert!(log.contains("-- info: Successfully completed backup for dc01!"), "{log}");
    assert!(
        log.lines().any(|l| l.ends_with("-- info: ###### Final status: All VMs backed up OK! ######")),
        "{log}"
    );
    for name in ["dc01", "backup-proxy"] {
        let dir = s.host_file(&format!("/vmfs/volumes/datastore2/backups/{name}"));
        let runs: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
        assert_eq!(runs.len(), 1);
        assert!(runs[0].file_name().unwrap().to_str().unwrap().starts_with(&format!("{name}-20")));
        assert!(runs[0].join("STATUS.ok").is_file());
    }
    s.set_fault("ghettovcb_fail", json!(true));
    let out = fails(&s, cmd, 6);
    assert!(out.contains("###### Final status: ERROR: All VMs failed! ######"), "{out}");

    let s = Sshd::start_host(&Sshd::host_67());
    let e = fails(&s, "ls /opt/ghettovcb/bin/ghettoVCB.sh", 1);
    assert_eq!(e, "ls: /opt/ghettovcb/bin/ghettoVCB.sh: No such file or directory\n");
    let e = fails(&s, cmd, 127);
    assert_eq!(e, "sh: /opt/ghettovcb/bin/ghettoVCB.sh: not found\n");
    let e = fails(&s, "esxcli software vib install -d /tmp/x.zip", 127);
    assert_eq!(e, "sh: esxcli software vib install -d /tmp/x.zip: not found\n");
}
