//! Connections: one client address cannot take every connection slot with idle half-sent
//! requests, and what the HTTP layer refuses before a request exists.

use super::parse_response;
use crate::common::spawn_app_with;
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
