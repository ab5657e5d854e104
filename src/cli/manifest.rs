//! `rockrescue manifest ...` subcommands.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde::Serialize;

use rockrescue::export::dump::push_escaped;
use rockrescue::io::Source;
use rockrescue::manifest::{self, VersionEdit};

use super::{EXIT_DAMAGE, EXIT_ERROR, EXIT_OK};

#[derive(Subcommand)]
pub enum ManifestCommand {
    /// Replay a MANIFEST to the final version: every column family with its live files per level
    /// (sizes, key ranges, sequence ranges, file checksums), blob files and tracked WALs.
    #[command(
        after_help = "Given a directory, the MANIFEST its CURRENT file names is read. Damaged\n\
records are skipped and reported with their byte offsets (exit code 1); an edit\n\
that does not decode is not applied.\n\n\
Examples:\n  rockrescue manifest dump /var/lib/rocksdb/db\n  \
rockrescue manifest dump db/MANIFEST-000005 --json --edits \\\n    \
| jq '.edits | length'"
    )]
    Dump(DumpArgs),
}

#[derive(Args)]
pub struct DumpArgs {
    /// A MANIFEST-NNNNNN file, or a DB directory (its CURRENT names the MANIFEST).
    path: PathBuf,
    /// Machine-readable JSON instead of human text.
    #[arg(long)]
    json: bool,
    /// Also list every VersionEdit in order (with --json: an "edits" array).
    #[arg(long)]
    edits: bool,
}

pub fn run(c: ManifestCommand) -> i32 {
    match c {
        ManifestCommand::Dump(a) => dump(&a),
    }
}

/// What a DB directory's small text files say.
#[derive(Serialize, Default)]
struct DirInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    current: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    identity: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    options_file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rocksdb_version: Option<String>,
    /// Per column family in OPTIONS: comparator, merge operator, table format_version,
    /// checksum and compression.
    options: std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>>,
}

fn dir_info(dir: &std::path::Path) -> DirInfo {
    let mut d = DirInfo {
        current: std::fs::read_to_string(dir.join("CURRENT"))
            .ok()
            .map(|s| s.trim_end().to_string()),
        identity: std::fs::read_to_string(dir.join("IDENTITY"))
            .ok()
            .map(|s| s.trim_end().to_string()),
        ..DirInfo::default()
    };
    let newest = std::fs::read_dir(dir).ok().and_then(|rd| {
        rd.flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let n: u64 = name.strip_prefix("OPTIONS-")?.parse().ok()?;
                Some((n, e.path()))
            })
            .max()
    });
    if let Some((_, p)) = newest {
        if let Ok(text) = std::fs::read_to_string(&p) {
            let o = rockrescue::lsm::options::parse(&text);
            d.rocksdb_version = o.version.get("rocksdb_version").cloned();
            for (cf, m) in o.column_families {
                let keep = [
                    "comparator",
                    "merge_operator",
                    "compression",
                    "table.format_version",
                    "table.checksum",
                ];
                let picked = m
                    .into_iter()
                    .filter(|(k, _)| keep.contains(&k.as_str()))
                    .collect();
                d.options.insert(cf, picked);
            }
        }
        d.options_file = Some(p.display().to_string());
    }
    d
}

#[derive(Serialize)]
struct Output<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    directory: Option<DirInfo>,
    manifest: String,
    #[serde(flatten)]
    version: &'a manifest::Version,
    #[serde(skip_serializing_if = "Option::is_none")]
    edits: Option<Vec<(u64, VersionEdit)>>,
}

fn key_text(hex_key: &str) -> String {
    let k = hex::decode(hex_key).unwrap_or_default();
    let mut out = Vec::new();
    match rockrescue::ikey::parse(&k) {
        Some(p) => {
            push_escaped(&mut out, p.user_key);
            format!("'{}' @{}", String::from_utf8_lossy(&out), p.seq)
        }
        None => {
            push_escaped(&mut out, &k);
            format!("'{}'", String::from_utf8_lossy(&out))
        }
    }
}

