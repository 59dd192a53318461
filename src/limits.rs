//! Request limits enforced before any handler runs: query string length (414), total header
//! size (431), and the time the request body may take to arrive (408). Each refusal is an
//! `ErrorResponse`, produced inside the request-id middleware so it carries the id. (The
//! request head has its own deadline in the HTTP layer: `timeouts.client_request_secs`.)
//!
//! The HTTP layer below has its own, larger, fixed limits (request heads above 128 KiB: a
//! bare 431; more than 96 headers: a bare 400) which cannot be given a body; the configured
//! header limit is validated to stay below them.
//!
//! Below requests, [`ConnectionLimit`] bounds the connections one client address holds, so
//! that idle half-sent requests from one address cannot fill every worker's connection
//! slots while the others wait for the head deadline.

use crate::error::ApiError;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::StatusCode;
use actix_web::{web, HttpMessage};
use futures_util::Stream;
use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

/// The limits applied before any handler (from `limits` and `timeouts` in the config).
#[derive(Debug, Clone)]
pub struct RequestLimits {
    pub max_query_bytes: usize,
    pub max_header_bytes: usize,
    pub request_timeout: Duration,
}

/// Refuses a request over the query string or header limits before anything of it runs
/// (the server's admission layer answers the error); else gives its body, if it has one,
/// the deadline it must arrive by.
pub fn apply(req: &mut ServiceRequest) -> Result<(), ApiError> {
    let Some(limits) = req
        .app_data::<web::Data<RequestLimits>>()
        .map(|l| l.get_ref().clone())
    else {
        return Ok(());
    };
    if req.query_string().len() > limits.max_query_bytes {
        return Err(ApiError::UriTooLong(limits.max_query_bytes));
    }
    let header_bytes: usize = req
        .headers()
        .iter()
        // name, ": ", value, CRLF
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    if header_bytes > limits.max_header_bytes {
        return Err(ApiError::HeadersTooLarge(limits.max_header_bytes));
    }
    let payload = req.take_payload();
    if matches!(payload, Payload::None) {
        // No body (most GETs): nothing to time out, and no timer to set up per request.
        req.set_payload(payload);
        return Ok(());
    }
    let deadline = tokio::time::Instant::now() + limits.request_timeout;
    let timed: Pin<Box<dyn Stream<Item = Result<web::Bytes, PayloadError>>>> = Box::pin(Deadline {
        inner: payload,
        sleep: Box::pin(tokio::time::sleep_until(deadline)),
        expired: false,
    });
    req.set_payload(Payload::from(timed));
    Ok(())
}

/// Whether the answer cut a body off (408): the rest of it is still on the wire, so the
/// connection cannot be reused.
pub fn cut_off<B>(res: &ServiceResponse<B>) -> bool {
    res.status() == StatusCode::REQUEST_TIMEOUT
}

/// The request body, cut off with a `TimedOut` error once the request deadline passes.
/// Body readers turn that error into `ApiError::RequestTimeout` (408).
struct Deadline {
    inner: Payload,
    sleep: Pin<Box<tokio::time::Sleep>>,
    expired: bool,
}

impl Stream for Deadline {
    type Item = Result<web::Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.expired {
            return Poll::Ready(None);
        }
        if let Poll::Ready(item) = Pin::new(&mut this.inner).poll_next(cx) {
            return Poll::Ready(item);
        }
        if this.sleep.as_mut().poll(cx).is_ready() {
            this.expired = true;
            log::warn!("request body not received in time: answered 408");
            return Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the request body did not arrive in time",
            )))));
        }
        Poll::Pending
    }
}

/// Open connections per client address (`limits.max_connections_per_address`; 0: no
/// limit). Shared by every worker.
#[derive(Debug)]
pub struct ConnectionLimit {
    max: usize,
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// One admitted connection: kept in the connection's extensions, so it is given back when
/// actix drops the connection, however it ends.
struct Admitted {
    limit: Arc<ConnectionLimit>,
    ip: IpAddr,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut open = self.limit.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

impl ConnectionLimit {
    pub fn new(max: usize) -> Arc<ConnectionLimit> {
        Arc::new(ConnectionLimit {
            max,
            open: Mutex::new(HashMap::new()),
        })
    }

    fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<Admitted> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let n = open.entry(ip).or_insert(0);
        if *n >= self.max {
            return None;
        }
        *n += 1;
        Some(Admitted {
            limit: self.clone(),
            ip,
        })
    }

    /// `HttpServer::on_connect`: runs once per connection before anything is read from it
    /// (over TLS, once the handshake is done). A connection over the limit is shut down at
    /// once: no request has begun, so there is nothing to answer, and the client sees the
    /// connection closed.
    pub fn on_connect(
        self: &Arc<Self>,
        conn: &dyn std::any::Any,
        ext: &mut actix_web::dev::Extensions,
    ) {
        if self.max == 0 {
            return;
        }
        let Some(tcp) = tcp_stream(conn) else {
            return;
        };
        let Ok(peer) = tcp.peer_addr() else {
            return;
        };
        match self.admit(peer.ip()) {
            Some(admitted) => {
                ext.insert(admitted);
            }
            None => {
                log::warn!(
                    "{} holds {} connections already: closed a new one",
                    peer.ip(),
                    self.max
                );
                let _ = socket2::SockRef::from(tcp).shutdown(std::net::Shutdown::Both);
            }
        }
    }
}

/// The TCP stream under a plain or TLS connection.
fn tcp_stream(conn: &dyn std::any::Any) -> Option<&actix_web::rt::net::TcpStream> {
    use actix_tls::accept::rustls_0_23::TlsStream;
    use actix_web::rt::net::TcpStream;
    conn.downcast_ref::<TcpStream>().or_else(|| {
        conn.downcast_ref::<TlsStream<TcpStream>>()
            .map(|tls| tls.get_ref().0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_holds_at_most_max_and_gets_slots_back() {
        let limit = ConnectionLimit::new(2);
        let (a, b): (IpAddr, IpAddr) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        let first = limit.admit(a).expect("1 of 2");
        let second = limit.admit(a).expect("2 of 2");
        assert!(limit.admit(a).is_none(), "a third is refused");
        let other = limit.admit(b).expect("other addresses are counted apart");
        drop(first);
        let again = limit
            .admit(a)
            .expect("a closed connection gives its slot back");
        drop((second, again, other));
        assert!(
            limit.open.lock().unwrap().is_empty(),
            "no entry outlives its connections"
        );
    }
}
