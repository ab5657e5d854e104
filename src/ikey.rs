//! Internal keys: a user key followed by 8 bytes packing (sequence << 8 | value type).
//! Shared by every file format that stores keys (SST, WAL, MANIFEST). See format-specs/internal-key.md §1-§4.

use std::borrow::Cow;
use std::cmp::Ordering;

/// Number of trailing bytes an internal key adds to the user key.
pub const SUFFIX_LEN: usize = 8;

/// Largest sequence number RocksDB can store (56 bits).
pub const MAX_SEQ: u64 = (1 << 56) - 1;

/// A decoded internal key, borrowing the user key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParsedKey<'a> {
    pub user_key: &'a [u8],
    pub seq: u64,
    pub vtype: u8,
}

/// Split an internal key. `None` if it is shorter than the 8-byte suffix.
#[inline]
pub fn parse(ikey: &[u8]) -> Option<ParsedKey<'_>> {
    if ikey.len() < SUFFIX_LEN {
        return None;
    }
    let (user_key, tail) = ikey.split_at(ikey.len() - SUFFIX_LEN);
    let packed = crate::codec::varint::fixed64(tail);
    Some(ParsedKey {
        user_key,
        seq: packed >> 8,
        vtype: packed as u8,
    })
}

/// Value type codes (upstream RocksDB numbering; see the spec for the TiKV fork's differences).
pub mod vtype {
    pub const DELETION: u8 = 0x00;
    pub const VALUE: u8 = 0x01;
    pub const MERGE: u8 = 0x02;
    pub const SINGLE_DELETION: u8 = 0x07;
    pub const RANGE_DELETION: u8 = 0x0f;
    pub const BLOB_INDEX: u8 = 0x11;
    pub const DELETION_WITH_TIMESTAMP: u8 = 0x14;
    pub const WIDE_COLUMN_ENTITY: u8 = 0x16;
    pub const VALUE_PREFERRED_SEQNO: u8 = 0x18;
}

/// The dump-contract name of a value type as it appears in a table.
pub fn type_name(t: u8) -> Cow<'static, str> {
    Cow::Borrowed(match t {
        vtype::DELETION => "delete",
        vtype::VALUE => "put",
        vtype::MERGE => "merge",
        vtype::SINGLE_DELETION => "single_delete",
        vtype::RANGE_DELETION => "range_delete",
        vtype::BLOB_INDEX => "blob_index",
        vtype::DELETION_WITH_TIMESTAMP => "delete_with_timestamp",
        vtype::WIDE_COLUMN_ENTITY => "entity",
        vtype::VALUE_PREFERRED_SEQNO => "timed_put",
        other => return Cow::Owned(format!("type_0x{other:02x}")),
    })
}

/// True for the value types that may legitimately appear in an SST data block.
pub fn is_table_point_type(t: u8) -> bool {
    matches!(
        t,
        vtype::DELETION
            | vtype::VALUE
            | vtype::MERGE
            | vtype::SINGLE_DELETION
            | vtype::BLOB_INDEX
            | vtype::DELETION_WITH_TIMESTAMP
            | vtype::WIDE_COLUMN_ENTITY
            | vtype::VALUE_PREFERRED_SEQNO
            | 0x19 // native BlobDB index in TiKV's fork
    )
}

/// How user keys compare, from the table's `rocksdb.comparator` property.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserComparator {
    Bytewise,
    ReverseBytewise,
    /// `*.u64ts`: the last 8 bytes are a little-endian timestamp, ordered newest first.
    BytewiseU64Ts,
    ReverseBytewiseU64Ts,
    /// A comparator we do not implement: ordering cannot be verified.
    Unknown,
}

impl UserComparator {
    pub fn from_name(name: &str) -> UserComparator {
        match name {
            "leveldb.BytewiseComparator" => UserComparator::Bytewise,
            "rocksdb.ReverseBytewiseComparator" => UserComparator::ReverseBytewise,
            "leveldb.BytewiseComparator.u64ts" => UserComparator::BytewiseU64Ts,
            "rocksdb.ReverseBytewiseComparator.u64ts" => UserComparator::ReverseBytewiseU64Ts,
            _ => UserComparator::Unknown,
        }
    }

    /// Compare two user keys; `None` when this comparator cannot be evaluated.
    pub fn compare_user(self, a: &[u8], b: &[u8]) -> Option<Ordering> {
        fn split_ts(k: &[u8]) -> (&[u8], u64) {
            if k.len() >= 8 {
                let (u, t) = k.split_at(k.len() - 8);
                (u, crate::codec::varint::fixed64(t))
            } else {
                (k, 0)
            }
        }
        Some(match self {
            UserComparator::Bytewise => a.cmp(b),
            UserComparator::ReverseBytewise => b.cmp(a),
            UserComparator::BytewiseU64Ts | UserComparator::ReverseBytewiseU64Ts => {
                let (ua, ta) = split_ts(a);
                let (ub, tb) = split_ts(b);
                let o = if self == UserComparator::BytewiseU64Ts {
                    ua.cmp(ub)
                } else {
                    ub.cmp(ua)
                };
                o.then(tb.cmp(&ta))
            }
            UserComparator::Unknown => return None,
        })
    }

    /// Compare internal keys: user key ascending, then (seq, type) descending.
    pub fn compare_internal(self, a: &[u8], b: &[u8]) -> Option<Ordering> {
        let (pa, pb) = (parse(a)?, parse(b)?);
        let o = self.compare_user(pa.user_key, pb.user_key)?;
        let packed = |p: &ParsedKey| (p.seq << 8) | p.vtype as u64;
        Some(o.then(packed(&pb).cmp(&packed(&pa))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ik(user: &[u8], seq: u64, t: u8) -> Vec<u8> {
        let mut v = user.to_vec();
        v.extend_from_slice(&((seq << 8) | t as u64).to_le_bytes());
        v
    }

    #[test]
    fn parse_and_order() {
        let k = ik(b"abc", 42, vtype::MERGE);
        let p = parse(&k).unwrap();
        assert_eq!((p.user_key, p.seq, p.vtype), (&b"abc"[..], 42, 2));
        assert!(parse(b"short").is_none());
        let c = UserComparator::Bytewise;
        // Newer sequence numbers sort first for the same user key.
        assert_eq!(
            c.compare_internal(&ik(b"a", 9, 1), &ik(b"a", 3, 1)),
            Some(Ordering::Less)
        );
        assert_eq!(
            c.compare_internal(&ik(b"a", 1, 1), &ik(b"b", 9, 1)),
            Some(Ordering::Less)
        );
        assert_eq!(UserComparator::Unknown.compare_user(b"a", b"b"), None);
        assert_eq!(type_name(0x42), "type_0x42");
    }
}
