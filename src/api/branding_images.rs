//! Branding images: `/v3/branding-images/{light|dark}[/{reference}[/upload|/upload-multipart|
//! /clear]]` (and under `/v3/accounts/{account_id}`), plus `GET /static/{name}`, which serves
//! the bytes without authentication under their content-hash name, the way a CDN would.
//!
//! Uploads are read here (not through the JSON extractor, whose limit is for JSON), checked
//! by content with `branding::sniff_image` and stored by the engine. A body over the limit is read
//! to its end and then refused with a 400, so the client gets an answer, not a reset.

use super::branding_colors::{lineage, BrandingList, ReferencePath, ThemeParam};
use super::scope::{AccountScope, AdminScope};
use crate::branding::{self, ImageError, ImageKind, Theme, IMAGE_REFERENCES};
use crate::clock::rfc3339;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::branding::ImageRecord;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::OnceLock;

mod multipart;

/// Room for the multipart framing (boundaries, part headers) around the image itself.
const MULTIPART_OVERHEAD: usize = 64 * 1024;
/// A body over the limit is read and discarded up to this many times the limit (and at
/// least `DRAIN_MIN` bytes) so the client gets its 400; past that the connection closes.
const DRAIN_FACTOR: usize = 16;
const DRAIN_MIN: usize = 32 * 1024 * 1024;

/// `BrandingImage`. `updated_at` only for an uploaded image (own or inherited).
#[derive(Serialize)]
pub struct ImageView {
    pub object: &'static str,
    pub reference: String,
    pub static_uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
}

/// Where clients reach this server: the configured public URL, or the address the server
/// bound (see `Config::resolve_public_url`); never the request's `Host`, which a client
/// chooses.
pub fn base_url(state: &AppState) -> String {
    state.config.public_url()
}

/// Content names of the built-in images, computed once.
fn default_name(theme: Theme) -> &'static str {
    static NAMES: OnceLock<[String; 2]> = OnceLock::new();
    let names = NAMES.get_or_init(|| {
        Theme::ALL.map(|t| {
            let (bytes, kind) = branding::default_image(t);
            branding::content_name(bytes, kind)
        })
    });
    match theme {
        Theme::Light => &names[0],
        Theme::Dark => &names[1],
    }
}

fn view(base: &str, theme: Theme, reference: &str, custom: Option<&ImageRecord>) -> ImageView {
    let name = custom.map_or(default_name(theme), |rec| rec.name.as_str());
    ImageView {
        object: "branding_image",
        reference: reference.to_string(),
        static_uri: format!("{base}/static/{name}"),
        updated_at: custom.map(|rec| rfc3339(rec.updated_at)),
    }
}

fn known(reference: &str) -> ApiResult<&str> {
    if branding::is_image_reference(reference) {
        Ok(reference)
    } else {
        Err(ApiError::not_found("Branding image"))
    }
}

/// GET /v3/branding-images/{light|dark}
pub async fn list(
    state: web::Data<AppState>,
    scope: AccountScope,
    theme: ThemeParam,
) -> ApiResult<HttpResponse> {
    let theme = theme.0;
    let mut layers: Vec<HashMap<String, ImageRecord>> = Vec::new();
    for account in lineage(&state, &scope)? {
        layers.push(
            state
                .store
                .branding
                .images(&account, theme)?
                .into_iter()
                .collect(),
        );
    }
    let base = base_url(&state);
    let data = IMAGE_REFERENCES
        .iter()
        .map(|reference| {
            let custom = layers.iter().find_map(|layer| layer.get(*reference));
            view(&base, theme, reference, custom)
        })
        .collect();
    Ok(BrandingList::respond(data))
}

/// GET /v3/branding-images/{light|dark}/{reference}
pub async fn get(
    state: web::Data<AppState>,
    scope: AccountScope,
    theme: ThemeParam,
    path: web::Path<ReferencePath>,
) -> ApiResult<HttpResponse> {
    let reference = known(&path.reference)?;
    let mut custom = None;
    for account in lineage(&state, &scope)? {
        custom = state.store.branding.image(&account, theme.0, reference)?;
        if custom.is_some() {
            break;
        }
    }
    let base = base_url(&state);
    Ok(HttpResponse::Ok().json(view(&base, theme.0, reference, custom.as_ref())))
}

