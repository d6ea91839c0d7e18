//! A small, bounded ISO 9660 reader for ESXi installer images: the volume
//! descriptors, the directory tree and file extents, read without mounting
//! (no root, any OS).
//!
//! Why our own reader: an installer ISO is plain ISO 9660 with uppercase 8.3
//! names (`BOOT.CFG`, `EFI/BOOT/BOOTX64.EFI`, `UPGRADE/METADATA.ZIP`), so the
//! part of the standard we need is the primary volume descriptor and
//! directory records (ECMA-119 8.4, 9.1). The reader must treat the image as
//! untrusted: every extent is checked against the volume and the file
//! length, the tree walk is bounded in depth and entries, and a truncated or
//! foreign file is an error naming what is wrong, never a panic. Rock Ridge
//! and Joliet names are not read (ESXi images do not need them); the ISO 9660
//! name is used with its `;1` version and a trailing `.` removed.

use crate::error::DepotError;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::Mutex;

const SECTOR: u64 = 2048;
/// Deepest directory nesting walked (ISO 9660 itself allows 8 levels).
const MAX_DEPTH: usize = 16;
/// Most entries read from one image (an ESXi ISO has about 150).
const MAX_ENTRIES: usize = 100_000;
/// Largest single directory read (an ESXi ISO's root is a few KiB).
const MAX_DIR_BYTES: u64 = 4 << 20;
/// Most directory bytes read in all (a crafted image with many large
/// directories would otherwise take minutes to open).
const MAX_TREE_BYTES: u64 = 64 << 20;

/// One file or directory of the image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IsoEntry {
    /// `/`-separated path from the root, as recorded (e.g. `EFI/BOOT/BOOT.CFG`).
    pub path: String,
    pub is_dir: bool,
    /// First logical block of the data.
    pub lba: u32,
    /// Length in bytes.
    pub size: u64,
}

/// An ISO 9660 image opened for reading.
pub struct IsoImage {
    label: String,
    file: Mutex<std::fs::File>,
    volume_id: String,
    volume_bytes: u64,
    entries: Vec<IsoEntry>,
}

impl std::fmt::Debug for IsoImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IsoImage")
            .field("label", &self.label)
            .field("volume_id", &self.volume_id)
            .field("entries", &self.entries.len())
            .finish()
    }
}

/// Whether the file at `path` starts like an ISO 9660 image (`CD001` in the
/// first volume descriptor at byte 32769).
pub fn looks_like_iso(path: &Path) -> bool {
    let Ok(mut f) = std::fs::File::open(path) else { return false };
    let mut b = [0u8; 6];
    f.seek(SeekFrom::Start(16 * SECTOR)).is_ok() && f.read_exact(&mut b).is_ok() && &b[1..6] == b"CD001"
}

impl IsoImage {
    /// Opens an image and reads its whole directory tree.
    pub fn open(path: &Path) -> Result<IsoImage, DepotError> {
        let label = path.display().to_string();
        let mut file = std::fs::File::open(path).map_err(|e| DepotError::io(&label, e))?;
        let file_len = file.metadata().map_err(|e| DepotError::io(&label, e))?.len();
        let bad = |m: String| DepotError::invalid(&label, m);
        if file_len < 17 * SECTOR {
            return Err(bad(format!(
                "not an ISO 9660 image: {file_len} bytes, shorter than the system area and one volume descriptor"
            )));
        }
        // Volume descriptors from sector 16 up to the set terminator (type 255).
        let mut pvd = None;
        for i in 0..64u64 {
            let mut d = [0u8; SECTOR as usize];
            if read_at(&mut file, (16 + i) * SECTOR, &mut d).is_err() {
                break;
            }
            if &d[1..6] != b"CD001" {
                if i == 0 {
                    return Err(
                        bad("not an ISO 9660 image (no CD001 volume descriptor at sector 16)".into()),
                    );
                }
                break;
            }
            match d[0] {
                1 if pvd.is_none() => pvd = Some(d),
                255 => break,
                _ => {}
            }
        }
        let pvd = pvd.ok_or_else(|| bad("ISO 9660 image without a primary volume descriptor".into()))?;
        let block = u16::from_le_bytes([pvd[128], pvd[129]]) as u64;
        if block != SECTOR {
            return Err(bad(format!("logical block size {block} is not supported (ESXi images use 2048)")));
        }
        let blocks = u32::from_le_bytes(pvd[80..84].try_into().unwrap_or_default()) as u64;
        let volume_bytes = blocks * SECTOR;
        if volume_bytes > file_len {
            return Err(bad(format!(
                "the image is truncated: its volume descriptor says {volume_bytes} bytes, the file has {file_len}"
            )));
        }
        let volume_id = String::from_utf8_lossy(&pvd[40..72]).trim_end().to_string();
        let root = parse_record(&pvd[156..190]).ok_or_else(|| {
            bad("the primary volume descriptor has no readable root directory record".into())
        })?;
        let mut img =
            IsoImage { label, file: Mutex::new(file), volume_id, volume_bytes, entries: Vec::new() };
        img.walk(root.lba, root.size)?;
        Ok(img)
    }

