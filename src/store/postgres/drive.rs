//! Waiting on the database on the caller's own thread.
//!
//! Every call to the engine comes from a thread that must wait for its answer anyway (an
//! actix worker; see the module comment of `postgres`). So that thread also does its
//! connection's I/O: it writes the statements to the socket itself, then sleeps in
//! `poll(2)` on that socket until the answer is there, as libpq does, and the kernel wakes it
//! directly. Driven by the engine's runtime instead (tokio-postgres's usual way), a round
//! trip woke three threads: the request woke an engine thread to write it, the answer woke
//! that thread again, and it woke the worker. On two cores shared with the database's
//! backends, each of those wake-ups waited for a core, and the engine's two threads carried
//! the I/O of every connection.
//!
//! [`block_on`] polls a future on the calling thread. A [`Socket`] that cannot read or write
//! yet says so to the thread's [`block_on`], which sleeps until one of those sockets is
//! ready or a waker rings the thread's bell (an eventfd: a timer or a task of the engine's
//! runtime, another thread). A wake from the thread itself, which is how the connection and
//! the statements waiting on it hand answers to each other, costs no system call.
//!
//! A [`Socket`] registers nothing with the waker it is given: it must only be polled under
//! [`block_on`], never by a task of a runtime.

use rustix::event::{PollFd, PollFlags};
use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{Arc, Weak};
use std::task::{Context, Poll, Wake, Waker};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// One thread's waker: `woken` says a poll may make progress; the bell wakes the thread
/// from `poll(2)`, rung only while it sleeps there.
struct Sleeper {
    woken: AtomicBool,
    asleep: AtomicBool,
    bell: OwnedFd,
}

impl Wake for Sleeper {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // Paired with `sleep`: it marks itself asleep, then looks at `woken`; this marks
        // `woken`, then looks at `asleep`. One of the two sees the other's mark.
        self.woken.store(true, SeqCst);
        if self.asleep.load(SeqCst) {
            // A full counter (never, at 2^64 - 1) or a closed bell: it rings already.
            let _ = rustix::io::write(&self.bell, &1u64.to_ne_bytes());
        }
    }
}

thread_local! {
    static SLEEPER: RefCell<Option<Arc<Sleeper>>> = const { RefCell::new(None) };
    /// The sockets that could not go on since the last poll, and what they wait for. Weak:
    /// a connection dropped meanwhile closes its socket at once (the server then ends its
    /// session, and rolls back what it left open).
    static WANTED: RefCell<Vec<(Weak<Stream>, PollFlags)>> = const { RefCell::new(Vec::new()) };
}

fn sleeper() -> io::Result<Arc<Sleeper>> {
    SLEEPER.with(|cell| {
        let mut cell = cell.borrow_mut();
        if let Some(sleeper) = cell.as_ref() {
            return Ok(sleeper.clone());
        }
        let flags = rustix::event::EventfdFlags::CLOEXEC | rustix::event::EventfdFlags::NONBLOCK;
        let sleeper = Arc::new(Sleeper {
            woken: AtomicBool::new(false),
            asleep: AtomicBool::new(false),
            bell: rustix::event::eventfd(0, flags)?,
        });
        *cell = Some(sleeper.clone());
        Ok(sleeper)
    })
}

/// A waker for the calling thread, for a poll outside [`block_on`] (see `Link::alive`).
pub fn thread_waker() -> io::Result<Waker> {
    Ok(Waker::from(sleeper()?))
}

/// Polls `fut` to its end on the calling thread, sleeping while it waits (see the module
/// comment). Legal on any thread, inside a runtime or not. Fails only if the thread cannot
/// have its bell (out of file descriptors) or cannot wait.
pub fn block_on<F: Future>(fut: F) -> io::Result<F::Output> {
    let sleeper = sleeper()?;
    let waker = Waker::from(sleeper.clone());
    let mut cx = Context::from_waker(&waker);
    let mut fut = std::pin::pin!(fut);
    loop {
        sleeper.woken.store(false, SeqCst);
        WANTED.with(|wanted| wanted.borrow_mut().clear());
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return Ok(out);
        }
        sleep(&sleeper)?;
    }
}

