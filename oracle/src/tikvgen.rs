//! Independent encoders for TiKV / TiDB on-disk bytes, used by `gen-tikv` to write fixture stores.
//!
//! Written from the specs (`format-specs/tikv.md`, `format-specs/tidb.md`) and upstream sources
//! (TiKV `components/txn_types/src/{write,lock}.rs`, TiDB `pkg/util/codec`, `pkg/tablecodec`,
//! `pkg/util/rowcodec/encoder.go`, `pkg/types/json_binary.go`), on purpose without any code from
//! the `rockrescue` crate: this is the oracle side. [`selftest`] checks every encoder against the
//! spec's test vectors; `gen-tikv` runs it before writing anything.

use std::fmt::Write as _;

// ---------------------------------------------------------------------------------------------
// Primitives
// ---------------------------------------------------------------------------------------------

/// Memcomparable bytes: 8-byte groups, each followed by a marker `0xFF - pad`; the last group is
/// zero-padded, and an input whose length is a multiple of 8 gets an extra all-padding group.
pub fn mc_encode(out: &mut Vec<u8>, b: &[u8]) {
    let mut i = 0;
    loop {
        let rem = b.len() - i;
        if rem >= 8 {
            out.extend_from_slice(&b[i..i + 8]);
            out.push(0xFF);
            i += 8;
        } else {
            out.extend_from_slice(&b[i..]);
            let pad = 8 - rem;
            out.extend(std::iter::repeat_n(0u8, pad));
            out.push(0xFF - pad as u8);
            return;
        }
    }
}

pub fn mc(b: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity((b.len() / 8 + 1) * 9);
    mc_encode(&mut v, b);
    v
}

/// Comparable i64: big-endian with the sign bit flipped.
pub fn cmp_i64(v: i64) -> [u8; 8] {
    ((v as u64) ^ (1u64 << 63)).to_be_bytes()
}

pub fn cmp_u64(v: u64) -> [u8; 8] {
    v.to_be_bytes()
}

/// Unsigned LEB128.
pub fn put_uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Zigzag varint (Go `binary.PutVarint`, TiKV `encode_var_i64`).
pub fn put_varint(out: &mut Vec<u8>, v: i64) {
    put_uvarint(out, ((v << 1) ^ (v >> 63)) as u64);
}

/// Compact bytes: zigzag-varint length, then the bytes.
pub fn put_compact_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_varint(out, b.len() as i64);
    out.extend_from_slice(b);
}

/// TSO timestamp.
pub fn tso(physical_ms: u64, logical: u64) -> u64 {
    assert!(logical < (1 << 18));
    (physical_ms << 18) | logical
}

// ---------------------------------------------------------------------------------------------
// TiKV keys and MVCC values
// ---------------------------------------------------------------------------------------------

/// Lock-CF key: `'z' + mc(raw)`.
pub fn lock_key(raw: &[u8]) -> Vec<u8> {
    let mut k = vec![b'z'];
    mc_encode(&mut k, raw);
    k
}

/// Write/default-CF key: `'z' + mc(raw) + u64_be(!ts)`.
pub fn ts_key(raw: &[u8], ts: u64) -> Vec<u8> {
    let mut k = lock_key(raw);
    k.extend_from_slice(&(!ts).to_be_bytes());
    k
}

pub const SHORT_VALUE_MAX_LEN: usize = 255;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteType {
    Put,
    Delete,
    Lock,
    Rollback,
}

impl WriteType {
    pub fn byte(self) -> u8 {
        match self {
            WriteType::Put => b'P',
            WriteType::Delete => b'D',
            WriteType::Lock => b'L',
            WriteType::Rollback => b'R',
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            WriteType::Put => "put",
            WriteType::Delete => "delete",
            WriteType::Lock => "lock",
            WriteType::Rollback => "rollback",
        }
    }
}

/// LastChange as stored: `None` = Unknown (not written), `Some((ts, versions))` otherwise
/// (`(0, 1)` = NotExist).
pub type LastChange = Option<(u64, u64)>;

/// A write-CF record (TiKV `txn_types::Write`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriteRec {
    pub write_type: WriteType,
    pub start_ts: u64,
    pub short_value: Option<Vec<u8>>,
    pub has_overlapped_rollback: bool,
    pub gc_fence: Option<u64>,
    pub last_change: LastChange,
    pub txn_source: u64,
}

