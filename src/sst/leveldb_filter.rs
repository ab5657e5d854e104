//! LevelDB's filter block and built-in bloom filter, read only as evidence of how a LevelDB table's
//! keys were stored: a database filters the user keys, a table written through the table API
//! filters the raw keys it was given. See format-specs/sst.md §14.2.

/// Metaindex name of LevelDB's built-in bloom filter block.
pub const BLOOM_FILTER_META: &str = "filter.leveldb.BuiltinBloomFilter2";

/// Seed of the bloom filter's hash.
const BLOOM_SEED: u32 = 0xbc9f_1d34;

pub use crate::codec::hash::leveldb_hash;

/// A decoded filter block: per-range filters over the data blocks that start in each
/// `2^base_lg`-byte range of the file.
pub struct FilterBlock<'a> {
    block: &'a [u8],
    /// Where the offset array starts (also where the filter bytes end).
    array: usize,
    count: usize,
    base_lg: u8,
}

impl<'a> FilterBlock<'a> {
    /// Parse the block's trailer: fixed32 offsets, fixed32 start of that array, one base_lg byte.
    pub fn parse(block: &'a [u8]) -> Option<FilterBlock<'a>> {
        let n = block.len();
        if n < 5 {
            return None;
        }
        let array = crate::codec::varint::fixed32(&block[n - 5..n - 1]) as usize;
        if array > n - 5 {
            return None;
        }
        Some(FilterBlock {
            block,
            array,
            count: (n - 5 - array) / 4,
            base_lg: block[n - 1],
        })
    }

    /// The filter that covers the data block starting at `block_offset`, if the block lists one.
    pub fn filter_for(&self, block_offset: u64) -> Option<&'a [u8]> {
        let i = usize::try_from(block_offset.checked_shr(self.base_lg as u32)?).ok()?;
        if i >= self.count {
            return None;
        }
        let at = |j: usize| {
            let p = self.array + 4 * j;
            crate::codec::varint::fixed32(&self.block[p..p + 4]) as usize
        };
        // The word after the last offset is the array's start: the end of the last filter.
        let (start, limit) = (at(i), at(i + 1));
        (start < limit && limit <= self.array).then(|| &self.block[start..limit])
    }
}

/// Whether `key` may be in the bloom filter `filter` (false: certainly not). `None` when the filter
/// uses an encoding this reader does not know (LevelDB treats those as a match).
pub fn bloom_may_match(filter: &[u8], key: &[u8]) -> Option<bool> {
    if filter.len() < 2 {
        return Some(false);
    }
    let probes = filter[filter.len() - 1];
    if probes > 30 {
        return None;
    }
    let bits = ((filter.len() - 1) * 8) as u32;
    let mut h = leveldb_hash(key, BLOOM_SEED);
    let delta = h.rotate_right(17);
    for _ in 0..probes {
        let bit = h % bits;
        if filter[(bit / 8) as usize] & (1 << (bit % 8)) == 0 {
            return Some(false);
        }
        h = h.wrapping_add(delta);
    }
    Some(true)
}

/// What the bloom filter of one data block says about its keys (format-specs/sst.md §14.2):
/// `Some(true)` if every key matches taken whole and at least one does not match with its last 8
/// bytes cut off (the filter was built over raw keys); `Some(false)` if every key matches with its
/// last 8 bytes cut off (built over user keys); `None` when it cannot tell.
pub fn filter_says_raw(filter: &[u8], keys: &[&[u8]]) -> Option<bool> {
    if keys.is_empty() {
        return None;
    }
    let mut whole_all = true;
    let mut stripped_all = true;
    let mut stripped_miss = false;
    for k in keys {
        whole_all &= bloom_may_match(filter, k)?;
        let stripped = k.len() >= 8 && bloom_may_match(filter, &k[..k.len() - 8])?;
        stripped_all &= stripped;
        stripped_miss |= !stripped;
    }
    if whole_all && stripped_miss {
        Some(true)
    } else if stripped_all {
        Some(false)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Build a filter the way LevelDB's bloom policy does, for the tests.
    fn build(keys: &[&[u8]], bits_per_key: usize) -> Vec<u8> {
        let k = ((bits_per_key as f64 * 0.69) as usize).clamp(1, 30);
        let bits = (keys.len() * bits_per_key).max(64);
        let bytes = bits.div_ceil(8);
        let bits = bytes * 8;
        let mut f = vec![0u8; bytes];
        for key in keys {
            let mut h = leveldb_hash(key, BLOOM_SEED);
            let delta = h.rotate_right(17);
            for _ in 0..k {
                let b = (h as usize) % bits;
                f[b / 8] |= 1 << (b % 8);
                h = h.wrapping_add(delta);
            }
        }
        f.push(k as u8);
        f
    }

    #[test]
    fn hash_tail_bytes_are_unsigned() {
        // Differs from RocksDB's sign-extending legacy hash exactly when a tail byte is >= 0x80.
        assert_eq!(
            leveldb_hash(b"abcd", 1),
            crate::codec::hash::legacy_hash(b"abcd", 1)
        );
        assert_ne!(
            leveldb_hash(b"\x80", 0),
            crate::codec::hash::legacy_hash(b"\x80", 0)
        );
        assert_eq!(leveldb_hash(b"", 0xbc9f_1d34), 0xbc9f_1d34);
    }

    #[test]
    fn filter_tells_raw_from_user_keys() {
        let keys: Vec<Vec<u8>> = (0..50u64)
            .map(|i| {
                let mut k = format!("key{i:05}").into_bytes();
                k.extend_from_slice(&((i << 8) | 1).to_le_bytes());
                k
            })
            .collect();
        let whole: Vec<&[u8]> = keys.iter().map(|k| k.as_slice()).collect();
        let users: Vec<&[u8]> = keys.iter().map(|k| &k[..k.len() - 8]).collect();
        let raw_filter = build(&whole, 10);
        let user_filter = build(&users, 10);
        assert_eq!(filter_says_raw(&raw_filter, &whole), Some(true));
        assert_eq!(filter_says_raw(&user_filter, &whole), Some(false));
    }

    #[test]
    fn filter_block_maps_offsets_to_filters() {
        // Two filters: [0, 3) for blocks in [0, 2048), [3, 5) for [2048, 4096).
        let mut b = vec![1, 2, 3, 4, 5];
        for o in [0u32, 3] {
            b.extend_from_slice(&o.to_le_bytes());
        }
        b.extend_from_slice(&5u32.to_le_bytes());
        b.push(11);
        let f = FilterBlock::parse(&b).unwrap();
        assert_eq!(f.filter_for(100), Some(&[1u8, 2, 3][..]));
        assert_eq!(f.filter_for(3000), Some(&[4u8, 5][..]));
        assert_eq!(f.filter_for(5000), None);
    }
}
