//! TiDB column values as stored in row format v2 cells, rendered the way MySQL prints them:
//! integers (variable-length little-endian), comparable floats, MySQL binary decimals, packed
//! datetimes, durations and TiDB binary JSON. Facts: TiDB pkg/util/rowcodec (encoder.go,
//! decoder.go), pkg/types/mydecimal.go (ToBin/FromBin), pkg/types/time.go (packed uint),
//! pkg/types/json_binary.go (shared notes §4.5-§4.9; test vectors §5).

/// Why a value did not decode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueError(pub String);

fn verr<T>(msg: impl Into<String>) -> Result<T, ValueError> {
    Err(ValueError(msg.into()))
}

/// A signed integer cell: 1, 2, 4 or 8 bytes little-endian two's complement.
pub fn int(b: &[u8]) -> Result<i64, ValueError> {
    Ok(match b.len() {
        1 => b[0] as i8 as i64,
        2 => i16::from_le_bytes([b[0], b[1]]) as i64,
        4 => i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64,
        8 => i64::from_le_bytes(b.try_into().map_err(|_| ValueError("int".into()))?),
        n => return verr(format!("integer cell of {n} bytes")),
    })
}

/// An unsigned integer cell: 1, 2, 4 or 8 bytes little-endian.
pub fn uint(b: &[u8]) -> Result<u64, ValueError> {
    Ok(match b.len() {
        1 => b[0] as u64,
        2 => u16::from_le_bytes([b[0], b[1]]) as u64,
        4 => u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as u64,
        8 => u64::from_le_bytes(b.try_into().map_err(|_| ValueError("uint".into()))?),
        n => return verr(format!("unsigned cell of {n} bytes")),
    })
}

/// A comparable float (8 bytes big-endian; positive values have the sign bit set, negative ones
/// are inverted).
pub fn float(b: &[u8]) -> Result<f64, ValueError> {
    let Ok(a) = <[u8; 8]>::try_from(b) else {
        return verr(format!("float cell of {} bytes", b.len()));
    };
    let u = u64::from_be_bytes(a);
    let bits = if u & (1 << 63) != 0 {
        u & !(1 << 63)
    } else {
        !u
    };
    Ok(f64::from_bits(bits))
}

const DIG2BYTES: [usize; 10] = [0, 1, 1, 2, 2, 3, 3, 4, 4, 4];

/// Size of the MySQL binary decimal of precision `prec` and scale `frac`.
pub fn decimal_bin_size(prec: u8, frac: u8) -> Option<usize> {
    if frac > prec {
        return None;
    }
    let intg = (prec - frac) as usize;
    let frac = frac as usize;
    Some(intg / 9 * 4 + DIG2BYTES[intg % 9] + frac / 9 * 4 + DIG2BYTES[frac % 9])
}

/// A v2 decimal cell: precision, scale, then the MySQL binary decimal. Rendered with exactly
/// `frac` fractional digits.
pub fn decimal(b: &[u8]) -> Result<String, ValueError> {
    let (&prec, rest) = b.split_first().ok_or(ValueError("empty decimal".into()))?;
    let (&frac, bin) = rest
        .split_first()
        .ok_or(ValueError("decimal without scale".into()))?;
    decimal_bin(bin, prec, frac)
}

