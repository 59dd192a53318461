//! Branding colors: `/v3/branding-colors/{light|dark}[/{reference}]` and, through
//! `AccountScope`, the same under `/v3/accounts/{account_id}`. Also the pieces the image
//! routes share: the theme taken from the route, inheritance along the parent chain, and the
//! fixed-length list answer.
//!
//! Only customisations are stored. A value is resolved along the account's lineage: its own,
//! then its parent's (and so on), then the built-in default of the theme.

use super::body::Json;
use super::scope::{AccountScope, AdminScope};
use crate::branding::{self, Theme, COLOR_REFERENCES};
use crate::clock::rfc3339;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::ids::AccountId;
use crate::state::AppState;
use crate::store::branding::ColorRecord;
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::future::{ready, Ready};

/// The theme of a branding route. The route table registers the spec's literal paths
/// (`/branding-colors/light`, `/branding-colors/dark`, ...) to one handler each, and this
/// reads which one matched, so no handler exists twice.
pub struct ThemeParam(pub Theme);

/// The segment after `branding-colors` or `branding-images` in a route pattern.
fn theme_in(pattern: &str) -> Option<Theme> {
    let mut segments = pattern.split('/');
    while let Some(segment) = segments.next() {
        if segment == "branding-colors" || segment == "branding-images" {
            return segments.next()?.parse().ok();
        }
    }
    None
}

impl FromRequest for ThemeParam {
    type Error = ApiError;
    type Future = Ready<Result<ThemeParam, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            req.match_pattern()
                .and_then(|p| theme_in(&p))
                .map(ThemeParam)
                .ok_or_else(|| ApiError::Internal("branding route without a theme".into())),
        )
    }
}

#[derive(Deserialize)]
pub struct ReferencePath {
    pub reference: String,
}

/// Accounts whose branding applies, nearest first: the target account, its parent, ...
/// Bounded so that a damaged parent chain cannot loop.
pub fn lineage(state: &AppState, scope: &AccountScope) -> ApiResult<Vec<AccountId>> {
    const MAX_DEPTH: usize = 16;
    let mut chain = vec![scope.id()];
    let mut next = scope.account.parent_id;
    while let Some(id) = next {
        if chain.len() >= MAX_DEPTH || chain.contains(&id) {
            break;
        }
        chain.push(id);
        next = state.store.accounts.get(&id)?.and_then(|a| a.parent_id);
    }
    Ok(chain)
}

/// `BrandingColorList` / `BrandingImageList`: every reference, in one page.
#[derive(Serialize)]
pub struct BrandingList<T> {
    pub object: &'static str,
    pub data: Vec<T>,
    pub has_more: bool,
    pub total_count: usize,
    pub limit: usize,
    pub order: &'static str,
}

impl<T: Serialize> BrandingList<T> {
    pub fn respond(data: Vec<T>) -> HttpResponse {
        HttpResponse::Ok().json(BrandingList {
            object: "list",
            total_count: data.len(),
            limit: data.len(),
            data,
            has_more: false,
            order: "ASC",
        })
    }
}

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

/// The path's reference, or 404 if the spec does not name it.
fn known(reference: &str) -> ApiResult<&str> {
    if branding::is_color_reference(reference) {
        Ok(reference)
    } else {
        Err(ApiError::not_found("Branding color"))
    }
}

/// The color in force for `reference`.
fn effective(
    state: &AppState,
    scope: &AccountScope,
    theme: Theme,
    reference: &str,
) -> ApiResult<ColorView> {
    for account in lineage(state, scope)? {
        if let Some(rec) = state.store.branding.color(&account, theme, reference)? {
            return Ok(view(theme, reference, Some(&rec)));
        }
    }
    Ok(view(theme, reference, None))
}

/// GET /v3/branding-colors/{light|dark}
pub async fn list(
    state: web::Data<AppState>,
    scope: AccountScope,
    theme: ThemeParam,
) -> ApiResult<HttpResponse> {
    let theme = theme.0;
    let mut layers: Vec<HashMap<String, ColorRecord>> = Vec::new();
    for account in lineage(&state, &scope)? {
        layers.push(
            state
                .store
                .branding
                .colors(&account, theme)?
                .into_iter()
                .collect(),
        );
    }
    let data = COLOR_REFERENCES
        .iter()
        .map(|reference| {
            let custom = layers.iter().find_map(|layer| layer.get(*reference));
            view(theme, reference, custom)
        })
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
    let reference = known(&path.reference)?;
    Ok(HttpResponse::Ok().json(effective(&state, &scope, theme.0, reference)?))
}

