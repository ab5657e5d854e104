//! Write-ahead logs: the WriteBatch records a WAL carries, decoded into operations with their
//! sequence numbers and column families. Framing is [`crate::log`]. See format-specs/wal.md §5
//! (WriteBatch) and §6 (validation).

use std::path::Path;

use serde::Serialize;

use crate::codec::varint::{self, fixed32, fixed64};
use crate::log::{LogProblem, LogReader, RecordKind};

/// WriteBatch record tags (format-specs/wal.md §5.2).
pub mod tag {
    pub const DELETION: u8 = 0x00;
    pub const VALUE: u8 = 0x01;
    pub const MERGE: u8 = 0x02;
    pub const LOG_DATA: u8 = 0x03;
    pub const CF_DELETION: u8 = 0x04;
    pub const CF_VALUE: u8 = 0x05;
    pub const CF_MERGE: u8 = 0x06;
    pub const SINGLE_DELETION: u8 = 0x07;
    pub const CF_SINGLE_DELETION: u8 = 0x08;
    pub const BEGIN_PREPARE: u8 = 0x09;
    pub const END_PREPARE: u8 = 0x0A;
    pub const COMMIT: u8 = 0x0B;
    pub const ROLLBACK: u8 = 0x0C;
    pub const NOOP: u8 = 0x0D;
    pub const CF_RANGE_DELETION: u8 = 0x0E;
    pub const RANGE_DELETION: u8 = 0x0F;
    pub const CF_BLOB_INDEX: u8 = 0x10;
    pub const BLOB_INDEX: u8 = 0x11;
    pub const BEGIN_PERSISTED_PREPARE: u8 = 0x12;
    pub const BEGIN_UNPREPARE: u8 = 0x13;
    pub const COMMIT_WITH_TIMESTAMP: u8 = 0x15;
    pub const ENTITY: u8 = 0x16;
    pub const CF_ENTITY: u8 = 0x17;
    pub const TIMED_PUT: u8 = 0x18;
    pub const CF_TIMED_PUT: u8 = 0x19;
}

/// What one WriteBatch operation does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OpType {
    Put,
    Delete,
    SingleDelete,
    Merge,
    RangeDelete,
    BlobIndex,
    Entity,
    TimedPut,
    LogData,
    Noop,
    BeginPrepare,
    BeginPersistedPrepare,
    BeginUnprepare,
    EndPrepare,
    Commit,
    CommitWithTimestamp,
    Rollback,
}

impl OpType {
    pub fn name(self) -> &'static str {
        match self {
            OpType::Put => "put",
            OpType::Delete => "delete",
            OpType::SingleDelete => "single_delete",
            OpType::Merge => "merge",
            OpType::RangeDelete => "range_delete",
            OpType::BlobIndex => "blob_index",
            OpType::Entity => "entity",
            OpType::TimedPut => "timed_put",
            OpType::LogData => "log_data",
            OpType::Noop => "noop",
            OpType::BeginPrepare => "begin_prepare",
            OpType::BeginPersistedPrepare => "begin_persisted_prepare",
            OpType::BeginUnprepare => "begin_unprepare",
            OpType::EndPrepare => "end_prepare",
            OpType::Commit => "commit",
            OpType::CommitWithTimestamp => "commit_with_timestamp",
            OpType::Rollback => "rollback",
        }
    }

    /// Whether the operation is counted in the batch header and takes a sequence number.
    pub fn counted(self) -> bool {
        matches!(
            self,
            OpType::Put
                | OpType::Delete
                | OpType::SingleDelete
                | OpType::Merge
                | OpType::RangeDelete
                | OpType::BlobIndex
                | OpType::Entity
                | OpType::TimedPut
        )
    }
}

/// One decoded operation. For markers, `key` is empty and `value` holds the xid (or the blob of
/// LogData); for a range deletion `key` is the start and `value` the exclusive end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Op<'b> {
    pub op: OpType,
    /// Sequence number (counted operations only).
    pub seq: Option<u64>,
    pub cf: u32,
    pub key: &'b [u8],
    pub value: &'b [u8],
    /// For commit-with-timestamp: the commit timestamp.
    pub extra: &'b [u8],
}

