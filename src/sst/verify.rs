//! Auditing a table: the checksum of every block (fast path), and with `deep` also decompression,
//! decoding, key order within and across blocks, index separators against block contents and entry
//! counts against the properties.

use std::cmp::Ordering;
use std::collections::HashSet;
use std::path::Path;

use rayon::prelude::*;
use serde::Serialize;

use super::block::{read_raw, ChecksumCheck};
use super::handle::BlockHandle;
pub use super::report::{FileFacts, Status};
use super::table::{BlockKind, Table};
use crate::codec::checksum::ChecksumType;
use crate::error::Error;
use crate::ikey::{self, vtype};
use crate::io::Source;

/// One block's checksum result, as listed by `sst layout`.
#[derive(Clone, Debug, Serialize)]
pub struct BlockCheck {
    pub kind: BlockKind,
    pub name: String,
    pub offset: u64,
    pub size: u64,
    pub compression: String,
    /// Stored and computed trailer checksums (None when the file uses checksum type none or the block
    /// lies outside the file).
    pub stored: Option<u32>,
    pub computed: Option<u32>,
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Something wrong found by an audit, with its absolute offset.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Issue {
    pub offset: u64,
    pub what: String,
    pub message: String,
    /// A feature rockrescue recognises but cannot decode (not evidence of damage).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub unsupported: bool,
    /// For a damaged data block: the range of user keys it may have held.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lost_keys: Option<LostKeys>,
}

/// The user keys a damaged data block may have held: every lost key lies in `[from, to]`
/// (hex user keys, both inclusive; `None` = open end). `exact` when both bounds come from the keys
/// of the readable neighbouring blocks, otherwise they are the (looser) index separators.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LostKeys {
    pub from: Option<String>,
    pub to: Option<String>,
    pub exact: bool,
}

/// Bound the keys lost with data block `i` from its neighbours (read if intact) and the index.
pub fn lost_keys(t: &Table, i: usize) -> LostKeys {
    let user = |k: &[u8]| -> Vec<u8> {
        if t.index_format.user_keys {
            k.to_vec()
        } else {
            t.user_key_of(k).to_vec()
        }
    };
    // The first or last user key of an intact block.
    let edge = |j: usize, last: bool| -> Option<Vec<u8>> {
        let d = t.data_blocks.get(j)?;
        let c = t.read_data_block(d.handle).ok()?;
        let mut key = None;
        let mut first = true;
        t.visit_data_block(d.handle, &c, |e| {
            if last || first {
                key = Some(e.user_key.to_vec());
            }
            first = false;
        })
        .ok()?;
        key
    };
    let mut exact = true;
    let from = if i == 0 {
        None
    } else {
        Some(edge(i - 1, true).unwrap_or_else(|| {
            exact = false;
            user(&t.data_blocks[i - 1].separator)
        }))
    };
    let to = match edge(i + 1, false) {
        Some(k) => Some(k),
        None => {
            if i + 1 < t.data_blocks.len() {
                exact = false;
            }
            Some(user(&t.data_blocks[i].separator))
        }
    };
    LostKeys {
        from: from.map(hex::encode),
        to: to.map(hex::encode),
        exact,
    }
}

impl Issue {
    fn new(offset: u64, what: impl Into<String>, message: impl Into<String>) -> Issue {
        Issue {
            offset,
            what: what.into(),
            message: message.into(),
            unsupported: false,
            lost_keys: None,
        }
    }

    fn from_error(what: &str, e: &Error) -> Issue {
        Issue {
            unsupported: matches!(e.kind, crate::error::ErrorKind::Unsupported(_)),
            ..Issue::new(e.offset, what, e.kind.to_string())
        }
    }
}

/// Check the trailer of every block the table's structure accounts for, plus the footer (fv6+).
/// Runs in parallel across blocks.
pub fn check_blocks(t: &Table) -> Vec<BlockCheck> {
    let map = t.block_map();
    let file = t.file();
    let mut out: Vec<BlockCheck> = map
        .par_iter()
        .map(|b| check_one(t, file, b.kind, b.handle, &b.label.to_string()))
        .collect();
    out.push(footer_check(t));
    // Bytes no block accounts for, listed as gaps (block_align padding is all zero).
    let mut gaps = Vec::new();
    let mut pos = 0u64;
    for c in &out {
        let end = if c.kind == BlockKind::Footer {
            c.offset + c.size
        } else {
            c.offset
                .saturating_add(c.size)
                .saturating_add(t.trailer_len())
        };
        if c.offset > pos {
            let bytes = &file[pos as usize..(c.offset as usize).min(file.len())];
            let zero = bytes.iter().all(|&b| b == 0);
            gaps.push(BlockCheck {
                kind: BlockKind::Gap,
                name: if zero {
                    "zero padding"
                } else {
                    "unaccounted bytes"
                }
                .into(),
                offset: pos,
                size: c.offset - pos,
                compression: "-".into(),
                stored: None,
                computed: None,
                ok: true,
                error: None,
            });
        }
        pos = pos.max(end);
    }
    out.extend(gaps);
    out.sort_by_key(|c| c.offset);
    out
}

