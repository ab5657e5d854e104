//! `rockrescue tidb databases|tables|export DATADIR...`: TiDB databases, tables and rows rebuilt
//! from one or many TiKV data directories (the replicas of one cluster, merged).

use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};

use rockrescue::export::plan::{make_plan, refill, ExportPlan, PlanOptions, RefillRange};
use rockrescue::export::tidb::{export, Progress, TidbExportOptions, TidbExportReport, TidbFormat};
use rockrescue::lsm::salvage::DbSalvageOptions;
use rockrescue::tikv::region::MergeMode;

use super::{EXIT_DAMAGE, EXIT_ERROR, EXIT_OK};

#[derive(Subcommand)]
pub enum TidbCommand {
    /// List the databases (and how many tables each has) at the read timestamp.
    #[command(
        after_help = "Examples:\n  rockrescue tidb databases /data/tikv1 /data/tikv2 /data/tikv3"
    )]
    Databases(ListArgs),
    /// List the tables with their ids, partitions, schema version and row counts.
    #[command(
        after_help = "Examples:\n  rockrescue tidb tables /data/tikv1 --db shop\n  rockrescue tidb tables /data/tikv* --include-dropped --json"
    )]
    Tables(ListArgs),
    /// Export every table's rows as CSV, SQL or JSON lines, with a report of what is damaged.
    #[command(after_help = EXPORT_HELP)]
    Export(ExportArgs),
    /// Decide which store exports which key range, for exporting on every node in parallel.
    #[command(after_help = PLAN_HELP)]
    Plan(PlanArgs),
}

const PLAN_HELP: &str =
    "Reads only the region metadata and TiDB's schema of every store (seconds,\n\
whatever the data size), chooses one replica per key range as `tidb export`\n\
does, and writes PLAN: the ranges each store exports, the ranges no store\n\
holds (with their tables), and the schema. Then, on each node, with that\n\
node's data directories:\n  \
rockrescue tidb export --plan plan.json /data/tikv --out /out/node1\n\
exports only the ranges its stores own; the nodes' outputs are disjoint and\n\
their union is what one machine would export (TiDB Lightning loads every\n\
node's directory). A node that lost data in a range it owns lists it under\n\
regions.refill in its report.json; feed those reports back:\n  \
rockrescue tidb plan --refill /out/node*/report.json --plan plan.json \\\n    \
--out refill.json\n\
and export refill.json on the nodes it names (rows marked suspect).\n\n\
The data directories need not be local to one machine for `tidb plan`: only\n\
their metadata is read (mount them, or copy each store's `db/` files that\n\
hold local and `zm` keys).\n\n\
Examples:\n  rockrescue tidb plan /mnt/tikv1 /mnt/tikv2 /mnt/tikv3 --out plan.json";

#[derive(Args)]
pub struct PlanArgs {
    /// TiKV data directories (with a `db/` kv RocksDB) or kv DB directories.
    datadirs: Vec<PathBuf>,
    /// Where to write the plan (JSON).
    #[arg(long, short)]
    out: PathBuf,
    /// Read stores whose StoreIdents name different clusters together.
    #[arg(long)]
    force: bool,
    /// Instead of reading stores: per-node report.json files whose regions.refill list ranges
    /// to take from next-best replicas (needs --plan).
    #[arg(long, num_args = 1.., value_name = "REPORT")]
    refill: Vec<PathBuf>,
    /// The plan the refilled exports ran with.
    #[arg(long, value_name = "PLAN", requires = "refill")]
    plan: Option<PathBuf>,
    /// Directory for temporary files (default: next to --out).
    #[arg(long, value_name = "DIR")]
    tmp_dir: Option<PathBuf>,
}