/// Render a MySQL binary decimal of precision `prec` and scale `frac`.
pub fn decimal_bin(bin: &[u8], prec: u8, frac: u8) -> Result<String, ValueError> {
    let size = decimal_bin_size(prec, frac).ok_or(ValueError(format!("decimal({prec},{frac})")))?;
    if bin.len() < size || size == 0 {
        return verr(format!(
            "decimal({prec},{frac}) needs {size} bytes, has {}",
            bin.len()
        ));
    }
    let negative = bin[0] & 0x80 == 0;
    let mask = if negative { 0xff } else { 0 };
    let mut d: Vec<u8> = bin[..size].iter().map(|x| x ^ mask).collect();
    d[0] ^= 0x80;
    let intg = (prec - frac) as usize;
    let (intg0, intg0x) = (intg / 9, intg % 9);
    let (frac0, frac0x) = (frac as usize / 9, frac as usize % 9);
    let mut p = 0;
    let mut take = |n: usize| -> u32 {
        let mut v = 0u32;
        for &x in &d[p..p + n] {
            v = (v << 8) | x as u32;
        }
        p += n;
        v
    };
    let mut int_part = String::new();
    if intg0x > 0 {
        let v = take(DIG2BYTES[intg0x]);
        push_padded(&mut int_part, v as u64, 1);
    }
    for _ in 0..intg0 {
        let v = take(4);
        let w = if int_part.is_empty() { 1 } else { 9 };
        push_padded(&mut int_part, v as u64, w);
    }
    let int_part = int_part.trim_start_matches('0');
    let int_part = if int_part.is_empty() { "0" } else { int_part };
    let mut out = String::with_capacity(int_part.len() + 2 + 9 * (frac0 + 1));
    if negative {
        out.push('-');
    }
    out.push_str(int_part);
    if frac0 + frac0x > 0 {
        out.push('.');
    }
    for _ in 0..frac0 {
        let v = take(4);
        push_padded(&mut out, v as u64, 9);
    }
    if frac0x > 0 {
        let v = take(DIG2BYTES[frac0x]);
        push_padded(&mut out, v as u64, frac0x);
    }
    Ok(out)
}

/// A packed datetime (DATE, DATETIME, TIMESTAMP) as `YYYY-MM-DD HH:MM:SS[.ffffff]`; `fsp`
/// fractional digits (0 = none); `date_only` for DATE columns.
pub fn packed_time(p: u64, fsp: u8, date_only: bool) -> String {
    let micro = p & ((1 << 24) - 1);
    let ymdhms = p >> 24;
    let ymd = ymdhms >> 17;
    let hms = ymdhms & ((1 << 17) - 1);
    let day = ymd & 31;
    let ym = ymd >> 5;
    let (year, month) = (ym / 13, ym % 13);
    let (hour, minute, second) = (hms >> 12, (hms >> 6) & 63, hms & 63);
    let mut s = String::with_capacity(26);
    push_padded(&mut s, year, 4);
    s.push('-');
    push_padded(&mut s, month, 2);
    s.push('-');
    push_padded(&mut s, day, 2);
    if date_only {
        return s;
    }
    s.push(' ');
    push_padded(&mut s, hour, 2);
    s.push(':');
    push_padded(&mut s, minute, 2);
    s.push(':');
    push_padded(&mut s, second, 2);
    if fsp > 0 {
        let mut f = String::with_capacity(6);
        push_padded(&mut f, micro, 6);
        s.push('.');
        s.push_str(&f[..(fsp as usize).min(6).min(f.len())]);
    }
    s
}

/// Append `v` in decimal, zero-padded to at least `width` digits (no allocation).
fn push_padded(s: &mut String, v: u64, width: usize) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut v = v;
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    for _ in (buf.len() - i)..width {
        s.push('0');
    }
    for &d in &buf[i..] {
        s.push(d as char);
    }
}

pub fn duration(nanos: i64, fsp: u8) -> String {
    let sign = if nanos < 0 { "-" } else { "" };
    let n = nanos.unsigned_abs();
    let total_secs = n / 1_000_000_000;
    let frac = (n % 1_000_000_000) / 1000;
    let (h, m, s) = (total_secs / 3600, (total_secs / 60) % 60, total_secs % 60);
    let mut out = format!("{sign}{h:02}:{m:02}:{s:02}");
    if fsp > 0 {
        let f = format!("{frac:06}");
        out.push('.');
        out.push_str(&f[..(fsp as usize).min(6)]);
    }
    out
}

/// TiDB binary JSON (a type code, then the value) rendered as MySQL prints JSON.
pub fn json(b: &[u8]) -> Result<String, ValueError> {
    let (&t, v) = b.split_first().ok_or(ValueError("empty JSON".into()))?;
    let mut out = String::new();
    json_value(t, v, &mut out, 0)?;
    Ok(out)
}

fn u32_at(b: &[u8], p: usize) -> Result<usize, ValueError> {
    b.get(p..p + 4)
        .map(|x| u32::from_le_bytes([x[0], x[1], x[2], x[3]]) as usize)
        .ok_or(ValueError("JSON offset past the value".into()))
}

