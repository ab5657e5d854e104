//! TiKV stores as salvage inputs: find the kv RocksDB of a data directory, salvage its `default`,
//! `write` and `lock` column families (format-specs/tikv.md §1), and merge several stores (the
//! replicas of one cluster, perhaps imaged at different moments) into one stream of keys with every
//! MVCC version any store holds (§11).
//!
//! Each store's final RocksDB state comes in key order, one stream per data column family: live
//! from salvage merges running on their own threads ([`stream_stores`]), or from spool files (a BR
//! backup's data, [`salvage_stores`]); the stores are then merged key by key, so memory stays
//! bounded by the versions of a single key and the streams' buffers.

use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::codec::decode_bytes;
use super::region::{MetaCollector, RegionPlan, StoreMeta};
use crate::io::scratch::{read_framed, read_framed_within, write_framed};
use crate::lsm::salvage::{
    prepare_db, salvage_db_visit, DbSalvageOptions, DbSalvageReport, Prepared, Resolved, StateSink,
};

/// The three column families that hold data (`raft` holds no user data).
pub const DATA_CFS: [&str; 3] = ["default", "write", "lock"];

/// The kv RocksDB inside a TiKV data directory: `DATADIR/db` when it exists, else the directory
/// itself (a kv DB directory, or a directory of loose SSTs).
pub fn kv_dir(datadir: &Path) -> PathBuf {
    let db = datadir.join("db");
    if db.is_dir() {
        db
    } else {
        datadir.to_path_buf()
    }
}

/// What salvaging one store gave.
#[derive(Debug, Serialize)]
pub struct StoreOutcome {
    /// The data directory as given.
    pub path: String,
    /// The kv RocksDB read.
    pub kv_dir: String,
    /// Keys spooled per data column family.
    pub keys: [u64; 3],
    pub suspect_keys: u64,
    /// Column families that were found, with their key counts (including `raft` and others).
    pub report: DbSalvageReport,
    /// The store's identity and region metadata (format-specs/tikv.md §12).
    pub meta: StoreMeta,
}

impl StoreOutcome {
    /// Key ranges (full data keys, inclusive; `None` = open) each data column family lost to
    /// damaged blocks, from the salvage report.
    pub fn lost_spans(&self) -> [Vec<LostSpan>; 3] {
        let mut out: [Vec<LostSpan>; 3] = Default::default();
        for t in &self.report.tables {
            let Some(i) = t
                .column_family
                .as_deref()
                .and_then(|c| DATA_CFS.iter().position(|d| *d == c))
            else {
                continue;
            };
            for d in &t.damaged {
                if let Some(l) = &d.lost_keys {
                    let dec = |h: &Option<String>| h.as_ref().and_then(|x| hex::decode(x).ok());
                    out[i].push((dec(&l.from), dec(&l.to)));
                }
            }
        }
        out
    }
}

/// A lost key range: inclusive bounds, `None` = open.
pub type LostSpan = (Option<Vec<u8>>, Option<Vec<u8>>);

/// Spools a store's data column families to `<tmp>/<cf>.run`.
struct Spool {
    dir: PathBuf,
    cur: Option<(usize, BufWriter<File>)>,
    keys: [u64; 3],
    /// Suspect keys per data column family.
    suspect: [u64; 3],
    meta: MetaCollector,
}

impl StateSink for Spool {
    fn begin_cf(&mut self, name: &str) -> io::Result<String> {
        self.cur = None;
        self.meta.begin_cf(name);
        if let Some(i) = DATA_CFS.iter().position(|c| *c == name) {
            // A column family may begin again (the salvage started its merge over): forget it.
            self.keys[i] = 0;
            self.suspect[i] = 0;
            let p = self.dir.join(format!("{name}.run"));
            self.cur = Some((i, BufWriter::with_capacity(1 << 20, File::create(&p)?)));
            return Ok(format!("{name}.run"));
        }
        Ok(String::new())
    }
    fn entry(&mut self, e: &Resolved<'_>) -> io::Result<()> {
        if e.key.first() == Some(&0x01) {
            if let Some(v) = e.value {
                self.meta.entry(e.key, v);
            }
        }
        let Some((i, w)) = &mut self.cur else {
            return Ok(());
        };
        // A key with only merge operands or an unresolved blob carries no TiKV record we can use.
        let Some(v) = e.value.filter(|_| e.blob_error.is_none()) else {
            return Ok(());
        };
        self.keys[*i] += 1;
        self.suspect[*i] += e.suspect as u64;
        write_rec(w, e.key, v, flags(e.suspect, e.unverified))
    }
    fn end_cf(&mut self) -> io::Result<()> {
        if let Some((_, mut w)) = self.cur.take() {
            w.flush()?;
        }
        Ok(())
    }
}