const EXPORT_HELP: &str = "Writes, in OUT (Dumpling's layout):\n  \
<db>-schema-create.sql      CREATE DATABASE\n  \
<db>.<table>-schema.sql     CREATE TABLE rebuilt from the table's schema\n  \
<db>.<table>.000000000.csv  the rows, in key order (or .sql, .jsonl; more\n                              \
chunks with --file-size-mb)\n  \
dropped/                    dropped and truncated tables (--include-dropped)\n  \
report.json                 stores, divergence between them, per-table\n                              \
counts, pending locks, tables touched by damage\n                              \
(affected_tables)\n  \
damage-report.json          every store's per-file damage reports\n\n\
CSV: a header line, fields separated by ',', strings in '\"' with backslash\n\
escapes, NULL as \\N. This is MySQL's (Dumpling's) dialect, not RFC 4180:\n\
readers such as Python's csv module misread it. It loads with TiDB Lightning\n\
(backslash-escape = true, header = true) and with\n  \
LOAD DATA INFILE 'f.csv' INTO TABLE t CHARACTER SET binary\n    \
FIELDS TERMINATED BY ',' ENCLOSED BY '\"' ESCAPED BY '\\\\'\n    \
LINES TERMINATED BY '\\n' IGNORE 1 LINES;\n\
TIMESTAMP values are in UTC (SQL files set time_zone; for CSV set\n\
time_zone = '+00:00').\n\n\
Several DATADIRs are merged as replicas of one cluster. By default (--merge\n\
regions, when every store has TiKV's region metadata) each key range is read\n\
from one replica only: per region the newest epoch, then the highest applied\n\
index (Tombstone replicas ignored, Applying ones last), so rows that one store\n\
deleted and garbage-collected do not come back from another store's older\n\
copy. Data of a store outside its chosen ranges is ignored and counted; key\n\
ranges no store holds are reported with the tables they touch (`rockrescue\n\
tikv regions` shows the whole plan). --merge keys takes, for every key, the\n\
newest commit in any store (the only choice for stores without region\n\
metadata, e.g. directories of loose SSTs); the report lists versions found in\n\
only some stores and same-ts conflicts (the first DATADIR's value is used).\n\n\
TiDB's system databases (mysql, sys, INFORMATION_SCHEMA, ...) are skipped, as\n\
Dumpling skips them: loading TiDB's mysql tables into MySQL would overwrite the\n\
server's own. --include-system (or --db mysql) exports them.\n\n\
Each store's tables are merged as the sorted streams they are, on every core\n\
(RAYON_NUM_THREADS=N uses N threads), with no scratch copy; only WAL records and\n\
carved or unordered tables are sorted, past --memory-mb in runs under --tmp-dir.\n\
Neither OUT nor --tmp-dir may lie inside a DATADIR (or contain one): nothing is\n\
written onto the input.\n\n\
Exit codes: 0 = clean, 1 = damage or data loss found, 2 = usage or I/O error.\n\n\
Examples:\n  rockrescue tidb export /data/tikv1 /data/tikv2 /data/tikv3 --out rescued/\n  \
rockrescue tidb export /data/tikv1 --out rescued/ --db shop --table orders \\\n    \
--format sql";

/// How several stores are merged.
#[derive(Args)]
pub struct MergeArgs {
    /// keys: per key the newest commit in any store; regions: each key range from its region's
    /// authoritative replica. Default: regions when every store has region metadata, else keys.
    #[arg(long, value_enum)]
    merge: Option<MergeArg>,
    /// Read stores whose StoreIdents name different clusters together.
    #[arg(long)]
    force: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum MergeArg {
    Keys,
    Regions,
}

impl MergeArgs {
    fn mode(&self) -> Option<MergeMode> {
        self.merge.map(|m| match m {
            MergeArg::Keys => MergeMode::Keys,
            MergeArg::Regions => MergeMode::Regions,
        })
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Csv,
    Sql,
    Jsonl,
}

#[derive(Args)]
pub struct ListArgs {
    /// TiKV data directories (with a `db/` kv RocksDB), kv DB directories, or directories of SSTs.
    #[arg(required = true)]
    datadirs: Vec<PathBuf>,
    /// Only this database.
    #[arg(long)]
    db: Option<String>,
    /// Also list dropped and truncated tables.
    #[arg(long)]
    include_dropped: bool,
    /// Also list the tables of TiDB's system databases.
    #[arg(long)]
    include_system: bool,
    /// Read timestamp (TSO); default: the newest commit of every key.
    #[arg(long)]
    read_ts: Option<u64>,
    /// JSON output.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    merge: MergeArgs,
}

#[derive(Args)]
pub struct ExportArgs {
    /// TiKV data directories (with a `db/` kv RocksDB), kv DB directories, or directories of SSTs.
    #[arg(required = true)]
    datadirs: Vec<PathBuf>,
    /// Output directory (created if missing).
    #[arg(long, short)]
    out: PathBuf,
    #[command(flatten)]
    tables: TableExportArgs,
    /// Read timestamp (TSO); default: the newest commit of every key.
    #[arg(long)]
    read_ts: Option<u64>,
    /// Also export dropped and truncated tables (under OUT/dropped/).
    #[arg(long)]
    include_dropped: bool,
    /// Memory, in MiB, shared by the stores' write, default and lock column families, each
    /// merged and streamed to the export on its own: for what must be sorted (WAL records,
    /// carved tables) before it spills to disk, and for output held ahead of the merge.
    #[arg(long, default_value_t = 256)]
    memory_mb: usize,
    #[command(flatten)]
    merge: MergeArgs,
    /// Export only these stores' share of an export plan (`tidb plan`).
    #[arg(long, value_name = "PLAN", conflicts_with = "merge")]
    plan: Option<PathBuf>,
}

/// What to export and how to write it (shared by `tidb export` and `br export`).
#[derive(Args)]
pub struct TableExportArgs {
    /// Only this database.
    #[arg(long)]
    db: Option<String>,
    /// Only this table.
    #[arg(long)]
    table: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "csv")]
    format: Format,
    /// Start a new data file every this many MiB (0: one file per table).
    #[arg(long, default_value_t = 0)]
    file_size_mb: u64,
    /// Write collations MariaDB and MySQL 5.7 lack (utf8mb4_0900_*) as ones they have.
    #[arg(long)]
    portable_collations: bool,
    /// Directory for sorted runs and spools (a `.rockrescue-tmp` directory is made inside it and
    /// removed at the end); default: OUT. Never inside an input.
    #[arg(long, value_name = "DIR")]
    tmp_dir: Option<PathBuf>,
    /// Print the report as JSON instead of the summary.
    #[arg(long)]
    json: bool,
    /// Also export TiDB's system databases (mysql, sys, INFORMATION_SCHEMA, ...), skipped by
    /// default as Dumpling skips them.
    #[arg(long)]
    include_system: bool,
}

