//! `rockrescue br ...`: BR backups without a cluster.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde::Serialize;

use rockrescue::br::meta::{self, Backup, Crypter, MetaProblem, MetaVersion};
use rockrescue::export::sqlschema::{create_database_sql, create_table_sql};
use rockrescue::tidb::backup::{
    catalog, table_checksums, BackupDatabase, BackupTable, TableChecksum,
};

use super::{EXIT_DAMAGE, EXIT_ERROR, EXIT_OK};

#[derive(Subcommand)]
pub enum BrCommand {
    /// The databases a backup holds, from its backupmeta (ids, table counts).
    #[command(
        after_help = "Examples:\n  rockrescue br databases /backups/full-2024-05-01\n  \
rockrescue br databases /backups/enc --crypter.key-file backup.key --json"
    )]
    Databases(ListArgs),
    /// The tables a backup holds, with the checksums BR recorded; --sql prints the CREATE
    /// statements the schemas describe.
    #[command(
        after_help = "Examples:\n  rockrescue br tables /backups/full-2024-05-01 --db shop\n  \
rockrescue br tables /backups/full-2024-05-01 --sql > schema.sql"
    )]
    Tables(ListArgs),
    /// Audit every data file against the backupmeta: present, size, sha256, every SST block
    /// checksum, key-value count and bytes.
    #[command(
        after_help = "Exit codes: 0 = every file matches, 1 = damage or a mismatch found, 2 = usage\n\
error or unreadable metadata.\n\n\
Examples:\n  rockrescue br verify /backups/full-2024-05-01\n  \
rockrescue br verify /backups/enc --crypter.key-file backup.key --json \\\n    \
> audit.json"
    )]
    Verify(VerifyArgs),
    /// Get the data out without a cluster: a TiDB backup's tables as `tidb export` writes them
    /// (CSV, SQL or JSON lines), a RawKV backup's key-value pairs as JSON lines.
    #[command(
        after_help = "A TiDB (TxnKV) backup: OUT gets what `tidb export` writes (Dumpling's layout:\n  \
<db>-schema-create.sql, <db>.<table>-schema.sql, <db>.<table>.000000000.csv,\n  \
report.json, damage-report.json), the schema from the backup's metadata and\n  \
the rows at its end version. The CSV is MySQL's backslash-escaped dialect, not\n  \
RFC 4180 (see `tidb export --help` for loading it). Incremental backups (start\n  \
version > 0) are refused: their files hold only changes.\n\n\
A RawKV backup: OUT gets\n  \
<cf>.jsonl          one pair per line in key order:\n                      \
{\"key\":\"<hex>\",\"value\":\"<hex>\"}, the key as written\n                      \
(without TiKV's z prefix), the value as stored (with TTL,\n                      \
its last 8 bytes are the expiry); \"unverified\":true where\n                      \
no checksum vouches for it\n  \
damage-report.json  every data file's damage report\n\n\
Blocks that fail their checksum are left out and reported; what survives is\n\
written. OUT may not lie inside the backup. Exit codes: 0 = clean, 1 = damage\n\
found, 2 = usage error, unreadable metadata, or an unsupported backup.\n\n\
Examples:\n  rockrescue br export /backups/full-2024-05-01 --out rescued/ --db shop\n  \
rockrescue br export /backups/rawkv-2024-05-01 --out rescued/"
    )]
    Export(ExportArgs),
}

#[derive(Args)]
pub struct ExportArgs {
    /// The backup directory (with a `backupmeta`), or a backupmeta file.
    backup: PathBuf,
    /// Output directory (created if missing).
    #[arg(long, short)]
    out: PathBuf,
    #[command(flatten)]
    crypter: CrypterArgs,
    #[command(flatten)]
    tables: super::tidb::TableExportArgs,
}

#[derive(Args)]
pub struct VerifyArgs {
    /// The backup directory (with a `backupmeta`), or a backupmeta file.
    backup: PathBuf,
    #[command(flatten)]
    crypter: CrypterArgs,
    /// JSON output.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct ListArgs {
    /// The backup directory (with a `backupmeta`), or a backupmeta file.
    backup: PathBuf,
    /// Only this database.
    #[arg(long)]
    db: Option<String>,
    #[command(flatten)]
    crypter: CrypterArgs,
    /// CREATE DATABASE / CREATE TABLE statements instead of the listing.
    #[arg(long, conflicts_with = "json")]
    sql: bool,
    /// JSON output.
    #[arg(long)]
    json: bool,
}

