//! `rockrescue sst ...` subcommands.

use std::collections::BTreeMap;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use rayon::prelude::*;
use serde::Serialize;

use rockrescue::export::dump::{
    salvage_dump, salvage_dump_with, salvage_output_names, salvage_table_to, DumpFormat,
    SalvageOptions,
};
use rockrescue::io::Source;
use rockrescue::sst::block::read_raw;
use rockrescue::sst::properties::PropValue;
use rockrescue::sst::report::{DamageReport, ReportTotals, VerifyReport};
use rockrescue::sst::salvage::{FileReport, Salvage};
use rockrescue::sst::table::{BlockKind, KeyFormat, Table};
use rockrescue::sst::verify::{self, FileVerdict, LostKeys, Status};

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
    #[command(after_help = "Examples:\n  rockrescue sst layout 000042.sst\n  \
rockrescue sst layout 000042.sst --json | jq '.[] | select(.ok == false)'")]
    Layout(FileArgs),
    /// Audit checksums of every block of every table (directories are walked for *.sst and *.ldb).
    #[command(
        after_help = "Exit codes: 0 = all clean, 1 = damage found, 2 = usage or I/O error.\n\n\
Examples:\n  rockrescue sst verify /var/lib/rocksdb/db\n  \
rockrescue sst verify --deep 000042.sst 000043.sst\n  \
rockrescue sst verify --json db/ > audit.json"
    )]
    Verify(VerifyArgs),
    /// Print every entry in file order (points, then range tombstones).
    #[command(after_help = "The jsonl format is one object per line:\n  \
{\"key\":\"<hex user key>\",\"seq\":<u64>,\"type\":\"<type>\",\"value\":\"<hex>\"}\n\
with <type> one of put, delete, single_delete, merge, range_delete, blob_index,\n\
entity...\n\
A range_delete's value is its (exclusive) end key. Damaged blocks are skipped\n\
and reported on stderr (exit code 1); where the index is gone, blocks are carved\n\
out of the raw bytes (see `sst salvage`).\n\n\
Examples:\n  rockrescue sst dump 000042.sst | head\n  \
rockrescue sst dump 000042.sst --format jsonl > entries.jsonl")]
    Dump(DumpArgs),
    /// Recover every entry of every intact block of damaged tables, carving blocks out of the raw
    /// bytes where the footer or index is gone, and write a damage report.
    #[command(after_help = "Writes, in --out DIR:\n  \
<name>.jsonl        the recovered entries of each table (same lines as\n                      \
`sst dump --format jsonl`; entries from blocks no\n                      \
checksum vouches for carry \"unverified\":true)\n  \
damage-report.json  per file: status, blocks, entries recovered vs expected,\n                      \
and every damaged byte range with its error and the keys\n                      \
it held (format-specs/damage-report.md)\n\n\
The input files are only read, and --out may not lie inside an input.\n\
Exit codes: 0 = nothing damaged, 1 = damage found (entries recovered as far as\n\
possible), 2 = usage or I/O error.\n\n\
Examples:\n  rockrescue sst salvage /mnt/broken/000042.sst --out rescued/\n  \
rockrescue sst salvage /mnt/broken/db --out rescued/ \\\n    \
&& jq '.files[] | {path, status}' rescued/damage-report.json")]
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

/// If the file changed while it was read (see `Source::check_intact`): report that I/O error and
/// return its exit code; whatever was read from it is not printed.
fn changed(src: &Source) -> Option<i32> {
    src.check_intact().err().map(|e| {
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
            if let Some(c) = changed(&src) {
                return c;
            }
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
    if let Some(c) = changed(&src) {
        return c;
    }
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
            if let Some(c) = changed(&src) {
                return c;
            }
            eprintln!("rockrescue: {e}");
            return EXIT_DAMAGE;
        }
    };
    let checks = verify::check_blocks(&t);
    if let Some(c) = changed(&src) {
        return c;
    }
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

fn verify_cmd(a: &VerifyArgs) -> i32 {
    if let Some(p) = &a.report {
        if let Err(c) = refuse_on_inputs("report file", p, &a.paths) {
            return c;
        }
    }
    let files = rockrescue::sst::find_tables(&a.paths);
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
                b.inc(v.file.size);
            }
            v
        })
        .collect();
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let report = VerifyReport::new(&verdicts);
    let t = report.totals;
    let io_error = verdicts
        .iter()
        .any(|v| v.file.status == Status::Unreadable && v.issues.iter().any(|i| i.what == "file"));
    if a.json {
        print_json(&report);
    } else {
        let mut o = BufWriter::new(io::stdout().lock());
        for v in &verdicts {
            let what = v.file.status.label();
            let extra = match (v.file.format_version, v.file.checksum_type) {
                (Some(fv), Some(c)) => format!(
                    "fv{fv} {c}, {} blocks{}",
                    v.blocks_total,
                    if v.file.raw_keys { ", raw keys" } else { "" }
                ),
                _ => String::new(),
            };
            let _ = writeln!(o, "{what:<11} {}  {extra}", v.file.path);
            for i in &v.issues {
                let _ = writeln!(
                    o,
                    "            at byte {}: {}: {}",
                    i.offset, i.what, i.message
                );
                if let Some(l) = &i.lost_keys {
                    let _ = writeln!(o, "              {}", lost_keys_text(l, "data"));
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
            "{}; {} blocks checked, {} bad",
            t.files.line(),
            t.blocks,
            t.bad_blocks
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
                let mut rep = salvage_dump(&plan, DumpFormat::Jsonl, &mut io::sink()).ok()?;
                if let Err(e) = src.check_intact() {
                    rep.changed_while_read(&e);
                }
                Some(rep)
            })
            .collect();
        if let Err(c) = write_report(p, &reports) {
            return c;
        }
    }
    if io_error {
        EXIT_ERROR
    } else if t.files.all_clean() {
        EXIT_OK
    } else {
        EXIT_DAMAGE
    }
}

