//! `rockrescue sst ...` subcommands.

use std::collections::BTreeMap;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use rayon::prelude::*;
use serde::Serialize;

use rockrescue::export::dump::{salvage_dump, salvage_dump_with, DumpFormat, SalvageOptions};
use rockrescue::io::Source;
use rockrescue::sst::block::read_raw;
use rockrescue::sst::properties::PropValue;
use rockrescue::sst::salvage::{DamageError, FileReport, Salvage};
use rockrescue::sst::table::{BlockKind, KeyFormat, Table};
use rockrescue::sst::verify::{self, FileVerdict, Status};

use super::{Format, EXIT_DAMAGE, EXIT_ERROR, EXIT_OK};

#[derive(Subcommand)]
pub enum SstCommand {
    /// Summarise one table: format, checksum type, index, compressions, properties, block counts.
    #[command(
        after_help = "Examples:\n  rockrescue sst info 000042.sst\n  rockrescue sst info 000042.sst --json | jq .properties"
    )]
    Info(FileArgs),
    /// List every block in file order with its kind, compression and checksum verdict (and the
    /// gaps between blocks: padding or bytes no block accounts for).
    #[command(
        after_help = "Examples:\n  rockrescue sst layout 000042.sst\n  rockrescue sst layout 000042.sst --json | jq '.[] | select(.ok == false)'"
    )]
    Layout(FileArgs),
    /// Audit checksums of every block of every table (directories are walked for *.sst and *.ldb).
    #[command(
        after_help = "Exit codes: 0 = all clean, 1 = damage found, 2 = usage or I/O error.\n\n\
Examples:\n  rockrescue sst verify /var/lib/rocksdb/db\n  rockrescue sst verify --deep 000042.sst 000043.sst\n  rockrescue sst verify --json db/ > audit.json"
    )]
    Verify(VerifyArgs),
    /// Print every entry in file order (points, then range tombstones).
    #[command(
        after_help = "The jsonl format is one object per line:\n  {\"key\":\"<hex user key>\",\"seq\":<u64>,\"type\":\"put|delete|single_delete|merge|range_delete|blob_index|entity|...\",\"value\":\"<hex>\"}\n\
A range_delete's value is its (exclusive) end key. Damaged blocks are skipped and reported on stderr (exit code 1);\nwhere the index is gone, blocks are carved out of the raw bytes (see `sst salvage`).\n\n\
Examples:\n  rockrescue sst dump 000042.sst | head\n  rockrescue sst dump 000042.sst --format jsonl > entries.jsonl"
    )]
    Dump(DumpArgs),
    /// Recover every entry of every intact block of damaged tables, carving blocks out of the raw
    /// bytes where the footer or index is gone, and write a damage report.
    #[command(
        after_help = "Writes, in --out DIR:\n  <name>.jsonl        the recovered entries of each table (same lines as `sst dump --format jsonl`;\n                      entries from blocks no checksum vouches for carry \"unverified\":true)\n  damage-report.json  per file: status, blocks, entries recovered vs expected, and every damaged\n                      byte range with its error and the keys it held (format-specs/damage-report.md)\n\n\
The input files are only read. Exit codes: 0 = nothing damaged, 1 = damage found (entries recovered\nas far as possible), 2 = usage or I/O error.\n\n\
Examples:\n  rockrescue sst salvage /mnt/broken/000042.sst --out rescued/\n  rockrescue sst salvage /mnt/broken/db --out rescued/ && jq '.files[] | {path, status}' rescued/damage-report.json"
    )]
    Salvage(SalvageArgs),
}

#[derive(Args)]
pub struct SalvageArgs {
    /// Table files or directories (walked for *.sst and *.ldb). Fragments and files without a
    /// footer are accepted when named directly.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Directory for the recovered entries and damage-report.json (created if missing).
    #[arg(long, short)]
    out: PathBuf,
    /// Print the damage report as JSON on stdout instead of the human summary.
    #[arg(long)]
    json: bool,
    /// Also write the entries of data blocks whose checksum fails but that still decompress and
    /// decode, marked "unverified":true,"damaged":true. They may contain altered bytes; by default
    /// nothing from a damaged block is written.
    #[arg(long)]
    include_damaged: bool,
}

