//! The engine's connections, and the pool that lends them.
//!
//! A [`Link`] is a tokio-postgres client and its connection, which whoever holds the link
//! drives while it waits (`Driver::driving`, under `drive::block_on`), so no other thread
//! takes part in a round trip (see `drive`). [`Links`] lends links one caller at a time:
//! the callers are threads that wait anyway, so the pool waits on a condition variable.

use super::drive::{self, Socket, Stream};
use super::error::{db_error, Failure};
use crate::store::{StoreError, StoreResult};
use std::collections::HashMap;
use std::future::Future;
use std::os::fd::OwnedFd;
use std::pin::Pin;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio_postgres::tls::NoTlsStream;
use tokio_postgres::{Client, Config, Connection, NoTls, Statement};

type Conn = Connection<Socket, NoTlsStream>;

/// A connection's I/O, polled by the thread that waits on it.
pub struct Driver(Mutex<Option<Pin<Box<Conn>>>>);

impl Driver {
    /// Polls the connection once: sends what its client queued, hands out what came in. A
    /// connection that ended is dropped, which fails whatever still waits on it and closes
    /// its client.
    fn poll(&self, cx: &mut Context<'_>) {
        let mut conn = lock(&self.0);
        if let Some(Poll::Ready(ended)) = conn.as_mut().map(|c| c.as_mut().poll(cx)) {
            if let Err(e) = ended {
                log::debug!("PostgreSQL: a connection ended: {e}");
            }
            *conn = None;
        }
    }

    /// `fut`, with the connection driven whenever `fut` waits.
    pub async fn driving<F: Future>(&self, fut: F) -> F::Output {
        let mut fut = std::pin::pin!(fut);
        std::future::poll_fn(|cx| {
            if let Poll::Ready(out) = fut.as_mut().poll(cx) {
                return Poll::Ready(out);
            }
            self.poll(cx);
            fut.as_mut().poll(cx)
        })
        .await
    }
}

pub struct Link {
    pub client: Client,
    pub driver: Driver,
    stream: std::sync::Arc<Stream>,
    /// Statements prepared on this connection, by text.
    statements: Mutex<HashMap<String, Statement>>,
}

impl std::ops::Deref for Link {
    type Target = Client;

    fn deref(&self) -> &Client {
        &self.client
    }
}

impl Link {
    /// `sql` prepared, once per connection.
    pub async fn prepare_cached(&self, sql: &str) -> Result<Statement, tokio_postgres::Error> {
        if let Some(stmt) = lock(&self.statements).get(sql) {
            return Ok(stmt.clone());
        }
        let stmt = self.client.prepare(sql).await?;
        lock(&self.statements).insert(sql.to_string(), stmt.clone());
        Ok(stmt)
    }

    /// Whether the connection is still open, as far as what it has received says: a
    /// connection the server closed while it sat in the pool is found out here, not by the
    /// first statement of its next caller.
    fn alive(&self) -> bool {
        self.stream.recheck();
        if let Ok(waker) = drive::thread_waker() {
            self.driver.poll(&mut Context::from_waker(&waker));
        }
        !self.client.is_closed()
    }
}

/// A mutex's guard, even if a holder panicked (what it guards stays consistent: a map of
/// prepared statements, a connection, the pool's lists).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Why no connection could be made.
pub enum ConnectError {
    /// No socket: refused, unreachable, timed out.
    Unreachable(String),
    /// The server answered and refused (a wrong password, no such database).
    Refused(tokio_postgres::Error),
}

impl ConnectError {
    pub fn into_error(self) -> StoreError {
        match self {
            ConnectError::Unreachable(detail) => Failure::Unavailable(detail).into_error(),
            ConnectError::Refused(e) => db_error(e),
        }
    }
}

/// Opens a connection as `config` says: to its first host that answers, by TCP or by a
/// unix socket (`host=/dir`), with the startup and authentication done in `timeout`.
/// Multi-host options (`target_session_attrs`, `load_balance_hosts`) are not applied.
fn connect(config: &Config, timeout: Duration) -> Result<Link, ConnectError> {
    let stream = open_socket(config, timeout).map_err(ConnectError::Unreachable)?;
    let socket = Socket::new(stream).map_err(|e| ConnectError::Unreachable(e.to_string()))?;
    let stream = socket.stream();
    let started = drive::block_on(tokio::time::timeout(
        timeout,
        config.connect_raw(socket, NoTls),
    ));
    match started {
        Err(e) => Err(ConnectError::Unreachable(e.to_string())),
        Ok(Err(_)) => Err(ConnectError::Unreachable("timed out during startup".into())),
        Ok(Ok(Err(e))) => Err(ConnectError::Refused(e)),
        Ok(Ok(Ok((client, conn)))) => Ok(Link {
            client,
            driver: Driver(Mutex::new(Some(Box::pin(conn)))),
            stream,
            statements: Mutex::new(HashMap::new()),
        }),
    }
}

/// A socket to the first of `config`'s hosts that accepts one.
fn open_socket(config: &Config, timeout: Duration) -> Result<OwnedFd, String> {
    use tokio_postgres::config::Host;
    let ports = config.get_ports();
    let mut failures = Vec::new();
    for (i, host) in config.get_hosts().iter().enumerate() {
        let port = ports.get(i).or(ports.first()).copied().unwrap_or(5432);
        let opened = match host {
            Host::Tcp(name) => {
                let address = config.get_hostaddrs().get(i).copied();
                open_tcp(name, address, port, timeout)
            }
            Host::Unix(dir) => {
                let path = dir.join(format!(".s.PGSQL.{port}"));
                std::os::unix::net::UnixStream::connect(&path)
                    .map(OwnedFd::from)
                    .map_err(|e| format!("{}: {e}", path.display()))
            }
        };
        match opened {
            Ok(stream) => return Ok(stream),
            Err(e) => failures.push(e),
        }
    }
    Err(failures.join("; "))
}

