//! TiDB's GC safe point, as TiDB's GC worker keeps it in `mysql.tidb`
//! (format-specs/tidb.md §13): the row whose `VARIABLE_NAME` is `tikv_gc_safe_point` holds a
//! wall-clock time, `20060102-15:04:05.000 -0700` (older TiDBs: without milliseconds, and some
//! with a zone name after the offset).

/// The system table and the variable.
pub const GC_DB: &str = "mysql";
pub const GC_TABLE: &str = "tidb";
pub const SAFE_POINT_VAR: &[u8] = b"tikv_gc_safe_point";

/// Parse a GC time (`YYYYMMDD-HH:MM:SS[.fff] ±HHMM[ ZONE]`) into Unix milliseconds.
pub fn parse_gc_time(s: &str) -> Option<i64> {
    let s = s.trim();
    let (dt, rest) = s.split_once(' ')?;
    let off = rest.split(' ').next()?;
    let (date, time) = dt.split_once('-')?;
    if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let num = |x: &str| -> Option<i64> {
        (!x.is_empty() && x.bytes().all(|b| b.is_ascii_digit()))
            .then(|| x.parse().ok())
            .flatten()
    };
    let (y, mo, d) = (num(&date[..4])?, num(&date[4..6])?, num(&date[6..])?);
    let (hms, frac) = match time.split_once('.') {
        Some((a, f)) => (a, Some(f)),
        None => (time, None),
    };
    let mut p = hms.split(':');
    let (h, mi, sec) = (num(p.next()?)?, num(p.next()?)?, num(p.next()?)?);
    if p.next().is_some()
        || !(1..=12).contains(&mo)
        || !(1..=31).contains(&d)
        || h > 23
        || mi > 59
        || sec > 60
    {
        return None;
    }
    let ms = match frac {
        Some(f) if f.len() <= 9 => num(f)? * 1000 / 10i64.pow(f.len() as u32),
        Some(_) => return None,
        None => 0,
    };
    let sign = match off.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    if off.len() != 5 {
        return None;
    }
    let (oh, om) = (num(&off[1..3])?, num(&off[3..5])?);
    let days = days_from_civil(y, mo, d);
    let secs = days * 86_400 + h * 3600 + mi * 60 + sec - sign * (oh * 3600 + om * 60);
    Some(secs * 1000 + ms)
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The TSO of a wall-clock time (physical milliseconds, logical 0; format-specs/tikv.md §3).
pub fn tso_of_ms(ms: i64) -> u64 {
    (ms.max(0) as u64) << 18
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gc_times() {
        // 2024-01-02 03:04:05.678 UTC = 1704164645678 ms.
        assert_eq!(
            parse_gc_time("20240102-03:04:05.678 +0000"),
            Some(1_704_164_645_678)
        );
        // The same instant written in +08:00, without milliseconds, with a zone name.
        assert_eq!(
            parse_gc_time("20240102-11:04:05 +0800 CST"),
            Some(1_704_164_645_000)
        );
        assert_eq!(parse_gc_time("19700101-00:00:00 +0000"), Some(0));
        assert_eq!(parse_gc_time("20240230-00:00:00"), None);
        assert_eq!(parse_gc_time("garbage"), None);
        assert_eq!(parse_gc_time("20241302-00:00:00 +0000"), None);
        assert_eq!(tso_of_ms(1), 1 << 18);
    }
}