/// Sleeps until a socket the last poll wanted is ready, or the thread's waker was called.
fn sleep(sleeper: &Sleeper) -> io::Result<()> {
    sleeper.asleep.store(true, SeqCst);
    if sleeper.woken.load(SeqCst) {
        sleeper.asleep.store(false, SeqCst);
        return Ok(());
    }
    let wanted: Vec<(Arc<Stream>, PollFlags)> = WANTED.with(|wanted| {
        let wanted = std::mem::take(&mut *wanted.borrow_mut());
        wanted
            .into_iter()
            .filter_map(|(s, f)| Some((s.upgrade()?, f)))
            .collect()
    });
    let mut fds = Vec::with_capacity(wanted.len() + 1);
    fds.push(PollFd::new(&sleeper.bell, PollFlags::IN));
    for (stream, flags) in &wanted {
        fds.push(PollFd::new(stream.as_ref(), *flags));
    }
    let polled = loop {
        match rustix::event::poll(&mut fds, None) {
            Err(rustix::io::Errno::INTR) => continue,
            other => break other,
        }
    };
    sleeper.asleep.store(false, SeqCst);
    for (fd, (stream, _)) in fds[1..].iter().zip(&wanted) {
        let ready = fd.revents();
        let broken = PollFlags::ERR | PollFlags::HUP | PollFlags::NVAL;
        if ready.intersects(PollFlags::IN | broken) {
            stream.readable.store(true, SeqCst);
        }
        if ready.intersects(PollFlags::OUT | broken) {
            stream.writable.store(true, SeqCst);
        }
    }
    if !fds[0].revents().is_empty() {
        let mut count = [0u8; 8];
        let _ = rustix::io::read(&sleeper.bell, &mut count);
    }
    polled.map(drop).map_err(io::Error::from)
}

/// Notes that `stream` waits for `flags`, for the thread's next sleep.
fn want(stream: &Arc<Stream>, flags: PollFlags) {
    WANTED.with(|wanted| {
        let mut wanted = wanted.borrow_mut();
        let stream = Arc::downgrade(stream);
        match wanted.iter_mut().find(|(s, _)| Weak::ptr_eq(s, &stream)) {
            Some((_, f)) => *f |= flags,
            None => wanted.push((stream, flags)),
        }
    });
}

/// A connected socket to the database (TCP or unix) in non-blocking mode, and whether it
/// may read or write without blocking: each is false from a read or write that would have
/// blocked until `poll(2)` says it may go on, so a connection polled again and again while
/// it waits tries no system call in vain.
pub struct Stream {
    socket: OwnedFd,
    readable: AtomicBool,
    writable: AtomicBool,
}

impl AsFd for Stream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }
}

impl Stream {
    /// The next read tries the socket whatever the last one found (to see whether the
    /// server closed it meanwhile).
    pub fn recheck(&self) {
        self.readable.store(true, SeqCst);
    }

    fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        rustix::io::read(&self.socket, buf).map_err(io::Error::from)
    }

    fn write(&self, buf: &[u8]) -> io::Result<usize> {
        // A server gone answers EPIPE, never a signal.
        rustix::net::send(&self.socket, buf, rustix::net::SendFlags::NOSIGNAL)
            .map_err(io::Error::from)
    }

    fn shutdown(&self) -> io::Result<()> {
        rustix::net::shutdown(&self.socket, rustix::net::Shutdown::Write).map_err(io::Error::from)
    }
}

/// The socket of a connection driven under [`block_on`] (see the module comment).
pub struct Socket(Arc<Stream>);

impl Socket {
    /// `socket`, a connected stream socket, switched to non-blocking mode.
    pub fn new(socket: OwnedFd) -> io::Result<Socket> {
        rustix::io::ioctl_fionbio(&socket, true)?;
        Ok(Socket(Arc::new(Stream {
            socket,
            readable: AtomicBool::new(true),
            writable: AtomicBool::new(true),
        })))
    }

    pub fn stream(&self) -> Arc<Stream> {
        self.0.clone()
    }

    /// Runs `io` until it neither is interrupted nor would block; if it would, or did last
    /// time and `poll(2)` has not said otherwise since (`ready`), the thread's next sleep
    /// waits for `flags`.
    fn attempt<T>(
        &self,
        flags: PollFlags,
        ready: &AtomicBool,
        mut io: impl FnMut(&Stream) -> io::Result<T>,
    ) -> Poll<io::Result<T>> {
        if !ready.load(SeqCst) {
            want(&self.0, flags);
            return Poll::Pending;
        }
        loop {
            match io(&self.0) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    ready.store(false, SeqCst);
                    want(&self.0, flags);
                    return Poll::Pending;
                }
                done => return Poll::Ready(done),
            }
        }
    }
}

impl AsyncRead for Socket {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let read = self.attempt(PollFlags::IN, &self.0.readable, |s| {
            s.read(buf.initialize_unfilled())
        });
        read.map_ok(|n| buf.advance(n))
    }
}

impl AsyncWrite for Socket {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.attempt(PollFlags::OUT, &self.0.writable, |s| s.write(buf))
    }

    /// Nothing is buffered here: a write went to the kernel.
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.0.shutdown() {
            Err(e) if e.kind() != io::ErrorKind::NotConnected => Poll::Ready(Err(e)),
            _ => Poll::Ready(Ok(())),
        }
    }
}
