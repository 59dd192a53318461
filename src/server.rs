//! Building the actix application and running the HTTP(S) server: TLS, connection limits
//! and timeouts, the request limits and write gate middleware, and graceful shutdown.

use crate::api;
use crate::backup::endpoint::{self as backup, WriteGate};
use crate::config::Config;
use crate::error::ApiError;
use crate::limits::RequestLimits;
use crate::ratelimit::AuthLimiter;
use crate::state::AppState;
use crate::store::Store;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServerHandle, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How often batched last-login times are written out.
const LAST_LOGIN_PERSIST_EVERY: Duration = Duration::from_secs(5);

/// What the operations layer shares between workers (next to `AppState`).
#[derive(Clone)]
pub struct Shared {
    pub limiter: web::Data<AuthLimiter>,
    pub throttle: web::Data<crate::auth::throttle::LoginThrottle>,
    pub gate: web::Data<WriteGate>,
    pub limits: web::Data<RequestLimits>,
    pub stopping: web::Data<Stopping>,
    /// Dev mode's routes and state (`[dev] enabled`), else none.
    pub dev: Option<crate::dev::DevData>,
}

/// Set once a graceful stop has begun: responses then close their connection, so keep-alive
/// clients do not hold the stop up until its timeout.
#[derive(Default)]
pub struct Stopping(AtomicBool);