#[derive(Args)]
pub struct FileArgs {
    /// The table file.
    file: PathBuf,
    /// Machine-readable JSON instead of human text.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct VerifyArgs {
    /// Table files or directories.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Also decompress and decode every block, check key order, index separators and property counts.
    #[arg(long)]
    deep: bool,
    /// Machine-readable JSON instead of human text.
    #[arg(long)]
    json: bool,
    /// Also decode every block the way `sst salvage` does (carving where the index is gone) and write
    /// the damage report (format-specs/damage-report.md) to this file.
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
}

#[derive(Args)]
pub struct DumpArgs {
    /// The table file.
    file: PathBuf,
    /// Output format (default: text on a terminal, jsonl otherwise).
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Write the damage report (format-specs/damage-report.md) to this file.
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    /// Also write the entries of data blocks whose checksum fails but that still decompress and
    /// decode, marked "unverified":true,"damaged":true. They may contain altered bytes; by default
    /// nothing from a damaged block is written.
    #[arg(long)]
    include_damaged: bool,
}

pub fn run(c: SstCommand) -> i32 {
    match c {
        SstCommand::Info(a) => info(&a),
        SstCommand::Layout(a) => layout(&a),
        SstCommand::Verify(a) => verify_cmd(&a),
        SstCommand::Dump(a) => dump(&a),
        SstCommand::Salvage(a) => salvage_cmd(&a),
    }
}

fn open_or_report(path: &Path) -> Result<Source, i32> {
    Source::open(path).map_err(|e| {
        eprintln!("rockrescue: {e}");
        EXIT_ERROR
    })
}

fn print_json<T: Serialize>(v: &T) {
    let mut out = io::stdout().lock();
    let _ = serde_json::to_writer_pretty(&mut out, v);
    let _ = writeln!(out);
}

#[derive(Serialize)]
struct Info {
    path: String,
    size: u64,
    format: String,
    magic: String,
    format_version: u32,
    checksum_type: String,
    index_type: String,
    /// `internal` (user key + 8-byte sequence/type trailer) or `raw` (no trailer, sst.md §14.1).
    key_format: KeyFormat,
    index_keys: &'static str,
    index_values_delta_encoded: bool,
    comparator: Option<String>,
    global_seqno: Option<u64>,
    compressions: BTreeMap<String, u64>,
    blocks: BTreeMap<String, u64>,
    data_blocks: u64,
    properties: Vec<(String, PropValue)>,
    problems: Vec<String>,
}

