//! The HostFacts model (schema version 1).

use esxup_version::{Date, Version};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Version of the facts file layout. Bump it on any incompatible change and
/// teach the loader to migrate or refuse older files.
pub const SCHEMA_VERSION: u32 = 1;

/// Everything esxup knows about one host. `None` = not collected / unknown.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HostFacts {
    /// Always [`SCHEMA_VERSION`] when written by this esxup.
    pub schema_version: u32,
    /// Host name as the host or the inventory names it.
    pub hostname: Option<String>,
    /// The vCenter cluster the host belongs to (`None`: standalone, or not
    /// collected through a vCenter).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    /// Where these facts came from (`vim:https://...`, `ssh:root@host`, `dir:PATH`, `example:seed`).
    pub source: Option<String>,
    /// When the facts were collected (UTC date).
    pub collected_on: Option<String>,
    pub product: Option<Product>,
    /// Installed image profile name (`esxcli software profile get`).
    pub image_profile: Option<String>,
    /// Installed VIBs (`esxcli software vib list`); `None` if not collected.
    pub vibs: Option<Vec<InstalledVib>>,
    /// Host acceptance level (`esxcli software acceptance get`).
    pub acceptance_level: Option<AcceptanceLevel>,
    pub cpu: Option<Cpu>,
    /// Physical memory in bytes.
    pub memory_bytes: Option<u64>,
    pub pci_devices: Option<Vec<PciDevice>>,
    pub nics: Option<Vec<Nic>>,
    pub storage_adapters: Option<Vec<StorageAdapter>>,
    pub boot_device: Option<BootDevice>,
    pub firmware: Option<Firmware>,
    /// Loaded kernel modules (`esxcli system module list` / `vmkload_mod -l`).
    pub modules: Option<Vec<Module>>,
    /// State of the SLP daemon (CVE-2021-21974 workaround, KB 76372).
    pub slpd: Option<ServiceState>,
    /// The alternate bootbank: what Shift+R at boot would bring back.
    pub altbootbank: Option<AltBootbank>,
    pub datastores: Option<Vec<Datastore>>,
    pub vms: Option<Vec<Vm>>,
    pub license: Option<License>,
    pub maintenance_mode: Option<bool>,
    /// Whether a persistent scratch / OSData location exists (not on USB/SD).
    pub persistent_scratch: Option<bool>,
    /// Kernel boot options set on the host, e.g. `allowLegacyCPU=true`.
    pub boot_options: Option<Vec<String>>,
    /// Free-form notes from the collector: what it could not see and why.
    #[serde(default)]
    pub collection_notes: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Product {
    /// `7.0.3`
    #[schemars(with = "String")]
    pub version: Version,
    /// `20328353`
    pub build: u32,
    /// `esxcli system version get` "Update" line (`3`), if seen.
    pub update: Option<String>,
    /// `esxcli system version get` "Patch" line (`55`), if seen.
    pub patch: Option<String>,
    /// Full name, e.g. `VMware ESXi 7.0.3 build-20328353`.
    pub full_name: Option<String>,
}

