//! `sst dump`: every entry of a table in file order (points, then range tombstones), as JSON lines
//! or escaped text. The JSONL shape is a contract other tools parse:
//! `{"key":"<hex user key>","seq":<u64>,"type":"<name>","value":"<hex>"}` (a range_delete's value is
//! its end key).

use std::io::{self, Write};
use std::path::Path;

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::ikey::{self, vtype};
use crate::io::Source;
use crate::sst::Table;

/// Output flavour of a dump.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DumpFormat {
    Jsonl,
    Text,
}

/// What a dump saw.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DumpStats {
    pub entries: u64,
    pub range_tombstones: u64,
    pub blocks_ok: u64,
    pub blocks_bad: u64,
}

/// Two lowercase hex digits for every byte value.
const HEX_PAIRS: [[u8; 2]; 256] = {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut t = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = [DIGITS[i >> 4], DIGITS[i & 15]];
        i += 1;
    }
    t
};

fn push_hex(out: &mut Vec<u8>, bytes: &[u8]) {
    let start = out.len();
    out.resize(start + bytes.len() * 2, 0);
    for (pair, &b) in out[start..].chunks_exact_mut(2).zip(bytes) {
        pair.copy_from_slice(&HEX_PAIRS[b as usize]);
    }
}

/// Escape bytes for humans: printable ASCII as is, `\\`, `\'` and `\xNN` otherwise.
pub fn push_escaped(out: &mut Vec<u8>, bytes: &[u8]) {
    for &b in bytes {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\'' => out.extend_from_slice(b"\\'"),
            0x20..=0x7e => out.push(b),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
}

/// Render one entry in the chosen format, newline included.
pub fn render_entry(out: &mut Vec<u8>, fmt: DumpFormat, key: &[u8], seq: u64, t: u8, value: &[u8]) {
    let tname = ikey::type_name(t);
    match fmt {
        DumpFormat::Jsonl => {
            out.extend_from_slice(b"{\"key\":\"");
            push_hex(out, key);
            let _ = write!(out, "\",\"seq\":{seq},\"type\":\"{tname}\",\"value\":\"");
            push_hex(out, value);
            out.extend_from_slice(b"\"}\n");
        }
        DumpFormat::Text => {
            out.push(b'\'');
            push_escaped(out, key);
            let _ = write!(out, "' seq:{seq} {tname} => '");
            push_escaped(out, value);
            out.extend_from_slice(b"'\n");
        }
    }
}

/// Blocks are decoded in parallel in groups of about this many stored bytes, and at most
/// [`GROUP_BLOCKS`] blocks (so highly compressible blocks cannot inflate a group's memory without
/// bound); output stays in file order.
const GROUP_BYTES: u64 = 8 << 20;
const GROUP_BLOCKS: usize = 512;

/// Dump every entry of `t` to `out`. A block that cannot be read is reported to `on_damage` and
/// skipped; the dump goes on with the next block.
pub fn dump_table(
    t: &Table,
    fmt: DumpFormat,
    out: &mut dyn Write,
    on_damage: &mut dyn FnMut(Error),
) -> io::Result<DumpStats> {
    let mut stats = DumpStats::default();
    let blocks = &t.data_blocks;
    // One output buffer per block of a group, reused across groups so large dumps do not keep
    // allocating and faulting in fresh memory.
    let mut bufs: Vec<Vec<u8>> = Vec::new();
    let mut start = 0;
    while start < blocks.len() {
        let mut end = start;
        let mut bytes = 0u64;
        while end < blocks.len()
            && (end == start || (bytes < GROUP_BYTES && end - start < GROUP_BLOCKS))
        {
            bytes += blocks[end].handle.size;
            end += 1;
        }
        let group = &blocks[start..end];
        if bufs.len() < group.len() {
            bufs.resize_with(group.len(), Vec::new);
        }
        let results: Vec<Result<u64>> = group
            .par_iter()
            .zip(bufs.par_iter_mut())
            .map(|(d, buf)| {
                buf.clear();
                let contents = t.read_data_block(d.handle)?;
                let mut n = 0u64;
                t.visit_data_block(d.handle, &contents, |e| {
                    n += 1;
                    render_entry(buf, fmt, e.user_key, e.seq, e.vtype, e.value);
                })?;
                Ok(n)
            })
            .collect();
        for (r, buf) in results.into_iter().zip(&bufs) {
            match r {
                Ok(n) => {
                    out.write_all(buf)?;
                    stats.entries += n;
                    stats.blocks_ok += 1;
                }
                Err(e) => {
                    stats.blocks_bad += 1;
                    on_damage(e.in_file(&t.path));
                }
            }
        }
        start = end;
    }
    match t.range_tombstones() {
        Ok(ts) => {
            let mut buf = Vec::new();
            for r in &ts {
                render_entry(
                    &mut buf,
                    fmt,
                    &r.start,
                    r.seq,
                    vtype::RANGE_DELETION,
                    &r.end,
                );
            }
            out.write_all(&buf)?;
            stats.range_tombstones = ts.len() as u64;
        }
        Err(e) => {
            stats.blocks_bad += 1;
            on_damage(e);
        }
    }
    Ok(stats)
}

/// Convenience for tests and scripts: the whole JSONL dump of one file as a string. Any damage is
/// an error (use [`dump_table`] to continue past it).
pub fn dump_file_jsonl(path: &Path) -> Result<String> {
    let src = Source::open(path)?;
    dump_bytes_jsonl(src.bytes(), path)
}

/// Like [`dump_file_jsonl`] over a file image.
pub fn dump_bytes_jsonl(bytes: &[u8], path: &Path) -> Result<String> {
    let t = Table::open(bytes, path)?;
    let mut out = Vec::new();
    let mut first_err = None;
    dump_table(&t, DumpFormat::Jsonl, &mut out, &mut |e| {
        first_err.get_or_insert(e);
    })
    .map_err(|e| Error::io(path, &e))?;
    if let Some(e) = first_err {
        return Err(e);
    }
    Ok(String::from_utf8(out).expect("JSONL output is ASCII"))
}
