//! `gen-tikv --br [OUT_DIR]` (default corpus/br, emptied first): BR full backups of gen-tikv's
//! main history (the one corpus/tikv images), taken at a backup ts one tick after T3 (store3's
//! image, the last commit of the history). Same history, encoders and expected-row rendering as
//! the main gen-tikv (the parent module); nothing here uses `rockrescue`. Layout, messages, keys,
//! checksums and encryption follow format-specs/br.md (section numbers below).
//!
//! The backup's content: per user key of every live table's BR key ranges (record range over all
//! handles, then each public index's range, per physical table id: `BuildTableRanges`), the
//! newest committed Put with commit_ts <= backup ts; no Delete, Lock or Rollback record, no lock
//! CF, one version per key (§5.2). At T3 the history's state and the merged state of corpus/tikv's
//! three stores are the same (checked), so the expected rows are corpus/tikv/expected/merged's.
//!
//! Files: one backup "cluster" region layout (`REGIONS`, leaders on stores 1..3); TiKV writes one
//! file pair per (request range ∩ region) holding data: `<store>_<region>_<version>_<sha256 of
//! the file's raw start key>_<unix ms>_{default,write}.sst` (§1.2), written by RocksDB's
//! SstFileWriter (block-based format_version 2, CRC32C, 32 KiB blocks, zstd, sequence numbers
//! 0). Checksums per file and per table: §6. backupmeta v1 / v2 / encrypted v2: §2-§4.
//!
//! Written: `v1/`, `v2/`, `v2-encrypted/`, `damaged-{bitflip,missing,truncated,meta}/` (copies of
//! v1 with one thing damaged), `expected/<db>.<table>.json`, `expected/backup.json`,
//! `expected/damage.json`.

use super::*;
use aes::cipher::{KeyIvInit, StreamCipher};
use rocksdb::SstFileWriter;

type Aes256Ctr = ctr::Ctr128BE<aes::Aes256>;

/// PD's cluster version as BR stores it: JSON-quoted, with a trailing LF (§2.1, trap 3).
const CLUSTER_VERSION: &str = "\"8.5.0\"\n";
/// `backup.lock`, written first by BR (§1.1).
const LOCK_TEXT: &str =
    "DO NOT DELETE\nThis file exists to remind other backup jobs won't use this path";
/// The AES-256-CTR key of `v2-encrypted/`: the bytes 0x01..0x20.
fn crypter_key() -> [u8; 32] {
    std::array::from_fn(|i| i as u8 + 1)
}

/// A region of the cluster when the backup was taken: raw TiDB key bounds (empty end = +inf),
/// the store of its leader (TiKV backs up from leaders) and its epoch version.
struct BrRegion {
    id: u64,
    start: Vec<u8>,
    end: Vec<u8>,
    store: u64,
    version: u64,
}

/// Tables got their own regions (TiDB's split-table) and PD merged some small neighbours;
/// shop.all_types was split at handle 40, hr.employees at handle 0.
fn regions() -> Vec<BrRegion> {
    let tp = tg::table_prefix;
    let rk = tg::record_key_int;
    let r = |id, start, end, store, version| BrRegion {
        id,
        start,
        end,
        store,
        version,
    };
    let v = vec![
        r(2, Vec::new(), tp(101), 1, 9),
        r(8, tp(101), rk(101, 40), 1, 12),
        r(10, rk(101, 40), tp(102), 2, 12),
        r(12, tp(102), tp(111), 3, 11),
        r(14, tp(111), rk(111, 0), 2, 14),
        r(16, rk(111, 0), tp(112), 1, 14),
        r(18, tp(112), tp(121), 3, 13),
        r(20, tp(121), tp(123), 1, 13),
        r(22, tp(123), tp(130), 2, 15),
        r(24, tp(130), Vec::new(), 3, 16),
    ];
    for w in v.windows(2) {
        assert_eq!(w[0].end, w[1].start, "regions tile the key space");
    }
    assert!(v[0].start.is_empty() && v.last().unwrap().end.is_empty());
    v
}

/// One BR request range: physical table id, index id (None = the record range), raw bounds.
struct Range {
    pid: i64,
    index: Option<i64>,
    start: Vec<u8>,
    end: Vec<u8>,
}

