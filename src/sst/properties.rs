//! The properties block: built-in table properties (varint64 numbers and strings), well-known
//! user-collected ones (fixed-width), and TiKV's collectors (big-endian u64).
//! See format-specs/sst.md §11 (properties block).

use serde::Serialize;

use super::format::{EntryFormat, EntryIter, FormatError};
use crate::codec::varint;

/// One property exactly as stored, with the position of its value inside the block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawProperty {
    pub name: Vec<u8>,
    pub value: Vec<u8>,
    /// Offset of the value bytes within the (uncompressed) properties block.
    pub value_pos: usize,
}

/// A property value decoded by the encoding its name implies.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum PropValue {
    Int(u64),
    Text(String),
    /// Raw bytes (hex) for values we do not decode, or that did not decode as expected.
    Raw {
        hex: String,
    },
    /// A structured value (TiKV's anchor indexes, RocksDB's seqno-to-time map).
    Structured(serde_json::Value),
}

/// Decoded properties in block order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Properties {
    pub raw: Vec<RawProperty>,
}

pub const GLOBAL_SEQNO: &str = "rocksdb.external_sst_file.global_seqno";
pub const EXTERNAL_VERSION: &str = "rocksdb.external_sst_file.version";
pub const INDEX_TYPE: &str = "rocksdb.block.based.table.index.type";

const VARINT_PROPS: &[&str] = &[
    "rocksdb.original.file.number",
    "rocksdb.raw.key.size",
    "rocksdb.raw.value.size",
    "rocksdb.data.size",
    "rocksdb.index.size",
    "rocksdb.index.partitions",
    "rocksdb.top-level.index.size",
    "rocksdb.index.key.is.user.key",
    "rocksdb.index.value.is.delta.encoded",
    "rocksdb.num.entries",
    "rocksdb.num.filter_entries",
    "rocksdb.deleted.keys",
    "rocksdb.merge.operands",
    "rocksdb.num.range-deletions",
    "rocksdb.num.data.blocks",
    "rocksdb.filter.size",
    "rocksdb.format.version",
    "rocksdb.fixed.key.length",
    "rocksdb.column.family.id",
    "rocksdb.creation.time",
    "rocksdb.oldest.key.time",
    "rocksdb.newest.key.time",
    "rocksdb.file.creation.time",
    "rocksdb.sample_for_compression.slow.data.size",
    "rocksdb.sample_for_compression.fast.data.size",
    "rocksdb.tail.start.offset",
    "rocksdb.user.defined.timestamps.persisted",
    "rocksdb.key.largest.seqno",
    "rocksdb.key.smallest.seqno",
    "rocksdb.data.block.restart.interval",
    "rocksdb.index.block.restart.interval",
    "rocksdb.separate.key.value.in.data.block",
    "rocksdb.num.merge.operands",
];

const TIKV_U64_PROPS: &[&str] = &[
    "tikv.min_ts",
    "tikv.max_ts",
    "tikv.num_rows",
    "tikv.num_puts",
    "tikv.num_deletes",
    "tikv.num_versions",
    "tikv.max_row_versions",
    "tikv.num_errors",
    "tikv.max_expire_ts",
    "tikv.min_expire_ts",
    "tikv.total_size",
];

fn hexval(v: &[u8]) -> PropValue {
    PropValue::Raw {
        hex: hex::encode(v),
    }
}