/// A spooled record's flag byte: bit 0 suspect, bit 1 unverified (no checksum vouches for it).
const SUSPECT: u8 = 1;
const UNVERIFIED: u8 = 2;

fn flags(suspect: bool, unverified: bool) -> u8 {
    (suspect as u8 * SUSPECT) | (unverified as u8 * UNVERIFIED)
}

fn write_rec(w: &mut impl Write, k: &[u8], v: &[u8], flags: u8) -> io::Result<()> {
    write_framed(w, k)?;
    write_framed(w, v)?;
    w.write_all(&[flags])
}

/// Writes one column family's spool (`<dir>/<cf>.run`) for [`MergedStores`], from a source other
/// than a RocksDB (a BR backup's data files). Records must come in key order.
pub struct SpoolWriter {
    w: BufWriter<File>,
    pub records: u64,
}

impl SpoolWriter {
    pub fn create(dir: &Path, cf: &str) -> io::Result<SpoolWriter> {
        std::fs::create_dir_all(dir)?;
        Ok(SpoolWriter {
            w: BufWriter::with_capacity(1 << 20, File::create(dir.join(format!("{cf}.run")))?),
            records: 0,
        })
    }

    pub fn put(
        &mut self,
        key: &[u8],
        value: &[u8],
        suspect: bool,
        unverified: bool,
    ) -> io::Result<()> {
        self.records += 1;
        write_rec(&mut self.w, key, value, flags(suspect, unverified))
    }

    pub fn finish(mut self) -> io::Result<()> {
        self.w.flush()
    }
}

/// One spooled record.
struct Rec {
    key: Vec<u8>,
    value: Vec<u8>,
    flags: u8,
}

fn read_rec(r: &mut impl Read) -> io::Result<Option<Rec>> {
    let Some(key) = read_framed(r)? else {
        return Ok(None);
    };
    let value = read_framed_within(r)?;
    let mut s = [0u8; 1];
    r.read_exact(&mut s)?;
    Ok(Some(Rec {
        key,
        value,
        flags: s[0],
    }))
}

/// Join one thread per store, in order.
fn join_stores<'s, T>(
    handles: Vec<std::thread::ScopedJoinHandle<'s, io::Result<T>>>,
) -> Vec<io::Result<T>> {
    handles
        .into_iter()
        .map(|h| {
            h.join()
                .unwrap_or_else(|_| Err(io::Error::other("a store's salvage thread panicked")))
        })
        .collect()
}

/// Salvage each data directory (in parallel) and spool its data column families under `tmp`
/// (`tmp/store-<i>/`).
pub fn salvage_stores(
    datadirs: &[PathBuf],
    tmp: &Path,
    opts: &DbSalvageOptions,
) -> io::Result<Vec<StoreOutcome>> {
    let results: Vec<io::Result<StoreOutcome>> = std::thread::scope(|s| {
        let handles: Vec<_> = datadirs
            .iter()
            .enumerate()
            .map(|(i, d)| {
                s.spawn(move || -> io::Result<StoreOutcome> {
                    let dir = tmp.join(format!("store-{i}"));
                    std::fs::create_dir_all(&dir)?;
                    let kv = kv_dir(d);
                    if !kv.is_dir() {
                        return Err(io::Error::new(
                            io::ErrorKind::NotFound,
                            format!("{}: not a directory", d.display()),
                        ));
                    }
                    let mut spool = Spool {
                        dir: dir.clone(),
                        cur: None,
                        keys: [0; 3],
                        suspect: [0; 3],
                        meta: MetaCollector::default(),
                    };
                    let report = salvage_db_visit(&kv, &dir.join("runs"), opts, &mut spool)?;
                    let path = d.display().to_string();
                    Ok(StoreOutcome {
                        meta: spool.meta.finish(&path),
                        path,
                        kv_dir: kv.display().to_string(),
                        keys: spool.keys,
                        suspect_keys: spool.suspect.iter().sum(),
                        report,
                    })
                })
            })
            .collect();
        join_stores(handles)
    });
    results.into_iter().collect()
}

/// Stores streamed into a [`MergedStores`] as they are salvaged: each data column family of each
/// store is merged by its own thread and read by the store merge as it goes; nothing is spooled
/// (format-specs/tikv.md §11).
pub struct LiveStores {
    pub merged: MergedStores,
    /// Each store's identity and region metadata, read before the streams start.
    pub metas: Vec<StoreMeta>,
    pub finish: StoresFinish,
}

/// The salvage threads of [`LiveStores`], to be joined once the merge has been read to its end.
pub struct StoresFinish {
    handles: Vec<std::thread::JoinHandle<io::Result<StoreOutcome>>>,
}

