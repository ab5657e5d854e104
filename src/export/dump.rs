//! `sst dump`: every entry of a table in file order (points, then range tombstones), as JSON lines
//! or escaped text. The JSONL shape is a contract other tools parse:
//! `{"key":"<hex user key>","seq":<u64>,"type":"<name>","value":"<hex>"}` (a range_delete's value is
//! its end key). Entries of a table with raw keys (format-specs/sst.md §14.1) have no stored sequence
//! number or type: they are written as `"seq":0,"type":"put"` followed by `"raw_key":true`.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::codec::hexfmt::push_hex;
use crate::error::{Error, ErrorKind, Result};
use crate::ikey::{self, vtype};
use crate::io::Source;
use crate::sst::salvage::{FileReport, Salvage, UnitOutcome};
use crate::sst::table::PointEntry;

/// Output flavour of a dump.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DumpFormat {
    Jsonl,
    Text,
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

/// Render one point entry of a data block, newline included: [`render_entry`], plus the raw-key
/// marker for a table of raw keys (format-specs/sst.md §14.1).
pub fn render_point(out: &mut Vec<u8>, fmt: DumpFormat, e: &PointEntry<'_, '_>) {
    render_entry(out, fmt, e.user_key, e.seq, e.vtype, e.value);
    if e.raw_key {
        render_raw_key(out, fmt);
    }
}

/// Blocks are decoded in parallel in groups of about this many stored bytes, and at most
/// [`GROUP_BLOCKS`] blocks (so highly compressible blocks cannot inflate a group's memory without
/// bound); output stays in file order.
const GROUP_BYTES: u64 = 8 << 20;
const GROUP_BLOCKS: usize = 512;

/// Append a marker to the entry just rendered (it ends with its line end): `,"<field>":true` inside
/// the JSON object, or ` [<text>]` on the text line.
fn render_marker(buf: &mut Vec<u8>, fmt: DumpFormat, field: &str, text: &str) {
    // Replace the line end written by render_entry.
    buf.pop();
    match fmt {
        DumpFormat::Jsonl => {
            buf.pop();
            buf.extend_from_slice(b",\"");
            buf.extend_from_slice(field.as_bytes());
            buf.extend_from_slice(b"\":true}\n");
        }
        DumpFormat::Text => {
            buf.extend_from_slice(b" [");
            buf.extend_from_slice(text.as_bytes());
            buf.extend_from_slice(b"]\n");
        }
    }
}

/// The marker that follows an entry from a block no checksum vouches for.
fn render_unverified(buf: &mut Vec<u8>, fmt: DumpFormat) {
    render_marker(buf, fmt, "unverified", "unverified");
}

/// The marker that follows an entry whose key is a raw user key (no sequence/type trailer,
/// format-specs/sst.md §14.1): its seq 0 and type put were not read from the file.
fn render_raw_key(buf: &mut Vec<u8>, fmt: DumpFormat) {
    render_marker(buf, fmt, "raw_key", "raw key");
}

/// The marker of an entry from a block whose checksum failed (written only on request).
fn render_damaged(buf: &mut Vec<u8>, fmt: DumpFormat) {
    buf.pop();
    match fmt {
        DumpFormat::Jsonl => {
            buf.pop();
            buf.extend_from_slice(b",\"unverified\":true,\"damaged\":true}\n");
        }
        DumpFormat::Text => buf.extend_from_slice(b" [unverified: from a damaged block]\n"),
    }
}

/// Choices for a salvage dump.
#[derive(Clone, Copy, Debug, Default)]
pub struct SalvageOptions {
    /// Also write the entries of data blocks whose checksum fails but which still decompress and
    /// decode, marked `"unverified":true,"damaged":true`: they may hold altered bytes.
    pub damaged_blocks: bool,
}

/// Where `sst salvage` writes each table's entries: `<out>/<file name>.jsonl`, made unique
/// (`<name>.2.jsonl`, ...) when two inputs share a file name (format-specs/damage-report.md §6).
pub fn salvage_output_names(tables: &[PathBuf], out: &Path) -> Vec<PathBuf> {
    let mut used = std::collections::HashSet::new();
    tables
        .iter()
        .map(|f| {
            let base = f
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "table".into());
            let mut name = format!("{base}.jsonl");
            let mut k = 1;
            while !used.insert(name.clone()) {
                k += 1;
                name = format!("{base}.{k}.jsonl");
            }
            out.join(name)
        })
        .collect()
}

/// Salvage the table at `path` into the JSONL file `out_path` and return its damage report, with
/// the I/O error when the file changed while it was read (its report then says so, damage-report.md
/// §1). A table that cannot be opened gets an `unreadable` report (and no output file); an error is
/// only for the output.
pub fn salvage_table_to(
    path: &Path,
    out_path: &Path,
    opts: SalvageOptions,
) -> io::Result<(FileReport, Option<Error>)> {
    let src = match crate::io::Source::open(path) {
        Ok(s) => s,
        Err(e) => return Ok((FileReport::unreadable(path, &e), None)),
    };
    src.advise_sequential();
    let plan = Salvage::plan(src.bytes(), path);
    let named = |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", out_path.display()));
    let f = std::fs::File::create(out_path).map_err(named)?;
    let mut w = io::BufWriter::with_capacity(1 << 20, f);
    let mut rep = salvage_dump_with(&plan, DumpFormat::Jsonl, &mut w, opts)
        .and_then(|r| w.flush().map(|_| r))
        .map_err(named)?;
    let changed = src.check_intact().err();
    if let Some(e) = &changed {
        rep.changed_while_read(e);
    }
    Ok((rep, changed))
}