fn info(a: &FileArgs) -> i32 {
    let src = match open_or_report(&a.file) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let t = match Table::open(src.bytes(), &a.file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("rockrescue: {e}");
            return EXIT_DAMAGE;
        }
    };
    let mut compressions = BTreeMap::new();
    let mut blocks = BTreeMap::new();
    for b in t.block_map() {
        *blocks.entry(b.kind.name().to_string()).or_insert(0) += 1;
        if let Ok(raw) = read_raw(t.file(), b.handle, "block") {
            *compressions
                .entry(raw.compression(&t.ctx).name().into_owned())
                .or_insert(0) += 1;
        }
    }
    let i = Info {
        path: a.file.display().to_string(),
        size: src.len(),
        format: format!("{:?}", t.format).to_lowercase(),
        magic: format!("{:?}", t.footer.magic),
        format_version: t.footer.format_version,
        checksum_type: t.footer.checksum_type.name().to_string(),
        index_type: t.index_type.name(),
        key_format: t.key_format,
        index_keys: if t.key_format == KeyFormat::Raw {
            "raw keys"
        } else if t.index_format.user_keys {
            "user keys"
        } else {
            "internal keys"
        },
        index_values_delta_encoded: t.index_format.delta_values,
        comparator: t.comparator_name.clone(),
        global_seqno: t.global_seqno,
        compressions,
        blocks,
        data_blocks: t.data_blocks.len() as u64,
        properties: t
            .properties
            .as_ref()
            .map(|p| p.decoded())
            .unwrap_or_default(),
        problems: t.problems.iter().map(|e| e.to_string()).collect(),
    };
    if a.json {
        print_json(&i);
    } else {
        let mut o = io::stdout().lock();
        let _ = writeln!(o, "file            {} ({} bytes)", i.path, i.size);
        let _ = writeln!(
            o,
            "format          {} ({}), format_version {}",
            i.format, i.magic, i.format_version
        );
        let _ = writeln!(o, "checksum        {}", i.checksum_type);
        let _ = writeln!(
            o,
            "keys            {}",
            match i.key_format {
                KeyFormat::Internal => "internal (user key + 8-byte sequence/type trailer)",
                KeyFormat::Raw =>
                    "raw user keys, no sequence/type trailer (LevelDB table API); read as puts, seq 0",
            }
        );
        let _ = writeln!(
            o,
            "index           {}, {}{}",
            i.index_type,
            i.index_keys,
            if i.index_values_delta_encoded {
                ", delta-encoded values"
            } else {
                ""
            }
        );
        if let Some(c) = &i.comparator {
            let _ = writeln!(o, "comparator      {c}");
        }
        if let Some(g) = i.global_seqno {
            let _ = writeln!(o, "global seqno    {g}");
        }
        let comp: Vec<String> = i
            .compressions
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect();
        let _ = writeln!(o, "compression     {}", comp.join(", "));
        let bl: Vec<String> = i.blocks.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        let _ = writeln!(o, "blocks          {}", bl.join(", "));
        let _ = writeln!(o, "properties");
        for (k, v) in &i.properties {
            let shown = match v {
                PropValue::Int(n) => n.to_string(),
                PropValue::Text(s) => s.clone(),
                PropValue::Raw { hex } => format!("0x{hex}"),
                PropValue::Structured(j) => j.to_string(),
            };
            let _ = writeln!(o, "  {k:<48} {shown}");
        }
        for p in &i.problems {
            let _ = writeln!(o, "PROBLEM         {p}");
        }
    }
    if i.problems.is_empty() {
        EXIT_OK
    } else {
        EXIT_DAMAGE
    }
}

fn layout(a: &FileArgs) -> i32 {
    let src = match open_or_report(&a.file) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let t = match Table::open(src.bytes(), &a.file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("rockrescue: {e}");
            return EXIT_DAMAGE;
        }
    };
    let checks = verify::check_blocks(&t);
    let bad = checks.iter().filter(|c| !c.ok).count();
    if a.json {
        print_json(&checks);
    } else {
        let mut o = BufWriter::new(io::stdout().lock());
        let _ = writeln!(
            o,
            "{:>12} {:>9}  {:<26} {:<8} {:>10} {:>10}  status",
            "offset", "size", "kind", "compr", "stored", "computed"
        );
        for c in &checks {
            let hex = |v: Option<u32>| v.map_or("-".to_string(), |x| format!("{x:08x}"));
            // The metaindex name only adds information for filters and unknown meta blocks.
            let named = matches!(
                c.kind,
                BlockKind::Data
                    | BlockKind::IndexPartition
                    | BlockKind::FilterPartition
                    | BlockKind::Filter
                    | BlockKind::FilterPartitionIndex
                    | BlockKind::OtherMeta
                    | BlockKind::UserDefinedIndex
                    | BlockKind::Gap
            ) || (c.kind == BlockKind::Index
                && !c.name.is_empty()
                && !c.name.starts_with("rocksdb."));
            let kind = if named && !c.name.is_empty() {
                format!("{} {}", c.kind.name(), c.name)
            } else {
                c.kind.name().to_string()
            };
            let _ = writeln!(
                o,
                "{:>12} {:>9}  {:<26} {:<8} {:>10} {:>10}  {}",
                c.offset,
                c.size,
                kind,
                c.compression,
                hex(c.stored),
                hex(c.computed),
                if c.ok {
                    "ok".to_string()
                } else {
                    format!("BAD: {}", c.error.clone().unwrap_or_default())
                }
            );
        }
        let _ = writeln!(o, "{} blocks, {} bad", checks.len(), bad);
    }
    if bad == 0 && t.problems.is_empty() {
        EXIT_OK
    } else {
        EXIT_DAMAGE
    }
}

