//! Image reference names (from the spec), image kinds and upload intake.
//!
//! `sniff_image` only checks container structure and reads dimensions; it
//! never decompresses pixel data, so its cost is linear in the input and it
//! can't be used as a decompression bomb against the server. That is why the PNG/JPEG checks
//! are hand-written: decoder crates (`image`, `png`, `jpeg-decoder`) inflate pixels to read them.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{jpeg, png};

/// The exact `BrandingImage.reference` enum from the spec, in spec order.
pub const IMAGE_REFERENCES: [&str; 37] = [
    "brand_logo_portrait",
    "brand_logo_square",
    "brand_logo_landscape",
    "brand_logo_email",
    "desktop_background_landscape",
    "desktop_background_square",
    "desktop_background_portrait",
    "carousel_image_portrait_0",
    "carousel_image_portrait_1",
    "carousel_image_portrait_2",
    "carousel_image_portrait_3",
    "carousel_image_portrait_4",
    "carousel_image_portrait_5",
    "carousel_image_portrait_6",
    "carousel_image_portrait_7",
    "carousel_image_portrait_8",
    "carousel_image_portrait_9",
    "carousel_image_square_0",
    "carousel_image_square_1",
    "carousel_image_square_2",
    "carousel_image_square_3",
    "carousel_image_square_4",
    "carousel_image_square_5",
    "carousel_image_square_6",
    "carousel_image_square_7",
    "carousel_image_square_8",
    "carousel_image_square_9",
    "carousel_image_landscape_0",
    "carousel_image_landscape_1",
    "carousel_image_landscape_2",
    "carousel_image_landscape_3",
    "carousel_image_landscape_4",
    "carousel_image_landscape_5",
    "carousel_image_landscape_6",
    "carousel_image_landscape_7",
    "carousel_image_landscape_8",
    "carousel_image_landscape_9",
];

/// True if `reference` is one of the 37 spec image names (case-sensitive).
pub fn is_image_reference(reference: &str) -> bool {
    IMAGE_REFERENCES.contains(&reference)
}

/// The two formats the upload endpoints accept (`Consumes: image/png,
/// image/jpeg`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageKind {
    Png,
    Jpeg,
}

impl ImageKind {
    /// MIME type to serve the image with.
    pub fn content_type(self) -> &'static str {
        match self {
            ImageKind::Png => "image/png",
            ImageKind::Jpeg => "image/jpeg",
        }
    }

    /// File extension without the dot (`jpg`, the common one, for JPEG).
    pub fn extension(self) -> &'static str {
        match self {
            ImageKind::Png => "png",
            ImageKind::Jpeg => "jpg",
        }
    }

    /// Parses a request `Content-Type` header value. Parameters after `;`
    /// are ignored and the match is case-insensitive (MIME types are).
    /// `image/jpg` and `image/pjpeg` are accepted because real clients send
    /// them for JPEG files.
    pub fn from_content_type(value: &str) -> Option<ImageKind> {
        let essence = value.split(';').next().unwrap_or("").trim();
        match essence.to_ascii_lowercase().as_str() {
            "image/png" => Some(ImageKind::Png),
            "image/jpeg" | "image/jpg" | "image/pjpeg" => Some(ImageKind::Jpeg),
            _ => None,
        }
    }

    /// Inverse of `extension` (also takes `jpeg`), for serving stored files.
    pub fn from_extension(ext: &str) -> Option<ImageKind> {
        match ext.to_ascii_lowercase().as_str() {
            "png" => Some(ImageKind::Png),
            "jpg" | "jpeg" => Some(ImageKind::Jpeg),
            _ => None,
        }
    }
}

impl fmt::Display for ImageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.content_type())
    }
}

/// What `sniff_image` learned about an accepted image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ImageInfo {
    pub kind: ImageKind,
    pub width: u32,
    pub height: u32,
}