impl TableExportArgs {
    fn options(&self) -> TidbExportOptions {
        TidbExportOptions {
            format: match self.format {
                Format::Csv => TidbFormat::Csv,
                Format::Sql => TidbFormat::Sql,
                Format::Jsonl => TidbFormat::Jsonl,
            },
            db: self.db.clone(),
            table: self.table.clone(),
            file_size: self.file_size_mb << 20,
            portable_collations: self.portable_collations,
            include_system: self.include_system,
            ..TidbExportOptions::default()
        }
    }
}

pub fn run(c: TidbCommand) -> i32 {
    match c {
        TidbCommand::Databases(a) => list(&a, false),
        TidbCommand::Tables(a) => list(&a, true),
        TidbCommand::Export(a) => run_export(&a),
        TidbCommand::Plan(a) => run_plan(&a),
    }
}

fn spinner(enabled: bool) -> Option<indicatif::ProgressBar> {
    (enabled && io::stderr().is_terminal()).then(|| {
        let b = indicatif::ProgressBar::new_spinner();
        b.set_style(
            indicatif::ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        b.enable_steady_tick(std::time::Duration::from_millis(120));
        b
    })
}

fn check_dirs(dirs: &[PathBuf]) -> Result<(), i32> {
    for d in dirs {
        if !d.is_dir() {
            eprintln!("rockrescue: {}: not a directory (give a TiKV data directory, its db/ directory, or a directory of SSTs)", d.display());
            return Err(EXIT_ERROR);
        }
        let kv = rockrescue::tikv::store::kv_dir(d);
        let has_rocksdb_files = std::fs::read_dir(&kv).is_ok_and(|rd| {
            rd.flatten().any(|e| {
                let n = e.file_name().to_string_lossy().into_owned();
                n.ends_with(".sst") || n.ends_with(".log") || n.starts_with("MANIFEST-")
            })
        });
        if !has_rocksdb_files {
            eprintln!(
                "rockrescue: {}: no RocksDB files (*.sst, *.log, MANIFEST-*) in {} (give a TiKV data directory, its db/ directory, or a directory of SSTs)",
                d.display(),
                kv.display()
            );
            return Err(EXIT_ERROR);
        }
    }
    Ok(())
}

fn tmp_dir(base: Option<&Path>) -> PathBuf {
    match base {
        Some(b) => b.join(".rockrescue-tmp"),
        None => std::env::temp_dir().join(format!("rockrescue-tidb-{}", std::process::id())),
    }
}

fn go(
    dirs: &[PathBuf],
    out: Option<&Path>,
    tmp: Option<&Path>,
    opts: &TidbExportOptions,
    progress: bool,
) -> Result<(TidbExportReport, Vec<rockrescue::tikv::store::StoreOutcome>), i32> {
    let kv: Vec<PathBuf> = dirs
        .iter()
        .map(|d| rockrescue::tikv::store::kv_dir(d))
        .collect();
    let kv_refs: Vec<&Path> = kv.iter().map(PathBuf::as_path).collect();
    let bar = progress
        .then(|| super::progress::salvage_bar(&kv_refs))
        .flatten();
    let mut opts = opts.clone();
    opts.salvage.progress = bar.as_ref().map(|b| b.hook());
    let cb = |p: Progress| {
        if let (Some(b), Progress::Rows { keys, rows }) = (&bar, p) {
            b.rows(keys, rows);
        }
    };
    let r = export(dirs, out, &tmp_dir(tmp.or(out)), &opts, &cb);
    if let Some(b) = bar {
        b.finish();
    }
    r.map_err(|e| {
        eprintln!("rockrescue: {e}");
        EXIT_ERROR
    })
}

fn list(a: &ListArgs, tables: bool) -> i32 {
    if let Err(c) = check_dirs(&a.datadirs) {
        return c;
    }
    let opts = TidbExportOptions {
        db: a.db.clone(),
        read_ts: a.read_ts.unwrap_or(u64::MAX),
        include_dropped: a.include_dropped,
        include_system: a.include_system,
        merge: a.merge.mode(),
        force: a.merge.force,
        ..TidbExportOptions::default()
    };
    let (rep, _) = match go(&a.datadirs, None, None, &opts, !a.json) {
        Ok(r) => r,
        Err(c) => return c,
    };
    let mut o = BufWriter::new(io::stdout().lock());
    if a.json {
        let v = if tables {
            serde_json::to_value(&rep.tables)
        } else {
            serde_json::to_value(&rep.databases)
        };
        let _ = writeln!(
            o,
            "{}",
            serde_json::to_string_pretty(&v.unwrap_or_default()).unwrap_or_default()
        );
        return EXIT_OK;
    }
    if tables {
        let _ = writeln!(
            o,
            "{:<40} {:>8} {:>10} {:>10} {:>7}  schema",
            "table", "id", "status", "rows", "columns"
        );
        for t in &rep.tables {
            let mut extra = String::new();
            if !t.partitions.is_empty() {
                extra.push_str(&format!("  partitions {:?}", t.partitions));
            }
            if t.suspect_rows > 0 {
                extra.push_str(&format!("  {} suspect", t.suspect_rows));
            }
            let _ = writeln!(
                o,
                "{:<40} {:>8} {:>10} {:>10} {:>7}  ts {} ({} version(s)){extra}",
                format!("{}.{}", t.db, t.table),
                t.id,
                t.status,
                t.rows,
                t.columns,
                t.schema_ts,
                t.schema_versions
            );
        }
    } else {
        let _ = writeln!(o, "{:<30} {:>8} {:>7}", "database", "id", "tables");
        for d in &rep.databases {
            if a.db
                .as_ref()
                .is_some_and(|n| !n.eq_ignore_ascii_case(&d.name))
            {
                continue;
            }
            if d.dropped && !a.include_dropped {
                continue;
            }
            let _ = writeln!(
                o,
                "{:<30} {:>8} {:>7}{}",
                d.name,
                d.id,
                d.tables,
                if d.dropped {
                    "  (dropped)"
                } else if d.system {
                    "  (system: exported only with --include-system)"
                } else {
                    ""
                }
            );
        }
    }
    EXIT_OK
}

fn run_export(a: &ExportArgs) -> i32 {
    if let Err(c) = check_dirs(&a.datadirs) {
        return c;
    }
    let plan = match a.plan.as_deref().map(ExportPlan::read).transpose() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("rockrescue: {e}");
            return EXIT_ERROR;
        }
    };
    let opts = TidbExportOptions {
        plan,
        read_ts: a.read_ts.unwrap_or(u64::MAX),
        include_dropped: a.include_dropped,
        salvage: DbSalvageOptions {
            memory_budget: a.memory_mb.max(1) << 20,
            ..DbSalvageOptions::default()
        },
        merge: a.merge.mode(),
        force: a.merge.force,
        ..a.tables.options()
    };
    let (rep, stores) = match go(
        &a.datadirs,
        Some(&a.out),
        a.tables.tmp_dir.as_deref(),
        &opts,
        !a.tables.json,
    ) {
        Ok(r) => r,
        Err(c) => return c,
    };
    finish(&rep, &stores, &a.out, a.tables.json)
}

