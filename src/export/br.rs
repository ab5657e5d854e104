//! Key-value pairs out of a RawKV BR backup, without a cluster (format-specs/br.md §4.2).
//!
//! Every data file of a column family is read in key order (files sorted by their first key; a
//! RawKV backup's files hold disjoint ranges) and each pair is written as one JSON line,
//! `{"key":"<hex>","value":"<hex>"}`: the key as the user wrote it (TiKV's `z` data prefix
//! removed), the value exactly as stored (with API V1TTL, or a V1 store with TTL enabled, its last
//! 8 bytes are the big-endian expiry time). Blocks that fail their checksum contribute nothing and
//! are described in the damage report, as for any table.

use std::io::{self, BufWriter, Write};
use std::path::Path;

use serde::Serialize;

use crate::br::meta::{Backup, Crypter, DataFile};
use crate::codec::hexfmt::push_hex;
use crate::sst::salvage::{FileReport, Salvage};

/// What a RawKV export wrote.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RawExportReport {
    /// Per column family: the output file and the pairs written.
    pub column_families: Vec<RawCfOutcome>,
    /// Every data file's damage report (format-specs/damage-report.md).
    pub files: Vec<FileReport>,
    /// Data files that could not be read at all, with why.
    pub unreadable: Vec<String>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct RawCfOutcome {
    pub cf: String,
    pub file: String,
    pub pairs: u64,
    /// Pairs from blocks no checksum vouches for (marked `"unverified":true`).
    pub unverified: u64,
    /// Entries that are not values (a RawKV backup holds none; counted, not written).
    pub skipped_non_values: u64,
}

/// Write the pairs of the RawKV backup `b` to `out/<cf>.jsonl`. `out` may not lie on the backup
/// ([`crate::io::ensure_outside_inputs`]).
pub fn export_raw(
    b: &Backup,
    crypter: Option<&Crypter>,
    out: &Path,
) -> io::Result<RawExportReport> {
    crate::io::ensure_outside_inputs("output directory", out, &[&b.dir])?;
    if !b.meta.is_raw_kv {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "not a RawKV backup: the export of TxnKV (TiDB) backups is not implemented yet \
             (`br tables --sql` gives their schema)",
        ));
    }
    std::fs::create_dir_all(out)?;
    let mut rep = RawExportReport::default();
    let mut cfs: Vec<String> = b
        .files
        .iter()
        .map(|f| {
            if f.cf.is_empty() {
                "default".into()
            } else {
                f.cf.clone()
            }
        })
        .collect();
    cfs.sort();
    cfs.dedup();
    for cf in cfs {
        let mut files: Vec<_> = b
            .files
            .iter()
            .filter(|f| f.cf == cf || (f.cf.is_empty() && cf == "default"))
            .collect();
        files.sort_by(|x, y| (&x.start_key, &x.name).cmp(&(&y.start_key, &y.name)));
        let name = format!("{cf}.jsonl");
        let mut w = BufWriter::new(std::fs::File::create(out.join(&name))?);
        let mut o = RawCfOutcome {
            cf: cf.clone(),
            file: name,
            ..RawCfOutcome::default()
        };
        let mut line = Vec::new();
        for f in files {
            let data = match DataFile::open(b, f, crypter) {
                Ok(d) => d,
                Err(e) => {
                    rep.unreadable.push(format!("{}: {e}", f.name));
                    continue;
                }
            };
            let plan = Salvage::plan(data.bytes(), data.path());
            let mut err = None;
            let report = plan.visit_entries(|e, unverified| {
                if err.is_some() {
                    return;
                }
                if e.vtype != crate::ikey::vtype::VALUE {
                    o.skipped_non_values += 1;
                    return;
                }
                line.clear();
                line.extend_from_slice(b"{\"key\":\"");
                push_hex(
                    &mut line,
                    e.user_key.strip_prefix(b"z").unwrap_or(e.user_key),
                );
                line.extend_from_slice(b"\",\"value\":\"");
                push_hex(&mut line, e.value);
                line.push(b'"');
                if unverified {
                    line.extend_from_slice(b",\"unverified\":true");
                    o.unverified += 1;
                }
                line.extend_from_slice(b"}\n");
                o.pairs += 1;
                if let Err(x) = w.write_all(&line) {
                    err = Some(x);
                }
            });
            if let Some(e) = err {
                return Err(e);
            }
            let mut report = report;
            if let Err(e) = data.check_intact() {
                report.changed_while_read(&e);
                rep.unreadable.push(format!("{}: {e}", f.name));
            }
            rep.files.push(report);
        }
        w.flush()?;
        rep.column_families.push(o);
    }
    Ok(rep)
}
