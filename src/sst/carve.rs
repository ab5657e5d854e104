//! Carving: finding the blocks of a table by scanning its bytes, for files whose footer, metaindex,
//! index or an index partition cannot be read, and for bare fragments. The method, its acceptance
//! rules and its cost bounds are in format-specs/carving.md; section numbers below refer to it.
//!
//! The scanner only says where blocks are and how far each is trusted. What a block holds (data,
//! index, properties ...) is decided by the caller from the block's contents.

use std::collections::HashMap;

use serde::Serialize;

use super::format::{BlockLayout, EntryFormat, EntryIter};
use super::handle::{BlockHandle, TRAILER_LEN};
use super::index::{decode_index_block, IndexFormat};
use super::table::KeyFormat;
use crate::codec::checksum::{self, ChecksumType};
use crate::codec::compress::{self, Compression, Flavor, MAX_BLOCK_SIZE};
use crate::codec::varint::{self, fixed32};
use crate::ikey::{self, UserComparator};

const TRAILER: usize = TRAILER_LEN as usize;

/// What the caller already knows about the file (from a readable footer or properties block).
#[derive(Clone, Copy, Debug)]
pub struct CarveHints<'a> {
    /// The footer's checksum type; `None` when the footer is lost (every type is tried, §3.1).
    pub checksum: Option<ChecksumType>,
    /// The footer's context-checksum base (0 = none); `None` when unknown (derived, §3.2).
    pub base_context: Option<u32>,
    /// How compressed payloads are framed; `None` when unknown (both framings are tried, §2.3).
    pub flavor: Option<Flavor>,
    /// Orders keys for the well-formedness test of unchecksummed candidates (§4).
    pub comparator: UserComparator,
    /// The table's compression dictionary, if known.
    pub dict: Option<&'a [u8]>,
    /// How keys are stored: a block of raw keys (sst.md §14.1) is a data block when they are in
    /// order (carving.md §7.2).
    pub keys: KeyFormat,
}

impl Default for CarveHints<'_> {
    fn default() -> Self {
        CarveHints {
            checksum: None,
            base_context: None,
            flavor: None,
            comparator: UserComparator::Bytewise,
            dict: None,
            keys: KeyFormat::Internal,
        }
    }
}

/// How far a carved block is trusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Trust {
    /// Its trailer checksum matches.
    Checksum,
    /// The file carries no checksums (type none): accepted because it decodes as a well-formed block
    /// with ordered keys. Its contents are unverified.
    StructureOnly,
    /// The file uses context checksums whose per-file base was lost with the footer, and no second
    /// block confirmed a base: accepted on structure alone. Unverified.
    BaseUnknown,
}

/// A block found by the scan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CarvedBlock {
    pub handle: BlockHandle,
    pub compression_byte: u8,
    pub trust: Trust,
    /// Compressed payloads framed with the RocksDB size prefix (format_version 2+).
    pub size_prefixed: bool,
}

/// A block whose extent is known from its own structure and from the block that follows it directly,
/// but whose trailer checksum does not match: damaged, with exact bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SuspectBlock {
    pub handle: BlockHandle,
    pub compression_byte: u8,
    pub stored: u32,
    pub computed: u32,
}

/// Everything the scan found in one byte range.
#[derive(Clone, Debug, Default)]
pub struct CarveOutcome {
    /// Accepted blocks, by offset.
    pub blocks: Vec<CarvedBlock>,
    /// Damaged blocks with exact extents, by offset.
    pub suspects: Vec<SuspectBlock>,
    /// The checksum type in force (given or learned).
    pub checksum: Option<ChecksumType>,
    /// The context-checksum base in force (given or learned).
    pub base_context: Option<u32>,
    /// Set when the work budget ran out: the scan stopped at this offset (§6).
    pub exhausted_at: Option<u64>,
}

/// A candidate block end: the trailer starts at `end`.
#[derive(Clone, Copy, Debug)]
struct Cand {
    end: usize,
    ctype: u8,
    size_prefixed: bool,
}

enum Judgement {
    Verified,
    /// No checksum matched, but the file's context base is unknown: each type implies a base, and
    /// a base implied by two blocks is the file's (§3.2).
    Pending(Vec<(ChecksumType, u32)>),
    /// The file has no checksums (known or inferred from a zero stored value).
    NoChecksum,
    Failed(u32, u32),
}

const ALL_TYPES: [ChecksumType; 4] = [
    ChecksumType::Crc32c,
    ChecksumType::XxHash,
    ChecksumType::XxHash64,
    ChecksumType::Xxh3,
];

/// Resynchronisation window when no block has been seen yet (§5).
const MIN_WINDOW: usize = 1 << 20;