/// BR's `--crypter.*` options.
#[derive(Args)]
pub struct CrypterArgs {
    /// The key of an encrypted backup, in hex (BR's --crypter.key); 16, 24 or 32 bytes for
    /// aes128/192/256-ctr.
    #[arg(long = "crypter.key", value_name = "HEX", conflicts_with = "key_file")]
    key: Option<String>,
    /// A file holding the key in hex (BR's --crypter.key-file).
    #[arg(long = "crypter.key-file", id = "key_file", value_name = "FILE")]
    key_file: Option<PathBuf>,
    /// aes128-ctr, aes192-ctr or aes256-ctr (BR's --crypter.method); checked against the key's
    /// length.
    #[arg(long = "crypter.method", value_name = "METHOD")]
    method: Option<String>,
}

impl CrypterArgs {
    fn crypter(&self) -> Result<Option<Crypter>, String> {
        let hex_key = match (&self.key, &self.key_file) {
            (Some(k), _) => k.clone(),
            (None, Some(f)) => std::fs::read_to_string(f)
                .map_err(|e| format!("--crypter.key-file {}: {e}", f.display()))?,
            (None, None) => {
                if self.method.as_deref().is_some_and(|m| m != "plaintext") {
                    return Err("--crypter.method needs --crypter.key or --crypter.key-file".into());
                }
                return Ok(None);
            }
        };
        let c = Crypter::from_hex(&hex_key)?;
        if let Some(m) = &self.method {
            let bits = match m.to_ascii_lowercase().as_str() {
                "aes128-ctr" => 128,
                "aes192-ctr" => 192,
                "aes256-ctr" => 256,
                other => {
                    return Err(format!(
                        "--crypter.method {other}: use aes128-ctr, aes192-ctr or aes256-ctr"
                    ))
                }
            };
            if bits != c.key_bits() {
                return Err(format!(
                    "--crypter.method {m} needs a {}-byte key, this one has {}",
                    bits / 8,
                    c.key_bits() / 8
                ));
            }
        }
        Ok(Some(c))
    }
}

pub fn run(c: BrCommand) -> i32 {
    match c {
        BrCommand::Databases(a) => list(&a, false),
        BrCommand::Tables(a) => list(&a, true),
        BrCommand::Verify(a) => verify(&a),
        BrCommand::Export(a) => export(&a),
    }
}

fn verify(a: &VerifyArgs) -> i32 {
    let (b, crypter) = match open(&a.backup, &a.crypter) {
        Ok(b) => b,
        Err(c) => return c,
    };
    // TiDB/TxnKV files: BR's per-file counts and CRCs are recomputed with TiKV's MVCC rule.
    let r = rockrescue::br::verify::verify_with(
        &b,
        crypter.as_ref(),
        Some(&rockrescue::tikv::backup::MvccPairs),
    );
    let cat = catalog(&b);
    let (tables, outside) = table_checksums(&b, &cat, Some(&r));
    let keys = rockrescue::tidb::backup::file_keys(&b, &cat, Some(&r));
    let tables_ok = tables.iter().all(|t| {
        t.matches != Some(false)
            && t.recomputed
                .as_ref()
                .is_none_or(|c| c.matches != Some(false))
    });
    let mut o = BufWriter::new(io::stdout().lock());
    let w = if a.json {
        #[derive(Serialize)]
        struct Out<'a> {
            #[serde(flatten)]
            files: &'a rockrescue::br::verify::BackupCheck,
            tables: &'a [TableChecksum],
            files_outside_tables: usize,
            /// Per file (same order as `files`): the table and keys it holds.
            file_keys: &'a [rockrescue::tidb::backup::FileKeys],
        }
        let out = Out {
            files: &r,
            tables: &tables,
            files_outside_tables: outside,
            file_keys: &keys,
        };
        writeln!(
            o,
            "{}",
            serde_json::to_string_pretty(&out).unwrap_or_default()
        )
    } else {
        write_verify(&mut o, &r, &keys).and_then(|_| write_table_checksums(&mut o, &tables))
    };
    if let Err(e) = w.and_then(|_| o.flush()) {
        if e.kind() != io::ErrorKind::BrokenPipe {
            eprintln!("rockrescue: writing output: {e}");
            return EXIT_ERROR;
        }
    }
    if r.clean() && tables_ok {
        EXIT_OK
    } else {
        EXIT_DAMAGE
    }
}

