//! RocksDB's 32-bit MurmurHash1-style hash (`util/hash.cc` `Hash`), used by the data-block hash
//! index (seed 397) and legacy Bloom filters, and LevelDB's variant of it (bloom filters). See
//! format-specs/sst.md §7.3, §14.2.

const M: u32 = 0xc6a4_a793;

/// The legacy 32-bit hash. Tail bytes are sign-extended, as RocksDB does on x86.
pub fn legacy_hash(data: &[u8], seed: u32) -> u32 {
    hash32(data, seed, true)
}

/// LevelDB's 32-bit hash (`util/hash.cc`, sst.md §14.2): the same function, but the 1..3 tail
/// bytes are added as unsigned values.
pub fn leveldb_hash(data: &[u8], seed: u32) -> u32 {
    hash32(data, seed, false)
}

/// The shared body: little-endian words multiplied in, then the tail bytes (sign-extended or not).
fn hash32(data: &[u8], seed: u32, signed_tail: bool) -> u32 {
    let mut h = seed ^ (data.len() as u32).wrapping_mul(M);
    let mut chunks = data.chunks_exact(4);
    for w in &mut chunks {
        h = h.wrapping_add(u32::from_le_bytes([w[0], w[1], w[2], w[3]]));
        h = h.wrapping_mul(M);
        h ^= h >> 16;
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        let ext = |b: u8| {
            if signed_tail {
                (b as i8) as i32 as u32
            } else {
                b as u32
            }
        };
        for (i, &b) in tail.iter().enumerate() {
            h = h.wrapping_add(ext(b) << (8 * i));
        }
        h = h.wrapping_mul(M);
        h ^= h >> 24;
    }
    h
}

/// Seed of the data-block hash index.
pub const DATA_BLOCK_HASH_SEED: u32 = 397;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_tail_sign_extension() {
        assert_eq!(legacy_hash(b"", 0), 0);
        // Bytes >= 0x80 are sign-extended, so they differ from a zero-extending implementation.
        let a = legacy_hash(&[0x80], 1);
        let mut h = 1u32 ^ M;
        h = h.wrapping_add(0x80);
        h = h.wrapping_mul(M);
        h ^= h >> 24;
        assert_ne!(a, h);
    }
}
