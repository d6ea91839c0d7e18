//! Safety checks before `esxup media --device` overwrites a disk (Linux):
//! the path must be a whole block device with 512-byte sectors, not a
//! device-mapper or RAID device, none of its partitions mounted, used as
//! swap or held by LVM/dm-crypt/md, not the disk the running system boots
//! from (`/`, `/boot`, `/boot/efi`, `/efi`, `/boot/firmware`, through
//! device-mapper/LVM, and by mount source for btrfs/ZFS), and removable
//! unless the admin says `--force-non-removable`.
//!
//! Everything comes from sysfs (`/sys/dev/block/MAJ:MIN`) and
//! `/proc/self/mountinfo`, read before anything is opened for writing. The
//! admin then types the device's serial number (or, when the device reports
//! none, its name) to confirm: [`DeviceInfo::confirmation`].

use crate::error::MediaError;
use std::path::{Path, PathBuf};

/// What the system says about a block device.
#[derive(Clone, Debug, serde::Serialize, schemars::JsonSchema)]
pub struct DeviceInfo {
    pub path: String,
    /// Kernel name (`sdb`).
    pub name: String,
    pub model: Option<String>,
    pub vendor: Option<String>,
    pub serial: Option<String>,
    pub size_bytes: u64,
    pub removable: bool,
    pub usb: bool,
    /// Mount points (and swap) of the device or its partitions.
    pub in_use: Vec<String>,
    /// It holds `/`, `/boot`, `/boot/efi`, `/efi` or `/boot/firmware` of
    /// the running system.
    pub system_disk: bool,
    /// Logical sector size in bytes (the stick is written with 512).
    pub logical_block_size: u64,
    /// A device-mapper, md or other stacked device (it has `slaves/`).
    pub stacked: bool,
    /// Partitions or holders (LVM, dm-crypt, md) use it.
    pub held_by: Vec<String>,
    /// The device number (`st_rdev`) the checks were made for.
    #[serde(skip)]
    pub rdev: u64,
}

impl DeviceInfo {
    /// What the admin must type to confirm: the serial number, or the
    /// kernel name when the device reports no serial.
    pub fn confirmation(&self) -> &str {
        self.serial.as_deref().unwrap_or(&self.name)
    }

    /// One line for the prompt: model, serial, size.
    pub fn describe(&self) -> String {
        format!(
            "{} ({}{}, serial {}, {:.1} GB{}{})",
            self.path,
            self.vendor.as_deref().map(|v| format!("{v} ")).unwrap_or_default(),
            self.model.as_deref().unwrap_or("unknown model"),
            self.serial.as_deref().unwrap_or("none reported"),
            self.size_bytes as f64 / 1e9,
            if self.usb { ", USB" } else { "" },
            if self.removable { ", removable" } else { "" },
        )
    }
}

fn read_trim(p: &Path) -> Option<String> {
    let s = std::fs::read_to_string(p).ok()?;
    let s = s.trim().to_string();
    (!s.is_empty()).then_some(s)
}

/// The sysfs folder of a block device number, canonical
/// (`/sys/devices/.../block/sdb`).
fn sysfs_of(dev: u64) -> Option<PathBuf> {
    let (maj, min) = (libc_major(dev), libc_minor(dev));
    std::fs::canonicalize(format!("/sys/dev/block/{maj}:{min}")).ok()
}

// The Linux encoding of dev_t (glibc's gnu_dev_major/minor).
fn libc_major(dev: u64) -> u64 {
    ((dev >> 32) & 0xffff_f000) | ((dev >> 8) & 0x0fff)
}
fn libc_minor(dev: u64) -> u64 {
    ((dev >> 12) & 0xffff_ff00) | (dev & 0x00ff)
}

/// The whole disk a sysfs block folder belongs to (a partition's parent).
fn whole_disk(sys: &Path) -> PathBuf {
    if sys.join("partition").exists() {
        if let Some(p) = sys.parent() {
            return p.to_path_buf();
        }
    }
    sys.to_path_buf()
}

/// `MAJ:MIN` of the disk and each of its partitions.
fn numbers_of(disk_sys: &Path) -> Vec<String> {
    let mut v: Vec<String> = read_trim(&disk_sys.join("dev")).into_iter().collect();
    if let Ok(rd) = std::fs::read_dir(disk_sys) {
        for e in rd.filter_map(Result::ok) {
            if e.path().join("partition").exists() {
                v.extend(read_trim(&e.path().join("dev")));
            }
        }
    }
    v
}

