//! Request ids and the per-request middleware: every response carries `X-Request-Id`, every
//! error body carries the same id, every request is logged once (never with its query
//! string, which may hold a key), and any error response that is not already an
//! `ErrorResponse` (actix's own 404/405, for example) is replaced by one.

use crate::error::ApiError;
use crate::ids::RequestId;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, ResponseError};
use data_encoding::HEXLOWER;
use std::io::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

tokio::task_local! {
    static REQUEST_ID: RequestId;
}

pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the request being served (empty outside a request).
pub fn current() -> String {
    current_id()
        .map(|id| id.as_str().to_owned())
        .unwrap_or_default()
}

/// The id of the request being served, if any.
pub fn current_id() -> Option<RequestId> {
    REQUEST_ID.try_with(|id| *id).ok()
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
    RequestId::from_hex(hex)
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
    if let Ok(value) = HeaderValue::from_bytes(id.as_bytes()) {
        res.headers_mut().insert(HEADER, value);
    }
    super::headers::add(res.headers_mut(), tls);
    // Tenths of a millisecond by integer arithmetic: float formatting cost more than the
    // rest of the line. Method and path from the request the response keeps, not copies.
    let tenths = started.elapsed().as_micros() as u64 / 100;
    let req = res.request();
    let status = res.status().as_u16();
    let extensions = req.extensions();
    let caller = extensions.get::<crate::auth::Caller>();
    let response_extensions = res.response().extensions();
    // The reason of a refusal; a 5xx's message says nothing the error log does not.
    let reason = response_extensions
        .get::<Reason>()
        .filter(|r| (400..500).contains(&status) || r.0.starts_with(INJECTED));
    let line = Line {
        method: req.method().as_str(),
        path: req.path(),
        status,
        tenths,
        client: req.peer_addr().map(|a| a.ip()),
        account: caller.map(|c| c.account.id.id()),
        key: caller.and_then(|c| c.apikey_id().map(|k| k.id())),
        user: caller.and_then(|c| c.user_id().map(|u| u.id())),
        request_id: id.as_str(),
        reason: reason.map(|r| r.0.as_str()),
    };
    if crate::logging::json() {
        log::info!(target: crate::logging::REQUEST_TARGET, "{}", line.json());
    } else {
        crate::logging::request_line(module_path!(), |out| line.write_text(out));
    }
    drop(response_extensions);
    drop(extensions);
    Ok(res)
}

/// How the reason of an injected fault (`dev::faults`) starts: logged for a 5xx too.
pub const INJECTED: &str = "injected fault";

/// The message of an ErrorResponse, kept with the response for the request log.
pub struct Reason(pub String);

/// One request, as the request log records it.
struct Line<'a> {
    method: &'a str,
    /// Without the query string, which may hold a key.
    path: &'a str,
    status: u16,
    /// Tenths of a millisecond.
    tenths: u64,
    client: Option<std::net::IpAddr>,
    account: Option<crate::ids::Id>,
    key: Option<crate::ids::Id>,
    user: Option<crate::ids::Id>,
    request_id: &'a str,
    reason: Option<&'a str>,
}

impl Line<'_> {
    /// `GET /v3/users 200 1.2ms request_id=... client=... account=... key=... user=...
    /// reason="..."`: the fields after the request id only when known. Written byte by
    /// byte rather than through `core::fmt`, which cost as much as the rest of the request
    /// log (the address alone went through it five times).
    fn write_text(&self, out: &mut Vec<u8>) {
        let mut number = itoa::Buffer::new();
        for part in [
            self.method,
            " ",
            self.path,
            " ",
            number.format(self.status),
            " ",
        ] {
            out.extend_from_slice(part.as_bytes());
        }
        out.extend_from_slice(number.format(self.tenths / 10).as_bytes());
        out.extend_from_slice(&[b'.', b'0' + (self.tenths % 10) as u8]);
        out.extend_from_slice(b"ms request_id=");
        out.extend_from_slice(self.request_id.as_bytes());
        match self.client {
            Some(std::net::IpAddr::V4(ip)) => {
                out.extend_from_slice(b" client=");
                for (i, octet) in ip.octets().into_iter().enumerate() {
                    if i > 0 {
                        out.push(b'.');
                    }
                    out.extend_from_slice(number.format(octet).as_bytes());
                }
            }
            Some(ip) => {
                let _ = write!(out, " client={ip}");
            }
            None => {}
        }
        for (name, id) in [
            (" account=", self.account),
            (" key=", self.key),
            (" user=", self.user),
        ] {
            if let Some(id) = id {
                out.extend_from_slice(name.as_bytes());
                id.with_hex(|hex| out.extend_from_slice(hex.as_bytes()));
            }
        }
        if let Some(reason) = self.reason {
            let _ = write!(out, " reason={reason:?}");
        }
    }
}

impl Line<'_> {
    /// The line as one JSON object (`[log] format = "json"`).
    fn json(&self) -> String {
        let id = |id: Option<crate::ids::Id>| id.map(|i| i.hex());
        serde_json::json!({
            "time": crate::clock::rfc3339(crate::clock::now_millis()),
            "level": "INFO",
            "type": "request",
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "duration_ms": self.tenths as f64 / 10.0,
            "client": self.client.map(|c| c.to_string()),
            "account_id": id(self.account),
            "api_key_id": id(self.key),
            "user_id": id(self.user),
            "request_id": self.request_id,
            "reason": self.reason,
        })
        .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_lines_name_the_client_the_caller_and_the_reason() {
        let id = |b: u8| Some(crate::ids::Id([b; 16]));
        let line = |client, tenths, reason| {
            let mut out = Vec::new();
            Line {
                method: "PUT",
                path: "/v3/users/me",
                status: 400,
                tenths,
                client,
                account: id(0x0a),
                key: None,
                user: id(0xf1),
                request_id: "0123456789abcdef0123456789abcdef",
                reason,
            }
            .write_text(&mut out);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(
            line(Some([192, 168, 0, 17].into()), 12, Some("Bad \"email\".")),
            format!(
                "PUT /v3/users/me 400 1.2ms request_id=0123456789abcdef0123456789abcdef \
                 client=192.168.0.17 account={} user={} reason=\"Bad \\\"email\\\".\"",
                "0a".repeat(16),
                "f1".repeat(16)
            )
        );
        let v6 = line(Some(std::net::Ipv6Addr::LOCALHOST.into()), 20_345, None);
        assert!(
            v6.starts_with("PUT /v3/users/me 400 2034.5ms request_id="),
            "{v6}"
        );
        assert!(v6.contains(" client=::1 account="), "{v6}");
        assert!(!v6.contains("reason"), "{v6}");
    }

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