/// Expand directories into the table files below them (*.sst, *.ldb), sorted; keep files as given.
fn collect_tables(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| format!("{}: {e}", p.display()))?;
        if meta.is_dir() {
            let mut found: Vec<PathBuf> = walkdir::WalkDir::new(p)
                .follow_links(false)
                .into_iter()
                .filter_map(|e| e.ok())
                .filter(|e| e.file_type().is_file())
                .map(|e| e.into_path())
                .filter(|p| matches!(p.extension().and_then(|x| x.to_str()), Some("sst" | "ldb")))
                .collect();
            found.sort();
            out.extend(found);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

#[derive(Serialize)]
struct VerifySummary<'a> {
    files: &'a [FileVerdict],
    totals: Totals,
}

#[derive(Serialize, Default)]
struct Totals {
    files: u64,
    ok: u64,
    damaged: u64,
    unreadable: u64,
    unsupported: u64,
    blocks: u64,
    bad_blocks: u64,
    bytes: u64,
}

fn verify_cmd(a: &VerifyArgs) -> i32 {
    let files = match collect_tables(&a.paths) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("rockrescue: {e}");
            return EXIT_ERROR;
        }
    };
    let total_bytes: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let bar = if io::stderr().is_terminal() && !a.json && files.len() > 1 {
        let b = indicatif::ProgressBar::new(total_bytes);
        b.set_style(
            indicatif::ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({bytes_per_sec}, {eta})")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Some(b)
    } else {
        None
    };
    let verdicts: Vec<FileVerdict> = files
        .par_iter()
        .map(|f| {
            let v = verify::verify_path(f, a.deep);
            if let Some(b) = &bar {
                b.inc(v.size);
            }
            v
        })
        .collect();
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let mut t = Totals::default();
    let mut io_error = false;
    for v in &verdicts {
        t.files += 1;
        t.blocks += v.blocks_total;
        t.bad_blocks += v.blocks_bad;
        t.bytes += v.size;
        match v.status {
            Status::Ok => t.ok += 1,
            Status::Damaged => t.damaged += 1,
            Status::Unreadable => {
                t.unreadable += 1;
                io_error |= v.issues.iter().any(|i| i.what == "file");
            }
            Status::Unsupported => t.unsupported += 1,
        }
    }
    if a.json {
        print_json(&VerifySummary {
            files: &verdicts,
            totals: t,
        });
    } else {
        let mut o = BufWriter::new(io::stdout().lock());
        for v in &verdicts {
            let what = match v.status {
                Status::Ok => "OK",
                Status::Damaged => "DAMAGED",
                Status::Unreadable => "UNREADABLE",
                Status::Unsupported => "UNSUPPORTED",
            };
            let extra = match (v.format_version, v.checksum_type) {
                (Some(fv), Some(c)) => format!(
                    "fv{fv} {c}, {} blocks{}",
                    v.blocks_total,
                    if v.raw_keys { ", raw keys" } else { "" }
                ),
                _ => String::new(),
            };
            let _ = writeln!(o, "{what:<11} {}  {extra}", v.path);
            for i in &v.issues {
                let _ = writeln!(
                    o,
                    "            at byte {}: {}: {}",
                    i.offset, i.what, i.message
                );
                if let Some(l) = &i.lost_keys {
                    let show = |k: &Option<String>, open: &str| match k {
                        Some(h) => format!("'{}'", escaped_hex(h)),
                        None => open.to_string(),
                    };
                    let basis = if l.exact {
                        "exact: bounded by the neighbouring blocks' keys"
                    } else {
                        "bounded by index separators"
                    };
                    let _ = writeln!(
                        o,
                        "              lost keys: {} .. {} ({basis})",
                        show(&l.from, "<start of table>"),
                        show(&l.to, "<end of table>"),
                    );
                }
            }
            if let Some(s) = &v.stats {
                for n in &s.notes {
                    let _ = writeln!(o, "            note: {n}");
                }
            }
        }
        let _ = writeln!(
            o,
            "{} files: {} ok, {} damaged, {} unreadable, {} unsupported; {} blocks checked, {} bad",
            t.files, t.ok, t.damaged, t.unreadable, t.unsupported, t.blocks, t.bad_blocks
        );
    }
    if files.is_empty() {
        eprintln!("rockrescue: no table files (*.sst, *.ldb) found");
        return EXIT_ERROR;
    }
    if let Some(p) = &a.report {
        let reports: Vec<FileReport> = files
            .par_iter()
            .filter_map(|f| {
                let src = match Source::open(f) {
                    Ok(s) => s,
                    Err(e) => return Some(FileReport::unreadable(f, &e)),
                };
                let plan = Salvage::plan(src.bytes(), f);
                salvage_dump(&plan, DumpFormat::Jsonl, &mut io::sink()).ok()
            })
            .collect();
        if let Err(c) = write_report(p, &reports) {
            return c;
        }
    }
    if io_error {
        EXIT_ERROR
    } else if verdicts.iter().all(|v| v.status == Status::Ok) {
        EXIT_OK
    } else {
        EXIT_DAMAGE
    }
}

