//! Framing of rockrescue's own scratch files (sorted runs, store spools): a byte string is a `u32`
//! little-endian length followed by the bytes. These files are written and read back by the same
//! run; they are never inputs.

use std::io::{self, Read, Write};

/// Write `b` framed.
pub fn write_framed(w: &mut impl Write, b: &[u8]) -> io::Result<()> {
    w.write_all(&(b.len() as u32).to_le_bytes())?;
    w.write_all(b)
}

/// The next framed byte string; `None` at a clean end (nothing left before the length).
pub fn read_framed(r: &mut impl Read) -> io::Result<Option<Vec<u8>>> {
    let mut n = [0u8; 4];
    match r.read_exact(&mut n) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let mut b = vec![0u8; u32::from_le_bytes(n) as usize];
    r.read_exact(&mut b)?;
    Ok(Some(b))
}

/// The next framed byte string, which must be there (inside a record).
pub fn read_framed_within(r: &mut impl Read) -> io::Result<Vec<u8>> {
    read_framed(r)?.ok_or_else(|| io::Error::from(io::ErrorKind::UnexpectedEof))
}
