//! Real RocksDB as the test oracle for rockrescue.
//!
//! * [`dump`] / [`dump_jsonl`]: read an SST with the RocksDB 11.8.1 that
//!   librocksdb-sys builds (C++ shim in `cpp/shim.cc`) and render every entry
//!   in rockrescue's JSONL dump contract.
//! * [`gen`]: write tables with real RocksDB (DB flushes, SstFileWriter).
//! * [`tikvgen`]: independent TiKV/TiDB key and value encoders for the `gen-tikv` fixtures.

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

pub mod gen;
pub mod tikvgen;

/// Entry type names of the dump contract, indexed by the shim's type code
/// (same order as `rocksdb::EntryType`).
pub const TYPE_NAMES: [&str; 10] = [
    "put",
    "delete",
    "single_delete",
    "merge",
    "range_delete",
    "blob_index",
    "delete_with_timestamp",
    "entity",
    "timed_put",
    "other",
];

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub key: Vec<u8>,
    pub seq: u64,
    /// Index into [`TYPE_NAMES`].
    pub kind: u8,
    /// For a range deletion: the end key.
    pub value: Vec<u8>,
}

impl Entry {
    pub fn type_name(&self) -> &'static str {
        TYPE_NAMES[self.kind as usize]
    }
    /// One line of the dump contract (without the newline).
    pub fn to_json(&self) -> String {
        format!(
            "{{\"key\":\"{}\",\"seq\":{},\"type\":\"{}\",\"value\":\"{}\"}}",
            hex::encode(&self.key),
            self.seq,
            self.type_name(),
            hex::encode(&self.value)
        )
    }
}

/// The whole dump: one JSON object per line, each line ending in `\n`.
pub fn to_jsonl(entries: &[Entry]) -> String {
    let mut s = String::new();
    for e in entries {
        s.push_str(&e.to_json());
        s.push('\n');
    }
    s
}

#[repr(C)]
#[derive(Default, Debug, Clone, Copy)]
pub struct Props {
    pub num_entries: u64,
    pub num_deletions: u64,
    pub num_merge_operands: u64,
    pub num_range_deletions: u64,
    pub format_version: u64,
    pub num_data_blocks: u64,
    pub column_family_id: u64,
    pub index_partitions: u64,
    pub index_key_is_user_key: u64,
    pub index_value_is_delta_encoded: u64,
    pub data_size: u64,
    pub index_size: u64,
    pub filter_size: u64,
}

type EntryCb = extern "C" fn(
    ctx: *mut c_void,
    key: *const c_char,
    key_len: usize,
    seq: u64,
    kind: c_int,
    val: *const c_char,
    val_len: usize,
) -> c_int;

extern "C" {
    fn rr_dump_sst(path: *const c_char, cb: EntryCb, ctx: *mut c_void) -> *mut c_char;
    fn rr_table_properties(
        path: *const c_char,
        out: *mut Props,
        text: *mut *mut c_char,
    ) -> *mut c_char;
    fn rr_free(p: *mut c_char);
    fn rr_dump_wal(
        path: *const c_char,
        log_num: u64,
        out: *mut *mut c_char,
        errors: *mut *mut c_char,
    ) -> *mut c_char;
    fn rr_write_sst_with_entities(
        path: *const c_char,
        options_str: *const c_char,
        n: usize,
        kinds: *const c_int,
        keys: *const *const c_char,
        key_lens: *const usize,
        vals: *const *const c_char,
        val_lens: *const usize,
    ) -> *mut c_char;
}

fn take_err(p: *mut c_char) -> Result<(), String> {
    if p.is_null() {
        return Ok(());
    }
    let s = unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned();
    unsafe { rr_free(p) };
    Err(s)
}

fn cpath(path: &Path) -> CString {
    CString::new(path.as_os_str().as_bytes()).expect("path without NUL")
}

extern "C" fn collect_cb(
    ctx: *mut c_void,
    key: *const c_char,
    key_len: usize,
    seq: u64,
    kind: c_int,
    val: *const c_char,
    val_len: usize,
) -> c_int {
    let out = unsafe { &mut *(ctx as *mut Vec<Entry>) };
    let slice = |p: *const c_char, n: usize| -> Vec<u8> {
        if n == 0 {
            Vec::new()
        } else {
            unsafe { std::slice::from_raw_parts(p as *const u8, n) }.to_vec()
        }
    };
    out.push(Entry {
        key: slice(key, key_len),
        seq,
        kind: kind.clamp(0, 9) as u8,
        value: slice(val, val_len),
    });
    0
}

