//! Backup and restore of a data directory's database.
//!
//! A backup is every sled tree, entry by entry, in a versioned and checksummed file:
//!
//! ```text
//! magic     8 bytes  "IAMDBKUP"
//! version   u16      FORMAT_VERSION
//! header    u32 length + JSON {"iamd_version", "created_at", "schema_version"}
//! records   0x01 tree:  u16 name length, name
//!           0x02 entry: u32 key length, key, u32 value length, value
//! end       0xFF, u32 trees, u64 entries
//! trailer   SHA-256 of every byte before it (32 bytes)
//! ```
//!
//! All integers are big-endian. Reading checks the framing, the counts and the checksum,
//! and refuses anything after the trailer, so a flipped byte or a truncated file is caught
//! before restore writes anything. The snapshot is consistent when no write runs while it
//! is taken: the server guarantees that with [`endpoint::WriteGate`]; offline, the database
//! lock guarantees it.
//!
//! Not in a backup: the admin key file (a convenience copy; the key itself, as a digest,
//! is in the database and keeps working), the outbox (sent emails) and the TLS
//! certificate of `tls.self_signed` (a restored server makes a new one).

pub mod endpoint;
pub mod fetch;

use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

pub const MAGIC: &[u8; 8] = b"IAMDBKUP";
pub const FORMAT_VERSION: u16 = 1;
const TREE: u8 = 0x01;
const ENTRY: u8 = 0x02;
const END: u8 = 0xFF;
/// Upper bound on one key or value (sled keeps values far smaller).
const MAX_ITEM: usize = 1024 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("database: {0}")]
    Db(#[from] sled::Error),
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

/// What a backup holds, as its header and end record say.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Summary {
    pub iamd_version: String,
    pub created_at: String,
    pub schema_version: Option<u32>,
    #[serde(skip)]
    pub trees: u32,
    #[serde(skip)]
    pub entries: u64,
}

