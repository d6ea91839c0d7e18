//! `esxup iso inspect`: what an ESXi installer ISO holds: version and build
//! (from `BOOT.CFG`'s `build=` line), the image profile and its VIBs (from
//! `UPGRADE/METADATA.ZIP` or `IMGDB.TGZ`, read by the depot engine, so that
//! `--iso` and `--depot` give the same answers), the UEFI loader and its
//! sha256, and the VIBs a customised ISO added to VMware's.

use crate::bootcfg::BootCfg;
use crate::error::MediaError;
use esxup_depot::iso::IsoImage;
use esxup_depot::Depot;
use sha2::{Digest, Sha256};
use std::path::Path;

/// The UEFI boot loader of the image.
#[derive(Clone, Debug, serde::Serialize, schemars::JsonSchema)]
pub struct EfiLoader {
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

/// One image profile of the ISO.
#[derive(Clone, Debug, serde::Serialize, schemars::JsonSchema)]
pub struct IsoProfile {
    pub name: String,
    pub creator: Option<String>,
    pub acceptance: Option<String>,
    pub vibs: usize,
    /// VIBs of another vendor than VMware: what a customised ISO added.
    pub added_vibs: Vec<String>,
}

/// What `iso inspect` prints.
#[derive(Clone, Debug, serde::Serialize, schemars::JsonSchema)]
pub struct IsoReport {
    /// [`crate::OUTPUT_SCHEMA_VERSION`].
    pub schema_version: u32,
    pub path: String,
    pub volume_id: String,
    /// `7.0.3`, from `BOOT.CFG`'s `build=` line.
    pub version: Option<String>,
    pub build: Option<u32>,
    /// The `kernelopt=` of `EFI/BOOT/BOOT.CFG` (the one UEFI boot reads).
    pub kernelopt: Option<String>,
    /// `ks=` already set on the ISO, if any.
    pub kickstart: Option<String>,
    pub boot_modules: usize,
    pub efi_loader: Option<EfiLoader>,
    /// Whether the root and the `EFI/BOOT/` boot.cfg are the same.
    pub boot_cfgs_match: bool,
    /// The metadata member the profile came from.
    pub metadata: Option<String>,
    pub profiles: Vec<IsoProfile>,
    pub vibs: usize,
    pub files: usize,
    pub bytes: u64,
    pub warnings: Vec<String>,
}

impl IsoReport {
    /// The image profile a check or dry run should use: the only one, else
    /// the `-standard` one.
    pub fn main_profile(&self) -> Option<&str> {
        match self.profiles.as_slice() {
            [p] => Some(&p.name),
            ps => ps.iter().find(|p| p.name.ends_with("-standard")).map(|p| p.name.as_str()),
        }
    }
}

/// Vendors whose VIBs make up VMware's own image.
fn is_vmware_vendor(v: &str) -> bool {
    matches!(v, "VMware" | "VMW" | "vmware")
}

/// Reads an ISO: its boot configuration, loader and image metadata.
/// Returns the depot view of its metadata too, for checks and dry runs.
pub fn inspect(path: &Path) -> Result<(IsoReport, Depot), MediaError> {
    let iso = IsoImage::open(path)?;
    let root = iso.find("BOOT.CFG").ok_or_else(|| MediaError::NotInstaller {
        path: path.to_path_buf(),
        message: "no BOOT.CFG at the root: not an ESXi installer image".into(),
    })?;
    let cfg = BootCfg::parse(&iso.read(root, 1 << 20)?);
    let efi_cfg = match iso.find("EFI/BOOT/BOOT.CFG") {
        Some(e) => Some(BootCfg::parse(&iso.read(e, 1 << 20)?)),
        None => None,
    };
    let mut warnings = Vec::new();
    let efi_loader = match iso.find("EFI/BOOT/BOOTX64.EFI") {
        Some(e) => {
            let b = iso.read(e, 64 << 20)?;
            Some(EfiLoader { path: e.path.clone(), size: e.size, sha256: hex::encode(Sha256::digest(&b)) })
        }
        None => {
            warnings.push("no EFI/BOOT/BOOTX64.EFI: a BIOS-only image, UEFI firmware cannot boot it".into());
            None
        }
    };
    if efi_loader.is_some() && efi_cfg.is_none() {
        warnings.push("no EFI/BOOT/BOOT.CFG: UEFI boot would not find its configuration".into());
    }
    let boot_cfgs_match = efi_cfg.as_ref().map(|e| e.text() == cfg.text()).unwrap_or(false);
    let (version, build) = match cfg.version_build() {
        Some((v, b)) => (Some(v), Some(b)),
        None => {
            warnings.push("BOOT.CFG has no readable build= line".into());
            (None, None)
        }
    };
    let used = efi_cfg.as_ref().unwrap_or(&cfg);
    let depot = Depot::open(&path.display().to_string())?;
    let metadata = esxup_depot::ISO_METADATA.iter().find_map(|m| iso.find(m).map(|e| e.path.clone()));
    let profiles = depot
        .profiles()
        .iter()
        .map(|p| {
            let mut added: Vec<String> = p
                .vib_ids
                .iter()
                .filter(|id| depot.vib(id).map(|v| !is_vmware_vendor(&v.vendor)).unwrap_or(false))
                .cloned()
                .collect();
            added.sort();
            IsoProfile {
                name: p.name.clone(),
                creator: p.creator.clone(),
                acceptance: p.acceptance.map(|a| esxup_depot::acceptance_short(a).to_string()),
                vibs: p.vib_ids.len(),
                added_vibs: added,
            }
        })
        .collect::<Vec<_>>();
    if profiles.is_empty() {
        warnings.push("the image metadata names no image profile".into());
    }
    warnings.extend(depot.warnings().iter().cloned());
    let report = IsoReport {
        schema_version: crate::OUTPUT_SCHEMA_VERSION,
        path: path.display().to_string(),
        volume_id: iso.volume_id().to_string(),
        version,
        build,
        kernelopt: used.get("kernelopt").map(str::to_string),
        kickstart: used.kickstart().map(str::to_string),
        boot_modules: cfg.modules().len(),
        efi_loader,
        boot_cfgs_match,
        metadata,
        vibs: depot.vibs().len(),
        profiles,
        files: iso.files().count(),
        bytes: iso.files().map(|e| e.size).sum(),
        warnings,
    };
    Ok((report, depot))
}

/// The build number an installer ISO's `BOOT.CFG` names (`build=` line),
/// read without the image metadata.
pub fn iso_build(path: &Path) -> Result<Option<u32>, MediaError> {
    let iso = IsoImage::open(path)?;
    let root = iso.find("BOOT.CFG").ok_or_else(|| MediaError::NotInstaller {
        path: path.to_path_buf(),
        message: "no BOOT.CFG at the root: not an ESXi installer image".into(),
    })?;
    Ok(BootCfg::parse(&iso.read(root, 1 << 20)?).version_build().map(|(_, b)| b))
}
