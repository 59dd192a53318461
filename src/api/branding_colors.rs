//! Branding colors: `/v3/branding-colors/{light|dark}[/{reference}]` and, through
//! `AccountScope`, the same under `/v3/accounts/{account_id}`. Inheritance along the parent
//! chain is in `service::branding`.

use super::body::Json;
use super::path::{ReferencePath, ThemeParam};
use super::scope::{AccountScope, AdminScope};
use super::views::BrandingList;
use crate::branding::{self, Theme};
use crate::clock::rfc3339;
use crate::error::ApiResult;
use crate::service::branding::{self as service, color_reference, BulkItem};
use crate::state::AppState;
use crate::store::branding::ColorRecord;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

/// `BrandingColor`. `updated_at` only for a customised value (own or inherited).
#[derive(Serialize)]
pub struct ColorView {
    pub object: &'static str,
    pub reference: String,
    pub color: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
}

fn view(theme: Theme, reference: &str, custom: Option<&ColorRecord>) -> ColorView {
    ColorView {
        object: "branding_color",
        reference: reference.to_string(),
        color: match custom {
            Some(rec) => rec.color.clone(),
            None => branding::default_color(theme, reference).to_string(),
        },
        updated_at: custom.map(|rec| rfc3339(rec.updated_at)),
    }
}

/// GET /v3/branding-colors/{light|dark}
pub async fn list(
    state: web::Data<AppState>,
    scope: AccountScope,
    theme: ThemeParam,
) -> ApiResult<HttpResponse> {
    let theme = theme.0;
    let data = service::colors(&state, &scope, theme)?
        .iter()
        .map(|(reference, custom)| view(theme, reference, custom.as_ref()))
        .collect();
    Ok(BrandingList::respond(data))
}

/// GET /v3/branding-colors/{light|dark}/{reference}
pub async fn get(
    state: web::Data<AppState>,
    scope: AccountScope,
    theme: ThemeParam,
    path: web::Path<ReferencePath>,
) -> ApiResult<HttpResponse> {
    let reference = color_reference(&path.reference)?;
    let custom = service::color(&state, &scope, theme.0, reference)?;
    Ok(HttpResponse::Ok().json(view(theme.0, reference, custom.as_ref())))
}

/// `BrandingColor` as a request body. `reference` and `updated_at` may be echoed back by
/// clients; the path names the reference.
#[derive(Deserialize)]
pub struct ColorBody {
    #[serde(default)]
    pub color: Option<String>,
}

/// PUT /v3/branding-colors/{light|dark}/{reference}
pub async fn set(
    state: web::Data<AppState>,
    scope: AdminScope,
    theme: ThemeParam,
    path: web::Path<ReferencePath>,
    body: Json<ColorBody>,
) -> ApiResult<HttpResponse> {
    let reference = color_reference(&path.reference)?;
    let rec =
        service::set_color(&state, &scope, theme.0, reference, body.0.color.as_deref()).await?;
    Ok(HttpResponse::Ok().json(view(theme.0, reference, Some(&rec))))
}

/// PUT /v3/branding-colors/{light|dark}
pub async fn set_many(
    state: web::Data<AppState>,
    scope: AdminScope,
    theme: ThemeParam,
    body: Json<Vec<BulkItem>>,
) -> ApiResult<HttpResponse> {
    service::set_colors(&state, &scope, theme.0, &body.0).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// DELETE /v3/branding-colors/{light|dark}/{reference}
///
/// Answers with the value now in force: the parent's, if it set one, otherwise the
/// theme's default.
pub async fn reset(
    state: web::Data<AppState>,
    scope: AdminScope,
    theme: ThemeParam,
    path: web::Path<ReferencePath>,
) -> ApiResult<HttpResponse> {
    let reference = color_reference(&path.reference)?;
    let custom = service::reset_color(&state, &scope, theme.0, reference).await?;
    Ok(HttpResponse::Ok().json(view(theme.0, reference, custom.as_ref())))
}