/// `BrandingColor` as a request body. `reference` and `updated_at` may be echoed back by
/// clients; the path names the reference.
#[derive(Deserialize)]
pub struct ColorBody {
    #[serde(default)]
    pub color: Option<String>,
}

fn checked_color(field: &str, color: Option<&str>) -> Result<String, FieldError> {
    match color {
        None => Err(FieldError::new(field, "A color is required.")),
        Some(raw) => {
            branding::validate_color(raw).map_err(|e| FieldError::new(field, e.to_string()))
        }
    }
}

/// PUT /v3/branding-colors/{light|dark}/{reference}
pub async fn set(
    state: web::Data<AppState>,
    scope: AdminScope,
    theme: ThemeParam,
    path: web::Path<ReferencePath>,
    body: Json<ColorBody>,
) -> ApiResult<HttpResponse> {
    let reference = known(&path.reference)?;
    let color =
        checked_color("color", body.0.color.as_deref()).map_err(|e| ApiError::fields(vec![e]))?;
    let pair = [(reference.to_string(), color.clone())];
    let updated_at = state
        .store
        .branding
        .set_colors(&scope.id(), theme.0, &pair)?
        .durable()
        .await?;
    let rec = ColorRecord { color, updated_at };
    Ok(HttpResponse::Ok().json(view(theme.0, reference, Some(&rec))))
}

/// One item of a bulk update.
#[derive(Deserialize)]
pub struct BulkItem {
    #[serde(default)]
    pub reference: Option<String>,
    #[serde(default)]
    pub color: Option<String>,
}

/// PUT /v3/branding-colors/{light|dark}
///
/// All or nothing: every item is checked first, and one bad item changes nothing.
pub async fn set_many(
    state: web::Data<AppState>,
    scope: AdminScope,
    theme: ThemeParam,
    body: Json<Vec<BulkItem>>,
) -> ApiResult<HttpResponse> {
    let mut errors = Vec::new();
    let mut pairs = Vec::with_capacity(body.0.len());
    for (i, item) in body.0.iter().enumerate() {
        let reference = match item.reference.as_deref() {
            Some(r) if branding::is_color_reference(r) => Some(r.to_string()),
            Some(r) => {
                let shown: String = r.chars().take(64).collect();
                errors.push(FieldError::new(
                    format!("[{i}].reference"),
                    format!("'{shown}' is not a branding color reference."),
                ));
                None
            }
            None => {
                errors.push(FieldError::new(
                    format!("[{i}].reference"),
                    "A reference is required.",
                ));
                None
            }
        };
        let color = checked_color(&format!("[{i}].color"), item.color.as_deref())
            .map_err(|e| errors.push(e))
            .ok();
        if let (Some(reference), Some(color)) = (reference, color) {
            pairs.push((reference, color));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::fields(errors));
    }
    if !pairs.is_empty() {
        state
            .store
            .branding
            .set_colors(&scope.id(), theme.0, &pairs)?
            .durable()
            .await?;
    }
    Ok(HttpResponse::NoContent().finish())
}

/// DELETE /v3/branding-colors/{light|dark}/{reference}
///
/// Drops the account's own value and answers with the one now in force: the parent's, if
/// it set one, otherwise the theme's default.
pub async fn reset(
    state: web::Data<AppState>,
    scope: AdminScope,
    theme: ThemeParam,
    path: web::Path<ReferencePath>,
) -> ApiResult<HttpResponse> {
    let reference = known(&path.reference)?;
    state
        .store
        .branding
        .reset_color(&scope.id(), theme.0, reference)?
        .durable()
        .await?;
    Ok(HttpResponse::Ok().json(effective(&state, &scope, theme.0, reference)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn theme_is_read_from_either_route_family() {
        assert_eq!(theme_in("/v3/branding-colors/light"), Some(Theme::Light));
        assert_eq!(
            theme_in("/v3/accounts/{account_id}/branding-images/dark/{reference}/upload"),
            Some(Theme::Dark)
        );
        assert_eq!(theme_in("/v3/branding-colors/{reference}"), None);
        assert_eq!(theme_in("/v3/users"), None);
    }
}
