//! Salvage of one table: plan which blocks hold entries (from the index where it is readable, by
//! carving where it is not), decode them, and describe every damaged byte range. The report model
//! here is the one `sst salvage`, `sst dump --report` and `sst verify --report` write; its schema is
//! format-specs/damage-report.md. The planning rules are format-specs/carving.md §7.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

use super::block::{read_raw, BlockCtx};
use super::carve::{self, CarveHints, CarvedBlock, Trust};
use super::footer::{self, BLOCK_BASED_MAGIC, LEGACY_BLOCK_BASED_MAGIC};
use super::format::{EntryFormat, EntryIter};
use super::handle::{BlockHandle, TRAILER_LEN};
use super::index::{decode_index_block, IndexFormat};
use super::properties::Properties;
use super::report::FileFacts;
use super::table::{
    decode_data_block, decode_range_del_block, BlockKind, KeyFormat, PointEntry, RangeTombstone,
    Table,
};
use super::verify::{LostKeys, Status};
use crate::codec::checksum::ChecksumType;
use crate::codec::compress::{self, Compression, Flavor, MAX_BLOCK_SIZE};
use crate::codec::varint;
use crate::error::{Error, ErrorKind, Result};
use crate::ikey::{self, vtype, UserComparator};

/// How a block to decode was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Listed by the table's index (position in `Table::data_blocks`).
    Indexed(usize),
    /// Found by carving.
    Carved(Trust),
}

/// A block that holds entries (a data block or a range-deletion block).
#[derive(Clone, Copy, Debug)]
pub struct Unit {
    pub handle: BlockHandle,
    pub origin: Origin,
    pub flavor: Flavor,
    /// The table stores checksums (false for checksum type none: nothing can be verified).
    pub checksummed: bool,
}

impl Unit {
    /// Entries of this block are not vouched for by a checksum.
    pub fn unverified(&self) -> bool {
        match self.origin {
            Origin::Carved(t) => t != Trust::Checksum,
            Origin::Indexed(_) => !self.checksummed,
        }
    }
}

/// A damaged or unexplained byte range.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DamagedRegion {
    pub offset: u64,
    pub length: u64,
    /// The kind of block that was there (`data`, `index`, `properties` ...), or `unknown` for bytes in
    /// which no block could be found.
    pub kind: String,
    pub error: DamageError,
    /// For regions that may have held entries: every lost user key lies in this range.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lost_keys: Option<LostKeys>,
    /// For regions that may have held entries: an estimate of how many.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estimated_entries_lost: Option<u64>,
    /// Entries of this damaged block written out anyway, marked unverified (only with the opt-in to
    /// keep the entries of damaged blocks that still decode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entries_written_unverified: Option<u64>,
}

/// Why a region is damaged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DamageError {
    /// The trailer checksum does not match: `expected` is the value stored in the file, `actual` the
    /// value computed over the bytes now there.
    Checksum {
        algorithm: ChecksumType,
        expected: String,
        actual: String,
    },
    Decompress {
        codec: String,
        message: String,
    },
    Decode {
        message: String,
    },
    Truncated {
        message: String,
    },
    /// Carving found no verifiable block in these bytes.
    NoBlockFound {
        message: String,
    },
    Unsupported {
        message: String,
    },
}

impl std::fmt::Display for DamageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DamageError::Checksum {
                algorithm,
                expected,
                actual,
            } => write!(
                f,
                "{algorithm} checksum mismatch: stored {expected}, computed {actual}"
            ),
            DamageError::Decompress { codec, message } => {
                write!(f, "{codec} decompression failed: {message}")
            }
            DamageError::Decode { message }
            | DamageError::Truncated { message }
            | DamageError::NoBlockFound { message }
            | DamageError::Unsupported { message } => f.write_str(message),
        }
    }
}

impl DamageError {
    pub fn from_error(e: &Error) -> DamageError {
        match &e.kind {
            ErrorKind::Checksum {
                ctype,
                stored,
                computed,
            } => DamageError::Checksum {
                algorithm: *ctype,
                expected: format!("{stored:#010x}"),
                actual: format!("{computed:#010x}"),
            },
            ErrorKind::Decompress { codec, msg } => DamageError::Decompress {
                codec: codec.clone(),
                message: msg.clone(),
            },
            ErrorKind::Truncated { .. } => DamageError::Truncated {
                message: e.kind.to_string(),
            },
            ErrorKind::Unsupported(m) => DamageError::Unsupported { message: m.clone() },
            _ => DamageError::Decode {
                message: e.kind.to_string(),
            },
        }
    }
}

/// Block counts of a report.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BlockCounts {
    pub total: u64,
    pub ok: u64,
    pub damaged: u64,
    /// Of the ok blocks, how many were found by carving rather than through the index.
    pub carved: u64,
    /// Of the ok blocks, how many were accepted without a checksum to verify them.
    pub unverified: u64,
}

/// Entry counts of a report.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct EntryCounts {
    /// Point entries plus range tombstones written out.
    pub recovered: u64,
    pub range_tombstones: u64,
    /// Of the recovered, how many come from unverified blocks (marked so in the output).
    pub unverified: u64,
    /// What the properties block says the table holds (`rocksdb.num.entries`), when readable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<u64>,
}

/// How the blocks were found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Everything through the footer and index.
    Index,
    /// The index where readable, carving for the rest.
    IndexAndCarving,
    /// Carving only (no usable footer or metaindex).
    Carving,
}

/// The damage report for one file (format-specs/damage-report.md).
#[derive(Clone, Debug, Serialize)]
pub struct FileReport {
    #[serde(flatten)]
    pub file: FileFacts,
    pub method: Method,
    pub blocks: BlockCounts,
    pub entries: EntryCounts,
    pub damaged: Vec<DamagedRegion>,
    pub notes: Vec<String>,
    /// The column family the table belongs to (set by whole-database salvage).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column_family: Option<String>,
}

impl FileReport {
    /// Give the damaged regions that lost entries without bounding them (no `lost_keys`, or an
    /// open end: a carved stretch, an unreadable file) the bounds known from elsewhere: `[lo, hi]`,
    /// user keys, `None` where unknown (format-specs/damage-report.md §5.3).
    pub fn bound_lost_keys(&mut self, lo: Option<&[u8]>, hi: Option<&[u8]>) {
        for d in &mut self.damaged {
            if !matches!(d.kind.as_str(), "data" | "unknown" | "file") {
                continue;
            }
            let l = d.lost_keys.get_or_insert(LostKeys {
                from: None,
                to: None,
                exact: false,
            });
            if l.from.is_none() {
                l.from = lo.map(hex::encode);
            }
            if l.to.is_none() {
                l.to = hi.map(hex::encode);
            }
        }
    }

