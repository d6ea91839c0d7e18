//! The fixed list of read-only commands esxup runs on (or reads saved from)
//! an ESXi host, and how their outputs become [`HostFacts`].
//!
//! Each [`CommandSpec`] holds the exact command line, the file name it is
//! saved under (`--from-dir`), its names in a `vm-support` bundle's
//! `commands/` folder, and the parser that applies it to the facts.
//! `docs/collect-commands.md` documents the same list; a test keeps them in step.
//!
//! Every command only reads: `esxcli ... get|list`, `vim-cmd ... get*`,
//! `cat`, `vsish -e get`, `secureBoot.py -s|-c`, `slpd status`, `chkconfig --list`.

use crate::error::CollectError;
use esxup_facts::parse::{boot, hardware, network, services, software, storage, system, vimcmd, ParseError};
use esxup_facts::{AltBootbank, Cpu, Firmware, HostFacts, ServiceState, Vm};

/// Applies one command's output to the facts being built.
pub type Parser = fn(&str, &mut Builder) -> Result<(), ParseError>;

/// One read-only command.
pub struct CommandSpec {
    /// Stem of the saved file (`esxcli-system-version-get` -> `esxcli-system-version-get.txt`).
    pub id: &'static str,
    /// The exact command line run on the host.
    pub command: &'static str,
    /// Names of its output in a vm-support bundle's `commands/` folder, if it has one.
    pub vm_support: &'static [&'static str],
    /// What it tells.
    pub gives: &'static str,
    pub parser: Parser,
}

impl CommandSpec {
    /// `<id>.txt`
    pub fn file_name(&self) -> String {
        format!("{}.txt", self.id)
    }
}

/// Per-VM commands, run for every Vmid of `vim-cmd vmsvc/getallvms`:
/// `(file stem prefix, vim-cmd subcommand)`. Saved as `<prefix>-<vmid>.txt`.
pub const PER_VM: &[(&str, &str)] = &[
    ("vim-cmd-vmsvc-get.summary", "get.summary"),
    ("vim-cmd-vmsvc-get.guest", "get.guest"),
    ("vim-cmd-vmsvc-get.snapshotinfo", "get.snapshotinfo"),
];