/// A hex key shown the way `sst dump --format text` shows keys.
fn escaped_hex(h: &str) -> String {
    let bytes = hex::decode(h).unwrap_or_default();
    let mut out = Vec::new();
    rockrescue::export::dump::push_escaped(&mut out, &bytes);
    String::from_utf8_lossy(&out).into_owned()
}

fn dump(a: &DumpArgs) -> i32 {
    let src = match open_or_report(&a.file) {
        Ok(s) => s,
        Err(c) => return c,
    };
    src.advise_sequential();
    let plan = Salvage::plan(src.bytes(), &a.file);
    if let Some(e) = plan.unsupported() {
        eprintln!("rockrescue: {e}");
    }
    let stdout = io::stdout();
    let fmt = super::dump_format(a.format);
    // salvage_dump writes whole rendered blocks; locked stdout passes such large, newline-terminated
    // writes straight to the file descriptor, so an extra buffer would only add a copy.
    let mut out = stdout.lock();
    let opts = SalvageOptions {
        damaged_blocks: a.include_damaged,
    };
    let r = salvage_dump_with(&plan, fmt, &mut out, opts);
    let r = r.and_then(|rep| out.flush().map(|_| rep));
    match r {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => EXIT_OK,
        Err(e) => {
            eprintln!("rockrescue: writing output: {e}");
            EXIT_ERROR
        }
        Ok(rep) => {
            for d in &rep.damaged {
                eprintln!(
                    "rockrescue: {}: damaged {} at byte {} ({} bytes): {}",
                    a.file.display(),
                    d.kind,
                    d.offset,
                    d.length,
                    describe_error(&d.error)
                );
            }
            if let Some(p) = &a.report {
                if let Err(c) = write_report(p, std::slice::from_ref(&rep)) {
                    return c;
                }
            }
            report_exit(std::slice::from_ref(&rep))
        }
    }
}

/// The whole damage report file: every file's report and totals.
#[derive(Serialize)]
struct DamageReport<'a> {
    tool: &'static str,
    version: &'static str,
    files: &'a [FileReport],
    totals: ReportTotals,
}