/// The fast audit: check every trailer in parallel, materialising results only for failures.
/// Returns the number of blocks checked (footer included) and the failures.
pub fn checksum_failures(t: &Table) -> (u64, Vec<BlockCheck>) {
    let map = t.block_map();
    let file = t.file();
    let mut bad: Vec<BlockCheck> = map
        .par_iter()
        .filter(|b| !block_ok(t, file, b.kind, b.handle))
        .map(|b| check_one(t, file, b.kind, b.handle, &b.label.to_string()))
        .collect();
    let f = footer_check(t);
    if !f.ok {
        bad.push(f);
    }
    (map.len() as u64 + 1, bad)
}

fn block_ok(t: &Table, file: &[u8], kind: BlockKind, h: BlockHandle) -> bool {
    read_raw(file, h, "block").is_ok_and(|raw| trailer_ok(t, kind, &raw.check(&t.ctx)))
}

/// Whether a block's trailer passes: no checksums in the file, a match, or a properties block whose
/// global seqno was rewritten at ingestion (RocksDB's rule, format-specs/sst.md §11.5).
fn trailer_ok(t: &Table, kind: BlockKind, c: &ChecksumCheck) -> bool {
    t.ctx.checksum_type == ChecksumType::None
        || c.ok()
        || (kind == BlockKind::Properties && t.properties_seqno_rewritten)
}

fn footer_check(t: &Table) -> BlockCheck {
    let f = &t.footer;
    BlockCheck {
        kind: BlockKind::Footer,
        name: format!("format_version {}", f.format_version),
        offset: f.offset,
        size: f.len,
        compression: "none".into(),
        stored: f.checksum.map(|c| c.stored),
        computed: f.checksum.map(|c| c.computed),
        ok: !f.checksum_mismatch(),
        error: f
            .checksum_mismatch()
            .then(|| "footer checksum mismatch".to_string()),
    }
}

fn check_one(t: &Table, file: &[u8], kind: BlockKind, h: BlockHandle, name: &str) -> BlockCheck {
    match read_raw(file, h, kind.name()) {
        Ok(raw) => {
            let c = raw.check(&t.ctx);
            let unchecked = t.ctx.checksum_type == ChecksumType::None;
            let ok = trailer_ok(t, kind, &c);
            let error = (!ok).then(|| {
                format!(
                    "checksum mismatch: stored {:#010x}, computed {:#010x}",
                    c.stored, c.computed
                )
            });
            BlockCheck {
                kind,
                name: name.to_string(),
                offset: h.offset,
                size: h.size,
                compression: raw.compression(&t.ctx).name().into_owned(),
                stored: (!unchecked).then_some(c.stored),
                computed: (!unchecked).then_some(c.computed),
                ok,
                error,
            }
        }
        Err(e) => BlockCheck {
            kind,
            name: name.to_string(),
            offset: h.offset,
            size: h.size,
            compression: "?".into(),
            stored: None,
            computed: None,
            ok: false,
            error: Some(e.kind.to_string()),
        },
    }
}

/// Per-block facts gathered by a deep check, kept small (two keys and counters).
#[derive(Default)]
struct BlockFacts {
    first: Option<Vec<u8>>,
    last: Option<Vec<u8>>,
    min_seq: Option<u64>,
    max_seq: Option<u64>,
    entries: u64,
    deletions: u64,
    merges: u64,
    key_bytes: u64,
    value_bytes: u64,
    /// The whole block was read and decoded.
    complete: bool,
    issues: Vec<Issue>,
}

