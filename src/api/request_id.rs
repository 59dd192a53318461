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
use std::time::Instant;

tokio::task_local! {
    static REQUEST_ID: String;
}

pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the request being served (empty outside a request).
pub fn current() -> String {
    REQUEST_ID.try_with(|id| id.clone()).unwrap_or_default()
}

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let id = crate::ids::Id::new().hex();
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
    log::info!(
        "{method} {path} {} {:.1}ms request_id={id}",
        res.status().as_u16(),
        started.elapsed().as_secs_f64() * 1000.0
    );
    Ok(res)
}
