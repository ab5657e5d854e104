//! TiKV's MVCC layer in the kv RocksDB: data keys (`z` + memcomparable user key + descending
//! timestamp), write-CF records (commits, deletes, locks, rollbacks) and lock-CF records
//! (transactions in flight). See format-specs/tikv.md §2 (keys), §3 (timestamps), §4 (write CF)
//! and §5 (lock CF).

use serde::Serialize;

use super::codec::{self, be_u64, compact_bytes, uvarint, CodecError};

/// Data keys start with this byte; local (store-internal) keys with 0x01.
pub const DATA_PREFIX: u8 = b'z';
/// Short values longer than this are never inlined (64 before TiKV 4.0: decide by the `'v'` tag,
/// never by length).
pub const SHORT_VALUE_MAX_LEN: usize = 255;

/// Split a TSO timestamp into physical milliseconds and the logical counter.
pub fn tso_parts(ts: u64) -> (u64, u64) {
    (ts >> 18, ts & ((1 << 18) - 1))
}

/// A decoded data key: the raw (TiDB) key and, for the default and write CFs, the timestamp.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataKey {
    pub key: Vec<u8>,
    pub ts: Option<u64>,
}

/// Decode a kv-RocksDB data key. `with_ts`: the key carries a timestamp (default and write CFs);
/// lock-CF keys do not.
pub fn parse_data_key(k: &[u8], with_ts: bool) -> Result<DataKey, CodecError> {
    if k.first() != Some(&DATA_PREFIX) {
        return Err(CodecError {
            pos: 0,
            msg: "not a data key (no 'z' prefix)",
        });
    }
    let (key, n) = codec::decode_bytes(&k[1..])?;
    let rest = &k[1 + n..];
    let ts = match (with_ts, rest.len()) {
        (true, 8) => codec::decode_u64_desc(rest),
        (false, 0) => None,
        _ => {
            return Err(CodecError {
                pos: 1 + n,
                msg: "bytes after the key are not a timestamp",
            })
        }
    };
    Ok(DataKey { key, ts })
}

/// Build a data key (for tests and lookups).
pub fn data_key(raw: &[u8], ts: Option<u64>) -> Vec<u8> {
    let mut k = vec![DATA_PREFIX];
    k.extend(codec::encode_bytes(raw));
    if let Some(ts) = ts {
        k.extend_from_slice(&codec::encode_u64_desc(ts));
    }
    k
}

/// Why an MVCC value did not decode; `pos` is relative to the value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MvccError {
    pub pos: usize,
    pub msg: String,
}

fn merr<T>(pos: usize, msg: impl Into<String>) -> Result<T, MvccError> {
    Err(MvccError {
        pos,
        msg: msg.into(),
    })
}

/// What a write-CF record says happened at its commit timestamp.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WriteType {
    Put,
    Delete,
    Lock,
    Rollback,
}

/// A write-CF record (its key's timestamp is the commit timestamp).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Write {
    pub kind: WriteType,
    pub start_ts: u64,
    /// The value, when small enough to be inlined (else it is in the default CF at start_ts).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub short_value: Option<Vec<u8>>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub has_overlapped_rollback: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gc_fence: Option<u64>,
    /// (last_change_ts, estimated versions to the last change), on Lock records.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_change: Option<(u64, u64)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub txn_source: Option<u64>,
    /// An unknown optional field stopped parsing here (a newer TiKV): the fields before it hold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped_at: Option<usize>,
}

impl Write {
    /// A rollback that protects against a late prewrite ("p" short value).
    pub fn is_protected_rollback(&self) -> bool {
        self.kind == WriteType::Rollback && self.short_value.as_deref() == Some(b"p")
    }
}

