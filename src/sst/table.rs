//! The table reader: from the footer to the metaindex, properties, index (single or partitioned)
//! and the list of data blocks; plus decoding of data and range-deletion blocks into entries.
//! See format-specs/sst.md §2 (layout), §12 (range deletions), §13 (dictionary), §14 (LevelDB).

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::block::{read_raw, BlockCtx};
use super::footer::{self, Footer, TableMagic};
use super::format::{EntryFormat, EntryIter, FormatError};
use super::handle::{BlockHandle, TRAILER_LEN};
use super::index::{decode_index_block, decode_metaindex, IndexEntry, IndexFormat, IndexType};
use super::properties::{Properties, GLOBAL_SEQNO};
use crate::codec::checksum::{self, ChecksumType};
use crate::codec::compress::Flavor;
use crate::codec::hash::{legacy_hash, DATA_BLOCK_HASH_SEED};
use crate::error::{Error, ErrorKind, Result};
use crate::ikey::{self, UserComparator};

/// Which writer family produced the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TableFormat {
    RocksDb,
    LevelDb,
}

/// How the keys of a table's data and index blocks are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyFormat {
    /// Internal keys: user key followed by the 8-byte sequence/type trailer (internal-key.md §1).
    Internal,
    /// Raw user keys with no trailer: a LevelDB table written through `leveldb::TableBuilder`
    /// directly (format-specs/sst.md §14.1). Read as puts with sequence number 0.
    Raw,
}

/// What a block is for. Used by layout listings and damage reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockKind {
    Data,
    Index,
    IndexPartition,
    Filter,
    FilterPartition,
    FilterPartitionIndex,
    RangeDel,
    Properties,
    CompressionDict,
    HashIndexPrefixes,
    HashIndexMetadata,
    UserDefinedIndex,
    OtherMeta,
    Metaindex,
    Footer,
    /// Bytes between blocks that no block accounts for (padding, or unexplained).
    Gap,
}

impl BlockKind {
    pub fn name(&self) -> &'static str {
        match self {
            BlockKind::Data => "data",
            BlockKind::Index => "index",
            BlockKind::IndexPartition => "index partition",
            BlockKind::Filter => "filter",
            BlockKind::FilterPartition => "filter partition",
            BlockKind::FilterPartitionIndex => "filter partition index",
            BlockKind::RangeDel => "range-del",
            BlockKind::Properties => "properties",
            BlockKind::CompressionDict => "compression dict",
            BlockKind::HashIndexPrefixes => "hash index prefixes",
            BlockKind::HashIndexMetadata => "hash index metadata",
            BlockKind::UserDefinedIndex => "user-defined index",
            BlockKind::OtherMeta => "meta",
            BlockKind::Metaindex => "metaindex",
            BlockKind::Footer => "footer",
            BlockKind::Gap => "gap",
        }
    }
}

/// Kind of a metaindex entry, by its name.
pub fn meta_kind(name: &str) -> BlockKind {
    match name {
        "rocksdb.properties" | "rocksdb.stats" => BlockKind::Properties,
        "rocksdb.range_del" => BlockKind::RangeDel,
        "rocksdb.compression_dict" => BlockKind::CompressionDict,
        "rocksdb.index" => BlockKind::Index,
        "rocksdb.hashindex.prefixes" => BlockKind::HashIndexPrefixes,
        "rocksdb.hashindex.metadata" => BlockKind::HashIndexMetadata,
        n if n.starts_with("fullfilter.") || n.starts_with("filter.") => BlockKind::Filter,
        n if n.starts_with("partitionedfilter.") => BlockKind::FilterPartitionIndex,
        n if n.starts_with("rocksdb.user_defined_index.") => BlockKind::UserDefinedIndex,
        _ => BlockKind::OtherMeta,
    }
}

/// A data block as the index knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataBlockRef {
    pub handle: BlockHandle,
    /// The index separator for this block (user key or internal key per [`IndexFormat`]).
    pub separator: Vec<u8>,
    /// kBinarySearchWithFirstKey: the block's first internal key as recorded in the index.
    pub first_key: Option<Vec<u8>>,
    /// Index of the index partition that lists this block (two-level index).
    pub partition: Option<u32>,
}