struct Scanner<'f, 'h> {
    file: &'f [u8],
    hints: &'h CarveHints<'h>,
    checksum: Option<ChecksumType>,
    base: Option<u32>,
    /// The base was derived from two blocks, not read from a footer: offsets in the input may be
    /// shifted (a fragment), so a block that fails it is not thereby damaged (§3.2).
    base_derived: bool,
    flavor: Option<Flavor>,
    /// Derived (type, base) pairs and where the candidates that implied them end (trailer
    /// included) (§3.2).
    tally: HashMap<(ChecksumType, u32), Vec<usize>>,
    /// Compression bytes of accepted compressed blocks; once one is known only it (and none) is tried.
    seen_codec: Option<u8>,
    largest: usize,
    /// Candidate ends of uncompressed blocks, ascending, per chunk of [`ENDS_CHUNK`] bytes (§2.2);
    /// computed on first need (a file whose blocks are all compressed never needs them).
    ends: HashMap<usize, Vec<usize>>,
    range: (usize, usize),
    /// One raw-deflate decoder and output buffer, reset for each start (§2.3): a fresh decoder per
    /// byte offset allocated and cleared its window at every position of a garbage range.
    inflater: Option<Inflater>,
    work: u64,
    budget: u64,
}

/// Scan `file[start..end]` for blocks (§1-§6). Never panics and does bounded work.
pub fn carve(file: &[u8], start: u64, end: u64, hints: &CarveHints<'_>) -> CarveOutcome {
    let mut first = scan(file, start, end, hints, false);
    // Hints from a footer without its own checksum (format_version < 6) may be wrong: a flipped
    // checksum-type or format_version byte would make every block fail. If nothing verified under
    // them, scan again knowing nothing (§3.1).
    let verified = |o: &CarveOutcome| o.blocks.iter().any(|b| b.trust == Trust::Checksum);
    if (hints.checksum.is_some() || hints.flavor.is_some())
        && hints.checksum != Some(ChecksumType::None)
        && !verified(&first)
    {
        let blind = CarveHints {
            checksum: None,
            base_context: None,
            flavor: None,
            ..*hints
        };
        let again = carve(file, start, end, &blind);
        if verified(&again) {
            first = again;
        }
    }
    let first = first;
    // A context base learned from two blocks: scan again with it, so that blocks seen before it was
    // known (and rejected for not decoding on their own, e.g. for want of a dictionary) are verified
    // too (§3.2).
    if hints.base_context.is_none() {
        if let (Some(t), Some(b)) = (first.checksum, first.base_context) {
            if b != 0 {
                let again = CarveHints {
                    checksum: Some(t),
                    base_context: Some(b),
                    ..*hints
                };
                return scan(file, start, end, &again, true);
            }
        }
    }
    first
}

fn scan(
    file: &[u8],
    start: u64,
    end: u64,
    hints: &CarveHints<'_>,
    base_derived: bool,
) -> CarveOutcome {
    let end = (end.min(file.len() as u64)) as usize;
    let start = (start as usize).min(end);
    let span = (end - start) as u64;
    let mut sc = Scanner {
        file,
        hints,
        checksum: hints.checksum,
        base: hints.base_context,
        base_derived,
        flavor: hints.flavor,
        tally: HashMap::new(),
        seen_codec: None,
        largest: 0,
        ends: HashMap::new(),
        range: (start, end),
        inflater: None,
        work: 0,
        budget: work_budget(span),
    };
    let mut out = CarveOutcome::default();
    let mut s = start;
    let mut chained = false;
    while s + TRAILER < end {
        if sc.work > sc.budget {
            out.exhausted_at = Some(s as u64);
            break;
        }
        if !chained {
            s = skip_zero_pairs(file, s, end);
            if s + TRAILER >= end {
                break;
            }
        }
        // A damaged block that measures its own end becomes a suspect; the scan still goes on byte
        // by byte through it (a suspect measured from a wrong start may hide intact blocks), and it is
        // kept only if an accepted block starts right after it and none overlaps it.
        match sc.try_at(s, end, chained, &mut out) {
            Some(next) => {
                s = next;
                chained = true;
            }
            None => {
                s += 1;
                chained = false;
            }
        }
    }
    // A suspect is only damage with a known extent when an accepted block starts right after it.
    let starts: std::collections::HashSet<u64> =
        out.blocks.iter().map(|b| b.handle.offset).collect();
    out.suspects.retain(|x| {
        starts.contains(&x.handle.end_with_trailer(TRAILER_LEN))
            && !out.blocks.iter().any(|b| overlaps(b.handle, x.handle))
    });
    out.suspects.dedup_by_key(|x| x.handle.offset);
    sc.finish_pending(&mut out);
    sc.close_gaps(start, end, &mut out);
    out.checksum = sc.checksum;
    out.base_context = sc.base;
    out
}