    /// The report for a file that could not be read at all (open or map failed).
    pub fn unreadable(path: &Path, e: &Error) -> FileReport {
        FileReport {
            file: FileFacts::new(path),
            method: Method::Index,
            blocks: BlockCounts::default(),
            entries: EntryCounts::default(),
            column_family: None,
            damaged: vec![region(
                e.offset,
                0,
                "file",
                DamageError::Decode {
                    message: e.kind.to_string(),
                },
            )],
            notes: Vec::new(),
        }
    }

    /// Mark the report of a file that changed while it was read (`e` from
    /// [`crate::io::Source::check_intact`]): the bytes from `e.offset` on were not read as they were,
    /// so the regions found there (zeros read in place of the cut-off bytes) are dropped and one
    /// region of kind `file` from `e.offset` to the end names the I/O error (block counts are left
    /// as read). Entries recovered
    /// before that offset stand (they came from blocks that verified); the status follows §3 of
    /// format-specs/damage-report.md with the new region, so it is never `ok`.
    pub fn changed_while_read(&mut self, e: &Error) {
        let from = e.offset.min(self.file.size);
        self.damaged.retain(|d| d.offset + d.length <= from);
        self.damaged.push(region(
            from,
            self.file.size - from,
            "file",
            DamageError::Decode {
                message: e.kind.to_string(),
            },
        ));
        self.damaged.sort_by_key(|d| d.offset);
        self.notes.push(format!(
            "the file changed while it was read; nothing from byte {from} on was read as it was: \
             copy the file and read the copy"
        ));
        if self.file.status != Status::Unsupported {
            self.file.status = if self.entries.recovered == 0 && self.blocks.ok == 0 {
                Status::Unreadable
            } else {
                Status::Damaged
            };
        }
    }
}

/// What decoding one unit gave.
pub type UnitOutcome = std::result::Result<u64, Error>;

/// What a carved block turned out to hold.
#[derive(Clone, Debug, PartialEq, Eq)]
enum CarvedKind {
    Data,
    RangeDel,
    Index,
    Metaindex,
    Properties(Box<Properties>),
    CompressionDict,
    /// Checksum-verified bytes that are not a generic block (filters, hash-index metadata ...).
    Other,
    /// Verified, but the contents could not be decompressed or decoded.
    Unreadable(String),
}

/// The plan for salvaging one file: which blocks to decode, what is already known to be damaged.
pub struct Salvage<'a> {
    pub path: PathBuf,
    file: &'a [u8],
    pub table: Option<Table<'a>>,
    pub method: Method,
    /// Data blocks to decode, in file order.
    pub units: Vec<Unit>,
    /// Range-deletion blocks, in file order.
    pub range_del_units: Vec<Unit>,
    /// Damage found while planning (everything except data blocks that fail to decode).
    pub regions: Vec<DamagedRegion>,
    pub notes: Vec<String>,
    ctx: Option<BlockCtx>,
    dict: Option<&'a [u8]>,
    global_seqno: Option<u64>,
    /// The table's key format (internal unless the opened table, or carving, found raw keys).
    pub key_format: KeyFormat,
    /// Nothing read so far settles the key format, and the table may be a LevelDB table: carving
    /// may find raw keys (format-specs/carving.md §7.2).
    key_format_open: bool,
    expected_entries: Option<u64>,
    checksum_type: Option<ChecksumType>,
    format_version: Option<u32>,
    format: Option<String>,
    blocks_ok_structure: u64,
    blocks_carved_other: u64,
    blocks_unverified: u64,
    blocks_damaged_structure: u64,
    unsupported: Option<Error>,
}

fn region(offset: u64, length: u64, kind: &str, error: DamageError) -> DamagedRegion {
    DamagedRegion {
        offset,
        length,
        kind: kind.to_string(),
        error,
        lost_keys: None,
        estimated_entries_lost: None,
        entries_written_unverified: None,
    }
}

/// Find a footer that is not at the very end (bytes appended after the table): the last position
/// where a block-based magic number ends a decodable footer.
fn find_inner_footer(file: &[u8]) -> Option<usize> {
    let magics = [
        BLOCK_BASED_MAGIC.to_le_bytes(),
        LEGACY_BLOCK_BASED_MAGIC.to_le_bytes(),
    ];
    let mut i = file.len().checked_sub(8)?;
    loop {
        if i < file.len() - 8 && magics.iter().any(|m| file[i..i + 8] == *m) {
            let view = &file[..i + 8];
            if footer::decode(view).is_ok() {
                return Some(i + 8);
            }
        }
        if i == 0 {
            return None;
        }
        i -= 1;
    }
}