/// The keys a damaged region took with it, the same way for every command: "lost keys: 'a' ..
/// 'b' (exact)"; for a lost range-deletion block, the keys its tombstones could have covered.
fn lost_keys_text(l: &LostKeys, kind: &str) -> String {
    let show = |k: &Option<String>, open: &str| match k {
        Some(h) => format!("'{}'", escaped_hex(h)),
        None => open.to_string(),
    };
    let what = if kind == "range-del" {
        "keys its tombstones could cover"
    } else {
        "lost keys"
    };
    // format-specs/damage-report.md §5.3: exact = no tighter bound exists.
    let basis = if l.exact { "exact" } else { "bounded" };
    format!(
        "{what}: {} .. {} ({basis})",
        show(&l.from, "<start>"),
        show(&l.to, "<end>")
    )
}

/// A hex key shown the way `sst dump --format text` shows keys.
fn escaped_hex(h: &str) -> String {
    let bytes = hex::decode(h).unwrap_or_default();
    let mut out = Vec::new();
    rockrescue::export::dump::push_escaped(&mut out, &bytes);
    String::from_utf8_lossy(&out).into_owned()
}

fn dump(a: &DumpArgs) -> i32 {
    if let Some(p) = &a.report {
        if let Err(c) = refuse_on_inputs("report file", p, std::slice::from_ref(&a.file)) {
            return c;
        }
    }
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
        Ok(mut rep) => {
            let io_error = src.check_intact().err();
            if let Some(e) = &io_error {
                rep.changed_while_read(e);
            }
            for d in &rep.damaged {
                eprintln!(
                    "rockrescue: {}: damaged {} at byte {} ({} bytes): {}",
                    a.file.display(),
                    d.kind,
                    d.offset,
                    d.length,
                    d.error
                );
            }
            if let Some(p) = &a.report {
                if let Err(c) = write_report(p, std::slice::from_ref(&rep)) {
                    return c;
                }
            }
            if let Some(e) = io_error {
                eprintln!("rockrescue: {e}");
                return EXIT_ERROR;
            }
            report_exit(std::slice::from_ref(&rep))
        }
    }
}

/// Refuse an output that would land on an input (exit 2), before anything is written.
fn refuse_on_inputs<P: AsRef<Path>>(
    role: &'static str,
    out: &Path,
    inputs: &[P],
) -> Result<(), i32> {
    rockrescue::io::ensure_outside_inputs(role, out, inputs).map_err(|e| {
        eprintln!("rockrescue: {e}");
        EXIT_ERROR
    })
}

fn write_report(path: &Path, reports: &[FileReport]) -> Result<(), i32> {
    std::fs::write(path, DamageReport::new(reports).to_json()).map_err(|e| {
        eprintln!("rockrescue: writing {}: {e}", path.display());
        EXIT_ERROR
    })
}

fn report_exit(reports: &[FileReport]) -> i32 {
    if reports.iter().all(|r| r.file.status.is_clean()) {
        EXIT_OK
    } else {
        EXIT_DAMAGE
    }
}

fn salvage_cmd(a: &SalvageArgs) -> i32 {
    if let Err(c) = refuse_on_inputs("output directory", &a.out, &a.paths) {
        return c;
    }
    let files = rockrescue::sst::find_tables(&a.paths);
    if files.is_empty() {
        eprintln!("rockrescue: no table files (*.sst, *.ldb) found");
        return EXIT_ERROR;
    }
    if let Err(e) = std::fs::create_dir_all(&a.out) {
        eprintln!("rockrescue: creating {}: {e}", a.out.display());
        return EXIT_ERROR;
    }
    let outs = salvage_output_names(&files, &a.out);
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
        match salvage_table_to(f, o, opts) {
            Ok((r, changed)) => {
                // An input that cannot be opened is an I/O error (exit 2, damage-report.md §7).
                if let Some(d) = r.damaged.first().filter(|d| {
                    r.file.status == Status::Unreadable && r.file.size == 0 && d.kind == "file"
                }) {
                    eprintln!("rockrescue: {}: {}", f.display(), d.error);
                    failed = true;
                }
                // A table that changed while it was read is an I/O error (exit 2).
                if let Some(e) = changed {
                    eprintln!("rockrescue: {e}");
                    failed = true;
                }
                reports.push(r)
            }
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
        print!("{}", DamageReport::new(&reports).to_json());
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
        let what = r.file.status.label();
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
            r.file.path,
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
                d.error
            );
            if let Some(l) = &d.lost_keys {
                let est = d
                    .estimated_entries_lost
                    .map(|n| format!(", about {n} entries"))
                    .unwrap_or_default();
                let kept = d
                    .entries_written_unverified
                    .map(|n| format!("; {n} entries written anyway, marked unverified"))
                    .unwrap_or_default();
                let _ = writeln!(o, "              {}{est}{kept}", lost_keys_text(l, &d.kind));
            }
        }
        for n in &r.notes {
            let _ = writeln!(o, "            note: {n}");
        }
    }
    let t = ReportTotals::of(reports);
    let _ = writeln!(
        o,
        "{}; {} entries recovered, {} damaged regions ({} bytes)",
        t.files.line(),
        t.entries_recovered,
        t.damaged_regions,
        t.damaged_bytes
    );
}