/// Work allowed for a scan of `span` bytes (§6). Under `cfg(fuzzing)` it is far smaller, so one
/// fuzz input costs milliseconds, not seconds; the budget's exhaustion path is then exercised too.
fn work_budget(span: u64) -> u64 {
    if cfg!(fuzzing) {
        (16 << 10) + 8 * span
    } else {
        (64 << 20) + 64 * span
    }
}

fn overlaps(a: BlockHandle, b: BlockHandle) -> bool {
    let (a0, a1) = (a.offset, a.end_with_trailer(TRAILER_LEN));
    let (b0, b1) = (b.offset, b.end_with_trailer(TRAILER_LEN));
    a0 < b1 && b0 < a1
}

/// No block starts with two zero bytes (§5): skip runs of them quickly.
fn skip_zero_pairs(file: &[u8], mut s: usize, end: usize) -> usize {
    while s + 1 < end && file[s] == 0 && file[s + 1] == 0 {
        s += 1;
    }
    s
}

/// Every position `q` in `[start, end)` where an uncompressed block's trailer could begin: a zero
/// type byte, preceded by a block footer whose restart array is non-empty and starts with offset 0
/// (§2.2). Independent of where the block starts, so it is computed once per range.
fn uncompressed_ends(file: &[u8], start: usize, from: usize, end: usize) -> Vec<usize> {
    let mut v = Vec::new();
    let mut q = from.max(start + 8);
    while q + TRAILER <= end {
        if file[q] == 0 {
            if let Some(l) = BlockLayout::parse_opt(&file[start..q]) {
                let r0 = start + l.restarts_offset;
                if l.num_restarts >= 1 && fixed32(&file[r0..]) == 0 {
                    v.push(q);
                }
            }
        }
        q += 1;
    }
    v
}

/// The precomputed ends are built lazily in chunks of this many bytes.
const ENDS_CHUNK: usize = 1 << 20;

/// At most this many consistent ends are judged per start (§2.2): the true end is the first
/// consistent one unless the block is damaged.
const MAX_UNCOMPRESSED_CANDS: usize = 4;

impl Scanner<'_, '_> {
    fn prefixed_guess(&self) -> bool {
        !matches!(
            self.flavor,
            Some(Flavor::RocksDb {
                size_prefixed: false
            }) | Some(Flavor::LevelDb)
        )
    }

    fn window(&self, chained: bool, end: usize) -> usize {
        if chained {
            end
        } else {
            MIN_WINDOW.max(self.largest.saturating_mul(4))
        }
    }

    /// Try to accept a block starting at `s`. Returns the offset after it on success. Damaged blocks
    /// whose end could be measured are pushed to `out.suspects`.
    fn try_at(
        &mut self,
        s: usize,
        end: usize,
        chained: bool,
        out: &mut CarveOutcome,
    ) -> Option<usize> {
        if s + TRAILER >= end {
            return None;
        }
        let max_end = end.min(s.saturating_add(self.window(chained, end)));
        let mut cands: Vec<Cand> = Vec::new();
        self.measure_compressed(s, max_end, &mut cands);
        self.measure_uncompressed(s, max_end, &mut cands);
        let mut suspect: Option<SuspectBlock> = None;
        for c in cands {
            if c.end + TRAILER > end || self.file[c.end] != c.ctype {
                continue;
            }
            let handle = BlockHandle {
                offset: s as u64,
                size: (c.end - s) as u64,
            };
            let j = self.judge(s, c);
            let trust = match j {
                Judgement::Verified => Some(Trust::Checksum),
                Judgement::Pending(implied) => {
                    // Every measured candidate is a witness (it may not decode on its own, e.g. for
                    // want of a dictionary); acceptance still needs well-formed contents.
                    for tb in implied {
                        self.tally.entry(tb).or_default().push(c.end + TRAILER);
                    }
                    self.well_formed(s, c).then_some(Trust::BaseUnknown)
                }
                Judgement::NoChecksum => self.well_formed(s, c).then_some(Trust::StructureOnly),
                Judgement::Failed(stored, computed) => {
                    if suspect.is_none() {
                        suspect = Some(SuspectBlock {
                            handle,
                            compression_byte: c.ctype,
                            stored,
                            computed,
                        });
                    }
                    None
                }
            };
            if let Some(trust) = trust {
                if trust == Trust::Checksum && s == 0 {
                    // A block verified at offset 0 of the input: offsets are not shifted, so the
                    // learned base is the file's own and a mismatch is damage again (§3.2).
                    self.base_derived = false;
                }
                if c.ctype != 0 {
                    self.seen_codec = Some(c.ctype);
                    if self.flavor.is_none() {
                        self.flavor = Some(Flavor::RocksDb {
                            size_prefixed: c.size_prefixed,
                        });
                    }
                }
                self.largest = self.largest.max(c.end - s);
                out.blocks.push(CarvedBlock {
                    handle,
                    compression_byte: c.ctype,
                    trust,
                    size_prefixed: c.size_prefixed,
                });
                return Some(c.end + TRAILER);
            }
        }
        if let Some(x) = suspect {
            out.suspects.push(x);
        }
        None
    }

