//! Whole-database salvage: the final visible state of every column family, rebuilt from every
//! table and WAL record that survives, with or without the MANIFEST.
//!
//! Every version of every key (from tables, by block, and from WAL batches) goes into sorted runs
//! per column family, spilled to temporary files when they outgrow the memory budget; the runs are
//! merged by (user key ascending, sequence descending) and each key resolved: the newest version
//! wins unless a newer range tombstone covers it; deletes hide what is older; merge operands are
//! kept unresolved (listed oldest first) down to the base value. Keys inside a lost key range of a
//! damaged block, or older than a damaged WAL record, are marked `suspect`.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::codec::hexfmt::push_hex;
use crate::ikey::vtype;
use crate::io::Source;
use crate::manifest::{self, Version};
use crate::sst::salvage::{FileReport, Salvage};
use crate::wal::{self, OpType};

use super::numbered;
use super::stream::{self, write_version, LostRange, StreamTable, Tombstone, Version1};

/// Operation kinds in a run (the internal-key value types, format-specs/internal-key.md).
fn op_vtype(op: OpType) -> Option<u8> {
    Some(match op {
        OpType::Put => vtype::VALUE,
        OpType::Delete => vtype::DELETION,
        OpType::SingleDelete => vtype::SINGLE_DELETION,
        OpType::Merge => vtype::MERGE,
        OpType::BlobIndex => vtype::BLOB_INDEX,
        OpType::Entity => vtype::WIDE_COLUMN_ENTITY,
        OpType::TimedPut => vtype::VALUE_PREFERRED_SEQNO,
        _ => return None,
    })
}

/// What one column family is read from: its streamed tables, and sorted runs (an in-memory buffer
/// spilled to temp files past a budget) for what is not sorted already (WAL records, carved or
/// otherwise unordered tables).
struct Runs {
    mem: Vec<Version1>,
    mem_bytes: usize,
    files: Vec<PathBuf>,
    tmp: PathBuf,
    budget: usize,
    tombstones: Vec<Tombstone>,
    /// Key ranges of damaged blocks: [from, to] (None = open end).
    lost: Vec<LostRange>,
    /// Tables read as sorted streams (format-specs/manifest.md §5.7).
    tables: Vec<StreamTable>,
    /// Bytes written to run files.
    spilled: u64,
}

impl Runs {
    fn push(&mut self, v: Version1) -> io::Result<()> {
        self.mem_bytes += v.key.len() + v.value.len() + 48;
        self.mem.push(v);
        if self.mem_bytes > self.budget {
            self.spill()?;
        }
        Ok(())
    }

    fn spill(&mut self) -> io::Result<()> {
        if self.mem.is_empty() {
            return Ok(());
        }
        self.mem.sort_unstable();
        if self.files.is_empty() {
            std::fs::create_dir_all(&self.tmp)?;
        }
        let p = self.tmp.join(format!("run-{}", self.files.len()));
        let mut w = BufWriter::with_capacity(1 << 20, File::create(&p)?);
        for v in self.mem.drain(..) {
            self.spilled += (v.key.len() + v.value.len() + 18) as u64;
            write_version(&mut w, &v)?;
        }
        w.flush()?;
        self.files.push(p);
        self.mem_bytes = 0;
        Ok(())
    }
}

/// What salvage produced for one column family.
#[derive(Clone, Debug, Default, Serialize)]
pub struct CfOutcome {
    pub id: u32,
    pub name: String,
    pub file: String,
    pub keys: u64,
    pub suspect: u64,
    pub with_merge_operands: u64,
    /// Keys whose merge operands a built-in operator named in OPTIONS resolved.
    pub merges_resolved: u64,
    pub blob_indexes_unresolved: u64,
}

/// The report of a whole-database salvage.
#[derive(Clone, Debug, Default, Serialize)]
pub struct DbSalvageReport {
    pub dir: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest: Option<String>,
    pub column_families: Vec<CfOutcome>,
    pub tables: Vec<FileReport>,
    pub wals: Vec<WalOutcome>,
    pub notes: Vec<String>,
    /// Bytes of sorted runs written to scratch space: entries that were not already sorted (WAL
    /// records, carved or unordered tables) past the memory budget. Tables read whole through
    /// their index never are (format-specs/manifest.md §5.7).
    #[serde(skip_serializing_if = "is_zero")]
    pub scratch_bytes: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// What reading one WAL gave.
#[derive(Clone, Debug, Serialize)]
pub struct WalOutcome {
    pub path: String,
    pub operations: u64,
    pub problems: Vec<wal::WalProblem>,
}

/// Output format for salvaged key-values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SalvageFormat {
    Jsonl,
    Csv,
}

/// Options for [`salvage_db`].
#[derive(Clone, Debug)]
pub struct DbSalvageOptions {
    pub format: SalvageFormat,
    /// Memory for sorted runs before spilling, in bytes.
    pub memory_budget: usize,
    /// Also read tables the MANIFEST does not list (always done when it is unusable).
    pub include_orphans: bool,
    /// Where sorted runs spill (in a `.rockrescue-runs` directory made inside it); default: the
    /// output directory.
    pub tmp_dir: Option<std::path::PathBuf>,
    /// Read only part of the database (e.g. TiKV's region metadata); `None` reads everything.
    pub filter: Option<KeyFilter>,
    /// Told how far the salvage is (from any thread).
    pub progress: Option<ProgressHook>,
}

/// How far a whole-database salvage is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SalvageProgress {
    /// This many more bytes of table, WAL or skipped files are behind us (all of them add up to
    /// the sizes of the directory's numbered `.sst`, `.ldb` and `.log` files).
    Read(u64),
    /// This many more keys of the final state were written.
    Keys(u64),
}

/// A progress callback, shareable between threads.
#[derive(Clone)]
pub struct ProgressHook(pub std::sync::Arc<dyn Fn(SalvageProgress) + Send + Sync>);

impl std::fmt::Debug for ProgressHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProgressHook")
    }
}

impl ProgressHook {
    fn tell(h: &Option<ProgressHook>, p: SalvageProgress) {
        if let Some(h) = h {
            (h.0)(p);
        }
    }
}

/// The bytes [`SalvageProgress::Read`] adds up to for directory `dir`.
pub fn bytes_to_read(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter(|e| {
                    let n = e.file_name().to_string_lossy().into_owned();
                    super::numbered(&n).is_some_and(|(_, x)| matches!(x, "sst" | "ldb" | "log"))
                })
                .filter_map(|e| e.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

impl Default for DbSalvageOptions {
    fn default() -> Self {
        DbSalvageOptions {
            format: SalvageFormat::Jsonl,
            memory_budget: 256 << 20,
            include_orphans: false,
            tmp_dir: None,
            filter: None,
            progress: None,
        }
    }
}

/// A part of a database to read: some column families, and in them the user keys of some ranges
/// `[from, below)`. Tables the MANIFEST places wholly outside are not opened, so reading a small
/// key range of a large database costs what that range costs.
#[derive(Clone, Debug, Default)]
pub struct KeyFilter {
    /// Column family names; a column family whose name is not known (no MANIFEST and no table
    /// properties naming it) is read.
    pub cfs: Vec<String>,
    /// `(from, below)`: inclusive start, exclusive end (`None`: no bound).
    pub ranges: Vec<(Vec<u8>, Option<Vec<u8>>)>,
}

impl KeyFilter {
    fn wants_cf(&self, name: Option<&str>) -> bool {
        name.is_none_or(|n| self.cfs.iter().any(|c| c == n))
    }
    pub(super) fn wants_key(&self, k: &[u8]) -> bool {
        self.ranges
            .iter()
            .any(|(f, b)| k >= f.as_slice() && b.as_ref().is_none_or(|b| k < b.as_slice()))
    }
    /// Whether a table whose user keys span `[smallest, largest]` may hold wanted keys.
    fn wants_span(&self, smallest: Option<&[u8]>, largest: Option<&[u8]>) -> bool {
        self.ranges.iter().any(|(f, b)| {
            largest.is_none_or(|l| l >= f.as_slice())
                && smallest.is_none_or(|s| b.as_ref().is_none_or(|b| s < b.as_slice()))
        })
    }
}

/// One key of a column family's final state, as [`salvage_db_visit`] hands it to a sink.
#[derive(Clone, Copy, Debug)]
pub struct Resolved<'a> {
    pub key: &'a [u8],
    /// The visible value (a resolved blob, or the merged value when a built-in operator applied);
    /// `None` when only unresolved merge operands remain.
    pub value: Option<&'a [u8]>,
    /// Merge operands left unresolved, oldest first.
    pub merge_operands: &'a [&'a [u8]],
    /// Why a blob index could not be resolved (then `value` is the blob index itself).
    pub blob_error: Option<&'a str>,
    /// The value is a wide-column entity.
    pub entity: bool,
    /// In a lost key range of a damaged block, older than a lost range-deletion block that could
    /// have covered it, or older than a damaged WAL record.
    pub suspect: bool,
    /// The value (or an operand) comes from a table or block no checksum vouches for.
    pub unverified: bool,
}

