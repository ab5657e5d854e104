//! `rockrescue sst ...` subcommands.

use std::collections::BTreeMap;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};
use rayon::prelude::*;
use serde::Serialize;

use rockrescue::export::dump::{dump_table, DumpFormat};
use rockrescue::io::Source;
use rockrescue::sst::block::read_raw;
use rockrescue::sst::properties::PropValue;
use rockrescue::sst::table::{BlockKind, Table};
use rockrescue::sst::verify::{self, FileVerdict, Status};

use super::{EXIT_DAMAGE, EXIT_ERROR, EXIT_OK};

#[derive(Subcommand)]
pub enum SstCommand {
    /// Summarise one table: format, checksum type, index, compressions, properties, block counts.
    #[command(
        after_help = "Examples:\n  rockrescue sst info 000042.sst\n  rockrescue sst info 000042.sst --json | jq .properties"
    )]
    Info(FileArgs),
    /// List every block in file order with its kind, compression and checksum verdict.
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
A range_delete's value is its (exclusive) end key. Damaged blocks are skipped and reported on stderr (exit code 1).\n\n\
Examples:\n  rockrescue sst dump 000042.sst | head\n  rockrescue sst dump 000042.sst --format jsonl > entries.jsonl"
    )]
    Dump(DumpArgs),
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
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Jsonl,
}

#[derive(Args)]
pub struct DumpArgs {
    /// The table file.
    file: PathBuf,
    /// Output format (default: text on a terminal, jsonl otherwise).
    #[arg(long, value_enum)]
    format: Option<Format>,
}

pub fn run(c: SstCommand) -> i32 {
    match c {
        SstCommand::Info(a) => info(&a),
        SstCommand::Layout(a) => layout(&a),
        SstCommand::Verify(a) => verify_cmd(&a),
        SstCommand::Dump(a) => dump(&a),
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
        index_keys: if t.index_format.user_keys {
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
                (Some(fv), Some(c)) => format!("fv{fv} {c}, {} blocks", v.blocks_total),
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
    let t = match Table::open(src.bytes(), &a.file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("rockrescue: {e}");
            return EXIT_DAMAGE;
        }
    };
    let stdout = io::stdout();
    let fmt = match a.format {
        Some(Format::Jsonl) => DumpFormat::Jsonl,
        Some(Format::Text) => DumpFormat::Text,
        None if stdout.is_terminal() => DumpFormat::Text,
        None => DumpFormat::Jsonl,
    };
    // dump_table writes whole rendered blocks; locked stdout passes such large, newline-terminated
    // writes straight to the file descriptor, so an extra buffer would only add a copy.
    let mut out = stdout.lock();
    let mut damage = 0u64;
    let r = dump_table(&t, fmt, &mut out, &mut |e| {
        damage += 1;
        eprintln!("rockrescue: damaged block skipped: {e}");
    });
    let r = r.and_then(|_| out.flush());
    match r {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => EXIT_OK,
        Err(e) => {
            eprintln!("rockrescue: writing output: {e}");
            EXIT_ERROR
        }
        Ok(()) => {
            for p in &t.problems {
                eprintln!("rockrescue: {p}");
            }
            if damage == 0 && t.problems.is_empty() {
                EXIT_OK
            } else {
                EXIT_DAMAGE
            }
        }
    }
}