fn deep_block(t: &Table, i: usize, failed_trailer: &HashSet<u64>) -> BlockFacts {
    let d = &t.data_blocks[i];
    let mut facts = BlockFacts::default();
    if failed_trailer.contains(&d.handle.offset) {
        return facts; // already reported by the checksum pass; nothing in it can be trusted
    }
    // The checksum pass has verified this trailer; decompress without hashing the block again.
    let dict = t.compression_dict().unwrap_or(&[]);
    let contents =
        match read_raw(t.file(), d.handle, "data block").and_then(|r| r.contents(&t.ctx, dict)) {
            Ok(c) => c,
            Err(e) => {
                facts.issues.push(Issue::from_error("data block", &e));
                return facts;
            }
        };
    let mut prev: Vec<u8> = Vec::new();
    let mut order_reported = false;
    let base = d.handle.offset;
    let r = t.visit_data_block(d.handle, &contents, |e| {
        facts.entries += 1;
        // Raw keys (sst.md §14.1) store no sequence numbers.
        if !e.raw_key {
            facts.min_seq = Some(facts.min_seq.map_or(e.seq, |m| m.min(e.seq)));
            facts.max_seq = Some(facts.max_seq.map_or(e.seq, |m| m.max(e.seq)));
        }
        facts.key_bytes += e.internal_key.len() as u64;
        facts.value_bytes += e.value.len() as u64;
        match e.vtype {
            vtype::DELETION | vtype::SINGLE_DELETION | vtype::DELETION_WITH_TIMESTAMP => {
                facts.deletions += 1
            }
            vtype::MERGE => facts.merges += 1,
            x if !ikey::is_table_point_type(x) => facts.issues.push(Issue::new(
                base,
                "data block",
                format!(
                    "entry at byte {} of the block has value type {x:#04x}, not valid in a table",
                    e.pos
                ),
            )),
            _ => {}
        }
        if facts.first.is_none() {
            facts.first = Some(e.internal_key.to_vec());
        } else if !order_reported {
            if let Some(o) = t.compare_keys(&prev, e.internal_key) {
                if o != Ordering::Less {
                    order_reported = true;
                    facts.issues.push(Issue::new(
                        base,
                        "data block",
                        format!("keys out of order at byte {} of the block", e.pos),
                    ));
                }
            }
        }
        prev.clear();
        prev.extend_from_slice(e.internal_key);
    });
    match r {
        Ok(aux) => {
            facts.complete = true;
            if aux.bad_restarts > 0 {
                facts.issues.push(Issue::new(
                    base,
                    "data block",
                    format!(
                        "{} restart points do not point at the start of a fresh key",
                        aux.bad_restarts
                    ),
                ));
            }
            if aux.hash_mismatches > 0 {
                facts.issues.push(Issue::new(
                    base,
                    "data block",
                    format!(
                        "{} keys are not where the block's hash index says",
                        aux.hash_mismatches
                    ),
                ));
            }
        }
        Err(e) => facts.issues.push(Issue::from_error("data block", &e)),
    }
    if facts.first.is_some() {
        facts.last = Some(prev);
    } else if facts.issues.is_empty() {
        facts
            .issues
            .push(Issue::new(base, "data block", "data block has no entries"));
    }
    facts
}

