//! A minimal HTTP/1.1 client (one keep-alive connection) and the closed-loop load
//! generator.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub struct Conn {
    writer: TcpStream,
    reader: BufReader<TcpStream>,
}

impl Conn {
    pub fn open(addr: SocketAddr) -> std::io::Result<Conn> {
        let s = TcpStream::connect(addr)?;
        s.set_nodelay(true)?;
        s.set_read_timeout(Some(Duration::from_secs(30)))?;
        Ok(Conn {
            reader: BufReader::new(s.try_clone()?),
            writer: s,
        })
    }

    /// Sends one request and reads the whole response: (status, body).
    pub fn roundtrip(&mut self, request: &[u8]) -> std::io::Result<(u16, Vec<u8>)> {
        self.writer.write_all(request)?;
        let mut line = String::new();
        self.reader.read_line(&mut line)?;
        let status: u16 = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("bad status line {line:?}")))?;
        let (mut length, mut chunked) = (0usize, false);
        loop {
            line.clear();
            self.reader.read_line(&mut line)?;
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            let (name, value) = l.split_once(':').unwrap_or((l, ""));
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.to_ascii_lowercase().contains("chunked");
            }
        }
        let mut body = Vec::new();
        if chunked {
            loop {
                line.clear();
                self.reader.read_line(&mut line)?;
                let size = usize::from_str_radix(line.trim(), 16).unwrap_or(0);
                let mut chunk = vec![0; size + 2];
                self.reader.read_exact(&mut chunk)?;
                if size == 0 {
                    break;
                }
                body.extend_from_slice(&chunk[..size]);
            }
        } else {
            body.resize(length, 0);
            self.reader.read_exact(&mut body)?;
        }
        Ok((status, body))
    }
}

pub fn get(path: &str, key: Option<&str>) -> Vec<u8> {
    let auth = key.map_or(String::new(), |k| format!("Authorization: Bearer {k}\r\n"));
    format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}\r\n").into_bytes()
}

pub fn post(path: &str, key: &str, body: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

pub fn once(addr: SocketAddr, request: &[u8]) -> std::io::Result<(u16, Vec<u8>)> {
    Conn::open(addr)?.roundtrip(request)
}

// ---- the load generator ---------------------------------------------------------------------

pub struct Stats {
    /// Server CPU time per answered request, when measured.
    pub cpu_us: Option<f64>,
    pub ok: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    pub secs: f64,
    /// Sorted latencies in microseconds.
    pub lat: Vec<u32>,
}

impl Stats {
    /// Several runs of the same load as one.
    pub fn merge(runs: Vec<Stats>) -> Stats {
        let ok: u64 = runs.iter().map(|s| s.ok).sum();
        let cpu = runs
            .iter()
            .map(|s| s.cpu_us.map(|us| us * s.ok as f64))
            .sum::<Option<f64>>();
        let mut merged = Stats {
            cpu_us: cpu.filter(|_| ok > 0).map(|total| total / ok as f64),
            ok,
            errors: runs.iter().map(|s| s.errors).sum(),
            first_error: runs.iter().find_map(|s| s.first_error.clone()),
            secs: runs.iter().map(|s| s.secs).sum(),
            lat: runs.into_iter().flat_map(|s| s.lat).collect(),
        };
        merged.lat.sort_unstable();
        merged
    }

    pub fn rps(&self) -> f64 {
        self.ok as f64 / self.secs
    }
    pub fn pct(&self, q: f64) -> f64 {
        percentile_ms(&self.lat, q)
    }
}

/// The `q` quantile, in milliseconds, of latencies in microseconds sorted ascending (NaN for
/// none): the one rule for every figure of the report.
pub fn percentile_ms(sorted_us: &[u32], q: f64) -> f64 {
    if sorted_us.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted_us.len() as f64 - 1.0) * q).round() as usize;
    sorted_us[i] as f64 / 1000.0
}

/// Closed loop: `concurrency` connections each send `make(seq)` and wait for the answer,
/// for `duration`. Answers other than `expect` count as errors.
pub fn load(
    addr: SocketAddr,
    concurrency: usize,
    duration: Duration,
    expect: u16,
    make: &(dyn Fn(u64) -> Vec<u8> + Sync),
) -> Stats {
    let seq = AtomicU64::new(0);
    let start = Instant::now();
    let deadline = start + duration;
    let results: Vec<(u64, u64, Option<String>, Vec<u32>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..concurrency)
            .map(|_| {
                let seq = &seq;
                s.spawn(move || {
                    let (mut ok, mut errors, mut first_error) = (0, 0, None);
                    let mut lat = Vec::with_capacity(1 << 16);
                    let mut conn = Conn::open(addr).expect("connect");
                    while Instant::now() < deadline {
                        let request = make(seq.fetch_add(1, Ordering::Relaxed));
                        let t = Instant::now();
                        match conn.roundtrip(&request) {
                            Ok((status, _)) if status == expect => {
                                ok += 1;
                                lat.push(t.elapsed().as_micros().min(u32::MAX as u128) as u32);
                            }
                            Ok((status, body)) => {
                                errors += 1;
                                first_error.get_or_insert_with(|| {
                                    format!("{status} {}", String::from_utf8_lossy(&body))
                                });
                            }
                            Err(e) => {
                                errors += 1;
                                first_error.get_or_insert_with(|| e.to_string());
                                conn = Conn::open(addr).expect("reconnect");
                            }
                        }
                    }
                    (ok, errors, first_error, lat)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let secs = start.elapsed().as_secs_f64();
    let mut stats = Stats {
        cpu_us: None,
        ok: 0,
        errors: 0,
        first_error: None,
        secs,
        lat: Vec::new(),
    };
    for (ok, errors, first, lat) in results {
        stats.ok += ok;
        stats.errors += errors;
        stats.first_error = stats.first_error.or(first);
        stats.lat.extend(lat);
    }
    stats.lat.sort_unstable();
    stats
}

pub fn total_count(addr: SocketAddr, key: &str) -> u64 {
    let (_, body) = once(addr, &get("/v3/users?limit=2", Some(key))).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    v["total_count"].as_u64().expect("total_count")
}

/// Ids of every user, in list order (walks the pages as a client would).
pub fn page_ids(addr: SocketAddr, key: &str) -> Vec<String> {
    let mut conn = Conn::open(addr).unwrap();
    let mut ids = Vec::new();
    let mut after = String::new();
    loop {
        let (status, body) = conn
            .roundtrip(&get(&format!("/v3/users?limit=1000{after}"), Some(key)))
            .unwrap();
        assert_eq!(status, 200);
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        for u in v["data"].as_array().unwrap() {
            ids.push(u["id"].as_str().unwrap().to_string());
        }
        if v["has_more"] != true {
            return ids;
        }
        after = format!("&after={}", ids.last().unwrap());
    }
}
