//! `rockrescue salvage DIR --out OUT`: the final visible state of every column family.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use rockrescue::lsm::salvage::{salvage_db, DbSalvageOptions, SalvageFormat};

use super::{EXIT_DAMAGE, EXIT_ERROR, EXIT_OK};

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Jsonl,
    Csv,
}

#[derive(Args)]
#[command(after_help = "Writes, in OUT:\n  \
<cf>.jsonl          the final visible state of each column family, in key\n                      \
order: {\"key\":\"<hex>\",\"value\":\"<hex>\"}, with\n                      \
\"merge_operands\":[...]  unresolved operands, oldest\n                          \
first (\"value\" is the base value or null);\n                      \
\"blob_index\":true  the value is a BlobDB index not\n                          \
resolved yet;\n                      \
\"suspect\":true  the key lies in a lost key range of a\n                          \
damaged block or lost range deletion, or is older\n                          \
than a damaged WAL record: a newer version may be\n                          \
lost;\n                      \
\"unverified\":true  the value comes from a table or\n                          \
block no checksum vouches for\n  \
damage-report.json  every table's damage report (the `sst salvage` model),\n                      \
every WAL's problems\n\n\
Sources: the live tables the MANIFEST lists, tables newer than the MANIFEST's\n\
last edit, and the WALs still to be replayed; without a usable MANIFEST, every\n\
table in the directory (each in the column family its properties name) and\n\
every WAL. Sequence numbers order everything; range deletions, deletes and\n\
single deletes are applied.\n\n\
Tables are merged as the sorted streams they are, with no scratch copy, the key\n\
space cut into ranges merged on every core (RAYON_NUM_THREADS=N uses N threads).\n\
Only what is not sorted (WAL records, carved or unordered tables) is sorted, in\n\
memory up to --memory-mb and past it in runs spilled to a temporary directory\n\
(--tmp-dir, default OUT). Neither OUT nor --tmp-dir may lie inside the database\n\
directory (or contain it): nothing is written onto the input.\n\n\
Examples:\n  rockrescue salvage /mnt/broken/db --out rescued/\n  \
rockrescue salvage db/ --out rescued/ --format csv --tmp-dir /scratch")]
pub struct SalvageArgs {
    /// The database directory (only read).
    dir: PathBuf,
    /// Output directory (created if missing).
    #[arg(long, short)]
    out: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "jsonl")]
    format: Format,
    /// Also read tables the MANIFEST does not list (their entries may be older than deletions
    /// that were compacted away).
    #[arg(long)]
    include_orphans: bool,
    /// Memory, in MiB, per column family for what must be sorted (WAL records, carved tables)
    /// before it spills to disk, and (a quarter of it, at most 64 MiB) for output the parallel
    /// merge holds ahead of the writer. Tables are streamed, not sorted.
    #[arg(long, default_value_t = 256)]
    memory_mb: usize,
    /// Directory for the sorted runs that outgrow --memory-mb (a `.rockrescue-runs` directory is
    /// made inside it and removed at the end); default: OUT. Never inside the input.
    #[arg(long, value_name = "DIR")]
    tmp_dir: Option<PathBuf>,
    /// Also write the salvaged state into a new RocksDB database at this path, through RocksDB
    /// itself (needs a build with `--features to-rocksdb`).
    #[arg(long, value_name = "NEWDB")]
    to_rocksdb: Option<PathBuf>,
}

