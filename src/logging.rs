//! Log output, written by a thread of its own.
//!
//! Every request is logged (see `api::request_id`). Writing each line to stderr from the
//! worker that served the request cost a system call per request, and the workers queued on
//! the stderr lock while another one was in that call: about a tenth of the CPU time of an
//! authenticated GET. Lines are appended to a buffer instead, and one thread writes the
//! buffer out at most every `BATCH_WINDOW`: a line appears within that time, and under load
//! the lines of thousands of requests share one write (waking the writer per line would
//! cost a context switch per request, more than the write it saves).
//! The buffer is bounded: past `MAX_PENDING` bytes, loggers wait for the writer (a stuck
//! stderr slows the server down rather than growing its memory).

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};

const MAX_PENDING: usize = 1 << 20;
const BATCH_WINDOW: std::time::Duration = std::time::Duration::from_millis(10);

#[derive(Default)]
struct Pending {
    bytes: Vec<u8>,
    /// The writer holds bytes taken from `bytes` that are not yet written.
    writing: bool,
}

#[derive(Default)]
struct Shared {
    pending: Mutex<Pending>,
    /// Signalled when bytes are added.
    added: Condvar,
    /// Signalled when the writer has written what it took.
    written: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }
}

static SHARED: OnceLock<Arc<Shared>> = OnceLock::new();

/// Sets up `env_logger` (filter from `RUST_LOG`, `default_filter` otherwise) writing through
/// the background thread.
pub fn init(default_filter: &str) {
    let shared = SHARED.get_or_init(|| {
        let shared = Arc::new(Shared::default());
        let writer = shared.clone();
        std::thread::Builder::new()
            .name("iamd-log".into())
            .spawn(move || write_loop(&writer))
            .expect("cannot start the log writer thread");
        shared
    });
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(default_filter))
        .target(env_logger::Target::Pipe(Box::new(Sink(shared.clone()))))
        .init();
}

/// Waits until every line logged so far is written to stderr. Call before exiting.
pub fn flush() {
    if let Some(shared) = SHARED.get() {
        let mut pending = shared.lock();
        while !pending.bytes.is_empty() || pending.writing {
            pending = shared
                .written
                .wait(pending)
                .unwrap_or_else(|p| p.into_inner());
        }
    }
}

struct Sink(Arc<Shared>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut pending = self.0.lock();
        while pending.bytes.len() >= MAX_PENDING {
            pending = self
                .0
                .written
                .wait(pending)
                .unwrap_or_else(|p| p.into_inner());
        }
        let was_empty = pending.bytes.is_empty();
        pending.bytes.extend_from_slice(buf);
        if was_empty {
            self.0.added.notify_one();
        }
        Ok(buf.len())
    }

    /// Lines are complete when written here; `flush()` (the function) waits for stderr.
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn write_loop(shared: &Shared) {
    let mut out = Vec::new();
    loop {
        {
            let mut pending = shared.lock();
            pending.writing = false;
            shared.written.notify_all();
            while pending.bytes.is_empty() {
                pending = shared
                    .added
                    .wait(pending)
                    .unwrap_or_else(|p| p.into_inner());
            }
            pending.writing = true;
        }
        std::thread::sleep(BATCH_WINDOW);
        std::mem::swap(&mut shared.lock().bytes, &mut out);
        // Nothing sensible is left to do with a log line stderr refuses.
        let _ = std::io::stderr().lock().write_all(&out);
        out.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sink_hands_lines_to_the_writer_in_order() {
        let shared = Arc::new(Shared::default());
        let mut sink = Sink(shared.clone());
        sink.write_all(b"one\n").unwrap();
        sink.write_all(b"two\n").unwrap();
        assert_eq!(shared.lock().bytes, b"one\ntwo\n");
    }
}
