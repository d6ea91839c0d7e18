//! Collector: HostFacts from the vSphere API, for a standalone ESXi host or
//! for every HostSystem a vCenter manages.
//!
//! One ContainerView over the root folder and one paged RetrievePropertiesEx
//! bring the hosts, their VMs and datastores; the licence comes from the
//! LicenseManager (standalone) or the LicenseAssignmentManager (vCenter).
//! What the API cannot show (VIBs, image profile, boot device, firmware type,
//! Secure Boot, modules, altbootbank, ...) stays `None` with a collection
//! note; of the firmware it gives the TPM version and the system/BIOS vendor
//! and model.

use esxup_facts::{
    Cpu, CpuVendor, Datastore, Firmware, HostFacts, License, Nic, PciDevice, PowerState, Product,
    ServiceState, Snapshot, StorageAdapter, ToolsStatus, Vm, SCHEMA_VERSION,
};
use esxup_version::Date;
use esxup_vim::{Client, ConnectOptions, MoRef, Node, ObjectContent, PropSpec};
use std::collections::HashMap;

pub use esxup_vim::Error;

/// Host properties read in the one big retrieval.
pub const HOST_PATHS: &[&str] = &[
    "name",
    "summary.config.product",
    "config.product",
    "summary.hardware.cpuModel",
    "hardware.cpuInfo",
    "hardware.cpuFeature",
    "hardware.memorySize",
    "hardware.pciDevice",
    "config.network.pnic",
    "config.network.vnic",
    "config.network.vswitch",
    "config.network.portgroup",
    "config.network.proxySwitch",
    "config.storageDevice.hostBusAdapter",
    "config.service",
    "config.firewall",
    "runtime.inMaintenanceMode",
    "runtime.connectionState",
    "datastore",
    // The ComputeResource or ClusterComputeResource holding the host: its
    // cluster in a fleet report.
    "parent",
    // Whole objects, not their fields: `capability.tpmVersion` only exists
    // from API 6.7 on, and naming a field the server does not know fails
    // the whole retrieval on older hosts.
    "capability",
    "hardware.systemInfo",
    "hardware.biosInfo",
];

/// VM properties. `snapshot` is asked for as a whole: vcsim 0.24.2 leaves it
/// unset on VMs without snapshots, which the client treats as "none".
pub const VM_PATHS: &[&str] = &[
    "name",
    "runtime.host",
    "runtime.powerState",
    "config.version",
    "config.guestId",
    "config.template",
    "guest.toolsVersionStatus2",
    "guest.toolsVersion",
    "snapshot",
    "summary.config.vmPathName",
];

pub const DATASTORE_PATHS: &[&str] =
    &["summary.name", "summary.type", "summary.capacity", "summary.freeSpace", "info"];

/// What the vSphere API cannot tell; noted on every host collected this way.
const API_BLIND: &str = "not visible through the vSphere API (collect over SSH or from saved outputs): \
image profile, installed VIBs, acceptance level, boot device, firmware type (UEFI/BIOS), Secure Boot, \
TPM interface, loaded modules, altbootbank, persistent scratch, boot options";

/// Asks for a password on the terminal without echoing it.
pub fn prompt_password(prompt: &str) -> std::io::Result<String> {
    rpassword::prompt_password(prompt)
}

/// Connects, collects every host and logs out.
pub fn collect(opts: &ConnectOptions) -> Result<Vec<HostFacts>, Error> {
    let client = Client::connect(opts)?;
    let facts = collect_with(&client)?;
    let _ = client.logout();
    Ok(facts)
}

/// One host as a vCenter sees it: what a rolling run needs to keep at most
/// one host per cluster in maintenance mode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterMember {
    /// The HostSystem's name (what the host was added to the vCenter as).
    pub name: String,
    /// `summary.hardware.uuid`.
    pub uuid: Option<String>,
    /// The ClusterComputeResource holding it; `None` for a standalone host.
    pub cluster: Option<String>,
    /// `runtime.inMaintenanceMode`; `None` when the vCenter did not say.
    pub in_maintenance_mode: Option<bool>,
}

