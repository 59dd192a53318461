//! The outbox directory: one RFC 5322 file per email (`<id>.eml`), written under a temporary
//! name and renamed only once its data is on disk, so a mail transfer agent picking files up
//! never sees half a message.
//!
//! The temporary files are written by a thread of their own, one after another. Written from
//! the blocking pool, up to one per HTTP request at once, they contended for the directory's
//! lock (the kernel's spinning on it showed in profiles of user creates), and each write
//! woke a pool thread of its own.
//!
//! Emails written at the same time are made durable together, by one thread: it syncs their
//! data, renames them all, and answers each writer. On Linux the data sync is one `syncfs`
//! for the whole batch: syncing each file on its own issued a synchronous write of its
//! inode, and cost about twice the CPU per email. There the sync starts as soon as a file is
//! written, while the request's transaction still runs (the writing thread asks for it), so
//! that `commit` usually finds the data on disk and only renames: on PostgreSQL, whose
//! commit is durable before the store call returns, the sync came after it and a user create
//! waited for two syncs one after the other. The renames are made durable after the
//! answer, off the writers' path: by the next batch's `syncfs`, or by a sync of the
//! directory when none came for a few milliseconds. What is durable at the answer is the
//! temporary file, whole, and that is enough: the next start finishes such a file
//! (`email::recover`). Waiting for the directory's sync as well made every email one sync
//! slower to answer.
//! Hand-written, not a mail crate's file transport: none batches the syncs nor renames only
//! after the data is durable, and those two are the point of this file.
//!
//! The temporary file (`.<id>.<account>.<digest>.eml.tmp`) is written before the write that
//! logs the email commits. Its name carries the first bytes of the message's SHA-256, so the
//! next start can tell a whole file from one a crash cut short: a whole one whose log entry
//! committed is finished, any other was never sent and its entry is corrected.

use crate::ids::Id;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use tokio::sync::oneshot;

pub struct Outbox {
    dir: PathBuf,
    writes: Arc<Queue<Draft>>,
    commits: Arc<Queue<Work>>,
    /// The files known to be on disk: `1..=synced` (see `Written`). Only tests read it.
    #[cfg(test)]
    synced: Written,
    threads: Vec<std::thread::JoinHandle<()>>,
}

/// A temporary file to write. The answer carries the file as a `Prepared`, so that a file
/// nobody waits for any more (its request was dropped) goes wherever the answer is lost.
struct Draft {
    tmp: PathBuf,
    dest: PathBuf,
    message: Vec<u8>,
    done: oneshot::Sender<io::Result<Prepared>>,
}

/// A written temporary file waiting for its batch.
struct Job {
    tmp: PathBuf,
    dest: PathBuf,
    /// Its place in the order files were written (see `Written`).
    seq: u64,
    done: oneshot::Sender<io::Result<()>>,
}

/// Work for the committing thread.
enum Work {
    /// Files up to this one were written: sync them now, before anyone commits them (Linux
    /// only; a sync that already covered them is not made again).
    Sync(u64),
    Commit(Job),
}

/// How many temporary files the writing thread has written whole, counted as each write
/// ends; a sync that began after the count reached `n` covers files `1..=n`.
type Written = Arc<std::sync::atomic::AtomicU64>;

/// Whether files are synced as soon as they are written: only where one sync covers every
/// file written before it (`syncfs`); elsewhere each job syncs its own file at commit.
const PRESYNC: bool = SYNC_DATA_SYNCS_DIRECTORY;

/// Work for one of the outbox's threads.
struct Queue<T> {
    /// (work waiting, shutting down)
    state: Mutex<(Vec<T>, bool)>,
    wake: Condvar,
}

impl<T> Queue<T> {
    fn new() -> Arc<Queue<T>> {
        Arc::new(Queue {
            state: Mutex::new((Vec::new(), false)),
            wake: Condvar::new(),
        })
    }

