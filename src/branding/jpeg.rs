//! Structural JPEG check (ITU T.81 Annex B marker syntax): every segment up to
//! the first scan, then the markers between scans up to EOI, which must be the
//! last two bytes. Entropy-coded data is skipped, not decoded. All reads go
//! through `slice::get`: the input is untrusted.

/// SOI marker plus the first byte of the next marker; two bytes alone
/// (`FF D8`) match too much random data to identify a JPEG.
pub(super) const MAGIC: [u8; 3] = [0xFF, 0xD8, 0xFF];

/// Start-of-frame markers that carry image dimensions. C4 (DHT), C8 (JPG
/// extension) and CC (DAC) sit in the same range but are not frames.
fn is_sof(marker: u8) -> bool {
    matches!(marker, 0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF)
}

/// Frame header after the length: P, Y (height), X (width), Nf, then
/// 3 bytes per component.
fn parse_sof(seg: &[u8]) -> Result<(u32, u32), &'static str> {
    let [precision, h0, h1, w0, w1, components, rest @ ..] = seg else {
        return Err("JPEG frame header is too short");
    };
    if !(2..=16).contains(precision) {
        return Err("JPEG frame header has an invalid sample precision");
    }
    if *components == 0 || rest.len() != 3 * usize::from(*components) {
        return Err("JPEG frame header length does not match its component count");
    }
    let height = u32::from(u16::from_be_bytes([*h0, *h1]));
    let width = u32::from(u16::from_be_bytes([*w0, *w1]));
    // Height 0 means "given later in a DNL segment"; nobody produces that and
    // we'd have no dimensions to report, so it is refused.
    if width == 0 || height == 0 {
        return Err("JPEG frame header has a zero width or height");
    }
    Ok((width, height))
}

/// Walks the marker segments from just after SOI to the first SOS and
/// returns `(width, height)` from the SOFn segment before it.
pub(super) fn dimensions(bytes: &[u8]) -> Result<(u32, u32), &'static str> {
    let mut pos = 2; // past SOI
    let mut size = None;
    loop {
        match bytes.get(pos) {
            Some(0xFF) => {}
            Some(_) => return Err("JPEG data is not at a marker where one is expected"),
            None => return Err("JPEG is truncated before its image data"),
        }
        // Any number of 0xFF fill bytes may precede a marker code (B.1.1.2).
        while bytes.get(pos) == Some(&0xFF) {
            pos += 1;
        }
        let marker = *bytes.get(pos).ok_or("JPEG is truncated inside a marker")?;
        pos += 1;
        match marker {
            0x00 => return Err("JPEG has a stuffed zero byte outside scan data"),
            0xD8 => return Err("JPEG has a second start-of-image marker"),
            0xD9 => return Err("JPEG ends before any image data"),
            // TEM and RSTn stand alone: no length field follows them.
            0x01 | 0xD0..=0xD7 => continue,
            _ => {}
        }
        let length = bytes
            .get(pos..pos + 2)
            .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
            .ok_or("JPEG is truncated inside a segment length")?;
        if length < 2 {
            return Err("JPEG segment length is smaller than 2");
        }
        // The length counts its own two bytes.
        let segment = bytes
            .get(pos + 2..pos + length)
            .ok_or("JPEG segment is truncated")?;
        if is_sof(marker) {
            if size.is_some() {
                return Err("JPEG has more than one frame header");
            }
            size = Some(parse_sof(segment)?);
        } else if marker == 0xDA {
            // SOS: Ns, then 2 bytes per component, then Ss, Se, Ah/Al.
            let ns = usize::from(*segment.first().unwrap_or(&0));
            if ns == 0 || segment.len() != 1 + 2 * ns + 3 {
                return Err("JPEG scan header is malformed");
            }
            let size = size.ok_or("JPEG scan starts before any frame header")?;
            return end_of_image(bytes, pos + length).map(|()| size);
        }
        pos += length;
    }
}