impl StoresFinish {
    /// Each store's outcome (its salvage report complete), in the order given.
    pub fn join(self) -> io::Result<Vec<StoreOutcome>> {
        self.handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(io::Error::other("a store's salvage thread panicked")))
            })
            .collect()
    }
}

/// Sends one column family's final state, and the key ranges it lost, to the store merge.
struct LiveSink {
    tx: std::sync::mpsc::SyncSender<Vec<LiveItem>>,
    buf: Vec<LiveItem>,
    bytes: usize,
    keys: u64,
    suspect: u64,
    begun: bool,
}

impl LiveSink {
    fn flush(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        self.bytes = 0;
        self.tx.send(std::mem::take(&mut self.buf)).map_err(|_| {
            io::Error::new(
                io::ErrorKind::Interrupted,
                "the store merge stopped reading",
            )
        })
    }
}

impl StateSink for LiveSink {
    fn begin_cf(&mut self, name: &str) -> io::Result<String> {
        if self.begun {
            // What was sent cannot be taken back.
            return Err(io::Error::other(format!(
                "column family {name}: a table's entries are out of key order and the stream to \
                 the export cannot start over; salvage the store with `rockrescue salvage` to see \
                 which table"
            )));
        }
        self.begun = true;
        Ok(String::new())
    }
    fn entry(&mut self, e: &Resolved<'_>) -> io::Result<()> {
        // A key with only merge operands or an unresolved blob carries no TiKV record we can use.
        let Some(v) = e.value.filter(|_| e.blob_error.is_none()) else {
            return Ok(());
        };
        self.keys += 1;
        self.suspect += e.suspect as u64;
        self.bytes += e.key.len() + v.len() + 64;
        self.buf.push(LiveItem::Rec(Rec {
            key: e.key.to_vec(),
            value: v.to_vec(),
            flags: flags(e.suspect, e.unverified),
        }));
        if self.bytes >= 1 << 20 {
            self.flush()?;
        }
        Ok(())
    }
    fn end_cf(&mut self) -> io::Result<()> {
        self.flush()
    }
    fn wants_lost_ranges(&self) -> bool {
        true
    }
    fn lost_range(&mut self, from: Option<&[u8]>, to: Option<&[u8]>) -> io::Result<()> {
        self.buf.push(LiveItem::Lost((
            from.map(<[u8]>::to_vec),
            to.map(<[u8]>::to_vec),
        )));
        Ok(())
    }
    /// The parallel merge's workers write the records in the spool format (the keys with a
    /// value, as [`StateSink::entry`] takes them).
    fn formatter(&self) -> Option<crate::lsm::salvage::EntryFormatter> {
        Some(std::sync::Arc::new(|e, out| {
            if let Some(v) = e.value.filter(|_| e.blob_error.is_none()) {
                // Writing into a Vec cannot fail.
                let _ = write_rec(out, e.key, v, flags(e.suspect, e.unverified));
            }
        }))
    }
    fn write_formatted(&mut self, bytes: &[u8], _: u64) -> io::Result<()> {
        // Count the records (and the suspect ones) the workers wrote.
        let mut at = 0;
        while let Some((next, f)) = skip_rec(bytes, at) {
            self.keys += 1;
            self.suspect += (f & SUSPECT != 0) as u64;
            at = next;
        }
        self.bytes += bytes.len();
        self.buf.push(LiveItem::Records(bytes.to_vec()));
        self.flush()
    }
}

/// The spool record at `at` in `b`: where the next one starts, and its flags (None at the end).
fn skip_rec(b: &[u8], at: usize) -> Option<(usize, u8)> {
    let len = |at: usize| -> Option<usize> {
        Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?) as usize)
    };
    let v_at = at + 4 + len(at)?;
    let f_at = v_at + 4 + len(v_at)?;
    Some((f_at + 1, *b.get(f_at)?))
}

/// A sink that keeps nothing (column families merged only for the report).
struct NullSink;

