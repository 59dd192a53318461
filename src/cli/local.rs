//! `iamd mirror --data-dir DIR`: the copy is built through the public API of a server run in
//! this process on DIR (on a loopback port of its own, for as long as the copy takes), so
//! that it follows every rule a running server applies.

use std::path::Path;
use std::sync::mpsc;

/// Runs `work` with the base URL and a root admin key of a server on `dir` (a new directory
/// is made and bootstrapped; an existing one must be stopped and gets a new root admin key,
/// written to `dir/admin-api-key`, as `iamd admin-key` does).
pub fn with_server<R>(dir: &Path, work: impl FnOnce(&str, &str) -> R) -> Result<R, String> {
    if iamd::datadir::in_use(dir) {
        return Err(iamd::datadir::in_use_message(dir));
    }
    let mut config = super::load_config_quietly(None)?;
    config.data_dir = dir.to_path_buf();
    config.bind = "127.0.0.1:0".into();
    config.store.url = String::new();
    config.tls = Default::default();
    config.dev = Default::default();
    let (tx, rx) = mpsc::channel();
    let owned = dir.to_path_buf();
    let thread = std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let started = match iamd::server::start(config).await {
                Ok(s) => s,
                Err(e) => return tx.send(Err(e.to_string())).unwrap_or(()),
            };
            let key = match started.admin_key.clone() {
                Some(k) => Ok(k),
                None => iamd::bootstrap::mint_root_key(&started.store, &owned)
                    .await
                    .map_err(|e| e.to_string()),
            };
            let addr = started.addr;
            let handle = started.handle.clone();
            let ok = key.is_ok();
            let _ = tx.send(key.map(|k| (format!("http://{addr}"), k, handle.clone())));
            if !ok {
                handle.stop(true).await;
            }
            let _ = started.server.await;
            let _ = started.store.flush();
        })
    });
    let (url, key, handle) = rx
        .recv()
        .map_err(|_| "the local server stopped before it served".to_string())??;
    let out = work(&url, &key);
    actix_web::rt::System::new().block_on(handle.stop(true));
    thread
        .join()
        .map_err(|_| "the local server panicked".to_string())?;
    Ok(out)
}
