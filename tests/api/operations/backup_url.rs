//! `iamd backup --url` against servers that misbehave: the client must give up, not grow.

use super::run;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

/// A one-shot HTTP server that answers with a header line of `filler` bytes (written in
/// pieces until the client hangs up), then a valid 5-byte body. Returns its URL and a handle
/// yielding how many filler bytes it got out.
fn endless_head_server(filler: usize) -> (String, std::thread::JoinHandle<usize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap_or(0) > 2 {
            line.clear();
        }
        let mut out = stream;
        if out.write_all(b"HTTP/1.1 200 OK\r\nX-Filler: ").is_err() {
            return 0;
        }
        let piece = vec![b'a'; 64 * 1024];
        let mut sent = 0;
        while sent < filler {
            if out.write_all(&piece).is_err() {
                return sent;
            }
            sent += piece.len();
        }
        let _ = out.write_all(b"\r\nContent-Length: 5\r\n\r\nhello");
        sent
    });
    (url, handle)
}

#[test]
fn a_response_head_without_end_is_refused_after_a_bounded_read() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("b.iamdbackup");
    let filler = 64 * 1024 * 1024;
    let (url, server) = endless_head_server(filler);
    let (code, out, err) = run(
        &["backup", "--url", &url, "--out", file.to_str().unwrap()],
        &[("IAMD_API_KEY", "ak_whatever")],
    );
    let sent = server.join().unwrap();
    // The client stopped reading long before the server ran out of filler (what it sent
    // beyond the client's limit sat in socket buffers).
    assert!(
        sent < filler / 4,
        "the client read {sent} bytes of one header"
    );
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("header"), "{err}");
    assert!(!file.exists(), "nothing is written");
}
