//! Group commit: a write is acknowledged only after a flush that started after it.
//!
//! Writers take a ticket and wait; one background thread flushes sled and releases every
//! ticket issued before that flush began. Under load, many writes share one fsync, so
//! durability costs one flush per batch rather than one per request. (Each flush is also
//! recorded outside the database, see `Trees::flush`.)

use super::Trees;
use crate::store::{StoreError, StoreResult};
use std::sync::{Arc, Condvar, Mutex};
use tokio::sync::watch;

struct Inner {
    trees: Trees,
    /// (tickets issued, shutting down)
    state: Mutex<(u64, bool)>,
    wake: Condvar,
    /// (highest ticket made durable, whether the last flush succeeded)
    done: watch::Sender<(u64, bool)>,
}

pub struct Flusher {
    inner: Arc<Inner>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Flusher {
    pub fn start(trees: Trees) -> Flusher {
        let (done, _) = watch::channel((0, true));
        let inner = Arc::new(Inner {
            trees,
            state: Mutex::new((0, false)),
            wake: Condvar::new(),
            done,
        });
        let worker = inner.clone();
        let thread = std::thread::Builder::new()
            .name("iamd-flusher".into())
            .spawn(move || flush_loop(&worker))
            .expect("cannot start the flusher thread");
        Flusher {
            inner,
            thread: Some(thread),
        }
    }

    async fn wait_durable(&self) -> StoreResult<()> {
        let ticket = {
            let mut state = self.inner.state.lock().unwrap_or_else(|p| p.into_inner());
            state.0 += 1;
            state.0
        };
        let mut rx = self.inner.done.subscribe();
        self.inner.wake.notify_one();
        let seen = rx
            .wait_for(|(flushed, _)| *flushed >= ticket)
            .await
            .map_err(|_| StoreError::Backend("flusher stopped".into()))?;
        if seen.1 {
            Ok(())
        } else {
            Err(StoreError::Unavailable(
                "The server could not write to its disk; the change was not saved.".into(),
            ))
        }
    }
}

impl Drop for Flusher {
    /// Stops the thread and waits for it, so that the database (and its lock on the data
    /// directory) is released when the last `Store` goes.
    fn drop(&mut self) {
        {
            let mut state = self.inner.state.lock().unwrap_or_else(|p| p.into_inner());
            state.1 = true;
            self.inner.wake.notify_one();
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn flush_loop(inner: &Inner) {
    let mut flushed = 0u64;
    loop {
        let target = {
            let mut state = inner.state.lock().unwrap_or_else(|p| p.into_inner());
            while state.0 == flushed && !state.1 {
                state = inner.wake.wait(state).unwrap_or_else(|p| p.into_inner());
            }
            if state.1 && state.0 == flushed {
                return;
            }
            state.0
        };
        // `Trees::flush` logs a failure and takes the database out of service.
        let ok = inner.trees.flush().is_ok();
        flushed = target;
        inner.done.send_replace((flushed, ok));
    }
}

/// The handle stores keep to mark their writes as needing a flush.
#[derive(Clone)]
pub struct Commit {
    flusher: Arc<Flusher>,
}

impl Commit {
    pub fn new(flusher: Arc<Flusher>) -> Commit {
        Commit { flusher }
    }

    pub async fn durable(&self) -> StoreResult<()> {
        self.flusher.wait_durable().await
    }
}