    /// Check the trailer of a candidate, learning the checksum type and context base (§3).
    fn judge(&mut self, s: usize, c: Cand) -> Judgement {
        let data = &self.file[s..c.end];
        let stored = fixed32(&self.file[c.end + 1..]);
        self.work += data.len() as u64;
        let one;
        let types: &[ChecksumType] = match self.checksum {
            Some(ChecksumType::None) => return Judgement::NoChecksum,
            Some(t) => {
                one = [t];
                &one
            }
            None => &ALL_TYPES,
        };
        let mut first_fail = None;
        let mut pending = Vec::new();
        for &t in types {
            let raw = checksum::compute(t, data, c.ctype);
            match self.base {
                Some(b) => {
                    let want = raw.wrapping_add(checksum::context_modifier(b, s as u64));
                    if want == stored {
                        self.checksum = Some(t);
                        return Judgement::Verified;
                    }
                    if self.base_derived {
                        let fold = (s as u32).wrapping_add(((s as u64) >> 32) as u32);
                        pending.push((t, stored.wrapping_sub(raw) ^ fold));
                    }
                    first_fail.get_or_insert((stored, want));
                }
                None => {
                    if raw == stored {
                        self.checksum = Some(t);
                        self.base = Some(0);
                        return Judgement::Verified;
                    }
                    // stored = raw + (base ^ fold(offset)): solve for the base (§3.2).
                    let fold = (s as u32).wrapping_add(((s as u64) >> 32) as u32);
                    let b = stored.wrapping_sub(raw) ^ fold;
                    // Confirmed only by a witness that ends exactly where this block starts: two
                    // adjacent blocks agreeing on a 32-bit base do not happen by chance.
                    if let Some(ends) = self.tally.get(&(t, b)) {
                        if ends.contains(&s) {
                            self.checksum = Some(t);
                            self.base = Some(b);
                            self.base_derived = b != 0;
                            return Judgement::Verified;
                        }
                    }
                    pending.push((t, b));
                    first_fail.get_or_insert((stored, raw));
                }
            }
        }
        if self.checksum.is_none() && stored == 0 {
            // Writers store 0 when the file has no checksums.
            return Judgement::NoChecksum;
        }
        if !pending.is_empty() {
            return Judgement::Pending(pending);
        }
        let (st, comp) = first_fail.unwrap_or((stored, 0));
        Judgement::Failed(st, comp)
    }

    /// Blocks accepted under a derived base before the base was confirmed: check them again now.
    fn finish_pending(&mut self, out: &mut CarveOutcome) {
        let (Some(t), Some(b)) = (self.checksum, self.base) else {
            return;
        };
        let file = self.file;
        let mut demoted = Vec::new();
        for blk in out
            .blocks
            .iter_mut()
            .filter(|x| x.trust == Trust::BaseUnknown)
        {
            let s = blk.handle.offset as usize;
            let e = s + blk.handle.size as usize;
            let stored = fixed32(&file[e + 1..]);
            let want = checksum::compute(t, &file[s..e], blk.compression_byte)
                .wrapping_add(checksum::context_modifier(b, s as u64));
            if want == stored {
                blk.trust = Trust::Checksum;
            } else if !self.base_derived {
                demoted.push(SuspectBlock {
                    handle: blk.handle,
                    compression_byte: blk.compression_byte,
                    stored,
                    computed: want,
                });
            }
        }
        if !demoted.is_empty() {
            let gone: std::collections::HashSet<u64> =
                demoted.iter().map(|d| d.handle.offset).collect();
            out.blocks.retain(|x| !gone.contains(&x.handle.offset));
            out.suspects.extend(demoted);
            out.suspects.sort_by_key(|x| x.handle.offset);
        }
    }

