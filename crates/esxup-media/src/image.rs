//! Writes a bootable UEFI installer stick from an ESXi ISO: a partition
//! table (GPT with its protective MBR, or MBR only for old firmware) with
//! one FAT32 partition, marked as the EFI system partition, holding every
//! file of the ISO under its ISO 9660 name (uppercase 8.3, as the installer
//! expects), with `BOOT.CFG` and `EFI/BOOT/BOOT.CFG` edited alike and the
//! kickstart as `/KS.CFG`.
//!
//! UEFI firmware boots such a stick by itself: it finds the EFI system
//! partition and starts `EFI/BOOT/BOOTX64.EFI` (the ESXi boot loader),
//! which reads `EFI/BOOT/BOOT.CFG`. BIOS boot (syslinux) is not written.
//!
//! Crates: `gptman` for the GPT (header CRCs, backup header, protective MBR)
//! and `mbrman` for `--mbr`; `fatfs` formats and fills the FAT32 file system
//! through a bounded window onto the partition, so no mount and no root are
//! needed for an image file. After writing, [`verify`] reads the partition
//! table and every file back and compares each file's sha256 with its
//! source.

use crate::bootcfg::BootCfg;
use crate::error::MediaError;
use esxup_depot::iso::{IsoEntry, IsoImage};
use sha2::{Digest, Sha256};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Logical sector size written (USB sticks and image files use 512).
pub const SECTOR: u64 = 512;
/// The partition starts at 1 MiB, aligned for flash erase blocks.
pub const PART_START: u64 = 2048;
/// EFI system partition type C12A7328-F81F-11D2-BA4B-00A0C93EC93B, as
/// stored on disk (the first three fields little-endian).
const ESP_GUID: [u8; 16] =
    [0x28, 0x73, 0x2a, 0xc1, 0x1f, 0xf8, 0xd2, 0x11, 0xba, 0x4b, 0x00, 0xa0, 0xc9, 0x3e, 0xc9, 0x3b];
/// MBR partition type of FAT32 with LBA addressing.
const MBR_FAT32_LBA: u8 = 0x0c;
/// Where the kickstart goes on the stick, and what `kernelopt` names.
pub const KS_PATH: &str = "KS.CFG";
pub const KS_OPTION: &str = "usb:/KS.CFG";

/// The partition table to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    /// GPT with a protective MBR (UEFI firmware).
    Gpt,
    /// MBR only, one active FAT32 (LBA) partition, for firmware that does
    /// not read GPT from removable media.
    Mbr,
}

/// What goes on the stick besides the ISO's files.
#[derive(Clone, Debug)]
pub struct Content {
    pub scheme: Scheme,
    /// `/KS.CFG`, and `ks=usb:/KS.CFG` on both `kernelopt` lines.
    pub kickstart: Option<String>,
}

/// One file as it will be on the stick.
#[derive(Clone, Debug, serde::Serialize, schemars::JsonSchema)]
pub struct StickFile {
    pub path: String,
    pub size: u64,
    pub sha256: String,
    /// Where it comes from: `iso`, `edited` (a boot.cfg), `kickstart`.
    pub source: String,
}

/// The stick's content, decided before anything is written.
#[derive(Clone, Debug, serde::Serialize, schemars::JsonSchema)]
pub struct Layout {
    pub scheme: Scheme,
    /// Every file in write order (directories are created as needed).
    pub files: Vec<StickFile>,
    /// Bytes of all files.
    pub content_bytes: u64,
    /// The smallest image size that holds them (bytes, MiB-aligned).
    pub min_image_bytes: u64,
    /// The `kernelopt=` line both boot.cfg copies will have.
    pub kernelopt: String,
    /// FAT volume label.
    pub label: String,
    /// What the admin should know about the edits.
    pub notes: Vec<String>,
    #[serde(skip)]
    replaced: Vec<(String, Vec<u8>)>,
}

