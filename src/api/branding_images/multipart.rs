//! A strict `multipart/form-data` reader (RFC 7578, RFC 2046 §5.1) for a body that is
//! already in memory. Written here rather than taken from actix-multipart, whose streaming
//! parser waits forever on a body cut off inside the closing boundary; over a complete
//! buffer every outcome is an answer: the parts, or an error saying what is wrong.
//! Do not swap the crate back in (it is no longer a dependency): the truncated uploads of
//! `multipart_uploads_trust_the_bytes_over_the_declared_type` (tests/api/branding/images.rs)
//! are the case it waits on instead of answering 400, and the handler caps and buffers the
//! body before parsing anyway, so a streaming parser would buy nothing.

/// One part: its form field name and its content.
#[derive(Debug, PartialEq, Eq)]
pub struct Part<'a> {
    pub name: Option<String>,
    pub data: &'a [u8],
}

/// The `boundary` parameter of a `multipart/form-data` content type.
pub fn boundary(content_type: &str) -> Result<String, &'static str> {
    let mut params = content_type.split(';');
    let essence = params.next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case("multipart/form-data") {
        return Err("the Content-Type must be multipart/form-data");
    }
    for param in params {
        let Some((key, value)) = param.split_once('=') else {
            continue;
        };
        if key.trim().eq_ignore_ascii_case("boundary") {
            let value = value.trim();
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(value);
            // RFC 2046: 1 to 70 characters.
            return if (1..=70).contains(&value.len()) {
                Ok(value.to_string())
            } else {
                Err("the multipart boundary must be 1 to 70 characters long")
            };
        }
    }
    Err("the Content-Type has no multipart boundary")
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if from > haystack.len() {
        return None;
    }
    haystack[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

/// Splits `body` into its parts. The closing delimiter must be present.
pub fn parse<'a>(body: &'a [u8], boundary: &str) -> Result<Vec<Part<'a>>, &'static str> {
    let dash = format!("--{boundary}");
    let delimiter = format!("\r\n--{boundary}");
    // The first delimiter may start the body or follow a preamble line.
    let mut at = if body.starts_with(dash.as_bytes()) {
        dash.len()
    } else {
        find(body, delimiter.as_bytes(), 0).ok_or("the body holds no multipart boundary")?
            + delimiter.len()
    };
    let mut parts = Vec::new();
    loop {
        let rest = &body[at..];
        if rest.starts_with(b"--") {
            return Ok(parts);
        }
        // Transport padding (spaces, tabs) may follow a delimiter before its line break.
        let pad = rest
            .iter()
            .take_while(|b| **b == b' ' || **b == b'\t')
            .count();
        if !rest[pad..].starts_with(b"\r\n") {
            return Err("the body ends before its closing boundary");
        }
        let headers_at = at + pad + 2;
        // A part without headers has its (empty) header block end at once.
        let (headers, data_at) = if body[headers_at..].starts_with(b"\r\n") {
            (&body[headers_at..headers_at], headers_at + 2)
        } else {
            let end = find(body, b"\r\n\r\n", headers_at).ok_or("a part's headers are cut off")?;
            (&body[headers_at..end], end + 4)
        };
        let name = field_name(headers)?;
        let data_end = find(body, delimiter.as_bytes(), data_at)
            .ok_or("the body ends before its closing boundary")?;
        parts.push(Part {
            name,
            data: &body[data_at..data_end],
        });
        at = data_end + delimiter.len();
    }
}

/// The `name` parameter of a part's `Content-Disposition: form-data` header, if any.
fn field_name(headers: &[u8]) -> Result<Option<String>, &'static str> {
    let text = std::str::from_utf8(headers).map_err(|_| "a part's headers are not UTF-8")?;
    for line in text.split("\r\n").filter(|l| !l.is_empty()) {
        let Some((key, value)) = line.split_once(':') else {
            return Err("a part has a malformed header line");
        };
        if !key.trim().eq_ignore_ascii_case("content-disposition") {
            continue;
        }
        for param in value.split(';').skip(1) {
            if let Some((k, v)) = param.split_once('=') {
                if k.trim().eq_ignore_ascii_case("name") {
                    let v = v.trim();
                    let v = v
                        .strip_prefix('"')
                        .and_then(|v| v.strip_suffix('"'))
                        .unwrap_or(v);
                    return Ok(Some(v.to_string()));
                }
            }
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    const B: &str = "xyz";

    #[test]
    fn reads_the_parts_a_browser_or_the_sdk_sends() {
        let body = b"--xyz\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhi\r\n\
            --xyz\r\nContent-Disposition: form-data; name=\"image\"; filename=\"image.png\"\r\n\
            Content-Type: image/png\r\n\r\n\x89PNG\r\n--x\r\n--xyz--\r\n";
        let parts = parse(body, B).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].name.as_deref(), Some("note"));
        assert_eq!(parts[0].data, b"hi");
        assert_eq!(parts[1].name.as_deref(), Some("image"));
        assert_eq!(parts[1].data, b"\x89PNG\r\n--x");
    }

    #[test]
    fn preamble_padding_and_empty_parts_are_fine() {
        let body =
            b"preamble\r\n--xyz  \r\nContent-Disposition: form-data; name=image\r\n\r\n\r\n--xyz--";
        let parts = parse(body, B).unwrap();
        assert_eq!(
            parts,
            [Part {
                name: Some("image".into()),
                data: b""
            }]
        );
        assert_eq!(parse(b"--xyz--\r\n", B).unwrap(), []);
        let bare = parse(b"--xyz\r\n\r\nabc\r\n--xyz--", B).unwrap();
        assert_eq!(
            bare,
            [Part {
                name: None,
                data: b"abc"
            }]
        );
    }

    #[test]
    fn every_truncation_is_an_error_not_a_hang_or_panic() {
        let body =
            b"--xyz\r\nContent-Disposition: form-data; name=\"image\"\r\n\r\nDATA\r\n--xyz--\r\n";
        assert!(parse(body, B).is_ok());
        // Cutting anywhere before the closing "--" must fail; past it is still complete.
        let complete_from = body.len() - 2;
        for cut in 0..body.len() {
            let result = parse(&body[..cut], B);
            assert_eq!(
                result.is_ok(),
                cut >= complete_from,
                "cut at {cut}: {result:?}"
            );
        }
    }

    #[test]
    fn boundaries_come_from_the_content_type() {
        assert_eq!(
            boundary("multipart/form-data; boundary=abc").unwrap(),
            "abc"
        );
        assert_eq!(
            boundary("Multipart/Form-Data;charset=utf-8; BOUNDARY=\"a b\"").unwrap(),
            "a b"
        );
        assert!(boundary("multipart/form-data").is_err());
        assert!(boundary("multipart/form-data; boundary=").is_err());
        assert!(boundary("image/png; boundary=abc").is_err());
        assert!(boundary(&format!("multipart/form-data; boundary={}", "a".repeat(71))).is_err());
    }
}