/// Decode a write-CF value (format-specs/tikv.md §4).
pub fn parse_write(v: &[u8]) -> Result<Write, MvccError> {
    let kind = match v.first() {
        Some(b'P') => WriteType::Put,
        Some(b'D') => WriteType::Delete,
        Some(b'L') => WriteType::Lock,
        Some(b'R') => WriteType::Rollback,
        Some(&x) => return merr(0, format!("unknown write type {x:#04x}")),
        None => return merr(0, "empty write record"),
    };
    let Some((start_ts, n)) = uvarint(&v[1..]) else {
        return merr(1, "bad start_ts varint");
    };
    let mut w = Write {
        kind,
        start_ts,
        short_value: None,
        has_overlapped_rollback: false,
        gc_fence: None,
        last_change: None,
        txn_source: None,
        stopped_at: None,
    };
    let mut p = 1 + n;
    while p < v.len() {
        let tag = v[p];
        p += 1;
        match tag {
            b'v' => {
                let (sv, n) = short_value(v, p)?;
                w.short_value = Some(sv);
                p += n;
            }
            b'R' => w.has_overlapped_rollback = true,
            b'F' => {
                w.gc_fence = Some(be_u64(&v[p..]).ok_or(MvccError {
                    pos: p,
                    msg: "gc fence truncated".into(),
                })?);
                p += 8;
            }
            b'l' => {
                let ts = be_u64(&v[p..]).ok_or(MvccError {
                    pos: p,
                    msg: "last change truncated".into(),
                })?;
                let Some((versions, n)) = uvarint(&v[p + 8..]) else {
                    return merr(p + 8, "bad last change versions varint");
                };
                w.last_change = Some((ts, versions));
                p += 8 + n;
            }
            b'S' => {
                let Some((src, n)) = uvarint(&v[p..]) else {
                    return merr(p, "bad txn source varint");
                };
                w.txn_source = Some(src);
                p += n;
            }
            _ => {
                // TiKV stops quietly at a tag it does not know (forward compatibility).
                w.stopped_at = Some(p - 1);
                break;
            }
        }
    }
    Ok(w)
}

/// What a key holds at a read timestamp (format-specs/tikv.md §7).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Visible {
    /// A Put committed at `commit_ts` with its value inlined.
    Inline { commit_ts: u64, value: Vec<u8> },
    /// A Put committed at `commit_ts` whose value is in the default CF at `start_ts`.
    InDefault { commit_ts: u64, start_ts: u64 },
    /// Deleted, never written, or hidden by a GC fence.
    NotFound,
}

/// The committed state of one key at `read_ts`, from its write-CF records `(key ts, record)`
/// sorted newest first (the key ts is the commit ts, or the start ts of a rollback). Lock and
/// Rollback records carry no data and are walked past; a GC fence at or below `read_ts` hides the
/// key (format-specs/tikv.md §7; pending locks are not considered).
pub fn visible_at(records: &[(u64, Write)], read_ts: u64) -> Visible {
    for (ts, w) in records.iter().filter(|(ts, _)| *ts <= read_ts) {
        if let Some(fence) = w.gc_fence {
            if fence != 0 && fence <= read_ts {
                return Visible::NotFound;
            }
        }
        match w.kind {
            WriteType::Put => {
                return match &w.short_value {
                    Some(v) => Visible::Inline {
                        commit_ts: *ts,
                        value: v.clone(),
                    },
                    None => Visible::InDefault {
                        commit_ts: *ts,
                        start_ts: w.start_ts,
                    },
                }
            }
            WriteType::Delete => return Visible::NotFound,
            WriteType::Lock | WriteType::Rollback => continue,
        }
    }
    Visible::NotFound
}

/// A `'v'` field's value at `p` (after the tag): a length byte and that many bytes. Returns the
/// value and the bytes used.
fn short_value(v: &[u8], p: usize) -> Result<(Vec<u8>, usize), MvccError> {
    let Some(&len) = v.get(p) else {
        return merr(p, "short value length missing");
    };
    match v.get(p + 1..p + 1 + len as usize) {
        Some(s) => Ok((s.to_vec(), 1 + len as usize)),
        None => merr(
            p,
            format!("short value of {len} bytes runs past the record"),
        ),
    }
}