/// Acceptance levels, lowest trust first so that `Ord` matches VMware's:
/// CommunitySupported < PartnerSupported < VMwareAccepted < VMwareCertified.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
pub enum AcceptanceLevel {
    CommunitySupported,
    PartnerSupported,
    VMwareAccepted,
    VMwareCertified,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InstalledVib {
    pub name: String,
    pub version: String,
    pub vendor: String,
    pub acceptance_level: Option<AcceptanceLevel>,
    #[schemars(with = "Option<String>")]
    pub install_date: Option<Date>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum CpuVendor {
    Intel,
    Amd,
    Other,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Cpu {
    pub vendor: Option<CpuVendor>,
    /// CPUID family (e.g. 6 for all modern Intel; 0x15/0x17/0x19 for AMD).
    pub family: Option<u32>,
    /// CPUID model (e.g. 0x2A Sandy Bridge, 0x3A Ivy Bridge).
    pub model: Option<u32>,
    pub stepping: Option<u32>,
    pub brand: Option<String>,
    pub sockets: Option<u32>,
    /// Physical cores in the whole host.
    pub cores: Option<u32>,
    pub threads: Option<u32>,
    /// NX/XD bit enabled.
    pub nx: Option<bool>,
    /// VT-x / AMD-V available and enabled.
    pub hv: Option<bool>,
    /// XSAVE supported (required by 8.0 U2 even with allowLegacyCPU).
    pub xsave: Option<bool>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PciDevice {
    /// `0000:03:00.0`
    pub address: String,
    pub vendor_id: u16,
    pub device_id: u16,
    pub subvendor_id: Option<u16>,
    pub subdevice_id: Option<u16>,
    /// Class code as 6 hex digits' value, e.g. 0x020000 Ethernet, 0x010601 AHCI.
    pub class: Option<u32>,
    pub vendor_name: Option<String>,
    pub device_name: Option<String>,
    /// Driver (module) bound to the device, if any.
    pub driver: Option<String>,
    /// VMkernel name (`vmnic0`, `vmhba1`), if any.
    pub vmkernel_name: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Nic {
    /// `vmnic0`
    pub name: String,
    pub pci_address: Option<String>,
    pub driver: Option<String>,
    pub link_up: Option<bool>,
    pub speed_mbps: Option<u32>,
    pub mac: Option<String>,
    pub description: Option<String>,
    /// This uplink carries the management network (vmk0's vSwitch).
    pub management: Option<bool>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StorageAdapter {
    /// `vmhba0`
    pub name: String,
    pub driver: Option<String>,
    pub pci_address: Option<String>,
    pub description: Option<String>,
    /// The boot device is behind this adapter.
    pub boot: Option<bool>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum BootMedia {
    Usb,
    SdCard,
    LocalDisk,
    San,
    Pxe,
    Other,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BootDevice {
    pub media: Option<BootMedia>,
    /// Device identifier (`mpx.vmhba32:C0:T0:L0`, `t10.ATA...`).
    pub device: Option<String>,
    pub size_bytes: Option<u64>,
    pub model: Option<String>,
    /// Adapter name holding it (`vmhba32`).
    pub adapter: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum FirmwareType {
    Uefi,
    Bios,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Firmware {
    pub kind: Option<FirmwareType>,
    pub secure_boot: Option<bool>,
    /// A TPM is present.
    pub tpm_present: Option<bool>,
    /// `2.0`, `1.2`
    pub tpm_version: Option<String>,
    /// TPM interface (`CRB`, `FIFO`/`TIS`): NUCs with CRB-only TPM fail after 8.0.
    pub tpm_interface: Option<String>,
    pub bios_vendor: Option<String>,
    pub bios_version: Option<String>,
    pub system_vendor: Option<String>,
    pub system_model: Option<String>,
    /// `secureBoot.py -c`: Secure Boot could be enabled (all VIB signatures
    /// verify, no CommunitySupported VIB). Added after schema version 1 was
    /// first published; optional, so older files still load.
    #[serde(default)]
    pub secure_boot_can_be_enabled: Option<bool>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Module {
    pub name: String,
    pub loaded: Option<bool>,
    /// A vmklinux (Linux-compat) driver: gone in 7.0.
    pub vmklinux: Option<bool>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceState {
    pub running: Option<bool>,
    /// Start policy: `on`, `off`, `automatic`.
    pub policy: Option<String>,
    /// The firewall ruleset (e.g. CIMSLP) is enabled.
    pub firewall_enabled: Option<bool>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AltBootbank {
    /// Build in `/altbootbank/boot.cfg` (what Shift+R brings back).
    pub build: Option<u32>,
    #[schemars(with = "Option<String>")]
    pub version: Option<Version>,
    /// `bootstate=` in altbootbank boot.cfg: 1 = an update waits for a reboot.
    pub bootstate: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Datastore {
    pub name: String,
    /// `VMFS`, `NFS`, `NFS41`, `vsan`, `vvol`, `OSDATA`.
    pub kind: Option<String>,
    /// VMFS major version (3, 5, 6).
    pub vmfs_version: Option<u32>,
    pub capacity_bytes: Option<u64>,
    pub free_bytes: Option<u64>,
    /// Backed by the boot device (local datastore on the boot disk).
    pub on_boot_device: Option<bool>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum PowerState {
    PoweredOn,
    PoweredOff,
    Suspended,
}

/// VMware Tools status, after the API's `toolsVersionStatus2`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ToolsStatus {
    NotInstalled,
    Current,
    SupportedOld,
    SupportedNew,
    TooOld,
    TooNew,
    Unmanaged,
    Blacklisted,
    Unknown,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Vm {
    pub name: String,
    /// `vim-cmd vmsvc/getallvms` Vmid / managed object id.
    pub id: Option<String>,
    pub power_state: Option<PowerState>,
    /// `vmx-14` -> 14
    pub hardware_version: Option<u32>,
    pub guest_os: Option<String>,
    pub tools_status: Option<ToolsStatus>,
    /// Tools version number as the API reports it (e.g. 11365).
    pub tools_version: Option<String>,
    pub datastore: Option<String>,
    /// `None` = not collected; `Some(vec![])` = collected, none.
    pub snapshots: Option<Vec<Snapshot>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    pub name: String,
    #[schemars(with = "Option<String>")]
    pub created: Option<Date>,
    pub size_bytes: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct License {
    /// e.g. `vSphere 7 Enterprise Plus`, `vSphere Hypervisor` (free), `Evaluation Mode`.
    pub edition: Option<String>,
    /// Major version the key is for (6, 7, 8).
    pub product_major: Option<u8>,
    #[schemars(with = "Option<String>")]
    pub expires: Option<Date>,
    /// The key with all but the last group masked (`*****-*****-*****-*****-ABCDE`).
    pub key_masked: Option<String>,
}

/// Whether a licence edition name is the free vSphere Hypervisor (`vSphere
/// 7 Hypervisor`, vmodl key `esx.hypervisor.cpuPackageCoreLimited`: fixture
/// license-show/7.0-hypervisor.txt). The free licence makes the vSphere API
/// read-only. The one test of "free licence", for the check and the runner.
pub fn is_free_edition(edition: &str) -> bool {
    let e = edition.to_ascii_lowercase();
    e.contains("hypervisor") || e.contains("free")
}
