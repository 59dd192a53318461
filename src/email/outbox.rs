//! The outbox directory: one RFC 5322 file per email (`<id>.eml`), written under a temporary
//! name, synced and renamed, so a mail transfer agent picking files up never sees half a
//! message and a file that is there after a crash is whole. A rename is durable only once
//! the directory is synced: emails written at the same time share one directory sync (the
//! store's group commit, around a directory instead of sled), so each email costs one sync
//! of its own file.

use crate::ids::Id;
use crate::store::Flusher;
use std::io::Write;
use std::path::{Path, PathBuf};

pub struct Outbox {
    dir: PathBuf,
    dir_sync: Flusher,
}

impl Outbox {
    pub fn new(dir: PathBuf) -> Outbox {
        let synced = dir.clone();
        let dir_sync = Flusher::with_action(
            "iamd-outbox",
            Box::new(
                move || match std::fs::File::open(&synced).and_then(|d| d.sync_all()) {
                    Ok(()) => true,
                    Err(e) => {
                        log::error!("cannot sync the outbox {}: {e}", synced.display());
                        false
                    }
                },
            ),
        );
        Outbox { dir, dir_sync }
    }

    /// Writes `<id>.eml`; it is durable when this returns `Ok`.
    pub async fn write(&self, id: Id, message: Vec<u8>) -> std::io::Result<()> {
        let dir = self.dir.clone();
        actix_web::web::block(move || write_file(&dir, &id, &message))
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))??;
        self.dir_sync
            .wait_durable()
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))
    }
}

/// `<dir>/<id>.eml`, via a temporary file whose data is synced before the rename.
fn write_file(dir: &Path, id: &Id, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = dir.join(format!(".{}.eml.tmp", id.hex()));
    let result = (|| {
        let mut file = match std::fs::File::create(&tmp) {
            // The first email (or an operator removed the directory).
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(dir)?;
                std::fs::File::create(&tmp)?
            }
            other => other?,
        };
        file.write_all(bytes)?;
        file.sync_data()?;
        std::fs::rename(&tmp, dir.join(format!("{}.eml", id.hex())))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
