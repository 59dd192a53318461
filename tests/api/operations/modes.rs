//! Private by default: the data directory is 0700 and everything in it 0600 (directories
//! 0700), whatever the umask the server was started with; a restore writes the same modes.

use super::run;
use crate::common::{files_under, Binary};
use serde_json::json;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};

/// Everything below `dir` (directories included) whose mode is not private.
fn public_entries(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    if mode(dir) != 0o700 {
        out.push(format!("{} {:o}", dir.display(), mode(dir)));
    }
    for entry in walk_dirs(dir) {
        if mode(&entry) != 0o700 {
            out.push(format!("{} {:o}", entry.display(), mode(&entry)));
        }
    }
    for file in files_under(dir) {
        if mode(&file) != 0o600 {
            out.push(format!("{} {:o}", file.display(), mode(&file)));
        }
    }
    out
}

fn walk_dirs(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk_dirs(&path));
            out.push(path);
        }
    }
    out
}

/// `iamd` with TLS on, started from a shell whose umask is 022; stopped once listening.
fn start_with_tls_under_umask_022(dir: &Path) {
    let mut child = Command::new("sh")
        .args(["-c", "umask 022 && exec \"$0\""])
        .arg(env!("CARGO_BIN_EXE_iamd"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("IAMD_DATA_DIR", dir)
        .env("IAMD_BIND", "127.0.0.1:0")
        .env("IAMD_TLS_SELF_SIGNED", "true")
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = BufReader::new(child.stderr.take().unwrap()).lines();
    for line in lines {
        if line.unwrap().contains("listening on https://") {
            break;
        }
    }
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    assert!(child.wait().unwrap().success());
}

#[test]
fn every_file_of_the_data_directory_is_private_whatever_the_umask() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("data");
    // TLS material first (a self-signed certificate and its key), then a server with
    // database writes and emails, both started with umask 022.
    start_with_tls_under_umask_022(&dir);
    let server = Binary::start_with_umask(&dir, &[], "022");
    for i in 0..3 {
        let email = format!("private{i}@example.com");
        server
            .client
            .post("/v3/users", &json!({"email": email}))
            .expect(201);
    }
    server
        .client
        .post("/v3/developer-certificates", &json!({"name": "dev"}))
        .expect(201);
    let files: Vec<String> = files_under(&dir)
        .iter()
        .map(|f| f.strip_prefix(&dir).unwrap().display().to_string())
        .collect();
    for expected in [
        "admin-api-key",
        "iamd-initialised",
        "db/conf",
        "db/db",
        "tls/cert.pem",
        "tls/key.pem",
    ] {
        assert!(
            files.iter().any(|f| f == expected),
            "{expected} in {files:?}"
        );
    }
    assert!(files.iter().any(|f| f.ends_with(".eml")), "{files:?}");
    assert_eq!(public_entries(&dir), Vec::<String>::new(), "while running");
    let backup = parent.path().join("backup.iamdbackup");
    let (code, _, err) = run(
        &[
            "backup",
            "--data-dir",
            dir.to_str().unwrap(),
            "--out",
            backup.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, 1, "the server holds the database: {err}");
    assert!(server.terminate().success());
    assert_eq!(public_entries(&dir), Vec::<String>::new(), "after the stop");

    // What an earlier release left readable is tightened at the next start; a file that is
    // not iamd's is left alone.
    let set = |p: &Path, mode: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap()
    };
    set(&dir, 0o755);
    set(&dir.join("db"), 0o755);
    set(&dir.join("db/db"), 0o644);
    set(&dir.join("admin-api-key"), 0o644);
    let eml = files_under(&dir.join("outbox")).pop().unwrap();
    set(&eml, 0o644);
    let notes = dir.join("notes.txt");
    std::fs::write(&notes, "mine").unwrap();
    set(&notes, 0o644);
    let server = Binary::start_with_umask(&dir, &[], "022");
    let only_notes = vec![format!("{} 644", notes.display())];
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while public_entries(&dir) != only_notes {
        assert!(
            std::time::Instant::now() < deadline,
            "{:?}",
            public_entries(&dir)
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(server.terminate().success());
    std::fs::remove_file(&notes).unwrap();

    // A restore, also under umask 022.
    let (code, _, err) = run(
        &[
            "backup",
            "--data-dir",
            dir.to_str().unwrap(),
            "--out",
            backup.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, 0, "{err}");
    let restored = parent.path().join("restored");
    let out = Command::new("sh")
        .args(["-c", "umask 022 && exec \"$0\" \"$@\""])
        .arg(env!("CARGO_BIN_EXE_iamd"))
        .args(["restore", "--in", backup.to_str().unwrap(), "--data-dir"])
        .arg(&restored)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(restored.join("iamd-initialised").exists());
    assert_eq!(public_entries(&restored), Vec::<String>::new(), "restored");
}
