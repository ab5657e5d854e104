//! The properties block: built-in table properties (varint64 numbers and strings), well-known
//! user-collected ones (fixed-width), and TiKV's collectors (big-endian u64).
//! See format-specs/sst.md (properties block).

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
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum PropValue {
    Int(u64),
    Text(String),
    /// Raw bytes (hex) for values we do not decode, or that did not decode as expected.
    Raw {
        hex: String,
    },
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
        return PropValue::Int(u64::from_be_bytes(v.try_into().unwrap_or([0; 8])));
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