fn dump(a: &DumpArgs) -> i32 {
    let path = if a.path.is_dir() {
        match manifest::current_manifest(&a.path) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("rockrescue: {e}");
                return EXIT_DAMAGE;
            }
        }
    } else {
        a.path.clone()
    };
    let src = match Source::open(&path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("rockrescue: {e}");
            return EXIT_ERROR;
        }
    };
    let mut edits = Vec::new();
    let v = manifest::replay(src.bytes(), |off, e| {
        if a.edits {
            edits.push((off, e.clone()));
        }
    });
    if let Err(e) = src.check_intact() {
        eprintln!("rockrescue: {e}");
        return EXIT_ERROR;
    }
    let mut o = BufWriter::new(io::stdout().lock());
    if a.json {
        let out = Output {
            directory: a.path.is_dir().then(|| dir_info(&a.path)),
            manifest: path.display().to_string(),
            version: &v,
            edits: a.edits.then_some(edits),
        };
        let _ = serde_json::to_writer_pretty(&mut o, &out);
        let _ = writeln!(o);
    } else {
        if a.path.is_dir() {
            let d = dir_info(&a.path);
            if let Some(c) = &d.current {
                let _ = writeln!(o, "CURRENT         {c}");
            }
            if let Some(i) = &d.identity {
                let _ = writeln!(o, "IDENTITY        {i}");
            }
            if let Some(f) = &d.options_file {
                let _ = writeln!(
                    o,
                    "OPTIONS         {f} (written by RocksDB {})",
                    d.rocksdb_version.as_deref().unwrap_or("?")
                );
                for (cf, m) in &d.options {
                    let kv: Vec<String> = m.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    let _ = writeln!(o, "  '{cf}': {}", kv.join(" "));
                }
            }
        }
        let _ = writeln!(o, "manifest        {}", path.display());
        if let Some(id) = &v.db_id {
            let _ = writeln!(o, "db id           {id}");
        }
        let _ = writeln!(
            o,
            "records {}, next file number {}, last sequence {}, min log number to keep {}",
            v.records, v.next_file_number, v.last_sequence, v.min_log_number_to_keep
        );
        for cf in &v.column_families {
            let _ = writeln!(
                o,
                "column family {} '{}' (comparator {}, log number {}): {} files, {} blob files",
                cf.id,
                cf.name,
                cf.comparator.as_deref().unwrap_or("?"),
                cf.log_number,
                cf.files.len(),
                cf.blob_files.len()
            );
            for (level, f) in &cf.files {
                let seqs = match (f.smallest_seqno, f.largest_seqno) {
                    (Some(a), Some(b)) => format!("seq {a}..{b}"),
                    _ => "seq ?".into(),
                };
                let _ = writeln!(
                    o,
                    "  L{level} {:06}.sst {:>10} bytes  {} .. {}  {seqs}",
                    f.number,
                    f.size,
                    key_text(&f.smallest),
                    key_text(&f.largest)
                );
            }
            for b in &cf.blob_files {
                let _ = writeln!(
                    o,
                    "  blob {:06}.blob {} blobs, {} bytes ({} garbage blobs)",
                    b.number, b.total_blobs, b.total_bytes, b.garbage_blobs
                );
            }
        }
        for (n, synced) in &v.tracked_wals {
            let _ = writeln!(o, "tracked WAL {n:06}.log synced {synced:?}");
        }
        if a.edits {
            for (off, e) in &edits {
                let _ = writeln!(
                    o,
                    "edit at {off}: {}",
                    serde_json::to_string(e).unwrap_or_default()
                );
            }
        }
        for p in &v.problems {
            let _ = writeln!(o, "PROBLEM at byte {}: {}: {}", p.offset, p.kind, p.message);
        }
    }
    let _ = o.flush();
    if v.problems.is_empty() {
        EXIT_OK
    } else {
        EXIT_DAMAGE
    }
}
