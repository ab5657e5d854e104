//! Table rows decoded to typed values by column type (format-specs/tidb.md §5-§8): row format v1
//! (datums) and v2, the handle put back into an integer primary key, primary-key columns rebuilt
//! from a clustered key when the row lacks them, and columns added after the row was written read
//! as their origin default. Values render as the MySQL client prints them.

use std::borrow::Cow;

use super::datum::{self, Datum};
pub use super::key::RowHandle;
use super::row::{self, Cell};
use super::schema::{tp, ColumnInfo, FieldType, TableInfo, STATE_PUBLIC};
use super::value;

/// A column value, typed enough to be written as CSV, SQL or JSON.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Uint(u64),
    Float(f32),
    Double(f64),
    /// At the column's scale.
    Decimal(String),
    /// Character data (char/varchar/text, and enum/set names): the stored bytes.
    Text(Vec<u8>),
    /// Binary data (binary/varbinary/blob, bit): the stored bytes.
    Binary(Vec<u8>),
    /// Date, datetime, timestamp (UTC), time and year, as MySQL prints them.
    Temporal(String),
    /// JSON text as MySQL prints it.
    Json(String),
    /// A vector as TiDB prints it (`[1,2.5]`).
    Vector(String),
}

impl Value {
    /// The bytes the MySQL client prints (None for NULL).
    pub fn text(&self) -> Option<Cow<'_, [u8]>> {
        Some(match self {
            Value::Null => return None,
            Value::Int(v) => Cow::Owned(v.to_string().into_bytes()),
            Value::Uint(v) => Cow::Owned(v.to_string().into_bytes()),
            Value::Float(f) => Cow::Owned(fmt_float(*f as f64, true).into_bytes()),
            Value::Double(f) => Cow::Owned(fmt_float(*f, false).into_bytes()),
            Value::Decimal(s) | Value::Temporal(s) | Value::Json(s) | Value::Vector(s) => {
                Cow::Borrowed(s.as_bytes())
            }
            Value::Text(b) | Value::Binary(b) => Cow::Borrowed(b),
        })
    }

    /// Whether SQL writes it unquoted.
    pub fn is_numeric(&self) -> bool {
        matches!(
            self,
            Value::Int(_) | Value::Uint(_) | Value::Float(_) | Value::Double(_) | Value::Decimal(_)
        )
    }
}

/// A float as MySQL prints it: the shortest digits that read back to the same value, plain
/// notation for exponents -7 < e < 15 (FLOAT: shortest at single precision), otherwise
/// `d.ddde[-]x` (format-specs/tidb.md §6.2).
pub fn fmt_float(f: f64, single: bool) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0" } else { "0" }.into();
    }
    let e = if single {
        format!("{:e}", f as f32)
    } else {
        format!("{f:e}")
    };
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if exp > -7 && exp < 15 {
        if single {
            format!("{}", f as f32)
        } else {
            format!("{f}")
        }
    } else {
        format!("{mant}e{exp}")
    }
}

/// Round or pad a decimal string to `scale` fractional digits (half away from zero, as MySQL).
pub fn rescale_decimal(s: &str, scale: usize) -> String {
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    if frac.len() <= scale {
        let mut out = String::new();
        if neg {
            out.push('-');
        }
        out.push_str(int);
        if scale > 0 {
            out.push('.');
            out.push_str(frac);
            out.extend(std::iter::repeat_n('0', scale - frac.len()));
        }
        return out;
    }
    // Round: digits of int+frac[..scale], plus one if the next digit >= 5.
    let mut digits: Vec<u8> = int.bytes().chain(frac[..scale].bytes()).collect();
    if frac.as_bytes()[scale] >= b'5' {
        let mut i = digits.len();
        loop {
            if i == 0 {
                digits.insert(0, b'1');
                break;
            }
            i -= 1;
            if digits[i] == b'9' {
                digits[i] = b'0';
            } else {
                digits[i] += 1;
                break;
            }
        }
    }
    let int_len = digits.len() - scale;
    let mut out = String::new();
    let int_s = std::str::from_utf8(&digits[..int_len]).unwrap_or("0");
    let frac_s = std::str::from_utf8(&digits[int_len..]).unwrap_or("");
    let zero = digits.iter().all(|d| *d == b'0');
    if neg && !zero {
        out.push('-');
    }
    out.push_str(if int_s.is_empty() { "0" } else { int_s });
    if scale > 0 {
        out.push('.');
        out.push_str(frac_s);
    }
    out
}

