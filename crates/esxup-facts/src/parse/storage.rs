//! `esxcli storage ...`: HBAs, disks (which one boots), paths (disk to HBA),
//! and mounted filesystems (datastores, OSDATA, bootbanks).

use super::{field_records, non_placeholder, nonempty_records, parse_bool, ParseError};
use crate::model::{BootDevice, BootMedia, Datastore, StorageAdapter};

pub const ADAPTER_LIST: &str = "esxcli storage core adapter list";
pub const DEVICE_LIST: &str = "esxcli storage core device list";
pub const PATH_LIST: &str = "esxcli storage core path list";
pub const FILESYSTEM_LIST: &str = "esxcli storage filesystem list";

/// `esxcli storage core adapter list`. The PCI address is read from the
/// `(0000:65:00.0)` that opens the description, when present.
pub fn adapter_list(text: &str) -> Result<Vec<StorageAdapter>, ParseError> {
    let c = ADAPTER_LIST;
    let recs = nonempty_records(c, text)?;
    recs.iter()
        .map(|r| {
            let [name, driver] = r.require_cells(c, ["HBA Name", "Driver"])?;
            let mut desc = r.get("Description").and_then(non_placeholder);
            // A table whose spacing was lost shifts the `(pci address)` of the
            // description into the (usually empty) Capabilities column.
            if let Some(cap) = r.get("Capabilities").filter(|c| c.starts_with('(')) {
                desc = Some(format!("{cap} {}", desc.unwrap_or_default()).trim().to_string());
            }
            let pci = desc.as_deref().and_then(|d| {
                let inner = d.strip_prefix('(')?.split(')').next()?;
                (inner.matches(':').count() == 2).then(|| inner.to_string())
            });
            Ok(StorageAdapter {
                name: name.to_string(),
                driver: Some(driver.to_string()),
                pci_address: pci,
                description: desc,
                boot: None,
            })
        })
        .collect()
}

/// One disk of `esxcli storage core device list`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Disk {
    pub id: String,
    pub display_name: Option<String>,
    /// Size in MiB as esxcli prints it.
    pub size_mb: Option<u64>,
    pub model: Option<String>,
    pub is_local: Option<bool>,
    pub is_usb: Option<bool>,
    pub is_boot: Option<bool>,
    pub is_boot_usb: Option<bool>,
}

pub fn device_list(text: &str) -> Result<Vec<Disk>, ParseError> {
    let c = DEVICE_LIST;
    let recs = field_records(c, text)?;
    recs.iter()
        .map(|r| {
            let id = r.get_or_title("Device").ok_or_else(|| {
                ParseError::new(c, r.line, "device without a name line (output truncated?)")
            })?;
            // Every device block of every release has `Size` and `Is Local`;
            // a block without them was cut short.
            r.require(c, "Size")?;
            r.require(c, "Is Local")?;
            Ok(Disk {
                id,
                display_name: r.get("Display Name").and_then(non_placeholder),
                size_mb: r.get("Size").and_then(|s| s.trim().parse().ok()),
                model: r.get("Model").and_then(non_placeholder),
                is_local: r.get("Is Local").and_then(parse_bool),
                is_usb: r.get("Is USB").and_then(parse_bool),
                is_boot: r.get("Is Boot Device").and_then(parse_bool),
                is_boot_usb: r.get("Is Boot USB Device").and_then(parse_bool),
            })
        })
        .collect()
}

/// `(device, adapter)` pairs of `esxcli storage core path list`.
pub fn path_list(text: &str) -> Result<Vec<(String, String)>, ParseError> {
    let c = PATH_LIST;
    let recs = field_records(c, text)?;
    recs.iter()
        .map(|r| Ok((r.require(c, "Device")?.to_string(), r.require(c, "Adapter")?.to_string())))
        .collect()
}

/// The boot device from the disks (and paths, to name its HBA). `None` when
/// no disk is marked as the boot device (e.g. PXE-booted or an old release).
pub fn boot_device(disks: &[Disk], paths: Option<&[(String, String)]>) -> Option<BootDevice> {
    let d = disks
        .iter()
        .find(|d| d.is_boot == Some(true))
        .or_else(|| disks.iter().find(|d| d.is_boot_usb == Some(true)))?;
    let media = match (d.is_usb.or(d.is_boot_usb), d.is_local) {
        (Some(true), _) => Some(BootMedia::Usb),
        (_, Some(false)) => Some(BootMedia::San),
        (Some(false), Some(true)) => Some(BootMedia::LocalDisk),
        _ => None,
    };
    let adapter =
        paths.and_then(|p| p.iter().find(|(dev, _)| *dev == d.id).map(|(_, a)| a.clone())).or_else(|| {
            // `mpx.vmhba32:C0:T0:L0` names its adapter.
            let rest = d.id.strip_prefix("mpx.")?;
            rest.split(':').next().filter(|a| a.starts_with("vmhba")).map(str::to_string)
        });
    Some(BootDevice {
        media,
        device: Some(d.id.clone()),
        size_bytes: d.size_mb.map(|m| m * 1024 * 1024),
        model: d.model.clone(),
        adapter,
    })
}

/// `esxcli storage filesystem list`: every mounted volume. `kind` is the
/// filesystem family (`VMFS`, `NFS`, `NFS41`, `vsan`, `vvol`, `OSDATA` for
/// `VMFSOS`/`VMFS-L`/`VFFS`, `vfat`), `vmfs_version` the N of `VMFS-N`.
pub fn filesystem_list(text: &str) -> Result<Vec<Datastore>, ParseError> {
    let c = FILESYSTEM_LIST;
    let recs = nonempty_records(c, text)?;
    recs.iter()
        .map(|r| {
            let [ty, size] = r.require_cells(c, ["Type", "Size"])?;
            let name = r
                .get("Volume Name")
                .and_then(non_placeholder)
                .or_else(|| r.get("Mount Point").and_then(non_placeholder))
                .ok_or_else(|| ParseError::new(c, r.line, "volume without name or mount point"))?;
            let (kind, vmfs_version) = match ty {
                t if t.starts_with("VMFS-") && t[5..].parse::<u32>().is_ok() => {
                    ("VMFS".to_string(), t[5..].parse().ok())
                }
                "VMFSOS" | "VMFS-L" | "VFFS" => ("OSDATA".to_string(), None),
                t => (t.to_string(), None),
            };
            Ok(Datastore {
                name,
                kind: Some(kind),
                vmfs_version,
                capacity_bytes: size.trim().parse().ok(),
                free_bytes: r.get("Free").and_then(|s| s.trim().parse().ok()),
                on_boot_device: None,
            })
        })
        .collect()
}