/// One point entry of a data block, borrowing the decoded block.
#[derive(Clone, Copy, Debug)]
pub struct PointEntry<'k, 'b> {
    pub internal_key: &'k [u8],
    pub user_key: &'k [u8],
    /// Sequence number as RocksDB reads it (the global seqno of an ingested file replaces a stored 0).
    pub seq: u64,
    pub vtype: u8,
    pub value: &'b [u8],
    /// Offset of the entry within the uncompressed block.
    pub pos: usize,
    /// The stored key is a raw user key (no trailer): `seq` is 0 and `vtype` is a put by
    /// convention, not read from the file (format-specs/sst.md §14.1).
    pub raw_key: bool,
}

/// What decoding a data block noticed besides its entries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BlockAux {
    /// Restart offsets that do not point at an entry with `shared == 0`.
    pub bad_restarts: u32,
    /// Keys whose hash bucket names neither their restart interval nor a collision.
    pub hash_mismatches: u32,
}

/// One entry of [`Table::block_map`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MappedBlock<'t> {
    pub kind: BlockKind,
    pub handle: BlockHandle,
    pub label: BlockLabel<'t>,
}

/// What distinguishes a block from others of its kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockLabel<'t> {
    None,
    /// Position among blocks of its kind (data block #i, partition #i).
    Ordinal(u32),
    /// The top level of a partitioned index.
    TopLevel,
    /// The block's name in the metaindex.
    Meta(&'t str),
}

impl std::fmt::Display for BlockLabel<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BlockLabel::None => Ok(()),
            BlockLabel::Ordinal(i) => write!(f, "#{i}"),
            BlockLabel::TopLevel => f.write_str("top level"),
            BlockLabel::Meta(n) => f.write_str(n),
        }
    }
}

/// A range tombstone from the range-deletion block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RangeTombstone {
    pub start: Vec<u8>,
    pub end: Vec<u8>,
    pub seq: u64,
}

/// A non-fatal problem found while opening (the table is still usable).
pub type Problem = Error;

/// An opened table over a file image. Opening reads the footer, metaindex, properties and index;
/// data blocks are read on demand.
pub struct Table<'a> {
    pub path: PathBuf,
    file: &'a [u8],
    pub format: TableFormat,
    pub footer: Footer,
    pub ctx: BlockCtx,
    pub metaindex: Vec<(String, BlockHandle)>,
    pub properties: Option<Properties>,
    pub properties_handle: Option<BlockHandle>,
    /// Set when the properties block only verified with the global seqno zeroed (rewritten at ingestion).
    pub properties_seqno_rewritten: bool,
    pub index_handle: BlockHandle,
    pub index_type: IndexType,
    pub index_format: IndexFormat,
    pub comparator_name: Option<String>,
    pub comparator: UserComparator,
    pub global_seqno: Option<u64>,
    /// Internal keys, or (LevelDB tables written through the table API) raw user keys.
    pub key_format: KeyFormat,
    dict: Option<&'a [u8]>,
    /// For a two-level index: each partition's handle and, if readable, how many data blocks it
    /// lists (their entries are in `data_blocks`).
    pub partitions: Vec<(BlockHandle, std::result::Result<usize, Error>)>,
    pub data_blocks: Vec<DataBlockRef>,
    /// False when the index (or the metaindex that locates it, or an index partition) could not be
    /// read: `data_blocks` then lists only part of the table, or nothing.
    pub index_complete: bool,
    /// The metaindex failed its checksum: its entries were used but may be wrong.
    pub metaindex_damaged: bool,
    pub problems: Vec<Problem>,
}

fn fmt_err(base: u64, what: &str, e: FormatError, compressed: bool) -> Error {
    if compressed {
        Error::corrupt(
            base,
            format!(
                "{what}: {} (at byte {} of the uncompressed block)",
                e.msg, e.pos
            ),
        )
    } else {
        Error::corrupt(base + e.pos as u64, format!("{what}: {}", e.msg))
    }
}