/// The command list, in the order it runs.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        id: "esxcli-system-version-get",
        command: "esxcli --formatter=xml system version get",
        vm_support: &["localcli_system-version-get.txt", "esxcli_system-version-get.txt"],
        gives: "product version, build, update, patch",
        parser: |t, b| {
            b.facts.product = Some(system::version_get(t)?);
            Ok(())
        },
    },
    CommandSpec {
        id: "vmware-vl",
        command: "vmware -vl",
        vm_support: &["vmware_-vl.txt"],
        gives: "product version and build (fallback), update name",
        parser: |t, b| {
            let p = system::vmware_vl(t)?;
            match &mut b.facts.product {
                Some(cur) => {
                    if cur.update.is_none() {
                        cur.update = p.update;
                    }
                }
                None => b.facts.product = Some(p),
            }
            Ok(())
        },
    },
    CommandSpec {
        id: "esxcli-system-hostname-get",
        command: "esxcli --formatter=xml system hostname get",
        vm_support: &["localcli_system-hostname-get.txt"],
        gives: "host name (FQDN)",
        parser: |t, b| {
            b.facts.hostname = Some(system::hostname_get(t)?);
            Ok(())
        },
    },
    CommandSpec {
        id: "esxcli-software-profile-get",
        command: "esxcli --formatter=xml software profile get",
        vm_support: &["localcli_software-profile-get.txt"],
        gives: "image profile",
        parser: |t, b| {
            b.facts.image_profile = Some(software::profile_get(t)?);
            Ok(())
        },
    },
    CommandSpec {
        id: "esxcli-software-vib-list",
        command: "esxcli --formatter=xml software vib list",
        vm_support: &["localcli_software-vib-list.txt"],
        gives: "installed VIBs (name, version, vendor, acceptance level, install date)",
        parser: |t, b| {
            b.facts.vibs = Some(software::vib_list(t)?);
            Ok(())
        },
    },
    CommandSpec {
        id: "esxcli-software-acceptance-get",
        command: "esxcli --formatter=xml software acceptance get",
        vm_support: &["localcli_software-acceptance-get.txt"],
        gives: "host acceptance level",
        parser: |t, b| {
            b.facts.acceptance_level = Some(software::acceptance_get(t)?);
            Ok(())
        },
    },
    CommandSpec {
        id: "esxcli-hardware-cpu-global-get",
        command: "esxcli --formatter=xml hardware cpu global get",
        vm_support: &["localcli_hardware-cpu-global-get.txt"],
        gives: "CPU sockets, cores, threads, VT-x/AMD-V state",
        parser: |t, b| {
            b.cpu_global = Some(hardware::cpu_global(t)?);
            Ok(())
        },
    },
    CommandSpec {
        id: "esxcli-hardware-cpu-list",
        command: "esxcli --formatter=xml hardware cpu list",
        vm_support: &["localcli_hardware-cpu-list.txt"],
        gives: "CPU vendor, family, model, stepping, brand",
        parser: |t, b| {
            b.cpu_model = Some(hardware::cpu_list(t)?);
            Ok(())
        },
    },
    CommandSpec {
        id: "esxcli-hardware-memory-get",
        command: "esxcli --formatter=xml hardware memory get",
        vm_support: &["localcli_hardware-memory-get.txt"],
        gives: "physical memory",
        parser: |t, b| {
            b.facts.memory_bytes = Some(hardware::memory_get(t)?);
            Ok(())
        },
    },
    CommandSpec {
        id: "esxcli-hardware-platform-get",
        command: "esxcli --formatter=xml hardware platform get",
        vm_support: &["localcli_hardware-platform-get.txt"],
        gives: "system vendor and model",
        parser: |t, b| {
            let (v, m) = system::platform_get(t)?;
            let f = b.firmware();
            f.system_vendor = v;
            f.system_model = m;
            Ok(())
        },
    },
    CommandSpec {
        id: "esxcli-hardware-pci-list",
        command: "esxcli --formatter=xml hardware pci list",
        vm_support: &["localcli_hardware-pci-list.txt"],
        gives: "PCI devices (vendor, device, subvendor, subdevice, class, driver)",
        parser: |t, b| {
            b.facts.pci_devices = Some(hardware::pci_list(t)?);
            Ok(())
        },
    },
    CommandSpec {
        id: "esxcli-network-nic-list",
        command: "esxcli --formatter=xml network nic list",
        vm_support: &["localcli_network-nic-list.txt"],
        gives: "physical NICs (driver, link, speed, MAC)",
        parser: |t, b| {
            b.facts.nics = Some(network::nic_list(t)?);
            Ok(())
        },
    },
    CommandSpec {
        id: "esxcli-network-ip-interface-list",
        command: "esxcli --formatter=xml network ip interface list",
        vm_support: &["localcli_network-ip-interface-list.txt"],
        gives: "VMkernel interfaces (which vSwitch holds vmk0)",
        parser: |t, b| {
            b.ifaces = Some(network::ip_interface_list(t)?);
            Ok(())
        },
    },
    CommandSpec {
        id: "esxcli-network-vswitch-standard-list",
        command: "esxcli --formatter=xml network vswitch standard list",
        vm_support: &["localcli_network-vswitch-standard-list.txt"],
        gives: "standard vSwitches and their uplinks (management uplinks)",
        parser: |t, b| {
            b.vswitches = Some(network::vswitch_list(t)?);
            Ok(())
        },
    },
    CommandSpec {
        id: "esxcli-storage-core-adapter-list",
        command: "esxcli --formatter=xml storage core adapter list",
        vm_support: &["localcli_storage-core-adapter-list.txt"],
        gives: "storage adapters (HBA, driver)",
        parser: |t, b| {
            b.facts.storage_adapters = Some(storage::adapter_list(t)?);
            Ok(())
        },
    },
    CommandSpec {
        id: "esxcli-storage-core-device-list",
        command: "esxcli --formatter=xml storage core device list",
        vm_support: &["localcli_storage-core-device-list.txt"],
        gives: "disks: which is the boot device, USB or not, size",
        parser: |t, b| {
            b.disks = Some(storage::device_list(t)?);
            Ok(())
        },
    },
    CommandSpec {
        id: "esxcli-storage-core-path-list",
        command: "esxcli --formatter=xml storage core path list",
        vm_support: &["localcli_storage-core-path-list.txt"],
        gives: "which adapter each disk sits behind (the boot HBA)",
        parser: |t, b| {
            b.paths = Some(storage::path_list(t)?);
            Ok(())
        },
    },
    CommandSpec {
        id: "esxcli-storage-filesystem-list",
        command: "esxcli --formatter=xml storage filesystem list",
        vm_support: &["localcli_storage-filesystem-list.txt"],
        gives: "datastores and system volumes (type, VMFS version, capacity, free)",
        parser: |t, b| {
            b.facts.datastores = Some(storage::filesystem_list(t)?);
            Ok(())
        },
    },
    CommandSpec {
        id: "esxcli-system-module-list",
        command: "esxcli --formatter=xml system module list",
        vm_support: &["localcli_system-module-list.txt"],
        gives: "kernel modules (loaded; the vmklinux layer flagged)",
        parser: |t, b| {
            b.facts.modules = Some(system::module_list(t)?);
            Ok(())
        },
    },
    CommandSpec {
        id: "secureboot-state",
        command: "/usr/lib/vmware/secureboot/bin/secureBoot.py -s",
        vm_support: &[],
        gives: "Secure Boot enabled",
        parser: |t, b| {
            b.firmware().secure_boot = Some(hardware::secureboot_state(t)?);
            Ok(())
        },
    },
    CommandSpec {
        id: "secureboot-check",
        command: "/usr/lib/vmware/secureboot/bin/secureBoot.py -c",
        vm_support: &[],
        gives: "whether Secure Boot could be enabled (VIB signatures)",
        parser: |t, b| {
            b.firmware().secure_boot_can_be_enabled = Some(hardware::secureboot_check(t)?);
            Ok(())
        },
    },
    CommandSpec {
        id: "esxcli-hardware-trustedboot-get",
        command: "esxcli --formatter=xml hardware trustedboot get",
        vm_support: &["localcli_hardware-trustedboot-get.txt"],
        gives: "TPM present",
        parser: |t, b| {
            let (tpm, _drtm) = hardware::trustedboot_get(t)?;
            b.firmware().tpm_present = tpm;
            Ok(())
        },
    },
    CommandSpec {
        id: "vsish-hardware-firmwaretype",
        command: "vsish -e get /hardware/firmwareType",
        vm_support: &[],
        gives: "firmware type (UEFI or BIOS)",
        parser: |t, b| {
            b.firmware().kind = Some(hardware::firmware_type(t)?);
            Ok(())
        },
    },
    CommandSpec {
        id: "bootbank-boot-cfg",
        command: "cat /bootbank/boot.cfg",
        vm_support: &[],
        gives: "kernel boot options of the running bootbank",
        parser: |t, b| {
            b.bootbank = Some(boot::boot_cfg(boot::BOOTBANK_CFG, t)?);
            Ok(())
        },
    },
    CommandSpec {
        id: "altbootbank-boot-cfg",
        command: "cat /altbootbank/boot.cfg",
        vm_support: &[],
        gives: "build in the alternate bootbank (Shift+R), bootstate (reboot pending)",
        parser: |t, b| {
            let c = boot::boot_cfg(boot::ALTBOOTBANK_CFG, t)?;
            b.facts.altbootbank =
                Some(AltBootbank { build: c.build, version: c.version, bootstate: c.bootstate });
            Ok(())
        },
    },
    CommandSpec {
        id: "slpd-status",
        command: "/etc/init.d/slpd status",
        vm_support: &[],
        gives: "SLP daemon running (CVE-2021-21974)",
        parser: |t, b| {
            b.slpd().running = Some(services::slpd_status(t)?);
            Ok(())
        },
    },
    CommandSpec {
        id: "slpd-chkconfig",
        command: "chkconfig --list slpd",
        vm_support: &[],
        gives: "SLP daemon start policy",
        parser: |t, b| {
            b.slpd().policy = Some(services::slpd_chkconfig(t)?);
            Ok(())
        },
    },
    CommandSpec {
        id: "esxcli-network-firewall-ruleset-cimslp",
        command: "esxcli --formatter=xml network firewall ruleset list -r CIMSLP",
        vm_support: &[],
        gives: "CIMSLP firewall ruleset enabled",
        parser: |t, b| {
            b.slpd().firewall_enabled = Some(network::firewall_ruleset(t)?);
            Ok(())
        },
    },
    CommandSpec {
        id: "esxcli-system-settings-kernel-allowlegacycpu",
        command: "esxcli --formatter=xml system settings kernel list -o allowLegacyCPU",
        vm_support: &[],
        gives: "allowLegacyCPU boot option",
        parser: |t, b| {
            b.allow_legacy_cpu = Some(system::kernel_allow_legacy_cpu(t)?);
            Ok(())
        },
    },
    CommandSpec {
        id: "esxcli-system-maintenancemode-get",
        command: "esxcli --formatter=xml system maintenanceMode get",
        vm_support: &["localcli_system-maintenanceMode-get.txt"],
        gives: "maintenance mode",
        parser: |t, b| {
            b.facts.maintenance_mode = Some(system::maintenance_mode(t)?);
            Ok(())
        },
    },
    CommandSpec {
        id: "esxcli-system-settings-advanced-scratch",
        command:
            "esxcli --formatter=xml system settings advanced list -o /ScratchConfig/CurrentScratchLocation",
        vm_support: &[],
        gives: "scratch location (persistent storage or not)",
        parser: |t, b| {
            let p = system::scratch_location(t)?;
            b.facts.persistent_scratch = system::scratch_is_persistent(&p);
            if b.facts.persistent_scratch.is_none() {
                b.facts
                    .collection_notes
                    .push(format!("scratch location {p:?}: cannot tell whether it is persistent"));
            }
            Ok(())
        },
    },
    CommandSpec {
        id: "vim-cmd-vimsvc-license-show",
        command: "vim-cmd vimsvc/license --show",
        vm_support: &[],
        gives: "licence edition, version, expiry",
        parser: |t, b| {
            b.facts.license = Some(vimcmd::license_show(t)?);
            Ok(())
        },
    },
    CommandSpec {
        id: "vim-cmd-vmsvc-getallvms",
        command: "vim-cmd vmsvc/getallvms",
        vm_support: &[],
        gives:
            "VMs (name, guest OS, hardware version); then per VM: get.summary, get.guest, get.snapshotinfo",
        parser: |t, b| {
            b.facts.vms = Some(vimcmd::getallvms(t)?);
            Ok(())
        },
    },
];

