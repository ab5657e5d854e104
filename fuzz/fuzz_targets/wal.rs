#![no_main]
//! Any byte string as a WAL: the log reader and the WriteBatch decoder must never panic.
use std::path::Path;

use libfuzzer_sys::fuzz_target;
use rockrescue::export::dump::DumpFormat;
use rockrescue::export::wal::dump_wal;

fuzz_target!(|data: &[u8]| {
    let _ = dump_wal(data, Path::new("000007.log"), DumpFormat::Jsonl, &mut std::io::sink());
    let _ = rockrescue::wal::decode_batch(data);
});
