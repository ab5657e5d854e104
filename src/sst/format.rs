//! The generic block format shared by data, index, metaindex, properties and range-deletion blocks:
//! prefix-compressed entries, the restart array, and the footer word (hash-index and
//! separated-values flags). See format-specs/sst.md §6 (generic block) and §7.2 (hash index).

use crate::codec::varint::{self, fixed32};

const HASH_INDEX_BIT: u32 = 1 << 31;
const UNIFORM_KEYS_BIT: u32 = 1 << 29;
const SEPARATED_KV_BIT: u32 = 1 << 28;
const MAX_RESTARTS: u32 = (1 << 28) - 1;

/// A structural problem inside a decoded block; `pos` is relative to the block's start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormatError {
    pub pos: usize,
    pub msg: String,
}

fn ferr(pos: usize, msg: impl Into<String>) -> FormatError {
    FormatError {
        pos,
        msg: msg.into(),
    }
}

/// Where the parts of a block are, from its footer word.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockLayout {
    /// End of the entries (keys) region.
    pub keys_end: usize,
    /// Separated key/value layout (RocksDB 11): values start here and end at `restarts_offset`.
    pub values_offset: Option<usize>,
    pub restarts_offset: usize,
    pub num_restarts: u32,
    /// A data-block hash index sits between the restart array and the footer.
    pub hash_index: bool,
    /// Number of hash buckets when `hash_index`.
    pub hash_buckets: u16,
}

/// Why a block footer does not parse (kept allocation-free: carving tries it at every position).
#[derive(Clone, Copy, Debug)]
enum LayoutError {
    TooShort(usize),
    FeatureBits(u32),
    NoValuesOffset,
    NoBucketCount,
    Buckets(u16),
    Restarts(u32),
    ValuesPastRestarts(usize),
}

impl BlockLayout {
    pub fn parse(b: &[u8]) -> Result<BlockLayout, FormatError> {
        Self::parse_quiet(b).map_err(|(pos, e)| {
            let msg = match e {
                LayoutError::TooShort(n) => format!("block of {n} bytes has no footer word"),
                LayoutError::FeatureBits(w) => {
                    format!("footer word {w:#010x} has unknown feature bits")
                }
                LayoutError::NoValuesOffset => "no room for the values-section offset".to_string(),
                LayoutError::NoBucketCount => "no room for the hash index bucket count".to_string(),
                LayoutError::Buckets(n) => format!("hash index with {n} buckets does not fit"),
                LayoutError::Restarts(n) => format!("{n} restarts do not fit in the block"),
                LayoutError::ValuesPastRestarts(v) => {
                    format!("values section offset {v} is past the restart array")
                }
            };
            ferr(pos, msg)
        })
    }

    /// [`BlockLayout::parse`] without building an error message.
    pub fn parse_opt(b: &[u8]) -> Option<BlockLayout> {
        Self::parse_quiet(b).ok()
    }

    fn parse_quiet(b: &[u8]) -> Result<BlockLayout, (usize, LayoutError)> {
        if b.len() < 4 {
            return Err((0, LayoutError::TooShort(b.len())));
        }
        let mut end = b.len() - 4;
        let raw = fixed32(&b[end..]);
        let mut word = raw;
        let hash_index = word & HASH_INDEX_BIT != 0;
        let separated = word & SEPARATED_KV_BIT != 0;
        word &= !(HASH_INDEX_BIT | SEPARATED_KV_BIT | UNIFORM_KEYS_BIT);
        if word > MAX_RESTARTS {
            return Err((end, LayoutError::FeatureBits(raw)));
        }
        let num_restarts = word;
        let mut values_offset = None;
        if separated {
            if end < 4 {
                return Err((end, LayoutError::NoValuesOffset));
            }
            end -= 4;
            values_offset = Some(fixed32(&b[end..]) as usize);
        }
        let mut hash_buckets = 0;
        if hash_index {
            if end < 2 {
                return Err((end, LayoutError::NoBucketCount));
            }
            hash_buckets = u16::from_le_bytes([b[end - 2], b[end - 1]]);
            let need = 2 + hash_buckets as usize;
            if hash_buckets == 0 || end < need {
                return Err((end - 2, LayoutError::Buckets(hash_buckets)));
            }
            end -= need;
        }
        let restart_bytes = num_restarts as usize * 4;
        if end < restart_bytes {
            return Err((end, LayoutError::Restarts(num_restarts)));
        }
        let restarts_offset = end - restart_bytes;
        let keys_end = match values_offset {
            Some(v) if v > restarts_offset => {
                return Err((restarts_offset, LayoutError::ValuesPastRestarts(v)))
            }
            Some(v) => v,
            None => restarts_offset,
        };
        Ok(BlockLayout {
            keys_end,
            values_offset,
            restarts_offset,
            num_restarts,
            hash_index,
            hash_buckets,
        })
    }

    pub fn restart(&self, b: &[u8], i: u32) -> usize {
        fixed32(&b[self.restarts_offset + 4 * i as usize..]) as usize
    }