/// `br export` of a TiDB backup: the tables, as `tidb export` writes them.
pub fn export_backup(
    b: &rockrescue::br::meta::Backup,
    crypter: Option<&rockrescue::br::meta::Crypter>,
    out: &Path,
    a: &TableExportArgs,
) -> i32 {
    let opts = a.options();
    let bar = spinner(!a.json);
    let cb = |p: Progress| {
        if let Some(bar) = &bar {
            match p {
                Progress::Salvaging => bar.set_message("reading the backup's data files"),
                Progress::Rows { keys, rows } => {
                    bar.set_message(format!("{keys} keys merged, {rows} rows"))
                }
            }
        }
    };
    let tmp = tmp_dir(a.tmp_dir.as_deref().or(Some(out)));
    let r = rockrescue::export::br::export_txn(b, crypter, Some(out), &tmp, &opts, &cb);
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    match r {
        Ok((rep, stores)) => {
            let code = finish(&rep, &stores, out, a.json);
            if b.problems.is_empty() {
                code
            } else {
                for p in &b.problems {
                    eprintln!("rockrescue: backup metadata: {p:?}");
                }
                EXIT_DAMAGE
            }
        }
        Err(e) => {
            eprintln!("rockrescue: {e}");
            EXIT_ERROR
        }
    }
}

