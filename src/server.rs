//! Building the actix application and running the HTTP server.

use crate::api;
use crate::config::Config;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::Store;
use actix_web::body::MessageBody;
use actix_web::dev::{ServerHandle, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// How often batched last-login times are written out.
const LAST_LOGIN_PERSIST_EVERY: Duration = Duration::from_secs(5);

/// The application with its state, error handlers, middleware and routes.
pub fn app(
    state: web::Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .app_data(state)
        .app_data(
            web::PathConfig::default()
                .error_handler(|_, _| ApiError::NotFound("Not found.".into()).into()),
        )
        .app_data(web::QueryConfig::default().error_handler(|e, _| {
            ApiError::BadRequest(format!("Invalid query string: {e}")).into()
        }))
        .configure(api::configure)
        .default_service(web::to(api::not_found))
        .wrap(from_fn(api::request_id::middleware))
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot open the data directory: {0}")]
    Store(#[from] crate::store::StoreError),
    #[error("first-start bootstrap failed: {0}")]
    Bootstrap(#[from] crate::bootstrap::BootstrapError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
}

/// A server that is listening. Await `server` to run it to completion.
pub struct Started {
    pub addr: SocketAddr,
    pub handle: ServerHandle,
    pub server: actix_web::dev::Server,
    /// The root admin key, on the very first start only.
    pub admin_key: Option<String>,
    pub store: Store,
}

/// Opens the store, bootstraps it if empty, binds and returns the server (not yet awaited).
/// Must run inside an actix system.
pub async fn start(config: Config) -> Result<Started, StartError> {
    let store = Store::open(&config.data_dir)?;
    let admin_key = crate::bootstrap::run(&store, &config).await?;
    let config = Arc::new(config);
    let state = web::Data::new(AppState {
        store: store.clone(),
        config: config.clone(),
    });
    let workers = if config.workers == 0 {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
    } else {
        config.workers
    };
    let http = HttpServer::new(move || app(state.clone()))
        .workers(workers)
        .shutdown_timeout(10)
        .bind(&config.bind)
        .map_err(|source| StartError::Bind {
            addr: config.bind.clone(),
            source,
        })?;
    let addr = http.addrs()[0];
    let server = http.run();
    let handle = server.handle();
    let persister = store.clone();
    actix_web::rt::spawn(async move {
        let mut tick = tokio::time::interval(LAST_LOGIN_PERSIST_EVERY);
        loop {
            tick.tick().await;
            if let Err(e) = persister.last_login.persist() {
                log::warn!("cannot persist last-login times: {e}");
            }
        }
    });
    Ok(Started {
        addr,
        handle,
        server,
        admin_key,
        store,
    })
}