/// A writer that hashes everything written through it.
struct Hashing<W> {
    inner: W,
    hash: ring::digest::Context,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Writes a snapshot of every tree of `db` to `out`.
pub fn write_snapshot(db: &sled::Db, out: impl Write) -> Result<Summary, BackupError> {
    let mut w = Hashing {
        inner: BufWriter::new(out),
        hash: ring::digest::Context::new(&ring::digest::SHA256),
    };
    let schema_version = db
        .open_tree("meta")?
        .get(b"schema_version")?
        .and_then(|v| v.as_ref().try_into().ok().map(u32::from_be_bytes));
    let mut summary = Summary {
        iamd_version: env!("CARGO_PKG_VERSION").into(),
        created_at: crate::clock::rfc3339(crate::clock::now_millis()),
        schema_version,
        ..Summary::default()
    };
    let header = serde_json::to_vec(&summary).map_err(|e| BackupError::Corrupt(e.to_string()))?;
    w.write_all(MAGIC)?;
    w.write_all(&FORMAT_VERSION.to_be_bytes())?;
    w.write_all(&(header.len() as u32).to_be_bytes())?;
    w.write_all(&header)?;
    let mut names = db.tree_names();
    names.sort();
    for name in names {
        let tree = db.open_tree(&name)?;
        w.write_all(&[TREE])?;
        w.write_all(&(name.len() as u16).to_be_bytes())?;
        w.write_all(&name)?;
        summary.trees += 1;
        for item in tree.iter() {
            let (key, value) = item?;
            w.write_all(&[ENTRY])?;
            w.write_all(&(key.len() as u32).to_be_bytes())?;
            w.write_all(&key)?;
            w.write_all(&(value.len() as u32).to_be_bytes())?;
            w.write_all(&value)?;
            summary.entries += 1;
        }
    }
    w.write_all(&[END])?;
    w.write_all(&summary.trees.to_be_bytes())?;
    w.write_all(&summary.entries.to_be_bytes())?;
    let digest = w.hash.finish();
    let mut inner = w.inner;
    inner.write_all(digest.as_ref())?;
    inner.flush()?;
    Ok(summary)
}

/// One thing read from a backup.
pub enum Item<'a> {
    Tree(&'a [u8]),
    Entry(&'a [u8], &'a [u8]),
}

/// A reader that hashes everything read through it and names what a short read cut.
struct Reading<R> {
    inner: R,
    hash: ring::digest::Context,
}

impl<R: Read> Reading<R> {
    fn exact(&mut self, buf: &mut [u8], what: &'static str) -> Result<(), BackupError> {
        self.inner.read_exact(buf).map_err(|e| match e.kind() {
            io::ErrorKind::UnexpectedEof => BackupError::Truncated(what),
            _ => BackupError::Io(e),
        })?;
        self.hash.update(buf);
        Ok(())
    }
    fn byte(&mut self, what: &'static str) -> Result<u8, BackupError> {
        let mut b = [0u8; 1];
        self.exact(&mut b, what)?;
        Ok(b[0])
    }
    fn u16(&mut self, what: &'static str) -> Result<u16, BackupError> {
        let mut b = [0u8; 2];
        self.exact(&mut b, what)?;
        Ok(u16::from_be_bytes(b))
    }
    fn u32(&mut self, what: &'static str) -> Result<u32, BackupError> {
        let mut b = [0u8; 4];
        self.exact(&mut b, what)?;
        Ok(u32::from_be_bytes(b))
    }
    fn bytes(
        &mut self,
        len: usize,
        buf: &mut Vec<u8>,
        what: &'static str,
    ) -> Result<(), BackupError> {
        if len > MAX_ITEM {
            return Err(BackupError::Corrupt(format!("{what} of {len} bytes")));
        }
        // Grows with the data actually read: a corrupt length cannot allocate ahead of it.
        buf.clear();
        let n = (&mut self.inner).take(len as u64).read_to_end(buf)?;
        if n < len {
            return Err(BackupError::Truncated(what));
        }
        self.hash.update(buf);
        Ok(())
    }
}

/// Reads a whole backup, handing each tree and entry to `visit`, and checks it end to end.
/// `visit` sees data before the checksum is known: verify first (`visit` doing nothing)
/// when acting on the data must wait for a good file.
pub fn read_snapshot(
    input: impl Read,
    mut visit: impl FnMut(Item<'_>) -> Result<(), BackupError>,
) -> Result<Summary, BackupError> {
    let mut r = Reading {
        inner: BufReader::new(input),
        hash: ring::digest::Context::new(&ring::digest::SHA256),
    };
    let mut magic = [0u8; 8];
    r.exact(&mut magic, "the magic bytes")
        .map_err(|_| BackupError::NotABackup)?;
    if &magic != MAGIC {
        return Err(BackupError::NotABackup);
    }
    let version = r.u16("the format version")?;
    if version > FORMAT_VERSION || version == 0 {
        return Err(BackupError::NewerFormat(version));
    }
    let header_len = r.u32("the header")? as usize;
    if header_len > 64 * 1024 {
        return Err(BackupError::Corrupt("oversized header".into()));
    }
    let mut buf = Vec::new();
    r.bytes(header_len, &mut buf, "the header")?;
    let mut summary: Summary = serde_json::from_slice(&buf)
        .map_err(|e| BackupError::Corrupt(format!("unreadable header: {e}")))?;
    let mut value = Vec::new();
    let mut in_tree = false;
    loop {
        match r.byte("a record")? {
            TREE => {
                let len = r.u16("a tree name")? as usize;
                r.bytes(len, &mut buf, "a tree name")?;
                visit(Item::Tree(&buf))?;
                summary.trees += 1;
                in_tree = true;
            }
            ENTRY if in_tree => {
                let len = r.u32("an entry")? as usize;
                r.bytes(len, &mut buf, "an entry key")?;
                let len = r.u32("an entry")? as usize;
                r.bytes(len, &mut value, "an entry value")?;
                visit(Item::Entry(&buf, &value))?;
                summary.entries += 1;
            }
            END => break,
            other => {
                return Err(BackupError::Corrupt(format!(
                    "unexpected record type {other:#04x}"
                )))
            }
        }
    }
    let trees = r.u32("the end record")?;
    let mut entries = [0u8; 8];
    r.exact(&mut entries, "the end record")?;
    let expected = r.hash.clone().finish();
    let mut trailer = [0u8; 32];
    r.inner
        .read_exact(&mut trailer)
        .map_err(|_| BackupError::Truncated("the checksum"))?;
    if trailer != expected.as_ref() {
        return Err(BackupError::Corrupt(
            "the SHA-256 checksum does not match".into(),
        ));
    }
    if trees != summary.trees || u64::from_be_bytes(entries) != summary.entries {
        return Err(BackupError::Corrupt("record counts do not match".into()));
    }
    if r.inner.read(&mut [0u8; 1])? != 0 {
        return Err(BackupError::Corrupt(
            "extra bytes after the checksum".into(),
        ));
    }
    Ok(summary)
}

/// Checks a backup file completely without acting on it.
pub fn verify_file(path: &Path) -> Result<Summary, BackupError> {
    read_snapshot(open(path)?, |_| Ok(()))
}

fn open(path: &Path) -> Result<std::fs::File, BackupError> {
    std::fs::File::open(path)
        .map_err(|e| BackupError::Refused(format!("cannot open {}: {e}", path.display())))
}

/// Backs up a stopped server's data directory (the database lock refuses a running one).
pub fn backup_offline(data_dir: &Path, out: &Path) -> Result<Summary, BackupError> {
    let db_path = data_dir.join("db");
    if !db_path.join("conf").exists() {
        return Err(BackupError::Refused(format!(
            "{} holds no iamd database",
            data_dir.display()
        )));
    }
    let db = sled::Config::new()
        .path(&db_path)
        .open()
        .map_err(|e| match e {
            // sled reports its file lock held by another process only in the message.
            sled::Error::Io(ref io) if io.to_string().contains("could not acquire lock") => {
                BackupError::Refused(format!(
                    "{} is in use by a running server: back it up through the server \
                 (iamd backup --url ...)",
                    data_dir.display()
                ))
            }
            other => BackupError::Db(other),
        })?;
    write_file_atomically(out, |file| write_snapshot(&db, file))
}

/// Writes `out` through a temporary file (mode 0600), verifies it, then renames it.
pub fn write_file_atomically(
    out: &Path,
    fill: impl FnOnce(&mut std::fs::File) -> Result<Summary, BackupError>,
) -> Result<Summary, BackupError> {
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

/// Restores `backup` into `data_dir`, which must be missing or empty. The file is verified
/// completely before anything is written; on failure the directory is left as it was.
pub fn restore(backup: &Path, data_dir: &Path) -> Result<Summary, BackupError> {
    if data_dir.exists() {
        let mut entries = std::fs::read_dir(data_dir).map_err(|e| {
            BackupError::Refused(format!("cannot read {}: {e}", data_dir.display()))
        })?;
        if entries.next().is_some() {
            return Err(BackupError::Refused(format!(
                "{} is not empty: restore only into a new or empty directory",
                data_dir.display()
            )));
        }
    }
    let summary = verify_file(backup)?;
    let created_dir = !data_dir.exists();
    let result = import(backup, data_dir);
    if result.is_err() {
        let _ = std::fs::remove_dir_all(data_dir.join("db"));
        let _ = std::fs::remove_file(data_dir.join(crate::store::MARKER));
        if created_dir {
            let _ = std::fs::remove_dir(data_dir);
        }
    }
    result.map(|()| summary)
}

fn import(backup: &Path, data_dir: &Path) -> Result<(), BackupError> {
    crate::private::create_dir(data_dir)?;
    let db = sled::Config::new().path(data_dir.join("db")).open()?;
    let mut tree: Option<sled::Tree> = None;
    let mut batch = sled::Batch::default();
    let mut pending = 0usize;
    read_snapshot(open(backup)?, |item| {
        match item {
            Item::Tree(name) => {
                if let Some(t) = &tree {
                    t.apply_batch(std::mem::take(&mut batch))?;
                }
                pending = 0;
                tree = Some(db.open_tree(name)?);
            }
            Item::Entry(key, value) => {
                batch.insert(key, value);
                pending += 1;
                if pending >= 1000 {
                    if let Some(t) = &tree {
                        t.apply_batch(std::mem::take(&mut batch))?;
                    }
                    pending = 0;
                }
            }
        }
        Ok(())
    })?;
    if let Some(t) = &tree {
        t.apply_batch(batch)?;
    }
    db.flush()?;
    drop(tree);
    drop(db);
    // Opening it as the server does runs migrations and proves it readable. sled's threads
    // may hold the lock of the handle just dropped for a moment.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let store = loop {
        match crate::store::Store::open(data_dir) {
            Err(e) if e.to_string().contains("lock") && std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(10))
            }
            opened => break opened,
        }
    }
    .map_err(|e| BackupError::Corrupt(format!("the restored database does not open: {e}")))?;
    if store.root_account().ok().flatten().is_none() {
        return Err(BackupError::Corrupt(
            "the backup holds no root account".into(),
        ));
    }
    // A start reads every record only after it serves: a restore reads them before it
    // reports success.
    store
        .check_records()
        .map_err(|e| BackupError::Corrupt(format!("the restored database: {e}")))?;
    store
        .flush()
        .and_then(|()| store.mark_initialised())
        .map_err(|e| BackupError::Corrupt(e.to_string()))?;
    Ok(())
}

#[cfg(test)]
mod tests;
