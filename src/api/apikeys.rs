//! API keys: `/v3/api-keys/...` and, through `AccountScope`,
//! `/v3/accounts/{account_id}/api-keys/...`. Who may change which key is decided in
//! `service::apikeys`.

use super::body::Json;
use super::list::{FilterSpec, ListQuery, EQ};
use super::path::PathId;
use super::scope::AccountScope;
use super::views::apikeys::{view, view_created, views};
use crate::error::ApiResult;
use crate::ids::ApiKeyId;
use crate::service::apikeys::{self, ApiKeyCreate, ApiKeyUpdate};
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};

/// GET /v3/api-keys/me
pub async fn get_me(state: web::Data<AppState>, scope: AccountScope) -> ApiResult<HttpResponse> {
    let key = apikeys::me(&state, &scope)?;
    Ok(HttpResponse::Ok().json(view(&state, &key, None)?))
}

/// PUT /v3/api-keys/me
pub async fn update_me(
    state: web::Data<AppState>,
    scope: AccountScope,
    body: Json<ApiKeyUpdate>,
) -> ApiResult<HttpResponse> {
    let updated = apikeys::update_me(&state, &scope, body.0).await?;
    Ok(HttpResponse::Ok().json(view(&state, &updated, None)?))
}

/// POST /v3/api-keys
pub async fn create(
    state: web::Data<AppState>,
    scope: AccountScope,
    body: Json<ApiKeyCreate>,
) -> ApiResult<HttpResponse> {
    let (created, full_key) = apikeys::create(&state, &scope, body.0).await?;
    Ok(HttpResponse::Created()
        .insert_header(super::headers::no_store())
        .json(view_created(&created, &full_key)))
}

/// The filters of `GET /v3/api-keys` (`x-filter`).
const APIKEY_FILTERS: &[FilterSpec] = &[
    FilterSpec {
        field: "key",
        ops: EQ,
    },
    FilterSpec {
        field: "owner",
        ops: EQ,
    },
];

/// GET /v3/api-keys
///
/// Key text is case-sensitive, so `key__eq` is read from the raw query rather than the
/// list parser's lowercased value.
pub async fn list(
    state: web::Data<AppState>,
    scope: AccountScope,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let mut q = ListQuery::parse(&req, 50, APIKEY_FILTERS)?;
    let pairs: Vec<(String, String)> = if q.filters.iter().any(|f| f.field == "key") {
        serde_urlencoded::from_str(req.query_string()).unwrap_or_default()
    } else {
        Vec::new()
    };
    let key: Option<Option<&str>> = q.filters.iter().any(|f| f.field == "key").then(|| {
        pairs
            .iter()
            .rev()
            .find(|(name, _)| name == "key__eq")
            .map(|(_, value)| value.as_str())
    });
    q.filters.retain(|f| f.field != "key");
    let page = apikeys::list(&state, &scope, &q.page, &q.filters, key)?;
    Ok(q.respond(views(&state, page)?))
}

/// GET /v3/api-keys/{apikey_id}
pub async fn get(
    state: web::Data<AppState>,
    scope: AccountScope,
    id: PathId<ApiKeyId>,
) -> ApiResult<HttpResponse> {
    let key = id.find(&state, &scope)?;
    Ok(HttpResponse::Ok().json(view(&state, &key, None)?))
}

/// PUT /v3/api-keys/{apikey_id}
pub async fn update(
    state: web::Data<AppState>,
    scope: AccountScope,
    id: PathId<ApiKeyId>,
    body: Json<ApiKeyUpdate>,
) -> ApiResult<HttpResponse> {
    let key = id.find(&state, &scope)?;
    let updated = apikeys::update(&state, &scope, &key, body.0).await?;
    Ok(HttpResponse::Ok().json(view(&state, &updated, None)?))
}

/// DELETE /v3/api-keys/{apikey_id}
pub async fn delete(
    state: web::Data<AppState>,
    scope: AccountScope,
    id: PathId<ApiKeyId>,
) -> ApiResult<HttpResponse> {
    let key = id.find(&state, &scope)?;
    apikeys::delete(&state, &scope, &key).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// POST /v3/api-keys/{apikey_id}/reset-secret (and its tenant twin)
pub async fn reset_secret(
    state: web::Data<AppState>,
    scope: AccountScope,
    id: PathId<ApiKeyId>,
) -> ApiResult<HttpResponse> {
    let key = id.find(&state, &scope)?;
    let (updated, full_key) = apikeys::reset_secret(&state, &scope, &key).await?;
    Ok(HttpResponse::Ok()
        .insert_header(super::headers::no_store())
        .json(view(&state, &updated, Some(&full_key))?))
}