impl StateSink for NullSink {
    fn begin_cf(&mut self, _: &str) -> io::Result<String> {
        Ok(String::new())
    }
    fn entry(&mut self, _: &Resolved<'_>) -> io::Result<()> {
        Ok(())
    }
    fn end_cf(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Salvage each data directory and stream its data column families into one [`MergedStores`]
/// (see [`LiveStores`]). The region metadata and each database's tables, WALs and sorted runs are
/// read before this returns; the merges run while the caller reads the stream. Sorted runs (only
/// for what is not sorted already) spill under `tmp/store-<i>/`.
pub fn stream_stores(
    datadirs: &[PathBuf],
    tmp: &Path,
    opts: &DbSalvageOptions,
) -> io::Result<LiveStores> {
    // --memory-mb is for the whole export: each store's data column families merge at once.
    let opts = &DbSalvageOptions {
        memory_budget: (opts.memory_budget / (DATA_CFS.len() * datadirs.len().max(1))).max(8 << 20),
        ..opts.clone()
    };
    let prepared: Vec<io::Result<(StoreMeta, Prepared)>> = std::thread::scope(|s| {
        let handles: Vec<_> = datadirs
            .iter()
            .enumerate()
            .map(|(i, d)| {
                s.spawn(move || -> io::Result<(StoreMeta, Prepared)> {
                    let dir = tmp.join(format!("store-{i}"));
                    let kv = kv_dir(d);
                    if !kv.is_dir() {
                        return Err(io::Error::new(
                            io::ErrorKind::NotFound,
                            format!("{}: not a directory", d.display()),
                        ));
                    }
                    let meta = super::region::read_store_meta(d, &kv, &dir.join("meta"))?;
                    Ok((meta, prepare_db(&kv, &dir.join("runs"), opts)?))
                })
            })
            .collect();
        join_stores(handles)
    });
    let mut metas = Vec::new();
    let mut sources: [Vec<Option<CfSource>>; 3] = Default::default();
    let mut handles = Vec::new();
    for (d, p) in datadirs.iter().zip(prepared) {
        let (meta, mut prepared) = p?;
        let mut cf_threads = Vec::new();
        for (ci, cf) in DATA_CFS.iter().enumerate() {
            let Some(work) = prepared.take_cf(cf) else {
                sources[ci].push(None);
                continue;
            };
            let (tx, rx) = std::sync::mpsc::sync_channel(4);
            sources[ci].push(Some(CfSource::Live {
                rx,
                buf: Vec::new().into_iter(),
                records: None,
            }));
            cf_threads.push(std::thread::spawn(move || {
                let mut sink = LiveSink {
                    tx,
                    buf: Vec::new(),
                    bytes: 0,
                    keys: 0,
                    suspect: 0,
                    begun: false,
                };
                let done = work.merge(&mut sink)?;
                Ok::<_, io::Error>((ci, sink.keys, sink.suspect, done))
            }));
        }
        let path = d.display().to_string();
        let kv = kv_dir(d).display().to_string();
        let store_meta = meta.clone();
        handles.push(std::thread::spawn(move || -> io::Result<StoreOutcome> {
            // The other column families (raft ...) only for the report.
            let mut done = Vec::new();
            for name in prepared.column_families() {
                if let Some(w) = prepared.take_cf(&name) {
                    done.push(w.merge(&mut NullSink)?);
                }
            }
            let mut keys = [0u64; 3];
            let mut suspect = 0u64;
            for h in cf_threads {
                let (ci, k, s, d) = h.join().unwrap_or_else(|_| {
                    Err(io::Error::other(
                        "a column family's salvage thread panicked",
                    ))
                })?;
                keys[ci] = k;
                suspect += s;
                done.push(d);
            }
            Ok(StoreOutcome {
                path,
                kv_dir: kv,
                keys,
                suspect_keys: suspect,
                report: prepared.finish(done),
                meta: store_meta,
            })
        }));
        metas.push(meta);
    }
    let n = metas.len();
    let [default, write, lock] = sources;
    Ok(LiveStores {
        merged: MergedStores::from_cfs(
            n,
            CfMerge::with_sources(write, "write", true)?,
            CfMerge::with_sources(default, "default", true)?,
            CfMerge::with_sources(lock, "lock", false)?,
        ),
        metas,
        finish: StoresFinish { handles },
    })
}

/// One MVCC version of a key as the write CF records it, merged over the stores.
#[derive(Clone, Debug)]
pub struct WriteVersion {
    /// The key's timestamp: the commit ts (the start ts of a rollback).
    pub ts: u64,
    /// The write record (from the first store, in command-line order, that has this version).
    pub value: Vec<u8>,
    /// Bit i: store i holds this version.
    pub stores: u64,
    /// Stores whose record at this ts differs from `value` (bit mask).
    pub conflicting: u64,
    pub suspect: bool,
}

/// A default-CF value (a long value, keyed by its transaction's start ts).
#[derive(Clone, Debug)]
pub struct DefaultValue {
    pub start_ts: u64,
    pub value: Vec<u8>,
    pub stores: u64,
}

/// A lock-CF record and the store it came from.
#[derive(Clone, Debug)]
pub struct LockRecord {
    pub store: usize,
    pub value: Vec<u8>,
}

/// Every version of one user key over all stores.
#[derive(Clone, Debug, Default)]
pub struct KeyGroup {
    /// The raw (TiDB) key, or the undecodable data key itself when `bad_key` is set.
    pub raw: Vec<u8>,
    /// The data key's encoded prefix did not decode (damage, or not a TiKV data key).
    pub bad_key: bool,
    /// Newest first.
    pub writes: Vec<WriteVersion>,
    /// Newest first.
    pub defaults: Vec<DefaultValue>,
    pub locks: Vec<LockRecord>,
    /// Some store marked one of this key's records suspect (lost key range, damaged WAL).
    pub suspect: bool,
    /// One of this key's records comes from a table or block no checksum vouches for.
    pub unverified: bool,
}

/// A spooled record in the merge heap: (full key, store, value, flags).
type HeapRec = (Vec<u8>, usize, Vec<u8>, u8);

/// Where one store's column family is read from: a spool file, or a live stream from a salvage
/// merge running on another thread ([`stream_stores`]), which also tells the key ranges damage
/// took as it finds them.
enum CfSource {
    File(BufReader<File>),
    Live {
        rx: std::sync::mpsc::Receiver<Vec<LiveItem>>,
        buf: std::vec::IntoIter<LiveItem>,
        records: Option<std::io::Cursor<Vec<u8>>>,
    },
}

/// One item of a live column-family stream.
enum LiveItem {
    Rec(Rec),
    /// Records in the spool format, formatted by the merge's worker threads.
    Records(Vec<u8>),
    /// A key range the store lost in this column family (told before any record after it).
    Lost(LostSpan),
}

impl CfSource {
    /// The next record; lost ranges met on the way go to `lost`.
    fn next(&mut self, lost: &mut Vec<LostSpan>) -> io::Result<Option<Rec>> {
        match self {
            CfSource::File(r) => read_rec(r),
            CfSource::Live { rx, buf, records } => loop {
                if let Some(c) = records {
                    match read_rec(c)? {
                        Some(r) => return Ok(Some(r)),
                        None => *records = None,
                    }
                }
                match buf.next() {
                    Some(LiveItem::Rec(r)) => return Ok(Some(r)),
                    Some(LiveItem::Records(b)) => *records = Some(std::io::Cursor::new(b)),
                    Some(LiveItem::Lost(l)) => lost.push(l),
                    None => match rx.recv() {
                        Ok(b) => *buf = b.into_iter(),
                        // The producer is done (or failed: its error comes with the store's
                        // outcome).
                        Err(_) => return Ok(None),
                    },
                }
            },
        }
    }
}

/// Internal flag of a heap record: the region filter has judged it (format-specs/tikv.md §13).
const DECIDED: u8 = 0x80;

/// Reads one column family of several stores in merged key order.
struct CfMerge {
    readers: Vec<Option<CfSource>>,
    heap: BinaryHeap<std::cmp::Reverse<HeapRec>>,
    with_ts: bool,
    /// Index into [`DATA_CFS`].
    cf: usize,
    regions: Option<std::sync::Arc<RegionFilter>>,
    /// Per store: the key ranges it lost in this column family, as far as known.
    lost: Vec<Vec<LostSpan>>,
    /// Per store: records dropped because another store is authoritative for their range.
    unused: Vec<u64>,
    /// Per store: records dropped because the store holds no usable replica of their range.
    leftover: Vec<u64>,
    /// Records taken from a next-best replica where the better ones lost the range to damage.
    filled: u64,
}

/// The region plan and what each store lost, as the merge needs them.
#[derive(Debug)]
pub struct RegionFilter {
    pub plan: RegionPlan,
    /// Per store, per data CF (stores read from spools; live streams tell their own).
    pub lost: Vec<[Vec<LostSpan>; 3]>,
}

/// What the region filter made of one record.
enum Take {
    Yes,
    /// From a next-best replica, in a range the better ones lost.
    Filled,
    Unused,
    Leftover,
}

impl CfMerge {
    fn open(dirs: &[PathBuf], cf: &str, with_ts: bool) -> io::Result<CfMerge> {
        let mut sources = Vec::new();
        for d in dirs {
            let p = d.join(format!("{cf}.run"));
            sources.push(if p.exists() {
                Some(CfSource::File(BufReader::with_capacity(
                    1 << 16,
                    File::open(p)?,
                )))
            } else {
                None
            });
        }
        CfMerge::with_sources(sources, cf, with_ts)
    }

    fn with_sources(
        sources: Vec<Option<CfSource>>,
        cf: &str,
        with_ts: bool,
    ) -> io::Result<CfMerge> {
        let n = sources.len();
        let mut m = CfMerge {
            readers: sources,
            heap: BinaryHeap::new(),
            with_ts,
            cf: DATA_CFS.iter().position(|c| *c == cf).unwrap_or(0),
            regions: None,
            lost: vec![Vec::new(); n],
            unused: vec![0; n],
            leftover: vec![0; n],
            filled: 0,
        };
        for i in 0..n {
            m.refill(i)?;
        }
        Ok(m)
    }

    /// Put store `i`'s next record in the heap.
    fn refill(&mut self, i: usize) -> io::Result<()> {
        let Some(r) = &mut self.readers[i] else {
            return Ok(());
        };
        if let Some(rec) = r.next(&mut self.lost[i])? {
            self.heap
                .push(std::cmp::Reverse((rec.key, i, rec.value, rec.flags)));
        }
        Ok(())
    }

    /// Judge the records at the top of the heap by the region plan until the top is one to read.
    /// A record is judged only at the top: every other store's next record is then at or past its
    /// key, so every range those stores lost up to that key is known (format-specs/tikv.md §13).
    fn settle(&mut self) -> io::Result<()> {
        let Some(f) = self.regions.clone() else {
            return Ok(());
        };
        while let Some(std::cmp::Reverse(top)) = self.heap.peek() {
            if top.3 & DECIDED != 0 {
                break;
            }
            let Some(std::cmp::Reverse((k, i, v, fl))) = self.heap.pop() else {
                break;
            };
            match take(&f.plan, &self.lost, self.with_ts, i, &k) {
                Take::Yes => self.heap.push(std::cmp::Reverse((k, i, v, fl | DECIDED))),
                Take::Filled => {
                    self.filled += 1;
                    self.heap
                        .push(std::cmp::Reverse((k, i, v, fl | DECIDED | SUSPECT)));
                }
                Take::Unused => {
                    self.unused[i] += 1;
                    self.refill(i)?;
                }
                Take::Leftover => {
                    self.leftover[i] += 1;
                    self.refill(i)?;
                }
            }
        }
        Ok(())
    }

    /// The encoded user-key part of a data key (the key without its timestamp).
    fn prefix<'a>(&self, k: &'a [u8]) -> &'a [u8] {
        if self.with_ts && k.len() >= 9 {
            &k[..k.len() - 8]
        } else {
            k
        }
    }

