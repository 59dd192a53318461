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
use data_encoding::HEXLOWER;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

tokio::task_local! {
    static REQUEST_ID: RequestId;
}

pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// 32 lowercase hex digits, kept as bytes: the id goes to the task-local, the header and the
/// log line of every request, and a `String` (made, cloned, dropped) cost more than all
/// three. Only error bodies turn it into a `String` (`current`).
#[derive(Clone, Copy)]
struct RequestId([u8; 32]);

impl RequestId {
    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

/// The id of the request being served (empty outside a request).
pub fn current() -> String {
    REQUEST_ID
        .try_with(|id| id.as_str().to_owned())
        .unwrap_or_default()
}

/// A new request id: 32 hex digits like an entity id, unique for the life of the process and
/// different across restarts. Unlike `Id::new` it takes no lock and makes no system call
/// (a request id needs neither creation order nor fresh randomness each time).
fn next_request_id() -> RequestId {
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
    let mut raw = [0u8; 16];
    raw[..8].copy_from_slice(&base[0].to_be_bytes());
    raw[8..].copy_from_slice(&tail.to_be_bytes());
    let mut hex = [0u8; 32];
    HEXLOWER.encode_mut(&raw, &mut hex);
    RequestId(hex)
}

/// Also adds the headers every response carries (`headers::add`): one layer rather than
/// two, as each layer costs a boxed future and a pass over the response.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let id = next_request_id();
    let started = Instant::now();
    // Whether this listener serves TLS (set by actix for rustls binds), not what a client or
    // proxy header claims.
    let tls = req.app_config().secure();
    let res = REQUEST_ID
        .scope(id, async move {
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
    finish(res, id, started, tls)
}

fn finish(
    mut res: ServiceResponse<BoxBody>,
    id: RequestId,
    started: Instant,
    tls: bool,
) -> Result<ServiceResponse<BoxBody>, Error> {
    if let Ok(value) = HeaderValue::from_bytes(&id.0) {
        res.headers_mut().insert(HEADER, value);
    }
    super::headers::add(res.headers_mut(), tls);
    // Tenths of a millisecond by integer arithmetic: float formatting cost more than the
    // rest of the line. Method and path from the request the response keeps, not copies.
    let tenths = started.elapsed().as_micros() as u64 / 100;
    let req = res.request();
    log::info!(
        "{} {} {} {}.{}ms request_id={}",
        req.method(),
        req.path(),
        res.status().as_u16(),
        tenths / 10,
        tenths % 10,
        id.as_str()
    );
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_32_hex_digits_and_do_not_repeat() {
        let ids: std::collections::HashSet<String> = (0..10_000)
            .map(|_| next_request_id().as_str().to_string())
            .collect();
        assert_eq!(ids.len(), 10_000);
        assert!(ids.iter().all(|id| id.len() == 32
            && id
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))));
    }
}