/// Write every entry the plan can recover to `out` (data blocks in file order, then range
/// tombstones) and return the damage report. Blocks that cannot be read are skipped and described in
/// the report; entries from blocks no checksum vouches for carry an `unverified` mark.
pub fn salvage_dump(s: &Salvage, fmt: DumpFormat, out: &mut dyn Write) -> io::Result<FileReport> {
    salvage_dump_with(s, fmt, out, SalvageOptions::default())
}

/// [`salvage_dump`] with options.
pub fn salvage_dump_with(
    s: &Salvage,
    fmt: DumpFormat,
    out: &mut dyn Write,
    opts: SalvageOptions,
) -> io::Result<FileReport> {
    let units = &s.units;
    let mut outcomes: Vec<UnitOutcome> = Vec::with_capacity(units.len());
    let mut anyway: Vec<Option<u64>> = Vec::with_capacity(units.len());
    let mut unverified = 0u64;
    // One output buffer per block of a group, reused across groups so large dumps do not keep
    // allocating and faulting in fresh memory.
    let mut bufs: Vec<Vec<u8>> = Vec::new();
    let mut start = 0;
    while start < units.len() {
        let mut end = start;
        let mut bytes = 0u64;
        while end < units.len()
            && (end == start || (bytes < GROUP_BYTES && end - start < GROUP_BLOCKS))
        {
            bytes += units[end].handle.size;
            end += 1;
        }
        if bufs.len() < end - start {
            bufs.resize_with(end - start, Vec::new);
        }
        let results: Vec<(UnitOutcome, Option<u64>)> = (start..end)
            .into_par_iter()
            .zip(bufs.par_iter_mut())
            .map(|(i, buf)| {
                buf.clear();
                let mark = units[i].unverified();
                let r = s.decode_unit(i, |e| {
                    render_point(buf, fmt, &e);
                    if mark {
                        render_unverified(buf, fmt);
                    }
                });
                let failed_checksum =
                    matches!(&r, Err(e) if matches!(e.kind, ErrorKind::Checksum { .. }));
                if !(opts.damaged_blocks && failed_checksum) {
                    return (r, None);
                }
                buf.clear();
                let again = s.decode_unit_unchecked(i, |e| {
                    render_point(buf, fmt, &e);
                    render_damaged(buf, fmt);
                });
                match again {
                    Ok(n) => (r, Some(n)),
                    Err(_) => {
                        buf.clear();
                        (r, None)
                    }
                }
            })
            .collect();
        for (i, ((r, extra), buf)) in results.into_iter().zip(&bufs).enumerate() {
            match (&r, extra) {
                (Ok(n), _) => {
                    out.write_all(buf)?;
                    if units[start + i].unverified() {
                        unverified += n;
                    }
                }
                (Err(_), Some(n)) => {
                    out.write_all(buf)?;
                    unverified += n;
                }
                (Err(_), None) => {}
            }
            outcomes.push(r);
            anyway.push(extra);
        }
        start = end;
    }
    let (tombstones, damage) = s.range_tombstones();
    let mut buf = Vec::new();
    for (r, unv) in &tombstones {
        render_entry(
            &mut buf,
            fmt,
            &r.start,
            r.seq,
            vtype::RANGE_DELETION,
            &r.end,
        );
        if *unv {
            render_unverified(&mut buf, fmt);
            unverified += 1;
        }
    }
    out.write_all(&buf)?;
    Ok(s.report(&outcomes, &anyway, &tombstones, &damage, unverified))
}

/// Convenience for tests and scripts: the whole JSONL dump of one file as a string. Any damage is
/// an error (use [`salvage_dump`] to continue past it).
pub fn dump_file_jsonl(path: &Path) -> Result<String> {
    let src = Source::open(path)?;
    let out = dump_bytes_jsonl(src.bytes(), path)?;
    src.check_intact()?;
    Ok(out)
}

/// Like [`dump_file_jsonl`] over a file image.
pub fn dump_bytes_jsonl(bytes: &[u8], path: &Path) -> Result<String> {
    let s = Salvage::plan(bytes, path);
    if let Some(e) = s.unsupported() {
        return Err(e.clone());
    }
    let mut out = Vec::new();
    let report = salvage_dump(&s, DumpFormat::Jsonl, &mut out).map_err(|e| Error::io(path, &e))?;
    if let Some(r) = report.damaged.first() {
        return Err(
            Error::corrupt(r.offset, format!("{} damaged: {:?}", r.kind, r.error)).in_file(path),
        );
    }
    Ok(String::from_utf8(out).expect("JSONL output is ASCII"))
}