    /// The path it was opened from.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The volume identifier of the primary volume descriptor.
    pub fn volume_id(&self) -> &str {
        &self.volume_id
    }

    /// Every file and directory, parents before children, sorted by path.
    pub fn entries(&self) -> &[IsoEntry] {
        &self.entries
    }

    /// Files only.
    pub fn files(&self) -> impl Iterator<Item = &IsoEntry> {
        self.entries.iter().filter(|e| !e.is_dir)
    }

    /// An entry by path, compared without case (`efi/boot/boot.cfg` finds
    /// `EFI/BOOT/BOOT.CFG`); a leading `/` is ignored.
    pub fn find(&self, path: &str) -> Option<&IsoEntry> {
        let p = path.trim_start_matches('/');
        self.entries.iter().find(|e| e.path.eq_ignore_ascii_case(p))
    }

    /// Reads one file whole, refusing files over `max` bytes.
    pub fn read(&self, entry: &IsoEntry, max: u64) -> Result<Vec<u8>, DepotError> {
        let what = format!("{}!{}", self.label, entry.path);
        if entry.size > max {
            return Err(DepotError::TooLarge {
                path: what,
                message: format!("{} bytes, more than the {max} read whole", entry.size),
            });
        }
        let mut out = Vec::with_capacity(entry.size as usize);
        self.copy_to(entry, &mut out)?;
        Ok(out)
    }

    /// Streams one file into `w`; returns the bytes written.
    pub fn copy_to(&self, entry: &IsoEntry, w: &mut dyn Write) -> Result<u64, DepotError> {
        let what = format!("{}!{}", self.label, entry.path);
        let mut f = self.file.lock().unwrap_or_else(|p| p.into_inner());
        f.seek(SeekFrom::Start(entry.lba as u64 * SECTOR)).map_err(|e| DepotError::io(&what, e))?;
        let mut left = entry.size;
        let mut buf = vec![0u8; 1 << 20];
        while left > 0 {
            let n = left.min(buf.len() as u64) as usize;
            f.read_exact(&mut buf[..n]).map_err(|e| DepotError::io(&what, e))?;
            w.write_all(&buf[..n]).map_err(|e| DepotError::io(&what, e))?;
            left -= n as u64;
        }
        Ok(entry.size)
    }

    /// Walks the tree breadth-first from the root directory's extent.
    fn walk(&mut self, root_lba: u32, root_size: u64) -> Result<(), DepotError> {
        let mut queue = vec![(String::new(), root_lba, root_size, 0usize)];
        let mut seen_dirs = std::collections::HashSet::new();
        let mut seen_paths = std::collections::HashSet::new();
        let mut tree_bytes = 0u64;
        while let Some((prefix, lba, size, depth)) = queue.pop() {
            if depth > MAX_DEPTH {
                return Err(DepotError::invalid(
                    &self.label,
                    format!("directory {prefix:?} is nested deeper than {MAX_DEPTH} levels"),
                ));
            }
            // A directory extent seen twice is a loop in a crafted image.
            if !seen_dirs.insert(lba) {
                return Err(DepotError::invalid(&self.label, format!("directory {prefix:?} loops back")));
            }
            tree_bytes = tree_bytes.saturating_add(size);
            if tree_bytes > MAX_TREE_BYTES {
                return Err(DepotError::TooLarge {
                    path: self.label.clone(),
                    message: format!("its directories hold more than {MAX_TREE_BYTES} bytes"),
                });
            }
            let data = self.extent(&prefix, lba, size, MAX_DIR_BYTES)?;
            let mut off = 0usize;
            while off < data.len() {
                let len = data[off] as usize;
                if len == 0 {
                    // Records never span a sector: the rest of it is padding.
                    off = (off / SECTOR as usize + 1) * SECTOR as usize;
                    continue;
                }
                let Some(rec) = data.get(off..off + len).and_then(parse_record) else {
                    return Err(DepotError::invalid(
                        &self.label,
                        format!("directory {prefix:?} has a malformed record at byte {off}"),
                    ));
                };
                off += len;
                if rec.name.is_empty() || rec.name == "\0" || rec.name == "\u{1}" {
                    continue; // "." and ".."
                }
                // Names that cannot be a file on the stick: path separators,
                // control characters, and what ".." or "." become once the
                // version and trailing dot are removed.
                if rec.name.is_empty()
                    || rec.name == "."
                    || rec.name == ".."
                    || rec.name.contains(['/', '\\'])
                    || rec.name.chars().any(char::is_control)
                {
                    return Err(DepotError::UnsafePath { path: self.label.clone(), member: rec.name });
                }
                let path =
                    if prefix.is_empty() { rec.name.clone() } else { format!("{prefix}/{}", rec.name) };
                if !seen_paths.insert(path.to_ascii_uppercase()) {
                    return Err(DepotError::invalid(&self.label, format!("{path} is listed twice")));
                }
                if rec.lba as u64 * SECTOR + rec.size > self.volume_bytes {
                    return Err(DepotError::invalid(
                        &self.label,
                        format!("{path} lies outside the volume (the image is damaged or truncated)"),
                    ));
                }
                if self.entries.len() >= MAX_ENTRIES {
                    return Err(DepotError::TooLarge {
                        path: self.label.clone(),
                        message: format!("more than {MAX_ENTRIES} files"),
                    });
                }
                if rec.is_dir {
                    queue.push((path.clone(), rec.lba, rec.size, depth + 1));
                }
                self.entries.push(IsoEntry { path, is_dir: rec.is_dir, lba: rec.lba, size: rec.size });
            }
        }
        self.entries.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(())
    }

