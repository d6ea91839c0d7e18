//! Reads files back from an installer stick or a disk that a trial install
//! wrote: every FAT partition of a GPT or MBR disk (image file or block
//! device) is searched for `ESXUP.TGZ`, the archive of read-only command
//! outputs that the trial kickstart's `%firstboot` writes into `/bootbank`
//! (on the installed disk, the bootbank FAT partition: partition 5 on 7.0
//! and 8.0). One 8.3 name, because the bootbank is plain FAT; the archive
//! has the layout `esxup collect --from-dir` reads (`esxup/<file>.txt`).

use crate::error::MediaError;
use crate::image::{fat_partitions, Window};
use std::io::Read;
use std::path::Path;

/// The archive the trial kickstart writes (at the root of the bootbank).
pub const OUTPUT_ARCHIVE: &str = "ESXUP.TGZ";
/// Largest archive copied back (the outputs pack to well under 1 MiB).
const MAX_FILE: u64 = 64 << 20;

/// Whether `path` is a disk (image or device) with a partition table rather
/// than a folder or an archive.
pub fn looks_like_disk(path: &Path) -> bool {
    let Ok(mut f) = std::fs::File::open(path) else { return false };
    let mut b = [0u8; 512];
    f.read_exact(&mut b).is_ok() && b[510] == 0x55 && b[511] == 0xaa && !fat_partitions(&mut f).is_empty()
}

/// What was found on the disk.
#[derive(Clone, Debug)]
pub struct Found {
    /// 1-based partition number that held the archive.
    pub partition: usize,
    /// The archive's bytes (a .tgz of `esxup/<file>.txt`).
    pub archive: Vec<u8>,
}

/// Reads `ESXUP.TGZ` from the first FAT partition that has one.
pub fn read_outputs(disk: &Path) -> Result<Found, MediaError> {
    let mut f = std::fs::File::open(disk).map_err(|e| MediaError::io("open", disk, e))?;
    let parts = fat_partitions(&mut f);
    if parts.is_empty() {
        return Err(MediaError::NotInstaller {
            path: disk.to_path_buf(),
            message: "no GPT or MBR partition table: not a disk image".into(),
        });
    }
    for (number, first, len) in parts {
        let window = Window { inner: &mut f, start: first, len, pos: 0 };
        let Ok(fs) = fatfs::FileSystem::new(fscommon::BufStream::new(window), fatfs::FsOptions::new()) else {
            continue; // not FAT (VMFS-L, vmkDiagnostic, ...)
        };
        let root = fs.root_dir();
        let Ok(mut file) = root.open_file(OUTPUT_ARCHIVE) else { continue };
        let mut data = Vec::new();
        (&mut file).take(MAX_FILE + 1).read_to_end(&mut data).map_err(|x| MediaError::io("read", disk, x))?;
        if data.len() as u64 > MAX_FILE {
            return Err(MediaError::NotInstaller {
                path: disk.to_path_buf(),
                message: format!("{OUTPUT_ARCHIVE} on partition {number} is larger than {MAX_FILE} bytes"),
            });
        }
        return Ok(Found { partition: number as usize, archive: data });
    }
    Err(MediaError::NotInstaller {
        path: disk.to_path_buf(),
        message: format!(
            "no FAT partition holds {OUTPUT_ARCHIVE}: has the trial install booted once (with Secure Boot off, \
             since ESXi skips %firstboot under Secure Boot)?"
        ),
    })
}
