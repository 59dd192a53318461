//! Branding colors and images of an account and theme.
//!
//! Only customisations are stored. A value is resolved along the account's lineage: its own,
//! then its parent's (and so on), then the built-in default of the theme (which the views
//! fill in for a `None`).

use super::audit;
use super::scope::AccountScope;
use crate::branding::{self, ImageKind, Theme, COLOR_REFERENCES, IMAGE_REFERENCES};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::ids::AccountId;
use crate::state::AppState;
use crate::store::branding::{self as store_branding, ColorRecord, ImageRecord};
use serde::Deserialize;
use std::collections::HashMap;

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

/// A color reference of a path, or 404 if the spec does not name it.
pub fn color_reference(reference: &str) -> ApiResult<&str> {
    if branding::is_color_reference(reference) {
        Ok(reference)
    } else {
        Err(ApiError::not_found("Branding color"))
    }
}

/// An image reference of a path, or 404 if the spec does not name it.
pub fn image_reference(reference: &str) -> ApiResult<&str> {
    if branding::is_image_reference(reference) {
        Ok(reference)
    } else {
        Err(ApiError::not_found("Branding image"))
    }
}

/// The customised color in force for `reference` (own or inherited), if any.
pub fn color(
    state: &AppState,
    scope: &AccountScope,
    theme: Theme,
    reference: &str,
) -> ApiResult<Option<ColorRecord>> {
    for account in lineage(state, scope)? {
        if let Some(rec) = state.store.branding.color(&account, theme, reference)? {
            return Ok(Some(rec));
        }
    }
    Ok(None)
}

