//! The log framing shared by WAL files and MANIFESTs: 32 KiB blocks of checksummed physical records
//! that reassemble into logical records. See format-specs/wal.md §2 (framing, record types,
//! fragments), §3 (compressed WALs) and §4 (metadata records).
//!
//! The reader is built for salvage: it never stops at the first problem. A record whose checksum
//! fails is reported and skipped (resynchronising at the next record that verifies, or the next
//! block); a torn tail is reported and ends the log; every problem carries its absolute offset.

use std::borrow::Cow;

use serde::Serialize;

use crate::codec::checksum::mask_crc;
use crate::codec::compress::MAX_BLOCK_SIZE;
use crate::codec::varint::fixed32;

/// Physical block size.
pub const BLOCK_SIZE: usize = 32 * 1024;
/// Legacy header: masked CRC-32C (4), length (2), type (1).
pub const LEGACY_HEADER: usize = 7;
/// Recyclable header: the legacy fields plus the log number (4).
pub const RECYCLABLE_HEADER: usize = 11;

/// Physical record types (format-specs/wal.md §2.3).
pub mod rtype {
    pub const ZERO: u8 = 0;
    pub const FULL: u8 = 1;
    pub const FIRST: u8 = 2;
    pub const MIDDLE: u8 = 3;
    pub const LAST: u8 = 4;
    pub const RECYCLABLE_FULL: u8 = 5;
    pub const RECYCLABLE_FIRST: u8 = 6;
    pub const RECYCLABLE_MIDDLE: u8 = 7;
    pub const RECYCLABLE_LAST: u8 = 8;
    pub const SET_COMPRESSION: u8 = 9;
    pub const UDT_SIZE: u8 = 10;
    pub const RECYCLABLE_UDT_SIZE: u8 = 11;
    pub const PREDECESSOR_WAL_INFO: u8 = 130;
    pub const RECYCLABLE_PREDECESSOR_WAL_INFO: u8 = 131;
    /// Types with this bit set that a reader does not know may be skipped.
    pub const IGNORABLE_BIT: u8 = 0x80;
}

fn is_recyclable(t: u8) -> bool {
    matches!(
        t,
        rtype::RECYCLABLE_FULL
            | rtype::RECYCLABLE_FIRST
            | rtype::RECYCLABLE_MIDDLE
            | rtype::RECYCLABLE_LAST
            | rtype::RECYCLABLE_UDT_SIZE
            | rtype::RECYCLABLE_PREDECESSOR_WAL_INFO
    )
}

/// What a logical record is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    /// A user record (a WriteBatch in a WAL, a VersionEdit in a MANIFEST).
    Data,
    /// From here on, records are compressed with the named type (§3).
    SetCompression,
    /// User-defined timestamp sizes of column families (§4).
    TimestampSizes,
    /// Information about the previous WAL (§4).
    PredecessorWalInfo,
}

/// One reassembled record.
#[derive(Clone, Debug)]
pub struct LogRecord<'a> {
    /// Offset of the header of the record's first fragment.
    pub offset: u64,
    pub kind: RecordKind,
    pub data: Cow<'a, [u8]>,
    /// Written into a recycled file (recyclable headers).
    pub recyclable: bool,
}

impl LogProblemKind {
    /// The snake_case name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            LogProblemKind::Checksum => "checksum",
            LogProblemKind::BadRecord => "bad_record",
            LogProblemKind::Fragmentation => "fragmentation",
            LogProblemKind::TornTail => "torn_tail",
            LogProblemKind::OldRecord => "old_record",
            LogProblemKind::Decompress => "decompress",
        }
    }
}

/// A problem the reader ran into; `offset` is absolute.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LogProblem {
    pub offset: u64,
    /// Bytes skipped or lost because of it.
    pub length: u64,
    pub kind: LogProblemKind,
    pub message: String,
}

/// The kinds of log damage (format-specs/wal.md §2.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LogProblemKind {
    /// A physical record whose checksum does not match.
    Checksum,
    /// A header whose length runs past its block, or an unknown record type.
    BadRecord,
    /// Fragments out of order: a fragmented record was lost.
    Fragmentation,
    /// The file ends inside a record (a write that never finished).
    TornTail,
    /// A record left over from the file's previous life as another log (recycled file).
    OldRecord,
    /// A compressed record that could not be decompressed.
    Decompress,
}

