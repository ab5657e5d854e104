//! The streaming half of whole-database salvage (format-specs/manifest.md §5.7): every live table
//! is already sorted by internal key, so a column family's final state is a k-way merge over one
//! cursor per table, plus sorted runs for what is not sorted (WAL records, carved blocks). Nothing
//! that was sorted is written to scratch disk.
//!
//! A table cursor is opened lazily: until the merge reaches the smallest key the MANIFEST records
//! for the table, it waits as a placeholder at that key (beside the heap, entering it only when the
//! merge reaches the key), so only the tables that overlap the current key are decoded at once. Opening a table reads its range tombstones, and a
//! data block that fails registers the key range it may have held (from the last key of the readable
//! block before it to the first key of the readable block after it, as
//! [`crate::sst::salvage::FileReport`] bounds it), always before the merge resolves any key in that
//! range: a cursor is advanced as soon as its entry leaves the heap, and a key's versions are
//! resolved only once the heap has moved past the key.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap, VecDeque};
use std::fs::File;
use std::io::{self, BufReader, Read, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, Weak};

use crate::io::scratch::{read_framed, read_framed_within, write_framed};
use crate::io::Source;
use crate::sst::salvage::{FileReport, Method, Origin, Salvage, UnitOutcome};

use super::salvage::KeyFilter;
use crate::sst::table::KeyFormat;

/// One version of one key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Version1 {
    pub key: Vec<u8>,
    pub seq: u64,
    pub vtype: u8,
    pub value: Vec<u8>,
    /// No checksum vouches for it (a table with checksum type none, or a carved block).
    pub unverified: bool,
}

