//! TiDB row values, format v2 ("new row format", first byte 0x80): the column-id / offset layout
//! that locates each column's bytes. Per-type value decoding and the v1 datum format come next.
//! Facts: TiDB pkg/util/rowcodec/row.go, encoder.go; TiKV
//! components/tidb_query_datatype/src/codec/row/v2/row_slice.rs (shared notes §4.4).

/// The first byte of a v2 row.
pub const CODEC_VER: u8 = 0x80;
const FLAG_LARGE: u8 = 0x01;
const FLAG_CHECKSUM: u8 = 0x02;

/// A column's state in a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cell<'a> {
    Value(&'a [u8]),
    Null,
    /// Not stored: the column was added after the row was written (use its default).
    Missing,
}

/// A v2 row, borrowed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowV2<'a> {
    pub large: bool,
    /// Not-null column ids, ascending, and the end offset of each one's data.
    pub ids: Vec<u32>,
    pub ends: Vec<u32>,
    pub null_ids: Vec<u32>,
    pub data: &'a [u8],
    /// Bytes after the data: the row checksum (header byte + CRC32s), when present.
    pub checksum: &'a [u8],
}

/// Why a row did not decode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    pub pos: usize,
    pub msg: String,
}

fn rerr<T>(pos: usize, msg: impl Into<String>) -> Result<T, RowError> {
    Err(RowError {
        pos,
        msg: msg.into(),
    })
}

/// Whether a row value is in format v2.
pub fn is_v2(v: &[u8]) -> bool {
    v.first() == Some(&CODEC_VER)
}

/// Parse the layout of a v2 row.
pub fn parse_v2(v: &[u8]) -> Result<RowV2<'_>, RowError> {
    if !is_v2(v) {
        return rerr(0, "not a v2 row (first byte is not 0x80)");
    }
    if v.len() < 6 {
        return rerr(0, format!("v2 row of {} bytes has no header", v.len()));
    }
    let flags = v[1];
    let large = flags & FLAG_LARGE != 0;
    let not_null = u16::from_le_bytes([v[2], v[3]]) as usize;
    let nulls = u16::from_le_bytes([v[4], v[5]]) as usize;
    let id_size = if large { 4 } else { 1 };
    let off_size = if large { 4 } else { 2 };
    let mut p = 6;
    let need = (not_null + nulls) * id_size + not_null * off_size;
    if v.len() - p < need {
        return rerr(
            p,
            format!("{not_null} columns and {nulls} nulls do not fit in the row"),
        );
    }
    let read = |at: usize, size: usize| -> u32 {
        match size {
            1 => v[at] as u32,
            2 => u16::from_le_bytes([v[at], v[at + 1]]) as u32,
            _ => u32::from_le_bytes([v[at], v[at + 1], v[at + 2], v[at + 3]]),
        }
    };
    let mut ids = Vec::with_capacity(not_null);
    for i in 0..not_null {
        ids.push(read(p + i * id_size, id_size));
    }
    p += not_null * id_size;
    let mut null_ids = Vec::with_capacity(nulls);
    for i in 0..nulls {
        null_ids.push(read(p + i * id_size, id_size));
    }
    p += nulls * id_size;
    let mut ends = Vec::with_capacity(not_null);
    for i in 0..not_null {
        ends.push(read(p + i * off_size, off_size));
    }
    p += not_null * off_size;
    if ends.windows(2).any(|w| w[0] > w[1]) {
        return rerr(p, "column end offsets decrease");
    }
    let data_len = ends.last().copied().unwrap_or(0) as usize;
    if v.len() - p < data_len {
        return rerr(
            p,
            format!("column data of {data_len} bytes runs past the row"),
        );
    }
    let data = &v[p..p + data_len];
    let checksum = &v[p + data_len..];
    if !checksum.is_empty() && flags & FLAG_CHECKSUM == 0 {
        return rerr(
            p + data_len,
            "bytes after the column data without a checksum flag",
        );
    }
    // A checksum trailer is a header byte and one or two CRC32s (TiKV accepts 5 or 9 bytes).
    if flags & FLAG_CHECKSUM != 0 && checksum.len() != 5 && checksum.len() != 9 {
        return rerr(
            p + data_len,
            format!(
                "checksum trailer of {} bytes (5 or 9 expected)",
                checksum.len()
            ),
        );
    }
    if ids.windows(2).any(|w| w[0] >= w[1]) || null_ids.windows(2).any(|w| w[0] >= w[1]) {
        return rerr(6, "column ids are not ascending");
    }
    Ok(RowV2 {
        large,
        ids,
        ends,
        null_ids,
        data,
        checksum,
    })
}

impl<'a> RowV2<'a> {
    /// The bytes (or NULL, or absence) of column `id`.
    pub fn cell(&self, id: u32) -> Cell<'a> {
        if let Ok(i) = self.ids.binary_search(&id) {
            let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
            return Cell::Value(&self.data[start..self.ends[i] as usize]);
        }
        if self.null_ids.binary_search(&id).is_ok() {
            return Cell::Null;
        }
        Cell::Missing
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s.replace(' ', "")).unwrap()
    }

    /// TiKV row_slice.rs tests (shared notes §5 rows 39-42).
    #[test]
    fn v2_layouts() {
        let v = h("80 00 0200 0100 01 03 21 0200 0300 e803 03");
        let r = parse_v2(&v).unwrap();
        assert_eq!(r.cell(1), Cell::Value(&[0xe8, 0x03]));
        assert_eq!(r.cell(3), Cell::Value(&[0x03]));
        assert_eq!(r.cell(33), Cell::Null);
        assert_eq!(r.cell(2), Cell::Missing);
        let v = h("8001 0400 0100 01000000 03000000 64010000 7bfa0000 21000000 02000000 03000000 04000000 05000000 e803 03 02 05");
        let r = parse_v2(&v).unwrap();
        assert!(r.large);
        assert_eq!(r.cell(356), Cell::Value(&[0x02]));
        assert_eq!(r.cell(64123), Cell::Value(&[0x05]));
        assert_eq!(r.cell(33), Cell::Null);
        let v = h("800003000100010204030100040009006461626306048b26ac");
        let r = parse_v2(&v).unwrap();
        assert_eq!(r.cell(2), Cell::Value(b"abc"));
        assert_eq!(r.cell(4), Cell::Value(&[0x06, 0x04, 0x8b, 0x26, 0xac]));
        assert_eq!(r.cell(3), Cell::Null);
        let empty = h("800000000000");
        let r = parse_v2(&empty).unwrap();
        assert_eq!(r.cell(1), Cell::Missing);
        // Damage is an error, not a panic.
        assert!(parse_v2(&h("80 00 0200 0100 01 03 21 0200 0300 e8")).is_err());
        assert!(parse_v2(&h("8000ff")).is_err());
        assert!(parse_v2(&h("08c801")).is_err());
    }
}