/// Sequential reader over a whole log file image.
pub struct LogReader<'a> {
    file: &'a [u8],
    pos: usize,
    /// The file's own log number (from its name): recyclable records must carry it.
    log_number: Option<u32>,
    /// Fragments of the record being assembled: start offset and bytes.
    pending: Option<(usize, Vec<u8>, bool)>,
    compression: Option<u8>,
    pub problems: Vec<LogProblem>,
    done: bool,
}

impl<'a> LogReader<'a> {
    /// `log_number`: the number in the file's name, to tell this log's recyclable records from a
    /// previous incarnation's (None = accept any).
    pub fn new(file: &'a [u8], log_number: Option<u32>) -> LogReader<'a> {
        LogReader {
            file,
            pos: 0,
            log_number,
            pending: None,
            compression: None,
            problems: Vec::new(),
            done: false,
        }
    }

    /// The compression type in force (set by a SetCompression record).
    pub fn compression(&self) -> Option<u8> {
        self.compression
    }

    fn problem(&mut self, offset: usize, length: usize, kind: LogProblemKind, msg: String) {
        self.problems.push(LogProblem {
            offset: offset as u64,
            length: length as u64,
            kind,
            message: msg,
        });
    }

    fn drop_pending(&mut self, why: &str) {
        if let Some((start, bytes, _)) = self.pending.take() {
            let msg = format!(
                "a fragmented record of {} bytes begun here was never completed ({why})",
                bytes.len()
            );
            self.problem(start, bytes.len(), LogProblemKind::Fragmentation, msg);
        }
    }

    /// Verify the physical record at `p`; returns (header size, type, payload range) if it is whole and its
    /// checksum matches.
    fn physical_at(&self, p: usize) -> Option<(usize, u8, usize, usize)> {
        let block_end = (p / BLOCK_SIZE + 1) * BLOCK_SIZE;
        let f = self.file;
        if p + LEGACY_HEADER > f.len().min(block_end) {
            return None;
        }
        let stored = fixed32(&f[p..]);
        let len = u16::from_le_bytes([f[p + 4], f[p + 5]]) as usize;
        let t = f[p + 6];
        let hdr = if is_recyclable(t) {
            RECYCLABLE_HEADER
        } else {
            LEGACY_HEADER
        };
        let end = p + hdr + len;
        if end > block_end || end > f.len() {
            return None;
        }
        let crc = crc32c::crc32c_append(crc32c::crc32c(&f[p + 6..p + 7]), &f[p + 7..end]);
        (mask_crc(crc) == stored).then_some((hdr, t, p + hdr, end))
    }

    /// The next logical record, or None at the end of the log.
    pub fn next_record(&mut self) -> Option<LogRecord<'a>> {
        while !self.done {
            let f = self.file;
            let p = self.pos;
            if p >= f.len() {
                self.done = true;
                self.drop_pending("the log ends");
                return None;
            }
            let block_end = ((p / BLOCK_SIZE + 1) * BLOCK_SIZE).min(f.len());
            let left = block_end - p;
            if left < LEGACY_HEADER {
                // Block trailer: too small for a header, written as zeros. At the end of the file,
                // non-zero bytes there are the start of a header that was never finished.
                if block_end == f.len() && f[p..].iter().any(|&b| b != 0) {
                    let msg = format!("the log ends inside a record header ({left} bytes)");
                    self.problem(p, left, LogProblemKind::TornTail, msg);
                }
                self.pos = block_end;
                continue;
            }
            let len = u16::from_le_bytes([f[p + 4], f[p + 5]]) as usize;
            let t = f[p + 6];
            if t == rtype::ZERO && len == 0 && fixed32(&f[p..]) == 0 {
                // Preallocated (zero-filled) space: nothing more in this block. If only zeros follow,
                // the log ends here.
                if f[p..].iter().all(|&b| b == 0) {
                    self.done = true;
                    self.drop_pending("the log ends in zero-filled space");
                    return None;
                }
                self.pos = block_end;
                continue;
            }
            let hdr = if is_recyclable(t) {
                RECYCLABLE_HEADER
            } else {
                LEGACY_HEADER
            };
            let end = p + hdr + len;
            if end > block_end {
                if block_end == f.len() && end > f.len() {
                    let msg = format!(
                        "the log ends inside a record: {} of {} bytes present",
                        f.len() - p,
                        hdr + len
                    );
                    self.problem(p, f.len() - p, LogProblemKind::TornTail, msg);
                    self.done = true;
                    self.drop_pending("the log ends");
                    return None;
                }
                let msg = format!("record length {len} runs past the end of its 32 KiB block");
                self.problem(p, block_end - p, LogProblemKind::BadRecord, msg);
                self.drop_pending("a damaged record followed");
                self.pos = block_end;
                continue;
            }
            if self.physical_at(p).is_none() {
                // Skip just this record if the next one verifies, else the rest of the block.
                let next_ok = end < block_end && self.physical_at(end).is_some();
                let skip_to = if next_ok { end } else { block_end };
                let msg = "record checksum mismatch".to_string();
                self.problem(p, skip_to - p, LogProblemKind::Checksum, msg);
                self.drop_pending("a damaged record followed");
                self.pos = skip_to;
                continue;
            }
            self.pos = end;
            if is_recyclable(t) {
                let num = fixed32(&f[p + 7..]);
                if self.log_number.is_some_and(|n| n != num) {
                    let msg = format!(
                        "record of log {num} left from the file's previous use (this is log {})",
                        self.log_number.unwrap_or(0)
                    );
                    self.problem(p, f.len() - p, LogProblemKind::OldRecord, msg);
                    self.done = true;
                    self.drop_pending("the rest is an older log");
                    return None;
                }
            }
            let payload = &f[p + hdr..end];
            let recyclable = is_recyclable(t);
            match t {
                rtype::FULL | rtype::RECYCLABLE_FULL => {
                    self.drop_pending("a complete record followed");
                    match self.decompress(p, payload) {
                        Some(data) => {
                            return Some(LogRecord {
                                offset: p as u64,
                                kind: RecordKind::Data,
                                data,
                                recyclable,
                            })
                        }
                        None => continue,
                    }
                }
                rtype::FIRST | rtype::RECYCLABLE_FIRST => {
                    self.drop_pending("a new record began");
                    self.pending = Some((p, payload.to_vec(), recyclable));
                }
                rtype::MIDDLE | rtype::RECYCLABLE_MIDDLE => match &mut self.pending {
                    Some((_, buf, _)) if buf.len() + payload.len() <= MAX_BLOCK_SIZE => {
                        buf.extend_from_slice(payload)
                    }
                    _ => {
                        let msg = "middle fragment without a first fragment".to_string();
                        self.problem(p, end - p, LogProblemKind::Fragmentation, msg);
                        self.pending = None;
                    }
                },
                rtype::LAST | rtype::RECYCLABLE_LAST => match self.pending.take() {
                    Some((start, mut buf, rec)) => {
                        buf.extend_from_slice(payload);
                        if let Some(data) = self.decompress(start, &buf) {
                            return Some(LogRecord {
                                offset: start as u64,
                                kind: RecordKind::Data,
                                data: Cow::Owned(data.into_owned()),
                                recyclable: rec,
                            });
                        }
                    }
                    None => {
                        let msg = "last fragment without a first fragment".to_string();
                        self.problem(p, end - p, LogProblemKind::Fragmentation, msg);
                    }
                },
                rtype::SET_COMPRESSION
                | rtype::UDT_SIZE
                | rtype::RECYCLABLE_UDT_SIZE
                | rtype::PREDECESSOR_WAL_INFO
                | rtype::RECYCLABLE_PREDECESSOR_WAL_INFO => {
                    let kind = match t {
                        rtype::SET_COMPRESSION => {
                            // fixed32 compression type; RocksDB writes only ZSTD (7).
                            self.compression = (payload.len() >= 4).then(|| fixed32(payload) as u8);
                            RecordKind::SetCompression
                        }
                        rtype::UDT_SIZE | rtype::RECYCLABLE_UDT_SIZE => RecordKind::TimestampSizes,
                        _ => RecordKind::PredecessorWalInfo,
                    };
                    return Some(LogRecord {
                        offset: p as u64,
                        kind,
                        data: Cow::Borrowed(payload),
                        recyclable,
                    });
                }
                other if other & rtype::IGNORABLE_BIT != 0 => {
                    // A newer writer's metadata record that readers may skip.
                }
                other => {
                    let msg = format!("unknown record type {other}");
                    self.problem(p, end - p, LogProblemKind::BadRecord, msg);
                }
            }
        }
        None
    }