    fn extent(&self, what: &str, lba: u32, size: u64, max: u64) -> Result<Vec<u8>, DepotError> {
        if size > max {
            return Err(DepotError::TooLarge {
                path: format!("{}!{what}", self.label),
                message: format!("a directory of {size} bytes"),
            });
        }
        if lba as u64 * SECTOR + size > self.volume_bytes {
            return Err(DepotError::invalid(
                &self.label,
                format!("directory {what:?} lies outside the volume (the image is damaged or truncated)"),
            ));
        }
        let mut v = vec![0u8; size as usize];
        let mut f = self.file.lock().unwrap_or_else(|p| p.into_inner());
        read_at(&mut f, lba as u64 * SECTOR, &mut v).map_err(|e| DepotError::io(&self.label, e))?;
        Ok(v)
    }
}

fn read_at(f: &mut std::fs::File, at: u64, buf: &mut [u8]) -> std::io::Result<()> {
    f.seek(SeekFrom::Start(at))?;
    f.read_exact(buf)
}

struct Record {
    name: String,
    is_dir: bool,
    lba: u32,
    size: u64,
}

/// One directory record (ECMA-119 9.1); `None` when it is malformed.
fn parse_record(r: &[u8]) -> Option<Record> {
    if r.len() < 34 || (r[0] as usize) > r.len() || (r[0] as usize) < 33 {
        return None;
    }
    let lba = u32::from_le_bytes(r[2..6].try_into().ok()?);
    let size = u32::from_le_bytes(r[10..14].try_into().ok()?) as u64;
    let flags = r[25];
    if flags & 0x80 != 0 {
        // Multi-extent files (over 4 GiB) do not occur on ESXi images.
        return None;
    }
    let name_len = r[32] as usize;
    let raw = r.get(33..33 + name_len)?;
    let name = match raw {
        [0] => "\0".to_string(),
        [1] => "\u{1}".to_string(),
        _ => {
            let s = String::from_utf8_lossy(raw);
            let s = s.split(';').next().unwrap_or_default();
            let s = if flags & 2 == 0 { s.strip_suffix('.').unwrap_or(s) } else { s };
            s.to_string()
        }
    };
    Some(Record { name, is_dir: flags & 2 != 0, lba, size })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_strip_version_and_dot() {
        let mut r = vec![0u8; 33];
        r.extend_from_slice(b"BOOT.CFG;1");
        r[0] = r.len() as u8;
        r[32] = 10;
        let rec = parse_record(&r).unwrap();
        assert_eq!(rec.name, "BOOT.CFG");
        let mut r = vec![0u8; 33];
        r.extend_from_slice(b"JUMPSTRT.;1");
        r[0] = r.len() as u8;
        r[32] = 11;
        assert_eq!(parse_record(&r).unwrap().name, "JUMPSTRT");
    }

    #[test]
    fn short_or_overlong_records_are_malformed() {
        assert!(parse_record(&[0u8; 10]).is_none());
        let mut r = vec![0u8; 40];
        r[0] = 40;
        r[32] = 200; // name longer than the record
        assert!(parse_record(&r).is_none());
    }

    #[test]
    fn a_short_file_is_not_an_iso() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("x.iso");
        std::fs::write(&p, b"hello").unwrap();
        let e = IsoImage::open(&p).unwrap_err().to_string();
        assert!(e.contains("not an ISO 9660 image"), "{e}");
        assert!(!looks_like_iso(&p));
    }
}
