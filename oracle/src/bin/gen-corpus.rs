//! gen-corpus: writes the RocksDB-11.8.1 part of corpus/sst/ with real RocksDB
//! (DB flushes and SstFileWriter, through the rocksdb crate), and for each
//! NAME.sst writes NAME.expected.jsonl produced by the oracle dumper.
//! Starts corpus/sst/MANIFEST.tsv afresh (corpus/gen-old.sh and
//! corpus/gen-leveldb.sh append their rows).
//!
//! Usage: cargo run -p rockrescue-oracle --bin gen-corpus [-- OUT_DIR]
//! Content is deterministic (fixed seeds); file bytes still differ between
//! runs in embedded DB/session ids, host name and timestamps.
use rockrescue_oracle::gen::{self, text_value, CfSpec, Op, Rng};
use rockrescue_oracle::EntityRecord;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

enum How {
    Flush(Vec<Op>),
    SstWriter(Vec<Op>),
    Entities(Vec<EntityRecord>),
    /// (cf name, cf options, ops); the file names get "-<cf>" appended.
    MultiCf(Vec<(String, String, Vec<Op>)>),
}

struct Case {
    name: &'static str,
    covers: &'static str,
    options: String,
    how: How,
}

fn k(i: usize) -> Vec<u8> {
    format!("key{i:08}").into_bytes()
}

/// n puts of key00000000.. with compressible values of length in [lo, hi].
fn puts(seed: u64, n: usize, lo: usize, hi: usize) -> Vec<Op> {
    let mut r = Rng::new(seed);
    (0..n)
        .map(|i| {
            let len = r.range(lo as u64, hi as u64) as usize;
            Op::Put(k(i), text_value(&mut r, len))
        })
        .collect()
}

fn bbt(table: &str) -> String {
    format!("block_based_table_factory={{{table}}}")
}

fn opts(compression: &str, table: &str) -> String {
    format!("compression={compression};{}", bbt(table))
}

/// Puts, overwrites, deletes, single deletes and merges with snapshots in
/// between so that several versions of a user key survive the flush.
fn mixed_ops(seed: u64) -> Vec<Op> {
    let mut r = Rng::new(seed);
    let mut ops = Vec::new();
    for i in 0..400 {
        let len = r.range(0, 60) as usize;
        ops.push(Op::Put(k(i), text_value(&mut r, len)));
    }
    ops.push(Op::Snapshot);
    for i in (0..400).step_by(7) {
        ops.push(Op::Delete(k(i)));
    }
    // single deletes of keys that were put exactly once
    for i in (3..400)
        .step_by(11)
        .filter(|i| i % 7 != 0 && i % 5 != 1 && (i - 2) % 13 != 0)
    {
        ops.push(Op::SingleDelete(k(i)));
    }
    ops.push(Op::Snapshot);
    for i in (1..400).step_by(5) {
        ops.push(Op::Merge(k(i), format!("m{i}a").into_bytes()));
    }
    ops.push(Op::Snapshot);
    for i in (1..400).step_by(10) {
        ops.push(Op::Merge(k(i), format!("m{i}b").into_bytes()));
        let len = r.range(1, 40) as usize;
        ops.push(Op::Put(k(i + 1000), text_value(&mut r, len)));
    }
    // deletes of keys that never existed
    for i in 0..20 {
        ops.push(Op::Delete(format!("zz-absent-{i:03}").into_bytes()));
    }
    ops.push(Op::Snapshot);
    for i in (2..400).step_by(13) {
        let len = r.range(0, 30) as usize;
        ops.push(Op::Put(k(i), text_value(&mut r, len)));
    }
    ops
}

fn range_del_ops(seed: u64) -> Vec<Op> {
    let mut r = Rng::new(seed);
    let mut ops = Vec::new();
    for i in 0..600 {
        let len = r.range(5, 80) as usize;
        ops.push(Op::Put(k(i), text_value(&mut r, len)));
    }
    ops.push(Op::Snapshot);
    ops.push(Op::DeleteRange(k(10), k(50)));
    ops.push(Op::DeleteRange(k(40), k(90))); // overlaps the previous one
    ops.push(Op::Snapshot);
    ops.push(Op::DeleteRange(k(300), k(301)));
    ops.push(Op::DeleteRange(b"a".to_vec(), b"b".to_vec())); // covers nothing
    ops.push(Op::DeleteRange(k(590), b"zzz".to_vec()));
    for i in (20..120).step_by(9) {
        ops.push(Op::Put(k(i), format!("after-range-{i}").into_bytes()));
    }
    ops.push(Op::Delete(k(200)));
    ops
}