/// Decides the stick's content from the ISO: checks it is a UEFI-bootable
/// ESXi installer image, edits both boot.cfg copies, adds the kickstart.
pub fn layout(iso: &IsoImage, content: &Content) -> Result<Layout, MediaError> {
    let path = PathBuf::from(iso.label());
    let root_cfg = iso.find("BOOT.CFG").ok_or_else(|| MediaError::NotInstaller {
        path: path.clone(),
        message: "no BOOT.CFG at the root: not an ESXi installer image".into(),
    })?;
    if iso.find("EFI/BOOT/BOOTX64.EFI").is_none() {
        return Err(MediaError::NotInstaller {
            path,
            message: "BIOS-only image: no EFI/BOOT/BOOTX64.EFI, so UEFI firmware cannot boot it \
                      (use an ESXi 6.5 or later installer ISO)"
                .into(),
        });
    }
    let cfg = BootCfg::parse(&iso.read(root_cfg, 1 << 20)?);
    let efi_cfg = match iso.find("EFI/BOOT/BOOT.CFG") {
        Some(e) => BootCfg::parse(&iso.read(e, 1 << 20)?),
        None => cfg.clone(),
    };
    let mut notes = Vec::new();
    if let (Some(_), Some(old)) = (&content.kickstart, efi_cfg.kickstart().or(cfg.kickstart())) {
        notes.push(format!("the ISO's boot.cfg named ks={old}; it now names ks={KS_OPTION}"));
    }
    let mut replaced = Vec::new();
    // Without a kickstart both boot.cfg copies stay as on the ISO (a
    // customised ISO's own ks= included); with one, both get the same edit.
    if content.kickstart.is_some() {
        let cfg = cfg.with_kickstart(Some(KS_OPTION));
        let efi = efi_cfg.with_kickstart(Some(KS_OPTION));
        replaced.push((root_cfg.path.clone(), cfg.text().as_bytes().to_vec()));
        replaced.push((
            iso.find("EFI/BOOT/BOOT.CFG")
                .map(|e| e.path.clone())
                .unwrap_or_else(|| "EFI/BOOT/BOOT.CFG".into()),
            efi.text().as_bytes().to_vec(),
        ));
    } else if iso.find("EFI/BOOT/BOOT.CFG").is_none() {
        replaced.push(("EFI/BOOT/BOOT.CFG".into(), efi_cfg.text().as_bytes().to_vec()));
        notes.push("the ISO has no EFI/BOOT/BOOT.CFG: the stick gets a copy of BOOT.CFG there".into());
    }
    let efi_text = replaced
        .iter()
        .find(|(p, _)| p.eq_ignore_ascii_case("EFI/BOOT/BOOT.CFG"))
        .map(|(_, b)| BootCfg::parse(b))
        .unwrap_or(efi_cfg);
    let kernelopt = efi_text.get("kernelopt").unwrap_or("").to_string();
    if let Some(k) = &content.kickstart {
        replaced.push((KS_PATH.to_string(), k.as_bytes().to_vec()));
    }
    let mut files = Vec::new();
    for e in iso.files() {
        if e.path.eq_ignore_ascii_case(KS_PATH) && content.kickstart.is_some() {
            continue;
        }
        if let Some((_, b)) = replaced.iter().find(|(p, _)| p.eq_ignore_ascii_case(&e.path)) {
            files.push(StickFile {
                path: e.path.clone(),
                size: b.len() as u64,
                sha256: sha(b),
                source: "edited".into(),
            });
        } else {
            files.push(StickFile {
                path: e.path.clone(),
                size: e.size,
                sha256: String::new(),
                source: "iso".into(),
            });
        }
    }
    for (p, b) in &replaced {
        if !files.iter().any(|f| f.path.eq_ignore_ascii_case(p)) {
            let source = if p == KS_PATH { "kickstart" } else { "edited" };
            files.push(StickFile {
                path: p.clone(),
                size: b.len() as u64,
                sha256: sha(b),
                source: source.into(),
            });
        }
    }
    let content_bytes: u64 = files.iter().map(|f| f.size).sum();
    // FAT32 needs at least 65525 clusters; with room for cluster slack
    // (up to 4 KiB a file), FATs and some free space for the admin.
    let slack = files.len() as u64 * 4096;
    let min = (content_bytes + slack) * 11 / 10 + (48 << 20);
    let min_image_bytes = min.div_ceil(1 << 20) * (1 << 20);
    let label = fat_label(iso.volume_id());
    Ok(Layout {
        scheme: content.scheme,
        files,
        content_bytes,
        min_image_bytes,
        kernelopt,
        label,
        notes,
        replaced,
    })
}