impl WriteRec {
    pub fn new(write_type: WriteType, start_ts: u64, short_value: Option<Vec<u8>>) -> Self {
        WriteRec {
            write_type,
            start_ts,
            short_value,
            has_overlapped_rollback: false,
            gc_fence: None,
            last_change: None,
            txn_source: 0,
        }
    }
    /// Field order as TiKV's `WriteRef::to_bytes`: v, R, F, l, S.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = vec![self.write_type.byte()];
        put_uvarint(&mut b, self.start_ts);
        if let Some(v) = &self.short_value {
            assert!(v.len() <= SHORT_VALUE_MAX_LEN);
            b.push(b'v');
            b.push(v.len() as u8);
            b.extend_from_slice(v);
        }
        if self.has_overlapped_rollback {
            b.push(b'R');
        }
        if let Some(ts) = self.gc_fence {
            b.push(b'F');
            b.extend_from_slice(&ts.to_be_bytes());
        }
        if let Some((ts, n)) = self.last_change {
            b.push(b'l');
            b.extend_from_slice(&ts.to_be_bytes());
            put_uvarint(&mut b, n);
        }
        if self.txn_source != 0 {
            b.push(b'S');
            put_uvarint(&mut b, self.txn_source);
        }
        b
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockType {
    Put,
    Delete,
    Lock,
    Pessimistic,
}

impl LockType {
    pub fn byte(self) -> u8 {
        match self {
            LockType::Put => b'P',
            LockType::Delete => b'D',
            LockType::Lock => b'L',
            LockType::Pessimistic => b'S',
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            LockType::Put => "put",
            LockType::Delete => "delete",
            LockType::Lock => "lock",
            LockType::Pessimistic => "pessimistic",
        }
    }
}

/// A lock-CF record (TiKV `txn_types::Lock`, ordinary lock types only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LockRec {
    pub lock_type: LockType,
    pub primary: Vec<u8>,
    pub start_ts: u64,
    pub ttl: u64,
    pub short_value: Option<Vec<u8>>,
    pub for_update_ts: u64,
    pub txn_size: u64,
    pub min_commit_ts: u64,
    /// `Some(secondaries)` = async commit (secondaries only on the primary).
    pub async_commit: Option<Vec<Vec<u8>>>,
    pub rollback_ts: Vec<u64>,
    pub last_change: LastChange,
    pub txn_source: u64,
}

impl LockRec {
    pub fn new(lock_type: LockType, primary: &[u8], start_ts: u64, ttl: u64) -> Self {
        LockRec {
            lock_type,
            primary: primary.to_vec(),
            start_ts,
            ttl,
            short_value: None,
            for_update_ts: 0,
            txn_size: 0,
            min_commit_ts: 0,
            async_commit: None,
            rollback_ts: Vec::new(),
            last_change: None,
            txn_source: 0,
        }
    }
    /// Field order as TiKV's `Lock::to_bytes`: v, f, t, c, a, r, l, s.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = vec![self.lock_type.byte()];
        put_compact_bytes(&mut b, &self.primary);
        put_uvarint(&mut b, self.start_ts);
        put_uvarint(&mut b, self.ttl);
        if let Some(v) = &self.short_value {
            assert!(v.len() <= SHORT_VALUE_MAX_LEN);
            b.push(b'v');
            b.push(v.len() as u8);
            b.extend_from_slice(v);
        }
        if self.for_update_ts != 0 {
            b.push(b'f');
            b.extend_from_slice(&self.for_update_ts.to_be_bytes());
        }
        if self.txn_size > 0 {
            b.push(b't');
            b.extend_from_slice(&self.txn_size.to_be_bytes());
        }
        if self.min_commit_ts != 0 {
            b.push(b'c');
            b.extend_from_slice(&self.min_commit_ts.to_be_bytes());
        }
        if let Some(sec) = &self.async_commit {
            b.push(b'a');
            put_uvarint(&mut b, sec.len() as u64);
            for k in sec {
                put_compact_bytes(&mut b, k);
            }
        }
        if !self.rollback_ts.is_empty() {
            b.push(b'r');
            put_uvarint(&mut b, self.rollback_ts.len() as u64);
            for ts in &self.rollback_ts {
                b.extend_from_slice(&ts.to_be_bytes());
            }
        }
        if let Some((ts, n)) = self.last_change {
            b.push(b'l');
            b.extend_from_slice(&ts.to_be_bytes());
            put_uvarint(&mut b, n);
        }
        if self.txn_source != 0 {
            b.push(b's');
            put_uvarint(&mut b, self.txn_source);
        }
        b
    }
}

// ---------------------------------------------------------------------------------------------
// TiDB keys
// ---------------------------------------------------------------------------------------------

/// `'t' + cmp_i64(table_id)`.
pub fn table_prefix(table_id: i64) -> Vec<u8> {
    let mut k = vec![b't'];
    k.extend_from_slice(&cmp_i64(table_id));
    k
}

/// `'t' + cmp_i64(table_id) + "_r"`.
pub fn record_prefix(table_id: i64) -> Vec<u8> {
    let mut k = table_prefix(table_id);
    k.extend_from_slice(b"_r");
    k
}

/// Record key with an int handle (8 bytes, no flag byte).
pub fn record_key_int(table_id: i64, handle: i64) -> Vec<u8> {
    let mut k = record_prefix(table_id);
    k.extend_from_slice(&cmp_i64(handle));
    k
}

/// Record key with a common (clustered) handle: the comparable PK datums.
pub fn record_key_common(table_id: i64, handle_datums: &[u8]) -> Vec<u8> {
    let mut k = record_prefix(table_id);
    k.extend_from_slice(handle_datums);
    k
}

/// Index key prefix `t{tid}_i{idx}` followed by the given comparable datums.
pub fn index_key(table_id: i64, index_id: i64, datums: &[u8]) -> Vec<u8> {
    let mut k = table_prefix(table_id);
    k.extend_from_slice(b"_i");
    k.extend_from_slice(&cmp_i64(index_id));
    k.extend_from_slice(datums);
    k
}