impl Ord for Version1 {
    fn cmp(&self, o: &Self) -> Ordering {
        self.key
            .cmp(&o.key)
            .then(o.seq.cmp(&self.seq))
            .then(o.vtype.cmp(&self.vtype))
    }
}
impl PartialOrd for Version1 {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

pub(super) fn write_version(w: &mut impl Write, v: &Version1) -> io::Result<()> {
    write_framed(w, &v.key)?;
    w.write_all(&v.seq.to_le_bytes())?;
    w.write_all(&[v.vtype, v.unverified as u8])?;
    write_framed(w, &v.value)
}

pub(super) fn read_version(r: &mut impl Read) -> io::Result<Option<Version1>> {
    let Some(key) = read_framed(r)? else {
        return Ok(None);
    };
    let mut seq = [0u8; 8];
    r.read_exact(&mut seq)?;
    let mut t = [0u8; 2];
    r.read_exact(&mut t)?;
    Ok(Some(Version1 {
        key,
        seq: u64::from_le_bytes(seq),
        vtype: t[0],
        value: read_framed_within(r)?,
        unverified: t[1] != 0,
    }))
}

/// User keys `[from, to]` a damaged block may have held (None = open end), and the sequence number
/// below which a surviving version is in doubt: `u64::MAX` for a lost data block (any version may
/// have been superseded), the table's largest sequence number for a lost range-deletion block (its
/// tombstones cannot cover anything newer).
pub(super) type LostRange = (Option<Vec<u8>>, Option<Vec<u8>>, u64);

/// A range tombstone: `[start, end)` at a sequence number.
pub(super) type Tombstone = (Vec<u8>, Vec<u8>, u64);

/// Whether a table can be read as a sorted stream: found whole through its footer and index, with
/// internal keys ordered bytewise and checksums that vouch for every block. Anything else (carved
/// blocks, raw LevelDB keys, another comparator, damage found while planning, no checksums) is
/// read into a sorted run instead.
pub(super) fn streamable(plan: &Salvage<'_>) -> bool {
    plan.method == Method::Index
        && plan.units.iter().all(|u| u.checksummed)
        && plan.unsupported().is_none()
        && plan.regions.is_empty()
        && plan.key_format == KeyFormat::Internal
        && plan
            .units
            .iter()
            .all(|u| matches!(u.origin, Origin::Indexed(_)))
        && plan.table.as_ref().is_some_and(|t| {
            t.index_complete && t.comparator == crate::ikey::UserComparator::Bytewise
        })
}

/// A table to stream, as the directory scan found it.
pub(super) struct StreamTable {
    /// Position in the directory's table order (for the report).
    pub pos: usize,
    pub path: PathBuf,
    pub src: Source,
    /// The MANIFEST's user-key bounds and largest sequence number, when it lists the table.
    pub lo: Option<Vec<u8>>,
    pub hi: Option<Vec<u8>>,
    pub largest_seqno: Option<u64>,
    pub listed: bool,
    pub column_family: Option<String>,
    /// Where the table's data lies in its key space, for splitting it into ranges ([`marks`]).
    pub marks: Vec<Mark>,
}

/// A table's data from a user key on: about this many bytes of data blocks start at or after the
/// key (and before the next mark's).
pub(super) type Mark = (Vec<u8>, u64);

/// How many [`Mark`]s a table keeps at most: enough to split a 64 MiB table into 4 MiB ranges,
/// few enough that a database of 100,000 tables holds them in a few tens of megabytes.
const MARKS_PER_TABLE: usize = 16;

/// Marks for a planned table: its data blocks in up to [`MARKS_PER_TABLE`] runs of about equal
/// bytes, each starting at the separator of the block before it (no key of the run is below
/// that separator's user key; the first run starts at `lo`, the table's smallest key, when known).
pub(super) fn marks(plan: &Salvage<'_>, lo: Option<&[u8]>) -> Vec<Mark> {
    let size = |u: &crate::sst::salvage::Unit| u.handle.size + crate::sst::handle::TRAILER_LEN;
    let total: u64 = plan.units.iter().map(size).sum();
    let step = total.div_ceil(MARKS_PER_TABLE as u64).max(1);
    let mut out: Vec<Mark> = Vec::new();
    let mut start = lo.map(<[u8]>::to_vec);
    let mut acc = 0u64;
    for (i, u) in plan.units.iter().enumerate() {
        acc += size(u);
        if acc >= step || i + 1 == plan.units.len() {
            if let Some(k) = start.take() {
                out.push((k, acc));
            }
            acc = 0;
            start = separator_user_key(plan, i);
        }
    }
    out
}

/// A part of the key space, merged on its own: user keys `[lo, hi)`, `None` = no bound.
#[derive(Clone, Debug, Default)]
pub(super) struct KeyRange {
    pub lo: Option<Vec<u8>>,
    pub hi: Option<Vec<u8>>,
}

impl KeyRange {
    fn below_hi(&self, k: &[u8]) -> bool {
        self.hi.as_ref().is_none_or(|h| k < h.as_slice())
    }
    fn at_or_above_lo(&self, k: &[u8]) -> bool {
        self.lo.as_ref().is_none_or(|l| k >= l.as_slice())
    }
}

/// Split a column family's key space into about `want` ranges of equal table bytes, at the keys
/// where the tables' data runs start ([`marks`]: the smallest keys the MANIFEST records and index
/// separators within the tables). One range when nothing marks the tables.
pub(super) fn split(tables: &[StreamTable], want: usize) -> Vec<KeyRange> {
    let mut starts: Vec<(&[u8], u64)> = tables
        .iter()
        .flat_map(|t| t.marks.iter().map(|(k, n)| (k.as_slice(), *n)))
        .collect();
    starts.sort();
    let total: u64 = starts.iter().map(|s| s.1).sum();
    let mut bounds: Vec<Vec<u8>> = Vec::new();
    if want > 1 && total > 0 {
        let mut acc = 0u64;
        let mut next = 1u64;
        for (lo, size) in &starts {
            if acc >= total * next / want as u64 {
                if bounds.last().is_none_or(|b| b.as_slice() < *lo) {
                    bounds.push(lo.to_vec());
                }
                while acc >= total * next / want as u64 {
                    next += 1;
                }
            }
            acc += size;
        }
    }
    let mut out = Vec::with_capacity(bounds.len() + 1);
    let mut lo = None;
    for b in bounds {
        out.push(KeyRange {
            lo,
            hi: Some(b.clone()),
        });
        lo = Some(b);
    }
    out.push(KeyRange { lo, hi: None });
    out
}

/// What a range's cursors decoded of one table, in a size that does not grow with the table: the
/// entries of the units the range accounts for, and the units that failed. A unit two ranges both
/// decode (at their common bound) is accounted for by the range that holds its first key, the only
/// one whose key range it starts in; every unit is decoded by that range (manifest.md §5.7).
#[derive(Clone, Debug, Default)]
pub(super) struct Tally {
    pub entries: u64,
    /// Entries no checksum vouches for.
    pub unverified: u64,
    /// Units that failed, by index (a unit at a bound may be reported by both ranges).
    pub errors: BTreeMap<u32, crate::error::Error>,
}

impl Tally {
    /// Add what another range found.
    pub fn absorb(&mut self, o: Tally) {
        self.entries += o.entries;
        self.unverified += o.unverified;
        for (u, e) in o.errors {
            self.errors.entry(u).or_insert(e);
        }
    }
}

/// What a range's merge learns while it runs, and what it may use to judge a key.
#[derive(Clone, Default)]
pub(super) struct Learned {
    pub tombstones: Vec<Tombstone>,
    pub lost: Vec<LostRange>,
    /// What the cursors decoded, per table (by index in the column family's stream list).
    pub tallies: BTreeMap<u32, Tally>,
    /// Bytes of units decoded (for progress; a unit at a bound may count twice).
    pub bytes_read: u64,
    /// When set, lost ranges found during the merge are also collected here, for the caller to
    /// pass on.
    pub fresh: Option<Vec<LostRange>>,
}

impl Learned {
    fn lose(&mut self, l: LostRange) {
        if let Some(f) = &mut self.fresh {
            f.push(l.clone());
        }
        self.lost.push(l);
    }