/// Facts under construction, with the intermediate results that only make
/// facts together (vmk0 + vSwitches -> management uplinks, disks + paths ->
/// boot device and boot HBA, CPU global + list -> CPU).
#[derive(Default)]
pub struct Builder {
    pub facts: HostFacts,
    pub cpu_global: Option<hardware::CpuGlobal>,
    pub cpu_model: Option<hardware::CpuModel>,
    pub ifaces: Option<Vec<network::VmkInterface>>,
    pub vswitches: Option<Vec<network::VSwitch>>,
    pub disks: Option<Vec<storage::Disk>>,
    pub paths: Option<Vec<(String, String)>>,
    pub bootbank: Option<boot::BootCfg>,
    pub allow_legacy_cpu: Option<bool>,
}

impl Builder {
    pub fn new() -> Builder {
        Builder { facts: HostFacts::new(), ..Builder::default() }
    }

    fn firmware(&mut self) -> &mut Firmware {
        self.facts.firmware.get_or_insert_with(Firmware::default)
    }

    fn slpd(&mut self) -> &mut ServiceState {
        self.facts.slpd.get_or_insert_with(ServiceState::default)
    }

    /// Combines the intermediate results into facts.
    pub fn finish(mut self) -> HostFacts {
        if self.cpu_global.is_some() || self.cpu_model.is_some() {
            let g = self.cpu_global.take().unwrap_or_default();
            let m = self.cpu_model.take().unwrap_or_default();
            self.facts.cpu = Some(Cpu {
                vendor: m.vendor,
                family: m.family,
                model: m.model,
                stepping: m.stepping,
                brand: m.brand,
                sockets: g.packages,
                cores: g.cores,
                threads: g.threads,
                nx: None,
                hv: g.hv_support.map(|h| h == 3),
                xsave: None,
            });
        }
        if let (Some(ifaces), Some(vsw)) = (&self.ifaces, &self.vswitches) {
            match (network::management_uplinks(ifaces, vsw), self.facts.nics.as_mut()) {
                (Some(up), Some(nics)) => {
                    for n in nics.iter_mut() {
                        n.management = Some(up.contains(&n.name));
                    }
                }
                (None, Some(_)) => self.facts.collection_notes.push(
                    "management uplinks unknown: vmk0 is missing or on a distributed switch".to_string(),
                ),
                _ => {}
            }
        }
        if let Some(disks) = &self.disks {
            let bd = storage::boot_device(disks, self.paths.as_deref());
            if let (Some(bd), Some(adapters)) = (&bd, self.facts.storage_adapters.as_mut()) {
                if let Some(a) = &bd.adapter {
                    for ad in adapters.iter_mut() {
                        ad.boot = Some(ad.name == *a);
                    }
                }
            }
            if bd.is_none() {
                self.facts.collection_notes.push("no disk is marked `Is Boot Device: true`".to_string());
            }
            self.facts.boot_device = bd;
        }
        if self.bootbank.is_some() || self.allow_legacy_cpu.is_some() {
            let mut opts: Vec<String> =
                self.bootbank.as_ref().map(|b| b.kernelopt.clone()).unwrap_or_default();
            if self.allow_legacy_cpu == Some(true)
                && !opts.iter().any(|o| o.to_ascii_lowercase().starts_with("allowlegacycpu="))
            {
                opts.push("allowLegacyCPU=true".to_string());
            }
            self.facts.boot_options = Some(opts);
        }
        // Secure Boot is a UEFI feature: enabled implies UEFI firmware.
        if let Some(f) = self.facts.firmware.as_mut() {
            if f.secure_boot == Some(true) && f.kind.is_none() {
                f.kind = Some(esxup_facts::FirmwareType::Uefi);
            }
        }
        self.facts
    }
}