fn sst_writer_ops(seed: u64, with_ranges: bool) -> Vec<Op> {
    let mut r = Rng::new(seed);
    let mut ops = Vec::new();
    for i in 0..500 {
        let key = k(i);
        match i % 10 {
            3 => ops.push(Op::Delete(key)),
            6 | 7 => ops.push(Op::Merge(key, format!("operand-{i}").into_bytes())),
            _ => {
                let len = r.range(0, 120) as usize;
                ops.push(Op::Put(key, text_value(&mut r, len)))
            }
        }
    }
    if with_ranges {
        // deliberately unsorted and overlapping: stored raw, in this order
        ops.push(Op::DeleteRange(k(400), k(450)));
        ops.push(Op::DeleteRange(k(10), k(20)));
        ops.push(Op::DeleteRange(k(15), k(30)));
        ops.push(Op::DeleteRange(b"".to_vec(), k(2)));
        ops.push(Op::DeleteRange(k(999), b"\xff\xff".to_vec()));
    }
    ops
}

fn big_value_ops(seed: u64, full: bool) -> Vec<Op> {
    let mut r = Rng::new(seed);
    let mut ops = Vec::new();
    for i in 0..40 {
        let len = r.range(1, 100) as usize;
        ops.push(Op::Put(k(i * 2), text_value(&mut r, len)));
    }
    ops.push(Op::Put(k(21), text_value(&mut r, 70_000))); // > 64 KiB, compressible
    if full {
        ops.push(Op::Put(k(11), r.bytes(65_536))); // exactly 64 KiB, random
        ops.push(Op::Put(k(31), r.bytes(100_001))); // > 64 KiB, random
    }
    ops
}

fn empty_value_ops() -> Vec<Op> {
    let mut ops = vec![Op::Put(Vec::new(), Vec::new())]; // empty key, empty value
    for i in 0..300 {
        let v = if i % 3 == 0 {
            format!("v{i}").into_bytes()
        } else {
            Vec::new()
        };
        ops.push(Op::Put(k(i), v));
    }
    ops.push(Op::Merge(b"merge-empty".to_vec(), Vec::new()));
    ops
}

fn binary_key_ops(seed: u64) -> Vec<Op> {
    let mut r = Rng::new(seed);
    let mut ops = Vec::new();
    for b in 0..=255u8 {
        ops.push(Op::Put(vec![b], vec![b, !b]));
        let n = r.range(0, 24) as usize;
        ops.push(Op::Put(vec![b, 0x00, 0xff, b], r.bytes(n)));
    }
    ops.push(Op::Put(vec![0u8; 40], b"zeros".to_vec()));
    ops.push(Op::Put(vec![0xffu8; 40], b"ones".to_vec()));
    for _ in 0..300 {
        let kl = r.range(1, 48) as usize;
        let key = r.bytes(kl);
        let vl = r.range(0, 64) as usize;
        ops.push(Op::Put(key, r.bytes(vl)));
    }
    ops.push(Op::Delete(vec![0x00]));
    ops.push(Op::DeleteRange(vec![0x10], vec![0x10, 0x00]));
    ops
}

fn hash_prefix_ops(seed: u64) -> Vec<Op> {
    let mut r = Rng::new(seed);
    let mut ops = Vec::new();
    for p in 0..20 {
        for j in 0..20 {
            let len = r.range(10, 40) as usize;
            ops.push(Op::Put(
                format!("p{p:03}-{j:05}").into_bytes(),
                text_value(&mut r, len),
            ));
        }
    }
    ops
}

fn uniform_ops(n: usize) -> Vec<Op> {
    (0..n as u64)
        .map(|i| {
            Op::Put(
                (i * 1000).to_be_bytes().to_vec(),
                format!("u{i}").into_bytes(),
            )
        })
        .collect()
}

fn entity_records(seed: u64) -> Vec<EntityRecord> {
    let mut r = Rng::new(seed);
    let mut v = Vec::new();
    for i in 0..200 {
        let key = k(i);
        if i % 2 == 0 {
            let cols = (0..(i % 4))
                .map(|c| (format!("col{c}").into_bytes(), text_value(&mut r, 10 + c)))
                .collect();
            // an entity with a default ("") column as well for i % 8 == 0
            let mut cols: Vec<(Vec<u8>, Vec<u8>)> = cols;
            if i % 8 == 0 {
                cols.insert(0, (Vec::new(), b"default-col".to_vec()));
            }
            v.push(EntityRecord::Entity(key, cols));
        } else {
            let len = r.range(0, 50) as usize;
            v.push(EntityRecord::Put(key, text_value(&mut r, len)));
        }
    }
    v
}