pub fn run(a: &SalvageArgs) -> i32 {
    if !a.dir.is_dir() {
        eprintln!("rockrescue: {}: not a directory", a.dir.display());
        return EXIT_ERROR;
    }
    let opts = DbSalvageOptions {
        format: match a.format {
            Format::Jsonl => SalvageFormat::Jsonl,
            Format::Csv => SalvageFormat::Csv,
        },
        memory_budget: a.memory_mb.max(1) << 20,
        include_orphans: a.include_orphans,
        tmp_dir: a.tmp_dir.clone(),
        filter: None,
        progress: None,
    };
    let bar = super::progress::salvage_bar(&[a.dir.as_path()]);
    let opts = DbSalvageOptions {
        progress: bar.as_ref().map(|b| b.hook()),
        ..opts
    };
    if let Some(new_db) = &a.to_rocksdb {
        if let Err(e) = rockrescue::io::ensure_outside_inputs("new database", new_db, &[&a.dir]) {
            eprintln!("rockrescue: {e}");
            return EXIT_ERROR;
        }
    }
    let rep = salvage_db(&a.dir, &a.out, &opts);
    if let Some(b) = bar {
        b.finish();
    }
    let rep = match rep {
        Ok(r) => r,
        Err(e) => {
            eprintln!("rockrescue: {e}");
            return EXIT_ERROR;
        }
    };
    let report_path = a.out.join("damage-report.json");
    if let Err(e) = std::fs::write(
        &report_path,
        serde_json::to_string_pretty(&rep).unwrap_or_default() + "\n",
    ) {
        eprintln!("rockrescue: writing {}: {e}", report_path.display());
        return EXIT_ERROR;
    }
    let mut o = BufWriter::new(io::stdout().lock());
    for cf in &rep.column_families {
        let _ = writeln!(
            o,
            "{:<20} {:>10} keys  {:>8} suspect  {:>8} with merge operands  {:>8} blob indexes -> {}",
            cf.name,
            cf.keys,
            cf.suspect,
            cf.with_merge_operands,
            cf.blob_indexes_unresolved,
            a.out.join(&cf.file).display()
        );
    }
    let damaged_tables = rep.tables.iter().filter(|t| !t.damaged.is_empty()).count();
    let wal_problems: usize = rep.wals.iter().map(|w| w.problems.len()).sum();
    let _ = writeln!(
        o,
        "{} tables read ({damaged_tables} damaged), {} WALs ({wal_problems} problems)",
        rep.tables.len(),
        rep.wals.len()
    );
    if rep.scratch_bytes > 0 {
        let _ = writeln!(
            o,
            "{} bytes of unsorted entries (WAL records, carved or unordered tables) went through \
             sorted runs in scratch space (removed)",
            rep.scratch_bytes
        );
    }
    for n in &rep.notes {
        let _ = writeln!(o, "note: {n}");
    }
    let _ = writeln!(o, "report: {}", report_path.display());
    let _ = o.flush();
    drop(o);
    if let Some(new_db) = &a.to_rocksdb {
        if let Err(c) = to_rocksdb(a, &rep, new_db) {
            return c;
        }
    }
    if damaged_tables == 0 && wal_problems == 0 && rep.notes.iter().all(|n| !n.contains("MANIFEST"))
    {
        EXIT_OK
    } else {
        EXIT_DAMAGE
    }
}

#[cfg(feature = "to-rocksdb")]
fn to_rocksdb(
    a: &SalvageArgs,
    rep: &rockrescue::lsm::salvage::DbSalvageReport,
    new_db: &std::path::Path,
) -> Result<(), i32> {
    if a.format != Format::Jsonl {
        eprintln!("rockrescue: --to-rocksdb reads the jsonl output; use --format jsonl");
        return Err(EXIT_ERROR);
    }
    match rockrescue::lsm::to_rocksdb::write_db(&a.out, rep, new_db) {
        Ok(cfs) => {
            for c in cfs {
                println!(
                    "{}: {} keys written to {} ({} suspect); not written: {} merge operand lists, {} entities, {} unreadable blobs",
                    c.name,
                    c.written,
                    new_db.display(),
                    c.suspect_written,
                    c.merge_operands_not_written,
                    c.entities_not_written,
                    c.blob_indexes_not_written
                );
            }
            Ok(())
        }
        Err(e) => {
            eprintln!("rockrescue: --to-rocksdb: {e}");
            Err(EXIT_ERROR)
        }
    }
}

#[cfg(not(feature = "to-rocksdb"))]
fn to_rocksdb(
    _a: &SalvageArgs,
    _rep: &rockrescue::lsm::salvage::DbSalvageReport,
    _new_db: &std::path::Path,
) -> Result<(), i32> {
    eprintln!(
        "rockrescue: this build has no --to-rocksdb support; rebuild with \
         `cargo build --release --features to-rocksdb` (compiles RocksDB, needs libclang-dev)"
    );
    Err(EXIT_ERROR)
}