/// Where [`salvage_db_visit`] sends the final state: column family by column family, each key once,
/// in key order.
pub trait StateSink {
    /// A column family starts; returns the name of the file it goes to, if any (for the report).
    /// It may start again before it ends, when the merge had to begin over (a table turned out
    /// unordered): the sink then forgets what it was given for it.
    fn begin_cf(&mut self, name: &str) -> io::Result<String>;
    fn entry(&mut self, e: &Resolved<'_>) -> io::Result<()>;
    fn end_cf(&mut self) -> io::Result<()>;
    /// A sink that only writes each entry as bytes may let the merge's worker threads format
    /// them: then [`StateSink::write_formatted`] receives the bytes of consecutive entries, in
    /// order, in place of [`StateSink::entry`].
    fn formatter(&self) -> Option<EntryFormatter> {
        None
    }
    /// Whether the sink wants to hear of key ranges lost to damage as the merge finds them
    /// ([`StateSink::lost_range`]).
    fn wants_lost_ranges(&self) -> bool {
        false
    }
    /// User keys `[from, to]` (`None`: open) of the current column family that damage may have
    /// taken: told before any entry in that range, so a reader of the entries knows, at each key,
    /// every lost range that reaches it (format-specs/manifest.md §5.7).
    fn lost_range(&mut self, from: Option<&[u8]>, to: Option<&[u8]>) -> io::Result<()> {
        let _ = (from, to);
        Ok(())
    }
    /// The formatted bytes of `entries` consecutive entries (see [`StateSink::formatter`]).
    fn write_formatted(&mut self, bytes: &[u8], entries: u64) -> io::Result<()> {
        let _ = (bytes, entries);
        Err(io::Error::other("this sink formats its own entries"))
    }
}

/// Formats one entry of the final state as the bytes a sink writes.
pub type EntryFormatter = std::sync::Arc<dyn Fn(&Resolved<'_>, &mut Vec<u8>) + Send + Sync>;

/// Writes each column family to `OUT/<name>.jsonl` or `.csv`.
struct FileSink<'a> {
    out: &'a Path,
    format: SalvageFormat,
    w: Option<BufWriter<File>>,
}

impl StateSink for FileSink<'_> {
    fn begin_cf(&mut self, name: &str) -> io::Result<String> {
        let ext = match self.format {
            SalvageFormat::Jsonl => "jsonl",
            SalvageFormat::Csv => "csv",
        };
        let file_name = format!("{}.{ext}", sanitize(name));
        let mut w = BufWriter::with_capacity(1 << 20, File::create(self.out.join(&file_name))?);
        if self.format == SalvageFormat::Csv {
            w.write_all(b"key,value,suspect,merge_operands,unverified\n")?;
        }
        self.w = Some(w);
        Ok(file_name)
    }
    fn entry(&mut self, e: &Resolved<'_>) -> io::Result<()> {
        match &mut self.w {
            Some(w) => write_entry(w, e, self.format),
            None => Ok(()),
        }
    }
    fn end_cf(&mut self) -> io::Result<()> {
        match self.w.take() {
            Some(mut w) => w.flush(),
            None => Ok(()),
        }
    }
    fn formatter(&self) -> Option<EntryFormatter> {
        let format = self.format;
        Some(std::sync::Arc::new(move |e, out| {
            // Writing into a Vec cannot fail.
            let _ = write_entry(out, e, format);
        }))
    }
    fn write_formatted(&mut self, bytes: &[u8], _: u64) -> io::Result<()> {
        match &mut self.w {
            Some(w) => w.write_all(bytes),
            None => Ok(()),
        }
    }
}

/// A table the directory scan will read, before it is opened.
struct Wanted<'a> {
    pos: usize,
    number: u64,
    path: &'a PathBuf,
    /// Its column family, when the MANIFEST lists it.
    listed: Option<u32>,
    meta: Option<&'a manifest::FileMeta>,
    /// Not listed, but newer than the MANIFEST's last edit.
    newer: bool,
    /// The MANIFEST's user-key bounds.
    lo: Option<Vec<u8>>,
    hi: Option<Vec<u8>>,
}

/// What planning a table found (done for all tables in parallel).
struct Planned {
    src: Source,
    /// It has a footer.
    whole: bool,
    prop_id: Option<u32>,
    prop_name: Option<String>,
    streamable: bool,
    /// Its keys lie within its MANIFEST bounds (not checked unless streamable).
    in_bounds: bool,
    marks: Vec<stream::Mark>,
}

/// Salvage the database in `dir` into `out`: one file per column family and the report.
///
/// Neither `out` nor the temporary directory may lie on the input: such a call is refused before
/// anything is created ([`crate::io::ensure_outside_inputs`]).
pub fn salvage_db(dir: &Path, out: &Path, opts: &DbSalvageOptions) -> io::Result<DbSalvageReport> {
    let tmp = opts
        .tmp_dir
        .as_deref()
        .unwrap_or(out)
        .join(".rockrescue-runs");
    crate::io::ensure_outside_inputs("output directory", out, &[dir])?;
    crate::io::ensure_outside_inputs("temporary directory", &tmp, &[dir])?;
    std::fs::create_dir_all(out)?;
    let mut sink = FileSink {
        out,
        format: opts.format,
        w: None,
    };
    salvage_db_visit(dir, &tmp, opts, &mut sink)
}

/// Salvage the database in `dir`, handing the final state of every column family to `sink`.
/// Sorted runs that outgrow the memory budget spill under `tmp` (created, then removed).
pub fn salvage_db_visit(
    dir: &Path,
    tmp: &Path,
    opts: &DbSalvageOptions,
    sink: &mut dyn StateSink,
) -> io::Result<DbSalvageReport> {
    let mut prepared = prepare_db(dir, tmp, opts)?;
    let mut done = Vec::new();
    for name in prepared.column_families() {
        if let Some(work) = prepared.take_cf(&name) {
            done.push(work.merge(sink)?);
        }
    }
    Ok(prepared.finish(done))
}

/// A database read up to its merge (format-specs/manifest.md §5.7): the MANIFEST replayed, every
/// table either planned for streaming or read into a sorted run, the WALs replayed. Each column
/// family is then merged on its own ([`Prepared::take_cf`], [`CfWork::merge`]), on any thread, and
/// [`Prepared::finish`] assembles the report.
pub struct Prepared {
    rep: DbSalvageReport,
    reports: Vec<(usize, FileReport)>,
    work: BTreeMap<u32, CfWork>,
    tmp: PathBuf,
}

/// One column family of a [`Prepared`] database, ready to merge.
pub struct CfWork {
    id: u32,
    name: String,
    runs: Runs,
    dir: PathBuf,
    operator: Option<super::merge::MergeOperator>,
    suspect_below: u64,
    filter: Option<KeyFilter>,
    progress: Option<ProgressHook>,
    memory_budget: usize,
}

/// What merging one column family gave, for [`Prepared::finish`].
pub struct CfDone {
    outcome: CfOutcome,
    reports: Vec<(usize, FileReport)>,
    notes: Vec<String>,
    scratch: u64,
}