impl<'a> Salvage<'a> {
    /// Plan the salvage of a file image. Never fails: everything wrong becomes a region or a note.
    pub fn plan(file: &'a [u8], path: &Path) -> Salvage<'a> {
        let mut s = Salvage {
            path: path.to_path_buf(),
            file,
            table: None,
            method: Method::Index,
            units: Vec::new(),
            range_del_units: Vec::new(),
            regions: Vec::new(),
            notes: Vec::new(),
            ctx: None,
            dict: None,
            global_seqno: None,
            key_format: KeyFormat::Internal,
            key_format_open: false,
            expected_entries: None,
            checksum_type: None,
            format_version: None,
            format: None,
            blocks_ok_structure: 0,
            blocks_carved_other: 0,
            blocks_unverified: 0,
            blocks_damaged_structure: 0,
            unsupported: None,
        };
        // 1. The footer: at the end, or (garbage appended) the last one inside the file.
        let mut view_len = file.len();
        let foot = match footer::decode(file) {
            Ok(f) => Some(f),
            Err(e) if matches!(e.kind, ErrorKind::Unsupported(_)) => {
                s.unsupported = Some(e.in_file(path));
                return s;
            }
            Err(e) => match find_inner_footer(file) {
                Some(end) => {
                    view_len = end;
                    s.regions.push(region(
                        end as u64,
                        (file.len() - end) as u64,
                        "trailing bytes",
                        DamageError::Decode {
                            message: format!(
                                "{} bytes follow the table's footer (appended garbage or a partial write)",
                                file.len() - end
                            ),
                        },
                    ));
                    footer::decode(&file[..end]).ok()
                }
                None => {
                    s.regions.push(region(
                        file.len() as u64,
                        0,
                        "footer",
                        DamageError::Decode {
                            message: format!(
                                "no footer at the end of the file ({}): the table is carved",
                                e.kind
                            ),
                        },
                    ));
                    None
                }
            },
        };
        let view = &file[..view_len];
        // 2. The table structure, as far as it reads.
        let table = match &foot {
            Some(_) => match Table::open(view, path) {
                Ok(t) => Some(t),
                Err(e) => {
                    if matches!(e.kind, ErrorKind::Unsupported(_)) {
                        s.unsupported = Some(e);
                        return s;
                    }
                    s.regions
                        .push(region(e.offset, 0, "table", DamageError::from_error(&e)));
                    None
                }
            },
            None => None,
        };
        if let Some(f) = &foot {
            s.format_version = Some(f.format_version);
            s.checksum_type = Some(f.checksum_type);
            if f.checksum_mismatch() {
                let c = f.checksum.expect("mismatch implies a checksum");
                s.regions.push(region(
                    f.offset,
                    f.len,
                    "footer",
                    DamageError::Checksum {
                        algorithm: f.checksum_type,
                        expected: format!("{:#010x}", c.stored),
                        actual: format!("{:#010x}", c.computed),
                    },
                ));
            }
        }
        let mut hints = CarveHints::default();
        if let Some(f) = &foot {
            hints.checksum = Some(f.checksum_type);
            hints.base_context = Some(f.base_context_checksum);
            if f.format_version >= 6 {
                hints.flavor = Some(Flavor::RocksDb {
                    size_prefixed: true,
                });
            }
        }
        let carve_ranges: Vec<(u64, u64)>;
        if let Some(t) = table {
            s.format = Some(format!("{:?}", t.format).to_lowercase());
            s.ctx = Some(t.ctx);
            s.dict = t.compression_dict();
            s.global_seqno = t.global_seqno;
            s.key_format = t.key_format;
            hints.keys = t.key_format;
            // Without index keys or data blocks to judge by, a LevelDB table's keys are undecided.
            s.key_format_open = t.format == super::table::TableFormat::LevelDb
                && t.key_format == KeyFormat::Internal
                && (t.data_blocks.is_empty() || !t.index_complete);
            s.expected_entries = t.properties.as_ref().and_then(|p| p.num_entries());
            // LevelDB and RocksDB format_version 0 share a magic; without a readable metaindex the
            // flavor is a guess, so carving tries both.
            // A footer before format_version 6 has no checksum, so its format_version (which decides
            // the framing of compressed payloads) may itself be damaged: carving then tries both.
            let flavor_known = !(t.footer.magic == footer::TableMagic::LegacyBlockBased
                && (t.metaindex.is_empty() || t.metaindex_damaged))
                && (t.footer.format_version >= 6 || t.ctx.flavor == Flavor::LevelDb);
            hints.flavor = flavor_known.then_some(t.ctx.flavor);
            hints.comparator = t.comparator;
            hints.dict = t.compression_dict();
            for (i, d) in t.data_blocks.iter().enumerate() {
                s.units.push(Unit {
                    handle: d.handle,
                    origin: Origin::Indexed(i),
                    flavor: t.ctx.flavor,
                    checksummed: t.ctx.checksum_type != ChecksumType::None,
                });
            }
            // A damaged metaindex may name blocks wrongly: its meta blocks are found by carving.
            let meta_trusted = !t.metaindex_damaged;
            // Without the properties block the index type is a guess (a plain binary index is assumed):
            // if the first block the index lists is not a data block, the guess is wrong (e.g. a
            // partitioned index) and the index is not used at all (carving.md §7.1).
            let mut index_trusted = true;
            if t.properties.is_none() && t.format == super::table::TableFormat::RocksDb {
                // Judge by the first listed block whose checksum holds (a damaged one says nothing).
                let listed: HashSet<(u64, u64)> = s
                    .units
                    .iter()
                    .map(|u| (u.handle.offset, u.handle.size))
                    .collect();
                let first = s.units.iter().find_map(|u| {
                    let raw = read_raw(view, u.handle, "data block").ok()?;
                    raw.verify(&t.ctx).ok()?;
                    Some(CarvedBlock {
                        handle: u.handle,
                        compression_byte: raw.compression_byte,
                        trust: Trust::Checksum,
                        size_prefixed: !matches!(
                            u.flavor,
                            Flavor::RocksDb {
                                size_prefixed: false
                            } | Flavor::LevelDb
                        ),
                    })
                });
                if let Some(first) = first {
                    let kind = classify(
                        view,
                        &first,
                        Some(t.ctx.flavor),
                        s.dict,
                        t.comparator,
                        t.key_format,
                        &listed,
                    );
                    if kind != CarvedKind::Data {
                        index_trusted = false;
                        s.units.clear();
                        s.notes.push(
                            "the properties block is unreadable and the blocks the index lists are not data \
                             blocks: the index is ignored and the data blocks are carved"
                                .into(),
                        );
                    }
                }
            }
            if let Some(h) = t.range_del_handle().filter(|_| meta_trusted) {
                s.range_del_units.push(Unit {
                    handle: h,
                    origin: Origin::Indexed(usize::MAX),
                    flavor: t.ctx.flavor,
                    checksummed: t.ctx.checksum_type != ChecksumType::None,
                });
            }
            if t.ctx.checksum_type == ChecksumType::None {
                s.notes.push(
                    "the table stores no checksums (checksum type none): damage inside a block cannot be \
                     detected, and every entry is marked unverified"
                        .into(),
                );
            }
            let failed = s.check_structure(&t);
            // Blocks that failed their check are not trusted to be where the structure says: their
            // bytes are carved like any gap.
            let map = t.block_map();
            let mut covered: Vec<(u64, u64)> = map
                .iter()
                .filter(|b| {
                    if b.kind == BlockKind::Data {
                        index_trusted
                    } else {
                        !failed.contains(&b.handle.offset)
                    }
                })
                .filter(|b| {
                    meta_trusted
                        || matches!(
                            b.kind,
                            BlockKind::Data | BlockKind::Index | BlockKind::IndexPartition
                        )
                })
                .map(|b| (b.handle.offset, b.handle.end_with_trailer(TRAILER_LEN)))
                .collect();
            covered.push((t.footer.offset, view_len as u64));
            let gaps = complement(&mut covered, view_len as u64);
            let structure_lost =
                !t.index_complete || t.metaindex.is_empty() || !meta_trusted || !index_trusted;
            if structure_lost {
                s.method = Method::IndexAndCarving;
                carve_ranges = gaps;
            } else {
                carve_ranges = Vec::new();
                for (a, z) in gaps {
                    let zero = file[a as usize..z as usize].iter().all(|&b| b == 0);
                    if !zero {
                        s.notes.push(format!(
                            "{} bytes at offset {a} belong to no block the table lists (the index is complete, \
                             so they held no entries)",
                            z - a
                        ));
                    }
                }
            }
            s.table = Some(t);
        } else {
            s.method = Method::Carving;
            // No structure: a LevelDB magic or no footer at all leaves the key format open.
            s.key_format_open = foot
                .as_ref()
                .is_none_or(|f| f.magic == footer::TableMagic::LegacyBlockBased);
            let end = foot.as_ref().map_or(view_len as u64, |f| f.offset);
            carve_ranges = if end > 0 { vec![(0, end)] } else { Vec::new() };
        }
        if !carve_ranges.is_empty() {
            s.carve_ranges(view, &carve_ranges, &hints);
        }
        s.units.sort_by_key(|u| u.handle.offset);
        s.range_del_units.sort_by_key(|u| u.handle.offset);
        s.regions.sort_by_key(|r| r.offset);
        s
    }

    /// Check the trailers of the structure's non-data blocks (data blocks are checked when decoded).
    fn check_structure(&mut self, t: &Table) -> HashSet<u64> {
        let mut failed = HashSet::new();
        for p in &t.problems {
            if !matches!(p.kind, ErrorKind::Checksum { .. }) {
                let kind = if p.offset == t.footer.offset {
                    "footer"
                } else if p.offset == t.footer.metaindex.offset {
                    "metaindex"
                } else if p.offset == t.index_handle.offset {
                    "index"
                } else {
                    "table"
                };
                self.regions
                    .push(region(p.offset, 0, kind, DamageError::from_error(p)));
            }
        }
        for b in t.block_map() {
            if matches!(b.kind, BlockKind::Data | BlockKind::RangeDel) {
                continue;
            }
            match read_raw(t.file(), b.handle, "block") {
                Ok(raw) => {
                    let c = raw.check(&t.ctx);
                    let ok = t.ctx.checksum_type == ChecksumType::None
                        || c.ok()
                        || (b.kind == BlockKind::Properties && t.properties_seqno_rewritten);
                    if ok {
                        self.blocks_ok_structure += 1;
                    } else {
                        failed.insert(b.handle.offset);
                        self.blocks_damaged_structure += 1;
                        self.regions.push(region(
                            b.handle.offset,
                            b.handle.size + TRAILER_LEN,
                            b.kind.name(),
                            DamageError::Checksum {
                                algorithm: t.ctx.checksum_type,
                                expected: format!("{:#010x}", c.stored),
                                actual: format!("{:#010x}", c.computed),
                            },
                        ));
                    }
                }
                Err(e) => {
                    failed.insert(b.handle.offset);
                    self.blocks_damaged_structure += 1;
                    let len = (self.file.len() as u64).saturating_sub(b.handle.offset);
                    self.regions.push(region(
                        b.handle.offset,
                        len.min(b.handle.size + TRAILER_LEN),
                        b.kind.name(),
                        DamageError::from_error(&e),
                    ));
                }
            }
        }
        failed
    }

    /// Carve one byte range and fold what it found into the plan.
    fn carve_ranges(&mut self, view: &'a [u8], ranges: &[(u64, u64)], hints: &CarveHints<'a>) {
        // Scan every range first: a dictionary found in one range is needed to read blocks of another.
        let per_range: Vec<(u64, u64, carve::CarveOutcome)> = ranges
            .iter()
            .map(|&(a, z)| (a, z, carve::carve(view, a, z, hints)))
            .collect();
        let mut out = carve::CarveOutcome::default();
        for (_, _, o) in &per_range {
            out.blocks.extend(o.blocks.iter().copied());
            out.suspects.extend(o.suspects.iter().copied());
            out.checksum = out.checksum.or(o.checksum);
        }
        if self.checksum_type.is_none() {
            self.checksum_type = out.checksum;
        }
        let learned_flavor = hints.flavor;
        let comparator = hints.comparator;
        let keys = hints.keys;
        // Classify every accepted block.
        let starts: HashSet<(u64, u64)> = out
            .blocks
            .iter()
            .map(|b| (b.handle.offset, b.handle.size))
            .collect();
        let mut dict = self.dict.or(hints.dict);
        let mut kinds: Vec<(CarvedBlock, CarvedKind)> = Vec::new();
        // A dictionary found by carving is needed to read the data blocks: classify it first.
        for b in &out.blocks {
            let raw = &view[b.handle.offset as usize..(b.handle.offset + b.handle.size) as usize];
            if dict.is_none() && b.compression_byte == 0 && raw.starts_with(&ZSTD_DICT_MAGIC) {
                dict = Some(raw);
            }
        }
        kinds.par_extend(out.blocks.par_iter().map(|b| {
            (
                *b,
                classify(view, b, learned_flavor, dict, comparator, keys, &starts),
            )
        }));
        // A raw-content dictionary has no magic: if verified blocks cannot be decompressed, try each
        // verified block of unknown kind as the dictionary, and keep one that makes them data.
        if dict.is_none() {
            if let Some(victim) = kinds
                .iter()
                .position(|(_, k)| matches!(k, CarvedKind::Unreadable(_)))
            {
                let vb = kinds[victim].0;
                let found = kinds.iter().find_map(|(b, k)| {
                    if *k != CarvedKind::Other
                        || b.compression_byte != 0
                        || b.trust != Trust::Checksum
                    {
                        return None;
                    }
                    let cand =
                        &view[b.handle.offset as usize..(b.handle.offset + b.handle.size) as usize];
                    (classify(
                        view,
                        &vb,
                        learned_flavor,
                        Some(cand),
                        comparator,
                        keys,
                        &starts,
                    ) == CarvedKind::Data)
                        .then_some((b.handle.offset, cand))
                });
                if let Some((at, d)) = found {
                    dict = Some(d);
                    self.notes.push(format!(
                        "the compression dictionary was identified by carving at offset {at}"
                    ));
                    for (b, k) in kinds.iter_mut() {
                        if matches!(k, CarvedKind::Unreadable(_)) {
                            *k = classify(view, b, learned_flavor, dict, comparator, keys, &starts);
                        }
                        if b.handle.offset == at {
                            *k = CarvedKind::CompressionDict;
                        }
                    }
                }
            }
        }
        // A LevelDB table whose structure did not settle the key format: a verified block of raw
        // keys found by carving settles it for the whole table, unless a RocksDB properties block
        // was carved too (RocksDB writes internal keys only) (sst.md §14.1, carving.md §7.2).
        let rocksdb_seen = kinds
            .iter()
            .any(|(_, k)| matches!(k, CarvedKind::Properties(_)));
        if keys == KeyFormat::Internal && self.key_format_open && !rocksdb_seen {
            let raw_at = out
                .blocks
                .par_iter()
                .filter(|b| b.trust == Trust::Checksum)
                .find_map_first(|b| {
                    raw_key_block(view, b, learned_flavor, dict, comparator)
                        .then_some(b.handle.offset)
                });
            // Failing that, the table's bloom filter, if it survives, may tell (sst.md §14.2).
            let filter_at = || -> Option<u64> {
                let t = self.table.as_ref()?;
                let says: Vec<(u64, Option<bool>)> = kinds
                    .iter()
                    .filter(|(b, k)| *k == CarvedKind::Data && b.trust == Trust::Checksum)
                    .map(|(b, _)| {
                        let c = carved_contents(view, b, learned_flavor, dict);
                        let says = c.and_then(|c| t.filter_says_raw(b.handle.offset, &c));
                        (b.handle.offset, says)
                    })
                    .collect();
                if says.iter().any(|(_, x)| *x == Some(false)) {
                    return None;
                }
                says.iter().find(|(_, x)| *x == Some(true)).map(|(o, _)| *o)
            };
            let evidence = match raw_at {
                Some(at) => Some(format!("in the block at offset {at}")),
                None => filter_at().map(|at| {
                    format!(
                        "the bloom filter was built over whole keys (data block at offset {at})"
                    )
                }),
            };
            if let Some(how) = evidence {
                self.key_format = KeyFormat::Raw;
                self.notes.push(format!(
                    "the table holds raw keys (no sequence/type trailer): found by carving, {how}"
                ));
                for (b, k) in kinds.iter_mut() {
                    if !matches!(k, CarvedKind::CompressionDict) {
                        *k = classify(
                            view,
                            b,
                            learned_flavor,
                            dict,
                            comparator,
                            KeyFormat::Raw,
                            &starts,
                        );
                    }
                }
            }
        }
        if self.dict.is_none() {
            self.dict = dict;
        }
        let mut notes = Vec::new();
        for (b, k) in &kinds {
            let flavor = flavor_of(b, learned_flavor);
            if b.trust != Trust::Checksum {
                self.blocks_unverified += 1;
            }
            match k {
                CarvedKind::Data => self.units.push(Unit {
                    handle: b.handle,
                    origin: Origin::Carved(b.trust),
                    flavor,
                    checksummed: true,
                }),
                CarvedKind::RangeDel => self.range_del_units.push(Unit {
                    handle: b.handle,
                    origin: Origin::Carved(b.trust),
                    flavor,
                    checksummed: true,
                }),
                CarvedKind::Properties(p) => {
                    self.blocks_carved_other += 1;
                    if self.expected_entries.is_none() {
                        self.expected_entries = p.num_entries();
                        self.global_seqno = p.global_seqno();
                        if self.format.is_none() {
                            self.format = Some("rocksdb".into());
                        }
                        notes.push(format!(
                            "properties block found by carving at offset {}",
                            b.handle.offset
                        ));
                    }
                }
                CarvedKind::Unreadable(msg) => {
                    self.blocks_damaged_structure += 1;
                    // Verified bytes we could not read: say so instead of dropping them silently.
                    self.regions.push(region(
                        b.handle.offset,
                        b.handle.size + TRAILER_LEN,
                        "unknown",
                        DamageError::Decode {
                            message: format!(
                                "a block with a valid checksum could not be read: {msg}"
                            ),
                        },
                    ));
                }
                CarvedKind::Index
                | CarvedKind::Metaindex
                | CarvedKind::CompressionDict
                | CarvedKind::Other => self.blocks_carved_other += 1,
            }
        }
        self.notes.extend(notes);
        if let Some(t) = self.checksum_type {
            if t != ChecksumType::None && kinds.iter().any(|(b, _)| b.trust == Trust::StructureOnly)
            {
                // Cannot happen with a known checksum type; kept as a guard for the report.
                self.notes
                    .push("some carved blocks were accepted on structure alone".into());
            }
        }
        if kinds.iter().any(|(b, _)| b.trust == Trust::BaseUnknown) {
            self.notes.push(
                "the footer (with its context-checksum base) is lost: carved blocks that the base learned \
                 from adjacent blocks does not verify (or that no base could be learned for) are accepted on \
                 structure alone, and their entries are marked unverified"
                    .into(),
            );
        }
        // Damage already reported for a structure block is not reported again as carving damage.
        let known: Vec<(u64, u64)> = self
            .regions
            .iter()
            .map(|r| (r.offset, r.offset + r.length))
            .collect();
        let reported = |a: u64, z: u64| known.iter().any(|&(ka, kz)| ka <= a && z <= kz);
        // Damaged blocks with a measured extent.
        for x in out
            .suspects
            .iter()
            .filter(|x| !reported(x.handle.offset, x.handle.end_with_trailer(TRAILER_LEN)))
        {
            self.blocks_damaged_structure += 1;
            self.regions.push(region(
                x.handle.offset,
                x.handle.size + TRAILER_LEN,
                "block",
                DamageError::Checksum {
                    algorithm: out.checksum.unwrap_or(ChecksumType::None),
                    expected: format!("{:#010x}", x.stored),
                    actual: format!("{:#010x}", x.computed),
                },
            ));
        }
        // Bytes nothing explains.
        let mut padding = 0u64;
        for (a, z, o) in &per_range {
            let (a, z) = (*a, *z);
            let mut covered: Vec<(u64, u64)> = o
                .blocks
                .iter()
                .map(|b| b.handle)
                .chain(o.suspects.iter().map(|x| x.handle))
                .map(|h| (h.offset, h.end_with_trailer(TRAILER_LEN)))
                .collect();
            let stop = o.exhausted_at.unwrap_or(z);
            for (ga, gz) in complement_within(&mut covered, a, stop) {
                if reported(ga, gz) {
                    continue;
                }
                let bytes = &view[ga as usize..gz as usize];
                let zero = bytes.iter().all(|&x| x == 0);
                // block_align pads with zeros up to the next 4 KiB boundary, where a block starts.
                let next_is_block = o.blocks.iter().any(|b| b.handle.offset == gz);
                if zero && gz - ga < 4096 && gz % 4096 == 0 && next_is_block {
                    padding += gz - ga;
                    continue;
                }
                let message = if zero {
                    format!("{} zero bytes: no block could be found", gz - ga)
                } else {
                    format!(
                        "{} bytes in which no verifiable block could be found",
                        gz - ga
                    )
                };
                self.regions.push(region(
                    ga,
                    gz - ga,
                    "unknown",
                    DamageError::NoBlockFound { message },
                ));
            }
            if let Some(x) = o.exhausted_at {
                self.regions.push(region(
                    x,
                    z - x,
                    "unknown",
                    DamageError::NoBlockFound {
                        message: "not examined: the carving work budget ran out".into(),
                    },
                ));
            }
        }
        if padding > 0 {
            self.notes.push(format!(
                "{padding} zero bytes before 4 KiB-aligned blocks taken as block_align padding"
            ));
        }
    }

    /// The whole file image.
    pub fn file(&self) -> &'a [u8] {
        self.file
    }