/// Deep checks (decode everything), run after the checksum pass: data blocks whose trailer failed
/// (`failed_trailer`, by offset) were reported there and are skipped; the others are not hashed again.
fn deep_check(t: &Table, failed_trailer: &HashSet<u64>) -> (Vec<Issue>, DeepStats) {
    let facts: Vec<BlockFacts> = (0..t.data_blocks.len())
        .into_par_iter()
        .map(|i| deep_block(t, i, failed_trailer))
        .collect();
    let mut issues: Vec<Issue> = Vec::new();
    let mut stats = DeepStats::default();
    let cmp = t.comparator;
    let user_index = t.index_format.user_keys;
    let cmp_sep = |key: &[u8], sep: &[u8]| -> Option<Ordering> {
        if user_index {
            cmp.compare_user(ikey::parse(key)?.user_key, sep)
        } else {
            // Internal keys against internal separators, or raw keys against raw separators.
            t.compare_keys(key, sep)
        }
    };
    for (i, f) in facts.iter().enumerate() {
        issues.extend(f.issues.iter().cloned());
        if stats.smallest_key.is_none() {
            stats.smallest_key = f.first.as_deref().map(hex::encode);
        }
        if let Some(l) = &f.last {
            stats.largest_key = Some(hex::encode(l));
        }
        for s in [f.min_seq, f.max_seq].into_iter().flatten() {
            stats.min_seq = Some(stats.min_seq.map_or(s, |m| m.min(s)));
            stats.max_seq = Some(stats.max_seq.map_or(s, |m| m.max(s)));
        }
        stats.entries += f.entries;
        stats.deletions += f.deletions;
        stats.merges += f.merges;
        stats.key_bytes += f.key_bytes;
        stats.value_bytes += f.value_bytes;
        let d = &t.data_blocks[i];
        let at = |msg: String| Issue::new(d.handle.offset, "index", msg);
        if let Some(last) = &f.last {
            if cmp_sep(last, &d.separator) == Some(Ordering::Greater) {
                issues.push(at(format!(
                    "data block #{i}: last key is beyond its index separator"
                )));
            }
        }
        if let (Some(first), Some(fk)) = (&f.first, &d.first_key) {
            if first != fk {
                issues.push(at(format!(
                    "data block #{i}: first key differs from the first key recorded in the index"
                )));
            }
        }
        if i > 0 {
            let pd = &t.data_blocks[i - 1];
            if let Some(first) = &f.first {
                if cmp_sep(first, &pd.separator).is_some_and(|o| o != Ordering::Greater) {
                    issues.push(at(format!(
                        "data block #{i}: first key is not beyond the previous block's separator"
                    )));
                }
                if let Some(plast) = &facts[i - 1].last {
                    if t.compare_keys(plast, first)
                        .is_some_and(|o| o != Ordering::Less)
                    {
                        issues.push(at(format!(
                            "data blocks #{} and #{i}: keys out of order across blocks",
                            i - 1
                        )));
                    }
                }
            }
        }
    }
    if cmp.compare_user(b"", b"").is_none() {
        stats.notes.push(format!(
            "key order not verified: comparator {} is not one rockrescue implements",
            t.comparator_name.as_deref().unwrap_or("?")
        ));
    }
    // Range deletions.
    match t.range_tombstones() {
        Ok(ts) => {
            stats.range_deletions = ts.len() as u64;
            for r in &ts {
                stats.min_seq = Some(stats.min_seq.map_or(r.seq, |m| m.min(r.seq)));
                stats.max_seq = Some(stats.max_seq.map_or(r.seq, |m| m.max(r.seq)));
                stats.key_bytes += r.start.len() as u64 + 8;
                stats.value_bytes += r.end.len() as u64;
            }
        }
        Err(e) => issues.push(Issue::from_error("range-deletion block", &e)),
    }
    // Other blocks must decompress and decode.
    for (name, h) in &t.metaindex {
        if let BlockKind::Properties | BlockKind::RangeDel | BlockKind::CompressionDict =
            super::table::meta_kind(name)
        {
            continue; // already decoded above or when opening
        }
        if let Err(e) =
            read_raw(t.file(), *h, "meta block").and_then(|r| r.contents(&t.ctx, &[]).map(|_| ()))
        {
            issues.push(Issue::from_error(name, &e));
        }
    }
    // Counts against the properties.
    if let Some(p) = &t.properties {
        let mut expect = |name: &str, got: u64| {
            if let Some(want) = p.int(name) {
                if want != got {
                    issues.push(Issue::new(
                        t.properties_handle.map_or(0, |h| h.offset),
                        "properties",
                        format!("{name} says {want} but the blocks hold {got}"),
                    ));
                }
            }
        };
        let all_blocks_read =
            facts.iter().all(|f| f.complete) && t.partitions.iter().all(|(_, r)| r.is_ok());
        if all_blocks_read {
            expect("rocksdb.num.entries", stats.entries + stats.range_deletions);
            expect("rocksdb.num.range-deletions", stats.range_deletions);
            let blocks = t.data_blocks.len() as u64;
            match p.num_data_blocks() {
                // RocksDB 11.x does not count data blocks it buffered while sampling for a
                // compression dictionary (block_based_table_builder.cc, kBuffered state).
                Some(n) if n < blocks && t.compression_dict().is_some() => stats.notes.push(format!(
                    "rocksdb.num.data.blocks says {n} but the blocks hold {blocks}: expected for files with a \
                     compression dictionary (RocksDB does not count blocks buffered for dictionary sampling)"
                )),
                _ => expect("rocksdb.num.data.blocks", blocks),
            }
            expect(
                "rocksdb.deleted.keys",
                stats.deletions + stats.range_deletions,
            );
            expect("rocksdb.merge.operands", stats.merges);
            expect("rocksdb.raw.key.size", stats.key_bytes);
            expect("rocksdb.raw.value.size", stats.value_bytes);
        } else {
            stats.notes.push(
                "entry counts not compared with the properties: some blocks could not be read"
                    .into(),
            );
        }
    }
    (issues, stats)
}

/// Totals gathered by a deep check.
#[derive(Clone, Debug, Default, Serialize)]
pub struct DeepStats {
    pub entries: u64,
    pub deletions: u64,
    pub merges: u64,
    pub range_deletions: u64,
    pub key_bytes: u64,
    pub value_bytes: u64,
    /// The first and last point entries' internal keys (hex), from the blocks that decoded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smallest_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub largest_key: Option<String>,
    /// Sequence number range of points and range tombstones.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_seq: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_seq: Option<u64>,
    pub notes: Vec<String>,
}