impl<'a> Table<'a> {
    /// Open a table from a whole-file image.
    pub fn open(file: &'a [u8], path: &Path) -> Result<Table<'a>> {
        Self::open_inner(file, path).map_err(|e| e.in_file(path))
    }

    fn open_inner(file: &'a [u8], path: &Path) -> Result<Table<'a>> {
        let footer = footer::decode(file)?;
        let mut problems = Vec::new();
        if let Some(c) = footer.checksum {
            if c.stored != c.computed {
                problems.push(Error::new(
                    footer.offset,
                    ErrorKind::Checksum {
                        ctype: footer.checksum_type,
                        stored: c.stored,
                        computed: c.computed,
                    },
                ));
            }
        }
        // A footer before format_version 6 has no checksum of its own, so a damaged checksum-type
        // byte would make every block look corrupt (or, flipped to "none", unverifiable). The
        // metaindex trailer tells: if it matches another type and not the named one, use that.
        let mut footer = footer;
        if footer.checksum.is_none() {
            // Both the metaindex and the index trailer must agree (a damaged handle alone points
            // at bytes that match nothing, or "none" by chance).
            let raws: Vec<_> = [Some(footer.metaindex), footer.index]
                .into_iter()
                .flatten()
                .filter_map(|h| read_raw(file, h, "block").ok())
                .collect();
            let matches = |t: ChecksumType| {
                raws.len() == 2
                    && raws.iter().all(|raw| {
                        if t == ChecksumType::None {
                            raw.stored_checksum == 0
                        } else {
                            checksum::compute(t, raw.data, raw.compression_byte)
                                == raw.stored_checksum
                        }
                    })
            };
            let named_fails = raws.len() == 2
                && raws.iter().all(|raw| {
                    let t = footer.checksum_type;
                    if t == ChecksumType::None {
                        raw.stored_checksum != 0
                    } else {
                        checksum::compute(t, raw.data, raw.compression_byte) != raw.stored_checksum
                    }
                });
            if named_fails {
                let others = [
                    ChecksumType::Crc32c,
                    ChecksumType::XxHash,
                    ChecksumType::XxHash64,
                    ChecksumType::Xxh3,
                    ChecksumType::None,
                ];
                if let Some(t) = others.into_iter().find(|&t| matches(t)) {
                    problems.push(Error::corrupt(
                        footer.offset,
                        format!(
                            "the footer names checksum type {} but the blocks carry {t} checksums: \
                             the footer is damaged ({t} is used)",
                            footer.checksum_type
                        ),
                    ));
                    footer.checksum_type = t;
                }
            }
        }
        // The metaindex is never compressed; read it with a provisional flavor.
        let provisional = BlockCtx {
            checksum_type: footer.checksum_type,
            base_context_checksum: footer.base_context_checksum,
            flavor: Flavor::RocksDb {
                size_prefixed: footer.format_version >= 2,
            },
        };
        let legacy = footer.magic == TableMagic::LegacyBlockBased;
        // A metaindex that cannot be read leaves the table without properties and (fv6+) without an
        // index: still opened, so that salvage can carve (format-specs/carving.md §7).
        let mut metaindex_damaged = false;
        let metaindex = match read_metaindex(file, &footer, &provisional, legacy) {
            Ok((m, problem)) => {
                metaindex_damaged = problem.is_some();
                problems.extend(problem);
                m
            }
            Err(e) => {
                problems.push(e);
                Vec::new()
            }
        };
        let find = |name: &str| metaindex.iter().find(|(n, _)| n == name).map(|(_, h)| *h);
        let props_handle = find("rocksdb.properties").or_else(|| find("rocksdb.stats"));
        let format = if legacy && props_handle.is_none() {
            TableFormat::LevelDb
        } else {
            TableFormat::RocksDb
        };
        let ctx = BlockCtx {
            flavor: if format == TableFormat::LevelDb {
                Flavor::LevelDb
            } else {
                provisional.flavor
            },
            ..provisional
        };

        let mut properties = None;
        let mut properties_seqno_rewritten = false;
        if let Some(h) = props_handle {
            match read_properties(file, h, &ctx) {
                // A properties block that fails its checksum is not used: its index type, key
                // format and comparator would steer every later read (the problem is reported).
                Ok((p, rewritten, problem)) => match problem {
                    None => {
                        properties = Some(p);
                        properties_seqno_rewritten = rewritten;
                    }
                    Some(e) => problems.push(e),
                },
                Err(e) => problems.push(e),
            }
        }
        let props = properties.as_ref();
        let index_handle = match footer.index.or_else(|| find("rocksdb.index")) {
            Some(h) => h,
            None => {
                if !metaindex.is_empty() {
                    problems.push(Error::corrupt(
                        footer.metaindex.offset,
                        "metaindex has no rocksdb.index entry (format_version 6+)",
                    ));
                }
                BlockHandle::default()
            }
        };
        let index_type = IndexType::from_u32(props.map_or(0, |p| p.index_type()));
        let index_format = IndexFormat {
            user_keys: props.is_some_and(|p| p.index_key_is_user_key()),
            delta_values: props.is_some_and(|p| p.index_value_is_delta_encoded()),
            first_key: index_type == IndexType::BinarySearchWithFirstKey,
        };
        let comparator_name = props.and_then(|p| p.text("rocksdb.comparator"));
        let comparator = match &comparator_name {
            Some(n) => UserComparator::from_name(n),
            None => UserComparator::Bytewise,
        };
        let global_seqno = props.and_then(|p| p.global_seqno());
        let dict = match find("rocksdb.compression_dict") {
            Some(h) => match read_raw(file, h, "compression dictionary") {
                // A damaged dictionary would make every data block decompress to wrong bytes that
                // no data-block checksum catches (those cover the compressed bytes): never use one.
                Ok(raw) => match raw.verify(&ctx) {
                    Ok(()) => Some(raw.data),
                    Err(e) => {
                        problems.push(e);
                        None
                    }
                },
                Err(e) => {
                    problems.push(e);
                    None
                }
            },
            None => None,
        };

        let mut t = Table {
            path: path.to_path_buf(),
            file,
            format,
            footer,
            ctx,
            metaindex,
            properties,
            properties_handle: props_handle,
            properties_seqno_rewritten,
            index_handle,
            index_type,
            index_format,
            comparator_name,
            comparator,
            global_seqno,
            key_format: KeyFormat::Internal,
            dict,
            partitions: Vec::new(),
            data_blocks: Vec::new(),
            index_complete: true,
            metaindex_damaged,
            problems,
        };
        if let IndexType::Unknown(x) = index_type {
            return Err(Error::unsupported(
                index_handle.offset,
                format!("index type {x}"),
            ));
        }
        if index_handle.is_null() {
            t.index_complete = false;
            return Ok(t);
        }
        let top = match t.read_index(index_handle, "index block") {
            Ok(top) => top,
            Err(e) => {
                t.problems.push(e);
                t.index_complete = false;
                return Ok(t);
            }
        };
        // Every block costs at least a 4-byte footer word and a 5-byte trailer, so a file cannot hold
        // more blocks than this; an index that lists more is hostile or garbage (and, for a
        // partitioned index, could otherwise multiply into an unbounded number of entries).
        let max_blocks = (file.len() / 9 + 1) as u64;
        let to_ref = |x: IndexEntry, partition: Option<u32>| DataBlockRef {
            handle: x.handle,
            separator: x.key,
            first_key: x.first_key,
            partition,
        };
        if index_type == IndexType::TwoLevel {
            for (pi, e) in top.iter().enumerate() {
                if t.data_blocks.len() as u64 > max_blocks {
                    return Err(Error::corrupt(
                        index_handle.offset,
                        format!(
                            "partitioned index lists more data blocks than a {}-byte file can hold",
                            file.len()
                        ),
                    ));
                }
                let part = match t.read_index(e.handle, "index partition") {
                    Ok(entries) => {
                        let n = entries.len();
                        t.data_blocks
                            .extend(entries.into_iter().map(|x| to_ref(x, Some(pi as u32))));
                        Ok(n)
                    }
                    Err(err) => {
                        t.problems.push(err.clone());
                        t.index_complete = false;
                        Err(err)
                    }
                };
                t.partitions.push((e.handle, part));
            }
        } else {
            t.data_blocks = top.into_iter().map(|x| to_ref(x, None)).collect();
        }
        if t.format == TableFormat::LevelDb {
            t.key_format = t.detect_key_format();
        }
        Ok(t)
    }

    /// Decide, once for the whole table, whether its keys are internal keys or raw user keys
    /// (format-specs/sst.md §14.1). Only LevelDB tables (legacy magic, no RocksDB properties) can
    /// hold raw keys. The evidence is every index key (the index verified its checksum when it was
    /// read) and every key of the first and the last data block that verify their checksum and
    /// decode: if any of them cannot be an internal key (shorter than 8 bytes, or a type byte no
    /// table holds), the table is raw. Per key, a raw key may end in 8 bytes that look like a valid
    /// trailer by accident; the table-wide decision reads such keys as raw too. An internal-key
    /// table never gives such evidence from blocks whose checksums hold, so it stays internal;
    /// a raw table whose sampled keys all happen to look internal is read as internal (the
    /// historical reading).
    fn detect_key_format(&self) -> KeyFormat {
        let internal_shape =
            |k: &[u8]| ikey::parse(k).is_some_and(|p| ikey::is_table_point_type(p.vtype));
        // A shortened separator carries the largest sequence number and the writer's
        // kValueTypeForSeek, which varies by version: any type is accepted there
        // (internal-key.md §5.5).
        let separator_shape = |k: &[u8]| {
            ikey::parse(k)
                .is_some_and(|p| p.seq == ikey::MAX_SEQ || ikey::is_table_point_type(p.vtype))
        };
        if self
            .data_blocks
            .iter()
            .any(|d| !separator_shape(&d.separator))
        {
            return KeyFormat::Raw;
        }
        let block_is_raw = |d: &DataBlockRef| -> Option<bool> {
            let contents = self.read_data_block(d.handle).ok()?;
            let mut it = EntryIter::new(&contents, EntryFormat::Standard).ok()?;
            let mut raw = false;
            let mut n = 0usize;
            while let Some(e) = it.next() {
                let e = e.ok()?;
                raw |= !internal_shape(e.key);
                n += 1;
            }
            (n > 0).then_some(raw)
        };
        let first = self
            .data_blocks
            .iter()
            .position(|d| block_is_raw(d).is_some());
        let last = self
            .data_blocks
            .iter()
            .rposition(|d| block_is_raw(d).is_some());
        let sampled: Vec<&DataBlockRef> = match (first, last) {
            (Some(a), Some(z)) if a != z => vec![&self.data_blocks[a], &self.data_blocks[z]],
            (Some(a), _) => vec![&self.data_blocks[a]],
            _ => Vec::new(),
        };
        if sampled.iter().any(|d| block_is_raw(d) == Some(true)) {
            return KeyFormat::Raw;
        }
        // Every sampled key looks internal: a bloom filter over whole keys still tells (§14.2).
        let says: Vec<Option<bool>> = sampled
            .iter()
            .map(|d| {
                let c = self.read_data_block(d.handle).ok()?;
                self.filter_says_raw(d.handle.offset, &c)
            })
            .collect();
        if says.contains(&Some(true)) && !says.contains(&Some(false)) {
            KeyFormat::Raw
        } else {
            KeyFormat::Internal
        }
    }

    /// What the table's LevelDB bloom filter block (checksum verified) says about the keys of the
    /// data block at `block_offset` with uncompressed `contents`: `Some(true)` built over the keys
    /// taken whole (raw keys), `Some(false)` built over their user-key part (internal keys), `None`
    /// when there is no filter or it cannot tell (format-specs/sst.md §14.2).
    pub fn filter_says_raw(&self, block_offset: u64, contents: &[u8]) -> Option<bool> {
        use super::leveldb_filter::{self as lf, FilterBlock};
        let (_, h) = self
            .metaindex
            .iter()
            .find(|(n, _)| n == lf::BLOOM_FILTER_META)?;
        let block = self.read_block(*h, "filter block").ok()?;
        let filter = FilterBlock::parse(&block)?.filter_for(block_offset)?;
        let mut it = EntryIter::new(contents, EntryFormat::Standard).ok()?;
        let mut keys: Vec<Vec<u8>> = Vec::new();
        while let Some(e) = it.next() {
            keys.push(e.ok()?.key.to_vec());
        }
        let keys: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
        lf::filter_says_raw(filter, &keys)
    }

    /// Order two keys as stored in this table's data blocks (internal or raw keys).
    pub fn compare_keys(&self, a: &[u8], b: &[u8]) -> Option<std::cmp::Ordering> {
        match self.key_format {
            KeyFormat::Internal => self.comparator.compare_internal(a, b),
            KeyFormat::Raw => self.comparator.compare_user(a, b),
        }
    }

    /// The user key of a stored key (an index separator or a data-block key).
    pub fn user_key_of<'k>(&self, k: &'k [u8]) -> &'k [u8] {
        match self.key_format {
            KeyFormat::Raw => k,
            KeyFormat::Internal => ikey::parse(k).map_or(k, |p| p.user_key),
        }
    }