    /// Forget what cannot apply to keys at or after `key` (the merge only moves forward).
    pub fn prune(&mut self, key: &[u8]) {
        if self.tombstones.len() > 32 {
            self.tombstones.retain(|t| t.1.as_slice() > key);
        }
        if self.lost.len() > 32 {
            self.lost
                .retain(|l| l.1.as_ref().is_none_or(|to| to.as_slice() >= key));
        }
    }
}

/// The merge must start over with this table read into a sorted run: its entries are not in
/// order (a table no checksum protects, or a MANIFEST whose bounds are wrong).
#[derive(Debug)]
pub(super) struct Disorder(pub usize);

/// A table as the ranges reading it share it: its plan (footer and index decoded), its range
/// tombstones, and the key range a lost range-deletion block may have covered.
pub(super) struct Opened<'a> {
    plan: Salvage<'a>,
    tombstones: Vec<Tombstone>,
    lost: Option<LostRange>,
}

/// The tables the key ranges of one column family have open: a table is planned once for all the
/// ranges that read it at the same time, and dropped when the last of them is done with it (so
/// what is held stays bounded by the tables open at once, not the column family's size).
pub(super) struct Plans<'a> {
    slots: Vec<Mutex<Weak<Opened<'a>>>>,
}

impl<'a> Plans<'a> {
    pub fn new(tables: usize) -> Self {
        Plans {
            slots: (0..tables).map(|_| Mutex::new(Weak::new())).collect(),
        }
    }