    /// Set when the file is a table format rockrescue recognises but does not decode.
    pub fn unsupported(&self) -> Option<&Error> {
        self.unsupported.as_ref()
    }

    /// Read, check and decompress one unit.
    fn contents(&self, u: &Unit, check: bool) -> Result<std::borrow::Cow<'a, [u8]>> {
        let raw = read_raw(self.file, u.handle, "data block")?;
        let ctx = match (u.origin, self.ctx) {
            (Origin::Indexed(_), Some(ctx)) => {
                if check {
                    raw.verify(&ctx)?;
                }
                ctx
            }
            // Carved blocks were checked by the scan.
            _ => BlockCtx {
                checksum_type: ChecksumType::None,
                base_context_checksum: 0,
                flavor: u.flavor,
            },
        };
        let dict = self.dict.unwrap_or(&[]);
        match raw.contents(&ctx, dict) {
            // A footer without its own checksum may carry a wrong format_version, and with it the
            // wrong framing of compressed payloads: a block whose checksum holds is worth the
            // other framing before it is given up.
            Err(e) if matches!(e.kind, ErrorKind::Decompress { .. }) => {
                let other = match ctx.flavor {
                    Flavor::RocksDb { size_prefixed } => Flavor::RocksDb {
                        size_prefixed: !size_prefixed,
                    },
                    Flavor::LevelDb => return Err(e),
                };
                let alt = BlockCtx {
                    flavor: other,
                    ..ctx
                };
                raw.contents(&alt, dict).map_err(|_| e)
            }
            r => r,
        }
    }

    /// Decode data unit `i`, calling `f` for each entry. Returns the number of entries.
    pub fn decode_unit(&self, i: usize, f: impl FnMut(PointEntry<'_, '_>)) -> UnitOutcome {
        self.decode_unit_inner(i, true, f)
    }

    /// Like [`Salvage::decode_unit`] but without checking the block's trailer checksum: for
    /// writing out, marked unverified, the entries of a block whose checksum fails but which still
    /// decompresses and decodes (they may hold altered bytes). Opt-in only.
    pub fn decode_unit_unchecked(
        &self,
        i: usize,
        f: impl FnMut(PointEntry<'_, '_>),
    ) -> UnitOutcome {
        self.decode_unit_inner(i, false, f)
    }

    fn decode_unit_inner(
        &self,
        i: usize,
        check: bool,
        mut f: impl FnMut(PointEntry<'_, '_>),
    ) -> UnitOutcome {
        let u = &self.units[i];
        let contents = self.contents(u, check).map_err(|e| e.in_file(&self.path))?;
        let compressed =
            contents.as_ptr() != self.file.as_ptr().wrapping_add(u.handle.offset as usize);
        let mut n = 0u64;
        decode_data_block(
            u.handle.offset,
            &contents,
            compressed,
            self.global_seqno,
            self.key_format,
            |e| {
                n += 1;
                f(e)
            },
        )
        .map_err(|e| e.in_file(&self.path))?;
        Ok(n)
    }

    /// Every range tombstone from readable range-deletion blocks, with whether it is unverified, and
    /// the damaged range-deletion blocks.
    pub fn range_tombstones(&self) -> (Vec<(RangeTombstone, bool)>, Vec<DamagedRegion>) {
        let mut out = Vec::new();
        let mut bad = Vec::new();
        for u in &self.range_del_units {
            let r = self
                .contents(u, true)
                .and_then(|c| decode_range_del_block(u.handle.offset, &c, self.global_seqno));
            match r {
                Ok(ts) => out.extend(ts.into_iter().map(|t| (t, u.unverified()))),
                Err(e) => bad.push(DamagedRegion {
                    lost_keys: None,
                    estimated_entries_lost: None,
                    ..region(
                        u.handle.offset,
                        u.handle.size + TRAILER_LEN,
                        "range-del",
                        DamageError::from_error(&e),
                    )
                }),
            }
        }
        (out, bad)
    }

    /// Decode every readable unit in file order, calling `f(entry, unverified)` for each point
    /// entry; returns the report (as `sst salvage` writes it). Range tombstones are in
    /// [`Salvage::range_tombstones`].
    pub fn visit_entries(&self, mut f: impl FnMut(&PointEntry<'_, '_>, bool)) -> FileReport {
        let mut outcomes = Vec::with_capacity(self.units.len());
        let mut unverified = 0u64;
        for (i, u) in self.units.iter().enumerate() {
            let mark = u.unverified();
            let r = self.decode_unit(i, |e| f(&e, mark));
            if let (Ok(n), true) = (&r, mark) {
                unverified += n;
            }
            outcomes.push(r);
        }
        let (ts, damage) = self.range_tombstones();
        unverified += ts.iter().filter(|(_, u)| *u).count() as u64;
        let none = vec![None; outcomes.len()];
        self.report(&outcomes, &none, &ts, &damage, unverified)
    }

    /// The file ends in an intact footer (the table was finished), read through its index.
    pub fn has_footer(&self) -> bool {
        self.table.is_some()
    }

    /// The column family the table's properties name: (id, name).
    pub fn column_family(&self) -> (Option<u32>, Option<String>) {
        let p = self.table.as_ref().and_then(|t| t.properties.as_ref());
        (
            p.and_then(|p| p.int("rocksdb.column.family.id"))
                .map(|x| x as u32),
            p.and_then(|p| p.text("rocksdb.column.family.name")),
        )
    }

    /// The first or last user key of unit `i`: `None` when the unit does not decode,
    /// `Some(None)` when it holds no entry.
    pub fn edge_key(&self, i: usize, last: bool) -> Option<Option<Vec<u8>>> {
        let mut key = None;
        let mut first = true;
        self.decode_unit(i, |e| {
            if last || first {
                key = Some(e.user_key.to_vec());
            }
            first = false;
        })
        .ok()?;
        Some(key)
    }

    /// Build the report from the outcome of decoding every unit (same order as `units`) and the
    /// range tombstones.
    /// `written_anyway[i]`: entries of failed unit `i` written out unverified (opt-in), if any.
    pub fn report(
        &self,
        outcomes: &[UnitOutcome],
        written_anyway: &[Option<u64>],
        tombstones: &[(RangeTombstone, bool)],
        tombstone_damage: &[DamagedRegion],
        unverified_entries: u64,
    ) -> FileReport {
        let mut damaged = self.regions.clone();
        damaged.extend(tombstone_damage.iter().cloned());
        let mut recovered_points = 0u64;
        let mut recovered_bytes = 0u64;
        let mut written_from_damaged = 0u64;
        for (i, (u, o)) in self.units.iter().zip(outcomes).enumerate() {
            match o {
                Ok(n) => {
                    recovered_points += n;
                    recovered_bytes += u.handle.size + TRAILER_LEN;
                }
                Err(e) => {
                    let anyway = written_anyway.get(i).copied().flatten();
                    written_from_damaged += anyway.unwrap_or(0);
                    damaged.push(DamagedRegion {
                        entries_written_unverified: anyway,
                        ..region(
                            u.handle.offset,
                            u.handle.size + TRAILER_LEN,
                            "data",
                            DamageError::from_error(e),
                        )
                    })
                }
            }
        }
        damaged.sort_by_key(|r| r.offset);
        damaged.dedup_by(|a, b| a.offset == b.offset && a.length == b.length && a.kind == b.kind);
        // Lost keys and estimates for regions that may have held entries.
        let recovered = recovered_points + tombstones.len() as u64 + written_from_damaged;
        let holds_entries =
            |r: &DamagedRegion| matches!(r.kind.as_str(), "data" | "unknown" | "block");
        let missing = self.expected_entries.map(|e| e.saturating_sub(recovered));
        let entry_bytes: u64 = damaged
            .iter()
            .filter(|r| holds_entries(r))
            .map(|r| r.length)
            .sum();
        let indexed_complete = self.method == Method::Index;
        for r in damaged.iter_mut().filter(|r| holds_entries(r)) {
            r.lost_keys = Some(self.lost_keys_around(
                r.offset,
                r.offset + r.length,
                outcomes,
                indexed_complete,
            ));
            r.estimated_entries_lost = match missing {
                Some(m) if entry_bytes > 0 => Some(
                    ((m as u128 * r.length as u128 + entry_bytes as u128 / 2) / entry_bytes as u128)
                        as u64,
                ),
                _ if recovered_bytes > 0 => Some(
                    ((recovered_points as u128 * r.length as u128) / recovered_bytes as u128)
                        as u64,
                ),
                _ => None,
            };
        }
        // A lost range-deletion block may have deleted any key: its tombstones can reach past the
        // table's own point keys, and only the MANIFEST records the table's whole key range (the
        // database-level salvage narrows it from there). format-specs/damage-report.md §5.3.
        for r in damaged.iter_mut().filter(|r| r.kind == "range-del") {
            r.lost_keys = Some(LostKeys {
                from: None,
                to: None,
                exact: false,
            });
        }
        let data_ok = outcomes.iter().filter(|o| o.is_ok()).count() as u64;
        let data_bad = outcomes.len() as u64 - data_ok;
        let rd_bad = tombstone_damage.len() as u64;
        let rd_ok = self.range_del_units.len() as u64 - rd_bad;
        let bad_at: HashSet<u64> = tombstone_damage.iter().map(|r| r.offset).collect();
        let carved_units = self
            .units
            .iter()
            .zip(outcomes)
            .filter(|(u, o)| matches!(u.origin, Origin::Carved(_)) && o.is_ok())
            .count()
            + self
                .range_del_units
                .iter()
                .filter(|u| {
                    matches!(u.origin, Origin::Carved(_)) && !bad_at.contains(&u.handle.offset)
                })
                .count();
        let ok = self.blocks_ok_structure + self.blocks_carved_other + data_ok + rd_ok;
        let bad = self.blocks_damaged_structure + data_bad + rd_bad;
        let blocks = BlockCounts {
            total: ok + bad,
            ok,
            damaged: bad,
            carved: carved_units as u64 + self.blocks_carved_other,
            unverified: self.blocks_unverified
                + self
                    .units
                    .iter()
                    .zip(outcomes)
                    .filter(|(u, o)| {
                        matches!(u.origin, Origin::Indexed(_)) && u.unverified() && o.is_ok()
                    })
                    .count() as u64,
        };
        let mut notes = self.notes.clone();
        if let (Some(e), true) = (self.expected_entries, damaged.is_empty()) {
            if e != recovered {
                notes.push(format!(
                    "the properties block says {e} entries but {recovered} were read from intact blocks"
                ));
            }
        }
        let status = if let Some(u) = &self.unsupported {
            notes.push(u.kind.to_string());
            Status::Unsupported
        } else if damaged.is_empty() {
            // Nothing failed; with no checksum to fail, nothing was proven either.
            Status::Ok.unless_unverified(
                unverified_entries > 0 || self.checksum_type == Some(ChecksumType::None),
            )
        } else if recovered == 0 && blocks.ok == 0 {
            Status::Unreadable
        } else {
            Status::Damaged
        };
        FileReport {
            file: FileFacts {
                path: self.path.display().to_string(),
                size: self.file.len() as u64,
                status,
                format: self.format.clone(),
                format_version: self.format_version,
                checksum_type: self.checksum_type,
                raw_keys: self.key_format == KeyFormat::Raw,
            },
            method: self.method,
            blocks,
            entries: EntryCounts {
                recovered,
                range_tombstones: tombstones.len() as u64,
                unverified: unverified_entries,
                expected: self.expected_entries,
            },
            damaged,
            notes,
            column_family: None,
        }
    }

    /// Bound the user keys a damaged byte range `[a, z)` may have held by the readable data blocks
    /// on either side (file order is key order for data blocks).
    fn lost_keys_around(
        &self,
        a: u64,
        z: u64,
        outcomes: &[UnitOutcome],
        indexed: bool,
    ) -> LostKeys {
        let before = self.units.partition_point(|u| u.handle.offset < a);
        let after = self.units.partition_point(|u| u.handle.offset < z);
        let prev = (0..before).rev().find(|&i| outcomes[i].is_ok());
        let next = (after..self.units.len()).find(|&i| outcomes[i].is_ok());
        // Adjacent neighbours (nothing unreadable between them and the range) give exact bounds.
        let mut exact = true;
        let from = match prev {
            Some(i) => {
                exact &= i + 1 == before
                    || self.units[i + 1..before]
                        .iter()
                        .all(|u| u.handle.offset >= a);
                self.edge_key(i, true).flatten()
            }
            None => {
                exact &= indexed && before == 0;
                None
            }
        };
        let to = match next {
            Some(i) => {
                exact &= i == after;
                self.edge_key(i, false).flatten()
            }
            None => {
                exact &= indexed && after == self.units.len();
                None
            }
        };
        LostKeys {
            from: from.map(hex::encode),
            to: to.map(hex::encode),
            exact,
        }
    }
}