/// BR's `BuildTableRanges`/`appendRanges`: per physical id, the record range over every handle
/// (int handles: `[t_r + EncodeInt(MinInt64), t_r + PrefixNext(EncodeInt(MaxInt64)))`, i.e.
/// `00×8` .. `FF×8 00`; common handles `[t_r 01, t_r FB)`: MinNotNull .. PrefixNext(MaxValue)),
/// then every public index's `[t_i<id> 00, t_i<id> FB)` (NULL .. PrefixNext(MaxValue)).
fn table_ranges(t: &TableDef) -> Vec<Range> {
    let mut out = Vec::new();
    for pid in t.physical_ids() {
        let rp = tg::record_prefix(pid);
        let (mut a, mut z) = (rp.clone(), rp);
        if t.common_handle {
            a.push(0x01);
            z.push(0xFB);
        } else {
            a.extend_from_slice(&[0; 8]);
            z.extend_from_slice(&[0xFF; 8]);
            z.push(0);
        }
        out.push(Range {
            pid,
            index: None,
            start: a,
            end: z,
        });
        for i in &t.idx {
            out.push(Range {
                pid,
                index: Some(i.id),
                start: tg::index_key(pid, i.id, &[0x00]),
                end: tg::index_key(pid, i.id, &[0xFB]),
            });
        }
    }
    out
}

/// XOR of CRC-64/XZ(raw key ‖ value), count, Σ(len key + len value) (§6.1, §6.2).
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
struct Sum {
    crc: u64,
    kvs: u64,
    bytes: u64,
}

impl Sum {
    fn add(&mut self, raw: &[u8], value: &[u8]) {
        self.crc ^= tg::crc64_xz_update(tg::crc64_xz(raw), value);
        self.kvs += 1;
        self.bytes += (raw.len() + value.len()) as u64;
    }
    fn fold(&mut self, o: &Sum) {
        self.crc ^= o.crc;
        self.kvs += o.kvs;
        self.bytes += o.bytes;
    }
}

/// One data file of the backup.
struct DataFile {
    name: String,
    cf: &'static str,
    /// Raw start/end of (range ∩ region) (§5.3).
    start: Vec<u8>,
    end: Vec<u8>,
    table_id: i64,
    table: String,
    pid: i64,
    index: Option<i64>,
    region: u64,
    store: u64,
    /// SST entries (`z` + mc(raw) + !ts, value), in key order.
    entries: Vec<(Vec<u8>, Vec<u8>)>,
    sum: Sum,
    /// Handles of the rows whose record key is in this (write) file.
    handles: Vec<i64>,
    /// The SST as written (plaintext).
    sst: Vec<u8>,
}

/// A `File` message (§2.2): a data file or a v2 meta sub-file.
#[derive(Clone, Default)]
struct FileMsg {
    name: String,
    sha256: Vec<u8>,
    start_key: Vec<u8>,
    end_key: Vec<u8>,
    end_version: u64,
    sum: Sum,
    cf: String,
    size: u64,
    cipher_iv: Vec<u8>,
}

/// A `Schema` message (§2.4).
#[derive(Clone)]
struct SchemaMsg {
    db: Vec<u8>,
    table: Vec<u8>,
    sum: Sum,
}

// proto3: zero / empty fields are not written (as Go's marshal does).
fn pbv(out: &mut Vec<u8>, field: u32, v: u64) {
    if v != 0 {
        tg::pb_varint(out, field, v);
    }
}

fn pbb(out: &mut Vec<u8>, field: u32, b: &[u8]) {
    if !b.is_empty() {
        tg::pb_bytes(out, field, b);
    }
}

fn file_pb(f: &FileMsg) -> Vec<u8> {
    let mut b = Vec::new();
    pbb(&mut b, 1, f.name.as_bytes());
    pbb(&mut b, 2, &f.sha256);
    pbb(&mut b, 3, &f.start_key);
    pbb(&mut b, 4, &f.end_key);
    // 5 start_version: 0 in a full backup.
    pbv(&mut b, 6, f.end_version);
    pbv(&mut b, 7, f.sum.crc);
    pbv(&mut b, 8, f.sum.kvs);
    pbv(&mut b, 9, f.sum.bytes);
    pbb(&mut b, 10, f.cf.as_bytes());
    pbv(&mut b, 11, f.size);
    pbb(&mut b, 12, &f.cipher_iv);
    b
}

fn schema_pb(s: &SchemaMsg) -> Vec<u8> {
    let mut b = Vec::new();
    pbb(&mut b, 1, &s.db);
    pbb(&mut b, 2, &s.table);
    pbv(&mut b, 3, s.sum.crc);
    pbv(&mut b, 4, s.sum.kvs);
    pbv(&mut b, 5, s.sum.bytes);
    b
}