    /// Table `idx`, planned unless a range holds it open.
    fn open(&self, idx: usize, t: &'a StreamTable) -> Arc<Opened<'a>> {
        let slot = self.slots.get(idx).map(|s| s.lock());
        if let Some(Ok(s)) = &slot {
            if let Some(o) = s.upgrade() {
                return o;
            }
        }
        let plan = Salvage::plan(t.src.bytes(), &t.path);
        let (ts, damage) = plan.range_tombstones();
        let tombstones = ts
            .iter()
            .map(|(x, _)| (x.start.clone(), x.end.clone(), x.seq))
            .collect();
        // The tombstones of a lost range-deletion block lie in the table's key range as the
        // MANIFEST records it and are no newer than its largest sequence number
        // (format-specs/damage-report.md §5.3).
        let lost = (!damage.is_empty()).then(|| {
            if t.listed {
                (
                    t.lo.clone(),
                    t.hi.clone(),
                    t.largest_seqno.unwrap_or(u64::MAX),
                )
            } else {
                (None, None, u64::MAX)
            }
        });
        let o = Arc::new(Opened {
            plan,
            tombstones,
            lost,
        });
        if let Some(Ok(mut s)) = slot {
            *s = Arc::downgrade(&o);
        }
        o
    }
}

/// A cursor over one table's entries of one key range, in key order.
struct TableCursor<'a, 'r> {
    t: &'a StreamTable,
    /// Index of the table in the column family's stream list.
    idx: usize,
    range: &'r KeyRange,
    plan: Option<Arc<Opened<'a>>>,
    next_unit: usize,
    buf: VecDeque<Version1>,
    opened: bool,
    /// An entry at or past the range's end was seen: nothing more to decode.
    ended: bool,
}

/// The user key of an index separator.
fn separator_user_key(plan: &Salvage<'_>, unit: usize) -> Option<Vec<u8>> {
    let t = plan.table.as_ref()?;
    let Origin::Indexed(j) = plan.units.get(unit)?.origin else {
        return None;
    };
    let sep = &t.data_blocks.get(j)?.separator;
    if t.index_format.user_keys {
        Some(sep.clone())
    } else {
        crate::ikey::parse(sep).map(|p| p.user_key.to_vec())
    }
}

impl<'a, 'r> TableCursor<'a, 'r> {
    fn new(t: &'a StreamTable, idx: usize, range: &'r KeyRange) -> Self {
        TableCursor {
            t,
            idx,
            range,
            plan: None,
            next_unit: 0,
            buf: VecDeque::new(),
            opened: false,
            ended: false,
        }
    }

    /// Whether the MANIFEST places the table wholly outside the range.
    fn outside(&self) -> bool {
        let (r, t) = (self.range, self.t);
        let below = matches!((&t.hi, &r.lo), (Some(h), Some(l)) if h < l);
        let above = matches!((&t.lo, &r.hi), (Some(l), Some(h)) if l >= h);
        below || above
    }

    /// Where the cursor stands in the heap before it is opened: the MANIFEST's smallest key, or the
    /// range's start if that is later. `None` for a table the MANIFEST does not bound.
    fn placeholder(&self) -> Option<Version1> {
        let lo = self.t.lo.as_ref()?;
        let key = match &self.range.lo {
            Some(r) if r > lo => r.clone(),
            _ => lo.clone(),
        };
        Some(Version1 {
            key,
            seq: u64::MAX,
            vtype: u8::MAX,
            value: Vec::new(),
            unverified: false,
        })
    }

    /// Plan the table (or share the plan another range holds), take its range tombstones and find
    /// the first unit that may hold keys of the range. (That its keys lie within its MANIFEST
    /// bounds was checked when the database was planned: a table that did not went to a sorted
    /// run.)
    fn open(&mut self, plans: &Plans<'a>, learned: &mut Learned) {
        self.opened = true;
        let opened = plans.open(self.idx, self.t);
        learned.tombstones.extend(opened.tombstones.iter().cloned());
        if let Some(l) = &opened.lost {
            learned.lose(l.clone());
        }
        // The first unit whose separator reaches the range, and the one before it: if that one is
        // lost, the keys it may have held can reach into the range (manifest.md §5.7).
        if let Some(lo) = &self.range.lo {
            let plan = &opened.plan;
            let (mut a, mut z) = (0, plan.units.len());
            while a < z {
                let mid = (a + z) / 2;
                if separator_user_key(plan, mid).is_some_and(|s| s < *lo) {
                    a = mid + 1;
                } else {
                    z = mid;
                }
            }
            self.next_unit = a.saturating_sub(1);
        }
        self.plan = Some(opened);
    }

