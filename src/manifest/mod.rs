//! MANIFEST files: VersionEdit records (in the log framing of [`crate::log`]) and their replay to
//! the final version of every column family. See format-specs/manifest.md §2 (tags), §3 (NewFile4
//! custom fields), §4 (blob and WAL payloads) and §5 (replay).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::codec::varint::{self, fixed64};
use crate::ikey;
use crate::log::{LogProblem, LogReader, RecordKind};

/// VersionEdit tags (manifest.md §2.2).
pub mod tag {
    pub const COMPARATOR: u32 = 1;
    pub const LOG_NUMBER: u32 = 2;
    pub const NEXT_FILE_NUMBER: u32 = 3;
    pub const LAST_SEQUENCE: u32 = 4;
    pub const COMPACT_CURSOR: u32 = 5;
    pub const DELETED_FILE: u32 = 6;
    pub const NEW_FILE: u32 = 7;
    pub const PREV_LOG_NUMBER: u32 = 9;
    pub const MIN_LOG_NUMBER_TO_KEEP: u32 = 10;
    pub const NEW_FILE2: u32 = 100;
    pub const NEW_FILE3: u32 = 102;
    pub const NEW_FILE4: u32 = 103;
    pub const COLUMN_FAMILY: u32 = 200;
    pub const COLUMN_FAMILY_ADD: u32 = 201;
    pub const COLUMN_FAMILY_DROP: u32 = 202;
    pub const MAX_COLUMN_FAMILY: u32 = 203;
    pub const IN_ATOMIC_GROUP: u32 = 300;
    pub const BLOB_FILE_ADDITION: u32 = 400;
    pub const BLOB_FILE_GARBAGE: u32 = 401;
    pub const SAFE_IGNORE_MASK: u32 = 1 << 13;
    pub const DB_ID: u32 = 8193;
    pub const BLOB_FILE_ADDITION_DEPRECATED: u32 = 8194;
    pub const BLOB_FILE_GARBAGE_DEPRECATED: u32 = 8195;
    pub const WAL_ADDITION: u32 = 8196;
    pub const WAL_DELETION: u32 = 8197;
    pub const FULL_HISTORY_TS_LOW: u32 = 8198;
    pub const WAL_ADDITION2: u32 = 8199;
    pub const WAL_DELETION2: u32 = 8200;
    pub const PERSIST_UDT: u32 = 8201;
}

/// NewFile4 custom field tags (manifest.md §3).
pub mod custom {
    pub const TERMINATE: u32 = 1;
    pub const NEED_COMPACTION: u32 = 2;
    pub const MIN_LOG_NUMBER_TO_KEEP_HACK: u32 = 3;
    pub const OLDEST_BLOB_FILE_NUMBER: u32 = 4;
    pub const OLDEST_ANCESTER_TIME: u32 = 5;
    pub const FILE_CREATION_TIME: u32 = 6;
    pub const FILE_CHECKSUM: u32 = 7;
    pub const FILE_CHECKSUM_FUNC_NAME: u32 = 8;
    pub const TEMPERATURE: u32 = 9;
    pub const EPOCH_NUMBER: u32 = 13;
    pub const PATH_ID: u32 = 65;
    pub const NON_SAFE_IGNORE_MASK: u32 = 1 << 6;
}

/// One table file as a VersionEdit adds it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FileMeta {
    pub number: u64,
    pub path_id: u32,
    pub size: u64,
    /// Smallest and largest internal keys, hex.
    pub smallest: String,
    pub largest: String,
    pub smallest_seqno: Option<u64>,
    pub largest_seqno: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oldest_blob_file_number: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_creation_time: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epoch_number: Option<u64>,
    /// The whole-file checksum, hex, and the function that made it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_checksum: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_checksum_func: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<u8>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub marked_for_compaction: bool,
}

impl FileMeta {
    /// User key of the smallest internal key.
    pub fn smallest_user_key(&self) -> Vec<u8> {
        user_key_of_hex(&self.smallest)
    }
    /// User key of the largest internal key.
    pub fn largest_user_key(&self) -> Vec<u8> {
        user_key_of_hex(&self.largest)
    }
}

fn user_key_of_hex(h: &str) -> Vec<u8> {
    let k = hex::decode(h).unwrap_or_default();
    ikey::parse(&k).map_or(k.clone(), |p| p.user_key.to_vec())
}

/// A blob file as a VersionEdit adds it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BlobFile {
    pub number: u64,
    pub total_blobs: u64,
    pub total_bytes: u64,
    pub garbage_blobs: u64,
    pub garbage_bytes: u64,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub checksum_method: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub checksum_value: String,
}

