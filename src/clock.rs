//! Wall-clock time and its RFC 3339 rendering, in one place so every response agrees.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Milliseconds since the Unix epoch.
pub fn now_millis() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// The clock that decides when sign-in state (sessions, lockouts, reset tokens) expires:
/// the wall clock, plus an offset that only a test can set. It lives in the configuration
/// (`auth.clock`, never read from a file or the environment), so each test server has its
/// own and a test moves time forward with [`Clock::advance`] instead of sleeping.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    offset: Option<std::sync::Arc<std::sync::atomic::AtomicI64>>,
}

impl Clock {
    /// A clock a test can move forward.
    pub fn controlled() -> Clock {
        Clock {
            offset: Some(Default::default()),
        }
    }

    /// Milliseconds since the Unix epoch, as this clock tells it.
    pub fn now_millis(&self) -> i64 {
        let offset = self
            .offset
            .as_ref()
            .map_or(0, |o| o.load(std::sync::atomic::Ordering::Relaxed));
        now_millis() + offset
    }

    /// Moves a controlled clock forward by `millis` (a wall clock ignores it).
    pub fn advance(&self, millis: i64) {
        if let Some(o) = &self.offset {
            o.fetch_add(millis, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

/// RFC 3339 UTC with millisecond precision and a `Z` suffix, e.g. `2018-02-13T09:35:20.123Z`.
///
/// Every response renders a few of these, so years 0-9999 are done by hand (a tenth of the
/// work of going through `time`'s types and `format!`); other instants take the general path.
pub fn rfc3339(millis: i64) -> String {
    match rfc3339_fast(millis) {
        Some(text) => String::from_utf8_lossy(&text).into_owned(),
        None => rfc3339_general(millis),
    }
}

/// [`rfc3339`] for `#[serde(serialize_with)]`: a view's timestamps are rendered straight
/// into the response, without a `String` each.
pub fn serialize_rfc3339<S: serde::Serializer>(millis: &i64, s: S) -> Result<S::Ok, S::Error> {
    match rfc3339_fast(*millis) {
        Some(text) => s.serialize_str(std::str::from_utf8(&text).unwrap_or_default()),
        None => s.serialize_str(&rfc3339_general(*millis)),
    }
}

/// Years 0-9999, by hand; `None` for the others.
fn rfc3339_fast(millis: i64) -> Option<[u8; 24]> {
    let days = millis.div_euclid(86_400_000);
    let ms_of_day = millis.rem_euclid(86_400_000);
    let (year, month, day) = civil_from_days(days);
    if !(0..=9999).contains(&year) {
        return None;
    }
    let mut out = *b"0000-00-00T00:00:00.000Z";
    let mut put = |at: usize, width: usize, mut value: i64| {
        for i in (at..at + width).rev() {
            out[i] = b'0' + (value % 10) as u8;
            value /= 10;
        }
    };
    put(0, 4, year);
    put(5, 2, month);
    put(8, 2, day);
    put(11, 2, ms_of_day / 3_600_000);
    put(14, 2, ms_of_day / 60_000 % 60);
    put(17, 2, ms_of_day / 1000 % 60);
    put(20, 3, ms_of_day % 1000);
    Some(out)
}

/// (year, month, day) of a count of days since 1970-01-01, proleptic Gregorian
/// (H. Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

fn rfc3339_general(millis: i64) -> String {
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

    #[test]
    fn the_serde_helper_renders_the_same_text() {
        #[derive(serde::Serialize)]
        struct T(#[serde(serialize_with = "super::serialize_rfc3339")] i64);
        for ms in [
            0,
            1_518_514_520_123,
            253_402_300_800_000,
            -62_167_219_200_001,
        ] {
            let json = serde_json::to_string(&T(ms)).unwrap();
            assert_eq!(json, format!("\"{}\"", super::rfc3339(ms)));
        }
    }

    #[test]
    fn the_fast_path_agrees_with_the_general_one() {
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut samples = vec![
            0,
            -1,
            1,
            951_782_400_000,
            253_402_300_799_999,
            -62_167_219_200_000,
        ];
        for _ in 0..100_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Years 0 to 9999 and a little beyond on both sides.
            samples.push((x % 330_000_000_000_000) as i64 - 65_000_000_000_000);
        }
        for ms in samples {
            assert_eq!(super::rfc3339(ms), super::rfc3339_general(ms), "{ms}");
        }
    }
}
