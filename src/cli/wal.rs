//! `rockrescue wal ...` subcommands.

use std::io::{self, Write};
use std::path::PathBuf;

use clap::{Args, Subcommand};

use rockrescue::export::wal::dump_wal;
use rockrescue::io::Source;

use super::{Format, EXIT_DAMAGE, EXIT_ERROR, EXIT_OK};

#[derive(Subcommand)]
pub enum WalCommand {
    /// Print every operation of a write-ahead log in log order, going on past damaged records.
    #[command(after_help = "The jsonl format is one operation per line:\n  \
{\"seq\":<u64|null>,\"cf\":<id>,\"type\":\"<type>\",\"key\":\"<hex>\",\"value\":\"<hex>\"}\n\
with <type> one of put, delete, single_delete, merge, range_delete, blob_index,\n\
entity, timed_put, log_data, noop, begin_prepare, end_prepare, commit,\n\
rollback...\n\
seq is null for operations that take no sequence number (markers, log data); a\n\
range_delete's key is its start and its value the exclusive end;\n\
end_prepare/commit/rollback carry their xid as the value.\n\
Damaged records are skipped and reported on stderr with their byte offsets (exit\n\
code 1); a torn tail (a write that never finished) is reported the same way.\n\
Compressed WALs (wal_compression=zstd) are read.\n\n\
Examples:\n  rockrescue wal dump /var/lib/rocksdb/000123.log | head\n  \
rockrescue wal dump 000123.log --format jsonl > ops.jsonl")]
    Dump(DumpArgs),
}

#[derive(Args)]
pub struct DumpArgs {
    /// The WAL file (NNNNNN.log).
    file: PathBuf,
    /// Output format (default: text on a terminal, jsonl otherwise).
    #[arg(long, value_enum)]
    format: Option<Format>,
}

pub fn run(c: WalCommand) -> i32 {
    match c {
        WalCommand::Dump(a) => dump(&a),
    }
}

fn dump(a: &DumpArgs) -> i32 {
    let src = match Source::open(&a.file) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("rockrescue: {e}");
            return EXIT_ERROR;
        }
    };
    let stdout = io::stdout();
    let fmt = super::dump_format(a.format);
    let mut out = io::BufWriter::new(stdout.lock());
    let r = dump_wal(src.bytes(), &a.file, fmt, &mut out).and_then(|s| out.flush().map(|_| s));
    match r {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => EXIT_OK,
        Err(e) => {
            eprintln!("rockrescue: writing output: {e}");
            EXIT_ERROR
        }
        Ok(sum) => {
            // Records read from a file that changed under the reader prove nothing.
            if let Err(e) = src.check_intact() {
                eprintln!("rockrescue: {e}");
                return EXIT_ERROR;
            }
            for p in &sum.problems {
                eprintln!(
                    "rockrescue: {}: {} at byte {} ({} bytes): {}",
                    a.file.display(),
                    p.kind,
                    p.offset,
                    p.length,
                    p.message
                );
            }
            if sum.problems.is_empty() {
                EXIT_OK
            } else {
                EXIT_DAMAGE
            }
        }
    }
}