fn is_string_type(t: u8) -> bool {
    matches!(
        t,
        tp::VARCHAR
            | tp::VAR_STRING
            | tp::STRING
            | tp::TINY_BLOB
            | tp::MEDIUM_BLOB
            | tp::LONG_BLOB
            | tp::BLOB
    )
}

fn is_binary(ft: &FieldType) -> bool {
    ft.charset == "binary" || ft.collate == "binary"
}

fn fsp(ft: &FieldType) -> u8 {
    ft.decimal.clamp(0, 6) as u8
}

/// The column's enum or set element names.
fn elems(ft: &FieldType) -> &[String] {
    ft.elems.as_deref().unwrap_or(&[])
}

fn set_names(ft: &FieldType, bits: u64) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, e) in elems(ft).iter().enumerate().take(64) {
        if bits & (1 << i) != 0 {
            if !out.is_empty() {
                out.push(b',');
            }
            out.extend_from_slice(e.as_bytes());
        }
    }
    out
}

fn bit_bytes(ft: &FieldType, v: u64) -> Vec<u8> {
    let n = (ft.flen.clamp(1, 64) as usize).div_ceil(8);
    v.to_be_bytes()[8 - n..].to_vec()
}

fn char_value(ft: &FieldType, mut v: Vec<u8>) -> Value {
    if is_binary(ft) {
        // BINARY(n) is right-padded with 0x00 to its length.
        if ft.tp == tp::STRING && ft.flen > 0 && (v.len() as i64) < ft.flen && ft.flen <= 255 {
            v.resize(ft.flen as usize, 0);
        }
        Value::Binary(v)
    } else if ft.tp == tp::STRING {
        // CHAR: trailing spaces are not part of the value.
        let n = v.iter().rposition(|c| *c != b' ').map_or(0, |p| p + 1);
        v.truncate(n);
        Value::Text(v)
    } else {
        Value::Text(v)
    }
}

fn year_text(y: i64) -> String {
    format!("{y:04}")
}

fn vector_text(xs: &[f32]) -> String {
    let parts: Vec<String> = xs.iter().map(|x| fmt_float(*x as f64, true)).collect();
    format!("[{}]", parts.join(","))
}

/// A v2 cell's bytes as a value of the column's type: read as the datum the column type implies
/// (format-specs/tidb.md §4), then interpreted as v1 datums are.
pub fn from_v2(ft: &FieldType, b: &[u8]) -> Result<Value, String> {
    let e = |x: value::ValueError| x.0;
    let d = match ft.tp {
        tp::TINY | tp::SHORT | tp::INT24 | tp::LONG | tp::LONGLONG | tp::YEAR => {
            if ft.is_unsigned() {
                Datum::Uint(value::uint(b).map_err(e)?)
            } else {
                Datum::Int(value::int(b).map_err(e)?)
            }
        }
        tp::FLOAT | tp::DOUBLE => Datum::Float(value::float(b).map_err(e)?),
        tp::NEWDECIMAL => Datum::Decimal(value::decimal(b).map_err(e)?),
        tp::DATE | tp::NEWDATE | tp::DATETIME | tp::TIMESTAMP | tp::ENUM | tp::SET | tp::BIT => {
            Datum::Uint(value::uint(b).map_err(e)?)
        }
        tp::DURATION => Datum::Duration(value::int(b).map_err(e)?),
        tp::JSON => Datum::Json(b.to_vec()),
        tp::VECTOR_F32 => {
            let n = b
                .get(..4)
                .map(|x| u32::from_le_bytes([x[0], x[1], x[2], x[3]]) as usize);
            match n {
                Some(n) if b.len() == 4 + 4 * n => Datum::VectorF32(
                    b[4..]
                        .chunks_exact(4)
                        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                        .collect(),
                ),
                _ => return Err(format!("vector cell of {} bytes", b.len())),
            }
        }
        t if is_string_type(t) => Datum::Bytes(b.to_vec()),
        t => return Err(format!("column type {t} is not supported")),
    };
    from_datum(ft, d)
}