/// What a lock-CF record locks the key for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LockType {
    Put,
    Delete,
    Lock,
    Pessimistic,
    Shared,
}

/// A lock-CF record: a transaction that had not finished when the data was written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Lock {
    pub kind: LockType,
    /// The transaction's primary key (a raw TiDB key).
    pub primary: Vec<u8>,
    pub start_ts: u64,
    pub ttl: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub short_value: Option<Vec<u8>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub for_update_ts: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub txn_size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_commit_ts: Option<u64>,
    /// Async-commit secondaries (raw keys).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub secondaries: Vec<Vec<u8>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rollback_ts: Vec<u64>,
    /// For a shared lock ('H'): the ordinary locks it holds (format-specs/tikv.md §5.2).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub shared: Vec<Lock>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped_at: Option<usize>,
}

impl Lock {
    fn new(kind: LockType, primary: Vec<u8>, start_ts: u64, ttl: u64) -> Lock {
        Lock {
            kind,
            primary,
            start_ts,
            ttl,
            short_value: None,
            for_update_ts: None,
            txn_size: None,
            min_commit_ts: None,
            secondaries: Vec::new(),
            rollback_ts: Vec::new(),
            shared: Vec::new(),
            stopped_at: None,
        }
    }
}

/// Decode a lock-CF value (format-specs/tikv.md §5). Tags after the ones rockrescue needs
/// (last change, txn source, conflict flag, generation, shared locks) are skipped by stopping.
pub fn parse_lock(v: &[u8]) -> Result<Lock, MvccError> {
    let kind = match v.first() {
        Some(b'P') => LockType::Put,
        Some(b'D') => LockType::Delete,
        Some(b'L') => LockType::Lock,
        Some(b'S') => LockType::Pessimistic,
        Some(b'H') => LockType::Shared,
        Some(&x) => return merr(0, format!("unknown lock type {x:#04x}")),
        None => return merr(0, "empty lock record"),
    };
    if kind == LockType::Shared {
        return parse_shared_lock(v);
    }
    let mut p = 1;
    let Some((primary, n)) = compact_bytes(&v[p..]) else {
        return merr(p, "bad primary key");
    };
    p += n;
    let Some((start_ts, n)) = uvarint(&v[p..]) else {
        return merr(p, "bad start_ts varint");
    };
    p += n;
    // Very old locks may end before the TTL.
    let ttl = match uvarint(&v[p..]) {
        Some((t, n)) => {
            p += n;
            t
        }
        None => 0,
    };
    let mut l = Lock::new(kind, primary.to_vec(), start_ts, ttl);
    let be = |p: usize, what: &str| -> Result<u64, MvccError> {
        be_u64(&v[p.min(v.len())..]).ok_or(MvccError {
            pos: p,
            msg: format!("{what} truncated"),
        })
    };
    while p < v.len() {
        let tag = v[p];
        p += 1;
        match tag {
            b'v' => {
                let (sv, n) = short_value(v, p)?;
                l.short_value = Some(sv);
                p += n;
            }
            b'f' => {
                l.for_update_ts = Some(be(p, "for_update_ts")?);
                p += 8;
            }
            b't' => {
                l.txn_size = Some(be(p, "txn_size")?);
                p += 8;
            }
            b'c' => {
                l.min_commit_ts = Some(be(p, "min_commit_ts")?);
                p += 8;
            }
            b'a' => {
                let (keys, n) = compact_list(v, p, "secondary key")?;
                l.secondaries = keys.into_iter().map(|(_, k)| k.to_vec()).collect();
                p += n;
            }
            b'r' => {
                let Some((count, n)) = uvarint(&v[p..]) else {
                    return merr(p, "bad rollback count");
                };
                p += n;
                for _ in 0..count.min(v.len() as u64) {
                    l.rollback_ts.push(be(p, "rollback ts")?);
                    p += 8;
                }
            }
            _ => {
                l.stopped_at = Some(p - 1);
                break;
            }
        }
    }
    Ok(l)
}

