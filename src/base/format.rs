//! Small text formats shared by the terminal report and the web pages: numbers, percentages, durations.

/// `3` for 3.0, `12.5` for 12.5, `0.333333` for 1/3: no trailing zeros, at most six decimals.
pub fn number(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.fract() == 0.0 && x.abs() < 1e15 {
        return format!("{}", x as i64);
    }
    let s = format!("{x:.6}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// `1,234,567` for counts shown to people.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `850 ms`, `1.2 s`.
pub fn millis(ms: f64) -> String {
    if ms < 1000.0 {
        format!("{} ms", number((ms * 10.0).round() / 10.0))
    } else {
        format!("{} s", number((ms / 100.0).round() / 10.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(number(3.0), "3");
        assert_eq!(number(12.5), "12.5");
        assert_eq!(number(1.0 / 3.0), "0.333333");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(thousands(999), "999");
        assert_eq!(millis(12.34), "12.3 ms");
        assert_eq!(millis(1530.0), "1.5 s");
    }
}

/// Unix milliseconds as `2026-01-31 12:00:00Z` (UTC; Howard Hinnant's civil-from-days).
pub fn utc_time(ms: u64) -> String {
    let secs = (ms / 1000) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod time_tests {
    #[test]
    fn utc_time() {
        assert_eq!(super::utc_time(0), "1970-01-01 00:00:00Z");
        assert_eq!(super::utc_time(1_704_067_200_000 + 3_723_000), "2024-01-01 01:02:03Z");
        assert_eq!(super::utc_time(951_782_400_000), "2000-02-29 00:00:00Z");
    }
}