impl Stopping {
    pub fn begin(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

impl Shared {
    pub fn new(config: &Config) -> Shared {
        Shared {
            limiter: web::Data::new(AuthLimiter::new(
                config.limits.auth_failures_per_minute,
                config.limits.auth_failure_clients,
            )),
            throttle: web::Data::new(crate::auth::throttle::LoginThrottle::new(&config.auth)),
            gate: web::Data::new(WriteGate::default()),
            limits: web::Data::new(RequestLimits {
                max_query_bytes: config.limits.max_query_bytes,
                max_header_bytes: config.limits.max_header_bytes,
                request_timeout: Duration::from_secs(config.timeouts.request_secs),
            }),
            stopping: web::Data::new(Stopping::default()),
            dev: crate::dev::DevData::new(&config.dev),
        }
    }
}

/// The application with its state, error handlers, middleware and routes.
pub fn app(
    state: web::Data<AppState>,
    shared: Shared,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let cors = cors(&state.config.http.cors_origins);
    let dev = shared.dev.clone();
    // Each `from_fn` layer costs every request two boxed futures: the fault injector is a
    // layer only where dev mode can inject faults.
    let faults = actix_web::middleware::Condition::new(
        dev.is_some(),
        from_fn(crate::dev::faults::middleware),
    );
    App::new()
        .app_data(state)
        .app_data(shared.limiter)
        .app_data(shared.throttle)
        .app_data(shared.gate)
        .app_data(shared.limits)
        .app_data(shared.stopping)
        .app_data(
            web::PathConfig::default()
                .error_handler(|_, _| ApiError::NotFound("Not found.".into()).into()),
        )
        .app_data(web::QueryConfig::default().error_handler(|e, _| {
            ApiError::BadRequest(format!("Invalid query string: {e}")).into()
        }))
        .configure(|cfg| {
            if let Some(dev) = dev {
                cfg.app_data(dev.baseline)
                    .app_data(dev.faults)
                    .configure(crate::dev::reset::configure);
            }
        })
        .configure(api::configure)
        .configure(crate::console::configure)
        .route(backup::PATH, web::get().to(backup::download))
        .default_service(web::to(api::not_found))
        .wrap(faults)
        .wrap(from_fn(admit))
        // Inside the request log, so that a refused preflight is an ErrorResponse too.
        .wrap(cors)
        // Also adds the `api::headers` of every response.
        .wrap(from_fn(api::request_id::middleware))
}

/// CORS for `origins` (none: off). Browser clients authenticate with a bearer token, never
/// cookies, so credentials mode stays off and any listed page may call every route.
fn cors(origins: &[String]) -> actix_web::middleware::Condition<actix_cors::Cors> {
    use actix_web::http::{header, Method};
    let mut cors = actix_cors::Cors::default()
        .allowed_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .expose_headers([
            api::request_id::HEADER,
            header::RETRY_AFTER,
            header::CONTENT_DISPOSITION,
        ])
        .max_age(3600)
        // A request from another origin is served as without CORS (the browser keeps the
        // answer from the page); clients that are no browser may send any Origin.
        .block_on_origin_mismatch(false);
    for origin in origins {
        cors = cors.allowed_origin(origin);
    }
    actix_web::middleware::Condition::new(!origins.is_empty(), cors)
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot open the database: {0}")]
    Store(#[from] crate::store::StoreError),
    #[error("TLS: {0}")]
    Tls(#[from] crate::tls::TlsError),
    #[error("first-start bootstrap failed: {0}")]
    Bootstrap(#[from] crate::bootstrap::BootstrapError),
    #[error("{0}")]
    Dev(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
}

/// A server that is listening. Await `server` to run it to completion, or hand it to
/// [`run_until_signalled`].
pub struct Started {
    pub addr: SocketAddr,
    /// `https` or `http`.
    pub scheme: &'static str,
    /// SHA-256 fingerprint of the served certificate, when TLS is on.
    pub tls_fingerprint: Option<String>,
    pub stopping: web::Data<Stopping>,
    pub handle: ServerHandle,
    pub server: actix_web::dev::Server,
    /// The root admin key, on the very first start only.
    pub admin_key: Option<String>,
    pub store: Store,
}

/// Loads TLS material, opens the store, bootstraps it if empty, binds and returns the
/// server (not yet awaited). Must run inside an actix system. The server does not watch
/// signals itself: see [`run_until_signalled`].
pub async fn start(config: Config) -> Result<Started, StartError> {
    // TLS first: a bad certificate must stop the start before the first-start bootstrap.
    crate::private::create_dir(&config.data_dir).map_err(|e| {
        crate::store::StoreError::Backend(format!(
            "cannot create {}: {e}",
            config.data_dir.display()
        ))
    })?;
    // What an earlier release made readable by others.
    if let Err(e) = crate::private::tighten(&config.data_dir) {
        log::warn!("cannot make {} private: {e}", config.data_dir.display());
    }
    let outbox = config.data_dir.join("outbox");
    let tls = crate::tls::load(&config.tls, &config.data_dir)?;
    if let Some(t) = &tls {
        if t.generated {
            log::info!("made a self-signed certificate: {}", t.cert_path.display());
        }
        log::info!(
            "TLS certificate {} SHA-256 fingerprint {}",
            t.cert_path.display(),
            t.fingerprint
        );
    }
    let bind = config.bind.clone();
    let bind_error = |source| StartError::Bind {
        addr: bind.clone(),
        source,
    };
    let seed = crate::dev::read_seed(&config).map_err(|e| StartError::Dev(e.to_string()))?;
    let listener = listen(&config.bind).map_err(bind_error)?;
    let addr = listener.local_addr().map_err(bind_error)?;
    let mut config = config;
    config.resolve_public_url(addr);
    let store = Store::open_url(&config.data_dir, &config.store.url)?;
    crate::email::recover(&store, &outbox)?;
    let config = Arc::new(config);
    let state = web::Data::new(AppState {
        store: store.clone(),
        outbox: Arc::new(crate::email::outbox::Outbox::new(outbox)),
        config: config.clone(),
    });
    let workers = if config.workers == 0 {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        // A networked engine asks for more (see `Engine::default_workers`).
        store.engine.default_workers(cores).unwrap_or(cores)
    } else {
        config.workers
    };
    let shared = Shared::new(&config);
    let dev = shared.dev.clone();
    let stopping = shared.stopping.clone();
    let t = &config.timeouts;
    let per_address =
        crate::limits::ConnectionLimit::new(config.limits.max_connections_per_address);
    let http = HttpServer::new(move || app(state.clone(), shared.clone()))
        .on_connect(move |conn, ext| per_address.on_connect(conn, ext))
        .workers(workers)
        .disable_signals()
        .shutdown_timeout(t.shutdown_secs)
        .client_request_timeout(Duration::from_secs(t.client_request_secs))
        .client_disconnect_timeout(Duration::from_secs(t.client_disconnect_secs))
        .keep_alive(match t.keep_alive_secs {
            0 => actix_web::http::KeepAlive::Disabled,
            n => actix_web::http::KeepAlive::Timeout(Duration::from_secs(n)),
        })
        .max_connections(config.limits.max_connections_per_worker);
    let (http, scheme, tls_fingerprint) = match tls {
        Some(t) => (
            http.listen_rustls_0_23(listener, t.config)
                .map_err(bind_error)?,
            "https",
            Some(t.fingerprint),
        ),
        None => (http.listen(listener).map_err(bind_error)?, "http", None),
    };
    // After binding: a busy port must not use up the first start (and its one-time key).
    let admin_key = crate::bootstrap::run(&store, &config).await?;
    crate::dev::start(&store, &config, admin_key.is_some(), seed, dev.as_ref())
        .await
        .map_err(StartError::Dev)?;
    let server = http.run();
    // Every record is read once the server serves (damage found takes it out of service).
    store.scan_in_background();
    let handle = server.handle();
    let persister = store.clone();
    actix_web::rt::spawn(async move {
        let mut tick = tokio::time::interval(LAST_LOGIN_PERSIST_EVERY);
        loop {
            tick.tick().await;
            if let Err(e) = persister.last_login.persist() {
                log::warn!("cannot persist last-login times: {e}");
            }
            if let Err(e) = persister.signin.sessions.persist() {
                log::warn!("cannot persist session last-use times: {e}");
            }
        }
    });
    spawn_audit_purge(store.clone(), config.audit.retention_days);
    Ok(Started {
        addr,
        scheme,
        tls_fingerprint,
        stopping,
        handle,
        server,
        admin_key,
        store,
    })
}

/// Deletes audit entries older than `retention_days` (none when 0), at start and hourly, on
/// the blocking pool (a purge after a long stop may delete many entries).
fn spawn_audit_purge(store: crate::store::Store, retention_days: u32) {
    if retention_days == 0 {
        return;
    }
    const EVERY: std::time::Duration = std::time::Duration::from_secs(3600);
    let keep_ms = i64::from(retention_days) * 24 * 60 * 60 * 1000;
    actix_web::rt::spawn(async move {
        let mut tick = tokio::time::interval(EVERY);
        loop {
            tick.tick().await;
            let store = store.clone();
            let before = crate::clock::now_millis() - keep_ms;
            let purged =
                actix_web::web::block(move || crate::store::audit::purge(&*store.engine, before))
                    .await;
            match purged {
                Ok(Ok(0)) => {}
                Ok(Ok(n)) => {
                    log::info!("audit: purged {n} entries older than {retention_days} days")
                }
                Ok(Err(e)) => log::warn!("audit: cannot purge old entries: {e}"),
                Err(e) => log::warn!("audit: the purge did not run: {e}"),
            }
        }
    });
}

/// Runs the server until SIGTERM or SIGINT, then stops it gracefully: no new connections,
/// in-flight requests finish (at most `timeouts.shutdown_secs`), and the store is flushed
/// (batched last-login times included). A second signal exits at once with status 1;
/// acknowledged writes are durable already, so only unsaved last-login times are lost.
pub async fn run_until_signalled(started: Started) -> Result<(), String> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
    let mut int = signal(SignalKind::interrupt()).map_err(|e| e.to_string())?;
    let handle = started.handle.clone();
    let stopping = started.stopping.clone();
    actix_web::rt::spawn(async move {
        let name = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        };
        log::info!(
            "{name}: stopping; finishing requests in flight (a second signal exits at once)"
        );
        stopping.begin();
        actix_web::rt::spawn(handle.stop(true));
        let name = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        };
        log::warn!("second signal ({name}): exiting now");
        crate::logging::flush();
        std::process::exit(1);
    });
    started.server.await.map_err(|e| e.to_string())?;
    started.store.flush().map_err(|e| e.to_string())?;
    log::info!("stopped; store flushed");
    Ok(())
}

/// The listening socket, bound before the application exists so that links can name the
/// address actually bound (a configured port 0 included). As actix binds: address reuse
/// on, a backlog of 1024.
fn listen(bind: &str) -> std::io::Result<std::net::TcpListener> {
    use socket2::{Domain, Socket, Type};
    let addr: SocketAddr = bind
        .parse()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    Ok(socket.into())
}

/// What every request passes before its handler, in one layer: the request limits, the
/// console's cookie turned into a bearer token, the backup's write gate; and on the way out,
/// `Connection: close` after a body cut off or while the server stops (refusals included).
/// One layer, not four: each `from_fn` layer costs every request two boxed futures.
async fn admit(
    req: ServiceRequest,
    next: actix_web::middleware::Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let stopping = req.app_data::<web::Data<Stopping>>().cloned();
    let mut res = checked(req, next).await?;
    if crate::limits::cut_off(&res) || stopping.is_some_and(|s| s.0.load(Ordering::Relaxed)) {
        res.response_mut()
            .head_mut()
            .set_connection_type(actix_web::http::ConnectionType::Close);
    }
    Ok(res)
}

/// `admit`'s checks, in the order they ran as layers of their own.
async fn checked(
    mut req: ServiceRequest,
    next: actix_web::middleware::Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if let Err(refused) = crate::limits::apply(&mut req) {
        return Ok(req.error_response(refused).map_into_boxed_body());
    }
    crate::console::session::adopt_cookie(&mut req);
    let held = match backup::hold_for_write(&mut req).await {
        Ok(held) => held,
        Err(refused) => return Ok(req.error_response(refused).map_into_boxed_body()),
    };
    let res = next.call(req).await;
    drop(held);
    Ok(res?.map_into_boxed_body())
}