/// Each table BR recorded a checksum for: its files' records against it (br.md §6.3).
fn write_table_checksums(o: &mut impl Write, tables: &[TableChecksum]) -> io::Result<()> {
    let (mut same, mut none) = (0, 0);
    let (mut data_same, mut data_differs) = (0, 0);
    let mut unverifiable = 0;
    for t in tables {
        if !t.bad_files.is_empty() {
            unverifiable += 1;
            writeln!(
                o,
                "TABLE       {}.{}: its data cannot be checked against BR's checksum: {} of its \
                 files failed the audit ({})",
                t.db,
                t.table,
                t.bad_files.len(),
                t.bad_files.join(", ")
            )?;
        }
        match t
            .recomputed
            .as_ref()
            .and_then(|c| c.matches.map(|m| (m, c)))
        {
            Some((true, _)) => data_same += 1,
            Some((false, c)) => {
                data_differs += 1;
                writeln!(
                    o,
                    "TABLE       {}.{}: its data adds up to crc64xor {:016x}, {} kvs, {} bytes; \
                     BR recorded {:016x}, {} kvs, {} bytes for the table",
                    t.db,
                    t.table,
                    c.crc64xor,
                    c.kvs,
                    c.bytes,
                    t.recorded_crc64xor,
                    t.recorded_kvs,
                    t.recorded_bytes
                )?;
            }
            None => {}
        }
        match t.matches {
            None => none += 1,
            Some(true) => same += 1,
            Some(false) => writeln!(
                o,
                "TABLE       {}.{}: its {} files record crc64xor {:016x}, {} kvs, {} bytes; the \
                 table's checksum is {:016x}, {} kvs, {} bytes",
                t.db,
                t.table,
                t.files,
                t.files_crc64xor,
                t.files_kvs,
                t.files_bytes,
                t.recorded_crc64xor,
                t.recorded_kvs,
                t.recorded_bytes
            )?,
        }
    }
    if !tables.is_empty() {
        writeln!(
            o,
            "{} tables: {same} whose files add up to the checksum BR recorded, {} that do not, {none} \
             without a recorded checksum",
            tables.len(),
            tables.len() - same - none
        )?;
        if data_same + data_differs + unverifiable > 0 {
            writeln!(
                o,
                "{} tables recomputed from their data: {data_same} equal to BR's checksum, \
                 {data_differs} not; {unverifiable} with damaged or missing files",
                data_same + data_differs
            )?;
        }
    }
    Ok(())
}

fn export(a: &ExportArgs) -> i32 {
    let (b, crypter) = match open(&a.backup, &a.crypter) {
        Ok(b) => b,
        Err(c) => return c,
    };
    if !b.meta.is_raw_kv {
        return super::tidb::export_backup(&b, crypter.as_ref(), &a.out, &a.tables);
    }
    let r = match rockrescue::export::br::export_raw(&b, crypter.as_ref(), &a.out) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("rockrescue: {e}");
            return EXIT_ERROR;
        }
    };
    let report = rockrescue::sst::report::DamageReport::new(&r.files);
    let path = a.out.join("damage-report.json");
    if let Err(e) = std::fs::write(&path, report.to_json()) {
        eprintln!("rockrescue: writing {}: {e}", path.display());
        return EXIT_ERROR;
    }
    for c in &r.column_families {
        println!(
            "{:<12} {:>10} pairs{} -> {}",
            c.cf,
            c.pairs,
            if c.unverified > 0 {
                format!(" ({} unverified)", c.unverified)
            } else {
                String::new()
            },
            a.out.join(&c.file).display()
        );
    }
    for u in &r.unreadable {
        println!("UNREADABLE  {u}");
    }
    println!("{}; report: {}", report.totals.files.line(), path.display());
    if report.totals.files.all_clean() && r.unreadable.is_empty() && b.problems.is_empty() {
        EXIT_OK
    } else {
        EXIT_DAMAGE
    }
}