/// Every entry of the SST at `path`, read by RocksDB 11.8.1: point entries in
/// file order, then the range tombstones as stored in the range-deletion block.
/// Block checksums are verified and entry counts checked against the table
/// properties.
pub fn dump(path: &Path) -> Result<Vec<Entry>, String> {
    let c = cpath(path);
    let mut out: Vec<Entry> = Vec::new();
    let err = unsafe { rr_dump_sst(c.as_ptr(), collect_cb, &mut out as *mut _ as *mut c_void) };
    take_err(err)?;
    Ok(out)
}

/// [`dump`] rendered as the JSONL dump contract.
pub fn dump_jsonl(path: &Path) -> Result<String, String> {
    dump(path).map(|e| to_jsonl(&e))
}

/// Table properties as read by RocksDB 11.8.1, plus `TableProperties::ToString`
/// (one `name=value` per line, followed by printable user-collected ones).
pub fn properties(path: &Path) -> Result<(Props, String), String> {
    let c = cpath(path);
    let mut p = Props::default();
    let mut text: *mut c_char = std::ptr::null_mut();
    take_err(unsafe { rr_table_properties(c.as_ptr(), &mut p, &mut text) })?;
    let t = if text.is_null() {
        String::new()
    } else {
        let s = unsafe { CStr::from_ptr(text) }
            .to_string_lossy()
            .into_owned();
        unsafe { rr_free(text) };
        s
    };
    Ok((p, t))
}

/// A record for [`write_sst_with_entities`].
pub enum EntityRecord {
    Put(Vec<u8>, Vec<u8>),
    Entity(Vec<u8>, Vec<(Vec<u8>, Vec<u8>)>),
}

/// Writes an SST with RocksDB's SstFileWriter, using PutEntity for wide-column
/// records (not exposed by the rocksdb crate). Keys must be strictly increasing.
pub fn write_sst_with_entities(
    path: &Path,
    options_str: &str,
    records: &[EntityRecord],
) -> Result<(), String> {
    let c = cpath(path);
    let o = CString::new(options_str).map_err(|e| e.to_string())?;
    let mut kinds = Vec::new();
    let mut keys: Vec<&[u8]> = Vec::new();
    let mut vals: Vec<Vec<u8>> = Vec::new();
    for r in records {
        match r {
            EntityRecord::Put(k, v) => {
                kinds.push(0);
                keys.push(k);
                vals.push(v.clone());
            }
            EntityRecord::Entity(k, cols) => {
                kinds.push(7);
                keys.push(k);
                let mut enc = Vec::new();
                for (n, v) in cols {
                    enc.extend_from_slice(&(n.len() as u32).to_le_bytes());
                    enc.extend_from_slice(n);
                    enc.extend_from_slice(&(v.len() as u32).to_le_bytes());
                    enc.extend_from_slice(v);
                }
                vals.push(enc);
            }
        }
    }
    let kp: Vec<*const c_char> = keys.iter().map(|k| k.as_ptr() as *const c_char).collect();
    let kl: Vec<usize> = keys.iter().map(|k| k.len()).collect();
    let vp: Vec<*const c_char> = vals.iter().map(|v| v.as_ptr() as *const c_char).collect();
    let vl: Vec<usize> = vals.iter().map(|v| v.len()).collect();
    take_err(unsafe {
        rr_write_sst_with_entities(
            c.as_ptr(),
            o.as_ptr(),
            records.len(),
            kinds.as_ptr(),
            kp.as_ptr(),
            kl.as_ptr(),
            vp.as_ptr(),
            vl.as_ptr(),
        )
    })
}

/// Every operation of a WAL, read by RocksDB's own log reader and WriteBatch iteration, as
/// rockrescue's `wal dump --format jsonl` lines; and RocksDB's corruption reports (empty if none).
pub fn dump_wal_jsonl(path: &Path, log_number: u64) -> Result<(String, String), String> {
    let p = cpath(path);
    let mut out: *mut c_char = std::ptr::null_mut();
    let mut errs: *mut c_char = std::ptr::null_mut();
    // SAFETY: the shim writes two malloc'ed C strings (or returns an error string); both are
    // copied and freed here.
    unsafe {
        take_err(rr_dump_wal(p.as_ptr(), log_number, &mut out, &mut errs))?;
        let text = std::ffi::CStr::from_ptr(out).to_string_lossy().into_owned();
        let e = std::ffi::CStr::from_ptr(errs)
            .to_string_lossy()
            .into_owned();
        rr_free(out);
        rr_free(errs);
        Ok((text, e))
    }
}