    /// The whole file image.
    pub fn file(&self) -> &'a [u8] {
        self.file
    }

    /// Read, verify and decompress a non-data block.
    pub fn read_block(&self, h: BlockHandle, what: &'static str) -> Result<Cow<'a, [u8]>> {
        let raw = read_raw(self.file, h, what)?;
        raw.verify(&self.ctx)?;
        raw.contents(&self.ctx, &[])
    }

    /// Read, verify and decompress a data block (the compression dictionary applies).
    pub fn read_data_block(&self, h: BlockHandle) -> Result<Cow<'a, [u8]>> {
        let raw = read_raw(self.file, h, "data block")?;
        raw.verify(&self.ctx)?;
        raw.contents(&self.ctx, self.dict.unwrap_or(&[]))
    }

    /// The compression dictionary, if the table has one.
    pub fn compression_dict(&self) -> Option<&'a [u8]> {
        self.dict
    }

    fn read_index(&self, h: BlockHandle, what: &'static str) -> Result<Vec<IndexEntry>> {
        let raw = read_raw(self.file, h, what)?;
        raw.verify(&self.ctx)?;
        let compressed = raw.compression_byte != 0;
        let contents = raw.contents(&self.ctx, &[])?;
        decode_index_block(&contents, self.index_format)
            .map_err(|e| fmt_err(h.offset, what, e, compressed))
    }

    /// Decode an uncompressed data block, calling `f` for each entry in order. Returns what the
    /// decode noticed about the block's auxiliary structures (restart array, hash index).
    pub fn visit_data_block(
        &self,
        h: BlockHandle,
        contents: &[u8],
        f: impl FnMut(PointEntry<'_, '_>),
    ) -> Result<BlockAux> {
        let compressed = contents.as_ptr() != self.file.as_ptr().wrapping_add(h.offset as usize);
        decode_data_block(
            h.offset,
            contents,
            compressed,
            self.global_seqno,
            self.key_format,
            f,
        )
    }

    /// The range-deletion block's handle, if any.
    pub fn range_del_handle(&self) -> Option<BlockHandle> {
        self.metaindex
            .iter()
            .find(|(n, _)| n == "rocksdb.range_del")
            .map(|(_, h)| *h)
    }

    /// All range tombstones, in block order.
    pub fn range_tombstones(&self) -> Result<Vec<RangeTombstone>> {
        let Some(h) = self.range_del_handle() else {
            return Ok(Vec::new());
        };
        let contents = self
            .read_block(h, "range-deletion block")
            .map_err(|e| e.in_file(&self.path))?;
        decode_range_del_block(h.offset, &contents, self.global_seqno)
            .map_err(|e| e.in_file(&self.path))
    }

    /// Trailer length for this table's blocks.
    pub fn trailer_len(&self) -> u64 {
        TRAILER_LEN
    }

    /// Every block of the file that the structure accounts for, sorted by offset. Allocates one
    /// vector and nothing per block (audits of large files walk hundreds of thousands of blocks).
    pub fn block_map(&self) -> Vec<MappedBlock<'_>> {
        let mut v: Vec<MappedBlock<'_>> = Vec::with_capacity(
            self.data_blocks.len() + self.partitions.len() + self.metaindex.len() + 2,
        );
        let mb = |kind, handle, label| MappedBlock {
            kind,
            handle,
            label,
        };
        for (i, d) in self.data_blocks.iter().enumerate() {
            v.push(mb(BlockKind::Data, d.handle, BlockLabel::Ordinal(i as u32)));
        }
        if self.index_type == IndexType::TwoLevel {
            for (i, (h, _)) in self.partitions.iter().enumerate() {
                v.push(mb(
                    BlockKind::IndexPartition,
                    *h,
                    BlockLabel::Ordinal(i as u32),
                ));
            }
        }
        let top = if self.index_type == IndexType::TwoLevel {
            BlockLabel::TopLevel
        } else {
            BlockLabel::None
        };
        if !self.index_handle.is_null() {
            v.push(mb(BlockKind::Index, self.index_handle, top));
        }
        for (name, h) in &self.metaindex {
            let kind = meta_kind(name);
            if kind == BlockKind::Index && *h == self.index_handle {
                continue;
            }
            if kind == BlockKind::FilterPartitionIndex {
                if let Ok(entries) = self.read_index(*h, "filter partition index") {
                    for (i, e) in entries.iter().enumerate() {
                        v.push(mb(
                            BlockKind::FilterPartition,
                            e.handle,
                            BlockLabel::Ordinal(i as u32),
                        ));
                    }
                }
            }
            v.push(mb(kind, *h, BlockLabel::Meta(name)));
        }
        v.push(mb(
            BlockKind::Metaindex,
            self.footer.metaindex,
            BlockLabel::None,
        ));
        v.sort_by_key(|b| (b.handle.offset, b.handle.size));
        v
    }
}