/// A decoded WriteBatch.
#[derive(Clone, Debug)]
pub struct Batch<'b> {
    pub sequence: u64,
    pub count: u32,
    pub ops: Vec<Op<'b>>,
}

/// Why a batch did not decode. `pos` is relative to the batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchError {
    pub pos: usize,
    pub msg: String,
}

fn berr(pos: usize, msg: impl Into<String>) -> BatchError {
    BatchError {
        pos,
        msg: msg.into(),
    }
}

/// One record's decoded fields: operation, column family, key, value, extra (commit timestamp).
type Fields<'b> = (OpType, u32, &'b [u8], &'b [u8], &'b [u8]);

/// Header: fixed64 sequence, fixed32 count.
pub const BATCH_HEADER: usize = 12;

/// Decode a WriteBatch. Operations decoded before an error are returned with it (the error ends
/// the batch; what follows a damaged field cannot be framed).
pub fn decode_batch(b: &[u8]) -> (Option<Batch<'_>>, Option<BatchError>) {
    if b.len() < BATCH_HEADER {
        return (
            None,
            Some(berr(
                0,
                format!("batch of {} bytes has no 12-byte header", b.len()),
            )),
        );
    }
    let sequence = fixed64(b);
    let count = fixed32(&b[8..]);
    let mut ops = Vec::new();
    let mut p = BATCH_HEADER;
    let mut next_seq = sequence;
    let mut counted = 0u32;
    let slice = |p: &mut usize, what: &str| -> Result<&[u8], BatchError> {
        let (n, k) =
            varint::decode_u32(&b[*p..]).ok_or_else(|| berr(*p, format!("bad {what} length")))?;
        let start = *p + k;
        let end = start
            .checked_add(n as usize)
            .filter(|&e| e <= b.len())
            .ok_or_else(|| berr(*p, format!("{what} of {n} bytes runs past the batch")))?;
        *p = end;
        Ok(&b[start..end])
    };
    let cf_id = |p: &mut usize| -> Result<u32, BatchError> {
        let (n, k) =
            varint::decode_u32(&b[*p..]).ok_or_else(|| berr(*p, "bad column family id"))?;
        *p += k;
        Ok(n)
    };
    let mut err = None;
    while p < b.len() {
        let at = p;
        let t = b[p];
        p += 1;
        let r: Result<Fields<'_>, BatchError> = (|| {
            let none: &[u8] = &[];
            Ok(match t {
                tag::VALUE => (
                    OpType::Put,
                    0,
                    slice(&mut p, "key")?,
                    slice(&mut p, "value")?,
                    none,
                ),
                tag::CF_VALUE => {
                    let cf = cf_id(&mut p)?;
                    (
                        OpType::Put,
                        cf,
                        slice(&mut p, "key")?,
                        slice(&mut p, "value")?,
                        none,
                    )
                }
                tag::DELETION => (OpType::Delete, 0, slice(&mut p, "key")?, none, none),
                tag::CF_DELETION => {
                    let cf = cf_id(&mut p)?;
                    (OpType::Delete, cf, slice(&mut p, "key")?, none, none)
                }
                tag::SINGLE_DELETION => {
                    (OpType::SingleDelete, 0, slice(&mut p, "key")?, none, none)
                }
                tag::CF_SINGLE_DELETION => {
                    let cf = cf_id(&mut p)?;
                    (OpType::SingleDelete, cf, slice(&mut p, "key")?, none, none)
                }
                tag::MERGE => (
                    OpType::Merge,
                    0,
                    slice(&mut p, "key")?,
                    slice(&mut p, "value")?,
                    none,
                ),
                tag::CF_MERGE => {
                    let cf = cf_id(&mut p)?;
                    (
                        OpType::Merge,
                        cf,
                        slice(&mut p, "key")?,
                        slice(&mut p, "value")?,
                        none,
                    )
                }
                tag::RANGE_DELETION => (
                    OpType::RangeDelete,
                    0,
                    slice(&mut p, "begin key")?,
                    slice(&mut p, "end key")?,
                    none,
                ),
                tag::CF_RANGE_DELETION => {
                    let cf = cf_id(&mut p)?;
                    (
                        OpType::RangeDelete,
                        cf,
                        slice(&mut p, "begin key")?,
                        slice(&mut p, "end key")?,
                        none,
                    )
                }
                tag::BLOB_INDEX => (
                    OpType::BlobIndex,
                    0,
                    slice(&mut p, "key")?,
                    slice(&mut p, "blob index")?,
                    none,
                ),
                tag::CF_BLOB_INDEX => {
                    let cf = cf_id(&mut p)?;
                    (
                        OpType::BlobIndex,
                        cf,
                        slice(&mut p, "key")?,
                        slice(&mut p, "blob index")?,
                        none,
                    )
                }
                tag::ENTITY => (
                    OpType::Entity,
                    0,
                    slice(&mut p, "key")?,
                    slice(&mut p, "entity")?,
                    none,
                ),
                tag::CF_ENTITY => {
                    let cf = cf_id(&mut p)?;
                    (
                        OpType::Entity,
                        cf,
                        slice(&mut p, "key")?,
                        slice(&mut p, "entity")?,
                        none,
                    )
                }
                tag::TIMED_PUT => (
                    OpType::TimedPut,
                    0,
                    slice(&mut p, "key")?,
                    slice(&mut p, "value")?,
                    none,
                ),
                tag::CF_TIMED_PUT => {
                    let cf = cf_id(&mut p)?;
                    (
                        OpType::TimedPut,
                        cf,
                        slice(&mut p, "key")?,
                        slice(&mut p, "value")?,
                        none,
                    )
                }
                tag::LOG_DATA => (OpType::LogData, 0, none, slice(&mut p, "log data")?, none),
                tag::NOOP => (OpType::Noop, 0, none, none, none),
                tag::BEGIN_PREPARE => (OpType::BeginPrepare, 0, none, none, none),
                tag::BEGIN_PERSISTED_PREPARE => {
                    (OpType::BeginPersistedPrepare, 0, none, none, none)
                }
                tag::BEGIN_UNPREPARE => (OpType::BeginUnprepare, 0, none, none, none),
                tag::END_PREPARE => (OpType::EndPrepare, 0, none, slice(&mut p, "xid")?, none),
                tag::COMMIT => (OpType::Commit, 0, none, slice(&mut p, "xid")?, none),
                tag::ROLLBACK => (OpType::Rollback, 0, none, slice(&mut p, "xid")?, none),
                tag::COMMIT_WITH_TIMESTAMP => {
                    let ts = slice(&mut p, "commit timestamp")?;
                    (
                        OpType::CommitWithTimestamp,
                        0,
                        none,
                        slice(&mut p, "xid")?,
                        ts,
                    )
                }
                other => return Err(berr(at, format!("unknown record tag {other:#04x}"))),
            })
        })();
        match r {
            Ok((op, cf, key, value, extra)) => {
                let seq = op.counted().then(|| {
                    let s = next_seq;
                    next_seq = next_seq.wrapping_add(1);
                    counted += 1;
                    s
                });
                ops.push(Op {
                    op,
                    seq,
                    cf,
                    key,
                    value,
                    extra,
                });
            }
            Err(e) => {
                err = Some(e);
                break;
            }
        }
    }
    if err.is_none() && counted != count {
        err = Some(berr(
            8,
            format!("header counts {count} operations but the batch holds {counted}"),
        ));
    }
    (
        Some(Batch {
            sequence,
            count,
            ops,
        }),
        err,
    )
}

