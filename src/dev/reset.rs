//! The dev routes: `POST /admin/reset` (back to the baseline) and `GET/PUT/DELETE
//! /admin/faults`. Registered only in dev mode; otherwise these paths are 404 like any
//! unknown path. Only administrators of the root account may call them.

use super::faults::{FaultSpec, Faults};
use super::snapshot::{self, Snapshot};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use std::sync::Mutex;

pub const RESET_PATH: &str = "/admin/reset";
pub const FAULTS_PATH: &str = "/admin/faults";
pub const SEED_PATH: &str = "/admin/seed";

/// The state reset returns to.
pub struct Baseline(pub Mutex<Snapshot>);

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(RESET_PATH, web::post().to(reset))
        .route(SEED_PATH, web::post().to(seed))
        .route(FAULTS_PATH, web::get().to(list_faults))
        .route(FAULTS_PATH, web::put().to(set_faults))
        .route(FAULTS_PATH, web::delete().to(clear_faults));
}

fn require_root_admin(state: &AppState, caller: &Caller) -> ApiResult<()> {
    let root = state.store.root_account()?;
    if !caller.is_admin || root != Some(caller.account_id().id()) {
        return Err(ApiError::Forbidden(
            "Forbidden: only administrators of the root account may use the dev routes.".into(),
        ));
    }
    Ok(())
}

/// POST /admin/reset: every table back to the baseline, in one transaction.
async fn reset(
    caller: Caller,
    state: web::Data<AppState>,
    baseline: web::Data<Baseline>,
    gate: web::Data<crate::backup::endpoint::WriteGate>,
) -> ApiResult<HttpResponse> {
    require_root_admin(&state, &caller)?;
    // No write runs while the tables are put back (`hold_for_write` lets this request
    // through ungated), so the snapshot lands whole.
    let exclusive = gate.exclusive().await;
    let started = std::time::Instant::now();
    let store = state.store.clone();
    let baseline = baseline.clone();
    web::block(move || -> ApiResult<()> {
        // Pending last-login times first, so they are overwritten too.
        store.last_login.persist()?;
        let snapshot = baseline.0.lock().unwrap_or_else(|e| e.into_inner());
        snapshot::put_back(&*store.engine, &snapshot)?;
        Ok(())
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))??;
    state.store.durable().await?;
    drop(exclusive);
    let ms = started.elapsed().as_millis();
    log::info!("dev: reset to the baseline in {ms} ms");
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "object": "reset",
        "duration_ms": ms,
    })))
}

fn faults_body(faults: Vec<FaultSpec>) -> serde_json::Value {
    serde_json::json!({ "object": "list", "data": faults })
}

async fn list_faults(
    caller: Caller,
    state: web::Data<AppState>,
    faults: web::Data<Faults>,
) -> ApiResult<HttpResponse> {
    require_root_admin(&state, &caller)?;
    Ok(HttpResponse::Ok().json(faults_body(faults.list())))
}

/// PUT /admin/faults: `{"faults": [FaultSpec, ...]}` replaces the faults in force.
async fn set_faults(
    caller: Caller,
    state: web::Data<AppState>,
    faults: web::Data<Faults>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    require_root_admin(&state, &caller)?;
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Body {
        faults: Vec<FaultSpec>,
    }
    let parsed: Body = serde_json::from_slice(&body)
        .map_err(|e| ApiError::fields(vec![FieldError::new("faults", format!("Invalid: {e}"))]))?;
    for (i, f) in parsed.faults.iter().enumerate() {
        f.validate().map_err(|(field, why)| {
            ApiError::fields(vec![FieldError::new(format!("faults[{i}].{field}"), why)])
        })?;
    }
    log::info!("dev: {} injected faults in force", parsed.faults.len());
    faults.set(parsed.faults);
    Ok(HttpResponse::Ok().json(faults_body(faults.list())))
}

async fn clear_faults(
    caller: Caller,
    state: web::Data<AppState>,
    faults: web::Data<Faults>,
) -> ApiResult<HttpResponse> {
    require_root_admin(&state, &caller)?;
    faults.set(Vec::new());
    log::info!("dev: injected faults cleared");
    Ok(HttpResponse::NoContent().finish())
}

/// The largest seed body: a file's images travel in it as base64. Dev mode, root admins only.
const MAX_SEED_BYTES: usize = 64 * 1024 * 1024;

/// POST /admin/seed: applies a seed file (the body, YAML or JSON) as `iamd seed` does
/// offline, in one transaction; a bad file is a 400 whose `fields` name the entry (or
/// `seed`, with the line, for a syntax error) and changes nothing. Its images must be
/// `base64` (a body cannot name the server's files; `iamd seed --url` puts them in).
async fn seed(
    caller: Caller,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    use super::seed::{self, ImageRules, SeedError};
    require_root_admin(&state, &caller)?;
    let body = crate::api::body::read_limited(&mut payload.into_inner(), MAX_SEED_BYTES).await?;
    let text = String::from_utf8(body)
        .map_err(|_| ApiError::field("seed", "The seed file must be UTF-8 text."))?;
    let to_api = |e: SeedError| match e {
        SeedError::Parse { message, .. } => ApiError::field("seed", message),
        SeedError::Entry { entry, message, .. } => ApiError::field(&entry, message),
        other => ApiError::Internal(other.to_string()),
    };
    let max_image_bytes = state.config.max_image_bytes;
    let parsed = web::block(move || {
        let rules = ImageRules {
            base_dir: None,
            max_image_bytes,
        };
        seed::parse("request body", &text, rules)
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
    .map_err(to_api)?;
    let summary = seed::apply(&state.store, &parsed).await.map_err(to_api)?;
    log::info!("dev: seeded through {SEED_PATH}: {summary}");
    Ok(HttpResponse::Ok().json(serde_json::json!({ "object": "seed", "created": summary })))
}
