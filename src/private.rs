//! Private by default: the data directory is 0700 and everything in it 0600 (directories
//! 0700), whatever the umask iamd was started with. It holds CA and device private keys,
//! password hashes, and emails with temporary passwords and invitation links.
//!
//! sled creates its files itself, so `main` sets the process umask to 077 first; files iamd
//! writes are created 0600 explicitly, and a start tightens what an earlier release left.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// New files and directories of this process are for its user only.
pub fn set_umask() {
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
}

/// Creates `dir` (and missing parents) and makes it 0700, unless it is a shared directory
/// with the sticky bit (a data directory configured as `/tmp` itself is left alone).
pub fn create_dir(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    if std::fs::metadata(dir)?.permissions().mode() & 0o1000 != 0 {
        log::warn!("{} is a shared directory: not made private", dir.display());
        return Ok(());
    }
    restrict(dir, 0o700)
}

/// Creates (or truncates) `path` 0600, for reading and writing.
pub fn create_file(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
}

/// Sets `path`'s permission bits to `mode` unless they are already.
pub fn restrict(path: &Path, mode: u32) -> io::Result<()> {
    let meta = std::fs::symlink_metadata(path)?;
    if meta.file_type().is_symlink() || meta.permissions().mode() & 0o777 == mode {
        return Ok(());
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

/// Tightens what iamd keeps in `data_dir` (made by an earlier release, or copied in) to
/// 0700 directories and 0600 files: only its own entries, never anything else that lives
/// there. The outbox's files are done by its own thread (there can be many). Goes on after
/// a failure and returns the first.
pub fn tighten(data_dir: &Path) -> io::Result<()> {
    let mut first = create_dir(data_dir).err();
    let files = [crate::bootstrap::KEY_FILE, crate::store::MARKER];
    for name in files {
        let path = data_dir.join(name);
        if let Err(e) = restrict(&path, 0o600) {
            if e.kind() != io::ErrorKind::NotFound {
                first.get_or_insert(e);
            }
        }
    }
    let outbox = data_dir.join("outbox");
    if outbox.is_dir() {
        if let Err(e) = restrict(&outbox, 0o700) {
            first.get_or_insert(e);
        }
    }
    for name in ["db", "tls"] {
        let dir = data_dir.join(name);
        if dir.is_dir() {
            if let Err(e) = tighten_tree(&dir) {
                first.get_or_insert(e);
            }
        }
    }
    first.map_or(Ok(()), Err)
}

/// `dir` and everything below it.
fn tighten_tree(dir: &Path) -> io::Result<()> {
    let mut first = restrict(dir, 0o700).err();
    for entry in std::fs::read_dir(dir)? {
        let Ok(entry) = entry else { continue };
        let path = entry.path();
        let result = match entry.file_type() {
            Ok(t) if t.is_dir() => tighten_tree(&path),
            Ok(t) if t.is_file() => restrict(&path, 0o600),
            _ => Ok(()),
        };
        if let Err(e) = result {
            first.get_or_insert(e);
        }
    }
    first.map_or(Ok(()), Err)
}