/// Meta hash data key: `'m' + mc(key) + cmp_u64('h') + mc(field)`.
pub fn meta_hash_key(key: &str, field: &str) -> Vec<u8> {
    let mut k = vec![b'm'];
    mc_encode(&mut k, key.as_bytes());
    k.extend_from_slice(&cmp_u64(b'h' as u64));
    mc_encode(&mut k, field.as_bytes());
    k
}

/// Meta string data key: `'m' + mc(key) + cmp_u64('s')`.
pub fn meta_string_key(key: &str) -> Vec<u8> {
    let mut k = vec![b'm'];
    mc_encode(&mut k, key.as_bytes());
    k.extend_from_slice(&cmp_u64(b's' as u64));
    k
}

// ---------------------------------------------------------------------------------------------
// Value codecs
// ---------------------------------------------------------------------------------------------

/// Comparable float (TiDB `codec.EncodeFloat`): `f >= 0` sets the sign bit, else invert all.
pub fn cmp_f64(f: f64) -> [u8; 8] {
    let mut u = f.to_bits();
    if f >= 0.0 {
        u |= 1 << 63;
    } else {
        u = !u;
    }
    u.to_be_bytes()
}

/// rowcodec `encodeInt`: shortest of 1/2/4/8 bytes LE that holds the value.
pub fn rc_int(out: &mut Vec<u8>, v: i64) {
    if v as i8 as i64 == v {
        out.push(v as i8 as u8);
    } else if v as i16 as i64 == v {
        out.extend_from_slice(&(v as i16).to_le_bytes());
    } else if v as i32 as i64 == v {
        out.extend_from_slice(&(v as i32).to_le_bytes());
    } else {
        out.extend_from_slice(&v.to_le_bytes());
    }
}

/// rowcodec `encodeUint`.
pub fn rc_uint(out: &mut Vec<u8>, v: u64) {
    if v as u8 as u64 == v {
        out.push(v as u8);
    } else if v as u16 as u64 == v {
        out.extend_from_slice(&(v as u16).to_le_bytes());
    } else if v as u32 as u64 == v {
        out.extend_from_slice(&(v as u32).to_le_bytes());
    } else {
        out.extend_from_slice(&v.to_le_bytes());
    }
}

const DIG2BYTES: [usize; 10] = [0, 1, 1, 2, 2, 3, 3, 4, 4, 4];

fn put_digits(out: &mut Vec<u8>, digits: &[u8]) {
    // digits: ASCII '0'..'9', up to 9 of them, written BE in DIG2BYTES[len] bytes.
    let mut v: u32 = 0;
    for d in digits {
        v = v * 10 + (d - b'0') as u32;
    }
    let n = DIG2BYTES[digits.len()];
    out.extend_from_slice(&v.to_be_bytes()[4 - n..]);
}

/// MySQL binary decimal of the decimal string `s` (e.g. "-12.50") for DECIMAL(prec, frac).
/// `s` must have at most `frac` fractional digits and at most `prec - frac` integer digits.
pub fn decimal_bin(s: &str, prec: usize, frac: usize) -> Vec<u8> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    let (ip, fp) = match body.split_once('.') {
        Some((a, b)) => (a, b),
        None => (body, ""),
    };
    assert!(ip.bytes().all(|c| c.is_ascii_digit()) && fp.bytes().all(|c| c.is_ascii_digit()));
    let ip = ip.trim_start_matches('0');
    let intg = prec - frac;
    assert!(ip.len() <= intg, "decimal {s} does not fit ({prec},{frac})");
    assert!(
        fp.len() <= frac,
        "decimal {s} has more than {frac} fractional digits"
    );
    let mut idig = vec![b'0'; intg - ip.len()];
    idig.extend_from_slice(ip.as_bytes());
    let mut fdig = fp.as_bytes().to_vec();
    fdig.resize(frac, b'0');
    let mut out = Vec::new();
    let lead = intg % 9;
    put_digits(&mut out, &idig[..lead]);
    for g in idig[lead..].chunks(9) {
        put_digits(&mut out, g);
    }
    let full = frac / 9 * 9;
    for g in fdig[..full].chunks(9) {
        put_digits(&mut out, g);
    }
    put_digits(&mut out, &fdig[full..]);
    if neg {
        for b in out.iter_mut() {
            *b = !*b;
        }
    }
    out[0] ^= 0x80;
    out
}

/// Packed datetime (TiDB `Time.ToPackedUint`).
pub fn packed_time(y: u64, mo: u64, d: u64, h: u64, mi: u64, s: u64, us: u64) -> u64 {
    let ymd = ((y * 13 + mo) << 5) | d;
    let hms = (h << 12) | (mi << 6) | s;
    (((ymd << 17) | hms) << 24) | us
}

// ---------------------------------------------------------------------------------------------
// Row formats
// ---------------------------------------------------------------------------------------------

