//! Backup and restore: a logical copy of every table of the storage engine, in a versioned and
//! checksummed file, taken and restored through the engine boundary (`store::engine`), so a
//! backup taken from one engine restores into another.
//!
//! ```text
//! magic     8 bytes  "IAMDBKUP"
//! version   u16      FORMAT_VERSION
//! header    u32 length + JSON {"iamd_version", "created_at", "schema_version", "engine"}
//! records   0x01 table: u16 name length, name
//!           0x02 entry: u32 key length, key, u32 value length, value
//! end       0xFF, u32 table records, u64 entries
//! trailer   SHA-256 of every byte before it (32 bytes)
//! ```
//!
//! All integers are big-endian. Format 2 holds the engine's tables (`Table::name`), each
//! once; its header names the engine it came from. Format 1 (releases before the engine
//! boundary) held every sled tree under the same names plus sled's empty default tree, which
//! reading skips, so a format 1 file restores as before. Reading checks the framing, the
//! counts and the checksum, and refuses anything after the trailer, so a flipped byte or a
//! truncated file is caught before restore writes anything. The snapshot is consistent when
//! no write runs while it is taken: the server guarantees that with [`endpoint::WriteGate`];
//! offline, the database lock guarantees it.
//!
//! Not in a backup: the admin key file (a convenience copy; the key itself, as a digest,
//! is in the database and keeps working), the outbox (sent emails) and the TLS
//! certificate of `tls.self_signed` (a restored server makes a new one).

pub mod endpoint;
pub mod fetch;
mod format;
mod migrate;
mod restore;

pub use format::{read_snapshot, write_snapshot, Item};
pub use migrate::migrate;
pub use restore::{backup_offline, restore, restore_into};

use crate::store::engine::Table;
use crate::store::StoreError;
use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

pub const MAGIC: &[u8; 8] = b"IAMDBKUP";
/// 2: the engine's tables, each once, and the engine's name in the header (1: sled trees).
pub const FORMAT_VERSION: u16 = 2;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("database: {0}")]
    Store(#[from] StoreError),
    #[error("not an iamd backup (wrong magic bytes)")]
    NotABackup,
    #[error("backup format version {0} is newer than this release understands ({FORMAT_VERSION})")]
    NewerFormat(u16),
    #[error("the backup is truncated (it ends inside {0})")]
    Truncated(&'static str),
    #[error("the backup is corrupt: {0}")]
    Corrupt(String),
    #[error("{0}")]
    Refused(String),
}

/// What a backup holds: its header, and what reading or writing it counted.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Summary {
    pub iamd_version: String,
    pub created_at: String,
    pub schema_version: Option<u32>,
    /// The engine the backup was taken from (format 2 on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine: Option<String>,
    /// The file's format version (as read; a written backup is `FORMAT_VERSION`).
    #[serde(skip)]
    pub format_version: u16,
    #[serde(skip)]
    pub tables: u32,
    #[serde(skip)]
    pub entries: u64,
    /// Entries per table.
    #[serde(skip)]
    pub counts: BTreeMap<Table, u64>,
}

/// The tables whose entries are the records of an entity (the others are indexes and
/// counters), with the entity's name for people.
pub const ENTITIES: &[(Table, &str)] = &[
    (Table::AccountidAccount, "accounts"),
    (Table::UseridUser, "users"),
    (Table::ApikeyidApikey, "api keys"),
    (Table::GroupidGroup, "groups"),
    (Table::InvitationidInvitation, "invitations"),
    (Table::IdpidIdp, "identity providers"),
    (Table::CertidCert, "trusted certificates"),
    (Table::NotificationidNotification, "notifications"),
    (Table::BrandingcolorColor, "branding colors"),
    (Table::BrandingimageImage, "branding images"),
];

impl Summary {
    /// Records per entity, in [`ENTITIES`] order.
    pub fn records(&self) -> Vec<(&'static str, u64)> {
        ENTITIES
            .iter()
            .map(|(table, name)| (*name, self.counts.get(table).copied().unwrap_or(0)))
            .collect()
    }
}

/// Checks a backup file completely without acting on it.
pub fn verify_file(path: &Path) -> Result<Summary, BackupError> {
    read_snapshot(open(path)?, |_| Ok(()))
}

fn open(path: &Path) -> Result<std::fs::File, BackupError> {
    std::fs::File::open(path)
        .map_err(|e| BackupError::Refused(format!("cannot open {}: {e}", path.display())))
}

/// Writes `out` through a temporary file (mode 0600), verifies it, then renames it. An
/// existing `out` is replaced only with `overwrite`: a backup is often the only copy.
pub fn write_file_atomically(
    out: &Path,
    overwrite: bool,
    fill: impl FnOnce(&mut std::fs::File) -> Result<Summary, BackupError>,
) -> Result<Summary, BackupError> {
    if !overwrite && out.symlink_metadata().is_ok() {
        return Err(BackupError::Refused(format!(
            "{} already exists: give --force to replace it, or another --out",
            out.display()
        )));
    }
    let tmp = PathBuf::from(format!("{}.partial", out.display()));
    let result = (|| {
        let mut file = secret_file(&tmp)?;
        fill(&mut file)?;
        file.sync_all()?;
        drop(file);
        let summary = verify_file(&tmp)?;
        std::fs::rename(&tmp, out)?;
        Ok(summary)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Creates a file only its owner can read: a backup holds password hashes and CA keys.
pub fn secret_file(path: &Path) -> io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

#[cfg(test)]
mod tests;