impl Prepared {
    /// The column families to merge, in id order.
    pub fn column_families(&self) -> Vec<String> {
        self.work.values().map(|w| w.name.clone()).collect()
    }

    /// Take one column family out to merge it.
    pub fn take_cf(&mut self, name: &str) -> Option<CfWork> {
        let id = *self.work.iter().find(|(_, w)| w.name == name)?.0;
        self.work.remove(&id)
    }

    /// The report, from what the merges gave (column families in id order).
    pub fn finish(self, mut done: Vec<CfDone>) -> DbSalvageReport {
        let mut rep = self.rep;
        let mut reports = self.reports;
        done.sort_by_key(|d| d.outcome.id);
        for d in done {
            reports.extend(d.reports);
            rep.notes.extend(d.notes);
            rep.scratch_bytes += d.scratch;
            rep.column_families.push(d.outcome);
        }
        reports.sort_by_key(|(pos, _)| *pos);
        rep.tables = reports.into_iter().map(|(_, r)| r).collect();
        let _ = std::fs::remove_dir_all(&self.tmp);
        rep
    }
}

/// Read the database in `dir` up to its merge (see [`Prepared`]). Sorted runs that outgrow the
/// memory budget spill under `tmp` (created; removed by [`Prepared::finish`]).
pub fn prepare_db(dir: &Path, tmp: &Path, opts: &DbSalvageOptions) -> io::Result<Prepared> {
    let tmp = tmp.to_path_buf();
    std::fs::create_dir_all(&tmp)?;
    let mut rep = DbSalvageReport {
        dir: dir.display().to_string(),
        ..DbSalvageReport::default()
    };
    // The MANIFEST, when usable, names the column families and the live files.
    let version: Option<Version> = manifest::current_manifest(dir)
        .ok()
        .filter(|p| p.exists())
        .and_then(|p| {
            rep.manifest = Some(p.display().to_string());
            let s = Source::open(&p).ok()?;
            let v = manifest::replay(s.bytes(), |_, _| {});
            match s.check_intact() {
                Ok(()) => Some(v),
                Err(e) => {
                    rep.notes
                        .push(format!("the MANIFEST was not read as it was: {e}"));
                    None
                }
            }
        });
    let manifest_ok = version.as_ref().is_some_and(|v| v.problems.is_empty());
    if !manifest_ok {
        rep.notes.push(
            "the MANIFEST is missing or damaged: every table in the directory is read, each in the column \
             family its properties name, and sequence numbers order everything"
                .into(),
        );
    }
    let mut names: BTreeMap<u32, String> = BTreeMap::new();
    // Live tables: file number -> (column family id, the MANIFEST's record of it).
    let mut live: BTreeMap<u64, (u32, &manifest::FileMeta)> = BTreeMap::new();
    let mut min_log = 0u64;
    if let Some(v) = &version {
        for cf in &v.column_families {
            names.insert(cf.id, cf.name.clone());
            for (_, f) in &cf.files {
                live.insert(f.number, (cf.id, f));
            }
        }
        if manifest_ok {
            min_log = v
                .column_families
                .iter()
                .map(|c| c.log_number)
                .min()
                .unwrap_or(0)
                .max(v.min_log_number_to_keep);
        }
    }
    let mut files: Vec<(u64, String, PathBuf)> = std::fs::read_dir(dir)?
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let (n, ext) = numbered(&name)?;
            Some((n, ext.to_string(), e.path()))
        })
        .collect();
    files.sort();
    let mut runs: BTreeMap<u32, Runs> = BTreeMap::new();
    let new_runs = |id: u32| Runs {
        mem: Vec::new(),
        mem_bytes: 0,
        files: Vec::new(),
        tmp: tmp.join(format!("cf-{id}")),
        budget: opts.memory_budget,
        tombstones: Vec::new(),
        lost: Vec::new(),
        tables: Vec::new(),
        spilled: 0,
    };
    // Tables. A table the MANIFEST does not list is an orphan (skipped unless asked for), except
    // when its file number is at or above the MANIFEST's next file number: it was made after the
    // MANIFEST's last edit (a flush or compaction whose edit never reached it), so nothing the
    // MANIFEST says can have made it obsolete (format-specs/manifest.md §5.6, step 7).
    let next_file = version.as_ref().map_or(u64::MAX, |v| v.next_file_number);
    let file_len = |p: &Path| {
        std::fs::metadata(p)
            .ok()
            .filter(|m| m.is_file())
            .map_or(0, |m| m.len())
    };
    // Reports of tables, by their position in the directory's table order.
    let mut reports: Vec<(usize, FileReport)> = Vec::new();
    let tables = files.iter().filter(|(_, e, _)| e == "sst" || e == "ldb");
    // First the tables to read, in the directory's order (what the MANIFEST and the filter say
    // without opening them); then each opened and planned, in parallel; then each placed, in order.
    let mut wanted = Vec::new();
    for (pos, (n, _, path)) in tables.enumerate() {
        let listed = live.get(n).map(|l| l.0);
        let meta = live.get(n).map(|l| l.1);
        let skip = |why: Option<String>, rep: &mut DbSalvageReport| {
            ProgressHook::tell(&opts.progress, SalvageProgress::Read(file_len(path)));
            rep.notes.extend(why);
        };
        if let Some(f) = &opts.filter {
            if let Some(m) = meta {
                let cf_name = listed.and_then(|id| names.get(&id)).map(String::as_str);
                let (lo, hi) = (user_key_of_hex(&m.smallest), user_key_of_hex(&m.largest));
                if !f.wants_cf(cf_name) || !f.wants_span(lo.as_deref(), hi.as_deref()) {
                    skip(None, &mut rep);
                    continue;
                }
            }
        }
        let orphan = manifest_ok && listed.is_none();
        let newer = orphan && *n >= next_file;
        if orphan && !newer && !opts.include_orphans {
            skip(
                Some(format!(
                    "{} is not a live table (orphan): skipped (--include-orphans reads it; its entries \
                     may be older than deletions that were compacted away)",
                    path.display()
                )),
                &mut rep,
            );
            continue;
        }
        let (lo, hi) = meta.map_or((None, None), |m| {
            (user_key_of_hex(&m.smallest), user_key_of_hex(&m.largest))
        });
        wanted.push(Wanted {
            pos,
            number: *n,
            path,
            listed,
            meta,
            newer,
            lo,
            hi,
        });
    }
    use rayon::prelude::*;
    let planned: Vec<Result<Planned, crate::error::Error>> = wanted
        .par_iter()
        .map(|w| {
            let src = Source::open(w.path)?;
            let plan = Salvage::plan(src.bytes(), w.path);
            let (prop_id, prop_name) = plan.column_family();
            let streamable = stream::streamable(&plan);
            // A table holding keys outside its MANIFEST bounds cannot be merged by key range: the
            // ranges that need those keys would not open it (manifest.md §5.7).
            let in_bounds =
                !streamable || stream::within_bounds(&plan, w.lo.as_deref(), w.hi.as_deref());
            let marks = if streamable && in_bounds {
                stream::marks(&plan, w.lo.as_deref())
            } else {
                Vec::new()
            };
            Ok(Planned {
                whole: plan.has_footer(),
                prop_id,
                prop_name,
                streamable,
                in_bounds,
                marks,
                src,
            })
        })
        .collect();
    for (w, planned) in wanted.into_iter().zip(planned) {
        let Wanted {
            pos,
            number: n,
            path,
            listed,
            meta,
            newer,
            lo,
            hi,
        } = w;
        let skip = |why: Option<String>, rep: &mut DbSalvageReport| {
            ProgressHook::tell(&opts.progress, SalvageProgress::Read(file_len(path)));
            rep.notes.extend(why);
        };
        let p = match planned {
            Ok(p) => p,
            Err(e) => {
                ProgressHook::tell(&opts.progress, SalvageProgress::Read(file_len(path)));
                let mut fr = FileReport::unreadable(path, &e);
                // Whatever it held lies in its key range as the MANIFEST records it: every key
                // there is in doubt (suspect), not silently older.
                if let Some(cf) = listed {
                    fr.bound_lost_keys(lo.as_deref(), hi.as_deref());
                    fr.column_family = names.get(&cf).cloned();
                    let r = runs.entry(cf).or_insert_with(|| new_runs(cf));
                    r.lost.push((lo, hi, u64::MAX));
                }
                reports.push((pos, fr));
                continue;
            }
        };
        if newer && !opts.include_orphans {
            // Only a whole table: a torn one is most likely an unfinished compaction output, whose
            // entries the live tables still hold.
            if !p.whole {
                skip(
                    Some(format!(
                        "{} is newer than the MANIFEST's last edit (file number {n} >= next file number \
                         {next_file}) but incomplete (no footer): skipped, most likely an unfinished \
                         compaction or flush (--include-orphans reads what it holds)",
                        path.display()
                    )),
                    &mut rep,
                );
                continue;
            }
            rep.notes.push(format!(
                "{} is not in the MANIFEST but newer than its last edit (file number {n} >= next file \
                 number {next_file}): read, as a flush or compaction whose edit never reached the \
                 MANIFEST",
                path.display()
            ));
        }
        if !p.in_bounds {
            rep.notes.push(format!(
                "{}: holds keys outside the bounds the MANIFEST records for it; read into a sorted run",
                path.display()
            ));
        }
        let sorted = p.streamable && p.in_bounds;
        let cf = listed.or(p.prop_id).unwrap_or(0);
        if let Some(name) = p.prop_name {
            names.entry(cf).or_insert(name);
        }
        if let Some(f) = &opts.filter {
            if !f.wants_cf(names.get(&cf).map(String::as_str)) {
                skip(None, &mut rep);
                continue;
            }
        }
        let r = runs.entry(cf).or_insert_with(|| new_runs(cf));
        let table = StreamTable {
            pos,
            path: path.clone(),
            lo,
            hi,
            largest_seqno: meta.and_then(|m| m.largest_seqno),
            listed: meta.is_some(),
            column_family: names.get(&cf).cloned(),
            marks: p.marks,
            src: p.src,
        };
        if sorted {
            r.tables.push(table);
            continue;
        }
        ProgressHook::tell(&opts.progress, SalvageProgress::Read(file_len(path)));
        reports.push((pos, read_into_runs(&table, r, opts.filter.as_ref())?));
    }
    // WALs.
    let mut wal_suspect_below: BTreeMap<u32, u64> = BTreeMap::new();
    for (_, _, path) in files.iter().filter(|(n, e, _)| e == "log" && *n < min_log) {
        ProgressHook::tell(&opts.progress, SalvageProgress::Read(file_len(path)));
    }
    for (_, _, path) in files.iter().filter(|(n, e, _)| e == "log" && *n >= min_log) {
        ProgressHook::tell(&opts.progress, SalvageProgress::Read(file_len(path)));
        let src = match Source::open(path) {
            Ok(s) => s,
            Err(_) => continue,
        };
        let mut ops = 0u64;
        let mut err = None;
        let mut seqs_after_damage: Vec<(u64, u64)> = Vec::new();
        let mut sum = wal::read_wal(src.bytes(), path, |off, batch| {
            seqs_after_damage.push((off, batch.sequence));
            for op in &batch.ops {
                if let Some(f) = &opts.filter {
                    // A range deletion is kept whole: it may cover wanted keys.
                    if !f.wants_cf(names.get(&op.cf).map(String::as_str))
                        || (op.op != OpType::RangeDelete && !f.wants_key(op.key))
                    {
                        continue;
                    }
                }
                let (Some(seq), Some(t)) = (op.seq, op_vtype(op.op)) else {
                    if op.op == OpType::RangeDelete {
                        if let Some(seq) = op.seq {
                            let r = runs.entry(op.cf).or_insert_with(|| new_runs(op.cf));
                            r.tombstones.push((op.key.to_vec(), op.value.to_vec(), seq));
                        }
                    }
                    continue;
                };
                ops += 1;
                let r = runs.entry(op.cf).or_insert_with(|| new_runs(op.cf));
                if let Err(e) = r.push(Version1 {
                    key: op.key.to_vec(),
                    seq,
                    vtype: t,
                    value: op.value.to_vec(),
                    // WAL records are checksummed (format-specs/wal.md).
                    unverified: false,
                }) {
                    err.get_or_insert(e);
                }
            }
        });
        if let Some(e) = err {
            return Err(e);
        }
        // A WAL that changed under the reader: what was read past the first byte not read as it was
        // (zeros) is no evidence; in its place one problem, damage (so keys become suspect).
        if let Err(e) = src.check_intact() {
            sum.problems.retain(|p| p.offset < e.offset);
            sum.problems.push(wal::WalProblem {
                offset: e.offset,
                length: src.len().saturating_sub(e.offset),
                kind: "io_error".into(),
                message: e.kind.to_string(),
            });
        }
        // A damaged record (not a torn tail) may have held writes to any key: every key whose
        // newest version is older than the first batch after the damage is suspect.
        for p in sum.problems.iter().filter(|p| p.kind != "torn_tail") {
            let next = seqs_after_damage
                .iter()
                .find(|(off, _)| *off > p.offset)
                .map_or(u64::MAX, |(_, s)| *s);
            for id in runs.keys() {
                let e = wal_suspect_below.entry(*id).or_insert(0);
                *e = (*e).max(next);
            }
        }
        rep.wals.push(WalOutcome {
            path: path.display().to_string(),
            operations: ops,
            problems: sum.problems,
        });
    }
    // Built-in merge operators the newest OPTIONS file names, per column family.
    let mut operators: BTreeMap<String, super::merge::MergeOperator> = BTreeMap::new();
    if let Some((_, _, opt)) = std::fs::read_dir(dir)?
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let n: u64 = name.strip_prefix("OPTIONS-")?.parse().ok()?;
            Some((n, name, e.path()))
        })
        .max()
    {
        if let Ok(text) = std::fs::read_to_string(&opt) {
            for (cf, o) in super::options::parse(&text).column_families {
                if let Some(m) = o
                    .get("merge_operator")
                    .and_then(|v| super::merge::MergeOperator::from_options(v))
                {
                    operators.insert(cf, m);
                }
            }
        }
    }
    // Each column family merges on its own (format-specs/manifest.md §5.7).
    let mut work = BTreeMap::new();
    for (id, r) in runs {
        let name = names
            .get(&id)
            .cloned()
            .unwrap_or_else(|| format!("cf-{id}"));
        if let Some(f) = &opts.filter {
            if !f.wants_cf(names.get(&id).map(String::as_str)) {
                continue;
            }
        }
        work.insert(
            id,
            CfWork {
                id,
                operator: operators.get(&name).cloned(),
                name,
                runs: r,
                dir: dir.to_path_buf(),
                suspect_below: wal_suspect_below.get(&id).copied().unwrap_or(0),
                filter: opts.filter.clone(),
                progress: opts.progress.clone(),
                memory_budget: opts.memory_budget,
            },
        );
    }
    Ok(Prepared {
        rep,
        reports,
        work,
        tmp,
    })
}