    /// A gap that ends where an accepted block (or the range) starts may be one intact block of a kind
    /// that is not in the generic block format (a filter, a dictionary): its trailer sits just before
    /// the next block. Accept it if that trailer's checksum covers the whole gap (§2.4).
    fn close_gaps(&mut self, start: usize, end: usize, out: &mut CarveOutcome) {
        let (Some(t), Some(b)) = (self.checksum, self.base) else {
            return;
        };
        if t == ChecksumType::None {
            return;
        }
        let mut bounds: Vec<(usize, usize)> = Vec::new();
        let mut prev = start;
        let mut taken: Vec<(usize, usize)> = out
            .blocks
            .iter()
            .map(|x| x.handle)
            .chain(out.suspects.iter().map(|x| x.handle))
            .map(|h| (h.offset as usize, h.end_with_trailer(TRAILER_LEN) as usize))
            .collect();
        taken.sort_unstable();
        for &(a, e) in &taken {
            if a > prev {
                bounds.push((prev, a));
            }
            prev = prev.max(e);
        }
        if end > prev {
            bounds.push((prev, end));
        }
        for (a, z) in bounds {
            if z < a + TRAILER || z - a - TRAILER > MAX_BLOCK_SIZE {
                continue;
            }
            let p = z - TRAILER;
            let ctype = self.file[p];
            let stored = fixed32(&self.file[p + 1..]);
            self.work += (p - a) as u64;
            let want = checksum::compute(t, &self.file[a..p], ctype)
                .wrapping_add(checksum::context_modifier(b, a as u64));
            if want == stored {
                out.blocks.push(CarvedBlock {
                    handle: BlockHandle {
                        offset: a as u64,
                        size: (p - a) as u64,
                    },
                    compression_byte: ctype,
                    trust: Trust::Checksum,
                    size_prefixed: self.prefixed_guess(),
                });
            }
        }
        out.blocks.sort_by_key(|x| x.handle.offset);
    }

    /// Uncompressed candidates: precomputed ends whose block footer is consistent with a block
    /// starting at `s` (§2.2).
    fn measure_uncompressed(&mut self, s: usize, max_end: usize, cands: &mut Vec<Cand>) {
        let f = self.file;
        // An uncompressed block starts with an entry that shares nothing and has a non-empty key.
        if f[s] != 0 {
            return;
        }
        match f.get(s + 1..max_end).and_then(varint::decode_u32) {
            Some((n, _)) if n > 0 => {}
            _ => return,
        }
        let (rs, re) = self.range;
        let mut found = Vec::new();
        let mut chunk = (s + 5 - rs) / ENDS_CHUNK;
        'chunks: loop {
            let c0 = rs + chunk * ENDS_CHUNK;
            if c0 >= re || c0 > max_end {
                break;
            }
            let ends = self
                .ends
                .entry(chunk)
                .or_insert_with(|| uncompressed_ends(f, rs, c0, (c0 + ENDS_CHUNK).min(re)));
            self.work += ENDS_CHUNK as u64 / 64;
            for &q in ends.iter().filter(|&&q| q > s + 4) {
                // Past twice the first consistent block's size nothing more is considered: a longer
                // "block" would have to contain the first one's tail by coincidence.
                let limit = found
                    .first()
                    .map_or(max_end, |&q1| max_end.min(q1 + (q1 - s)));
                if q > limit {
                    break 'chunks;
                }
                self.work += 16;
                if plausible_uncompressed(&f[s..q]) {
                    found.push(q);
                    if found.len() == MAX_UNCOMPRESSED_CANDS {
                        break 'chunks;
                    }
                }
            }
            chunk += 1;
        }
        cands.extend(found.into_iter().map(|q| Cand {
            end: q,
            ctype: 0,
            size_prefixed: true,
        }));
    }

    /// Compressed candidates: each codec's stream, parsed from `s`, says where it ends (§2.3).
    fn measure_compressed(&mut self, s: usize, max_end: usize, cands: &mut Vec<Cand>) {
        let f = &self.file[..max_end];
        let allow = |c: u8| match self.seen_codec {
            None => true,
            Some(x) => {
                x == c
                    || (x == 4 && c == 5)
                    || (x == 5 && c == 4)
                    || (x == 7 && c == 0x40)
                    || (x == 0x40 && c == 7)
            }
        };
        let leveldb = self.flavor == Some(Flavor::LevelDb);
        let dict_len = self.hints.dict.map_or(0, |d| d.len());
        let prefixed: &[bool] = match self.flavor {
            Some(Flavor::RocksDb { size_prefixed }) => {
                if size_prefixed {
                    &[true]
                } else {
                    &[false]
                }
            }
            Some(Flavor::LevelDb) => &[false],
            None => &[true, false],
        };
        let before = cands.len();
        if allow(1) {
            if let Some(e) = measure_snappy(f, s) {
                cands.push(Cand {
                    end: e,
                    ctype: 1,
                    size_prefixed: prefixed[0],
                });
            }
        }
        if !leveldb {
            for &pre in prefixed {
                let (u, x) = if pre {
                    match varint::decode_u32(&f[s..]) {
                        Some((u, n)) if u > 0 && (u as usize) <= MAX_BLOCK_SIZE => {
                            (Some(u as usize), s + n)
                        }
                        _ => continue,
                    }
                } else {
                    (None, s)
                };
                if (allow(4) || allow(5)) && u.is_some() == pre {
                    let lz = if pre {
                        u.map(|u| (u, x))
                    } else if x + 8 <= f.len() && fixed32(&f[x + 4..]) == 0 {
                        Some((fixed32(&f[x..]) as usize, x + 8))
                    } else {
                        None
                    };
                    if let Some((u, y)) = lz {
                        if u > 0 && u <= MAX_BLOCK_SIZE {
                            if let Some(e) = measure_lz4(f, y, u, dict_len) {
                                for t in [4u8, 5] {
                                    cands.push(Cand {
                                        end: e,
                                        ctype: t,
                                        size_prefixed: pre,
                                    });
                                }
                            }
                        }
                    }
                }
                // zstd carries the size prefix in every format_version (compression.md §4.6).
                let zx = match varint::decode_u32(&f[s..]) {
                    Some((u, n)) if u > 0 => s + n,
                    _ => usize::MAX,
                };
                if pre == prefixed[0]
                    && (allow(7) || allow(0x40))
                    && zx != usize::MAX
                    && f.len() >= zx + 4
                    && f[zx..zx + 4] == ZSTD_MAGIC
                {
                    let x = zx;
                    if let Ok(n) = zstd::zstd_safe::find_frame_compressed_size(&f[x..]) {
                        for t in [7u8, 0x40] {
                            cands.push(Cand {
                                end: x + n,
                                ctype: t,
                                size_prefixed: true,
                            });
                        }
                    }
                }
                if allow(2) {
                    let inf = self.inflater.get_or_insert_with(Inflater::new);
                    let end = measure_inflate(f, x, u, inf);
                    // Fixed-Huffman deflate accepts almost any bits, so on garbage a stream may run a
                    // long way before it fails: what was read counts as work even when no end is found.
                    self.work += inf.d.total_in();
                    if let Some(e) = end {
                        cands.push(Cand {
                            end: e,
                            ctype: 2,
                            size_prefixed: pre,
                        });
                    }
                }
                if allow(3) && f.len() >= x + 4 && &f[x..x + 3] == b"BZh" {
                    if let Some(e) = measure_bzip2(f, x, u) {
                        cands.push(Cand {
                            end: e,
                            ctype: 3,
                            size_prefixed: pre,
                        });
                    }
                }
            }
        }
        for c in &cands[before..] {
            self.work += (c.end - s) as u64;
        }
        self.work += 64;
    }

    /// Decompress and decode a candidate that has no checksum to vouch for it (§4).
    fn well_formed(&mut self, s: usize, c: Cand) -> bool {
        let data = &self.file[s..c.end];
        self.work += data.len() as u64;
        let flavor = match self.flavor {
            Some(Flavor::LevelDb) => Flavor::LevelDb,
            _ => Flavor::RocksDb {
                size_prefixed: c.size_prefixed,
            },
        };
        let comp = Compression::from_byte(c.ctype, flavor);
        let dicts: Vec<&[u8]> = match self.hints.dict {
            Some(d) => vec![&[], d],
            None => vec![&[]],
        };
        dicts.into_iter().any(|d| {
            compress::decompress(comp, data, flavor, d, MAX_BLOCK_SIZE)
                .is_ok_and(|b| well_formed_block(&b, self.hints.comparator))
        })
    }
}