const ZSTD_DICT_MAGIC: [u8; 4] = [0x37, 0xa4, 0x30, 0xec];

fn flavor_of(b: &CarvedBlock, known: Option<Flavor>) -> Flavor {
    match known {
        Some(Flavor::LevelDb) => Flavor::LevelDb,
        _ => Flavor::RocksDb {
            size_prefixed: b.size_prefixed,
        },
    }
}

/// The parts of `[0, end)` that no interval in `covered` touches.
fn complement(covered: &mut [(u64, u64)], end: u64) -> Vec<(u64, u64)> {
    complement_within(covered, 0, end)
}

fn complement_within(covered: &mut [(u64, u64)], start: u64, end: u64) -> Vec<(u64, u64)> {
    covered.sort_unstable();
    let mut out = Vec::new();
    let mut pos = start;
    for &(a, z) in covered.iter() {
        if a > pos {
            out.push((pos, a.min(end)));
        }
        pos = pos.max(z);
        if pos >= end {
            break;
        }
    }
    if pos < end {
        out.push((pos, end));
    }
    out.retain(|(a, z)| z > a);
    out
}

/// A value that is exactly a block handle (optionally followed by a length-prefixed first key).
fn exact_handle(v: &[u8]) -> Option<BlockHandle> {
    let (h, n) = BlockHandle::decode(v)?;
    if n == v.len() {
        return Some(h);
    }
    let (len, m) = varint::decode_u32(&v[n..])?;
    (n + m + len as usize == v.len()).then_some(h)
}