    fn peek_prefix(&self) -> Option<&[u8]> {
        self.heap.peek().map(|r| self.prefix(&r.0 .0))
    }

    /// Pop the next record: (full key, store, value, flags).
    fn pop(&mut self) -> io::Result<Option<HeapRec>> {
        let Some(std::cmp::Reverse(mut x)) = self.heap.pop() else {
            return Ok(None);
        };
        self.refill(x.1)?;
        self.settle()?;
        x.3 &= !DECIDED;
        Ok(Some(x))
    }
}

/// Whether store `store`'s record at data key `key` is read, under the region plan (tikv.md §13):
/// from the authoritative replica's store, or from a next-best one where every better replica lost
/// the key to damage (`lost`: per store, the ranges lost in this column family). Keys that are not
/// data keys (`z...`) are always read.
fn take(
    plan: &RegionPlan,
    lost: &[Vec<LostSpan>],
    with_ts: bool,
    store: usize,
    key: &[u8],
) -> Take {
    let Some(rest) = key.strip_prefix(b"z") else {
        return Take::Yes;
    };
    let enc = if with_ts && rest.len() >= 8 {
        &rest[..rest.len() - 8]
    } else {
        rest
    };
    let Some(r) = plan.owner(enc) else {
        return Take::Leftover;
    };
    if r.stores.is_empty() {
        return Take::Unused;
    }
    let lost_at = |b: usize| {
        lost.get(b).is_some_and(|l| {
            l.iter().any(|(from, to)| {
                from.as_deref().is_none_or(|f| f <= key) && to.as_deref().is_none_or(|t| key <= t)
            })
        })
    };
    match r.stores.iter().position(|s| *s == store) {
        Some(0) if r.suspect => Take::Filled,
        Some(0) => Take::Yes,
        Some(j) if r.stores[..j].iter().all(|b| lost_at(*b)) => Take::Filled,
        Some(_) => Take::Unused,
        None => Take::Leftover,
    }
}

