//! `GET /admin/backup`: a consistent snapshot of the running server's database.
//!
//! Consistency: every request that may write (any method but GET/HEAD/OPTIONS) holds the
//! read side of [`WriteGate`] until its response, acknowledgement included: from its arrival
//! when it has no body, else from the moment its handler has read the whole body. The backup
//! takes the write side, so it starts once the writes in flight are durable and no write
//! starts until the snapshot is taken. A body still arriving holds nothing: a slow client
//! would otherwise keep the backup waiting, and every write queued behind the backup with it.
//! (A route that takes no body does not read one a client sends anyway: such a request runs
//! outside the gate. Routes that write read their whole body before they write.) The
//! snapshot goes to an unlinked temporary file first, so a slow download never holds writers
//! up.
//!
//! The same check refuses a write (503) while the store cannot take one (a full disk,
//! see `Store::writable`) before anything of it runs.

use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::body::{BoxBody, SizedStream};
use actix_web::dev::{Payload, ServiceRequest};
use actix_web::error::PayloadError;
use actix_web::http::{header, Method};
use actix_web::{web, Error, HttpMessage, HttpResponse};
use futures_util::future::BoxFuture;
use futures_util::Stream;
use std::cell::RefCell;
use std::io::{Read, Seek, SeekFrom};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::sync::{OwnedRwLockReadGuard, RwLock};

/// Held shared by writing requests, exclusively by a backup.
#[derive(Default)]
pub struct WriteGate(Arc<RwLock<()>>);

impl WriteGate {
    /// Waits until no write is in flight and holds every new one off (dev mode's reset,
    /// which `hold_for_write` lets through ungated for this).
    pub async fn exclusive(&self) -> tokio::sync::OwnedRwLockWriteGuard<()> {
        self.0.clone().write_owned().await
    }
}

pub const PATH: &str = "/admin/backup";

/// What a writing request holds of the gate until its response is made (drop it then).
#[must_use = "the gate is let go when this is dropped"]
pub struct Held {
    _guard: Option<Rc<RefCell<Option<OwnedRwLockReadGuard<()>>>>>,
}

/// Takes the gate for a request that may write: now when it has no body, else once its body
/// has all arrived. A write the store cannot take now is refused (503) before anything of
/// it runs. Reads hold nothing.
pub async fn hold_for_write(req: &mut ServiceRequest) -> Result<Held, ApiError> {
    let reads_only = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        || req.path() == crate::dev::reset::RESET_PATH;
    let gate = req.app_data::<web::Data<WriteGate>>().cloned();
    let (Some(gate), false) = (gate, reads_only) else {
        return Ok(Held { _guard: None });
    };
    if let Some(state) = req.app_data::<web::Data<AppState>>() {
        state
            .store
            .writable(state.config.limits.min_free_disk_bytes)
            .map_err(ApiError::Unavailable)?;
    }
    let held = Rc::new(RefCell::new(None));
    let body = req.take_payload();
    if matches!(body, Payload::None) {
        *held.borrow_mut() = Some(gate.0.clone().read_owned().await);
        req.set_payload(body);
    } else {
        let gated: Pin<Box<dyn Stream<Item = Result<web::Bytes, PayloadError>>>> =
            Box::pin(GateAtEnd {
                body,
                gate: gate.0.clone(),
                held: held.clone(),
                taking: None,
                done: false,
            });
        req.set_payload(Payload::from(gated));
    }
    Ok(Held { _guard: Some(held) })
}

/// A request body that takes the gate once it has all arrived, before the reader sees its
/// end (so the handler runs holding it), and leaves the guard in `held` until the response.
struct GateAtEnd {
    body: Payload,
    gate: Arc<RwLock<()>>,
    held: Rc<RefCell<Option<OwnedRwLockReadGuard<()>>>>,
    taking: Option<BoxFuture<'static, OwnedRwLockReadGuard<()>>>,
    done: bool,
}

impl Stream for GateAtEnd {
    type Item = Result<web::Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        if this.taking.is_none() {
            match Pin::new(&mut this.body).poll_next(cx) {
                Poll::Ready(None) => {
                    this.taking = Some(Box::pin(this.gate.clone().read_owned()));
                }
                other => return other,
            }
        }
        let taking = this.taking.as_mut().expect("set above");
        match taking.as_mut().poll(cx) {
            Poll::Ready(guard) => {
                *this.held.borrow_mut() = Some(guard);
                this.taking = None;
                this.done = true;
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
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
        "backup: {} tables, {} entries, {len} bytes",
        summary.tables,
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
    let summary = super::write_snapshot(&*store.engine(), &mut file).map_err(|e| fail(&e))?;
    let len = file.stream_position().map_err(|e| fail(&e))?;
    file.seek(SeekFrom::Start(0)).map_err(|e| fail(&e))?;
    Ok((file, len, summary))
}
