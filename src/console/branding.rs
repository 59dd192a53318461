//! `GET /console/branding/{light|dark}`: the root account's colors and logo, for the pages
//! shown before anyone signs in (the sign-in page, the email links). Branding is what the
//! server shows every visitor anyway, so this needs no credentials; once signed in, the
//! console reads the person's own account's branding from `/v3/branding-colors` instead.

use crate::branding::{self, Theme, COLOR_REFERENCES};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use serde_json::{json, Map, Value};

/// The logo the pages show.
const LOGO: &str = "brand_logo_landscape";

pub async fn public(
    state: web::Data<AppState>,
    theme: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let theme: Theme = theme
        .parse()
        .map_err(|_| ApiError::not_found("Branding theme"))?;
    let store = &state.store;
    let root = store
        .root_account()?
        .ok_or_else(|| ApiError::not_found("Account"))?;
    let custom: std::collections::HashMap<String, String> = store
        .branding
        .colors(&root, theme)?
        .into_iter()
        .map(|(reference, rec)| (reference, rec.color))
        .collect();
    let mut colors = Map::new();
    for reference in COLOR_REFERENCES {
        let color = custom
            .get(reference)
            .cloned()
            .unwrap_or_else(|| branding::default_color(theme, reference).to_string());
        colors.insert(reference.to_string(), Value::String(color));
    }
    let name = match store.branding.image(&root, theme, LOGO)? {
        Some(rec) => rec.name,
        None => {
            let (bytes, kind) = branding::default_image(theme);
            branding::content_name(bytes, kind)
        }
    };
    Ok(HttpResponse::Ok().json(json!({
        "theme": theme.as_str(),
        "colors": colors,
        "images": {LOGO: format!("{}/static/{name}", state.config.public_url())},
    })))
}