/// `BackupMeta` (§2.1): v1 with files and schemas inline, or v2 (`version` 1) with the two index
/// MetaFiles pointing at sub-files.
fn backupmeta(
    end_version: u64,
    files: &[FileMsg],
    schemas: &[SchemaMsg],
    v2: Option<(&FileMsg, &FileMsg)>,
) -> Vec<u8> {
    let mut b = Vec::new();
    pbv(&mut b, 1, TIKV_CLUSTER_ID);
    pbb(&mut b, 2, CLUSTER_VERSION.as_bytes());
    for f in files {
        tg::pb_bytes(&mut b, 4, &file_pb(f));
    }
    // 5 start_version: 0 (full backup).
    pbv(&mut b, 6, end_version);
    for s in schemas {
        tg::pb_bytes(&mut b, 7, &schema_pb(s));
    }
    pbb(&mut b, 10, b"[]");
    if let Some((datafile, schema)) = v2 {
        pbv(&mut b, 12, 1);
        let mut idx = Vec::new();
        tg::pb_bytes(&mut idx, 1, &file_pb(datafile));
        tg::pb_bytes(&mut b, 13, &idx);
        let mut idx = Vec::new();
        tg::pb_bytes(&mut idx, 1, &file_pb(schema));
        tg::pb_bytes(&mut b, 14, &idx);
    }
    pbb(&mut b, 20, b"True");
    b
}

/// AES-256-CTR with a 128-bit big-endian counter starting at `iv` (§4.2); its own inverse.
fn aes_ctr(key: &[u8; 32], iv: &[u8; 16], data: &[u8]) -> Vec<u8> {
    let mut out = data.to_vec();
    let mut c = Aes256Ctr::new(key.into(), iv.into());
    c.apply_keystream(&mut out);
    out
}

/// The IV of an encrypted file: BR/TiKV draw 16 random bytes; here they are derived from the
/// file name so that regeneration is stable.
fn iv_for(name: &str) -> [u8; 16] {
    let h = tg::sha256(format!("rockrescue br fixture iv {name}").as_bytes());
    h[..16].try_into().unwrap()
}

fn selftest_br() {
    // NIST SP 800-38A F.5.5 (CTR-AES256.Encrypt), blocks 1 and 2.
    let key: [u8; 32] =
        hex::decode("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4")
            .unwrap()
            .try_into()
            .unwrap();
    let iv: [u8; 16] = hex::decode("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff")
        .unwrap()
        .try_into()
        .unwrap();
    let pt =
        hex::decode("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51").unwrap();
    assert_eq!(
        hex::encode(aes_ctr(&key, &iv, &pt)),
        "601ec313775789a5b7a7f504bbf3d228f443e3ca4d62b59aca84e990cacaf5c5"
    );
    // The counter is one 128-bit big-endian integer: the carry crosses the low 64 bits.
    let mut lo = [0u8; 16];
    lo[8..].fill(0xFF);
    let mut hi = [0u8; 16];
    hi[7] = 1;
    let a = aes_ctr(&key, &lo, &[0; 32]);
    let b = aes_ctr(&key, &hi, &[0; 16]);
    assert_eq!(a[16..], b[..]);
    assert_eq!(
        aes_ctr(&key, &iv, &aes_ctr(&key, &iv, b"round trip")),
        b"round trip"
    );
}

fn sst_options() -> Options {
    let mut bb = BlockBasedOptions::default();
    bb.set_format_version(2);
    bb.set_checksum_type(ChecksumType::CRC32c);
    bb.set_block_size(32 * 1024);
    bb.set_bloom_filter(10.0, false);
    let mut o = Options::default();
    o.set_block_based_table_factory(&bb);
    o.set_compression_type(DBCompressionType::Zstd);
    o
}

/// Writes `entries` with SstFileWriter and checks RocksDB reads back exactly them, each with
/// sequence number 0 and type Put, zstd-compressed.
fn write_sst(path: &Path, entries: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    let opts = sst_options();
    let mut w = SstFileWriter::create(&opts);
    w.open(path).unwrap();
    for (k, v) in entries {
        w.put(k, v).unwrap();
    }
    w.finish().unwrap();
    let got = rockrescue_oracle::dump(path).unwrap();
    assert_eq!(got.len(), entries.len());
    for (e, (k, v)) in got.iter().zip(entries) {
        assert!(e.key == *k && e.value == *v && e.seq == 0 && e.type_name() == "put");
    }
    let (p, text) = rockrescue_oracle::properties(path).unwrap();
    assert_eq!(p.format_version, 2);
    assert!(text.contains("compression algo=ZSTD"), "{text}");
    std::fs::read(path).unwrap()
}

/// Per user key, the newest version with commit_ts <= `ts` if it is a Put (the rule of
/// `resolve`, at `ts`): what a full backup copies (§5.2).
fn visible(all: &Versions, ts: u64) -> BTreeMap<Vec<u8>, LWrite> {
    let mut out = BTreeMap::new();
    for (raw, vers) in all {
        for w in vers.range(..=ts).map(|(_, w)| w).rev() {
            if matches!(w.gc_fence, Some(f) if f != 0) {
                break;
            }
            match w.kind {
                WriteType::Put => {
                    out.insert(raw.clone(), w.clone());
                    break;
                }
                WriteType::Delete => break,
                WriteType::Lock | WriteType::Rollback => {}
            }
        }
    }
    out
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
    }
}