/// The whole disks under a block device, following device-mapper `slaves/`
/// (LVM, dm-crypt) a few levels down.
fn disks_under(sys: &Path, depth: u32) -> Vec<PathBuf> {
    let slaves: Vec<PathBuf> = std::fs::read_dir(sys.join("slaves"))
        .map(|rd| rd.filter_map(Result::ok).filter_map(|e| std::fs::canonicalize(e.path()).ok()).collect())
        .unwrap_or_default();
    if slaves.is_empty() || depth > 4 {
        return vec![whole_disk(sys)];
    }
    slaves.iter().flat_map(|s| disks_under(s, depth + 1)).collect()
}

/// Reads everything the checks need about `path`.
pub fn probe(path: &Path) -> Result<DeviceInfo, MediaError> {
    use std::os::unix::fs::FileTypeExt;
    let refuse = |m: String| MediaError::Device { path: path.to_path_buf(), message: m };
    let meta = std::fs::metadata(path).map_err(|e| MediaError::io("inspect", path, e))?;
    if !meta.file_type().is_block_device() {
        return Err(refuse(if meta.is_file() {
            "a regular file, not a block device (write an image file with --out instead)".into()
        } else {
            "not a block device".into()
        }));
    }
    use std::os::unix::fs::MetadataExt;
    let sys = sysfs_of(meta.rdev()).ok_or_else(|| refuse("no sysfs entry for this block device".into()))?;
    if sys.join("partition").exists() {
        let disk = whole_disk(&sys);
        let name = disk.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        return Err(refuse(format!("a partition, not a whole disk: give /dev/{name}")));
    }
    let name = sys.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let size_bytes = read_trim(&sys.join("size")).and_then(|s| s.parse::<u64>().ok()).unwrap_or(0) * 512;
    let removable = read_trim(&sys.join("removable")).as_deref() == Some("1");
    let usb = sys.to_string_lossy().contains("/usb");
    let dev = sys.join("device");
    let model = read_trim(&dev.join("model"));
    let vendor = read_trim(&dev.join("vendor"));
    // USB sticks report the serial on the USB device, some levels above
    // the SCSI disk; SATA/NVMe on the device or the block folder.
    let mut serial = read_trim(&sys.join("serial")).or_else(|| read_trim(&dev.join("serial")));
    if serial.is_none() {
        if let Ok(mut p) = std::fs::canonicalize(&dev) {
            for _ in 0..8 {
                if let Some(s) = read_trim(&p.join("serial")) {
                    serial = Some(s);
                    break;
                }
                if !p.pop() {
                    break;
                }
            }
        }
    }
    // Mounts and swap of this disk and its partitions.
    let mine = numbers_of(&sys);
    let mut in_use = Vec::new();
    let mut system_disk = false;
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    for line in mountinfo.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 5 {
            continue;
        }
        let (num, point) = (f[2], f[4]);
        // btrfs and ZFS report an anonymous st_dev (0:NN): the mount source
        // after the " - " separator names the block device.
        let source = f.iter().position(|x| *x == "-").and_then(|i| f.get(i + 2)).copied().unwrap_or("");
        let source_sys = if source.starts_with("/dev/") {
            std::fs::metadata(source).ok().and_then(|m| sysfs_of(m.rdev()))
        } else {
            None
        };
        let num_sys = std::fs::canonicalize(format!("/sys/dev/block/{num}")).ok();
        let on_this =
            |s: &Option<PathBuf>| s.as_ref().is_some_and(|s| disks_under(s, 0).iter().any(|d| d == &sys));
        if mine.iter().any(|m| m == num) || on_this(&source_sys) {
            in_use.push(format!("mounted at {point}"));
        }
        if ["/", "/boot", "/boot/efi", "/efi", "/boot/firmware"].contains(&point)
            && (on_this(&num_sys) || on_this(&source_sys))
        {
            system_disk = true;
        }
    }
    in_use.dedup();
    let swaps = std::fs::read_to_string("/proc/swaps").unwrap_or_default();
    for line in swaps.lines().skip(1) {
        if let Some(dev) = line.split_whitespace().next() {
            if let Ok(m) = std::fs::metadata(dev) {
                if let Some(s) = sysfs_of(m.rdev()) {
                    if whole_disk(&s) == sys {
                        in_use.push(format!("swap on {dev}"));
                    }
                }
            }
        }
    }
    // Holders of the disk or of any partition (LVM, dm-crypt, md).
    let mut held_by = Vec::new();
    let mut folders = vec![sys.clone()];
    if let Ok(rd) = std::fs::read_dir(&sys) {
        folders.extend(rd.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.join("partition").exists()));
    }
    for f in &folders {
        if let Ok(rd) = std::fs::read_dir(f.join("holders")) {
            held_by.extend(rd.filter_map(Result::ok).map(|e| e.file_name().to_string_lossy().into_owned()));
        }
    }
    let stacked = std::fs::read_dir(sys.join("slaves")).map(|mut rd| rd.next().is_some()).unwrap_or(false);
    let logical_block_size =
        read_trim(&sys.join("queue/logical_block_size")).and_then(|s| s.parse().ok()).unwrap_or(512);
    Ok(DeviceInfo {
        logical_block_size,
        stacked,
        held_by,
        rdev: meta.rdev(),
        path: path.display().to_string(),
        name,
        model,
        vendor,
        serial,
        size_bytes,
        removable,
        usb,
        in_use,
        system_disk,
    })
}