/// An item of a compact-bytes list: its offset in the record and its bytes.
type Item<'a> = (usize, &'a [u8]);

/// A varint count at `p`, then that many compact-bytes items: each item with its offset in `v`, and
/// the bytes used.
fn compact_list<'a>(
    v: &'a [u8],
    mut p: usize,
    what: &str,
) -> Result<(Vec<Item<'a>>, usize), MvccError> {
    let start = p;
    let Some((count, n)) = uvarint(&v[p..]) else {
        return merr(p, format!("bad {what} count"));
    };
    p += n;
    let mut items = Vec::new();
    for _ in 0..count.min(v.len() as u64) {
        let Some((item, n)) = compact_bytes(&v[p..]) else {
            return merr(p, format!("bad {what}"));
        };
        items.push((p, item));
        p += n;
    }
    Ok((items, p - start))
}

/// A shared lock: `'H'`, optionally `'i'` + a flags byte, then `'h'` + a count of nested ordinary
/// locks as compact bytes (format-specs/tikv.md §5.2). A lone `'H'` holds no locks.
fn parse_shared_lock(v: &[u8]) -> Result<Lock, MvccError> {
    let mut l = Lock::new(LockType::Shared, Vec::new(), 0, 0);
    let mut p = 1;
    while p < v.len() {
        let tag = v[p];
        p += 1;
        match tag {
            b'i' => {
                if v.get(p).is_none_or(|f| f & !1 != 0) {
                    return merr(p, "bad shared-lock flags");
                }
                p += 1;
            }
            b'h' => {
                let (entries, n) = compact_list(v, p, "nested lock")?;
                for (at, inner) in entries {
                    let nested = parse_lock(inner).map_err(|e| MvccError {
                        pos: at + e.pos,
                        msg: format!("nested lock: {}", e.msg),
                    })?;
                    l.shared.push(nested);
                }
                p += n;
            }
            _ => {
                l.stopped_at = Some(p - 1);
                break;
            }
        }
    }
    Ok(l)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s.replace(' ', "")).unwrap()
    }

    #[test]
    fn tso_and_keys() {
        // tikv txn_types/src/timestamp.rs.
        assert_eq!(tso_parts(411225436913926252), (1568700549751, 108));
        // tikv txn_types/src/types.rs `test_append_ts`: Key::from_raw("z") at ts 1000.
        let k = data_key(b"z", Some(1000));
        assert_eq!(&k[1..], &h("7a00000000000000f8fffffffffffffc17")[..]);
        assert_eq!(
            parse_data_key(&k, true).unwrap(),
            DataKey {
                key: b"z".to_vec(),
                ts: Some(1000)
            }
        );
        let lock_key = data_key(b"t1", None);
        assert_eq!(parse_data_key(&lock_key, false).unwrap().ts, None);
        assert!(parse_data_key(&lock_key, true).is_err());
        assert!(parse_data_key(b"\x01local", false).is_err());
    }

    /// tikv txn_types/src/write.rs `test_write` cases (format-specs/tikv.md §9).
    #[test]
    fn write_records() {
        let w = parse_write(&h("5000760b73686f72745f76616c7565")).unwrap();
        assert_eq!((w.kind, w.start_ts), (WriteType::Put, 0));
        assert_eq!(w.short_value.as_deref(), Some(&b"short_value"[..]));
        let w = parse_write(&h("44808040")).unwrap();
        assert_eq!((w.kind, w.start_ts), (WriteType::Delete, 1 << 20));
        let w = parse_write(&h("52808080808020760170")).unwrap();
        assert!(w.is_protected_rollback());
        assert_eq!(w.start_ts, 1 << 40);
        let w = parse_write(&h("507b5246000000000012d687")).unwrap();
        assert!(w.has_overlapped_rollback);
        assert_eq!((w.start_ts, w.gc_fence), (123, Some(1234567)));
        let w = parse_write(&h("4cc8036c00000000000001590b")).unwrap();
        assert_eq!(
            (w.kind, w.start_ts, w.last_change),
            (WriteType::Lock, 456, Some((345, 11)))
        );
        let w = parse_write(&h("4cc8035301")).unwrap();
        assert_eq!(w.txn_source, Some(1));
        // Damage is an error, not a panic; an unknown tag stops parsing.
        assert!(parse_write(&h("5000760b7368")).is_err());
        assert!(parse_write(&h("58")).is_err());
        assert_eq!(parse_write(&h("50017a")).unwrap().stopped_at, Some(2));
    }

    #[test]
    fn visibility_at_a_read_ts() {
        let w = |kind, start_ts, sv: Option<&[u8]>, fence| Write {
            kind,
            start_ts,
            short_value: sv.map(|s| s.to_vec()),
            has_overlapped_rollback: false,
            gc_fence: fence,
            last_change: None,
            txn_source: None,
            stopped_at: None,
        };
        // Newest first: a rollback at 50, a lock at 40, a put (inline) committed at 30, a delete at
        // 20, a put (in default CF) committed at 10.
        let recs = vec![
            (50, w(WriteType::Rollback, 50, None, None)),
            (40, w(WriteType::Lock, 35, None, None)),
            (30, w(WriteType::Put, 25, Some(b"v3"), None)),
            (20, w(WriteType::Delete, 15, None, None)),
            (10, w(WriteType::Put, 5, None, None)),
        ];
        assert_eq!(
            visible_at(&recs, u64::MAX),
            Visible::Inline {
                commit_ts: 30,
                value: b"v3".to_vec()
            }
        );
        assert_eq!(visible_at(&recs, 25), Visible::NotFound);
        assert_eq!(
            visible_at(&recs, 15),
            Visible::InDefault {
                commit_ts: 10,
                start_ts: 5
            }
        );
        assert_eq!(visible_at(&recs, 5), Visible::NotFound);
        // A GC fence at or below the read ts hides the key.
        let fenced = vec![(30, w(WriteType::Put, 25, Some(b"v"), Some(60)))];
        assert_eq!(visible_at(&fenced, 100), Visible::NotFound);
        assert!(matches!(visible_at(&fenced, 59), Visible::Inline { .. }));
    }

    /// tikv txn_types/src/lock.rs `test_lock` cases (format-specs/tikv.md §9).
    #[test]
    fn lock_records() {
        let l = parse_lock(&h("5004706b010a")).unwrap();
        assert_eq!(
            (l.kind, l.primary.as_slice(), l.start_ts, l.ttl),
            (LockType::Put, &b"pk"[..], 1, 10)
        );
        let l = parse_lock(&h(
            "500c706b706b706b6fde0166000000000000014d7400000000000001bc63000000000000022b",
        ))
        .unwrap();
        assert_eq!(l.primary, b"pkpkpk");
        assert_eq!((l.start_ts, l.ttl), (111, 222));
        assert_eq!(
            (l.for_update_ts, l.txn_size, l.min_commit_ts),
            (Some(333), Some(444), Some(555))
        );
        assert!(parse_lock(&h("50")).is_err());
        // Shared locks: empty, and holding one ordinary lock.
        assert!(parse_lock(&h("486800")).unwrap().shared.is_empty());
        assert!(parse_lock(&h("48")).unwrap().shared.is_empty());
        // 48 h, count 1, compact length 6 (zigzag 0x0c), then the lock of the first case.
        let l = parse_lock(&h("4868010c5004706b010a")).unwrap();
        assert_eq!(l.shared.len(), 1);
        assert_eq!(l.shared[0].primary, b"pk");
    }
}