/// Decode the entries of an uncompressed data block found at `offset` (errors carry absolute offsets
/// when the block was stored uncompressed). `global_seqno` replaces sequence number 0 (ingested files).
/// With [`KeyFormat::Raw`] every key is taken whole as the user key, a put with sequence number 0
/// (format-specs/sst.md §14.1).
pub fn decode_data_block(
    offset: u64,
    contents: &[u8],
    compressed: bool,
    global_seqno: Option<u64>,
    keys: KeyFormat,
    mut f: impl FnMut(PointEntry<'_, '_>),
) -> Result<BlockAux> {
    let mut aux = BlockAux::default();
    let mut it = EntryIter::new(contents, EntryFormat::Standard)
        .map_err(|e| fmt_err(offset, "data block", e, compressed))?;
    let has_hash = it.layout().hash_index;
    while let Some(e) = it.next() {
        let e = e.map_err(|e| fmt_err(offset, "data block", e, compressed))?;
        if keys == KeyFormat::Raw {
            f(PointEntry {
                internal_key: e.key,
                user_key: e.key,
                seq: 0,
                vtype: ikey::vtype::VALUE,
                value: e.value,
                pos: e.pos,
                raw_key: true,
            });
            continue;
        }
        let Some(p) = ikey::parse(e.key) else {
            let fe = FormatError {
                pos: e.pos,
                msg: format!(
                    "key of {} bytes is too short for an internal key",
                    e.key.len()
                ),
            };
            return Err(fmt_err(offset, "data block", fe, compressed));
        };
        let seq = match global_seqno {
            Some(g) if p.seq == 0 => g,
            _ => p.seq,
        };
        let key_hash = has_hash.then(|| legacy_hash(p.user_key, DATA_BLOCK_HASH_SEED));
        f(PointEntry {
            internal_key: e.key,
            user_key: p.user_key,
            seq,
            vtype: p.vtype,
            value: e.value,
            pos: e.pos,
            raw_key: false,
        });
        if let Some(kh) = key_hash {
            let buckets = it.layout().hash_buckets(it.block());
            let b = buckets[(kh % buckets.len() as u32) as usize];
            let interval = it.restart_interval();
            if b != 254 && b as u32 != interval {
                aux.hash_mismatches += 1;
            }
        }
    }
    aux.bad_restarts = it.bad_restarts + it.unreached_restarts();
    Ok(aux)
}