fn ts_of(k: &[u8]) -> u64 {
    if k.len() < 9 {
        return 0;
    }
    let b: [u8; 8] = k[k.len() - 8..].try_into().unwrap_or([0; 8]);
    !u64::from_be_bytes(b)
}

/// Counts of how the stores agree (format-specs/tikv.md §11).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Divergence {
    pub stores: usize,
    /// Write-CF versions held by every store.
    pub versions_in_all: u64,
    /// Per store: versions that store lacks but another holds.
    pub versions_missing: Vec<u64>,
    /// Per store: keys (not versions) that only this store holds.
    pub keys_only_in: Vec<u64>,
    /// The same key and commit ts with different records in different stores.
    pub conflicts: Vec<Conflict>,
    /// How many conflicts there were in all (`conflicts` keeps the first 1000).
    pub conflict_count: u64,
}

/// One same-ts conflict.
#[derive(Clone, Debug, Serialize)]
pub struct Conflict {
    /// The raw key, hex.
    pub key: String,
    pub ts: u64,
    /// The store whose record was used, and the stores that disagree (indexes in command-line order).
    pub used_store: usize,
    pub other_stores: Vec<usize>,
}

/// The merged MVCC stream over the spooled stores, one [`KeyGroup`] per user key in key order.
pub struct MergedStores {
    write: CfMerge,
    default: CfMerge,
    lock: CfMerge,
    n: usize,
    pub divergence: Divergence,
}