impl CfWork {
    /// The column family's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Merge the column family into `sink` (`begin_cf`, the keys in order, `end_cf`), key ranges in
    /// parallel; lost key ranges are told as they are found to a sink that wants them
    /// ([`StateSink::lost_range`]). A table whose entries turn out unordered is read into a sorted
    /// run and the column family merged again from the start (the sink is told by a second
    /// `begin_cf`).
    pub fn merge(mut self, sink: &mut dyn StateSink) -> io::Result<CfDone> {
        let threads = rayon::current_num_threads().max(1);
        let r = &mut self.runs;
        let mut reports = Vec::new();
        let mut notes = Vec::new();
        let (outcome, parts) = loop {
            r.mem.sort_unstable();
            let file_name = sink.begin_cf(&self.name)?;
            let job = CfJob {
                dir: &self.dir,
                operator: self.operator.as_ref(),
                suspect_below: self.suspect_below,
                filter: self.filter.as_ref(),
                progress: &self.progress,
                threads,
                buffer_budget: (self.memory_budget as u64 / 4).clamp(2 << 20, 64 << 20),
            };
            match merge_cf(r, &job, sink)? {
                Ok((mut outcome, parts)) => {
                    outcome.id = self.id;
                    outcome.name = self.name.clone();
                    outcome.file = file_name;
                    break (outcome, parts);
                }
                Err(stream::Disorder(i)) => {
                    let t = r.tables.remove(i);
                    notes.push(format!(
                        "{}: entries out of key order; read into a sorted run and column family '{}' \
                         merged again",
                        t.path.display(),
                        self.name
                    ));
                    reports.push((t.pos, read_into_runs(&t, r, self.filter.as_ref())?));
                }
            }
        };
        sink.end_cf()?;
        use rayon::prelude::*;
        reports.par_extend(
            r.tables
                .par_iter()
                .enumerate()
                .map(|(i, t)| (t.pos, stream::table_report(t, parts.get(&(i as u32))))),
        );
        for f in &r.files {
            let _ = std::fs::remove_file(f);
        }
        let _ = std::fs::remove_dir(&r.tmp);
        Ok(CfDone {
            outcome,
            reports,
            notes,
            scratch: r.spilled,
        })
    }
}