/// Row format v2 (rowcodec). `cells`: column id and cell bytes (`None` = NULL). With
/// `checksum_handle`, a checksum trailer is appended the way `RawChecksum.encode` does it
/// (header byte 1, CRC32-IEEE over row bytes + header byte, updated with the encoded handle).
pub fn row_v2(cells: &[(i64, Option<Vec<u8>>)], checksum_handle: Option<&[u8]>) -> Vec<u8> {
    let mut not_null: Vec<(i64, &Vec<u8>)> = cells
        .iter()
        .filter_map(|(id, c)| c.as_ref().map(|c| (*id, c)))
        .collect();
    let mut null: Vec<i64> = cells
        .iter()
        .filter(|(_, c)| c.is_none())
        .map(|(id, _)| *id)
        .collect();
    not_null.sort_by_key(|x| x.0);
    null.sort();
    let mut data = Vec::new();
    let mut ends = Vec::new();
    for (_, c) in &not_null {
        data.extend_from_slice(c);
        ends.push(data.len());
    }
    let large = cells.iter().any(|(id, _)| *id > 255) || data.len() > 65535;
    let mut flags = 0u8;
    if large {
        flags |= 1;
    }
    if checksum_handle.is_some() {
        flags |= 2;
    }
    let mut b = vec![0x80, flags];
    b.extend_from_slice(&(not_null.len() as u16).to_le_bytes());
    b.extend_from_slice(&(null.len() as u16).to_le_bytes());
    for id in not_null.iter().map(|x| x.0).chain(null.iter().copied()) {
        assert!(id > 0);
        if large {
            b.extend_from_slice(&(id as u32).to_le_bytes());
        } else {
            b.push(id as u8);
        }
    }
    for e in ends {
        if large {
            b.extend_from_slice(&(e as u32).to_le_bytes());
        } else {
            b.extend_from_slice(&(e as u16).to_le_bytes());
        }
    }
    b.extend_from_slice(&data);
    if let Some(h) = checksum_handle {
        b.push(1);
        let c = crc32_ieee_update(crc32_ieee_update(0, &b), h);
        b.extend_from_slice(&c.to_le_bytes());
    }
    b
}

/// Row format v1 (`EncodeOldRow`): `[08 varint(col id)][value datum]...`, or a single `00`.
pub fn row_v1(cells: &[(i64, Vec<u8>)]) -> Vec<u8> {
    if cells.is_empty() {
        return vec![0];
    }
    let mut b = Vec::new();
    for (id, datum) in cells {
        b.push(0x08);
        put_varint(&mut b, *id);
        b.extend_from_slice(datum);
    }
    b
}

// ---------------------------------------------------------------------------------------------
// Binary JSON (TiDB)
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq)]
pub enum Jv {
    Null,
    Bool(bool),
    I64(i64),
    U64(u64),
    F64(f64),
    Str(String),
    Arr(Vec<Jv>),
    /// Keys in any order; the encoder sorts them bytewise like TiDB.
    Obj(Vec<(String, Jv)>),
}

impl Jv {
    pub fn obj(items: &[(&str, Jv)]) -> Jv {
        Jv::Obj(
            items
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }
    pub fn s(x: &str) -> Jv {
        Jv::Str(x.to_string())
    }
    fn sorted(items: &[(String, Jv)]) -> Vec<&(String, Jv)> {
        let mut v: Vec<&(String, Jv)> = items.iter().collect();
        v.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        for w in v.windows(2) {
            assert_ne!(w[0].0, w[1].0, "duplicate JSON key");
        }
        v
    }
    /// (type code, value bytes).
    pub fn to_binary(&self) -> (u8, Vec<u8>) {
        let mut buf = Vec::new();
        let tc = json_append(&mut buf, self);
        (tc, buf)
    }
    /// As TiDB prints it (`BinaryJSON.String`): `", "` and `": "` separators, keys in stored
    /// (sorted) order, doubles shortest with `.0` for integral values.
    pub fn to_tidb_string(&self) -> String {
        let mut s = String::new();
        self.print(&mut s);
        s
    }
    fn print(&self, s: &mut String) {
        match self {
            Jv::Null => s.push_str("null"),
            Jv::Bool(b) => s.push_str(if *b { "true" } else { "false" }),
            Jv::I64(i) => write!(s, "{i}").unwrap(),
            Jv::U64(u) => write!(s, "{u}").unwrap(),
            Jv::F64(f) => {
                let a = f.abs();
                assert!(
                    a == 0.0 || (1e-15..1e15).contains(&a),
                    "exponent-form doubles not supported"
                );
                let t = format!("{f}");
                s.push_str(&t);
                if !t.contains('.') {
                    s.push_str(".0");
                }
            }
            Jv::Str(x) => json_quote_tidb(s, x),
            Jv::Arr(a) => {
                s.push('[');
                for (i, v) in a.iter().enumerate() {
                    if i > 0 {
                        s.push_str(", ");
                    }
                    v.print(s);
                }
                s.push(']');
            }
            Jv::Obj(o) => {
                s.push('{');
                for (i, (k, v)) in Jv::sorted(o).into_iter().enumerate() {
                    if i > 0 {
                        s.push_str(", ");
                    }
                    json_quote_tidb(s, k);
                    s.push_str(": ");
                    v.print(s);
                }
                s.push('}');
            }
        }
    }
}

/// TiDB `jsonMarshalStringTo` (Go encoding/json without HTML escaping).
fn json_quote_tidb(s: &mut String, x: &str) {
    s.push('"');
    for c in x.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            '\r' => s.push_str("\\r"),
            '\t' => s.push_str("\\t"),
            '\u{8}' => s.push_str("\\b"),
            '\u{c}' => s.push_str("\\f"),
            c if (c as u32) < 0x20 => write!(s, "\\u00{:02x}", c as u32).unwrap(),
            '\u{2028}' => s.push_str("\\u2028"),
            '\u{2029}' => s.push_str("\\u2029"),
            c => s.push(c),
        }
    }
    s.push('"');
}