    fn push(&self, work: T) {
        self.lock().0.push(work);
        self.wake.notify_one();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (Vec<T>, bool)> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The work waiting, once there is some; empty when shutting down with none left.
    fn take(&self) -> Vec<T> {
        let mut state = self.lock();
        while state.0.is_empty() && !state.1 {
            state = self.wake.wait(state).unwrap_or_else(|p| p.into_inner());
        }
        std::mem::take(&mut state.0)
    }

    fn shut_down(&self) {
        self.lock().1 = true;
        self.wake.notify_one();
    }
}

impl Outbox {
    pub fn new(dir: PathBuf) -> Outbox {
        let (writes, commits) = (Queue::new(), Queue::new());
        let written = Written::default();
        let (queue, target, count, syncs) = (
            writes.clone(),
            dir.clone(),
            written.clone(),
            commits.clone(),
        );
        let writer = spawn("iamd-outbox-write", move || {
            write_loop(&target, &queue, &count, &syncs)
        });
        let (queue, synced, on_disk) = (commits.clone(), dir.clone(), Written::default());
        let published = on_disk.clone();
        let started = std::time::SystemTime::now();
        let committer = spawn("iamd-outbox", move || {
            tighten(&synced, started);
            if std::env::var_os(STALL).is_some() {
                log::warn!("{STALL} is set: no email is ever finished (tests only)");
                return stall(&queue);
            }
            commit_loop(&synced, &queue, &written, &published)
        });
        Outbox {
            dir,
            writes,
            commits,
            #[cfg(test)]
            synced: on_disk,
            // The writer first: `Drop` joins it before the committer (a test takes it from here).
            threads: vec![writer, committer],
        }
    }

    /// Writes the email `id` of `account` under its temporary name, on the outbox's writing
    /// thread; `commit` makes it final. Nothing here waits for the disk to sync.
    pub async fn prepare(&self, id: &Id, account: &Id, message: Vec<u8>) -> io::Result<Prepared> {
        let (done, answer) = oneshot::channel();
        self.writes.push(Draft {
            tmp: self.dir.join(tmp_name(id, account, &digest(&message))),
            dest: self.dir.join(format!("{}.eml", id.hex())),
            message,
            done,
        });
        answer
            .await
            .unwrap_or_else(|_| Err(io::Error::other("the outbox stopped")))
    }

    /// Whether the data of `prepared` is known to be on disk already.
    #[cfg(test)]
    fn on_disk(&self, prepared: &Prepared) -> bool {
        prepared.seq <= self.synced.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Makes a prepared email `<id>.eml`; it is durable when this returns `Ok`.
    pub async fn commit(&self, mut prepared: Prepared) -> io::Result<()> {
        let Some(tmp) = prepared.tmp.take() else {
            return Err(io::Error::other("already committed"));
        };
        let (done, answer) = oneshot::channel();
        self.commits.push(Work::Commit(Job {
            tmp,
            dest: prepared.dest.clone(),
            seq: prepared.seq,
            done,
        }));
        answer
            .await
            .unwrap_or_else(|_| Err(io::Error::other("the outbox stopped")))
    }
}

/// An email under its temporary name; dropped uncommitted, the file goes.
pub struct Prepared {
    tmp: Option<PathBuf>,
    dest: PathBuf,
    /// Its place in the order files were written (see `Written`).
    seq: u64,
}

impl Drop for Prepared {
    fn drop(&mut self) {
        if let Some(tmp) = self.tmp.take() {
            let _ = std::fs::remove_file(tmp);
        }
    }
}

fn tmp_name(id: &Id, account: &Id, digest: &str) -> String {
    format!(".{}.{}.{digest}.eml.tmp", id.hex(), account.hex())
}

/// The first 8 bytes of the SHA-256 of `message`, in hex: enough to tell a whole file from a
/// cut or zero-filled one.
fn digest(message: &[u8]) -> String {
    let sum = ring::digest::digest(&ring::digest::SHA256, message);
    sum.as_ref()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A temporary file a stopped server left in the outbox.
pub struct Unfinished {
    /// The (email, account) ids its name gives (none in names older releases wrote).
    pub ids: Option<(Id, Id)>,
    /// Whether the file holds the whole message its name vouches for.
    pub whole: bool,
    pub path: PathBuf,
}

impl Unfinished {
    /// Makes the file the email `<id>.eml`, durably.
    pub fn finish(&self, dir: &Path) -> io::Result<()> {
        let Some((id, _)) = &self.ids else {
            return Err(io::Error::other("an unnamed email"));
        };
        std::fs::rename(&self.path, dir.join(format!("{}.eml", id.hex())))?;
        File::open(dir)?.sync_all()
    }
}

/// The temporary files a stopped server left in `dir`.
pub fn unfinished(dir: &Path) -> Vec<Unfinished> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name();
            let stem = name.to_str()?.strip_prefix('.')?.strip_suffix(".eml.tmp")?;
            let mut parts = stem.split('.');
            let ids = match (parts.next(), parts.next()) {
                (Some(id), Some(account)) => Id::parse(id).zip(Id::parse(account)),
                _ => None,
            };
            let path = entry.path();
            let whole = match (ids, parts.next(), parts.next()) {
                (Some(_), Some(vouched), None) => {
                    std::fs::read(&path).is_ok_and(|bytes| digest(&bytes) == vouched)
                }
                _ => false,
            };
            Some(Unfinished { ids, whole, path })
        })
        .collect()
}