/// One decoded VersionEdit.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct VersionEdit {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub db_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comparator: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_number: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prev_log_number: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_file_number: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_sequence: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_log_number_to_keep: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_column_family: Option<u32>,
    pub column_family: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column_family_add: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub column_family_drop: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_atomic_group: Option<u32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub deleted_files: Vec<(u32, u64)>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub new_files: Vec<(u32, FileMeta)>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub blob_file_additions: Vec<BlobFile>,
    /// (blob file number, garbage blobs, garbage bytes) increments.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub blob_file_garbage: Vec<(u64, u64, u64)>,
    /// WAL numbers added (with synced size when known).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub wal_additions: Vec<(u64, Option<u64>)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wal_deletion_before: Option<u64>,
    /// Tags skipped as safe to ignore.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ignored_tags: Vec<u32>,
}

/// Why an edit did not decode; `pos` is relative to the record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EditError {
    pub pos: usize,
    pub msg: String,
}

struct Cursor<'a> {
    b: &'a [u8],
    p: usize,
}

impl<'a> Cursor<'a> {
    fn err<T>(&self, msg: impl Into<String>) -> Result<T, EditError> {
        Err(EditError {
            pos: self.p,
            msg: msg.into(),
        })
    }
    fn v32(&mut self, what: &str) -> Result<u32, EditError> {
        match varint::decode_u32(&self.b[self.p..]) {
            Some((v, n)) => {
                self.p += n;
                Ok(v)
            }
            None => self.err(format!("bad varint ({what})")),
        }
    }
    fn v64(&mut self, what: &str) -> Result<u64, EditError> {
        match varint::decode_u64(&self.b[self.p..]) {
            Some((v, n)) => {
                self.p += n;
                Ok(v)
            }
            None => self.err(format!("bad varint ({what})")),
        }
    }
    fn bytes(&mut self, what: &str) -> Result<&'a [u8], EditError> {
        let n = self.v32(what)? as usize;
        if n > self.b.len() - self.p {
            return self.err(format!("{what} of {n} bytes runs past the record"));
        }
        let s = &self.b[self.p..self.p + n];
        self.p += n;
        Ok(s)
    }
    fn done(&self) -> bool {
        self.p >= self.b.len()
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Decode one VersionEdit record. Fields decoded before an error are kept in the returned edit.
pub fn decode_edit(b: &[u8]) -> (VersionEdit, Option<EditError>) {
    let mut e = VersionEdit::default();
    let mut c = Cursor { b, p: 0 };
    let r = decode_fields(&mut c, &mut e);
    (e, r.err())
}

fn decode_fields(c: &mut Cursor<'_>, e: &mut VersionEdit) -> Result<(), EditError> {
    while !c.done() {
        let t = c.v32("tag")?;
        match t {
            tag::COMPARATOR => e.comparator = Some(text(c.bytes("comparator")?)),
            tag::LOG_NUMBER => e.log_number = Some(c.v64("log number")?),
            tag::PREV_LOG_NUMBER => e.prev_log_number = Some(c.v64("prev log number")?),
            tag::NEXT_FILE_NUMBER => e.next_file_number = Some(c.v64("next file number")?),
            tag::LAST_SEQUENCE => e.last_sequence = Some(c.v64("last sequence")?),
            tag::MIN_LOG_NUMBER_TO_KEEP => {
                e.min_log_number_to_keep = Some(c.v64("min log number")?)
            }
            tag::MAX_COLUMN_FAMILY => e.max_column_family = Some(c.v32("max column family")?),
            tag::COMPACT_CURSOR => {
                c.v32("level")?;
                c.bytes("compact cursor")?;
            }
            tag::DELETED_FILE => {
                let level = c.v32("level")?;
                let n = c.v64("file number")?;
                e.deleted_files.push((level, n));
            }
            tag::NEW_FILE | tag::NEW_FILE2 | tag::NEW_FILE3 | tag::NEW_FILE4 => {
                let level = c.v32("level")?;
                let mut f = FileMeta {
                    number: c.v64("file number")?,
                    ..FileMeta::default()
                };
                if t == tag::NEW_FILE3 {
                    f.path_id = c.v32("path id")?;
                }
                f.size = c.v64("file size")?;
                f.smallest = hex::encode(c.bytes("smallest key")?);
                f.largest = hex::encode(c.bytes("largest key")?);
                if t != tag::NEW_FILE {
                    f.smallest_seqno = Some(c.v64("smallest seqno")?);
                    f.largest_seqno = Some(c.v64("largest seqno")?);
                }
                if t == tag::NEW_FILE4 {
                    decode_custom(c, &mut f, e)?;
                }
                e.new_files.push((level, f));
            }
            tag::COLUMN_FAMILY => e.column_family = c.v32("column family")?,
            tag::COLUMN_FAMILY_ADD => e.column_family_add = Some(text(c.bytes("cf name")?)),
            tag::COLUMN_FAMILY_DROP => e.column_family_drop = true,
            tag::IN_ATOMIC_GROUP => e.in_atomic_group = Some(c.v32("atomic group")?),
            tag::BLOB_FILE_ADDITION | tag::BLOB_FILE_ADDITION_DEPRECATED => {
                let mut b = BlobFile {
                    number: c.v64("blob file number")?,
                    total_blobs: c.v64("blob count")?,
                    total_bytes: c.v64("blob bytes")?,
                    ..BlobFile::default()
                };
                b.checksum_method = text(c.bytes("checksum method")?);
                b.checksum_value = hex::encode(c.bytes("checksum value")?);
                skip_blob_custom(c)?;
                e.blob_file_additions.push(b);
            }
            tag::BLOB_FILE_GARBAGE | tag::BLOB_FILE_GARBAGE_DEPRECATED => {
                let n = c.v64("blob file number")?;
                let count = c.v64("garbage count")?;
                let bytes = c.v64("garbage bytes")?;
                skip_blob_custom(c)?;
                e.blob_file_garbage.push((n, count, bytes));
            }
            tag::WAL_ADDITION => {
                let w = decode_wal_addition(c)?;
                e.wal_additions.push(w);
            }
            tag::WAL_ADDITION2 => {
                let body = c.bytes("wal addition")?;
                let mut inner = Cursor { b: body, p: 0 };
                e.wal_additions.push(decode_wal_addition(&mut inner)?);
            }
            tag::WAL_DELETION => e.wal_deletion_before = Some(c.v64("wal deletion")?),
            tag::WAL_DELETION2 => {
                let body = c.bytes("wal deletion")?;
                let mut inner = Cursor { b: body, p: 0 };
                e.wal_deletion_before = Some(if inner.done() {
                    0
                } else {
                    inner.v64("wal number")?
                });
            }
            tag::DB_ID => e.db_id = Some(text(c.bytes("db id")?)),
            tag::FULL_HISTORY_TS_LOW | tag::PERSIST_UDT => {
                c.bytes("field")?;
                e.ignored_tags.push(t);
            }
            other if other & tag::SAFE_IGNORE_MASK != 0 => {
                c.bytes("ignorable field")?;
                e.ignored_tags.push(other);
            }
            other => return c.err(format!("unknown tag {other}")),
        }
    }
    Ok(())
}

fn decode_wal_addition(c: &mut Cursor<'_>) -> Result<(u64, Option<u64>), EditError> {
    let n = c.v64("wal number")?;
    let mut synced = None;
    loop {
        if c.done() {
            return Ok((n, synced));
        }
        match c.v32("wal addition tag")? {
            1 => return Ok((n, synced)),
            2 => synced = Some(c.v64("synced size")?),
            other => return c.err(format!("unknown WAL addition field {other}")),
        }
    }
}

fn skip_blob_custom(c: &mut Cursor<'_>) -> Result<(), EditError> {
    loop {
        let t = c.v32("blob custom tag")?;
        if t == 0 {
            return Ok(());
        }
        if t & custom::NON_SAFE_IGNORE_MASK != 0 {
            return c.err(format!("blob file field {t} is required but unknown"));
        }
        c.bytes("blob custom field")?;
    }
}

fn decode_custom(
    c: &mut Cursor<'_>,
    f: &mut FileMeta,
    e: &mut VersionEdit,
) -> Result<(), EditError> {
    loop {
        let t = c.v32("custom tag")?;
        if t == custom::TERMINATE {
            return Ok(());
        }
        let v = c.bytes("custom field")?;
        let var = |v: &[u8]| varint::decode_u64(v).map(|(x, _)| x);
        match t {
            custom::NEED_COMPACTION => f.marked_for_compaction = v.first() == Some(&1),
            custom::MIN_LOG_NUMBER_TO_KEEP_HACK if v.len() == 8 => {
                e.min_log_number_to_keep = Some(fixed64(v))
            }
            custom::OLDEST_BLOB_FILE_NUMBER => f.oldest_blob_file_number = var(v),
            custom::FILE_CREATION_TIME => f.file_creation_time = var(v),
            custom::EPOCH_NUMBER => f.epoch_number = var(v),
            custom::FILE_CHECKSUM if !v.is_empty() => f.file_checksum = Some(hex::encode(v)),
            custom::FILE_CHECKSUM_FUNC_NAME => {
                let name = text(v);
                if name != "Unknown" {
                    f.file_checksum_func = Some(name);
                }
            }
            custom::TEMPERATURE => f.temperature = v.first().copied(),
            custom::PATH_ID => f.path_id = v.first().copied().unwrap_or(0) as u32,
            other if other & custom::NON_SAFE_IGNORE_MASK != 0 => {
                return c.err(format!("file field {other} is required but unknown"))
            }
            _ => {}
        }
    }
}

/// A column family of the final version.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ColumnFamily {
    pub id: u32,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comparator: Option<String>,
    pub log_number: u64,
    /// Live table files: level and metadata, by level then smallest key (L0 newest first).
    pub files: Vec<(u32, FileMeta)>,
    pub blob_files: Vec<BlobFile>,
}

