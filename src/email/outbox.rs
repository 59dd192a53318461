//! The outbox directory: one RFC 5322 file per email (`<id>.eml`), written under a temporary
//! name and renamed only once its data is on disk, so a mail transfer agent picking files up
//! never sees half a message and a file that is there after a crash is whole.
//!
//! Emails written at the same time are made durable together, by one thread: it syncs their
//! data, renames them all, then syncs the directory, and answers each writer. On Linux the
//! data sync is one `syncfs` for the whole batch: syncing each file on its own issued a
//! synchronous write of its inode, and cost about twice the CPU per email.
//! Hand-written, not a mail crate's file transport: none batches the syncs nor renames only
//! after the data is durable, and those two are the point of this file.

use crate::ids::Id;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use tokio::sync::oneshot;

pub struct Outbox {
    dir: PathBuf,
    queue: Arc<Queue>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// A written temporary file waiting for its batch.
struct Job {
    tmp: PathBuf,
    dest: PathBuf,
    done: oneshot::Sender<io::Result<()>>,
}

#[derive(Default)]
struct Queue {
    /// (files waiting, shutting down)
    state: Mutex<(Vec<Job>, bool)>,
    wake: Condvar,
}

impl Outbox {
    pub fn new(dir: PathBuf) -> Outbox {
        let queue = Arc::new(Queue::default());
        let (worker, synced) = (queue.clone(), dir.clone());
        let started = std::time::SystemTime::now();
        let thread = std::thread::Builder::new()
            .name("iamd-outbox".into())
            .spawn(move || {
                remove_leftovers(&synced, started);
                commit_loop(&synced, &worker)
            })
            .expect("cannot start the outbox thread");
        Outbox {
            dir,
            queue,
            thread: Some(thread),
        }
    }

    /// Writes `<id>.eml`; it is durable when this returns `Ok`.
    pub async fn write(&self, id: Id, message: Vec<u8>) -> io::Result<()> {
        let hex = id.hex();
        let tmp = self.dir.join(format!(".{hex}.eml.tmp"));
        // Written on the calling worker: creating and filling a small file in the page cache
        // costs less than handing it to another thread. Nothing here waits for the disk.
        write_tmp(&self.dir, &tmp, &message)?;
        let (done, answer) = oneshot::channel();
        {
            let mut state = self.queue.state.lock().unwrap_or_else(|p| p.into_inner());
            state.0.push(Job {
                tmp,
                dest: self.dir.join(format!("{hex}.eml")),
                done,
            });
        }
        self.queue.wake.notify_one();
        answer
            .await
            .unwrap_or_else(|_| Err(io::Error::other("the outbox stopped")))
    }
}

impl Drop for Outbox {
    /// Finishes the files already handed over, then stops the thread.
    fn drop(&mut self) {
        {
            let mut state = self.queue.state.lock().unwrap_or_else(|p| p.into_inner());
            state.1 = true;
        }
        self.queue.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn write_tmp(dir: &Path, tmp: &Path, bytes: &[u8]) -> io::Result<()> {
    let result = (|| {
        let mut file = match File::create(tmp) {
            // The first email (or an operator removed the directory).
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                std::fs::create_dir_all(dir)?;
                File::create(tmp)?
            }
            other => other?,
        };
        file.write_all(bytes)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(tmp);
    }
    result
}

/// Temporary files of emails a killed process never finished (their requests got no
/// answer). Only files older than this start are touched: newer ones are being written.
/// Runs on the outbox thread, so a large outbox does not slow the start down.
fn remove_leftovers(dir: &Path, started: std::time::SystemTime) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let unfinished = name.starts_with('.') && name.ends_with(".eml.tmp");
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| t < started);
        if unfinished && old {
            match std::fs::remove_file(entry.path()) {
                Ok(()) => log::info!("removed the unfinished email {name} from the outbox"),
                Err(e) => log::warn!("cannot remove {name} from the outbox: {e}"),
            }
        }
    }
}

fn commit_loop(dir: &Path, queue: &Queue) {
    loop {
        let jobs = {
            let mut state = queue.state.lock().unwrap_or_else(|p| p.into_inner());
            while state.0.is_empty() && !state.1 {
                state = queue.wake.wait(state).unwrap_or_else(|p| p.into_inner());
            }
            if state.0.is_empty() {
                return;
            }
            std::mem::take(&mut state.0)
        };
        commit(dir, jobs);
    }
}

/// Data synced, renamed, directory synced; each job answered with its own outcome.
fn commit(dir: &Path, jobs: Vec<Job>) {
    let synced = sync_data(dir, &jobs);
    let mut renamed = Vec::with_capacity(jobs.len());
    for job in jobs {
        let result = match &synced {
            Ok(()) => std::fs::rename(&job.tmp, &job.dest),
            Err(e) => Err(io::Error::new(e.kind(), e.to_string())),
        };
        match result {
            Ok(()) => renamed.push(job.done),
            Err(e) => {
                log::error!("cannot move {} into the outbox: {e}", job.dest.display());
                let _ = std::fs::remove_file(&job.tmp);
                let _ = job.done.send(Err(e));
            }
        }
    }
    if renamed.is_empty() {
        return;
    }
    let dir_synced = File::open(dir).and_then(|d| d.sync_all());
    if let Err(e) = &dir_synced {
        log::error!("cannot sync the outbox {}: {e}", dir.display());
    }
    for done in renamed {
        let _ = done.send(match &dir_synced {
            Ok(()) => Ok(()),
            Err(e) => Err(io::Error::new(e.kind(), e.to_string())),
        });
    }
}

/// Puts the data of every job's temporary file on disk.
#[cfg(target_os = "linux")]
fn sync_data(dir: &Path, _jobs: &[Job]) -> io::Result<()> {
    // One call for the batch: it also writes out whatever else is dirty on the filesystem
    // the data directory lives on.
    let dir = File::open(dir)?;
    rustix::fs::syncfs(&dir).map_err(io::Error::from)
}

#[cfg(not(target_os = "linux"))]
fn sync_data(_dir: &Path, jobs: &[Job]) -> io::Result<()> {
    jobs.iter()
        .try_for_each(|job| File::open(&job.tmp).and_then(|f| f.sync_data()))
}