    /// The hash-index bucket bytes (empty when the block has no hash index).
    pub fn hash_buckets<'b>(&self, b: &'b [u8]) -> &'b [u8] {
        if !self.hash_index {
            return &[];
        }
        let start = self.restarts_offset + 4 * self.num_restarts as usize;
        &b[start..start + self.hash_buckets as usize]
    }
}

/// How entry headers are laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryFormat {
    /// shared, non_shared, value_length varints, then key delta and value.
    Standard,
    /// Index blocks with delta-encoded values (format_version 4+): only shared and non_shared; the
    /// value is a self-delimiting handle (full when shared == 0, a signed size delta otherwise),
    /// optionally followed by a length-prefixed first key.
    IndexDelta { first_key: bool },
}

/// One decoded entry. `key` borrows the iterator's key buffer; `value` borrows the block.
#[derive(Clone, Copy, Debug)]
pub struct Entry<'k, 'b> {
    pub key: &'k [u8],
    pub value: &'b [u8],
    pub shared: u32,
    /// Offset of the entry header within the block.
    pub pos: usize,
    /// Whether this entry is the target of a restart point.
    pub is_restart: bool,
}

/// Sequential decoder over a block's entries. Never panics: every length is checked.
pub struct EntryIter<'b> {
    b: &'b [u8],
    layout: BlockLayout,
    format: EntryFormat,
    pos: usize,
    key: Vec<u8>,
    next_restart: u32,
    value_cursor: usize,
    done: bool,
    /// Count of restart offsets that pointed at an entry whose `shared` was not 0, or at no entry.
    pub bad_restarts: u32,
}

impl<'b> EntryIter<'b> {
    pub fn new(b: &'b [u8], format: EntryFormat) -> Result<EntryIter<'b>, FormatError> {
        let layout = BlockLayout::parse(b)?;
        let value_cursor = layout.values_offset.unwrap_or(0);
        Ok(EntryIter {
            b,
            layout,
            format,
            pos: 0,
            key: Vec::new(),
            next_restart: 0,
            value_cursor,
            done: false,
            bad_restarts: 0,
        })
    }

    pub fn layout(&self) -> &BlockLayout {
        &self.layout
    }

    fn fail(
        &mut self,
        pos: usize,
        msg: impl Into<String>,
    ) -> Option<Result<Entry<'_, 'b>, FormatError>> {
        self.done = true;
        Some(Err(ferr(pos, msg)))
    }

    /// The next entry, `None` at the end, or an error (after which iteration stops).
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Option<Result<Entry<'_, 'b>, FormatError>> {
        if self.done {
            return None;
        }
        let end = self.layout.keys_end;
        if self.pos >= end {
            self.done = true;
            if self.pos > end {
                return Some(Err(ferr(
                    self.pos,
                    "last entry runs past the end of the entries",
                )));
            }
            return None;
        }
        let start = self.pos;
        // Restart bookkeeping: skip restart offsets that lie before this entry (they were bad).
        let mut is_restart = false;
        while self.next_restart < self.layout.num_restarts {
            let r = self.layout.restart(self.b, self.next_restart);
            if r < start {
                self.bad_restarts += 1;
                self.next_restart += 1;
            } else {
                if r == start {
                    is_restart = true;
                    self.next_restart += 1;
                }
                break;
            }
        }
        let region = &self.b[..end];
        let mut p = start;
        let read_u32 = |p: &mut usize, what: &str| -> Result<u32, FormatError> {
            let (v, n) = varint::decode_u32(&region[*p..])
                .ok_or_else(|| ferr(*p, format!("bad varint ({what})")))?;
            *p += n;
            Ok(v)
        };
        let shared = match read_u32(&mut p, "shared") {
            Ok(v) => v,
            Err(e) => return self.fail(e.pos, e.msg),
        };
        let non_shared = match read_u32(&mut p, "non_shared") {
            Ok(v) => v,
            Err(e) => return self.fail(e.pos, e.msg),
        };
        let value_len = match self.format {
            EntryFormat::Standard => match read_u32(&mut p, "value_length") {
                Ok(v) => Some(v as usize),
                Err(e) => return self.fail(e.pos, e.msg),
            },
            EntryFormat::IndexDelta { .. } => None,
        };
        let value_offset = if self.layout.values_offset.is_some() && is_restart {
            match read_u32(&mut p, "value_offset") {
                Ok(v) => Some(v as usize),
                Err(e) => return self.fail(e.pos, e.msg),
            }
        } else {
            None
        };
        if is_restart && shared != 0 {
            self.bad_restarts += 1;
        }
        if shared as usize > self.key.len() {
            let kl = self.key.len();
            return self.fail(
                start,
                format!("entry shares {shared} key bytes but the previous key has {kl}"),
            );
        }
        let non_shared = non_shared as usize;
        if non_shared > end - p {
            return self.fail(
                start,
                format!("key delta of {non_shared} bytes runs past the entries"),
            );
        }
        self.key.truncate(shared as usize);
        self.key.extend_from_slice(&self.b[p..p + non_shared]);
        p += non_shared;

        let value: &'b [u8] = match (self.layout.values_offset, self.format) {
            (Some(voff), _) => {
                let vlen = value_len.unwrap_or(0);
                let vstart = match value_offset {
                    Some(o) => voff.saturating_add(o),
                    None => self.value_cursor,
                };
                if vstart < voff
                    || vstart > self.layout.restarts_offset
                    || vlen > self.layout.restarts_offset - vstart
                {
                    return self.fail(start, "value runs outside the values section");
                }
                self.value_cursor = vstart + vlen;
                &self.b[vstart..vstart + vlen]
            }
            (None, EntryFormat::Standard) => {
                let vlen = value_len.unwrap_or(0);
                if vlen > end - p {
                    return self.fail(
                        start,
                        format!("value of {vlen} bytes runs past the entries"),
                    );
                }
                let v = &self.b[p..p + vlen];
                p += vlen;
                v
            }
            (None, EntryFormat::IndexDelta { first_key }) => {
                let rest = &self.b[p..end];
                let mut n = if shared == 0 {
                    match crate::sst::handle::BlockHandle::decode(rest) {
                        Some((_, n)) => n,
                        None => return self.fail(p, "bad block handle in index value"),
                    }
                } else {
                    match varint::decode_i64(rest) {
                        Some((_, n)) => n,
                        None => return self.fail(p, "bad size delta in index value"),
                    }
                };
                if first_key {
                    let Some((kl, m)) = varint::decode_u32(&rest[n..]) else {
                        return self.fail(p + n, "bad first-key length in index value");
                    };
                    if kl as usize > rest.len() - n - m {
                        return self.fail(p + n, "first key runs past the entries");
                    }
                    n += m + kl as usize;
                }
                let v = &rest[..n];
                p += n;
                v
            }
        };
        self.pos = p;
        Some(Ok(Entry {
            key: &self.key,
            value,
            shared,
            pos: start,
            is_restart,
        }))
    }

