#![no_main]
//! Any byte string as a whole table file: open, audit (deep) and dump must never panic.
use std::path::Path;

use libfuzzer_sys::fuzz_target;
use rockrescue::export::dump::{salvage_dump, DumpFormat};
use rockrescue::sst::salvage::Salvage;
use rockrescue::sst::{verify, Table};

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.sst");
    let _ = verify::verify_bytes(data, path, true);
    if let Ok(t) = Table::open(data, path) {
        let _ = t.block_map();
    }
    let plan = Salvage::plan(data, path);
    let _ = salvage_dump(&plan, DumpFormat::Jsonl, &mut std::io::sink());
});
