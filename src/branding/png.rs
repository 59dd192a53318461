//! Structural PNG check (RFC 2083 / PNG spec 2nd ed.) and CRC-32.
//!
//! Every index goes through `slice::get` or checked arithmetic: the input is
//! untrusted and this must never panic.

/// The 8-byte PNG file signature.
pub(super) const SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];

/// PNG caps lengths and dimensions at 2^31 - 1 so they fit a signed int.
const MAX_U31: u32 = 0x7fff_ffff;

/// CRC-32 (IEEE, reflected 0xEDB88320) lookup table, built at compile time.
const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut n = 0;
    while n < 256 {
        let mut c = n as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xedb8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[n] = c;
        n += 1;
    }
    table
};

/// CRC-32 over the concatenation of `parts` (PNG's chunk CRC covers type and
/// data, which are adjacent in the file but separate slices to the encoder).
pub(super) fn crc32(parts: &[&[u8]]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for part in parts {
        for &byte in *part {
            crc = CRC_TABLE[usize::from((crc as u8) ^ byte)] ^ (crc >> 8);
        }
    }
    crc ^ 0xffff_ffff
}

fn be_u32(bytes: &[u8]) -> u32 {
    // Callers pass 4-byte slices; a short one yields 0, which they reject.
    bytes.try_into().map(u32::from_be_bytes).unwrap_or(0)
}

/// Decoded header fields that later chunks are checked against.
struct Header {
    width: u32,
    height: u32,
    color_type: u8,
}

fn parse_ihdr(data: &[u8]) -> Result<Header, &'static str> {
    let [w0, w1, w2, w3, h0, h1, h2, h3, depth, color_type, compression, filter, interlace] = *data
    else {
        return Err("PNG IHDR chunk must be 13 bytes long");
    };
    let width = u32::from_be_bytes([w0, w1, w2, w3]);
    let height = u32::from_be_bytes([h0, h1, h2, h3]);
    if width == 0 || height == 0 || width > MAX_U31 || height > MAX_U31 {
        return Err("PNG width and height must be between 1 and 2^31-1");
    }
    // Allowed bit depths per color type (PNG spec table 11.1).
    let depth_ok = match color_type {
        0 => matches!(depth, 1 | 2 | 4 | 8 | 16), // greyscale
        3 => matches!(depth, 1 | 2 | 4 | 8),      // indexed
        2 | 4 | 6 => matches!(depth, 8 | 16),     // RGB, grey+alpha, RGBA
        _ => return Err("PNG IHDR has an invalid color type"),
    };
    if !depth_ok {
        return Err("PNG IHDR bit depth is not allowed for its color type");
    }
    if compression != 0 || filter != 0 || interlace > 1 {
        return Err("PNG IHDR has an unknown compression, filter or interlace method");
    }
    Ok(Header {
        width,
        height,
        color_type,
    })
}

