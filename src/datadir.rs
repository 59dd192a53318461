//! Facts about a data directory that a command checks before it opens the database, so that
//! what goes wrong is said in one plain sentence naming the path.

use std::path::Path;

/// The file the open database holds an exclusive lock on (sled's log, `flock`ed while open).
fn lock_file(data_dir: &Path) -> std::path::PathBuf {
    data_dir.join("db").join("db")
}

/// Whether another process (a running server, a backup) has the database of `data_dir` open.
pub fn in_use(data_dir: &Path) -> bool {
    let Ok(file) = std::fs::File::open(lock_file(data_dir)) else {
        return false;
    };
    matches!(file.try_lock(), Err(std::fs::TryLockError::WouldBlock))
}

/// The sentence for a database that another process has open.
pub fn in_use_message(data_dir: &Path) -> String {
    format!(
        "the data directory {} is in use by another iamd process (a running server?): stop \
         it first, or give this one another data directory",
        data_dir.display()
    )
}
