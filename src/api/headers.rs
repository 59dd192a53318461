//! Response headers for browsers and caches: `X-Content-Type-Options: nosniff` on every
//! response, `Strict-Transport-Security` on every response served over TLS, and
//! [`no_store`] for handlers whose response carries a secret (a full API key, a generated
//! password, a device private key), so no cache along the way keeps a copy.

use actix_web::http::header::{self, CacheControl, CacheDirective, HeaderMap, HeaderValue};

/// One year, the usual HSTS lifetime. No `includeSubDomains`: iamd cannot know what else
/// runs under its domain.
const HSTS: &str = "max-age=31536000";

/// `Cache-Control: no-store`, for `HttpResponseBuilder::insert_header`.
pub fn no_store() -> CacheControl {
    CacheControl(vec![CacheDirective::NoStore])
}

/// Adds the headers every response carries. Called by `request_id::middleware` on every
/// response, errors included (it has turned them into ErrorResponses by then).
pub fn add(headers: &mut HeaderMap, tls: bool) {
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
}
