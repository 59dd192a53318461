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

/// Makes sure `data_dir` exists (creating it, private) and this process can write in it; the
/// error is one sentence naming the directory and what to do.
pub fn check_writable(data_dir: &Path) -> Result<(), String> {
    let probe = data_dir.join(".iamd-write-test");
    let result = crate::private::create_dir(data_dir)
        .and_then(|()| crate::private::create_file(&probe).map(drop))
        .and_then(|()| std::fs::remove_file(&probe));
    result.map_err(|e| {
        use std::io::ErrorKind;
        let why = match e.kind() {
            ErrorKind::PermissionDenied => "this user may not write there".to_string(),
            ErrorKind::ReadOnlyFilesystem => "it is on a read-only file system".to_string(),
            ErrorKind::NotADirectory | ErrorKind::AlreadyExists => {
                "a part of the path is a file, not a directory".to_string()
            }
            ErrorKind::StorageFull => "its file system is full".to_string(),
            _ => e.to_string(),
        };
        format!(
            "cannot write to the data directory {}: {why}; make it writable for this user, or \
             set data_dir (IAMD_DATA_DIR) to another directory",
            data_dir.display()
        )
    })
}