/// Refuses a device that must not be overwritten.
pub fn check(info: &DeviceInfo, force_non_removable: bool) -> Result<(), MediaError> {
    let refuse = |m: String| MediaError::Device { path: PathBuf::from(&info.path), message: m };
    if info.system_disk {
        return Err(refuse(
            "it holds the running system (/, /boot, /boot/efi, /efi or /boot/firmware)".into(),
        ));
    }
    if !info.in_use.is_empty() {
        return Err(refuse(format!("it is in use: {}; unmount it first", info.in_use.join(", "))));
    }
    if !info.held_by.is_empty() {
        return Err(refuse(format!(
            "it is used by {} (LVM, dm-crypt or RAID); release it first",
            info.held_by.join(", ")
        )));
    }
    if info.stacked {
        return Err(refuse("a device-mapper or RAID device, not a USB stick".into()));
    }
    if info.logical_block_size != 512 {
        return Err(refuse(format!(
            "its logical sectors are {} bytes; esxup writes sticks with 512-byte sectors",
            info.logical_block_size
        )));
    }
    if !info.removable && !force_non_removable {
        let what = if info.usb {
            "a USB disk that is not removable media (an external drive?)"
        } else {
            "not removable"
        };
        return Err(refuse(format!(
            "{what}; if this really is the installer stick, add --force-non-removable"
        )));
    }
    if info.size_bytes == 0 {
        return Err(refuse("it reports a size of 0 (no medium?)".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// glibc's gnu_dev_makedev.
    fn makedev(major: u64, minor: u64) -> u64 {
        ((major & 0xffff_f000) << 32)
            | ((major & 0x0fff) << 8)
            | ((minor & 0xffff_ff00) << 12)
            | (minor & 0x00ff)
    }

    #[test]
    fn dev_t_numbers_decode_like_glibc() {
        assert_eq!(makedev(8, 16), 0x810);
        for (maj, min) in [(8, 16), (259, 1), (7, 0), (4100, 300_000)] {
            let d = makedev(maj, min);
            assert_eq!((libc_major(d), libc_minor(d)), (maj, min));
        }
    }

    #[test]
    fn a_regular_file_is_refused() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("disk.img");
        std::fs::write(&p, [0u8; 4096]).unwrap();
        let e = probe(&p).unwrap_err().to_string();
        assert!(e.contains("a regular file, not a block device"), "{e}");
    }

    #[test]
    fn the_running_system_disk_is_refused() {
        // Whatever disk holds / here must be refused, and nothing is written:
        // probe and check only read sysfs and mountinfo.
        let Some(root_dev) = std::fs::read_to_string("/proc/self/mountinfo").ok().and_then(|m| {
            m.lines()
                .find(|l| l.split_whitespace().nth(4) == Some("/"))
                .map(|l| l.split_whitespace().nth(2).unwrap_or("").to_string())
        }) else {
            return;
        };
        let Ok(sys) = std::fs::canonicalize(format!("/sys/dev/block/{root_dev}")) else {
            eprintln!("/ is not on a block device here (overlay?): nothing to check");
            return;
        };
        for disk in disks_under(&sys, 0) {
            let name = disk.file_name().unwrap().to_string_lossy().into_owned();
            let dev = PathBuf::from(format!("/dev/{name}"));
            if !dev.exists() {
                continue;
            }
            let info = probe(&dev).unwrap();
            assert!(info.system_disk, "{info:?}");
            let e = check(&info, true).unwrap_err().to_string();
            assert!(e.contains("it holds the running system"), "{e}");
        }
    }
}