/// Write `report.json` and `damage-report.json` into `out`, print the summary (or the report as
/// JSON) and give the exit code.
fn finish(
    rep: &TidbExportReport,
    stores: &[rockrescue::tikv::store::StoreOutcome],
    out: &Path,
    json: bool,
) -> i32 {
    let damage: Vec<serde_json::Value> = stores
        .iter()
        .map(|s| serde_json::to_value(&s.report).unwrap_or_default())
        .collect();
    for (name, body) in [
        (
            "report.json",
            serde_json::to_string_pretty(rep).unwrap_or_default(),
        ),
        (
            "damage-report.json",
            serde_json::to_string_pretty(&damage).unwrap_or_default(),
        ),
    ] {
        let p = out.join(name);
        if let Err(e) = std::fs::write(&p, body + "\n") {
            eprintln!("rockrescue: writing {}: {e}", p.display());
            return EXIT_ERROR;
        }
    }
    let damaged = rep
        .stores
        .iter()
        .any(|s| s.tables_damaged > 0 || s.wal_problems > 0)
        || rep
            .tables
            .iter()
            .any(|t| t.values_lost > 0 || t.row_errors > 0 || t.cell_errors > 0)
        || rep.divergence.conflict_count > 0
        || !rep.schema_problems.is_empty()
        || rep
            .regions
            .as_ref()
            .is_some_and(|r| !r.lost.is_empty() || !r.refill.is_empty());
    let mut o = BufWriter::new(io::stdout().lock());
    if json {
        let _ = writeln!(
            o,
            "{}",
            serde_json::to_string_pretty(rep).unwrap_or_default()
        );
    } else {
        let _ = summary(&mut o, rep, out);
    }
    if damaged {
        EXIT_DAMAGE
    } else {
        EXIT_OK
    }
}