fn enum_value(ft: &FieldType, idx: u64) -> Value {
    // Index 0 is the empty string MySQL stores for an invalid value.
    match idx {
        0 => Value::Text(Vec::new()),
        i => match elems(ft).get(i as usize - 1) {
            Some(n) => Value::Text(n.as_bytes().to_vec()),
            None => Value::Text(i.to_string().into_bytes()),
        },
    }
}

/// A datum (row format v1, or a clustered key) as a value of the column's type.
pub fn from_datum(ft: &FieldType, d: Datum) -> Result<Value, String> {
    let as_u64 = |d: &Datum| match d {
        Datum::Uint(u) => Some(*u),
        Datum::Int(i) => Some(*i as u64),
        _ => None,
    };
    Ok(match (ft.tp, d) {
        (_, Datum::Null) => Value::Null,
        (tp::TINY | tp::SHORT | tp::INT24 | tp::LONG | tp::LONGLONG, d) => match d {
            Datum::Int(i) if ft.is_unsigned() => Value::Uint(i as u64),
            Datum::Int(i) => Value::Int(i),
            Datum::Uint(u) if ft.is_unsigned() => Value::Uint(u),
            Datum::Uint(u) => Value::Int(u as i64),
            d => return Err(format!("integer column holds {d:?}")),
        },
        (tp::YEAR, d) => match as_u64(&d) {
            Some(y) => Value::Temporal(year_text(y as i64)),
            None => return Err(format!("year column holds {d:?}")),
        },
        (tp::FLOAT, Datum::Float(f)) => Value::Float(f as f32),
        (tp::DOUBLE, Datum::Float(f)) => Value::Double(f),
        (tp::NEWDECIMAL, Datum::Decimal(s)) => {
            Value::Decimal(rescale_decimal(&s, ft.decimal.clamp(0, 30) as usize))
        }
        (tp::DATE | tp::NEWDATE, d) => match as_u64(&d) {
            Some(p) => Value::Temporal(value::packed_time(p, 0, true)),
            None => return Err(format!("date column holds {d:?}")),
        },
        (tp::DATETIME | tp::TIMESTAMP, d) => match as_u64(&d) {
            Some(p) => Value::Temporal(value::packed_time(p, fsp(ft), false)),
            None => return Err(format!("datetime column holds {d:?}")),
        },
        (tp::DURATION, Datum::Duration(n) | Datum::Int(n)) => {
            Value::Temporal(value::duration(n, fsp(ft)))
        }
        (tp::ENUM, d) => match as_u64(&d) {
            Some(i) => enum_value(ft, i),
            None => return Err(format!("enum column holds {d:?}")),
        },
        (tp::SET, d) => match as_u64(&d) {
            Some(b) => Value::Text(set_names(ft, b)),
            None => return Err(format!("set column holds {d:?}")),
        },
        (tp::BIT, d) => match (as_u64(&d), d) {
            (Some(v), _) => Value::Binary(bit_bytes(ft, v)),
            (None, Datum::Bytes(b)) => Value::Binary(b),
            (None, d) => return Err(format!("bit column holds {d:?}")),
        },
        (tp::JSON, Datum::Json(j)) => Value::Json(value::json(&j).map_err(|e| e.0)?),
        (tp::VECTOR_F32, Datum::VectorF32(xs)) => Value::Vector(vector_text(&xs)),
        (t, Datum::Bytes(b)) if is_string_type(t) || t == tp::JSON => char_value(ft, b),
        (t, d) => return Err(format!("column type {t} holds {d:?}")),
    })
}