const JSON_OBJECT: u8 = 0x01;
const JSON_ARRAY: u8 = 0x03;
const JSON_LITERAL: u8 = 0x04;
const JSON_INT64: u8 = 0x09;
const JSON_UINT64: u8 = 0x0A;
const JSON_FLOAT64: u8 = 0x0B;
const JSON_STRING: u8 = 0x0C;

fn json_append(buf: &mut Vec<u8>, v: &Jv) -> u8 {
    match v {
        Jv::Null => {
            buf.push(0x00);
            JSON_LITERAL
        }
        Jv::Bool(b) => {
            buf.push(if *b { 0x01 } else { 0x02 });
            JSON_LITERAL
        }
        Jv::I64(i) => {
            buf.extend_from_slice(&i.to_le_bytes());
            JSON_INT64
        }
        Jv::U64(u) => {
            buf.extend_from_slice(&u.to_le_bytes());
            JSON_UINT64
        }
        Jv::F64(f) => {
            buf.extend_from_slice(&f.to_bits().to_le_bytes());
            JSON_FLOAT64
        }
        Jv::Str(s) => {
            put_uvarint(buf, s.len() as u64);
            buf.extend_from_slice(s.as_bytes());
            JSON_STRING
        }
        Jv::Arr(a) => {
            let doc = buf.len();
            buf.extend_from_slice(&(a.len() as u32).to_le_bytes());
            buf.extend_from_slice(&[0; 4]);
            let ve = buf.len();
            buf.resize(buf.len() + a.len() * 5, 0);
            for (i, x) in a.iter().enumerate() {
                json_val_entry(buf, doc, ve + i * 5, x);
            }
            let size = (buf.len() - doc) as u32;
            buf[doc + 4..doc + 8].copy_from_slice(&size.to_le_bytes());
            JSON_ARRAY
        }
        Jv::Obj(o) => {
            let fields = Jv::sorted(o);
            let doc = buf.len();
            buf.extend_from_slice(&(fields.len() as u32).to_le_bytes());
            buf.extend_from_slice(&[0; 4]);
            let ke = buf.len();
            buf.resize(buf.len() + fields.len() * 6, 0);
            let ve = buf.len();
            buf.resize(buf.len() + fields.len() * 5, 0);
            for (i, (k, _)) in fields.iter().enumerate() {
                let off = (buf.len() - doc) as u32;
                buf[ke + i * 6..ke + i * 6 + 4].copy_from_slice(&off.to_le_bytes());
                buf[ke + i * 6 + 4..ke + i * 6 + 6]
                    .copy_from_slice(&(k.len() as u16).to_le_bytes());
                buf.extend_from_slice(k.as_bytes());
            }
            for (i, (_, x)) in fields.iter().enumerate() {
                json_val_entry(buf, doc, ve + i * 5, x);
            }
            let size = (buf.len() - doc) as u32;
            buf[doc + 4..doc + 8].copy_from_slice(&size.to_le_bytes());
            JSON_OBJECT
        }
    }
}

fn json_val_entry(buf: &mut Vec<u8>, doc: usize, entry: usize, v: &Jv) {
    let elem = buf.len();
    let tc = json_append(buf, v);
    if tc == JSON_LITERAL {
        let lit = buf[elem];
        buf.truncate(elem);
        buf[entry] = JSON_LITERAL;
        buf[entry + 1] = lit;
    } else {
        buf[entry] = tc;
        let off = (elem - doc) as u32;
        buf[entry + 1..entry + 5].copy_from_slice(&off.to_le_bytes());
    }
}