/// POST /v3/branding-images/{light|dark}/{reference}/clear
pub async fn clear(
    state: web::Data<AppState>,
    scope: AdminScope,
    theme: ThemeParam,
    path: web::Path<ReferencePath>,
) -> ApiResult<HttpResponse> {
    let reference = known(&path.reference)?;
    state
        .store
        .branding
        .clear_image(&scope.id(), theme.0, reference)?
        .durable()
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

fn too_large(limit: usize) -> ApiError {
    ApiError::field("image", ImageError::TooLarge { limit }.to_string())
}

/// Reads the whole body, up to `limit` bytes. Over the limit, reads on (up to a bound) and
/// discards, so the 400 reaches a client that sends the whole body before reading.
async fn read_body(
    payload: &mut web::Payload,
    limit: usize,
    image_limit: usize,
) -> ApiResult<Vec<u8>> {
    let drain_cap = limit.saturating_mul(DRAIN_FACTOR).max(DRAIN_MIN);
    let mut body = Vec::new();
    let mut seen = 0usize;
    while let Some(chunk) = payload.next().await {
        let chunk = chunk
            .map_err(|e| ApiError::BadRequest(format!("Cannot read the request body: {e}")))?;
        seen = seen.saturating_add(chunk.len());
        if seen > drain_cap {
            return Err(too_large(image_limit));
        }
        if seen <= limit {
            body.extend_from_slice(&chunk);
        } else if !body.is_empty() {
            body = Vec::new();
        }
    }
    if seen > limit {
        return Err(too_large(image_limit));
    }
    Ok(body)
}

/// The `image` part of a `multipart/form-data` body. The part's declared type is not
/// trusted (the official SDK always says image/png); the bytes decide.
fn multipart_image(req: &HttpRequest, body: &[u8]) -> ApiResult<Vec<u8>> {
    let malformed =
        |e: &str| ApiError::BadRequest(format!("Malformed multipart/form-data body: {e}."));
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let boundary = multipart::boundary(content_type).map_err(malformed)?;
    let parts = multipart::parse(body, &boundary).map_err(malformed)?;
    parts
        .into_iter()
        .find(|part| part.name.as_deref() == Some("image"))
        .map(|part| part.data.to_vec())
        .ok_or_else(|| {
            ApiError::field(
                "image",
                "A form field named 'image' holding the image is required.",
            )
        })
}

/// Checks and stores an upload; answers 201 with the new `BrandingImage`.
async fn accept(
    req: &HttpRequest,
    state: &AppState,
    scope: &AccountScope,
    theme: Theme,
    reference: &str,
    bytes: &[u8],
    declared: Option<ImageKind>,
) -> ApiResult<HttpResponse> {
    let info = branding::sniff_image(bytes, declared, state.config.max_image_bytes)
        .map_err(|e| ApiError::field("image", e.to_string()))?;
    let rec = state
        .store
        .branding
        .set_image(&scope.id(), theme, reference, bytes, info)?
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
    let base = base_url(state);
    let image = view(&base, theme, reference, Some(&rec));
    let metadata = req
        .path()
        .rsplit_once('/')
        .map_or(req.path(), |(parent, _)| parent);
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, image.static_uri.clone()))
        .insert_header((header::CONTENT_LOCATION, format!("{base}{metadata}")))
        .json(image))
}

/// POST /v3/branding-images/{light|dark}/{reference}/upload
///
/// The body is the image itself; its `Content-Type` must be image/png or image/jpeg and
/// must agree with the bytes.
pub async fn upload(
    req: HttpRequest,
    state: web::Data<AppState>,
    scope: AdminScope,
    theme: ThemeParam,
    path: web::Path<ReferencePath>,
    mut payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let reference = known(&path.reference)?;
    let limit = state.config.max_image_bytes;
    let bytes = read_body(&mut payload, limit, limit).await?;
    let declared = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(ImageKind::from_content_type)
        .ok_or_else(|| {
            ApiError::BadRequest("The Content-Type must be image/png or image/jpeg.".into())
        })?;
    accept(
        &req,
        &state,
        &scope,
        theme.0,
        reference,
        &bytes,
        Some(declared),
    )
    .await
}

/// POST /v3/branding-images/{light|dark}/{reference}/upload-multipart
///
/// `multipart/form-data` with the image in the field `image`.
pub async fn upload_multipart(
    req: HttpRequest,
    state: web::Data<AppState>,
    scope: AdminScope,
    theme: ThemeParam,
    path: web::Path<ReferencePath>,
    mut payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let reference = known(&path.reference)?;
    let limit = state.config.max_image_bytes;
    let body = read_body(
        &mut payload,
        limit.saturating_add(MULTIPART_OVERHEAD),
        limit,
    )
    .await?;
    let bytes = multipart_image(&req, &body)?;
    accept(&req, &state, &scope, theme.0, reference, &bytes, None).await
}

#[derive(Deserialize)]
pub struct StaticPath {
    pub name: String,
}

/// A content name: 64 lowercase hex digits, a dot and a known extension.
fn parse_name(name: &str) -> Option<(&str, ImageKind)> {
    let (hash, ext) = name.split_once('.')?;
    let hex = hash.len() == 64
        && hash
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    let kind = ImageKind::from_extension(ext).filter(|k| k.extension() == ext)?;
    hex.then_some((hash, kind))
}

/// Whether an `If-None-Match` header lists `etag` (weak comparison, as RFC 9110 asks for it).
fn none_match(req: &HttpRequest, etag: &str) -> bool {
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim())
        .any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag)
}

/// GET /static/{name}
///
/// Stored and built-in images by content name. A name's bytes never change, so they may be
/// cached for good; the ETag is the content hash.
pub async fn serve_static(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<StaticPath>,
) -> ApiResult<HttpResponse> {
    let not_found = || ApiError::not_found("Static file");
    let (hash, kind) = parse_name(&path.name).ok_or_else(not_found)?;
    let builtin = Theme::ALL
        .into_iter()
        .find(|t| default_name(*t) == path.name)
        .map(|t| web::Bytes::from_static(branding::default_image(t).0));
    let bytes = match builtin {
        Some(bytes) => bytes,
        None => {
            let blob = state
                .store
                .branding
                .blob(&path.name)?
                .ok_or_else(not_found)?;
            web::Bytes::from(blob)
        }
    };
    let etag = format!("\"{hash}\"");
    let mut response = if none_match(&req, &etag) {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, etag.clone()))
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
    if none_match(&req, &etag) {
        return Ok(response.finish());
    }
    Ok(response.content_type(kind.content_type()).body(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_names_are_exact_content_names() {
        let hash = "ab".repeat(32);
        assert!(parse_name(&format!("{hash}.png")).is_some());
        assert_eq!(
            parse_name(&format!("{hash}.jpg")).unwrap().1,
            ImageKind::Jpeg
        );
        for bad in [
            format!("{hash}.jpeg"),
            format!("{hash}.PNG"),
            format!("{}.png", "AB".repeat(32)),
            format!("{}.png", "ab".repeat(31)),
            format!("{hash}.png.png"),
            hash.clone(),
            "../db.png".to_string(),
        ] {
            assert!(parse_name(&bad).is_none(), "{bad} accepted");
        }
    }
}