/// What a source gave for one command.
pub enum Output {
    /// The raw bytes the command printed.
    Bytes(Vec<u8>),
    /// Not available; the text says why and what to do.
    Missing(String),
}

/// Where outputs come from: a folder, a vm-support bundle, an SSH session.
pub trait Source {
    /// `dir:/x`, `vm-support:/x.tgz`, `ssh:root@host:22`.
    fn label(&self) -> String;
    /// Runs or looks up one command. `Err` only for failures that end the
    /// collection (lost connection, timeout); a missing output is `Ok(Missing)`.
    fn fetch(&mut self, command: &str, file_name: &str, vm_support: &[&str]) -> Result<Output, CollectError>;
}

/// The facts of one host, and what went wrong reading them.
#[derive(Debug)]
pub struct Collection {
    pub facts: HostFacts,
    /// Outputs that were there but could not be read (each names the command and line).
    pub problems: Vec<ParseError>,
    /// Commands whose output was missing.
    pub missing: usize,
}

/// Decodes an output: UTF-8, or lossily with a warning note.
pub fn decode(command: &str, bytes: Vec<u8>, notes: &mut Vec<String>) -> String {
    match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            notes.push(format!(
                "warning: output of `{command}` is not valid UTF-8 (first bad byte at offset {at}); \
                 invalid bytes were replaced with U+FFFD"
            ));
            String::from_utf8_lossy(e.as_bytes()).into_owned()
        }
    }
}

