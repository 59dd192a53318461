//! Robustness tests for `sniff_image`: random data, mutated and truncated
//! real images. A panic anywhere fails the test; the loops are deterministic
//! (fixed seeds) so any failure reproduces.

use super::{default_image, sniff_image, ImageError, ImageKind, Theme};

/// xorshift64 (Marsaglia 2003): tiny and good enough to generate test bytes.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Random byte, skewed towards values that matter to the parsers
    /// (0x00, 0xFF, marker and small length bytes).
    fn byte(&mut self) -> u8 {
        match self.below(4) {
            0 => [0x00, 0xFF, 0xD8, 0xD9, 0xDA, 0xC0, 0xC2, 0x01, 0x0D][self.below(9)],
            _ => self.next() as u8,
        }
    }
}

const DECLARED: [Option<ImageKind>; 3] = [None, Some(ImageKind::Png), Some(ImageKind::Jpeg)];

fn samples() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        (
            "baseline jpeg",
            include_bytes!("testdata/baseline-5x3.jpg").to_vec(),
        ),
        (
            "progressive jpeg",
            include_bytes!("testdata/progressive-7x4.jpg").to_vec(),
        ),
        ("gray png", include_bytes!("testdata/gray-2x9.png").to_vec()),
        ("light default", default_image(Theme::Light).0.to_vec()),
        ("dark default", default_image(Theme::Dark).0.to_vec()),
    ]
}

/// Runs every declared-type variant and checks invariants of the result.
fn check(bytes: &[u8]) -> Option<(u32, u32)> {
    let mut dims = None;
    for declared in DECLARED {
        match sniff_image(bytes, declared, usize::MAX) {
            Ok(info) => {
                assert!(info.width > 0 && info.height > 0);
                assert!(declared.is_none() || declared == Some(info.kind));
                dims = Some((info.width, info.height));
            }
            Err(ImageError::TooLarge { .. }) => panic!("no limit was set"),
            Err(ImageError::Mismatch {
                declared: d,
                actual,
            }) => assert_ne!(d, actual),
            Err(ImageError::NotAnImage(reason)) => assert!(!reason.is_empty()),
            Err(ImageError::TooManyPixels { width, height }) => assert!(
                width.max(height) > super::MAX_IMAGE_SIDE
                    || u64::from(width) * u64::from(height) > super::MAX_IMAGE_PIXELS
            ),
        }
    }
    dims
}

#[test]
fn random_inputs_never_panic() {
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let prefixes: [&[u8]; 4] = [
        b"",
        b"\x89PNG\r\n\x1a\n",
        b"\xff\xd8\xff",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR",
    ];
    for _ in 0..20_000 {
        let mut bytes = prefixes[rng.below(prefixes.len())].to_vec();
        let extra = rng.below(600);
        bytes.extend((0..extra).map(|_| rng.byte()));
        check(&bytes);
        // The limit check must also be safe at and around the length.
        let limit = rng.below(bytes.len() + 2);
        let result = sniff_image(&bytes, None, limit);
        if bytes.len() > limit {
            assert_eq!(result, Err(ImageError::TooLarge { limit }));
        }
    }
}

#[test]
fn every_truncation_of_a_valid_image_is_handled() {
    // Both formats must end with their end marker (IEND, EOI): every truncation is refused.
    for (name, full) in samples() {
        assert!(check(&full).is_some(), "{name} should be valid");
        for len in 0..full.len() {
            let got = check(&full[..len]);
            assert_eq!(got, None, "{name} truncated to {len} bytes was accepted");
        }
    }
}

#[test]
fn mutated_images_never_panic() {
    let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
    for (_, full) in samples() {
        for _ in 0..3_000 {
            let mut bytes = full.clone();
            for _ in 0..1 + rng.below(4) {
                // Bias mutations towards the header, where the parsing is.
                let span = if rng.below(2) == 0 {
                    bytes.len().min(64)
                } else {
                    bytes.len()
                };
                let at = rng.below(span.max(1));
                match rng.below(3) {
                    0 if at < bytes.len() => bytes[at] = rng.byte(),
                    1 => bytes.insert(at.min(bytes.len()), rng.byte()),
                    _ if at < bytes.len() => {
                        bytes.remove(at);
                    }
                    _ => {}
                }
            }
            check(&bytes);
        }
    }
}

#[test]
fn length_fields_at_extremes_are_handled() {
    // Chunk/segment lengths of 0, 1, max and max-1 right after the magic.
    for len in [
        0u32,
        1,
        2,
        13,
        0x7fff_fffe,
        0x7fff_ffff,
        0x8000_0000,
        u32::MAX,
    ] {
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend_from_slice(&len.to_be_bytes());
        png.extend_from_slice(b"IHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0");
        assert_eq!(check(&png), None);
    }
    for len in [0u16, 1, 2, 3, 8, 0xfffe, 0xffff] {
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xC0];
        jpeg.extend_from_slice(&len.to_be_bytes());
        jpeg.extend_from_slice(&[8, 0, 1, 0, 1, 1, 1, 0x11, 0]);
        assert_eq!(check(&jpeg), None);
    }
}