const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// Whether `b` (a block without trailer, starting where the scan assumes) has a consistent footer,
/// restart array and final run of entries (§2.2).
fn plausible_uncompressed(b: &[u8]) -> bool {
    let Some(l) = BlockLayout::parse_opt(b) else {
        return false;
    };
    let n = l.num_restarts as usize;
    if n == 0 || l.keys_end == 0 {
        return false;
    }
    let mut prev = None;
    for i in 0..n {
        let r = l.restart(b, i as u32);
        // Every restart points at an entry that shares nothing: its first byte is 0.
        if r >= l.keys_end || prev.is_some_and(|p| r <= p) || (i == 0 && r != 0) || b[r] != 0 {
            return false;
        }
        prev = Some(r);
    }
    // The entries from the last restart must end exactly where the keys end.
    let mut p = prev.unwrap_or(0);
    let mut first = true;
    let mut guard = 0usize;
    while p < l.keys_end {
        guard += 1;
        if guard > 1 << 16 {
            return false;
        }
        let region = &b[..l.keys_end];
        let Some((shared, a)) = varint::decode_u32(&region[p..]) else {
            return false;
        };
        if first && shared != 0 {
            return false;
        }
        p += a;
        let Some((non_shared, a)) = varint::decode_u32(&region[p..]) else {
            return false;
        };
        p += a;
        let Some((vlen, a)) = varint::decode_u32(&region[p..]) else {
            return false;
        };
        p += a;
        if l.values_offset.is_some() {
            if first {
                match varint::decode_u32(&region[p..]) {
                    Some((_, a)) => p += a,
                    None => return false,
                }
            }
            p = p.saturating_add(non_shared as usize);
        } else {
            p = p
                .saturating_add(non_shared as usize)
                .saturating_add(vlen as usize);
        }
        first = false;
    }
    p == l.keys_end
}