fn write_verify(
    o: &mut impl Write,
    r: &rockrescue::br::verify::BackupCheck,
    keys: &[rockrescue::tidb::backup::FileKeys],
) -> io::Result<()> {
    for (i, f) in r.files.iter().enumerate() {
        let k = keys.get(i);
        writeln!(
            o,
            "{:<11} {}  {} kvs{}, {} bytes{}{}{}",
            f.status.label(),
            f.name,
            f.kvs,
            if f.kvs_compared {
                format!(" of {} recorded", f.expected_kvs)
            } else {
                " (not compared)".into()
            },
            f.bytes,
            if f.bytes_compared {
                format!(" of {} recorded", f.expected_bytes)
            } else {
                " (not compared)".into()
            },
            match f.crc64xor {
                Some(x) if x == f.expected_crc64xor => format!(", crc64xor {x:016x} matches"),
                Some(x) => format!(", crc64xor {x:016x}"),
                None => String::new(),
            },
            match f.sha256_matches {
                Some(true) => ", sha256 matches",
                Some(false) => ", SHA256 DIFFERS",
                None => ", no sha256 recorded",
            }
        )?;
        if !f.problems.is_empty() {
            if let Some(k) = k {
                writeln!(
                    o,
                    "            holds {}keys [{} .. {})",
                    k.table
                        .as_ref()
                        .map_or(String::new(), |t| format!("table {t}, ")),
                    k.from,
                    k.to
                )?;
            }
        }
        for p in &f.problems {
            writeln!(o, "            {p}")?;
        }
        if let Some(t) = &f.table {
            for (j, d) in t.damaged.iter().enumerate() {
                let lost =
                    k.and_then(|k| k.lost.get(j).cloned().flatten())
                        .map_or(String::new(), |l| {
                            if l == "? .. ?" {
                                "; keys lost: any of the file's range".to_string()
                            } else {
                                format!("; keys lost: {l}")
                            }
                        });
                writeln!(
                    o,
                    "            bytes {}..{} ({}): {}{lost}",
                    d.offset,
                    d.offset + d.length,
                    d.kind,
                    d.error
                )?;
            }
        }
    }
    for p in &r.meta_problems {
        writeln!(o, "METADATA    {}: {}", p.file, p.message)?;
    }
    writeln!(o, "{}", r.totals.line())
}

/// Open the backup's metadata or say why not (exit 2).
/// The metadata and the key that decrypts the backup's files.
fn open(backup: &std::path::Path, c: &CrypterArgs) -> Result<(Backup, Option<Crypter>), i32> {
    let crypter = c.crypter().map_err(|e| {
        eprintln!("rockrescue: {e}");
        EXIT_ERROR
    })?;
    let b = meta::open(backup, crypter.as_ref()).map_err(|e| {
        eprintln!("rockrescue: {e}");
        EXIT_ERROR
    })?;
    Ok((b, crypter))
}

/// The backup's own facts, for the JSON listings.
#[derive(Serialize)]
struct Summary<'a> {
    cluster_id: u64,
    cluster_version: &'a str,
    br_version: &'a str,
    meta_version: MetaVersion,
    encrypted: bool,
    raw_kv: bool,
    start_version: u64,
    end_version: u64,
    data_files: usize,
    problems: &'a [MetaProblem],
}

fn summary(b: &Backup) -> Summary<'_> {
    Summary {
        cluster_id: b.meta.cluster_id,
        cluster_version: b.meta.cluster_version.trim().trim_matches('"'),
        br_version: b
            .meta
            .br_version
            .lines()
            .nth(1)
            .unwrap_or(&b.meta.br_version),
        meta_version: b.version,
        encrypted: b.encrypted,
        raw_kv: b.meta.is_raw_kv,
        start_version: b.meta.start_version,
        end_version: b.meta.end_version,
        data_files: b.files.len(),
        problems: &b.problems,
    }
}

#[derive(Serialize)]
struct Listing<'a, T: Serialize> {
    backup: Summary<'a>,
    #[serde(flatten)]
    items: T,
}