impl MergedStores {
    /// Open the spools [`salvage_stores`] wrote under `tmp` for `n` stores.
    pub fn open(tmp: &Path, n: usize) -> io::Result<MergedStores> {
        let dirs: Vec<PathBuf> = (0..n).map(|i| tmp.join(format!("store-{i}"))).collect();
        Ok(MergedStores::from_cfs(
            n,
            CfMerge::open(&dirs, "write", true)?,
            CfMerge::open(&dirs, "default", true)?,
            CfMerge::open(&dirs, "lock", false)?,
        ))
    }

    fn from_cfs(n: usize, write: CfMerge, default: CfMerge, lock: CfMerge) -> MergedStores {
        MergedStores {
            write,
            default,
            lock,
            n,
            divergence: Divergence {
                stores: n,
                versions_missing: vec![0; n],
                keys_only_in: vec![0; n],
                ..Divergence::default()
            },
        }
    }

    /// Read every key range only from the store the region plan chose for it (tikv.md §13). Call
    /// before the first [`MergedStores::next_group`].
    pub fn use_regions(&mut self, filter: RegionFilter) -> io::Result<()> {
        let f = std::sync::Arc::new(filter);
        for m in [&mut self.write, &mut self.default, &mut self.lock] {
            for (i, l) in f.lost.iter().enumerate() {
                if let Some(mine) = m.lost.get_mut(i) {
                    mine.extend(l[m.cf].iter().cloned());
                }
            }
            m.regions = Some(f.clone());
            m.settle()?;
        }
        Ok(())
    }

    /// Records the region plan left out, per store: (read from another store's authoritative
    /// replica, outside every usable replica of this store), and records filled in from next-best
    /// replicas.
    pub fn region_counts(&self) -> (Vec<u64>, Vec<u64>, u64) {
        let mut unused = vec![0; self.n];
        let mut leftover = vec![0; self.n];
        let mut filled = 0;
        for m in [&self.write, &self.default, &self.lock] {
            for i in 0..self.n {
                unused[i] += m.unused[i];
                leftover[i] += m.leftover[i];
            }
            filled += m.filled;
        }
        (unused, leftover, filled)
    }