fn sha(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

/// A FAT label (11 characters, uppercase) from the ISO's volume id.
fn fat_label(volume_id: &str) -> String {
    let s: String = volume_id
        .chars()
        .map(|c| c.to_ascii_uppercase())
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(11)
        .collect();
    if s.is_empty() {
        "ESXI".into()
    } else {
        s
    }
}

/// What was written.
#[derive(Clone, Debug, serde::Serialize, schemars::JsonSchema)]
pub struct Written {
    pub target: String,
    pub scheme: Scheme,
    pub disk_bytes: u64,
    pub partition_first_lba: u64,
    pub partition_last_lba: u64,
    pub files: usize,
    pub content_bytes: u64,
}

/// A window onto the partition: offsets are relative to its start and
/// never leave it.
pub(crate) struct Window<'a, F> {
    pub(crate) inner: &'a mut F,
    pub(crate) start: u64,
    pub(crate) len: u64,
    pub(crate) pos: u64,
}

impl<F: Read + Write + Seek> Read for Window<'_, F> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = (self.len.saturating_sub(self.pos)).min(buf.len() as u64) as usize;
        if n == 0 {
            return Ok(0);
        }
        let at = self.start.checked_add(self.pos).ok_or_else(|| std::io::Error::other("offset overflow"))?;
        self.inner.seek(SeekFrom::Start(at))?;
        let r = self.inner.read(&mut buf[..n])?;
        self.pos += r as u64;
        Ok(r)
    }
}

impl<F: Read + Write + Seek> Write for Window<'_, F> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = (self.len.saturating_sub(self.pos)).min(buf.len() as u64) as usize;
        if n == 0 && !buf.is_empty() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::WriteZero,
                "write past the end of the partition",
            ));
        }
        let at = self.start.checked_add(self.pos).ok_or_else(|| std::io::Error::other("offset overflow"))?;
        self.inner.seek(SeekFrom::Start(at))?;
        let w = self.inner.write(&buf[..n])?;
        self.pos += w as u64;
        Ok(w)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl<F: Read + Write + Seek> Seek for Window<'_, F> {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let p = match to {
            SeekFrom::Start(p) => p as i128,
            SeekFrom::End(d) => self.len as i128 + d as i128,
            SeekFrom::Current(d) => self.pos as i128 + d as i128,
        };
        if p < 0 || p > self.len as i128 {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, "seek outside the partition"));
        }
        self.pos = p as u64;
        Ok(self.pos)
    }
}

/// Stable GUIDs and serials from the content, so that the same ISO and
/// kickstart give the same image (reproducible, comparable by sha256).
fn stable_id(layout: &Layout, disk_bytes: u64, what: &str) -> [u8; 16] {
    let mut h = Sha256::new();
    h.update(what.as_bytes());
    h.update(disk_bytes.to_le_bytes());
    for f in &layout.files {
        h.update(f.path.as_bytes());
        h.update(f.size.to_le_bytes());
        h.update(f.sha256.as_bytes());
    }
    let d = h.finalize();
    let mut g = [0u8; 16];
    g.copy_from_slice(&d[..16]);
    // RFC 4122 version 4 / variant bits, as a random GUID would have.
    g[7] = (g[7] & 0x0f) | 0x40;
    g[8] = (g[8] & 0x3f) | 0x80;
    g
}