/// A column's origin default (for rows written before the column was added).
pub fn origin_default(c: &ColumnInfo) -> Value {
    let ft = &c.field_type;
    if ft.tp == tp::BIT {
        if let Some(b) = c
            .origin_default_bit
            .as_deref()
            .and_then(crate::codec::b64::decode)
        {
            let mut v = 0u64;
            for x in b.iter().take(8) {
                v = (v << 8) | *x as u64;
            }
            return Value::Binary(bit_bytes(ft, v));
        }
    }
    let text = match &c.origin_default {
        serde_json::Value::Null => return Value::Null,
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match ft.tp {
        tp::TINY | tp::SHORT | tp::INT24 | tp::LONG | tp::LONGLONG => {
            if let Ok(v) = text.parse::<i64>() {
                return if ft.is_unsigned() {
                    Value::Uint(v as u64)
                } else {
                    Value::Int(v)
                };
            }
            if let Ok(v) = text.parse::<u64>() {
                return Value::Uint(v);
            }
            Value::Text(text.into_bytes())
        }
        tp::FLOAT => text
            .parse::<f32>()
            .map(Value::Float)
            .unwrap_or(Value::Text(text.into_bytes())),
        tp::DOUBLE => text
            .parse::<f64>()
            .map(Value::Double)
            .unwrap_or(Value::Text(text.into_bytes())),
        tp::NEWDECIMAL => Value::Decimal(rescale_decimal(&text, ft.decimal.clamp(0, 30) as usize)),
        tp::DATE | tp::NEWDATE | tp::DATETIME | tp::TIMESTAMP | tp::DURATION | tp::YEAR => {
            Value::Temporal(text)
        }
        tp::JSON => Value::Json(text),
        _ => char_value(ft, text.into_bytes()),
    }
}

/// A table's exported columns: public and not hidden, in column order.
pub fn export_columns(t: &TableInfo) -> Vec<&ColumnInfo> {
    let mut cols: Vec<&ColumnInfo> = t
        .cols
        .iter()
        .filter(|c| (c.state == STATE_PUBLIC || c.state == 0) && !c.hidden)
        .collect();
    cols.sort_by_key(|c| c.offset);
    cols
}

/// Cells that did not decode: (column name, message).
pub type CellErrors = Vec<(String, String)>;

/// Decode one row of `t` into values for `cols` (from [`export_columns`]). Cells that cannot be
/// decoded become errors in the second vector (column name, message), and NULL in the row.
pub fn decode_row(
    t: &TableInfo,
    cols: &[&ColumnInfo],
    handle: &RowHandle<'_>,
    v: &[u8],
) -> Result<(Vec<Value>, CellErrors), String> {
    let mut errors = Vec::new();
    // Clustered-key datums, by primary-key column name, when the row may lack them.
    let mut key_values: Vec<(String, Datum)> = Vec::new();
    if let RowHandle::Common(mut b) = handle {
        let pk = t
            .index_info
            .as_deref()
            .unwrap_or(&[])
            .iter()
            .find(|i| i.is_primary);
        if let Some(pk) = pk {
            for c in &pk.idx_cols {
                let Ok((d, n)) = datum::decode_one(b) else {
                    break;
                };
                key_values.push((c.name.lower.clone(), d));
                b = &b[n..];
            }
        }
    }
    let int_handle = match handle {
        RowHandle::Int(h) => Some(*h),
        RowHandle::Common(_) => None,
    };
    let handle_col = t.handle_column().map(|c| c.id);
    let mut out = Vec::with_capacity(cols.len());
    let from_key = |c: &ColumnInfo, errors: &mut Vec<(String, String)>| -> Option<Value> {
        let (_, d) = key_values.iter().find(|(n, _)| *n == c.name.lower)?;
        // A string key in a non-binary collation holds a sort key, not the value.
        if is_string_type(c.field_type.tp)
            && !is_binary(&c.field_type)
            && !c.field_type.collate.ends_with("_bin")
        {
            return None;
        }
        match from_datum(&c.field_type, d.clone()) {
            Ok(v) => Some(v),
            Err(e) => {
                errors.push((c.name.original.clone(), e));
                None
            }
        }
    };
    if row::is_v2(v) {
        let r = row::parse_v2(v).map_err(|e| format!("v2 row at byte {}: {}", e.pos, e.msg))?;
        for c in cols {
            if Some(c.id) == handle_col {
                if let Some(h) = int_handle {
                    out.push(handle_value(&c.field_type, h));
                    continue;
                }
            }
            let val = match r.cell(c.id.clamp(0, u32::MAX as i64) as u32) {
                Cell::Value(b) => match from_v2(&c.field_type, b) {
                    Ok(x) => x,
                    Err(e) => {
                        errors.push((c.name.original.clone(), e));
                        Value::Null
                    }
                },
                Cell::Null => Value::Null,
                Cell::Missing => from_key(c, &mut errors).unwrap_or_else(|| origin_default(c)),
            };
            out.push(val);
        }
    } else {
        let pairs =
            datum::decode_row_v1(v).map_err(|e| format!("v1 row at byte {}: {}", e.pos, e.msg))?;
        for c in cols {
            if Some(c.id) == handle_col {
                if let Some(h) = int_handle {
                    out.push(handle_value(&c.field_type, h));
                    continue;
                }
            }
            let val = match pairs.iter().find(|(id, _)| *id == c.id) {
                Some((_, d)) => match from_datum(&c.field_type, d.clone()) {
                    Ok(x) => x,
                    Err(e) => {
                        errors.push((c.name.original.clone(), e));
                        Value::Null
                    }
                },
                None => from_key(c, &mut errors).unwrap_or_else(|| origin_default(c)),
            };
            out.push(val);
        }
    }
    Ok((out, errors))
}

fn handle_value(ft: &FieldType, h: i64) -> Value {
    if ft.is_unsigned() {
        Value::Uint(h as u64)
    } else {
        Value::Int(h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ft(tp: u8, flag: u32, flen: i64, decimal: i64, charset: &str) -> FieldType {
        FieldType {
            tp,
            flag,
            flen,
            decimal,
            charset: charset.into(),
            collate: if charset == "binary" {
                "binary".into()
            } else {
                "utf8mb4_bin".into()
            },
            elems: None,
        }
    }

    #[test]
    fn decimals_at_column_scale() {
        assert_eq!(rescale_decimal("1.5", 2), "1.50");
        assert_eq!(rescale_decimal("-0.005", 2), "-0.01");
        assert_eq!(rescale_decimal("-0.004", 2), "0.00");
        assert_eq!(rescale_decimal("9.995", 2), "10.00");
        assert_eq!(rescale_decimal("12", 0), "12");
        assert_eq!(rescale_decimal("12.5", 0), "13");
        assert_eq!(rescale_decimal("-99.5", 0), "-100");
        assert_eq!(rescale_decimal("0.1", 3), "0.100");
    }

    #[test]
    fn floats_as_mysql_prints_them() {
        assert_eq!(fmt_float(1.5, false), "1.5");
        assert_eq!(fmt_float(-0.25, false), "-0.25");
        assert_eq!(fmt_float(100.0, false), "100");
        assert_eq!(fmt_float(1e20, false), "1e20");
        assert_eq!(fmt_float(1.5e-7, false), "1.5e-7");
        assert_eq!(fmt_float(0.1f32 as f64, true), "0.1");
        assert_eq!(fmt_float(1234.5678, false), "1234.5678");
        assert_eq!(fmt_float(0.0, false), "0");
    }

    #[test]
    fn cells_by_type() {
        let t = |tp, flag, flen, dec, cs: &str, b: &[u8]| {
            from_v2(&ft(tp, flag, flen, dec, cs), b)
                .unwrap()
                .text()
                .map(|c| c.into_owned())
        };
        assert_eq!(
            t(tp::LONG, 0, 11, 0, "binary", &[0xff]),
            Some(b"-1".to_vec())
        );
        assert_eq!(
            t(tp::LONG, 32, 11, 0, "binary", &[0xff]),
            Some(b"255".to_vec())
        );
        assert_eq!(
            t(tp::YEAR, 32, 4, 0, "binary", &[0xe8, 0x07]),
            Some(b"2024".to_vec())
        );
        assert_eq!(
            t(tp::STRING, 0, 10, 0, "utf8mb4", b"ab  "),
            Some(b"ab".to_vec())
        );
        assert_eq!(
            t(tp::STRING, 128, 4, 0, "binary", b"ab"),
            Some(b"ab\0\0".to_vec())
        );
        assert_eq!(
            t(tp::BIT, 32, 10, 0, "binary", &[0x05, 0x01]),
            Some(vec![0x01, 0x05])
        );
        let mut e = ft(tp::ENUM, 0, -1, 0, "utf8mb4");
        e.elems = Some(vec!["a".into(), "b".into(), "c".into()]);
        assert_eq!(from_v2(&e, &[2]).unwrap(), Value::Text(b"b".to_vec()));
        e.tp = tp::SET;
        assert_eq!(from_v2(&e, &[5]).unwrap(), Value::Text(b"a,c".to_vec()));
        // Packed 2024-03-05 06:07:08.123456 at fsp 3.
        let ymd = ((2024u64 * 13 + 3) << 5) | 5;
        let hms = (6u64 << 12) | (7 << 6) | 8;
        let p = (((ymd << 17) | hms) << 24) | 123456;
        assert_eq!(
            t(tp::DATETIME, 0, 23, 3, "binary", &p.to_le_bytes()),
            Some(b"2024-03-05 06:07:08.123".to_vec())
        );
        let nanos: i64 = -(25 * 3600 + 61) * 1_000_000_000 - 500_000_000;
        assert_eq!(
            t(tp::DURATION, 0, 10, 1, "binary", &nanos.to_le_bytes()),
            Some(b"-25:01:01.5".to_vec())
        );
        assert!(from_v2(&ft(tp::LONG, 0, 11, 0, "binary"), &[1, 2, 3]).is_err());
    }

    #[test]
    fn rows_with_handles_and_defaults() {
        let info = TableInfo::parse(br#"{"id":5,"pk_is_handle":true,"cols":[
            {"id":1,"name":{"O":"id","L":"id"},"offset":0,"state":5,"type":{"Tp":8,"Flag":3}},
            {"id":2,"name":{"O":"v","L":"v"},"offset":1,"state":5,"type":{"Tp":3,"Flag":0}},
            {"id":3,"name":{"O":"added","L":"added"},"offset":2,"state":5,"origin_default":"7","type":{"Tp":3,"Flag":0}}]}"#).unwrap();
        let cols = export_columns(&info);
        // v2 row: column 2 = 42.
        let row = [0x80, 0, 1, 0, 0, 0, 2, 1, 0, 42];
        let (vals, errs) = decode_row(&info, &cols, &RowHandle::Int(-3), &row).unwrap();
        assert!(errs.is_empty());
        assert_eq!(vals, vec![Value::Int(-3), Value::Int(42), Value::Int(7)]);
        // v1 row: (2, int 42).
        let v1 = [0x08, 0x04, 0x08, 0x54];
        let (vals, _) = decode_row(&info, &cols, &RowHandle::Int(9), &v1).unwrap();
        assert_eq!(vals, vec![Value::Int(9), Value::Int(42), Value::Int(7)]);
        assert!(decode_row(&info, &cols, &RowHandle::Int(9), &[0x80, 0]).is_err());
        let mut prefix = vec![b't'];
        prefix.extend_from_slice(&super::super::key::encode_cmp_i64(5));
        prefix.extend_from_slice(b"_r");
        assert_eq!(super::super::key::record_key(&prefix), None);
    }
}