// ---------------------------------------------------------------------------------------------
// Go encoding/json-style output (field order kept), for DBInfo / TableInfo
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
pub enum GoJson {
    Null,
    Bool(bool),
    Int(i64),
    Str(String),
    /// Go `[]byte`: base64 (standard, padded).
    Bytes(Vec<u8>),
    Arr(Vec<GoJson>),
    Obj(Vec<(&'static str, GoJson)>),
}

impl GoJson {
    pub fn s(x: &str) -> GoJson {
        GoJson::Str(x.to_string())
    }
    /// Go `model.CIStr`: `{"O":..,"L":..}`.
    pub fn cistr(x: &str) -> GoJson {
        GoJson::Obj(vec![
            ("O", GoJson::s(x)),
            ("L", GoJson::s(&x.to_lowercase())),
        ])
    }
    pub fn opt_str(x: &Option<String>) -> GoJson {
        match x {
            Some(s) => GoJson::s(s),
            None => GoJson::Null,
        }
    }
    /// `json.Marshal` output (compact).
    pub fn marshal(&self) -> String {
        let mut s = String::new();
        self.write(&mut s);
        s
    }
    fn write(&self, s: &mut String) {
        match self {
            GoJson::Null => s.push_str("null"),
            GoJson::Bool(b) => s.push_str(if *b { "true" } else { "false" }),
            GoJson::Int(i) => write!(s, "{i}").unwrap(),
            GoJson::Str(x) => go_quote(s, x),
            GoJson::Bytes(b) => {
                s.push('"');
                s.push_str(&base64_std(b));
                s.push('"');
            }
            GoJson::Arr(a) => {
                s.push('[');
                for (i, v) in a.iter().enumerate() {
                    if i > 0 {
                        s.push(',');
                    }
                    v.write(s);
                }
                s.push(']');
            }
            GoJson::Obj(o) => {
                s.push('{');
                for (i, (k, v)) in o.iter().enumerate() {
                    if i > 0 {
                        s.push(',');
                    }
                    go_quote(s, k);
                    s.push(':');
                    v.write(s);
                }
                s.push('}');
            }
        }
    }
}

/// Go `encoding/json` string quoting with its default HTML escaping.
fn go_quote(s: &mut String, x: &str) {
    s.push('"');
    for c in x.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            '\r' => s.push_str("\\r"),
            '\t' => s.push_str("\\t"),
            '<' | '>' | '&' => write!(s, "\\u00{:02x}", c as u32).unwrap(),
            c if (c as u32) < 0x20 => write!(s, "\\u00{:02x}", c as u32).unwrap(),
            '\u{2028}' => s.push_str("\\u2028"),
            '\u{2029}' => s.push_str("\\u2029"),
            c => s.push(c),
        }
    }
    s.push('"');
}

pub fn base64_std(b: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for ch in b.chunks(3) {
        let n = (ch[0] as u32) << 16
            | (*ch.get(1).unwrap_or(&0) as u32) << 8
            | *ch.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= ch.len() {
                s.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

// ---------------------------------------------------------------------------------------------
// CRC32 (IEEE) and a minimal protobuf writer
// ---------------------------------------------------------------------------------------------

pub fn crc32_ieee_update(crc: u32, data: &[u8]) -> u32 {
    let mut c = !crc;
    for &b in data {
        c ^= b as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0xEDB8_8320
            } else {
                c >> 1
            };
        }
    }
    !c
}

/// Protobuf: varint field.
pub fn pb_varint(out: &mut Vec<u8>, field: u32, v: u64) {
    put_uvarint(out, (field as u64) << 3); // wire type 0
    put_uvarint(out, v);
}

/// Protobuf: length-delimited field.
pub fn pb_bytes(out: &mut Vec<u8>, field: u32, b: &[u8]) {
    put_uvarint(out, ((field as u64) << 3) | 2);
    put_uvarint(out, b.len() as u64);
    out.extend_from_slice(b);
}

// ---------------------------------------------------------------------------------------------
// CRC-64/XZ and SHA-256 (BR checksums, format-specs/br.md §6)
// ---------------------------------------------------------------------------------------------

/// The reflected CRC-64/XZ table (polynomial 0x42F0E1EBA9EA3693, reflected 0xC96C5795D7870F42).
const fn crc64_table() -> [u64; 256] {
    let mut t = [0u64; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u64;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0xC96C_5795_D787_0F42
            } else {
                c >> 1
            };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
}

static CRC64_TABLE: [u64; 256] = crc64_table();

/// CRC-64/XZ (Go `crc64.ECMA`): init all ones, reflected, final XOR all ones. `crc` is a
/// previous result (0 to start), so a digest can be fed in pieces (key, then value).
pub fn crc64_xz_update(crc: u64, data: &[u8]) -> u64 {
    let mut c = !crc;
    for &b in data {
        c = CRC64_TABLE[((c ^ b as u64) & 0xFF) as usize] ^ (c >> 8);
    }
    !c
}

pub fn crc64_xz(data: &[u8]) -> u64 {
    crc64_xz_update(0, data)
}

/// SHA-256 (FIPS 180-4).
pub fn sha256(data: &[u8]) -> [u8; 32] {
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];
    let mut h: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
        0x5be0cd19,
    ];
    let mut msg = data.to_vec();
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&((data.len() as u64) * 8).to_be_bytes());
    for block in msg.chunks(64) {
        let mut w = [0u32; 64];
        for i in 0..16 {
            w[i] = u32::from_be_bytes(block[i * 4..i * 4 + 4].try_into().unwrap());
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16]
                .wrapping_add(s0)
                .wrapping_add(w[i - 7])
                .wrapping_add(s1);
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut hh] = h;
        for i in 0..64 {
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let ch = (e & f) ^ (!e & g);
            let t1 = hh
                .wrapping_add(s1)
                .wrapping_add(ch)
                .wrapping_add(K[i])
                .wrapping_add(w[i]);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let maj = (a & b) ^ (a & c) ^ (b & c);
            let t2 = s0.wrapping_add(maj);
            hh = g;
            g = f;
            f = e;
            e = d.wrapping_add(t1);
            d = c;
            c = b;
            b = a;
            a = t1.wrapping_add(t2);
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e, f, g, hh]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 32];
    for (i, x) in h.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&x.to_be_bytes());
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Self test against the specs' vectors
// ---------------------------------------------------------------------------------------------