/// Writes the stick onto `disk` (an image file already sized to
/// `disk_bytes`, or a block device of that size).
pub fn write(
    iso: &IsoImage,
    layout: &Layout,
    disk: &mut std::fs::File,
    target: &Path,
    disk_bytes: u64,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Written, MediaError> {
    let werr = |m: String| MediaError::Write { path: target.to_path_buf(), message: m };
    if disk_bytes < layout.min_image_bytes {
        return Err(werr(format!(
            "{} MiB is too small: the installer needs at least {} MiB",
            disk_bytes >> 20,
            layout.min_image_bytes >> 20
        )));
    }
    let sectors = disk_bytes / SECTOR;
    // Clear the first and last MiB: old partition tables and file system
    // signatures there would confuse firmware and tools.
    let zero = vec![0u8; 1 << 20];
    for at in [0, disk_bytes - (1 << 20)] {
        disk.seek(SeekFrom::Start(at))
            .and_then(|_| disk.write_all(&zero))
            .map_err(|e| MediaError::io("write", target, e))?;
    }
    let (first, last) = match layout.scheme {
        Scheme::Gpt => {
            let mut gpt = gptman::GPT::new_from(disk, SECTOR, stable_id(layout, disk_bytes, "disk"))
                .map_err(|e| werr(format!("make the GPT: {e}")))?;
            // End on a 1 MiB boundary too (sgdisk's alignment advice).
            let last = ((gpt.header.last_usable_lba + 1) / PART_START * PART_START).max(PART_START * 2) - 1;
            gpt[1] = gptman::GPTPartitionEntry {
                partition_type_guid: ESP_GUID,
                unique_partition_guid: stable_id(layout, disk_bytes, "partition"),
                starting_lba: PART_START,
                ending_lba: last,
                attribute_bits: 0,
                partition_name: "ESXi installer".into(),
            };
            gpt.write_into(disk).map_err(|e| werr(format!("write the GPT: {e}")))?;
            gptman::GPT::write_protective_mbr_into(disk, SECTOR)
                .map_err(|e| werr(format!("write the protective MBR: {e}")))?;
            (PART_START, last)
        }
        Scheme::Mbr => {
            let sig = stable_id(layout, disk_bytes, "mbr");
            let mut mbr = mbrman::MBR::new_from(disk, SECTOR as u32, [sig[0], sig[1], sig[2], sig[3]])
                .map_err(|e| werr(format!("make the MBR: {e}")))?;
            let count = (sectors - PART_START).min(u32::MAX as u64) as u32;
            mbr[1] = mbrman::MBRPartitionEntry {
                boot: mbrman::BOOT_ACTIVE,
                first_chs: mbrman::CHS::empty(),
                sys: MBR_FAT32_LBA,
                last_chs: mbrman::CHS::empty(),
                starting_lba: PART_START as u32,
                sectors: count,
            };
            mbr.write_into(disk).map_err(|e| werr(format!("write the MBR: {e}")))?;
            (PART_START, PART_START + count as u64 - 1)
        }
    };
    let part_len = (last - first + 1) * SECTOR;
    let window = Window { inner: disk, start: first * SECTOR, len: part_len, pos: 0 };
    let mut buf = fscommon::BufStream::new(window);
    let mut label = [b' '; 11];
    label[..layout.label.len()].copy_from_slice(layout.label.as_bytes());
    let serial = stable_id(layout, disk_bytes, "fat");
    fatfs::format_volume(
        &mut buf,
        fatfs::FormatVolumeOptions::new()
            .fat_type(fatfs::FatType::Fat32)
            .volume_label(label)
            .volume_id(u32::from_le_bytes([serial[0], serial[1], serial[2], serial[3]])),
    )
    .map_err(|e| werr(format!("format FAT32: {e}")))?;
    buf.seek(SeekFrom::Start(0)).map_err(|e| MediaError::io("write", target, e))?;
    {
        let fs = fatfs::FileSystem::new(&mut buf, fatfs::FsOptions::new())
            .map_err(|e| werr(format!("open the new FAT32: {e}")))?;
        let root = fs.root_dir();
        let mut done = 0u64;
        for f in &layout.files {
            // Parent directories, in order.
            let parts: Vec<&str> = f.path.split('/').collect();
            for i in 1..parts.len() {
                let d = parts[..i].join("/");
                root.create_dir(&d).map_err(|e| werr(format!("create {d}: {e}")))?;
            }
            let mut out = root.create_file(&f.path).map_err(|e| werr(format!("create {}: {e}", f.path)))?;
            out.truncate().map_err(|e| werr(format!("create {}: {e}", f.path)))?;
            if let Some((_, b)) = layout.replaced.iter().find(|(p, _)| p == &f.path) {
                out.write_all(b).map_err(|e| werr(format!("write {}: {e}", f.path)))?;
            } else {
                let e: &IsoEntry =
                    iso.find(&f.path).ok_or_else(|| werr(format!("{} vanished from the ISO", f.path)))?;
                iso.copy_to(e, &mut out).map_err(|e| werr(format!("copy {}: {e}", f.path)))?;
            }
            out.flush().map_err(|e| werr(format!("write {}: {e}", f.path)))?;
            done += f.size;
            progress(done, layout.content_bytes);
        }
        drop(root);
        // Counts the free clusters, so that the FSInfo sector is written
        // with the count instead of "unknown" (fsck.fat flags that).
        fs.stats().map_err(|e| werr(format!("count free clusters: {e}")))?;
        fs.unmount().map_err(|e| werr(format!("close the FAT32: {e}")))?;
    }
    buf.flush().map_err(|e| MediaError::io("write", target, e))?;
    drop(buf);
    fix_dot_entries(disk, first * SECTOR).map_err(|e| werr(format!("fix directory entries: {e}")))?;
    disk.sync_all().map_err(|e| MediaError::io("fsync", target, e))?;
    Ok(Written {
        target: target.display().to_string(),
        scheme: layout.scheme,
        disk_bytes,
        partition_first_lba: first,
        partition_last_lba: last,
        files: layout.files.len(),
        content_bytes: layout.content_bytes,
    })
}

/// Rewrites the `.` and `..` entries of every directory the way the FAT
/// specification has them. fatfs 0.3.6 gives each of them a long-name entry
/// in front (so `.` is not the first slot) and gives `..` of a top-level
/// directory the root's cluster number instead of 0; fsck.fat reports both
/// as damage, and strict firmware may too. The first cluster of each
/// directory becomes `.`, `..`, then the other entries, with the freed
/// slots marked deleted.
fn fix_dot_entries(disk: &mut std::fs::File, part: u64) -> std::io::Result<()> {
    use std::io::{Error, ErrorKind};
    let mut bs = [0u8; 512];
    disk.seek(SeekFrom::Start(part))?;
    disk.read_exact(&mut bs)?;
    let u16le = |o: usize| u16::from_le_bytes([bs[o], bs[o + 1]]) as u64;
    let u32le = |o: usize| u32::from_le_bytes([bs[o], bs[o + 1], bs[o + 2], bs[o + 3]]) as u64;
    let (bps, spc, reserved, fats) = (u16le(11), bs[13] as u64, u16le(14), bs[16] as u64);
    let (fat_sectors, root) = (u32le(36), u32le(44));
    if bps == 0 || spc == 0 {
        return Err(Error::new(ErrorKind::InvalidData, "no FAT32 boot sector"));
    }
    let cluster_bytes = bps * spc;
    let data = part + (reserved + fats * fat_sectors) * bps;
    let fat = part + reserved * bps;
    let at = |c: u64| data + (c - 2) * cluster_bytes;
    let next = |disk: &mut std::fs::File, c: u64| -> std::io::Result<u64> {
        let mut b = [0u8; 4];
        disk.seek(SeekFrom::Start(fat + c * 4))?;
        disk.read_exact(&mut b)?;
        Ok(u32::from_le_bytes(b) as u64 & 0x0fff_ffff)
    };
    // (first cluster, parent's first cluster), breadth first from the root.
    let mut queue = vec![(root, 0u64)];
    let mut seen = std::collections::HashSet::new();
    while let Some((dir, parent)) = queue.pop() {
        if !seen.insert(dir) || seen.len() > 10_000 {
            continue;
        }
        // Every entry of the directory, over its cluster chain.
        let mut entries = Vec::new();
        let mut c = dir;
        let mut hops = 0;
        while (2..0x0fff_fff8).contains(&c) && hops < 65_536 {
            let mut b = vec![0u8; cluster_bytes as usize];
            disk.seek(SeekFrom::Start(at(c)))?;
            disk.read_exact(&mut b)?;
            entries.extend(b.chunks(32).map(|e| e.to_vec()));
            c = next(disk, c)?;
            hops += 1;
        }
        for e in &entries {
            if e[0] == 0 {
                break;
            }
            let is_dir = e[11] & 0x10 != 0 && e[11] != 0x0f && e[0] != 0xe5 && e[0] != b'.';
            if is_dir {
                let cl = (u16::from_le_bytes([e[20], e[21]]) as u64) << 16
                    | u16::from_le_bytes([e[26], e[27]]) as u64;
                queue.push((cl, if dir == root { 0 } else { dir }));
            }
        }
        if dir == root {
            continue;
        }
        // Move "." and ".." to the first two slots of the first cluster.
        let slots = (cluster_bytes / 32) as usize;
        let first: &mut Vec<Vec<u8>> = &mut entries;
        let dot = first.iter().position(|e| &e[..11] == b".          " && e[11] & 0x10 != 0);
        let dotdot = first.iter().position(|e| &e[..11] == b"..         " && e[11] & 0x10 != 0);
        let (Some(d1), Some(d2)) = (dot, dotdot) else { continue };
        if d1 >= slots || d2 >= slots {
            continue;
        }
        let mut e1 = first[d1].clone();
        let mut e2 = first[d2].clone();
        e1[20..22].copy_from_slice(&((dir >> 16) as u16).to_le_bytes());
        e1[26..28].copy_from_slice(&(dir as u16).to_le_bytes());
        e2[20..22].copy_from_slice(&((parent >> 16) as u16).to_le_bytes());
        e2[26..28].copy_from_slice(&(parent as u16).to_le_bytes());
        let mut out: Vec<Vec<u8>> = vec![e1, e2];
        for (i, e) in first.iter().take(slots).enumerate() {
            if i == d1 || i == d2 {
                continue;
            }
            // The long-name entries fatfs put in front of the dot entries.
            let lfn_of_dot = e[11] == 0x0f && i < d2.max(d1);
            let mut e = e.clone();
            if lfn_of_dot {
                e[0] = 0xe5;
            }
            out.push(e);
        }
        // The deleted slots go after the live ones of the first cluster, so
        // that no live entry moves to another cluster.
        let (live, dead): (Vec<Vec<u8>>, Vec<Vec<u8>>) = out.into_iter().partition(|e| e[0] != 0xe5);
        let mut b: Vec<u8> = live.into_iter().chain(dead).flatten().collect();
        b.truncate(cluster_bytes as usize);
        disk.seek(SeekFrom::Start(at(dir)))?;
        disk.write_all(&b)?;
    }
    Ok(())
}

/// The result of reading a written stick back.
#[derive(Clone, Debug, serde::Serialize, schemars::JsonSchema)]
pub struct Verified {
    pub files: usize,
    pub bytes: u64,
    /// sha256 over the per-file digests in layout order: one value to
    /// compare two sticks.
    pub content_sha256: String,
}

/// Reads the partition table and every file back from `disk` and compares
/// each file's sha256 with its source (the ISO's file, or the edited one).
pub fn verify(
    iso: &IsoImage,
    layout: &Layout,
    disk: &mut std::fs::File,
    target: &Path,
) -> Result<Verified, MediaError> {
    let verr = |m: String| MediaError::Verify { path: target.to_path_buf(), message: m };
    let (first, len) = find_fat_partition(disk, layout.scheme).map_err(verr)?;
    let window = Window { inner: disk, start: first * SECTOR, len, pos: 0 };
    let fs = fatfs::FileSystem::new(fscommon::BufStream::new(window), fatfs::FsOptions::new())
        .map_err(|e| verr(format!("read the FAT32 back: {e}")))?;
    let root = fs.root_dir();
    let mut all = Sha256::new();
    let mut bytes = 0u64;
    for f in &layout.files {
        let mut r = root.open_file(&f.path).map_err(|e| verr(format!("read {} back: {e}", f.path)))?;
        let mut h = Sha256::new();
        let mut b = vec![0u8; 1 << 20];
        let mut n = 0u64;
        loop {
            let k = r.read(&mut b).map_err(|e| verr(format!("read {} back: {e}", f.path)))?;
            if k == 0 {
                break;
            }
            h.update(&b[..k]);
            n += k as u64;
        }
        let got = hex::encode(h.finalize());
        let want = if f.sha256.is_empty() {
            let e = iso.find(&f.path).ok_or_else(|| verr(format!("{} vanished from the ISO", f.path)))?;
            let mut hw = HashWriter(Sha256::new());
            iso.copy_to(e, &mut hw).map_err(|e| verr(e.to_string()))?;
            hex::encode(hw.0.finalize())
        } else {
            f.sha256.clone()
        };
        if got != want || n != f.size {
            return Err(verr(format!(
                "{} reads back as sha256 {got} ({n} bytes), expected {want} ({} bytes)",
                f.path, f.size
            )));
        }
        all.update(got.as_bytes());
        bytes += n;
    }
    Ok(Verified { files: layout.files.len(), bytes, content_sha256: hex::encode(all.finalize()) })
}

struct HashWriter(Sha256);
impl Write for HashWriter {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.update(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The first FAT partition of a disk: (first LBA, length in bytes).
fn find_fat_partition(disk: &mut std::fs::File, scheme: Scheme) -> Result<(u64, u64), String> {
    match scheme {
        Scheme::Gpt => {
            let gpt = gptman::GPT::read_from(disk, SECTOR).map_err(|e| format!("read the GPT back: {e}"))?;
            let (_, p) = gpt
                .iter()
                .find(|(_, p)| {
                    p.is_used() && p.partition_type_guid == ESP_GUID && p.ending_lba >= p.starting_lba
                })
                .ok_or("the GPT has no EFI system partition")?;
            let len = (p.ending_lba - p.starting_lba + 1)
                .checked_mul(SECTOR)
                .ok_or("the partition is too large")?;
            Ok((p.starting_lba, len))
        }
        Scheme::Mbr => {
            let mbr = read_mbr(disk).map_err(|e| format!("read the MBR back: {e}"))?;
            let (_, p) = mbr
                .iter()
                .find(|(_, p)| p.is_used() && p.sys == MBR_FAT32_LBA)
                .ok_or("the MBR has no FAT32 partition")?;
            Ok((p.starting_lba as u64, p.sectors as u64 * SECTOR))
        }
    }
}

/// Reads an MBR partition table. A used entry starting at LBA 0 (the MBR's
/// own sector, so never a real partition) is refused before mbrman reads
/// the table: with every used entry at LBA 0, mbrman 0.6.1 panics while
/// guessing the alignment (found by the `stick` fuzz target; the input is a
/// seed of crates/esxup-fuzz/tests/replay.rs).
fn read_mbr(disk: &mut std::fs::File) -> Result<mbrman::MBR, String> {
    let header = mbrman::MBRHeader::read_from(disk).map_err(|e| e.to_string())?;
    if let Some((n, _)) = header.iter().find(|(_, p)| p.is_used() && p.starting_lba == 0) {
        return Err(format!("partition {n} starts at LBA 0, on the MBR itself"));
    }
    mbrman::MBR::read_from(disk, SECTOR as u32).map_err(|e| e.to_string())
}

/// The length of a disk image or block device, in bytes.
fn disk_len(disk: &mut std::fs::File) -> u64 {
    disk.seek(SeekFrom::End(0)).unwrap_or(0)
}

/// Every partition of a disk image or device (GPT or MBR) that lies inside
/// it, as (partition number, first byte, length in bytes), for reading files
/// back from a stick. Entries of a crafted or damaged table (ending before
/// they start, past the end of the disk) are left out.
pub fn fat_partitions(disk: &mut std::fs::File) -> Vec<(u32, u64, u64)> {
    let size = disk_len(disk);
    let span = |first: u64, sectors: u64| -> Option<(u64, u64)> {
        let start = first.checked_mul(SECTOR)?;
        let len = sectors.checked_mul(SECTOR)?;
        (len > 0 && start.checked_add(len)? <= size).then_some((start, len))
    };
    if let Ok(gpt) = gptman::GPT::read_from(disk, SECTOR) {
        return gpt
            .iter()
            .filter(|(_, p)| p.is_used() && p.ending_lba >= p.starting_lba)
            .filter_map(|(n, p)| {
                span(p.starting_lba, p.ending_lba - p.starting_lba + 1).map(|(a, b)| (n, a, b))
            })
            .collect();
    }
    if let Ok(mbr) = read_mbr(disk) {
        return mbr
            .iter()
            .filter(|(_, p)| p.is_used())
            .filter_map(|(n, p)| span(p.starting_lba as u64, p.sectors as u64).map(|(a, b)| (n as u32, a, b)))
            .collect();
    }
    Vec::new()
}