    /// Undo WAL compression (§3). Records are compressed as one stream per record.
    fn decompress(&mut self, at: usize, payload: &[u8]) -> Option<Cow<'a, [u8]>> {
        let Some(c) = self.compression.filter(|&c| c != 0) else {
            return Some(Cow::Owned(payload.to_vec()));
        };
        if c != 7 {
            let msg = format!("WAL compression type {c} is not one RocksDB supports for WALs");
            self.problem(at, payload.len(), LogProblemKind::Decompress, msg);
            return None;
        }
        match zstd_record(payload) {
            Ok(v) => Some(Cow::Owned(v)),
            Err(m) => {
                self.problem(at, payload.len(), LogProblemKind::Decompress, m);
                None
            }
        }
    }
}

impl<'a> Iterator for LogReader<'a> {
    type Item = LogRecord<'a>;
    fn next(&mut self) -> Option<LogRecord<'a>> {
        self.next_record()
    }
}

/// Decompress one record: a single zstd frame (format-specs/wal.md §3), bounded in output.
fn zstd_record(input: &[u8]) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let dec = zstd::stream::read::Decoder::new(input).map_err(|e| format!("zstd: {e}"))?;
    let mut out = Vec::new();
    dec.take(MAX_BLOCK_SIZE as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("zstd: {e}"))?;
    if out.len() > MAX_BLOCK_SIZE {
        return Err("decompressed record is larger than any real record".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Build a legacy-framed log from records, splitting across blocks as a writer does.
    pub(crate) fn write_log(records: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for r in records {
            let mut rest: &[u8] = r;
            let mut first = true;
            loop {
                let left = BLOCK_SIZE - out.len() % BLOCK_SIZE;
                if left < LEGACY_HEADER {
                    out.resize(out.len() + left, 0);
                    continue;
                }
                let avail = left - LEGACY_HEADER;
                let n = rest.len().min(avail);
                let last = n == rest.len();
                let t = match (first, last) {
                    (true, true) => rtype::FULL,
                    (true, false) => rtype::FIRST,
                    (false, true) => rtype::LAST,
                    (false, false) => rtype::MIDDLE,
                };
                let crc = crc32c::crc32c_append(crc32c::crc32c(&[t]), &rest[..n]);
                out.extend_from_slice(&mask_crc(crc).to_le_bytes());
                out.extend_from_slice(&(n as u16).to_le_bytes());
                out.push(t);
                out.extend_from_slice(&rest[..n]);
                rest = &rest[n..];
                first = false;
                if last {
                    break;
                }
            }
        }
        out
    }

    #[test]
    fn reassembles_fragments_and_survives_damage() {
        let big = vec![7u8; 70_000];
        let recs: Vec<&[u8]> = vec![b"alpha", &big, b"omega"];
        let log = write_log(&recs);
        let got: Vec<Vec<u8>> = LogReader::new(&log, None)
            .map(|r| r.data.to_vec())
            .collect();
        assert_eq!(got, vec![b"alpha".to_vec(), big.clone(), b"omega".to_vec()]);
        // A flipped byte in the first record: it is reported, the rest still reads.
        let mut bad = log.clone();
        bad[LEGACY_HEADER + 1] ^= 1;
        let mut r = LogReader::new(&bad, None);
        let got: Vec<Vec<u8>> = r.by_ref().map(|r| r.data.to_vec()).collect();
        assert_eq!(got, vec![big.clone(), b"omega".to_vec()]);
        assert_eq!(r.problems.len(), 1);
        assert_eq!(r.problems[0].kind, LogProblemKind::Checksum);
        assert_eq!(r.problems[0].offset, 0);
        // A torn tail: the last record is cut.
        let torn = &log[..log.len() - 2];
        let mut r = LogReader::new(torn, None);
        assert_eq!(r.by_ref().count(), 2);
        assert_eq!(r.problems[0].kind, LogProblemKind::TornTail);
        // Zero-filled preallocation after the records ends the log silently.
        let mut pre = log.clone();
        pre.resize(log.len() + 10_000, 0);
        let mut r = LogReader::new(&pre, None);
        assert_eq!(r.by_ref().count(), 3);
        assert!(r.problems.is_empty(), "{:?}", r.problems);
    }
}