fn open_tcp(
    name: &str,
    address: Option<std::net::IpAddr>,
    port: u16,
    timeout: Duration,
) -> Result<OwnedFd, String> {
    use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
    let addresses: Vec<SocketAddr> = match address {
        Some(ip) => vec![SocketAddr::new(ip, port)],
        None => (name, port)
            .to_socket_addrs()
            .map_err(|e| format!("{name}: {e}"))?
            .collect(),
    };
    let mut last = format!("{name}: no address");
    for address in addresses {
        match TcpStream::connect_timeout(&address, timeout) {
            Ok(stream) => {
                // Statements are small and each waits for its answer: never hold one back.
                let _ = stream.set_nodelay(true);
                let _ = rustix::net::sockopt::set_socket_keepalive(&stream, true);
                return Ok(OwnedFd::from(stream));
            }
            Err(e) => last = format!("{address}: {e}"),
        }
    }
    Err(last)
}

/// The pool: at most `max` links open, lent one caller at a time.
pub struct Links {
    config: Config,
    max: usize,
    /// How long a caller waits for a free link, or for a new one, before a 503.
    wait: Duration,
    /// The engine's runtime, for the timers of a connection's startup.
    handle: tokio::runtime::Handle,
    state: Mutex<State>,
    freed: Condvar,
}

struct State {
    idle: Vec<Link>,
    open: usize,
    closed: bool,
}

impl Links {
    pub fn new(
        config: Config,
        max: usize,
        wait: Duration,
        handle: tokio::runtime::Handle,
    ) -> Links {
        Links {
            config,
            max: max.max(1),
            wait,
            handle,
            state: Mutex::new(State {
                idle: Vec::new(),
                open: 0,
                closed: false,
            }),
            freed: Condvar::new(),
        }
    }

    pub fn max(&self) -> usize {
        self.max
    }

    /// A link for the caller alone until the lease is dropped: an idle one, else a new one
    /// if fewer than `max` are open, else the first one freed within `wait` (else 503).
    pub fn get(&self) -> StoreResult<Lease<'_>> {
        self.try_get().map_err(ConnectError::into_error)
    }

    /// [`Links::get`], with the reason a connection could not be made.
    pub fn try_get(&self) -> Result<Lease<'_>, ConnectError> {
        let deadline = Instant::now() + self.wait;
        let mut state = lock(&self.state);
        loop {
            if state.closed {
                return Err(ConnectError::Unreachable("the engine is closed".into()));
            }
            if let Some(link) = state.idle.pop() {
                drop(state);
                let lease = self.lease(link);
                if lease.link().alive() {
                    return Ok(lease);
                }
                lease.discard();
                state = lock(&self.state);
                continue;
            }
            if state.open < self.max {
                state.open += 1;
                drop(state);
                let _runtime = self.handle.enter();
                return match connect(&self.config, self.wait) {
                    Ok(link) => Ok(self.lease(link)),
                    Err(e) => {
                        self.closed_one();
                        Err(e)
                    }
                };
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(ConnectError::Unreachable(format!(
                    "no free connection in {:?} ({} open)",
                    self.wait, self.max
                )));
            }
            state = match self.freed.wait_timeout(state, deadline - now) {
                Ok((state, _)) => state,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }

    fn lease(&self, link: Link) -> Lease<'_> {
        Lease {
            links: self,
            link: Some(link),
        }
    }

    /// One link fewer is open.
    fn closed_one(&self) {
        lock(&self.state).open -= 1;
        self.freed.notify_one();
    }

    /// Closes the idle links, and every lent one when it comes back; refuses new callers.
    pub fn close(&self) {
        let idle = {
            let mut state = lock(&self.state);
            state.closed = true;
            state.open -= state.idle.len();
            std::mem::take(&mut state.idle)
        };
        drop(idle);
        self.freed.notify_all();
    }
}

/// A link lent by [`Links`]; back to the pool when dropped, unless it closed.
pub struct Lease<'a> {
    links: &'a Links,
    link: Option<Link>,
}

impl Lease<'_> {
    fn link(&self) -> &Link {
        self.link
            .as_ref()
            .expect("a lease holds its link until dropped")
    }

    /// Closes the link instead of returning it: the server ends its session (and rolls back
    /// a transaction left open in it).
    pub fn discard(mut self) {
        drop(self.link.take());
        self.links.closed_one();
    }
}

impl std::ops::Deref for Lease<'_> {
    type Target = Link;

    fn deref(&self) -> &Link {
        self.link()
    }
}

impl std::ops::DerefMut for Lease<'_> {
    fn deref_mut(&mut self) -> &mut Link {
        self.link
            .as_mut()
            .expect("a lease holds its link until dropped")
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        let Some(link) = self.link.take() else {
            return;
        };
        let mut state = lock(&self.links.state);
        if state.closed || link.client.is_closed() {
            state.open -= 1;
            drop(state);
            drop(link);
        } else {
            state.idle.push(link);
            drop(state);
        }
        self.links.freed.notify_one();
    }
}