/// Whether decoded block contents are a well-formed generic block: every entry decodes, restarts
/// point at fresh keys, and keys are in order (internal-key order under `cmp`, or plain bytewise
/// for metaindex, properties and user-key index blocks); or a delta-encoded index block (§4).
pub fn well_formed_block(b: &[u8], cmp: UserComparator) -> bool {
    if let Ok(mut it) = EntryIter::new(b, EntryFormat::Standard) {
        let mut prev: Option<Vec<u8>> = None;
        let mut ok = true;
        let mut internal_order = true;
        let mut bytewise_order = true;
        let mut n = 0;
        while let Some(e) = it.next() {
            let Ok(e) = e else {
                ok = false;
                break;
            };
            n += 1;
            if let Some(p) = &prev {
                if cmp.compare_internal(p, e.key) == Some(std::cmp::Ordering::Greater)
                    || ikey::parse(e.key).is_none()
                {
                    internal_order = false;
                }
                if p.as_slice() >= e.key {
                    bytewise_order = false;
                }
            }
            prev = Some(e.key.to_vec());
        }
        if ok && n > 0 && it.bad_restarts == 0 && it.unreached_restarts() == 0 {
            return internal_order || bytewise_order;
        }
    }
    for first_key in [false, true] {
        let fmt = IndexFormat {
            user_keys: true,
            delta_values: true,
            first_key,
        };
        if let Ok(v) = decode_index_block(b, fmt) {
            if !v.is_empty()
                && v.windows(2)
                    .all(|w| w[0].handle.offset < w[1].handle.offset)
            {
                return true;
            }
        }
    }
    false
}

/// The end of a raw Snappy stream starting at `s` (its own length varint first), if it parses.
fn measure_snappy(f: &[u8], s: usize) -> Option<usize> {
    let (u, n) = varint::decode_u32(f.get(s..)?)?;
    let u = u as usize;
    if u == 0 || u > MAX_BLOCK_SIZE {
        return None;
    }
    let mut i = s + n;
    let mut out = 0usize;
    while out < u {
        let tag = *f.get(i)?;
        i += 1;
        let (len, off) = match tag & 3 {
            0 => {
                let l = (tag >> 2) as usize;
                let len = if l < 60 {
                    l + 1
                } else {
                    let nb = l - 59;
                    let b = f.get(i..i + nb)?;
                    i += nb;
                    let mut v = 0usize;
                    for (k, &x) in b.iter().enumerate() {
                        v |= (x as usize) << (8 * k);
                    }
                    v + 1
                };
                i = i.checked_add(len)?;
                if i > f.len() {
                    return None;
                }
                out += len;
                if out > u {
                    return None;
                }
                continue;
            }
            1 => {
                let len = 4 + ((tag >> 2) & 7) as usize;
                let off = (((tag >> 5) as usize) << 8) | *f.get(i)? as usize;
                i += 1;
                (len, off)
            }
            2 => {
                let b = f.get(i..i + 2)?;
                i += 2;
                (
                    (tag >> 2) as usize + 1,
                    u16::from_le_bytes([b[0], b[1]]) as usize,
                )
            }
            _ => {
                let b = f.get(i..i + 4)?;
                i += 4;
                ((tag >> 2) as usize + 1, fixed32(b) as usize)
            }
        };
        if off == 0 || off > out {
            return None;
        }
        out += len;
        if out > u {
            return None;
        }
    }
    Some(i)
}

/// The end of an LZ4 block starting at `x` that expands to exactly `u` bytes, if it parses.
fn measure_lz4(f: &[u8], x: usize, u: usize, dict_len: usize) -> Option<usize> {
    let mut i = x;
    let mut out = 0usize;
    let ext = |i: &mut usize, mut v: usize| -> Option<usize> {
        loop {
            let b = *f.get(*i)?;
            *i += 1;
            v = v.checked_add(b as usize)?;
            if b != 255 {
                return Some(v);
            }
        }
    };
    loop {
        let token = *f.get(i)?;
        i += 1;
        let mut lit = (token >> 4) as usize;
        if lit == 15 {
            lit = ext(&mut i, lit)?;
        }
        i = i.checked_add(lit)?;
        if i > f.len() {
            return None;
        }
        out = out.checked_add(lit)?;
        if out == u {
            return Some(i);
        }
        if out > u {
            return None;
        }
        let b = f.get(i..i + 2)?;
        i += 2;
        let off = u16::from_le_bytes([b[0], b[1]]) as usize;
        if off == 0 || off > out + dict_len {
            return None;
        }
        let mut ml = (token & 15) as usize;
        if ml == 15 {
            ml = ext(&mut i, ml)?;
        }
        out = out.checked_add(ml + 4)?;
        if out > u {
            return None;
        }
    }
}

