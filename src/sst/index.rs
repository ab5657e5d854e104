//! Index blocks: separator keys mapping to block handles, with the format_version 4 delta-encoded
//! values and the optional first key (kBinarySearchWithFirstKey). Used for the main index, index
//! partitions, the top level of a partitioned index, and the partitioned-filter index.
//! See format-specs/sst.md §8 (index blocks) and §10 (metaindex).

use serde::Serialize;

use super::format::{EntryFormat, EntryIter, FormatError};
use super::handle::{BlockHandle, TRAILER_LEN};
use crate::codec::varint;

/// Index type as recorded in `rocksdb.block.based.table.index.type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IndexType {
    BinarySearch,
    HashSearch,
    TwoLevel,
    BinarySearchWithFirstKey,
    Unknown(u32),
}

impl IndexType {
    pub fn from_u32(v: u32) -> IndexType {
        match v {
            0 => IndexType::BinarySearch,
            1 => IndexType::HashSearch,
            2 => IndexType::TwoLevel,
            3 => IndexType::BinarySearchWithFirstKey,
            x => IndexType::Unknown(x),
        }
    }
    pub fn name(self) -> String {
        match self {
            IndexType::BinarySearch => "binary_search".into(),
            IndexType::HashSearch => "hash_search".into(),
            IndexType::TwoLevel => "two_level".into(),
            IndexType::BinarySearchWithFirstKey => "binary_search_with_first_key".into(),
            IndexType::Unknown(x) => format!("unknown_{x}"),
        }
    }
}

/// How this table's index entries are encoded (from its properties and format version).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct IndexFormat {
    /// Keys are user keys rather than internal keys.
    pub user_keys: bool,
    /// Values are delta encoded and headers omit the value length.
    pub delta_values: bool,
    /// Values carry the block's first internal key.
    pub first_key: bool,
}

impl IndexFormat {
    fn entry_format(&self) -> EntryFormat {
        if self.delta_values {
            EntryFormat::IndexDelta {
                first_key: self.first_key,
            }
        } else {
            EntryFormat::Standard
        }
    }
}

/// One index entry, owned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexEntry {
    pub key: Vec<u8>,
    pub handle: BlockHandle,
    pub first_key: Option<Vec<u8>>,
    /// Offset of the entry within the index block.
    pub pos: usize,
}

fn decode_value(
    v: &[u8],
    delta: bool,
    prev: Option<BlockHandle>,
    first_key: bool,
    pos: usize,
) -> Result<(BlockHandle, Option<Vec<u8>>), FormatError> {
    let bad = |msg: &str| FormatError {
        pos,
        msg: msg.to_string(),
    };
    let (handle, mut n) = match (delta, prev) {
        (true, Some(p)) => {
            let (d, n) =
                varint::decode_i64(v).ok_or_else(|| bad("bad size delta in index value"))?;
            let size = (p.size as i64)
                .checked_add(d)
                .filter(|s| *s >= 0)
                .ok_or_else(|| bad("size delta gives a negative size"))?;
            let offset = p.offset.saturating_add(p.size).saturating_add(TRAILER_LEN);
            (BlockHandle::new(offset, size as u64), n)
        }
        (true, None) => return Err(bad("delta-encoded index value without a previous handle")),
        (false, _) => {
            BlockHandle::decode(v).ok_or_else(|| bad("bad block handle in index value"))?
        }
    };
    let fk = if first_key {
        let (len, m) = varint::decode_u32(&v[n..]).ok_or_else(|| bad("bad first-key length"))?;
        n += m;
        let len = len as usize;
        if len > v.len() - n {
            return Err(bad("first key runs past the value"));
        }
        let k = v[n..n + len].to_vec();
        n += len;
        Some(k)
    } else {
        None
    };
    let _ = n;
    Ok((handle, fk))
}

/// Decode every entry of an (uncompressed) index block.
pub fn decode_index_block(block: &[u8], fmt: IndexFormat) -> Result<Vec<IndexEntry>, FormatError> {
    let mut it = EntryIter::new(block, fmt.entry_format())?;
    let mut out: Vec<IndexEntry> = Vec::new();
    while let Some(e) = it.next() {
        let e = e?;
        let delta = fmt.delta_values && e.shared > 0;
        let prev = out.last().map(|x| x.handle);
        let (handle, first_key) = decode_value(e.value, delta, prev, fmt.first_key, e.pos)?;
        out.push(IndexEntry {
            key: e.key.to_vec(),
            handle,
            first_key,
            pos: e.pos,
        });
    }
    Ok(out)
}

/// Decode a metaindex block: names (bytewise ordered) to handles.
pub fn decode_metaindex(block: &[u8]) -> Result<Vec<(String, BlockHandle)>, FormatError> {
    let mut it = EntryIter::new(block, EntryFormat::Standard)?;
    let mut out = Vec::new();
    while let Some(e) = it.next() {
        let e = e?;
        let (h, _) = BlockHandle::decode(e.value).ok_or_else(|| FormatError {
            pos: e.pos,
            msg: "bad block handle in metaindex entry".into(),
        })?;
        out.push((String::from_utf8_lossy(e.key).into_owned(), h));
    }
    Ok(out)
}
