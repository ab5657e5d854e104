//! `rockrescue check DIR`: the LSM validator.

use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::PathBuf;

use clap::Args;

use rockrescue::lsm::{check_dir, Severity};

use super::{EXIT_DAMAGE, EXIT_ERROR, EXIT_OK};

#[derive(Args)]
#[command(after_help = "Checks, in order:\n  \
- CURRENT names a readable MANIFEST (else the newest MANIFEST is used);\n  \
- the MANIFEST replays without damage;\n  \
- every live table exists with its recorded size, passes a full audit (every\n    \
block checksum, decompression, key order), matches its whole-file checksum\n    \
when one is recorded, and holds keys and sequence numbers within its\n    \
recorded bounds;\n  \
- levels 1+ are sorted and do not overlap; no table is live twice;\n  \
- live blob files exist; orphan tables and blob files are listed;\n  \
- every WAL still to be replayed reads cleanly and its sequence numbers follow\n    \
the previous one's;\n  \
- the newest OPTIONS file names the same column families and comparators.\n\
The directory is only read.\n\n\
Exit codes: 0 = clean, 1 = errors found, 2 = usage or I/O error.\n\n\
Examples:\n  rockrescue check /var/lib/rocksdb/db\n  \
rockrescue check /mnt/image/tikv/db --json \\\n    \
| jq '.findings[] | select(.severity == \"error\")'")]
pub struct CheckArgs {
    /// The database directory.
    dir: PathBuf,
    /// Machine-readable JSON instead of human text.
    #[arg(long)]
    json: bool,
}

pub fn run(a: &CheckArgs) -> i32 {
    if !a.dir.is_dir() {
        eprintln!("rockrescue: {}: not a directory", a.dir.display());
        return EXIT_ERROR;
    }
    let bar = (io::stderr().is_terminal() && !a.json).then(|| {
        let total: u64 = std::fs::read_dir(&a.dir)
            .map(|rd| rd.flatten().filter_map(|e| e.metadata().ok()).map(|m| m.len()).sum())
            .unwrap_or(0);
        let b = indicatif::ProgressBar::new(total);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    });
    let r = check_dir(&a.dir, |n| {
        if let Some(b) = &bar {
            b.inc(n);
        }
    });
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let mut o = BufWriter::new(io::stdout().lock());
    if a.json {
        let _ = serde_json::to_writer_pretty(&mut o, &r);
        let _ = writeln!(o);
    } else {
        let what = r.status.label();
        let _ = writeln!(o, "{what:<11} {}", r.dir);
        if let Some(m) = &r.manifest {
            let _ = writeln!(o, "manifest    {m}");
        }
        let _ = writeln!(
            o,
            "            {} column families ({}), {} live tables, {} WALs to replay",
            r.column_families.len(),
            r.column_families.join(", "),
            r.tables.len(),
            r.wals.len()
        );
        for f in &r.findings {
            let sev = match f.severity {
                Severity::Error => "ERROR",
                Severity::Warning => "warning",
                Severity::Info => "note",
            };
            let at = match (&f.file, f.offset) {
                (Some(p), Some(off)) => format!("{p} at byte {off}: "),
                (Some(p), None) => format!("{p}: "),
                (None, _) => String::new(),
            };
            let _ = writeln!(o, "{sev:<8} {}: {at}{}", f.kind, f.message);
        }
        let errors = r
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count();
        let warnings = r
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Warning)
            .count();
        let _ = writeln!(o, "{errors} errors, {warnings} warnings");
    }
    let _ = o.flush();
    if r.status.is_clean() {
        EXIT_OK
    } else {
        EXIT_DAMAGE
    }
}