const META_PREFIXES: [&str; 4] = ["rocksdb.", "filter.", "fullfilter.", "partitionedfilter."];

/// Decide what a carved block holds (format-specs/carving.md §7.2).
fn classify(
    file: &[u8],
    b: &CarvedBlock,
    flavor: Option<Flavor>,
    dict: Option<&[u8]>,
    cmp: UserComparator,
    keys: KeyFormat,
    starts: &HashSet<(u64, u64)>,
) -> CarvedKind {
    let off = b.handle.offset;
    let data = &file[off as usize..(off + b.handle.size) as usize];
    let fl = flavor_of(b, flavor);
    let comp = Compression::from_byte(b.compression_byte, fl);
    let mut contents = compress::decompress(comp, data, fl, &[], MAX_BLOCK_SIZE);
    if contents.is_err() {
        if let Some(d) = dict {
            contents = compress::decompress(comp, data, fl, d, MAX_BLOCK_SIZE);
        }
    }
    let contents = match contents {
        Ok(c) => c,
        Err(e) => return CarvedKind::Unreadable(format!("{}: {}", e.codec, e.msg)),
    };
    if b.compression_byte == 0 && contents.starts_with(&ZSTD_DICT_MAGIC) {
        return CarvedKind::CompressionDict;
    }
    // Generic block with standard entries? One pass, no per-entry allocation: the shape facts are
    // gathered as flags (handles are kept only while every value is one).
    let mut standard_ok = false;
    let mut n = 0usize;
    let mut named = true;
    let mut handles: Vec<Option<BlockHandle>> = Vec::new();
    let mut all_handles = true;
    let mut all_range_del = true;
    let mut all_points = true;
    let mut ordered = true;
    // Raw keys (sst.md §14.1): strictly increasing as whole keys.
    let mut raw_ordered = true;
    let mut prev: Vec<u8> = Vec::new();
    if let Ok(mut it) = EntryIter::new(&contents, EntryFormat::Standard) {
        standard_ok = true;
        while let Some(e) = it.next() {
            let Ok(e) = e else {
                standard_ok = false;
                break;
            };
            n += 1;
            if named {
                named = std::str::from_utf8(e.key)
                    .is_ok_and(|s| META_PREFIXES.iter().any(|p| s.starts_with(p)));
            }
            if all_handles {
                let h = exact_handle(e.value);
                all_handles = h.is_some();
                handles.push(h);
            }
            match ikey::parse(e.key) {
                Some(p) => {
                    all_range_del &= p.vtype == vtype::RANGE_DELETION;
                    all_points &= ikey::is_table_point_type(p.vtype);
                }
                None => {
                    all_range_del = false;
                    all_points = false;
                }
            }
            if all_points && n > 1 {
                ordered &= cmp.compare_internal(&prev, e.key) != Some(std::cmp::Ordering::Greater);
            }
            if raw_ordered && n > 1 {
                raw_ordered = cmp.compare_user(&prev, e.key) == Some(std::cmp::Ordering::Less);
            }
            prev.clear();
            prev.extend_from_slice(e.key);
        }
        standard_ok &= n > 0;
    }
    if standard_ok {
        if named && all_handles {
            return CarvedKind::Metaindex;
        }
        if named {
            return match Properties::parse(&contents) {
                Ok(p) => CarvedKind::Properties(Box::new(p)),
                Err(_) => CarvedKind::Other,
            };
        }
        if all_handles && handles_plausible(&handles, off, starts) {
            return CarvedKind::Index;
        }
        if keys == KeyFormat::Raw {
            // A raw-key table has no range-deletion blocks; its data blocks need not look internal.
            if raw_ordered {
                return CarvedKind::Data;
            }
        } else if all_range_del {
            return CarvedKind::RangeDel;
        }
        if all_points && ordered {
            return CarvedKind::Data;
        }
    }
    for first_key in [false, true] {
        for user_keys in [true, false] {
            let fmt = IndexFormat {
                user_keys,
                delta_values: true,
                first_key,
            };
            if let Ok(v) = decode_index_block(&contents, fmt) {
                let hs: Vec<_> = v.iter().map(|e| Some(e.handle)).collect();
                if !v.is_empty() && handles_plausible(&hs, off, starts) {
                    return CarvedKind::Index;
                }
            }
        }
    }
    CarvedKind::Other
}