fn cases() -> Vec<Case> {
    let t4k = |fv: u32, cks: &str| format!("format_version={fv};checksum={cks};block_size=4096");
    vec![
        Case { name: "fv2-crc32c-snappy-4k", covers: "format_version 2 (no index delta encoding), kCRC32c, snappy, 4 KiB blocks",
            options: opts("kSnappyCompression", &t4k(2, "kCRC32c")), how: How::Flush(puts(1, 400, 10, 100)) },
        Case { name: "fv3-xxhash-zlib-4k", covers: "format_version 3 (index keys are user keys), kxxHash, zlib",
            options: opts("kZlibCompression", &t4k(3, "kxxHash")), how: How::Flush(puts(2, 400, 10, 100)) },
        Case { name: "fv4-xxhash64-lz4-4k", covers: "format_version 4 (delta-encoded index values), kxxHash64, lz4, index_block_restart_interval 4",
            options: opts("kLZ4Compression", &(t4k(4, "kxxHash64") + ";index_block_restart_interval=4")), how: How::Flush(puts(3, 400, 10, 100)) },
        Case { name: "fv5-xxh3-zstd-4k", covers: "format_version 5, kXXH3, zstd",
            options: opts("kZSTD", &t4k(5, "kXXH3")), how: How::Flush(puts(4, 400, 10, 100)) },
        Case { name: "fv6-xxh3-lz4hc-4k", covers: "format_version 6 (checksummed footer, context checksums), kXXH3, lz4hc",
            options: opts("kLZ4HCCompression", &t4k(6, "kXXH3")), how: How::Flush(puts(5, 400, 10, 100)) },
        Case { name: "fv7-xxh3-bzip2-4k", covers: "format_version 7, kXXH3, bzip2",
            options: opts("kBZip2Compression", &t4k(7, "kXXH3")), how: How::Flush(puts(6, 400, 10, 100)) },
        Case { name: "fv7-nochecksum-none-4k", covers: "format_version 7, kNoChecksum, no compression",
            options: opts("kNoCompression", &t4k(7, "kNoChecksum")), how: How::Flush(puts(7, 400, 10, 100)) },
        Case { name: "fv6-crc32c-none-256", covers: "format_version 6, kCRC32c, no compression, 256-byte blocks (many blocks)",
            options: opts("kNoCompression", "format_version=6;checksum=kCRC32c;block_size=256"), how: How::Flush(puts(8, 500, 0, 60)) },
        Case { name: "fv5-xxhash64-snappy-64k", covers: "format_version 5, kxxHash64, snappy, 64 KiB blocks",
            options: opts("kSnappyCompression", "format_version=5;checksum=kxxHash64;block_size=65536"), how: How::Flush(puts(9, 900, 30, 120)) },
        Case { name: "fv7-xxhash-zlib-64k", covers: "format_version 7, kxxHash, zlib, 64 KiB blocks",
            options: opts("kZlibCompression", "format_version=7;checksum=kxxHash;block_size=65536"), how: How::Flush(puts(10, 700, 50, 150)) },
        Case { name: "fv5-zstd-dict", covers: "zstd with a dictionary (max_dict_bytes 4096, zstd_max_train_bytes 65536), format_version 5",
            options: format!("compression=kZSTD;compression_opts={{max_dict_bytes=4096;zstd_max_train_bytes=65536}};{}", bbt(&t4k(5, "kCRC32c"))),
            how: How::Flush(puts(11, 500, 40, 100)) },
        Case { name: "fv7-zstd-dict-raw", covers: "zstd with a raw-content dictionary (max_dict_bytes 8192, no trainer), format_version 7",
            options: format!("compression=kZSTD;compression_opts={{max_dict_bytes=8192;zstd_max_train_bytes=0}};{}", bbt(&t4k(7, "kXXH3"))),
            how: How::Flush(puts(12, 500, 40, 100)) },
        Case { name: "fv4-hash-index", covers: "kHashSearch index (prefix extractor fixed:4, hash index meta blocks), format_version 4",
            options: format!("prefix_extractor=rocksdb.FixedPrefix.4;compression=kSnappyCompression;{}", bbt("format_version=4;checksum=kCRC32c;block_size=1024;index_type=kHashSearch")),
            how: How::Flush(hash_prefix_ops(13)) },
        Case { name: "fv5-partitioned-index", covers: "kTwoLevelIndexSearch (partitioned index, metadata_block_size 256), 256-byte blocks",
            options: opts("kLZ4Compression", "format_version=5;checksum=kXXH3;block_size=256;index_type=kTwoLevelIndexSearch;metadata_block_size=256"),
            how: How::Flush(puts(14, 1000, 10, 40)) },
        Case { name: "fv7-partitioned-filters", covers: "partitioned index + partitioned bloom filters (bloomfilter:10), format_version 7",
            options: opts("kZSTD", "format_version=7;checksum=kXXH3;block_size=512;index_type=kTwoLevelIndexSearch;partition_filters=true;metadata_block_size=512;filter_policy=bloomfilter:10:false"),
            how: How::Flush(puts(15, 1000, 10, 40)) },
        Case { name: "fv6-binary-search-first-key", covers: "kBinarySearchWithFirstKey index, format_version 6",
            options: opts("kSnappyCompression", "format_version=6;checksum=kxxHash64;block_size=1024;index_type=kBinarySearchWithFirstKey"),
            how: How::Flush(puts(16, 500, 10, 80)) },
        Case { name: "fv4-full-bloom", covers: "full (non-partitioned) legacy bloom filter (format_version 4), whole-key filtering",
            options: opts("kSnappyCompression", "format_version=4;checksum=kCRC32c;block_size=4096;filter_policy=bloomfilter:10:false"),
            how: How::Flush(puts(17, 500, 10, 80)) },
        Case { name: "fv5-full-bloom-prefix", covers: "full bloom filter (format_version 5 FastLocalBloom), prefix extractor fixed:4, whole_key_filtering=false",
            options: format!("prefix_extractor=rocksdb.FixedPrefix.4;compression=kZSTD;{}", bbt("format_version=5;checksum=kXXH3;block_size=4096;filter_policy=bloomfilter:10:false;whole_key_filtering=false")),
            how: How::Flush(hash_prefix_ops(18)) },
        Case { name: "fv7-ribbon-filter", covers: "full Ribbon filter, format_version 7",
            options: opts("kLZ4Compression", "format_version=7;checksum=kXXH3;block_size=4096;filter_policy=ribbonfilter:10"),
            how: How::Flush(puts(19, 500, 10, 80)) },
        Case { name: "fv7-data-block-hash", covers: "data block hash index (kDataBlockBinaryAndHash), format_version 7",
            options: opts("kSnappyCompression", "format_version=7;checksum=kXXH3;block_size=4096;data_block_index_type=kDataBlockBinaryAndHash;data_block_hash_table_util_ratio=0.75"),
            how: How::Flush(puts(20, 500, 10, 80)) },
        Case { name: "fv3-restart1", covers: "block_restart_interval 1 and index_block_restart_interval 1 (no prefix sharing), format_version 3",
            options: opts("kNoCompression", "format_version=3;checksum=kCRC32c;block_size=1024;block_restart_interval=1;index_block_restart_interval=1"),
            how: How::Flush(puts(21, 500, 0, 50)) },
        Case { name: "fv7-restart128", covers: "block_restart_interval 128, index_block_restart_interval 16 (delta-encoded index), format_version 7",
            options: opts("kZSTD", "format_version=7;checksum=kxxHash;block_size=8192;block_restart_interval=128;index_block_restart_interval=16"),
            how: How::Flush(puts(22, 1200, 0, 30)) },
        Case { name: "fv2-index-restart8", covers: "index_block_restart_interval 8 without index value delta encoding (format_version 2)",
            options: opts("kSnappyCompression", "format_version=2;checksum=kxxHash;block_size=512;index_block_restart_interval=8"),
            how: How::Flush(puts(23, 800, 0, 30)) },
        Case { name: "fv7-mixed-ops", covers: "put/delete/single_delete/merge, several versions of a key kept by snapshots (DB flush)",
            options: opts("kSnappyCompression", &t4k(7, "kXXH3")), how: How::Flush(mixed_ops(24)) },
        Case { name: "fv3-mixed-ops", covers: "same operations as fv7-mixed-ops with format_version 3 and zlib",
            options: opts("kZlibCompression", &t4k(3, "kCRC32c")), how: How::Flush(mixed_ops(24)) },
        Case { name: "fv5-range-del-flush", covers: "range deletions from a DB flush (stored fragmented), overlapping ranges, snapshots",
            options: opts("kLZ4Compression", &t4k(5, "kxxHash64")), how: How::Flush(range_del_ops(25)) },
        Case { name: "fv7-sstwriter-range-del", covers: "SstFileWriter: put/delete/merge plus unsorted, overlapping range deletions (stored raw, insertion order), seq 0",
            options: opts("kZSTD", &t4k(7, "kXXH3")), how: How::SstWriter(sst_writer_ops(26, true)) },
        Case { name: "fv6-big-values", covers: "values of exactly 64 KiB (random), 70000 bytes (compressible) and 100001 bytes (random)",
            options: opts("kSnappyCompression", &t4k(6, "kCRC32c")), how: How::Flush(big_value_ops(27, true)) },
        Case { name: "fv2-big-values-zlib", covers: "a 70000-byte compressible value with zlib, format_version 2",
            options: opts("kZlibCompression", &t4k(2, "kxxHash")), how: How::Flush(big_value_ops(28, false)) },
        Case { name: "fv7-empty-values", covers: "empty values, the empty user key, an empty merge operand",
            options: opts("kNoCompression", &t4k(7, "kXXH3")), how: How::Flush(empty_value_ops()) },
        Case { name: "fv5-binary-keys", covers: "binary keys using every byte value 0x00..0xff, random binary keys and values",
            options: opts("kSnappyCompression", "format_version=5;checksum=kCRC32c;block_size=1024"), how: How::Flush(binary_key_ops(29)) },
        Case { name: "fv7-sstwriter-basic", covers: "SstFileWriter (external/ingest-style file: seq 0, global seqno property), default table options",
            options: "compression=kSnappyCompression".into(), how: How::SstWriter(puts(30, 500, 0, 60)) },
        Case { name: "fv4-sstwriter-merge-delete", covers: "SstFileWriter with puts, merges and deletes, format_version 4, lz4",
            options: opts("kLZ4Compression", &t4k(4, "kxxHash64")), how: How::SstWriter(sst_writer_ops(31, false)) },
        Case { name: "fv2-sstwriter-range-del", covers: "SstFileWriter with range deletions, format_version 2, no compression",
            options: opts("kNoCompression", &t4k(2, "kCRC32c")), how: How::SstWriter(sst_writer_ops(32, true)) },
        Case { name: "fv7-block-align", covers: "block_align=true (data blocks padded to 4 KiB boundaries), no compression",
            options: opts("kNoCompression", "format_version=7;checksum=kXXH3;block_size=4096;block_align=true"), how: How::Flush(puts(33, 400, 10, 100)) },
        Case { name: "fv7-separate-kv", covers: "RocksDB 11.x: separate_key_value_in_data_block=true (keys and values stored apart in data blocks)",
            options: opts("kSnappyCompression", "format_version=7;checksum=kXXH3;block_size=4096;separate_key_value_in_data_block=true"), how: How::Flush(puts(34, 500, 0, 80)) },
        Case { name: "fv7-uniform-index", covers: "RocksDB 11.x: uniform_cv_threshold=0.5 (is_uniform flag in index block footers), 256-byte blocks",
            options: opts("kNoCompression", "format_version=7;checksum=kXXH3;block_size=256;uniform_cv_threshold=0.5;index_block_search_type=kAuto"), how: How::Flush(uniform_ops(1000)) },
        Case { name: "fv7-blob-index", covers: "blob_index entries (BlobDB: enable_blob_files, min_blob_size 64); the blob file itself is not in the corpus",
            options: format!("enable_blob_files=true;min_blob_size=64;blob_compression_type=kNoCompression;compression=kSnappyCompression;{}", bbt(&t4k(7, "kXXH3"))),
            how: How::Flush(puts(35, 300, 0, 200)) },
        Case { name: "fv7-entities", covers: "wide-column entities (SstFileWriter::PutEntity) mixed with plain puts",
            options: opts("kZSTD", &t4k(7, "kXXH3")), how: How::Entities(entity_records(36)) },
        Case { name: "multi-cf", covers: "one DB flush of three column families with different options (column family id/name properties differ)",
            options: "(per column family)".into(),
            how: How::MultiCf(vec![
                ("default".into(), opts("kSnappyCompression", &t4k(5, "kCRC32c")), puts(37, 300, 5, 50)),
                ("alpha".into(), opts("kZSTD", &t4k(6, "kXXH3")), mixed_ops(38)),
                ("beta".into(), opts("kLZ4Compression", "format_version=7;checksum=kxxHash64;block_size=256"), range_del_ops(39)),
            ]) },
    ]
}