    /// The next key, or None at the end.
    pub fn next_group(&mut self) -> io::Result<Option<KeyGroup>> {
        let p = [
            self.write.peek_prefix(),
            self.default.peek_prefix(),
            self.lock.peek_prefix(),
        ];
        let Some(prefix) = p.iter().flatten().min().map(|x| x.to_vec()) else {
            return Ok(None);
        };
        let mut g = KeyGroup::default();
        match prefix.first() {
            Some(b'z') => match decode_bytes(&prefix[1..]) {
                Ok((raw, n)) if n + 1 == prefix.len() => g.raw = raw,
                _ => {
                    g.raw = prefix.clone();
                    g.bad_key = true;
                }
            },
            _ => {
                g.raw = prefix.clone();
                g.bad_key = true;
            }
        }
        let all = if self.n >= 64 {
            u64::MAX
        } else {
            (1u64 << self.n) - 1
        };
        let mut key_stores = 0u64;
        while self.write.peek_prefix() == Some(&prefix[..]) {
            let Some((k, store, v, f)) = self.write.pop()? else {
                break;
            };
            let ts = ts_of(&k);
            let suspect = f & SUSPECT != 0;
            g.suspect |= suspect;
            g.unverified |= f & UNVERIFIED != 0;
            key_stores |= 1 << store.min(63);
            match g.writes.last_mut() {
                Some(last) if last.ts == ts => {
                    last.stores |= 1 << store.min(63);
                    last.suspect |= suspect;
                    if last.value != v {
                        last.conflicting |= 1 << store.min(63);
                    }
                }
                _ => g.writes.push(WriteVersion {
                    ts,
                    value: v,
                    stores: 1 << store.min(63),
                    conflicting: 0,
                    suspect,
                }),
            }
        }
        while self.default.peek_prefix() == Some(&prefix[..]) {
            let Some((k, store, v, f)) = self.default.pop()? else {
                break;
            };
            let ts = ts_of(&k);
            g.suspect |= f & SUSPECT != 0;
            g.unverified |= f & UNVERIFIED != 0;
            key_stores |= 1 << store.min(63);
            match g.defaults.last_mut() {
                Some(last) if last.start_ts == ts => last.stores |= 1 << store.min(63),
                _ => g.defaults.push(DefaultValue {
                    start_ts: ts,
                    value: v,
                    stores: 1 << store.min(63),
                }),
            }
        }
        while self.lock.peek_prefix() == Some(&prefix[..]) {
            let Some((_, store, v, f)) = self.lock.pop()? else {
                break;
            };
            g.suspect |= f & SUSPECT != 0;
            g.unverified |= f & UNVERIFIED != 0;
            g.locks.push(LockRecord { store, value: v });
        }
        // Divergence bookkeeping.
        let d = &mut self.divergence;
        for w in &g.writes {
            if w.stores == all {
                d.versions_in_all += 1;
            } else {
                for (i, m) in d.versions_missing.iter_mut().enumerate() {
                    *m += (w.stores & (1 << i.min(63)) == 0) as u64;
                }
            }
            if w.conflicting != 0 {
                d.conflict_count += 1;
                if d.conflicts.len() < 1000 {
                    d.conflicts.push(Conflict {
                        key: hex::encode(&g.raw),
                        ts: w.ts,
                        used_store: w.stores.trailing_zeros() as usize,
                        other_stores: (0..self.n)
                            .filter(|i| w.conflicting & (1 << (*i).min(63)) != 0)
                            .collect(),
                    });
                }
            }
        }
        if self.n > 1 && key_stores.count_ones() == 1 {
            d.keys_only_in[key_stores.trailing_zeros() as usize] += 1;
        }
        Ok(Some(g))
    }
}

/// What a key holds at a read timestamp, after MVCC (format-specs/tikv.md §7).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyState {
    /// Committed at `commit_ts` with this value.
    Value { commit_ts: u64, value: Vec<u8> },
    /// Deleted at `commit_ts`; `last_value` is the newest value before the delete, if any store
    /// still holds it.
    Deleted {
        commit_ts: u64,
        last_value: Option<(u64, Vec<u8>)>,
    },
    /// A Put whose value should be in the default CF at `start_ts` but no store has it.
    ValueLost { commit_ts: u64, start_ts: u64 },
    /// No committed version at or before the read ts.
    Absent,
}

/// Problems met while resolving a key.
#[derive(Clone, Debug, Default)]
pub struct ResolveProblems {
    /// Write records that did not parse (ts, message).
    pub bad_writes: Vec<(u64, String)>,
}

fn put_value(g: &KeyGroup, w: &super::mvcc::Write) -> Option<Vec<u8>> {
    match &w.short_value {
        Some(v) => Some(v.clone()),
        None => g
            .defaults
            .iter()
            .find(|d| d.start_ts == w.start_ts)
            .map(|d| d.value.clone()),
    }
}

/// Resolve a key at `read_ts` (`u64::MAX`: the newest commit). The newest Put or Delete at or below
/// the read ts decides; Lock and Rollback records are walked past; a GC fence at or below the read
/// ts hides the version it is on.
pub fn resolve(g: &KeyGroup, read_ts: u64, problems: &mut ResolveProblems) -> KeyState {
    use super::mvcc::{parse_write, WriteType};
    let mut iter = g.writes.iter().filter(|w| w.ts <= read_ts);
    while let Some(v) = iter.next() {
        let w = match parse_write(&v.value) {
            Ok(w) => w,
            Err(e) => {
                problems.bad_writes.push((v.ts, e.msg));
                continue;
            }
        };
        if w.gc_fence.is_some_and(|f| f != 0 && f <= read_ts) {
            return KeyState::Absent;
        }
        match w.kind {
            WriteType::Put => {
                return match put_value(g, &w) {
                    Some(value) => KeyState::Value {
                        commit_ts: v.ts,
                        value,
                    },
                    None => KeyState::ValueLost {
                        commit_ts: v.ts,
                        start_ts: w.start_ts,
                    },
                }
            }
            WriteType::Delete => {
                let last_value = iter.find_map(|o| {
                    let w = parse_write(&o.value).ok()?;
                    (w.kind == WriteType::Put)
                        .then(|| put_value(g, &w).map(|x| (o.ts, x)))
                        .flatten()
                });
                return KeyState::Deleted {
                    commit_ts: v.ts,
                    last_value,
                };
            }
            WriteType::Lock | WriteType::Rollback => continue,
        }
    }
    KeyState::Absent
}