fn run_plan(a: &PlanArgs) -> i32 {
    let plan = if !a.refill.is_empty() {
        let Some(base) = &a.plan else {
            eprintln!("rockrescue: --refill needs --plan (the plan the exports ran with)");
            return EXIT_ERROR;
        };
        let base = match ExportPlan::read(base) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("rockrescue: {e}");
                return EXIT_ERROR;
            }
        };
        let mut ranges: Vec<RefillRange> = Vec::new();
        for r in &a.refill {
            let v: serde_json::Value = match std::fs::read(r)
                .map_err(|e| e.to_string())
                .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
            {
                Ok(v) => v,
                Err(e) => {
                    eprintln!("rockrescue: {}: {e}", r.display());
                    return EXIT_ERROR;
                }
            };
            let list = v["regions"]["refill"].clone();
            if !list.is_null() {
                match serde_json::from_value::<Vec<RefillRange>>(list) {
                    Ok(l) => ranges.extend(l),
                    Err(e) => {
                        eprintln!("rockrescue: {}: regions.refill: {e}", r.display());
                        return EXIT_ERROR;
                    }
                }
            }
        }
        refill(&base, &ranges)
    } else {
        if a.datadirs.is_empty() {
            eprintln!("rockrescue: give the stores' data directories (or --refill REPORT...)");
            return EXIT_ERROR;
        }
        if let Err(c) = check_dirs(&a.datadirs) {
            return c;
        }
        let tmp = a
            .tmp_dir
            .clone()
            .unwrap_or_else(|| {
                a.out
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .unwrap_or(Path::new("."))
                    .to_path_buf()
            })
            .join(format!(".rockrescue-plan-{}", std::process::id()));
        match make_plan(&a.datadirs, &tmp, &PlanOptions { force: a.force }) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("rockrescue: {e}");
                return EXIT_ERROR;
            }
        }
    };
    if let Err(e) = rockrescue::io::ensure_outside_inputs("plan file", &a.out, &a.datadirs) {
        eprintln!("rockrescue: {e}");
        return EXIT_ERROR;
    }
    let body = serde_json::to_string_pretty(&plan).unwrap_or_default() + "\n";
    if let Err(e) = std::fs::write(&a.out, body) {
        eprintln!("rockrescue: writing {}: {e}", a.out.display());
        return EXIT_ERROR;
    }
    let mut o = BufWriter::new(io::stdout().lock());
    let _ = writeln!(o, "plan: {} key range(s)", plan.ranges.len());
    for s in &plan.stores {
        let n = plan
            .ranges
            .iter()
            .filter(|r| r.store_ids.first() == Some(&s.store_id))
            .count();
        if n > 0 {
            let _ = writeln!(
                o,
                "  store {} ({}): {n} range(s)  ->  rockrescue tidb export --plan {} {} --out OUT",
                s.store_id,
                s.path,
                a.out.display(),
                s.path
            );
        }
    }
    for l in &plan.lost {
        let _ = writeln!(
            o,
            "LOST [{}, {}): {}",
            if l.start.is_empty() { "-inf" } else { &l.start },
            if l.end.is_empty() { "+inf" } else { &l.end },
            tables_text(&l.tables, l.meta, &l.unknown_tables)
        );
    }
    let _ = writeln!(o, "wrote {}", a.out.display());
    if plan.lost.is_empty() {
        EXIT_OK
    } else {
        EXIT_DAMAGE
    }
}

