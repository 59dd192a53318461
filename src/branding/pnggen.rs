//! Test-only PNG encoder that produces `static/default-{light,dark}.png`.
//!
//! The images are generated rather than drawn in an editor so they are
//! reproducible and reviewable as code. Deflate uses "stored" (uncompressed)
//! blocks, so no compression library is needed; at 64x64 with a 4-entry
//! palette the files are about 4 KiB each.
//!
//! Regenerate after changing the drawing with
//! `BRANDING_REGENERATE=1 cargo test default_image_files`.

use super::png::{crc32, SIGNATURE};
use super::{sniff_image, ImageKind, Theme};

const SIZE: u32 = 64;

/// Adler-32 checksum that trails a zlib stream (RFC 1950).
fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a = (a + u32::from(byte)) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}

/// Wraps `data` in a zlib stream of stored deflate blocks (RFC 1951 3.2.4).
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    // CMF 0x78 (deflate, 32K window), FLG 0x01 (no dict; 0x7801 % 31 == 0).
    let mut out = vec![0x78, 0x01];
    let mut blocks = data.chunks(usize::from(u16::MAX)).peekable();
    if blocks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]); // one empty final block
    }
    while let Some(block) = blocks.next() {
        let last = blocks.peek().is_none();
        let len = u16::try_from(block.len()).expect("chunks() bounds the length");
        out.push(u8::from(last)); // BFINAL bit, BTYPE 00 = stored
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    out.extend_from_slice(&adler32(data).to_be_bytes());
    out
}

fn push_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    let len = u32::try_from(data.len()).expect("chunk fits u32");
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&crc32(&[kind, data]).to_be_bytes());
}

/// Encodes an 8-bit indexed-color PNG; `pixels` holds one palette index per
/// pixel, row by row.
pub(super) fn encode_indexed(
    width: u32,
    height: u32,
    palette: &[[u8; 3]],
    pixels: &[u8],
) -> Vec<u8> {
    let row = width as usize;
    assert_eq!(pixels.len(), row * height as usize);
    let mut raw = Vec::with_capacity((row + 1) * height as usize);
    for line in pixels.chunks(row) {
        raw.push(0); // filter type None
        raw.extend_from_slice(line);
    }
    let mut ihdr = width.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 3, 0, 0, 0]); // depth 8, indexed, defaults
    let plte: Vec<u8> = palette.iter().flatten().copied().collect();

    let mut out = SIGNATURE.to_vec();
    push_chunk(&mut out, b"IHDR", &ihdr);
    push_chunk(&mut out, b"PLTE", &plte);
    push_chunk(&mut out, b"IDAT", &zlib_stored(&raw));
    push_chunk(&mut out, b"IEND", &[]);
    out
}

/// Palette: 0 page, 1 card, 2 card outline and sun, 3 mountains. Neutral
/// greys with a slight blue cast, matching the default palette's surfaces.
fn theme_palette(theme: Theme) -> [[u8; 3]; 4] {
    match theme {
        Theme::Light => [
            [0xee, 0xf1, 0xf5],
            [0xff, 0xff, 0xff],
            [0x9a, 0xa5, 0xb1],
            [0xc3, 0xcc, 0xd6],
        ],
        Theme::Dark => [
            [0x1c, 0x1f, 0x25],
            [0x26, 0x2a, 0x32],
            [0x5c, 0x67, 0x73],
            [0x3d, 0x45, 0x50],
        ],
    }
}

/// A generic "picture" glyph: a rounded card with a sun and two mountains,
/// the usual placeholder for an image that hasn't been set.
fn placeholder_pixels() -> Vec<u8> {
    let (left, right, top, bottom) = (12i32, 51i32, 16i32, 47i32);
    let mut pixels = Vec::with_capacity((SIZE * SIZE) as usize);
    for y in 0..SIZE as i32 {
        for x in 0..SIZE as i32 {
            let inside = (left..=right).contains(&x) && (top..=bottom).contains(&y);
            // Distance into the card from the nearest vertical/horizontal edge.
            let edge_x = (x - left).min(right - x);
            let edge_y = (y - top).min(bottom - y);
            let corner = edge_x + edge_y < 2; // cut corners => rounded look
            let outline = edge_x < 2 || edge_y < 2 || edge_x + edge_y < 4;
            let sun = (x - 41).pow(2) + (y - 25).pow(2) <= 16;
            let index = if !inside || corner {
                0
            } else if outline || sun {
                2
            } else if (x - 25).abs() <= y - 27 || (x - 38).abs() <= y - 33 {
                3
            } else {
                1
            };
            pixels.push(index);
        }
    }
    pixels
}

pub(super) fn default_png(theme: Theme) -> Vec<u8> {
    encode_indexed(SIZE, SIZE, &theme_palette(theme), &placeholder_pixels())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adler32_and_zlib_framing() {
        assert_eq!(adler32(b"Wikipedia"), 0x11e6_0398);
        assert_eq!(adler32(b""), 1);
        let z = zlib_stored(b"abc");
        assert_eq!(
            z,
            [0x78, 0x01, 1, 3, 0, 0xfc, 0xff, b'a', b'b', b'c', 0x02, 0x4d, 0x01, 0x27]
        );
        assert_eq!((u16::from(z[0]) << 8 | u16::from(z[1])) % 31, 0);
        // Multi-block: 70_000 bytes needs two stored blocks, only the last final.
        let big = vec![7u8; 70_000];
        let z = zlib_stored(&big);
        assert_eq!(z.len(), 2 + (5 + 65_535) + (5 + 4_465) + 4);
        assert_eq!(z[2], 0);
        assert_eq!(z[2 + 5 + 65_535], 1);
        assert_eq!(
            zlib_stored(b""),
            [0x78, 0x01, 1, 0, 0, 0xff, 0xff, 0, 0, 0, 1]
        );
    }

    #[test]
    fn encoded_pngs_pass_the_sniffer() {
        let png = encode_indexed(3, 2, &[[0, 0, 0], [255, 255, 255]], &[0, 1, 0, 1, 0, 1]);
        let info = sniff_image(&png, Some(ImageKind::Png), usize::MAX).unwrap();
        assert_eq!((info.width, info.height), (3, 2));
    }

    #[test]
    fn placeholder_uses_every_palette_entry() {
        let pixels = placeholder_pixels();
        for index in 0..4 {
            assert!(pixels.contains(&index), "palette entry {index} unused");
        }
        assert!(pixels.iter().all(|&i| i < 4));
    }

    /// The shipped files must be exactly what this generator makes, so the
    /// code above is the source of truth for them.
    #[test]
    fn default_image_files_match_generator() {
        for (theme, name) in [(Theme::Light, "light"), (Theme::Dark, "dark")] {
            let path = format!("{}/static/default-{name}.png", env!("CARGO_MANIFEST_DIR"));
            let generated = default_png(theme);
            if std::env::var_os("BRANDING_REGENERATE").is_some() {
                std::fs::write(&path, &generated).unwrap();
            }
            let on_disk = std::fs::read(&path).unwrap();
            assert!(
                on_disk == generated,
                "{path} is stale: rerun with BRANDING_REGENERATE=1"
            );
        }
        // Separate loop so regeneration writes both files before this
        // (compiled-in, so possibly stale until the next build) check fails.
        for theme in Theme::ALL {
            assert_eq!(
                super::super::default_image(theme).0,
                &default_png(theme)[..]
            );
        }
    }
}