fn json_string(s: &[u8], out: &mut String) {
    out.push('"');
    for c in String::from_utf8_lossy(s).chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn json_value(t: u8, v: &[u8], out: &mut String, depth: usize) -> Result<(), ValueError> {
    if depth > 100 {
        return verr("JSON nested too deeply");
    }
    match t {
        0x01 | 0x03 => {
            let count = u32_at(v, 0)?;
            let size = u32_at(v, 4)?;
            if size > v.len() || count > v.len() {
                return verr("JSON container larger than its value");
            }
            let object = t == 0x01;
            let keys_at = 8;
            let values_at = if object { keys_at + count * 6 } else { keys_at };
            out.push(if object { '{' } else { '[' });
            for i in 0..count {
                if i > 0 {
                    out.push_str(", ");
                }
                if object {
                    let ko = u32_at(v, keys_at + i * 6)?;
                    let kl = v
                        .get(keys_at + i * 6 + 4..keys_at + i * 6 + 6)
                        .map(|x| u16::from_le_bytes([x[0], x[1]]) as usize)
                        .ok_or(ValueError("JSON key entry truncated".into()))?;
                    let key = v
                        .get(ko..ko + kl)
                        .ok_or(ValueError("JSON key past the value".into()))?;
                    json_string(key, out);
                    out.push_str(": ");
                }
                let e = values_at + i * 5;
                let vt = *v
                    .get(e)
                    .ok_or(ValueError("JSON value entry truncated".into()))?;
                if vt == 0x04 {
                    // Literals are inlined in the entry.
                    json_value(vt, v.get(e + 1..e + 2).unwrap_or(&[]), out, depth + 1)?;
                } else {
                    let off = u32_at(v, e + 1)?;
                    let inner = v
                        .get(off..)
                        .ok_or(ValueError("JSON value past the container".into()))?;
                    json_value(vt, inner, out, depth + 1)?;
                }
            }
            out.push(if object { '}' } else { ']' });
        }
        0x04 => match v.first() {
            Some(0) => out.push_str("null"),
            Some(1) => out.push_str("true"),
            Some(2) => out.push_str("false"),
            _ => return verr("bad JSON literal"),
        },
        0x09 => out.push_str(
            &i64::from_le_bytes(
                v.get(..8)
                    .and_then(|x| x.try_into().ok())
                    .ok_or(ValueError("JSON int truncated".into()))?,
            )
            .to_string(),
        ),
        0x0a => out.push_str(
            &u64::from_le_bytes(
                v.get(..8)
                    .and_then(|x| x.try_into().ok())
                    .ok_or(ValueError("JSON uint truncated".into()))?,
            )
            .to_string(),
        ),
        0x0b => {
            let f = f64::from_le_bytes(
                v.get(..8)
                    .and_then(|x| x.try_into().ok())
                    .ok_or(ValueError("JSON float truncated".into()))?,
            );
            out.push_str(&json_double(f));
        }
        0x0c => {
            let (n, k) = crate::codec::varint::decode_u64(v)
                .ok_or(ValueError("bad JSON string length".into()))?;
            let s = v
                .get(k..k.saturating_add(n as usize))
                .ok_or(ValueError("JSON string past the value".into()))?;
            json_string(s, out);
        }
        0x0d => {
            // Opaque: MySQL type byte, uvarint length, bytes; printed "base64:type<N>:<b64>".
            let (&mt, rest) = v
                .split_first()
                .ok_or(ValueError("JSON opaque truncated".into()))?;
            let (n, k) = crate::codec::varint::decode_u64(rest)
                .ok_or(ValueError("bad JSON opaque length".into()))?;
            let b = rest
                .get(k..k.saturating_add(n as usize))
                .ok_or(ValueError("JSON opaque past the value".into()))?;
            out.push_str(&format!(
                "\"base64:type{mt}:{}\"",
                crate::codec::b64::encode(b)
            ));
        }
        0x0e..=0x10 => {
            let c = u64::from_le_bytes(
                v.get(..8)
                    .and_then(|x| x.try_into().ok())
                    .ok_or(ValueError("JSON time truncated".into()))?,
            );
            let f = |off: u32, w: u32| (c >> off) & ((1u64 << w) - 1);
            let (y, mo, d) = (f(50, 14), f(46, 4), f(41, 5));
            out.push('"');
            out.push_str(&format!("{y:04}-{mo:02}-{d:02}"));
            if t != 0x0e {
                let (h, mi, se, us) = (f(36, 5), f(30, 6), f(24, 6), f(4, 20));
                out.push_str(&format!(" {h:02}:{mi:02}:{se:02}.{us:06}"));
            }
            out.push('"');
        }
        0x11 => {
            let n = i64::from_le_bytes(
                v.get(..8)
                    .and_then(|x| x.try_into().ok())
                    .ok_or(ValueError("JSON time truncated".into()))?,
            );
            let fsp = v.get(8..12).map_or(0, |x| x[0]).min(6);
            out.push('"');
            out.push_str(&duration(n, fsp));
            out.push('"');
        }
        other => return verr(format!("JSON type {other:#04x} is not a JSON type")),
    }
    Ok(())
}

/// A JSON double as TiDB prints it (format-specs/tidb.md §7): plain notation for magnitudes in
/// [1e-15, 1e15) with `.0` on integral values, the shortest round-trip digits otherwise in `e`
/// notation.
pub fn json_double(f: f64) -> String {
    if !f.is_finite() {
        return "null".into();
    }
    let a = f.abs();
    if a == 0.0 || (1e-15..1e15).contains(&a) {
        let s = f.to_string();
        if s.contains('.') {
            s
        } else {
            s + ".0"
        }
    } else {
        format!("{f:e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s.replace(' ', "")).unwrap()
    }

    #[test]
    fn integers_and_floats() {
        assert_eq!(int(&h("e803")).unwrap(), 1000);
        assert_eq!(int(&h("ff")).unwrap(), -1);
        assert_eq!(uint(&h("ff")).unwrap(), 255);
        assert!(int(&h("010203")).is_err());
        // Shared notes row 38.
        assert_eq!(float(&h("c000000000000000")).unwrap(), 2.0);
        assert_eq!(float(&h("4007ffffffffffff")).unwrap(), -1.5);
        assert_eq!(float(&h("8000000000000000")).unwrap(), 0.0);
    }

    /// TiDB pkg/types/mydecimal.go ToBin comments (rows 30-33).
    #[test]
    fn decimals() {
        assert_eq!(
            decimal_bin(&h("810dfb38d204d2"), 14, 4).unwrap(),
            "1234567890.1234"
        );
        assert_eq!(
            decimal_bin(&h("7ef204c72dfb2d"), 14, 4).unwrap(),
            "-1234567890.1234"
        );
        assert_eq!(decimal(&h("06048b26ac")).unwrap(), "11.9900");
        assert_eq!(decimal_bin(&h("830e"), 3, 2).unwrap(), "3.14");
        assert_eq!(decimal_bin(&h("7efd"), 2, 1).unwrap(), "-1.2");
        assert!(decimal_bin(&h("81"), 14, 4).is_err());
    }

    /// Rows 34-36 and 43.
    #[test]
    fn times_and_durations() {
        assert_eq!(
            packed_time(1840446893366133311, 6, false),
            "2011-11-10 11:11:11.999999"
        );
        assert_eq!(
            packed_time(0x1999aeb7ad000000, 0, false),
            "2016-06-23 11:30:45"
        );
        assert_eq!(packed_time(0x1999aeb7ad000000, 0, true), "2016-06-23");
        assert_eq!(duration(14_400_000_000_000, 0), "04:00:00");
        assert_eq!(duration(-1_500_000_000, 1), "-00:00:01.5");
    }

    /// Rows 45-47 (TiDB json_binary.go layout).
    #[test]
    fn json_lengths_never_overflow() {
        // Found by the tikv fuzz target: a string length of 2^64-1.
        assert!(json(&h("0c ffffffffffffffffff 3d 3f")).is_err());
        assert!(json(&h("0d 05 ffffffffffffffffff 01")).is_err());
    }

    #[test]
    fn json_values() {
        assert_eq!(
            json(&h(
                "01 01000000 1c000000 13000000 0100 09 14000000 61 0200000000000000"
            ))
            .unwrap(),
            r#"{"a": 2}"#
        );
        assert_eq!(
            json(&h("01 01000000 14000000 13000000 0100 04 01000000 6b")).unwrap(),
            r#"{"k": true}"#
        );
        assert_eq!(json(&h("0c026869")).unwrap(), r#""hi""#);
        assert_eq!(json(&h("092a00000000000000")).unwrap(), "42");
        assert!(json(&h("01 ffffffff 1c000000")).is_err());
    }
}