/// Result of auditing one file.
#[derive(Clone, Debug, Serialize)]
pub struct FileVerdict {
    #[serde(flatten)]
    pub file: FileFacts,
    pub blocks_total: u64,
    pub blocks_ok: u64,
    pub blocks_bad: u64,
    pub deep: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stats: Option<DeepStats>,
    pub issues: Vec<Issue>,
}

/// Audit one file: open it read-only, check every block, and with `deep` decode everything.
pub fn verify_path(path: &Path, deep: bool) -> FileVerdict {
    let mut v = empty_verdict(path, deep);
    let src = match Source::open(path) {
        Ok(s) => s,
        Err(e) => {
            v.issues.push(Issue::from_error("file", &e));
            return v;
        }
    };
    verify_source(&src, deep)
}

/// Audit an open file. If the file changed under the reader (it shrank, or a read faulted and was
/// given zeros, see [`Source::check_intact`]), the verdict is that I/O error alone: whatever the
/// zeros made of the blocks is not evidence about the table.
pub fn verify_source(src: &Source, deep: bool) -> FileVerdict {
    src.advise_sequential();
    let v = verify_bytes(src.bytes(), src.path(), deep);
    match src.check_intact() {
        Ok(()) => v,
        Err(e) => {
            let mut u = empty_verdict(src.path(), deep);
            u.file.size = src.len();
            u.issues.push(Issue::from_error("file", &e));
            u
        }
    }
}

/// Audit a file image (also used by fuzzing and tests).
pub fn verify_bytes(bytes: &[u8], path: &Path, deep: bool) -> FileVerdict {
    let mut v = empty_verdict(path, deep);
    v.file.size = bytes.len() as u64;
    let t = match Table::open(bytes, path) {
        Ok(t) => t,
        Err(e) => {
            v.file.status = if matches!(e.kind, crate::error::ErrorKind::Unsupported(_)) {
                Status::Unsupported
            } else {
                Status::Unreadable
            };
            v.issues.push(Issue::from_error("table", &e));
            return v;
        }
    };
    v.file.format = Some(format!("{:?}", t.format).to_lowercase());
    v.file.format_version = Some(t.footer.format_version);
    v.file.checksum_type = Some(t.footer.checksum_type);
    v.file.raw_keys = t.key_format == super::table::KeyFormat::Raw;
    let (total, bad) = checksum_failures(&t);
    v.blocks_total = total;
    v.blocks_bad = bad.len() as u64;
    v.blocks_ok = total - v.blocks_bad;
    for c in &bad {
        v.issues.push(Issue::new(
            c.offset,
            format!("{} block", c.kind.name()),
            c.error.clone().unwrap_or_default(),
        ));
    }
    // Problems found while opening that are not block checksums already listed.
    for p in &t.problems {
        if !v.issues.iter().any(|i| i.offset == p.offset) {
            v.issues.push(Issue::from_error("table", p));
        }
    }
    if deep {
        let failed: HashSet<u64> = bad.iter().map(|c| c.offset).collect();
        let (issues, stats) = deep_check(&t, &failed);
        v.issues.extend(issues);
        v.stats = Some(stats);
    }
    // Say which keys each damaged data block took with it.
    if v.issues.iter().any(|i| i.what == "data block") {
        let by_offset: std::collections::HashMap<u64, usize> = t
            .data_blocks
            .iter()
            .enumerate()
            .map(|(i, d)| (d.handle.offset, i))
            .collect();
        for issue in v
            .issues
            .iter_mut()
            .filter(|i| i.what == "data block" && i.lost_keys.is_none())
        {
            if let Some(&i) = by_offset.get(&issue.offset) {
                issue.what = format!("data block #{i}");
                issue.lost_keys = Some(lost_keys(&t, i));
            }
        }
    }
    v.issues.sort_by_key(|i| i.offset);
    v.file.status = if v.issues.is_empty() {
        // Nothing failed, but with checksum type none nothing could fail: say so.
        Status::Ok.unless_unverified(t.footer.checksum_type == ChecksumType::None)
    } else if v.issues.iter().all(|i| i.unsupported) {
        Status::Unsupported
    } else {
        Status::Damaged
    };
    v
}

/// A fresh verdict for `path`: nothing checked yet.
fn empty_verdict(path: &Path, deep: bool) -> FileVerdict {
    FileVerdict {
        file: FileFacts::new(path),
        blocks_total: 0,
        blocks_ok: 0,
        blocks_bad: 0,
        deep,
        stats: None,
        issues: Vec::new(),
    }
}