fn list(a: &ListArgs, tables: bool) -> i32 {
    let (b, _) = match open(&a.backup, &a.crypter) {
        Ok(b) => b,
        Err(c) => return c,
    };
    let cat = catalog(&b);
    let db_ok = |name: &str| a.db.as_ref().is_none_or(|d| d.eq_ignore_ascii_case(name));
    let dbs: Vec<&BackupDatabase> = cat.databases.iter().filter(|d| db_ok(&d.name)).collect();
    let tbls: Vec<&BackupTable> = cat.tables.iter().filter(|t| db_ok(&t.db)).collect();
    let mut o = BufWriter::new(io::stdout().lock());
    let r = if a.json {
        #[derive(Serialize)]
        struct D<'a> {
            databases: Vec<&'a BackupDatabase>,
        }
        #[derive(Serialize)]
        struct T<'a> {
            tables: Vec<&'a BackupTable>,
        }
        let v = if tables {
            serde_json::to_value(Listing {
                backup: summary(&b),
                items: T { tables: tbls },
            })
        } else {
            serde_json::to_value(Listing {
                backup: summary(&b),
                items: D { databases: dbs },
            })
        };
        writeln!(
            o,
            "{}",
            serde_json::to_string_pretty(&v.unwrap_or_default()).unwrap_or_default()
        )
    } else if a.sql {
        write_sql(&mut o, &dbs, &tbls, tables)
    } else {
        write_listing(&mut o, &b, &dbs, &tbls, tables, &cat.problems)
    };
    if let Err(e) = r.and_then(|_| o.flush()) {
        if e.kind() != io::ErrorKind::BrokenPipe {
            eprintln!("rockrescue: writing output: {e}");
            return EXIT_ERROR;
        }
    }
    if b.problems.is_empty() && cat.problems.is_empty() {
        EXIT_OK
    } else {
        EXIT_DAMAGE
    }
}

fn write_sql(
    o: &mut impl Write,
    dbs: &[&BackupDatabase],
    tbls: &[&BackupTable],
    tables: bool,
) -> io::Result<()> {
    for d in dbs {
        // Each statement ends with ";\n"; a blank line between them.
        write!(o, "{}", create_database_sql(&d.info))?;
        if !tables {
            continue;
        }
        for t in tbls.iter().filter(|t| t.db == d.name) {
            write!(o, "\n{}", create_table_sql(&t.info))?;
        }
    }
    Ok(())
}

fn write_listing(
    o: &mut impl Write,
    b: &Backup,
    dbs: &[&BackupDatabase],
    tbls: &[&BackupTable],
    tables: bool,
    problems: &[String],
) -> io::Result<()> {
    let s = summary(b);
    writeln!(
        o,
        "backup of cluster {} ({}), {} backupmeta{}, {} at ts {}{}; {} data files",
        s.cluster_id,
        s.cluster_version,
        match s.meta_version {
            MetaVersion::V1 => "v1",
            MetaVersion::V2 => "v2",
        },
        if s.encrypted { ", encrypted" } else { "" },
        if s.raw_kv { "RawKV" } else { "TxnKV" },
        s.end_version,
        if s.start_version > 0 {
            format!(" (incremental from ts {})", s.start_version)
        } else {
            String::new()
        },
        s.data_files
    )?;
    if tables {
        writeln!(
            o,
            "{:<40} {:>8} {:>7} {:>7} {:>12} {:>14}  crc64xor",
            "table", "id", "columns", "indexes", "kvs", "bytes"
        )?;
        for t in tbls {
            writeln!(
                o,
                "{:<40} {:>8} {:>7} {:>7} {:>12} {:>14}  {:016x}{}",
                format!("{}.{}", t.db, t.table),
                t.id,
                t.columns,
                t.indexes,
                t.total_kvs,
                t.total_bytes,
                t.crc64xor,
                if t.partitions.is_empty() {
                    String::new()
                } else {
                    format!("  partitions {:?}", t.partitions)
                }
            )?;
        }
    } else {
        writeln!(
            o,
            "{:<30} {:>8} {:>7}  charset/collation",
            "database", "id", "tables"
        )?;
        for d in dbs {
            writeln!(
                o,
                "{:<30} {:>8} {:>7}  {}/{}",
                d.name, d.id, d.tables, d.charset, d.collate
            )?;
        }
    }
    for p in &b.problems {
        writeln!(o, "problem: {}: {}", p.file, p.message)?;
    }
    for p in problems {
        writeln!(o, "problem: {p}")?;
    }
    Ok(())
}