/// A problem found while reading or replaying a MANIFEST.
#[derive(Clone, Debug, Serialize)]
pub struct ManifestProblem {
    pub offset: u64,
    pub kind: String,
    pub message: String,
}

/// The final version a MANIFEST describes.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Version {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub db_id: Option<String>,
    pub next_file_number: u64,
    pub last_sequence: u64,
    pub min_log_number_to_keep: u64,
    pub max_column_family: u32,
    pub column_families: Vec<ColumnFamily>,
    /// WALs the MANIFEST tracks (only with track_and_verify_wals_in_manifest).
    pub tracked_wals: Vec<(u64, Option<u64>)>,
    pub records: u64,
    pub problems: Vec<ManifestProblem>,
}

#[derive(Default)]
struct CfBuild {
    name: String,
    comparator: Option<String>,
    log_number: u64,
    files: BTreeMap<u64, (u32, FileMeta)>,
    blobs: BTreeMap<u64, BlobFile>,
}

/// Read and replay a MANIFEST image, calling `on_edit(offset, edit)` for every decoded edit.
pub fn replay(bytes: &[u8], mut on_edit: impl FnMut(u64, &VersionEdit)) -> Version {
    let mut v = Version::default();
    let mut cfs: BTreeMap<u32, CfBuild> = BTreeMap::new();
    cfs.insert(
        0,
        CfBuild {
            name: "default".into(),
            ..CfBuild::default()
        },
    );
    let mut wals: BTreeMap<u64, Option<u64>> = BTreeMap::new();
    let mut group: Vec<(u64, VersionEdit)> = Vec::new();
    let mut reader = LogReader::new(bytes, None);
    let problem = |v: &mut Version, offset: u64, kind: &str, message: String| {
        v.problems.push(ManifestProblem {
            offset,
            kind: kind.into(),
            message,
        })
    };
    while let Some(rec) = reader.next_record() {
        if rec.kind != RecordKind::Data {
            continue;
        }
        v.records += 1;
        let (edit, err) = decode_edit(&rec.data);
        if let Some(e) = err {
            problem(
                &mut v,
                rec.offset,
                "bad_edit",
                format!("version edit at byte {} of the record: {}", e.pos, e.msg),
            );
            // A partly decoded edit is not applied: its meaning is unknown.
            continue;
        }
        on_edit(rec.offset, &edit);
        match edit.in_atomic_group {
            Some(remaining) => {
                group.push((rec.offset, edit));
                if remaining == 0 {
                    for (off, e) in std::mem::take(&mut group) {
                        apply(&mut v, &mut cfs, &mut wals, off, e);
                    }
                }
            }
            None => {
                if !group.is_empty() {
                    let off = group[0].0;
                    problem(
                        &mut v,
                        off,
                        "atomic_group",
                        "an atomic group was interrupted by a plain edit; its edits are not applied".into(),
                    );
                    group.clear();
                }
                apply(&mut v, &mut cfs, &mut wals, rec.offset, edit);
            }
        }
    }
    if let Some((off, _)) = group.first() {
        let off = *off;
        problem(
            &mut v,
            off,
            "atomic_group",
            "the MANIFEST ends inside an atomic group; its edits are not applied (as RocksDB does)"
                .into(),
        );
    }
    for p in &reader.problems {
        v.problems.push(from_log(p));
    }
    v.problems.sort_by_key(|p| p.offset);
    v.tracked_wals = wals.into_iter().collect();
    for (id, c) in cfs {
        let mut files: Vec<(u32, FileMeta)> = c.files.into_values().collect();
        files.sort_by(|a, b| {
            a.0.cmp(&b.0).then_with(|| {
                if a.0 == 0 {
                    // L0 newest first: epoch number, then largest seqno, then file number.
                    (b.1.epoch_number, b.1.largest_seqno, b.1.number).cmp(&(
                        a.1.epoch_number,
                        a.1.largest_seqno,
                        a.1.number,
                    ))
                } else {
                    a.1.smallest_user_key().cmp(&b.1.smallest_user_key())
                }
            })
        });
        v.column_families.push(ColumnFamily {
            id,
            name: c.name,
            comparator: c.comparator,
            log_number: c.log_number,
            files,
            blob_files: c.blobs.into_values().collect(),
        });
    }
    v
}