    /// Decode units until one gives entries of the range (or the table or the range ends).
    fn fill(&mut self, learned: &mut Learned, filter: Option<&KeyFilter>) {
        let Some(opened) = &self.plan else { return };
        let plan = &opened.plan;
        while self.buf.is_empty() && !self.ended && self.next_unit < plan.units.len() {
            let i = self.next_unit;
            self.next_unit += 1;
            let mark = plan.units[i].unverified();
            let (buf, range, ended) = (&mut self.buf, self.range, &mut self.ended);
            // Whether this range accounts for the unit: it holds the unit's first key.
            let mut owned: Option<bool> = None;
            let r = plan.decode_unit(i, |e| {
                if owned.is_none() {
                    owned = Some(range.at_or_above_lo(e.user_key) && range.below_hi(e.user_key));
                }
                if *ended || !range.below_hi(e.user_key) {
                    *ended = true;
                    return;
                }
                if !range.at_or_above_lo(e.user_key)
                    || filter.is_some_and(|f| !f.wants_key(e.user_key))
                {
                    return;
                }
                buf.push_back(Version1 {
                    key: e.user_key.to_vec(),
                    seq: e.seq,
                    vtype: e.vtype,
                    value: e.value.to_vec(),
                    unverified: mark,
                });
            });
            if r.is_err() {
                // Entries the block gave before it failed stay, as when a table is read whole
                // (`Salvage::visit_entries`).
                learned.lose(lost_around(plan, i, self.t));
            }
            learned.bytes_read += plan.units[i].handle.size + crate::sst::handle::TRAILER_LEN;
            let tally = learned.tallies.entry(self.idx as u32).or_default();
            match r {
                Ok(n) if owned.unwrap_or(true) => {
                    tally.entries += n;
                    tally.unverified += if mark { n } else { 0 };
                }
                Ok(_) => {}
                Err(e) => {
                    tally.errors.insert(i as u32, e);
                }
            }
        }
    }
}

/// The user keys failed unit `i` may have held: from the last key of the nearest readable unit
/// before it to the first key of the nearest readable unit after it, the MANIFEST's bounds where
/// there is none (as `FileReport::bound_lost_keys` fills them; damage-report.md §5.3).
fn lost_around(plan: &Salvage<'_>, i: usize, t: &StreamTable) -> LostRange {
    let edge = |j: usize, last: bool| plan.edge_key(j, last);
    let from = (0..i)
        .rev()
        .find_map(|j| edge(j, true))
        .flatten()
        .or_else(|| t.lo.clone());
    let to = (i + 1..plan.units.len())
        .find_map(|j| edge(j, false))
        .flatten()
        .or_else(|| t.hi.clone());
    (from, to, u64::MAX)
}

/// Whether the table's first and last keys lie within the user-key bounds the MANIFEST records
/// for it (true when there are none, or when the edge blocks do not decode).
pub(super) fn within_bounds(plan: &Salvage<'_>, lo: Option<&[u8]>, hi: Option<&[u8]>) -> bool {
    let Some(last) = plan.units.len().checked_sub(1) else {
        return true;
    };
    let below = lo.is_some_and(|lo| {
        plan.edge_key(0, false)
            .flatten()
            .is_some_and(|k| k.as_slice() < lo)
    });
    let above = hi.is_some_and(|hi| {
        plan.edge_key(last, true)
            .flatten()
            .is_some_and(|k| k.as_slice() > hi)
    });
    !below && !above
}

/// One sorted input of a range's merge.
enum Input<'a, 'r> {
    Table(Box<TableCursor<'a, 'r>>),
    Mem(std::slice::Iter<'r, Version1>),
    Run(BufReader<File>, &'r KeyRange),
}

/// Sorted inputs of one column family that are not tables: in-memory versions and spilled runs.
#[derive(Clone, Copy)]
pub(super) struct RunInputs<'r> {
    /// Sorted.
    pub mem: &'r [Version1],
    pub files: &'r [PathBuf],
}

fn next_in_run(r: &mut BufReader<File>, range: &KeyRange) -> io::Result<Option<Version1>> {
    while let Some(v) = read_version(r)? {
        if !range.below_hi(&v.key) {
            return Ok(None);
        }
        if range.at_or_above_lo(&v.key) {
            return Ok(Some(v));
        }
    }
    Ok(None)
}

/// Merge one key range of the column family's streamed tables and runs, calling `f` with all
/// versions of one key (newest first) in key order, with what is known about damage and
/// tombstones so far. Returns [`Disorder`] when a table's entries turned out unordered.
pub(super) fn merge_range<'a: 'r, 'r>(
    tables: &'a [StreamTable],
    plans: &Plans<'a>,
    runs: RunInputs<'r>,
    range: &'r KeyRange,
    learned: &mut Learned,
    filter: Option<&KeyFilter>,
    mut f: impl FnMut(&[Version1], &mut Learned) -> io::Result<()>,
) -> io::Result<Result<(), Disorder>> {
    let mut inputs: Vec<Input<'a, 'r>> = Vec::new();
    let mut heap: BinaryHeap<std::cmp::Reverse<(Version1, usize)>> = BinaryHeap::new();
    // Placeholders of the tables the merge has not reached, largest last-out: each enters the
    // heap just before the first entry not below it leaves, so the heap holds only the inputs
    // that are open (the order entries leave in is the same as with every placeholder in it).
    let mut waiting: Vec<(Version1, usize)> = Vec::new();
    // Tables first: an unlisted table (no MANIFEST bounds) is opened now, before anything resolves.
    for (idx, t) in tables.iter().enumerate() {
        let mut c = TableCursor::new(t, idx, range);
        if c.outside() {
            continue;
        }
        let i = inputs.len();
        match c.placeholder() {
            Some(p) => waiting.push((p, i)),
            None => {
                c.open(plans, learned);
                c.fill(learned, filter);
                if let Some(v) = c.buf.pop_front() {
                    heap.push(std::cmp::Reverse((v, i)));
                }
            }
        }
        inputs.push(Input::Table(Box::new(c)));
    }
    let from = range
        .lo
        .as_ref()
        .map_or(0, |l| runs.mem.partition_point(|v| v.key < *l));
    let to = range
        .hi
        .as_ref()
        .map_or(runs.mem.len(), |h| runs.mem.partition_point(|v| v.key < *h));
    let mut it = runs.mem[from..to.max(from)].iter();
    if let Some(v) = it.next() {
        heap.push(std::cmp::Reverse((v.clone(), inputs.len())));
    }
    inputs.push(Input::Mem(it));
    for p in runs.files {
        let mut r = BufReader::with_capacity(1 << 16, File::open(p)?);
        if let Some(v) = next_in_run(&mut r, range)? {
            heap.push(std::cmp::Reverse((v, inputs.len())));
        }
        inputs.push(Input::Run(r, range));
    }
    let mut group: Vec<Version1> = Vec::new();
    let mut resolved = 0u64;
    waiting.sort_unstable_by(|a, b| b.cmp(a));
    loop {
        while let Some(w) = waiting.last() {
            if heap.peek().is_some_and(|std::cmp::Reverse(top)| top < w) {
                break;
            }
            if let Some(w) = waiting.pop() {
                heap.push(std::cmp::Reverse(w));
            }
        }
        let Some(std::cmp::Reverse((v, i))) = heap.pop() else {
            break;
        };
        // Advance the input the entry came from before anything else: a damaged block it meets
        // registers its lost range before any key in that range is resolved.
        let next = match &mut inputs[i] {
            Input::Table(c) => {
                if !c.opened {
                    // The placeholder: open the table, and put its first entry in its place.
                    c.open(plans, learned);
                    c.fill(learned, filter);
                    match c.buf.pop_front() {
                        Some(first) if first < v => return Ok(Err(Disorder(c.idx))),
                        Some(first) => heap.push(std::cmp::Reverse((first, i))),
                        None => c.plan = None,
                    }
                    continue;
                }
                c.fill(learned, filter);
                match c.buf.pop_front() {
                    Some(n) if n < v => return Ok(Err(Disorder(c.idx))),
                    Some(n) => Some(n),
                    None => {
                        c.plan = None;
                        None
                    }
                }
            }
            Input::Mem(it) => it.next().cloned(),
            Input::Run(r, range) => next_in_run(r, range)?,
        };
        if let Some(n) = next {
            heap.push(std::cmp::Reverse((n, i)));
        }
        if group.first().is_some_and(|g| g.key != v.key) {
            f(&group, learned)?;
            resolved += 1;
            if resolved % 1024 == 0 {
                learned.prune(&group[0].key);
            }
            group.clear();
        }
        // The same version from a table and its WAL: keep one.
        if group
            .last()
            .is_some_and(|g| g.seq == v.seq && g.vtype == v.vtype)
        {
            continue;
        }
        group.push(v);
    }
    if !group.is_empty() {
        f(&group, learned)?;
    }
    Ok(Ok(()))
}

/// The report of a streamed table, from what the ranges' cursors found in it (the ranges cover
/// the key space, so every unit was decoded by one of them: the units not reported failed gave
/// their entries, which the tally counts once).
pub(super) fn table_report(t: &StreamTable, tally: Option<&Tally>) -> FileReport {
    let plan = Salvage::plan(t.src.bytes(), &t.path);
    let empty = Tally::default();
    let tally = tally.unwrap_or(&empty);
    let mut unverified = tally.unverified;
    // `report` sums the entries of the units that decoded: all of them on the first such unit.
    let mut rest = Some(tally.entries);
    let outcomes: Vec<UnitOutcome> = (0..plan.units.len())
        .map(|i| match tally.errors.get(&(i as u32)) {
            Some(e) => Err(e.clone()),
            None => Ok(rest.take().unwrap_or(0)),
        })
        .collect();
    let (ts, damage) = plan.range_tombstones();
    unverified += ts.iter().filter(|(_, u)| *u).count() as u64;
    let none = vec![None; outcomes.len()];
    let mut report = plan.report(&outcomes, &none, &ts, &damage, unverified);
    if let Err(e) = t.src.check_intact() {
        report.changed_while_read(&e);
    }
    if t.listed {
        report.bound_lost_keys(t.lo.as_deref(), t.hi.as_deref());
    }
    report.column_family = t.column_family.clone();
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// The largest table of the committed multi-level database (RocksDB 11.8, many data blocks).
    fn table() -> StreamTable {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/db/levels/000053.sst");
        let src = Source::open(&path).expect("corpus table");
        let plan = Salvage::plan(src.bytes(), &path);
        assert!(streamable(&plan), "the corpus table streams");
        let first = plan.edge_key(0, false).flatten().expect("first key");
        let marks = marks(&plan, Some(&first));
        drop(plan);
        StreamTable {
            pos: 0,
            path,
            src,
            lo: Some(first),
            hi: None,
            largest_seqno: None,
            listed: true,
            column_family: None,
            marks,
        }
    }

    #[test]
    fn marks_cover_the_data_blocks_in_key_order() {
        let t = table();
        let plan = Salvage::plan(t.src.bytes(), &t.path);
        let data: u64 = plan
            .units
            .iter()
            .map(|u| u.handle.size + crate::sst::handle::TRAILER_LEN)
            .sum();
        // Runs of about equal bytes: one per block when the table has few blocks.
        let most = plan.units.len().min(MARKS_PER_TABLE);
        assert!(
            t.marks.len() <= most && t.marks.len() > most / 2,
            "{}",
            t.marks.len()
        );
        assert_eq!(t.marks.iter().map(|m| m.1).sum::<u64>(), data);
        assert_eq!(t.marks[0].0, *t.lo.as_ref().unwrap());
        assert!(t.marks.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn one_table_splits_into_contiguous_ranges_at_its_separators() {
        let t = table();
        let tables = [t];
        for want in [1, 2, 4, 8] {
            let ranges = split(&tables, want);
            assert_eq!(ranges.len(), want, "{want} ranges wanted");
            assert!(ranges[0].lo.is_none() && ranges[want - 1].hi.is_none());
            for w in ranges.windows(2) {
                assert_eq!(w[0].hi, w[1].lo, "ranges meet");
                assert!(w[1].lo.is_some());
            }
            for r in &ranges {
                if let (Some(lo), Some(hi)) = (&r.lo, &r.hi) {
                    assert!(lo < hi, "no empty range");
                }
            }
        }
        // Never more ranges than marks.
        assert!(split(&tables, 1000).len() <= tables[0].marks.len());
    }
}