/// Decode the tombstones of an uncompressed range-deletion block found at `offset`.
pub fn decode_range_del_block(
    offset: u64,
    contents: &[u8],
    global_seqno: Option<u64>,
) -> Result<Vec<RangeTombstone>> {
    let what = "range-deletion block";
    let mut it = EntryIter::new(contents, EntryFormat::Standard)
        .map_err(|e| fmt_err(offset, what, e, false))?;
    let mut out = Vec::new();
    while let Some(e) = it.next() {
        let e = e.map_err(|e| fmt_err(offset, what, e, false))?;
        let p = ikey::parse(e.key).ok_or_else(|| {
            Error::corrupt(offset + e.pos as u64, "range tombstone key too short")
        })?;
        let seq = match global_seqno {
            Some(g) if p.seq == 0 => g,
            _ => p.seq,
        };
        out.push(RangeTombstone {
            start: p.user_key.to_vec(),
            end: e.value.to_vec(),
            seq,
        });
    }
    Ok(out)
}

/// Metaindex entries: block name and handle.
type Metaindex = Vec<(String, BlockHandle)>;

/// Read and verify the metaindex block. A checksum mismatch is returned as a problem alongside the
/// decoded entries (they are still the best guide to the table); undecodable contents are an error.
fn read_metaindex(
    file: &[u8],
    footer: &Footer,
    provisional: &BlockCtx,
    legacy: bool,
) -> Result<(Metaindex, Option<Error>)> {
    let mraw = read_raw(file, footer.metaindex, "metaindex block")?;
    let problem = mraw.verify(provisional).err();
    // RocksDB never compresses the metaindex; LevelDB compresses it like any block.
    let meta_contents: Cow<'_, [u8]> = if mraw.compression_byte == 0 {
        Cow::Borrowed(mraw.data)
    } else if legacy {
        let leveldb = BlockCtx {
            flavor: Flavor::LevelDb,
            ..*provisional
        };
        mraw.contents(&leveldb, &[])?
    } else {
        return Err(Error::corrupt(
            footer.metaindex.offset,
            format!(
                "metaindex block has compression type {} (RocksDB never compresses it)",
                mraw.compression_byte
            ),
        ));
    };
    let m = decode_metaindex(&meta_contents).map_err(|e| {
        fmt_err(
            footer.metaindex.offset,
            "metaindex",
            e,
            mraw.compression_byte != 0,
        )
    })?;
    Ok((m, problem))
}

