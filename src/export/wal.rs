//! `wal dump`: one WriteBatch operation per line, in log order. The JSONL shape is a contract:
//! `{"seq":<u64|null>,"cf":<id>,"type":"<name>","key":"<hex>","value":"<hex>"}`. `seq` is null for
//! operations that take no sequence number (markers, log data); a range_delete's key is its start and
//! its value the exclusive end; markers carry their xid as the value. See format-specs/wal.md §5.

use std::io::{self, Write};

use super::dump::{push_escaped, DumpFormat};
use crate::codec::hexfmt::push_hex;
use crate::wal::Op;

/// Render one operation, newline included.
pub fn render_op(out: &mut Vec<u8>, fmt: DumpFormat, op: &Op<'_>) {
    match fmt {
        DumpFormat::Jsonl => {
            out.extend_from_slice(b"{\"seq\":");
            match op.seq {
                Some(s) => {
                    let _ = write!(out, "{s}");
                }
                None => out.extend_from_slice(b"null"),
            }
            let _ = write!(
                out,
                ",\"cf\":{},\"type\":\"{}\",\"key\":\"",
                op.cf,
                op.op.name()
            );
            push_hex(out, op.key);
            out.extend_from_slice(b"\",\"value\":\"");
            push_hex(out, op.value);
            out.push(b'"');
            if !op.extra.is_empty() {
                let _ = write!(out, ",\"commit_ts\":\"{}\"", hex::encode(op.extra));
            }
            out.extend_from_slice(b"}\n");
        }
        DumpFormat::Text => {
            match op.seq {
                Some(s) => {
                    let _ = write!(out, "seq:{s} ");
                }
                None => out.extend_from_slice(b"seq:- "),
            }
            let _ = write!(out, "cf:{} {} '", op.cf, op.op.name());
            push_escaped(out, op.key);
            out.extend_from_slice(b"' => '");
            push_escaped(out, op.value);
            out.extend_from_slice(b"'\n");
        }
    }
}

/// Write every operation of a WAL image to `out`; returns the summary (with every problem).
pub fn dump_wal(
    bytes: &[u8],
    path: &std::path::Path,
    fmt: DumpFormat,
    out: &mut dyn Write,
) -> io::Result<crate::wal::WalSummary> {
    let mut buf = Vec::with_capacity(1 << 16);
    let mut err = None;
    let sum = crate::wal::read_wal(bytes, path, |_, batch| {
        for op in &batch.ops {
            render_op(&mut buf, fmt, op);
        }
        if buf.len() >= 1 << 16 && err.is_none() {
            if let Err(e) = out.write_all(&buf) {
                err = Some(e);
            }
            buf.clear();
        }
    });
    if let Some(e) = err {
        return Err(e);
    }
    out.write_all(&buf)?;
    Ok(sum)
}