/// What every range of one column family's merge shares.
struct CfJob<'j> {
    dir: &'j Path,
    operator: Option<&'j super::merge::MergeOperator>,
    suspect_below: u64,
    filter: Option<&'j KeyFilter>,
    progress: &'j Option<ProgressHook>,
    threads: usize,
    /// Output bytes the ranges ahead of the writer may hold.
    buffer_budget: u64,
}

/// Resolved keys of a range, owned, in one buffer: what a range's merge hands the writer (few
/// allocations, freed by another thread than the one that made them).
#[derive(Default)]
struct Batch {
    bytes: Vec<u8>,
    items: Vec<Item>,
    /// Merge operands of all items, as spans of `bytes`.
    operands: Vec<(usize, usize)>,
    /// With a formatter, `bytes` holds this many formatted entries and `items` is empty.
    formatted: u64,
    /// Lost key ranges to tell the sink ([`StateSink::lost_range`]) before item `.0`: spans of
    /// `lost_bytes` (None: open end).
    lost: Vec<(usize, Option<Span>, Option<Span>)>,
    lost_bytes: Vec<u8>,
}

/// `[start, end)` of a [`Batch`]'s bytes.
type Span = (usize, usize);

/// One key of a [`Batch`]: spans of its bytes.
struct Item {
    key: (usize, usize),
    value: Option<(usize, usize)>,
    /// Range of `Batch::operands`.
    operands: (usize, usize),
    blob_error: Option<String>,
    entity: bool,
    suspect: bool,
    unverified: bool,
}

impl Batch {
    fn push_lost(&mut self, from: Option<&[u8]>, to: Option<&[u8]>) {
        let mut span = |b: &[u8]| {
            let at = self.lost_bytes.len();
            self.lost_bytes.extend_from_slice(b);
            (at, at + b.len())
        };
        let (from, to) = (from.map(&mut span), to.map(&mut span));
        self.lost.push((self.items.len(), from, to));
    }

    fn push(&mut self, e: &Resolved<'_>) {
        let mut span = |b: &[u8]| {
            let at = self.bytes.len();
            self.bytes.extend_from_slice(b);
            (at, at + b.len())
        };
        let key = span(e.key);
        let value = e.value.map(&mut span);
        let first = self.operands.len();
        for o in e.merge_operands {
            let sp = span(o);
            self.operands.push(sp);
        }
        self.items.push(Item {
            key,
            value,
            operands: (first, self.operands.len()),
            blob_error: e.blob_error.map(str::to_string),
            entity: e.entity,
            suspect: e.suspect,
            unverified: e.unverified,
        });
    }

    /// Keys in the batch.
    fn len(&self) -> u64 {
        self.items.len() as u64 + self.formatted
    }

    fn is_empty(&self) -> bool {
        self.len() == 0 && self.lost.is_empty()
    }

    /// Hand every key to `sink`, in order.
    fn write(&self, sink: &mut dyn StateSink) -> io::Result<()> {
        let at = |(a, z): (usize, usize)| &self.bytes[a..z];
        let lat = |(a, z): (usize, usize)| &self.lost_bytes[a..z];
        if self.formatted > 0 {
            // The lost ranges first: told early is still before every key they reach.
            for (_, from, to) in &self.lost {
                sink.lost_range(from.map(lat), to.map(lat))?;
            }
            return sink.write_formatted(&self.bytes, self.formatted);
        }
        let mut ops: Vec<&[u8]> = Vec::new();
        let mut lost = self.lost.iter().peekable();
        for (i, it) in self.items.iter().enumerate() {
            while let Some((_, from, to)) = lost.next_if(|l| l.0 <= i) {
                sink.lost_range(from.map(lat), to.map(lat))?;
            }
            ops.clear();
            ops.extend(
                self.operands[it.operands.0..it.operands.1]
                    .iter()
                    .map(|s| at(*s)),
            );
            sink.entry(&Resolved {
                key: at(it.key),
                value: it.value.map(at),
                merge_operands: &ops,
                blob_error: it.blob_error.as_deref(),
                entity: it.entity,
                suspect: it.suspect,
                unverified: it.unverified,
            })?;
        }
        for (_, from, to) in lost {
            sink.lost_range(from.map(lat), to.map(lat))?;
        }
        Ok(())
    }
}

/// What the cursors found in each streamed table (by index in the stream list).
type Tallies = BTreeMap<u32, stream::Tally>;

/// What a range's merge sends the writer.
enum Msg {
    Batch(Batch),
    Done(Box<CfOutcome>, Tallies),
    Disorder(usize),
    Failed(io::Error),
}

/// Bounds the output in flight between the range workers and the writer. The range being written
/// (the head) may hold half the budget of its own; the ranges ahead of it share the budget. The
/// head never waits on the others, so whatever they hold, the writer keeps draining it.
struct Gate {
    state: std::sync::Mutex<GateState>,
    cv: std::sync::Condvar,
    budget: u64,
}

#[derive(Default)]
struct GateState {
    /// Bytes in flight per range.
    inflight: BTreeMap<usize, u64>,
    /// Bytes in flight of every range ahead of the head.
    ahead: u64,
    /// The range being written.
    head: usize,
    stopped: bool,
}

impl Gate {
    /// Wait until range `range` may send `n` more bytes; false once the merge is stopped.
    fn admit(&self, range: usize, n: u64) -> bool {
        let Ok(mut st) = self.state.lock() else {
            return false;
        };
        loop {
            if st.stopped {
                return false;
            }
            let mine = st.inflight.get(&range).copied().unwrap_or(0);
            let ok = if range <= st.head {
                mine == 0 || mine + n <= self.budget / 2
            } else {
                st.ahead == 0 || st.ahead + n <= self.budget
            };
            if ok {
                *st.inflight.entry(range).or_default() += n;
                if range > st.head {
                    st.ahead += n;
                }
                return true;
            }
            st = match self.cv.wait(st) {
                Ok(g) => g,
                Err(_) => return false,
            };
        }
    }

    /// The writer wrote `n` bytes of the head range.
    fn written(&self, n: u64) {
        self.update(|st| {
            let head = st.head;
            if let Some(x) = st.inflight.get_mut(&head) {
                *x = x.saturating_sub(n);
            }
        });
    }

    /// The head range is written: the next one is the head.
    fn advance(&self) {
        self.update(|st| {
            let head = st.head;
            st.inflight.remove(&head);
            st.head += 1;
            let next = st.inflight.get(&st.head).copied().unwrap_or(0);
            st.ahead = st.ahead.saturating_sub(next);
        });
    }

    fn stop(&self) {
        self.update(|st| st.stopped = true);
    }

    fn update(&self, f: impl FnOnce(&mut GateState)) {
        if let Ok(mut st) = self.state.lock() {
            f(&mut st);
        }
        self.cv.notify_all();
    }
}

