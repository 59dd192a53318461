//! Wall-clock time and its RFC 3339 rendering, in one place so every response agrees.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Milliseconds since the Unix epoch.
pub fn now_millis() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// RFC 3339 UTC with millisecond precision and a `Z` suffix, e.g. `2018-02-13T09:35:20.123Z`.
pub fn rfc3339(millis: i64) -> String {
    let t = OffsetDateTime::from_unix_timestamp_nanos(millis as i128 * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// Parses an RFC 3339 timestamp into milliseconds since the epoch.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let t = OffsetDateTime::parse(text, &Rfc3339).ok()?;
    Some((t.unix_timestamp_nanos() / 1_000_000) as i64)
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_and_parses() {
        let s = super::rfc3339(1_518_514_520_123);
        assert_eq!(s, "2018-02-13T09:35:20.123Z");
        assert_eq!(super::parse_rfc3339(&s), Some(1_518_514_520_123));
    }
}