/// Runs the whole command list against a source.
pub fn collect(source: &mut dyn Source) -> Result<Collection, CollectError> {
    let mut b = Builder::new();
    b.facts.source = Some(source.label());
    let mut problems = Vec::new();
    let mut missing = 0;
    for spec in COMMANDS {
        match source.fetch(spec.command, &spec.file_name(), spec.vm_support)? {
            Output::Bytes(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => {
                missing += 1;
                b.facts.collection_notes.push(format!(
                    "not collected ({}): `{}` printed nothing (command absent on this release?)",
                    spec.gives, spec.command
                ));
            }
            Output::Bytes(bytes) => {
                let text = decode(spec.command, bytes, &mut b.facts.collection_notes);
                if let Err(e) = (spec.parser)(&text, &mut b) {
                    b.facts.collection_notes.push(format!("not read: {e}"));
                    problems.push(e);
                }
            }
            Output::Missing(why) => {
                missing += 1;
                b.facts.collection_notes.push(format!("not collected ({}): {why}", spec.gives));
            }
        }
    }
    if let Some(vms) = b.facts.vms.take() {
        let mut out = Vec::with_capacity(vms.len());
        for vm in vms {
            out.push(collect_vm(source, vm, &mut b.facts.collection_notes, &mut problems, &mut missing)?);
        }
        b.facts.vms = Some(out);
    }
    Ok(Collection { facts: b.finish(), problems, missing })
}

fn collect_vm(
    source: &mut dyn Source,
    mut vm: Vm,
    notes: &mut Vec<String>,
    problems: &mut Vec<ParseError>,
    missing: &mut usize,
) -> Result<Vm, CollectError> {
    let Some(id) = vm.id.clone() else { return Ok(vm) };
    for (prefix, sub) in PER_VM {
        let command = vimcmd::per_vm_command(sub, &id);
        let file = format!("{prefix}-{id}.txt");
        let text = match source.fetch(&command, &file, &[])? {
            // An empty get.snapshotinfo means "no snapshots"; empty others say nothing.
            Output::Bytes(bytes)
                if *sub != "get.snapshotinfo" && bytes.iter().all(u8::is_ascii_whitespace) =>
            {
                *missing += 1;
                notes.push(format!("not collected (VM {} {sub}): `{command}` printed nothing", vm.name));
                continue;
            }
            Output::Bytes(bytes) => decode(&command, bytes, notes),
            Output::Missing(why) => {
                *missing += 1;
                notes.push(format!("not collected (VM {} {sub}): {why}", vm.name));
                continue;
            }
        };
        let r = match *sub {
            "get.summary" => vimcmd::vm_summary(&id, &text).map(|s| {
                vm.power_state = s.power_state.or(vm.power_state);
                vm.hardware_version = vm.hardware_version.or(s.hardware_version);
                vm.tools_status = vm.tools_status.or(s.tools_status);
            }),
            "get.guest" => vimcmd::vm_guest(&id, &text).map(|g| {
                vm.tools_status = g.tools_status.or(vm.tools_status);
                vm.tools_version = g.tools_version;
            }),
            _ => vimcmd::vm_snapshots(&id, &text).map(|s| vm.snapshots = Some(s)),
        };
        if let Err(e) = r {
            notes.push(format!("not read: {e}"));
            problems.push(e);
        }
    }
    Ok(vm)
}

/// Shell lines that save every output of [`COMMANDS`] into `dir`, one file
/// per command under its [`CommandSpec::file_name`], for a host to run by
/// itself (the trial-install kickstart's `%firstboot`). The per-VM commands
/// are left out: a fresh install has no VMs.
pub fn save_lines(dir: &str) -> Vec<String> {
    let mut v = vec![format!("mkdir -p {dir}")];
    v.extend(COMMANDS.iter().map(|c| format!("{} > {dir}/{} 2>/dev/null", c.command, c.file_name())));
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_commands_are_unique_and_read_only() {
        let mut ids: Vec<&str> = COMMANDS.iter().map(|c| c.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), COMMANDS.len());
        for c in COMMANDS {
            for w in c.command.split_whitespace() {
                let bad = ["set", "install", "remove", "update", "enter", "reboot", "rm", ">"];
                assert!(!bad.contains(&w) && !w.starts_with("--set"), "{} is not read-only", c.command);
            }
        }
    }
}