/// Collects a range's resolved keys into batches for the writer.
struct BatchSink<'c> {
    tx: &'c std::sync::mpsc::Sender<Msg>,
    buf: Batch,
    formatter: Option<EntryFormatter>,
    gate: &'c Gate,
    range: usize,
    /// Emptied batches the writer hands back: their buffers are reused, not grown anew (fresh
    /// pages cost more than the copying).
    pool: &'c std::sync::Mutex<Vec<Batch>>,
}

/// A batch is sent once it holds this many bytes (or [`BATCH_ITEMS`] keys).
const BATCH_BYTES: usize = 1 << 20;
const BATCH_ITEMS: usize = 8192;

impl Batch {
    /// A batch whose buffers need not grow (short of a key or value over 64 KiB).
    fn with_capacity(items: bool) -> Batch {
        Batch {
            bytes: Vec::with_capacity(BATCH_BYTES + (64 << 10)),
            items: Vec::with_capacity(if items { BATCH_ITEMS } else { 0 }),
            ..Batch::default()
        }
    }

    /// Empty, keeping the buffers.
    fn clear(&mut self) {
        self.bytes.clear();
        self.items.clear();
        self.operands.clear();
        self.lost.clear();
        self.lost_bytes.clear();
        self.formatted = 0;
    }

    /// What a batch counts against the writer's budget.
    fn weight(&self) -> u64 {
        (self.bytes.len() + self.items.len() * 64) as u64
    }
}

impl BatchSink<'_> {
    fn flush(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let stopped = || io::Error::new(io::ErrorKind::Interrupted, "the merge was stopped");
        if !self.gate.admit(self.range, self.buf.weight()) {
            return Err(stopped());
        }
        let next = self
            .pool
            .lock()
            .ok()
            .and_then(|mut p| p.pop())
            .unwrap_or_else(|| Batch::with_capacity(self.formatter.is_none()));
        self.tx
            .send(Msg::Batch(std::mem::replace(&mut self.buf, next)))
            .map_err(|_| stopped())
    }
}

impl StateSink for BatchSink<'_> {
    fn begin_cf(&mut self, _: &str) -> io::Result<String> {
        Ok(String::new())
    }
    fn entry(&mut self, e: &Resolved<'_>) -> io::Result<()> {
        match &self.formatter {
            Some(f) => {
                f(e, &mut self.buf.bytes);
                self.buf.formatted += 1;
            }
            None => self.buf.push(e),
        }
        if self.buf.len() >= BATCH_ITEMS as u64 || self.buf.bytes.len() >= BATCH_BYTES {
            self.flush()?;
        }
        Ok(())
    }
    fn end_cf(&mut self) -> io::Result<()> {
        self.flush()
    }
    fn lost_range(&mut self, from: Option<&[u8]>, to: Option<&[u8]>) -> io::Result<()> {
        self.buf.push_lost(from, to);
        Ok(())
    }
}

/// Counts the bytes of streamed tables read, never past their total (ranges that share a block
/// both count it; the rest is told when the column family ends).
struct ReadTally<'p> {
    progress: &'p Option<ProgressHook>,
    told: std::sync::atomic::AtomicU64,
    total: u64,
}

impl ReadTally<'_> {
    fn add(&self, n: u64) {
        use std::sync::atomic::Ordering::SeqCst;
        let mut cur = self.told.load(SeqCst);
        loop {
            let new = (cur + n).min(self.total);
            match self.told.compare_exchange(cur, new, SeqCst, SeqCst) {
                Ok(_) => {
                    ProgressHook::tell(self.progress, SalvageProgress::Read(new - cur));
                    return;
                }
                Err(now) => cur = now,
            }
        }
    }
    fn finish(&self) {
        let told = self.told.load(std::sync::atomic::Ordering::SeqCst);
        ProgressHook::tell(self.progress, SalvageProgress::Read(self.total - told));
    }
}

/// What every key range of one column family's merge reads from.
struct RangeJob<'j> {
    r: &'j Runs,
    /// The tables the ranges have open, shared.
    plans: stream::Plans<'j>,
    runs: stream::RunInputs<'j>,
    /// Tombstones and lost ranges known before the merge.
    base: &'j stream::Learned,
    /// Pass lost ranges on to the sink as they are found.
    tell_lost: bool,
    job: &'j CfJob<'j>,
    tally: &'j ReadTally<'j>,
}

impl RangeJob<'_> {
    /// Merge `range` into `sink`: each key's versions resolved, the bytes read told to the tally,
    /// the lost ranges found told to the sink before the keys after them, and (with `tell_keys`)
    /// the keys written told to the progress hook. `stopped` ends the merge early.
    fn merge(
        &self,
        range: &stream::KeyRange,
        sink: &mut dyn StateSink,
        stopped: &dyn Fn() -> bool,
        tell_keys: bool,
    ) -> io::Result<(Result<(), stream::Disorder>, CfOutcome, Tallies)> {
        let job = self.job;
        let mut learned = self.base.clone();
        if self.tell_lost {
            learned.fresh = Some(Vec::new());
        }
        let mut outcome = CfOutcome::default();
        let mut blobs = Blobs {
            dir: job.dir.to_path_buf(),
            open: BTreeMap::new(),
            titan: BTreeMap::new(),
        };
        let (mut counted, mut unreported) = (0u64, 0u64);
        let merged = stream::merge_range(
            &self.r.tables,
            &self.plans,
            self.runs,
            range,
            &mut learned,
            job.filter,
            |versions, learned| {
                if stopped() {
                    return Err(io::Error::new(
                        io::ErrorKind::Interrupted,
                        "the merge was stopped",
                    ));
                }
                if learned.bytes_read > counted {
                    self.tally.add(learned.bytes_read - counted);
                    counted = learned.bytes_read;
                }
                for (from, to, _) in learned.fresh.iter_mut().flat_map(|f| f.drain(..)) {
                    sink.lost_range(from.as_deref(), to.as_deref())?;
                }
                let before = outcome.keys;
                resolve(
                    versions,
                    job.operator,
                    &mut blobs,
                    &learned.tombstones,
                    &learned.lost,
                    job.suspect_below,
                    sink,
                    &mut outcome,
                )?;
                unreported += outcome.keys - before;
                if tell_keys && unreported >= 1 << 16 {
                    ProgressHook::tell(job.progress, SalvageProgress::Keys(unreported));
                    unreported = 0;
                }
                Ok(())
            },
        )?;
        for (from, to, _) in learned.fresh.take().into_iter().flatten() {
            sink.lost_range(from.as_deref(), to.as_deref())?;
        }
        if tell_keys {
            ProgressHook::tell(job.progress, SalvageProgress::Keys(unreported));
        }
        self.tally.add(learned.bytes_read - counted);
        Ok((merged, outcome, learned.tallies))
    }
}

/// How many key ranges a column family's merge is split into: small enough that the output of a
/// range (about four times the table bytes it reads, as hex JSON) fits a quarter of the writer's
/// budget, so that a worker ahead of the range being written finishes its range and goes on to
/// the next rather than waiting at the gate; at least eight per worker, so that the last ranges
/// even out the workers' ends; at most 512 per worker (each range looks at every table's bounds).
fn range_count(table_bytes: u64, threads: usize, budget: u64) -> usize {
    let per_range = (budget / 16).max(1 << 20);
    let by_size = usize::try_from(table_bytes.div_ceil(per_range)).unwrap_or(usize::MAX);
    by_size.clamp(threads * 8, threads * 512)
}