/// GET /v3/branding-colors/{light|dark}: every reference with its customised color in
/// force, if any.
pub fn colors(
    state: &AppState,
    scope: &AccountScope,
    theme: Theme,
) -> ApiResult<Vec<(&'static str, Option<ColorRecord>)>> {
    let mut layers: Vec<HashMap<String, ColorRecord>> = Vec::new();
    for account in lineage(state, scope)? {
        layers.push(
            state
                .store
                .branding
                .colors(&account, theme)?
                .into_iter()
                .collect(),
        );
    }
    Ok(COLOR_REFERENCES
        .iter()
        .map(|reference| {
            let custom = layers.iter().find_map(|layer| layer.get(*reference));
            (*reference, custom.cloned())
        })
        .collect())
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
pub async fn set_color(
    state: &AppState,
    scope: &AccountScope,
    theme: Theme,
    reference: &str,
    color: Option<&str>,
) -> ApiResult<ColorRecord> {
    let color = checked_color("color", color).map_err(|e| ApiError::fields(vec![e]))?;
    let pair = [(reference.to_string(), color.clone())];
    let updated_at = write_colors(state, scope, theme, &pair).await?;
    Ok(ColorRecord { color, updated_at })
}

/// Sets `pairs` of `theme` with their one audit entry; returns the time they were set.
async fn write_colors(
    state: &AppState,
    scope: &AccountScope,
    theme: Theme,
    pairs: &[(String, String)],
) -> ApiResult<i64> {
    let now = crate::clock::now_millis();
    let target = ("branding-colors", theme.to_string());
    state
        .store
        .transact(|tx| {
            let before = store_branding::set_colors_in(tx, &scope.id(), theme, pairs, now)?;
            let fields = pairs
                .iter()
                .zip(&before)
                .map(|((reference, color), old)| {
                    audit::change(reference, old.as_ref().map(|o| &o.color), Some(color))
                })
                .collect();
            audit::record_named(tx, scope, "update", (target.0, &target.1), fields)
        })?
        .durable()
        .await?;
    Ok(now)
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
pub async fn set_colors(
    state: &AppState,
    scope: &AccountScope,
    theme: Theme,
    items: &[BulkItem],
) -> ApiResult<()> {
    let mut errors = Vec::new();
    let mut pairs = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
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
        write_colors(state, scope, theme, &pairs).await?;
    }
    Ok(())
}

/// DELETE /v3/branding-colors/{light|dark}/{reference}
///
/// Drops the account's own value; returns the one now in force: the parent's, if it set
/// one (otherwise `None`, the theme's default).
pub async fn reset_color(
    state: &AppState,
    scope: &AccountScope,
    theme: Theme,
    reference: &str,
) -> ApiResult<Option<ColorRecord>> {
    let target = ("branding-colors", theme.to_string());
    state
        .store
        .transact(|tx| {
            let old = store_branding::reset_color_in(tx, &scope.id(), theme, reference)?;
            let fields = vec![audit::change::<String>(
                reference,
                old.as_ref().map(|o| &o.color),
                None,
            )];
            audit::record_named(tx, scope, "delete", (target.0, &target.1), fields)
        })?
        .durable()
        .await?;
    color(state, scope, theme, reference)
}

/// GET /v3/branding-images/{light|dark}: every reference with its uploaded image in
/// force, if any.
pub fn images(
    state: &AppState,
    scope: &AccountScope,
    theme: Theme,
) -> ApiResult<Vec<(&'static str, Option<ImageRecord>)>> {
    let mut layers: Vec<HashMap<String, ImageRecord>> = Vec::new();
    for account in lineage(state, scope)? {
        layers.push(
            state
                .store
                .branding
                .images(&account, theme)?
                .into_iter()
                .collect(),
        );
    }
    Ok(IMAGE_REFERENCES
        .iter()
        .map(|reference| {
            let custom = layers.iter().find_map(|layer| layer.get(*reference));
            (*reference, custom.cloned())
        })
        .collect())
}

/// GET /v3/branding-images/{light|dark}/{reference}: the uploaded image in force, if any.
pub fn image(
    state: &AppState,
    scope: &AccountScope,
    theme: Theme,
    reference: &str,
) -> ApiResult<Option<ImageRecord>> {
    for account in lineage(state, scope)? {
        let custom = state.store.branding.image(&account, theme, reference)?;
        if custom.is_some() {
            return Ok(custom);
        }
    }
    Ok(None)
}

/// POST /v3/branding-images/{light|dark}/{reference}/clear
pub async fn clear_image(
    state: &AppState,
    scope: &AccountScope,
    theme: Theme,
    reference: &str,
) -> ApiResult<()> {
    let target = ("branding-images", theme.to_string());
    state
        .store
        .transact(|tx| {
            let old = store_branding::clear_image_in(tx, &scope.id(), theme, reference)?;
            let fields = vec![audit::change::<String>(
                reference,
                old.as_ref().map(|o| &o.name),
                None,
            )];
            audit::record_named(tx, scope, "delete", (target.0, &target.1), fields)
        })?
        .durable()
        .await?;
    Ok(())
}

/// POST /v3/branding-images/{light|dark}/{reference}/upload (and `upload-multipart`):
/// checks the image by content (`declared`, the type the request claimed, must agree) and
/// stores it.
pub async fn set_image(
    state: &AppState,
    scope: &AccountScope,
    theme: Theme,
    reference: &str,
    bytes: &[u8],
    declared: Option<ImageKind>,
) -> ApiResult<ImageRecord> {
    let info = branding::sniff_image(bytes, declared, state.config.max_image_bytes)
        .map_err(|e| ApiError::field("image", e.to_string()))?;
    let rec = store_branding::image_record(bytes, info);
    let target = ("branding-images", theme.to_string());
    state
        .store
        .transact(|tx| {
            let old = store_branding::set_image_in(tx, &scope.id(), theme, reference, bytes, &rec)?;
            let fields = vec![audit::change(
                reference,
                old.as_ref().map(|o| &o.name),
                Some(&rec.name),
            )];
            audit::record_named(tx, scope, "update", (target.0, &target.1), fields)
        })?
        .durable()
        .await?;
    log::info!(
        "account {} uploaded {theme} branding image {reference}: {} {}x{}, {} bytes, {}",
        scope.id(),
        info.kind,
        info.width,
        info.height,
        bytes.len(),
        rec.name
    );
    Ok(rec)
}

/// The bytes of a stored image by content name (`GET /static/{name}`).
pub fn image_bytes(state: &AppState, name: &str) -> ApiResult<Option<Vec<u8>>> {
    Ok(state.store.branding.blob(name)?)
}
