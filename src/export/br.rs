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

use super::tidb::{export_spooled, prepare_dirs, Progress, TidbExportOptions, TidbExportReport};
use crate::br::meta::{Backup, Crypter, DataFile};
use crate::codec::hexfmt::push_hex;
use crate::lsm::salvage::DbSalvageReport;
use crate::sst::salvage::{FileReport, Salvage};
use crate::tidb::catalog::CatalogBuilder;
use crate::tidb::schema::{DbInfo, TableInfo};
use crate::tikv::region::StoreMeta;
use crate::tikv::store::{SpoolWriter, StoreOutcome};

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

/// Export the tables of a TiDB (TxnKV) backup as `tidb export` exports a store's: the same files,
/// layout and report, with the schema from the backup's `Schema` entries and rows at its end
/// version (format-specs/br.md §5.2). The write and default data files are read in key order
/// (files sorted by their start key; a full backup's files hold disjoint ranges) into the spools
/// the store merge reads; blocks that fail their checksum are left out and reported per file, as
/// for a store's tables. Incremental backups are refused (their files hold only changes).
pub fn export_txn(
    b: &Backup,
    crypter: Option<&Crypter>,
    out: Option<&Path>,
    tmp: &Path,
    opts: &TidbExportOptions,
    progress: &dyn Fn(Progress),
) -> io::Result<(TidbExportReport, Vec<StoreOutcome>)> {
    if b.meta.is_raw_kv {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "a RawKV backup holds no tables: `br export` writes its pairs as JSON lines",
        ));
    }
    if b.meta.start_version > 0 {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            format!(
                "an incremental backup (changes after ts {} up to ts {}): its files hold only the \
                 changes of that interval, not the tables; export the full backup it builds on",
                b.meta.start_version, b.meta.end_version
            ),
        ));
    }
    prepare_dirs(out, tmp, &[&b.dir])?;
    progress(Progress::Salvaging);
    let dir = tmp.join("store-0");
    let mut report = DbSalvageReport {
        dir: b.dir.display().to_string(),
        ..DbSalvageReport::default()
    };
    let mut keys = [0u64; 3];
    for (ci, cf) in ["default", "write"].iter().enumerate() {
        let mut files: Vec<_> = b.files.iter().filter(|f| f.cf == *cf).collect();
        files.sort_by(|x, y| (&x.start_key, &x.name).cmp(&(&y.start_key, &y.name)));
        let mut w = SpoolWriter::create(&dir, cf)?;
        let mut last: Vec<u8> = Vec::new();
        let mut out_of_order = 0u64;
        for f in files {
            let data = match DataFile::open(b, f, crypter) {
                Ok(d) => d,
                Err(e) => {
                    let path = b.dir.join(&f.name);
                    let mut r =
                        FileReport::unreadable(&path, &crate::error::Error::io_at(&path, 0, e));
                    r.column_family = Some(cf.to_string());
                    bound_lost_keys(&mut r, f);
                    report.tables.push(r);
                    continue;
                }
            };
            let plan = Salvage::plan(data.bytes(), data.path());
            let mut err = None;
            let mut r = plan.visit_entries(|e, unverified| {
                if err.is_some() || e.vtype != crate::ikey::vtype::VALUE {
                    return;
                }
                if !last.is_empty() && e.user_key <= last.as_slice() {
                    out_of_order += 1;
                    return;
                }
                last.clear();
                last.extend_from_slice(e.user_key);
                if let Err(x) = w.put(e.user_key, e.value, false, unverified) {
                    err = Some(x);
                }
            });
            if let Some(e) = err {
                return Err(e);
            }
            if let Err(e) = data.check_intact() {
                r.changed_while_read(&e);
            }
            r.column_family = Some(cf.to_string());
            bound_lost_keys(&mut r, f);
            report.tables.push(r);
        }
        if out_of_order > 0 {
            report.notes.push(format!(
                "{out_of_order} {cf} entries were not in key order after the files before them \
                 (overlapping data files) and were left out"
            ));
        }
        keys[ci] = w.records;
        w.finish()?;
    }
    // The schema, as of the backup's end version.
    let ts = b.meta.end_version;
    let mut builder = CatalogBuilder::new(opts.read_ts.min(ts));
    for s in &b.schemas {
        let Ok(db) = DbInfo::parse(&s.db) else {
            continue;
        };
        builder.add_db_json(db.id, s.db.clone(), ts);
        if let Ok(t) = TableInfo::parse(&s.table) {
            builder.add_table_json(db.id, t.id, s.table.clone(), ts);
        }
    }
    let store = StoreOutcome {
        path: b.dir.display().to_string(),
        kv_dir: b.dir.display().to_string(),
        keys,
        suspect_keys: 0,
        report,
        meta: StoreMeta::default(),
    };
    let opts = TidbExportOptions {
        read_ts: opts.read_ts.min(ts),
        ..opts.clone()
    };
    let data_files = b.files.len();
    let (mut rep, stores) = export_spooled(vec![store], out, tmp, &opts, progress, Some(builder))?;
    // The store note about a missing write column family does not fit a backup.
    rep.notes.retain(|n| !n.contains("no write-CF records"));
    if data_files == 0 {
        rep.notes.push(
            "the backup's metadata lists no data files: only the schema was exported (a \
             schema-only backup, or the metadata of a backup whose files are elsewhere)"
                .into(),
        );
    } else if keys[1] == 0 {
        rep.notes.push(format!(
            "none of the backup's {data_files} data file(s) gave a write record: no rows"
        ));
    }
    Ok((rep, stores))
}

/// A data file's lost keys lie in its recorded range (br.md §5.3): damaged regions whose report
/// leaves a bound open (no readable neighbour block), or names none (a missing or unreadable file),
/// get the file's start and end key, as data keys (`z` + memcomparable), so the report maps them
/// to the file's table only.
fn bound_lost_keys(r: &mut FileReport, f: &crate::br::meta::File) {
    let data_key = |raw: &[u8]| {
        let mut k = b"z".to_vec();
        k.extend_from_slice(&crate::tikv::codec::encode_bytes(raw));
        k
    };
    let to = (!f.end_key.is_empty()).then(|| data_key(&f.end_key));
    r.bound_lost_keys(Some(&data_key(&f.start_key)), to.as_deref());
}
