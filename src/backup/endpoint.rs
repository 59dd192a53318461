//! `GET /admin/backup`: a consistent snapshot of the running server's database.
//!
//! Consistency: every request that may write (any method but GET/HEAD/OPTIONS) holds the
//! read side of [`WriteGate`] from arrival until its response, acknowledgement included.
//! The backup takes the write side, so it starts once the writes in flight are durable and
//! no write starts until the snapshot is taken. The snapshot goes to an unlinked temporary
//! file first, so a slow download never holds writers up.

use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::body::{BoxBody, MessageBody, SizedStream};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpResponse};
use std::io::{Read, Seek, SeekFrom};
use tokio::sync::RwLock;

/// Held shared by writing requests, exclusively by a backup.
#[derive(Default)]
pub struct WriteGate(RwLock<()>);

pub const PATH: &str = "/admin/backup";

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let reads_only = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let gate = req.app_data::<web::Data<WriteGate>>().cloned();
    match gate {
        Some(gate) if !reads_only => {
            let _shared = gate.0.read().await;
            Ok(next.call(req).await?.map_into_boxed_body())
        }
        _ => Ok(next.call(req).await?.map_into_boxed_body()),
    }
}

/// GET /admin/backup
///
/// Only the root account's administrators may take a backup: it holds every tenant.
pub async fn download(
    caller: Caller,
    state: web::Data<AppState>,
    gate: web::Data<WriteGate>,
) -> Result<HttpResponse, ApiError> {
    let root = state.store.root_account()?;
    if !caller.is_admin || root != Some(caller.account_id().id()) {
        return Err(ApiError::Forbidden(
            "Forbidden: only administrators of the root account may take a backup.".into(),
        ));
    }
    let dir = state.config.data_dir.clone();
    let store = state.store.clone();
    let (file, len, summary) = {
        let _exclusive = gate.0.write().await;
        web::block(move || -> Result<_, ApiError> {
            store.last_login.persist()?;
            snapshot_to_temp(&dir, &store)
        })
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??
    };
    log::info!(
        "backup: {} trees, {} entries, {len} bytes",
        summary.trees,
        summary.entries
    );
    let stream = futures_util::stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let read = web::block(move || {
            let mut buf = vec![0u8; 64 * 1024];
            let n = file.read(&mut buf)?;
            buf.truncate(n);
            Ok::<_, std::io::Error>((buf, file))
        })
        .await;
        match read {
            Ok(Ok((buf, _))) if buf.is_empty() => None,
            Ok(Ok((buf, file))) => Some((Ok(web::Bytes::from(buf)), Some(file))),
            Ok(Err(e)) => Some((Err(Error::from(e)), None)),
            Err(e) => Some((Err(Error::from(e)), None)),
        }
    });
    let name = format!(
        "iamd-{}.iamdbackup",
        summary.created_at.replace([':', '-'], "").replace('.', "")
    );
    Ok(HttpResponse::Ok()
        .content_type("application/octet-stream")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ))
        .insert_header(header::CacheControl(vec![header::CacheDirective::NoStore]))
        .body(BoxBody::new(SizedStream::new(len, stream))))
}

/// Writes the snapshot to a file in the data directory that is unlinked at once (it
/// disappears with its last handle, even if the download is abandoned).
fn snapshot_to_temp(
    dir: &std::path::Path,
    store: &crate::store::Store,
) -> Result<(std::fs::File, u64, super::Summary), ApiError> {
    let path = dir.join(format!("backup-{}.tmp", crate::ids::Id::new().hex()));
    let fail = |e: &dyn std::fmt::Display| ApiError::Internal(format!("backup: {e}"));
    let mut file = super::secret_file(&path).map_err(|e| fail(&e))?;
    let _ = std::fs::remove_file(&path);
    let summary = super::write_snapshot(store.db(), &mut file).map_err(|e| fail(&e))?;
    let len = file.stream_position().map_err(|e| fail(&e))?;
    file.seek(SeekFrom::Start(0)).map_err(|e| fail(&e))?;
    Ok((file, len, summary))
}
