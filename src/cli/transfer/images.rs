//! Branding images in an export document: `branding_images` (`light`/`dark`: each uploaded
//! image in force, `{reference, content_type, base64}`), read through `GET
//! .../branding-images/{theme}` and the `static_uri` it names, and uploaded again through
//! `POST .../branding-images/{theme}/{reference}/upload`.

use super::Api;
use base64::Engine as _;
use iamd::branding::{content_name, sniff_image};
use serde_json::{json, Value};
use std::io::Read;

/// Refused past this many bytes: more than any server accepts for an image.
const MAX_IMAGE_BYTES: u64 = 64 * 1024 * 1024;

impl Api {
    /// The bytes at `url`. The key goes only to this server: a `static_uri` may name
    /// another host (a CDN), which gets no credentials.
    fn bytes(&self, url: &str) -> Result<Vec<u8>, String> {
        let mut req = ureq::get(url);
        if url.starts_with(&format!("{}/", self.base)) {
            req = req.set("Authorization", &format!("Bearer {}", self.key));
        }
        let res = req.call().map_err(|e| format!("GET {url}: {e}"))?;
        let mut out = Vec::new();
        res.into_reader()
            .take(MAX_IMAGE_BYTES)
            .read_to_end(&mut out)
            .map_err(|e| format!("GET {url}: {e}"))?;
        Ok(out)
    }

    /// Uploads an image's bytes.
    fn upload(&self, path: &str, content_type: &str, bytes: &[u8]) -> Result<(), String> {
        ureq::post(&format!("{}{path}", self.base))
            .set("Authorization", &format!("Bearer {}", self.key))
            .set("Content-Type", content_type)
            .send_bytes(bytes)
            .map(drop)
            .map_err(|e| match e {
                ureq::Error::Status(code, res) => format!(
                    "POST {path}: {code} {}",
                    res.into_string().unwrap_or_default()
                ),
                e => format!("POST {path}: {e}"),
            })
    }
}

/// The uploaded images in force in the account at `base`, per theme.
pub(super) fn read(api: &Api, base: &str) -> Result<Value, String> {
    let mut out = json!({});
    for theme in ["light", "dark"] {
        let list = api.get(&format!("{base}/branding-images/{theme}"))?;
        let mut images = Vec::new();
        // Uploaded ones carry `updated_at`; the rest are the built-in defaults.
        for image in list["data"].as_array().into_iter().flatten() {
            if image["updated_at"].is_null() {
                continue;
            }
            let reference = image["reference"].as_str().unwrap_or_default();
            let uri = image["static_uri"].as_str().unwrap_or_default();
            // A server whose public URL is wrong names a host it cannot be reached at: its
            // own address serves the same name.
            let name = uri.rsplit('/').next().unwrap_or_default();
            let bytes = api
                .bytes(uri)
                .or_else(|_| api.bytes(&format!("{}/static/{name}", api.base)))
                .map_err(|e| format!("{theme} image {reference}: {e}"))?;
            let info = sniff_image(&bytes, None, MAX_IMAGE_BYTES as usize)
                .map_err(|e| format!("{theme} image {reference} ({uri}): {e}"))?;
            images.push(json!({
                "reference": reference,
                "content_type": info.kind.content_type(),
                "base64": base64::engine::general_purpose::STANDARD.encode(&bytes),
            }));
        }
        out[theme] = Value::Array(images);
    }
    Ok(out)
}

/// Uploads the document's images to the account at `base`, leaving those it shows already
/// (own or inherited: a tenant's inherited images are not made its own).
pub(super) fn build(api: &Api, base: &str, images: &Value) -> Result<(), String> {
    for theme in ["light", "dark"] {
        for image in images[theme].as_array().into_iter().flatten() {
            let reference = image["reference"].as_str().unwrap_or_default();
            let at = format!("{theme} image {reference}");
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(image["base64"].as_str().unwrap_or_default())
                .map_err(|e| format!("{at}: base64: {e}"))?;
            let info = sniff_image(&bytes, None, MAX_IMAGE_BYTES as usize)
                .map_err(|e| format!("{at}: {e}"))?;
            let path = format!("{base}/branding-images/{theme}/{reference}");
            let now = api.get(&path)?;
            let name = content_name(&bytes, info.kind);
            if now["static_uri"]
                .as_str()
                .is_some_and(|u| u.ends_with(&format!("/static/{name}")))
            {
                continue;
            }
            api.upload(&format!("{path}/upload"), info.kind.content_type(), &bytes)?;
        }
    }
    Ok(())
}