/// Read the properties block. Returns the properties, whether the checksum only matched with the
/// global seqno zeroed, and a problem to report (checksum mismatch) if any.
fn read_properties(
    file: &[u8],
    h: BlockHandle,
    ctx: &BlockCtx,
) -> Result<(Properties, bool, Option<Error>)> {
    let raw = read_raw(file, h, "properties block")?;
    let contents = raw.contents(ctx, &[])?;
    let compressed = raw.compression_byte != 0;
    let props = Properties::parse(&contents)
        .map_err(|e| fmt_err(h.offset, "properties block", e, compressed))?;
    let check = raw.check(ctx);
    if ctx.checksum_type == ChecksumType::None || check.ok() {
        return Ok((props, false, None));
    }
    // SstFileWriter files may have had their global seqno rewritten in place at ingestion; RocksDB
    // accepts the block if the checksum matches with those 8 bytes zeroed.
    if let Some(p) = props.get_raw(GLOBAL_SEQNO) {
        if p.value.len() == 8 && !compressed && p.value_pos + 8 <= raw.data.len() {
            let mut copy = raw.data.to_vec();
            copy[p.value_pos..p.value_pos + 8].fill(0);
            let c = checksum::compute(ctx.checksum_type, &copy, raw.compression_byte).wrapping_add(
                checksum::context_modifier(ctx.base_context_checksum, h.offset),
            );
            if c == check.stored {
                return Ok((props, true, None));
            }
        }
    }
    let problem = Error::new(
        h.offset,
        ErrorKind::Checksum {
            ctype: ctx.checksum_type,
            stored: check.stored,
            computed: check.computed,
        },
    );
    Ok((props, false, Some(problem)))
}