/// The uncompressed contents of a carved block, if they decompress.
fn carved_contents<'f>(
    file: &'f [u8],
    b: &CarvedBlock,
    flavor: Option<Flavor>,
    dict: Option<&[u8]>,
) -> Option<std::borrow::Cow<'f, [u8]>> {
    let data = &file[b.handle.offset as usize..(b.handle.offset + b.handle.size) as usize];
    let fl = flavor_of(b, flavor);
    let comp = Compression::from_byte(b.compression_byte, fl);
    compress::decompress(comp, data, fl, dict.unwrap_or(&[]), MAX_BLOCK_SIZE).ok()
}

/// Whether a carved block is evidence of raw keys (sst.md §14.1): a well-formed generic block with
/// entries, not a metaindex, properties or index block (keys named like meta blocks, or every value
/// a block handle), whose keys are strictly increasing taken whole, and at least one of which cannot
/// be an internal key.
fn raw_key_block(
    file: &[u8],
    b: &CarvedBlock,
    flavor: Option<Flavor>,
    dict: Option<&[u8]>,
    cmp: UserComparator,
) -> bool {
    let Some(contents) = carved_contents(file, b, flavor, dict) else {
        return false;
    };
    let Ok(mut it) = EntryIter::new(&contents, EntryFormat::Standard) else {
        return false;
    };
    let mut n = 0usize;
    let mut named = true;
    let mut all_handles = true;
    let mut not_internal = false;
    let mut prev: Vec<u8> = Vec::new();
    while let Some(e) = it.next() {
        let Ok(e) = e else {
            return false;
        };
        if n > 0 && cmp.compare_user(&prev, e.key) != Some(std::cmp::Ordering::Less) {
            return false;
        }
        n += 1;
        named &= std::str::from_utf8(e.key)
            .is_ok_and(|s| META_PREFIXES.iter().any(|p| s.starts_with(p)));
        all_handles &= exact_handle(e.value).is_some();
        // Range tombstones (0x0F) are internal keys too, of RocksDB's range-deletion block.
        not_internal |= ikey::parse(e.key).is_none_or(|p| {
            !ikey::is_table_point_type(p.vtype) && p.vtype != vtype::RANGE_DELETION
        });
        prev.clear();
        prev.extend_from_slice(e.key);
    }
    n > 0
        && !named
        && !all_handles
        && not_internal
        && it.bad_restarts == 0
        && it.unreached_restarts() == 0
}

/// Index values point backwards, in increasing order, at non-overlapping ranges of the file.
fn handles_plausible(
    hs: &[Option<BlockHandle>],
    block_offset: u64,
    starts: &HashSet<(u64, u64)>,
) -> bool {
    let mut prev_end = 0u64;
    let mut any_match = false;
    for h in hs.iter().flatten() {
        let end = h.offset.saturating_add(h.size).saturating_add(TRAILER_LEN);
        if h.offset < prev_end || end > block_offset {
            return false;
        }
        any_match |= starts.contains(&(h.offset, h.size));
        prev_end = end;
    }
    // One handle pointing exactly at a carved block settles it; otherwise the shape must hold for
    // at least two entries.
    any_match || hs.len() >= 2
}
