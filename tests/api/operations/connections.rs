//! Connections: one client address cannot take every connection slot with idle half-sent
//! requests, and what the HTTP layer refuses before a request exists.

use super::parse_response;
use crate::common::{assert_error_body, spawn_app_with};
use socket2::{Domain, Socket, Type};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// A connection from `from` (any loopback address: 127.0.0.0/8 is all local on Linux).
fn connect_from(from: &str, to: SocketAddr) -> TcpStream {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    let local: SocketAddr = format!("{from}:0").parse().unwrap();
    socket.bind(&local.into()).unwrap();
    socket.connect(&to.into()).unwrap();
    socket.into()
}

/// Whether the server has closed `s` (read returns end of file or a reset) within `wait`.
fn closed_within(mut s: &TcpStream, wait: Duration) -> bool {
    s.set_read_timeout(Some(wait)).unwrap();
    let mut buf = [0u8; 256];
    match s.read(&mut buf) {
        Ok(0) => true,
        Ok(_) => true,
        Err(e) => !matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
    }
}

#[test]
fn idle_half_sent_requests_from_one_address_do_not_delay_others() {
    const IDLE: usize = 100;
    let app = spawn_app_with(|c| {
        c.workers = 2;
        c.limits.max_connections_per_worker = 16;
        c.limits.max_connections_per_address = 8;
        c.timeouts.client_request_secs = 5;
    });
    let server: SocketAddr = app.base.trim_start_matches("http://").parse().unwrap();
    let idle: Vec<TcpStream> = (0..IDLE)
        .map(|_| {
            let mut s = connect_from("127.0.0.2", server);
            // A request head that never ends.
            s.write_all(b"GET /v3/users/me HTTP/1.1\r\nHost: x\r\n")
                .unwrap();
            s
        })
        .collect();
    // Everyone else is served at once, not after the idle heads time out.
    let started = Instant::now();
    let body = app.get("/v3/users/me").expect(200).clone();
    assert!(body["id"].is_string());
    let took = started.elapsed();
    assert!(took < Duration::from_millis(1500), "took {took:?}");
    // The address got its 8 connections; the rest were closed without being read.
    let closed = idle
        .iter()
        .filter(|s| closed_within(s, Duration::from_millis(200)))
        .count();
    assert_eq!(closed, IDLE - 8);
    // Once it lets go, the address is served again.
    drop(idle);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut s = connect_from("127.0.0.2", server);
        s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut raw = Vec::new();
        let _ = s.read_to_end(&mut raw);
        if let Some((status, _)) = parse_response(&raw) {
            assert_eq!(status, 200);
            break;
        }
        assert!(Instant::now() < deadline, "127.0.0.2 never served again");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sends `raw` on a fresh connection; returns everything the server wrote before closing.
fn exchange(server: SocketAddr, raw: &[u8]) -> String {
    send(server, raw, false)
}

/// `exchange`, optionally ending the client's side after `raw` (a body cut short).
fn send(server: SocketAddr, raw: &[u8], then_end: bool) -> String {
    let mut s = TcpStream::connect(server).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(raw).unwrap();
    if then_end {
        s.shutdown(std::net::Shutdown::Write).unwrap();
    }
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// What the README's "Abuse limits" says: a refusal once a request exists (its head is
/// read) is an ErrorResponse, bad body framing included; what the HTTP layer refuses while
/// reading the head has no request to answer with a body, and is a bare status line.
#[test]
fn refusals_after_the_head_are_error_responses_and_those_before_it_are_bare() {
    let app = spawn_app_with(|c| c.timeouts.client_request_secs = 1);
    let server: SocketAddr = app.base.trim_start_matches("http://").parse().unwrap();
    let post = |extra: &str, body: &[u8]| -> String {
        let head = format!(
            "POST /v3/users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/json\r\nConnection: close\r\n{extra}\r\n",
            app.admin_key
        );
        // The client's side ends after the body: one cut short is not waited for.
        send(server, &[head.as_bytes(), body].concat(), true)
    };
    let framing: Vec<(&str, String)> = vec![
        (
            "bad chunk size",
            post("Transfer-Encoding: chunked\r\n", b"zz\r\n{}\r\n0\r\n\r\n"),
        ),
        (
            "bad chunk mid-body",
            post("Transfer-Encoding: chunked\r\n", b"2\r\n{\"\r\nzz\r\n"),
        ),
        (
            "body shorter than its length",
            post("Content-Length: 10\r\n", b"{\"a\""),
        ),
        (
            "not gzip",
            post("Content-Encoding: gzip\r\nContent-Length: 5\r\n", b"hello"),
        ),
    ];
    for (what, raw) in &framing {
        let (status, body) =
            parse_response(raw.as_bytes()).unwrap_or_else(|| panic!("{what}: {raw}"));
        assert_eq!(status, 400, "{what}: {raw}");
        let body: serde_json::Value =
            serde_json::from_str(&body).unwrap_or_else(|_| panic!("{what}: {raw}"));
        assert_error_body(&body, 400);
        // The body cannot be read: about no field.
        assert_eq!(body["type"], "bad_request", "{what}: {body}");
        assert!(body.get("fields").is_none(), "{what}: {body}");
    }
    // Refused while the head is read: a status line, no body, the connection closed.
    let bare: Vec<(&str, Vec<u8>, u16)> = vec![
        ("request line", b"GARBAGE\r\n\r\n".to_vec(), 400),
        (
            "Content-Length",
            b"POST /v3/users HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n".to_vec(),
            400,
        ),
        (
            "Content-Length and Transfer-Encoding",
            b"POST /v3/users HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\
              Transfer-Encoding: chunked\r\n\r\n"
                .to_vec(),
            400,
        ),
        (
            "control character in a header",
            b"GET /v3/users/me HTTP/1.1\r\nHost: x\r\nX-Bad: a\x01b\r\n\r\n".to_vec(),
            400,
        ),
        (
            "head over 128 KiB",
            [
                b"GET /v3/users/me HTTP/1.1\r\nHost: x\r\nX-Big: ".as_slice(),
                &[b'a'; 140_000],
                b"\r\n\r\n",
            ]
            .concat(),
            431,
        ),
        (
            "more than 96 headers",
            (0..100)
                .fold(
                    b"GET /v3/users/me HTTP/1.1\r\nHost: x\r\n".to_vec(),
                    |mut h, i| {
                        h.extend(format!("X-H{i}: v\r\n").bytes());
                        h
                    },
                )
                .into_iter()
                .chain(*b"\r\n")
                .collect(),
            431,
        ),
        (
            "head not finished in time",
            b"GET /v3/users/me HTTP/1.1\r\nHost: x\r\n".to_vec(),
            408,
        ),
    ];
    for (what, raw, want) in bare {
        let answer = exchange(server, &raw);
        let (status, body) =
            parse_response(answer.as_bytes()).unwrap_or_else(|| panic!("{what}: {answer}"));
        assert_eq!(status, want, "{what}: {answer}");
        assert_eq!(body, "", "{what}: {answer}");
    }
    app.get("/v3/users/me").expect(200);
}
