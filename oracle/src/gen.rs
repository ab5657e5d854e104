//! Writing tables with real RocksDB 11.8.1 (through the rocksdb crate).

use rocksdb::{ColumnFamilyDescriptor, Options, SstFileWriter, WriteBatch, DB};
use std::path::{Path, PathBuf};

/// splitmix64: small, fixed, deterministic.
#[derive(Clone)]
pub struct Rng(pub u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in 0..n (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
    pub fn range(&mut self, lo: u64, hi_inclusive: u64) -> u64 {
        lo + self.below(hi_inclusive - lo + 1)
    }
    pub fn chance(&mut self, num: u64, den: u64) -> bool {
        self.below(den) < num
    }
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
}

const WORDS: &[&str] = &[
    "rock",
    "rescue",
    "table",
    "block",
    "index",
    "filter",
    "level",
    "flush",
    "merge",
    "delete",
    "range",
    "value",
    "key",
    "snapshot",
    "compaction",
    "sequence",
    "footer",
    "checksum",
    "zstd",
    "snappy",
    "lz4",
    "zlib",
    "bzip2",
    "restart",
    "prefix",
    "hash",
    "bloom",
    "partition",
];

/// A compressible value of exactly `len` bytes (words from a small vocabulary,
/// with a little random noise), so block compression is actually used.
pub fn text_value(rng: &mut Rng, len: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(len + 16);
    while v.len() < len {
        if rng.chance(1, 16) {
            v.extend_from_slice(format!("{:x}", rng.below(1 << 20)).as_bytes());
        } else {
            v.extend_from_slice(rng.pick(WORDS).as_bytes());
        }
        v.push(b' ');
    }
    v.truncate(len);
    v
}

#[derive(Clone, Debug)]
pub enum Op {
    Put(Vec<u8>, Vec<u8>),
    Delete(Vec<u8>),
    SingleDelete(Vec<u8>),
    Merge(Vec<u8>, Vec<u8>),
    /// [begin, end)
    DeleteRange(Vec<u8>, Vec<u8>),
    /// DB writer only: take (and hold until after the flush) a snapshot, so
    /// older versions of keys written before it survive the flush.
    Snapshot,
}

/// The merge operator used everywhere: concatenation with ','.
pub fn concat_merge(
    _key: &[u8],
    existing: Option<&[u8]>,
    operands: &rocksdb::MergeOperands,
) -> Option<Vec<u8>> {
    let mut out = existing.map(|e| e.to_vec()).unwrap_or_default();
    for op in operands {
        if !out.is_empty() {
            out.push(b',');
        }
        out.extend_from_slice(op);
    }
    Some(out)
}

/// Options from a RocksDB options string (RocksDB's own parser:
/// `GetOptionsFromString`), plus the concat merge operator.
pub fn options_from_string(s: &str) -> Result<Options, String> {
    let mut base = Options::default();
    let mut o = base
        .get_options_from_string(s)
        .map_err(|e| format!("options {s:?}: {e}"))?;
    o.set_merge_operator_associative("rockrescue.concat", concat_merge);
    Ok(o)
}

pub struct CfSpec {
    pub name: String,
    /// Options string for this column family.
    pub options: String,
    pub ops: Vec<Op>,
}

fn sst_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().map(|x| x == "sst").unwrap_or(false))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Opens a fresh DB in `dir` (auto compaction off, big memtables), applies each
/// column family's ops (one write batch per op, so each gets its own sequence
/// number), flushes the column families one by one while all snapshots are
/// still held, and returns the flushed SST of each column family that had
/// data, in `cfs` order.
pub fn write_db_flush(
    dir: &Path,
    db_options: &str,
    cfs: &[CfSpec],
) -> Result<Vec<(String, PathBuf)>, String> {
    let e = |x: rocksdb::Error| x.to_string();
    let mut dbo = options_from_string(db_options)?;
    dbo.create_if_missing(true);
    dbo.create_missing_column_families(true);
    dbo.set_disable_auto_compactions(true);
    dbo.set_write_buffer_size(256 << 20);
    let mut descs = Vec::new();
    for cf in cfs {
        let mut o = options_from_string(&cf.options)?;
        o.set_disable_auto_compactions(true);
        o.set_write_buffer_size(256 << 20);
        descs.push(ColumnFamilyDescriptor::new(cf.name.clone(), o));
    }
    if !cfs.iter().any(|c| c.name == "default") {
        descs.push(ColumnFamilyDescriptor::new(
            "default",
            options_from_string(db_options)?,
        ));
    }
    let db = DB::open_cf_descriptors(&dbo, dir, descs).map_err(e)?;
    let mut out = Vec::new();
    {
        let mut snaps = Vec::new();
        for cf in cfs {
            let h = db.cf_handle(&cf.name).ok_or("no cf handle")?;
            for op in &cf.ops {
                let mut b = WriteBatch::default();
                match op {
                    Op::Put(k, v) => b.put_cf(h, k, v),
                    Op::Delete(k) => b.delete_cf(h, k),
                    Op::SingleDelete(k) => b.single_delete_cf(h, k),
                    Op::Merge(k, v) => b.merge_cf(h, k, v),
                    Op::DeleteRange(a, z) => b.delete_range_cf(h, a, z),
                    Op::Snapshot => {
                        snaps.push(db.snapshot());
                        continue;
                    }
                }
                db.write(b).map_err(e)?;
            }
        }
        for cf in cfs {
            let before = sst_files(dir);
            let h = db.cf_handle(&cf.name).ok_or("no cf handle")?;
            db.flush_cf(h).map_err(e)?;
            let new: Vec<PathBuf> = sst_files(dir)
                .into_iter()
                .filter(|p| !before.contains(p))
                .collect();
            match new.len() {
                0 => {}
                1 => out.push((cf.name.clone(), new[0].clone())),
                n => return Err(format!("flush of {} produced {n} files", cf.name)),
            }
        }
        drop(snaps);
    }
    drop(db);
    Ok(out)
}

/// Writes `ops` with RocksDB's SstFileWriter (point keys must be strictly
/// increasing; range deletions in any order; Snapshot/SingleDelete are not
/// supported by SstFileWriter).
pub fn write_sst_file_writer(path: &Path, options: &str, ops: &[Op]) -> Result<(), String> {
    let e = |x: rocksdb::Error| x.to_string();
    let o = options_from_string(options)?;
    let mut w = SstFileWriter::create(&o);
    w.open(path).map_err(e)?;
    for op in ops {
        match op {
            Op::Put(k, v) => w.put(k, v).map_err(e)?,
            Op::Delete(k) => w.delete(k).map_err(e)?,
            Op::Merge(k, v) => w.merge(k, v).map_err(e)?,
            Op::DeleteRange(a, z) => w.delete_range(a, z).map_err(e)?,
            Op::SingleDelete(_) | Op::Snapshot => {
                return Err("op not supported by SstFileWriter".into())
            }
        }
    }
    w.finish().map_err(e)?;
    Ok(())
}