fn h(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn check(what: &str, got: &[u8], want_hex: &str) {
    let want = h(want_hex);
    assert_eq!(
        got,
        &want[..],
        "selftest {what}: got {} want {}",
        hex::encode(got),
        hex::encode(&want)
    );
}

/// Checks the encoders against the test vectors of `format-specs/tikv.md` §9 and
/// `format-specs/tidb.md` §9 (themselves taken from TiKV/TiDB unit tests or derived there).
pub fn selftest() {
    check("mc empty", &mc(b""), "0000000000000000f7");
    check("mc 00", &mc(&[0]), "0000000000000000f8");
    check("mc 010203", &mc(&[1, 2, 3]), "0102030000000000fa");
    check("mc 01020300", &mc(&[1, 2, 3, 0]), "0102030000000000fb");
    check(
        "mc 00x8",
        &mc(&[0; 8]),
        "0000000000000000ff0000000000000000f7",
    );
    check(
        "mc 1..9",
        &mc(&[1, 2, 3, 4, 5, 6, 7, 8, 9]),
        "0102030405060708ff0900000000000000f8",
    );
    check(
        "append_ts",
        &ts_key(b"z", 1000)[1..],
        "7a00000000000000f8fffffffffffffc17",
    );
    assert_eq!(tso(1568700549751, 108), 411225436913926252);
    check(
        "record key",
        &record_key_int(1, 2),
        "7480000000000000015f728000000000000002",
    );
    check(
        "record key -1",
        &record_key_int(100, -1),
        "7480000000000000645f727fffffffffffffff",
    );
    check(
        "write cf key",
        &ts_key(&record_key_int(1, 2), 400000000000000000),
        "7a7480000000000000ff015f728000000000ff0000020000000000fafa72ea1e89d7ffff",
    );
    let mut ch = vec![0x01];
    mc_encode(&mut ch, b"abc");
    ch.push(0x03);
    ch.extend_from_slice(&cmp_i64(7));
    check(
        "common handle",
        &record_key_common(10, &ch),
        "74800000000000000a5f72016162630000000000fa038000000000000007",
    );
    check(
        "meta DBs",
        &meta_hash_key("DBs", "DB:1"),
        "6d4442730000000000fa000000000000006844423a3100000000fb",
    );
    check(
        "meta DB:1",
        &meta_hash_key("DB:1", "Table:5"),
        "6d44423a3100000000fb00000000000000685461626c653a3500fe",
    );
    check(
        "meta in tikv",
        &lock_key(&meta_hash_key("DB:1", "Table:5")),
        "7a6d44423a31000000ff00fb000000000000ff00685461626c653aff3500fe0000000000fa",
    );
    check(
        "SchemaVersionKey",
        &meta_string_key("SchemaVersionKey"),
        "6d536368656d615665ff7273696f6e4b6579ff0000000000000000f70000000000000073",
    );
    check(
        "write put short",
        &WriteRec::new(WriteType::Put, 0, Some(b"short_value".to_vec())).to_bytes(),
        "5000760b73686f72745f76616c7565",
    );
    check(
        "write delete",
        &WriteRec::new(WriteType::Delete, 1 << 20, None).to_bytes(),
        "44808040",
    );
    check(
        "write protected rollback",
        &WriteRec::new(WriteType::Rollback, 1 << 40, Some(b"p".to_vec())).to_bytes(),
        "52808080808020760170",
    );
    let mut w = WriteRec::new(WriteType::Put, 123, None);
    w.has_overlapped_rollback = true;
    w.gc_fence = Some(1234567);
    check(
        "write overlapped",
        &w.to_bytes(),
        "507b5246000000000012d687",
    );
    let mut w = WriteRec::new(WriteType::Lock, 456, None);
    w.last_change = Some((345, 11));
    check(
        "write last_change",
        &w.to_bytes(),
        "4cc8036c00000000000001590b",
    );
    let mut w = WriteRec::new(WriteType::Lock, 456, None);
    w.txn_source = 1;
    check("write txn_source", &w.to_bytes(), "4cc8035301");
    check(
        "lock",
        &LockRec::new(LockType::Put, b"pk", 1, 10).to_bytes(),
        "5004706b010a",
    );
    let mut l = LockRec::new(LockType::Put, b"pkpkpk", 111, 222);
    l.for_update_ts = 333;
    l.txn_size = 444;
    l.min_commit_ts = 555;
    check(
        "lock full",
        &l.to_bytes(),
        "500c706b706b706b6fde0166000000000000014d7400000000000001bc63000000000000022b",
    );
    let mut l = LockRec::new(LockType::Delete, b"pk", 1, 10);
    l.short_value = Some(b"short_value".to_vec());
    check(
        "lock delete short",
        &l.to_bytes(),
        "4404706b010a760b73686f72745f76616c7565",
    );
    check(
        "decimal 14,4",
        &decimal_bin("1234567890.1234", 14, 4),
        "810dfb38d204d2",
    );
    check(
        "decimal -14,4",
        &decimal_bin("-1234567890.1234", 14, 4),
        "7ef204c72dfb2d",
    );
    check("decimal 6,4", &decimal_bin("11.99", 6, 4), "8b26ac");
    check("decimal 3,2", &decimal_bin("3.14", 3, 2), "830e");
    check("decimal 2,1", &decimal_bin("-1.2", 2, 1), "7efd");
    assert_eq!(
        packed_time(2011, 11, 10, 11, 11, 11, 999999),
        1840446893366133311
    );
    assert_eq!(packed_time(2016, 6, 23, 11, 30, 45, 0), 0x1999aeb7ad000000);
    check("float 2.0", &cmp_f64(2.0), "c000000000000000");
    check("float -1.5", &cmp_f64(-1.5), "4007ffffffffffff");
    check("float 0", &cmp_f64(0.0), "8000000000000000");
    let c = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut v = Vec::new();
        f(&mut v);
        Some(v)
    };
    check(
        "row v2",
        &row_v2(
            &[
                (1, c(&|v| rc_int(v, 1000))),
                (33, None),
                (3, c(&|v| rc_int(v, 3))),
            ],
            None,
        ),
        "80000200010001032102000300e80303",
    );
    check(
        "row v2 large",
        &row_v2(
            &[
                (1, c(&|v| rc_int(v, 1000))),
                (356, c(&|v| rc_int(v, 2))),
                (33, None),
                (3, c(&|v| rc_int(v, 3))),
                (64123, c(&|v| rc_int(v, 5))),
            ],
            None,
        ),
        "8001040001000100000003000000640100007bfa00002100000002000000030000000400000005000000e803030205",
    );
    let mut dec = vec![6, 4];
    dec.extend_from_slice(&decimal_bin("11.99", 6, 4));
    check(
        "row v2 mixed",
        &row_v2(
            &[
                (1, c(&|v| rc_int(v, 100))),
                (2, Some(b"abc".to_vec())),
                (3, None),
                (4, Some(dec.clone())),
            ],
            None,
        ),
        "800003000100010204030100040009006461626306048b26ac",
    );
    check("row v2 empty", &row_v2(&[], None), "800000000000");
    check(
        "row v2 time",
        &row_v2(&[(16, c(&|v| rc_int(v, 14400000000000)))], None),
        "8000010000001008000080e2c2180d0000",
    );
    let mut d1 = vec![0x08];
    put_varint(&mut d1, 100);
    let mut d2 = vec![0x02];
    put_compact_bytes(&mut d2, b"abc");
    let mut d3 = vec![0x06, 1, 0];
    d3.extend_from_slice(&decimal_bin("1", 1, 0));
    check(
        "row v1",
        &row_v1(&[(1, d1), (2, d2), (3, d3)]),
        "080208c80108040206616263080606010081",
    );
    let (tc, b) = Jv::obj(&[("a", Jv::I64(2))]).to_binary();
    let mut j = vec![tc];
    j.extend_from_slice(&b);
    check(
        "json {a:2}",
        &j,
        "01010000001c0000001300000001000914000000610200000000000000",
    );
    let (tc, b) = Jv::obj(&[("k", Jv::Bool(true))]).to_binary();
    let mut j = vec![tc];
    j.extend_from_slice(&b);
    check(
        "json {k:true}",
        &j,
        "01010000001400000013000000010004010000006b",
    );
    let (tc, b) = Jv::s("hi").to_binary();
    let mut j = vec![tc];
    j.extend_from_slice(&b);
    check("json hi", &j, "0c026869");
    assert_eq!(
        Jv::obj(&[
            ("b", Jv::Arr(vec![Jv::I64(1), Jv::F64(2.0)])),
            ("a", Jv::F64(0.5))
        ])
        .to_tidb_string(),
        r#"{"a": 0.5, "b": [1, 2.0]}"#
    );
    assert_eq!(crc32_ieee_update(0, b"123456789"), 0xCBF4_3926);
    assert_eq!(base64_std(b"\x05"), "BQ==");
    assert_eq!(base64_std(b"foobar"), "Zm9vYmFy");
    // format-specs/br.md §6.1: CRC-64/XZ check values.
    assert_eq!(crc64_xz(b"123456789"), 0x995D_C9BB_DF19_39FA);
    assert_eq!(crc64_xz(b"hello world!"), 0x8483_C0FA_3260_7D61);
    assert_eq!(
        crc64_xz_update(crc64_xz(b"1234"), b"56789"),
        0x995D_C9BB_DF19_39FA
    );
    assert_eq!(crc64_xz(b""), 0);
    // FIPS 180-4 examples.
    check(
        "sha256 empty",
        &sha256(b""),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    );
    check(
        "sha256 abc",
        &sha256(b"abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
    check(
        "sha256 two blocks",
        &sha256(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    );
    // br.md §1.2/§8.1: the name hash of a file whose range starts at "test".
    assert!(hex::encode(sha256(b"test")).starts_with("9f86d081"));
}
