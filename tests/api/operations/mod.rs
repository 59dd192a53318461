//! Operations: HTTPS with a self-signed certificate, graceful shutdown, backup and restore,
//! abuse limits, the appliance commands (`check-config`, `systemd-unit`), damaged data
//! directories and `verify`, file modes, and a full disk.

mod admin_key;
mod appliance;
mod backup;
mod backup_engines;
mod backup_url;
mod cli_docs;
mod command_line;
mod connections;
mod cors;
mod damage;
mod full_disk;
mod limits;
mod modes;
mod operator;
mod request_log;
mod shutdown;
mod tls;

use std::process::Command;

pub fn iamd() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_iamd"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    cmd
}

/// Runs `iamd args...`; returns (exit code, stdout, stderr).
/// `iamd restore --in FILE --data-dir DIR`.
pub fn restore(file: &std::path::Path, dir: &std::path::Path) -> (i32, String, String) {
    let (file, dir) = (file.to_str().unwrap(), dir.to_str().unwrap());
    run(&["restore", "--in", file, "--data-dir", dir], &[])
}

pub fn run(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let out = iamd()
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Status and body of a raw HTTP/1.1 response with a Content-Length.
pub fn parse_response(raw: &[u8]) -> Option<(u16, String)> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, body.to_string()))
}