/// Why an upload was rejected; all map to HTTP 400 with the message shown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageError {
    #[error("image is too large: the limit is {limit} bytes")]
    TooLarge { limit: usize },
    #[error("image data is {actual} but was declared as {declared}")]
    Mismatch {
        declared: ImageKind,
        actual: ImageKind,
    },
    /// Not PNG/JPEG at all, or a damaged/truncated one; the text says which.
    #[error("not a valid PNG or JPEG image: {0}")]
    NotAnImage(&'static str),
    #[error(
        "image is {width}x{height} pixels: the limit is {MAX_IMAGE_SIDE} pixels on a side \
         and {MAX_IMAGE_PIXELS} pixels in all"
    )]
    TooManyPixels { width: u32, height: u32 },
}

/// Largest accepted width or height, in pixels. Clients decode these images: a small file
/// can declare a huge canvas (a decompression bomb for every browser that shows it).
pub const MAX_IMAGE_SIDE: u32 = 8192;
/// Largest accepted width x height (4096 x 4096; 64 MiB decoded as RGBA).
pub const MAX_IMAGE_PIXELS: u64 = 4096 * 4096;

/// Checks uploaded bytes: size limit first (cheapest), then format by magic
/// number, then the declared type, then the container structure.
///
/// PNG: signature, IHDR first and well formed, every chunk complete, CRCs of
/// critical chunks, PLTE where required, IDAT present, ends with IEND (nothing
/// after it).
/// JPEG: SOI, then every segment up to the first SOS must be complete and an
/// SOFn (C0-C3, C5-C7, C9-CB, CD-CF) must precede it; entropy-coded data is
/// skipped, not decoded, up to EOI, which must end the file.
/// Both: at most `MAX_IMAGE_SIDE` pixels on a side and `MAX_IMAGE_PIXELS` in all.
pub fn sniff_image(
    bytes: &[u8],
    declared: Option<ImageKind>,
    max_bytes: usize,
) -> Result<ImageInfo, ImageError> {
    if bytes.len() > max_bytes {
        return Err(ImageError::TooLarge { limit: max_bytes });
    }
    let kind = if bytes.starts_with(&png::SIGNATURE) {
        ImageKind::Png
    } else if bytes.starts_with(&jpeg::MAGIC) {
        ImageKind::Jpeg
    } else if bytes.is_empty() {
        return Err(ImageError::NotAnImage("no data"));
    } else {
        return Err(ImageError::NotAnImage(
            "data starts with neither a PNG nor a JPEG signature",
        ));
    };
    // Checked before parsing so that a mislabelled upload gets the more
    // useful "wrong type" answer even if it is also damaged.
    if let Some(declared) = declared {
        if declared != kind {
            return Err(ImageError::Mismatch {
                declared,
                actual: kind,
            });
        }
    }
    let (width, height) = match kind {
        ImageKind::Png => png::dimensions(bytes),
        ImageKind::Jpeg => jpeg::dimensions(bytes),
    }
    .map_err(ImageError::NotAnImage)?;
    if width > MAX_IMAGE_SIDE
        || height > MAX_IMAGE_SIDE
        || u64::from(width) * u64::from(height) > MAX_IMAGE_PIXELS
    {
        return Err(ImageError::TooManyPixels { width, height });
    }
    Ok(ImageInfo {
        kind,
        width,
        height,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASELINE_JPEG: &[u8] = include_bytes!("testdata/baseline-5x3.jpg");
    const PROGRESSIVE_JPEG: &[u8] = include_bytes!("testdata/progressive-7x4.jpg");
    const GRAY_PNG: &[u8] = include_bytes!("testdata/gray-2x9.png");
    const LIMIT: usize = 1 << 20;

    fn info(kind: ImageKind, width: u32, height: u32) -> ImageInfo {
        ImageInfo {
            kind,
            width,
            height,
        }
    }

    #[test]
    fn references_match_spec() {
        let mut sorted = IMAGE_REFERENCES.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 37);
        assert!(is_image_reference("brand_logo_email"));
        assert!(is_image_reference("carousel_image_landscape_9"));
        for bad in [
            "",
            "carousel_image_landscape_10",
            "Brand_logo_square",
            "primary",
        ] {
            assert!(!is_image_reference(bad), "{bad:?}");
        }
    }

    #[test]
    fn kind_names_and_parsing() {
        assert_eq!(ImageKind::Png.content_type(), "image/png");
        assert_eq!(ImageKind::Jpeg.content_type(), "image/jpeg");
        assert_eq!(ImageKind::Png.extension(), "png");
        assert_eq!(ImageKind::Jpeg.extension(), "jpg");
        let p = ImageKind::from_content_type;
        assert_eq!(p("image/png"), Some(ImageKind::Png));
        assert_eq!(p("Image/PNG; charset=binary"), Some(ImageKind::Png));
        assert_eq!(p(" image/jpeg "), Some(ImageKind::Jpeg));
        assert_eq!(p("image/jpg"), Some(ImageKind::Jpeg));
        assert_eq!(p("image/gif"), None);
        assert_eq!(p("multipart/form-data; boundary=x"), None);
        assert_eq!(p(""), None);
        for kind in [ImageKind::Png, ImageKind::Jpeg] {
            assert_eq!(ImageKind::from_extension(kind.extension()), Some(kind));
            assert_eq!(
                ImageKind::from_content_type(kind.content_type()),
                Some(kind)
            );
        }
        assert_eq!(ImageKind::from_extension("JPEG"), Some(ImageKind::Jpeg));
        assert_eq!(ImageKind::from_extension("gif"), None);
    }

    #[test]
    fn real_files_are_accepted_with_dimensions() {
        let jpeg = ImageKind::Jpeg;
        assert_eq!(
            sniff_image(BASELINE_JPEG, None, LIMIT),
            Ok(info(jpeg, 5, 3))
        );
        assert_eq!(
            sniff_image(BASELINE_JPEG, Some(jpeg), LIMIT),
            Ok(info(jpeg, 5, 3))
        );
        assert_eq!(
            sniff_image(PROGRESSIVE_JPEG, Some(jpeg), LIMIT),
            Ok(info(jpeg, 7, 4))
        );
        let png = ImageKind::Png;
        assert_eq!(sniff_image(GRAY_PNG, Some(png), LIMIT), Ok(info(png, 2, 9)));
        // Bytes after IEND/EOI are refused: decoders would ignore them.
        for image in [GRAY_PNG, BASELINE_JPEG, PROGRESSIVE_JPEG] {
            let mut padded = image.to_vec();
            padded.extend_from_slice(b"trailing");
            let err = sniff_image(&padded, None, LIMIT).unwrap_err().to_string();
            assert!(err.contains("after its"), "{err}");
            let cut = &image[..image.len() - 1];
            assert!(sniff_image(cut, None, LIMIT).is_err());
        }
    }

    #[test]
    fn size_limit_is_inclusive_and_checked_first() {
        let len = BASELINE_JPEG.len();
        assert!(sniff_image(BASELINE_JPEG, None, len).is_ok());
        assert_eq!(
            sniff_image(BASELINE_JPEG, None, len - 1),
            Err(ImageError::TooLarge { limit: len - 1 })
        );
        assert_eq!(
            sniff_image(b"not an image at all", None, 4),
            Err(ImageError::TooLarge { limit: 4 })
        );
        let err = sniff_image(GRAY_PNG, None, 10).unwrap_err();
        assert_eq!(err.to_string(), "image is too large: the limit is 10 bytes");
    }

    #[test]
    fn declared_type_must_match_content() {
        let err = sniff_image(BASELINE_JPEG, Some(ImageKind::Png), LIMIT).unwrap_err();
        assert_eq!(
            err,
            ImageError::Mismatch {
                declared: ImageKind::Png,
                actual: ImageKind::Jpeg
            }
        );
        assert_eq!(
            err.to_string(),
            "image data is image/jpeg but was declared as image/png"
        );
        assert!(matches!(
            sniff_image(GRAY_PNG, Some(ImageKind::Jpeg), LIMIT),
            Err(ImageError::Mismatch { .. })
        ));
    }

    #[test]
    fn non_images_are_rejected() {
        let gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;";
        for bytes in [&b""[..], b"hello", gif, b"<svg/>", b"\x89PNG", b"\xff\xd8"] {
            for declared in [None, Some(ImageKind::Png), Some(ImageKind::Jpeg)] {
                let result = sniff_image(bytes, declared, LIMIT);
                assert!(
                    matches!(result, Err(ImageError::NotAnImage(_))),
                    "{bytes:?} {declared:?} -> {result:?}"
                );
            }
        }
    }
}
