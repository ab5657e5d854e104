//! Argument parsing and dispatch. Each subcommand lives in its own module and only formats what
//! the library returns.
//!
//! Exit codes: 0 = everything clean, 1 = damage found, 2 = usage or I/O error.

use clap::{Parser, Subcommand};

mod br;
mod check;
mod manifest;
mod progress;
mod salvage;
mod sst;
mod tidb;
mod tikv;
mod wal;

/// `--format` of the dump commands.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Text,
    Jsonl,
}

/// The dump format: as asked, else text on a terminal and JSON lines otherwise.
pub fn dump_format(f: Option<Format>) -> rockrescue::export::dump::DumpFormat {
    use rockrescue::export::dump::DumpFormat;
    use std::io::IsTerminal;
    match f {
        Some(Format::Jsonl) => DumpFormat::Jsonl,
        Some(Format::Text) => DumpFormat::Text,
        None if std::io::stdout().is_terminal() => DumpFormat::Text,
        None => DumpFormat::Jsonl,
    }
}

pub const EXIT_OK: i32 = 0;
pub const EXIT_DAMAGE: i32 = 1;
pub const EXIT_ERROR: i32 = 2;

#[derive(Parser)]
#[command(
    name = "rockrescue",
    version,
    about = "Audit and salvage RocksDB files without opening RocksDB",
    long_about = "rockrescue reads RocksDB's on-disk files with its own code (read-only, memory-mapped) \
to check every checksum, explain what is damaged, and get back what is not.",
    after_help = "Exit codes: 0 = clean, 1 = damage found, 2 = usage or I/O error.\n\n\
Examples:\n  rockrescue sst verify /var/lib/rocksdb/db\n  rockrescue sst dump 000042.sst --format jsonl > entries.jsonl"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Block-based table (SST / LevelDB .ldb) files: info, layout, verify, dump.
    #[command(subcommand)]
    Sst(sst::SstCommand),
    /// Write-ahead logs (NNNNNN.log): dump every operation, past damaged records.
    #[command(subcommand)]
    Wal(wal::WalCommand),
    /// MANIFEST files: replay to the final version of every column family.
    #[command(subcommand)]
    Manifest(manifest::ManifestCommand),
    /// Validate a whole database directory: MANIFEST, every live table, WALs, levels, orphans, OPTIONS.
    Check(check::CheckArgs),
    /// Rebuild the final visible state of every column family of a damaged database directory.
    Salvage(salvage::SalvageArgs),
    /// TiDB on TiKV: databases, tables and rows rebuilt from one or many TiKV data directories.
    #[command(subcommand)]
    Tidb(tidb::TidbCommand),
    /// TiKV stores: region metadata, the replica chosen per region, key ranges no store holds.
    #[command(subcommand)]
    Tikv(tikv::TikvCommand),
    /// BR backups: the databases and tables a backup holds, without a cluster.
    #[command(subcommand)]
    Br(br::BrCommand),
}

pub fn run() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_ERROR } else { EXIT_OK };
            let _ = e.print();
            return code;
        }
    };
    match cli.command {
        Command::Sst(c) => sst::run(c),
        Command::Wal(c) => wal::run(c),
        Command::Manifest(c) => manifest::run(c),
        Command::Check(a) => check::run(&a),
        Command::Salvage(a) => salvage::run(&a),
        Command::Tidb(c) => tidb::run(c),
        Command::Tikv(c) => tikv::run(c),
        Command::Br(c) => br::run(c),
    }
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    /// Every command and subcommand, depth first.
    fn all_commands(c: &clap::Command, out: &mut Vec<clap::Command>) {
        out.push(c.clone());
        for s in c.get_subcommands() {
            all_commands(s, out);
        }
    }

    /// The hand-formatted parts of `--help` (the text after the options) are laid out for an
    /// 80-column terminal: clap re-wraps a longer line mid-sentence and breaks the layout.
    #[test]
    fn formatted_help_fits_80_columns() {
        let mut cmds = Vec::new();
        all_commands(&Cli::command(), &mut cmds);
        assert!(cmds.len() > 10);
        for c in cmds {
            let Some(text) = c.get_after_help().map(|t| t.to_string()) else {
                continue;
            };
            for line in text.lines() {
                assert!(
                    line.chars().count() <= 80,
                    "`{}` after-help line is {} columns wide: {line}",
                    c.get_name(),
                    line.chars().count()
                );
            }
            // And clap, rendering for 80 columns, keeps every line as written.
            let rendered = c.clone().term_width(80).render_long_help().to_string();
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                assert!(
                    rendered.lines().any(|r| r.trim_end() == line.trim_end()),
                    "`{}` help re-wraps: {line}",
                    c.get_name()
                );
            }
        }
    }

    /// Indented lines of the hand-formatted help keep their indentation (a `\` line continuation
    /// in a Rust string swallows the next line's leading spaces unless they come before it).
    #[test]
    fn formatted_help_keeps_its_indentation() {
        let mut cmds = Vec::new();
        all_commands(&Cli::command(), &mut cmds);
        for (name, line) in [
            ("salvage", "  <cf>.jsonl "),
            ("check", "  - CURRENT names"),
            ("export", "  <db>-schema-create.sql "),
            ("plan", "  rockrescue tidb export --plan"),
        ] {
            let found = cmds.iter().filter(|c| c.get_name() == name).any(|c| {
                let text = c
                    .get_after_help()
                    .map(|t| t.to_string())
                    .unwrap_or_default();
                text.lines().any(|l| l.starts_with(line))
            });
            assert!(found, "`{name}` help lost the indentation of {line:?}");
        }
    }
}