/// Merge one column family: its key space split into ranges, merged by `job.threads` workers,
/// written to `sink` in key order by this thread. Returns the counts and the units each range
/// decoded, or the table whose entries turned out unordered.
fn merge_cf(
    r: &Runs,
    job: &CfJob<'_>,
    sink: &mut dyn StateSink,
) -> io::Result<Result<(CfOutcome, Tallies), stream::Disorder>> {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
    use std::sync::mpsc::channel;
    use std::sync::Mutex;
    let formatter = sink.formatter();
    let base = stream::Learned {
        tombstones: r.tombstones.clone(),
        lost: r.lost.clone(),
        ..stream::Learned::default()
    };
    let runs = stream::RunInputs {
        mem: &r.mem,
        files: &r.files,
    };
    let tally = ReadTally {
        progress: job.progress,
        told: 0.into(),
        total: r.tables.iter().map(|t| t.src.len()).sum(),
    };
    // A sink that wants lost ranges hears those known before the merge first, then each range's
    // as they are found, in key order.
    let tell_lost = sink.wants_lost_ranges();
    if tell_lost {
        for (from, to, _) in &base.lost {
            sink.lost_range(from.as_deref(), to.as_deref())?;
        }
    }
    let range_job = RangeJob {
        r,
        plans: stream::Plans::new(r.tables.len()),
        runs,
        base: &base,
        tell_lost,
        job,
        tally: &tally,
    };
    if job.threads <= 1 {
        // One thread: the whole key space, merged and written here.
        let (merged, outcome, tallies) =
            range_job.merge(&stream::KeyRange::default(), sink, &|| false, true)?;
        tally.finish();
        return Ok(merged.map(|()| (outcome, tallies)));
    }
    let ranges = stream::split(
        &r.tables,
        range_count(tally.total, job.threads, job.buffer_budget),
    );
    let cancel = AtomicBool::new(false);
    let next = AtomicUsize::new(0);
    let mut txs = Vec::with_capacity(ranges.len());
    let mut rxs = Vec::with_capacity(ranges.len());
    for _ in &ranges {
        let (tx, rx) = channel::<Msg>();
        txs.push(Mutex::new(Some(tx)));
        rxs.push(rx);
    }
    let pool = std::sync::Mutex::new(Vec::new());
    let gate = Gate {
        state: std::sync::Mutex::new(GateState::default()),
        cv: std::sync::Condvar::new(),
        budget: job.buffer_budget,
    };
    let run_range = |i: usize, tx: &std::sync::mpsc::Sender<Msg>| -> Msg {
        let mut out = BatchSink {
            tx,
            buf: pool
                .lock()
                .ok()
                .and_then(|mut p| p.pop())
                .unwrap_or_else(|| Batch::with_capacity(formatter.is_none())),
            formatter: formatter.clone(),
            gate: &gate,
            range: i,
            pool: &pool,
        };
        let merged = range_job.merge(&ranges[i], &mut out, &|| cancel.load(SeqCst), false);
        match merged.and_then(|m| out.flush().map(|()| m)) {
            Err(e) => Msg::Failed(e),
            Ok((Err(d), _, _)) => Msg::Disorder(d.0),
            Ok((Ok(()), outcome, tallies)) => Msg::Done(Box::new(outcome), tallies),
        }
    };
    let workers = job.threads.min(ranges.len()).max(1);
    let result = std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = next.fetch_add(1, SeqCst);
                if i >= ranges.len() || cancel.load(SeqCst) {
                    break;
                }
                let Some(tx) = txs[i].lock().ok().and_then(|mut t| t.take()) else {
                    break;
                };
                let msg = run_range(i, &tx);
                let _ = tx.send(msg);
            });
        }
        // The writer: ranges in key order, each as its worker produces it.
        let mut total = CfOutcome::default();
        let mut parts = Tallies::new();
        let mut unreported = 0u64;
        let mut result: io::Result<Result<(), stream::Disorder>> = Ok(Ok(()));
        'ranges: for rx in rxs {
            for msg in rx.iter() {
                match msg {
                    Msg::Batch(mut b) => {
                        let written = b.write(sink);
                        gate.written(b.weight());
                        unreported += b.len();
                        b.clear();
                        // Never more than were in flight at once: bounded by the gate's budget.
                        if let Ok(mut p) = pool.lock() {
                            p.push(b);
                        }
                        if let Err(x) = written {
                            result = Err(x);
                            break 'ranges;
                        }
                        if unreported >= 1 << 16 {
                            ProgressHook::tell(job.progress, SalvageProgress::Keys(unreported));
                            unreported = 0;
                        }
                    }
                    Msg::Done(o, p) => {
                        total.keys += o.keys;
                        total.suspect += o.suspect;
                        total.with_merge_operands += o.with_merge_operands;
                        total.merges_resolved += o.merges_resolved;
                        total.blob_indexes_unresolved += o.blob_indexes_unresolved;
                        for (t, x) in p {
                            parts.entry(t).or_default().absorb(x);
                        }
                    }
                    Msg::Disorder(d) => {
                        result = Ok(Err(stream::Disorder(d)));
                        break 'ranges;
                    }
                    Msg::Failed(e) => {
                        result = Err(e);
                        break 'ranges;
                    }
                }
            }
            gate.advance();
        }
        // Stop the workers (a send to a dropped receiver fails, a wait at the gate ends) before
        // they are joined.
        cancel.store(true, SeqCst);
        gate.stop();
        ProgressHook::tell(job.progress, SalvageProgress::Keys(unreported));
        result.map(|r| r.map(|()| (total, parts)))
    });
    tally.finish();
    result
}

/// Read a table that cannot be streamed (carved, unordered, another comparator ...) block by block
/// into the column family's sorted runs, with its tombstones and the key ranges its damage lost.
fn read_into_runs(
    t: &StreamTable,
    r: &mut Runs,
    filter: Option<&KeyFilter>,
) -> io::Result<FileReport> {
    let plan = Salvage::plan(t.src.bytes(), &t.path);
    let mut err = None;
    let mut report = plan.visit_entries(|e, unverified| {
        if err.is_some() || filter.is_some_and(|f| !f.wants_key(e.user_key)) {
            return;
        }
        let v = Version1 {
            key: e.user_key.to_vec(),
            seq: e.seq,
            vtype: e.vtype,
            value: e.value.to_vec(),
            unverified,
        };
        if let Err(x) = r.push(v) {
            err = Some(x);
        }
    });
    if let Some(e) = err {
        return Err(e);
    }
    // The entries taken so far came from blocks that verified before the file changed; the
    // report says from where on nothing was read.
    if let Err(e) = t.src.check_intact() {
        report.changed_while_read(&e);
    }
    for (ts, _) in plan.range_tombstones().0 {
        r.tombstones.push((ts.start, ts.end, ts.seq));
    }
    // Damage the table's own blocks cannot bound (a carved file's unreadable stretch) lies in
    // the table's key range as the MANIFEST records it.
    if t.listed {
        report.bound_lost_keys(t.lo.as_deref(), t.hi.as_deref());
    }
    for d in &report.damaged {
        if let Some(l) = &d.lost_keys {
            let dec = |h: &Option<String>| h.as_ref().and_then(|x| hex::decode(x).ok());
            let lost = match (d.kind.as_str(), t.listed) {
                // The tombstones of a lost range-deletion block lie in the table's key range as
                // the MANIFEST records it (tombstone extents included) and are no newer than
                // its largest sequence number (format-specs/damage-report.md §5.3).
                ("range-del", true) => (
                    t.lo.clone(),
                    t.hi.clone(),
                    t.largest_seqno.unwrap_or(u64::MAX),
                ),
                _ => (dec(&l.from), dec(&l.to), u64::MAX),
            };
            r.lost.push(lost);
        }
    }
    report.column_family = t.column_family.clone();
    Ok(report)
}

/// The user key of a MANIFEST bound (an internal key in hex); `None` (an open end) when it does not
/// parse.
fn user_key_of_hex(h: &str) -> Option<Vec<u8>> {
    let k = hex::decode(h).ok()?;
    crate::ikey::parse(&k).map(|p| p.user_key.to_vec())
}

/// The value a reader sees: a timed put stores its write time (fixed64) after the value.
fn visible_value(v: &Version1) -> &[u8] {
    if v.vtype == vtype::VALUE_PREFERRED_SEQNO && v.value.len() >= 8 {
        &v.value[..v.value.len() - 8]
    } else {
        &v.value
    }
}

fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Resolves blob indexes against the blob files of the database directory.
struct Blobs {
    dir: PathBuf,
    open: BTreeMap<u64, Option<Source>>,
    titan: BTreeMap<u64, Option<Source>>,
}