/// Every host of a vCenter with its cluster and maintenance mode (one
/// property retrieval: four properties of each host, the clusters' names).
pub fn cluster_members(opts: &ConnectOptions) -> Result<Vec<ClusterMember>, Error> {
    let client = Client::connect(opts)?;
    let mut hosts: Vec<(ClusterMember, Option<MoRef>)> = Vec::new();
    let mut clusters: HashMap<MoRef, String> = HashMap::new();
    client.retrieve_all_each(
        &[
            PropSpec {
                ty: "HostSystem",
                paths: &["name", "parent", "runtime.inMaintenanceMode", "summary.hardware.uuid"],
            },
            PropSpec { ty: "ClusterComputeResource", paths: &["name"] },
        ],
        &mut |o| match o.obj.ty.as_str() {
            "HostSystem" => {
                let text = |p: &str| o.prop(p).and_then(|n| n.text()).map(str::to_string);
                let member = ClusterMember {
                    name: host_name(&o),
                    uuid: text("summary.hardware.uuid"),
                    cluster: None,
                    in_maintenance_mode: text("runtime.inMaintenanceMode").map(|t| t == "true"),
                };
                hosts.push((member, o.prop("parent").and_then(moref_of)));
            }
            "ClusterComputeResource" => {
                clusters.insert(o.obj.clone(), host_name(&o));
            }
            _ => {}
        },
    )?;
    let _ = client.logout();
    let mut out: Vec<ClusterMember> = hosts
        .into_iter()
        .map(|(mut m, parent)| {
            m.cluster = parent.and_then(|p| clusters.get(&p)).cloned();
            m
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// Collects every host visible through `client` (one for a standalone host).
///
/// Objects are turned into facts as their page arrives, so the raw property
/// trees of a large vCenter are never all held at once.
pub fn collect_with(client: &Client) -> Result<Vec<HostFacts>, Error> {
    let mut hosts: HashMap<MoRef, (HostFacts, Vec<MoRef>)> = HashMap::new();
    let mut vms: HashMap<MoRef, (Option<MoRef>, Vm)> = HashMap::new();
    let mut datastores: HashMap<MoRef, Datastore> = HashMap::new();
    let mut clusters: HashMap<MoRef, String> = HashMap::new();
    let mut parents: HashMap<MoRef, MoRef> = HashMap::new();
    client.retrieve_all_each(
        &[
            PropSpec { ty: "HostSystem", paths: HOST_PATHS },
            PropSpec { ty: "VirtualMachine", paths: VM_PATHS },
            PropSpec { ty: "Datastore", paths: DATASTORE_PATHS },
            PropSpec { ty: "ClusterComputeResource", paths: &["name"] },
        ],
        &mut |o| match o.obj.ty.as_str() {
            "HostSystem" => {
                if let Some(p) = o.prop("parent").and_then(moref_of) {
                    parents.insert(o.obj.clone(), p);
                }
                let ds = o
                    .prop("datastore")
                    .map(|l| l.children.iter().filter_map(moref_of).collect())
                    .unwrap_or_default();
                hosts.insert(o.obj.clone(), (host_facts(&o), ds));
            }
            "VirtualMachine" if o.prop("config.template").and_then(|n| n.text()) != Some("true") => {
                vms.insert(o.obj.clone(), (o.prop("runtime.host").and_then(moref_of), vm_from(&o)));
            }
            "Datastore" => {
                datastores.insert(o.obj.clone(), datastore_from(&o));
            }
            "ClusterComputeResource" => {
                clusters.insert(o.obj.clone(), host_name(&o));
            }
            _ => {}
        },
    )?;
    let sc = client.service_content();
    let mut vms_by_host: HashMap<MoRef, Vec<Vm>> = HashMap::new();
    let mut vms_unplaced = 0usize;
    for (_, (host, vm)) in vms {
        match host {
            Some(h) => vms_by_host.entry(h).or_default().push(vm),
            None => vms_unplaced += 1,
        }
    }
    let mut hosts: Vec<(MoRef, HostFacts, Vec<MoRef>)> =
        hosts.into_iter().map(|(k, (f, d))| (k, f, d)).collect();
    hosts.sort_by(|a, b| a.1.hostname.cmp(&b.1.hostname).then_with(|| a.0.cmp(&b.0)));
    let refs: Vec<MoRef> = hosts.iter().map(|h| h.0.clone()).collect();
    let licenses = licenses(client, &refs);
    let today = Date::today().to_string();
    let mut out = Vec::with_capacity(hosts.len());
    for (moref, mut f, ds) in hosts {
        f.source = Some(if sc.is_vcenter() {
            format!("vim:{}#{}", client.url(), moref.value)
        } else {
            format!("vim:{}", client.url())
        });
        f.collected_on = Some(today.clone());
        f.cluster = parents.get(&moref).and_then(|p| clusters.get(p)).cloned();
        let mut d: Vec<Datastore> = ds.iter().filter_map(|r| datastores.get(r).cloned()).collect();
        d.sort_by(|a, b| a.name.cmp(&b.name));
        f.datastores = Some(d);
        let mut v = vms_by_host.remove(&moref).unwrap_or_default();
        v.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
        f.vms = Some(v);
        match licenses.get(&moref.value) {
            Some(Ok(l)) => f.license = Some(l.clone()),
            Some(Err(e)) => f.collection_notes.push(format!("licence not collected: {e}")),
            None => f.collection_notes.push("licence not collected: no assignment reported".to_string()),
        }
        if vms_unplaced > 0 && sc.is_vcenter() {
            f.collection_notes.push(format!("{vms_unplaced} VM(s) without a host were not attributed"));
        }
        out.push(f);
    }
    Ok(out)
}

fn host_name(o: &ObjectContent) -> String {
    o.prop("name").and_then(|n| n.text()).unwrap_or(&o.obj.value).to_string()
}

fn moref_of(n: &Node) -> Option<MoRef> {
    Some(MoRef { ty: n.mo_type.clone()?, value: n.text()?.to_string() })
}

/// Builds the facts of one HostSystem from its properties (datastores, VMs,
/// licence and source are filled in by [`collect_with`]).
pub fn host_facts(h: &ObjectContent) -> HostFacts {
    let mut f =
        HostFacts { schema_version: SCHEMA_VERSION, hostname: Some(host_name(h)), ..Default::default() };
    let notes = &mut f.collection_notes;
    for (path, fault) in &h.missing {
        notes.push(format!("property {path} not available: {}: {}", fault.kind, fault.message));
    }
    if let Some(state) = h.prop("runtime.connectionState").and_then(|n| n.text()) {
        if state != "connected" {
            notes.push(format!("host connection state is {state}: facts may be missing or stale"));
        }
    }
    let product_node = h.prop("summary.config.product").or_else(|| h.prop("config.product"));
    f.product = product_node.and_then(|p| product_from(p, notes));
    if f.product.is_none() {
        notes.push("product version/build not reported".to_string());
    }
    f.cpu = cpu_from(h, notes);
    f.memory_bytes = h.prop("hardware.memorySize").and_then(|n| n.text()).and_then(|t| t.parse().ok());
    let network = network_of(h);
    let hbas = h.prop("config.storageDevice.hostBusAdapter");
    f.nics = network.as_ref().map(|n| nics_from(n, notes));
    f.storage_adapters = hbas.map(|n| {
        n.children
            .iter()
            .map(|a| StorageAdapter {
                name: a.text_at("device").unwrap_or("").to_string(),
                driver: a.text_at("driver").map(str::to_string),
                pci_address: a.text_at("pci").map(str::to_string),
                description: a.text_at("model").map(str::to_string),
                boot: None,
            })
            .collect()
    });
    f.pci_devices =
        h.prop("hardware.pciDevice").map(|n| pci_from(n, f.nics.as_deref(), f.storage_adapters.as_deref()));
    if f.pci_devices.as_ref().is_some_and(|d| !d.is_empty()) {
        notes.push(
            "pci class: the API reports class and subclass only (no programming interface); left unknown"
                .into(),
        );
    }
    f.slpd = slpd_from(h.prop("config.service"), h.prop("config.firewall"), notes);
    f.maintenance_mode = h.prop("runtime.inMaintenanceMode").and_then(|n| n.bool_at(""));
    f.firmware = firmware_from(h);
    notes.push(API_BLIND.to_string());
    notes.push("snapshot sizes are not collected through the API".to_string());
    f
}

/// What the API tells of the firmware: the TPM (HostCapability.tpmSupported,
/// and tpmVersion from API 6.7 on) and the system and BIOS vendor/model.
/// Firmware type and Secure Boot stay unknown (SSH or saved outputs).
fn firmware_from(h: &ObjectContent) -> Option<Firmware> {
    let cap = h.prop("capability");
    let sys = h.prop("hardware.systemInfo");
    let bios = h.prop("hardware.biosInfo");
    if cap.is_none() && sys.is_none() && bios.is_none() {
        return None;
    }
    let text = |n: Option<&Node>, field: &str| {
        n.and_then(|n| n.text_at(field)).map(str::trim).filter(|t| !t.is_empty()).map(str::to_string)
    };
    let tpm_version = text(cap, "tpmVersion");
    // tpmSupported alone does not say which TPM; a version says there is one.
    let tpm_present = match (cap.and_then(|c| c.bool_at("tpmSupported")), &tpm_version) {
        (_, Some(_)) => Some(true),
        (Some(false), None) => Some(false),
        _ => None,
    };
    Some(Firmware {
        tpm_present,
        tpm_version,
        system_vendor: text(sys, "vendor"),
        system_model: text(sys, "model"),
        bios_vendor: text(bios, "vendor"),
        bios_version: text(bios, "biosVersion"),
        ..Firmware::default()
    })
}

/// `config.network` rebuilt from its parts (asked for separately to keep
/// DNS, routes and netstacks out of the answer): children named like the
/// fields of HostNetworkInfo (`pnic`, `vnic`, `vswitch`, `portgroup`, `proxySwitch`).
fn network_of(h: &ObjectContent) -> Option<Node> {
    let mut net = Node { name: "network".into(), ..Default::default() };
    let mut any = false;
    for field in ["pnic", "vnic", "vswitch", "portgroup", "proxySwitch"] {
        if let Some(v) = h.prop(&format!("config.network.{field}")) {
            any = true;
            for c in &v.children {
                let mut c = c.clone();
                c.name = field.to_string();
                net.children.push(c);
            }
        }
    }
    any.then_some(net)
}

fn product_from(p: &Node, notes: &mut Vec<String>) -> Option<Product> {
    let version = p.text_at("version")?;
    let build = p.text_at("build")?;
    let (Ok(v), Ok(b)) = (version.parse(), build.parse::<u32>()) else {
        notes.push(format!("product version {version:?} build {build:?} not understood"));
        return None;
    };
    Some(Product {
        version: v,
        build: b,
        update: None,
        patch: None,
        full_name: p.text_at("fullName").map(str::to_string),
    })
}

/// A CPUID register as the API writes it: `0000:0000:0000:0010:...` (MSB first).
fn register(s: &str) -> Option<u32> {
    let bits: String = s.chars().filter(|c| *c != ':').collect();
    if bits.len() != 32 {
        return None;
    }
    u32::from_str_radix(&bits, 2).ok()
}

fn cpu_from(h: &ObjectContent, notes: &mut Vec<String>) -> Option<Cpu> {
    let info = h.prop("hardware.cpuInfo");
    let features = h.prop("hardware.cpuFeature");
    let brand = h.prop("summary.hardware.cpuModel").and_then(|n| n.text());
    if info.is_none() && features.is_none() && brand.is_none() {
        return None;
    }
    let mut cpu = Cpu {
        vendor: None,
        family: None,
        model: None,
        stepping: None,
        brand: brand.map(|d| d.split_whitespace().collect::<Vec<_>>().join(" ")),
        sockets: info.and_then(|i| i.parse_at("numCpuPackages")),
        cores: info.and_then(|i| i.parse_at("numCpuCores")),
        threads: info.and_then(|i| i.parse_at("numCpuThreads")),
        nx: None,
        hv: None,
        xsave: None,
    };
    if let Some(feat) = features {
        for leaf in feat.children.iter() {
            let Some(level) = leaf.text_at("level").and_then(|l| l.parse::<i64>().ok()) else { continue };
            let level = (level as u32) as i64; // -2147483647 is 0x80000001
            let reg = |r: &str| leaf.text_at(r).and_then(register);
            if level == 0 {
                // The vendor string is EBX, EDX, ECX as little-endian ASCII.
                if let (Some(b), Some(d), Some(c)) = (reg("ebx"), reg("edx"), reg("ecx")) {
                    let mut v = Vec::with_capacity(12);
                    for r in [b, d, c] {
                        v.extend_from_slice(&r.to_le_bytes());
                    }
                    cpu.vendor = Some(match &v[..] {
                        b"GenuineIntel" => CpuVendor::Intel,
                        b"AuthenticAMD" => CpuVendor::Amd,
                        _ => CpuVendor::Other,
                    });
                }
            } else if level == 1 {
                if let Some(eax) = reg("eax") {
                    let base_family = (eax >> 8) & 0xf;
                    let mut family = base_family;
                    if base_family == 0xf {
                        family += (eax >> 20) & 0xff;
                    }
                    let mut model = (eax >> 4) & 0xf;
                    if base_family == 0x6 || base_family == 0xf {
                        model |= ((eax >> 16) & 0xf) << 4;
                    }
                    cpu.family = Some(family);
                    cpu.model = Some(model);
                    cpu.stepping = Some(eax & 0xf);
                }
                if let Some(ecx) = reg("ecx") {
                    cpu.xsave = Some(ecx & (1 << 26) != 0);
                }
            } else if level == 0x8000_0001 {
                if let Some(edx) = reg("edx") {
                    cpu.nx = Some(edx & (1 << 20) != 0);
                }
            }
        }
    } else {
        notes.push(
            "CPUID (hardware.cpuFeature) not reported: vendor/family/model/NX/XSAVE unknown".to_string(),
        );
    }
    notes.push(
        "cpu.hv: the API does not say whether VT-x/AMD-V is enabled in firmware; left unknown".to_string(),
    );
    Some(cpu)
}

fn nics_from(net: &Node, notes: &mut Vec<String>) -> Vec<Nic> {
    // Which uplinks carry vmk0: vmk0 -> port group -> vSwitch -> pnic keys,
    // or vmk0 -> distributed port -> proxy switch -> pnic keys.
    let vmk0 = net.children_named("vnic").find(|v| v.text_at("device") == Some("vmk0"));
    let mut mgmt_keys: Option<Vec<String>> = None;
    if let Some(v) = vmk0 {
        if let Some(uuid) = v.text_at("spec.distributedVirtualPort.switchUuid") {
            mgmt_keys = net
                .children_named("proxySwitch")
                .find(|p| p.text_at("dvsUuid") == Some(uuid))
                .map(|p| p.children_named("pnic").filter_map(|k| k.text().map(str::to_string)).collect());
        } else if let Some(pg) = v.text_at("portgroup").or_else(|| v.text_at("spec.portgroup")) {
            let vswitch_key = net
                .children_named("portgroup")
                .find(|p| p.text_at("spec.name") == Some(pg))
                .and_then(|p| p.text_at("vswitch"))
                .map(str::to_string);
            let vswitch_name = net
                .children_named("portgroup")
                .find(|p| p.text_at("spec.name") == Some(pg))
                .and_then(|p| p.text_at("spec.vswitchName"))
                .map(str::to_string);
            mgmt_keys = net
                .children_named("vswitch")
                .find(|s| {
                    (vswitch_key.is_some() && s.text_at("key") == vswitch_key.as_deref())
                        || (vswitch_name.is_some() && s.text_at("name") == vswitch_name.as_deref())
                })
                .map(|s| s.children_named("pnic").filter_map(|k| k.text().map(str::to_string)).collect());
        }
    }
    if mgmt_keys.is_none() {
        notes.push("management uplink: could not follow vmk0 to its switch; left unknown".to_string());
    }
    net.children_named("pnic")
        .map(|p| {
            let key = p.text_at("key").unwrap_or("");
            let speed = p.parse_at::<u32>("linkSpeed.speedMb");
            Nic {
                name: p.text_at("device").unwrap_or("").to_string(),
                pci_address: p.text_at("pci").map(str::to_string),
                driver: p.text_at("driver").map(str::to_string),
                link_up: Some(speed.is_some()),
                speed_mbps: speed,
                mac: p.text_at("mac").map(str::to_string),
                description: None,
                management: mgmt_keys.as_ref().map(|k| k.iter().any(|x| x == key)),
            }
        })
        .collect()
}

/// vim25 `short` ids come signed (`-32634` is 0x8086).
fn short_id(n: &Node, path: &str) -> Option<u16> {
    n.text_at(path).and_then(|t| t.parse::<i32>().ok()).map(|v| v as u16)
}

fn pci_from(list: &Node, nics: Option<&[Nic]>, hbas: Option<&[StorageAdapter]>) -> Vec<PciDevice> {
    list.children
        .iter()
        .filter_map(|d| {
            let address = d.text_at("id")?.to_string();
            let nic = nics.and_then(|n| n.iter().find(|n| n.pci_address.as_deref() == Some(&address)));
            let hba = hbas.and_then(|h| h.iter().find(|h| h.pci_address.as_deref() == Some(&address)));
            Some(PciDevice {
                vendor_id: short_id(d, "vendorId")?,
                device_id: short_id(d, "deviceId")?,
                subvendor_id: short_id(d, "subVendorId"),
                subdevice_id: short_id(d, "subDeviceId"),
                class: None,
                vendor_name: d.text_at("vendorName").map(str::to_string),
                device_name: d.text_at("deviceName").map(str::to_string),
                driver: nic.and_then(|n| n.driver.clone()).or_else(|| hba.and_then(|h| h.driver.clone())),
                vmkernel_name: nic.map(|n| n.name.clone()).or_else(|| hba.map(|h| h.name.clone())),
                address,
            })
        })
        .collect()
}

fn slpd_from(
    services: Option<&Node>,
    firewall: Option<&Node>,
    notes: &mut Vec<String>,
) -> Option<ServiceState> {
    let services = services?;
    let Some(s) = services.children_named("service").find(|s| s.text_at("key") == Some("slpd")) else {
        notes.push("slpd: not in the host's service list; left unknown".to_string());
        return None;
    };
    let firewall_enabled = firewall.and_then(|fw| {
        fw.children_named("ruleset")
            .find(|r| r.text_at("key") == Some("CIMSLP"))
            .and_then(|r| r.bool_at("enabled"))
    });
    Some(ServiceState {
        running: s.bool_at("running"),
        policy: s.text_at("policy").map(str::to_string),
        firewall_enabled,
    })
}

fn datastore_from(o: &ObjectContent) -> Datastore {
    let text = |p: &str| o.prop(p).and_then(|n| n.text()).map(str::to_string);
    let info = o.prop("info");
    Datastore {
        name: text("summary.name").unwrap_or_else(|| o.obj.value.clone()),
        kind: text("summary.type"),
        vmfs_version: info.and_then(|i| i.parse_at("vmfs.majorVersion")),
        capacity_bytes: text("summary.capacity").and_then(|t| t.parse().ok()),
        free_bytes: text("summary.freeSpace").and_then(|t| t.parse().ok()),
        on_boot_device: None,
    }
}

fn vm_from(o: &ObjectContent) -> Vm {
    let text = |p: &str| o.prop(p).and_then(|n| n.text()).map(str::to_string);
    let datastore = text("summary.config.vmPathName")
        .and_then(|p| p.strip_prefix('[').and_then(|r| r.split_once(']')).map(|(d, _)| d.to_string()));
    let snapshots = match o.prop("snapshot") {
        Some(s) => {
            let mut out = Vec::new();
            flatten_snapshots(s.children_named("rootSnapshotList"), &mut out);
            out
        }
        None => Vec::new(),
    };
    Vm {
        name: text("name").unwrap_or_else(|| o.obj.value.clone()),
        id: Some(o.obj.value.clone()),
        power_state: text("runtime.powerState").and_then(|p| match p.as_str() {
            "poweredOn" => Some(PowerState::PoweredOn),
            "poweredOff" => Some(PowerState::PoweredOff),
            "suspended" => Some(PowerState::Suspended),
            _ => None,
        }),
        hardware_version: text("config.version")
            .and_then(|v| v.strip_prefix("vmx-").and_then(|n| n.parse().ok())),
        guest_os: text("config.guestId"),
        tools_status: text("guest.toolsVersionStatus2").map(|s| tools_status(&s)),
        tools_version: text("guest.toolsVersion"),
        datastore,
        snapshots: if o.missing.iter().any(|(p, _)| p == "snapshot") { None } else { Some(snapshots) },
    }
}

fn flatten_snapshots<'a>(nodes: impl Iterator<Item = &'a Node>, out: &mut Vec<Snapshot>) {
    for n in nodes {
        out.push(Snapshot {
            name: n.text_at("name").unwrap_or("").to_string(),
            created: n.text_at("createTime").and_then(|t| t.get(..10)).and_then(|d| d.parse().ok()),
            size_bytes: None,
        });
        flatten_snapshots(n.children_named("childSnapshotList"), out);
    }
}

/// Maps `toolsVersionStatus2` values.
pub fn tools_status(s: &str) -> ToolsStatus {
    match s {
        "guestToolsNotInstalled" => ToolsStatus::NotInstalled,
        "guestToolsCurrent" => ToolsStatus::Current,
        "guestToolsSupportedOld" | "guestToolsNeedUpgrade" => ToolsStatus::SupportedOld,
        "guestToolsSupportedNew" => ToolsStatus::SupportedNew,
        "guestToolsTooOld" => ToolsStatus::TooOld,
        "guestToolsTooNew" => ToolsStatus::TooNew,
        "guestToolsUnmanaged" => ToolsStatus::Unmanaged,
        "guestToolsBlacklisted" => ToolsStatus::Blacklisted,
        _ => ToolsStatus::Unknown,
    }
}

/// `AAAAA-BBBBB-CCCCC-DDDDD-EEEEE` -> `*****-*****-*****-*****-EEEEE`.
pub fn mask_key(key: &str) -> String {
    let groups: Vec<&str> = key.split('-').collect();
    let n = groups.len();
    groups
        .iter()
        .enumerate()
        .map(|(i, g)| if i + 1 == n { g.to_string() } else { "*".repeat(g.len()) })
        .collect::<Vec<_>>()
        .join("-")
}

fn license_from(n: &Node) -> License {
    let expires = n
        .children_named("properties")
        .find(|p| p.text_at("key") == Some("expirationDate"))
        .and_then(|p| p.text_at("value"))
        .and_then(|t| t.get(..10))
        .and_then(|d| d.parse().ok());
    License {
        edition: n.text_at("name").map(str::to_string),
        product_major: None,
        expires,
        key_masked: n.text_at("licenseKey").map(mask_key),
    }
}

/// Parallel per-host licence queries.
const LICENSE_QUERIES_AT_ONCE: usize = 8;

/// Licence per host moid: the LicenseManager's licences on a standalone host,
/// the LicenseAssignmentManager's assignments on a vCenter.
fn licenses(client: &Client, hosts: &[MoRef]) -> HashMap<String, Result<License, String>> {
    let mut out = HashMap::new();
    let sc = client.service_content();
    let Some(lm) = sc.license_manager.clone() else { return out };
    if !sc.is_vcenter() {
        let r = client.retrieve_one(&lm, &["licenses"]).map_err(|e| e.to_string()).and_then(|oc| {
            oc.prop("licenses")
                .and_then(|l| l.children.first())
                .map(license_from)
                .ok_or_else(|| "no licence reported".to_string())
        });
        for h in hosts {
            out.insert(h.value.clone(), r.clone());
        }
        return out;
    }
    let lam = match client.retrieve_one(&lm, &["licenseAssignmentManager"]) {
        Ok(oc) => oc.prop("licenseAssignmentManager").and_then(moref_of),
        Err(e) => {
            for h in hosts {
                out.insert(h.value.clone(), Err(e.to_string()));
            }
            return out;
        }
    };
    let Some(lam) = lam else { return out };
    // One query for all assignments; hosts it does not name are asked one by one.
    if let Ok(Some(all)) = client.invoke("QueryAssignedLicenses", &lam, "") {
        for a in all
            .children_named("returnval")
            .chain(std::iter::once(&all).filter(|a| a.child("entityId").is_some()))
        {
            if let (Some(id), Some(l)) = (a.text_at("entityId"), a.child("assignedLicense")) {
                out.insert(id.to_string(), Ok(license_from(l)));
            }
        }
    }
    // Hosts the bulk answer did not name: ask per host, a few at a time on
    // the one session (the agent keeps a connection per thread).
    let todo: Vec<&MoRef> = hosts.iter().filter(|h| !out.contains_key(&h.value)).collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let found = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..todo.len().min(LICENSE_QUERIES_AT_ONCE) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some(h) = todo.get(i) else { break };
                let args = format!("<entityId>{}</entityId>", esxup_vim::xml::escape(&h.value));
                let r = client
                    .invoke("QueryAssignedLicenses", &lam, &args)
                    .map_err(|e| e.to_string())
                    .and_then(|rv| {
                        rv.as_ref()
                            .and_then(|a| a.child("assignedLicense"))
                            .map(license_from)
                            .ok_or_else(|| "no licence assigned".to_string())
                    });
                if let Ok(mut f) = found.lock() {
                    f.push((h.value.clone(), r));
                }
            });
        }
    });
    out.extend(found.into_inner().unwrap_or_default());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_cpuid_registers() {
        // vcsim's template host: level 1 eax 0x000206D7 = family 6, model 0x2D, stepping 7.
        let eax = register("0000:0000:0000:0010:0000:0110:1101:0111").unwrap();
        assert_eq!(eax, 0x0002_06D7);
        assert!(register("0101").is_none());
    }

    #[test]
    fn masks_keys_and_maps_tools() {
        assert_eq!(mask_key("AAAAA-BBBBB-CCCCC-DDDDD-EEEEE"), "*****-*****-*****-*****-EEEEE");
        assert_eq!(tools_status("guestToolsSupportedOld"), ToolsStatus::SupportedOld);
        assert_eq!(tools_status("somethingNew"), ToolsStatus::Unknown);
    }
}