    /// Index of the restart interval the last returned entry belongs to.
    pub fn restart_interval(&self) -> u32 {
        self.next_restart.saturating_sub(1)
    }

    /// The whole block.
    pub fn block(&self) -> &'b [u8] {
        self.b
    }

    /// After iteration: restart offsets never reached by an entry start count as bad too.
    pub fn unreached_restarts(&self) -> u32 {
        self.layout.num_restarts.saturating_sub(self.next_restart)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Build a block the way the format describes it (our own minimal writer, for unit tests).
    pub(crate) fn build_block(entries: &[(&[u8], &[u8])], restart_interval: usize) -> Vec<u8> {
        let mut out = Vec::new();
        let mut restarts = Vec::new();
        let mut prev: &[u8] = &[];
        for (i, (k, v)) in entries.iter().enumerate() {
            let shared = if i % restart_interval == 0 {
                restarts.push(out.len() as u32);
                0
            } else {
                prev.iter()
                    .zip(k.iter())
                    .take_while(|(a, b)| a == b)
                    .count()
            };
            varint::encode_u64(shared as u64, &mut out);
            varint::encode_u64((k.len() - shared) as u64, &mut out);
            varint::encode_u64(v.len() as u64, &mut out);
            out.extend_from_slice(&k[shared..]);
            out.extend_from_slice(v);
            prev = k;
        }
        if restarts.is_empty() {
            restarts.push(0);
        }
        for r in &restarts {
            out.extend_from_slice(&r.to_le_bytes());
        }
        out.extend_from_slice(&(restarts.len() as u32).to_le_bytes());
        out
    }

    #[test]
    fn decodes_prefix_compressed_entries() {
        let entries: Vec<(&[u8], &[u8])> = vec![
            (b"apple", b"1"),
            (b"applesauce", b""),
            (b"banana", b"3"),
            (b"band", b"4"),
        ];
        let b = build_block(&entries, 2);
        let mut it = EntryIter::new(&b, EntryFormat::Standard).unwrap();
        let mut got = Vec::new();
        while let Some(e) = it.next() {
            let e = e.unwrap();
            got.push((e.key.to_vec(), e.value.to_vec(), e.is_restart));
        }
        assert_eq!(got.len(), 4);
        assert_eq!(got[1].0, b"applesauce");
        assert_eq!(got[3].0, b"band");
        assert!(got[0].2 && !got[1].2 && got[2].2);
        assert_eq!(it.bad_restarts, 0);
        assert_eq!(it.unreached_restarts(), 0);
    }

    #[test]
    fn truncation_and_garbage_are_errors_not_panics() {
        let entries: Vec<(&[u8], &[u8])> = vec![(b"k1", b"v1"), (b"k2", b"v2")];
        let b = build_block(&entries, 16);
        for cut in 0..b.len() {
            if let Ok(mut it) = EntryIter::new(&b[..cut], EntryFormat::Standard) {
                while let Some(r) = it.next() {
                    if r.is_err() {
                        break;
                    }
                }
            }
        }
        let mut bad = b.clone();
        bad[0] = 5; // shared > previous key length
        let mut it = EntryIter::new(&bad, EntryFormat::Standard).unwrap();
        assert!(it.next().unwrap().is_err());
    }
}
