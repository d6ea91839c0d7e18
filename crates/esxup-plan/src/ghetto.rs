//! A ghettoVCB configuration for the pre-upgrade VM backup.
//!
//! The option names are those of ghettoVCB's own `ghettoVCB.conf`
//! (https://github.com/lamw/ghettoVCB); the values are the conservative
//! choice for a one-off backup before an upgrade: thin disks, VMs stay
//! running (ghettoVCB snapshots them), no compression, one copy kept.

/// The file content for a backup to `/vmfs/volumes/<datastore>/ghettoVCB-backups`.
pub fn config(datastore: &str, host: &str, today: &str) -> String {
    format!(
        "# ghettoVCB.conf written by esxup for {host} on {today} (pre-upgrade backup)\n\
VM_BACKUP_VOLUME=/vmfs/volumes/{datastore}/ghettoVCB-backups\n\
DISK_BACKUP_FORMAT=thin\n\
VM_BACKUP_ROTATION_COUNT=1\n\
POWER_VM_DOWN_BEFORE_BACKUP=0\n\
ENABLE_HARD_POWER_OFF=0\n\
ITER_TO_WAIT_SHUTDOWN=3\n\
POWER_DOWN_TIMEOUT=5\n\
ENABLE_COMPRESSION=0\n\
VM_SNAPSHOT_MEMORY=0\n\
VM_SNAPSHOT_QUIESCE=0\n\
ALLOW_VMS_WITH_SNAPSHOTS_TO_BE_BACKEDUP=0\n\
ENABLE_NON_PERSISTENT_NFS=0\n\
UNMOUNT_NFS=0\n\
SNAPSHOT_TIMEOUT=15\n\
EMAIL_LOG=0\n"
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_the_backup_volume() {
        let c = super::config("datastore2", "esx01", "2026-11-26");
        assert!(c.contains("VM_BACKUP_VOLUME=/vmfs/volumes/datastore2/ghettoVCB-backups\n"));
        assert!(c.lines().all(|l| l.starts_with('#') || l.contains('=')));
    }
}