fn summary(o: &mut impl Write, rep: &TidbExportReport, out: &Path) -> io::Result<()> {
    writeln!(o, "stores:")?;
    for (i, s) in rep.stores.iter().enumerate() {
        writeln!(
            o,
            "  [{i}] {}: {} write / {} default / {} lock keys; {} damaged table file(s), {} WAL problem(s)",
            s.path, s.write_keys, s.default_keys, s.lock_keys, s.tables_damaged, s.wal_problems
        )?;
    }
    if let Some(r) = &rep.regions {
        writeln!(
            o,
            "merge by region: {} region(s), {} key range(s) each read from one store; {} \
             record(s) filled from next-best replicas (suspect)",
            r.regions, r.ranges, r.filled_records
        )?;
        for s in &r.stores {
            let id = &s.identity;
            writeln!(
                o,
                "  [{}] store {} of cluster {}: {} replica(s), {} range(s) read; {} record(s) left \
                 to other replicas, {} stale leftover(s) ignored",
                id.store,
                opt(id.store_id),
                opt(id.cluster_id),
                id.regions,
                s.ranges,
                s.unused_records,
                s.leftover_records
            )?;
            for p in &id.problems {
                writeln!(o, "      problem: {p}")?;
            }
        }
        if !r.behind.is_empty() {
            writeln!(
                o,
                "  region(s) {:?}: the chosen replica is behind another's applied index (its \
                 data may be older)",
                r.behind
            )?;
        }
        for f in &r.refill {
            writeln!(
                o,
                "  damage in a range this node owns: [{}, {}) of region {} (store {}); take it \
                 from store(s) {:?} with `tidb plan --refill`",
                f.start, f.end, f.region_id, f.store_id, f.next_store_ids
            )?;
        }
        if !r.lost.is_empty() {
            writeln!(
                o,
                "lost key ranges (no store given holds a usable replica):"
            )?;
            for l in &r.lost {
                writeln!(
                    o,
                    "  [{}, {}): {}",
                    if l.start.is_empty() { "-inf" } else { &l.start },
                    if l.end.is_empty() { "+inf" } else { &l.end },
                    tables_text(&l.tables, l.meta, &l.unknown_tables)
                )?;
            }
        }
    }
    let d = &rep.divergence;
    if d.stores > 1 && rep.regions.is_none() {
        writeln!(
            o,
            "merge: {} versions in every store; missing per store {:?}; keys only in one store {:?}; {} same-ts conflict(s)",
            d.versions_in_all, d.versions_missing, d.keys_only_in, d.conflict_count
        )?;
    }
    if !rep.affected_tables.is_empty() {
        writeln!(o, "affected tables (lost key ranges in damaged blocks):")?;
        for r in &rep.affected_tables {
            let what = tables_text(&r.tables, r.meta, &r.unknown_tables);
            writeln!(
                o,
                "  store {} {} @{} [{}]: {}",
                r.store,
                r.file,
                r.offset,
                r.column_family.as_deref().unwrap_or("?"),
                if r.read {
                    what
                } else {
                    format!("{what} -- not read from this store (other replicas are authoritative)")
                }
            )?;
        }
    }
    writeln!(
        o,
        "{:<40} {:>10} {:>8} {:>8} {:>8}  files",
        "table", "rows", "suspect", "lost", "errors"
    )?;
    for t in &rep.tables {
        writeln!(
            o,
            "{:<40} {:>10} {:>8} {:>8} {:>8}  {}",
            format!(
                "{}.{}{}",
                t.db,
                t.table,
                if t.status == "live" {
                    String::new()
                } else {
                    format!(" ({})", t.status)
                }
            ),
            t.rows,
            t.suspect_rows,
            t.values_lost,
            t.row_errors + t.cell_errors,
            t.files.join(" ")
        )?;
    }
    let unverified: Vec<String> = rep
        .tables
        .iter()
        .filter(|t| t.unverified_rows > 0)
        .map(|t| format!("{}.{} {}", t.db, t.table, t.unverified_rows))
        .collect();
    if !unverified.is_empty() {
        writeln!(
            o,
            "unverified rows (no checksum vouches for their records): {}",
            unverified.join(", ")
        )?;
    }
    if rep.pending_lock_count > 0 {
        let mut by: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
        for l in &rep.pending_locks {
            *by.entry(l.primary_status.as_deref().unwrap_or("unknown"))
                .or_default() += 1;
        }
        let by: Vec<String> = by.iter().map(|(k, n)| format!("{n} {k}")).collect();
        writeln!(
            o,
            "{} pending lock(s) of unresolved transactions, by their primary: {} (not applied to the rows; listed in report.json)",
            rep.pending_lock_count,
            by.join(", ")
        )?;
    }
    if let Some(sp) = &rep.gc_safe_point {
        writeln!(
            o,
            "GC safe point (mysql.tidb): {}{}",
            sp.text,
            sp.ts
                .map_or(" (does not parse)".into(), |t| format!(" = ts {t}"))
        )?;
    }
    for n in &rep.notes {
        writeln!(o, "note: {n}")?;
    }
    for (id, n) in &rep.rows_without_schema {
        writeln!(
            o,
            "{n} row(s) of physical table id {id} have no schema (not exported)"
        )?;
    }
    for p in &rep.schema_problems {
        writeln!(o, "schema problem: {p}")?;
    }
    writeln!(o, "report: {}", out.join("report.json").display())
}

fn opt(v: Option<u64>) -> String {
    v.map_or("?".into(), |x| x.to_string())
}

/// The tables a lost key range touches, as one line.
fn tables_text(
    tables: &[rockrescue::export::tidb::AffectedTable],
    meta: bool,
    unknown: &[i64],
) -> String {
    let names: Vec<String> = tables
        .iter()
        .map(|t| {
            format!(
                "{}.{} (id {}{}, handles {}..{})",
                t.db,
                t.table,
                t.table_id,
                if t.physical_id != t.table_id {
                    format!(", partition {}", t.physical_id)
                } else {
                    String::new()
                },
                t.handles_from.as_deref().unwrap_or("start"),
                t.handles_to.as_deref().unwrap_or("end")
            )
        })
        .collect();
    let mut what = names.join(", ");
    if meta {
        what.push_str(if what.is_empty() {
            "schema (meta keys)"
        } else {
            ", schema (meta keys)"
        });
    }
    if !unknown.is_empty() {
        what.push_str(&format!(" unknown table ids {unknown:?}"));
    }
    if what.is_empty() {
        "no table".into()
    } else {
        what
    }
}