#[derive(Serialize, Default)]
struct ReportTotals {
    files: u64,
    ok: u64,
    damaged: u64,
    unreadable: u64,
    unsupported: u64,
    entries_recovered: u64,
    entries_unverified: u64,
    damaged_regions: u64,
    damaged_bytes: u64,
}

fn totals(reports: &[FileReport]) -> ReportTotals {
    let mut t = ReportTotals::default();
    for r in reports {
        t.files += 1;
        match r.status {
            Status::Ok => t.ok += 1,
            Status::Damaged => t.damaged += 1,
            Status::Unreadable => t.unreadable += 1,
            Status::Unsupported => t.unsupported += 1,
        }
        t.entries_recovered += r.entries.recovered;
        t.entries_unverified += r.entries.unverified;
        t.damaged_regions += r.damaged.len() as u64;
        t.damaged_bytes += r.damaged.iter().map(|d| d.length).sum::<u64>();
    }
    t
}

fn report_json(reports: &[FileReport]) -> String {
    let r = DamageReport {
        tool: "rockrescue",
        version: env!("CARGO_PKG_VERSION"),
        files: reports,
        totals: totals(reports),
    };
    serde_json::to_string_pretty(&r).expect("reports serialise") + "\n"
}

fn write_report(path: &Path, reports: &[FileReport]) -> Result<(), i32> {
    std::fs::write(path, report_json(reports)).map_err(|e| {
        eprintln!("rockrescue: writing {}: {e}", path.display());
        EXIT_ERROR
    })
}

fn report_exit(reports: &[FileReport]) -> i32 {
    if reports.iter().all(|r| r.status == Status::Ok) {
        EXIT_OK
    } else {
        EXIT_DAMAGE
    }
}

fn describe_error(e: &DamageError) -> String {
    match e {
        DamageError::Checksum {
            algorithm,
            expected,
            actual,
        } => format!("{algorithm} checksum mismatch: stored {expected}, computed {actual}"),
        DamageError::Decompress { codec, message } => {
            format!("{codec} decompression failed: {message}")
        }
        DamageError::Decode { message }
        | DamageError::Truncated { message }
        | DamageError::NoBlockFound { message }
        | DamageError::Unsupported { message } => message.clone(),
    }
}

/// Salvage one file: plan, write entries to `out_path`, return the report.
fn salvage_one(path: &Path, out_path: &Path, opts: SalvageOptions) -> Result<FileReport, String> {
    let src = match Source::open(path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("rockrescue: {e}");
            return Ok(FileReport::unreadable(path, &e));
        }
    };
    src.advise_sequential();
    let plan = Salvage::plan(src.bytes(), path);
    let f = std::fs::File::create(out_path).map_err(|e| format!("{}: {e}", out_path.display()))?;
    let mut w = BufWriter::with_capacity(1 << 20, f);
    let rep = salvage_dump_with(&plan, DumpFormat::Jsonl, &mut w, opts)
        .and_then(|r| w.flush().map(|_| r))
        .map_err(|e| format!("{}: {e}", out_path.display()))?;
    Ok(rep)
}