/// Decode one property value by its name.
pub fn decode_value(name: &str, v: &[u8]) -> PropValue {
    if VARINT_PROPS.contains(&name) {
        return match varint::decode_u64(v) {
            Some((n, used)) if used == v.len() => PropValue::Int(n),
            _ => hexval(v),
        };
    }
    match name {
        INDEX_TYPE | EXTERNAL_VERSION if v.len() == 4 => {
            return PropValue::Int(varint::fixed32(v) as u64)
        }
        GLOBAL_SEQNO if v.len() == 8 => return PropValue::Int(varint::fixed64(v)),
        _ => {}
    }
    if TIKV_U64_PROPS.contains(&name) && v.len() == 8 {
        let mut b = v;
        return take_be_u64(&mut b).map_or_else(|| hexval(v), PropValue::Int);
    }
    let structured = match name {
        "rocksdb.seqno.time.map" => decode_seqno_time_map(v),
        "tikv.range_index" => decode_anchors(v, ["size", "keys"]),
        "tikv.size_index" | "tikv.rows_index" => decode_anchors(v, ["size", "offset"]),
        "tikv.delete_index" => decode_be_u64s(v),
        _ => None,
    };
    if let Some(j) = structured {
        return PropValue::Structured(j);
    }
    if name == "rocksdb.seqno.time.map" || name.starts_with("tikv.") || name.starts_with("TitanDB.")
    {
        return hexval(v);
    }
    match std::str::from_utf8(v) {
        Ok(s) if !s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') => {
            PropValue::Text(s.to_string())
        }
        _ => hexval(v),
    }
}

fn take_be_u64(v: &mut &[u8]) -> Option<u64> {
    let (head, rest) = v.split_first_chunk::<8>()?;
    *v = rest;
    Some(u64::from_be_bytes(*head))
}

/// TiKV anchor lists: repeated { BE u64 key length, key, BE u64, BE u64 } (see format-specs/sst.md
/// §11.4; TiKV `components/engine_rocks/src/properties.rs`).
fn decode_anchors(mut v: &[u8], fields: [&str; 2]) -> Option<serde_json::Value> {
    let mut out = Vec::new();
    while !v.is_empty() {
        let klen = take_be_u64(&mut v)?;
        if klen > v.len() as u64 {
            return None;
        }
        let (k, rest) = v.split_at(klen as usize);
        v = rest;
        let a = take_be_u64(&mut v)?;
        let b = take_be_u64(&mut v)?;
        let mut m = serde_json::Map::new();
        m.insert("key".into(), hex::encode(k).into());
        m.insert(fields[0].into(), a.into());
        m.insert(fields[1].into(), b.into());
        out.push(serde_json::Value::Object(m));
    }
    Some(serde_json::Value::Array(out))
}

fn decode_be_u64s(mut v: &[u8]) -> Option<serde_json::Value> {
    let mut out = Vec::new();
    while !v.is_empty() {
        out.push(serde_json::Value::from(take_be_u64(&mut v)?));
    }
    Some(serde_json::Value::Array(out))
}

/// RocksDB's seqno-to-time map: varint64 count, then (seqno delta, time delta) varint64 pairs.
fn decode_seqno_time_map(v: &[u8]) -> Option<serde_json::Value> {
    let (n, mut p) = varint::decode_u64(v)?;
    if n > v.len() as u64 {
        return None;
    }
    let (mut seq, mut time) = (0u64, 0u64);
    let mut out = Vec::new();
    for _ in 0..n {
        let (ds, a) = varint::decode_u64(&v[p..])?;
        p += a;
        let (dt, b) = varint::decode_u64(&v[p..])?;
        p += b;
        seq = seq.wrapping_add(ds);
        time = time.wrapping_add(dt);
        out.push(serde_json::json!({"seqno": seq, "time": time}));
    }
    (p == v.len()).then_some(serde_json::Value::Array(out))
}