/// Walks the chunk list and returns `(width, height)` from IHDR. The caller
/// has already matched the signature.
pub(super) fn dimensions(bytes: &[u8]) -> Result<(u32, u32), &'static str> {
    let mut pos = SIGNATURE.len();
    let mut header: Option<Header> = None;
    let mut seen_plte = false;
    let mut seen_idat = false;
    loop {
        let chunk_header = bytes
            .get(pos..pos.saturating_add(8))
            .ok_or("PNG is truncated (no IEND chunk)")?;
        let length = be_u32(&chunk_header[..4]);
        let kind = &chunk_header[4..8];
        if length > MAX_U31 {
            return Err("PNG chunk length is out of range");
        }
        if !kind.iter().all(u8::is_ascii_alphabetic) {
            return Err("PNG chunk type is not four letters");
        }
        let data_start = pos + 8;
        // u32 -> usize cannot fail on the 32/64-bit targets we build for; the
        // fallback just makes an absurd length fail the bounds check below.
        let data_end = data_start.saturating_add(usize::try_from(length).unwrap_or(usize::MAX));
        let data = bytes
            .get(data_start..data_end)
            .ok_or("PNG chunk is truncated")?;
        let stored_crc = bytes
            .get(data_end..data_end.saturating_add(4))
            .map(be_u32)
            .ok_or("PNG chunk CRC is truncated")?;
        // Critical chunks (uppercase first letter) must have a good CRC;
        // like libpng, ancillary ones are not checked (decoders skip them).
        let critical = kind[0].is_ascii_uppercase();
        if critical && crc32(&[kind, data]) != stored_crc {
            return Err("PNG chunk CRC mismatch (corrupted file)");
        }
        match (kind, &header) {
            (b"IHDR", None) => header = Some(parse_ihdr(data)?),
            (_, None) => return Err("PNG must start with an IHDR chunk"),
            (b"IHDR", Some(_)) => return Err("PNG has more than one IHDR chunk"),
            (b"PLTE", Some(h)) => {
                if matches!(h.color_type, 0 | 4) || seen_plte || seen_idat {
                    return Err("PNG PLTE chunk is misplaced");
                }
                if data.is_empty() || data.len() % 3 != 0 || data.len() > 256 * 3 {
                    return Err("PNG PLTE chunk has an invalid length");
                }
                seen_plte = true;
            }
            (b"IDAT", Some(h)) => {
                if h.color_type == 3 && !seen_plte {
                    return Err("indexed-color PNG has no PLTE chunk before IDAT");
                }
                seen_idat = true;
            }
            (b"IEND", Some(h)) => {
                if !seen_idat {
                    return Err("PNG has no IDAT (image data) chunk");
                }
                if !data.is_empty() {
                    return Err("PNG IEND chunk must be empty");
                }
                // Decoders ignore what follows IEND, so it could carry anything (a script,
                // another file) past every check: refused.
                if data_end + 4 != bytes.len() {
                    return Err("PNG has bytes after its IEND chunk");
                }
                return Ok((h.width, h.height));
            }
            _ if critical => return Err("PNG has an unknown critical chunk"),
            _ => {}
        }
        pos = data_end + 4;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a PNG from `(type, data)` chunks with correct lengths and CRCs.
    fn build(chunks: &[(&[u8; 4], &[u8])]) -> Vec<u8> {
        let mut out = SIGNATURE.to_vec();
        for (kind, data) in chunks {
            out.extend_from_slice(&u32::try_from(data.len()).unwrap().to_be_bytes());
            out.extend_from_slice(*kind);
            out.extend_from_slice(data);
            out.extend_from_slice(&crc32(&[*kind, data]).to_be_bytes());
        }
        out
    }

    fn ihdr(width: u32, height: u32, depth: u8, color: u8) -> Vec<u8> {
        let mut d = width.to_be_bytes().to_vec();
        d.extend_from_slice(&height.to_be_bytes());
        d.extend_from_slice(&[depth, color, 0, 0, 0]);
        d
    }

    fn simple(ihdr_data: &[u8]) -> Vec<u8> {
        build(&[(b"IHDR", ihdr_data), (b"IDAT", b"x"), (b"IEND", b"")])
    }

    #[test]
    fn crc32_known_vectors() {
        assert_eq!(crc32(&[b"123456789"]), 0xcbf4_3926);
        assert_eq!(crc32(&[b"1234", b"56789"]), 0xcbf4_3926);
        assert_eq!(crc32(&[b"IEND"]), 0xae42_6082); // the well-known IEND CRC
    }

    #[test]
    fn valid_color_type_depth_combinations() {
        let ok: &[(u8, &[u8])] = &[
            (0, &[1, 2, 4, 8, 16]),
            (2, &[8, 16]),
            (4, &[8, 16]),
            (6, &[8, 16]),
        ];
        for &(color, depths) in ok {
            for depth in 0..=32u8 {
                let result = dimensions(&simple(&ihdr(3, 4, depth, color)));
                assert_eq!(result.is_ok(), depths.contains(&depth), "{color}/{depth}");
            }
        }
        for color in [1, 5, 7, 255] {
            assert!(dimensions(&simple(&ihdr(1, 1, 8, color))).is_err());
        }
        let indexed = build(&[
            (b"IHDR", &ihdr(7, 2, 4, 3)),
            (b"PLTE", &[0, 0, 0, 255, 255, 255]),
            (b"IDAT", b"x"),
            (b"IEND", b""),
        ]);
        assert_eq!(dimensions(&indexed), Ok((7, 2)));
    }

    #[test]
    fn structural_errors_are_caught() {
        let good = ihdr(10, 20, 8, 2);
        assert_eq!(dimensions(&simple(&good)), Ok((10, 20)));
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (simple(&ihdr(0, 5, 8, 2)), "between 1"),
            (simple(&ihdr(5, 0, 8, 2)), "between 1"),
            (simple(&ihdr(1 << 31, 5, 8, 2)), "between 1"),
            (simple(&good[..12]), "13 bytes"),
            (simple(&[good.clone(), vec![0]].concat()), "13 bytes"),
            (
                build(&[(b"IDAT", b"x"), (b"IEND", b"")]),
                "start with an IHDR",
            ),
            (build(&[(b"IHDR", &good), (b"IEND", b"")]), "no IDAT"),
            (build(&[(b"IHDR", &good), (b"IDAT", b"x")]), "truncated"),
            (
                build(&[(b"IHDR", &good), (b"IHDR", &good)]),
                "more than one",
            ),
            (
                build(&[(b"IHDR", &good), (b"QUUX", b""), (b"IEND", b"")]),
                "unknown critical",
            ),
            (build(&[(b"IHDR", &good), (b"PL1E", b"")]), "four letters"),
            (
                build(&[(b"IHDR", &ihdr(1, 1, 8, 3)), (b"IDAT", b"x")]),
                "no PLTE",
            ),
            (
                build(&[(b"IHDR", &ihdr(1, 1, 8, 0)), (b"PLTE", b"abc")]),
                "misplaced",
            ),
            (
                build(&[(b"IHDR", &ihdr(1, 1, 8, 3)), (b"PLTE", b"ab")]),
                "invalid length",
            ),
        ];
        for (bytes, want) in cases {
            let err = dimensions(&bytes).unwrap_err();
            assert!(err.contains(want), "wanted {want:?}, got {err:?}");
        }
    }

    #[test]
    fn crc_is_checked_for_critical_chunks_only() {
        let mut bytes = simple(&ihdr(1, 1, 8, 2));
        bytes[8 + 8 + 13] ^= 1; // first byte of IHDR's CRC
        assert!(dimensions(&bytes).unwrap_err().contains("CRC"));
        let mut with_text = build(&[
            (b"IHDR", &ihdr(1, 1, 8, 2)),
            (b"tEXt", b"k\0v"),
            (b"IDAT", b"x"),
            (b"IEND", b""),
        ]);
        let text_crc = 8 + 25 + 8 + 3;
        with_text[text_crc] ^= 0xff;
        assert_eq!(dimensions(&with_text), Ok((1, 1)));
    }

    #[test]
    fn huge_declared_chunk_length_fails_cleanly() {
        let mut bytes = simple(&ihdr(1, 1, 8, 2));
        let idat_len = 8 + 25;
        bytes[idat_len..idat_len + 4].copy_from_slice(&MAX_U31.to_be_bytes());
        assert_eq!(dimensions(&bytes), Err("PNG chunk is truncated"));
        bytes[idat_len..idat_len + 4].copy_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(dimensions(&bytes), Err("PNG chunk length is out of range"));
    }
}