/// From the entropy-coded data of the first scan to EOI: skips scan data (where a 0xFF is
/// followed by a stuffed 0x00 or is a restart marker), walks the segments between the scans
/// of a progressive image, and requires EOI to end the file: decoders ignore what follows
/// it, so it could carry anything past every check.
fn end_of_image(bytes: &[u8], mut pos: usize) -> Result<(), &'static str> {
    loop {
        // Scan data up to the next marker.
        loop {
            match bytes.get(pos) {
                None => return Err("JPEG is truncated (no end-of-image marker)"),
                Some(0xFF) => match bytes.get(pos + 1) {
                    Some(0x00 | 0xD0..=0xD7) => pos += 2,
                    Some(0xFF) => pos += 1,
                    _ => break,
                },
                Some(_) => pos += 1,
            }
        }
        let marker = *bytes
            .get(pos + 1)
            .ok_or("JPEG is truncated (no end-of-image marker)")?;
        pos += 2;
        match marker {
            0xD9 if pos == bytes.len() => return Ok(()),
            0xD9 => return Err("JPEG has bytes after its end-of-image marker"),
            0xD8 => return Err("JPEG has a second start-of-image marker"),
            0x01 => continue,
            _ => {}
        }
        let length = bytes
            .get(pos..pos + 2)
            .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
            .ok_or("JPEG is truncated inside a segment length")?;
        if length < 2 || bytes.get(pos..pos + length).is_none() {
            return Err("JPEG segment is truncated");
        }
        if is_sof(marker) {
            return Err("JPEG has more than one frame header");
        }
        pos += length;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![0xFF, marker];
        out.extend_from_slice(&u16::try_from(payload.len() + 2).unwrap().to_be_bytes());
        out.extend_from_slice(payload);
        out
    }

    /// SOI + given segments + a 1-component SOS + a little scan data + EOI.
    fn jpeg(segments: &[Vec<u8>]) -> Vec<u8> {
        let mut out = vec![0xFF, 0xD8];
        for s in segments {
            out.extend_from_slice(s);
        }
        out.extend(segment(0xDA, &[1, 1, 0, 0, 63, 0]));
        out.extend_from_slice(&[0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD9]);
        out
    }

    fn sof(marker: u8, width: u16, height: u16) -> Vec<u8> {
        let mut p = vec![8];
        p.extend_from_slice(&height.to_be_bytes());
        p.extend_from_slice(&width.to_be_bytes());
        p.extend_from_slice(&[1, 1, 0x11, 0]);
        segment(marker, &p)
    }

    #[test]
    fn every_sof_marker_yields_dimensions() {
        for marker in 0xC0..=0xCFu8 {
            let bytes = jpeg(&[segment(0xE0, b"JFIF\0"), sof(marker, 640, 480)]);
            let result = dimensions(&bytes);
            if matches!(marker, 0xC4 | 0xC8 | 0xCC) {
                assert!(result.is_err(), "{marker:#x} is not a frame");
            } else {
                assert_eq!(result, Ok((640, 480)), "{marker:#x}");
            }
        }
        let max = jpeg(&[sof(0xC2, u16::MAX, u16::MAX)]);
        assert_eq!(dimensions(&max), Ok((65535, 65535)));
    }

    #[test]
    fn fill_bytes_and_standalone_markers_are_skipped() {
        let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xFF, 0xFF, 0x01, 0xFF, 0xD3];
        bytes.extend(jpeg(&[sof(0xC0, 3, 2)]).drain(2..));
        assert_eq!(dimensions(&bytes), Ok((3, 2)));
    }

    #[test]
    fn structural_errors_are_caught() {
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (jpeg(&[]), "before any frame"),
            (jpeg(&[sof(0xC0, 0, 5)]), "zero width or height"),
            (jpeg(&[sof(0xC0, 5, 0)]), "zero width or height"),
            (jpeg(&[sof(0xC0, 1, 1), sof(0xC1, 1, 1)]), "more than one"),
            (jpeg(&[segment(0xC0, &[8, 0, 1, 0, 1])]), "too short"),
            (
                jpeg(&[segment(0xC0, &[8, 0, 1, 0, 1, 0])]),
                "component count",
            ),
            (
                jpeg(&[segment(0xC0, &[8, 0, 1, 0, 1, 2, 1, 1, 1])]),
                "component count",
            ),
            (
                jpeg(&[segment(0xC0, &[1, 0, 1, 0, 1, 1, 1, 1, 1])]),
                "precision",
            ),
            (vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x01], "smaller than 2"),
            (
                vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 0x4A],
                "segment is truncated",
            ),
            (vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00], "segment length"),
            (vec![0xFF, 0xD8, 0xFF], "inside a marker"),
            (vec![0xFF, 0xD8], "truncated before"),
            (vec![0xFF, 0xD8, 0x00], "not at a marker"),
            (vec![0xFF, 0xD8, 0xFF, 0x00], "stuffed zero"),
            (vec![0xFF, 0xD8, 0xFF, 0xD8], "second start"),
            (vec![0xFF, 0xD8, 0xFF, 0xD9], "ends before"),
        ];
        for (bytes, want) in cases {
            let err = dimensions(&bytes).unwrap_err();
            assert!(err.contains(want), "wanted {want:?}, got {err:?}");
        }
        let mut bad_sos = vec![0xFF, 0xD8];
        bad_sos.extend(sof(0xC0, 1, 1));
        bad_sos.extend(segment(0xDA, &[2, 1, 0, 0, 63, 0]));
        assert_eq!(dimensions(&bad_sos), Err("JPEG scan header is malformed"));
    }

    #[test]
    fn scans_run_to_an_end_of_image_that_ends_the_file() {
        let base = jpeg(&[sof(0xC2, 4, 4)]);
        let scan = segment(0xDA, &[1, 1, 0, 0, 63, 0]);
        // A progressive image: restart markers, stuffed bytes and fill bytes in the scan
        // data, then tables and a second scan before EOI.
        let mut two_scans = base[..base.len() - 2].to_vec();
        two_scans.extend_from_slice(&[0xFF, 0xD0, 0x55, 0xFF, 0x00, 0xFF, 0xFF]);
        two_scans.extend(segment(0xC4, &[0x00; 17]));
        two_scans.extend(&scan);
        two_scans.extend_from_slice(&[0x66, 0xFF, 0xD9]);
        assert_eq!(dimensions(&two_scans), Ok((4, 4)));
        let cases: Vec<(Vec<u8>, &str)> = vec![
            ([base.as_slice(), b"x"].concat(), "after its end-of-image"),
            (
                [base.as_slice(), &base[2..]].concat(),
                "after its end-of-image",
            ),
            (base[..base.len() - 2].to_vec(), "no end-of-image"),
            (base[..base.len() - 1].to_vec(), "no end-of-image"),
            (
                [&base[..base.len() - 2], &[0xFF, 0xD8]].concat(),
                "second start",
            ),
            (
                [&base[..base.len() - 2], sof(0xC0, 1, 1).as_slice()].concat(),
                "more than one",
            ),
            (
                [&base[..base.len() - 2], &[0xFF, 0xC4, 0x00]].concat(),
                "segment length",
            ),
            (
                [&base[..base.len() - 2], &[0xFF, 0xC4, 0x00, 0x09]].concat(),
                "truncated",
            ),
        ];
        for (bytes, want) in cases {
            let err = dimensions(&bytes).unwrap_err();
            assert!(err.contains(want), "wanted {want:?}, got {err:?}");
        }
    }
}