fn main() {
    let out: PathBuf = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/sst"));
    std::fs::create_dir_all(&out).unwrap();
    let tmp = std::env::temp_dir().join(format!("rockrescue-gen-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap();
    let mut manifest = String::from("name\twriter\texpected_by\toptions\tcovers\tproperties\n");
    let mut failures = 0;
    for case in cases() {
        let res: Result<Vec<(String, PathBuf, String)>, String> = (|| {
            let dir = tmp.join(case.name);
            std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
            match &case.how {
                How::Flush(ops) => {
                    let cf = CfSpec {
                        name: "default".into(),
                        options: case.options.clone(),
                        ops: ops.clone(),
                    };
                    let files = gen::write_db_flush(&dir.join("db"), &case.options, &[cf])?;
                    Ok(files
                        .into_iter()
                        .map(|(_, p)| (case.name.to_string(), p, case.options.clone()))
                        .collect())
                }
                How::SstWriter(ops) => {
                    let p = dir.join("w.sst");
                    gen::write_sst_file_writer(&p, &case.options, ops)?;
                    Ok(vec![(case.name.to_string(), p, case.options.clone())])
                }
                How::Entities(recs) => {
                    let p = dir.join("w.sst");
                    rockrescue_oracle::write_sst_with_entities(&p, &case.options, recs)?;
                    Ok(vec![(case.name.to_string(), p, case.options.clone())])
                }
                How::MultiCf(cfs) => {
                    let specs: Vec<CfSpec> = cfs
                        .iter()
                        .map(|(n, o, ops)| CfSpec {
                            name: n.clone(),
                            options: o.clone(),
                            ops: ops.clone(),
                        })
                        .collect();
                    let files = gen::write_db_flush(
                        &dir.join("db"),
                        "compression=kSnappyCompression",
                        &specs,
                    )?;
                    Ok(files
                        .into_iter()
                        .map(|(cf, p)| {
                            let o = cfs.iter().find(|c| c.0 == cf).unwrap().1.clone();
                            (format!("{}-{cf}", case.name), p, o)
                        })
                        .collect())
                }
            }
        })();
        let files = match res {
            Ok(f) => f,
            Err(e) => {
                eprintln!("FAILED {}: {e}", case.name);
                failures += 1;
                continue;
            }
        };
        let writer = match case.how {
            How::Flush(_) | How::MultiCf(_) => "rocksdb-11.8.1 DB flush (rocksdb crate 0.25)",
            How::SstWriter(_) => "rocksdb-11.8.1 SstFileWriter (rocksdb crate 0.25)",
            How::Entities(_) => "rocksdb-11.8.1 SstFileWriter::PutEntity (oracle shim)",
        };
        for (name, path, o) in files {
            let dst = out.join(format!("{name}.sst"));
            std::fs::copy(&path, &dst).unwrap();
            let jsonl = match rockrescue_oracle::dump_jsonl(&dst) {
                Ok(j) => j,
                Err(e) => {
                    eprintln!("FAILED dump {name}: {e}");
                    failures += 1;
                    continue;
                }
            };
            assert!(!jsonl.is_empty(), "{name}: empty dump");
            std::fs::write(out.join(format!("{name}.expected.jsonl")), &jsonl).unwrap();
            let (p, _) = rockrescue_oracle::properties(&dst).unwrap();
            let props = format!(
                "format_version={} num_entries={} num_deletions={} num_merge_operands={} num_range_deletions={} num_data_blocks={} index_partitions={} cf_id={} size={}",
                p.format_version, p.num_entries, p.num_deletions, p.num_merge_operands, p.num_range_deletions,
                p.num_data_blocks, p.index_partitions, p.column_family_id,
                std::fs::metadata(&dst).unwrap().len()
            );
            writeln!(
                manifest,
                "{name}\t{writer}\toracle-dump (rocksdb-11.8.1)\t{o}\t{}\t{props}",
                case.covers
            )
            .unwrap();
            println!("{name}: {props}");
        }
    }
    std::fs::write(out.join("MANIFEST.tsv"), manifest).unwrap();
    let _ = std::fs::remove_dir_all(&tmp);
    if failures > 0 {
        eprintln!("{failures} case(s) failed");
        std::process::exit(1);
    }
}