/// The log number in a WAL file's name (`000123.log` -> 123), used to reject records a recycled
/// file kept from its previous use.
pub fn log_number_from_name(path: &Path) -> Option<u32> {
    let stem = path.file_stem()?.to_str()?;
    stem.parse::<u64>().ok().map(|n| n as u32)
}

/// A WAL problem in the report model: where, what.
#[derive(Clone, Debug, Serialize)]
pub struct WalProblem {
    pub offset: u64,
    pub length: u64,
    pub kind: String,
    pub message: String,
}

impl From<&LogProblem> for WalProblem {
    fn from(p: &LogProblem) -> Self {
        WalProblem {
            offset: p.offset,
            length: p.length,
            kind: p.kind.name().to_string(),
            message: p.message.clone(),
        }
    }
}

/// Totals of reading one WAL.
#[derive(Clone, Debug, Default, Serialize)]
pub struct WalSummary {
    pub records: u64,
    pub batches: u64,
    pub operations: u64,
    pub first_seq: Option<u64>,
    pub last_seq: Option<u64>,
    pub problems: Vec<WalProblem>,
}

/// Walk every batch of a WAL image, calling `f(record offset, batch)`; damage goes to the summary.
pub fn read_wal(bytes: &[u8], path: &Path, mut f: impl FnMut(u64, &Batch<'_>)) -> WalSummary {
    let mut sum = WalSummary::default();
    let mut r = LogReader::new(bytes, log_number_from_name(path));
    while let Some(rec) = r.next_record() {
        sum.records += 1;
        if rec.kind != RecordKind::Data {
            continue;
        }
        let (batch, err) = decode_batch(&rec.data);
        if let Some(b) = &batch {
            sum.batches += 1;
            sum.operations += b.ops.len() as u64;
            for s in b.ops.iter().filter_map(|o| o.seq) {
                sum.first_seq = Some(sum.first_seq.map_or(s, |x: u64| x.min(s)));
                sum.last_seq = Some(sum.last_seq.map_or(s, |x: u64| x.max(s)));
            }
            f(rec.offset, b);
        }
        if let Some(e) = err {
            sum.problems.push(WalProblem {
                offset: rec.offset,
                length: rec.data.len() as u64,
                kind: "bad_batch".into(),
                message: format!("write batch at byte {} of the record: {}", e.pos, e.msg),
            });
        }
    }
    sum.problems.extend(r.problems.iter().map(WalProblem::from));
    sum.problems.sort_by_key(|p| p.offset);
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put_slice(out: &mut Vec<u8>, s: &[u8]) {
        varint::encode_u64(s.len() as u64, out);
        out.extend_from_slice(s);
    }

    #[test]
    fn decodes_every_tag_and_assigns_sequences() {
        let mut b = Vec::new();
        b.extend_from_slice(&100u64.to_le_bytes());
        b.extend_from_slice(&4u32.to_le_bytes());
        b.push(tag::VALUE);
        put_slice(&mut b, b"k1");
        put_slice(&mut b, b"v1");
        b.push(tag::LOG_DATA);
        put_slice(&mut b, b"blob");
        b.push(tag::CF_DELETION);
        b.push(3);
        put_slice(&mut b, b"k2");
        b.push(tag::CF_RANGE_DELETION);
        b.push(2);
        put_slice(&mut b, b"a");
        put_slice(&mut b, b"z");
        b.push(tag::NOOP);
        b.push(tag::MERGE);
        put_slice(&mut b, b"k3");
        put_slice(&mut b, b"+1");
        let (batch, err) = decode_batch(&b);
        assert_eq!(err, None);
        let batch = batch.unwrap();
        let got: Vec<_> = batch
            .ops
            .iter()
            .map(|o| (o.op, o.seq, o.cf, o.key, o.value))
            .collect();
        assert_eq!(
            got,
            vec![
                (OpType::Put, Some(100), 0, &b"k1"[..], &b"v1"[..]),
                (OpType::LogData, None, 0, &b""[..], &b"blob"[..]),
                (OpType::Delete, Some(101), 3, &b"k2"[..], &b""[..]),
                (OpType::RangeDelete, Some(102), 2, &b"a"[..], &b"z"[..]),
                (OpType::Noop, None, 0, &b""[..], &b""[..]),
                (OpType::Merge, Some(103), 0, &b"k3"[..], &b"+1"[..]),
            ]
        );
        // A truncated batch returns what decoded and an error.
        let (batch, err) = decode_batch(&b[..b.len() - 1]);
        assert_eq!(batch.unwrap().ops.len(), 5);
        assert!(err.is_some());
        // A count that does not match is reported.
        let mut c = b.clone();
        c[8] = 9;
        assert!(decode_batch(&c).1.unwrap().msg.contains("counts 9"));
    }
}