impl Properties {
    /// Parse the uncompressed properties block. Keys must be strictly increasing (RocksDB's check).
    pub fn parse(block: &[u8]) -> Result<Properties, FormatError> {
        let mut it = EntryIter::new(block, EntryFormat::Standard)?;
        let mut raw: Vec<RawProperty> = Vec::new();
        while let Some(e) = it.next() {
            let e = e?;
            if let Some(prev) = raw.last() {
                if prev.name.as_slice() >= e.key {
                    return Err(FormatError {
                        pos: e.pos,
                        msg: "property names are not in increasing order".into(),
                    });
                }
            }
            let value_pos = e.value.as_ptr() as usize - block.as_ptr() as usize;
            raw.push(RawProperty {
                name: e.key.to_vec(),
                value: e.value.to_vec(),
                value_pos,
            });
        }
        Ok(Properties { raw })
    }

    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.raw
            .iter()
            .find(|p| p.name == name.as_bytes())
            .map(|p| p.value.as_slice())
    }

    pub fn get_raw(&self, name: &str) -> Option<&RawProperty> {
        self.raw.iter().find(|p| p.name == name.as_bytes())
    }

    /// A numeric property, by its proper encoding.
    pub fn int(&self, name: &str) -> Option<u64> {
        match decode_value(name, self.get(name)?) {
            PropValue::Int(n) => Some(n),
            _ => None,
        }
    }

    pub fn text(&self, name: &str) -> Option<String> {
        self.get(name)
            .map(|v| String::from_utf8_lossy(v).into_owned())
    }

    /// All properties, decoded, in block order.
    pub fn decoded(&self) -> Vec<(String, PropValue)> {
        self.raw
            .iter()
            .map(|p| {
                let name = String::from_utf8_lossy(&p.name).into_owned();
                let v = decode_value(&name, &p.value);
                (name, v)
            })
            .collect()
    }

    pub fn num_entries(&self) -> Option<u64> {
        self.int("rocksdb.num.entries")
    }
    pub fn num_range_deletions(&self) -> Option<u64> {
        self.int("rocksdb.num.range-deletions")
    }
    pub fn num_data_blocks(&self) -> Option<u64> {
        self.int("rocksdb.num.data.blocks")
    }
    pub fn index_type(&self) -> u32 {
        self.int(INDEX_TYPE).unwrap_or(0) as u32
    }
    pub fn index_key_is_user_key(&self) -> bool {
        self.int("rocksdb.index.key.is.user.key").unwrap_or(0) != 0
    }
    pub fn index_value_is_delta_encoded(&self) -> bool {
        self.int("rocksdb.index.value.is.delta.encoded")
            .unwrap_or(0)
            != 0
    }
    /// The global sequence number RocksDB applies to an ingested (SstFileWriter v2) file, if any.
    pub fn global_seqno(&self) -> Option<u64> {
        let version = self.int(EXTERNAL_VERSION)?;
        if version < 2 {
            return None;
        }
        match self.int(GLOBAL_SEQNO) {
            Some(0) | None => None,
            Some(u64::MAX) => None,
            Some(s) => Some(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tikv_anchor_indexes_decode() {
        let mut v = Vec::new();
        for (k, a, b) in [(&b"zk1"[..], 10u64, 1u64), (b"zk2", 30, 2)] {
            v.extend_from_slice(&(k.len() as u64).to_be_bytes());
            v.extend_from_slice(k);
            v.extend_from_slice(&a.to_be_bytes());
            v.extend_from_slice(&b.to_be_bytes());
        }
        let PropValue::Structured(j) = decode_value("tikv.range_index", &v) else {
            panic!()
        };
        assert_eq!(j[1]["key"], "7a6b32");
        assert_eq!(j[1]["size"], 30);
        assert_eq!(j[1]["keys"], 2);
        // A truncated list is shown raw, not half-decoded.
        assert!(matches!(
            decode_value("tikv.range_index", &v[..v.len() - 1]),
            PropValue::Raw { .. }
        ));
        assert_eq!(
            decode_value("tikv.num_rows", &7u64.to_be_bytes()),
            PropValue::Int(7)
        );
    }

    #[test]
    fn seqno_time_map_decodes_deltas() {
        let v = [2u8, 5, 100, 3, 10];
        let PropValue::Structured(j) = decode_value("rocksdb.seqno.time.map", &v) else {
            panic!()
        };
        assert_eq!(
            j,
            serde_json::json!([{"seqno": 5, "time": 100}, {"seqno": 8, "time": 110}])
        );
    }
}