fn from_log(p: &LogProblem) -> ManifestProblem {
    ManifestProblem {
        offset: p.offset,
        kind: p.kind.name().to_string(),
        message: p.message.clone(),
    }
}

fn apply(
    v: &mut Version,
    cfs: &mut BTreeMap<u32, CfBuild>,
    wals: &mut BTreeMap<u64, Option<u64>>,
    offset: u64,
    e: VersionEdit,
) {
    let mut problem = |kind: &str, message: String| {
        v.problems.push(ManifestProblem {
            offset,
            kind: kind.into(),
            message,
        })
    };
    if let Some(x) = e.next_file_number {
        v.next_file_number = x;
    }
    if let Some(x) = e.last_sequence {
        v.last_sequence = x;
    }
    if let Some(x) = e.min_log_number_to_keep {
        v.min_log_number_to_keep = x;
    }
    if let Some(x) = e.max_column_family {
        v.max_column_family = x;
    }
    if let Some(x) = &e.db_id {
        v.db_id = Some(x.clone());
    }
    for (n, synced) in &e.wal_additions {
        wals.insert(*n, *synced);
    }
    if let Some(before) = e.wal_deletion_before {
        wals.retain(|&n, _| n >= before);
    }
    let id = e.column_family;
    if let Some(name) = e.column_family_add {
        if cfs.contains_key(&id) {
            problem("bad_edit", format!("column family {id} added twice"));
        }
        cfs.insert(
            id,
            CfBuild {
                name,
                comparator: e.comparator,
                log_number: e.log_number.unwrap_or(0),
                ..CfBuild::default()
            },
        );
        return;
    }
    if e.column_family_drop {
        if cfs.remove(&id).is_none() {
            problem("bad_edit", format!("drop of unknown column family {id}"));
        }
        return;
    }
    let Some(cf) = cfs.get_mut(&id) else {
        if !e.new_files.is_empty() || !e.deleted_files.is_empty() {
            problem(
                "bad_edit",
                format!("an edit changes files of unknown column family {id}"),
            );
        }
        return;
    };
    if let Some(c) = e.comparator {
        cf.comparator = Some(c);
    }
    if let Some(l) = e.log_number {
        cf.log_number = l;
    }
    for b in e.blob_file_additions {
        cf.blobs.insert(b.number, b);
    }
    for (n, count, bytes) in e.blob_file_garbage {
        if let Some(b) = cf.blobs.get_mut(&n) {
            b.garbage_blobs += count;
            b.garbage_bytes += bytes;
        }
    }
    for (level, n) in e.deleted_files {
        match cf.files.get(&n) {
            Some((l, _)) if *l == level => {
                cf.files.remove(&n);
            }
            _ => problem(
                "bad_edit",
                format!(
                    "deletes file {n} from level {level} of column family {id}, where it is not"
                ),
            ),
        }
    }
    for (level, f) in e.new_files {
        if cf.files.contains_key(&f.number) {
            problem(
                "bad_edit",
                format!("adds file {} to column family {id} twice", f.number),
            );
        }
        cf.files.insert(f.number, (level, f));
    }
    // A blob file is obsolete once all its blobs are garbage and no live table names it as its
    // oldest blob file (manifest.md §5.2).
    let referenced: std::collections::HashSet<u64> = cf
        .files
        .values()
        .filter_map(|(_, f)| f.oldest_blob_file_number)
        .collect();
    cf.blobs
        .retain(|n, b| referenced.contains(n) || b.garbage_blobs < b.total_blobs);
}

/// The MANIFEST a DB directory's CURRENT names, or an error message.
pub fn current_manifest(dir: &Path) -> Result<PathBuf, String> {
    let cur = dir.join("CURRENT");
    let s = std::fs::read_to_string(&cur).map_err(|e| format!("{}: {e}", cur.display()))?;
    let name = s.trim_end_matches('\n');
    if !name.starts_with("MANIFEST-") || name.contains('/') || name.contains('\n') {
        return Err(format!(
            "{}: does not name a MANIFEST ({:?})",
            cur.display(),
            s.chars().take(40).collect::<String>()
        ));
    }
    Ok(dir.join(name))
}