/// A reusable raw-deflate decoder with its output buffer (the output is only counted).
struct Inflater {
    d: flate2::Decompress,
    buf: Vec<u8>,
}

impl Inflater {
    fn new() -> Self {
        Inflater {
            d: flate2::Decompress::new(false),
            buf: vec![0; 8 << 10],
        }
    }
}

/// The end of a raw deflate stream at `x`; `u` (when known) bounds the output.
fn measure_inflate(f: &[u8], x: usize, u: Option<usize>, inf: &mut Inflater) -> Option<usize> {
    use flate2::{FlushDecompress, Status};
    let first = *f.get(x)?;
    match (first >> 1) & 3 {
        3 => return None, // reserved block type
        0 => {
            // A stored block: LEN and its complement NLEN follow the header byte.
            let b = f.get(x + 1..x + 5)?;
            if b[0] != !b[2] || b[1] != !b[3] {
                return None;
            }
        }
        _ => {}
    }
    let limit = u.unwrap_or(MAX_BLOCK_SIZE) as u64;
    let Inflater { d, buf } = inf;
    d.reset(false);
    loop {
        let (in0, out0) = (d.total_in(), d.total_out());
        let i = x + in0 as usize;
        let st = d.decompress(&f[i..], buf, FlushDecompress::None).ok()?;
        if d.total_out() > limit {
            return None;
        }
        if st == Status::StreamEnd {
            if u.is_some_and(|u| u as u64 != d.total_out()) {
                return None;
            }
            return Some(x + d.total_in() as usize);
        }
        if d.total_in() == in0 && d.total_out() == out0 {
            return None; // input exhausted before the end of the stream
        }
    }
}

/// The end of a bzip2 stream at `x`; `u` (when known) bounds the output.
fn measure_bzip2(f: &[u8], x: usize, u: Option<usize>) -> Option<usize> {
    use bzip2::{Decompress, Status};
    let limit = u.unwrap_or(MAX_BLOCK_SIZE) as u64;
    let mut d = Decompress::new(false);
    let mut buf = [0u8; 8 << 10];
    let mut stalls = 0;
    loop {
        let i = x + d.total_in() as usize;
        let (in0, out0) = (d.total_in(), d.total_out());
        let st = d.decompress(&f[i..], &mut buf).ok()?;
        if d.total_out() > limit {
            return None;
        }
        if st == Status::StreamEnd {
            if u.is_some_and(|u| u as u64 != d.total_out()) {
                return None;
            }
            return Some(x + d.total_in() as usize);
        }
        if d.total_in() == in0 && d.total_out() == out0 {
            stalls += 1;
            if stalls > 2 {
                return None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snappy_and_lz4_measures_find_the_stream_end() {
        let data: Vec<u8> = (0..5000u32).flat_map(|i| (i % 97).to_le_bytes()).collect();
        let sn = snap::raw::Encoder::new().compress_vec(&data).unwrap();
        let mut f = sn.clone();
        f.extend_from_slice(b"tail bytes");
        assert_eq!(measure_snappy(&f, 0), Some(sn.len()));
        let lz = lz4_flex::block::compress(&data);
        let mut f = lz.clone();
        f.extend_from_slice(&[0xff; 9]);
        assert_eq!(measure_lz4(&f, 0, data.len(), 0), Some(lz.len()));
        assert_eq!(measure_lz4(&f, 0, data.len() + 1, 0), None);
        // Garbage does not parse as either.
        assert_eq!(measure_snappy(&[0x05, 0x01, 0x00], 0), None);
    }

    #[test]
    fn inflate_measure_ends_at_stream_end() {
        use std::io::Write;
        let data = b"abcabcabcabc hello hello hello".repeat(50);
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(&data).unwrap();
        let z = e.finish().unwrap();
        let mut f = z.clone();
        f.extend_from_slice(&[1, 2, 3, 4, 5]);
        // One decoder serves every call: a failed or finished measure leaves nothing behind.
        let mut inf = Inflater::new();
        assert_eq!(measure_inflate(&f, 1, None, &mut inf), None);
        assert_eq!(
            measure_inflate(&f, 0, Some(data.len()), &mut inf),
            Some(z.len())
        );
        assert_eq!(measure_inflate(&f, 0, None, &mut inf), Some(z.len()));
        assert_eq!(measure_inflate(&f, 0, Some(data.len() - 1), &mut inf), None);
        assert_eq!(
            measure_inflate(&f, 0, Some(data.len()), &mut inf),
            Some(z.len())
        );
    }
}