impl Drop for Outbox {
    /// Writes and finishes the files already handed over, then stops the threads.
    fn drop(&mut self) {
        self.writes.shut_down();
        self.commits.shut_down();
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

fn spawn(name: &str, work: impl FnOnce() + Send + 'static) -> std::thread::JoinHandle<()> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(work)
        .expect("cannot start an outbox thread")
}

/// Writes the temporary files asked for, in order, and asks the committing thread to sync
/// them (see `PRESYNC`) before answering each. (An answer that finds no one waiting is
/// dropped, and with it the file: see `Draft`.)
fn write_loop(dir: &Path, queue: &Queue<Draft>, written: &Written, syncs: &Queue<Work>) {
    use std::sync::atomic::Ordering;
    loop {
        let writes = queue.take();
        if writes.is_empty() {
            return;
        }
        let mut answers = Vec::with_capacity(writes.len());
        for draft in writes {
            hold_for_test();
            let Draft {
                tmp,
                dest,
                message,
                done,
            } = draft;
            let result = write_tmp(dir, &tmp, &message).map(|()| Prepared {
                tmp: Some(tmp),
                dest,
                seq: written.fetch_add(1, Ordering::SeqCst) + 1,
            });
            answers.push((done, result));
        }
        let last = answers
            .iter()
            .filter_map(|(_, result)| Some(result.as_ref().ok()?.seq));
        if let Some(last) = last.max().filter(|_| PRESYNC) {
            syncs.push(Work::Sync(last));
        }
        for (done, result) in answers {
            let _lost = done.send(result);
        }
    }
}

fn write_tmp(dir: &Path, tmp: &Path, bytes: &[u8]) -> io::Result<()> {
    let result = (|| {
        let mut file = match crate::private::create_file(tmp) {
            // The first email (or an operator removed the directory).
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                crate::private::create_dir(dir)?;
                crate::private::create_file(tmp)?
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

/// Test hook: with this variable set, the outbox never finishes an email (its thread keeps
/// every job unanswered), so a test can stop the server with emails in progress.
const STALL: &str = "IAMD_TEST_STALL_OUTBOX";

/// Test hook: with this variable naming a file, every temporary file's write waits until that
/// file exists (announcing the wait with `<file>.held`), so a test can hold an email's write
/// and watch what else the server does meanwhile.
const HOLD: &str = "IAMD_TEST_HOLD_OUTBOX_WRITE";

fn hold_for_test() {
    static RELEASE: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    let Some(release) = RELEASE.get_or_init(|| std::env::var_os(HOLD).map(PathBuf::from)) else {
        return;
    };
    let mut held = release.clone().into_os_string();
    held.push(".held");
    let _ = File::create(&held);
    while !release.exists() {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

fn stall(queue: &Queue<Work>) {
    let mut held = Vec::new();
    let mut state = queue.lock();
    while !state.1 {
        held.append(&mut state.0);
        state = queue.wake.wait(state).unwrap_or_else(|p| p.into_inner());
    }
}

/// Makes the emails an earlier release left readable by others private (see `private`).
/// (Temporary files are gone or finished by now: see `email::recover`.)
/// Only files older than this start: newer ones are private already. Runs on the outbox
/// thread, so a large outbox does not slow the start down.
fn tighten(dir: &Path, started: std::time::SystemTime) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let ours = name.to_string_lossy().ends_with(".eml");
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| t < started);
        if ours && old {
            if let Err(e) = crate::private::restrict(&entry.path(), 0o600) {
                log::warn!("cannot make {} private: {e}", entry.path().display());
            }
        }
    }
}

fn commit_loop(dir: &Path, queue: &Queue<Work>, written: &Written, published: &Written) {
    // Whether renames were made since the directory was last synced.
    let mut unsynced = false;
    // Files `1..=synced` are known to be on disk (see `Written`).
    let mut synced = 0;
    loop {
        let work = {
            let mut state = queue.lock();
            if state.0.is_empty() && unsynced && !state.1 {
                // Under load the next batch comes within a few milliseconds, and its sync
                // covers the renames; a directory sync started now would hold it up.
                state = queue
                    .wake
                    .wait_timeout(state, IDLE)
                    .unwrap_or_else(|p| p.into_inner())
                    .0;
            }
            if state.0.is_empty() && unsynced {
                // Nothing came: the renames are made durable now.
                drop(state);
                sync_dir(dir);
                unsynced = false;
                continue;
            }
            while state.0.is_empty() && !state.1 {
                state = queue.wake.wait(state).unwrap_or_else(|p| p.into_inner());
            }
            if state.0.is_empty() {
                return;
            }
            std::mem::take(&mut state.0)
        };
        // The last file this work needs on disk (asked to be synced, or to be committed).
        let needed = (work.iter())
            .map(|w| match w {
                Work::Sync(seq) | Work::Commit(Job { seq, .. }) => *seq,
            })
            .max()
            .unwrap_or(0);
        let jobs: Vec<Job> = (work.into_iter())
            .filter_map(|w| match w {
                Work::Commit(job) => Some(job),
                Work::Sync(_) => None,
            })
            .collect();
        let mut outcome = Ok(());
        if !PRESYNC || needed > synced {
            // Read before the sync starts: every file counted here was whole by then.
            let count = written.load(std::sync::atomic::Ordering::SeqCst);
            outcome = sync_data(dir, &jobs);
            if outcome.is_ok() && PRESYNC {
                // `syncfs` also made every earlier rename durable.
                (synced, unsynced) = (count, false);
                published.store(synced, std::sync::atomic::Ordering::SeqCst);
            }
        }
        unsynced |= commit(dir, jobs, synced, &outcome);
    }
}

/// Renames each job's file whose data is on disk (written by `synced`, or `outcome` of this
/// round's sync is `Ok`), answering each with its own outcome. Whether renames wait for the
/// directory's sync.
fn commit(dir: &Path, jobs: Vec<Job>, synced: u64, outcome: &io::Result<()>) -> bool {
    let mut renamed = false;
    let mut answers = Vec::with_capacity(jobs.len());
    for job in jobs {
        let result = match outcome {
            _ if PRESYNC && job.seq <= synced => std::fs::rename(&job.tmp, &job.dest),
            Ok(()) => std::fs::rename(&job.tmp, &job.dest),
            Err(e) => Err(io::Error::new(e.kind(), e.to_string())),
        };
        match &result {
            Ok(()) => renamed = true,
            Err(e) => {
                log::error!("cannot move {} into the outbox: {e}", job.dest.display());
                let _ = std::fs::remove_file(&job.tmp);
            }
        }
        answers.push((job.done, result));
    }
    if renamed && !SYNC_DATA_SYNCS_DIRECTORY {
        // The temporary files' names are not durable without it.
        sync_dir(dir);
        renamed = false;
    }
    for (done, result) in answers {
        let _ = done.send(result);
    }
    renamed
}

/// Makes the renames in `dir` durable. A failure is only logged: the temporary files are
/// durable already, and the next start finishes whichever rename was lost.
fn sync_dir(dir: &Path) {
    if let Err(e) = File::open(dir).and_then(|d| d.sync_all()) {
        log::error!("cannot sync the outbox {}: {e}", dir.display());
    }
}

/// How long the thread waits for another batch before it syncs the directory itself.
const IDLE: std::time::Duration = std::time::Duration::from_millis(5);

/// Whether `sync_data` also makes the directory durable, with the temporary files' names and
/// earlier renames (`syncfs` does: it writes out every dirty inode and block of the
/// filesystem; a file's own sync does not).
const SYNC_DATA_SYNCS_DIRECTORY: bool = cfg!(target_os = "linux");

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

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::FutureExt;

    /// A request dropped while its email is written (a client that went) leaves no file,
    /// even when the write was answered before the request could take the answer.
    #[test]
    fn an_email_written_for_a_request_that_went_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut outbox = Outbox::new(dir.path().to_path_buf());
        let writer = outbox.threads.remove(0);
        let (id, account) = (Id::new(), Id::new());
        let message = b"To: <a@example.com>\r\n\r\nHello\r\n".to_vec();
        let mut preparing = Box::pin(outbox.prepare(&id, &account, message));
        // The first poll hands the email to the writing thread; stopped, the thread has
        // written and answered it, and the answer waits untaken.
        let first = (&mut preparing).now_or_never();
        outbox.writes.shut_down();
        writer.join().unwrap();
        let written = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(written, 1, "the temporary file is written");
        drop(first);
        drop(preparing);
        drop(outbox);
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|entry| entry.file_name())
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }

    /// On Linux an email's data is synced as soon as it is written, while the request's
    /// transaction runs; the commit then only renames it.
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn an_email_is_synced_before_it_is_committed() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = Outbox::new(dir.path().to_path_buf());
        let (id, account) = (Id::new(), Id::new());
        let message = b"To: <a@example.com>\r\n\r\nHello\r\n".to_vec();
        let prepared = outbox
            .prepare(&id, &account, message.clone())
            .await
            .unwrap();
        let asked = std::time::Instant::now();
        while !outbox.on_disk(&prepared) {
            assert!(
                asked.elapsed().as_secs() < 10,
                "the written file was never synced"
            );
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        let final_name = dir.path().join(format!("{}.eml", id.hex()));
        assert!(
            !final_name.exists(),
            "synced, but not final before the commit"
        );
        outbox.commit(prepared).await.unwrap();
        assert_eq!(std::fs::read(&final_name).unwrap(), message);
    }

    #[test]
    fn a_leftover_file_is_whole_only_when_it_matches_the_digest_in_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let (id, account) = (Id::new(), Id::new());
        let message = b"To: <a@example.com>\r\n\r\nHello\r\n";
        let named = |id: &Id| dir.path().join(tmp_name(id, &account, &digest(message)));
        std::fs::write(named(&id), message).unwrap();
        let cut = Id::new();
        std::fs::write(named(&cut), &message[..10]).unwrap();
        // Names older releases wrote carry no digest: never whole.
        let old = Id::new();
        let old_name = format!(".{}.{}.eml.tmp", old.hex(), account.hex());
        std::fs::write(dir.path().join(old_name), message).unwrap();
        std::fs::write(dir.path().join(".junk.eml.tmp"), message).unwrap();
        std::fs::write(dir.path().join(format!("{}.eml", Id::new().hex())), message).unwrap();

        let mut found: Vec<(Option<Id>, bool)> = unfinished(dir.path())
            .iter()
            .map(|u| (u.ids.map(|(id, _)| id), u.whole))
            .collect();
        found.sort_by_key(|(id, _)| id.map(|i| i.hex()));
        let mut expected = vec![(None, false), (Some(id), true), (Some(cut), false)];
        expected.push((Some(old), false));
        expected.sort_by_key(|(id, _)| id.map(|i| i.hex()));
        assert_eq!(found, expected);

        let whole = unfinished(dir.path())
            .into_iter()
            .find(|u| u.whole)
            .unwrap();
        whole.finish(dir.path()).unwrap();
        let done = std::fs::read(dir.path().join(format!("{}.eml", id.hex()))).unwrap();
        assert_eq!(done, message);
        assert!(!whole.path.exists());
    }
}