impl Blobs {
    /// The value a blob index points at, or why it cannot be had.
    fn value(&mut self, key: &[u8], index: &[u8]) -> Result<Vec<u8>, String> {
        match crate::blob::decode_index(index) {
            Some(crate::blob::BlobIndex::Inlined { value, .. }) => Ok(value.to_vec()),
            Some(crate::blob::BlobIndex::Blob {
                file_number,
                offset,
                size,
                compression,
                ..
            }) => {
                let dir = &self.dir;
                let src = self.open.entry(file_number).or_insert_with(|| {
                    Source::open(&dir.join(format!("{file_number:06}.blob"))).ok()
                });
                match src {
                    Some(s) => crate::blob::read_value(s.bytes(), key, offset, size, compression)
                        .and_then(|v| intact(s, v)),
                    None => Err(format!("blob file {file_number:06}.blob is missing")),
                }
            }
            Some(crate::blob::BlobIndex::Titan {
                file_number,
                offset,
                size,
            }) => {
                // Titan keeps its blob files in <db>/titandb; the key space is shared, so the file
                // number is enough.
                let dir = &self.dir;
                let src = self.titan.entry(file_number).or_insert_with(|| {
                    Source::open(&dir.join("titandb").join(format!("{file_number:06}.blob"))).ok()
                });
                match src {
                    Some(s) => crate::blob::read_titan_value(s.bytes(), key, offset, size)
                        .and_then(|v| intact(s, v)),
                    None => Err(format!(
                        "Titan blob file titandb/{file_number:06}.blob is missing"
                    )),
                }
            }
            None => Err("undecodable blob index".into()),
        }
    }
}

/// A value read from a blob file, unless a read of that file has faulted (it shrank under the reader:
/// the value may be zeros). Only the cheap fault check: a blob record carries its own checksum.
fn intact(s: &Source, v: Vec<u8>) -> Result<Vec<u8>, String> {
    match s.fault_offset() {
        None => Ok(v),
        Some(at) => Err(format!(
            "{}: the blob file changed while it was read (a read at byte {at} failed)",
            s.path().display()
        )),
    }
}

fn merged_possible(
    operator: Option<&super::merge::MergeOperator>,
    operands: &[&[u8]],
    blob_error: &Option<String>,
) -> bool {
    operator.is_some() && !operands.is_empty() && blob_error.is_none()
}

/// Resolve one key's versions (newest first) and write it if it is visible.
#[allow(clippy::too_many_arguments)]
fn resolve(
    versions: &[Version1],
    operator: Option<&super::merge::MergeOperator>,
    blobs: &mut Blobs,
    tombs: &[Tombstone],
    lost: &[LostRange],
    suspect_below: u64,
    sink: &mut dyn StateSink,
    outcome: &mut CfOutcome,
) -> io::Result<()> {
    let key = &versions[0].key;
    let tomb_seq = tombs
        .iter()
        .filter(|(s, e, _)| s.as_slice() <= key.as_slice() && key.as_slice() < e.as_slice())
        .map(|t| t.2)
        .max()
        .unwrap_or(0);
    let mut operands: Vec<&[u8]> = Vec::new();
    let mut base: Option<&Version1> = None;
    // The oldest version the visible value is built from (the base, or the oldest merge operand):
    // a lost tombstone newer than it could have hidden it and changed the value.
    let mut oldest_used = u64::MAX;
    let mut unverified = false;
    for v in versions {
        if tomb_seq > 0 && v.seq < tomb_seq {
            break;
        }
        match v.vtype {
            vtype::MERGE => operands.push(&v.value),
            vtype::DELETION | vtype::SINGLE_DELETION | vtype::DELETION_WITH_TIMESTAMP => break,
            _ => base = Some(v),
        }
        unverified |= v.unverified;
        oldest_used = v.seq;
        if base.is_some() {
            break;
        }
    }
    if base.is_none() && operands.is_empty() {
        return Ok(());
    }
    let in_lost = lost.iter().any(|(from, to, below)| {
        from.as_ref().is_none_or(|f| f.as_slice() <= key.as_slice())
            && to.as_ref().is_none_or(|t| key.as_slice() <= t.as_slice())
            && oldest_used < *below
    });
    // A damaged WAL record may have held a write (a delete between merge operands, say) to any key
    // whose value rests on a version older than the first batch after it.
    let suspect = in_lost || oldest_used < suspect_below;
    outcome.keys += 1;
    outcome.suspect += suspect as u64;

    // A blob index is replaced by the value it points at when the blob file has it intact.
    let mut resolved: Option<Vec<u8>> = None;
    let mut blob_error: Option<String> = None;
    if let Some(b) = base.filter(|b| b.vtype == vtype::BLOB_INDEX) {
        match blobs.value(key, &b.value) {
            Ok(v) => resolved = Some(v),
            Err(e) => blob_error = Some(e),
        }
    }
    let blob = blob_error.is_some();
    outcome.blob_indexes_unresolved += blob as u64;
    let shown: Option<&[u8]> = match (&resolved, base) {
        (Some(v), _) => Some(v),
        (None, Some(b)) => Some(visible_value(b)),
        (None, None) => None,
    };
    operands.reverse(); // oldest first, the order a merge operator applies them
    outcome.merges_resolved += (merged_possible(operator, &operands, &blob_error)) as u64;
    let merged: Option<Vec<u8>> = match (operator, operands.is_empty(), &blob_error) {
        (Some(op), false, None) => Some(op.apply(shown, &operands)),
        _ => None,
    };
    let (shown, operands): (Option<&[u8]>, Vec<&[u8]>) = match &merged {
        Some(m) => (Some(m.as_slice()), Vec::new()),
        None => (shown, operands),
    };
    outcome.with_merge_operands += (!operands.is_empty()) as u64;
    sink.entry(&Resolved {
        key,
        value: shown,
        merge_operands: &operands,
        blob_error: blob_error.as_deref(),
        entity: base.is_some_and(|b| b.vtype == vtype::WIDE_COLUMN_ENTITY),
        suspect,
        unverified,
    })
}

/// One key of the state as a JSONL or CSV line.
fn write_entry(w: &mut impl Write, e: &Resolved<'_>, fmt: SalvageFormat) -> io::Result<()> {
    let (key, shown, operands) = (e.key, e.value, e.merge_operands);
    match fmt {
        SalvageFormat::Jsonl => {
            let mut line = Vec::with_capacity(2 * (key.len() + shown.map_or(0, <[u8]>::len)) + 32);
            line.extend_from_slice(b"{\"key\":\"");
            push_hex(&mut line, key);
            line.extend_from_slice(b"\",\"value\":");
            match shown {
                Some(v) => {
                    line.push(b'"');
                    push_hex(&mut line, v);
                    line.push(b'"');
                }
                None => line.extend_from_slice(b"null"),
            }
            if !operands.is_empty() {
                line.extend_from_slice(b",\"merge_operands\":[");
                for (i, op) in operands.iter().enumerate() {
                    if i > 0 {
                        line.push(b',');
                    }
                    line.push(b'"');
                    push_hex(&mut line, op);
                    line.push(b'"');
                }
                line.push(b']');
            }
            if let Some(err) = e.blob_error {
                line.extend_from_slice(b",\"blob_index\":true,\"blob_error\":");
                line.extend_from_slice(serde_json::to_string(err).unwrap_or_default().as_bytes());
            }
            if e.entity {
                line.extend_from_slice(b",\"entity\":true");
            }
            if e.suspect {
                line.extend_from_slice(b",\"suspect\":true");
            }
            if e.unverified {
                line.extend_from_slice(b",\"unverified\":true");
            }
            line.extend_from_slice(b"}\n");
            w.write_all(&line)
        }
        SalvageFormat::Csv => {
            let ops: Vec<String> = operands.iter().map(hex::encode).collect();
            writeln!(
                w,
                "{},{},{},{},{}",
                hex::encode(key),
                shown.map(hex::encode).unwrap_or_default(),
                e.suspect,
                ops.join(";"),
                e.unverified
            )
        }
    }
}