fn salvage_cmd(a: &SalvageArgs) -> i32 {
    let mut files = Vec::new();
    for p in &a.paths {
        if p.is_dir() {
            match collect_tables(std::slice::from_ref(p)) {
                Ok(f) => files.extend(f),
                Err(e) => {
                    eprintln!("rockrescue: {e}");
                    return EXIT_ERROR;
                }
            }
        } else {
            files.push(p.clone());
        }
    }
    if files.is_empty() {
        eprintln!("rockrescue: no table files (*.sst, *.ldb) found");
        return EXIT_ERROR;
    }
    if let Err(e) = std::fs::create_dir_all(&a.out) {
        eprintln!("rockrescue: creating {}: {e}", a.out.display());
        return EXIT_ERROR;
    }
    // Output names: the input's file name, made unique if two inputs share one.
    let mut used = std::collections::HashSet::new();
    let outs: Vec<PathBuf> = files
        .iter()
        .map(|f| {
            let base = f
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "table".into());
            let mut name = format!("{base}.jsonl");
            let mut k = 1;
            while !used.insert(name.clone()) {
                k += 1;
                name = format!("{base}.{k}.jsonl");
            }
            a.out.join(name)
        })
        .collect();
    let bar = if io::stderr().is_terminal() && files.len() > 1 {
        let b = indicatif::ProgressBar::new(files.len() as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} files ({eta})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Some(b)
    } else {
        None
    };
    let mut reports = Vec::new();
    let mut failed = false;
    for (f, o) in files.iter().zip(&outs) {
        let opts = SalvageOptions {
            damaged_blocks: a.include_damaged,
        };
        match salvage_one(f, o, opts) {
            Ok(r) => reports.push(r),
            Err(e) => {
                eprintln!("rockrescue: {e}");
                failed = true;
            }
        }
        if let Some(b) = &bar {
            b.inc(1);
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let report_path = a.out.join("damage-report.json");
    if let Err(c) = write_report(&report_path, &reports) {
        return c;
    }
    if a.json {
        print!("{}", report_json(&reports));
    } else {
        let mut o = BufWriter::new(io::stdout().lock());
        print_summary(&mut o, &reports, &outs);
        let _ = writeln!(o, "report: {}", report_path.display());
    }
    if failed {
        EXIT_ERROR
    } else {
        report_exit(&reports)
    }
}

/// The short human summary of a salvage.
fn print_summary(o: &mut dyn Write, reports: &[FileReport], outs: &[PathBuf]) {
    for (r, out) in reports.iter().zip(outs) {
        let what = match r.status {
            Status::Ok => "OK",
            Status::Damaged => "DAMAGED",
            Status::Unreadable => "UNREADABLE",
            Status::Unsupported => "UNSUPPORTED",
        };
        let expected = match r.entries.expected {
            Some(e) => format!(" of {e} expected"),
            None => String::new(),
        };
        let unverified = if r.entries.unverified > 0 {
            format!(" ({} unverified)", r.entries.unverified)
        } else {
            String::new()
        };
        let _ = writeln!(
            o,
            "{what:<11} {}  {} entries recovered{expected}{unverified}; blocks: {} ok, {} damaged, {} carved -> {}",
            r.path,
            r.entries.recovered,
            r.blocks.ok,
            r.blocks.damaged,
            r.blocks.carved,
            out.display()
        );
        for d in &r.damaged {
            let _ = writeln!(
                o,
                "            bytes {}..{} ({}): {}",
                d.offset,
                d.offset + d.length,
                d.kind,
                describe_error(&d.error)
            );
            if let Some(l) = &d.lost_keys {
                let show = |k: &Option<String>, open: &str| match k {
                    Some(h) => format!("'{}'", escaped_hex(h)),
                    None => open.to_string(),
                };
                let est = d
                    .estimated_entries_lost
                    .map(|n| format!(", about {n} entries"))
                    .unwrap_or_default();
                let kept = d
                    .entries_written_unverified
                    .map(|n| format!("; {n} entries written anyway, marked unverified"))
                    .unwrap_or_default();
                let _ = writeln!(
                    o,
                    "              lost keys: {} .. {} ({}){est}{kept}",
                    show(&l.from, "<start>"),
                    show(&l.to, "<end>"),
                    if l.exact { "exact" } else { "bounded" }
                );
            }
        }
        for n in &r.notes {
            let _ = writeln!(o, "            note: {n}");
        }
    }
    let t = totals(reports);
    let _ = writeln!(
        o,
        "{} files: {} ok, {} damaged, {} unreadable, {} unsupported; {} entries recovered, {} damaged regions ({} bytes)",
        t.files, t.ok, t.damaged, t.unreadable, t.unsupported, t.entries_recovered, t.damaged_regions, t.damaged_bytes
    );
}