fn hexs(b: &[u8]) -> String {
    hex::encode(b)
}

pub fn main(out: Option<PathBuf>) {
    selftest_br();
    let out = out.unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/br"));
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).unwrap();
    let mut g = Gen::new();
    script(&mut g);
    let t3 = g.t[2];
    // BR asks PD for a TSO: the backup ts, after the last commit (T3).
    let backup_ts = g.tick();
    assert!(g.writes.iter().all(|w| w.time <= t3));

    // ---- The state at the backup ts.
    let mut all: Versions = BTreeMap::new();
    for w in &g.writes {
        all.entry(w.raw.clone())
            .or_default()
            .insert(w.key_ts, w.clone());
    }
    let vis = visible(&all, backup_ts);
    let state: BTreeMap<Vec<u8>, Payload> = vis
        .iter()
        .map(|(k, w)| (k.clone(), w.payload.clone()))
        .collect();
    // The history's state is the merged state of corpus/tikv's three stores (same keys, same
    // payloads), so the expected rows are corpus/tikv/expected/merged's.
    let merged = resolve(&union(&g, &[0, 1, 2]));
    assert_eq!(
        merged.keys().collect::<Vec<_>>(),
        state.keys().collect::<Vec<_>>()
    );
    for (k, p) in &merged {
        let same = match (p, &state[k]) {
            (Payload::Row(a), Payload::Row(b)) => Rc::ptr_eq(a, b),
            (Payload::Table(a), Payload::Table(b)) => Rc::ptr_eq(a, b),
            (Payload::Db(i, _), Payload::Db(j, _)) => i == j,
            (Payload::Raw(a), Payload::Raw(b)) => a == b,
            _ => false,
        };
        assert!(same, "merged state differs at {}", hex::encode(k));
    }
    // Row values too long for the write record live in CF default (key at start_ts).
    let mut defaults: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    for ev in &g.evs {
        if let Ev::Op(p) = ev {
            if p.cf == "default" {
                match &p.val {
                    Some(v) => defaults.insert(p.key.clone(), v.clone()),
                    None => defaults.remove(&p.key),
                };
            }
        }
    }
    // (value, stored in CF default?)
    let value = |raw: &[u8], w: &LWrite| -> (Vec<u8>, bool) {
        match &w.rec.short_value {
            Some(v) => (v.clone(), false),
            None => (defaults[&tg::ts_key(raw, w.start_ts)].clone(), true),
        }
    };
    let meta_value = |raw: &[u8]| value(raw, &vis[raw]).0;

    // ---- Data files: per table, per range, per region.
    let v1 = out.join("v1");
    std::fs::create_dir_all(&v1).unwrap();
    std::fs::write(v1.join("backup.lock"), LOCK_TEXT).unwrap();
    let mut tables: Vec<Rc<TableDef>> = live_tables(&state).into_values().collect();
    tables.sort_by_key(|t| (t.db_id, t.id));
    let regs = regions();
    let mut files: Vec<DataFile> = Vec::new();
    let mut pair = 0u64;
    let mut table_sums: BTreeMap<i64, Sum> = BTreeMap::new();
    for t in &tables {
        let name = format!("{}.{}", t.db, t.name);
        let ranges = table_ranges(t);
        // Every visible key under the table's physical ids is in exactly one of its ranges, and
        // the table checksum (§6.3) is computed here from the state, independently of the files.
        let mut sum = Sum::default();
        for pid in t.physical_ids() {
            let (a, z) = (tg::table_prefix(pid), tg::table_prefix(pid + 1));
            for (raw, w) in vis.range(a..z) {
                let n = ranges
                    .iter()
                    .filter(|r| r.start <= *raw && *raw < r.end)
                    .count();
                assert_eq!(n, 1, "{name}: key {} in {n} ranges", hex::encode(raw));
                sum.add(raw, &value(raw, w).0);
            }
        }
        table_sums.insert(t.id, sum);
        for r in &ranges {
            for reg in &regs {
                let lo = r.start.clone().max(reg.start.clone());
                let hi = if reg.end.is_empty() {
                    r.end.clone()
                } else {
                    r.end.clone().min(reg.end.clone())
                };
                if lo >= hi {
                    continue;
                }
                let keys: Vec<(&Vec<u8>, &LWrite)> = vis.range(lo.clone()..hi.clone()).collect();
                if keys.is_empty() {
                    continue; // TiKV writes no file for a range without data
                }
                let ms = (backup_ts >> 18) + 850 + 13 * pair;
                pair += 1;
                let base = format!(
                    "{}_{}_{}_{}_{}",
                    reg.store,
                    reg.id,
                    reg.version,
                    hexs(&tg::sha256(&lo)),
                    ms
                );
                let mk = |cf: &'static str| DataFile {
                    name: format!("{base}_{cf}.sst"),
                    cf,
                    start: lo.clone(),
                    end: hi.clone(),
                    table_id: t.id,
                    table: name.clone(),
                    pid: r.pid,
                    index: r.index,
                    region: reg.id,
                    store: reg.store,
                    entries: Vec::new(),
                    sum: Sum::default(),
                    handles: Vec::new(),
                    sst: Vec::new(),
                };
                let (mut def, mut wr) = (mk("default"), mk("write"));
                for (raw, w) in keys {
                    assert_eq!(w.kind, WriteType::Put);
                    let (v, long) = value(raw, w);
                    wr.entries
                        .push((tg::ts_key(raw, w.key_ts), w.rec.to_bytes()));
                    if let Payload::Row(row) = &w.payload {
                        wr.handles.push(row.handle);
                    }
                    if long {
                        def.entries.push((tg::ts_key(raw, w.start_ts), v.clone()));
                        def.sum.add(raw, &v);
                    } else {
                        wr.sum.add(raw, &v);
                    }
                }
                // TiKV saves the default file first, then the write file (§3.2: adjacent).
                for mut f in [def, wr] {
                    if f.entries.is_empty() {
                        continue;
                    }
                    f.sst = write_sst(&v1.join(&f.name), &f.entries);
                    files.push(f);
                }
            }
        }
        // The files' sums fold into the table's (§6.3).
        let mut folded = Sum::default();
        for f in files.iter().filter(|f| f.table_id == t.id) {
            folded.fold(&f.sum);
        }
        assert_eq!(folded, table_sums[&t.id], "{name}: files vs table checksum");
    }
    // Files of one CF never overlap.
    for cf in ["default", "write"] {
        let mut fs: Vec<&DataFile> = files.iter().filter(|f| f.cf == cf).collect();
        fs.sort_by(|a, b| a.start.cmp(&b.start));
        for w in fs.windows(2) {
            assert!(w[0].end <= w[1].start);
        }
    }

    // ---- Schemas (DBInfo and TableInfo JSON exactly as the meta keys hold them).
    let schemas: Vec<SchemaMsg> = tables
        .iter()
        .map(|t| {
            let db = meta_value(&tg::meta_hash_key("DBs", &format!("DB:{}", t.db_id)));
            let table = meta_value(&Gen::table_meta_key(t));
            assert_eq!(table, table_json(t));
            SchemaMsg {
                db,
                table,
                sum: table_sums[&t.id],
            }
        })
        .collect();
    let data_msg = |f: &DataFile, stored: &[u8], iv: Option<[u8; 16]>| FileMsg {
        name: f.name.clone(),
        sha256: tg::sha256(stored).to_vec(),
        start_key: f.start.clone(),
        end_key: f.end.clone(),
        end_version: backup_ts,
        sum: f.sum,
        cf: f.cf.to_string(),
        size: f.sst.len() as u64,
        cipher_iv: iv.map(|x| x.to_vec()).unwrap_or_default(),
    };

    // ---- v1: everything inline.
    let v1_files: Vec<FileMsg> = files.iter().map(|f| data_msg(f, &f.sst, None)).collect();
    std::fs::write(
        v1.join("backupmeta"),
        backupmeta(backup_ts, &v1_files, &schemas, None),
    )
    .unwrap();

    // ---- v2: the same data files; file_index -> backupmeta.datafile.000000001, schema_index
    // -> backupmeta.schema.000000002 (§3.2).
    let sub_datafile = |fs: &[FileMsg]| {
        let mut b = Vec::new();
        for f in fs {
            tg::pb_bytes(&mut b, 2, &file_pb(f));
        }
        b
    };
    let mut sub_schema = Vec::new();
    for s in &schemas {
        tg::pb_bytes(&mut sub_schema, 3, &schema_pb(s));
    }
    const DATAFILE: &str = "backupmeta.datafile.000000001";
    const SCHEMA: &str = "backupmeta.schema.000000002";
    let index_msg = |name: &str, plain: &[u8], iv: Option<[u8; 16]>| FileMsg {
        name: name.to_string(),
        sha256: tg::sha256(plain).to_vec(),
        size: plain.len() as u64,
        cipher_iv: iv.map(|x| x.to_vec()).unwrap_or_default(),
        ..FileMsg::default()
    };
    let v2 = out.join("v2");
    std::fs::create_dir_all(&v2).unwrap();
    std::fs::write(v2.join("backup.lock"), LOCK_TEXT).unwrap();
    for f in &files {
        std::fs::write(v2.join(&f.name), &f.sst).unwrap();
    }
    let sub = sub_datafile(&v1_files);
    std::fs::write(v2.join(DATAFILE), &sub).unwrap();
    std::fs::write(v2.join(SCHEMA), &sub_schema).unwrap();
    let (di, si) = (
        index_msg(DATAFILE, &sub, None),
        index_msg(SCHEMA, &sub_schema, None),
    );
    std::fs::write(
        v2.join("backupmeta"),
        backupmeta(backup_ts, &[], &[], Some((&di, &si))),
    )
    .unwrap();

    // ---- v2-encrypted: AES-256-CTR, key 01..20 (§4): data files (sha256 over the ciphertext,
    // IV in File.cipher_iv), sub-files (sha256 over the plaintext, IV in the index entry),
    // backupmeta = IV ‖ ciphertext.
    let key = crypter_key();
    let enc = out.join("v2-encrypted");
    std::fs::create_dir_all(&enc).unwrap();
    std::fs::write(enc.join("backup.lock"), LOCK_TEXT).unwrap();
    let mut enc_files = Vec::new();
    for f in &files {
        let iv = iv_for(&f.name);
        let c = aes_ctr(&key, &iv, &f.sst);
        std::fs::write(enc.join(&f.name), &c).unwrap();
        enc_files.push(data_msg(f, &c, Some(iv)));
    }
    let sub = sub_datafile(&enc_files);
    let (div, siv) = (iv_for(DATAFILE), iv_for(SCHEMA));
    std::fs::write(enc.join(DATAFILE), aes_ctr(&key, &div, &sub)).unwrap();
    std::fs::write(enc.join(SCHEMA), aes_ctr(&key, &siv, &sub_schema)).unwrap();
    let (di, si) = (
        index_msg(DATAFILE, &sub, Some(div)),
        index_msg(SCHEMA, &sub_schema, Some(siv)),
    );
    let meta = backupmeta(backup_ts, &[], &[], Some((&di, &si)));
    let miv = iv_for("backupmeta");
    let mut stored = miv.to_vec();
    stored.extend_from_slice(&aes_ctr(&key, &miv, &meta));
    std::fs::write(enc.join("backupmeta"), stored).unwrap();

    // ---- Damaged copies of v1.
    let find = |table: &str, pid: i64, index: Option<i64>, cf: &str, nth: usize| -> &DataFile {
        files
            .iter()
            .filter(|f| f.table == table && f.pid == pid && f.index == index && f.cf == cf)
            .nth(nth)
            .unwrap_or_else(|| panic!("no {cf} file {nth} of {table} ({pid})"))
    };
    let rows_json = |f: &DataFile| {
        json!({
            "rows": f.handles.len(),
            "handles": if f.handles.is_empty() { Value::Null } else { json!(f.handles) },
        })
    };
    let file_json = |f: &DataFile| {
        json!({
            "name": f.name,
            "cf": f.cf,
            "table": f.table,
            "physical_id": f.pid,
            "index_id": f.index,
            "size": f.sst.len(),
            "crc64xor": f.sum.crc,
            "total_kvs": f.sum.kvs,
            "total_bytes": f.sum.bytes,
            "entries": f.entries.len(),
        })
    };
    let mut damage = serde_json::Map::new();
    // RocksDB's message, with the path relative to OUT_DIR.
    let rocks_err = |path: &Path| {
        rockrescue_oracle::dump(path)
            .unwrap_err()
            .replace(&format!("{}/", out.display()), "")
    };

    // One bit flipped in the middle of the (only) data block of hr.employees' write file of
    // its negative handles.
    let f = find("hr.employees", 111, None, "write", 0);
    assert!(f.start < tg::record_key_int(111, 0) && f.handles.iter().all(|&h| h < 0));
    let (p, _) = rockrescue_oracle::properties(&v1.join(&f.name)).unwrap();
    assert_eq!(p.num_data_blocks, 1, "{}: one data block", f.name);
    // The data block is [0, data_size - 5); its 5-byte trailer (type, CRC32C) follows.
    let block_len = p.data_size - 5;
    let off = block_len / 2;
    let dir = out.join("damaged-bitflip");
    copy_dir(&v1, &dir);
    let mut b = f.sst.clone();
    let (old, bit) = (b[off as usize], 4);
    b[off as usize] ^= 1 << bit;
    std::fs::write(dir.join(&f.name), &b).unwrap();
    let err = rocks_err(&dir.join(&f.name));
    damage.insert(
        "damaged-bitflip".into(),
        json!({
            "damaged_file": file_json(f),
            "damage": {
                "kind": "bit flip",
                "offset": off,
                "bit": bit,
                "byte_before": format!("{old:02x}"),
                "byte_after": format!("{:02x}", b[off as usize]),
                "data_block": {"offset": 0, "size": block_len, "trailer": 5},
                "rocksdb_says": err,
            },
            "tables_affected": {f.table.clone(): rows_json(f)},
            "must_report": [
                format!("{}: sha256 differs from File.sha256 (size unchanged)", f.name),
                format!("{}: data block [0, {block_len}) fails its CRC32C block checksum; its {} write records (every entry of the file) are unreadable or unverified", f.name, f.entries.len()),
                format!("hr.employees: the rows of that block ({} rows, handles {} .. {}) are missing or suspect, and the table's recomputed crc64xor/total_kvs/total_bytes no longer match its Schema", f.handles.len(), f.handles.first().unwrap(), f.handles.last().unwrap()),
                "every other file and table verifies",
            ],
        }),
    );

    // metrics.samples partition p1's write file deleted.
    let f = find("metrics.samples", 124, None, "write", 0);
    assert!(!files
        .iter()
        .any(|x| x.pid == 124 && x.cf == "default" && x.start == f.start));
    let dir = out.join("damaged-missing");
    copy_dir(&v1, &dir);
    std::fs::remove_file(dir.join(&f.name)).unwrap();
    let mut rest = table_sums[&f.table_id];
    rest.crc ^= f.sum.crc;
    rest.kvs -= f.sum.kvs;
    rest.bytes -= f.sum.bytes;
    damage.insert(
        "damaged-missing".into(),
        json!({
            "damaged_file": file_json(f),
            "damage": {"kind": "missing file"},
            "tables_affected": {f.table.clone(): rows_json(f)},
            "remaining_files_sum": {"crc64xor": rest.crc, "total_kvs": rest.kvs, "total_bytes": rest.bytes},
            "must_report": [
                format!("{}: listed in backupmeta, not in the directory", f.name),
                format!("metrics.samples: partition p1 (physical id 124) has no data: its {} rows (ids 100 .. 199 that exist) are lost", f.handles.len()),
                format!("metrics.samples: the remaining files give crc64xor {}, total_kvs {}, total_bytes {} against the Schema's {}, {}, {}: the difference is exactly the missing file's File entry", rest.crc, rest.kvs, rest.bytes, table_sums[&f.table_id].crc, table_sums[&f.table_id].kvs, table_sums[&f.table_id].bytes),
                "every other file and table verifies",
            ],
        }),
    );

    // shop.orders' write file cut to half its length.
    let f = find("shop.orders", 102, None, "write", 0);
    assert!(!files.iter().any(|x| x.pid == 102 && x.cf == "default"));
    let dir = out.join("damaged-truncated");
    copy_dir(&v1, &dir);
    let half = f.sst.len() / 2;
    std::fs::write(dir.join(&f.name), &f.sst[..half]).unwrap();
    let err = rocks_err(&dir.join(&f.name));
    damage.insert(
        "damaged-truncated".into(),
        json!({
            "damaged_file": file_json(f),
            "damage": {"kind": "truncated", "size_before": f.sst.len(), "size_after": half, "rocksdb_says": err},
            "tables_affected": {f.table.clone(): rows_json(f)},
            "must_report": [
                format!("{}: {half} bytes, File.size {} (sha256 differs)", f.name, f.sst.len()),
                format!("{}: no SST footer (the magic number is gone): not readable as a table; only carving of its surviving blocks can recover entries", f.name),
                format!("shop.orders: all {} rows are in this file: missing unless carved; its checksum does not match the Schema", f.handles.len()),
                "every other file and table verifies",
            ],
        }),
    );

    // backupmeta: one File's crc64xor altered, one Schema's total_kvs altered.
    let fd = find("hr.departments", 112, None, "write", 0);
    let ev = tables
        .iter()
        .position(|t| t.id == EVENTS_ID)
        .expect("metrics.events");
    let mut files_bad = v1_files.clone();
    let fi = files.iter().position(|x| x.name == fd.name).unwrap();
    files_bad[fi].sum.crc ^= 0x0000_0000_0001_0000;
    let mut schemas_bad = schemas.clone();
    schemas_bad[ev].sum.kvs += 1;
    let dir = out.join("damaged-meta");
    copy_dir(&v1, &dir);
    std::fs::write(
        dir.join("backupmeta"),
        backupmeta(backup_ts, &files_bad, &schemas_bad, None),
    )
    .unwrap();
    let evs = &schemas[ev].sum;
    damage.insert(
        "damaged-meta".into(),
        json!({
            "damaged_file": {"name": "backupmeta"},
            "damage": {
                "kind": "backupmeta values altered (data files intact)",
                "file_crc64xor": {"file": fd.name, "table": fd.table, "recorded": files_bad[fi].sum.crc, "true": fd.sum.crc},
                "schema_total_kvs": {"table": "metrics.events", "recorded": schemas_bad[ev].sum.kvs, "true": evs.kvs},
            },
            "tables_affected": {},
            "must_report": [
                format!("{}: recorded crc64xor {} but the SST (sha256 and size match: the data is intact) gives {}: the backupmeta's File entry is wrong", fd.name, files_bad[fi].sum.crc, fd.sum.crc),
                "hr.departments: the SST-recomputed checksum matches its Schema; only the recorded File value disagrees",
                format!("metrics.events: Schema total_kvs {} but its files (recorded and recomputed) give {}", schemas_bad[ev].sum.kvs, evs.kvs),
                "no data file is damaged and no row is lost",
            ],
        }),
    );

    // ---- Expected rows: those of corpus/tikv/expected/merged.
    let ex = out.join("expected");
    std::fs::create_dir_all(&ex).unwrap();
    let mut counts = Vec::new();
    let mut table_list = Vec::new();
    for t in &tables {
        let rows = table_rows(t, &state);
        assert_eq!(
            table_file(t, &rows, &[]),
            table_file(t, &table_rows(t, &merged), &[])
        );
        counts.push(format!("{}.{}: {} rows", t.db, t.name, rows.len()));
        std::fs::write(
            ex.join(format!("{}.{}.json", t.db, t.name)),
            table_file(t, &rows, &[]),
        )
        .unwrap();
        let s = table_sums[&t.id];
        table_list.push(json!({
            "db": t.db,
            "table": t.name,
            "id": t.id,
            "physical_ids": t.physical_ids(),
            "rows": rows.len(),
            "crc64xor": s.crc,
            "total_kvs": s.kvs,
            "total_bytes": s.bytes,
            "files": files.iter().filter(|f| f.table_id == t.id).map(|f| f.name.clone()).collect::<Vec<_>>(),
        }));
    }
    let j = json!({
        "cluster_id": TIKV_CLUSTER_ID,
        "cluster_version": CLUSTER_VERSION,
        "backup_ts": backup_ts,
        "backup_ts_physical_ms": backup_ts >> 18,
        "start_version": 0,
        "state": "the history at T3 (store3's image, the last commit), which is corpus/tikv's merged state: rows = corpus/tikv/expected/merged",
        "t3": t3,
        "dirs": {
            "v1": "backupmeta v1: files (4) and schemas (7) inline",
            "v2": "backupmeta v2: version 1, file_index -> backupmeta.datafile.000000001, schema_index -> backupmeta.schema.000000002; data files identical to v1",
            "v2-encrypted": "v2 with AES-256-CTR: data files, sub-files and backupmeta (16-byte IV prefix) encrypted",
            "damaged-bitflip": "v1 with one bit flipped in a write-CF data file (damage.json)",
            "damaged-missing": "v1 without one data file (damage.json)",
            "damaged-truncated": "v1 with one data file cut to half (damage.json)",
            "damaged-meta": "v1 with a File crc64xor and a Schema total_kvs altered in backupmeta (damage.json)",
        },
        "encryption": {
            "dir": "v2-encrypted",
            "method": "aes256-ctr",
            "key_hex": hexs(&key),
            "iv": "16 bytes per file: File.cipher_iv for data files and sub-files, the first 16 bytes of backupmeta for backupmeta",
        },
        "tables": table_list,
        "files": files.iter().map(|f| json!({
            "name": f.name,
            "cf": f.cf,
            "table": f.table,
            "physical_id": f.pid,
            "index_id": f.index,
            "region_id": f.region,
            "store_id": f.store,
            "start_key": hexs(&f.start),
            "end_key": hexs(&f.end),
            "crc64xor": f.sum.crc,
            "total_kvs": f.sum.kvs,
            "total_bytes": f.sum.bytes,
            "entries": f.entries.len(),
        })).collect::<Vec<_>>(),
    });
    std::fs::write(
        ex.join("backup.json"),
        serde_json::to_string_pretty(&j).unwrap() + "\n",
    )
    .unwrap();
    std::fs::write(
        ex.join("damage.json"),
        serde_json::to_string_pretty(&Value::Object(damage)).unwrap() + "\n",
    )
    .unwrap();
    let total: usize = files.iter().map(|f| f.sst.len()).sum();
    eprintln!(
        "gen-tikv --br: backup ts {backup_ts}, {} data files ({total} bytes), {} tables",
        files.len(),
        tables.len()
    );
    for c in counts {
        eprintln!("  {c}");
    }
    eprintln!("gen-tikv --br: wrote {}", out.display());
}
