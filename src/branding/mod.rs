//! Branding primitives for the `/v3/branding-colors` and `/v3/branding-images`
//! endpoints: themes, the spec's color and image reference names, the default
//! palette, color-string validation, PNG/JPEG intake and the default images.
//!
//! Nothing here does I/O or knows about HTTP; the handlers own that. Every
//! function that sees client input is total (returns an error, never panics).

mod color_validate;
mod colors;
mod images;
mod jpeg;
mod png;

#[cfg(test)]
mod fuzz_tests;
#[cfg(test)]
mod pnggen;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub use self::color_validate::{validate_color, ColorError, MAX_COLOR_INPUT_LEN, NAMED_COLORS};
pub use self::colors::{
    default_color, is_color_reference, palette, palette_markdown, try_default_color,
    COLOR_REFERENCES,
};
pub use self::images::{
    is_image_reference, sniff_image, ImageError, ImageInfo, ImageKind, IMAGE_REFERENCES,
    MAX_IMAGE_PIXELS, MAX_IMAGE_SIDE,
};

/// The two UI themes the API keeps separate color and image sets for.
/// Appears in URLs as `/branding-colors/light` and `/branding-colors/dark`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    Light,
    Dark,
}

impl Theme {
    /// Both themes, in the order used for listings and docs.
    pub const ALL: [Theme; 2] = [Theme::Light, Theme::Dark];

    /// The lowercase name used in URLs and storage keys.
    pub fn as_str(self) -> &'static str {
        match self {
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }
}

impl fmt::Display for Theme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Returned when a path segment is neither `light` nor `dark`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown theme {0:?}: expected \"light\" or \"dark\"")]
pub struct ThemeError(pub String);

impl FromStr for Theme {
    type Err = ThemeError;

    /// Exact, case-sensitive match: URL paths are case-sensitive, and
    /// accepting `Dark` would give one resource two addresses.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "light" => Ok(Theme::Light),
            "dark" => Ok(Theme::Dark),
            // Cap the echoed input so a huge path segment can't bloat the error.
            other => Err(ThemeError(other.chars().take(32).collect())),
        }
    }
}

/// Content-addressed file name for stored image bytes: lowercase hex SHA-256
/// of the bytes, a dot, and the kind's extension (e.g. `ab12…ef.png`).
/// Identical uploads share one file, and the name is safe in a URL and on disk.
pub fn content_name(bytes: &[u8], kind: ImageKind) -> String {
    let mut name = crate::pki::sha256_hex(bytes);
    name.push('.');
    name.push_str(kind.extension());
    name
}

/// PNG bytes shipped inside the binary so a fresh server can answer image
/// requests for every reference before anything was uploaded. The files are
/// generated (and checked) by `pnggen`'s tests; see `static/`.
static DEFAULT_LIGHT_PNG: &[u8] = include_bytes!("../../static/default-light.png");
static DEFAULT_DARK_PNG: &[u8] = include_bytes!("../../static/default-dark.png");

/// The built-in placeholder image for a theme (the same one serves every
/// image reference until an account uploads its own).
pub fn default_image(theme: Theme) -> (&'static [u8], ImageKind) {
    match theme {
        Theme::Light => (DEFAULT_LIGHT_PNG, ImageKind::Png),
        Theme::Dark => (DEFAULT_DARK_PNG, ImageKind::Png),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn theme_parses_exact_names_only() {
        assert_eq!("light".parse::<Theme>(), Ok(Theme::Light));
        assert_eq!("dark".parse::<Theme>(), Ok(Theme::Dark));
        for bad in ["", "Light", "DARK", " dark", "dim", "light/"] {
            assert!(bad.parse::<Theme>().is_err(), "{bad:?} accepted");
        }
        let err = "x".repeat(1000).parse::<Theme>().unwrap_err();
        assert_eq!(err.0.len(), 32);
        assert!(err.to_string().contains("expected \"light\" or \"dark\""));
    }

    #[test]
    fn theme_round_trips_through_display_and_serde_names() {
        for theme in Theme::ALL {
            assert_eq!(theme.to_string().parse::<Theme>(), Ok(theme));
            assert_eq!(theme.to_string(), theme.as_str());
        }
    }

    #[test]
    fn content_name_is_sha256_hex_plus_extension() {
        // Known SHA-256 test vectors (FIPS 180-2 "abc", and the empty string).
        assert_eq!(
            content_name(b"abc", ImageKind::Png),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad.png"
        );
        assert_eq!(
            content_name(b"", ImageKind::Jpeg),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855.jpg"
        );
        let name = content_name(b"anything", ImageKind::Png);
        assert_eq!(name.len(), 64 + 4);
        assert!(name[..64]
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    }

    #[test]
    fn default_images_are_valid_pngs() {
        for theme in Theme::ALL {
            let (bytes, kind) = default_image(theme);
            assert_eq!(kind, ImageKind::Png);
            let info = sniff_image(bytes, Some(kind), 1 << 20).expect("default image sniffs");
            assert_eq!(
                (info.kind, info.width, info.height),
                (ImageKind::Png, 64, 64)
            );
        }
        assert_ne!(default_image(Theme::Light).0, default_image(Theme::Dark).0);
    }
}
