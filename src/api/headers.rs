//! Response headers for browsers and caches: `X-Content-Type-Options: nosniff` on every
//! response, `Strict-Transport-Security` on every response served over TLS, and
//! [`no_store`] for handlers whose response carries a secret (a full API key, a generated
//! password, a device private key), so no cache along the way keeps a copy.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, CacheControl, CacheDirective, HeaderValue};
use actix_web::middleware::Next;
use actix_web::Error;

/// One year, the usual HSTS lifetime. No `includeSubDomains`: iamd cannot know what else
/// runs under its domain.
const HSTS: &str = "max-age=31536000";

/// `Cache-Control: no-store`, for `HttpResponseBuilder::insert_header`.
pub fn no_store() -> CacheControl {
    CacheControl(vec![CacheDirective::NoStore])
}

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    // Whether this listener serves TLS (set by actix for rustls binds), not what a client or
    // proxy header claims.
    let tls = req.app_config().secure();
    // Handlers' and the inner layers' errors arrive here as responses (`request_id` turns
    // every error into an ErrorResponse), so they get the headers too.
    let mut res = next.call(req).await?.map_into_boxed_body();
    let headers = res.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if tls {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
    Ok(res)
}
