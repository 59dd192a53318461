//! Branding images of a seed file: `branding_images: {light: {REFERENCE: {file: PATH} or
//! {base64: DATA}}, dark: ...}`, checked as an upload is (`branding::sniff_image`: PNG or
//! JPEG, the configured size limit, the pixel limits).

use super::{ErrFn, SeedError};
use crate::branding::{self, ImageInfo, Theme};
use base64::Engine as _;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Image reference (`brand_logo_square`, ...) -> image, per theme.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThemeImages {
    #[serde(default)]
    pub light: BTreeMap<String, ImageSource>,
    #[serde(default)]
    pub dark: BTreeMap<String, ImageSource>,
}

/// Where an image's bytes are: exactly one of the two.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageSource {
    /// A path, relative to the seed file's directory (or absolute).
    #[serde(default)]
    pub file: Option<String>,
    /// The bytes in standard base64.
    #[serde(default)]
    pub base64: Option<String>,
}

/// A checked image: theme, reference, bytes, what the check learned.
pub struct ImagePlan {
    pub entry: String,
    pub theme: Theme,
    pub reference: String,
    pub bytes: Vec<u8>,
    pub info: ImageInfo,
}

/// How images are read: files relative to `base_dir` (none for a seed sent over HTTP, which
/// cannot name the server's files), at most `max_image_bytes` each (`max_image_bytes`).
#[derive(Clone, Copy)]
pub struct ImageRules<'a> {
    pub base_dir: Option<&'a Path>,
    pub max_image_bytes: usize,
}

fn bytes_of(source: &ImageSource, rules: ImageRules) -> Result<Vec<u8>, String> {
    match (&source.file, &source.base64) {
        (Some(file), None) => {
            let Some(dir) = rules.base_dir else {
                return Err(
                    "file: a seed sent to a server cannot name files; give base64, or \
                     use `iamd seed FILE --url URL`, which puts the files in"
                        .into(),
                );
            };
            let path = dir.join(file);
            std::fs::read(&path).map_err(|e| format!("file: cannot read {}: {e}", path.display()))
        }
        (None, Some(text)) => {
            let clean: String = text.chars().filter(|c| !c.is_whitespace()).collect();
            base64::engine::general_purpose::STANDARD
                .decode(clean)
                .map_err(|e| format!("base64: not base64 ({e})"))
        }
        _ => Err("give exactly one of file (a path) or base64".into()),
    }
}

/// Reads and checks an account's images; errors name the entry
/// (`root.branding_images.light.brand_logo_square`).
pub fn plan(
    entry: &str,
    images: ThemeImages,
    rules: ImageRules,
    err: &ErrFn,
) -> Result<Vec<ImagePlan>, SeedError> {
    let mut out = Vec::new();
    for (theme, refs) in [(Theme::Light, images.light), (Theme::Dark, images.dark)] {
        for (reference, source) in refs {
            let at = format!("{entry}.branding_images.{theme}.{reference}");
            if !branding::is_image_reference(&reference) {
                return Err(err(
                    at,
                    "not an image reference (see GET /v3/branding-images/light)".into(),
                ));
            }
            let bytes = bytes_of(&source, rules).map_err(|m| err(at.clone(), m))?;
            let info = branding::sniff_image(&bytes, None, rules.max_image_bytes)
                .map_err(|e| err(at.clone(), e.to_string()))?;
            out.push(ImagePlan {
                entry: at,
                theme,
                reference,
                bytes,
                info,
            });
        }
    }
    Ok(out)
}

/// The seed text with every `file:` image replaced by its `base64:` bytes, for a server that
/// cannot read the files (`iamd seed --url`). The text is checked first, so syntax and schema
/// errors name lines of the file as written; a text without files is returned as it is.
pub fn inline_files(source: &str, text: &str, base_dir: &Path) -> Result<String, SeedError> {
    let file: super::SeedFile = serde_yaml::from_str(text).map_err(|e| SeedError::Parse {
        path: source.into(),
        message: e.to_string(),
    })?;
    let any_file = |i: &ThemeImages| {
        i.light
            .values()
            .chain(i.dark.values())
            .any(|s| s.file.is_some())
    };
    let has_files = any_file(&file.branding_images)
        || file.tenants.iter().any(|t| any_file(&t.branding_images));
    if !has_files {
        return Ok(text.to_string());
    }
    let mut doc: serde_yaml::Value = serde_yaml::from_str(text).map_err(|e| SeedError::Parse {
        path: source.into(),
        message: e.to_string(),
    })?;
    let err = |entry: String, message: String| SeedError::Entry {
        path: source.into(),
        entry,
        message,
    };
    inline_account(&mut doc, "root", base_dir, &err)?;
    if let Some(tenants) = doc.get_mut("tenants").and_then(|t| t.as_sequence_mut()) {
        for (i, t) in tenants.iter_mut().enumerate() {
            inline_account(t, &format!("tenants[{i}]"), base_dir, &err)?;
        }
    }
    serde_yaml::to_string(&doc).map_err(|e| SeedError::Parse {
        path: source.into(),
        message: e.to_string(),
    })
}

fn inline_account(
    account: &mut serde_yaml::Value,
    entry: &str,
    base_dir: &Path,
    err: &ErrFn,
) -> Result<(), SeedError> {
    for theme in ["light", "dark"] {
        let Some(refs) = account
            .get_mut("branding_images")
            .and_then(|b| b.get_mut(theme))
            .and_then(|t| t.as_mapping_mut())
        else {
            continue;
        };
        for (reference, source) in refs.iter_mut() {
            let Some(file) = source.get("file").and_then(|f| f.as_str()) else {
                continue;
            };
            let reference = reference.as_str().unwrap_or_default();
            let at = format!("{entry}.branding_images.{theme}.{reference}");
            let path = base_dir.join(file);
            let bytes = std::fs::read(&path)
                .map_err(|e| err(at, format!("file: cannot read {}: {e}", path.display())))?;
            let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
            let mut inline = serde_yaml::Mapping::new();
            inline.insert("base64".into(), encoded.into());
            *source = serde_yaml::Value::Mapping(inline);
        }
    }
    Ok(())
}
