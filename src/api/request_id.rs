//! Request ids and the per-request middleware: every response carries `X-Request-Id`, every
//! error body carries the same id, every request is logged once (never with its query
//! string, which may hold a key), and any error response that is not already an
//! `ErrorResponse` (actix's own 404/405, for example) is replaced by one.

use crate::error::ApiError;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, ResponseError};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

tokio::task_local! {
    static REQUEST_ID: String;
}

pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the request being served (empty outside a request).
pub fn current() -> String {
    REQUEST_ID.try_with(|id| id.clone()).unwrap_or_default()
}

/// A new request id: 32 hex digits like an entity id, unique for the life of the process and
/// different across restarts. Unlike `Id::new` it takes no lock and makes no system call
/// (a request id needs neither creation order nor fresh randomness each time).
fn next_request_id() -> String {
    static BASE: OnceLock<[u64; 2]> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let base = BASE.get_or_init(|| {
        let mut halves = [[0u8; 8]; 2];
        halves.iter_mut().for_each(|h| crate::ids::random_bytes(h));
        halves.map(u64::from_le_bytes)
    });
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    // Multiplying by an odd number is a bijection on u64: ids cannot repeat.
    let tail = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ base[1];
    format!("{:016x}{tail:016x}", base[0])
}

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let id = next_request_id();
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.path().to_string();
    let res = REQUEST_ID
        .scope(id.clone(), async move {
            // Errors that escape as `Err` are rendered by actix through `ResponseError`,
            // which for `ApiError` is already an ErrorResponse.
            let res = next.call(req).await?.map_into_boxed_body();
            let status = res.status();
            let is_json = res
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("application/json"));
            if (status.is_client_error() || status.is_server_error()) && !is_json {
                let body = ApiError::from_status(status).error_response();
                return Ok::<_, Error>(res.into_response(body));
            }
            Ok(res)
        })
        .await?;
    finish(res, &id, &method, &path, started)
}

fn finish(
    mut res: ServiceResponse<BoxBody>,
    id: &str,
    method: &actix_web::http::Method,
    path: &str,
    started: Instant,
) -> Result<ServiceResponse<BoxBody>, Error> {
    if let Ok(value) = HeaderValue::from_str(id) {
        res.headers_mut().insert(HEADER, value);
    }
    // Tenths of a millisecond by integer arithmetic: float formatting cost more than the
    // rest of the line.
    let tenths = started.elapsed().as_micros() / 100;
    log::info!(
        "{method} {path} {} {}.{}ms request_id={id}",
        res.status().as_u16(),
        tenths / 10,
        tenths % 10
    );
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_32_hex_digits_and_do_not_repeat() {
        let ids: std::collections::HashSet<String> =
            (0..10_000).map(|_| next_request_id()).collect();
        assert_eq!(ids.len(), 10_000);
        assert!(ids
            .iter()
            .all(|id| id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())));
    }
}
